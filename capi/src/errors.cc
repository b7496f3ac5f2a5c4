// File: capi/src/errors.cc
#include "errors.h"

#include <new>
#include <optional>
#include <stdexcept>

#include "absl/time/time.h"
#include "smgcore/router.h"

namespace smg::capi {

smg_code_t CodeOf(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk: return SMG_OK;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange: return SMG_ERR_INVALID_ARGUMENT;
    case absl::StatusCode::kNotFound: return SMG_ERR_NOT_FOUND;
    case absl::StatusCode::kAlreadyExists: return SMG_ERR_ALREADY_EXISTS;
    case absl::StatusCode::kUnavailable: return SMG_ERR_UNAVAILABLE;
    case absl::StatusCode::kResourceExhausted: return SMG_ERR_RESOURCE_EXHAUSTED;
    case absl::StatusCode::kFailedPrecondition: return SMG_ERR_FAILED_PRECONDITION;
    default: return SMG_ERR_INTERNAL;
  }
}

smg_code_t Fail(smg_error_t** err, smg_code_t code, absl::string_view message) {
  if (err == nullptr) return code;
  // nothrow: an allocation failure must not turn an error report into an
  // exception on the way out.
  auto* e = new (std::nothrow) smg_error();
  if (e == nullptr) return code;
  e->code = code;
  try {
    e->message.assign(message.data(), message.size());
  } catch (...) {
    // Keep the code; an empty message is better than none at all.
  }
  *err = e;
  return code;
}

smg_code_t FailStatus(smg_error_t** err, const absl::Status& status) {
  const smg_code_t code = CodeOf(status);
  if (err == nullptr) return code;
  Fail(err, code, status.message());
  if (*err != nullptr) {
    if (std::optional<absl::Duration> after = RetryAfter(status)) {
      (*err)->retry_after_ns = absl::ToInt64Nanoseconds(*after);
    }
  }
  return code;
}

smg_code_t InvalidHandle(smg_error_t** err, absl::string_view type_name) {
  if (err == nullptr) return SMG_ERR_INVALID_HANDLE;
  std::string message(type_name);
  message += " handle is NULL, destroyed, or of another kind";
  return Fail(err, SMG_ERR_INVALID_HANDLE, message);
}

smg_code_t InvalidArgument(smg_error_t** err, absl::string_view message) {
  return Fail(err, SMG_ERR_INVALID_ARGUMENT, message);
}

smg_code_t FailException(smg_error_t** err, std::exception_ptr e) noexcept {
  try {
    std::rethrow_exception(e);
  } catch (const std::bad_alloc&) {
    return Fail(err, SMG_ERR_INTERNAL, "out of memory");
  } catch (const std::exception& ex) {
    return Fail(err, SMG_ERR_INTERNAL, ex.what());
  } catch (...) {
    return Fail(err, SMG_ERR_INTERNAL, "unknown exception");
  }
}

}  // namespace smg::capi
