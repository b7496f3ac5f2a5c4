#include "absl/strings/str_cat.h"
#include "smgcore/outcome.h"

namespace smg {

FailureClassifier::FailureClassifier() {
  for (int status : {408, 429, 500, 502, 503, 504}) {
    const unsigned bit = static_cast<unsigned>(status - kMinStatus);
    statuses_[bit / 64] |= uint64_t{1} << (bit % 64);
  }
}

absl::StatusOr<FailureClassifier> FailureClassifier::Create(absl::Span<const int> failure_statuses,
                                                            bool transport_errors_fail) {
  FailureClassifier c;
  c.statuses_ = {};
  c.transport_errors_fail_ = transport_errors_fail;
  for (int status : failure_statuses) {
    if (status < kMinStatus || status > kMaxStatus) {
      return absl::InvalidArgumentError(
          absl::StrCat("failure status ", status, " is not an HTTP status in [100, 599]"));
    }
    const unsigned bit = static_cast<unsigned>(status - kMinStatus);
    c.statuses_[bit / 64] |= uint64_t{1} << (bit % 64);
  }
  return c;
}

std::vector<int> FailureClassifier::failure_statuses() const {
  std::vector<int> out;
  for (int status = kMinStatus; status <= kMaxStatus; ++status) {
    if (IsFailureStatus(status)) out.push_back(status);
  }
  return out;
}

}  // namespace smg
