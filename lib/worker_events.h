// The link from workers back to their router.
//
// A worker's state can change where the router is not on the stack: a ticket
// finishing on another thread trips the worker's breaker. The worker then
// tells its router, through this object, so the router republishes the
// model's snapshot (routability changed) and runs the host's transition
// callbacks. Workers and outstanding tickets may outlive the router, so the
// link is shared and the router detaches it when it is destroyed; a detached
// link ignores everything.
#ifndef SMGCORE_LIB_WORKER_EVENTS_H_
#define SMGCORE_LIB_WORKER_EVENTS_H_

#include <functional>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "smgcore/circuit_breaker.h"
#include "smgcore/health.h"

namespace smg {

class Router;
class Worker;

class WorkerEvents {
 public:
  using BreakerCallback = std::function<void(const Worker&, BreakerTransition)>;
  using HealthCallback = std::function<void(const Worker&, HealthTransition)>;

  WorkerEvents(Router* router, BreakerCallback on_breaker, HealthCallback on_health)
      : router_(router), on_breaker_(std::move(on_breaker)), on_health_(std::move(on_health)) {}

  // Called by the router's destructor: no event reaches it afterwards, and
  // Detach() waits for events in progress.
  void Detach();

  // The worker's routability may have changed: republish its model.
  // Takes the router's registry lock; must not be called with it held.
  void RoutabilityChanged(const Worker& worker);

  // Runs the host's callbacks, with no smgcore lock held.
  void BreakerTransitioned(const Worker& worker, BreakerTransition t);
  void HealthTransitioned(const Worker& worker, HealthTransition t);

 private:
  bool attached() const;

  mutable absl::Mutex mu_;
  Router* router_ ABSL_GUARDED_BY(mu_);
  const BreakerCallback on_breaker_;
  const HealthCallback on_health_;
};

}  // namespace smg

#endif  // SMGCORE_LIB_WORKER_EVENTS_H_
