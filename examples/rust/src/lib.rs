//! smgcore from Rust: a safe wrapper over the C ABI (`libsmgcore_c.so`).
//!
//! The raw declarations are in [`ffi`]; this module turns them into owned
//! types that free their handles on `Drop`, `Result`s carrying the C error's
//! code and message, and a [`Ticket`] that cannot be finished twice and is
//! finished as cancelled if it is dropped while still active.
//!
//! ```no_run
//! use smgcore::{Outcome, Policy, PolicyConfig, Request, Router, RouterOptions, WorkerSpec};
//!
//! let mut options = RouterOptions::new()?;
//! options.policy("", smgcore::WorkerType::Regular, &PolicyConfig::new(Policy::CacheAware)?)?;
//! let router = Router::new(&options)?;
//! router.add_worker(&WorkerSpec::new("http://10.0.0.1:30000"))?;
//! let ticket = router.select(&Request::text("Hello"))?;
//! println!("send it to {}", ticket.selection().url);
//! ticket.finish(Outcome::Status(200))?;
//! # Ok::<(), smgcore::Error>(())
//! ```
//!
//! Thread safety follows the header: a [`Router`] is `Send + Sync` (every C
//! router call may run concurrently), option builders and tickets are `Send`
//! but not `Sync` (one thread at a time, movable between threads).
//!
//! ```compile_fail
//! fn shared<T: Sync>() {}
//! shared::<smgcore::Ticket>(); // a ticket is used by one thread at a time
//! ```

pub mod ffi;

use std::cell::Cell;
use std::ffi::{CStr, c_char};
use std::fmt;
use std::marker::PhantomData;
use std::ptr::{self, NonNull};
use std::time::Duration;

use ffi::{smg_code_t, smg_error_t, smg_str_t};

/// The ABI version of the loaded library.
pub fn abi_version() -> u32 {
    // SAFETY: no arguments, no preconditions.
    unsafe { ffi::smg_abi_version() }
}

/// Whether the loaded library speaks the ABI these declarations describe;
/// check it once at startup (convention 9 of the header).
pub fn abi_compatible() -> bool {
    abi_version() == ffi::SMG_ABI_VERSION
}

/// The loaded library's release, "major.minor.patch".
pub fn version() -> &'static str {
    // SAFETY: the library returns a static NUL-terminated ASCII string.
    unsafe { CStr::from_ptr(ffi::smg_version_string()) }
        .to_str()
        .unwrap_or("?")
}

// ---- Errors -------------------------------------------------------------------

/// Why a call failed: the C ABI's `SMG_ERR_*` codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Code {
    InvalidArgument,
    InvalidHandle,
    NotFound,
    AlreadyExists,
    Unavailable,
    ResourceExhausted,
    FailedPrecondition,
    Internal,
    /// A code this wrapper does not know (a newer library within the same ABI).
    Unknown(i32),
}

impl Code {
    fn from_raw(code: smg_code_t) -> Code {
        match code {
            ffi::SMG_ERR_INVALID_ARGUMENT => Code::InvalidArgument,
            ffi::SMG_ERR_INVALID_HANDLE => Code::InvalidHandle,
            ffi::SMG_ERR_NOT_FOUND => Code::NotFound,
            ffi::SMG_ERR_ALREADY_EXISTS => Code::AlreadyExists,
            ffi::SMG_ERR_UNAVAILABLE => Code::Unavailable,
            ffi::SMG_ERR_RESOURCE_EXHAUSTED => Code::ResourceExhausted,
            ffi::SMG_ERR_FAILED_PRECONDITION => Code::FailedPrecondition,
            ffi::SMG_ERR_INTERNAL => Code::Internal,
            other => Code::Unknown(other),
        }
    }

