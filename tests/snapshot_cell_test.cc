// The router's snapshot cell (lib/snapshot_cell.h): readers see the latest
// published value, and a replaced value lives exactly as long as some guard
// can still read it.
#include "snapshot_cell.h"

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "thread_slot.h"

namespace smg {
namespace internal {
namespace {

// A value that counts its live instances and poisons itself when destroyed,
// so that a reader of a freed value fails the check (and ASan reports it).
struct Value {
  static constexpr uint64_t kAlive = 0x5eed5eed5eed5eedULL;
  Value(int value_id, std::atomic<int>* live_count) : id(value_id), live(live_count) { live->fetch_add(1); }
  ~Value() {
    magic = 0;
    live->fetch_sub(1);
  }
  int id;
  std::atomic<int>* live;
  uint64_t magic = kAlive;
};

using Cell = SnapshotCell<Value>;

TEST(SnapshotCellTest, ReadersSeeTheLatestStore) {
  std::atomic<int> live{0};
  Cell cell(std::make_shared<const Value>(1, &live));
  EXPECT_EQ(cell.Read()->id, 1);
  cell.Store(std::make_shared<const Value>(2, &live));
  EXPECT_EQ(cell.Read()->id, 2);
  EXPECT_EQ(cell.Load()->id, 2);
}

TEST(SnapshotCellTest, AReplacedValueWithNoReaderIsFreedAtOnce) {
  std::atomic<int> live{0};
  Cell cell(std::make_shared<const Value>(1, &live));
  { Cell::ReadGuard guard = cell.Read(); }
  cell.Store(std::make_shared<const Value>(2, &live));
  EXPECT_EQ(live.load(), 1);
  EXPECT_EQ(cell.retired_count(), 0u);
}

TEST(SnapshotCellTest, AGuardKeepsItsValueUntilItEnds) {
  std::atomic<int> live{0};
  Cell cell(std::make_shared<const Value>(1, &live));
  {
    Cell::ReadGuard guard = cell.Read();
    cell.Store(std::make_shared<const Value>(2, &live));
    cell.Store(std::make_shared<const Value>(3, &live));
    // Both replaced values wait for the guard (it entered before either).
    EXPECT_EQ(live.load(), 3);
    EXPECT_EQ(cell.retired_count(), 2u);
    EXPECT_EQ(guard->id, 1);
    EXPECT_EQ(guard->magic, Value::kAlive);
  }
  // The guard's end frees them: no later Store() is needed.
  EXPECT_EQ(live.load(), 1);
  EXPECT_EQ(cell.retired_count(), 0u);
  EXPECT_EQ(cell.Read()->id, 3);
}

TEST(SnapshotCellTest, ReloadReadsTheNewValueAndKeepsTheOld) {
  std::atomic<int> live{0};
  Cell cell(std::make_shared<const Value>(1, &live));
  Cell::ReadGuard guard = cell.Read();
  const Value* first = guard.get();
  cell.Store(std::make_shared<const Value>(2, &live));
  guard.Reload();
  EXPECT_EQ(guard->id, 2);
  // A caller may still hold what it read before the reload.
  EXPECT_EQ(first->magic, Value::kAlive);
  EXPECT_EQ(live.load(), 2);
}

TEST(SnapshotCellTest, NestedGuardsProtectUntilTheOutermostEnds) {
  std::atomic<int> live{0};
  Cell cell(std::make_shared<const Value>(1, &live));
  {
    Cell::ReadGuard outer = cell.Read();
    {
      Cell::ReadGuard inner = cell.Read();
      cell.Store(std::make_shared<const Value>(2, &live));
      Cell::ReadGuard innermost = cell.Read();
      EXPECT_EQ(innermost->id, 2);
      EXPECT_EQ(inner->id, 1);
    }
    // The inner guards ended; the outer one still reads value 1.
    EXPECT_EQ(live.load(), 2);
    EXPECT_EQ(outer->id, 1);
    EXPECT_EQ(outer->magic, Value::kAlive);
  }
  EXPECT_EQ(live.load(), 1);
}

// A guard on another thread holds back what was replaced while it lived,
// and its end frees it.
TEST(SnapshotCellTest, AnotherThreadsGuardHoldsBackWhatWasReplacedMeanwhile) {
  std::atomic<int> live{0};
  Cell cell(std::make_shared<const Value>(1, &live));
  std::atomic<int> step{0};
  std::thread reader([&] {
    Cell::ReadGuard guard = cell.Read();
    EXPECT_EQ(guard->id, 1);
    step.store(1);
    while (step.load() != 2) std::this_thread::yield();
    EXPECT_EQ(guard->magic, Value::kAlive);
  });
  while (step.load() != 1) std::this_thread::yield();
  cell.Store(std::make_shared<const Value>(2, &live));
  cell.Store(std::make_shared<const Value>(3, &live));
  EXPECT_EQ(cell.retired_count(), 2u);
  EXPECT_EQ(live.load(), 3);
  step.store(2);
  reader.join();
  EXPECT_EQ(live.load(), 1);
  EXPECT_EQ(cell.retired_count(), 0u);
}

// A guard that entered after a value was replaced does not hold it back:
// when the older guard ends, the value is freed though the newer one lives.
TEST(SnapshotCellTest, ANewerGuardDoesNotHoldBackOlderValues) {
  std::atomic<int> live{0};
  Cell cell(std::make_shared<const Value>(1, &live));
  std::atomic<int> step{0};
  std::thread older([&] {
    Cell::ReadGuard guard = cell.Read();
    step.store(1);
    while (step.load() != 2) std::this_thread::yield();
  });
  while (step.load() != 1) std::this_thread::yield();
  cell.Store(std::make_shared<const Value>(2, &live));
  Cell::ReadGuard newer = cell.Read();
  EXPECT_EQ(newer->id, 2);
  EXPECT_EQ(live.load(), 2);
  step.store(2);
  older.join();
  EXPECT_EQ(live.load(), 1);
  EXPECT_EQ(newer->magic, Value::kAlive);
}

// A thread numbered beyond the cell's own slots gets one in an allocated
// block: its guard holds back what is replaced meanwhile through its epoch
// (the value waits, retired, until the guard ends), as on a slot of the cell.
TEST(SnapshotCellTest, ThreadsBeyondTheCellsSlotsGetSlotsInABlock) {
  std::atomic<int> live{0};
  Cell cell(std::make_shared<const Value>(1, &live), 2 * Cell::kSlots);
  SlotNumberHolders holders(Cell::kSlots);
  std::thread late([&] {
    ASSERT_GE(ThreadSlotIndex(), Cell::kSlots);
    ASSERT_LT(ThreadSlotIndex(), 2 * Cell::kSlots);
    {
      Cell::ReadGuard guard = cell.Read();
      EXPECT_EQ(guard->id, 1);
      cell.Store(std::make_shared<const Value>(2, &live));
      EXPECT_EQ(cell.retired_count(), 1u);  // held back by the guard's slot
      EXPECT_EQ(guard->magic, Value::kAlive);
      guard.Reload();
      EXPECT_EQ(guard->id, 2);
    }
    EXPECT_EQ(cell.retired_count(), 0u);  // the guard's end freed it
    EXPECT_EQ(live.load(), 1);
  });
  late.join();
  EXPECT_EQ(cell.Read()->id, 2);
}

// Threads numbered kMaxThreads and above have no slot: their guards own a
// reference instead, with the same guarantees.
TEST(SnapshotCellTest, ThreadsBeyondTheLimitReadThroughOwnedReferences) {
  std::atomic<int> live{0};
  Cell cell(std::make_shared<const Value>(1, &live), /*max_threads=*/Cell::kSlots);
  SlotNumberHolders holders(Cell::kSlots);
  std::thread late([&] {
    ASSERT_GE(ThreadSlotIndex(), Cell::kSlots);
    Cell::ReadGuard guard = cell.Read();
    EXPECT_EQ(guard->id, 1);
    cell.Store(std::make_shared<const Value>(2, &live));
    EXPECT_EQ(cell.retired_count(), 0u);  // no slot holds it: the guard owns it
    EXPECT_EQ(live.load(), 2);
    EXPECT_EQ(guard->magic, Value::kAlive);
    guard.Reload();
    EXPECT_EQ(guard->id, 2);
  });
  late.join();
  EXPECT_EQ(live.load(), 1);
  EXPECT_EQ(cell.Read()->id, 2);
}

// Reads `cell` (a guard and a nested one) until `done`, counting in `bad`
// every read of a freed value and every id that went backwards.
void ReadUntilDone(const Cell& cell, const std::atomic<bool>& done, std::atomic<int>& bad) {
  int last = -1;
  while (!done.load(std::memory_order_acquire)) {
    Cell::ReadGuard guard = cell.Read();
    if (guard->magic != Value::kAlive || guard->id < last) bad.fetch_add(1);
    last = guard->id;
    Cell::ReadGuard nested = cell.Read();
    if (nested->magic != Value::kAlive || nested->id < last) bad.fetch_add(1);
  }
}

// Readers on two threads against a writer replacing the value as fast as it
// can: every read sees a live value, ids never go backwards for one reader,
// and once the readers stop everything replaced is freed.
TEST(SnapshotCellTest, ConcurrentReadersNeverSeeAFreedValue) {
  constexpr int kStores = 3000;
  std::atomic<int> live{0};
  Cell cell(std::make_shared<const Value>(0, &live));
  std::atomic<bool> done{false};
  std::atomic<int> bad{0};
  // Bounded: the writer finishes after kStores stores.
  auto read = [&] { ReadUntilDone(cell, done, bad); };
  std::thread r1(read);
  std::thread r2(read);
  for (int i = 1; i <= kStores; ++i) cell.Store(std::make_shared<const Value>(i, &live));
  done.store(true, std::memory_order_release);
  r1.join();
  r2.join();
  EXPECT_EQ(bad.load(), 0);
  cell.Store(std::make_shared<const Value>(kStores + 1, &live));
  EXPECT_EQ(cell.retired_count(), 0u);
  EXPECT_EQ(live.load(), 1);
}

// The same race with the readers on slots of allocated blocks, both in one
// block (which the first of them allocates while the other may too), and a
// third reader past the limit on owned references.
TEST(SnapshotCellTest, ConcurrentReadersBeyondTheCellsSlotsNeverSeeAFreedValue) {
  constexpr int kStores = 3000;
  std::atomic<int> live{0};
  Cell cell(std::make_shared<const Value>(0, &live), 2 * Cell::kSlots);
  SlotNumberHolders holders(Cell::kSlots);
  std::atomic<bool> done{false};
  std::atomic<int> bad{0};
  std::atomic<int> started{0};
  std::atomic<size_t> numbers[3] = {};
  auto read = [&](int reader) {
    numbers[reader].store(ThreadSlotIndex());
    started.fetch_add(1);
    ReadUntilDone(cell, done, bad);  // bounded: the writer stops after kStores
  };
  std::thread r1(read, 0);
  std::thread r2(read, 1);
  while (started.load() != 2) std::this_thread::yield();  // both numbered
  {
    SlotNumberHolders more(Cell::kSlots - 2);  // the next reader is numbered past the limit
    std::thread r3(read, 2);
    while (started.load() != 3) std::this_thread::yield();
    for (int i = 1; i <= kStores; ++i) cell.Store(std::make_shared<const Value>(i, &live));
    done.store(true, std::memory_order_release);
    r3.join();
  }
  r1.join();
  r2.join();
  EXPECT_EQ(bad.load(), 0);
  for (int reader : {0, 1}) {
    EXPECT_GE(numbers[reader].load(), Cell::kSlots);
    EXPECT_LT(numbers[reader].load(), 2 * Cell::kSlots);
  }
  EXPECT_GE(numbers[2].load(), 2 * Cell::kSlots);
  cell.Store(std::make_shared<const Value>(kStores + 1, &live));
  EXPECT_EQ(cell.retired_count(), 0u);
  EXPECT_EQ(live.load(), 1);
}

}  // namespace
}  // namespace internal
}  // namespace smg
