// The Store: everything tginvite keeps, in business terms. One implementation per database engine
// (storage/sqlite now, storage/postgres later); the same contract test suite runs against each.
//
// Implementations are thread-safe: any thread may call any method. Every write is one
// transaction run by the transaction guard (storage/transaction.h), so a failed call leaves
// nothing half-written and the store usable. Errors: kInvalidArgument for input that breaks a
// rule (the message says which), kNotFound / kAlreadyExists for names, kAborted / kUnavailable
// when the database is busy or down (retry later), kInternal for corruption.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/contact.h"
#include "core/error.h"
#include "core/model.h"
#include "core/secret.h"
#include "core/secret_box.h"
#include "core/settings.h"

namespace tginvite::storage {

// Whether an account's token could be read. Tokens are stored sealed (core/secret_box.h) and
// opened with the store's keyring as accounts are read.
enum class TokenAccess {
  kOpen,        // `token` holds it (empty for a rehearsal account, which has none)
  kNoKey,       // it is sealed and the store has no secret key
  kUnopenable,  // it is sealed under a key the store does not hold, or was altered
};

struct Account {
  int64_t id = 0;
  std::string name;
  core::AccountKind kind = core::AccountKind::kRehearsal;
  // A bot's token; a user account's credentials (core::UserCredentials as text: api_id,
  // api_hash, phone). Empty for rehearsal accounts, and unless token_access is kOpen.
  core::Secret token;
  TokenAccess token_access = TokenAccess::kOpen;
  std::string token_problem;  // why the token cannot be read, when it cannot (never the token)
  std::string api_base;
  int64_t created_at = 0;     // unix ms
  core::AccountHealth health = core::AccountHealth::kOk;
  std::string health_reason;  // why it cannot send, when health is not ok
  int64_t flood_until = 0;  // unix ms; no request before it (a 429's retry_after)
  int64_t updates_offset = 0;
  // The account's @username without the '@' (a bot's, for start links; a user account's, shown
  // in `account list`), "" until getMe told it.
  std::string bot_username;
  core::UpdatesVia updates_via = core::UpdatesVia::kPoll;
  std::string webhook_url;
  // BLAKE2b (hex) of the secret Telegram sends with every webhook call; "" without a webhook.
  std::string webhook_secret_hash;

  // Whether a worker may send with it: its health is ok and its token could be read.
  bool CanSend() const {
    return health == core::AccountHealth::kOk && token_access == TokenAccess::kOpen;
  }
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
  std::string paused_reason;  // set when the engine paused it (e.g. the bot lost its rights)
  core::CampaignReach reach = core::CampaignReach::kDirect;
  std::string bot_username;  // the account's, for the campaign's start links
  int64_t links_exported = 0;  // start links handed out (exports), each invitation once
  int64_t links_started = 0;   // invitations whose contact pressed Start
  // How the campaign invites: always kMessage on a bot account.
  core::DeliveryMethod method = core::DeliveryMethod::kMessage;
};

struct NewCampaign {
  std::string name;
  std::string account_name;
  std::string chat;
  std::string template_text;
  core::LinkMode link_mode = core::LinkMode::kPersonal;
  std::string shared_link;
  core::CampaignReach reach = core::CampaignReach::kDirect;
  // kInvalidArgument for add or add-then-message on a bot account. For a user account's campaign
  // reach is always direct: a user account writes first.
  core::DeliveryMethod method = core::DeliveryMethod::kMessage;
};

enum class CampaignAction { kStart, kPause, kResume, kCancel };

struct CampaignSummary {
  Campaign campaign;
  core::StateCounts counts;
  int64_t sent_last_minute = 0;  // successful sends in the last 60 s
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

struct ExportRow {
  core::ContactRecord contact;
  std::string start_link;  // https://t.me/<bot>?start=<key>; "" while the bot's name is unknown
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

// --- Delivery: what the dispatcher asks of the store -------------------------------------------

// How one campaign is paced (the old app's settings): at most `batch_size` invitations a cycle
// (0: no cycles), a random gap of delay_min..delay_max between two of them, cycle_interval
// between cycles.
struct CampaignPlan {
  int64_t campaign_id = 0;
  int batch_size = 0;
  std::chrono::milliseconds cycle_interval{0};
  std::chrono::milliseconds delay_min{0};
  std::chrono::milliseconds delay_max{0};

