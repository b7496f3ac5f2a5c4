// File: capi/src/router_api.cc
//
// Router lifecycle, the worker registry, health and maintenance, metrics.
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "boxes.h"
#include "convert.h"
#include "errors.h"

using smg::capi::FailStatus;
using smg::capi::Get;
using smg::capi::Guarded;
using smg::capi::InvalidArgument;
using smg::capi::InvalidHandle;

namespace {

// The event a breaker or health transition of `w` is reported as; its
// strings borrow the worker's, valid for the callback.
template <typename State>
smg_event_t TransitionEvent(uint8_t kind, const smg::Worker& w, State from, State to) {
  return smg_event_t{.kind = kind,
                     .from = static_cast<uint8_t>(from),
                     .to = static_cast<uint8_t>(to),
                     .worker_id = w.id(),
                     .url = smg::capi::Str(w.url()),
                     .model = smg::capi::Str(w.model())};
}

// The router's options with the C ABI's additions applied: the event
// callback wrapped for both transition kinds.
smg::RouterOptions EffectiveOptions(const smg::capi::RouterOptionsBox& box) {
  smg::RouterOptions options = box.options;
  if (box.event_fn != nullptr) {
    const smg_event_fn fn = box.event_fn;
    void* const user_data = box.event_user_data;
    options.on_breaker_transition = [fn, user_data](const smg::Worker& w,
                                                    smg::BreakerTransition t) {
      const smg_event_t event = TransitionEvent(SMG_EVENT_BREAKER, w, t.from, t.to);
      fn(user_data, &event);
    };
    options.on_health_transition = [fn, user_data](const smg::Worker& w,
                                                   smg::HealthTransition t) {
      const smg_event_t event = TransitionEvent(SMG_EVENT_HEALTH, w, t.from, t.to);
      fn(user_data, &event);
    };
  }
  return options;
}

// Runs `call` on the router of a live handle; a status result becomes a
// code.
template <typename Call>
smg_code_t WithRouter(smg_router_t* router, smg_error_t** err, Call&& call) {
  return Guarded(err, [&]() -> smg_code_t {
    smg::capi::RouterBox* box = Get(router);
    if (box == nullptr) return InvalidHandle(err, "smg_router_t");
    const absl::Status s = call(*box->router);
    return s.ok() ? SMG_OK : FailStatus(err, s);
  });
}

smg_code_t AddOrReplace(smg_router_t* router, const smg_worker_spec_t* spec, uint32_t* id_out,
                        bool replace, smg_error_t** err) {
  return Guarded(err, [&]() -> smg_code_t {
    smg::capi::RouterBox* box = Get(router);
    if (box == nullptr) return InvalidHandle(err, "smg_router_t");
    smg::WorkerSpec converted;
    if (smg_code_t c = smg::capi::ToWorkerSpec(spec, &converted, err); c != SMG_OK) return c;
    absl::StatusOr<smg::WorkerId> id =
        replace ? box->router->ReplaceWorker(converted) : box->router->AddWorker(converted);
    if (!id.ok()) return FailStatus(err, id.status());
    if (id_out != nullptr) *id_out = *id;
    return SMG_OK;
  });
}

}  // namespace

