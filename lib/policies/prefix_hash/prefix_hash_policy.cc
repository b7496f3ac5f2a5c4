#include "policies/prefix_hash/prefix_hash_policy.h"

#include <algorithm>

#include "policies/consistent_hash/hash_ring.h"

namespace smg {

absl::StatusOr<size_t> PrefixHashPolicy::Select(const RouteRequest& request,
                                                const CandidateSet& candidates) {
  absl::string_view prefix;
  if (!request.tokens.empty()) {
    const size_t n = std::min(request.tokens.size(), options_.prefix_tokens);
    prefix = absl::string_view(reinterpret_cast<const char*>(request.tokens.data()),
                               n * sizeof(uint32_t));
  } else {
    prefix = request.text.substr(0, options_.prefix_bytes);
  }
  return SelectByKey(candidates, prefix, options_.load_factor, *random_, &bounded_skips_);
}

PolicyStats PrefixHashPolicy::stats() const {
  PolicyStats s;
  s.bounded_load_skips = bounded_skips_.load(std::memory_order_relaxed);
  return s;
}

}  // namespace smg
