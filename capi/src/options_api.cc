// File: capi/src/options_api.cc
//
// The option builders: policy configurations, tenant limits and router
// options. Each setter converts and range-checks what the C types cannot
// express (negative sizes, values too large for the field); semantic ranges
// are checked by the core's validators when the object is built.
#include <cmath>
#include <limits>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "boxes.h"
#include "convert.h"
#include "errors.h"

using smg::capi::Get;
using smg::capi::Guarded;
using smg::capi::InvalidArgument;
using smg::capi::InvalidHandle;

namespace {

// Stores `value` in an unsigned field of type T, or fails naming the option.
template <typename T>
smg_code_t StoreUnsigned(int64_t value, const char* name, T* field, smg_error_t** err) {
  if (value < 0 || static_cast<uint64_t>(value) > std::numeric_limits<T>::max()) {
    return InvalidArgument(err, absl::StrCat(name, ": ", value, " is out of range"));
  }
  *field = static_cast<T>(value);
  return SMG_OK;
}

smg_code_t StoreBool(int64_t value, bool* field) {
  *field = value != 0;
  return SMG_OK;
}

smg_code_t StoreNanos(int64_t value, absl::Duration* field) {
  *field = value == SMG_DURATION_INFINITE ? absl::InfiniteDuration() : absl::Nanoseconds(value);
  return SMG_OK;
}

smg_code_t WrongKey(smg_error_t** err, const char* what, uint32_t key, const char* setter) {
  return InvalidArgument(
      err, absl::StrCat(what, " option ", key, " is unknown, not of this policy kind, or not set with ",
                        setter));
}

// --- Policy options ---------------------------------------------------------

smg_code_t SetPolicyInt(smg::PolicyConfig& c, uint32_t key, int64_t v, smg_error_t** err) {
  using K = smg::PolicyKind;
  const K kind = c.kind;
  switch (key) {
    case SMG_POLICY_OPT_BALANCE_ABS_THRESHOLD:
      if (kind != K::kCacheAware) break;
      c.cache_aware.balance_abs_threshold = v;
      return SMG_OK;
    case SMG_POLICY_OPT_EVICTION_INTERVAL_NS:
      if (kind != K::kCacheAware) break;
      return StoreNanos(v, &c.cache_aware.eviction_interval);
    case SMG_POLICY_OPT_MAX_TREE_SIZE:
      if (kind != K::kCacheAware) break;
      return StoreUnsigned(v, "max_tree_size", &c.cache_aware.max_tree_size, err);
    case SMG_POLICY_OPT_TOKEN_PAGE_SIZE:
      if (kind != K::kCacheAware) break;
      return StoreUnsigned(v, "token_page_size", &c.cache_aware.token_page_size, err);
    case SMG_POLICY_OPT_EVICT_INLINE:
      if (kind != K::kCacheAware) break;
      return StoreBool(v, &c.cache_aware.evict_inline);
    case SMG_POLICY_OPT_IMBALANCE_LOCALITY_WINDOW:
      if (kind != K::kCacheAware) break;
      c.cache_aware.imbalance_locality_window = v;
      return SMG_OK;
    case SMG_POLICY_OPT_LOAD_SAMPLE_SIZE:
      if (kind != K::kCacheAware) break;
      return StoreUnsigned(v, "load_sample_size", &c.cache_aware.load_sample_size, err);
    case SMG_POLICY_OPT_USE_ENGINE_LOAD:
      if (kind != K::kPowerOfTwo) break;
      return StoreBool(v, &c.power_of_two.use_engine_load);
    case SMG_POLICY_OPT_VIRTUAL_NODES:
      if (kind == K::kConsistentHash) {
        return StoreUnsigned(v, "virtual_nodes", &c.consistent_hash.virtual_nodes, err);
      }
      if (kind == K::kPrefixHash) {
        return StoreUnsigned(v, "virtual_nodes", &c.prefix_hash.virtual_nodes, err);
      }
      break;
    case SMG_POLICY_OPT_USE_IMPLICIT_KEYS:
      if (kind != K::kConsistentHash) break;
      return StoreBool(v, &c.consistent_hash.use_implicit_keys);
    case SMG_POLICY_OPT_PREFIX_TOKENS:
      if (kind != K::kPrefixHash) break;
      return StoreUnsigned(v, "prefix_tokens", &c.prefix_hash.prefix_tokens, err);
    case SMG_POLICY_OPT_PREFIX_BYTES:
      if (kind != K::kPrefixHash) break;
      return StoreUnsigned(v, "prefix_bytes", &c.prefix_hash.prefix_bytes, err);
    default:
      break;
  }
  return WrongKey(err, "policy", key, "smg_policy_config_set_int");
}

smg_code_t SetPolicyDouble(smg::PolicyConfig& c, uint32_t key, double v, smg_error_t** err) {
  using K = smg::PolicyKind;
  const K kind = c.kind;
  switch (key) {
    case SMG_POLICY_OPT_CACHE_THRESHOLD:
      if (kind != K::kCacheAware) break;
      c.cache_aware.cache_threshold = v;
      return SMG_OK;
    case SMG_POLICY_OPT_BALANCE_REL_THRESHOLD:
      if (kind != K::kCacheAware) break;
      c.cache_aware.balance_rel_threshold = v;
      return SMG_OK;
    case SMG_POLICY_OPT_EVICT_HEADROOM:
      if (kind != K::kCacheAware) break;
      c.cache_aware.evict_headroom = v;
      return SMG_OK;
    case SMG_POLICY_OPT_LOAD_FACTOR:
      if (kind == K::kConsistentHash) {
        c.consistent_hash.load_factor = v;
        return SMG_OK;
      }
      if (kind == K::kPrefixHash) {
        c.prefix_hash.load_factor = v;
        return SMG_OK;
      }
      break;
    default:
      break;
  }
  return WrongKey(err, "policy", key, "smg_policy_config_set_double");
}

// --- Router options ---------------------------------------------------------

smg_code_t SetRouterInt(smg::capi::RouterOptionsBox& box, uint32_t key, int64_t v,
                        smg_error_t** err) {
  smg::RouterOptions& o = box.options;
  smg::CircuitBreakerOptions& cb = o.circuit_breaker;
  smg::HealthOptions& h = o.health;
  smg::RetryOptions& r = o.retry;
  switch (key) {
    case SMG_ROUTER_OPT_PD_MODE: return StoreBool(v, &o.pd_mode);
    case SMG_ROUTER_OPT_RANDOM_SEED:
      box.random_seed = static_cast<uint64_t>(v);
      return SMG_OK;
    case SMG_ROUTER_OPT_BREAKER_ENABLED: return StoreBool(v, &cb.enabled);
    case SMG_ROUTER_OPT_BREAKER_CONSECUTIVE_FAILURES:
      return StoreUnsigned(v, "breaker consecutive_failures", &cb.consecutive_failures, err);
    case SMG_ROUTER_OPT_BREAKER_MINIMUM_REQUESTS:
      return StoreUnsigned(v, "breaker minimum_requests", &cb.minimum_requests, err);
    case SMG_ROUTER_OPT_BREAKER_WINDOW_NS: return StoreNanos(v, &cb.window);
    case SMG_ROUTER_OPT_BREAKER_WINDOW_BUCKETS:
      return StoreUnsigned(v, "breaker window_buckets", &cb.window_buckets, err);
    case SMG_ROUTER_OPT_BREAKER_SUCCESS_THRESHOLD:
      return StoreUnsigned(v, "breaker success_threshold", &cb.success_threshold, err);
    case SMG_ROUTER_OPT_BREAKER_HALF_OPEN_PROBES:
      return StoreUnsigned(v, "breaker half_open_max_probes", &cb.half_open_max_probes, err);
    case SMG_ROUTER_OPT_BREAKER_OPEN_DURATION_NS: return StoreNanos(v, &cb.open_duration);
    case SMG_ROUTER_OPT_BREAKER_MAX_OPEN_DURATION_NS: return StoreNanos(v, &cb.max_open_duration);
    case SMG_ROUTER_OPT_HEALTH_HEALTHY_THRESHOLD:
      return StoreUnsigned(v, "health healthy_threshold", &h.healthy_threshold, err);
    case SMG_ROUTER_OPT_HEALTH_UNHEALTHY_THRESHOLD:
      return StoreUnsigned(v, "health unhealthy_threshold", &h.unhealthy_threshold, err);
    case SMG_ROUTER_OPT_HEALTH_FAILED_THRESHOLD:
      return StoreUnsigned(v, "health failed_threshold", &h.failed_threshold, err);
    case SMG_ROUTER_OPT_HEALTH_PENDING_FAILED_THRESHOLD:
      return StoreUnsigned(v, "health pending_failed_threshold", &h.pending_failed_threshold, err);
    case SMG_ROUTER_OPT_RETRY_MAX_ATTEMPTS:
      return StoreUnsigned(v, "retry max_attempts", &r.max_attempts, err);
    case SMG_ROUTER_OPT_RETRY_INITIAL_BACKOFF_NS: return StoreNanos(v, &r.initial_backoff);
    case SMG_ROUTER_OPT_RETRY_MAX_BACKOFF_NS: return StoreNanos(v, &r.max_backoff);
    case SMG_ROUTER_OPT_RETRY_BUDGET_MIN_CONCURRENCY: {
      if (!r.budget) r.budget.emplace();
      return StoreUnsigned(v, "retry budget min_concurrency", &r.budget->min_concurrency, err);
    }
    default:
      return WrongKey(err, "router", key, "smg_router_options_set_int");
  }
}

smg_code_t SetRouterDouble(smg::capi::RouterOptionsBox& box, uint32_t key, double v,
                           smg_error_t** err) {
  smg::RouterOptions& o = box.options;
  switch (key) {
    case SMG_ROUTER_OPT_BREAKER_FAILURE_RATE: o.circuit_breaker.failure_rate_threshold = v; return SMG_OK;
    case SMG_ROUTER_OPT_RETRY_BACKOFF_MULTIPLIER: o.retry.backoff_multiplier = v; return SMG_OK;
    case SMG_ROUTER_OPT_RETRY_JITTER: o.retry.jitter = v; return SMG_OK;
    case SMG_ROUTER_OPT_RETRY_BUDGET_PERCENT:
      if (v == 0) {
        o.retry.budget.reset();
      } else {
        if (!o.retry.budget) o.retry.budget.emplace();
        o.retry.budget->percent = v;
      }
      return SMG_OK;
    default:
      return WrongKey(err, "router", key, "smg_router_options_set_double");
  }
}

}  // namespace

