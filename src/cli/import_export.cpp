// `tginvite import` and `tginvite export`.
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <stop_token>
#include <thread>

#include "cli/commands.h"
#include "cli/output.h"
#include "core/contact_fields.h"
#include "core/csv_reader.h"
#include "core/private_files.h"
#include "storage/invitations_csv.h"

namespace tginvite::cli {
namespace {

// One CSV record after parsing: a contact, or the reason it was rejected.
struct ParsedRecord {
  int64_t line = 0;
  std::optional<core::ContactRecord> contact;
  std::string problem;
};

// Reads and parses records on a thread of its own, so that parsing (libphonenumber above all)
// and the store's writes each keep one core busy. Holds at most kMaxBlocks blocks of parsed
// records, so memory does not grow with the file.
class ParsingReader {
 public:
  ParsingReader(core::CsvReader& reader, const core::ContactParser& parser)
      : reader_(reader),
        parser_(parser),
        thread_([this](std::stop_token stop) { Produce(stop); }) {}

  // The next block in file order; an empty block at the end.
  std::vector<ParsedRecord> NextBlock() {
    std::unique_lock lock(mu_);
    changed_.wait(lock, [this] { return !blocks_.empty() || done_; });
    if (blocks_.empty()) return {};
    std::vector<ParsedRecord> block = std::move(blocks_.front());
    blocks_.pop_front();
    changed_.notify_all();
    return block;
  }
  uint64_t bytes_read() const { return bytes_read_.load(std::memory_order_relaxed); }

 private:
  static constexpr size_t kBlockSize = 512;
  static constexpr size_t kMaxBlocks = 32;  // more rows than one store batch

  void Produce(std::stop_token stop) {
    std::vector<ParsedRecord> block;
    while (std::optional<core::CsvRecord> record = reader_.Next()) {
      ParsedRecord parsed{record->line, std::nullopt, std::move(record->problem)};
      if (parsed.problem.empty()) {
        Result<core::ContactRecord> contact = parser_.Parse(record->fields);
        if (contact) {
          parsed.contact = std::move(*contact);
        } else {
          parsed.problem = contact.error().message;
        }
      }
      block.push_back(std::move(parsed));
      if (block.size() == kBlockSize) {
        bytes_read_.store(reader_.bytes_read(), std::memory_order_relaxed);
        if (!Push(std::move(block), stop)) return;
        block = {};
      }
    }
    bytes_read_.store(reader_.bytes_read(), std::memory_order_relaxed);
    if (!block.empty()) Push(std::move(block), stop);
    std::lock_guard lock(mu_);
    done_ = true;
    changed_.notify_all();
  }

  // False when the consumer went away.
  bool Push(std::vector<ParsedRecord> block, std::stop_token stop) {
    std::unique_lock lock(mu_);
    if (!changed_.wait(lock, stop, [this] { return blocks_.size() < kMaxBlocks; })) return false;
    blocks_.push_back(std::move(block));
    changed_.notify_all();
    return true;
  }

  core::CsvReader& reader_;
  const core::ContactParser& parser_;
  std::mutex mu_;
  std::condition_variable_any changed_;
  std::deque<std::vector<ParsedRecord>> blocks_;
  bool done_ = false;
  std::atomic<uint64_t> bytes_read_{0};
  std::jthread thread_;  // last: started once everything it uses exists
};

// Feeds valid CSV rows to the store and prints every rejected row with its line number, in line
// order. Rejections wait in `pending_` only until the rows around them have been stored.
class CsvImportSource final : public storage::ImportSource {
 public:
  CsvImportSource(std::string label, core::CsvReader& reader, const core::ContactParser& parser,
                  storage::ErasedPeople erased)
      : label_(std::move(label)),
        erased_(std::move(erased)),
        total_bytes_(reader.total_bytes()),
        parsing_(reader, parser),
        progress_("import " + label_) {}

  std::optional<storage::ImportRow> Next() override {
    for (;;) {
      if (next_ == block_.size()) {
        block_ = parsing_.NextBlock();
        next_ = 0;
        if (block_.empty()) return std::nullopt;
      }
      ParsedRecord& record = block_[next_++];
      ++rows_;
      progress_.Update(parsing_.bytes_read(), total_bytes_, rows_);
      if (!record.contact) {
        Reject(record.line, std::move(record.problem));
        continue;
      }
      if (erased_.Contains(*record.contact)) {
        Reject(record.line, std::string(storage::ErasedPeople::kRefusal));
        continue;
      }
      return storage::ImportRow{record.line, std::move(*record.contact)};
    }
  }

  void OnResult(const storage::ImportRow& row, const storage::ImportRowResult& result) override {
    FlushBefore(row.line);
    if (result.outcome == storage::ImportOutcome::kConflict) {
      progress_.Finish();
      fmt::print("import {}: line {}: {}\n", label_, row.line, result.conflict);
    }
  }

  bool CommitAllowed() const override { return rejected_ == 0; }

  void Finish() {
    FlushBefore(INT64_MAX);
    progress_.Finish();
  }
  int64_t rejected() const { return rejected_; }

 private:
  static constexpr size_t kMaxPending = 10000;

  void Reject(int64_t line, std::string reason) {
    ++rejected_;
    pending_.emplace(line, std::move(reason));
    if (pending_.size() > kMaxPending) FlushBefore(INT64_MAX);
  }

  void FlushBefore(int64_t line) {
    if (pending_.empty() || pending_.begin()->first >= line) return;
    progress_.Finish();
    while (!pending_.empty() && pending_.begin()->first < line) {
      fmt::print("import {}: line {}: {}\n", label_, pending_.begin()->first,
                 pending_.begin()->second);
      pending_.erase(pending_.begin());
    }
  }

