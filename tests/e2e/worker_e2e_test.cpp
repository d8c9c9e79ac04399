// Whole-process tests of the worker: `tginvite run` against the Bot API test double on
// 127.0.0.1, killed, locked out of its database and fed garbage, with the double counting every
// delivery, duplicate and rate-limit violation.
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
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

// The crash tests send at 1000/s against a double that allows 1200/s. The double times a request
// when its handler starts, so a stall of the machine that releases held-back requests together
// looks like a burst; 150 ms of tolerance absorbs that, while a worker that lost its slots over a
// restart (and sent at twice the pace) still goes over it within a second.
constexpr std::chrono::milliseconds kCrashTolerance{150};

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

  // A campaign `name` (reach both) of contacts by username ("user<i>") or phone only, with ids
  // for the first `with_ids`; returns each contact's start link by username or phone, as the
  // export gives it.
  std::map<std::string, std::string> StartLinkCampaign(const std::string& name, int usernames,
                                                       int phones, int with_ids = 0) {
    std::ofstream(dir_.File("t.html")) << "Hello {first_name}, join us: {link}";
    Cli({"campaign", "create", name, "--account", "bot", "--chat", "-1001234567890",
         "--template-file", "t.html"});
    const std::string file = name + ".csv";
    std::ofstream csv(dir_.File(file));
    csv << "telegram_user_id,username,phone,first_name\n";
    for (int i = 0; i < usernames; ++i) {
      csv << (i < with_ids ? std::to_string(kFirstUser + i) : "") << "," << name << "user" << i
          << ",,U" << i << "\n";
    }
    for (int i = 0; i < phones; ++i) csv << ",,+4915112" << 100000 + i << ",P" << i << "\n";
    csv.close();
    Cli({"import", file, "--campaign", name});
    Cli({"export", name, "--out", name + "-links.csv"});
    std::ifstream in(dir_.File(name + "-links.csv"));
    std::string line;
    std::getline(in, line);
    EXPECT_TRUE(line.ends_with(",start_link\r")) << line;
    std::map<std::string, std::string> links;
    while (std::getline(in, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      std::vector<std::string> cells;
      std::stringstream row(line);
      for (std::string cell; std::getline(row, cell, ',');) cells.push_back(cell);
      EXPECT_EQ(cells.size(), 13u) << line;
      if (cells.size() != 13) continue;
      std::string phone = cells[4];  // written as '+49…, so that no spreadsheet reads a formula
      if (phone.starts_with('\'')) phone.erase(0, 1);
      links[cells[1].empty() ? phone : cells[1]] = cells[12];
    }
    return links;
  }

  // `unknown` means "this request may have left", nothing wider: a request is marked as leaving
  // right before it leaves, so after each kill only the few requests in flight or about to leave
  // can be unknown without their contact having a message. These tests send at 1,000/s, where a
  // stall of a few milliseconds on a loaded machine holds several requests between their mark and
  // the double: up to 4 a kill on average here (measured under the full suite: 1.1-2.7; marked a
  // batch at a time, 6.6-7.8). At the 30/s, bench/kill_benchmark.sh measures 0.08 a kill.
  // Nobody got two messages (checked before), so the messages beyond those recorded as sent went
  // to unknown rows.
  void ExpectFewUnknownsNeverLeft(const nlohmann::json& counts, int kills) {
    constexpr int kPerKill = 4;
    const int64_t never_left = counts["sent"].get<int64_t>() + counts["unknown"].get<int64_t>() -
                               double_->TotalDeliveries();
    std::cout << never_left << " unknown rows whose contact got no message, after " << kills
              << " kills\n";
    EXPECT_LE(never_left, kPerKill * kills) << "unknown rows that never left";
  }

  static std::string KeyOf(const std::string& link) {
    EXPECT_TRUE(link.starts_with("https://t.me/test_bot?start=")) << link;
    return link.substr(link.find('=') + 1);
  }

  TempDir dir_;
  std::string bin_;
  std::unique_ptr<BotApiDouble> double_;
};