  // Whether a claim keeps the campaign's pacing state: each slot then plans the next one's, so a
  // slot, once claimed, must not move later (Store::ReslotLate).
  bool paced() const { return batch_size > 0 || delay_max.count() > 0; }
};

struct ClaimRequest {
  int64_t account_id = 0;
  std::string worker_id;
  int64_t now = 0;  // unix ms
  std::chrono::milliseconds lease{30000};
  int max_rows = 16;
  // Only slots that fall within now + horizon are claimed.
  std::chrono::milliseconds horizon{1000};
  // Least spacing of any two of the account's sends: 1 s / telegram.rate.
  std::chrono::milliseconds emission_interval{34};
  // Minimum gap between two messages to one chat (telegram.chat_interval), across campaigns.
  std::chrono::milliseconds chat_interval{1000};
  std::vector<CampaignPlan> campaigns;  // running campaigns of the account, window open
  uint64_t seed = 0;                    // for pacing delays
  // Slots start no earlier than now + lead: the time the caller needs between the claim and its
  // first send (links, the sending mark), so that no slot has passed when its request leaves.
  // The horizon counts from there.
  std::chrono::milliseconds lead{0};
  // When set, read once the account's limiter is locked and used as `now` (if later): a claim
  // that waited for another worker's claim must not hand out slots from before the wait.
  std::function<int64_t()> clock;
  // A bot can message only users who started it, by id: others are skipped as they come up.
  enum class Reach { kAnyIdentifier, kUserIdOnly } reach = Reach::kUserIdOnly;
};

inline constexpr std::string_view kNoUserIdReason =
    "no telegram_user_id: a bot can message only users who started it, by id";

// A claimed invitation: everything needed to send it, and the generation that fences its
// outcome.
struct Claim {
  int64_t invitation_id = 0;
  int64_t gen = 0;
  int64_t campaign_id = 0;
  core::ContactRecord contact;
  std::string invite_link;  // stored by an earlier attempt: reused, never created twice
  int64_t attempts = 0;
  int64_t not_before = 0;  // unix ms: the slot the rate limiter and pacing gave it
  // Whether the campaign's pacing planned its slot (its next invitation is planned from it); an
  // answer to a /start, or an unpaced campaign's row, only has the account's limits.
  bool paced = false;
  // Which step of its campaign's method is next: kFirstStep (an add for add and
  // add-then-message, the message otherwise) or kMessageStep (the message an add-then-message
  // sends after the contact's privacy refused the add).
  int step = 0;
};
inline constexpr int kFirstStep = 0;
inline constexpr int kMessageStep = 1;

struct ClaimResult {
  std::vector<Claim> claims;
  int64_t flood_until = 0;  // > now: the account is paused, nothing was claimed
  int64_t next_due = 0;     // when the next row of this account may be due (0: unknown)
};

// Rows of one claim whose slots passed while their requests were prepared (the claim's lead was
// too short), for new slots.
struct ReslotRequest {
  struct Row {
    int64_t invitation_id = 0;
    int64_t gen = 0;
    int64_t slot = 0;  // the slot the claim gave it
  };
  int64_t account_id = 0;
  std::vector<Row> rows;
  int64_t now = 0;  // unix ms
  // As in ClaimRequest: read once the account's limiter is locked, and used as `now` if later.
  std::function<int64_t()> clock;
  std::chrono::milliseconds emission_interval{34};
  std::chrono::milliseconds chat_interval{1000};
  // New slots start this long after now: the time to commit them and wake the senders.
  std::chrono::milliseconds delay{0};
  // A row whose new slot would fall later than now + delay + horizon keeps its old one.
  std::chrono::milliseconds horizon{1000};
};

// Marks a claimed row as about to be sent, storing its new invite link if it has one.
struct SendingMark {
  int64_t invitation_id = 0;
  int64_t gen = 0;
  std::string invite_link;  // empty: keep the stored one
};

struct AttemptRecord {
  std::string worker;
  std::string request;  // core::RequestKind's name: "send", "link", "add", "resolve", "import"
  int64_t started_at = 0;
  int64_t latency_ms = 0;
  int http_status = 0;
  int error_code = 0;
  std::string error;
  std::string outcome;  // telegram::OutcomeKind's name
};

enum class AttemptCount { kCounted, kNotCounted };

// The result of one claimed row, fenced by its generation: applied only if the row is still in
// 'sending' with the same gen.
struct OutcomeRecord {
  int64_t invitation_id = 0;
  int64_t gen = 0;
  core::InvitationState state =
      core::InvitationState::kSent;  // sent/waiting/failed/unknown/pending
  int64_t next_attempt_at = 0;       // for waiting
  std::string error;
  AttemptCount count = AttemptCount::kCounted;
  std::optional<AttemptRecord> attempt;
  // Requests made for the row before `attempt` (a user account's lookup of the contact): recorded
  // too, whether or not the outcome still applies (they happened).
  std::vector<AttemptRecord> earlier_attempts;
  std::optional<int64_t> suppress_user;  // the user blocked the bot: suppress everywhere
  std::string invite_link;               // a link created for the row, kept for its next attempt
  // With state kPending: the row's next step (kMessageStep after a refused add), taken at once
  // (next_attempt_at) and without counting an attempt. std::nullopt keeps the row's step.
  std::optional<int> next_step;
};

struct MembershipEvent {
  enum class Kind { kJoined, kBlockedBot };
  Kind kind = Kind::kJoined;
  int64_t chat_id = 0;
  int64_t user_id = 0;
  std::string invite_link;
  int64_t update_id = 0;  // the update it came from (ApplyUpdates), 0 when none
};

// An update as the inbox keeps it: what tginvite acts on, whoever delivered it (polling, the
// webhook or forwarding). Updates of other kinds are kept too, as kOther, so that each update_id
// is seen once.
struct InboxUpdate {
  enum class Kind { kChatMember, kJoinRequest, kMyChatMember, kStart, kOther };
  int64_t update_id = 0;
  Kind kind = Kind::kOther;
  int64_t chat_id = 0;
  int64_t user_id = 0;
  std::string username;  // the sender's, lower-case, without '@'
  std::string old_status;
  std::string new_status;
  std::string invite_link;
  std::string start_payload;  // kStart: what followed "/start ", "" for a bare /start
};

// Someone pressed Start in the bot: "/start <payload>" from their personal start link, or a bare
// "/start".
struct StartRequest {
  int64_t update_id = 0;
  int64_t user_id = 0;
  std::string username;       // lower-case, without '@'; may be ""
  std::string payload;        // "" for a bare /start
};

enum class StartMatch {
  kLinked,          // the contact is linked to the user and its invitations waiting for it go out
  kUnknownPayload,  // no invitation of this account has the payload (forged, revoked, or typed)
  kAlreadyHandled,  // the invitation no longer waits (a replay, a cancelled campaign, sent)
  kOtherUser,       // the payload's contact is another Telegram user (a forwarded link)
  kSuppressed,      // the user is suppressed: their invitation is skipped, nothing is sent
  kSamePerson,      // the user is already another contact with an invitation in the campaign
  kWaiting,         // a bare /start that matches no one yet: kept for 7 days, retried
};
std::string_view ToString(StartMatch match);

struct StartResult {
  int64_t update_id = 0;
  StartMatch match = StartMatch::kWaiting;
  int64_t queued = 0;  // invitations that became pending
};

struct AwaitingStart {
  std::string start_key;
  std::string username;  // the contact's, "" when unknown
};

// What processing a batch of inbox updates found: applied together with marking them processed.
struct UpdateEffects {
  std::vector<MembershipEvent> membership;
  std::vector<StartRequest> starts;
  std::vector<int64_t> processed;  // every update id of the batch
};

struct WorkerInfo {
  std::string id;
  std::string host;
  int64_t pid = 0;
  int64_t started_at = 0;
  int64_t heartbeat_at = 0;
  std::string health;  // ok, degraded, paused
  std::string reason;
  int64_t stopped_at = 0;
};

// How many requests of one kind an account made with one outcome, from the attempts history.
struct AttemptTally {
  std::string account;
  std::string request;  // core::RequestKind's name
  std::string outcome;  // telegram::OutcomeKind's name ("sent", "flood", ...)
  int64_t count = 0;
};

// --- Reads for the web interface ----------------------------------------------------------------

// A page of contacts in a stable order, continued by keyset (`after` = the last page's
// `next_after`), so page 20,000 costs what page 1 costs.
struct ContactQuery {
  // With a campaign: the campaign's invitations, in invitation order, with their state. Without:
  // every contact, in contact order.
  std::optional<std::string> campaign;
  std::optional<core::InvitationState> state;  // needs a campaign
  // "" for all; digits: a Telegram user id; "+digits": a phone prefix; otherwise a
  // case-insensitive prefix of the username (a leading '@' is dropped), of the first name, of
  // "first last", or of the last name.
  std::string search;
  int64_t after = 0;  // 0: from the start
  int limit = 50;     // 1..500
  // Only this contact (with a campaign: only its invitation there), for a contact's own page.
  std::optional<int64_t> contact_id;
};

struct ContactView {
  int64_t id = 0;  // the contact's id
  core::ContactRecord contact;
  // With a campaign: its invitation of the contact.
  std::optional<core::InvitationState> state;
  int64_t attempts = 0;
  std::string last_error;
  std::optional<int64_t> sent_at;
  std::optional<int64_t> joined_at;
  std::string start_link;  // with a campaign: the contact's start link ("" as in ExportRow)
};

struct ContactPage {
  std::vector<ContactView> contacts;
  std::optional<int64_t> next_after;  // std::nullopt: this was the last page
};

// One recorded request, with what it was for.
struct AttemptView {
  int64_t id = 0;
  int64_t contact_id = 0;
  std::string campaign;
  core::ContactRecord contact;
  AttemptRecord attempt;
};

// How many of a campaign's invitations ended failed, unknown or skipped for one reason.
struct ErrorCount {
  core::InvitationState state = core::InvitationState::kFailed;
  std::string reason;
  int64_t count = 0;
};

// Invitations that became sent, joined or failed within one minute.
struct MinuteCounts {
  int64_t minute_start = 0;  // unix ms, a multiple of 60,000
  int64_t sent = 0;
  int64_t joined = 0;
  int64_t failed = 0;
};

// --- Web authentication: secrets are handed to the store already hashed -----------------------

// A logged-in browser session. The store keeps only a hash of the session token.
struct WebSession {
  std::string token_hash;
  std::string csrf_token;
  int64_t created_at = 0;  // unix ms
  int64_t expires_at = 0;  // unix ms
};

// An API token for `Authorization: Bearer`. The plaintext is shown once at creation and never
// stored; only its hash is.
struct ApiToken {
  int64_t id = 0;
  std::string name;
  int64_t created_at = 0;             // unix ms
  std::optional<int64_t> revoked_at;  // unix ms
  core::TokenScope scope = core::TokenScope::kWrite;
  std::optional<int64_t> expires_at;  // unix ms; std::nullopt: never
};

struct NewApiToken {
  NewApiToken(std::string name_in, std::string token_hash_in,
              core::TokenScope scope_in = core::TokenScope::kWrite,
              std::optional<int64_t> expires_at_in = std::nullopt)
      : name(std::move(name_in)),
        token_hash(std::move(token_hash_in)),
        scope(scope_in),
        expires_at(expires_at_in) {}

