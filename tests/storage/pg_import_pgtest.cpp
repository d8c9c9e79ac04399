// The PostgreSQL import's batch path (storage/postgres/pg_import.h: COPY into a staging table,
// then set-based writes) against the row-by-row path it stands in for, and what COPY brings with
// it: text that needs escaping, and a staging table that must not outlive its transaction on a
// pooled connection.
#include <algorithm>
#include <map>
#include <random>
#include <sstream>

#include <gtest/gtest.h>

#include "storage/import_rows.h"
#include "storage/pg_test_database.h"
#include "storage/postgres/pg_connection.h"
#include "storage/postgres/pg_import.h"
#include "storage/postgres/pg_schema.h"
#include "storage/postgres/pg_store.h"

namespace tginvite::storage {
namespace {

using core::ContactRecord;
using core::InvitationState;
using testing::Contact;
using testing::Options;
using testing::PgDatabaseTest;
using testing::Rows;
using testing::VectorSource;

// A row's result as one comparable, printable value.
struct Outcome {
  ImportOutcome outcome = ImportOutcome::kImported;
  std::string conflict;
  EnqueueOutcome enqueue = EnqueueOutcome::kNone;

  bool operator==(const Outcome&) const = default;
  friend void PrintTo(const Outcome& o, std::ostream* os) {
    constexpr const char* kOutcomes[] = {"imported", "updated", "duplicate", "conflict"};
    constexpr const char* kEnqueues[] = {"-", "enqueued", "skipped", "already queued"};
    *os << "(" << kOutcomes[static_cast<int>(o.outcome)];
    if (!o.conflict.empty()) *os << " \"" << o.conflict << "\"";
    *os << ", " << kEnqueues[static_cast<int>(o.enqueue)] << ")";
  }
};
Outcome OutcomeOf(const ImportRowResult& r) { return {r.outcome, r.conflict, r.enqueue}; }
Outcome Imported(EnqueueOutcome enqueue = EnqueueOutcome::kNone) {
  return {ImportOutcome::kImported, "", enqueue};
}
Outcome Updated(EnqueueOutcome enqueue = EnqueueOutcome::kNone) {
  return {ImportOutcome::kUpdated, "", enqueue};
}
Outcome Duplicate(EnqueueOutcome enqueue = EnqueueOutcome::kNone) {
  return {ImportOutcome::kDuplicate, "", enqueue};
}
Outcome Conflict(std::string why) {
  return {ImportOutcome::kConflict, std::move(why), EnqueueOutcome::kNone};
}

std::vector<Outcome> OutcomesOf(const VectorSource& source) {
  std::vector<Outcome> out;
  for (const auto& [line, result] : source.results) out.push_back(OutcomeOf(result));
  return out;
}

std::vector<int64_t> LinesOf(const VectorSource& source) {
  std::vector<int64_t> lines;
  for (const auto& [line, result] : source.results) lines.push_back(line);
  return lines;
}

std::string Describe(const std::vector<Outcome>& outcomes) {
  std::ostringstream text;
  for (const Outcome& o : outcomes) {
    PrintTo(o, &text);
    text << " ";
  }
  return text.str();
}

// What the database holds after an import, independent of contact and invitation ids.
struct Snapshot {
  // (telegram_user_id, username, phone, first_name, last_name); NULLs as "<null>".
  std::vector<std::string> contacts;
  // (contact, state, last_error)
  std::vector<std::string> invitations;
  // (campaign, state, the sum of the deltas the triggers appended)
  std::vector<std::string> deltas;

