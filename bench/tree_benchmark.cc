// Raw radix-tree operations: insert, match, fused match-and-insert and
// eviction, for text (bytes) and token (uint32, page 16) trees, with prompts
// of 1 KiB, 8 KiB and 64 KiB of text (token prompts have one token per 4
// bytes: 256, 2048 and 16384 tokens).
//
// Prompts have the shared-prefix shape: 16 groups, each a system prompt of
// 3/4 of the prompt, then a unique suffix. A pool of 256 prompts is cycled.
//
//   build-release/bench/tree_benchmark --benchmark_filter=MatchAndInsert
#include <cstddef>
#include <cstdint>
#include <optional>
#include <random>
#include <vector>

#include "benchmark/benchmark.h"
#include "smgcore/radix_tree.h"
#include "thread_batch.h"
#include "thread_slot.h"

namespace smg {
namespace {

constexpr size_t kPool = 256;
constexpr size_t kGroups = 16;
constexpr size_t kWorkers = 8;

template <typename Unit>
constexpr size_t PageSize() {
  return sizeof(Unit) == 1 ? 1 : 16;
}

template <typename Unit>
Unit RandomUnit(std::mt19937_64& rng) {
  if constexpr (sizeof(Unit) == 1) {
    return static_cast<Unit>("abcdefghijklmnopqrstuvwxyz "[rng() % 27]);
  } else {
    return static_cast<Unit>(rng() % 128000);  // a modern vocabulary
  }
}

// kPool prompts of `text_bytes` bytes of text (units: bytes, or bytes/4 tokens).
template <typename Unit>
std::vector<std::vector<Unit>> MakePrompts(size_t text_bytes) {
  const size_t units = sizeof(Unit) == 1 ? text_bytes : text_bytes / 4;
  const size_t shared = units * 3 / 4;
  std::mt19937_64 rng(42);
  std::vector<std::vector<Unit>> systems(kGroups, std::vector<Unit>(shared));
  for (auto& s : systems) {
    for (Unit& u : s) u = RandomUnit<Unit>(rng);
  }
  std::vector<std::vector<Unit>> prompts;
  for (size_t i = 0; i < kPool; ++i) {
    std::vector<Unit> p = systems[i % kGroups];
    while (p.size() < units) p.push_back(RandomUnit<Unit>(rng));
    prompts.push_back(std::move(p));
  }
  return prompts;
}

TreeOptions Options(size_t page, size_t budget, bool evict_inline) {
  TreeOptions o;
  o.page_size = page;
  o.budget_units = budget;
  o.evict_inline = evict_inline;
  return o;
}

// The route-replay decision: the MRU owner when over half the key matched,
// else round robin.
TenantId Choose(const PrefixMatch& m, size_t i) {
  if (!m.owners.empty() && m.matched_units * 2 > m.key_units) return m.owners.front();
  return static_cast<TenantId>(1 + i % kWorkers);
}

void Finish(benchmark::State& state, size_t units_per_op, size_t tree_bytes, size_t tree_units) {
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * units_per_op));
  state.counters["tree_MiB"] = static_cast<double>(tree_bytes) / (1 << 20);
  state.counters["bytes_per_unit"] =
      tree_units == 0 ? 0.0 : static_cast<double>(tree_bytes) / static_cast<double>(tree_units);
}

// Insert into a tree bounded to ~32 prompts with inline eviction: the steady
// state of a router (each insert adds a suffix and evicts an old one).
template <typename Unit>
void BM_Insert(benchmark::State& state) {
  const auto prompts = MakePrompts<Unit>(static_cast<size_t>(state.range(0)));
  const size_t units = prompts[0].size();
  RadixTree<Unit> tree(Options(PageSize<Unit>(), 32 * units, /*evict_inline=*/true));
  size_t i = 0;
  for (auto _ : state) {
    tree.Insert(prompts[i % kPool], static_cast<TenantId>(1 + i % kWorkers));
    ++i;
  }
  Finish(state, units * sizeof(Unit), tree.memory_bytes(), tree.stored_units());
}

// Match against a tree holding the whole pool (full-length hits).
template <typename Unit>
void BM_Match(benchmark::State& state) {
  const auto prompts = MakePrompts<Unit>(static_cast<size_t>(state.range(0)));
  const size_t units = prompts[0].size();
  RadixTree<Unit> tree(Options(PageSize<Unit>(), 0, false));
  for (size_t i = 0; i < kPool; ++i) tree.Insert(prompts[i], static_cast<TenantId>(1 + i % kWorkers));
  size_t i = 0;
  for (auto _ : state) {
    PrefixMatch m = tree.Match(prompts[i % kPool]);
    benchmark::DoNotOptimize(m);
    ++i;
  }
  Finish(state, units * sizeof(Unit), tree.memory_bytes(), tree.stored_units());
}

// The hot path, as the cache-aware policy runs it, in the insert's bounded tree.
template <typename Unit>
void BM_MatchAndInsert(benchmark::State& state) {
  const auto prompts = MakePrompts<Unit>(static_cast<size_t>(state.range(0)));
  const size_t units = prompts[0].size();
  RadixTree<Unit> tree(Options(PageSize<Unit>(), 32 * units, /*evict_inline=*/true));
  size_t i = 0;
  for (auto _ : state) {
    auto r = tree.MatchAndInsert(prompts[i % kPool], [i](const PrefixMatch& m) { return Choose(m, i); });
    benchmark::DoNotOptimize(r);
    ++i;
  }
  Finish(state, units * sizeof(Unit), tree.memory_bytes(), tree.stored_units());
}

