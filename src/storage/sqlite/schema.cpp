#include "storage/sqlite/schema.h"

#include <chrono>

#include "storage/transaction.h"

namespace tginvite::storage {
namespace {

// Times are unix milliseconds. Settings scope 0 is global; any other scope is a campaign id.
constexpr std::string_view kInitialSchema = R"sql(
CREATE TABLE accounts (
  id          INTEGER PRIMARY KEY,
  name        TEXT NOT NULL UNIQUE,
  kind        TEXT NOT NULL CHECK (kind IN ('bot', 'rehearsal')),
  bot_token   TEXT,
  api_base    TEXT NOT NULL,
  flood_until INTEGER NOT NULL DEFAULT 0,
  created_at  INTEGER NOT NULL
);

CREATE TABLE campaigns (
  id          INTEGER PRIMARY KEY,
  name        TEXT NOT NULL UNIQUE,
  account_id  INTEGER NOT NULL REFERENCES accounts(id),
  chat        TEXT NOT NULL,
  template    TEXT NOT NULL,
  parse_mode  TEXT NOT NULL DEFAULT 'HTML',
  link_mode   TEXT NOT NULL CHECK (link_mode IN ('personal', 'shared', 'join-request')),
  shared_link TEXT,
  state       TEXT NOT NULL DEFAULT 'draft'
              CHECK (state IN ('draft', 'running', 'paused', 'cancelled')),
  created_at  INTEGER NOT NULL,
  started_at  INTEGER,
  updated_at  INTEGER NOT NULL
);

CREATE TABLE contacts (
  id               INTEGER PRIMARY KEY,
  telegram_user_id INTEGER UNIQUE CHECK (telegram_user_id > 0),
  username         TEXT UNIQUE,
  phone            TEXT UNIQUE,
  first_name       TEXT NOT NULL DEFAULT '',
  last_name        TEXT NOT NULL DEFAULT '',
  created_at       INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL,
  CHECK (telegram_user_id IS NOT NULL OR username IS NOT NULL OR phone IS NOT NULL)
);

CREATE TABLE invitations (
  id              INTEGER PRIMARY KEY,
  campaign_id     INTEGER NOT NULL REFERENCES campaigns(id),
  contact_id      INTEGER NOT NULL REFERENCES contacts(id),
  state           TEXT NOT NULL DEFAULT 'pending' CHECK (state IN
                  ('pending', 'sending', 'sent', 'joined', 'waiting', 'failed', 'unknown',
                   'skipped', 'cancelled')),
  gen             INTEGER NOT NULL DEFAULT 0,
  lease_until     INTEGER,
  next_attempt_at INTEGER NOT NULL DEFAULT 0,
  attempts        INTEGER NOT NULL DEFAULT 0,
  last_error      TEXT,
  invite_link     TEXT,
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL,
  sent_at         INTEGER,
  joined_at       INTEGER,
  UNIQUE (campaign_id, contact_id)
);
-- Claiming the next due invitations of a campaign reads this partial index only.
CREATE INDEX invitations_due ON invitations (campaign_id, next_attempt_at, id)
  WHERE state IN ('pending', 'waiting');
-- Rescuing expired leases.
CREATE INDEX invitations_leased ON invitations (lease_until) WHERE state = 'sending';
CREATE INDEX invitations_by_contact ON invitations (contact_id);
CREATE INDEX invitations_by_state ON invitations (campaign_id, state, id);

-- Counts by state, kept by triggers, so status and stats cost O(campaigns x states).
CREATE TABLE invitation_counts (
  campaign_id INTEGER NOT NULL,
  state       TEXT NOT NULL,
  n           INTEGER NOT NULL,
  PRIMARY KEY (campaign_id, state)
) WITHOUT ROWID;

CREATE TRIGGER invitation_counts_insert AFTER INSERT ON invitations BEGIN
  INSERT INTO invitation_counts (campaign_id, state, n) VALUES (NEW.campaign_id, NEW.state, 1)
    ON CONFLICT (campaign_id, state) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER invitation_counts_update AFTER UPDATE OF state ON invitations
  WHEN OLD.state <> NEW.state BEGIN
  UPDATE invitation_counts SET n = n - 1
    WHERE campaign_id = OLD.campaign_id AND state = OLD.state;
  INSERT INTO invitation_counts (campaign_id, state, n) VALUES (NEW.campaign_id, NEW.state, 1)
    ON CONFLICT (campaign_id, state) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER invitation_counts_delete AFTER DELETE ON invitations BEGIN
  UPDATE invitation_counts SET n = n - 1
    WHERE campaign_id = OLD.campaign_id AND state = OLD.state;
END;

-- Every request made for an invitation, appended and never changed.
CREATE TABLE attempts (
  id            INTEGER PRIMARY KEY,
  invitation_id INTEGER NOT NULL REFERENCES invitations(id),
  gen           INTEGER NOT NULL,
  worker        TEXT NOT NULL,
  request       TEXT NOT NULL,
  started_at    INTEGER NOT NULL,
  latency_ms    INTEGER,
  http_status   INTEGER,
  error_code    INTEGER,
  error         TEXT,
  outcome       TEXT NOT NULL
);
CREATE INDEX attempts_by_invitation ON attempts (invitation_id, id);
CREATE TRIGGER attempts_no_update BEFORE UPDATE ON attempts BEGIN
  SELECT RAISE(ABORT, 'attempts are append-only');
END;
CREATE TRIGGER attempts_no_delete BEFORE DELETE ON attempts BEGIN
  SELECT RAISE(ABORT, 'attempts are append-only');
END;

CREATE TABLE settings (
  scope      INTEGER NOT NULL,
  key        TEXT NOT NULL,
  value      TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (scope, key)
) WITHOUT ROWID;

-- Users who must never be invited again, by any campaign.
CREATE TABLE suppressions (
  key        TEXT PRIMARY KEY,
  reason     TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL
) WITHOUT ROWID;
)sql";

// The delivery engine: when a send may have left, per-account health and updates offset,
// campaign pacing state, persisted rate-limiter state and the worker registry.
constexpr std::string_view kDeliveryEngine = R"sql(
-- Set in the commit just before sendMessage: a row in 'sending' without it was never sent.
ALTER TABLE invitations ADD COLUMN send_started_at INTEGER;
ALTER TABLE invitations ADD COLUMN claimed_by TEXT;
CREATE INDEX invitations_by_link ON invitations (invite_link) WHERE invite_link IS NOT NULL;
CREATE INDEX attempts_by_time ON attempts (started_at);

ALTER TABLE accounts ADD COLUMN health TEXT NOT NULL DEFAULT 'ok';
ALTER TABLE accounts ADD COLUMN health_reason TEXT;
ALTER TABLE accounts ADD COLUMN updates_offset INTEGER NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN bot_username TEXT;

ALTER TABLE campaigns ADD COLUMN paused_reason TEXT;
ALTER TABLE campaigns ADD COLUMN pacing_next_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE campaigns ADD COLUMN pacing_in_cycle INTEGER NOT NULL DEFAULT 0;

-- GCRA theoretical arrival times (unix ms), written in the claim's transaction.
CREATE TABLE rate_limits (
  key TEXT PRIMARY KEY,
  tat INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE workers (
  id           TEXT PRIMARY KEY,
  host         TEXT NOT NULL,
  pid          INTEGER NOT NULL,
  started_at   INTEGER NOT NULL,
  heartbeat_at INTEGER NOT NULL,
  health       TEXT NOT NULL,
  reason       TEXT NOT NULL DEFAULT '',
  stopped_at   INTEGER
);
)sql";

// The per-chat limiter's state: when the contact's private chat may get its next message. It is
// written in the claim's transaction, so neither a restart nor a second campaign resets it.
constexpr std::string_view kChatLimiter = R"sql(
ALTER TABLE contacts ADD COLUMN next_message_at INTEGER NOT NULL DEFAULT 0;
)sql";

