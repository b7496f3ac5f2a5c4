// File: smgcore/tenant_limiter.h
//
// Per-tenant and global requests-per-minute and tokens-per-minute limits with
// reserve-then-settle accounting: SMG's tenant rate limit (smg.md §4), which
// SMG never wires into a request path. Before forwarding, the host reserves
// one request and its estimated tokens (the prompt's, plus max_tokens if it
// likes); when the response ends it settles the actual count, refunding or
// charging the difference.
//
//   smg::TenantLimiterOptions options;
//   options.default_tenant = {.requests_per_minute = 600, .tokens_per_minute = 200000};
//   options.tenants["batch-team"] = {.tokens_per_minute = 2000000};
//   options.global = {.tokens_per_minute = 20000000};
//   auto limiter = smg::TenantLimiter::Create(std::move(options));
//
//   smg::TenantDecision d = (*limiter)->Reserve(api_key_owner, prompt_tokens);
//   if (!d.granted()) return TooManyRequests(d.retry_after);  // d.scope, d.dimension say which limit
//   ... forward, stream the response ...
//   d.reservation.Settle(prompt_tokens + completion_tokens).IgnoreError();
//
// Each scope (a tenant, and the global scope shared by all tenants) has two
// buckets, requests and tokens, each holding its per-minute limit and
// refilling continuously at limit / 60 per second on the injected Clock
// (GCRA arithmetic, as TokenBucket; a token costs ceil(60e9 / limit) ns, so
// rates round down by less than one part in that cost). A reservation debits
// all four buckets or none. Settling can push a token bucket below zero: that
// debt delays the scope's next grant until refill has repaid it, exactly as
// if the actual count had been reserved up front.
//
// Limits are per limiter instance: N gateways each holding one allow about
// N times the configured rate (as in SMG).
#ifndef SMGCORE_TENANT_LIMITER_H_
#define SMGCORE_TENANT_LIMITER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "smgcore/clock.h"

