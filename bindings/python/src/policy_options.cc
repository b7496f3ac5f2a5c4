// Policy and PolicySet: which policy a model's legs run, with its options
// (smgcore/policy_config.h).
//
// Policy's keyword options default to None, meaning "the C++ default", so
// that an option given for the wrong kind is an error rather than silently
// ignored as it is in C++ (PolicyConfig reads only the options of its kind).
// `Policy(kind).options` shows the effective values, C++ defaults included.
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "convert.h"
#include "errors.h"
#include "module.h"
#include "options.h"

namespace py = pybind11;

namespace smg::python {
namespace {

using OptFloat = std::optional<double>;
using OptInt = std::optional<py::int_>;
using OptBool = std::optional<bool>;

PolicyKind ParseKind(absl::string_view name) {
  if (name == "custom") {
    ThrowInvalidArgument("custom policies cannot be built from Python");
  }
  return ValueOrThrow(ParsePolicyKind(name));
}

// The options that apply to `config.kind`, with their values.
py::dict OptionsDict(const PolicyConfig& c) {
  py::dict d;
  switch (c.kind) {
    case PolicyKind::kCacheAware: {
      const CacheAwareOptions& o = c.cache_aware;
      d["cache_threshold"] = o.cache_threshold;
      d["balance_abs_threshold"] = o.balance_abs_threshold;
      d["balance_rel_threshold"] = o.balance_rel_threshold;
      d["eviction_interval"] = ToSeconds(o.eviction_interval);
      d["max_tree_size"] = o.max_tree_size;
      d["token_page_size"] = o.token_page_size;
      d["evict_inline"] = o.evict_inline;
      d["evict_headroom"] = o.evict_headroom;
      d["imbalance_locality_window"] = o.imbalance_locality_window;
      d["load_sample_size"] = o.load_sample_size;
      break;
    }
    case PolicyKind::kPowerOfTwo:
      d["use_engine_load"] = c.power_of_two.use_engine_load;
      break;
    case PolicyKind::kConsistentHash: {
      const ConsistentHashOptions& o = c.consistent_hash;
      d["virtual_nodes"] = o.virtual_nodes;
      d["key_header"] = o.key_header;
      d["use_implicit_keys"] = o.use_implicit_keys;
      d["load_factor"] = o.load_factor;
      break;
    }
    case PolicyKind::kPrefixHash: {
      const PrefixHashOptions& o = c.prefix_hash;
      d["prefix_tokens"] = o.prefix_tokens;
      d["prefix_bytes"] = o.prefix_bytes;
      d["virtual_nodes"] = o.virtual_nodes;
      d["load_factor"] = o.load_factor;
      break;
    }
    default:
      break;
  }
  return d;
}

std::string PolicyRepr(const PolicyConfig& c) {
  std::string out = absl::StrCat("Policy('", PolicyKindName(c.kind), "'");
  for (auto [key, value] : OptionsDict(c)) {
    absl::StrAppend(&out, ", ", py::str(key).cast<std::string>(), "=",
                    py::repr(value).cast<std::string>());
  }
  return out + ")";
}

bool PolicyEquals(const PolicyConfig& a, const PolicyConfig& b) {
  return a.kind == b.kind && OptionsDict(a).equal(OptionsDict(b));
}

// The keyword options of Policy(), checked against the kind they belong to.
struct PolicyKeywords {
  OptFloat cache_threshold;
  OptInt balance_abs_threshold;
  OptFloat balance_rel_threshold;
  OptFloat eviction_interval;
  OptInt max_tree_size;
  OptInt token_page_size;
  OptBool evict_inline;
  OptFloat evict_headroom;
  OptInt imbalance_locality_window;
  OptInt load_sample_size;
  OptBool use_engine_load;
  OptInt virtual_nodes;
  std::optional<Text> key_header;
  OptBool use_implicit_keys;
  OptFloat load_factor;
  OptInt prefix_tokens;
  OptInt prefix_bytes;

