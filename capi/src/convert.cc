// File: capi/src/convert.cc
#include "convert.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "errors.h"
#include "smgcore/health.h"

namespace smg::capi {

smg_code_t ToView(const char* data, size_t len, absl::string_view what, absl::string_view* out,
                  smg_error_t** err) {
  if (data == nullptr && len != 0) {
    return InvalidArgument(err, absl::StrCat(what, ": NULL data with length ", len));
  }
  if (len > SMG_MAX_INPUT_BYTES) {
    return InvalidArgument(
        err, absl::StrCat(what, ": length ", len, " exceeds SMG_MAX_INPUT_BYTES (", SMG_MAX_INPUT_BYTES, ")"));
  }
  *out = absl::string_view(data == nullptr ? "" : data, len);
  return SMG_OK;
}

smg_code_t CheckArray(const void* data, size_t len, size_t max, absl::string_view what,
                      smg_error_t** err) {
  if (data == nullptr && len != 0) {
    return InvalidArgument(err, absl::StrCat(what, ": NULL array with length ", len));
  }
  if (len > max) {
    return InvalidArgument(err, absl::StrCat(what, ": length ", len, " exceeds the limit ", max));
  }
  return SMG_OK;
}

smg_code_t ToOutcomeSlow(int32_t value, absl::string_view what, Outcome* out,
                         smg_error_t** err) {
  if (value >= 100 && value <= 599) {
    *out = Outcome::Status(value);
  } else if (value == SMG_OUTCOME_TRANSPORT_ERROR) {
    *out = Outcome::TransportError();
  } else if (value == SMG_OUTCOME_CANCELLED) {
    *out = Outcome::Cancelled();
  } else {
    return InvalidArgument(
        err, absl::StrCat(what, " ", value,
                          " is neither an HTTP status in [100, 599] nor SMG_OUTCOME_*"));
  }
  return SMG_OK;
}

smg_code_t ToLabels(const smg_label_t* labels, size_t len, Labels* out, smg_error_t** err) {
  if (smg_code_t c = CheckArray(labels, len, SMG_MAX_LIST_LENGTH, "labels", err); c != SMG_OK) {
    return c;
  }
  Labels result;
  for (size_t i = 0; i < len; ++i) {
    absl::string_view key, value;
    if (smg_code_t c = ToView(labels[i].key, "label key", &key, err); c != SMG_OK) return c;
    if (smg_code_t c = ToView(labels[i].value, "label value", &value, err); c != SMG_OK) return c;
    result.insert_or_assign(std::string(key), std::string(value));
  }
  *out = std::move(result);
  return SMG_OK;
}

smg_code_t ToWorkerType(uint32_t value, WorkerType* out, smg_error_t** err) {
  if (value >= static_cast<uint32_t>(kWorkerTypeCount)) {
    return InvalidArgument(err, absl::StrCat("worker type ", value, " is not an SMG_WORKER_* value"));
  }
  *out = static_cast<WorkerType>(value);
  return SMG_OK;
}

smg_code_t ToHealth(uint32_t value, WorkerHealth* out, smg_error_t** err) {
  if (value >= static_cast<uint32_t>(kWorkerHealthCount)) {
    return InvalidArgument(err, absl::StrCat("health ", value, " is not an SMG_HEALTH_* value"));
  }
  *out = static_cast<WorkerHealth>(value);
  return SMG_OK;
}

smg_code_t ToWorkerSpec(const smg_worker_spec_t* spec, WorkerSpec* out, smg_error_t** err) {
  if (spec == nullptr) return InvalidArgument(err, "spec is NULL");
  absl::string_view url, model;
  if (smg_code_t c = ToView(spec->url, "spec.url", &url, err); c != SMG_OK) return c;
  if (smg_code_t c = ToView(spec->model, "spec.model", &model, err); c != SMG_OK) return c;
  WorkerSpec result;
  result.url = std::string(url);
  result.model = std::string(model);
  if (smg_code_t c = ToWorkerType(spec->type, &result.type, err); c != SMG_OK) return c;
  if (smg_code_t c = ToHealth(spec->health, &result.health, err); c != SMG_OK) return c;
  if (spec->bootstrap_port != 0) result.bootstrap_port = spec->bootstrap_port;
  result.weight = spec->weight;
  if (smg_code_t c = ToLabels(spec->labels, spec->labels_len, &result.labels, err); c != SMG_OK) {
    return c;
  }
  *out = std::move(result);
  return SMG_OK;
}

smg_code_t ToRouteRequestSlow(const smg_request_t* request, RouteRequest* out,
                              HeaderBuffer* headers, smg_error_t** err) {
  if (request == nullptr) return InvalidArgument(err, "request is NULL");
  smg_code_t c = ToView(request->model, "request.model", &out->model, err);
  if (c == SMG_OK) c = ToView(request->text, "request.text", &out->text, err);
  if (c == SMG_OK) c = ToView(request->routing_key, "request.routing_key", &out->routing_key, err);
  if (c == SMG_OK) c = ToView(request->tenant, "request.tenant", &out->tenant, err);
  if (c != SMG_OK) return c;
  if (request->tokens_len != 0) {
    c = CheckArray(request->tokens, request->tokens_len, SMG_MAX_INPUT_TOKENS, "request.tokens",
                   err);
    if (c != SMG_OK) return c;
    out->tokens = absl::MakeConstSpan(request->tokens, request->tokens_len);
  }
  if (request->exclude_workers_len != 0) {
    c = CheckArray(request->exclude_workers, request->exclude_workers_len, SMG_MAX_LIST_LENGTH,
                   "request.exclude_workers", err);
    if (c != SMG_OK) return c;
    out->exclude_workers =
        absl::MakeConstSpan(request->exclude_workers, request->exclude_workers_len);
  }
  if (request->headers_len != 0) {
    c = CheckArray(request->headers, request->headers_len, SMG_MAX_LIST_LENGTH,
                   "request.headers", err);
    if (c != SMG_OK) return c;
    headers->resize(request->headers_len);
    for (size_t i = 0; i < request->headers_len; ++i) {
      c = ToView(request->headers[i].name, "header name", &(*headers)[i].name, err);
      if (c == SMG_OK) c = ToView(request->headers[i].value, "header value", &(*headers)[i].value, err);
      if (c != SMG_OK) return c;
    }
    out->headers = absl::MakeConstSpan(*headers);
  }
  out->estimated_tokens = request->estimated_tokens;
  return SMG_OK;
}

}  // namespace smg::capi
