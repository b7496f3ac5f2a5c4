// power_of_two: two distinct random candidates; the less loaded one wins.
//
// Load is the engine load the host reported (Router::SetEngineLoad) when both
// candidates have one and the option is on, else the in-flight count. On a
// tie the first pick wins, which is itself uniformly random.
#ifndef SMGCORE_LIB_POLICIES_POWER_OF_TWO_POWER_OF_TWO_POLICY_H_
#define SMGCORE_LIB_POLICIES_POWER_OF_TWO_POWER_OF_TWO_POLICY_H_

#include "smgcore/policy.h"
#include "smgcore/policy_config.h"
#include "smgcore/random.h"

namespace smg {

class PowerOfTwoPolicy final : public Policy {
 public:
  PowerOfTwoPolicy(PowerOfTwoOptions options, RandomSource* random)
      : options_(options), random_(random) {}

  // smg::Policy
  absl::string_view name() const override { return "power_of_two"; }
  absl::StatusOr<size_t> Select(const RouteRequest& request,
                                const CandidateSet& candidates) override;

 private:
  const PowerOfTwoOptions options_;
  RandomSource* const random_;
};

}  // namespace smg

#endif  // SMGCORE_LIB_POLICIES_POWER_OF_TWO_POWER_OF_TWO_POLICY_H_