    /// The numeric `smg_code_t`.
    pub fn raw(self) -> i32 {
        match self {
            Code::InvalidArgument => ffi::SMG_ERR_INVALID_ARGUMENT,
            Code::InvalidHandle => ffi::SMG_ERR_INVALID_HANDLE,
            Code::NotFound => ffi::SMG_ERR_NOT_FOUND,
            Code::AlreadyExists => ffi::SMG_ERR_ALREADY_EXISTS,
            Code::Unavailable => ffi::SMG_ERR_UNAVAILABLE,
            Code::ResourceExhausted => ffi::SMG_ERR_RESOURCE_EXHAUSTED,
            Code::FailedPrecondition => ffi::SMG_ERR_FAILED_PRECONDITION,
            Code::Internal => ffi::SMG_ERR_INTERNAL,
            Code::Unknown(raw) => raw,
        }
    }

    /// The library's name for the code, e.g. "SMG_ERR_NOT_FOUND".
    pub fn name(self) -> &'static str {
        // SAFETY: smg_code_name returns a static NUL-terminated string for any value.
        unsafe { CStr::from_ptr(ffi::smg_code_name(self.raw())) }
            .to_str()
            .unwrap_or("?")
    }
}

/// A failed call: the code plus the library's explanation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    code: Code,
    message: String,
    retry_after: Option<Duration>,
}

impl Error {
    pub fn code(&self) -> Code {
        self.code
    }

    /// The library's message; empty for calls that report a code only.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The Retry-After hint of a [`Code::ResourceExhausted`] error.
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }

    /// Builds the error for `code`, taking ownership of `err` (may be null).
    ///
    /// # Safety
    /// `err` is null or an error object returned by the library and not yet
    /// destroyed.
    unsafe fn take(code: smg_code_t, err: *mut smg_error_t) -> Error {
        let mut error = Error {
            code: Code::from_raw(code),
            message: String::new(),
            retry_after: None,
        };
        if !err.is_null() {
            // SAFETY: `err` is a live error object; its message is borrowed
            // until the destroy below, so it is copied first.
            unsafe {
                error.message =
                    String::from_utf8_lossy(bytes_of(ffi::smg_error_message(err))).into_owned();
                let ns = ffi::smg_error_retry_after_ns(err);
                if ns >= 0 {
                    error.retry_after = Some(Duration::from_nanos(ns as u64));
                }
                ffi::smg_error_destroy(err);
            }
        }
        error
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.message.is_empty() {
            f.write_str(self.code.name())
        } else {
            write!(f, "{}: {}", self.code.name(), self.message)
        }
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

/// Runs a C call that takes a trailing `smg_error_t** err`, turning a failure
/// into an [`Error`] with the library's message.
fn call(f: impl FnOnce(*mut *mut smg_error_t) -> smg_code_t) -> Result<()> {
    let mut err: *mut smg_error_t = ptr::null_mut();
    let code = f(&mut err);
    if code == ffi::SMG_OK {
        Ok(())
    } else {
        // SAFETY: the library set `err` to an owned error object or left it null.
        Err(unsafe { Error::take(code, err) })
    }
}

/// The same for calls that return a code only.
fn check(code: smg_code_t) -> Result<()> {
    call(|_| code)
}

// ---- Strings ------------------------------------------------------------------

/// A borrowed view of `s` for the C side (convention 5: pointer + length).
fn view(s: &[u8]) -> smg_str_t {
    smg_str_t {
        data: s.as_ptr().cast::<c_char>(),
        len: s.len(),
    }
}

/// The bytes of a library string.
///
/// # Safety
/// `s` points at `s.len` readable bytes (or has length 0) that outlive `'a`.
unsafe fn bytes_of<'a>(s: smg_str_t) -> &'a [u8] {
    if s.len == 0 {
        &[]
    } else {
        // SAFETY: guaranteed by the caller.
        unsafe { std::slice::from_raw_parts(s.data.cast::<u8>(), s.len) }
    }
}

/// A library string that this wrapper put there as `&str` (worker URLs and
/// models, and hosts cut from those URLs at ASCII delimiters).
///
/// # Safety
/// As for [`bytes_of`].
unsafe fn str_of<'a>(s: smg_str_t) -> &'a str {
    // SAFETY: forwarded from the caller.
    let bytes = unsafe { bytes_of(s) };
    // Every string a Router built by this wrapper holds came from a &str, so
    // this cannot fail; a lossy copy would cost an allocation on the hot path.
    std::str::from_utf8(bytes)
        .expect("smgcore returned a string that this wrapper did not register")
}

// ---- Enumerations ---------------------------------------------------------------

/// A worker's role, and a policy slot of [`RouterOptions::policy`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum WorkerType {
    #[default]
    Regular,
    Prefill,
    Decode,
}

