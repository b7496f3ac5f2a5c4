// Per-policy behaviour through the public Router API: random, round_robin,
// power_of_two, consistent_hash, prefix_hash, per-model policies, option
// validation and custom policies. Deterministic: every router gets a
// SeededRandom and a ManualClock.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "policies/consistent_hash/hash_ring.h"
#include "smgcore/clock.h"
#include "smgcore/policy.h"
#include "smgcore/policy_config.h"
#include "smgcore/random.h"
#include "smgcore/request.h"
#include "smgcore/router.h"

namespace smg {
namespace {

using ::testing::HasSubstr;

std::string UrlOf(int i) { return absl::StrCat("http://10.0.0.", i, ":8000"); }

// A router with injected time and randomness, and helpers to drive it.
class Harness {
 public:
  explicit Harness(PolicyConfig config, uint64_t seed = 42) : random_(seed) {
    RouterOptions options;
    options.policies.policy = std::move(config);
    Init(std::move(options));
  }
  explicit Harness(RouterOptions options, uint64_t seed = 42) : random_(seed) {
    Init(std::move(options));
  }

  Router& router() { return *router_; }
  ManualClock& clock() { return clock_; }

  WorkerId Add(int i, uint32_t weight = 1, const std::string& model = "") {
    WorkerSpec spec;
    spec.url = UrlOf(i);
    spec.weight = weight;
    spec.model = model;
    absl::StatusOr<WorkerId> id = router_->AddWorker(spec);
    EXPECT_TRUE(id.ok()) << id.status();
    return id.value_or(kInvalidWorkerId);
  }
  std::vector<WorkerId> AddN(int n, const std::string& model = "") {
    std::vector<WorkerId> ids;
    for (int i = 1; i <= n; ++i) ids.push_back(Add(i + next_url_, 1, model));
    next_url_ += n;
    return ids;
  }

  // Selects and finishes at once (no load left behind); the chosen id.
  WorkerId Pick(const RouteRequest& request = {}) {
    absl::StatusOr<Ticket> t = router_->Select(request);
    EXPECT_TRUE(t.ok()) << t.status();
    if (!t.ok()) return kInvalidWorkerId;
    const WorkerId id = t->worker().id();
    EXPECT_TRUE(t->Finish(Outcome::Ok()).ok());
    return id;
  }
  // Selects and keeps the ticket open (one more in flight); the chosen id.
  WorkerId Hold(const RouteRequest& request = {}) {
    absl::StatusOr<Ticket> t = router_->Select(request);
    EXPECT_TRUE(t.ok()) << t.status();
    if (!t.ok()) return kInvalidWorkerId;
    const WorkerId id = t->worker().id();
    held_.push_back(*std::move(t));
    return id;
  }
  void ReleaseAll() { held_.clear(); }

  int64_t InFlight(WorkerId id) {
    absl::StatusOr<WorkerPtr> w = router_->GetWorker(id);
    EXPECT_TRUE(w.ok());
    return w.ok() ? (*w)->in_flight() : -1;
  }
  void SetHealthy(WorkerId id, bool healthy) {
    ASSERT_TRUE(router_
                    ->SetHealth(id, healthy ? WorkerHealth::kReady : WorkerHealth::kNotReady)
                    .ok());
  }
  PolicyStats Stats(const std::string& model = "default") {
    absl::StatusOr<ModelStats> s = router_->GetModelStats(model);
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? s->policy[0] : PolicyStats{};
  }

 private:
  void Init(RouterOptions options) {
    absl::StatusOr<std::unique_ptr<Router>> r =
        Router::Create(std::move(options), {.clock = &clock_, .random = &random_});
    ASSERT_TRUE(r.ok()) << r.status();
    router_ = *std::move(r);
  }

