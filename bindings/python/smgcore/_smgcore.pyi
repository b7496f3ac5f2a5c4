# Type stubs for smgcore._smgcore, the extension module behind `import smgcore`.
#
# Hand-written; tests/test_stub.py checks that every name, member, parameter
# (name, kind, literal default) and property here matches the compiled module,
# and the reverse.
#
# Conventions: durations are float seconds; an outcome ("status") is an HTTP
# status int (100-599), "transport_error" or "cancelled"; a worker may be
# named by its id, its URL or a Worker object.

import asyncio
from collections.abc import Callable, Iterable, Mapping
from typing import ClassVar, Literal, TypeAlias

__version__: str

_WorkerType: TypeAlias = Literal["regular", "prefill", "decode"]
_Health: TypeAlias = Literal["pending", "ready", "not_ready", "failed", "draining"]
_BreakerState: TypeAlias = Literal["closed", "open", "half_open"]
_Status: TypeAlias = int | Literal["transport_error", "cancelled"]
_WorkerRef: TypeAlias = int | str | Worker
_PolicyName: TypeAlias = Literal[
    "random",
    "round_robin",
    "power_of_two",
    "cache_aware",
    "consistent_hash",
    "consistent_hashing",
    "prefix_hash",
]
_Transition: TypeAlias = Callable[[Worker, str, str], object]

# --- Errors -------------------------------------------------------------------

class Error(Exception):
    """Base class of every smgcore error; the message is the C++ one."""

    code: ClassVar[str]

class InvalidArgument(Error, ValueError):
    """An argument or option is out of range or malformed."""

class NotFound(Error, LookupError):
    """No such worker, or no worker for the model."""

class AlreadyExists(Error):
    """A worker with that URL is already registered."""

class FailedPrecondition(Error):
    """The object's state does not allow the call (e.g. finishing twice)."""

class Unavailable(Error):
    """Workers exist but none can take the request now."""

class ResourceExhausted(Error):
    """A rate or concurrency limit denied the request (HTTP 429)."""

    retry_after: float | None
    """Seconds to wait before retrying; None when no wait would help."""
    reason: str | None
    """TenantLimiter denials: "rate_limited", "estimate_too_large", "too_many_tenants"."""
    scope: str | None
    """TenantLimiter denials: "tenant" or "global"."""
    dimension: str | None
    """TenantLimiter denials: "requests" or "tokens"."""

class DeadlineExceeded(Error, TimeoutError):
    """A queued admission timed out (HTTP 408)."""

class Cancelled(Error):
    """A queued admission was withdrawn (cancel_all(), or the limiter was destroyed)."""

# --- Time ---------------------------------------------------------------------

class ManualClock:
    """A clock that moves only when told to, for deterministic tests."""

    def __init__(self, start_nanos: int = 0) -> None: ...
    def advance(self, seconds: float) -> None:
        """Moves time forward by `seconds` (>= 0)."""
    def set_nanos(self, nanos: int) -> None:
        """Sets the time; earlier times are ignored (monotonic)."""
    @property
    def now_nanos(self) -> int: ...
    @property
    def now(self) -> float: ...

# --- Options ------------------------------------------------------------------

class Policy:
    """A policy kind and its options; None means the C++ default."""

    def __init__(
        self,
        kind: _PolicyName = "round_robin",
        *,
        cache_threshold: float | None = None,
        balance_abs_threshold: int | None = None,
        balance_rel_threshold: float | None = None,
        eviction_interval: float | None = None,
        max_tree_size: int | None = None,
        token_page_size: int | None = None,
        evict_inline: bool | None = None,
        evict_headroom: float | None = None,
        imbalance_locality_window: int | None = None,
        load_sample_size: int | None = None,
        use_engine_load: bool | None = None,
        virtual_nodes: int | None = None,
        key_header: str | None = None,
        use_implicit_keys: bool | None = None,
        load_factor: float | None = None,
        prefix_tokens: int | None = None,
        prefix_bytes: int | None = None,
    ) -> None: ...
    @property
    def kind(self) -> str: ...
    @property
    def options(self) -> dict[str, object]:
        """The options of this kind with their effective values."""
    def __eq__(self, other: object) -> bool: ...
    def __hash__(self) -> int: ...

class PolicySet:
    """A model's policies: `policy`, and in PD mode `prefill` and `decode`."""

    def __init__(
        self,
        policy: str | Policy = "round_robin",
        *,
        prefill: str | Policy | None = None,
        decode: str | Policy | None = None,
    ) -> None: ...
    @property
    def policy(self) -> Policy: ...
    @property
    def prefill(self) -> Policy | None: ...
    @property
    def decode(self) -> Policy | None: ...

