// File: smgcore/worker.h
//
// A worker is one inference server (SGLang, vLLM, TensorRT-LLM) that the router
// may send requests to. The host describes it with a `WorkerSpec`; the router
// registers it, assigns it a stable `WorkerId` and hands out shared `Worker`
// objects whose runtime state (health, in-flight load, counters) the router
// and tickets update atomically.
//
//   smg::WorkerSpec spec;
//   spec.url = "http://10.0.0.7:30000";
//   spec.model = "llama-3-70b";
//   spec.type = smg::WorkerType::kPrefill;
//   spec.bootstrap_port = 8998;
//   absl::StatusOr<smg::WorkerId> id = router->AddWorker(spec);
#ifndef SMGCORE_WORKER_H_
#define SMGCORE_WORKER_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "smgcore/circuit_breaker.h"
#include "smgcore/clock.h"
#include "smgcore/health.h"
#include "smgcore/outcome.h"

namespace smg {

// WorkerId
//
// Assigned by the router when a worker is added: 1, 2, 3, ... in order, never
// reused within one router, so an id that outlives its worker can never name
// another one. 0 is never a valid id.
using WorkerId = uint32_t;
inline constexpr WorkerId kInvalidWorkerId = 0;

// WorkerType
//
// The role a worker plays. Regular workers serve whole requests; in
// prefill-decode (PD) disaggregation a prefill worker computes the prompt's KV
// cache and hands it to a decode worker over the bootstrap channel.
enum class WorkerType : uint8_t {
  kRegular = 0,
  kPrefill = 1,
  kDecode = 2,
};
inline constexpr int kWorkerTypeCount = 3;

// WorkerTypeName()
//
// "regular", "prefill" or "decode".
absl::string_view WorkerTypeName(WorkerType type);

// Labels
//
// Free-form key/value metadata, ordered by key so listings are stable.
using Labels = std::map<std::string, std::string, std::less<>>;

// WorkerSpec
//
// What the host knows about a worker when it registers it. Copied by the
// router; the host may reuse or destroy it afterwards.
struct WorkerSpec {
  // The worker's base URL, e.g. "http://10.0.0.7:30000". Unique per router.
  std::string url;
  // The model it serves. Empty means the router's default model.
  std::string model;
  // Its role.
  WorkerType type = WorkerType::kRegular;
  // For prefill workers: the port of the KV bootstrap server, reported to the
  // decode worker as `bootstrap_port`. Absent means the engine's default.
  std::optional<uint16_t> bootstrap_port;
  // Host metadata.
  Labels labels;
  // Relative capacity for weighted policies (round robin). Must be >= 1.
  uint32_t weight = 1;
  // Initial health: kReady, kPending or kNotReady. Workers usually join
  // ready; a host that probes before admitting traffic adds them pending and
  // reports probes until they turn ready (see health.h).
  WorkerHealth health = WorkerHealth::kReady;
  // Per-worker circuit breaker settings; unset means the router's.
  std::optional<CircuitBreakerOptions> circuit_breaker;
  // Per-worker failure classification; unset means the router's.
  std::optional<FailureClassifier> failure_classifier;
};

class WorkerEvents;  // lib/worker_events.h

// LegLoad
//
// The requests in flight on every worker of one model's leg (regular,
// prefill or decode), for policies that bound a worker's load against the
// leg's mean. Every Select() and every Finish() on the leg changes it, from
// every routing thread, while only the bounded-load policies read it: so it
// is kept in per-thread stripes (a stripe of its own for each of the
// process's first 4096 live threads; any beyond share, which stays exact),
// and a read sums them. Thread-safe.
class LegLoad {
 public:
  LegLoad();
  ~LegLoad();
  LegLoad(const LegLoad&) = delete;
  LegLoad& operator=(const LegLoad&) = delete;

  // LegLoad::Add()
  //
  // Adds `delta` (negative to subtract) on the calling thread's stripe.
  void Add(int64_t delta);
  // LegLoad::value()
  //
  // The sum over the stripes, read one stripe at a time: exact when no add
  // runs meanwhile, else off by at most the adds in progress. A request
  // finished on another thread than the one that selected it can make the
  // raw sum briefly negative; the value is clamped at 0.
  int64_t value() const;

