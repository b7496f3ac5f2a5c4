#include "model_pool.h"

#include <algorithm>

namespace smg {

absl::StatusOr<std::shared_ptr<ModelPool>> ModelPool::Create(std::string model,
                                                             const PolicySet& policies,
                                                             const PolicyContext& context) {
  std::shared_ptr<ModelPool> pool(new ModelPool(std::move(model)));
  const PolicyConfig* configs[kWorkerTypeCount] = {
      &policies.policy,
      policies.prefill ? &*policies.prefill : &policies.policy,
      policies.decode ? &*policies.decode : &policies.policy,
  };
  for (size_t i = 0; i < kWorkerTypeCount; ++i) {
    absl::StatusOr<PolicyPtr> policy = CreatePolicy(*configs[i], context);
    if (!policy.ok()) return policy.status();
    pool->legs_[i].policy = *std::move(policy);
  }
  return pool;
}

size_t ModelPool::size() const {
  size_t n = 0;
  for (const Leg& leg : legs_) n += leg.members.size();
  return n;
}

void ModelPool::Add(const WorkerPtr& worker) {
  Leg& leg = legs_[Index(worker->type())];
  worker->leg_in_flight_ = leg.in_flight;
  // Ids grow monotonically, so appending keeps the list ordered by id.
  leg.members.push_back(worker);
}

void ModelPool::Remove(const Worker& worker) {
  Leg& leg = legs_[Index(worker.type())];
  auto it = std::lower_bound(leg.members.begin(), leg.members.end(), worker.id(),
                             [](const WorkerPtr& w, WorkerId id) { return w->id() < id; });
  if (it != leg.members.end() && (*it)->id() == worker.id()) leg.members.erase(it);
  leg.policy->OnWorkerRemoved(worker.id());
}

std::shared_ptr<const ModelView> ModelPool::BuildView() {
  auto view = std::make_shared<ModelView>();
  view->pool = shared_from_this();
  for (size_t i = 0; i < kWorkerTypeCount; ++i) {
    Leg& leg = legs_[i];
    const uint32_t vnodes = leg.policy->ring_virtual_nodes();
    if (vnodes == 0 || leg.members.empty()) {
      view->legs[i] = CandidateSet::Build(leg.members, nullptr, leg.in_flight);
    } else {
      // Made by the first selection on this view that needs it.
      auto make_ring = [latest = leg.latest_ring, members = leg.members, vnodes] {
        std::shared_ptr<const HashRing> ring = HashRing::Update(latest->load(), members, vnodes);
        latest->store(ring);
        return ring;
      };
      view->legs[i] = CandidateSet::BuildWithLazyRing(leg.members, std::move(make_ring), leg.in_flight);
    }
    view->members[i] = leg.members.size();
    ModelView::Unavailable& why = view->unavailable[i];
    for (const WorkerPtr& w : leg.members) {
      const WorkerHealth health = w->health();
      if (health == WorkerHealth::kDraining) {
        ++why.draining;
      } else if (health != WorkerHealth::kReady) {
        ++why.not_ready;
      } else if (!w->breaker().accepting()) {
        ++why.breaker;
        if (w->breaker_state() == BreakerState::kOpen) {
          view->next_reopen_nanos =
              std::min(view->next_reopen_nanos, w->breaker().open_until_nanos());
        }
      }
    }
  }
  return view;
}

void ModelPool::ForEachMember(const std::function<void(const WorkerPtr&)>& fn) const {
  for (const Leg& leg : legs_) {
    for (const WorkerPtr& w : leg.members) fn(w);
  }
}

}  // namespace smg
