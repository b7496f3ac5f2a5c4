// select_finish_timing: Router::Select() + Ticket::Finish() in a plain timed
// loop, the C++ side of bench/python_select_bench.py.
//
//   select_finish_timing <policy> <workers> <iterations> <runs>
//
// Prints one JSON object: the best (minimum over `runs`) nanoseconds per
// select + finish. The router, prompt and routing key are those of
// select_benchmark (8 workers, a 1 KiB text prompt, key "session-42"), and
// the loop and timing are those of the Python script, so the two numbers
// differ only by what Python adds. Google Benchmark is not used here: its
// loop, warm-up and statistics would differ from the Python side's.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <memory>
#include <string>

#include "bench_fleet.h"
#include "smgcore/router.h"

namespace {

int Usage() {
  std::fprintf(stderr, "usage: select_finish_timing <policy> <workers> <iterations> <runs>\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) return Usage();
  const absl::StatusOr<smg::PolicyKind> kind = smg::ParsePolicyKind(argv[1]);
  const long workers = std::strtol(argv[2], nullptr, 10);
  const long iterations = std::strtol(argv[3], nullptr, 10);
  const long runs = std::strtol(argv[4], nullptr, 10);
  if (!kind.ok() || workers < 1 || workers > 65536 || iterations < 1 || runs < 1) return Usage();

  std::unique_ptr<smg::Router> router = smg::bench::MakeFleetRouter(*kind, static_cast<int>(workers));
  const std::string prompt(1024, 'p');
  const smg::RouteRequest request{.text = prompt, .routing_key = "session-42"};

  double best = std::numeric_limits<double>::infinity();
  for (long run = 0; run < runs; ++run) {
    const auto start = std::chrono::steady_clock::now();
    for (long i = 0; i < iterations; ++i) {
      absl::StatusOr<smg::Ticket> ticket = router->Select(request);
      if (!ticket.ok()) return 1;
      ticket->Finish(smg::Outcome::Ok()).IgnoreError();
    }
    const std::chrono::duration<double, std::nano> elapsed = std::chrono::steady_clock::now() - start;
    best = std::min(best, elapsed.count() / static_cast<double>(iterations));
  }
  std::printf("{\"policy\": \"%s\", \"workers\": %ld, \"ns_per_select_finish\": %.1f}\n", argv[1],
              workers, best);
  return 0;
}
