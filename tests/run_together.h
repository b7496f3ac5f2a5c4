// Test helper: threads whose work overlaps.
#ifndef SMGCORE_TESTS_RUN_TOGETHER_H_
#define SMGCORE_TESTS_RUN_TOGETHER_H_

#include <atomic>
#include <thread>
#include <vector>

namespace smg {
namespace testing_util {

// RunTogether()
//
// Starts `threads` threads; each waits until all of them have started, then
// runs body(t) with its index t in [0, threads). Returns once every thread
// has finished. Starting them together makes their calls overlap instead of
// running one thread after another as each is created.
template <typename Body>
void RunTogether(int threads, Body body) {
  std::atomic<int> ready{0};
  std::vector<std::thread> pool;
  pool.reserve(static_cast<size_t>(threads));
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      ready.fetch_add(1);
      while (ready.load() < threads) std::this_thread::yield();
      body(t);
    });
  }
  for (std::thread& th : pool) th.join();
}

}  // namespace testing_util
}  // namespace smg

#endif  // SMGCORE_TESTS_RUN_TOGETHER_H_
