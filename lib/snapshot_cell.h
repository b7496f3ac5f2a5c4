// Internal: an immutable value that many threads read on every request and
// few threads replace (the router's published snapshot).
//
// Why not std::atomic<std::shared_ptr<const T>>: libstdc++ 12 loads one by
// taking a lock bit in the atomic and incrementing the control block's
// reference count, then decrements it when the copy dies: every reader
// writes the same two words. Two routing threads reading the router's
// snapshot that way took 146 ns per read instead of 9 ns on a 2-vCPU VM, and
// a shared router routed fewer requests per second from two threads than
// from one.
//
// Here a reader writes only a cache line of its own: epoch-based
// reclamation. A reader announces the epoch it entered in its thread's slot,
// then reads a plain pointer. A writer publishes the new value, advances the
// epoch and keeps the old value until every slot is empty or has entered a
// later epoch; then no reader can still hold it.
#ifndef SMGCORE_LIB_SNAPSHOT_CELL_H_
#define SMGCORE_LIB_SNAPSHOT_CELL_H_

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "thread_slot.h"

namespace smg {
namespace internal {

// SnapshotCell
//
// Holds one `std::shared_ptr<const T>`, never null. Every method is
// thread-safe. Readers take a `ReadGuard`, which costs one store to the
// thread's own slot and a fence; they never write a line another thread
// reads. Writers (`Store()`) serialize on a mutex and may free values retired
// earlier. A value is destroyed on the thread that finds it unreachable: the
// writer that retired it, a later writer, or the reader whose guard was the
// last to leave it.
//
// A thread's slot is picked by its slot number (ThreadSlotIndex, the lowest
// number no live thread holds; PerThreadSlots). The first `kSlots` live in
// the cell; a thread numbered beyond them finds its slot in a block of
// `kSlots` more, which the first reader that needs the block allocates and
// the cell keeps (a process that once ran many threads keeps scanning their
// blocks on each Store). Threads numbered `max_threads` (a constructor
// argument) or above, and readers whose block could not be allocated, have
// no slot: their guards hold an owning reference taken under the mutex
// instead, which is correct and slower (and contended: ~130 ns per read
// with two such readers).
//
// Guards are meant to be short (one routing decision): while a replaced
// value waits for a guard that entered before it was replaced, every other
// guard's end tries to reclaim it (a try-lock and a scan of the slots).
template <typename T>
class SnapshotCell {
  struct alignas(64) Slot {
    // 0: the thread reads nothing; else the epoch it entered (its outermost
    // guard's).
    std::atomic<uint64_t> epoch{0};
  };

 public:
  // Slots in the cell, and in each block allocated for threads numbered
  // beyond them. Readers on distinct slots share no line; a writer scans
  // the cell's slots and those of the blocks up to the highest-numbered
  // thread that has read the cell.
  static constexpr size_t kSlots = 64;
  // Threads with a slot of their own, by default.
  static constexpr size_t kDefaultMaxThreads = 4096;

  // ReadGuard
  //
  // The value current when the guard was taken (or last reloaded), alive
  // for as long as the guard. Guards nest on one thread (destroyed in
  // reverse order, as scoped objects are); a guard never leaves its thread.
  class ReadGuard {
   public:
    ReadGuard(const ReadGuard&) = delete;
    ReadGuard& operator=(const ReadGuard&) = delete;
    ~ReadGuard() {
      if (slot_ == nullptr) return;
      slot_->epoch.store(outer_epoch_, std::memory_order_release);
      if (outer_epoch_ == 0 && cell_->retired_count_.load(std::memory_order_relaxed) != 0) {
        cell_->TryReclaim();
      }
    }

    const T& operator*() const { return *value_; }
    const T* operator->() const { return value_; }
    const T* get() const { return value_; }

    // ReadGuard::Reload()
    //
    // Reads the cell's current value again; the guard then protects it (and
    // still the one it held).
    void Reload() {
      if (slot_ != nullptr) {
        value_ = cell_->current_.load(std::memory_order_acquire);
      } else {
        owned_ = cell_->Load();
        value_ = owned_.get();
      }
    }

   private:
    friend class SnapshotCell;
    explicit ReadGuard(const SnapshotCell* cell) : cell_(cell) {
      slot_ = cell->slots_.Claim(ThreadSlotIndex());
      if (slot_ == nullptr) {
        owned_ = cell->Load();
        value_ = owned_.get();
        return;
      }
      outer_epoch_ = slot_->epoch.load(std::memory_order_relaxed);
      if (outer_epoch_ == 0) {
        // Announce, then read. The fence pairs with the one in Store(): a
        // writer either sees this announcement or its new value is what
        // this reader reads. Reading the epoch with acquire makes a reader
        // that saw an advanced epoch also see the value published before it.
        slot_->epoch.store(cell->epoch_.load(std::memory_order_acquire), std::memory_order_relaxed);
        std::atomic_thread_fence(std::memory_order_seq_cst);
      }
      // A nested guard keeps the outer guard's (older) epoch: that protects
      // more, never less.
      value_ = cell->current_.load(std::memory_order_acquire);
    }

