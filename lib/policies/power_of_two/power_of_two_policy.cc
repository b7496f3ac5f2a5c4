#include "policies/power_of_two/power_of_two_policy.h"

namespace smg {

absl::StatusOr<size_t> PowerOfTwoPolicy::Select(const RouteRequest& /*request*/,
                                                const CandidateSet& candidates) {
  const size_t n = candidates.size();
  if (n == 1) return size_t{0};
  const size_t first = static_cast<size_t>(random_->Uniform(n));
  size_t second = static_cast<size_t>(random_->Uniform(n - 1));
  if (second >= first) ++second;  // distinct, still uniform

  const Worker& a = candidates[first];
  const Worker& b = candidates[second];
  if (options_.use_engine_load) {
    const std::optional<double> load_a = a.engine_load();
    const std::optional<double> load_b = b.engine_load();
    if (load_a.has_value() && load_b.has_value()) return *load_b < *load_a ? second : first;
  }
  return b.in_flight() < a.in_flight() ? second : first;
}

}  // namespace smg
