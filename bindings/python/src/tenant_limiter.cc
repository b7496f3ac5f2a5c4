// TenantLimiter and TenantReservation: per-tenant and global requests and
// tokens per minute with reserve-then-settle (smgcore/tenant_limiter.h).
//
// reserve() returns a reservation or raises: ResourceExhausted for a rate
// denial, with `retry_after` (seconds; None when no wait would help, i.e. an
// estimate above a whole minute's limit) and the denying limit as `reason`,
// `scope` and `dimension`; InvalidArgument for an empty or overlong tenant.
// None of it blocks, so the GIL is kept.
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "admission.h"
#include "convert.h"
#include "errors.h"
#include "module.h"
#include "smgcore/tenant_limiter.h"

namespace py = pybind11;

namespace smg::python {
namespace {

// PyTenantReservation
//
// Keeps the limiter (and so its clock) alive: settling reads the clock.
struct PyTenantReservation {
  std::shared_ptr<TenantLimiter> limiter;
  TenantReservation reservation;
};

StatusError DenialError(const TenantDecision& d, absl::string_view tenant,
                        uint64_t estimated_tokens) {
  if (d.reason == TenantDenyReason::kInvalidTenant) {
    return StatusError(absl::InvalidArgumentError(absl::StrCat(
        "invalid tenant (empty or longer than ", kMaxTenantNameLength, " bytes)")));
  }
  std::string message;
  switch (d.reason) {
    case TenantDenyReason::kEstimateTooLarge:
      message = absl::StrCat("request of ", estimated_tokens, " estimated tokens exceeds the ",
                             RateScopeName(d.scope), " tokens per minute limit");
      break;
    case TenantDenyReason::kTooManyTenants:
      message = absl::StrCat("too many active tenants to track tenant \"", tenant, "\"");
      break;
    default:
      message = absl::StrCat(d.scope == RateScope::kGlobal ? std::string("the global scope")
                                                           : absl::StrCat("tenant \"", tenant, "\""),
                             " is over its ", RateDimensionName(d.dimension),
                             " per minute limit; retry after ", absl::FormatDuration(d.retry_after));
      break;
  }
  return StatusError(WithRetryAfter(absl::ResourceExhaustedError(message), d.retry_after),
                     {{"reason", std::string(TenantDenyReasonName(d.reason))},
                      {"scope", std::string(RateScopeName(d.scope))},
                      {"dimension", std::string(RateDimensionName(d.dimension))}});
}

py::dict StatsDict(const TenantLimiterStats& s) {
  py::dict d;
  d["granted"] = s.granted;
  d["denied_tenant_requests"] = s.denied_tenant_requests;
  d["denied_tenant_tokens"] = s.denied_tenant_tokens;
  d["denied_global_requests"] = s.denied_global_requests;
  d["denied_global_tokens"] = s.denied_global_tokens;
  d["denied_estimate_too_large"] = s.denied_estimate_too_large;
  d["denied_too_many_tenants"] = s.denied_too_many_tenants;
  d["denied_invalid_tenant"] = s.denied_invalid_tenant;
  d["tracked_tenants"] = s.tracked_tenants;
  d["evicted_tenants"] = s.evicted_tenants;
  return d;
}

}  // namespace

void RegisterTenantLimiter(py::module_& m) {
  py::class_<PyTenantReservation>(
      m, "TenantReservation",
      "A granted reservation: one request and `estimated_tokens` debited from the tenant's "
      "and the global scope. settle() it once with the actual token count; unsettled, the "
      "estimate stays charged.")
      .def(
          "settle",
          [](PyTenantReservation& r, const py::int_& actual_tokens) {
            ThrowIfError(r.reservation.Settle(CheckedInt<uint64_t>(actual_tokens, "actual_tokens")));
          },
          py::arg("actual_tokens"),
          "Refunds or charges the difference between the actual tokens and the estimate. "
          "FailedPrecondition the second time.")
      .def_property_readonly(
          "active", [](const PyTenantReservation& r) { return r.reservation.active(); },
          "True until settled.")
      .def_property_readonly(
          "estimated_tokens",
          [](const PyTenantReservation& r) { return r.reservation.estimated_tokens(); })
      .def("__repr__", [](const PyTenantReservation& r) {
        return absl::StrCat("TenantReservation(estimated_tokens=", r.reservation.estimated_tokens(),
                            ", active=", r.reservation.active() ? "True" : "False", ")");
      });

  py::class_<TenantLimiter, std::shared_ptr<TenantLimiter>>(
      m, "TenantLimiter",
      "Standalone per-tenant and global rate limits (Router(tenant_limits=...) runs the same "
      "inside select()). Thread-safe; never blocks.")
      .def(py::init([](const TenantLimiterOptions& limits, std::shared_ptr<ManualClock> clock) {
             const Clock* const raw_clock = clock.get();
             return OwningClock(ValueOrThrow(TenantLimiter::Create(limits, raw_clock)),
                                std::move(clock));
           }),
           py::arg("limits"), py::kw_only(), py::arg("clock") = py::none())
      .def(
          "reserve",
          [](const std::shared_ptr<TenantLimiter>& self, const Text& tenant,
             const py::int_& estimated_tokens) {
            const auto tokens = CheckedInt<uint64_t>(estimated_tokens, "estimated_tokens");
            TenantDecision d = self->Reserve(tenant.view, tokens);
            if (!d.granted()) throw DenialError(d, tenant.view, tokens);
            return PyTenantReservation{self, std::move(d.reservation)};
          },
          py::arg("tenant"), py::arg("estimated_tokens"),
          "Reserves one request and `estimated_tokens` for `tenant`, all limits or none. "
          "Raises ResourceExhausted (retry_after, reason, scope, dimension) when denied.")
      .def(
          "limit_for",
          [](const TenantLimiter& l, const Text& tenant) { return l.LimitFor(tenant.view); },
          py::arg("tenant"), "The RateLimit that applies to `tenant`.")
      .def("evict_idle_tenants", &TenantLimiter::EvictIdleTenants,
           "Drops the state of every idle tenant now; returns how many.")
      .def(
          "stats", [](const TenantLimiter& l) { return StatsDict(l.stats()); },
          "Counters since creation, as a dict.")
      .def_property_readonly(
          "limits", [](const TenantLimiter& l) { return l.options(); }, "The TenantLimits.");
}

}  // namespace smg::python