// The web interface's credentials. Secrets are stored only as hashes: the admin password as an
// argon2id string, session and API tokens as a hash of the token (the plaintext is never stored).
constexpr std::string_view kWebAuth = R"sql(
CREATE TABLE admin_password (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  hash TEXT NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE TABLE web_sessions (
  token_hash TEXT PRIMARY KEY,
  csrf_token TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX web_sessions_by_expiry ON web_sessions (expires_at);
CREATE TABLE api_tokens (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  token_hash TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  revoked_at INTEGER
);
CREATE UNIQUE INDEX api_tokens_active_name ON api_tokens (name) WHERE revoked_at IS NULL;
)sql";

// What the dashboard reads: per-minute transitions kept by a trigger (an hour's chart is 60 rows
// however fast invitations go), and the indexes behind searching contacts by name.
constexpr std::string_view kWebReads = R"sql(
CREATE TABLE invitation_minutes (
  campaign_id INTEGER NOT NULL,
  minute      INTEGER NOT NULL,  -- unix ms / 60000
  state       TEXT NOT NULL,     -- 'sent', 'joined' or 'failed'
  n           INTEGER NOT NULL,
  PRIMARY KEY (campaign_id, minute, state)
) WITHOUT ROWID;
CREATE TRIGGER invitation_minutes_update AFTER UPDATE OF state ON invitations
  WHEN OLD.state <> NEW.state AND NEW.state IN ('sent', 'joined', 'failed') BEGIN
  INSERT INTO invitation_minutes (campaign_id, minute, state, n)
    VALUES (NEW.campaign_id, NEW.updated_at / 60000, NEW.state, 1)
    ON CONFLICT (campaign_id, minute, state) DO UPDATE SET n = n + 1;
END;
INSERT INTO invitation_minutes (campaign_id, minute, state, n)
  SELECT campaign_id, sent_at / 60000, 'sent', count(*) FROM invitations
  WHERE sent_at IS NOT NULL GROUP BY 1, 2;
INSERT INTO invitation_minutes (campaign_id, minute, state, n)
  SELECT campaign_id, joined_at / 60000, 'joined', count(*) FROM invitations
  WHERE joined_at IS NOT NULL GROUP BY 1, 2;
INSERT INTO invitation_minutes (campaign_id, minute, state, n)
  SELECT campaign_id, updated_at / 60000, 'failed', count(*) FROM invitations
  WHERE state = 'failed' GROUP BY 1, 2;

-- Searching by name: a case-insensitive prefix of "first last" or of the last name. lower()
-- folds ASCII only; the search term is folded the same way.
CREATE INDEX contacts_by_full_name ON contacts (lower(first_name || ' ' || last_name));
CREATE INDEX contacts_by_last_name ON contacts (lower(last_name)) WHERE last_name <> '';
)sql";

