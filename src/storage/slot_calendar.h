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

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tginvite::storage::internal {

// Slots are kept in microseconds, so that an interval need not be a whole number of milliseconds
// (30/s is 33,334 us; rounded up to 34 ms it allowed only 98 % of the rate). rate_limits.reserved
// holds them as "us:" and the numbers; a list without the marker (written before) is in
// milliseconds. Callers speak milliseconds: a slot handed out is rounded up to a whole one.
class SlotCalendar {
 public:
  // The slots in `stored` that can still constrain a slot from `now` (ms) on (those after
  // now - interval); numbers that do not parse are dropped (they only ever made slots later).
  SlotCalendar(std::string_view stored, int64_t now, std::chrono::microseconds interval);

  // The earliest slot that rounds up to `from` or later, at least one interval from every slot
  // handed out (ms, rounded up). It may lie up to 999 us before `from`: callers ask again with
  // what it returned under another constraint, then Take it, and each time the fraction found is
  // found again (were the rounded slot taken, every interval would widen to whole milliseconds
  // again). Requests leave at the rounded slot, never before `from`.
  int64_t Earliest(int64_t from) const;
  // Earliest(from), handed out.
  int64_t Take(int64_t from);

  // The slots handed out, for rate_limits.reserved.
  std::string Stored() const;
  // One interval after the last slot handed out (ms, rounded up; 0 when none); kept in
  // rate_limits.tat.
  int64_t Frontier() const;

 private:
  int64_t EarliestMicros(int64_t from) const;

  std::vector<int64_t> slots_;  // ascending, in microseconds
  int64_t interval_;            // microseconds
};

}  // namespace tginvite::storage::internal
