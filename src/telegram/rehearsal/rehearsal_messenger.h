// The rehearsal Messenger: a seeded simulator of the Bot API that never sends anything.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

#include "telegram/messenger.h"

namespace tginvite::telegram {

struct RehearsalOptions {
  uint64_t seed = 1;
  std::chrono::milliseconds min_latency{20};
  std::chrono::milliseconds max_latency{120};
  // Shares of calls that fail, drawn in this order (blocked and not_started apply to sends only).
  double blocked = 0.02;
  double not_started = 0.02;
  double transient = 0.02;
  double flood = 0.005;
  // Share of delivered invitations whose contact "joins" later, reported by GetUpdates.
  double join_rate = 0.6;
  // A simulated join is reported this long after its invitation (uniformly in between).
  std::chrono::milliseconds min_join_delay{500};
  std::chrono::milliseconds max_join_delay{5000};
  // Share of start links (ExpectStarts) whose contact presses Start, and when: GetUpdates then
  // reports their "/start <key>" from a simulated user.
  double start_rate = 0.5;
  std::chrono::milliseconds min_start_delay{2000};
  std::chrono::milliseconds max_start_delay{20000};
  // A rehearsal user account (kind rehearsal-user) rather than a bot: FindUser and AddChatMember
  // work, `not_found` of the lookups find no one and `privacy_refuses` of the adds are refused by
  // the contact's privacy settings (an add-then-message campaign then messages them).
  bool user_account = false;
  double not_found = 0.1;
  double privacy_refuses = 0.4;
};

// IsRehearsal() is true; no call leaves the process. Each call sleeps a simulated latency and
// draws its outcome from the seed: the same seed and the same order of calls give the same
// outcomes. Links look like "https://t.me/+REHEARSAL…"; every Outcome description starts with
// "REHEARSAL: ". A delivered invitation whose text or button carries a link may later produce a
// kChatMember join (or a kJoinRequest for a join-request link, then a join once approved), which
// GetUpdates reports in update_id order with Telegram's offset meaning (the first id wanted);
// so does a simulated "/start <key>" for some of the start links ExpectStarts is told about.
// Thread-safe.
std::unique_ptr<Messenger> MakeRehearsalMessenger(RehearsalOptions options);

}  // namespace tginvite::telegram
