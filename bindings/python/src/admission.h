// File: bindings/python/src/admission.h
//
// The admission objects as the bindings hold them. Each C++ object is owned
// by a shared_ptr whose deleter also owns the injected ManualClock, so the
// clock lives exactly as long as the object that reads it (permits, metrics
// and reservations may keep the object alive after Python drops it).
#ifndef SMGCORE_BINDINGS_PYTHON_ADMISSION_H_
#define SMGCORE_BINDINGS_PYTHON_ADMISSION_H_

#include <pybind11/pybind11.h>

#include <memory>
#include <utility>

#include "smgcore/clock.h"
#include "smgcore/concurrency_limiter.h"

namespace smg::python {

// OwningClock()
//
// `object` (created with `clock`, or the steady clock when null) as a
// shared_ptr that keeps `clock` alive until the object is destroyed. Take
// `clock.get()` for the object's creation into a variable first: argument
// evaluation order is unspecified, and `clock` may be moved from before.
template <typename T>
std::shared_ptr<T> OwningClock(std::unique_ptr<T> object, std::shared_ptr<ManualClock> clock) {
  return std::shared_ptr<T>(object.release(), [clock = std::move(clock)](T* p) { delete p; });
}

// PyConcurrencyLimiter
//
// The Python ConcurrencyLimiter.
struct PyConcurrencyLimiter {
  std::shared_ptr<ConcurrencyLimiter> limiter;
  // With a ManualClock deadlines do not follow real time: acquire_async()
  // arms no loop timer and the host calls expire_waiters() itself.
  bool manual_clock = false;
};

// AcquireAsync()
//
// limiter.acquire_async(): an asyncio future (limiter_async.cc).
pybind11::object AcquireAsync(const PyConcurrencyLimiter& limiter);

// MakePermit()
//
// A Permit holding one admitted slot of `limiter` (concurrency_limiter.cc).
pybind11::object MakePermit(std::shared_ptr<ConcurrencyLimiter> limiter);

// AdmissionError()
//
// The error for a non-admitted result: ResourceExhausted (queue full, with
// the limiter's Retry-After hint), DeadlineExceeded or Cancelled.
absl::Status AdmissionError(AdmissionResult result, const ConcurrencyLimiter& limiter);

}  // namespace smg::python

#endif  // SMGCORE_BINDINGS_PYTHON_ADMISSION_H_
