// A minimal reader for the Mooncake FAST'25 request traces (JSONL).
//
// Each line is one flat JSON object such as
//   {"timestamp": 0, "input_length": 6758, "output_length": 500, "hash_ids": [0, 1, 2]}
// The route demo and the replay tool need only these four fields, all
// non-negative integers, so this parses them by hand instead of pulling in a
// JSON library: it finds each quoted key, skips to the colon and reads the
// number or the integer array.
#ifndef SMGCORE_TOOLS_WORKLOAD_IO_MOONCAKE_READER_H_
#define SMGCORE_TOOLS_WORKLOAD_IO_MOONCAKE_READER_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace workload_io {

// One request of a Mooncake trace.
struct MooncakeRecord {
  // Arrival time, milliseconds since the start of the trace.
  int64_t timestamp_ms = 0;
  // Prompt and completion lengths in tokens.
  uint64_t input_length = 0;
  uint64_t output_length = 0;
  // Ids of the prompt's consecutive 512-token blocks; equal ids at equal
  // positions mean a reusable KV-cache prefix.
  std::vector<uint64_t> hash_ids;
};

// Tokens covered by one hash id in the Mooncake traces.
inline constexpr uint64_t kMooncakeBlockTokens = 512;

// ParseMooncakeLine()
//
// InvalidArgument naming the missing or malformed field.
absl::StatusOr<MooncakeRecord> ParseMooncakeLine(absl::string_view line);

}  // namespace workload_io

#endif  // SMGCORE_TOOLS_WORKLOAD_IO_MOONCAKE_READER_H_