impl WorkerType {
    fn raw(self) -> u8 {
        match self {
            WorkerType::Regular => ffi::SMG_WORKER_REGULAR,
            WorkerType::Prefill => ffi::SMG_WORKER_PREFILL,
            WorkerType::Decode => ffi::SMG_WORKER_DECODE,
        }
    }

    fn from_raw(raw: u8) -> WorkerType {
        match raw {
            ffi::SMG_WORKER_PREFILL => WorkerType::Prefill,
            ffi::SMG_WORKER_DECODE => WorkerType::Decode,
            _ => WorkerType::Regular,
        }
    }
}

/// A worker's health; only ready workers are selected.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Health {
    Pending,
    #[default]
    Ready,
    NotReady,
    Failed,
    Draining,
}

impl Health {
    fn raw(self) -> u8 {
        match self {
            Health::Pending => ffi::SMG_HEALTH_PENDING,
            Health::Ready => ffi::SMG_HEALTH_READY,
            Health::NotReady => ffi::SMG_HEALTH_NOT_READY,
            Health::Failed => ffi::SMG_HEALTH_FAILED,
            Health::Draining => ffi::SMG_HEALTH_DRAINING,
        }
    }

    fn from_raw(raw: u8) -> Health {
        match raw {
            ffi::SMG_HEALTH_PENDING => Health::Pending,
            ffi::SMG_HEALTH_READY => Health::Ready,
            ffi::SMG_HEALTH_NOT_READY => Health::NotReady,
            ffi::SMG_HEALTH_FAILED => Health::Failed,
            _ => Health::Draining,
        }
    }
}

/// The built-in load-balancing policies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Policy {
    Random,
    RoundRobin,
    PowerOfTwo,
    CacheAware,
    ConsistentHash,
    PrefixHash,
}

impl Policy {
    fn raw(self) -> u8 {
        match self {
            Policy::Random => ffi::SMG_POLICY_RANDOM,
            Policy::RoundRobin => ffi::SMG_POLICY_ROUND_ROBIN,
            Policy::PowerOfTwo => ffi::SMG_POLICY_POWER_OF_TWO,
            Policy::CacheAware => ffi::SMG_POLICY_CACHE_AWARE,
            Policy::ConsistentHash => ffi::SMG_POLICY_CONSISTENT_HASH,
            Policy::PrefixHash => ffi::SMG_POLICY_PREFIX_HASH,
        }
    }

    /// The library's name, e.g. "cache_aware".
    pub fn name(self) -> &'static str {
        // SAFETY: every Policy value is inside the enumeration, so the result
        // is a static NUL-terminated string, never NULL.
        unsafe { CStr::from_ptr(ffi::smg_enum_name(ffi::SMG_ENUM_POLICY, self.raw().into())) }
            .to_str()
            .unwrap_or("?")
    }
}

/// How a request ended, passed when finishing a ticket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The worker answered with this HTTP status (100 to 599).
    Status(u16),
    /// The request never got an HTTP answer (connection refused, reset).
    TransportError,
    /// Nothing was sent or the client went away; not held against the worker.
    Cancelled,
}

impl Outcome {
    fn raw(self) -> i32 {
        match self {
            Outcome::Status(status) => status.into(),
            Outcome::TransportError => ffi::SMG_OUTCOME_TRANSPORT_ERROR,
            Outcome::Cancelled => ffi::SMG_OUTCOME_CANCELLED,
        }
    }
}

// ---- Options ------------------------------------------------------------------

