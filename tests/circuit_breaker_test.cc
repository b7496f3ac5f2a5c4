// CircuitBreaker: every transition, the sliding window, the half-open probe
// quota and the open-duration backoff, on a ManualClock.
#include "smgcore/circuit_breaker.h"

#include <atomic>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace smg {
namespace {

using ::testing::HasSubstr;
using ::testing::Optional;

constexpr BreakerResult kOk = BreakerResult::kSuccess;
constexpr BreakerResult kFail = BreakerResult::kFailure;

class CircuitBreakerTest : public ::testing::Test {
 protected:
  std::unique_ptr<CircuitBreaker> Make(CircuitBreakerOptions o) {
    absl::StatusOr<std::unique_ptr<CircuitBreaker>> b = CircuitBreaker::Create(o, &clock_);
    EXPECT_TRUE(b.ok()) << b.status();
    return b.ok() ? *std::move(b) : nullptr;
  }
  // Only the consecutive rule, opening for 10 s.
  static CircuitBreakerOptions Consecutive(uint32_t n) {
    CircuitBreakerOptions o;
    o.consecutive_failures = n;
    o.failure_rate_threshold = 0;
    o.open_duration = absl::Seconds(10);
    o.max_open_duration = absl::Seconds(25);
    o.success_threshold = 2;
    o.half_open_max_probes = 2;
    return o;
  }
  void Trip(CircuitBreaker& b) {
    for (uint32_t i = 0; i < b.options().consecutive_failures; ++i) b.Record(kFail);
    ASSERT_EQ(b.state(), BreakerState::kOpen);
  }

