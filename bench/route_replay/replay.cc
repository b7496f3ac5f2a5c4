#include "route_replay/replay.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "route_replay/process_memory.h"

namespace route_replay {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsBetween(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// What one replaying thread saw.
struct ThreadTally {
  size_t matched_units = 0;
  double evict_seconds = 0;
  size_t evict_calls = 0;
  size_t peak_tree_bytes = 0;
  size_t peak_stored_units = 0;
};

// Thread `t` of `options.threads`: requests i = t (mod T), `repeat` times.
template <typename Unit>
ThreadTally ReplayShare(smg::RadixTree<Unit>& tree, const RequestSet<Unit>& requests,
                        const ReplayOptions& options, size_t t) {
  ThreadTally tally;
  const size_t n = requests.size();
  const size_t workers = options.workers;
  for (size_t pass = 0; pass < options.repeat; ++pass) {
    for (size_t i = t; i < n; i += options.threads) {
      const absl::Span<const Unit> key = requests[i];
      auto result = tree.MatchAndInsert(key, [&](const smg::PrefixMatch& m) -> smg::TenantId {
        // matched/len > 0.5, in integers.
        if (!m.owners.empty() && m.matched_units * 2 > key.size()) return m.owners.front();
        return static_cast<smg::TenantId>(1 + i % workers);
      });
      tally.matched_units += result.match.matched_units;
      if (options.budget_units > 0 && tree.stored_units() > options.budget_units) {
        tally.peak_tree_bytes = std::max(tally.peak_tree_bytes, tree.memory_bytes());
        tally.peak_stored_units = std::max(tally.peak_stored_units, tree.stored_units());
        const Clock::time_point start = Clock::now();
        tree.Evict();
        tally.evict_seconds += SecondsBetween(start, Clock::now());
        ++tally.evict_calls;
      }
    }
  }
  return tally;
}

}  // namespace

template <typename Unit>
ReplayResult Replay(smg::RadixTree<Unit>& tree, const RequestSet<Unit>& requests, const ReplayOptions& options) {
  const size_t threads = std::max<size_t>(options.threads, 1);
  ReplayOptions effective = options;
  effective.threads = threads;
  effective.workers = std::max<size_t>(options.workers, 1);

  std::vector<ThreadTally> tallies(threads);
  Clock::time_point start;
  size_t faults_at_start = 0;
  size_t rss_at_start = 0;
  // The common start, after any prefaulting: what the replay is timed and
  // its faults and RSS growth are counted from.
  auto mark_start = [&] {
    faults_at_start = MinorFaults();
    rss_at_start = CurrentRssBytes();
    start = Clock::now();
  };
  if (threads == 1) {
    // The calling thread replays: nothing to start together.
    if (options.prefault_bytes > 0) PrefaultHeap(options.prefault_bytes);
    mark_start();
    tallies[0] = ReplayShare(tree, requests, effective, 0);
  } else {
    std::atomic<size_t> ready{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> pool;
    pool.reserve(threads);
    for (size_t t = 0; t < threads; ++t) {
      pool.emplace_back([&, t] {
        if (options.prefault_bytes > 0) PrefaultHeap(options.prefault_bytes);
        ready.fetch_add(1, std::memory_order_acq_rel);
        while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
        tallies[t] = ReplayShare(tree, requests, effective, t);
      });
    }
    // Every thread is waiting on `go`: they start together.
    while (ready.load(std::memory_order_acquire) < threads) std::this_thread::yield();
    mark_start();
    go.store(true, std::memory_order_release);
    for (std::thread& th : pool) th.join();
  }
  const Clock::time_point end = Clock::now();
  const size_t faults_at_end = MinorFaults();
  const size_t rss_at_end = CurrentRssBytes();

  ReplayResult result;
  result.seconds = SecondsBetween(start, end);
  result.requests = requests.size() * effective.repeat;
  result.minor_faults = faults_at_end - faults_at_start;
  result.rss_growth_bytes = rss_at_end > rss_at_start ? rss_at_end - rss_at_start : 0;
  for (const ThreadTally& tally : tallies) {
    result.matched_units += tally.matched_units;
    result.evict_seconds += tally.evict_seconds;
    result.evict_calls += tally.evict_calls;
    result.peak_tree_bytes = std::max(result.peak_tree_bytes, tally.peak_tree_bytes);
    result.peak_stored_units = std::max(result.peak_stored_units, tally.peak_stored_units);
  }
  result.peak_tree_bytes = std::max(result.peak_tree_bytes, tree.memory_bytes());
  result.peak_stored_units = std::max(result.peak_stored_units, tree.stored_units());
  return result;
}

template ReplayResult Replay(smg::RadixTree<uint8_t>&, const RequestSet<uint8_t>&, const ReplayOptions&);
template ReplayResult Replay(smg::RadixTree<uint32_t>&, const RequestSet<uint32_t>&, const ReplayOptions&);

}  // namespace route_replay
