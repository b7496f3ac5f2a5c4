// The radix tree's internal building blocks: the prefix comparison
// (MismatchUnits) against a naive loop, and the tree lock's exclusion.
#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "tree/radix_node.h"
#include "thread_slot.h"
#include "tree/tree_lock.h"

namespace smg {
namespace radix_internal {
namespace {

template <typename Unit>
size_t NaiveMismatch(const std::vector<Unit>& a, const std::vector<Unit>& b, size_t n) {
  size_t i = 0;
  while (i < n && a[i] == b[i]) ++i;
  return i;
}

// Every length up to a few blocks, and a difference at every interesting
// position: block and half-block boundaries of the doubling search, word
// edges, the last unit, and none at all.
template <typename Unit>
void CheckMismatchAgainstNaive() {
  const std::vector<size_t> lengths = {0, 1, 7, 8, 9, 63, 64, 65, 127, 128, 191, 192, 193, 1000, 4096, 40000};
  for (size_t n : lengths) {
    std::vector<Unit> a(n);
    for (size_t i = 0; i < n; ++i) a[i] = static_cast<Unit>(i * 2654435761u);
    std::vector<size_t> positions = {n};  // equal
    for (size_t p : {size_t{0}, size_t{1}, size_t{7}, size_t{8}, size_t{31}, size_t{32}, size_t{63}, size_t{64},
                     size_t{65}, size_t{100}, size_t{191}, size_t{192}, size_t{448}, size_t{449}, size_t{3000},
                     size_t{16383}, size_t{30000}}) {
      if (p < n) positions.push_back(p);
    }
    if (n > 0) positions.push_back(n - 1);
    for (size_t p : positions) {
      std::vector<Unit> b = a;
      if (p < n) b[p] = static_cast<Unit>(b[p] ^ 1);
      // Differences after the first one must not matter.
      for (size_t q = p + 3; q < n; q += 97) b[q] = static_cast<Unit>(b[q] + 5);
      ASSERT_EQ(MismatchUnits(a.data(), b.data(), n), NaiveMismatch(a, b, n)) << "n=" << n << " p=" << p;
    }
  }
}

TEST(MismatchUnitsTest, BytesMatchNaive) { CheckMismatchAgainstNaive<uint8_t>(); }
TEST(MismatchUnitsTest, TokensMatchNaive) { CheckMismatchAgainstNaive<uint32_t>(); }

TEST(MismatchUnitsTest, DifferenceInAnyByteOfAToken) {
  std::vector<uint32_t> a(50, 0x01020304u);
  for (int byte = 0; byte < 4; ++byte) {
    std::vector<uint32_t> b = a;
    b[17] ^= 0xFFu << (8 * byte);
    EXPECT_EQ(MismatchUnits(a.data(), b.data(), a.size()), 17u) << "byte " << byte;
  }
}

// Writers exclude each other and readers; readers see a consistent pair.
// Threads started here are numbered past `held_numbers` others.
void ExpectWritersExcludeReadersAndEachOther(size_t held_numbers) {
  const internal::SlotNumberHolders holders(held_numbers);
  TreeLock lock;
  int64_t a = 0;  // guarded by `lock`; writers keep a == -b
  int64_t b = 0;
  std::atomic<int> torn{0};
  std::atomic<int> readers_inside{0};
  std::atomic<int> writer_saw_reader{0};
  constexpr int kIterations = 20000;
  auto writer = [&] {
    for (int i = 0; i < kIterations; ++i) {
      WriterLock hold(&lock);
      if (readers_inside.load(std::memory_order_relaxed) != 0) writer_saw_reader.fetch_add(1);
      ++a;
      --b;
    }
  };
  auto reader = [&] {
    for (int i = 0; i < kIterations; ++i) {
      ReaderLock hold(&lock);
      readers_inside.fetch_add(1, std::memory_order_relaxed);
      if (a != -b) torn.fetch_add(1);
      readers_inside.fetch_sub(1, std::memory_order_relaxed);
    }
  };
  std::vector<std::thread> threads;
  threads.emplace_back(writer);
  threads.emplace_back(writer);
  threads.emplace_back(reader);
  threads.emplace_back(reader);
  threads.emplace_back(reader);
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(a, 2 * kIterations);
  EXPECT_EQ(b, -2 * kIterations);
  EXPECT_EQ(torn.load(), 0);
  EXPECT_EQ(writer_saw_reader.load(), 0);
}

TEST(TreeLockTest, WritersExcludeReadersAndEachOther) { ExpectWritersExcludeReadersAndEachOther(0); }

// The same with every thread numbered past the lock's own slots: readers
// claim slots in a block while writers scan, and are still seen.
TEST(TreeLockTest, WritersExcludeReadersWithSlotsInABlock) {
  ExpectWritersExcludeReadersAndEachOther(TreeLock::kOwnSlots);
}

// Many threads locking at once, with slots of their own (`max_threads`
// above them) or sharing the lock's own slots (`max_threads` at them).
void ExpectManyThreadsStayCorrect(size_t max_threads) {
  TreeLock lock(max_threads);
  int64_t value = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < 20; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        if ((i + t) % 10 == 0) {
          WriterLock hold(&lock);
          ++value;
        } else {
          ReaderLock hold(&lock);
          EXPECT_GE(value, 0);
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(value, 20 * 200);
}

TEST(TreeLockTest, ManyReaderThreadsHaveSlotsOfTheirOwn) { ExpectManyThreadsStayCorrect(TreeLock::kDefaultMaxThreads); }

TEST(TreeLockTest, ThreadsPastMaxThreadsShareSlots) { ExpectManyThreadsStayCorrect(TreeLock::kOwnSlots); }

// Slot numbers are given back when a thread exits: threads that come and go
// one after another keep getting the same low number, so a process that
// keeps replacing its threads never runs out of slots of their own.
TEST(TreeLockTest, ExitedThreadsGiveTheirSlotNumberBack) {
  const size_t mine = internal::ThreadSlotIndex();
  std::vector<size_t> seen;
  for (int i = 0; i < 50; ++i) {
    std::thread([&] { seen.push_back(internal::ThreadSlotIndex()); }).join();
  }
  for (size_t number : seen) {
    EXPECT_EQ(number, seen.front());
    EXPECT_NE(number, mine);
  }
  // Two live threads hold two different numbers.
  std::atomic<int> arrived{0};
  size_t a = 0;
  size_t b = 0;
  auto hold = [&](size_t* out) {
    *out = internal::ThreadSlotIndex();
    arrived.fetch_add(1);
    while (arrived.load() < 2) std::this_thread::yield();
  };
  std::thread ta(hold, &a);
  std::thread tb(hold, &b);
  ta.join();
  tb.join();
  EXPECT_NE(a, b);
  EXPECT_TRUE(a == seen.front() || b == seen.front());
}

// A pin is the oldest sequence number a reader may still reach; a nested
// pin keeps the outer one, and unpinning restores it.
TEST(TreeLockTest, PinsReportTheOldestAndNest) {
  TreeLock lock;
  lock.ReaderLock();
  ASSERT_TRUE(lock.OwnsSlot());
  EXPECT_EQ(lock.Pin(40), 0u);
  lock.ReaderUnlock();
  lock.Lock();
  EXPECT_EQ(lock.OldestPin(), 40u);
  lock.Unlock();
  lock.ReaderLock();
  const uint64_t outer = lock.Pin(45);  // nested: 40 stays
  EXPECT_NE(outer, 0u);
  lock.ReaderUnlock();
  lock.Lock();
  EXPECT_EQ(lock.OldestPin(), 40u);
  lock.Unlock();
  lock.Unpin(outer);
  lock.Lock();
  EXPECT_EQ(lock.OldestPin(), 40u);
  lock.Unlock();
  lock.Unpin(0);
  lock.Lock();
  EXPECT_EQ(lock.OldestPin(), UINT64_MAX);
  lock.Unlock();
}

// A thread numbered past the lock's own slots owns one in a block and may
// pin; writers see its pin. Past `max_threads` a thread owns none.
TEST(TreeLockTest, ThreadsNumberedPastTheOwnSlotsPinInABlock) {
  TreeLock lock;
  TreeLock capped(/*max_threads=*/TreeLock::kOwnSlots);
  const internal::SlotNumberHolders holders(TreeLock::kOwnSlots);
  std::thread([&] {
    ASSERT_GE(internal::ThreadSlotIndex(), TreeLock::kOwnSlots);
    lock.ReaderLock();
    ASSERT_TRUE(lock.OwnsSlot());
    EXPECT_EQ(lock.Pin(70), 0u);
    lock.ReaderUnlock();

    capped.ReaderLock();
    EXPECT_FALSE(capped.OwnsSlot());
    capped.ReaderUnlock();
  }).join();
  lock.Lock();
  EXPECT_EQ(lock.OldestPin(), 70u);
  lock.Unlock();
  capped.Lock();  // the shared slot's reader count went back to zero
  EXPECT_EQ(capped.OldestPin(), UINT64_MAX);
  capped.Unlock();
}

}  // namespace
}  // namespace radix_internal
}  // namespace smg
