// File: smgcore/radix_tree.h
// -----------------------------------------------------------------------------
//
// The cache-aware radix trees: an approximate picture of which worker (tenant)
// holds which prompt prefixes in its KV cache, learned from routing decisions.
// The cache-aware policy keeps one text tree (keys are bytes) and one token
// tree (keys are token ids) per model and leg.
//
// A `RadixTree` is a compressed, multi-tenant prefix tree: every node holds an
// edge of one or more units and the set of tenants that own it. Ownership is
// prefix-closed (a tenant owning a node owns all of its ancestors), so the
// deepest node on a key's path names the workers that cache the longest
// stored prefix of that key. Token trees work in whole pages, like the
// engines' KV caches: a key of L tokens is considered as floor(L/page)*page
// tokens and nodes split only at page boundaries.
//
// Memory is bounded by ONE budget for the whole tree, counted in stored units
// (each unit once, however many tenants own it), not per tenant. Eviction
// removes whole least-recently-used leaves, incrementally: its cost is
// proportional to what it evicts, never a scan of the tree.
//
// Example:
//
//   smg::TextTree tree({.page_size = 1, .budget_units = 1 << 20});
//   tree.Insert(smg::TextKey("You are a helpful assistant. Hi"), /*tenant=*/1);
//   smg::PrefixMatch m = tree.Match(smg::TextKey("You are a helpful bot"));
//   // m.matched_units == 18 ("You are a helpful "), m.owners == {1}
//
//   // The routing hot path: one fused descent that decides and records.
//   auto r = tree.MatchAndInsert(key, [&](const smg::PrefixMatch& m) {
//     return m.owners.empty() ? least_loaded : m.owners.front();
//   });
//
// Thread safety: every method may be called concurrently from any number of
// threads. Matches run in parallel under a shared lock; mutations take the
// tree's lock exclusively. See `RadixTree` for the details.
#ifndef SMGCORE_RADIX_TREE_H_
#define SMGCORE_RADIX_TREE_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <type_traits>

#include "absl/container/inlined_vector.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace smg {

// TenantId
//
// A tree owner: a worker id assigned by the registry (1, 2, 3, ...; never
// reused). `kNoTenant` (0) means "no tenant".
using TenantId = uint32_t;
inline constexpr TenantId kNoTenant = 0;

// TreeOptions
//
// Construction options of a `RadixTree`.
struct TreeOptions {
  // Units per page. Text trees use 1. Token trees store and match only whole
  // pages (like the engine's KV pages): a key of L units is considered as
  // floor(L/page)*page units. 0 is treated as 1; values above
  // `kMaxTreePageSize` are clamped to it (the router validates options; the
  // tree never fails).
  size_t page_size = 1;
  // Global memory budget for the whole tree, in stored units (bytes of text /
  // tokens), counting each stored unit once however many tenants own it.
  // 0 = unbounded.
  size_t budget_units = size_t{1} << 26;
  // When true, an Insert/MatchAndInsert that leaves the tree above budget
  // evicts inline before returning (down to the budget less the headroom).
  bool evict_inline = false;
  // Fraction of the budget that budget-triggered eviction (`Evict()` and
  // inline eviction) frees beyond the budget: it evicts down to
  // `budget_units - budget_units * evict_headroom`. Eviction then comes in
  // batches: a tree that grows one insert at a time takes its exclusive lock
  // to evict once per ~budget * headroom units inserted, rather than on
  // every insert, and the lock, clock and queue setup are paid once per
  // batch. The price is a cache up to that fraction smaller, and one insert
  // (inline) or one `Evict()` that holds the lock for the whole batch. 0
  // evicts exactly to the budget. Values outside [0, 0.5] (and NaN) are
  // clamped into it (NaN to 0); `EvictTo()` is always exact.
  double evict_headroom = 1.0 / 64;
};

// kMaxTreePageSize
//
// The largest page size a tree accepts (larger values are clamped).
inline constexpr size_t kMaxTreePageSize = size_t{1} << 16;

// PrefixMatch
//
// Result of a longest-prefix match.
struct PrefixMatch {
  // Length of the longest stored prefix of the key (page aligned).
  size_t matched_units = 0;
  // Units of the key that were considered (the page-aligned length).
  size_t key_units = 0;
  // Tenants owning the deepest matched node, most recently used first (the
  // tenant that most recently inserted a key through that node comes first;
  // ties go to the lower id). Empty when matched_units == 0.
  absl::InlinedVector<TenantId, 8> owners;
};

