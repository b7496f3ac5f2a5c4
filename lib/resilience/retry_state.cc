#include "smgcore/retry.h"

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"

namespace smg {

absl::string_view RetryVerdictName(RetryVerdict verdict) {
  switch (verdict) {
    case RetryVerdict::kRetry: return "retry";
    case RetryVerdict::kSucceeded: return "succeeded";
    case RetryVerdict::kNotRetryable: return "not_retryable";
    case RetryVerdict::kAttemptsExhausted: return "attempts_exhausted";
    case RetryVerdict::kBudgetExhausted: return "budget_exhausted";
  }
  return "unknown";
}

RetryState::~RetryState() { ReleaseBudget(); }

void RetryState::ReleaseBudget() {
  if (holds_budget_) {
    router_.retry_budget_->Release();
    holds_budget_ = false;
  }
}

absl::StatusOr<Ticket> RetryState::Select(const RouteRequest& request) {
  if (selected_) {
    return absl::FailedPreconditionError("RetryState::Select() called again before Finish()");
  }
  if (!may_select_) {
    return absl::FailedPreconditionError(
        "RetryState::Select() after a decision that was not to retry");
  }
  RouteRequest attempt = request;
  if (!tried_.empty()) {
    excluded_.assign(tried_.begin(), tried_.end());
    excluded_.insert(excluded_.end(), request.exclude_workers.begin(),
                     request.exclude_workers.end());
    attempt.exclude_workers = excluded_;
  }
  absl::StatusOr<Ticket> ticket = router_.Select(attempt);
  if (!ticket.ok()) return ticket;
  selected_ = true;
  ++attempts_;
  tried_.push_back(ticket->worker().id());
  if (ticket->is_pd()) tried_.push_back(ticket->decode().id());
  return ticket;
}

RetryDecision RetryState::Finish(Ticket& ticket, Outcome outcome) {
  if (!ticket.finished()) ticket.Finish(outcome).IgnoreError();
  selected_ = false;
  ReleaseBudget();  // the retry this budget slot paid for is over
  RetryDecision d;
  d.attempts = attempts_;
  const RetryPolicy& policy = router_.retry_policy();
  may_select_ = false;
  if (!policy.IsRetryable(outcome)) {
    const WorkerPtr& worker = ticket.worker_ptr();
    const bool failed = outcome.kind() != Outcome::Kind::kStatus ||
                        (worker != nullptr && worker->failure_classifier().IsFailure(outcome));
    d.verdict = failed ? RetryVerdict::kNotRetryable : RetryVerdict::kSucceeded;
    return d;
  }
  if (attempts_ >= policy.options().max_attempts) {
    d.verdict = RetryVerdict::kAttemptsExhausted;
    router_.retries_exhausted_.fetch_add(1, std::memory_order_relaxed);
    return d;
  }
  if (router_.retry_budget_ != nullptr) {
    const int64_t active = ticket.worker_ptr() ? ticket.worker_ptr()->leg_in_flight() : 0;
    if (!router_.retry_budget_->TryAcquire(active)) {
      d.verdict = RetryVerdict::kBudgetExhausted;
      router_.retries_over_budget_.fetch_add(1, std::memory_order_relaxed);
      return d;
    }
    holds_budget_ = true;
  }
  d.verdict = RetryVerdict::kRetry;
  d.backoff = policy.Backoff(attempts_, router_.random());
  const std::string attempt = absl::StrCat(attempts_ + 1);
  router_.retry_backoff_->WithLabels({attempt}).Observe(absl::ToDoubleSeconds(d.backoff));
  may_select_ = true;
  router_.retries_.fetch_add(1, std::memory_order_relaxed);
  return d;
}

}  // namespace smg
