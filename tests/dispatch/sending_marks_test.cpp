#include "dispatch/sending_marks.h"

#include <chrono>
#include <latch>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace tginvite::dispatch {
namespace {

using namespace std::chrono_literals;

storage::SendingMark MarkOf(int64_t id) { return {id, 1, ""}; }

TEST(SendingMarksTest, MarksAGroupInOneCommitAndAnswersEachOfIt) {
  std::vector<size_t> commits;
  SendingMarks marks([&](std::span<const storage::SendingMark> written,
                         std::chrono::milliseconds) -> Result<std::vector<int64_t>> {
    commits.push_back(written.size());
    return std::vector<int64_t>{3, 1};  // 2's claim was lost
  });
  const std::vector<storage::SendingMark> group = {MarkOf(1), MarkOf(2), MarkOf(3)};

  Result<std::vector<bool>> held = marks.Mark(group, 30s);

  ASSERT_TRUE(held) << held.error().message;
  EXPECT_EQ(*held, (std::vector<bool>{true, false, true}));
  EXPECT_EQ(commits, std::vector<size_t>{3});
}

TEST(SendingMarksTest, AFailedCommitLetsNoneOfTheGroupLeave) {
  SendingMarks marks([](std::span<const storage::SendingMark>,
                        std::chrono::milliseconds) -> Result<std::vector<int64_t>> {
    return Fail(ErrorCode::kUnavailable, "database is locked");
  });
  const std::vector<storage::SendingMark> group = {MarkOf(1), MarkOf(2)};
  EXPECT_FALSE(marks.Mark(group, 30s));
}

TEST(SendingMarksTest, GroupsQueuedWhileACommitIsWrittenShareTheNextOne) {
  std::latch first_started(1);
  std::latch release_first(1);
  std::vector<size_t> commits;
  SendingMarks marks([&](std::span<const storage::SendingMark> written,
                         std::chrono::milliseconds) -> Result<std::vector<int64_t>> {
    commits.push_back(written.size());
    if (commits.size() == 1) {
      first_started.count_down();
      release_first.wait();
    }
    std::vector<int64_t> ids;
    for (const storage::SendingMark& mark : written) ids.push_back(mark.invitation_id);
    return ids;
  });
  const std::vector<storage::SendingMark> a = {MarkOf(1)};
  const std::vector<storage::SendingMark> b = {MarkOf(2), MarkOf(3)};
  const std::vector<storage::SendingMark> c = {MarkOf(4)};
  std::jthread first([&] { EXPECT_TRUE(marks.Mark(a, 30s)); });
  first_started.wait();
  std::jthread second([&] { EXPECT_TRUE(marks.Mark(b, 30s)); });
  std::jthread third([&] { EXPECT_TRUE(marks.Mark(c, 30s)); });
  // Both wait behind the first commit; give them the time to queue, then let it end.
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (marks.Queued() < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  ASSERT_EQ(marks.Queued(), 2u);
  release_first.count_down();
  first.join();
  second.join();
  third.join();
  EXPECT_EQ(commits, (std::vector<size_t>{1, 3}));
}

}  // namespace
}  // namespace tginvite::dispatch
