#include "smgcore/router.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "absl/container/inlined_vector.h"
#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "model_pool.h"
#include "snapshot_cell.h"
#include "url.h"
#include "worker_events.h"

namespace smg {

// A worker chosen for one leg, with the breaker probe slot it holds (0: none).
struct LegChoice {
  WorkerPtr worker;
  uint32_t probe = 0;
};

namespace {

constexpr size_t kMaxModelNameBytes = 1024;
// How many times Select() chooses again when the chosen worker's breaker
// stopped accepting after the snapshot was published (a race with the
// republish that is already under way).
constexpr int kMaxAdmissionRetries = 4;

}  // namespace

absl::StatusOr<std::unique_ptr<Router>> Router::Create(RouterOptions options, RouterDeps deps) {
  if (absl::Status s = ValidateRouterOptions(options); !s.ok()) return s;
  const Clock* clock = deps.clock != nullptr ? deps.clock : &SteadyClock::Instance();
  RandomSource* random = deps.random != nullptr ? deps.random : &DefaultRandom::Instance();
  absl::StatusOr<RetryPolicy> retry = RetryPolicy::Create(options.retry);
  if (!retry.ok()) return retry.status();
  std::unique_ptr<TenantLimiter> tenants;
  if (options.tenant_limits.has_value()) {
    absl::StatusOr<std::unique_ptr<TenantLimiter>> created =
        TenantLimiter::Create(*options.tenant_limits, clock);
    if (!created.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("tenant_limits: ", created.status().message()));
    }
    tenants = *std::move(created);
  }
  return std::unique_ptr<Router>(
      new Router(std::move(options), clock, random, *std::move(retry), std::move(tenants)));
}

Router::Router(RouterOptions options, const Clock* clock, RandomSource* random,
               RetryPolicy retry_policy, std::unique_ptr<TenantLimiter> tenant_limiter)
    : options_(std::move(options)),
      clock_(clock),
      random_(random),
      retry_policy_(std::move(retry_policy)),
      retry_budget_(options_.retry.budget ? std::make_unique<RetryBudget>(*options_.retry.budget)
                                          : nullptr),
      tenant_limiter_(std::move(tenant_limiter)),
      events_(std::make_shared<WorkerEvents>(this, options_.on_breaker_transition,
                                             options_.on_health_transition)),
      snapshot_(std::make_unique<internal::SnapshotCell<RouterSnapshot>>(
          std::make_shared<const RouterSnapshot>())) {
  metrics_.AddCollector([this](PrometheusWriter& w) { WriteMetrics(w); });
  // 1 ms .. ~33 s: SMG's backoffs run from 50 ms to a 30 s cap.
  static constexpr double kBackoffBounds[] = {0.001, 0.002, 0.004, 0.008, 0.016, 0.032,
                                              0.064, 0.128, 0.256, 0.512, 1.024, 2.048,
                                              4.096, 8.192, 16.384, 32.768};
  retry_backoff_ = *metrics_.AddHistogramFamily(
      "smg_worker_retry_backoff_seconds", "Backoff chosen before each retry, by attempt.",
      {"attempt"}, kBackoffBounds);
}

Router::~Router() {
  // Tickets and workers may outlive the router; from now on their state
  // changes no longer reach it.
  events_->Detach();
}

const PolicySet& Router::PoliciesFor(absl::string_view model) const {
  auto it = options_.model_policies.find(model);
  return it != options_.model_policies.end() ? it->second : options_.policies;
}

// --- Registry ---------------------------------------------------------------

absl::StatusOr<WorkerId> Router::AddWorker(const WorkerSpec& spec) {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<WorkerId> id = AddLocked(spec);
  if (id.ok()) PublishLocked(by_id_.at(*id)->model());
  return id;
}

absl::StatusOr<WorkerId> Router::ReplaceWorker(const WorkerSpec& spec) {
  // Validate before touching the old worker, so a bad replacement loses nothing.
  if (absl::Status s = ValidateSpec(spec); !s.ok()) return s;
  absl::MutexLock lock(&mu_);
  std::string old_model;
  if (auto it = by_url_.find(spec.url); it != by_url_.end()) {
    old_model = by_id_.at(it->second)->model();
    if (absl::Status s = RemoveLocked(it->second); !s.ok()) return s;
  }
  absl::StatusOr<WorkerId> id = AddLocked(spec);
  if (!old_model.empty()) PublishLocked(old_model);
  if (id.ok() && by_id_.at(*id)->model() != old_model) PublishLocked(by_id_.at(*id)->model());
  return id;
}

