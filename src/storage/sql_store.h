// What the SQL stores (SQLite and PostgreSQL) share word for word: the methods whose statements
// mean the same on both engines, written once over the store's own units of work. A store derives
// from SqlStore instead of Store and gives it a way to run a read and a write, its clock and its
// secret keys.
#pragma once

#include <functional>

#include "storage/sql_dialect.h"
#include "storage/store.h"
#include "storage/transaction.h"

namespace tginvite::storage {

class SqlStore : public Store {
 public:
  // Settings, campaigns, the export and suppressions (storage/sql_catalog.cpp).
  Result<core::RawSettings> LoadSettings(const SettingScope& scope) override;
  Status PutSetting(const SettingScope& scope, std::string_view key,
                    std::string_view value) override;
  Status DeleteSetting(const SettingScope& scope, std::string_view key) override;
  Result<Campaign> CreateCampaign(const NewCampaign& campaign) override;
  Result<std::vector<CampaignSummary>> ListCampaigns() override;
  Result<std::vector<Campaign>> ListRunningCampaigns() override;
  Result<CampaignSummary> FindCampaign(std::string_view name) override;
  Result<Campaign> ChangeCampaign(std::string_view name, CampaignAction action,
                                  const core::Actor& actor) override;
  Result<Campaign> EditCampaign(std::string_view name, const CampaignEdit& edit,
                                const core::Actor& actor) override;
  Result<DeletedCampaign> DeleteCampaign(std::string_view name, AttemptsOnDelete attempts,
                                         const core::Actor& actor) override;
  Result<CampaignEventPage> ListCampaignEvents(std::string_view campaign,
                                               const CampaignEventQuery& query) override;
  Result<int64_t> ResendUnknown(std::string_view campaign) override;
  Result<int64_t> CountContacts() override;
  Status ExportInvitations(std::string_view campaign,
                           const std::function<Status(const ExportRow&)>& on_row) override;
  Result<int64_t> AddSuppression(std::string_view key, std::string_view reason) override;
  Status RemoveSuppression(std::string_view key) override;
  Result<std::vector<Suppression>> ListSuppressions() override;
  Result<int64_t> MarkStartLinksExported(std::string_view campaign) override;
  Result<std::string> RenewStartLink(std::string_view campaign, std::string_view contact) override;

  // Accounts, their tokens sealed with the store's keyring (storage/sql_accounts.cpp).
  Result<Account> AddAccount(const NewAccount& account) override;
  Status ReplaceBotToken(std::string_view account, const core::Secret& token) override;
  Result<std::vector<Account>> ListAccounts() override;
  Result<Account> FindAccount(std::string_view name) override;
  Result<int64_t> SealSecrets(SealScope scope) override;
  Status SetBotUsername(int64_t account_id, std::string_view username) override;
  Status SetBotId(int64_t account_id, int64_t bot_id) override;
  Result<AccountRemoval> RemoveAccount(std::string_view name) override;
  // Erasure and link revocation (storage/sql_erasure.cpp).
  Result<ForgetResult> ForgetContact(std::string_view key) override;
  Result<ErasedPeople> LoadErasedPeople() override;
  Result<ForgetResult> ForgetContactById(int64_t contact_id) override;
  Result<std::vector<LinkToRevoke>> ClaimLinksToRevoke(const LinkRevokeClaim& claim) override;
  Result<int64_t> RecordLinkRevocations(std::span<const LinkRevocation> revocations,
                                        int64_t now) override;
  Status SetUpdatesVia(std::string_view account, core::UpdatesVia via, std::string_view webhook_url,
                       std::string_view webhook_secret_hash) override;

  // Web authentication (storage/sql_web_auth.cpp). Every secret arrives already hashed.
  Result<std::optional<std::string>> AdminPasswordHash() override;
  Status SetAdminPasswordHash(std::string_view hash) override;
  Status CreateSession(const WebSession& session, int64_t now) override;
  Result<std::optional<WebSession>> FindSession(std::string_view token_hash, int64_t now) override;
  Status DeleteSession(std::string_view token_hash) override;
  Result<ApiToken> CreateApiToken(const NewApiToken& token) override;
  Result<std::optional<ApiToken>> FindApiToken(std::string_view token_hash) override;
  Status RevokeApiToken(std::string_view name) override;
  Result<std::vector<ApiToken>> ListApiTokens() override;

