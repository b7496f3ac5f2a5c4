// Builds a metrics registry with every kind of family (counters, gauges with
// negative, fractional and special values, histograms owned and collected),
// awkward label values and collectors, and prints its Prometheus export to
// stdout for check_exposition.py, which parses it with prometheus_client.
// Exits 1 if the registry or the writer reports an error.
#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "smgcore/metrics.h"

namespace {

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "metrics_exposition_main: %s\n", status.ToString().c_str());
  return 1;
}

}  // namespace

int main() {
  smg::MetricsRegistry registry;

  // Counters: labelled, and one beyond 2^53 that must be printed exactly.
  absl::StatusOr<smg::CounterFamily*> selection = registry.AddCounterFamily(
      "smg_worker_selection_total", "Requests routed to a worker, by model and policy.",
      {"worker_type", "connection_mode", "model", "policy"});
  if (!selection.ok()) return Fail(selection.status());
  (*selection)->WithLabels({"regular", "http", "llama-3-70b", "cache_aware"}).Increment(41);
  (*selection)->WithLabels({"regular", "http", "llama-3-70b", "cache_aware"}).Increment();
  (*selection)->WithLabels({"prefill", "grpc", "qwen", "power_of_two"}).Increment(7);

  absl::StatusOr<smg::CounterFamily*> large = registry.AddCounterFamily(
      "smg_test_large_total", "Counts beyond 2^53 are written exactly.", {});
  if (!large.ok()) return Fail(large.status());
  (*large)->WithLabels({}).Increment(std::numeric_limits<uint64_t>::max());

  // Gauges of every kind of value.
  absl::StatusOr<smg::GaugeFamily*> gauges = registry.AddGaugeFamily(
      "smg_test_gauge", "Gauge values of every kind.\nHELP escapes \\ and newlines.", {"case"});
  if (!gauges.ok()) return Fail(gauges.status());
  smg::GaugeFamily& g = **gauges;
  g.WithLabels({"negative"}).Set(-3.5);
  g.WithLabels({"fraction"}).Set(0.1);
  g.WithLabels({"tiny"}).Set(1e-300);
  g.WithLabels({"large"}).Set(6.02214076e23);
  g.WithLabels({"integer"}).Set(42);
  g.WithLabels({"negative_zero"}).Set(-0.0);
  g.WithLabels({"pos_inf"}).Set(std::numeric_limits<double>::infinity());
  g.WithLabels({"neg_inf"}).Set(-std::numeric_limits<double>::infinity());
  g.WithLabels({"nan"}).Set(std::numeric_limits<double>::quiet_NaN());
  smg::Gauge& added = g.WithLabels({"added"});
  added.Add(0.25);
  added.Add(0.25);
  added.Add(-1.25);

  // Label values that need escaping, or are not ASCII: each gauge's value
  // is its index in this list, so the checker can pair them.
  const std::vector<std::string> awkward = {
      "say \"hi\"",
      "back\\slash",
      "two\nlines",
      "trailing\\",
      "a\\\"b\\n",  // a literal backslash before a quote and before an n
      "caf\xC3\xA9",
      "\xE2\x9C\x93 \xF0\x9F\x9A\x80 \xE6\xA8\xA1\xE5\x9E\x8B",  // check mark, rocket, CJK
      "{a=b,c}",
      "",
      "  spaces  ",
  };
  absl::StatusOr<smg::GaugeFamily*> labels = registry.AddGaugeFamily(
      "smg_test_label_values", "Label values that need escaping or are not ASCII.", {"value"});
  if (!labels.ok()) return Fail(labels.status());
  for (size_t i = 0; i < awkward.size(); ++i) {
    absl::StatusOr<smg::Gauge*> child = (*labels)->GetOrCreate({awkward[i]});
    if (!child.ok()) return Fail(child.status());
    (*child)->Set(static_cast<double>(i));
  }

  // An owned histogram: one child with observations (on a bound, between,
  // above every bound, and a NaN that is dropped), one without.
  absl::StatusOr<std::vector<double>> bounds = smg::ExponentialBuckets(0.001, 10, 4);
  if (!bounds.ok()) return Fail(bounds.status());
  absl::StatusOr<smg::HistogramFamily*> duration = registry.AddHistogramFamily(
      "smg_route_duration_seconds", "Time to choose a worker.", {"model"}, *bounds);
  if (!duration.ok()) return Fail(duration.status());
  smg::Histogram& llama = (*duration)->WithLabels({"llama-3-70b"});
  for (double v : {0.0005, 0.001, 0.02, 3.0, 50.0, std::numeric_limits<double>::quiet_NaN()}) {
    llama.Observe(v);
  }
  (*duration)->WithLabels({"qwen"});

  // Collectors: live state read at export time.
  registry.AddCollector([](smg::PrometheusWriter& w) {
    w.BeginFamily("smg_worker_pool_size", "Workers in the pool.", smg::MetricType::kGauge);
    w.Sample({{"worker_type", "regular"}, {"connection_mode", "http"}, {"model", "llama-3-70b"}},
             size_t{3});
    w.Sample({{"worker_type", "prefill"}, {"connection_mode", "grpc"}, {"model", "qwen"}},
             int64_t{1});
  });
  registry.AddCollector([](smg::PrometheusWriter& w) {
    w.BeginFamily("smg_test_collected_seconds", "A histogram a collector builds.",
                  smg::MetricType::kHistogram);
    w.HistogramSample({{"leg", "decode"}}, smg::Histogram::Snapshot{{0.5, 1}, {1, 4}, 6, 9.5});
    w.BeginFamily("smg_test_untyped", "", smg::MetricType::kUntyped);
    w.Sample({}, 12.5);
  });

  std::string out;
  smg::PrometheusWriter writer(&out);
  registry.WriteTo(writer);
  if (!writer.status().ok()) return Fail(writer.status());
  std::fwrite(out.data(), 1, out.size(), stdout);
  return std::fflush(stdout) == 0 ? 0 : 1;
}
