#include "dispatch/worker_pool.h"

#include <algorithm>
#include <atomic>
#include <memory>

namespace tginvite::dispatch {

WorkerPool::WorkerPool(size_t max_threads) : max_threads_(std::max<size_t>(max_threads, 1)) {}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (std::thread& thread : threads_) thread.join();
}

size_t WorkerPool::threads() const {
  std::lock_guard lock(mu_);
  return threads_.size();
}

void WorkerPool::Post(std::function<void()> task) {
  std::lock_guard lock(mu_);
  tasks_.push_back(std::move(task));
  if (idle_ >= tasks_.size()) {
    wake_.notify_one();
  } else if (threads_.size() < max_threads_) {
    threads_.emplace_back([this] { Loop(); });
  }
}

void WorkerPool::Loop() {
  std::unique_lock lock(mu_);
  for (;;) {
    ++idle_;
    wake_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
    --idle_;
    if (tasks_.empty()) return;  // stopping, and nothing left to run
    std::function<void()> task = std::move(tasks_.front());
    tasks_.pop_front();
    lock.unlock();
    task();
    task = nullptr;  // what it captured goes before the lock is taken again
    lock.lock();
  }
}

void WorkerPool::ParallelFor(size_t n, size_t threads, const std::function<void(size_t)>& fn) {
  if (n == 0) return;
  threads = std::clamp<size_t>(threads, 1, n);
  // Shared with the helpers, which may start (and find the work done) after this returns.
  struct State {
    std::mutex mu;
    std::condition_variable done;
    bool closed = false;  // the caller ran out of indexes: helpers not started yet do nothing
    size_t running = 0;   // helpers inside fn's loop
    std::atomic<size_t> next{0};
  };
  auto state = std::make_shared<State>();
  auto work = [&fn, n](State& s) {
    for (size_t i = s.next++; i < n; i = s.next++) fn(i);
  };
  for (size_t t = 1; t < threads; ++t) {
    Post([state, work] {
      {
        std::lock_guard lock(state->mu);
        if (state->closed) return;
        ++state->running;
      }
      work(*state);
      std::lock_guard lock(state->mu);
      if (--state->running == 0) state->done.notify_all();
    });
  }
  work(*state);
  std::unique_lock lock(state->mu);
  state->closed = true;
  state->done.wait(lock, [&] { return state->running == 0; });
}

}  // namespace tginvite::dispatch
