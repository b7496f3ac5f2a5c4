// smgcore_route_demo: routes prompt workloads through every smgcore policy
// over a simulated fleet and prints, per workload, how much of the prompts
// each policy served from the workers' prefix caches, how evenly it spread
// the requests, and what one routing decision costs.
//
// Nothing touches the network: workers are URLs, their prefix caches and
// service times are simulated (see simulation.h), and only Router::Select()
// is timed.
//
//   smgcore_route_demo                                  # built-in shared-prefix workload
//   smgcore_route_demo --text sp.txt --tokens sp.tok --mooncake conversation_trace.jsonl
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "route_demo/simulation.h"
#include "route_demo/workload.h"
#include "smgcore/policy_config.h"
#include "smgcore/router.h"

namespace route_demo {
namespace {

constexpr int kExitUsage = 2;
constexpr int kExitFailure = 1;
constexpr absl::string_view kPdPolicyName = "pd";

constexpr char kUsage[] =
    R"(usage: smgcore_route_demo [options]

Routes workloads through smgcore's policies over simulated workers (no
network) and prints one table per workload: cache hit rate, load spread and
the cost of Router::Select().

Workloads (each flag may be repeated; with none, a built-in shared-prefix
workload is generated):
  --text FILE.txt         one prompt per line (shared/workloads/gen_workload.py)
  --tokens FILE.tok       space-separated token ids per line (gen_workload.py --tokens)
  --mooncake FILE.jsonl   Mooncake trace (timestamp, input_length, output_length, hash_ids)

Options:
  --workers N             workers in the fleet (default 8; PD mode adds N decode workers)
  --policy NAME           only this policy: random, round_robin, power_of_two,
                          cache_aware, consistent_hash, prefix_hash, or pd
  --cache-blocks N        blocks each worker's prefix cache holds
                          (default: 1/4 of the workload's distinct blocks)
  --load X                target requests in flight per worker for workloads
                          without timestamps, before cache hits shorten them
                          (sets the arrival rate; default 16)
  --seed N                seed of the router's randomness and the built-in workload (default 1)
  --help                  this text
)";

// --- Command line -------------------------------------------------------------

struct WorkloadSource {
  enum class Kind { kText, kTokens, kMooncake } kind;
  std::string path;
};

struct DemoOptions {
  std::vector<WorkloadSource> sources;
  size_t workers = 8;
  std::optional<std::string> only_policy;
  std::optional<size_t> cache_blocks;
  double load_per_worker = 16.0;
  uint64_t seed = 1;
  bool help = false;
};

struct UsageError {
  std::string message;
};

constexpr absl::string_view kValueFlags[] = {"--text",    "--tokens", "--mooncake",
                                             "--workers", "--policy", "--cache-blocks",
                                             "--load",    "--seed"};

bool IsValueFlag(absl::string_view flag) {
  for (absl::string_view known : kValueFlags) {
    if (flag == known) return true;
  }
  return false;
}

// The value after `flag`, advancing `*i` past it.
std::optional<std::string> FlagValue(int argc, char** argv, int* i) {
  if (*i + 1 >= argc) return std::nullopt;
  *i += 1;
  return std::string(argv[*i]);
}

std::optional<UsageError> ParseCount(absl::string_view flag, absl::string_view value, size_t min,
                                     size_t max, size_t* out) {
  uint64_t n = 0;
  if (!absl::SimpleAtoi(value, &n) || n < min || n > max) {
    return UsageError{
        absl::StrCat(flag, ": expected an integer in [", min, ", ", max, "], got \"", value, "\"")};
  }
  *out = static_cast<size_t>(n);
  return std::nullopt;
}

std::optional<UsageError> ParsePolicyName(absl::string_view value, std::string* out) {
  if (value == kPdPolicyName) {
    *out = std::string(kPdPolicyName);
    return std::nullopt;
  }
  absl::StatusOr<smg::PolicyKind> kind = smg::ParsePolicyKind(value);
  if (!kind.ok() || *kind == smg::PolicyKind::kCustom) {
    return UsageError{absl::StrCat("--policy: unknown policy \"", value,
                                   "\" (random, round_robin, power_of_two, cache_aware, "
                                   "consistent_hash, prefix_hash, pd)")};
  }
  *out = std::string(smg::PolicyKindName(*kind));
  return std::nullopt;
}

std::optional<UsageError> ParseArgs(int argc, char** argv, DemoOptions* options) {
  for (int i = 1; i < argc; ++i) {
    const absl::string_view flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      options->help = true;
      continue;
    }
    if (!IsValueFlag(flag)) {
      return UsageError{absl::StrCat("unknown argument \"", flag, "\" (see --help)")};
    }
    std::optional<std::string> value = FlagValue(argc, argv, &i);
    if (!value.has_value()) return UsageError{absl::StrCat(flag, ": missing value")};
    if (flag == "--text") {
      options->sources.push_back({WorkloadSource::Kind::kText, *value});
    } else if (flag == "--tokens") {
      options->sources.push_back({WorkloadSource::Kind::kTokens, *value});
    } else if (flag == "--mooncake") {
      options->sources.push_back({WorkloadSource::Kind::kMooncake, *value});
    } else if (flag == "--workers") {
      if (auto e = ParseCount(flag, *value, 1, 1024, &options->workers)) return e;
    } else if (flag == "--cache-blocks") {
      size_t blocks = 0;
      if (auto e = ParseCount(flag, *value, 1, size_t{1} << 32, &blocks)) return e;
      options->cache_blocks = blocks;
    } else if (flag == "--load") {
      double load = 0;
      if (!absl::SimpleAtod(*value, &load) || !(load > 0) || load > 1e6) {
        return UsageError{absl::StrCat("--load: expected a positive number, got \"", *value, "\"")};
      }
      options->load_per_worker = load;
    } else if (flag == "--seed") {
      size_t seed = 0;
      if (auto e = ParseCount(flag, *value, 0, SIZE_MAX, &seed)) return e;
      options->seed = seed;
    } else if (flag == "--policy") {
      std::string name;
      if (auto e = ParsePolicyName(*value, &name)) return e;
      options->only_policy = name;
    }
  }
  return std::nullopt;
}