namespace radix_internal {
template <typename Unit>
class TreeCore;  // lib/tree/radix_tree.cc
}  // namespace radix_internal

// RadixTree
//
// A multi-tenant compressed radix tree over keys of `Unit`: `uint8_t` for
// text (arbitrary bytes; UTF-8 is never assumed) or `uint32_t` for token ids.
// Use the aliases `TextTree` and `TokenTree`.
//
// Semantics:
//   * `Insert(key, t)` records that tenant `t` caches every page-aligned
//     prefix of `key`: each node on the key's path becomes owned by `t`
//     (nodes are created, or split at page boundaries, as needed), and `t`
//     becomes the most recent owner of each; the key's deepest node is
//     stamped with the tree's current recency tick.
//   * `Match(key)` finds the deepest node on the key's path (possibly partway
//     into its edge) and returns its owners, most recently used first. A
//     match is a use: it refreshes the recency of the deepest matched node
//     (a node's own recency covers every use of its descendants; see below).
//   * Eviction removes whole leaves (every owner at once) in approximately
//     least-recently-used order until the tree is within a target.
//
// Recency and eviction guarantee (CLOCK, "second chance"): leaves wait in a
// queue in the order they became leaves. Eviction examines the oldest queued
// leaf; if it was used (matched into or inserted through) since it was
// queued, it is requeued at the young end instead of being evicted. So a leaf
// is evicted only if nothing used it since it was (re)queued, and a used leaf
// outlives every unused leaf queued before it; exact LRU order among leaves
// that were used is not guaranteed. A parent whose last child is evicted is
// queued at the old end and is evicted next unless it was used after that
// child. Each examination evicts a leaf or consumes one use, so eviction
// costs O(leaves evicted + uses) amortized; it never scans the tree.
//
// Thread safety: every method is safe to call concurrently. `Match` and the
// statistics accessors run in parallel (shared lock / atomics);
// `Insert`, `MatchAndInsert`, `RemoveTenant` and eviction take the tree's
// lock exclusively for their structural work. `Insert` and `MatchAndInsert`
// first look under the shared lock and finish there, without the exclusive
// lock, when the tenant already owns the whole key (a repeated prompt).
// Lookups compare the key with edges of 1 KiB or more without holding the
// lock at all (freed nodes are reclaimed only once no such compare can still
// read them), so a writer never waits for another thread's long compare.
// An insert that finds the exclusive lock taken hands itself to the holder,
// which applies it before releasing the lock (`handed_over_inserts_total`);
// the caller returns once it is applied, so every insert is visible when its
// call returns, whichever thread ran it.
//
// Out of memory: an insert allocates its new leaf (a copy of the key's
// unmatched tail, the one allocation a caller's key can make large) before
// taking the exclusive lock, and a failure there throws std::bad_alloc with
// the tree unchanged. The exclusive sections themselves (applying inserts,
// eviction, `RemoveTenant`) are noexcept: a small allocation failing inside
// one (a split node, a grown child table) terminates the process rather than
// leave the tree half-changed with its lock held.
//
// Costs: L is the key length in units. Match and Insert are O(L) plus one
// child lookup per node on the path (a binary search in a sorted array of at
// most 32 children keyed by the first unit of their edge; wider nodes keep a
// hash table of their children's first pages, so a node with many thousands
// of children costs O(1) to search, extend and shrink), plus sorting the
// deepest node's owners by recency (O(k log k) for k owners); no recursion
// anywhere, so keys of many MiB and arbitrarily deep trees are fine.
//
// Memory: one allocation per node with the edge stored inline, a compact
// child block (8 bytes of pointer + one unit per slot; a table is between
// an eighth and a half full) and a small owner array (16 bytes per owner, the
// first one inline). `memory_bytes()` is the tree's own exact accounting of what it
// requested from the allocator (allocator headers and rounding excluded).
template <typename Unit>
class RadixTree {
  static_assert(std::is_same_v<Unit, uint8_t> || std::is_same_v<Unit, uint32_t>,
                "RadixTree supports uint8_t (text) and uint32_t (token) keys");

 public:
  // RadixTree::MatchInsertResult
  //
  // What `MatchAndInsert` saw and decided.
  struct MatchInsertResult {
    // The match, as `Match` would have returned it before the insert.
    PrefixMatch match;
    // The tenant `choose` returned (kNoTenant: nothing was inserted).
    TenantId chosen = kNoTenant;
  };

  // RadixTree::RadixTree()
  //
  // An empty tree. `options.page_size` 0 is treated as 1 (see TreeOptions).
  explicit RadixTree(TreeOptions options = {});
  ~RadixTree();