class FailureClassifier:
    """Which outcomes count against a worker or are worth retrying."""

    def __init__(
        self, statuses: Iterable[int] | None = None, *, transport_errors_fail: bool = True
    ) -> None: ...
    def is_failure(self, status: _Status) -> bool: ...
    @property
    def statuses(self) -> list[int]: ...
    @property
    def transport_errors_fail(self) -> bool: ...
    def __eq__(self, other: object) -> bool: ...
    def __hash__(self) -> int: ...

class CircuitBreakerOptions:
    """Per-worker circuit breaker settings."""

    def __init__(
        self,
        *,
        enabled: bool = True,
        consecutive_failures: int = 10,
        failure_rate_threshold: float = 0.5,
        minimum_requests: int = 20,
        window: float = 120.0,
        window_buckets: int = 12,
        success_threshold: int = 3,
        half_open_max_probes: int = 3,
        open_duration: float = 60.0,
        max_open_duration: float = 300.0,
    ) -> None: ...
    @property
    def enabled(self) -> bool: ...
    @property
    def consecutive_failures(self) -> int: ...
    @property
    def failure_rate_threshold(self) -> float: ...
    @property
    def minimum_requests(self) -> int: ...
    @property
    def window(self) -> float: ...
    @property
    def window_buckets(self) -> int: ...
    @property
    def success_threshold(self) -> int: ...
    @property
    def half_open_max_probes(self) -> int: ...
    @property
    def open_duration(self) -> float: ...
    @property
    def max_open_duration(self) -> float: ...

class HealthOptions:
    """Health state machine thresholds, in consecutive probes."""

    def __init__(
        self,
        *,
        healthy_threshold: int = 2,
        unhealthy_threshold: int = 3,
        failed_threshold: int = 9,
        pending_failed_threshold: int = 30,
    ) -> None: ...
    @property
    def healthy_threshold(self) -> int: ...
    @property
    def unhealthy_threshold(self) -> int: ...
    @property
    def failed_threshold(self) -> int: ...
    @property
    def pending_failed_threshold(self) -> int: ...

class RetryOptions:
    """Retries: attempts, backoff, retryable outcomes, optional budget."""

    def __init__(
        self,
        *,
        max_attempts: int = 5,
        initial_backoff: float = 0.05,
        backoff_multiplier: float = 1.5,
        max_backoff: float = 30.0,
        jitter: float = 0.2,
        retryable: FailureClassifier | None = None,
        budget_percent: float | None = None,
        budget_min_concurrency: int = 3,
    ) -> None: ...
    @property
    def max_attempts(self) -> int: ...
    @property
    def initial_backoff(self) -> float: ...
    @property
    def backoff_multiplier(self) -> float: ...
    @property
    def max_backoff(self) -> float: ...
    @property
    def jitter(self) -> float: ...
    @property
    def retryable(self) -> FailureClassifier: ...
    @property
    def budget_percent(self) -> float | None: ...
    @property
    def budget_min_concurrency(self) -> int | None: ...

class RateLimit:
    """One scope's limits per minute; 0 means unlimited."""

    def __init__(self, *, requests_per_minute: int = 0, tokens_per_minute: int = 0) -> None: ...
    @property
    def requests_per_minute(self) -> int: ...
    @property
    def tokens_per_minute(self) -> int: ...
    def __eq__(self, other: object) -> bool: ...
    def __hash__(self) -> int: ...

class TenantLimits:
    """Per-tenant (default and overrides) and global limits."""

    def __init__(
        self,
        *,
        default_tenant: RateLimit = ...,
        tenants: Mapping[str, RateLimit] | None = None,
        global_limit: RateLimit = ...,
        max_tracked_tenants: int = 100000,
    ) -> None: ...
    @property
    def default_tenant(self) -> RateLimit: ...
    @property
    def tenants(self) -> dict[str, RateLimit]: ...
    @property
    def global_limit(self) -> RateLimit: ...
    @property
    def max_tracked_tenants(self) -> int: ...

# --- Routing ------------------------------------------------------------------

class Worker:
    """A registered worker as a live, read-only view."""

    @property
    def id(self) -> int: ...
    @property
    def url(self) -> str: ...
    @property
    def model(self) -> str: ...
    @property
    def type(self) -> _WorkerType: ...
    @property
    def bootstrap_port(self) -> int | None: ...
    @property
    def bootstrap_host(self) -> str: ...
    @property
    def labels(self) -> dict[str, str]: ...
    @property
    def weight(self) -> int: ...
    @property
    def health(self) -> _Health: ...
    @property
    def breaker_state(self) -> _BreakerState: ...
    @property
    def breaker_stats(self) -> dict[str, int | str]: ...
    @property
    def routable(self) -> bool: ...
    @property
    def removed(self) -> bool: ...
    @property
    def in_flight(self) -> int:
        """Its load: requests selected for it and not finished yet."""
    @property
    def leg_in_flight(self) -> int: ...
    @property
    def engine_load(self) -> float | None: ...
    @property
    def selections(self) -> int: ...
    @property
    def requests_served(self) -> int: ...
    @property
    def successes(self) -> int: ...
    @property
    def failures(self) -> int: ...
    @property
    def cancelled(self) -> int: ...
    @property
    def probes_passed(self) -> int: ...
    @property
    def probes_failed(self) -> int: ...
    def __eq__(self, other: object) -> bool: ...
    def __hash__(self) -> int: ...

