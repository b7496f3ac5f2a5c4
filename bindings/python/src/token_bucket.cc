// TokenBucket: a lock-free request-rate limit (smgcore/token_bucket.h).
// No call blocks, so none releases the GIL.
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "admission.h"
#include "convert.h"
#include "errors.h"
#include "module.h"
#include "smgcore/token_bucket.h"

namespace py = pybind11;

namespace smg::python {

void RegisterTokenBucket(py::module_& m) {
  py::class_<TokenBucket, std::shared_ptr<TokenBucket>>(
      m, "TokenBucket",
      "Up to `capacity` tokens refilled continuously at `refill_per_second` (GCRA, one "
      "atomic). try_acquire() never blocks; after a refusal, time_until_available() is a "
      "Retry-After. Thread-safe.")
      .def(py::init([](const py::int_& capacity, double refill_per_second,
                       const std::optional<py::int_>& initial_tokens,
                       std::shared_ptr<ManualClock> clock) {
             TokenBucketOptions o;
             o.capacity = CheckedInt<uint64_t>(capacity, "capacity");
             o.refill_per_second = refill_per_second;
             if (initial_tokens) {
               o.initial_tokens = CheckedInt<uint64_t>(*initial_tokens, "initial_tokens");
             }
             const Clock* const raw_clock = clock.get();
             return OwningClock(ValueOrThrow(TokenBucket::Create(o, raw_clock)), std::move(clock));
           }),
           py::arg("capacity"), py::arg("refill_per_second"), py::kw_only(),
           py::arg("initial_tokens") = py::none(), py::arg("clock") = py::none(),
           "`initial_tokens` None means full; `clock` None means the steady clock.")
      .def(
          "try_acquire",
          [](TokenBucket& b, const py::int_& n) {
            return b.TryAcquire(CheckedInt<uint64_t>(n, "n"));
          },
          py::arg("n") = 1,
          "Takes `n` tokens if available now, all or nothing. True for n == 0, always False "
          "for n > capacity.")
      .def(
          "time_until_available",
          [](const TokenBucket& b, const py::int_& n) {
            return ToSeconds(b.TimeUntilAvailable(CheckedInt<uint64_t>(n, "n")));
          },
          py::arg("n") = 1,
          "Seconds until `n` tokens are available if nobody else takes any: 0 when they are "
          "now, inf when n > capacity.")
      .def_property_readonly("available", &TokenBucket::available, "Whole tokens available now.")
      .def_property_readonly(
          "token_cost", [](const TokenBucket& b) { return ToSeconds(b.token_cost()); },
          "Seconds of refill per token.")
      .def_property_readonly("capacity",
                             [](const TokenBucket& b) { return b.options().capacity; })
      .def_property_readonly("refill_per_second",
                             [](const TokenBucket& b) { return b.options().refill_per_second; })
      .def("__repr__", [](const TokenBucket& b) {
        return absl::StrCat("TokenBucket(capacity=", b.options().capacity,
                            ", refill_per_second=", FloatRepr(b.options().refill_per_second),
                            ", available=", b.available(), ")");
      });
}

}  // namespace smg::python
