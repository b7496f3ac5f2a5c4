// Selection per policy at 8, 64, 512 and 4096 workers, three ways:
//   BM_Select        Router::Select + Ticket::Finish: one request's whole
//                    routing cost (snapshot, policy, breaker admission, load
//                    accounting, outcome recording);
//   BM_SelectOnly    Router::Select alone (tickets are finished untimed, in
//                    batches);
//   BM_PolicySelect  Policy::Select on a CandidateSet: the policy's decision
//                    alone.
// And BM_AddWorkers: registering a fleet one AddWorker at a time.
//
//   build/release/bench/select_benchmark --benchmark_format=json
//
// The prompt is a fixed 1 KiB text, so cache_aware's tree work is the same at
// every fleet size and the numbers show what fleet size alone costs.
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "bench_fleet.h"
#include "benchmark/benchmark.h"
#include "policies/consistent_hash/hash_ring.h"
#include "smgcore/policy.h"
#include "smgcore/policy_config.h"
#include "smgcore/router.h"

namespace smg {
namespace {

using bench::MakeFleetRouter;

void BM_Select(benchmark::State& state, PolicyKind kind) {
  std::unique_ptr<Router> router = MakeFleetRouter(kind, static_cast<int>(state.range(0)));
  const std::string prompt(1024, 'p');
  RouteRequest request{.text = prompt, .routing_key = "session-42"};
  for (auto _ : state) {
    absl::StatusOr<Ticket> ticket = router->Select(request);
    benchmark::DoNotOptimize(ticket->worker().id());
    ticket->Finish(Outcome::Ok()).IgnoreError();
  }
  state.SetItemsProcessed(state.iterations());
}

// BM_Select from several threads on one router: what routing threads that
// share a router cost each other (the snapshot, the chosen workers' load
// counters, the policy's shared state). Each thread has its own session key,
// so the hashing policies spread the threads over different workers.
std::unique_ptr<Router> g_shared_router;

void BM_SelectThreads(benchmark::State& state, PolicyKind kind) {
  if (state.thread_index() == 0) g_shared_router = MakeFleetRouter(kind, 64);
  const std::string prompt(1024, static_cast<char>('a' + state.thread_index()));
  const std::string session = "session-" + std::to_string(state.thread_index());
  RouteRequest request{.text = prompt, .routing_key = session};
  for (auto _ : state) {
    absl::StatusOr<Ticket> ticket = g_shared_router->Select(request);
    benchmark::DoNotOptimize(ticket->worker().id());
    ticket->Finish(Outcome::Ok()).IgnoreError();
  }
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) g_shared_router.reset();
}

void BM_SelectOnly(benchmark::State& state, PolicyKind kind) {
  constexpr int kBatch = 256;
  std::unique_ptr<Router> router = MakeFleetRouter(kind, static_cast<int>(state.range(0)));
  const std::string prompt(1024, 'p');
  RouteRequest request{.text = prompt, .routing_key = "session-42"};
  std::vector<Ticket> tickets;
  tickets.reserve(kBatch);
  int64_t selected = 0;
  for (auto _ : state) {
    for (int i = 0; i < kBatch; ++i) tickets.push_back(*router->Select(request));
    state.PauseTiming();
    for (Ticket& t : tickets) t.Finish(Outcome::Ok()).IgnoreError();
    tickets.clear();
    state.ResumeTiming();
    selected += kBatch;
  }
  state.SetItemsProcessed(selected);
  state.counters["ns_per_select"] =
      benchmark::Counter(static_cast<double>(selected), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void BM_PolicySelect(benchmark::State& state, PolicyKind kind) {
  std::unique_ptr<Router> router = MakeFleetRouter(kind, static_cast<int>(state.range(0)));
  std::vector<WorkerPtr> members = router->ListWorkers();
  std::sort(members.begin(), members.end(), [](const WorkerPtr& a, const WorkerPtr& b) { return a->id() < b->id(); });
  PolicyConfig config;
  config.kind = kind;
  absl::StatusOr<PolicyPtr> policy = CreatePolicy(config, {.clock = &router->clock(), .random = &router->random()});
  if (!policy.ok()) std::abort();
  const uint32_t vnodes = (*policy)->ring_virtual_nodes();
  std::shared_ptr<const CandidateSet> set = CandidateSet::Build(
      members, vnodes == 0 ? nullptr : HashRing::Build(members, vnodes), std::make_shared<LegLoad>());
  const std::string prompt(1024, 'p');
  RouteRequest request{.text = prompt, .routing_key = "session-42"};
  for (auto _ : state) {
    absl::StatusOr<size_t> chosen = (*policy)->Select(request, *set);
    benchmark::DoNotOptimize(*chosen);
  }
  state.SetItemsProcessed(state.iterations());
}

// Registering `n` workers one at a time (each AddWorker publishes a new
// snapshot). Timed once per size: the interesting number is the total.
void BM_AddWorkers(benchmark::State& state, PolicyKind kind) {
  for (auto _ : state) {
    std::unique_ptr<Router> router = MakeFleetRouter(kind, static_cast<int>(state.range(0)));
    benchmark::DoNotOptimize(router.get());
    state.PauseTiming();
    router.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

#define SMG_SELECT_BENCHMARK(kind)                                                                  \
  BENCHMARK_CAPTURE(BM_Select, kind, PolicyKind::kind)->RangeMultiplier(8)->Range(8, 4096);         \
  BENCHMARK_CAPTURE(BM_SelectOnly, kind, PolicyKind::kind)->RangeMultiplier(8)->Range(8, 4096);     \
  BENCHMARK_CAPTURE(BM_PolicySelect, kind, PolicyKind::kind)->RangeMultiplier(8)->Range(8, 4096);   \
  BENCHMARK_CAPTURE(BM_AddWorkers, kind, PolicyKind::kind)->Arg(512)->Arg(4096)->Iterations(1)->Unit(benchmark::kMillisecond)

#define SMG_SELECT_THREADS_BENCHMARK(kind) \
  BENCHMARK_CAPTURE(BM_SelectThreads, kind, PolicyKind::kind)->Threads(1)->Threads(2)->UseRealTime()

SMG_SELECT_BENCHMARK(kRandom);
SMG_SELECT_BENCHMARK(kRoundRobin);
SMG_SELECT_BENCHMARK(kPowerOfTwo);
SMG_SELECT_BENCHMARK(kCacheAware);
SMG_SELECT_BENCHMARK(kConsistentHash);
SMG_SELECT_BENCHMARK(kPrefixHash);
SMG_SELECT_THREADS_BENCHMARK(kRandom);
SMG_SELECT_THREADS_BENCHMARK(kRoundRobin);
SMG_SELECT_THREADS_BENCHMARK(kPowerOfTwo);
SMG_SELECT_THREADS_BENCHMARK(kCacheAware);
SMG_SELECT_THREADS_BENCHMARK(kConsistentHash);

}  // namespace
}  // namespace smg
