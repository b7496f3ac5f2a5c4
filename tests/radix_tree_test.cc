#include "smgcore/radix_tree.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <map>
#include <new>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "thread_slot.h"
#include "tree/tree_lock.h"

namespace smg {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAreArray;

using Tokens = std::vector<uint32_t>;

// Unbounded trees, unless a test is about eviction.
TreeOptions Unbounded(size_t page_size = 1) {
  TreeOptions o;
  o.page_size = page_size;
  o.budget_units = 0;
  return o;
}

std::vector<TenantId> Owners(const PrefixMatch& m) { return {m.owners.begin(), m.owners.end()}; }

Tokens Seq(size_t n, uint32_t start) {
  Tokens t(n);
  for (size_t i = 0; i < n; ++i) t[i] = start + static_cast<uint32_t>(i);
  return t;
}

// n token ids from a small alphabet (so random keys share short prefixes).
Tokens RandomTokens(std::mt19937_64& rng, size_t n, uint32_t alphabet) {
  Tokens t(n);
  for (uint32_t& id : t) id = static_cast<uint32_t>(rng() % alphabet);
  return t;
}

std::string RandomBytes(std::mt19937_64& rng, size_t n) {
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng() & 0xff);
  return s;
}

#define EXPECT_TREE_OK(tree) EXPECT_EQ((tree).CheckInvariantsForTesting(), absl::OkStatus())

// ---------------------------------------------------------------------------
// Basics.

TEST(RadixTreeTest, EmptyTree) {
  TextTree tree(Unbounded());
  PrefixMatch m = tree.Match(TextKey("abc"));
  EXPECT_EQ(m.matched_units, 0u);
  EXPECT_EQ(m.key_units, 3u);
  EXPECT_THAT(m.owners, IsEmpty());
  EXPECT_EQ(tree.stored_units(), 0u);
  EXPECT_EQ(tree.node_count(), 0u);
  EXPECT_GT(tree.memory_bytes(), 0u);
  EXPECT_EQ(tree.tenant_units(1), 0u);
  EXPECT_TREE_OK(tree);
}

TEST(RadixTreeTest, EmptyKey) {
  TextTree tree(Unbounded());
  tree.Insert(TextKey(""), 1);
  EXPECT_EQ(tree.stored_units(), 0u);
  PrefixMatch m = tree.Match(TextKey(""));
  EXPECT_EQ(m.matched_units, 0u);
  EXPECT_EQ(m.key_units, 0u);
  int calls = 0;
  auto r = tree.MatchAndInsert(TextKey(""), [&](const PrefixMatch&) {
    ++calls;
    return TenantId{1};
  });
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(r.chosen, 1u);
  EXPECT_EQ(tree.stored_units(), 0u);
  EXPECT_EQ(tree.node_count(), 0u);
  EXPECT_TREE_OK(tree);
}

TEST(RadixTreeTest, NoTenantInsertIsIgnored) {
  TextTree tree(Unbounded());
  tree.Insert(TextKey("abc"), kNoTenant);
  EXPECT_EQ(tree.stored_units(), 0u);
  tree.RemoveTenant(kNoTenant);
  tree.RemoveTenant(42);  // unknown
  EXPECT_TREE_OK(tree);
}

TEST(RadixTreeTest, PageSizeZeroIsOne) {
  TextTree tree(TreeOptions{.page_size = 0});
  EXPECT_EQ(tree.options().page_size, 1u);
  tree.Insert(TextKey("ab"), 1);
  EXPECT_EQ(tree.Match(TextKey("ax")).matched_units, 1u);
  TokenTree huge(TreeOptions{.page_size = size_t{1} << 40});
  EXPECT_EQ(huge.options().page_size, kMaxTreePageSize);
}

TEST(RadixTreeTest, EvictHeadroomIsClampedIntoItsRange) {
  EXPECT_EQ(TextTree(TreeOptions{}).options().evict_headroom, 1.0 / 64);
  EXPECT_EQ(TextTree(TreeOptions{.evict_headroom = -1}).options().evict_headroom, 0.0);
  EXPECT_EQ(TextTree(TreeOptions{.evict_headroom = 2}).options().evict_headroom, 0.5);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(TextTree(TreeOptions{.evict_headroom = nan}).options().evict_headroom, 0.0);
}

TEST(RadixTreeTest, TokenKeyShorterThanPage) {
  TokenTree tree(Unbounded(16));
  Tokens key = Seq(15, 100);
  tree.Insert(key, 1);
  EXPECT_EQ(tree.stored_units(), 0u);
  PrefixMatch m = tree.Match(key);
  EXPECT_EQ(m.matched_units, 0u);
  EXPECT_EQ(m.key_units, 0u);
  EXPECT_TREE_OK(tree);
}

TEST(RadixTreeTest, TokenPageAlignment) {
  TokenTree tree(Unbounded(16));
  Tokens key = Seq(37, 1000);
  tree.Insert(key, 7);
  EXPECT_EQ(tree.stored_units(), 32u);
  EXPECT_EQ(tree.tenant_units(7), 32u);

  PrefixMatch m = tree.Match(key);
  EXPECT_EQ(m.matched_units, 32u);
  EXPECT_EQ(m.key_units, 32u);
  EXPECT_THAT(Owners(m), ElementsAre(7u));

  // Diverges at token 20: only the first whole page matches.
  Tokens other = key;
  other[20] = 5;
  EXPECT_EQ(tree.Match(other).matched_units, 16u);
  // Diverges at token 3: no whole page matches.
  other = key;
  other[3] = 5;
  EXPECT_EQ(tree.Match(other).matched_units, 0u);
  EXPECT_THAT(tree.Match(other).owners, IsEmpty());

  // Inserting the variant that diverges at 20 splits at the page boundary 16.
  other = key;
  other[20] = 5;
  tree.Insert(other, 8);
  EXPECT_EQ(tree.node_count(), 3u);
  EXPECT_EQ(tree.stored_units(), 48u);
  EXPECT_EQ(tree.tenant_units(8), 32u);
  EXPECT_THAT(Owners(tree.Match(Seq(16, 1000))), ElementsAre(8u, 7u));
  EXPECT_TREE_OK(tree);
}

TEST(RadixTreeTest, TokenChildrenSharingFirstToken) {
  // Two pages that start with the same token but differ later are different
  // children: the whole first page decides.
  TokenTree tree(Unbounded(4));
  tree.Insert(Tokens{1, 2, 3, 4, 9, 9, 9, 9}, 1);
  tree.Insert(Tokens{1, 2, 3, 5, 8, 8, 8, 8}, 2);
  tree.Insert(Tokens{1, 7, 7, 7}, 3);
  EXPECT_EQ(tree.node_count(), 3u);
  EXPECT_EQ(tree.Match(Tokens{1, 2, 3, 5, 8, 8, 8, 8}).matched_units, 8u);
  EXPECT_THAT(Owners(tree.Match(Tokens{1, 2, 3, 5, 8, 8, 8, 8})), ElementsAre(2u));
  EXPECT_THAT(Owners(tree.Match(Tokens{1, 2, 3, 4, 0, 0, 0, 0})), ElementsAre(1u));
  EXPECT_EQ(tree.Match(Tokens{1, 2, 3, 6}).matched_units, 0u);
  EXPECT_THAT(Owners(tree.Match(Tokens{1, 7, 7, 7, 1})), ElementsAre(3u));
  EXPECT_TREE_OK(tree);
}

TEST(RadixTreeTest, ExactPartialAndPrefixMatches) {
  TextTree tree(Unbounded());
  tree.Insert(TextKey("hello world"), 1);
  EXPECT_EQ(tree.Match(TextKey("hello world")).matched_units, 11u);
  EXPECT_EQ(tree.Match(TextKey("hello world and more")).matched_units, 11u);
  EXPECT_EQ(tree.Match(TextKey("hello")).matched_units, 5u);       // a prefix of a stored key
  EXPECT_EQ(tree.Match(TextKey("hello there")).matched_units, 6u);  // partway into the edge
  EXPECT_EQ(tree.Match(TextKey("xyz")).matched_units, 0u);
  EXPECT_THAT(Owners(tree.Match(TextKey("hello"))), ElementsAre(1u));
  EXPECT_EQ(tree.node_count(), 1u);  // matching never splits
  EXPECT_TREE_OK(tree);
}

TEST(RadixTreeTest, SplitMidEdge) {
  TextTree tree(Unbounded());
  tree.Insert(TextKey("abcdef"), 1);
  tree.Insert(TextKey("abcxyz"), 2);
  EXPECT_EQ(tree.node_count(), 3u);
  EXPECT_EQ(tree.stored_units(), 9u);
  EXPECT_EQ(tree.tenant_units(1), 6u);
  EXPECT_EQ(tree.tenant_units(2), 6u);
  PrefixMatch m = tree.Match(TextKey("abcq"));
  EXPECT_EQ(m.matched_units, 3u);
  EXPECT_THAT(Owners(m), ElementsAre(2u, 1u));  // 2 inserted last
  EXPECT_THAT(Owners(tree.Match(TextKey("abcd"))), ElementsAre(1u));
  EXPECT_THAT(Owners(tree.Match(TextKey("abcxyz!"))), ElementsAre(2u));
  tree.Insert(TextKey("abcdef"), 1);
  EXPECT_THAT(Owners(tree.Match(TextKey("abc"))), ElementsAre(1u, 2u));
  EXPECT_TREE_OK(tree);
}