// One poller per bot: the worker that may call getUpdates for an account, until when.
constexpr std::string_view kUpdateLeases = R"sql(
CREATE TABLE update_leases (
  account_id INTEGER PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
  worker TEXT NOT NULL,
  lease_until INTEGER NOT NULL
);
)sql";

// Faster dashboard reads, measured at a million invitations (docs/benchmarks.md): a campaign's
// invitations in id order for its contact pages (without it a deep page walked the campaign's
// (campaign_id, contact_id) index), and its errors by state and reason kept by triggers like
// invitation_counts (a GROUP BY over 60k failed rows took 160 ms).
constexpr std::string_view kWebReadsFaster = R"sql(
CREATE INDEX invitations_by_campaign ON invitations (campaign_id, id);

CREATE TABLE invitation_errors (
  campaign_id INTEGER NOT NULL,
  state       TEXT NOT NULL,  -- 'failed', 'unknown' or 'skipped'
  reason      TEXT NOT NULL,  -- last_error, '' when none
  n           INTEGER NOT NULL,
  PRIMARY KEY (campaign_id, state, reason)
) WITHOUT ROWID;
CREATE TRIGGER invitation_errors_insert AFTER INSERT ON invitations
  WHEN NEW.state IN ('failed', 'unknown', 'skipped') BEGIN
  INSERT INTO invitation_errors (campaign_id, state, reason, n)
    VALUES (NEW.campaign_id, NEW.state, COALESCE(NEW.last_error, ''), 1)
    ON CONFLICT (campaign_id, state, reason) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER invitation_errors_update AFTER UPDATE OF state, last_error ON invitations
  WHEN (OLD.state IN ('failed', 'unknown', 'skipped') OR NEW.state IN ('failed', 'unknown', 'skipped'))
   AND (OLD.state IS NOT NEW.state OR OLD.last_error IS NOT NEW.last_error) BEGIN
  UPDATE invitation_errors SET n = n - 1
    WHERE OLD.state IN ('failed', 'unknown', 'skipped') AND campaign_id = OLD.campaign_id
      AND state = OLD.state AND reason = COALESCE(OLD.last_error, '');
  INSERT INTO invitation_errors (campaign_id, state, reason, n)
    SELECT NEW.campaign_id, NEW.state, COALESCE(NEW.last_error, ''), 1
    WHERE NEW.state IN ('failed', 'unknown', 'skipped')
    ON CONFLICT (campaign_id, state, reason) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER invitation_errors_delete AFTER DELETE ON invitations
  WHEN OLD.state IN ('failed', 'unknown', 'skipped') BEGIN
  UPDATE invitation_errors SET n = n - 1 WHERE campaign_id = OLD.campaign_id
    AND state = OLD.state AND reason = COALESCE(OLD.last_error, '');
