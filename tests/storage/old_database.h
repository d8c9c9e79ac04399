// Databases as an older tginvite left them, for the migration tests of both engines: the schema
// up to some version (applied as the engines apply it), rows written with raw statements, and
// what the newer migrations must have made of them.
#pragma once

#include <span>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "storage/connection.h"
#include "storage/sqlite/schema.h"
#include "storage/store.h"
#include "storage/transaction.h"

namespace tginvite::testing {

// Applies the migrations older than `version`, each in its own transaction, as MigrateSqlite and
// MigratePg do.
inline Status MigrateBefore(storage::Connection& conn,
                            std::span<const storage::Migration> migrations, int version) {
  RETURN_IF_ERROR(storage::Session(conn).Execute(
      "CREATE TABLE schema_version (version BIGINT PRIMARY KEY, name TEXT NOT NULL, "
      "applied_at BIGINT NOT NULL)"));
  for (const storage::Migration& migration : migrations) {
    if (migration.version >= version) break;
    RETURN_IF_ERROR(storage::WithTransaction(conn, [&](storage::Tx& tx) -> Status {
      RETURN_IF_ERROR(tx.ExecuteScript(migration.sql));
      if (migration.run != nullptr) RETURN_IF_ERROR(migration.run(tx));
      RETURN_IF_ERROR(
          tx.Execute("INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, 0)",
                     {int64_t{migration.version}, std::string(migration.name)}));
      return Ok();
    }));
  }
  return Ok();
}

// What a bot account's campaign left before user accounts: attempts named by Bot API methods, and
// a health text this version does not know (written by hand).
inline Status FillBeforeUserAccounts(storage::Connection& conn) {
  storage::Session session(conn);
  for (std::string_view sql : {
           "INSERT INTO accounts (name, kind, api_base, created_at, health, health_reason) "
           "VALUES ('old', 'bot', 'https://api.telegram.org', 0, 'banned', 'set by hand')",
           "INSERT INTO campaigns (name, account_id, chat, template, link_mode, created_at, "
           "updated_at) SELECT 'spring', id, '-1001234567890', 'Hi {link}', 'personal', 0, 0 "
           "FROM accounts WHERE name = 'old'",
           "INSERT INTO contacts (telegram_user_id, created_at, updated_at) VALUES (42, 0, 0)",
           "INSERT INTO invitations (campaign_id, contact_id, state, created_at, updated_at) "
           "SELECT k.id, c.id, 'sent', 0, 0 FROM campaigns k, contacts c",
           "INSERT INTO attempts (invitation_id, gen, worker, request, started_at, outcome) "
           "SELECT id, 1, 'w', 'createChatInviteLink', 1000, 'transient' FROM invitations",
           "INSERT INTO attempts (invitation_id, gen, worker, request, started_at, outcome) "
           "SELECT id, 1, 'w', 'sendMessage', 2000, 'ok' FROM invitations",
       }) {
    RETURN_IF_ERROR(session.Execute(sql));
  }
  return Ok();
}

// What the "user accounts" migration made of FillBeforeUserAccounts's rows, through the store and
// as stored.
inline void ExpectUserAccountsMigrated(storage::Store& store, storage::Connection& conn) {
  using storage::Row;
  auto account = store.FindAccount("old");
  ASSERT_TRUE(account) << account.error().message;
  EXPECT_EQ(account->health, core::AccountHealth::kUnauthorized) << "an unknown health text";
  EXPECT_NE(account->health_reason.find("banned"), std::string::npos) << account->health_reason;
  EXPECT_NE(account->health_reason.find("set by hand"), std::string::npos)
      << account->health_reason;
  EXPECT_FALSE(account->CanSend());

  storage::Session session(conn);
  auto attempts = session.Query("SELECT request, account_id FROM attempts ORDER BY started_at");
  ASSERT_TRUE(attempts) << attempts.error().message;
  std::vector<std::pair<std::string, int64_t>> stored;
  for (const Row& row : *attempts) stored.emplace_back(row.Text(0), row.Int(1));
  EXPECT_EQ(stored, (std::vector<std::pair<std::string, int64_t>>{{"link", account->id},
                                                                  {"send", account->id}}));
  EXPECT_FALSE(session.Execute("UPDATE attempts SET request = 'x'"))
      << "attempts are append-only again after the renaming";

  const core::RequestKind send[] = {core::RequestKind::kSend};
  auto usage = store.CountAttempts(account->id, send, 0);
  ASSERT_TRUE(usage) << usage.error().message;
  EXPECT_EQ(usage->count, 1);
  EXPECT_EQ(usage->oldest, 2000);

  auto campaign = store.FindCampaign("spring");
  ASSERT_TRUE(campaign) << campaign.error().message;
  EXPECT_EQ(campaign->campaign.method, core::DeliveryMethod::kMessage);
  auto steps = session.QueryInt("SELECT SUM(step) FROM invitations");
  ASSERT_TRUE(steps) << steps.error().message;
  EXPECT_EQ(*steps, 0);

  // The kinds' check admits the new kinds, and nothing else.
  auto user = store.AddAccount({"person", core::AccountKind::kUser,
                                core::Secret("123456:0123456789abcdef0123456789abcdef:+4930123456"),
                                "https://api.telegram.org"});
  EXPECT_TRUE(user) << user.error().message;
  auto rehearsal = store.AddAccount(
      {"pretend", core::AccountKind::kRehearsalUser, {}, "https://api.telegram.org"});
  EXPECT_TRUE(rehearsal) << rehearsal.error().message;
  EXPECT_FALSE(
      session.Execute("INSERT INTO accounts (name, kind, api_base, created_at) VALUES "
                      "('odd', 'robot', 'https://x.org', 0)"));
}

}  // namespace tginvite::testing
