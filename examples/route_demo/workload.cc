#include "route_demo/workload.h"

#include <xxhash.h>

#include <algorithm>
#include <array>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "workload_io/mooncake_reader.h"
#include "workload_io/prompt_file.h"

namespace route_demo {
namespace {

using workload_io::kMooncakeBlockTokens;
using workload_io::MooncakeRecord;
using workload_io::ParseMooncakeLine;
using workload_io::ParseTokenLine;
using workload_io::ReadLines;

// --- Blocks -----------------------------------------------------------------

// A block's id covers its whole prefix: the parent's hash seeds the hash of
// the block's bytes, so equal content at different positions (or after
// different prefixes) gets different ids.
uint64_t ChainHash(uint64_t parent, const void* data, size_t size) {
  return XXH3_64bits_withSeed(data, size, parent);
}

// Whole 64-byte chunks only: a KV cache stores full pages, so a trailing
// partial chunk is never reusable.
std::vector<Block> TextBlocks(absl::string_view text) {
  std::vector<Block> blocks;
  blocks.reserve(text.size() / kTextBlockBytes);
  uint64_t parent = 0;
  for (size_t at = 0; at + kTextBlockBytes <= text.size(); at += kTextBlockBytes) {
    parent = ChainHash(parent, text.data() + at, kTextBlockBytes);
    blocks.push_back({.hash = parent, .units = static_cast<uint32_t>(kTextBlockBytes)});
  }
  return blocks;
}

// Whole 16-token pages only, for the same reason.
std::vector<Block> TokenBlocks(const std::vector<uint32_t>& tokens) {
  std::vector<Block> blocks;
  blocks.reserve(tokens.size() / kTokenPageTokens);
  uint64_t parent = 0;
  for (size_t at = 0; at + kTokenPageTokens <= tokens.size(); at += kTokenPageTokens) {
    parent = ChainHash(parent, tokens.data() + at, kTokenPageTokens * sizeof(uint32_t));
    blocks.push_back({.hash = parent, .units = static_cast<uint32_t>(kTokenPageTokens)});
  }
  return blocks;
}

// The trace's ids already name whole prefixes; chaining them anyway keeps the
// "equal ids at equal positions" rule explicit. The last block covers what is
// left of input_length (the trace counts it as a block, so it is cacheable).
std::vector<Block> MooncakeBlocks(const MooncakeRecord& record) {
  std::vector<Block> blocks;
  blocks.reserve(record.hash_ids.size());
  uint64_t parent = 0;
  uint64_t remaining = record.input_length;
  for (uint64_t id : record.hash_ids) {
    parent = ChainHash(parent, &id, sizeof(id));
    const uint64_t units = remaining < kMooncakeBlockTokens ? remaining : kMooncakeBlockTokens;
    blocks.push_back({.hash = parent, .units = static_cast<uint32_t>(units)});
    remaining -= units;
  }
  return blocks;
}

// The router sees a Mooncake block as one token page of ids derived from the
// block id: equal block sequences are equal token prefixes, and a prompt of
// n blocks is n pages long, so match ratios are block ratios.
std::vector<uint32_t> MooncakeTokens(const MooncakeRecord& record) {
  std::vector<uint32_t> tokens;
  tokens.reserve(record.hash_ids.size() * kTokenPageTokens);
  for (uint64_t id : record.hash_ids) {
    for (uint64_t k = 0; k < kTokenPageTokens; ++k) {
      tokens.push_back(static_cast<uint32_t>(id * kTokenPageTokens + k));
    }
  }
  return tokens;
}

void CountDistinctBlocks(Workload& workload) {
  absl::flat_hash_set<uint64_t> seen;
  for (const DemoRequest& r : workload.requests) {
    for (const Block& b : r.blocks) seen.insert(b.hash);
  }
  workload.distinct_blocks = seen.size();
}

// --- Files ------------------------------------------------------------------

std::string BaseName(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// "[sys12]" for "[sys12] alpha..."; empty when the line has no leading tag.
std::string LeadingTag(absl::string_view line) {
  constexpr size_t kMaxTag = 32;
  if (line.empty() || line.front() != '[') return "";
  const size_t close = line.substr(0, kMaxTag).find(']');
  if (close == absl::string_view::npos) return "";
  return std::string(line.substr(0, close + 1));
}

// The text companion of FILE.tok, if gen_workload.py wrote one.
std::string CompanionTextPath(const std::string& token_path) {
  constexpr absl::string_view kSuffix = ".tok";
  absl::string_view p = token_path;
  if (p.size() <= kSuffix.size() || p.substr(p.size() - kSuffix.size()) != kSuffix) return "";
  return absl::StrCat(p.substr(0, p.size() - kSuffix.size()), ".txt");
}

DemoRequest TextRequest(std::string text) {
  DemoRequest r;
  r.routing_key = LeadingTag(text);
  r.blocks = TextBlocks(text);
  r.prompt_units = text.size();
  r.text = std::move(text);
  return r;
}

DemoRequest TokenRequest(std::vector<uint32_t> tokens, std::string routing_key) {
  DemoRequest r;
  r.routing_key = std::move(routing_key);
  r.blocks = TokenBlocks(tokens);
  r.prompt_units = tokens.size();
  r.tokens = std::move(tokens);
  return r;
}

Workload TextWorkloadShell(std::string name) {
  Workload w;
  w.name = std::move(name);
  w.unit = "bytes";
  w.tokens_per_unit = kTokensPerTextByte;
  w.block_units = kTextBlockBytes;
  return w;
}

Workload TokenWorkloadShell(std::string name) {
  Workload w;
  w.name = std::move(name);
  w.unit = "tokens";
  w.tokens_per_unit = 1.0;
  w.block_units = kTokenPageTokens;
  return w;
}

// --- Generator --------------------------------------------------------------

// SplitMix64: a tiny, fully specified generator, so the built-in workload is
// the same on every platform and standard library.
class DemoRng {
 public:
  explicit DemoRng(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform-enough in [0, n) for a demo (n is tiny next to 2^64).
  size_t Below(size_t n) { return static_cast<size_t>(Next() % n); }

 private:
  uint64_t state_;
};

constexpr std::array<absl::string_view, 40> kWords = {
    "alpha",   "beta",    "gamma",   "delta",   "epsilon", "zeta",   "eta",     "theta",
    "iota",    "kappa",   "lambda",  "mu",      "nu",      "xi",     "omicron", "pi",
    "rho",     "sigma",   "tau",     "upsilon", "phi",     "chi",    "psi",     "omega",
    "router",  "cache",   "prefix",  "decode",  "prefill", "worker", "token",   "model",
    "gateway", "request", "latency", "batch",   "engine",  "kv",     "page",    "queue"};

// Random words with numbers, cut to exactly `chars` characters.
std::string RandomText(DemoRng& rng, size_t chars) {
  std::string out;
  while (out.size() < chars) {
    if (!out.empty()) out += ' ';
    absl::StrAppend(&out, kWords[rng.Below(kWords.size())], rng.Below(1000));
  }
  out.resize(chars);
  return out;
}

// Shuffles inside a sliding window, as concurrent users interleave groups
// while each group's requests stay roughly in order.
std::vector<std::string> Interleave(DemoRng& rng, std::vector<std::string> requests,
                                    size_t window) {
  std::vector<std::string> out;
  std::vector<std::string> pool;
  out.reserve(requests.size());
  for (std::string& r : requests) {
    pool.push_back(std::move(r));
    if (pool.size() >= window) {
      const size_t pick = rng.Below(pool.size());
      out.push_back(std::move(pool[pick]));
      pool.erase(pool.begin() + static_cast<std::ptrdiff_t>(pick));
    }
  }
  while (!pool.empty()) {
    const size_t pick = rng.Below(pool.size());
    out.push_back(std::move(pool[pick]));
    pool.erase(pool.begin() + static_cast<std::ptrdiff_t>(pick));
  }
  return out;
}

// One id per 4 characters, ids assigned in order of first appearance (as
// gen_workload.py does).
std::vector<uint32_t> Tokenize(absl::string_view text,
                               absl::flat_hash_map<std::string, uint32_t>& vocab) {
  constexpr size_t kCharsPerToken = 4;
  std::vector<uint32_t> ids;
  ids.reserve(text.size() / kCharsPerToken + 1);
  for (size_t at = 0; at < text.size(); at += kCharsPerToken) {
    const std::string piece(text.substr(at, kCharsPerToken));
    auto [it, inserted] = vocab.try_emplace(piece, static_cast<uint32_t>(vocab.size()));
    ids.push_back(it->second);
  }
  return ids;
}

}  // namespace

absl::StatusOr<Workload> LoadTextWorkload(const std::string& path) {
  absl::StatusOr<std::vector<std::string>> lines = ReadLines(path);
  if (!lines.ok()) return lines.status();
  Workload w = TextWorkloadShell(absl::StrCat(BaseName(path), " (text)"));
  w.requests.reserve(lines->size());
  bool any_key = false;
  for (std::string& line : *lines) {
    w.requests.push_back(TextRequest(std::move(line)));
    any_key = any_key || !w.requests.back().routing_key.empty();
  }
  if (any_key) w.key_source = "leading [tag] of each prompt";
  CountDistinctBlocks(w);
  return w;
}

absl::StatusOr<Workload> LoadTokenWorkload(const std::string& path) {
  absl::StatusOr<std::vector<std::string>> lines = ReadLines(path);
  if (!lines.ok()) return lines.status();
  // Routing keys from the companion text file, when it matches line for line.
  std::vector<std::string> keys(lines->size());
  Workload w = TokenWorkloadShell(absl::StrCat(BaseName(path), " (tokens)"));
  if (const std::string companion = CompanionTextPath(path); !companion.empty()) {
    absl::StatusOr<std::vector<std::string>> text_lines = ReadLines(companion);
    if (text_lines.ok() && text_lines->size() == lines->size()) {
      for (size_t i = 0; i < keys.size(); ++i) keys[i] = LeadingTag((*text_lines)[i]);
      w.key_source = absl::StrCat("[tag] of ", BaseName(companion));
    }
  }
  w.requests.reserve(lines->size());
  for (size_t i = 0; i < lines->size(); ++i) {
    absl::StatusOr<std::vector<uint32_t>> tokens = ParseTokenLine((*lines)[i]);
    if (!tokens.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":", i + 1, ": ", tokens.status().message()));
    }
    w.requests.push_back(TokenRequest(*std::move(tokens), std::move(keys[i])));
  }
  CountDistinctBlocks(w);
  return w;
}

absl::StatusOr<Workload> LoadMooncakeTrace(const std::string& path) {
  absl::StatusOr<std::vector<std::string>> lines = ReadLines(path);
  if (!lines.ok()) return lines.status();
  Workload w = TokenWorkloadShell(absl::StrCat(BaseName(path), " (Mooncake)"));
  w.block_units = kMooncakeBlockTokens;
  w.prefix_hash_tokens = kTokenPageTokens;
  w.requests.reserve(lines->size());
  for (size_t i = 0; i < lines->size(); ++i) {
    absl::StatusOr<MooncakeRecord> record = ParseMooncakeLine((*lines)[i]);
    if (!record.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":", i + 1, ": ", record.status().message()));
    }
    DemoRequest r;
    r.tokens = MooncakeTokens(*record);
    r.blocks = MooncakeBlocks(*record);
    r.prompt_units = record->input_length;
    r.output_tokens = static_cast<uint32_t>(record->output_length);
    r.arrival_ms = record->timestamp_ms;
    w.requests.push_back(std::move(r));
  }
  CountDistinctBlocks(w);
  return w;
}

