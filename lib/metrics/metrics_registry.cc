// MetricsRegistry: owns families and collectors; exports them in a stable
// order (families by name, then collectors in registration order).
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "metrics/metric_text.h"
#include "smgcore/metrics.h"

namespace smg {

MetricsRegistry::MetricsRegistry() = default;
MetricsRegistry::~MetricsRegistry() = default;

template <typename M>
absl::StatusOr<MetricFamily<M>*> MetricsRegistry::AddFamily(
    absl::string_view name, absl::string_view help, absl::Span<const absl::string_view> label_names,
    std::shared_ptr<const std::vector<double>> bounds) {
  constexpr MetricType kType = std::is_same_v<M, Counter> ? MetricType::kCounter
                               : std::is_same_v<M, Gauge> ? MetricType::kGauge
                                                          : MetricType::kHistogram;
  if (absl::Status s = metrics_internal::ValidateMetricName(name); !s.ok()) return s;
  if (kType == MetricType::kCounter && !absl::EndsWith(name, "_total")) {
    return absl::InvalidArgumentError(
        absl::StrCat("counter family name \"", name, "\" does not end in \"_total\""));
  }
  if (help.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("metric family \"", name, "\" has no help text"));
  }
  if (!metrics_internal::IsValidUtf8(help)) {
    return absl::InvalidArgumentError(
        absl::StrCat("help text of metric family \"", name, "\" is not UTF-8"));
  }
  if (absl::Status s = metrics_internal::ValidateLabelNames(
          label_names.size(), [label_names](size_t i) { return label_names[i]; }, kType);
      !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("metric family \"", name, "\": ", s.message()));
  }

  absl::MutexLock lock(&mu_);
  std::vector<std::string> series = metrics_internal::SeriesNames(name, kType);
  for (const std::string& s : series) {
    auto it = taken_.find(s);
    if (it == taken_.end()) continue;
    return absl::AlreadyExistsError(
        s == name && it->second == name
            ? absl::StrCat("metric family \"", name, "\" already exists")
            : absl::StrCat("metric family \"", name, "\" would export series \"", s,
                           "\", which family \"", it->second, "\" already exports"));
  }
  for (std::string& s : series) taken_.emplace(std::move(s), std::string(name));

  auto* family = new MetricFamily<M>(
      std::string(name), std::string(help),
      std::vector<std::string>(label_names.begin(), label_names.end()), std::move(bounds));
  families_.emplace(std::string(name), std::unique_ptr<MetricFamilyBase>(family));
  return family;
}

absl::StatusOr<CounterFamily*> MetricsRegistry::AddCounterFamily(
    absl::string_view name, absl::string_view help,
    absl::Span<const absl::string_view> label_names) {
  return AddFamily<Counter>(name, help, label_names, nullptr);
}

absl::StatusOr<GaugeFamily*> MetricsRegistry::AddGaugeFamily(
    absl::string_view name, absl::string_view help,
    absl::Span<const absl::string_view> label_names) {
  return AddFamily<Gauge>(name, help, label_names, nullptr);
}

absl::StatusOr<HistogramFamily*> MetricsRegistry::AddHistogramFamily(
    absl::string_view name, absl::string_view help, absl::Span<const absl::string_view> label_names,
    absl::Span<const double> upper_bounds) {
  if (absl::Status s = metrics_internal::ValidateHistogramBounds(upper_bounds); !s.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("histogram family \"", name, "\": ", s.message()));
  }
  return AddFamily<Histogram>(
      name, help, label_names,
      std::make_shared<const std::vector<double>>(upper_bounds.begin(), upper_bounds.end()));
}

void MetricsRegistry::AddCollector(Collector collector) {
  if (collector == nullptr) return;
  auto shared = std::make_shared<const Collector>(std::move(collector));
  absl::MutexLock lock(&mu_);
  collectors_.push_back(std::move(shared));
}

void MetricsRegistry::WriteTo(PrometheusWriter& writer) const {
  // Copy what to export and release mu_ before writing: collectors may call
  // back into the registry, and adding a family should not wait for a scrape.
  // Families are never removed, so the raw pointers stay valid.
  std::vector<const MetricFamilyBase*> families;
  std::vector<std::shared_ptr<const Collector>> collectors;
  {
    absl::ReaderMutexLock lock(&mu_);
    families.reserve(families_.size());
    for (const auto& entry : families_) families.push_back(entry.second.get());
    collectors = collectors_;
  }
  for (const MetricFamilyBase* family : families) {
    family->Write(writer);
    writer.EndFamily();
  }
  for (const std::shared_ptr<const Collector>& collector : collectors) {
    (*collector)(writer);
    writer.EndFamily();
  }
}

std::string MetricsRegistry::ExportPrometheus() const {
  std::string out;
  PrometheusWriter writer(&out);
  WriteTo(writer);
  return out;
}

}  // namespace smg
