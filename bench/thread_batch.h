// File: bench/thread_batch.h
//
// Timing a batch of work on freshly started threads that begin together:
// for benchmarks whose threads must be started after something else (e.g.
// after other threads took the low slot numbers), which Google Benchmark's
// own ->Threads() cannot arrange. Used with ->UseManualTime().
#ifndef SMGCORE_BENCH_THREAD_BATCH_H_
#define SMGCORE_BENCH_THREAD_BATCH_H_

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <thread>
#include <vector>

namespace smg::bench {

// SlowestThreadSeconds()
//
// Starts `threads` threads. Thread t runs prepare(t) untimed, waits until
// every thread has prepared, then runs work(t), timed on its own clock.
// Returns the slowest thread's seconds (the batch's wall time).
template <typename Prepare, typename Work>
double SlowestThreadSeconds(size_t threads, Prepare prepare, Work work) {
  std::vector<double> seconds(threads, 0);
  std::atomic<size_t> ready{0};
  std::vector<std::thread> pool;
  pool.reserve(threads);
  for (size_t t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      prepare(t);
      ready.fetch_add(1);
      while (ready.load() != threads) {
      }
      const auto start = std::chrono::steady_clock::now();
      work(t);
      seconds[t] = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    });
  }
  for (std::thread& th : pool) th.join();
  return *std::max_element(seconds.begin(), seconds.end());
}

}  // namespace smg::bench

#endif  // SMGCORE_BENCH_THREAD_BATCH_H_
