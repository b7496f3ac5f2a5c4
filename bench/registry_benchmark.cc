// The registry's read side, with 1 and 2 threads: loading the published
// snapshot and finding a model in it (what every Router::Select() starts
// with), and finishing a ticket (taking the request off the worker's load and
// recording its outcome in the circuit breaker).
//
//   build/release/bench/registry_benchmark --benchmark_format=json
#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bench_fleet.h"
#include "benchmark/benchmark.h"
#include "model_pool.h"
#include "snapshot_cell.h"
#include "thread_batch.h"
#include "smgcore/router.h"
#include "thread_slot.h"

namespace smg {
namespace {

std::shared_ptr<const RouterSnapshot> MakeSnapshot() {
  auto snapshot = std::make_shared<RouterSnapshot>();
  for (int m = 0; m < 8; ++m) snapshot->models["model-" + std::to_string(m)] = std::make_shared<ModelView>();
  return snapshot;
}

// The snapshot, published the way Router does it (internal::SnapshotCell).
std::unique_ptr<internal::SnapshotCell<RouterSnapshot>> g_cell;

void BM_SnapshotRead(benchmark::State& state) {
  if (state.thread_index() == 0) g_cell = std::make_unique<internal::SnapshotCell<RouterSnapshot>>(MakeSnapshot());
  const std::string model = "model-3";
  for (auto _ : state) {
    internal::SnapshotCell<RouterSnapshot>::ReadGuard snapshot = g_cell->Read();
    auto it = snapshot->models.find(model);
    benchmark::DoNotOptimize(it->second.get());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SnapshotRead)->Threads(1)->Threads(2)->UseRealTime();

// The same read from threads numbered past the cell's 64 own slots (a
// process with more live threads than that). First argument: 0, their slots
// are in a block the cell allocated; 1, they are past the cell's
// `max_threads`, so a guard takes an owning reference under the cell's
// mutex (the only way before blocks). Second argument: readers at once. The
// readers are threads started after 64 others that hold their numbers; each
// iteration times a batch of kBatch reads on each (manual time, the slowest
// reader's: starting the threads is not timed). `ns_per_read` is wall time
// per read per reader.
void BM_SnapshotReadPastTheCellsSlots(benchmark::State& state) {
  using Cell = internal::SnapshotCell<RouterSnapshot>;
  constexpr int kBatch = 10000;
  const auto readers = static_cast<size_t>(state.range(1));
  Cell cell(MakeSnapshot(), state.range(0) == 0 ? Cell::kDefaultMaxThreads : Cell::kSlots);
  const internal::SlotNumberHolders holders(Cell::kSlots);
  const std::string model = "model-3";
  double total_seconds = 0;
  for (auto _ : state) {
    const double slowest = bench::SlowestThreadSeconds(
        readers,
        [&](size_t) { Cell::ReadGuard warm = cell.Read(); },  // numbers the thread, allocates the block
        [&](size_t) {
          for (int i = 0; i < kBatch; ++i) {
            Cell::ReadGuard snapshot = cell.Read();
            auto it = snapshot->models.find(model);
            benchmark::DoNotOptimize(it->second.get());
          }
        });
    total_seconds += slowest;
    state.SetIterationTime(slowest);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kBatch * readers));
  state.counters["ns_per_read"] = total_seconds * 1e9 / static_cast<double>(state.iterations() * kBatch);
}
BENCHMARK(BM_SnapshotReadPastTheCellsSlots)->Args({0, 1})->Args({0, 2})->Args({1, 1})->Args({1, 2})->UseManualTime();

// The same read through std::atomic<std::shared_ptr> (what Router used
// before the cell): every reader writes the control block's line.
std::atomic<std::shared_ptr<const RouterSnapshot>> g_atomic_snapshot;

void BM_AtomicSharedPtrRead(benchmark::State& state) {
  if (state.thread_index() == 0) g_atomic_snapshot.store(MakeSnapshot());
  const std::string model = "model-3";
  for (auto _ : state) {
    std::shared_ptr<const RouterSnapshot> snapshot = g_atomic_snapshot.load(std::memory_order_acquire);
    auto it = snapshot->models.find(model);
    benchmark::DoNotOptimize(it->second.get());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AtomicSharedPtrRead)->Threads(1)->Threads(2)->UseRealTime();

// Ticket::Finish alone: a batch of tickets is selected untimed, then
// finished timed (the pause is amortized over the batch).
void BM_TicketFinish(benchmark::State& state) {
  constexpr int kBatch = 1024;
  std::unique_ptr<Router> router = bench::MakeFleetRouter(PolicyKind::kRoundRobin, static_cast<int>(state.range(0)));
  RouteRequest request{.text = "hello"};
  std::vector<Ticket> tickets;
  tickets.reserve(kBatch);
  int64_t finished = 0;
  for (auto _ : state) {
    state.PauseTiming();
    tickets.clear();
    for (int i = 0; i < kBatch; ++i) tickets.push_back(*router->Select(request));
    state.ResumeTiming();
    for (Ticket& t : tickets) t.Finish(Outcome::Ok()).IgnoreError();
    finished += kBatch;
  }
  state.SetItemsProcessed(finished);
}
BENCHMARK(BM_TicketFinish)->Arg(8)->Arg(4096);

}  // namespace
}  // namespace smg