std::vector<Workload> GenerateSharedPrefix(uint64_t seed) {
  constexpr size_t kGroups = 64;
  constexpr size_t kPerGroup = 16;
  constexpr size_t kSystemChars = 8192;
  constexpr size_t kQuestionChars = 512;
  constexpr size_t kWindow = 256;

  DemoRng rng(seed);
  std::vector<std::string> prompts;
  prompts.reserve(kGroups * kPerGroup);
  for (size_t g = 0; g < kGroups; ++g) {
    const std::string system = absl::StrCat("[sys", g, "] ", RandomText(rng, kSystemChars));
    for (size_t q = 0; q < kPerGroup; ++q) {
      prompts.push_back(absl::StrCat(system, " Q: ", RandomText(rng, kQuestionChars)));
    }
  }
  prompts = Interleave(rng, std::move(prompts), kWindow);

  Workload text = TextWorkloadShell("built-in shared-prefix (text)");
  Workload tokens = TokenWorkloadShell("built-in shared-prefix (tokens)");
  text.key_source = tokens.key_source = "leading [sysN] tag";
  absl::flat_hash_map<std::string, uint32_t> vocab;
  for (std::string& prompt : prompts) {
    std::string key = LeadingTag(prompt);
    tokens.requests.push_back(TokenRequest(Tokenize(prompt, vocab), std::move(key)));
    text.requests.push_back(TextRequest(std::move(prompt)));
  }
  CountDistinctBlocks(text);
  CountDistinctBlocks(tokens);
  std::vector<Workload> out;
  out.push_back(std::move(text));
  out.push_back(std::move(tokens));
  return out;
}

}  // namespace route_demo
