#include "convert.h"

#include <Python.h>

#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "errors.h"

namespace py = pybind11;

namespace smg::python {

absl::string_view Utf8View(py::handle s, absl::string_view what) {
  Py_ssize_t size = 0;
  // Cached in the str object: free for ASCII, one encoding per str otherwise.
  const char* data = PyUnicode_AsUTF8AndSize(s.ptr(), &size);
  if (data == nullptr) {
    // Only lone surrogates make a str unencodable; say so in the argument's
    // terms rather than the codec's.
    py::error_already_set codec_error;
    ThrowInvalidArgument(absl::StrCat(what, " is not valid Unicode text (", codec_error.what(),
                                      ")"));
  }
  return absl::string_view(data, static_cast<size_t>(size));
}

namespace {

std::string ReprOf(py::handle v) {
  try {
    return py::repr(v).cast<std::string>();
  } catch (const std::exception&) {
    return "<unprintable>";
  }
}

}  // namespace

int64_t CheckedInt64(const py::int_& v, absl::string_view field, int64_t lo, int64_t hi) {
  int overflow = 0;
  const long long x = PyLong_AsLongLongAndOverflow(v.ptr(), &overflow);
  if (x == -1 && PyErr_Occurred()) throw py::error_already_set();
  if (overflow != 0 || x < lo || x > hi) {
    ThrowInvalidArgument(
        absl::StrCat(field, " must be in [", lo, ", ", hi, "], got ", ReprOf(v)));
  }
  return x;
}

uint64_t CheckedUint64(const py::int_& v, absl::string_view field, uint64_t lo, uint64_t hi) {
  const unsigned long long x = PyLong_AsUnsignedLongLong(v.ptr());
  if (x == static_cast<unsigned long long>(-1) && PyErr_Occurred()) {
    PyErr_Clear();  // negative or above 2^64: out of range either way
    ThrowInvalidArgument(
        absl::StrCat(field, " must be in [", lo, ", ", hi, "], got ", ReprOf(v)));
  }
  if (x < lo || x > hi) {
    ThrowInvalidArgument(
        absl::StrCat(field, " must be in [", lo, ", ", hi, "], got ", ReprOf(v)));
  }
  return x;
}

absl::Duration Seconds(double seconds, absl::string_view field, bool allow_negative) {
  if (std::isnan(seconds)) ThrowInvalidArgument(absl::StrCat(field, " must be a number, not nan"));
  if (!allow_negative && seconds < 0) {
    ThrowInvalidArgument(absl::StrCat(field, " must be >= 0 seconds, got ", seconds));
  }
  if (std::isinf(seconds)) {
    return seconds > 0 ? absl::InfiniteDuration() : -absl::InfiniteDuration();
  }
  return absl::Seconds(seconds);
}

std::string FloatRepr(double v) { return py::repr(py::float_(v)).cast<std::string>(); }

WorkerType ParseWorkerType(absl::string_view name) {
  for (WorkerType t : {WorkerType::kRegular, WorkerType::kPrefill, WorkerType::kDecode}) {
    if (name == WorkerTypeName(t)) return t;
  }
  ThrowInvalidArgument(absl::StrCat("unknown worker type \"", name,
                                    "\" (expected regular, prefill or decode)"));
}

WorkerHealth ParseHealth(absl::string_view name) {
  for (int i = 0; i < kWorkerHealthCount; ++i) {
    const auto h = static_cast<WorkerHealth>(i);
    if (name == WorkerHealthName(h)) return h;
  }
  ThrowInvalidArgument(absl::StrCat(
      "unknown health state \"", name,
      "\" (expected pending, ready, not_ready, failed or draining)"));
}

Outcome ParseOutcome(py::handle status, absl::string_view field) {
  if (PyLong_Check(status.ptr()) && !PyBool_Check(status.ptr())) {
    return Outcome::Status(
        CheckedInt<int>(py::reinterpret_borrow<py::int_>(status), field, 100, 599));
  }
  if (PyUnicode_Check(status.ptr())) {
    const absl::string_view name = Utf8View(status, field);
    if (name == "transport_error") return Outcome::TransportError();
    if (name == "cancelled") return Outcome::Cancelled();
    ThrowInvalidArgument(absl::StrCat(field, " must be an HTTP status (100-599), "
                                             "\"transport_error\" or \"cancelled\", not \"",
                                      name, "\""));
  }
  throw py::type_error(absl::StrCat(field, " must be an int HTTP status or a str, not ",
                                    Py_TYPE(status.ptr())->tp_name));
}

py::object OutcomeObject(const Outcome& outcome) {
  switch (outcome.kind()) {
    case Outcome::Kind::kStatus: return py::int_(outcome.http_status());
    case Outcome::Kind::kTransportError: return py::str("transport_error");
    case Outcome::Kind::kCancelled: return py::str("cancelled");
  }
  return py::none();
}

Labels ToLabels(py::handle mapping, absl::string_view field) {
  if (!PyDict_Check(mapping.ptr()) &&
      (!PyMapping_Check(mapping.ptr()) || !py::hasattr(mapping, "items"))) {
    throw py::type_error(absl::StrCat(field, " must be a mapping of str to str, not ",
                                      Py_TYPE(mapping.ptr())->tp_name));
  }
  Labels labels;
  py::object items = py::reinterpret_steal<py::object>(PyMapping_Items(mapping.ptr()));
  if (!items) throw py::error_already_set();
  for (py::handle item : items) {
    py::tuple pair = py::reinterpret_borrow<py::tuple>(item);
    if (!PyUnicode_Check(pair[0].ptr()) || !PyUnicode_Check(pair[1].ptr())) {
      throw py::type_error(absl::StrCat(field, " keys and values must be str, got ",
                                        Py_TYPE(pair[0].ptr())->tp_name, ": ",
                                        Py_TYPE(pair[1].ptr())->tp_name));
    }
    labels.emplace(std::string(Utf8View(pair[0], field)), std::string(Utf8View(pair[1], field)));
  }
  return labels;
}

py::dict LabelsDict(const Labels& labels) {
  py::dict d;
  for (const auto& [k, v] : labels) d[py::str(k)] = py::str(v);
  return d;
}

std::vector<uint32_t> ToWorkerIds(py::handle iterable, absl::string_view field) {
  if (PyUnicode_Check(iterable.ptr()) || PyBytes_Check(iterable.ptr())) {
    throw py::type_error(absl::StrCat(field, " must be an iterable of worker ids or Workers"));
  }
  std::vector<uint32_t> ids;
  const py::type worker_type = py::type::of<Worker>();
  for (py::handle item : py::reinterpret_borrow<py::iterable>(iterable)) {
    if (py::isinstance(item, worker_type)) {
      ids.push_back(item.cast<const Worker&>().id());
    } else if (PyLong_Check(item.ptr())) {
      ids.push_back(CheckedInt<uint32_t>(py::reinterpret_borrow<py::int_>(item), field));
    } else {
      throw py::type_error(absl::StrCat(field, " items must be worker ids (int) or Workers, not ",
                                        Py_TYPE(item.ptr())->tp_name));
    }
  }
  return ids;
}

}  // namespace smg::python

namespace pybind11::detail {

bool type_caster<smg::python::Bytes>::load(handle src, bool) {
  if (PyUnicode_Check(src.ptr())) {
    value.view = smg::python::Utf8View(src, "a str argument");
    return true;
  }
  if (PyBytes_Check(src.ptr())) {
    value.view = absl::string_view(PyBytes_AS_STRING(src.ptr()),
                                   static_cast<size_t>(PyBytes_GET_SIZE(src.ptr())));
    return true;
  }
  return false;
}

bool type_caster<smg::python::Text>::load(handle src, bool) {
  if (!PyUnicode_Check(src.ptr())) return false;
  value.view = smg::python::Utf8View(src, "a str argument");
  return true;
}

}  // namespace pybind11::detail