  std::string name;
  std::string token_hash;
  core::TokenScope scope;
  std::optional<int64_t> expires_at;  // unix ms
};

// Settings are global (campaign = std::nullopt) or a campaign's overrides.
using SettingScope = std::optional<std::string>;

class Store {
 public:
  virtual ~Store() = default;

  virtual std::string_view backend() const = 0;

  // The stored values of one scope, unvalidated (ResolveSettings validates and falls back).
  virtual Result<core::RawSettings> LoadSettings(const SettingScope& scope) = 0;
  // Every scope's stored values in one read, by scope: 0 for the global settings, a campaign's id
  // for its overrides (what a worker's plan reads several times a second).
  virtual Result<std::map<int64_t, core::RawSettings>> LoadAllSettings() = 0;
  // Validates `value` (type, range, and cross-field rules against the values in force: for a
  // global change, also against every campaign's overrides) and stores its canonical text.
  virtual Status PutSetting(const SettingScope& scope, std::string_view key,
                            std::string_view value) = 0;
  // Removes a stored value, so the global value or default is in force again.
  virtual Status DeleteSetting(const SettingScope& scope, std::string_view key) = 0;

  // Stores the account with its token sealed under the keyring's current key: kInvalidArgument
  // for a bot account when the store has no keyring (the message says how to give a key).
  virtual Result<Account> AddAccount(const NewAccount& account) = 0;
  // Puts a new token on a bot account (sealed under the current key) and lets it send again:
  // after a lost secret key, or a token revoked at @BotFather. kNotFound for no such bot account.
  virtual Status ReplaceBotToken(std::string_view account, const core::Secret& token) = 0;
  // Accounts with their tokens opened; a token that cannot be opened is reported in the account
  // (token_access, token_problem), never as an error of the call.
  virtual Result<std::vector<Account>> ListAccounts() = 0;
  virtual Result<Account> FindAccount(std::string_view name) = 0;

