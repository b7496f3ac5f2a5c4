// ConcurrencyLimiter and Permit: a cap on in-flight requests with a bounded
// FIFO queue and a queue timeout (smgcore/concurrency_limiter.h).
//
// Python gets admission as a Permit object instead of an acquire/release
// pair: the permit releases its slot exactly once, on release(), at the end
// of a `with` block, or when it is freed, so a slot cannot leak or be
// released twice. A refusal raises: ResourceExhausted (queue full, HTTP 429,
// with retry_after), DeadlineExceeded (queue timeout, 408) or Cancelled.
//
// acquire() blocks with the GIL released; acquire_async() returns an asyncio
// future (limiter_async.cc).
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "admission.h"
#include "convert.h"
#include "errors.h"
#include "module.h"

namespace py = pybind11;

namespace smg::python {
namespace {

// Permit
//
// One admitted slot. Methods run with the GIL held, which serializes them.
class Permit {
 public:
  explicit Permit(std::shared_ptr<ConcurrencyLimiter> limiter) : limiter_(std::move(limiter)) {}
  ~Permit() {
    if (!released_) limiter_->Release();
  }
  Permit(const Permit&) = delete;
  Permit& operator=(const Permit&) = delete;

  void Release() {
    if (released_) throw StatusError(absl::FailedPreconditionError("permit already released"));
    released_ = true;
    limiter_->Release();
  }
  bool released() const { return released_; }