namespace smg {

// RateLimit
//
// One scope's limits. 0 means unlimited.
struct RateLimit {
  uint64_t requests_per_minute = 0;
  uint64_t tokens_per_minute = 0;
};

// kMaxRateLimitPerMinute
//
// The largest accepted per-minute limit (10^9, about 16.7 M per second).
// Above it the nanosecond cost of one unit rounds too coarsely; use 0 for
// "unlimited".
inline constexpr uint64_t kMaxRateLimitPerMinute = 1'000'000'000;

// kMaxTenantNameLength
//
// The longest tenant name, in bytes.
inline constexpr size_t kMaxTenantNameLength = 256;

// kMaxTrackedTenantsLimit
//
// The largest accepted `max_tracked_tenants`.
inline constexpr size_t kMaxTrackedTenantsLimit = size_t{1} << 24;

// TenantLimiterOptions
struct TenantLimiterOptions {
  // Limits of every tenant without an entry in `tenants`.
  RateLimit default_tenant;
  // Per-tenant overrides, keyed by tenant name (1 to kMaxTenantNameLength
  // bytes).
  absl::flat_hash_map<std::string, RateLimit> tenants;
  // Limits shared by all tenants together.
  RateLimit global;
  // The most tenants with limits whose state is kept at once (1 to
  // kMaxTrackedTenantsLimit). Tenants whose buckets are full and who hold no
  // unsettled reservation are "idle": their state equals a fresh one, so
  // they are evicted when the table is full. When every tracked tenant is
  // busy, Reserve() denies new tenants (kTooManyTenants) rather than growing
  // without bound. Unlimited tenants are never tracked.
  size_t max_tracked_tenants = 100000;
};

// ValidateTenantLimiterOptions()
//
// InvalidArgument naming the field and value when a limit is above
// kMaxRateLimitPerMinute, a tenant key is empty or longer than
// kMaxTenantNameLength, or `max_tracked_tenants` is 0 or above
// kMaxTrackedTenantsLimit.
absl::Status ValidateTenantLimiterOptions(const TenantLimiterOptions& options);

// RateScope
enum class RateScope : uint8_t {
  kTenant = 0,
  kGlobal = 1,
};

// RateDimension
enum class RateDimension : uint8_t {
  kRequests = 0,
  kTokens = 1,
};

// TenantDenyReason
enum class TenantDenyReason : uint8_t {
  // Granted.
  kNone = 0,
  // A bucket lacks room now; it will have room after `retry_after`.
  kRateLimited = 1,
  // The estimate exceeds a scope's whole tokens-per-minute limit: no wait
  // would help, so `retry_after` is infinite.
  kEstimateTooLarge = 2,
  // The tenant table is full of busy tenants (ResourceExhausted in spirit);
  // `retry_after` is a 1 s hint.
  kTooManyTenants = 3,
  // The tenant name is empty or longer than kMaxTenantNameLength.
  kInvalidTenant = 4,
};

// RateScopeName(), RateDimensionName(), TenantDenyReasonName()
//
// Stable lower-case names for metric labels and messages: "tenant",
// "global"; "requests", "tokens"; "none", "rate_limited",
// "estimate_too_large", "too_many_tenants", "invalid_tenant".
absl::string_view RateScopeName(RateScope scope);
absl::string_view RateDimensionName(RateDimension dimension);
absl::string_view TenantDenyReasonName(TenantDenyReason reason);

namespace admission_internal {
struct TenantScopeState;
struct TenantLimiterShared;
class TenantTable;
}  // namespace admission_internal

// TenantReservation
//
// A granted reservation: one request and `estimated_tokens()` tokens debited
// from the tenant's and the global scope. Move-only. Settle() it once with
// the actual token count. Destroying it unsettled keeps the estimate charged
// (SMG's "abandon keeps the debit"): a request that failed half-way still
// consumed capacity, and not refunding cannot be abused.
//
// A reservation shares ownership of the scope state it debited, so it may
// outlive the TenantLimiter (settling then changes nothing observable); the
// limiter's Clock must outlive it. While unsettled it keeps its tenant from
// being evicted, so a later debt is never lost.
//
// Not thread-safe: one thread at a time may use a reservation.
class TenantReservation {
 public:
  // TenantReservation::TenantReservation()
  //
  // An empty reservation: inactive, Settle() fails.
  TenantReservation() = default;
  // Inline: a Ticket moves and destroys an (often empty) reservation on
  // every request.
  TenantReservation(TenantReservation&& other) noexcept
      : tenant_(std::move(other.tenant_)),
        global_only_(std::move(other.global_only_)),
        estimated_tokens_(other.estimated_tokens_),
        active_(other.active_),
        settled_(other.settled_) {
    other.active_ = false;
    other.settled_ = false;
  }
  TenantReservation& operator=(TenantReservation&& other) noexcept;
  TenantReservation(const TenantReservation&) = delete;
  TenantReservation& operator=(const TenantReservation&) = delete;
  // TenantReservation::~TenantReservation()
  //
  // Keeps the estimate charged when unsettled.
  ~TenantReservation() {
    if (tenant_ != nullptr) Reset();
  }

  // TenantReservation::Settle()
  //
  // Applies actual_tokens - estimated_tokens() to the tenant's and the global
  // tokens buckets: a refund when smaller (never above the capacity), a debt
  // when larger (saturating after about 73 years of refill). The request
  // count is unchanged. FailedPrecondition when already settled or empty.
  absl::Status Settle(uint64_t actual_tokens);

  // TenantReservation::active()
  //
  // True for a granted reservation not yet settled.
  bool active() const { return active_; }

  // TenantReservation::estimated_tokens()
  uint64_t estimated_tokens() const { return estimated_tokens_; }

 private:
  friend class TenantLimiter;
  // An active reservation: `tenant` for a tracked tenant, else
  // `global_only` when a global limit applies, else neither.
  TenantReservation(std::shared_ptr<admission_internal::TenantScopeState> tenant,
                    std::shared_ptr<admission_internal::TenantLimiterShared> global_only,
                    uint64_t estimated_tokens);
  // Drops the tenant pin and the state references.
  void Reset();

  // The tracked tenant's state (which leads to the limiter's clock and
  // global scope); null when the tenant is unlimited (untracked) or inactive.
  std::shared_ptr<admission_internal::TenantScopeState> tenant_;
  // The limiter's state, held only by an untracked tenant's reservation
  // under a global limit: the one case that settles without a tenant.
  std::shared_ptr<admission_internal::TenantLimiterShared> global_only_;
  uint64_t estimated_tokens_ = 0;
  bool active_ = false;
  // Distinguishes "settled" from "empty" in Settle()'s error.
  bool settled_ = false;
};

// TenantDecision
//
// What Reserve() decided.
struct TenantDecision {
  // TenantDecision::granted()
  bool granted() const { return reason == TenantDenyReason::kNone; }

