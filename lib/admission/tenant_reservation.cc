// TenantReservation: settle or abandon a granted reservation.
#include <utility>

#include "admission/tenant_state.h"
#include "smgcore/tenant_limiter.h"

namespace smg {

using admission_internal::ScopeLock;
using admission_internal::TenantLimiterShared;
using admission_internal::TenantScopeState;

TenantReservation::TenantReservation(std::shared_ptr<TenantScopeState> tenant,
                                     std::shared_ptr<TenantLimiterShared> shared,
                                     uint64_t estimated_tokens)
    : tenant_(std::move(tenant)), shared_(std::move(shared)), estimated_tokens_(estimated_tokens) {}

TenantReservation& TenantReservation::operator=(TenantReservation&& other) noexcept {
  if (this != &other) {
    Reset();
    tenant_ = std::move(other.tenant_);
    shared_ = std::move(other.shared_);
    estimated_tokens_ = other.estimated_tokens_;
    settled_ = other.settled_;
    other.tenant_ = nullptr;
    other.shared_ = nullptr;
    other.settled_ = false;
  }
  return *this;
}

// Abandoning (the destructor) keeps the estimate charged: nothing to apply,
// only the pin to drop.
void TenantReservation::Reset() {
  if (tenant_ != nullptr) tenant_->pins.fetch_sub(1, std::memory_order_acq_rel);
  tenant_ = nullptr;
  shared_ = nullptr;
}

absl::Status TenantReservation::Settle(uint64_t actual_tokens) {
  if (!active()) {
    return absl::FailedPreconditionError(
        settled_ ? "TenantReservation::Settle: the reservation was already settled"
                 : "TenantReservation::Settle: the reservation is empty (denied or moved from)");
  }
  {
    TenantScopeState* global = shared_->limited_global();
    ScopeLock lock(tenant_.get(), global);
    const int64_t now = shared_->clock->NowNanos();
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