  // Seals under the keyring's current key every stored secret that is in plaintext (a database
  // written before secrets were sealed) and, with SealScope::kEverySecret, every one sealed under
  // another key of the keyring (a rotation), in one transaction; returns how many it wrote.
  // Idempotent, and safe beside other processes doing the same. Without a keyring it writes
  // nothing: 0 when no secret is in plaintext, else kInvalidArgument saying how many are. A
  // secret to reseal that no key of the keyring opens fails the call; nothing is written then.
  enum class SealScope { kPlaintext, kEverySecret };
  virtual Result<int64_t> SealSecrets(SealScope scope) = 0;

  // Validates the template (placeholders, HTML, length), the chat and the link mode.
  virtual Result<Campaign> CreateCampaign(const NewCampaign& campaign) = 0;
  virtual Result<std::vector<CampaignSummary>> ListCampaigns() = 0;
  // The running campaigns alone, without counts or rates: what the worker reads every cycle.
  virtual Result<std::vector<Campaign>> ListRunningCampaigns() = 0;
  virtual Result<CampaignSummary> FindCampaign(std::string_view name) = 0;
  // kInvalidArgument when the action does not apply to the campaign's state. Cancelling turns
  // every pending or waiting invitation into cancelled.
  virtual Result<Campaign> ChangeCampaign(std::string_view name, CampaignAction action) = 0;

