// smg::RadixTree: a multi-tenant compressed radix tree with a global budget
// and incremental CLOCK eviction. See smgcore/radix_tree.h for the contract
// and lib/tree/radix_node.h for the node layout.
//
// Locking. One reader-writer `TreeLock mu_` per tree (tree_lock.h: readers
// on different cores share no cache line) guards the structure (nodes,
// child arrays, owner arrays, the eviction queue). `Match` and the first,
// read-only phase of `Insert`/`MatchAndInsert` run under the shared lock and
// write nothing but recency ticks (relaxed atomics). Structural changes run
// under the exclusive lock. A second, small spin lock `stats_mu_` guards the
// per-tenant unit counts so that `tenant_units()` never needs `mu_` (a
// `choose` callback runs while `mu_` is held shared and may call it). Lock
// order: mu_ before stats_mu_. The other statistics are atomics written under
// the exclusive lock.
//
// One descent. Insert/MatchAndInsert descend under the shared lock (and
// decide, for the fused call); when the key needs structural work they
// re-take the lock exclusively and resume from the last node the shared
// descent matched whole (its "base") instead of descending again, when that
// node is provably unchanged: still in the tree, with the edge length the
// descent saw (a split shortens the node it splits; nothing else changes an
// edge). Inserts, splits and evictions by other threads in between do not
// force a second descent: the units up to the base are the same, and the
// insert goes on from there over the current structure. Under concurrent
// inserts that is what keeps the exclusive section short. To tell whether
// the base is still in the tree, the thread keeps a pin (below) from the end
// of its descent to the end of its insert, so the base is at worst retired,
// not freed; threads without a slot of their own resume only if nothing at
// all was freed since their descent began (`frees_`).
//
// Long edges are compared unlocked. A descent spends nearly all its time
// comparing the key with long edges (a shared 8 KB system prompt); holding
// the shared lock through that would make every insert wait for every other
// thread's compare. So a descent that meets an edge of kUnlockedCompareBytes
// or more pins (tree_lock.h), notes the edge's address and length, releases
// the lock, compares, re-takes the lock and checks that the node is still in
// the tree (nodes are retired with a null parent) with the same edge; if
// not, it descends again from the root holding the lock throughout. This is
// safe because an edge's units never change once the node is linked in (a
// split only moves `edge_off` or trims the length; every other change copies
// the edge into a new node), and because while any thread is pinned a
// removed node is not freed but retired (`retired_`, numbered by `frees_`)
// and freed only once no pin can still reach it (ReclaimRetired). Threads
// without a reader slot of their own in the tree's lock (numbered past its
// `max_threads`, or whose slot block could not be allocated) hold the lock
// throughout.
//
// Combined inserts. The exclusive section of an insert writes about ten
// cache lines that every inserting thread writes (the lock word, the clocks,
// the queue head, the statistics, the node the key branches off): taken in
// turn by two cores, each section would miss on all of them. So a thread
// that finds the exclusive lock taken does not wait for it: it publishes its
// insert (`PendingInsert`: the key, the descent, the prepared leaf) on a
// lock-free list and spins on the insert's `done` flag, and the holder
// applies every published insert before it releases the lock (flat
// combining), with those lines still in its cache. A waiter that sees the
// lock free while its insert is still listed takes the lock and applies the
// list itself. Either way an insert is applied under the exclusive lock
// exactly as its own thread would have; only which thread runs it differs.
// The waiter keeps its pin until `done`, so its descent stays resumable.
//
// Allocation failure. The only allocation whose size the caller controls,
// an insert's new leaf (a copy of the key's unmatched tail), is made before
// the exclusive lock is taken: if it throws, the insert drops its pin and
// rethrows with the tree unchanged (InsertPinned). Exclusive sections
// (inserts applied, eviction, tenant removal, reclamation) are `noexcept`:
// the small allocations they make (a split's upper node, a grown child or
// owner block, a tenant-table entry, a retired-list slot) cannot be undone
// halfway, and a failure there would otherwise leave the tree corrupt, its
// lock held and every combined waiter spinning. It terminates the process
// instead, the out-of-memory behaviour of a noexcept function.
//
// Recency. Every write to a node that other routing threads read next moves
// its cache line between cores, and the nodes every path shares (a chat
// template's first tokens) are read by every request; so a use writes as
// little as the recency semantics allow.
//
// Node ticks serve eviction only ("used since queued") and come from
// `clock_`: writers take a fresh tick, a use under the shared lock stores
// "current + 1" without incrementing (no shared counter write per match),
// which is newer than every tick handed out so far; eviction and tenant
// removal advance the clock before requeueing, so "current + 1" is always a
// use of what they requeued. A use stamps only its deepest node: an inner
// node's uses through it are recorded in its descendants, and eviction
// carries an evicted leaf's tick up to its parent, so a parent that becomes
// a leaf holds the latest use of anything below it, as if every use had
// stamped the whole path.
//
// Owner ticks order a node's owners (most recent first) and are compared
// only within one node. A use refreshes its tenant's tick at every node on
// its path where the tenant is not already the latest owner (a node shared
// by tenants in turn: the template's node, shared by every worker), and no
// tick at all where it is. The fresh tick is the node's own latest owner
// tick + 1 (the other ticks were just read anyway), so the refresh writes
// that node and nothing shared by the whole tree; nodes with more than
// kMaxOwnersChecked owners, and inserts, take one from `owner_clock_`
// instead. A tick is (owner_clock_ value << kOwnerTickLowBits) + refreshes
// since; a refresh that would carry into a block not yet handed out takes a
// fresh one from the clock instead, so a tick from the clock is newer than
// every tick at every node. The owner order is the same as if every use
// took a fresh tick from one clock.
//
// Eviction queue. Every non-root leaf is in one intrusive doubly-linked queue
// (head = young end, tail = old end) with the tick it was queued with. A
// leaf is queued at the head when it is created; a node that becomes a leaf
// because eviction took its last child is queued at the tail with that
// child's last-use tick, so it goes next unless it was used after that child.
// Eviction pops the tail: used since queued -> requeue at the head with its
// current tick; else evict it. A node that becomes a leaf because a tenant
// removal freed its children is queued at the head (it was in use).
//
// Splits. Usually a new upper node takes a copy of the edge's head (the
// units the key matched) and the old node keeps its buffer, only advancing
// `edge_off`; it is relocated to a tight allocation when its dead head
// outgrows its live edge. So a split copies less than twice the key's units
// and a node's dead head never exceeds its live edge. When the tail is short
// (a long shared system prompt split just after its end, where the questions
// begin), the split copies the tail instead: a new lower node takes a copy
// of it with the old node's children, owners (copied) and queue position,
// and the old node becomes the upper one with a dead tail (`tail_dead`),
// which is kept within 1/kMaxDeadTailFraction of its edge.
#include <algorithm>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <new>
#include <type_traits>
#include <utility>
#include <vector>

// Header-only use: the installed static library needs no libxxhash.
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "smgcore/radix_tree.h"
#include "tree/radix_node.h"
#include "tree/tree_lock.h"

namespace smg {
namespace radix_internal {
namespace {

// A split may leave a node a dead tail of at most 1/kMaxDeadTailFraction of
// its edge (see "Splits" above).
constexpr size_t kMaxDeadTailFraction = 8;

// Edges at least this long are compared without the lock (see "Long edges
// are compared unlocked"): pinning and re-locking cost about as much as
// comparing ~100 bytes.
constexpr size_t kUnlockedCompareBytes = 1024;

// Owner lists up to this long are scanned to skip refreshing an owner tick
// that is already the node's latest (see TouchOwnerPath).
constexpr uint32_t kMaxOwnersChecked = 8;

// Owner ticks count refreshes within one node in their low bits (see
// "Recency" above).
constexpr int kOwnerTickLowBits = 16;
constexpr uint64_t kOwnerTickLowMask = (uint64_t{1} << kOwnerTickLowBits) - 1;

// Owner lists up to this long are ordered by counting (see FillOwners).
constexpr uint32_t kMaxOwnersRanked = 16;

// How many recent removals MatchAndInsert can check a decision against when
// it re-takes the lock; more removals in between make it skip the insert.
constexpr uint64_t kRemovedRing = 16;

// A lock holder applies at most this many rounds of published inserts (see
// "Combined inserts"): a thread is not kept combining forever under a steady
// stream; what it leaves listed, a waiter applies.
constexpr int kMaxCombineRounds = 4;

// The statistics counters are written only under the exclusive lock (one
// writer at a time, ordered by the lock) and read anywhere: a relaxed load
// and store suffice, and cost no locked read-modify-write (about 20 cycles
// each; evicting a leaf updates five of them).
void AddTo(std::atomic<size_t>& counter, size_t delta) {
  counter.store(counter.load(std::memory_order_relaxed) + delta, std::memory_order_relaxed);
}
void SubFrom(std::atomic<size_t>& counter, size_t delta) {
  counter.store(counter.load(std::memory_order_relaxed) - delta, std::memory_order_relaxed);
}

// Page size 0 means 1; oversized pages and out-of-range headrooms are
// clamped (documented on TreeOptions).
TreeOptions EffectiveOptions(TreeOptions options) {
  options.page_size = std::clamp<size_t>(options.page_size, 1, kMaxTreePageSize);
  const double headroom = options.evict_headroom;
  options.evict_headroom = headroom > 0 ? std::min(headroom, 0.5) : 0.0;  // NaN -> 0
  return options;
}

// What budget-triggered eviction evicts down to: the budget less the
// headroom, so that a tree growing one insert at a time evicts in batches.
size_t BudgetEvictionTarget(const TreeOptions& options) {
  const double headroom = static_cast<double>(options.budget_units) * options.evict_headroom;
  return options.budget_units - static_cast<size_t>(headroom);
}

}  // namespace

template <typename Unit>
class TreeCore {
 public:
  using NodeT = Node<Unit>;
  using Result = typename RadixTree<Unit>::MatchInsertResult;

  explicit TreeCore(TreeOptions options);
  ~TreeCore();

  TreeCore(const TreeCore&) = delete;
  TreeCore& operator=(const TreeCore&) = delete;

