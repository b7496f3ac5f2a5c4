#include "policies/random/random_policy.h"

namespace smg {

absl::StatusOr<size_t> RandomPolicy::Select(const RouteRequest& /*request*/,
                                            const CandidateSet& candidates) {
  return static_cast<size_t>(random_->Uniform(candidates.size()));
}

}  // namespace smg
