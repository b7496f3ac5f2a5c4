// CreatePolicy(): builds the built-in policies from their configuration.
#include "policies/cache_aware/cache_aware_policy.h"
#include "policies/consistent_hash/consistent_hash_policy.h"
#include "policies/power_of_two/power_of_two_policy.h"
#include "policies/prefix_hash/prefix_hash_policy.h"
#include "policies/random/random_policy.h"
#include "policies/round_robin/round_robin_policy.h"
#include "smgcore/policy_config.h"

namespace smg {

absl::StatusOr<PolicyPtr> CreatePolicy(const PolicyConfig& config, const PolicyContext& context) {
  if (absl::Status s = ValidatePolicyConfig(config); !s.ok()) return s;
  const Clock* clock = context.clock != nullptr ? context.clock : &SteadyClock::Instance();
  RandomSource* random = context.random != nullptr ? context.random : &DefaultRandom::Instance();
  switch (config.kind) {
    case PolicyKind::kRandom:
      return std::make_unique<RandomPolicy>(random);
    case PolicyKind::kRoundRobin:
      return std::make_unique<RoundRobinPolicy>();
    case PolicyKind::kPowerOfTwo:
      return std::make_unique<PowerOfTwoPolicy>(config.power_of_two, random);
    case PolicyKind::kCacheAware:
      return std::make_unique<CacheAwarePolicy>(config.cache_aware, clock, random);
    case PolicyKind::kConsistentHash:
      return std::make_unique<ConsistentHashPolicy>(config.consistent_hash, random);
    case PolicyKind::kPrefixHash:
      return std::make_unique<PrefixHashPolicy>(config.prefix_hash, random);
    case PolicyKind::kCustom: {
      PolicyPtr policy = config.custom_factory(PolicyContext{clock, random});
      if (policy == nullptr) return absl::InvalidArgumentError("custom_factory returned null");
      return policy;
    }
  }
  return absl::InvalidArgumentError("unknown policy kind");
}

}  // namespace smg