  TenantDenyReason reason = TenantDenyReason::kNone;
  // For kRateLimited and kEstimateTooLarge: the limit that denied. When
  // several buckets lack room, the one that needs the longest wait (ties:
  // tenant before global, requests before tokens).
  RateScope scope = RateScope::kTenant;
  RateDimension dimension = RateDimension::kRequests;
  // Zero when granted. For kRateLimited, exactly how long until every bucket
  // would have room for this request if nobody else reserved; a suitable
  // Retry-After. Infinite for kEstimateTooLarge and kInvalidTenant.
  absl::Duration retry_after = absl::ZeroDuration();
  // Active when granted.
  TenantReservation reservation;
};

// TenantLimiterStats
//
// Counters since creation, for metrics. Each is read atomically, but the
// set is not one consistent snapshot.
struct TenantLimiterStats {
  uint64_t granted = 0;
  // Denials (kRateLimited or kEstimateTooLarge) by the limit that denied.
  uint64_t denied_tenant_requests = 0;
  uint64_t denied_tenant_tokens = 0;
  uint64_t denied_global_requests = 0;
  uint64_t denied_global_tokens = 0;
  // Of the above, kEstimateTooLarge denials.
  uint64_t denied_estimate_too_large = 0;
  uint64_t denied_too_many_tenants = 0;
  uint64_t denied_invalid_tenant = 0;
  // Tenants whose state is kept now, and idle tenants evicted so far.
  size_t tracked_tenants = 0;
  uint64_t evicted_tenants = 0;
};

// TenantLimiter
//
// Thread-safe: every method may be called from any thread concurrently.
// Tenant lookups go through a sharded table (a reader lock per shard), each
// tenant has its own mutex, and the global scope has one, taken only when a
// global limit is set. Reserve() and Settle() lock the tenant, then the
// global scope (a fixed order, so no deadlock) for a few arithmetic
// operations; no lock is held while user code runs.
class TenantLimiter {
 public:
  // TenantLimiter::Create()
  //
  // Validates `options` (see ValidateTenantLimiterOptions()). `clock` must
  // outlive the limiter and its reservations; null means
  // SteadyClock::Instance().
  static absl::StatusOr<std::unique_ptr<TenantLimiter>> Create(TenantLimiterOptions options,
                                                               const Clock* clock = nullptr);
  ~TenantLimiter();
  TenantLimiter(const TenantLimiter&) = delete;
  TenantLimiter& operator=(const TenantLimiter&) = delete;

  // TenantLimiter::Reserve()
  //
  // Reserves one request and `estimated_tokens` tokens for `tenant` in the
  // tenant's and the global scope, atomically: all four buckets are debited,
  // or none. Never blocks on time; see TenantDecision for denials.
  TenantDecision Reserve(absl::string_view tenant, uint64_t estimated_tokens);

  // TenantLimiter::LimitFor()
  //
  // The limits that apply to `tenant`: its override, else the default.
  RateLimit LimitFor(absl::string_view tenant) const;

  // TenantLimiter::EvictIdleTenants()
  //
  // Drops the state of every idle tenant (full buckets, no unsettled
  // reservation) now; returns how many. Reserve() does this by itself when
  // the table is full (at most once a second while nothing is idle); hosts
  // may call it periodically to keep memory low.
  size_t EvictIdleTenants();

  // TenantLimiter::stats()
  TenantLimiterStats stats() const;

  // TenantLimiter::options()
  const TenantLimiterOptions& options() const { return options_; }

 private:
  struct Counters;

  TenantLimiter(TenantLimiterOptions options, const Clock* clock);

  // Records a denial and builds its decision.
  TenantDecision Deny(TenantDenyReason reason, RateScope scope, RateDimension dimension,
                      absl::Duration retry_after);

  const TenantLimiterOptions options_;
  const std::shared_ptr<admission_internal::TenantLimiterShared> shared_;
  const std::unique_ptr<admission_internal::TenantTable> table_;
  const std::unique_ptr<Counters> counters_;
};

}  // namespace smg

#endif  // SMGCORE_TENANT_LIMITER_H_
