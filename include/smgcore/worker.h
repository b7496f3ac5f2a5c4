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

// WorkerHealth
//
// Whether policies may choose the worker. Only healthy workers are candidates.
enum class WorkerHealth : uint8_t {
  kHealthy = 0,
  kUnhealthy = 1,
};

// WorkerHealthName()
//
// "healthy" or "unhealthy".
absl::string_view WorkerHealthName(WorkerHealth health);

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
  // Initial health. Workers usually join healthy; a host that probes before
  // admitting traffic can add them unhealthy and flip them later.
  WorkerHealth health = WorkerHealth::kHealthy;
};

// Worker
//
// A registered worker: its immutable description plus runtime state.
// Shared by the router's snapshots and by outstanding tickets, so a ticket can
// finish safely after its worker was removed. All accessors are thread-safe.
class Worker {
 public:
  Worker(WorkerId id, WorkerSpec spec, std::string bootstrap_host);
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
  WorkerHealth health() const { return health_.load(std::memory_order_relaxed); }
  // Worker::removed()
  //
  // True once the router has removed the worker. Outstanding tickets may
  // still reference it.
  bool removed() const { return removed_.load(std::memory_order_acquire); }

  // Worker::in_flight()
  //
  // Requests selected for this worker whose tickets have not finished yet.
  int64_t in_flight() const { return in_flight_.load(std::memory_order_relaxed); }
  // Worker::requests_served()
  //
  // Tickets finished on this worker, whatever their outcome.
  uint64_t requests_served() const { return served_.load(std::memory_order_relaxed); }
  // Worker::successes() / Worker::failures()
  //
  // Finished tickets classified by `Outcome::IsFailure()`; cancelled tickets
  // count as neither.
  uint64_t successes() const { return successes_.load(std::memory_order_relaxed); }
  uint64_t failures() const { return failures_.load(std::memory_order_relaxed); }
  // Worker::engine_load()
  //
  // The most recent load the host reported from the engine (e.g. KV-cache
  // token usage in [0, 1], or queue depth), if any.
  std::optional<double> engine_load() const;

 private:
  friend class Router;
  friend class RouterTestPeer;
  friend class Ticket;
  friend class ModelPool;

  void set_labels(Labels labels);
  void set_weight(uint32_t w) { weight_.store(w, std::memory_order_relaxed); }
  void set_health(WorkerHealth h) { health_.store(h, std::memory_order_relaxed); }
  void set_engine_load(std::optional<double> load);
  void mark_removed() { removed_.store(true, std::memory_order_release); }
  // Counts one more request in flight here and on the worker's leg.
  void AcquireLoad();
  // Undoes AcquireLoad() and records how the request ended.
  void ReleaseLoad(const Outcome& outcome);

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
  std::atomic<bool> removed_{false};
  // Hot counters, kept on their own cache line away from the read-mostly
  // fields above: every selection and every finish writes them.
  alignas(64) std::atomic<int64_t> in_flight_{0};
  std::atomic<uint64_t> served_{0};
  std::atomic<uint64_t> successes_{0};
  std::atomic<uint64_t> failures_{0};
  // Engine load as IEEE bits; NaN means "never reported".
  std::atomic<uint64_t> engine_load_bits_;
  // In-flight requests of every worker in the same model and leg (regular,
  // prefill or decode), for policies that bound load against the mean. Set
  // once by the router before the worker is published.
  std::shared_ptr<std::atomic<int64_t>> leg_in_flight_;
};

// WorkerPtr
using WorkerPtr = std::shared_ptr<Worker>;

}  // namespace smg

#endif  // SMGCORE_WORKER_H_
