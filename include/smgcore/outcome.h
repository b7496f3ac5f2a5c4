// File: smgcore/outcome.h
//
// How a request ended, as the host reports it when it finishes a ticket. The
// classification into success and failure follows SMG's default, which keeps
// bad client requests from counting against a worker (sglang#25811): a
// transport error and the statuses 408, 429, 500, 502, 503 and 504 are
// failures; every other status, 4xx included, is a success. A cancelled
// request (the client went away, the host gave up) is neither.
#ifndef SMGCORE_OUTCOME_H_
#define SMGCORE_OUTCOME_H_

#include <array>
#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace smg {

// Outcome
//
// A small value type: an HTTP status, a transport error or a cancellation.
class Outcome {
 public:
  // Outcome::Kind
  enum class Kind : uint8_t { kStatus = 0, kTransportError = 1, kCancelled = 2 };

  // Outcome::Status()
  //
  // The worker answered with `http_status`.
  static constexpr Outcome Status(int http_status) { return Outcome(Kind::kStatus, http_status); }
  // Outcome::Ok()
  //
  // Shorthand for Status(200).
  static constexpr Outcome Ok() { return Status(200); }
  // Outcome::TransportError()
  //
  // The request never got an HTTP answer (connect/reset/timeout).
  static constexpr Outcome TransportError() { return Outcome(Kind::kTransportError, 0); }
  // Outcome::Cancelled()
  //
  // The request was abandoned; it says nothing about the worker.
  static constexpr Outcome Cancelled() { return Outcome(Kind::kCancelled, 0); }

  // Outcome::kind()
  constexpr Kind kind() const { return kind_; }
  // Outcome::http_status()
  //
  // The status for kStatus outcomes, 0 otherwise.
  constexpr int http_status() const { return status_; }

  // Outcome::IsFailure()
  //
  // True for transport errors and 408, 429, 500, 502, 503, 504.
  constexpr bool IsFailure() const {
    if (kind_ == Kind::kTransportError) return true;
    if (kind_ != Kind::kStatus) return false;
    switch (status_) {
      case 408: case 429: case 500: case 502: case 503: case 504:
        return true;
      default:
        return false;
    }
  }
  // Outcome::IsSuccess()
  //
  // A status that is not a failure.
  constexpr bool IsSuccess() const { return kind_ == Kind::kStatus && !IsFailure(); }

 private:
  constexpr Outcome(Kind kind, int status) : kind_(kind), status_(status) {}
  Kind kind_;
  int status_;
};

// FailureClassifier
//
// Which outcomes count against a worker (its circuit breaker and failure
// counters) or make a request retryable. The default is the rule above:
// transport errors plus 408, 429, 500, 502, 503, 504. A router has one, and
// each worker may override it (e.g. an engine that answers 503 while warming
// up and should not be tripped by it). Cancellations are never failures.
// A small value type (80 bytes), cheap to copy and safe to share read-only.
class FailureClassifier {
 public:
  // FailureClassifier::FailureClassifier()
  //
  // The default classification.
  FailureClassifier();

  // FailureClassifier::Create()
  //
  // Failures are exactly the HTTP statuses in `failure_statuses` (each in
  // [100, 599]; duplicates allowed) plus, when `transport_errors_fail`,
  // transport errors. InvalidArgument names the first status out of range.
  static absl::StatusOr<FailureClassifier> Create(absl::Span<const int> failure_statuses,
                                                  bool transport_errors_fail = true);

  // FailureClassifier::IsFailure()
  bool IsFailure(const Outcome& outcome) const {
    switch (outcome.kind()) {
      case Outcome::Kind::kTransportError: return transport_errors_fail_;
      case Outcome::Kind::kCancelled: return false;
      case Outcome::Kind::kStatus: return IsFailureStatus(outcome.http_status());
    }
    return false;
  }
  // FailureClassifier::IsFailureStatus()
  //
  // Whether HTTP status `status` is a failure; false outside [100, 599].
  bool IsFailureStatus(int status) const {
    if (status < kMinStatus || status > kMaxStatus) return false;
    const unsigned bit = static_cast<unsigned>(status - kMinStatus);
    return (statuses_[bit / 64] >> (bit % 64)) & 1;
  }
  // FailureClassifier::transport_errors_fail()
  bool transport_errors_fail() const { return transport_errors_fail_; }
  // FailureClassifier::failure_statuses()
  //
  // The failure statuses in increasing order.
  std::vector<int> failure_statuses() const;

  friend bool operator==(const FailureClassifier&, const FailureClassifier&) = default;

 private:
  static constexpr int kMinStatus = 100;
  static constexpr int kMaxStatus = 599;
  std::array<uint64_t, 8> statuses_{};  // bit (status - 100)
  bool transport_errors_fail_ = true;
};

}  // namespace smg

#endif  // SMGCORE_OUTCOME_H_
