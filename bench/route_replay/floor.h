// The floor a prompt router cannot beat: touching every byte of every prompt
// once; and what the machine charges any router, a fresh page and a cache
// line moved between cores. The replay tool times them in the same run as
// the replay, so the ratios are meaningful on a noisy machine.
#ifndef SMGCORE_BENCH_ROUTE_REPLAY_FLOOR_H_
#define SMGCORE_BENCH_ROUTE_REPLAY_FLOOR_H_

#include <cstddef>
#include <cstdint>

#include "route_replay/request_set.h"

namespace route_replay {

// FloorResult
struct FloorResult {
  // Nanoseconds per request of comparing it with `memcmp` against a copy.
  double memcmp_ns_per_request = 0;
  // Nanoseconds per request of hashing it with XXH3 (64-bit).
  double xxh3_ns_per_request = 0;
  // What the machine charges whatever the tree does, filled in by the
  // caller (MeasureFloor leaves them 0): a first-touch page fault, ns
  // (FirstTouchNsPerPage), and with several replaying threads one cache
  // line's move between two cores, ns (LineTransferNs).
  double fault_ns_per_page = 0;
  double line_transfer_ns = 0;
};

// KeepFastest()
//
// Lowers each figure of `best` to `run`'s where `run`'s is lower: the
// floors of several runs are the fastest of each.
void KeepFastest(FloorResult& best, const FloorResult& run);

// MeasureFloor()
//
// Reads every request of `requests` once per pass, `passes` times, first
// with memcmp against `copy` (an equal set in separate memory), then with
// XXH3; single-threaded.
template <typename Unit>
FloorResult MeasureFloor(const RequestSet<Unit>& requests, const RequestSet<Unit>& copy, size_t passes);

extern template FloorResult MeasureFloor(const RequestSet<uint8_t>&, const RequestSet<uint8_t>&, size_t);
extern template FloorResult MeasureFloor(const RequestSet<uint32_t>&, const RequestSet<uint32_t>&, size_t);

// LineTransferNs()
//
// What moving one written cache line between two threads' cores costs on
// this machine: two threads take turns writing one atomic word,
// `round_trips` times each way, and this returns half the mean round trip
// in nanoseconds. Every line that two routing threads both write (a lock
// word, a shared node's owner ticks) costs about this each time it changes
// hands, so it bounds what threads sharing one tree can gain. Both threads
// spin (yielding now and then, so a single-core machine still finishes).
double LineTransferNs(size_t round_trips);

}  // namespace route_replay

#endif  // SMGCORE_BENCH_ROUTE_REPLAY_FLOOR_H_
