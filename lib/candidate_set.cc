#include <algorithm>
#include <mutex>
#include <numeric>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "policies/consistent_hash/hash_ring.h"
#include "smgcore/policy.h"

namespace smg {
namespace {

// One cycle of an earliest-deadline-first weighted rotation over `workers`
// (see CandidateSet::weighted_rotation()).
std::vector<uint32_t> BuildWeightedRotation(absl::Span<const WorkerPtr> workers) {
  std::vector<uint64_t> weights;
  weights.reserve(workers.size());
  uint64_t divisor = 0;
  for (const WorkerPtr& w : workers) {
    weights.push_back(w->weight());
    divisor = std::gcd(divisor, uint64_t{w->weight()});
  }
  uint64_t total = 0;
  for (uint64_t& w : weights) total += (w /= divisor);
  if (total > CandidateSet::kMaxWeightedRotation) {
    const uint64_t unscaled_total = total;
    total = 0;
    for (uint64_t& w : weights) {
      w = std::max<uint64_t>(1, w * CandidateSet::kMaxWeightedRotation / unscaled_total);
      total += w;
    }
  }

  // Smooth weighted round robin (nginx's algorithm) over weight classes:
  // candidates of equal weight form one class whose weight is the sum of
  // theirs, and take the class's turns in rotation. Per cycle each class is
  // picked exactly its weight times, spread out, and each candidate exactly
  // its own weight times; grouping keeps the cost O(cycle * classes) rather
  // than O(cycle * candidates) for large fleets with few distinct weights.
  struct WeightClass {
    int64_t weight = 0;
    int64_t current = 0;
    std::vector<uint32_t> members;
    size_t next_member = 0;
  };
  std::vector<WeightClass> classes;
  {
    absl::flat_hash_map<uint64_t, size_t> class_of_weight;
    for (size_t i = 0; i < weights.size(); ++i) {
      auto [it, added] = class_of_weight.try_emplace(weights[i], classes.size());
      if (added) classes.emplace_back();
      WeightClass& c = classes[it->second];
      c.weight += static_cast<int64_t>(weights[i]);
      c.members.push_back(static_cast<uint32_t>(i));
    }
  }
  std::vector<uint32_t> rotation;
  rotation.reserve(total);
  while (rotation.size() < total) {
    WeightClass* best = nullptr;
    for (WeightClass& c : classes) {
      c.current += c.weight;
      if (best == nullptr || c.current > best->current) best = &c;  // ties: earlier class
    }
    best->current -= static_cast<int64_t>(total);
    rotation.push_back(best->members[best->next_member]);
    best->next_member = (best->next_member + 1) % best->members.size();
  }
  return rotation;
}

}  // namespace

struct CandidateSet::RingCell {
  std::once_flag once;
  RingFactory make;  // dropped once called
  std::shared_ptr<const HashRing> ring;
};

namespace {

std::vector<WorkerPtr> Routable(absl::Span<const WorkerPtr> members) {
  std::vector<WorkerPtr> workers;
  workers.reserve(members.size());
  for (const WorkerPtr& w : members) {
    if (w->routable()) workers.push_back(w);
  }
  return workers;
}

}  // namespace

std::shared_ptr<const CandidateSet> CandidateSet::Build(
    absl::Span<const WorkerPtr> members, std::shared_ptr<const HashRing> ring,
    std::shared_ptr<LegLoad> leg_in_flight) {
  std::shared_ptr<RingCell> cell;
  if (ring != nullptr) {
    cell = std::make_shared<RingCell>();
    cell->ring = std::move(ring);
  }
  return Assemble(Routable(members), std::move(cell), std::move(leg_in_flight));
}

std::shared_ptr<const CandidateSet> CandidateSet::BuildWithLazyRing(
    absl::Span<const WorkerPtr> members, RingFactory make_ring,
    std::shared_ptr<LegLoad> leg_in_flight) {
  std::shared_ptr<RingCell> cell;
  if (make_ring) {
    cell = std::make_shared<RingCell>();
    cell->make = std::move(make_ring);
  }
  return Assemble(Routable(members), std::move(cell), std::move(leg_in_flight));
}

const std::shared_ptr<const HashRing>& CandidateSet::shared_ring() const {
  static const std::shared_ptr<const HashRing> kNoRing;
  if (ring_ == nullptr) return kNoRing;
  RingCell& cell = *ring_;
  std::call_once(cell.once, [&cell] {
    if (cell.make) cell.ring = cell.make();
    cell.make = nullptr;  // frees what it captured (a copy of the members)
  });
  return cell.ring;
}

std::shared_ptr<const CandidateSet> CandidateSet::Without(
    absl::Span<const uint32_t> excluded, absl::Span<const uint32_t> also_excluded) const {
  auto is_excluded = [&](WorkerId id) {
    return std::find(excluded.begin(), excluded.end(), id) != excluded.end() ||
           std::find(also_excluded.begin(), also_excluded.end(), id) != also_excluded.end();
  };
  std::vector<WorkerPtr> workers;
  workers.reserve(workers_.size());
  for (const WorkerPtr& w : workers_) {
    if (!is_excluded(w->id())) workers.push_back(w);
  }
  return Assemble(std::move(workers), ring_, leg_in_flight_);
}

std::shared_ptr<const CandidateSet> CandidateSet::Assemble(
    std::vector<WorkerPtr> workers, std::shared_ptr<RingCell> ring,
    std::shared_ptr<LegLoad> leg_in_flight) {
  std::shared_ptr<CandidateSet> set(new CandidateSet());
  set->workers_ = std::move(workers);
  bool uniform = true;
  set->index_.reserve(set->workers_.size());
  for (size_t i = 0; i < set->workers_.size(); ++i) {
    const Worker& w = *set->workers_[i];
    if (w.weight() != set->workers_.front()->weight()) uniform = false;
    set->index_.emplace(w.id(), static_cast<uint32_t>(i));
  }
  if (!uniform) set->weighted_rotation_ = BuildWeightedRotation(set->workers_);
  set->ring_ = std::move(ring);
  set->leg_in_flight_ = std::move(leg_in_flight);
  return set;
}

std::optional<size_t> CandidateSet::IndexOf(WorkerId id) const {
  auto it = index_.find(id);
  if (it == index_.end()) return std::nullopt;
  return it->second;
}

}  // namespace smg
