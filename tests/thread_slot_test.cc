// PerThreadSlots: which number gets which slot, what a scan visits, and the
// numbers that get none (past `max_threads`, or in a block whose allocation
// failed). Slot numbers are passed in directly, so no thread is needed.
#include "thread_slot.h"

#include <atomic>
#include <cstddef>
#include <new>
#include <set>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace smg {
namespace internal {
namespace {

struct Slot {
  int value = 0;

  // Blocks are allocated with `new (std::nothrow) Slot[n]`: these let a test
  // make that allocation fail.
  static inline bool fail_allocation = false;
  static void* operator new[](size_t bytes, const std::nothrow_t& tag) noexcept {
    return fail_allocation ? nullptr : ::operator new[](bytes, tag);
  }
  static void operator delete[](void* p) noexcept { ::operator delete[](p); }
};

using Slots = PerThreadSlots<Slot, 4, 2>;  // numbers 0-3 in the object, then blocks of 2

// The slots ForEach visits, by address.
std::set<const Slot*> Visited(const Slots& slots) {
  std::set<const Slot*> visited;
  slots.ForEach([&](const Slot& slot) { visited.insert(&slot); });
  return visited;
}

TEST(PerThreadSlotsTest, LowNumbersUseTheObjectsOwnSlots) {
  Slots slots(/*max_threads=*/16);
  EXPECT_EQ(slots.heap_bytes(), 6 * sizeof(std::atomic<Slot*>));  // the block table only
  for (size_t n = 0; n < 4; ++n) {
    Slot* slot = slots.Claim(n);
    ASSERT_NE(slot, nullptr);
    EXPECT_EQ(slots.Find(n), slot);
    EXPECT_EQ(&slots.Shared(n), slot);
  }
  EXPECT_EQ(Visited(slots).size(), 4u);  // nothing past them until claimed
  EXPECT_EQ(slots.Find(4), nullptr);     // its block is not allocated yet
}

TEST(PerThreadSlotsTest, HigherNumbersGetDistinctSlotsInBlocks) {
  Slots slots(/*max_threads=*/16);
  std::set<Slot*> distinct;
  for (size_t n = 0; n < 16; ++n) {
    Slot* slot = slots.Claim(n);
    ASSERT_NE(slot, nullptr) << n;
    EXPECT_EQ(slots.Find(n), slot) << n;
    EXPECT_EQ(slots.Claim(n), slot) << n;  // the same slot every time
    slot->value = static_cast<int>(n);
    distinct.insert(slot);
  }
  EXPECT_EQ(distinct.size(), 16u);
  // The table of 6 blocks, and the 6 blocks of 2 slots.
  EXPECT_EQ(slots.heap_bytes(), 6 * sizeof(std::atomic<Slot*>) + 6 * 2 * sizeof(Slot));
  for (size_t n = 0; n < 16; ++n) EXPECT_EQ(slots.Find(n)->value, static_cast<int>(n));
  // A shared slot is one of the object's own.
  EXPECT_EQ(&slots.Shared(13), slots.Find(1));
}

// A scan covers the object's slots and the allocated blocks up to the
// highest number claimed, whatever the order of the claims.
TEST(PerThreadSlotsTest, ScansReachTheHighestClaimedNumber) {
  Slots slots(/*max_threads=*/32);
  Slot* eleven = slots.Claim(11);  // block 3 (numbers 10 and 11)
  std::set<const Slot*> visited = Visited(slots);
  EXPECT_EQ(visited.size(), 4u + 2u);  // own, then block 3 up to 11
  EXPECT_TRUE(visited.count(eleven));
  Slot* five = slots.Claim(5);  // block 0 (numbers 4 and 5), below the bound
  visited = Visited(slots);
  EXPECT_EQ(visited.size(), 4u + 2u + 2u);
  EXPECT_TRUE(visited.count(five));
  EXPECT_TRUE(visited.count(slots.Find(4)));  // in 5's block: visited though unclaimed
  Slot* twelve = slots.Claim(12);  // block 4: only 12 is below the bound
  visited = Visited(slots);
  EXPECT_EQ(visited.size(), 4u + 2u + 2u + 1u);
  EXPECT_TRUE(visited.count(twelve));
}

TEST(PerThreadSlotsTest, NumbersPastMaxThreadsHaveNone) {
  Slots slots(/*max_threads=*/8);  // own 4 + 2 blocks
  EXPECT_NE(slots.Claim(7), nullptr);
  EXPECT_EQ(slots.Claim(8), nullptr);
  EXPECT_EQ(slots.Find(8), nullptr);
  EXPECT_EQ(slots.Claim(1000), nullptr);
  Slots own_only(/*max_threads=*/0);  // at most the object's own slots
  EXPECT_NE(own_only.Claim(3), nullptr);
  EXPECT_EQ(own_only.Claim(4), nullptr);
  EXPECT_EQ(Visited(own_only).size(), 4u);
}

// A block that could not be allocated is marked for good: its numbers keep
// having no slot (a thread's answer never changes between Claim and Find),
// scans skip it, and other blocks are unaffected.
TEST(PerThreadSlotsTest, AFailedBlockStaysWithoutSlots) {
  Slots slots(/*max_threads=*/16);
  Slot::fail_allocation = true;
  EXPECT_EQ(slots.Claim(6), nullptr);  // block 1 (numbers 6 and 7)
  Slot::fail_allocation = false;
  EXPECT_EQ(slots.Find(6), nullptr);
  EXPECT_EQ(slots.Claim(7), nullptr);  // same block
  Slot* eight = slots.Claim(8);         // block 2
  ASSERT_NE(eight, nullptr);
  const std::set<const Slot*> visited = Visited(slots);
  EXPECT_EQ(visited.size(), 4u + 1u);  // own, then 8: blocks 0 (never allocated) and 1 skipped
  EXPECT_TRUE(visited.count(eight));
  EXPECT_EQ(slots.heap_bytes(), 6 * sizeof(std::atomic<Slot*>) + 1 * 2 * sizeof(Slot));  // block 2 only
}

// Threads claiming numbers that share blocks at the same time: each block
// is installed once (the losers of the race free theirs), every number gets
// its own slot, and a scan afterwards visits every claimed slot.
TEST(PerThreadSlotsTest, ConcurrentClaimsInstallEachBlockOnce) {
  constexpr size_t kThreads = 8;
  constexpr size_t kNumbersPerThread = 16;
  Slots slots(/*max_threads=*/4 + kThreads * kNumbersPerThread);
  std::vector<std::vector<Slot*>> claimed(kThreads);
  std::atomic<size_t> ready{0};
  std::vector<std::thread> threads;
  for (size_t t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      ready.fetch_add(1);
      while (ready.load() != kThreads) {
      }
      // Thread t takes numbers 4 + t, 4 + t + 8, ...: each block of 2 is
      // shared by two threads, which race to install it.
      for (size_t k = 0; k < kNumbersPerThread; ++k) claimed[t].push_back(slots.Claim(4 + t + k * kThreads));
    });
  }
  for (std::thread& th : threads) th.join();
  std::set<Slot*> distinct;
  for (size_t t = 0; t < kThreads; ++t) {
    for (size_t k = 0; k < kNumbersPerThread; ++k) {
      Slot* slot = claimed[t][k];
      ASSERT_NE(slot, nullptr);
      EXPECT_EQ(slots.Find(4 + t + k * kThreads), slot);
      distinct.insert(slot);
    }
  }
  EXPECT_EQ(distinct.size(), kThreads * kNumbersPerThread);
  const size_t blocks = kThreads * kNumbersPerThread / 2;
  EXPECT_EQ(slots.heap_bytes(), blocks * sizeof(std::atomic<Slot*>) + blocks * 2 * sizeof(Slot));
  const std::set<const Slot*> visited = Visited(slots);
  for (Slot* slot : distinct) EXPECT_TRUE(visited.count(slot));
}

}  // namespace
}  // namespace internal
}  // namespace smg
