// Whole-process tests of the worker: `tginvite run` against the Bot API test double on
// 127.0.0.1, killed, locked out of its database and fed garbage, with the double counting every
// delivery, duplicate and rate-limit violation.
#include <fstream>
#include <iostream>
#include <random>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <sqlite3.h>

#include "fakes/bot_api_double.h"
#include "fakes/process.h"
#include "fakes/temp_dir.h"

namespace tginvite {
namespace {

using testing::BotApiDouble;
using testing::BotApiDoubleOptions;
using testing::ChildProcess;
using ::testing::HasSubstr;
using testing::ProcessResult;
using testing::TempDir;
using testing::WaitFor;
using namespace std::chrono_literals;

constexpr int64_t kFirstUser = 100000;

class WorkerE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* bin = std::getenv("TGINVITE_BIN");
    ASSERT_NE(bin, nullptr) << "TGINVITE_BIN is not set (run through ctest)";
    bin_ = bin;
  }

  void StartDouble(BotApiDoubleOptions options) {
    double_ = std::make_unique<BotApiDouble>(std::move(options));
  }

  std::map<std::string, std::string> Env() {
    return {{"TGINVITE_DB", "sqlite:" + dir_.File("t.db")},
            {"BOT_TOKEN", std::string(testing::kDoubleToken)}};
  }

  ProcessResult Cli(std::vector<std::string> args) {
    args.insert(args.begin(), bin_);
    testing::ProcessOptions options;
    options.cwd = dir_.path().string();
    options.env = Env();
    ProcessResult r = testing::RunProcess(args, options);
    EXPECT_EQ(r.exit_code, 0) << ::testing::PrintToString(args) << "\n" << r.out << r.err;
    return r;
  }

  // A bot account on the double, a running campaign of `contacts` users, and settings.
  void SetUpCampaign(int contacts, std::map<std::string, std::string> settings) {
    Cli({"init"});
    Cli({"account", "add", "bot", "--bot-token-env", "BOT_TOKEN", "--api-base",
         double_->base_url()});
    std::ofstream(dir_.File("t.html")) << "Hello {first_name}, join us: {link}";
    Cli({"campaign", "create", "main", "--account", "bot", "--chat", "-1001234567890",
         "--template-file", "t.html"});
    std::ofstream csv(dir_.File("c.csv"));
    csv << "telegram_user_id,first_name\n";
    for (int i = 0; i < contacts; ++i) csv << kFirstUser + i << ",User" << i << "\n";
    csv.close();
    Cli({"import", "c.csv", "--campaign", "main"});
    // No pacing (delay_min first: it may not exceed delay_max), then the test's own settings.
    for (const char* key : {"pacing.batch_size", "pacing.delay_min", "pacing.delay_max"}) {
      Cli({"settings", "set", key, key == std::string_view("pacing.batch_size") ? "0" : "0s"});
    }
    for (const auto& [key, value] : settings) Cli({"settings", "set", key, value});
    Cli({"campaign", "start", "main"});
  }

  std::unique_ptr<ChildProcess> StartWorker(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {bin_, "run"};
    args.insert(args.end(), extra.begin(), extra.end());
    testing::ProcessOptions options;
    options.cwd = dir_.path().string();
    options.env = Env();
    return std::make_unique<ChildProcess>(args, options, dir_.File("worker.log"));
  }

  nlohmann::json Counts() {
    auto status = nlohmann::json::parse(Cli({"status", "--json"}).out);
    return status["campaigns"][0]["counts"];
  }

  std::string WorkerLog() {
    std::ifstream in(dir_.File("worker.log"));
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }

  void ExpectEveryContactTerminal(int contacts) {
    nlohmann::json counts = Counts();
    EXPECT_EQ(counts["pending"], 0);
    EXPECT_EQ(counts["sending"], 0);
    EXPECT_EQ(counts["waiting"], 0);
    int64_t total = 0;
    for (auto& [state, n] : counts.items()) total += n.get<int64_t>();
    EXPECT_EQ(total, contacts);
  }

  TempDir dir_;
  std::string bin_;
  std::unique_ptr<BotApiDouble> double_;
};

