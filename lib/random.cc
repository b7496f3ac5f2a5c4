#include "smgcore/random.h"

#include "absl/numeric/int128.h"
#include "absl/random/random.h"

namespace smg {
namespace {

uint64_t SplitMix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// xoshiro256** state for one thread.
struct Xoshiro {
  uint64_t s[4];
  explicit Xoshiro(uint64_t seed) {
    for (uint64_t& v : s) v = seed = SplitMix64(seed);
  }
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t Next() {
    const uint64_t result = Rotl(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = Rotl(s[3], 45);
    return result;
  }
};

}  // namespace

uint64_t RandomSource::Uniform(uint64_t n) {
  if (n == 0) return 0;
  return absl::Uint128High64(absl::uint128(Next()) * n);
}

uint64_t DefaultRandom::Next() {
  // Seeded once per thread from absl's OS-entropy-seeded generator.
  thread_local Xoshiro state{absl::BitGen{}()};
  return state.Next();
}

DefaultRandom& DefaultRandom::Instance() {
  static DefaultRandom random;
  return random;
}

uint64_t SeededRandom::Next() {
  return SplitMix64(state_.fetch_add(0x9e3779b97f4a7c15ULL, std::memory_order_relaxed));
}

}  // namespace smg