/// A policy and its options (`smg_policy_config_t`).
pub struct PolicyConfig {
    raw: NonNull<ffi::smg_policy_config_t>,
}

// SAFETY: option builders may move between threads (used by one at a time,
// which `&mut self` on every setter enforces).
unsafe impl Send for PolicyConfig {}

impl PolicyConfig {
    /// `kind` with its default options.
    pub fn new(kind: Policy) -> Result<PolicyConfig> {
        let mut raw = ptr::null_mut();
        // SAFETY: valid out-pointers.
        call(|err| unsafe { ffi::smg_policy_config_create(kind.raw(), &mut raw, err) })?;
        Ok(PolicyConfig {
            raw: NonNull::new(raw).expect("created on success"),
        })
    }

    /// Sets an integer or boolean option (`ffi::SMG_POLICY_OPT_*`).
    pub fn set_int(&mut self, key: u32, value: i64) -> Result<&mut Self> {
        // SAFETY: live handle.
        call(|err| unsafe { ffi::smg_policy_config_set_int(self.raw.as_ptr(), key, value, err) })?;
        Ok(self)
    }

    /// Sets a floating-point option.
    pub fn set_double(&mut self, key: u32, value: f64) -> Result<&mut Self> {
        // SAFETY: live handle.
        call(|err| unsafe {
            ffi::smg_policy_config_set_double(self.raw.as_ptr(), key, value, err)
        })?;
        Ok(self)
    }

    /// Sets a string option.
    pub fn set_string(&mut self, key: u32, value: &str) -> Result<&mut Self> {
        let v = view(value.as_bytes());
        // SAFETY: live handle; the string is borrowed for the call.
        call(|err| unsafe {
            ffi::smg_policy_config_set_string(self.raw.as_ptr(), key, v.data, v.len, err)
        })?;
        Ok(self)
    }
}

impl Drop for PolicyConfig {
    fn drop(&mut self) {
        // SAFETY: we own the handle and this is its last use.
        unsafe { ffi::smg_policy_config_destroy(self.raw.as_ptr()) }
    }
}

/// A router's options (`smg_router_options_t`); defaults as in router.h.
pub struct RouterOptions {
    raw: NonNull<ffi::smg_router_options_t>,
}

// SAFETY: as for PolicyConfig.
unsafe impl Send for RouterOptions {}

impl RouterOptions {
    pub fn new() -> Result<RouterOptions> {
        let mut raw = ptr::null_mut();
        // SAFETY: valid out-pointer.
        check(unsafe { ffi::smg_router_options_create(&mut raw) })?;
        Ok(RouterOptions {
            raw: NonNull::new(raw).expect("created on success"),
        })
    }

    /// Prefill-decode disaggregation: each selection picks a prefill and a
    /// decode worker.
    pub fn pd_mode(&mut self, on: bool) -> Result<&mut Self> {
        self.set_int(ffi::SMG_ROUTER_OPT_PD_MODE, on.into())
    }

    /// The model of workers and requests that name none.
    pub fn default_model(&mut self, model: &str) -> Result<&mut Self> {
        self.set_string(ffi::SMG_ROUTER_OPT_DEFAULT_MODEL, model)
    }

    /// Seeds the router's random source (random picks, bootstrap rooms).
    pub fn random_seed(&mut self, seed: u64) -> Result<&mut Self> {
        // The C side stores the int64 bit pattern as a uint64 seed.
        self.set_int(ffi::SMG_ROUTER_OPT_RANDOM_SEED, seed as i64)
    }

    /// The policy of `model`'s `slot` ("" = every model without its own).
    pub fn policy(
        &mut self,
        model: &str,
        slot: WorkerType,
        config: &PolicyConfig,
    ) -> Result<&mut Self> {
        let m = view(model.as_bytes());
        // SAFETY: live handles; the configuration is copied.
        call(|err| unsafe {
            ffi::smg_router_options_set_policy(
                self.raw.as_ptr(),
                m.data,
                m.len,
                slot.raw().into(),
                config.raw.as_ptr(),
                err,
            )
        })?;
        Ok(self)
    }

