#include "smgcore/clock.h"

#include <time.h>

#include <chrono>

namespace smg {

int64_t SteadyClock::NowNanos() const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int64_t SteadyClock::NowNanosCoarse() const {
#if defined(__linux__) && defined(CLOCK_MONOTONIC_COARSE)
  // libstdc++'s steady_clock is CLOCK_MONOTONIC: same epoch, so the two
  // readings compare (the coarse one trails by at most a tick).
  timespec ts;
  if (clock_gettime(CLOCK_MONOTONIC_COARSE, &ts) == 0) {
    return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
  }
#endif
  return NowNanos();
}

SteadyClock& SteadyClock::Instance() {
  static SteadyClock clock;
  return clock;
}

void ManualClock::Advance(absl::Duration d) {
  const int64_t delta = absl::ToInt64Nanoseconds(d);
  if (delta > 0) now_.fetch_add(delta, std::memory_order_acq_rel);
}

void ManualClock::Set(int64_t nanos) {
  int64_t current = now_.load(std::memory_order_acquire);
  while (nanos > current &&
         !now_.compare_exchange_weak(current, nanos, std::memory_order_acq_rel)) {
  }
}

}  // namespace smg
