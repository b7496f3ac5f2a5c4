// PrometheusWriter: text exposition format 0.0.4, kept valid whatever the
// caller does (misuse drops lines and is reported through status()).
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "metrics/metric_text.h"
#include "smgcore/metrics.h"

namespace smg {

using metrics_internal::AppendDouble;
using metrics_internal::AppendEscapedHelp;
using metrics_internal::AppendEscapedLabelValue;
using metrics_internal::AppendInt;
using metrics_internal::AppendUint;

PrometheusWriter::PrometheusWriter(std::string* out) : out_(out) {}

void PrometheusWriter::Fail(absl::Status error) {
  if (status_.ok()) status_ = std::move(error);
}

bool PrometheusWriter::BeginFamily(absl::string_view name, absl::string_view help,
                                   MetricType type) {
  state_ = State::kRejected;
  if (absl::Status s = metrics_internal::ValidateMetricName(name); !s.ok()) {
    Fail(std::move(s));
    return false;
  }
  std::vector<std::string> series = metrics_internal::SeriesNames(name, type);
  for (const std::string& s : series) {
    auto it = taken_.find(s);
    if (it == taken_.end()) continue;
    Fail(absl::AlreadyExistsError(
        s == name && it->second == name
            ? absl::StrCat("metric family \"", name, "\" was already written")
            : absl::StrCat("metric family \"", name, "\" would write series \"", s,
                           "\", which family \"", it->second, "\" already wrote")));
    return false;
  }
  for (std::string& s : series) taken_.emplace(std::move(s), std::string(name));

  if (!help.empty()) {
    absl::StrAppend(out_, "# HELP ", name, " ");
    AppendEscapedHelp(out_, help);
    out_->push_back('\n');
    if (!metrics_internal::IsValidUtf8(help)) {
      Fail(absl::InvalidArgumentError(absl::StrCat(
          "HELP of metric family \"", name, "\" is not UTF-8 (bad bytes written as U+FFFD): \"",
          absl::CEscape(help), "\"")));
    }
  }
  absl::StrAppend(out_, "# TYPE ", name, " ", MetricTypeName(type), "\n");
  family_.assign(name.data(), name.size());
  type_ = type;
  state_ = State::kOpen;
  return true;
}

bool PrometheusWriter::CheckSample(absl::Span<const LabelPair> labels, bool histogram) {
  switch (state_) {
    case State::kNoFamily:
      Fail(absl::FailedPreconditionError("sample written outside a family (no BeginFamily())"));
      return false;
    case State::kRejected:
      return false;  // The rejection was reported by BeginFamily().
    case State::kOpen:
      break;
  }
  if (histogram != (type_ == MetricType::kHistogram)) {
    Fail(absl::FailedPreconditionError(
        histogram ? absl::StrCat("HistogramSample() in ", MetricTypeName(type_), " family \"",
                                 family_, "\"")
                  : absl::StrCat("Sample() in histogram family \"", family_,
                                 "\" (use HistogramSample())")));
    return false;
  }
  if (absl::Status s = metrics_internal::ValidateLabelNames(
          labels.size(), [labels](size_t i) { return labels[i].name; }, type_);
      !s.ok()) {
    Fail(absl::InvalidArgumentError(absl::StrCat("family \"", family_, "\": ", s.message())));
    return false;
  }
  for (const LabelPair& l : labels) {
    if (!metrics_internal::IsValidUtf8(l.value)) {
      Fail(absl::InvalidArgumentError(absl::StrCat("family \"", family_, "\": value of label \"",
                                                   l.name, "\" is not UTF-8: \"",
                                                   absl::CEscape(l.value), "\"")));
      return false;
    }
  }
  return true;
}

void PrometheusWriter::AppendSeries(absl::string_view suffix, absl::Span<const LabelPair> labels,
                                    absl::string_view le) {
  absl::StrAppend(out_, family_, suffix);
  if (!labels.empty() || !le.empty()) {
    out_->push_back('{');
    const char* sep = "";
    for (const LabelPair& l : labels) {
      absl::StrAppend(out_, sep, l.name, "=\"");
      AppendEscapedLabelValue(out_, l.value);
      out_->push_back('"');
      sep = ",";
    }
    if (!le.empty()) absl::StrAppend(out_, sep, "le=\"", le, "\"");
    out_->push_back('}');
  }
  out_->push_back(' ');
}

void PrometheusWriter::Sample(absl::Span<const LabelPair> labels, double value) {
  if (!CheckSample(labels, /*histogram=*/false)) return;
  if (type_ == MetricType::kCounter && !(value >= 0)) {
    std::string text;
    AppendDouble(&text, value);
    Fail(absl::InvalidArgumentError(
        absl::StrCat("counter \"", family_, "\": value ", text, " is negative or NaN")));
    return;
  }
  AppendSeries("", labels, "");
  AppendDouble(out_, value);
  out_->push_back('\n');
}

void PrometheusWriter::Sample(absl::Span<const LabelPair> labels, uint64_t value) {
  if (!CheckSample(labels, /*histogram=*/false)) return;
  AppendSeries("", labels, "");
  AppendUint(out_, value);
  out_->push_back('\n');
}

void PrometheusWriter::Sample(absl::Span<const LabelPair> labels, int64_t value) {
  if (!CheckSample(labels, /*histogram=*/false)) return;
  if (type_ == MetricType::kCounter && value < 0) {
    Fail(absl::InvalidArgumentError(
        absl::StrCat("counter \"", family_, "\": value ", value, " is negative")));
    return;
  }
  AppendSeries("", labels, "");
  AppendInt(out_, value);
  out_->push_back('\n');
}

void PrometheusWriter::HistogramSample(absl::Span<const LabelPair> labels,
                                       const Histogram::Snapshot& snapshot) {
  if (!CheckSample(labels, /*histogram=*/true)) return;
  const std::vector<double>& bounds = snapshot.upper_bounds;
  const std::vector<uint64_t>& counts = snapshot.cumulative_counts;
  absl::Status bad = metrics_internal::ValidateHistogramBounds(bounds);
  if (bad.ok() && counts.size() != bounds.size()) {
    bad = absl::InvalidArgumentError(
        absl::StrCat(counts.size(), " cumulative counts for ", bounds.size(), " bounds"));
  }
  for (size_t i = 0; bad.ok() && i < counts.size(); ++i) {
    const uint64_t next = i + 1 < counts.size() ? counts[i + 1] : snapshot.count;
    if (counts[i] > next) {
      bad = absl::InvalidArgumentError(
          absl::StrCat("cumulative count ", i, " (", counts[i], ") exceeds the next (", next,
                       i + 1 < counts.size() ? ")" : ", the total count)"));
    }
  }
  if (!bad.ok()) {
    Fail(absl::InvalidArgumentError(
        absl::StrCat("histogram \"", family_, "\": malformed snapshot: ", bad.message())));
    return;
  }
  std::string le;
  for (size_t i = 0; i < bounds.size(); ++i) {
    le.clear();
    AppendDouble(&le, bounds[i]);
    AppendSeries("_bucket", labels, le);
    AppendUint(out_, counts[i]);
    out_->push_back('\n');
  }
  AppendSeries("_bucket", labels, "+Inf");
  AppendUint(out_, snapshot.count);
  out_->push_back('\n');
  AppendSeries("_sum", labels, "");
  AppendDouble(out_, snapshot.sum);
  out_->push_back('\n');
  AppendSeries("_count", labels, "");
  AppendUint(out_, snapshot.count);
  out_->push_back('\n');
}

}  // namespace smg
