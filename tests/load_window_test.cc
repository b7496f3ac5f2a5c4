// lib/policies/cache_aware/load_window.h: a thread's window covers exactly
// its last LoadWindows::kParts readings, and threads keep separate windows.
#include "policies/cache_aware/load_window.h"

#include <cstdint>
#include <thread>

#include "gtest/gtest.h"
#include "thread_slot.h"

namespace smg {
namespace internal {
namespace {

LoadRange Only(int64_t load) {
  LoadRange r;
  r.Add(load);
  return r;
}

TEST(LoadRangeTest, EmptyRangeCoversNothingAndMergesAsIdentity) {
  LoadRange empty;
  EXPECT_FALSE(empty.any_live());
  LoadRange r = Only(3);
  r.Merge(empty);
  EXPECT_TRUE(r.any_live());
  EXPECT_EQ(r.min, 3);
  EXPECT_EQ(r.max, 3);
  r.Add(-2);
  r.Add(9);
  EXPECT_EQ(r.min, -2);
  EXPECT_EQ(r.max, 9);
}

TEST(LoadWindowsTest, RangeCoversTheLastFourReadings) {
  static_assert(LoadWindows::kParts == 4);
  LoadWindows windows;
  EXPECT_FALSE(windows.Record(LoadRange{}).any_live()) << "nothing read yet";
  LoadRange r = windows.Record(Only(5));
  EXPECT_EQ(r.min, 5);
  EXPECT_EQ(r.max, 5);
  windows.Record(Only(1));
  windows.Record(Only(3));
  r = windows.Record(Only(2));
  EXPECT_EQ(r.min, 1);
  EXPECT_EQ(r.max, 5);
  r = windows.Record(Only(4));  // drops the 5
  EXPECT_EQ(r.min, 1);
  EXPECT_EQ(r.max, 4);
  windows.Record(LoadRange{});  // drops the 1
  windows.Record(LoadRange{});  // drops the 3
  r = windows.Record(LoadRange{});  // drops the 2
  EXPECT_EQ(r.min, 4);
  EXPECT_EQ(r.max, 4);
  EXPECT_FALSE(windows.Record(LoadRange{}).any_live()) << "the 4 dropped too";
}

TEST(LoadWindowsTest, ThreadsKeepSeparateWindows) {
  LoadWindows windows;
  windows.Record(Only(1));
  LoadRange other;
  std::thread t([&] {
    windows.Record(Only(100));
    other = windows.Record(Only(50));
  });
  t.join();
  EXPECT_EQ(other.min, 50);
  EXPECT_EQ(other.max, 100);
  const LoadRange mine = windows.Record(Only(2));
  EXPECT_EQ(mine.min, 1);
  EXPECT_EQ(mine.max, 2) << "the other thread's readings are not in this thread's window";
}

// A thread numbered past every window of its own shares one and still gets
// a range that covers its own reading.
TEST(LoadWindowsTest, ThreadPastItsOwnWindowsSharesOne) {
  LoadWindows windows(/*max_threads=*/1);
  SlotNumberHolders holders(20);
  LoadRange seen;
  std::thread t([&] { seen = windows.Record(Only(7)); });
  t.join();
  EXPECT_TRUE(seen.any_live());
  EXPECT_LE(seen.min, 7);
  EXPECT_GE(seen.max, 7);
}

}  // namespace
}  // namespace internal
}  // namespace smg