  bool operator==(const Snapshot&) const = default;
};

std::string Cell(const Row& row, size_t column) {
  return row.IsNull(column) ? std::string("<null>") : fmt::format("[{}]", row.Text(column));
}

Result<Snapshot> TakeSnapshot(Session& session) {
  Snapshot snapshot;
  auto collect = [](std::vector<std::string>& into) {
    return [&into](const Row& row) -> Status {
      std::string line;
      for (size_t i = 0; i < row.size(); ++i) line += Cell(row, i) + " ";
      into.push_back(std::move(line));
      return Ok();
    };
  };
  RETURN_IF_ERROR(session.ForEach(
      "SELECT telegram_user_id::text, username, phone, first_name, last_name FROM contacts "
      "ORDER BY 1, 2, 3, 4, 5",
      {}, collect(snapshot.contacts)));
  RETURN_IF_ERROR(session.ForEach(
      "SELECT i.campaign_id::text, c.telegram_user_id::text, c.username, c.phone, i.state, "
      "i.last_error FROM invitations i JOIN contacts c ON c.id = i.contact_id "
      "ORDER BY 1, 2, 3, 4, 5, 6",
      {}, collect(snapshot.invitations)));
  RETURN_IF_ERROR(session.ForEach(
      "SELECT campaign_id::text, state, SUM(delta)::text FROM invitation_count_deltas "
      "GROUP BY 1, 2 HAVING SUM(delta) <> 0 ORDER BY 1, 2",
      {}, collect(snapshot.deltas)));
  return snapshot;
}

// A clock that moves one millisecond every time it is read, so rows stamped by separate calls
// differ and rows stamped by one call share their time.
class TickingClock final : public core::Clock {
 public:
  core::TimePoint Now() const override {
    std::lock_guard lock(mu_);
    now_ += std::chrono::milliseconds(1);
    return now_;
  }
  bool SleepUntil(core::TimePoint, std::stop_token) const override { return true; }

 private:
  mutable std::mutex mu_;
  mutable core::TimePoint now_ = core::FromUnixMillis(1'800'000'000'000);
};

class PgImportTest : public PgDatabaseTest {
 protected:
  // A store on the test database; `max_connections` 1 makes every unit of work reuse one
  // connection.
  std::unique_ptr<PgStore> OpenPgStore(size_t max_connections = 16) {
    PgStoreOptions options;
    options.url = db_->url();
    options.max_connections = max_connections;
    auto store = PgStore::Open(std::move(options));
    EXPECT_TRUE(store) << store.error().message;
    return store ? std::move(store).value() : nullptr;
  }

  // A connection of its own to the test database, with the schema applied.
  std::unique_ptr<PgConnection> Connect() {
    auto conn = PgConnection::Open(db_->url());
    EXPECT_TRUE(conn) << conn.error().message;
    if (!conn) return nullptr;
    Status migrated = MigratePg(**conn);
    EXPECT_TRUE(migrated) << migrated.error().message;
    return std::move(conn).value();
  }

  static void CreateCampaign(Store& store) {
    ASSERT_TRUE(store.AddAccount({"demo", core::AccountKind::kRehearsal, {}, "https://x.org"}));
    auto campaign = store.CreateCampaign(
        {"spring", "demo", "-1001234567890", "Hi {link}", core::LinkMode::kPersonal, ""});
    ASSERT_TRUE(campaign) << campaign.error().message;
  }

