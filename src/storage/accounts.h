// Part of the Store (storage/store.h): the accounts that send, their sealed tokens or user
// credentials, and their health.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/model.h"
#include "core/secret.h"

namespace tginvite::storage {

// Whether an account's token could be read. Tokens are stored sealed (core/secret_box.h) and
// opened with the store's keyring as accounts are read.
enum class TokenAccess {
  kOpen,        // `token` holds it (empty for a rehearsal account, which has none)
  kNoKey,       // it is sealed and the store has no secret key
  kUnopenable,  // it is sealed under a key the store does not hold, or was altered
};

struct Account {
  int64_t id = 0;
  std::string name;
  core::AccountKind kind = core::AccountKind::kRehearsal;
  // A bot's token; a user account's credentials (core::UserCredentials as text: api_id,
  // api_hash, phone). Empty for rehearsal accounts, and unless token_access is kOpen.
  core::Secret token;
  TokenAccess token_access = TokenAccess::kOpen;
  std::string token_problem;  // why the token cannot be read, when it cannot (never the token)
  std::string api_base;
  int64_t created_at = 0;  // unix ms
  core::AccountHealth health = core::AccountHealth::kOk;
  std::string health_reason;  // why it cannot send, when health is not ok
  int64_t flood_until = 0;    // unix ms; no request before it (a 429's retry_after)
  int64_t updates_offset = 0;
  // The account's @username without the '@' (a bot's, for start links; a user account's, shown
  // in `account list`), "" until getMe told it.
  std::string bot_username;
  core::UpdatesVia updates_via = core::UpdatesVia::kPoll;
  std::string webhook_url;
  // BLAKE2b (hex) of the secret Telegram sends with every webhook call; "" without a webhook.
  std::string webhook_secret_hash;
  // The bot's Telegram user id (getMe's, also its token's prefix); 0 when unknown.
  int64_t bot_id = 0;

  // Whether a worker may send with it: its health is ok and its token could be read.
  bool CanSend() const {
    return health == core::AccountHealth::kOk && token_access == TokenAccess::kOpen;
  }
};

struct NewAccount {
  std::string name;
  core::AccountKind kind = core::AccountKind::kRehearsal;
  core::Secret token;
  std::string api_base = "https://api.telegram.org";
};

struct AccountRemoval {
  Account account;             // as it was
  bool tombstone = false;      // kept (renamed) for its cancelled campaigns' history
  int64_t campaigns_kept = 0;  // cancelled campaigns that still name it
};

class AccountStore {
 public:
  virtual ~AccountStore() = default;

  // Stores the account with its token sealed under the keyring's current key: kInvalidArgument
  // for a bot account when the store has no keyring (the message says how to give a key).
  virtual Result<Account> AddAccount(const NewAccount& account) = 0;
  // Puts a new token on a bot account (sealed under the current key) and lets it send again:
  // after a lost secret key, or a token revoked at @BotFather. kNotFound for no such bot account.
  virtual Status ReplaceBotToken(std::string_view account, const core::Secret& token) = 0;
  // Records the bot's Telegram id (from getMe): `account update` accepts only tokens of it.
  virtual Status SetBotId(int64_t account_id, int64_t bot_id) = 0;
  // Removes the account and its sealed token or credentials, its updates and its limiter, in one
  // transaction. Refused (kAlreadyExists, naming them) while a campaign that is not cancelled
  // uses it. An account that cancelled campaigns still name stays as a tombstone, renamed
  // "NAME~removed~ID" (the name is free again) and without secrets, so that their history still
  // reads; otherwise its row goes. kNotFound for no such account.
  virtual Result<AccountRemoval> RemoveAccount(std::string_view name) = 0;
  // Accounts with their tokens opened; a token that cannot be opened is reported in the account
  // (token_access, token_problem), never as an error of the call.
  virtual Result<std::vector<Account>> ListAccounts() = 0;
  virtual Result<Account> FindAccount(std::string_view name) = 0;

  // Seals under the keyring's current key every stored secret that is in plaintext (a database
  // written before secrets were sealed) and, with SealScope::kEverySecret, every one sealed under
  // another key of the keyring (a rotation), in one transaction; returns how many it wrote.
  // Idempotent, and safe beside other processes doing the same. Without a keyring it writes
  // nothing: 0 when no secret is in plaintext, else kInvalidArgument saying how many are. A
  // secret to reseal that no key of the keyring opens fails the call; nothing is written then.
  enum class SealScope { kPlaintext, kEverySecret };
  virtual Result<int64_t> SealSecrets(SealScope scope) = 0;

  // The bot's @username (from getMe), for its start links.
  virtual Status SetBotUsername(int64_t account_id, std::string_view username) = 0;
  // Where the account's updates come from; a webhook's URL and the hash of its secret.
  virtual Status SetUpdatesVia(std::string_view account, core::UpdatesVia via,
                               std::string_view webhook_url,
                               std::string_view webhook_secret_hash) = 0;
  // `account resume` clears a health problem with kOk.
  virtual Status SetAccountHealth(int64_t account_id, core::AccountHealth health,
                                  std::string_view reason) = 0;
};

// What Telegram's getMe said of a token: the bot's id and @username (without the '@').
struct CheckedBot {
  int64_t id = 0;
  std::string username;
};
// Asks Telegram about a token (the composition root's getMe): kInvalidArgument when Telegram
// refuses it, kUnavailable when it could not be asked.
using BotChecker = std::function<Result<CheckedBot>(const NewAccount&)>;

struct TokenRotation {
  Account before;       // the account as it was (its token never leaves in messages)
  CheckedBot bot;       // the bot the new token belongs to
  bool healed = false;  // it was unauthorized (its old token refused) and may send again
};

// Token rotation (`account update`, PATCH /api/v1/accounts/{name}): the new token is checked with
// `check` and must belong to the account's bot (its recorded bot id, else its old token's prefix;
// recorded now when neither is known), then replaces the old one sealed, and lets an account
// whose token was refused send again. Refused with nothing changed: kNotFound (no such account),
// kInvalidArgument (not a bot account, a malformed token, a token Telegram refuses, another
// bot's token), kUnavailable (Telegram could not be asked).
Result<TokenRotation> RotateBotToken(AccountStore& store, std::string_view name,
                                     const core::Secret& token, const BotChecker& check);

}  // namespace tginvite::storage
