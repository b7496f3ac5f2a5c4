// TenantLimiter: atomic reservation across a tenant scope and the global
// scope.
#include "smgcore/tenant_limiter.h"

#include <atomic>
#include <utility>

#include "admission/tenant_state.h"
#include "admission/tenant_table.h"
#include "striped_counters.h"

namespace smg {

using admission_internal::ScopeLock;
using admission_internal::TenantLimiterShared;
using admission_internal::TenantScopeState;
using admission_internal::TenantTable;

namespace {

// The statistics' counters. Every Reserve() from every routing thread
// counts its grant or denial, so they are striped per thread: one shared
// counter would be a cache line written by every thread on every request.
enum TenantCounter : size_t {
  kGranted,
  // kDenied + 2 * RateScope + RateDimension.
  kDenied,
  kEstimateTooLarge = kDenied + 4,
  kTooManyTenants,
  kInvalidTenant,
  kTenantCounterCount,
};

size_t DeniedCounter(RateScope scope, RateDimension dimension) {
  return kDenied + 2 * static_cast<size_t>(scope) + static_cast<size_t>(dimension);
}

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

struct TenantLimiter::Counters : internal::StripedCounters<kTenantCounterCount> {};

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
      counters_->Add(kEstimateTooLarge, 1);
      [[fallthrough]];
    case TenantDenyReason::kRateLimited:
      counters_->Add(DeniedCounter(scope, dimension), 1);
      break;
    case TenantDenyReason::kTooManyTenants:
      counters_->Add(kTooManyTenants, 1);
      break;
    case TenantDenyReason::kInvalidTenant:
      counters_->Add(kInvalidTenant, 1);
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
  counters_->Add(kGranted, 1);
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
  s.granted = counters_->Sum(kGranted);
  s.denied_tenant_requests = counters_->Sum(DeniedCounter(RateScope::kTenant, RateDimension::kRequests));
  s.denied_tenant_tokens = counters_->Sum(DeniedCounter(RateScope::kTenant, RateDimension::kTokens));
  s.denied_global_requests = counters_->Sum(DeniedCounter(RateScope::kGlobal, RateDimension::kRequests));
  s.denied_global_tokens = counters_->Sum(DeniedCounter(RateScope::kGlobal, RateDimension::kTokens));
  s.denied_estimate_too_large = counters_->Sum(kEstimateTooLarge);
  s.denied_too_many_tenants = counters_->Sum(kTooManyTenants);
  s.denied_invalid_tenant = counters_->Sum(kInvalidTenant);
  s.tracked_tenants = table_->size();
  s.evicted_tenants = table_->evicted();
  return s;
}

}  // namespace smg