  // Not copyable or movable (it owns a lock and is shared between threads).
  RadixTree(const RadixTree&) = delete;
  RadixTree& operator=(const RadixTree&) = delete;

  // RadixTree::Match()
  //
  // Longest-prefix match of `key` (considered up to its page-aligned
  // length). Refreshes the recency of the matched nodes (relaxed atomic
  // stores; `Match` is logically const). Keys shorter than one page match
  // nothing. Thread-safe; runs under the shared lock. O(L).
  PrefixMatch Match(absl::Span<const Unit> key) const;

  // RadixTree::Insert()
  //
  // Records that `tenant` now caches `key` (all of its page-aligned
  // prefixes). A no-op for keys shorter than one page and for
  // `tenant == kNoTenant`. With `evict_inline`, a tree left above its budget
  // evicts down to the budget less the headroom before returning.
  // Thread-safe. O(L) plus eviction. Throws std::bad_alloc, with the tree
  // unchanged, if the key's new leaf cannot be allocated.
  void Insert(absl::Span<const Unit> key, TenantId tenant);

  // RadixTree::MatchAndInsert()
  //
  // The routing hot path. Matches `key`, calls `choose(match)` exactly once
  // while holding the tree's shared lock (so no `RemoveTenant` or eviction
  // runs concurrently with the decision), then inserts `key` for the returned
  // tenant (nothing when it returns kNoTenant, or when the key is shorter than
  // one page). Returns the match and the chosen tenant.
  //
  // If the chosen tenant already owns the whole key, the insert is a recency
  // refresh done under the shared lock. Otherwise the insert takes the
  // exclusive lock afterwards; if `RemoveTenant(chosen)` ran in between, the
  // insert is skipped, so a removed tenant is never recorded again by a
  // decision made before its removal.
  //
  // `choose` may call the statistics accessors of this tree
  // (`tenant_units`, `stored_units`, `node_count`, `memory_bytes`,
  // `evicted_units_total`, `options`) but must not call `Match`, `Insert`,
  // `MatchAndInsert`, `RemoveTenant` or eviction on it (self-deadlock).
  // Thread-safe. O(L): one descent, or two when another writer changed the
  // tree between the decision and the insert. An exception from `choose`,
  // or std::bad_alloc for the key's new leaf, propagates with the tree
  // unchanged (bar recency).
  MatchInsertResult MatchAndInsert(absl::Span<const Unit> key,
                                   absl::FunctionRef<TenantId(const PrefixMatch&)> choose);

  // RadixTree::RemoveTenant()
  //
  // Removes every trace of `tenant`: it owns nothing afterwards, nodes nobody
  // owns any more are freed, and nodes that became redundant (a single child
  // with the same owners) are merged. Thread-safe (exclusive lock).
  // O(nodes the tenant owned and their children, plus the edges merged).
  void RemoveTenant(TenantId tenant);

  // RadixTree::EvictTo()
  //
  // Evicts least-recently-used leaves (see the class comment) until
  // `stored_units() <= target_units`. Returns the units evicted. Thread-safe
  // (exclusive lock; a tree already within the target returns 0 without
  // taking it, so periodic calls cost routing threads nothing). Amortized
  // O(leaves evicted), never a tree scan.
  size_t EvictTo(size_t target_units);

  // RadixTree::Evict()
  //
  // Within budget: returns 0 (without the lock). Above it: evicts down to
  // the budget less the headroom (`TreeOptions::evict_headroom`), as
  // `EvictTo()` would. A no-op returning 0 when the budget is 0 (unbounded).
  // Thread-safe.
  size_t Evict();

  // RadixTree::stored_units()
  //
  // Units stored, each counted once. Thread-safe, O(1), lock-free.
  size_t stored_units() const;

  // RadixTree::node_count()
  //
  // Nodes in the tree, not counting the root. Thread-safe, O(1), lock-free.
  size_t node_count() const;

  // RadixTree::memory_bytes()
  //
  // Bytes the tree has requested from the allocator for its nodes, edges,
  // child arrays, owner arrays, per-tenant table (capacities, not sizes) and
  // its lock's per-thread reader slots.
  // Thread-safe, O(1).
  size_t memory_bytes() const;

  // RadixTree::tenant_units()
  //
  // Units `tenant` owns (the sum of the edge lengths of the nodes it owns);
  // 0 for an unknown tenant. Thread-safe, O(1) (a small separate lock, never
  // the tree's lock, so `choose` callbacks may call it).
  size_t tenant_units(TenantId tenant) const;