absl::Status Router::ValidateSpec(const WorkerSpec& spec) const {
  if (absl::StatusOr<std::string> host = HostOfUrl(spec.url); !host.ok()) return host.status();
  if (static_cast<uint8_t>(spec.type) >= kWorkerTypeCount) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid worker type ", static_cast<int>(spec.type)));
  }
  if (spec.health != WorkerHealth::kReady && spec.health != WorkerHealth::kPending &&
      spec.health != WorkerHealth::kNotReady) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a worker joins ready, pending or not_ready, not ", WorkerHealthName(spec.health), " (",
        static_cast<int>(spec.health), ")"));
  }
  if (spec.circuit_breaker.has_value()) {
    if (absl::Status s = ValidateCircuitBreakerOptions(*spec.circuit_breaker); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("worker ", spec.url, ": ", s.message()));
    }
  }
  if (spec.weight == 0) return absl::InvalidArgumentError("worker weight must be >= 1");
  if (spec.bootstrap_port.has_value() && spec.type != WorkerType::kPrefill) {
    return absl::InvalidArgumentError(
        absl::StrCat("bootstrap_port is only meaningful for prefill workers, not ",
                     WorkerTypeName(spec.type), " worker ", spec.url));
  }
  if (spec.model.size() > kMaxModelNameBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("model name longer than ", kMaxModelNameBytes, " bytes"));
  }
  return absl::OkStatus();
}

absl::StatusOr<WorkerId> Router::AddLocked(const WorkerSpec& spec) {
  if (absl::Status s = ValidateSpec(spec); !s.ok()) return s;
  absl::StatusOr<std::string> host = HostOfUrl(spec.url);
  if (auto it = by_url_.find(spec.url); it != by_url_.end()) {
    return absl::AlreadyExistsError(absl::StrCat("a worker with URL ", spec.url,
                                                 " is already registered (id ", it->second,
                                                 "); remove or replace it"));
  }
  if (next_id_ == std::numeric_limits<WorkerId>::max()) {
    return absl::ResourceExhaustedError("worker ids exhausted");
  }
  WorkerSpec copy = spec;
  if (copy.model.empty()) copy.model = options_.default_model;

  auto pool_it = pools_.find(copy.model);
  if (pool_it == pools_.end()) {
    absl::StatusOr<std::shared_ptr<ModelPool>> pool =
        ModelPool::Create(copy.model, PoliciesFor(copy.model), {clock_, random_});
    if (!pool.ok()) return pool.status();
    pool_it = pools_.emplace(copy.model, *std::move(pool)).first;
  }
  const WorkerId id = next_id_++;
  WorkerRuntime runtime{
      .circuit_breaker = copy.circuit_breaker.value_or(options_.circuit_breaker),
      .failure_classifier = copy.failure_classifier.value_or(options_.failure_classifier),
      .health = options_.health,
      .clock = clock_,
      .events = events_,
  };
  auto worker =
      std::make_shared<Worker>(id, std::move(copy), *std::move(host), std::move(runtime));
  pool_it->second->Add(worker);
  by_url_.emplace(worker->url(), id);
  by_id_.emplace(id, std::move(worker));
  return id;
}

absl::Status Router::RemoveWorker(WorkerId id) {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<WorkerPtr> worker = FindLocked(id);
  if (!worker.ok()) return worker.status();
  const std::string model = (*worker)->model();
  if (absl::Status s = RemoveLocked(id); !s.ok()) return s;
  PublishLocked(model);
  return absl::OkStatus();
}

absl::Status Router::RemoveWorkerByUrl(absl::string_view url) {
  absl::MutexLock lock(&mu_);
  auto it = by_url_.find(url);
  if (it == by_url_.end()) {
    return absl::NotFoundError(absl::StrCat("no worker registered with URL ", url));
  }
  const WorkerId id = it->second;
  const std::string model = by_id_.at(id)->model();
  if (absl::Status s = RemoveLocked(id); !s.ok()) return s;
  PublishLocked(model);
  return absl::OkStatus();
}

