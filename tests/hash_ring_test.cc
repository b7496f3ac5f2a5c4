// Unit tests of the consistent-hash ring (lib/policies/consistent_hash) and
// of PickOnRing(), the bounded-load walk shared by consistent_hash and
// prefix_hash.
#include "policies/consistent_hash/hash_ring.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "smgcore/policy.h"
#include "smgcore/policy_config.h"
#include "smgcore/router.h"

namespace smg {
namespace {

using ::testing::ElementsAreArray;

std::string UrlOf(int i) { return absl::StrCat("http://10.0.0.", i, ":8000"); }

// A standalone worker (not registered anywhere): enough for ring building.
WorkerPtr MakeWorker(WorkerId id, const std::string& url) {
  WorkerSpec spec;
  spec.url = url;
  spec.model = "m";
  return std::make_shared<Worker>(id, spec, "host");
}

std::vector<WorkerPtr> MakeWorkers(int n, WorkerId first_id = 1) {
  std::vector<WorkerPtr> out;
  for (int i = 0; i < n; ++i) {
    out.push_back(MakeWorker(first_id + static_cast<WorkerId>(i), UrlOf(i + 1)));
  }
  return out;
}

// The first worker Walk() offers from `hash` (the ring owner of the hash).
WorkerId OwnerOf(const HashRing& ring, uint64_t hash) {
  std::optional<WorkerId> id = ring.Walk(hash, [](WorkerId) { return true; });
  return id.value_or(kInvalidWorkerId);
}

std::vector<uint64_t> Keys(int n) {
  std::vector<uint64_t> keys;
  keys.reserve(n);
  for (int i = 0; i < n; ++i) keys.push_back(HashBytes(absl::StrCat("key-", i)));
  return keys;
}

// Maps each key to the URL of its owner, so rings over workers with
// different ids can be compared.
std::vector<std::string> UrlMapping(const HashRing& ring, const std::vector<WorkerPtr>& workers,
                                    const std::vector<uint64_t>& keys) {
  std::map<WorkerId, std::string> url_of;
  for (const WorkerPtr& w : workers) url_of[w->id()] = w->url();
  std::vector<std::string> out;
  out.reserve(keys.size());
  for (uint64_t k : keys) out.push_back(url_of.at(OwnerOf(ring, k)));
  return out;
}

// --- HashBytes ----------------------------------------------------------------

TEST(HashBytesTest, DeterministicAndSensitiveToEveryByte) {
  EXPECT_EQ(HashBytes("hello"), HashBytes(std::string("hello")));
  EXPECT_NE(HashBytes("hello"), HashBytes("hellp"));
  EXPECT_NE(HashBytes("hello"), HashBytes("hello "));
  EXPECT_NE(HashBytes(""), HashBytes(absl::string_view("\0", 1)));
  // Known XXH3-64 value of the empty input (xxHash reference).
  EXPECT_EQ(HashBytes(""), uint64_t{0x2D06800538D394C2ULL});
}

// --- Build / Update / size ---------------------------------------------------------

TEST(HashRingTest, SizeIsMembersTimesVirtualNodes) {
  std::vector<WorkerPtr> workers = MakeWorkers(5);
  EXPECT_EQ(HashRing::Build(workers, 150)->size(), 750u);
  EXPECT_EQ(HashRing::Build(workers, 1)->size(), 5u);
  EXPECT_EQ(HashRing::Build({}, 150)->size(), 0u);
}

TEST(HashRingTest, EmptyRingWalkReturnsNulloptWithoutCallingAccept) {
  auto ring = HashRing::Build({}, 150);
  int calls = 0;
  EXPECT_EQ(ring->Walk(12345, [&](WorkerId) {
    ++calls;
    return true;
  }),
            std::nullopt);
  EXPECT_EQ(calls, 0);
}

TEST(HashRingTest, EachVirtualNodeIsXxh3OfUrlHashIndex) {
  // Each point is HashBytes("<url>#<i>"): walking from exactly that hash lands
  // on the point itself, owned by that worker.
  std::vector<WorkerPtr> workers = MakeWorkers(4);
  auto ring = HashRing::Build(workers, 20);
  for (const WorkerPtr& w : workers) {
    for (int i = 0; i < 20; ++i) {
      EXPECT_EQ(OwnerOf(*ring, HashBytes(absl::StrCat(w->url(), "#", i))), w->id())
          << w->url() << "#" << i;
    }
  }
}

// The owners of a full clockwise turn from 0: the ring's point order.
std::vector<WorkerId> Turn(const HashRing& ring) {
  std::vector<WorkerId> out;
  ring.Walk(0, [&](WorkerId id) {
    out.push_back(id);
    return false;
  });
  return out;
}

// Two rings are the same when they have the same members, the same point
// order and the same owner for every probe key.
void ExpectSameRing(const HashRing& a, const HashRing& b) {
  EXPECT_THAT(a.member_ids(), ElementsAreArray(b.member_ids()));
  EXPECT_EQ(a.size(), b.size());
  EXPECT_EQ(Turn(a), Turn(b));
  for (uint64_t k : Keys(500)) ASSERT_EQ(OwnerOf(a, k), OwnerOf(b, k));
}

TEST(HashRingTest, MemberIdsAreSorted) {
  std::vector<WorkerPtr> workers = {MakeWorker(7, UrlOf(1)), MakeWorker(3, UrlOf(2)),
                                    MakeWorker(5, UrlOf(3))};
  auto ring = HashRing::Build(workers, 10);
  EXPECT_THAT(ring->member_ids(), ElementsAreArray(std::vector<WorkerId>{3, 5, 7}));
  EXPECT_TRUE(HashRing::Build({}, 10)->member_ids().empty());
}

TEST(HashRingTest, UpdateWithoutChangeReturnsTheSameRing) {
  std::vector<WorkerPtr> workers = MakeWorkers(3);
  auto ring = HashRing::Build(workers, 10);
  EXPECT_EQ(HashRing::Update(ring, workers, 10), ring);
  // Different virtual nodes: a different ring, equal to a fresh build.
  auto more_nodes = HashRing::Update(ring, workers, 11);
  EXPECT_NE(more_nodes, ring);
  EXPECT_EQ(more_nodes->size(), 33u);
  ExpectSameRing(*more_nodes, *HashRing::Build(workers, 11));
  // From nothing: a build.
  ExpectSameRing(*HashRing::Update(nullptr, workers, 10), *ring);
}

// Regression: Update() once dropped every surviving point (it read the
// member list after moving it away), so a ring grown one worker at a time held
// only the last worker and every key went there.
TEST(HashRingTest, UpdateEqualsAFreshBuild) {
  std::vector<WorkerPtr> workers = MakeWorkers(6);
  auto ring = HashRing::Build(absl::MakeConstSpan(workers).subspan(0, 1), 40);
  // Grown one by one, as the router adds workers.
  for (size_t n = 2; n <= workers.size(); ++n) {
    auto members = absl::MakeConstSpan(workers).subspan(0, n);
    ring = HashRing::Update(ring, members, 40);
    ExpectSameRing(*ring, *HashRing::Build(members, 40));
  }
  // Shrunk: workers 2 and 5 leave.
  std::vector<WorkerPtr> fewer = {workers[0], workers[2], workers[3], workers[5]};
  auto shrunk = HashRing::Update(ring, fewer, 40);
  EXPECT_EQ(shrunk->size(), 160u);
  ExpectSameRing(*shrunk, *HashRing::Build(fewer, 40));
  // One leaves, one joins, one is replaced under the same URL (new id).
  std::vector<WorkerPtr> mixed = {workers[0], workers[2], MakeWorker(20, workers[3]->url()),
                                  MakeWorker(21, UrlOf(40))};
  auto updated = HashRing::Update(shrunk, mixed, 40);
  ExpectSameRing(*updated, *HashRing::Build(mixed, 40));
  EXPECT_THAT(updated->member_ids(), ElementsAreArray(std::vector<WorkerId>{1, 3, 20, 21}));
  // The previous rings are unchanged (immutable, shared by old snapshots).
  ExpectSameRing(*shrunk, *HashRing::Build(fewer, 40));
  // To empty.
  auto empty = HashRing::Update(updated, {}, 40);
  EXPECT_EQ(empty->size(), 0u);
  EXPECT_TRUE(empty->member_ids().empty());
}

TEST(HashRingTest, IndependentOfMemberOrder) {
  std::vector<WorkerPtr> workers = MakeWorkers(6);
  std::vector<WorkerPtr> reversed(workers.rbegin(), workers.rend());
  auto a = HashRing::Build(workers, 50);
  auto b = HashRing::Build(reversed, 50);
  ExpectSameRing(*a, *b);
  for (uint64_t k : Keys(2000)) ASSERT_EQ(OwnerOf(*a, k), OwnerOf(*b, k));
}

// --- Walk -------------------------------------------------------------------------

TEST(HashRingTest, WalkVisitsEveryPointOnceInAFullTurn) {
  std::vector<WorkerPtr> workers = MakeWorkers(4);
  auto ring = HashRing::Build(workers, 25);
  std::map<WorkerId, int> visits;
  int calls = 0;
  EXPECT_EQ(ring->Walk(HashBytes("x"),
                       [&](WorkerId id) {
                         ++calls;
                         ++visits[id];
                         return false;
                       }),
            std::nullopt);
  EXPECT_EQ(calls, 100);
  ASSERT_EQ(visits.size(), 4u);
  for (const auto& [id, n] : visits) EXPECT_EQ(n, 25) << id;
}

TEST(HashRingTest, WalkReturnsFirstAcceptedClockwise) {
  std::vector<WorkerPtr> workers = MakeWorkers(5);
  auto ring = HashRing::Build(workers, 30);
  for (uint64_t k : Keys(200)) {
    // Record the visiting order, then ask for the first id that is not the
    // owner: it must be the first different id of that order.
    std::vector<WorkerId> order;
    ring->Walk(k, [&](WorkerId id) {
      order.push_back(id);
      return false;
    });
    ASSERT_EQ(order.size(), 150u);
    const WorkerId owner = order.front();
    EXPECT_EQ(OwnerOf(*ring, k), owner);
    WorkerId expected_next = kInvalidWorkerId;
    for (WorkerId id : order) {
      if (id != owner) {
        expected_next = id;
        break;
      }
    }
    int calls = 0;
    std::optional<WorkerId> next = ring->Walk(k, [&](WorkerId id) {
      ++calls;
      return id != owner;
    });
    ASSERT_TRUE(next.has_value());
    EXPECT_EQ(*next, expected_next);
    // It stopped at the first accepted point.
    const auto pos = std::find(order.begin(), order.end(), expected_next) - order.begin();
    EXPECT_EQ(calls, pos + 1);
  }
}

TEST(HashRingTest, WalkWrapsAroundPastTheLastPoint) {
  std::vector<WorkerPtr> workers = MakeWorkers(3);
  auto ring = HashRing::Build(workers, 10);
  // A hash above every point starts again at the lowest point, which is also
  // where hash 0 starts.
  std::vector<WorkerId> from_max, from_zero;
  ring->Walk(std::numeric_limits<uint64_t>::max(), [&](WorkerId id) {
    from_max.push_back(id);
    return false;
  });
  ring->Walk(0, [&](WorkerId id) {
    from_zero.push_back(id);
    return false;
  });
  EXPECT_THAT(from_max, ElementsAreArray(from_zero));
}

// --- Distribution and stability ---------------------------------------------------------

TEST(HashRingTest, KeysSpreadRoughlyEvenly) {
  std::vector<WorkerPtr> workers = MakeWorkers(8);
  auto ring = HashRing::Build(workers, 150);
  std::map<WorkerId, int> counts;
  const int kKeys = 16000;
  for (uint64_t k : Keys(kKeys)) ++counts[OwnerOf(*ring, k)];
  ASSERT_EQ(counts.size(), 8u);
  // 150 virtual nodes: each share within [0.6, 1.5] of the fair 1/8.
  for (const auto& [id, n] : counts) {
    EXPECT_GT(n, kKeys / 8 * 6 / 10) << id;
    EXPECT_LT(n, kKeys / 8 * 15 / 10) << id;
  }
}

TEST(HashRingTest, AddingAWorkerMovesKeysOnlyToIt) {
  std::vector<WorkerPtr> workers = MakeWorkers(8);
  std::vector<uint64_t> keys = Keys(4000);
  auto before = HashRing::Build(workers, 150);
  std::vector<WorkerPtr> grown = workers;
  grown.push_back(MakeWorker(9, UrlOf(9)));
  auto after = HashRing::Build(grown, 150);
  int moved = 0;
  for (uint64_t k : keys) {
    const WorkerId a = OwnerOf(*before, k);
    const WorkerId b = OwnerOf(*after, k);
    if (a != b) {
      ++moved;
      EXPECT_EQ(b, 9u) << "a key moved between two old workers";
    }
  }
  // About 1/9 of the keys.
  EXPECT_GT(moved, 4000 / 9 / 2);
  EXPECT_LT(moved, 4000 / 4);
}

TEST(HashRingTest, RemovingAWorkerMovesOnlyItsKeys) {
  std::vector<WorkerPtr> workers = MakeWorkers(8);
  std::vector<uint64_t> keys = Keys(4000);
  auto before = HashRing::Build(workers, 150);
  std::vector<WorkerPtr> shrunk = workers;
  shrunk.erase(shrunk.begin() + 3);  // id 4
  auto after = HashRing::Build(shrunk, 150);
  int moved = 0;
  for (uint64_t k : keys) {
    const WorkerId a = OwnerOf(*before, k);
    const WorkerId b = OwnerOf(*after, k);
    if (a == 4) {
      ++moved;
      EXPECT_NE(b, 4u);
    } else {
      EXPECT_EQ(a, b) << "a key of a remaining worker moved";
    }
  }
  EXPECT_GT(moved, 0);
}

TEST(HashRingTest, PointsDependOnUrlNotId) {
  // A worker replaced under the same URL (new id) keeps its keys.
  std::vector<WorkerPtr> workers = MakeWorkers(5);
  std::vector<WorkerPtr> replaced = workers;
  replaced[1] = MakeWorker(42, workers[1]->url());
  std::vector<uint64_t> keys = Keys(2000);
  auto a = HashRing::Build(workers, 100);
  auto b = HashRing::Build(replaced, 100);
  EXPECT_EQ(UrlMapping(*a, workers, keys), UrlMapping(*b, replaced, keys));
}

// --- PickOnRing ---------------------------------------------------------------------

// A custom policy that picks the candidate whose id is `*target`, so tests
// can put tickets (in-flight load) on chosen workers through the router.
class TargetPolicy final : public Policy {
 public:
  explicit TargetPolicy(const WorkerId* target) : target_(target) {}
  absl::string_view name() const override { return "target"; }
  absl::StatusOr<size_t> Select(const RouteRequest&, const CandidateSet& c) override {
    std::optional<size_t> i = c.IndexOf(*target_);
    if (!i.has_value()) return absl::NotFoundError("target not a candidate");
    return *i;
  }

