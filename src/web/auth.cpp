#include "web/auth.h"

#include <array>

#include <sodium.h>

namespace tginvite::web {
namespace {

void InitSodium() {
  static const int kInit = sodium_init();
  (void)kInit;  // < 0 only when no randomness source exists; randombytes_buf then aborts
}

std::string Hex(const unsigned char* data, size_t size) {
  std::string hex(size * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), data, size);
  hex.resize(size * 2);
  return hex;
}

}  // namespace

Result<std::string> HashPassword(const core::Secret& password) {
  InitSodium();
  if (password.empty()) return Fail(ErrorCode::kInvalidArgument, "the password is empty");
  std::array<char, crypto_pwhash_STRBYTES> out{};
  if (crypto_pwhash_str(out.data(), password.Reveal().data(), password.Reveal().size(),
                        crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
    return Fail(ErrorCode::kInternal, "hash password: out of memory");
  }
  return std::string(out.data());
}

bool VerifyPassword(const core::Secret& password, std::string_view hash) {
  InitSodium();
  std::string terminated(hash);
  return crypto_pwhash_str_verify(terminated.c_str(), password.Reveal().data(),
                                  password.Reveal().size()) == 0;
}

core::Secret NewToken() {
  InitSodium();
  std::array<unsigned char, 32> bytes{};
  randombytes_buf(bytes.data(), bytes.size());
  return core::Secret(Hex(bytes.data(), bytes.size()));
}

std::string TokenHash(std::string_view token) {
  InitSodium();
  std::array<unsigned char, crypto_generichash_BYTES> digest{};
  crypto_generichash(digest.data(), digest.size(),
                     reinterpret_cast<const unsigned char*>(token.data()), token.size(), nullptr,
                     0);
  return Hex(digest.data(), digest.size());
}

bool SameSecret(std::string_view a, std::string_view b) {
  return a.size() == b.size() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

int64_t LoginLimiter::Attempt(const std::string& address, int64_t now_ms) {
  std::lock_guard lock(mu_);
  const int64_t window = window_.count();
  // Forget addresses whose attempts all left the window, so the map stays small.
  for (auto it = attempts_.begin(); it != attempts_.end();) {
    while (!it->second.empty() && it->second.front() <= now_ms - window) it->second.pop_front();
    it = it->second.empty() ? attempts_.erase(it) : std::next(it);
  }
  std::deque<int64_t>& times = attempts_[address];
  if (static_cast<int>(times.size()) >= limit_) {
    return (times.front() + window - now_ms + 999) / 1000;
  }
  times.push_back(now_ms);
  return 0;
}

}  // namespace tginvite::web
