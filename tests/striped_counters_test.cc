// lib/striped_counters.h: per-thread stripes add up to exact totals, also
// when more threads than stripes share them.
#include "striped_counters.h"

#include <thread>

#include "gtest/gtest.h"
#include "run_together.h"

namespace smg {
namespace internal {
namespace {

TEST(StripedCountersTest, CountersAreIndependent) {
  StripedCounters<3> counters;
  counters.Add(0, 5);
  counters.Add(2, 7);
  counters.Add(2, 1);
  EXPECT_EQ(counters.Sum(0), 5u);
  EXPECT_EQ(counters.Sum(1), 0u);
  EXPECT_EQ(counters.Sum(2), 8u);
}

// Adds are modulo 2^64: a count that also goes down (LegLoad's in-flight
// total) sums to its signed value, across stripes.
TEST(StripedCountersTest, NegativeDeltasSumAsSignedValues) {
  StripedCounters<1> counters;
  counters.Add(0, 4);
  std::thread other([&] { counters.Add(0, static_cast<uint64_t>(int64_t{-7})); });
  other.join();
  EXPECT_EQ(static_cast<int64_t>(counters.Sum(0)), -3);
  counters.Add(0, 10);
  EXPECT_EQ(static_cast<int64_t>(counters.Sum(0)), 7);
}

// More live threads than the object's stripes, all adding at once, with
// stripes of their own in a block (`max_threads` above them) or sharing the
// object's (`max_threads` at them): nothing is lost either way.
void ExpectExactSumsFromMoreThreadsThanStripes(size_t max_threads) {
  constexpr int kThreads = StripedCounters<2>::kStripes + 4;
  constexpr int kAdds = 2000;
  StripedCounters<2> counters(max_threads);
  testing_util::RunTogether(kThreads, [&](int t) {
    for (int i = 0; i < kAdds; ++i) {
      counters.Add(0, 1);
      counters.Add(1, static_cast<uint64_t>(t));
    }
  });
  EXPECT_EQ(counters.Sum(0), uint64_t{kThreads} * kAdds);
  EXPECT_EQ(counters.Sum(1), uint64_t{kAdds} * (kThreads * (kThreads - 1) / 2));
}

TEST(StripedCountersTest, SumsAreExactWithStripesInABlock) {
  ExpectExactSumsFromMoreThreadsThanStripes(StripedCounters<2>::kDefaultMaxThreads);
}

TEST(StripedCountersTest, SumsAreExactWithSharedStripes) {
  ExpectExactSumsFromMoreThreadsThanStripes(StripedCounters<2>::kStripes);
}

}  // namespace
}  // namespace internal
}  // namespace smg
