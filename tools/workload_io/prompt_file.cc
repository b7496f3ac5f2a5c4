#include "workload_io/prompt_file.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <utility>

#include "absl/strings/str_cat.h"

namespace workload_io {

absl::StatusOr<std::vector<std::string>> ReadLines(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) lines.push_back(std::move(line));
  }
  if (in.bad()) return absl::DataLossError(absl::StrCat("error reading ", path));
  if (lines.empty()) return absl::InvalidArgumentError(absl::StrCat(path, " holds no request"));
  return lines;
}

absl::StatusOr<std::vector<uint32_t>> ParseTokenLine(absl::string_view line) {
  std::vector<uint32_t> tokens;
  const char* at = line.data();
  const char* end = line.data() + line.size();
  while (at < end) {
    if (*at == ' ' || *at == '\t') {
      ++at;
      continue;
    }
    uint32_t id = 0;
    auto [next, ec] = std::from_chars(at, end, id);
    if (ec != std::errc() || next == at) {
      const size_t shown = std::min<size_t>(16, static_cast<size_t>(end - at));
      return absl::InvalidArgumentError(
          absl::StrCat("bad token id near \"", absl::string_view(at, shown), "\""));
    }
    tokens.push_back(id);
    at = next;
  }
  return tokens;
}

}  // namespace workload_io
