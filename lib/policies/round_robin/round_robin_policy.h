// round_robin: rotation over the healthy candidates, weighted when weights
// differ.
//
// Equal weights: candidate (counter mod n). Weighted: entry (counter mod
// cycle) of the snapshot's precomputed weighted rotation
// (CandidateSet::weighted_rotation()): over every cycle each candidate is
// chosen in proportion to its weight, its turns spread out rather than in
// bursts. Both are O(1) per selection, one atomic increment.
#ifndef SMGCORE_LIB_POLICIES_ROUND_ROBIN_ROUND_ROBIN_POLICY_H_
#define SMGCORE_LIB_POLICIES_ROUND_ROBIN_ROUND_ROBIN_POLICY_H_

#include <atomic>
#include <cstdint>

#include "smgcore/policy.h"

namespace smg {

class RoundRobinPolicy final : public Policy {
 public:
  // smg::Policy
  absl::string_view name() const override { return "round_robin"; }
  absl::StatusOr<size_t> Select(const RouteRequest& request,
                                const CandidateSet& candidates) override;

 private:
  std::atomic<uint64_t> counter_{0};
};

}  // namespace smg

#endif  // SMGCORE_LIB_POLICIES_ROUND_ROBIN_ROUND_ROBIN_POLICY_H_