  PrefixMatch Match(absl::Span<const Unit> key) const ABSL_LOCKS_EXCLUDED(mu_);
  void Insert(absl::Span<const Unit> key, TenantId tenant) ABSL_LOCKS_EXCLUDED(mu_);
  Result MatchAndInsert(absl::Span<const Unit> key,
                        absl::FunctionRef<TenantId(const PrefixMatch&)> choose) ABSL_LOCKS_EXCLUDED(mu_);
  void RemoveTenant(TenantId tenant) noexcept ABSL_LOCKS_EXCLUDED(mu_);
  size_t EvictTo(size_t target_units) noexcept ABSL_LOCKS_EXCLUDED(mu_);
  // Above the budget: evicts down to the budget less the headroom. Within
  // it, or without one: returns 0.
  size_t EvictOverBudget() noexcept ABSL_LOCKS_EXCLUDED(mu_);

  size_t stored_units() const { return stored_units_.load(std::memory_order_relaxed); }
  size_t node_count() const { return node_count_.load(std::memory_order_relaxed); }
  size_t memory_bytes() const ABSL_LOCKS_EXCLUDED(stats_mu_);
  size_t tenant_units(TenantId tenant) const ABSL_LOCKS_EXCLUDED(stats_mu_);
  size_t evicted_units_total() const { return evicted_total_.load(std::memory_order_relaxed); }
  size_t eviction_examined_total() const { return examined_total_.load(std::memory_order_relaxed); }
  const TreeOptions& options() const { return options_; }
  absl::Status CheckInvariants() const ABSL_LOCKS_EXCLUDED(mu_, stats_mu_);
  void set_unlocked_hook(std::function<void()> hook) { unlocked_hook_ = std::move(hook); }
  using InsertHookPoint = typename RadixTree<Unit>::InsertHookPoint;
  void set_insert_hook(std::function<void(InsertHookPoint)> hook) { insert_hook_ = std::move(hook); }
  bool has_pending_inserts() const { return pending_.load(std::memory_order_acquire) != nullptr; }
  size_t handed_over_total() const { return handed_over_total_.load(std::memory_order_relaxed); }
  size_t retired_count() const ABSL_LOCKS_EXCLUDED(mu_) {
    ReaderLock lock(&mu_);
    return retired_.size();
  }

 private:
  // A leaf for key[at, units), built before the exclusive lock is taken
  // (allocation, first-touch page faults, copying the key's new tail): the
  // exclusive section then only links it in. Used if the insert creates its
  // leaf at `at` (always, unless another writer changed the path meanwhile);
  // else freed.
  struct PreparedLeaf {
    NodeT* node = nullptr;
    size_t at = 0;
  };

  struct Descent {
    NodeT* deepest = nullptr;  // deepest node the key reaches into
    size_t matched = 0;        // units matched (page aligned)
    NodeT* base = nullptr;        // the last node matched whole (the root at least)
    size_t base_units = 0;        // units up to the end of `base`
    size_t base_len = 0;          // base's edge length when the descent saw it
    uint64_t frees_seen = 0;      // `frees_` when the descent started
    // When `deepest` is a child of `base` that the key leaves inside or
    // ends in: its edge as compared, so that an insert resuming from `base`
    // need not compare it again (see InsertLocked).
    const Unit* deepest_edge = nullptr;
    size_t deepest_len = 0;
    // Set by PinForInsert: the descent's nodes stay allocated (at worst
    // retired) until UnpinAfterInsert, so BaseStillValid can look at them.
    bool pinned = false;
    uint64_t outer_pin = 0;
  };

  size_t Aligned(size_t units) const { return page_ == 1 ? units : units / page_ * page_; }
  // Exclusive holders advance the clocks with a load and a store, not a
  // locked read-modify-write: there is one at a time, and no reader takes a
  // tick meanwhile. A locked instruction also waits for the insert's earlier
  // stores (the new leaf's copy of the key) to leave the store buffer: in
  // the token route replay that wait was 80% of `ApplyInsert`'s samples;
  // `tree_benchmark`'s inserts are 2-4% faster without it.
  uint64_t NextTick() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return BumpExclusive(clock_); }
  uint64_t UseTick() const { return clock_.load(std::memory_order_relaxed) + 1; }
  // Under the shared lock, where several readers may take one at once.
  uint64_t NextOwnerTick() const {
    return (owner_clock_.fetch_add(1, std::memory_order_relaxed) + 1) << kOwnerTickLowBits;
  }
  uint64_t NextOwnerTickExclusive() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return BumpExclusive(owner_clock_) << kOwnerTickLowBits;
  }
  static uint64_t BumpExclusive(std::atomic<uint64_t>& clock) {
    const uint64_t next = clock.load(std::memory_order_relaxed) + 1;
    clock.store(next, std::memory_order_relaxed);
    return next;
  }

  // --- Reads: callers hold mu_ (shared or exclusive). ---
  NodeT* FindChild(const NodeT* node, const Unit* key) const;
  // Called and returns with the shared lock held; may release it in between
  // (see "Long edges are compared unlocked" above).
  Descent Descend(const Unit* key, size_t units) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  static void FillOwners(const NodeT* node, PrefixMatch& match);
  static int FindOwner(const NodeT* node, TenantId tenant);
  // Records a use by `tenant` (it must own `deepest`) of the path from
  // `deepest` up: `deepest`'s tick is raised to UseTick(), and `tenant`
  // becomes the most recent owner of every node on it (see "Recency" above).
  void TouchOwnerPath(NodeT* deepest, TenantId tenant) const;
  // The latest tick among the owners of `node` other than owner `i`; for
  // nodes with 2 to kMaxOwnersChecked owners.
  static uint64_t LatestOtherOwnerTick(const NodeT* node, int i);
  // Makes `tenant` the most recent owner of `node` unless it already is (no
  // write then): its tick becomes the node's latest owner tick + 1, or a
  // fresh tick from `owner_clock_` (see "Recency" above). Shared lock.
  void RefreshOwner(NodeT* node, TenantId tenant) const;
  // Makes owner `i` of `node` its most recent, with `tick` from the clock,
  // unless it already is. Exclusive lock.
  static void StampOwner(NodeT* node, int i, uint64_t tick);

