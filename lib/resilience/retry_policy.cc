#include "smgcore/retry_policy.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace smg {
namespace {

absl::Status Invalid(absl::string_view field, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("retry ", field, ": ", why));
}

// A uniform double in [0, 1) from the top 53 bits.
double UnitInterval(RandomSource& random) {
  return static_cast<double>(random.Next() >> 11) * 0x1.0p-53;
}

}  // namespace

absl::Status ValidateRetryOptions(const RetryOptions& o) {
  if (o.max_attempts == 0 || o.max_attempts > 100) {
    return Invalid("max_attempts", absl::StrCat("must be in [1, 100], got ", o.max_attempts));
  }
  if (o.initial_backoff < absl::ZeroDuration() || o.initial_backoff > absl::Hours(1)) {
    return Invalid("initial_backoff", absl::StrCat("must be in [0, 1h], got ",
                                                   absl::FormatDuration(o.initial_backoff)));
  }
  if (!std::isfinite(o.backoff_multiplier) || o.backoff_multiplier < 1 ||
      o.backoff_multiplier > 100) {
    return Invalid("backoff_multiplier",
                   absl::StrCat("must be in [1, 100], got ", o.backoff_multiplier));
  }
  if (o.max_backoff < o.initial_backoff || o.max_backoff > absl::Hours(1)) {
    return Invalid("max_backoff", absl::StrCat("must be in [initial_backoff, 1h], got ",
                                               absl::FormatDuration(o.max_backoff)));
  }
  if (!std::isfinite(o.jitter) || o.jitter < 0 || o.jitter > 1) {
    return Invalid("jitter", absl::StrCat("must be in [0, 1], got ", o.jitter));
  }
  if (o.budget.has_value()) {
    if (!std::isfinite(o.budget->percent) || o.budget->percent <= 0 || o.budget->percent > 100) {
      return Invalid("budget.percent", absl::StrCat("must be in (0, 100], got ", o.budget->percent));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<RetryPolicy> RetryPolicy::Create(const RetryOptions& options) {
  if (absl::Status s = ValidateRetryOptions(options); !s.ok()) return s;
  return RetryPolicy(options);
}

absl::Duration RetryPolicy::BaseBackoff(uint32_t retry) const {
  if (retry == 0) return absl::ZeroDuration();
  // Computed in double seconds: multiplier^n overflows to +inf for absurd n,
  // and min() with the cap keeps that harmless.
  const double seconds = absl::ToDoubleSeconds(options_.initial_backoff) *
                         std::pow(options_.backoff_multiplier, static_cast<double>(retry - 1));
  return std::min(absl::Seconds(seconds), options_.max_backoff);
}

absl::Duration RetryPolicy::Backoff(uint32_t retry, RandomSource& random) const {
  const absl::Duration base = BaseBackoff(retry);
  if (retry == 0 || options_.jitter == 0) return base;
  const double factor = 1.0 + options_.jitter * (2.0 * UnitInterval(random) - 1.0);
  return base * factor;
}

int64_t RetryBudget::Limit(int64_t active_requests) const {
  const auto share = static_cast<int64_t>(options_.percent / 100.0 *
                                          static_cast<double>(std::max<int64_t>(0, active_requests)));
  return std::max<int64_t>(options_.min_concurrency, share);
}

bool RetryBudget::TryAcquire(int64_t active_requests) {
  const int64_t limit = Limit(active_requests);
  int64_t current = active_.load(std::memory_order_relaxed);
  while (current < limit) {
    if (active_.compare_exchange_weak(current, current + 1, std::memory_order_acq_rel)) return true;
  }
  return false;
}

}  // namespace smg