  std::string label_;
  storage::ErasedPeople erased_;
  uint64_t total_bytes_;
  ParsingReader parsing_;
  std::vector<ParsedRecord> block_;
  size_t next_ = 0;
  Progress progress_;
  std::multimap<int64_t, std::string> pending_;
  int64_t rows_ = 0;
  int64_t rejected_ = 0;
};


}  // namespace

int RunImport(storage::Store& store, const ImportOptions& options) {
  const std::string& label = options.file;
  Result<std::unique_ptr<core::CsvReader>> reader = core::CsvReader::Open(options.file);
  if (!reader) return Report(reader.error().WithContext("import"));
  std::optional<core::CsvRecord> header = (*reader)->Next();
  if (!header)
    return Report(Fail(ErrorCode::kInvalidArgument, "import {}: the file is empty", label));
  if (!header->problem.empty()) {
    return Report(Fail(ErrorCode::kInvalidArgument, "import {}: line {}: header: {}", label,
                       header->line, header->problem));
  }
  Result<core::HeaderMap> columns = core::HeaderMap::FromHeader(header->fields);
  if (!columns) return Report(columns.error().WithContext(fmt::format("import {}", label)));
  for (const std::string& unknown : columns->unknown_columns()) {
    fmt::print(stderr, "import {}: warning: column \"{}\" is not known and is ignored\n", label,
               unknown);
  }
  core::ContactParser parser(*columns, options.region);
  Result<storage::ErasedPeople> erased = store.LoadErasedPeople();
  if (!erased) return Report(erased.error().WithContext(fmt::format("import {}", label)));
  CsvImportSource source(label, **reader, parser, std::move(*erased));
  storage::ImportOptions import_options;
  import_options.campaign = options.campaign;
  import_options.mode = options.dry_run  ? storage::ImportMode::kDryRun
                        : options.strict ? storage::ImportMode::kAllOrNothing
                                         : storage::ImportMode::kBatches;
  Result<storage::ImportTotals> totals = store.ImportContacts(source, import_options);
  source.Finish();
  if (!totals) return Report(totals.error().WithContext(fmt::format("import {}", label)));

  const int64_t rejected = source.rejected() + totals->conflicts;
  fmt::print("import {}: {} imported, {} updated, {} duplicates, {} rejected\n", label,
             WithThousands(totals->imported), WithThousands(totals->updated),
             WithThousands(totals->duplicates), WithThousands(rejected));
  if (options.campaign) {
    fmt::print("campaign {}: {} invitations queued, {} skipped (suppressed)\n", *options.campaign,
               WithThousands(totals->enqueued), WithThousands(totals->skipped));
    if (totals->awaiting > 0) {
      fmt::print("campaign {}: {} of them awaiting start: the bot can write to them once they "
                 "open their start link (tginvite export {} --out FILE)\n",
                 *options.campaign, WithThousands(totals->awaiting), *options.campaign);
    }
  }
  const int64_t valid = totals->imported + totals->updated + totals->duplicates;
  if (options.dry_run) {
    fmt::print("import {}: dry run, nothing was written\n", label);
  } else if (!totals->committed) {
    fmt::print("import {}: --strict and {} rows rejected: nothing was imported\n", label,
               WithThousands(rejected));
    return kExitUsage;
  }
  if (valid == 0) {
    fmt::print(stderr, "tginvite: import {}: no valid rows found\n", label);
    return kExitUsage;
  }
  return kExitOk;
}

int RunExport(storage::Store& store, const std::string& campaign, const std::string& out) {
  const bool to_stdout = out == "-";
  const std::string temp = out + ".partial";
  std::FILE* file = stdout;
  if (!to_stdout) {
    // Contacts' names and phone numbers: readable by the owner alone (0600), whatever the umask.
    Result<std::FILE*> opened = core::OpenPrivateFileForWriting(temp);
    if (!opened) {
      return Report(Fail(ErrorCode::kInvalidArgument, "export: cannot write {}: {}", out,
                         opened.error().message));
    }
    file = *opened;
  }
  fmt::print(file, "{}", storage::kInvitationsCsvHeader);
  int64_t rows = 0;
  Progress progress("export " + campaign);
  Status exported = store.ExportInvitations(campaign, [&](const storage::ExportRow& row) -> Status {
    fmt::print(file, "{}", storage::InvitationsCsvRow(row));
    progress.Update(0, 0, ++rows);
    return Ok();
  });
  progress.Finish();
  if (to_stdout) {
    std::fflush(stdout);
  } else {
    bool written = std::fclose(file) == 0;
    if (!exported || !written) {
      std::remove(temp.c_str());
      if (!exported) return Report(exported.error().WithContext("export"));
      return Report(Fail(ErrorCode::kUnavailable, "export: writing {} failed", out));
    }
    std::error_code ec;
    std::filesystem::rename(temp, out, ec);
    if (ec) return Report(Fail(ErrorCode::kUnavailable, "export: {}: {}", out, ec.message()));
    fmt::print(stderr, "exported {} invitations of campaign {} to {}\n", WithThousands(rows),
               campaign, out);
  }
  if (!exported) return Report(exported.error().WithContext("export"));
  // The start links are out now: counted for the campaign's funnel (each invitation once).
  if (Result<int64_t> marked = store.MarkStartLinksExported(campaign); !marked) {
    fmt::print(stderr,
               "tginvite: warning: export: the start links were written but not counted as "
               "exported: {}\n",
               marked.error().message);
  }
  return kExitOk;
}

}  // namespace tginvite::cli
