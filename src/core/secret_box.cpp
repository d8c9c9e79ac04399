#include "core/secret_box.h"

#include <algorithm>
#include <cctype>

#include <sodium.h>

namespace tginvite::core {
namespace {

constexpr std::string_view kSealedPrefix = "sealed:";
constexpr std::string_view kV1Prefix = "sealed:v1:";
constexpr size_t kIdHexSize = 16;
constexpr size_t kNonceSize = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr size_t kTagSize = crypto_aead_xchacha20poly1305_ietf_ABYTES;
constexpr std::string_view kIdLabel = "tginvite key id";
constexpr std::string_view kDeriveLabel = "tginvite derive:";

void InitSodium() {
  static const int kInit = sodium_init();
  (void)kInit;  // < 0 only when no randomness source exists; randombytes_buf then aborts
}

const unsigned char* Bytes(std::string_view text) {
  return reinterpret_cast<const unsigned char*>(text.data());
}

std::string Hex(const unsigned char* data, size_t size) {
  std::string hex(size * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), data, size);
  hex.resize(size * 2);
  return hex;
}

bool IsLowerHex(std::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// The key id: 8 bytes of a BLAKE2b keyed by the key, of a fixed label (BLAKE2b's shortest output
// is 16 bytes; the first 8 are kept).
std::string KeyId(const std::array<unsigned char, SecretKey::kSize>& key) {
  std::array<unsigned char, crypto_generichash_BYTES_MIN> hash{};
  crypto_generichash(hash.data(), hash.size(), Bytes(kIdLabel), kIdLabel.size(), key.data(),
                     key.size());
  return Hex(hash.data(), kIdHexSize / 2);
}

std::string Header(std::string_view key_id) { return fmt::format("{}{}:", kV1Prefix, key_id); }

}  // namespace

SecretKey::SecretKey(const std::array<unsigned char, kSize>& bytes)
    : bytes_(bytes), id_(KeyId(bytes)) {}

SecretKey::~SecretKey() { sodium_memzero(bytes_.data(), bytes_.size()); }

SecretKey SecretKey::Generate() {
  InitSodium();
  std::array<unsigned char, kSize> bytes{};
  randombytes_buf(bytes.data(), bytes.size());
  SecretKey key(bytes);
  sodium_memzero(bytes.data(), bytes.size());
  return key;
}

Result<SecretKey> SecretKey::FromHex(std::string_view hex) {
  InitSodium();
  const bool all_hex = std::all_of(hex.begin(), hex.end(), [](char c) {
    return std::isxdigit(static_cast<unsigned char>(c)) != 0;
  });
  if (hex.size() != kHexSize || !all_hex) {
    return Fail(ErrorCode::kInvalidArgument,
                "expected {} hex digits (a {}-byte key), found {} characters{}", kHexSize, kSize,
                hex.size(), all_hex ? "" : " that are not all hex digits");
  }
  std::array<unsigned char, kSize> bytes{};
  size_t decoded = 0;
  if (sodium_hex2bin(bytes.data(), bytes.size(), hex.data(), hex.size(), nullptr, &decoded,
                     nullptr) != 0 ||
      decoded != kSize) {
    return Fail(ErrorCode::kInvalidArgument, "expected {} hex digits", kHexSize);
  }
  SecretKey key(bytes);
  sodium_memzero(bytes.data(), bytes.size());
  return key;
}

Secret SecretKey::ToHex() const { return Secret(Hex(bytes_.data(), bytes_.size())); }

SecretKey SecretKey::Derive(std::string_view context) const {
  InitSodium();
  std::string message = std::string(kDeriveLabel) + std::string(context);
  std::array<unsigned char, kSize> derived{};
  crypto_generichash(derived.data(), derived.size(), Bytes(message), message.size(), bytes_.data(),
                     bytes_.size());
  SecretKey key(derived);
  sodium_memzero(derived.data(), derived.size());
  return key;
}

bool SecretKey::operator==(const SecretKey& other) const {
  return sodium_memcmp(bytes_.data(), other.bytes_.data(), kSize) == 0;
}

Keyring::Keyring(SecretKey current, std::vector<SecretKey> also_open) {
  keys_.push_back(std::move(current));
  for (SecretKey& key : also_open) {
    if (!Holds(key.id())) keys_.push_back(std::move(key));
  }
}

bool Keyring::Holds(std::string_view key_id) const {
  return std::any_of(keys_.begin(), keys_.end(),
                     [&](const SecretKey& key) { return key.id() == key_id; });
}

std::string Keyring::Ids() const {
  std::string ids;
  for (const SecretKey& key : keys_) ids += (ids.empty() ? "" : ", ") + key.id();
  return ids;
}

std::string Keyring::Seal(std::string_view plaintext, std::string_view context) const {
  InitSodium();
  const SecretKey& key = current();
  const std::string header = Header(key.id());
  const std::string aad = header + std::string(context);
  std::string blob(kNonceSize + plaintext.size() + kTagSize, '\0');
  auto* nonce = reinterpret_cast<unsigned char*>(blob.data());
  randombytes_buf(nonce, kNonceSize);
  unsigned long long sealed_size = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(nonce + kNonceSize, &sealed_size, Bytes(plaintext),
                                             plaintext.size(), Bytes(aad), aad.size(), nullptr,
                                             nonce, key.bytes_.data());
  std::string base64(sodium_base64_encoded_len(blob.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(base64.data(), base64.size(), Bytes(blob), blob.size(),
                    sodium_base64_VARIANT_ORIGINAL);
  base64.resize(base64.size() - 1);  // the terminating NUL
  return header + base64;
}

Result<Secret> Keyring::Open(std::string_view sealed, std::string_view context) const {
  InitSodium();
  if (!IsSealed(sealed)) return Fail(ErrorCode::kInvalidArgument, "not a sealed value");
  if (!sealed.starts_with(kV1Prefix)) {
    std::string_view version = sealed.substr(kSealedPrefix.size());
    version = version.substr(0, std::min(version.find(':'), size_t{8}));
    return Fail(ErrorCode::kInvalidArgument,
                "sealed in format \"{}\", which this version of tginvite cannot open", version);
  }
  std::optional<std::string> key_id = KeyIdOf(sealed);
  if (!key_id) return Fail(ErrorCode::kInternal, "the sealed value is malformed");
  auto key = std::find_if(keys_.begin(), keys_.end(),
                          [&](const SecretKey& k) { return k.id() == *key_id; });
  if (key == keys_.end()) {
    return Fail(ErrorCode::kInvalidArgument,
                "sealed under key {}, which is not loaded (the loaded key{} {})", *key_id,
                keys_.size() == 1 ? " is" : "s are", Ids());
  }
  const std::string header = Header(*key_id);
  std::string_view base64 = sealed.substr(header.size());
  std::string blob(base64.size(), '\0');
  size_t blob_size = 0;
  const char* end = nullptr;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(blob.data()), blob.size(), base64.data(),
                        base64.size(), nullptr, &blob_size, &end,
                        sodium_base64_VARIANT_ORIGINAL) != 0 ||
      end != base64.data() + base64.size() || blob_size < kNonceSize + kTagSize) {
    return Fail(ErrorCode::kInternal, "the sealed value is malformed");
  }
  const std::string aad = header + std::string(context);
  const auto* nonce = Bytes(blob);
  std::string plaintext(blob_size - kNonceSize - kTagSize, '\0');
  unsigned long long plaintext_size = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(reinterpret_cast<unsigned char*>(plaintext.data()),
                                                 &plaintext_size, nullptr, nonce + kNonceSize,
                                                 blob_size - kNonceSize, Bytes(aad), aad.size(),
                                                 nonce, key->bytes_.data()) != 0) {
    return Fail(ErrorCode::kInternal,
                "does not open with key {}: it was altered, or it belongs elsewhere than {}",
                *key_id, context);
  }
  plaintext.resize(plaintext_size);
  Secret secret(plaintext);
  sodium_memzero(plaintext.data(), plaintext.size());
  return secret;
}

bool Keyring::IsSealed(std::string_view text) { return text.starts_with(kSealedPrefix); }

std::optional<std::string> Keyring::KeyIdOf(std::string_view sealed) {
  if (!sealed.starts_with(kV1Prefix)) return std::nullopt;
  std::string_view rest = sealed.substr(kV1Prefix.size());
  if (rest.size() <= kIdHexSize || rest[kIdHexSize] != ':') return std::nullopt;
  std::string_view id = rest.substr(0, kIdHexSize);
  if (!IsLowerHex(id)) return std::nullopt;
  return std::string(id);
}

std::string RandomHex(size_t bytes) {
  InitSodium();
  std::vector<unsigned char> random(bytes);
  randombytes_buf(random.data(), random.size());
  return Hex(random.data(), random.size());
}

}  // namespace tginvite::core
