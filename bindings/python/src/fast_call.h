// File: bindings/python/src/fast_call.h
//
// Methods on the per-request path (select(), and a Decision's finish(),
// __enter__ and __exit__) are CPython METH_FASTCALL | METH_KEYWORDS
// functions instead of pybind11-dispatched ones. pybind11's dispatcher
// copies the keyword dictionary and looks every declared argument up by a
// freshly built name string: several hundred nanoseconds per call, against
// a budget of 1.5 us for everything Python adds to a request. Here keyword
// names are matched by pointer against interned strings (call sites pass
// interned constants), with a text comparison as the fallback.
//
// Such a method is declared by a FastSignature (names, kinds, defaults as
// text) and a function taking the parsed arguments; DefFast() installs it
// on a pybind11 class with a __text_signature__, so inspect.signature() and
// help() show real parameters. Errors raised inside go through the same
// translators as pybind11's.
#ifndef SMGCORE_BINDINGS_PYTHON_FAST_CALL_H_
#define SMGCORE_BINDINGS_PYTHON_FAST_CALL_H_

#include <Python.h>
#include <pybind11/pybind11.h>

#include <string>
#include <vector>

#include "errors.h"

namespace smg::python {

// FastParam
//
// One parameter: its name, kind, and default as Python source text (null
// when required).
struct FastParam {
  enum class Kind { kPositionalOnly, kPositionalOrKeyword, kKeywordOnly };
  const char* name;
  Kind kind;
  const char* default_text;
};

// kMaxFastParams
//
// The most parameters a fast method may have.
inline constexpr size_t kMaxFastParams = 8;

// FastSignature
//
// Parameters in declaration order: positional-only first, then
// positional-or-keyword, then keyword-only. Build once (a function-local
// static) with the GIL held.
class FastSignature {
 public:
  FastSignature(const char* function, std::vector<FastParam> params);

  // FastSignature::Parse()
  //
  // Fills out[i] with the argument of parameter i (borrowed from the call),
  // or leaves it null when not given. TypeError for too many positional
  // arguments, an unknown or repeated keyword, or a missing required one.
  void Parse(PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames,
             pybind11::handle* out) const;

  // FastSignature::Docstring()
  //
  // `doc` behind the signature line, in CPython's __text_signature__ form.
  std::string Docstring(const char* doc) const;

  const char* function() const { return function_; }

 private:
  const char* function_;
  std::vector<FastParam> params_;
  std::vector<PyObject*> names_;  // interned, never freed
  size_t max_positional_ = 0;
};

// FastFn
//
// The implementation of a fast method of `Self`: the C++ object, its Python
// object, and the parsed arguments in signature order (null handle: not
// given).
template <typename Self>
using FastFn = pybind11::object (*)(Self& self, pybind11::handle py_self,
                                    const pybind11::handle* args);

// FastMethod()
//
// The CPython entry point calling Fn with the arguments parsed by Sig().
template <typename Self, FastFn<Self> Fn, const FastSignature& (*Sig)()>
PyObject* FastMethod(PyObject* self, PyObject* const* args, Py_ssize_t nargs,
                     PyObject* kwnames) noexcept {
  try {
    pybind11::handle values[kMaxFastParams];
    Sig().Parse(args, nargs, kwnames, values);
    return Fn(pybind11::handle(self).cast<Self&>(), self, values).release().ptr();
  } catch (...) {
    RaiseCurrentException();
    return nullptr;
  }
}

// DefFast()
//
// Installs FastMethod<Self, Fn, Sig> as a method of `cls`, named after the
// signature, documented by `doc`.
template <typename Self, FastFn<Self> Fn, const FastSignature& (*Sig)(), typename Class>
void DefFast(Class& cls, const char* doc) {
  static const std::string text = Sig().Docstring(doc);
  static PyMethodDef def = {
      Sig().function(),
      reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(&FastMethod<Self, Fn, Sig>)),
      METH_FASTCALL | METH_KEYWORDS, text.c_str()};
  PyObject* descr = PyDescr_NewMethod(reinterpret_cast<PyTypeObject*>(cls.ptr()), &def);
  if (descr == nullptr) throw pybind11::error_already_set();
  cls.attr(def.ml_name) = pybind11::reinterpret_steal<pybind11::object>(descr);
}

// Given()
//
// Whether an optional argument was passed as something other than None.
inline bool Given(pybind11::handle arg) { return arg && !arg.is_none(); }

}  // namespace smg::python

#endif  // SMGCORE_BINDINGS_PYTHON_FAST_CALL_H_
