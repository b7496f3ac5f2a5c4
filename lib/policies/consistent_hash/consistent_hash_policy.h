// consistent_hash: a routing key hashed onto a ring of virtual nodes, with
// bounded load.
//
// Key precedence: RouteRequest::routing_key, then the configured key header
// (x-smg-routing-key), then the implicit keys authorization,
// x-forwarded-for and cookie (when enabled); a request with no key is routed
// at random. The ring holds every worker of the leg, healthy or not, so a
// worker going unhealthy moves only its own keys, to the next worker
// clockwise; the load bound (see PickOnRing) moves a hot key's overflow the
// same way.
#ifndef SMGCORE_LIB_POLICIES_CONSISTENT_HASH_CONSISTENT_HASH_POLICY_H_
#define SMGCORE_LIB_POLICIES_CONSISTENT_HASH_CONSISTENT_HASH_POLICY_H_

#include <atomic>

#include "smgcore/policy.h"
#include "smgcore/policy_config.h"
#include "smgcore/random.h"

namespace smg {

class ConsistentHashPolicy final : public Policy {
 public:
  ConsistentHashPolicy(ConsistentHashOptions options, RandomSource* random)
      : options_(std::move(options)), random_(random) {}

  // smg::Policy
  absl::string_view name() const override { return "consistent_hash"; }
  absl::StatusOr<size_t> Select(const RouteRequest& request,
                                const CandidateSet& candidates) override;
  uint32_t ring_virtual_nodes() const override { return options_.virtual_nodes; }
  PolicyStats stats() const override;

  // ConsistentHashPolicy::KeyOf()
  //
  // The routing key of `request` by the precedence above; empty when none.
  absl::string_view KeyOf(const RouteRequest& request) const;

 private:
  const ConsistentHashOptions options_;
  RandomSource* const random_;
  std::atomic<uint64_t> bounded_skips_{0};
};

}  // namespace smg

#endif  // SMGCORE_LIB_POLICIES_CONSISTENT_HASH_CONSISTENT_HASH_POLICY_H_
