// File: smgcore/circuit_breaker.h
//
// A per-worker circuit breaker: it sheds a worker that keeps failing and lets
// it back in carefully once it may have recovered.
//
//   closed ──(N consecutive failures, or failure rate ≥ threshold over the
//   │         sliding window with enough volume)──▶ open
//   open ──(open duration elapsed)──▶ half-open
//   half-open ──(M consecutive probe successes)──▶ closed
//   half-open ──(any probe failure)──▶ open, for longer
//
// The router owns one breaker per worker: policies never select a worker
// whose breaker is open, and a half-open worker receives at most
// `half_open_max_probes` requests at a time. The outcome of each finished
// ticket is classified by the worker's FailureClassifier and recorded here.
//
// How this differs from SMG's breaker (smg.md §4): SMG validates a time
// window and never uses it, and lets all traffic through when half-open; here
// the window is a real sliding window, half-open admits a bounded number of
// probes, and the open duration grows with repeated openings up to a cap, as
// Envoy's outlier ejection does.
//
// Defaults, side by side (see also README "Resilience defaults"):
//
//   setting                  smgcore   SMG gateway   Envoy outlier detection
//   consecutive_failures     10        10            consecutive_5xx 5
//   failure_rate_threshold   0.5       (unused)      failure_percentage 85 (off)
//   minimum_requests         20        -             request_volume 50
//   window                   120 s     120 s unused  interval 10 s
//   success_threshold        3         3             (one health check)
//   half_open_max_probes     3         unbounded     -
//   open_duration            60 s      60 s          base_ejection_time 30 s
//   max_open_duration        300 s     60 s (fixed)  max_ejection_time 300 s
//
//   smg::CircuitBreakerOptions options;
//   options.consecutive_failures = 5;
//   auto breaker = smg::CircuitBreaker::Create(options, &clock);
//   smg::CircuitBreaker::Admission a = (*breaker)->TryAdmit();
//   if (a.allowed) { ...send...; (*breaker)->Record(BreakerResult::kFailure, a.probe); }
#ifndef SMGCORE_CIRCUIT_BREAKER_H_
#define SMGCORE_CIRCUIT_BREAKER_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "smgcore/clock.h"

namespace smg {

// BreakerState
//
// The numeric values are those of SMG's `smg_worker_cb_state` gauge.
enum class BreakerState : uint8_t {
  kClosed = 0,
  kOpen = 1,
  kHalfOpen = 2,
};
inline constexpr int kBreakerStateCount = 3;

// BreakerStateName()
//
// "closed", "open" or "half_open".
absl::string_view BreakerStateName(BreakerState state);

// BreakerTransition
//
// One change of state, as reported to observers.
struct BreakerTransition {
  BreakerState from;
  BreakerState to;
  friend bool operator==(const BreakerTransition&, const BreakerTransition&) = default;
};

// BreakerResult
//
// What a finished request says about the worker, after classification.
// kNeutral (a cancellation) releases a probe slot without judging the worker.
enum class BreakerResult : uint8_t { kSuccess = 0, kFailure = 1, kNeutral = 2 };

// CircuitBreakerOptions
struct CircuitBreakerOptions {
  // False turns the breaker off: it stays closed and admits everything (it
  // still counts outcomes).
  bool enabled = true;
  // Opens after this many consecutive failures. 0 disables this rule.
  uint32_t consecutive_failures = 10;
  // Opens when failures / requests over `window` reaches this fraction, in
  // (0, 1], once the window holds at least `minimum_requests` outcomes.
  // 0 disables this rule.
  double failure_rate_threshold = 0.5;
  // Outcomes the rate rule needs before it may open the breaker. >= 1.
  uint32_t minimum_requests = 20;
  // Length of the sliding window of the rate rule.
  absl::Duration window = absl::Seconds(120);
  // The window slides in steps of window / window_buckets: outcomes leave it
  // between `window - window/window_buckets` and `window` after they were
  // recorded. In [1, 600].
  uint32_t window_buckets = 12;
  // Consecutive probe successes that close a half-open breaker. >= 1.
  uint32_t success_threshold = 3;
  // Requests admitted at once while half-open (probes). >= 1.
  uint32_t half_open_max_probes = 3;
  // How long the breaker stays open after its first opening. Each further
  // opening (a failed probe, or a new trip soon after closing) adds this much
  // again, up to `max_open_duration`; each `open_duration` spent closed
  // forgives one opening (Envoy's ejection backoff).
  absl::Duration open_duration = absl::Seconds(60);
  absl::Duration max_open_duration = absl::Seconds(300);
};

// ValidateCircuitBreakerOptions()
//
// InvalidArgument naming the first field out of range.
absl::Status ValidateCircuitBreakerOptions(const CircuitBreakerOptions& options);

// CircuitBreakerCounters
//
// Lifetime counters, for metrics. (Outcomes themselves are counted by the
// worker: Worker::successes() and failures().)
struct CircuitBreakerCounters {
  uint64_t rejected = 0;  // TryAdmit() calls refused
  // Transitions, by kind.
  uint64_t closed_to_open = 0;
  uint64_t open_to_half_open = 0;
  uint64_t half_open_to_closed = 0;
  uint64_t half_open_to_open = 0;
};

// CircuitBreaker
//
// Thread-safe, and cheap where it is on every request: state() and TryAdmit()
// on a closed breaker are one atomic load; Record() of a success on a closed
// breaker is lock-free (a clock read and one atomic add into the sliding
// window when the rate rule is on). Failures, probes and transitions take the
// breaker's own mutex, so breakers of different workers never contend.
// Under concurrency "consecutive" means consecutive in the order the
// breaker observed the outcomes.
class CircuitBreaker {
 public:
  // CircuitBreaker::Create()
  //
  // Validates `options`. `clock` must outlive the breaker; null means
  // SteadyClock.
  static absl::StatusOr<std::unique_ptr<CircuitBreaker>> Create(
      const CircuitBreakerOptions& options, const Clock* clock = nullptr);

