// Internal: the locks of smg::RadixTree (smgcore/radix_tree.h).
//
// Why not absl::Mutex: a tree is locked once or twice per routed request,
// from every routing thread. absl::Mutex makes every reader write the one
// word of the lock (a cache line that then bounces between cores on every
// match), and the Debian build of Abseil runs its deadlock detector on every
// acquisition (a global graph behind a global lock: ~1000 instructions and a
// second contended line per lock). `TreeLock` gives each reader thread its
// own cache line, so readers on different cores share nothing; writers pay
// for that by scanning the reader slots. Tree critical sections are short
// (one descent), so waiters spin briefly and then yield.
#ifndef SMGCORE_LIB_TREE_TREE_LOCK_H_
#define SMGCORE_LIB_TREE_TREE_LOCK_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "thread_slot.h"

namespace smg {
namespace radix_internal {

// CpuRelax()
//
// A hint to the CPU that this is a spin-wait loop.
inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// SpinWait
//
// Backoff for a waiting loop: a few spins with CpuRelax, then yielding the
// CPU (the holder may have been preempted on an oversubscribed machine).
class SpinWait {
 public:
  void Once() {
    if (spins_ < kSpins) {
      ++spins_;
      CpuRelax();
    } else {
      std::this_thread::yield();
    }
  }

 private:
  static constexpr int kSpins = 128;
  int spins_ = 0;
};

// TreeLock
//
// A reader-writer lock with per-thread reader slots (internal::PerThreadSlots:
// `kOwnSlots` in the lock, more in blocks of `kBlockSlots` allocated when a
// thread numbered past them first locks it). Threads numbered `max_threads`
// or above, or whose block could not be allocated, share the lock's own
// slots, which stays correct but cannot pin. Writers scan the slots of the
// threads that have locked it. Writers are preferred: a reader that sees a
// writer waiting backs off. Not recursive.
//
// Each slot also carries a pin for deferred reclamation: a reader that owns
// its slot (`OwnsSlot()`) may record, before it releases the lock, the
// sequence number of the next object a writer will retire; everything it
// could reach was still live then, so a writer frees only what was retired
// before every recorded pin (`OldestPin()`). A pin is taken only while its
// thread holds the lock, so no pin appears during a writer's critical
// section; one may be dropped at any time (a writer that saw it just keeps
// more than it had to). The radix tree uses this to compare a long edge
// without holding the lock, and to keep an insert's descent resumable while
// another thread applies the insert.
class ABSL_LOCKABLE TreeLock {
 public:
  // Reader slots in the lock itself, and in each block allocated for
  // threads numbered past them.
  static constexpr size_t kOwnSlots = 8;
  static constexpr size_t kBlockSlots = 64;
  // Threads with a reader slot of their own, by default.
  static constexpr size_t kDefaultMaxThreads = 4096;

  explicit TreeLock(size_t max_threads = kDefaultMaxThreads) : slots_(max_threads) {}
  TreeLock(const TreeLock&) = delete;
  TreeLock& operator=(const TreeLock&) = delete;

  // TreeLock::Lock() / Unlock()
  //
  // Exclusive ownership.
  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() {
    SpinWait wait;
    uint32_t expected = 0;
    while (!writer_.compare_exchange_weak(expected, 1, std::memory_order_seq_cst)) {
      expected = 0;
      wait.Once();
    }
    WaitForReaders(wait);
  }
  void Unlock() ABSL_UNLOCK_FUNCTION() { writer_.store(0, std::memory_order_release); }

  // TreeLock::TryLock()
  //
  // Exclusive ownership if no other writer holds it: returns false at once
  // when one does; else waits, as Lock() does, for the readers inside (their
  // sections are short, and no new one enters).
  bool TryLock() ABSL_EXCLUSIVE_TRYLOCK_FUNCTION(true) {
    if (writer_.load(std::memory_order_relaxed) != 0) return false;
    uint32_t expected = 0;
    if (!writer_.compare_exchange_strong(expected, 1, std::memory_order_seq_cst)) return false;
    SpinWait wait;
    WaitForReaders(wait);
    return true;
  }

  // TreeLock::ReaderLock() / ReaderUnlock()
  //
  // Shared ownership. The pair must run on the same thread.
  void ReaderLock() ABSL_SHARED_LOCK_FUNCTION() {
    const size_t number = internal::ThreadSlotIndex();
    Slot* own = slots_.Claim(number);
    std::atomic<uint32_t>& readers = (own != nullptr ? *own : slots_.Shared(number)).readers;
    while (true) {
      // Announce, then check for a writer. Both sides use a sequentially
      // consistent read-modify-write before their load, so a reader and a
      // writer never both miss each other.
      readers.fetch_add(1, std::memory_order_seq_cst);
      if (writer_.load(std::memory_order_seq_cst) == 0) return;
      readers.fetch_sub(1, std::memory_order_release);
      SpinWait wait;
      while (writer_.load(std::memory_order_relaxed) != 0) wait.Once();
    }
  }
  void ReaderUnlock() ABSL_UNLOCK_FUNCTION() {
    const size_t number = internal::ThreadSlotIndex();
    Slot* own = slots_.Find(number);
    (own != nullptr ? *own : slots_.Shared(number)).readers.fetch_sub(1, std::memory_order_release);
  }