// --- Workloads ----------------------------------------------------------------

absl::StatusOr<std::vector<Workload>> LoadWorkloads(const DemoOptions& options) {
  if (options.sources.empty()) return GenerateSharedPrefix(options.seed);
  std::vector<Workload> workloads;
  for (const WorkloadSource& source : options.sources) {
    absl::StatusOr<Workload> w;
    switch (source.kind) {
      case WorkloadSource::Kind::kText:
        w = LoadTextWorkload(source.path);
        break;
      case WorkloadSource::Kind::kTokens:
        w = LoadTokenWorkload(source.path);
        break;
      case WorkloadSource::Kind::kMooncake:
        w = LoadMooncakeTrace(source.path);
        break;
    }
    if (!w.ok()) return w.status();
    workloads.push_back(*std::move(w));
  }
  return workloads;
}

// Mean service time of a request if nothing were cached.
double MeanUncachedServiceMs(const Workload& w) {
  double total = 0;
  for (const DemoRequest& r : w.requests) {
    total += static_cast<double>(r.prompt_units) * w.tokens_per_unit + r.output_tokens;
  }
  return total * kServiceMsPerToken / static_cast<double>(w.requests.size());
}

bool HasTimestamps(const Workload& w) { return w.requests.front().arrival_ms.has_value(); }

SimConfig ConfigFor(const Workload& w, const DemoOptions& options) {
  SimConfig c;
  c.workers = options.workers;
  c.cache_blocks = options.cache_blocks.value_or(std::max<size_t>(1, w.distinct_blocks / 4));
  // Little's law: arrivals every mean_service / (workers * load) keep about
  // `load` requests in flight per worker when nothing is cached.
  c.arrival_gap_ms =
      MeanUncachedServiceMs(w) / (static_cast<double>(options.workers) * options.load_per_worker);
  c.seed = options.seed;
  return c;
}

// --- Policies -----------------------------------------------------------------

PolicyRun SingleLegRun(smg::PolicyKind kind) {
  PolicyRun run;
  run.label = std::string(smg::PolicyKindName(kind));
  run.options.policies.policy.kind = kind;
  return run;
}

// consistent_hash keyed by the workload's group or conversation, if it has one.
PolicyRun ConsistentHashRun(const Workload& w) {
  PolicyRun run = SingleLegRun(smg::PolicyKind::kConsistentHash);
  run.note =
      w.key_source == "none" ? "no routing key: random pick" : absl::StrCat("key: ", w.key_source);
  return run;
}

