// A streaming RFC 4180 CSV reader: one record at a time, memory bounded by one record (at most
// 1 MiB) plus a fixed read buffer, so million-row files import without loading them whole.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace tginvite::core {

struct CsvRecord {
  int64_t line = 0;                 // physical line (1-based) where the record starts
  std::vector<std::string> fields;  // empty when `problem` is set
  std::string problem;              // empty when well-formed; otherwise a lower-case reason
};

// Reads records one at a time from a file or a string. Fields are separated by ',' and records by
// LF or CRLF; quoted fields may hold commas, "" escapes and line breaks (kept verbatim). A UTF-8
// BOM at the start is skipped, blank lines are skipped, a final newline ends the last record.
// A malformed record (stray quote, text after a closing quote, unterminated quote, longer than
// 1 MiB, read error) is returned with `problem` set and the reader carries on with the next
// record; after a read error it ends. Not thread-safe.
class CsvReader {
 public:
  // kNotFound if `path` does not exist, kInvalidArgument if it cannot be read as a file; the
  // message names the path.
  static Result<std::unique_ptr<CsvReader>> Open(const std::string& path);
  static std::unique_ptr<CsvReader> FromString(std::string text);

  CsvReader(const CsvReader&) = delete;
  CsvReader& operator=(const CsvReader&) = delete;
  ~CsvReader();

  // The next record, or nullopt at the end of the input.
  std::optional<CsvRecord> Next();
  // Bytes of the input consumed so far, for a progress bar.
  uint64_t bytes_read() const;
  // The input's size in bytes, or 0 if unknown (a pipe).
  uint64_t total_bytes() const;

 private:
  enum class FieldEnd { kSeparator, kRecordEnd };
  static constexpr size_t kBufferSize = 64 * 1024;
  static constexpr uint64_t kMaxRecordBytes = 1024 * 1024;

  CsvReader(int fd, uint64_t total_bytes);
  explicit CsvReader(std::string text);

  bool ReadMore();
  bool Refill();
  int Peek();
  uint64_t Position() const { return buffer_offset_ + pos_; }
  void SkipBom();
  void ParseRecord();
  FieldEnd ParseUnquoted();
  FieldEnd ParseQuoted();
  void StartField();
  void Consume(const char* data, size_t size);
  void CheckRecordSize();
  void SetProblem(std::string_view problem);
  void SkipRestOfLine();
  bool IsBlankLine() const;

  int fd_ = -1;  // -1 when reading from a string
  std::string buffer_;
  size_t pos_ = 0;
  size_t end_ = 0;
  uint64_t buffer_offset_ = 0;  // input offset of buffer_[0]
  uint64_t total_bytes_ = 0;
  bool eof_ = false;
  bool started_ = false;
  std::string read_error_;  // set when read() failed; reported once as a problem record
  bool read_error_reported_ = false;
  int64_t line_ = 1;
  CsvRecord record_;  // the record being parsed
  uint64_t record_start_ = 0;
  bool record_has_quote_ = false;
  bool discarding_ = false;  // the record is too long: parse it to its end without keeping it
  size_t last_width_ = 0;
};

}  // namespace tginvite::core