extern "C" {

void smg_worker_spec_init(smg_worker_spec_t* spec) {
  if (spec == nullptr) return;
  *spec = smg_worker_spec_t{};
  spec->type = SMG_WORKER_REGULAR;
  spec->health = SMG_HEALTH_READY;
  spec->weight = 1;
}

smg_code_t smg_router_create(const smg_router_options_t* options, smg_router_t** router_out,
                             smg_error_t** err) {
  return Guarded(err, [&]() -> smg_code_t {
    if (router_out == nullptr) return InvalidArgument(err, "router_out is NULL");
    const smg::capi::RouterOptionsBox defaults;
    const smg::capi::RouterOptionsBox* opts = &defaults;
    if (options != nullptr) {
      opts = Get(options);
      if (opts == nullptr) return InvalidHandle(err, "smg_router_options_t");
    }
    auto box = std::make_shared<smg::capi::RouterBox>();
    if (opts->random_seed) box->random = std::make_unique<smg::SeededRandom>(*opts->random_seed);
    absl::StatusOr<std::unique_ptr<smg::Router>> created = smg::Router::Create(
        EffectiveOptions(*opts), smg::RouterDeps{.clock = opts->clock, .random = box->random.get()});
    if (!created.ok()) return FailStatus(err, created.status());
    box->router = std::move(*created);
    box->self = box;
    *router_out =
        reinterpret_cast<smg_router_t*>(smg::capi::RegisterHandle(smg::capi::HandleKind::kRouter, box.get()));
    return SMG_OK;
  });
}

void smg_router_destroy(smg_router_t* router) {
  smg::capi::GuardedVoid([&] {
    auto* box = static_cast<smg::capi::RouterBox*>(
        smg::capi::UnregisterHandle(router, smg::capi::HandleKind::kRouter));
    if (box == nullptr) return;
    // Retry states may still hold the box; the last reference frees it.
    std::shared_ptr<smg::capi::RouterBox> last = std::move(box->self);
  });
}

smg_code_t smg_router_add_worker(smg_router_t* router, const smg_worker_spec_t* spec,
                                 uint32_t* id_out, smg_error_t** err) {
  return AddOrReplace(router, spec, id_out, /*replace=*/false, err);
}

smg_code_t smg_router_replace_worker(smg_router_t* router, const smg_worker_spec_t* spec,
                                     uint32_t* id_out, smg_error_t** err) {
  return AddOrReplace(router, spec, id_out, /*replace=*/true, err);
}

smg_code_t smg_router_remove_worker(smg_router_t* router, uint32_t worker_id, smg_error_t** err) {
  return WithRouter(router, err, [&](smg::Router& r) { return r.RemoveWorker(worker_id); });
}

smg_code_t smg_router_remove_worker_by_url(smg_router_t* router, const char* url, size_t url_len,
                                           smg_error_t** err) {
  return Guarded(err, [&]() -> smg_code_t {
    absl::string_view u;
    if (smg_code_t c = smg::capi::ToView(url, url_len, "url", &u, err); c != SMG_OK) return c;
    return WithRouter(router, err, [&](smg::Router& r) { return r.RemoveWorkerByUrl(u); });
  });
}

smg_code_t smg_router_set_labels(smg_router_t* router, uint32_t worker_id,
                                 const smg_label_t* labels, size_t labels_len, smg_error_t** err) {
  return Guarded(err, [&]() -> smg_code_t {
    smg::Labels converted;
    if (smg_code_t c = smg::capi::ToLabels(labels, labels_len, &converted, err); c != SMG_OK) {
      return c;
    }
    return WithRouter(router, err, [&](smg::Router& r) {
      return r.SetLabels(worker_id, std::move(converted));
    });
  });
}

smg_code_t smg_router_set_weight(smg_router_t* router, uint32_t worker_id, uint32_t weight,
                                 smg_error_t** err) {
  return WithRouter(router, err, [&](smg::Router& r) { return r.SetWeight(worker_id, weight); });
}

smg_code_t smg_router_set_engine_load(smg_router_t* router, uint32_t worker_id, double load,
                                      smg_error_t** err) {
  return WithRouter(router, err, [&](smg::Router& r) {
    if (!std::isfinite(load)) {
      return absl::InvalidArgumentError(absl::StrCat("engine load ", load, " is not finite"));
    }
    return r.SetEngineLoad(worker_id, load);
  });
}

smg_code_t smg_router_clear_engine_load(smg_router_t* router, uint32_t worker_id,
                                        smg_error_t** err) {
  return WithRouter(router, err,
                    [&](smg::Router& r) { return r.SetEngineLoad(worker_id, std::nullopt); });
}

smg_code_t smg_router_report_probe(smg_router_t* router, uint32_t worker_id, uint8_t passed,
                                   uint8_t* health_out, smg_error_t** err) {
  return WithRouter(router, err, [&](smg::Router& r) {
    absl::StatusOr<smg::WorkerHealth> h = r.ReportProbe(worker_id, passed != 0);
    if (!h.ok()) return h.status();
    if (health_out != nullptr) *health_out = static_cast<uint8_t>(*h);
    return absl::OkStatus();
  });
}

smg_code_t smg_router_set_health(smg_router_t* router, uint32_t worker_id, uint8_t health,
                                 smg_error_t** err) {
  return Guarded(err, [&]() -> smg_code_t {
    smg::WorkerHealth h = smg::WorkerHealth::kReady;
    if (smg_code_t c = smg::capi::ToHealth(health, &h, err); c != SMG_OK) return c;
    return WithRouter(router, err, [&](smg::Router& r) { return r.SetHealth(worker_id, h); });
  });
}

smg_code_t smg_router_drain_worker(smg_router_t* router, uint32_t worker_id, smg_error_t** err) {
  return WithRouter(router, err, [&](smg::Router& r) { return r.DrainWorker(worker_id); });
}

smg_code_t smg_router_reset_breaker(smg_router_t* router, uint32_t worker_id, smg_error_t** err) {
  return WithRouter(router, err,
                    [&](smg::Router& r) { return r.ResetCircuitBreaker(worker_id); });
}

smg_code_t smg_router_run_maintenance(smg_router_t* router) {
  return WithRouter(router, nullptr, [&](smg::Router& r) {
    r.RunMaintenance();
    return absl::OkStatus();
  });
}

smg_code_t smg_router_evict_now(smg_router_t* router, uint64_t* evicted_out) {
  return WithRouter(router, nullptr, [&](smg::Router& r) {
    const size_t evicted = r.EvictNow();
    if (evicted_out != nullptr) *evicted_out = evicted;
    return absl::OkStatus();
  });
}

smg_code_t smg_router_metrics(const smg_router_t* router, char** text_out, size_t* len_out,
                              smg_error_t** err) {
  return Guarded(err, [&]() -> smg_code_t {
    const smg::capi::RouterBox* box = Get(router);
    if (box == nullptr) return InvalidHandle(err, "smg_router_t");
    if (text_out == nullptr || len_out == nullptr) {
      return InvalidArgument(err, "text_out and len_out must not be NULL");
    }
    const std::string text = box->router->ExportMetrics();
    auto* buffer = static_cast<char*>(std::malloc(text.size() + 1));
    if (buffer == nullptr) return smg::capi::Fail(err, SMG_ERR_INTERNAL, "out of memory");
    std::memcpy(buffer, text.data(), text.size());
    buffer[text.size()] = '\0';
    *text_out = buffer;
    *len_out = text.size();
    return SMG_OK;
  });
}

}  // extern "C"