// prefix_hash over as many ids as the workload says make SMG's prefix.
PolicyRun PrefixHashRun(const Workload& w) {
  PolicyRun run = SingleLegRun(smg::PolicyKind::kPrefixHash);
  run.options.policies.policy.prefix_hash.prefix_tokens = w.prefix_hash_tokens;
  if (w.prefix_hash_tokens != smg::PrefixHashOptions().prefix_tokens) {
    run.note = absl::StrCat("hashes the first ", w.prefix_hash_tokens, " ids (first block)");
  }
  return run;
}

// dstack's PD configuration: cache_aware prefill, power_of_two decode.
PolicyRun PdRun() {
  PolicyRun run;
  run.label = "pd:cache_aware";
  run.options.pd_mode = true;
  run.options.policies.prefill = smg::PolicyConfig{.kind = smg::PolicyKind::kCacheAware};
  run.options.policies.decode = smg::PolicyConfig{.kind = smg::PolicyKind::kPowerOfTwo};
  return run;
}

// Every built-in policy with default options, plus the PD pairing; only the
// one named by --policy when given.
std::vector<PolicyRun> PolicyRunsFor(const Workload& w, const std::optional<std::string>& only) {
  std::vector<PolicyRun> runs = {SingleLegRun(smg::PolicyKind::kRandom),
                                 SingleLegRun(smg::PolicyKind::kRoundRobin),
                                 SingleLegRun(smg::PolicyKind::kPowerOfTwo),
                                 SingleLegRun(smg::PolicyKind::kCacheAware),
                                 ConsistentHashRun(w),
                                 PrefixHashRun(w),
                                 PdRun()};
  if (!only.has_value()) return runs;
  std::vector<PolicyRun> selected;
  for (PolicyRun& run : runs) {
    const bool is_pd = run.options.pd_mode;
    if ((is_pd && *only == kPdPolicyName) || (!is_pd && run.label == *only)) {
      selected.push_back(std::move(run));
    }
  }
  return selected;
}

// --- Output -------------------------------------------------------------------

struct LoadSpread {
  uint64_t max = 0;
  double mean = 0;
};

LoadSpread SpreadOf(const std::vector<uint64_t>& routed) {
  LoadSpread s;
  uint64_t total = 0;
  for (uint64_t n : routed) {
    s.max = std::max(s.max, n);
    total += n;
  }
  s.mean = routed.empty() ? 0.0 : static_cast<double>(total) / static_cast<double>(routed.size());
  return s;
}

double Ratio(double num, double den) { return den > 0 ? num / den : 0.0; }

std::string NotesOf(const RunResult& r, bool cache_aware_leg) {
  std::vector<std::string> notes;
  const smg::PolicyStats& s = r.policy_stats;
  if (cache_aware_leg) {
    notes.push_back(absl::StrCat("tree match ", s.cache_hits, "/miss ", s.cache_misses,
                                 "/imbalanced ", s.imbalanced_selections));
  }
  if (s.bounded_load_skips > 0)
    notes.push_back(absl::StrCat("load-bound skips ", s.bounded_load_skips));
  if (!r.decode_routed_per_worker.empty()) {
    const LoadSpread d = SpreadOf(r.decode_routed_per_worker);
    notes.push_back(
        absl::StrFormat("decode p2 max/mean %.2f", Ratio(static_cast<double>(d.max), d.mean)));
  }
  if (!r.note.empty()) notes.push_back(r.note);
  if (r.failed > 0) notes.push_back(absl::StrCat(r.failed, " refused: ", r.first_error));
  std::string out;
  for (const std::string& n : notes) absl::StrAppend(&out, out.empty() ? "" : "; ", n);
  return out;
}

void PrintTableHeader(const Workload& w, const SimConfig& c) {
  const std::string arrivals =
      HasTimestamps(w) ? std::string("trace timestamps")
                       : absl::StrFormat("every %.3f ms (fixed rate)", c.arrival_gap_ms);
  std::printf("\n== %s: %zu requests, %zu workers\n", w.name.c_str(), w.requests.size(), c.workers);
  std::printf(
      "   cache: %zu blocks of %llu %s per worker (workload has %zu distinct blocks); "
      "arrivals %s\n",
      c.cache_blocks, static_cast<unsigned long long>(w.block_units), w.unit.c_str(),
      w.distinct_blocks, arrivals.c_str());
  std::printf("%-16s %8s %9s %9s %9s %8s %9s %10s  %s\n", "policy", "requests", "hit rate",
              "max load", "mean load", "max/mean", "peak infl", "ns/select", "notes");
}

