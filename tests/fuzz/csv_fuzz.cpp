// Fuzzes what `tginvite import FILE` does with a file's bytes: the streaming CSV reader on a real
// file, the header, and the contact parser on every record (cli/import_export.cpp's RunImport).
//
// Input: one byte choosing the default region and where the reader's 64 KiB buffer boundary falls,
// then the file's bytes. Checked besides "no crash":
// - the file, read in 64 KiB blocks, gives the same records as the same bytes read from memory;
// - record lines only grow, and the reader reports every byte as read at the end;
// - a parsed contact is normalised: each of its fields normalises to itself, and the user
//   reference an operator would type for it (`suppress add`) names the same identity.
#include <sys/mman.h>
#include <unistd.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/contact_fields.h"
#include "core/csv_reader.h"
#include "core/utf8.h"
#include "fuzz/fuzz_input.h"

namespace tginvite::fuzz {
namespace {

// The reader's read buffer (core/csv_reader.h, kBufferSize).
constexpr size_t kReadBlock = 64 * 1024;

constexpr std::array<std::string_view, 8> kRegions = {"", "DE", "US", "GB", "RU", "IN", "de", "XX"};

// A file whose content each run replaces: in memory (memfd), opened by its /proc path like any
// other file. (A file on disk made runs 10 times slower: truncating it is a journaled write.)
class ScratchFile {
 public:
  ScratchFile() : fd_(::memfd_create("csv_fuzz", MFD_CLOEXEC)) {
    FUZZ_CHECK(fd_ >= 0);
    path_ = "/proc/self/fd/" + std::to_string(fd_);
  }
  ~ScratchFile() { ::close(fd_); }

  void Write(std::string_view bytes) {
    FUZZ_CHECK(::ftruncate(fd_, 0) == 0);
    size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n = ::pwrite(fd_, bytes.data() + done, bytes.size() - done,
                                 static_cast<off_t>(done));
      FUZZ_CHECK(n > 0);
      done += static_cast<size_t>(n);
    }
  }
  const std::string& path() const { return path_; }

 private:
  int fd_;
  std::string path_;
};

std::vector<core::CsvRecord> ReadAll(core::CsvReader& reader) {
  std::vector<core::CsvRecord> records;
  while (std::optional<core::CsvRecord> record = reader.Next()) records.push_back(std::move(*record));
  FUZZ_CHECK(reader.bytes_read() == reader.total_bytes());
  return records;
}

bool SameRecords(const std::vector<core::CsvRecord>& a, const std::vector<core::CsvRecord>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].line != b[i].line || a[i].fields != b[i].fields || a[i].problem != b[i].problem) {
      return false;
    }
  }
  return true;
}

// With the top bit of `mode` set, a filler line after the first line puts the boundary between
// the reader's first and second block at (mode & 0x7F) bytes into what follows it.
std::string FileBytes(std::string_view content, uint8_t mode) {
  if ((mode & 0x80) == 0) return std::string(content);
  const size_t newline = content.find('\n');
  const size_t first_line = newline == std::string_view::npos ? content.size() : newline + 1;
  const size_t shift = mode & 0x7F;
  std::string bytes(content.substr(0, first_line));
  if (bytes.size() + shift + 1 < kReadBlock) {
    bytes.append(kReadBlock - bytes.size() - shift - 1, 'x');
    bytes += '\n';
  }
  bytes.append(content.substr(first_line));
  return bytes;
}

void CheckContact(const core::ContactRecord& contact) {
  const std::string key = core::IdentityKey(contact);
  FUZZ_CHECK(!key.empty());
  if (contact.telegram_user_id) {
    FUZZ_CHECK(*contact.telegram_user_id > 0);
    const Result<std::string> ref = core::ParseUserRef(std::to_string(*contact.telegram_user_id));
    FUZZ_CHECK(ref && *ref == "id:" + std::to_string(*contact.telegram_user_id));
  }
  if (!contact.username.empty()) {
    const Result<std::string> again = core::NormalizeUsername(contact.username);
    FUZZ_CHECK(again && *again == contact.username);
    const Result<std::string> ref = core::ParseUserRef("@" + contact.username);
    FUZZ_CHECK(ref && *ref == "username:" + contact.username);
  }
  if (!contact.phone.empty()) {
    const Result<std::string> again = core::NormalizePhone(contact.phone, "");
    FUZZ_CHECK(again && *again == contact.phone);
    const Result<std::string> ref = core::ParseUserRef(contact.phone);
    FUZZ_CHECK(ref && *ref == "phone:" + contact.phone);
  }
  for (const std::string& name : {contact.first_name, contact.last_name}) {
    FUZZ_CHECK(core::IsValidUtf8(name));
    const Result<std::string> again = core::NormalizeName(name);
    FUZZ_CHECK(again && *again == name);
  }
}

void Run(const uint8_t* data, size_t size) {
  static ScratchFile* const file = new ScratchFile();

  FuzzInput input(data, size);
  const uint8_t mode = input.TakeByte();
  const std::string_view region = kRegions[mode % kRegions.size()];
  const std::string bytes = FileBytes(input.TakeRest(), mode);
  file->Write(bytes);

  Result<std::unique_ptr<core::CsvReader>> reader = core::CsvReader::Open(file->path());
  FUZZ_CHECK(reader);
  FUZZ_CHECK((*reader)->total_bytes() == bytes.size());
  const std::vector<core::CsvRecord> records = ReadAll(**reader);
  FUZZ_CHECK(SameRecords(records, ReadAll(*core::CsvReader::FromString(bytes))));

  int64_t last_line = 0;
  for (const core::CsvRecord& record : records) {
    FUZZ_CHECK(record.line > last_line);
    last_line = record.line;
    FUZZ_CHECK(record.problem.empty() || record.fields.empty());
  }

  // As RunImport: the first record is the header; every later record is a contact or a reason.
  if (records.empty() || !records.front().problem.empty()) return;
  Result<core::HeaderMap> header = core::HeaderMap::FromHeader(records.front().fields);
  if (!header) return;
  const core::ContactParser parser(*header, std::string(region));
  for (size_t i = 1; i < records.size(); ++i) {
    if (!records[i].problem.empty()) continue;
    Result<core::ContactRecord> contact = parser.Parse(records[i].fields);
    if (contact) {
      CheckContact(*contact);
    } else {
      FUZZ_CHECK(contact.error().code == ErrorCode::kInvalidArgument);
      FUZZ_CHECK(core::IsValidUtf8(contact.error().message));
    }
  }
}

}  // namespace
}  // namespace tginvite::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tginvite::fuzz::Run(data, size);
  return 0;
}
