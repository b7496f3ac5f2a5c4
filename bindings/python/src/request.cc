#include "request.h"

#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "errors.h"

namespace py = pybind11;

namespace smg::python {
namespace {

// Whether a buffer's struct format is a native 4-byte unsigned integer.
bool IsUint32Format(const Py_buffer& view) {
  if (view.itemsize != 4 || view.format == nullptr) return false;
  const char* f = view.format;
  // '@' and '=' are native order; '<' is native on the little-endian hosts
  // smgcore runs on (checked at compile time below).
  static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "token buffers assume little-endian");
  if (*f == '@' || *f == '=' || *f == '<') ++f;
  return (std::strcmp(f, "I") == 0 || std::strcmp(f, "L") == 0);
}

// A str or bytes argument as bytes.
absl::string_view BytesArg(py::handle h, const char* name) {
  if (PyUnicode_Check(h.ptr())) return Utf8View(h, name);
  if (PyBytes_Check(h.ptr())) {
    return absl::string_view(PyBytes_AS_STRING(h.ptr()),
                             static_cast<size_t>(PyBytes_GET_SIZE(h.ptr())));
  }
  throw py::type_error(absl::StrCat(name, " must be str or bytes, not ", Py_TYPE(h.ptr())->tp_name));
}

// A str argument as UTF-8.
absl::string_view TextArg(py::handle h, const char* name) {
  if (PyUnicode_Check(h.ptr())) return Utf8View(h, name);
  throw py::type_error(absl::StrCat(name, " must be str, not ", Py_TYPE(h.ptr())->tp_name));
}

}  // namespace

const FastSignature& SelectSignature() {
  using K = FastParam::Kind;
  static const FastSignature* const signature = new FastSignature(
      "select", {{"text", K::kKeywordOnly, "None"},
                 {"tokens", K::kKeywordOnly, "None"},
                 {"model", K::kKeywordOnly, "None"},
                 {"routing_key", K::kKeywordOnly, "None"},
                 {"headers", K::kKeywordOnly, "None"},
                 {"tenant", K::kKeywordOnly, "None"},
                 {"estimated_tokens", K::kKeywordOnly, "0"},
                 {"exclude_workers", K::kKeywordOnly, "None"}});
  return *signature;
}

PreparedRequest::PreparedRequest(const SelectArgs& args) {
  if (Given(args.text)) request_.text = BytesArg(args.text, "text");
  if (Given(args.model)) request_.model = TextArg(args.model, "model");
  if (Given(args.routing_key)) request_.routing_key = BytesArg(args.routing_key, "routing_key");
  if (Given(args.tenant)) request_.tenant = TextArg(args.tenant, "tenant");
  if (Given(args.estimated_tokens)) {
    if (!PyLong_Check(args.estimated_tokens.ptr())) {
      throw py::type_error(absl::StrCat("estimated_tokens must be int, not ",
                                        Py_TYPE(args.estimated_tokens.ptr())->tp_name));
    }
    request_.estimated_tokens = CheckedInt<uint64_t>(
        py::reinterpret_borrow<py::int_>(args.estimated_tokens), "estimated_tokens");
  }
  if (Given(args.tokens)) LoadTokens(args.tokens);
  if (Given(args.headers)) LoadHeaders(args.headers);
  if (Given(args.exclude_workers)) {
    exclude_ = ToWorkerIds(args.exclude_workers, "exclude_workers");
    request_.exclude_workers = exclude_;
  }
}

PreparedRequest::~PreparedRequest() {
  if (has_buffer_) PyBuffer_Release(&buffer_);
}

