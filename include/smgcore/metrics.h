// File: smgcore/metrics.h
//
// The core's metrics: counters, gauges and histograms owned by the library,
// grouped into labelled families held by a `MetricsRegistry`, and exported in
// the Prometheus text exposition format, version 0.0.4, by one call.
//
// Hot paths resolve a series once, keep the reference, and then update it
// with one relaxed atomic operation: no lock and no allocation per update.
//
//   smg::MetricsRegistry registry;
//   smg::CounterFamily* selections =
//       registry.AddCounterFamily("smg_worker_selection_total",
//                                 "Requests routed to a worker.", {"model", "policy"})
//           .value();
//   smg::Counter& llama = selections->WithLabels({"llama", "cache_aware"});
//   ...
//   llama.Increment();                       // per request
//
// State that already lives in atomics elsewhere (requests in flight, pool
// sizes, tree sizes) is not mirrored into owned metrics; a collector reads it
// when a scrape happens:
//
//   registry.AddCollector([router](smg::PrometheusWriter& w) {
//     w.BeginFamily("smg_worker_pool_size", "Registered workers.", smg::MetricType::kGauge);
//     w.Sample({{"model", "llama"}}, router->worker_count());
//   });
//   std::string body = registry.ExportPrometheus();
//   // Serve with Content-Type: text/plain; version=0.0.4; charset=utf-8
//
// Naming convention (Prometheus' own, as SMG applies it):
//   * Every series starts with `smg_`. Where SMG already exports a metric we
//     keep its name and label names unchanged (e.g.
//     `smg_worker_selection_total{worker_type,connection_mode,model,policy}`,
//     `smg_worker_requests_active{worker}`), so dashboards carry over.
//   * Counters end in `_total`; the registry refuses counter families that
//     do not.
//   * Units are base units, spelled as a suffix: `_seconds` for durations
//     (never milliseconds), `_bytes` for sizes. Ratios are 0..1.
//   * Names and label names are snake_case; histogram families never use a
//     label named `le` (the exporter adds it).
//
// Thread safety: every class here may be used from any number of threads.
// Updates (Increment, Set, Add, Observe) are lock-free. Resolving a child
// (`WithLabels`, `GetOrCreate`), adding families and exporting take mutexes
// and may allocate. An export sees each value at some instant during the
// export; different series may be read at slightly different instants.
#ifndef SMGCORE_METRICS_H_
#define SMGCORE_METRICS_H_

#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"

namespace smg {

// MetricType
//
// The exposition TYPE of a family. Summaries are not supported: histograms
// aggregate across instances and summaries do not.
enum class MetricType { kCounter, kGauge, kHistogram, kUntyped };

// MetricTypeName()
//
// The TYPE keyword: "counter", "gauge", "histogram" or "untyped".
absl::string_view MetricTypeName(MetricType type);

// Counter
//
// A monotonically increasing count (uint64, wrapping on overflow, which at
// one increment per nanosecond takes 584 years). Lock-free.
class Counter {
 public:
  Counter() = default;
  Counter(const Counter&) = delete;
  Counter& operator=(const Counter&) = delete;

  // Counter::Increment()
  //
  // Adds `n`. One relaxed atomic add: the count is a statistic, not a
  // synchronisation point, so no ordering with other memory is implied.
  void Increment(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }

  // Counter::value()
  //
  // The current count. Successive reads from one thread never decrease.
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

// Gauge
//
// A value that goes up and down (double). Lock-free. NaN and infinities are
// stored and exported as they are ("NaN", "+Inf", "-Inf").
class Gauge {
 public:
  Gauge() = default;
  Gauge(const Gauge&) = delete;
  Gauge& operator=(const Gauge&) = delete;

  // Gauge::Set()
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }

  // Gauge::Add()
  //
  // Adds `delta` (negative to decrease) with a compare-and-swap loop on the
  // value's bits, so concurrent Add()s are never lost.
  void Add(double delta) {
    double old = value_.load(std::memory_order_relaxed);
    while (!value_.compare_exchange_weak(old, old + delta, std::memory_order_relaxed)) {
    }
  }

