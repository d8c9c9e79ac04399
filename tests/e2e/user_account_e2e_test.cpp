// Whole-process tests of a user account: `tginvite account add --user` logging in on stdin and
// `tginvite run` inviting through the fake TDLib (tests/fakes/fake_tdjson, loaded as
// $TGINVITE_TDJSON), killed with SIGKILL again and again. The fake's journal, written before each
// answer, counts every add and message across the kills.
#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <signal.h>

#include "fakes/fake_tdjson_path.h"
#include "fakes/process.h"
#include "fakes/temp_dir.h"

namespace tginvite {
namespace {

using nlohmann::json;
using testing::ChildProcess;
using testing::ProcessResult;
using testing::TempDir;
using testing::WaitFor;
using namespace std::chrono_literals;

constexpr int64_t kFirstUser = 300000;

class UserAccountE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* bin = std::getenv("TGINVITE_BIN");
    ASSERT_NE(bin, nullptr) << "TGINVITE_BIN is not set (run through ctest)";
    bin_ = bin;
    fake_ = testing::FakeTdJsonPath();
    if (fake_.empty()) GTEST_SKIP() << "the fake TDLib was not built (TGINVITE_FAKE_TDJSON)";
  }

  // `contacts` users of the fake Telegram: every third refuses adds (privacy), and the contacts
  // come by id, by @username and by phone in turn.
  void WriteScenario(int contacts) {
    json users = json::array();
    for (int i = 0; i < contacts; ++i) {
      users.push_back({{"id", kFirstUser + i},
                       {"username", "member" + std::to_string(i)},
                       {"phone", "+4915112" + std::to_string(100000 + i)},
                       {"first_name", "M" + std::to_string(i)},
                       {"privacy_restricted", i % 3 == 1}});
    }
    json scenario = {
        {"me", {{"id", 1000}, {"username", "staff_account"}, {"first_name", "Staff"},
                {"phone", "+15550000000"}}},
        {"auth", {{"code", "12345"}}},
        {"users", users},
        {"chats", json::array({{{"id", -1001234567890}, {"title", "Readers"}}})},
        {"latency_ms", 3}};
    std::ofstream(dir_.File("scenario.json")) << scenario.dump();
    std::ofstream csv(dir_.File("c.csv"));
    csv << "telegram_user_id,username,phone,first_name\n";
    for (int i = 0; i < contacts; ++i) {
      switch (i % 3) {
        case 0: csv << kFirstUser + i << ",,,M" << i << "\n"; break;
        case 1: csv << ",member" << i << ",,M" << i << "\n"; break;
        default: csv << ",,+4915112" << 100000 + i << ",M" << i << "\n"; break;
      }
    }
  }

  std::map<std::string, std::string> Env() {
    return {{"TGINVITE_DB", "sqlite:" + dir_.File("t.db")},
            {"TGINVITE_TDJSON", fake_},
            {"TGINVITE_FAKE_TDJSON_SCENARIO", dir_.File("scenario.json")},
            {"TGINVITE_FAKE_TDJSON_JOURNAL", dir_.File("journal")},
            {"API_ID", "1234567"},
            {"API_HASH", "0123456789abcdef0123456789abcdef"}};
  }

  ProcessResult Cli(std::vector<std::string> args, std::string stdin_text = "") {
    args.insert(args.begin(), bin_);
    testing::ProcessOptions options;
    options.cwd = dir_.path().string();
    options.env = Env();
    options.stdin_text = std::move(stdin_text);
    ProcessResult r = testing::RunProcess(args, options);
    EXPECT_EQ(r.exit_code, 0) << ::testing::PrintToString(args) << "\n" << r.out << r.err;
    return r;
  }

  std::unique_ptr<ChildProcess> StartWorker(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {bin_, "run"};
    args.insert(args.end(), extra.begin(), extra.end());
    testing::ProcessOptions options;
    options.cwd = dir_.path().string();
    options.env = Env();
    return std::make_unique<ChildProcess>(args, options, dir_.File("worker.log"));
  }

  std::string WorkerLog() {
    std::ifstream in(dir_.File("worker.log"));
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }

  // The journal's effects of one kind, counted by user.
  std::map<int64_t, int> Effects(std::string_view effect) {
    std::map<int64_t, int> by_user;
    std::ifstream in(dir_.File("journal"));
    for (std::string line; std::getline(in, line);) {
      json entry = json::parse(line, nullptr, false);
      if (entry.is_object() && entry.value("effect", "") == effect) {
        ++by_user[entry.value("user_id", int64_t{0})];
      }
    }
    return by_user;
  }

  int64_t TotalEffects() {
    int64_t n = 0;
    for (const char* effect : {"add", "message"}) {
      for (auto& [user, count] : Effects(effect)) n += count;
    }
    return n;
  }

