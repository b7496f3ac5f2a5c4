// The tenant limiter's table of tracked tenants: sharded, bounded, evicting
// idle tenants.
#ifndef SMGCORE_LIB_ADMISSION_TENANT_TABLE_H_
#define SMGCORE_LIB_ADMISSION_TENANT_TABLE_H_

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <shared_mutex>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "admission/tenant_state.h"
#include "smgcore/tenant_limiter.h"

namespace smg {
namespace admission_internal {

// TenantTable
//
// Tenant name -> scope state, for at most `max_tracked` tenants. Sharded by
// name hash, each shard behind a reader/writer lock, so lookups of different
// (or the same, existing) tenants do not serialize. Thread-safe.
class TenantTable {
 public:
  // `limiter` supplies the clock and becomes every created state's
  // `limiter`.
  TenantTable(size_t max_tracked, std::shared_ptr<TenantLimiterShared> limiter)
      : max_tracked_(max_tracked), limiter_(std::move(limiter)) {}

  // TenantTable::FindOrCreatePinned()
  //
  // The tenant's state with one pin taken (the caller must drop it), created
  // full with `limit` when missing (the clock is read only then: a lookup
  // costs no clock read). When the table is full, first evicts idle tenants
  // (at most once a second on the clock while sweeps find nothing, so a
  // table of busy tenants does not cost a scan per request); null when it
  // stays full.
  std::shared_ptr<TenantScopeState> FindOrCreatePinned(absl::string_view tenant, const RateLimit& limit);

  // TenantTable::EvictIdle()
  //
  // Drops every unpinned tenant whose buckets are full at `now`; returns how
  // many.
  size_t EvictIdle(int64_t now);

  // TenantTable::size()
  size_t size() const { return size_.load(std::memory_order_relaxed); }
  // TenantTable::evicted()
  //
  // Tenants evicted since creation.
  uint64_t evicted() const { return evicted_.load(std::memory_order_relaxed); }

 private:
  static constexpr size_t kShards = 16;
  // The pause between inline sweeps that evicted nothing.
  static constexpr int64_t kSweepBackoffNanos = 1'000'000'000;

  // A std::shared_mutex, not absl::Mutex, for the reason given at
  // TenantScopeState::mu: it is taken on every Reserve().
  struct Shard {
    std::shared_mutex mu;
    absl::flat_hash_map<std::string, std::shared_ptr<TenantScopeState>> map;  // guarded by mu
  };

  Shard& ShardFor(absl::string_view tenant);
  // Reserves room for one more tenant in the size bound.
  bool TryClaimSlot();
  // The sweep FindOrCreatePinned() runs on a full table, unless backing off.
  // True when it evicted something.
  bool InlineSweep(int64_t now);

  const size_t max_tracked_;
  const std::shared_ptr<TenantLimiterShared> limiter_;
  std::array<Shard, kShards> shards_;
  // Tenants in all shards: kept exact against `max_tracked_` by claiming a
  // slot before inserting.
  std::atomic<size_t> size_{0};
  std::atomic<uint64_t> evicted_{0};
  // Clock instant before which a full table is not swept again inline.
  std::atomic<int64_t> next_inline_sweep_nanos_{std::numeric_limits<int64_t>::min()};
};

}  // namespace admission_internal
}  // namespace smg

#endif  // SMGCORE_LIB_ADMISSION_TENANT_TABLE_H_