  // Gauge::value()
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  static_assert(std::atomic<double>::is_always_lock_free);
  std::atomic<double> value_{0.0};
};

template <typename M>
class MetricFamily;

// Histogram
//
// Counts observations into buckets with fixed upper bounds, Prometheus
// style: bucket `i` counts observations `v <= upper_bounds[i]` (a value equal
// to a bound falls in that bound's bucket), and an implicit last bucket
// (`le="+Inf"`) counts everything. Also keeps the sum of the observations.
//
// Observe() is lock-free and allocation-free: a binary search over the
// bounds, one relaxed atomic increment of one bucket, and a CAS-add of the
// sum. The total count is not a separate atomic but the sum of the buckets,
// so an export's `_count` always equals its `le="+Inf"` bucket.
//
// NaN observations are dropped: they are counted in no bucket and added to
// neither the count nor the sum (a NaN would make the sum NaN forever).
// +Inf lands in the +Inf bucket and -Inf in the first one, both counted, and
// both make the sum infinite (or NaN once it has seen both), as Prometheus'
// own clients do.
class Histogram {
 public:
  // Histogram::Snapshot
  //
  // A copy of a histogram's state. `cumulative_counts[i]` is the number of
  // observations <= `upper_bounds[i]`; the +Inf bucket is `count`. Both
  // vectors have the same size. Also what a collector builds to export a
  // histogram it keeps elsewhere (PrometheusWriter::HistogramSample()).
  struct Snapshot {
    std::vector<double> upper_bounds;
    std::vector<uint64_t> cumulative_counts;
    uint64_t count = 0;
    double sum = 0.0;

    friend bool operator==(const Snapshot&, const Snapshot&) = default;
  };

  // Histogram::Create()
  //
  // A standalone histogram (not part of any family), e.g. one a collector
  // exports through snapshot(). InvalidArgument unless `upper_bounds` is
  // strictly increasing and finite (+Inf is implicit and must not be
  // listed) and has at most kMaxHistogramBuckets bounds. Empty bounds are
  // allowed: only the +Inf bucket, that is, a count and a sum.
  static absl::StatusOr<std::unique_ptr<Histogram>> Create(std::vector<double> upper_bounds);

  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  // Histogram::Observe()
  //
  // Records one observation (in the family's unit, e.g. seconds).
  void Observe(double v);

  // Histogram::snapshot()
  //
  // The current state. Buckets are read one at a time while observations may
  // continue, so the snapshot is a state at no single instant, but every
  // cumulative count is at least the one of any earlier snapshot and `count`
  // is exactly the last cumulative bucket plus the +Inf-only observations.
  // `sum` may lag or lead the buckets by in-flight observations. Allocates.
  Snapshot snapshot() const;

  // Histogram::upper_bounds()
  absl::Span<const double> upper_bounds() const { return *bounds_; }

 private:
  friend class MetricFamily<Histogram>;
  // `bounds` must be valid; shared by every child of a family.
  explicit Histogram(std::shared_ptr<const std::vector<double>> bounds);

