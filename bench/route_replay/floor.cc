#include "route_replay/floor.h"

#include <xxhash.h>

#include <chrono>
#include <cstring>

namespace route_replay {
namespace {

using Clock = std::chrono::steady_clock;

// Keeps results alive so the compiler cannot drop the work.
volatile uint64_t g_sink = 0;

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

template FloorResult MeasureFloor(const RequestSet<uint8_t>&, const RequestSet<uint8_t>&, size_t);
template FloorResult MeasureFloor(const RequestSet<uint32_t>&, const RequestSet<uint32_t>&, size_t);

}  // namespace route_replay
