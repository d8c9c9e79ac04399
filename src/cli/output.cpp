#include "cli/output.h"

#include <termios.h>

#include <algorithm>
#include <ctime>
#include <iostream>

#include <unistd.h>

#include "core/utf8.h"

namespace tginvite::cli {

int ExitCodeFor(const Error& error) {
  switch (error.code) {
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kNotFound:
    case ErrorCode::kAlreadyExists:
    case ErrorCode::kFailedPrecondition:
      return kExitUsage;
    case ErrorCode::kAborted:
    case ErrorCode::kUnavailable:
    case ErrorCode::kInternal:
      return kExitFailure;
  }
  return kExitFailure;
}

int Report(const Error& error) {
  fmt::print(stderr, "tginvite: {}\n", error.message);
  return ExitCodeFor(error);
}

void PrintWarnings(const std::vector<std::string>& warnings) {
  for (const std::string& warning : warnings) {
    fmt::print(stderr, "tginvite: warning: {}\n", warning);
  }
}

std::string WithThousands(int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

std::string FormatTime(int64_t unix_ms) {
  if (unix_ms == 0) return "";
  std::time_t seconds = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%d %H:%M:%SZ", &tm);
  return buffer;
}

std::string Table::Render() const {
  auto width_of = [](const std::string& s) {
    return core::IsValidUtf8(s) ? core::CodePointCount(s) : s.size();
  };
  std::vector<size_t> widths(header_.size(), 0);
  auto measure = [&](const std::vector<std::string>& row) {
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      widths[i] = std::max(widths[i], width_of(row[i]));
    }
  };
  measure(header_);
  for (const auto& row : rows_) measure(row);
  std::string out;
  auto emit = [&](const std::vector<std::string>& row) {
    std::string line;
    for (size_t i = 0; i < widths.size(); ++i) {
      const std::string cell = i < row.size() ? row[i] : "";
      std::string pad(widths[i] - width_of(cell), ' ');
      bool right = std::find(right_.begin(), right_.end(), i) != right_.end();
      line += right ? pad + cell : cell + pad;
      if (i + 1 < widths.size()) line += "  ";
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  };
  emit(header_);
  for (const auto& row : rows_) emit(row);
  return out;
}

Progress::Progress(std::string label) : label_(std::move(label)), enabled_(isatty(2) == 1) {}

Progress::~Progress() { Finish(); }

void Progress::Update(uint64_t done_bytes, uint64_t total_bytes, int64_t rows) {
  if (!enabled_) return;
  auto now = std::chrono::steady_clock::now();
  if (drawn_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  drawn_ = true;
  if (total_bytes > 0) {
    int percent = static_cast<int>(done_bytes * 100 / total_bytes);
    int filled = percent * 30 / 100;
    fmt::print(stderr, "\r{} [{}{}] {:3}%  {} rows", label_, std::string(filled, '#'),
               std::string(30 - filled, '.'), percent, WithThousands(rows));
  } else {
    fmt::print(stderr, "\r{}  {} rows", label_, WithThousands(rows));
  }
  std::fflush(stderr);
}

void Progress::Finish() {
  if (enabled_ && drawn_) {
    fmt::print(stderr, "\r\033[K");
    std::fflush(stderr);
    drawn_ = false;
  }
}

std::string ReadHidden(std::string_view prompt) {
  fmt::print(stderr, "{}", prompt);
  std::fflush(stderr);
  termios old_mode{};
  tcgetattr(STDIN_FILENO, &old_mode);
  termios quiet = old_mode;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  std::string line;
  std::getline(std::cin, line);
  tcsetattr(STDIN_FILENO, TCSANOW, &old_mode);
  fmt::print(stderr, "\n");
  return line;
}

}  // namespace tginvite::cli