void PrintRow(const RunResult& r, bool cache_aware_leg) {
  const LoadSpread spread = SpreadOf(r.routed_per_worker);
  int64_t peak = 0;
  for (int64_t p : r.peak_in_flight) peak = std::max(peak, p);
  const double hit =
      100.0 * Ratio(static_cast<double>(r.cached_units), static_cast<double>(r.prompt_units));
  const double ns =
      Ratio(static_cast<double>(r.select_nanos), static_cast<double>(r.routed + r.failed));
  const std::string notes = NotesOf(r, cache_aware_leg);
  std::printf("%-16s %8zu %8.1f%% %9llu %9.1f %8.2f %9lld %10.0f%s%s\n", r.label.c_str(), r.routed,
              hit, static_cast<unsigned long long>(spread.max), spread.mean,
              Ratio(static_cast<double>(spread.max), spread.mean), static_cast<long long>(peak), ns,
              notes.empty() ? "" : "  ", notes.c_str());
}

void PrintSamples(const RunResult& r) {
  if (r.samples.empty()) return;
  std::printf("   sample PD decisions (cache_aware prefill + power_of_two decode):\n");
  for (const SampleDecision& s : r.samples) {
    const std::string port =
        s.bootstrap_port.has_value() ? absl::StrCat(*s.bootstrap_port) : "default";
    std::printf(
        "     prefill %s  decode %s  bootstrap_host %s  bootstrap_port %s  bootstrap_room %llu\n",
        s.prefill_url.c_str(), s.decode_url.c_str(), s.bootstrap_host.c_str(), port.c_str(),
        static_cast<unsigned long long>(s.bootstrap_room));
  }
}

// Runs every policy on `w` and prints its table. False if a router could not
// be built (a bug, not a user error).
bool RunWorkload(const Workload& w, const DemoOptions& options, bool show_samples) {
  SimConfig config = ConfigFor(w, options);
  PrintTableHeader(w, config);
  for (const PolicyRun& run : PolicyRunsFor(w, options.only_policy)) {
    config.sample_decisions = show_samples ? 2 : 0;
    absl::StatusOr<RunResult> result = Simulate(w, run, config);
    if (!result.ok()) {
      std::fprintf(stderr, "%s: %s\n", run.label.c_str(), result.status().ToString().c_str());
      return false;
    }
    const bool cache_aware_leg =
        run.options.pd_mode || run.options.policies.policy.kind == smg::PolicyKind::kCacheAware;
    PrintRow(*result, cache_aware_leg);
    PrintSamples(*result);
  }
  return true;
}

int Main(int argc, char** argv) {
  DemoOptions options;
  if (std::optional<UsageError> e = ParseArgs(argc, argv, &options)) {
    std::fprintf(stderr, "smgcore_route_demo: %s\n", e->message.c_str());
    return kExitUsage;
  }
  if (options.help) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<std::vector<Workload>> workloads = LoadWorkloads(options);
  if (!workloads.ok()) {
    std::fprintf(stderr, "smgcore_route_demo: %s\n",
                 std::string(workloads.status().message()).c_str());
    return kExitUsage;
  }
  if (options.sources.empty()) {
    std::printf("No workload given: routing a built-in shared-prefix workload (seed %llu).\n",
                static_cast<unsigned long long>(options.seed));
  }
  std::printf(
      "Simulated service time: %.0f ms per uncached prompt token or output token.\n"
      "hit rate: share of prompt units served from the chosen worker's prefix cache; "
      "max/mean load: requests routed per worker;\n"
      "peak infl: most requests in flight on one worker; ns/select: mean wall time of "
      "Router::Select().\n",
      kServiceMsPerToken);
  bool first = true;
  for (const Workload& w : *workloads) {
    if (!RunWorkload(w, options, first)) return kExitFailure;
    first = false;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("\nTotal: %zu workload(s) in %.2f s.\n", workloads->size(), seconds);
  return 0;
}

}  // namespace
}  // namespace route_demo

int main(int argc, char** argv) { return route_demo::Main(argc, argv); }
