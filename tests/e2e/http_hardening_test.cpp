// Whole-process tests of `tginvite serve` under abuse: slow-loris connections, a 1 GiB chunked
// upload, hostile requests — it keeps answering /healthz, its memory stays bounded (read from
// /proc), and it never exits.
#include <fstream>
#include <sstream>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include "fakes/process.h"
#include "fakes/raw_http.h"
#include "fakes/temp_dir.h"

namespace tginvite {
namespace {

using namespace std::chrono_literals;
using testing::ChildProcess;
using testing::RawConnection;
using testing::RawRequest;
using testing::StatusOf;
using testing::TempDir;
using testing::WaitFor;

#if defined(__SANITIZE_ADDRESS__)
// AddressSanitizer's shadow memory and quarantine add a few hundred MB of their own.
constexpr int64_t kRssBoundKb = 600 << 10;
#else
constexpr int64_t kRssBoundKb = 100 << 10;
#endif

// A field of /proc/PID/status in kB ("VmHWM": the peak resident set), -1 when unreadable.
int64_t ProcStatusKb(int pid, std::string_view field) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with(field) && line.size() > field.size() && line[field.size()] == ':') {
      return std::stoll(line.substr(field.size() + 1));
    }
  }
  return -1;
}

class HttpHardeningTest : public ::testing::Test {
 protected:
  void SetUp() override {
    signal(SIGPIPE, SIG_IGN);
    const char* bin = std::getenv("TGINVITE_BIN");
    ASSERT_NE(bin, nullptr) << "TGINVITE_BIN is not set (run through ctest)";
    bin_ = bin;
    options_.cwd = dir_.path().string();
    options_.env = {{"TGINVITE_DB", "sqlite:" + dir_.File("t.db")},
                    {"TGINVITE_ADMIN_PASSWORD", "a-long-enough-password"}};
    ASSERT_EQ(testing::RunProcess({bin_, "init"}, options_).exit_code, 0);
    testing::ProcessResult token = testing::RunProcess({bin_, "token", "create", "ops"}, options_);
    ASSERT_EQ(token.exit_code, 0) << token.err;
    token_ = token.out.substr(0, token.out.find('\n'));
    port_ = testing::FreePort();
    ASSERT_GT(port_, 0);
    server_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{bin_, "serve", "--listen", "127.0.0.1:" + std::to_string(port_)},
        options_, dir_.File("serve.log"));
    ASSERT_TRUE(WaitFor([&] { return HealthzStatus(1s) == 200; }, 20s)) << Log();
  }

  void TearDown() override {
    ASSERT_TRUE(server_->running()) << "the server exited\n" << Log();
    server_->Signal(SIGTERM);
    EXPECT_EQ(server_->Wait(20s), 0) << Log();
  }

  int HealthzStatus(std::chrono::milliseconds timeout) {
    auto response = RawRequest(port_, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", timeout);
    return response ? StatusOf(*response) : 0;
  }

  std::string Log() {
    std::ifstream in(dir_.File("serve.log"));
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  TempDir dir_;
  std::string bin_;
  testing::ProcessOptions options_;
  std::string token_;
  int port_ = 0;
  std::unique_ptr<ChildProcess> server_;
};

// 64 clients that send their header a byte at a time hold no thread: /healthz answers within a
// second all the while, and each of them is cut off at the header deadline (10 s).
// Invariant I12 (docs/invariants.md)
TEST_F(HttpHardeningTest, SlowLorisConnectionsNeitherBlockProbesNorStayForever) {
  std::vector<std::unique_ptr<RawConnection>> slow;
  for (int i = 0; i < 64; ++i) {
    slow.push_back(std::make_unique<RawConnection>(port_));
    ASSERT_TRUE(slow.back()->connected());
    ASSERT_TRUE(slow.back()->Send("GET /api/v1/campaigns HTTP/1.1\r\nHost: x\r\n"));
  }
  const auto started = std::chrono::steady_clock::now();
  int probes = 0;
  while (std::chrono::steady_clock::now() - started < 4s) {
    for (auto& connection : slow) connection->Send("X");  // one more byte of a header name
    EXPECT_EQ(HealthzStatus(1s), 200) << "probe " << probes << " got no answer within 1 s";
    ++probes;
    std::this_thread::sleep_for(200ms);  // the slow clients' pace, not a wait for a condition
  }
  EXPECT_GE(probes, 10);
  int closed = 0;
  for (auto& connection : slow) closed += connection->ClosedWithin(15s) ? 1 : 0;
  EXPECT_EQ(closed, 64) << "every slow connection is closed at the header deadline";
  EXPECT_EQ(HealthzStatus(1s), 200);
}

// A 1 GiB chunked upload (an API token's, to the CSV route) is cut at the route's 32 MiB with a
// 413, and the server's peak memory stays under 100 MB.
// Invariant I12 (docs/invariants.md)
TEST_F(HttpHardeningTest, AGigabyteChunkedUploadIsCutAndMemoryStaysBounded) {
  const int64_t before_kb = ProcStatusKb(server_->pid(), "VmHWM");
  ASSERT_GT(before_kb, 0);
  RawConnection upload(port_);
  ASSERT_TRUE(upload.Send("POST /api/v1/imports HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                          token_ + "\r\nContent-Type: text/csv\r\nTransfer-Encoding: chunked\r\n\r\n"));
  const std::string chunk = "10000\r\n" + std::string(0x10000, 'a') + "\r\n";  // 64 KiB
  std::optional<std::string> answer;
  int64_t sent = 0;
  for (int i = 0; i < (1 << 14) && !answer; ++i) {  // up to 1 GiB
    if (!upload.Send(chunk)) break;
    sent += 0x10000;
    if (i % 64 == 63) answer = upload.ReadResponse(0ms);
  }
  if (!answer) answer = upload.ReadResponse(10s);
  ASSERT_TRUE(answer) << "no answer after " << sent << " bytes\n" << Log();
  EXPECT_EQ(StatusOf(*answer), 413) << *answer;
  EXPECT_LT(sent, int64_t{64} << 20) << "the server answered long before the upload ended";
  const int64_t peak_kb = ProcStatusKb(server_->pid(), "VmHWM");
  EXPECT_LT(peak_kb, kRssBoundKb) << "peak RSS " << peak_kb << " kB (was " << before_kb << " kB)";
  EXPECT_EQ(HealthzStatus(1s), 200);
}

// A few of the hostile requests against the real process (the whole table runs in process in the
// web suite): none of them ends it.
// Invariant I12 (docs/invariants.md)
TEST_F(HttpHardeningTest, HostileRequestsNeverEndTheProcess) {
  for (std::string request :
       {std::string("GET /%FF HTTP/1.1\r\nHost: x\r\n\r\n"),
        std::string("OPTIONS /%C0%AF HTTP/1.1\r\nHost: x\r\n\r\n"),
        std::string("GET /assets/%FF HTTP/1.1\r\nHost: x\r\n\r\n"),
        "POST /api/v1/login HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n" +
            std::string(100000, '['),
        std::string("POST /api/v1/login HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: "
                    "2\r\n\r\n{}")}) {
    auto response = RawRequest(port_, request);
    ASSERT_TRUE(response) << request.substr(0, 40) << "\n" << Log();
    EXPECT_GE(StatusOf(*response), 400);
    EXPECT_LT(StatusOf(*response), 500);
    EXPECT_EQ(HealthzStatus(1s), 200);
  }
}

}  // namespace
}  // namespace tginvite
