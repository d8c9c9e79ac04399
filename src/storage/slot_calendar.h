// An account's rate limiter as both SQL stores keep it: the send slots it has handed out that
// have not passed yet (unix ms, stored in rate_limits.reserved as comma-separated numbers). A claim
// takes, for each row, the earliest slot from a given time on that lies at least one emission
// interval from every slot already handed out, so no two of the account's requests are ever
// planned closer than 1 / rate, whichever workers planned them.
//
// It replaces a single theoretical arrival time (GCRA's TAT, which only grows): a claim asks for
// slots from now + its lead, the time its preparation may take, and a worker whose lead was long
// pushed the TAT out for every other worker, whose claims then waited behind it although their
// preparations were done (4 workers: 220 ms a request). Here a claim with a shorter lead takes the
// free slots before such a reservation.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tginvite::storage::internal {

class SlotCalendar {
 public:
  // The slots in `stored` that can still constrain a slot from `now` on (those after
  // now - interval); numbers that do not parse are dropped (they only ever made slots later).
  SlotCalendar(std::string_view stored, int64_t now, int64_t interval);

  // The earliest slot at or after `from` at least one interval from every slot handed out.
  int64_t Earliest(int64_t from) const;
  // Earliest(from), handed out.
  int64_t Take(int64_t from);

  // The slots handed out, for rate_limits.reserved.
  std::string Stored() const;
  // One interval after the last slot handed out (0 when none); kept in rate_limits.tat.
  int64_t Frontier() const;

 private:
  std::vector<int64_t> slots_;  // ascending
  int64_t interval_;
};

}  // namespace tginvite::storage::internal