  // TreeLock::OwnsSlot()
  //
  // Whether this thread has a reader slot of its own in this lock; only such
  // a thread may pin. Called by a thread that holds the shared lock (its
  // ReaderLock() claimed the slot).
  bool OwnsSlot() const { return slots_.Find(internal::ThreadSlotIndex()) != nullptr; }

  // TreeLock::Pin() / Unpin()
  //
  // Pin: called by an OwnsSlot() thread holding the shared lock, with the
  // sequence number the next retired object will get (or an earlier one:
  // that keeps more); the writers that follow this reader's unlock see it. An older pin of the thread's (a
  // nested descent) is kept. Returns what Unpin() must restore. Unpin: once
  // the thread no longer touches what it reached under the lock.
  uint64_t Pin(uint64_t next_retire_seq) {
    std::atomic<uint64_t>& pin = slots_.Find(internal::ThreadSlotIndex())->pin;
    const uint64_t previous = pin.load(std::memory_order_relaxed);
    if (previous == 0) pin.store(next_retire_seq + 1, std::memory_order_relaxed);
    return previous;
  }
  void Unpin(uint64_t previous) {
    slots_.Find(internal::ThreadSlotIndex())->pin.store(previous, std::memory_order_release);
  }

  // TreeLock::heap_bytes()
  //
  // What the lock has allocated for reader slots beyond its own.
  size_t heap_bytes() const { return slots_.heap_bytes(); }

  // TreeLock::OldestPin()
  //
  // Called with the exclusive lock held: objects retired with a sequence
  // number below the result are unreachable by every reader. UINT64_MAX when
  // nothing is pinned.
  uint64_t OldestPin() const {
    uint64_t oldest = UINT64_MAX;
    slots_.ForEach([&oldest](const Slot& slot) {
      const uint64_t pin = slot.pin.load(std::memory_order_acquire);
      if (pin != 0 && pin - 1 < oldest) oldest = pin - 1;
    });
    return oldest;
  }

 private:
  // Called by the thread that just set `writer_`: no reader enters now (they
  // see it); waits for those inside. A reader claims its slot before it
  // announces itself, with sequentially consistent operations on both
  // sides: a scan that misses a slot claimed meanwhile set `writer_` before
  // that reader checks it, so the reader backs off.
  void WaitForReaders(SpinWait& wait) {
    slots_.ForEach([&wait](const Slot& slot) {
      while (slot.readers.load(std::memory_order_seq_cst) != 0) wait.Once();
    });
  }

  struct alignas(64) Slot {
    std::atomic<uint32_t> readers{0};
    std::atomic<uint64_t> pin{0};  // 0: none; else next retire seq + 1
  };

  alignas(64) std::atomic<uint32_t> writer_{0};
  internal::PerThreadSlots<Slot, kOwnSlots, kBlockSlots> slots_;
};

// WriterLock / ReaderLock
//
// Scoped holders of a TreeLock.
class ABSL_SCOPED_LOCKABLE WriterLock {
 public:
  explicit WriterLock(TreeLock* lock) ABSL_EXCLUSIVE_LOCK_FUNCTION(lock) : lock_(lock) { lock_->Lock(); }
  ~WriterLock() ABSL_UNLOCK_FUNCTION() { lock_->Unlock(); }
  WriterLock(const WriterLock&) = delete;
  WriterLock& operator=(const WriterLock&) = delete;

 private:
  TreeLock* const lock_;
};

class ABSL_SCOPED_LOCKABLE ReaderLock {
 public:
  explicit ReaderLock(TreeLock* lock) ABSL_SHARED_LOCK_FUNCTION(lock) : lock_(lock) { lock_->ReaderLock(); }
  ~ReaderLock() ABSL_UNLOCK_FUNCTION() { lock_->ReaderUnlock(); }
  ReaderLock(const ReaderLock&) = delete;
  ReaderLock& operator=(const ReaderLock&) = delete;

 private:
  TreeLock* const lock_;
};

// SpinLock
//
// A small exclusive lock for the tree's statistics table: held for a hash
// lookup at a time.
class ABSL_LOCKABLE SpinLock {
 public:
  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() {
    SpinWait wait;
    while (locked_.exchange(true, std::memory_order_acquire)) {
      while (locked_.load(std::memory_order_relaxed)) wait.Once();
    }
  }
  void Unlock() ABSL_UNLOCK_FUNCTION() { locked_.store(false, std::memory_order_release); }

 private:
  std::atomic<bool> locked_{false};
};

// SpinLockHolder
class ABSL_SCOPED_LOCKABLE SpinLockHolder {
 public:
  explicit SpinLockHolder(SpinLock* lock) ABSL_EXCLUSIVE_LOCK_FUNCTION(lock) : lock_(lock) { lock_->Lock(); }
  ~SpinLockHolder() ABSL_UNLOCK_FUNCTION() { lock_->Unlock(); }
  SpinLockHolder(const SpinLockHolder&) = delete;
  SpinLockHolder& operator=(const SpinLockHolder&) = delete;

 private:
  SpinLock* const lock_;
};

}  // namespace radix_internal
}  // namespace smg

#endif  // SMGCORE_LIB_TREE_TREE_LOCK_H_