  const std::shared_ptr<const std::vector<double>> bounds_;
  // Non-cumulative counts: bounds_->size() finite buckets, then +Inf.
  const std::unique_ptr<std::atomic<uint64_t>[]> buckets_;
  std::atomic<double> sum_{0.0};
};

// kMaxHistogramBuckets
//
// The most finite bounds a histogram may have. Every bucket is a series of
// every child, so a histogram with more is a mistake; the cap also bounds
// Observe()'s binary search.
inline constexpr size_t kMaxHistogramBuckets = 1024;

// LinearBuckets()
//
// `count` upper bounds `start, start + width, ..., start + (count-1)*width`
// (each computed as `start + i*width`, so rounding does not accumulate).
// InvalidArgument for count 0 or above kMaxHistogramBuckets, a non-finite
// start or width, width <= 0, or bounds that are not finite and strictly
// increasing in double precision.
absl::StatusOr<std::vector<double>> LinearBuckets(double start, double width, size_t count);

// ExponentialBuckets()
//
// `count` upper bounds `start, start*factor, ..., start*factor^(count-1)`
// (each computed as `start * pow(factor, i)`, so ExponentialBuckets(0.001,
// 10, 4) is exactly {0.001, 0.01, 0.1, 1}). InvalidArgument for count 0 or
// above kMaxHistogramBuckets, start <= 0, factor <= 1, non-finite
// arguments, or a bound that overflows to infinity.
absl::StatusOr<std::vector<double>> ExponentialBuckets(double start, double factor, size_t count);

// LabelPair
//
// One label of one sample, as the writer receives it. Views: the strings must
// outlive the call they are passed to.
struct LabelPair {
  absl::string_view name;
  absl::string_view value;
};

// PrometheusWriter
//
// Appends Prometheus text exposition format 0.0.4 to a string: families
// opened with BeginFamily(), each followed by its samples.
//
//   std::string out;
//   smg::PrometheusWriter w(&out);
//   w.BeginFamily("smg_worker_requests_active", "Requests in flight.",
//                 smg::MetricType::kGauge);
//   w.Sample({{"worker", "http://10.0.0.1:30000"}}, int64_t{3});
//
// The writer escapes HELP text and label values, formats numbers (integers
// exactly; doubles in the shortest form that reads back to the same double,
// and "+Inf", "-Inf", "NaN"), and expands histograms into their `_bucket`
// (cumulative, `le`-labelled, ending with `le="+Inf"`), `_sum` and `_count`
// series.
//
// It also keeps the output valid whatever the caller does. Misuse is a
// programming error, and the writer never crashes on it: it leaves the
// offending lines out, records the first error in status(), and carries on.
// Misuse is: a sample before any BeginFamily(); a Sample() in a histogram
// family or a HistogramSample() in another; an invalid metric or label name,
// a repeated or reserved (`__` prefix, `le` in histograms) label name; a
// family name, or a series name one implies (`x_bucket`, `x_sum`, `x_count`
// for histogram `x`), that an earlier family of this writer already used; a
// negative or NaN counter value; a malformed histogram snapshot; text that
// is not UTF-8 (label values: sample dropped; HELP: bad bytes become
// U+FFFD). After a rejected BeginFamily(), samples are dropped until the
// next BeginFamily().
//
// Not thread-safe: one writer belongs to one export.
class PrometheusWriter {
 public:
  // PrometheusWriter::PrometheusWriter()
  //
  // Appends to `*out`, which must outlive the writer.
  explicit PrometheusWriter(std::string* out);
  PrometheusWriter(const PrometheusWriter&) = delete;
  PrometheusWriter& operator=(const PrometheusWriter&) = delete;

  // PrometheusWriter::BeginFamily()
  //
  // Starts family `name` of `type`: writes its `# HELP` line (none when
  // `help` is empty) and its `# TYPE` line. Every sample written until the
  // next BeginFamily() belongs to it. `name` is the full name as exported:
  // a counter is named with its `_total` suffix. Returns false (and records
  // the error) when the family is rejected.
  bool BeginFamily(absl::string_view name, absl::string_view help, MetricType type);

  // PrometheusWriter::EndFamily()
  //
  // Closes the current family: a sample written before the next
  // BeginFamily() is misuse instead of silently joining it. The registry
  // calls it after each family and each collector, so a collector that
  // forgets BeginFamily() cannot add samples to someone else's family.
  void EndFamily() { state_ = State::kNoFamily; }

