// The threads that a batch's concurrent requests run on (its getChatMember and link requests, its
// marks and sends), kept for the life of the dispatcher. A batch used to start up to
// dispatch.in_flight threads of its own and end them when it was recorded: at a thousand
// invitations a second, creating threads, faulting in their stacks and malloc arenas and
// returning them (clone, page faults, madvise) was a third of the worker's CPU. The pool grows to
// the most threads that were ever busy at once and keeps them.
//
// Thread-safe.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace tginvite::dispatch {

class WorkerPool {
 public:
  // At most `max_threads` threads; beyond them a task waits for a free one.
  explicit WorkerPool(size_t max_threads);
  ~WorkerPool();  // joins every thread (a running task finishes first)
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Runs fn(0..n-1), on the calling thread and on up to `threads` - 1 of the pool's; returns when
  // every call has returned. Indexes are handed out in order, each to the first thread free. A
  // helper that could not start before the caller ran out of indexes is dropped, so the call
  // never waits for a busy pool.
  void ParallelFor(size_t n, size_t threads, const std::function<void(size_t)>& fn);

  // Runs `task` on a pool thread (a new one when none is free and the pool may grow), and returns
  // at once. The caller keeps what the task uses alive until it has run.
  void Post(std::function<void()> task);

  size_t threads() const;

 private:
  void Loop();

  const size_t max_threads_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> tasks_;
  size_t idle_ = 0;  // threads waiting for a task
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace tginvite::dispatch
