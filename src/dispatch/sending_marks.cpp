#include "dispatch/sending_marks.h"

#include <algorithm>

namespace tginvite::dispatch {

Result<bool> SendingMarks::Mark(const storage::SendingMark& mark, std::chrono::milliseconds lease) {
  Waiter me{&mark, lease};
  std::unique_lock lock(mu_);
  queue_.push_back(&me);
  written_.wait(lock, [&] { return me.done || !writing_; });
  if (me.done) return me.result;

  // This sender writes the next commit, for everyone queued by now (itself included).
  writing_ = true;
  std::vector<Waiter*> group;
  group.swap(queue_);
  lock.unlock();

  std::vector<storage::SendingMark> marks;
  marks.reserve(group.size());
  std::chrono::milliseconds longest{0};
  for (const Waiter* waiter : group) {
    marks.push_back(*waiter->mark);
    longest = std::max(longest, waiter->lease);
  }
  const auto started = std::chrono::steady_clock::now();
  Result<std::vector<int64_t>> ours = [&]() -> Result<std::vector<int64_t>> {
    try {
      return commit_(marks, longest);
    } catch (const std::exception& e) {
      return Fail(ErrorCode::kInternal, "mark sending: {}", e.what());
    }
  }();
  const auto took =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started);

  lock.lock();
  // A decaying maximum: one slow commit is remembered for a while, a fast one lowers it slowly.
  typical_ = std::max(took, typical_ - (typical_ - took) / 8);
  if (ours) std::sort(ours->begin(), ours->end());
  for (Waiter* waiter : group) {
    waiter->done = true;
    if (!ours) {
      waiter->result = ours.error();
    } else {
      waiter->result = std::binary_search(ours->begin(), ours->end(), waiter->mark->invitation_id);
    }
  }
  writing_ = false;
  lock.unlock();
  written_.notify_all();
  return me.result;
}

std::chrono::microseconds SendingMarks::TypicalCommit() const {
  std::lock_guard lock(mu_);
  return typical_;
}

}  // namespace tginvite::dispatch
