#include "dispatch/worker_pool.h"

#include <atomic>
#include <chrono>
#include <latch>
#include <vector>

#include <gtest/gtest.h>

namespace tginvite::dispatch {
namespace {

TEST(WorkerPoolTest, RunsEveryIndexOnceOnUpToTheThreadsAsked) {
  WorkerPool pool(8);
  std::vector<std::atomic<int>> calls(100);
  pool.ParallelFor(calls.size(), 4, [&](size_t i) { ++calls[i]; });
  for (size_t i = 0; i < calls.size(); ++i) EXPECT_EQ(calls[i].load(), 1) << i;
  EXPECT_LE(pool.threads(), 3u);
}

TEST(WorkerPoolTest, KeepsItsThreadsFromOneCallToTheNext) {
  WorkerPool pool(8);
  for (int round = 0; round < 50; ++round) {
    // Four calls that must run at once: each waits for the others.
    std::latch together(4);
    pool.ParallelFor(4, 4, [&](size_t) { together.arrive_and_wait(); });
  }
  // Not 3 a round (150). A helper that finished may not be back in the pool when the next round
  // posts, so the next round may add one: at most twice what is ever needed.
  EXPECT_GE(pool.threads(), 3u);
  EXPECT_LE(pool.threads(), 6u);
}

TEST(WorkerPoolTest, ACallDoesNotWaitForABusyPool) {
  WorkerPool pool(1);
  std::latch release(1);
  std::latch started(1);
  std::jthread busy([&] {
    pool.ParallelFor(2, 2, [&](size_t i) {
      if (i == 0) {
        started.count_down();
        release.wait();
      }
    });
  });
  started.wait();
  // The pool's one thread may be the busy one; this call runs its work on its own thread then.
  std::atomic<int> ran{0};
  pool.ParallelFor(3, 3, [&](size_t) { ++ran; });
  EXPECT_EQ(ran.load(), 3);
  release.count_down();
}

}  // namespace
}  // namespace tginvite::dispatch
