// File: smgcore/router.h
//
// The router is smgcore's main object: a worker registry plus one policy per
// model and leg, answering "which worker serves this request?".
//
// Reads never wait for writes. Every registry change (add, remove, health,
// labels, weight) builds a new immutable snapshot of the affected model and
// publishes it atomically (RCU style); Select() reads the current snapshot
// and runs the model's policy on it. A Select() that starts after a
// RemoveWorker() returned never returns the removed worker.
//
//   smg::RouterOptions options;
//   options.policies.policy.kind = smg::PolicyKind::kCacheAware;
//   auto router = smg::Router::Create(options);            // StatusOr
//   (*router)->AddWorker({.url = "http://10.0.0.1:30000"});
//   smg::RouteRequest req{.text = prompt};
//   absl::StatusOr<smg::Ticket> t = (*router)->Select(req);
//   ... forward to t->worker().url() ...
//   t->Finish(smg::Outcome::Status(200)).IgnoreError();
//
// In PD mode (options.pd_mode) Select() returns a ticket holding a prefill
// worker chosen by the prefill policy, a decode worker chosen by the decode
// policy, and the bootstrap host, port and room.
//
// Thread safety: every method may be called from any thread concurrently.
// The core does no I/O and starts no thread: the host reports health and
// engine load and calls RunMaintenance() periodically.
#ifndef SMGCORE_ROUTER_H_
#define SMGCORE_ROUTER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "smgcore/circuit_breaker.h"
#include "smgcore/clock.h"
#include "smgcore/health.h"
#include "smgcore/metrics.h"
#include "smgcore/outcome.h"
#include "smgcore/policy.h"
#include "smgcore/policy_config.h"
#include "smgcore/random.h"
#include "smgcore/request.h"
#include "smgcore/retry_policy.h"
#include "smgcore/tenant_limiter.h"
#include "smgcore/ticket.h"
#include "smgcore/worker.h"

namespace smg {

// PolicySet
//
// The policies of one model: `policy` for regular workers, and for PD mode a
// prefill and a decode policy that default to `policy` when unset.
struct PolicySet {
  PolicyConfig policy;
  std::optional<PolicyConfig> prefill;
  std::optional<PolicyConfig> decode;
};

// RouterOptions
struct RouterOptions {
  // Model used for workers and requests that name none.
  std::string default_model = "default";
  // Prefill-decode disaggregation: Select() pairs a prefill and a decode
  // worker; regular workers are not routed to.
  bool pd_mode = false;
  // Policies of every model without an entry in `model_policies`.
  PolicySet policies;
  // Per-model policies.
  absl::flat_hash_map<std::string, PolicySet> model_policies;

  // Circuit breaker of every worker; WorkerSpec::circuit_breaker overrides
  // it per worker.
  CircuitBreakerOptions circuit_breaker;
  // Which outcomes count as failures; WorkerSpec::failure_classifier
  // overrides it per worker.
  FailureClassifier failure_classifier;
  // Health state machine thresholds (probes reported by the host).
  HealthOptions health;
  // Retries, used by RetryState (retry.h).
  RetryOptions retry;

  // Per-tenant (and global) requests and tokens per minute, checked by
  // Select() before routing (RouteRequest::tenant, estimated_tokens); unset
  // means no tenant limits. A denial is ResourceExhausted with a Retry-After
  // (see RetryAfter()).
  std::optional<TenantLimiterOptions> tenant_limits;

  // Called after a worker's breaker changes state, on the thread that caused
  // it (usually one finishing a ticket), with no smgcore lock held. The
  // callback may call the router; it must not destroy it. Must be
  // thread-safe.
  std::function<void(const Worker&, BreakerTransition)> on_breaker_transition;
  // Called after a worker's health state changes, likewise.
  std::function<void(const Worker&, HealthTransition)> on_health_transition;
};

// ValidateRouterOptions()
//
// InvalidArgument naming the first invalid field.
absl::Status ValidateRouterOptions(const RouterOptions& options);

// kRetryAfterPayload
//
// The absl::Status payload URL under which Select() attaches a Retry-After
// hint (decimal milliseconds) to ResourceExhausted denials.
inline constexpr absl::string_view kRetryAfterPayload = "type.smgcore.dev/retry-after-ms";

// RetryAfter()
//
// The Retry-After hint a denial carries, if any (for the HTTP 429's
// Retry-After header, rounded up to seconds by the host).
std::optional<absl::Duration> RetryAfter(const absl::Status& status);

// RouterDeps
//
// Injected time and randomness; null means the process defaults
// (SteadyClock, DefaultRandom). Both must outlive the router.
struct RouterDeps {
  const Clock* clock = nullptr;
  RandomSource* random = nullptr;
};

// ModelStats
//
// One model's workers and policy counters, for metrics and tests.
struct ModelStats {
  std::string model;
  // Workers of each type, indexed by WorkerType.
  size_t workers[kWorkerTypeCount] = {0, 0, 0};
  // Workers of each type that policies may choose (ready, breaker accepting).
  size_t available[kWorkerTypeCount] = {0, 0, 0};
  // The stats of each leg's policy, indexed by WorkerType.
  PolicyStats policy[kWorkerTypeCount];
};

class ModelPool;
class RetryState;
class WorkerEvents;
struct LegChoice;
struct ModelView;
struct RouterSnapshot;
namespace internal {
template <typename T>
class SnapshotCell;  // lib/snapshot_cell.h
}  // namespace internal

// Router
class Router {
 public:
  // Router::Create()
  //
  // Validates `options` and builds a router with no workers.
  static absl::StatusOr<std::unique_ptr<Router>> Create(RouterOptions options,
                                                        RouterDeps deps = {});
  ~Router();
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  // --- Registry -----------------------------------------------------------