// Invariants 1 and 2 under crashes: SIGKILL at random moments, restart each time; nobody is
// messaged twice, every contact ends terminal, and unknowns stay within kills x in-flight window.
// Invariant I1 (docs/invariants.md)
TEST_F(WorkerE2eTest, SurvivesTwentyKillsWithoutDuplicatesOrLosses) {
  constexpr int kContacts = 5000;
  constexpr int kKills = 20;
  constexpr int kInFlight = 16;
  BotApiDoubleOptions options;
  options.account_rate = 1200;
  options.rate_tolerance = kCrashTolerance;
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
  ExpectFewUnknownsNeverLeft(counts, kKills);
  // Every contact recorded as sent really got exactly one message: no outcome was lost.
  EXPECT_GE(double_->TotalDeliveries(), counts["sent"].get<int64_t>());
  EXPECT_LE(double_->TotalDeliveries(),
            counts["sent"].get<int64_t>() + counts["unknown"].get<int64_t>());
}

// A request delivered but answered by a reset is ambiguous: held as unknown, not resent.
// Invariant I10 (docs/invariants.md)
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
// Invariant I4 (docs/invariants.md)
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
// Invariant I6 (docs/invariants.md)
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
// Invariant I5 (docs/invariants.md)
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

// Start links end to end: contacts known by username or phone only wait for their start; those
// who press Start through their personal link get exactly one message each, within the limits;
// a replay, a forged payload, a cancelled campaign's payload and a stranger's bare /start send
// nothing. The double refuses to deliver to anyone who has not pressed Start, as Telegram does.
// Invariant I1 (docs/invariants.md)
TEST_F(WorkerE2eTest, StartLinksReachContactsWithoutAnIdOnce) {
  BotApiDoubleOptions options;
  options.require_start = true;
  StartDouble(options);
  Cli({"init"});
  Cli({"account", "add", "bot", "--bot-token-env", "BOT_TOKEN", "--api-base",
       double_->base_url()});
  for (const char* key : {"pacing.batch_size", "pacing.delay_min", "pacing.delay_max"}) {
    Cli({"settings", "set", key, key == std::string_view("pacing.batch_size") ? "0" : "0s"});
  }
  std::map<std::string, std::string> links = StartLinkCampaign("main", 10, 10);
  ASSERT_EQ(links.size(), 20u);
  std::map<std::string, std::string> old_links = StartLinkCampaign("old", 1, 0);
  Cli({"campaign", "cancel", "old"});
  Cli({"campaign", "start", "main"});
  EXPECT_EQ(Counts()["awaiting_start"], 20);

  auto worker = StartWorker();
  int64_t user = 500000;
  std::vector<int64_t> starters;
  for (int i = 0; i < 5; ++i) {
    const std::string username = "mainuser" + std::to_string(i);
    starters.push_back(++user);
    double_->AddStart(user, username, KeyOf(links.at(username)));
    starters.push_back(++user);
    double_->AddStart(user, "", KeyOf(links.at("+4915112" + std::to_string(100000 + i))));
  }
  double_->AddStart(starters[0], "mainuser0", KeyOf(links.at("mainuser0")));  // a replay
  double_->AddStart(600001, "mallory", "0123456789abcdef0123456789abcdef");   // forged
  double_->AddStart(600002, "olduser0", KeyOf(old_links.at("olduser0")));     // cancelled
  double_->AddStart(600003, "nobody", "");                                     // a stranger

  ASSERT_TRUE(WaitFor([&] { return double_->TotalDeliveries() >= 10; }, 60s)) << WorkerLog();
  // Every /start was applied (the last ones are logged), then nothing more goes out.
  ASSERT_TRUE(WaitFor([&] { return WorkerLog().find("user 600003 (bare /start)") !=
                                   std::string::npos; },
                      30s))
      << WorkerLog();
  const std::string log = WorkerLog();
  EXPECT_THAT(log, HasSubstr("user 600001 left alone: unknown_payload"));
  EXPECT_THAT(log, HasSubstr("user 600002 left alone: already_handled"));
  worker->Signal(SIGTERM);
  ASSERT_EQ(worker->Wait(30s), 0) << WorkerLog();

  EXPECT_EQ(double_->TotalDeliveries(), 10);
  for (int64_t starter : starters) EXPECT_EQ(double_->DeliveriesTo(starter), 1) << starter;
  EXPECT_EQ(double_->DuplicateDeliveries(), 0);
  EXPECT_EQ(double_->RateViolations(), 0);
  nlohmann::json counts = Counts();
  EXPECT_EQ(counts["sent"], 10);
  EXPECT_EQ(counts["awaiting_start"], 10);
  EXPECT_EQ(counts["failed"], 0);
  // The funnel: 20 links exported, 10 opened.
  nlohmann::json status = nlohmann::json::parse(Cli({"status", "--json"}).out);
  nlohmann::json funnel;
  for (const nlohmann::json& campaign : status["campaigns"]) {
    if (campaign["name"] == "main") funnel = campaign["funnel"];
  }
  EXPECT_EQ(funnel["start_links_exported"], 20) << status.dump();
  EXPECT_EQ(funnel["started"], 10) << status.dump();
  EXPECT_EQ(funnel["sent"], 10) << status.dump();
}

