#include "absl/strings/str_cat.h"
#include "smgcore/health.h"

namespace smg {

absl::string_view WorkerHealthName(WorkerHealth health) {
  switch (health) {
    case WorkerHealth::kPending: return "pending";
    case WorkerHealth::kReady: return "ready";
    case WorkerHealth::kNotReady: return "not_ready";
    case WorkerHealth::kFailed: return "failed";
    case WorkerHealth::kDraining: return "draining";
  }
  return "unknown";
}

absl::Status ValidateHealthOptions(const HealthOptions& o) {
  auto invalid = [](absl::string_view field, absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("health ", field, ": ", why));
  };
  if (o.healthy_threshold == 0) return invalid("healthy_threshold", "must be >= 1");
  if (o.unhealthy_threshold == 0) return invalid("unhealthy_threshold", "must be >= 1");
  if (o.failed_threshold < o.unhealthy_threshold) {
    return invalid("failed_threshold",
                   absl::StrCat("must be >= unhealthy_threshold (", o.unhealthy_threshold,
                                "), got ", o.failed_threshold));
  }
  if (o.pending_failed_threshold == 0) return invalid("pending_failed_threshold", "must be >= 1");
  return absl::OkStatus();
}

std::optional<HealthTransition> HealthTracker::OnProbe(bool passed) {
  if (state_ == WorkerHealth::kDraining) return std::nullopt;
  if (passed) {
    failures_ = 0;
    if (passes_ < UINT32_MAX) ++passes_;
    if (state_ != WorkerHealth::kReady && passes_ >= options_.healthy_threshold) {
      return MoveTo(WorkerHealth::kReady);
    }
    return std::nullopt;
  }
  passes_ = 0;
  if (failures_ < UINT32_MAX) ++failures_;
  switch (state_) {
    case WorkerHealth::kPending:
      if (failures_ >= options_.pending_failed_threshold) return MoveTo(WorkerHealth::kFailed);
      return std::nullopt;
    case WorkerHealth::kReady:
      // failed_threshold >= unhealthy_threshold, so a ready worker always
      // passes through not-ready first unless both are equal.
      if (failures_ >= options_.failed_threshold) return MoveTo(WorkerHealth::kFailed);
      if (failures_ >= options_.unhealthy_threshold) return MoveTo(WorkerHealth::kNotReady);
      return std::nullopt;
    case WorkerHealth::kNotReady:
      if (failures_ >= options_.failed_threshold) return MoveTo(WorkerHealth::kFailed);
      return std::nullopt;
    case WorkerHealth::kFailed:
    case WorkerHealth::kDraining:
      return std::nullopt;
  }
  return std::nullopt;
}

std::optional<HealthTransition> HealthTracker::Set(WorkerHealth state) {
  passes_ = 0;
  failures_ = 0;
  return MoveTo(state);
}

std::optional<HealthTransition> HealthTracker::MoveTo(WorkerHealth to) {
  if (to == state_) return std::nullopt;
  const HealthTransition t{state_, to};
  state_ = to;
  return t;
}

}  // namespace smg
