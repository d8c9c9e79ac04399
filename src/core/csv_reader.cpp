#include "core/csv_reader.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <utility>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace tginvite::core {
namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";

// Bytes that end a run of plain text inside an unquoted field.
constexpr std::array<bool, 256> kUnquotedStop = [] {
  std::array<bool, 256> stop{};
  stop[static_cast<unsigned char>('"')] = true;
  stop[static_cast<unsigned char>(',')] = true;
  stop[static_cast<unsigned char>('\n')] = true;
  stop[static_cast<unsigned char>('\r')] = true;
  return stop;
}();

std::string ErrnoText(int error) {
  std::string text = std::strerror(error);
  if (!text.empty()) text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  return text;
}

}  // namespace

Result<std::unique_ptr<CsvReader>> CsvReader::Open(const std::string& path) {
  int fd = -1;
  do {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    const int error = errno;
    if (error == ENOENT || error == ENOTDIR) {
      return Fail(ErrorCode::kNotFound, "{}: no such file", path);
    }
    return Fail(ErrorCode::kInvalidArgument, "{}: {}", path, ErrnoText(error));
  }
  struct stat info {};
  if (::fstat(fd, &info) != 0) {
    const int error = errno;
    ::close(fd);
    return Fail(ErrorCode::kInvalidArgument, "{}: {}", path, ErrnoText(error));
  }
  if (S_ISDIR(info.st_mode)) {
    ::close(fd);
    return Fail(ErrorCode::kInvalidArgument, "{}: is a directory", path);
  }
  const uint64_t total = S_ISREG(info.st_mode) ? static_cast<uint64_t>(info.st_size) : 0;
  return std::unique_ptr<CsvReader>(new CsvReader(fd, total));
}

std::unique_ptr<CsvReader> CsvReader::FromString(std::string text) {
  return std::unique_ptr<CsvReader>(new CsvReader(std::move(text)));
}

CsvReader::CsvReader(int fd, uint64_t total_bytes)
    : fd_(fd), buffer_(kBufferSize, '\0'), total_bytes_(total_bytes) {}

CsvReader::CsvReader(std::string text)
    : buffer_(std::move(text)), end_(buffer_.size()), total_bytes_(buffer_.size()), eof_(true) {}

CsvReader::~CsvReader() {
  if (fd_ >= 0) ::close(fd_);
}

uint64_t CsvReader::bytes_read() const { return Position(); }

uint64_t CsvReader::total_bytes() const { return total_bytes_; }

std::optional<CsvRecord> CsvReader::Next() {
  if (!started_) {
    started_ = true;
    SkipBom();
  }
  while (true) {
    if (Peek() < 0) {
      if (read_error_.empty() || read_error_reported_) return std::nullopt;
      read_error_reported_ = true;
      return CsvRecord{.line = line_, .fields = {}, .problem = "read error: " + read_error_};
    }
    record_ = CsvRecord{};
    record_.line = line_;
    record_.fields.reserve(last_width_);
    ParseRecord();
    if (!read_error_.empty() && !read_error_reported_) {
      read_error_reported_ = true;
      record_.problem = "read error: " + read_error_;
    }
    if (IsBlankLine()) continue;
    if (record_.problem.empty()) {
      last_width_ = record_.fields.size();
    } else {
      record_.fields.clear();
    }
    return std::move(record_);
  }
}

bool CsvReader::ReadMore() {
  if (eof_) return false;
  while (true) {
    const ssize_t n = ::read(fd_, buffer_.data() + end_, buffer_.size() - end_);
    if (n > 0) {
      end_ += static_cast<size_t>(n);
      return true;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) read_error_ = ErrnoText(errno);
    eof_ = true;
    return false;
  }
}

bool CsvReader::Refill() {
  if (eof_) return false;
  buffer_offset_ += end_;
  pos_ = 0;
  end_ = 0;
  return ReadMore();
}

int CsvReader::Peek() {
  if (pos_ == end_ && !Refill()) return -1;
  return static_cast<unsigned char>(buffer_[pos_]);
}

void CsvReader::SkipBom() {
  while (end_ < kBom.size() && ReadMore()) {
  }
  if (std::string_view(buffer_.data(), end_).starts_with(kBom)) pos_ = kBom.size();
}

