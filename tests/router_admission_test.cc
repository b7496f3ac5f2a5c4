// Tenant limits in Router::Select(), and AdmissionMetrics.
#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "smgcore/admission_metrics.h"
#include "smgcore/router.h"

namespace smg {
namespace {

using ::testing::HasSubstr;
using ::testing::Optional;

class RouterAdmissionTest : public ::testing::Test {
 protected:
  void Make(TenantLimiterOptions limits, bool add_worker = true) {
    RouterOptions o;
    o.tenant_limits = std::move(limits);
    absl::StatusOr<std::unique_ptr<Router>> r = Router::Create(std::move(o), {&clock_, &random_});
    ASSERT_TRUE(r.ok()) << r.status();
    router_ = *std::move(r);
    if (add_worker) {
      WorkerSpec s;
      s.url = "http://w:1";
      worker_ = *router_->AddWorker(s);
    }
  }
  static RouteRequest For(absl::string_view tenant, uint64_t tokens = 1) {
    RouteRequest r;
    r.tenant = tenant;
    r.estimated_tokens = tokens;
    return r;
  }

  ManualClock clock_;
  SeededRandom random_{1};
  std::unique_ptr<Router> router_;
  WorkerId worker_ = 0;
};

TEST_F(RouterAdmissionTest, RequestsPerMinutePerTenantWithRetryAfter) {
  Make({.default_tenant = {.requests_per_minute = 2}});
  ASSERT_TRUE(router_->Select(For("alice")).ok());
  ASSERT_TRUE(router_->Select(For("alice")).ok());
  absl::Status denied = router_->Select(For("alice")).status();
  EXPECT_EQ(denied.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(denied.message(), HasSubstr("tenant \"alice\""));
  EXPECT_THAT(denied.message(), HasSubstr("requests per minute"));
  EXPECT_THAT(RetryAfter(denied), Optional(absl::Seconds(30)));  // 2/min: one every 30 s
  EXPECT_TRUE(router_->Select(For("bob")).ok());                  // tenants are separate
  clock_.Advance(absl::Seconds(30) - absl::Milliseconds(1));
  EXPECT_FALSE(router_->Select(For("alice")).ok());
  clock_.Advance(absl::Milliseconds(1));
  EXPECT_TRUE(router_->Select(For("alice")).ok());
}

TEST_F(RouterAdmissionTest, TokensAreReservedThenSettled) {
  Make({.default_tenant = {.tokens_per_minute = 100}});
  absl::StatusOr<Ticket> first = router_->Select(For("t", 60));
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(router_->Select(For("t", 60)).status().code(), absl::StatusCode::kResourceExhausted);
  // The first request used only 10 tokens: 50 come back.
  ASSERT_TRUE(first->SettleTokens(10).ok());
  EXPECT_EQ(first->SettleTokens(10).code(), absl::StatusCode::kFailedPrecondition);
  absl::StatusOr<Ticket> second = router_->Select(For("t", 60));
  ASSERT_TRUE(second.ok()) << second.status();
  // Going over the estimate leaves a debt that delays the next request.
  ASSERT_TRUE(second->SettleTokens(120).ok());  // 10 + 120 = 130 > 100: 30 in debt
  absl::Status s = router_->Select(For("t", 1)).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(s.message(), HasSubstr("tokens per minute"));
  // 31 tokens at 100/min: 18.6 s.
  EXPECT_THAT(RetryAfter(s), Optional(absl::Milliseconds(18600)));
}

TEST_F(RouterAdmissionTest, TheEstimateDefaultsToTokensOrTextSize) {
  Make({.default_tenant = {.tokens_per_minute = 100}});
  const std::string text(400, 'x');  // 100 tokens at 4 bytes each
  RouteRequest r;
  r.text = text;
  ASSERT_TRUE(router_->Select(r).ok());
  EXPECT_EQ(router_->Select(r).status().code(), absl::StatusCode::kResourceExhausted);
  RouteRequest by_tokens;
  by_tokens.tenant = "other";
  const uint32_t ids[100] = {};
  by_tokens.tokens = ids;
  ASSERT_TRUE(router_->Select(by_tokens).ok());
  EXPECT_FALSE(router_->Select(by_tokens).ok());
}

TEST_F(RouterAdmissionTest, AnEstimateAboveTheWholeLimitIsRefusedWithoutRetryAfter) {
  Make({.default_tenant = {.tokens_per_minute = 100}});
  absl::Status s = router_->Select(For("t", 101)).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(s.message(), HasSubstr("exceeds"));
  EXPECT_EQ(RetryAfter(s), std::nullopt);
  EXPECT_EQ(RetryAfter(absl::OkStatus()), std::nullopt);
}

TEST_F(RouterAdmissionTest, TheGlobalScopeLimitsEveryTenant) {
  Make({.global = {.requests_per_minute = 2}});
  ASSERT_TRUE(router_->Select(For("a")).ok());
  ASSERT_TRUE(router_->Select(For("b")).ok());
  absl::Status s = router_->Select(For("c")).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(s.message(), HasSubstr("the router"));
}

TEST_F(RouterAdmissionTest, AnUnroutableRequestGetsItsTokensBack) {
  Make({.default_tenant = {.tokens_per_minute = 100}});
  ASSERT_TRUE(router_->DrainWorker(worker_).ok());
  EXPECT_EQ(router_->Select(For("t", 100)).status().code(), absl::StatusCode::kUnavailable);
  ASSERT_TRUE(router_->SetHealth(worker_, WorkerHealth::kReady).ok());
  EXPECT_TRUE(router_->Select(For("t", 100)).ok());
  // An unknown model is rejected before any charge.
  RouteRequest other = For("u", 100);
  other.model = "nope";
  EXPECT_EQ(router_->Select(other).status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(router_->Select(For("u", 100)).ok());
}

TEST_F(RouterAdmissionTest, EmptyTenantIsAnonymousAndOverlongIsInvalid) {
  Make({.default_tenant = {.requests_per_minute = 1}});
  ASSERT_TRUE(router_->Select(For("")).ok());
  EXPECT_THAT(router_->Select(For("")).status().message(), HasSubstr("\"anonymous\""));
  const std::string huge(300, 'k');
  EXPECT_EQ(router_->Select(For(huge)).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(RouterAdmissionTest, WithoutLimitsSettleIsANoOp) {
  absl::StatusOr<std::unique_ptr<Router>> r = Router::Create({}, {&clock_, &random_});
  WorkerSpec s;
  s.url = "http://w:1";
  ASSERT_TRUE((*r)->AddWorker(s).ok());
  absl::StatusOr<Ticket> t = (*r)->Select({});
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(t->SettleTokens(1'000'000).ok());
}

TEST_F(RouterAdmissionTest, BadLimitsAreRejectedAtCreation) {
  RouterOptions o;
  o.tenant_limits = TenantLimiterOptions{.max_tracked_tenants = 0};
  absl::Status s = Router::Create(o).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("tenant_limits"));
}

TEST_F(RouterAdmissionTest, ConcurrentSelectsNeverExceedTheLimit) {
  Make({.default_tenant = {.requests_per_minute = 500}});
  std::atomic<int> granted{0};
  auto run = [&] {
    for (int i = 0; i < 400; ++i) {
      absl::StatusOr<Ticket> t = router_->Select(For("shared"));
      if (t.ok()) {
        granted.fetch_add(1);
        EXPECT_TRUE(t->Finish(Outcome::Ok()).ok());
      } else {
        EXPECT_EQ(t.status().code(), absl::StatusCode::kResourceExhausted);
      }
    }
  };
  std::thread a(run), b(run);
  a.join();
  b.join();
  EXPECT_EQ(granted.load(), 500);  // the clock is frozen: exactly the burst
}

TEST_F(RouterAdmissionTest, TenantDecisionsAreExported) {
  Make({.default_tenant = {.requests_per_minute = 1}});
  ASSERT_TRUE(router_->Select(For("a")).ok());
  ASSERT_FALSE(router_->Select(For("a")).ok());
  const std::string text = router_->ExportMetrics();
  EXPECT_THAT(text, HasSubstr("smg_tenant_admission_total{result=\"granted\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("smg_tenant_admission_total{result=\"denied_tenant_requests\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("smg_tenant_tracked 1\n"));
}

TEST(AdmissionMetricsTest, ExportsTrackedLimitersAndBucketsWhileTheyLive) {
  MetricsRegistry registry;
  AdmissionMetrics admission(registry);
  ManualClock clock;
  std::shared_ptr<ConcurrencyLimiter> limiter =
      *ConcurrencyLimiter::Create({.max_in_flight = 1, .max_queue = 1}, &clock);
  std::shared_ptr<TokenBucket> bucket =
      *TokenBucket::Create({.capacity = 10, .refill_per_second = 1}, &clock);
  admission.Track("chat", std::shared_ptr<const ConcurrencyLimiter>(limiter));
  admission.Track("global", std::shared_ptr<const TokenBucket>(bucket));
  ASSERT_TRUE(limiter->TryAcquire());
  AdmissionResult queued_result = AdmissionResult::kCancelled;
  limiter->AcquireAsync([&](AdmissionResult r) { queued_result = r; });
  limiter->AcquireAsync([](AdmissionResult) {});  // queue full: rejected
  clock.Advance(absl::Seconds(2));
  limiter->Release();  // the queued waiter gets the slot after 2 s
  EXPECT_EQ(queued_result, AdmissionResult::kAdmitted);
  ASSERT_TRUE(bucket->TryAcquire(4));
  std::string text = registry.ExportPrometheus();
  EXPECT_THAT(text, HasSubstr("smg_scheduler_inflight{limiter=\"chat\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("smg_scheduler_queue_depth{limiter=\"chat\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("smg_scheduler_admit_total{limiter=\"chat\",result=\"admitted\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("smg_scheduler_admit_total{limiter=\"chat\",result=\"rejected\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("smg_scheduler_queued_admit_total{limiter=\"chat\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("smg_scheduler_queue_wait_seconds_total{limiter=\"chat\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("smg_rate_limit_tokens_available{bucket=\"global\"} 6\n"));
  limiter.reset();
  bucket.reset();
  text = registry.ExportPrometheus();
  EXPECT_THAT(text, ::testing::Not(HasSubstr("smg_scheduler")));
  EXPECT_THAT(text, ::testing::Not(HasSubstr("smg_rate_limit")));
}

}  // namespace
}  // namespace smg
