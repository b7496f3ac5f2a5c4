// RetryPolicy backoff and jitter, RetryBudget, and RetryState against a real
// router.
#include "smgcore/retry.h"

#include <memory>

#include "absl/container/flat_hash_set.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace smg {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(RetryPolicyTest, BackoffGrowsExponentiallyUpToTheCap) {
  RetryOptions o;
  o.jitter = 0;
  RetryPolicy p = *RetryPolicy::Create(o);
  SeededRandom random(1);
  EXPECT_EQ(p.Backoff(0, random), absl::ZeroDuration());
  EXPECT_EQ(p.Backoff(1, random), absl::Milliseconds(50));
  EXPECT_EQ(p.Backoff(2, random), absl::Milliseconds(75));
  EXPECT_EQ(p.Backoff(3, random), absl::Microseconds(112500));
  EXPECT_EQ(p.Backoff(4, random), absl::Microseconds(168750));
  // Retry 16: 50 ms × 1.5^15 = 21.9 s; retry 17 would be 32.8 s.
  EXPECT_LT(p.Backoff(16, random), absl::Seconds(30));
  EXPECT_EQ(p.Backoff(17, random), absl::Seconds(30));
  EXPECT_EQ(p.Backoff(100, random), absl::Seconds(30));
  EXPECT_EQ(p.Backoff(UINT32_MAX, random), absl::Seconds(30));
}

TEST(RetryPolicyTest, JitterStaysWithinItsBoundsAndUsesThem) {
  RetryPolicy p = *RetryPolicy::Create({});  // ±20 %
  SeededRandom random(7);
  const absl::Duration base = p.BaseBackoff(3);
  absl::Duration lo = absl::InfiniteDuration(), hi = absl::ZeroDuration();
  for (int i = 0; i < 2000; ++i) {
    const absl::Duration d = p.Backoff(3, random);
    ASSERT_GE(d, base * 0.8) << i;
    ASSERT_LE(d, base * 1.2) << i;
    lo = std::min(lo, d);
    hi = std::max(hi, d);
  }
  EXPECT_LT(lo, base * 0.82);
  EXPECT_GT(hi, base * 1.18);
}

TEST(RetryPolicyTest, TheSameSeedGivesTheSameBackoffs) {
  RetryPolicy p = *RetryPolicy::Create({});
  SeededRandom a(99), b(99);
  for (uint32_t i = 1; i < 10; ++i) EXPECT_EQ(p.Backoff(i, a), p.Backoff(i, b));
}

TEST(RetryPolicyTest, RetryableOutcomes) {
  RetryPolicy p = *RetryPolicy::Create({});
  EXPECT_TRUE(p.IsRetryable(Outcome::TransportError()));
  EXPECT_TRUE(p.IsRetryable(Outcome::Status(503)));
  EXPECT_TRUE(p.IsRetryable(Outcome::Status(429)));
  EXPECT_FALSE(p.IsRetryable(Outcome::Status(400)));
  EXPECT_FALSE(p.IsRetryable(Outcome::Status(501)));
  EXPECT_FALSE(p.IsRetryable(Outcome::Ok()));
  EXPECT_FALSE(p.IsRetryable(Outcome::Cancelled()));
  RetryOptions o;
  o.retryable = *FailureClassifier::Create({502}, /*transport_errors_fail=*/false);
  RetryPolicy only_502 = *RetryPolicy::Create(o);
  EXPECT_TRUE(only_502.IsRetryable(Outcome::Status(502)));
  EXPECT_FALSE(only_502.IsRetryable(Outcome::Status(503)));
  EXPECT_FALSE(only_502.IsRetryable(Outcome::TransportError()));
}

TEST(RetryPolicyTest, InvalidOptionsNameTheField) {
  struct Case {
    void (*mutate)(RetryOptions&);
    const char* field;
  };
  const Case cases[] = {
      {[](RetryOptions& o) { o.max_attempts = 0; }, "max_attempts"},
      {[](RetryOptions& o) { o.max_attempts = 101; }, "max_attempts"},
      {[](RetryOptions& o) { o.initial_backoff = -absl::Milliseconds(1); }, "initial_backoff"},
      {[](RetryOptions& o) { o.backoff_multiplier = 0.5; }, "backoff_multiplier"},
      {[](RetryOptions& o) { o.backoff_multiplier = std::nan(""); }, "backoff_multiplier"},
      {[](RetryOptions& o) { o.max_backoff = absl::Milliseconds(10); }, "max_backoff"},
      {[](RetryOptions& o) { o.jitter = 1.5; }, "jitter"},
      {[](RetryOptions& o) { o.jitter = -0.1; }, "jitter"},
      {[](RetryOptions& o) { o.budget = RetryBudgetOptions{.percent = 0}; }, "budget.percent"},
      {[](RetryOptions& o) { o.budget = RetryBudgetOptions{.percent = 150}; }, "budget.percent"},
  };
  for (const Case& c : cases) {
    RetryOptions o;
    c.mutate(o);
    absl::StatusOr<RetryPolicy> p = RetryPolicy::Create(o);
    EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument) << c.field;
    EXPECT_THAT(p.status().message(), HasSubstr(c.field));
  }
}

