#include "route_replay/floor.h"

#include <xxhash.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>

namespace route_replay {
namespace {

using Clock = std::chrono::steady_clock;

// Keeps results alive so the compiler cannot drop the work.
volatile uint64_t g_sink = 0;

// Spins until `word` holds `want`, yielding every so often.
void AwaitValue(const std::atomic<uint64_t>& word, uint64_t want) {
  for (uint32_t spins = 1; word.load(std::memory_order_acquire) != want; ++spins) {
    if (spins % 4096 == 0) std::this_thread::yield();
  }
}

}  // namespace

template <typename Unit>
FloorResult MeasureFloor(const RequestSet<Unit>& requests, const RequestSet<Unit>& copy, size_t passes) {
  const size_t n = requests.size();
  const double count = static_cast<double>(n * passes);
  FloorResult floor;

  uint64_t differ = 0;
  Clock::time_point start = Clock::now();
  for (size_t pass = 0; pass < passes; ++pass) {
    for (size_t i = 0; i < n; ++i) {
      const auto a = requests[i];
      const auto b = copy[i];
      differ += std::memcmp(a.data(), b.data(), a.size() * sizeof(Unit)) != 0;
    }
  }
  floor.memcmp_ns_per_request = std::chrono::duration<double, std::nano>(Clock::now() - start).count() / count;
  g_sink = differ;

  uint64_t hashes = 0;
  start = Clock::now();
  for (size_t pass = 0; pass < passes; ++pass) {
    for (size_t i = 0; i < n; ++i) {
      const auto a = requests[i];
      hashes ^= XXH3_64bits(a.data(), a.size() * sizeof(Unit));
    }
  }
  floor.xxh3_ns_per_request = std::chrono::duration<double, std::nano>(Clock::now() - start).count() / count;
  g_sink = hashes;
  return floor;
}

void KeepFastest(FloorResult& best, const FloorResult& run) {
  best.memcmp_ns_per_request = std::min(best.memcmp_ns_per_request, run.memcmp_ns_per_request);
  best.xxh3_ns_per_request = std::min(best.xxh3_ns_per_request, run.xxh3_ns_per_request);
  best.fault_ns_per_page = std::min(best.fault_ns_per_page, run.fault_ns_per_page);
  best.line_transfer_ns = std::min(best.line_transfer_ns, run.line_transfer_ns);
}

double LineTransferNs(size_t round_trips) {
  if (round_trips == 0) return 0;
  alignas(64) std::atomic<uint64_t> word{0};
  // The other thread answers each odd value with the next even one.
  std::thread answerer([&] {
    for (uint64_t i = 0; i < round_trips; ++i) {
      AwaitValue(word, 2 * i + 1);
      word.store(2 * i + 2, std::memory_order_release);
    }
  });
  const Clock::time_point start = Clock::now();
  for (uint64_t i = 0; i < round_trips; ++i) {
    word.store(2 * i + 1, std::memory_order_release);
    AwaitValue(word, 2 * i + 2);
  }
  const double ns = std::chrono::duration<double, std::nano>(Clock::now() - start).count();
  answerer.join();
  return ns / static_cast<double>(round_trips) / 2;
}

template FloorResult MeasureFloor(const RequestSet<uint8_t>&, const RequestSet<uint8_t>&, size_t);
template FloorResult MeasureFloor(const RequestSet<uint32_t>&, const RequestSet<uint32_t>&, size_t);

}  // namespace route_replay
