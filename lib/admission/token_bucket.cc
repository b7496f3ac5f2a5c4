// TokenBucket: GCRA over one atomic instant (see gcra.h for the arithmetic).
#include "smgcore/token_bucket.h"

#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "admission/gcra.h"

namespace smg {

namespace {

using admission_internal::kMaxBurstNanos;

absl::Status Invalid(absl::string_view field, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("TokenBucketOptions.", field, ": ", why));
}

// The refill time of one token, rounded up so that the bucket never grants
// faster than configured. Requires a validated rate.
double CostNanos(double refill_per_second) { return std::ceil(1e9 / refill_per_second); }

}  // namespace

absl::Status ValidateTokenBucketOptions(const TokenBucketOptions& options) {
  if (options.capacity == 0) return Invalid("capacity", "must be at least 1 (got 0)");
  if (options.capacity > kMaxTokenBucketCapacity) {
    return Invalid("capacity", absl::StrCat(options.capacity, " is above the maximum ",
                                            kMaxTokenBucketCapacity));
  }
  const double rate = options.refill_per_second;
  if (!std::isfinite(rate) || rate <= 0) {
    return Invalid("refill_per_second", absl::StrCat("must be finite and > 0 (got ", rate, ")"));
  }
  if (rate > kMaxTokenBucketRefillPerSecond) {
    return Invalid("refill_per_second",
                   absl::StrCat(rate, " is above the maximum 1e9 (one token per nanosecond)"));
  }
  if (options.initial_tokens.has_value() && *options.initial_tokens > options.capacity) {
    return Invalid("initial_tokens", absl::StrCat(*options.initial_tokens,
                                                  " is above capacity ", options.capacity));
  }
  // Checked in floating point: the integer product is what could overflow.
  const double burst = CostNanos(rate) * static_cast<double>(options.capacity);
  if (burst > static_cast<double>(kMaxBurstNanos)) {
    return Invalid("refill_per_second",
                   absl::StrCat(rate, " with capacity ", options.capacity,
                                " takes ", burst / 1e9,
                                " s to refill from empty, above the maximum of 2^62 ns"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<TokenBucket>> TokenBucket::Create(TokenBucketOptions options,
                                                                 const Clock* clock) {
  if (absl::Status s = ValidateTokenBucketOptions(options); !s.ok()) return s;
  if (clock == nullptr) clock = &SteadyClock::Instance();
  const auto cost = static_cast<int64_t>(CostNanos(options.refill_per_second));
  return std::unique_ptr<TokenBucket>(new TokenBucket(std::move(options), clock, cost));
}

TokenBucket::TokenBucket(TokenBucketOptions options, const Clock* clock, int64_t cost_nanos)
    : options_(std::move(options)),
      clock_(clock),
      cost_nanos_(cost_nanos),
      burst_nanos_(static_cast<int64_t>(options_.capacity) * cost_nanos),
      empty_at_(clock->NowNanos() -
                static_cast<int64_t>(options_.initial_tokens.value_or(options_.capacity)) *
                    cost_nanos) {}

int64_t TokenBucket::Base(int64_t empty_at, int64_t now) const {
  return admission_internal::GcraBase(empty_at, now, burst_nanos_);
}

bool TokenBucket::TryAcquire(uint64_t n) {
  if (n == 0) return true;
  if (n > options_.capacity) return false;
  const int64_t need = static_cast<int64_t>(n) * cost_nanos_;
  const int64_t now = clock_->NowNanos();
  // Relaxed ordering suffices: the bucket publishes no other data, and the
  // read-modify-write on this one variable is what keeps two threads from
  // taking the same tokens. A stale `now` only makes a grant less likely.
  int64_t empty_at = empty_at_.load(std::memory_order_relaxed);
  for (;;) {
    const int64_t next = Base(empty_at, now) + need;
    if (next > now) return false;
    if (empty_at_.compare_exchange_weak(empty_at, next, std::memory_order_relaxed)) return true;
  }
}

absl::Duration TokenBucket::TimeUntilAvailable(uint64_t n) const {
  if (n == 0) return absl::ZeroDuration();
  if (n > options_.capacity) return absl::InfiniteDuration();
  const int64_t now = clock_->NowNanos();
  const int64_t next =
      Base(empty_at_.load(std::memory_order_relaxed), now) + static_cast<int64_t>(n) * cost_nanos_;
  return next > now ? absl::Nanoseconds(next - now) : absl::ZeroDuration();
}

uint64_t TokenBucket::available() const {
  const int64_t now = clock_->NowNanos();
  const int64_t base = Base(empty_at_.load(std::memory_order_relaxed), now);
  // now - base <= burst, so the quotient is at most the capacity.
  return base >= now ? 0 : static_cast<uint64_t>((now - base) / cost_nanos_);
}

}  // namespace smg