  // --- Writes: callers hold mu_ exclusively. ---
  // A new node with an edge of `units` units, initialized but not yet
  // counted in the statistics: needs no lock (see PreparedLeaf).
  static NodeT* MakeNode(size_t units);
  // Counts a node made by MakeNode in the statistics.
  void Account(const NodeT* node) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  NodeT* AllocNode(size_t units) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  NodeT* NewNode(const Unit* edge, size_t units) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void FreeShell(NodeT* node) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void FreeOwnerHeap(NodeT* node) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void FreeChildBlock(NodeT* node) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ResizeOwners(NodeT* node, uint32_t cap) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void AddOwner(NodeT* node, TenantId tenant, uint64_t tick) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void CopyOwners(const NodeT* from, NodeT* to) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RemoveOwnerAt(NodeT* node, int index) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Child blocks (see kMaxSortedChildren): a sorted array below
  // kMinHashedSlots slots, else a hash table.
  // Hash of the first page at `page`; a table slot's home is its top bits.
  uint64_t PageHash(const Unit* page) const;
  static uint32_t HomeSlot(uint64_t hash, uint32_t cap) {
    return static_cast<uint32_t>(hash >> (64 - std::countr_zero(cap)));
  }
  // Moves the children to a new block of `cap` slots (either layout); into
  // an array, in the order of the old block's slots.
  void ResizeChildren(NodeT* node, uint32_t cap) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Sorts an array's children by first unit (after it was a table).
  static void SortChildren(NodeT* node);
  // Puts `child` in the free slot of its probe run; the table has room.
  void HashPut(NodeT* node, NodeT* child, Unit first) const;
  // Empties `slot` and moves the rest of its probe run back over the hole.
  void HashErase(NodeT* node, uint32_t slot) const;
  uint32_t ChildSlot(const NodeT* parent, const NodeT* child) const;
  void SetOnlyChild(NodeT* parent, NodeT* child) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void AttachChild(NodeT* parent, NodeT* child) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool DetachChild(NodeT* parent, NodeT* child) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ReplaceChild(NodeT* parent, const NodeT* old_child, NodeT* new_child) const;
  void QueuePushFront(NodeT* node, uint64_t queued) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void QueuePushBack(NodeT* node, uint64_t queued) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void QueueUnlink(NodeT* node) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void QueueTakeOver(NodeT* node) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  NodeT* Split(NodeT* node, size_t units) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  NodeT* Relocate(NodeT* node) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void TryMerge(NodeT* node) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void FreeSubtree(NodeT* top) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Inserts key[0, units) for `tenant`, descending from the base of
  // `resume` (a Descent for which BaseStillValid holds), or from the root
  // when it is null. `prepared` (may be empty) is used for the new leaf if it
  // fits.
  void InsertLocked(const Unit* key, size_t units, TenantId tenant, uint64_t tick, const Descent* resume,
                    PreparedLeaf& prepared) noexcept ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The leaf an insert of key[0, units) after descent `d` would create.
  static PreparedLeaf PrepareLeaf(const Unit* key, size_t units, const Descent& d);
  // Frees a prepared leaf that was not used (it was never in the tree).
  static void DiscardPrepared(PreparedLeaf& prepared);
  void MaybeEvictInline() noexcept ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  size_t EvictToLocked(size_t target_units) noexcept ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  size_t EvictLeaf(NodeT* leaf) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_, stats_mu_);
  bool RemovedSince(uint64_t seen, TenantId tenant) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // Called under the shared lock when `d` is to be resumed by an insert:
  // keeps the nodes it reached from being freed until UnpinAfterInsert
  // (threads with a slot of their own; see tree_lock.h).
  void PinForInsert(Descent& d) const ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    if (!mu_.OwnsSlot()) return;
    d.outer_pin = mu_.Pin(d.frees_seen);
    d.pinned = true;
  }
  void UnpinAfterInsert(const Descent& d) const {
    if (d.pinned) mu_.Unpin(d.outer_pin);
  }
  // Whether `d` may be resumed from its base (see "One descent" above): the
  // base is still in the tree (pinned: it may have been retired, not freed;
  // else nothing may have been freed since) with the edge the descent saw.
  bool BaseStillValid(const Descent& d) const ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    const bool linked = d.pinned ? d.base == root_ || d.base->parent != nullptr : frees_ == d.frees_seen;
    return linked && d.base->edge_len == d.base_len;
  }
  // Frees the retired nodes no pinned reader can reach. Every writer that
  // may free a node calls it before it releases the lock.
  void ReclaimRetired() noexcept ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Credit(TenantId tenant, size_t units) ABSL_LOCKS_EXCLUDED(stats_mu_);

  // An insert whose descent is done, ready for the exclusive lock (see
  // "Combined inserts"). Lives on its thread's stack until `done`.
  struct PendingInsert {
    const Unit* key = nullptr;
    size_t units = 0;
    TenantId tenant = kNoTenant;
    Descent* descent = nullptr;
    PreparedLeaf* prepared = nullptr;
    // MatchAndInsert: skip the insert if `tenant` was removed after the
    // decision (removals_ was `seen_removals` then).
    bool check_removals = false;
    uint64_t seen_removals = 0;
    PendingInsert* next = nullptr;  // the list's link
    std::atomic<bool> done{false};
  };
  // Finishes an insert of key[0, units) for `tenant` whose descent `d` was
  // pinned (PinForInsert) under the shared lock, now released: prepares the
  // leaf, then commits. If preparing throws, unpins and rethrows.
  void InsertPinned(const Unit* key, size_t units, TenantId tenant, Descent& d, bool check_removals,
                    uint64_t seen_removals) ABSL_LOCKS_EXCLUDED(mu_);
  // Applies `op` under the exclusive lock, by whichever thread holds it.
  void CommitInsert(PendingInsert& op) noexcept ABSL_LOCKS_EXCLUDED(mu_);
  void ApplyInsert(PendingInsert& op) noexcept ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Applies the published inserts, oldest first, up to kMaxCombineRounds
  // batches. `own`: the caller's, if it published one (not counted as
  // handed over).
  void ApplyPending(const PendingInsert* own) noexcept ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const TreeOptions options_;
  const size_t page_;

  mutable TreeLock mu_;

  // The members are grouped by who writes them, so that routing threads
  // that only read (and the descents of inserts) do not keep missing on
  // cache lines that another thread's inserts just wrote.

  // Read by every descent, written rarely (frees, tenant removals).
  alignas(64) NodeT* root_ ABSL_GUARDED_BY(mu_) = nullptr;
  // Bumped by every node free, so a descent made under the shared lock can
  // be resumed after re-locking (BaseStillValid); a retired node's number.
  uint64_t frees_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t removals_ ABSL_GUARDED_BY(mu_) = 0;
  // Test hook: runs in the unlocked window of a descent (see
  // RadixTree::SetUnlockedCompareHookForTesting).
  std::function<void()> unlocked_hook_;
  // Test hook: RadixTree::SetInsertHookForTesting.
  std::function<void(InsertHookPoint)> insert_hook_;

  // Node recency (eviction): advanced by writers only (see "Recency"), read
  // by every match.
  alignas(64) std::atomic<uint64_t> clock_{0};
  // Owner order: advanced by every insert and by the refreshes that cannot
  // count within their node (see "Recency").
  alignas(64) mutable std::atomic<uint64_t> owner_clock_{0};

  // Written by writers only (under the exclusive lock).
  alignas(64) NodeT* queue_head_ ABSL_GUARDED_BY(mu_) = nullptr;  // young end
  NodeT* queue_tail_ ABSL_GUARDED_BY(mu_) = nullptr;               // old end: next to examine
  // Nodes unlinked but maybe still read by a pinned descent, with their
  // numbers (ascending).
  std::vector<std::pair<uint64_t, NodeT*>> retired_ ABSL_GUARDED_BY(mu_);
  // Whether this writer found a pinned descent (FreeShell; valid while
  // `pins_checked_`, reset by ReclaimRetired).
  bool pins_checked_ ABSL_GUARDED_BY(mu_) = false;
  bool any_pin_ ABSL_GUARDED_BY(mu_) = false;
  TenantId removed_ring_[kRemovedRing] ABSL_GUARDED_BY(mu_) = {};
  // Also read anywhere (statistics).
  std::atomic<size_t> stored_units_{0};
  std::atomic<size_t> node_count_{0};
  std::atomic<size_t> node_bytes_{0};
  std::atomic<size_t> evicted_total_{0};
  std::atomic<size_t> examined_total_{0};
  std::atomic<size_t> handed_over_total_{0};

  // Inserts published for the lock holder (a stack: newest first). Written
  // by a thread that found the lock taken and by the holder that takes them.
  alignas(64) std::atomic<PendingInsert*> pending_{nullptr};

  alignas(64) mutable SpinLock stats_mu_ ABSL_ACQUIRED_AFTER(mu_);
  absl::flat_hash_map<TenantId, size_t> tenant_units_ ABSL_GUARDED_BY(stats_mu_);
};

// ----------------------------------------------------------------------------
// Construction and destruction.

template <typename Unit>
TreeCore<Unit>::TreeCore(TreeOptions options)
    : options_(EffectiveOptions(options)), page_(options_.page_size) {
  WriterLock lock(&mu_);
  root_ = AllocNode(0);
  SubFrom(node_count_, 1);  // the root is not counted
}

template <typename Unit>
TreeCore<Unit>::~TreeCore() {
  WriterLock lock(&mu_);
  // Iterative: trees may be arbitrarily deep.
  std::vector<NodeT*> stack{root_};
  while (!stack.empty()) {
    NodeT* node = stack.back();
    stack.pop_back();
    if (!node->is_leaf()) {
      NodeT** ptrs = node->child_ptrs();
      for (uint32_t i = 0; i < node->child_count; ++i) {
        if (ptrs[i] != nullptr) stack.push_back(ptrs[i]);
      }
      ::operator delete(node->link.children);
    }
    if (node->owner_cap > 1) ::operator delete(node->owners.many);
    ::operator delete(node);
  }
  for (const auto& [seq, node] : retired_) ::operator delete(node);  // no reader is left
}

// ----------------------------------------------------------------------------
// Reads.

template <typename Unit>
Node<Unit>* TreeCore<Unit>::FindChild(const NodeT* node, const Unit* key) const {
  if (node->is_leaf()) return nullptr;
  NodeT* const* ptrs = node->child_ptrs();
  const Unit* firsts = node->child_firsts();
  // Children differ in their first page; with pages of several units they
  // may share a first unit (a sequence's first token), so the page decides.
  auto is_child = [&](uint32_t i) {
    return firsts[i] == key[0] && (page_ == 1 || std::memcmp(ptrs[i]->edge(), key, page_ * sizeof(Unit)) == 0);
  };
  if (node->is_hashed()) {
    const uint32_t mask = node->child_cap - 1;
    for (uint32_t i = HomeSlot(PageHash(key), node->child_cap); ptrs[i] != nullptr; i = (i + 1) & mask) {
      if (is_child(i)) return ptrs[i];
    }
    return nullptr;
  }
  const uint32_t count = node->child_count;
  for (uint32_t i = static_cast<uint32_t>(std::lower_bound(firsts, firsts + count, key[0]) - firsts);
       i < count && firsts[i] == key[0]; ++i) {
    if (is_child(i)) return ptrs[i];
  }
  return nullptr;
}

template <typename Unit>
typename TreeCore<Unit>::Descent TreeCore<Unit>::Descend(const Unit* key, size_t units) const {
  for (bool may_unlock = mu_.OwnsSlot();; may_unlock = false) {
    Descent d;
    d.frees_seen = frees_;
    NodeT* node = root_;
    size_t pos = 0;
    bool intact = true;
    while (pos < units) {
      NodeT* child = FindChild(node, key + pos);
      if (child == nullptr) break;
      const Unit* edge = child->edge();
      const size_t edge_len = child->edge_len;
      const size_t node_len = node->edge_len;  // `node` may be retired in the window below
      const size_t len = std::min(edge_len, units - pos);
      size_t m;
      if (may_unlock && len * sizeof(Unit) >= kUnlockedCompareBytes) {
        const uint64_t outer_pin = mu_.Pin(frees_);
        mu_.ReaderUnlock();
        if (unlocked_hook_) unlocked_hook_();
        m = MismatchUnits(edge, key + pos, len);
        mu_.ReaderLock();
        // Still linked in (retired nodes have no parent), with the same edge.
        intact = child->parent != nullptr && child->edge() == edge && child->edge_len == edge_len;
        mu_.Unpin(outer_pin);
        if (!intact) break;
      } else {
        m = MismatchUnits(edge, key + pos, len);
      }
      // FindChild matched the first page, so m >= page_.
      m = Aligned(m);
      d.deepest = child;
      if (m < edge_len) {
        d.base = node;
        d.base_units = pos;
        d.base_len = node_len;
        d.matched = pos + m;
        d.deepest_edge = edge;
        d.deepest_len = edge_len;
        return d;
      }
      pos += m;
      node = child;
    }
    if (!intact) continue;  // again, locked throughout
    d.base = node;
    d.base_units = pos;
    d.base_len = node->edge_len;
    d.matched = pos;
    return d;
  }
}

template <typename Unit>
int TreeCore<Unit>::FindOwner(const NodeT* node, TenantId tenant) {
  const Owner* owners = node->owner_data();
  const Owner* end = owners + node->owner_count;
  const Owner* it =
      std::lower_bound(owners, end, tenant, [](const Owner& o, TenantId t) { return o.tenant < t; });
  return it != end && it->tenant == tenant ? static_cast<int>(it - owners) : -1;
}

