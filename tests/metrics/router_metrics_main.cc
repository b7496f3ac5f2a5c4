// Drives a router through a scripted sequence (ManualClock, SeededRandom)
// and prints Router::ExportMetrics(): check_router_metrics.py parses it with
// prometheus_client and checks the values the script implies.
#include <cstdio>
#include <string>
#include <vector>

#include "smgcore/admission_metrics.h"
#include "smgcore/retry.h"
#include "smgcore/router.h"

namespace {

int Fail(const char* what) {
  std::fprintf(stderr, "router_metrics_main: %s\n", what);
  return 1;
}

}  // namespace

int main() {
  smg::ManualClock clock;
  smg::SeededRandom random(5);
  smg::RouterOptions options;
  options.policies.policy.kind = smg::PolicyKind::kRoundRobin;
  options.model_policies["llama"].policy.kind = smg::PolicyKind::kCacheAware;
  options.circuit_breaker.consecutive_failures = 2;
  options.circuit_breaker.failure_rate_threshold = 0;
  options.retry.jitter = 0;
  options.tenant_limits = smg::TenantLimiterOptions{.default_tenant = {.requests_per_minute = 1000}};
  auto created = smg::Router::Create(options, {&clock, &random});
  if (!created.ok()) return Fail("create");
  smg::Router& router = **created;

  // default model: a and b ready, c pending.
  smg::WorkerSpec spec;
  spec.url = "http://a:1";
  if (!router.AddWorker(spec).ok()) return Fail("add a");
  spec.url = "http://b:1";
  if (!router.AddWorker(spec).ok()) return Fail("add b");
  spec.url = "http://c:1";
  spec.health = smg::WorkerHealth::kPending;
  const smg::WorkerId c = *router.AddWorker(spec);

  // Round robin over a, b: a succeeds, b fails twice and its breaker opens;
  // then only a is left.
  for (int i = 0; i < 6; ++i) {
    auto t = router.Select({});
    if (!t.ok()) return Fail("select default");
    const bool on_b = t->worker().url() == "http://b:1";
    if (!t->Finish(on_b ? smg::Outcome::Status(503) : smg::Outcome::Ok()).ok()) return Fail("finish");
  }
  // c passes two probes and joins; a 400 is a success for the breaker.
  router.ReportProbe(c, true).IgnoreError();
  router.ReportProbe(c, true).IgnoreError();
  router.ReportProbe(c, false).IgnoreError();
  {
    auto t = router.Select({});  // round robin over a, c
    if (!t.ok() || !t->Finish(smg::Outcome::Status(400)).ok()) return Fail("400");
  }
  auto held = router.Select({});  // stays in flight
  if (!held.ok()) return Fail("held");
  {
    auto cancelled = router.Select({});
    if (!cancelled.ok()) return Fail("cancelled");
  }  // destroyed unfinished: cancelled

  // One retry: a 503, then a success elsewhere.
  smg::RetryState attempts(router);
  auto first = attempts.Select({});
  if (!first.ok() || !attempts.Finish(*first, smg::Outcome::Status(503)).retry()) return Fail("retry");
  auto second = attempts.Select({});
  if (!second.ok()) return Fail("retry select");
  attempts.Finish(*second, smg::Outcome::Ok());

  // llama: cache-aware, one worker, the same 100-byte prompt three times.
  spec = {};
  spec.url = "http://llama:1";
  spec.model = "llama";
  if (!router.AddWorker(spec).ok()) return Fail("add llama");
  const std::string prompt(100, 'x');
  for (int i = 0; i < 3; ++i) {
    smg::RouteRequest req;
    req.model = "llama";
    req.text = prompt;
    auto t = router.Select(req);
    if (!t.ok() || !t->Finish(smg::Outcome::Ok()).ok()) return Fail("llama");
  }

  // A host-owned limiter exported with the router: one slot, one request
  // queued for 1.5 s then admitted, one rejected on a full queue.
  smg::AdmissionMetrics admission(router.metrics());
  std::shared_ptr<smg::ConcurrencyLimiter> limiter =
      *smg::ConcurrencyLimiter::Create({.max_in_flight = 1, .max_queue = 1}, &clock);
  admission.Track("chat", std::shared_ptr<const smg::ConcurrencyLimiter>(limiter));
  if (!limiter->TryAcquire()) return Fail("limiter");
  limiter->AcquireAsync([](smg::AdmissionResult) {});
  limiter->AcquireAsync([](smg::AdmissionResult) {});
  clock.Advance(absl::Milliseconds(1500));
  limiter->Release();

  const std::string text = router.ExportMetrics();
  std::fwrite(text.data(), 1, text.size(), stdout);
  return 0;
}
