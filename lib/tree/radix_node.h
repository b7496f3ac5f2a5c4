// Internal: the node layout of smg::RadixTree (smgcore/radix_tree.h).
//
// One allocation per node: the `Node` header followed by its edge, inline.
// Sizes on LP64: 96 bytes of header (+ the edge), an optional child block of
// `child_cap * (8 + sizeof(Unit))` bytes (a sorted array, or a hash table
// for wide nodes, see `Node::is_hashed`) and, for nodes with two or more
// owners, an owner array of `owner_cap * 16` bytes. The first owner lives in
// the header. Leaves reuse the child-block pointer's space for their links
// in the eviction queue.
//
// Nothing here takes a lock; the tree's code (radix_tree.cc) documents which
// lock protects what. The only fields touched under the tree's SHARED lock
// are the recency ticks (`Node::tick`, `Owner::tick`), always through
// `LoadTick` / `StoreTick` (relaxed atomics on plain fields, C++20
// std::atomic_ref); everything else changes only under the exclusive lock.
#ifndef SMGCORE_LIB_TREE_RADIX_NODE_H_
#define SMGCORE_LIB_TREE_RADIX_NODE_H_

#include <atomic>
#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "smgcore/radix_tree.h"

namespace smg {
namespace radix_internal {

// LoadTick() / StoreTick()
//
// Relaxed atomic access to a recency tick stored as a plain field.
inline uint64_t LoadTick(const uint64_t& tick) {
  return std::atomic_ref<uint64_t>(const_cast<uint64_t&>(tick)).load(std::memory_order_relaxed);
}
inline void StoreTick(uint64_t& tick, uint64_t value) {
  std::atomic_ref<uint64_t>(tick).store(value, std::memory_order_relaxed);
}
// RaiseTick()
//
// Stores `value` unless the tick already holds it or a later one: avoids
// writing (and bouncing the cache line of) hot shared nodes on every match.
// Racing raises may leave a slightly older value; recency is approximate.
inline void RaiseTick(uint64_t& tick, uint64_t value) {
  if (LoadTick(tick) < value) StoreTick(tick, value);
}

// Owner
//
// One tenant of a node and the tick of its last insert through the node.
struct Owner {
  TenantId tenant;
  uint32_t reserved;
  uint64_t tick;
};
static_assert(sizeof(Owner) == 16);

// Node
//
// A tree node. The root has an empty edge and no owners; every other node
// has a non-empty, page-aligned edge and at least one owner. Units
// [0, edge_off) of the inline buffer are dead (left by a split that copied
// the head out), and so are the `tail_dead` units after the edge (left by a
// split that copied the tail out); the invariant
// edge_off + tail_dead <= edge_len bounds that waste.
template <typename Unit>
struct Node {
  // Links in the eviction queue; valid while the node is a non-root leaf.
  struct LeafLink {
    Node* prev;       // towards the young end (head)
    Node* next;       // towards the old end (tail)
    uint64_t queued;  // the tick the node was (re)queued with
  };
  union Link {
    LeafLink leaf;   // while child_cap == 0
    void* children;  // while child_cap > 0: Node*[child_cap] then Unit[child_cap]
  };
  union Owners {
    Owner one;    // while owner_cap == 1
    Owner* many;  // while owner_cap > 1
  };

  Node* parent;
  uint64_t tick;  // last use (LoadTick/StoreTick)
  size_t edge_off;
  size_t edge_len;
  // Slots to scan: the children of a sorted array; all of a hash table's.
  uint32_t child_count;
  uint32_t child_cap;  // 0: no child block; the node is a leaf
  uint32_t owner_count;
  uint32_t owner_cap;  // 1: inline; > 1: heap array, sorted by tenant
  // Empty (null) slots among the first `child_count`: always 0 in a sorted
  // array, the free slots of a hash table. Code that only walks the children
  // scans `child_count` slots and skips null pointers, for either layout.
  uint32_t child_dead;
  // Dead units after the edge in the inline buffer (see above).
  uint32_t tail_dead;
  Link link;
  Owners owners;

  // Node::AllocBytes()
  //
  // Size of the allocation of a node whose buffer holds `units` units.
  static constexpr size_t AllocBytes(size_t units) { return sizeof(Node) + units * sizeof(Unit); }
  // Node::ChildBlockBytes()
  static constexpr size_t ChildBlockBytes(size_t cap) { return cap * (sizeof(Node*) + sizeof(Unit)); }