template <typename Unit>
void TreeCore<Unit>::FillOwners(const NodeT* node, PrefixMatch& match) {
  const Owner* owners = node->owner_data();
  const uint32_t count = node->owner_count;
  if (count == 1) {
    match.owners.push_back(owners[0].tenant);
    return;
  }
  if (count <= kMaxOwnersRanked) {
    // Each owner's place is the number of owners ahead of it: no branch per
    // comparison, unlike a sort, whose branches a random tick order defeats.
    // Ticks are read once: other readers may raise them meanwhile, and ranks
    // over one snapshot always form a permutation.
    uint64_t ticks[kMaxOwnersRanked];
    for (uint32_t i = 0; i < count; ++i) ticks[i] = LoadTick(owners[i].tick);
    match.owners.resize(count);
    for (uint32_t i = 0; i < count; ++i) {
      uint32_t ahead = 0;
      // Owners are sorted by tenant: on equal ticks, those before i go first.
      for (uint32_t j = 0; j < i; ++j) ahead += ticks[j] >= ticks[i];
      for (uint32_t j = i + 1; j < count; ++j) ahead += ticks[j] > ticks[i];
      match.owners[ahead] = owners[i].tenant;
    }
    return;
  }
  absl::InlinedVector<std::pair<uint64_t, TenantId>, 8> order;
  order.reserve(count);
  for (uint32_t i = 0; i < count; ++i) order.emplace_back(LoadTick(owners[i].tick), owners[i].tenant);
  // Most recent first; equal ticks: lower id first.
  std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  match.owners.reserve(count);
  for (const auto& [tick, tenant] : order) match.owners.push_back(tenant);
}

template <typename Unit>
uint64_t TreeCore<Unit>::LatestOtherOwnerTick(const NodeT* node, int i) {
  const Owner* owners = node->owner_data();
  uint64_t latest = 0;
  for (uint32_t j = 0; j < node->owner_count; ++j) {
    if (j != static_cast<uint32_t>(i)) latest = std::max(latest, LoadTick(owners[j].tick));
  }
  return latest;
}

template <typename Unit>
void TreeCore<Unit>::RefreshOwner(NodeT* node, TenantId tenant) const {
  const uint32_t count = node->owner_count;
  if (count == 1) return;  // the only owner is the latest
  Owner* owners = node->owner_data();
  // Reading every tick costs a load per owner; past a few owners, taking one
  // from the clock is cheaper.
  if (count > kMaxOwnersChecked) {
    const int i = FindOwner(node, tenant);
    if (i >= 0) RaiseTick(owners[i].tick, NextOwnerTick());
    return;
  }
  // One pass over ids and ticks together, not a binary search for the id
  // and then the ticks: a node on every path (a chat template's) has its
  // owner lines taken by every core that refreshes it, and these loads are
  // independent, so their misses overlap instead of following each other.
  int mine = -1;
  uint64_t own_tick = 0;
  uint64_t latest_other = 0;
  for (uint32_t j = 0; j < count; ++j) {
    const uint64_t tick = LoadTick(owners[j].tick);
    if (owners[j].tenant == tenant) {
      mine = static_cast<int>(j);
      own_tick = tick;
    } else {
      latest_other = std::max(latest_other, tick);
    }
  }
  if (mine < 0 || own_tick > latest_other) return;  // not an owner (cannot happen), or the latest
  const uint64_t next = latest_other + 1;
  // Carrying into the next block would tie with a tick the clock hands out.
  RaiseTick(owners[mine].tick, (next & kOwnerTickLowMask) != 0 ? next : NextOwnerTick());
}

template <typename Unit>
void TreeCore<Unit>::StampOwner(NodeT* node, int i, uint64_t tick) {
  const uint32_t count = node->owner_count;
  Owner& owner = node->owner_data()[i];
  if (count == 1) return;  // the only owner is the latest
  if (count <= kMaxOwnersChecked && owner.tick > LatestOtherOwnerTick(node, i)) return;
  StoreTick(owner.tick, tick);
}

template <typename Unit>
void TreeCore<Unit>::TouchOwnerPath(NodeT* deepest, TenantId tenant) const {
  RaiseTick(deepest->tick, UseTick());
  for (NodeT* node = deepest; node->parent != nullptr; node = node->parent) RefreshOwner(node, tenant);
}

template <typename Unit>
PrefixMatch TreeCore<Unit>::Match(absl::Span<const Unit> key) const {
  PrefixMatch match;
  match.key_units = Aligned(key.size());
  if (match.key_units == 0) return match;
  ReaderLock lock(&mu_);
  const Descent d = Descend(key.data(), match.key_units);
  if (d.deepest != nullptr) {
    match.matched_units = d.matched;
    FillOwners(d.deepest, match);
    RaiseTick(d.deepest->tick, UseTick());
  }
  return match;
}

// ----------------------------------------------------------------------------
// Allocation and accounting.

template <typename Unit>
Node<Unit>* TreeCore<Unit>::MakeNode(size_t units) {
  NodeT* node = new (::operator new(NodeT::AllocBytes(units))) NodeT;
  node->parent = nullptr;
  node->tick = 0;
  node->edge_off = 0;
  node->child_dead = 0;
  node->tail_dead = 0;
  node->edge_len = units;
  node->child_count = 0;
  node->child_cap = 0;
  node->owner_count = 0;
  node->owner_cap = 1;
  node->link.leaf = {nullptr, nullptr, 0};
  node->owners.one = Owner{kNoTenant, 0, 0};
  return node;
}

template <typename Unit>
void TreeCore<Unit>::Account(const NodeT* node) {
  AddTo(node_bytes_, NodeT::AllocBytes(node->buffer_units()));
  AddTo(node_count_, 1);
}

template <typename Unit>
Node<Unit>* TreeCore<Unit>::AllocNode(size_t units) {
  NodeT* node = MakeNode(units);
  Account(node);
  return node;
}

template <typename Unit>
typename TreeCore<Unit>::PreparedLeaf TreeCore<Unit>::PrepareLeaf(const Unit* key, size_t units,
                                                                  const Descent& d) {
  PreparedLeaf prepared;
  if (d.matched >= units) return prepared;
  prepared.node = MakeNode(units - d.matched);
  std::memcpy(prepared.node->buffer(), key + d.matched, (units - d.matched) * sizeof(Unit));
  prepared.at = d.matched;
  return prepared;
}

template <typename Unit>
void TreeCore<Unit>::DiscardPrepared(PreparedLeaf& prepared) {
  if (prepared.node != nullptr) ::operator delete(prepared.node);
  prepared.node = nullptr;
}

template <typename Unit>
Node<Unit>* TreeCore<Unit>::NewNode(const Unit* edge, size_t units) {
  NodeT* node = AllocNode(units);
  std::memcpy(node->buffer(), edge, units * sizeof(Unit));
  return node;
}

template <typename Unit>
void TreeCore<Unit>::FreeShell(NodeT* node) {
  SubFrom(node_bytes_, NodeT::AllocBytes(node->buffer_units()));
  SubFrom(node_count_, 1);
  ++frees_;
  // Pins are set only under the shared lock, so while this writer holds the
  // lock the set of pins cannot grow: if no descent is pinned now, none can
  // reach this node, and it goes at once.
  if (!pins_checked_) {
    any_pin_ = mu_.OldestPin() != UINT64_MAX;
    pins_checked_ = true;
  }
  if (!any_pin_) {
    ::operator delete(node);
    return;
  }
  node->parent = nullptr;  // what a pinned descent checks
  retired_.emplace_back(frees_ - 1, node);
}

template <typename Unit>
void TreeCore<Unit>::ReclaimRetired() noexcept {
  pins_checked_ = false;  // the next writer looks again
  if (retired_.empty()) return;
  const uint64_t oldest = mu_.OldestPin();
  size_t freed = 0;
  while (freed < retired_.size() && retired_[freed].first < oldest) ::operator delete(retired_[freed++].second);
  retired_.erase(retired_.begin(), retired_.begin() + static_cast<ptrdiff_t>(freed));
}

template <typename Unit>
void TreeCore<Unit>::FreeOwnerHeap(NodeT* node) {
  if (node->owner_cap > 1) {
    ::operator delete(node->owners.many);
    SubFrom(node_bytes_, node->owner_cap * sizeof(Owner));
    node->owner_cap = 1;
    node->owner_count = 0;
  }
}

template <typename Unit>
void TreeCore<Unit>::FreeChildBlock(NodeT* node) {
  if (node->child_cap > 0) {
    ::operator delete(node->link.children);
    SubFrom(node_bytes_, NodeT::ChildBlockBytes(node->child_cap));
    node->child_cap = 0;
    node->child_count = 0;
    node->child_dead = 0;
    node->link.leaf = {nullptr, nullptr, 0};
  }
}

template <typename Unit>
void TreeCore<Unit>::Credit(TenantId tenant, size_t units) {
  SpinLockHolder lock(&stats_mu_);
  tenant_units_[tenant] += units;
}

// ----------------------------------------------------------------------------
// Owner arrays: sorted by tenant id; the first owner inline.

template <typename Unit>
void TreeCore<Unit>::ResizeOwners(NodeT* node, uint32_t cap) {
  const Owner* old = node->owner_data();
  const uint32_t count = node->owner_count;
  if (cap <= 1) {
    const Owner only = count > 0 ? old[0] : Owner{kNoTenant, 0, 0};
    FreeOwnerHeap(node);
    node->owners.one = only;
    node->owner_count = count;
    return;
  }
  Owner* fresh = static_cast<Owner*>(::operator new(cap * sizeof(Owner)));
  std::memcpy(fresh, old, count * sizeof(Owner));
  FreeOwnerHeap(node);
  node->owners.many = fresh;
  node->owner_cap = cap;
  node->owner_count = count;
  AddTo(node_bytes_, cap * sizeof(Owner));
}

template <typename Unit>
void TreeCore<Unit>::AddOwner(NodeT* node, TenantId tenant, uint64_t tick) {
  if (node->owner_count == node->owner_cap) ResizeOwners(node, node->owner_cap == 1 ? 2 : node->owner_cap * 2);
  Owner* owners = node->owner_data();
  const uint32_t count = node->owner_count;
  uint32_t i = 0;
  while (i < count && owners[i].tenant < tenant) ++i;
  std::memmove(owners + i + 1, owners + i, (count - i) * sizeof(Owner));
  owners[i] = Owner{tenant, 0, tick};
  node->owner_count = count + 1;
}

