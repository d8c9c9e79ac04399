// A fleet on PostgreSQL, whole processes: several `tginvite run` workers share one database and
// the Bot API test double (strict limits, counting duplicates and violations) while workers are
// killed and restarted, PostgreSQL itself restarts, and a worker is frozen past its lease.
// Needs TGINVITE_TEST_PG (and TGINVITE_TEST_PG_RESTART for the restart), which scripts/test.sh
// provides; skipped with a message otherwise.
#include <fstream>
#include <iostream>
#include <map>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <unistd.h>

#include "fakes/bot_api_double.h"
#include "fakes/process.h"
#include "fakes/temp_dir.h"
#include "storage/pg_test_database.h"
#include "storage/postgres/pg_connection.h"

namespace tginvite {
namespace {

using testing::BotApiDouble;
using testing::BotApiDoubleOptions;
using testing::ChildProcess;
using testing::PgDatabaseTest;
using testing::ProcessResult;
using testing::TempDir;
using testing::WaitFor;
using namespace std::chrono_literals;

constexpr int64_t kFirstUser = 500000;

// `make sanitize` runs every process under ASan and UBSan, two to three times slower, and the
// double sits inside this test process, instrumented too, beside three workers and PostgreSQL on
// the same two cores. Requests then reach the double with more jitter than the 50 ms of burst it
// forgives (measured: 81 and 98 violations in two runs, each by exactly one slot, as the double
// measures a request that reached its lock late as arriving with the one before it; and the early
// requests their 429s cause), so only the normal build checks the rate limits; what no timing excuses
// (nobody messaged twice, nothing lost, unknowns within the bound) is checked in both, and the
// sanitized run gets twice the time for a quarter of the contacts.
#ifdef TGINVITE_SANITIZED_BUILD
constexpr bool kCheckRateLimits = false;
constexpr int kSlowdown = 2;
#else
constexpr bool kCheckRateLimits = true;
constexpr int kSlowdown = 1;
#endif

std::string TokenFor(int account) {
  return fmt::format("{}:TEST-fleet-token-AbCdEfGhIjKlMnOpQrStUv{:02d}", 700000 + account, account);
}

class FleetTest : public PgDatabaseTest {
 protected:
  void SetUp() override {
    const char* bin = std::getenv("TGINVITE_BIN");
    ASSERT_NE(bin, nullptr) << "TGINVITE_BIN is not set (run through ctest)";
    bin_ = bin;
    PgDatabaseTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
  }

