// The requests of a route replay, loaded before the clock starts: every key
// lives in one contiguous buffer, so the replay reads them the way a router
// reads prompts it has already received (no parsing, no allocation).
#ifndef SMGCORE_BENCH_ROUTE_REPLAY_REQUEST_SET_H_
#define SMGCORE_BENCH_ROUTE_REPLAY_REQUEST_SET_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace route_replay {

// RequestSet
//
// Keys of `Unit` (uint8_t bytes of text, uint32_t token ids) in file order.
template <typename Unit>
class RequestSet {
 public:
  // RequestSet::Add()
  //
  // Appends one request's key.
  void Add(absl::Span<const Unit> key) {
    units_.insert(units_.end(), key.begin(), key.end());
    ends_.push_back(units_.size());
  }

  // RequestSet::size()
  //
  // Number of requests.
  size_t size() const { return ends_.size(); }

  // RequestSet::total_units()
  //
  // Units over all requests.
  size_t total_units() const { return units_.size(); }

  // RequestSet::operator[]
  //
  // The key of request `i` (valid as long as the set).
  absl::Span<const Unit> operator[](size_t i) const {
    const size_t begin = i == 0 ? 0 : ends_[i - 1];
    return absl::Span<const Unit>(units_.data() + begin, ends_[i] - begin);
  }

 private:
  std::vector<Unit> units_;
  std::vector<size_t> ends_;  // ends_[i]: one past the last unit of request i
};

// LoadText()
//
// One request per line of a text file (gen_workload.py's FILE.txt); the key
// is the line's bytes.
absl::StatusOr<RequestSet<uint8_t>> LoadText(const std::string& path);

// LoadTokens()
//
// One request per line of space-separated token ids (FILE.tok).
absl::StatusOr<RequestSet<uint32_t>> LoadTokens(const std::string& path);

// LoadMooncake()
//
// One request per line of a Mooncake JSONL trace; the key is the request's
// `hash_ids`, each id one token (the protocol replays them with page size
// 1). InvalidArgument for an id that does not fit in 32 bits.
absl::StatusOr<RequestSet<uint32_t>> LoadMooncake(const std::string& path);

}  // namespace route_replay

#endif  // SMGCORE_BENCH_ROUTE_REPLAY_REQUEST_SET_H_
