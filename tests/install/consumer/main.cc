// Routes one request through an installed smgcore; exits 0 on success.
#include <cstdio>

#include "smgcore/smgcore.h"

int main() {
  smg::RouterOptions options;
  options.policies.policy.kind = smg::PolicyKind::kCacheAware;
  auto router = smg::Router::Create(options);
  if (!router.ok()) return 1;
  smg::WorkerSpec spec;
  spec.url = "http://127.0.0.1:30000";
  if (!(*router)->AddWorker(spec).ok()) return 2;
  auto ticket = (*router)->Select({.text = "hello from outside"});
  if (!ticket.ok()) return 3;
  std::printf("smgcore %s routed to %s\n", SMGCORE_VERSION_STRING, ticket->worker().url().c_str());
  return ticket->Finish(smg::Outcome::Ok()).ok() ? 0 : 4;
}
