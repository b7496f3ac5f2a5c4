// ConcurrencyLimiter.acquire_async(): ConcurrencyLimiter::AcquireAsync()
// bridged to an asyncio future.
//
// The core resolves a queued request on whichever thread releases a slot,
// expires waiters or cancels, possibly not the loop's. The completion
// callback therefore takes the GIL and hands the result to the future's loop
// with loop.call_soon_threadsafe(); the loop thread resolves the future.
// Results known at once (a free slot, a full queue) resolve it directly.
//
// Races handled here:
//  - the awaiting task is cancelled while queued: the future's done-callback
//    withdraws the waiter (Cancel()); if the slot was granted meanwhile, the
//    resolution finds the future done and releases the slot;
//  - the loop is closed before a result arrives: a granted slot is released;
//  - the limiter is destroyed: its destructor cancels the waiter.
// Deadlines: with the steady clock a loop timer calls ExpireWaiters() at the
// waiter's deadline (re-armed if the loop's clock runs slightly ahead); with
// a ManualClock time does not pass by itself and the host calls
// expire_waiters().
//
// Every piece of state is reached through a shared AsyncWaiter holding only
// weak references to the limiter, so a queued callback never keeps its own
// limiter alive.
#include <memory>
#include <optional>
#include <utility>

#include "admission.h"
#include "callbacks.h"
#include "convert.h"
#include "errors.h"

namespace py = pybind11;

namespace smg::python {
namespace {

// One acquire_async() call. Python members are touched only with the GIL;
// PyObjectRef lets the last reference drop on any thread.
struct AsyncWaiter {
  std::shared_ptr<PyObjectRef> loop;
  std::shared_ptr<PyObjectRef> future;
  std::weak_ptr<ConcurrencyLimiter> limiter;
  ConcurrencyLimiter::WaiterId id = ConcurrencyLimiter::kNoWaiter;
  // True while AcquireAsync() runs: a callback then is an immediate result.
  bool in_acquire = true;
  std::optional<AdmissionResult> immediate;
  // Set once the core delivered the result (GIL held when read or written).
  bool resolved = false;
  // The pending deadline timer (an asyncio.TimerHandle) or None.
  py::object timer;

  ~AsyncWaiter() {
    if (!Py_IsInitialized()) {
      timer.release();
      return;
    }
    py::gil_scoped_acquire gil;
    timer = py::object();
  }
};

void CancelTimer(AsyncWaiter& w) {
  if (w.timer && !w.timer.is_none()) w.timer.attr("cancel")();
  w.timer = py::none();
}

// Resolves the future on its loop's thread. `slot` holds the limiter when
// the result is kAdmitted (so the slot can become a Permit or be released).
void Resolve(const std::shared_ptr<AsyncWaiter>& w, AdmissionResult r,
             const std::shared_ptr<ConcurrencyLimiter>& slot) {
  CancelTimer(*w);
  const py::object& future = w->future->get();
  if (future.attr("done")().cast<bool>()) {
    // Cancelled while the grant was in flight: give the slot back.
    if (r == AdmissionResult::kAdmitted && slot) slot->Release();
    return;
  }
  if (r == AdmissionResult::kAdmitted) {
    future.attr("set_result")(MakePermit(slot));
    return;
  }
  const std::shared_ptr<ConcurrencyLimiter> limiter = w->limiter.lock();
  const absl::Status error = limiter ? AdmissionError(r, *limiter)
                                     : absl::CancelledError("the limiter was destroyed");
  future.attr("set_exception")(ErrorObject(StatusError(error)));
}

// The core's completion callback.
void OnResult(const std::shared_ptr<AsyncWaiter>& w, AdmissionResult r) {
  py::gil_scoped_acquire gil;
  if (w->in_acquire) {
    w->immediate = r;  // acquire_async() resolves the future itself
    return;
  }
  w->resolved = true;
  std::shared_ptr<ConcurrencyLimiter> slot;
  if (r == AdmissionResult::kAdmitted) slot = w->limiter.lock();
  CallPythonNoThrow("smgcore.ConcurrencyLimiter.acquire_async", [&] {
    try {
      w->loop->get().attr("call_soon_threadsafe")(
          py::cpp_function([w, r, slot] { Resolve(w, r, slot); }));
    } catch (py::error_already_set&) {
      // The loop is closed: nobody will await the slot.
      if (slot) slot->Release();
      throw;
    }
  });
}

// Arms the deadline timer on the loop (steady clock only).
void ArmTimer(const std::shared_ptr<AsyncWaiter>& w) {
  const std::shared_ptr<ConcurrencyLimiter> limiter = w->limiter.lock();
  if (!limiter || w->resolved) return;
  const std::optional<absl::Duration> left = limiter->TimeUntilNextDeadline();
  if (!left) return;
  // A millisecond late rather than early: the loop's clock and the
  // limiter's need not agree to the nanosecond.
  const double delay = ToSeconds(*left) + 1e-3;
  w->timer = w->loop->get().attr("call_later")(delay, py::cpp_function([w] {
    w->timer = py::none();
    if (const std::shared_ptr<ConcurrencyLimiter> l = w->limiter.lock()) l->ExpireWaiters();
    ArmTimer(w);  // our deadline not reached yet (another waiter's was)
  }));
}

}  // namespace

py::object AcquireAsync(const PyConcurrencyLimiter& l) {
  py::object loop = py::module_::import("asyncio").attr("get_running_loop")();
  auto w = std::make_shared<AsyncWaiter>();
  w->loop = std::make_shared<PyObjectRef>(loop);
  w->future = std::make_shared<PyObjectRef>(loop.attr("create_future")());
  w->limiter = l.limiter;
  w->timer = py::none();
  w->id = l.limiter->AcquireAsync([w](AdmissionResult r) { OnResult(w, r); });
  w->in_acquire = false;
  const py::object& future = w->future->get();

  if (w->immediate) {
    if (*w->immediate == AdmissionResult::kAdmitted) {
      future.attr("set_result")(MakePermit(l.limiter));
    } else {
      future.attr("set_exception")(
          ErrorObject(StatusError(AdmissionError(*w->immediate, *l.limiter))));
    }
    return future;
  }

  // Queued. Withdraw the waiter if the awaiting task gives up.
  future.attr("add_done_callback")(py::cpp_function([w](const py::object& f) {
    if (!f.attr("cancelled")().cast<bool>()) return;
    CancelTimer(*w);
    if (const std::shared_ptr<ConcurrencyLimiter> limiter = w->limiter.lock()) {
      limiter->Cancel(w->id);
    }
  }));
  if (!l.manual_clock) ArmTimer(w);
  return future;
}

}  // namespace smg::python
