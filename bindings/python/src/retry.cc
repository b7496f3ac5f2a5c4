// RetryState and RetryDecision: one request through its attempts
// (smgcore/retry.h).
//
//   attempts = smgcore.RetryState(router)
//   while True:
//       d = attempts.select(text=prompt)
//       status = forward(d.worker.url)
//       verdict = attempts.finish(d, status)
//       if not verdict.retry:
//           break
//       time.sleep(verdict.backoff)        # or await asyncio.sleep(...)
//
// A C++ RetryState is not thread-safe; the binding refuses concurrent use
// (FailedPrecondition) instead of racing, because select() may release the
// GIL on a long prompt.
#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "convert.h"
#include "decision.h"
#include "errors.h"
#include "module.h"
#include "request.h"
#include "router.h"
#include "smgcore/retry.h"

namespace py = pybind11;

namespace smg::python {
namespace {

// PyRetryState
class PyRetryState {
 public:
  explicit PyRetryState(std::shared_ptr<PyRouter> router)
      : router_(std::move(router)), state_(router_->router()) {}

  // PyRetryState::Use
  //
  // Marks the state busy for one call; a second thread gets
  // FailedPrecondition.
  class Use {
   public:
    explicit Use(PyRetryState& s) : s_(s) {
      if (s_.busy_.exchange(true)) {
        throw StatusError(
            absl::FailedPreconditionError("RetryState used from two threads at once"));
      }
    }
    ~Use() { s_.busy_.store(false); }
    Use(const Use&) = delete;
    Use& operator=(const Use&) = delete;

   private:
    PyRetryState& s_;
  };

  PyRouter& router() { return *router_; }
  RetryState& state() { return state_; }

 private:
  // Declared first: the C++ state refers to the router.
  std::shared_ptr<PyRouter> router_;
  RetryState state_;
  std::atomic<bool> busy_{false};
};

// RetryState.select().
py::object RetryStateSelect(PyRetryState& self, py::handle, const py::handle* args) {
  const PyRetryState::Use use(self);
  const PreparedRequest prepared(ToSelectArgs(args));
  absl::StatusOr<Ticket> ticket;
  if (prepared.ReleasesGil()) {
    py::gil_scoped_release nogil;
    ticket = self.state().Select(prepared.request());
  } else {
    ticket = self.state().Select(prepared.request());
  }
  if (!ticket.ok()) throw StatusError(ticket.status());
  return py::cast(PyDecision(*std::move(ticket), self.router().clock()));
}

std::string RetryDecisionRepr(const RetryDecision& d) {
  return absl::StrCat("RetryDecision(verdict='", RetryVerdictName(d.verdict),
                      "', backoff=", FloatRepr(ToSeconds(d.backoff)), ", attempts=", d.attempts, ")");
}

}  // namespace

void RegisterRetry(py::module_& m) {
  py::class_<RetryDecision>(m, "RetryDecision",
                            "What RetryState.finish() decided about the next attempt.")
      .def_property_readonly("retry", &RetryDecision::retry,
                             "True when the request should be retried after `backoff`.")
      .def_property_readonly(
          "verdict", [](const RetryDecision& d) { return Name(RetryVerdictName(d.verdict)); },
          "\"retry\", \"succeeded\", \"not_retryable\", \"attempts_exhausted\" or "
          "\"budget_exhausted\".")
      .def_property_readonly(
          "backoff", [](const RetryDecision& d) { return ToSeconds(d.backoff); },
          "Seconds to wait before the next select(); 0 unless retrying.")
      .def_readonly("attempts", &RetryDecision::attempts,
                    "Attempts made so far, the finished one included.")
      .def("__repr__", &RetryDecisionRepr);

  py::class_<PyRetryState> cls(
      m, "RetryState",
      "Carries one request through its attempts: select() excludes the workers already "
      "tried, finish() says whether and when to retry (the router's RetryOptions and retry "
      "budget). One request, one thread at a time.");
  cls.def(py::init<std::shared_ptr<PyRouter>>(), py::arg("router"));
  DefFast<PyRetryState, &RetryStateSelect, &SelectSignature>(
      cls,
      "Router.select() for the next attempt, excluding every worker tried so far. "
      "FailedPrecondition when the previous attempt's decision was not to retry, or when "
      "called again before finish().");
  cls.def(
      "finish",
      [](PyRetryState& self, PyDecision& decision, const std::optional<StatusArg>& status) {
        const PyRetryState::Use use(self);
        std::optional<Outcome> outcome;
        if (status) {
          outcome = ParseOutcome(status->obj, "status");
        } else if (decision.outcome()) {
          outcome = decision.outcome();
        } else if (decision.status()) {
          outcome = decision.status();
        } else {
          ThrowInvalidArgument(
              "finish(): no status given and the decision has neither finished nor a status");
        }
        // Finished here rather than by RetryState, so that the decision
        // records its outcome; RetryState then only decides.
        if (!decision.ticket().finished()) {
          decision.Finish(*outcome, decision.decode_status().value_or(*outcome));
        }
        return self.state().Finish(decision.ticket(), *outcome);
      },
      py::arg("decision"), py::arg("status") = py::none(),
      "Finishes the attempt's decision (unless it already is) with `status` (default: the "
      "outcome it finished with, or the status set on it) and decides about the next "
      "attempt.");
  cls.def_property_readonly(
      "attempts", [](PyRetryState& self) { return self.state().attempts(); });
  cls.def_property_readonly(
      "tried_workers",
      [](PyRetryState& self) {
        const absl::Span<const uint32_t> tried = self.state().tried_workers();
        return std::vector<uint32_t>(tried.begin(), tried.end());
      },
      "Ids of the workers tried, in order (two per attempt in PD mode).");
}

}  // namespace smg::python
