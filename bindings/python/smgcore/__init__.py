"""smgcore: the routing core of an LLM inference gateway, in-process.

A pybind11 binding of smgcore's C++ API: a worker registry with
cache-aware, hashing and load-based policies, prefill-decode pairing,
circuit breakers, health tracking, retries and admission control.

    import smgcore

    router = smgcore.Router("cache_aware")
    router.add_worker("http://10.0.0.1:30000")
    with router.select(text=prompt) as decision:
        response = forward(decision.worker.url, request)
        decision.status = response.status_code

Everything is implemented by the private extension module
``smgcore._smgcore``; this package re-exports it. Its signatures and
documentation are in ``_smgcore.pyi``.
"""

from ._smgcore import (
    AlreadyExists,
    Cancelled,
    CircuitBreakerOptions,
    ConcurrencyLimiter,
    DeadlineExceeded,
    Decision,
    Error,
    FailedPrecondition,
    FailureClassifier,
    HealthOptions,
    InvalidArgument,
    ManualClock,
    NotFound,
    Permit,
    Policy,
    PolicySet,
    RateLimit,
    ResourceExhausted,
    RetryDecision,
    RetryOptions,
    RetryState,
    Router,
    TenantLimiter,
    TenantLimits,
    TenantReservation,
    TokenBucket,
    Unavailable,
    Worker,
    __version__,
)

__all__ = [
    "AlreadyExists",
    "Cancelled",
    "CircuitBreakerOptions",
    "ConcurrencyLimiter",
    "DeadlineExceeded",
    "Decision",
    "Error",
    "FailedPrecondition",
    "FailureClassifier",
    "HealthOptions",
    "InvalidArgument",
    "ManualClock",
    "NotFound",
    "Permit",
    "Policy",
    "PolicySet",
    "RateLimit",
    "ResourceExhausted",
    "RetryDecision",
    "RetryOptions",
    "RetryState",
    "Router",
    "TenantLimiter",
    "TenantLimits",
    "TenantReservation",
    "TokenBucket",
    "Unavailable",
    "Worker",
    "__version__",
]
