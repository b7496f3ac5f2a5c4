/* File: smgcore/smgcore_c.h
 * -----------------------------------------------------------------------------
 *
 * smgcore's stable C ABI: the routing core of an LLM gateway for C, Rust, Go
 * and any other language with a C FFI. It wraps the C++ library (namespace
 * smg, include/smgcore/) and adds nothing to its behaviour; the C++ headers
 * document each concept in depth and are named below.
 *
 *   smg_router_options_t* opts = NULL;
 *   smg_router_options_create(&opts);
 *   smg_policy_config_t* cache_aware = NULL;
 *   smg_policy_config_create(SMG_POLICY_CACHE_AWARE, &cache_aware, NULL);
 *   smg_router_options_set_policy(opts, NULL, 0, SMG_WORKER_REGULAR, cache_aware, NULL);
 *   smg_router_t* router = NULL;
 *   smg_router_create(opts, &router, NULL);
 *
 *   smg_worker_spec_t spec;
 *   smg_worker_spec_init(&spec);
 *   spec.url = smg_cstr("http://10.0.0.1:30000");
 *   uint32_t id = 0;
 *   smg_router_add_worker(router, &spec, &id, NULL);
 *
 *   smg_request_t req;
 *   smg_request_init(&req);
 *   req.text.data = prompt; req.text.len = prompt_len;
 *   smg_ticket_t ticket = SMG_TICKET_INIT;
 *   smg_selection_t chosen;
 *   if (smg_router_select(router, &req, &ticket, &chosen, NULL) == SMG_OK) {
 *     forward(chosen.url.data, chosen.url.len, ...);
 *     smg_ticket_finish(&ticket, 200, NULL);
 *   }
 *
 * Conventions (every function follows them; the per-function comments only
 * add what is specific):
 *
 *  1. Names. Every symbol starts with `smg_`, every macro with `SMG_`.
 *     Objects are opaque handles `smg_<object>_t*` made by
 *     `smg_<object>_create()` and freed by `smg_<object>_destroy()`;
 *     destroy(NULL) is a no-op.
 *
 *  2. Errors travel with the call. Functions that can fail return an
 *     `smg_code_t`: SMG_OK (0) or one of the SMG_ERR_* values below, whose
 *     numbers never change. Calls that can fail in ways worth explaining also
 *     take a trailing `smg_error_t** err`: when it is non-NULL and the call
 *     fails, `*err` receives an owned error object (code + message) that the
 *     caller frees with smg_error_destroy(); on success `*err` is left
 *     untouched. Pass NULL to get the code alone (nothing is then allocated).
 *     There is no thread-local "last error". Output parameters are written
 *     only on success unless said otherwise.
 *
 *  3. No C++ exception crosses this boundary; an unexpected one becomes
 *     SMG_ERR_INTERNAL.
 *
 *  4. Bad input never crashes and never loses state: NULL handles or
 *     pointers, a handle that was destroyed (even if another object was
 *     created since), values outside an enum, absurd lengths and invalid
 *     UTF-8 get an error code. Handles are checked against a registry, so a
 *     destroyed handle is recognized as long as fewer than 4096 other handles
 *     were destroyed after it (its slot is quarantined that long), and a
 *     handle of the wrong kind is rejected. What cannot be checked: pointers
 *     to memory that is not what the type says (a wild pointer, a buffer
 *     shorter than its length), and calling destroy concurrently with another
 *     call on the same handle.
 *
 *  5. Strings are `smg_str_t` (or pointer + length parameters): never assumed
 *     NUL-terminated, never assumed valid UTF-8 (prompts are bytes; URLs,
 *     model names and labels are compared byte-wise). `data` may be NULL only
 *     when `len` is 0. Lengths above SMG_MAX_INPUT_BYTES (and token arrays
 *     above SMG_MAX_INPUT_TOKENS) are SMG_ERR_INVALID_ARGUMENT.
 *
 *  6. Ownership, stated per pointer:
 *     - borrowed for the call: the library reads it during the call only
 *       (every input unless said otherwise);
 *     - borrowed until an event: an output pointing into library memory,
 *       valid until the named event (e.g. "until the ticket is finished");
 *     - owned: the caller frees it with the named function (smg_free() for
 *       plain buffers; never the caller's own free(), which may belong to
 *       another C runtime).
 *
 *  7. Thread safety: routers, token buckets, limiters, tenant limiters and
 *     manual clocks may be used from any number of threads concurrently.
 *     Option builders, worker lists, retry states, tickets and reservations
 *     are used by one thread at a time (they may move between threads with
 *     the host's own synchronization). Every handle's destroy must be the
 *     last call on it, with no call on it running concurrently.
 *
 *  8. The hot path (smg_router_select, smg_ticket_finish) allocates nothing
 *     the caller must free: the ticket lives in caller storage
 *     (smg_ticket_t) and the selection's strings are borrowed. Only a failure
 *     with a non-NULL `err` allocates (the error object).
 *
 *  9. Compatibility: SMG_ABI_VERSION changes whenever a struct layout,
 *     function signature or constant value changes; within one ABI version
 *     releases only add functions and constants. The shared library's SONAME
 *     is libsmgcore_c.so.<SMG_ABI_VERSION>. Compare smg_abi_version() with
 *     SMG_ABI_VERSION at startup.
 *
 *  10. Durations are int64_t nanoseconds; SMG_DURATION_INFINITE (INT64_MAX)
 *     means "never"/"infinite". Booleans are uint8_t (0 false, else true).
 */
#ifndef SMGCORE_SMGCORE_C_H_
#define SMGCORE_SMGCORE_C_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* SMG_API marks exported functions: default visibility when building the
 * library (everything else is hidden), nothing for consumers. */
#if defined(SMGCORE_C_BUILDING) && (defined(__GNUC__) || defined(__clang__))
#define SMG_API __attribute__((visibility("default")))
#else
#define SMG_API
#endif

/* ---------------------------------------------------------------------------
 * Versions
 * ------------------------------------------------------------------------- */

/* SMG_ABI_VERSION: the C ABI version this header describes. */
#define SMG_ABI_VERSION 1
/* SMG_VERSION_*: the library release this header ships with. */
#define SMG_VERSION_MAJOR 0
#define SMG_VERSION_MINOR 1
#define SMG_VERSION_PATCH 0
/* SMG_VERSION_NUMBER: major * 10000 + minor * 100 + patch. */
#define SMG_VERSION_NUMBER (SMG_VERSION_MAJOR * 10000 + SMG_VERSION_MINOR * 100 + SMG_VERSION_PATCH)

/* smg_abi_version(): the ABI version of the linked library. */
SMG_API uint32_t smg_abi_version(void);
/* smg_version_number(): the linked library's SMG_VERSION_NUMBER. */
SMG_API uint32_t smg_version_number(void);
/* smg_version_string(): "major.minor.patch", static, NUL-terminated. */
SMG_API const char* smg_version_string(void);

/* ---------------------------------------------------------------------------
 * Basic types
 * ------------------------------------------------------------------------- */

/* smg_str_t: a byte string as pointer + length (see convention 5). */
typedef struct smg_str {
  const char* data;
  size_t len;
} smg_str_t;

