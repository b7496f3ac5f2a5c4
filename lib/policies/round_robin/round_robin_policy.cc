#include "policies/round_robin/round_robin_policy.h"

namespace smg {

absl::StatusOr<size_t> RoundRobinPolicy::Select(const RouteRequest& /*request*/,
                                                const CandidateSet& candidates) {
  const uint64_t tick = counter_.fetch_add(1, std::memory_order_relaxed);
  const absl::Span<const uint32_t> rotation = candidates.weighted_rotation();
  if (rotation.empty()) return static_cast<size_t>(tick % candidates.size());
  return rotation[tick % rotation.size()];
}

}  // namespace smg
