#include "fast_call.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"

namespace py = pybind11;

namespace smg::python {

FastSignature::FastSignature(const char* function, std::vector<FastParam> params)
    : function_(function), params_(std::move(params)) {
  if (params_.size() > kMaxFastParams) throw std::logic_error("too many fast-method parameters");
  for (const FastParam& p : params_) {
    PyObject* name = PyUnicode_InternFromString(p.name);
    if (name == nullptr) throw py::error_already_set();
    names_.push_back(name);
    if (p.kind != FastParam::Kind::kKeywordOnly) ++max_positional_;
  }
}

void FastSignature::Parse(PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames,
                          py::handle* out) const {
  if (nargs > 0 && max_positional_ == 0) {
    throw py::type_error(absl::StrCat(function_, "() takes keyword arguments only (", nargs,
                                      " positional given)"));
  }
  if (static_cast<size_t>(nargs) > max_positional_) {
    throw py::type_error(absl::StrCat(function_, "() takes at most ", max_positional_,
                                      " positional argument", max_positional_ == 1 ? "" : "s",
                                      " (", nargs, " given)"));
  }
  for (Py_ssize_t i = 0; i < nargs; ++i) out[i] = args[i];
  const Py_ssize_t nkw = kwnames != nullptr ? PyTuple_GET_SIZE(kwnames) : 0;
  for (Py_ssize_t i = 0; i < nkw; ++i) {
    PyObject* key = PyTuple_GET_ITEM(kwnames, i);
    size_t j = 0;
    while (j < names_.size() && key != names_[j]) ++j;
    if (j == names_.size()) {  // not interned: compare the text
      j = 0;
      while (j < names_.size() && PyUnicode_Compare(key, names_[j]) != 0) ++j;
      if (PyErr_Occurred()) throw py::error_already_set();
    }
    if (j == names_.size() || params_[j].kind == FastParam::Kind::kPositionalOnly) {
      throw py::type_error(absl::StrCat(function_, "() got an unexpected keyword argument '",
                                        py::str(key).cast<std::string>(), "'"));
    }
    if (out[j]) {
      throw py::type_error(absl::StrCat(function_, "() got multiple values for argument '",
                                        params_[j].name, "'"));
    }
    out[j] = args[nargs + i];
  }
  for (size_t j = 0; j < params_.size(); ++j) {
    if (!out[j] && params_[j].default_text == nullptr) {
      throw py::type_error(absl::StrCat(function_, "() missing required argument '",
                                        params_[j].name, "'"));
    }
  }
}

std::string FastSignature::Docstring(const char* doc) const {
  std::string text = absl::StrCat(function_, "($self");
  bool slash_done = false;
  bool star_done = false;
  for (const FastParam& p : params_) {
    if (p.kind != FastParam::Kind::kPositionalOnly && !slash_done) {
      absl::StrAppend(&text, ", /");
      slash_done = true;
    }
    if (p.kind == FastParam::Kind::kKeywordOnly && !star_done) {
      absl::StrAppend(&text, ", *");
      star_done = true;
    }
    absl::StrAppend(&text, ", ", p.name);
    if (p.default_text != nullptr) absl::StrAppend(&text, "=", p.default_text);
  }
  if (!slash_done) absl::StrAppend(&text, ", /");
  absl::StrAppend(&text, ")\n--\n\n", doc);
  return text;
}

}  // namespace smg::python
