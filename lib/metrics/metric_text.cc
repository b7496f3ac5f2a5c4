// Names, bounds, UTF-8 and number formatting shared by the metrics registry
// and the Prometheus writer.
#include "metrics/metric_text.h"

#include <charconv>
#include <cmath>
#include <string>
#include <system_error>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace smg::metrics_internal {
namespace {

bool IsAsciiLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }

// Length of the well-formed UTF-8 sequence that starts `s` (non-empty), or 0
// when there is none. The ranges are those of Unicode's table 3-7, which
// exclude overlong forms, surrogates and code points above U+10FFFF.
size_t Utf8SequenceLength(absl::string_view s) {
  const auto b0 = static_cast<unsigned char>(s[0]);
  if (b0 < 0x80) return 1;
  size_t len = 0;
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
  } else if (b0 == 0xE0) {
    len = 3;
    lo = 0xA0;
  } else if ((b0 >= 0xE1 && b0 <= 0xEC) || b0 == 0xEE || b0 == 0xEF) {
    len = 3;
  } else if (b0 == 0xED) {
    len = 3;
    hi = 0x9F;
  } else if (b0 == 0xF0) {
    len = 4;
    lo = 0x90;
  } else if (b0 >= 0xF1 && b0 <= 0xF3) {
    len = 4;
  } else if (b0 == 0xF4) {
    len = 4;
    hi = 0x8F;
  } else {
    return 0;
  }
  if (s.size() < len) return 0;
  const auto b1 = static_cast<unsigned char>(s[1]);
  if (b1 < lo || b1 > hi) return 0;
  for (size_t i = 2; i < len; ++i) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80 || b > 0xBF) return 0;
  }
  return len;
}

}  // namespace

absl::Status ValidateMetricName(absl::string_view name) {
  bool ok = !name.empty();
  for (size_t i = 0; ok && i < name.size(); ++i) {
    const char c = name[i];
    ok = IsAsciiLetter(c) || c == '_' || c == ':' || (i > 0 && IsAsciiDigit(c));
  }
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("metric name \"", absl::CEscape(name),
                                                 "\" does not match [a-zA-Z_:][a-zA-Z0-9_:]*"));
}

absl::Status ValidateLabelNames(size_t count, absl::FunctionRef<absl::string_view(size_t)> name_at,
                                MetricType type) {
  for (size_t i = 0; i < count; ++i) {
    const absl::string_view name = name_at(i);
    bool ok = !name.empty();
    for (size_t j = 0; ok && j < name.size(); ++j) {
      const char c = name[j];
      ok = IsAsciiLetter(c) || c == '_' || (j > 0 && IsAsciiDigit(c));
    }
    if (!ok) {
      return absl::InvalidArgumentError(absl::StrCat("label name \"", absl::CEscape(name),
                                                     "\" does not match [a-zA-Z_][a-zA-Z0-9_]*"));
    }
    if (absl::StartsWith(name, "__")) {
      return absl::InvalidArgumentError(
          absl::StrCat("label name \"", name, "\" starts with \"__\", which Prometheus reserves"));
    }
    if (type == MetricType::kHistogram && name == "le") {
      return absl::InvalidArgumentError(
          "label name \"le\" is reserved in histograms for the bucket bound");
    }
    for (size_t j = 0; j < i; ++j) {
      if (name_at(j) == name) {
        return absl::InvalidArgumentError(absl::StrCat("label name \"", name, "\" is repeated"));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateHistogramBounds(absl::Span<const double> bounds) {
  if (bounds.size() > kMaxHistogramBuckets) {
    return absl::InvalidArgumentError(absl::StrCat("histogram has ", bounds.size(),
                                                   " bounds; at most ", kMaxHistogramBuckets,
                                                   " are allowed"));
  }
  for (size_t i = 0; i < bounds.size(); ++i) {
    if (!std::isfinite(bounds[i])) {
      std::string text;
      AppendDouble(&text, bounds[i]);
      return absl::InvalidArgumentError(
          absl::StrCat("histogram bound ", i, " is ", text,
                       ": bounds must be finite (the +Inf bucket is implicit)"));
    }
    if (i > 0 && !(bounds[i] > bounds[i - 1])) {
      std::string prev;
      std::string cur;
      AppendDouble(&prev, bounds[i - 1]);
      AppendDouble(&cur, bounds[i]);
      return absl::InvalidArgumentError(absl::StrCat("histogram bound ", i, " (", cur,
                                                     ") is not greater than bound ", i - 1, " (",
                                                     prev, "): bounds must strictly increase"));
    }
  }
  return absl::OkStatus();
}

bool IsValidUtf8(absl::string_view text) {
  while (!text.empty()) {
    const size_t len = Utf8SequenceLength(text);
    if (len == 0) return false;
    text.remove_prefix(len);
  }
  return true;
}

std::vector<std::string> SeriesNames(absl::string_view name, MetricType type) {
  std::vector<std::string> names = {std::string(name)};
  if (type == MetricType::kHistogram) {
    names.push_back(absl::StrCat(name, "_bucket"));
    names.push_back(absl::StrCat(name, "_sum"));
    names.push_back(absl::StrCat(name, "_count"));
  }
  return names;
}

void AppendDouble(std::string* out, double v) {
  if (std::isnan(v)) {
    out->append("NaN");
  } else if (std::isinf(v)) {
    out->append(v > 0 ? "+Inf" : "-Inf");
  } else {
    // Shortest round-trip form: at most 24 characters for a double.
    char buf[32];
    const std::to_chars_result r = std::to_chars(buf, buf + sizeof(buf), v);
    out->append(buf, r.ptr);
  }
}

void AppendUint(std::string* out, uint64_t v) {
  char buf[24];
  const std::to_chars_result r = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, r.ptr);
}

void AppendInt(std::string* out, int64_t v) {
  char buf[24];
  const std::to_chars_result r = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, r.ptr);
}

void AppendEscapedLabelValue(std::string* out, absl::string_view value) {
  for (const char c : value) {
    switch (c) {
      case '\\':
        out->append("\\\\");
        break;
      case '"':
        out->append("\\\"");
        break;
      case '\n':
        out->append("\\n");
        break;
      default:
        out->push_back(c);
    }
  }
}

void AppendEscapedHelp(std::string* out, absl::string_view help) {
  while (!help.empty()) {
    const size_t len = Utf8SequenceLength(help);
    if (len == 0) {
      out->append("\xEF\xBF\xBD");  // U+FFFD REPLACEMENT CHARACTER
      help.remove_prefix(1);
      continue;
    }
    if (help[0] == '\\') {
      out->append("\\\\");
    } else if (help[0] == '\n') {
      out->append("\\n");
    } else {
      out->append(help.data(), len);
    }
    help.remove_prefix(len);
  }
}

}  // namespace smg::metrics_internal
