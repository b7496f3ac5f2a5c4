#include "smgcore/circuit_breaker.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"

namespace smg {
namespace {

absl::Status Invalid(absl::string_view field, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("circuit breaker ", field, ": ", why));
}

// Floor division for b > 0; one division on the (usual) non-negative path.
int64_t FloorDiv(int64_t a, int64_t b) {
  if (a >= 0) return a / b;
  return -((-(a + 1)) / b) - 1;
}

}  // namespace

absl::string_view BreakerStateName(BreakerState state) {
  switch (state) {
    case BreakerState::kClosed: return "closed";
    case BreakerState::kOpen: return "open";
    case BreakerState::kHalfOpen: return "half_open";
  }
  return "unknown";
}

absl::Status ValidateCircuitBreakerOptions(const CircuitBreakerOptions& o) {
  if (!std::isfinite(o.failure_rate_threshold) || o.failure_rate_threshold < 0 ||
      o.failure_rate_threshold > 1) {
    return Invalid("failure_rate_threshold", absl::StrCat("must be in [0, 1] (0 disables the "
                                                          "rate rule), got ",
                                                          o.failure_rate_threshold));
  }
  if (o.minimum_requests == 0) return Invalid("minimum_requests", "must be >= 1");
  if (o.window_buckets == 0 || o.window_buckets > 600) {
    return Invalid("window_buckets", absl::StrCat("must be in [1, 600], got ", o.window_buckets));
  }
  if (o.window < absl::Milliseconds(1) || o.window > absl::Hours(24)) {
    return Invalid("window", absl::StrCat("must be in [1ms, 24h], got ", absl::FormatDuration(o.window)));
  }
  if (o.success_threshold == 0) return Invalid("success_threshold", "must be >= 1");
  if (o.half_open_max_probes == 0) return Invalid("half_open_max_probes", "must be >= 1");
  if (o.open_duration <= absl::ZeroDuration() || o.open_duration > absl::Hours(24)) {
    return Invalid("open_duration",
                   absl::StrCat("must be in (0, 24h], got ", absl::FormatDuration(o.open_duration)));
  }
  if (o.max_open_duration < o.open_duration || o.max_open_duration > absl::Hours(24 * 7)) {
    return Invalid("max_open_duration",
                   absl::StrCat("must be in [open_duration, 7 days], got ",
                                absl::FormatDuration(o.max_open_duration)));
  }
  if (o.enabled && o.consecutive_failures == 0 && o.failure_rate_threshold == 0) {
    return Invalid("consecutive_failures",
                   "and failure_rate_threshold are both 0: the breaker could never open "
                   "(set enabled = false instead)");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<CircuitBreaker>> CircuitBreaker::Create(
    const CircuitBreakerOptions& options, const Clock* clock) {
  if (absl::Status s = ValidateCircuitBreakerOptions(options); !s.ok()) return s;
  return std::make_unique<CircuitBreaker>(options, clock);
}

CircuitBreaker::CircuitBreaker(const CircuitBreakerOptions& options, const Clock* clock)
    : options_(options),
      clock_(clock != nullptr ? clock : &SteadyClock::Instance()),
      bucket_nanos_(std::max<int64_t>(
          1, absl::ToInt64Nanoseconds(options.window) / options.window_buckets)),
      window_(std::make_unique<Bucket[]>(options.window_buckets)) {}

bool CircuitBreaker::accepting() const {
  switch (state()) {
    case BreakerState::kClosed: return true;
    case BreakerState::kOpen: return !options_.enabled;
    case BreakerState::kHalfOpen:
      return probes_in_flight_.load(std::memory_order_acquire) < options_.half_open_max_probes;
  }
  return false;
}

CircuitBreaker::Admission CircuitBreaker::TryAdmit() {
  if (state() == BreakerState::kClosed || !options_.enabled) return {.allowed = true};
  absl::MutexLock lock(&mu_);
  Admission admission;
  if (state() == BreakerState::kOpen) {
    if (clock_->NowNanos() < open_until_nanos()) {
      ++counters_.rejected;
      return admission;
    }
    admission.transition = ToHalfOpen();
  }
  if (state() == BreakerState::kHalfOpen) {
    const uint32_t probes = probes_in_flight_.load(std::memory_order_relaxed);
    if (probes >= options_.half_open_max_probes) {
      ++counters_.rejected;
      return admission;
    }
    probes_in_flight_.store(probes + 1, std::memory_order_release);
    admission.allowed = true;
    admission.probe = period_;
    return admission;
  }
  admission.allowed = true;  // closed by a concurrent probe success
  return admission;
}

std::optional<BreakerTransition> CircuitBreaker::Record(BreakerResult result, uint32_t probe) {
  if (!options_.enabled) return std::nullopt;
  if (probe == 0) {
    if (result == BreakerResult::kNeutral) return std::nullopt;
    // The common case, a success while closed, stays off the mutex.
    if (result == BreakerResult::kSuccess && state() == BreakerState::kClosed) {
      if (consecutive_failures_.load(std::memory_order_relaxed) != 0) {
        consecutive_failures_.store(0, std::memory_order_relaxed);
      }
      if (rate_rule()) CountInWindow(clock_->NowNanosCoarse(), /*failure=*/false);
      return std::nullopt;
    }
  }
  absl::MutexLock lock(&mu_);
  return RecordLocked(result, probe);
}

std::optional<BreakerTransition> CircuitBreaker::RecordLocked(BreakerResult result,
                                                              uint32_t probe) {
  const bool failure = result == BreakerResult::kFailure;
  switch (state()) {
    case BreakerState::kClosed: {
      if (probe != 0 || result == BreakerResult::kNeutral) return std::nullopt;  // stale probe
      const int64_t now = clock_->NowNanos();
      if (rate_rule()) CountInWindowLocked(now, failure);
      if (!failure) {
        consecutive_failures_.store(0, std::memory_order_relaxed);
        return std::nullopt;
      }
      const uint32_t in_a_row = consecutive_failures_.fetch_add(1, std::memory_order_relaxed) + 1;
      const bool consecutive_rule =
          options_.consecutive_failures != 0 && in_a_row >= options_.consecutive_failures;
      if (consecutive_rule || RateTripped(now)) return Open(now);
      return std::nullopt;
    }
    case BreakerState::kOpen:
      // A request admitted before the breaker opened: it cannot tell whether
      // the worker recovered, so it moves nothing.
      return std::nullopt;
    case BreakerState::kHalfOpen: {
      if (probe == 0 || probe != period_) return std::nullopt;
      probes_in_flight_.fetch_sub(1, std::memory_order_acq_rel);
      if (result == BreakerResult::kNeutral) return std::nullopt;
      if (failure) return Open(clock_->NowNanos());
      if (++consecutive_successes_ >= options_.success_threshold) return Close(clock_->NowNanos());
      return std::nullopt;
    }
  }
  return std::nullopt;
}

std::optional<BreakerTransition> CircuitBreaker::Poll() {
  if (state() != BreakerState::kOpen) return std::nullopt;
  absl::MutexLock lock(&mu_);
  if (state() != BreakerState::kOpen || clock_->NowNanos() < open_until_nanos()) return std::nullopt;
  return ToHalfOpen();
}

std::optional<BreakerTransition> CircuitBreaker::Reset() {
  absl::MutexLock lock(&mu_);
  const int64_t now = clock_->NowNanos();
  openings_ = 0;
  if (state() == BreakerState::kClosed) {
    ClearWindow();
    closed_since_ = now;
    return std::nullopt;
  }
  const BreakerState from = state();
  SetState(BreakerState::kClosed);
  ClearWindow();
  closed_since_ = now;
  return BreakerTransition{from, BreakerState::kClosed};
}

uint32_t CircuitBreaker::consecutive_successes() const {
  absl::MutexLock lock(&mu_);
  return consecutive_successes_;
}

uint32_t CircuitBreaker::openings() const {
  absl::MutexLock lock(&mu_);
  return openings_;
}

CircuitBreakerCounters CircuitBreaker::counters() const {
  absl::MutexLock lock(&mu_);
  return counters_;
}

CircuitBreaker::Bucket* CircuitBreaker::BucketFor(int64_t index) const {
  const auto n = static_cast<int64_t>(options_.window_buckets);
  const int64_t slot = index % n;
  return &window_[static_cast<size_t>(slot < 0 ? slot + n : slot)];
}

void CircuitBreaker::CountInWindow(int64_t now, bool failure) {
  const int64_t index = FloorDiv(now, bucket_nanos_);
  Bucket* b = BucketFor(index);
  if (b->index.load(std::memory_order_acquire) != index) {
    // First outcome of a new step in this slot: recycle it under the mutex.
    absl::MutexLock lock(&mu_);
    CountInWindowLocked(now, failure);
    return;
  }
  (failure ? b->failures : b->successes).fetch_add(1, std::memory_order_relaxed);
}

void CircuitBreaker::CountInWindowLocked(int64_t now, bool failure) {
  const int64_t index = FloorDiv(now, bucket_nanos_);
  Bucket* b = BucketFor(index);
  const int64_t held = b->index.load(std::memory_order_acquire);
  if (held > index) return;  // the slot already moved past this outcome's step
  if (held != index) {
    // A lock-free add racing with this reset (an outcome stamped just before
    // the step changed) may be lost: the window is exact to within the
    // outcomes that straddle a step boundary.
    b->successes.store(0, std::memory_order_relaxed);
    b->failures.store(0, std::memory_order_relaxed);
    b->index.store(index, std::memory_order_release);
  }
  (failure ? b->failures : b->successes).fetch_add(1, std::memory_order_relaxed);
}

bool CircuitBreaker::RateTripped(int64_t now) const {
  if (options_.failure_rate_threshold <= 0) return false;
  const int64_t current = FloorDiv(now, bucket_nanos_);
  const int64_t oldest = current - static_cast<int64_t>(options_.window_buckets) + 1;
  uint64_t total = 0, failures = 0;
  for (uint32_t i = 0; i < options_.window_buckets; ++i) {
    const Bucket& b = window_[i];
    const int64_t index = b.index.load(std::memory_order_acquire);
    if (index < oldest || index > current) continue;
    const uint32_t f = b.failures.load(std::memory_order_relaxed);
    total += uint64_t{b.successes.load(std::memory_order_relaxed)} + f;
    failures += f;
  }
  return total >= options_.minimum_requests &&
         static_cast<double>(failures) >=
             options_.failure_rate_threshold * static_cast<double>(total);
}

BreakerTransition CircuitBreaker::Open(int64_t now) {
  const BreakerState from = state();
  if (from == BreakerState::kClosed && openings_ > 0) {
    // Envoy-style forgiveness: each open_duration spent closed takes one
    // opening off the backoff multiplier.
    const int64_t forgiven = (now - closed_since_) / absl::ToInt64Nanoseconds(options_.open_duration);
    openings_ = forgiven >= openings_ ? 0 : openings_ - static_cast<uint32_t>(forgiven);
  }
  if (openings_ < std::numeric_limits<uint32_t>::max()) ++openings_;
  const absl::Duration duration =
      std::min(options_.open_duration * static_cast<double>(openings_), options_.max_open_duration);
  open_until_.store(now + absl::ToInt64Nanoseconds(duration), std::memory_order_release);
  ++(from == BreakerState::kClosed ? counters_.closed_to_open : counters_.half_open_to_open);
  SetState(BreakerState::kOpen);
  ClearWindow();
  return {from, BreakerState::kOpen};
}

BreakerTransition CircuitBreaker::ToHalfOpen() {
  if (++period_ == 0) period_ = 1;  // 0 means "not a probe"
  probes_in_flight_.store(0, std::memory_order_release);
  consecutive_successes_ = 0;
  ++counters_.open_to_half_open;
  SetState(BreakerState::kHalfOpen);
  return {BreakerState::kOpen, BreakerState::kHalfOpen};
}

BreakerTransition CircuitBreaker::Close(int64_t now) {
  ++counters_.half_open_to_closed;
  SetState(BreakerState::kClosed);
  ClearWindow();
  closed_since_ = now;
  return {BreakerState::kHalfOpen, BreakerState::kClosed};
}

void CircuitBreaker::ClearWindow() {
  for (uint32_t i = 0; i < options_.window_buckets; ++i) {
    window_[i].index.store(-1, std::memory_order_release);
    window_[i].successes.store(0, std::memory_order_relaxed);
    window_[i].failures.store(0, std::memory_order_relaxed);
  }
  consecutive_failures_.store(0, std::memory_order_relaxed);
  consecutive_successes_ = 0;
}

void CircuitBreaker::SetState(BreakerState s) { state_.store(s, std::memory_order_release); }

}  // namespace smg
