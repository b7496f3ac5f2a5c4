// MetricFamily: children keyed by label values, resolved under a mutex and
// updated lock-free. Instantiated here for Counter, Gauge and Histogram only.
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "metrics/metric_text.h"
#include "smgcore/metrics.h"

namespace smg {
namespace {

template <typename M>
constexpr MetricType TypeOf() {
  if constexpr (std::is_same_v<M, Counter>) {
    return MetricType::kCounter;
  } else if constexpr (std::is_same_v<M, Gauge>) {
    return MetricType::kGauge;
  } else {
    return MetricType::kHistogram;
  }
}

// `values` as ["a", "b"], escaped, for error messages.
std::string QuoteValues(absl::Span<const absl::string_view> values) {
  return absl::StrCat("[",
                      absl::StrJoin(values, ", ",
                                    [](std::string* out, absl::string_view v) {
                                      absl::StrAppend(out, "\"", absl::CEscape(v), "\"");
                                    }),
                      "]");
}

}  // namespace

MetricFamilyBase::MetricFamilyBase(std::string name, std::string help,
                                   std::vector<std::string> label_names, MetricType type)
    : name_(std::move(name)),
      help_(std::move(help)),
      label_names_(std::move(label_names)),
      type_(type) {}

absl::Status MetricFamilyBase::CheckLabelValues(absl::Span<const absl::string_view> values) const {
  if (values.size() != label_names_.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("metric family \"", name_, "\" has ", label_names_.size(), " label(s) [",
                     absl::StrJoin(label_names_, ", "), "] but got ", values.size(), " value(s) ",
                     QuoteValues(values)));
  }
  for (size_t i = 0; i < values.size(); ++i) {
    if (!metrics_internal::IsValidUtf8(values[i])) {
      return absl::InvalidArgumentError(
          absl::StrCat("metric family \"", name_, "\": value of label \"", label_names_[i],
                       "\" is not UTF-8: \"", absl::CEscape(values[i]), "\""));
    }
  }
  return absl::OkStatus();
}

template <typename M>
MetricFamily<M>::MetricFamily(std::string name, std::string help,
                              std::vector<std::string> label_names,
                              std::shared_ptr<const std::vector<double>> bounds)
    : MetricFamilyBase(std::move(name), std::move(help), std::move(label_names), TypeOf<M>()),
      bounds_(std::move(bounds)),
      detached_(NewChild()) {
  // A family without labels has one series, exported from the start.
  if (MetricFamilyBase::label_names().empty()) {
    absl::MutexLock lock(&mu_);
    children_.emplace(std::vector<std::string>(), NewChild());
  }
}

template <typename M>
std::shared_ptr<M> MetricFamily<M>::NewChild() const {
  if constexpr (std::is_same_v<M, Histogram>) {
    return std::shared_ptr<Histogram>(new Histogram(bounds_));
  } else {
    return std::make_shared<M>();
  }
}

template <typename M>
std::shared_ptr<M>& MetricFamily<M>::FindOrInsertLocked(
    absl::Span<const absl::string_view> label_values) {
  auto it = children_.find(label_values);
  if (it == children_.end()) {
    it =
        children_
            .emplace(std::vector<std::string>(label_values.begin(), label_values.end()), NewChild())
            .first;
  }
  return it->second;
}

template <typename M>
absl::StatusOr<M*> MetricFamily<M>::GetOrCreate(absl::Span<const absl::string_view> label_values) {
  if (absl::Status s = CheckLabelValues(label_values); !s.ok()) return s;
  absl::MutexLock lock(&mu_);
  return FindOrInsertLocked(label_values).get();
}

template <typename M>
absl::StatusOr<std::shared_ptr<M>> MetricFamily<M>::GetOrCreateShared(
    absl::Span<const absl::string_view> label_values) {
  if (absl::Status s = CheckLabelValues(label_values); !s.ok()) return s;
  absl::MutexLock lock(&mu_);
  return FindOrInsertLocked(label_values);
}

template <typename M>
M& MetricFamily<M>::WithLabels(absl::Span<const absl::string_view> label_values) {
  absl::StatusOr<M*> child = GetOrCreate(label_values);
  if (child.ok()) return **child;
#ifndef NDEBUG
  std::fprintf(stderr, "MetricFamily::WithLabels: %s\n", child.status().ToString().c_str());
  std::abort();
#else
  return *detached_;
#endif
}

template <typename M>
absl::Status MetricFamily<M>::Remove(absl::Span<const absl::string_view> label_values) {
  if (absl::Status s = CheckLabelValues(label_values); !s.ok()) return s;
  std::shared_ptr<M> removed;  // Destroyed after the lock is released.
  absl::MutexLock lock(&mu_);
  auto it = children_.find(label_values);
  if (it == children_.end()) {
    return absl::NotFoundError(
        absl::StrCat("metric family \"", name(), "\" has no child ", QuoteValues(label_values)));
  }
  removed = std::move(it->second);
  children_.erase(it);
  return absl::OkStatus();
}

template <typename M>
size_t MetricFamily<M>::size() const {
  absl::MutexLock lock(&mu_);
  return children_.size();
}

template <typename M>
void MetricFamily<M>::WriteChild(PrometheusWriter& writer, absl::Span<const LabelPair> labels,
                                 const M& child) {
  if constexpr (std::is_same_v<M, Histogram>) {
    writer.HistogramSample(labels, child.snapshot());
  } else {
    writer.Sample(labels, child.value());
  }
}

template <typename M>
void MetricFamily<M>::Write(PrometheusWriter& writer) const {
  if (!writer.BeginFamily(name(), help(), type())) return;
  const absl::Span<const std::string> names = label_names();
  absl::InlinedVector<LabelPair, 8> labels(names.size());
  for (size_t i = 0; i < names.size(); ++i) labels[i].name = names[i];
  absl::MutexLock lock(&mu_);
  for (const auto& [values, child] : children_) {
    for (size_t i = 0; i < values.size(); ++i) labels[i].value = values[i];
    WriteChild(writer, labels, *child);
  }
}

template class MetricFamily<Counter>;
template class MetricFamily<Gauge>;
template class MetricFamily<Histogram>;

}  // namespace smg
