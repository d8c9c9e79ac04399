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

// The shortest admin password accepted, in characters (Unicode code points).
inline constexpr size_t kMinPasswordLength = 12;

// kInvalidArgument with a message for people when `password` is too short to be an admin
// password; it is never part of the message.
Status CheckNewPassword(const core::Secret& password);

// The key failed logins are counted under for a client address: an IPv4 address as it is, an IPv6
// address by its /64 network ("2001:db8:1:2::/64": one subscriber usually holds a whole /64), an
// IPv4-mapped IPv6 address as the IPv4 address. Anything else is returned unchanged.
std::string ClientKey(std::string_view address);

// Limits guessing the admin password: at most `per_client` failed logins per client key (above)
// and `global` failed logins in all in any `window`. Only failures count. While a limit is reached
// every login is refused before the password is checked, so a guess costs the same whether it
// would have been right or not. Memory stays bounded: keys whose failures left the window are
// forgotten, and at most `max_clients` keys are kept (the oldest go first).
class LoginLimiter {
 public:
  struct Limits {
    int per_client = 5;
    int global = 30;
    std::chrono::milliseconds window = std::chrono::minutes(1);
    size_t max_clients = 10000;
  };
  explicit LoginLimiter(Limits limits) : limits_(limits) {}

  // 0 when `client` may try a login at `now_ms` (unix ms), else the seconds to wait.
  int64_t Check(std::string_view client, int64_t now_ms);
  void RecordFailure(std::string_view client, int64_t now_ms);

 private:
  void Forget(int64_t now_ms);

  Limits limits_;
  std::mutex mu_;
  std::map<std::string, std::deque<int64_t>, std::less<>> failures_;
  std::deque<int64_t> global_;
};

}  // namespace tginvite::web