template <typename Unit>
void TreeCore<Unit>::CopyOwners(const NodeT* from, NodeT* to) {
  const uint32_t count = from->owner_count;
  if (count > 1) ResizeOwners(to, count);
  std::memcpy(to->owner_data(), from->owner_data(), count * sizeof(Owner));
  to->owner_count = count;
}

template <typename Unit>
void TreeCore<Unit>::RemoveOwnerAt(NodeT* node, int index) {
  Owner* owners = node->owner_data();
  const uint32_t i = static_cast<uint32_t>(index);
  std::memmove(owners + i, owners + i + 1, (node->owner_count - i - 1) * sizeof(Owner));
  --node->owner_count;
  if (node->owner_cap > 1 && node->owner_count <= 1) {
    ResizeOwners(node, 1);
  } else if (node->owner_cap >= 8 && node->owner_count <= node->owner_cap / 4) {
    ResizeOwners(node, node->owner_cap / 2);
  }
}

// ----------------------------------------------------------------------------
// Child blocks: Node*[cap] then Unit[cap] (the children's first units), a
// sorted array or a hash table (radix_node.h, kMaxSortedChildren).

template <typename Unit>
uint64_t TreeCore<Unit>::PageHash(const Unit* page) const {
  if (page_ > 1) return XXH3_64bits(page, page_ * sizeof(Unit));
  // Fibonacci hashing: consecutive ids (a trace's block hashes) spread over
  // the top bits, which pick the home slot.
  return (static_cast<uint64_t>(static_cast<std::make_unsigned_t<Unit>>(page[0])) + 1) * 0x9E3779B97F4A7C15ull;
}

template <typename Unit>
void TreeCore<Unit>::ResizeChildren(NodeT* node, uint32_t cap) {
  const bool had_block = !node->is_leaf();
  void* old_block = had_block ? node->link.children : nullptr;
  NodeT* const* old_ptrs = had_block ? node->child_ptrs() : nullptr;
  const Unit* old_firsts = had_block ? node->child_firsts() : nullptr;
  const uint32_t old_slots = node->child_count;
  const uint32_t old_cap = node->child_cap;

  node->link.children = ::operator new(NodeT::ChildBlockBytes(cap));
  node->child_cap = cap;
  NodeT** ptrs = node->child_ptrs();
  Unit* firsts = node->child_firsts();
  if (node->is_hashed()) {
    std::fill_n(ptrs, cap, nullptr);
    node->child_count = cap;
    node->child_dead = cap;
    for (uint32_t i = 0; i < old_slots; ++i) {
      if (old_ptrs[i] != nullptr) HashPut(node, old_ptrs[i], old_firsts[i]);
    }
  } else {
    uint32_t count = 0;
    for (uint32_t i = 0; i < old_slots; ++i) {
      if (old_ptrs[i] == nullptr) continue;  // a free slot of a table
      ptrs[count] = old_ptrs[i];
      firsts[count] = old_firsts[i];
      ++count;
    }
    node->child_count = count;
    node->child_dead = 0;
  }
  if (old_block != nullptr) {
    ::operator delete(old_block);
    SubFrom(node_bytes_, NodeT::ChildBlockBytes(old_cap));
  }
  AddTo(node_bytes_, NodeT::ChildBlockBytes(cap));
}

template <typename Unit>
void TreeCore<Unit>::SortChildren(NodeT* node) {
  NodeT** ptrs = node->child_ptrs();
  Unit* firsts = node->child_firsts();
  // Insertion sort: at most kMaxSortedChildren entries.
  for (uint32_t i = 1; i < node->child_count; ++i) {
    for (uint32_t j = i; j > 0 && firsts[j - 1] > firsts[j]; --j) {
      std::swap(firsts[j - 1], firsts[j]);
      std::swap(ptrs[j - 1], ptrs[j]);
    }
  }
}

template <typename Unit>
void TreeCore<Unit>::HashPut(NodeT* node, NodeT* child, Unit first) const {
  NodeT** ptrs = node->child_ptrs();
  const uint32_t mask = node->child_cap - 1;
  uint32_t i = HomeSlot(PageHash(child->edge()), node->child_cap);
  while (ptrs[i] != nullptr) i = (i + 1) & mask;
  ptrs[i] = child;
  node->child_firsts()[i] = first;
  --node->child_dead;
}

template <typename Unit>
void TreeCore<Unit>::HashErase(NodeT* node, uint32_t slot) const {
  NodeT** ptrs = node->child_ptrs();
  Unit* firsts = node->child_firsts();
  const uint32_t mask = node->child_cap - 1;
  // Backward shift: an entry further down the run moves into the hole when
  // the hole lies between its home slot and its slot, so every entry stays
  // reachable from its home without crossing an empty slot.
  uint32_t hole = slot;
  for (uint32_t j = (slot + 1) & mask; ptrs[j] != nullptr; j = (j + 1) & mask) {
    const uint32_t home = HomeSlot(PageHash(page_ == 1 ? &firsts[j] : ptrs[j]->edge()), node->child_cap);
    if (((j - home) & mask) >= ((j - hole) & mask)) {
      ptrs[hole] = ptrs[j];
      firsts[hole] = firsts[j];
      hole = j;
    }
  }
  ptrs[hole] = nullptr;
  ++node->child_dead;
}

template <typename Unit>
uint32_t TreeCore<Unit>::ChildSlot(const NodeT* parent, const NodeT* child) const {
  NodeT* const* ptrs = parent->child_ptrs();
  if (parent->is_hashed()) {
    const uint32_t mask = parent->child_cap - 1;
    uint32_t i = HomeSlot(PageHash(child->edge()), parent->child_cap);
    while (ptrs[i] != child) i = (i + 1) & mask;  // the child is there
    return i;
  }
  const Unit* firsts = parent->child_firsts();
  uint32_t i = static_cast<uint32_t>(std::lower_bound(firsts, firsts + parent->child_count, child->edge()[0]) - firsts);
  while (ptrs[i] != child) ++i;  // the child is there
  return i;
}

template <typename Unit>
void TreeCore<Unit>::SetOnlyChild(NodeT* parent, NodeT* child) {
  // `parent` has no children and is not queued: a new node, or a split node
  // whose children and queue position moved down to `child`.
  ResizeChildren(parent, 1);
  parent->child_ptrs()[0] = child;
  parent->child_firsts()[0] = child->edge()[0];
  parent->child_count = 1;
  child->parent = parent;
}

template <typename Unit>
void TreeCore<Unit>::AttachChild(NodeT* parent, NodeT* child) {
  if (parent->is_leaf()) {
    if (parent != root_) QueueUnlink(parent);  // no longer a leaf
    ResizeChildren(parent, 1);
  } else if (parent->is_hashed()) {
    if ((parent->live_children() + 1) * 2 > parent->child_cap) ResizeChildren(parent, parent->child_cap * 2);
  } else if (parent->child_count == parent->child_cap) {
    ResizeChildren(parent, parent->child_cap < kMaxSortedChildren ? parent->child_cap * 2 : kMinHashedSlots);
  }
  child->parent = parent;
  const Unit first = child->edge()[0];
  if (parent->is_hashed()) {
    HashPut(parent, child, first);
    return;
  }
  NodeT** ptrs = parent->child_ptrs();
  Unit* firsts = parent->child_firsts();
  const uint32_t count = parent->child_count;
  const uint32_t i = static_cast<uint32_t>(std::upper_bound(firsts, firsts + count, first) - firsts);
  std::memmove(ptrs + i + 1, ptrs + i, (count - i) * sizeof(NodeT*));
  std::memmove(firsts + i + 1, firsts + i, (count - i) * sizeof(Unit));
  ptrs[i] = child;
  firsts[i] = first;
  parent->child_count = count + 1;
}

template <typename Unit>
bool TreeCore<Unit>::DetachChild(NodeT* parent, NodeT* child) {
  const uint32_t i = ChildSlot(parent, child);
  if (parent->is_hashed()) {
    HashErase(parent, i);
    // At most an eighth full: halve, or go back to a sorted array (the
    // table had kMinHashedSlots / 8 - 1 children left at most).
    if (parent->live_children() < parent->child_cap / 8) {
      if (parent->child_cap > kMinHashedSlots) {
        ResizeChildren(parent, parent->child_cap / 2);
      } else {
        ResizeChildren(parent, kMaxSortedChildren);  // in slot order
        SortChildren(parent);
      }
    }
    return false;  // a table keeps kMinHashedSlots / 8 children or more
  }
  NodeT** ptrs = parent->child_ptrs();
  Unit* firsts = parent->child_firsts();
  const uint32_t count = parent->child_count;
  std::memmove(ptrs + i, ptrs + i + 1, (count - i - 1) * sizeof(NodeT*));
  std::memmove(firsts + i, firsts + i + 1, (count - i - 1) * sizeof(Unit));
  parent->child_count = count - 1;
  if (parent->child_count == 0) {
    FreeChildBlock(parent);
    return parent != root_;
  }
  if (parent->child_cap >= 8 && parent->child_count <= parent->child_cap / 4) {
    ResizeChildren(parent, parent->child_cap / 2);
  }
  return false;
}

template <typename Unit>
void TreeCore<Unit>::ReplaceChild(NodeT* parent, const NodeT* old_child, NodeT* new_child) const {
  // Same first unit, same slot.
  parent->child_ptrs()[ChildSlot(parent, old_child)] = new_child;
  new_child->parent = parent;
}

// ----------------------------------------------------------------------------
// The eviction queue.

template <typename Unit>
void TreeCore<Unit>::QueuePushFront(NodeT* node, uint64_t queued) {
  node->link.leaf = {nullptr, queue_head_, queued};
  if (queue_head_ != nullptr) {
    queue_head_->link.leaf.prev = node;
  } else {
    queue_tail_ = node;
  }
  queue_head_ = node;
}

template <typename Unit>
void TreeCore<Unit>::QueuePushBack(NodeT* node, uint64_t queued) {
  node->link.leaf = {queue_tail_, nullptr, queued};
  if (queue_tail_ != nullptr) {
    queue_tail_->link.leaf.next = node;
  } else {
    queue_head_ = node;
  }
  queue_tail_ = node;
}

