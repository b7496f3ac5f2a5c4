// Names and option validation of the tenant limiter.
#include <string>

#include "absl/strings/str_cat.h"
#include "smgcore/tenant_limiter.h"

namespace smg {

absl::string_view RateScopeName(RateScope scope) {
  switch (scope) {
    case RateScope::kTenant: return "tenant";
    case RateScope::kGlobal: return "global";
  }
  return "unknown";
}

absl::string_view RateDimensionName(RateDimension dimension) {
  switch (dimension) {
    case RateDimension::kRequests: return "requests";
    case RateDimension::kTokens: return "tokens";
  }
  return "unknown";
}

absl::string_view TenantDenyReasonName(TenantDenyReason reason) {
  switch (reason) {
    case TenantDenyReason::kNone: return "none";
    case TenantDenyReason::kRateLimited: return "rate_limited";
    case TenantDenyReason::kEstimateTooLarge: return "estimate_too_large";
    case TenantDenyReason::kTooManyTenants: return "too_many_tenants";
    case TenantDenyReason::kInvalidTenant: return "invalid_tenant";
  }
  return "unknown";
}

namespace {

absl::Status ValidateLimit(absl::string_view field, const RateLimit& limit) {
  for (const auto& [name, value] : {std::pair<absl::string_view, uint64_t>{
                                        "requests_per_minute", limit.requests_per_minute},
                                    {"tokens_per_minute", limit.tokens_per_minute}}) {
    if (value > kMaxRateLimitPerMinute) {
      return absl::InvalidArgumentError(
          absl::StrCat("TenantLimiterOptions.", field, ".", name, ": ", value,
                       " is above the maximum ", kMaxRateLimitPerMinute,
                       " (use 0 for unlimited)"));
    }
  }
  return absl::OkStatus();
}

// A tenant key as an error message shows it: quoted, long ones shortened.
std::string ShowKey(absl::string_view key) {
  constexpr size_t kShown = 32;
  return key.size() <= kShown ? absl::StrCat("\"", key, "\"")
                              : absl::StrCat("\"", key.substr(0, kShown), "...\"");
}

}  // namespace

absl::Status ValidateTenantLimiterOptions(const TenantLimiterOptions& options) {
  if (absl::Status s = ValidateLimit("default_tenant", options.default_tenant); !s.ok()) return s;
  if (absl::Status s = ValidateLimit("global", options.global); !s.ok()) return s;
  for (const auto& [tenant, limit] : options.tenants) {
    if (tenant.empty()) {
      return absl::InvalidArgumentError("TenantLimiterOptions.tenants: a tenant key is empty");
    }
    if (tenant.size() > kMaxTenantNameLength) {
      return absl::InvalidArgumentError(
          absl::StrCat("TenantLimiterOptions.tenants: key ", ShowKey(tenant), " is ",
                       tenant.size(), " bytes, above the maximum ", kMaxTenantNameLength));
    }
    if (absl::Status s = ValidateLimit(absl::StrCat("tenants[", ShowKey(tenant), "]"), limit);
        !s.ok()) {
      return s;
    }
  }
  if (options.max_tracked_tenants == 0 || options.max_tracked_tenants > kMaxTrackedTenantsLimit) {
    return absl::InvalidArgumentError(
        absl::StrCat("TenantLimiterOptions.max_tracked_tenants: must be in [1, ",
                     kMaxTrackedTenantsLimit, "] (got ", options.max_tracked_tenants, ")"));
  }
  return absl::OkStatus();
}

}  // namespace smg