  // How many staging tables exist in the whole database (any session's).
  int64_t StagingTables() {
    auto conn = PgConnection::Open(db_->url());
    EXPECT_TRUE(conn) << conn.error().message;
    if (!conn) return -1;
    auto n = Session(**conn).QueryInt(
        "SELECT COUNT(*) FROM pg_class WHERE relname = 'tginvite_import_rows'");
    EXPECT_TRUE(n) << n.error().message;
    return n ? *n : -1;
  }
};

// --- the batch path gives every row the result the row-by-row path gives it ---------------------

// Random inputs drawn mostly from a few identifiers (duplicates within a batch, across batches and
// with stored contacts, conflicts, changed and empty names, suppressed keys, invitations queued
// already), each imported twice in a rolled-back transaction: row by row, and in batches of random
// sizes. Every row's result and everything stored must be the same.
TEST_F(PgImportTest, BatchesGiveEveryRowTheResultOfTheRowByRowPath) {
  auto conn = Connect();
  ASSERT_TRUE(conn);
  Session session(*conn);
  ASSERT_TRUE(
      session.Execute("INSERT INTO accounts (name, kind, api_base, created_at) "
                      "VALUES ('demo', 'rehearsal', 'https://x.org', 0)"));
  auto campaign = session.QueryInt(
      "INSERT INTO campaigns (name, account_id, chat, template, link_mode, reach, created_at, "
      "updated_at) SELECT 'spring', id, '-1001', 'Hi {link}', 'personal', 'both', 0, 0 "
      "FROM accounts RETURNING id");
  // `both`: contacts without a user id await their start, the others are pending, on both paths.
  constexpr core::CampaignReach kReach = core::CampaignReach::kBoth;
  ASSERT_TRUE(campaign) << campaign.error().message;

  const std::vector<std::string> first_names = {
      "", "Anna", "Bob", "tab\there", "back\\slash", "\\N", "😀", std::string("nul\0after", 9)};
  const std::vector<std::string> usernames = {"anna", "bob", "carol",
                                              "dave", "eve", std::string("anna\0x", 6)};
  const std::vector<std::string> phones = {"+491", "+492", "+493", "+494", "+495"};
  int64_t set_based = 0;  // rows the batch path wrote with its set-based statement (at least)

  for (uint64_t seed = 1; seed <= 40; ++seed) {
    std::mt19937_64 random(seed);
    auto below = [&random](size_t n) { return static_cast<size_t>(random() % n); };
    int64_t unique = 1000;
    auto draw = [&]() {
      ContactRecord c;
      const bool common = below(2) == 0;  // from the few shared identifiers, or new ones
      do {
        if (below(2) == 0) {
          c.telegram_user_id = common ? int64_t(1 + below(8)) : ++unique;
        }
        if (below(2) == 0) {
          c.username = common ? usernames[below(usernames.size())] : fmt::format("u{}", ++unique);
        }
        if (below(3) == 0) {
          c.phone = common ? phones[below(phones.size())] : fmt::format("+49{}", ++unique);
        }
      } while (!c.telegram_user_id && c.username.empty() && c.phone.empty());
      c.first_name = first_names[below(first_names.size())];
      if (below(4) == 0) c.last_name = "Last";
      return c;
    };
    std::vector<ImportRow> stored, input;
    for (int i = 0; i < 6; ++i) stored.push_back({i, draw()});
    for (int i = 0; i < 60; ++i) input.push_back({100 + i, draw()});
    const bool with_campaign = seed % 4 != 0;
    using internal::EnqueueTarget;
    const std::optional<EnqueueTarget> campaign_id =
        with_campaign ? std::optional<EnqueueTarget>(EnqueueTarget{*campaign, kReach})
                      : std::nullopt;
    std::vector<size_t> cuts;  // batch boundaries for the batch path
    for (size_t at = 0; at < input.size();) {
      at = std::min(input.size(), at + 1 + below(seed % 3 == 0 ? 60 : 15));
      cuts.push_back(at);
    }

    // The same start: stored contacts (some invited already) and suppressions.
    auto prepare = [&](Tx& tx) -> Status {
      for (size_t i = 0; i < stored.size(); ++i) {
        std::optional<EnqueueTarget> invite = i % 2 == 0 ? campaign_id : std::nullopt;
        RETURN_IF_ERROR(ImportRowPg(tx, stored[i], invite, 1));
      }
      for (std::string key : {"id:3", "username:carol", "phone:+495", "username:anna"}) {
        if (key == "username:anna" && seed % 2 == 0) continue;
        RETURN_IF_ERROR(tx.Execute(
            "INSERT INTO suppressions (key, reason, created_at) VALUES (?, '', 0)", {key}));
      }
      return Ok();
    };

    std::vector<Outcome> row_by_row, batched;
    Snapshot row_by_row_state, batched_state;
    TxOptions rolled_back{.attempts = 1, .end = TxEnd::kRollback};
    Status one = WithTransaction(
        *conn,
        [&](Tx& tx) -> Status {
          RETURN_IF_ERROR(prepare(tx));
          for (const ImportRow& row : input) {
            ASSIGN_OR_RETURN(ImportRowResult result, ImportRowPg(tx, row, campaign_id, 2));
            row_by_row.push_back(OutcomeOf(result));
          }
          ASSIGN_OR_RETURN(row_by_row_state, TakeSnapshot(tx));
          return Ok();
        },
        rolled_back);
    ASSERT_TRUE(one) << one.error().message;

    TickingClock clock;
    Status two = WithTransaction(
        *conn,
        [&](Tx& tx) -> Status {
          RETURN_IF_ERROR(prepare(tx));
          size_t from = 0;
          for (size_t to : cuts) {
            std::span<const ImportRow> batch(input.data() + from, to - from);
            ASSIGN_OR_RETURN(std::vector<ImportRowResult> results,
                             ImportBatchPg(tx, batch, campaign_id, clock));
            if (results.size() != batch.size()) {
              return Fail(ErrorCode::kInternal, "{} results for {} rows", results.size(),
                          batch.size());
            }
            for (const ImportRowResult& r : results) batched.push_back(OutcomeOf(r));
            from = to;
          }
          ASSIGN_OR_RETURN(batched_state, TakeSnapshot(tx));
          // The set-based statement stamps its rows with one reading of the clock, the row-by-row
          // remainder each row with its own (TickingClock): rows that share a stamp came from the
          // former.
          ASSIGN_OR_RETURN(int64_t shared,
                           tx.QueryInt("SELECT COALESCE(SUM(n), 0) FROM (SELECT COUNT(*) AS n "
                                       "FROM contacts WHERE created_at > 2 GROUP BY created_at "
                                       "HAVING COUNT(*) > 1) t"));
          set_based += shared;
          return Ok();
        },
        rolled_back);
    ASSERT_TRUE(two) << two.error().message;

    ASSERT_EQ(batched.size(), row_by_row.size()) << "seed " << seed;
    for (size_t i = 0; i < input.size(); ++i) {
      EXPECT_EQ(batched[i], row_by_row[i])
          << "seed " << seed << ", row " << i << "\nrow by row: " << Describe(row_by_row)
          << "\nbatched:    " << Describe(batched);
    }
    EXPECT_EQ(batched_state.contacts, row_by_row_state.contacts) << "seed " << seed;
    EXPECT_EQ(batched_state.invitations, row_by_row_state.invitations) << "seed " << seed;
    EXPECT_EQ(batched_state.deltas, row_by_row_state.deltas) << "seed " << seed;
    if (HasFailure()) return;
  }
  EXPECT_GT(set_based, 400) << "the inputs hardly reached the set-based statement";
}

// The set-based statement, not the row-by-row remainder, writes a batch's independent new rows:
// it reads the clock once for all of them, the remainder once per row.
TEST_F(PgImportTest, IndependentNewRowsAreWrittenByOneStatement) {
  auto conn = Connect();
  ASSERT_TRUE(conn);
  TickingClock clock;
  std::vector<ImportRow> rows =
      Rows({Contact(1), Contact(2, "bob"), Contact(3), Contact(std::nullopt, "", "", "+4930"),
            Contact(5, "eve"), Contact(5, "", "Eve")});
  std::vector<ImportRowResult> results;
  int64_t staged = 0, shared_stamp = 0, stamps = 0;
  Status status = WithTransaction(
      *conn,
      [&](Tx& tx) -> Status {
        ASSIGN_OR_RETURN(results, ImportBatchPg(tx, rows, std::nullopt, clock));
        ASSIGN_OR_RETURN(staged, tx.QueryInt("SELECT COALESCE(SUM(n_tup_ins), 0) FROM "
                                             "pg_stat_xact_user_tables WHERE relname = "
                                             "'tginvite_import_rows'"));
        ASSIGN_OR_RETURN(shared_stamp,
                         tx.QueryInt("SELECT MAX(n) FROM (SELECT COUNT(*) n FROM contacts "
                                     "GROUP BY created_at) t"));
        ASSIGN_OR_RETURN(stamps, tx.QueryInt("SELECT COUNT(DISTINCT created_at) FROM contacts"));
        return Ok();
      },
      {.attempts = 1, .end = TxEnd::kRollback});
  ASSERT_TRUE(status) << status.error().message;
  ASSERT_EQ(results.size(), 6u);
  for (size_t i = 0; i < 5; ++i) EXPECT_EQ(OutcomeOf(results[i]), Imported()) << i;
  EXPECT_EQ(OutcomeOf(results[5]), Updated());
  EXPECT_EQ(staged, 4) << "rows 1 to 4 (each alone in the batch) were not copied to the server";
  EXPECT_EQ(shared_stamp, 4) << "the four independent rows were not written together";
  EXPECT_EQ(stamps, 2) << "row 5 (the same person as row 6) was not written row by row";
}

// --- the store's import on PostgreSQL, row results as the contract defines them -----------------

TEST_F(PgImportTest, NewRowsAreImportedAndEnqueued) {
  auto store = OpenPgStore();
  ASSERT_TRUE(store);
  CreateCampaign(*store);
  ASSERT_TRUE(store->AddSuppression("phone:+4930111", "asked"));
  VectorSource source(Rows({Contact(1, "anna"), Contact(2), Contact(std::nullopt, "carol"),
                            Contact(std::nullopt, "", "Dan", "+4930111"), Contact(5, "eve")}));
  auto totals = store->ImportContacts(source, Options("spring"));
  ASSERT_TRUE(totals) << totals.error().message;
  EXPECT_EQ(OutcomesOf(source),
            (std::vector<Outcome>{
                Imported(EnqueueOutcome::kEnqueued), Imported(EnqueueOutcome::kEnqueued),
                Imported(EnqueueOutcome::kEnqueued), Imported(EnqueueOutcome::kSkipped),
                Imported(EnqueueOutcome::kEnqueued)}))
      << Describe(OutcomesOf(source));
  EXPECT_EQ(LinesOf(source), (std::vector<int64_t>{2, 3, 4, 5, 6}));
  EXPECT_EQ(totals->imported, 5);
  EXPECT_EQ(totals->enqueued, 4);
  EXPECT_EQ(totals->skipped, 1);
  EXPECT_TRUE(totals->committed);
  auto found = store->FindCampaign("spring");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->counts[InvitationState::kPending], 4);
  EXPECT_EQ(found->counts[InvitationState::kSkipped], 1);
  ContactQuery query;
  query.campaign = "spring";
  query.state = InvitationState::kSkipped;
  auto skipped = store->ListContacts(query);
  ASSERT_TRUE(skipped);
  ASSERT_EQ(skipped->contacts.size(), 1u);
  EXPECT_EQ(skipped->contacts[0].contact.phone, "+4930111");
  EXPECT_EQ(skipped->contacts[0].last_error, "suppressed");
}

// A later row of a batch that matches an earlier new row of the same batch sees it as stored: the
// earlier row is imported, the later one a duplicate, an update or a conflict.
TEST_F(PgImportTest, RowsOfOneBatchSeeTheRowsBeforeThem) {
  auto store = OpenPgStore();
  ASSERT_TRUE(store);
  CreateCampaign(*store);
  ASSERT_TRUE(store->AddSuppression("username:zed", "asked"));
  VectorSource source(Rows({
      Contact(1, "anna", "Anna"),              // new
      Contact(2, "bob"),                       // new, independent
      Contact(1, "anna", "Anna"),              // row 1 again: duplicate
      Contact(std::nullopt, "anna", "Annie"),  // row 1 by username, a new name: updated
      Contact(3, "anna"),                      // row 1's username under another id: conflict
      Contact(std::nullopt, "zed"),            // new, shares its username with the next row
      Contact(7, "zed", "", "+4970"),          // adds an id and a phone to row 6: updated
      Contact(8, "", "", "+4970"),             // row 7's phone under another id: conflict
  }));
  auto totals = store->ImportContacts(source, Options("spring"));
  ASSERT_TRUE(totals) << totals.error().message;
  EXPECT_EQ(OutcomesOf(source),
            (std::vector<Outcome>{
                Imported(EnqueueOutcome::kEnqueued), Imported(EnqueueOutcome::kEnqueued),
                Duplicate(EnqueueOutcome::kAlreadyQueued), Updated(EnqueueOutcome::kAlreadyQueued),
                Conflict("username @anna belongs to another contact"),
                Imported(EnqueueOutcome::kSkipped), Updated(EnqueueOutcome::kAlreadyQueued),
                Conflict("phone +4970 belongs to another contact")}))
      << Describe(OutcomesOf(source));
  EXPECT_EQ(LinesOf(source), (std::vector<int64_t>{2, 3, 4, 5, 6, 7, 8, 9}));
  EXPECT_EQ(totals->imported, 3);
  EXPECT_EQ(totals->updated, 2);
  EXPECT_EQ(totals->duplicates, 1);
  EXPECT_EQ(totals->conflicts, 2);
  EXPECT_EQ(*store->CountContacts(), 3);
  auto contacts = store->ListContacts({});
  ASSERT_TRUE(contacts);
  std::map<std::string, ContactRecord> by_username;
  for (const ContactView& v : contacts->contacts) by_username[v.contact.username] = v.contact;
  EXPECT_EQ(by_username["anna"].first_name, "Annie");
  EXPECT_EQ(by_username["anna"].telegram_user_id, 1);
  EXPECT_EQ(by_username["zed"].telegram_user_id, 7);
  EXPECT_EQ(by_username["zed"].phone, "+4970");
}

// Rows that touch stored contacts, and batches that touch earlier batches of the same import.
TEST_F(PgImportTest, RowsMatchingStoredContactsAndEarlierBatches) {
  auto store = OpenPgStore();
  ASSERT_TRUE(store);
  CreateCampaign(*store);
  VectorSource first(Rows({Contact(1, "anna", "Anna"), Contact(2, "bob", "Bob")}));
  ASSERT_TRUE(store->ImportContacts(first, Options("spring")));

  VectorSource source(Rows({
      Contact(1, "anna", "Anna"),                    // stored, unchanged: duplicate
      Contact(2, "", "", "+4930"),                   // stored, gains a phone: updated
      Contact(9, "bob"),                             // bob's username under another id: conflict
      Contact(3, "carol"),                           // new
      Contact(4),                                    // new; the next batch's first row
      Contact(std::nullopt, "carol", "", "", "C."),  // row 4, one batch later: updated
      Contact(4),                                    // row 5, one batch later: duplicate
  }));
  auto totals = store->ImportContacts(source, Options("spring", ImportMode::kBatches, 5));
  ASSERT_TRUE(totals) << totals.error().message;
  EXPECT_EQ(
      OutcomesOf(source),
      (std::vector<Outcome>{
          Duplicate(EnqueueOutcome::kAlreadyQueued), Updated(EnqueueOutcome::kAlreadyQueued),
          Conflict("username @bob belongs to another contact"), Imported(EnqueueOutcome::kEnqueued),
          Imported(EnqueueOutcome::kEnqueued), Updated(EnqueueOutcome::kAlreadyQueued),
          Duplicate(EnqueueOutcome::kAlreadyQueued)}))
      << Describe(OutcomesOf(source));
  EXPECT_EQ(*store->CountContacts(), 4);
  auto found = store->FindCampaign("spring");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->counts[InvitationState::kPending], 4);
  EXPECT_EQ(found->counts.Total(), 4);
}