template <typename Unit>
void TreeCore<Unit>::QueueUnlink(NodeT* node) {
  NodeT* prev = node->link.leaf.prev;
  NodeT* next = node->link.leaf.next;
  (prev != nullptr ? prev->link.leaf.next : queue_head_) = next;
  (next != nullptr ? next->link.leaf.prev : queue_tail_) = prev;
  node->link.leaf = {nullptr, nullptr, 0};
}

// `node` was given a queued leaf's links (a copy of its `link`): point the
// neighbours at it.
template <typename Unit>
void TreeCore<Unit>::QueueTakeOver(NodeT* node) {
  NodeT* prev = node->link.leaf.prev;
  NodeT* next = node->link.leaf.next;
  (prev != nullptr ? prev->link.leaf.next : queue_head_) = node;
  (next != nullptr ? next->link.leaf.prev : queue_tail_) = node;
}

// ----------------------------------------------------------------------------
// Structural changes.

// Splits `node` after `units` units (0 < units < edge_len, page aligned) and
// returns the new upper node, which has the same owners and `node` as its
// only child.
template <typename Unit>
Node<Unit>* TreeCore<Unit>::Split(NodeT* node, size_t units) {
  const size_t tail = node->edge_len - units;
  // Copying the tail also moves the children over (a parent pointer each),
  // and leaves the tail dead in this node's buffer: only when that is cheap
  // and the node's dead tail stays within an eighth of its edge.
  const size_t dead_tail = size_t{node->tail_dead} + tail;
  const bool copy_tail = tail * sizeof(Unit) + 16 * size_t{node->child_count} < units * sizeof(Unit) &&
                         dead_tail <= units / kMaxDeadTailFraction && dead_tail <= UINT32_MAX;
  if (!copy_tail) {
    NodeT* upper = NewNode(node->edge(), units);
    upper->tick = node->tick;
    CopyOwners(node, upper);
    ReplaceChild(node->parent, node, upper);  // before node's edge moves
    node->edge_off += units;
    node->edge_len -= units;
    SetOnlyChild(upper, node);
    if (node->edge_off + node->tail_dead > node->edge_len) Relocate(node);
    return upper;
  }
  NodeT* lower = NewNode(node->edge() + units, tail);
  lower->tick = node->tick;
  CopyOwners(node, lower);
  // The children (or the queue position of a leaf) move down to `lower`.
  lower->child_count = node->child_count;
  lower->child_dead = node->child_dead;
  lower->child_cap = node->child_cap;
  lower->link = node->link;
  if (lower->is_leaf()) {
    QueueTakeOver(lower);
  } else {
    NodeT** ptrs = lower->child_ptrs();
    for (uint32_t i = 0; i < lower->child_count; ++i) {
      if (ptrs[i] != nullptr) ptrs[i]->parent = lower;
    }
  }
  node->child_count = 0;
  node->child_dead = 0;
  node->child_cap = 0;
  node->link.leaf = {nullptr, nullptr, 0};
  node->edge_len = units;
  node->tail_dead += static_cast<uint32_t>(tail);
  SetOnlyChild(node, lower);
  if (node->edge_off + node->tail_dead > node->edge_len) return Relocate(node);
  return node;
}

// Moves `node` (not the root) to a tight allocation; returns the new node.
template <typename Unit>
Node<Unit>* TreeCore<Unit>::Relocate(NodeT* node) {
  NodeT* moved = NewNode(node->edge(), node->edge_len);
  moved->parent = node->parent;
  moved->tick = node->tick;
  moved->child_count = node->child_count;
  moved->child_dead = node->child_dead;
  moved->child_cap = node->child_cap;
  moved->owner_count = node->owner_count;
  moved->owner_cap = node->owner_cap;
  moved->link = node->link;
  moved->owners = node->owners;
  if (moved->is_leaf()) {
    QueueTakeOver(moved);
  } else {
    NodeT** ptrs = moved->child_ptrs();
    for (uint32_t i = 0; i < moved->child_count; ++i) {
      if (ptrs[i] != nullptr) ptrs[i]->parent = moved;
    }
  }
  ReplaceChild(moved->parent, node, moved);
  FreeShell(node);  // its owner array and child block now belong to `moved`
  return moved;
}

// Merges `node` with its only child when both have the same owners (after a
// tenant removal, the boundary between them no longer means anything).
template <typename Unit>
void TreeCore<Unit>::TryMerge(NodeT* node) {
  if (node == root_ || node->is_leaf() || node->live_children() != 1) return;
  NodeT* child = node->child_ptrs()[0];  // one child: a sorted array
  if (child->owner_count != node->owner_count) return;
  const Owner* a = node->owner_data();
  Owner* b = child->owner_data();
  for (uint32_t i = 0; i < node->owner_count; ++i) {
    if (a[i].tenant != b[i].tenant) return;
  }
  for (uint32_t i = 0; i < node->owner_count; ++i) b[i].tick = std::max(a[i].tick, b[i].tick);

  NodeT* merged = AllocNode(node->edge_len + child->edge_len);
  std::memcpy(merged->buffer(), node->edge(), node->edge_len * sizeof(Unit));
  std::memcpy(merged->buffer() + node->edge_len, child->edge(), child->edge_len * sizeof(Unit));
  merged->tick = std::max(node->tick, child->tick);
  // The lower node's owners, children and queue position move over.
  merged->child_count = child->child_count;
  merged->child_dead = child->child_dead;
  merged->child_cap = child->child_cap;
  merged->owner_count = child->owner_count;
  merged->owner_cap = child->owner_cap;
  merged->link = child->link;
  merged->owners = child->owners;
  if (merged->is_leaf()) {
    QueueTakeOver(merged);
  } else {
    NodeT** ptrs = merged->child_ptrs();
    for (uint32_t i = 0; i < merged->child_count; ++i) {
      if (ptrs[i] != nullptr) ptrs[i]->parent = merged;
    }
  }
  ReplaceChild(node->parent, node, merged);
  FreeChildBlock(node);
  FreeOwnerHeap(node);
  FreeShell(node);
  FreeShell(child);
}

// Frees a detached subtree (iteratively), unqueueing its leaves.
template <typename Unit>
void TreeCore<Unit>::FreeSubtree(NodeT* top) {
  std::vector<NodeT*> stack{top};
  while (!stack.empty()) {
    NodeT* node = stack.back();
    stack.pop_back();
    if (node->is_leaf()) {
      QueueUnlink(node);
    } else {
      NodeT** ptrs = node->child_ptrs();
      for (uint32_t i = 0; i < node->child_count; ++i) {
        if (ptrs[i] != nullptr) stack.push_back(ptrs[i]);
      }
      FreeChildBlock(node);
    }
    SubFrom(stored_units_, node->edge_len);
    FreeOwnerHeap(node);
    FreeShell(node);
  }
}

template <typename Unit>
void TreeCore<Unit>::InsertLocked(const Unit* key, size_t units, TenantId tenant, uint64_t tick,
                                  const Descent* resume, PreparedLeaf& prepared) noexcept {
  NodeT* const start = resume != nullptr ? resume->base : root_;
  const size_t start_units = resume != nullptr ? resume->base_units : 0;
  size_t gained = 0;
  const uint64_t owner_tick = NextOwnerTickExclusive();
  // The path above `start` was matched already: own it. Only the key's
  // deepest node takes the use's node tick (see "Recency" above).
  if (start != root_ && start_units == units) StoreTick(start->tick, tick);
  for (NodeT* node = start; node != root_; node = node->parent) {
    const int owner = FindOwner(node, tenant);
    if (owner >= 0) {
      StampOwner(node, owner, owner_tick);
    } else {
      AddOwner(node, tenant, owner_tick);
      gained += node->edge_len;
    }
  }
  NodeT* node = start;
  size_t pos = start_units;
  while (pos < units) {
    NodeT* child = FindChild(node, key + pos);
    if (child == nullptr) {
      const size_t len = units - pos;
      NodeT* leaf;
      if (prepared.node != nullptr && prepared.at == pos) {
        leaf = prepared.node;  // same units: key[pos, units)
        prepared.node = nullptr;
        Account(leaf);
      } else {
        leaf = NewNode(key + pos, len);
      }
      leaf->tick = tick;
      AddOwner(leaf, tenant, owner_tick);
      AttachChild(node, leaf);
      QueuePushFront(leaf, tick);
      AddTo(stored_units_, len);
      gained += len;
      break;
    }
    size_t m;
    if (resume != nullptr && pos == start_units && child == resume->deepest &&
        child->edge() == resume->deepest_edge && child->edge_len == resume->deepest_len) {
      // The descent compared this very edge from the same position (the
      // address is the same node's: a node the descent reached is pinned,
      // or nothing was freed since, so its memory was not reused).
      m = resume->matched - pos;
    } else {
      m = Aligned(MismatchUnits(child->edge(), key + pos, std::min(child->edge_len, units - pos)));
    }
    int owner = FindOwner(child, tenant);
    if (m < child->edge_len) {
      if (owner >= 0 && pos + m == units) {
        // The key ends inside a node the tenant already owns: just a use.
        StoreTick(child->tick, tick);
        StampOwner(child, owner, owner_tick);
        break;
      }
      child = Split(child, m);  // same owners, so `owner` is still right
    }
    if (pos + m == units) StoreTick(child->tick, tick);  // the key's deepest node
    if (owner >= 0) {
      StampOwner(child, owner, owner_tick);
    } else {
      AddOwner(child, tenant, owner_tick);
      gained += child->edge_len;
    }
    pos += m;
    node = child;
  }
  if (gained > 0) Credit(tenant, gained);
}

template <typename Unit>
void TreeCore<Unit>::Insert(absl::Span<const Unit> key, TenantId tenant) {
  const size_t units = Aligned(key.size());
  if (units == 0 || tenant == kNoTenant) return;
  Descent d;
  {
    // Fast path: the tenant already owns the whole key (a repeated prompt).
    ReaderLock lock(&mu_);
    d = Descend(key.data(), units);
    if (d.matched == units && FindOwner(d.deepest, tenant) >= 0) {
      TouchOwnerPath(d.deepest, tenant);
      return;
    }
    PinForInsert(d);
  }
  InsertPinned(key.data(), units, tenant, d, /*check_removals=*/false, /*seen_removals=*/0);
}

