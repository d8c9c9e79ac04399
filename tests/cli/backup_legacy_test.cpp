// Whole-binary tests of `tginvite backup`, `tginvite restore` and `tginvite import-legacy`: run as
// a user would, in a temporary folder, against a worker that really runs and old-app databases
// built here.
#include <sys/stat.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>

#include "fakes/process.h"
#include "fakes/temp_dir.h"

namespace tginvite {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::ProcessResult;
using testing::TempDir;

std::string DumpOf(const std::string& path, std::string_view sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  std::string out;
  sqlite3_exec(
      db, std::string(sql).c_str(),
      [](void* sink, int n, char** values, char**) {
        auto* text = static_cast<std::string*>(sink);
        for (int i = 0; i < n; ++i)
          *text += (i ? "|" : "") + std::string(values[i] ? values[i] : "NULL");
        *text += "\n";
        return 0;
      },
      &out, nullptr);
  sqlite3_close(db);
  return out;
}

void SqlOn(const std::string& path, std::string_view sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* error = nullptr;
  EXPECT_EQ(sqlite3_exec(db, std::string(sql).c_str(), nullptr, nullptr, &error), SQLITE_OK)
      << (error ? error : "");
  sqlite3_free(error);
  sqlite3_close(db);
}

std::string Bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class BackupLegacyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* bin = std::getenv("TGINVITE_BIN");
    ASSERT_NE(bin, nullptr) << "TGINVITE_BIN is not set (run through ctest)";
    bin_ = bin;
    db_path_ = dir_.File("t.db");
  }

  testing::ProcessOptions Options(std::map<std::string, std::string> env = {}) {
    env.emplace("TGINVITE_DB", "sqlite:" + db_path_);
    testing::ProcessOptions options;
    options.cwd = dir_.path().string();
    options.env = std::move(env);
    return options;
  }
  ProcessResult Run(std::vector<std::string> args, std::map<std::string, std::string> env = {}) {
    args.insert(args.begin(), bin_);
    return testing::RunProcess(args, Options(std::move(env)));
  }
  ProcessResult Ok(std::vector<std::string> args) {
    ProcessResult r = Run(args);
    EXPECT_EQ(r.exit_code, 0) << "stdout: " << r.out << "\nstderr: " << r.err;
    return r;
  }
  std::string Write(std::string_view name, std::string_view contents) {
    std::string path = dir_.File(name);
    std::ofstream(path, std::ios::binary) << contents;
    return path;
  }
  std::string Dump(std::string_view sql) { return DumpOf(db_path_, sql); }

  // A rehearsal campaign with `contacts` contacts queued, paced to send as fast as allowed.
  void CreateCampaign(int contacts) {
    Ok({"init"});
    Ok({"account", "add", "demo"});
    Write("t.html", "Hello {first_name}: {link}");
    Ok({"campaign", "create", "spring", "--account", "demo", "--chat", "-1001234567890",
        "--template-file", "t.html"});
    for (auto [key, value] : {std::pair{"pacing.batch_size", "0"},
                              {"pacing.delay_min", "0s"},
                              {"pacing.delay_max", "0s"}}) {
      Ok({"settings", "set", key, value});
    }
    std::string csv = "telegram_user_id,first_name\n";
    for (int i = 1; i <= contacts; ++i) csv += std::to_string(1000 + i) + ",User\n";
    Write("c.csv", csv);
    if (contacts > 0) Ok({"import", "c.csv", "--campaign", "spring"});
  }

  // `tginvite run` in the background, once its heartbeat is in the database and it has sent.
  std::unique_ptr<testing::ChildProcess> StartWorker() {
    Ok({"campaign", "start", "spring"});
    auto worker = std::make_unique<testing::ChildProcess>(
        std::vector<std::string>{bin_, "run"}, Options(), dir_.File("worker.log"));
    EXPECT_TRUE(testing::WaitFor(
        [&] {
          return Dump("SELECT count(*) FROM workers WHERE stopped_at IS NULL") == "1\n" &&
                 Dump("SELECT count(*) > 0 FROM invitations WHERE state = 'sent'") == "1\n";
        },
        std::chrono::seconds(20)))
        << Bytes(dir_.File("worker.log"));
    return worker;
  }

  TempDir dir_;
  std::string bin_;
  std::string db_path_;
};

