// Worker: a live, read-only view of a registered worker (smgcore/worker.h).
//
// The Python object shares ownership of the C++ worker, so it stays valid
// after the worker is removed (`removed` turns True); its attributes read
// the worker's current state each time. Changes go through the Router.
// Two Worker objects are equal when they view the same registration.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "convert.h"
#include "module.h"
#include "smgcore/circuit_breaker.h"
#include "smgcore/worker.h"

namespace py = pybind11;

namespace smg::python {
namespace {

std::string WorkerRepr(const Worker& w) {
  return absl::StrCat("Worker(id=", w.id(), ", url='", w.url(), "', model='", w.model(),
                      "', type='", WorkerTypeName(w.type()), "', health='",
                      WorkerHealthName(w.health()), "', breaker_state='",
                      BreakerStateName(w.breaker_state()), "', in_flight=", w.in_flight(), ")");
}

py::dict BreakerStats(const Worker& w) {
  const CircuitBreaker& b = w.breaker();
  const CircuitBreakerCounters c = b.counters();
  py::dict d;
  d["state"] = Name(BreakerStateName(b.state()));
  d["consecutive_failures"] = b.consecutive_failures();
  d["consecutive_successes"] = b.consecutive_successes();
  d["openings"] = b.openings();
  d["rejected"] = c.rejected;
  d["closed_to_open"] = c.closed_to_open;
  d["open_to_half_open"] = c.open_to_half_open;
  d["half_open_to_closed"] = c.half_open_to_closed;
  d["half_open_to_open"] = c.half_open_to_open;
  return d;
}

}  // namespace

void RegisterWorker(py::module_& m) {
  py::class_<Worker, std::shared_ptr<Worker>>(
      m, "Worker",
      "A registered worker, as a live read-only view: attributes read its current state. "
      "Returned by Router.add_worker(), get_worker(), list_workers() and decisions; "
      "changed through the Router. Valid after removal (then `removed` is True).")
      .def_property_readonly("id", &Worker::id, "The id the router assigned (1, 2, ...).")
      .def_property_readonly("url", &Worker::url)
      .def_property_readonly("model", &Worker::model,
                             "The model it serves (the router's default when none was given).")
      .def_property_readonly(
          "type", [](const Worker& w) { return Name(WorkerTypeName(w.type())); },
          "\"regular\", \"prefill\" or \"decode\".")
      .def_property_readonly("bootstrap_port", &Worker::bootstrap_port,
                             "A prefill worker's KV bootstrap port, or None.")
      .def_property_readonly("bootstrap_host", &Worker::bootstrap_host,
                             "The host part of the URL (SGLang's bootstrap_host).")
      .def_property_readonly(
          "labels", [](const Worker& w) { return LabelsDict(w.labels()); },
          "The labels (a new dict).")
      .def_property_readonly("weight", &Worker::weight)
      .def_property_readonly(
          "health", [](const Worker& w) { return Name(WorkerHealthName(w.health())); },
          "\"pending\", \"ready\", \"not_ready\", \"failed\" or \"draining\".")
      .def_property_readonly(
          "breaker_state", [](const Worker& w) { return Name(BreakerStateName(w.breaker_state())); },
          "The circuit breaker's state: \"closed\", \"open\" or \"half_open\".")
      .def_property_readonly("breaker_stats", &BreakerStats,
                             "The breaker's state and counters (a new dict).")
      .def_property_readonly("routable", &Worker::routable,
                             "Whether policies may choose it now (ready, breaker accepting).")
      .def_property_readonly("removed", &Worker::removed)
      .def_property_readonly("in_flight", &Worker::in_flight,
                             "Its load: requests selected for it and not finished yet.")
      .def_property_readonly("leg_in_flight", &Worker::leg_in_flight,
                             "Requests in flight on all workers of its model and type.")
      .def_property_readonly("engine_load", &Worker::engine_load,
                             "The engine load last reported with Router.set_engine_load(), "
                             "or None.")
      .def_property_readonly("selections", &Worker::selections)
      .def_property_readonly("requests_served", &Worker::requests_served)
      .def_property_readonly("successes", &Worker::successes)
      .def_property_readonly("failures", &Worker::failures)
      .def_property_readonly("cancelled", &Worker::cancelled)
      .def_property_readonly("probes_passed", &Worker::probes_passed)
      .def_property_readonly("probes_failed", &Worker::probes_failed)
      .def("__eq__",
           [](const Worker& a, py::object b) {
             return py::isinstance<Worker>(b) && &a == &b.cast<const Worker&>();
           })
      .def("__hash__", [](const Worker& w) { return std::hash<const Worker*>()(&w); })
      .def("__repr__", &WorkerRepr);
}

}  // namespace smg::python
