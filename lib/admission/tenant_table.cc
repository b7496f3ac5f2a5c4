// TenantTable: sharded tenant states with idle eviction.
#include "admission/tenant_table.h"

#include <mutex>
#include <shared_mutex>
#include <utility>

#include "absl/hash/hash.h"

namespace smg {
namespace admission_internal {

TenantTable::Shard& TenantTable::ShardFor(absl::string_view tenant) {
  return shards_[absl::Hash<absl::string_view>{}(tenant) % kShards];
}

bool TenantTable::TryClaimSlot() {
  size_t n = size_.load(std::memory_order_relaxed);
  while (n < max_tracked_) {
    if (size_.compare_exchange_weak(n, n + 1, std::memory_order_relaxed)) return true;
  }
  return false;
}

std::shared_ptr<TenantScopeState> TenantTable::FindOrCreatePinned(absl::string_view tenant,
                                                                  const RateLimit& limit) {
  Shard& shard = ShardFor(tenant);
  {
    std::shared_lock<std::shared_mutex> lock(shard.mu);
    if (auto it = shard.map.find(tenant); it != shard.map.end()) {
      it->second->pins.fetch_add(1, std::memory_order_relaxed);
      return it->second;
    }
  }
  const int64_t now = limiter_->clock->NowNanos();
  // Two tries: before and after sweeping idle tenants out of a full table.
  for (int attempt = 0; attempt < 2; ++attempt) {
    {
      std::unique_lock<std::shared_mutex> lock(shard.mu);
      if (auto it = shard.map.find(tenant); it != shard.map.end()) {
        it->second->pins.fetch_add(1, std::memory_order_relaxed);
        return it->second;
      }
      if (TryClaimSlot()) {
        auto state = std::make_shared<TenantScopeState>(limit, now);
        state->pins.store(1, std::memory_order_relaxed);
        state->limiter = limiter_;
        shard.map.emplace(std::string(tenant), state);
        return state;
      }
    }
    // The sweep locks every shard in turn, so it runs with none held.
    if (attempt == 0 && !InlineSweep(now)) break;
  }
  return nullptr;
}

bool TenantTable::InlineSweep(int64_t now) {
  if (now < next_inline_sweep_nanos_.load(std::memory_order_relaxed)) return false;
  if (EvictIdle(now) > 0) return true;
  next_inline_sweep_nanos_.store(now + kSweepBackoffNanos, std::memory_order_relaxed);
  return false;
}

size_t TenantTable::EvictIdle(int64_t now) {
  size_t total = 0;
  for (Shard& shard : shards_) {
    std::unique_lock<std::shared_mutex> lock(shard.mu);
    // Holding the shard exclusively: nobody can pin these states meanwhile.
    const size_t evicted = absl::erase_if(shard.map, [now](auto& entry) {
      TenantScopeState& state = *entry.second;
      if (state.pins.load(std::memory_order_acquire) != 0) return false;
      std::lock_guard<std::mutex> state_lock(state.mu);
      return state.IsIdle(now);
    });
    // Per shard, so that the freed room is claimable as soon as possible.
    size_.fetch_sub(evicted, std::memory_order_relaxed);
    total += evicted;
  }
  evicted_.fetch_add(total, std::memory_order_relaxed);
  return total;
}

}  // namespace admission_internal
}  // namespace smg
