// File: capi/src/handles.h
//
// The registry behind every opaque handle of the C ABI. A handle is a pointer
// to a slot that records the kind of object it names and a pointer to that
// object. Destroying a handle marks its slot dead; a dead slot is reused only
// after kHandleQuarantine other slots have been freed, so a stale handle
// (destroyed, even if another object was created since) reads as dead instead
// of naming someone else's object. Slots live in chunks that are never freed.
//
// Thread safety: Register() and Unregister() take the registry's mutex (they
// are on the create/destroy path). Resolve() is two plain loads, for the hot
// path; it must not race with Unregister() of the same handle, which the C
// header forbids.
#ifndef SMGCORE_CAPI_HANDLES_H_
#define SMGCORE_CAPI_HANDLES_H_

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace smg::capi {

// HandleKind
//
// What a slot names. The values carry a tag in their upper bits so that a
// pointer to arbitrary memory is unlikely to read as a live slot.
enum class HandleKind : uint32_t {
  kDead = 0,
  kRouterOptions = 0x534d0001,
  kPolicyConfig = 0x534d0002,
  kTenantLimits = 0x534d0003,
  kRouter = 0x534d0004,
  kWorkers = 0x534d0005,
  kRetry = 0x534d0006,
  kManualClock = 0x534d0007,
  kTokenBucket = 0x534d0008,
  kLimiter = 0x534d0009,
  kTenantLimiter = 0x534d000a,
  kTenantReservation = 0x534d000b,
};

// kHandleQuarantine
//
// Freed slots wait this long (in later frees) before reuse.
inline constexpr size_t kHandleQuarantine = 4096;

// HandleSlot
struct HandleSlot {
  std::atomic<HandleKind> kind{HandleKind::kDead};
  void* object = nullptr;
};

// RegisterHandle()
//
// A live slot of `kind` naming `object` (never null).
HandleSlot* RegisterHandle(HandleKind kind, void* object);

// UnregisterHandle()
//
// Marks the slot dead and returns its object, or null when `slot` is null,
// dead or of another kind (nothing changes then).
void* UnregisterHandle(const void* slot, HandleKind kind);

// ResolveHandle()
//
// The object a live slot of `kind` names, else null.
inline void* ResolveHandle(const void* handle, HandleKind kind) {
  if (handle == nullptr) return nullptr;
  const auto* slot = static_cast<const HandleSlot*>(handle);
  if (slot->kind.load(std::memory_order_acquire) != kind) return nullptr;
  return slot->object;
}

}  // namespace smg::capi

#endif  // SMGCORE_CAPI_HANDLES_H_