/* smg_cstr(): a view of a NUL-terminated C string (NULL gives an empty view).
 * Borrowed: the view is valid as long as `s` is. */
SMG_API smg_str_t smg_cstr(const char* s);

/* SMG_MAX_INPUT_BYTES: the longest string any call accepts (1 GiB). */
#define SMG_MAX_INPUT_BYTES ((size_t)1 << 30)
/* SMG_MAX_INPUT_TOKENS: the longest token-id array any call accepts. */
#define SMG_MAX_INPUT_TOKENS ((size_t)1 << 28)
/* SMG_MAX_LIST_LENGTH: the most headers, labels, statuses or excluded
 * workers one call accepts. */
#define SMG_MAX_LIST_LENGTH ((size_t)1 << 16)

/* SMG_DURATION_INFINITE: an infinite duration (INT64_MAX ns). */
#define SMG_DURATION_INFINITE INT64_MAX

/* ---------------------------------------------------------------------------
 * Status codes and errors
 * ------------------------------------------------------------------------- */

/* smg_code_t: a call's result. The values are stable. */
typedef int32_t smg_code_t;
/* Success. */
#define SMG_OK 0
/* An argument is out of range: a NULL pointer where one is required, an
 * enum value outside its constants, a bad option, an absurd length. */
#define SMG_ERR_INVALID_ARGUMENT 1
/* A handle is NULL, was destroyed, or is of another kind. */
#define SMG_ERR_INVALID_HANDLE 2
/* An unknown worker id or URL, or a model without workers. */
#define SMG_ERR_NOT_FOUND 3
/* A worker with this URL is already registered. */
#define SMG_ERR_ALREADY_EXISTS 4
/* The model has workers but none can take the request now (not ready,
 * draining, circuit breaker open); the message says which and why. */
#define SMG_ERR_UNAVAILABLE 5
/* A limit denied the request (tenant limits); the error object carries a
 * Retry-After hint (smg_error_retry_after_ns()). */
#define SMG_ERR_RESOURCE_EXHAUSTED 6
/* The object is not in a state that allows the call: finishing a ticket
 * twice, settling twice, a retry state asked to select out of turn. */
#define SMG_ERR_FAILED_PRECONDITION 7
/* A bug in smgcore (an unexpected C++ exception, an impossible state). */
#define SMG_ERR_INTERNAL 8

/* smg_code_name(): "SMG_OK", "SMG_ERR_INVALID_ARGUMENT", ... for the codes
 * above, "SMG_ERR_UNKNOWN" for any other value. Static, NUL-terminated. */
SMG_API const char* smg_code_name(smg_code_t code);

/* smg_error_t: an owned error (code + message). */
typedef struct smg_error smg_error_t;

/* smg_error_code(): the error's code; SMG_ERR_INVALID_HANDLE for NULL. */
SMG_API smg_code_t smg_error_code(const smg_error_t* err);
/* smg_error_message(): the error's message (UTF-8, not NUL-terminated as far
 * as the length says, though a NUL follows it). Borrowed until the error is
 * destroyed. Empty for NULL. */
SMG_API smg_str_t smg_error_message(const smg_error_t* err);
/* smg_error_retry_after_ns(): the Retry-After hint of a
 * SMG_ERR_RESOURCE_EXHAUSTED error in nanoseconds, or -1 when it has none. */
SMG_API int64_t smg_error_retry_after_ns(const smg_error_t* err);
/* smg_error_destroy(): frees an error. NULL is a no-op. */
SMG_API void smg_error_destroy(smg_error_t* err);

/* smg_free(): frees a buffer the library returned as owned (metrics text).
 * NULL is a no-op. */
SMG_API void smg_free(void* p);

/* ---------------------------------------------------------------------------
 * Enumerations (fixed-width integers with #defined values, stable)
 * ------------------------------------------------------------------------- */

/* Worker types (smg::WorkerType); also a policy slot (see
 * smg_router_options_set_policy). */
#define SMG_WORKER_REGULAR 0
#define SMG_WORKER_PREFILL 1
#define SMG_WORKER_DECODE 2

/* Health states (smg::WorkerHealth, health.h). Only ready workers are
 * selected. */
#define SMG_HEALTH_PENDING 0
#define SMG_HEALTH_READY 1
#define SMG_HEALTH_NOT_READY 2
#define SMG_HEALTH_FAILED 3
#define SMG_HEALTH_DRAINING 4

/* Circuit breaker states (smg::BreakerState, circuit_breaker.h). */
#define SMG_BREAKER_CLOSED 0
#define SMG_BREAKER_OPEN 1
#define SMG_BREAKER_HALF_OPEN 2

/* Policy kinds (smg::PolicyKind, policy_config.h). Custom policies are
 * C++-only. */
#define SMG_POLICY_RANDOM 0
#define SMG_POLICY_ROUND_ROBIN 1
#define SMG_POLICY_POWER_OF_TWO 2
#define SMG_POLICY_CACHE_AWARE 3
#define SMG_POLICY_CONSISTENT_HASH 4
#define SMG_POLICY_PREFIX_HASH 5

/* Request outcomes, passed to smg_ticket_finish() as an int32_t: an HTTP
 * status in [100, 599], or one of these. */
#define SMG_OUTCOME_TRANSPORT_ERROR (-1)
#define SMG_OUTCOME_CANCELLED (-2)

/* Admission results (smg::AdmissionResult, concurrency_limiter.h). */
#define SMG_ADMISSION_ADMITTED 0
#define SMG_ADMISSION_REJECTED_QUEUE_FULL 1
#define SMG_ADMISSION_TIMED_OUT 2
#define SMG_ADMISSION_CANCELLED 3

/* Retry verdicts (smg::RetryVerdict, retry.h). */
#define SMG_RETRY_RETRY 0
#define SMG_RETRY_SUCCEEDED 1
#define SMG_RETRY_NOT_RETRYABLE 2
#define SMG_RETRY_ATTEMPTS_EXHAUSTED 3
#define SMG_RETRY_BUDGET_EXHAUSTED 4

/* Tenant limiter decisions (tenant_limiter.h): deny reasons, scopes,
 * dimensions. */
#define SMG_TENANT_GRANTED 0
#define SMG_TENANT_RATE_LIMITED 1
#define SMG_TENANT_ESTIMATE_TOO_LARGE 2
#define SMG_TENANT_TOO_MANY_TENANTS 3
#define SMG_TENANT_INVALID_TENANT 4
#define SMG_SCOPE_TENANT 0
#define SMG_SCOPE_GLOBAL 1
#define SMG_DIMENSION_REQUESTS 0
#define SMG_DIMENSION_TOKENS 1

/* smg_enum_name(): the C++ library's stable lower-case name of a value
 * ("prefill", "not_ready", "half_open", "cache_aware", "timed_out",
 * "budget_exhausted", "rate_limited"), or NULL when `value` is outside the
 * enumeration. `which` is one of SMG_ENUM_*. Static, NUL-terminated. */
