// The dispatcher: the worker behind `tginvite run`. A batch of an account claims due invitations,
// creates their personal links, records durably that their requests may leave, sends them (at
// most dispatch.in_flight at once, each at the slot its rate limiters gave it) and records every
// outcome in one group commit fenced by the claim's generation.
//
// Run keeps a planner and, per account with running campaigns, kLanesPerAccount claim-and-send
// loops. The planner re-reads the settings and campaigns, rescues expired leases and heartbeats
// every kPlanInterval; each lane claims its next batch as soon as its last one is recorded, so
// one account's batches overlap (one lane sends while the other prepares) and never wait for
// another account's. RunOnce is one planning step and one batch per account, for tests.
//
// Operational errors (a locked or read-only database, a full disk, Telegram down) never end it:
// the batch's transaction is rolled back, the error is logged once, health turns degraded, and
// the lane retries after a backoff. Outcomes of requests that were sent are kept in memory until
// they are committed.
//
// Thread-safety: RunOnce and Run are called from one thread; health() from any.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <span>
#include <stop_token>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/settings.h"
#include "storage/store.h"
#include "telegram/messenger.h"

namespace tginvite::dispatch {

// Makes the messenger for an account: the Bot API for bot accounts, the simulator for
// rehearsal ones. Supplied by the composition root.
class SendingMarks;
class LeavingWindow;
class WorkerPool;

using MessengerFactory = std::function<std::unique_ptr<telegram::Messenger>(
    const storage::Account& account, const core::Settings& settings)>;

enum class HealthState { kOk, kDegraded, kPaused };
std::string_view ToString(HealthState state);

struct Health {
  HealthState state = HealthState::kOk;
  std::string reason;
};

struct DispatcherOptions {
  std::string worker_id;
  std::string host;
  int64_t pid = 0;
  // Exit Run once no running campaign has an invitation pending, sending or waiting.
  enum class Until { kStopped, kIdle } until = Until::kStopped;
  // How long a poll for updates waits (Run only).
  std::chrono::seconds updates_timeout{20};
  uint64_t seed = std::random_device{}();
};

// What one cycle did.
struct CycleReport {
  int64_t accounts = 0;                       // accounts with running campaigns
  int64_t paused_accounts = 0;                // of them, paused by flood control
  std::vector<std::string> blocked_accounts;  // of them, those that cannot send, with why
  int64_t claimed = 0;
  int64_t sent = 0;
  int64_t rescued = 0;
  // Claims given back unsent because their slot had passed by more than kMaxLateness, or because
  // the account was paused by flood control after they were claimed.
  int64_t released_late = 0;
  int64_t released_paused = 0;
  // Claims whose slot passed while they were prepared and that took a new slot instead.
  int64_t reslotted = 0;
  core::TimePoint next_due{};  // the earliest time more work may be due; zero when unknown
};

// A request leaves at most this long after the slot its account's limiter gave it; a later one is
// given back unsent (its slot is wasted, never reused). Slots are spaced a little over 1/rate
// apart (EmissionInterval), and a late request pushes the account's next ones (LeavingWindow), so
// no second holds more than `rate` of them.
inline constexpr std::chrono::milliseconds kMaxLateness{20};

// Claim-and-send loops per account and worker (fewer when dispatch.in_flight is smaller): while
// one lane's batch is sending, the other claims and prepares the next, so an account's slots
// follow each other without a gap. The lanes share the account's in-flight window.
inline constexpr int kLanesPerAccount = 2;
// A lane's member checks in flight at once. Each holds a connection that its exchange keeps open
// afterwards, and a lane's sends need few (a bot's rate times Telegram's answer time): more checks
// at once would only multiply the idle connections.
inline constexpr size_t kMemberChecksAtOnce = 4;
// How often Run re-reads settings and campaigns, rescues expired leases and heartbeats.
inline constexpr std::chrono::milliseconds kPlanInterval{250};

class Dispatcher {
 public:
  Dispatcher(storage::Store& store, MessengerFactory messengers, const core::Clock& clock,
             DispatcherOptions options);
  ~Dispatcher();
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  // One planning step and one batch per account; `stop` ends sending early (unsent rows are
  // released).
  Result<CycleReport> RunOnce(std::stop_token stop = {});
  // One round over every account's updates: getUpdates for accounts that poll, then the inbox
  // (however the updates arrived: polling, webhook, forwarding) is applied — /starts, joins,
  // join requests, blocks.
  Status PollUpdatesOnce(std::chrono::seconds timeout, std::stop_token stop = {});
  // One round of link revocations: for every account that can send, the unused personal links
  // of its cancelled campaigns that are due (Store::ClaimLinksToRevoke: slots from the account's
  // limiter, as sends take them, within the next second), each revoked at its slot and recorded
  // as a `revoke-link` attempt. Transient failures are retried with the dispatch backoff up to
  // dispatch.max_attempts; a 429 pauses the account; what a retry cannot change is recorded and
  // left. Run does it before each round of updates.
  Status RevokeLinksOnce(std::stop_token stop = {});
  // Cycles until `stop` (or until idle), backing off on errors. Returns 0 on a clean exit.
  int Run(std::stop_token stop);

