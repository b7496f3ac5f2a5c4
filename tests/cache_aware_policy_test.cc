// cache_aware behaviour through the public Router API, for text and token
// prompts: prefix affinity, least-cached placement, owner choice, the cache
// threshold, the imbalance branch (and its locality window), worker removal
// and health, short prompts, and eviction with an injected ManualClock.
#include <algorithm>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/numeric/int128.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "smgcore/clock.h"
#include "smgcore/policy.h"
#include "smgcore/policy_config.h"
#include "smgcore/random.h"
#include "smgcore/request.h"
#include "smgcore/router.h"
#include "smgcore/worker.h"

namespace smg {

// Sets a worker's in-flight count directly (Worker's load accounting is
// private to the router and tickets).
class RouterTestPeer {
 public:
  static void AddLoad(Worker& w, int n) {
    for (int i = 0; i < n; ++i) w.AcquireLoad();
  }
  static void DropLoad(Worker& w, int n) {
    for (int i = 0; i < n; ++i) w.ReleaseLoad(Outcome::Ok(), 0);
  }
};

namespace {

std::string UrlOf(int i) { return absl::StrCat("http://10.0.1.", i, ":8000"); }

class Harness {
 public:
  explicit Harness(CacheAwareOptions o = {}) : random_(7) {
    RouterOptions options;
    options.policies.policy.kind = PolicyKind::kCacheAware;
    options.policies.policy.cache_aware = o;
    absl::StatusOr<std::unique_ptr<Router>> r =
        Router::Create(options, {.clock = &clock_, .random = &random_});
    EXPECT_TRUE(r.ok()) << r.status();
    if (r.ok()) router_ = *std::move(r);
  }

  Router& router() { return *router_; }
  ManualClock& clock() { return clock_; }

  WorkerId Add(int i) {
    WorkerSpec spec;
    spec.url = UrlOf(i);
    absl::StatusOr<WorkerId> id = router_->AddWorker(spec);
    EXPECT_TRUE(id.ok()) << id.status();
    return id.value_or(kInvalidWorkerId);
  }
  std::vector<WorkerId> AddN(int n) {
    std::vector<WorkerId> ids;
    for (int i = 1; i <= n; ++i) ids.push_back(Add(i));
    return ids;
  }

  WorkerId Pick(const RouteRequest& r) {
    absl::StatusOr<Ticket> t = router_->Select(r);
    EXPECT_TRUE(t.ok()) << t.status();
    if (!t.ok()) return kInvalidWorkerId;
    const WorkerId id = t->worker().id();
    EXPECT_TRUE(t->Finish(Outcome::Ok()).ok());
    return id;
  }
  WorkerId Pick(absl::string_view text) {
    RouteRequest r;
    r.text = text;
    return Pick(r);
  }
  WorkerId Pick(const std::vector<uint32_t>& tokens) {
    RouteRequest r;
    r.tokens = tokens;
    return Pick(r);
  }
  WorkerId Hold(const RouteRequest& r) {
    absl::StatusOr<Ticket> t = router_->Select(r);
    EXPECT_TRUE(t.ok()) << t.status();
    if (!t.ok()) return kInvalidWorkerId;
    const WorkerId id = t->worker().id();
    held_.push_back(*std::move(t));
    return id;
  }
  WorkerId Hold(absl::string_view text) {
    RouteRequest r;
    r.text = text;
    return Hold(r);
  }
  WorkerId Hold(const std::vector<uint32_t>& tokens) {
    RouteRequest r;
    r.tokens = tokens;
    return Hold(r);
  }
  void ReleaseAll() { held_.clear(); }

  int64_t InFlight(WorkerId id) {
    absl::StatusOr<WorkerPtr> w = router_->GetWorker(id);
    return w.ok() ? (*w)->in_flight() : -1;
  }
  void SetHealthy(WorkerId id, bool healthy) {
    ASSERT_TRUE(router_
                    ->SetHealth(id, healthy ? WorkerHealth::kReady : WorkerHealth::kNotReady)
                    .ok());
  }
  PolicyStats Stats() {
    absl::StatusOr<ModelStats> s = router_->GetModelStats("default");
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? s->policy[0] : PolicyStats{};
  }