// Names and usernames arrive as any UTF-8 the store is given; COPY's text format must carry every
// byte of them, and must not read a name that is literally \N as NULL.
TEST_F(PgImportTest, AwkwardTextRoundTripsExactly) {
  auto store = OpenPgStore();
  ASSERT_TRUE(store);
  const std::vector<std::string> names = {
      "tab\there",
      "new\nline",
      "carriage\rreturn",
      "back\\slash",
      "trailing\\",
      "\\N",
      "\\.",
      "\\",
      "\\t not a tab",
      "\"double\" 'single'",
      "emoji 😀👩‍👩‍👧",
      "ünïcödé — ½",
      " spaced  out ",
      "semi;comma,pipe|",
      "\x01\x1f\x7f",
      "\\\\N",
  };
  std::vector<ContactRecord> contacts;
  for (size_t i = 0; i < names.size(); ++i) {
    contacts.push_back(Contact(int64_t(100 + i), fmt::format("user{}", i), names[i], "",
                               names[names.size() - 1 - i]));
  }
  contacts.push_back(Contact(std::nullopt, "\\N", "username is \\N"));
  contacts.push_back(Contact(std::nullopt, "", "phone is \\N", "\\N"));
  contacts.push_back(Contact(std::nullopt, "tab\tuser", "", "new\nphone"));
  VectorSource source(Rows(contacts));
  auto totals = store->ImportContacts(source, {});
  ASSERT_TRUE(totals) << totals.error().message;
  EXPECT_EQ(totals->imported, static_cast<int64_t>(contacts.size()));

  ContactQuery query;
  query.limit = 500;
  auto page = store->ListContacts(query);
  ASSERT_TRUE(page) << page.error().message;
  ASSERT_EQ(page->contacts.size(), contacts.size());
  for (size_t i = 0; i < contacts.size(); ++i) {
    const ContactRecord& got = page->contacts[i].contact;
    const ContactRecord& want = contacts[i];
    EXPECT_EQ(got.telegram_user_id, want.telegram_user_id) << i;
    EXPECT_EQ(got.username, want.username) << i;
    EXPECT_EQ(got.first_name, want.first_name) << i;
    EXPECT_EQ(got.last_name, want.last_name) << i;
    EXPECT_EQ(got.phone, want.phone) << i;
  }
  // A username or phone that reads \N is a value, not NULL (ListContacts shows both as text).
  auto conn = PgConnection::Open(db_->url());
  ASSERT_TRUE(conn);
  auto nulls = Session(**conn).QueryInt(
      "SELECT COUNT(*) FROM contacts WHERE username = '\\N' OR phone = '\\N'");
  ASSERT_TRUE(nulls) << nulls.error().message;
  EXPECT_EQ(*nulls, 2);
  auto empty = Session(**conn).QueryInt(
      "SELECT COUNT(*) FROM contacts WHERE telegram_user_id IS NULL AND (username IS NULL) = "
      "(phone IS NULL)");
  ASSERT_TRUE(empty);
  EXPECT_EQ(*empty, 1) << "the last row's username and phone";
}

