// ManualClock: the injected clock of deterministic tests (smgcore/clock.h).
//
// Held by shared_ptr: every object it is injected into (router, limiters,
// buckets) keeps a reference, so Python may drop its own at any time.
#include <cstdint>
#include <limits>
#include <memory>

#include "absl/strings/str_cat.h"
#include "convert.h"
#include "errors.h"
#include "module.h"
#include "smgcore/clock.h"

namespace py = pybind11;

namespace smg::python {

void RegisterClock(py::module_& m) {
  py::class_<ManualClock, std::shared_ptr<ManualClock>>(
      m, "ManualClock",
      "A clock that moves only when told to. Inject it (clock=...) into a Router, "
      "TokenBucket, ConcurrencyLimiter or TenantLimiter to drive breakers, buckets and "
      "queue timeouts without sleeping. Thread-safe.")
      .def(py::init([](const py::int_& start_nanos) {
             return std::make_shared<ManualClock>(
                 CheckedInt<int64_t>(start_nanos, "start_nanos", 0));
           }),
           py::arg("start_nanos") = 0, "Starts at `start_nanos` (>= 0).")
      .def(
          "advance",
          [](ManualClock& clock, double seconds) {
            const absl::Duration d = Seconds(seconds, "seconds");
            // The core's clock is int64 nanoseconds: refuse a step that would
            // wrap it rather than let time run backwards.
            const int64_t headroom = std::numeric_limits<int64_t>::max() - clock.NowNanos();
            if (d == absl::InfiniteDuration() || absl::ToInt64Nanoseconds(d) > headroom) {
              ThrowInvalidArgument(
                  absl::StrCat("advance(", seconds, "): the clock would pass 2^63 ns"));
            }
            clock.Advance(d);
          },
          py::arg("seconds"), "Moves time forward by `seconds` (>= 0, float).")
      .def(
          "set_nanos",
          [](ManualClock& clock, const py::int_& nanos) {
            clock.Set(CheckedInt<int64_t>(nanos, "nanos", 0));
          },
          py::arg("nanos"),
          "Sets the time in nanoseconds; a time before the current one is ignored "
          "(the clock is monotonic).")
      .def_property_readonly("now_nanos", &ManualClock::NowNanos, "The time in nanoseconds.")
      .def_property_readonly(
          "now", [](const ManualClock& clock) { return static_cast<double>(clock.NowNanos()) / 1e9; },
          "The time in seconds (float).")
      .def("__repr__", [](const ManualClock& clock) {
        return absl::StrCat("ManualClock(now_nanos=", clock.NowNanos(), ")");
      });
}

}  // namespace smg::python
