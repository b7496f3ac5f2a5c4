#include "thread_slot.h"

#include <mutex>
#include <vector>

namespace smg {
namespace internal {
namespace {

// The slot numbers live threads hold.
class SlotNumbers {
 public:
  size_t Take() {
    std::lock_guard<std::mutex> lock(mu_);
    for (size_t i = 0; i < in_use_.size(); ++i) {
      if (!in_use_[i]) {
        in_use_[i] = true;
        return i;
      }
    }
    in_use_.push_back(true);
    return in_use_.size() - 1;
  }
  void Give(size_t number) {
    std::lock_guard<std::mutex> lock(mu_);
    in_use_[number] = false;
  }

 private:
  std::mutex mu_;
  std::vector<bool> in_use_;
};

// Never destroyed: threads may exit during or after static destruction.
SlotNumbers& Numbers() {
  static SlotNumbers* const numbers = new SlotNumbers;
  return *numbers;
}

}  // namespace

ThreadSlotNumber::ThreadSlotNumber() : value_(Numbers().Take()) {}
ThreadSlotNumber::~ThreadSlotNumber() { Numbers().Give(value_); }

}  // namespace internal
}  // namespace smg
