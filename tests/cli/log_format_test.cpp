// Whole-binary test of --log-format json: every line the worker writes is one JSON object.
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/stat.h>

#include "fakes/process.h"
#include "fakes/temp_dir.h"

namespace tginvite {
namespace {

using testing::ProcessResult;

class LogFormatTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* bin = std::getenv("TGINVITE_BIN");
    ASSERT_NE(bin, nullptr) << "TGINVITE_BIN is not set (run through ctest)";
    bin_ = bin;
  }

  ProcessResult Run(std::vector<std::string> args) {
    args.insert(args.begin(), bin_);
    testing::ProcessOptions options;
    options.cwd = dir_.path().string();
    options.env = {{"TGINVITE_DB", "sqlite:" + dir_.File("t.db")}};
    ProcessResult r = testing::RunProcess(args, options);
    EXPECT_EQ(r.exit_code, 0) << "stdout: " << r.out << "\nstderr: " << r.err;
    return r;
  }

  // Checks that every line of `text` is a JSON object with ts, level and msg; returns the msgs.
  static std::vector<std::string> JsonLines(const std::string& text) {
    std::vector<std::string> messages;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
      nlohmann::json object = nlohmann::json::parse(line, nullptr, false);
      EXPECT_TRUE(object.is_object()) << "not a JSON object: " << line;
      if (!object.is_object()) continue;
      EXPECT_TRUE(object["ts"].is_string()) << line;
      EXPECT_TRUE(object["level"].is_string()) << line;
      EXPECT_TRUE(object["msg"].is_string()) << line;
      if (object["msg"].is_string()) messages.push_back(object["msg"].get<std::string>());
    }
    return messages;
  }

  testing::TempDir dir_;
  std::string bin_;
};

TEST_F(LogFormatTest, RunUntilIdleWritesOnlyJsonLines) {
  Run({"init"});
  Run({"account", "add", "demo"});
  std::ofstream(dir_.File("t.html")) << "Hello \"{first_name}\", join <b>{campaign}</b>: {link}";
  Run({"campaign", "create", "spring", "--account", "demo", "--chat", "-1001234567890",
       "--template-file", "t.html"});
  Run({"campaign", "start", "spring"});

  ProcessResult run = Run({"--log-format", "json", "run", "--until-idle"});
  std::vector<std::string> messages = JsonLines(run.out);
  std::vector<std::string> err_messages = JsonLines(run.err);
  messages.insert(messages.end(), err_messages.begin(), err_messages.end());
  ASSERT_FALSE(messages.empty()) << "the worker logged nothing";
  bool rehearsal_warning = false;
  for (const std::string& m : messages) rehearsal_warning |= m.find("REHEARSAL") != m.npos;
  EXPECT_TRUE(rehearsal_warning) << run.out << run.err;

  // The default stays text.
  ProcessResult text = Run({"run", "--until-idle"});
  EXPECT_EQ(nlohmann::json::parse(text.out + text.err, nullptr, false).is_discarded(), true);
  EXPECT_NE((text.out + text.err).find("REHEARSAL"), std::string::npos);
}

// Under systemd, with standard output the stream JOURNAL_STREAM names, the worker's lines carry
// journald's priority prefix and no timestamp of their own, and no colour codes.
TEST_F(LogFormatTest, UnderSystemdLinesCarryPrioritiesAndNoTimestamp) {
  Run({"init"});
  Run({"account", "add", "demo"});
  std::ofstream(dir_.File("t.html")) << "Hello {first_name}: {link}";
  Run({"campaign", "create", "spring", "--account", "demo", "--chat", "-1001234567890",
       "--template-file", "t.html"});
  Run({"campaign", "start", "spring"});

  const std::string journal = dir_.File("journal.log");
  std::ofstream(journal).close();
  struct stat info {};
  ASSERT_EQ(stat(journal.c_str(), &info), 0);
  testing::ProcessOptions options;
  options.cwd = dir_.path().string();
  options.env = {{"TGINVITE_DB", "sqlite:" + dir_.File("t.db")},
                 {"JOURNAL_STREAM", fmt::format("{}:{}", info.st_dev, info.st_ino)},
                 {"TERM", "xterm-256color"}};
  testing::ChildProcess worker({bin_, "run", "--until-idle"}, options, journal);
  ASSERT_EQ(worker.Wait(std::chrono::seconds(60)), 0);

  std::ifstream in(journal);
  std::string line;
  int lines = 0;
  bool started = false;
  while (std::getline(in, line)) {
    ++lines;
    EXPECT_TRUE(line.starts_with("<6>info ") || line.starts_with("<4>warning ") ||
                line.starts_with("<3>error "))
        << line;
    EXPECT_EQ(line.find('\x1b'), std::string::npos) << line;
    started |= line.find(" worker ") != std::string::npos && line.ends_with(" started on sqlite");
  }
  EXPECT_GT(lines, 0);
  EXPECT_TRUE(started) << "the worker's first line, as <6>info worker HOST:PID started on sqlite";
}

TEST_F(LogFormatTest, UnknownLogFormatIsRefused) {
  Run({"init"});
  testing::ProcessOptions options;
  options.cwd = dir_.path().string();
  options.env = {{"TGINVITE_DB", "sqlite:" + dir_.File("t.db")}};
  ProcessResult bad =
      testing::RunProcess({bin_, "--log-format", "xml", "run", "--until-idle"}, options);
  EXPECT_NE(bad.exit_code, 0);
}

}  // namespace
}  // namespace tginvite