 private:
  ManualClock clock_;
  SeededRandom random_;
  std::unique_ptr<Router> router_;
  std::vector<Ticket> held_;
};

// A prompt of `n` bytes starting with `c` (distinct first bytes share nothing).
std::string Text(char c, size_t n) { return std::string(n, c); }

// `n` token ids derived from `seed`; different seeds share no first token.
std::vector<uint32_t> Tokens(uint32_t seed, size_t n) {
  std::vector<uint32_t> t(n);
  for (size_t i = 0; i < n; ++i) t[i] = seed * 100000u + static_cast<uint32_t>(i);
  return t;
}
std::vector<uint32_t> Concat(std::vector<uint32_t> a, const std::vector<uint32_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// ============================================================================
// Prefix affinity and least-cached placement
// ============================================================================

TEST(CacheAwareTextTest, SharedLongPrefixFollowsTheFirstRequest) {
  Harness h;
  std::vector<WorkerId> w = h.AddN(4);
  // Each worker gets one unrelated 50-byte prompt: least cached data first.
  EXPECT_EQ(h.Pick(Text('a', 50)), w[0]);
  EXPECT_EQ(h.Pick(Text('b', 50)), w[1]);
  EXPECT_EQ(h.Pick(Text('c', 50)), w[2]);
  EXPECT_EQ(h.Pick(Text('d', 50)), w[3]);
  // A long prompt: all hold 50 units, so the lowest id.
  const std::string system = Text('S', 200);
  EXPECT_EQ(h.Pick(system + "question one"), w[0]);
  const uint64_t hits = h.Stats().cache_hits;
  // Follow-ups share the 200-byte prefix: they follow, although w[0] now
  // holds the most cached data.
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(h.Pick(absl::StrCat(system, "another question ", i)), w[0]) << i;
  }
  EXPECT_EQ(h.Stats().cache_hits, hits + 5);
}

TEST(CacheAwareTextTest, UnrelatedPromptGoesToLeastCachedWorker) {
  Harness h;
  std::vector<WorkerId> w = h.AddN(4);
  EXPECT_EQ(h.Pick(Text('a', 100)), w[0]);  // all empty: lowest id
  EXPECT_EQ(h.Pick(Text('b', 30)), w[1]);   // w1..w3 empty
  EXPECT_EQ(h.Pick(Text('c', 60)), w[2]);   // w2, w3 empty
  EXPECT_EQ(h.Pick(Text('d', 10)), w[3]);   // w3 empty
  // Units: 100, 30, 60, 10.
  const uint64_t misses = h.Stats().cache_misses;
  EXPECT_EQ(h.Pick(Text('e', 20)), w[3]);  // 10 is the least -> 30
  EXPECT_EQ(h.Stats().cache_misses, misses + 1);
  // w[1] and w[3] both hold 30: the less loaded one wins.
  RouteRequest b;
  const std::string b_text = Text('b', 30);
  b.text = b_text;
  ASSERT_EQ(h.Hold(b), w[1]);  // a hit on its own prompt, held open
  EXPECT_EQ(h.Pick(Text('f', 5)), w[3]);
  EXPECT_EQ(h.Stats().tree_units, 100u + 30 + 60 + 10 + 20 + 5);
}

TEST(CacheAwareTokenTest, SharedLongPrefixFollowsTheFirstRequest) {
  Harness h;
  std::vector<WorkerId> w = h.AddN(3);
  EXPECT_EQ(h.Pick(Tokens(1, 32)), w[0]);
  EXPECT_EQ(h.Pick(Tokens(2, 32)), w[1]);
  EXPECT_EQ(h.Pick(Tokens(3, 32)), w[2]);
  const std::vector<uint32_t> system = Tokens(9, 128);
  EXPECT_EQ(h.Pick(Concat(system, Tokens(10, 32))), w[0]);
  for (uint32_t i = 0; i < 5; ++i) {
    // Same 128-token (8-page) prefix, different tails, some not page aligned.
    ASSERT_EQ(h.Pick(Concat(system, Tokens(20 + i, 16 + 5 * i))), w[0]) << i;
  }
  // A prompt sharing nothing: the least cached.
  EXPECT_EQ(h.Pick(Tokens(50, 64)), w[1]);
}

TEST(CacheAwareTokenTest, TokensAndTextUseSeparateTrees) {
  Harness h;
  std::vector<WorkerId> w = h.AddN(2);
  const std::string text = Text('t', 100);
  RouteRequest both;
  const std::vector<uint32_t> tokens = Tokens(1, 64);
  both.tokens = tokens;
  both.text = text;
  EXPECT_EQ(h.Pick(both), w[0]);  // recorded in the token tree only
  EXPECT_EQ(h.Stats().tree_units, 64u);
  const uint64_t hits = h.Stats().cache_hits;
  // The text alone was never recorded: a miss.
  h.Pick(text);
  EXPECT_EQ(h.Stats().cache_hits, hits);
  EXPECT_EQ(h.Stats().tree_units, 164u);
  // The tokens alone hit w[0].
  EXPECT_EQ(h.Pick(tokens), w[0]);
  EXPECT_EQ(h.Stats().cache_hits, hits + 1);
}

// ============================================================================
// Owners
// ============================================================================

// Makes both w[0] and w[2] (of three) owners of `prompt`, w[1] owning nothing.
template <typename Prompt>
void TwoOwners(Harness& h, const std::vector<WorkerId>& w, const Prompt& prompt) {
  ASSERT_EQ(h.Pick(prompt), w[0]);  // all empty: lowest id
  h.SetHealthy(w[0], false);
  h.SetHealthy(w[1], false);
  ASSERT_EQ(h.Pick(prompt), w[2]);  // the only candidate
  h.SetHealthy(w[0], true);
  h.SetHealthy(w[1], true);
}

template <typename Prompt>
void LeastLoadedOwnerWins(const Prompt& prompt) {
  Harness h;
  std::vector<WorkerId> w = h.AddN(3);
  TwoOwners(h, w, prompt);
  // Equal loads: the most recently used owner (w[2]) keeps it.
  for (int i = 0; i < 3; ++i) ASSERT_EQ(h.Pick(prompt), w[2]);
  // Held open, each pick goes to the less loaded owner, ties to the owner
  // chosen last; never to w[1], which owns nothing (w[1] would be the least
  // cached and the least loaded).
  WorkerId last = w[2];
  for (int i = 0; i < 12; ++i) {
    const int64_t l0 = h.InFlight(w[0]), l2 = h.InFlight(w[2]);
    const WorkerId expected = l0 < l2 ? w[0] : l2 < l0 ? w[2] : last;
    const WorkerId chosen = h.Hold(prompt);
    ASSERT_EQ(chosen, expected) << "step " << i << " loads " << l0 << "," << l2;
    last = chosen;
  }
  EXPECT_EQ(h.InFlight(w[0]), 6);
  EXPECT_EQ(h.InFlight(w[2]), 6);
  EXPECT_EQ(h.InFlight(w[1]), 0);
}

TEST(CacheAwareTextTest, SeveralOwnersLeastLoadedWins) {
  RouteRequest r;
  const std::string text = Text('p', 120);
  r.text = text;
  LeastLoadedOwnerWins(r);
}

TEST(CacheAwareTokenTest, SeveralOwnersLeastLoadedWins) {
  RouteRequest r;
  const std::vector<uint32_t> tokens = Tokens(4, 96);
  r.tokens = tokens;
  LeastLoadedOwnerWins(r);
}

TEST(CacheAwareTextTest, UnhealthyOwnerIsSkippedForAnotherOwner) {
  Harness h;
  std::vector<WorkerId> w = h.AddN(3);
  RouteRequest p;
  const std::string text = Text('p', 120);
  p.text = text;
  TwoOwners(h, w, p);
  // Make w[0] the most recent owner, then take it down: the other owner
  // (w[2]) serves, not the least cached w[1], and not an error.
  h.SetHealthy(w[2], false);
  ASSERT_EQ(h.Pick(p), w[0]);
  h.SetHealthy(w[2], true);
  h.SetHealthy(w[0], false);
  const uint64_t hits = h.Stats().cache_hits;
  for (int i = 0; i < 5; ++i) ASSERT_EQ(h.Pick(p), w[2]);
  EXPECT_EQ(h.Stats().cache_hits, hits + 5);
}

TEST(CacheAwareTextTest, SoleUnhealthyOwnerIsSkipped) {
  Harness h;
  std::vector<WorkerId> w = h.AddN(3);
  const std::string p = Text('p', 100);
  ASSERT_EQ(h.Pick(p), w[0]);
  ASSERT_EQ(h.Pick(Text('q', 10)), w[1]);
  h.SetHealthy(w[0], false);
  // No healthy owner: treated as a miss, to the least cached healthy worker.
  EXPECT_EQ(h.Pick(p), w[2]);
  // ... which now owns it too.
  EXPECT_EQ(h.Pick(p), w[2]);
  h.SetHealthy(w[0], true);
  // Both own it; w[2] is the most recent.
  EXPECT_EQ(h.Pick(p), w[2]);
}

// ============================================================================
// Cache threshold
// ============================================================================

TEST(CacheAwareTextTest, MatchAtThresholdDoesNotCount) {
  CacheAwareOptions o;
  o.cache_threshold = 0.5;
  Harness h(o);
  std::vector<WorkerId> w = h.AddN(2);
  ASSERT_EQ(h.Pick(Text('A', 50) + Text('x', 50)), w[0]);
  // Exactly 50% matched: not above the threshold, so a miss -> least cached.
  const uint64_t misses = h.Stats().cache_misses;
  EXPECT_EQ(h.Pick(Text('A', 50) + Text('y', 50)), w[1]);
  EXPECT_EQ(h.Stats().cache_misses, misses + 1);
}

TEST(CacheAwareTextTest, MatchAboveThresholdCounts) {
  CacheAwareOptions o;
  o.cache_threshold = 0.5;
  Harness h(o);
  std::vector<WorkerId> w = h.AddN(2);
  ASSERT_EQ(h.Pick(Text('A', 50) + Text('x', 50)), w[0]);
  ASSERT_EQ(h.Pick(Text('B', 20)), w[1]);  // w[1] holds less (20 < 100)
  // 51 of 100 bytes matched: above the threshold -> the owner, not w[1].
  const uint64_t hits = h.Stats().cache_hits;
  EXPECT_EQ(h.Pick(Text('A', 50) + "x" + Text('z', 49)), w[0]);
  EXPECT_EQ(h.Stats().cache_hits, hits + 1);
}

TEST(CacheAwareTokenTest, ThresholdCountsWholePages) {
  CacheAwareOptions o;
  o.cache_threshold = 0.5;
  Harness h(o);
  std::vector<WorkerId> w = h.AddN(2);
  const std::vector<uint32_t> head = Tokens(1, 32);
  ASSERT_EQ(h.Pick(Concat(head, Tokens(2, 32))), w[0]);
  // 32 of 64 tokens matched: at the threshold -> miss -> w[1].
  uint64_t misses = h.Stats().cache_misses;
  EXPECT_EQ(h.Pick(Concat(head, Tokens(3, 32))), w[1]);
  EXPECT_EQ(h.Stats().cache_misses, misses + 1);
  // 48 of 64 (three pages of four): above -> the owner of the 3-page prefix.
  const uint64_t hits = h.Stats().cache_hits;
  std::vector<uint32_t> three_pages = Concat(head, Tokens(2, 32));
  three_pages.resize(48);
  EXPECT_EQ(h.Pick(Concat(three_pages, Tokens(4, 16))), w[0]);
  EXPECT_EQ(h.Stats().cache_hits, hits + 1);
  // 40 of 64 matched would be above too, but only whole pages count: 32.
  misses = h.Stats().cache_misses;
  std::vector<uint32_t> partial = Concat(head, Tokens(2, 8));
  h.Pick(Concat(partial, Tokens(5, 24)));
  EXPECT_EQ(h.Stats().cache_misses, misses + 1);
}

// ============================================================================
// Imbalance
// ============================================================================

CacheAwareOptions SmallBalance() {
  CacheAwareOptions o;
  o.balance_abs_threshold = 2;
  o.balance_rel_threshold = 1.5;
  return o;
}

TEST(CacheAwareTextTest, ImbalanceRoutesToLeastLoadedAndStillRecords) {
  Harness h(SmallBalance());
  std::vector<WorkerId> w = h.AddN(2);
  const std::string p = Text('p', 100);
  ASSERT_EQ(h.Pick(p), w[0]);
  // Loads (0,0), (1,0), (2,0): max - min <= 2, balanced: the owner.
  for (int i = 0; i < 3; ++i) ASSERT_EQ(h.Hold(p), w[0]) << i;
  EXPECT_EQ(h.Stats().imbalanced_selections, 0u);
  // (3,0): 3 - 0 > 2 and 3 > 1.5 * 0: imbalanced, the least loaded.
  EXPECT_EQ(h.Pick(p), w[1]);
  EXPECT_EQ(h.Stats().imbalanced_selections, 1u);
  // It was recorded for w[1]: balanced again, both own it with equal loads,
  // and w[1] is the more recent owner.
  h.ReleaseAll();
  EXPECT_EQ(h.Pick(p), w[1]);
}

TEST(CacheAwareTextTest, ImbalanceNeedsBothAbsoluteAndRelativeSpread) {
  Harness h(SmallBalance());
  std::vector<WorkerId> w = h.AddN(2);
  const std::string p = Text('p', 100), q = Text('q', 100);
  ASSERT_EQ(h.Pick(p), w[0]);
  ASSERT_EQ(h.Pick(q), w[1]);
  for (int i = 0; i < 6; ++i) {
    ASSERT_EQ(h.Hold(p), w[0]);
    ASSERT_EQ(h.Hold(q), w[1]);
  }
  // (6,6) -> (7,6) -> (8,6) -> (9,6): spreads of at most 2.
  for (int i = 0; i < 3; ++i) ASSERT_EQ(h.Hold(p), w[0]);
  // (9,6): spread 3 > 2 but 9 > 1.5 * 6 is false: still balanced.
  ASSERT_EQ(h.Hold(p), w[0]);
  EXPECT_EQ(h.Stats().imbalanced_selections, 0u);
  // (10,6): 4 > 2 and 10 > 9: imbalanced.
  EXPECT_EQ(h.Hold(p), w[1]);
  EXPECT_EQ(h.Stats().imbalanced_selections, 1u);
}

TEST(CacheAwareTokenTest, ImbalanceRoutesToLeastLoaded) {
  Harness h(SmallBalance());
  std::vector<WorkerId> w = h.AddN(3);
  const std::vector<uint32_t> p = Tokens(5, 64);
  ASSERT_EQ(h.Pick(p), w[0]);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(h.Hold(p), w[0]);
  // (3,0,0): imbalanced; least loaded with the fewest served: w[1] served 0,
  // w[2] served 0 -> lower id.
  EXPECT_EQ(h.Hold(p), w[1]);
  // (3,1,0): still imbalanced -> w[2].
  EXPECT_EQ(h.Hold(p), w[2]);
  EXPECT_EQ(h.Stats().imbalanced_selections, 2u);
}

TEST(CacheAwareTextTest, LeastLoadedTiesGoToFewerServedThenLowerId) {
  Harness h(SmallBalance());
  std::vector<WorkerId> w = h.AddN(3);
  const std::string p = Text('p', 100), q = Text('q', 100);
  ASSERT_EQ(h.Pick(p), w[0]);
  ASSERT_EQ(h.Pick(q), w[1]);
  ASSERT_EQ(h.Pick(q), w[1]);  // w[1] has served 2, w[2] none
  for (int i = 0; i < 3; ++i) ASSERT_EQ(h.Hold(p), w[0]);
  // Imbalanced (3,0,0): w[1] and w[2] are idle; w[2] served fewer.
  EXPECT_EQ(h.Pick(p), w[2]);
  EXPECT_EQ(h.Stats().imbalanced_selections, 1u);
  // Short (empty) prompts use the same least-loaded choice: w[2] has now
  // served 1, w[1] 2.
  EXPECT_EQ(h.Pick(RouteRequest{}), w[2]);
  // Served equal (2, 2): the lower id.
  EXPECT_EQ(h.Pick(RouteRequest{}), w[1]);
}

// Three workers: w[0] loaded with 3 requests of R, w[1] owning Q with one
// request in flight, w[2] idle and owning nothing: imbalanced (3 - 0 > 2).
void SetUpLocality(Harness& h, std::vector<WorkerId>& w, const std::string& r,
                   const std::string& q) {
  w = h.AddN(3);
  ASSERT_EQ(h.Pick(r), w[0]);
  ASSERT_EQ(h.Pick(q), w[1]);
  ASSERT_EQ(h.Hold(q), w[1]);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(h.Hold(r), w[0]);
}

TEST(CacheAwareTextTest, ImbalanceIgnoresLocalityByDefault) {
  Harness h(SmallBalance());
  std::vector<WorkerId> w;
  const std::string r = Text('r', 100), q = Text('q', 100);
  SetUpLocality(h, w, r, q);
  EXPECT_EQ(h.Pick(q), w[2]);
  EXPECT_EQ(h.Stats().imbalanced_selections, 1u);
}

TEST(CacheAwareTextTest, ImbalanceLocalityWindowPrefersAnOwnerWithinTheWindow) {
  CacheAwareOptions o = SmallBalance();
  o.imbalance_locality_window = 2;
  Harness h(o);
  std::vector<WorkerId> w;
  const std::string r = Text('r', 100), q = Text('q', 100);
  SetUpLocality(h, w, r, q);
  // Loads (3,1,0): the owner w[1] is within 2 of the minimum.
  EXPECT_EQ(h.Hold(q), w[1]);  // -> (3,2,0)
  EXPECT_EQ(h.Hold(q), w[1]);  // -> (3,3,0)
  // Now the owner is 3 above the minimum: outside the window -> least loaded.
  EXPECT_EQ(h.Hold(q), w[2]);
  EXPECT_EQ(h.Stats().imbalanced_selections, 3u);
}

// The window considers only the owners of the longest stored prefix (see
// CacheAwareOptions): when they are all outside it, the least loaded worker
// wins even if an in-window worker holds a shorter prefix.
TEST(CacheAwareTextTest, ImbalanceLocalityWindowConsidersOnlyTheLongestPrefixOwners) {
  CacheAwareOptions o = SmallBalance();
  o.imbalance_locality_window = 2;
  o.cache_threshold = 0.6;
  Harness h(o);
  std::vector<WorkerId> w = h.AddN(3);
  const std::string full = Text('s', 60) + Text('x', 60);
  const std::string half = Text('s', 60) + Text('y', 60);
  ASSERT_EQ(h.Pick(full), w[0]);
  // 60 of 120 matched is not above 0.6: a miss, to the least cached w[1].
  ASSERT_EQ(h.Pick(half), w[1]);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(h.Hold(full), w[0]);
  // Loads (3,0,0): imbalanced. The owner of the whole prompt, w[0], is outside
  // the window; w[1] holds only 60 bytes of it, so the least loaded worker
  // (w[2], fewer served) wins.
  EXPECT_EQ(h.Pick(full), w[2]);
  EXPECT_EQ(h.Stats().imbalanced_selections, 1u);
}

// ============================================================================
// Removal, re-adding and short prompts
// ============================================================================

TEST(CacheAwareTextTest, RemovedWorkerIsPurgedAndReaddedUrlStartsEmpty) {
  Harness h;
  std::vector<WorkerId> w = h.AddN(3);
  const std::string p = Text('p', 100), u = Text('u', 40);
  ASSERT_EQ(h.Pick(p), w[0]);
  ASSERT_EQ(h.Pick(u), w[1]);
  EXPECT_EQ(h.Stats().tree_units, 140u);
  ASSERT_TRUE(h.router().RemoveWorker(w[0]).ok());
  EXPECT_EQ(h.Stats().tree_units, 40u);
  // Re-added under the same URL: a new id, no inherited cache.
  const WorkerId again = h.Add(1);
  EXPECT_NE(again, w[0]);
  const uint64_t hits = h.Stats().cache_hits;
  // p is a miss now: least cached is w[2] or `again` (both 0): lower id w[2].
  EXPECT_EQ(h.Pick(p), w[2]);
  EXPECT_EQ(h.Stats().cache_hits, hits);
  EXPECT_EQ(h.Stats().tree_units, 140u);
  // The next unrelated prompt goes to the re-added worker (it holds nothing).
  EXPECT_EQ(h.Pick(Text('v', 10)), again);
}

TEST(CacheAwareTokenTest, RemovedWorkerIsPurged) {
  Harness h;
  std::vector<WorkerId> w = h.AddN(2);
  const std::vector<uint32_t> p = Tokens(1, 64);
  ASSERT_EQ(h.Pick(p), w[0]);
  EXPECT_EQ(h.Stats().tree_units, 64u);
  ASSERT_TRUE(h.router().RemoveWorkerByUrl(UrlOf(1)).ok());
  EXPECT_EQ(h.Stats().tree_units, 0u);
  EXPECT_EQ(h.Pick(p), w[1]);
  EXPECT_EQ(h.Stats().tree_units, 64u);
}

TEST(CacheAwareTokenTest, PromptShorterThanAPageIsRoutedLeastLoaded) {
  Harness h;
  std::vector<WorkerId> w = h.AddN(3);
  const std::vector<uint32_t> shorty = Tokens(1, 15);
  ASSERT_EQ(h.Hold(shorty), w[0]);  // all idle: lowest id
  EXPECT_EQ(h.Hold(shorty), w[1]);
  EXPECT_EQ(h.Hold(shorty), w[2]);
  EXPECT_EQ(h.Stats().tree_units, 0u);  // nothing recorded
  h.ReleaseAll();
  // Single-token and empty requests too.
  const std::vector<uint32_t> one = {42};
  EXPECT_NE(h.Pick(one), kInvalidWorkerId);
  EXPECT_NE(h.Pick(RouteRequest{}), kInvalidWorkerId);
  EXPECT_EQ(h.Stats().tree_units, 0u);
}

TEST(CacheAwareTextTest, EmptyTextIsRoutedLeastLoaded) {
  Harness h;
  std::vector<WorkerId> w = h.AddN(2);
  ASSERT_EQ(h.Hold(RouteRequest{}), w[0]);
  EXPECT_EQ(h.Hold(RouteRequest{}), w[1]);
  EXPECT_EQ(h.Stats().tree_units, 0u);
}

// ============================================================================
// Eviction
// ============================================================================

// Evicts exactly to the budget: these tests count the units evicted.
CacheAwareOptions SmallTree() {
  CacheAwareOptions o;
  o.max_tree_size = 100;
  o.evict_headroom = 0;
  o.eviction_interval = absl::Seconds(10);
  return o;
}

TEST(CacheAwareTextTest, MaintenanceEvictsToBudgetOnlyAfterTheInterval) {
  Harness h(SmallTree());
  h.AddN(2);
  for (char c = 'a'; c < 'a' + 10; ++c) h.Pick(Text(c, 50));
  EXPECT_EQ(h.Stats().tree_units, 500u);  // no inline eviction
  h.router().RunMaintenance();            // t = 0: interval not elapsed
  EXPECT_EQ(h.Stats().tree_units, 500u);
  h.clock().Advance(absl::Seconds(9));
  h.router().RunMaintenance();
  EXPECT_EQ(h.Stats().tree_units, 500u);
  EXPECT_EQ(h.Stats().evicted_units, 0u);
  h.clock().Advance(absl::Seconds(2));  // t = 11 s
  h.router().RunMaintenance();
  EXPECT_LE(h.Stats().tree_units, 100u);
  EXPECT_GE(h.Stats().evicted_units, 400u);
  // Grown again: maintenance right after an eviction waits a new interval.
  for (char c = 'k'; c < 'k' + 6; ++c) h.Pick(Text(c, 50));
  const uint64_t grown = h.Stats().tree_units;
  EXPECT_GT(grown, 100u);
  h.router().RunMaintenance();
  EXPECT_EQ(h.Stats().tree_units, grown);
  h.clock().Advance(absl::Seconds(10));
  h.router().RunMaintenance();
  EXPECT_LE(h.Stats().tree_units, 100u);
}

TEST(CacheAwareTokenTest, EvictNowReducesToBudgetAtOnce) {
  Harness h(SmallTree());
  h.AddN(2);
  for (uint32_t s = 1; s <= 8; ++s) h.Pick(Tokens(s, 32));
  EXPECT_EQ(h.Stats().tree_units, 256u);
  const size_t evicted = h.router().EvictNow();
  EXPECT_GE(evicted, 156u);
  EXPECT_LE(h.Stats().tree_units, 100u);
  EXPECT_EQ(h.Stats().evicted_units, evicted);
  // Under budget: nothing more to evict.
  EXPECT_EQ(h.router().EvictNow(), 0u);
}

TEST(CacheAwareTextTest, EvictionPrefersLeastRecentlyUsed) {
  Harness h(SmallTree());
  std::vector<WorkerId> w = h.AddN(1);
  const std::string old_p = Text('o', 50), new_p = Text('n', 50), third = Text('t', 50);
  h.Pick(old_p);
  h.Pick(new_p);
  h.Pick(third);
  h.Pick(new_p);  // touch
  h.Pick(third);  // touch
  EXPECT_EQ(h.router().EvictNow(), 50u);
  EXPECT_EQ(h.Stats().tree_units, 100u);
  // old_p is gone: with a second worker it is now a miss to the empty one.
  const WorkerId w2 = h.Add(2);
  EXPECT_EQ(h.Pick(old_p), w2);
  EXPECT_EQ(h.Pick(new_p), w[0]);
}

TEST(CacheAwareTextTest, EvictionFreesTheHeadroomBeyondTheBudget) {
  CacheAwareOptions o = SmallTree();
  o.evict_headroom = 0.5;  // down to 50 units
  Harness h(o);
  h.AddN(1);
  h.Pick(Text('a', 50));
  h.Pick(Text('b', 50));
  h.Pick(Text('c', 50));
  EXPECT_EQ(h.router().EvictNow(), 100u);
  EXPECT_EQ(h.Stats().tree_units, 50u);
}

TEST(CacheAwareTextTest, InlineEvictionKeepsTheBudget) {
  CacheAwareOptions o = SmallTree();
  o.evict_inline = true;
  Harness h(o);
  h.AddN(2);
  for (char c = 'a'; c < 'a' + 10; ++c) {
    h.Pick(Text(c, 50));
    ASSERT_LE(h.Stats().tree_units, 100u);
  }
  EXPECT_GE(h.Stats().evicted_units, 400u);
}

// ============================================================================
// Large fleets: bounded load sampling
// ============================================================================

// With sampling off every candidate is read: each unrelated prompt goes to a
// worker holding nothing, so 64 prompts land on 64 distinct workers.
TEST(CacheAwareSamplingTest, SampleSizeZeroReadsEveryCandidate) {
  CacheAwareOptions o;
  o.load_sample_size = 0;
  Harness h(o);
  h.AddN(64);
  std::set<WorkerId> chosen;
  for (int i = 0; i < 64; ++i) chosen.insert(h.Pick(absl::StrCat("unrelated prompt ", i, " ", Text('z', 40))));
  EXPECT_EQ(chosen.size(), 64u);
}

// Above the sample size a selection reads only a sample, yet misses still
// spread evenly (least cached of 8 random candidates), prefix hits still go
// to the owner wherever it sits in the fleet, and imbalance is still caught.
TEST(CacheAwareSamplingTest, SampledFleetSpreadsMissesAndKeepsAffinity) {
  CacheAwareOptions o;
  o.load_sample_size = 8;
  o.balance_abs_threshold = 4;
  Harness h(o);
  h.AddN(100);
  std::map<WorkerId, int> per_worker;
  std::vector<std::pair<std::string, WorkerId>> placed;
  for (int i = 0; i < 1000; ++i) {
    std::string prompt = absl::StrCat("conversation ", i, " ", Text('c', 60));
    const WorkerId id = h.Pick(prompt);
    ++per_worker[id];
    if (i % 100 == 0) placed.emplace_back(std::move(prompt), id);
  }
  EXPECT_EQ(per_worker.size(), 100u) << "every worker received some misses";
  int max_count = 0;
  for (const auto& [id, count] : per_worker) max_count = std::max(max_count, count);
  EXPECT_LE(max_count, 20) << "mean is 10: least-cached-of-8 keeps the spread tight";
  for (const auto& [prompt, owner] : placed) {
    EXPECT_EQ(h.Pick(prompt + " follow-up"), owner) << "affinity does not depend on the sample";
  }
  EXPECT_EQ(h.Stats().imbalanced_selections, 0u);
  // Pile load on one prompt's owner: once the balance check reads it (2 of
  // the 100 workers read fresh per selection, each reading checked by 4
  // selections), the imbalance branch moves the prompt elsewhere.
  const auto& [hot_prompt, hot_owner] = placed.front();
  int moved = 0;
  for (int i = 0; i < 200; ++i) moved += h.Hold(hot_prompt) != hot_owner ? 1 : 0;
  EXPECT_GT(h.Stats().imbalanced_selections, 0u);
  EXPECT_GT(moved, 0);
}

// Random values from a script, then zeros: Uniform(n) of `v` is the high
// half of v * n, so ValueFor(i, n) makes Uniform(n) return i.
class ScriptedRandom final : public RandomSource {
 public:
  uint64_t Next() override {
    if (script_.empty()) return 0;
    const uint64_t v = script_.front();
    script_.pop_front();
    return v;
  }
  void Push(uint64_t v) { script_.push_back(v); }
  static uint64_t ValueFor(uint64_t i, uint64_t n) {
    return absl::Uint128Low64(((absl::uint128(i) << 64) + n - 1) / n);
  }