  // PrometheusWriter::Sample()
  //
  // Writes one sample `name{labels} value` of the current counter, gauge or
  // untyped family. Integers are written exactly; any integral type is
  // accepted (bool is not: say what it means as a number).
  void Sample(absl::Span<const LabelPair> labels, double value);
  void Sample(absl::Span<const LabelPair> labels, uint64_t value);
  void Sample(absl::Span<const LabelPair> labels, int64_t value);
  template <typename T>
    requires(std::is_integral_v<T> && !std::is_same_v<T, bool>)
  void Sample(absl::Span<const LabelPair> labels, T value) {
    if constexpr (std::is_signed_v<T>) {
      Sample(labels, static_cast<int64_t>(value));
    } else {
      Sample(labels, static_cast<uint64_t>(value));
    }
  }

  // PrometheusWriter::HistogramSample()
  //
  // Writes one histogram of the current histogram family: a `_bucket` line
  // per bound plus `le="+Inf"`, then `_sum` and `_count`, all with `labels`.
  // The snapshot must have finite, strictly increasing bounds, as many
  // cumulative counts, non-decreasing and at most `count`.
  void HistogramSample(absl::Span<const LabelPair> labels, const Histogram::Snapshot& snapshot);

  // PrometheusWriter::status()
  //
  // OK, or the first misuse: InvalidArgument (bad name, value or text),
  // AlreadyExists (family or series name used twice), FailedPrecondition
  // (sample outside a family of the right type).
  const absl::Status& status() const { return status_; }

 private:
  enum class State { kNoFamily, kOpen, kRejected };

  void Fail(absl::Status error);
  // Checks that a sample may be written now and its labels are valid.
  bool CheckSample(absl::Span<const LabelPair> labels, bool histogram);
  // Writes `family_<suffix>{labels[,le="<le>"]} ` (everything up to the value).
  void AppendSeries(absl::string_view suffix, absl::Span<const LabelPair> labels,
                    absl::string_view le);

  std::string* const out_;
  State state_ = State::kNoFamily;
  std::string family_;
  MetricType type_ = MetricType::kUntyped;
  // Family names and the series names they imply, each mapped to the family
  // that used it, to reject (and explain) a second use.
  absl::flat_hash_map<std::string, std::string> taken_;
  absl::Status status_;
};

// MetricFamilyBase
//
// What the registry and the exporter need from a family whatever its metric
// type. Families are created only by MetricsRegistry.
class MetricFamilyBase {
 public:
  virtual ~MetricFamilyBase() = default;
  MetricFamilyBase(const MetricFamilyBase&) = delete;
  MetricFamilyBase& operator=(const MetricFamilyBase&) = delete;

  // MetricFamilyBase::name() / help() / type() / label_names()
  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  MetricType type() const { return type_; }
  absl::Span<const std::string> label_names() const { return label_names_; }

  // MetricFamilyBase::size()
  //
  // The number of children (series, or histograms) the family exports.
  virtual size_t size() const = 0;

  // MetricFamilyBase::Write()
  //
  // Writes the family (HELP, TYPE, then its children sorted by label values,
  // compared as byte strings one label at a time). Holds the family's mutex
  // while writing, so children cannot be added or removed meanwhile; updates
  // of existing children continue.
  virtual void Write(PrometheusWriter& writer) const = 0;

 protected:
  MetricFamilyBase(std::string name, std::string help, std::vector<std::string> label_names,
                   MetricType type);

  // InvalidArgument when `values` does not have one value per label name or
  // a value is not UTF-8.
  absl::Status CheckLabelValues(absl::Span<const absl::string_view> values) const;

 private:
  const std::string name_;
  const std::string help_;
  const std::vector<std::string> label_names_;
  const MetricType type_;
};

// MetricFamily
//
// One metric name with its help text and label names, and a child metric
// (Counter, Gauge or Histogram) per combination of label values in use.
// A family without labels has exactly one child, created with the family,
// so it exports 0 before the first update.
//
// Children live in the family and references to them stay valid until the
// child is removed with Remove() (or the registry is destroyed). Resolving a
// child takes the family's mutex; the returned reference is then used
// lock-free, so hot paths resolve once and keep it.
template <typename M>
class MetricFamily final : public MetricFamilyBase {
  static_assert(std::is_same_v<M, Counter> || std::is_same_v<M, Gauge> ||
                    std::is_same_v<M, Histogram>,
                "MetricFamily holds Counter, Gauge or Histogram");

