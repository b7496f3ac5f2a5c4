// Admission and resilience hot paths, with 1 and 2 threads on one object:
// TokenBucket::TryAcquire, ConcurrencyLimiter TryAcquire + Release,
// TenantLimiter Reserve (one tenant and many), and a circuit breaker's
// success path.
#include <memory>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "smgcore/circuit_breaker.h"
#include "smgcore/concurrency_limiter.h"
#include "smgcore/tenant_limiter.h"
#include "smgcore/token_bucket.h"

namespace smg {
namespace {

// Shared by the benchmark's threads; built by thread 0 before the loop.
std::unique_ptr<TokenBucket> g_bucket;
std::unique_ptr<ConcurrencyLimiter> g_limiter;
std::unique_ptr<TenantLimiter> g_tenants;
std::unique_ptr<CircuitBreaker> g_breaker;

void BM_TokenBucketTryAcquire(benchmark::State& state) {
  if (state.thread_index() == 0) {
    // Never runs dry during the run: the cost is the CAS, not a denial.
    g_bucket = *TokenBucket::Create({.capacity = uint64_t{1} << 40, .refill_per_second = 1e9});
  }
  for (auto _ : state) benchmark::DoNotOptimize(g_bucket->TryAcquire());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TokenBucketTryAcquire)->Threads(1)->Threads(2)->UseRealTime();

void BM_LimiterAcquireRelease(benchmark::State& state) {
  if (state.thread_index() == 0) {
    g_limiter = *ConcurrencyLimiter::Create({.max_in_flight = 1024});
  }
  for (auto _ : state) {
    if (g_limiter->TryAcquire()) g_limiter->Release();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_LimiterAcquireRelease)->Threads(1)->Threads(2)->UseRealTime();

void BM_TenantReserveSettle(benchmark::State& state) {
  const int tenants = static_cast<int>(state.range(0));
  if (state.thread_index() == 0) {
    g_tenants = *TenantLimiter::Create(
        {.default_tenant = {.requests_per_minute = kMaxRateLimitPerMinute,
                            .tokens_per_minute = kMaxRateLimitPerMinute}});
  }
  std::vector<std::string> names;
  for (int i = 0; i < tenants; ++i) names.push_back("tenant-" + std::to_string(i));
  size_t next = static_cast<size_t>(state.thread_index());
  for (auto _ : state) {
    TenantDecision d = g_tenants->Reserve(names[next++ % names.size()], 100);
    if (d.granted()) d.reservation.Settle(90).IgnoreError();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TenantReserveSettle)->Arg(1)->Arg(1000)->Threads(1)->Threads(2)->UseRealTime();

void BM_BreakerRecordSuccess(benchmark::State& state) {
  if (state.thread_index() == 0) g_breaker = *CircuitBreaker::Create({});
  for (auto _ : state) benchmark::DoNotOptimize(g_breaker->Record(BreakerResult::kSuccess));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_BreakerRecordSuccess)->Threads(1)->Threads(2)->UseRealTime();

}  // namespace
}  // namespace smg