template <typename Unit>
void TreeCore<Unit>::InsertPinned(const Unit* key, size_t units, TenantId tenant, Descent& d,
                                  bool check_removals, uint64_t seen_removals) {
  PreparedLeaf prepared;
  try {
    prepared = PrepareLeaf(key, units, d);
    if (insert_hook_) insert_hook_(InsertHookPoint::kBeforeCommit);
  } catch (...) {
    // Nothing was written: leave no pin (it would keep every node retired
    // from now on allocated) and no leaf behind.
    DiscardPrepared(prepared);
    UnpinAfterInsert(d);
    throw;
  }
  PendingInsert op;
  op.key = key;
  op.units = units;
  op.tenant = tenant;
  op.descent = &d;
  op.prepared = &prepared;
  op.check_removals = check_removals;
  op.seen_removals = seen_removals;
  CommitInsert(op);
}

template <typename Unit>
void TreeCore<Unit>::CommitInsert(PendingInsert& op) noexcept {
  if (mu_.TryLock()) {
    ApplyInsert(op);
    UnpinAfterInsert(*op.descent);  // before ReclaimRetired: frees what only this pin held
    if (insert_hook_) insert_hook_(InsertHookPoint::kLockHeld);
    ApplyPending(nullptr);
    ReclaimRetired();
    mu_.Unlock();
    return;
  }
  // Publish it for the holder.
  PendingInsert* head = pending_.load(std::memory_order_relaxed);
  do {
    op.next = head;
  } while (!pending_.compare_exchange_weak(head, &op, std::memory_order_release, std::memory_order_relaxed));
  SpinWait wait;
  while (!op.done.load(std::memory_order_acquire)) {
    // The holder may have released the lock before it saw `op`: apply the
    // list here. `op` is on it (a holder takes inserts off the list only to
    // apply them before it unlocks), so one round does it.
    if (mu_.TryLock()) {
      ApplyPending(&op);
      ReclaimRetired();
      mu_.Unlock();
    } else {
      wait.Once();
    }
  }
  // Unpinning outside the lock is safe: it only stops protecting nodes this
  // thread no longer reads (tree_lock.h: pins must not be *taken* unlocked).
  UnpinAfterInsert(*op.descent);
}

template <typename Unit>
void TreeCore<Unit>::ApplyInsert(PendingInsert& op) noexcept {
  PreparedLeaf& prepared = *op.prepared;
  // The decision was made under the shared lock; if the chosen tenant was
  // removed since, do not bring it back (nor record the use: the nodes the
  // descent saw may be gone).
  if (!(op.check_removals && removals_ != op.seen_removals && RemovedSince(op.seen_removals, op.tenant))) {
    // One descent in all: resume where it ended if its base is unchanged.
    InsertLocked(op.key, op.units, op.tenant, NextTick(), BaseStillValid(*op.descent) ? op.descent : nullptr,
                 prepared);
  }
  DiscardPrepared(prepared);
  MaybeEvictInline();
}

template <typename Unit>
void TreeCore<Unit>::ApplyPending(const PendingInsert* own) noexcept {
  for (int round = 0; round < kMaxCombineRounds; ++round) {
    // A plain load first: with one inserting thread the list is empty and
    // its line stays unwritten.
    if (pending_.load(std::memory_order_relaxed) == nullptr) return;
    PendingInsert* list = pending_.exchange(nullptr, std::memory_order_acquire);
    // Oldest first: reverse the stack.
    PendingInsert* oldest_first = nullptr;
    while (list != nullptr) {
      PendingInsert* next = list->next;
      list->next = oldest_first;
      oldest_first = list;
      list = next;
    }
    while (oldest_first != nullptr) {
      PendingInsert* next = oldest_first->next;  // `done` lets the owner free it
      ApplyInsert(*oldest_first);
      if (oldest_first != own) AddTo(handed_over_total_, 1);
      oldest_first->done.store(true, std::memory_order_release);
      oldest_first = next;
    }
  }
}

template <typename Unit>
bool TreeCore<Unit>::RemovedSince(uint64_t seen, TenantId tenant) const {
  if (removals_ - seen > kRemovedRing) return true;  // too many to tell: be safe
  for (uint64_t i = seen + 1; i <= removals_; ++i) {
    if (removed_ring_[i % kRemovedRing] == tenant) return true;
  }
  return false;
}

template <typename Unit>
typename TreeCore<Unit>::Result TreeCore<Unit>::MatchAndInsert(
    absl::Span<const Unit> key, absl::FunctionRef<TenantId(const PrefixMatch&)> choose) {
  Result result;
  const size_t units = Aligned(key.size());
  result.match.key_units = units;
  uint64_t seen_removals = 0;
  Descent d;
  {
    ReaderLock lock(&mu_);
    if (units > 0) {
      d = Descend(key.data(), units);
      if (d.deepest != nullptr) {
        result.match.matched_units = d.matched;
        FillOwners(d.deepest, result.match);
      }
    }
    seen_removals = removals_;
    result.chosen = choose(result.match);
    // The use is stamped on the key's deepest node: here if nothing is
    // inserted, else by the insert (whose deepest node is at or below this
    // one), so the shared node a new prompt branches off is not written twice.
    if (result.chosen == kNoTenant || units == 0) {
      if (d.deepest != nullptr) RaiseTick(d.deepest->tick, UseTick());
      return result;
    }
    if (d.matched == units && FindOwner(d.deepest, result.chosen) >= 0) {
      TouchOwnerPath(d.deepest, result.chosen);
      return result;
    }
    PinForInsert(d);
  }
  InsertPinned(key.data(), units, result.chosen, d, /*check_removals=*/true, seen_removals);
  return result;
}

// ----------------------------------------------------------------------------
// Tenant removal.

template <typename Unit>
void TreeCore<Unit>::RemoveTenant(TenantId tenant) noexcept {
  if (tenant == kNoTenant) return;
  WriterLock lock(&mu_);
  NextTick();  // as in eviction: later uses of requeued parents count
  ++removals_;
  removed_ring_[removals_ % kRemovedRing] = tenant;
  {
    SpinLockHolder stats_lock(&stats_mu_);
    if (tenant_units_.erase(tenant) == 0) return;  // owns nothing
  }
  // Walk the tenant's (prefix-closed) subtree. `survivors` lists the nodes
  // that keep other owners, parents before children.
  std::vector<NodeT*> stack;
  std::vector<NodeT*> survivors;
  auto push_owned_children = [&](const NodeT* node) {
    if (node->is_leaf()) return;
    NodeT** ptrs = node->child_ptrs();
    for (uint32_t i = 0; i < node->child_count; ++i) {
      if (ptrs[i] != nullptr && FindOwner(ptrs[i], tenant) >= 0) stack.push_back(ptrs[i]);
    }
  };
  push_owned_children(root_);
  while (!stack.empty()) {
    NodeT* node = stack.back();
    stack.pop_back();
    RemoveOwnerAt(node, FindOwner(node, tenant));
    if (node->owner_count == 0) {
      // Only the tenant owned it, hence its whole subtree: free it.
      NodeT* parent = node->parent;
      if (DetachChild(parent, node)) QueuePushFront(parent, LoadTick(parent->tick));
      FreeSubtree(node);
    } else {
      survivors.push_back(node);
      push_owned_children(node);
    }
  }
  // Children first, so a merge never frees a node still to be visited.
  for (auto it = survivors.rbegin(); it != survivors.rend(); ++it) TryMerge(*it);
  ReclaimRetired();
}

// ----------------------------------------------------------------------------
// Eviction.

template <typename Unit>
size_t TreeCore<Unit>::EvictLeaf(NodeT* leaf) {
  NodeT* parent = leaf->parent;
  const size_t len = leaf->edge_len;
  const uint64_t last_use = LoadTick(leaf->tick);
  QueueUnlink(leaf);
  const Owner* owners = leaf->owner_data();
  for (uint32_t i = 0; i < leaf->owner_count; ++i) {
    auto it = tenant_units_.find(owners[i].tenant);
    if (it == tenant_units_.end()) continue;  // cannot happen
    it->second -= len;
    if (it->second == 0) tenant_units_.erase(it);
  }
  SubFrom(stored_units_, len);
  AddTo(evicted_total_, len);
  const bool parent_became_leaf = DetachChild(parent, leaf);
  FreeOwnerHeap(leaf);
  FreeShell(leaf);
  // Uses stamp only their deepest node: the parent inherits the leaf's.
  if (LoadTick(parent->tick) < last_use) StoreTick(parent->tick, last_use);
  // Next in line, unless it was used after the leaf it just lost.
  if (parent_became_leaf) QueuePushBack(parent, last_use);
  return len;
}

template <typename Unit>
size_t TreeCore<Unit>::EvictToLocked(size_t target_units) noexcept {
  // Every tick a leaf can be requeued with is now at most the clock, so a
  // use after this eviction (UseTick, clock + 1) counts as a use.
  NextTick();
  size_t evicted = 0;
  size_t examined = 0;
  // Held for the whole batch rather than per leaf: `tenant_units()` readers
  // wait at most one eviction, and no `choose` callback (which may read it)
  // runs during one anyway, since eviction holds `mu_` exclusively.
  SpinLockHolder stats_lock(&stats_mu_);
  while (stored_units() > target_units && queue_tail_ != nullptr) {
    NodeT* leaf = queue_tail_;
    ++examined;
    const uint64_t tick = LoadTick(leaf->tick);
    if (tick > leaf->link.leaf.queued) {
      // Used since queued: second chance.
      QueueUnlink(leaf);
      QueuePushFront(leaf, tick);
      continue;
    }
    evicted += EvictLeaf(leaf);
  }
  AddTo(examined_total_, examined);
  return evicted;
}

template <typename Unit>
void TreeCore<Unit>::MaybeEvictInline() noexcept {
  if (options_.evict_inline && options_.budget_units > 0 && stored_units() > options_.budget_units) {
    EvictToLocked(BudgetEvictionTarget(options_));
  }
}