 public:
  // MetricFamily::GetOrCreate()
  //
  // The child with `label_values` (one per label name, in the order of
  // label_names()), created at zero if absent. InvalidArgument when the
  // number of values is wrong or a value is not UTF-8; the message names the
  // family and the values. The pointer is valid until Remove() of the same
  // values or the registry's destruction.
  absl::StatusOr<M*> GetOrCreate(absl::Span<const absl::string_view> label_values);

  // MetricFamily::GetOrCreateShared()
  //
  // As GetOrCreate(), but the handle keeps the child alive after Remove():
  // for owners that may still update a series after it stops being exported
  // (a worker's counters, updated by tickets that finish after the worker
  // was removed). Updates after Remove() are lost, harmlessly.
  absl::StatusOr<std::shared_ptr<M>> GetOrCreateShared(
      absl::Span<const absl::string_view> label_values);

  // MetricFamily::WithLabels()
  //
  // GetOrCreate() for callers that know the arity is right. On a wrong
  // number of values (or non-UTF-8 text), a programming error, it asserts in
  // debug builds and otherwise returns a detached child that is never
  // exported, so a metrics bug cannot crash the gateway.
  M& WithLabels(absl::Span<const absl::string_view> label_values);
  M& WithLabels(std::initializer_list<absl::string_view> label_values) {
    return WithLabels(absl::Span<const absl::string_view>(label_values));
  }

  // MetricFamily::Remove()
  //
  // Stops exporting the child with `label_values` (a removed worker's
  // series) and destroys it unless a GetOrCreateShared() handle holds it:
  // references from GetOrCreate()/WithLabels() to it dangle afterwards.
  // A later GetOrCreate() with the same values starts a new child at zero.
  // NotFound when there is no such child; InvalidArgument on a wrong arity.
  absl::Status Remove(absl::Span<const absl::string_view> label_values);

  size_t size() const override;
  void Write(PrometheusWriter& writer) const override;

 private:
  friend class MetricsRegistry;

  // Orders keys (std::vector<std::string>) and lookups (spans of views)
  // byte-wise, label by label, so lookups need no key allocation and
  // exports come out sorted.
  struct LabelValuesLess {
    using is_transparent = void;
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      size_t n = a.size() < b.size() ? a.size() : b.size();
      for (size_t i = 0; i < n; ++i) {
        int c = absl::string_view(a[i]).compare(absl::string_view(b[i]));
        if (c != 0) return c < 0;
      }
      return a.size() < b.size();
    }
  };

  // `bounds`: the validated bounds of a histogram family; null otherwise.
  MetricFamily(std::string name, std::string help, std::vector<std::string> label_names,
               std::shared_ptr<const std::vector<double>> bounds);
  std::shared_ptr<M> NewChild() const;
  // The child with `label_values` (already checked), inserted if absent.
  std::shared_ptr<M>& FindOrInsertLocked(absl::Span<const absl::string_view> label_values)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Writes one child's sample(s).
  static void WriteChild(PrometheusWriter& writer, absl::Span<const LabelPair> labels,
                         const M& child);

  const std::shared_ptr<const std::vector<double>> bounds_;
  // What WithLabels() returns on misuse; never exported.
  const std::shared_ptr<M> detached_;
  mutable absl::Mutex mu_;
  std::map<std::vector<std::string>, std::shared_ptr<M>, LabelValuesLess> children_
      ABSL_GUARDED_BY(mu_);
};

extern template class MetricFamily<Counter>;
extern template class MetricFamily<Gauge>;
extern template class MetricFamily<Histogram>;

// CounterFamily / GaugeFamily / HistogramFamily
using CounterFamily = MetricFamily<Counter>;
using GaugeFamily = MetricFamily<Gauge>;
using HistogramFamily = MetricFamily<Histogram>;

