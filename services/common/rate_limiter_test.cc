#include "services/common/rate_limiter.h"

#include "gtest/gtest.h"

namespace reception {
namespace {

TEST(RateLimiter, EachKeyGetsItsBurstThenWaitsForTheRefill) {
  FakeClock clock(absl::FromUnixSeconds(1'800'000'000));
  RateLimiter limiter(&clock, /*per_key=*/6, /*total=*/100);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(limiter.Take("10.0.0.1"), absl::ZeroDuration()) << i;
  const absl::Duration wait = limiter.Take("10.0.0.1");
  EXPECT_GT(wait, absl::Seconds(9));
  EXPECT_LE(wait, absl::Seconds(10));
  // Another address is not held back by the first.
  EXPECT_EQ(limiter.Take("10.0.0.2"), absl::ZeroDuration());
  clock.Advance(absl::Seconds(10));
  EXPECT_EQ(limiter.Take("10.0.0.1"), absl::ZeroDuration());
  EXPECT_GT(limiter.Take("10.0.0.1"), absl::ZeroDuration());
}

TEST(RateLimiter, TheNodeWideLimitHoldsAcrossAddresses) {
  FakeClock clock(absl::FromUnixSeconds(1'800'000'000));
  RateLimiter limiter(&clock, /*per_key=*/6, /*total=*/10);
  int allowed = 0;
  for (int i = 0; i < 40; ++i) {
    if (limiter.Take("10.0.1." + std::to_string(i)) == absl::ZeroDuration()) ++allowed;
  }
  EXPECT_EQ(allowed, 10);
  clock.Advance(absl::Minutes(1));
  EXPECT_EQ(limiter.Take("10.0.9.9"), absl::ZeroDuration());
}

TEST(RateLimiter, ForgetsIdleKeysWhenFull) {
  FakeClock clock(absl::FromUnixSeconds(1'800'000'000));
  RateLimiter limiter(&clock, /*per_key=*/2, /*total=*/1000, /*max_keys=*/3);
  for (const char* k : {"a", "b", "c"}) EXPECT_EQ(limiter.Take(k), absl::ZeroDuration());
  clock.Advance(absl::Minutes(1));  // a, b, c are full again: forgettable
  EXPECT_EQ(limiter.Take("d"), absl::ZeroDuration());
  EXPECT_EQ(limiter.Take("d"), absl::ZeroDuration());
  EXPECT_GT(limiter.Take("d"), absl::ZeroDuration());
}

}  // namespace
}  // namespace reception