 private:
  std::deque<uint64_t> script_;
};

// The policy alone on a fixed candidate set, with scripted sampling and
// loads set directly, so a test controls which candidates a selection reads.
class SampledPolicy {
 public:
  SampledPolicy(int workers, size_t sample_size) {
    CacheAwareOptions o;
    o.load_sample_size = sample_size;
    o.balance_abs_threshold = 4;
    PolicyConfig config;
    config.kind = PolicyKind::kCacheAware;
    config.cache_aware = o;
    absl::StatusOr<PolicyPtr> policy = CreatePolicy(config, {.clock = &clock_, .random = &random_});
    EXPECT_TRUE(policy.ok()) << policy.status();
    policy_ = *std::move(policy);
    for (int i = 0; i < workers; ++i) {
      WorkerSpec spec;
      spec.url = UrlOf(i + 1);
      members_.push_back(std::make_shared<Worker>(static_cast<WorkerId>(i + 1), spec, "10.0.1.1"));
    }
    set_ = CandidateSet::Build(members_, nullptr, std::make_shared<LegLoad>());
  }

  Worker& worker(size_t i) { return *members_[i]; }

  // One selection whose sample walks from candidate `start` with the first
  // stride prime (2^31 - 1): start, start + (2^31 - 1) mod n, ...
  void SelectFrom(size_t start) {
    random_.Push(0);  // the stride's prime: the first
    random_.Push(ScriptedRandom::ValueFor(start, members_.size()));
    RouteRequest request;
    request.text = "the same prompt every time";
    EXPECT_TRUE(policy_->Select(request, *set_).ok());
  }