void CsvReader::ParseRecord() {
  record_start_ = Position();
  record_has_quote_ = false;
  discarding_ = false;
  while (true) {
    StartField();
    FieldEnd end = FieldEnd::kRecordEnd;
    if (Peek() == '"') {
      ++pos_;
      record_has_quote_ = true;
      end = ParseQuoted();
    } else {
      end = ParseUnquoted();
    }
    if (end == FieldEnd::kRecordEnd) return;
  }
}

CsvReader::FieldEnd CsvReader::ParseUnquoted() {
  while (true) {
    if (pos_ == end_ && !Refill()) return FieldEnd::kRecordEnd;
    const char* const begin = buffer_.data() + pos_;
    const char* const limit = buffer_.data() + end_;
    const char* stop = begin;
    while (stop < limit && !kUnquotedStop[static_cast<unsigned char>(*stop)]) ++stop;
    Consume(begin, static_cast<size_t>(stop - begin));
    if (stop == limit) continue;
    ++pos_;
    switch (*stop) {
      case ',':
        return FieldEnd::kSeparator;
      case '\n':
        ++line_;
        return FieldEnd::kRecordEnd;
      case '\r': {
        const int next = Peek();
        if (next < 0) return FieldEnd::kRecordEnd;
        if (next == '\n') {
          ++pos_;
          ++line_;
          return FieldEnd::kRecordEnd;
        }
        if (!discarding_) record_.fields.back().push_back('\r');
        continue;
      }
      default:
        SetProblem("stray quote in unquoted field");
        SkipRestOfLine();
        return FieldEnd::kRecordEnd;
    }
  }
}

CsvReader::FieldEnd CsvReader::ParseQuoted() {
  while (true) {
    if (pos_ == end_ && !Refill()) {
      // Overrides "record longer than 1 MiB": an unclosed quote is the cause, not the length.
      record_.problem = "unterminated quoted field";
      return FieldEnd::kRecordEnd;
    }
    const char* const begin = buffer_.data() + pos_;
    const size_t available = end_ - pos_;
    const auto* quote = static_cast<const char*>(std::memchr(begin, '"', available));
    const size_t run = quote != nullptr ? static_cast<size_t>(quote - begin) : available;
    line_ += std::count(begin, begin + run, '\n');
    Consume(begin, run);
    if (quote == nullptr) continue;
    ++pos_;
    if (Peek() == '"') {
      ++pos_;
      if (!discarding_) record_.fields.back().push_back('"');
      continue;
    }
    break;
  }
  const int next = Peek();
  if (next < 0) return FieldEnd::kRecordEnd;
  if (next == ',') {
    ++pos_;
    return FieldEnd::kSeparator;
  }
  if (next == '\n') {
    ++pos_;
    ++line_;
    return FieldEnd::kRecordEnd;
  }
  if (next == '\r') {
    ++pos_;
    const int after = Peek();
    if (after < 0) return FieldEnd::kRecordEnd;
    if (after == '\n') {
      ++pos_;
      ++line_;
      return FieldEnd::kRecordEnd;
    }
  }
  SetProblem("text after closing quote");
  SkipRestOfLine();
  return FieldEnd::kRecordEnd;
}

void CsvReader::StartField() {
  CheckRecordSize();
  if (!discarding_) record_.fields.emplace_back();
}

void CsvReader::Consume(const char* data, size_t size) {
  pos_ += size;
  CheckRecordSize();
  if (!discarding_) record_.fields.back().append(data, size);
}

void CsvReader::CheckRecordSize() {
  if (discarding_ || Position() - record_start_ <= kMaxRecordBytes) return;
  discarding_ = true;
  record_.fields.clear();
  record_.fields.shrink_to_fit();
  SetProblem("record longer than 1 MiB");
}

void CsvReader::SetProblem(std::string_view problem) {
  if (record_.problem.empty()) record_.problem = problem;
}

void CsvReader::SkipRestOfLine() {
  while (true) {
    if (pos_ == end_ && !Refill()) return;
    const char* const begin = buffer_.data() + pos_;
    const auto* newline = static_cast<const char*>(std::memchr(begin, '\n', end_ - pos_));
    if (newline == nullptr) {
      pos_ = end_;
      continue;
    }
    pos_ += static_cast<size_t>(newline - begin) + 1;
    ++line_;
    return;
  }
}

bool CsvReader::IsBlankLine() const {
  return record_.problem.empty() && !record_has_quote_ && record_.fields.size() == 1 &&
         record_.fields.front().empty();
}

}  // namespace tginvite::core
