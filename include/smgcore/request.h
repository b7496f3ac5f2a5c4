// File: smgcore/request.h
//
// What a policy may look at when it picks a worker. A `RouteRequest` is a set
// of non-owning views into the host's own buffers: building one allocates
// nothing, and the router copies nothing it does not keep.
//
//   smg::RouteRequest req;
//   req.model = "llama-3-70b";
//   req.text = prompt;                 // bytes, any encoding
//   absl::StatusOr<smg::Ticket> t = router->Select(req);
#ifndef SMGCORE_REQUEST_H_
#define SMGCORE_REQUEST_H_

#include <cstdint>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace smg {

// Header
//
// One HTTP header as views. Names are matched case-insensitively.
struct Header {
  absl::string_view name;
  absl::string_view value;
};

// RouteRequest
//
// Everything is optional ("assume information is missing"): each policy uses
// what it needs and falls back when it is absent. All views are borrowed for
// the duration of the call that receives the request.
struct RouteRequest {
  // The model requested. Empty means the router's default model.
  absl::string_view model;
  // The prompt as bytes (never assumed to be valid UTF-8). Used by
  // cache_aware and prefix_hash when `tokens` is empty.
  absl::string_view text;
  // The prompt as token ids. Preferred over `text` by cache_aware and
  // prefix_hash when present.
  absl::Span<const uint32_t> tokens;
  // An explicit affinity key (session, user, conversation) for
  // consistent_hash. Takes precedence over headers.
  absl::string_view routing_key;
  // Request headers, consulted by consistent_hash for its key header and the
  // implicit keys (authorization, x-forwarded-for, cookie).
  absl::Span<const Header> headers;
  // Ids (WorkerId) of workers not to choose, e.g. those a retried request already failed on
  // (RetryState fills it). If excluding them leaves no candidate in a leg,
  // the exclusion is ignored for that leg: retrying on a worker already
  // tried beats failing the request.
  absl::Span<const uint32_t> exclude_workers;
  // The tenant (API key, user, org) charged by RouterOptions::tenant_limits.
  // Empty means "anonymous". Ignored without tenant limits.
  absl::string_view tenant;
  // Tokens the request is expected to consume (prompt + completion budget),
  // reserved against the tenant's tokens per minute and settled later with
  // Ticket::SettleTokens(). 0 means: the number of token ids if given, else
  // the text's bytes / 4 rounded up (a rough English-text estimate).
  uint64_t estimated_tokens = 0;
};

// FindHeader()
//
// The value of the first header named `name` (ASCII case-insensitive), or an
// empty view when there is none.
absl::string_view FindHeader(absl::Span<const Header> headers, absl::string_view name);

}  // namespace smg

#endif  // SMGCORE_REQUEST_H_