  ManualClock clock_{1'000'000'000};
};

TEST_F(CircuitBreakerTest, OpensOnConsecutiveFailuresAndASuccessResetsTheCount) {
  auto b = Make(Consecutive(3));
  EXPECT_EQ(b->Record(kFail), std::nullopt);
  EXPECT_EQ(b->Record(kFail), std::nullopt);
  EXPECT_EQ(b->Record(kOk), std::nullopt);  // resets
  EXPECT_EQ(b->Record(kFail), std::nullopt);
  EXPECT_EQ(b->Record(kFail), std::nullopt);
  EXPECT_EQ(b->consecutive_failures(), 2u);
  EXPECT_EQ(b->state(), BreakerState::kClosed);
  EXPECT_THAT(b->Record(kFail),
              Optional(BreakerTransition{BreakerState::kClosed, BreakerState::kOpen}));
  EXPECT_EQ(b->state(), BreakerState::kOpen);
  EXPECT_FALSE(b->accepting());
  EXPECT_FALSE(b->TryAdmit().allowed);
  const CircuitBreakerCounters c = b->counters();
  EXPECT_EQ(c.closed_to_open, 1u);
  EXPECT_EQ(c.rejected, 1u);
}

TEST_F(CircuitBreakerTest, NeutralOutcomesNeitherCountNorReset) {
  auto b = Make(Consecutive(2));
  b->Record(kFail);
  b->Record(BreakerResult::kNeutral);
  EXPECT_EQ(b->consecutive_failures(), 1u);
  b->Record(kFail);
  EXPECT_EQ(b->state(), BreakerState::kOpen);
}

CircuitBreakerOptions RateOnly() {
  CircuitBreakerOptions o;
  o.consecutive_failures = 0;
  o.failure_rate_threshold = 0.5;
  o.minimum_requests = 10;
  o.window = absl::Seconds(10);
  o.window_buckets = 10;  // 1 s steps
  return o;
}

TEST_F(CircuitBreakerTest, FailureRateOpensOnlyWithMinimumVolume) {
  auto b = Make(RateOnly());
  // 9 outcomes, 5 failures: above 50% but below the volume.
  for (int i = 0; i < 4; ++i) b->Record(kOk);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(b->Record(kFail), std::nullopt);
  EXPECT_EQ(b->state(), BreakerState::kClosed);
  // The 10th outcome is a success: 5/10 = 50% >= threshold, but only a
  // failure trips the breaker.
  EXPECT_EQ(b->Record(kOk), std::nullopt);
  EXPECT_THAT(b->Record(kFail),
              Optional(BreakerTransition{BreakerState::kClosed, BreakerState::kOpen}));
}

TEST_F(CircuitBreakerTest, FailureRateBelowThresholdStaysClosed) {
  auto b = Make(RateOnly());
  for (int round = 0; round < 20; ++round) {
    b->Record(kOk);
    b->Record(kOk);
    b->Record(kFail);  // 33%
  }
  EXPECT_EQ(b->state(), BreakerState::kClosed);
}

TEST_F(CircuitBreakerTest, OutcomesLeaveTheSlidingWindow) {
  auto b = Make(RateOnly());
  // 9 failures at t0 (window step 0).
  for (int i = 0; i < 9; ++i) b->Record(kFail);
  // Exactly one window later step 0 has left the window: this failure is
  // alone in it (1 < minimum_requests).
  clock_.Advance(absl::Seconds(10));
  EXPECT_EQ(b->Record(kFail), std::nullopt);
  EXPECT_EQ(b->state(), BreakerState::kClosed);
}

TEST_F(CircuitBreakerTest, OutcomesAtTheEdgeOfTheWindowStillCount) {
  auto b = Make(RateOnly());
  for (int i = 0; i < 9; ++i) b->Record(kFail);
  clock_.Advance(absl::Milliseconds(9999));  // still window step 9 of 0..9
  EXPECT_THAT(b->Record(kFail),
              Optional(BreakerTransition{BreakerState::kClosed, BreakerState::kOpen}));
}

TEST_F(CircuitBreakerTest, OpenTurnsHalfOpenOnlyAfterTheOpenDuration) {
  auto b = Make(Consecutive(1));
  Trip(*b);
  const int64_t opened = clock_.NowNanos();
  EXPECT_EQ(b->open_until_nanos(), opened + 10'000'000'000);
  clock_.Advance(absl::Seconds(10) - absl::Nanoseconds(1));
  EXPECT_FALSE(b->TryAdmit().allowed);
  EXPECT_EQ(b->Poll(), std::nullopt);
  clock_.Advance(absl::Nanoseconds(1));
  CircuitBreaker::Admission a = b->TryAdmit();
  EXPECT_TRUE(a.allowed);
  EXPECT_NE(a.probe, 0u);
  EXPECT_THAT(a.transition,
              Optional(BreakerTransition{BreakerState::kOpen, BreakerState::kHalfOpen}));
  EXPECT_EQ(b->state(), BreakerState::kHalfOpen);
}

TEST_F(CircuitBreakerTest, PollMovesOpenToHalfOpenWithoutTakingAProbe) {
  auto b = Make(Consecutive(1));
  Trip(*b);
  clock_.Advance(absl::Seconds(10));
  EXPECT_THAT(b->Poll(), Optional(BreakerTransition{BreakerState::kOpen, BreakerState::kHalfOpen}));
  EXPECT_EQ(b->Poll(), std::nullopt);
  EXPECT_TRUE(b->TryAdmit().allowed);
  EXPECT_TRUE(b->TryAdmit().allowed);  // both probe slots were free
  EXPECT_FALSE(b->TryAdmit().allowed);
}

TEST_F(CircuitBreakerTest, HalfOpenAdmitsABoundedNumberOfProbes) {
  auto b = Make(Consecutive(1));
  Trip(*b);
  clock_.Advance(absl::Seconds(10));
  CircuitBreaker::Admission p1 = b->TryAdmit();
  CircuitBreaker::Admission p2 = b->TryAdmit();
  ASSERT_TRUE(p1.allowed && p2.allowed);
  EXPECT_EQ(p1.probe, p2.probe);
  EXPECT_FALSE(b->accepting());
  EXPECT_FALSE(b->TryAdmit().allowed);
  // A finished probe frees its slot.
  EXPECT_EQ(b->Record(kOk, p1.probe), std::nullopt);
  EXPECT_TRUE(b->accepting());
  CircuitBreaker::Admission p3 = b->TryAdmit();
  EXPECT_TRUE(p3.allowed);
  EXPECT_FALSE(b->TryAdmit().allowed);
  // A cancelled probe frees its slot without judging.
  EXPECT_EQ(b->Record(BreakerResult::kNeutral, p3.probe), std::nullopt);
  EXPECT_TRUE(b->accepting());
  EXPECT_EQ(b->state(), BreakerState::kHalfOpen);
}

TEST_F(CircuitBreakerTest, ConsecutiveProbeSuccessesClose) {
  auto b = Make(Consecutive(1));
  Trip(*b);
  clock_.Advance(absl::Seconds(10));
  CircuitBreaker::Admission p1 = b->TryAdmit();
  CircuitBreaker::Admission p2 = b->TryAdmit();
  EXPECT_EQ(b->Record(kOk, p1.probe), std::nullopt);
  EXPECT_THAT(b->Record(kOk, p2.probe),
              Optional(BreakerTransition{BreakerState::kHalfOpen, BreakerState::kClosed}));
  EXPECT_EQ(b->state(), BreakerState::kClosed);
  EXPECT_TRUE(b->TryAdmit().allowed);
  EXPECT_EQ(b->TryAdmit().probe, 0u);
  EXPECT_EQ(b->counters().half_open_to_closed, 1u);
}

TEST_F(CircuitBreakerTest, AProbeFailureReopensForLongerUpToTheCap) {
  auto b = Make(Consecutive(1));
  Trip(*b);  // opening 1: 10 s
  EXPECT_EQ(b->open_until_nanos() - clock_.NowNanos(), 10'000'000'000);
  clock_.Advance(absl::Seconds(10));
  CircuitBreaker::Admission p = b->TryAdmit();
  EXPECT_THAT(b->Record(kFail, p.probe),
              Optional(BreakerTransition{BreakerState::kHalfOpen, BreakerState::kOpen}));
  EXPECT_EQ(b->openings(), 2u);
  EXPECT_EQ(b->open_until_nanos() - clock_.NowNanos(), 20'000'000'000);  // 2 x 10 s
  clock_.Advance(absl::Seconds(20));
  p = b->TryAdmit();
  b->Record(kFail, p.probe);
  EXPECT_EQ(b->open_until_nanos() - clock_.NowNanos(), 25'000'000'000);  // capped
  EXPECT_EQ(b->counters().half_open_to_open, 2u);
}

TEST_F(CircuitBreakerTest, TimeSpentClosedForgivesOpenings) {
  auto b = Make(Consecutive(1));
  Trip(*b);
  clock_.Advance(absl::Seconds(10));
  CircuitBreaker::Admission p = b->TryAdmit();
  b->Record(kFail, p.probe);  // openings 2
  clock_.Advance(absl::Seconds(20));
  p = b->TryAdmit();
  b->Record(kOk, p.probe);
  p = b->TryAdmit();
  b->Record(kOk, p.probe);
  ASSERT_EQ(b->state(), BreakerState::kClosed);
  // One open_duration spent closed forgives one of the two openings.
  clock_.Advance(absl::Seconds(10));
  b->Record(kFail);
  EXPECT_EQ(b->openings(), 2u);
  EXPECT_EQ(b->open_until_nanos() - clock_.NowNanos(), 20'000'000'000);
}

TEST_F(CircuitBreakerTest, ALongQuietPeriodForgivesEverything) {
  auto b = Make(Consecutive(1));
  Trip(*b);
  clock_.Advance(absl::Seconds(10));
  auto p = b->TryAdmit();
  b->Record(kOk, p.probe);
  p = b->TryAdmit();
  b->Record(kOk, p.probe);
  clock_.Advance(absl::Hours(1));
  b->Record(kFail);
  EXPECT_EQ(b->openings(), 1u);
  EXPECT_EQ(b->open_until_nanos() - clock_.NowNanos(), 10'000'000'000);
}

TEST_F(CircuitBreakerTest, OutcomesOfOldRequestsDoNotMoveAnOpenOrHalfOpenBreaker) {
  auto b = Make(Consecutive(1));
  Trip(*b);
  // Requests admitted while closed finish while open: ignored.
  EXPECT_EQ(b->Record(kOk), std::nullopt);
  EXPECT_EQ(b->state(), BreakerState::kOpen);
  clock_.Advance(absl::Seconds(10));
  CircuitBreaker::Admission p = b->TryAdmit();
  // ... and while half-open: only probes count.
  EXPECT_EQ(b->Record(kFail), std::nullopt);
  EXPECT_EQ(b->Record(kOk), std::nullopt);
  EXPECT_EQ(b->Record(kOk), std::nullopt);
  EXPECT_EQ(b->state(), BreakerState::kHalfOpen);
  // A probe of an earlier half-open period frees nothing in this one.
  b->Record(kFail, p.probe);  // reopen (period 1 over)
  clock_.Advance(absl::Seconds(20));
  CircuitBreaker::Admission q1 = b->TryAdmit();
  CircuitBreaker::Admission q2 = b->TryAdmit();
  ASSERT_TRUE(q1.allowed && q2.allowed);
  EXPECT_NE(q1.probe, p.probe);
  EXPECT_EQ(b->Record(kOk, p.probe), std::nullopt);
  EXPECT_FALSE(b->accepting());  // both slots still taken
}

TEST_F(CircuitBreakerTest, DisabledBreakerNeverOpens) {
  CircuitBreakerOptions o = Consecutive(1);
  o.enabled = false;
  auto b = Make(o);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(b->Record(kFail), std::nullopt);
  EXPECT_EQ(b->state(), BreakerState::kClosed);
  EXPECT_TRUE(b->TryAdmit().allowed);
  EXPECT_EQ(b->counters().closed_to_open, 0u);
}

TEST_F(CircuitBreakerTest, ResetClosesAndForgets) {
  auto b = Make(Consecutive(1));
  Trip(*b);
  EXPECT_THAT(b->Reset(), Optional(BreakerTransition{BreakerState::kOpen, BreakerState::kClosed}));
  EXPECT_EQ(b->Reset(), std::nullopt);
  EXPECT_EQ(b->openings(), 0u);
  EXPECT_TRUE(b->TryAdmit().allowed);
}

TEST_F(CircuitBreakerTest, InvalidOptionsAreRejectedWithTheField) {
  struct Case {
    void (*mutate)(CircuitBreakerOptions&);
    const char* field;
  };
  const Case cases[] = {
      {[](CircuitBreakerOptions& o) { o.failure_rate_threshold = -0.1; }, "failure_rate_threshold"},
      {[](CircuitBreakerOptions& o) { o.failure_rate_threshold = 1.5; }, "failure_rate_threshold"},
      {[](CircuitBreakerOptions& o) { o.failure_rate_threshold = std::nan(""); },
       "failure_rate_threshold"},
      {[](CircuitBreakerOptions& o) { o.minimum_requests = 0; }, "minimum_requests"},
      {[](CircuitBreakerOptions& o) { o.window_buckets = 0; }, "window_buckets"},
      {[](CircuitBreakerOptions& o) { o.window_buckets = 601; }, "window_buckets"},
      {[](CircuitBreakerOptions& o) { o.window = absl::ZeroDuration(); }, "window"},
      {[](CircuitBreakerOptions& o) { o.window = -absl::Seconds(1); }, "window"},
      {[](CircuitBreakerOptions& o) { o.success_threshold = 0; }, "success_threshold"},
      {[](CircuitBreakerOptions& o) { o.half_open_max_probes = 0; }, "half_open_max_probes"},
      {[](CircuitBreakerOptions& o) { o.open_duration = absl::ZeroDuration(); }, "open_duration"},
      {[](CircuitBreakerOptions& o) { o.max_open_duration = absl::Seconds(1); },
       "max_open_duration"},
      {[](CircuitBreakerOptions& o) {
         o.consecutive_failures = 0;
         o.failure_rate_threshold = 0;
       },
       "could never open"},
  };
  for (const Case& c : cases) {
    CircuitBreakerOptions o;
    c.mutate(o);
    absl::StatusOr<std::unique_ptr<CircuitBreaker>> b = CircuitBreaker::Create(o, &clock_);
    EXPECT_EQ(b.status().code(), absl::StatusCode::kInvalidArgument) << c.field;
    EXPECT_THAT(b.status().message(), HasSubstr(c.field));
  }
  EXPECT_TRUE(ValidateCircuitBreakerOptions({}).ok());
}

TEST_F(CircuitBreakerTest, StateNames) {
  EXPECT_EQ(BreakerStateName(BreakerState::kClosed), "closed");
  EXPECT_EQ(BreakerStateName(BreakerState::kOpen), "open");
  EXPECT_EQ(BreakerStateName(BreakerState::kHalfOpen), "half_open");
}

// Two threads race for half-open probe slots: together they never hold more
// than the quota, and every slot they free is reusable.
TEST_F(CircuitBreakerTest, ConcurrentProbesNeverExceedTheQuota) {
  CircuitBreakerOptions o = Consecutive(1);
  o.half_open_max_probes = 3;
  o.success_threshold = 1000000;  // stay half-open
  auto b = Make(o);
  Trip(*b);
  clock_.Advance(absl::Seconds(10));
  ASSERT_TRUE(b->Poll().has_value());
  std::atomic<int> held{0};
  std::atomic<int> max_held{0};
  auto run = [&] {
    for (int i = 0; i < 20000; ++i) {
      CircuitBreaker::Admission a = b->TryAdmit();
      if (!a.allowed) continue;
      const int now = held.fetch_add(1) + 1;
      int seen = max_held.load();
      while (now > seen && !max_held.compare_exchange_weak(seen, now)) {
      }
      held.fetch_sub(1);
      b->Record(kOk, a.probe);
    }
  };
  std::thread t1(run), t2(run);
  t1.join();
  t2.join();
  EXPECT_LE(max_held.load(), 3);
  EXPECT_GE(max_held.load(), 1);
  EXPECT_EQ(b->state(), BreakerState::kHalfOpen);
  EXPECT_TRUE(b->accepting());  // every slot came back
}

}  // namespace
}  // namespace smg