  Unit* buffer() { return reinterpret_cast<Unit*>(reinterpret_cast<char*>(this) + sizeof(Node)); }
  const Unit* buffer() const {
    return reinterpret_cast<const Unit*>(reinterpret_cast<const char*>(this) + sizeof(Node));
  }
  // Node::buffer_units()
  //
  // Units the inline buffer was allocated with.
  size_t buffer_units() const { return edge_off + edge_len + tail_dead; }
  Unit* edge() { return buffer() + edge_off; }
  const Unit* edge() const { return buffer() + edge_off; }
  bool is_leaf() const { return child_cap == 0; }
  // Node::is_hashed()
  //
  // Whether the child block is a hash table rather than a sorted array (see
  // kMaxSortedChildren).
  bool is_hashed() const;
  uint32_t live_children() const { return child_count - child_dead; }

  Owner* owner_data() { return owner_cap == 1 ? &owners.one : owners.many; }
  const Owner* owner_data() const { return owner_cap == 1 ? &owners.one : owners.many; }

  Node** child_ptrs() const { return static_cast<Node**>(link.children); }
  Unit* child_firsts() const { return reinterpret_cast<Unit*>(child_ptrs() + child_cap); }
};

// kMaxSortedChildren / kMinHashedSlots
//
// A node keeps up to kMaxSortedChildren children in an array sorted by first
// unit (binary search; inserting and removing shift at most that many
// slots). Past that the block becomes an open-addressing hash table of
// kMinHashedSlots or more slots (a power of two, linear probing, at most
// half full; removal shifts the probe run back, so there are no
// tombstones), keyed by a hash of the child's first page. A node under a hot
// shared prefix (every conversation of a trace below one first block) can
// have many thousands of children, which eviction removes oldest first and
// new requests add anywhere in key order: a table makes finding, adding and
// removing one O(1) instead of a binary search and a shift of the whole
// array. A table shrinks back to a sorted array below a quarter of the
// children that made it (kMinHashedSlots / 8 live).
inline constexpr uint32_t kMaxSortedChildren = 32;
inline constexpr uint32_t kMinHashedSlots = 128;

template <typename Unit>
bool Node<Unit>::is_hashed() const {
  return child_cap >= kMinHashedSlots;
}

// MismatchUnits()
//
// Length of the common prefix of a[0, n) and b[0, n), in units. Edges are
// usually matched whole (a shared system prompt), so it compares blocks of
// doubling size with memcmp (vectorized by libc; few calls for a long
// equal run), then halves the first unequal block down to 64 bytes and
// finishes with words.
template <typename Unit>
size_t MismatchUnits(const Unit* a, const Unit* b, size_t n) {
  const unsigned char* pa = reinterpret_cast<const unsigned char*>(a);
  const unsigned char* pb = reinterpret_cast<const unsigned char*>(b);
  const size_t bytes = n * sizeof(Unit);
  constexpr size_t kFirstBlock = 64;
  constexpr size_t kMaxBlock = 16384;
  size_t i = 0;
  size_t block = kFirstBlock;
  while (i < bytes) {
    const size_t len = std::min(block, bytes - i);
    if (std::memcmp(pa + i, pb + i, len) != 0) {
      // The first difference is in [i, i + len): halve down to 64 bytes.
      size_t end = i + len;
      while (end - i > kFirstBlock) {
        const size_t half = (end - i) / 2;
        if (std::memcmp(pa + i, pb + i, half) == 0) {
          i += half;
        } else {
          end = i + half;
        }
      }
      break;
    }
    i += len;
    if (block < kMaxBlock) block *= 2;
  }
  if (i == bytes) return n;
  if constexpr (std::endian::native == std::endian::little) {
    while (i + 8 <= bytes) {
      uint64_t x;
      uint64_t y;
      std::memcpy(&x, pa + i, 8);
      std::memcpy(&y, pb + i, 8);
      if (x != y) return (i + static_cast<size_t>(std::countr_zero(x ^ y)) / 8) / sizeof(Unit);
      i += 8;
    }
  }
  while (i < bytes && pa[i] == pb[i]) ++i;
  return i / sizeof(Unit);
}

}  // namespace radix_internal
}  // namespace smg

#endif  // SMGCORE_LIB_TREE_RADIX_NODE_H_
