// File: lib/metrics/metric_text.h
//
// Internal to smgcore's metrics: the rules the registry and the Prometheus
// writer share for names, label names, histogram bounds and text, and the
// number formatting of the exposition format. Kept in one place so that
// whatever the registry accepts, the writer accepts too.
#ifndef SMGCORE_LIB_METRICS_METRIC_TEXT_H_
#define SMGCORE_LIB_METRICS_METRIC_TEXT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "smgcore/metrics.h"

namespace smg::metrics_internal {

// ValidateMetricName()
//
// InvalidArgument unless `name` matches [a-zA-Z_:][a-zA-Z0-9_:]*.
absl::Status ValidateMetricName(absl::string_view name);

// ValidateLabelNames()
//
// Checks the `count` label names `name_at(0..count-1)` of one series:
// each matches [a-zA-Z_][a-zA-Z0-9_]* and does not start with `__`
// (reserved for Prometheus itself), no two are equal, and for histograms
// none is `le`. InvalidArgument naming the first bad name. Allocates
// nothing: series rarely have more than a handful of labels, so the
// duplicate check is quadratic.
absl::Status ValidateLabelNames(size_t count, absl::FunctionRef<absl::string_view(size_t)> name_at,
                                MetricType type);

// ValidateHistogramBounds()
//
// InvalidArgument unless `bounds` is finite, strictly increasing and at most
// kMaxHistogramBuckets long.
absl::Status ValidateHistogramBounds(absl::Span<const double> bounds);

// IsValidUtf8()
//
// True when `text` is well-formed UTF-8 (no overlong forms, surrogates or
// code points above U+10FFFF), as the exposition format requires.
bool IsValidUtf8(absl::string_view text);

// SeriesNames()
//
// The names a family of `type` called `name` occupies in an exposition: its
// own name and, for a histogram, `<name>_bucket`, `<name>_sum` and
// `<name>_count`. Two families may not share any of them.
std::vector<std::string> SeriesNames(absl::string_view name, MetricType type);

// AppendDouble()
//
// Appends `v` in the shortest form that parses back to the same double
// ("0.1", "1e+20", "-0"), or "+Inf", "-Inf", "NaN".
void AppendDouble(std::string* out, double v);

// AppendUint() / AppendInt()
//
// Appends the exact decimal integer.
void AppendUint(std::string* out, uint64_t v);
void AppendInt(std::string* out, int64_t v);

// AppendEscapedLabelValue()
//
// Appends `value` with `\`, `"` and newline escaped as `\\`, `\"`, `\n`.
void AppendEscapedLabelValue(std::string* out, absl::string_view value);

// AppendEscapedHelp()
//
// Appends `help` with `\` and newline escaped as `\\` and `\n`, and every
// byte that does not start a well-formed UTF-8 sequence replaced by U+FFFD.
void AppendEscapedHelp(std::string* out, absl::string_view help);

}  // namespace smg::metrics_internal

#endif  // SMGCORE_LIB_METRICS_METRIC_TEXT_H_