END;
INSERT INTO invitation_errors (campaign_id, state, reason, n)
  SELECT campaign_id, state, COALESCE(last_error, ''), count(*) FROM invitations
  WHERE state IN ('failed', 'unknown', 'skipped') GROUP BY 1, 2, 3;
)sql";

// The account's limiter keeps the slots it handed out that have not passed yet (comma-separated
// unix ms; see storage/slot_calendar.h), not only the last one's successor (tat, still written):
// a claim whose preparation is short takes the free slots before another worker's later ones.
constexpr std::string_view kLimiterSlots = R"sql(
ALTER TABLE rate_limits ADD COLUMN reserved TEXT NOT NULL DEFAULT '';
)sql";

// API tokens get a scope (metrics < read < write; tokens made before scopes keep what they could
// do: write) and an optional expiry.
constexpr std::string_view kTokenScopes = R"sql(
ALTER TABLE api_tokens ADD COLUMN scope TEXT NOT NULL DEFAULT 'write';
ALTER TABLE api_tokens ADD COLUMN expires_at INTEGER;
)sql";

// Start links (the reach of a campaign): each invitation gets a random start key, the payload of
// its personal https://t.me/<bot>?start=<key> link, and may wait in `awaiting_start` until the
// contact presses Start; updates from polling, a webhook or forwarding land in one inbox, deduped
// by update_id; a bare /start from someone not imported yet waits in start_waits. Existing
// campaigns keep what they did: reach `direct`.
constexpr std::string_view kStartLinks = R"sql(
CREATE TABLE update_inbox (
  account_id  INTEGER NOT NULL REFERENCES accounts(id),
  update_id   INTEGER NOT NULL,
  kind        TEXT NOT NULL,
  chat_id     INTEGER NOT NULL DEFAULT 0,
  user_id     INTEGER NOT NULL DEFAULT 0,
  username    TEXT NOT NULL DEFAULT '',
  old_status  TEXT NOT NULL DEFAULT '',
  new_status  TEXT NOT NULL DEFAULT '',
  invite_link TEXT NOT NULL DEFAULT '',
  start_payload TEXT,
  received_at INTEGER NOT NULL,
  processed_at INTEGER,
  PRIMARY KEY (account_id, update_id)
);
CREATE INDEX update_inbox_unprocessed ON update_inbox (account_id, update_id)
  WHERE processed_at IS NULL;
CREATE INDEX update_inbox_processed ON update_inbox (processed_at) WHERE processed_at IS NOT NULL;
CREATE TABLE start_waits (
  account_id  INTEGER NOT NULL REFERENCES accounts(id),
  user_id     INTEGER NOT NULL,
  username    TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  PRIMARY KEY (account_id, user_id)
);
CREATE INDEX start_waits_by_username ON start_waits (username);
ALTER TABLE campaigns ADD COLUMN reach TEXT NOT NULL DEFAULT 'direct'
  CHECK (reach IN ('direct', 'start-link', 'both'));