  json Counts() {
    return json::parse(Cli({"status", "--json"}).out)["campaigns"][0]["counts"];
  }

  TempDir dir_;
  std::string bin_;
  std::string fake_;
};

TEST_F(UserAccountE2eTest, LoginsTakeTheCodeOnStdinAndAWrongOneIsAskedAgain) {
  WriteScenario(3);
  Cli({"init"});
  ProcessResult added = Cli({"account", "add", "staff", "--user", "--api-id-env", "API_ID",
                             "--api-hash-env", "API_HASH", "--phone", "+15550000000"},
                            "99999\n12345\n");
  EXPECT_NE(added.err.find("not accepted"), std::string::npos) << added.err;
  EXPECT_NE(added.out.find("@staff_account"), std::string::npos) << added.out;
  ProcessResult list = Cli({"account", "list"});
  EXPECT_NE(list.out.find("user"), std::string::npos) << list.out;
  // Neither the api_hash nor the phone's digits reach the output.
  EXPECT_EQ(list.out.find("0123456789abcdef"), std::string::npos) << list.out;
  ProcessResult again = Cli({"account", "login", "staff"});  // the session is kept: no code
  EXPECT_NE(again.out.find("logged in"), std::string::npos) << again.out;
}

// Invariant 1 on the user-account path: SIGKILL at random moments; nobody is added or messaged
// twice, every contact ends terminal, and unknowns stay within kills x the in-flight window.
// (Each restart waits for the killed worker's lease on the account: a TDLib session is driven by
// one process at a time.)
// Invariant I1 (docs/invariants.md)
TEST_F(UserAccountE2eTest, KillsNeverRepeatAnAddOrAMessage) {
  constexpr int kContacts = 60;
  constexpr int kKills = 4;
  constexpr int kInFlight = 4;
  WriteScenario(kContacts);
  Cli({"init"});
  Cli({"account", "add", "staff", "--user", "--api-id-env", "API_ID", "--api-hash-env",
       "API_HASH", "--phone", "+15550000000"},
      "12345\n");
  std::ofstream(dir_.File("t.html")) << "Hello {first_name}, join us: {link}";
  Cli({"campaign", "create", "main", "--account", "staff", "--chat", "-1001234567890",
       "--template-file", "t.html"});
  Cli({"import", "c.csv", "--campaign", "main"});
  for (const auto& [key, value] : std::vector<std::pair<std::string, std::string>>{
           {"pacing.batch_size", "0"},
           {"pacing.delay_min", "0s"},
           {"pacing.delay_max", "0s"},
           {"pacing.daily_cap", "0"},
           {"tdlib.import_contacts_per_day", "1000"},
           {"dispatch.in_flight", std::to_string(kInFlight)},
           {"dispatch.lease", "2s"}}) {
    Cli({"settings", "set", key, value});
  }
  Cli({"campaign", "start", "main"});
  std::mt19937 random(20261203);
  for (int kill = 0; kill < kKills; ++kill) {
    auto worker = StartWorker();
    const int64_t before = TotalEffects();
    const int64_t wanted = std::uniform_int_distribution<int64_t>(1, 6)(random);
    // A killed worker's lease on the account (20 s) must expire before the next one takes over.
    const bool progressed =
        WaitFor([&] { return TotalEffects() >= before + wanted || !worker->running(); }, 60s);
    ASSERT_TRUE(progressed) << "no progress before kill " << kill << "\n" << WorkerLog();
    ASSERT_TRUE(worker->running()) << "the worker exited by itself\n" << WorkerLog();
    worker->Signal(SIGKILL);
    ASSERT_EQ(worker->Wait(10s), 128 + SIGKILL);
  }
  auto last = StartWorker({"--until-idle"});
  ASSERT_EQ(last->Wait(120s), 0) << WorkerLog();

  for (const char* effect : {"add", "message"}) {
    for (const auto& [user, count] : Effects(effect)) {
      EXPECT_EQ(count, 1) << "user " << user << " got " << count << " " << effect << "s";
    }
  }
  json counts = Counts();
  EXPECT_EQ(counts["pending"], 0);
  EXPECT_EQ(counts["sending"], 0);
  EXPECT_EQ(counts["waiting"], 0);
  int64_t total = 0;
  for (auto& [state, n] : counts.items()) total += n.get<int64_t>();
  EXPECT_EQ(total, kContacts);
  EXPECT_LE(counts["unknown"].get<int64_t>(), kKills * kInFlight);
  // Those whose privacy refused the add got the link instead (unless their outcome was lost).
  EXPECT_GE(static_cast<int64_t>(Effects("message").size()) + counts["unknown"].get<int64_t>(),
            kContacts / 3);
  std::cout << "after " << kKills << " kills: " << counts.dump() << "\n";
}

}  // namespace
}  // namespace tginvite
