// TokenBucket: burst, exact refill boundaries, capacity cap, waits, options,
// and no double grant under contention. Time is a ManualClock throughout.
#include "smgcore/token_bucket.h"

#include <atomic>
#include <cmath>
#include <limits>
#include <memory>
#include <thread>

#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace smg {
namespace {

using ::testing::HasSubstr;

class TokenBucketTest : public ::testing::Test {
 protected:
  std::unique_ptr<TokenBucket> Make(TokenBucketOptions options) {
    absl::StatusOr<std::unique_ptr<TokenBucket>> b = TokenBucket::Create(options, &clock_);
    EXPECT_TRUE(b.ok()) << b.status();
    return b.ok() ? *std::move(b) : nullptr;
  }

  // Starts away from 0 so that "the bucket has been full since now - burst"
  // is not at a negative instant by accident of the epoch.
  ManualClock clock_{1'000'000'000'000};
};

TEST_F(TokenBucketTest, StartsFullThenExhausts) {
  auto b = Make({.capacity = 5, .refill_per_second = 1});
  EXPECT_EQ(b->available(), 5u);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(b->TryAcquire()) << i;
  EXPECT_FALSE(b->TryAcquire());
  EXPECT_EQ(b->available(), 0u);
}

TEST_F(TokenBucketTest, InitialTokensOverrideFull) {
  auto b = Make({.capacity = 5, .refill_per_second = 1, .initial_tokens = 2});
  EXPECT_EQ(b->available(), 2u);
  EXPECT_TRUE(b->TryAcquire(2));
  EXPECT_FALSE(b->TryAcquire());
  auto empty = Make({.capacity = 5, .refill_per_second = 1, .initial_tokens = 0});
  EXPECT_FALSE(empty->TryAcquire());
  EXPECT_EQ(empty->TimeUntilAvailable(1), absl::Seconds(1));
}

TEST_F(TokenBucketTest, RefillIsExactAtTheNanosecond) {
  // 10/s: one token every 100 ms exactly.
  auto b = Make({.capacity = 2, .refill_per_second = 10});
  EXPECT_EQ(b->token_cost(), absl::Milliseconds(100));
  ASSERT_TRUE(b->TryAcquire(2));
  clock_.Advance(absl::Milliseconds(100) - absl::Nanoseconds(1));
  EXPECT_FALSE(b->TryAcquire());
  EXPECT_EQ(b->TimeUntilAvailable(1), absl::Nanoseconds(1));
  clock_.Advance(absl::Nanoseconds(1));
  EXPECT_TRUE(b->TryAcquire());
  EXPECT_FALSE(b->TryAcquire());
  // The second token of a two-token refill is due one cost later, not earlier.
  clock_.Advance(absl::Milliseconds(199));
  EXPECT_EQ(b->available(), 1u);
  EXPECT_FALSE(b->TryAcquire(2));
  clock_.Advance(absl::Milliseconds(1));
  EXPECT_TRUE(b->TryAcquire(2));
}

TEST_F(TokenBucketTest, CostRoundsUpSoTheRateIsNeverExceeded) {
  // 3/s: 333333333.3 ns rounds up to 333333334 ns.
  auto b = Make({.capacity = 1, .refill_per_second = 3});
  EXPECT_EQ(b->token_cost(), absl::Nanoseconds(333'333'334));
  ASSERT_TRUE(b->TryAcquire());
  clock_.Advance(absl::Nanoseconds(333'333'333));
  EXPECT_FALSE(b->TryAcquire());
  clock_.Advance(absl::Nanoseconds(1));
  EXPECT_TRUE(b->TryAcquire());
}

TEST_F(TokenBucketTest, NeverExceedsCapacityAfterLongIdle) {
  auto b = Make({.capacity = 3, .refill_per_second = 100});
  ASSERT_TRUE(b->TryAcquire(3));
  clock_.Advance(absl::Hours(24 * 365));
  EXPECT_EQ(b->available(), 3u);
  EXPECT_TRUE(b->TryAcquire(3));
  EXPECT_FALSE(b->TryAcquire());
}

TEST_F(TokenBucketTest, TimeUntilAvailableIsExact) {
  auto b = Make({.capacity = 4, .refill_per_second = 2});  // 500 ms per token
  EXPECT_EQ(b->TimeUntilAvailable(0), absl::ZeroDuration());
  EXPECT_EQ(b->TimeUntilAvailable(4), absl::ZeroDuration());
  EXPECT_EQ(b->TimeUntilAvailable(5), absl::InfiniteDuration());
  ASSERT_TRUE(b->TryAcquire(3));  // one left
  EXPECT_EQ(b->TimeUntilAvailable(1), absl::ZeroDuration());
  EXPECT_EQ(b->TimeUntilAvailable(2), absl::Milliseconds(500));
  EXPECT_EQ(b->TimeUntilAvailable(4), absl::Milliseconds(1500));
  clock_.Advance(absl::Milliseconds(200));
  EXPECT_EQ(b->TimeUntilAvailable(4), absl::Milliseconds(1300));
  clock_.Advance(absl::Milliseconds(1300));
  EXPECT_EQ(b->TimeUntilAvailable(4), absl::ZeroDuration());
  EXPECT_TRUE(b->TryAcquire(4));
}

TEST_F(TokenBucketTest, MultiTokenAcquireIsAllOrNothing) {
  auto b = Make({.capacity = 10, .refill_per_second = 1});
  EXPECT_TRUE(b->TryAcquire(7));
  EXPECT_FALSE(b->TryAcquire(4));  // 3 left: takes nothing
  EXPECT_EQ(b->available(), 3u);
  EXPECT_TRUE(b->TryAcquire(3));
  EXPECT_EQ(b->available(), 0u);
}

TEST_F(TokenBucketTest, ZeroAndOversizedRequests) {
  auto b = Make({.capacity = 2, .refill_per_second = 1, .initial_tokens = 0});
  EXPECT_TRUE(b->TryAcquire(0));  // even when empty
  clock_.Advance(absl::Hours(1));
  EXPECT_FALSE(b->TryAcquire(3));  // more than can ever be held
  EXPECT_EQ(b->available(), 2u);   // and took nothing
}

TEST_F(TokenBucketTest, InvalidOptionsAreRejectedWithTheField) {
  struct Case {
    TokenBucketOptions options;
    const char* needle;
  };
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  const Case cases[] = {
      {{.capacity = 0, .refill_per_second = 1}, "capacity: must be at least 1 (got 0)"},
      {{.capacity = (uint64_t{1} << 40) + 1, .refill_per_second = 1}, "capacity: 1099511627777"},
      {{.capacity = 1, .refill_per_second = 0}, "refill_per_second: must be finite and > 0 (got 0)"},
      {{.capacity = 1, .refill_per_second = -2}, "refill_per_second: must be finite and > 0 (got -2)"},
      {{.capacity = 1, .refill_per_second = nan}, "refill_per_second: must be finite"},
      {{.capacity = 1, .refill_per_second = inf}, "refill_per_second: must be finite"},
      {{.capacity = 1, .refill_per_second = 2e9}, "refill_per_second: 2e+09 is above the maximum"},
      {{.capacity = 3, .refill_per_second = 1, .initial_tokens = 4}, "initial_tokens: 4 is above capacity 3"},
      {{.capacity = uint64_t{1} << 40, .refill_per_second = 1e-3}, "to refill from empty"},
  };
  for (const Case& c : cases) {
    absl::Status s = ValidateTokenBucketOptions(c.options);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.needle;
    EXPECT_THAT(s.message(), HasSubstr(c.needle));
    EXPECT_THAT(s.message(), HasSubstr("TokenBucketOptions."));
    EXPECT_EQ(TokenBucket::Create(c.options, &clock_).status().code(),
              absl::StatusCode::kInvalidArgument);
  }
  EXPECT_TRUE(ValidateTokenBucketOptions({.capacity = uint64_t{1} << 40, .refill_per_second = 1e9})
                  .ok());
}

TEST_F(TokenBucketTest, DefaultsToTheSteadyClock) {
  absl::StatusOr<std::unique_ptr<TokenBucket>> b =
      TokenBucket::Create({.capacity = 1, .refill_per_second = 1e-3});
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_TRUE((*b)->TryAcquire());
  EXPECT_FALSE((*b)->TryAcquire());  // a real refill takes 1000 s
  EXPECT_GT((*b)->TimeUntilAvailable(1), absl::Seconds(900));
}

// With the clock frozen no token is ever refilled, so two threads racing to
// take tokens must be granted exactly `capacity` between them.
TEST_F(TokenBucketTest, ContentionNeverGrantsATokenTwice) {
  constexpr uint64_t kCapacity = 20000;
  for (uint64_t take : {uint64_t{1}, uint64_t{3}}) {
    auto b = Make({.capacity = kCapacity, .refill_per_second = 1});
    std::atomic<uint64_t> granted{0};
    absl::Notification go;
    auto worker = [&] {
      go.WaitForNotification();
      uint64_t mine = 0;
      // Bounded: each thread alone could not take more than the capacity.
      for (uint64_t i = 0; i < kCapacity; ++i) {
        if (b->TryAcquire(take)) mine += take;
      }
      granted.fetch_add(mine);
    };
    std::thread t1(worker);
    std::thread t2(worker);
    go.Notify();
    t1.join();
    t2.join();
    // Whatever is left is less than one take.
    EXPECT_EQ(granted.load() + b->available(), kCapacity) << "take " << take;
    EXPECT_LT(b->available(), take);
  }
}

}  // namespace
}  // namespace smg
