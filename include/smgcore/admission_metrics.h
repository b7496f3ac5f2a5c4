// File: smgcore/admission_metrics.h
//
// Exports the admission controls a host owns (concurrency limiters, token
// buckets) through a MetricsRegistry, typically the router's, so one
// Router::ExportMetrics() call covers them. The router's own tenant limits
// are exported by the router itself.
//
//   smg::AdmissionMetrics admission(router->metrics());
//   std::shared_ptr<smg::ConcurrencyLimiter> limiter = *smg::ConcurrencyLimiter::Create(...);
//   admission.Track("chat", limiter);
//
// Series (SMG's scheduler names where it has them):
//   smg_scheduler_inflight{limiter}                  gauge
//   smg_scheduler_queue_depth{limiter}               gauge
//   smg_scheduler_admit_total{limiter,result}        counter: admitted, rejected,
//                                                    timed_out, cancelled
//   smg_scheduler_queued_admit_total{limiter}        counter: admitted after waiting
//   smg_scheduler_queue_wait_seconds_total{limiter}  counter: time spent queued
//   smg_rate_limit_tokens_available{bucket}          gauge
//
// Objects are tracked by weak pointer: one that is destroyed simply stops
// being exported. Thread-safe.
#ifndef SMGCORE_ADMISSION_METRICS_H_
#define SMGCORE_ADMISSION_METRICS_H_

#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "smgcore/concurrency_limiter.h"
#include "smgcore/metrics.h"
#include "smgcore/token_bucket.h"

namespace smg {

// AdmissionMetrics
class AdmissionMetrics {
 public:
  // AdmissionMetrics::AdmissionMetrics()
  //
  // Adds one collector to `registry` (which must outlive nothing: the
  // collector keeps its own state alive). Create one per registry: a second
  // would export the same families twice.
  explicit AdmissionMetrics(MetricsRegistry& registry);

  // AdmissionMetrics::Track()
  //
  // Exports `limiter` with label limiter=`name` (or `bucket` with
  // bucket=`name`) from the next export on. Tracking a name twice exports
  // both objects under it; pick distinct names.
  void Track(absl::string_view name, std::shared_ptr<const ConcurrencyLimiter> limiter);
  void Track(absl::string_view name, std::shared_ptr<const TokenBucket> bucket);

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace smg

#endif  // SMGCORE_ADMISSION_METRICS_H_
