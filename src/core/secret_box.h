// Secrets at rest: values such as bot tokens are stored sealed under a 32-byte key that never
// enters the database.
//
// A sealed value is text, "sealed:v1:<key id>:<base64 of nonce || ciphertext>": XChaCha20-Poly1305
// (libsodium's crypto_aead_xchacha20poly1305_ietf) with a random 24-byte nonce. The key id is 16
// hex digits (8 bytes of a BLAKE2b keyed by the key): it names the key without revealing it, so
// opening picks the right key of a keyring and a wrong key gives an error that names both ids.
// The associated data is the header "sealed:v1:<key id>:" followed by the caller's context (such
// as "accounts.bot_token:main"): a value copied to another place, or with its header edited, does
// not open.
//
// SecretKey and Keyring are immutable values, safe to share between threads. Error messages name
// key ids and contexts, never a key, a plaintext or a sealed value.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/secret.h"

namespace tginvite::core {

// A 32-byte key. Its bytes are wiped when it goes away; formatting it shows only its id.
class SecretKey {
 public:
  static constexpr size_t kSize = 32;
  static constexpr size_t kHexSize = 2 * kSize;

  // A new random key.
  static SecretKey Generate();
  // Exactly 64 hex digits (either case). kInvalidArgument otherwise; the message never quotes
  // the text.
  static Result<SecretKey> FromHex(std::string_view hex);

  SecretKey(const SecretKey& other) = default;
  SecretKey& operator=(const SecretKey& other) = default;
  ~SecretKey();

  // The key as 64 lower-case hex digits (what a key file holds).
  Secret ToHex() const;
  // 16 lower-case hex digits that name the key.
  const std::string& id() const { return id_; }
  // A key for another use (a TDLib database key, say), derived one-way: a keyed BLAKE2b-256 of
  // "tginvite derive:" + `context`. The same key and context always give the same key; a derived
  // key reveals nothing about this key or about another context's key.
  SecretKey Derive(std::string_view context) const;

  bool operator==(const SecretKey& other) const;

 private:
  explicit SecretKey(const std::array<unsigned char, kSize>& bytes);
  friend class Keyring;

  std::array<unsigned char, kSize> bytes_{};
  std::string id_;
};

// The key that seals (the current one) and every key that still opens: during a rotation, the
// previous key and the next one.
class Keyring {
 public:
  explicit Keyring(SecretKey current, std::vector<SecretKey> also_open = {});

  const SecretKey& current() const { return keys_.front(); }
  // Every key, the current one first.
  const std::vector<SecretKey>& keys() const { return keys_; }
  // Whether a key of the ring has this id.
  bool Holds(std::string_view key_id) const;
  // The ids of every key, the current one first, comma-separated (for messages).
  std::string Ids() const;

  // Seals `plaintext` under the current key, bound to `context`.
  std::string Seal(std::string_view plaintext, std::string_view context) const;
  // Opens a sealed value with the key it names. Errors: kInvalidArgument when the text is not a
  // sealed value, was sealed by a newer format, or under a key this ring does not hold (the
  // message names that key's id and the ring's); kInternal when it is malformed, was altered, or
  // belongs to another context.
  Result<Secret> Open(std::string_view sealed, std::string_view context) const;

  // Whether `text` is a sealed value (by its prefix; it may still fail to open).
  static bool IsSealed(std::string_view text);
  // The id of the key a v1 sealed value names, std::nullopt for anything else.
  static std::optional<std::string> KeyIdOf(std::string_view sealed);

 private:
  std::vector<SecretKey> keys_;
};

// `bytes` fresh random bytes (libsodium's randombytes_buf) as lower-case hex: unguessable keys
// such as a start link's payload.
std::string RandomHex(size_t bytes);

}  // namespace tginvite::core

template <>
struct fmt::formatter<tginvite::core::SecretKey> : fmt::formatter<std::string> {
  template <typename FormatContext>
  auto format(const tginvite::core::SecretKey& key, FormatContext& ctx) const {
    return fmt::formatter<std::string>::format("key " + key.id(), ctx);
  }
};
