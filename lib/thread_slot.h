// Internal: small per-thread slot numbers, and the per-thread slots of
// structures that give each reading thread a cache line of its own (the
// radix tree's lock, the router's snapshot cell).
#ifndef SMGCORE_LIB_THREAD_SLOT_H_
#define SMGCORE_LIB_THREAD_SLOT_H_

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <memory>
#include <new>
#include <thread>
#include <vector>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"

namespace smg {
namespace internal {

// ThreadSlotNumber
//
// A thread's slot number: the lowest number no live thread holds, taken on
// construction and given back on destruction, so a process that keeps
// creating and ending threads keeps its live threads on low numbers, i.e.
// on slots of their own. Two live threads never hold the same number.
class ThreadSlotNumber {
 public:
  ThreadSlotNumber();
  ~ThreadSlotNumber();
  ThreadSlotNumber(const ThreadSlotNumber&) = delete;
  ThreadSlotNumber& operator=(const ThreadSlotNumber&) = delete;
  size_t value() const { return value_; }

 private:
  const size_t value_;
};

// ThreadSlotIndex()
//
// The calling thread's slot number (see ThreadSlotNumber), taken on its
// first call.
inline size_t ThreadSlotIndex() {
  thread_local const ThreadSlotNumber number;
  return number.value();
}

// PerThreadSlots<Slot, kOwn, kBlock>
//
// One `Slot` per thread, by slot number (ThreadSlotIndex): numbers below
// `kOwn` in the object itself, higher ones in blocks of `kBlock` that the
// first thread to need a block allocates and the object keeps until it is
// destroyed. Threads numbered `max_threads` or above have no slot, nor do
// those whose block could not be allocated (that block is then marked
// failed for good, so a number's answer never changes once given); callers
// fall back to something shared (`Shared()`). Give `Slot` 64-byte alignment
// so that threads share no cache line.
//
// Scanners (`ForEach`) visit the slots of the object and of the allocated
// blocks up to the highest number claimed so far, so a structure only ever
// read by a few low-numbered threads scans only its own `kOwn` slots.
// Ordering: every load and store of the block table and of the claimed
// bound is sequentially consistent (plain loads on x86), so a scanner that
// misses a slot claimed concurrently precedes, in the single total order,
// whatever sequentially consistent announcement the claiming thread makes in
// it next (see the users: tree_lock.h, snapshot_cell.h).
template <typename Slot, size_t kOwn, size_t kBlock>
class PerThreadSlots {
  static_assert(kOwn > 0 && kBlock > 0);

 public:
  explicit PerThreadSlots(size_t max_threads)
      : block_count_(max_threads <= kOwn ? 0 : (max_threads - kOwn + kBlock - 1) / kBlock),
        blocks_(block_count_ == 0 ? nullptr : std::make_unique<std::atomic<Slot*>[]>(block_count_)) {}
  ~PerThreadSlots() {
    for (size_t b = 0; b < block_count_; ++b) {
      Slot* block = blocks_[b].load(std::memory_order_relaxed);
      if (block != FailedBlock()) delete[] block;
    }
  }
  PerThreadSlots(const PerThreadSlots&) = delete;
  PerThreadSlots& operator=(const PerThreadSlots&) = delete;

  // PerThreadSlots::Claim()
  //
  // The slot of the thread numbered `number`, allocating its block on first
  // use; null when it has none. Only that thread may claim or use it.
  Slot* Claim(size_t number) {
    if (ABSL_PREDICT_TRUE(number < kOwn)) return &own_[number];
    return ClaimInBlock(number);
  }

  // PerThreadSlots::Find()
  //
  // What an earlier Claim(number) returned; never allocates.
  Slot* Find(size_t number) const {
    if (ABSL_PREDICT_TRUE(number < kOwn)) return &own_[number];
    return FindInBlock(number);
  }

  // PerThreadSlots::Shared()
  //
  // The object's own slot `number % kOwn`: where a thread without a slot of
  // its own may go, sharing it with others.
  Slot& Shared(size_t number) const { return own_[number % kOwn]; }

  // PerThreadSlots::ForEach()
  //
  // Calls visit(slot) for every slot some thread may have claimed (and some
  // that none has).
  template <typename Visit>
  void ForEach(Visit&& visit) const {
    for (size_t i = 0; i < kOwn; ++i) visit(own_[i]);
    const size_t end = claimed_end_.load(std::memory_order_seq_cst);
    if (ABSL_PREDICT_FALSE(end > kOwn)) VisitBlocks(end, visit);
  }

