// Unit tests of smgcore/metrics.h: metric arithmetic, histogram buckets,
// the Prometheus writer's formatting and misuse handling, the registry's
// validation, ordering, Remove() and collectors, and concurrency.
#include "smgcore/metrics.h"

#include <atomic>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace smg {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The value text of the sample line `series value` in `text`, if present.
std::optional<std::string> ValueText(const std::string& text, absl::string_view series) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (line.size() > series.size() && absl::StartsWith(line, series) &&
        line[series.size()] == ' ') {
      return std::string(line.substr(series.size() + 1));
    }
  }
  return std::nullopt;
}

// The integer value of `series` in `text`; 0 when the series is absent.
uint64_t IntValue(const std::string& text, absl::string_view series) {
  std::optional<std::string> v = ValueText(text, series);
  uint64_t out = 0;
  if (v.has_value()) {
    EXPECT_TRUE(absl::SimpleAtoi(*v, &out)) << series << " = " << *v;
  }
  return out;
}

// --- Counter, Gauge ---------------------------------------------------------

TEST(CounterTest, StartsAtZeroAndAdds) {
  Counter c;
  EXPECT_EQ(c.value(), 0u);
  c.Increment();
  c.Increment(41);
  EXPECT_EQ(c.value(), 42u);
  c.Increment(0);
  EXPECT_EQ(c.value(), 42u);
}

TEST(GaugeTest, SetAndAddIncludingNegativeAndSpecialValues) {
  Gauge g;
  EXPECT_EQ(g.value(), 0.0);
  g.Set(1.5);
  g.Add(-2.25);
  EXPECT_EQ(g.value(), -0.75);
  g.Add(0.75);
  EXPECT_EQ(g.value(), 0.0);
  g.Set(kInf);
  EXPECT_EQ(g.value(), kInf);
  g.Set(kNaN);
  EXPECT_TRUE(std::isnan(g.value()));
  g.Set(7);
  EXPECT_EQ(g.value(), 7.0);
}

// --- Histogram ---------------------------------------------------------------

std::unique_ptr<Histogram> MakeHistogram(std::vector<double> bounds) {
  absl::StatusOr<std::unique_ptr<Histogram>> h = Histogram::Create(std::move(bounds));
  EXPECT_TRUE(h.ok()) << h.status();
  return h.ok() ? *std::move(h) : nullptr;
}

TEST(HistogramTest, ValueEqualToABoundFallsInThatBucket) {
  std::unique_ptr<Histogram> h = MakeHistogram({1, 2, 5});
  h->Observe(0.5);
  h->Observe(1);                         // le="1"
  h->Observe(std::nextafter(1.0, 2.0));  // just above 1: le="2"
  h->Observe(2);                         // le="2"
  h->Observe(5);                         // le="5"
  h->Observe(5.5);                       // +Inf only
  h->Observe(-3);                        // below every bound: le="1"
  Histogram::Snapshot s = h->snapshot();
  EXPECT_THAT(s.upper_bounds, ElementsAre(1, 2, 5));
  EXPECT_THAT(s.cumulative_counts, ElementsAre(3, 5, 6));
  EXPECT_EQ(s.count, 7u);
  EXPECT_EQ(s.sum, 0.5 + 1 + std::nextafter(1.0, 2.0) + 2 + 5 + 5.5 - 3);
}

TEST(HistogramTest, NanIsDroppedAndInfinitiesAreCounted) {
  std::unique_ptr<Histogram> h = MakeHistogram({1});
  h->Observe(kNaN);
  EXPECT_EQ(h->snapshot(), (Histogram::Snapshot{{1}, {0}, 0, 0.0}));

  h->Observe(kInf);
  Histogram::Snapshot s = h->snapshot();
  EXPECT_THAT(s.cumulative_counts, ElementsAre(0));
  EXPECT_EQ(s.count, 1u);
  EXPECT_EQ(s.sum, kInf);

  h->Observe(-kInf);
  s = h->snapshot();
  EXPECT_THAT(s.cumulative_counts, ElementsAre(1));
  EXPECT_EQ(s.count, 2u);
  EXPECT_TRUE(std::isnan(s.sum));  // +Inf + -Inf
}

TEST(HistogramTest, EmptyBoundsCountEverythingInInf) {
  std::unique_ptr<Histogram> h = MakeHistogram({});
  h->Observe(3);
  h->Observe(-1);
  Histogram::Snapshot s = h->snapshot();
  EXPECT_THAT(s.cumulative_counts, IsEmpty());
  EXPECT_EQ(s.count, 2u);
  EXPECT_EQ(s.sum, 2.0);
}