absl::Status Router::RemoveLocked(WorkerId id) {
  absl::StatusOr<WorkerPtr> found = FindLocked(id);
  if (!found.ok()) return found.status();
  WorkerPtr worker = *std::move(found);
  // Flag first: a cache-aware insert racing with this removal checks the flag
  // under its tree lock, and the purge below takes that lock after it.
  worker->mark_removed();
  auto pool = pools_.find(worker->model());
  pool->second->Remove(*worker);
  if (pool->second->size() == 0) pools_.erase(pool);
  by_url_.erase(worker->url());
  by_id_.erase(id);
  return absl::OkStatus();
}

absl::StatusOr<WorkerPtr> Router::FindLocked(WorkerId id) const {
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return absl::NotFoundError(absl::StrCat("no worker with id ", id));
  return it->second;
}

absl::StatusOr<WorkerHealth> Router::ReportProbe(WorkerId id, bool passed) {
  absl::StatusOr<WorkerPtr> worker = GetWorker(id);
  if (!worker.ok()) return worker.status();
  AfterHealthTransition(*worker, (*worker)->ApplyProbe(passed));
  return (*worker)->health();
}

absl::Status Router::SetHealth(WorkerId id, WorkerHealth health) {
  if (!IsValidWorkerHealth(health)) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid worker health ", static_cast<int>(health)));
  }
  absl::StatusOr<WorkerPtr> worker = GetWorker(id);
  if (!worker.ok()) return worker.status();
  AfterHealthTransition(*worker, (*worker)->ForceHealth(health));
  return absl::OkStatus();
}

absl::Status Router::DrainWorker(WorkerId id) { return SetHealth(id, WorkerHealth::kDraining); }

void Router::AfterHealthTransition(const WorkerPtr& worker, std::optional<HealthTransition> t) {
  if (!t.has_value()) return;
  std::optional<BreakerTransition> reset;
  if (t->to == WorkerHealth::kReady && t->from != WorkerHealth::kPending) {
    // A worker back from not-ready or failed was most likely restarted: its
    // breaker's verdict is about the previous process.
    reset = worker->breaker_.Reset();
  }
  if (t->from == WorkerHealth::kReady || t->to == WorkerHealth::kReady) {
    OnWorkerStateChanged(*worker);
  }
  events_->HealthTransitioned(*worker, *t);
  if (reset.has_value()) events_->BreakerTransitioned(*worker, *reset);
}

absl::Status Router::ResetCircuitBreaker(WorkerId id) {
  absl::StatusOr<WorkerPtr> worker = GetWorker(id);
  if (!worker.ok()) return worker.status();
  std::optional<BreakerTransition> t = (*worker)->breaker_.Reset();
  if (t.has_value()) {
    OnWorkerStateChanged(**worker);
    events_->BreakerTransitioned(**worker, *t);
  }
  return absl::OkStatus();
}

void Router::OnWorkerStateChanged(const Worker& worker) {
  absl::MutexLock lock(&mu_);
  auto it = by_id_.find(worker.id());
  if (it == by_id_.end() || it->second.get() != &worker) return;  // removed meanwhile
  PublishLocked(worker.model());
}

void Router::ReopenDueBreakers(const std::string& model, bool try_only) {
  std::vector<std::pair<WorkerPtr, BreakerTransition>> reopened;
  {
    if (try_only) {
      if (!mu_.TryLock()) return;  // the lock holder republishes soon enough
    } else {
      mu_.Lock();
    }
    auto pool = pools_.find(model);
    if (pool != pools_.end()) {
      pool->second->ForEachMember([&](const WorkerPtr& w) {
        if (std::optional<BreakerTransition> t = w->breaker_.Poll()) reopened.emplace_back(w, *t);
      });
      // Republish even when another thread already reopened them, so the
      // view's reopen deadline moves on.
      PublishLocked(model);
    }
    mu_.Unlock();
  }
  for (const auto& [worker, t] : reopened) events_->BreakerTransitioned(*worker, t);
}

