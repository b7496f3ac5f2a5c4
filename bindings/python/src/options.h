// File: bindings/python/src/options.h
//
// The option classes (Policy, PolicySet, CircuitBreakerOptions,
// HealthOptions, RetryOptions, FailureClassifier, RateLimit, TenantLimits)
// are the C++ option structs themselves, bound with keyword constructors
// whose defaults are read from a default-constructed struct, so Python and
// C++ defaults cannot drift apart. Each is validated when constructed and is
// read-only afterwards (a frozen value, like a frozen dataclass).
//
// Durations are float seconds in Python.
#ifndef SMGCORE_BINDINGS_PYTHON_OPTIONS_H_
#define SMGCORE_BINDINGS_PYTHON_OPTIONS_H_

#include <pybind11/pybind11.h>

#include "absl/strings/string_view.h"
#include "smgcore/policy_config.h"
#include "smgcore/router.h"

namespace smg::python {

// ToPolicyConfig()
//
// A policy from a name ("cache_aware", with default options) or a Policy.
PolicyConfig ToPolicyConfig(pybind11::handle policy, absl::string_view field);

// ToPolicySet()
//
// A model's policies from a name, a Policy or a PolicySet.
PolicySet ToPolicySet(pybind11::handle policies, absl::string_view field);

}  // namespace smg::python

#endif  // SMGCORE_BINDINGS_PYTHON_OPTIONS_H_