  // Puts the campaign's unknown invitations (their request may have been delivered) back to
  // pending, on the operator's explicit word. Returns how many.
  virtual Result<int64_t> ResendUnknown(std::string_view campaign) = 0;

  // Puts the campaign's failed invitations back to pending with their attempts reset, on the
  // operator's explicit word. Returns how many.
  virtual Result<int64_t> RetryFailed(std::string_view campaign) = 0;

  // Web reads. kNotFound for an unknown campaign or contact; kInvalidArgument for a state filter
  // without a campaign or a limit out of range.
  virtual Result<ContactPage> ListContacts(const ContactQuery& query) = 0;
  // Every attempt made for the contact, by any campaign, newest first.
  virtual Result<std::vector<AttemptView>> ContactAttempts(int64_t contact_id) = 0;
  // The campaign's most recent attempts, newest first.
  virtual Result<std::vector<AttemptView>> RecentAttempts(std::string_view campaign, int limit) = 0;
  // The campaign's failed, unknown and skipped invitations counted by state and last error, most
  // frequent first.
  virtual Result<std::vector<ErrorCount>> ErrorBreakdown(std::string_view campaign) = 0;
  // Per-minute transitions to sent, joined and failed since `since` (unix ms), oldest first;
  // minutes without any are absent. Kept by the database as the states change, so reading an
  // hour costs 60 rows whatever the send rate.
  virtual Result<std::vector<MinuteCounts>> CampaignMinutes(std::string_view campaign,
                                                            int64_t since) = 0;

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

