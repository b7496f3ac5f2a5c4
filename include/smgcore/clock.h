// File: smgcore/clock.h
//
// The time source every time-dependent piece of smgcore reads (eviction
// intervals today; breakers, buckets and limiters with the resilience layer).
// Production code uses `SteadyClock`; tests inject a `ManualClock` and advance
// it explicitly, so no test ever sleeps.
//
//   smg::ManualClock clock;
//   auto router = smg::Router::Create(options, {.clock = &clock});
//   clock.Advance(absl::Seconds(120));   // the next maintenance pass evicts
#ifndef SMGCORE_CLOCK_H_
#define SMGCORE_CLOCK_H_

#include <atomic>
#include <cstdint>

#include "absl/time/time.h"

namespace smg {

// Clock
//
// A monotonic time source. `NowNanos()` never goes backwards; its epoch is
// arbitrary (only differences mean anything). Implementations must be safe to
// call from any thread.
class Clock {
 public:
  virtual ~Clock() = default;

  // Clock::NowNanos()
  //
  // Monotonic nanoseconds since an arbitrary, fixed epoch.
  virtual int64_t NowNanos() const = 0;

  // Clock::NowNanosCoarse()
  //
  // The same time, read more cheaply and possibly lagging NowNanos() by a
  // few milliseconds (never ahead of it), for bookkeeping that tolerates
  // that, such as placing an outcome in a circuit breaker's sliding window on
  // every request. Defaults to NowNanos().
  virtual int64_t NowNanosCoarse() const { return NowNanos(); }
};

// SteadyClock
//
// `std::chrono::steady_clock`. Thread-safe and stateless.
class SteadyClock final : public Clock {
 public:
  int64_t NowNanos() const override;
  // SteadyClock::NowNanosCoarse()
  //
  // CLOCK_MONOTONIC_COARSE where the platform has it (Linux: about 5 ns
  // instead of about 25 ns, at the resolution of the kernel tick).
  int64_t NowNanosCoarse() const override;

  // SteadyClock::Instance()
  //
  // The process-wide instance used when a host injects no clock.
  static SteadyClock& Instance();
};

// ManualClock
//
// A clock that moves only when told to: the deterministic tests' clock.
// Thread-safe: reads and advances are atomic.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t start_nanos = 0) : now_(start_nanos) {}

  int64_t NowNanos() const override { return now_.load(std::memory_order_acquire); }

  // ManualClock::Advance()
  //
  // Moves time forward by `d`; negative durations are ignored (the clock is
  // monotonic).
  void Advance(absl::Duration d);

  // ManualClock::Set()
  //
  // Sets the current time; values before the current time are ignored.
  void Set(int64_t nanos);

 private:
  std::atomic<int64_t> now_;
};

}  // namespace smg

#endif  // SMGCORE_CLOCK_H_