    /// Sets any integer or boolean option (`ffi::SMG_ROUTER_OPT_*`).
    pub fn set_int(&mut self, key: u32, value: i64) -> Result<&mut Self> {
        // SAFETY: live handle.
        call(|err| unsafe { ffi::smg_router_options_set_int(self.raw.as_ptr(), key, value, err) })?;
        Ok(self)
    }

    /// Sets any floating-point option.
    pub fn set_double(&mut self, key: u32, value: f64) -> Result<&mut Self> {
        // SAFETY: live handle.
        call(|err| unsafe {
            ffi::smg_router_options_set_double(self.raw.as_ptr(), key, value, err)
        })?;
        Ok(self)
    }

    /// Sets any string option.
    pub fn set_string(&mut self, key: u32, value: &str) -> Result<&mut Self> {
        let v = view(value.as_bytes());
        // SAFETY: live handle; the string is borrowed for the call.
        call(|err| unsafe {
            ffi::smg_router_options_set_string(self.raw.as_ptr(), key, v.data, v.len, err)
        })?;
        Ok(self)
    }
}

impl Drop for RouterOptions {
    fn drop(&mut self) {
        // SAFETY: we own the handle and this is its last use.
        unsafe { ffi::smg_router_options_destroy(self.raw.as_ptr()) }
    }
}

// ---- Workers ------------------------------------------------------------------

/// A worker to register.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WorkerSpec<'a> {
    /// Base URL, e.g. "http://10.0.0.7:30000"; unique per router.
    pub url: &'a str,
    /// Model served; "" means the router's default model.
    pub model: &'a str,
    pub kind: WorkerType,
    pub health: Health,
    /// Prefill workers: the KV bootstrap port (0: none).
    pub bootstrap_port: u16,
    /// Relative capacity for weighted policies, >= 1.
    pub weight: u32,
}

impl<'a> WorkerSpec<'a> {
    /// A ready regular worker of the default model, weight 1.
    pub fn new(url: &'a str) -> Self {
        WorkerSpec {
            url,
            model: "",
            kind: WorkerType::Regular,
            health: Health::Ready,
            bootstrap_port: 0,
            weight: 1,
        }
    }

    /// A prefill worker announcing its KV bootstrap port.
    pub fn prefill(url: &'a str, bootstrap_port: u16) -> Self {
        WorkerSpec {
            kind: WorkerType::Prefill,
            bootstrap_port,
            ..Self::new(url)
        }
    }

    /// A decode worker.
    pub fn decode(url: &'a str) -> Self {
        WorkerSpec {
            kind: WorkerType::Decode,
            ..Self::new(url)
        }
    }

    /// The same worker serving `model`.
    pub fn model(self, model: &'a str) -> Self {
        WorkerSpec { model, ..self }
    }
}

/// A snapshot of one worker's description and counters.
#[derive(Clone, Debug, PartialEq)]
pub struct WorkerInfo {
    pub id: u32,
    pub kind: WorkerType,
    pub health: Health,
    pub url: String,
    pub model: String,
    pub bootstrap_host: String,
    pub bootstrap_port: u16,
    pub weight: u32,
    pub in_flight: i64,
    pub successes: u64,
    pub failures: u64,
    pub cancelled: u64,
}

impl WorkerInfo {
    /// Copies the snapshot out of a worker list.
    ///
    /// # Safety
    /// `info`'s strings are valid (the list it came from is alive).
    unsafe fn copy(info: &ffi::smg_worker_info_t) -> WorkerInfo {
        // SAFETY: forwarded from the caller.
        let owned = |s| unsafe { String::from_utf8_lossy(bytes_of(s)).into_owned() };
        WorkerInfo {
            id: info.id,
            kind: WorkerType::from_raw(info.type_),
            health: Health::from_raw(info.health),
            url: owned(info.url),
            model: owned(info.model),
            bootstrap_host: owned(info.bootstrap_host),
            bootstrap_port: info.bootstrap_port,
            weight: info.weight,
            in_flight: info.in_flight,
            successes: info.successes,
            failures: info.failures,
            cancelled: info.cancelled,
        }
    }
}

