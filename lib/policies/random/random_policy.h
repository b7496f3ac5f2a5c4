// random: uniform over the healthy candidates.
#ifndef SMGCORE_LIB_POLICIES_RANDOM_RANDOM_POLICY_H_
#define SMGCORE_LIB_POLICIES_RANDOM_RANDOM_POLICY_H_

#include "smgcore/policy.h"
#include "smgcore/random.h"

namespace smg {

class RandomPolicy final : public Policy {
 public:
  explicit RandomPolicy(RandomSource* random) : random_(random) {}

  // smg::Policy
  absl::string_view name() const override { return "random"; }
  absl::StatusOr<size_t> Select(const RouteRequest& request,
                                const CandidateSet& candidates) override;

 private:
  RandomSource* const random_;
};

}  // namespace smg

#endif  // SMGCORE_LIB_POLICIES_RANDOM_RANDOM_POLICY_H_