TEST(RadixTreeTest, ShorterKeyOfSameTenantDoesNotSplit) {
  TextTree tree(Unbounded());
  tree.Insert(TextKey("abcdef"), 1);
  tree.Insert(TextKey("abc"), 1);
  EXPECT_EQ(tree.node_count(), 1u);
  EXPECT_EQ(tree.tenant_units(1), 6u);
  tree.Insert(TextKey("abc"), 2);  // another tenant owns only the prefix
  EXPECT_EQ(tree.node_count(), 2u);
  EXPECT_EQ(tree.tenant_units(2), 3u);
  EXPECT_EQ(tree.stored_units(), 6u);
  EXPECT_THAT(Owners(tree.Match(TextKey("abcdef"))), ElementsAre(1u));
  EXPECT_THAT(Owners(tree.Match(TextKey("abc"))), ElementsAre(2u, 1u));
  EXPECT_THAT(Owners(tree.Match(TextKey("ab"))), ElementsAre(2u, 1u));
  EXPECT_TREE_OK(tree);
}

TEST(RadixTreeTest, OwnersMostRecentlyUsedFirst) {
  TextTree tree(Unbounded());
  for (TenantId t : {3u, 1u, 2u}) tree.Insert(TextKey("prompt"), t);
  EXPECT_THAT(Owners(tree.Match(TextKey("prompt"))), ElementsAre(2u, 1u, 3u));
  tree.Insert(TextKey("prompt"), 3);  // fast path: already owned
  EXPECT_THAT(Owners(tree.Match(TextKey("prompt"))), ElementsAre(3u, 2u, 1u));
  auto r = tree.MatchAndInsert(TextKey("prompt!"), [](const PrefixMatch& m) {
    EXPECT_EQ(m.matched_units, 6u);
    EXPECT_EQ(m.key_units, 7u);
    return m.owners.back();  // the least recent one
  });
  EXPECT_EQ(r.chosen, 1u);
  EXPECT_THAT(Owners(r.match), ElementsAre(3u, 2u, 1u));
  EXPECT_THAT(Owners(tree.Match(TextKey("prompt"))), ElementsAre(1u, 3u, 2u));
  EXPECT_THAT(Owners(tree.Match(TextKey("prompt!"))), ElementsAre(1u));
  EXPECT_EQ(tree.tenant_units(1), 7u);
  EXPECT_EQ(tree.tenant_units(2), 6u);
  EXPECT_TREE_OK(tree);
}

// Repeated prompts take the read-only fast path, which refreshes an owner
// only where it is not already the latest: the order must still follow
// every use.
TEST(RadixTreeTest, RepeatedPromptsKeepOwnersMostRecentlyUsedFirst) {
  TextTree tree(Unbounded());
  tree.Insert(TextKey("shared prompt"), 1);
  tree.Insert(TextKey("shared prompt"), 2);
  tree.Insert(TextKey("shared"), 3);  // splits: "shared" has owners 1, 2, 3
  std::vector<TenantId> order = {3, 2, 1};  // the expected order at "shared"
  auto use = [&order](TenantId t) {
    order.erase(std::find(order.begin(), order.end(), t));
    order.insert(order.begin(), t);
  };
  EXPECT_EQ(Owners(tree.Match(TextKey("shared"))), order);
  for (TenantId t : {1u, 1u, 2u, 1u, 2u, 2u, 3u, 3u, 1u}) {
    auto r = tree.MatchAndInsert(TextKey(t == 3 ? "shared" : "shared prompt"),
                                 [t](const PrefixMatch&) { return t; });
    EXPECT_EQ(r.chosen, t);
    use(t);
    EXPECT_EQ(Owners(tree.Match(TextKey("shared"))), order) << "after a use by " << t;
    if (t != 3) {
      EXPECT_THAT(Owners(tree.Match(TextKey("shared prompt"))), ElementsAre(t, t == 1 ? 2u : 1u));
    }
  }
  EXPECT_TREE_OK(tree);
}

// Short owner lists are ordered by counting, long ones by sorting: both
// must give most recent first through any sequence of uses.
TEST(RadixTreeTest, OwnerOrderFollowsUsesForShortAndLongOwnerLists) {
  for (uint32_t owners : {2u, 9u, 16u, 17u, 40u}) {
    SCOPED_TRACE(owners);
    TextTree tree(Unbounded());
    std::mt19937 rng(owners);
    std::vector<TenantId> order;  // the expected order, most recent first
    std::vector<TenantId> tenants;
    for (TenantId t = 1; t <= owners; ++t) tenants.push_back(t);
    std::shuffle(tenants.begin(), tenants.end(), rng);
    for (TenantId t : tenants) {
      tree.Insert(TextKey("system prompt"), t);
      order.insert(order.begin(), t);
    }
    EXPECT_EQ(Owners(tree.Match(TextKey("system prompt"))), order);
    for (int use = 0; use < 100; ++use) {
      const TenantId t = static_cast<TenantId>(rng() % owners + 1);
      tree.Insert(TextKey("system prompt"), t);  // already owned: the fast path
      order.erase(std::find(order.begin(), order.end(), t));
      order.insert(order.begin(), t);
      ASSERT_EQ(Owners(tree.Match(TextKey("system prompt"))), order) << "after use " << use;
    }
    EXPECT_TREE_OK(tree);
  }
}

// A refresh counts within its node; past 2^16 refreshes of one node it must
// still rank below every later insert (which takes a tick from the tree's
// clock), and above every earlier use.
TEST(RadixTreeTest, OwnerOrderSurvivesManyRefreshesOfOneNode) {
  TextTree tree(Unbounded());
  tree.Insert(TextKey("system prompt"), 1);
  tree.Insert(TextKey("system prompt"), 2);
  constexpr int kRefreshes = 70000;  // more than one block of refreshes
  for (int i = 0; i < kRefreshes; ++i) {
    const TenantId t = static_cast<TenantId>(1 + i % 2);
    tree.Insert(TextKey("system prompt"), t);  // already owned: a refresh
    if (i % 997 == 0 || i >= kRefreshes - 2) {
      ASSERT_THAT(Owners(tree.Match(TextKey("system prompt"))), ElementsAre(t, 3 - t)) << "after use " << i;
    }
  }
  // A new owner, then a new key through the node: each becomes the latest.
  tree.Insert(TextKey("system prompt"), 3);
  EXPECT_THAT(Owners(tree.Match(TextKey("system prompt"))), ElementsAre(3u, 2u, 1u));
  tree.Insert(TextKey("system prompt?"), 1);
  EXPECT_THAT(Owners(tree.Match(TextKey("system prompt"))), ElementsAre(1u, 3u, 2u));
  tree.Insert(TextKey("system prompt"), 2);
  EXPECT_THAT(Owners(tree.Match(TextKey("system prompt"))), ElementsAre(2u, 1u, 3u));
  EXPECT_TREE_OK(tree);
}

TEST(RadixTreeTest, MatchAndInsertCallsChooseOnceAndMayReadStats) {
  TextTree tree(Unbounded());
  tree.Insert(TextKey("system prompt A"), 1);
  int calls = 0;
  auto r = tree.MatchAndInsert(TextKey("system prompt B"), [&](const PrefixMatch& m) {
    ++calls;
    // The accessors a policy uses inside the decision must not deadlock.
    EXPECT_EQ(tree.tenant_units(1), 15u);
    EXPECT_EQ(tree.stored_units(), 15u);
    EXPECT_GT(tree.memory_bytes(), 0u);
    EXPECT_EQ(tree.node_count(), 1u);
    EXPECT_EQ(tree.evicted_units_total(), 0u);
    EXPECT_EQ(m.matched_units, 14u);
    return TenantId{2};
  });
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(r.chosen, 2u);
  EXPECT_EQ(r.match.matched_units, 14u);
  EXPECT_EQ(tree.tenant_units(2), 15u);
  EXPECT_EQ(tree.stored_units(), 16u);

  // kNoTenant: nothing is inserted.
  calls = 0;
  r = tree.MatchAndInsert(TextKey("other"), [&](const PrefixMatch&) {
    ++calls;
    return kNoTenant;
  });
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(r.chosen, kNoTenant);
  EXPECT_EQ(tree.Match(TextKey("other")).matched_units, 0u);

  // Already owned: a recency refresh, no structural change.
  const size_t nodes = tree.node_count();
  r = tree.MatchAndInsert(TextKey("system prompt A"), [](const PrefixMatch& m) { return m.owners.front(); });
  EXPECT_EQ(r.chosen, 1u);
  EXPECT_EQ(tree.node_count(), nodes);
  EXPECT_TREE_OK(tree);
}

TEST(RadixTreeTest, TenantUnitsAccounting) {
  TextTree tree(Unbounded());
  tree.Insert(TextKey("aaaa"), 1);
  tree.Insert(TextKey("aabb"), 2);
  tree.Insert(TextKey("aabbcc"), 1);
  tree.Insert(TextKey("zz"), 3);
  EXPECT_EQ(tree.tenant_units(1), 8u);  // aaaa + bbcc... = a,a,a,a / b,b,c,c
  EXPECT_EQ(tree.tenant_units(2), 4u);
  EXPECT_EQ(tree.tenant_units(3), 2u);
  EXPECT_EQ(tree.stored_units(), 10u);
  tree.RemoveTenant(1);
  EXPECT_EQ(tree.tenant_units(1), 0u);
  EXPECT_EQ(tree.tenant_units(2), 4u);
  EXPECT_EQ(tree.stored_units(), 6u);
  EXPECT_TREE_OK(tree);
}

