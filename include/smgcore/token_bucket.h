// File: smgcore/token_bucket.h
//
// A lock-free token bucket: up to `capacity` tokens, refilled continuously at
// `refill_per_second`, for request-rate limits (Envoy's local rate limit, the
// rate half of SMG's global limiter). Requests take tokens with TryAcquire(),
// which never blocks; a refused caller can read TimeUntilAvailable() for a
// Retry-After header.
//
//   auto bucket = smg::TokenBucket::Create({.capacity = 100, .refill_per_second = 50});
//   if (!(*bucket)->TryAcquire()) {
//     return TooManyRequests((*bucket)->TimeUntilAvailable(1));
//   }
//
// The bucket is GCRA (the generic cell rate algorithm): its whole state is
// one atomic instant, so TryAcquire() is one compare-and-swap loop and many
// threads can share a bucket without a lock. Time comes from the injected
// Clock; tests use a ManualClock and never sleep.
//
// Precision: time is kept in whole nanoseconds. One token costs
// ceil(1e9 / refill_per_second) ns of refill, so the effective rate is the
// configured one rounded down by less than one part in that cost: exact when
// 1e9 / rate is whole (10/s, 1000/s), under 0.0001% off for any rate up to
// 1000/s. Rates above 1e9/s (one token per nanosecond) cannot be represented
// and are rejected.
#ifndef SMGCORE_TOKEN_BUCKET_H_
#define SMGCORE_TOKEN_BUCKET_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "smgcore/clock.h"

namespace smg {

// kMaxTokenBucketCapacity
//
// The largest accepted capacity (2^40 tokens).
inline constexpr uint64_t kMaxTokenBucketCapacity = uint64_t{1} << 40;

// kMaxTokenBucketRefillPerSecond
//
// The largest accepted refill rate: one token per nanosecond, the clock's
// resolution.
inline constexpr double kMaxTokenBucketRefillPerSecond = 1e9;

// TokenBucketOptions
struct TokenBucketOptions {
  // The most tokens the bucket holds: the largest burst. At least 1.
  uint64_t capacity = 0;
  // Tokens added per second, continuously. Finite and > 0.
  double refill_per_second = 0;
  // Tokens at creation, at most `capacity`; unset means full.
  std::optional<uint64_t> initial_tokens;
};

// ValidateTokenBucketOptions()
//
// InvalidArgument naming the field and value when `capacity` is 0 or above
// kMaxTokenBucketCapacity, `refill_per_second` is not finite, not positive or
// above kMaxTokenBucketRefillPerSecond, `initial_tokens` exceeds `capacity`,
// or a refill from empty would take longer than 2^62 ns (about 146 years: a
// tiny rate with a huge capacity).
absl::Status ValidateTokenBucketOptions(const TokenBucketOptions& options);

// TokenBucket
//
// Thread-safe: every method may be called from any thread concurrently, and
// none blocks or allocates.
class TokenBucket {
 public:
  // TokenBucket::Create()
  //
  // Validates `options` (see ValidateTokenBucketOptions()) and builds a
  // bucket holding `initial_tokens`. `clock` must outlive the bucket; null
  // means SteadyClock::Instance().
  static absl::StatusOr<std::unique_ptr<TokenBucket>> Create(TokenBucketOptions options,
                                                             const Clock* clock = nullptr);

  TokenBucket(const TokenBucket&) = delete;
  TokenBucket& operator=(const TokenBucket&) = delete;

  // TokenBucket::TryAcquire()
  //
  // Takes `n` tokens if the bucket holds at least `n` now, all or nothing.
  // True for n == 0; always false for n > capacity.
  bool TryAcquire(uint64_t n = 1);

  // TokenBucket::TimeUntilAvailable()
  //
  // How long until `n` tokens will be available if nobody else takes any:
  // zero when they are available now, absl::InfiniteDuration() when
  // n > capacity. Exact to the nanosecond: TryAcquire(n) succeeds once the
  // clock has advanced by the returned duration.
  absl::Duration TimeUntilAvailable(uint64_t n) const;

  // TokenBucket::available()
  //
  // Whole tokens available now (a snapshot: others may take them).
  uint64_t available() const;

  // TokenBucket::token_cost()
  //
  // The refill time of one token: ceil(1e9 / refill_per_second) ns.
  absl::Duration token_cost() const { return absl::Nanoseconds(cost_nanos_); }

  // TokenBucket::options()
  const TokenBucketOptions& options() const { return options_; }

 private:
  TokenBucket(TokenBucketOptions options, const Clock* clock, int64_t cost_nanos);

  // The bucket's empty instant clamped to the capacity at `now`.
  int64_t Base(int64_t empty_at, int64_t now) const;

  const TokenBucketOptions options_;
  const Clock* const clock_;
  const int64_t cost_nanos_;   // refill time of one token
  const int64_t burst_nanos_;  // capacity * cost: refill time from empty
  // The clock instant at which the bucket held (or holds) zero tokens; the
  // level at `now` is (now - empty_at_) / cost, capped at capacity. The only
  // mutable state.
  std::atomic<int64_t> empty_at_;
};

}  // namespace smg

#endif  // SMGCORE_TOKEN_BUCKET_H_
