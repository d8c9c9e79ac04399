// The durable "this request may leave now", one per request, many requests to one commit.
// Internal to dispatch/.
#pragma once
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <span>
#include <vector>

#include "core/error.h"
#include "storage/delivery.h"

namespace tginvite::dispatch {

// Each sender marks its own request right before it leaves, so that after a crash only requests
// that were about to leave can look as if they may have left (`unknown`); the others are still
// unmarked and go back to pending untouched. The marks of the senders that arrive while one
// commit is written go together into the next: the first of them writes it (for everyone queued
// by then) while the rest wait for its answer, so a hundred concurrent senders share a few
// fsyncs, and no thread exists for it.
class SendingMarks {
 public:
  // Writes the marks (one transaction, durable when it returns) and returns the ids still held by
  // their claims; the longest lease asked for is given to all.
  using Commit = std::function<Result<std::vector<int64_t>>(std::span<const storage::SendingMark>,
                                                            std::chrono::milliseconds lease)>;

  explicit SendingMarks(Commit commit) : commit_(std::move(commit)) {}

  // Blocks until `marks` are committed with others: per mark, true when the row is still this
  // claim's and its request may leave, false when the claim was lost; an error when the commit
  // failed (nothing of it is written: none of the requests may leave).
  Result<std::vector<bool>> Mark(std::span<const storage::SendingMark> marks,
                                 std::chrono::milliseconds lease);

  // How long the last commits took, decaying: what a sender allows for its mark before its slot.
  std::chrono::microseconds TypicalCommit() const;

  // Callers waiting for the next commit (tests).
  size_t Queued() const;

 private:
  struct Waiter {
    std::span<const storage::SendingMark> marks;
    std::chrono::milliseconds lease;
    bool done = false;
    Result<std::vector<bool>> result = std::vector<bool>();
  };

  Commit commit_;
  mutable std::mutex mu_;
  std::condition_variable written_;
  std::vector<Waiter*> queue_;               // under mu_
  bool writing_ = false;                     // under mu_
  std::chrono::microseconds typical_{1000};  // under mu_
};

}  // namespace tginvite::dispatch
