#include "route_replay/request_set.h"

#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "workload_io/mooncake_reader.h"
#include "workload_io/prompt_file.h"

namespace route_replay {

absl::StatusOr<RequestSet<uint8_t>> LoadText(const std::string& path) {
  absl::StatusOr<std::vector<std::string>> lines = workload_io::ReadLines(path);
  if (!lines.ok()) return lines.status();
  RequestSet<uint8_t> set;
  for (const std::string& line : *lines) {
    set.Add(absl::Span<const uint8_t>(reinterpret_cast<const uint8_t*>(line.data()), line.size()));
  }
  return set;
}

absl::StatusOr<RequestSet<uint32_t>> LoadTokens(const std::string& path) {
  absl::StatusOr<std::vector<std::string>> lines = workload_io::ReadLines(path);
  if (!lines.ok()) return lines.status();
  RequestSet<uint32_t> set;
  for (size_t i = 0; i < lines->size(); ++i) {
    absl::StatusOr<std::vector<uint32_t>> tokens = workload_io::ParseTokenLine((*lines)[i]);
    if (!tokens.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(path, ":", i + 1, ": ", tokens.status().message()));
    }
    set.Add(*tokens);
  }
  return set;
}

absl::StatusOr<RequestSet<uint32_t>> LoadMooncake(const std::string& path) {
  absl::StatusOr<std::vector<std::string>> lines = workload_io::ReadLines(path);
  if (!lines.ok()) return lines.status();
  RequestSet<uint32_t> set;
  std::vector<uint32_t> key;
  for (size_t i = 0; i < lines->size(); ++i) {
    absl::StatusOr<workload_io::MooncakeRecord> record = workload_io::ParseMooncakeLine((*lines)[i]);
    if (!record.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(path, ":", i + 1, ": ", record.status().message()));
    }
    key.clear();
    for (uint64_t id : record->hash_ids) {
      if (id > std::numeric_limits<uint32_t>::max()) {
        return absl::InvalidArgumentError(absl::StrCat(path, ":", i + 1, ": hash id ", id, " exceeds 32 bits"));
      }
      key.push_back(static_cast<uint32_t>(id));
    }
    set.Add(key);
  }
  return set;
}

}  // namespace route_replay