TEST(RadixTreeTest, RemoveTenantFreesNodesAndMemory) {
  TextTree tree(Unbounded());
  const size_t empty_bytes = tree.memory_bytes();
  tree.Insert(TextKey("abcdef"), 1);
  const size_t one_bytes = tree.memory_bytes();
  tree.Insert(TextKey("abcxyz"), 2);
  tree.Insert(TextKey("qqq"), 2);
  EXPECT_EQ(tree.node_count(), 4u);
  const size_t both_bytes = tree.memory_bytes();
  EXPECT_GT(both_bytes, one_bytes);

  tree.RemoveTenant(2);
  EXPECT_TREE_OK(tree);
  EXPECT_EQ(tree.node_count(), 1u);  // "abc" + "def" merged back
  EXPECT_EQ(tree.stored_units(), 6u);
  EXPECT_EQ(tree.tenant_units(2), 0u);
  EXPECT_LT(tree.memory_bytes(), both_bytes);
  EXPECT_LE(tree.memory_bytes(), one_bytes + 64);  // the tenant table keeps its capacity
  EXPECT_EQ(tree.Match(TextKey("abcxyz")).matched_units, 3u);
  EXPECT_THAT(Owners(tree.Match(TextKey("abcxyz"))), ElementsAre(1u));

  tree.RemoveTenant(1);
  EXPECT_TREE_OK(tree);
  EXPECT_EQ(tree.node_count(), 0u);
  EXPECT_EQ(tree.stored_units(), 0u);
  EXPECT_LE(tree.memory_bytes(), empty_bytes + 64);
  EXPECT_EQ(tree.Match(TextKey("abcdef")).matched_units, 0u);

  // Re-inserting works, also for a removed tenant.
  tree.Insert(TextKey("abcdef"), 2);
  EXPECT_THAT(Owners(tree.Match(TextKey("abcdef"))), ElementsAre(2u));
  EXPECT_EQ(tree.tenant_units(2), 6u);
  EXPECT_TREE_OK(tree);
}

TEST(RadixTreeTest, RemoveTenantKeepsSharedPathsAndMerges) {
  TokenTree tree(Unbounded(2));
  Tokens base = Seq(40, 1);
  for (TenantId t = 1; t <= 4; ++t) {
    Tokens k = base;
    k.resize(10 + 8 * t);
    k.push_back(1000 + t);
    k.push_back(2000 + t);
    tree.Insert(k, t);
  }
  EXPECT_TREE_OK(tree);
  const size_t nodes = tree.node_count();
  tree.RemoveTenant(2);
  EXPECT_TREE_OK(tree);
  EXPECT_LT(tree.node_count(), nodes);
  for (TenantId t : {1u, 3u, 4u}) {
    Tokens k = base;
    k.resize(10 + 8 * t);
    k.push_back(1000 + t);
    k.push_back(2000 + t);
    EXPECT_EQ(tree.Match(k).matched_units, k.size()) << t;
    EXPECT_EQ(tree.tenant_units(t), k.size()) << t;
  }
}

TEST(RadixTreeTest, BinaryKeys) {
  TextTree tree(Unbounded());
  const std::string nul_b("a\0b", 3);
  const std::string nul_c("a\0c", 3);
  tree.Insert(TextKey(nul_b), 1);
  tree.Insert(TextKey(nul_c), 2);
  PrefixMatch m = tree.Match(TextKey(std::string("a\0", 2)));
  EXPECT_EQ(m.matched_units, 2u);
  EXPECT_THAT(m.owners, UnorderedElementsAreArray({1u, 2u}));
  EXPECT_EQ(tree.Match(TextKey(std::string("a\0c\0", 4))).matched_units, 3u);

  // Invalid UTF-8: 0xff 0xfe, lone continuation bytes, a truncated sequence.
  tree.Insert(TextKey("\xff\xfe\x80\x80"), 3);
  tree.Insert(TextKey("\xff\xfe\xbf"), 4);
  tree.Insert(TextKey("\xe2\x82"), 5);
  EXPECT_EQ(tree.Match(TextKey("\xff\xfe\x80\x81")).matched_units, 3u);
  EXPECT_THAT(Owners(tree.Match(TextKey("\xff\xfe"))), ElementsAre(4u, 3u));
  EXPECT_EQ(tree.Match(TextKey("\xe2\x82\xac")).matched_units, 2u);
  EXPECT_EQ(tree.Match(TextKey("\xe2")).matched_units, 1u);

  // Every byte value as a first unit: the root's children stay sorted.
  for (int b = 255; b >= 0; --b) {
    const std::string k{static_cast<char>(b), 'x', static_cast<char>(b)};
    tree.Insert(TextKey(k), 6);
  }
  for (int b = 0; b < 256; ++b) {
    const std::string k{static_cast<char>(b), 'x', static_cast<char>(b), 'y'};
    EXPECT_EQ(tree.Match(TextKey(k)).matched_units, 3u) << b;
  }
  EXPECT_TREE_OK(tree);
  tree.RemoveTenant(6);
  EXPECT_TREE_OK(tree);
  EXPECT_EQ(tree.Match(TextKey(nul_b)).matched_units, 3u);
}

TEST(RadixTreeTest, FourMebibyteKeys) {
  std::mt19937_64 rng(7);
  const std::string key = RandomBytes(rng, size_t{4} << 20);
  TextTree tree(Unbounded());
  tree.Insert(TextKey(key), 1);
  EXPECT_EQ(tree.stored_units(), key.size());
  EXPECT_EQ(tree.Match(TextKey(key)).matched_units, key.size());

  std::string variant = key;
  const size_t at = size_t{3} << 20;
  variant[at] = static_cast<char>(variant[at] ^ 1);
  EXPECT_EQ(tree.Match(TextKey(variant)).matched_units, at);
  tree.Insert(TextKey(variant), 2);  // splits a 4 MiB edge
  EXPECT_EQ(tree.node_count(), 3u);
  EXPECT_EQ(tree.stored_units(), key.size() + (key.size() - at));
  EXPECT_THAT(Owners(tree.Match(TextKey(key.substr(0, 100)))), ElementsAre(2u, 1u));
  // The split leaves no dead copy of the 3 MiB head behind.
  EXPECT_LT(tree.memory_bytes(), tree.stored_units() + 4096);
  EXPECT_TREE_OK(tree);
  tree.RemoveTenant(1);
  EXPECT_EQ(tree.node_count(), 1u);  // merged back into one 4 MiB node
  EXPECT_EQ(tree.Match(TextKey(variant)).matched_units, variant.size());
  tree.RemoveTenant(2);
  EXPECT_EQ(tree.node_count(), 0u);
  EXPECT_TREE_OK(tree);

  // 1 Mi tokens (4 MiB) in a paged token tree.
  TokenTree tokens(Unbounded(16));
  Tokens big(size_t{1} << 20);
  for (uint32_t& t : big) t = static_cast<uint32_t>(rng());
  tokens.Insert(big, 1);
  Tokens big2 = big;
  big2[500000] ^= 1;
  tokens.Insert(big2, 2);
  EXPECT_EQ(tokens.Match(big2).matched_units, big2.size());
  EXPECT_EQ(tokens.Match(big).matched_units, big.size());
  EXPECT_EQ(tokens.stored_units(), big.size() + (big.size() - 500000 / 16 * 16));
  tokens.RemoveTenant(2);
  EXPECT_EQ(tokens.stored_units(), big.size());
  EXPECT_TREE_OK(tokens);
}

TEST(RadixTreeTest, DeepTree) {
  // A key that branches at every 4th byte: a chain thousands of nodes deep.
  // Everything (match, remove, eviction, destruction) must be iterative.
  std::mt19937_64 rng(11);
  const size_t depth = 2000;
  const std::string spine = RandomBytes(rng, 4 * depth + 8);
  TextTree tree(Unbounded());
  tree.Insert(TextKey(spine), 1);
  for (size_t i = 1; i <= depth; ++i) {
    std::string branch = spine.substr(0, 4 * i);
    branch.push_back(static_cast<char>(spine[4 * i] ^ 0x55));
    tree.Insert(TextKey(branch), static_cast<TenantId>(2 + i % 3));
  }
  EXPECT_GT(tree.node_count(), 2 * depth);
  EXPECT_EQ(tree.Match(TextKey(spine)).matched_units, spine.size());
  EXPECT_TREE_OK(tree);
  tree.RemoveTenant(3);
  EXPECT_TREE_OK(tree);
  tree.EvictTo(tree.stored_units() / 2);
  EXPECT_TREE_OK(tree);
  // The destructor frees the rest.
}

// ---------------------------------------------------------------------------
// Randomized comparison against a brute-force model.

template <typename Unit>
class ReferenceModel {
 public:
  using Key = std::vector<Unit>;
  // Element-wise order (std::less on byte vectors trips a GCC 12 -O3
  // -Wstringop-overread false positive).
  struct KeyLess {
    bool operator()(const Key& a, const Key& b) const {
      return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(),
                                          [](Unit x, Unit y) { return x < y; });
    }
  };
  using KeySet = std::set<Key, KeyLess>;
  explicit ReferenceModel(size_t page) : page_(page) {}

  Key Align(Key k) const {
    k.resize(k.size() / page_ * page_);
    return k;
  }
  void Insert(const Key& key, TenantId t) {
    Key k = Align(key);
    if (!k.empty()) keys_[t].insert(k);
  }
  void Remove(TenantId t) { keys_.erase(t); }

  // Expected (matched units, owner set).
  std::pair<size_t, std::set<TenantId>> Match(const Key& key) const {
    const Key k = Align(key);
    size_t best = 0;
    for (const auto& [t, set] : keys_) {
      for (const Key& s : set) best = std::max(best, Lcp(s, k));
    }
    std::set<TenantId> owners;
    if (best == 0) return {0, owners};
    for (const auto& [t, set] : keys_) {
      for (const Key& s : set) {
        if (Lcp(s, k) >= best) owners.insert(t);
      }
    }
    return {best, owners};
  }

  // Units stored: every distinct page-aligned prefix, once.
  size_t StoredUnits() const {
    KeySet prefixes;
    for (const auto& [t, set] : keys_) AddPrefixes(set, prefixes);
    return prefixes.size() * page_;
  }
  size_t TenantUnits(TenantId t) const {
    auto it = keys_.find(t);
    if (it == keys_.end()) return 0;
    KeySet prefixes;
    AddPrefixes(it->second, prefixes);
    return prefixes.size() * page_;
  }

 private:
  size_t Lcp(const Key& a, const Key& b) const {
    size_t n = 0;
    while (n < a.size() && n < b.size() && a[n] == b[n]) ++n;
    return n / page_ * page_;
  }
  void AddPrefixes(const KeySet& set, KeySet& out) const {
    for (const Key& s : set) {
      for (size_t len = page_; len <= s.size(); len += page_) out.insert(Key(s.begin(), s.begin() + len));
    }
  }

  size_t page_;
  std::map<TenantId, KeySet> keys_;
};

