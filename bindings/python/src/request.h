// File: bindings/python/src/request.h
//
// select()'s arguments, turned into a RouteRequest without copying the
// prompt: text and routing key are views into their str/bytes objects, a
// uint32 buffer (array('I'), numpy.uint32) is borrowed through the buffer
// protocol, and only a plain sequence of ints is copied.
//
// A PreparedRequest holds everything its views point into, so the GIL can be
// released while the router runs (see ReleasesGil()).
#ifndef SMGCORE_BINDINGS_PYTHON_REQUEST_H_
#define SMGCORE_BINDINGS_PYTHON_REQUEST_H_

#include <Python.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "convert.h"
#include "errors.h"
#include "smgcore/request.h"

namespace smg::python {

// SelectArgs
//
// The keyword arguments of Router.select() and RetryState.select(),
// borrowed from the call (a null handle or None means "not given").
// PreparedRequest checks their types, so errors can name the argument.
struct SelectArgs {
  pybind11::handle text;
  pybind11::handle tokens;
  pybind11::handle model;
  pybind11::handle routing_key;
  pybind11::handle headers;
  pybind11::handle tenant;
  pybind11::handle estimated_tokens;
  pybind11::handle exclude_workers;
};

// SelectDocstring()
//
// `doc` behind select()'s signature line in CPython's __text_signature__
// form.
std::string SelectDocstring(const char* doc);

// kSelectArgNames
//
// SelectArgs' fields in order, as Python keyword names.
inline constexpr const char* kSelectArgNames[] = {
    "text", "tokens", "model", "routing_key", "headers", "tenant", "estimated_tokens",
    "exclude_workers"};

// kGilReleasePromptBytes / kGilReleasePromptTokens
//
// Prompts from this size on are routed with the GIL released. Below it the
// selection costs less than handing the GIL to another thread and waiting to
// get it back, which under contention is far longer than the selection.
inline constexpr size_t kGilReleasePromptBytes = 16 * 1024;
inline constexpr size_t kGilReleasePromptTokens = 4 * 1024;

// PreparedRequest
//
// Built and destroyed with the GIL held; request() may be read without it.
class PreparedRequest {
 public:
  explicit PreparedRequest(const SelectArgs& args);
  ~PreparedRequest();
  PreparedRequest(const PreparedRequest&) = delete;
  PreparedRequest& operator=(const PreparedRequest&) = delete;

  // PreparedRequest::request()
  //
  // Views valid until this object is destroyed.
  const RouteRequest& request() const { return request_; }

  // PreparedRequest::ReleasesGil()
  //
  // Whether the prompt is long enough to route without the GIL.
  bool ReleasesGil() const {
    return request_.text.size() >= kGilReleasePromptBytes ||
           request_.tokens.size() >= kGilReleasePromptTokens;
  }

 private:
  void LoadTokens(pybind11::handle tokens);
  void LoadHeaders(pybind11::handle headers);

  RouteRequest request_;
  // The borrowed token buffer, when the tokens came as one.
  Py_buffer buffer_{};
  bool has_buffer_ = false;
  // Token ids copied from a sequence (or a misaligned buffer).
  std::vector<uint32_t> token_copy_;
  std::vector<Header> headers_;
  // The header name and value objects the views point into: the mapping
  // itself may change while the GIL is released.
  std::vector<pybind11::object> header_refs_;
  std::vector<uint32_t> exclude_;
};

// ParseSelectArgs()
//
// SelectArgs from a METH_FASTCALL | METH_KEYWORDS call: keyword arguments
// only, each at most once. TypeError otherwise.
SelectArgs ParseSelectArgs(PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames);

// SelectFn
//
// A select() implementation for `Self` (Router, RetryState): returns the
// Decision.
template <typename Self>
using SelectFn = pybind11::object (*)(Self& self, const SelectArgs& args);

// FastSelect()
//
// The CPython entry point of select(). select() is the one per-request
// call, so it bypasses pybind11's dispatcher, which copies the keyword
// dictionary and looks up every declared argument by a freshly built name:
// several hundred nanoseconds of a per-request budget of 1.5 us.
template <typename Self, SelectFn<Self> Fn>
PyObject* FastSelect(PyObject* self, PyObject* const* args, Py_ssize_t nargs,
                     PyObject* kwnames) noexcept {
  try {
    const SelectArgs parsed = ParseSelectArgs(args, nargs, kwnames);
    return Fn(pybind11::handle(self).cast<Self&>(), parsed).release().ptr();
  } catch (...) {
    RaiseCurrentException();
    return nullptr;
  }
}

// DefSelect()
//
// Installs FastSelect<Self, Fn> as method "select" of `cls`, with a
// __text_signature__ (inspect.signature() works) and `doc`.
template <typename Self, SelectFn<Self> Fn, typename Class>
void DefSelect(Class& cls, const char* doc) {
  static const std::string text = SelectDocstring(doc);
  static PyMethodDef def = {
      "select",
      reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(&FastSelect<Self, Fn>)),
      METH_FASTCALL | METH_KEYWORDS, text.c_str()};
  PyObject* descr = PyDescr_NewMethod(reinterpret_cast<PyTypeObject*>(cls.ptr()), &def);
  if (descr == nullptr) throw pybind11::error_already_set();
  cls.attr("select") = pybind11::reinterpret_steal<pybind11::object>(descr);
}

}  // namespace smg::python

#endif  // SMGCORE_BINDINGS_PYTHON_REQUEST_H_