absl::Status Router::SetLabels(WorkerId id, Labels labels) {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<WorkerPtr> worker = FindLocked(id);
  if (!worker.ok()) return worker.status();
  (*worker)->set_labels(std::move(labels));
  return absl::OkStatus();
}

absl::Status Router::SetWeight(WorkerId id, uint32_t weight) {
  if (weight == 0) return absl::InvalidArgumentError("worker weight must be >= 1");
  absl::MutexLock lock(&mu_);
  absl::StatusOr<WorkerPtr> worker = FindLocked(id);
  if (!worker.ok()) return worker.status();
  if ((*worker)->weight() == weight) return absl::OkStatus();
  (*worker)->set_weight(weight);
  PublishLocked((*worker)->model());
  return absl::OkStatus();
}

absl::Status Router::SetEngineLoad(WorkerId id, std::optional<double> load) {
  if (load.has_value() && !(*load >= 0)) {  // also rejects NaN
    return absl::InvalidArgumentError("engine load must be a non-negative number");
  }
  absl::ReaderMutexLock lock(&mu_);
  absl::StatusOr<WorkerPtr> worker = FindLocked(id);
  if (!worker.ok()) return worker.status();
  (*worker)->set_engine_load(load);
  return absl::OkStatus();
}

absl::StatusOr<WorkerPtr> Router::GetWorker(WorkerId id) const {
  absl::ReaderMutexLock lock(&mu_);
  return FindLocked(id);
}

absl::StatusOr<WorkerPtr> Router::FindWorkerByUrl(absl::string_view url) const {
  absl::ReaderMutexLock lock(&mu_);
  auto it = by_url_.find(url);
  if (it == by_url_.end()) {
    return absl::NotFoundError(absl::StrCat("no worker registered with URL ", url));
  }
  return by_id_.at(it->second);
}

std::vector<WorkerPtr> Router::ListWorkers(std::optional<absl::string_view> model,
                                           std::optional<WorkerType> type) const {
  std::vector<WorkerPtr> out;
  {
    absl::ReaderMutexLock lock(&mu_);
    for (const auto& [id, w] : by_id_) {
      if (model.has_value() && w->model() != *model) continue;
      if (type.has_value() && w->type() != *type) continue;
      out.push_back(w);
    }
  }
  std::sort(out.begin(), out.end(),
            [](const WorkerPtr& a, const WorkerPtr& b) { return a->id() < b->id(); });
  return out;
}

std::vector<std::string> Router::ListModels() const {
  std::vector<std::string> out;
  {
    absl::ReaderMutexLock lock(&mu_);
    for (const auto& [model, pool] : pools_) out.push_back(model);
  }
  std::sort(out.begin(), out.end());
  return out;
}

size_t Router::worker_count() const {
  absl::ReaderMutexLock lock(&mu_);
  return by_id_.size();
}

void Router::PublishLocked(const std::string& model) {
  std::shared_ptr<const RouterSnapshot> current = snapshot_->Load();
  auto next = std::make_shared<RouterSnapshot>(*current);
  if (auto pool = pools_.find(model); pool != pools_.end()) {
    next->models[model] = pool->second->BuildView();
  } else {
    next->models.erase(model);
  }
  snapshot_->Store(std::move(next));
}

// --- Routing ----------------------------------------------------------------

