// The simulated prefix (KV) cache of one worker.
//
// A worker's cache holds a bounded number of prompt blocks (text chunks,
// token pages or Mooncake blocks), each named by a chained hash so that a
// block id stands for the whole prefix up to and including it. A request is
// served from cache for its leading blocks that are present, stopping at the
// first missing one (KV caches are prefix-closed: a block is only usable with
// everything before it). Eviction is least recently used.
#ifndef SMGCORE_EXAMPLES_ROUTE_DEMO_PREFIX_CACHE_H_
#define SMGCORE_EXAMPLES_ROUTE_DEMO_PREFIX_CACHE_H_

#include <cstddef>
#include <cstdint>
#include <list>

#include "absl/container/flat_hash_map.h"
#include "absl/types/span.h"

namespace route_demo {

// One cacheable block of a prompt.
struct Block {
  // XXH3 of the parent block's hash and this block's content.
  uint64_t hash = 0;
  // Prompt units (bytes or tokens) the block covers.
  uint32_t units = 0;
};

// PrefixCache
class PrefixCache {
 public:
  explicit PrefixCache(size_t capacity_blocks) : capacity_(capacity_blocks) {}

  // PrefixCache::ServeAndInsert()
  //
  // Returns the units of the longest cached prefix of `blocks`, then records
  // every block of the request as cached (the worker has just computed them),
  // evicting least recently used blocks beyond the capacity.
  uint64_t ServeAndInsert(absl::Span<const Block> blocks);

  size_t size() const { return index_.size(); }

 private:
  // Marks `hash` most recently used, inserting it if absent.
  void Touch(uint64_t hash);

  size_t capacity_;
  // Most recently used first.
  std::list<uint64_t> lru_;
  absl::flat_hash_map<uint64_t, std::list<uint64_t>::iterator> index_;
};

}  // namespace route_demo

#endif  // SMGCORE_EXAMPLES_ROUTE_DEMO_PREFIX_CACHE_H_
