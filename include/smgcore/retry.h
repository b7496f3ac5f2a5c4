// File: smgcore/retry.h
//
// RetryState carries one request through its attempts: it selects a worker
// (excluding those already tried), and when an attempt fails it says whether
// to retry and how long to wait first, following the router's RetryOptions
// and retry budget.
//
//   smg::RetryState attempts(*router);
//   for (;;) {
//     absl::StatusOr<smg::Ticket> t = attempts.Select(request);
//     if (!t.ok()) return t.status();
//     smg::Outcome outcome = Forward(t->worker().url(), ...);
//     smg::RetryDecision d = attempts.Finish(*t, outcome);
//     if (!d.retry()) return outcome;
//     SleepOrScheduleAfter(d.backoff);
//   }
//
// RetryState is not thread-safe: one request, one thread at a time (it may
// move between threads with the host's own synchronization). The router must
// outlive it.
#ifndef SMGCORE_RETRY_H_
#define SMGCORE_RETRY_H_

#include <cstdint>

#include "absl/container/inlined_vector.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "smgcore/outcome.h"
#include "smgcore/request.h"
#include "smgcore/router.h"
#include "smgcore/ticket.h"

namespace smg {

// RetryVerdict
enum class RetryVerdict : uint8_t {
  // Retry after `backoff`.
  kRetry = 0,
  // The attempt did not fail; nothing to retry.
  kSucceeded = 1,
  // The attempt failed with an outcome outside RetryOptions::retryable.
  kNotRetryable = 2,
  // max_attempts reached.
  kAttemptsExhausted = 3,
  // The retry budget is spent (too many retries in progress).
  kBudgetExhausted = 4,
};

// RetryVerdictName()
//
// "retry", "succeeded", "not_retryable", "attempts_exhausted" or
// "budget_exhausted".
absl::string_view RetryVerdictName(RetryVerdict verdict);

// RetryDecision
struct RetryDecision {
  RetryVerdict verdict = RetryVerdict::kSucceeded;
  // How long to wait before the next Select(); zero unless kRetry.
  absl::Duration backoff;
  // Attempts made so far (the finished one included).
  uint32_t attempts = 0;

  // RetryDecision::retry()
  bool retry() const { return verdict == RetryVerdict::kRetry; }
};

// RetryState
class RetryState {
 public:
  // RetryState::RetryState()
  //
  // `router` must outlive this object.
  explicit RetryState(Router& router) : router_(router) {}
  ~RetryState();
  RetryState(const RetryState&) = delete;
  RetryState& operator=(const RetryState&) = delete;

  // RetryState::Select()
  //
  // Selects for the next attempt, excluding every worker tried so far (on
  // top of `request.exclude_workers`). FailedPrecondition when the previous
  // attempt's decision was not kRetry or when called twice without Finish().
  // Otherwise the router's errors.
  absl::StatusOr<Ticket> Select(const RouteRequest& request);

  // RetryState::Finish()
  //
  // Finishes `ticket` with `outcome` (the ticket Select() returned; if it is
  // already finished, only the decision is made) and decides about the next
  // attempt. A retry takes a slot of the router's retry budget, held until
  // the next attempt finishes or this object is destroyed.
  RetryDecision Finish(Ticket& ticket, Outcome outcome);

  // RetryState::attempts()
  uint32_t attempts() const { return attempts_; }
  // RetryState::tried_workers()
  //
  // Ids of the workers tried, in order (two per attempt in PD mode).
  absl::Span<const uint32_t> tried_workers() const { return tried_; }

 private:
  void ReleaseBudget();

  Router& router_;
  uint32_t attempts_ = 0;
  bool selected_ = false;  // a Select() awaits its Finish()
  bool may_select_ = true;
  bool holds_budget_ = false;
  absl::InlinedVector<uint32_t, 8> tried_;
  absl::InlinedVector<uint32_t, 8> excluded_;  // scratch for Select()
};

}  // namespace smg

#endif  // SMGCORE_RETRY_H_
