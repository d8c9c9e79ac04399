// Presentation helpers of the command line: exit codes, tables, numbers, times, progress.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace tginvite::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

// The one mapping from error codes to exit codes: bad input -> 2, everything else -> 1.
int ExitCodeFor(const Error& error);

// Prints "tginvite: <message>" to stderr and returns the exit code for it.
int Report(const Error& error);

// Prints "tginvite: warning: <warning>" to stderr for each.
void PrintWarnings(const std::vector<std::string>& warnings);

// 1234567 -> "1,234,567".
std::string WithThousands(int64_t n);

// Unix milliseconds -> "2026-11-27 18:24:03Z"; "" for 0.
std::string FormatTime(int64_t unix_ms);

// A plain text table: a header row, then rows; numeric columns are right-aligned.
class Table {
 public:
  explicit Table(std::vector<std::string> header) : header_(std::move(header)) {}
  void AddRow(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  void RightAlign(size_t column) { right_.push_back(column); }
  std::string Render() const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
  std::vector<size_t> right_;
};

// A progress line on stderr, drawn only when stderr is a terminal, at most ten times a second.
class Progress {
 public:
  explicit Progress(std::string label);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void Update(uint64_t done_bytes, uint64_t total_bytes, int64_t rows);
  void Finish();

 private:
  std::string label_;
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point last_draw_{};
};

// Reads a line from the terminal with echo turned off (a password), after printing `prompt`.
std::string ReadHidden(std::string_view prompt);

}  // namespace tginvite::cli
