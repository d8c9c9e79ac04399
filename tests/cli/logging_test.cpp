// The log's text lines (cli/logging.h): one line per message, no colours off a terminal, and the
// journal's form when the stream is the one JOURNAL_STREAM names.
#include "cli/logging.h"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include <fcntl.h>
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fakes/temp_dir.h"

namespace tginvite::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;

TEST(LoggingTest, OneLogLineEscapesLineBreaksAndControls) {
  EXPECT_EQ(OneLogLine("plain text, ünïcode ✓"), "plain text, ünïcode ✓");
  EXPECT_EQ(OneLogLine("a\nb\r\nc\td"), "a\\nb\\r\\nc\\td");
  EXPECT_EQ(OneLogLine("\x1b[31mred\x7f"), "\\x1b[31mred\\x7f");
  EXPECT_EQ(OneLogLine("csi \xc2\x9b"
                       "2J"),
            "csi \\u009b2J");
  EXPECT_EQ(OneLogLine("back\\slash"), "back\\slash");
}

TEST(LoggingTest, IsJournalStreamComparesDeviceAndInode) {
  testing::TempDir dir;
  const std::string path = dir.File("log");
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT, 0600);
  ASSERT_GE(fd, 0);
  struct stat info {};
  ASSERT_EQ(fstat(fd, &info), 0);
  const std::string mine = fmt::format("{}:{}", info.st_dev, info.st_ino);
  EXPECT_TRUE(IsJournalStream(fd, mine.c_str()));
  EXPECT_FALSE(IsJournalStream(fd, nullptr));
  EXPECT_FALSE(IsJournalStream(fd, fmt::format("{}:{}", info.st_dev, info.st_ino + 1).c_str()));
  for (const char* bad : {"", ":", "12", "x:y", "1:2:3", "-1:5"}) {
    EXPECT_FALSE(IsJournalStream(fd, bad)) << bad;
  }
  close(fd);
}

// Logs `message` through ConfigureLogging(stderr) with standard error pointed at a file, as a
// service's standard error is the journal's socket, and returns what was written.
std::string LoggedToStderr(const std::string& path, LogFormat format,
                           const std::function<void()>& log) {
  std::fflush(stderr);
  const int saved = dup(2);
  const int file = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  dup2(file, 2);
  ConfigureLogging({.format = format, .level = LogLevel::kInfo, .stream = LogStream::kStderr});
  log();
  spdlog::default_logger()->flush();
  std::fflush(stderr);
  dup2(saved, 2);
  close(saved);
  close(file);
  ConfigureLogging(
      {.format = LogFormat::kText, .level = LogLevel::kInfo, .stream = LogStream::kStderr});
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() { unsetenv(name_); }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
};

TEST(LoggingTest, TextLinesAreOneLineWithATimestampAndNoColours) {
  testing::TempDir dir;
  unsetenv("JOURNAL_STREAM");
  const std::string text = LoggedToStderr(dir.File("log"), LogFormat::kText, [] {
    spdlog::info("campaign {}: paused\nforged line", "spring");
    spdlog::debug("below the level");
    spdlog::warn("careful");
  });
  EXPECT_THAT(text, MatchesRegex("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]{12} info campaign spring: "
                                 "paused\\\\nforged line\n"
                                 "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]{12} warning careful\n"));
  EXPECT_EQ(text.find('\x1b'), std::string::npos);
}

TEST(LoggingTest, TheJournalGetsPrioritiesAndNoTimestamp) {
  testing::TempDir dir;
  const std::string path = dir.File("journal");
  std::ofstream(path).close();
  struct stat info {};
  ASSERT_EQ(stat(path.c_str(), &info), 0);
  ScopedEnv journal("JOURNAL_STREAM", fmt::format("{}:{}", info.st_dev, info.st_ino));
  const std::string text = LoggedToStderr(path, LogFormat::kText, [] {
    spdlog::info("campaign spring: running -> paused by engine: two\nlines");
    spdlog::warn("careful");
    spdlog::error("broken");
  });
  EXPECT_EQ(text,
            "<6>info campaign spring: running -> paused by engine: two\\nlines\n"
            "<4>warning careful\n"
            "<3>error broken\n");

  // JSON lines stay exactly JSON, journal or not.
  const std::string json = LoggedToStderr(path, LogFormat::kJson, [] { spdlog::info("a\nb"); });
  EXPECT_THAT(
      json, MatchesRegex("\\{\"ts\":\"[0-9T:.-]+Z\",\"level\":\"info\",\"msg\":\"a\\\\nb\"\\}\n"));
}

}  // namespace
}  // namespace tginvite::cli
