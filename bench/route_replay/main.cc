// smgcore_route_replay: the route-replay protocol of
// shared/workloads/README.md on smgcore's radix tree (see replay.h).
//
//   smgcore_route_replay --text sp.txt [--floor]
//   smgcore_route_replay --tokens sp.tok --threads 2 --repeat 4
//   smgcore_route_replay --mooncake conversation_trace.jsonl --repeat 10 --budget 100000
//
// Prints one line of key=value fields: the input, threads, requests,
// seconds, ns per request, requests/s, total matched units, tree memory in
// bytes as the library accounts it (RadixTree::memory_bytes), stored units
// and bytes per stored unit, peak RSS, the RSS growth and the minor page
// faults over the replay;
// with --budget, eviction's cost and the peak tree size; with --floor, the
// memcmp and XXH3 floors of the same run and the replay's ratio to each,
// and this machine's cost of a first-touch page fault with the part of the
// replay those faults account for (with several threads, also the cost of
// moving a written cache line between two cores).
// Exit status 2 on a usage error, 1 when the input cannot be read.
#include <malloc.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "route_replay/floor.h"
#include "route_replay/process_memory.h"
#include "route_replay/replay.h"
#include "route_replay/request_set.h"
#include "smgcore/radix_tree.h"

namespace route_replay {
namespace {

constexpr char kUsage[] =
    "usage: smgcore_route_replay (--text FILE.txt | --tokens FILE.tok | --mooncake FILE.jsonl)\n"
    "         [--workers W] [--threads T] [--repeat R] [--page P] [--budget UNITS] [--floor]\n"
    "         [--evict-headroom F] [--prefault-heap] [--runs N]\n"
    "  --workers W     workers w0..w{W-1} (default 8)\n"
    "  --threads T     replaying threads on one tree (default 1)\n"
    "  --repeat R      passes over the file into the same tree (default 1)\n"
    "  --page P        tree page size in units (default 1, the protocol's)\n"
    "  --budget UNITS  tree budget in stored units; over it, the replaying thread\n"
    "                  evicts and that time is reported (default 0: unbounded)\n"
    "  --evict-headroom F  fraction of the budget eviction frees beyond it\n"
    "                  (TreeOptions::evict_headroom; default the library's, 1/64)\n"
    "  --floor         also time memcmp against a copy and XXH3 over every request,\n"
    "                  and the machine's cost of a first-touch page fault (and,\n"
    "                  with --threads above 1, of a cache line moving between cores)\n"
    "  --prefault-heap make the tree's allocations land on already resident pages\n"
    "                  (measures the tree without the kernel's first-touch faults)\n"
    "  --runs N        run N times, each on a fresh tree, and report the fastest\n"
    "                  (floors: the fastest of theirs; default 1)\n";

// Flags
struct Flags {
  std::string input_kind;  // "text", "tokens" or "mooncake"
  std::string path;
  ReplayOptions replay;
  size_t page = 1;
  double evict_headroom = smg::TreeOptions{}.evict_headroom;
  bool floor = false;
  bool prefault_heap = false;
  size_t runs = 1;
};

// Parses a positive count; `allow_zero` for the budget.
std::optional<size_t> ParseCount(absl::string_view text, bool allow_zero) {
  uint64_t value = 0;
  if (!absl::SimpleAtoi(text, &value) || (value == 0 && !allow_zero)) return std::nullopt;
  return static_cast<size_t>(value);
}

std::optional<Flags> ParseFlags(int argc, char** argv) {
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    const absl::string_view flag = argv[i];
    if (flag == "--floor") {
      flags.floor = true;
      continue;
    }
    if (flag == "--prefault-heap") {
      flags.prefault_heap = true;
      continue;
    }
    if (i + 1 >= argc) return std::nullopt;
    const absl::string_view value = argv[++i];
    if (flag == "--text" || flag == "--tokens" || flag == "--mooncake") {
      if (!flags.input_kind.empty()) return std::nullopt;  // one input per run
      flags.input_kind = std::string(flag.substr(2));
      flags.path = std::string(value);
      continue;
    }
    if (flag == "--evict-headroom") {
      // The tree clamps; the tool refuses what the router would.
      if (!absl::SimpleAtod(value, &flags.evict_headroom) || !(flags.evict_headroom >= 0) ||
          flags.evict_headroom > 0.5) {
        return std::nullopt;
      }
      continue;
    }
    std::optional<size_t> count = ParseCount(value, /*allow_zero=*/flag == "--budget");
    if (!count.has_value()) return std::nullopt;
    if (flag == "--workers") {
      flags.replay.workers = *count;
    } else if (flag == "--threads") {
      flags.replay.threads = *count;
    } else if (flag == "--repeat") {
      flags.replay.repeat = *count;
    } else if (flag == "--page") {
      flags.page = *count;
    } else if (flag == "--runs") {
      flags.runs = *count;
    } else if (flag == "--budget") {
      flags.replay.budget_units = *count;
    } else {
      return std::nullopt;
    }
  }
  if (flags.input_kind.empty()) return std::nullopt;
  return flags;
}

std::string BaseName(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// What one run (one fresh tree) measured.
struct RunResult {
  ReplayResult replay;
  std::optional<FloorResult> floor;
  size_t tree_bytes = 0;
  size_t stored_units = 0;
  size_t nodes = 0;
  size_t evicted_units = 0;
  size_t evict_examined = 0;
  size_t handed_over_inserts = 0;
};

// Pages the fault probe touches (4 MiB of 4 KiB pages): a tree's growth
// over a few thousand requests.
constexpr size_t kFaultProbePages = 1024;

// Round trips the line-transfer probe times: ~10 ms at 250 ns a transfer.
constexpr size_t kLineTransferRoundTrips = 20000;

template <typename Unit>
RunResult RunOnce(const Flags& flags, const RequestSet<Unit>& requests, const RequestSet<Unit>* copy,
                  const ReplayOptions& replay_options) {
  RunResult run;
  // Cold heap (the default): give back what loading (or the previous run)
  // freed, so the tree's memory is fresh pages, as in a new process, and
  // the RSS growth is the replay's. Prefaulted heap: the room is there.
  if (!flags.prefault_heap) malloc_trim(0);
  // Read every request once, untimed: the floor and the replay then both
  // start with the input in the same (warm) cache state, as a router that
  // has just received its prompts.
  (void)MeasureFloor(requests, requests, 1);
  if (copy != nullptr) {
    run.floor = MeasureFloor(requests, *copy, flags.replay.repeat);
    run.floor->fault_ns_per_page = FirstTouchNsPerPage(kFaultProbePages);
    if (flags.replay.threads > 1) run.floor->line_transfer_ns = LineTransferNs(kLineTransferRoundTrips);
  }

  smg::TreeOptions tree_options;
  tree_options.page_size = flags.page;
  tree_options.budget_units = flags.replay.budget_units;
  tree_options.evict_inline = false;  // the replay evicts, and times it
  tree_options.evict_headroom = flags.evict_headroom;
  smg::RadixTree<Unit> tree(tree_options);

  run.replay = Replay(tree, requests, replay_options);
  run.tree_bytes = tree.memory_bytes();
  run.stored_units = tree.stored_units();
  run.nodes = tree.node_count();
  run.evicted_units = tree.evicted_units_total();
  run.evict_examined = tree.eviction_examined_total();
  run.handed_over_inserts = tree.handed_over_inserts_total();
  return run;
}

template <typename Unit>
int Run(const Flags& flags, RequestSet<Unit> requests) {
  // A copy for the memcmp floor, made before any RSS baseline.
  std::optional<RequestSet<Unit>> copy;
  if (flags.floor) copy.emplace(requests);
  ReplayOptions replay_options = flags.replay;
  if (flags.prefault_heap) {
    // Room for the tree (~1.2 bytes per unit of text here) several times over.
    replay_options.prefault_bytes = 2 * requests.total_units() * sizeof(Unit) + (16 << 20);
    PrefaultHeap(replay_options.prefault_bytes);
  }
  // The fastest of `runs` runs, each on a fresh tree; the floors are the
  // fastest of theirs too.
  RunResult best;
  for (size_t i = 0; i < flags.runs; ++i) {
    RunResult run = RunOnce(flags, requests, copy.has_value() ? &*copy : nullptr, replay_options);
    if (i == 0 || run.replay.seconds < best.replay.seconds) {
      std::optional<FloorResult> best_floor = best.floor;
      best = run;
      best.floor = best_floor;
    }
    if (run.floor.has_value()) {
      if (!best.floor.has_value()) best.floor = run.floor;
      KeepFastest(*best.floor, *run.floor);
    }
  }

  const ReplayResult& r = best.replay;
  const double ns_per_request = r.seconds * 1e9 / static_cast<double>(r.requests);
  std::string line = absl::StrFormat(
      "route_replay input=%s file=%s page=%d workers=%d threads=%d repeat=%d runs=%d requests=%d seconds=%.6f "
      "ns_per_request=%.1f requests_per_s=%.0f matched_units=%d tree_bytes=%d peak_rss_bytes=%d "
      "stored_units=%d tree_bytes_per_unit=%.3f nodes=%d rss_growth_bytes=%d minor_faults=%d prefault_heap=%d",
      flags.input_kind, BaseName(flags.path), std::max<size_t>(flags.page, 1), flags.replay.workers,
      flags.replay.threads, flags.replay.repeat, flags.runs, r.requests, r.seconds, ns_per_request,
      static_cast<double>(r.requests) / r.seconds, r.matched_units, best.tree_bytes, PeakRssBytes(),
      best.stored_units,
      best.stored_units == 0 ? 0.0 : static_cast<double>(best.tree_bytes) / static_cast<double>(best.stored_units),
      best.nodes, r.rss_growth_bytes, r.minor_faults, flags.prefault_heap ? 1 : 0);
  if (flags.replay.threads > 1) {
    // Inserts a thread found the tree's lock taken for and handed to the
    // holder (RadixTree::handed_over_inserts_total).
    absl::StrAppendFormat(&line, " handed_over_inserts=%d", best.handed_over_inserts);
  }
  if (flags.replay.budget_units > 0) {
    const double evict_ns = r.evict_seconds * 1e9 / static_cast<double>(r.requests);
    absl::StrAppendFormat(&line,
                          " budget_units=%d evict_headroom=%.4f evict_calls=%d evicted_units=%d evict_examined=%d "
                          "evict_ns_per_request=%.1f evict_share=%.4f peak_stored_units=%d peak_tree_bytes=%d",
                          flags.replay.budget_units, flags.evict_headroom, r.evict_calls, best.evicted_units, best.evict_examined, evict_ns,
                          evict_ns / ns_per_request, r.peak_stored_units, r.peak_tree_bytes);
  }
  if (best.floor.has_value()) {
    const FloorResult& floor = *best.floor;
    absl::StrAppendFormat(&line,
                          " memcmp_ns_per_request=%.1f xxh3_ns_per_request=%.1f replay_over_memcmp=%.2f "
                          "replay_over_xxh3=%.2f",
                          floor.memcmp_ns_per_request, floor.xxh3_ns_per_request,
                          ns_per_request / floor.memcmp_ns_per_request, ns_per_request / floor.xxh3_ns_per_request);
    // The reported run's faults at the probe's price: how much of a
    // fresh-heap replay is the kernel's, not the tree's.
    const double fault_ns =
        static_cast<double>(r.minor_faults) * floor.fault_ns_per_page / static_cast<double>(r.requests);
    absl::StrAppendFormat(&line, " fault_ns_per_page=%.1f fault_ns_per_request=%.1f", floor.fault_ns_per_page,
                          fault_ns);
    if (flags.replay.threads > 1) absl::StrAppendFormat(&line, " line_transfer_ns=%.1f", floor.line_transfer_ns);
  }
  std::printf("%s\n", line.c_str());
  return 0;
}

int Main(int argc, char** argv) {
  const std::optional<Flags> flags = ParseFlags(argc, argv);
  if (!flags.has_value()) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  auto fail = [](const absl::Status& status) {
    std::fprintf(stderr, "smgcore_route_replay: %s\n", status.ToString().c_str());
    return 1;
  };
  if (flags->input_kind == "text") {
    absl::StatusOr<RequestSet<uint8_t>> requests = LoadText(flags->path);
    if (!requests.ok()) return fail(requests.status());
    return Run(*flags, *std::move(requests));
  }
  absl::StatusOr<RequestSet<uint32_t>> requests =
      flags->input_kind == "tokens" ? LoadTokens(flags->path) : LoadMooncake(flags->path);
  if (!requests.ok()) return fail(requests.status());
  return Run(*flags, *std::move(requests));
}

}  // namespace
}  // namespace route_replay

int main(int argc, char** argv) { return route_replay::Main(argc, argv); }