absl::StatusOr<LegChoice> Router::SelectLeg(const RouteRequest& request, const ModelView& view,
                                            WorkerType leg) const {
  const size_t index = static_cast<size_t>(leg);
  const CandidateSet& all = *view.legs[index];
  if (all.empty()) {
    const std::string& model = view.pool->model();
    if (view.members[index] == 0) {
      return absl::NotFoundError(
          absl::StrCat("model \"", model, "\" has no ", WorkerTypeName(leg), " worker"));
    }
    const ModelView::Unavailable& why = view.unavailable[index];
    return absl::UnavailableError(absl::StrCat(
        "no available ", WorkerTypeName(leg), " worker for model \"", model, "\": all ",
        view.members[index], " registered are unavailable (", why.not_ready, " not ready, ",
        why.draining, " draining, ", why.breaker, " with an open circuit breaker)"));
  }
  Policy& policy = view.pool->policy(leg);
  const CandidateSet* candidates = &all;
  std::shared_ptr<const CandidateSet> narrowed;  // only for exclusions
  if (!request.exclude_workers.empty()) {
    bool any = false;
    for (uint32_t id : request.exclude_workers) any = any || all.IndexOf(id).has_value();
    if (any) {
      narrowed = all.Without(request.exclude_workers);
      if (!narrowed->empty()) candidates = narrowed.get();
    }
  }
  absl::InlinedVector<uint32_t, 4> refused;
  for (int attempt = 0;; ++attempt) {
    absl::StatusOr<size_t> chosen = policy.Select(request, *candidates);
    if (!chosen.ok()) return chosen.status();
    if (*chosen >= candidates->size()) {
      return absl::InternalError(absl::StrCat("policy ", policy.name(), " chose candidate ",
                                              *chosen, " of ", candidates->size()));
    }
    const WorkerPtr& worker = candidates->workers()[*chosen];
    CircuitBreaker::Admission admission = worker->AdmitRequest();
    if (admission.allowed) return LegChoice{worker, admission.probe};
    // The snapshot predates the breaker's change (its republish is under
    // way): choose again without the worker.
    refused.push_back(worker->id());
    if (attempt == kMaxAdmissionRetries) break;
    narrowed = all.Without(refused, request.exclude_workers);
    if (narrowed->empty()) narrowed = all.Without(refused);
    if (narrowed->empty()) break;
    candidates = narrowed.get();
  }
  return absl::UnavailableError(absl::StrCat("no available ", WorkerTypeName(leg),
                                             " worker for model \"", view.pool->model(),
                                             "\": the chosen workers' circuit breakers refused"));
}

absl::StatusOr<Ticket> Router::Select(const RouteRequest& request) {
  // Everything read through the guard is dead once Select() returns: the
  // ticket holds its workers by their own references.
  internal::SnapshotCell<RouterSnapshot>::ReadGuard snapshot = snapshot_->Read();
  const absl::string_view model = request.model.empty() ? absl::string_view(options_.default_model)
                                                        : request.model;
  auto it = snapshot->models.find(model);
  if (it == snapshot->models.end()) {
    return absl::NotFoundError(absl::StrCat("no worker registered for model \"", model, "\""));
  }
  // Lazy half-open: only models with an open breaker read the clock here.
  // After reopening, route on the fresh snapshot so this very request can be
  // the first probe (a model whose only worker was open must not fail it).
  if (it->second->next_reopen_nanos != ModelView::kNever &&
      clock_->NowNanos() >= it->second->next_reopen_nanos) {
    ReopenDueBreakers(it->second->pool->model(), /*try_only=*/true);
    snapshot.Reload();
    it = snapshot->models.find(model);
    if (it == snapshot->models.end()) {
      return absl::NotFoundError(absl::StrCat("no worker registered for model \"", model, "\""));
    }
  }
  const ModelView& view = *it->second;
  TenantReservation reservation;
  if (tenant_limiter_ != nullptr) {
    absl::StatusOr<TenantReservation> admitted = AdmitTenant(request);
    if (!admitted.ok()) return admitted.status();
    reservation = *std::move(admitted);
  }
  // A request that cannot be routed consumed no tokens (its request slot
  // stays charged: it was attempted).
  auto refund = [&reservation] {
    if (reservation.active()) reservation.Settle(0).IgnoreError();
  };
  if (!options_.pd_mode) {
    absl::StatusOr<LegChoice> choice = SelectLeg(request, view, WorkerType::kRegular);
    if (!choice.ok()) {
      refund();
      return choice.status();
    }
    return Ticket(std::move(choice->worker), choice->probe, nullptr, 0, 0, std::move(reservation));
  }
  absl::StatusOr<LegChoice> prefill = SelectLeg(request, view, WorkerType::kPrefill);
  if (!prefill.ok()) {
    refund();
    return prefill.status();
  }
  absl::StatusOr<LegChoice> decode = SelectLeg(request, view, WorkerType::kDecode);
  if (!decode.ok()) {
    prefill->worker->CancelAdmission(prefill->probe);
    refund();
    return decode.status();
  }
  // SGLang pairs the two halves by a room id below 2^63.
  const uint64_t room = random_->Next() >> 1;
  return Ticket(std::move(prefill->worker), prefill->probe, std::move(decode->worker),
                decode->probe, room, std::move(reservation));
}

