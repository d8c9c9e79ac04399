#include "cli/logging.h"

#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>

#include <nlohmann/json.hpp>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

namespace tginvite::cli {
namespace {

spdlog::level::level_enum SpdlogLevel(LogLevel level) {
  switch (level) {
    case LogLevel::kTrace:
      return spdlog::level::trace;
    case LogLevel::kDebug:
      return spdlog::level::debug;
    case LogLevel::kInfo:
      return spdlog::level::info;
    case LogLevel::kWarn:
      return spdlog::level::warn;
    case LogLevel::kError:
      return spdlog::level::err;
  }
  return spdlog::level::info;
}

// One JSON object per line; the message is JSON-escaped (invalid UTF-8 replaced).
class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const auto since_epoch = msg.time.time_since_epoch();
    const int64_t ms = std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch).count();
    const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char stamp[32] = {};
    std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &utc);
    nlohmann::ordered_json line = {
        {"ts", fmt::format("{}.{:03}Z", stamp, ms % 1000)},
        {"level", std::string(spdlog::level::to_string_view(msg.level).data(),
                              spdlog::level::to_string_view(msg.level).size())},
        {"msg", std::string(msg.payload.data(), msg.payload.size())}};
    std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    text += '\n';
    dest.append(text.data(), text.data() + text.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

// %* in a pattern: the message through OneLogLine.
class OneLineMessage final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    const std::string line = OneLogLine(std::string_view(msg.payload.data(), msg.payload.size()));
    dest.append(line.data(), line.data() + line.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<OneLineMessage>();
  }
};

// %J in a pattern: the syslog priority journald reads off the start of a line ("<6>" for info).
class JournalPriority final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    int priority = 6;
    switch (msg.level) {
      case spdlog::level::trace:
      case spdlog::level::debug:
        priority = 7;
        break;
      case spdlog::level::info:
        priority = 6;
        break;
      case spdlog::level::warn:
        priority = 4;
        break;
      case spdlog::level::err:
        priority = 3;
        break;
      default:
        priority = 2;
        break;
    }
    const std::string prefix = fmt::format("<{}>", priority);
    dest.append(prefix.data(), prefix.data() + prefix.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JournalPriority>();
  }
};

}  // namespace

std::string OneLogLine(std::string_view message) {
  std::string line;
  line.reserve(message.size());
  for (size_t i = 0; i < message.size(); ++i) {
    const auto byte = static_cast<unsigned char>(message[i]);
    if (byte == '\n') {
      line += "\\n";
    } else if (byte == '\r') {
      line += "\\r";
    } else if (byte == '\t') {
      line += "\\t";
    } else if (byte < 0x20 || byte == 0x7f) {
      line += fmt::format("\\x{:02x}", byte);
    } else if (byte == 0xc2 && i + 1 < message.size() &&
               static_cast<unsigned char>(message[i + 1]) >= 0x80 &&
               static_cast<unsigned char>(message[i + 1]) <= 0x9f) {
      // U+0080..U+009F: C1 controls, which some terminals obey (U+009B starts an escape).
      line += fmt::format("\\u{:04x}", static_cast<unsigned char>(message[i + 1]));
      ++i;
    } else {
      line += static_cast<char>(byte);
    }
  }
  return line;
}

bool IsJournalStream(int fd, const char* journal_stream) {
  if (journal_stream == nullptr) return false;
  const std::string_view text(journal_stream);
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos) return false;
  unsigned long long device = 0;
  unsigned long long inode = 0;
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  auto [after_device, device_error] = std::from_chars(begin, begin + colon, device);
  auto [after_inode, inode_error] = std::from_chars(begin + colon + 1, end, inode);
  if (device_error != std::errc() || after_device != begin + colon || inode_error != std::errc() ||
      after_inode != end) {
    return false;
  }
  struct stat info {};
  if (fstat(fd, &info) != 0) return false;
  return static_cast<unsigned long long>(info.st_dev) == device &&
         static_cast<unsigned long long>(info.st_ino) == inode;
}

void ConfigureLogging(const LogSetup& setup) {
  FILE* file = setup.stream == LogStream::kStdout ? stdout : stderr;
  const bool journal = IsJournalStream(fileno(file), std::getenv("JOURNAL_STREAM"));
  const char* no_color = std::getenv("NO_COLOR");
  const spdlog::color_mode colors = journal || (no_color != nullptr && *no_color != '\0')
                                        ? spdlog::color_mode::never
                                        : spdlog::color_mode::automatic;
  std::shared_ptr<spdlog::sinks::sink> sink;
  if (setup.stream == LogStream::kStdout) {
    sink = std::make_shared<spdlog::sinks::stdout_color_sink_mt>(colors);
  } else {
    sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>(colors);
  }
  if (setup.format == LogFormat::kJson) {
    sink->set_formatter(std::make_unique<JsonFormatter>());
  } else {
    auto formatter = std::make_unique<spdlog::pattern_formatter>();
    formatter->add_flag<OneLineMessage>('*');
    formatter->add_flag<JournalPriority>('J');
    formatter->set_pattern(journal ? "%J%l %*" : "%Y-%m-%dT%H:%M:%S.%e %^%l%$ %*");
    sink->set_formatter(std::move(formatter));
  }
  auto logger = std::make_shared<spdlog::logger>("", std::move(sink));
  logger->set_level(SpdlogLevel(setup.level));
  spdlog::set_default_logger(std::move(logger));
}

}  // namespace tginvite::cli