  ManualClock clock_;
  SeededRandom random_;
  std::unique_ptr<Router> router_;
  std::vector<Ticket> held_;
  int next_url_ = 0;
};

PolicyConfig Config(PolicyKind kind) {
  PolicyConfig c;
  c.kind = kind;
  return c;
}

RouteRequest KeyRequest(absl::string_view key) {
  RouteRequest r;
  r.routing_key = key;
  return r;
}

// ============================================================================
// random
// ============================================================================

TEST(RandomPolicyTest, UniformOverEightWorkers) {
  Harness h(Config(PolicyKind::kRandom));
  std::vector<WorkerId> ids = h.AddN(8);
  std::map<WorkerId, int> counts;
  const int kDraws = 16000;
  for (int i = 0; i < kDraws; ++i) ++counts[h.Pick()];
  ASSERT_EQ(counts.size(), 8u);
  const double expected = kDraws / 8.0;
  double chi2 = 0;
  for (WorkerId id : ids) {
    const double d = counts[id] - expected;
    chi2 += d * d / expected;
    // Each share within 10% of the fair one (sd is about 1.9%).
    EXPECT_NEAR(counts[id], expected, expected * 0.10) << "worker " << id;
  }
  // 7 degrees of freedom: P(chi2 > 24.3) = 0.001.
  EXPECT_LT(chi2, 24.3);
}

TEST(RandomPolicyTest, NeverPicksUnhealthyWorkers) {
  Harness h(Config(PolicyKind::kRandom));
  std::vector<WorkerId> ids = h.AddN(8);
  const std::set<WorkerId> unhealthy = {ids[0], ids[3], ids[7]};
  for (WorkerId id : unhealthy) h.SetHealthy(id, false);
  std::set<WorkerId> seen;
  for (int i = 0; i < 2000; ++i) {
    const WorkerId id = h.Pick();
    ASSERT_EQ(unhealthy.count(id), 0u) << "picked unhealthy worker " << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 5u);  // every healthy one is used
  // Back to healthy: picked again.
  h.SetHealthy(ids[3], true);
  bool picked = false;
  for (int i = 0; i < 500 && !picked; ++i) picked = h.Pick() == ids[3];
  EXPECT_TRUE(picked);
}

TEST(RandomPolicyTest, ErrorCodes) {
  Harness h(Config(PolicyKind::kRandom));
  // No worker at all for the model.
  absl::StatusOr<Ticket> t = h.router().Select({});
  EXPECT_EQ(t.status().code(), absl::StatusCode::kNotFound);
  std::vector<WorkerId> ids = h.AddN(3);
  RouteRequest other;
  other.model = "other-model";
  EXPECT_EQ(h.router().Select(other).status().code(), absl::StatusCode::kNotFound);
  // All unhealthy.
  for (WorkerId id : ids) h.SetHealthy(id, false);
  t = h.router().Select({});
  EXPECT_EQ(t.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(t.status().message(), HasSubstr("not ready"));
  // Removing them all makes it NotFound again.
  for (WorkerId id : ids) ASSERT_TRUE(h.router().RemoveWorker(id).ok());
  EXPECT_EQ(h.router().Select({}).status().code(), absl::StatusCode::kNotFound);
}

// ============================================================================
// round_robin
// ============================================================================

TEST(RoundRobinPolicyTest, ExactRotationWithEqualWeights) {
  Harness h(Config(PolicyKind::kRoundRobin));
  std::vector<WorkerId> ids = h.AddN(4);
  std::vector<WorkerId> picks;
  for (int i = 0; i < 40; ++i) picks.push_back(h.Pick());
  // The first four are a permutation, then it repeats exactly, in id order.
  EXPECT_EQ(std::set<WorkerId>(picks.begin(), picks.begin() + 4).size(), 4u);
  for (size_t i = 4; i < picks.size(); ++i) ASSERT_EQ(picks[i], picks[i - 4]) << i;
  for (size_t i = 1; i < picks.size(); ++i) {
    const auto pos = [&](WorkerId id) { return std::find(ids.begin(), ids.end(), id) - ids.begin(); };
    EXPECT_EQ(pos(picks[i]), (pos(picks[i - 1]) + 1) % 4) << i;
  }
}

TEST(RoundRobinPolicyTest, RotationIgnoresLoad) {
  // Held tickets do not disturb the rotation.
  Harness h(Config(PolicyKind::kRoundRobin));
  h.AddN(3);
  std::vector<WorkerId> picks;
  for (int i = 0; i < 30; ++i) picks.push_back(h.Hold());
  for (size_t i = 3; i < picks.size(); ++i) ASSERT_EQ(picks[i], picks[i - 3]);
  EXPECT_EQ(std::set<WorkerId>(picks.begin(), picks.end()).size(), 3u);
}

// Longest run of consecutive picks of `id` in the cyclic sequence `picks`.
int LongestRun(const std::vector<WorkerId>& picks, WorkerId id) {
  int best = 0, run = 0;
  for (size_t i = 0; i < 2 * picks.size(); ++i) {
    run = picks[i % picks.size()] == id ? run + 1 : 0;
    best = std::max(best, run);
  }
  return std::min(best, static_cast<int>(picks.size()));
}

TEST(RoundRobinPolicyTest, WeightedThreeToOne) {
  Harness h(Config(PolicyKind::kRoundRobin));
  const WorkerId heavy = h.Add(1, 3);
  const WorkerId light = h.Add(2, 1);
  std::vector<WorkerId> picks;
  for (int i = 0; i < 40; ++i) picks.push_back(h.Pick());
  // Every window of 4 consecutive picks (any offset) has exactly 3 + 1.
  for (size_t start = 0; start + 4 <= picks.size(); ++start) {
    const auto n = std::count(picks.begin() + static_cast<long>(start),
                              picks.begin() + static_cast<long>(start) + 4, heavy);
    ASSERT_EQ(n, 3) << "window at " << start;
  }
  // Not in bursts: never more than 3 heavy picks in a row, never 2 light.
  int run_heavy = 0, run_light = 0;
  for (WorkerId id : picks) {
    run_heavy = id == heavy ? run_heavy + 1 : 0;
    run_light = id == light ? run_light + 1 : 0;
    ASSERT_LE(run_heavy, 3);
    ASSERT_LE(run_light, 1);
  }
}

TEST(RoundRobinPolicyTest, WeightedExactCountsPerCycle) {
  Harness h(Config(PolicyKind::kRoundRobin));
  const std::vector<uint32_t> weights = {5, 1, 3, 2, 7};
  std::vector<WorkerId> ids;
  for (size_t i = 0; i < weights.size(); ++i) ids.push_back(h.Add(static_cast<int>(i) + 1, weights[i]));
  const int total = 18;
  for (int cycle = 0; cycle < 3; ++cycle) {
    std::map<WorkerId, uint32_t> counts;
    for (int i = 0; i < total; ++i) ++counts[h.Pick()];
    for (size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(counts[ids[i]], weights[i]) << "cycle " << cycle;
  }
}

// Regression: weighted picks once came in bursts (a multiplicative
// "permutation" that was the identity for many totals: {4, 3} gave AAAABBB).
// Each worker's longest run is bounded by ceil(w / (total - w)) + 1, which a
// smooth weighted rotation satisfies.
TEST(RoundRobinPolicyTest, WeightedIsInterleavedNotBursty) {
  for (const std::vector<uint32_t>& weights :
       std::vector<std::vector<uint32_t>>{{4, 3}, {10, 10, 1}, {5, 1, 3, 2, 7}, {1, 1, 1, 9}}) {
    Harness h(Config(PolicyKind::kRoundRobin));
    std::map<WorkerId, uint32_t> weight_of;
    uint32_t total = 0;
    for (size_t i = 0; i < weights.size(); ++i) {
      weight_of[h.Add(static_cast<int>(i) + 1, weights[i])] = weights[i];
      total += weights[i];
    }
    std::vector<WorkerId> cycle;
    for (uint32_t i = 0; i < total; ++i) cycle.push_back(h.Pick());
    for (const auto& [id, w] : weight_of) {
      const int bound = static_cast<int>((w + (total - w) - 1) / (total - w)) + 1;  // ceil(w/rest)+1
      EXPECT_LE(LongestRun(cycle, id), bound) << "worker " << id << " of " << weights.size();
    }
  }
}

TEST(RoundRobinPolicyTest, SetWeightTakesEffect) {
  Harness h(Config(PolicyKind::kRoundRobin));
  const WorkerId a = h.Add(1);
  const WorkerId b = h.Add(2);
  ASSERT_TRUE(h.router().SetWeight(a, 4).ok());
  std::map<WorkerId, int> counts;
  for (int i = 0; i < 50; ++i) ++counts[h.Pick()];
  EXPECT_EQ(counts[a], 40);
  EXPECT_EQ(counts[b], 10);
  EXPECT_EQ(h.router().SetWeight(a, 0).code(), absl::StatusCode::kInvalidArgument);
}

TEST(RoundRobinPolicyTest, HealthFiltering) {
  Harness h(Config(PolicyKind::kRoundRobin));
  std::vector<WorkerId> ids = h.AddN(4);
  h.SetHealthy(ids[1], false);
  std::vector<WorkerId> picks;
  for (int i = 0; i < 30; ++i) picks.push_back(h.Pick());
  EXPECT_EQ(std::count(picks.begin(), picks.end(), ids[1]), 0);
  for (size_t i = 3; i < picks.size(); ++i) ASSERT_EQ(picks[i], picks[i - 3]);
  EXPECT_EQ(std::set<WorkerId>(picks.begin(), picks.end()).size(), 3u);
  // Weighted, with the heavy worker unhealthy: the rest share evenly.
  ASSERT_TRUE(h.router().SetWeight(ids[0], 5).ok());
  h.SetHealthy(ids[0], false);
  std::map<WorkerId, int> counts;
  for (int i = 0; i < 20; ++i) ++counts[h.Pick()];
  EXPECT_EQ(counts.size(), 2u);
  EXPECT_EQ(counts[ids[2]], 10);
  EXPECT_EQ(counts[ids[3]], 10);
}

TEST(RoundRobinPolicyTest, AddAndRemoveKeepItValid) {
  Harness h(Config(PolicyKind::kRoundRobin));
  std::vector<WorkerId> ids = h.AddN(3);
  for (int i = 0; i < 5; ++i) h.Pick();
  const WorkerId added = h.Add(10);
  // Every 4 consecutive picks now cover all four workers.
  std::vector<WorkerId> picks;
  for (int i = 0; i < 16; ++i) picks.push_back(h.Pick());
  for (size_t s = 0; s + 4 <= picks.size(); ++s) {
    EXPECT_EQ(std::set<WorkerId>(picks.begin() + static_cast<long>(s),
                                 picks.begin() + static_cast<long>(s) + 4)
                  .size(),
              4u);
  }
  EXPECT_GT(std::count(picks.begin(), picks.end(), added), 0);
  ASSERT_TRUE(h.router().RemoveWorker(ids[0]).ok());
  ASSERT_TRUE(h.router().RemoveWorker(added).ok());
  picks.clear();
  for (int i = 0; i < 12; ++i) picks.push_back(h.Pick());
  EXPECT_EQ(std::count(picks.begin(), picks.end(), ids[0]), 0);
  EXPECT_EQ(std::count(picks.begin(), picks.end(), added), 0);
  for (size_t i = 2; i < picks.size(); ++i) ASSERT_EQ(picks[i], picks[i - 2]);
  EXPECT_NE(picks[0], picks[1]);
}

// ============================================================================
// power_of_two
// ============================================================================

TEST(PowerOfTwoPolicyTest, TwoWorkersStayBalancedUnderHeldLoad) {
  // With N = 2 both workers are always the two candidates (they must be
  // distinct), so the less loaded one always wins: loads never differ by 2.
  Harness h(Config(PolicyKind::kPowerOfTwo));
  std::vector<WorkerId> ids = h.AddN(2);
  for (int i = 0; i < 101; ++i) {
    const int64_t a = h.InFlight(ids[0]), b = h.InFlight(ids[1]);
    const WorkerId chosen = h.Hold();
    if (a != b) {
      ASSERT_EQ(chosen, a < b ? ids[0] : ids[1]) << "step " << i;
    }
  }
  EXPECT_EQ(h.InFlight(ids[0]) + h.InFlight(ids[1]), 101);
  EXPECT_LE(std::abs(h.InFlight(ids[0]) - h.InFlight(ids[1])), 1);
}

TEST(PowerOfTwoPolicyTest, HotWorkerIsNeverChosen) {
  Harness h(Config(PolicyKind::kPowerOfTwo));
  std::vector<WorkerId> ids = h.AddN(2);
  // Put 10 requests in flight on ids[0] alone.
  h.SetHealthy(ids[1], false);
  for (int i = 0; i < 10; ++i) ASSERT_EQ(h.Hold(), ids[0]);
  h.SetHealthy(ids[1], true);
  for (int i = 0; i < 300; ++i) ASSERT_EQ(h.Pick(), ids[1]);
}

TEST(PowerOfTwoPolicyTest, HotWorkerAmongEightIsNeverChosen) {
  Harness h(Config(PolicyKind::kPowerOfTwo));
  std::vector<WorkerId> ids = h.AddN(8);
  for (size_t i = 1; i < ids.size(); ++i) h.SetHealthy(ids[i], false);
  for (int i = 0; i < 5; ++i) ASSERT_EQ(h.Hold(), ids[0]);
  for (size_t i = 1; i < ids.size(); ++i) h.SetHealthy(ids[i], true);
  std::set<WorkerId> seen;
  for (int i = 0; i < 800; ++i) {
    const WorkerId id = h.Pick();
    ASSERT_NE(id, ids[0]);
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 7u);
}

TEST(PowerOfTwoPolicyTest, UsesEngineLoadWhenBothHaveOne) {
  Harness h(Config(PolicyKind::kPowerOfTwo));
  std::vector<WorkerId> ids = h.AddN(2);
  // ids[1] has more requests in flight but the lower engine load.
  h.SetHealthy(ids[0], false);
  for (int i = 0; i < 5; ++i) ASSERT_EQ(h.Hold(), ids[1]);
  h.SetHealthy(ids[0], true);
  ASSERT_TRUE(h.router().SetEngineLoad(ids[0], 0.9).ok());
  ASSERT_TRUE(h.router().SetEngineLoad(ids[1], 0.1).ok());
  for (int i = 0; i < 200; ++i) ASSERT_EQ(h.Pick(), ids[1]);
  // Only one engine load known: in-flight decides.
  ASSERT_TRUE(h.router().SetEngineLoad(ids[0], std::nullopt).ok());
  for (int i = 0; i < 200; ++i) ASSERT_EQ(h.Pick(), ids[0]);
  EXPECT_EQ(h.router().SetEngineLoad(ids[0], -1.0).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(h.router().SetEngineLoad(ids[0], std::nan("")).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(PowerOfTwoPolicyTest, IgnoresEngineLoadWhenDisabled) {
  PolicyConfig c = Config(PolicyKind::kPowerOfTwo);
  c.power_of_two.use_engine_load = false;
  Harness h(c);
  std::vector<WorkerId> ids = h.AddN(2);
  h.SetHealthy(ids[0], false);
  for (int i = 0; i < 5; ++i) ASSERT_EQ(h.Hold(), ids[1]);
  h.SetHealthy(ids[0], true);
  ASSERT_TRUE(h.router().SetEngineLoad(ids[0], 0.9).ok());
  ASSERT_TRUE(h.router().SetEngineLoad(ids[1], 0.1).ok());
  for (int i = 0; i < 200; ++i) ASSERT_EQ(h.Pick(), ids[0]);
}

TEST(PowerOfTwoPolicyTest, SingleWorkerAndUnhealthy) {
  Harness h(Config(PolicyKind::kPowerOfTwo));
  std::vector<WorkerId> ids = h.AddN(3);
  h.SetHealthy(ids[0], false);
  h.SetHealthy(ids[2], false);
  for (int i = 0; i < 20; ++i) ASSERT_EQ(h.Hold(), ids[1]);
  h.SetHealthy(ids[1], false);
  EXPECT_EQ(h.router().Select({}).status().code(), absl::StatusCode::kUnavailable);
}

// ============================================================================
// consistent_hash
// ============================================================================

std::map<std::string, WorkerId> MapKeys(Harness& h, int n) {
  std::map<std::string, WorkerId> out;
  for (int i = 0; i < n; ++i) {
    const std::string key = absl::StrCat("user-", i);
    out[key] = h.Pick(KeyRequest(key));
  }
  return out;
}

TEST(ConsistentHashPolicyTest, SameKeySameWorker) {
  Harness h(Config(PolicyKind::kConsistentHash));
  h.AddN(8);
  std::map<std::string, WorkerId> first = MapKeys(h, 500);
  EXPECT_EQ(MapKeys(h, 500), first);
  std::set<WorkerId> used;
  for (const auto& [k, id] : first) used.insert(id);
  EXPECT_EQ(used.size(), 8u);
}

TEST(ConsistentHashPolicyTest, AddingANinthWorkerRemapsAboutOneNinth) {
  Harness h(Config(PolicyKind::kConsistentHash));
  h.AddN(8);
  std::map<std::string, WorkerId> before = MapKeys(h, 2000);
  const WorkerId ninth = h.Add(9);
  std::map<std::string, WorkerId> after = MapKeys(h, 2000);
  int moved = 0;
  for (const auto& [key, id] : before) {
    if (after[key] != id) {
      ++moved;
      EXPECT_EQ(after[key], ninth) << key << " moved between old workers";
    }
  }
  EXPECT_GT(moved, 2000 / 9 / 2);
  EXPECT_LT(moved, 2000 / 4);  // < 25%
}

TEST(ConsistentHashPolicyTest, RemovingAWorkerMovesOnlyItsKeys) {
  Harness h(Config(PolicyKind::kConsistentHash));
  std::vector<WorkerId> ids = h.AddN(8);
  std::map<std::string, WorkerId> before = MapKeys(h, 2000);
  ASSERT_TRUE(h.router().RemoveWorker(ids[4]).ok());
  std::map<std::string, WorkerId> after = MapKeys(h, 2000);
  int moved = 0;
  for (const auto& [key, id] : before) {
    if (id == ids[4]) {
      ++moved;
      EXPECT_NE(after[key], ids[4]);
    } else {
      EXPECT_EQ(after[key], id) << key;
    }
  }
  EXPECT_GT(moved, 0);
}

TEST(ConsistentHashPolicyTest, UnhealthyWorkersKeysGoElsewhereAndComeBack) {
  Harness h(Config(PolicyKind::kConsistentHash));
  std::vector<WorkerId> ids = h.AddN(8);
  std::map<std::string, WorkerId> before = MapKeys(h, 1000);
  h.SetHealthy(ids[2], false);
  std::map<std::string, WorkerId> during = MapKeys(h, 1000);
  int moved = 0;
  for (const auto& [key, id] : before) {
    if (id == ids[2]) {
      ++moved;
      EXPECT_NE(during[key], ids[2]);
    } else {
      EXPECT_EQ(during[key], id) << key;
    }
  }
  EXPECT_GT(moved, 0);
  h.SetHealthy(ids[2], true);
  EXPECT_EQ(MapKeys(h, 1000), before);
}

// Keys (from "k-0", "k-1", ...) routed to pairwise distinct workers.
std::vector<std::string> DistinctKeys(Harness& h, int n) {
  std::vector<std::string> keys;
  std::set<WorkerId> used;
  for (int i = 0; i < 1000 && static_cast<int>(keys.size()) < n; ++i) {
    std::string key = absl::StrCat("k-", i);
    if (used.insert(h.Pick(KeyRequest(key))).second) keys.push_back(key);
  }
  return keys;
}

TEST(ConsistentHashPolicyTest, KeyPrecedence) {
  Harness h(Config(PolicyKind::kConsistentHash));
  h.AddN(8);
  std::vector<std::string> k = DistinctKeys(h, 5);
  ASSERT_EQ(k.size(), 5u);
  auto owner = [&](int i) { return h.Pick(KeyRequest(k[static_cast<size_t>(i)])); };
  for (int rep = 0; rep < 20; ++rep) {
    // routing_key beats every header.
    {
      Header hs[] = {{"x-smg-routing-key", k[1]}, {"authorization", k[2]}};
      RouteRequest r;
      r.routing_key = k[0];
      r.headers = hs;
      ASSERT_EQ(h.Pick(r), owner(0));
    }
    // The key header (any case) beats the implicit keys.
    {
      Header hs[] = {{"authorization", k[2]}, {"X-SMG-Routing-Key", k[1]}, {"cookie", k[4]}};
      RouteRequest r;
      r.headers = hs;
      ASSERT_EQ(h.Pick(r), owner(1));
    }
    // authorization > x-forwarded-for > cookie, whatever the header order.
    {
      Header hs[] = {{"Cookie", k[4]}, {"X-Forwarded-For", k[3]}, {"Authorization", k[2]}};
      RouteRequest r;
      r.headers = hs;
      ASSERT_EQ(h.Pick(r), owner(2));
    }
    {
      Header hs[] = {{"cookie", k[4]}, {"x-forwarded-for", k[3]}};
      RouteRequest r;
      r.headers = hs;
      ASSERT_EQ(h.Pick(r), owner(3));
    }
    {
      Header hs[] = {{"COOKIE", k[4]}, {"x-unrelated", k[0]}};
      RouteRequest r;
      r.headers = hs;
      ASSERT_EQ(h.Pick(r), owner(4));
    }
  }
}

TEST(ConsistentHashPolicyTest, ConfigurableKeyHeaderCaseInsensitive) {
  PolicyConfig c = Config(PolicyKind::kConsistentHash);
  c.consistent_hash.key_header = "X-Session-Id";
  Harness h(c);
  h.AddN(8);
  std::vector<std::string> k = DistinctKeys(h, 2);
  ASSERT_EQ(k.size(), 2u);
  const WorkerId owner0 = h.Pick(KeyRequest(k[0]));
  const WorkerId owner1 = h.Pick(KeyRequest(k[1]));
  for (int rep = 0; rep < 20; ++rep) {
    Header hs[] = {{"authorization", k[1]}, {"x-session-id", k[0]}};
    RouteRequest r;
    r.headers = hs;
    ASSERT_EQ(h.Pick(r), owner0);
  }
  // The default header name is now just another header: the implicit key
  // (authorization) decides.
  for (int rep = 0; rep < 20; ++rep) {
    Header hs[] = {{"x-smg-routing-key", k[0]}, {"authorization", k[1]}};
    RouteRequest r;
    r.headers = hs;
    ASSERT_EQ(h.Pick(r), owner1);
  }
}

TEST(ConsistentHashPolicyTest, NoKeyIsRandomSpread) {
  Harness h(Config(PolicyKind::kConsistentHash));
  h.AddN(8);
  std::map<WorkerId, int> counts;
  Header unrelated[] = {{"x-unrelated", "v"}};
  RouteRequest r;
  r.headers = unrelated;
  for (int i = 0; i < 800; ++i) ++counts[h.Pick(i % 2 == 0 ? RouteRequest{} : r)];
  ASSERT_EQ(counts.size(), 8u);
  for (const auto& [id, n] : counts) EXPECT_GT(n, 50) << id;
}

TEST(ConsistentHashPolicyTest, ImplicitKeysCanBeDisabled) {
  PolicyConfig c = Config(PolicyKind::kConsistentHash);
  c.consistent_hash.use_implicit_keys = false;
  Harness h(c);
  h.AddN(8);
  std::set<WorkerId> seen;
  Header hs[] = {{"authorization", "Bearer abc"}, {"cookie", "s=1"}};
  RouteRequest r;
  r.headers = hs;
  for (int i = 0; i < 200; ++i) seen.insert(h.Pick(r));
  EXPECT_GE(seen.size(), 6u);  // random, not pinned
  // The key header still works.
  Header kh[] = {{"x-smg-routing-key", "abc"}};
  RouteRequest r2;
  r2.headers = kh;
  const WorkerId first = h.Pick(r2);
  for (int i = 0; i < 20; ++i) ASSERT_EQ(h.Pick(r2), first);
  EXPECT_EQ(first, h.Pick(KeyRequest("abc")));
}

// The cap PickOnRing applies for load factor 1.25 (5/4), computed exactly:
// ceil(5 * (leg + 1) / (4 * n)).
int64_t Cap125(int64_t leg_in_flight, int64_t n) {
  return (5 * (leg_in_flight + 1) + 4 * n - 1) / (4 * n);
}

TEST(ConsistentHashPolicyTest, BoundedLoadSpillsHotKey) {
  Harness h(Config(PolicyKind::kConsistentHash));
  std::vector<WorkerId> ids = h.AddN(4);
  const WorkerId owner = h.Pick(KeyRequest("hot"));
  auto ring = HashRing::Build(h.router().ListWorkers(), 150);
  uint64_t last_skips = h.Stats().bounded_load_skips;
  EXPECT_EQ(last_skips, 0u);
  int spilled = 0;
  for (int held = 0; held < 40; ++held) {
    const int64_t cap = Cap125(held, 4);
    const int64_t owner_load = h.InFlight(owner);
    // The first worker clockwise from the key that is under the cap.
    const WorkerId expected =
        *ring->Walk(HashBytes("hot"), [&](WorkerId id) { return h.InFlight(id) < cap; });
    const WorkerId chosen = h.Hold(KeyRequest("hot"));
    ASSERT_EQ(chosen, expected) << "held " << held << " cap " << cap;
    const uint64_t skips = h.Stats().bounded_load_skips;
    if (owner_load < cap) {
      ASSERT_EQ(chosen, owner) << "held " << held;
      ASSERT_EQ(skips, last_skips);
    } else {
      ASSERT_NE(chosen, owner) << "held " << held;
      ASSERT_GT(skips, last_skips);
      ++spilled;
    }
    last_skips = skips;
    // Nobody goes above the cap.
    for (WorkerId id : ids) ASSERT_LE(h.InFlight(id), cap) << "held " << held;
  }
  EXPECT_GT(spilled, 10);
  // Released: the key returns to its owner.
  h.ReleaseAll();
  EXPECT_EQ(h.Pick(KeyRequest("hot")), owner);
}

TEST(ConsistentHashPolicyTest, LoadFactorZeroNeverSpills) {
  PolicyConfig c = Config(PolicyKind::kConsistentHash);
  c.consistent_hash.load_factor = 0;
  Harness h(c);
  h.AddN(4);
  const WorkerId owner = h.Pick(KeyRequest("hot"));
  for (int i = 0; i < 40; ++i) ASSERT_EQ(h.Hold(KeyRequest("hot")), owner);
  EXPECT_EQ(h.InFlight(owner), 40);
  EXPECT_EQ(h.Stats().bounded_load_skips, 0u);
}

// ============================================================================
// prefix_hash
// ============================================================================

std::vector<uint32_t> Tokens(uint32_t seed, size_t n) {
  std::vector<uint32_t> t(n);
  for (size_t i = 0; i < n; ++i) t[i] = seed * 1000003u + static_cast<uint32_t>(i) * 7919u + 1;
  return t;
}

TEST(PrefixHashPolicyTest, SameTokenPrefixSameWorkerRegardlessOfSuffix) {
  PolicyConfig c = Config(PolicyKind::kPrefixHash);
  c.prefix_hash.prefix_tokens = 8;
  Harness h(c);
  h.AddN(8);
  std::vector<uint32_t> base = Tokens(1, 8);
  RouteRequest r0;
  r0.tokens = base;
  const WorkerId owner = h.Pick(r0);
  for (uint32_t s = 0; s < 50; ++s) {
    std::vector<uint32_t> t = base;
    std::vector<uint32_t> suffix = Tokens(100 + s, s + 1);
    t.insert(t.end(), suffix.begin(), suffix.end());
    RouteRequest r;
    r.tokens = t;
    r.text = "text is ignored when tokens are present";
    ASSERT_EQ(h.Pick(r), owner) << s;
  }
}

TEST(PrefixHashPolicyTest, DifferingTokenPrefixesSpread) {
  PolicyConfig c = Config(PolicyKind::kPrefixHash);
  c.prefix_hash.prefix_tokens = 8;
  Harness h(c);
  h.AddN(8);
  std::map<WorkerId, int> counts;
  for (uint32_t s = 0; s < 400; ++s) {
    std::vector<uint32_t> t = Tokens(s, 32);
    RouteRequest r;
    r.tokens = t;
    ++counts[h.Pick(r)];
  }
  ASSERT_EQ(counts.size(), 8u);
  for (const auto& [id, n] : counts) EXPECT_GT(n, 20) << id;
}

TEST(PrefixHashPolicyTest, TokensShorterThanPrefixAreHashedWhole) {
  PolicyConfig c = Config(PolicyKind::kPrefixHash);
  c.prefix_hash.prefix_tokens = 64;
  Harness h(c);
  h.AddN(8);
  std::vector<uint32_t> t = Tokens(7, 5);
  RouteRequest r;
  r.tokens = t;
  const WorkerId owner = h.Pick(r);
  for (int i = 0; i < 20; ++i) ASSERT_EQ(h.Pick(r), owner);
}

TEST(PrefixHashPolicyTest, TextHashesFirstPrefixBytes) {
  PolicyConfig c = Config(PolicyKind::kPrefixHash);
  c.prefix_hash.prefix_bytes = 16;
  Harness h(c);
  h.AddN(8);
  const std::string prefix = "0123456789abcdef";  // 16 bytes
  RouteRequest r0;
  r0.text = prefix;
  const WorkerId owner = h.Pick(r0);
  for (int s = 0; s < 50; ++s) {
    const std::string text = absl::StrCat(prefix, "suffix-", s, std::string(static_cast<size_t>(s), 'z'));
    RouteRequest r;
    r.text = text;
    ASSERT_EQ(h.Pick(r), owner) << s;
  }
  // Prompts differing inside the first 16 bytes spread.
  std::map<WorkerId, int> counts;
  for (int s = 0; s < 400; ++s) {
    const std::string text = absl::StrCat("p", s, "-", prefix);
    RouteRequest r;
    r.text = text;
    ++counts[h.Pick(r)];
  }
  ASSERT_EQ(counts.size(), 8u);
  for (const auto& [id, n] : counts) EXPECT_GT(n, 20) << id;
}

TEST(PrefixHashPolicyTest, EmptyPromptStillRoutedAtRandom) {
  Harness h(Config(PolicyKind::kPrefixHash));
  h.AddN(8);
  std::set<WorkerId> seen;
  for (int i = 0; i < 200; ++i) seen.insert(h.Pick({}));
  EXPECT_GE(seen.size(), 7u);
}

TEST(PrefixHashPolicyTest, BoundedLoadSpillsAndCountsSkips) {
  Harness h(Config(PolicyKind::kPrefixHash));
  h.AddN(4);
  RouteRequest r;
  r.text = "a shared system prompt";
  const WorkerId owner = h.Pick(r);
  std::set<WorkerId> used;
  for (int i = 0; i < 20; ++i) used.insert(h.Hold(r));
  EXPECT_GT(used.size(), 1u);
  EXPECT_LE(h.InFlight(owner), Cap125(19, 4));
  EXPECT_GT(h.Stats().bounded_load_skips, 0u);
  h.ReleaseAll();
  EXPECT_EQ(h.Pick(r), owner);
}

// ============================================================================
// Per-model policies
// ============================================================================

TEST(PerModelPolicyTest, EachModelUsesItsOwnPolicy) {
  RouterOptions options;
  options.policies.policy = Config(PolicyKind::kConsistentHash);
  options.model_policies["a"].policy = Config(PolicyKind::kCacheAware);
  options.model_policies["b"].policy = Config(PolicyKind::kRoundRobin);
  Harness h(options);
  std::vector<WorkerId> a = h.AddN(3, "a");
  std::vector<WorkerId> b = h.AddN(3, "b");
  std::vector<WorkerId> c = h.AddN(8, "c");

  // a: cache_aware: a long shared prompt sticks to the worker that got it.
  const std::string prompt(200, 'x');
  RouteRequest ra;
  ra.model = "a";
  ra.text = prompt;
  const WorkerId a_owner = h.Pick(ra);
  EXPECT_NE(std::find(a.begin(), a.end(), a_owner), a.end());
  for (int i = 0; i < 10; ++i) ASSERT_EQ(h.Pick(ra), a_owner);
  EXPECT_GT(h.Stats("a").tree_units, 0u);
  EXPECT_GT(h.Stats("a").cache_hits, 0u);

  // b: round robin, same prompt: exact rotation over b's workers.
  RouteRequest rb = ra;
  rb.model = "b";
  std::vector<WorkerId> picks;
  for (int i = 0; i < 9; ++i) picks.push_back(h.Pick(rb));
  EXPECT_EQ(std::set<WorkerId>(picks.begin(), picks.end()), std::set<WorkerId>(b.begin(), b.end()));
  for (size_t i = 3; i < picks.size(); ++i) ASSERT_EQ(picks[i], picks[i - 3]);
  EXPECT_EQ(h.Stats("b").tree_units, 0u);

  // c: the default (consistent_hash): a key sticks, keys spread.
  RouteRequest rc;
  rc.model = "c";
  rc.routing_key = "session-1";
  const WorkerId c_owner = h.Pick(rc);
  EXPECT_NE(std::find(c.begin(), c.end(), c_owner), c.end());
  for (int i = 0; i < 10; ++i) ASSERT_EQ(h.Pick(rc), c_owner);
  std::set<WorkerId> spread;
  for (int i = 0; i < 100; ++i) {
    const std::string key = absl::StrCat("s", i);
    rc.routing_key = key;
    spread.insert(h.Pick(rc));
  }
  EXPECT_GE(spread.size(), 6u);
}

// ============================================================================
// Option validation and custom policies
// ============================================================================

void ExpectRejected(const RouterOptions& options, absl::string_view field) {
  absl::StatusOr<std::unique_ptr<Router>> r = Router::Create(options);
  ASSERT_FALSE(r.ok()) << "accepted; expected an error naming " << field;
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr(field));
}

TEST(PolicyOptionsTest, InvalidOptionsAreRejectedNamingTheField) {
  {
    RouterOptions o;
    o.policies.policy.kind = PolicyKind::kCacheAware;
    o.policies.policy.cache_aware.cache_threshold = 1.5;
    ExpectRejected(o, "cache_threshold");
  }
  {
    RouterOptions o;
    o.policies.policy.kind = PolicyKind::kCacheAware;
    o.policies.policy.cache_aware.balance_rel_threshold = 0.5;
    ExpectRejected(o, "balance_rel_threshold");
  }
  {
    RouterOptions o;
    o.policies.policy.kind = PolicyKind::kCacheAware;
    o.policies.policy.cache_aware.token_page_size = 0;
    ExpectRejected(o, "token_page_size");
  }
  for (double headroom : {-0.01, 0.51, std::numeric_limits<double>::quiet_NaN()}) {
    RouterOptions o;
    o.policies.policy.kind = PolicyKind::kCacheAware;
    o.policies.policy.cache_aware.evict_headroom = headroom;
    ExpectRejected(o, "evict_headroom");
  }
  {
    RouterOptions o;
    o.policies.policy.kind = PolicyKind::kConsistentHash;
    o.policies.policy.consistent_hash.load_factor = 0.9;
    ExpectRejected(o, "load_factor");
  }
  {
    RouterOptions o;
    o.policies.policy.kind = PolicyKind::kPrefixHash;
    o.policies.policy.prefix_hash.load_factor = 1.0;
    ExpectRejected(o, "load_factor");
  }
  {
    RouterOptions o;
    o.policies.policy.kind = PolicyKind::kConsistentHash;
    o.policies.policy.consistent_hash.virtual_nodes = 0;
    ExpectRejected(o, "virtual_nodes");
  }
  {
    RouterOptions o;
    o.policies.policy.kind = PolicyKind::kCustom;
    ExpectRejected(o, "custom_factory");
  }
  {
    // In a per-model entry and in a PD leg, too.
    RouterOptions o;
    o.model_policies["m"].policy.kind = PolicyKind::kCacheAware;
    o.model_policies["m"].policy.cache_aware.cache_threshold = -0.1;
    ExpectRejected(o, "cache_threshold");
    RouterOptions p;
    PolicyConfig bad = Config(PolicyKind::kPrefixHash);
    bad.prefix_hash.virtual_nodes = 0;
    p.policies.decode = bad;
    ExpectRejected(p, "virtual_nodes");
  }
  {
    // Options of a kind that is not selected are not read.
    RouterOptions o;
    o.policies.policy.kind = PolicyKind::kRoundRobin;
    o.policies.policy.cache_aware.cache_threshold = 1.5;
    EXPECT_TRUE(Router::Create(o).ok());
  }
  {
    // Boundaries that are valid.
    RouterOptions o;
    o.policies.policy.kind = PolicyKind::kCacheAware;
    o.policies.policy.cache_aware.cache_threshold = 1.0;
    o.policies.policy.cache_aware.balance_rel_threshold = 1.0;
    o.policies.policy.cache_aware.evict_headroom = 0.5;
    EXPECT_TRUE(Router::Create(o).ok());
    o.policies.policy.cache_aware.evict_headroom = 0;
    EXPECT_TRUE(Router::Create(o).ok());
    o.policies.policy = Config(PolicyKind::kConsistentHash);
    o.policies.policy.consistent_hash.load_factor = 0;
    EXPECT_TRUE(Router::Create(o).ok());
  }
}

// Always picks the last candidate and counts its calls.
class LastPolicy final : public Policy {
 public:
  explicit LastPolicy(int* calls) : calls_(calls) {}
  absl::string_view name() const override { return "last"; }
  absl::StatusOr<size_t> Select(const RouteRequest&, const CandidateSet& c) override {
    ++*calls_;
    return c.size() - 1;
  }

 private:
  int* calls_;
};

// A custom policy returning an out-of-range index.
class BrokenPolicy final : public Policy {
 public:
  absl::string_view name() const override { return "broken"; }
  absl::StatusOr<size_t> Select(const RouteRequest&, const CandidateSet& c) override {
    return c.size();
  }
};

TEST(PolicyOptionsTest, CustomPolicyFromFactoryIsUsed) {
  int factory_calls = 0;
  int select_calls = 0;
  const Clock* seen_clock = nullptr;
  RandomSource* seen_random = nullptr;
  RouterOptions options;
  options.policies.policy.kind = PolicyKind::kCustom;
  options.policies.policy.custom_factory = [&](const PolicyContext& ctx) -> PolicyPtr {
    ++factory_calls;
    seen_clock = ctx.clock;
    seen_random = ctx.random;
    return std::make_unique<LastPolicy>(&select_calls);
  };
  ManualClock clock;
  SeededRandom random(1);
  absl::StatusOr<std::unique_ptr<Router>> r =
      Router::Create(options, {.clock = &clock, .random = &random});
  ASSERT_TRUE(r.ok()) << r.status();
  Router& router = **r;
  std::vector<WorkerId> ids;
  for (int i = 1; i <= 3; ++i) {
    WorkerSpec spec;
    spec.url = UrlOf(i);
    ids.push_back(*router.AddWorker(spec));
  }
  // Once per leg of the model, with the injected clock and random source.
  EXPECT_EQ(factory_calls, 3);
  EXPECT_EQ(seen_clock, &clock);
  EXPECT_EQ(seen_random, &random);
  for (int i = 0; i < 5; ++i) {
    absl::StatusOr<Ticket> t = router.Select({});
    ASSERT_TRUE(t.ok());
    EXPECT_EQ(t->worker().id(), ids[2]);
  }
  EXPECT_EQ(select_calls, 5);
  // Candidates are the healthy workers only.
  ASSERT_TRUE(router.SetHealth(ids[2], WorkerHealth::kNotReady).ok());
  EXPECT_EQ(router.Select({})->worker().id(), ids[1]);
}

TEST(PolicyOptionsTest, CustomPolicyOutOfRangeIsAnError) {
  RouterOptions options;
  options.policies.policy.kind = PolicyKind::kCustom;
  options.policies.policy.custom_factory = [](const PolicyContext&) -> PolicyPtr {
    return std::make_unique<BrokenPolicy>();
  };
  absl::StatusOr<std::unique_ptr<Router>> r = Router::Create(options);
  ASSERT_TRUE(r.ok());
  WorkerSpec spec;
  spec.url = UrlOf(1);
  ASSERT_TRUE((*r)->AddWorker(spec).ok());
  EXPECT_EQ((*r)->Select({}).status().code(), absl::StatusCode::kInternal);
}

TEST(PolicyOptionsTest, CustomFactoryReturningNullFailsAddWorker) {
  RouterOptions options;
  options.policies.policy.kind = PolicyKind::kCustom;
  options.policies.policy.custom_factory = [](const PolicyContext&) -> PolicyPtr {
    return nullptr;
  };
  absl::StatusOr<std::unique_ptr<Router>> r = Router::Create(options);
  ASSERT_TRUE(r.ok());
  WorkerSpec spec;
  spec.url = UrlOf(1);
  absl::StatusOr<WorkerId> id = (*r)->AddWorker(spec);
  EXPECT_FALSE(id.ok());
  EXPECT_EQ((*r)->worker_count(), 0u);
}

}  // namespace
}  // namespace smg
