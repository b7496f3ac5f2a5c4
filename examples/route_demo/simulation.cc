#include "route_demo/simulation.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <limits>
#include <memory>
#include <queue>
#include <utility>

#include "absl/strings/str_cat.h"
#include "smgcore/clock.h"
#include "smgcore/outcome.h"
#include "smgcore/random.h"
#include "smgcore/request.h"
#include "smgcore/ticket.h"
#include "smgcore/worker.h"

namespace route_demo {
namespace {

constexpr int64_t kNanosPerMilli = 1'000'000;
// The port prefill workers announce for the KV hand-off (SGLang's default).
constexpr uint16_t kBootstrapPort = 8998;
constexpr size_t kNoWorker = static_cast<size_t>(-1);

int64_t MillisToNanos(double ms) {
  return static_cast<int64_t>(std::llround(ms * static_cast<double>(kNanosPerMilli)));
}

// A ticket due to finish: ordered by time, then by arrival for determinism.
struct PendingFinish {
  int64_t at_nanos = 0;
  size_t request = 0;
  size_t worker = 0;         // index in the (prefill) fleet
  size_t decode_worker = 0;  // index in the decode fleet, or kNoWorker
  bool operator>(const PendingFinish& o) const {
    return at_nanos != o.at_nanos ? at_nanos > o.at_nanos : request > o.request;
  }
};

// The fleet of one leg: worker ids mapped to dense indexes.
struct Fleet {
  std::vector<size_t> index_by_id;

  void Add(smg::WorkerId id, size_t index) {
    if (index_by_id.size() <= id) index_by_id.resize(id + 1, kNoWorker);
    index_by_id[id] = index;
  }
  size_t IndexOf(smg::WorkerId id) const {
    return id < index_by_id.size() ? index_by_id[id] : kNoWorker;
  }
};

class Simulator {
 public:
  Simulator(const Workload& workload, const PolicyRun& run, const SimConfig& config)
      : workload_(workload),
        run_(run),
        config_(config),
        pd_(run.options.pd_mode),
        random_(config.seed),
        tickets_(workload.requests.size()),
        caches_(config.workers, PrefixCache(config.cache_blocks)),
        in_flight_(config.workers, 0) {
    result_.label = run.label;
    result_.note = run.note;
    result_.routed_per_worker.assign(config.workers, 0);
    result_.peak_in_flight.assign(config.workers, 0);
    if (pd_) result_.decode_routed_per_worker.assign(config.workers, 0);
  }

  absl::StatusOr<RunResult> Run() {
    absl::StatusOr<std::unique_ptr<smg::Router>> router =
        smg::Router::Create(run_.options, {.clock = &clock_, .random = &random_});
    if (!router.ok()) return router.status();
    router_ = *std::move(router);
    if (absl::Status s = RegisterFleet(); !s.ok()) return s;

    next_maintenance_nanos_ = MaintenanceIntervalNanos();
    int64_t arrival = 0;
    for (size_t i = 0; i < workload_.requests.size(); ++i) {
      // Arrivals never go back in time, even if a trace is not sorted.
      arrival = std::max(arrival, ArrivalNanos(i));
      AdvanceTo(arrival);
      Route(i);
    }
    Drain();
    CollectPolicyStats();
    return std::move(result_);
  }

 private:
  // Regular workers, or in PD mode as many prefill (with a bootstrap port)
  // and decode workers, all on the default model.
  absl::Status RegisterFleet() {
    for (size_t i = 0; i < config_.workers; ++i) {
      smg::WorkerSpec spec;
      spec.url = WorkerUrl(i);
      if (pd_) {
        spec.type = smg::WorkerType::kPrefill;
        spec.bootstrap_port = kBootstrapPort;
      }
      absl::StatusOr<smg::WorkerId> id = router_->AddWorker(spec);
      if (!id.ok()) return id.status();
      fleet_.Add(*id, i);
    }
    if (!pd_) return absl::OkStatus();
    for (size_t i = 0; i < config_.workers; ++i) {
      smg::WorkerSpec spec;
      spec.url = WorkerUrl(config_.workers + i);
      spec.type = smg::WorkerType::kDecode;
      absl::StatusOr<smg::WorkerId> id = router_->AddWorker(spec);
      if (!id.ok()) return id.status();
      decode_fleet_.Add(*id, i);
    }
    return absl::OkStatus();
  }

  int64_t ArrivalNanos(size_t i) const {
    const DemoRequest& r = workload_.requests[i];
    if (r.arrival_ms.has_value()) return *r.arrival_ms * kNanosPerMilli;
    return MillisToNanos(static_cast<double>(i) * config_.arrival_gap_ms);
  }

  // Processes, in time order, every finish and maintenance pass due by `t`,
  // then sets the clock to `t`.
  void AdvanceTo(int64_t t) {
    while (true) {
      const int64_t next_finish =
          finishes_.empty() ? std::numeric_limits<int64_t>::max() : finishes_.top().at_nanos;
      if (next_maintenance_nanos_ <= t && next_maintenance_nanos_ <= next_finish) {
        clock_.Set(next_maintenance_nanos_);
        router_->RunMaintenance();
        next_maintenance_nanos_ += MaintenanceIntervalNanos();
        continue;
      }
      if (next_finish > t) break;
      const PendingFinish f = finishes_.top();
      finishes_.pop();
      clock_.Set(f.at_nanos);
      Finish(f);
    }
    clock_.Set(t);
  }

