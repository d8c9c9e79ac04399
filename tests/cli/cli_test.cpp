// Whole-binary tests: run `tginvite` as a user would, in a temporary folder, and check what it
// prints, what it exits with and what it leaves in the database.
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <pwd.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fakes/bot_api_double.h"
#include "fakes/process.h"
#include "fakes/raw_http.h"
#include "fakes/temp_dir.h"

namespace tginvite {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::ProcessResult;
using testing::TempDir;

// Test tokens have the shape of real ones but belong to no bot.
constexpr std::string_view kToken = "123456789:AAFakeTestTokenNeverValid_abcdefghijkl";

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* bin = std::getenv("TGINVITE_BIN");
    ASSERT_NE(bin, nullptr) << "TGINVITE_BIN is not set (run through ctest)";
    bin_ = bin;
    db_path_ = dir_.File("t.db");
  }

  ProcessResult Run(std::vector<std::string> args, std::map<std::string, std::string> env = {}) {
    args.insert(args.begin(), bin_);
    env.emplace("TGINVITE_DB", "sqlite:" + db_path_);
    testing::ProcessOptions options;
    options.cwd = dir_.path().string();
    options.env = std::move(env);
    return testing::RunProcess(args, options);
  }

  // Runs a command that must succeed.
  ProcessResult Ok(std::vector<std::string> args, std::map<std::string, std::string> env = {}) {
    ProcessResult r = Run(args, env);
    EXPECT_EQ(r.exit_code, 0) << "stdout: " << r.out << "\nstderr: " << r.err;
    return r;
  }

  std::string Write(std::string_view name, std::string_view contents) {
    std::string path = dir_.File(name);
    std::ofstream(path, std::ios::binary) << contents;
    return path;
  }

  // Every row of a query, one line per row, columns separated by '|'.
  std::string Dump(std::string_view sql) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2(db_path_.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
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

  void Sql(std::string_view sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(db_path_.c_str(), &db), SQLITE_OK);
    char* error = nullptr;
    EXPECT_EQ(sqlite3_exec(db, std::string(sql).c_str(), nullptr, nullptr, &error), SQLITE_OK)
        << (error ? error : "");
    sqlite3_free(error);
    sqlite3_close(db);
  }

  void CreateRehearsalCampaign(std::string name = "spring") {
    Ok({"init"});
    Ok({"account", "add", "demo"});
    Write("t.html", "Hello {first_name}, join <b>{campaign}</b>: {link}");
    Ok({"campaign", "create", name, "--account", "demo", "--chat", "-1001234567890",
        "--template-file", "t.html"});
  }

  TempDir dir_;
  std::string bin_;
  std::string db_path_;
};

// Every bad row we could think of, with the line each starts on. Rows 2, 7-8, 12, 13 and 19 are
// good; row 9 repeats row 2.
std::string BadRowsCsv() {
  std::string csv;
  csv += "telegram_user_id,username,first_name,last_name,phone,email\n";  // 1: email is unknown
  csv += "1001,@Anna_S,Anna,Schmidt,+49 30 1234567,anna@example.org\n";   // 2
  csv += ",,Nobody,,,\n";                                                 // 3: no identity
  csv += "abc,,Bad,Id,,\n";                                               // 4: non-numeric id
  csv += "-5,,Negative,,,\n";                                             // 5: negative id
  csv += "99999999999999999999,,Huge,,,\n";                               // 6: overflows int64
  csv += "1002,bob_b,Bob,\"Multi\nLine\",,\n";                            // 7-8: quoted newline
  csv += "1001,anna_s,Anna,Schmidt,,\n";                                  // 9: duplicate of 2
  csv += "1003,," + std::string(65, 'X') + ",,,\n";                       // 10: overlong name
  csv += "1004,,Caf\xc3,,,\n";                                            // 11: invalid UTF-8
  csv += "1005,,\"=HYPERLINK(\"\"http://evil.example\"\",\"\"click\"\")\",,,\n";  // 12: formula
  csv += "1006,,<img src=x onerror=alert(1)>,,,\n";  // 13: HTML as a name
  csv += "1007,,Extra,Field,,,\n";                   // 14: 7 fields
  csv += "1008,ab,Short,,,\n";                       // 15: bad username
  csv += "1009,,Phone,,12345,\n";                    // 16: no country code
  csv += "1010,x\"y,Stray,,,\n";                     // 17: stray quote
  csv += "1011,anna_s,Eve,,,\n";                     // 18: anna's username
  csv += "1012,,Carriage,Return,,\r\n";              // 19: CRLF
  csv += "1013,,\"Unterminated,,,\n";                // 20: open quote at EOF
  return csv;
}

constexpr std::string_view kBadRowsReport =
    "import bad.csv: line 3: no telegram_user_id, username or phone\n"
    "import bad.csv: line 4: telegram_user_id: not a positive integer\n"
    "import bad.csv: line 5: telegram_user_id: not a positive integer\n"
    "import bad.csv: line 6: telegram_user_id: too large for a user id\n"
    "import bad.csv: line 10: first_name: longer than 64 characters\n"
    "import bad.csv: line 11: first_name: not valid UTF-8\n"
    "import bad.csv: line 14: expected 6 fields, found 7\n"
    "import bad.csv: line 15: username: not a valid username\n"
    "import bad.csv: line 16: phone: needs a country code (+...)\n"
    "import bad.csv: line 17: stray quote in unquoted field\n"
    "import bad.csv: line 18: username @anna_s belongs to another contact\n"
    "import bad.csv: line 20: unterminated quoted field\n";

