// Part of the Store (storage/store.h): importing contacts, streamed row by row with a result per
// row.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "core/contact.h"
#include "core/error.h"

namespace tginvite::storage {

// One valid contact row of an import, with the line it came from.
struct ImportRow {
  int64_t line = 0;
  core::ContactRecord contact;
};

enum class ImportOutcome {
  kImported,   // a new contact
  kUpdated,    // an existing contact gained or changed a field
  kDuplicate,  // an existing contact, nothing changed
  kConflict,   // the row's identifiers belong to two different contacts; nothing written
};

enum class EnqueueOutcome { kNone, kEnqueued, kAwaitingStart, kSkipped, kAlreadyQueued };

struct ImportRowResult {
  ImportOutcome outcome = ImportOutcome::kImported;
  std::string conflict;  // why, for kConflict
  EnqueueOutcome enqueue = EnqueueOutcome::kNone;
};

// Where an import's rows come from and where each row's result goes. Called from the thread that
// called ImportContacts.
class ImportSource {
 public:
  virtual ~ImportSource() = default;
  // The next valid row, or std::nullopt at the end of the input.
  virtual std::optional<ImportRow> Next() = 0;
  // What became of a row, in input order: once the import committed, or just before it is rolled
  // back (a dry run, a refused all-or-nothing import). Never for an import that failed.
  virtual void OnResult(const ImportRow& row, const ImportRowResult& result) = 0;
  // Asked once at the end in ImportMode::kAllOrNothing: false rolls everything back.
  virtual bool CommitAllowed() const = 0;
};

// Every mode imports the whole input in one transaction (so that a file's rows for one contact
// fold before they meet what is stored: a second import changes nothing); results wait in a
// temporary table of the database, not in memory, until OnResult gets them. Memory stays flat.
enum class ImportMode {
  kBatches,       // committed; rows go to the database `batch_size` at a time
  kAllOrNothing,  // committed only if CommitAllowed() and no conflicts
  kDryRun,        // always rolled back
};

struct ImportOptions {
  std::optional<std::string> campaign;  // also enqueue an invitation per contact
  ImportMode mode = ImportMode::kBatches;
  size_t batch_size = 10000;
};

struct ImportTotals {
  int64_t imported = 0;
  int64_t updated = 0;
  int64_t duplicates = 0;
  int64_t conflicts = 0;
  int64_t enqueued = 0;
  int64_t awaiting = 0;  // enqueued to wait for the contact's start (counted in enqueued too)
  int64_t skipped = 0;   // enqueued as skipped: suppressed
  bool committed = false;
};

// The people erased on request (`tginvite contact forget`), by their suppression keys. An import
// source refuses their rows before they reach the store: the store would otherwise keep the
// person's name and identifiers again (their suppression alone only keeps them from invitations).
class ErasedPeople {
 public:
  // Why a row is refused, as the import reports it.
  static constexpr std::string_view kRefusal =
      "a person erased on request (tginvite contact forget): not imported; remove the row, or "
      "lift the suppression (tginvite suppress remove) if they asked to come back";

  ErasedPeople() = default;
  explicit ErasedPeople(std::vector<std::string> keys) : keys_(keys.begin(), keys.end()) {}

  // True when one of the contact's identifiers (user id, username, phone) is an erased person's.
  bool Contains(const core::ContactRecord& contact) const;
  bool empty() const { return keys_.empty(); }

 private:
  std::unordered_set<std::string> keys_;  // "id:N", "username:x", "phone:+E164"
};

class ContactImporter {
 public:
  virtual ~ContactImporter() = default;

  virtual Result<ImportTotals> ImportContacts(ImportSource& source,
                                              const ImportOptions& options) = 0;
  // Read before an import, for its source.
  virtual Result<ErasedPeople> LoadErasedPeople() = 0;
};

}  // namespace tginvite::storage