  Health health() const;

 private:
  struct AccountWork;
  struct Plan;
  struct AccountLoop;

  // Settings, running campaigns by account, and rescued leases.
  Result<Plan> MakePlan();
  struct Batch;
  // One batch of the account: claim, prepare, mark, send, record — the steps below. `lanes`
  // batches of the account may run at once: each claims its share of dispatch.in_flight, so that
  // no more than that many of the account's requests are ever marked sending by this worker.
  Status ProcessAccount(const AccountWork& work, int lanes, std::stop_token stop,
                        CycleReport& report);
  // Claims the account's due rows with their slots; false when there is nothing to send now.
  Result<bool> ClaimBatch(Batch& batch, int lanes, CycleReport& report);
  // A shared-link campaign's one link, created once by this worker.
  Status PrepareSharedLinks(Batch& batch);
  // Per claim: a user id, not a member already, its personal link (created once, reused).
  void PrepareClaims(Batch& batch);
  // A bot's member checks, together on its messenger's Exchange (none otherwise).
  std::vector<std::optional<telegram::MemberResult>> CheckMembers(Batch& batch);
  // Claim i's preparation; `checked`: its member check, when CheckMembers made it.
  void PrepareClaim(Batch& batch, size_t i, std::optional<telegram::MemberResult> checked);
  // The prepared requests still eligible, in slot order: what SendAll may send.
  void SelectSendable(Batch& batch);
  // Records, durably and in one commit with other lanes' marks, that the requests of the claims
  // in `group` may leave from now on (with their new links); one answer per claim. kNotWritten:
  // the write failed (batch.mark_error, the batch stops); kClaimLost: the row is no longer this
  // claim's.
  enum class Leaving { kMayLeave, kClaimLost, kNotWritten };
  std::vector<Leaving> MarkLeaving(Batch& batch, std::span<const size_t> group);
  // How long before its slot a request is marked: about what a mark's commit takes.
  std::chrono::milliseconds MarkLead() const;
  // The account's requests as they leave this process (created on first use).
  LeavingWindow& LeavingWindowOf(int64_t account_id);
  // Rows whose slots passed while they were prepared take new ones (unless pacing planned them).
  void ReslotLate(Batch& batch, CycleReport& report);
  // Marks and sends each request at its slot, from one thread; SendOne sends one (on a pool
  // thread, for a messenger without an Exchange) and NoteSent notes how a send ended.
  class Flight;
  void SendAll(Batch& batch, CycleReport& report);
  telegram::InvitationMessage MessageFor(const Batch& batch, size_t i) const;
  bool SendOne(Batch& batch, size_t i);
  bool NoteSent(Batch& batch, size_t i, const telegram::SendResult& result, int64_t started_at);
  // Flood pauses, paused campaigns and a refused account first, then every outcome.
  Status RecordBatch(Batch& batch);
  // The outcome of a failed request for `claim`, by kind.
  storage::OutcomeRecord FailureRecord(const Batch& batch, const storage::Claim& claim,
                                       const telegram::Outcome& outcome, core::RequestKind request,
                                       int64_t started_at);
  // dispatch/user_steps.cpp. How many more contacts the account may reach within
  // pacing.daily_cap (a bot's only when set: Settings::bot_daily_cap): false, and report.next_due
  // set, when none today.
  Result<bool> WithinDailyCap(Batch& batch, CycleReport& report);
  // Finds a claim's contact on Telegram by @username or phone (within
  // tdlib.import_contacts_per_day) when it has no user id; false when it cannot be reached now
  // (its outcome is noted).
  bool ResolveContact(Batch& batch, size_t i);
  // Whether the claim's next step is an add (add and add-then-message campaigns, first step).
  bool AddsMember(const Batch& batch, const storage::Claim& claim) const;
  // Whether the claim needs a personal link made now: not for a shared link or an add, nor when
  // its stored link still has time to be used (half of link.expire_after left, or an hour once
  // links no longer expire). An older one is left to expire; the message carries the new one.
  bool NeedsLink(const Batch& batch, const storage::Claim& claim) const;
  // Adds the contact to the chat and notes the outcome; a privacy refusal turns an
  // add-then-message invitation to its message step.
  bool AddOne(Batch& batch, size_t i);
  // Lane `lane` of Run: batches of the account until stopped.
  void LaneLoop(AccountLoop& loop, int lane, std::stop_token stop);
  // Logs an operational error once (until it changes or recovers) and counts it.
  void NoteCycleError(const std::string& message);
  void NoteRecovered();
  telegram::Messenger& MessengerFor(const storage::Account& account,
                                    const core::Settings& settings);
  void SetHealth(HealthState state, std::string reason);
  void Heartbeat();
  // True when every running campaign with invitations left belongs to an account that cannot send.
  bool OnlyBlockedWorkLeft();
  void PollLoop(std::stop_token stop);
  // Retries a write whose loss would lose a fact (a sent request, a created link) for up to a
  // minute, also while stopping.
  Status RetryWrite(const std::function<Status()>& write);
  // How long before its first slot a claim of the account is made: a decaying maximum of the time
  // the last claims needed for their links and sending marks.
  std::chrono::milliseconds LeadFor(int64_t account_id);
  void ObservePreparation(int64_t account_id, std::chrono::milliseconds took);
  // Whether the account is under a flood pause right now: the database's word, re-read (for every
  // account at once) when the last reading is older than kFloodRecheck.
  bool FloodPaused(int64_t account_id);
  // getUpdates once for the account; what it returns goes to the inbox, with the next offset.
  Status PollAccount(const storage::Account& account, telegram::Messenger& messenger,
                     std::chrono::seconds timeout);
  // Applies the account's unprocessed inbox updates (however they arrived): joins, blocks,
  // approved join requests and /starts, each once.
  Status ApplyInbox(const storage::Account& account, telegram::Messenger& messenger);
  // Every kStartWaitsRetry: bare /starts that matched no one are tried again.
  Status RetryStartWaitsOf(int64_t account_id);
  // True, and `last` set to now, when `every` has passed since `last` (or it was never set).
  bool Due(core::TimePoint& last, std::chrono::milliseconds every) const;
  // Asks getMe for the bot's @username (for start links) when the account has none yet.
  void LearnBotUsername(const storage::Account& account, telegram::Messenger& messenger);
  // Takes, renews or keeps away from the lease on polling the account's updates.
  bool HoldsUpdatesLease(int64_t account_id, std::chrono::seconds poll_timeout);
  void GiveUpUpdatesLeases();