TEST(FailureClassifierTest, DefaultAndCustom) {
  FailureClassifier d;
  EXPECT_THAT(d.failure_statuses(), ElementsAre(408, 429, 500, 502, 503, 504));
  EXPECT_TRUE(d.transport_errors_fail());
  EXPECT_FALSE(d.IsFailure(Outcome::Cancelled()));
  EXPECT_FALSE(d.IsFailureStatus(99));
  EXPECT_FALSE(d.IsFailureStatus(600));
  absl::StatusOr<FailureClassifier> c = FailureClassifier::Create({500, 500, 599});
  ASSERT_TRUE(c.ok());
  EXPECT_THAT(c->failure_statuses(), ElementsAre(500, 599));
  EXPECT_FALSE(*c == d);
  EXPECT_EQ(FailureClassifier::Create({600}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(FailureClassifier::Create({99}).status().message(), HasSubstr("99"));
}

TEST(RetryBudgetTest, AllowsTheGreaterOfTheMinimumAndTheShare) {
  RetryBudget budget({.percent = 20, .min_concurrency = 3});
  EXPECT_EQ(budget.Limit(0), 3);
  EXPECT_EQ(budget.Limit(10), 3);
  EXPECT_EQ(budget.Limit(20), 4);
  EXPECT_EQ(budget.Limit(100), 20);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(budget.TryAcquire(0)) << i;
  EXPECT_FALSE(budget.TryAcquire(0));
  EXPECT_TRUE(budget.TryAcquire(20));  // the share grew to 4
  EXPECT_FALSE(budget.TryAcquire(20));
  budget.Release();
  EXPECT_EQ(budget.active(), 3);
  EXPECT_FALSE(budget.TryAcquire(0));
  budget.Release();
  EXPECT_TRUE(budget.TryAcquire(0));
}

// --- RetryState ---------------------------------------------------------------

class RetryStateTest : public ::testing::Test {
 protected:
  void Build(RouterOptions options, int workers, bool pd = false) {
    options.retry.jitter = 0;
    options.pd_mode = pd;
    router_ = *Router::Create(std::move(options), {&clock_, &random_});
    for (int i = 0; i < workers; ++i) {
      WorkerSpec s;
      s.url = "http://w" + std::to_string(i) + ":1";
      if (pd) s.type = i % 2 == 0 ? WorkerType::kPrefill : WorkerType::kDecode;
      ASSERT_TRUE(router_->AddWorker(s).ok());
    }
  }

  ManualClock clock_;
  SeededRandom random_{3};
  std::unique_ptr<Router> router_;
};

TEST_F(RetryStateTest, RetriesExcludeWorkersAlreadyTried) {
  RouterOptions o;
  o.policies.policy.kind = PolicyKind::kRandom;
  o.circuit_breaker.enabled = false;
  Build(o, 3);
  RetryState attempts(*router_);
  absl::flat_hash_set<WorkerId> seen;
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<Ticket> t = attempts.Select({});
    ASSERT_TRUE(t.ok()) << t.status();
    EXPECT_TRUE(seen.insert(t->worker().id()).second) << "worker tried twice";
    RetryDecision d = attempts.Finish(*t, Outcome::Status(503));
    ASSERT_TRUE(d.retry());
    EXPECT_EQ(d.attempts, static_cast<uint32_t>(i + 1));
    EXPECT_EQ(d.backoff, router_->retry_policy().BaseBackoff(d.attempts));
  }
  EXPECT_EQ(attempts.tried_workers().size(), 3u);
  // Every worker tried: the exclusion yields, and the request still routes.
  absl::StatusOr<Ticket> t = attempts.Select({});
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_TRUE(seen.contains(t->worker().id()));
  EXPECT_TRUE(attempts.Finish(*t, Outcome::TransportError()).retry());
  t = attempts.Select({});
  ASSERT_TRUE(t.ok());
  RetryDecision last = attempts.Finish(*t, Outcome::Status(502));
  EXPECT_EQ(last.verdict, RetryVerdict::kAttemptsExhausted);  // 5 attempts
  EXPECT_EQ(last.attempts, 5u);
  EXPECT_EQ(attempts.Select({}).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(RetryStateTest, VerdictsFollowTheOutcome) {
  Build({}, 2);
  struct Case {
    Outcome outcome;
    RetryVerdict verdict;
  };
  const Case cases[] = {
      {Outcome::Ok(), RetryVerdict::kSucceeded},
      {Outcome::Status(404), RetryVerdict::kSucceeded},  // the worker answered; not retryable
      {Outcome::Status(501), RetryVerdict::kSucceeded},
      {Outcome::Cancelled(), RetryVerdict::kNotRetryable},
      {Outcome::Status(503), RetryVerdict::kRetry},
      {Outcome::TransportError(), RetryVerdict::kRetry},
  };
  for (const Case& c : cases) {
    RetryState attempts(*router_);
    absl::StatusOr<Ticket> t = attempts.Select({});
    ASSERT_TRUE(t.ok());
    RetryDecision d = attempts.Finish(*t, c.outcome);
    EXPECT_EQ(d.verdict, c.verdict) << RetryVerdictName(c.verdict);
    EXPECT_TRUE(t->finished());
    if (!d.retry()) {
      EXPECT_EQ(d.backoff, absl::ZeroDuration());
    }
  }
}

TEST_F(RetryStateTest, NotRetryableFailureUnderACustomRetrySet) {
  RouterOptions o;
  o.retry.retryable = *FailureClassifier::Create({502});
  Build(o, 2);
  RetryState attempts(*router_);
  absl::StatusOr<Ticket> t = attempts.Select({});
  // 503 is a failure for the worker (default classifier) but not retryable.
  EXPECT_EQ(attempts.Finish(*t, Outcome::Status(503)).verdict, RetryVerdict::kNotRetryable);
}

TEST_F(RetryStateTest, SelectTwiceWithoutFinishIsAnError) {
  Build({}, 2);
  RetryState attempts(*router_);
  absl::StatusOr<Ticket> t = attempts.Select({});
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(attempts.Select({}).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(RetryStateTest, MaxAttemptsOneDisablesRetries) {
  RouterOptions o;
  o.retry.max_attempts = 1;
  Build(o, 2);
  RetryState attempts(*router_);
  absl::StatusOr<Ticket> t = attempts.Select({});
  EXPECT_EQ(attempts.Finish(*t, Outcome::Status(503)).verdict, RetryVerdict::kAttemptsExhausted);
}

TEST_F(RetryStateTest, TheBudgetCapsConcurrentRetries) {
  RouterOptions o;
  o.retry.budget = RetryBudgetOptions{.percent = 10, .min_concurrency = 1};
  o.circuit_breaker.enabled = false;
  Build(o, 4);
  RetryState a(*router_), b(*router_);
  absl::StatusOr<Ticket> ta = a.Select({});
  absl::StatusOr<Ticket> tb = b.Select({});
  ASSERT_TRUE(ta.ok() && tb.ok());
  EXPECT_TRUE(a.Finish(*ta, Outcome::Status(503)).retry());  // takes the only slot
  EXPECT_EQ(b.Finish(*tb, Outcome::Status(503)).verdict, RetryVerdict::kBudgetExhausted);
  // a's retry finishing frees the slot.
  ta = a.Select({});
  ASSERT_TRUE(ta.ok());
  EXPECT_EQ(a.Finish(*ta, Outcome::Ok()).verdict, RetryVerdict::kSucceeded);
  RetryState c(*router_);
  absl::StatusOr<Ticket> tc = c.Select({});
  EXPECT_TRUE(c.Finish(*tc, Outcome::Status(503)).retry());
}

TEST_F(RetryStateTest, DestroyingTheStateReturnsItsBudgetSlot) {
  RouterOptions o;
  o.retry.budget = RetryBudgetOptions{.percent = 10, .min_concurrency = 1};
  Build(o, 2);
  {
    RetryState a(*router_);
    absl::StatusOr<Ticket> t = a.Select({});
    ASSERT_TRUE(a.Finish(*t, Outcome::Status(503)).retry());
  }  // the host gave up on the retry
  RetryState b(*router_);
  absl::StatusOr<Ticket> t = b.Select({});
  EXPECT_TRUE(b.Finish(*t, Outcome::Status(503)).retry());
}

TEST_F(RetryStateTest, PdRetriesExcludeBothLegs) {
  RouterOptions o;
  o.policies.policy.kind = PolicyKind::kRoundRobin;
  o.circuit_breaker.enabled = false;
  Build(o, 4, /*pd=*/true);  // prefill w0, w2; decode w1, w3
  RetryState attempts(*router_);
  absl::StatusOr<Ticket> first = attempts.Select({});
  ASSERT_TRUE(first.ok());
  const WorkerId p1 = first->prefill().id(), d1 = first->decode().id();
  ASSERT_TRUE(attempts.Finish(*first, Outcome::Status(502)).retry());
  absl::StatusOr<Ticket> second = attempts.Select({});
  ASSERT_TRUE(second.ok());
  EXPECT_NE(second->prefill().id(), p1);
  EXPECT_NE(second->decode().id(), d1);
  EXPECT_THAT(attempts.tried_workers(),
              ElementsAre(p1, d1, second->prefill().id(), second->decode().id()));
}

TEST_F(RetryStateTest, RouterErrorsPassThrough) {
  Build({}, 0);
  RetryState attempts(*router_);
  EXPECT_EQ(attempts.Select({}).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(attempts.attempts(), 0u);
}

}  // namespace
}  // namespace smg