  // Router::AddWorker()
  //
  // Registers a worker and returns its new id. Errors: InvalidArgument for an
  // empty or malformed URL, weight 0 or a bootstrap port on a non-prefill
  // worker; AlreadyExists when a worker with the same URL is registered
  // (remove it first, or use ReplaceWorker()). The model's policies are
  // created with its first worker.
  absl::StatusOr<WorkerId> AddWorker(const WorkerSpec& spec);

  // Router::ReplaceWorker()
  //
  // Atomically removes the worker registered under `spec.url` (if any) and
  // adds `spec` in its place, with a new id: one snapshot publication, so no
  // selection sees the URL missing.
  absl::StatusOr<WorkerId> ReplaceWorker(const WorkerSpec& spec);

  // Router::RemoveWorker()
  //
  // Unregisters the worker and purges it from its policies' state (tree
  // ownership included). NotFound for an unknown id. Outstanding tickets stay
  // valid and finish harmlessly.
  absl::Status RemoveWorker(WorkerId id);
  // Router::RemoveWorkerByUrl()
  absl::Status RemoveWorkerByUrl(absl::string_view url);

  // Router::ReportProbe()
  //
  // Feeds one health probe result into the worker's state machine (see
  // health.h) and returns its health afterwards. NotFound for an unknown id.
  absl::StatusOr<WorkerHealth> ReportProbe(WorkerId id, bool passed);
  // Router::SetHealth()
  //
  // Forces a health state (an operator's override); only kReady workers are
  // selected. NotFound for an unknown id, InvalidArgument for a value outside
  // the enum.
  absl::Status SetHealth(WorkerId id, WorkerHealth health);
  // Router::DrainWorker()
  //
  // SetHealth(id, kDraining): no new requests; outstanding tickets finish
  // normally. Remove the worker once its in_flight() reaches 0.
  absl::Status DrainWorker(WorkerId id);
  // Router::ResetCircuitBreaker()
  //
  // Forces the worker's breaker closed and forgets its history.
  absl::Status ResetCircuitBreaker(WorkerId id);
  // Router::SetLabels()
  absl::Status SetLabels(WorkerId id, Labels labels);
  // Router::SetWeight()
  //
  // InvalidArgument for 0.
  absl::Status SetWeight(WorkerId id, uint32_t weight);
  // Router::SetEngineLoad()
  //
  // Records the load the engine reported (used by power_of_two); nullopt
  // forgets it. InvalidArgument for NaN or a negative value. Lock-free: this
  // does not publish a snapshot.
  absl::Status SetEngineLoad(WorkerId id, std::optional<double> load);

  // Router::GetWorker()
  //
  // NotFound for an unknown (or removed) id.
  absl::StatusOr<WorkerPtr> GetWorker(WorkerId id) const;
  // Router::FindWorkerByUrl()
  absl::StatusOr<WorkerPtr> FindWorkerByUrl(absl::string_view url) const;
  // Router::ListWorkers()
  //
  // Registered workers ordered by id, optionally only those of `model` and
  // `type`.
  std::vector<WorkerPtr> ListWorkers(std::optional<absl::string_view> model = std::nullopt,
                                     std::optional<WorkerType> type = std::nullopt) const;
  // Router::ListModels()
  //
  // Models with at least one worker, sorted.
  std::vector<std::string> ListModels() const;
  // Router::worker_count()
  size_t worker_count() const;

  // --- Routing ------------------------------------------------------------

  // Router::Select()
  //
  // Chooses the worker(s) for `request` and returns a ticket that already
  // counts the request in flight. Errors: NotFound when the model has no
  // worker of the needed type; Unavailable when it has some but none is
  // available (the message says which leg and why: not ready, draining,
  // circuit breaker open); ResourceExhausted when tenant limits deny the
  // request (with a RetryAfter() hint); InvalidArgument for a tenant key
  // longer than 256 bytes; whatever the policy reports. Allocates nothing on
  // the common path; `request.exclude_workers` (retries) costs one pass over
  // the leg's candidates.
  absl::StatusOr<Ticket> Select(const RouteRequest& request);

