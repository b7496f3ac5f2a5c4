// Router::Select + Ticket::Finish per policy at 8, 64, 512 and 4096 workers.
//
//   build/release/bench/select_benchmark --benchmark_format=json
//
// The prompt is a fixed 1 KiB text, so cache_aware's tree work is the same at
// every fleet size and the numbers show what fleet size alone costs.
#include <memory>
#include <string>

#include "benchmark/benchmark.h"
#include "smgcore/router.h"

namespace smg {
namespace {

std::unique_ptr<Router> MakeRouter(PolicyKind kind, int workers) {
  RouterOptions options;
  options.policies.policy.kind = kind;
  std::unique_ptr<Router> router = *Router::Create(options);
  for (int i = 0; i < workers; ++i) {
    WorkerSpec spec;
    spec.url = "http://10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256) + ":30000";
    if (!router->AddWorker(spec).ok()) std::abort();
  }
  return router;
}

void BM_Select(benchmark::State& state, PolicyKind kind) {
  std::unique_ptr<Router> router = MakeRouter(kind, static_cast<int>(state.range(0)));
  const std::string prompt(1024, 'p');
  RouteRequest request{.text = prompt, .routing_key = "session-42"};
  for (auto _ : state) {
    absl::StatusOr<Ticket> ticket = router->Select(request);
    benchmark::DoNotOptimize(ticket->worker().id());
    ticket->Finish(Outcome::Ok()).IgnoreError();
  }
  state.SetItemsProcessed(state.iterations());
}

#define SMG_SELECT_BENCHMARK(kind)                                              \
  BENCHMARK_CAPTURE(BM_Select, kind, PolicyKind::kind)->RangeMultiplier(8)->Range(8, 4096)

SMG_SELECT_BENCHMARK(kRandom);
SMG_SELECT_BENCHMARK(kRoundRobin);
SMG_SELECT_BENCHMARK(kPowerOfTwo);
SMG_SELECT_BENCHMARK(kCacheAware);
SMG_SELECT_BENCHMARK(kConsistentHash);
SMG_SELECT_BENCHMARK(kPrefixHash);

}  // namespace
}  // namespace smg
