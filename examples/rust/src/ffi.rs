//! Raw declarations of `capi/include/smgcore/smgcore_c.h`.
//!
//! They mirror the header one to one (same names, `#[repr(C)]` layouts,
//! constant values) for the parts the safe wrapper uses: versions, errors,
//! enumerations, policy configurations, router options, the router, worker
//! listings, selection and tickets, metrics. Retry states, token buckets and
//! the limiters are left out; declare them the same way when needed. The
//! header is the documentation: ownership and thread safety are stated there
//! per function.
//!
//! Written by hand rather than with bindgen so that the example needs no
//! third-party crate; the tests below pin the struct sizes the C compiler
//! gives on LP64 targets.

#![allow(non_camel_case_types)]

use std::ffi::{c_char, c_void};

// ---- Versions ---------------------------------------------------------------

pub const SMG_ABI_VERSION: u32 = 1;

// ---- Basic types --------------------------------------------------------------

/// A byte string as pointer + length; never NUL-terminated by contract.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct smg_str_t {
    pub data: *const c_char,
    pub len: usize,
}

pub const SMG_MAX_INPUT_BYTES: usize = 1 << 30;
pub const SMG_MAX_INPUT_TOKENS: usize = 1 << 28;
pub const SMG_MAX_LIST_LENGTH: usize = 1 << 16;
pub const SMG_DURATION_INFINITE: i64 = i64::MAX;

// ---- Status codes and errors ----------------------------------------------------

pub type smg_code_t = i32;
pub const SMG_OK: smg_code_t = 0;
pub const SMG_ERR_INVALID_ARGUMENT: smg_code_t = 1;
pub const SMG_ERR_INVALID_HANDLE: smg_code_t = 2;
pub const SMG_ERR_NOT_FOUND: smg_code_t = 3;
pub const SMG_ERR_ALREADY_EXISTS: smg_code_t = 4;
pub const SMG_ERR_UNAVAILABLE: smg_code_t = 5;
pub const SMG_ERR_RESOURCE_EXHAUSTED: smg_code_t = 6;
pub const SMG_ERR_FAILED_PRECONDITION: smg_code_t = 7;
pub const SMG_ERR_INTERNAL: smg_code_t = 8;

/// Opaque: an owned error object.
#[repr(C)]
pub struct smg_error_t {
    _private: [u8; 0],
}

// ---- Enumerations -------------------------------------------------------------

pub const SMG_WORKER_REGULAR: u8 = 0;
pub const SMG_WORKER_PREFILL: u8 = 1;
pub const SMG_WORKER_DECODE: u8 = 2;

pub const SMG_HEALTH_PENDING: u8 = 0;
pub const SMG_HEALTH_READY: u8 = 1;
pub const SMG_HEALTH_NOT_READY: u8 = 2;
pub const SMG_HEALTH_FAILED: u8 = 3;
pub const SMG_HEALTH_DRAINING: u8 = 4;

pub const SMG_BREAKER_CLOSED: u8 = 0;
pub const SMG_BREAKER_OPEN: u8 = 1;
pub const SMG_BREAKER_HALF_OPEN: u8 = 2;

pub const SMG_POLICY_RANDOM: u8 = 0;
pub const SMG_POLICY_ROUND_ROBIN: u8 = 1;
pub const SMG_POLICY_POWER_OF_TWO: u8 = 2;
pub const SMG_POLICY_CACHE_AWARE: u8 = 3;
pub const SMG_POLICY_CONSISTENT_HASH: u8 = 4;
pub const SMG_POLICY_PREFIX_HASH: u8 = 5;

pub const SMG_OUTCOME_TRANSPORT_ERROR: i32 = -1;
pub const SMG_OUTCOME_CANCELLED: i32 = -2;

