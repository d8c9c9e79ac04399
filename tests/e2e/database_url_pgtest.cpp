// Whole-binary tests of how `tginvite` treats a PostgreSQL URL: the password in it is never shown
// (init, status, the worker's logs), and `run` started while the database does not answer waits
// for it (degraded, said once) instead of exiting. Needs TGINVITE_TEST_PG; skipped otherwise.
#include <fstream>
#include <iterator>

#include <gtest/gtest.h>
#include <signal.h>

#include "fakes/process.h"
#include "fakes/temp_dir.h"
#include "storage/pg_test_database.h"
#include "storage/postgres/pg_connection.h"

namespace tginvite {
namespace {

using testing::ChildProcess;
using testing::PgDatabaseTest;
using testing::PgTestDatabase;
using testing::ProcessResult;
using testing::TempDir;
using testing::WaitFor;
using namespace std::chrono_literals;

constexpr std::string_view kPassword = "Sup3r-Secret-pw";

// The URL with a password added (the test server trusts every local connection, so any password
// works).
std::string WithPassword(const std::string& url) {
  const size_t at = url.find('@');
  EXPECT_NE(at, std::string::npos) << url;
  return url.substr(0, at) + ":" + std::string(kPassword) + url.substr(at);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

size_t Occurrences(std::string_view text, std::string_view what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string_view::npos; at = text.find(what, at + 1)) {
    ++n;
  }
  return n;
}

class DatabaseUrlTest : public PgDatabaseTest {
 protected:
  void SetUp() override {
    const char* bin = std::getenv("TGINVITE_BIN");
    ASSERT_NE(bin, nullptr) << "TGINVITE_BIN is not set (run through ctest)";
    bin_ = bin;
    PgDatabaseTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    url_ = WithPassword(db_->url());
  }

  ProcessResult Cli(std::vector<std::string> args) {
    args.insert(args.begin(), bin_);
    testing::ProcessOptions options;
    options.cwd = dir_.path().string();
    options.env = {{"TGINVITE_DB", url_}};
    return testing::RunProcess(args, options);
  }

  TempDir dir_;
  std::string bin_;
  std::string url_;
};

// Invariant 7: `init` and `status` name the database without its password.
// Invariant I7 (docs/invariants.md)
TEST_F(DatabaseUrlTest, InitAndStatusNeverShowThePassword) {
  ProcessResult init = Cli({"init"});
  ASSERT_EQ(init.exit_code, 0) << init.out << init.err;
  EXPECT_EQ(init.out.find(kPassword), std::string::npos) << init.out;
  EXPECT_EQ(init.err.find(kPassword), std::string::npos) << init.err;
  EXPECT_NE(init.out.find(":***@"), std::string::npos) << init.out;
  ProcessResult status = Cli({"status"});
  ASSERT_EQ(status.exit_code, 0) << status.out << status.err;
  EXPECT_EQ(status.out.find(kPassword), std::string::npos) << status.out;
  EXPECT_NE(status.out.find(":***@"), std::string::npos) << status.out;
}

// Invariant 6: a worker started while its database does not answer waits for it, says so once
// (without the password), and works once it answers; a signal ends the wait cleanly.
// Invariant I6 (docs/invariants.md)
TEST_F(DatabaseUrlTest, RunStartedBeforeTheDatabaseAnswersWaitsForIt) {
  db_->Drop();  // the database does not exist yet: connections to it are refused
  testing::ProcessOptions options;
  options.cwd = dir_.path().string();
  options.env = {{"TGINVITE_DB", url_}};
  const std::string log = dir_.File("worker.log");
  ChildProcess worker({bin_, "run"}, options, log);
  ASSERT_TRUE(
      WaitFor([&] { return ReadFile(log).find("does not answer") != std::string::npos; }, 20s))
      << ReadFile(log);
  ASSERT_TRUE(worker.running()) << ReadFile(log);

  // The database appears, with its schema, in one step: migrated under another name, renamed.
  const char* admin = std::getenv("TGINVITE_TEST_PG");
  ASSERT_NE(admin, nullptr);
  const std::string staging = db_->name() + "_staging";
  {
    auto conn = storage::PgConnection::Open(admin);
    ASSERT_TRUE(conn) << conn.error().message;
    ASSERT_TRUE(
        (*conn)->ExecuteScript(fmt::format("CREATE DATABASE {} TEMPLATE template0", staging)));
  }
  {
    testing::ProcessOptions migrate_options = options;
    migrate_options.env["TGINVITE_DB"] = PgTestDatabase::WithDatabase(url_, staging);
    ProcessResult migrated = testing::RunProcess({bin_, "migrate"}, migrate_options);
    ASSERT_EQ(migrated.exit_code, 0) << migrated.out << migrated.err;
  }
  {
    auto conn = storage::PgConnection::Open(admin);
    ASSERT_TRUE(conn) << conn.error().message;
    ASSERT_TRUE((*conn)->ExecuteScript(
        fmt::format("ALTER DATABASE {} RENAME TO {}", staging, db_->name())));
  }
  // It works: it registers itself and heartbeats.
  ASSERT_TRUE(WaitFor(
      [&] {
        return Cli({"status", "--json"}).out.find("heartbeat_age_ms") != std::string::npos;
      },
      30s))
      << ReadFile(log);
  EXPECT_NE(ReadFile(log).find("answers"), std::string::npos) << ReadFile(log);
  worker.Signal(SIGTERM);
  EXPECT_EQ(worker.Wait(30s), 0) << ReadFile(log);
  const std::string text = ReadFile(log);
  EXPECT_EQ(Occurrences(text, "does not answer"), 1u) << text;
  EXPECT_EQ(text.find(kPassword), std::string::npos) << text;
}

// A signal while waiting for the database ends the worker with 0.
TEST_F(DatabaseUrlTest, SignalEndsTheWaitForTheDatabase) {
  db_->Drop();
  testing::ProcessOptions options;
  options.cwd = dir_.path().string();
  options.env = {{"TGINVITE_DB", url_}};
  const std::string log = dir_.File("worker.log");
  ChildProcess worker({bin_, "run"}, options, log);
  ASSERT_TRUE(
      WaitFor([&] { return ReadFile(log).find("does not answer") != std::string::npos; }, 20s))
      << ReadFile(log);
  worker.Signal(SIGTERM);
  EXPECT_EQ(worker.Wait(10s), 0) << ReadFile(log);
  EXPECT_EQ(ReadFile(log).find(kPassword), std::string::npos);
}

}  // namespace
}  // namespace tginvite
