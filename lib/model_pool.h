// Per-model routing state and its immutable snapshots.
//
// A ModelPool lives as long as its model has workers. It owns the model's
// long-lived policies (one per leg: regular, prefill, decode) and its worker
// lists; the router mutates it only under its registry mutex. After each
// change the router asks it for a ModelView: the immutable per-model snapshot
// that Select() reads without any lock.
#ifndef SMGCORE_LIB_MODEL_POOL_H_
#define SMGCORE_LIB_MODEL_POOL_H_

#include <array>
#include <atomic>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "policies/consistent_hash/hash_ring.h"
#include "smgcore/policy.h"
#include "smgcore/policy_config.h"
#include "smgcore/router.h"
#include "smgcore/worker.h"

namespace smg {

// ModelView: what Select() reads for one model.
struct ModelView {
  // Keeps the policies alive while a selection runs on this view.
  std::shared_ptr<ModelPool> pool;
  // Candidates of each leg, indexed by WorkerType.
  std::array<std::shared_ptr<const CandidateSet>, kWorkerTypeCount> legs;
  // Registered workers of each leg, available or not (NotFound vs
  // Unavailable).
  std::array<size_t, kWorkerTypeCount> members{};
  // Why the others are unavailable, per leg, for error messages.
  struct Unavailable {
    size_t not_ready = 0;  // pending, not_ready or failed
    size_t draining = 0;
    size_t breaker = 0;  // breaker open, or half-open with every probe slot taken
  };
  std::array<Unavailable, kWorkerTypeCount> unavailable{};
  // The earliest instant (clock nanos) at which an open breaker of a ready
  // worker may turn half-open; kNever when none is open.
  int64_t next_reopen_nanos = kNever;
  static constexpr int64_t kNever = std::numeric_limits<int64_t>::max();
};

// RouterSnapshot: the models, as published by the router.
struct RouterSnapshot {
  absl::flat_hash_map<std::string, std::shared_ptr<const ModelView>> models;
};

class ModelPool : public std::enable_shared_from_this<ModelPool> {
 public:
  // ModelPool::Create()
  //
  // Builds the three legs' policies from `policies`.
  static absl::StatusOr<std::shared_ptr<ModelPool>> Create(std::string model,
                                                           const PolicySet& policies,
                                                           const PolicyContext& context);

  const std::string& model() const { return model_; }
  Policy& policy(WorkerType leg) const { return *legs_[Index(leg)].policy; }
  size_t size() const;

  // ModelPool::Add()
  //
  // Adds `worker` to its leg and wires its leg in-flight counter.
  void Add(const WorkerPtr& worker);
  // ModelPool::Remove()
  //
  // Removes the worker from its leg and purges it from the leg's policy.
  void Remove(const Worker& worker);

  // ModelPool::ForEachMember()
  void ForEachMember(const std::function<void(const WorkerPtr&)>& fn) const;

  // ModelPool::BuildView()
  //
  // The current immutable snapshot. Each leg's ring is made lazily, by the
  // first selection that needs it, as an incremental update of the last ring
  // made for that leg (shared unchanged when only health or weights
  // changed): publishing costs no ring work, so adding N workers one at a
  // time is not O(N x ring).
  std::shared_ptr<const ModelView> BuildView();

 private:
  struct Leg {
    PolicyPtr policy;
    std::vector<WorkerPtr> members;  // ordered by id
    std::shared_ptr<LegLoad> in_flight = std::make_shared<LegLoad>();
    // The last ring made for this leg, the base of the next incremental
    // update (written by whichever selection makes a ring).
    std::shared_ptr<std::atomic<std::shared_ptr<const HashRing>>> latest_ring =
        std::make_shared<std::atomic<std::shared_ptr<const HashRing>>>();
  };
  static size_t Index(WorkerType t) { return static_cast<size_t>(t); }

  explicit ModelPool(std::string model) : model_(std::move(model)) {}

  const std::string model_;
  std::array<Leg, kWorkerTypeCount> legs_;
};

}  // namespace smg

#endif  // SMGCORE_LIB_MODEL_POOL_H_