pub const SMG_ENUM_WORKER_TYPE: u32 = 0;
pub const SMG_ENUM_HEALTH: u32 = 1;
pub const SMG_ENUM_BREAKER_STATE: u32 = 2;
pub const SMG_ENUM_POLICY: u32 = 3;
pub const SMG_ENUM_ADMISSION: u32 = 4;
pub const SMG_ENUM_RETRY_VERDICT: u32 = 5;
pub const SMG_ENUM_TENANT_DECISION: u32 = 6;

// ---- Policy configuration ------------------------------------------------------

#[repr(C)]
pub struct smg_policy_config_t {
    _private: [u8; 0],
}

pub const SMG_POLICY_OPT_CACHE_THRESHOLD: u32 = 1;
pub const SMG_POLICY_OPT_BALANCE_ABS_THRESHOLD: u32 = 2;
pub const SMG_POLICY_OPT_BALANCE_REL_THRESHOLD: u32 = 3;
pub const SMG_POLICY_OPT_EVICTION_INTERVAL_NS: u32 = 4;
pub const SMG_POLICY_OPT_MAX_TREE_SIZE: u32 = 5;
pub const SMG_POLICY_OPT_TOKEN_PAGE_SIZE: u32 = 6;
pub const SMG_POLICY_OPT_EVICT_INLINE: u32 = 7;
pub const SMG_POLICY_OPT_IMBALANCE_LOCALITY_WINDOW: u32 = 8;
pub const SMG_POLICY_OPT_LOAD_SAMPLE_SIZE: u32 = 9;
pub const SMG_POLICY_OPT_USE_ENGINE_LOAD: u32 = 10;
pub const SMG_POLICY_OPT_VIRTUAL_NODES: u32 = 11;
pub const SMG_POLICY_OPT_LOAD_FACTOR: u32 = 12;
pub const SMG_POLICY_OPT_KEY_HEADER: u32 = 13;
pub const SMG_POLICY_OPT_USE_IMPLICIT_KEYS: u32 = 14;
pub const SMG_POLICY_OPT_PREFIX_TOKENS: u32 = 15;
pub const SMG_POLICY_OPT_PREFIX_BYTES: u32 = 16;
pub const SMG_POLICY_OPT_EVICT_HEADROOM: u32 = 17;

// ---- Router options ---------------------------------------------------------------

#[repr(C)]
pub struct smg_router_options_t {
    _private: [u8; 0],
}

pub const SMG_ROUTER_OPT_PD_MODE: u32 = 1;
pub const SMG_ROUTER_OPT_DEFAULT_MODEL: u32 = 2;
pub const SMG_ROUTER_OPT_RANDOM_SEED: u32 = 3;

// ---- Router, workers, selection -------------------------------------------------

#[repr(C)]
pub struct smg_router_t {
    _private: [u8; 0],
}

#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct smg_label_t {
    pub key: smg_str_t,
    pub value: smg_str_t,
}

#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct smg_worker_spec_t {
    pub url: smg_str_t,
    pub model: smg_str_t,
    pub type_: u8,
    pub health: u8,
    pub bootstrap_port: u16,
    pub weight: u32,
    pub labels: *const smg_label_t,
    pub labels_len: usize,
}

#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct smg_worker_info_t {
    pub id: u32,
    pub type_: u8,
    pub health: u8,
    pub breaker_state: u8,
    pub has_engine_load: u8,
    pub bootstrap_port: u16,
    pub weight: u32,
    pub url: smg_str_t,
    pub model: smg_str_t,
    pub bootstrap_host: smg_str_t,
    pub labels: *const smg_label_t,
    pub labels_len: usize,
    pub in_flight: i64,
    pub successes: u64,
    pub failures: u64,
    pub cancelled: u64,
    pub probes_passed: u64,
    pub probes_failed: u64,
    pub engine_load: f64,
}

#[repr(C)]
pub struct smg_workers_t {
    _private: [u8; 0],
}

#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct smg_header_t {
    pub name: smg_str_t,
    pub value: smg_str_t,
}