template <typename Unit>
void RunRandomized(size_t page, std::vector<Unit> alphabet, size_t max_len, uint64_t seed) {
  RadixTree<Unit> tree(Unbounded(page));
  ReferenceModel<Unit> model(page);
  std::mt19937_64 rng(seed);
  constexpr TenantId kTenants = 6;
  auto random_key = [&] {
    std::vector<Unit> k(rng() % (max_len + 1));
    for (Unit& u : k) u = alphabet[rng() % alphabet.size()];
    return k;
  };
  for (int op = 0; op < 3000; ++op) {
    const int kind = static_cast<int>(rng() % 100);
    const std::vector<Unit> key = random_key();
    const TenantId tenant = static_cast<TenantId>(1 + rng() % kTenants);
    if (kind < 40) {
      tree.Insert(key, tenant);
      model.Insert(key, tenant);
    } else if (kind < 65) {
      const PrefixMatch m = tree.Match(key);
      const auto [units, owners] = model.Match(key);
      ASSERT_EQ(m.key_units, key.size() / page * page) << "op " << op;
      ASSERT_EQ(m.matched_units, units) << "op " << op;
      ASSERT_THAT(Owners(m), UnorderedElementsAreArray(owners.begin(), owners.end())) << "op " << op;
    } else if (kind < 95) {
      const std::pair<size_t, std::set<TenantId>> expected = model.Match(key);
      const TenantId pick = rng() % 8 == 0 ? kNoTenant : tenant;
      int calls = 0;
      auto r = tree.MatchAndInsert(key, [&](const PrefixMatch& m) {
        ++calls;
        EXPECT_EQ(m.matched_units, expected.first) << "op " << op;
        EXPECT_THAT(Owners(m), UnorderedElementsAreArray(expected.second.begin(), expected.second.end()))
            << "op " << op;
        return pick;
      });
      ASSERT_EQ(calls, 1);
      ASSERT_EQ(r.chosen, pick);
      if (pick != kNoTenant) model.Insert(key, pick);
    } else {
      tree.RemoveTenant(tenant);
      model.Remove(tenant);
    }
    if (op % 100 == 0 || kind >= 95) {
      ASSERT_EQ(tree.CheckInvariantsForTesting(), absl::OkStatus()) << "op " << op;
      ASSERT_EQ(tree.stored_units(), model.StoredUnits()) << "op " << op;
      for (TenantId t = 1; t <= kTenants; ++t) ASSERT_EQ(tree.tenant_units(t), model.TenantUnits(t)) << "op " << op;
    }
  }
  ASSERT_EQ(tree.CheckInvariantsForTesting(), absl::OkStatus());
  ASSERT_EQ(tree.stored_units(), model.StoredUnits());
}

TEST(RadixTreeRandomTest, TextAgainstModel) {
  RunRandomized<uint8_t>(1, {'a', 'b', 0x00, 0xff}, 10, 1);
}

TEST(RadixTreeRandomTest, TextBinaryAlphabet) {
  RunRandomized<uint8_t>(1, {0x80, 0xc3}, 14, 2);
}

TEST(RadixTreeRandomTest, TokensPage4AgainstModel) {
  RunRandomized<uint32_t>(4, {0u, 7u, 0xffffffffu}, 20, 3);
}

TEST(RadixTreeRandomTest, TokensPage1AgainstModel) {
  RunRandomized<uint32_t>(1, {1u, 2u, 3u}, 10, 4);
}

// ---------------------------------------------------------------------------
// Eviction.

std::vector<std::string> DisjointKeys(size_t n, size_t len) {
  // Shared "k" + distinct 5-digit id, padded: one internal node, n leaves.
  std::vector<std::string> keys;
  for (size_t i = 0; i < n; ++i) {
    std::string k(1, 'k');
    k.append(std::to_string(100000 + i));
    k.resize(len, static_cast<char>('a' + i % 26));
    keys.push_back(k);
  }
  return keys;
}

TEST(RadixTreeEvictionTest, EvictRespectsBudget) {
  TextTree tree(TreeOptions{.page_size = 1, .budget_units = 1000});
  for (const std::string& k : DisjointKeys(100, 50)) tree.Insert(TextKey(k), 1 + static_cast<TenantId>(k[6] % 4));
  const size_t before = tree.stored_units();
  EXPECT_GT(before, 1000u);
  const size_t evicted = tree.Evict();
  EXPECT_LE(tree.stored_units(), 1000u);
  EXPECT_EQ(evicted, before - tree.stored_units());
  EXPECT_EQ(tree.evicted_units_total(), evicted);
  EXPECT_TREE_OK(tree);
  EXPECT_EQ(tree.Evict(), 0u);  // already within budget
  const size_t rest = tree.EvictTo(0);
  EXPECT_EQ(rest, tree.evicted_units_total() - evicted);
  EXPECT_EQ(tree.stored_units(), 0u);
  EXPECT_EQ(tree.node_count(), 0u);
  for (TenantId t = 1; t <= 4; ++t) EXPECT_EQ(tree.tenant_units(t), 0u);
  EXPECT_TREE_OK(tree);
}

// Over budget, Evict() goes down to the budget less the headroom, then does
// nothing until the tree is over budget again.
TEST(RadixTreeEvictionTest, EvictFreesTheHeadroomBeyondTheBudget) {
  TextTree tree(TreeOptions{.page_size = 1, .budget_units = 1000, .evict_headroom = 0.2});
  const std::vector<std::string> keys = DisjointKeys(100, 50);
  size_t next = 0;
  while (tree.stored_units() <= 1000) tree.Insert(TextKey(keys[next++]), 1);
  const size_t evicted = tree.Evict();
  EXPECT_GT(evicted, 0u);
  // It stops at the first leaf that brings it within 800; leaves hold < 50.
  EXPECT_LE(tree.stored_units(), 800u);
  EXPECT_GT(tree.stored_units(), 750u);
  // Within the budget but above its target: nothing to do.
  while (tree.stored_units() + 50 <= 1000) tree.Insert(TextKey(keys[next++]), 1);
  ASSERT_GT(tree.stored_units(), 800u);
  EXPECT_EQ(tree.Evict(), 0u);
  while (tree.stored_units() <= 1000) tree.Insert(TextKey(keys[next++]), 1);
  EXPECT_GT(tree.Evict(), 0u);
  EXPECT_LE(tree.stored_units(), 800u);
  // EvictTo() is exact whatever the headroom.
  tree.EvictTo(700);
  EXPECT_LE(tree.stored_units(), 700u);
  EXPECT_GT(tree.stored_units(), 650u);
  EXPECT_TREE_OK(tree);
}

TEST(RadixTreeEvictionTest, WithoutHeadroomEvictStopsAtTheBudget) {
  TextTree tree(TreeOptions{.page_size = 1, .budget_units = 1000, .evict_headroom = 0});
  for (const std::string& k : DisjointKeys(100, 50)) tree.Insert(TextKey(k), 1);
  tree.Evict();
  EXPECT_LE(tree.stored_units(), 1000u);
  EXPECT_GT(tree.stored_units(), 950u);
}

// Inline eviction with a headroom runs in batches: an insert that crosses
// the budget evicts down to 750, and the next ~250 units of inserts evict
// nothing.
TEST(RadixTreeEvictionTest, InlineEvictionWithHeadroomComesInBatches) {
  TextTree tree(TreeOptions{.page_size = 1, .budget_units = 1000, .evict_inline = true, .evict_headroom = 0.25});
  size_t batches = 0;
  size_t inserted_beyond_budget = 0;
  for (const std::string& k : DisjointKeys(200, 60)) {
    const size_t before = tree.stored_units();
    const size_t evicted_before = tree.evicted_units_total();
    tree.Insert(TextKey(k), 1);
    ASSERT_LE(tree.stored_units(), 1000u);
    if (tree.evicted_units_total() != evicted_before) {
      ++batches;
      ASSERT_LE(tree.stored_units(), 750u);
      ASSERT_GT(before + 60, 1000u) << "evicted although the insert stayed within the budget";
    }
    if (batches > 0) inserted_beyond_budget += 60;
  }
  // Without a headroom nearly every insert past the first overflow evicts
  // (about 180 of them); with it, one batch per ~250 units inserted.
  EXPECT_GT(batches, 1u);
  EXPECT_LE(batches, 1 + inserted_beyond_budget / 240);
  EXPECT_TREE_OK(tree);
}

TEST(RadixTreeEvictionTest, UnboundedBudgetNeverEvicts) {
  TextTree tree(Unbounded());
  for (const std::string& k : DisjointKeys(50, 40)) tree.Insert(TextKey(k), 1);
  EXPECT_EQ(tree.Evict(), 0u);
  EXPECT_EQ(tree.evicted_units_total(), 0u);
}