class Decision:
    """The worker(s) chosen for one request; a context manager that finishes it."""

    @property
    def worker(self) -> Worker:
        """The chosen worker; in PD mode the prefill worker."""
    @property
    def is_pd(self) -> bool: ...
    @property
    def prefill(self) -> Worker | None: ...
    @property
    def decode(self) -> Worker | None: ...
    @property
    def bootstrap_host(self) -> str | None: ...
    @property
    def bootstrap_port(self) -> int | None: ...
    @property
    def bootstrap_room(self) -> int | None: ...
    @property
    def finished(self) -> bool: ...
    @property
    def status(self) -> _Status | None: ...
    @status.setter
    def status(self, value: _Status | None) -> None: ...
    @property
    def decode_status(self) -> _Status | None: ...
    @decode_status.setter
    def decode_status(self, value: _Status | None) -> None: ...
    @property
    def outcome(self) -> _Status | None: ...
    def finish(self, status: _Status | None = None, *, decode_status: _Status | None = None) -> None:
        """Ends the request; default status: the one set on the decision, else 200."""
    def settle_tokens(self, actual_tokens: int) -> None: ...
    def __enter__(self) -> Decision: ...
    def __exit__(self, exc_type: object, exc_value: object, traceback: object) -> bool: ...

class Router:
    """The worker registry and the policies that route requests to workers."""

    def __init__(
        self,
        policy: str | Policy = "round_robin",
        *,
        pd_mode: bool = False,
        prefill_policy: str | Policy | None = None,
        decode_policy: str | Policy | None = None,
        model_policies: Mapping[str, str | Policy | PolicySet] | None = None,
        default_model: str = "default",
        circuit_breaker: CircuitBreakerOptions | None = None,
        failure_classifier: FailureClassifier | None = None,
        health: HealthOptions | None = None,
        retry: RetryOptions | None = None,
        tenant_limits: TenantLimits | None = None,
        clock: ManualClock | None = None,
        seed: int | None = None,
        on_breaker_transition: _Transition | None = None,
        on_health_transition: _Transition | None = None,
    ) -> None: ...
    def add_worker(
        self,
        url: str,
        *,
        model: str | None = None,
        type: _WorkerType = "regular",
        bootstrap_port: int | None = None,
        labels: Mapping[str, str] | None = None,
        weight: int = 1,
        health: _Health = "ready",
        circuit_breaker: CircuitBreakerOptions | None = None,
        failure_classifier: FailureClassifier | None = None,
    ) -> Worker: ...
    def replace_worker(
        self,
        url: str,
        *,
        model: str | None = None,
        type: _WorkerType = "regular",
        bootstrap_port: int | None = None,
        labels: Mapping[str, str] | None = None,
        weight: int = 1,
        health: _Health = "ready",
        circuit_breaker: CircuitBreakerOptions | None = None,
        failure_classifier: FailureClassifier | None = None,
    ) -> Worker: ...
    def remove_worker(self, worker: _WorkerRef) -> None: ...
    def get_worker(self, worker: _WorkerRef) -> Worker: ...
    def list_workers(self, *, model: str | None = None, type: _WorkerType | None = None) -> list[Worker]: ...
    def list_models(self) -> list[str]: ...
    @property
    def worker_count(self) -> int: ...
    @property
    def pd_mode(self) -> bool: ...
    @property
    def default_model(self) -> str: ...
    def report_probe(self, worker: _WorkerRef, passed: bool) -> _Health: ...
    def set_health(self, worker: _WorkerRef, health: _Health) -> None: ...
    def drain_worker(self, worker: _WorkerRef) -> None: ...
    def reset_circuit_breaker(self, worker: _WorkerRef) -> None: ...
    def set_labels(self, worker: _WorkerRef, labels: Mapping[str, str]) -> None: ...
    def set_weight(self, worker: _WorkerRef, weight: int) -> None: ...
    def set_engine_load(self, worker: _WorkerRef, load: float | None) -> None: ...
    def select(
        self,
        /,
        *,
        text: str | bytes | None = None,
        tokens: Iterable[int] | None = None,
        model: str | None = None,
        routing_key: str | bytes | None = None,
        headers: Mapping[str | bytes, str | bytes] | Iterable[tuple[str | bytes, str | bytes]] | None = None,
        tenant: str | None = None,
        estimated_tokens: int = 0,
        exclude_workers: Iterable[int | Worker] | None = None,
    ) -> Decision:
        """Chooses the worker(s) for a request; the Decision counts it in flight until finished."""
    def run_maintenance(self) -> None: ...
    def evict_now(self) -> int: ...
    def model_stats(self, model: str) -> dict[str, object]: ...
    def export_metrics(self) -> str:
        """Every metric in Prometheus text format 0.0.4."""
    def track_admission(self, name: str, limiter: ConcurrencyLimiter | TokenBucket) -> None: ...