  // Delivery. Claims due invitations of the account's campaigns under a lease (gen + 1), giving
  // each a slot from the account's limiter (internal::SlotCalendar: at least emission_interval
  // from every slot handed out before, by any worker) and the campaign's pacing, both persisted in
  // the same transaction. Nothing is claimed while the account is paused by a 429.
  virtual Result<ClaimResult> ClaimInvitations(const ClaimRequest& request) = 0;
  // Gives each row the earliest free slot of the account's limiter from now on, as a claim would,
  // and moves its chat's next_message_at with it. Returns the new slots in the rows' order; 0
  // where a row keeps its old slot: it is no longer this claim's (gen), its contact is being
  // claimed elsewhere right now, or a later message to its chat was planned since the claim (its
  // chat interval would shrink). The caller must not re-slot a paced campaign's rows: their
  // campaign's next invitation was planned from the old slot.
  virtual Result<std::vector<int64_t>> ReslotLate(const ReslotRequest& request) = 0;
  // Stores new links and records that the rows' requests may leave from now on (the lease is
  // extended). Returns the ids that are still this claim's; a row whose lease was lost must not
  // be sent.
  virtual Result<std::vector<int64_t>> MarkSending(std::span<const SendingMark> marks, int64_t now,
                                                   std::chrono::milliseconds lease) = 0;
  // Applies outcomes in one transaction (a group commit); returns how many were still ours.
  virtual Result<int64_t> RecordOutcomes(std::span<const OutcomeRecord> outcomes, int64_t now) = 0;
  // Rows in 'sending' whose lease expired: back to pending when their request never left,
  // otherwise unknown (or waiting, for campaigns in `resend_campaigns`). Returns how many.
  virtual Result<int64_t> RescueExpiredLeases(int64_t now,
                                              std::span<const int64_t> resend_campaigns) = 0;
  // Pauses the account until `until` (unix ms), or keeps a later pause.
  virtual Status PauseAccount(int64_t account_id, int64_t until) = 0;
  // Every account's flood pause by account id (unix ms, 0 when none), read fresh from the
  // database: a worker checks them right before its sends (one reading for all its accounts), so
  // a pause another worker recorded stops its claimed rows.
  virtual Result<std::map<int64_t, int64_t>> FloodPauses() = 0;
  // One poller per bot: takes or renews the lease on polling the account's updates for `worker`
  // until `until` (unix ms) unless another worker holds one that has not expired at `now`; true
  // when `worker` holds it afterwards. `until` <= `now` gives up a lease `worker` holds.
  virtual Result<bool> LeaseUpdates(int64_t account_id, std::string_view worker, int64_t now,
                                    int64_t until) = 0;
  virtual Status SetAccountHealth(int64_t account_id, core::AccountHealth health,
                                  std::string_view reason) = 0;
  // A user account: its credentials (sealed like a bot token) and, after a login, its @username.
  // `account resume` clears a health problem with SetAccountHealth(kOk).
  // Attempts of the account of these kinds that started at or after `since` (unix ms): the daily
  // caps of a user account (pacing.daily_cap over send and add, tdlib.import_contacts_per_day over
  // import) count them, so a restart does not reset a cap. `oldest` is the earliest one's start
  // (0 when none): the cap frees up 24 h after it.
  struct AttemptUsage {
    int64_t count = 0;
    int64_t oldest = 0;
  };
  virtual Result<AttemptUsage> CountAttempts(int64_t account_id,
                                             std::span<const core::RequestKind> kinds,
                                             int64_t since) = 0;
  // A user account found the invitation's contact on Telegram (by @username or phone): the
  // contact gets the user id. False, and nothing written, when another contact already has that
  // id (the same person imported twice): the caller skips the invitation.
  virtual Result<bool> SetResolvedUserId(int64_t invitation_id, int64_t user_id) = 0;
  virtual Status PauseCampaignFor(int64_t campaign_id, std::string_view reason) = 0;
  // Stores the link a shared-link campaign created for itself.
  virtual Status SetSharedLink(int64_t campaign_id, std::string_view link) = 0;
  // True while some running campaign has an invitation pending, sending or waiting.
  virtual Result<bool> HasOutstandingWork() = 0;
  // Applies joins and blocks seen in updates, and stores the next updates offset, together.
  virtual Status ApplyMembership(int64_t account_id, std::span<const MembershipEvent> events,
                                 int64_t next_offset) = 0;

