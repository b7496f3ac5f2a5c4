// GCRA (generic cell rate algorithm) arithmetic shared by TokenBucket and the
// tenant limiter's buckets.
//
// A bucket of `capacity` tokens that refills one token every `cost` ns is
// fully described by one instant, `empty_at`: when the bucket held (or, in
// debt, will hold) zero tokens. At time `now` it holds
// (now - empty_at) / cost tokens, capped at `capacity`. The cap is applied by
// clamping `empty_at` to no earlier than `now - burst` (burst = capacity *
// cost: the bucket has been full since then). Taking n tokens moves the
// clamped instant forward by n * cost and is allowed while the result is not
// after `now`. Refill therefore needs no timer and no stored level, and one
// integer is enough for a lock-free bucket.
#ifndef SMGCORE_LIB_ADMISSION_GCRA_H_
#define SMGCORE_LIB_ADMISSION_GCRA_H_

#include <algorithm>
#include <cstdint>

namespace smg {
namespace admission_internal {

// The longest time a bucket may take to refill from empty (2^62 ns, about
// 146 years). Bounding it keeps `now - burst` and `now + n * cost` inside
// int64 for every clock reading below 2^62 ns.
inline constexpr int64_t kMaxBurstNanos = int64_t{1} << 62;

// Debt saturates at this many nanoseconds of refill (2^61 ns, about 73
// years), so an absurd settlement cannot overflow the arithmetic.
inline constexpr int64_t kMaxDebtNanos = int64_t{1} << 61;

// GcraBase()
//
// `empty_at` with the capacity cap applied at `now`.
inline int64_t GcraBase(int64_t empty_at, int64_t now, int64_t burst_nanos) {
  return std::max(empty_at, now - burst_nanos);
}

// PerMinuteCostNanos()
//
// The refill time of one token for a limit of `per_minute` (> 0) tokens per
// minute, rounded up so that the effective rate never exceeds the limit.
inline int64_t PerMinuteCostNanos(uint64_t per_minute) {
  constexpr uint64_t kNanosPerMinute = 60'000'000'000;
  return static_cast<int64_t>((kNanosPerMinute + per_minute - 1) / per_minute);
}

// RateBucket
//
// A GCRA bucket whose level may go negative (debt), for reserve-then-settle
// accounting. Capacity is a per-minute limit; refill is continuous at
// limit / 60 per second. A default-constructed bucket is unlimited: every
// method treats it as always full. Not thread-safe: the owner's lock guards
// it.
class RateBucket {
 public:
  RateBucket() = default;

  // RateBucket::RateBucket()
  //
  // A full bucket of `per_minute` tokens at `now`; 0 means unlimited.
  // `per_minute` must be small enough that capacity * cost stays far below
  // kMaxBurstNanos (the tenant limiter validates at most 10^9).
  RateBucket(uint64_t per_minute, int64_t now)
      : capacity_(per_minute),
        cost_(per_minute == 0 ? 0 : PerMinuteCostNanos(per_minute)),
        burst_(static_cast<int64_t>(per_minute) * cost_),
        empty_at_(now - burst_) {}

  // RateBucket::limited()
  bool limited() const { return capacity_ != 0; }
  // RateBucket::capacity()
  //
  // The per-minute limit; 0 when unlimited.
  uint64_t capacity() const { return capacity_; }

  // RateBucket::WaitNanos()
  //
  // Nanoseconds from `now` until `n` tokens could be taken (0: now). Requires
  // n <= capacity() for a limited bucket; 0 for an unlimited one.
  int64_t WaitNanos(uint64_t n, int64_t now) const {
    if (!limited()) return 0;
    const int64_t next = GcraBase(empty_at_, now, burst_) + static_cast<int64_t>(n) * cost_;
    return std::max<int64_t>(0, next - now);
  }

  // RateBucket::Take()
  //
  // Takes `n` tokens. Requires WaitNanos(n, now) == 0.
  void Take(uint64_t n, int64_t now) {
    if (!limited()) return;
    empty_at_ = GcraBase(empty_at_, now, burst_) + static_cast<int64_t>(n) * cost_;
  }

  // RateBucket::Charge()
  //
  // Takes `n` more tokens whatever the level: the bucket goes into debt, and
  // the debt is repaid by refill before the next Take() is allowed. The debt
  // saturates at kMaxDebtNanos of refill.
  void Charge(uint64_t n, int64_t now) {
    if (!limited() || n == 0) return;
    const int64_t base = GcraBase(empty_at_, now, burst_);
    const int64_t ceiling = now + kMaxDebtNanos;
    if (n > static_cast<uint64_t>(kMaxDebtNanos / cost_)) {
      empty_at_ = ceiling;
      return;
    }
    // base <= now + kMaxDebtNanos and n * cost <= kMaxDebtNanos: no overflow.
    empty_at_ = std::min(base + static_cast<int64_t>(n) * cost_, ceiling);
  }

  // RateBucket::Refund()
  //
  // Gives `n` tokens back; the level never exceeds the capacity.
  void Refund(uint64_t n, int64_t now) {
    if (!limited() || n == 0) return;
    const int64_t full = now - burst_;
    const int64_t base = GcraBase(empty_at_, now, burst_);
    const uint64_t room = static_cast<uint64_t>(base - full);  // in ns of refill
    empty_at_ = n > room / static_cast<uint64_t>(cost_)
                    ? full
                    : base - static_cast<int64_t>(n) * cost_;
  }

  // RateBucket::IsFull()
  //
  // True when the bucket is at capacity: it then holds no information, since
  // a new bucket would be in the same state.
  bool IsFull(int64_t now) const { return !limited() || empty_at_ <= now - burst_; }

 private:
  uint64_t capacity_ = 0;
  int64_t cost_ = 0;
  int64_t burst_ = 0;
  int64_t empty_at_ = 0;
};

}  // namespace admission_internal
}  // namespace smg

#endif  // SMGCORE_LIB_ADMISSION_GCRA_H_