 private:
  struct Stripes;  // lib/worker.cc: the internal per-thread counters
  const std::unique_ptr<Stripes> stripes_;
};

// WorkerRuntime
//
// What the router gives each worker besides its spec: the resolved
// resilience settings (validated) and where to report state changes.
struct WorkerRuntime {
  CircuitBreakerOptions circuit_breaker;
  FailureClassifier failure_classifier;
  HealthOptions health;
  // Null means SteadyClock.
  const Clock* clock = nullptr;
  // Null for a worker outside any router (tests).
  std::shared_ptr<WorkerEvents> events;
};

// Worker
//
// A registered worker: its immutable description plus runtime state.
// Shared by the router's snapshots and by outstanding tickets, so a ticket can
// finish safely after its worker was removed. All accessors are thread-safe.
class Worker {
 public:
  // Worker::Worker()
  //
  // Workers are built by the router; `runtime`'s options must be valid.
  Worker(WorkerId id, WorkerSpec spec, std::string bootstrap_host, WorkerRuntime runtime = {});
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Worker::id()
  WorkerId id() const { return id_; }
  // Worker::url()
  const std::string& url() const { return url_; }
  // Worker::model()
  //
  // The model it serves, with the router's default already applied.
  const std::string& model() const { return model_; }
  // Worker::type()
  WorkerType type() const { return type_; }
  // Worker::bootstrap_port()
  std::optional<uint16_t> bootstrap_port() const { return bootstrap_port_; }
  // Worker::bootstrap_host()
  //
  // The host part of `url()` ("10.0.0.7", "::1", "prefill-0.svc"): what a PD
  // decode worker connects to for the KV hand-off.
  const std::string& bootstrap_host() const { return bootstrap_host_; }

  // Worker::labels()
  //
  // A copy of the current labels (they can be replaced while routing runs).
  Labels labels() const;
  // Worker::weight()
  uint32_t weight() const { return weight_.load(std::memory_order_relaxed); }
  // Worker::health()
  //
  // The health state (see health.h).
  WorkerHealth health() const { return health_.load(std::memory_order_acquire); }
  // Worker::breaker_state()
  BreakerState breaker_state() const { return breaker_.state(); }
  // Worker::breaker()
  //
  // The worker's circuit breaker, for its counters and state.
  const CircuitBreaker& breaker() const { return breaker_; }
  // Worker::failure_classifier()
  const FailureClassifier& failure_classifier() const { return classifier_; }
  // Worker::routable()
  //
  // Whether policies may choose the worker now: ready, and its breaker closed
  // or half-open with a free probe slot.
  bool routable() const { return health() == WorkerHealth::kReady && breaker_.accepting(); }
  // Worker::removed()
  //
  // True once the router has removed the worker. Outstanding tickets may
  // still reference it.
  bool removed() const { return removed_.load(std::memory_order_acquire); }

  // Worker::in_flight()
  //
  // Requests selected for this worker whose tickets have not finished yet.
  int64_t in_flight() const { return in_flight_.load(std::memory_order_relaxed); }
  // Worker::selections()
  //
  // Times the worker was chosen (tickets issued): those served plus those in
  // flight. Derived rather than counted, to keep a shared-line atomic off the
  // selection path; exact whenever no ticket is between its two updates.
  uint64_t selections() const {
    const int64_t in_flight = in_flight_.load(std::memory_order_relaxed);
    return requests_served() + static_cast<uint64_t>(in_flight > 0 ? in_flight : 0);
  }
  // Worker::leg_in_flight()
  //
  // Requests in flight on every worker of this worker's model and type.
  int64_t leg_in_flight() const { return leg_in_flight_ ? leg_in_flight_->value() : 0; }
  // Worker::requests_served()
  //
  // Tickets finished on this worker, whatever their outcome.
  uint64_t requests_served() const { return successes() + failures() + cancelled(); }
  // Worker::successes() / Worker::failures()
  //
  // Finished tickets classified by the worker's FailureClassifier; cancelled
  // tickets count as neither.
  uint64_t successes() const { return successes_.load(std::memory_order_relaxed); }
  uint64_t failures() const { return failures_.load(std::memory_order_relaxed); }
  // Worker::cancelled()
  //
  // Finished tickets whose outcome was a cancellation.
  uint64_t cancelled() const { return cancelled_.load(std::memory_order_relaxed); }
  // Worker::engine_load()
  //
  // The most recent load the host reported from the engine (e.g. KV-cache
  // token usage in [0, 1], or queue depth), if any.
  std::optional<double> engine_load() const;
  // Worker::probes_passed() / probes_failed()
  //
  // Health probe results the host reported.
  uint64_t probes_passed() const { return probes_passed_.load(std::memory_order_relaxed); }
  uint64_t probes_failed() const { return probes_failed_.load(std::memory_order_relaxed); }
  // Worker::health_transitions_to()
  //
  // How many times the worker entered `state`.
  uint64_t health_transitions_to(WorkerHealth state) const {
    return health_entered_[static_cast<size_t>(state)].load(std::memory_order_relaxed);
  }