template <typename Unit>
size_t TreeCore<Unit>::EvictTo(size_t target_units) noexcept {
  // Already within the target (another thread evicted first, or nothing
  // was inserted since the last call): no need to wait for the lock that
  // routing threads' inserts hold.
  if (stored_units() <= target_units) return 0;
  WriterLock lock(&mu_);
  const size_t evicted = EvictToLocked(target_units);
  ReclaimRetired();
  return evicted;
}

template <typename Unit>
size_t TreeCore<Unit>::EvictOverBudget() noexcept {
  if (options_.budget_units == 0 || stored_units() <= options_.budget_units) return 0;
  return EvictTo(BudgetEvictionTarget(options_));
}

// ----------------------------------------------------------------------------
// Statistics and checks.

template <typename Unit>
size_t TreeCore<Unit>::memory_bytes() const {
  size_t table;
  {
    SpinLockHolder lock(&stats_mu_);
    table = tenant_units_.capacity() * (sizeof(std::pair<const TenantId, size_t>) + 1);
  }
  return sizeof(*this) + node_bytes_.load(std::memory_order_relaxed) + table + mu_.heap_bytes();
}

template <typename Unit>
size_t TreeCore<Unit>::tenant_units(TenantId tenant) const {
  SpinLockHolder lock(&stats_mu_);
  auto it = tenant_units_.find(tenant);
  return it == tenant_units_.end() ? 0 : it->second;
}

template <typename Unit>
absl::Status TreeCore<Unit>::CheckInvariants() const {
  ReaderLock lock(&mu_);
  size_t stored = 0;
  size_t nodes = 0;
  size_t bytes = 0;
  absl::flat_hash_map<TenantId, size_t> units;
  absl::flat_hash_set<const NodeT*> leaves;
  std::vector<const NodeT*> stack{root_};
  if (root_->edge_len != 0 || root_->owner_count != 0 || root_->parent != nullptr) {
    return absl::InternalError("root has an edge, owners or a parent");
  }
  while (!stack.empty()) {
    const NodeT* node = stack.back();
    stack.pop_back();
    bytes += NodeT::AllocBytes(node->buffer_units()) + NodeT::ChildBlockBytes(node->child_cap) +
             (node->owner_cap > 1 ? node->owner_cap * sizeof(Owner) : 0);
    if (node != root_) {
      ++nodes;
      stored += node->edge_len;
      if (node->edge_len == 0 || node->edge_len % page_ != 0) {
        return absl::InternalError(absl::StrCat("edge of ", node->edge_len, " units, page ", page_));
      }
      if (node->edge_off + node->tail_dead > node->edge_len) {
        return absl::InternalError("dead units outnumber the edge");
      }
      if (node->owner_count == 0) return absl::InternalError("node without owners");
      if (node->owner_count > node->owner_cap || (node->owner_cap > 1 && node->owner_count < 2)) {
        return absl::InternalError("owner array size/capacity mismatch");
      }
      const Owner* owners = node->owner_data();
      for (uint32_t i = 0; i < node->owner_count; ++i) {
        if (owners[i].tenant == kNoTenant) return absl::InternalError("kNoTenant owns a node");
        if (i > 0 && owners[i - 1].tenant >= owners[i].tenant) {
          return absl::InternalError("owners not sorted/unique");
        }
        if (node->parent != root_ && FindOwner(node->parent, owners[i].tenant) < 0) {
          return absl::InternalError(absl::StrCat("ownership not prefix-closed for tenant ", owners[i].tenant));
        }
        units[owners[i].tenant] += node->edge_len;
      }
      if (node->is_leaf()) leaves.insert(node);
    }
    if (node->is_leaf()) {
      if (node->child_count != 0 || node->child_dead != 0) {
        return absl::InternalError("leaf with a child count");
      }
      continue;
    }
    if (node->live_children() == 0 || node->child_dead > node->child_count ||
        node->child_count > node->child_cap || !std::has_single_bit(node->child_cap)) {
      return absl::InternalError("child block size/capacity mismatch");
    }
    const uint32_t live = node->live_children();
    if (node->is_hashed() ? node->child_count != node->child_cap || live * 2 > node->child_cap ||
                                live < kMinHashedSlots / 8
                          : node->child_dead != 0 || node->child_cap > kMaxSortedChildren ||
                                (node->child_cap >= 8 && live <= node->child_cap / 4)) {
      return absl::InternalError(absl::StrCat("child block of ", live, " children in ", node->child_cap,
                                              " slots breaks its layout's bounds"));
    }
    const NodeT* const* ptrs = node->child_ptrs();
    const Unit* firsts = node->child_firsts();
    uint32_t empty = 0;
    for (uint32_t i = 0; i < node->child_count; ++i) {
      if (!node->is_hashed() && i > 0 && firsts[i - 1] > firsts[i]) {
        return absl::InternalError("children not sorted");
      }
      const NodeT* child = ptrs[i];
      if (child == nullptr) {
        ++empty;
        continue;
      }
      if (child->parent != node) return absl::InternalError("wrong parent pointer");
      if (firsts[i] != child->edge()[0]) return absl::InternalError("stale first unit");
      // Reachable by its first page (a table: from its home slot), and the
      // only child with that page (else the lookup would stop at another).
      if (FindChild(node, child->edge()) != child) {
        return absl::InternalError("a child is not found by its first page (lost or duplicated)");
      }
      stack.push_back(child);
    }
    if (empty != node->child_dead) return absl::InternalError("empty slot count mismatch");
  }
  size_t queued = 0;
  const NodeT* prev = nullptr;
  for (const NodeT* node = queue_head_; node != nullptr; node = node->link.leaf.next) {
    if (!leaves.contains(node)) return absl::InternalError("queued node is not a leaf of the tree");
    if (node->link.leaf.prev != prev) return absl::InternalError("broken queue links");
    prev = node;
    if (++queued > leaves.size()) return absl::InternalError("queue longer than the leaf count");
  }
  if (prev != queue_tail_) return absl::InternalError("queue tail mismatch");
  if (queued != leaves.size()) {
    return absl::InternalError(absl::StrCat(queued, " queued leaves, ", leaves.size(), " leaves"));
  }
  if (stored != stored_units()) {
    return absl::InternalError(absl::StrCat("stored_units ", stored_units(), ", recount ", stored));
  }
  if (nodes != node_count()) {
    return absl::InternalError(absl::StrCat("node_count ", node_count(), ", recount ", nodes));
  }
  if (bytes != node_bytes_.load(std::memory_order_relaxed)) {
    return absl::InternalError(absl::StrCat("node bytes ", node_bytes_.load(), ", recount ", bytes));
  }
  SpinLockHolder stats_lock(&stats_mu_);
  if (units != tenant_units_) {
    return absl::InternalError(absl::StrCat("tenant table of ", tenant_units_.size(),
                                            " tenants differs from the recount of ", units.size()));
  }
  return absl::OkStatus();
}

}  // namespace radix_internal

// ----------------------------------------------------------------------------
// RadixTree: the public face.

template <typename Unit>
RadixTree<Unit>::RadixTree(TreeOptions options)
    : core_(std::make_unique<radix_internal::TreeCore<Unit>>(options)) {}

template <typename Unit>
RadixTree<Unit>::~RadixTree() = default;

template <typename Unit>
void RadixTree<Unit>::SetUnlockedCompareHookForTesting(std::function<void()> hook) {
  core_->set_unlocked_hook(std::move(hook));
}

template <typename Unit>
PrefixMatch RadixTree<Unit>::Match(absl::Span<const Unit> key) const {
  return core_->Match(key);
}

template <typename Unit>
void RadixTree<Unit>::Insert(absl::Span<const Unit> key, TenantId tenant) {
  core_->Insert(key, tenant);
}

template <typename Unit>
typename RadixTree<Unit>::MatchInsertResult RadixTree<Unit>::MatchAndInsert(
    absl::Span<const Unit> key, absl::FunctionRef<TenantId(const PrefixMatch&)> choose) {
  return core_->MatchAndInsert(key, choose);
}

template <typename Unit>
void RadixTree<Unit>::RemoveTenant(TenantId tenant) {
  core_->RemoveTenant(tenant);
}

template <typename Unit>
size_t RadixTree<Unit>::EvictTo(size_t target_units) {
  return core_->EvictTo(target_units);
}

template <typename Unit>
size_t RadixTree<Unit>::Evict() {
  return core_->EvictOverBudget();
}

template <typename Unit>
size_t RadixTree<Unit>::stored_units() const {
  return core_->stored_units();
}

template <typename Unit>
size_t RadixTree<Unit>::node_count() const {
  return core_->node_count();
}

template <typename Unit>
size_t RadixTree<Unit>::memory_bytes() const {
  return sizeof(*this) + core_->memory_bytes();
}

template <typename Unit>
size_t RadixTree<Unit>::tenant_units(TenantId tenant) const {
  return core_->tenant_units(tenant);
}

template <typename Unit>
void RadixTree<Unit>::SetInsertHookForTesting(std::function<void(InsertHookPoint)> hook) {
  core_->set_insert_hook(std::move(hook));
}

template <typename Unit>
bool RadixTree<Unit>::HasHandedOverInsertsForTesting() const {
  return core_->has_pending_inserts();
}

template <typename Unit>
size_t RadixTree<Unit>::RetiredNodesForTesting() const {
  return core_->retired_count();
}

template <typename Unit>
size_t RadixTree<Unit>::handed_over_inserts_total() const {
  return core_->handed_over_total();
}

template <typename Unit>
size_t RadixTree<Unit>::evicted_units_total() const {
  return core_->evicted_units_total();
}

template <typename Unit>
size_t RadixTree<Unit>::eviction_examined_total() const {
  return core_->eviction_examined_total();
}

template <typename Unit>
const TreeOptions& RadixTree<Unit>::options() const {
  return core_->options();
}

template <typename Unit>
absl::Status RadixTree<Unit>::CheckInvariantsForTesting() const {
  return core_->CheckInvariants();
}

template class RadixTree<uint8_t>;
template class RadixTree<uint32_t>;

}  // namespace smg