absl::StatusOr<TenantReservation> Router::AdmitTenant(const RouteRequest& request) {
  const absl::string_view tenant = request.tenant.empty() ? "anonymous" : request.tenant;
  uint64_t estimate = request.estimated_tokens;
  if (estimate == 0) {
    estimate = !request.tokens.empty() ? request.tokens.size() : (request.text.size() + 3) / 4;
  }
  TenantDecision decision = tenant_limiter_->Reserve(tenant, estimate);
  if (decision.granted()) return std::move(decision.reservation);
  std::string message;
  switch (decision.reason) {
    case TenantDenyReason::kRateLimited:
      message = absl::StrCat(decision.scope == RateScope::kGlobal
                                 ? "the router"
                                 : absl::StrCat("tenant \"", tenant, "\""),
                             " is over its ", RateDimensionName(decision.dimension),
                             " per minute limit; retry after ",
                             absl::FormatDuration(decision.retry_after));
      break;
    case TenantDenyReason::kEstimateTooLarge:
      message = absl::StrCat("request of ", estimate, " estimated tokens exceeds the ",
                             RateScopeName(decision.scope), " tokens per minute limit");
      break;
    case TenantDenyReason::kTooManyTenants:
      message = absl::StrCat("too many active tenants to track tenant \"", tenant,
                             "\"; retry after ", absl::FormatDuration(decision.retry_after));
      break;
    case TenantDenyReason::kInvalidTenant:
      return absl::InvalidArgumentError(absl::StrCat(
          "invalid tenant key (empty or longer than ", kMaxTenantNameLength, " bytes)"));
    case TenantDenyReason::kNone:
      break;
  }
  absl::Status status = absl::ResourceExhaustedError(message);
  if (decision.retry_after != absl::InfiniteDuration()) {
    status.SetPayload(kRetryAfterPayload,
                      absl::Cord(absl::StrCat(absl::ToInt64Milliseconds(
                                 absl::Ceil(decision.retry_after, absl::Milliseconds(1))))));
  }
  return status;
}

std::optional<absl::Duration> RetryAfter(const absl::Status& status) {
  const auto payload = status.GetPayload(kRetryAfterPayload);
  int64_t ms = 0;
  if (!payload.has_value() || !absl::SimpleAtoi(std::string(*payload), &ms) || ms < 0) {
    return std::nullopt;
  }
  return absl::Milliseconds(ms);
}

// --- Maintenance ------------------------------------------------------------

void Router::RunMaintenance() {
  const std::shared_ptr<const RouterSnapshot> snapshot = snapshot_->Load();
  const int64_t now = clock_->NowNanos();
  for (const auto& [model, view] : snapshot->models) {
    if (now >= view->next_reopen_nanos) ReopenDueBreakers(model, /*try_only=*/false);
    for (int leg = 0; leg < kWorkerTypeCount; ++leg) {
      view->pool->policy(static_cast<WorkerType>(leg)).Maintain(now);
    }
  }
}

size_t Router::EvictNow() {
  const std::shared_ptr<const RouterSnapshot> snapshot = snapshot_->Load();
  size_t evicted = 0;
  for (const auto& [model, view] : snapshot->models) {
    for (int leg = 0; leg < kWorkerTypeCount; ++leg) {
      evicted += view->pool->policy(static_cast<WorkerType>(leg)).EvictNow();
    }
  }
  return evicted;
}

absl::StatusOr<ModelStats> Router::GetModelStats(absl::string_view model) const {
  const std::shared_ptr<const RouterSnapshot> snapshot = snapshot_->Load();
  auto it = snapshot->models.find(model);
  if (it == snapshot->models.end()) {
    return absl::NotFoundError(absl::StrCat("no worker registered for model \"", model, "\""));
  }
  ModelStats stats;
  stats.model = std::string(model);
  for (int leg = 0; leg < kWorkerTypeCount; ++leg) {
    stats.workers[leg] = it->second->members[leg];
    stats.available[leg] = it->second->legs[leg]->size();
    stats.policy[leg] = it->second->pool->policy(static_cast<WorkerType>(leg)).stats();
  }
  return stats;
}

}  // namespace smg
