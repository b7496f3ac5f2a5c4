#include "policies/consistent_hash/consistent_hash_policy.h"

#include "policies/consistent_hash/hash_ring.h"

namespace smg {

absl::string_view ConsistentHashPolicy::KeyOf(const RouteRequest& request) const {
  if (!request.routing_key.empty()) return request.routing_key;
  if (absl::string_view v = FindHeader(request.headers, options_.key_header); !v.empty()) return v;
  if (options_.use_implicit_keys) {
    for (absl::string_view header : {"authorization", "x-forwarded-for", "cookie"}) {
      if (absl::string_view v = FindHeader(request.headers, header); !v.empty()) return v;
    }
  }
  return {};
}

absl::StatusOr<size_t> ConsistentHashPolicy::Select(const RouteRequest& request,
                                                    const CandidateSet& candidates) {
  return SelectByKey(candidates, KeyOf(request), options_.load_factor, *random_, &bounded_skips_);
}

PolicyStats ConsistentHashPolicy::stats() const {
  PolicyStats s;
  s.bounded_load_skips = bounded_skips_.load(std::memory_order_relaxed);
  return s;
}

}  // namespace smg
