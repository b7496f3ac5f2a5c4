// Names, parsing and validation of router and policy options.
#include <cmath>

#include "absl/strings/str_cat.h"
#include "smgcore/policy_config.h"
#include "smgcore/router.h"

namespace smg {

absl::string_view PolicyKindName(PolicyKind kind) {
  switch (kind) {
    case PolicyKind::kRandom: return "random";
    case PolicyKind::kRoundRobin: return "round_robin";
    case PolicyKind::kPowerOfTwo: return "power_of_two";
    case PolicyKind::kCacheAware: return "cache_aware";
    case PolicyKind::kConsistentHash: return "consistent_hash";
    case PolicyKind::kPrefixHash: return "prefix_hash";
    case PolicyKind::kCustom: return "custom";
  }
  return "unknown";
}

absl::StatusOr<PolicyKind> ParsePolicyKind(absl::string_view name) {
  for (PolicyKind k : {PolicyKind::kRandom, PolicyKind::kRoundRobin, PolicyKind::kPowerOfTwo,
                       PolicyKind::kCacheAware, PolicyKind::kConsistentHash,
                       PolicyKind::kPrefixHash}) {
    if (name == PolicyKindName(k)) return k;
  }
  if (name == "consistent_hashing") return PolicyKind::kConsistentHash;
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown policy \"", name,
      "\" (expected random, round_robin, power_of_two, cache_aware, consistent_hash or "
      "prefix_hash)"));
}

namespace {

absl::Status Invalid(absl::string_view field, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", why));
}

bool IsFinite(double v) { return std::isfinite(v); }

absl::Status ValidateLoadFactor(absl::string_view field, double v) {
  if (!IsFinite(v) || v < 0 || (v > 0 && v <= 1)) {
    return Invalid(field, "must be 0 (no bound) or greater than 1");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidatePolicyConfig(const PolicyConfig& c) {
  switch (c.kind) {
    case PolicyKind::kRandom:
    case PolicyKind::kRoundRobin:
    case PolicyKind::kPowerOfTwo:
      return absl::OkStatus();
    case PolicyKind::kCacheAware: {
      const CacheAwareOptions& o = c.cache_aware;
      if (!IsFinite(o.cache_threshold) || o.cache_threshold < 0 || o.cache_threshold > 1) {
        return Invalid("cache_aware.cache_threshold", "must be in [0, 1]");
      }
      if (o.balance_abs_threshold < 0) {
        return Invalid("cache_aware.balance_abs_threshold", "must be >= 0");
      }
      if (!IsFinite(o.balance_rel_threshold) || o.balance_rel_threshold < 1) {
        return Invalid("cache_aware.balance_rel_threshold", "must be >= 1");
      }
      if (!IsFinite(o.evict_headroom) || o.evict_headroom < 0 || o.evict_headroom > 0.5) {
        return Invalid("cache_aware.evict_headroom", "must be in [0, 0.5]");
      }
      if (o.eviction_interval <= absl::ZeroDuration()) {
        return Invalid("cache_aware.eviction_interval", "must be positive");
      }
      if (o.token_page_size == 0 || o.token_page_size > 4096) {
        return Invalid("cache_aware.token_page_size", "must be in [1, 4096]");
      }
      if (o.load_sample_size == 1) {
        return Invalid("cache_aware.load_sample_size", "must be 0 (no sampling) or >= 2");
      }
      if (o.imbalance_locality_window < 0) {
        return Invalid("cache_aware.imbalance_locality_window", "must be >= 0");
      }
      return absl::OkStatus();
    }
    case PolicyKind::kConsistentHash: {
      const ConsistentHashOptions& o = c.consistent_hash;
      if (o.virtual_nodes == 0 || o.virtual_nodes > 10000) {
        return Invalid("consistent_hash.virtual_nodes", "must be in [1, 10000]");
      }
      return ValidateLoadFactor("consistent_hash.load_factor", o.load_factor);
    }
    case PolicyKind::kPrefixHash: {
      const PrefixHashOptions& o = c.prefix_hash;
      if (o.virtual_nodes == 0 || o.virtual_nodes > 10000) {
        return Invalid("prefix_hash.virtual_nodes", "must be in [1, 10000]");
      }
      if (o.prefix_tokens == 0) return Invalid("prefix_hash.prefix_tokens", "must be >= 1");
      if (o.prefix_bytes == 0) return Invalid("prefix_hash.prefix_bytes", "must be >= 1");
      return ValidateLoadFactor("prefix_hash.load_factor", o.load_factor);
    }
    case PolicyKind::kCustom:
      if (!c.custom_factory) return Invalid("custom_factory", "required for a custom policy");
      return absl::OkStatus();
  }
  return Invalid("kind", absl::StrCat("unknown policy kind ", static_cast<int>(c.kind)));
}

namespace {

absl::Status ValidatePolicySet(absl::string_view where, const PolicySet& set) {
  auto annotate = [&](absl::Status s, absl::string_view leg) {
    return absl::InvalidArgumentError(absl::StrCat(where, leg, ": ", s.message()));
  };
  if (absl::Status s = ValidatePolicyConfig(set.policy); !s.ok()) return annotate(s, "policy");
  if (set.prefill) {
    if (absl::Status s = ValidatePolicyConfig(*set.prefill); !s.ok()) return annotate(s, "prefill");
  }
  if (set.decode) {
    if (absl::Status s = ValidatePolicyConfig(*set.decode); !s.ok()) return annotate(s, "decode");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateRouterOptions(const RouterOptions& options) {
  if (options.default_model.empty()) {
    return Invalid("default_model", "must not be empty");
  }
  if (absl::Status s = ValidatePolicySet("policies.", options.policies); !s.ok()) return s;
  for (const auto& [model, set] : options.model_policies) {
    if (model.empty()) return Invalid("model_policies", "model name must not be empty");
    if (absl::Status s = ValidatePolicySet(absl::StrCat("model_policies[", model, "]."), set);
        !s.ok()) {
      return s;
    }
  }
  if (absl::Status s = ValidateCircuitBreakerOptions(options.circuit_breaker); !s.ok()) return s;
  if (absl::Status s = ValidateHealthOptions(options.health); !s.ok()) return s;
  if (absl::Status s = ValidateRetryOptions(options.retry); !s.ok()) return s;
  return absl::OkStatus();
}

}  // namespace smg