// Invariant I8 (docs/invariants.md)
TEST_F(CliTest, BadRowsAreReportedWithLineNumbersAndGoodRowsImported) {
  Ok({"init"});
  Write("bad.csv", BadRowsCsv());
  ProcessResult r = Run({"import", "bad.csv"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, std::string(kBadRowsReport) +
                       "import bad.csv: 5 imported, 0 updated, 1 duplicates, 12 rejected\n");
  EXPECT_EQ(r.err, "import bad.csv: warning: column \"email\" is not known and is ignored\n");
  EXPECT_EQ(Dump("SELECT telegram_user_id, username, first_name, last_name, phone FROM contacts "
                 "ORDER BY telegram_user_id"),
            "1001|anna_s|Anna|Schmidt|+49301234567\n"
            "1002|bob_b|Bob|Multi Line|NULL\n"
            "1005|NULL|=HYPERLINK(\"http://evil.example\",\"click\")||NULL\n"
            "1006|NULL|<img src=x onerror=alert(1)>||NULL\n"
            "1012|NULL|Carriage|Return|NULL\n");
}

// Invariant I1 (docs/invariants.md)
TEST_F(CliTest, ImportingTheSameFileTwiceChangesNothing) {
  CreateRehearsalCampaign();
  Write("bad.csv", BadRowsCsv());
  Ok({"import", "bad.csv", "--campaign", "spring"});
  const std::string everything =
      "SELECT * FROM contacts ORDER BY id; SELECT * FROM invitations ORDER BY id; "
      "SELECT * FROM invitation_counts ORDER BY campaign_id, state";
  std::string before = Dump(everything);
  ProcessResult again = Ok({"import", "bad.csv", "--campaign", "spring"});
  EXPECT_EQ(again.out, std::string(kBadRowsReport) +
                           "import bad.csv: 0 imported, 0 updated, 6 duplicates, 12 rejected\n"
                           "campaign spring: 0 invitations queued, 0 skipped (suppressed)\n");
  EXPECT_EQ(Dump(everything), before);
}

// Issue 14: a file with two differing rows for one contact (the same user id, a changed name) was
// reported `1 updated` and rewrote the contact's updated_at on every import of it. The later row
// wins within the file, and only then is the contact compared with what is stored.
TEST_F(CliTest, ReimportingAFileThatChangesAContactMidwayChangesNothing) {
  CreateRehearsalCampaign();
  Write("twice.csv",
        "telegram_user_id,username,first_name,last_name,phone\n"
        "501,anna_k,Anna,Klein,\n"
        "502,,Bob,,\n"
        "501,anna_k,Anne,Klein,+49 30 1234567\n");
  ProcessResult first = Ok({"import", "twice.csv", "--campaign", "spring"});
  EXPECT_EQ(first.out,
            "import twice.csv: 2 imported, 1 updated, 0 duplicates, 0 rejected\n"
            "campaign spring: 2 invitations queued, 0 skipped (suppressed)\n");
  const std::string everything =
      "SELECT * FROM contacts ORDER BY id; SELECT * FROM invitations ORDER BY id; "
      "SELECT * FROM invitation_counts ORDER BY campaign_id, state";
  const std::string before = Dump(everything);
  EXPECT_THAT(before, HasSubstr("501|anna_k|+49301234567|Anne|Klein|"));
  // A rewrite within the same millisecond would leave updated_at as it was: wait for the next.
  const int64_t stamped = std::stoll(Dump("SELECT MAX(updated_at) FROM contacts"));
  while (std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
             .count() <= stamped) {
    std::this_thread::yield();
  }
  for (int i = 0; i < 2; ++i) {
    ProcessResult again = Ok({"import", "twice.csv", "--campaign", "spring"});
    EXPECT_EQ(again.out,
              "import twice.csv: 0 imported, 0 updated, 3 duplicates, 0 rejected\n"
              "campaign spring: 0 invitations queued, 0 skipped (suppressed)\n");
    EXPECT_EQ(Dump(everything), before);
  }
}

// Invariant I8 (docs/invariants.md)
TEST_F(CliTest, StrictImportsNothingWhenARowIsBad) {
  Ok({"init"});
  Write("bad.csv", BadRowsCsv());
  ProcessResult r = Run({"import", "bad.csv", "--strict"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.out, HasSubstr("--strict and 12 rows rejected: nothing was imported"));
  EXPECT_EQ(Dump("SELECT COUNT(*) FROM contacts"), "0\n");

  Write("good.csv", "telegram_user_id,first_name\n1,A\n2,B\n");
  Ok({"import", "good.csv", "--strict"});
  EXPECT_EQ(Dump("SELECT COUNT(*) FROM contacts"), "2\n");
}

// Invariant I8 (docs/invariants.md)
TEST_F(CliTest, DryRunReportsButWritesNothing) {
  CreateRehearsalCampaign();
  Write("bad.csv", BadRowsCsv());
  ProcessResult r = Ok({"import", "bad.csv", "--campaign", "spring", "--dry-run"});
  EXPECT_THAT(r.out, HasSubstr("5 imported, 0 updated, 1 duplicates, 12 rejected"));
  EXPECT_THAT(r.out, HasSubstr("dry run, nothing was written"));
  EXPECT_EQ(Dump("SELECT COUNT(*) FROM contacts; SELECT COUNT(*) FROM invitations"), "0\n0\n");
}

// Invariant I8 (docs/invariants.md)
TEST_F(CliTest, ImportWithNothingValidExitsTwo) {
  Ok({"init"});
  Write("none.csv", "telegram_user_id\nabc\n");
  ProcessResult r = Run({"import", "none.csv"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("no valid rows"));

  Write("noid.csv", "first_name,last_name\nA,B\n");
  r = Run({"import", "noid.csv"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("needs at least one of telegram_user_id, username, phone"));

  r = Run({"import", "missing.csv"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("missing.csv"));

  Write("empty.csv", "");
  r = Run({"import", "empty.csv"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("empty"));
}

TEST_F(CliTest, VersionNamesTheTdLibItFoundOrWhyNone) {
  ProcessResult r = Ok({"--version"});
  EXPECT_THAT(r.out, HasSubstr("tginvite 0.1.0"));
  EXPECT_THAT(r.out, ::testing::AnyOf(HasSubstr("TDLib 1.8.67 ("), HasSubstr("TDLib: not found (")));
  r = Ok({"--version"}, {{"TGINVITE_TDJSON", dir_.File("nowhere/libtdjson.so")}});
  EXPECT_THAT(r.out, HasSubstr("TDLib: not found ("));
  EXPECT_THAT(r.out, HasSubstr("nowhere/libtdjson.so: no such file"));
  Write("libtdjson.so", "not a library");
  r = Ok({"--version"}, {{"TGINVITE_TDJSON", dir_.File("libtdjson.so")}});
  EXPECT_THAT(r.out, HasSubstr("TDLib: not found ("));
}

TEST_F(CliTest, AMistypedCommandIsNamed) {
  ProcessResult r = Run({"frobnicate"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("unknown command 'frobnicate'"));
  // An option's value is not taken for a command.
  r = Run({"--db", "sqlite:elsewhere.db", "campaign", "strat", "x"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("unknown command 'strat' for 'campaign'"));
  r = Run({"campaign"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("A subcommand is required"));
}

TEST_F(CliTest, ImportNormalisesPhonesWithARegionAndBom) {
  Ok({"init"});
  Write("de.csv", "\xEF\xBB\xBFphone,first_name\r\n030 1234567,Berlin\r\n");
  ProcessResult r = Ok({"import", "de.csv", "--region", "DE"});
  EXPECT_THAT(r.out, HasSubstr("1 imported"));
  EXPECT_EQ(Dump("SELECT phone, first_name FROM contacts"), "+49301234567|Berlin\n");
}

// Invariant I13 (docs/invariants.md)
TEST_F(CliTest, ImportQueuesInvitationsAndSkipsSuppressedUsers) {
  CreateRehearsalCampaign();
  Ok({"suppress", "add", "@Bob_B", "--reason", "asked us"});
  Write("c.csv", "telegram_user_id,username\n1,anna_s\n2,bob_b\n");
  ProcessResult r = Ok({"import", "c.csv", "--campaign", "spring"});
  EXPECT_THAT(r.out, HasSubstr("campaign spring: 1 invitations queued, 1 skipped (suppressed)"));
  ProcessResult status = Ok({"status", "--json"});
  auto json = nlohmann::json::parse(status.out);
  EXPECT_EQ(json["campaigns"][0]["counts"]["pending"], 1);
  EXPECT_EQ(json["campaigns"][0]["counts"]["skipped"], 1);
}

TEST_F(CliTest, ARevokedStartLinkIsReplacedInTheExport) {
  CreateRehearsalCampaign();  // reach both, the default
  Write("c.csv", "username,first_name\nann_a,Ann\n");
  ProcessResult imported = Ok({"import", "c.csv", "--campaign", "spring"});
  EXPECT_THAT(imported.out, HasSubstr("1 of them awaiting start"));
  auto link_of = [this] {
    const std::string csv = Ok({"export", "spring", "--out", "-"}).out;
    return csv.substr(csv.rfind(',') + 1, csv.find("\r\n", csv.rfind(',')) - csv.rfind(',') - 1);
  };
  const std::string before = link_of();
  EXPECT_THAT(before, ::testing::StartsWith("https://t.me/rehearsal_bot?start="));
  ProcessResult revoked = Ok({"campaign", "revoke-link", "spring", "username:ann_a"});
  const std::string after = link_of();
  EXPECT_NE(after, before);
  EXPECT_THAT(revoked.out, HasSubstr(after));
  ProcessResult bad = Run({"campaign", "revoke-link", "spring", "ann"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.err, HasSubstr("contact key \"ann\" is not id:N, username:NAME or phone:+E164"));
}

// Invariant I5 (docs/invariants.md)
TEST_F(CliTest, GarbageSettingsEditedByHandNeverCrash) {
  Ok({"init"});
  Sql("INSERT INTO settings (scope, key, value, updated_at) VALUES "
      "(0, 'pacing.batch_size', 'lots', 0), (0, 'dispatch.lease', '-3 parsecs', 0), "
      "(0, 'no.such.key', 'x', 0), (0, 'window.tz', 'Mars/Olympus_Mons', 0)");
  ProcessResult status = Run({"status"});
  EXPECT_EQ(status.exit_code, 0) << status.err;
  EXPECT_THAT(status.err, HasSubstr("pacing.batch_size"));
  EXPECT_THAT(status.err, HasSubstr("dispatch.lease"));

  ProcessResult json = Run({"status", "--json"});
  EXPECT_EQ(json.exit_code, 0);
  EXPECT_NO_THROW(nlohmann::json::parse(json.out));

  ProcessResult list = Run({"settings", "list"});
  EXPECT_EQ(list.exit_code, 0) << list.err;
  EXPECT_THAT(list.out, HasSubstr("pacing.batch_size"));
  EXPECT_THAT(list.out, HasSubstr("default (stored value invalid)"));
  // One warning per bad stored value, not one per mention.
  size_t mentions = 0;
  for (size_t at = 0; (at = list.err.find("pacing.batch_size", at)) != std::string::npos; ++at) {
    ++mentions;
  }
  EXPECT_EQ(mentions, 1u) << list.err;

  ProcessResult get = Ok({"settings", "get", "pacing.batch_size"});
  EXPECT_EQ(get.out, "5\n");
}

// Invariant I5 (docs/invariants.md)
TEST_F(CliTest, SettingsAreValidatedOnWrite) {
  Ok({"init"});
  ProcessResult bad = Run({"settings", "set", "pacing.batch_size", "-1"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.err, HasSubstr("pacing.batch_size"));
  EXPECT_THAT(bad.err, HasSubstr("0..10000"));

  ProcessResult unknown = Run({"settings", "set", "pacing.speed", "1"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_THAT(unknown.err, HasSubstr("unknown setting"));

  ProcessResult rule = Run({"settings", "set", "pacing.delay_min", "10m"});
  EXPECT_EQ(rule.exit_code, 2);
  EXPECT_THAT(rule.err, HasSubstr("pacing.delay_max"));

  EXPECT_EQ(Ok({"settings", "set", "pacing.cycle_interval", "90s"}).out,
            "pacing.cycle_interval = 90s (global)\n");
  EXPECT_EQ(Ok({"settings", "get", "pacing.cycle_interval"}).out, "90s\n");
  EXPECT_EQ(Dump("SELECT value FROM settings WHERE key = 'pacing.cycle_interval'"), "90s\n");
}

// Invariant I7 (docs/invariants.md)
TEST_F(CliTest, ProxyPasswordsAreNeverShown) {
  Ok({"init"});
  const std::string proxy = "socks5://alice:hunter2secret@127.0.0.1:1080";
  ProcessResult set = Ok({"settings", "set", "http.proxy", proxy});
  ProcessResult get = Ok({"settings", "get", "http.proxy"});
  ProcessResult list = Ok({"settings", "list"});
  for (const ProcessResult* r : {&set, &get, &list}) {
    EXPECT_THAT(r->out + r->err, Not(HasSubstr("hunter2secret"))) << "a proxy password leaked";
  }
  EXPECT_EQ(get.out, "socks5://***@127.0.0.1:1080\n");
  EXPECT_EQ(Dump("SELECT value FROM settings WHERE key = 'http.proxy'"), proxy + "\n");
}

TEST_F(CliTest, CampaignOverridesApplyToTheirCampaignOnly) {
  CreateRehearsalCampaign();
  Ok({"settings", "set", "pacing.batch_size", "0", "--campaign", "spring"});
  EXPECT_EQ(Ok({"settings", "get", "pacing.batch_size", "--campaign", "spring"}).out, "0\n");
  EXPECT_EQ(Ok({"settings", "get", "pacing.batch_size"}).out, "5\n");
  Ok({"settings", "unset", "pacing.batch_size", "--campaign", "spring"});
  EXPECT_EQ(Ok({"settings", "get", "pacing.batch_size", "--campaign", "spring"}).out, "5\n");
}

// Invariant I7 (docs/invariants.md)
TEST_F(CliTest, BotTokenIsCheckedStoredButNeverPrinted) {
  testing::BotApiDoubleOptions options;
  options.tokens = {std::string(kToken)};
  testing::BotApiDouble telegram(options);
  Ok({"init"});
  ProcessResult added = Ok(
      {"account", "add", "main", "--bot-token-env", "MY_TOKEN", "--api-base", telegram.base_url()},
      {{"MY_TOKEN", std::string(kToken)}});
  EXPECT_THAT(added.out, HasSubstr("123456789:…ijkl"));
  EXPECT_THAT(added.out, HasSubstr("bot @"));
  EXPECT_EQ(telegram.RequestCount("getMe"), 1);
  Write("token.txt", std::string(kToken) + "\n");
  ProcessResult from_file = Ok({"account", "add", "second", "--bot-token-file", "token.txt",
                                "--api-base", telegram.base_url()});
  ProcessResult list = Ok({"account", "list"});
  ProcessResult status = Ok({"status", "--json"});
  ProcessResult check = Ok({"account", "check", "main"});
  EXPECT_THAT(check.out, HasSubstr("account main: @"));
  for (const ProcessResult* r : {&added, &from_file, &list, &status, &check}) {
    EXPECT_THAT(r->out + r->err, Not(HasSubstr("AAFakeTestTokenNeverValid"))) << "the token leaked";
  }
  const std::string stored = Dump("SELECT bot_token FROM accounts WHERE name = 'main'");
  EXPECT_THAT(stored, ::testing::StartsWith("sealed:v1:"));
  EXPECT_THAT(stored, Not(HasSubstr("AAFakeTestTokenNeverValid"))) << "stored in plaintext";

  // A well-formed token that Telegram refuses is not stored, and not shown either.
  const std::string refused = "987654321:AAAnotherTokenTheServerDoesNotKnow_xyz";
  ProcessResult wrong = Run(
      {"account", "add", "wrong", "--bot-token-env", "MY_TOKEN", "--api-base", telegram.base_url()},
      {{"MY_TOKEN", refused}});
  EXPECT_EQ(wrong.exit_code, 2);
  EXPECT_THAT(wrong.err, HasSubstr("refused the token"));
  EXPECT_THAT(wrong.out + wrong.err, Not(HasSubstr("AAAnotherTokenTheServerDoesNotKnow")));
  EXPECT_EQ(Dump("SELECT COUNT(*) FROM accounts WHERE name = 'wrong'"), "0\n");

  // Telegram out of reach: the account is added, with a warning to check it later.
  ProcessResult offline = Run({"account", "add", "offline", "--bot-token-env", "MY_TOKEN",
                               "--api-base", "http://127.0.0.1:9"},
                              {{"MY_TOKEN", std::string(kToken)}});
  EXPECT_EQ(offline.exit_code, 0) << offline.err;
  EXPECT_THAT(offline.err, HasSubstr("tginvite account check offline"));
  EXPECT_THAT(offline.out + offline.err, Not(HasSubstr("AAFakeTestTokenNeverValid")));

  ProcessResult bad = Run({"account", "add", "broken", "--bot-token-env", "MY_TOKEN"},
                          {{"MY_TOKEN", "secretish-but-malformed"}});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.err, Not(HasSubstr("secretish")));

  ProcessResult unset = Run({"account", "add", "nothing", "--bot-token-env", "UNSET_VAR_X"});
  EXPECT_EQ(unset.exit_code, 2);
  EXPECT_THAT(unset.err, HasSubstr("UNSET_VAR_X is not set"));
}

// After the secret key is lost, the old token cannot be opened; `account update` puts a new one on
// the same account, so its campaigns keep it.
TEST_F(CliTest, ALostKeysAccountGetsANewTokenInPlace) {
  // A new token of the same bot (its id, 123456789, is the tokens' prefix).
  const std::string second = "123456789:AASecondTestTokenNeverValid_abcdefghij";
  testing::BotApiDoubleOptions options;
  options.tokens = {std::string(kToken), second};
  testing::BotApiDouble telegram(options);
  Ok({"init"});
  Ok({"account", "add", "main", "--bot-token-env", "MY_TOKEN", "--api-base", telegram.base_url()},
     {{"MY_TOKEN", std::string(kToken)}});
  std::filesystem::remove(dir_.File("data/secret.key"));
  Ok({"init"});  // a new key
  EXPECT_THAT(Ok({"account", "list"}).out, HasSubstr("cannot be opened"));

  ProcessResult missing = Run({"account", "update", "main"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_THAT(missing.err, HasSubstr("--bot-token-env VAR or --bot-token-file FILE"));
  ProcessResult unknown = Run({"account", "update", "nope", "--bot-token-env", "MY_TOKEN"},
                              {{"MY_TOKEN", second}});
  EXPECT_EQ(unknown.exit_code, 2);
  const std::string before = Dump("SELECT bot_token FROM accounts WHERE name = 'main'");
  ProcessResult refused =
      Run({"account", "update", "main", "--bot-token-env", "MY_TOKEN"},
          {{"MY_TOKEN", "555555555:AAATokenTheServerHasNeverHeardOf_xyzxyz"}});
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_THAT(refused.err, HasSubstr("nothing was changed"));
  EXPECT_EQ(Dump("SELECT bot_token FROM accounts WHERE name = 'main'"), before);

  ProcessResult updated =
      Ok({"account", "update", "main", "--bot-token-env", "MY_TOKEN"}, {{"MY_TOKEN", second}});
  EXPECT_THAT(updated.out, HasSubstr("token replaced (bot @test_bot), token 123456789:…ghij"));
  EXPECT_THAT(updated.out + updated.err, Not(HasSubstr("AASecondTestTokenNeverValid")));
  EXPECT_THAT(Ok({"account", "list"}).out, Not(HasSubstr("cannot be opened")));
  Ok({"account", "check", "main"});
  EXPECT_THAT(Dump("SELECT bot_token FROM accounts WHERE name = 'main'"),
              ::testing::StartsWith("sealed:v1:"));

  Ok({"account", "add", "demo"});  // rehearsal: it has no token to replace
  ProcessResult rehearsal =
      Run({"account", "update", "demo", "--bot-token-env", "MY_TOKEN"}, {{"MY_TOKEN", second}});
  EXPECT_EQ(rehearsal.exit_code, 2);
  EXPECT_THAT(rehearsal.err, HasSubstr("REHEARSAL account: it has no token to replace"));
}

// `account update` rotates a token: only to a token of the same bot, checked with getMe first; a
// refused one (2) or an unreachable Telegram (1) leaves the old token; an account whose token
// Telegram refused may send again after it.
// Invariant I7 (docs/invariants.md)
TEST_F(CliTest, AccountUpdateTakesOnlyTheSameBotsTokenAndLetsARefusedAccountSendAgain) {
  const std::string same_bot = "123456789:AASameBotNewTokenNeverValid_abcdefghij";
  const std::string other_bot = "987654321:AAOtherBotTokenNeverValid_abcdefghijk";
  testing::BotApiDoubleOptions options;
  options.tokens = {std::string(kToken), same_bot, other_bot};
  testing::BotApiDouble telegram(options);
  Ok({"init"});
  Ok({"account", "add", "main", "--bot-token-env", "MY_TOKEN", "--api-base", telegram.base_url()},
     {{"MY_TOKEN", std::string(kToken)}});
  EXPECT_EQ(Dump("SELECT bot_id FROM accounts WHERE name = 'main'"), "123456789\n");
  Sql("UPDATE accounts SET health = 'unauthorized', health_reason = '401 Unauthorized' WHERE "
      "name = 'main'");
  const std::string before = Dump("SELECT bot_token FROM accounts WHERE name = 'main'");

  ProcessResult other =
      Run({"account", "update", "main", "--bot-token-env", "MY_TOKEN"}, {{"MY_TOKEN", other_bot}});
  EXPECT_EQ(other.exit_code, 2) << other.err;
  EXPECT_THAT(other.err, HasSubstr("belongs to another bot"));
  EXPECT_THAT(other.err, HasSubstr("nothing was changed"));
  EXPECT_EQ(Dump("SELECT bot_token FROM accounts WHERE name = 'main'"), before);

  Sql("UPDATE accounts SET api_base = 'http://127.0.0.1:9' WHERE name = 'main'");
  ProcessResult offline =
      Run({"account", "update", "main", "--bot-token-env", "MY_TOKEN"}, {{"MY_TOKEN", same_bot}});
  EXPECT_EQ(offline.exit_code, 1) << offline.err;
  EXPECT_THAT(offline.err, HasSubstr("could not ask Telegram"));
  EXPECT_EQ(Dump("SELECT bot_token FROM accounts WHERE name = 'main'"), before);
  Sql("UPDATE accounts SET api_base = '" + telegram.base_url() + "' WHERE name = 'main'");

  ProcessResult updated =
      Ok({"account", "update", "main", "--bot-token-env", "MY_TOKEN"}, {{"MY_TOKEN", same_bot}});
  EXPECT_THAT(updated.out, HasSubstr("token replaced (bot @test_bot)"));
  EXPECT_THAT(updated.out, HasSubstr("may send again"));
  EXPECT_EQ(Dump("SELECT health, bot_id FROM accounts WHERE name = 'main'"), "ok|123456789\n");
  EXPECT_NE(Dump("SELECT bot_token FROM accounts WHERE name = 'main'"), before);
  for (const ProcessResult* r : {&other, &offline, &updated}) {
    EXPECT_THAT(r->out + r->err, Not(HasSubstr("NewTokenNeverValid")));
    EXPECT_THAT(r->out + r->err, Not(HasSubstr("OtherBotTokenNeverValid")));
  }
  Ok({"account", "check", "main"});
}

// `account remove` is refused while a campaign that is not cancelled uses the account, naming it;
// afterwards the token goes, the cancelled campaign still reads, and a user account's TDLib
// session folder is deleted.
// Invariant I8 (docs/invariants.md)
TEST_F(CliTest, AccountRemoveWaitsForItsCampaignsAndTakesTheSecretsAlong) {
  CreateRehearsalCampaign();
  Ok({"campaign", "start", "spring"});
  ProcessResult refused = Run({"account", "remove", "demo"});
  EXPECT_EQ(refused.exit_code, 2) << refused.err;
  EXPECT_THAT(refused.err, HasSubstr("spring (running)"));
  EXPECT_THAT(refused.err, HasSubstr("nothing was removed"));
  EXPECT_EQ(Dump("SELECT COUNT(*) FROM accounts WHERE name = 'demo'"), "1\n");

  Ok({"campaign", "cancel", "spring"});
  ProcessResult removed = Ok({"account", "remove", "demo"});
  EXPECT_THAT(removed.out, HasSubstr("account demo removed"));
  EXPECT_THAT(removed.out, HasSubstr("1 cancelled campaign keeps their history"));
  EXPECT_THAT(Ok({"account", "list"}).out, Not(HasSubstr("demo")));
  EXPECT_THAT(Ok({"campaign", "show", "spring"}).out, HasSubstr("demo~removed~"));
  EXPECT_EQ(Run({"account", "remove", "demo"}).exit_code, 2);
  Ok({"account", "add", "demo"});  // the name is free again

  // A user account (not logged in) and its session folder.
  std::map<std::string, std::string> env = {{"API_ID", "1234567"},
                                            {"API_HASH", "0123456789abcdef0123456789abcdef"}};
  Ok({"account", "add", "staff", "--user", "--api-id-env", "API_ID", "--api-hash-env", "API_HASH",
      "--phone", "+15550000000", "--no-login"},
     env);
  std::filesystem::create_directories(dir_.File("data/tdlib/staff/db"));
  Write("data/tdlib/staff/db/td.binlog", "session");
  ProcessResult user = Ok({"account", "remove", "staff"});
  EXPECT_THAT(user.out, HasSubstr("its credentials and its TDLib session"));
  EXPECT_FALSE(std::filesystem::exists(dir_.File("data/tdlib/staff")));
  EXPECT_EQ(Dump("SELECT COUNT(*) FROM accounts WHERE name LIKE 'staff%'"), "0\n");
}

// `contact forget` erases a person, prints what went, and a re-import of the same CSV does not
// bring them back.
// Invariant I13 (docs/invariants.md)
TEST_F(CliTest, ContactForgetErasesThePersonAndTheSameCsvDoesNotBringThemBack) {
  CreateRehearsalCampaign();
  Write("people.csv",
        "telegram_user_id,username,first_name,last_name,phone\n"
        "1001,anna_s,Anna,Schmidt,+49 30 1234567\n1002,bob_b,Bob,,\n");
  Ok({"import", "people.csv", "--campaign", "spring"});

  ProcessResult forgotten = Ok({"contact", "forget", "@Anna_S"});
  EXPECT_THAT(forgotten.out, HasSubstr("contact username:anna_s forgotten: deleted 1 contact, 1 "
                                       "invitation, 0 invite links, 1 start link"));
  EXPECT_THAT(forgotten.out,
              HasSubstr("suppressed for every campaign and every import: id:1001, "
                        "username:anna_s, phone:+49301234567 (3 new)"));
  EXPECT_EQ(Dump("SELECT COUNT(*) FROM contacts WHERE first_name = 'Anna'"), "0\n");
  EXPECT_EQ(Dump("SELECT COUNT(*) FROM contacts"), "1\n");

  // The same file again: her row is refused before it reaches the store (her name and phone are
  // not stored again), Bob's is a duplicate; --strict refuses the file while it holds her row.
  ProcessResult again = Run({"import", "people.csv", "--campaign", "spring"});
  EXPECT_THAT(again.out, HasSubstr("line 2: a person erased on request (tginvite contact forget): "
                                   "not imported"));
  EXPECT_EQ(Dump("SELECT COUNT(*) FROM contacts WHERE telegram_user_id = 1001 OR phone = "
                 "'+49301234567'"),
            "0\n");
  EXPECT_EQ(Dump("SELECT COUNT(*) FROM invitations WHERE state = 'pending'"), "1\n");
  ProcessResult strict = Run({"import", "people.csv", "--campaign", "spring", "--strict"});
  EXPECT_NE(strict.exit_code, 0);
  EXPECT_EQ(Dump("SELECT COUNT(*) FROM contacts"), "1\n");

  // Nobody matches: not an error for an erasure; the key is suppressed all the same.
  ProcessResult nobody = Ok({"contact", "forget", "id:777"});
  EXPECT_THAT(nobody.out, HasSubstr("no contact matches id:777"));
  EXPECT_EQ(Dump("SELECT COUNT(*) FROM suppressions WHERE key = 'id:777'"), "1\n");
  ProcessResult bad = Run({"contact", "forget", "not a user!"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.err, HasSubstr("contact forget"));
}

TEST_F(CliTest, NegativeChatIdsAndChannelNamesAreAccepted) {
  Ok({"init"});
  Ok({"account", "add", "demo"});
  Write("t.html", "Hi {first_name}: <a href=\"{link}\">join</a>");
  Ok({"campaign", "create", "a", "--account", "demo", "--chat", "-1001234567890", "--template-file",
      "t.html"});
  Ok({"campaign", "create", "b", "--account", "demo", "--chat", "@my_channel", "--template-file",
      "t.html", "--link", "join-request"});
  EXPECT_EQ(Dump("SELECT chat, link_mode FROM campaigns ORDER BY id"),
            "-1001234567890|personal\n@my_channel|join-request\n");
}

// Invariant I8 (docs/invariants.md)
TEST_F(CliTest, BadTemplatesAreRefusedOnCreate) {
  Ok({"init"});
  Ok({"account", "add", "demo"});
  const std::pair<std::string, std::string> cases[] = {
      {"Hi {firstname}", "{firstname}"},
      {"Hi <b>{first_name}", "<b>"},
      {std::string(4100, 'x'), "4096"},
  };
  for (const auto& [text, expected] : cases) {
    Write("t.html", text);
    ProcessResult r = Run({"campaign", "create", "c", "--account", "demo", "--chat", "-100123",
                           "--template-file", "t.html"});
    EXPECT_EQ(r.exit_code, 2) << text;
    EXPECT_THAT(r.err, HasSubstr(expected)) << text;
  }
  EXPECT_EQ(Dump("SELECT COUNT(*) FROM campaigns"), "0\n");
}

TEST_F(CliTest, CampaignLifecycle) {
  CreateRehearsalCampaign();
  EXPECT_EQ(Ok({"campaign", "start", "spring"}).out, "campaign spring is running\n");
  EXPECT_EQ(Ok({"campaign", "pause", "spring"}).out, "campaign spring is paused\n");
  ProcessResult wrong = Run({"campaign", "start", "spring"});
  EXPECT_EQ(wrong.exit_code, 2);
  EXPECT_THAT(wrong.err, HasSubstr("use resume"));
  Ok({"campaign", "resume", "spring"});
  Ok({"campaign", "cancel", "spring"});
  ProcessResult show = Ok({"campaign", "show", "spring"});
  EXPECT_THAT(show.out, HasSubstr("cancelled"));
  EXPECT_THAT(show.out, HasSubstr("REHEARSAL"));
  EXPECT_EQ(Run({"campaign", "show", "autumn"}).exit_code, 2);
}

// Who changed a campaign: the OS user at the CLI (the one who ran sudo, under sudo), in the log
// line of the change and in `campaign show`'s latest changes.
TEST_F(CliTest, CampaignChangesNameTheCliUser) {
  CreateRehearsalCampaign();
  const passwd* me = getpwuid(geteuid());
  ASSERT_NE(me, nullptr);
  const std::string user = std::string("cli:") + me->pw_name;
  ProcessResult started = Ok({"campaign", "start", "spring"}, {{"SUDO_USER", ""}});
  EXPECT_EQ(started.out, "campaign spring is running\n") << "the log line goes to stderr";
  EXPECT_THAT(started.err, HasSubstr(" info campaign spring: draft -> running by " + user + "\n"));
  Ok({"campaign", "pause", "spring"}, {{"SUDO_USER", "alice"}});

  ProcessResult show = Ok({"campaign", "show", "spring"});
  EXPECT_THAT(show.out, HasSubstr("latest changes, newest first:"));
  EXPECT_THAT(show.out, ::testing::ContainsRegex("cli:alice +running -> paused\n.*" + user +
                                                 " +draft -> running\n"))
      << "newest first";
  EXPECT_EQ(Dump("SELECT actor, action, from_state, to_state FROM campaign_events ORDER BY id"),
            user + "|start|draft|running\ncli:alice|pause|running|paused\n");
}

// Invariant I8 (docs/invariants.md)
// `campaign edit`: a new template is validated as on create and previewed; the chat only while
// nothing was sent; each edit in the audit trail; bad usage exits 2 and changes nothing.
TEST_F(CliTest, CampaignEditChangesTemplateScheduleAndChat) {
  CreateRehearsalCampaign();
  Write("bad.html", "Hi {nope}");
  ProcessResult bad = Run({"campaign", "edit", "spring", "--template-file", "bad.html"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.err, HasSubstr("unknown placeholder {nope}"));
  Write("new.html", "Welcome {first_name}! {link}");
  ProcessResult edited = Ok({"campaign", "edit", "spring", "--template-file", "new.html",
                             "--starts-at", "2026-12-24T09:00:00+01:00", "--ends-at",
                             "2026-12-31T23:00:00Z"});
  EXPECT_THAT(edited.out, HasSubstr("preview (sample contact Anna Schmidt):\nWelcome Anna! "
                                    "https://t.me/+AbCdEfGhIjKlMnOp"));
  EXPECT_THAT(edited.out, HasSubstr("starts 2026-12-24T08:00:00Z, ends 2026-12-31T23:00:00Z"));
  EXPECT_THAT(edited.err, HasSubstr("campaign spring: edited by cli:"));

  ProcessResult zoneless = Run({"campaign", "edit", "spring", "--ends-at", "2026-12-31T23:00"});
  EXPECT_EQ(zoneless.exit_code, 2);
  EXPECT_THAT(zoneless.err, HasSubstr("--ends-at"));
  EXPECT_THAT(zoneless.err, HasSubstr("no zone"));
  ProcessResult backwards = Run({"campaign", "edit", "spring", "--ends-at", "2026-12-01T00:00:00Z"});
  EXPECT_EQ(backwards.exit_code, 2);
  EXPECT_THAT(backwards.err, HasSubstr("must be after starts_at"));
  EXPECT_EQ(Run({"campaign", "edit", "spring"}).exit_code, 2) << "nothing to change";
  EXPECT_EQ(Run({"campaign", "edit", "spring", "--link", "pigeon"}).exit_code, 2);
  EXPECT_EQ(Run({"campaign", "edit", "autumn", "--chat", "@x_channel"}).exit_code, 2);

  ProcessResult show = Ok({"campaign", "show", "spring"});
  EXPECT_THAT(show.out, HasSubstr("schedule  starts 2026-12-24T08:00:00Z, ends 2026-12-31T23:00:00Z"));
  EXPECT_THAT(show.out, HasSubstr("Welcome {first_name}! {link}"));
  EXPECT_THAT(Ok({"campaign", "list"}).out, HasSubstr("2026-12-31T23:00:00Z"));

  Ok({"campaign", "edit", "spring", "--chat", "@spring_channel", "--clear-schedule"});
  EXPECT_EQ(Dump("SELECT chat, starts_at, ends_at FROM campaigns WHERE name = 'spring'"),
            "@spring_channel|NULL|NULL\n");
  Write("c.csv", "telegram_user_id,first_name\n1,Ann\n");
  Ok({"import", "c.csv", "--campaign", "spring"});
  Sql("UPDATE invitations SET state = 'sent'");
  ProcessResult sent = Run({"campaign", "edit", "spring", "--chat", "-1001234567890"});
  EXPECT_EQ(sent.exit_code, 2);
  EXPECT_THAT(sent.err, HasSubstr("can no longer change"));
  EXPECT_EQ(Dump("SELECT chat FROM campaigns"), "@spring_channel\n");
  EXPECT_EQ(Dump("SELECT action, detail FROM campaign_events WHERE action = 'edit' ORDER BY id"),
            "edit|template; starts_at (none) -> 2026-12-24T08:00:00Z; ends_at (none) -> "
            "2026-12-31T23:00:00Z\n"
            "edit|chat -1001234567890 -> @spring_channel; starts_at 2026-12-24T08:00:00Z -> "
            "(none); ends_at 2026-12-31T23:00:00Z -> (none)\n");
}

// Invariant I2 (docs/invariants.md)
// `campaign delete`: refused (exit 2, with the reason) until finished or cancelled; says what it
// removed; the attempts stay in the contact's history unless --purge.
TEST_F(CliTest, CampaignDeleteKeepsAttemptsUnlessPurged) {
  CreateRehearsalCampaign("spring");
  Ok({"campaign", "create", "autumn", "--account", "demo", "--chat", "-1001234567890",
      "--template-file", "t.html"});
  Write("c.csv", "telegram_user_id,first_name\n1,Ann\n2,Bob\n");
  Ok({"import", "c.csv", "--campaign", "spring"});
  Ok({"import", "c.csv", "--campaign", "autumn"});
  Ok({"campaign", "start", "spring"});
  ProcessResult running = Run({"campaign", "delete", "spring"});
  EXPECT_EQ(running.exit_code, 2);
  EXPECT_THAT(running.err, HasSubstr("is running with 2 invitations not sent yet"));
  // Both sent, each with its attempt: the campaign is finished.
  Sql("UPDATE invitations SET state = 'sent' WHERE campaign_id = (SELECT id FROM campaigns WHERE "
      "name = 'spring'); INSERT INTO attempts (invitation_id, gen, worker, request, started_at, "
      "outcome) SELECT id, 1, 'w', 'send', 1, 'sent' FROM invitations WHERE campaign_id = "
      "(SELECT id FROM campaigns WHERE name = 'spring')");
  ProcessResult deleted = Ok({"campaign", "delete", "spring"});
  EXPECT_EQ(deleted.out,
            "campaign spring deleted: 2 invitations removed; 2 attempts kept in the contacts' "
            "history (--purge removes them too)\n");
  EXPECT_EQ(Dump("SELECT campaign_name, invitation_id, contact_id IS NOT NULL FROM attempts"),
            "spring|NULL|1\nspring|NULL|1\n");
  EXPECT_EQ(Run({"campaign", "show", "spring"}).exit_code, 2);
  EXPECT_EQ(Dump("SELECT COUNT(*) FROM invitations"), "2\n") << "autumn's stay";

  ProcessResult draft = Run({"campaign", "delete", "autumn", "--purge"});
  EXPECT_EQ(draft.exit_code, 2);
  EXPECT_THAT(draft.err, HasSubstr("cancel it first"));
  Ok({"campaign", "cancel", "autumn"});
  EXPECT_EQ(Ok({"campaign", "delete", "autumn", "--purge"}).out,
            "campaign autumn deleted: 2 invitations and 0 attempts removed\n");
  EXPECT_EQ(Dump("SELECT COUNT(*) FROM attempts"), "2\n") << "spring's detached attempts stay";
  // Attempts stay append-only outside a delete, detached ones too.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_path_.c_str(), &db), SQLITE_OK);
  EXPECT_NE(sqlite3_exec(db, "UPDATE attempts SET error = 'x'", nullptr, nullptr, nullptr),
            SQLITE_OK);
  EXPECT_NE(sqlite3_exec(db, "DELETE FROM attempts", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  EXPECT_EQ(Dump("SELECT COUNT(*) FROM attempts WHERE error IS NULL"), "2\n");
}

TEST_F(CliTest, LogLevelIsAnOptionAndAVariable) {
  CreateRehearsalCampaign();
  ProcessResult quiet = Ok({"--log-level", "warn", "campaign", "start", "spring"});
  EXPECT_EQ(quiet.err, "");
  EXPECT_EQ(Ok({"campaign", "pause", "spring"}, {{"TGINVITE_LOG_LEVEL", "ERROR"}}).err, "");
  ProcessResult loud = Ok({"campaign", "resume", "spring"}, {{"TGINVITE_LOG_LEVEL", "debug"}});
  EXPECT_THAT(loud.err, HasSubstr("paused -> running"));
  EXPECT_EQ(loud.err.find('\x1b'), std::string::npos) << "no colours off a terminal";

  for (const auto& [args, env] :
       std::vector<std::pair<std::vector<std::string>, std::map<std::string, std::string>>>{
           {{"--log-level", "loud", "status"}, {}},
           {{"status"}, {{"TGINVITE_LOG_LEVEL", "verbose"}}}}) {
    ProcessResult bad = Run(args, env);
    EXPECT_EQ(bad.exit_code, 2);
    EXPECT_THAT(bad.err, HasSubstr("is not a level: use trace, debug, info, warn or error"));
  }
  EXPECT_THAT(Ok({"--help"}).out, HasSubstr("--log-level"));
}

TEST_F(CliTest, ExportNeutralisesFormulas) {
  CreateRehearsalCampaign();
  Write("c.csv",
        "telegram_user_id,first_name,last_name,phone\n"
        "1,\"=HYPERLINK(\"\"http://evil.example\"\")\",@cmd,+49 30 1234567\n"
        "2,\"Smith, John\",-2+3,\n");
  Ok({"import", "c.csv", "--campaign", "spring"});
  Ok({"export", "spring", "--out", "out.csv"});
  std::ifstream in(dir_.File("out.csv"), std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_THAT(text, HasSubstr("1,,\"'=HYPERLINK(\"\"http://evil.example\"\")\",'@cmd,'+49301234567,"
                              "pending,0,,,,,"));
  EXPECT_THAT(text, HasSubstr("2,,\"Smith, John\",'-2+3,,pending"));
  EXPECT_FALSE(std::filesystem::exists(dir_.File("out.csv.partial")));
}

// Invariant I2 (docs/invariants.md)
TEST_F(CliTest, StatusShowsCountsPerCampaign) {
  CreateRehearsalCampaign();
  Write("c.csv", "telegram_user_id\n1\n2\n3\n");
  Ok({"import", "c.csv", "--campaign", "spring"});
  ProcessResult status = Ok({"status"});
  EXPECT_THAT(status.out, HasSubstr("3 contacts"));
  EXPECT_THAT(status.out, HasSubstr("spring"));
  EXPECT_THAT(status.out, HasSubstr("REHEARSAL"));
  auto json = nlohmann::json::parse(Ok({"status", "--json"}).out);
  ASSERT_EQ(json["campaigns"].size(), 1u);
  const auto& campaign = json["campaigns"][0];
  EXPECT_EQ(campaign["name"], "spring");
  EXPECT_EQ(campaign["state"], "draft");
  EXPECT_EQ(campaign["rehearsal"], true);
  EXPECT_EQ(campaign["total"], 3);
  for (const char* state : {"pending", "sending", "sent", "joined", "waiting", "failed", "unknown",
                            "skipped", "cancelled"}) {
    EXPECT_TRUE(campaign["counts"].contains(state)) << state;
  }
  EXPECT_EQ(json["contacts"], 3);
}

// Invariant I8 (docs/invariants.md)
TEST_F(CliTest, ExitCodes) {
  EXPECT_EQ(Run({"status"}).exit_code, 2) << "a missing database is bad usage";
  EXPECT_FALSE(std::filesystem::exists(db_path_)) << "status created a database";
  EXPECT_EQ(Run({"frobnicate"}).exit_code, 2);
  EXPECT_EQ(Run({}).exit_code, 2);
  // An unreachable PostgreSQL is a runtime failure, and its password is never shown.
  ProcessResult unreachable =
      Run({"--db", "postgresql://fleet:pw-never-shown@127.0.0.1:1/x", "status"});
  EXPECT_EQ(unreachable.exit_code, 1) << unreachable.err;
  EXPECT_EQ(unreachable.err.find("pw-never-shown"), std::string::npos) << unreachable.err;
  std::filesystem::create_directories(dir_.File("a-folder"));
  ProcessResult runtime = Run({"--db", "sqlite:" + dir_.File("a-folder"), "init"});
  EXPECT_EQ(runtime.exit_code, 1) << runtime.err;
}

TEST_F(CliTest, DbOptionOverridesTheEnvironment) {
  std::string other = dir_.File("other/x.db");
  Ok({"--db", "sqlite:" + other, "init"});
  EXPECT_TRUE(std::filesystem::exists(other));
  EXPECT_FALSE(std::filesystem::exists(db_path_));
}

TEST_F(CliTest, EveryCommandHasHelp) {
  const std::vector<std::vector<std::string>> commands = {
      {},
      {"init"},
      {"account"},
      {"account", "add"},
      {"account", "list"},
      {"account", "check"},
      {"run"},
      {"campaign"},
      {"campaign", "create"},
      {"campaign", "list"},
      {"campaign", "show"},
      {"campaign", "start"},
      {"campaign", "pause"},
      {"campaign", "resume"},
      {"campaign", "cancel"},
      {"import"},
      {"export"},
      {"status"},
      {"settings"},
      {"settings", "list"},
      {"settings", "get"},
      {"settings", "set"},
      {"settings", "unset"},
      {"suppress"},
      {"suppress", "add"},
      {"suppress", "remove"},
      {"suppress", "list"},
  };
  for (std::vector<std::string> command : commands) {
    command.push_back("--help");
    ProcessResult r = Run(command);
    EXPECT_EQ(r.exit_code, 0) << ::testing::PrintToString(command);
    EXPECT_THAT(r.out, HasSubstr("Usage:")) << ::testing::PrintToString(command);
  }
}

TEST_F(CliTest, InitSetsTheAdminPasswordOnlyWhenGivenOne) {
  ProcessResult r = Ok({"init"});
  EXPECT_THAT(r.out, HasSubstr("no admin password is set"));
  EXPECT_EQ(Dump("SELECT COUNT(*) FROM admin_password"), "0\n") << "never a default password";

  r = Ok({"init"}, {{"TGINVITE_ADMIN_PASSWORD", "hunter2-is-long"}});
  EXPECT_THAT(r.out, HasSubstr("admin password set"));
  EXPECT_THAT(r.out + r.err, Not(HasSubstr("hunter2")));
  std::string hash = Dump("SELECT hash FROM admin_password");
  EXPECT_THAT(hash, HasSubstr("$argon2id$"));
  EXPECT_THAT(hash, Not(HasSubstr("hunter2")));

  r = Ok({"init"});
  EXPECT_EQ(Dump("SELECT hash FROM admin_password"), hash) << "a later init keeps the password";
}

TEST_F(CliTest, InitRefusesAShortAdminPassword) {
  ProcessResult r = Run({"init"}, {{"TGINVITE_ADMIN_PASSWORD", "short-pw"}});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr("at least 12 characters"));
  EXPECT_THAT(r.out + r.err, Not(HasSubstr("short-pw")));
  EXPECT_EQ(Dump("SELECT COUNT(*) FROM admin_password"), "0\n") << "nothing was set";
}

TEST_F(CliTest, TokensHaveAScopeAndMayExpire) {
  Ok({"init"});
  ProcessResult created = Ok({"token", "create", "grafana", "--scope", "read", "--expires-in", "90d"});
  EXPECT_THAT(created.err, HasSubstr("scope read"));
  EXPECT_THAT(created.err, HasSubstr("expires"));
  Ok({"token", "create", "prometheus", "--scope", "metrics"});
  Ok({"token", "create", "ci"});
  EXPECT_EQ(Dump("SELECT name, scope, expires_at IS NOT NULL FROM api_tokens ORDER BY id"),
            "grafana|read|1\nprometheus|metrics|0\nci|write|0\n");
  ProcessResult list = Ok({"token", "list"});
  EXPECT_THAT(list.out, HasSubstr("SCOPE"));
  EXPECT_THAT(list.out, HasSubstr("metrics"));
  for (std::vector<std::string> bad : {std::vector<std::string>{"--scope", "admin"},
                                       std::vector<std::string>{"--expires-in", "soon"},
                                       std::vector<std::string>{"--expires-in", "0s"}}) {
    std::vector<std::string> args = {"token", "create", "bad"};
    args.insert(args.end(), bad.begin(), bad.end());
    ProcessResult r = Run(args);
    EXPECT_EQ(r.exit_code, 2) << ::testing::PrintToString(args);
    EXPECT_THAT(r.err, HasSubstr(bad[0])) << r.err;
  }
}

// Invariant I7 (docs/invariants.md)
TEST_F(CliTest, TokensArePrintedOnceAndStoredOnlyAsAHash) {
  Ok({"init"});
  ProcessResult created = Ok({"token", "create", "ci"});
  std::string token = created.out.substr(0, created.out.find('\n'));
  EXPECT_EQ(token.size(), 64u) << created.out;
  EXPECT_THAT(created.err, HasSubstr("shown only now"));
  EXPECT_THAT(Dump("SELECT name, token_hash FROM api_tokens"), Not(HasSubstr(token)));

  ProcessResult again = Run({"token", "create", "ci"});
  EXPECT_EQ(again.exit_code, 2) << again.err;
  EXPECT_THAT(again.err, HasSubstr("exists already"));

  ProcessResult list = Ok({"token", "list"});
  EXPECT_THAT(list.out, HasSubstr("ci"));
  EXPECT_THAT(list.out, Not(HasSubstr(token)));
  Ok({"token", "revoke", "ci"});
  ProcessResult twice = Run({"token", "revoke", "ci"});
  EXPECT_NE(twice.exit_code, 0);
  EXPECT_EQ(Dump("SELECT COUNT(*) FROM api_tokens WHERE revoked_at IS NOT NULL"), "1\n");
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

using testing::FreePort;

TEST_F(CliTest, UpServesTheApiWithTheWorkerAndStopsOnSigterm) {
  Ok({"init"}, {{"TGINVITE_ADMIN_PASSWORD", "hunter2-is-long"}});
  ProcessResult created = Ok({"token", "create", "ci"});
  std::string token = created.out.substr(0, created.out.find('\n'));
  const int port = FreePort();
  ASSERT_GT(port, 0);
  testing::ProcessOptions options;
  options.cwd = dir_.path().string();
  options.env = {{"TGINVITE_DB", "sqlite:" + db_path_}};
  std::vector<std::string> args = {bin_, "up", "--listen", "127.0.0.1:" + std::to_string(port)};
  testing::ChildProcess up(args, options, dir_.File("up.log"));
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(1);
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        auto res = client.Get("/readyz");
        return res && res->status == 200;
      },
      std::chrono::seconds(20)));
  auto res = client.Get("/api/v1/campaigns", {{"Authorization", "Bearer " + token}});
  ASSERT_TRUE(res) << httplib::to_string(res.error()) << ReadFile(dir_.File("up.log"));
  EXPECT_EQ(res->status, 200) << res->body;
  res = client.Get("/api/v1/campaigns");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 401);
  res = client.Post("/api/v1/login", R"({"password": "hunter2-is-long"})", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  up.Signal(SIGTERM);
  EXPECT_EQ(up.Wait(std::chrono::seconds(20)), 0);
}

TEST_F(CliTest, ServeAnswersProbesWithoutAPasswordAndStopsOnSigterm) {
  Ok({"init"});
  const int port = FreePort();
  ASSERT_GT(port, 0);
  testing::ProcessOptions options;
  options.cwd = dir_.path().string();
  options.env = {{"TGINVITE_DB", "sqlite:" + db_path_}};
  std::vector<std::string> args = {bin_, "serve", "--listen", "127.0.0.1:" + std::to_string(port)};
  testing::ChildProcess serve(args, options, dir_.File("serve.log"));
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(1);
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        auto res = client.Get("/healthz");
        return res && res->status == 200;
      },
      std::chrono::seconds(20)))
      << ReadFile(dir_.File("serve.log"));
  auto res = client.Get("/readyz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  res = client.Post("/api/v1/login", R"({"password": ""})", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503);
  EXPECT_THAT(res->body, HasSubstr("no admin password is set"));
  serve.Signal(SIGTERM);
  EXPECT_EQ(serve.Wait(std::chrono::seconds(20)), 0);
  EXPECT_THAT(ReadFile(dir_.File("serve.log")), HasSubstr("no admin password is set"));
}

TEST_F(CliTest, ServeRefusesABadListenAddress) {
  Ok({"init"});
  ProcessResult r = Run({"serve", "--listen", "nowhere"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("ADDR:PORT"));
}

}  // namespace
}  // namespace tginvite