// Invariants 1 and 2 under crashes: SIGKILL at random moments, restart each time; nobody is
// messaged twice, every contact ends terminal, and unknowns stay within kills x in-flight window.
TEST_F(WorkerE2eTest, SurvivesTwentyKillsWithoutDuplicatesOrLosses) {
  constexpr int kContacts = 5000;
  constexpr int kKills = 20;
  constexpr int kInFlight = 16;
  BotApiDoubleOptions options;
  options.account_rate = 1200;
  options.latency = 1ms;
  StartDouble(options);
  SetUpCampaign(kContacts, {{"telegram.rate", "1000"},
                            {"dispatch.in_flight", std::to_string(kInFlight)},
                            {"dispatch.lease", "2s"}});
  std::mt19937 random(20261127);
  for (int kill = 0; kill < kKills; ++kill) {
    auto worker = StartWorker();
    const int64_t before = double_->TotalDeliveries();
    const int64_t wanted = std::uniform_int_distribution<int64_t>(1, 150)(random);
    const bool progressed = WaitFor(
        [&] { return double_->TotalDeliveries() >= before + wanted || !worker->running(); }, 30s);
    ASSERT_TRUE(progressed) << "no progress before kill " << kill << "\n" << WorkerLog();
    ASSERT_TRUE(worker->running()) << "the worker exited by itself\n" << WorkerLog();
    worker->Signal(SIGKILL);
    ASSERT_EQ(worker->Wait(10s), 128 + SIGKILL);
  }
  auto last = StartWorker({"--until-idle"});
  ASSERT_EQ(last->Wait(120s), 0) << WorkerLog();

  EXPECT_EQ(double_->DuplicateDeliveries(), 0) << "somebody was messaged twice";
  EXPECT_EQ(double_->RateViolations(), 0);
  EXPECT_EQ(double_->EarlyRequests(), 0);
  ExpectEveryContactTerminal(kContacts);
  nlohmann::json counts = Counts();
  EXPECT_LE(counts["unknown"].get<int64_t>(), kKills * kInFlight);
  std::cout << "after " << kKills << " kills: " << counts.dump() << ", "
            << double_->TotalDeliveries() << " deliveries\n";
  // Every contact recorded as sent really got exactly one message: no outcome was lost.
  EXPECT_GE(double_->TotalDeliveries(), counts["sent"].get<int64_t>());
  EXPECT_LE(double_->TotalDeliveries(),
            counts["sent"].get<int64_t>() + counts["unknown"].get<int64_t>());
}

// A request delivered but answered by a reset is ambiguous: held as unknown, not resent.
TEST_F(WorkerE2eTest, DeliveredThenResetEndsUnknownAndIsNotResent) {
  BotApiDoubleOptions options;
  options.account_rate = 0;
  StartDouble(options);
  double_->ScriptUser(kFirstUser + 3, BotApiDouble::Fault::kDeliverThenReset);
  SetUpCampaign(10, {{"telegram.rate", "200"}});
  auto worker = StartWorker({"--until-idle"});
  ASSERT_EQ(worker->Wait(60s), 0) << WorkerLog();
  EXPECT_EQ(double_->DeliveriesTo(kFirstUser + 3), 1);
  nlohmann::json counts = Counts();
  EXPECT_EQ(counts["unknown"], 1);
  EXPECT_EQ(counts["sent"], 9);
  EXPECT_EQ(double_->DuplicateDeliveries(), 0);

  // Only the operator's explicit word resends it, and the command asks first.
  std::vector<std::string> resend = {bin_, "campaign", "resend-unknown", "main"};
  testing::ProcessOptions options_env;
  options_env.cwd = dir_.path().string();
  options_env.env = Env();
  ProcessResult asked = testing::RunProcess(resend, options_env);
  EXPECT_EQ(asked.exit_code, 2);
  EXPECT_THAT(asked.err, HasSubstr("--yes"));
  EXPECT_EQ(Counts()["unknown"], 1);
  Cli({"campaign", "resend-unknown", "main", "--yes"});
  auto again = StartWorker({"--until-idle"});
  ASSERT_EQ(again->Wait(60s), 0) << WorkerLog();
  EXPECT_EQ(Counts()["sent"], 10);
  EXPECT_EQ(double_->DeliveriesTo(kFirstUser + 3), 2);
}

// A token Telegram refuses stops the account; a run waiting for idle says why and exits 1.
TEST_F(WorkerE2eTest, RefusedTokenStopsARunUntilIdle) {
  BotApiDoubleOptions options;
  options.account_rate = 0;
  StartDouble(options);
  SetUpCampaign(5, {{"telegram.rate", "100"}});
  double_->ScriptMethod("sendMessage", BotApiDouble::Fault::kUnauthorized);
  auto worker = StartWorker({"--until-idle"});
  ASSERT_EQ(worker->Wait(60s), 1) << WorkerLog();
  EXPECT_THAT(WorkerLog(), HasSubstr("cannot send (unauthorized)"));
  auto status = nlohmann::json::parse(Cli({"status", "--json"}).out);
  EXPECT_EQ(status["accounts"][0]["health"], "unauthorized");
  EXPECT_EQ(status["campaigns"][0]["counts"]["failed"], 0) << "contacts paid for the token";
}

