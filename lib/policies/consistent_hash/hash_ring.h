// A consistent-hash ring over the workers of one model and leg.
//
// Each worker gets `virtual_nodes` points, XXH3 of "<url>#<i>", so a worker
// keeps its points when it is replaced under the same URL and when other
// workers come and go. The ring is immutable once built and shared by every
// snapshot whose membership it matches.
#ifndef SMGCORE_LIB_POLICIES_CONSISTENT_HASH_HASH_RING_H_
#define SMGCORE_LIB_POLICIES_CONSISTENT_HASH_HASH_RING_H_

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "smgcore/random.h"
#include "smgcore/worker.h"

namespace smg {

class HashRing {
 public:
  // HashRing::Build()
  //
  // A ring over `members` (any order) with `virtual_nodes` points each.
  static std::shared_ptr<const HashRing> Build(absl::Span<const WorkerPtr> members,
                                               uint32_t virtual_nodes);

  // HashRing::Update()
  //
  // The ring for `members` (ordered by id) derived from `previous`: returns
  // `previous` itself when nothing changed, otherwise keeps its points for
  // workers still present, drops those of workers gone, and merges in the
  // new workers' points. O(points + new points * log) rather than a rebuild,
  // so adding workers one by one stays linear per add. `previous` may be null.
  static std::shared_ptr<const HashRing> Update(std::shared_ptr<const HashRing> previous,
                                                absl::Span<const WorkerPtr> members,
                                                uint32_t virtual_nodes);

  // HashRing::member_ids()
  //
  // The workers on the ring, ascending.
  absl::Span<const WorkerId> member_ids() const { return member_ids_; }

  // HashRing::Walk()
  //
  // Visits the ring's points clockwise from `hash` and returns the first
  // worker id for which `accept(id)` is true, or nullopt after a full turn.
  // `accept` may be called several times for the same worker.
  template <typename Accept>
  std::optional<WorkerId> Walk(uint64_t hash, Accept&& accept) const {
    const size_t n = points_.size();
    if (n == 0) return std::nullopt;
    size_t i = static_cast<size_t>(std::lower_bound(points_.begin(), points_.end(), hash) - points_.begin());
    for (size_t step = 0; step < n; ++step, ++i) {
      if (i == n) i = 0;
      const WorkerId id = owners_[i];
      if (accept(id)) return id;
    }
    return std::nullopt;
  }

  // HashRing::size()
  //
  // Number of points.
  size_t size() const { return points_.size(); }

 private:
  // Appends (hash, id) points of `worker` to `out`.
  static void AppendPoints(const Worker& worker, uint32_t virtual_nodes,
                           std::vector<std::pair<uint64_t, WorkerId>>* out);

  std::vector<uint64_t> points_;  // sorted by (hash, owner)
  std::vector<WorkerId> owners_;  // owners_[i] owns points_[i]
  std::vector<WorkerId> member_ids_;  // sorted
  uint32_t virtual_nodes_ = 0;
};

class CandidateSet;

// PickOnRing()
//
// Consistent hashing with bounded loads (Mirrokni, Thorup, Zadimoghaddam):
// walks `candidates.ring()` clockwise from `hash` to the first healthy
// candidate whose in-flight count is below
//   ceil(load_factor * (leg in-flight + 1) / candidates),
// counting each over-bound worker passed in `*skips`. load_factor 0 disables
// the bound. If every candidate is over the bound (possible when unhealthy
// workers still hold in-flight requests) the bound is dropped. Returns the
// candidate index, or nullopt when the set has no ring.
std::optional<size_t> PickOnRing(const CandidateSet& candidates, uint64_t hash, double load_factor,
                                 std::atomic<uint64_t>* skips);

// SelectByKey()
//
// What both ring policies do with their key: a random candidate when `key`
// is empty, else PickOnRing() of its XXH3 hash. Internal error when the set
// has no ring (the policy did not ask for one).
absl::StatusOr<size_t> SelectByKey(const CandidateSet& candidates, absl::string_view key,
                                   double load_factor, RandomSource& random,
                                   std::atomic<uint64_t>* skips);

// HashBytes()
//
// XXH3-64 of `bytes`, the one hash the policies use.
uint64_t HashBytes(absl::string_view bytes);

}  // namespace smg

#endif  // SMGCORE_LIB_POLICIES_CONSISTENT_HASH_HASH_RING_H_