#define SMG_ENUM_WORKER_TYPE 0
#define SMG_ENUM_HEALTH 1
#define SMG_ENUM_BREAKER_STATE 2
#define SMG_ENUM_POLICY 3
#define SMG_ENUM_ADMISSION 4
#define SMG_ENUM_RETRY_VERDICT 5
#define SMG_ENUM_TENANT_DECISION 6
SMG_API const char* smg_enum_name(uint32_t which, uint32_t value);

/* smg_policy_parse(): the SMG_POLICY_* value of a policy name
 * ("round_robin", "cache_aware", ... and SMG's "consistent_hashing"). */
SMG_API smg_code_t smg_policy_parse(const char* name, size_t name_len, uint8_t* kind_out);

/* ---------------------------------------------------------------------------
 * Manual clock (deterministic tests)
 * ------------------------------------------------------------------------- */

/* smg_manual_clock_t: a clock that moves only when told to, for tests that
 * drive breakers, evictions and limiter timeouts without sleeping. Objects
 * created with a clock read time from it; without one they use the process's
 * monotonic clock. Thread-safe. A clock's storage (16 bytes) is kept until the
 * process exits, so tickets and reservations that still read it after
 * smg_manual_clock_destroy() stay safe; create a handful, not millions. */
typedef struct smg_manual_clock smg_manual_clock_t;

/* smg_manual_clock_create(): a clock reading `start_ns` (>= 0). Owned: free
 * with smg_manual_clock_destroy(). */
SMG_API smg_code_t smg_manual_clock_create(int64_t start_ns, smg_manual_clock_t** clock_out);
/* smg_manual_clock_destroy(): releases the handle. Objects using the clock
 * keep reading its last time. */
SMG_API void smg_manual_clock_destroy(smg_manual_clock_t* clock);
/* smg_manual_clock_advance(): moves the clock forward by `delta_ns` (>= 0). */
SMG_API smg_code_t smg_manual_clock_advance(smg_manual_clock_t* clock, int64_t delta_ns);
/* smg_manual_clock_now(): the clock's time. */
SMG_API smg_code_t smg_manual_clock_now(const smg_manual_clock_t* clock, int64_t* now_ns_out);

/* ---------------------------------------------------------------------------
 * Policy configuration
 * ------------------------------------------------------------------------- */

/* smg_policy_config_t: which policy to build and its options
 * (smg::PolicyConfig), defaults as in policy_config.h. Single-threaded. */
typedef struct smg_policy_config smg_policy_config_t;

/* Policy options. Each key has one type (the setter to use) and belongs to
 * the kinds named; setting a key of another kind, or with the wrong setter,
 * is SMG_ERR_INVALID_ARGUMENT. Ranges are checked when the router is
 * created (smg::ValidatePolicyConfig). */
/* cache_aware (double): minimum matched/prompt ratio to follow a match. */
#define SMG_POLICY_OPT_CACHE_THRESHOLD 1
/* cache_aware (int): absolute in-flight spread meaning imbalance. */
#define SMG_POLICY_OPT_BALANCE_ABS_THRESHOLD 2
/* cache_aware (double): relative in-flight spread meaning imbalance. */
#define SMG_POLICY_OPT_BALANCE_REL_THRESHOLD 3
/* cache_aware (int, ns): how often maintenance evicts each tree. */
#define SMG_POLICY_OPT_EVICTION_INTERVAL_NS 4
/* cache_aware (int): tree budget in stored units; 0 = none. */
#define SMG_POLICY_OPT_MAX_TREE_SIZE 5
/* cache_aware (int): token page size. */
#define SMG_POLICY_OPT_TOKEN_PAGE_SIZE 6
/* cache_aware (int, bool): evict inline on insert. */
#define SMG_POLICY_OPT_EVICT_INLINE 7
/* cache_aware (int): locality window under imbalance; 0 = off. */
#define SMG_POLICY_OPT_IMBALANCE_LOCALITY_WINDOW 8
/* cache_aware (int): candidates sampled per selection; 0 = all. */
#define SMG_POLICY_OPT_LOAD_SAMPLE_SIZE 9
/* power_of_two (int, bool): compare reported engine loads. */
#define SMG_POLICY_OPT_USE_ENGINE_LOAD 10
/* consistent_hash, prefix_hash (int): virtual nodes per worker. */
#define SMG_POLICY_OPT_VIRTUAL_NODES 11
/* consistent_hash, prefix_hash (double): bounded-load factor; 0 = off. */
#define SMG_POLICY_OPT_LOAD_FACTOR 12
/* consistent_hash (string): header carrying the routing key. */
#define SMG_POLICY_OPT_KEY_HEADER 13
/* consistent_hash (int, bool): use authorization / x-forwarded-for /
 * cookie when no key is set. */
#define SMG_POLICY_OPT_USE_IMPLICIT_KEYS 14
/* prefix_hash (int): tokens hashed. */
#define SMG_POLICY_OPT_PREFIX_TOKENS 15
/* prefix_hash (int): bytes hashed. */
#define SMG_POLICY_OPT_PREFIX_BYTES 16
/* cache_aware (double): fraction of the budget evicted beyond it, so that
 * eviction comes in batches; in [0, 0.5], 0 = exactly to the budget. */
#define SMG_POLICY_OPT_EVICT_HEADROOM 17

/* smg_policy_config_create(): a configuration of `kind` (SMG_POLICY_*) with
 * default options. Owned: free with smg_policy_config_destroy(). */
SMG_API smg_code_t smg_policy_config_create(uint8_t kind, smg_policy_config_t** config_out,
                                            smg_error_t** err);
SMG_API void smg_policy_config_destroy(smg_policy_config_t* config);
/* smg_policy_config_set_int() / _set_double() / _set_string(): sets option
 * `key` (SMG_POLICY_OPT_*). Booleans use set_int. */
SMG_API smg_code_t smg_policy_config_set_int(smg_policy_config_t* config, uint32_t key,
                                             int64_t value, smg_error_t** err);
SMG_API smg_code_t smg_policy_config_set_double(smg_policy_config_t* config, uint32_t key,
                                                double value, smg_error_t** err);
SMG_API smg_code_t smg_policy_config_set_string(smg_policy_config_t* config, uint32_t key,
                                                const char* value, size_t value_len,
                                                smg_error_t** err);

/* ---------------------------------------------------------------------------
 * Tenant limits (requests and tokens per minute; tenant_limiter.h)
 * ------------------------------------------------------------------------- */

/* smg_tenant_limits_t: the limits of a tenant limiter
 * (smg::TenantLimiterOptions): a default for every tenant, per-tenant
 * overrides and a global scope; 0 means unlimited. Used by
 * smg_router_options_set_tenant_limits() and smg_tenant_limiter_create().
 * Single-threaded. */
typedef struct smg_tenant_limits smg_tenant_limits_t;

/* Which scope smg_tenant_limits_set() sets. */
#define SMG_LIMIT_DEFAULT_TENANT 0
#define SMG_LIMIT_TENANT 1
#define SMG_LIMIT_GLOBAL 2