TEST(RadixTreeEvictionTest, EvictInline) {
  TextTree tree(TreeOptions{.page_size = 1, .budget_units = 1000, .evict_inline = true});
  for (const std::string& k : DisjointKeys(200, 60)) {
    tree.Insert(TextKey(k), 1);
    ASSERT_LE(tree.stored_units(), 1000u);
  }
  for (const std::string& k : DisjointKeys(50, 80)) {
    tree.MatchAndInsert(TextKey(k), [](const PrefixMatch&) { return TenantId{2}; });
    ASSERT_LE(tree.stored_units(), 1000u);
  }
  EXPECT_GT(tree.evicted_units_total(), 0u);
  // The newest key survives its own inline eviction.
  EXPECT_EQ(tree.Match(TextKey(DisjointKeys(50, 80).back())).matched_units, 80u);
  EXPECT_TREE_OK(tree);
}

TEST(RadixTreeEvictionTest, RecentlyUsedPathsSurvive) {
  TextTree tree(Unbounded());
  const std::vector<std::string> keys = DisjointKeys(10, 100);
  for (const std::string& k : keys) tree.Insert(TextKey(k), 1);
  const size_t leaf_units = 100 - 6;  // "k10000" is shared
  // Use the two oldest: one by a match, one by a repeated insert.
  EXPECT_EQ(tree.Match(TextKey(keys[0])).matched_units, 100u);
  tree.Insert(TextKey(keys[1]), 2);
  // Evict three leaves' worth.
  tree.EvictTo(tree.stored_units() - 3 * leaf_units);
  EXPECT_EQ(tree.Match(TextKey(keys[0])).matched_units, 100u);
  EXPECT_EQ(tree.Match(TextKey(keys[1])).matched_units, 100u);
  for (int i : {2, 3, 4}) EXPECT_EQ(tree.Match(TextKey(keys[i])).matched_units, 6u) << i;
  for (int i : {5, 6, 7, 8, 9}) EXPECT_EQ(tree.Match(TextKey(keys[i])).matched_units, 100u) << i;
  EXPECT_EQ(tree.tenant_units(2), 100u);
  EXPECT_TREE_OK(tree);
}

// A leaf given a second chance is requeued with its last-use tick; a match
// right after that eviction, with no insert in between, is still a use.
TEST(RadixTreeEvictionTest, UseRightAfterSecondChanceCounts) {
  TextTree tree(Unbounded());
  tree.Insert(TextKey("apple"), 1);
  tree.Insert(TextKey("berry"), 1);
  tree.Insert(TextKey("cocoa"), 1);
  tree.Match(TextKey("apple"));
  tree.Match(TextKey("berry"));
  // Apple and berry get second chances (berry ends at the old end), cocoa goes.
  EXPECT_EQ(tree.EvictTo(10), 5u);
  tree.Match(TextKey("apple"));
  // Apple was used since it was requeued, berry was not.
  EXPECT_EQ(tree.EvictTo(5), 5u);
  EXPECT_EQ(tree.Match(TextKey("apple")).matched_units, 5u);
  EXPECT_EQ(tree.Match(TextKey("berry")).matched_units, 0u);
  EXPECT_TREE_OK(tree);
}

TEST(RadixTreeEvictionTest, ParentBecomesCandidate) {
  TextTree tree(Unbounded());
  const std::string prefix(500, 'p');
  tree.Insert(TextKey(prefix + "one"), 1);
  tree.Insert(TextKey(prefix + "two"), 2);
  tree.Insert(TextKey("other key"), 3);
  // Use the shared prefix only (a match that ends inside it).
  EXPECT_EQ(tree.Match(TextKey(prefix + "zzz")).matched_units, 500u);
  // The two suffixes and "other key" were not used since they were queued;
  // the prefix was used after its children, so it gets a second chance.
  tree.EvictTo(500);
  EXPECT_EQ(tree.stored_units(), 500u);
  EXPECT_EQ(tree.Match(TextKey(prefix)).matched_units, 500u);
  EXPECT_THAT(Owners(tree.Match(TextKey(prefix))), ElementsAre(2u, 1u));
  EXPECT_EQ(tree.tenant_units(3), 0u);
  EXPECT_TREE_OK(tree);
  // Nothing used it since: the next eviction takes it.
  tree.EvictTo(0);
  EXPECT_EQ(tree.node_count(), 0u);
  EXPECT_EQ(tree.tenant_units(1), 0u);
  EXPECT_TREE_OK(tree);
}

TEST(RadixTreeEvictionTest, StaleParentGoesWithItsLastChild) {
  TextTree tree(Unbounded());
  const std::string prefix(300, 'q');
  tree.Insert(TextKey(prefix + "a"), 1);
  tree.Insert(TextKey(prefix + "b"), 1);
  tree.Insert(TextKey("fresh"), 2);
  tree.Match(TextKey("fresh"));
  // Evict down to "fresh": the prefix group goes entirely, leaf by leaf.
  tree.EvictTo(5);
  EXPECT_EQ(tree.stored_units(), 5u);
  EXPECT_EQ(tree.Match(TextKey("fresh")).matched_units, 5u);
  EXPECT_TREE_OK(tree);
}

// A use stamps only the node it ends in; a parent that becomes a leaf must
// still count the uses of the children it lost. Here its first child ("A")
// was used after its last child ("B"), so the parent gets a second chance
// when "B" goes, and "zzzz" (used with "A") goes instead.
TEST(RadixTreeEvictionTest, ParentKeepsTheLatestUseOfItsEvictedChildren) {
  TextTree tree(Unbounded());
  tree.Insert(TextKey("abcA"), 1);
  tree.Insert(TextKey("abcB"), 1);  // "abc" above "A" and "B"
  tree.Insert(TextKey("zzzz"), 1);
  tree.Match(TextKey("abcB"));
  tree.Insert(TextKey("qqqq"), 1);  // advances the clock: the uses below are later
  tree.Match(TextKey("abcA"));
  tree.Match(TextKey("zzzz"));
  // Queue, old end first: A, B, zzzz, qqqq. A, B and zzzz get second
  // chances; qqqq, A and B go; "abc" is then a leaf last used with A.
  tree.EvictTo(4);
  EXPECT_EQ(tree.stored_units(), 3u);
  EXPECT_EQ(tree.Match(TextKey("abcA")).matched_units, 3u);
  EXPECT_EQ(tree.Match(TextKey("zzzz")).matched_units, 0u);
  EXPECT_TREE_OK(tree);
}

TEST(RadixTreeEvictionTest, WorkIsProportionalToWhatIsEvicted) {
  TextTree tree(Unbounded());
  const std::vector<std::string> keys = DisjointKeys(2000, 40);
  for (const std::string& k : keys) tree.Insert(TextKey(k), 1);
  const size_t leaf_units = 34;  // ids differ in their last digit (index 6)
  size_t examined = tree.eviction_examined_total();
  tree.EvictTo(tree.stored_units() - 10 * leaf_units);
  EXPECT_EQ(tree.eviction_examined_total() - examined, 10u);  // no scan of 2000 leaves

  // Uses cost one extra examination each, at most.
  for (int i = 10; i < 60; ++i) tree.Match(TextKey(keys[i]));
  examined = tree.eviction_examined_total();
  tree.EvictTo(tree.stored_units() - 5 * leaf_units);
  EXPECT_LE(tree.eviction_examined_total() - examined, 5u + 50u + 2u);  // + emptied parents
  for (int i = 10; i < 60; ++i) EXPECT_EQ(tree.Match(TextKey(keys[i])).matched_units, 40u) << i;
  EXPECT_TREE_OK(tree);
}

TEST(RadixTreeEvictionTest, TokenTreeEvictsWholePages) {
  TokenTree tree(TreeOptions{.page_size = 16, .budget_units = 64, .evict_inline = true});
  for (uint32_t g = 0; g < 10; ++g) {
    tree.Insert(Seq(40, 1000 * g), g + 1);  // 32 tokens stored each
    ASSERT_LE(tree.stored_units(), 64u);
    ASSERT_EQ(tree.stored_units() % 16, 0u);
  }
  EXPECT_EQ(tree.Match(Seq(40, 9000)).matched_units, 32u);
  EXPECT_EQ(tree.Match(Seq(40, 8000)).matched_units, 32u);
  EXPECT_EQ(tree.Match(Seq(40, 0)).matched_units, 0u);
  EXPECT_TREE_OK(tree);
}

// ---------------------------------------------------------------------------
// Memory per stored unit on the shared-prefix shape (64 groups x 16 requests,
// an 8 KiB shared prefix, a 512-byte unique suffix), routed as the
// route-replay protocol does (8 workers, owner when over half matched).

template <typename Unit>
double BytesPerUnit(RadixTree<Unit>& tree, const std::vector<std::vector<Unit>>& requests) {
  for (size_t i = 0; i < requests.size(); ++i) {
    tree.MatchAndInsert(requests[i], [&](const PrefixMatch& m) {
      if (m.matched_units * 2 > m.key_units && !m.owners.empty()) return m.owners.front();
      return static_cast<TenantId>(1 + i % 8);
    });
  }
  return static_cast<double>(tree.memory_bytes()) / static_cast<double>(tree.stored_units());
}

TEST(RadixTreeMemoryTest, SharedPrefixWorkload) {
  std::mt19937_64 rng(5);
  std::vector<std::vector<uint8_t>> text;
  std::vector<Tokens> tokens;
  std::vector<std::string> prefixes;
  for (int g = 0; g < 64; ++g) prefixes.push_back("[sys" + std::to_string(g) + "] " + RandomBytes(rng, 8192));
  for (int i = 0; i < 64 * 16; ++i) {
    // Interleave the groups, as concurrent users do.
    const std::string req = prefixes[(i * 7) % 64] + " Q: " + RandomBytes(rng, 512);
    text.emplace_back(req.begin(), req.end());
    Tokens t;
    for (size_t j = 0; j + 4 <= req.size(); j += 4) {
      uint32_t id;
      std::memcpy(&id, req.data() + j, 4);
      t.push_back(id);
    }
    tokens.push_back(std::move(t));
  }
  TextTree text_tree(Unbounded(1));
  const double text_bpu = BytesPerUnit(text_tree, text);
  EXPECT_LE(text_bpu, 1.5) << text_tree.memory_bytes() << " bytes for " << text_tree.stored_units();
  EXPECT_TREE_OK(text_tree);
  TokenTree token_tree(Unbounded(16));
  const double token_bpu = BytesPerUnit(token_tree, tokens);
  EXPECT_LE(token_bpu, 5.0) << token_tree.memory_bytes() << " bytes for " << token_tree.stored_units();
  EXPECT_TREE_OK(token_tree);
}