 private:
  std::shared_ptr<ConcurrencyLimiter> limiter_;
  bool released_ = false;
};

py::dict StatsDict(const ConcurrencyLimiterStats& s) {
  py::dict d;
  d["in_flight"] = s.in_flight;
  d["queue_depth"] = s.queue_depth;
  d["admitted"] = s.admitted;
  d["admitted_after_wait"] = s.admitted_after_wait;
  d["rejected"] = s.rejected;
  d["timed_out"] = s.timed_out;
  d["cancelled"] = s.cancelled;
  d["total_queue_wait"] = static_cast<double>(s.total_queue_wait_nanos) / 1e9;
  return d;
}

}  // namespace

py::object MakePermit(std::shared_ptr<ConcurrencyLimiter> limiter) {
  return py::cast(std::make_unique<Permit>(std::move(limiter)));
}

absl::Status AdmissionError(AdmissionResult result, const ConcurrencyLimiter& limiter) {
  const ConcurrencyLimiterOptions& o = limiter.options();
  switch (result) {
    case AdmissionResult::kAdmitted:
      return absl::OkStatus();
    case AdmissionResult::kRejectedQueueFull:
      return WithRetryAfter(
          absl::ResourceExhaustedError(absl::StrCat(
              "concurrency limit reached: ", o.max_in_flight, " in flight and the queue of ",
              o.max_queue, " is full")),
          limiter.RetryAfterHint());
    case AdmissionResult::kTimedOut:
      return absl::DeadlineExceededError(
          "timed out waiting for a slot in the concurrency limiter's queue");
    case AdmissionResult::kCancelled:
      return absl::CancelledError("admission cancelled while queued");
  }
  return absl::InternalError("unknown admission result");
}

void RegisterConcurrencyLimiter(py::module_& m) {
  py::class_<Permit>(m, "Permit",
                     "One admitted slot of a ConcurrencyLimiter, released exactly once: by "
                     "release(), at the end of a `with` block, or when freed.")
      .def("release", &Permit::Release,
           "Returns the slot (handing it to the oldest queued request, if any). "
           "FailedPrecondition the second time.")
      .def_property_readonly("released", &Permit::released)
      .def("__enter__", [](py::object self) { return self; })
      .def(
          "__exit__",
          [](Permit& p, const py::object&, const py::object&, const py::object&) {
            if (!p.released()) p.Release();
            return false;
          },
          py::arg("exc_type"), py::arg("exc_value"), py::arg("traceback"))
      .def("__repr__", [](const Permit& p) {
        return absl::StrCat("Permit(released=", p.released() ? "True" : "False", ")");
      });

  const ConcurrencyLimiterOptions defaults;
  py::class_<PyConcurrencyLimiter, std::shared_ptr<PyConcurrencyLimiter>>(
      m, "ConcurrencyLimiter",
      "At most `max_in_flight` requests admitted at once; up to `max_queue` more wait in "
      "FIFO order for at most `queue_timeout` seconds. Thread-safe; acquire() blocks "
      "without the GIL, acquire_async() is awaitable.")
      .def(py::init([](const py::int_& max_in_flight, const py::int_& max_queue,
                       double queue_timeout, std::shared_ptr<ManualClock> clock) {
             ConcurrencyLimiterOptions o;
             o.max_in_flight = CheckedInt<uint32_t>(max_in_flight, "max_in_flight");
             o.max_queue = CheckedInt<uint32_t>(max_queue, "max_queue");
             o.queue_timeout = Seconds(queue_timeout, "queue_timeout", /*allow_negative=*/true);
             auto self = std::make_shared<PyConcurrencyLimiter>();
             self->manual_clock = clock != nullptr;
             const Clock* const raw_clock = clock.get();
             self->limiter = OwningClock(
                 ValueOrThrow(ConcurrencyLimiter::Create(std::move(o), raw_clock)), std::move(clock));
             return self;
           }),
           py::arg("max_in_flight"), py::kw_only(), py::arg("max_queue") = defaults.max_queue,
           py::arg("queue_timeout") = ToSeconds(defaults.queue_timeout), py::arg("clock") = py::none())
      .def(
          "try_acquire",
          [](const PyConcurrencyLimiter& l) -> py::object {
            if (!l.limiter->TryAcquire()) return py::none();
            return MakePermit(l.limiter);
          },
          "A Permit if a slot is free now (and nobody is queued), else None. Never queues.")
      .def(
          "acquire",
          [](const PyConcurrencyLimiter& l, std::optional<double> timeout) {
            const absl::Duration wait = timeout ? Seconds(*timeout, "timeout", true)
                                                : absl::InfiniteDuration();
            AdmissionResult r;
            {
              py::gil_scoped_release nogil;
              r = l.limiter->Acquire(wait);
            }
            if (r != AdmissionResult::kAdmitted) throw StatusError(AdmissionError(r, *l.limiter));
            return MakePermit(l.limiter);
          },
          py::arg("timeout") = py::none(),
          "Blocks (without the GIL) until admitted, waiting at most min(timeout, "
          "queue_timeout) seconds (None: queue_timeout; <= 0: never queue). Returns a Permit; "
          "raises ResourceExhausted when the queue is full, DeadlineExceeded on timeout, "
          "Cancelled on cancel_all(). With a ManualClock, expire_waiters() times waiters out.")
      .def("acquire_async", &AcquireAsync,
           "An asyncio future resolving to a Permit (await it inside a running loop), or "
           "raising like acquire(). Deadlines are queue_timeout; cancel the awaiting task "
           "(e.g. asyncio.wait_for) to give up earlier. With a ManualClock, call "
           "expire_waiters() to time waiters out.")
      .def(
          "expire_waiters",
          [](const PyConcurrencyLimiter& l) { return l.limiter->ExpireWaiters(); },
          "Times out every queued request whose deadline has passed on the limiter's clock; "
          "returns how many.")
      .def(
          "time_until_next_deadline",
          [](const PyConcurrencyLimiter& l) -> std::optional<double> {
            const std::optional<absl::Duration> left = l.limiter->TimeUntilNextDeadline();
            if (!left) return std::nullopt;
            return ToSeconds(*left);
          },
          "Seconds until the earliest queued deadline (0 if passed), or None if none queued.")
      .def(
          "cancel_all", [](const PyConcurrencyLimiter& l) { return l.limiter->CancelAll(); },
          "Withdraws every queued request (they raise Cancelled); returns how many.")
      .def_property_readonly(
          "retry_after_hint",
          [](const PyConcurrencyLimiter& l) { return ToSeconds(l.limiter->RetryAfterHint()); },
          "A Retry-After for a full queue, in whole seconds.")
      .def_property_readonly(
          "in_flight", [](const PyConcurrencyLimiter& l) { return l.limiter->in_flight(); })
      .def_property_readonly(
          "queue_depth", [](const PyConcurrencyLimiter& l) { return l.limiter->queue_depth(); })
      .def_property_readonly(
          "max_in_flight",
          [](const PyConcurrencyLimiter& l) { return l.limiter->options().max_in_flight; })
      .def_property_readonly(
          "max_queue", [](const PyConcurrencyLimiter& l) { return l.limiter->options().max_queue; })
      .def_property_readonly(
          "queue_timeout",
          [](const PyConcurrencyLimiter& l) { return ToSeconds(l.limiter->options().queue_timeout); })
      .def(
          "stats", [](const PyConcurrencyLimiter& l) { return StatsDict(l.limiter->stats()); },
          "Counters since creation (a consistent snapshot), as a dict; total_queue_wait in "
          "seconds.")
      .def(
          "_wait_for_queue_depth",
          [](const PyConcurrencyLimiter& l, const py::int_& depth, double timeout) {
            const auto n = CheckedInt<size_t>(depth, "depth");
            const absl::Duration t = Seconds(timeout, "timeout");
            py::gil_scoped_release nogil;
            return l.limiter->AwaitQueueDepthForTesting(n, t);
          },
          py::arg("depth"), py::arg("timeout"),
          "For tests: blocks (without the GIL) until at least `depth` requests are queued or "
          "`timeout` real seconds pass; True in the first case.")
      .def("__repr__", [](const PyConcurrencyLimiter& l) {
        return absl::StrCat("ConcurrencyLimiter(max_in_flight=", l.limiter->options().max_in_flight,
                            ", in_flight=", l.limiter->in_flight(),
                            ", queue_depth=", l.limiter->queue_depth(), ")");
      });
}

}  // namespace smg::python