  std::map<std::string, std::string> Env() {
    // A fleet's every process has the same key in its environment (docs/operations.md).
    std::map<std::string, std::string> env = {
        {"TGINVITE_DB", db_->url()},
        {"TGINVITE_SECRET_KEY",
         "5c2f0e8a9b1d4c3e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e"}};
    for (int a = 0; a < accounts_; ++a) env[fmt::format("BOT_TOKEN_{}", a)] = TokenFor(a);
    return env;
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

  void StartDouble(int accounts, BotApiDoubleOptions options) {
    accounts_ = accounts;
    options.tokens.clear();
    for (int a = 0; a < accounts; ++a) options.tokens.push_back(TokenFor(a));
    double_ = std::make_unique<BotApiDouble>(std::move(options));
  }

  // One bot account and one running campaign per account, `per_account` contacts each.
  void SetUpCampaigns(int per_account, std::map<std::string, std::string> settings) {
    Cli({"migrate"});
    std::ofstream(dir_.File("t.html")) << "Hello {first_name}, join us: {link}";
    for (int a = 0; a < accounts_; ++a) {
      std::string account = fmt::format("bot{}", a);
      std::string campaign = fmt::format("c{}", a);
      Cli({"account", "add", account, "--bot-token-env", fmt::format("BOT_TOKEN_{}", a),
           "--api-base", double_->base_url()});
      Cli({"campaign", "create", campaign, "--account", account, "--chat",
           fmt::format("-100123456{:04d}", a), "--template-file", "t.html"});
      // Each campaign gets its own slice of the contacts.
      std::ofstream part(dir_.File(fmt::format("c{}.csv", a)));
      part << "telegram_user_id,first_name\n";
      for (int i = a * per_account; i < (a + 1) * per_account; ++i) {
        part << kFirstUser + i << ",User" << i << "\n";
      }
      part.close();
      Cli({"import", fmt::format("c{}.csv", a), "--campaign", campaign});
    }
    for (const char* key : {"pacing.batch_size", "pacing.delay_min", "pacing.delay_max"}) {
      Cli({"settings", "set", key, key == std::string_view("pacing.batch_size") ? "0" : "0s"});
    }
    for (const auto& [key, value] : settings) Cli({"settings", "set", key, value});
    for (int a = 0; a < accounts_; ++a) Cli({"campaign", "start", fmt::format("c{}", a)});
  }

  std::unique_ptr<ChildProcess> StartWorker(int slot, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {bin_, "run"};
    args.insert(args.end(), extra.begin(), extra.end());
    testing::ProcessOptions options;
    options.cwd = dir_.path().string();
    options.env = Env();
    return std::make_unique<ChildProcess>(args, options,
                                          dir_.File(fmt::format("worker{}.log", slot)));
  }

  std::string Logs() {
    std::string all;
    for (int slot = 0; slot < 8; ++slot) {
      std::ifstream in(dir_.File(fmt::format("worker{}.log", slot)));
      if (!in) continue;
      std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      if (text.size() > 4000) text = "..." + text.substr(text.size() - 4000);
      all += fmt::format("--- worker{}.log\n{}\n", slot, text);
    }
    return all;
  }

  // Invitations by state over every campaign, read straight from the database.
  std::map<std::string, int64_t> Counts() {
    std::map<std::string, int64_t> counts;
    auto conn = storage::PgConnection::Open(db_->url());
    EXPECT_TRUE(conn) << conn.error().message;
    if (!conn) return counts;
    Status read =
        storage::Session(**conn).ForEach("SELECT state, COUNT(*) FROM invitations GROUP BY state",
                                         {}, [&counts](const storage::Row& row) -> Status {
                                           counts[row.Text(0)] = row.Int(1);
                                           return Ok();
                                         });
    EXPECT_TRUE(read) << read.error().message;
    return counts;
  }

  Result<std::vector<storage::Row>> Query(std::string_view sql,
                                          std::initializer_list<storage::Value> params = {}) {
    ASSIGN_OR_RETURN(auto conn, storage::PgConnection::Open(db_->url()));
    return storage::Session(*conn).Query(sql, params);
  }

  TempDir dir_;
  std::string bin_;
  std::unique_ptr<BotApiDouble> double_;
  int accounts_ = 1;
};

// Invariants 1, 2 and 4 across a fleet: three workers, 20,000 contacts over 10 accounts, one
// worker SIGKILLed every 2 s and restarted, PostgreSQL restarted once mid-run. Nobody is messaged
// twice, no account goes over its limit, every contact ends terminal, and unknowns stay within
// kills x the in-flight window of a worker (accounts x dispatch.in_flight).
//
// The double enforces 60/s per account and forgives 200 ms of burst (rate_tolerance); the workers
// space slots 1/50 s apart and never send more than kMaxLateness (20 ms) after a slot. The double
// times a request when its handler starts, so a stall of the loaded machine (three workers,
// PostgreSQL restarting, 400 double threads on two cores) that holds requests back and releases
// them together looks like a burst: with 50 ms of tolerance one CI run saw 6 such bunches, the
// worst 7.6 ms over. What this test guards is the sustained pace: a fleet whose workers did not
// share one account's slots would send 100-150/s and go over any finite tolerance within a second. (The first version of this test failed with 119-140 violations: a
// claim's first slots started at claim time and had passed by the time its links and sending mark
// were done, so those requests left together, late, next to other workers' on-time ones.)
// One worker polls each bot's updates at a time, so the double never ends a poll with 409.
// Invariant I1 (docs/invariants.md)
TEST_F(FleetTest, ThreeWorkersSurviveKillsAndAPostgresRestart) {
  constexpr int kAccounts = 10;
  // A quarter of the contacts under the sanitizers: what they check (memory, races in the
  // workers) needs the kills and the restart, not the volume, and ctest gives the test 300 s.
  constexpr int kPerAccount = 2000 / (kSlowdown * kSlowdown);
  constexpr int kContacts = kAccounts * kPerAccount;
  constexpr int kInFlight = 8;
  constexpr int kWorkers = 3;
  const char* restart = std::getenv("TGINVITE_TEST_PG_RESTART");
  ASSERT_NE(restart, nullptr) << "TGINVITE_TEST_PG_RESTART is not set (scripts/test.sh sets it)";
  BotApiDoubleOptions options;
  options.account_rate = 60;  // strict: every token's limit, enforced by the double
  options.rate_tolerance = 200ms;
  options.latency = 2ms;
  options.threads = 400;  // 3 workers x 10 accounts keep in-flight and long-poll connections open
  StartDouble(kAccounts, options);
  SetUpCampaigns(kPerAccount, {{"telegram.rate", "50"},
                               {"dispatch.in_flight", std::to_string(kInFlight)},
                               {"dispatch.lease", "2s"}});

  std::vector<std::unique_ptr<ChildProcess>> workers;
  for (int w = 0; w < kWorkers; ++w) workers.push_back(StartWorker(w));
  const auto started = std::chrono::steady_clock::now();
  int kills = 0;
  bool restarted = false;
  for (int next = 0; double_->TotalDeliveries() < kContacts * 85 / 100;
       next = (next + 1) % kWorkers) {
    ASSERT_LT(std::chrono::steady_clock::now() - started, kSlowdown * 150s) << "too slow\n"
                                                                           << Logs();
    // A kill every 2 s: wait on the clock (and bail out if a worker dies by itself).
    const auto at = std::chrono::steady_clock::now() + 2s;
    EXPECT_FALSE(WaitFor(
        [&] {
          for (auto& w : workers) {
            if (!w->running()) return true;
          }
          return false;
        },
        std::chrono::duration_cast<std::chrono::milliseconds>(at -
                                                              std::chrono::steady_clock::now())))
        << "a worker exited by itself\n"
        << Logs();
    workers[next]->Signal(SIGKILL);
    ASSERT_EQ(workers[next]->Wait(10s), 128 + SIGKILL);
    ++kills;
    if (!restarted && double_->TotalDeliveries() >= kContacts * 40 / 100) {
      // The two running workers live through it; one started while the server is down waits.
      ProcessResult r = testing::RunProcess({"/bin/sh", "-c", restart});
      ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
      restarted = true;
      std::cout << "PostgreSQL restarted after " << double_->TotalDeliveries() << " deliveries\n";
    }
    workers[next] = StartWorker(next);
  }
  EXPECT_TRUE(restarted);
  // The fleet finishes the rest on its own; then every worker stops gracefully.
  ASSERT_TRUE(WaitFor(
      [&] {
        auto c = Counts();
        return c["pending"] + c["waiting"] + c["sending"] == 0;
      },
      kSlowdown * 120s))
      << Logs();
  for (auto& w : workers) w->Signal(SIGTERM);
  for (auto& w : workers) EXPECT_EQ(w->Wait(kSlowdown * 30s), 0) << Logs();

  EXPECT_EQ(double_->DuplicateDeliveries(), 0) << "somebody was messaged twice";
  if (kCheckRateLimits) {
    EXPECT_EQ(double_->RateViolations(), 0) << "an account went over its limit, the worst by "
                                            << double_->WorstViolation().count() / 1000.0 << " ms";
    EXPECT_EQ(double_->EarlyRequests(), 0);
  } else {
    std::cout << "fleet: rate limits not checked under sanitizers: " << double_->RateViolations()
              << " violations, " << double_->EarlyRequests() << " early requests\n";
  }
  EXPECT_EQ(double_->Conflicts(), 0) << "two workers polled one bot's updates at once";
  auto counts = Counts();
  int64_t total = 0;
  for (auto& [state, n] : counts) total += n;
  EXPECT_EQ(total, kContacts);
  EXPECT_EQ(counts["pending"] + counts["waiting"] + counts["sending"], 0);
  EXPECT_LE(counts["unknown"], int64_t{kills} * kAccounts * kInFlight);
  EXPECT_GE(double_->TotalDeliveries(), counts["sent"]);
  EXPECT_LE(double_->TotalDeliveries(), counts["sent"] + counts["unknown"]);
  // `unknown` only for requests that may have left: a kill leaves as unknown without a message
  // only the killed worker's requests in flight or about to leave, a few milliseconds' worth on
  // each of its ten accounts (here: at most 2 an account a kill, on a machine this loaded: three
  // workers and a PostgreSQL restart on two cores stretch those milliseconds; marked a batch at a
  // time, it was up to the in-flight window, 8 an account). Nobody got two messages, so the
  // messages beyond those recorded as sent went to unknown rows.
  const int64_t never_left = counts["sent"] + counts["unknown"] - double_->TotalDeliveries();
  std::cout << "fleet: " << never_left << " unknown rows whose contact got no message\n";
  EXPECT_LE(never_left, int64_t{2} * kills * kAccounts) << "unknown rows that never left";
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::cout << "fleet: " << kills << " kills, " << nlohmann::json(counts).dump() << ", "
            << double_->TotalDeliveries() << " deliveries in " << seconds << " s\n";
}

// A worker frozen (SIGSTOP) past its lease while it holds claims: another worker rescues and
// finishes the work; when the frozen one resumes (SIGCONT) its late outcomes are fenced off, so
// nothing the other worker wrote changes and nobody is messaged twice.
// Invariant I9 (docs/invariants.md)
TEST_F(FleetTest, FrozenWorkerDoesNotOverwriteTheWorkerThatTookOver) {
  BotApiDoubleOptions options;
  options.account_rate = 0;
  options.latency = 400ms;  // requests stay in flight long enough to be frozen with them
  StartDouble(1, options);
  SetUpCampaigns(120,
                 {{"telegram.rate", "40"}, {"dispatch.in_flight", "8"}, {"dispatch.lease", "2s"}});
  auto frozen = StartWorker(0);
  ASSERT_TRUE(WaitFor([&] { return double_->TotalDeliveries() >= 10; }, 30s)) << Logs();
  frozen->Signal(SIGSTOP);
  const int64_t frozen_at = double_->TotalDeliveries();

  auto taker = StartWorker(1, {"--until-idle"});
  ASSERT_EQ(taker->Wait(90s), 0) << Logs();
  auto before = Query("SELECT id, state, gen, COALESCE(sent_at, 0) FROM invitations ORDER BY id");
  ASSERT_TRUE(before) << before.error().message;
  auto max_attempt = Query("SELECT COALESCE(MAX(id), 0) FROM attempts");
  ASSERT_TRUE(max_attempt) << max_attempt.error().message;
  const int64_t last_attempt = (*max_attempt)[0].Int(0);

  frozen->Signal(SIGCONT);
  // The resumed worker records what it had in flight (attempts are appended whether or not the
  // outcome still applies), then finds nothing left to claim.
  const std::string worker = fmt::format("%:{}", frozen->pid());
  EXPECT_TRUE(WaitFor(
      [&] {
        auto late = Query("SELECT COUNT(*) FROM attempts WHERE id > ? AND worker LIKE ?",
                          {last_attempt, worker});
        return late && (*late)[0].Int(0) > 0;
      },
      20s))
      << "the frozen worker recorded nothing after it resumed\n"
      << Logs();
  frozen->Signal(SIGTERM);
  EXPECT_EQ(frozen->Wait(30s), 0) << Logs();

  auto after = Query("SELECT id, state, gen, COALESCE(sent_at, 0) FROM invitations ORDER BY id");
  ASSERT_TRUE(after) << after.error().message;
  ASSERT_EQ(after->size(), before->size());
  int changed = 0;
  for (size_t i = 0; i < after->size(); ++i) {
    const storage::Row& b = (*before)[i];
    const storage::Row& a = (*after)[i];
    if (a.Text(1) != b.Text(1) || a.Int(2) != b.Int(2) || a.Int(3) != b.Int(3)) ++changed;
  }
  EXPECT_EQ(changed, 0) << "the resumed worker overwrote results of the worker that took over";
  EXPECT_EQ(double_->DuplicateDeliveries(), 0);
  auto counts = Counts();
  EXPECT_EQ(counts["pending"] + counts["waiting"] + counts["sending"], 0);
  std::cout << "frozen after " << frozen_at << " deliveries; final "
            << nlohmann::json(counts).dump() << ", " << double_->TotalDeliveries()
            << " deliveries\n";
}

}  // namespace
}  // namespace tginvite