// --- all or nothing, dry runs, and the connection left behind ----------------------------------

// Invariant I8 (docs/invariants.md)
TEST_F(PgImportTest, AllOrNothingRollsBackEveryBatch) {
  auto store = OpenPgStore();
  ASSERT_TRUE(store);
  CreateCampaign(*store);
  VectorSource stored(Rows({Contact(9, "zoe")}));
  ASSERT_TRUE(store->ImportContacts(stored, Options("spring")));
  std::vector<ContactRecord> contacts;
  for (int64_t i = 1; i <= 7; ++i) contacts.push_back(Contact(i));
  contacts.push_back(Contact(10, "zoe"));  // zoe belongs to contact 9: a conflict, in batch 3
  VectorSource source(Rows(contacts));
  auto totals =
      store->ImportContacts(source, Options("spring", ImportMode::kAllOrNothing, /*batch=*/3));
  ASSERT_TRUE(totals) << totals.error().message;
  EXPECT_FALSE(totals->committed);
  EXPECT_EQ(totals->imported, 7);
  EXPECT_EQ(totals->conflicts, 1);
  ASSERT_EQ(source.results.size(), 8u);
  EXPECT_EQ(OutcomeOf(source.results[6].second), Imported(EnqueueOutcome::kEnqueued));
  EXPECT_EQ(OutcomeOf(source.results[7].second),
            Conflict("username @zoe belongs to another contact"));
  EXPECT_EQ(*store->CountContacts(), 1);
  auto found = store->FindCampaign("spring");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->counts.Total(), 1);
  EXPECT_EQ(StagingTables(), 0);

  // Without the conflict the same rows commit, in three batches of one transaction.
  contacts.pop_back();
  VectorSource clean(Rows(contacts));
  totals = store->ImportContacts(clean, Options("spring", ImportMode::kAllOrNothing, 3));
  ASSERT_TRUE(totals) << totals.error().message;
  EXPECT_TRUE(totals->committed);
  EXPECT_EQ(*store->CountContacts(), 8);
}