/* smg_tenant_limits_create(): no limits. Owned: smg_tenant_limits_destroy(). */
SMG_API smg_code_t smg_tenant_limits_create(smg_tenant_limits_t** limits_out);
SMG_API void smg_tenant_limits_destroy(smg_tenant_limits_t* limits);
/* smg_tenant_limits_set(): sets one scope's requests and tokens per minute.
 * `tenant` names the tenant for SMG_LIMIT_TENANT (1 to 256 bytes) and must be
 * empty otherwise. */
SMG_API smg_code_t smg_tenant_limits_set(smg_tenant_limits_t* limits, uint32_t scope,
                                         const char* tenant, size_t tenant_len,
                                         uint64_t requests_per_minute,
                                         uint64_t tokens_per_minute, smg_error_t** err);
/* smg_tenant_limits_set_max_tracked(): the most tenants tracked at once
 * (default 100000). */
SMG_API smg_code_t smg_tenant_limits_set_max_tracked(smg_tenant_limits_t* limits,
                                                     uint64_t max_tracked_tenants);

/* ---------------------------------------------------------------------------
 * Router options
 * ------------------------------------------------------------------------- */

/* smg_router_options_t: smg::RouterOptions, defaults as in router.h,
 * circuit_breaker.h, health.h and retry_policy.h. Single-threaded. */
typedef struct smg_router_options smg_router_options_t;

/* Router options. The type is given in parentheses; ranges are checked by
 * smg_router_create() (smg::ValidateRouterOptions), which names the field. */
/* (int, bool) prefill-decode disaggregation. */
#define SMG_ROUTER_OPT_PD_MODE 1
/* (string) the model of workers and requests that name none. */
#define SMG_ROUTER_OPT_DEFAULT_MODEL 2
/* (int) seed of the router's random source (random picks, bootstrap rooms,
 * backoff jitter); not set means the process's random source. */
#define SMG_ROUTER_OPT_RANDOM_SEED 3
/* Circuit breaker of every worker. */
#define SMG_ROUTER_OPT_BREAKER_ENABLED 10              /* int, bool */
#define SMG_ROUTER_OPT_BREAKER_CONSECUTIVE_FAILURES 11 /* int */
#define SMG_ROUTER_OPT_BREAKER_FAILURE_RATE 12         /* double */
#define SMG_ROUTER_OPT_BREAKER_MINIMUM_REQUESTS 13     /* int */
#define SMG_ROUTER_OPT_BREAKER_WINDOW_NS 14            /* int */
#define SMG_ROUTER_OPT_BREAKER_WINDOW_BUCKETS 15       /* int */
#define SMG_ROUTER_OPT_BREAKER_SUCCESS_THRESHOLD 16    /* int */
#define SMG_ROUTER_OPT_BREAKER_HALF_OPEN_PROBES 17     /* int */
#define SMG_ROUTER_OPT_BREAKER_OPEN_DURATION_NS 18     /* int */
#define SMG_ROUTER_OPT_BREAKER_MAX_OPEN_DURATION_NS 19 /* int */
/* Health thresholds (consecutive probes). */
#define SMG_ROUTER_OPT_HEALTH_HEALTHY_THRESHOLD 30        /* int */
#define SMG_ROUTER_OPT_HEALTH_UNHEALTHY_THRESHOLD 31      /* int */
#define SMG_ROUTER_OPT_HEALTH_FAILED_THRESHOLD 32         /* int */
#define SMG_ROUTER_OPT_HEALTH_PENDING_FAILED_THRESHOLD 33 /* int */
/* Retries. */
#define SMG_ROUTER_OPT_RETRY_MAX_ATTEMPTS 40           /* int */
#define SMG_ROUTER_OPT_RETRY_INITIAL_BACKOFF_NS 41     /* int */
#define SMG_ROUTER_OPT_RETRY_BACKOFF_MULTIPLIER 42     /* double */
#define SMG_ROUTER_OPT_RETRY_MAX_BACKOFF_NS 43         /* int */
#define SMG_ROUTER_OPT_RETRY_JITTER 44                 /* double */
#define SMG_ROUTER_OPT_RETRY_BUDGET_PERCENT 45         /* double; 0 = no budget */
#define SMG_ROUTER_OPT_RETRY_BUDGET_MIN_CONCURRENCY 46 /* int */

/* Which outcome classification smg_router_options_set_statuses() sets. */
#define SMG_STATUSES_FAILURE 0   /* what counts against a worker's breaker */
#define SMG_STATUSES_RETRYABLE 1 /* what smg_retry_finish() retries */

/* smg_event_t: a worker state change, passed to the event callback.
 * Everything in it is borrowed for the callback's duration. */
#define SMG_EVENT_BREAKER 0 /* from/to are SMG_BREAKER_* */
#define SMG_EVENT_HEALTH 1  /* from/to are SMG_HEALTH_* */
typedef struct smg_event {
  uint8_t kind;
  uint8_t from;
  uint8_t to;
  uint32_t worker_id;
  smg_str_t url;
  smg_str_t model;
} smg_event_t;

/* smg_event_fn: called after a worker's breaker or health state changes, on
 * the thread that caused it (often one finishing a ticket), with no smgcore
 * lock held; may be called from several threads at once. It may call the
 * router but must not destroy it. */
typedef void (*smg_event_fn)(void* user_data, const smg_event_t* event);

/* smg_router_options_create(): default options. Owned:
 * smg_router_options_destroy(). */
SMG_API smg_code_t smg_router_options_create(smg_router_options_t** options_out);
SMG_API void smg_router_options_destroy(smg_router_options_t* options);
/* smg_router_options_set_int() / _set_double() / _set_string(): sets option
 * `key` (SMG_ROUTER_OPT_*). */
SMG_API smg_code_t smg_router_options_set_int(smg_router_options_t* options, uint32_t key,
                                              int64_t value, smg_error_t** err);
SMG_API smg_code_t smg_router_options_set_double(smg_router_options_t* options, uint32_t key,
                                                 double value, smg_error_t** err);
SMG_API smg_code_t smg_router_options_set_string(smg_router_options_t* options, uint32_t key,
                                                 const char* value, size_t value_len,
                                                 smg_error_t** err);
/* smg_router_options_set_policy(): the policy of one model and slot. An
 * empty `model` sets the policies of every model without its own entry.
 * `slot` is SMG_WORKER_REGULAR for the model's main policy (used by regular
 * workers and, in PD mode, by each leg that has no policy of its own), or
 * SMG_WORKER_PREFILL / SMG_WORKER_DECODE for a PD leg. The configuration is
 * copied. */
SMG_API smg_code_t smg_router_options_set_policy(smg_router_options_t* options,
                                                 const char* model, size_t model_len,
                                                 uint32_t slot,
                                                 const smg_policy_config_t* config,
                                                 smg_error_t** err);
/* smg_router_options_set_statuses(): replaces a classification (`which` is
 * SMG_STATUSES_*) with exactly these HTTP statuses ([100, 599]) plus,
 * when `transport_errors` is true, transport errors. */
SMG_API smg_code_t smg_router_options_set_statuses(smg_router_options_t* options,
                                                   uint32_t which, const int32_t* statuses,
                                                   size_t statuses_len, uint8_t transport_errors,
                                                   smg_error_t** err);
/* smg_router_options_set_tenant_limits(): checks each selection against
 * these limits (copied); NULL turns tenant limits off. */
