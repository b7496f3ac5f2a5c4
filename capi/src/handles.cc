// File: capi/src/handles.cc
#include "handles.h"

#include <deque>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace smg::capi {
namespace {

constexpr size_t kChunkSlots = 256;

class HandleRegistry {
 public:
  HandleSlot* Register(HandleKind kind, void* object) {
    absl::MutexLock lock(&mu_);
    HandleSlot* slot = nullptr;
    if (free_.size() > kHandleQuarantine) {
      slot = free_.front();
      free_.pop_front();
    } else {
      if (next_in_chunk_ == kChunkSlots || chunks_.empty()) {
        chunks_.push_back(std::make_unique<HandleSlot[]>(kChunkSlots));
        next_in_chunk_ = 0;
      }
      slot = &chunks_.back()[next_in_chunk_++];
    }
    slot->object = object;
    slot->kind.store(kind, std::memory_order_release);
    return slot;
  }

  void* Unregister(const void* handle, HandleKind kind) {
    if (handle == nullptr) return nullptr;
    auto* slot = const_cast<HandleSlot*>(static_cast<const HandleSlot*>(handle));
    absl::MutexLock lock(&mu_);
    if (slot->kind.load(std::memory_order_acquire) != kind) return nullptr;
    slot->kind.store(HandleKind::kDead, std::memory_order_release);
    void* object = slot->object;
    slot->object = nullptr;
    free_.push_back(slot);
    return object;
  }

 private:
  absl::Mutex mu_;
  std::vector<std::unique_ptr<HandleSlot[]>> chunks_ ABSL_GUARDED_BY(mu_);
  size_t next_in_chunk_ ABSL_GUARDED_BY(mu_) = 0;
  // Dead slots, oldest first: the quarantine.
  std::deque<HandleSlot*> free_ ABSL_GUARDED_BY(mu_);
};

// Never destroyed: hosts may destroy handles from their own static
// destructors, after ours would have run.
HandleRegistry& Registry() {
  static HandleRegistry* const registry = new HandleRegistry();
  return *registry;
}

}  // namespace

HandleSlot* RegisterHandle(HandleKind kind, void* object) {
  return Registry().Register(kind, object);
}

void* UnregisterHandle(const void* slot, HandleKind kind) {
  return Registry().Unregister(slot, kind);
}

}  // namespace smg::capi