// Invariant 4: Telegram's limits at their defaults are never exceeded, and after a 429 nothing
// goes out before its retry_after has passed.
TEST_F(WorkerE2eTest, NeverExceedsTheLimitsAndWaitsOutRetryAfter) {
  BotApiDoubleOptions options;
  options.account_rate = 30;
  options.retry_after_seconds = 2;
  StartDouble(options);
  double_->ScriptUser(kFirstUser + 20, BotApiDouble::Fault::kFlood);
  SetUpCampaign(120, {});  // telegram.rate stays at its default, 30/s
  auto worker = StartWorker({"--until-idle"});
  ASSERT_EQ(worker->Wait(90s), 0) << WorkerLog();
  EXPECT_EQ(double_->RateViolations(), 0);
  EXPECT_EQ(double_->EarlyRequests(), 0);
  EXPECT_EQ(double_->DuplicateDeliveries(), 0);
  EXPECT_EQ(Counts()["sent"], 120);
}

// Invariant 6: another process holds the database locked for 10 s mid-run; the worker waits,
// continues and loses nothing.
TEST_F(WorkerE2eTest, WaitsOutALockedDatabase) {
  BotApiDoubleOptions options;
  options.account_rate = 0;
  StartDouble(options);
  SetUpCampaign(1500, {{"telegram.rate", "150"}});
  auto worker = StartWorker({"--until-idle"});
  ASSERT_TRUE(WaitFor([&] { return double_->TotalDeliveries() >= 100; }, 30s)) << WorkerLog();
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(dir_.File("t.db").c_str(), &db), SQLITE_OK);
    // The worker writes all the time: take the lock when its transaction ends (without a busy
    // timeout, BEGIN EXCLUSIVE fails at once with SQLITE_BUSY whenever one is open).
    sqlite3_busy_timeout(db, 10000);
    ASSERT_EQ(sqlite3_exec(db, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK);
    const int64_t at_lock = double_->TotalDeliveries();
    const auto until = std::chrono::steady_clock::now() + 10s;
    // The lock is the scenario: it is held for its 10 s while the worker must stay alive.
    EXPECT_FALSE(WaitFor([&] { return !worker->running(); }, 10s)) << WorkerLog();
    EXPECT_GE(std::chrono::steady_clock::now(), until);
    EXPECT_LE(double_->TotalDeliveries(), at_lock + 16 * 2) << "sent without recording";
    sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_close(db);
  }
  ASSERT_EQ(worker->Wait(120s), 0) << WorkerLog();
  EXPECT_EQ(double_->DuplicateDeliveries(), 0);
  ExpectEveryContactTerminal(1500);
  nlohmann::json counts = Counts();
  EXPECT_EQ(counts["sent"], 1500);
}

// Invariant 5: garbage settings written into the database by hand: the worker runs on the
// defaults and warns once per bad value.
TEST_F(WorkerE2eTest, RunsOnDefaultsWhenSettingsAreGarbage) {
  BotApiDoubleOptions options;
  options.account_rate = 0;
  StartDouble(options);
  SetUpCampaign(20, {{"telegram.rate", "200"}});
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(dir_.File("t.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "UPDATE settings SET value = 'very fast' WHERE key = 'telegram.rate';"
                         "INSERT INTO settings (scope, key, value, updated_at) VALUES "
                         "(0, 'dispatch.in_flight', 'many', 0)",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto worker = StartWorker({"--until-idle"});
  ASSERT_EQ(worker->Wait(60s), 0) << WorkerLog();
  EXPECT_EQ(Counts()["sent"], 20);
  std::string log = WorkerLog();
  auto mentions = [&log](std::string_view key) {
    size_t n = 0;
    for (size_t at = 0; (at = log.find(key, at)) != std::string::npos; ++at) ++n;
    return n;
  };
  EXPECT_EQ(mentions("telegram.rate"), 1u) << log;
  EXPECT_EQ(mentions("dispatch.in_flight"), 1u) << log;
}

// SIGTERM: stop claiming, record what is in flight, exit 0; nothing is left claimed.
TEST_F(WorkerE2eTest, SigtermStopsGracefully) {
  BotApiDoubleOptions options;
  options.account_rate = 0;
  options.latency = 20ms;
  StartDouble(options);
  SetUpCampaign(2000, {{"telegram.rate", "100"}});
  auto worker = StartWorker();
  ASSERT_TRUE(WaitFor([&] { return double_->TotalDeliveries() >= 50; }, 30s)) << WorkerLog();
  worker->Signal(SIGTERM);
  ASSERT_EQ(worker->Wait(30s), 0) << WorkerLog();
  nlohmann::json counts = Counts();
  EXPECT_EQ(counts["sending"], 0);
  EXPECT_EQ(counts["unknown"], 0);
  EXPECT_EQ(counts["sent"].get<int64_t>(), double_->TotalDeliveries());
}

}  // namespace
}  // namespace tginvite
