#include "policies/consistent_hash/hash_ring.h"

#include <cmath>
#include <limits>
#include <string>

#include "absl/strings/str_cat.h"
#include "smgcore/policy.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace smg {

uint64_t HashBytes(absl::string_view bytes) { return XXH3_64bits(bytes.data(), bytes.size()); }

void HashRing::AppendPoints(const Worker& worker, uint32_t virtual_nodes,
                            std::vector<std::pair<uint64_t, WorkerId>>* out) {
  std::string key;
  for (uint32_t i = 0; i < virtual_nodes; ++i) {
    key.clear();
    absl::StrAppend(&key, worker.url(), "#", i);
    out->emplace_back(HashBytes(key), worker.id());
  }
}

std::shared_ptr<const HashRing> HashRing::Build(absl::Span<const WorkerPtr> members,
                                                uint32_t virtual_nodes) {
  return Update(nullptr, members, virtual_nodes);
}

std::shared_ptr<const HashRing> HashRing::Update(std::shared_ptr<const HashRing> previous,
                                                 absl::Span<const WorkerPtr> members,
                                                 uint32_t virtual_nodes) {
  if (previous != nullptr && previous->virtual_nodes_ != virtual_nodes) previous = nullptr;
  std::vector<WorkerId> ids;
  ids.reserve(members.size());
  for (const WorkerPtr& w : members) ids.push_back(w->id());
  std::sort(ids.begin(), ids.end());
  if (previous != nullptr && previous->member_ids_ == ids) return previous;

  auto ring = std::make_shared<HashRing>();
  ring->virtual_nodes_ = virtual_nodes;
  ring->member_ids_ = std::move(ids);
  const std::vector<WorkerId>& now = ring->member_ids_;
  auto is_member = [&](WorkerId id) { return std::binary_search(now.begin(), now.end(), id); };
  auto was_member = [&](WorkerId id) {
    return previous != nullptr &&
           std::binary_search(previous->member_ids_.begin(), previous->member_ids_.end(), id);
  };
  // Points of the workers that are new to the ring, sorted.
  std::vector<std::pair<uint64_t, WorkerId>> added;
  for (const WorkerPtr& w : members) {
    if (!was_member(w->id())) AppendPoints(*w, virtual_nodes, &added);
  }
  std::sort(added.begin(), added.end());

  const size_t kept_estimate = previous != nullptr ? previous->points_.size() : 0;
  ring->points_.reserve(kept_estimate + added.size());
  ring->owners_.reserve(kept_estimate + added.size());
  // Merge the surviving old points with the new ones; ties (64-bit
  // collisions) are ordered by id so the ring is deterministic.
  size_t i = 0;
  size_t j = 0;
  const size_t old_n = previous != nullptr ? previous->points_.size() : 0;
  while (i < old_n || j < added.size()) {
    if (i < old_n && !is_member(previous->owners_[i])) {
      ++i;
      continue;
    }
    const bool take_old =
        j == added.size() ||
        (i < old_n && std::pair(previous->points_[i], previous->owners_[i]) < added[j]);
    if (take_old) {
      ring->points_.push_back(previous->points_[i]);
      ring->owners_.push_back(previous->owners_[i]);
      ++i;
    } else {
      ring->points_.push_back(added[j].first);
      ring->owners_.push_back(added[j].second);
      ++j;
    }
  }
  return ring;
}

std::optional<size_t> PickOnRing(const CandidateSet& candidates, uint64_t hash, double load_factor,
                                 std::atomic<uint64_t>* skips) {
  const HashRing* ring = candidates.ring();
  if (ring == nullptr || candidates.empty()) return std::nullopt;
  int64_t cap = std::numeric_limits<int64_t>::max();
  if (load_factor > 0) {
    const double mean = static_cast<double>(candidates.leg_in_flight() + 1) /
                        static_cast<double>(candidates.size());
    cap = static_cast<int64_t>(std::ceil(load_factor * mean));
  }
  size_t chosen = 0;
  auto accept = [&](WorkerId id, bool bounded) {
    std::optional<size_t> index = candidates.IndexOf(id);
    if (!index.has_value()) return false;  // unhealthy: keep walking
    if (bounded && candidates[*index].in_flight() >= cap) {
      skips->fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    chosen = *index;
    return true;
  };
  if (ring->Walk(hash, [&](WorkerId id) { return accept(id, load_factor > 0); })) return chosen;
  if (ring->Walk(hash, [&](WorkerId id) { return accept(id, false); })) return chosen;
  return std::nullopt;
}

absl::StatusOr<size_t> SelectByKey(const CandidateSet& candidates, absl::string_view key,
                                   double load_factor, RandomSource& random,
                                   std::atomic<uint64_t>* skips) {
  if (key.empty()) return static_cast<size_t>(random.Uniform(candidates.size()));
  std::optional<size_t> chosen = PickOnRing(candidates, HashBytes(key), load_factor, skips);
  if (!chosen.has_value()) return absl::InternalError("candidate set has no hash ring");
  return *chosen;
}

}  // namespace smg