 private:
  const WorkerId* target_;
};

class PickOnRingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RouterOptions options;
    options.policies.policy.kind = PolicyKind::kCustom;
    options.policies.policy.custom_factory = [this](const PolicyContext&) {
      return std::make_unique<TargetPolicy>(&target_);
    };
    router_ = *Router::Create(options);
    for (int i = 1; i <= 4; ++i) {
      WorkerSpec spec;
      spec.url = UrlOf(i);
      ASSERT_TRUE(router_->AddWorker(spec).ok());
    }
    workers_ = router_->ListWorkers();
    ASSERT_EQ(workers_.size(), 4u);
    ring_ = HashRing::Build(workers_, 50);
  }

  // Puts `n` requests in flight on worker `id`.
  void Hold(WorkerId id, int n) {
    target_ = id;
    for (int i = 0; i < n; ++i) {
      absl::StatusOr<Ticket> t = router_->Select({});
      ASSERT_TRUE(t.ok()) << t.status();
      held_.push_back(*std::move(t));
    }
  }

  // Candidates over `members` (the healthy ones), our ring and `leg_`.
  std::shared_ptr<const CandidateSet> Candidates(const std::vector<WorkerPtr>& members,
                                                 bool with_ring = true) {
    return CandidateSet::Build(members, with_ring ? ring_ : nullptr, leg_);
  }