  // RadixTree::evicted_units_total()
  //
  // Units evicted over the tree's lifetime. Thread-safe, O(1), lock-free.
  size_t evicted_units_total() const;

  // RadixTree::eviction_examined_total()
  //
  // Leaves examined by eviction over the tree's lifetime (evicted, or given a
  // second chance because they were used): the work eviction did. At most
  // the leaves evicted plus the uses of queued leaves. Thread-safe, O(1).
  size_t eviction_examined_total() const;

  // RadixTree::handed_over_inserts_total()
  //
  // Inserts that another thread applied: their thread found the exclusive
  // lock taken, published the insert and the holder applied it before
  // releasing the lock (see lib/tree/radix_tree.cc, "Combined inserts").
  // Against the inserts made, how often routing threads meet on the lock.
  // Thread-safe, O(1), lock-free.
  size_t handed_over_inserts_total() const;

  // RadixTree::options()
  //
  // The effective options (page_size and evict_headroom after clamping).
  // Thread-safe.
  const TreeOptions& options() const;

  // RadixTree::CheckInvariantsForTesting()
  //
  // FOR TESTS ONLY. Walks the whole tree (O(size)) under the shared lock and
  // verifies its structural invariants against a brute-force recount:
  // prefix-closed ownership, page-aligned non-empty edges, sorted children,
  // the leaf queue, and that `stored_units`, `node_count`, `memory_bytes` and
  // every `tenant_units` equal the recount. Returns the first violation.
  absl::Status CheckInvariantsForTesting() const;

  // RadixTree::SetUnlockedCompareHookForTesting()
  //
  // FOR TESTS ONLY. `hook` runs in the window where a descent compares a
  // long edge (1 KiB or more) without holding the tree's lock, on the
  // descending thread; it may call any method of this tree. An empty
  // function removes it. Not thread-safe: set it before the tree is shared.
  void SetUnlockedCompareHookForTesting(std::function<void()> hook);

  // RadixTree::InsertHookPoint
  //
  // FOR TESTS ONLY. Where an insert hook runs (SetInsertHookForTesting).
  enum class InsertHookPoint {
    // After the descent and the new leaf's allocation, with no lock held,
    // before the insert takes the exclusive lock or hands the insert over.
    // May call any method. If it throws, the insert is abandoned as when
    // the leaf's allocation fails: the call rethrows, the tree unchanged.
    kBeforeCommit,
    // In the exclusive section of a thread that took the lock itself, after
    // its own insert, before it applies inserts handed over to it. May call
    // only the statistics accessors and HasHandedOverInsertsForTesting(),
    // and must not throw (the exclusive section is noexcept).
    kLockHeld,
  };

  // RadixTree::SetInsertHookForTesting()
  //
  // FOR TESTS ONLY. `hook` runs on the inserting thread at each
  // InsertHookPoint of every insert (Insert, or MatchAndInsert when it
  // inserts). An empty function removes it. Not thread-safe: set it before
  // the tree is shared.
  void SetInsertHookForTesting(std::function<void(InsertHookPoint)> hook);

  // RadixTree::HasHandedOverInsertsForTesting()
  //
  // FOR TESTS ONLY. Whether inserts are waiting for the lock holder to apply
  // them. Thread-safe; stale as soon as it returns, except in a kLockHeld
  // hook (only the holder takes them off).
  bool HasHandedOverInsertsForTesting() const;

  // RadixTree::RetiredNodesForTesting()
  //
  // FOR TESTS ONLY. Nodes taken out of the tree but not yet freed, because a
  // descent in progress (an unlocked compare, or an insert between its
  // descent and its exclusive section) may still read them. 0 once no such
  // descent is in progress and a writer has run since. Thread-safe.
  size_t RetiredNodesForTesting() const;

 private:
  std::unique_ptr<radix_internal::TreeCore<Unit>> core_;
};

extern template class RadixTree<uint8_t>;
extern template class RadixTree<uint32_t>;

// TextTree
//
// A tree over the bytes of prompt text (page size 1).
using TextTree = RadixTree<uint8_t>;

// TokenTree
//
// A tree over token ids, usually with the engine's KV page size.
using TokenTree = RadixTree<uint32_t>;

// TextKey()
//
// Views the bytes of `s` as a text key (no copy; valid as long as `s`).
inline absl::Span<const uint8_t> TextKey(absl::string_view s) {
  return absl::Span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

}  // namespace smg

#endif  // SMGCORE_RADIX_TREE_H_
