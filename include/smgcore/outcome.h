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

#include <cstdint>

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

}  // namespace smg

#endif  // SMGCORE_OUTCOME_H_