  // Finishes every ticket still in flight, in time order.
  void Drain() {
    while (!finishes_.empty()) AdvanceTo(finishes_.top().at_nanos);
  }

  int64_t MaintenanceIntervalNanos() const {
    return MillisToNanos(static_cast<double>(config_.maintenance_interval_ms));
  }

  void Finish(const PendingFinish& f) {
    tickets_[f.request].Finish(smg::Outcome::Status(200)).IgnoreError();
    --in_flight_[f.worker];
  }

  smg::RouteRequest MakeRouteRequest(const DemoRequest& r) const {
    smg::RouteRequest req;
    req.text = r.text;
    req.tokens = r.tokens;
    req.routing_key = r.routing_key;
    return req;
  }

  void Route(size_t i) {
    const DemoRequest& r = workload_.requests[i];
    const smg::RouteRequest req = MakeRouteRequest(r);
    const auto start = std::chrono::steady_clock::now();
    absl::StatusOr<smg::Ticket> ticket = router_->Select(req);
    const auto stop = std::chrono::steady_clock::now();
    result_.select_nanos +=
        std::chrono::duration_cast<std::chrono::nanoseconds>(stop - start).count();
    if (!ticket.ok()) {
      if (result_.failed++ == 0) result_.first_error = ticket.status().ToString();
      return;
    }
    const size_t worker = fleet_.IndexOf(ticket->worker().id());
    const size_t decode_worker = pd_ ? decode_fleet_.IndexOf(ticket->decode().id()) : kNoWorker;
    if (worker == kNoWorker || (pd_ && decode_worker == kNoWorker)) {
      // Cannot happen with a correct router: the fleet is all it knows.
      if (result_.failed++ == 0) result_.first_error = "Select() returned an unknown worker";
      return;
    }
    if (pd_ && result_.samples.size() < config_.sample_decisions) KeepSample(*ticket);

    const uint64_t cached = caches_[worker].ServeAndInsert(r.blocks);
    result_.routed++;
    result_.prompt_units += r.prompt_units;
    result_.cached_units += cached;
    result_.routed_per_worker[worker]++;
    if (decode_worker != kNoWorker) result_.decode_routed_per_worker[decode_worker]++;
    result_.peak_in_flight[worker] = std::max(result_.peak_in_flight[worker], ++in_flight_[worker]);

    tickets_[i] = *std::move(ticket);
    finishes_.push({.at_nanos = clock_.NowNanos() + ServiceNanos(r, cached),
                    .request = i,
                    .worker = worker,
                    .decode_worker = decode_worker});
  }

  // Work proportional to the prompt the worker must compute plus the tokens
  // it generates: cache hits shorten requests, so good routing also lowers
  // in-flight load.
  int64_t ServiceNanos(const DemoRequest& r, uint64_t cached_units) const {
    const double uncached_tokens =
        static_cast<double>(r.prompt_units - cached_units) * workload_.tokens_per_unit;
    const double tokens = uncached_tokens + static_cast<double>(r.output_tokens);
    return std::max<int64_t>(1, MillisToNanos(tokens * kServiceMsPerToken));
  }

  void KeepSample(const smg::Ticket& t) {
    result_.samples.push_back({.prefill_url = t.prefill().url(),
                               .decode_url = t.decode().url(),
                               .bootstrap_host = t.bootstrap_host(),
                               .bootstrap_port = t.bootstrap_port(),
                               .bootstrap_room = t.bootstrap_room()});
  }

  void CollectPolicyStats() {
    absl::StatusOr<smg::ModelStats> stats =
        router_->GetModelStats(router_->options().default_model);
    if (!stats.ok()) return;
    const smg::WorkerType leg = pd_ ? smg::WorkerType::kPrefill : smg::WorkerType::kRegular;
    result_.policy_stats = stats->policy[static_cast<int>(leg)];
  }

  const Workload& workload_;
  const PolicyRun& run_;
  const SimConfig& config_;
  const bool pd_;

  smg::ManualClock clock_;
  smg::SeededRandom random_;
  std::unique_ptr<smg::Router> router_;
  Fleet fleet_;
  Fleet decode_fleet_;

  // Indexed by request: the ticket it holds until it finishes.
  std::vector<smg::Ticket> tickets_;
  std::priority_queue<PendingFinish, std::vector<PendingFinish>, std::greater<>> finishes_;
  int64_t next_maintenance_nanos_ = 0;

  // Indexed by (prefill) worker.
  std::vector<PrefixCache> caches_;
  std::vector<int64_t> in_flight_;

  RunResult result_;
};

}  // namespace

std::string WorkerUrl(size_t index) {
  constexpr size_t kHostsPerSubnet = 254;
  return absl::StrCat("http://10.0.", index / kHostsPerSubnet, ".", index % kHostsPerSubnet + 1,
                      ":30000");
}

absl::StatusOr<RunResult> Simulate(const Workload& workload, const PolicyRun& run,
                                   const SimConfig& config) {
  Simulator simulator(workload, run, config);
  return simulator.Run();
}

}  // namespace route_demo
