#include "dispatch/sending_marks.h"

#include <algorithm>

namespace tginvite::dispatch {

Result<std::vector<bool>> SendingMarks::Mark(std::span<const storage::SendingMark> marks,
                                             std::chrono::milliseconds lease) {
  Waiter me{marks, lease};
  std::unique_lock lock(mu_);
  queue_.push_back(&me);
  written_.wait(lock, [&] { return me.done || !writing_; });
  if (me.done) return me.result;

  // This sender writes the next commit, for everyone queued by now (itself included).
  writing_ = true;
  std::vector<Waiter*> group;
  group.swap(queue_);
  lock.unlock();

  std::vector<storage::SendingMark> all;
  std::chrono::milliseconds longest{0};
  for (const Waiter* waiter : group) {
    all.insert(all.end(), waiter->marks.begin(), waiter->marks.end());
    longest = std::max(longest, waiter->lease);
  }
  const auto started = std::chrono::steady_clock::now();
  Result<std::vector<int64_t>> ours = [&]() -> Result<std::vector<int64_t>> {
    try {
      return commit_(all, longest);
    } catch (const std::exception& e) {
      return Fail(ErrorCode::kInternal, "mark sending: {}", e.what());
    }
  }();
  const auto took = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - started);

  lock.lock();
  // A decaying maximum: one slow commit is remembered for a while, a fast one lowers it slowly.
  typical_ = std::max(took, typical_ - (typical_ - took) / 8);
  if (ours) std::sort(ours->begin(), ours->end());
  for (Waiter* waiter : group) {
    waiter->done = true;
    if (!ours) {
      waiter->result = ours.error();
    } else {
      std::vector<bool> held;
      held.reserve(waiter->marks.size());
      for (const storage::SendingMark& mark : waiter->marks) {
        held.push_back(std::binary_search(ours->begin(), ours->end(), mark.invitation_id));
      }
      waiter->result = std::move(held);
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

size_t SendingMarks::Queued() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

}  // namespace tginvite::dispatch