  PolicyConfig Build(PolicyKind kind) const {
    PolicyConfig c;
    c.kind = kind;
    // Refuses an option given for another kind: `owners` lists the kinds
    // that read it.
    auto check = [kind](bool given, absl::string_view option,
                        std::initializer_list<PolicyKind> owners) {
      if (!given) return false;
      for (PolicyKind k : owners) {
        if (k == kind) return true;
      }
      std::vector<std::string> names;
      for (PolicyKind k : owners) names.emplace_back(PolicyKindName(k));
      ThrowInvalidArgument(absl::StrCat("option ", option, " applies to ",
                                        absl::StrJoin(names, " and "), ", not to ",
                                        PolicyKindName(kind)));
    };
    using K = PolicyKind;
    CacheAwareOptions& ca = c.cache_aware;
    if (check(cache_threshold.has_value(), "cache_threshold", {K::kCacheAware})) {
      ca.cache_threshold = *cache_threshold;
    }
    if (check(balance_abs_threshold.has_value(), "balance_abs_threshold", {K::kCacheAware})) {
      ca.balance_abs_threshold =
          CheckedInt<int64_t>(*balance_abs_threshold, "balance_abs_threshold", 0);
    }
    if (check(balance_rel_threshold.has_value(), "balance_rel_threshold", {K::kCacheAware})) {
      ca.balance_rel_threshold = *balance_rel_threshold;
    }
    if (check(eviction_interval.has_value(), "eviction_interval", {K::kCacheAware})) {
      ca.eviction_interval = Seconds(*eviction_interval, "eviction_interval");
    }
    if (check(max_tree_size.has_value(), "max_tree_size", {K::kCacheAware})) {
      ca.max_tree_size = CheckedInt<size_t>(*max_tree_size, "max_tree_size");
    }
    if (check(token_page_size.has_value(), "token_page_size", {K::kCacheAware})) {
      ca.token_page_size = CheckedInt<size_t>(*token_page_size, "token_page_size");
    }
    if (check(evict_inline.has_value(), "evict_inline", {K::kCacheAware})) {
      ca.evict_inline = *evict_inline;
    }
    if (check(evict_headroom.has_value(), "evict_headroom", {K::kCacheAware})) {
      ca.evict_headroom = *evict_headroom;
    }
    if (check(imbalance_locality_window.has_value(), "imbalance_locality_window",
              {K::kCacheAware})) {
      ca.imbalance_locality_window =
          CheckedInt<int64_t>(*imbalance_locality_window, "imbalance_locality_window", 0);
    }
    if (check(load_sample_size.has_value(), "load_sample_size", {K::kCacheAware})) {
      ca.load_sample_size = CheckedInt<size_t>(*load_sample_size, "load_sample_size");
    }
    if (check(use_engine_load.has_value(), "use_engine_load", {K::kPowerOfTwo})) {
      c.power_of_two.use_engine_load = *use_engine_load;
    }
    if (check(virtual_nodes.has_value(), "virtual_nodes", {K::kConsistentHash, K::kPrefixHash})) {
      const auto n = CheckedInt<uint32_t>(*virtual_nodes, "virtual_nodes");
      c.consistent_hash.virtual_nodes = n;
      c.prefix_hash.virtual_nodes = n;
    }
    if (check(key_header.has_value(), "key_header", {K::kConsistentHash})) {
      c.consistent_hash.key_header = key_header->str();
    }
    if (check(use_implicit_keys.has_value(), "use_implicit_keys", {K::kConsistentHash})) {
      c.consistent_hash.use_implicit_keys = *use_implicit_keys;
    }
    if (check(load_factor.has_value(), "load_factor", {K::kConsistentHash, K::kPrefixHash})) {
      c.consistent_hash.load_factor = *load_factor;
      c.prefix_hash.load_factor = *load_factor;
    }
    if (check(prefix_tokens.has_value(), "prefix_tokens", {K::kPrefixHash})) {
      c.prefix_hash.prefix_tokens = CheckedInt<size_t>(*prefix_tokens, "prefix_tokens");
    }
    if (check(prefix_bytes.has_value(), "prefix_bytes", {K::kPrefixHash})) {
      c.prefix_hash.prefix_bytes = CheckedInt<size_t>(*prefix_bytes, "prefix_bytes");
    }
    ThrowIfError(ValidatePolicyConfig(c));
    return c;
  }
};

std::string PolicySetRepr(const PolicySet& s) {
  std::string out = absl::StrCat("PolicySet(", PolicyRepr(s.policy));
  if (s.prefill) absl::StrAppend(&out, ", prefill=", PolicyRepr(*s.prefill));
  if (s.decode) absl::StrAppend(&out, ", decode=", PolicyRepr(*s.decode));
  return out + ")";
}

std::optional<PolicyConfig> OptionalPolicy(const std::optional<PolicyArg>& arg,
                                           absl::string_view field) {
  if (!arg.has_value()) return std::nullopt;
  return ToPolicyConfig(arg->obj, field);
}

}  // namespace

PolicyConfig ToPolicyConfig(py::handle policy, absl::string_view field) {
  if (PyUnicode_Check(policy.ptr())) {
    PolicyConfig c;
    c.kind = ParseKind(Utf8View(policy, field));
    return c;
  }
  if (py::isinstance<PolicyConfig>(policy)) return policy.cast<PolicyConfig>();
  throw py::type_error(absl::StrCat(field, " must be a policy name (str) or a Policy, not ",
                                    Py_TYPE(policy.ptr())->tp_name));
}

PolicySet ToPolicySet(py::handle policies, absl::string_view field) {
  if (py::isinstance<PolicySet>(policies)) return policies.cast<PolicySet>();
  PolicySet s;
  s.policy = ToPolicyConfig(policies, field);
  return s;
}

void RegisterPolicyOptions(py::module_& m) {
  py::class_<PolicyConfig>(
      m, "Policy",
      "A policy kind and its options. Kinds: random, round_robin, power_of_two, "
      "cache_aware, consistent_hash (or consistent_hashing), prefix_hash. Options left "
      "None take the C++ defaults (README: Policies and their defaults); an option of "
      "another kind is InvalidArgument. Durations are seconds.")
      .def(py::init([](Text kind, OptFloat cache_threshold, OptInt balance_abs_threshold,
                       OptFloat balance_rel_threshold, OptFloat eviction_interval,
                       OptInt max_tree_size, OptInt token_page_size, OptBool evict_inline,
                       OptFloat evict_headroom, OptInt imbalance_locality_window,
                       OptInt load_sample_size, OptBool use_engine_load, OptInt virtual_nodes,
                       std::optional<Text> key_header, OptBool use_implicit_keys,
                       OptFloat load_factor, OptInt prefix_tokens, OptInt prefix_bytes) {
             const PolicyKeywords k{cache_threshold,   balance_abs_threshold, balance_rel_threshold,
                                    eviction_interval, max_tree_size,         token_page_size,
                                    evict_inline,      evict_headroom,        imbalance_locality_window,
                                    load_sample_size,  use_engine_load,       virtual_nodes,
                                    key_header,        use_implicit_keys,     load_factor,
                                    prefix_tokens,     prefix_bytes};
             return k.Build(ParseKind(kind.view));
           }),
           py::arg("kind") = "round_robin", py::kw_only(),
           py::arg("cache_threshold") = py::none(), py::arg("balance_abs_threshold") = py::none(),
           py::arg("balance_rel_threshold") = py::none(),
           py::arg("eviction_interval") = py::none(), py::arg("max_tree_size") = py::none(),
           py::arg("token_page_size") = py::none(), py::arg("evict_inline") = py::none(),
           py::arg("evict_headroom") = py::none(),
           py::arg("imbalance_locality_window") = py::none(),
           py::arg("load_sample_size") = py::none(), py::arg("use_engine_load") = py::none(),
           py::arg("virtual_nodes") = py::none(), py::arg("key_header") = py::none(),
           py::arg("use_implicit_keys") = py::none(), py::arg("load_factor") = py::none(),
           py::arg("prefix_tokens") = py::none(), py::arg("prefix_bytes") = py::none())
      .def_property_readonly(
          "kind", [](const PolicyConfig& c) { return Name(PolicyKindName(c.kind)); },
          "The policy's name.")
      .def_property_readonly("options", &OptionsDict,
                             "The options of this kind with their values (a new dict).")
      .def("__repr__", &PolicyRepr)
      .def("__eq__",
           [](const PolicyConfig& a, py::object b) {
             return py::isinstance<PolicyConfig>(b) && PolicyEquals(a, b.cast<PolicyConfig>());
           })
      .def("__hash__", [](const PolicyConfig& c) { return py::hash(py::str(PolicyRepr(c))); });

  py::class_<PolicySet>(m, "PolicySet",
                        "A model's policies: `policy` for regular workers and, in PD mode, "
                        "`prefill` and `decode`, which default to `policy`.")
      .def(py::init([](const PolicyArg& policy, const std::optional<PolicyArg>& prefill,
                       const std::optional<PolicyArg>& decode) {
             PolicySet s;
             s.policy = ToPolicyConfig(policy.obj, "policy");
             s.prefill = OptionalPolicy(prefill, "prefill");
             s.decode = OptionalPolicy(decode, "decode");
             return s;
           }),
           py::arg("policy") = "round_robin", py::kw_only(), py::arg("prefill") = py::none(),
           py::arg("decode") = py::none())
      .def_property_readonly(
          "policy", [](const PolicySet& s) { return s.policy; }, "The regular workers' policy.")
      .def_property_readonly(
          "prefill", [](const PolicySet& s) { return s.prefill; },
          "The prefill policy, or None for `policy`.")
      .def_property_readonly(
          "decode", [](const PolicySet& s) { return s.decode; },
          "The decode policy, or None for `policy`.")
      .def("__repr__", &PolicySetRepr);
}

}  // namespace smg::python