TEST(HistogramTest, CreateRejectsBadBounds) {
  for (const std::vector<double>& bad :
       {std::vector<double>{1, 1}, {2, 1}, {1, kInf}, {kNaN}, {-kInf, 0}, {0, kNaN, 3}}) {
    absl::StatusOr<std::unique_ptr<Histogram>> h = Histogram::Create(bad);
    EXPECT_EQ(h.status().code(), absl::StatusCode::kInvalidArgument) << bad.size();
  }
  EXPECT_THAT(Histogram::Create({1, 1}).status().message(), HasSubstr("strictly increase"));
  EXPECT_THAT(Histogram::Create({1, kInf}).status().message(), HasSubstr("+Inf"));
  std::vector<double> too_many(kMaxHistogramBuckets + 1);
  for (size_t i = 0; i < too_many.size(); ++i) too_many[i] = static_cast<double>(i);
  EXPECT_EQ(Histogram::Create(too_many).status().code(), absl::StatusCode::kInvalidArgument);
  too_many.pop_back();
  EXPECT_TRUE(Histogram::Create(too_many).ok());
}

TEST(BucketsTest, Linear) {
  EXPECT_THAT(LinearBuckets(0, 0.25, 4).value(), ElementsAre(0, 0.25, 0.5, 0.75));
  EXPECT_THAT(LinearBuckets(-1, 1, 3).value(), ElementsAre(-1, 0, 1));
  EXPECT_EQ(LinearBuckets(0, 1, 0).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(LinearBuckets(0, 0, 3).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(LinearBuckets(0, -1, 3).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(LinearBuckets(kNaN, 1, 3).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(LinearBuckets(0, kInf, 3).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(LinearBuckets(0, 1, kMaxHistogramBuckets + 1).status().code(),
            absl::StatusCode::kInvalidArgument);
  // 1e20 + 1 == 1e20 in double precision: not strictly increasing.
  absl::Status collapsed = LinearBuckets(1e20, 1, 2).status();
  EXPECT_EQ(collapsed.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(collapsed.message(), HasSubstr("LinearBuckets(1e+20, 1, 2)"));
}

TEST(BucketsTest, Exponential) {
  EXPECT_THAT(ExponentialBuckets(0.001, 10, 4).value(), ElementsAre(0.001, 0.01, 0.1, 1));
  EXPECT_THAT(ExponentialBuckets(1, 2, 5).value(), ElementsAre(1, 2, 4, 8, 16));
  EXPECT_EQ(ExponentialBuckets(0, 2, 3).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ExponentialBuckets(-1, 2, 3).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ExponentialBuckets(1, 1, 3).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ExponentialBuckets(1, 2, 0).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ExponentialBuckets(1, kNaN, 3).status().code(), absl::StatusCode::kInvalidArgument);
  // 1e300 * 10^9 overflows to +Inf.
  EXPECT_EQ(ExponentialBuckets(1e300, 10, 10).status().code(), absl::StatusCode::kInvalidArgument);
}

// --- PrometheusWriter -------------------------------------------------------

TEST(PrometheusWriterTest, FormatsNumbersExactlyAndShortest) {
  std::string out;
  PrometheusWriter w(&out);
  ASSERT_TRUE(w.BeginFamily("g", "", MetricType::kGauge));
  w.Sample({{"v", "a"}}, 0.1);
  w.Sample({{"v", "b"}}, 1e20);
  w.Sample({{"v", "c"}}, -0.0);
  w.Sample({{"v", "d"}}, 3.0);
  w.Sample({{"v", "e"}}, 1.5e-7);
  w.Sample({{"v", "f"}}, kInf);
  w.Sample({{"v", "g"}}, -kInf);
  w.Sample({{"v", "h"}}, kNaN);
  w.Sample({{"v", "i"}}, std::numeric_limits<uint64_t>::max());
  w.Sample({{"v", "j"}}, std::numeric_limits<int64_t>::min());
  w.Sample({{"v", "k"}}, 7);          // int: exact integer
  w.Sample({{"v", "l"}}, size_t{9});  // size_t: exact integer
  w.Sample({{"v", "m"}}, 0.30000000000000004);
  EXPECT_TRUE(w.status().ok()) << w.status();
  EXPECT_EQ(out,
            "# TYPE g gauge\n"
            "g{v=\"a\"} 0.1\n"
            "g{v=\"b\"} 1e+20\n"
            "g{v=\"c\"} -0\n"
            "g{v=\"d\"} 3\n"
            "g{v=\"e\"} 1.5e-07\n"
            "g{v=\"f\"} +Inf\n"
            "g{v=\"g\"} -Inf\n"
            "g{v=\"h\"} NaN\n"
            "g{v=\"i\"} 18446744073709551615\n"
            "g{v=\"j\"} -9223372036854775808\n"
            "g{v=\"k\"} 7\n"
            "g{v=\"l\"} 9\n"
            "g{v=\"m\"} 0.30000000000000004\n");
}

TEST(PrometheusWriterTest, EscapesHelpAndLabelValues) {
  std::string out;
  PrometheusWriter w(&out);
  ASSERT_TRUE(
      w.BeginFamily("x_total", "Back\\slash, \"quotes\" and\nnewline.", MetricType::kCounter));
  w.Sample({{"a", "q\"b\\s\nn"}, {"b", "caf\xC3\xA9 \xE2\x9C\x93"}, {"c", ""}}, uint64_t{1});
  w.Sample({}, uint64_t{2});
  EXPECT_TRUE(w.status().ok()) << w.status();
  // HELP escapes only backslash and newline; label values also quotes.
  EXPECT_EQ(out,
            "# HELP x_total Back\\\\slash, \"quotes\" and\\nnewline.\n"
            "# TYPE x_total counter\n"
            "x_total{a=\"q\\\"b\\\\s\\nn\",b=\"caf\xC3\xA9 \xE2\x9C\x93\",c=\"\"} 1\n"
            "x_total 2\n");
}

TEST(PrometheusWriterTest, WritesHistogramSeries) {
  std::string out;
  PrometheusWriter w(&out);
  ASSERT_TRUE(w.BeginFamily("lat_seconds", "Latency.", MetricType::kHistogram));
  w.HistogramSample({{"model", "m"}}, Histogram::Snapshot{{0.005, 0.5, 1}, {0, 2, 3}, 5, 7.25});
  w.HistogramSample({}, Histogram::Snapshot{{}, {}, 0, 0});
  EXPECT_TRUE(w.status().ok()) << w.status();
  EXPECT_EQ(out,
            "# HELP lat_seconds Latency.\n"
            "# TYPE lat_seconds histogram\n"
            "lat_seconds_bucket{model=\"m\",le=\"0.005\"} 0\n"
            "lat_seconds_bucket{model=\"m\",le=\"0.5\"} 2\n"
            "lat_seconds_bucket{model=\"m\",le=\"1\"} 3\n"
            "lat_seconds_bucket{model=\"m\",le=\"+Inf\"} 5\n"
            "lat_seconds_sum{model=\"m\"} 7.25\n"
            "lat_seconds_count{model=\"m\"} 5\n"
            "lat_seconds_bucket{le=\"+Inf\"} 0\n"
            "lat_seconds_sum 0\n"
            "lat_seconds_count 0\n");
}

// Each case misuses a fresh writer once; the writer must drop exactly the
// bad output, keep what came before, and report the error code.
struct MisuseCase {
  const char* what;
  void (*misuse)(PrometheusWriter&);
  absl::StatusCode code;
};

TEST(PrometheusWriterTest, MisuseIsDroppedAndReported) {
  const MisuseCase cases[] = {
      {"sample after EndFamily",
       [](PrometheusWriter& w) {
         w.EndFamily();
         w.Sample({}, 1.0);
       },
       absl::StatusCode::kFailedPrecondition},
      {"Sample in histogram family",
       [](PrometheusWriter& w) {
         w.BeginFamily("h", "", MetricType::kHistogram);
         w.Sample({}, 1.0);
       },
       absl::StatusCode::kFailedPrecondition},
      {"HistogramSample in gauge family",
       [](PrometheusWriter& w) {
         w.BeginFamily("g2", "", MetricType::kGauge);
         w.HistogramSample({}, {});
       },
       absl::StatusCode::kFailedPrecondition},
      {"bad metric name",
       [](PrometheusWriter& w) {
         w.BeginFamily("1bad", "", MetricType::kGauge);
         w.Sample({}, 1.0);
       },
       absl::StatusCode::kInvalidArgument},
      {"family written twice",
       [](PrometheusWriter& w) { w.BeginFamily("ok", "", MetricType::kGauge); },
       absl::StatusCode::kAlreadyExists},
      {"gauge clashing with a histogram's _count",
       [](PrometheusWriter& w) {
         w.BeginFamily("h", "", MetricType::kHistogram);
         w.BeginFamily("h_count", "", MetricType::kGauge);
       },
       absl::StatusCode::kAlreadyExists},
      {"bad label name",
       [](PrometheusWriter& w) {
         w.BeginFamily("g2", "", MetricType::kGauge);
         w.Sample({{"a-b", "x"}}, 1.0);
       },
       absl::StatusCode::kInvalidArgument},
      {"reserved label name",
       [](PrometheusWriter& w) {
         w.BeginFamily("g2", "", MetricType::kGauge);
         w.Sample({{"__name__", "x"}}, 1.0);
       },
       absl::StatusCode::kInvalidArgument},
      {"repeated label name",
       [](PrometheusWriter& w) {
         w.BeginFamily("g2", "", MetricType::kGauge);
         w.Sample({{"a", "x"}, {"a", "y"}}, 1.0);
       },
       absl::StatusCode::kInvalidArgument},
      {"le in a histogram",
       [](PrometheusWriter& w) {
         w.BeginFamily("h", "", MetricType::kHistogram);
         w.HistogramSample({{"le", "1"}}, {});
       },
       absl::StatusCode::kInvalidArgument},
      {"negative counter",
       [](PrometheusWriter& w) {
         w.BeginFamily("c_total", "", MetricType::kCounter);
         w.Sample({}, -1.0);
       },
       absl::StatusCode::kInvalidArgument},
      {"negative integer counter",
       [](PrometheusWriter& w) {
         w.BeginFamily("c_total", "", MetricType::kCounter);
         w.Sample({}, -1);
       },
       absl::StatusCode::kInvalidArgument},
      {"NaN counter",
       [](PrometheusWriter& w) {
         w.BeginFamily("c_total", "", MetricType::kCounter);
         w.Sample({}, kNaN);
       },
       absl::StatusCode::kInvalidArgument},
      {"label value not UTF-8",
       [](PrometheusWriter& w) {
         w.BeginFamily("g2", "", MetricType::kGauge);
         w.Sample({{"a", "\xC3("}}, 1.0);
       },
       absl::StatusCode::kInvalidArgument},
      {"snapshot with fewer counts than bounds",
       [](PrometheusWriter& w) {
         w.BeginFamily("h", "", MetricType::kHistogram);
         w.HistogramSample({}, {{1, 2}, {1}, 1, 0});
       },
       absl::StatusCode::kInvalidArgument},
      {"snapshot with decreasing counts",
       [](PrometheusWriter& w) {
         w.BeginFamily("h", "", MetricType::kHistogram);
         w.HistogramSample({}, {{1, 2}, {2, 1}, 2, 0});
       },
       absl::StatusCode::kInvalidArgument},
      {"snapshot with a bucket above the count",
       [](PrometheusWriter& w) {
         w.BeginFamily("h", "", MetricType::kHistogram);
         w.HistogramSample({}, {{1}, {3}, 2, 0});
       },
       absl::StatusCode::kInvalidArgument},
      {"snapshot with an infinite bound",
       [](PrometheusWriter& w) {
         w.BeginFamily("h", "", MetricType::kHistogram);
         w.HistogramSample({}, {{kInf}, {0}, 0, 0});
       },
       absl::StatusCode::kInvalidArgument},
  };
  for (const MisuseCase& c : cases) {
    SCOPED_TRACE(c.what);
    std::string out;
    PrometheusWriter w(&out);
    ASSERT_TRUE(w.BeginFamily("ok", "Fine.", MetricType::kGauge));
    w.Sample({}, 1.0);
    const std::string good = out;
    c.misuse(w);
    EXPECT_EQ(w.status().code(), c.code) << w.status();
    // Only HELP/TYPE lines may follow the good prefix: no sample was written.
    ASSERT_EQ(out.substr(0, good.size()), good);
    for (absl::string_view line :
         absl::StrSplit(out.substr(good.size()), '\n', absl::SkipEmpty())) {
      EXPECT_TRUE(absl::StartsWith(line, "# ")) << line;
    }
  }
}

TEST(PrometheusWriterTest, SampleBeforeAnyFamilyIsDropped) {
  std::string out;
  PrometheusWriter w(&out);
  w.Sample({{"a", "b"}}, 1.0);
  w.HistogramSample({}, {});
  EXPECT_EQ(out, "");
  EXPECT_EQ(w.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(PrometheusWriterTest, RejectedFamilyDropsItsSamplesAndKeepsFirstError) {
  std::string out;
  PrometheusWriter w(&out);
  EXPECT_FALSE(w.BeginFamily("bad-name", "", MetricType::kGauge));
  w.Sample({}, 1.0);  // silently dropped: the family was rejected
  EXPECT_FALSE(w.BeginFamily("", "", MetricType::kGauge));
  EXPECT_TRUE(w.BeginFamily("good", "", MetricType::kGauge));
  w.Sample({}, 2.0);
  EXPECT_EQ(out, "# TYPE good gauge\ngood 2\n");
  EXPECT_EQ(w.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(w.status().message(), HasSubstr("bad-name"));  // the first error
}

TEST(PrometheusWriterTest, InvalidUtf8HelpIsReplaced) {
  std::string out;
  PrometheusWriter w(&out);
  EXPECT_TRUE(w.BeginFamily("g",
                            "a\xFF"
                            "b\xED\xA0\x80",
                            MetricType::kGauge));  // 0xFF; a surrogate
  EXPECT_EQ(out,
            "# HELP g a\xEF\xBF\xBD"
            "b\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\n"
            "# TYPE g gauge\n");
  EXPECT_EQ(w.status().code(), absl::StatusCode::kInvalidArgument);
}

// --- MetricsRegistry ---------------------------------------------------------

TEST(MetricsRegistryTest, ExportsGoldenText) {
  MetricsRegistry r;
  CounterFamily* selections =
      r.AddCounterFamily("smg_worker_selection_total", "Requests routed to a worker.",
                         {"model", "policy"})
          .value();
  GaugeFamily* active =
      r.AddGaugeFamily("smg_worker_requests_active", "Requests in flight on a worker.", {"worker"})
          .value();
  HistogramFamily* duration = r.AddHistogramFamily("smg_route_duration_seconds",
                                                   "Time to choose a worker.", {}, {0.005, 0.25, 1})
                                  .value();
  ASSERT_TRUE(
      r.AddCounterFamily("smg_tree_evictions_total", "Tree evictions.\nCounted per \\ run.", {})
          .ok());
  r.AddCollector([](PrometheusWriter& w) {
    w.BeginFamily("smg_worker_pool_size", "Workers per model.", MetricType::kGauge);
    w.Sample({{"model", "llama"}}, size_t{2});
  });

  selections->WithLabels({"llama", "round_robin"}).Increment(3);
  selections->WithLabels({"llama", "cache_aware"}).Increment();
  active->WithLabels({"http://b"}).Set(-1.5);
  active->WithLabels({"http://a"}).Set(2);
  Histogram& d = duration->WithLabels({});
  d.Observe(0.25);
  d.Observe(0.5);
  d.Observe(4);

  const std::string expected =
      "# HELP smg_route_duration_seconds Time to choose a worker.\n"
      "# TYPE smg_route_duration_seconds histogram\n"
      "smg_route_duration_seconds_bucket{le=\"0.005\"} 0\n"
      "smg_route_duration_seconds_bucket{le=\"0.25\"} 1\n"
      "smg_route_duration_seconds_bucket{le=\"1\"} 2\n"
      "smg_route_duration_seconds_bucket{le=\"+Inf\"} 3\n"
      "smg_route_duration_seconds_sum 4.75\n"
      "smg_route_duration_seconds_count 3\n"
      "# HELP smg_tree_evictions_total Tree evictions.\\nCounted per \\\\ run.\n"
      "# TYPE smg_tree_evictions_total counter\n"
      "smg_tree_evictions_total 0\n"
      "# HELP smg_worker_requests_active Requests in flight on a worker.\n"
      "# TYPE smg_worker_requests_active gauge\n"
      "smg_worker_requests_active{worker=\"http://a\"} 2\n"
      "smg_worker_requests_active{worker=\"http://b\"} -1.5\n"
      "# HELP smg_worker_selection_total Requests routed to a worker.\n"
      "# TYPE smg_worker_selection_total counter\n"
      "smg_worker_selection_total{model=\"llama\",policy=\"cache_aware\"} 1\n"
      "smg_worker_selection_total{model=\"llama\",policy=\"round_robin\"} 3\n"
      "# HELP smg_worker_pool_size Workers per model.\n"
      "# TYPE smg_worker_pool_size gauge\n"
      "smg_worker_pool_size{model=\"llama\"} 2\n";
  EXPECT_EQ(r.ExportPrometheus(), expected);
  EXPECT_EQ(r.ExportPrometheus(), expected);  // exporting changes nothing
}

TEST(MetricsRegistryTest, SortsFamiliesAndChildrenWhateverTheInsertionOrder) {
  MetricsRegistry r;
  GaugeFamily* b = r.AddGaugeFamily("b", "B.", {"x", "y"}).value();
  ASSERT_TRUE(r.AddGaugeFamily("a_z", "A.", {}).ok());
  ASSERT_TRUE(r.AddGaugeFamily("a", "A.", {}).ok());
  // Byte-wise, label by label: "" < "1" < "10" < "9" < "Z" < "a", and the
  // first label decides before the second.
  for (const auto& [x, y] : std::vector<std::pair<const char*, const char*>>{
           {"a", "1"}, {"9", "z"}, {"10", "b"}, {"Z", ""}, {"1", "b"}, {"1", "a"}, {"", "z"}}) {
    b->WithLabels({x, y}).Set(1);
  }
  std::vector<std::string> series;
  for (absl::string_view line : absl::StrSplit(r.ExportPrometheus(), '\n', absl::SkipEmpty())) {
    if (!absl::StartsWith(line, "#")) series.emplace_back(line.substr(0, line.find(' ')));
  }
  EXPECT_THAT(series, ElementsAre("a", "a_z", "b{x=\"\",y=\"z\"}", "b{x=\"1\",y=\"a\"}",
                                  "b{x=\"1\",y=\"b\"}", "b{x=\"10\",y=\"b\"}", "b{x=\"9\",y=\"z\"}",
                                  "b{x=\"Z\",y=\"\"}", "b{x=\"a\",y=\"1\"}"));
}

TEST(MetricsRegistryTest, RejectsBadFamilies) {
  MetricsRegistry r;
  auto code = [](const absl::Status& s) { return s.code(); };
  constexpr absl::StatusCode kInvalid = absl::StatusCode::kInvalidArgument;
  EXPECT_EQ(code(r.AddGaugeFamily("", "h", {}).status()), kInvalid);
  EXPECT_EQ(code(r.AddGaugeFamily("1abc", "h", {}).status()), kInvalid);
  EXPECT_EQ(code(r.AddGaugeFamily("a-b", "h", {}).status()), kInvalid);
  EXPECT_EQ(code(r.AddGaugeFamily("caf\xC3\xA9", "h", {}).status()), kInvalid);
  EXPECT_EQ(code(r.AddCounterFamily("requests", "h", {}).status()), kInvalid);  // no _total
  EXPECT_EQ(code(r.AddGaugeFamily("g", "", {}).status()), kInvalid);            // no help
  EXPECT_EQ(code(r.AddGaugeFamily("g", "\xFF", {}).status()), kInvalid);
  EXPECT_EQ(code(r.AddGaugeFamily("g", "h", {"1a"}).status()), kInvalid);
  EXPECT_EQ(code(r.AddGaugeFamily("g", "h", {"a:b"}).status()), kInvalid);  // ':' is not for labels
  EXPECT_EQ(code(r.AddGaugeFamily("g", "h", {"__a"}).status()), kInvalid);
  EXPECT_EQ(code(r.AddGaugeFamily("g", "h", {"a", "b", "a"}).status()), kInvalid);
  EXPECT_EQ(code(r.AddHistogramFamily("h", "h", {"le"}, {1}).status()), kInvalid);
  EXPECT_EQ(code(r.AddHistogramFamily("h", "h", {}, {2, 1}).status()), kInvalid);
  EXPECT_EQ(code(r.AddHistogramFamily("h", "h", {}, {kNaN}).status()), kInvalid);

  // The messages name the bad value.
  EXPECT_THAT(r.AddGaugeFamily("1abc", "h", {}).status().message(), HasSubstr("\"1abc\""));
  EXPECT_THAT(r.AddCounterFamily("requests", "h", {}).status().message(),
              HasSubstr("\"requests\""));
  EXPECT_THAT(r.AddGaugeFamily("g", "h", {"a", "b", "a"}).status().message(),
              HasSubstr("label name \"a\" is repeated"));

  // Nothing above was added: every name is still free.
  EXPECT_TRUE(r.AddGaugeFamily("g", "h", {"le"}).ok());  // `le` is only reserved in histograms
  EXPECT_TRUE(r.AddHistogramFamily("h", "h", {}, {1}).ok());
  EXPECT_TRUE(r.AddCounterFamily("requests_total", "h", {}).ok());
  EXPECT_TRUE(r.AddGaugeFamily("ns:sub_metric", "h", {"_a"}).ok());
}

TEST(MetricsRegistryTest, RejectsDuplicateAndCollidingFamilies) {
  MetricsRegistry r;
  ASSERT_TRUE(r.AddHistogramFamily("lat_seconds", "h", {}, {1}).ok());
  ASSERT_TRUE(r.AddCounterFamily("x_total", "h", {}).ok());
  absl::Status dup = r.AddGaugeFamily("x_total", "h", {}).status();
  EXPECT_EQ(dup.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(dup.message(), HasSubstr("\"x_total\" already exists"));
  absl::Status clash = r.AddGaugeFamily("lat_seconds_count", "h", {}).status();
  EXPECT_EQ(clash.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(clash.message(), HasSubstr("which family \"lat_seconds\" already exports"));
  // And the other way round: a histogram whose series a gauge already uses.
  ASSERT_TRUE(r.AddGaugeFamily("q_sum", "h", {}).ok());
  EXPECT_EQ(r.AddHistogramFamily("q", "h", {}, {1}).status().code(),
            absl::StatusCode::kAlreadyExists);
}

TEST(MetricFamilyTest, WrongArityIsAnErrorNotACrash) {
  MetricsRegistry r;
  CounterFamily* f = r.AddCounterFamily("c_total", "h", {"a", "b"}).value();
  absl::StatusOr<Counter*> one = f->GetOrCreate({"x"});
  EXPECT_EQ(one.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(one.status().message(), HasSubstr("\"c_total\" has 2 label(s) [a, b] but got 1"));
  EXPECT_EQ(f->GetOrCreate({"x", "y", "z"}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(f->GetOrCreateShared({}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(f->Remove({"x"}).code(), absl::StatusCode::kInvalidArgument);
  absl::StatusOr<Counter*> bad_utf8 = f->GetOrCreate({"x", "\xC0\x80"});  // overlong NUL
  EXPECT_EQ(bad_utf8.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad_utf8.status().message(), HasSubstr("label \"b\""));
  EXPECT_EQ(f->size(), 0u);  // nothing was created

  // WithLabels(): asserts in debug builds; a never-exported child otherwise.
  EXPECT_DEBUG_DEATH(
      {
        f->WithLabels({"only-one"}).Increment();
        EXPECT_EQ(f->size(), 0u);
        EXPECT_THAT(r.ExportPrometheus(), Not(HasSubstr("only-one")));
      },
      "has 2 label\\(s\\)");
}

TEST(MetricFamilyTest, ChildrenAreStableAndShared) {
  MetricsRegistry r;
  CounterFamily* f = r.AddCounterFamily("c_total", "h", {"k"}).value();
  Counter* first = f->GetOrCreate({"a"}).value();
  for (int i = 0; i < 100; ++i) f->WithLabels({absl::StrCat("k", i)}).Increment();
  EXPECT_EQ(f->GetOrCreate({"a"}).value(), first);
  EXPECT_EQ(&f->WithLabels({"a"}), first);
  EXPECT_EQ(f->GetOrCreateShared({"a"}).value().get(), first);
  EXPECT_EQ(f->size(), 101u);
}

TEST(MetricFamilyTest, FamilyWithoutLabelsExportsZeroFromTheStart) {
  MetricsRegistry r;
  GaugeFamily* g = r.AddGaugeFamily("g", "h", {}).value();
  CounterFamily* c = r.AddCounterFamily("c_total", "h", {"k"}).value();
  EXPECT_EQ(g->size(), 1u);
  EXPECT_EQ(c->size(), 0u);
  EXPECT_EQ(r.ExportPrometheus(),
            "# HELP c_total h\n# TYPE c_total counter\n"
            "# HELP g h\n# TYPE g gauge\ng 0\n");
}

TEST(MetricFamilyTest, RemoveStopsExportingAndRecreatesFromZero) {
  MetricsRegistry r;
  CounterFamily* f = r.AddCounterFamily("c_total", "h", {"worker"}).value();
  f->WithLabels({"w1"}).Increment(5);
  f->WithLabels({"w2"}).Increment(7);
  std::shared_ptr<Counter> held = f->GetOrCreateShared({"w1"}).value();

  ASSERT_TRUE(f->Remove({"w1"}).ok());
  EXPECT_EQ(f->size(), 1u);
  std::string text = r.ExportPrometheus();
  EXPECT_FALSE(ValueText(text, "c_total{worker=\"w1\"}").has_value());
  EXPECT_EQ(IntValue(text, "c_total{worker=\"w2\"}"), 7u);

  absl::Status again = f->Remove({"w1"});
  EXPECT_EQ(again.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(again.message(), HasSubstr("[\"w1\"]"));

  // The shared handle outlives Remove() (ASan would flag a use after free);
  // its updates are no longer exported.
  held->Increment();
  EXPECT_EQ(held->value(), 6u);
  EXPECT_FALSE(ValueText(r.ExportPrometheus(), "c_total{worker=\"w1\"}").has_value());

  // The same labels later make a new series from zero.
  Counter& fresh = f->WithLabels({"w1"});
  EXPECT_NE(&fresh, held.get());
  EXPECT_EQ(IntValue(r.ExportPrometheus(), "c_total{worker=\"w1\"}"), 0u);
  fresh.Increment();
  EXPECT_EQ(IntValue(r.ExportPrometheus(), "c_total{worker=\"w1\"}"), 1u);
}

TEST(MetricsRegistryTest, CollectorMisuseCannotCorruptOtherFamilies) {
  MetricsRegistry r;
  r.AddGaugeFamily("owned", "Owned.", {}).value()->WithLabels({}).Set(1);
  r.AddCollector([](PrometheusWriter& w) {
    w.BeginFamily("collected", "Collected.", MetricType::kGauge);
    w.Sample({}, 2.0);
  });
  // Forgets BeginFamily(): must not land in "collected".
  r.AddCollector([](PrometheusWriter& w) { w.Sample({{"stray", "1"}}, 3.0); });
  // Reuses an owned family's name: dropped whole.
  r.AddCollector([](PrometheusWriter& w) {
    w.BeginFamily("owned", "Again.", MetricType::kGauge);
    w.Sample({}, 4.0);
  });
  r.AddCollector(nullptr);  // ignored

  std::string out;
  PrometheusWriter w(&out);
  r.WriteTo(w);
  EXPECT_EQ(out,
            "# HELP owned Owned.\n# TYPE owned gauge\nowned 1\n"
            "# HELP collected Collected.\n# TYPE collected gauge\ncollected 2\n");
  EXPECT_EQ(w.status().code(), absl::StatusCode::kFailedPrecondition);  // the first misuse
  EXPECT_EQ(r.ExportPrometheus(), out);
}

TEST(MetricsRegistryTest, CollectorMayAddFamiliesDuringExport) {
  MetricsRegistry r;
  r.AddCollector([&r](PrometheusWriter&) {
    // Would deadlock if the export held the registry's mutex.
    r.AddGaugeFamily("late", "Added by a collector.", {}).IgnoreError();
  });
  EXPECT_EQ(r.ExportPrometheus(), "");
  EXPECT_EQ(r.ExportPrometheus(), "# HELP late Added by a collector.\n# TYPE late gauge\nlate 0\n");
}

// --- Concurrency --------------------------------------------------------------

TEST(MetricsConcurrencyTest, ConcurrentUpdatesSumExactly) {
  MetricsRegistry r;
  CounterFamily* c = r.AddCounterFamily("c_total", "h", {"k"}).value();
  GaugeFamily* g = r.AddGaugeFamily("g", "h", {}).value();
  HistogramFamily* h = r.AddHistogramFamily("h_seconds", "h", {}, {1, 2}).value();
  constexpr int kPerThread = 50000;
  auto work = [&] {
    // Both threads resolve the same children concurrently too.
    Counter& counter = c->WithLabels({"shared"});
    Gauge& gauge = g->WithLabels({});
    Histogram& hist = h->WithLabels({});
    for (int i = 0; i < kPerThread; ++i) {
      counter.Increment();
      gauge.Add(1.0);
      hist.Observe(static_cast<double>(i % 3));  // 0, 1, 2: integers sum exactly
    }
  };
  std::thread t1(work);
  std::thread t2(work);
  t1.join();
  t2.join();
  EXPECT_EQ(c->WithLabels({"shared"}).value(), 2u * kPerThread);
  EXPECT_EQ(g->WithLabels({}).value(), 2.0 * kPerThread);
  Histogram::Snapshot s = h->WithLabels({}).snapshot();
  EXPECT_EQ(s.count, 2u * kPerThread);
  // Per thread: 16667 zeros (i % 3 == 0 for i < 50000), 16667 ones, 16666 twos.
  EXPECT_THAT(s.cumulative_counts, ElementsAre(2u * (16667 + 16667), 2u * kPerThread));
  EXPECT_EQ(s.sum, 2.0 * (16667 + 2 * 16666));
}

TEST(MetricsConcurrencyTest, ExportDuringUpdatesSeesMonotoneConsistentValues) {
  MetricsRegistry r;
  CounterFamily* c = r.AddCounterFamily("c_total", "h", {"k"}).value();
  HistogramFamily* h = r.AddHistogramFamily("h_seconds", "h", {}, {1, 2}).value();
  // The updater runs until the exports are done (at most kMaxIterations), so
  // every export overlaps updates however the two threads are scheduled.
  constexpr int kExports = 200;
  constexpr int kMaxIterations = 2'000'000;
  std::atomic<bool> stop{false};
  int iterations = 0;
  std::thread updater([&] {
    Counter& hot = c->WithLabels({"hot"});
    Histogram& hist = h->WithLabels({});
    for (; iterations < kMaxIterations && !stop.load(std::memory_order_relaxed); ++iterations) {
      hot.Increment();
      hist.Observe(static_cast<double>(iterations % 4));
      // New children appear (up to 100) while exports iterate the family.
      if (iterations % 1000 == 0 && iterations < 100'000) {
        c->WithLabels({absl::StrCat("k", iterations)}).Increment();
      }
    }
  });
  uint64_t last_hot = 0;
  uint64_t last_count = 0;
  for (int round = 0; round < kExports; ++round) {
    const std::string text = r.ExportPrometheus();
    const uint64_t hot = IntValue(text, "c_total{k=\"hot\"}");
    const uint64_t count = IntValue(text, "h_seconds_count");
    EXPECT_GE(hot, last_hot);
    EXPECT_GE(count, last_count);
    EXPECT_EQ(IntValue(text, "h_seconds_bucket{le=\"+Inf\"}"), count);
    EXPECT_LE(IntValue(text, "h_seconds_bucket{le=\"1\"}"),
              IntValue(text, "h_seconds_bucket{le=\"2\"}"));
    last_hot = hot;
    last_count = count;
  }
  stop.store(true);
  updater.join();
  const std::string text = r.ExportPrometheus();
  EXPECT_EQ(IntValue(text, "c_total{k=\"hot\"}"), static_cast<uint64_t>(iterations));
  EXPECT_EQ(IntValue(text, "h_seconds_count"), static_cast<uint64_t>(iterations));
  EXPECT_GE(IntValue(text, "c_total{k=\"hot\"}"), last_hot);
}

}  // namespace
}  // namespace smg
