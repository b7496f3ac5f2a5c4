// cache_aware: SMG's prefix-cache-aware algorithm over radix trees, with the
// improvements documented on CacheAwareOptions (smgcore/policy_config.h).
//
// One text tree (bytes) and one token tree (pages of token ids) per policy
// instance, i.e. per model and leg. The trees learn from routing decisions:
// every routed prompt is recorded for the worker it went to, the way the
// worker's KV cache will hold it.
//
// Per request: one pass over the candidates' in-flight counts for the
// imbalance check (every candidate in small fleets; in large ones a quarter of
// a bounded random sample, with the thread's recent readings, see
// CacheAwareOptions::load_sample_size and load_window.h), then one fused
// match-and-insert descent of the tree. The least loaded and the least cached
// worker, when a selection needs one, come from a pass over the whole sample. A candidate that was removed while
// the selection runs is never recorded in the tree: the decision is made
// under the tree's lock and checks the worker's removed flag, which
// RemoveWorker sets before purging the tree.
#ifndef SMGCORE_LIB_POLICIES_CACHE_AWARE_CACHE_AWARE_POLICY_H_
#define SMGCORE_LIB_POLICIES_CACHE_AWARE_CACHE_AWARE_POLICY_H_

#include <atomic>
#include <cstdint>

#include "policies/cache_aware/load_window.h"
#include "smgcore/clock.h"
#include "smgcore/policy.h"
#include "smgcore/policy_config.h"
#include "smgcore/radix_tree.h"
#include "smgcore/random.h"
#include "striped_counters.h"

namespace smg {

class CacheAwarePolicy final : public Policy {
 public:
  CacheAwarePolicy(CacheAwareOptions options, const Clock* clock, RandomSource* random);

  // smg::Policy
  absl::string_view name() const override { return "cache_aware"; }
  absl::StatusOr<size_t> Select(const RouteRequest& request,
                                const CandidateSet& candidates) override;
  void OnWorkerRemoved(WorkerId id) override;
  void Maintain(int64_t now_nanos) override;
  size_t EvictNow() override;
  PolicyStats stats() const override;

  // CacheAwarePolicy::text_tree() / token_tree()
  //
  // The trees, for tests and introspection.
  const TextTree& text_tree() const { return text_tree_; }
  const TokenTree& token_tree() const { return token_tree_; }

 private:
  template <typename Unit>
  size_t Route(RadixTree<Unit>& tree, absl::Span<const Unit> key, const CandidateSet& candidates);

  const CacheAwareOptions options_;
  RandomSource* const random_;
  TextTree text_tree_;
  TokenTree token_tree_;
  std::atomic<int64_t> last_eviction_nanos_;

  // The balance check's recent readings, per thread (load_window.h).
  internal::LoadWindows load_windows_;

  // Per-request statistics, striped per thread (they are bumped on every
  // Select from every routing thread). Indexes: the Counter values, then the
  // match ratio histogram (PolicyStats::match_ratio_counts). The ratio sum is
  // kept in millionths so that it is one integer add.
  enum Counter : size_t { kImbalanced, kHits, kMisses, kRatioSumMicros, kRatioBucket0 };
  internal::StripedCounters<kRatioBucket0 + PolicyStats::kMatchRatioBuckets> counters_;
};

}  // namespace smg

#endif  // SMGCORE_LIB_POLICIES_CACHE_AWARE_CACHE_AWARE_POLICY_H_
