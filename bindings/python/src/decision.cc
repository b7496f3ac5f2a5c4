#include "decision.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "convert.h"
#include "errors.h"
#include "fast_call.h"
#include "module.h"

namespace py = pybind11;

namespace smg::python {
namespace {

// The outcome a `with` block's exit implies when no status was set.
Outcome ExitOutcome(const py::object& exc_type) {
  if (exc_type.is_none()) return Outcome::Ok();
  if (PyType_Check(exc_type.ptr()) &&
      PyObject_IsSubclass(exc_type.ptr(), PyExc_Exception) == 1) {
    return Outcome::TransportError();
  }
  // CancelledError, KeyboardInterrupt, SystemExit, GeneratorExit: the
  // request was abandoned, which says nothing about the worker.
  return Outcome::Cancelled();
}

void CheckUnfinished(const PyDecision& d) {
  if (d.ticket().finished()) {
    throw StatusError(absl::FailedPreconditionError("decision already finished"));
  }
}

std::optional<Outcome> OptionalOutcome(const std::optional<StatusArg>& arg, const char* field) {
  if (!arg.has_value()) return std::nullopt;
  return ParseOutcome(arg->obj, field);
}

py::object OutcomeOrNone(const std::optional<Outcome>& o) {
  return o ? OutcomeObject(*o) : py::none();
}

std::string DecisionRepr(const PyDecision& d) {
  const Ticket& t = d.ticket();
  std::string out;
  if (t.is_pd()) {
    out = absl::StrCat("Decision(prefill='", t.prefill().url(), "', decode='", t.decode().url(),
                       "', bootstrap_room=", t.bootstrap_room());
  } else {
    out = absl::StrCat("Decision(worker='", t.worker().url(), "'");
  }
  return absl::StrCat(out, ", finished=", t.finished() ? "True" : "False", ")");
}

const FastSignature& FinishSignature() {
  using K = FastParam::Kind;
  static const FastSignature* const signature = new FastSignature(
      "finish", {{"status", K::kPositionalOrKeyword, "None"},
                 {"decode_status", K::kKeywordOnly, "None"}});
  return *signature;
}

// Decision.finish(status=None, *, decode_status=None)
py::object DecisionFinish(PyDecision& d, py::handle, const py::handle* args) {
  const Outcome outcome =
      Given(args[0]) ? ParseOutcome(args[0], "status") : d.status().value_or(Outcome::Ok());
  const Outcome decode = Given(args[1]) ? ParseOutcome(args[1], "decode_status")
                                        : d.decode_status().value_or(outcome);
  d.Finish(outcome, decode);
  return py::none();
}

const FastSignature& EnterSignature() {
  static const FastSignature* const signature = new FastSignature("__enter__", {});
  return *signature;
}

// Decision.__enter__(): the decision itself.
py::object DecisionEnter(PyDecision&, py::handle self, const py::handle*) {
  return py::reinterpret_borrow<py::object>(self);
}

const FastSignature& ExitSignature() {
  using K = FastParam::Kind;
  static const FastSignature* const signature = new FastSignature(
      "__exit__", {{"exc_type", K::kPositionalOnly, nullptr},
                   {"exc_value", K::kPositionalOnly, nullptr},
                   {"traceback", K::kPositionalOnly, nullptr}});
  return *signature;
}

// Decision.__exit__(exc_type, exc_value, traceback): never suppresses.
py::object DecisionExit(PyDecision& d, py::handle, const py::handle* args) {
  if (!d.ticket().finished()) {
    const Outcome outcome =
        d.status().value_or(ExitOutcome(py::reinterpret_borrow<py::object>(args[0])));
    d.Finish(outcome, d.decode_status().value_or(outcome));
  }
  return py::bool_(false);
}

}  // namespace

void PyDecision::Finish(Outcome outcome, Outcome decode_outcome) {
  ThrowIfError(ticket_.Finish(outcome, decode_outcome));
  outcome_ = outcome;
}

void RegisterDecision(py::module_& m) {
  py::class_<PyDecision> cls(
      m, "Decision",
      "The worker(s) chosen for one request, with the request counted in flight until the "
      "decision is finished: finish(status), or leave a `with` block (status set on the "
      "decision, else 200 without an exception, \"transport_error\" for an Exception, "
      "\"cancelled\" for a BaseException such as asyncio.CancelledError). Dropped "
      "unfinished, it finishes as \"cancelled\". Not thread-safe.");
  cls.def_property_readonly(
          "worker", [](const PyDecision& d) { return d.ticket().worker_ptr(); },
          "The chosen worker; in PD mode the prefill worker.")
      .def_property_readonly(
          "is_pd", [](const PyDecision& d) { return d.ticket().is_pd(); },
          "True when the decision holds a prefill/decode pair.")
      .def_property_readonly(
          "prefill",
          [](const PyDecision& d) -> py::object {
            return d.ticket().is_pd() ? py::cast(d.ticket().worker_ptr()) : py::none();
          },
          "PD mode: the prefill worker; else None.")
      .def_property_readonly(
          "decode",
          [](const PyDecision& d) -> py::object {
            return d.ticket().is_pd() ? py::cast(d.ticket().decode_ptr()) : py::none();
          },
          "PD mode: the decode worker; else None.")
      .def_property_readonly(
          "bootstrap_host",
          [](const PyDecision& d) -> py::object {
            if (!d.ticket().is_pd()) return py::none();
            return py::str(d.ticket().bootstrap_host());
          },
          "PD mode: SGLang's bootstrap_host (the prefill worker's host); else None.")
      .def_property_readonly(
          "bootstrap_port",
          [](const PyDecision& d) -> py::object {
            if (!d.ticket().is_pd() || !d.ticket().bootstrap_port()) return py::none();
            return py::int_(*d.ticket().bootstrap_port());
          },
          "PD mode: the prefill worker's bootstrap port, or None when it declared none.")
      .def_property_readonly(
          "bootstrap_room",
          [](const PyDecision& d) -> py::object {
            if (!d.ticket().is_pd()) return py::none();
            return py::int_(d.ticket().bootstrap_room());
          },
          "PD mode: SGLang's bootstrap_room, a random id in [0, 2**63); else None.")
      .def_property_readonly(
          "finished", [](const PyDecision& d) { return d.ticket().finished(); })
      .def_property(
          "status", [](PyDecision& d) { return OutcomeOrNone(d.status()); },
          [](PyDecision& d, const std::optional<StatusArg>& status) {
            CheckUnfinished(d);
            d.status() = OptionalOutcome(status, "status");
          },
          "The outcome to finish with (HTTP status int, \"transport_error\" or "
          "\"cancelled\"), or None. Setting it inside a `with` block decides how the block's "
          "exit finishes the decision, exception or not.")
      .def_property(
          "decode_status", [](PyDecision& d) { return OutcomeOrNone(d.decode_status()); },
          [](PyDecision& d, const std::optional<StatusArg>& status) {
            CheckUnfinished(d);
            d.decode_status() = OptionalOutcome(status, "decode_status");
          },
          "PD mode: the decode leg's outcome when it differs from `status`, or None.")
      .def_property_readonly(
          "outcome", [](const PyDecision& d) { return OutcomeOrNone(d.outcome()); },
          "The outcome the decision finished with (None until finished through it).")
      .def(
          "settle_tokens",
          [](PyDecision& d, const py::int_& actual_tokens) {
            ThrowIfError(
                d.ticket().SettleTokens(CheckedInt<uint64_t>(actual_tokens, "actual_tokens")));
          },
          py::arg("actual_tokens"),
          "With tenant limits: charges the tenant the tokens actually used instead of the "
          "estimate. Once; FailedPrecondition the second time. A no-op without tenant limits.")
      .def("__repr__", &DecisionRepr);

  // The per-request calls, outside pybind11's dispatcher (fast_call.h).
  DefFast<PyDecision, &DecisionFinish, &FinishSignature>(
      cls,
      "Ends the request: takes it off the worker's load and records the outcome in its "
      "circuit breaker. `status` defaults to the status set on the decision, else 200; "
      "`decode_status` (PD) to `status`. FailedPrecondition if already finished.");
  DefFast<PyDecision, &DecisionEnter, &EnterSignature>(cls, "Returns the decision.");
  DefFast<PyDecision, &DecisionExit, &ExitSignature>(
      cls, "Finishes the decision unless it is finished: see the class documentation.");
}

}  // namespace smg::python
