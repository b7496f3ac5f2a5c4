// File: smgcore/random.h
//
// The randomness every randomized decision reads: random and power-of-two
// picks, consistent-hash fallbacks, PD bootstrap rooms. Production code uses
// `DefaultRandom`; tests inject a `SeededRandom` so that distributions and
// picks are reproducible.
#ifndef SMGCORE_RANDOM_H_
#define SMGCORE_RANDOM_H_

#include <atomic>
#include <cstdint>

namespace smg {

// RandomSource
//
// A source of uniformly distributed 64-bit values. Implementations must be
// safe to call from many threads at once.
class RandomSource {
 public:
  virtual ~RandomSource() = default;

  // RandomSource::Next()
  //
  // A uniformly distributed 64-bit value.
  virtual uint64_t Next() = 0;

  // RandomSource::Uniform()
  //
  // A value uniformly distributed in [0, n); 0 when n is 0. Uses Lemire's
  // multiply-shift reduction, so it costs one multiplication, not a division.
  uint64_t Uniform(uint64_t n);
};

// DefaultRandom
//
// Per-thread xoshiro-style generators seeded from the operating system's
// entropy on first use in each thread: no shared state, no contention.
class DefaultRandom final : public RandomSource {
 public:
  uint64_t Next() override;

  // DefaultRandom::Instance()
  //
  // The process-wide instance used when a host injects no random source.
  static DefaultRandom& Instance();
};

// SeededRandom
//
// A deterministic sequence: value i is SplitMix64(seed + i * golden ratio).
// The counter is one atomic, so the sequence is exact when one thread draws
// and still well distributed (though interleaved) when several do.
class SeededRandom final : public RandomSource {
 public:
  explicit SeededRandom(uint64_t seed) : state_(seed) {}
  uint64_t Next() override;

 private:
  std::atomic<uint64_t> state_;
};

}  // namespace smg

#endif  // SMGCORE_RANDOM_H_
