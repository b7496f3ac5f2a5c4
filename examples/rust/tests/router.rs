//! The safe wrapper against the real libsmgcore_c.so.

use std::collections::HashMap;
use std::thread;

use smgcore::{
    Code, Health, Outcome, Policy, PolicyConfig, Request, Router, RouterOptions, Ticket,
    WorkerSpec, WorkerType,
};

const PREFILL: [(&str, u16); 2] = [
    ("http://prefill-0.svc:30000", 8998),
    ("http://prefill-1.svc:30000", 8999),
];
const DECODE: [&str; 2] = ["http://decode-0.svc:30000", "http://decode-1.svc:30000"];

/// The demo's router: PD mode, cache_aware prefill, round_robin decode.
fn pd_router() -> Router {
    let mut options = RouterOptions::new().unwrap();
    options
        .pd_mode(true)
        .unwrap()
        .random_seed(7)
        .unwrap()
        .policy(
            "",
            WorkerType::Prefill,
            &PolicyConfig::new(Policy::CacheAware).unwrap(),
        )
        .unwrap()
        .policy(
            "",
            WorkerType::Decode,
            &PolicyConfig::new(Policy::RoundRobin).unwrap(),
        )
        .unwrap();
    let router = Router::new(&options).unwrap();
    for (url, port) in PREFILL {
        router.add_worker(&WorkerSpec::prefill(url, port)).unwrap();
    }
    for url in DECODE {
        router.add_worker(&WorkerSpec::decode(url)).unwrap();
    }
    router
}

/// A regular router with one worker, and that worker's id.
fn single_worker_router() -> (Router, u32) {
    let router = Router::new(&RouterOptions::new().unwrap()).unwrap();
    let id = router
        .add_worker(&WorkerSpec::new("http://10.0.0.1:30000"))
        .unwrap();
    (router, id)
}

#[test]
fn the_loaded_library_speaks_this_abi() {
    assert!(smgcore::abi_compatible());
    assert_eq!(smgcore::version().split('.').count(), 3);
    assert_eq!(Policy::CacheAware.name(), "cache_aware");
}

#[test]
fn pd_selection_pairs_a_prefill_and_a_decode_worker() {
    let router = pd_router();
    let ports: HashMap<&str, u16> = PREFILL.into_iter().collect();

    let ticket = router
        .select(&Request::text("Summarize the following document: ..."))
        .unwrap();
    let sel = ticket.selection();
    let pd = sel.pd.expect("PD selection");
    assert!(ports.contains_key(sel.url), "prefill url {}", sel.url);
    assert!(
        DECODE.contains(&pd.decode_url),
        "decode url {}",
        pd.decode_url
    );
    assert_ne!(sel.worker_id, pd.decode_worker_id);
    // The bootstrap parameters are the chosen prefill worker's own.
    assert_eq!(pd.bootstrap_port, ports[sel.url]);
    assert!(
        sel.url.contains(pd.bootstrap_host),
        "host {} of {}",
        pd.bootstrap_host,
        sel.url
    );
    assert!(pd.bootstrap_room < 1 << 63);

    let prefill = router.worker(sel.worker_id).unwrap();
    assert_eq!(prefill.kind, WorkerType::Prefill);
    assert_eq!(prefill.in_flight, 1);
    assert_eq!(router.worker(pd.decode_worker_id).unwrap().in_flight, 1);
    let (prefill_id, decode_id) = (sel.worker_id, pd.decode_worker_id);

    ticket
        .finish_pd(Outcome::Status(200), Outcome::TransportError)
        .unwrap();
    let prefill = router.worker(prefill_id).unwrap();
    let decode = router.worker(decode_id).unwrap();
    assert_eq!((prefill.in_flight, prefill.successes), (0, 1));
    assert_eq!((decode.in_flight, decode.failures), (0, 1));
}

#[test]
fn the_same_prompt_returns_to_the_same_prefill_worker() {
    let router = pd_router();
    let prompt = "You are a helpful assistant. Here is a long shared system prompt about routing.";
    let first = router.select(&Request::text(prompt)).unwrap();
    let prefill = first.selection().worker_id;
    first.finish(Outcome::Status(200)).unwrap();
    for _ in 0..5 {
        let again = router.select(&Request::text(prompt)).unwrap();
        assert_eq!(
            again.selection().worker_id,
            prefill,
            "cache_aware follows the cached prefix"
        );
        again.finish(Outcome::Status(200)).unwrap();
    }
}

