#include "workload_io/mooncake_reader.h"

#include <charconv>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"

namespace workload_io {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Drops leading whitespace.
absl::string_view SkipSpace(absl::string_view s) {
  size_t i = 0;
  while (i < s.size() && IsSpace(s[i])) ++i;
  return s.substr(i);
}

// The text right after `"key":` (whitespace skipped), or nullopt when the key
// is absent. Keys in these traces never appear inside string values, so a
// plain search is enough.
std::optional<absl::string_view> ValueOf(absl::string_view line, absl::string_view key) {
  const std::string quoted = absl::StrCat("\"", key, "\"");
  const size_t at = line.find(quoted);
  if (at == absl::string_view::npos) return std::nullopt;
  absl::string_view rest = SkipSpace(line.substr(at + quoted.size()));
  if (rest.empty() || rest.front() != ':') return std::nullopt;
  return SkipSpace(rest.substr(1));
}

// Reads a non-negative integer at the front of `*s` and consumes it.
std::optional<uint64_t> ConsumeUint(absl::string_view* s) {
  uint64_t value = 0;
  const char* begin = s->data();
  const char* end = begin + s->size();
  auto [ptr, ec] = std::from_chars(begin, end, value);
  if (ec != std::errc() || ptr == begin) return std::nullopt;
  s->remove_prefix(static_cast<size_t>(ptr - begin));
  return value;
}

absl::StatusOr<uint64_t> UintField(absl::string_view line, absl::string_view key) {
  std::optional<absl::string_view> value = ValueOf(line, key);
  if (!value.has_value()) return absl::InvalidArgumentError(absl::StrCat("missing \"", key, "\""));
  std::optional<uint64_t> n = ConsumeUint(&*value);
  if (!n.has_value()) {
    return absl::InvalidArgumentError(absl::StrCat("\"", key, "\" is not a non-negative integer"));
  }
  return *n;
}

absl::StatusOr<std::vector<uint64_t>> UintArrayField(absl::string_view line,
                                                     absl::string_view key) {
  std::optional<absl::string_view> value = ValueOf(line, key);
  if (!value.has_value()) return absl::InvalidArgumentError(absl::StrCat("missing \"", key, "\""));
  absl::string_view rest = *value;
  const auto malformed =
      absl::InvalidArgumentError(absl::StrCat("\"", key, "\" is not an integer array"));
  if (rest.empty() || rest.front() != '[') return malformed;
  rest = SkipSpace(rest.substr(1));
  std::vector<uint64_t> out;
  if (!rest.empty() && rest.front() == ']') return out;
  while (true) {
    std::optional<uint64_t> n = ConsumeUint(&rest);
    if (!n.has_value()) return malformed;
    out.push_back(*n);
    rest = SkipSpace(rest);
    if (rest.empty()) return malformed;
    if (rest.front() == ']') return out;
    if (rest.front() != ',') return malformed;
    rest = SkipSpace(rest.substr(1));
  }
}

}  // namespace

absl::StatusOr<MooncakeRecord> ParseMooncakeLine(absl::string_view line) {
  MooncakeRecord record;
  absl::StatusOr<uint64_t> timestamp = UintField(line, "timestamp");
  if (!timestamp.ok()) return timestamp.status();
  absl::StatusOr<uint64_t> input = UintField(line, "input_length");
  if (!input.ok()) return input.status();
  absl::StatusOr<uint64_t> output = UintField(line, "output_length");
  if (!output.ok()) return output.status();
  absl::StatusOr<std::vector<uint64_t>> ids = UintArrayField(line, "hash_ids");
  if (!ids.ok()) return ids.status();
  record.timestamp_ms = static_cast<int64_t>(*timestamp);
  record.input_length = *input;
  record.output_length = *output;
  record.hash_ids = *std::move(ids);
  return record;
}

}  // namespace workload_io