SMG_API smg_code_t smg_router_options_set_tenant_limits(smg_router_options_t* options,
                                                        const smg_tenant_limits_t* limits);
/* smg_router_options_set_clock(): the router reads time from `clock`
 * (borrowed; its storage outlives everything, see smg_manual_clock_t); NULL
 * restores the monotonic clock. */
SMG_API smg_code_t smg_router_options_set_clock(smg_router_options_t* options,
                                                const smg_manual_clock_t* clock);
/* smg_router_options_set_event_callback(): `fn` (NULL: none) receives
 * breaker and health transitions with `user_data` (borrowed until the router
 * is destroyed; the library never frees it). */
SMG_API smg_code_t smg_router_options_set_event_callback(smg_router_options_t* options,
                                                         smg_event_fn fn, void* user_data);

/* ---------------------------------------------------------------------------
 * Router
 * ------------------------------------------------------------------------- */

/* smg_router_t: a worker registry plus one policy per model and leg
 * (smg::Router). Thread-safe: every call may run concurrently with any other
 * (except destroy). */
typedef struct smg_router smg_router_t;

/* smg_router_create(): validates `options` (borrowed; NULL means defaults)
 * and builds a router with no workers. Owned: smg_router_destroy().
 * Outstanding tickets stay valid after the router is destroyed and finish
 * harmlessly. */
SMG_API smg_code_t smg_router_create(const smg_router_options_t* options,
                                     smg_router_t** router_out, smg_error_t** err);
SMG_API void smg_router_destroy(smg_router_t* router);

/* smg_label_t: one key/value label. */
typedef struct smg_label {
  smg_str_t key;
  smg_str_t value;
} smg_label_t;

/* smg_worker_spec_t: a worker to register (smg::WorkerSpec). Initialize with
 * smg_worker_spec_init(); every pointer in it is borrowed for the call. */
typedef struct smg_worker_spec {
  /* Base URL, e.g. "http://10.0.0.7:30000"; unique per router. */
  smg_str_t url;
  /* Model served; empty means the router's default model. */
  smg_str_t model;
  /* SMG_WORKER_*. */
  uint8_t type;
  /* Initial health: SMG_HEALTH_READY (default), _PENDING or _NOT_READY. */
  uint8_t health;
  /* Prefill workers: the KV bootstrap port; 0 means none. */
  uint16_t bootstrap_port;
  /* Relative capacity for weighted policies, >= 1 (default 1). */
  uint32_t weight;
  const smg_label_t* labels;
  size_t labels_len;
} smg_worker_spec_t;

/* smg_worker_spec_init(): the defaults (regular, ready, weight 1, no
 * labels). NULL is a no-op. */
SMG_API void smg_worker_spec_init(smg_worker_spec_t* spec);

/* smg_router_add_worker(): registers a worker; `*id_out` receives its id
 * (1, 2, 3, ...; never reused). SMG_ERR_ALREADY_EXISTS for a registered URL;
 * SMG_ERR_INVALID_ARGUMENT for a malformed URL, weight 0, a bootstrap port on
 * a non-prefill worker or an enum out of range. */
SMG_API smg_code_t smg_router_add_worker(smg_router_t* router, const smg_worker_spec_t* spec,
                                         uint32_t* id_out, smg_error_t** err);
/* smg_router_replace_worker(): atomically replaces the worker registered
 * under `spec->url` (if any) with `spec`, under a new id: no selection sees
 * the URL missing. The way to update a worker's type, model or port. */
SMG_API smg_code_t smg_router_replace_worker(smg_router_t* router,
                                             const smg_worker_spec_t* spec, uint32_t* id_out,
                                             smg_error_t** err);
/* smg_router_remove_worker() / _by_url(): unregisters a worker; its
 * outstanding tickets stay valid. SMG_ERR_NOT_FOUND when unknown. */
SMG_API smg_code_t smg_router_remove_worker(smg_router_t* router, uint32_t worker_id,
                                            smg_error_t** err);
SMG_API smg_code_t smg_router_remove_worker_by_url(smg_router_t* router, const char* url,
                                                   size_t url_len, smg_error_t** err);
/* smg_router_set_labels(): replaces a worker's labels. */
SMG_API smg_code_t smg_router_set_labels(smg_router_t* router, uint32_t worker_id,
                                         const smg_label_t* labels, size_t labels_len,
                                         smg_error_t** err);
/* smg_router_set_weight(): sets a worker's weight (>= 1). */
SMG_API smg_code_t smg_router_set_weight(smg_router_t* router, uint32_t worker_id,
                                         uint32_t weight, smg_error_t** err);
/* smg_router_set_engine_load(): records the load the engine reported (>= 0,
 * finite), used by power_of_two. Lock-free. */
SMG_API smg_code_t smg_router_set_engine_load(smg_router_t* router, uint32_t worker_id,
                                              double load, smg_error_t** err);
/* smg_router_clear_engine_load(): forgets the reported load. */
SMG_API smg_code_t smg_router_clear_engine_load(smg_router_t* router, uint32_t worker_id,
                                                smg_error_t** err);
/* smg_router_report_probe(): feeds one health probe result into the worker's
 * health state machine; `*health_out` (may be NULL) receives its health
 * afterwards (SMG_HEALTH_*). */
SMG_API smg_code_t smg_router_report_probe(smg_router_t* router, uint32_t worker_id,
                                           uint8_t passed, uint8_t* health_out,
                                           smg_error_t** err);
/* smg_router_set_health(): forces a health state (an operator override). */
SMG_API smg_code_t smg_router_set_health(smg_router_t* router, uint32_t worker_id,
                                         uint8_t health, smg_error_t** err);
/* smg_router_drain_worker(): no new requests for the worker; outstanding
 * tickets finish normally. Remove it once its in_flight reaches 0. */
SMG_API smg_code_t smg_router_drain_worker(smg_router_t* router, uint32_t worker_id,
                                           smg_error_t** err);
/* smg_router_reset_breaker(): forces the worker's circuit breaker closed. */
SMG_API smg_code_t smg_router_reset_breaker(smg_router_t* router, uint32_t worker_id,
                                            smg_error_t** err);
/* smg_router_run_maintenance(): periodic housekeeping (tree eviction on its
 * interval, open breakers whose time is up turn half-open). Call it every few
 * seconds. */
SMG_API smg_code_t smg_router_run_maintenance(smg_router_t* router);
/* smg_router_evict_now(): evicts every tree that is over its budget now,
 * down to the budget less SMG_POLICY_OPT_EVICT_HEADROOM; `*evicted_out`
 * (may be NULL) receives the units evicted. */
SMG_API smg_code_t smg_router_evict_now(smg_router_t* router, uint64_t* evicted_out);

/* ---- Worker listings ----------------------------------------------------- */

/* smg_worker_info_t: one worker's description and runtime state at the time
 * the list was taken. Its strings and labels are borrowed until the list is
 * destroyed. */
