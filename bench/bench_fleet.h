// File: bench/bench_fleet.h
//
// The fleet the selection benchmarks measure: one router with `workers`
// regular workers of the default model, every option at its default but the
// policy. Shared so that select_benchmark, registry_benchmark and
// select_finish_timing (the C++ side of python_select_bench.py) time the
// same router.
#ifndef SMGCORE_BENCH_BENCH_FLEET_H_
#define SMGCORE_BENCH_BENCH_FLEET_H_

#include <cstdlib>
#include <memory>
#include <string>

#include "smgcore/router.h"

namespace smg::bench {

// FleetUrl()
//
// Worker `i`'s URL: 10.0.<i / 256>.<i % 256>, distinct up to 65536 workers.
inline std::string FleetUrl(int i) {
  return "http://10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256) + ":30000";
}

// MakeFleetRouter()
//
// A router with `kind` as its policy and `workers` workers; aborts on a
// registration error (a benchmark has no one to report it to).
inline std::unique_ptr<Router> MakeFleetRouter(PolicyKind kind, int workers) {
  RouterOptions options;
  options.policies.policy.kind = kind;
  std::unique_ptr<Router> router = *Router::Create(options);
  for (int i = 0; i < workers; ++i) {
    WorkerSpec spec;
    spec.url = FleetUrl(i);
    if (!router->AddWorker(spec).ok()) std::abort();
  }
  return router;
}

}  // namespace smg::bench

#endif  // SMGCORE_BENCH_BENCH_FLEET_H_