extern "C" {

// --- smg_policy_config_t ------------------------------------------------------

smg_code_t smg_policy_config_create(uint8_t kind, smg_policy_config_t** config_out,
                                    smg_error_t** err) {
  return Guarded(err, [&]() -> smg_code_t {
    if (config_out == nullptr) return InvalidArgument(err, "config_out is NULL");
    if (kind > SMG_POLICY_PREFIX_HASH) {
      return InvalidArgument(err, absl::StrCat("policy kind ", kind, " is not an SMG_POLICY_* value"));
    }
    auto config = std::make_unique<smg::PolicyConfig>();
    config->kind = static_cast<smg::PolicyKind>(kind);
    *config_out = smg::capi::Publish<smg_policy_config_t>(std::move(config));
    return SMG_OK;
  });
}

void smg_policy_config_destroy(smg_policy_config_t* config) {
  smg::capi::GuardedVoid([&] { smg::capi::Take(config).reset(); });
}

smg_code_t smg_policy_config_set_int(smg_policy_config_t* config, uint32_t key, int64_t value,
                                     smg_error_t** err) {
  return Guarded(err, [&]() -> smg_code_t {
    smg::PolicyConfig* c = Get(config);
    if (c == nullptr) return InvalidHandle(err, "smg_policy_config_t");
    return SetPolicyInt(*c, key, value, err);
  });
}

smg_code_t smg_policy_config_set_double(smg_policy_config_t* config, uint32_t key, double value,
                                        smg_error_t** err) {
  return Guarded(err, [&]() -> smg_code_t {
    smg::PolicyConfig* c = Get(config);
    if (c == nullptr) return InvalidHandle(err, "smg_policy_config_t");
    return SetPolicyDouble(*c, key, value, err);
  });
}

smg_code_t smg_policy_config_set_string(smg_policy_config_t* config, uint32_t key,
                                        const char* value, size_t value_len, smg_error_t** err) {
  return Guarded(err, [&]() -> smg_code_t {
    smg::PolicyConfig* c = Get(config);
    if (c == nullptr) return InvalidHandle(err, "smg_policy_config_t");
    if (key != SMG_POLICY_OPT_KEY_HEADER || c->kind != smg::PolicyKind::kConsistentHash) {
      return WrongKey(err, "policy", key, "smg_policy_config_set_string");
    }
    absl::string_view v;
    if (smg_code_t code = smg::capi::ToView(value, value_len, "key_header", &v, err);
        code != SMG_OK) {
      return code;
    }
    c->consistent_hash.key_header = std::string(v);
    return SMG_OK;
  });
}

// --- smg_tenant_limits_t ------------------------------------------------------

smg_code_t smg_tenant_limits_create(smg_tenant_limits_t** limits_out) {
  return Guarded(nullptr, [&]() -> smg_code_t {
    if (limits_out == nullptr) return SMG_ERR_INVALID_ARGUMENT;
    *limits_out = smg::capi::Publish<smg_tenant_limits_t>(
        std::make_unique<smg::TenantLimiterOptions>());
    return SMG_OK;
  });
}

void smg_tenant_limits_destroy(smg_tenant_limits_t* limits) {
  smg::capi::GuardedVoid([&] { smg::capi::Take(limits).reset(); });
}

smg_code_t smg_tenant_limits_set(smg_tenant_limits_t* limits, uint32_t scope, const char* tenant,
                                 size_t tenant_len, uint64_t requests_per_minute,
                                 uint64_t tokens_per_minute, smg_error_t** err) {
  return Guarded(err, [&]() -> smg_code_t {
    smg::TenantLimiterOptions* o = Get(limits);
    if (o == nullptr) return InvalidHandle(err, "smg_tenant_limits_t");
    absl::string_view name;
    if (smg_code_t c = smg::capi::ToView(tenant, tenant_len, "tenant", &name, err); c != SMG_OK) {
      return c;
    }
    const smg::RateLimit limit{.requests_per_minute = requests_per_minute,
                               .tokens_per_minute = tokens_per_minute};
    switch (scope) {
      case SMG_LIMIT_DEFAULT_TENANT:
      case SMG_LIMIT_GLOBAL:
        if (!name.empty()) {
          return InvalidArgument(err, "tenant must be empty for the default and global scopes");
        }
        (scope == SMG_LIMIT_GLOBAL ? o->global : o->default_tenant) = limit;
        return SMG_OK;
      case SMG_LIMIT_TENANT:
        if (name.empty() || name.size() > smg::kMaxTenantNameLength) {
          return InvalidArgument(err, absl::StrCat("tenant name must be 1 to ",
                                                   smg::kMaxTenantNameLength, " bytes"));
        }
        o->tenants.insert_or_assign(std::string(name), limit);
        return SMG_OK;
      default:
        return InvalidArgument(err, absl::StrCat("scope ", scope, " is not an SMG_LIMIT_* value"));
    }
  });
}

smg_code_t smg_tenant_limits_set_max_tracked(smg_tenant_limits_t* limits,
                                             uint64_t max_tracked_tenants) {
  smg::TenantLimiterOptions* o = Get(limits);
  if (o == nullptr) return SMG_ERR_INVALID_HANDLE;
  if (max_tracked_tenants == 0 || max_tracked_tenants > smg::kMaxTrackedTenantsLimit) {
    return SMG_ERR_INVALID_ARGUMENT;
  }
  o->max_tracked_tenants = static_cast<size_t>(max_tracked_tenants);
  return SMG_OK;
}

// --- smg_router_options_t -----------------------------------------------------

smg_code_t smg_router_options_create(smg_router_options_t** options_out) {
  return Guarded(nullptr, [&]() -> smg_code_t {
    if (options_out == nullptr) return SMG_ERR_INVALID_ARGUMENT;
    *options_out = smg::capi::Publish<smg_router_options_t>(
        std::make_unique<smg::capi::RouterOptionsBox>());
    return SMG_OK;
  });
}

void smg_router_options_destroy(smg_router_options_t* options) {
  smg::capi::GuardedVoid([&] { smg::capi::Take(options).reset(); });
}

smg_code_t smg_router_options_set_int(smg_router_options_t* options, uint32_t key, int64_t value,
                                      smg_error_t** err) {
  return Guarded(err, [&]() -> smg_code_t {
    smg::capi::RouterOptionsBox* box = Get(options);
    if (box == nullptr) return InvalidHandle(err, "smg_router_options_t");
    return SetRouterInt(*box, key, value, err);
  });
}

smg_code_t smg_router_options_set_double(smg_router_options_t* options, uint32_t key,
                                         double value, smg_error_t** err) {
  return Guarded(err, [&]() -> smg_code_t {
    smg::capi::RouterOptionsBox* box = Get(options);
    if (box == nullptr) return InvalidHandle(err, "smg_router_options_t");
    return SetRouterDouble(*box, key, value, err);
  });
}

smg_code_t smg_router_options_set_string(smg_router_options_t* options, uint32_t key,
                                         const char* value, size_t value_len, smg_error_t** err) {
  return Guarded(err, [&]() -> smg_code_t {
    smg::capi::RouterOptionsBox* box = Get(options);
    if (box == nullptr) return InvalidHandle(err, "smg_router_options_t");
    if (key != SMG_ROUTER_OPT_DEFAULT_MODEL) {
      return WrongKey(err, "router", key, "smg_router_options_set_string");
    }
    absl::string_view v;
    if (smg_code_t c = smg::capi::ToView(value, value_len, "default_model", &v, err); c != SMG_OK) {
      return c;
    }
    box->options.default_model = std::string(v);
    return SMG_OK;
  });
}

smg_code_t smg_router_options_set_policy(smg_router_options_t* options, const char* model,
                                         size_t model_len, uint32_t slot,
                                         const smg_policy_config_t* config, smg_error_t** err) {
  return Guarded(err, [&]() -> smg_code_t {
    smg::capi::RouterOptionsBox* box = Get(options);
    if (box == nullptr) return InvalidHandle(err, "smg_router_options_t");
    const smg::PolicyConfig* c = Get(config);
    if (c == nullptr) return InvalidHandle(err, "smg_policy_config_t");
    absl::string_view name;
    if (smg_code_t code = smg::capi::ToView(model, model_len, "model", &name, err); code != SMG_OK) {
      return code;
    }
    smg::WorkerType leg = smg::WorkerType::kRegular;
    if (smg_code_t code = smg::capi::ToWorkerType(slot, &leg, err); code != SMG_OK) return code;
    smg::PolicySet& set =
        name.empty() ? box->options.policies : box->options.model_policies[std::string(name)];
    switch (leg) {
      case smg::WorkerType::kRegular: set.policy = *c; break;
      case smg::WorkerType::kPrefill: set.prefill = *c; break;
      case smg::WorkerType::kDecode: set.decode = *c; break;
    }
    return SMG_OK;
  });
}

smg_code_t smg_router_options_set_statuses(smg_router_options_t* options, uint32_t which,
                                           const int32_t* statuses, size_t statuses_len,
                                           uint8_t transport_errors, smg_error_t** err) {
  return Guarded(err, [&]() -> smg_code_t {
    smg::capi::RouterOptionsBox* box = Get(options);
    if (box == nullptr) return InvalidHandle(err, "smg_router_options_t");
    if (smg_code_t c = smg::capi::CheckArray(statuses, statuses_len, SMG_MAX_LIST_LENGTH,
                                             "statuses", err);
        c != SMG_OK) {
      return c;
    }
    if (which != SMG_STATUSES_FAILURE && which != SMG_STATUSES_RETRYABLE) {
      return InvalidArgument(err, absl::StrCat("which ", which, " is not an SMG_STATUSES_* value"));
    }
    std::vector<int> list(statuses, statuses + statuses_len);
    absl::StatusOr<smg::FailureClassifier> classifier =
        smg::FailureClassifier::Create(list, transport_errors != 0);
    if (!classifier.ok()) return smg::capi::FailStatus(err, classifier.status());
    (which == SMG_STATUSES_FAILURE ? box->options.failure_classifier : box->options.retry.retryable) =
        *classifier;
    return SMG_OK;
  });
}

smg_code_t smg_router_options_set_tenant_limits(smg_router_options_t* options,
                                                const smg_tenant_limits_t* limits) {
  return Guarded(nullptr, [&]() -> smg_code_t {
    smg::capi::RouterOptionsBox* box = Get(options);
    if (box == nullptr) return SMG_ERR_INVALID_HANDLE;
    if (limits == nullptr) {
      box->options.tenant_limits.reset();
      return SMG_OK;
    }
    const smg::TenantLimiterOptions* o = Get(limits);
    if (o == nullptr) return SMG_ERR_INVALID_HANDLE;
    box->options.tenant_limits = *o;
    return SMG_OK;
  });
}

smg_code_t smg_router_options_set_clock(smg_router_options_t* options,
                                        const smg_manual_clock_t* clock) {
  smg::capi::RouterOptionsBox* box = Get(options);
  if (box == nullptr) return SMG_ERR_INVALID_HANDLE;
  if (clock == nullptr) {
    box->clock = nullptr;
    return SMG_OK;
  }
  const smg::ManualClock* c = Get(clock);
  if (c == nullptr) return SMG_ERR_INVALID_HANDLE;
  box->clock = c;
  return SMG_OK;
}

smg_code_t smg_router_options_set_event_callback(smg_router_options_t* options, smg_event_fn fn,
                                                 void* user_data) {
  smg::capi::RouterOptionsBox* box = Get(options);
  if (box == nullptr) return SMG_ERR_INVALID_HANDLE;
  box->event_fn = fn;
  box->event_user_data = user_data;
  return SMG_OK;
}

}  // extern "C"
