// RateLimit and TenantLimits: per-tenant and global requests and tokens per
// minute (smgcore/tenant_limiter.h), for TenantLimiter and
// Router(tenant_limits=...).
#include <string>

#include "absl/strings/str_cat.h"
#include "convert.h"
#include "errors.h"
#include "module.h"
#include "smgcore/tenant_limiter.h"

namespace py = pybind11;

namespace smg::python {
namespace {

std::string RateLimitRepr(const RateLimit& r) {
  return absl::StrCat("RateLimit(requests_per_minute=", r.requests_per_minute,
                      ", tokens_per_minute=", r.tokens_per_minute, ")");
}

std::string TenantLimitsRepr(const TenantLimiterOptions& o) {
  return absl::StrCat("TenantLimits(default_tenant=", RateLimitRepr(o.default_tenant),
                      ", tenants=<", o.tenants.size(), " overrides>, global_limit=",
                      RateLimitRepr(o.global), ", max_tracked_tenants=", o.max_tracked_tenants,
                      ")");
}

}  // namespace

void RegisterTenantOptions(py::module_& m) {
  py::class_<RateLimit>(m, "RateLimit",
                        "One scope's limits per minute; 0 means unlimited.")
      .def(py::init([](const py::int_& requests_per_minute, const py::int_& tokens_per_minute) {
             return RateLimit{
                 .requests_per_minute = CheckedInt<uint64_t>(
                     requests_per_minute, "requests_per_minute", 0, kMaxRateLimitPerMinute),
                 .tokens_per_minute = CheckedInt<uint64_t>(tokens_per_minute, "tokens_per_minute",
                                                           0, kMaxRateLimitPerMinute)};
           }),
           py::kw_only(), py::arg("requests_per_minute") = 0, py::arg("tokens_per_minute") = 0)
      .def_readonly("requests_per_minute", &RateLimit::requests_per_minute)
      .def_readonly("tokens_per_minute", &RateLimit::tokens_per_minute)
      .def("__eq__",
           [](const RateLimit& a, py::object b) {
             if (!py::isinstance<RateLimit>(b)) return false;
             const auto& r = b.cast<const RateLimit&>();
             return a.requests_per_minute == r.requests_per_minute &&
                    a.tokens_per_minute == r.tokens_per_minute;
           })
      .def("__hash__",
           [](const RateLimit& r) {
             return py::hash(py::make_tuple(r.requests_per_minute, r.tokens_per_minute));
           })
      .def("__repr__", &RateLimitRepr);

  const TenantLimiterOptions d;
  py::class_<TenantLimiterOptions>(
      m, "TenantLimits",
      "Tenant limits: `default_tenant` for every tenant without an entry in `tenants`, "
      "`global_limit` shared by all tenants together, and at most `max_tracked_tenants` "
      "tenants' state kept at once.")
      .def(py::init([](const RateLimit& default_tenant, const std::optional<py::dict>& tenants,
                       const RateLimit& global_limit, const py::int_& max_tracked_tenants) {
             TenantLimiterOptions o;
             o.default_tenant = default_tenant;
             o.global = global_limit;
             o.max_tracked_tenants =
                 CheckedInt<size_t>(max_tracked_tenants, "max_tracked_tenants");
             if (tenants) {
               for (auto [name, limit] : *tenants) {
                 if (!PyUnicode_Check(name.ptr()) || !py::isinstance<RateLimit>(limit)) {
                   throw py::type_error("tenants must map tenant names (str) to RateLimit");
                 }
                 o.tenants[std::string(Utf8View(name, "tenant name"))] = limit.cast<RateLimit>();
               }
             }
             ThrowIfError(ValidateTenantLimiterOptions(o));
             return o;
           }),
           py::kw_only(), py::arg("default_tenant") = RateLimit{},
           py::arg("tenants") = py::none(), py::arg("global_limit") = RateLimit{},
           py::arg("max_tracked_tenants") = d.max_tracked_tenants)
      .def_readonly("default_tenant", &TenantLimiterOptions::default_tenant)
      .def_property_readonly(
          "tenants",
          [](const TenantLimiterOptions& o) {
            py::dict out;
            for (const auto& [name, limit] : o.tenants) out[py::str(name)] = limit;
            return out;
          },
          "Per-tenant overrides (a new dict).")
      .def_readonly("global_limit", &TenantLimiterOptions::global)
      .def_readonly("max_tracked_tenants", &TenantLimiterOptions::max_tracked_tenants)
      .def("__repr__", &TenantLimitsRepr);
}

}  // namespace smg::python
