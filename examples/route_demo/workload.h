// The workloads the demo routes: prompt files written by
// shared/workloads/gen_workload.py (text or token ids), Mooncake traces, and
// a shared-prefix workload generated here when no file is given.
//
// Every request is reduced to what the router and the simulator need: the
// prompt as the router sees it (text or token ids), an optional routing key,
// the prompt's cacheable blocks, and the work it costs (prompt and output
// tokens, arrival time when the source has one).
#ifndef SMGCORE_EXAMPLES_ROUTE_DEMO_WORKLOAD_H_
#define SMGCORE_EXAMPLES_ROUTE_DEMO_WORKLOAD_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "route_demo/prefix_cache.h"

namespace route_demo {

// Text prompts are cached in 64-byte chunks, token prompts in 16-token pages
// (SGLang's page size, and cache_aware's default token page).
inline constexpr size_t kTextBlockBytes = 64;
inline constexpr size_t kTokenPageTokens = 16;
// gen_workload.py writes one token id per 4 characters.
inline constexpr double kTokensPerTextByte = 0.25;
// Completion length assumed for prompt files, which carry none.
inline constexpr uint32_t kDefaultOutputTokens = 128;

// DemoRequest
struct DemoRequest {
  // The prompt as bytes (text workloads) ...
  std::string text;
  // ... or as token ids (token and Mooncake workloads).
  std::vector<uint32_t> tokens;
  // Group or conversation key for consistent_hash; empty when unknown.
  std::string routing_key;
  // The prompt's cacheable blocks, in order.
  std::vector<Block> blocks;
  // Prompt length in the workload's units (bytes or tokens).
  uint64_t prompt_units = 0;
  uint32_t output_tokens = kDefaultOutputTokens;
  // Arrival time from the trace; nullopt means "arrive at the fixed rate".
  std::optional<int64_t> arrival_ms;
};

// Workload
struct Workload {
  // What the tables call it, e.g. "sp.txt (text)".
  std::string name;
  // "bytes" or "tokens".
  std::string unit;
  // How many tokens of work one prompt unit is.
  double tokens_per_unit = 1.0;
  // Units per cache block, for the table header.
  uint64_t block_units = 0;
  // Where routing keys come from, for the table header ("none" if absent).
  std::string key_source = "none";
  // Tokens prefix_hash hashes for this workload. Mooncake prompts are
  // compressed (one page of synthetic ids per 512-token block), so hashing
  // SMG's 256 real tokens means hashing the first block: 16 ids.
  size_t prefix_hash_tokens = 256;
  std::vector<DemoRequest> requests;
  // Distinct block hashes over all requests.
  size_t distinct_blocks = 0;
};

// LoadTextWorkload()
//
// One prompt per line. The routing key is the prompt's leading "[...]" tag
// (gen_workload.py starts each group with "[sysN]" and each conversation
// with "[chatN]"), when there is one.
absl::StatusOr<Workload> LoadTextWorkload(const std::string& path);

// LoadTokenWorkload()
//
// Space-separated token ids, one prompt per line. Routing keys come from the
// companion FILE.txt written by gen_workload.py, when it is there and has
// the same number of lines.
absl::StatusOr<Workload> LoadTokenWorkload(const std::string& path);

// LoadMooncakeTrace()
//
// JSONL with timestamp, input_length, output_length and hash_ids. The blocks
// are the hash ids (512 tokens each, the last one partial); the router sees
// each block as one 16-token page of synthetic ids derived from its id, so
// equal block sequences are equal token prefixes. No routing key.
absl::StatusOr<Workload> LoadMooncakeTrace(const std::string& path);

// GenerateSharedPrefix()
//
// gen_workload.py's default shape, generated here (seeded, deterministic):
// 64 groups x 16 requests, an 8 KiB system prompt per group plus a 512-char
// question, shuffled inside a 256-request window. Returns the text workload
// and the same prompts as token ids (one id per 4 characters).
std::vector<Workload> GenerateSharedPrefix(uint64_t seed);

}  // namespace route_demo

#endif  // SMGCORE_EXAMPLES_ROUTE_DEMO_WORKLOAD_H_
