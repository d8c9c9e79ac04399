// The secret key as an operator meets it, through the real binary: created by init, missing,
// broken, open to other users, rotated (and a rotation interrupted), in the environment; the
// files tginvite writes are owner-only under the usual umask 022; a token is never stored or
// shown in the clear.
#include <fstream>
#include <regex>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include "core/secret_box.h"
#include "fakes/process.h"
#include "fakes/files.h"
#include "fakes/temp_dir.h"

namespace tginvite {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;
using testing::FileBytes;
using testing::ModeOf;
using testing::ProcessResult;
using testing::TempDir;

constexpr std::string_view kToken = "123456789:AAFakeTestTokenNeverValid_abcdefghijkl";
constexpr std::string_view kSecretPart = "AAFakeTestTokenNeverValid_abcdefghijkl";
constexpr std::string_view kKeyA =
    "1111111111111111111111111111111111111111111111111111111111111111";
constexpr std::string_view kKeyB =
    "2222222222222222222222222222222222222222222222222222222222222222";
// Telegram out of reach: `account add` warns and adds the account without asking it.
constexpr std::string_view kNowhere = "http://127.0.0.1:9";

std::string KeyId(std::string_view hex) {
  auto key = core::SecretKey::FromHex(hex);
  EXPECT_TRUE(key) << key.error().message;
  return key ? key->id() : "";
}

class SecretKeyCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* bin = std::getenv("TGINVITE_BIN");
    ASSERT_NE(bin, nullptr) << "TGINVITE_BIN is not set (run through ctest)";
    bin_ = bin;
    old_umask_ = ::umask(022);  // the usual one: new files 0644, folders 0755, unless made so
  }
  void TearDown() override {
    ::umask(old_umask_);
    for (const ProcessResult& r : results_) {
      EXPECT_THAT(r.out + r.err, Not(HasSubstr(std::string(kSecretPart))))
          << "a token leaked into the output:\n"
          << r.out << r.err;
    }
  }

  // Runs tginvite in the test's folder on data/tginvite.db; the key is the default
  // ./data/secret.key unless `env` says otherwise.
  ProcessResult Run(std::vector<std::string> args, std::map<std::string, std::string> env = {}) {
    args.insert(args.begin(), bin_);
    env.emplace("TGINVITE_DB", "sqlite:" + Db());
    env.emplace("BOT_TOKEN", std::string(kToken));
    testing::ProcessOptions options;
    options.cwd = dir_.path().string();
    options.env = std::move(env);
    options.unset_env = {"TGINVITE_SECRET_KEY", "TGINVITE_NEW_SECRET_KEY",
                         "TGINVITE_SECRET_KEY_FILE"};
    for (const auto& [name, value] : options.env) {
      std::erase(options.unset_env, name);
    }
    results_.push_back(testing::RunProcess(args, options));
    return results_.back();
  }

  ProcessResult Ok(std::vector<std::string> args, std::map<std::string, std::string> env = {}) {
    ProcessResult r = Run(args, std::move(env));
    EXPECT_EQ(r.exit_code, 0) << ::testing::PrintToString(args) << "\nstdout: " << r.out
                              << "\nstderr: " << r.err;
    return r;
  }

  void AddBot(std::string name, std::map<std::string, std::string> env = {}) {
    Ok({"account", "add", name, "--bot-token-env", "BOT_TOKEN", "--api-base",
        std::string(kNowhere)},
       std::move(env));
  }

  std::string Db() const { return dir_.File("data/tginvite.db"); }
  std::string KeyFile() const { return dir_.File("data/secret.key"); }

  // One column of one row, as stored.
  std::string Stored(std::string_view sql) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2(Db().c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    std::string value;
    if (sqlite3_prepare_v2(db, std::string(sql).c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_text(stmt, 0) != nullptr) {
      value = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return value;
  }

  void Sql(std::string_view sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(Db().c_str(), &db), SQLITE_OK);
    char* error = nullptr;
    EXPECT_EQ(sqlite3_exec(db, std::string(sql).c_str(), nullptr, nullptr, &error), SQLITE_OK)
        << (error ? error : "");
    sqlite3_free(error);
    sqlite3_close(db);
  }

  void WriteKey(const std::string& path, std::string_view hex) {
    std::ofstream(path) << hex << "\n";
    ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
  }

  std::string StoredKeyId() {
    return core::Keyring::KeyIdOf(Stored("SELECT bot_token FROM accounts WHERE name = 'main'"))
        .value_or("(not sealed)");
  }

  TempDir dir_;
  std::string bin_;
  mode_t old_umask_ = 0;
  std::vector<ProcessResult> results_;
};

