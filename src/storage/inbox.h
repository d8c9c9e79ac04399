// Part of the Store (storage/store.h): the update inbox — updates kept once whoever delivered
// them, /start matching, joins and blocks.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace tginvite::storage {

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
  std::string username;  // lower-case, without '@'; may be ""
  std::string payload;   // "" for a bare /start
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

class UpdateInbox {
 public:
  virtual ~UpdateInbox() = default;

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

  // True when the user is a contact invited by one of the account's join-request campaigns for
  // this chat (or through this link): such join requests are approved.
  virtual Result<bool> IsInvitedJoinRequest(int64_t account_id, int64_t chat_id, int64_t user_id,
                                            std::string_view invite_link) = 0;
};

}  // namespace tginvite::storage
