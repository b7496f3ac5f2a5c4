// File: bindings/python/src/module.h
//
// The parts of the extension module smgcore._smgcore, one registration
// function per area, each defined in its own file. PYBIND11_MODULE
// (module.cc) calls them in dependency order: a class is registered before
// any signature that mentions it is generated, so docstrings name Python
// types rather than C++ ones.
#ifndef SMGCORE_BINDINGS_PYTHON_MODULE_H_
#define SMGCORE_BINDINGS_PYTHON_MODULE_H_

#include <pybind11/pybind11.h>

namespace smg::python {

// ManualClock (clock.cc).
void RegisterClock(pybind11::module_& m);
// Policy, PolicySet (policy_options.cc).
void RegisterPolicyOptions(pybind11::module_& m);
// FailureClassifier, CircuitBreakerOptions, HealthOptions, RetryOptions
// (resilience_options.cc).
void RegisterResilienceOptions(pybind11::module_& m);
// RateLimit, TenantLimits (tenant_options.cc).
void RegisterTenantOptions(pybind11::module_& m);
// Worker (worker.cc).
void RegisterWorker(pybind11::module_& m);
// Decision (decision.cc).
void RegisterDecision(pybind11::module_& m);
// Router (router.cc).
void RegisterRouter(pybind11::module_& m);
// RetryState, RetryDecision (retry.cc).
void RegisterRetry(pybind11::module_& m);
// TokenBucket (token_bucket.cc).
void RegisterTokenBucket(pybind11::module_& m);
// ConcurrencyLimiter, Permit (concurrency_limiter.cc, limiter_async.cc).
void RegisterConcurrencyLimiter(pybind11::module_& m);
// TenantLimiter, TenantReservation (tenant_limiter.cc).
void RegisterTenantLimiter(pybind11::module_& m);

}  // namespace smg::python

#endif  // SMGCORE_BINDINGS_PYTHON_MODULE_H_
