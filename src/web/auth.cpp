#include "web/auth.h"

#include <algorithm>
#include <array>

#include <boost/asio/ip/address.hpp>
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

Status CheckNewPassword(const core::Secret& password) {
  size_t characters = 0;
  for (unsigned char c : password.Reveal()) {
    if ((c & 0xC0) != 0x80) ++characters;  // count lead bytes, not continuation bytes
  }
  if (characters < kMinPasswordLength) {
    return Fail(ErrorCode::kInvalidArgument,
                "admin password: use at least {} characters (this one has {}); a few words make a "
                "good one",
                kMinPasswordLength, characters);
  }
  return Ok();
}

std::string ClientKey(std::string_view address) {
  boost::system::error_code ec;
  boost::asio::ip::address parsed = boost::asio::ip::make_address(std::string(address), ec);
  if (ec) return std::string(address);
  if (parsed.is_v4()) return parsed.to_string();
  boost::asio::ip::address_v6 v6 = parsed.to_v6();
  if (v6.is_v4_mapped()) {
    return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, v6).to_string();
  }
  boost::asio::ip::address_v6::bytes_type bytes = v6.to_bytes();
  std::fill(bytes.begin() + 8, bytes.end(), 0);
  return boost::asio::ip::address_v6(bytes).to_string() + "/64";
}

void LoginLimiter::Forget(int64_t now_ms) {
  const int64_t horizon = now_ms - limits_.window.count();
  while (!global_.empty() && global_.front() <= horizon) global_.pop_front();
  for (auto it = failures_.begin(); it != failures_.end();) {
    while (!it->second.empty() && it->second.front() <= horizon) it->second.pop_front();
    it = it->second.empty() ? failures_.erase(it) : std::next(it);
  }
}

int64_t LoginLimiter::Check(std::string_view client, int64_t now_ms) {
  std::lock_guard lock(mu_);
  Forget(now_ms);
  const int64_t window = limits_.window.count();
  auto wait_for = [&](const std::deque<int64_t>& times, int limit) -> int64_t {
    if (static_cast<int>(times.size()) < limit) return 0;
    // The limit is reached until the oldest failure that counts leaves the window.
    const int64_t freed_at = times[times.size() - static_cast<size_t>(limit)] + window;
    return std::max<int64_t>(1, (freed_at - now_ms + 999) / 1000);
  };
  int64_t wait = wait_for(global_, limits_.global);
  if (auto found = failures_.find(client); found != failures_.end()) {
    wait = std::max(wait, wait_for(found->second, limits_.per_client));
  }
  return wait;
}

void LoginLimiter::RecordFailure(std::string_view client, int64_t now_ms) {
  std::lock_guard lock(mu_);
  Forget(now_ms);
  global_.push_back(now_ms);
  auto found = failures_.find(client);
  if (found == failures_.end()) {
    if (failures_.size() >= limits_.max_clients) {
      // Drop the key whose latest failure is the oldest.
      auto oldest = std::min_element(failures_.begin(), failures_.end(), [](auto& a, auto& b) {
        return a.second.back() < b.second.back();
      });
      failures_.erase(oldest);
    }
    found = failures_.emplace(std::string(client), std::deque<int64_t>()).first;
  }
  found->second.push_back(now_ms);
}

}  // namespace tginvite::web