TEST_F(SecretKeyCliTest, InitCreatesAnOwnerOnlyKeyFileAndSaysToBackItUpApart) {
  ProcessResult init = Ok({"init"});
  const std::string key = FileBytes(KeyFile());
  ASSERT_THAT(key, MatchesRegex("[0-9a-f]{64}\n"));
  const std::string id = KeyId(key.substr(0, 64));
  EXPECT_THAT(init.out, HasSubstr("secret key " + id + " created in ./data/secret.key"));
  EXPECT_THAT(init.out, HasSubstr("Back it up, separately from the database"));
  EXPECT_THAT(init.out, Not(HasSubstr(key.substr(0, 64))));
  EXPECT_EQ(ModeOf(KeyFile()), 0600u);
  EXPECT_EQ(ModeOf(dir_.File("data")), 0700u);
  EXPECT_EQ(ModeOf(Db()), 0600u);

  ProcessResult again = Ok({"init"});
  EXPECT_EQ(FileBytes(KeyFile()), key) << "init never replaces a key";
  EXPECT_THAT(again.out, HasSubstr("secret key " + id + " from ./data/secret.key"));
}

// Invariant I7 (docs/invariants.md)
TEST_F(SecretKeyCliTest, TheTokenIsNeitherStoredNorShownInTheClear) {
  Ok({"init"});
  AddBot("main");
  Ok({"account", "list"});
  Ok({"status"});
  Ok({"status", "--json"});
  EXPECT_THAT(Stored("SELECT bot_token FROM accounts WHERE name = 'main'"),
              MatchesRegex("sealed:v1:[0-9a-f]{16}:.*"));
  const std::string files = FileBytes(Db()) + FileBytes(Db() + "-wal");
  EXPECT_NE(files.find("sealed:v1:"), std::string::npos);
  EXPECT_EQ(files.find(kSecretPart), std::string::npos);
}

TEST_F(SecretKeyCliTest, WithoutTheKeyReadsWorkAndWhatNeedsATokenSaysWhichKeyIsMissing) {
  Ok({"init"});
  AddBot("main");
  std::ofstream(dir_.File("t.html")) << "Hi {first_name}: {link}";
  std::ofstream(dir_.File("c.csv")) << "telegram_user_id\n1001\n";
  Ok({"campaign", "create", "spring", "--account", "main", "--chat", "-100123", "--template-file",
      "t.html"});
  Ok({"import", "c.csv", "--campaign", "spring"});
  Ok({"campaign", "start", "spring"});
  ASSERT_EQ(std::remove(KeyFile().c_str()), 0);

  EXPECT_THAT(Ok({"account", "list"}).out, MatchesRegex("(.|\n)*main +bot +sealed (.|\n)*"));
  Ok({"status"});
  Ok({"campaign", "list"});

  const std::string hint =
      "TGINVITE_SECRET_KEY is not set and there is no key file ./data/secret.key; `tginvite init` "
      "creates one there";
  ProcessResult add = Run({"account", "add", "second", "--bot-token-env", "BOT_TOKEN"});
  EXPECT_EQ(add.exit_code, 2);
  EXPECT_THAT(add.err, HasSubstr("account second: no secret key is loaded, so its token cannot be "
                                 "stored (sealed): " +
                                 hint));
  ProcessResult check = Run({"account", "check", "main"});
  EXPECT_EQ(check.exit_code, 2);
  EXPECT_THAT(check.err,
              HasSubstr("account main: the token is sealed and no secret key is loaded: " + hint));

  // The worker does not die of it: the account cannot send, and says why.
  ProcessResult run = Run({"run", "--until-idle"});
  EXPECT_EQ(run.exit_code, 1) << "invitations are left that no account can send";
  EXPECT_THAT(run.out + run.err, HasSubstr("no secret key is loaded"));
  EXPECT_THAT(run.out + run.err,
              HasSubstr("account main cannot send: the token is sealed and no secret key is "
                        "loaded: " +
                        hint));
  for (const ProcessResult* r : {&add, &check, &run}) {
    EXPECT_THAT(r->out + r->err, Not(HasSubstr("altered"))) << "a crypto error reached the user";
  }
}

// Invariant I7 (docs/invariants.md)
TEST_F(SecretKeyCliTest, AKeyThatIsNotSixtyFourHexDigitsIsRefusedWithoutBeingQuoted) {
  Ok({"init"});
  std::ofstream(KeyFile()) << "secretish-but-not-a-key\n";
  ProcessResult status = Run({"status"});
  EXPECT_EQ(status.exit_code, 2);
  EXPECT_THAT(status.err,
              HasSubstr("tginvite: secret key file ./data/secret.key: expected 64 hex digits"));
  EXPECT_THAT(status.err, Not(HasSubstr("secretish")));

  ProcessResult from_env = Run({"status"}, {{"TGINVITE_SECRET_KEY", "secretish"}});
  EXPECT_EQ(from_env.exit_code, 2);
  EXPECT_THAT(from_env.err, HasSubstr("tginvite: TGINVITE_SECRET_KEY: expected 64 hex digits"));
  EXPECT_THAT(from_env.err, Not(HasSubstr("secretish")));
}