// Invariant I8 (docs/invariants.md)
TEST_F(PgImportTest, DryRunLeavesNothing) {
  auto store = OpenPgStore();
  ASSERT_TRUE(store);
  CreateCampaign(*store);
  VectorSource source(Rows({Contact(1, "anna"), Contact(2), Contact(1, "anna", "Anna")}));
  auto totals = store->ImportContacts(source, Options("spring", ImportMode::kDryRun, 2));
  ASSERT_TRUE(totals) << totals.error().message;
  EXPECT_FALSE(totals->committed);
  EXPECT_EQ(OutcomesOf(source), (std::vector<Outcome>{Imported(EnqueueOutcome::kEnqueued),
                                                      Imported(EnqueueOutcome::kEnqueued),
                                                      Updated(EnqueueOutcome::kAlreadyQueued)}))
      << Describe(OutcomesOf(source));
  EXPECT_EQ(*store->CountContacts(), 0);
  auto found = store->FindCampaign("spring");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->counts.Total(), 0);
  EXPECT_EQ(StagingTables(), 0);
}

// Issue 14: two differing rows for one contact in a file (the same user id, a changed name) made
// every re-import report `updated` and rewrite the contact's updated_at. The file's rows for one
// contact fold first, then meet what is stored: the second import of the file, in one batch or a
// row a batch, reports every row a duplicate and leaves every contact exactly as it was.
TEST_F(PgImportTest, ReimportingTwoDifferingRowsForOneContactLeavesItAsItWas) {
  PgStoreOptions options;
  options.url = db_->url();
  options.clock = std::make_shared<TickingClock>();  // every write a new stamp
  auto store = PgStore::Open(std::move(options));
  ASSERT_TRUE(store) << store.error().message;
  std::vector<ContactRecord> contacts = {Contact(1, "anna", "Anna"), Contact(2, "bob", "Bob"),
                                         Contact(1, "anna", "Anne", "+49301234567")};
  VectorSource first(Rows(contacts));
  auto totals = (*store)->ImportContacts(first, {});
  ASSERT_TRUE(totals) << totals.error().message;
  EXPECT_EQ(totals->updated, 1);
  auto conn = Connect();
  ASSERT_TRUE(conn);
  auto dump = [&]() {
    std::vector<std::string> rows;
    Status read = Session(*conn).ForEach(
        "SELECT id, telegram_user_id, username, phone, first_name, last_name, created_at, "
        "updated_at FROM contacts ORDER BY telegram_user_id",
        {}, [&rows](const Row& row) -> Status {
          std::string line;
          for (int i = 0; i < 8; ++i) line += (row.IsNull(i) ? "NULL" : row.Text(i)) + "|";
          rows.push_back(std::move(line));
          return Ok();
        });
    EXPECT_TRUE(read) << read.error().message;
    return rows;
  };
  const std::vector<std::string> before = dump();
  ASSERT_EQ(before.size(), 2u);
  EXPECT_NE(before[0].find("|Anne|"), std::string::npos) << before[0];

  for (size_t batch_size : {size_t{10000}, size_t{1}}) {
    VectorSource again(Rows(contacts));
    totals = (*store)->ImportContacts(again, Options(std::nullopt, ImportMode::kBatches, batch_size));
    ASSERT_TRUE(totals) << totals.error().message;
    EXPECT_EQ(totals->updated, 0) << batch_size;
    EXPECT_EQ(totals->duplicates, 3) << batch_size;
    EXPECT_EQ(OutcomesOf(again), (std::vector<Outcome>{Duplicate(), Duplicate(), Duplicate()}))
        << batch_size;
    EXPECT_EQ(dump(), before) << batch_size;
  }
}

