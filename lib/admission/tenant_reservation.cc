// TenantReservation: settle or abandon a granted reservation.
#include <utility>

#include "admission/tenant_state.h"
#include "smgcore/tenant_limiter.h"

namespace smg {

using admission_internal::ScopeLock;
using admission_internal::TenantLimiterShared;
using admission_internal::TenantScopeState;

TenantReservation::TenantReservation(std::shared_ptr<TenantScopeState> tenant,
                                     std::shared_ptr<TenantLimiterShared> global_only,
                                     uint64_t estimated_tokens)
    : tenant_(std::move(tenant)),
      global_only_(std::move(global_only)),
      estimated_tokens_(estimated_tokens),
      active_(true) {}

TenantReservation& TenantReservation::operator=(TenantReservation&& other) noexcept {
  if (this != &other) {
    Reset();
    tenant_ = std::move(other.tenant_);
    global_only_ = std::move(other.global_only_);
    estimated_tokens_ = other.estimated_tokens_;
    active_ = other.active_;
    settled_ = other.settled_;
    other.tenant_ = nullptr;
    other.global_only_ = nullptr;
    other.active_ = false;
    other.settled_ = false;
  }
  return *this;
}

// Abandoning (the destructor) keeps the estimate charged: nothing to apply,
// only the pin to drop.
void TenantReservation::Reset() {
  if (tenant_ != nullptr) tenant_->pins.fetch_sub(1, std::memory_order_acq_rel);
  tenant_ = nullptr;
  global_only_ = nullptr;
  active_ = false;
}

absl::Status TenantReservation::Settle(uint64_t actual_tokens) {
  if (!active()) {
    return absl::FailedPreconditionError(
        settled_ ? "TenantReservation::Settle: the reservation was already settled"
                 : "TenantReservation::Settle: the reservation is empty (denied or moved from)");
  }
  // Null for an untracked tenant without a global limit: nothing to apply.
  if (TenantLimiterShared* limiter = tenant_ != nullptr ? tenant_->limiter.get() : global_only_.get();
      limiter != nullptr) {
    TenantScopeState* global = limiter->limited_global();
    ScopeLock lock(tenant_.get(), global);
    const int64_t now = limiter->clock->NowNanos();
    for (TenantScopeState* scope : {tenant_.get(), global}) {
      if (scope == nullptr) continue;
      if (actual_tokens >= estimated_tokens_) {
        scope->tokens.Charge(actual_tokens - estimated_tokens_, now);
      } else {
        scope->tokens.Refund(estimated_tokens_ - actual_tokens, now);
      }
    }
  }
  Reset();
  settled_ = true;
  return absl::OkStatus();
}

}  // namespace smg
