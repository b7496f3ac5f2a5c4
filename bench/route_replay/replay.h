// The route-replay protocol of shared/workloads/README.md, run on one
// smgcore radix tree:
//
//   * W workers w0 .. w{W-1} (tenants 1 .. W), one tree shared by all;
//   * request i: match it against the tree; if matched/len > 0.5 choose the
//     owner (the most recently used owner of the deepest match), else
//     w{i mod W}; then insert it for the chosen worker. smgcore does both in
//     one fused `MatchAndInsert` descent;
//   * with T threads, thread t takes the requests i = t (mod T), all
//     starting together on one tree;
//   * with R repeats, the file is replayed R times into the same tree.
//
// With a budget, the replaying threads also keep the tree within it: after a
// request that leaves the tree over budget, the thread calls `Evict()` and
// that time is accounted separately, so eviction's share of the replay is
// measured in the same run.
#ifndef SMGCORE_BENCH_ROUTE_REPLAY_REPLAY_H_
#define SMGCORE_BENCH_ROUTE_REPLAY_REPLAY_H_

#include <cstddef>
#include <cstdint>

#include "route_replay/request_set.h"
#include "smgcore/radix_tree.h"

namespace route_replay {

// ReplayOptions
struct ReplayOptions {
  // Workers (tenants 1 .. workers).
  size_t workers = 8;
  // Replaying threads.
  size_t threads = 1;
  // Passes over the requests.
  size_t repeat = 1;
  // Tree budget in units; 0 = unbounded (no eviction).
  size_t budget_units = 0;
  // When > 0, each replaying thread first makes this many bytes of its
  // malloc arena resident (PrefaultHeap), before the common start: threads
  // other than the main one allocate from arenas of their own.
  size_t prefault_bytes = 0;
};

// ReplayResult
struct ReplayResult {
  // Wall-clock seconds from the common start to the last thread's end.
  double seconds = 0;
  // Requests replayed (requests in the file x repeat).
  size_t requests = 0;
  // Sum of the matched lengths, in units.
  size_t matched_units = 0;
  // Seconds the threads spent in `Evict()`, summed over threads.
  double evict_seconds = 0;
  // Evict() calls, and the largest tree memory seen just before one (the
  // peak: the tree is largest right before it is trimmed).
  size_t evict_calls = 0;
  size_t peak_tree_bytes = 0;
  size_t peak_stored_units = 0;
  // Over the timed replay, not counting the threads' prefaulting before the
  // common start: the process's minor page faults, and the growth of its
  // resident set (/proc/self/statm; 0 if it shrank).
  size_t minor_faults = 0;
  size_t rss_growth_bytes = 0;
};

// Replay()
//
// Runs the protocol over `requests` into `tree` (whose page size and budget
// the caller chose).
template <typename Unit>
ReplayResult Replay(smg::RadixTree<Unit>& tree, const RequestSet<Unit>& requests, const ReplayOptions& options);

extern template ReplayResult Replay(smg::RadixTree<uint8_t>&, const RequestSet<uint8_t>&, const ReplayOptions&);
extern template ReplayResult Replay(smg::RadixTree<uint32_t>&, const RequestSet<uint32_t>&,
                                    const ReplayOptions&);

}  // namespace route_replay

#endif  // SMGCORE_BENCH_ROUTE_REPLAY_REPLAY_H_
