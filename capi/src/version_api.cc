// File: capi/src/version_api.cc
//
// Versions, status codes, error objects, enum names and small helpers.
#include <cstdlib>
#include <cstring>

#include "absl/strings/string_view.h"
#include "errors.h"
#include "smgcore/circuit_breaker.h"
#include "smgcore/concurrency_limiter.h"
#include "smgcore/health.h"
#include "smgcore/policy_config.h"
#include "smgcore/retry.h"
#include "smgcore/tenant_limiter.h"
#include "smgcore/version.h"
#include "smgcore/worker.h"

// The C header spells the version out so that it needs no generated file;
// these keep it in step with the build's.
static_assert(SMG_ABI_VERSION == SMGCORE_ABI_VERSION, "smgcore_c.h: SMG_ABI_VERSION is stale");
static_assert(SMG_VERSION_NUMBER == SMGCORE_VERSION_NUMBER,
              "smgcore_c.h: SMG_VERSION_* is stale");

// The C constants mirror the C++ enums' values.
static_assert(SMG_HEALTH_DRAINING == static_cast<int>(smg::WorkerHealth::kDraining));
static_assert(SMG_BREAKER_HALF_OPEN == static_cast<int>(smg::BreakerState::kHalfOpen));
static_assert(SMG_WORKER_DECODE == static_cast<int>(smg::WorkerType::kDecode));
static_assert(SMG_POLICY_PREFIX_HASH == static_cast<int>(smg::PolicyKind::kPrefixHash));
static_assert(SMG_ADMISSION_CANCELLED == static_cast<int>(smg::AdmissionResult::kCancelled));
static_assert(SMG_RETRY_BUDGET_EXHAUSTED == static_cast<int>(smg::RetryVerdict::kBudgetExhausted));
static_assert(SMG_TENANT_INVALID_TENANT == static_cast<int>(smg::TenantDenyReason::kInvalidTenant));
static_assert(SMG_SCOPE_GLOBAL == static_cast<int>(smg::RateScope::kGlobal));
static_assert(SMG_DIMENSION_TOKENS == static_cast<int>(smg::RateDimension::kTokens));

namespace {

// A static NUL-terminated copy of a name the C++ library returns as a view
// (its names are string literals, so data() is NUL-terminated already).
const char* CName(absl::string_view name) { return name.data(); }

}  // namespace

extern "C" {

uint32_t smg_abi_version(void) { return SMGCORE_ABI_VERSION; }
uint32_t smg_version_number(void) { return SMGCORE_VERSION_NUMBER; }
const char* smg_version_string(void) { return SMGCORE_VERSION_STRING; }

smg_str_t smg_cstr(const char* s) {
  if (s == nullptr) return smg_str_t{"", 0};
  return smg_str_t{s, std::strlen(s)};
}

const char* smg_code_name(smg_code_t code) {
  switch (code) {
    case SMG_OK: return "SMG_OK";
    case SMG_ERR_INVALID_ARGUMENT: return "SMG_ERR_INVALID_ARGUMENT";
    case SMG_ERR_INVALID_HANDLE: return "SMG_ERR_INVALID_HANDLE";
    case SMG_ERR_NOT_FOUND: return "SMG_ERR_NOT_FOUND";
    case SMG_ERR_ALREADY_EXISTS: return "SMG_ERR_ALREADY_EXISTS";
    case SMG_ERR_UNAVAILABLE: return "SMG_ERR_UNAVAILABLE";
    case SMG_ERR_RESOURCE_EXHAUSTED: return "SMG_ERR_RESOURCE_EXHAUSTED";
    case SMG_ERR_FAILED_PRECONDITION: return "SMG_ERR_FAILED_PRECONDITION";
    case SMG_ERR_INTERNAL: return "SMG_ERR_INTERNAL";
    default: return "SMG_ERR_UNKNOWN";
  }
}

smg_code_t smg_error_code(const smg_error_t* err) {
  return err == nullptr ? SMG_ERR_INVALID_HANDLE : err->code;
}

smg_str_t smg_error_message(const smg_error_t* err) {
  if (err == nullptr) return smg_str_t{"", 0};
  return smg_str_t{err->message.c_str(), err->message.size()};
}

int64_t smg_error_retry_after_ns(const smg_error_t* err) {
  return err == nullptr ? -1 : err->retry_after_ns;
}

void smg_error_destroy(smg_error_t* err) { delete err; }

void smg_free(void* p) { std::free(p); }

const char* smg_enum_name(uint32_t which, uint32_t value) {
  switch (which) {
    case SMG_ENUM_WORKER_TYPE:
      if (value > SMG_WORKER_DECODE) return nullptr;
      return CName(smg::WorkerTypeName(static_cast<smg::WorkerType>(value)));
    case SMG_ENUM_HEALTH:
      if (value > SMG_HEALTH_DRAINING) return nullptr;
      return CName(smg::WorkerHealthName(static_cast<smg::WorkerHealth>(value)));
    case SMG_ENUM_BREAKER_STATE:
      if (value > SMG_BREAKER_HALF_OPEN) return nullptr;
      return CName(smg::BreakerStateName(static_cast<smg::BreakerState>(value)));
    case SMG_ENUM_POLICY:
      if (value > SMG_POLICY_PREFIX_HASH) return nullptr;
      return CName(smg::PolicyKindName(static_cast<smg::PolicyKind>(value)));
    case SMG_ENUM_ADMISSION:
      if (value > SMG_ADMISSION_CANCELLED) return nullptr;
      return CName(smg::AdmissionResultName(static_cast<smg::AdmissionResult>(value)));
    case SMG_ENUM_RETRY_VERDICT:
      if (value > SMG_RETRY_BUDGET_EXHAUSTED) return nullptr;
      return CName(smg::RetryVerdictName(static_cast<smg::RetryVerdict>(value)));
    case SMG_ENUM_TENANT_DECISION:
      if (value > SMG_TENANT_INVALID_TENANT) return nullptr;
      return CName(smg::TenantDenyReasonName(static_cast<smg::TenantDenyReason>(value)));
    default:
      return nullptr;
  }
}

smg_code_t smg_policy_parse(const char* name, size_t name_len, uint8_t* kind_out) {
  return smg::capi::Guarded(nullptr, [&]() -> smg_code_t {
    if (kind_out == nullptr || (name == nullptr && name_len != 0) || name_len > 64) {
      return SMG_ERR_INVALID_ARGUMENT;
    }
    absl::StatusOr<smg::PolicyKind> kind =
        smg::ParsePolicyKind(absl::string_view(name == nullptr ? "" : name, name_len));
    if (!kind.ok()) return SMG_ERR_INVALID_ARGUMENT;
    *kind_out = static_cast<uint8_t>(*kind);
    return SMG_OK;
  });
}

}  // extern "C"