TEST_F(SecretKeyCliTest, AKeyFileOpenToOtherUsersIsWarnedAbout) {
  Ok({"init"});
  ASSERT_EQ(::chmod(KeyFile().c_str(), 0644), 0);
  ProcessResult status = Ok({"status"});
  EXPECT_THAT(
      status.err,
      HasSubstr("warning: secret key file ./data/secret.key can be read or changed by other "
                "users (mode 0644): chmod 600 ./data/secret.key"));
  ASSERT_EQ(::chmod(KeyFile().c_str(), 0600), 0);
  EXPECT_THAT(Ok({"status"}).err, Not(HasSubstr("secret key file")));
}

TEST_F(SecretKeyCliTest, TheWorkerWarnsWhenTheDatabaseFileIsOpenToOtherUsers) {
  Ok({"init"});
  ASSERT_EQ(::chmod(Db().c_str(), 0644), 0);
  ProcessResult run = Ok({"run", "--until-idle"});
  EXPECT_THAT(run.out + run.err,
              HasSubstr("database file " + Db() +
                        " can be read or changed by other users (mode 0644): chmod 600 " + Db()));
}

TEST_F(SecretKeyCliTest, RotatingKeepsTokensWorkingAndTheOldKeyNoLongerOpensThem) {
  Ok({"init"});
  AddBot("main");
  const std::string old_key = FileBytes(KeyFile());
  ASSERT_EQ(StoredKeyId(), KeyId(old_key.substr(0, 64)));

  ProcessResult rotate = Ok({"secrets", "rotate"});
  const std::string new_key = FileBytes(KeyFile());
  ASSERT_THAT(new_key, MatchesRegex("[0-9a-f]{64}\n"));
  EXPECT_NE(new_key, old_key);
  EXPECT_EQ(FileBytes(KeyFile() + ".old"), old_key);
  EXPECT_FALSE(std::filesystem::exists(KeyFile() + ".new"));
  EXPECT_EQ(ModeOf(KeyFile()), 0600u);
  EXPECT_EQ(ModeOf(KeyFile() + ".old"), 0600u);
  EXPECT_EQ(StoredKeyId(), KeyId(new_key.substr(0, 64)));
  EXPECT_THAT(rotate.out, HasSubstr("resealed 1 secret under key " + KeyId(new_key.substr(0, 64))));

  EXPECT_THAT(Ok({"account", "list"}).out, HasSubstr("123456789:…ijkl"));
  ProcessResult with_old =
      Run({"--secret-key-file", "data/secret.key.old", "account", "check", "main"});
  EXPECT_EQ(with_old.exit_code, 2);
  EXPECT_THAT(with_old.err,
              HasSubstr("the token cannot be opened with the key from data/secret.key.old: sealed "
                        "under key " +
                        KeyId(new_key.substr(0, 64))));
}

// A rotation that stopped after writing the new key, before resealing: nothing is lost, every
// command still opens the tokens, and running it again finishes with that same new key.
TEST_F(SecretKeyCliTest, ARotationStoppedBeforeResealingIsFinishedWithTheKeyItWrote) {
  Ok({"init"});
  AddBot("main");
  const std::string old_key = FileBytes(KeyFile());
  WriteKey(KeyFile() + ".new", kKeyB);

  ProcessResult list = Ok({"account", "list"});
  EXPECT_THAT(list.out, HasSubstr("123456789:…ijkl"));
  EXPECT_THAT(list.err, HasSubstr("left by an unfinished `tginvite secrets rotate`"));
  ProcessResult rotate = Ok({"secrets", "rotate"});
  EXPECT_THAT(rotate.out, HasSubstr("finishing the rotation to key " + KeyId(kKeyB)));
  EXPECT_EQ(FileBytes(KeyFile()), std::string(kKeyB) + "\n");
  EXPECT_EQ(FileBytes(KeyFile() + ".old"), old_key);
  EXPECT_EQ(StoredKeyId(), KeyId(kKeyB));
  EXPECT_THAT(Ok({"account", "list"}).out, HasSubstr("123456789:…ijkl"));
}

