// File: smgcore/policy.h
//
// The policy interface, in the shape of Envoy's load balancers: a policy
// object picks one worker from an immutable `CandidateSet` (the healthy
// workers of one model and one leg) for one `RouteRequest`.
//
// The router owns one policy instance per model and leg (regular, prefill,
// decode), so per-policy state such as cache-aware trees is per model. It calls
// `Select()` concurrently from any number of threads, and the membership hooks
// from the one thread that is changing the registry, under the registry's
// write lock, before the snapshot that reflects the change is published.
//
// The built-in policies are created from a `PolicyConfig` (policy_config.h);
// hosts may plug in their own through `PolicyConfig::custom_factory`.
#ifndef SMGCORE_POLICY_H_
#define SMGCORE_POLICY_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "smgcore/request.h"
#include "smgcore/worker.h"

namespace smg {

class HashRing;  // lib/policies/consistent_hash/hash_ring.h

// CandidateSet
//
// An immutable view of the workers a policy may choose from: the healthy
// workers of one model and one leg, ordered by id, with what policies need
// precomputed so that a selection does no per-request work proportional to
// the fleet: a weighted rotation for round robin, an id index, and
// (for the hashing policies) a ring over every worker of the leg. Built by
// the router on each registry change; thread-safe to read. The router's
// sets build their ring lazily, on the first ring() call: registering a
// fleet one worker at a time then costs no ring work per registration, and
// the first hashed selection afterwards builds one ring for the final
// membership.
class CandidateSet {
 public:
  // CandidateSet::Build()
  //
  // `members`: every worker of the leg, available or not, ordered by id; the
  // routable ones (Worker::routable()) become the candidates. `ring`: the leg's hash ring, or null.
  static std::shared_ptr<const CandidateSet> Build(
      absl::Span<const WorkerPtr> members, std::shared_ptr<const HashRing> ring,
      std::shared_ptr<LegLoad> leg_in_flight);

  // CandidateSet::RingFactory
  //
  // Makes the leg's ring; called at most once per set (and the sets derived
  // from it with Without()), by the first ring() call, from any thread.
  using RingFactory = std::function<std::shared_ptr<const HashRing>()>;

  // CandidateSet::BuildWithLazyRing()
  //
  // Build(), with the ring made by `make_ring` when first needed.
  static std::shared_ptr<const CandidateSet> BuildWithLazyRing(
      absl::Span<const WorkerPtr> members, RingFactory make_ring,
      std::shared_ptr<LegLoad> leg_in_flight);

  // CandidateSet::Without()
  //
  // A copy without the workers whose ids are in `excluded` or
  // `also_excluded`, sharing this set's ring. O(size()) and allocating: for
  // retries, not for every request.
  std::shared_ptr<const CandidateSet> Without(absl::Span<const uint32_t> excluded,
                                              absl::Span<const uint32_t> also_excluded = {}) const;

  // CandidateSet::size() / empty()
  size_t size() const { return workers_.size(); }
  bool empty() const { return workers_.empty(); }
  // CandidateSet::operator[]
  const Worker& operator[](size_t i) const { return *workers_[i]; }
  // CandidateSet::workers()
  absl::Span<const WorkerPtr> workers() const { return workers_; }

  // CandidateSet::IndexOf()
  //
  // The position of worker `id` among the candidates, if it is one. O(1).
  std::optional<size_t> IndexOf(WorkerId id) const;

  // CandidateSet::uniform_weights()
  //
  // True when every candidate has the same weight.
  bool uniform_weights() const { return weighted_rotation_.empty(); }
  // CandidateSet::weighted_rotation()
  //
  // For unequal weights: one cycle of a smooth weighted rotation, as
  // candidate indices (nginx's smooth weighted round robin over classes of
  // equal weight, rotating within a class): each candidate appears in
  // proportion to its weight, its turns spread over the cycle rather than
  // bunched.
  // Weights are divided by their gcd; a cycle longer than
  // kMaxWeightedRotation is scaled down proportionally (each weight >= 1).
  // Empty when the weights are uniform.
  absl::Span<const uint32_t> weighted_rotation() const { return weighted_rotation_; }
  static constexpr size_t kMaxWeightedRotation = size_t{1} << 16;

  // CandidateSet::ring()
  //
  // The hash ring over every worker of the leg (healthy or not, so a health
  // flip moves only that worker's keys), or null when the leg's policy did
  // not ask for one. Thread-safe; the first call may build the ring.
  const HashRing* ring() const { return shared_ring().get(); }
  // CandidateSet::shared_ring()
  const std::shared_ptr<const HashRing>& shared_ring() const;