  uint64_t imbalanced() const { return policy_->stats().imbalanced_selections; }

 private:
  ManualClock clock_;
  ScriptedRandom random_;
  PolicyPtr policy_;
  std::vector<WorkerPtr> members_;
  std::shared_ptr<const CandidateSet> set_;
};

// 64 workers, a sample of 8: a selection reads 2 candidates fresh (the walk
// from `start` steps by 63, i.e. start, start - 1) and checks them with its
// thread's last 3 selections' readings, so one reading of a loaded worker
// makes exactly 4 selections see the imbalance.
TEST(CacheAwareSamplingTest, BalanceCheckRemembersTheLastFourSelections) {
  SampledPolicy p(64, 8);
  RouterTestPeer::AddLoad(p.worker(10), 10);
  p.SelectFrom(40);  // reads 40, 39: idle
  EXPECT_EQ(p.imbalanced(), 0u);
  p.SelectFrom(10);  // reads 10: loaded
  EXPECT_EQ(p.imbalanced(), 1u);
  for (int i = 0; i < 3; ++i) p.SelectFrom(40);
  EXPECT_EQ(p.imbalanced(), 4u) << "the reading of worker 10 is checked by the next 3 selections";
  p.SelectFrom(40);
  EXPECT_EQ(p.imbalanced(), 4u) << "and by no later one";
}

// Up to the sample size every candidate is read on every selection, and
// nothing is remembered: the check follows the loads at once.
TEST(CacheAwareSamplingTest, SmallFleetBalanceCheckIsExact) {
  SampledPolicy p(8, 8);
  RouterTestPeer::AddLoad(p.worker(3), 10);
  p.SelectFrom(0);
  EXPECT_EQ(p.imbalanced(), 1u);
  RouterTestPeer::DropLoad(p.worker(3), 10);
  p.SelectFrom(0);
  EXPECT_EQ(p.imbalanced(), 1u) << "balanced again on the next selection";
}

TEST(CacheAwareSamplingTest, SampleSizeOneIsRejected) {
  RouterOptions options;
  options.policies.policy.kind = PolicyKind::kCacheAware;
  options.policies.policy.cache_aware.load_sample_size = 1;
  absl::Status s = Router::Create(options).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), ::testing::HasSubstr("load_sample_size"));
}

}  // namespace
}  // namespace smg
