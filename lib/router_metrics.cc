// The router's metrics collector: everything is read from live counters at
// scrape time (worker atomics, breaker and policy stats), so routing pays
// nothing for metrics beyond the counters it keeps anyway.
//
// Names follow SMG (smg.md §5) where SMG has the series; label sets drop
// SMG's connection_mode (the core does no I/O). Series SMG lacks: availability
// per pool, tree size, match ratio, evictions and cache-aware branches.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "model_pool.h"
#include "snapshot_cell.h"
#include "smgcore/router.h"

namespace smg {
namespace {

struct WorkerLabels {
  WorkerPtr worker;
  std::string policy;
};

}  // namespace

void Router::WriteMetrics(PrometheusWriter& w) const {
  const std::shared_ptr<const RouterSnapshot> snapshot = snapshot_->Load();
  std::vector<std::string> models;
  for (const auto& [model, view] : snapshot->models) models.push_back(model);
  std::sort(models.begin(), models.end());

  std::vector<WorkerLabels> workers;
  for (const WorkerPtr& worker : ListWorkers()) {
    std::string policy;
    if (auto it = snapshot->models.find(worker->model()); it != snapshot->models.end()) {
      policy = std::string(it->second->pool->policy(worker->type()).name());
    }
    workers.push_back({worker, std::move(policy)});
  }

  // --- Pools ----------------------------------------------------------------
  auto per_leg = [&](absl::string_view name, absl::string_view help, MetricType type,
                     auto value) {
    w.BeginFamily(name, help, type);
    for (const std::string& model : models) {
      const ModelView& view = *snapshot->models.at(model);
      for (int leg = 0; leg < kWorkerTypeCount; ++leg) {
        if (view.members[leg] == 0) continue;
        const LabelPair labels[] = {{"model", model},
                                    {"worker_type", WorkerTypeName(static_cast<WorkerType>(leg))}};
        w.Sample(labels, value(view, leg));
      }
    }
    w.EndFamily();
  };
  per_leg("smg_worker_pool_size", "Registered workers.", MetricType::kGauge,
          [](const ModelView& v, int leg) { return uint64_t{v.members[leg]}; });
  per_leg("smg_worker_pool_available", "Workers policies may choose (ready, breaker accepting).",
          MetricType::kGauge,
          [](const ModelView& v, int leg) { return uint64_t{v.legs[leg]->size()}; });
  per_leg("smg_tree_units", "Units (bytes or token ids) stored in the cache-aware prefix trees.",
          MetricType::kGauge, [](const ModelView& v, int leg) {
            return v.pool->policy(static_cast<WorkerType>(leg)).stats().tree_units;
          });
  per_leg("smg_tree_memory_bytes", "Bytes allocated by the cache-aware prefix trees.",
          MetricType::kGauge, [](const ModelView& v, int leg) {
            return v.pool->policy(static_cast<WorkerType>(leg)).stats().tree_bytes;
          });
  per_leg("smg_tree_evicted_units_total", "Units evicted from the prefix trees.",
          MetricType::kCounter, [](const ModelView& v, int leg) {
            return v.pool->policy(static_cast<WorkerType>(leg)).stats().evicted_units;
          });

  // Calls fn(model, worker type, stats) for every leg run by cache_aware.
  auto for_each_cache_aware_leg = [&](auto fn) {
    for (const std::string& model : models) {
      const ModelView& view = *snapshot->models.at(model);
      for (int leg = 0; leg < kWorkerTypeCount; ++leg) {
        const Policy& policy = view.pool->policy(static_cast<WorkerType>(leg));
        if (view.members[leg] == 0 || policy.name() != "cache_aware") continue;
        fn(model, WorkerTypeName(static_cast<WorkerType>(leg)), policy.stats());
      }
    }
  };
  w.BeginFamily("smg_cache_aware_branch_total",
                "Cache-aware decisions by branch: cache_hit (an owner of a prefix above the "
                "threshold), cache_miss, imbalanced (load imbalance overrode locality).",
                MetricType::kCounter);
  for_each_cache_aware_leg([&](const std::string& model, absl::string_view type,
                               const PolicyStats& s) {
    const std::pair<absl::string_view, uint64_t> branches[] = {
        {"cache_hit", s.cache_hits}, {"cache_miss", s.cache_misses},
        {"imbalanced", s.imbalanced_selections}};
    for (const auto& [branch, count] : branches) {
      const LabelPair labels[] = {{"model", model}, {"worker_type", type}, {"branch", branch}};
      w.Sample(labels, count);
    }
  });
  w.EndFamily();

  w.BeginFamily("smg_prefix_match_ratio",
                "Matched fraction of each cache-aware request's prefix.",
                MetricType::kHistogram);
  for_each_cache_aware_leg([&](const std::string& model, absl::string_view type,
                               const PolicyStats& s) {
    Histogram::Snapshot h;
    uint64_t cumulative = 0;
    for (size_t i = 0; i < PolicyStats::kMatchRatioBuckets; ++i) {
      h.upper_bounds.push_back(static_cast<double>(i) / 10.0);
      cumulative += s.match_ratio_counts[i];
      h.cumulative_counts.push_back(cumulative);
    }
    h.count = cumulative;  // the +Inf bucket
    h.sum = s.match_ratio_sum;
    const LabelPair labels[] = {{"model", model}, {"worker_type", type}};
    w.HistogramSample(labels, h);
  });
  w.EndFamily();

  // --- Workers --------------------------------------------------------------
  auto per_worker = [&](absl::string_view name, absl::string_view help, MetricType type,
                        auto value) {
    w.BeginFamily(name, help, type);
    for (const WorkerLabels& wl : workers) {
      const LabelPair labels[] = {{"worker", wl.worker->url()}};
      w.Sample(labels, value(*wl.worker));
    }
    w.EndFamily();
  };
  w.BeginFamily("smg_worker_selection_total", "Requests routed to each worker.",
                MetricType::kCounter);
  for (const WorkerLabels& wl : workers) {
    const LabelPair labels[] = {{"model", wl.worker->model()},
                                {"worker_type", WorkerTypeName(wl.worker->type())},
                                {"policy", wl.policy},
                                {"worker", wl.worker->url()}};
    w.Sample(labels, wl.worker->selections());
  }
  w.EndFamily();
  per_worker("smg_worker_requests_active", "Requests in flight on each worker.",
             MetricType::kGauge, [](const Worker& x) { return x.in_flight(); });
  w.BeginFamily("smg_worker_cb_outcomes_total",
                "Finished requests per worker by classification (cancelled counts neither).",
                MetricType::kCounter);
  for (const WorkerLabels& wl : workers) {
    const std::pair<absl::string_view, uint64_t> outcomes[] = {
        {"success", wl.worker->successes()},
        {"failure", wl.worker->failures()},
        {"cancelled", wl.worker->cancelled()}};
    for (const auto& [outcome, count] : outcomes) {
      const LabelPair labels[] = {{"worker", wl.worker->url()}, {"outcome", outcome}};
      w.Sample(labels, count);
    }
  }
  w.EndFamily();
  per_worker("smg_worker_health", "1 when the worker is ready, else 0.", MetricType::kGauge,
             [](const Worker& x) { return uint64_t{x.health() == WorkerHealth::kReady}; });
  w.BeginFamily("smg_worker_health_state", "1 for the worker's current health state.",
                MetricType::kGauge);
  for (const WorkerLabels& wl : workers) {
    const WorkerHealth health = wl.worker->health();
    for (int s = 0; s < kWorkerHealthCount; ++s) {
      const LabelPair labels[] = {{"worker", wl.worker->url()},
                                  {"state", WorkerHealthName(static_cast<WorkerHealth>(s))}};
      w.Sample(labels, uint64_t{static_cast<int>(health) == s});
    }
  }
  w.EndFamily();
  w.BeginFamily("smg_worker_health_transitions_total",
                "Health state changes, by the state entered.", MetricType::kCounter);
  for (const WorkerLabels& wl : workers) {
    for (int s = 0; s < kWorkerHealthCount; ++s) {
      const auto state = static_cast<WorkerHealth>(s);
      const LabelPair labels[] = {{"worker", wl.worker->url()}, {"to", WorkerHealthName(state)}};
      w.Sample(labels, wl.worker->health_transitions_to(state));
    }
  }
  w.EndFamily();
  w.BeginFamily("smg_worker_health_checks_total", "Health probe results the host reported.",
                MetricType::kCounter);
  for (int type = 0; type < kWorkerTypeCount; ++type) {
    uint64_t passed = 0, failed = 0;
    for (const WorkerLabels& wl : workers) {
      if (static_cast<int>(wl.worker->type()) != type) continue;
      passed += wl.worker->probes_passed();
      failed += wl.worker->probes_failed();
    }
    const absl::string_view type_name = WorkerTypeName(static_cast<WorkerType>(type));
    const LabelPair ok[] = {{"worker_type", type_name}, {"result", "success"}};
    const LabelPair bad[] = {{"worker_type", type_name}, {"result", "failure"}};
    w.Sample(ok, passed);
    w.Sample(bad, failed);
  }
  w.EndFamily();

  // --- Circuit breakers -----------------------------------------------------
  per_worker("smg_worker_cb_state", "Circuit breaker state: 0 closed, 1 open, 2 half-open.",
             MetricType::kGauge,
             [](const Worker& x) { return uint64_t{static_cast<uint8_t>(x.breaker_state())}; });
  w.BeginFamily("smg_worker_cb_transitions_total", "Circuit breaker state changes.",
                MetricType::kCounter);
  for (const WorkerLabels& wl : workers) {
    const CircuitBreakerCounters c = wl.worker->breaker().counters();
    const struct {
      BreakerState from, to;
      uint64_t count;
    } transitions[] = {{BreakerState::kClosed, BreakerState::kOpen, c.closed_to_open},
                       {BreakerState::kOpen, BreakerState::kHalfOpen, c.open_to_half_open},
                       {BreakerState::kHalfOpen, BreakerState::kClosed, c.half_open_to_closed},
                       {BreakerState::kHalfOpen, BreakerState::kOpen, c.half_open_to_open}};
    for (const auto& t : transitions) {
      const LabelPair labels[] = {{"worker", wl.worker->url()},
                                  {"from", BreakerStateName(t.from)},
                                  {"to", BreakerStateName(t.to)}};
      w.Sample(labels, t.count);
    }
  }
  w.EndFamily();
  per_worker("smg_worker_cb_consecutive_failures", "Failures in a row on a closed breaker.",
             MetricType::kGauge,
             [](const Worker& x) { return uint64_t{x.breaker().consecutive_failures()}; });
  per_worker("smg_worker_cb_rejected_total",
             "Requests a breaker refused (chosen from a snapshot older than its opening).",
             MetricType::kCounter, [](const Worker& x) { return x.breaker().counters().rejected; });

  // --- Retries --------------------------------------------------------------
  const std::pair<absl::string_view, const std::atomic<uint64_t>*> retry_counters[] = {
      {"smg_worker_retries_total", &retries_},
      {"smg_worker_retries_exhausted_total", &retries_exhausted_},
      {"smg_worker_retry_budget_exhausted_total", &retries_over_budget_},
  };
  const absl::string_view retry_help[] = {
      "Retries decided by RetryState.",
      "Requests that failed after max_attempts.",
      "Retries refused by the retry budget.",
  };
  for (size_t i = 0; i < 3; ++i) {
    w.BeginFamily(retry_counters[i].first, retry_help[i], MetricType::kCounter);
    w.Sample({}, retry_counters[i].second->load(std::memory_order_relaxed));
    w.EndFamily();
  }

  // --- Tenant limits --------------------------------------------------------
  if (tenant_limiter_ != nullptr) {
    const TenantLimiterStats t = tenant_limiter_->stats();
    w.BeginFamily("smg_tenant_admission_total",
                  "Tenant limit decisions of Select(), by result.", MetricType::kCounter);
    const std::pair<absl::string_view, uint64_t> results[] = {
        {"granted", t.granted},
        {"denied_tenant_requests", t.denied_tenant_requests},
        {"denied_tenant_tokens", t.denied_tenant_tokens},
        {"denied_global_requests", t.denied_global_requests},
        {"denied_global_tokens", t.denied_global_tokens},
        {"denied_estimate_too_large", t.denied_estimate_too_large},
        {"denied_too_many_tenants", t.denied_too_many_tenants},
        {"denied_invalid_tenant", t.denied_invalid_tenant}};
    for (const auto& [result, count] : results) {
      const LabelPair labels[] = {{"result", result}};
      w.Sample(labels, count);
    }
    w.EndFamily();
    w.BeginFamily("smg_tenant_tracked", "Tenants whose buckets are held in memory.",
                  MetricType::kGauge);
    w.Sample({}, uint64_t{t.tracked_tenants});
    w.EndFamily();
    w.BeginFamily("smg_tenant_evicted_total", "Idle tenants dropped to bound memory.",
                  MetricType::kCounter);
    w.Sample({}, t.evicted_tenants);
    w.EndFamily();
  }
}

}  // namespace smg
