// TenantLimiter: per-tenant and global requests/tokens per minute, atomic
// reservation, settle (refund and debt), abandon, exact retry_after, the
// bounded tenant table, concurrency and options. Time is a ManualClock: a
// limit of N per minute refills one unit every 60/N s.
#include "smgcore/tenant_limiter.h"

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace smg {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class TenantLimiterTest : public ::testing::Test {
 protected:
  std::unique_ptr<TenantLimiter> Make(TenantLimiterOptions options) {
    absl::StatusOr<std::unique_ptr<TenantLimiter>> l =
        TenantLimiter::Create(std::move(options), &clock_);
    EXPECT_TRUE(l.ok()) << l.status();
    return l.ok() ? *std::move(l) : nullptr;
  }

  static TenantLimiterOptions Default(RateLimit tenant, RateLimit global = {}) {
    TenantLimiterOptions o;
    o.default_tenant = tenant;
    o.global = global;
    return o;
  }

  ManualClock clock_{1'000'000'000'000};
};

// Asserts a denial by `scope`/`dimension` with exactly `retry_after`.
void ExpectDenied(const TenantDecision& d, RateScope scope, RateDimension dimension,
                  absl::Duration retry_after) {
  EXPECT_EQ(d.reason, TenantDenyReason::kRateLimited) << TenantDenyReasonName(d.reason);
  EXPECT_EQ(d.scope, scope) << RateScopeName(d.scope);
  EXPECT_EQ(d.dimension, dimension) << RateDimensionName(d.dimension);
  EXPECT_EQ(d.retry_after, retry_after);
  EXPECT_FALSE(d.reservation.active());
}

// --- Basic limits -----------------------------------------------------------

TEST_F(TenantLimiterTest, RequestsPerMinuteLimitThenExactRefill) {
  auto l = Make(Default({.requests_per_minute = 3}));  // one request per 20 s
  for (int i = 0; i < 3; ++i) {
    TenantDecision d = l->Reserve("a", 0);
    EXPECT_TRUE(d.granted()) << i;
    EXPECT_TRUE(d.reservation.active());
    EXPECT_EQ(d.retry_after, absl::ZeroDuration());
  }
  ExpectDenied(l->Reserve("a", 0), RateScope::kTenant, RateDimension::kRequests,
               absl::Seconds(20));
  clock_.Advance(absl::Seconds(20) - absl::Nanoseconds(1));
  ExpectDenied(l->Reserve("a", 0), RateScope::kTenant, RateDimension::kRequests,
               absl::Nanoseconds(1));
  clock_.Advance(absl::Nanoseconds(1));
  EXPECT_TRUE(l->Reserve("a", 0).granted());
  EXPECT_FALSE(l->Reserve("a", 0).granted());
  // Another tenant has its own buckets.
  EXPECT_TRUE(l->Reserve("b", 0).granted());
  const TenantLimiterStats s = l->stats();
  EXPECT_EQ(s.granted, 5u);
  EXPECT_EQ(s.denied_tenant_requests, 3u);
  EXPECT_EQ(s.tracked_tenants, 2u);
}

TEST_F(TenantLimiterTest, TokensPerMinuteLimit) {
  auto l = Make(Default({.tokens_per_minute = 1000}));  // one token per 60 ms
  EXPECT_TRUE(l->Reserve("a", 600).granted());
  ExpectDenied(l->Reserve("a", 500), RateScope::kTenant, RateDimension::kTokens,
               absl::Milliseconds(100 * 60));
  EXPECT_TRUE(l->Reserve("a", 400).granted());
  ExpectDenied(l->Reserve("a", 1), RateScope::kTenant, RateDimension::kTokens,
               absl::Milliseconds(60));
  EXPECT_EQ(l->stats().denied_tenant_tokens, 2u);
}

TEST_F(TenantLimiterTest, PerTenantOverrideReplacesTheDefault) {
  TenantLimiterOptions o = Default({.requests_per_minute = 1});
  o.tenants["vip"] = {.requests_per_minute = 3};
  auto l = Make(std::move(o));
  EXPECT_EQ(l->LimitFor("vip").requests_per_minute, 3u);
  EXPECT_EQ(l->LimitFor("anyone").requests_per_minute, 1u);
  EXPECT_TRUE(l->Reserve("anyone", 0).granted());
  EXPECT_FALSE(l->Reserve("anyone", 0).granted());
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(l->Reserve("vip", 0).granted()) << i;
  ExpectDenied(l->Reserve("vip", 0), RateScope::kTenant, RateDimension::kRequests,
               absl::Seconds(20));
}

// --- Atomicity across scopes ------------------------------------------------

TEST_F(TenantLimiterTest, GlobalDenialDebitsNothingFromTheTenant) {
  // Tenants: 2 requests and 1000 tokens a minute; all tenants together 1500
  // tokens (one token per 40 ms).
  auto l = Make(Default({.requests_per_minute = 2, .tokens_per_minute = 1000},
                        {.tokens_per_minute = 1500}));
  TenantDecision b = l->Reserve("b", 1000);
  ASSERT_TRUE(b.granted());  // global: 500 left
  ExpectDenied(l->Reserve("a", 600), RateScope::kGlobal, RateDimension::kTokens,
               absl::Milliseconds(100 * 40));
  // Give the global scope its tokens back without moving time, then probe
  // the tenant: its 1000 tokens and 2 requests must all still be there.
  ASSERT_TRUE(b.reservation.Settle(0).ok());
  EXPECT_TRUE(l->Reserve("a", 1000).granted());
  EXPECT_TRUE(l->Reserve("a", 0).granted());
  ExpectDenied(l->Reserve("a", 0), RateScope::kTenant, RateDimension::kRequests,
               absl::Seconds(30));
  EXPECT_EQ(l->stats().denied_global_tokens, 1u);
}

TEST_F(TenantLimiterTest, RetryAfterNamesTheLongestWaitWithTieBreaks) {
  // Tenant: 1 s per request, 100 ms per token. Global: 10 s per request.
  auto l = Make(Default({.requests_per_minute = 60, .tokens_per_minute = 600},
                        {.requests_per_minute = 6}));
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(l->Reserve("b", 0).granted());
  ASSERT_TRUE(l->Reserve("a", 600).granted());  // global requests and a's tokens now empty
  ExpectDenied(l->Reserve("a", 300), RateScope::kTenant, RateDimension::kTokens,
               absl::Seconds(30));
  ExpectDenied(l->Reserve("a", 50), RateScope::kGlobal, RateDimension::kRequests,
               absl::Seconds(10));
  // 10 s both: the tenant is named first.
  ExpectDenied(l->Reserve("a", 100), RateScope::kTenant, RateDimension::kTokens,
               absl::Seconds(10));
  clock_.Advance(absl::Seconds(10));
  EXPECT_TRUE(l->Reserve("a", 100).granted());
}

// --- Settle, abandon --------------------------------------------------------

TEST_F(TenantLimiterTest, SettleRefundsTheUnusedEstimate) {
  auto l = Make(Default({.tokens_per_minute = 1000}));
  TenantDecision d = l->Reserve("a", 800);
  ASSERT_TRUE(d.granted());
  EXPECT_EQ(d.reservation.estimated_tokens(), 800u);
  ASSERT_TRUE(d.reservation.Settle(300).ok());
  EXPECT_FALSE(d.reservation.active());
  EXPECT_TRUE(l->Reserve("a", 700).granted());
  ExpectDenied(l->Reserve("a", 1), RateScope::kTenant, RateDimension::kTokens,
               absl::Milliseconds(60));
}

TEST_F(TenantLimiterTest, RefundNeverFillsAboveCapacity) {
  auto l = Make(Default({.tokens_per_minute = 1000}));
  TenantDecision d = l->Reserve("a", 500);
  ASSERT_TRUE(d.granted());
  clock_.Advance(absl::Seconds(60));  // refilled to 1000 meanwhile
  ASSERT_TRUE(d.reservation.Settle(0).ok());
  EXPECT_TRUE(l->Reserve("a", 1000).granted());
  EXPECT_FALSE(l->Reserve("a", 1).granted());
}

TEST_F(TenantLimiterTest, DebtDelaysTheNextGrantByExactlyTheRefillTime) {
  auto l = Make(Default({.tokens_per_minute = 1000}, {.tokens_per_minute = 2000}));
  TenantDecision d = l->Reserve("a", 100);
  ASSERT_TRUE(d.granted());
  ASSERT_TRUE(d.reservation.Settle(1300).ok());
  // The tenant is 300 tokens in debt: one more token needs 301 refills of
  // 60 ms. The global scope (30 ms per token) is at 700 and allows it.
  const absl::Duration wait = absl::Milliseconds(301 * 60);
  ExpectDenied(l->Reserve("a", 1), RateScope::kTenant, RateDimension::kTokens, wait);
  clock_.Advance(wait - absl::Nanoseconds(1));
  EXPECT_FALSE(l->Reserve("a", 1).granted());
  clock_.Advance(absl::Nanoseconds(1));
  EXPECT_TRUE(l->Reserve("a", 1).granted());
}

TEST_F(TenantLimiterTest, DebtAppliesToTheGlobalScopeToo) {
  // Unlimited tenants: only the global scope (60 ms per token) counts.
  auto l = Make(Default({}, {.tokens_per_minute = 1000}));
  TenantDecision d = l->Reserve("a", 10);
  ASSERT_TRUE(d.granted());
  ASSERT_TRUE(d.reservation.Settle(1010).ok());  // 1000 over: level 0 - 10 = -10
  ExpectDenied(l->Reserve("b", 1), RateScope::kGlobal, RateDimension::kTokens,
               absl::Milliseconds(11 * 60));
  EXPECT_EQ(l->stats().tracked_tenants, 0u);
}

TEST_F(TenantLimiterTest, ATrackedTenantsDebtReachesTheGlobalScope) {
  // The tenant's reservation reaches the global scope through its tenant's
  // state: 1000 tokens over puts the global bucket 10 below empty.
  auto l = Make(Default({.tokens_per_minute = 100'000}, {.tokens_per_minute = 1000}));
  TenantDecision d = l->Reserve("a", 10);
  ASSERT_TRUE(d.granted());
  ASSERT_TRUE(d.reservation.Settle(1010).ok());
  ExpectDenied(l->Reserve("b", 1), RateScope::kGlobal, RateDimension::kTokens,
               absl::Milliseconds(11 * 60));
  EXPECT_EQ(l->stats().tracked_tenants, 2u);
}

TEST_F(TenantLimiterTest, SettlingTwiceOrEmptyIsFailedPrecondition) {
  auto l = Make(Default({.tokens_per_minute = 1000}));
  TenantDecision d = l->Reserve("a", 10);
  ASSERT_TRUE(d.granted());
  ASSERT_TRUE(d.reservation.Settle(10).ok());
  absl::Status again = d.reservation.Settle(10);
  EXPECT_EQ(again.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(again.message(), HasSubstr("already settled"));

  TenantReservation empty;
  EXPECT_EQ(empty.Settle(1).code(), absl::StatusCode::kFailedPrecondition);
  TenantDecision moved = l->Reserve("a", 10);
  TenantReservation taken = std::move(moved.reservation);
  EXPECT_FALSE(moved.reservation.active());  // NOLINT(bugprone-use-after-move)
  absl::Status from_moved = moved.reservation.Settle(1);  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(from_moved.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(from_moved.message(), HasSubstr("empty"));
  EXPECT_TRUE(taken.Settle(10).ok());
}

TEST_F(TenantLimiterTest, AbandoningAReservationKeepsTheEstimateCharged) {
  auto l = Make(Default({.tokens_per_minute = 1000}));
  {
    TenantDecision d = l->Reserve("a", 600);
    ASSERT_TRUE(d.granted());
  }  // destroyed unsettled
  ExpectDenied(l->Reserve("a", 600), RateScope::kTenant, RateDimension::kTokens,
               absl::Milliseconds(200 * 60));
}

TEST_F(TenantLimiterTest, ReservationMayOutliveTheLimiter) {
  auto l = Make(Default({.tokens_per_minute = 1000}, {.tokens_per_minute = 1000}));
  TenantDecision d = l->Reserve("a", 10);
  ASSERT_TRUE(d.granted());
  // An unlimited (untracked) tenant's reservation holds the global scope.
  auto untracked = Make(Default({}, {.tokens_per_minute = 1000}));
  TenantDecision u = untracked->Reserve("a", 10);
  ASSERT_TRUE(u.granted());
  l.reset();
  untracked.reset();
  EXPECT_TRUE(d.reservation.Settle(20).ok());  // touches only shared state
  EXPECT_TRUE(u.reservation.Settle(20).ok());
  EXPECT_FALSE(u.reservation.active());
}

// --- Denials that no wait fixes ---------------------------------------------

TEST_F(TenantLimiterTest, EstimateAboveAWholeMinuteIsDeniedForGood) {
  TenantLimiterOptions o = Default({.tokens_per_minute = 1000}, {.tokens_per_minute = 500});
  o.tenants["big"] = {.tokens_per_minute = 5000};
  auto l = Make(std::move(o));
  TenantDecision d = l->Reserve("a", 1001);
  EXPECT_EQ(d.reason, TenantDenyReason::kEstimateTooLarge);
  EXPECT_EQ(d.scope, RateScope::kTenant);
  EXPECT_EQ(d.dimension, RateDimension::kTokens);
  EXPECT_EQ(d.retry_after, absl::InfiniteDuration());
  TenantDecision g = l->Reserve("big", 600);
  EXPECT_EQ(g.reason, TenantDenyReason::kEstimateTooLarge);
  EXPECT_EQ(g.scope, RateScope::kGlobal);
  EXPECT_TRUE(l->Reserve("a", 500).granted());  // exactly the capacity fits
  const TenantLimiterStats s = l->stats();
  EXPECT_EQ(s.denied_estimate_too_large, 2u);
  EXPECT_EQ(s.denied_tenant_tokens, 1u);
  EXPECT_EQ(s.denied_global_tokens, 1u);
  EXPECT_EQ(s.tracked_tenants, 1u);  // denied tenants were never tracked
}

TEST_F(TenantLimiterTest, InvalidTenantNamesAreDenied) {
  auto l = Make(Default({.requests_per_minute = 10}));
  EXPECT_EQ(l->Reserve("", 0).reason, TenantDenyReason::kInvalidTenant);
  EXPECT_EQ(l->Reserve(std::string(257, 'x'), 0).reason, TenantDenyReason::kInvalidTenant);
  EXPECT_TRUE(l->Reserve(std::string(256, 'x'), 0).granted());
  EXPECT_EQ(l->stats().denied_invalid_tenant, 2u);
}

TEST_F(TenantLimiterTest, UnlimitedScopesGrantEverythingAndTrackNothing) {
  auto l = Make(Default({}));
  for (int i = 0; i < 1000; ++i) {
    TenantDecision d = l->Reserve(absl::StrCat("t", i), 1'000'000);
    ASSERT_TRUE(d.granted());
    EXPECT_TRUE(d.reservation.Settle(5'000'000).ok());
  }
  EXPECT_EQ(l->stats().granted, 1000u);
  EXPECT_EQ(l->stats().tracked_tenants, 0u);
}

// --- The bounded tenant table ---------------------------------------------------

TEST_F(TenantLimiterTest, FullTableOfBusyTenantsDeniesNewTenantsThenEvictsIdleOnes) {
  TenantLimiterOptions o = Default({.requests_per_minute = 1});
  o.max_tracked_tenants = 2;
  auto l = Make(std::move(o));
  ASSERT_TRUE(l->Reserve("a", 0).granted());
  ASSERT_TRUE(l->Reserve("b", 0).granted());
  // Both buckets are still refilling: nothing can be evicted.
  TenantDecision c = l->Reserve("c", 0);
  EXPECT_EQ(c.reason, TenantDenyReason::kTooManyTenants);
  EXPECT_EQ(c.retry_after, absl::Seconds(1));
  EXPECT_EQ(l->stats().tracked_tenants, 2u);
  // A known tenant is still served.
  ExpectDenied(l->Reserve("a", 0), RateScope::kTenant, RateDimension::kRequests,
               absl::Seconds(60));

  clock_.Advance(absl::Seconds(60));  // a and b are full again: idle
  EXPECT_TRUE(l->Reserve("c", 0).granted());
  TenantLimiterStats s = l->stats();
  EXPECT_EQ(s.tracked_tenants, 1u);
  EXPECT_EQ(s.evicted_tenants, 2u);
  EXPECT_EQ(s.denied_too_many_tenants, 1u);

  clock_.Advance(absl::Seconds(60));
  EXPECT_EQ(l->EvictIdleTenants(), 1u);
  EXPECT_EQ(l->stats().tracked_tenants, 0u);
}

TEST_F(TenantLimiterTest, UnsettledReservationPinsItsTenantSoDebtIsNotLost) {
  TenantLimiterOptions o = Default({.tokens_per_minute = 1000});
  o.max_tracked_tenants = 1;
  auto l = Make(std::move(o));
  TenantDecision d = l->Reserve("a", 10);
  ASSERT_TRUE(d.granted());
  clock_.Advance(absl::Seconds(60));  // a's bucket is full, but a is pinned
  EXPECT_EQ(l->EvictIdleTenants(), 0u);
  EXPECT_EQ(l->Reserve("b", 1).reason, TenantDenyReason::kTooManyTenants);
  ASSERT_TRUE(d.reservation.Settle(2000).ok());  // level 1000 - 1990 = -990
  ExpectDenied(l->Reserve("a", 1), RateScope::kTenant, RateDimension::kTokens,
               absl::Milliseconds(991 * 60));
}

// --- Concurrency --------------------------------------------------------------------

// Two threads reserve and settle on the same tenant with the clock frozen:
// nothing refills, so exactly the capacity is granted between them.
TEST_F(TenantLimiterTest, ConcurrentReservationsNeverExceedTheCapacity) {
  constexpr int kIterations = 500;
  struct Case {
    RateLimit tenant;
    uint64_t expected;
  };
  for (const Case& c : {Case{{.requests_per_minute = 100, .tokens_per_minute = 1'000'000}, 100},
                        Case{{.tokens_per_minute = 1000}, 100}}) {
    auto l = Make(Default(c.tenant));
    std::atomic<uint64_t> granted{0};
    absl::Notification go;
    auto worker = [&] {
      go.WaitForNotification();
      for (int i = 0; i < kIterations; ++i) {
        TenantDecision d = l->Reserve("shared", 10);
        if (!d.granted()) continue;
        granted.fetch_add(1);
        EXPECT_TRUE(d.reservation.Settle(10).ok());
      }
    };
    std::thread t1(worker);
    std::thread t2(worker);
    go.Notify();
    t1.join();
    t2.join();
    EXPECT_EQ(granted.load(), c.expected);
    EXPECT_EQ(l->stats().granted, c.expected);
  }
}

// Two tenants on two threads share a global limit smaller than their sum.
TEST_F(TenantLimiterTest, ConcurrentTenantsShareTheGlobalLimitExactly) {
  constexpr int kIterations = 500;
  auto l = Make(Default({.requests_per_minute = 100}, {.requests_per_minute = 150}));
  std::atomic<uint64_t> per_tenant[2] = {0, 0};
  absl::Notification go;
  auto worker = [&](int t) {
    go.WaitForNotification();
    const std::string name = t == 0 ? "a" : "b";
    for (int i = 0; i < kIterations; ++i) {
      if (l->Reserve(name, 0).granted()) per_tenant[t].fetch_add(1);
    }
  };
  std::thread t1(worker, 0);
  std::thread t2(worker, 1);
  go.Notify();
  t1.join();
  t2.join();
  EXPECT_LE(per_tenant[0].load(), 100u);
  EXPECT_LE(per_tenant[1].load(), 100u);
  EXPECT_EQ(per_tenant[0].load() + per_tenant[1].load(), 150u);
}

// --- Options and names ----------------------------------------------------------------

TEST_F(TenantLimiterTest, InvalidOptionsAreRejectedWithTheField) {
  struct Case {
    TenantLimiterOptions options;
    const char* needle;
  };
  std::vector<Case> cases;
  cases.push_back({Default({.requests_per_minute = 1'000'000'001}),
                   "default_tenant.requests_per_minute: 1000000001 is above the maximum"});
  cases.push_back({Default({}, {.tokens_per_minute = 5'000'000'000}),
                   "global.tokens_per_minute: 5000000000"});
  TenantLimiterOptions bad_override;
  bad_override.tenants["acme"] = {.tokens_per_minute = 2'000'000'000};
  cases.push_back({bad_override, "tenants[\"acme\"].tokens_per_minute: 2000000000"});
  TenantLimiterOptions empty_key;
  empty_key.tenants[""] = {};
  cases.push_back({empty_key, "tenants: a tenant key is empty"});
  TenantLimiterOptions long_key;
  long_key.tenants[std::string(257, 'k')] = {};
  cases.push_back({long_key, "is 257 bytes, above the maximum 256"});
  TenantLimiterOptions no_table;
  no_table.max_tracked_tenants = 0;
  cases.push_back({no_table, "max_tracked_tenants: must be in [1, 16777216] (got 0)"});
  TenantLimiterOptions huge_table;
  huge_table.max_tracked_tenants = (size_t{1} << 24) + 1;
  cases.push_back({huge_table, "(got 16777217)"});
  for (Case& c : cases) {
    absl::Status s = ValidateTenantLimiterOptions(c.options);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.needle;
    EXPECT_THAT(s.message(), HasSubstr(c.needle));
    EXPECT_THAT(s.message(), HasSubstr("TenantLimiterOptions."));
    EXPECT_EQ(TenantLimiter::Create(std::move(c.options), &clock_).status().code(),
              absl::StatusCode::kInvalidArgument);
  }
  EXPECT_TRUE(ValidateTenantLimiterOptions(
                  Default({.requests_per_minute = 1'000'000'000}, {.tokens_per_minute = 1}))
                  .ok());
}

TEST(TenantLimiterNamesTest, NamesAreStable) {
  EXPECT_EQ(RateScopeName(RateScope::kTenant), "tenant");
  EXPECT_EQ(RateScopeName(RateScope::kGlobal), "global");
  EXPECT_EQ(RateDimensionName(RateDimension::kRequests), "requests");
  EXPECT_EQ(RateDimensionName(RateDimension::kTokens), "tokens");
  std::vector<absl::string_view> reasons;
  for (TenantDenyReason r :
       {TenantDenyReason::kNone, TenantDenyReason::kRateLimited,
        TenantDenyReason::kEstimateTooLarge, TenantDenyReason::kTooManyTenants,
        TenantDenyReason::kInvalidTenant}) {
    reasons.push_back(TenantDenyReasonName(r));
  }
  EXPECT_THAT(reasons, ElementsAre("none", "rate_limited", "estimate_too_large",
                                   "too_many_tenants", "invalid_tenant"));
}

}  // namespace
}  // namespace smg