// A node with thousands of children (every conversation of a trace under one
// shared first block): its children live in a hash table, which eviction
// empties oldest first while later inserts land anywhere in key order; the
// table grows, shrinks and turns back into a sorted array. The structure
// stays valid throughout, and whatever was inserted since the last eviction
// is matched in full.
TEST(RadixTreeEvictionTest, WideFanOutEvictsOldestFirstAndInsertsAnywhere) {
  for (size_t page : {size_t{1}, size_t{2}}) {
    TokenTree tree(Unbounded(page));
    std::mt19937_64 rng(5);
    uint32_t next_id = 1;
    auto make_key = [&] {
      Tokens key = {0, 0};  // the shared first block
      for (int i = 0; i < 4; ++i) key.push_back(next_id++);
      return key;
    };
    for (int round = 0; round < 6; ++round) {
      std::vector<Tokens> fresh;
      for (int i = 0; i < 700; ++i) {
        fresh.push_back(make_key());
        tree.Insert(fresh.back(), static_cast<TenantId>(1 + rng() % 4));
      }
      // Re-insert a few older ids (in the middle of the key order).
      for (int i = 0; i < 50; ++i) {
        Tokens key = {0, 0, static_cast<uint32_t>(1 + rng() % next_id), 7, 7, 7};
        tree.Insert(key, 2);
        fresh.push_back(key);
      }
      EXPECT_TREE_OK(tree);
      for (const Tokens& key : fresh) ASSERT_EQ(tree.Match(key).matched_units, key.size() / page * page);
      // Evict most of it in steps: front removals, compactions, shrinks.
      for (size_t target : {tree.stored_units() * 3 / 4, tree.stored_units() / 3, size_t{200}}) {
        tree.EvictTo(target);
        EXPECT_TREE_OK(tree);
        EXPECT_LE(tree.stored_units(), target);
      }
      if (round % 2 == 1) {
        tree.RemoveTenant(3);
        EXPECT_TREE_OK(tree);
      }
    }
    tree.EvictTo(0);
    EXPECT_EQ(tree.node_count(), 0u);
    EXPECT_TREE_OK(tree);
  }
}

// Children that share their first unit and differ later in their first page
// (token pages below a common first token): a wide node finds each by its
// whole page, through growth to thousands of children and back down to a
// sorted array, with removals in every order.
TEST(RadixTreeEvictionTest, WideFanOutOfChildrenSharingTheirFirstUnit) {
  constexpr size_t kPage = 4;
  constexpr uint32_t kChildren = 3000;
  TokenTree tree(Unbounded(kPage));
  auto key_of = [](uint32_t id) { return Tokens{1, 1, 1, 1, 9, id, id * 7, 3, 5, 5, 5, 5}; };
  for (uint32_t id = 0; id < kChildren; ++id) tree.Insert(key_of(id), static_cast<TenantId>(1 + id % 3));
  EXPECT_TREE_OK(tree);
  for (uint32_t id = 0; id < kChildren; ++id) {
    const PrefixMatch m = tree.Match(key_of(id));
    ASSERT_EQ(m.matched_units, 12u) << id;
    ASSERT_EQ(m.owners.front(), static_cast<TenantId>(1 + id % 3)) << id;
  }
  // A page that shares the first unit of every child but no child's page.
  EXPECT_EQ(tree.Match(Tokens{1, 1, 1, 1, 9, kChildren, 0, 3}).matched_units, 4u);
  // Removing a tenant empties a third of the slots, scattered over the table.
  tree.RemoveTenant(2);
  EXPECT_TREE_OK(tree);
  for (uint32_t id = 0; id < kChildren; ++id) {
    ASSERT_EQ(tree.Match(key_of(id)).matched_units, id % 3 == 1 ? 4u : 12u) << id;
  }
  // Eviction, oldest first, down through every table size to a few children.
  for (size_t target = tree.stored_units(); target > 40; target = target * 2 / 3) {
    tree.EvictTo(target);
    EXPECT_TREE_OK(tree);
  }
  tree.EvictTo(40);  // the shared page and at most 4 children
  EXPECT_TREE_OK(tree);
  EXPECT_LE(tree.node_count(), 5u);
  const uint32_t last = kChildren - 1;  // the newest survives
  EXPECT_EQ(tree.Match(key_of(last)).matched_units, 12u);
  // And it grows again from the sorted array.
  for (uint32_t id = 0; id < 100; ++id) tree.Insert(key_of(kChildren + id), 3);
  EXPECT_TREE_OK(tree);
  for (uint32_t id = 0; id < 100; ++id) ASSERT_EQ(tree.Match(key_of(kChildren + id)).matched_units, 12u);
}

// ---------------------------------------------------------------------------
// Long edges compared without the lock: the test hook runs in that window,
// on the descending thread, and changes the tree under the descent.

// Runs `action` in the first such window of `tree` (and not in the windows
// of the calls it makes); `*fired` says whether it ran.
void OnFirstWindow(TextTree& tree, bool* fired, std::function<void()> action) {
  *fired = false;
  tree.SetUnlockedCompareHookForTesting([fired, action = std::move(action)] {
    if (*fired) return;
    *fired = true;
    action();
  });
}

// The compared node is split in the window: the descent starts over and
// sees the tree as it is now.
TEST(RadixTreeUnlockedCompareTest, SplitOfTheComparedEdgeIsSeen) {
  std::mt19937_64 rng(21);
  const std::string a = RandomBytes(rng, 4096);
  const std::string b = a.substr(0, 2000) + "#" + RandomBytes(rng, 100);
  TextTree tree(Unbounded());
  tree.Insert(TextKey(a), 1);
  int windows = 0;
  tree.SetUnlockedCompareHookForTesting([&] {
    if (++windows == 1) tree.Insert(TextKey(b), 2);  // splits a's edge at 2000
  });
  const PrefixMatch m = tree.Match(TextKey(a));
  EXPECT_EQ(m.matched_units, 4096u);
  EXPECT_EQ(Owners(m), std::vector<TenantId>{1});
  // The nested insert compared b's 2101 units unlocked too; the outer
  // descent then went again holding the lock (no further window).
  EXPECT_EQ(windows, 2);
  tree.SetUnlockedCompareHookForTesting(nullptr);
  EXPECT_EQ(tree.Match(TextKey(b)).matched_units, b.size());
  EXPECT_TREE_OK(tree);
}

// The compared node is freed in the window (its only owner removed, or all
// of it evicted): it is retired, not freed, until the descent is done (ASan
// would report the compare reading freed memory), and the descent does not
// report the owner it no longer has.
TEST(RadixTreeUnlockedCompareTest, NodeFreedInTheWindowIsNotReadAfterFree) {
  std::mt19937_64 rng(22);
  const std::string a = RandomBytes(rng, 3000);
  const std::string b = a.substr(0, 500) + "#";
  for (bool evict : {false, true}) {
    SCOPED_TRACE(evict ? "evicted" : "tenant removed");
    TextTree tree(Unbounded());
    tree.Insert(TextKey(b), 2);
    tree.Insert(TextKey(a), 1);  // a's node below the shared 500: 2500 units
    bool fired = false;
    OnFirstWindow(tree, &fired, [&] {
      if (evict) {
        tree.EvictTo(0);
      } else {
        tree.RemoveTenant(1);
      }
    });
    PrefixMatch m;
    tree.MatchAndInsert(TextKey(a), [&](const PrefixMatch& match) {
      m = match;
      return kNoTenant;  // look only
    });
    EXPECT_TRUE(fired);
    EXPECT_EQ(m.matched_units, evict ? 0u : 500u);
    EXPECT_EQ(Owners(m), evict ? std::vector<TenantId>{} : std::vector<TenantId>{2});
    tree.SetUnlockedCompareHookForTesting(nullptr);
    // The next write frees what was retired; the books still balance.
    tree.Insert(TextKey(a), 3);
    EXPECT_EQ(tree.Match(TextKey(a)).matched_units, a.size());
    EXPECT_TREE_OK(tree);
  }
}

// The whole tree is evicted while an insert's descent compares: the insert
// starts over from the root and stores the whole key for its tenant only.
TEST(RadixTreeUnlockedCompareTest, InsertIntoATreeEvictedInTheWindow) {
  std::mt19937_64 rng(24);
  const std::string a = RandomBytes(rng, 3000);
  const std::string c = a.substr(0, 2000) + std::string(100, 'z');
  TextTree tree(Unbounded());
  tree.Insert(TextKey(a), 1);
  bool fired = false;
  OnFirstWindow(tree, &fired, [&] { tree.EvictTo(0); });
  tree.Insert(TextKey(c), 2);
  tree.SetUnlockedCompareHookForTesting(nullptr);
  EXPECT_TRUE(fired);
  EXPECT_TREE_OK(tree);
  const PrefixMatch m = tree.Match(TextKey(c));
  EXPECT_EQ(m.matched_units, c.size());
  EXPECT_EQ(Owners(m), std::vector<TenantId>{2});
  EXPECT_EQ(tree.tenant_units(1), 0u);
  EXPECT_EQ(tree.tenant_units(2), c.size());
  EXPECT_EQ(tree.node_count(), 1u);
}