ALTER TABLE campaigns ADD COLUMN links_exported INTEGER NOT NULL DEFAULT 0;
ALTER TABLE campaigns ADD COLUMN links_started INTEGER NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN updates_via TEXT NOT NULL DEFAULT 'poll'
  CHECK (updates_via IN ('poll', 'webhook', 'forward'));
ALTER TABLE accounts ADD COLUMN webhook_secret_hash TEXT;
ALTER TABLE accounts ADD COLUMN webhook_url TEXT;
ALTER TABLE invitations ADD COLUMN started_at INTEGER;
ALTER TABLE invitations ADD COLUMN started_by INTEGER;
ALTER TABLE invitations ADD COLUMN start_exported_at INTEGER;
ALTER TABLE invitations ADD COLUMN start_key TEXT;
UPDATE invitations SET start_key = lower(hex(randomblob(16)));
CREATE UNIQUE INDEX invitations_by_start_key ON invitations (start_key);
)sql";

// User accounts (TDLib): accounts of kind `user` and `rehearsal-user` (the kind's CHECK is widened
// in place, see WidenCheck), a campaign's delivery method (existing campaigns message, as they
// did), an invitation's step within its method, and attempts named by what they asked whichever
// path carried them (core::RequestKind: `send`, `link`), each with its campaign's account, so that
// a user account's daily caps count its recent attempts from one index.
constexpr std::string_view kUserAccounts = R"sql(
ALTER TABLE campaigns ADD COLUMN method TEXT NOT NULL DEFAULT 'message'
  CHECK (method IN ('message', 'add', 'add-then-message'));
ALTER TABLE invitations ADD COLUMN step INTEGER NOT NULL DEFAULT 0;
ALTER TABLE attempts ADD COLUMN account_id INTEGER;
DROP TRIGGER attempts_no_update;
UPDATE attempts SET
  request = CASE request WHEN 'sendMessage' THEN 'send' WHEN 'createChatInviteLink' THEN 'link'
            ELSE request END,
  account_id = (SELECT c.account_id FROM invitations i JOIN campaigns c ON c.id = i.campaign_id
                WHERE i.id = attempts.invitation_id);
CREATE TRIGGER attempts_no_update BEFORE UPDATE ON attempts BEGIN
  SELECT RAISE(ABORT, 'attempts are append-only');
END;
CREATE INDEX attempts_by_account ON attempts (account_id, request, started_at);
)sql";

// SQLite cannot alter a CHECK constraint; widening one changes nothing stored, so the table's
// definition is edited in place, as https://sqlite.org/lang_altertable.html ("otheralter")
// describes, and the schema cookie bumped so that every connection reads it anew.
Status WidenCheck(Tx& tx, std::string_view table, std::string_view old_text,
                  std::string_view new_text) {
  ASSIGN_OR_RETURN(int64_t cookie, tx.QueryInt("PRAGMA schema_version"));
  RETURN_IF_ERROR(tx.ExecuteScript("PRAGMA writable_schema = ON"));
  ASSIGN_OR_RETURN(int64_t edited,
                   tx.Execute("UPDATE sqlite_schema SET sql = replace(sql, ?, ?) "
                              "WHERE type = 'table' AND name = ? AND instr(sql, ?) > 0",
                              {std::string(old_text), std::string(new_text), std::string(table),
                               std::string(old_text)}));
  RETURN_IF_ERROR(tx.ExecuteScript(fmt::format("PRAGMA schema_version = {}", cookie + 1)));
  RETURN_IF_ERROR(tx.ExecuteScript("PRAGMA writable_schema = OFF"));
  if (edited != 1) {
    return Fail(ErrorCode::kInternal, "the {} table's check has an unknown shape", table);
  }
  return Ok();
}

Status AllowAwaitingStart(Tx& tx) {
  return WidenCheck(tx, "invitations", "'skipped', 'cancelled')",
                    "'skipped', 'cancelled', 'awaiting_start')");
}

