#include "services/common/sequence_watch.h"

#include <atomic>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace reception {
namespace {

TEST(SequenceWatchTest, RunsOnceTheHeadPassesTheCursor) {
  SequenceWatch watch(5);
  absl::Notification fired;
  bool advanced = false;
  watch.Await(7, absl::InfiniteFuture(), [&](bool a) {
    advanced = a;
    fired.Notify();
  });
  watch.Advance(7);  // not past 7 yet
  EXPECT_FALSE(fired.WaitForNotificationWithTimeout(absl::Milliseconds(300)));
  watch.Advance(8);
  ASSERT_TRUE(fired.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_TRUE(advanced);
  EXPECT_EQ(watch.head(), 8u);
  watch.Advance(3);  // never moves back
  EXPECT_EQ(watch.head(), 8u);
}

TEST(SequenceWatchTest, AlreadyPastRunsAtOnce) {
  SequenceWatch watch(10);
  absl::Notification fired;
  watch.Await(4, absl::InfiniteFuture(), [&](bool a) {
    EXPECT_TRUE(a);
    fired.Notify();
  });
  EXPECT_TRUE(fired.WaitForNotificationWithTimeout(absl::Seconds(10)));
}

TEST(SequenceWatchTest, TheDeadlineRunsItWithoutAdvance) {
  SequenceWatch watch(1);
  absl::Notification fired;
  bool advanced = true;
  watch.Await(1, absl::Now() + absl::Milliseconds(50), [&](bool a) {
    advanced = a;
    fired.Notify();
  });
  ASSERT_TRUE(fired.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_FALSE(advanced);
}

TEST(SequenceWatchTest, ACancelledWaiterNeverRuns) {
  std::atomic<int> runs{0};
  {
    SequenceWatch watch(1);
    const auto id = watch.Await(1, absl::InfiniteFuture(), [&](bool) { ++runs; });
    EXPECT_TRUE(watch.Cancel(id));
    EXPECT_FALSE(watch.Cancel(id));
    absl::Notification later;
    watch.Await(1, absl::InfiniteFuture(), [&](bool) { later.Notify(); });
    watch.Advance(2);
    ASSERT_TRUE(later.WaitForNotificationWithTimeout(absl::Seconds(10)));
    // Dropped unrun at destruction.
    watch.Await(100, absl::InfiniteFuture(), [&](bool) { ++runs; });
  }
  EXPECT_EQ(runs.load(), 0);
}

}  // namespace
}  // namespace reception
