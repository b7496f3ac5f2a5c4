// The cost of the C ABI: the same selection + finish through the C++ API
// (Router::Select, Ticket::Finish) and through smg_router_select /
// smg_ticket_finish, on routers built with the same options and workers.
// The difference per pair is what the C boundary adds (handle check, request
// conversion, ticket placement, selection fill).
//
//   build/release/bench/capi_benchmark --benchmark_format=json
#include <cstdlib>
#include <memory>
#include <string>

#include "benchmark/benchmark.h"
#include "smgcore/router.h"
#include "smgcore/smgcore_c.h"

namespace smg {
namespace {

constexpr int kWorkers = 8;

std::string WorkerUrl(int i) { return "http://10.0.0." + std::to_string(i) + ":30000"; }

std::unique_ptr<Router> MakeCxxRouter(PolicyKind kind, bool pd) {
  RouterOptions options;
  options.policies.policy.kind = kind;
  options.pd_mode = pd;
  std::unique_ptr<Router> router = *Router::Create(options);
  for (int i = 0; i < kWorkers; ++i) {
    WorkerSpec spec;
    spec.url = WorkerUrl(i);
    if (pd) spec.type = i % 2 == 0 ? WorkerType::kPrefill : WorkerType::kDecode;
    if (!router->AddWorker(spec).ok()) std::abort();
  }
  return router;
}

smg_router_t* MakeCRouter(uint8_t kind, bool pd) {
  smg_router_options_t* options = nullptr;
  smg_policy_config_t* policy = nullptr;
  smg_router_t* router = nullptr;
  if (smg_router_options_create(&options) != SMG_OK ||
      smg_policy_config_create(kind, &policy, nullptr) != SMG_OK ||
      smg_router_options_set_policy(options, nullptr, 0, SMG_WORKER_REGULAR, policy, nullptr) !=
          SMG_OK ||
      smg_router_options_set_int(options, SMG_ROUTER_OPT_PD_MODE, pd ? 1 : 0, nullptr) != SMG_OK ||
      smg_router_create(options, &router, nullptr) != SMG_OK) {
    std::abort();
  }
  smg_policy_config_destroy(policy);
  smg_router_options_destroy(options);
  for (int i = 0; i < kWorkers; ++i) {
    const std::string url = WorkerUrl(i);
    smg_worker_spec_t spec;
    smg_worker_spec_init(&spec);
    spec.url = smg_str_t{url.data(), url.size()};
    if (pd) spec.type = i % 2 == 0 ? SMG_WORKER_PREFILL : SMG_WORKER_DECODE;
    if (smg_router_add_worker(router, &spec, nullptr, nullptr) != SMG_OK) std::abort();
  }
  return router;
}

void BM_CxxSelect(benchmark::State& state, PolicyKind kind, bool pd) {
  std::unique_ptr<Router> router = MakeCxxRouter(kind, pd);
  const std::string prompt(1024, 'p');
  const RouteRequest request{.text = prompt};
  for (auto _ : state) {
    absl::StatusOr<Ticket> ticket = router->Select(request);
    benchmark::DoNotOptimize(ticket->worker().url().data());
    ticket->Finish(Outcome::Ok()).IgnoreError();
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_CSelect(benchmark::State& state, uint8_t kind, bool pd) {
  smg_router_t* router = MakeCRouter(kind, pd);
  const std::string prompt(1024, 'p');
  smg_request_t request;
  smg_request_init(&request);
  request.text = smg_str_t{prompt.data(), prompt.size()};
  smg_ticket_t ticket = SMG_TICKET_INIT;
  smg_selection_t selection;
  for (auto _ : state) {
    if (smg_router_select(router, &request, &ticket, &selection, nullptr) != SMG_OK) std::abort();
    benchmark::DoNotOptimize(selection.url.data);
    smg_ticket_finish(&ticket, 200, nullptr);
  }
  state.SetItemsProcessed(state.iterations());
  smg_router_destroy(router);
}

BENCHMARK_CAPTURE(BM_CxxSelect, round_robin, PolicyKind::kRoundRobin, false);
BENCHMARK_CAPTURE(BM_CSelect, round_robin, SMG_POLICY_ROUND_ROBIN, false);
BENCHMARK_CAPTURE(BM_CxxSelect, cache_aware, PolicyKind::kCacheAware, false);
BENCHMARK_CAPTURE(BM_CSelect, cache_aware, SMG_POLICY_CACHE_AWARE, false);
BENCHMARK_CAPTURE(BM_CxxSelect, pd_round_robin, PolicyKind::kRoundRobin, true);
BENCHMARK_CAPTURE(BM_CSelect, pd_round_robin, SMG_POLICY_ROUND_ROBIN, true);

}  // namespace
}  // namespace smg