  WorkerId target_ = kInvalidWorkerId;
  std::unique_ptr<Router> router_;
  std::vector<WorkerPtr> workers_;
  std::shared_ptr<const HashRing> ring_;
  // Sets the leg's in-flight total (as if `n` requests were in flight).
  void SetLegLoad(int64_t n) { leg_->Add(n - leg_->value()); }
  std::shared_ptr<LegLoad> leg_ = std::make_shared<LegLoad>();
  std::vector<Ticket> held_;
  std::atomic<uint64_t> skips_{0};
};

TEST_F(PickOnRingTest, NoRingOrNoCandidatesIsNullopt) {
  EXPECT_EQ(PickOnRing(*Candidates(workers_, /*with_ring=*/false), 1, 1.25, &skips_),
            std::nullopt);
  EXPECT_EQ(PickOnRing(*CandidateSet::Build({}, ring_, leg_), 1, 1.25, &skips_), std::nullopt);
}

// The router's sets make their ring on first use, once, from any thread,
// and share it with the sets derived from them: registering workers costs
// no ring work until a hashed selection needs one.
TEST_F(PickOnRingTest, LazyRingIsMadeOnceOnFirstUseAndShared) {
  std::atomic<int> made{0};
  auto set = CandidateSet::BuildWithLazyRing(
      workers_,
      [&] {
        made.fetch_add(1);
        return ring_;
      },
      leg_);
  auto derived = set->Without({workers_[0]->id()});
  EXPECT_EQ(made.load(), 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] { EXPECT_EQ((t % 2 == 0 ? set : derived)->ring(), ring_.get()); });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(made.load(), 1);
  EXPECT_EQ(set->shared_ring(), ring_);
  // No factory: no ring.
  EXPECT_EQ(CandidateSet::BuildWithLazyRing(workers_, nullptr, leg_)->ring(), nullptr);
}

