#include "smgcore/admission_metrics.h"

#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace smg {

struct AdmissionMetrics::State {
  template <typename T>
  struct Tracked {
    std::string name;
    std::weak_ptr<const T> object;
  };

  // Live objects, in the order they were tracked.
  template <typename T>
  static std::vector<std::pair<std::string, std::shared_ptr<const T>>> Live(
      const std::vector<Tracked<T>>& tracked) {
    std::vector<std::pair<std::string, std::shared_ptr<const T>>> out;
    for (const Tracked<T>& t : tracked) {
      if (auto object = t.object.lock()) out.emplace_back(t.name, std::move(object));
    }
    return out;
  }

  void Write(PrometheusWriter& w) const {
    std::vector<std::pair<std::string, std::shared_ptr<const ConcurrencyLimiter>>> live_limiters;
    std::vector<std::pair<std::string, std::shared_ptr<const TokenBucket>>> live_buckets;
    {
      absl::MutexLock lock(&mu);
      live_limiters = Live(tracked_limiters);
      live_buckets = Live(tracked_buckets);
    }
    const auto& limiters = live_limiters;
    const auto& buckets = live_buckets;
    std::vector<ConcurrencyLimiterStats> stats;
    for (const auto& [name, limiter] : limiters) stats.push_back(limiter->stats());

    auto per_limiter = [&](absl::string_view family, absl::string_view help, MetricType type,
                           auto value) {
      if (limiters.empty()) return;
      w.BeginFamily(family, help, type);
      for (size_t i = 0; i < limiters.size(); ++i) {
        const LabelPair labels[] = {{"limiter", limiters[i].first}};
        w.Sample(labels, value(stats[i]));
      }
      w.EndFamily();
    };
    per_limiter("smg_scheduler_inflight", "Requests holding a concurrency slot.",
                MetricType::kGauge, [](const ConcurrencyLimiterStats& s) { return s.in_flight; });
    per_limiter("smg_scheduler_queue_depth", "Requests waiting for a concurrency slot.",
                MetricType::kGauge,
                [](const ConcurrencyLimiterStats& s) { return uint64_t{s.queue_depth}; });
    per_limiter("smg_scheduler_queued_admit_total", "Requests admitted after waiting in the queue.",
                MetricType::kCounter,
                [](const ConcurrencyLimiterStats& s) { return s.admitted_after_wait; });
    per_limiter("smg_scheduler_queue_wait_seconds_total", "Time requests spent queued.",
                MetricType::kCounter, [](const ConcurrencyLimiterStats& s) {
                  return static_cast<double>(s.total_queue_wait_nanos) / 1e9;
                });
    if (!limiters.empty()) {
      w.BeginFamily("smg_scheduler_admit_total",
                    "Admission decisions: admitted (429 when rejected, 408 when timed out).",
                    MetricType::kCounter);
      for (size_t i = 0; i < limiters.size(); ++i) {
        const std::pair<absl::string_view, uint64_t> results[] = {
            {"admitted", stats[i].admitted},
            {"rejected", stats[i].rejected},
            {"timed_out", stats[i].timed_out},
            {"cancelled", stats[i].cancelled}};
        for (const auto& [result, count] : results) {
          const LabelPair labels[] = {{"limiter", limiters[i].first}, {"result", result}};
          w.Sample(labels, count);
        }
      }
      w.EndFamily();
    }
    if (!buckets.empty()) {
      w.BeginFamily("smg_rate_limit_tokens_available", "Tokens a bucket can grant now.",
                    MetricType::kGauge);
      for (const auto& [name, bucket] : buckets) {
        const LabelPair labels[] = {{"bucket", name}};
        w.Sample(labels, bucket->available());
      }
      w.EndFamily();
    }
  }

  mutable absl::Mutex mu;
  std::vector<Tracked<ConcurrencyLimiter>> tracked_limiters ABSL_GUARDED_BY(mu);
  std::vector<Tracked<TokenBucket>> tracked_buckets ABSL_GUARDED_BY(mu);
};

AdmissionMetrics::AdmissionMetrics(MetricsRegistry& registry)
    : state_(std::make_shared<State>()) {
  registry.AddCollector([state = state_](PrometheusWriter& w) { state->Write(w); });
}

void AdmissionMetrics::Track(absl::string_view name,
                             std::shared_ptr<const ConcurrencyLimiter> limiter) {
  absl::MutexLock lock(&state_->mu);
  state_->tracked_limiters.push_back({std::string(name), limiter});
}

void AdmissionMetrics::Track(absl::string_view name, std::shared_ptr<const TokenBucket> bucket) {
  absl::MutexLock lock(&state_->mu);
  state_->tracked_buckets.push_back({std::string(name), bucket});
}

}  // namespace smg
