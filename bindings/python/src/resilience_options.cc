// CircuitBreakerOptions, HealthOptions, RetryOptions and FailureClassifier
// (smgcore/circuit_breaker.h, health.h, retry_policy.h, outcome.h).
//
// Keyword defaults are read from default-constructed C++ structs, so they
// are the C++ defaults by construction.
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "convert.h"
#include "errors.h"
#include "module.h"
#include "smgcore/circuit_breaker.h"
#include "smgcore/health.h"
#include "smgcore/outcome.h"
#include "smgcore/retry_policy.h"

namespace py = pybind11;

namespace smg::python {
namespace {

std::string ClassifierRepr(const FailureClassifier& c) {
  return absl::StrCat("FailureClassifier(statuses=[", absl::StrJoin(c.failure_statuses(), ", "),
                      "], transport_errors_fail=", c.transport_errors_fail() ? "True" : "False",
                      ")");
}

FailureClassifier MakeClassifier(const std::optional<py::iterable>& statuses,
                                 bool transport_errors_fail) {
  std::vector<int> codes;
  if (statuses.has_value()) {
    if (PyUnicode_Check(statuses->ptr()) || PyBytes_Check(statuses->ptr())) {
      throw py::type_error("statuses must be an iterable of int HTTP statuses");
    }
    for (py::handle s : *statuses) {
      if (!PyLong_Check(s.ptr())) {
        throw py::type_error(absl::StrCat("statuses items must be int, not ",
                                          Py_TYPE(s.ptr())->tp_name));
      }
      codes.push_back(CheckedInt<int>(py::reinterpret_borrow<py::int_>(s), "statuses", 100, 599));
    }
  } else {
    codes = FailureClassifier().failure_statuses();
  }
  return ValueOrThrow(FailureClassifier::Create(codes, transport_errors_fail));
}

std::string BreakerRepr(const CircuitBreakerOptions& o) {
  return absl::StrCat(
      "CircuitBreakerOptions(enabled=", o.enabled ? "True" : "False",
      ", consecutive_failures=", o.consecutive_failures,
      ", failure_rate_threshold=", FloatRepr(o.failure_rate_threshold),
      ", minimum_requests=", o.minimum_requests, ", window=", FloatRepr(ToSeconds(o.window)),
      ", window_buckets=", o.window_buckets, ", success_threshold=", o.success_threshold,
      ", half_open_max_probes=", o.half_open_max_probes,
      ", open_duration=", FloatRepr(ToSeconds(o.open_duration)),
      ", max_open_duration=", FloatRepr(ToSeconds(o.max_open_duration)), ")");
}

std::string HealthRepr(const HealthOptions& o) {
  return absl::StrCat("HealthOptions(healthy_threshold=", o.healthy_threshold,
                      ", unhealthy_threshold=", o.unhealthy_threshold,
                      ", failed_threshold=", o.failed_threshold,
                      ", pending_failed_threshold=", o.pending_failed_threshold, ")");
}

std::string RetryRepr(const RetryOptions& o) {
  std::string out = absl::StrCat(
      "RetryOptions(max_attempts=", o.max_attempts,
      ", initial_backoff=", FloatRepr(ToSeconds(o.initial_backoff)),
      ", backoff_multiplier=", FloatRepr(o.backoff_multiplier),
      ", max_backoff=", FloatRepr(ToSeconds(o.max_backoff)), ", jitter=", FloatRepr(o.jitter),
      ", retryable=", ClassifierRepr(o.retryable));
  if (o.budget) {
    absl::StrAppend(&out, ", budget_percent=", FloatRepr(o.budget->percent),
                    ", budget_min_concurrency=", o.budget->min_concurrency);
  }
  return out + ")";
}

void RegisterFailureClassifier(py::module_& m) {
  py::class_<FailureClassifier>(
      m, "FailureClassifier",
      "Which outcomes count against a worker (its breaker and failure counters) or are "
      "worth retrying: the HTTP statuses in `statuses`, plus transport errors when "
      "`transport_errors_fail`. Default: 408, 429, 500, 502, 503, 504 and transport "
      "errors. Cancellations never fail.")
      .def(py::init(&MakeClassifier), py::arg("statuses") = py::none(), py::kw_only(),
           py::arg("transport_errors_fail") = FailureClassifier().transport_errors_fail())
      .def(
          "is_failure",
          [](const FailureClassifier& c, const StatusArg& status) {
            return c.IsFailure(ParseOutcome(status.obj, "status"));
          },
          py::arg("status"),
          "Whether an outcome (HTTP status, \"transport_error\" or \"cancelled\") is a "
          "failure.")
      .def_property_readonly("statuses", &FailureClassifier::failure_statuses,
                             "The failure statuses, sorted (a new list).")
      .def_property_readonly("transport_errors_fail", &FailureClassifier::transport_errors_fail)
      .def("__eq__",
           [](const FailureClassifier& a, py::object b) {
             return py::isinstance<FailureClassifier>(b) && a == b.cast<FailureClassifier>();
           })
      .def("__hash__", [](const FailureClassifier& c) { return py::hash(py::str(ClassifierRepr(c))); })
      .def("__repr__", &ClassifierRepr);
}

void RegisterCircuitBreakerOptions(py::module_& m) {
  const CircuitBreakerOptions d;
  py::class_<CircuitBreakerOptions>(
      m, "CircuitBreakerOptions",
      "Per-worker circuit breaker settings (README: Resilience and its defaults). "
      "Durations are seconds.")
      .def(py::init([](bool enabled, const py::int_& consecutive_failures,
                       double failure_rate_threshold, const py::int_& minimum_requests,
                       double window, const py::int_& window_buckets,
                       const py::int_& success_threshold, const py::int_& half_open_max_probes,
                       double open_duration, double max_open_duration) {
             CircuitBreakerOptions o;
             o.enabled = enabled;
             o.consecutive_failures =
                 CheckedInt<uint32_t>(consecutive_failures, "consecutive_failures");
             o.failure_rate_threshold = failure_rate_threshold;
             o.minimum_requests = CheckedInt<uint32_t>(minimum_requests, "minimum_requests");
             o.window = Seconds(window, "window");
             o.window_buckets = CheckedInt<uint32_t>(window_buckets, "window_buckets");
             o.success_threshold = CheckedInt<uint32_t>(success_threshold, "success_threshold");
             o.half_open_max_probes =
                 CheckedInt<uint32_t>(half_open_max_probes, "half_open_max_probes");
             o.open_duration = Seconds(open_duration, "open_duration");
             o.max_open_duration = Seconds(max_open_duration, "max_open_duration");
             ThrowIfError(ValidateCircuitBreakerOptions(o));
             return o;
           }),
           py::kw_only(), py::arg("enabled") = d.enabled,
           py::arg("consecutive_failures") = d.consecutive_failures,
           py::arg("failure_rate_threshold") = d.failure_rate_threshold,
           py::arg("minimum_requests") = d.minimum_requests,
           py::arg("window") = ToSeconds(d.window), py::arg("window_buckets") = d.window_buckets,
           py::arg("success_threshold") = d.success_threshold,
           py::arg("half_open_max_probes") = d.half_open_max_probes,
           py::arg("open_duration") = ToSeconds(d.open_duration),
           py::arg("max_open_duration") = ToSeconds(d.max_open_duration))
      .def_readonly("enabled", &CircuitBreakerOptions::enabled)
      .def_readonly("consecutive_failures", &CircuitBreakerOptions::consecutive_failures)
      .def_readonly("failure_rate_threshold", &CircuitBreakerOptions::failure_rate_threshold)
      .def_readonly("minimum_requests", &CircuitBreakerOptions::minimum_requests)
      .def_property_readonly("window",
                             [](const CircuitBreakerOptions& o) { return ToSeconds(o.window); })
      .def_readonly("window_buckets", &CircuitBreakerOptions::window_buckets)
      .def_readonly("success_threshold", &CircuitBreakerOptions::success_threshold)
      .def_readonly("half_open_max_probes", &CircuitBreakerOptions::half_open_max_probes)
      .def_property_readonly(
          "open_duration", [](const CircuitBreakerOptions& o) { return ToSeconds(o.open_duration); })
      .def_property_readonly("max_open_duration", [](const CircuitBreakerOptions& o) {
        return ToSeconds(o.max_open_duration);
      })
      .def("__repr__", &BreakerRepr);
}

void RegisterHealthOptions(py::module_& m) {
  const HealthOptions d;
  py::class_<HealthOptions>(m, "HealthOptions",
                            "Health state machine thresholds, in consecutive probes "
                            "(README: Resilience and its defaults).")
      .def(py::init([](const py::int_& healthy_threshold, const py::int_& unhealthy_threshold,
                       const py::int_& failed_threshold, const py::int_& pending_failed_threshold) {
             HealthOptions o;
             o.healthy_threshold = CheckedInt<uint32_t>(healthy_threshold, "healthy_threshold");
             o.unhealthy_threshold =
                 CheckedInt<uint32_t>(unhealthy_threshold, "unhealthy_threshold");
             o.failed_threshold = CheckedInt<uint32_t>(failed_threshold, "failed_threshold");
             o.pending_failed_threshold =
                 CheckedInt<uint32_t>(pending_failed_threshold, "pending_failed_threshold");
             ThrowIfError(ValidateHealthOptions(o));
             return o;
           }),
           py::kw_only(), py::arg("healthy_threshold") = d.healthy_threshold,
           py::arg("unhealthy_threshold") = d.unhealthy_threshold,
           py::arg("failed_threshold") = d.failed_threshold,
           py::arg("pending_failed_threshold") = d.pending_failed_threshold)
      .def_readonly("healthy_threshold", &HealthOptions::healthy_threshold)
      .def_readonly("unhealthy_threshold", &HealthOptions::unhealthy_threshold)
      .def_readonly("failed_threshold", &HealthOptions::failed_threshold)
      .def_readonly("pending_failed_threshold", &HealthOptions::pending_failed_threshold)
      .def("__repr__", &HealthRepr);
}

void RegisterRetryOptions(py::module_& m) {
  const RetryOptions d;
  const RetryBudgetOptions budget;
  py::class_<RetryOptions>(
      m, "RetryOptions",
      "Retries used by RetryState: attempts, exponential backoff with jitter, retryable "
      "outcomes and an optional retry budget (on when budget_percent is set). Durations "
      "are seconds.")
      .def(py::init([](const py::int_& max_attempts, double initial_backoff,
                       double backoff_multiplier, double max_backoff, double jitter,
                       const std::optional<FailureClassifier>& retryable,
                       std::optional<double> budget_percent,
                       const py::int_& budget_min_concurrency) {
             RetryOptions o;
             o.max_attempts = CheckedInt<uint32_t>(max_attempts, "max_attempts");
             o.initial_backoff = Seconds(initial_backoff, "initial_backoff");
             o.backoff_multiplier = backoff_multiplier;
             o.max_backoff = Seconds(max_backoff, "max_backoff");
             o.jitter = jitter;
             if (retryable) o.retryable = *retryable;
             const auto min_concurrency =
                 CheckedInt<uint32_t>(budget_min_concurrency, "budget_min_concurrency");
             if (budget_percent) {
               o.budget = RetryBudgetOptions{.percent = *budget_percent,
                                             .min_concurrency = min_concurrency};
             }
             ThrowIfError(ValidateRetryOptions(o));
             return o;
           }),
           py::kw_only(), py::arg("max_attempts") = d.max_attempts,
           py::arg("initial_backoff") = ToSeconds(d.initial_backoff),
           py::arg("backoff_multiplier") = d.backoff_multiplier,
           py::arg("max_backoff") = ToSeconds(d.max_backoff), py::arg("jitter") = d.jitter,
           py::arg("retryable") = py::none(), py::arg("budget_percent") = py::none(),
           py::arg("budget_min_concurrency") = budget.min_concurrency)
      .def_readonly("max_attempts", &RetryOptions::max_attempts)
      .def_property_readonly("initial_backoff",
                             [](const RetryOptions& o) { return ToSeconds(o.initial_backoff); })
      .def_readonly("backoff_multiplier", &RetryOptions::backoff_multiplier)
      .def_property_readonly("max_backoff",
                             [](const RetryOptions& o) { return ToSeconds(o.max_backoff); })
      .def_readonly("jitter", &RetryOptions::jitter)
      .def_readonly("retryable", &RetryOptions::retryable)
      .def_property_readonly(
          "budget_percent",
          [](const RetryOptions& o) {
            return o.budget ? std::optional<double>(o.budget->percent) : std::nullopt;
          },
          "The retry budget's share of active requests (percent), or None without a budget.")
      .def_property_readonly(
          "budget_min_concurrency",
          [](const RetryOptions& o) {
            return o.budget ? std::optional<uint32_t>(o.budget->min_concurrency) : std::nullopt;
          },
          "Retries the budget always allows, or None without a budget.")
      .def("__repr__", &RetryRepr);
}

}  // namespace

void RegisterResilienceOptions(py::module_& m) {
  RegisterFailureClassifier(m);
  RegisterCircuitBreakerOptions(m);
  RegisterHealthOptions(m);
  RegisterRetryOptions(m);
}

}  // namespace smg::python
