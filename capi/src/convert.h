// File: capi/src/convert.h
//
// Checked conversions from C arguments to the C++ core's types: string views,
// outcomes, labels, enums, requests. Each returns SMG_OK or fails through
// `err` with a message naming the argument.
#ifndef SMGCORE_CAPI_CONVERT_H_
#define SMGCORE_CAPI_CONVERT_H_

#include <cstddef>
#include <cstdint>

#include "absl/container/inlined_vector.h"
#include "absl/strings/string_view.h"
#include "smgcore/outcome.h"
#include "smgcore/request.h"
#include "smgcore/smgcore_c.h"
#include "smgcore/worker.h"

namespace smg::capi {

// ToView()
//
// `data`/`len` as a view: NULL data is allowed only with len 0, and len may
// not exceed SMG_MAX_INPUT_BYTES. `what` names the argument in the message.
smg_code_t ToView(const char* data, size_t len, absl::string_view what, absl::string_view* out,
                  smg_error_t** err);
inline smg_code_t ToView(smg_str_t s, absl::string_view what, absl::string_view* out,
                         smg_error_t** err) {
  // Inline fast path: the common, valid case costs two compares.
  if ((s.data != nullptr || s.len == 0) && s.len <= SMG_MAX_INPUT_BYTES) {
    *out = absl::string_view(s.data == nullptr ? "" : s.data, s.len);
    return SMG_OK;
  }
  return ToView(s.data, s.len, what, out, err);
}

// CheckArray()
//
// An array argument: NULL only when empty, at most `max` elements.
smg_code_t CheckArray(const void* data, size_t len, size_t max, absl::string_view what,
                      smg_error_t** err);

// ToOutcome()
//
// An HTTP status in [100, 599], SMG_OUTCOME_TRANSPORT_ERROR or
// SMG_OUTCOME_CANCELLED.
smg_code_t ToOutcomeSlow(int32_t value, absl::string_view what, Outcome* out, smg_error_t** err);
inline smg_code_t ToOutcome(int32_t value, absl::string_view what, Outcome* out,
                            smg_error_t** err) {
  if (value >= 100 && value <= 599) {
    *out = Outcome::Status(value);
    return SMG_OK;
  }
  return ToOutcomeSlow(value, what, out, err);
}

// ToLabels()
smg_code_t ToLabels(const smg_label_t* labels, size_t len, Labels* out, smg_error_t** err);

// ToWorkerType(), ToHealth()
smg_code_t ToWorkerType(uint32_t value, WorkerType* out, smg_error_t** err);
smg_code_t ToHealth(uint32_t value, WorkerHealth* out, smg_error_t** err);

// ToWorkerSpec()
smg_code_t ToWorkerSpec(const smg_worker_spec_t* spec, WorkerSpec* out, smg_error_t** err);

// HeaderBuffer
//
// Storage for a request's converted headers: the C and C++ header structs
// differ in layout, so they are copied (into inline storage for up to 16).
using HeaderBuffer = absl::InlinedVector<Header, 16>;

// ToRouteRequestSlow()
//
// ToRouteRequest() for requests with headers, or with an argument that fails
// its checks (the error names it).
smg_code_t ToRouteRequestSlow(const smg_request_t* request, RouteRequest* out,
                              HeaderBuffer* headers, smg_error_t** err);

// ToRouteRequest()
//
// Views of `request`'s fields in `out`; headers go through `headers`, which
// must outlive `out`. Inline for the common request (valid views, no
// headers): it is on every selection.
inline smg_code_t ToRouteRequest(const smg_request_t* request, RouteRequest* out,
                                 HeaderBuffer* headers, smg_error_t** err) {
  auto valid = [](smg_str_t s) {
    return (s.data != nullptr || s.len == 0) && s.len <= SMG_MAX_INPUT_BYTES;
  };
  auto view = [](smg_str_t s) { return absl::string_view(s.data == nullptr ? "" : s.data, s.len); };
  if (request == nullptr || request->headers_len != 0 || !valid(request->model) ||
      !valid(request->text) || !valid(request->routing_key) || !valid(request->tenant) ||
      (request->tokens == nullptr && request->tokens_len != 0) ||
      request->tokens_len > SMG_MAX_INPUT_TOKENS ||
      (request->exclude_workers == nullptr && request->exclude_workers_len != 0) ||
      request->exclude_workers_len > SMG_MAX_LIST_LENGTH) {
    return ToRouteRequestSlow(request, out, headers, err);
  }
  out->model = view(request->model);
  out->text = view(request->text);
  out->routing_key = view(request->routing_key);
  out->tenant = view(request->tenant);
  out->tokens = absl::Span<const uint32_t>(request->tokens, request->tokens_len);
  out->exclude_workers =
      absl::Span<const uint32_t>(request->exclude_workers, request->exclude_workers_len);
  out->estimated_tokens = request->estimated_tokens;
  return SMG_OK;
}

// Str()
//
// A C view of a C++ string (borrowed for as long as the string lives).
inline smg_str_t Str(absl::string_view s) { return smg_str_t{s.data(), s.size()}; }

}  // namespace smg::capi

#endif  // SMGCORE_CAPI_CONVERT_H_