  // CandidateSet::leg_in_flight()
  //
  // Requests in flight on every worker of the leg (healthy or not).
  int64_t leg_in_flight() const { return leg_in_flight_ ? leg_in_flight_->value() : 0; }

 private:
  CandidateSet() = default;
  // The ring, made once (candidate_set.cc); shared with derived sets.
  struct RingCell;
  static std::shared_ptr<const CandidateSet> Assemble(
      std::vector<WorkerPtr> workers, std::shared_ptr<RingCell> ring,
      std::shared_ptr<LegLoad> leg_in_flight);

  std::vector<WorkerPtr> workers_;
  std::vector<uint32_t> weighted_rotation_;
  absl::flat_hash_map<WorkerId, uint32_t> index_;
  std::shared_ptr<RingCell> ring_;  // null: no ring
  std::shared_ptr<LegLoad> leg_in_flight_;
};

// PolicyStats
//
// Counters a policy exposes for metrics and tests. Fields a policy does not
// track stay 0.
struct PolicyStats {
  // Units (bytes of text + token ids) stored in the policy's prefix trees.
  uint64_t tree_units = 0;
  // Bytes the policy's trees have allocated.
  uint64_t tree_bytes = 0;
  // Units evicted from the trees since creation.
  uint64_t evicted_units = 0;
  // Selections decided by the load-imbalance branch (cache_aware).
  uint64_t imbalanced_selections = 0;
  // Selections that went to an owner of a prefix above the cache threshold.
  uint64_t cache_hits = 0;
  // Balanced selections without such a prefix.
  uint64_t cache_misses = 0;
  // Selections where the hashed worker was over its load bound and the walk
  // moved on (consistent_hash, prefix_hash).
  uint64_t bounded_load_skips = 0;
  // The prefix match ratio (matched / request units) of each cache-aware
  // selection, as a histogram with buckets le 0, 0.1, 0.2, ..., 1.0:
  // match_ratio_counts[i] counts ratios in ((i-1)/10, i/10] (index 0: exactly
  // 0). match_ratio_sum is the sum of the ratios.
  static constexpr size_t kMatchRatioBuckets = 11;
  uint64_t match_ratio_counts[kMatchRatioBuckets] = {};
  double match_ratio_sum = 0;
};

// Policy
//
// Picks one candidate for a request. Implementations must be thread-safe:
// Select() runs concurrently on many threads, and concurrently with the
// membership hooks.
class Policy {
 public:
  virtual ~Policy() = default;

  // Policy::name()
  //
  // The policy's configuration name ("round_robin", "cache_aware", ...).
  virtual absl::string_view name() const = 0;

  // Policy::Select()
  //
  // Returns the index in `candidates` of the chosen worker. `candidates` is
  // never empty. An error is returned only when the request cannot be routed
  // by this policy at all (the router reports it to the host unchanged).
  virtual absl::StatusOr<size_t> Select(const RouteRequest& request,
                                        const CandidateSet& candidates) = 0;

  // Policy::ring_virtual_nodes()
  //
  // Virtual nodes per worker of the hash ring Select() reads through
  // candidates.ring(); 0 (the default) when the policy needs no ring.
  virtual uint32_t ring_virtual_nodes() const { return 0; }

  // Policy::OnWorkerRemoved()
  //
  // Worker `id` left the policy's model and leg: drop every trace of it (tree
  // ownership included), so no memory stays pinned by it.
  virtual void OnWorkerRemoved(WorkerId /*id*/) {}

  // Policy::Maintain()
  //
  // Periodic housekeeping (cache-aware eviction), called from
  // Router::RunMaintenance() with the injected clock's time. Cheap when there
  // is nothing to do.
  virtual void Maintain(int64_t /*now_nanos*/) {}

  // Policy::EvictNow()
  //
  // Forces eviction down to the policy's budget now, whatever the interval.
  // Returns the units evicted (0 for policies without a cache model).
  virtual size_t EvictNow() { return 0; }

  // Policy::stats()
  //
  // A consistent-enough copy of the policy's counters (each field is read
  // atomically; fields may be from slightly different instants).
  virtual PolicyStats stats() const { return {}; }
};

// PolicyPtr
using PolicyPtr = std::unique_ptr<Policy>;

}  // namespace smg

#endif  // SMGCORE_POLICY_H_