  storage::Store& store_;
  MessengerFactory messenger_factory_;
  const core::Clock& clock_;
  DispatcherOptions options_;
  core::WarnOnce warn_once_;
  int64_t started_at_ = 0;
  std::unique_ptr<SendingMarks> sending_marks_;
  // The threads of every batch's concurrent requests: up to dispatch.in_flight (256) for each of
  // the accounts' lanes.
  static constexpr size_t kMaxPoolThreads = 1024;
  std::unique_ptr<WorkerPool> pool_;
  std::mutex leaving_windows_mu_;
  std::map<int64_t, std::unique_ptr<LeavingWindow>> leaving_windows_;

  std::mutex messengers_mu_;
  std::map<int64_t, std::shared_ptr<telegram::Messenger>> messengers_;

  std::mutex random_mu_;
  std::mt19937_64 random_;

  mutable std::mutex health_mu_;
  Health health_;
  std::mutex error_mu_;
  std::string last_logged_error_;

  // Shared links created by this worker, until the planner's campaigns carry them.
  std::mutex shared_links_mu_;
  std::map<int64_t, std::string> shared_links_;

  // The last getUpdates failure reported per account, so that each is logged once.
  std::mutex updates_mu_;
  std::map<int64_t, std::string> updates_errors_;
  std::map<int64_t, bool> updates_leases_;  // accounts whose lease this worker held last
  // The poller thread's own: whether its last round long-polled any account, when each
  // account's bare /starts were last retried, when getMe was last asked for a username.
  bool long_polled_ = false;
  std::map<int64_t, core::TimePoint> start_waits_retried_;
  std::map<int64_t, core::TimePoint> username_asked_;
  std::map<int64_t, core::TimePoint> expected_starts_told_;  // the rehearsal's, by account
  static constexpr int kInboxBatch = 200;
  static constexpr std::chrono::seconds kStartWaitsRetry{30};
  static constexpr std::chrono::seconds kExpectStartsEvery{2};
  static constexpr std::chrono::minutes kUsernameRetry{10};
  // How long a user account's lease (its updates lease) is taken for by a worker that sends: as
  // long as the poller's (run's updates timeout, 5 s, + 15 s), so that after a crash another
  // worker takes the account over within 20 s.
  static constexpr std::chrono::seconds kUserAccountLease{20};

  std::mutex lead_mu_;
  std::map<int64_t, std::chrono::milliseconds> leads_;

  // Every account's flood pause, one reading for all of the worker's senders: one query every
  // kFloodRecheck however many accounts and lanes send (it was one per account).
  struct FloodReading {
    std::mutex mu;  // held while the database is read: the senders share one reading
    core::TimePoint read_at{};
    std::map<int64_t, int64_t> until;  // by account id, unix ms
    bool ok = false;
  };
  FloodReading flood_;
};

}  // namespace tginvite::dispatch