Status AllowUserAccounts(Tx& tx) {
  return WidenCheck(tx, "accounts", "CHECK (kind IN ('bot', 'rehearsal'))",
                    "CHECK (kind IN ('bot', 'rehearsal', 'user', 'rehearsal-user'))");
}

// The contacts table's three UNIQUE identifiers become unique indexes with names, which a
// transaction may drop and build again (a bulk import into an empty table does: sqlite_import.cpp);
// SQLite never drops the unnamed indexes behind a UNIQUE constraint. Nothing stored changes: an
// index behind a column's UNIQUE is the same b-tree as a unique index on that column, so the
// table's definition and the three index entries are edited in place, as WidenCheck does.
Status NameContactIndexes(Tx& tx) {
  struct Named {
    std::string_view old_column, new_column, autoindex, index;
  };
  constexpr Named kNamed[] = {
      {"telegram_user_id INTEGER UNIQUE CHECK", "telegram_user_id INTEGER CHECK",
       "sqlite_autoindex_contacts_1", "contacts_by_telegram_user_id"},
      {"username         TEXT UNIQUE,", "username         TEXT,", "sqlite_autoindex_contacts_2",
       "contacts_by_username"},
      {"phone            TEXT UNIQUE,", "phone            TEXT,", "sqlite_autoindex_contacts_3",
       "contacts_by_phone"},
  };
  ASSIGN_OR_RETURN(int64_t cookie, tx.QueryInt("PRAGMA schema_version"));
  RETURN_IF_ERROR(tx.ExecuteScript("PRAGMA writable_schema = ON"));
  int64_t edited = 0;
  for (const Named& named : kNamed) {
    // Which column an autoindex serves: its first (only) column must be the one named.
    ASSIGN_OR_RETURN(std::optional<Row> column,
                     tx.QueryOne(fmt::format("SELECT name FROM pragma_index_info('{}')",
                                             named.autoindex)));
    const std::string expected(named.index.substr(std::string_view("contacts_by_").size()));
    if (!column || column->Text(0) != expected) break;
    ASSIGN_OR_RETURN(int64_t table,
                     tx.Execute("UPDATE sqlite_schema SET sql = replace(sql, ?, ?) "
                                "WHERE type = 'table' AND name = 'contacts' AND instr(sql, ?) > 0",
                                {std::string(named.old_column), std::string(named.new_column),
                                 std::string(named.old_column)}));
    ASSIGN_OR_RETURN(
        int64_t index,
        tx.Execute("UPDATE sqlite_schema SET name = ?, sql = ? WHERE type = 'index' AND name = ?",
                   {std::string(named.index),
                    fmt::format("CREATE UNIQUE INDEX {} ON contacts ({})", named.index, expected),
                    std::string(named.autoindex)}));
    edited += table + index;
  }
  RETURN_IF_ERROR(tx.ExecuteScript(fmt::format("PRAGMA schema_version = {}", cookie + 1)));
  RETURN_IF_ERROR(tx.ExecuteScript("PRAGMA writable_schema = OFF"));
  if (edited != 6) {
    return Fail(ErrorCode::kInternal, "the contacts table's unique columns have an unknown shape");
  }
  return Ok();
}

// The campaigns' audit trail: every change of a campaign's state, who made it (core::Actor as
// text: "cli:alice", "token:deploy", "dashboard:admin", "engine") and why, written in the change's
// own transaction. Rows are never updated; they may go with their campaign.
constexpr std::string_view kCampaignEvents = R"sql(
CREATE TABLE campaign_events (
  id          INTEGER PRIMARY KEY,
  campaign_id INTEGER NOT NULL REFERENCES campaigns(id),
  at          INTEGER NOT NULL,
  actor       TEXT NOT NULL,
  action      TEXT NOT NULL,
  from_state  TEXT NOT NULL,
  to_state    TEXT NOT NULL,
  detail      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX campaign_events_by_campaign ON campaign_events (campaign_id, id);
CREATE TRIGGER campaign_events_no_update BEFORE UPDATE ON campaign_events BEGIN
  SELECT RAISE(ABORT, 'campaign events are append-only');
END;
)sql";