/// An owned `smg_workers_t`, copied into `WorkerInfo`s and freed.
struct WorkerList(NonNull<ffi::smg_workers_t>);

impl WorkerList {
    fn to_vec(&self) -> Vec<WorkerInfo> {
        // SAFETY: live list; each entry is copied before the list is freed.
        unsafe {
            let n = ffi::smg_workers_count(self.0.as_ptr());
            let mut out = Vec::with_capacity(n);
            for i in 0..n {
                let mut info = std::mem::zeroed::<ffi::smg_worker_info_t>();
                check(ffi::smg_workers_get(self.0.as_ptr(), i, &mut info)).expect("index in range");
                out.push(WorkerInfo::copy(&info));
            }
            out
        }
    }
}

impl Drop for WorkerList {
    fn drop(&mut self) {
        // SAFETY: we own the list.
        unsafe { ffi::smg_workers_destroy(self.0.as_ptr()) }
    }
}

// ---- Router -------------------------------------------------------------------

/// What a policy may look at; every field is optional.
#[derive(Clone, Copy, Debug, Default)]
pub struct Request<'a> {
    /// "" means the router's default model.
    pub model: &'a str,
    /// The prompt as bytes, used when `tokens` is empty.
    pub text: &'a [u8],
    /// The prompt as token ids, preferred by cache_aware and prefix_hash.
    pub tokens: &'a [u32],
    /// An affinity key for consistent_hash.
    pub routing_key: &'a str,
    /// Worker ids not to choose (e.g. those already tried).
    pub exclude_workers: &'a [u32],
    /// The tenant charged by tenant limits; "" means anonymous.
    pub tenant: &'a str,
    /// Tokens expected; 0 means estimated from the prompt.
    pub estimated_tokens: u64,
}

impl<'a> Request<'a> {
    /// A request for the default model with this prompt.
    pub fn text(prompt: &'a str) -> Self {
        Request {
            text: prompt.as_bytes(),
            ..Default::default()
        }
    }

    fn to_raw(self) -> ffi::smg_request_t {
        ffi::smg_request_t {
            model: view(self.model.as_bytes()),
            text: view(self.text),
            tokens: self.tokens.as_ptr(),
            tokens_len: self.tokens.len(),
            routing_key: view(self.routing_key.as_bytes()),
            headers: ptr::null(),
            headers_len: 0,
            exclude_workers: self.exclude_workers.as_ptr(),
            exclude_workers_len: self.exclude_workers.len(),
            tenant: view(self.tenant.as_bytes()),
            estimated_tokens: self.estimated_tokens,
        }
    }
}

/// A router: the worker registry plus one policy per model and leg.
///
/// Every method takes `&self` and may run on many threads at once (the C
/// router is thread-safe); share it with `&Router` or `Arc<Router>`.
pub struct Router {
    raw: NonNull<ffi::smg_router_t>,
}

// SAFETY: the C router may be used from any number of threads concurrently;
// only destroy must be exclusive, which Drop guarantees.
unsafe impl Send for Router {}
unsafe impl Sync for Router {}

impl Router {
    /// A router with no workers; the options are validated and copied.
    pub fn new(options: &RouterOptions) -> Result<Router> {
        let mut raw = ptr::null_mut();
        // SAFETY: live options handle, valid out-pointer.
        call(|err| unsafe { ffi::smg_router_create(options.raw.as_ptr(), &mut raw, err) })?;
        Ok(Router {
            raw: NonNull::new(raw).expect("created on success"),
        })
    }

