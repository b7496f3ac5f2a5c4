// HealthTracker: the worker health state machine driven by probe results.
#include "smgcore/health.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace smg {
namespace {

using ::testing::HasSubstr;
using ::testing::Optional;

HealthTransition T(WorkerHealth from, WorkerHealth to) { return {from, to}; }

TEST(HealthTrackerTest, PendingBecomesReadyAfterTheHealthyThreshold) {
  HealthTracker h({}, WorkerHealth::kPending);
  EXPECT_EQ(h.OnProbe(true), std::nullopt);
  EXPECT_THAT(h.OnProbe(true), Optional(T(WorkerHealth::kPending, WorkerHealth::kReady)));
  EXPECT_EQ(h.state(), WorkerHealth::kReady);
  EXPECT_EQ(h.OnProbe(true), std::nullopt);
}

TEST(HealthTrackerTest, AFailureBetweenPassesRestartsTheCount) {
  HealthTracker h({}, WorkerHealth::kPending);
  h.OnProbe(true);
  h.OnProbe(false);
  EXPECT_EQ(h.OnProbe(true), std::nullopt);
  EXPECT_THAT(h.OnProbe(true), Optional(T(WorkerHealth::kPending, WorkerHealth::kReady)));
}

TEST(HealthTrackerTest, PendingFailsAfterThePendingThreshold) {
  HealthTracker h({}, WorkerHealth::kPending);
  for (int i = 0; i < 29; ++i) EXPECT_EQ(h.OnProbe(false), std::nullopt) << i;
  EXPECT_THAT(h.OnProbe(false), Optional(T(WorkerHealth::kPending, WorkerHealth::kFailed)));
}

TEST(HealthTrackerTest, ReadyGoesNotReadyThenFailed) {
  HealthTracker h({}, WorkerHealth::kReady);
  EXPECT_EQ(h.OnProbe(false), std::nullopt);
  EXPECT_EQ(h.OnProbe(false), std::nullopt);
  EXPECT_THAT(h.OnProbe(false), Optional(T(WorkerHealth::kReady, WorkerHealth::kNotReady)));
  for (int i = 3; i < 8; ++i) EXPECT_EQ(h.OnProbe(false), std::nullopt) << i;
  EXPECT_THAT(h.OnProbe(false), Optional(T(WorkerHealth::kNotReady, WorkerHealth::kFailed)));
  EXPECT_EQ(h.consecutive_failures(), 9u);
  EXPECT_EQ(h.OnProbe(false), std::nullopt);
}

TEST(HealthTrackerTest, AFailedWorkerRejoinsWhenProbesPassAgain) {
  HealthTracker h({}, WorkerHealth::kFailed);
  EXPECT_EQ(h.OnProbe(true), std::nullopt);
  EXPECT_THAT(h.OnProbe(true), Optional(T(WorkerHealth::kFailed, WorkerHealth::kReady)));
}

TEST(HealthTrackerTest, NotReadyRecovers) {
  HealthTracker h({}, WorkerHealth::kNotReady);
  h.OnProbe(true);
  EXPECT_THAT(h.OnProbe(true), Optional(T(WorkerHealth::kNotReady, WorkerHealth::kReady)));
}

TEST(HealthTrackerTest, DrainingIgnoresProbes) {
  HealthTracker h({}, WorkerHealth::kReady);
  EXPECT_THAT(h.Set(WorkerHealth::kDraining),
              Optional(T(WorkerHealth::kReady, WorkerHealth::kDraining)));
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(h.OnProbe(i % 2 == 0), std::nullopt);
  }
  EXPECT_EQ(h.state(), WorkerHealth::kDraining);
}

TEST(HealthTrackerTest, SetRestartsTheCountsAndReportsOnlyChanges) {
  HealthTracker h({}, WorkerHealth::kReady);
  h.OnProbe(false);
  h.OnProbe(false);
  EXPECT_EQ(h.Set(WorkerHealth::kReady), std::nullopt);
  EXPECT_EQ(h.consecutive_failures(), 0u);
  EXPECT_EQ(h.OnProbe(false), std::nullopt);  // count restarted
}

TEST(HealthTrackerTest, CustomThresholds) {
  HealthOptions o;
  o.healthy_threshold = 1;
  o.unhealthy_threshold = 1;
  o.failed_threshold = 1;
  ASSERT_TRUE(ValidateHealthOptions(o).ok());
  HealthTracker h(o, WorkerHealth::kReady);
  // unhealthy == failed threshold: straight to failed.
  EXPECT_THAT(h.OnProbe(false), Optional(T(WorkerHealth::kReady, WorkerHealth::kFailed)));
  EXPECT_THAT(h.OnProbe(true), Optional(T(WorkerHealth::kFailed, WorkerHealth::kReady)));
}

TEST(HealthTrackerTest, InvalidOptions) {
  HealthOptions o;
  o.healthy_threshold = 0;
  EXPECT_THAT(ValidateHealthOptions(o).message(), HasSubstr("healthy_threshold"));
  o = {};
  o.unhealthy_threshold = 0;
  EXPECT_THAT(ValidateHealthOptions(o).message(), HasSubstr("unhealthy_threshold"));
  o = {};
  o.failed_threshold = 2;
  EXPECT_THAT(ValidateHealthOptions(o).message(), HasSubstr("failed_threshold"));
  o = {};
  o.pending_failed_threshold = 0;
  EXPECT_EQ(ValidateHealthOptions(o).code(), absl::StatusCode::kInvalidArgument);
}

TEST(HealthTrackerTest, Names) {
  EXPECT_EQ(WorkerHealthName(WorkerHealth::kPending), "pending");
  EXPECT_EQ(WorkerHealthName(WorkerHealth::kNotReady), "not_ready");
  EXPECT_EQ(WorkerHealthName(WorkerHealth::kDraining), "draining");
  EXPECT_FALSE(IsValidWorkerHealth(static_cast<WorkerHealth>(5)));
}

}  // namespace
}  // namespace smg
