#include "web/imports.h"

#include "core/contact_fields.h"
#include "core/csv_reader.h"
#include "web/auth.h"

namespace tginvite::web {
namespace {

using nlohmann::json;

constexpr size_t kMaxProblems = 1000;

// Feeds the parsed rows of an in-memory CSV to the store and keeps the report.
class ReportingSource final : public storage::ImportSource {
 public:
  ReportingSource(core::CsvReader& reader, const core::ContactParser& parser,
                  storage::ErasedPeople erased)
      : reader_(reader), parser_(parser), erased_(std::move(erased)) {}

  std::optional<storage::ImportRow> Next() override {
    while (std::optional<core::CsvRecord> record = reader_.Next()) {
      ++rows_;
      if (!record->problem.empty()) {
        Reject(record->line, record->problem);
        continue;
      }
      Result<core::ContactRecord> contact = parser_.Parse(record->fields);
      if (!contact) {
        Reject(record->line, contact.error().message);
        continue;
      }
      if (erased_.Contains(*contact)) {
        Reject(record->line, std::string(storage::ErasedPeople::kRefusal));
        continue;
      }
      return storage::ImportRow{record->line, std::move(*contact)};
    }
    return std::nullopt;
  }

  void OnResult(const storage::ImportRow& row, const storage::ImportRowResult& result) override {
    if (result.outcome == storage::ImportOutcome::kConflict) Reject(row.line, result.conflict);
  }

  bool CommitAllowed() const override { return true; }

  json Report(const storage::ImportTotals& totals) {
    std::sort(problems_.begin(), problems_.end(),
              [](const json& a, const json& b) { return a["line"] < b["line"]; });
    return {{"rows", rows_},
            {"valid", totals.imported + totals.updated + totals.duplicates},
            {"rejected", rejected_},
            {"problems", problems_},
            {"problems_truncated", rejected_ > static_cast<int64_t>(problems_.size())},
            {"totals",
             {{"imported", totals.imported},
              {"updated", totals.updated},
              {"duplicates", totals.duplicates},
              {"conflicts", totals.conflicts},
              {"enqueued", totals.enqueued},
              {"skipped", totals.skipped}}}};
  }

 private:
  void Reject(int64_t line, const std::string& message) {
    ++rejected_;
    if (problems_.size() < kMaxProblems)
      problems_.push_back({{"line", line}, {"message", message}});
  }

  core::CsvReader& reader_;
  const core::ContactParser& parser_;
  storage::ErasedPeople erased_;
  int64_t rows_ = 0;
  int64_t rejected_ = 0;
  std::vector<json> problems_;
};

// Runs the import of `request` in `mode`; the report, or why the file cannot be imported at all.
Result<json> RunImport(storage::ContactImporter& store, const ImportRequest& request,
                       storage::ImportMode mode) {
  std::unique_ptr<core::CsvReader> reader = core::CsvReader::FromString(request.csv);
  std::optional<core::CsvRecord> header = reader->Next();
  if (!header) return Fail(ErrorCode::kInvalidArgument, "import: the file is empty");
  if (!header->problem.empty()) {
    return Fail(ErrorCode::kInvalidArgument, "import: line {}: header: {}", header->line,
                header->problem);
  }
  ASSIGN_OR_RETURN(core::HeaderMap columns, core::HeaderMap::FromHeader(header->fields));
  json warnings = json::array();
  for (const std::string& unknown : columns.unknown_columns()) {
    warnings.push_back(fmt::format("column \"{}\" is not known and is ignored", unknown));
  }
  core::ContactParser parser(columns, request.region);
  ASSIGN_OR_RETURN(storage::ErasedPeople erased, store.LoadErasedPeople());
  ReportingSource source(*reader, parser, std::move(erased));
  storage::ImportOptions options;
  options.campaign = request.campaign;
  options.mode = mode;
  ASSIGN_OR_RETURN(storage::ImportTotals totals, store.ImportContacts(source, options));
  json report = source.Report(totals);
  report["warnings"] = std::move(warnings);
  report["committed"] = totals.committed;
  return report;
}

}  // namespace

ImportStaging::ImportStaging(size_t max_staged, std::chrono::milliseconds ttl)
    : max_staged_(max_staged), ttl_(ttl) {}

Result<json> ImportStaging::Stage(storage::ContactImporter& store, ImportRequest request, int64_t now) {
  ASSIGN_OR_RETURN(json report, RunImport(store, request, storage::ImportMode::kDryRun));
  std::string id = NewToken().Reveal().substr(0, 16);
  {
    std::lock_guard lock(mu_);
    DropExpired(now);
    while (staged_.size() >= max_staged_) {
      auto oldest = std::min_element(staged_.begin(), staged_.end(), [](auto& a, auto& b) {
        return a.second.staged_at < b.second.staged_at;
      });
      staged_.erase(oldest);
    }
    staged_[id] = Staged{std::move(request), now};
  }
  report["id"] = id;
  report["expires_at"] = now + ttl_.count();
  return report;
}

Result<json> ImportStaging::Commit(storage::ContactImporter& store, std::string_view id, int64_t now) {
  Staged staged;
  {
    std::lock_guard lock(mu_);
    DropExpired(now);
    auto found = staged_.find(id);
    if (found == staged_.end()) {
      return Fail(ErrorCode::kNotFound,
                  "no staged import \"{}\": it was committed already or expired; upload it again",
                  id);
    }
    staged = std::move(found->second);
    staged_.erase(found);
  }
  Result<json> report = RunImport(store, staged.request, storage::ImportMode::kBatches);
  if (!report) {
    // Nothing or part of it was written: keep the upload so the operator can try again.
    std::lock_guard lock(mu_);
    staged_.emplace(std::string(id), std::move(staged));
  }
  return report;
}

void ImportStaging::DropExpired(int64_t now) {
  std::erase_if(staged_,
                [&](const auto& entry) { return now - entry.second.staged_at > ttl_.count(); });
}

}  // namespace tginvite::web