// Repeated prompts: the fused call finds the whole key owned and finishes
// under the shared lock.
template <typename Unit>
void BM_MatchAndInsertRepeat(benchmark::State& state) {
  const auto prompts = MakePrompts<Unit>(static_cast<size_t>(state.range(0)));
  const size_t units = prompts[0].size();
  RadixTree<Unit> tree(Options(PageSize<Unit>(), 0, false));
  for (size_t i = 0; i < kPool; ++i) tree.Insert(prompts[i], static_cast<TenantId>(1 + i % kWorkers));
  size_t i = 0;
  for (auto _ : state) {
    auto r = tree.MatchAndInsert(prompts[i % kPool], [i](const PrefixMatch& m) { return Choose(m, i); });
    benchmark::DoNotOptimize(r);
    ++i;
  }
  Finish(state, units * sizeof(Unit), tree.memory_bytes(), tree.stored_units());
}

// Evict the whole pool (256 prompts, ~272 leaves and emptied parents); the
// build is not timed. items/s counts evicted prompts.
template <typename Unit>
void BM_Evict(benchmark::State& state) {
  const auto prompts = MakePrompts<Unit>(static_cast<size_t>(state.range(0)));
  const size_t units = prompts[0].size();
  size_t evicted = 0;
  for (auto _ : state) {
    state.PauseTiming();
    RadixTree<Unit> tree(Options(PageSize<Unit>(), 0, false));
    for (size_t i = 0; i < kPool; ++i) tree.Insert(prompts[i], static_cast<TenantId>(1 + i % kWorkers));
    state.ResumeTiming();
    evicted += tree.EvictTo(0);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kPool));
  state.counters["units_evicted"] = static_cast<double>(evicted);
  (void)units;
}

// The fused call from several threads on one shared tree.
RadixTree<uint8_t>* shared_tree = nullptr;
void BM_MatchAndInsertThreads(benchmark::State& state) {
  static const auto prompts = MakePrompts<uint8_t>(8192);
  if (state.thread_index() == 0) {
    shared_tree = new RadixTree<uint8_t>(Options(1, 32 * 8192, /*evict_inline=*/true));
  }
  size_t i = static_cast<size_t>(state.thread_index()) * 7919;
  for (auto _ : state) {
    auto r = shared_tree->MatchAndInsert(prompts[i % kPool], [i](const PrefixMatch& m) { return Choose(m, i); });
    benchmark::DoNotOptimize(r);
    ++i;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  if (state.thread_index() == 0) {
    delete shared_tree;
    shared_tree = nullptr;
  }
}

// The same calls from threads numbered past the tree lock's own reader slots
// (a process with more live threads than that). First argument: 0, the
// threads are the lowest-numbered; 1, they start after kHeldNumbers others
// that hold their numbers. Second argument: threads at once. Each iteration
// times a batch of kBatch calls on each (manual time, the slowest thread's;
// starting the threads is not timed); `ns_per_call` is wall time per call
// per thread. Threads without a slot of their own cannot pin, so they hold
// the lock through every long compare (radix_tree.cc, "Long edges are
// compared unlocked").
void BM_MatchAndInsertPastTheLocksSlots(benchmark::State& state) {
  constexpr size_t kHeldNumbers = 8;
  constexpr size_t kBatch = 2000;
  static const auto prompts = MakePrompts<uint8_t>(8192);
  const auto threads = static_cast<size_t>(state.range(1));
  std::optional<internal::SlotNumberHolders> holders;
  if (state.range(0) == 1) holders.emplace(kHeldNumbers);
  RadixTree<uint8_t> tree(Options(1, 32 * 8192, /*evict_inline=*/true));
  double total_seconds = 0;
  for (auto _ : state) {
    const double slowest = bench::SlowestThreadSeconds(
        threads, [&](size_t t) { tree.Match(prompts[t * 7919 % kPool]); },  // numbers the thread
        [&](size_t t) {
          for (size_t k = 0, i = t * 7919; k < kBatch; ++k, ++i) {
            auto r = tree.MatchAndInsert(prompts[i % kPool], [i](const PrefixMatch& m) { return Choose(m, i); });
            benchmark::DoNotOptimize(r);
          }
        });
    total_seconds += slowest;
    state.SetIterationTime(slowest);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kBatch * threads));
  state.counters["ns_per_call"] = total_seconds * 1e9 / static_cast<double>(state.iterations() * kBatch);
}

#define TREE_SIZES Arg(1024)->Arg(8192)->Arg(65536)
BENCHMARK_TEMPLATE(BM_Insert, uint8_t)->TREE_SIZES;
BENCHMARK_TEMPLATE(BM_Insert, uint32_t)->TREE_SIZES;
BENCHMARK_TEMPLATE(BM_Match, uint8_t)->TREE_SIZES;
BENCHMARK_TEMPLATE(BM_Match, uint32_t)->TREE_SIZES;
BENCHMARK_TEMPLATE(BM_MatchAndInsert, uint8_t)->TREE_SIZES;
BENCHMARK_TEMPLATE(BM_MatchAndInsert, uint32_t)->TREE_SIZES;
BENCHMARK_TEMPLATE(BM_MatchAndInsertRepeat, uint8_t)->TREE_SIZES;
BENCHMARK_TEMPLATE(BM_MatchAndInsertRepeat, uint32_t)->TREE_SIZES;
BENCHMARK_TEMPLATE(BM_Evict, uint8_t)->TREE_SIZES->Iterations(50);
BENCHMARK_TEMPLATE(BM_Evict, uint32_t)->TREE_SIZES->Iterations(50);
BENCHMARK(BM_MatchAndInsertThreads)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(BM_MatchAndInsertPastTheLocksSlots)->Args({0, 1})->Args({0, 2})->Args({1, 1})->Args({1, 2})->UseManualTime();

}  // namespace
}  // namespace smg