// MetricsRegistry
//
// Owns metric families and collectors, and exports them all. Families live
// as long as the registry (there is no way to remove one: remove their
// children instead). Thread-safe: families may be added, children resolved
// and updated, and exports run, all concurrently.
class MetricsRegistry {
 public:
  // MetricsRegistry::Collector
  //
  // Called at each export to write families computed from live state. It
  // runs on the exporting thread, without any registry lock held (it may add
  // families, though they appear from the next export), possibly on several
  // threads at once when exports overlap. It must only use state that
  // outlives the registry or that it owns.
  using Collector = absl::AnyInvocable<void(PrometheusWriter&) const>;

  MetricsRegistry();
  ~MetricsRegistry();
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  // MetricsRegistry::AddCounterFamily()
  //
  // Adds a counter family. `name` must match [a-zA-Z_:][a-zA-Z0-9_:]* and
  // end in `_total`; `help` must be non-empty UTF-8; label names must match
  // [a-zA-Z_][a-zA-Z0-9_]*, not start with `__`, and be distinct.
  // Errors: InvalidArgument naming the bad value; AlreadyExists when the
  // name, or a series name it exports, is taken by another family (a gauge
  // `x_count` and a histogram `x` would both export `x_count`).
  // The pointer is valid for the registry's lifetime.
  absl::StatusOr<CounterFamily*> AddCounterFamily(absl::string_view name, absl::string_view help,
                                                  absl::Span<const absl::string_view> label_names);

  // MetricsRegistry::AddGaugeFamily()
  //
  // As AddCounterFamily(), without the `_total` rule.
  absl::StatusOr<GaugeFamily*> AddGaugeFamily(absl::string_view name, absl::string_view help,
                                              absl::Span<const absl::string_view> label_names);

  // MetricsRegistry::AddHistogramFamily()
  //
  // As AddGaugeFamily(), with `upper_bounds` (see Histogram::Create(), and
  // LinearBuckets() / ExponentialBuckets()) shared by every child. A label
  // may not be named `le`. InvalidArgument also for bad bounds.
  absl::StatusOr<HistogramFamily*> AddHistogramFamily(
      absl::string_view name, absl::string_view help,
      absl::Span<const absl::string_view> label_names, absl::Span<const double> upper_bounds);

  // MetricsRegistry::AddCollector()
  //
  // Registers `collector` for the registry's lifetime. Collectors run after
  // the owned families, in the order they were added. An empty collector is
  // ignored.
  void AddCollector(Collector collector);

  // MetricsRegistry::WriteTo()
  //
  // Writes every owned family, sorted by name, then every collector's
  // output, into `writer` (which may also hold other registries' output:
  // the writer rejects a family name used twice). Collector misuse shows in
  // writer.status().
  void WriteTo(PrometheusWriter& writer) const;

  // MetricsRegistry::ExportPrometheus()
  //
  // WriteTo() into a new string: the body of a /metrics response. Lines a
  // collector got wrong are left out (see PrometheusWriter).
  std::string ExportPrometheus() const;

 private:
  // Validates a new family (all but histogram bounds), reserves its names
  // and adds it. `bounds`: a histogram family's validated bounds, else null.
  template <typename M>
  absl::StatusOr<MetricFamily<M>*> AddFamily(absl::string_view name, absl::string_view help,
                                             absl::Span<const absl::string_view> label_names,
                                             std::shared_ptr<const std::vector<double>> bounds);

  mutable absl::Mutex mu_;
  // Sorted by name: the export order.
  std::map<std::string, std::unique_ptr<MetricFamilyBase>, std::less<>> families_
      ABSL_GUARDED_BY(mu_);
  // Family names and the series names they imply, each mapped to its family.
  absl::flat_hash_map<std::string, std::string> taken_ ABSL_GUARDED_BY(mu_);
  // Shared so an export can call them after releasing mu_.
  std::vector<std::shared_ptr<const Collector>> collectors_ ABSL_GUARDED_BY(mu_);
};

}  // namespace smg

#endif  // SMGCORE_METRICS_H_
