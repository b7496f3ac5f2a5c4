// File: bindings/python/src/router.h
//
// PyRouter: the Python Router. It owns the C++ router together with what
// was injected into it (clock, seeded random source, transition callbacks)
// and the AdmissionMetrics that Router.track_admission() adds.
//
// Held by shared_ptr: RetryState keeps its router alive, and the transition
// callbacks reach the router through a weak_ptr (a ticket can finish, and
// trip a breaker, after the router is gone).
#ifndef SMGCORE_BINDINGS_PYTHON_ROUTER_H_
#define SMGCORE_BINDINGS_PYTHON_ROUTER_H_

#include <pybind11/pybind11.h>

#include <memory>
#include <optional>

#include "smgcore/admission_metrics.h"
#include "smgcore/clock.h"
#include "smgcore/random.h"
#include "smgcore/router.h"

namespace smg::python {

// PyRouter
class PyRouter {
 public:
  // PyRouter::Create()
  //
  // Builds the router. `clock` null means the steady clock; `seed` unset
  // means the process's random source; the callbacks may be None.
  static std::shared_ptr<PyRouter> Create(RouterOptions options,
                                          std::shared_ptr<ManualClock> clock,
                                          std::optional<uint64_t> seed,
                                          pybind11::object on_breaker_transition,
                                          pybind11::object on_health_transition);

  Router& router() { return *router_; }
  const Router& router() const { return *router_; }

  // PyRouter::clock()
  //
  // The injected clock's owner (null for the steady clock), shared with
  // decisions: their tickets read it when they finish.
  const std::shared_ptr<const Clock>& clock() const { return clock_; }

  // PyRouter::Resolve()
  //
  // The id of the worker named by `ref`: an id (int), a URL (str) or a
  // Worker of this router. NotFound for an unknown URL or a Worker that is
  // not (or no longer) registered here.
  WorkerId Resolve(pybind11::handle ref) const;

  // PyRouter::admission_metrics()
  //
  // Created on first use: one per router registry.
  AdmissionMetrics& admission_metrics();

 private:
  PyRouter() = default;

  std::shared_ptr<const Clock> clock_;
  // Must outlive router_ (declared before it).
  std::unique_ptr<SeededRandom> random_;
  std::unique_ptr<Router> router_;
  std::optional<AdmissionMetrics> admission_metrics_;
};

}  // namespace smg::python

#endif  // SMGCORE_BINDINGS_PYTHON_ROUTER_H_
