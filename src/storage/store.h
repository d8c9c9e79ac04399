// The Store: everything tginvite keeps, in business terms. One implementation per database engine
// (storage/sqlite now, storage/postgres later); the same contract test suite runs against each.
//
// Implementations are thread-safe: any thread may call any method. Every write is one
// transaction run by the transaction guard (storage/transaction.h), so a failed call leaves
// nothing half-written and the store usable. Errors: kInvalidArgument for input that breaks a
// rule (the message says which), kNotFound / kAlreadyExists for names, kAborted / kUnavailable
// when the database is busy or down (retry later), kInternal for corruption.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/contact.h"
#include "core/error.h"
#include "core/model.h"
#include "core/secret.h"
#include "core/settings.h"

namespace tginvite::storage {

struct Account {
  int64_t id = 0;
  std::string name;
  core::AccountKind kind = core::AccountKind::kRehearsal;
  core::Secret token;  // empty for rehearsal accounts
  std::string api_base;
  int64_t created_at = 0;  // unix ms
};

struct NewAccount {
  std::string name;
  core::AccountKind kind = core::AccountKind::kRehearsal;
  core::Secret token;
  std::string api_base = "https://api.telegram.org";
};

struct Campaign {
  int64_t id = 0;
  std::string name;
  int64_t account_id = 0;
  std::string account_name;
  core::AccountKind account_kind = core::AccountKind::kRehearsal;
  std::string chat;  // "-1001234567890" or "@channelname"
  std::string template_text;
  core::LinkMode link_mode = core::LinkMode::kPersonal;
  std::string shared_link;
  core::CampaignState state = core::CampaignState::kDraft;
  int64_t created_at = 0;
  std::optional<int64_t> started_at;
};

struct NewCampaign {
  std::string name;
  std::string account_name;
  std::string chat;
  std::string template_text;
  core::LinkMode link_mode = core::LinkMode::kPersonal;
  std::string shared_link;
};

enum class CampaignAction { kStart, kPause, kResume, kCancel };

struct CampaignSummary {
  Campaign campaign;
  core::StateCounts counts;
};

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

enum class EnqueueOutcome { kNone, kEnqueued, kSkipped, kAlreadyQueued };

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
  // What became of a row. In ImportMode::kBatches this is called once the row's batch committed.
  virtual void OnResult(const ImportRow& row, const ImportRowResult& result) = 0;
  // Asked once at the end in ImportMode::kAllOrNothing: false rolls everything back.
  virtual bool CommitAllowed() const = 0;
};

enum class ImportMode {
  kBatches,       // commit every `batch_size` rows; memory stays flat
  kAllOrNothing,  // one transaction; committed only if CommitAllowed() and no conflicts
  kDryRun,        // one transaction, always rolled back
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
  int64_t skipped = 0;  // enqueued as skipped: suppressed
  bool committed = false;
};

struct ExportRow {
  core::ContactRecord contact;
  core::InvitationState state = core::InvitationState::kPending;
  int64_t attempts = 0;
  std::string last_error;
  std::string invite_link;
  std::optional<int64_t> sent_at;
  std::optional<int64_t> joined_at;
  int64_t updated_at = 0;
};

struct Suppression {
  std::string key;  // "id:123", "username:bob" or "phone:+4930123456"
  std::string reason;
  int64_t created_at = 0;
};

// Settings are global (campaign = std::nullopt) or a campaign's overrides.
using SettingScope = std::optional<std::string>;

class Store {
 public:
  virtual ~Store() = default;

  virtual std::string_view backend() const = 0;

  // The stored values of one scope, unvalidated (ResolveSettings validates and falls back).
  virtual Result<core::RawSettings> LoadSettings(const SettingScope& scope) = 0;
  // Validates `value` (type, range, and cross-field rules against the values in force: for a
  // global change, also against every campaign's overrides) and stores its canonical text.
  virtual Status PutSetting(const SettingScope& scope, std::string_view key,
                            std::string_view value) = 0;
  // Removes a stored value, so the global value or default is in force again.
  virtual Status DeleteSetting(const SettingScope& scope, std::string_view key) = 0;

  virtual Result<Account> AddAccount(const NewAccount& account) = 0;
  virtual Result<std::vector<Account>> ListAccounts() = 0;
  virtual Result<Account> FindAccount(std::string_view name) = 0;

  // Validates the template (placeholders, HTML, length), the chat and the link mode.
  virtual Result<Campaign> CreateCampaign(const NewCampaign& campaign) = 0;
  virtual Result<std::vector<CampaignSummary>> ListCampaigns() = 0;
  virtual Result<CampaignSummary> FindCampaign(std::string_view name) = 0;
  // kInvalidArgument when the action does not apply to the campaign's state. Cancelling turns
  // every pending or waiting invitation into cancelled.
  virtual Result<Campaign> ChangeCampaign(std::string_view name, CampaignAction action) = 0;

  virtual Result<ImportTotals> ImportContacts(ImportSource& source,
                                              const ImportOptions& options) = 0;
  virtual Result<int64_t> CountContacts() = 0;
  // Streams one row per invitation of the campaign, in contact order.
  virtual Status ExportInvitations(std::string_view campaign,
                                   const std::function<Status(const ExportRow&)>& on_row) = 0;

  // Suppresses a user for every campaign; their pending and waiting invitations become skipped.
  // Returns how many invitations were skipped.
  virtual Result<int64_t> AddSuppression(std::string_view key, std::string_view reason) = 0;
  virtual Status RemoveSuppression(std::string_view key) = 0;
  virtual Result<std::vector<Suppression>> ListSuppressions() = 0;
};

// The settings in force for a scope: defaults, then global values, then the campaign's.
Result<core::ResolvedSettings> LoadResolvedSettings(Store& store, const SettingScope& scope);

enum class OpenMode {
  kCreate,    // create the database (and its folder) when missing
  kExisting,  // kNotFound when missing
};

// Opens a store from a URL: "sqlite:PATH" (a bare path is taken as sqlite too),
// "sqlite:PATH?synchronous=full" for fsync on every commit, or "postgresql://..." (not in this
// build yet). Applies pending migrations.
Result<std::unique_ptr<Store>> OpenStore(std::string_view url, OpenMode mode);

}  // namespace tginvite::storage
