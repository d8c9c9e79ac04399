// The secret key that seals bot tokens, as the command line finds it: TGINVITE_SECRET_KEY (64 hex
// digits) when set, else the key file (--secret-key-file, default ./data/secret.key: 64 hex digits
// and a newline, mode 0600). This is the one place that reads or writes key files; the store only
// receives the keyring made from them (storage::StoreSecrets).
//
// A rotation (`tginvite secrets rotate`) brings a next key, which opens secrets too until the
// rotation is done: TGINVITE_NEW_SECRET_KEY beside TGINVITE_SECRET_KEY, or the key file's ".new"
// sibling, which the rotation writes before it reseals anything, so a crash at any step never
// leaves a secret that no loaded key opens.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/secret_box.h"
#include "storage/store.h"

namespace tginvite::cli {

inline constexpr std::string_view kDefaultSecretKeyFile = "./data/secret.key";
inline constexpr std::string_view kSecretKeyEnv = "TGINVITE_SECRET_KEY";
inline constexpr std::string_view kNewSecretKeyEnv = "TGINVITE_NEW_SECRET_KEY";
inline constexpr std::string_view kSecretKeyFileEnv = "TGINVITE_SECRET_KEY_FILE";

enum class KeySource {
  kNone,         // no key: sealed secrets can be neither stored nor opened
  kEnvironment,  // TGINVITE_SECRET_KEY
  kFile,         // the key file
};

struct SecretKeys {
  KeySource source = KeySource::kNone;
  std::string key_file;  // the key file's path, whether or not it was read
  std::optional<core::SecretKey> current;
  // The next key of a rotation, which opens secrets too: TGINVITE_NEW_SECRET_KEY when the key
  // comes from TGINVITE_SECRET_KEY, else the key file's ".new" sibling when it exists.
  std::optional<core::SecretKey> next;
  // The key file's ".new" sibling was found: a `secrets rotate` stopped before it finished.
  bool rotation_unfinished = false;
  std::vector<std::string> warnings;  // key files open to other users, for the caller to print

  // `warnings`, and a note when a rotation is unfinished.
  std::vector<std::string> AllWarnings() const;

  // "TGINVITE_SECRET_KEY" or the key file's path.
  std::string Origin() const;
  // Why there is no key and how to give one (for messages).
  std::string MissingKeyHint() const;
  // What the store receives: the keyring (current, then next), or none.
  storage::StoreSecrets ForStore() const;
  // Options to open the store with these keys.
  storage::StoreOptions StoreOptionsFor(storage::OpenMode mode) const {
    return {.mode = mode, .secrets = ForStore()};
  }
};

std::string NextKeyFile(std::string_view key_file);      // "<key file>.new"
std::string PreviousKeyFile(std::string_view key_file);  // "<key file>.old"

// Loads the keys as the header says. A missing key is no error (KeySource::kNone); a key that is
// there but cannot be read, or is not 64 hex digits, is kInvalidArgument naming the file or the
// variable, never quoting its text. A key file that group or others may access gives a warning.
Result<SecretKeys> LoadSecretKeys(const std::string& key_file);

// Parses a key given in an environment variable (kInvalidArgument naming the variable); nullopt
// when the variable is unset or empty.
Result<std::optional<core::SecretKey>> KeyFromEnvironment(std::string_view variable);

// Reads a key file: nullopt when it does not exist.
Result<std::optional<core::SecretKey>> ReadKeyFile(const std::string& path);

// The text of a key file: the key's hex digits and a newline.
std::string KeyFileText(const core::SecretKey& key);

// `tginvite init`: creates the key file with a new random key, its folder created 0700, the file
// 0600. Never over an existing file: false when the file exists (another `init` made it just now).
Result<bool> CreateKeyFile(const std::string& key_file);

}  // namespace tginvite::cli
