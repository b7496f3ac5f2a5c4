// Internal: small per-thread slot numbers for structures that give each
// reading thread a cache line of its own (the radix tree's lock, the
// router's snapshot cell).
#ifndef SMGCORE_LIB_THREAD_SLOT_H_
#define SMGCORE_LIB_THREAD_SLOT_H_

#include <cstddef>

namespace smg {
namespace internal {

// ThreadSlotNumber
//
// A thread's slot number: the lowest number no live thread holds, taken on
// construction and given back on destruction, so a process that keeps
// creating and ending threads keeps its live threads on low numbers, i.e.
// on slots of their own. Two live threads never hold the same number.
class ThreadSlotNumber {
 public:
  ThreadSlotNumber();
  ~ThreadSlotNumber();
  ThreadSlotNumber(const ThreadSlotNumber&) = delete;
  ThreadSlotNumber& operator=(const ThreadSlotNumber&) = delete;
  size_t value() const { return value_; }

 private:
  const size_t value_;
};

// ThreadSlotIndex()
//
// The calling thread's slot number (see ThreadSlotNumber), taken on its
// first call.
inline size_t ThreadSlotIndex() {
  thread_local const ThreadSlotNumber number;
  return number.value();
}

}  // namespace internal
}  // namespace smg

#endif  // SMGCORE_LIB_THREAD_SLOT_H_