// One pooled connection serves every import: a committed one, one that fails on the server, a dry
// run. None leaves a staging table or a transaction on it, and the next import works.
// Invariant I3 (docs/invariants.md)
TEST_F(PgImportTest, ThePooledConnectionComesBackClean) {
  auto store = OpenPgStore(/*max_connections=*/1);
  ASSERT_TRUE(store);
  auto import = [&](std::vector<ContactRecord> contacts, ImportOptions options) {
    VectorSource source(Rows(std::move(contacts)));
    return store->ImportContacts(source, options);
  };
  ASSERT_TRUE(import({Contact(1), Contact(2), Contact(3)}, Options(std::nullopt)));
  EXPECT_EQ(StagingTables(), 0);

  // A row without any identifier fails the contacts table's CHECK: the import fails as a whole.
  auto failed = import({Contact(4), Contact(std::nullopt, "", "Nobody")}, Options(std::nullopt));
  ASSERT_FALSE(failed);
  EXPECT_NE(failed.error().message.find("contacts"), std::string::npos) << failed.error().message;
  EXPECT_EQ(StagingTables(), 0);
  ASSERT_TRUE(import({Contact(5)}, Options(std::nullopt, ImportMode::kDryRun)));
  EXPECT_EQ(StagingTables(), 0);

  auto next = import({Contact(4), Contact(3, "", "Three"), Contact(6)}, Options(std::nullopt));
  ASSERT_TRUE(next) << next.error().message;
  EXPECT_EQ(next->imported, 2);
  EXPECT_EQ(next->updated, 1);
  EXPECT_EQ(*store->CountContacts(), 5);
  EXPECT_EQ(StagingTables(), 0);

  auto conn = PgConnection::Open(db_->url());
  ASSERT_TRUE(conn);
  auto open = Session(**conn).QueryInt(
      "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> "
      "pg_backend_pid() AND state <> 'idle'");
  ASSERT_TRUE(open) << open.error().message;
  EXPECT_EQ(*open, 0) << "the store's connection was left in a transaction";
}

}  // namespace
}  // namespace tginvite::storage
