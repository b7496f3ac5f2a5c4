// prefix_hash: XXH3 of the prompt's first units on a consistent-hash ring
// with bounded load.
//
// Requests that share their first `prefix_tokens` tokens (or, for text-only
// requests, their first `prefix_bytes` bytes) land on the same worker while
// it is under its load bound, which keeps shared system prompts cache-warm
// without a tree. Requests without a prompt are routed at random.
#ifndef SMGCORE_LIB_POLICIES_PREFIX_HASH_PREFIX_HASH_POLICY_H_
#define SMGCORE_LIB_POLICIES_PREFIX_HASH_PREFIX_HASH_POLICY_H_

#include <atomic>

#include "smgcore/policy.h"
#include "smgcore/policy_config.h"
#include "smgcore/random.h"

namespace smg {

class PrefixHashPolicy final : public Policy {
 public:
  PrefixHashPolicy(PrefixHashOptions options, RandomSource* random)
      : options_(options), random_(random) {}

  // smg::Policy
  absl::string_view name() const override { return "prefix_hash"; }
  absl::StatusOr<size_t> Select(const RouteRequest& request,
                                const CandidateSet& candidates) override;
  uint32_t ring_virtual_nodes() const override { return options_.virtual_nodes; }
  PolicyStats stats() const override;

 private:
  const PrefixHashOptions options_;
  RandomSource* const random_;
  std::atomic<uint64_t> bounded_skips_{0};
};

}  // namespace smg

#endif  // SMGCORE_LIB_POLICIES_PREFIX_HASH_PREFIX_HASH_POLICY_H_
