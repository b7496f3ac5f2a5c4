// File: bindings/python/src/decision.h
//
// Decision: what Router.select() returns. It owns the C++ Ticket, so the
// request counts as in flight on its worker(s) until the decision is
// finished: explicitly with finish(), by leaving a `with` block, or, if
// dropped unfinished, as cancelled when Python frees it (the Ticket's RAII).
//
// As a context manager it finishes on exit with the status set on it
// (`decision.status = 503`), else: no exception -> 200; an Exception ->
// "transport_error" (the request never got an answer); a BaseException that
// is not an Exception (asyncio.CancelledError, KeyboardInterrupt) ->
// "cancelled", which says nothing about the worker.
#ifndef SMGCORE_BINDINGS_PYTHON_DECISION_H_
#define SMGCORE_BINDINGS_PYTHON_DECISION_H_

#include <pybind11/pybind11.h>

#include <memory>
#include <optional>
#include <utility>

#include "smgcore/clock.h"
#include "smgcore/outcome.h"
#include "smgcore/ticket.h"

namespace smg::python {

// PyDecision
//
// Not thread-safe (a Ticket is not): binding methods on it keep the GIL.
class PyDecision {
 public:
  // PyDecision::PyDecision()
  //
  // `clock` owns the router's injected clock (null for the steady clock):
  // the ticket reads it when it finishes, possibly after the router is gone.
  PyDecision(Ticket ticket, std::shared_ptr<const Clock> clock)
      : clock_(std::move(clock)), ticket_(std::move(ticket)) {}

  Ticket& ticket() { return ticket_; }
  const Ticket& ticket() const { return ticket_; }

  // PyDecision::status() / decode_status()
  //
  // The outcome to finish with, as set from Python before finishing.
  std::optional<Outcome>& status() { return status_; }
  std::optional<Outcome>& decode_status() { return decode_status_; }

  // PyDecision::outcome()
  //
  // The (prefill) outcome the ticket was finished with, once finished
  // through this object.
  const std::optional<Outcome>& outcome() const { return outcome_; }

  // PyDecision::Finish()
  //
  // Finishes the ticket; FailedPrecondition (thrown) when already finished.
  void Finish(Outcome outcome, Outcome decode_outcome);

 private:
  // Declared before ticket_ so that it is destroyed after it: an unfinished
  // ticket finishes (cancelled) in its destructor and reads the clock.
  std::shared_ptr<const Clock> clock_;
  Ticket ticket_;
  std::optional<Outcome> status_;
  std::optional<Outcome> decode_status_;
  std::optional<Outcome> outcome_;
};

}  // namespace smg::python

#endif  // SMGCORE_BINDINGS_PYTHON_DECISION_H_
