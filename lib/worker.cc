#include "smgcore/worker.h"

#include <bit>
#include <cmath>
#include <limits>

#include "absl/strings/match.h"
#include "smgcore/request.h"

namespace smg {
namespace {

constexpr uint64_t kNoEngineLoad = std::bit_cast<uint64_t>(std::numeric_limits<double>::quiet_NaN());

}  // namespace

absl::string_view WorkerTypeName(WorkerType type) {
  switch (type) {
    case WorkerType::kRegular: return "regular";
    case WorkerType::kPrefill: return "prefill";
    case WorkerType::kDecode: return "decode";
  }
  return "unknown";
}

absl::string_view WorkerHealthName(WorkerHealth health) {
  switch (health) {
    case WorkerHealth::kHealthy: return "healthy";
    case WorkerHealth::kUnhealthy: return "unhealthy";
  }
  return "unknown";
}

Worker::Worker(WorkerId id, WorkerSpec spec, std::string bootstrap_host)
    : id_(id),
      url_(std::move(spec.url)),
      model_(std::move(spec.model)),
      type_(spec.type),
      bootstrap_port_(spec.bootstrap_port),
      bootstrap_host_(std::move(bootstrap_host)),
      labels_(std::move(spec.labels)),
      weight_(spec.weight),
      health_(spec.health),
      engine_load_bits_(kNoEngineLoad) {}

Labels Worker::labels() const {
  absl::MutexLock lock(&labels_mu_);
  return labels_;
}

void Worker::set_labels(Labels labels) {
  absl::MutexLock lock(&labels_mu_);
  labels_ = std::move(labels);
}

std::optional<double> Worker::engine_load() const {
  const double v = std::bit_cast<double>(engine_load_bits_.load(std::memory_order_relaxed));
  if (std::isnan(v)) return std::nullopt;
  return v;
}

void Worker::set_engine_load(std::optional<double> load) {
  engine_load_bits_.store(load ? std::bit_cast<uint64_t>(*load) : kNoEngineLoad,
                          std::memory_order_relaxed);
}

void Worker::AcquireLoad() {
  in_flight_.fetch_add(1, std::memory_order_relaxed);
  if (leg_in_flight_) leg_in_flight_->fetch_add(1, std::memory_order_relaxed);
}

void Worker::ReleaseLoad(const Outcome& outcome) {
  in_flight_.fetch_sub(1, std::memory_order_relaxed);
  if (leg_in_flight_) leg_in_flight_->fetch_sub(1, std::memory_order_relaxed);
  served_.fetch_add(1, std::memory_order_relaxed);
  if (outcome.IsFailure()) {
    failures_.fetch_add(1, std::memory_order_relaxed);
  } else if (outcome.IsSuccess()) {
    successes_.fetch_add(1, std::memory_order_relaxed);
  }
}

absl::string_view FindHeader(absl::Span<const Header> headers, absl::string_view name) {
  for (const Header& h : headers) {
    if (absl::EqualsIgnoreCase(h.name, name)) return h.value;
  }
  return {};
}

}  // namespace smg
