// File: smgcore/health.h
//
// The health state machine of a worker, driven by probe results that the host
// reports (smgcore does no I/O: the host runs its own /health checks and calls
// Router::ReportProbe()).
//
//   pending ──(healthy_threshold passes)──▶ ready
//   ready ──(unhealthy_threshold consecutive failures)──▶ not_ready
//   not_ready ──(failed_threshold consecutive failures in all)──▶ failed
//   pending ──(pending_failed_threshold consecutive failures)──▶ failed
//   not_ready, failed ──(healthy_threshold consecutive passes)──▶ ready
//   any ──(Router::DrainWorker)──▶ draining
//
// Only ready workers are routed to. Unlike SMG, where `Failed` is terminal
// (smg#2468), a failed worker that starts passing probes again rejoins: a pod
// restarted on the same address comes back without re-registration.
// Draining workers receive no new requests; their outstanding tickets finish
// normally, and probes no longer move them (the host removes them when their
// requests are done).
//
// Defaults are SMG's: 2 passes to become ready, 3 failures to become
// not-ready, 9 (3×) to fail, 30 (10×) while pending.
#ifndef SMGCORE_HEALTH_H_
#define SMGCORE_HEALTH_H_

#include <cstdint>
#include <optional>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace smg {

// WorkerHealth
//
// A worker's health state. Only kReady workers are candidates for selection.
enum class WorkerHealth : uint8_t {
  kPending = 0,
  kReady = 1,
  kNotReady = 2,
  kFailed = 3,
  kDraining = 4,
};
inline constexpr int kWorkerHealthCount = 5;

// WorkerHealthName()
//
// "pending", "ready", "not_ready", "failed" or "draining".
absl::string_view WorkerHealthName(WorkerHealth health);

// IsValidWorkerHealth()
//
// False for values outside the enum (e.g. from a C or Python caller).
inline bool IsValidWorkerHealth(WorkerHealth health) {
  return static_cast<uint8_t>(health) < kWorkerHealthCount;
}

// HealthTransition
struct HealthTransition {
  WorkerHealth from;
  WorkerHealth to;
  friend bool operator==(const HealthTransition&, const HealthTransition&) = default;
};

// HealthOptions
struct HealthOptions {
  // Consecutive passing probes that make a pending, not-ready or failed
  // worker ready. >= 1.
  uint32_t healthy_threshold = 2;
  // Consecutive failing probes that make a ready worker not-ready. >= 1.
  uint32_t unhealthy_threshold = 3;
  // Consecutive failing probes, counted from the first, after which a ready
  // or not-ready worker is failed. >= unhealthy_threshold.
  uint32_t failed_threshold = 9;
  // Consecutive failing probes after which a pending worker is failed. >= 1.
  uint32_t pending_failed_threshold = 30;
};

// ValidateHealthOptions()
//
// InvalidArgument naming the first field out of range.
absl::Status ValidateHealthOptions(const HealthOptions& options);

// HealthTracker
//
// The state machine of one worker. Not thread-safe: the owner serializes
// calls (the router holds the worker's state lock).
class HealthTracker {
 public:
  // HealthTracker::HealthTracker()
  //
  // `options` must be valid (see ValidateHealthOptions()).
  HealthTracker(const HealthOptions& options, WorkerHealth initial)
      : options_(options), state_(initial) {}

  // HealthTracker::OnProbe()
  //
  // Applies one probe result; returns the transition it caused, if any.
  // Probes do not move a draining worker.
  std::optional<HealthTransition> OnProbe(bool passed);

  // HealthTracker::Set()
  //
  // Forces a state (an operator's override, or draining) and restarts the
  // probe counts. Returns the transition, or nullopt if unchanged.
  std::optional<HealthTransition> Set(WorkerHealth state);

  // HealthTracker::state()
  WorkerHealth state() const { return state_; }
  // HealthTracker::consecutive_passes() / consecutive_failures()
  uint32_t consecutive_passes() const { return passes_; }
  uint32_t consecutive_failures() const { return failures_; }

 private:
  std::optional<HealthTransition> MoveTo(WorkerHealth to);

  HealthOptions options_;
  WorkerHealth state_;
  uint32_t passes_ = 0;
  uint32_t failures_ = 0;
};

}  // namespace smg

#endif  // SMGCORE_HEALTH_H_
