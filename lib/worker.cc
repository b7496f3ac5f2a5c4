#include "smgcore/worker.h"

#include <bit>
#include <cmath>
#include <limits>

#include "absl/strings/match.h"
#include "smgcore/request.h"
#include "striped_counters.h"
#include "worker_events.h"

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

// One counter, added to in two's complement: a stripe's unsigned sum wraps
// exactly as a signed one would, and so does the sum of the stripes.
struct LegLoad::Stripes : internal::StripedCounters<1> {};

LegLoad::LegLoad() : stripes_(std::make_unique<Stripes>()) {}

LegLoad::~LegLoad() = default;

void LegLoad::Add(int64_t delta) { stripes_->Add(0, static_cast<uint64_t>(delta)); }

int64_t LegLoad::value() const {
  const int64_t total = static_cast<int64_t>(stripes_->Sum(0));
  return total > 0 ? total : 0;
}

Worker::Worker(WorkerId id, WorkerSpec spec, std::string bootstrap_host, WorkerRuntime runtime)
    : id_(id),
      url_(std::move(spec.url)),
      model_(std::move(spec.model)),
      type_(spec.type),
      bootstrap_port_(spec.bootstrap_port),
      bootstrap_host_(std::move(bootstrap_host)),
      labels_(std::move(spec.labels)),
      weight_(spec.weight),
      health_(spec.health),
      breaker_(runtime.circuit_breaker, runtime.clock),
      classifier_(runtime.failure_classifier),
      events_(std::move(runtime.events)),
      health_tracker_(runtime.health, spec.health),
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

std::optional<HealthTransition> Worker::ApplyProbe(bool passed) {
  (passed ? probes_passed_ : probes_failed_).fetch_add(1, std::memory_order_relaxed);
  absl::MutexLock lock(&state_mu_);
  std::optional<HealthTransition> t = health_tracker_.OnProbe(passed);
  if (t) {
    health_.store(t->to, std::memory_order_release);
    health_entered_[static_cast<size_t>(t->to)].fetch_add(1, std::memory_order_relaxed);
  }
  return t;
}

std::optional<HealthTransition> Worker::ForceHealth(WorkerHealth state) {
  absl::MutexLock lock(&state_mu_);
  std::optional<HealthTransition> t = health_tracker_.Set(state);
  if (t) {
    health_.store(t->to, std::memory_order_release);
    health_entered_[static_cast<size_t>(t->to)].fetch_add(1, std::memory_order_relaxed);
  }
  return t;
}

CircuitBreaker::Admission Worker::AdmitRequestSlow() {
  const bool accepting_before = breaker_.accepting();
  CircuitBreaker::Admission admission = breaker_.TryAdmit();
  ReportBreakerTransition(admission.transition, accepting_before);
  return admission;
}

void Worker::CancelAdmission(uint32_t probe) {
  if (probe == 0) return;
  const bool accepting_before = breaker_.accepting();
  ReportBreakerTransition(breaker_.Record(BreakerResult::kNeutral, probe), accepting_before);
}

void Worker::ReportBreakerTransition(std::optional<BreakerTransition> t, bool accepting_before) {
  if (events_ == nullptr) return;
  if (t.has_value() || breaker_.accepting() != accepting_before) events_->RoutabilityChanged(*this);
  if (t.has_value()) events_->BreakerTransitioned(*this, *t);
}

void Worker::AcquireLoad() {
  in_flight_.fetch_add(1, std::memory_order_relaxed);
  if (leg_in_flight_) leg_in_flight_->Add(1);
}

void Worker::ReleaseLoad(const Outcome& outcome, uint32_t probe) {
  in_flight_.fetch_sub(1, std::memory_order_relaxed);
  if (leg_in_flight_) leg_in_flight_->Add(-1);
  BreakerResult result = BreakerResult::kNeutral;
  if (classifier_.IsFailure(outcome)) {
    failures_.fetch_add(1, std::memory_order_relaxed);
    result = BreakerResult::kFailure;
  } else if (outcome.kind() == Outcome::Kind::kStatus) {
    successes_.fetch_add(1, std::memory_order_relaxed);
    result = BreakerResult::kSuccess;
  } else {
    cancelled_.fetch_add(1, std::memory_order_relaxed);
  }
  if (probe == 0 && breaker_.state() == BreakerState::kClosed) {
    // Closed (the common case): accepting before, and after unless it opened.
    ReportBreakerTransition(breaker_.Record(result, probe), /*accepting_before=*/true);
    return;
  }
  const bool accepting_before = breaker_.accepting();
  ReportBreakerTransition(breaker_.Record(result, probe), accepting_before);
}

absl::string_view FindHeader(absl::Span<const Header> headers, absl::string_view name) {
  for (const Header& h : headers) {
    if (absl::EqualsIgnoreCase(h.name, name)) return h.value;
  }
  return {};
}

}  // namespace smg