TEST_F(PickOnRingTest, UnloadedPicksTheRingOwner) {
  auto candidates = Candidates(workers_);
  for (uint64_t k : Keys(500)) {
    std::optional<size_t> i = PickOnRing(*candidates, k, 1.25, &skips_);
    ASSERT_TRUE(i.has_value());
    EXPECT_EQ((*candidates)[*i].id(), OwnerOf(*ring_, k));
  }
  EXPECT_EQ(skips_.load(), 0u);
}

TEST_F(PickOnRingTest, UnhealthyOwnerIsSkippedClockwiseWithoutCountingASkip) {
  // The ring holds all four; candidates exclude worker 2.
  std::vector<WorkerPtr> members;
  for (const WorkerPtr& w : workers_) {
    if (w->id() != 2) members.push_back(w);
  }
  auto candidates = Candidates(members);
  int checked = 0;
  for (uint64_t k : Keys(500)) {
    std::optional<size_t> i = PickOnRing(*candidates, k, 1.25, &skips_);
    ASSERT_TRUE(i.has_value());
    const WorkerId expected = *ring_->Walk(k, [](WorkerId id) { return id != 2; });
    EXPECT_EQ((*candidates)[*i].id(), expected);
    if (OwnerOf(*ring_, k) == 2) ++checked;
  }
  EXPECT_GT(checked, 0);
  EXPECT_EQ(skips_.load(), 0u);
}