// The node an insert's descent compares is split twice in the window (once
// on each side of where the key leaves it): the insert still stores exactly
// the key's units and nothing else.
TEST(RadixTreeUnlockedCompareTest, InsertAfterTheWindowLandsWhereTheKeySays) {
  std::mt19937_64 rng(23);
  const std::string a = RandomBytes(rng, 5000);
  const std::string c = a.substr(0, 4000) + RandomBytes(rng, 300);
  TextTree tree(Unbounded());
  tree.Insert(TextKey(a), 1);
  bool fired = false;
  OnFirstWindow(tree, &fired, [&] {
    // Split a's node near its start and near its end.
    tree.Insert(TextKey(a.substr(0, 100) + "x"), 2);
    tree.Insert(TextKey(a.substr(0, 4500) + "y"), 2);
  });
  tree.Insert(TextKey(c), 3);
  tree.SetUnlockedCompareHookForTesting(nullptr);
  EXPECT_TRUE(fired);
  EXPECT_TREE_OK(tree);
  const PrefixMatch mc = tree.Match(TextKey(c));
  EXPECT_EQ(mc.matched_units, c.size());
  EXPECT_EQ(Owners(mc), std::vector<TenantId>{3});
  EXPECT_EQ(tree.Match(TextKey(a)).matched_units, a.size());
  EXPECT_EQ(tree.tenant_units(3), 300u + 4000u);
}

// A thread numbered past the tree lock's own reader slots (a process with
// more live threads) has a slot in an allocated block: it compares unlocked
// too, and the writer that removes the compared node in the window sees its
// pin and retires the node instead of freeing it (ASan would report the
// compare reading freed memory).
TEST(RadixTreeUnlockedCompareTest, ThreadsNumberedPastTheLocksOwnSlotsCompareUnlocked) {
  const internal::SlotNumberHolders holders(radix_internal::TreeLock::kOwnSlots);
  std::mt19937_64 rng(25);
  const std::string a = RandomBytes(rng, 3000);
  const std::string b = a.substr(0, 500) + "#";
  TextTree tree(Unbounded());
  tree.Insert(TextKey(b), 2);
  tree.Insert(TextKey(a), 1);
  bool fired = false;
  OnFirstWindow(tree, &fired, [&] { tree.RemoveTenant(1); });
  PrefixMatch m;
  std::thread([&] {
    ASSERT_GE(internal::ThreadSlotIndex(), radix_internal::TreeLock::kOwnSlots);
    m = tree.Match(TextKey(a));
  }).join();
  EXPECT_TRUE(fired);
  EXPECT_EQ(m.matched_units, 500u);
  EXPECT_EQ(Owners(m), std::vector<TenantId>{2});
  tree.SetUnlockedCompareHookForTesting(nullptr);
  tree.Insert(TextKey(a), 3);
  EXPECT_TREE_OK(tree);
}

// The block of reader slots such a thread's first lock allocates is part of
// the tree's memory (64 slots of one cache line each); later locks by it,
// or by another thread numbered in the same block, allocate nothing.
TEST(RadixTreeTest, MemoryCountsTheLocksReaderSlotBlocks) {
  const internal::SlotNumberHolders holders(radix_internal::TreeLock::kOwnSlots);
  TextTree tree(Unbounded());
  tree.Insert(TextKey("system prompt"), 1);
  const size_t before = tree.memory_bytes();
  auto match_from_a_new_thread = [&] { std::thread([&] { tree.Match(TextKey("system")); }).join(); };
  match_from_a_new_thread();
  EXPECT_EQ(tree.memory_bytes(), before + radix_internal::TreeLock::kBlockSlots * 64);
  match_from_a_new_thread();
  EXPECT_EQ(tree.memory_bytes(), before + radix_internal::TreeLock::kBlockSlots * 64);
}

// ---------------------------------------------------------------------------
// Combined inserts: an insert whose thread finds the exclusive lock taken is
// handed over to the holder. The insert hooks stage it: the test thread's
// insert, between its descent and its commit, starts a second thread's
// insert and waits until that thread holds the lock; the holder waits until
// the test thread's insert is handed over, then applies it.

// `first` then `rest` (keys told apart by their first byte).
std::string Prefixed(char first, const std::string& rest) {
  std::string key(1, first);
  key += rest;
  return key;
}

