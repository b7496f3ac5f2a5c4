// Internal state of the tenant limiter: one scope (a tenant or the global
// scope) and what reservations share with the limiter.
#ifndef SMGCORE_LIB_ADMISSION_TENANT_STATE_H_
#define SMGCORE_LIB_ADMISSION_TENANT_STATE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>

#include "admission/gcra.h"
#include "smgcore/clock.h"
#include "smgcore/tenant_limiter.h"

namespace smg {
namespace admission_internal {

struct TenantLimiterShared;

// TenantScopeState
//
// The two buckets of one scope.
struct TenantScopeState {
  TenantScopeState(const RateLimit& limit, int64_t now)
      : requests(limit.requests_per_minute, now), tokens(limit.tokens_per_minute, now) {}

  // TenantScopeState::IsIdle()
  //
  // Full buckets: the state equals a fresh one, so dropping it loses nothing.
  // Called with `mu` held.
  bool IsIdle(int64_t now) { return requests.IsFull(now) && tokens.IsFull(now); }

  // Held for a few arithmetic operations per Reserve() and Settle(). A
  // std::mutex, not absl::Mutex: Debian's Abseil runs its deadlock detector
  // on every absl::Mutex acquisition, behind one process-wide spin lock that
  // two threads reserving for different tenants then contend on.
  std::mutex mu;
  RateBucket requests;  // guarded by mu
  RateBucket tokens;    // guarded by mu
  // Reserve() calls in progress plus unsettled reservations on this tenant.
  // Incremented only under the table shard's lock, so a sweep holding that
  // lock exclusively sees a stable zero and can evict safely.
  std::atomic<int64_t> pins{0};
  // A tracked tenant's limiter state (its clock and global scope), so that
  // its reservations settle through the tenant they already hold instead of
  // each copying a reference to the limiter's state: that reference count
  // would be one cache line written by every routing thread, twice per
  // request. Set at creation; null for the global scope itself.
  std::shared_ptr<TenantLimiterShared> limiter;
};

// TenantLimiterShared
//
// What the limiter shares with its reservations, so they can settle after
// the limiter is gone.
struct TenantLimiterShared {
  TenantLimiterShared(const Clock* c, const RateLimit& global_limit)
      : clock(c),
        global_limited(global_limit.requests_per_minute != 0 ||
                       global_limit.tokens_per_minute != 0),
        global(global_limit, c->NowNanos()) {}

  // The global scope, or null when it has no limit (then it is never
  // locked).
  TenantScopeState* limited_global() { return global_limited ? &global : nullptr; }

  const Clock* const clock;
  const bool global_limited;
  TenantScopeState global;
};

// ScopeLock
//
// Locks a tenant scope then the global scope, either of them null: the one
// lock order every path uses, so two scopes never deadlock.
class ScopeLock {
 public:
  ScopeLock(TenantScopeState* tenant, TenantScopeState* global) : tenant_(tenant), global_(global) {
    if (tenant_ != nullptr) tenant_->mu.lock();
    if (global_ != nullptr) global_->mu.lock();
  }
  ~ScopeLock() {
    if (global_ != nullptr) global_->mu.unlock();
    if (tenant_ != nullptr) tenant_->mu.unlock();
  }
  ScopeLock(const ScopeLock&) = delete;
  ScopeLock& operator=(const ScopeLock&) = delete;

 private:
  TenantScopeState* const tenant_;
  TenantScopeState* const global_;
};

}  // namespace admission_internal
}  // namespace smg

#endif  // SMGCORE_LIB_ADMISSION_TENANT_STATE_H_
