// File: capi/src/errors.h
//
// How the C ABI reports failures: smg_code_t values derived from
// absl::Status codes, owned smg_error_t objects when the caller asked for
// one, and the guards that keep every C++ exception inside the library.
#ifndef SMGCORE_CAPI_ERRORS_H_
#define SMGCORE_CAPI_ERRORS_H_

#include <cstdint>
#include <exception>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "smgcore/smgcore_c.h"

// smg_error
//
// The object behind smg_error_t.
struct smg_error {
  smg_code_t code = SMG_ERR_INTERNAL;
  std::string message;
  // Retry-After hint of a tenant-limit denial; -1 when none.
  int64_t retry_after_ns = -1;
};

namespace smg::capi {

// CodeOf()
//
// The C code of an absl::Status (SMG_OK for OK).
smg_code_t CodeOf(const absl::Status& status);

// Fail()
//
// Returns `code`, first storing an error object with `message` in `*err`
// when `err` is non-null.
smg_code_t Fail(smg_error_t** err, smg_code_t code, absl::string_view message);

// FailStatus()
//
// Fail() with the status's code and message, and its Retry-After hint.
smg_code_t FailStatus(smg_error_t** err, const absl::Status& status);

// InvalidHandle()
//
// SMG_ERR_INVALID_HANDLE naming the handle type.
smg_code_t InvalidHandle(smg_error_t** err, absl::string_view type_name);

// InvalidArgument()
smg_code_t InvalidArgument(smg_error_t** err, absl::string_view message);

// FailException()
//
// SMG_ERR_INTERNAL for an exception that escaped the core (bad_alloc
// included).
smg_code_t FailException(smg_error_t** err, std::exception_ptr e) noexcept;

// Guarded()
//
// Runs `body` (returning smg_code_t) so that no exception leaves it.
template <typename Body>
smg_code_t Guarded(smg_error_t** err, Body&& body) noexcept {
  try {
    return body();
  } catch (...) {
    return FailException(err, std::current_exception());
  }
}

// GuardedVoid()
//
// The same for calls that cannot report (destroy functions).
template <typename Body>
void GuardedVoid(Body&& body) noexcept {
  try {
    body();
  } catch (...) {
    // Nothing can be reported from a void C call; destroy paths do not
    // allocate, so this is unreachable in practice.
  }
}

}  // namespace smg::capi

#endif  // SMGCORE_CAPI_ERRORS_H_
