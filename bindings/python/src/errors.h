// File: bindings/python/src/errors.h
//
// How C++ errors reach Python. Binding code throws `StatusError` (an
// absl::Status in a C++ exception); a translator registered by
// RegisterErrors() turns it into the smgcore.Error subclass for the status
// code, with the C++ message:
//
//   Error                       every smgcore error; `.code` is the absl code name
//   ├── InvalidArgument         also a ValueError
//   ├── NotFound                also a LookupError
//   ├── AlreadyExists
//   ├── FailedPrecondition
//   ├── Unavailable             no worker can take the request now
//   ├── ResourceExhausted       rate or concurrency limit; `.retry_after` seconds
//   ├── DeadlineExceeded        also a TimeoutError (limiter queue timeout)
//   └── Cancelled               a queued admission was withdrawn
//
// Other codes (Internal, ...) raise Error itself.
#ifndef SMGCORE_BINDINGS_PYTHON_ERRORS_H_
#define SMGCORE_BINDINGS_PYTHON_ERRORS_H_

#include <pybind11/pybind11.h>

#include <exception>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace smg::python {

// StatusError
//
// A non-OK status thrown through binding code. `attributes` are extra
// string attributes set on the Python exception (e.g. a tenant denial's
// `reason`, `scope` and `dimension`).
class StatusError : public std::exception {
 public:
  explicit StatusError(absl::Status status,
                       std::vector<std::pair<std::string, std::string>> attributes = {});

  const absl::Status& status() const { return status_; }
  const std::vector<std::pair<std::string, std::string>>& attributes() const {
    return attributes_;
  }
  const char* what() const noexcept override { return what_.c_str(); }

 private:
  absl::Status status_;
  std::vector<std::pair<std::string, std::string>> attributes_;
  std::string what_;
};

// ThrowIfError()
//
// Throws StatusError for a non-OK status.
inline void ThrowIfError(const absl::Status& status) {
  if (!status.ok()) throw StatusError(status);
}

// ValueOrThrow()
//
// The value of `v`, or throws its status.
template <typename T>
T ValueOrThrow(absl::StatusOr<T> v) {
  if (!v.ok()) throw StatusError(v.status());
  return *std::move(v);
}

// ThrowInvalidArgument()
//
// Throws InvalidArgument with `message` (Python: smgcore.InvalidArgument,
// a ValueError).
[[noreturn]] void ThrowInvalidArgument(absl::string_view message);

// ErrorObject()
//
// The Python exception instance `error` would raise: for results delivered
// without raising (an asyncio future's exception).
pybind11::object ErrorObject(const StatusError& error);

// WithRetryAfter()
//
// `status` carrying a Retry-After hint the way Router::Select() attaches
// one (smg::RetryAfter() reads it back); the Python exception's
// `retry_after` comes from it.
absl::Status WithRetryAfter(absl::Status status, absl::Duration retry_after);

// RaiseCurrentException()
//
// Sets the Python error for the exception being handled (call it in a
// catch (...) block), through the same translators as pybind11's
// dispatcher: for entry points that bypass it.
void RaiseCurrentException() noexcept;

// RegisterErrors()
//
// Creates the exception classes in `m` and installs the translator.
void RegisterErrors(pybind11::module_& m);

}  // namespace smg::python

#endif  // SMGCORE_BINDINGS_PYTHON_ERRORS_H_
