// Histogram and the standard bucket layouts (Counter and Gauge are inline in
// smgcore/metrics.h).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "metrics/metric_text.h"
#include "smgcore/metrics.h"

namespace smg {

absl::string_view MetricTypeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
    case MetricType::kUntyped:
      break;
  }
  return "untyped";
}

absl::StatusOr<std::unique_ptr<Histogram>> Histogram::Create(std::vector<double> upper_bounds) {
  if (absl::Status s = metrics_internal::ValidateHistogramBounds(upper_bounds); !s.ok()) return s;
  return std::unique_ptr<Histogram>(
      new Histogram(std::make_shared<const std::vector<double>>(std::move(upper_bounds))));
}

Histogram::Histogram(std::shared_ptr<const std::vector<double>> bounds)
    : bounds_(std::move(bounds)),
      // Value-initialised: every bucket starts at 0.
      buckets_(std::make_unique<std::atomic<uint64_t>[]>(bounds_->size() + 1)) {}

void Histogram::Observe(double v) {
  if (std::isnan(v)) return;
  const std::vector<double>& bounds = *bounds_;
  // The first bound >= v: a value equal to a bound belongs to its bucket
  // (`le` is "less than or equal"); past the last bound is the +Inf bucket.
  const auto bucket =
      static_cast<size_t>(std::lower_bound(bounds.begin(), bounds.end(), v) - bounds.begin());
  buckets_[bucket].fetch_add(1, std::memory_order_relaxed);
  double old = sum_.load(std::memory_order_relaxed);
  while (!sum_.compare_exchange_weak(old, old + v, std::memory_order_relaxed)) {
  }
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot s;
  s.upper_bounds = *bounds_;
  s.cumulative_counts.resize(bounds_->size());
  uint64_t total = 0;
  for (size_t i = 0; i < bounds_->size(); ++i) {
    total += buckets_[i].load(std::memory_order_relaxed);
    s.cumulative_counts[i] = total;
  }
  s.count = total + buckets_[bounds_->size()].load(std::memory_order_relaxed);
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

absl::StatusOr<std::vector<double>> LinearBuckets(double start, double width, size_t count) {
  if (count == 0 || count > kMaxHistogramBuckets) {
    return absl::InvalidArgumentError(
        absl::StrCat("LinearBuckets: count ", count, " is not in [1, ", kMaxHistogramBuckets, "]"));
  }
  if (!std::isfinite(start) || !std::isfinite(width) || !(width > 0)) {
    return absl::InvalidArgumentError(absl::StrCat("LinearBuckets: start ", start, " and width ",
                                                   width, " must be finite, width > 0"));
  }
  std::vector<double> bounds(count);
  for (size_t i = 0; i < count; ++i) bounds[i] = start + static_cast<double>(i) * width;
  if (absl::Status s = metrics_internal::ValidateHistogramBounds(bounds); !s.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("LinearBuckets(", start, ", ", width, ", ", count, "): ", s.message()));
  }
  return bounds;
}

absl::StatusOr<std::vector<double>> ExponentialBuckets(double start, double factor, size_t count) {
  if (count == 0 || count > kMaxHistogramBuckets) {
    return absl::InvalidArgumentError(absl::StrCat("ExponentialBuckets: count ", count,
                                                   " is not in [1, ", kMaxHistogramBuckets, "]"));
  }
  if (!std::isfinite(start) || !std::isfinite(factor) || !(start > 0) || !(factor > 1)) {
    return absl::InvalidArgumentError(absl::StrCat("ExponentialBuckets: start ", start,
                                                   " and factor ", factor,
                                                   " must be finite, start > 0, factor > 1"));
  }
  std::vector<double> bounds(count);
  for (size_t i = 0; i < count; ++i) {
    bounds[i] = start * std::pow(factor, static_cast<double>(i));
  }
  if (absl::Status s = metrics_internal::ValidateHistogramBounds(bounds); !s.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("ExponentialBuckets(", start, ", ", factor, ", ", count, "): ", s.message()));
  }
  return bounds;
}

}  // namespace smg