// Changing campaigns later (migration 14): a campaign's schedule (starts_at, ends_at: unix ms, NULL
// for none), and attempts that outlive their campaign. Deleting a finished campaign deletes its
// invitations but keeps their attempts, detached: invitation_id becomes NULL (the column's NOT NULL
// is dropped in place, see DetachableAttempts) and the attempt keeps its campaign's name and its
// contact's id. Attempts stay append-only: only a campaign named in attempt_releases — a row that
// exists inside the deleting transaction alone — may have its attempts detached or, on an explicit
// purge, deleted.
constexpr std::string_view kCampaignChanges = R"sql(
ALTER TABLE campaigns ADD COLUMN starts_at INTEGER;
ALTER TABLE campaigns ADD COLUMN ends_at INTEGER;
ALTER TABLE attempts ADD COLUMN campaign_name TEXT;
ALTER TABLE attempts ADD COLUMN contact_id INTEGER;
CREATE INDEX attempts_detached_by_contact ON attempts (contact_id, id)
  WHERE invitation_id IS NULL;
CREATE TABLE attempt_releases (
  campaign_id INTEGER PRIMARY KEY
);
DROP TRIGGER attempts_no_update;
DROP TRIGGER attempts_no_delete;
CREATE TRIGGER attempts_no_update BEFORE UPDATE ON attempts
  WHEN NEW.invitation_id IS NOT NULL OR NOT EXISTS (
    SELECT 1 FROM invitations i JOIN attempt_releases r ON r.campaign_id = i.campaign_id
    WHERE i.id = OLD.invitation_id)
BEGIN
  SELECT RAISE(ABORT, 'attempts are append-only');
END;
CREATE TRIGGER attempts_no_delete BEFORE DELETE ON attempts
  WHEN NOT EXISTS (
    SELECT 1 FROM invitations i JOIN attempt_releases r ON r.campaign_id = i.campaign_id
    WHERE i.id = OLD.invitation_id)
BEGIN
  SELECT RAISE(ABORT, 'attempts are append-only');
END;
)sql";

// Erasure, account removal and link revocation (migration 15). A bot's Telegram id, so that a new
// token is accepted only for the same bot; an invitation's personal link revocation (when, tries,
// not before) once its campaign is cancelled; and attempts that an erasure may detach from the
// person (invitation_id is nullable since migration 14). Attempts stay append-only: what they
// record (request, outcome, codes, times, account) never changes; an UPDATE may only detach an
// attempt (invitation_id to NULL, contact_id to NULL) and blank its error text — an erasure — and
// only a campaign named in attempt_releases (migration 14: inside its deleting transaction alone)
// may have its attempts given their campaign's name and contact id as they are detached.
constexpr std::string_view kErasure = R"sql(
ALTER TABLE accounts ADD COLUMN bot_id INTEGER;
ALTER TABLE invitations ADD COLUMN link_revoked_at INTEGER;
ALTER TABLE invitations ADD COLUMN link_revoke_after INTEGER NOT NULL DEFAULT 0;
ALTER TABLE invitations ADD COLUMN link_revoke_tries INTEGER NOT NULL DEFAULT 0;
CREATE INDEX invitations_links_to_revoke ON invitations (campaign_id, link_revoke_after)
  WHERE invite_link IS NOT NULL AND link_revoked_at IS NULL AND state <> 'joined';
DROP TRIGGER attempts_no_update;
CREATE TRIGGER attempts_no_update BEFORE UPDATE OF id, gen, worker, request, started_at,
  latency_ms, http_status, error_code, outcome, account_id ON attempts BEGIN
  SELECT RAISE(ABORT, 'attempts are append-only');