  // Updates, whoever delivered them: each (account, update_id) is kept once, later copies are
  // dropped (a webhook retry, the same update forwarded too). With `next_offset` the account's
  // polling offset moves in the same transaction. Returns how many were new.
  virtual Result<int64_t> IngestUpdates(int64_t account_id, std::span<const InboxUpdate> updates,
                                        std::optional<int64_t> next_offset) = 0;
  // The account's updates not processed yet, oldest first.
  virtual Result<std::vector<InboxUpdate>> PendingUpdates(int64_t account_id, int limit) = 0;
  // Applies what a batch of updates means and marks them processed, in one transaction, so each
  // update takes effect once however often it arrived or was read. Returns one result per start.
  virtual Result<std::vector<StartResult>> ApplyUpdates(int64_t account_id,
                                                        const UpdateEffects& effects) = 0;
  // Retries the account's bare /starts that matched no one (the contact was imported, or its
  // campaign started, since), dropping those older than 7 days. Returns how many linked.
  virtual Result<int64_t> RetryStartWaits(int64_t account_id) = 0;
  // Start keys (and usernames) of invitations waiting for a start in the account's running
  // campaigns, oldest first: what the rehearsal simulator "presses Start" for.
  virtual Result<std::vector<AwaitingStart>> AwaitingStarts(int64_t account_id, int limit) = 0;
  // The bot's @username (from getMe), for its start links.
  virtual Status SetBotUsername(int64_t account_id, std::string_view username) = 0;
  // Where the account's updates come from; a webhook's URL and the hash of its secret.
  virtual Status SetUpdatesVia(std::string_view account, core::UpdatesVia via,
                               std::string_view webhook_url,
                               std::string_view webhook_secret_hash) = 0;
  // Records that the campaign's start links were handed out (an export): counted once per
  // invitation still waiting for its start. Returns how many were new.
  virtual Result<int64_t> MarkStartLinksExported(std::string_view campaign) = 0;
  // Gives the contact's invitation in the campaign a new start key: the old link stops working.
  // `contact` is a suppression-style key (id:N, username:NAME, phone:+E164). Returns the new link.
  virtual Result<std::string> RenewStartLink(std::string_view campaign,
                                             std::string_view contact) = 0;
  // True when the user is a contact invited by one of the account's join-request campaigns for
  // this chat (or through this link): such join requests are approved.
  virtual Result<bool> IsInvitedJoinRequest(int64_t account_id, int64_t chat_id, int64_t user_id,
                                            std::string_view invite_link) = 0;
  virtual Status Heartbeat(const WorkerInfo& worker) = 0;
  virtual Result<std::vector<WorkerInfo>> ListWorkers() = 0;
  // Every attempt ever recorded, counted by sending account, request and outcome (for /metrics),
  // ordered by account, request, outcome. Accounts without attempts are absent.
  virtual Result<std::vector<AttemptTally>> TallyAttempts() = 0;