// Waits, bounded, until `done()`; false on timeout.
bool WaitUntil(const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

// Runs `handed_over` on this thread; its insert (the first to reach its
// commit) is handed over to a thread running `holder`, started right then,
// after `before_hand_over` ran on this thread (no lock held).
void HandOverOneInsert(TextTree& tree, const std::function<void()>& holder,
                       const std::function<void()>& handed_over,
                       const std::function<void()>& before_hand_over = [] {}) {
  using Point = TextTree::InsertHookPoint;
  const std::thread::id test_thread = std::this_thread::get_id();
  std::atomic<bool> staged{false};
  std::atomic<bool> holding{false};
  std::thread holder_thread;
  tree.SetInsertHookForTesting([&](Point point) {
    const bool on_test_thread = std::this_thread::get_id() == test_thread;
    if (point == Point::kBeforeCommit && on_test_thread && !staged.exchange(true)) {
      before_hand_over();
      holder_thread = std::thread(holder);
      EXPECT_TRUE(WaitUntil([&] { return holding.load(); })) << "the holder never took the lock";
    } else if (point == Point::kLockHeld && !on_test_thread && !holding.exchange(true)) {
      EXPECT_TRUE(WaitUntil([&] { return tree.HasHandedOverInsertsForTesting(); }))
          << "the insert was never handed over";
    }
  });
  handed_over();
  holder_thread.join();
  tree.SetInsertHookForTesting(nullptr);
  EXPECT_TRUE(staged.load());
}

TEST(RadixTreeCombinedInsertTest, TheHolderAppliesAnInsertHandedOver) {
  std::mt19937_64 rng(31);
  const std::string a = Prefixed('a', RandomBytes(rng, 300));
  const std::string b = Prefixed('b', RandomBytes(rng, 300));
  TextTree tree(Unbounded());
  tree.Insert(TextKey(b.substr(0, 100)), 3);  // b's descent resumes below it
  HandOverOneInsert(
      tree, [&] { tree.Insert(TextKey(a), 1); },
      [&] { tree.MatchAndInsert(TextKey(b), [](const PrefixMatch&) { return TenantId{2}; }); });
  EXPECT_EQ(tree.handed_over_inserts_total(), 1u);
  EXPECT_TREE_OK(tree);
  const PrefixMatch mb = tree.Match(TextKey(b));
  EXPECT_EQ(mb.matched_units, b.size());
  EXPECT_EQ(Owners(mb), std::vector<TenantId>{2});
  EXPECT_EQ(Owners(tree.Match(TextKey(a))), std::vector<TenantId>{1});
  EXPECT_EQ(tree.tenant_units(2), b.size());
  // Inserts that find the lock free apply themselves.
  tree.Insert(TextKey(a + "more"), 4);
  EXPECT_EQ(tree.handed_over_inserts_total(), 1u);
}

// The decision's tenant is removed before the insert is handed over: the
// holder skips it, as the deciding thread would have.
TEST(RadixTreeCombinedInsertTest, AHandedOverDecisionForARemovedTenantIsDropped) {
  std::mt19937_64 rng(32);
  const std::string a = Prefixed('a', RandomBytes(rng, 300));
  const std::string b = Prefixed('b', RandomBytes(rng, 300));
  TextTree tree(Unbounded());
  tree.Insert(TextKey(b.substr(0, 100)), 2);
  HandOverOneInsert(
      tree, [&] { tree.Insert(TextKey(a), 1); },
      [&] { tree.MatchAndInsert(TextKey(b), [](const PrefixMatch&) { return TenantId{2}; }); },
      [&] { tree.RemoveTenant(2); });
  EXPECT_EQ(tree.handed_over_inserts_total(), 1u);
  EXPECT_TREE_OK(tree);
  EXPECT_EQ(tree.Match(TextKey(b)).matched_units, 0u);
  EXPECT_EQ(tree.tenant_units(2), 0u);
  EXPECT_EQ(tree.Match(TextKey(a)).matched_units, a.size());
}

// The holder's own insert evicts the node the handed-over insert's descent
// ended in: that node stays allocated (the waiting thread's pin; ASan would
// catch a read after free) and the insert goes from the root instead.
TEST(RadixTreeCombinedInsertTest, AHandedOverInsertWhoseBaseWasEvicted) {
  std::mt19937_64 rng(33);
  const std::string p = Prefixed('p', RandomBytes(rng, 1999));
  const std::string b = p + RandomBytes(rng, 100);
  const std::string a = Prefixed('a', RandomBytes(rng, 1999));
  TextTree tree(TreeOptions{.page_size = 1, .budget_units = 2500, .evict_inline = true});
  tree.Insert(TextKey(p), 3);
  HandOverOneInsert(
      tree, [&] { tree.Insert(TextKey(a), 1); },  // 4000 units: evicts p
      [&] { tree.Insert(TextKey(b), 2); });        // then 4100: evicts a
  EXPECT_EQ(tree.handed_over_inserts_total(), 1u);
  EXPECT_TREE_OK(tree);
  const PrefixMatch mb = tree.Match(TextKey(b));
  EXPECT_EQ(mb.matched_units, b.size());
  EXPECT_EQ(Owners(mb), std::vector<TenantId>{2});
  EXPECT_EQ(tree.tenant_units(3), 0u);
  EXPECT_EQ(tree.Match(TextKey(a)).matched_units, 0u);
  EXPECT_LE(tree.stored_units(), 2500u);
}

// Evicting a tree already within the target does not take its lock, so a
// periodic Evict() (Router::Maintain) never stalls routing threads for
// nothing: here it returns while an insert holds the lock exclusively.
TEST(RadixTreeEvictionTest, EvictWithinTheTargetDoesNotWaitForTheLock) {
  TextTree tree(TreeOptions{.page_size = 1, .budget_units = 1000});
  std::atomic<bool> evicted{false};
  std::thread evictor;
  bool returned_while_held = false;
  tree.SetInsertHookForTesting([&](TextTree::InsertHookPoint point) {
    if (point != TextTree::InsertHookPoint::kLockHeld) return;
    evictor = std::thread([&] {
      EXPECT_EQ(tree.Evict(), 0u);
      EXPECT_EQ(tree.EvictTo(100), 0u);
      evicted = true;
    });
    returned_while_held = WaitUntil([&] { return evicted.load(); });
  });
  tree.Insert(TextKey(std::string(100, 'a')), 1);
  evictor.join();
  tree.SetInsertHookForTesting(nullptr);
  EXPECT_TRUE(returned_while_held) << "Evict() waited for the lock with nothing to evict";
  EXPECT_EQ(tree.stored_units(), 100u);
  // Over the target it does evict.
  EXPECT_EQ(tree.EvictTo(0), 100u);
}

// The tenant of an insert is removed between its descent (which found it
// owning the shared prefix) and its exclusive section: the insert does not
// trust the descent's view of ownership and gives the tenant the whole key.
TEST(RadixTreeInsertTest, TenantRemovedBetweenDescentAndInsertOwnsTheWholeKey) {
  std::mt19937_64 rng(34);
  const std::string p = RandomBytes(rng, 200);
  const std::string key = p + RandomBytes(rng, 50);
  TextTree tree(Unbounded());
  tree.Insert(TextKey(p), 1);
  tree.Insert(TextKey(p), 2);  // p stays when tenant 1 goes
  bool removed = false;
  tree.SetInsertHookForTesting([&](TextTree::InsertHookPoint point) {
    if (point == TextTree::InsertHookPoint::kBeforeCommit && !removed) {
      removed = true;
      tree.RemoveTenant(1);
    }
  });
  tree.Insert(TextKey(key), 1);
  tree.SetInsertHookForTesting(nullptr);
  EXPECT_TRUE(removed);
  EXPECT_TREE_OK(tree);
  EXPECT_EQ(tree.tenant_units(1), key.size());
  EXPECT_EQ(Owners(tree.Match(TextKey(p))), (std::vector<TenantId>{1, 2}));
}

// ---------------------------------------------------------------------------
// Concurrency: bounded, no sleeps; the invariants hold afterwards.

// Short keys, and keys whose edges are long enough (1 KiB and up) to be
// compared without the lock while other threads split, evict and remove.
// An insert that fails between its descent and its exclusive section (its
// new leaf's allocation throws std::bad_alloc; the test hook throws in its
// place) rethrows with the tree unchanged and leaves no pin behind: a pin
// left set would keep every node freed afterwards allocated as "retired".
TEST(RadixTreeInsertTest, AnInsertThatThrowsBeforeItsCommitLeavesNoTrace) {
  std::mt19937_64 rng(35);
  const std::string p = RandomBytes(rng, 200);
  const std::string key = p + RandomBytes(rng, 300);
  TextTree tree(Unbounded());
  tree.Insert(TextKey(p), 1);
  const size_t bytes = tree.memory_bytes();
  tree.SetInsertHookForTesting([](TextTree::InsertHookPoint point) {
    if (point == TextTree::InsertHookPoint::kBeforeCommit) throw std::bad_alloc();
  });
  EXPECT_THROW(tree.MatchAndInsert(TextKey(key), [](const PrefixMatch&) { return TenantId{2}; }),
               std::bad_alloc);
  EXPECT_THROW(tree.Insert(TextKey(key), 3), std::bad_alloc);
  tree.SetInsertHookForTesting(nullptr);
  EXPECT_TREE_OK(tree);
  EXPECT_EQ(tree.memory_bytes(), bytes);
  EXPECT_EQ(tree.tenant_units(2), 0u);
  EXPECT_EQ(tree.tenant_units(3), 0u);
  const PrefixMatch m = tree.Match(TextKey(key));
  EXPECT_EQ(m.matched_units, p.size());
  EXPECT_EQ(Owners(m), std::vector<TenantId>{1});
  // Nothing is pinned: what eviction takes out is freed at once.
  EXPECT_EQ(tree.EvictTo(0), p.size());
  EXPECT_EQ(tree.RetiredNodesForTesting(), 0u);
  tree.Insert(TextKey(key), 2);
  EXPECT_EQ(tree.tenant_units(2), key.size());
}

TEST(RadixTreeConcurrencyTest, MixedOperations) {
  for (auto [inline_eviction, base_len] : {std::pair{false, 150}, std::pair{true, 150}, std::pair{false, 3000},
                                           std::pair{true, 3000}}) {
    SCOPED_TRACE(testing::Message() << "inline_eviction=" << inline_eviction << " base_len=" << base_len);
    const size_t budget = base_len * 130;
    TextTree tree(TreeOptions{.page_size = 1, .budget_units = budget, .evict_inline = inline_eviction});
    std::vector<std::string> bases;
    std::mt19937_64 seed_rng(9);
    for (int i = 0; i < 6; ++i) bases.push_back(RandomBytes(seed_rng, static_cast<size_t>(base_len)));
    std::atomic<size_t> matched_total{0};
    auto worker = [&](int id) {
      std::mt19937_64 rng(100 + id);
      for (int i = 0; i < 2000; ++i) {
        std::string key = bases[rng() % bases.size()].substr(0, base_len / 8 + rng() % (base_len * 7 / 8));
        key += RandomBytes(rng, rng() % 40);
        const TenantId tenant = static_cast<TenantId>(1 + rng() % 8);
        switch (rng() % 3) {
          case 0:
            matched_total += tree.Match(TextKey(key)).matched_units;
            break;
          case 1:
            tree.Insert(TextKey(key), tenant);
            break;
          default:
            tree.MatchAndInsert(TextKey(key), [&](const PrefixMatch& m) {
              (void)tree.tenant_units(tenant);
              return m.owners.empty() ? tenant : m.owners.front();
            });
        }
      }
    };
    auto maintainer = [&] {
      std::mt19937_64 rng(7);
      for (int i = 0; i < 2000; ++i) {
        switch (rng() % 4) {
          case 0:
            tree.RemoveTenant(static_cast<TenantId>(1 + rng() % 8));
            break;
          case 1:
            tree.EvictTo(tree.stored_units() / 2);
            break;
          case 2:
            tree.Evict();
            break;
          default:
            matched_total += tree.Match(TextKey(bases[rng() % bases.size()])).matched_units;
        }
      }
    };
    std::vector<std::thread> threads;
    for (int id = 0; id < 3; ++id) threads.emplace_back(worker, id);
    threads.emplace_back(maintainer);
    for (std::thread& t : threads) t.join();
    EXPECT_TREE_OK(tree);
    EXPECT_GT(matched_total.load(), 0u);
    if (inline_eviction) {
      EXPECT_LE(tree.stored_units(), budget);
    }
    tree.EvictTo(0);
    EXPECT_EQ(tree.node_count(), 0u);
    EXPECT_TREE_OK(tree);
  }
}


// Concurrent first-time inserts of keys that share long prefixes: an insert
// resumes from where its shared-lock descent stopped even when another
// thread split or extended the tree in between, and nothing may be lost.
// Without eviction or removal the final tree is independent of the order.
TEST(RadixTreeConcurrencyTest, ConcurrentInsertsOfSharedPrefixesLoseNothing) {
  for (size_t page : {size_t{1}, size_t{4}}) {
    std::mt19937_64 seed_rng(11);
    std::vector<Tokens> bases;
    for (int i = 0; i < 4; ++i) bases.push_back(RandomTokens(seed_rng, 400, 3));
    // Per thread: keys = a base cut at a random length + a random tail.
    constexpr int kThreads = 3;
    constexpr int kKeysPerThread = 400;
    std::vector<std::vector<Tokens>> keys(kThreads);
    for (int t = 0; t < kThreads; ++t) {
      std::mt19937_64 rng(200 + t);
      for (int i = 0; i < kKeysPerThread; ++i) {
        const Tokens& base = bases[rng() % bases.size()];
        Tokens key(base.begin(), base.begin() + static_cast<std::ptrdiff_t>(50 + rng() % 350));
        Tokens tail = RandomTokens(rng, 1 + rng() % 64, 3);
        key.insert(key.end(), tail.begin(), tail.end());
        keys[t].push_back(std::move(key));
      }
    }
    TokenTree tree(Unbounded(page));
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (size_t i = 0; i < keys[t].size(); ++i) {
          const TenantId tenant = static_cast<TenantId>(1 + (t * kKeysPerThread + i) % 5);
          if (i % 2 == 0) {
            tree.Insert(keys[t][i], tenant);
          } else {
            tree.MatchAndInsert(keys[t][i], [tenant](const PrefixMatch&) { return tenant; });
          }
        }
      });
    }
    for (std::thread& th : threads) th.join();
    EXPECT_TREE_OK(tree);
    for (int t = 0; t < kThreads; ++t) {
      for (size_t i = 0; i < keys[t].size(); ++i) {
        const Tokens& key = keys[t][i];
        const PrefixMatch m = tree.Match(key);
        ASSERT_EQ(m.matched_units, key.size() / page * page) << "thread " << t << " key " << i;
        const TenantId tenant = static_cast<TenantId>(1 + (t * kKeysPerThread + i) % 5);
        if (m.matched_units > 0) {
          EXPECT_THAT(Owners(m), ::testing::Contains(tenant)) << "thread " << t << " key " << i;
        }
      }
    }
  }
}

}  // namespace
}  // namespace smg