  // CircuitBreaker::CircuitBreaker()
  //
  // For owners that embed a breaker: `options` must already be valid
  // (ValidateCircuitBreakerOptions()); `clock` as for Create().
  CircuitBreaker(const CircuitBreakerOptions& options, const Clock* clock);
  CircuitBreaker(const CircuitBreaker&) = delete;
  CircuitBreaker& operator=(const CircuitBreaker&) = delete;

  // CircuitBreaker::Admission
  struct Admission {
    bool allowed = false;
    // Nonzero when the request was admitted as a half-open probe: pass it
    // back to Record() so the probe slot is freed. Identifies the half-open
    // period, so a probe that outlives its period frees nothing.
    uint32_t probe = 0;
    // Set when the call moved the breaker from open to half-open.
    std::optional<BreakerTransition> transition;
  };

  // CircuitBreaker::TryAdmit()
  //
  // Whether a new request may go to the worker now. Closed: yes. Open: no,
  // unless the open duration has elapsed, in which case the breaker turns
  // half-open and this request is its first probe. Half-open: yes while fewer
  // than `half_open_max_probes` probes are outstanding.
  Admission TryAdmit();

  // CircuitBreaker::Record()
  //
  // Records how a request ended. `probe` is the value TryAdmit() returned (0
  // for requests admitted while closed). Returns the transition it caused,
  // if any. While half-open, only probes of the current period move the
  // state: an outcome of a request admitted before the breaker opened says
  // nothing about the worker's recovery.
  std::optional<BreakerTransition> Record(BreakerResult result, uint32_t probe = 0);

  // CircuitBreaker::Poll()
  //
  // Moves an open breaker whose open duration has elapsed to half-open
  // (without admitting a probe). For hosts and maintenance passes that want
  // to re-admit a worker before the next request arrives.
  std::optional<BreakerTransition> Poll();

  // CircuitBreaker::Reset()
  //
  // Forces the breaker closed and forgets its history (an operator's
  // override, or a worker replaced on the same address).
  std::optional<BreakerTransition> Reset();

  // CircuitBreaker::state()
  //
  // The current state. Does not apply the open → half-open timeout (see
  // Poll()).
  BreakerState state() const { return state_.load(std::memory_order_acquire); }
  // CircuitBreaker::accepting()
  //
  // Whether TryAdmit() would admit a request right now without a
  // transition: closed, or half-open with a free probe slot.
  bool accepting() const;
  // CircuitBreaker::open_until_nanos()
  //
  // While open: the clock instant at which it may turn half-open.
  int64_t open_until_nanos() const { return open_until_.load(std::memory_order_acquire); }
  // CircuitBreaker::consecutive_failures()
  //
  // Failures in a row while closed.
  uint32_t consecutive_failures() const {
    return consecutive_failures_.load(std::memory_order_relaxed);
  }
  // CircuitBreaker::consecutive_successes()
  //
  // Probe successes in a row while half-open.
  uint32_t consecutive_successes() const;
  // CircuitBreaker::openings()
  //
  // The opening count the backoff uses (after forgiveness), 0 when it never
  // opened.
  uint32_t openings() const;
  // CircuitBreaker::counters()
  CircuitBreakerCounters counters() const;
  // CircuitBreaker::options()
  const CircuitBreakerOptions& options() const { return options_; }

 private:
  // One step of the sliding window. Counts are added lock-free; moving a
  // bucket on to a new step takes the mutex (once per step).
  struct Bucket {
    std::atomic<int64_t> index{-1};  // window step held, -1 when unused
    std::atomic<uint32_t> successes{0};
    std::atomic<uint32_t> failures{0};
  };

  bool rate_rule() const { return options_.failure_rate_threshold > 0; }
  void CountInWindow(int64_t now, bool failure) ABSL_LOCKS_EXCLUDED(mu_);
  void CountInWindowLocked(int64_t now, bool failure) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Bucket* BucketFor(int64_t index) const;
  bool RateTripped(int64_t now) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::optional<BreakerTransition> RecordLocked(BreakerResult result, uint32_t probe)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  BreakerTransition Open(int64_t now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  BreakerTransition ToHalfOpen() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  BreakerTransition Close(int64_t now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ClearWindow() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void SetState(BreakerState s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const CircuitBreakerOptions options_;
  const Clock* const clock_;
  const int64_t bucket_nanos_;

  // Read without the mutex (selection path, metrics).
  std::atomic<BreakerState> state_{BreakerState::kClosed};
  std::atomic<int64_t> open_until_{0};
  std::atomic<uint32_t> probes_in_flight_{0};
  // Written lock-free by successes (reset) and under mu_ by failures.
  std::atomic<uint32_t> consecutive_failures_{0};
  const std::unique_ptr<Bucket[]> window_;

  mutable absl::Mutex mu_;
  uint32_t consecutive_successes_ ABSL_GUARDED_BY(mu_) = 0;
  uint32_t openings_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t closed_since_ ABSL_GUARDED_BY(mu_) = 0;
  // Half-open periods are numbered from 1; probes carry their period.
  uint32_t period_ ABSL_GUARDED_BY(mu_) = 0;
  CircuitBreakerCounters counters_ ABSL_GUARDED_BY(mu_);
};

}  // namespace smg

#endif  // SMGCORE_CIRCUIT_BREAKER_H_
