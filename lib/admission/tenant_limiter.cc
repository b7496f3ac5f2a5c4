// TenantLimiter: atomic reservation across a tenant scope and the global
// scope.
#include "smgcore/tenant_limiter.h"

#include <atomic>
#include <utility>

#include "admission/tenant_state.h"
#include "admission/tenant_table.h"

namespace smg {

using admission_internal::ScopeLock;
using admission_internal::TenantLimiterShared;
using admission_internal::TenantScopeState;
using admission_internal::TenantTable;

struct TenantLimiter::Counters {
  std::atomic<uint64_t> granted{0};
  // Indexed by [RateScope][RateDimension].
  std::atomic<uint64_t> denied[2][2] = {{0, 0}, {0, 0}};
  std::atomic<uint64_t> estimate_too_large{0};
  std::atomic<uint64_t> too_many_tenants{0};
  std::atomic<uint64_t> invalid_tenant{0};
};

namespace {

bool IsUnlimited(const RateLimit& limit) {
  return limit.requests_per_minute == 0 && limit.tokens_per_minute == 0;
}

// The bucket that needs the longest wait, among those that lack room.
struct Binding {
  int64_t wait_nanos = 0;
  RateScope scope = RateScope::kTenant;
  RateDimension dimension = RateDimension::kRequests;