    const SnapshotCell* const cell_;
    Slot* slot_ = nullptr;         // null: no slot of its own (owned_ holds the value)
    uint64_t outer_epoch_ = 0;     // what the slot held before this guard
    const T* value_ = nullptr;
    std::shared_ptr<const T> owned_;
  };

  // Threads numbered below `max_threads` (rounded up to a multiple of
  // kSlots) get slots of their own.
  explicit SnapshotCell(std::shared_ptr<const T> initial, size_t max_threads = kDefaultMaxThreads)
      : current_(initial.get()),
        slots_((std::max(max_threads, kSlots) + kSlots - 1) / kSlots * kSlots),
        current_owner_(std::move(initial)) {}
  ~SnapshotCell() = default;  // no reader may outlive the cell
  SnapshotCell(const SnapshotCell&) = delete;
  SnapshotCell& operator=(const SnapshotCell&) = delete;

  // SnapshotCell::Read()
  //
  // A guard over the current value. The hot path.
  ReadGuard Read() const { return ReadGuard(this); }

  // SnapshotCell::Load()
  //
  // An owning reference to the current value, for callers that keep it
  // beyond one scope. Takes the mutex.
  std::shared_ptr<const T> Load() const {
    std::lock_guard<std::mutex> lock(mu_);
    return current_owner_;
  }

  // SnapshotCell::Store()
  //
  // Publishes `next` (not null): every guard taken after Store() returns
  // reads it. The replaced value is freed once no guard can read it.
  void Store(std::shared_ptr<const T> next) {
    std::vector<std::shared_ptr<const T>> unreachable;
    {
      std::lock_guard<std::mutex> lock(mu_);
      std::shared_ptr<const T> old = std::exchange(current_owner_, std::move(next));
      current_.store(current_owner_.get(), std::memory_order_seq_cst);
      // Readers that announce a later epoch read the new value.
      const uint64_t retired_at = epoch_.fetch_add(1, std::memory_order_seq_cst);
      retired_.push_back({retired_at, std::move(old)});
      retired_count_.store(retired_.size(), std::memory_order_relaxed);
      std::atomic_thread_fence(std::memory_order_seq_cst);
      CollectLocked(&unreachable);
    }
    // Destroyed here, outside the mutex: a value's destructor may publish.
  }

  // SnapshotCell::retired_count()
  //
  // Replaced values not yet freed (some guard may still read them).
  size_t retired_count() const { return retired_count_.load(std::memory_order_relaxed); }

 private:
  struct Retired {
    uint64_t epoch;  // the epoch that was current when it was replaced
    std::shared_ptr<const T> value;
  };

  // Frees what no guard can reach, if no writer holds the mutex.
  void TryReclaim() const {
    std::vector<std::shared_ptr<const T>> unreachable;
    std::unique_lock<std::mutex> lock(mu_, std::try_to_lock);
    if (!lock.owns_lock()) return;  // the holder collects
    CollectLocked(&unreachable);
    lock.unlock();
  }

  // Moves out the retired values every slot has left behind: a slot that
  // reads nothing, or that entered after a value was replaced, cannot hold it.
  // Called with mu_ held.
  void CollectLocked(std::vector<std::shared_ptr<const T>>* unreachable) const {
    if (retired_.empty()) return;
    uint64_t oldest = UINT64_MAX;
    slots_.ForEach([&oldest](const Slot& slot) {
      const uint64_t epoch = slot.epoch.load(std::memory_order_seq_cst);
      if (epoch != 0 && epoch < oldest) oldest = epoch;
    });
    size_t kept = 0;
    for (Retired& r : retired_) {
      if (r.epoch < oldest) {
        unreachable->push_back(std::move(r.value));
      } else {
        retired_[kept++] = std::move(r);
      }
    }
    retired_.resize(kept);
    retired_count_.store(kept, std::memory_order_relaxed);
  }

  // Read by every guard: written only by Store().
  alignas(64) std::atomic<const T*> current_;
  std::atomic<uint64_t> epoch_{1};
  mutable std::atomic<size_t> retired_count_{0};

  // The readers' slots: kSlots in the cell, more in blocks of kSlots.
  alignas(64) mutable PerThreadSlots<Slot, kSlots, kSlots> slots_;

  // A std::mutex, not absl::Mutex: Debian's Abseil runs its deadlock
  // detector on every acquisition, and ThreadSanitizer sees through this one.
  mutable std::mutex mu_;
  std::shared_ptr<const T> current_owner_;  // guarded by mu_
  mutable std::vector<Retired> retired_;    // guarded by mu_
};

}  // namespace internal
}  // namespace smg

#endif  // SMGCORE_LIB_SNAPSHOT_CELL_H_