    /// Registers a worker and returns its id (1, 2, 3, ... never reused).
    pub fn add_worker(&self, spec: &WorkerSpec<'_>) -> Result<u32> {
        let raw = ffi::smg_worker_spec_t {
            url: view(spec.url.as_bytes()),
            model: view(spec.model.as_bytes()),
            type_: spec.kind.raw(),
            health: spec.health.raw(),
            bootstrap_port: spec.bootstrap_port,
            weight: spec.weight,
            labels: ptr::null(),
            labels_len: 0,
        };
        let mut id = 0;
        // SAFETY: live router; the spec's strings are borrowed for the call.
        call(|err| unsafe { ffi::smg_router_add_worker(self.raw.as_ptr(), &raw, &mut id, err) })?;
        Ok(id)
    }

    /// Unregisters a worker; its outstanding tickets stay valid.
    pub fn remove_worker(&self, id: u32) -> Result<()> {
        // SAFETY: live router.
        call(|err| unsafe { ffi::smg_router_remove_worker(self.raw.as_ptr(), id, err) })
    }

    /// Forces a worker's health (an operator override).
    pub fn set_health(&self, id: u32, health: Health) -> Result<()> {
        // SAFETY: live router.
        call(|err| unsafe { ffi::smg_router_set_health(self.raw.as_ptr(), id, health.raw(), err) })
    }

    /// A snapshot of one worker.
    pub fn worker(&self, id: u32) -> Result<WorkerInfo> {
        let mut list = ptr::null_mut();
        // SAFETY: live router, valid out-pointer.
        call(|err| unsafe { ffi::smg_router_get_worker(self.raw.as_ptr(), id, &mut list, err) })?;
        let list = WorkerList(NonNull::new(list).expect("created on success"));
        Ok(list.to_vec().remove(0))
    }

    /// Snapshots of the workers, ordered by id, optionally only those of one
    /// model and/or type.
    pub fn workers(
        &self,
        model: Option<&str>,
        kind: Option<WorkerType>,
    ) -> Result<Vec<WorkerInfo>> {
        let m = view(model.unwrap_or("").as_bytes());
        let kind = kind.map_or(-1, |k| i32::from(k.raw()));
        let mut list = ptr::null_mut();
        // SAFETY: live router, valid out-pointer; the model is borrowed for the call.
        call(|err| unsafe {
            ffi::smg_router_list_workers(self.raw.as_ptr(), m.data, m.len, kind, &mut list, err)
        })?;
        Ok(WorkerList(NonNull::new(list).expect("created on success")).to_vec())
    }

    /// Chooses the worker(s) for `request`. The returned ticket counts the
    /// request as in flight until it is finished (or dropped).
    pub fn select(&self, request: &Request<'_>) -> Result<Ticket> {
        let raw_request = request.to_raw();
        let mut ticket = Ticket {
            raw: ffi::SMG_TICKET_INIT,
            _not_sync: PhantomData,
        };
        // SAFETY: live router; the request's slices outlive the call; the
        // ticket storage is empty. The selection is read later from the
        // ticket, so none is requested here.
        call(|err| unsafe {
            ffi::smg_router_select(
                self.raw.as_ptr(),
                &raw_request,
                &mut ticket.raw,
                ptr::null_mut(),
                err,
            )
        })?;
        Ok(ticket)
    }

    /// Every metric of the router in Prometheus text format.
    pub fn metrics(&self) -> Result<String> {
        let mut text: *mut c_char = ptr::null_mut();
        let mut len = 0usize;
        // SAFETY: live router, valid out-pointers.
        call(|err| unsafe {
            ffi::smg_router_metrics(self.raw.as_ptr(), &mut text, &mut len, err)
        })?;
        // SAFETY: on success `text` is an owned buffer of `len` bytes: copy
        // it, then free it with the library's allocator.
        unsafe {
            let out = String::from_utf8_lossy(bytes_of(smg_str_t { data: text, len })).into_owned();
            ffi::smg_free(text.cast());
            Ok(out)
        }
    }
}

impl Drop for Router {
    fn drop(&mut self) {
        // SAFETY: we own the handle and `&mut self` means no call is running.
        // Outstanding tickets stay valid and finish harmlessly.
        unsafe { ffi::smg_router_destroy(self.raw.as_ptr()) }
    }
}

