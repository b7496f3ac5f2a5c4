// smg::LegLoad (smgcore/worker.h): the leg's in-flight total stays exact when
// requests are selected on one thread and finished on another, and when more
// threads than the old fixed stripe count add to it at once.
#include <cstdint>
#include <thread>

#include "gtest/gtest.h"
#include "run_together.h"
#include "smgcore/worker.h"

namespace smg {
namespace {

TEST(LegLoadTest, StartsAtZero) {
  LegLoad load;
  EXPECT_EQ(load.value(), 0);
}

TEST(LegLoadTest, FinishOnAnotherThreadCancelsTheSelect) {
  LegLoad load;
  load.Add(3);  // three selections on this thread
  std::thread finisher([&] {
    load.Add(-1);
    load.Add(-1);
  });
  finisher.join();
  EXPECT_EQ(load.value(), 1);
}

TEST(LegLoadTest, ANegativeRawSumReadsAsZeroAndIsKeptExactly) {
  LegLoad load;
  std::thread early_finish([&] { load.Add(-2); });  // finishes seen before their selections
  early_finish.join();
  EXPECT_EQ(load.value(), 0);
  load.Add(5);
  EXPECT_EQ(load.value(), 3);  // the raw -2 was kept, not the clamped 0
}

// More routing threads than the 16 stripes LegLoad used to have, each
// selecting and finishing at once: the total is exact once they are done.
TEST(LegLoadTest, ExactFromManyThreadsAtOnce) {
  constexpr int kThreads = 40;
  constexpr int kSelects = 3000;
  LegLoad load;
  testing_util::RunTogether(kThreads, [&](int t) {
    for (int i = 0; i < kSelects; ++i) load.Add(1);
    for (int i = 0; i < kSelects - t; ++i) load.Add(-1);  // thread t leaves t in flight
  });
  EXPECT_EQ(load.value(), int64_t{kThreads} * (kThreads - 1) / 2);
}

}  // namespace
}  // namespace smg