TEST_F(BackupLegacyTest, ABackupTakenWhileTheWorkerWritesOpensAndPassesIntegrityCheck) {
  CreateCampaign(400);
  auto worker = StartWorker();
  ProcessResult r = Run({"backup", "--out", "b.db"});
  worker->Signal(SIGTERM);
  EXPECT_EQ(worker->Wait(std::chrono::seconds(20)), 0);

  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("integrity_check: ok"));
  EXPECT_THAT(r.out, HasSubstr("the secret key is NOT in the backup"));
  EXPECT_THAT(r.out, HasSubstr("./data/secret.key"));
  const std::string backup = dir_.File("b.db");
  struct stat st {};
  ASSERT_EQ(stat(backup.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(DumpOf(backup, "PRAGMA integrity_check"), "ok\n");
  // Every contact and invitation is in the copy, whatever state each was in at that moment.
  EXPECT_EQ(DumpOf(backup, "SELECT count(*) FROM contacts"), "400\n");
  EXPECT_EQ(DumpOf(backup, "SELECT count(*) FROM invitations"), "400\n");
  EXPECT_EQ(DumpOf(backup, "SELECT sum(n) FROM invitation_counts"), "400\n");
  // The key is not in it: the key file's text appears nowhere in the copy.
  std::string key = Bytes(dir_.File("data/secret.key"));
  key = key.substr(0, 64);
  ASSERT_EQ(key.size(), 64u);
  EXPECT_THAT(Bytes(backup), Not(HasSubstr(key)));
}

TEST_F(BackupLegacyTest, ABackupNeverReplacesAFileWithoutForce) {
  CreateCampaign(3);
  Write("b.db", "precious");
  ProcessResult r = Run({"backup", "--out", "b.db"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("exists (--force replaces it)"));
  EXPECT_EQ(Bytes(dir_.File("b.db")), "precious");
  Ok({"backup", "--out", "b.db", "--force"});
  EXPECT_EQ(DumpOf(dir_.File("b.db"), "SELECT count(*) FROM contacts"), "3\n");
}

TEST_F(BackupLegacyTest, OnPostgresBackupPrintsThePgDumpCommandWithoutThePassword) {
  ProcessResult r = Run({"backup", "--out", "x.dump"},
                        {{"TGINVITE_DB", "postgresql://tg:hunter2secret@127.0.0.1:1/tginvite"}});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("pg_dump --format=custom --file='x.dump' "
                               "'postgresql://tg:***@127.0.0.1:1/tginvite'"));
  EXPECT_THAT(r.out, HasSubstr("pg_restore"));
  EXPECT_THAT(r.out, HasSubstr("the secret key is NOT in the dump"));
  EXPECT_THAT(r.out + r.err, Not(HasSubstr("hunter2secret")));
  EXPECT_FALSE(std::filesystem::exists(dir_.File("x.dump")));
}

TEST_F(BackupLegacyTest, RestoreIsRefusedWhileAWorkerUsesTheDatabase) {
  CreateCampaign(50);
  Ok({"backup", "--out", "b.db"});
  auto worker = StartWorker();
  ProcessResult r = Run({"restore", "b.db"});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_THAT(r.err, HasSubstr("is in use"));
  EXPECT_FALSE(std::filesystem::exists(db_path_ + ".before-restore"));
  worker->Signal(SIGTERM);
  EXPECT_EQ(worker->Wait(std::chrono::seconds(20)), 0);

  // A worker that beat a moment ago and never said it stopped (on another mount, or killed just
  // now) is taken to be using it too, although no process has the file open.
  SqlOn(db_path_, "INSERT INTO workers (id, host, pid, started_at, heartbeat_at, health) VALUES "
                  "('w-elsewhere', 'box2', 4242, " +
                      std::to_string(NowMs() - 5000) + ", " + std::to_string(NowMs() - 1000) +
                      ", 'ok')");
  r = Run({"restore", "b.db"});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_THAT(r.err, HasSubstr("worker w-elsewhere on box2 (pid 4242)"));
  EXPECT_FALSE(std::filesystem::exists(db_path_ + ".before-restore"));

  // Once it has stopped, the restore goes ahead.
  SqlOn(db_path_, "UPDATE workers SET stopped_at = heartbeat_at");
  Ok({"restore", "b.db"});
}

TEST_F(BackupLegacyTest, RestoreRefusesAFileThatIsNotATginviteDatabase) {
  CreateCampaign(3);
  const std::string before = Dump("SELECT count(*) FROM contacts");
  Write("notes.txt", "these are not the droids\n");
  ProcessResult r = Run({"restore", "notes.txt"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("not a SQLite database"));
  SqlOn(dir_.File("other.db"), "CREATE TABLE contacts (id INTEGER PRIMARY KEY, name TEXT)");
  r = Run({"restore", "other.db"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("not a tginvite database"));
  // A database from a newer tginvite.
  Ok({"backup", "--out", "b.db"});
  SqlOn(dir_.File("b.db"), "INSERT INTO schema_version (version, name, applied_at) VALUES (9999, 'future', 0)");
  r = Run({"restore", "b.db"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("newer than this tginvite"));
  r = Run({"restore", "missing.db"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(Dump("SELECT count(*) FROM contacts"), before);
  EXPECT_FALSE(std::filesystem::exists(db_path_ + ".before-restore"));
}

TEST_F(BackupLegacyTest, RestoreKeepsTheReplacedDatabase) {
  CreateCampaign(3);
  Ok({"backup", "--out", "b.db"});
  Write("more.csv", "telegram_user_id\n5001\n5002\n");
  Ok({"import", "more.csv"});
  ASSERT_EQ(Dump("SELECT count(*) FROM contacts"), "5\n");
  ProcessResult r = Ok({"restore", "b.db"});
  EXPECT_THAT(r.out, HasSubstr("kept as " + db_path_ + ".before-restore"));
  EXPECT_THAT(r.out, HasSubstr("the secret key is NOT in the backup"));
  EXPECT_EQ(Dump("SELECT count(*) FROM contacts"), "3\n");
  const std::string kept = db_path_ + ".before-restore";
  EXPECT_EQ(DumpOf(kept, "SELECT count(*) FROM contacts"), "5\n");
  EXPECT_EQ(DumpOf(kept, "PRAGMA integrity_check"), "ok\n");
  struct stat st {};
  ASSERT_EQ(stat(kept.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // The restored database is a working one.
  r = Ok({"status"});
  EXPECT_THAT(r.out, HasSubstr("3 contacts"));
}

// --- import-legacy

// The old app's schema as Flask-SQLAlchemy made it, with the half-broken rows a long life leaves.
void BuildHalfBrokenOldDatabase(const std::string& path) {
  SqlOn(path, R"sql(
CREATE TABLE contacts (id INTEGER PRIMARY KEY, telegram_id INTEGER, username VARCHAR(64),
  first_name VARCHAR(64), last_name VARCHAR(64), phone VARCHAR(32), invitation_sent BOOLEAN,
  created_at DATETIME);
CREATE TABLE invitation_logs (id INTEGER PRIMARY KEY, contact_id INTEGER UNIQUE, status VARCHAR(20),
  error_message TEXT, created_at DATETIME, updated_at DATETIME);
CREATE TABLE app_config (id INTEGER PRIMARY KEY, key VARCHAR(64) UNIQUE, value TEXT);
INSERT INTO contacts VALUES (1, 1001, 'alice_one', 'Alice', 'A', NULL, 1, '2024-03-01 09:00:00');
INSERT INTO contacts VALUES (2, 1002, NULL, 'Bob', NULL, NULL, 0, NULL);
INSERT INTO contacts VALUES (3, 1003, NULL, 'Carol', NULL, NULL, 1, NULL);
INSERT INTO contacts VALUES (4, 1004, NULL, 'Dan', NULL, NULL, 0, NULL);
INSERT INTO contacts VALUES (5, 'garbage', NULL, 'Eve', NULL, NULL, 0, NULL);
INSERT INTO contacts VALUES (6, 1006, NULL, 'Fay', NULL, NULL, 0, NULL);
INSERT INTO contacts VALUES (7, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
INSERT INTO contacts VALUES (8, 1008, NULL, 'Gus', NULL, '+49 30 1234567', 'maybe', NULL);
INSERT INTO contacts VALUES (9, 1009, NULL, 'Hal', NULL, NULL, 0, NULL);
INSERT INTO invitation_logs VALUES (1, 1, 'sent', NULL, '2024-03-01 10:00:00.123456', NULL);
INSERT INTO invitation_logs VALUES (2, 4, 'failed', 'Forbidden: bot was blocked by the user',
  '2024-03-01 10:05:00', NULL);
INSERT INTO invitation_logs VALUES (3, 6, 'exploded', NULL, NULL, NULL);
INSERT INTO invitation_logs VALUES (4, 99, 'sent', NULL, NULL, NULL);
INSERT INTO invitation_logs VALUES (5, 9, 'pending', NULL, NULL, NULL);
INSERT INTO app_config (key, value) VALUES ('batch_size', '10'), ('cycle_interval', '300'),
  ('min_delay', 'lots'), ('max_delay', '200'), ('bot_token', '123456:SECRETSECRETSECRET');
)sql");
}

TEST_F(BackupLegacyTest, ImportLegacyRecordsWhatTheOldAppDidAndQueuesOnlyTheRest) {
  CreateCampaign(0);
  const std::string old = dir_.File("old.db");
  BuildHalfBrokenOldDatabase(old);
  const std::string old_bytes = Bytes(old);

  // The dry run says what would happen and writes nothing.
  ProcessResult dry = Ok({"import-legacy", "old.db", "--campaign", "spring", "--dry-run"});
  EXPECT_THAT(dry.out, HasSubstr("messaged by the old app: 2 sent, 1 failed, 2 unknown"));
  EXPECT_THAT(dry.out, HasSubstr("dry run, nothing was written"));
  EXPECT_EQ(Dump("SELECT count(*) FROM contacts"), "0\n");
  EXPECT_EQ(Dump("SELECT count(*) FROM invitations"), "0\n");
  EXPECT_EQ(Dump("SELECT count(*) FROM settings"), "3\n");  // CreateCampaign's global three

  ProcessResult r = Ok({"import-legacy", "old.db", "--campaign", "spring"});
  // Per-row reports.
  EXPECT_THAT(r.out, HasSubstr("contact id 3: invitation_sent but no log; recorded as sent"));
  EXPECT_THAT(r.out, HasSubstr("contact id 5: telegram_user_id: "));
  EXPECT_THAT(r.out, HasSubstr("contact id 6: log status \"exploded\" not understood"));
  EXPECT_THAT(r.out, HasSubstr("contact id 7: no telegram_user_id, username or phone"));
  EXPECT_THAT(r.out, HasSubstr("contact id 8: invitation_sent \"maybe\" is neither"));
  EXPECT_THAT(r.out, HasSubstr("invitation_logs row 4: contact_id 99 is no contact; ignored"));
  EXPECT_THAT(r.out, HasSubstr("contacts.created_at: not a column tginvite knows"));
  EXPECT_THAT(r.out, HasSubstr("app_config min_delay = \"lots\": not a valid pacing.delay_min"));
  EXPECT_THAT(r.out, HasSubstr("app_config bot_token: not a pacing setting; ignored"));
  EXPECT_THAT(r.out + r.err, Not(HasSubstr("SECRETSECRET")));

  const std::string invitations = Dump(
      "SELECT c.telegram_user_id, i.state, i.last_error FROM invitations i "
      "JOIN contacts c ON c.id = i.contact_id ORDER BY 1");
  EXPECT_EQ(invitations,
            "1001|sent|NULL\n"
            "1002|pending|NULL\n"
            "1003|sent|NULL\n"
            "1004|failed|old app: Forbidden: bot was blocked by the user\n"
            "1006|unknown|old app: status \"exploded\"\n"
            "1008|unknown|old app: invitation_sent unclear\n"
            "1009|pending|NULL\n");
  EXPECT_EQ(Dump("SELECT i.sent_at FROM invitations i JOIN contacts c ON c.id = i.contact_id "
                 "WHERE c.telegram_user_id = 1001"),
            "1709287200000\n");
  EXPECT_EQ(Dump("SELECT c.telegram_user_id, a.worker, a.request, a.outcome FROM attempts a "
                 "JOIN invitations i ON i.id = a.invitation_id "
                 "JOIN contacts c ON c.id = i.contact_id ORDER BY 1"),
            "1001|old app|legacy|ok\n"
            "1003|old app|legacy|ok\n"
            "1004|old app|legacy|permanent\n"
            "1006|old app|legacy|ambiguous\n"
            "1008|old app|legacy|ambiguous\n");
  EXPECT_EQ(Dump("SELECT phone FROM contacts WHERE telegram_user_id = 1008"), "+49301234567\n");
  EXPECT_EQ(Dump("SELECT s.key, s.value FROM settings s JOIN campaigns c ON c.id = s.scope "
                 "ORDER BY 1"),
            "pacing.batch_size|10\npacing.cycle_interval|5m\npacing.delay_max|200s\n");

  // Again: nothing changes, nobody becomes pending twice, nobody already messaged is pending.
  const std::string attempts = Dump("SELECT count(*) FROM attempts");
  ProcessResult again = Ok({"import-legacy", "old.db", "--campaign", "spring"});
  EXPECT_THAT(again.out, HasSubstr("0 recorded, 0 replaced a queued invitation, 5 already there"));
  EXPECT_THAT(again.out, HasSubstr("0 invitations queued"));
  EXPECT_EQ(Dump("SELECT c.telegram_user_id, i.state, i.last_error FROM invitations i "
                 "JOIN contacts c ON c.id = i.contact_id ORDER BY 1"),
            invitations);
  EXPECT_EQ(Dump("SELECT count(*) FROM attempts"), attempts);
  // The old database was only read.
  EXPECT_EQ(Bytes(old), old_bytes);
}

TEST_F(BackupLegacyTest, ImportLegacyMapsColumnsByTheirOtherNames) {
  CreateCampaign(0);
  SqlOn(dir_.File("old.db"), R"sql(
CREATE TABLE Contacts (ID INTEGER PRIMARY KEY, User_ID REAL, user_name TEXT, FirstName TEXT,
  Surname TEXT, Phone_Number TEXT, Invited TEXT, notes TEXT);
CREATE TABLE invitation_log (contact_id TEXT, state TEXT, error TEXT, sent_at INTEGER);
CREATE TABLE AppConfig (config_key TEXT, config_value TEXT);
INSERT INTO Contacts VALUES (10, 2001.0, 'first_user', 'Ann', 'Lee', NULL, 'true', 'vip');
INSERT INTO Contacts VALUES (11, NULL, 'second_user', 'Ben', NULL, '+4930123456', 'false', NULL);
INSERT INTO Contacts VALUES (12, 2003, NULL, 'Cy', NULL, NULL, 'no', NULL);
INSERT INTO invitation_log VALUES ('12', 'SUCCESS', NULL, 1709287200);
INSERT INTO AppConfig VALUES ('MIN_DELAY', '200'), ('max_delay', '100'), ('batch_size', '-3');
)sql");
  ProcessResult r = Ok({"import-legacy", "old.db", "--campaign", "spring"});
  EXPECT_THAT(r.out, HasSubstr("Contacts.notes: not a column tginvite knows"));
  EXPECT_THAT(r.out, HasSubstr("pacing.delay_min (200s) must not exceed pacing.delay_max"));
  EXPECT_THAT(r.out, HasSubstr("app_config batch_size = \"-3\": not a valid pacing.batch_size"));
  EXPECT_EQ(Dump("SELECT c.telegram_user_id, c.username, c.first_name, c.last_name, c.phone, "
                 "i.state, i.sent_at FROM invitations i JOIN contacts c ON c.id = i.contact_id "
                 "ORDER BY i.id"),
            "2001|first_user|Ann|Lee|NULL|sent|NULL\n"
            "2003|NULL|Cy||NULL|sent|1709287200000\n"
            "NULL|second_user|Ben||+4930123456|awaiting_start|NULL\n");
  EXPECT_EQ(Dump("SELECT count(*) FROM settings s JOIN campaigns c ON c.id = s.scope"), "0\n");
}

TEST_F(BackupLegacyTest, ImportLegacySurvivesHostileInput) {
  CreateCampaign(0);
  // Wrong types, NULLs, a huge value, a blob, a log without its contact id, a NULL config value.
  SqlOn(dir_.File("old.db"), R"sql(
CREATE TABLE contacts (id, telegram_user_id, username, first_name, invitation_sent);
CREATE TABLE invitation_logs (contact_id, status, error_message);
CREATE TABLE app_config (key, value);
INSERT INTO contacts VALUES (1, 3001, NULL, x'00ff00ff', 0);
INSERT INTO contacts VALUES (2, 99999999999999999999999, NULL, 'Big', 0);
INSERT INTO contacts VALUES (3, -5, NULL, 'Neg', 1);
INSERT INTO contacts VALUES ('x', 3004, NULL, 'Text id', 2.5);
INSERT INTO contacts VALUES (NULL, 3005, NULL, NULL, NULL);
INSERT INTO contacts VALUES (6, 3006, NULL, 'Long', 1);
INSERT INTO invitation_logs VALUES (NULL, 'sent', NULL);
INSERT INTO invitation_logs VALUES (6, 'failed', NULL);
INSERT INTO app_config VALUES ('batch_size', NULL), (NULL, NULL), ('cycle_interval', x'00');
)sql");
  SqlOn(dir_.File("old.db"),
        "UPDATE contacts SET username = printf('%.*c', 2000000, 'a') WHERE id = 6");
  ProcessResult r = Run({"import-legacy", "old.db", "--campaign", "spring"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("invitation_logs row 1: no contact_id; ignored"));
  EXPECT_THAT(r.out, HasSubstr("contact id 2: telegram_user_id"));
  EXPECT_THAT(r.out, HasSubstr("contact id 3: telegram_user_id"));
  EXPECT_THAT(r.out, HasSubstr("contact id 6: username"));
  // 3001 lost its unreadable name, 3005 had no id column value, 3004 an unclear flag.
  EXPECT_EQ(Dump("SELECT c.telegram_user_id, c.first_name, i.state FROM invitations i "
                 "JOIN contacts c ON c.id = i.contact_id ORDER BY 1"),
            "3001||pending\n3004|Text id|unknown\n3005||pending\n");
}

TEST_F(BackupLegacyTest, ImportLegacyRefusesWhatIsNotTheOldAppsDatabase) {
  CreateCampaign(0);
  SqlOn(dir_.File("other.db"), "CREATE TABLE users (id INTEGER)");
  ProcessResult r = Run({"import-legacy", "other.db", "--campaign", "spring"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("no contacts table"));
  Write("junk.db", std::string(5000, 'x'));
  r = Run({"import-legacy", "junk.db", "--campaign", "spring"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("not a SQLite database"));
  r = Run({"import-legacy", "missing.db", "--campaign", "spring"});
  EXPECT_EQ(r.exit_code, 2);
  r = Run({"import-legacy", "other.db", "--campaign", "nope"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("no campaign named \"nope\""));
}

}  // namespace
}  // namespace tginvite
