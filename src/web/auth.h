// Credentials for the web interface: argon2id password hashes, random tokens and the hashes the
// store keeps of them, and the per-address limit on login attempts. libsodium does the crypto.
//
// Thread-safety: the free functions may be called from any thread; LoginLimiter is internally
// synchronised.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "core/error.h"
#include "core/secret.h"

namespace tginvite::web {

// An argon2id hash string (libsodium's crypto_pwhash_str, interactive limits) of a non-empty
// password. kInvalidArgument for an empty password, kInternal when out of memory.
Result<std::string> HashPassword(const core::Secret& password);

// True when `password` matches the argon2id `hash`.
bool VerifyPassword(const core::Secret& password, std::string_view hash);

// A fresh random token (32 bytes from randombytes_buf, 64 hex digits) for a session, a CSRF check
// or an API token.
core::Secret NewToken();

// The hash the store keeps of a session or API token: BLAKE2b-256, in hex. A token is 256 random
// bits, so a fast unsalted hash is enough.
std::string TokenHash(std::string_view token);

// Constant-time comparison of two strings of equal length (false when the lengths differ).
bool SameSecret(std::string_view a, std::string_view b);

// Allows at most `limit` login attempts per client address in any `window`.
class LoginLimiter {
 public:
  LoginLimiter(int limit, std::chrono::milliseconds window) : limit_(limit), window_(window) {}

  // Records an attempt at `now_ms` (unix ms) and returns 0 when it is allowed, else how many
  // seconds to wait (the attempt is then not recorded).
  int64_t Attempt(const std::string& address, int64_t now_ms);

 private:
  int limit_;
  std::chrono::milliseconds window_;
  std::mutex mu_;
  std::map<std::string, std::deque<int64_t>> attempts_;
};

}  // namespace tginvite::web