  // --- Maintenance and introspection --------------------------------------

  // Router::RunMaintenance()
  //
  // Periodic housekeeping: evicts each cache-aware tree whose eviction
  // interval has elapsed on the injected clock, and turns open breakers
  // whose open duration elapsed half-open (Select() also does this lazily).
  // Call it every few seconds.
  void RunMaintenance();
  // Router::EvictNow()
  //
  // Evicts every tree that is over its budget now, down to the budget less
  // the policy's `evict_headroom`. Returns the units evicted.
  size_t EvictNow();
  // Router::GetModelStats()
  //
  // NotFound for a model without workers.
  absl::StatusOr<ModelStats> GetModelStats(absl::string_view model) const;

  // Router::ExportMetrics()
  //
  // Every metric of the router, in Prometheus text format 0.0.4 (serve it
  // with Content-Type `text/plain; version=0.0.4`): pool sizes and
  // availability, selections, in-flight requests and outcomes per worker,
  // health and breaker states and transitions, retries, tree size, match
  // ratio, evictions and cache-aware branches per model, plus whatever the
  // host added to metrics(). Reads live counters; never blocks routing.
  std::string ExportMetrics() const { return metrics_.ExportPrometheus(); }
  // Router::metrics()
  //
  // The registry ExportMetrics() writes: hosts may add their own families
  // and collectors (e.g. for a ConcurrencyLimiter) to export them together.
  MetricsRegistry& metrics() { return metrics_; }

  // Router::options()
  const RouterOptions& options() const { return options_; }
  // Router::retry_policy()
  const RetryPolicy& retry_policy() const { return retry_policy_; }
  // Router::clock() / Router::random()
  //
  // The injected time and randomness (or the process defaults).
  const Clock& clock() const { return *clock_; }
  RandomSource& random() const { return *random_; }

 private:
  friend class RetryState;
  friend class WorkerEvents;

  Router(RouterOptions options, const Clock* clock, RandomSource* random,
         RetryPolicy retry_policy, std::unique_ptr<TenantLimiter> tenant_limiter);
  // Reserves the request's tenant charge, or says why not.
  absl::StatusOr<TenantReservation> AdmitTenant(const RouteRequest& request);

  // A worker's breaker or probe-slot availability changed outside the
  // registry lock: republish its model if it is still registered.
  void OnWorkerStateChanged(const Worker& worker);
  // Health changed: republish if routability did, then run the callback.
  void AfterHealthTransition(const WorkerPtr& worker, std::optional<HealthTransition> t);
  // Turns the model's open breakers whose time is up half-open and
  // republishes. With `try_only`, gives up if the registry lock is busy.
  void ReopenDueBreakers(const std::string& model, bool try_only);
  absl::StatusOr<LegChoice> SelectLeg(const RouteRequest& request, const ModelView& view,
                                      WorkerType leg) const;

  absl::Status ValidateSpec(const WorkerSpec& spec) const;
  absl::StatusOr<WorkerId> AddLocked(const WorkerSpec& spec) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status RemoveLocked(WorkerId id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<WorkerPtr> FindLocked(WorkerId id) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // Rebuilds the snapshot of `model` (dropping it when it has no worker left)
  // and publishes a new router snapshot.
  void PublishLocked(const std::string& model) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  const PolicySet& PoliciesFor(absl::string_view model) const;
  // The router's collector (router_metrics.cc).
  void WriteMetrics(PrometheusWriter& w) const;

  const RouterOptions options_;
  const Clock* const clock_;
  RandomSource* const random_;
  const RetryPolicy retry_policy_;
  // Retries in progress against the budget; null without a budget.
  const std::unique_ptr<RetryBudget> retry_budget_;
  // Null without RouterOptions::tenant_limits.
  const std::unique_ptr<TenantLimiter> tenant_limiter_;
  const std::shared_ptr<WorkerEvents> events_;
  // Retry counters (RetryState), for metrics.
  std::atomic<uint64_t> retries_{0};
  std::atomic<uint64_t> retries_exhausted_{0};
  std::atomic<uint64_t> retries_over_budget_{0};
  MetricsRegistry metrics_;
  // smg_worker_retry_backoff_seconds{attempt}, observed by RetryState.
  HistogramFamily* retry_backoff_ = nullptr;

  mutable absl::Mutex mu_;
  WorkerId next_id_ ABSL_GUARDED_BY(mu_) = 1;
  absl::flat_hash_map<WorkerId, WorkerPtr> by_id_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, WorkerId> by_url_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::shared_ptr<ModelPool>> pools_ ABSL_GUARDED_BY(mu_);

  // The published snapshot: read by Select() without taking mu_, and
  // without writing any line another routing thread reads.
  const std::unique_ptr<internal::SnapshotCell<RouterSnapshot>> snapshot_;
};

}  // namespace smg

#endif  // SMGCORE_ROUTER_H_
