// File: smgcore/policy_config.h
//
// How to build each built-in policy, with defaults. Defaults follow SMG's
// command-line defaults (the values SMG deployments actually run with), not
// its struct defaults; where smgcore behaves differently the comment says so.
//
//   smg::PolicyConfig p;
//   p.kind = smg::PolicyKind::kCacheAware;
//   p.cache_aware.cache_threshold = 0.5;
#ifndef SMGCORE_POLICY_CONFIG_H_
#define SMGCORE_POLICY_CONFIG_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "smgcore/clock.h"
#include "smgcore/policy.h"
#include "smgcore/random.h"

namespace smg {

// PolicyKind
enum class PolicyKind : uint8_t {
  // Uniform over the healthy candidates.
  kRandom = 0,
  // Rotation over the healthy candidates, weighted when weights differ.
  kRoundRobin = 1,
  // Two distinct random candidates; the less loaded one wins.
  kPowerOfTwo = 2,
  // Prefix-cache-aware routing over radix trees (SMG's algorithm, improved).
  kCacheAware = 3,
  // Routing key or header hashed onto a ring with bounded load.
  kConsistentHash = 4,
  // The prompt's first units hashed onto the same kind of ring.
  kPrefixHash = 5,
  // Built by PolicyConfig::custom_factory.
  kCustom = 6,
};

// PolicyKindName()
//
// "random", "round_robin", "power_of_two", "cache_aware", "consistent_hash",
// "prefix_hash" or "custom".
absl::string_view PolicyKindName(PolicyKind kind);

// ParsePolicyKind()
//
// The inverse of PolicyKindName() for the built-in kinds (also accepts SMG's
// "consistent_hashing"). InvalidArgument for anything else.
absl::StatusOr<PolicyKind> ParsePolicyKind(absl::string_view name);

// CacheAwareOptions
//
// SMG's cache_aware algorithm (smg.md §1), per model and leg:
//  1. If the in-flight loads of the healthy candidates are imbalanced
//     (max - min > balance_abs_threshold AND max > balance_rel_threshold * min),
//     route to the least loaded worker (ties: fewer requests served, then
//     lower id) and still record the prompt in the tree for it.
//  2. Otherwise match the prompt against the tree. If the matched share
//     exceeds cache_threshold, route to an owner of the matched prefix.
//  3. Otherwise route to the worker holding the least cached data.
// Improvements over SMG:
//  - several owners of the matched prefix: the least loaded wins (ties: most
//    recently used); SMG takes whichever its hash map yields first;
//  - an unhealthy or removed owner is skipped rather than pinning traffic to
//    the first healthy worker;
//  - the tree budget is global per tree, not per worker (smg#2137), and
//    removed workers leave the tree at once (smg#2132);
//  - optional locality under imbalance (sglang#32195): with
//    imbalance_locality_window = w > 0, the imbalanced branch routes to an
//    owner of the longest stored prefix of the prompt if one has a load
//    within w of the minimum (the least loaded such owner); otherwise to the
//    least loaded worker. Workers holding only a shorter prefix are not
//    considered: the tree reports the owners of the deepest match only.
struct CacheAwareOptions {
  // Minimum matched/prompt ratio for a prefix match to decide the route.
  double cache_threshold = 0.3;
  // Absolute in-flight spread that, together with the relative one, means
  // imbalance.
  int64_t balance_abs_threshold = 64;
  // Relative in-flight spread (max > rel * min) that, together with the
  // absolute one, means imbalance. Must be >= 1.
  double balance_rel_threshold = 1.5;
  // How often Router::RunMaintenance() evicts each tree that is over its
  // budget (down to the budget less `evict_headroom`).
  absl::Duration eviction_interval = absl::Seconds(120);
  // Global budget of each tree in stored units (bytes or tokens). 0 = none.
  size_t max_tree_size = size_t{1} << 26;
  // Token page size: token prompts are matched and stored in whole pages, as
  // the engine's KV cache stores them. SMG fixes it at 16.
  size_t token_page_size = 16;
  // Evict inline when an insert pushes a tree above its budget, in addition
  // to the periodic eviction.
  bool evict_inline = false;
  // Fraction of the budget that eviction frees beyond it, so that a tree
  // over budget is evicted in batches (TreeOptions::evict_headroom). In
  // [0, 0.5]; 0 evicts exactly to the budget.
  double evict_headroom = 1.0 / 64;
  // See above; 0 keeps SMG's behaviour (least loaded, locality ignored).
  int64_t imbalance_locality_window = 0;
  // Bound on the candidates whose loads (and, on a miss, cached amounts) one
  // selection reads, so its cost does not grow with the fleet. With up to
  // this many healthy candidates every one is read (SMG's exact behaviour);
  // above it, this many distinct candidates chosen at random (from the
  // injected RandomSource) stand for the fleet: the least loaded worker and
  // the least cached worker come from the sample, which is
  // power-of-d-choices balancing (SMG's follow-up smg#1789 samples 8). The
  // imbalance check, which every selection makes, reads only the first
  // quarter of the sample and compares the range of those loads together
  // with the readings of the same thread's previous three selections: as
  // many readings as the sample, at most three selections old, for a
  // quarter of the reads (old in the thread's selections, not in time: after
  // a quiet spell, up to three selections may see an imbalance that has
  // passed). Owners of a matched prefix are always considered,
  // sampled or not. 0 = always read every candidate.
  size_t load_sample_size = 32;
};

// PowerOfTwoOptions
struct PowerOfTwoOptions {
  // Compare the engine loads the host reported (Router::SetEngineLoad) when
  // both candidates have one; otherwise compare in-flight requests.
  bool use_engine_load = true;
};

// ConsistentHashOptions
//
// Key precedence: RouteRequest::routing_key, then the `key_header` header,
// then (if enabled) the implicit keys authorization, x-forwarded-for and
// cookie, in that order; with no key at all the pick is random.
// Bounded load (Mirrokni et al.): a worker whose in-flight count is at or
// above load_factor * (leg in-flight + 1) / candidates is skipped and the
// walk continues clockwise, so one hot key cannot overload its worker.
struct ConsistentHashOptions {
  // Virtual nodes per worker on the ring.
  uint32_t virtual_nodes = 150;
  // Header carrying the routing key (case-insensitive).
  std::string key_header = "x-smg-routing-key";
  // Use authorization / x-forwarded-for / cookie when no explicit key is set.
  bool use_implicit_keys = true;
  // Load bound factor (> 1); 0 disables the bound.
  double load_factor = 1.25;
};

// PrefixHashOptions
//
// XXH3 of the prompt's first units on a ring, bounded as above. Tokens are
// used when the request has them, else text bytes (SMG needs tokens and
// fails over HTTP; smgcore hashes the text instead).
struct PrefixHashOptions {
  // Tokens hashed when the request carries token ids.
  size_t prefix_tokens = 256;
  // Bytes hashed when it carries only text.
  size_t prefix_bytes = 1024;
  // Virtual nodes per worker on the ring.
  uint32_t virtual_nodes = 150;
  // Load bound factor (> 1); 0 disables the bound.
  double load_factor = 1.25;
};

// PolicyContext
//
// What a policy may depend on besides its options. Both pointers outlive the
// policy (the router guarantees it).
struct PolicyContext {
  const Clock* clock = nullptr;
  RandomSource* random = nullptr;
};

// PolicyConfig
//
// Which policy to build and its options; only the options of `kind` are read.
struct PolicyConfig {
  PolicyKind kind = PolicyKind::kRoundRobin;
  CacheAwareOptions cache_aware;
  PowerOfTwoOptions power_of_two;
  ConsistentHashOptions consistent_hash;
  PrefixHashOptions prefix_hash;
  // For kCustom: builds the policy. Called once per model and leg.
  std::function<PolicyPtr(const PolicyContext&)> custom_factory;
};

// ValidatePolicyConfig()
//
// InvalidArgument naming the offending field when an option is out of range
// (negative thresholds, rel < 1, page size 0, load factor in (0, 1], a custom
// kind without a factory...).
absl::Status ValidatePolicyConfig(const PolicyConfig& config);

// CreatePolicy()
//
// Builds the policy described by `config` (validated first).
absl::StatusOr<PolicyPtr> CreatePolicy(const PolicyConfig& config, const PolicyContext& context);

}  // namespace smg

#endif  // SMGCORE_POLICY_CONFIG_H_
