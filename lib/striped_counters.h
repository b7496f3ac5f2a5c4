// Internal: counters that every routing thread bumps on every request and
// that are read only for statistics.
//
// One std::atomic per counter puts every thread's increment on the same
// cache line, which then moves between cores on every request: two threads
// routing through one cache-aware policy ran 160-380 ns per request with its
// four per-request counters shared, against 128 ns without them. Here each
// thread adds to a stripe of its own; a read sums the stripes.
#ifndef SMGCORE_LIB_STRIPED_COUNTERS_H_
#define SMGCORE_LIB_STRIPED_COUNTERS_H_

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "thread_slot.h"

namespace smg {
namespace internal {

// StripedCounters
//
// `kCounters` 64-bit counters, indexed 0 .. kCounters - 1, added to modulo
// 2^64: a count that also goes down (LegLoad adds negative deltas as their
// two's complement) sums exactly as well, read back as a signed value.
// Thread-safe. Add() writes only the calling thread's stripe: `kStripes` in
// the object, more in blocks allocated for threads numbered past them
// (PerThreadSlots); threads numbered `max_threads` or above, or whose block
// could not be allocated, share the object's stripes, which stays exact.
// Sum() reads every stripe in use, so it sees each thread's adds in the
// order that thread made them, not a snapshot across counters.
template <size_t kCounters>
class StripedCounters {
  struct alignas(64) Stripe {
    std::atomic<uint64_t> values[kCounters] = {};
  };

 public:
  // Stripes in the object, and in each block for threads numbered past them.
  static constexpr size_t kStripes = 16;
  static constexpr size_t kBlockStripes = 64;
  // Threads with a stripe of their own, by default.
  static constexpr size_t kDefaultMaxThreads = 4096;

  explicit StripedCounters(size_t max_threads = kDefaultMaxThreads) : stripes_(max_threads) {}

  // StripedCounters::Add()
  void Add(size_t counter, uint64_t n) {
    const size_t number = ThreadSlotIndex();
    Stripe* own = stripes_.Claim(number);
    (own != nullptr ? *own : stripes_.Shared(number)).values[counter].fetch_add(n, std::memory_order_relaxed);
  }

  // StripedCounters::Sum()
  uint64_t Sum(size_t counter) const {
    uint64_t total = 0;
    stripes_.ForEach([&](const Stripe& stripe) { total += stripe.values[counter].load(std::memory_order_relaxed); });
    return total;
  }

 private:
  PerThreadSlots<Stripe, kStripes, kBlockStripes> stripes_;
};

}  // namespace internal
}  // namespace smg

#endif  // SMGCORE_LIB_STRIPED_COUNTERS_H_
