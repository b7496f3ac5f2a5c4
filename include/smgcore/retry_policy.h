// File: smgcore/retry_policy.h
//
// When and how soon to retry a failed request: exponential backoff with
// jitter drawn from the injected random source, a set of retryable outcomes,
// and an optional retry budget that keeps retries from amplifying an outage.
// The per-request helper that re-selects excluding the workers already tried
// is RetryState (retry.h).
//
// Defaults are SMG's; Envoy's route retry policy is the other reference:
//
//   setting              smgcore    SMG              Envoy
//   max_attempts         5 (total)  5 (total)        num_retries 1 (+1)
//   initial_backoff      50 ms      50 ms            base_interval 25 ms
//   backoff_multiplier   1.5        1.5              2
//   max_backoff          30 s       30 s             10 × base
//   jitter               ±20 %      ±20 %            full jitter
//   retryable            408 429 500 502 503 504 + transport (SMG's list)
//   budget               off        none             20 % of active, min 3
//
//   smg::RetryPolicy policy = *smg::RetryPolicy::Create({});
//   absl::Duration wait = policy.Backoff(/*retry=*/1, random);  // 40..60 ms
#ifndef SMGCORE_RETRY_POLICY_H_
#define SMGCORE_RETRY_POLICY_H_

#include <atomic>
#include <cstdint>
#include <optional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "smgcore/outcome.h"
#include "smgcore/random.h"

namespace smg {

// RetryBudgetOptions
//
// Envoy's retry budget: at any time, retries in progress may not exceed
// `percent` of the active requests, but `min_concurrency` retries are always
// allowed (so a quiet router can still retry).
struct RetryBudgetOptions {
  // In (0, 100].
  double percent = 20.0;
  uint32_t min_concurrency = 3;
};

// RetryOptions
struct RetryOptions {
  // Total attempts per request, the first one included. 1 disables retries.
  // In [1, 100].
  uint32_t max_attempts = 5;
  // Backoff before retry n (1-based) is
  //   min(initial_backoff × backoff_multiplier^(n-1), max_backoff)
  // scaled by a uniform factor in [1 - jitter, 1 + jitter].
  absl::Duration initial_backoff = absl::Milliseconds(50);
  // >= 1.
  double backoff_multiplier = 1.5;
  // >= initial_backoff.
  absl::Duration max_backoff = absl::Seconds(30);
  // In [0, 1].
  double jitter = 0.2;
  // Outcomes worth retrying.
  FailureClassifier retryable;
  // Unset: no budget, only max_attempts bounds retries.
  std::optional<RetryBudgetOptions> budget;
};

// ValidateRetryOptions()
//
// InvalidArgument naming the first field out of range.
absl::Status ValidateRetryOptions(const RetryOptions& options);

// RetryPolicy
//
// The stateless part: backoff and classification. Thread-safe (const).
class RetryPolicy {
 public:
  // RetryPolicy::Create()
  static absl::StatusOr<RetryPolicy> Create(const RetryOptions& options);

  // RetryPolicy::Backoff()
  //
  // The wait before retry number `retry` (1 for the first retry, i.e. the
  // second attempt), with jitter from `random`. 0 for retry 0.
  absl::Duration Backoff(uint32_t retry, RandomSource& random) const;
  // RetryPolicy::BaseBackoff()
  //
  // The same without jitter.
  absl::Duration BaseBackoff(uint32_t retry) const;

  // RetryPolicy::IsRetryable()
  bool IsRetryable(const Outcome& outcome) const { return options_.retryable.IsFailure(outcome); }

  // RetryPolicy::options()
  const RetryOptions& options() const { return options_; }

 private:
  explicit RetryPolicy(const RetryOptions& options) : options_(options) {}
  RetryOptions options_;
};

// RetryBudget
//
// Counts retries in progress against a share of the active requests.
// Thread-safe and lock-free.
class RetryBudget {
 public:
  // RetryBudget::RetryBudget()
  //
  // `options` must be valid.
  explicit RetryBudget(const RetryBudgetOptions& options) : options_(options) {}

  // RetryBudget::TryAcquire()
  //
  // Takes one retry slot if fewer than max(min_concurrency,
  // percent% × active_requests) retries are in progress.
  bool TryAcquire(int64_t active_requests);
  // RetryBudget::Release()
  //
  // Gives back a slot taken by TryAcquire().
  void Release() { active_.fetch_sub(1, std::memory_order_acq_rel); }
  // RetryBudget::Limit()
  //
  // The number of concurrent retries allowed at `active_requests`.
  int64_t Limit(int64_t active_requests) const;
  // RetryBudget::active()
  int64_t active() const { return active_.load(std::memory_order_acquire); }

 private:
  const RetryBudgetOptions options_;
  std::atomic<int64_t> active_{0};
};

}  // namespace smg

#endif  // SMGCORE_RETRY_POLICY_H_