  // Update leases, health, membership and the workers' list (storage/sql_updates.cpp).
  Result<bool> LeaseUpdates(int64_t account_id, std::string_view worker, int64_t now,
                            int64_t until) override;
  Status SetAccountHealth(int64_t account_id, core::AccountHealth health,
                          std::string_view reason) override;
  Result<AttemptUsage> CountAttempts(int64_t account_id, std::span<const core::RequestKind> kinds,
                                     int64_t since) override;
  Result<bool> SetResolvedUserId(int64_t invitation_id, int64_t user_id) override;
  Status PauseCampaignFor(int64_t campaign_id, std::string_view reason) override;
  Status SetSharedLink(int64_t campaign_id, std::string_view link) override;
  Status ApplyMembership(int64_t account_id, std::span<const MembershipEvent> events,
                         int64_t next_offset) override;
  Result<bool> IsInvitedJoinRequest(int64_t account_id, int64_t chat_id, int64_t user_id,
                                    std::string_view invite_link) override;
  Result<std::vector<WorkerInfo>> ListWorkers() override;
  Result<std::vector<AttemptTally>> TallyAttempts() override;
  // The update inbox and /start matching (storage/sql_updates.cpp).
  Result<int64_t> IngestUpdates(int64_t account_id, std::span<const InboxUpdate> updates,
                                std::optional<int64_t> next_offset) override;
  Result<std::vector<InboxUpdate>> PendingUpdates(int64_t account_id, int limit) override;
  Result<std::vector<StartResult>> ApplyUpdates(int64_t account_id,
                                                const UpdateEffects& effects) override;
  Result<int64_t> RetryStartWaits(int64_t account_id) override;
  Result<std::vector<AwaitingStart>> AwaitingStarts(int64_t account_id, int limit) override;

  // Web reads, "retry failed" and "anything left?" (storage/sql_web_reads.cpp).
  Result<int64_t> RetryFailed(std::string_view campaign) override;
  Result<ContactPage> ListContacts(const ContactQuery& query) override;
  Result<std::vector<AttemptView>> ContactAttempts(int64_t contact_id) override;
  Result<std::vector<AttemptView>> RecentAttempts(std::string_view campaign, int limit) override;
  Result<std::vector<ErrorCount>> ErrorBreakdown(std::string_view campaign) override;
  Result<std::vector<MinuteCounts>> CampaignMinutes(std::string_view campaign,
                                                    int64_t since) override;
  Result<bool> HasOutstandingWork() override;

  // A worker's frequent reads and writes (storage/sql_worker_reads.cpp).
  Result<std::map<int64_t, core::RawSettings>> LoadAllSettings() override;
  Result<std::map<int64_t, int64_t>> FloodPauses() override;
  Status PauseAccount(int64_t account_id, int64_t until) override;
  Status Heartbeat(const WorkerInfo& worker) override;

  // The old app's outcomes (storage/sql_legacy.cpp).
  Result<std::vector<LegacyResult>> RecordLegacyOutcomes(std::string_view campaign,
                                                         std::span<const LegacyOutcome> outcomes,
                                                         LegacyMode mode) override;

 protected:
  // One write transaction with these options (the engine adds its own: durability, retries).
  virtual Status WriteWith(const UnitOfWork& body, TxOptions options) = 0;
  // One write transaction, with the store's usual options.
  Status WriteUnit(const UnitOfWork& body) { return WriteWith(body, {}); }
  // One write transaction that is always rolled back (dry runs).
  Status DryRunUnit(const UnitOfWork& body) {
    return WriteWith(body, TxOptions{.end = TxEnd::kRollback});
  }
  // One read.
  virtual Status ReadUnit(const std::function<Status(Session&)>& body) = 0;
  // The store's clock, in unix milliseconds.
  virtual int64_t NowUnixMillis() const = 0;
  // A campaign's invitations counted by state, as the engine keeps the counts.
  virtual Result<core::StateCounts> StateCountsOf(Session& session, int64_t campaign_id) = 0;
  // How the engine writes what its SQL says differently.
  virtual const SqlDialect& Dialect() const = 0;
  // The keys that seal and open the store's secrets.
  virtual const StoreSecrets& Secrets() const = 0;
  // Called once SealSecrets replaced stored secrets, so that an engine can drop the old values it
  // may still hold on disk (SQLite: in its WAL). Best effort.
  virtual void AfterSecretsRewritten() {}
};

namespace internal {

// Suppresses a user id for every campaign: their pending, waiting and awaiting invitations become
// skipped.
Status SuppressUser(Tx& tx, int64_t user_id, std::string_view reason, int64_t now);

// Appends `event` (its id aside) to the campaign's audit trail, in the caller's transaction.
Status RecordCampaignEvent(Tx& tx, int64_t campaign_id, const CampaignEvent& event);

// The log line of a committed state change: info for an operator's, warning for the engine's.
void LogCampaignEvent(std::string_view campaign, const CampaignEvent& event);

}  // namespace internal

}  // namespace tginvite::storage