 private:
  friend class Router;
  friend class RouterTestPeer;
  friend class Ticket;
  friend class ModelPool;

  void set_labels(Labels labels);
  void set_weight(uint32_t w) { weight_.store(w, std::memory_order_relaxed); }
  // Health updates, serialized by the worker's state lock.
  std::optional<HealthTransition> ApplyProbe(bool passed);
  std::optional<HealthTransition> ForceHealth(WorkerHealth state);
  void set_engine_load(std::optional<double> load);
  void mark_removed() { removed_.store(true, std::memory_order_release); }
  // Counts one more request in flight here and on the worker's leg.
  void AcquireLoad();
  // Undoes AcquireLoad() and records how the request ended, in the breaker
  // too (`probe` is what the breaker's admission returned). Reports breaker
  // transitions to the router.
  void ReleaseLoad(const Outcome& outcome, uint32_t probe);
  // Asks the breaker whether a request may be sent now; reports a transition.
  // Closed (the common case) is one atomic load, inline.
  CircuitBreaker::Admission AdmitRequest() {
    if (breaker_.state() == BreakerState::kClosed) return {.allowed = true};
    return AdmitRequestSlow();
  }
  CircuitBreaker::Admission AdmitRequestSlow();
  // Frees a probe slot taken by AdmitRequest() for a request never sent.
  void CancelAdmission(uint32_t probe);
  void ReportBreakerTransition(std::optional<BreakerTransition> t, bool accepting_before);

  const WorkerId id_;
  const std::string url_;
  const std::string model_;
  const WorkerType type_;
  const std::optional<uint16_t> bootstrap_port_;
  const std::string bootstrap_host_;

  mutable absl::Mutex labels_mu_;
  Labels labels_ ABSL_GUARDED_BY(labels_mu_);

  std::atomic<uint32_t> weight_;
  std::atomic<WorkerHealth> health_;
  CircuitBreaker breaker_;
  const FailureClassifier classifier_;
  const std::shared_ptr<WorkerEvents> events_;

  mutable absl::Mutex state_mu_;
  HealthTracker health_tracker_ ABSL_GUARDED_BY(state_mu_);
  std::atomic<uint64_t> probes_passed_{0};
  std::atomic<uint64_t> probes_failed_{0};
  std::atomic<uint64_t> health_entered_[kWorkerHealthCount] = {};
  // Hot counters, kept on their own cache line away from the read-mostly
  // fields above: every selection and every finish writes them.
  alignas(64) std::atomic<int64_t> in_flight_{0};
  std::atomic<uint64_t> successes_{0};
  std::atomic<uint64_t> cancelled_{0};
  std::atomic<uint64_t> failures_{0};
  // Engine load as IEEE bits; NaN means "never reported".
  std::atomic<uint64_t> engine_load_bits_;
  // In-flight requests of every worker in the same model and leg (regular,
  // prefill or decode), for policies that bound load against the mean. Set
  // once by the router before the worker is published.
  std::shared_ptr<LegLoad> leg_in_flight_;
  // Read with in_flight_ by every load scan (cache_aware reads 8 to 32
  // candidates per request in large fleets): on the same line, one cache
  // miss per sampled worker instead of two.
  std::atomic<bool> removed_{false};
};

// WorkerPtr
using WorkerPtr = std::shared_ptr<Worker>;

}  // namespace smg

#endif  // SMGCORE_WORKER_H_