// Invariant 1 through kills when half the contacts arrive by /start: the direct half is sent
// while the other half's starts come in, the worker is killed at random moments, and nobody is
// messaged twice.
// Invariant I1 (docs/invariants.md)
TEST_F(WorkerE2eTest, KillsWhileHalfTheContactsArriveByStartSendNothingTwice) {
  constexpr int kContacts = 1000;
  constexpr int kKills = 10;
  constexpr int kInFlight = 16;
  BotApiDoubleOptions options;
  options.account_rate = 1200;
  options.rate_tolerance = kCrashTolerance;
  options.latency = 1ms;
  StartDouble(options);
  Cli({"init"});
  Cli({"account", "add", "bot", "--bot-token-env", "BOT_TOKEN", "--api-base",
       double_->base_url()});
  for (const auto& [key, value] :
       std::vector<std::pair<std::string, std::string>>{{"pacing.batch_size", "0"},
                                                        {"pacing.delay_min", "0s"},
                                                        {"pacing.delay_max", "0s"},
                                                        {"telegram.rate", "1000"},
                                                        {"dispatch.in_flight", "16"},
                                                        {"dispatch.lease", "2s"}}) {
    Cli({"settings", "set", key, value});
  }
  // user0..user999: the first half with ids (sent at once), the others by username only.
  std::map<std::string, std::string> links =
      StartLinkCampaign("main", kContacts, 0, kContacts / 2);
  Cli({"campaign", "start", "main"});
  std::mt19937 random(20261203);
  int next_start = kContacts / 2;
  for (int kill = 0; kill < kKills; ++kill) {
    auto worker = StartWorker();
    // A tenth of the waiting half presses Start (twice, some of them) before each kill.
    for (int i = 0; i < kContacts / 2 / kKills; ++i, ++next_start) {
      const std::string username = "mainuser" + std::to_string(next_start);
      double_->AddStart(kFirstUser + next_start, username, KeyOf(links.at(username)));
      if (i % 7 == 0) double_->AddStart(kFirstUser + next_start, username, KeyOf(links.at(username)));
    }
    const int64_t before = double_->TotalDeliveries();
    const int64_t wanted = std::uniform_int_distribution<int64_t>(1, 60)(random);
    const bool progressed = WaitFor(
        [&] { return double_->TotalDeliveries() >= before + wanted || !worker->running(); }, 30s);
    ASSERT_TRUE(progressed) << "no progress before kill " << kill << "\n" << WorkerLog();
    ASSERT_TRUE(worker->running()) << "the worker exited by itself\n" << WorkerLog();
    worker->Signal(SIGKILL);
    ASSERT_EQ(worker->Wait(10s), 128 + SIGKILL);
  }
  // Every contact has pressed Start or had an id: all of them end terminal.
  auto last = StartWorker();
  ASSERT_TRUE(WaitFor(
      [&] {
        nlohmann::json counts = Counts();
        return counts["pending"] == 0 && counts["sending"] == 0 && counts["waiting"] == 0 &&
               counts["awaiting_start"] == 0;
      },
      120s))
      << Counts().dump() << "\n" << WorkerLog();
  last->Signal(SIGTERM);
  ASSERT_EQ(last->Wait(30s), 0) << WorkerLog();

  EXPECT_EQ(double_->DuplicateDeliveries(), 0) << "somebody was messaged twice";
  EXPECT_EQ(double_->RateViolations(), 0);
  ExpectEveryContactTerminal(kContacts);
  nlohmann::json counts = Counts();
  EXPECT_LE(counts["unknown"].get<int64_t>(), kKills * kInFlight);
  ExpectFewUnknownsNeverLeft(counts, kKills);
  EXPECT_GE(double_->TotalDeliveries(), counts["sent"].get<int64_t>());
  EXPECT_LE(double_->TotalDeliveries(),
            counts["sent"].get<int64_t>() + counts["unknown"].get<int64_t>());
  std::cout << "after " << kKills << " kills with starts: " << counts.dump() << "\n";
}

}  // namespace
}  // namespace tginvite