void PreparedRequest::LoadTokens(py::handle tokens) {
  PyObject* obj = tokens.ptr();
  if (PyUnicode_Check(obj) || PyBytes_Check(obj) || PyByteArray_Check(obj)) {
    throw py::type_error(absl::StrCat("tokens must be a sequence of int token ids or a uint32 "
                                      "buffer, not ",
                                      Py_TYPE(obj)->tp_name, " (pass a prompt as text=)"));
  }
  if (PyObject_CheckBuffer(obj)) {
    if (PyObject_GetBuffer(obj, &buffer_, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) != 0) {
      throw py::error_already_set();
    }
    has_buffer_ = true;
    if (buffer_.ndim != 1 || !IsUint32Format(buffer_)) {
      ThrowInvalidArgument(absl::StrCat(
          "tokens: a buffer must be one-dimensional 4-byte unsigned integers (array('I'), "
          "numpy.uint32), got format '",
          buffer_.format != nullptr ? buffer_.format : "?", "' with item size ", buffer_.itemsize,
          " and ", buffer_.ndim, " dimensions"));
    }
    const size_t count = static_cast<size_t>(buffer_.len) / sizeof(uint32_t);
    if (reinterpret_cast<uintptr_t>(buffer_.buf) % alignof(uint32_t) == 0) {
      request_.tokens = absl::Span<const uint32_t>(static_cast<const uint32_t*>(buffer_.buf), count);
    } else {
      token_copy_.resize(count);
      std::memcpy(token_copy_.data(), buffer_.buf, count * sizeof(uint32_t));
      request_.tokens = token_copy_;
    }
    return;
  }
  // Any other iterable: list, tuple, range, generator...
  py::object seq = py::reinterpret_steal<py::object>(PySequence_Fast(
      obj, "tokens must be a sequence of int token ids or a uint32 buffer (array('I'))"));
  if (!seq) throw py::error_already_set();
  const Py_ssize_t n = PySequence_Fast_GET_SIZE(seq.ptr());
  PyObject** items = PySequence_Fast_ITEMS(seq.ptr());
  token_copy_.resize(static_cast<size_t>(n));
  for (Py_ssize_t i = 0; i < n; ++i) {
    PyObject* item = items[i];
    if (!PyLong_Check(item)) {
      throw py::type_error(absl::StrCat("tokens[", i, "] must be an int, not ",
                                        Py_TYPE(item)->tp_name));
    }
    const unsigned long v = PyLong_AsUnsignedLong(item);
    if ((v == static_cast<unsigned long>(-1) && PyErr_Occurred()) || v > UINT32_MAX) {
      PyErr_Clear();
      ThrowInvalidArgument(absl::StrCat("tokens[", i, "] = ", py::repr(item).cast<std::string>(),
                                        " is not a token id (0 to 4294967295)"));
    }
    token_copy_[static_cast<size_t>(i)] = static_cast<uint32_t>(v);
  }
  request_.tokens = token_copy_;
}

void PreparedRequest::LoadHeaders(py::handle headers) {
  py::object pairs = py::reinterpret_borrow<py::object>(headers);
  if (PyDict_Check(headers.ptr()) || (PyMapping_Check(headers.ptr()) &&
                                      py::hasattr(headers, "items"))) {
    pairs = headers.attr("items")();
  } else if (PyUnicode_Check(headers.ptr()) || PyBytes_Check(headers.ptr())) {
    throw py::type_error("headers must be a mapping or an iterable of (name, value) pairs");
  }
  for (py::handle pair : py::reinterpret_borrow<py::iterable>(pairs)) {
    py::object item = py::reinterpret_borrow<py::object>(pair);
    if (!PyTuple_Check(item.ptr()) || PyTuple_GET_SIZE(item.ptr()) != 2) {
      item = py::reinterpret_steal<py::object>(PySequence_Tuple(item.ptr()));
      if (!item || PyTuple_GET_SIZE(item.ptr()) != 2) {
        PyErr_Clear();
        throw py::type_error("headers items must be (name, value) pairs");
      }
    }
    Header h;
    absl::string_view* fields[2] = {&h.name, &h.value};
    for (int i = 0; i < 2; ++i) {
      py::handle part = PyTuple_GET_ITEM(item.ptr(), i);
      if (PyUnicode_Check(part.ptr())) {
        *fields[i] = Utf8View(part, "header");
      } else if (PyBytes_Check(part.ptr())) {
        *fields[i] = absl::string_view(PyBytes_AS_STRING(part.ptr()),
                                       static_cast<size_t>(PyBytes_GET_SIZE(part.ptr())));
      } else {
        throw py::type_error(absl::StrCat("header names and values must be str or bytes, not ",
                                          Py_TYPE(part.ptr())->tp_name));
      }
    }
    header_refs_.push_back(std::move(item));
    headers_.push_back(h);
  }
  request_.headers = headers_;
}

}  // namespace smg::python
