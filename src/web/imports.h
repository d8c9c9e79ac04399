// CSV imports from the browser, in two steps: an upload is validated as a dry run (the same
// checks and report as `tginvite import --dry-run`), kept for a while, and imported for real only
// when the operator commits it after reading the report.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "storage/store.h"

namespace tginvite::web {

struct ImportRequest {
  std::string csv;
  std::optional<std::string> campaign;  // also queue an invitation per contact
  std::string region;                   // ISO 3166 code for phones without a country code
};

class ImportStaging {
 public:
  // At most `max_staged` uploads wait for a commit; each for at most `ttl`.
  explicit ImportStaging(size_t max_staged = 8,
                         std::chrono::milliseconds ttl = std::chrono::minutes(30));

  // Validates the upload with a dry run and keeps it. The report: {id, rows, valid, rejected,
  // problems: [{line, message}] (the first 1,000), warnings, totals}. kInvalidArgument when the
  // file cannot be read as a contacts CSV at all (empty, bad header).
  Result<nlohmann::json> Stage(storage::ContactImporter& store, ImportRequest request, int64_t now);

  // Imports a staged upload for real, once: {committed, rows, valid, rejected, totals}. kNotFound
  // for an unknown or expired id.
  Result<nlohmann::json> Commit(storage::ContactImporter& store, std::string_view id, int64_t now);

 private:
  struct Staged {
    ImportRequest request;
    int64_t staged_at = 0;
  };

  void DropExpired(int64_t now);

  size_t max_staged_;
  std::chrono::milliseconds ttl_;
  std::mutex mu_;
  std::map<std::string, Staged, std::less<>> staged_;
};

}  // namespace tginvite::web