TEST_F(PickOnRingTest, BoundIsCeilOfFactorTimesMeanIncludingTheNewRequest) {
  // Find a key owned by worker 1.
  uint64_t key = 0;
  for (uint64_t k : Keys(1000)) {
    if (OwnerOf(*ring_, k) == 1) {
      key = k;
      break;
    }
  }
  ASSERT_NE(key, 0u);
  auto candidates = Candidates(workers_);
  // Worker 1 holds 3. Leg in-flight L: cap = ceil(1.25 * (L + 1) / 4).
  Hold(1, 3);
  ASSERT_EQ(workers_[0]->in_flight(), 3);
  // L = 8: cap = ceil(2.8125) = 3 -> 3 >= 3, skipped.
  SetLegLoad(8);
  std::optional<size_t> i = PickOnRing(*candidates, key, 1.25, &skips_);
  ASSERT_TRUE(i.has_value());
  const WorkerId next = *ring_->Walk(key, [](WorkerId id) { return id != 1; });
  EXPECT_EQ((*candidates)[*i].id(), next);
  EXPECT_EQ(skips_.load(), 1u);
  // L = 9: cap = ceil(3.125) = 4 -> 3 < 4, kept.
  SetLegLoad(9);
  i = PickOnRing(*candidates, key, 1.25, &skips_);
  ASSERT_TRUE(i.has_value());
  EXPECT_EQ((*candidates)[*i].id(), 1u);
  EXPECT_EQ(skips_.load(), 1u);
  // load_factor 0: never bounded, whatever the leg load.
  SetLegLoad(0);
  i = PickOnRing(*candidates, key, 0.0, &skips_);
  ASSERT_TRUE(i.has_value());
  EXPECT_EQ((*candidates)[*i].id(), 1u);
  EXPECT_EQ(skips_.load(), 1u);
}

