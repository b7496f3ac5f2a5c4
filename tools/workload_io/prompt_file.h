// Readers for the prompt files of shared/workloads/gen_workload.py: one
// request per line, as text (FILE.txt) or as space-separated token ids
// (FILE.tok). Shared by the route demo and the route-replay tool, so both
// read a workload file the same way.
#ifndef SMGCORE_TOOLS_WORKLOAD_IO_PROMPT_FILE_H_
#define SMGCORE_TOOLS_WORKLOAD_IO_PROMPT_FILE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace workload_io {

// ReadLines()
//
// The non-empty lines of `path`, a trailing '\r' removed. NotFound when the
// file cannot be opened, InvalidArgument when it holds no line, DataLoss on
// a read error.
absl::StatusOr<std::vector<std::string>> ReadLines(const std::string& path);

// ParseTokenLine()
//
// The token ids of one FILE.tok line (unsigned 32-bit integers separated by
// spaces or tabs). InvalidArgument quoting the text near the first bad id.
absl::StatusOr<std::vector<uint32_t>> ParseTokenLine(absl::string_view line);

}  // namespace workload_io

#endif  // SMGCORE_TOOLS_WORKLOAD_IO_PROMPT_FILE_H_