#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct smg_request_t {
    pub model: smg_str_t,
    pub text: smg_str_t,
    pub tokens: *const u32,
    pub tokens_len: usize,
    pub routing_key: smg_str_t,
    pub headers: *const smg_header_t,
    pub headers_len: usize,
    pub exclude_workers: *const u32,
    pub exclude_workers_len: usize,
    pub tenant: smg_str_t,
    pub estimated_tokens: u64,
}

/// Caller-owned ticket storage; all zeros is SMG_TICKET_INIT (empty). The
/// header allows moving it with memcpy, which is what a Rust move does.
#[repr(C)]
#[derive(Debug)]
pub struct smg_ticket_t {
    pub opaque_: [u64; 16],
}

pub const SMG_TICKET_INIT: smg_ticket_t = smg_ticket_t { opaque_: [0; 16] };

#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct smg_selection_t {
    pub worker_id: u32,
    pub decode_worker_id: u32,
    pub url: smg_str_t,
    pub decode_url: smg_str_t,
    pub bootstrap_host: smg_str_t,
    pub bootstrap_port: u16,
    pub is_pd: u8,
    pub bootstrap_room: u64,
}

unsafe extern "C" {
    pub fn smg_abi_version() -> u32;
    pub fn smg_version_number() -> u32;
    pub fn smg_version_string() -> *const c_char;

    pub fn smg_cstr(s: *const c_char) -> smg_str_t;

    pub fn smg_code_name(code: smg_code_t) -> *const c_char;
    pub fn smg_error_code(err: *const smg_error_t) -> smg_code_t;
    pub fn smg_error_message(err: *const smg_error_t) -> smg_str_t;
    pub fn smg_error_retry_after_ns(err: *const smg_error_t) -> i64;
    pub fn smg_error_destroy(err: *mut smg_error_t);
    pub fn smg_free(p: *mut c_void);

    pub fn smg_enum_name(which: u32, value: u32) -> *const c_char;
    pub fn smg_policy_parse(name: *const c_char, name_len: usize, kind_out: *mut u8) -> smg_code_t;

    pub fn smg_policy_config_create(
        kind: u8,
        config_out: *mut *mut smg_policy_config_t,
        err: *mut *mut smg_error_t,
    ) -> smg_code_t;
    pub fn smg_policy_config_destroy(config: *mut smg_policy_config_t);
    pub fn smg_policy_config_set_int(
        config: *mut smg_policy_config_t,
        key: u32,
        value: i64,
        err: *mut *mut smg_error_t,
    ) -> smg_code_t;
    pub fn smg_policy_config_set_double(
        config: *mut smg_policy_config_t,
        key: u32,
        value: f64,
        err: *mut *mut smg_error_t,
    ) -> smg_code_t;
    pub fn smg_policy_config_set_string(
        config: *mut smg_policy_config_t,
        key: u32,
        value: *const c_char,
        value_len: usize,
        err: *mut *mut smg_error_t,
    ) -> smg_code_t;

    pub fn smg_router_options_create(options_out: *mut *mut smg_router_options_t) -> smg_code_t;
    pub fn smg_router_options_destroy(options: *mut smg_router_options_t);
    pub fn smg_router_options_set_int(
        options: *mut smg_router_options_t,
        key: u32,
        value: i64,
        err: *mut *mut smg_error_t,
    ) -> smg_code_t;
    pub fn smg_router_options_set_double(
        options: *mut smg_router_options_t,
        key: u32,
        value: f64,
        err: *mut *mut smg_error_t,
    ) -> smg_code_t;
    pub fn smg_router_options_set_string(
        options: *mut smg_router_options_t,
        key: u32,
        value: *const c_char,
        value_len: usize,
        err: *mut *mut smg_error_t,
    ) -> smg_code_t;
    pub fn smg_router_options_set_policy(
        options: *mut smg_router_options_t,
        model: *const c_char,
        model_len: usize,
        slot: u32,
        config: *const smg_policy_config_t,
        err: *mut *mut smg_error_t,
    ) -> smg_code_t;

    pub fn smg_router_create(
        options: *const smg_router_options_t,
        router_out: *mut *mut smg_router_t,
        err: *mut *mut smg_error_t,
    ) -> smg_code_t;
    pub fn smg_router_destroy(router: *mut smg_router_t);

    pub fn smg_worker_spec_init(spec: *mut smg_worker_spec_t);
    pub fn smg_router_add_worker(
        router: *mut smg_router_t,
        spec: *const smg_worker_spec_t,
        id_out: *mut u32,
        err: *mut *mut smg_error_t,
    ) -> smg_code_t;
    pub fn smg_router_remove_worker(
        router: *mut smg_router_t,
        worker_id: u32,
        err: *mut *mut smg_error_t,
    ) -> smg_code_t;
    pub fn smg_router_set_health(
        router: *mut smg_router_t,
        worker_id: u32,
        health: u8,
        err: *mut *mut smg_error_t,
    ) -> smg_code_t;

    pub fn smg_router_list_workers(
        router: *const smg_router_t,
        model: *const c_char,
        model_len: usize,
        type_: i32,
        workers_out: *mut *mut smg_workers_t,
        err: *mut *mut smg_error_t,
    ) -> smg_code_t;
    pub fn smg_router_get_worker(
        router: *const smg_router_t,
        worker_id: u32,
        workers_out: *mut *mut smg_workers_t,
        err: *mut *mut smg_error_t,
    ) -> smg_code_t;
    pub fn smg_workers_count(workers: *const smg_workers_t) -> usize;
    pub fn smg_workers_get(
        workers: *const smg_workers_t,
        index: usize,
        info_out: *mut smg_worker_info_t,
    ) -> smg_code_t;
    pub fn smg_workers_destroy(workers: *mut smg_workers_t);

    pub fn smg_request_init(request: *mut smg_request_t);
    pub fn smg_router_select(
        router: *mut smg_router_t,
        request: *const smg_request_t,
        ticket: *mut smg_ticket_t,
        selection_out: *mut smg_selection_t,
        err: *mut *mut smg_error_t,
    ) -> smg_code_t;
    pub fn smg_ticket_is_active(ticket: *const smg_ticket_t) -> u8;
    pub fn smg_ticket_selection(
        ticket: *const smg_ticket_t,
        selection_out: *mut smg_selection_t,
    ) -> smg_code_t;
    pub fn smg_ticket_finish(
        ticket: *mut smg_ticket_t,
        outcome: i32,
        err: *mut *mut smg_error_t,
    ) -> smg_code_t;
    pub fn smg_ticket_finish_pd(
        ticket: *mut smg_ticket_t,
        prefill_outcome: i32,
        decode_outcome: i32,
        err: *mut *mut smg_error_t,
    ) -> smg_code_t;

    pub fn smg_router_metrics(
        router: *const smg_router_t,
        text_out: *mut *mut c_char,
        len_out: *mut usize,
        err: *mut *mut smg_error_t,
    ) -> smg_code_t;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::{offset_of, size_of};

    // The sizes and offsets gcc gives these structs on x86-64 and aarch64
    // Linux: a field declared in the wrong order or with the wrong width
    // shows up here instead of as garbage at run time.
    #[test]
    #[cfg(target_pointer_width = "64")]
    fn layouts_match_the_c_header() {
        assert_eq!(size_of::<smg_str_t>(), 16);
        assert_eq!(size_of::<smg_label_t>(), 32);
        assert_eq!(size_of::<smg_header_t>(), 32);
        assert_eq!(size_of::<smg_worker_spec_t>(), 56);
        assert_eq!(size_of::<smg_request_t>(), 120);
        assert_eq!(size_of::<smg_ticket_t>(), 128);
        assert_eq!(size_of::<smg_selection_t>(), 72);
        assert_eq!(offset_of!(smg_selection_t, bootstrap_port), 56);
        assert_eq!(offset_of!(smg_selection_t, bootstrap_room), 64);
        assert_eq!(size_of::<smg_worker_info_t>(), 136);
        assert_eq!(offset_of!(smg_worker_info_t, in_flight), 80);
    }
}