#[test]
fn errors_carry_the_code_and_the_message() {
    let router = pd_router();

    let err = router
        .select(&Request {
            model: "no-such-model",
            ..Request::text("hi")
        })
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    assert!(!err.message().is_empty());
    assert!(err.to_string().starts_with("SMG_ERR_NOT_FOUND: "), "{err}");

    let err = router
        .add_worker(&WorkerSpec::decode(DECODE[0]))
        .unwrap_err();
    assert_eq!(err.code(), Code::AlreadyExists);
    let err = router
        .add_worker(&WorkerSpec::decode("not a url"))
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    // A bootstrap port belongs to prefill workers only.
    let err = router
        .add_worker(&WorkerSpec {
            bootstrap_port: 1,
            ..WorkerSpec::decode("http://d.svc:1")
        })
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(
        router.remove_worker(999).unwrap_err().code(),
        Code::NotFound
    );

    // Option ranges are checked when the router is built, naming the field.
    let mut options = RouterOptions::new().unwrap();
    let mut config = PolicyConfig::new(Policy::CacheAware).unwrap();
    config
        .set_double(smgcore::ffi::SMG_POLICY_OPT_CACHE_THRESHOLD, 7.5)
        .unwrap();
    options.policy("", WorkerType::Regular, &config).unwrap();
    let err = Router::new(&options).err().expect("threshold out of range");
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(!err.message().is_empty());

    // A key of another policy kind is refused by the setter itself.
    let err = config
        .set_int(smgcore::ffi::SMG_POLICY_OPT_VIRTUAL_NODES, 10)
        .err()
        .unwrap();
    assert_eq!(err.code(), Code::InvalidArgument);
}

#[test]
fn unavailable_when_no_worker_is_ready() {
    let (router, id) = single_worker_router();
    router.set_health(id, Health::NotReady).unwrap();
    assert_eq!(
        router.select(&Request::text("hi")).unwrap_err().code(),
        Code::Unavailable
    );
    router.set_health(id, Health::Ready).unwrap();
    router
        .select(&Request::text("hi"))
        .unwrap()
        .finish(Outcome::Status(200))
        .unwrap();
}

#[test]
fn dropping_an_active_ticket_cancels_it() {
    let (router, id) = single_worker_router();
    {
        let _ticket = router.select(&Request::text("hi")).unwrap();
        assert_eq!(router.worker(id).unwrap().in_flight, 1);
    }
    let info = router.worker(id).unwrap();
    assert_eq!((info.in_flight, info.cancelled, info.successes), (0, 1, 0));

    // A rejected outcome leaves the ticket to Drop, which cancels it.
    let ticket = router.select(&Request::text("hi")).unwrap();
    assert_eq!(
        ticket.finish(Outcome::Status(42)).unwrap_err().code(),
        Code::InvalidArgument
    );
    let info = router.worker(id).unwrap();
    assert_eq!((info.in_flight, info.cancelled), (0, 2));
}

#[test]
fn a_ticket_may_outlive_its_router_and_move_between_threads() {
    let (router, _) = single_worker_router();
    let ticket = router.select(&Request::text("hi")).unwrap();
    drop(router);
    assert_eq!(ticket.selection().url, "http://10.0.0.1:30000");
    thread::spawn(move || ticket.finish(Outcome::Status(200)))
        .join()
        .unwrap()
        .unwrap();
}

#[test]
fn many_threads_route_through_one_router() {
    const THREADS: usize = 4;
    const PER_THREAD: usize = 50;
    let router = pd_router();

    // Tickets are selected on four threads and finished on another one
    // (Ticket is Send), as a gateway finishing on its I/O thread would.
    let tickets: Vec<Ticket> = thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let router = &router;
                s.spawn(move || {
                    (0..PER_THREAD)
                        .map(|i| {
                            router
                                .select(&Request::text(&format!("thread {t} request {i}")))
                                .unwrap()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });

    let in_flight: i64 = router
        .workers(None, Some(WorkerType::Decode))
        .unwrap()
        .iter()
        .map(|w| w.in_flight)
        .sum();
    assert_eq!(in_flight, (THREADS * PER_THREAD) as i64);

    thread::spawn(move || {
        for ticket in tickets {
            ticket.finish(Outcome::Status(200)).unwrap();
        }
    })
    .join()
    .unwrap();

    let workers = router.workers(None, None).unwrap();
    assert_eq!(workers.len(), 4);
    assert!(workers.iter().all(|w| w.in_flight == 0));
    for kind in [WorkerType::Prefill, WorkerType::Decode] {
        let done: u64 = workers
            .iter()
            .filter(|w| w.kind == kind)
            .map(|w| w.successes)
            .sum();
        assert_eq!(done, (THREADS * PER_THREAD) as u64, "{kind:?}");
    }
    // round_robin spreads the decode leg evenly.
    let decode: Vec<u64> = workers
        .iter()
        .filter(|w| w.kind == WorkerType::Decode)
        .map(|w| w.successes)
        .collect();
    assert_eq!(decode, [100, 100]);
}

#[test]
fn metrics_are_prometheus_text() {
    let (router, _) = single_worker_router();
    router
        .select(&Request::text("hi"))
        .unwrap()
        .finish(Outcome::Status(200))
        .unwrap();
    let text = router.metrics().unwrap();
    assert!(text.contains("# TYPE"), "{text}");
    assert!(text.contains("http://10.0.0.1:30000"));
}
