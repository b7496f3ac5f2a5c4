#include "errors.h"

#include <Python.h>

#include <cmath>
#include <optional>
#include <string>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "smgcore/router.h"

namespace py = pybind11;

namespace smg::python {
namespace {

// The exception classes. Created once per process and never freed: the
// translator may run until the interpreter is gone, and a static py::object
// would be released after Py_Finalize().
struct ErrorClasses {
  PyObject* base = nullptr;
  PyObject* invalid_argument = nullptr;
  PyObject* not_found = nullptr;
  PyObject* already_exists = nullptr;
  PyObject* failed_precondition = nullptr;
  PyObject* unavailable = nullptr;
  PyObject* resource_exhausted = nullptr;
  PyObject* deadline_exceeded = nullptr;
  PyObject* cancelled = nullptr;
};

ErrorClasses& Classes() {
  static ErrorClasses classes;
  return classes;
}

PyObject* ClassFor(absl::StatusCode code) {
  const ErrorClasses& c = Classes();
  switch (code) {
    case absl::StatusCode::kInvalidArgument: return c.invalid_argument;
    case absl::StatusCode::kNotFound: return c.not_found;
    case absl::StatusCode::kAlreadyExists: return c.already_exists;
    case absl::StatusCode::kFailedPrecondition: return c.failed_precondition;
    case absl::StatusCode::kUnavailable: return c.unavailable;
    case absl::StatusCode::kResourceExhausted: return c.resource_exhausted;
    case absl::StatusCode::kDeadlineExceeded: return c.deadline_exceeded;
    case absl::StatusCode::kCancelled: return c.cancelled;
    default: return c.base;
  }
}

// Creates smgcore.<name> deriving from `bases` with class attribute `code`.
PyObject* NewClass(py::module_& m, const char* name, const char* doc, py::tuple bases,
                   const char* code) {
  const std::string qualified = absl::StrCat("smgcore.", name);
  PyObject* cls = PyErr_NewExceptionWithDoc(qualified.c_str(), doc, bases.ptr(), nullptr);
  if (cls == nullptr) throw py::error_already_set();
  py::handle h(cls);
  h.attr("code") = py::str(code);
  m.attr(name) = h;  // the module holds a second reference
  return cls;
}

}  // namespace

StatusError::StatusError(absl::Status status,
                         std::vector<std::pair<std::string, std::string>> attributes)
    : status_(std::move(status)),
      attributes_(std::move(attributes)),
      what_(status_.message()) {}

void ThrowInvalidArgument(absl::string_view message) {
  throw StatusError(absl::InvalidArgumentError(message));
}

absl::Status WithRetryAfter(absl::Status status, absl::Duration retry_after) {
  if (retry_after != absl::InfiniteDuration() && retry_after >= absl::ZeroDuration()) {
    status.SetPayload(kRetryAfterPayload,
                      absl::Cord(absl::StrCat(absl::ToInt64Milliseconds(
                          absl::Ceil(retry_after, absl::Milliseconds(1))))));
  }
  return status;
}

py::object ErrorObject(const StatusError& error) {
  const absl::Status& status = error.status();
  PyObject* cls = ClassFor(status.code());
  const absl::string_view message = status.message();
  // Messages may quote host input (a URL, a tenant) that is not UTF-8.
  py::object text = py::reinterpret_steal<py::object>(PyUnicode_DecodeUTF8(
      message.data(), static_cast<Py_ssize_t>(message.size()), "replace"));
  if (!text) throw py::error_already_set();
  py::object instance = py::handle(cls)(text);
  if (status.code() == absl::StatusCode::kResourceExhausted) {
    const std::optional<absl::Duration> retry_after = RetryAfter(status);
    instance.attr("retry_after") =
        retry_after ? py::object(py::float_(absl::ToDoubleSeconds(*retry_after))) : py::none();
  }
  for (const auto& [name, value] : error.attributes()) {
    instance.attr(name.c_str()) = py::str(value);
  }
  return instance;
}

void RaiseCurrentException() noexcept {
  try {
    if (!py::detail::apply_exception_translators(
            py::detail::get_local_internals().registered_exception_translators) &&
        !py::detail::apply_exception_translators(
            py::detail::get_internals().registered_exception_translators)) {
      PyErr_SetString(PyExc_SystemError, "smgcore: untranslated C++ exception");
    }
  } catch (...) {
    PyErr_SetString(PyExc_SystemError, "smgcore: exception while translating an exception");
  }
}

void RegisterErrors(py::module_& m) {
  ErrorClasses& c = Classes();
  c.base = NewClass(m, "Error",
                    "Base class of every smgcore error. `code` names the C++ status code "
                    "(absl::StatusCode), the message is the C++ message.",
                    py::make_tuple(py::handle(PyExc_Exception)), "UNKNOWN");
  const py::handle base(c.base);
  c.invalid_argument = NewClass(m, "InvalidArgument",
                                "An argument or option is out of range or malformed.",
                                py::make_tuple(base, py::handle(PyExc_ValueError)),
                                "INVALID_ARGUMENT");
  c.not_found = NewClass(m, "NotFound", "No such worker, or no worker for the model.",
                         py::make_tuple(base, py::handle(PyExc_LookupError)), "NOT_FOUND");
  c.already_exists = NewClass(m, "AlreadyExists", "A worker with that URL is already registered.",
                              py::make_tuple(base), "ALREADY_EXISTS");
  c.failed_precondition =
      NewClass(m, "FailedPrecondition",
               "The object is not in a state that allows the call (e.g. a decision already "
               "finished).",
               py::make_tuple(base), "FAILED_PRECONDITION");
  c.unavailable = NewClass(m, "Unavailable",
                           "Workers exist but none can take the request now (not ready, "
                           "draining or circuit breaker open).",
                           py::make_tuple(base), "UNAVAILABLE");
  c.resource_exhausted =
      NewClass(m, "ResourceExhausted",
               "A rate or concurrency limit denied the request (HTTP 429). `retry_after`: "
               "seconds to wait before retrying, or None when no wait would help.",
               py::make_tuple(base), "RESOURCE_EXHAUSTED");
  // Present on every instance: set per denial when known.
  for (const char* attr : {"retry_after", "reason", "scope", "dimension"}) {
    py::handle(c.resource_exhausted).attr(attr) = py::none();
  }
  c.deadline_exceeded = NewClass(m, "DeadlineExceeded",
                                 "A queued admission timed out (HTTP 408).",
                                 py::make_tuple(base, py::handle(PyExc_TimeoutError)),
                                 "DEADLINE_EXCEEDED");
  c.cancelled = NewClass(m, "Cancelled",
                         "A queued admission was withdrawn (cancel_all(), or the limiter "
                         "was destroyed).",
                         py::make_tuple(base), "CANCELLED");

  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const StatusError& e) {
      try {
        py::object instance = ErrorObject(e);
        PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(instance.ptr())), instance.ptr());
      } catch (py::error_already_set& building) {
        building.restore();  // building the exception failed (out of memory): raise that
      }
    }
  });
}

}  // namespace smg::python