typedef struct smg_worker_info {
  uint32_t id;
  uint8_t type;          /* SMG_WORKER_* */
  uint8_t health;        /* SMG_HEALTH_* */
  uint8_t breaker_state; /* SMG_BREAKER_* */
  uint8_t has_engine_load;
  uint16_t bootstrap_port; /* 0: none */
  uint32_t weight;
  smg_str_t url;
  smg_str_t model;
  smg_str_t bootstrap_host;
  const smg_label_t* labels;
  size_t labels_len;
  /* Requests in flight now. */
  int64_t in_flight;
  /* Tickets finished, by classification. */
  uint64_t successes;
  uint64_t failures;
  uint64_t cancelled;
  /* Health probes reported. */
  uint64_t probes_passed;
  uint64_t probes_failed;
  /* The last engine load reported (valid when has_engine_load). */
  double engine_load;
} smg_worker_info_t;

/* smg_workers_t: an immutable list of worker snapshots. Single-threaded
 * (read-only, so concurrent reads are fine). */
typedef struct smg_workers smg_workers_t;

/* smg_router_list_workers(): the registered workers ordered by id, only those
 * of `model` when `model_len` > 0 and only those of `type` when `type` >= 0.
 * Owned: smg_workers_destroy(). */
SMG_API smg_code_t smg_router_list_workers(const smg_router_t* router, const char* model,
                                           size_t model_len, int32_t type,
                                           smg_workers_t** workers_out, smg_error_t** err);
/* smg_router_get_worker() / smg_router_find_worker(): a list holding the one
 * worker with this id / URL; SMG_ERR_NOT_FOUND when there is none. */
SMG_API smg_code_t smg_router_get_worker(const smg_router_t* router, uint32_t worker_id,
                                         smg_workers_t** workers_out, smg_error_t** err);
SMG_API smg_code_t smg_router_find_worker(const smg_router_t* router, const char* url,
                                          size_t url_len, smg_workers_t** workers_out,
                                          smg_error_t** err);
/* smg_workers_count(): the number of workers in the list (0 for NULL). */
SMG_API size_t smg_workers_count(const smg_workers_t* workers);
/* smg_workers_get(): fills `*info_out` with worker `index`
 * (SMG_ERR_INVALID_ARGUMENT when out of range). */
SMG_API smg_code_t smg_workers_get(const smg_workers_t* workers, size_t index,
                                   smg_worker_info_t* info_out);
SMG_API void smg_workers_destroy(smg_workers_t* workers);

/* ---- Selection ------------------------------------------------------------ */

/* smg_header_t: one HTTP header (names match case-insensitively). */
typedef struct smg_header {
  smg_str_t name;
  smg_str_t value;
} smg_header_t;

/* smg_request_t: what a policy may look at (smg::RouteRequest). Everything
 * is optional; initialize with smg_request_init() (or zero it). Every
 * pointer is borrowed for the call. */
typedef struct smg_request {
  /* The model; empty means the router's default model. */
  smg_str_t model;
  /* The prompt as bytes (any encoding), used when `tokens_len` is 0. */
  smg_str_t text;
  /* The prompt as token ids, preferred by cache_aware and prefix_hash. */
  const uint32_t* tokens;
  size_t tokens_len;
  /* An affinity key for consistent_hash (takes precedence over headers). */
  smg_str_t routing_key;
  /* Request headers, consulted by consistent_hash. */
  const smg_header_t* headers;
  size_t headers_len;
  /* Worker ids not to choose (e.g. those already tried). */
  const uint32_t* exclude_workers;
  size_t exclude_workers_len;
  /* The tenant charged by tenant limits; empty means anonymous. */
  smg_str_t tenant;
  /* Tokens expected (prompt + completion budget); 0 means estimated from the
   * prompt. */
  uint64_t estimated_tokens;
} smg_request_t;

/* smg_request_init(): an empty request. NULL is a no-op. */
SMG_API void smg_request_init(smg_request_t* request);

/* smg_ticket_t: caller-owned storage for one selected request (smg::Ticket).
 * Initialize it with SMG_TICKET_INIT (or zeros) before first use; the
 * selection fills it and smg_ticket_finish() empties it again, after which it
 * can be reused. While it holds a request, the request counts as in flight on
 * its worker(s). It may be moved with memcpy (Rust and Go move values that
 * way) but never duplicated: finish exactly one copy. A ticket that is never
 * finished keeps its load counted forever: finish it on every path
 * (SMG_OUTCOME_CANCELLED when nothing was sent). Single-threaded. The
 * contents are private. */
typedef struct smg_ticket {
  uint64_t opaque_[16];
} smg_ticket_t;
#define SMG_TICKET_INIT {{0}}

/* smg_selection_t: where to send a selected request. Strings are borrowed
 * until the ticket is finished. */
typedef struct smg_selection {
  /* The chosen worker; in PD mode the prefill worker. */
  uint32_t worker_id;
  /* PD mode: the decode worker; 0 otherwise. */
  uint32_t decode_worker_id;
  smg_str_t url;
  /* PD mode: the decode worker's URL; empty otherwise. */
  smg_str_t decode_url;
  /* PD mode: the prefill worker's host, SGLang's bootstrap_host. */
  smg_str_t bootstrap_host;
  /* PD mode: the prefill worker's bootstrap port; 0 when it declared none. */
  uint16_t bootstrap_port;
  uint8_t is_pd;
  /* PD mode: a random id in [0, 2^63) pairing the two halves; 0 otherwise. */
  uint64_t bootstrap_room;
} smg_selection_t;

/* smg_router_select(): chooses the worker(s) for `request` and fills
 * `*ticket` (which must be empty) and, when non-NULL, `*selection_out`.
 * Errors: SMG_ERR_NOT_FOUND (no worker of the needed type for the model),
 * SMG_ERR_UNAVAILABLE (none available now), SMG_ERR_RESOURCE_EXHAUSTED
 * (tenant limits; see smg_error_retry_after_ns()),
 * SMG_ERR_FAILED_PRECONDITION (the ticket is not empty),
 * SMG_ERR_INVALID_ARGUMENT. Allocates nothing on success. */
SMG_API smg_code_t smg_router_select(smg_router_t* router, const smg_request_t* request,
                                     smg_ticket_t* ticket, smg_selection_t* selection_out,
                                     smg_error_t** err);

/* smg_ticket_is_active(): 1 while the ticket holds an unfinished request. */
SMG_API uint8_t smg_ticket_is_active(const smg_ticket_t* ticket);
/* smg_ticket_selection(): the selection of an active ticket. */
SMG_API smg_code_t smg_ticket_selection(const smg_ticket_t* ticket,
                                        smg_selection_t* selection_out);
/* smg_ticket_settle_tokens(): with tenant limits on, charges the tokens the
 * request actually consumed instead of its estimate. Call it before
 * smg_ticket_finish(), at most once (SMG_ERR_FAILED_PRECONDITION after). A
 * ticket without a reservation returns SMG_OK and does nothing. */
SMG_API smg_code_t smg_ticket_settle_tokens(smg_ticket_t* ticket, uint64_t actual_tokens,
                                            smg_error_t** err);
