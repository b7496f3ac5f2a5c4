// File: capi/src/workers_api.cc
//
// Worker listings: snapshots of registered workers that the caller reads
// field by field and frees.
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "boxes.h"
#include "convert.h"
#include "errors.h"

using smg::capi::FailStatus;
using smg::capi::Get;
using smg::capi::Guarded;
using smg::capi::InvalidArgument;
using smg::capi::InvalidHandle;

namespace {

// Snapshots `worker` into a new entry of `box`.
void Append(smg::capi::WorkersBox& box, smg::WorkerPtr worker) {
  smg::capi::WorkersBox::Entry& e = box.entries.emplace_back();
  const smg::Worker& w = *worker;
  for (const auto& [key, value] : w.labels()) e.label_store.emplace_back(key, value);
  e.labels.reserve(e.label_store.size());
  for (const auto& [key, value] : e.label_store) {
    e.labels.push_back(smg_label_t{smg::capi::Str(key), smg::capi::Str(value)});
  }
  const std::optional<double> load = w.engine_load();
  e.info = smg_worker_info_t{
      .id = w.id(),
      .type = static_cast<uint8_t>(w.type()),
      .health = static_cast<uint8_t>(w.health()),
      .breaker_state = static_cast<uint8_t>(w.breaker_state()),
      .has_engine_load = static_cast<uint8_t>(load.has_value() ? 1 : 0),
      .bootstrap_port = w.bootstrap_port().value_or(0),
      .weight = w.weight(),
      .url = smg::capi::Str(w.url()),
      .model = smg::capi::Str(w.model()),
      .bootstrap_host = smg::capi::Str(w.bootstrap_host()),
      .labels = e.labels.empty() ? nullptr : e.labels.data(),
      .labels_len = e.labels.size(),
      .in_flight = w.in_flight(),
      .successes = w.successes(),
      .failures = w.failures(),
      .cancelled = w.cancelled(),
      .probes_passed = w.probes_passed(),
      .probes_failed = w.probes_failed(),
      .engine_load = load.value_or(0.0),
  };
  e.worker = std::move(worker);
}

smg_code_t PublishOne(absl::StatusOr<smg::WorkerPtr> worker, smg_workers_t** workers_out,
                      smg_error_t** err) {
  if (!worker.ok()) return FailStatus(err, worker.status());
  auto box = std::make_unique<smg::capi::WorkersBox>();
  Append(*box, std::move(*worker));
  *workers_out = smg::capi::Publish<smg_workers_t>(std::move(box));
  return SMG_OK;
}

}  // namespace

extern "C" {

smg_code_t smg_router_list_workers(const smg_router_t* router, const char* model,
                                   size_t model_len, int32_t type, smg_workers_t** workers_out,
                                   smg_error_t** err) {
  return Guarded(err, [&]() -> smg_code_t {
    const smg::capi::RouterBox* box = Get(router);
    if (box == nullptr) return InvalidHandle(err, "smg_router_t");
    if (workers_out == nullptr) return InvalidArgument(err, "workers_out is NULL");
    absl::string_view m;
    if (smg_code_t c = smg::capi::ToView(model, model_len, "model", &m, err); c != SMG_OK) return c;
    std::optional<smg::WorkerType> wanted;
    if (type >= 0) {
      smg::WorkerType t = smg::WorkerType::kRegular;
      if (smg_code_t c = smg::capi::ToWorkerType(static_cast<uint32_t>(type), &t, err); c != SMG_OK) {
        return c;
      }
      wanted = t;
    }
    std::vector<smg::WorkerPtr> workers = box->router->ListWorkers(
        m.empty() ? std::nullopt : std::optional<absl::string_view>(m), wanted);
    auto list = std::make_unique<smg::capi::WorkersBox>();
    list->entries.reserve(workers.size());
    for (smg::WorkerPtr& w : workers) Append(*list, std::move(w));
    *workers_out = smg::capi::Publish<smg_workers_t>(std::move(list));
    return SMG_OK;
  });
}

smg_code_t smg_router_get_worker(const smg_router_t* router, uint32_t worker_id,
                                 smg_workers_t** workers_out, smg_error_t** err) {
  return Guarded(err, [&]() -> smg_code_t {
    const smg::capi::RouterBox* box = Get(router);
    if (box == nullptr) return InvalidHandle(err, "smg_router_t");
    if (workers_out == nullptr) return InvalidArgument(err, "workers_out is NULL");
    return PublishOne(box->router->GetWorker(worker_id), workers_out, err);
  });
}

smg_code_t smg_router_find_worker(const smg_router_t* router, const char* url, size_t url_len,
                                  smg_workers_t** workers_out, smg_error_t** err) {
  return Guarded(err, [&]() -> smg_code_t {
    const smg::capi::RouterBox* box = Get(router);
    if (box == nullptr) return InvalidHandle(err, "smg_router_t");
    if (workers_out == nullptr) return InvalidArgument(err, "workers_out is NULL");
    absl::string_view u;
    if (smg_code_t c = smg::capi::ToView(url, url_len, "url", &u, err); c != SMG_OK) return c;
    return PublishOne(box->router->FindWorkerByUrl(u), workers_out, err);
  });
}

size_t smg_workers_count(const smg_workers_t* workers) {
  const smg::capi::WorkersBox* box = Get(workers);
  return box == nullptr ? 0 : box->entries.size();
}

smg_code_t smg_workers_get(const smg_workers_t* workers, size_t index,
                           smg_worker_info_t* info_out) {
  const smg::capi::WorkersBox* box = Get(workers);
  if (box == nullptr) return SMG_ERR_INVALID_HANDLE;
  if (info_out == nullptr || index >= box->entries.size()) return SMG_ERR_INVALID_ARGUMENT;
  *info_out = box->entries[index].info;
  return SMG_OK;
}

void smg_workers_destroy(smg_workers_t* workers) {
  smg::capi::GuardedVoid([&] { smg::capi::Take(workers).reset(); });
}

}  // extern "C"
