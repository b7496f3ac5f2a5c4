#include "tree/tree_lock.h"

namespace smg {
namespace radix_internal {

size_t ReaderSlotIndex() {
  static std::atomic<size_t> next{0};
  thread_local const size_t index = next.fetch_add(1, std::memory_order_relaxed);
  return index;
}

}  // namespace radix_internal
}  // namespace smg
