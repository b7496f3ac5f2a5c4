// File: bindings/python/src/convert.h
//
// Argument conversion shared by every binding file.
//
// Strings cross as borrowed views, never copies: a `str` argument is read
// through its cached UTF-8 form and a `bytes` argument directly; both are
// immutable and held by the call, so the views stay valid while the GIL is
// released. Identifiers (URLs, models, tenants, label keys) accept only
// `str`; prompts and routing keys, which the core treats as bytes in any
// encoding, accept `str` or `bytes`.
//
// Wrapper types such as `TokensArg` exist only to give pybind11's generated
// signatures a readable Python type; the binding converts their object
// itself, so that errors can name the argument.
//
// Every conversion error is smgcore.InvalidArgument (a ValueError) naming
// the argument, or a TypeError for a value of the wrong type.
#ifndef SMGCORE_BINDINGS_PYTHON_CONVERT_H_
#define SMGCORE_BINDINGS_PYTHON_CONVERT_H_

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <limits>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "smgcore/health.h"
#include "smgcore/outcome.h"
#include "smgcore/worker.h"

namespace smg::python {

// Bytes
//
// A `str` (as UTF-8) or `bytes` argument, borrowed for the call.
struct Bytes {
  absl::string_view view;
};

// Text
//
// A `str` argument as UTF-8, borrowed for the call. A str holding lone
// surrogates (not encodable) is InvalidArgument.
struct Text {
  absl::string_view view;
  std::string str() const { return std::string(view); }
};

// Object arguments converted by the binding itself; the names are what
// signatures and help() show.
struct TokensArg {
  pybind11::object obj;
};
struct HeadersArg {
  pybind11::object obj;
};
struct WorkerRef {
  pybind11::object obj;
};
struct PolicyArg {
  pybind11::object obj;
};
struct StatusArg {
  pybind11::object obj;
};
struct LabelsArg {
  pybind11::object obj;
};
struct WorkerIdsArg {
  pybind11::object obj;
};

// Utf8View()
//
// The UTF-8 of `s` (a str), borrowed from the object. InvalidArgument,
// naming `what`, when it holds lone surrogates.
absl::string_view Utf8View(pybind11::handle s, absl::string_view what);

// CheckedInt()
//
// `v` as T within [lo, hi], else InvalidArgument naming `field` and the
// range.
int64_t CheckedInt64(const pybind11::int_& v, absl::string_view field, int64_t lo, int64_t hi);
uint64_t CheckedUint64(const pybind11::int_& v, absl::string_view field, uint64_t lo,
                       uint64_t hi);
template <typename T>
T CheckedInt(const pybind11::int_& v, absl::string_view field,
             T lo = std::numeric_limits<T>::min(), T hi = std::numeric_limits<T>::max()) {
  if constexpr (std::is_signed_v<T>) {
    return static_cast<T>(CheckedInt64(v, field, lo, hi));
  } else {
    return static_cast<T>(CheckedUint64(v, field, lo, hi));
  }
}

// Seconds()
//
// A duration given in seconds (float). InvalidArgument for NaN, or for a
// negative value unless `allow_negative`. Infinity is absl's infinite
// duration.
absl::Duration Seconds(double seconds, absl::string_view field, bool allow_negative = false);

// ToSeconds()
//
// A duration as float seconds (inf for an infinite one).
inline double ToSeconds(absl::Duration d) { return absl::ToDoubleSeconds(d); }

// ParseWorkerType() / ParseHealth()
//
// The enum for its lower-case name ("prefill", "not_ready", ...):
// InvalidArgument listing the accepted names otherwise.
WorkerType ParseWorkerType(absl::string_view name);
WorkerHealth ParseHealth(absl::string_view name);

// ParseOutcome()
//
// How a request ended, from Python: an HTTP status (int in [100, 599]),
// "transport_error" or "cancelled".
Outcome ParseOutcome(pybind11::handle status, absl::string_view field);

// OutcomeObject()
//
// The inverse of ParseOutcome().
pybind11::object OutcomeObject(const Outcome& outcome);

// ToLabels() / LabelsDict()
//
// Worker labels from a Mapping[str, str], and back as a dict.
Labels ToLabels(pybind11::handle mapping, absl::string_view field);
pybind11::dict LabelsDict(const Labels& labels);

// ToWorkerIds()
//
// An iterable of worker ids (int) or Worker objects as ids.
std::vector<uint32_t> ToWorkerIds(pybind11::handle iterable, absl::string_view field);

// FloatRepr()
//
// `v` as Python's repr() writes it ("5.0", "0.1", "inf"), for __repr__.
std::string FloatRepr(double v);

// Name()
//
// A str for one of the core's static names.
inline pybind11::str Name(absl::string_view name) {
  return pybind11::str(name.data(), name.size());
}

}  // namespace smg::python

namespace pybind11::detail {

template <>
struct type_caster<smg::python::Bytes> {
  PYBIND11_TYPE_CASTER(smg::python::Bytes, const_name("str | bytes"));
  bool load(handle src, bool /*convert*/);
  static handle cast(const smg::python::Bytes& v, return_value_policy, handle) {
    return bytes(v.view.data(), v.view.size()).release();
  }
};

template <>
struct type_caster<smg::python::Text> {
  PYBIND11_TYPE_CASTER(smg::python::Text, const_name("str"));
  bool load(handle src, bool /*convert*/);
  static handle cast(const smg::python::Text& v, return_value_policy, handle) {
    return str(v.view.data(), v.view.size()).release();
  }
};

// Object wrappers: accept any object; the binding checks it.
template <typename T>
struct smgcore_object_caster {
  bool load(handle src, bool /*convert*/) {
    value.obj = reinterpret_borrow<object>(src);
    return true;
  }
  static handle cast(const T& v, return_value_policy, handle) { return v.obj.inc_ref(); }
  operator T*() { return &value; }
  operator T&() { return value; }
  operator T&&() && { return std::move(value); }
  template <typename U>
  using cast_op_type = movable_cast_op_type<U>;

 protected:
  T value;
};

#define SMGCORE_OBJECT_CASTER(Type, py_name)                                  \
  template <>                                                                \
  struct type_caster<smg::python::Type> : smgcore_object_caster<smg::python::Type> { \
    static constexpr auto name = const_name(py_name);                       \
  }

SMGCORE_OBJECT_CASTER(TokensArg, "collections.abc.Sequence[int]");
SMGCORE_OBJECT_CASTER(HeadersArg, "collections.abc.Mapping[str, str]");
SMGCORE_OBJECT_CASTER(WorkerRef, "int | str | Worker");
SMGCORE_OBJECT_CASTER(PolicyArg, "str | Policy");
SMGCORE_OBJECT_CASTER(StatusArg, "int | str");
SMGCORE_OBJECT_CASTER(LabelsArg, "collections.abc.Mapping[str, str]");
SMGCORE_OBJECT_CASTER(WorkerIdsArg, "collections.abc.Iterable[int | Worker]");

#undef SMGCORE_OBJECT_CASTER

}  // namespace pybind11::detail

#endif  // SMGCORE_BINDINGS_PYTHON_CONVERT_H_
