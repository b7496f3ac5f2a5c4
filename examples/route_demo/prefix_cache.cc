#include "route_demo/prefix_cache.h"

namespace route_demo {

uint64_t PrefixCache::ServeAndInsert(absl::Span<const Block> blocks) {
  uint64_t served_units = 0;
  for (const Block& block : blocks) {
    if (!index_.contains(block.hash)) break;
    served_units += block.units;
  }
  // Touch the blocks from the last to the first, so that a request's leading
  // blocks end up the most recent: eviction then trims prefixes from their
  // tail (as a radix cache evicts leaves first) instead of dropping a shared
  // head and with it every longer prefix.
  for (size_t i = blocks.size(); i-- > 0;) Touch(blocks[i].hash);
  return served_units;
}

void PrefixCache::Touch(uint64_t hash) {
  auto it = index_.find(hash);
  if (it != index_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second);
    return;
  }
  lru_.push_front(hash);
  index_.emplace(hash, lru_.begin());
  while (index_.size() > capacity_) {
    index_.erase(lru_.back());
    lru_.pop_back();
  }
}

}  // namespace route_demo
