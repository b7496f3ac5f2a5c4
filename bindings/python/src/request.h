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
#include <vector>

#include "convert.h"
#include "fast_call.h"
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

// SelectSignature()
//
// select()'s parameters, all keyword-only: SelectArgs' fields in order.
const FastSignature& SelectSignature();

// ToSelectArgs()
//
// SelectArgs from the arguments parsed by SelectSignature().
inline SelectArgs ToSelectArgs(const pybind11::handle* args) {
  return SelectArgs{args[0], args[1], args[2], args[3], args[4], args[5], args[6], args[7]};
}

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

}  // namespace smg::python

#endif  // SMGCORE_BINDINGS_PYTHON_REQUEST_H_
