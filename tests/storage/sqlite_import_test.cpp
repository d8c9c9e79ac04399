// What only SQLite's import does: the bulk load of an empty contacts table (its indexes dropped and
// rebuilt inside the import's transaction), and migration 12, which made those indexes droppable.
#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "fakes/temp_dir.h"
#include "fakes/test_keys.h"
#include "storage/import_rows.h"
#include "storage/old_database.h"
#include "storage/sqlite/schema.h"
#include "storage/sqlite/sqlite_connection.h"
#include "storage/store.h"

namespace tginvite::storage {
namespace {

using core::ContactRecord;
using testing::Contact;
using testing::Options;
using testing::Rows;
using testing::TempDir;
using testing::VectorSource;

// Every row of a query, one line per row, columns separated by '|'.
std::vector<std::string> Dump(Connection& conn, std::string_view sql) {
  std::vector<std::string> lines;
  Status read = Session(conn).ForEach(sql, {}, [&lines](const Row& row) -> Status {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) line += (row.IsNull(i) ? "NULL" : row.Text(i)) + "|";
    lines.push_back(std::move(line));
    return Ok();
  });
  EXPECT_TRUE(read) << read.error().message;
  return lines;
}

std::unique_ptr<Connection> Connect(const std::string& path) {
  auto conn = SqliteConnection::Open(path, SqliteOptions{});
  EXPECT_TRUE(conn) << conn.error().message;
  return conn ? std::unique_ptr<Connection>(std::move(conn).value()) : nullptr;
}

constexpr std::string_view kIndexes =
    "SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'contacts' "
    "ORDER BY name";

std::string Describe(const std::vector<std::pair<int64_t, ImportRowResult>>& results) {
  std::string text;
  for (const auto& [line, r] : results) {
    text += fmt::format("{}:{}/{}/{} ", line, static_cast<int>(r.outcome),
                        static_cast<int>(r.enqueue), r.conflict);
  }
  return text;
}

// Random inputs drawn mostly from a few identifiers (duplicates, conflicts, identifiers moving
// from one contact to another, changed and empty names, suppressed keys), each imported twice:
// into an empty contacts table (the bulk load) and into one that holds a contact no row touches
// (row by row). Every row's result and every contact must be the same; so must a second import of
// the same input over each.
TEST(SqliteImportTest, TheBulkLoadGivesEveryRowTheResultOfTheRowByRowPath) {
  const std::vector<std::string> first_names = {"", "Anna", "Bob", "😀"};
  const std::vector<std::string> usernames = {"anna", "bob", "carol", "dave", "eve"};
  const std::vector<std::string> phones = {"+491", "+492", "+493", "+494", "+495"};
  int64_t bulk_rows = 0;  // rows the bulk load inserted as they came
  for (uint64_t seed = 1; seed <= 30; ++seed) {
    std::mt19937_64 random(seed);
    auto below = [&random](size_t n) { return static_cast<size_t>(random() % n); };
    int64_t unique = 1000;
    std::vector<ContactRecord> input;
    for (int i = 0; i < 80; ++i) {
      ContactRecord c;
      const bool common = below(2) == 0;
      do {
        if (below(2) == 0) c.telegram_user_id = common ? int64_t(1 + below(8)) : ++unique;
        if (below(2) == 0) {
          c.username = common ? usernames[below(usernames.size())] : fmt::format("u{}", ++unique);
        }
        if (below(3) == 0) {
          c.phone = common ? phones[below(phones.size())] : fmt::format("+49{}", ++unique);
        }
      } while (!c.telegram_user_id && c.username.empty() && c.phone.empty());
      c.first_name = first_names[below(first_names.size())];
      if (below(4) == 0) c.last_name = "Last";
      input.push_back(std::move(c));
    }
    const bool with_campaign = seed % 3 != 0;

    struct Run {
      std::vector<std::pair<int64_t, ImportRowResult>> first, second;
      std::vector<std::string> contacts, invitations;
    };
    auto run = [&](bool preload) -> Run {
      TempDir dir;
      const std::string path = dir.File("t.db");
      auto store = OpenStore("sqlite:" + path, testing::TestStoreOptions());
      EXPECT_TRUE(store) << store.error().message;
      Run out;
      if (!store) return out;
      EXPECT_TRUE((*store)->AddAccount(
          {"demo", core::AccountKind::kRehearsal, {}, "https://api.telegram.org"}));
      EXPECT_TRUE((*store)->CreateCampaign(
          {"spring", "demo", "-1001234567890", "Hi {link}", core::LinkMode::kPersonal, ""}));
      EXPECT_TRUE((*store)->AddSuppression("username:carol", ""));
      EXPECT_TRUE((*store)->AddSuppression("id:3", ""));
      if (preload) {
        VectorSource other(Rows({Contact(999'999, "someone_else")}));
        EXPECT_TRUE((*store)->ImportContacts(other, {}));
      }
      std::optional<std::string> campaign =
          with_campaign ? std::optional<std::string>("spring") : std::nullopt;
      VectorSource first(Rows(input));
      auto totals = (*store)->ImportContacts(first, Options(campaign));
      EXPECT_TRUE(totals) << totals.error().message;
      VectorSource second(Rows(input));
      totals = (*store)->ImportContacts(second, Options(campaign));
      EXPECT_TRUE(totals) << totals.error().message;
      out.first = std::move(first.results);
      out.second = std::move(second.results);
      auto conn = Connect(path);
      if (!conn) return out;
      out.contacts = Dump(*conn,
                          "SELECT telegram_user_id, username, phone, first_name, last_name "
                          "FROM contacts WHERE telegram_user_id IS NOT 999999 ORDER BY 1, 2, 3");
      out.invitations = Dump(*conn,
                             "SELECT c.telegram_user_id, c.username, c.phone, i.state, "
                             "i.last_error FROM invitations i JOIN contacts c "
                             "ON c.id = i.contact_id ORDER BY 1, 2, 3");
      if (!preload) {
        bulk_rows += static_cast<int64_t>(std::count_if(
            out.first.begin(), out.first.end(),
            [](const auto& r) { return r.second.outcome == ImportOutcome::kImported; }));
      }
      return out;
    };
    Run bulk = run(/*preload=*/false);
    Run row_by_row = run(/*preload=*/true);
    EXPECT_EQ(Describe(bulk.first), Describe(row_by_row.first)) << "seed " << seed;
    EXPECT_EQ(Describe(bulk.second), Describe(row_by_row.second)) << "seed " << seed;
    EXPECT_EQ(bulk.contacts, row_by_row.contacts) << "seed " << seed;
    EXPECT_EQ(bulk.invitations, row_by_row.invitations) << "seed " << seed;
    if (HasFailure()) return;
  }
  EXPECT_GT(bulk_rows, 600) << "the inputs hardly reached the bulk load";
}

// A bulk load that fails on its last row (no identifier: the table's CHECK) rolls back everything,
// the dropped indexes included: they are all there afterwards and still refuse a second holder of
// an identifier.
TEST(SqliteImportTest, AFailedBulkLoadLeavesTheIndexesAsTheyWere) {
  TempDir dir;
  const std::string path = dir.File("t.db");
  auto store = OpenStore("sqlite:" + path, testing::TestStoreOptions());
  ASSERT_TRUE(store) << store.error().message;
  auto conn = Connect(path);
  ASSERT_TRUE(conn);
  const std::vector<std::string> indexes = Dump(*conn, kIndexes);
  ASSERT_EQ(indexes.size(), 5u);

  VectorSource failing(Rows({Contact(1, "anna"), Contact(2), Contact(std::nullopt, "", "Nobody")}));
  auto failed = (*store)->ImportContacts(failing, {});
  ASSERT_FALSE(failed);
  EXPECT_TRUE(failing.results.empty()) << "no row is reported for an import that failed";
  EXPECT_EQ(Dump(*conn, kIndexes), indexes);
  EXPECT_EQ(Dump(*conn, "SELECT COUNT(*) FROM contacts"), std::vector<std::string>{"0|"});

  VectorSource good(Rows({Contact(1, "anna"), Contact(2)}));
  ASSERT_TRUE((*store)->ImportContacts(good, {}));
  EXPECT_EQ(Dump(*conn, kIndexes), indexes);
  EXPECT_FALSE(Session(*conn).Execute(
      "INSERT INTO contacts (telegram_user_id, created_at, updated_at) VALUES (3, 0, 0), "
      "(3, 0, 0)"))
      << "the rebuilt index lets two contacts hold one user id";
  EXPECT_FALSE(Session(*conn).Execute(
      "INSERT INTO contacts (username, created_at, updated_at) VALUES ('anna', 0, 0)"));
  EXPECT_EQ(Dump(*conn, "PRAGMA integrity_check"), std::vector<std::string>{"ok|"});
}

// Migration 12 over a database version 11 left: the contacts' three UNIQUE columns become named
// unique indexes over the same b-trees, and still refuse a second holder of an identifier.
TEST(SqliteImportTest, Migration12NamesTheContactsUniqueIndexes) {
  TempDir dir;
  const std::string path = dir.File("t.db");
  auto conn = Connect(path);
  ASSERT_TRUE(conn);
  Status migrated = testing::MigrateBefore(*conn, SqliteMigrations(), 12);
  ASSERT_TRUE(migrated) << migrated.error().message;
  ASSERT_TRUE(Session(*conn).Execute(
      "INSERT INTO contacts (telegram_user_id, username, phone, created_at, updated_at) "
      "VALUES (1, 'anna', '+491', 0, 0), (2, 'bob', NULL, 0, 0)"));
  EXPECT_EQ(Dump(*conn,
                 "SELECT name FROM sqlite_schema WHERE type = 'index' AND "
                 "tbl_name = 'contacts' AND name LIKE 'sqlite_autoindex%' ORDER BY name")
                .size(),
            3u);

  auto store = OpenStore("sqlite:" + path, testing::TestStoreOptions());
  ASSERT_TRUE(store) << store.error().message;
  EXPECT_EQ(Dump(*conn, kIndexes),
            (std::vector<std::string>{
                "contacts_by_full_name|CREATE INDEX contacts_by_full_name ON contacts "
                "(lower(first_name || ' ' || last_name))|",
                "contacts_by_last_name|CREATE INDEX contacts_by_last_name ON contacts "
                "(lower(last_name)) WHERE last_name <> ''|",
                "contacts_by_phone|CREATE UNIQUE INDEX contacts_by_phone ON contacts (phone)|",
                "contacts_by_telegram_user_id|CREATE UNIQUE INDEX contacts_by_telegram_user_id ON "
                "contacts (telegram_user_id)|",
                "contacts_by_username|CREATE UNIQUE INDEX contacts_by_username ON contacts "
                "(username)|",
            }));
  EXPECT_EQ(Dump(*conn, "PRAGMA integrity_check"), std::vector<std::string>{"ok|"});
  for (std::string_view duplicate :
       {"INSERT INTO contacts (telegram_user_id, created_at, updated_at) VALUES (1, 0, 0)",
        "INSERT INTO contacts (username, created_at, updated_at) VALUES ('bob', 0, 0)",
        "INSERT INTO contacts (phone, created_at, updated_at) VALUES ('+491', 0, 0)"}) {
    auto inserted = Session(*conn).Execute(duplicate);
    ASSERT_FALSE(inserted) << duplicate;
    EXPECT_EQ(inserted.error().code, ErrorCode::kAlreadyExists) << duplicate;
  }
  VectorSource again(Rows({Contact(1, "anna", "Anna"), Contact(3, "carol")}));
  auto totals = (*store)->ImportContacts(again, {});
  ASSERT_TRUE(totals) << totals.error().message;
  EXPECT_EQ(totals->updated, 1);
  EXPECT_EQ(totals->imported, 1);
}

}  // namespace
}  // namespace tginvite::storage
