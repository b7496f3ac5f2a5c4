//! The PD routing demo: a prefill-decode router with cache_aware for the
//! prefill leg and power_of_two for the decode leg, two prefill workers with
//! KV bootstrap ports and two decode workers, eight requests routed from four
//! threads at once, each decision printed.
//!
//!     cargo run            # SMGCORE_LIB_DIR defaults to ../../build/release/capi

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::Mutex;
use std::thread;

use smgcore::ffi::SMG_POLICY_OPT_USE_ENGINE_LOAD;
use smgcore::{
    Outcome, Policy, PolicyConfig, Request, Router, RouterOptions, WorkerSpec, WorkerType,
};

const PROMPTS: [&str; 4] = [
    "You are a helpful assistant. Summarize the attached report.",
    "You are a helpful assistant. Translate this paragraph into French.",
    "Write a haiku about load balancers.",
    "Explain prefill-decode disaggregation in one paragraph.",
];

fn build_router() -> smgcore::Result<Router> {
    let mut options = RouterOptions::new()?;
    options.pd_mode(true)?;
    // Prefill goes where the prompt's prefix is cached; decode to the less
    // loaded of two random workers, by in-flight count since no engine
    // reports its load here.
    options.policy(
        "",
        WorkerType::Prefill,
        &PolicyConfig::new(Policy::CacheAware)?,
    )?;
    let mut decode = PolicyConfig::new(Policy::PowerOfTwo)?;
    decode.set_int(SMG_POLICY_OPT_USE_ENGINE_LOAD, 0)?;
    options.policy("", WorkerType::Decode, &decode)?;
    let router = Router::new(&options)?;

    router.add_worker(&WorkerSpec::prefill("http://prefill-0.svc:30000", 8998))?;
    router.add_worker(&WorkerSpec::prefill("http://prefill-1.svc:30000", 8999))?;
    router.add_worker(&WorkerSpec::decode("http://decode-0.svc:30000"))?;
    router.add_worker(&WorkerSpec::decode("http://decode-1.svc:30000"))?;
    Ok(router)
}

fn run() -> smgcore::Result<()> {
    let router = build_router()?;
    let lines = Mutex::new(BTreeMap::new());

    // Four threads share one router (Router is Sync); each routes two
    // requests and finishes them as the worker's answer would.
    thread::scope(|s| {
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let (router, lines) = (&router, &lines);
                s.spawn(move || -> smgcore::Result<()> {
                    for i in 0..2 {
                        let n = t * 2 + i;
                        let ticket = router.select(&Request::text(PROMPTS[n % PROMPTS.len()]))?;
                        let sel = ticket.selection();
                        let pd = sel.pd.expect("a PD router returns PD selections");
                        let line = format!(
                            "request {n} (thread {t}): prefill {} -> decode {}  bootstrap {}:{} room {}",
                            sel.url, pd.decode_url, pd.bootstrap_host, pd.bootstrap_port, pd.bootstrap_room
                        );
                        lines.lock().unwrap().insert(n, line);
                        ticket.finish_pd(Outcome::Status(200), Outcome::Status(200))?;
                    }
                    Ok(())
                })
            })
            .collect();
        threads
            .into_iter()
            .try_for_each(|t| t.join().expect("a routing thread panicked"))
    })?;
    for line in lines.into_inner().unwrap().values() {
        println!("{line}");
    }

    let workers = router.workers(None, None)?;
    let finished: u64 = workers
        .iter()
        .filter(|w| w.kind == WorkerType::Prefill)
        .map(|w| w.successes)
        .sum();
    let in_flight: i64 = workers.iter().map(|w| w.in_flight).sum();
    println!(
        "rust host: smgcore {} (ABI {}), {} workers, {finished} PD requests routed from 4 threads, {in_flight} in flight",
        smgcore::version(),
        smgcore::abi_version(),
        workers.len()
    );
    Ok(())
}

fn main() -> ExitCode {
    if !smgcore::abi_compatible() {
        eprintln!(
            "libsmgcore_c speaks ABI {}, this program was written for ABI {}",
            smgcore::abi_version(),
            smgcore::ffi::SMG_ABI_VERSION
        );
        return ExitCode::FAILURE;
    }
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
