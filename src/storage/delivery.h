// Part of the Store (storage/store.h): what the dispatcher asks of the store — claims under a
// lease, the sending marks, fenced outcomes, pauses and caps.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/contact.h"
#include "core/error.h"
#include "core/model.h"

namespace tginvite::storage {

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
  // Least spacing of any two of the account's sends: a little over 1 s / telegram.rate
  // (dispatch::EmissionInterval).
  std::chrono::microseconds emission_interval{33'400};
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
  int64_t link_expires_at = 0;  // unix ms when the stored link stops admitting anyone; 0: never
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
    // A paced campaign's row: the campaign's next invitation was planned from its slot, and moves
    // as far as the row does.
    int64_t paced_campaign_id = 0;
  };
  int64_t account_id = 0;
  std::vector<Row> rows;
  int64_t now = 0;  // unix ms
  // As in ClaimRequest: read once the account's limiter is locked, and used as `now` if later.
  std::function<int64_t()> clock;
  std::chrono::microseconds emission_interval{33'400};
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
  std::string invite_link;      // empty: keep the stored one
  int64_t link_expires_at = 0;  // with a new link: unix ms when it expires; 0: never
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
  int64_t link_expires_at = 0;           // with such a link: unix ms when it expires; 0: never
  // With state kPending: the row's next step (kMessageStep after a refused add), taken at once
  // (next_attempt_at) and without counting an attempt. std::nullopt keeps the row's step.
  std::optional<int> next_step;
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

class DeliveryStore {
 public:
  virtual ~DeliveryStore() = default;

  // Delivery. Claims due invitations of the account's campaigns under a lease (gen + 1), giving
  // each a slot from the account's limiter (internal::SlotCalendar: at least emission_interval
  // from every slot handed out before, by any worker) and the campaign's pacing, both persisted in
  // the same transaction. Nothing is claimed while the account is paused by a 429.
  virtual Result<ClaimResult> ClaimInvitations(const ClaimRequest& request) = 0;
  // Gives each row the earliest free slot of the account's limiter from now on, as a claim would,
  // and moves its chat's next_message_at with it. Returns the new slots in the rows' order; 0
  // where a row keeps its old slot: it is no longer this claim's (gen), its contact is being
  // claimed elsewhere right now, or a later message to its chat was planned since the claim (its
  // chat interval would shrink). A paced row's campaign (Row::paced_campaign_id) has its next
  // invitation moved by as much as its row moved, so the gap that pacing planned never shrinks.
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
  // Pauses a running campaign because it cannot go on (`reason`: the bot lost its rights, …),
  // with a CampaignEvent by the engine in the same transaction; logged (warning) once committed.
  // Nothing happens to a campaign that is not running.
  virtual Status PauseCampaignFor(int64_t campaign_id, std::string_view reason) = 0;
  // Stores the link a shared-link campaign created for itself.
  virtual Status SetSharedLink(int64_t campaign_id, std::string_view link) = 0;
  // True while some running campaign has an invitation pending, sending or waiting.
  virtual Result<bool> HasOutstandingWork() = 0;
  // The worker's row in the workers' list (`tginvite workers`, the dashboard).
  virtual Status Heartbeat(const WorkerInfo& worker) = 0;
};

}  // namespace tginvite::storage
