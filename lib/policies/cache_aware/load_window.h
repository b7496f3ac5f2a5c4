// Internal: what the cache-aware policy's balance check remembers between
// selections in a fleet larger than its load sample.
//
// The check needs the range (least and most requests in flight) over a sample
// of the candidates. Reading the whole sample on every selection made the
// policy's decision cost grow with the sample: from 8 candidates read at 8
// workers to 32 from 64 workers up (78 -> 139 ns per decision at 4096). Loads
// change by one request per selection or finish, so readings a few selections
// old describe the fleet as well as fresh ones: each selection reads a
// quarter of its sample and checks the range over the last four selections'
// readings on its thread, which still spans a whole sample.
//
// "A few selections old" is counted in the thread's own selections, not in
// time: a thread that routed a burst and then nothing for a minute checks
// its next three selections against readings from the burst. Old readings
// can only widen the range, so the cost is at most three selections that
// see an imbalance that has passed and go to the least loaded sampled
// worker; none can miss an imbalance that their fresh readings show.
#ifndef SMGCORE_LIB_POLICIES_CACHE_AWARE_LOAD_WINDOW_H_
#define SMGCORE_LIB_POLICIES_CACHE_AWARE_LOAD_WINDOW_H_

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "thread_slot.h"

namespace smg {
namespace internal {

// LoadRange
//
// The least and the most requests in flight over some live candidates. The
// default (empty) range covers none and merges as the identity.
struct LoadRange {
  int64_t min = std::numeric_limits<int64_t>::max();
  int64_t max = std::numeric_limits<int64_t>::min();

  // LoadRange::any_live()
  //
  // False when the range covers no candidate (none read, or every one read
  // had been removed).
  bool any_live() const { return min <= max; }

  // LoadRange::Add()
  //
  // Widens the range to cover a candidate with `load` requests in flight.
  void Add(int64_t load) {
    min = std::min(min, load);
    max = std::max(max, load);
  }

  // LoadRange::Merge()
  //
  // Widens the range to cover `other`'s candidates too.
  void Merge(const LoadRange& other) {
    min = std::min(min, other.min);
    max = std::max(max, other.max);
  }
};

// LoadWindows
//
// Per thread (ThreadSlotIndex), the load ranges of that thread's last
// `kParts` selections. Thread-safe. A thread numbered past the windows of its
// own (4096 by default) shares one with others; a shared window mixes their
// readings, which leaves the check as approximate as a sample already is.
class LoadWindows {
 public:
  // Selections whose readings one check covers.
  static constexpr size_t kParts = 4;
  // Threads with a window of their own, by default.
  static constexpr size_t kDefaultMaxThreads = 4096;

  explicit LoadWindows(size_t max_threads = kDefaultMaxThreads) : windows_(max_threads) {}

  // LoadWindows::Record()
  //
  // Makes `fresh` (this selection's readings) the newest part of the calling
  // thread's window, dropping the oldest, and returns the range over the
  // window's parts: `fresh` merged with the thread's previous `kParts - 1`
  // selections (fewer on its first ones).
  LoadRange Record(const LoadRange& fresh) {
    const size_t number = ThreadSlotIndex();
    Window* own = windows_.Claim(number);
    Window& window = own != nullptr ? *own : windows_.Shared(number);
    const uint32_t next = window.next.load(std::memory_order_relaxed);
    const size_t part = next % kParts;
    window.next.store(next + 1, std::memory_order_relaxed);
    window.min[part].store(fresh.min, std::memory_order_relaxed);
    window.max[part].store(fresh.max, std::memory_order_relaxed);
    LoadRange range = fresh;
    for (size_t i = 0; i < kParts; ++i) {
      if (i == part) continue;
      range.Merge({window.min[i].load(std::memory_order_relaxed), window.max[i].load(std::memory_order_relaxed)});
    }
    return range;
  }

 private:
  // Relaxed atomics only because a shared window has several writers: the
  // parts are independent readings, and no order among them matters.
  struct alignas(64) Window {
    std::atomic<int64_t> min[kParts] = {std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::max(),
                                        std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::max()};
    std::atomic<int64_t> max[kParts] = {std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::min(),
                                        std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::min()};
    std::atomic<uint32_t> next{0};
  };
  static_assert(kParts == 4, "Window's initializers list one value per part");

  PerThreadSlots<Window, 16, 64> windows_;
};

}  // namespace internal
}  // namespace smg

#endif  // SMGCORE_LIB_POLICIES_CACHE_AWARE_LOAD_WINDOW_H_