TEST_F(PickOnRingTest, WalkSkipsEveryOverBoundWorker) {
  uint64_t key = HashBytes("hot");
  std::vector<WorkerId> order;  // distinct workers in clockwise order
  ring_->Walk(key, [&](WorkerId id) {
    if (std::find(order.begin(), order.end(), id) == order.end()) order.push_back(id);
    return false;
  });
  ASSERT_EQ(order.size(), 4u);
  // The first two workers clockwise are at the bound; the third is below.
  Hold(order[0], 2);
  Hold(order[1], 2);
  SetLegLoad(4);  // cap = ceil(1.25 * 5 / 4) = 2
  auto candidates = Candidates(workers_);
  std::optional<size_t> i = PickOnRing(*candidates, key, 1.25, &skips_);
  ASSERT_TRUE(i.has_value());
  EXPECT_EQ((*candidates)[*i].id(), order[2]);
  EXPECT_GE(skips_.load(), 2u);
}

TEST_F(PickOnRingTest, AllOverBoundDropsTheBound) {
  // Every candidate at or above the cap (possible when unhealthy workers hold
  // the leg's in-flight): the bound is dropped and the ring owner wins.
  for (const WorkerPtr& w : workers_) Hold(w->id(), 1);
  SetLegLoad(0);  // cap = ceil(1.25 * 1 / 4) = 1 -> everyone at the cap
  auto candidates = Candidates(workers_);
  for (uint64_t k : Keys(50)) {
    std::optional<size_t> i = PickOnRing(*candidates, k, 1.25, &skips_);
    ASSERT_TRUE(i.has_value());
    EXPECT_EQ((*candidates)[*i].id(), OwnerOf(*ring_, k));
  }
  EXPECT_GT(skips_.load(), 0u);
}

}  // namespace
}  // namespace smg
