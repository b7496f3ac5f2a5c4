#include "policies/cache_aware/cache_aware_policy.h"

#include <algorithm>
#include <iterator>
#include <limits>
#include <optional>

namespace smg {
namespace {

using internal::LoadRange;

TreeOptions TreeOptionsFor(const CacheAwareOptions& o, size_t page_size) {
  TreeOptions t;
  t.page_size = page_size;
  t.budget_units = o.max_tree_size;
  t.evict_inline = o.evict_inline;
  t.evict_headroom = o.evict_headroom;
  return t;
}

// The candidates whose loads a selection reads: all of them up to the sample
// size (or always, when sampling is off), else `size` distinct candidates from
// a random start with a random stride coprime with n. A prime larger than any
// fleet is coprime with every n, so the walk never repeats an index.
struct LoadSample {
  size_t start = 0;
  size_t stride = 1;
  size_t size = 0;
  size_t n = 0;
  // Calls visit(i) for each sampled index in order (start, start + stride,
  // ... mod n) without a division per candidate. The walk is two interleaved
  // chains, even and odd steps, each advancing by twice the stride: the
  // add-compare-subtract of one step is a dependency of ~3 cycles, which a
  // single chain made the floor of a scan whose other work is three loads
  // (64 workers: 118 -> 112 ns per cache_aware selection). The fields are
  // copied first: `visit` reads atomics with acquire, after which members
  // would be loaded again.
  template <typename Visit>
  void ForEach(Visit&& visit) const {
    ForEachOfFirst(size, visit);
  }
  // The same for the first `count` (at most `size`) indexes only.
  template <typename Visit>
  void ForEachOfFirst(size_t count, Visit&& visit) const {
    const size_t wrap = n;
    if (count == 0) return;
    const size_t step2 = stride * 2 >= wrap ? stride * 2 - wrap : stride * 2;
    size_t even = start;
    size_t odd = start + stride >= wrap ? start + stride - wrap : start + stride;
    size_t k = 0;
    for (; k + 1 < count; k += 2) {
      visit(even);
      visit(odd);
      even += step2;
      if (even >= wrap) even -= wrap;
      odd += step2;
      if (odd >= wrap) odd -= wrap;
    }
    if (k < count) visit(even);
  }
};

LoadSample ChooseSample(size_t n, size_t sample_size, RandomSource& random) {
  if (sample_size == 0 || n <= sample_size) return {0, 1, n, n};
  static constexpr uint64_t kStridePrimes[] = {2147483647, 2147483629, 2147483587, 2147483579};
  const uint64_t prime = kStridePrimes[random.Uniform(std::size(kStridePrimes))];
  return {static_cast<size_t>(random.Uniform(n)), static_cast<size_t>(prime % n), sample_size, n};
}

// The range of in-flight counts over the live candidates among the first
// `count` of `sample`.
LoadRange ScanLoads(const CandidateSet& candidates, const LoadSample& sample, size_t count) {
  LoadRange range;
  const absl::Span<const WorkerPtr> workers = candidates.workers();
  sample.ForEachOfFirst(count, [&](size_t i) {
    const Worker& w = *workers[i];
    if (w.removed()) return;
    range.Add(w.in_flight());
  });
  return range;
}

// The range the balance check compares. With every candidate read it is
// exact and nothing is remembered. From a sample, only its first quarter is
// read: the range is over those readings and the calling thread's previous
// selections' (LoadWindows), so that it still spans as many readings as the
// sample has, at most three selections old, for a quarter of the reads.
LoadRange CheckedLoads(const CandidateSet& candidates, const LoadSample& sample, internal::LoadWindows& windows) {
  if (sample.size == sample.n) return ScanLoads(candidates, sample, sample.size);
  const size_t part = (sample.size + internal::LoadWindows::kParts - 1) / internal::LoadWindows::kParts;
  return windows.Record(ScanLoads(candidates, sample, part));
}

// The least loaded live sampled candidate; ties go to fewer requests served,
// then to the first in sample order (the lowest index when every candidate
// is read). SMG's tie-break (smg#1714). Its own pass, taken only by the
// selections that fall back on it: reading three more counters of every
// candidate that ties on load cost the common path ~2 ns per candidate.
// 0 when every sampled candidate was removed meanwhile (any index will do).
size_t LeastLoaded(const CandidateSet& candidates, const LoadSample& sample) {
  size_t best = 0;
  int64_t best_load = std::numeric_limits<int64_t>::max();
  uint64_t best_served = 0;
  const absl::Span<const WorkerPtr> workers = candidates.workers();
  sample.ForEach([&](size_t i) {
    const Worker& w = *workers[i];
    if (w.removed()) return;
    const int64_t load = w.in_flight();
    if (load > best_load) return;
    const uint64_t served = w.requests_served();
    if (load < best_load || served < best_served) {
      best = i;
      best_load = load;
      best_served = served;
    }
  });
  return best;
}

}  // namespace

CacheAwarePolicy::CacheAwarePolicy(CacheAwareOptions options, const Clock* clock,
                                   RandomSource* random)
    : options_(options),
      random_(random),
      text_tree_(TreeOptionsFor(options, 1)),
      token_tree_(TreeOptionsFor(options, options.token_page_size)),
      last_eviction_nanos_(clock->NowNanos()) {}

absl::StatusOr<size_t> CacheAwarePolicy::Select(const RouteRequest& request,
                                                const CandidateSet& candidates) {
  if (!request.tokens.empty()) return Route(token_tree_, request.tokens, candidates);
  return Route(text_tree_, TextKey(request.text), candidates);
}

template <typename Unit>
size_t CacheAwarePolicy::Route(RadixTree<Unit>& tree, absl::Span<const Unit> key,
                               const CandidateSet& candidates) {
  const LoadSample sample = ChooseSample(candidates.size(), options_.load_sample_size, *random_);
  const LoadRange load = CheckedLoads(candidates, sample, load_windows_);
  if (!load.any_live()) return 0;  // every candidate removed meanwhile: any index will do
  // A prompt too short to store (empty text, less than one token page) has
  // no cache to follow: least loaded, nothing recorded.
  if (key.size() < tree.options().page_size) return LeastLoaded(candidates, sample);

  const bool imbalanced =
      load.max - load.min > options_.balance_abs_threshold &&
      static_cast<double>(load.max) > options_.balance_rel_threshold * static_cast<double>(load.min);

  // Among `owners` (MRU first), the live candidate with the fewest requests
  // in flight and at most `max_load`; ties keep the more recent owner.
  auto best_owner = [&](const PrefixMatch& match, int64_t max_load) -> std::optional<size_t> {
    std::optional<size_t> best;
    int64_t best_load = 0;
    for (TenantId owner : match.owners) {
      std::optional<size_t> index = candidates.IndexOf(owner);
      if (!index.has_value() || candidates[*index].removed()) continue;
      const int64_t l = candidates[*index].in_flight();
      if (l > max_load) continue;
      if (!best.has_value() || l < best_load) {
        best = index;
        best_load = l;
      }
    }
    return best;
  };

  // An imbalanced fleet goes to its least loaded worker unless locality
  // picks an owner: found before the tree's lock is taken.
  std::optional<size_t> chosen;
  if (imbalanced) {
    counters_.Add(kImbalanced, 1);
    chosen = LeastLoaded(candidates, sample);
  }
  auto choose = [&](const PrefixMatch& match) -> TenantId {
    if (match.key_units > 0) {
      // ceil(10 × matched / key) in integers: a ratio on a bucket bound lands
      // in that bucket, as Prometheus' `le` requires.
      const size_t bucket = (match.matched_units * 10 + match.key_units - 1) / match.key_units;
      counters_.Add(kRatioBucket0 + std::min<size_t>(bucket, PolicyStats::kMatchRatioBuckets - 1), 1);
      counters_.Add(kRatioSumMicros, match.matched_units * 1'000'000 / match.key_units);
    }
    if (imbalanced) {
      // Locality inside the near-least-loaded window (sglang#32195), if on.
      if (options_.imbalance_locality_window > 0 && match.matched_units > 0) {
        if (auto owner = best_owner(match, load.min + options_.imbalance_locality_window)) {
          chosen = *owner;
        }
      }
    } else {
      const double ratio = match.key_units == 0 ? 0.0
                                                : static_cast<double>(match.matched_units) /
                                                      static_cast<double>(match.key_units);
      std::optional<size_t> owner;
      if (ratio > options_.cache_threshold) owner = best_owner(match, std::numeric_limits<int64_t>::max());
      if (owner.has_value()) {
        chosen = *owner;
        counters_.Add(kHits, 1);
      } else {
        // No usable cached prefix: the worker holding the least cached data,
        // ties to the less loaded one.
        counters_.Add(kMisses, 1);
        size_t best_units = std::numeric_limits<size_t>::max();
        int64_t best_load = std::numeric_limits<int64_t>::max();
        sample.ForEach([&](size_t i) {
          const Worker& w = candidates[i];
          if (w.removed()) return;
          const size_t units = tree.tenant_units(w.id());
          const int64_t l = w.in_flight();
          if (units < best_units || (units == best_units && l < best_load)) {
            best_units = units;
            best_load = l;
            chosen = i;
          }
        });
        // Every sampled candidate removed since the load scan.
        if (!chosen.has_value()) chosen = LeastLoaded(candidates, sample);
      }
    }
    // Never record a worker that is being removed (see the file comment).
    return candidates[*chosen].removed() ? kNoTenant : candidates[*chosen].id();
  };
  tree.MatchAndInsert(key, choose);
  return *chosen;  // MatchAndInsert always calls `choose`
}

void CacheAwarePolicy::OnWorkerRemoved(WorkerId id) {
  text_tree_.RemoveTenant(id);
  token_tree_.RemoveTenant(id);
}

void CacheAwarePolicy::Maintain(int64_t now_nanos) {
  int64_t last = last_eviction_nanos_.load(std::memory_order_relaxed);
  const int64_t interval = absl::ToInt64Nanoseconds(options_.eviction_interval);
  if (now_nanos - last < interval) return;
  // One maintainer per interval even if several threads call in.
  if (!last_eviction_nanos_.compare_exchange_strong(last, now_nanos, std::memory_order_relaxed)) {
    return;
  }
  text_tree_.Evict();
  token_tree_.Evict();
}

size_t CacheAwarePolicy::EvictNow() { return text_tree_.Evict() + token_tree_.Evict(); }

PolicyStats CacheAwarePolicy::stats() const {
  PolicyStats s;
  s.tree_units = text_tree_.stored_units() + token_tree_.stored_units();
  s.tree_bytes = text_tree_.memory_bytes() + token_tree_.memory_bytes();
  s.evicted_units = text_tree_.evicted_units_total() + token_tree_.evicted_units_total();
  s.imbalanced_selections = counters_.Sum(kImbalanced);
  s.cache_hits = counters_.Sum(kHits);
  s.cache_misses = counters_.Sum(kMisses);
  for (size_t i = 0; i < PolicyStats::kMatchRatioBuckets; ++i) {
    s.match_ratio_counts[i] = counters_.Sum(kRatioBucket0 + i);
  }
  s.match_ratio_sum = static_cast<double>(counters_.Sum(kRatioSumMicros)) / 1e6;
  return s;
}

}  // namespace smg