END;
CREATE TRIGGER attempts_detach_only BEFORE UPDATE OF invitation_id, error, campaign_name,
  contact_id ON attempts
  WHEN (NEW.invitation_id IS NOT NULL AND NEW.invitation_id IS NOT OLD.invitation_id)
    OR (NEW.error IS NOT OLD.error AND COALESCE(NEW.error, '') <> '')
    OR ((NEW.campaign_name IS NOT OLD.campaign_name
         OR (NEW.contact_id IS NOT OLD.contact_id AND NEW.contact_id IS NOT NULL))
        AND NOT EXISTS (
          SELECT 1 FROM invitations i JOIN attempt_releases r ON r.campaign_id = i.campaign_id
          WHERE i.id = OLD.invitation_id))
BEGIN
  SELECT RAISE(ABORT, 'attempts are append-only (an erasure or a campaign delete only detaches them)');
END;
)sql";

// When an invitation's stored personal link expires (migration 16; unix ms, NULL: never), so that a
// retry reuses it only while it still has time to be used, and makes a new one otherwise.
constexpr std::string_view kLinkExpiry = R"sql(
ALTER TABLE invitations ADD COLUMN link_expires_at INTEGER;
)sql";

// SQLite cannot drop a NOT NULL constraint; dropping one changes nothing stored, so the table's
// definition is edited in place, as WidenCheck does (https://sqlite.org/lang_altertable.html,
// "otheralter": removing NOT NULL constraints is among the safe edits).
Status DetachableAttempts(Tx& tx) {
  return WidenCheck(tx, "attempts", "invitation_id INTEGER NOT NULL REFERENCES invitations(id)",
                    "invitation_id INTEGER REFERENCES invitations(id)");
}

constexpr Migration kMigrations[] = {
    {1, "initial schema", kInitialSchema},
    {2, "delivery engine", kDeliveryEngine},
    {3, "per-chat limiter", kChatLimiter},
    {4, "web auth", kWebAuth},
    {5, "web reads", kWebReads},
    {6, "update leases", kUpdateLeases},
    {7, "faster web reads", kWebReadsFaster},
    {8, "limiter keeps its slots", kLimiterSlots},
    {9, "token scopes", kTokenScopes},
    {10, "start links", kStartLinks, AllowAwaitingStart},
    {11, "user accounts", kUserAccounts, AllowUserAccounts},
    {12, "named contact indexes", "", NameContactIndexes},
    {13, "campaign events", kCampaignEvents},
    {14, "campaign changes", kCampaignChanges, DetachableAttempts},
    {15, "erasure and link revocation", kErasure},
    {16, "link expiry", kLinkExpiry},
};

int64_t NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::span<const Migration> SqliteMigrations() { return kMigrations; }

Status MigrateSqlite(Connection& conn) {
  Session session(conn);
  RETURN_IF_ERROR(
      session.Execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, "
                      "name TEXT NOT NULL, applied_at INTEGER NOT NULL)"));
  ASSIGN_OR_RETURN(int64_t current,
                   session.QueryInt("SELECT COALESCE(MAX(version), 0) FROM schema_version"));
  const int latest = kMigrations[std::size(kMigrations) - 1].version;
  if (current > latest) {
    return Fail(ErrorCode::kInternal,
                "database schema version {} is newer than this tginvite knows ({}); upgrade "
                "tginvite",
                current, latest);
  }
  for (const Migration& migration : kMigrations) {
    if (migration.version <= current) continue;
    Status applied = WithTransaction(conn, [&](Tx& tx) -> Status {
      // Another process may have applied it while this one waited for the write lock.
      ASSIGN_OR_RETURN(int64_t done,
                       tx.QueryInt("SELECT COUNT(*) FROM schema_version WHERE version = ?",
                                   {int64_t{migration.version}}));
      if (done > 0) return Ok();
      RETURN_IF_ERROR(tx.ExecuteScript(migration.sql));
      if (migration.run != nullptr) RETURN_IF_ERROR(migration.run(tx));
      RETURN_IF_ERROR(
          tx.Execute("INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)",
                     {int64_t{migration.version}, std::string(migration.name), NowMillis()}));
      return Ok();
    });
    RETURN_IF_ERROR_CTX(applied,
                        fmt::format("migration {} ({})", migration.version, migration.name));
  }
  return Ok();
}

}  // namespace tginvite::storage
