// A deterministic discrete-event replay of a workload through one router.
//
// Requests arrive in workload order, at their trace timestamps or at a fixed
// rate. Each is routed with Router::Select() (the only call that is timed),
// served from the chosen worker's simulated prefix cache, and holds its
// ticket for a service time proportional to its uncached prompt tokens plus
// its output tokens; tickets finish in time order before any later arrival
// is routed, so the in-flight counts the policies read are the model's.
// Time is a smg::ManualClock moved by the simulation, randomness a
// smg::SeededRandom: the same inputs give the same decisions.
#ifndef SMGCORE_EXAMPLES_ROUTE_DEMO_SIMULATION_H_
#define SMGCORE_EXAMPLES_ROUTE_DEMO_SIMULATION_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "route_demo/workload.h"
#include "smgcore/policy.h"
#include "smgcore/router.h"

namespace route_demo {

// Simulated milliseconds of work per token, prompt (uncached part) or output.
inline constexpr double kServiceMsPerToken = 1.0;

// SimConfig
struct SimConfig {
  // Workers in the fleet (in PD mode: prefill workers, and as many decode).
  size_t workers = 8;
  // Blocks each worker's prefix cache holds.
  size_t cache_blocks = 1;
  // Gap between arrivals of requests without a timestamp.
  double arrival_gap_ms = 10.0;
  // How often the host calls Router::RunMaintenance(), in simulated time.
  int64_t maintenance_interval_ms = 5000;
  uint64_t seed = 1;
  // PD runs: how many of the first decisions to keep as samples.
  size_t sample_decisions = 0;
};

// PolicyRun
//
// One row of a table: a label and the router configuration that produces it.
struct PolicyRun {
  std::string label;
  smg::RouterOptions options;
  // Shown in the notes column (e.g. where consistent_hash's key comes from).
  std::string note;
};

// SampleDecision
//
// A PD decision as the host would forward it.
struct SampleDecision {
  std::string prefill_url;
  std::string decode_url;
  std::string bootstrap_host;
  std::optional<uint16_t> bootstrap_port;
  uint64_t bootstrap_room = 0;
};

// RunResult
struct RunResult {
  std::string label;
  std::string note;
  // Requests routed, and those Select() refused (with the first error).
  size_t routed = 0;
  size_t failed = 0;
  std::string first_error;
  // Prompt units routed, and those served from the chosen worker's cache.
  uint64_t prompt_units = 0;
  uint64_t cached_units = 0;
  // Per worker (prefill workers in PD mode): requests routed to it, and the
  // most it had in flight at once.
  std::vector<uint64_t> routed_per_worker;
  std::vector<int64_t> peak_in_flight;
  // PD mode: requests routed to each decode worker.
  std::vector<uint64_t> decode_routed_per_worker;
  // Time spent inside Router::Select(), steady clock.
  int64_t select_nanos = 0;
  // The counters of the (prefill) leg's policy at the end of the run.
  smg::PolicyStats policy_stats;
  std::vector<SampleDecision> samples;
};

// WorkerUrl()
//
// "http://10.0.0.K:30000" for worker index K-1 (K = 1..254, then 10.0.1.x...).
std::string WorkerUrl(size_t index);

// Simulate()
//
// Replays `workload` through a fresh router built from `run.options`, with a
// fresh fleet and empty caches. A router that cannot be built is reported as
// an error; refused selections are counted in the result.
absl::StatusOr<RunResult> Simulate(const Workload& workload, const PolicyRun& run,
                                   const SimConfig& config);

}  // namespace route_demo

#endif  // SMGCORE_EXAMPLES_ROUTE_DEMO_SIMULATION_H_
