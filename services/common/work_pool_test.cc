#include "services/common/work_pool.h"

#include <atomic>
#include <set>
#include <thread>

#include "gtest/gtest.h"
#include "services/common/test_support.h"

namespace reception {
namespace {

TEST(WorkPool, RunsEveryTaskOffTheCallingThread) {
  std::atomic<int> ran{0};
  std::atomic<bool> on_caller{false};
  const auto caller = std::this_thread::get_id();
  {
    WorkPool pool(2, "test-pool");
    for (int i = 0; i < 1000; ++i) {
      pool.Post([&] {
        if (std::this_thread::get_id() == caller) on_caller = true;
        ++ran;
      });
    }
    ASSERT_TRUE(testing::WaitFor([&] { return ran.load() == 1000; }, absl::Seconds(30)));
  }
  EXPECT_FALSE(on_caller.load());
}

TEST(WorkPool, DestructorDrainsQueuedTasks) {
  std::atomic<int> ran{0};
  {
    WorkPool pool(1, "test-pool");
    for (int i = 0; i < 100; ++i) pool.Post([&] { ++ran; });
  }
  EXPECT_EQ(ran.load(), 100);
}

}  // namespace
}  // namespace reception