class RetryDecision:
    """What RetryState.finish() decided about the next attempt."""

    @property
    def retry(self) -> bool: ...
    @property
    def verdict(self) -> Literal["retry", "succeeded", "not_retryable", "attempts_exhausted", "budget_exhausted"]: ...
    @property
    def backoff(self) -> float: ...
    @property
    def attempts(self) -> int: ...

class RetryState:
    """One request through its attempts, excluding workers already tried."""

    def __init__(self, router: Router) -> None: ...
    def select(
        self,
        /,
        *,
        text: str | bytes | None = None,
        tokens: Iterable[int] | None = None,
        model: str | None = None,
        routing_key: str | bytes | None = None,
        headers: Mapping[str | bytes, str | bytes] | Iterable[tuple[str | bytes, str | bytes]] | None = None,
        tenant: str | None = None,
        estimated_tokens: int = 0,
        exclude_workers: Iterable[int | Worker] | None = None,
    ) -> Decision: ...
    def finish(self, decision: Decision, status: _Status | None = None) -> RetryDecision: ...
    @property
    def attempts(self) -> int: ...
    @property
    def tried_workers(self) -> list[int]: ...

# --- Admission ----------------------------------------------------------------

class TokenBucket:
    """A lock-free token bucket (GCRA)."""

    def __init__(
        self,
        capacity: int,
        refill_per_second: float,
        *,
        initial_tokens: int | None = None,
        clock: ManualClock | None = None,
    ) -> None: ...
    def try_acquire(self, n: int = 1) -> bool: ...
    def time_until_available(self, n: int = 1) -> float: ...
    @property
    def available(self) -> int: ...
    @property
    def token_cost(self) -> float: ...
    @property
    def capacity(self) -> int: ...
    @property
    def refill_per_second(self) -> float: ...

class Permit:
    """One admitted slot of a ConcurrencyLimiter, released exactly once."""

    def release(self) -> None: ...
    @property
    def released(self) -> bool: ...
    def __enter__(self) -> Permit: ...
    def __exit__(self, exc_type: object, exc_value: object, traceback: object) -> bool: ...

class ConcurrencyLimiter:
    """A cap on in-flight requests with a bounded FIFO queue and a queue timeout."""

    def __init__(
        self,
        max_in_flight: int,
        *,
        max_queue: int = 100,
        queue_timeout: float = 60.0,
        clock: ManualClock | None = None,
    ) -> None: ...
    def try_acquire(self) -> Permit | None: ...
    def acquire(self, timeout: float | None = None) -> Permit:
        """Blocks without the GIL until admitted; raises ResourceExhausted, DeadlineExceeded or Cancelled."""
    def acquire_async(self) -> asyncio.Future[Permit]:
        """Await inside a running event loop; raises like acquire()."""
    def expire_waiters(self) -> int: ...
    def time_until_next_deadline(self) -> float | None: ...
    def cancel_all(self) -> int: ...
    @property
    def retry_after_hint(self) -> float: ...
    @property
    def in_flight(self) -> int: ...
    @property
    def queue_depth(self) -> int: ...
    @property
    def max_in_flight(self) -> int: ...
    @property
    def max_queue(self) -> int: ...
    @property
    def queue_timeout(self) -> float: ...
    def stats(self) -> dict[str, int | float]: ...
    def _wait_for_queue_depth(self, depth: int, timeout: float) -> bool:
        """For tests: waits until `depth` requests are queued."""

class TenantReservation:
    """A granted tenant reservation, settled once with the actual tokens."""

    def settle(self, actual_tokens: int) -> None: ...
    @property
    def active(self) -> bool: ...
    @property
    def estimated_tokens(self) -> int: ...

class TenantLimiter:
    """Standalone per-tenant and global rate limits."""

    def __init__(self, limits: TenantLimits, *, clock: ManualClock | None = None) -> None: ...
    def reserve(self, tenant: str, estimated_tokens: int) -> TenantReservation: ...
    def limit_for(self, tenant: str) -> RateLimit: ...
    def evict_idle_tenants(self) -> int: ...
    def stats(self) -> dict[str, int]: ...
    @property
    def limits(self) -> TenantLimits: ...