  // Web authentication. The admin password hash (an argon2id string), std::nullopt until set.
  virtual Result<std::optional<std::string>> AdminPasswordHash() = 0;
  virtual Status SetAdminPasswordHash(std::string_view hash) = 0;
  // Stores a session and drops sessions that expired before `now`.
  virtual Status CreateSession(const WebSession& session, int64_t now) = 0;
  // The session with this token hash if it has not expired at `now`, else std::nullopt.
  virtual Result<std::optional<WebSession>> FindSession(std::string_view token_hash,
                                                        int64_t now) = 0;
  // Removes the session (logout); removing one that does not exist is not an error.
  virtual Status DeleteSession(std::string_view token_hash) = 0;
  // kInvalidArgument for a bad name, kAlreadyExists while an unrevoked token has the name.
  virtual Result<ApiToken> CreateApiToken(const NewApiToken& token) = 0;
  // The unrevoked token with this hash, else std::nullopt (an expired one is returned: the caller
  // says why it is refused).
  virtual Result<std::optional<ApiToken>> FindApiToken(std::string_view token_hash) = 0;
  // kNotFound when no unrevoked token has the name.
  virtual Status RevokeApiToken(std::string_view name) = 0;
  // Every token, revoked ones included, oldest first.
  virtual Result<std::vector<ApiToken>> ListApiTokens() = 0;
};

// The settings in force for a scope: defaults, then global values, then the campaign's.
Result<core::ResolvedSettings> LoadResolvedSettings(Store& store, const SettingScope& scope);

enum class OpenMode {
  kCreate,    // create the database (and its folder) when missing
  kExisting,  // kNotFound when missing
};

// The keys that seal the secrets a store keeps. The store never reads a key file: its caller
// loads the keys and hands them over.
struct StoreSecrets {
  std::shared_ptr<const core::Keyring> keyring;  // null: no key; sealed secrets stay closed
  // How to give the store a key, for messages when it has none ("set TGINVITE_SECRET_KEY or
  // create ./data/secret.key with `tginvite init`").
  std::string missing_key_hint = "no secret key was given";
  // Where the keyring's key came from, for messages ("./data/secret.key"); may be empty.
  std::string key_origin;
};

struct StoreOptions {
  OpenMode mode = OpenMode::kCreate;
  StoreSecrets secrets;
};

// Opens a store from a URL: "sqlite:PATH" (a bare path is taken as sqlite too),
// "sqlite:PATH?synchronous=full" for fsync on every commit, or "postgresql://...". Applies pending
// migrations. A new SQLite database file is created readable by its owner alone (0600), in a
// folder created 0700.
Result<std::unique_ptr<Store>> OpenStore(std::string_view url, const StoreOptions& options);
// The same without a secret key: sealed secrets can be neither stored nor opened.
Result<std::unique_ptr<Store>> OpenStore(std::string_view url, OpenMode mode);

// The database file of a "sqlite:" URL (or bare path), std::nullopt for PostgreSQL and
// ":memory:".
std::optional<std::string> SqliteFileOf(std::string_view url);

}  // namespace tginvite::storage
