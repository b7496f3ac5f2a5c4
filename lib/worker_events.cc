#include "worker_events.h"

#include "smgcore/router.h"

namespace smg {

void WorkerEvents::Detach() {
  absl::MutexLock lock(&mu_);
  router_ = nullptr;
}

bool WorkerEvents::attached() const {
  absl::ReaderMutexLock lock(&mu_);
  return router_ != nullptr;
}

void WorkerEvents::RoutabilityChanged(const Worker& worker) {
  // Held shared for the whole republish, so Detach() (the router's
  // destructor) cannot complete while the router is being used.
  absl::ReaderMutexLock lock(&mu_);
  if (router_ != nullptr) router_->OnWorkerStateChanged(worker);
}

void WorkerEvents::BreakerTransitioned(const Worker& worker, BreakerTransition t) {
  if (on_breaker_ && attached()) on_breaker_(worker, t);
}

void WorkerEvents::HealthTransitioned(const Worker& worker, HealthTransition t) {
  if (on_health_ && attached()) on_health_(worker, t);
}

}  // namespace smg