/* smg_ticket_finish(): ends the request with `outcome` (an HTTP status or
 * SMG_OUTCOME_*) on every worker of the ticket and empties it.
 * SMG_ERR_FAILED_PRECONDITION when the ticket is empty (finished twice, or
 * never selected); SMG_ERR_INVALID_ARGUMENT for an outcome out of range, which
 * leaves the ticket active. Safe after the router or worker is gone.
 * Allocates nothing on success. */
SMG_API smg_code_t smg_ticket_finish(smg_ticket_t* ticket, int32_t outcome, smg_error_t** err);
/* smg_ticket_finish_pd(): the PD form, with separate outcomes for the prefill
 * and decode legs (on a regular ticket `decode_outcome` is checked and
 * ignored). */
SMG_API smg_code_t smg_ticket_finish_pd(smg_ticket_t* ticket, int32_t prefill_outcome,
                                        int32_t decode_outcome, smg_error_t** err);

/* ---- Retries ---------------------------------------------------------------- */

/* smg_retry_decision_t: what to do after an attempt. */
typedef struct smg_retry_decision {
  uint8_t verdict; /* SMG_RETRY_* */
  uint32_t attempts;
  /* How long to wait before the next attempt; 0 unless SMG_RETRY_RETRY. */
  int64_t backoff_ns;
} smg_retry_decision_t;

/* smg_retry_t: one request's attempts (smg::RetryState): each selection
 * excludes the workers already tried; each finish decides about the next
 * attempt from the router's retry options and budget. Keeps the router
 * alive. Single-threaded. */
typedef struct smg_retry smg_retry_t;

/* smg_retry_create(): a retry state on `router`. Owned: smg_retry_destroy(),
 * which also returns a held retry-budget slot. */
SMG_API smg_code_t smg_retry_create(smg_router_t* router, smg_retry_t** retry_out,
                                    smg_error_t** err);
SMG_API void smg_retry_destroy(smg_retry_t* retry);
/* smg_retry_select(): smg_router_select() for the next attempt.
 * SMG_ERR_FAILED_PRECONDITION when the previous decision was not
 * SMG_RETRY_RETRY or the previous ticket was not finished through
 * smg_retry_finish(). */
SMG_API smg_code_t smg_retry_select(smg_retry_t* retry, const smg_request_t* request,
                                    smg_ticket_t* ticket, smg_selection_t* selection_out,
                                    smg_error_t** err);
/* smg_retry_finish(): finishes `ticket` with `outcome` (an active ticket from
 * smg_retry_select(); an empty one is allowed when the attempt was finished
 * already) and decides about the next attempt. */
SMG_API smg_code_t smg_retry_finish(smg_retry_t* retry, smg_ticket_t* ticket, int32_t outcome,
                                    smg_retry_decision_t* decision_out, smg_error_t** err);
/* smg_router_retry_backoff(): the router's backoff before retry number
 * `retry` (1 = first retry), with jitter. */
SMG_API smg_code_t smg_router_retry_backoff(smg_router_t* router, uint32_t retry,
                                            int64_t* backoff_ns_out);

/* ---- Metrics -------------------------------------------------------------- */

/* smg_router_metrics(): every metric of the router (and of the limiters and
 * buckets it tracks) in Prometheus text format 0.0.4. `*text_out` is owned
 * (free with smg_free()), NUL-terminated, `*len_out` bytes long. */
SMG_API smg_code_t smg_router_metrics(const smg_router_t* router, char** text_out,
                                      size_t* len_out, smg_error_t** err);

/* ---------------------------------------------------------------------------
 * Token bucket (token_bucket.h)
 * ------------------------------------------------------------------------- */

/* smg_token_bucket_t: a lock-free token bucket. Thread-safe. */
typedef struct smg_token_bucket smg_token_bucket_t;

/* smg_token_bucket_create(): up to `capacity` tokens refilled at
 * `refill_per_second`, starting with `initial_tokens` (< 0: full). `clock`
 * is borrowed (NULL: monotonic). Owned: smg_token_bucket_destroy(). */
SMG_API smg_code_t smg_token_bucket_create(uint64_t capacity, double refill_per_second,
                                           int64_t initial_tokens,
                                           const smg_manual_clock_t* clock,
                                           smg_token_bucket_t** bucket_out, smg_error_t** err);
SMG_API void smg_token_bucket_destroy(smg_token_bucket_t* bucket);
/* smg_token_bucket_try_acquire(): takes `n` tokens if available now, all or
 * nothing; `*acquired_out` says whether. */
SMG_API smg_code_t smg_token_bucket_try_acquire(smg_token_bucket_t* bucket, uint64_t n,
                                                uint8_t* acquired_out);
/* smg_token_bucket_time_until(): how long until `n` tokens are available
 * (0 now; SMG_DURATION_INFINITE when n > capacity). */
SMG_API smg_code_t smg_token_bucket_time_until(const smg_token_bucket_t* bucket, uint64_t n,
                                               int64_t* wait_ns_out);
/* smg_token_bucket_available(): whole tokens available now. */
SMG_API smg_code_t smg_token_bucket_available(const smg_token_bucket_t* bucket,
                                              uint64_t* tokens_out);

/* ---------------------------------------------------------------------------
 * Concurrency limiter (concurrency_limiter.h)
 * ------------------------------------------------------------------------- */

/* smg_limiter_t: a cap on in-flight requests with a FIFO wait queue and a
 * queue timeout. Thread-safe. */
typedef struct smg_limiter smg_limiter_t;

/* smg_admission_fn: receives an asynchronous admission's result
 * (SMG_ADMISSION_*) exactly once, with the `user_data` given to
 * smg_limiter_acquire_async() (which the library never frees: free it here
 * if it was allocated for the request). Must not block. */
typedef void (*smg_admission_fn)(void* user_data, uint8_t result);
/* smg_notify_fn: the completion notifier: called (from any thread, possibly
 * coalescing) when deferred callbacks wait for smg_limiter_dispatch(). Must
 * be thread-safe and must not call into the limiter. Typically wraps
 * uv_async_send(). */
typedef void (*smg_notify_fn)(void* user_data);

/* smg_limiter_config_t: a limiter's settings. */
typedef struct smg_limiter_config {
  /* Most requests admitted at once, >= 1. */
  uint32_t max_in_flight;
  /* Most requests waiting, <= 2^20; 0 disables the queue. */
  uint32_t max_queue;
  /* Longest wait in the queue, > 0 and <= 24 h. */
  int64_t queue_timeout_ns;
  /* Optional: with a notifier, deferred async callbacks run in
   * smg_limiter_dispatch() on the host's loop thread instead of on the thread
   * that resolved them. `notify_user_data` is borrowed until the limiter is
   * destroyed. */
  smg_notify_fn notify;
  void* notify_user_data;
} smg_limiter_config_t;

/* smg_limiter_config_init(): max_in_flight 0 (must be set), max_queue 100,
 * queue timeout 60 s, no notifier. NULL is a no-op. */
SMG_API void smg_limiter_config_init(smg_limiter_config_t* config);
/* smg_limiter_create(): `config` borrowed for the call; `clock` as for
 * buckets. Owned: smg_limiter_destroy(), which resolves every queued request
 * as SMG_ADMISSION_CANCELLED (async callbacks run inline on the destroying
 * thread; blocked threads return). */
