// File: bindings/python/src/callbacks.h
//
// Python code called from C++ (router transition callbacks, limiter
// completions). The core calls these on whatever thread caused the event,
// possibly one that released the GIL, and must never see an exception
// unwind into it: callers take the GIL and run the Python part inside
// CallPythonNoThrow(), which reports any exception through
// sys.unraisablehook (as Python does for exceptions in __del__) and
// swallows it.
#ifndef SMGCORE_BINDINGS_PYTHON_CALLBACKS_H_
#define SMGCORE_BINDINGS_PYTHON_CALLBACKS_H_

#include <Python.h>
#include <pybind11/pybind11.h>

#include <exception>
#include <utility>

namespace smg::python {

// PyObjectRef
//
// A Python object held by C++ state (a std::function in RouterOptions, a
// limiter's queued callback) that may be destroyed on a thread without the
// GIL: the destructor takes the GIL to drop the reference. Copy it by
// shared_ptr, never by value, so that copies never touch the refcount.
class PyObjectRef {
 public:
  explicit PyObjectRef(pybind11::object obj) : obj_(std::move(obj)) {}
  ~PyObjectRef() {
    // After interpreter shutdown there is no GIL to take: leak instead.
    if (!Py_IsInitialized()) {
      obj_.release();
      return;
    }
    pybind11::gil_scoped_acquire gil;
    obj_ = pybind11::object();
  }
  PyObjectRef(const PyObjectRef&) = delete;
  PyObjectRef& operator=(const PyObjectRef&) = delete;

  // PyObjectRef::get()
  //
  // Requires the GIL.
  const pybind11::object& get() const { return obj_; }

 private:
  pybind11::object obj_;
};

// WriteUnraisable()
//
// Reports the pending Python error through sys.unraisablehook, naming
// `where`, and clears it.
inline void WriteUnraisable(const char* where) noexcept {
  PyObject* type = nullptr;
  PyObject* value = nullptr;
  PyObject* traceback = nullptr;
  PyErr_Fetch(&type, &value, &traceback);
  PyObject* context = PyUnicode_FromString(where);
  PyErr_Restore(type, value, traceback);
  PyErr_WriteUnraisable(context);
  Py_XDECREF(context);
}

// CallPythonNoThrow()
//
// Runs `f` (which touches Python; the GIL must be held) and reports, rather
// than propagates, whatever it throws. `where` names the callback in the
// report.
template <typename F>
void CallPythonNoThrow(const char* where, F&& f) noexcept {
  try {
    std::forward<F>(f)();
  } catch (pybind11::error_already_set& e) {
    e.restore();
    WriteUnraisable(where);
  } catch (const std::exception& e) {
    PyErr_SetString(PyExc_RuntimeError, e.what());
    WriteUnraisable(where);
  } catch (...) {
    PyErr_SetString(PyExc_RuntimeError, "unknown C++ exception");
    WriteUnraisable(where);
  }
}

}  // namespace smg::python

#endif  // SMGCORE_BINDINGS_PYTHON_CALLBACKS_H_