// ---- Tickets ------------------------------------------------------------------

/// One selected request: where to send it, and the in-flight count it holds.
///
/// Finish it with [`Ticket::finish`] (or [`Ticket::finish_pd`]) once the
/// worker answered; both consume the ticket, so it cannot be finished twice.
/// A ticket dropped while still active is finished as
/// [`Outcome::Cancelled`], so an early return or a panic never leaves load
/// counted on a worker. It may outlive its router.
pub struct Ticket {
    // The C ticket lives inline: the header allows moving it with memcpy,
    // which is all a Rust move does, and the selection's strings point into
    // the worker objects the ticket keeps alive, not into this storage.
    raw: ffi::smg_ticket_t,
    // Tickets are used by one thread at a time: Send, not Sync.
    _not_sync: PhantomData<Cell<()>>,
}

impl Ticket {
    /// Where to send the request. The strings are borrowed from the ticket.
    pub fn selection(&self) -> Selection<'_> {
        // SAFETY: zeroed is a valid smg_selection_t (null strings of length 0).
        let mut s: ffi::smg_selection_t = unsafe { std::mem::zeroed() };
        // SAFETY: an unfinished Ticket is always active: select filled it and
        // only finish/Drop (which consume it) empty it.
        check(unsafe { ffi::smg_ticket_selection(&self.raw, &mut s) })
            .expect("a Ticket is active until consumed");
        // SAFETY: the strings are valid until the ticket is finished, which
        // needs `self` by value, so they outlive the borrow of `self`.
        unsafe {
            Selection {
                worker_id: s.worker_id,
                url: str_of(s.url),
                pd: (s.is_pd != 0).then(|| PdSelection {
                    decode_worker_id: s.decode_worker_id,
                    decode_url: str_of(s.decode_url),
                    bootstrap_host: str_of(s.bootstrap_host),
                    bootstrap_port: s.bootstrap_port,
                    bootstrap_room: s.bootstrap_room,
                }),
            }
        }
    }

    /// Ends the request with `outcome` on every worker of the ticket.
    ///
    /// An outcome the library rejects (a status outside 100..=599) is
    /// returned as an error and the ticket is then finished as cancelled.
    pub fn finish(mut self, outcome: Outcome) -> Result<()> {
        // SAFETY: active ticket storage.
        call(|err| unsafe { ffi::smg_ticket_finish(&mut self.raw, outcome.raw(), err) })
    }

    /// The PD form: separate outcomes for the prefill and decode legs.
    pub fn finish_pd(mut self, prefill: Outcome, decode: Outcome) -> Result<()> {
        // SAFETY: active ticket storage.
        call(|err| unsafe {
            ffi::smg_ticket_finish_pd(&mut self.raw, prefill.raw(), decode.raw(), err)
        })
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        // SAFETY: our storage; finishing an active ticket as cancelled cannot
        // fail, and an already finished one is left alone.
        unsafe {
            if ffi::smg_ticket_is_active(&self.raw) != 0 {
                ffi::smg_ticket_finish(&mut self.raw, ffi::SMG_OUTCOME_CANCELLED, ptr::null_mut());
            }
        }
    }
}

impl fmt::Debug for Ticket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Ticket").field(&self.selection()).finish()
    }
}

/// Where to send a selected request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Selection<'t> {
    /// The chosen worker; in PD mode the prefill worker.
    pub worker_id: u32,
    pub url: &'t str,
    /// PD mode: the decode half and the KV bootstrap parameters.
    pub pd: Option<PdSelection<'t>>,
}

/// The PD part of a selection (SGLang's bootstrap_host/port/room).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PdSelection<'t> {
    pub decode_worker_id: u32,
    pub decode_url: &'t str,
    pub bootstrap_host: &'t str,
    /// 0 when the prefill worker declared no port.
    pub bootstrap_port: u16,
    /// A random id in [0, 2^63) pairing the two halves.
    pub bootstrap_room: u64,
}