SMG_API smg_code_t smg_limiter_create(const smg_limiter_config_t* config,
                                      const smg_manual_clock_t* clock,
                                      smg_limiter_t** limiter_out, smg_error_t** err);
SMG_API void smg_limiter_destroy(smg_limiter_t* limiter);
/* smg_limiter_try_acquire(): takes a slot if one is free now; never queues. */
SMG_API smg_code_t smg_limiter_try_acquire(smg_limiter_t* limiter, uint8_t* acquired_out);
/* smg_limiter_acquire(): blocks until admitted, rejected or timed out (at
 * most `timeout_ns`, and the configured queue timeout); `*result_out`
 * receives SMG_ADMISSION_*. */
SMG_API smg_code_t smg_limiter_acquire(smg_limiter_t* limiter, int64_t timeout_ns,
                                       uint8_t* result_out);
/* smg_limiter_acquire_async(): `fn(user_data, result)` runs exactly once:
 * inline before this returns when the result is known at once (admitted or
 * queue full; `*waiter_out` = 0), otherwise later (`*waiter_out` names the
 * queued request for smg_limiter_cancel()). If this returns an error, `fn` is
 * never called. */
SMG_API smg_code_t smg_limiter_acquire_async(smg_limiter_t* limiter, smg_admission_fn fn,
                                             void* user_data, uint64_t* waiter_out);
/* smg_limiter_cancel(): withdraws a queued request (its callback gets
 * SMG_ADMISSION_CANCELLED); `*cancelled_out` (may be NULL) is 0 when it was
 * no longer queued. */
SMG_API smg_code_t smg_limiter_cancel(smg_limiter_t* limiter, uint64_t waiter,
                                      uint8_t* cancelled_out);
/* smg_limiter_cancel_all(): withdraws every queued request (async and
 * blocked threads) as SMG_ADMISSION_CANCELLED, for shutdown: call it, join
 * the threads blocked in smg_limiter_acquire(), then destroy the limiter.
 * `*cancelled_out` (may be NULL) receives how many. */
SMG_API smg_code_t smg_limiter_cancel_all(smg_limiter_t* limiter, uint64_t* cancelled_out);
/* smg_limiter_release(): returns an admitted request's slot (handing it to
 * the oldest waiter). */
SMG_API smg_code_t smg_limiter_release(smg_limiter_t* limiter);
/* smg_limiter_expire(): times out queued requests whose deadline passed;
 * `*expired_out` (may be NULL) receives how many. */
SMG_API smg_code_t smg_limiter_expire(smg_limiter_t* limiter, uint64_t* expired_out);
/* smg_limiter_next_deadline(): time until the earliest queued deadline (for
 * a loop timer), or -1 when nothing is queued. */
SMG_API smg_code_t smg_limiter_next_deadline(const smg_limiter_t* limiter,
                                             int64_t* wait_ns_out);
/* smg_limiter_dispatch(): runs the deferred callbacks the notifier announced,
 * on this thread; `*ran_out` (may be NULL) receives how many. */
SMG_API smg_code_t smg_limiter_dispatch(smg_limiter_t* limiter, uint64_t* ran_out);
/* smg_limiter_stats_t: counters since creation (one consistent snapshot). */
typedef struct smg_limiter_stats {
  uint32_t in_flight;
  uint64_t queue_depth;
  uint64_t admitted;
  uint64_t admitted_after_wait;
  uint64_t rejected;
  uint64_t timed_out;
  uint64_t cancelled;
  int64_t total_queue_wait_ns;
  /* The Retry-After hint for a queue-full answer (whole seconds, >= 1 s). */
  int64_t retry_after_ns;
} smg_limiter_stats_t;
SMG_API smg_code_t smg_limiter_get_stats(const smg_limiter_t* limiter,
                                     smg_limiter_stats_t* stats_out);
/* smg_router_track_limiter() / _track_token_bucket(): adds the object's
 * series to smg_router_metrics() under the label limiter=`name` /
 * bucket=`name`, until the object is destroyed (tracking does not keep it
 * alive). */
SMG_API smg_code_t smg_router_track_limiter(smg_router_t* router, const char* name,
                                            size_t name_len, const smg_limiter_t* limiter,
                                            smg_error_t** err);
SMG_API smg_code_t smg_router_track_token_bucket(smg_router_t* router, const char* name,
                                                 size_t name_len,
                                                 const smg_token_bucket_t* bucket,
                                                 smg_error_t** err);

/* ---------------------------------------------------------------------------
 * Tenant limiter (standalone; routers embed one through their options)
 * ------------------------------------------------------------------------- */

/* smg_tenant_limiter_t: requests and tokens per minute per tenant and
 * globally, reserve then settle. Thread-safe. */
typedef struct smg_tenant_limiter smg_tenant_limiter_t;
/* smg_tenant_reservation_t: a granted reservation. Single-threaded. */
typedef struct smg_tenant_reservation smg_tenant_reservation_t;

/* smg_tenant_decision_t: what smg_tenant_limiter_reserve() decided. */
typedef struct smg_tenant_decision {
  uint8_t reason;    /* SMG_TENANT_*; SMG_TENANT_GRANTED when granted */
  uint8_t scope;     /* SMG_SCOPE_*: the limit that denied */
  uint8_t dimension; /* SMG_DIMENSION_* */
  /* A suitable Retry-After: 0 when granted, SMG_DURATION_INFINITE when no
   * wait would help. */
  int64_t retry_after_ns;
} smg_tenant_decision_t;

/* smg_tenant_limiter_create(): `limits` borrowed for the call, `clock` as
 * for buckets. Owned: smg_tenant_limiter_destroy(). Reservations may outlive
 * the limiter. */
SMG_API smg_code_t smg_tenant_limiter_create(const smg_tenant_limits_t* limits,
                                             const smg_manual_clock_t* clock,
                                             smg_tenant_limiter_t** limiter_out,
                                             smg_error_t** err);
SMG_API void smg_tenant_limiter_destroy(smg_tenant_limiter_t* limiter);
/* smg_tenant_limiter_reserve(): reserves one request and `estimated_tokens`
 * for `tenant`. Fills `*decision_out`; when granted, `*reservation_out`
 * receives an owned reservation (settle it, then destroy it), else NULL.
 * A denial is SMG_OK with a non-granted decision. */
SMG_API smg_code_t smg_tenant_limiter_reserve(smg_tenant_limiter_t* limiter,
                                              const char* tenant, size_t tenant_len,
                                              uint64_t estimated_tokens,
                                              smg_tenant_decision_t* decision_out,
                                              smg_tenant_reservation_t** reservation_out);
/* smg_tenant_reservation_settle(): charges the actual token count instead of
 * the estimate; SMG_ERR_FAILED_PRECONDITION the second time. */
SMG_API smg_code_t smg_tenant_reservation_settle(smg_tenant_reservation_t* reservation,
                                                 uint64_t actual_tokens);
/* smg_tenant_reservation_destroy(): frees it; unsettled, the estimate stays
 * charged. */
SMG_API void smg_tenant_reservation_destroy(smg_tenant_reservation_t* reservation);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* SMGCORE_SMGCORE_C_H_ */