  // Candidates are offered in tie-break order, so only a strictly longer
  // wait replaces the current one.
  void Offer(int64_t wait, RateScope s, RateDimension d) {
    if (wait > wait_nanos) *this = Binding{wait, s, d};
  }
};

}  // namespace

absl::StatusOr<std::unique_ptr<TenantLimiter>> TenantLimiter::Create(TenantLimiterOptions options,
                                                                     const Clock* clock) {
  if (absl::Status s = ValidateTenantLimiterOptions(options); !s.ok()) return s;
  if (clock == nullptr) clock = &SteadyClock::Instance();
  return std::unique_ptr<TenantLimiter>(new TenantLimiter(std::move(options), clock));
}

TenantLimiter::TenantLimiter(TenantLimiterOptions options, const Clock* clock)
    : options_(std::move(options)),
      shared_(std::make_shared<TenantLimiterShared>(clock, options_.global)),
      table_(std::make_unique<TenantTable>(options_.max_tracked_tenants, shared_)),
      counters_(std::make_unique<Counters>()) {}

TenantLimiter::~TenantLimiter() = default;

RateLimit TenantLimiter::LimitFor(absl::string_view tenant) const {
  auto it = options_.tenants.find(tenant);
  return it == options_.tenants.end() ? options_.default_tenant : it->second;
}

TenantDecision TenantLimiter::Deny(TenantDenyReason reason, RateScope scope,
                                   RateDimension dimension, absl::Duration retry_after) {
  switch (reason) {
    case TenantDenyReason::kNone: break;
    case TenantDenyReason::kEstimateTooLarge:
      counters_->estimate_too_large.fetch_add(1, std::memory_order_relaxed);
      [[fallthrough]];
    case TenantDenyReason::kRateLimited:
      counters_->denied[static_cast<int>(scope)][static_cast<int>(dimension)].fetch_add(
          1, std::memory_order_relaxed);
      break;
    case TenantDenyReason::kTooManyTenants:
      counters_->too_many_tenants.fetch_add(1, std::memory_order_relaxed);
      break;
    case TenantDenyReason::kInvalidTenant:
      counters_->invalid_tenant.fetch_add(1, std::memory_order_relaxed);
      break;
  }
  TenantDecision d;
  d.reason = reason;
  d.scope = scope;
  d.dimension = dimension;
  d.retry_after = retry_after;
  return d;
}

TenantDecision TenantLimiter::Reserve(absl::string_view tenant, uint64_t estimated_tokens) {
  if (tenant.empty() || tenant.size() > kMaxTenantNameLength) {
    return Deny(TenantDenyReason::kInvalidTenant, RateScope::kTenant, RateDimension::kRequests,
                absl::InfiniteDuration());
  }
  const RateLimit limit = LimitFor(tenant);
  // Checked before any state is touched: no wait would ever make room.
  for (const auto& [scope, scope_limit] :
       {std::pair{RateScope::kTenant, limit}, std::pair{RateScope::kGlobal, options_.global}}) {
    if (scope_limit.tokens_per_minute != 0 && estimated_tokens > scope_limit.tokens_per_minute) {
      return Deny(TenantDenyReason::kEstimateTooLarge, scope, RateDimension::kTokens,
                  absl::InfiniteDuration());
    }
  }

  // Unlimited tenants are not tracked: only the global scope applies.
  std::shared_ptr<TenantScopeState> state;
  if (!IsUnlimited(limit)) {
    state = table_->FindOrCreatePinned(tenant, limit);
    if (state == nullptr) {
      return Deny(TenantDenyReason::kTooManyTenants, RateScope::kTenant, RateDimension::kRequests,
                  absl::Seconds(1));
    }
  }

  Binding binding;
  {
    TenantScopeState* global = shared_->limited_global();
    ScopeLock lock(state.get(), global);
    // Read under the locks, so that a reserve that locks later never sees an
    // earlier time than one that locked before it.
    const int64_t now = shared_->clock->NowNanos();
    const std::pair<TenantScopeState*, RateScope> scopes[] = {{state.get(), RateScope::kTenant},
                                                              {global, RateScope::kGlobal}};
    for (const auto& [scope, name] : scopes) {
      if (scope == nullptr) continue;
      binding.Offer(scope->requests.WaitNanos(1, now), name, RateDimension::kRequests);
      binding.Offer(scope->tokens.WaitNanos(estimated_tokens, now), name, RateDimension::kTokens);
    }
    if (binding.wait_nanos == 0) {
      for (const auto& [scope, name] : scopes) {
        if (scope == nullptr) continue;
        scope->requests.Take(1, now);
        scope->tokens.Take(estimated_tokens, now);
      }
    }
  }

  if (binding.wait_nanos > 0) {
    if (state != nullptr) state->pins.fetch_sub(1, std::memory_order_acq_rel);
    return Deny(TenantDenyReason::kRateLimited, binding.scope, binding.dimension,
                absl::Nanoseconds(binding.wait_nanos));
  }
  counters_->granted.fetch_add(1, std::memory_order_relaxed);
  TenantDecision d;
  // The lookup's pin now belongs to the reservation. A tracked tenant's
  // state leads to the limiter's; an untracked one needs it only to settle
  // against a global limit.
  std::shared_ptr<TenantLimiterShared> global_only;
  if (state == nullptr && shared_->global_limited) global_only = shared_;
  d.reservation = TenantReservation(std::move(state), std::move(global_only), estimated_tokens);
  return d;
}

size_t TenantLimiter::EvictIdleTenants() { return table_->EvictIdle(shared_->clock->NowNanos()); }

TenantLimiterStats TenantLimiter::stats() const {
  TenantLimiterStats s;
  const auto load = [](const std::atomic<uint64_t>& c) {
    return c.load(std::memory_order_relaxed);
  };
  s.granted = load(counters_->granted);
  s.denied_tenant_requests = load(counters_->denied[0][0]);
  s.denied_tenant_tokens = load(counters_->denied[0][1]);
  s.denied_global_requests = load(counters_->denied[1][0]);
  s.denied_global_tokens = load(counters_->denied[1][1]);
  s.denied_estimate_too_large = load(counters_->estimate_too_large);
  s.denied_too_many_tenants = load(counters_->too_many_tenants);
  s.denied_invalid_tenant = load(counters_->invalid_tenant);
  s.tracked_tenants = table_->size();
  s.evicted_tenants = table_->evicted();
  return s;
}

}  // namespace smg