  // PerThreadSlots::heap_bytes()
  //
  // What the object has allocated beyond its own size: the block table and
  // the blocks installed so far.
  size_t heap_bytes() const {
    return block_count_ * sizeof(std::atomic<Slot*>) +
           blocks_installed_.load(std::memory_order_relaxed) * kBlock * sizeof(Slot);
  }

 private:
  // The out-of-line parts of the above, for numbers past the object's own
  // slots: kept off the inlined fast path of the common case.
  ABSL_ATTRIBUTE_NOINLINE Slot* ClaimInBlock(size_t number) {
    const size_t b = (number - kOwn) / kBlock;
    if (b >= block_count_) return nullptr;
    Slot* block = blocks_[b].load(std::memory_order_seq_cst);
    if (block == nullptr) block = InstallBlock(b);
    if (block == FailedBlock()) return nullptr;
    size_t end = claimed_end_.load(std::memory_order_seq_cst);
    while (end <= number && !claimed_end_.compare_exchange_weak(end, number + 1, std::memory_order_seq_cst)) {
    }
    return &block[(number - kOwn) % kBlock];
  }
  ABSL_ATTRIBUTE_NOINLINE Slot* FindInBlock(size_t number) const {
    const size_t b = (number - kOwn) / kBlock;
    if (b >= block_count_) return nullptr;
    Slot* block = blocks_[b].load(std::memory_order_seq_cst);
    if (block == nullptr || block == FailedBlock()) return nullptr;
    return &block[(number - kOwn) % kBlock];
  }
  template <typename Visit>
  ABSL_ATTRIBUTE_NOINLINE void VisitBlocks(size_t end, Visit& visit) const {
    for (size_t first = kOwn, b = 0; first < end; first += kBlock, ++b) {
      Slot* block = blocks_[b].load(std::memory_order_seq_cst);
      if (block == nullptr || block == FailedBlock()) continue;
      const size_t n = std::min(kBlock, end - first);
      for (size_t i = 0; i < n; ++i) visit(block[i]);
    }
  }

  // Marks a block that could not be allocated.
  static Slot* FailedBlock() {
    static Slot marker;
    return &marker;
  }

  // Installs block `b` (or the failure marker), unless another thread did
  // first; returns what the table then holds.
  Slot* InstallBlock(size_t b) {
    Slot* fresh = new (std::nothrow) Slot[kBlock];
    Slot* expected = nullptr;
    if (blocks_[b].compare_exchange_strong(expected, fresh != nullptr ? fresh : FailedBlock(),
                                           std::memory_order_seq_cst)) {
      if (fresh == nullptr) return FailedBlock();
      blocks_installed_.fetch_add(1, std::memory_order_relaxed);
      return fresh;
    }
    delete[] fresh;  // another thread installed one first: `expected` is it
    return expected;
  }

  mutable Slot own_[kOwn];
  // One past the highest number whose slot is in a block: what ForEach scans.
  std::atomic<size_t> claimed_end_{kOwn};
  const size_t block_count_;
  const std::unique_ptr<std::atomic<Slot*>[]> blocks_;  // null until allocated
  std::atomic<size_t> blocks_installed_{0};
};

// SlotNumberHolders
//
// For tests and benchmarks: parks `n` threads that each hold a slot number
// until destruction, so that threads started meanwhile are numbered past the
// lowest `n` (as in a process with that many more live threads). The
// constructing thread takes its own number first, so it keeps a low one.
class SlotNumberHolders {
 public:
  explicit SlotNumberHolders(size_t n) {
    ThreadSlotIndex();
    for (size_t i = 0; i < n; ++i) {
      threads_.emplace_back([this] {
        ThreadSlotIndex();
        holding_.fetch_add(1);
        release_.wait(false);  // blocked, not spinning: others get the CPUs
      });
    }
    while (holding_.load() != n) std::this_thread::yield();
  }
  ~SlotNumberHolders() {
    release_.store(true);
    release_.notify_all();
    for (std::thread& t : threads_) t.join();
  }
  SlotNumberHolders(const SlotNumberHolders&) = delete;
  SlotNumberHolders& operator=(const SlotNumberHolders&) = delete;

 private:
  std::atomic<size_t> holding_{0};
  std::atomic<bool> release_{false};
  std::vector<std::thread> threads_;
};

}  // namespace internal
}  // namespace smg

#endif  // SMGCORE_LIB_THREAD_SLOT_H_
