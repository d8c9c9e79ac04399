// The SQL stores' accounts and the secrets they keep: a bot token, or a user account's credentials
// (core::UserCredentials as text), is sealed (core/secret_box.h) before it is written and opened as
// it is read, bound to its row by the associated data "accounts.bot_token:<account name>". The
// statements mean the same on SQLite and PostgreSQL.
#include <fmt/ranges.h>

#include "core/model.h"
#include "core/names.h"
#include "core/secret_box.h"
#include "storage/sql_store.h"

namespace tginvite::storage {
namespace {

// A column that holds a secret, sealed, and what binds a value to its row.
struct SealedColumn {
  std::string_view table;
  std::string_view column;
  std::string_view owner;  // the row's unique name: part of the associated data
  std::string_view what;   // for messages: "account main: token: ..."
  std::string_view secret;
};

// Every sealed column (user accounts' session keys will join the bot tokens).
constexpr SealedColumn kBotToken = {"accounts", "bot_token", "name", "account", "token"};
constexpr SealedColumn kSealedColumns[] = {kBotToken};

// The associated data of a secret: its place, "accounts.bot_token:main".
std::string PlaceOf(const SealedColumn& column, std::string_view owner) {
  return fmt::format("{}.{}:{}", column.table, column.column, owner);
}

// The text to store for a new secret: sealed under the current key.
Result<std::string> SealForColumn(const StoreSecrets& secrets, const SealedColumn& column,
                                  std::string_view owner, const core::Secret& secret) {
  if (!secrets.keyring) {
    return Fail(ErrorCode::kInvalidArgument,
                "{} {}: no secret key is loaded, so its {} cannot be stored (sealed): {}",
                column.what, owner, column.secret, secrets.missing_key_hint);
  }
  return secrets.keyring->Seal(secret.Reveal(), PlaceOf(column, owner));
}

Account AccountFromRow(const Row& row, const StoreSecrets& secrets) {
  Account account;
  account.id = row.Int(0);
  account.name = row.Text(1);
  account.kind = core::ParseAccountKind(row.Text(2)).value_or(core::AccountKind::kRehearsal);
  account.api_base = row.Text(4);
  account.created_at = row.Int(5);
  account.health_reason = row.Text(7);
  if (std::optional<core::AccountHealth> health = core::ParseAccountHealth(row.Text(6))) {
    account.health = *health;
  } else {
    // A text this version does not know (written by a newer one, or by hand): the account does
    // not send, and the text is kept for the operator.
    account.health = core::AccountHealth::kUnauthorized;
    account.health_reason = account.health_reason.empty()
                                ? row.Text(6)
                                : fmt::format("{}: {}", row.Text(6), account.health_reason);
  }
  account.flood_until = row.Int(8);
  account.updates_offset = row.Int(9);
  account.bot_username = row.Text(10);
  account.updates_via = core::ParseUpdatesVia(row.Text(11)).value_or(core::UpdatesVia::kPoll);
  account.webhook_url = row.Text(12);
  account.webhook_secret_hash = row.Text(13);
  account.bot_id = row.Int(14);
  const std::string stored = row.Text(3);
  if (stored.empty()) return account;
  if (!core::Keyring::IsSealed(stored)) {
    // Written before tokens were sealed; sealed by the next SealSecrets with a key.
    account.token = core::Secret(stored);
  } else if (!secrets.keyring) {
    account.token_access = TokenAccess::kNoKey;
    account.token_problem = fmt::format("the token is sealed and no secret key is loaded: {}",
                                        secrets.missing_key_hint);
  } else if (Result<core::Secret> opened =
                 secrets.keyring->Open(stored, PlaceOf(kBotToken, account.name))) {
    account.token = std::move(*opened);
  } else {
    account.token_access = TokenAccess::kUnopenable;
    account.token_problem = fmt::format(
        "the token cannot be opened{}: {}",
        secrets.key_origin.empty() ? "" : " with the key from " + secrets.key_origin,
        opened.error().message);
  }
  if (account.bot_id == 0 && account.kind == core::AccountKind::kBot) {
    // Not recorded yet (an account added before bot ids were): a token's prefix is its bot's id.
    account.bot_id = core::BotIdOfToken(account.token.Reveal()).value_or(0);
  }
  return account;
}

constexpr std::string_view kAccountColumns =
    "SELECT id, name, kind, bot_token, api_base, created_at, health, health_reason, flood_until, "
    "updates_offset, bot_username, updates_via, webhook_url, webhook_secret_hash, bot_id FROM "
    "accounts";

// What a removed account that cancelled campaigns still name is renamed to: a name no operator
// can give (core::ValidateName refuses '~'), so that the name is free again.
std::string TombstoneName(std::string_view name, int64_t id) {
  return fmt::format("{}~removed~{}", name, id);
}

}  // namespace

Status SqlStore::ReplaceBotToken(std::string_view account, const core::Secret& token) {
  if (!core::LooksLikeBotToken(token.Reveal())) {
    return Fail(ErrorCode::kInvalidArgument,
                "account {}: the bot token does not look like one from @BotFather", account);
  }
  ASSIGN_OR_RETURN(std::string sealed, SealForColumn(Secrets(), kBotToken, account, token));
  return WriteUnit([&](Tx& tx) -> Status {
    ASSIGN_OR_RETURN(int64_t changed,
                     tx.Execute("UPDATE accounts SET bot_token = ?, health = ?, "
                                "health_reason = NULL WHERE name = ? AND kind = 'bot'",
                                {sealed, std::string(core::ToString(core::AccountHealth::kOk)),
                                 std::string(account)}));
    if (changed == 0) return Fail(ErrorCode::kNotFound, "no bot account named \"{}\"", account);
    return Ok();
  });
}

Result<Account> SqlStore::AddAccount(const NewAccount& account) {
  RETURN_IF_ERROR(core::ValidateName("account", account.name));
  if (account.kind == core::AccountKind::kBot && !core::LooksLikeBotToken(account.token.Reveal())) {
    return Fail(ErrorCode::kInvalidArgument,
                "account {}: the bot token does not look like one from @BotFather "
                "(digits, ':', then 30 or more letters, digits, '_' or '-')",
                account.name);
  }
  if (account.kind == core::AccountKind::kUser) {
    // The parser's message names the part that is wrong, never the credentials themselves.
    std::string why;
    if (!core::ParseUserCredentials(account.token.Reveal(), &why)) {
      return Fail(ErrorCode::kInvalidArgument, "account {}: user credentials: {}", account.name,
                  why);
    }
  }
  if (account.kind == core::AccountKind::kRehearsalUser && !account.token.empty()) {
    return Fail(ErrorCode::kInvalidArgument,
                "account {}: a rehearsal-user account has no credentials: it simulates Telegram",
                account.name);
  }
  if (!account.api_base.starts_with("https://") && !account.api_base.starts_with("http://")) {
    return Fail(ErrorCode::kInvalidArgument, "account {}: --api-base must be an http(s) URL",
                account.name);
  }
  Value stored_token;  // NULL: no token
  if (!account.token.empty()) {
    ASSIGN_OR_RETURN(stored_token,
                     SealForColumn(Secrets(), kBotToken, account.name, account.token));
  }
  Account added;
  RETURN_IF_ERROR(WriteUnit([&](Tx& tx) -> Status {
    int64_t now = NowUnixMillis();
    Result<std::optional<Row>> row = tx.QueryOne(
        "INSERT INTO accounts (name, kind, bot_token, api_base, created_at) VALUES (?, ?, ?, ?, ?) "
        "RETURNING id",
        {account.name, std::string(core::ToString(account.kind)), stored_token, account.api_base,
         now});
    if (!row && row.error().code == ErrorCode::kAlreadyExists) {
      return Fail(ErrorCode::kAlreadyExists, "an account named \"{}\" exists already",
                  account.name);
    }
    RETURN_IF_ERROR(row);
    added = Account{};
    added.id = (*row)->Int(0);
    added.name = account.name;
    added.kind = account.kind;
    added.token = account.token;
    added.api_base = account.api_base;
    added.created_at = now;
    return Ok();
  }));
  return added;
}

Result<std::vector<Account>> SqlStore::ListAccounts() {
  std::vector<Row> rows;
  RETURN_IF_ERROR(ReadUnit([&](Session& session) -> Status {
    ASSIGN_OR_RETURN(rows, session.Query(std::string(kAccountColumns) +
                                         " WHERE name NOT LIKE '%~removed~%' ORDER BY name"));
    return Ok();
  }));
  std::vector<Account> accounts;
  accounts.reserve(rows.size());
  for (const Row& row : rows) accounts.push_back(AccountFromRow(row, Secrets()));
  return accounts;
}

Result<Account> SqlStore::FindAccount(std::string_view name) {
  std::optional<Row> row;
  RETURN_IF_ERROR(ReadUnit([&](Session& session) -> Status {
    ASSIGN_OR_RETURN(row, session.QueryOne(std::string(kAccountColumns) + " WHERE name = ?",
                                           {std::string(name)}));
    return Ok();
  }));
  if (!row) return Fail(ErrorCode::kNotFound, "no account named \"{}\"", name);
  return AccountFromRow(*row, Secrets());
}

Result<int64_t> SqlStore::SealSecrets(SealScope scope) {
  const StoreSecrets& secrets = Secrets();
  if (!secrets.keyring) {
    int64_t plaintext = 0;
    RETURN_IF_ERROR(ReadUnit([&](Session& session) -> Status {
      plaintext = 0;
      for (const SealedColumn& column : kSealedColumns) {
        RETURN_IF_ERROR(session.ForEach(
            fmt::format("SELECT {0} FROM {1} WHERE {0} IS NOT NULL", column.column, column.table),
            {}, [&plaintext](const Row& row) -> Status {
              if (!core::Keyring::IsSealed(row.Text(0))) ++plaintext;
              return Ok();
            }));
      }
      return Ok();
    }));
    if (plaintext == 0) return int64_t{0};
    return Fail(ErrorCode::kInvalidArgument,
                "{} secret{} stored in plaintext, and no secret key is loaded to seal {}: {}",
                plaintext, plaintext == 1 ? " is" : "s are", plaintext == 1 ? "it" : "them",
                secrets.missing_key_hint);
  }
  const core::Keyring& keyring = *secrets.keyring;
  int64_t written = 0;
  RETURN_IF_ERROR(WriteUnit([&](Tx& tx) -> Status {
    written = 0;
    for (const SealedColumn& column : kSealedColumns) {
      ASSIGN_OR_RETURN(std::vector<Row> rows,
                       tx.Query(fmt::format("SELECT id, {0}, {1} FROM {2} WHERE {1} IS NOT NULL "
                                            "ORDER BY id",
                                            column.owner, column.column, column.table)));
      for (const Row& row : rows) {
        const std::string owner = row.Text(1);
        const std::string stored = row.Text(2);
        const std::string place = PlaceOf(column, owner);
        core::Secret plaintext;
        if (!core::Keyring::IsSealed(stored)) {
          plaintext = core::Secret(stored);
        } else if (scope == SealScope::kEverySecret &&
                   core::Keyring::KeyIdOf(stored) != keyring.current().id()) {
          Result<core::Secret> opened = keyring.Open(stored, place);
          if (!opened) {
            return opened.error().WithContext(
                fmt::format("{} {}: {}", column.what, owner, column.secret));
          }
          plaintext = std::move(*opened);
        } else {
          continue;
        }
        // Compare-and-set: a process sealing the same row at the same time changes it once.
        ASSIGN_OR_RETURN(int64_t changed,
                         tx.Execute(fmt::format("UPDATE {0} SET {1} = ? WHERE id = ? AND {1} = ?",
                                                column.table, column.column),
                                    {keyring.Seal(plaintext.Reveal(), place), row.Int(0), stored}));
        written += changed;
      }
    }
    return Ok();
  }));
  if (written > 0) AfterSecretsRewritten();
  return written;
}

Status SqlStore::SetBotId(int64_t account_id, int64_t bot_id) {
  return WriteUnit([&](Tx& tx) -> Status {
    RETURN_IF_ERROR(
        tx.Execute("UPDATE accounts SET bot_id = ? WHERE id = ?", {bot_id, account_id}));
    return Ok();
  });
}

Result<AccountRemoval> SqlStore::RemoveAccount(std::string_view name) {
  AccountRemoval removal;
  RETURN_IF_ERROR(WriteUnit([&](Tx& tx) -> Status {
    removal = AccountRemoval{};
    ASSIGN_OR_RETURN(std::optional<Row> row,
                     tx.QueryOne(std::string(kAccountColumns) + " WHERE name = ?",
                                 {std::string(name)}));
    if (!row) return Fail(ErrorCode::kNotFound, "no account named \"{}\"", name);
    removal.account = AccountFromRow(*row, Secrets());
    const int64_t id = removal.account.id;
    std::vector<std::string> in_use;
    RETURN_IF_ERROR(tx.ForEach(
        "SELECT name, state FROM campaigns WHERE account_id = ? ORDER BY name", {id},
        [&](const Row& campaign) -> Status {
          if (campaign.Text(1) == core::ToString(core::CampaignState::kCancelled)) {
            ++removal.campaigns_kept;
          } else {
            in_use.push_back(fmt::format("{} ({})", campaign.Text(0), campaign.Text(1)));
          }
          return Ok();
        }));
    if (!in_use.empty()) {
      return Fail(ErrorCode::kAlreadyExists,
                  "account {} is used by {} campaign{} that {} not cancelled: {}; cancel {} "
                  "first; nothing was removed",
                  name, in_use.size(), in_use.size() == 1 ? "" : "s",
                  in_use.size() == 1 ? "is" : "are", fmt::join(in_use, ", "),
                  in_use.size() == 1 ? "it" : "them");
    }
    for (std::string_view table : {"update_inbox", "start_waits", "update_leases"}) {
      RETURN_IF_ERROR(
          tx.Execute(fmt::format("DELETE FROM {} WHERE account_id = ?", table), {id}));
    }
    RETURN_IF_ERROR(tx.Execute("DELETE FROM rate_limits WHERE key = ?",
                               {fmt::format("account:{}", id)}));
    if (removal.campaigns_kept > 0) {
      removal.tombstone = true;
      RETURN_IF_ERROR(tx.Execute(
          "UPDATE accounts SET name = ?, bot_token = NULL, webhook_url = NULL, "
          "webhook_secret_hash = NULL, health = ?, health_reason = 'removed' WHERE id = ?",
          {TombstoneName(name, id), std::string(core::ToString(core::AccountHealth::kUnauthorized)),
           id}));
    } else {
      RETURN_IF_ERROR(tx.Execute("DELETE FROM accounts WHERE id = ?", {id}));
    }
    return Ok();
  }));
  AfterSecretsRewritten();  // the old token must not linger (SQLite: in its WAL)
  return removal;
}

Status SqlStore::SetBotUsername(int64_t account_id, std::string_view username) {
  return WriteUnit([&](Tx& tx) -> Status {
    RETURN_IF_ERROR(tx.Execute("UPDATE accounts SET bot_username = NULLIF(?, '') WHERE id = ?",
                               {std::string(username), account_id}));
    return Ok();
  });
}

Status SqlStore::SetUpdatesVia(std::string_view account, core::UpdatesVia via,
                               std::string_view webhook_url, std::string_view webhook_secret_hash) {
  return WriteUnit([&](Tx& tx) -> Status {
    ASSIGN_OR_RETURN(int64_t changed,
                     tx.Execute("UPDATE accounts SET updates_via = ?, webhook_url = NULLIF(?, ''), "
                                "webhook_secret_hash = NULLIF(?, '') WHERE name = ?",
                                {std::string(core::ToString(via)), std::string(webhook_url),
                                 std::string(webhook_secret_hash), std::string(account)}));
    if (changed == 0) return Fail(ErrorCode::kNotFound, "no account named \"{}\"", account);
    return Ok();
  });
}

}  // namespace tginvite::storage
