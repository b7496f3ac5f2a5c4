// File: capi/src/boxes.h
//
// The C++ objects behind the C ABI's handles, and the typed accessors that
// turn a handle into its object: Get<smg_router_t>(h) is the RouterBox, or
// null when the handle is not a live router.
#ifndef SMGCORE_CAPI_BOXES_H_
#define SMGCORE_CAPI_BOXES_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "handles.h"
#include "smgcore/admission_metrics.h"
#include "smgcore/clock.h"
#include "smgcore/concurrency_limiter.h"
#include "smgcore/policy_config.h"
#include "smgcore/random.h"
#include "smgcore/retry.h"
#include "smgcore/router.h"
#include "smgcore/smgcore_c.h"
#include "smgcore/tenant_limiter.h"
#include "smgcore/token_bucket.h"
#include "smgcore/worker.h"

namespace smg::capi {

// RouterOptionsBox
//
// smg_router_options_t: the C++ options plus what the C ABI adds.
struct RouterOptionsBox {
  RouterOptions options;
  std::optional<uint64_t> random_seed;
  const ManualClock* clock = nullptr;
  smg_event_fn event_fn = nullptr;
  void* event_user_data = nullptr;
};

// RouterBox
//
// smg_router_t. Retry states share ownership (they hold the router by
// reference), so the box owns itself through `self` until
// smg_router_destroy() drops that reference.
struct RouterBox {
  // Declared before `router`, which uses it, so it is destroyed after.
  std::unique_ptr<SeededRandom> random;
  std::unique_ptr<Router> router;
  std::shared_ptr<RouterBox> self;
  absl::Mutex admission_mu;
  // Created by the first smg_router_track_*() call.
  std::unique_ptr<AdmissionMetrics> admission ABSL_GUARDED_BY(admission_mu);
};

// WorkersBox
//
// smg_workers_t: worker snapshots. Each entry keeps its Worker alive, which
// keeps url/model/bootstrap_host (immutable members) valid; labels and
// runtime state are copied at listing time.
struct WorkersBox {
  struct Entry {
    WorkerPtr worker;
    smg_worker_info_t info;
    std::vector<std::pair<std::string, std::string>> label_store;
    std::vector<smg_label_t> labels;
  };
  std::vector<Entry> entries;
};

// RetryBox
//
// smg_retry_t.
struct RetryBox {
  explicit RetryBox(std::shared_ptr<RouterBox> r) : router(std::move(r)), state(*router->router) {}
  std::shared_ptr<RouterBox> router;
  RetryState state;
};

// TokenBucketBox, LimiterBox
//
// Shared because AdmissionMetrics tracks them through weak references.
struct TokenBucketBox {
  std::shared_ptr<TokenBucket> bucket;
};
struct LimiterBox {
  std::shared_ptr<ConcurrencyLimiter> limiter;
};

// TenantLimiterBox, ReservationBox
struct TenantLimiterBox {
  std::unique_ptr<TenantLimiter> limiter;
};
struct ReservationBox {
  TenantReservation reservation;
};

// HandleTraits
//
// The object type, registry kind and C name of each handle type.
template <typename Handle>
struct HandleTraits;

#define SMG_CAPI_HANDLE_TRAITS(HANDLE, OBJECT, KIND)                  \
  template <>                                                         \
  struct HandleTraits<HANDLE> {                                       \
    using Object = OBJECT;                                            \
    static constexpr HandleKind kKind = HandleKind::KIND;             \
    static constexpr absl::string_view kName = #HANDLE;               \
  }

SMG_CAPI_HANDLE_TRAITS(smg_router_options_t, RouterOptionsBox, kRouterOptions);
SMG_CAPI_HANDLE_TRAITS(smg_policy_config_t, PolicyConfig, kPolicyConfig);
SMG_CAPI_HANDLE_TRAITS(smg_tenant_limits_t, TenantLimiterOptions, kTenantLimits);
SMG_CAPI_HANDLE_TRAITS(smg_router_t, RouterBox, kRouter);
SMG_CAPI_HANDLE_TRAITS(smg_workers_t, WorkersBox, kWorkers);
SMG_CAPI_HANDLE_TRAITS(smg_retry_t, RetryBox, kRetry);
SMG_CAPI_HANDLE_TRAITS(smg_manual_clock_t, ManualClock, kManualClock);
SMG_CAPI_HANDLE_TRAITS(smg_token_bucket_t, TokenBucketBox, kTokenBucket);
SMG_CAPI_HANDLE_TRAITS(smg_limiter_t, LimiterBox, kLimiter);
SMG_CAPI_HANDLE_TRAITS(smg_tenant_limiter_t, TenantLimiterBox, kTenantLimiter);
SMG_CAPI_HANDLE_TRAITS(smg_tenant_reservation_t, ReservationBox, kTenantReservation);

#undef SMG_CAPI_HANDLE_TRAITS

// Get()
//
// The object of a live handle of this type, else null.
template <typename Handle>
typename HandleTraits<Handle>::Object* Get(const Handle* handle) {
  return static_cast<typename HandleTraits<Handle>::Object*>(
      ResolveHandle(handle, HandleTraits<Handle>::kKind));
}

// Publish()
//
// Registers `object` and returns its new handle (the registry takes the
// object's ownership; Take() gives it back).
template <typename Handle>
Handle* Publish(std::unique_ptr<typename HandleTraits<Handle>::Object> object) {
  HandleSlot* slot = RegisterHandle(HandleTraits<Handle>::kKind, object.get());
  object.release();
  return reinterpret_cast<Handle*>(slot);
}

// Take()
//
// Kills the handle and returns ownership of its object (null when the handle
// was not live).
template <typename Handle>
std::unique_ptr<typename HandleTraits<Handle>::Object> Take(Handle* handle) {
  return std::unique_ptr<typename HandleTraits<Handle>::Object>(
      static_cast<typename HandleTraits<Handle>::Object*>(
          UnregisterHandle(handle, HandleTraits<Handle>::kKind)));
}

}  // namespace smg::capi

#endif  // SMGCORE_CAPI_BOXES_H_
