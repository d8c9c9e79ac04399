// Part of the Store (storage/store.h): web authentication — the admin password, browser sessions
// and API tokens. Every secret arrives already hashed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/model.h"

namespace tginvite::storage {

// A logged-in browser session. The store keeps only a hash of the session token.
struct WebSession {
  std::string token_hash;
  std::string csrf_token;
  int64_t created_at = 0;  // unix ms
  int64_t expires_at = 0;  // unix ms
};

// An API token for `Authorization: Bearer`. The plaintext is shown once at creation and never
// stored; only its hash is.
struct ApiToken {
  int64_t id = 0;
  std::string name;
  int64_t created_at = 0;             // unix ms
  std::optional<int64_t> revoked_at;  // unix ms
  core::TokenScope scope = core::TokenScope::kWrite;
  std::optional<int64_t> expires_at;  // unix ms; std::nullopt: never
};

struct NewApiToken {
  NewApiToken(std::string name_in, std::string token_hash_in,
              core::TokenScope scope_in = core::TokenScope::kWrite,
              std::optional<int64_t> expires_at_in = std::nullopt)
      : name(std::move(name_in)),
        token_hash(std::move(token_hash_in)),
        scope(scope_in),
        expires_at(expires_at_in) {}

  std::string name;
  std::string token_hash;
  core::TokenScope scope;
  std::optional<int64_t> expires_at;  // unix ms
};

class WebAuthStore {
 public:
  virtual ~WebAuthStore() = default;

  // Web authentication. The admin password hash (an argon2id string), std::nullopt until set.
  virtual Result<std::optional<std::string>> AdminPasswordHash() = 0;
  virtual Status SetAdminPasswordHash(std::string_view hash) = 0;
  // Stores a session and drops sessions that expired before `now`.
  virtual Status CreateSession(const WebSession& session, int64_t now) = 0;
  // The session with this token hash if it has not expired at `now`, else std::nullopt.
  virtual Result<std::optional<WebSession>> FindSession(std::string_view token_hash,
                                                        int64_t now) = 0;
  // Removes the session (logout); removing one that does not exist is not an error.
  virtual Status DeleteSession(std::string_view token_hash) = 0;
  // kInvalidArgument for a bad name, kAlreadyExists while an unrevoked token has the name.
  virtual Result<ApiToken> CreateApiToken(const NewApiToken& token) = 0;
  // The unrevoked token with this hash, else std::nullopt (an expired one is returned: the caller
  // says why it is refused).
  virtual Result<std::optional<ApiToken>> FindApiToken(std::string_view token_hash) = 0;
  // kNotFound when no unrevoked token has the name.
  virtual Status RevokeApiToken(std::string_view name) = 0;
  // Every token, revoked ones included, oldest first.
  virtual Result<std::vector<ApiToken>> ListApiTokens() = 0;
};

}  // namespace tginvite::storage
