// Imports made of rows held in memory, for the storage tests: a source that records every row's
// result, and short builders for contacts, rows and options.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "storage/store.h"

namespace tginvite::testing {

// An ImportSource over rows held in memory; records every result.
class VectorSource final : public storage::ImportSource {
 public:
  explicit VectorSource(std::vector<storage::ImportRow> rows, bool commit_allowed = true)
      : rows_(std::move(rows)), commit_allowed_(commit_allowed) {}
  std::optional<storage::ImportRow> Next() override {
    if (next_ == rows_.size()) return std::nullopt;
    return rows_[next_++];
  }
  void OnResult(const storage::ImportRow& row, const storage::ImportRowResult& result) override {
    results.emplace_back(row.line, result);
  }
  bool CommitAllowed() const override { return commit_allowed_; }

  std::vector<std::pair<int64_t, storage::ImportRowResult>> results;

 private:
  std::vector<storage::ImportRow> rows_;
  size_t next_ = 0;
  bool commit_allowed_;
};

inline core::ContactRecord Contact(std::optional<int64_t> id, std::string username = "",
                                   std::string first_name = "", std::string phone = "",
                                   std::string last_name = "") {
  core::ContactRecord c;
  c.telegram_user_id = id;
  c.username = std::move(username);
  c.first_name = std::move(first_name);
  c.phone = std::move(phone);
  c.last_name = std::move(last_name);
  return c;
}

// Rows numbered as a CSV file's lines would be: the first after the header is line 2.
inline std::vector<storage::ImportRow> Rows(std::vector<core::ContactRecord> contacts) {
  std::vector<storage::ImportRow> rows;
  int64_t line = 2;
  for (auto& c : contacts) rows.push_back({line++, std::move(c)});
  return rows;
}

inline storage::ImportOptions Options(std::optional<std::string> campaign,
                                      storage::ImportMode mode = storage::ImportMode::kBatches,
                                      size_t batch_size = 10000) {
  storage::ImportOptions options;
  options.campaign = std::move(campaign);
  options.mode = mode;
  options.batch_size = batch_size;
  return options;
}

}  // namespace tginvite::testing