// A rotation that stopped after its transaction committed, before the key files were renamed:
// the tokens are under the new key, which every command loads from secret.key.new.
TEST_F(SecretKeyCliTest, ARotationStoppedAfterResealingStillOpensEveryToken) {
  Ok({"init"}, {{"TGINVITE_SECRET_KEY", std::string(kKeyA)}});
  AddBot("main", {{"TGINVITE_SECRET_KEY", std::string(kKeyA)}});
  Ok({"secrets", "rotate"}, {{"TGINVITE_SECRET_KEY", std::string(kKeyA)},
                             {"TGINVITE_NEW_SECRET_KEY", std::string(kKeyB)}});
  ASSERT_EQ(StoredKeyId(), KeyId(kKeyB));
  WriteKey(KeyFile(), kKeyA);  // the files as the crash left them
  WriteKey(KeyFile() + ".new", kKeyB);

  EXPECT_THAT(Ok({"account", "list"}).out, HasSubstr("123456789:…ijkl"));
  ProcessResult rotate = Ok({"secrets", "rotate"});
  EXPECT_THAT(rotate.out, HasSubstr("resealed 0 secrets under key " + KeyId(kKeyB)));
  EXPECT_EQ(FileBytes(KeyFile()), std::string(kKeyB) + "\n");
  EXPECT_EQ(FileBytes(KeyFile() + ".old"), std::string(kKeyA) + "\n");
  EXPECT_FALSE(std::filesystem::exists(KeyFile() + ".new"));
}

TEST_F(SecretKeyCliTest, WithTheKeyInTheEnvironmentRotationTakesTheNewKeyFromThere) {
  const std::map<std::string, std::string> key_a = {{"TGINVITE_SECRET_KEY", std::string(kKeyA)}};
  ProcessResult init = Ok({"init"}, key_a);
  EXPECT_THAT(init.out, HasSubstr("secret key " + KeyId(kKeyA) + " from TGINVITE_SECRET_KEY"));
  EXPECT_FALSE(std::filesystem::exists(KeyFile())) << "no key file beside an environment key";
  AddBot("main", key_a);

  ProcessResult refused = Run({"secrets", "rotate"}, key_a);
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_THAT(refused.err, HasSubstr("put 64 new hex digits in TGINVITE_NEW_SECRET_KEY"));
  EXPECT_FALSE(std::filesystem::exists(KeyFile() + ".new"));
  EXPECT_EQ(StoredKeyId(), KeyId(kKeyA));

  std::map<std::string, std::string> both = key_a;
  both["TGINVITE_NEW_SECRET_KEY"] = std::string(kKeyB);
  ProcessResult rotate = Ok({"secrets", "rotate"}, both);
  EXPECT_THAT(rotate.out, HasSubstr("resealed 1 secret under key " + KeyId(kKeyB)));
  EXPECT_EQ(StoredKeyId(), KeyId(kKeyB));
  EXPECT_THAT(Ok({"account", "list"}, both).out, HasSubstr("123456789:…ijkl"))
      << "while the fleet moves over, the next key opens too";
  EXPECT_THAT(Ok({"account", "list"}, {{"TGINVITE_SECRET_KEY", std::string(kKeyB)}}).out,
              HasSubstr("123456789:…ijkl"));
  EXPECT_THAT(Ok({"account", "list"}, key_a).out, HasSubstr("cannot be opened"));
}

TEST_F(SecretKeyCliTest, APlaintextTokenFromAnOlderVersionIsSealedByMigrate) {
  Ok({"init"});
  Sql("INSERT INTO accounts (name, kind, bot_token, api_base, created_at) VALUES ('main', 'bot', "
      "'" +
      std::string(kToken) + "', 'http://127.0.0.1:9', 0)");
  ProcessResult migrate = Ok({"migrate"});
  EXPECT_THAT(migrate.out, HasSubstr("sealed 1 bot token that an older version stored in "
                                     "plaintext"));
  EXPECT_EQ(StoredKeyId(), KeyId(FileBytes(KeyFile()).substr(0, 64)));
  EXPECT_EQ((FileBytes(Db()) + FileBytes(Db() + "-wal")).find(kSecretPart), std::string::npos);
  EXPECT_THAT(Ok({"account", "list"}).out, HasSubstr("123456789:…ijkl"));
  EXPECT_THAT(Ok({"migrate"}).out, Not(HasSubstr("sealed"))) << "sealing is done once";
}

// Invariant I7 (docs/invariants.md)
TEST_F(SecretKeyCliTest, AnExportIsOwnerOnly) {
  Ok({"init"});
  Ok({"account", "add", "demo"});
  std::ofstream(dir_.File("t.html")) << "Hi {first_name}: {link}";
  Ok({"campaign", "create", "spring", "--account", "demo", "--chat", "-100123", "--template-file",
      "t.html"});
  Ok({"export", "spring", "--out", "out.csv"});
  EXPECT_EQ(ModeOf(dir_.File("out.csv")), 0600u);
}

}  // namespace
}  // namespace tginvite
