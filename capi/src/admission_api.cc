// File: capi/src/admission_api.cc
//
// Token buckets, concurrency limiters and tenant limiters.
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "boxes.h"
#include "convert.h"
#include "errors.h"

using smg::capi::FailStatus;
using smg::capi::Get;
using smg::capi::Guarded;
using smg::capi::InvalidArgument;
using smg::capi::InvalidHandle;

namespace {

// The clock argument of a constructor: NULL means the steady clock.
smg_code_t ClockArg(const smg_manual_clock_t* clock, const smg::Clock** out, smg_error_t** err) {
  *out = nullptr;
  if (clock == nullptr) return SMG_OK;
  const smg::ManualClock* c = Get(clock);
  if (c == nullptr) return InvalidHandle(err, "smg_manual_clock_t");
  *out = c;
  return SMG_OK;
}

int64_t ToNanos(absl::Duration d) {
  return d == absl::InfiniteDuration() ? SMG_DURATION_INFINITE : absl::ToInt64Nanoseconds(d);
}

absl::Duration FromNanos(int64_t ns) {
  return ns == SMG_DURATION_INFINITE ? absl::InfiniteDuration() : absl::Nanoseconds(ns);
}

// Tracks a limiter or bucket in the router's metrics.
template <typename Object>
smg_code_t Track(smg_router_t* router, const char* name, size_t name_len,
                 std::shared_ptr<const Object> object, smg_error_t** err) {
  smg::capi::RouterBox* box = Get(router);
  if (box == nullptr) return InvalidHandle(err, "smg_router_t");
  absl::string_view n;
  if (smg_code_t c = smg::capi::ToView(name, name_len, "name", &n, err); c != SMG_OK) return c;
  if (n.empty()) return InvalidArgument(err, "name is empty");
  absl::MutexLock lock(&box->admission_mu);
  if (box->admission == nullptr) {
    box->admission = std::make_unique<smg::AdmissionMetrics>(box->router->metrics());
  }
  box->admission->Track(n, std::move(object));
  return SMG_OK;
}

}  // namespace

extern "C" {

// --- smg_token_bucket_t -------------------------------------------------------

smg_code_t smg_token_bucket_create(uint64_t capacity, double refill_per_second,
                                   int64_t initial_tokens, const smg_manual_clock_t* clock,
                                   smg_token_bucket_t** bucket_out, smg_error_t** err) {
  return Guarded(err, [&]() -> smg_code_t {
    if (bucket_out == nullptr) return InvalidArgument(err, "bucket_out is NULL");
    const smg::Clock* c = nullptr;
    if (smg_code_t code = ClockArg(clock, &c, err); code != SMG_OK) return code;
    smg::TokenBucketOptions options{.capacity = capacity, .refill_per_second = refill_per_second};
    if (initial_tokens >= 0) options.initial_tokens = static_cast<uint64_t>(initial_tokens);
    absl::StatusOr<std::unique_ptr<smg::TokenBucket>> bucket = smg::TokenBucket::Create(options, c);
    if (!bucket.ok()) return FailStatus(err, bucket.status());
    auto box = std::make_unique<smg::capi::TokenBucketBox>();
    box->bucket = std::move(*bucket);
    *bucket_out = smg::capi::Publish<smg_token_bucket_t>(std::move(box));
    return SMG_OK;
  });
}

void smg_token_bucket_destroy(smg_token_bucket_t* bucket) {
  smg::capi::GuardedVoid([&] { smg::capi::Take(bucket).reset(); });
}

smg_code_t smg_token_bucket_try_acquire(smg_token_bucket_t* bucket, uint64_t n,
                                        uint8_t* acquired_out) {
  smg::capi::TokenBucketBox* box = Get(bucket);
  if (box == nullptr) return SMG_ERR_INVALID_HANDLE;
  if (acquired_out == nullptr) return SMG_ERR_INVALID_ARGUMENT;
  *acquired_out = box->bucket->TryAcquire(n) ? 1 : 0;
  return SMG_OK;
}

smg_code_t smg_token_bucket_time_until(const smg_token_bucket_t* bucket, uint64_t n,
                                       int64_t* wait_ns_out) {
  const smg::capi::TokenBucketBox* box = Get(bucket);
  if (box == nullptr) return SMG_ERR_INVALID_HANDLE;
  if (wait_ns_out == nullptr) return SMG_ERR_INVALID_ARGUMENT;
  *wait_ns_out = ToNanos(box->bucket->TimeUntilAvailable(n));
  return SMG_OK;
}

smg_code_t smg_token_bucket_available(const smg_token_bucket_t* bucket, uint64_t* tokens_out) {
  const smg::capi::TokenBucketBox* box = Get(bucket);
  if (box == nullptr) return SMG_ERR_INVALID_HANDLE;
  if (tokens_out == nullptr) return SMG_ERR_INVALID_ARGUMENT;
  *tokens_out = box->bucket->available();
  return SMG_OK;
}

smg_code_t smg_router_track_token_bucket(smg_router_t* router, const char* name, size_t name_len,
                                         const smg_token_bucket_t* bucket, smg_error_t** err) {
  return Guarded(err, [&]() -> smg_code_t {
    const smg::capi::TokenBucketBox* box = Get(bucket);
    if (box == nullptr) return InvalidHandle(err, "smg_token_bucket_t");
    return Track<smg::TokenBucket>(router, name, name_len, box->bucket, err);
  });
}

// --- smg_limiter_t ------------------------------------------------------------

void smg_limiter_config_init(smg_limiter_config_t* config) {
  if (config == nullptr) return;
  const smg::ConcurrencyLimiterOptions defaults;
  *config = smg_limiter_config_t{
      .max_in_flight = 0,
      .max_queue = defaults.max_queue,
      .queue_timeout_ns = absl::ToInt64Nanoseconds(defaults.queue_timeout),
      .notify = nullptr,
      .notify_user_data = nullptr,
  };
}

smg_code_t smg_limiter_create(const smg_limiter_config_t* config, const smg_manual_clock_t* clock,
                              smg_limiter_t** limiter_out, smg_error_t** err) {
  return Guarded(err, [&]() -> smg_code_t {
    if (config == nullptr) return InvalidArgument(err, "config is NULL");
    if (limiter_out == nullptr) return InvalidArgument(err, "limiter_out is NULL");
    const smg::Clock* c = nullptr;
    if (smg_code_t code = ClockArg(clock, &c, err); code != SMG_OK) return code;
    smg::ConcurrencyLimiterOptions options;
    options.max_in_flight = config->max_in_flight;
    options.max_queue = config->max_queue;
    options.queue_timeout = FromNanos(config->queue_timeout_ns);
    if (config->notify != nullptr) {
      options.completion_notifier = [fn = config->notify, data = config->notify_user_data] {
        fn(data);
      };
    }
    absl::StatusOr<std::unique_ptr<smg::ConcurrencyLimiter>> limiter =
        smg::ConcurrencyLimiter::Create(std::move(options), c);
    if (!limiter.ok()) return FailStatus(err, limiter.status());
    auto box = std::make_unique<smg::capi::LimiterBox>();
    box->limiter = std::move(*limiter);
    *limiter_out = smg::capi::Publish<smg_limiter_t>(std::move(box));
    return SMG_OK;
  });
}

void smg_limiter_destroy(smg_limiter_t* limiter) {
  smg::capi::GuardedVoid([&] {
    std::unique_ptr<smg::capi::LimiterBox> box = smg::capi::Take(limiter);
    if (box == nullptr) return;
    // A metrics export running now may hold the last reference for a moment
    // (tracking is weak), and the destructor would then run its callbacks on
    // that thread: resolve every waiter here, with the deferred callbacks run
    // on this thread, as the header promises.
    box->limiter->CancelAll();
    box->limiter->DispatchCompletions();
  });
}

smg_code_t smg_limiter_try_acquire(smg_limiter_t* limiter, uint8_t* acquired_out) {
  smg::capi::LimiterBox* box = Get(limiter);
  if (box == nullptr) return SMG_ERR_INVALID_HANDLE;
  if (acquired_out == nullptr) return SMG_ERR_INVALID_ARGUMENT;
  *acquired_out = box->limiter->TryAcquire() ? 1 : 0;
  return SMG_OK;
}

smg_code_t smg_limiter_acquire(smg_limiter_t* limiter, int64_t timeout_ns, uint8_t* result_out) {
  return Guarded(nullptr, [&]() -> smg_code_t {
    smg::capi::LimiterBox* box = Get(limiter);
    if (box == nullptr) return SMG_ERR_INVALID_HANDLE;
    if (result_out == nullptr) return SMG_ERR_INVALID_ARGUMENT;
    // Hold a reference while blocked.
    const std::shared_ptr<smg::ConcurrencyLimiter> held = box->limiter;
    *result_out = static_cast<uint8_t>(held->Acquire(FromNanos(timeout_ns)));
    return SMG_OK;
  });
}

smg_code_t smg_limiter_acquire_async(smg_limiter_t* limiter, smg_admission_fn fn, void* user_data,
                                     uint64_t* waiter_out) {
  return Guarded(nullptr, [&]() -> smg_code_t {
    smg::capi::LimiterBox* box = Get(limiter);
    if (box == nullptr) return SMG_ERR_INVALID_HANDLE;
    if (fn == nullptr) return SMG_ERR_INVALID_ARGUMENT;
    const smg::ConcurrencyLimiter::WaiterId id =
        box->limiter->AcquireAsync([fn, user_data](smg::AdmissionResult r) {
          fn(user_data, static_cast<uint8_t>(r));
        });
    if (waiter_out != nullptr) *waiter_out = id;
    return SMG_OK;
  });
}

smg_code_t smg_limiter_cancel(smg_limiter_t* limiter, uint64_t waiter, uint8_t* cancelled_out) {
  return Guarded(nullptr, [&]() -> smg_code_t {
    smg::capi::LimiterBox* box = Get(limiter);
    if (box == nullptr) return SMG_ERR_INVALID_HANDLE;
    const bool cancelled = box->limiter->Cancel(waiter);
    if (cancelled_out != nullptr) *cancelled_out = cancelled ? 1 : 0;
    return SMG_OK;
  });
}

smg_code_t smg_limiter_cancel_all(smg_limiter_t* limiter, uint64_t* cancelled_out) {
  return Guarded(nullptr, [&]() -> smg_code_t {
    smg::capi::LimiterBox* box = Get(limiter);
    if (box == nullptr) return SMG_ERR_INVALID_HANDLE;
    const size_t n = box->limiter->CancelAll();
    if (cancelled_out != nullptr) *cancelled_out = n;
    return SMG_OK;
  });
}

smg_code_t smg_limiter_release(smg_limiter_t* limiter) {
  return Guarded(nullptr, [&]() -> smg_code_t {
    smg::capi::LimiterBox* box = Get(limiter);
    if (box == nullptr) return SMG_ERR_INVALID_HANDLE;
    box->limiter->Release();
    return SMG_OK;
  });
}

smg_code_t smg_limiter_expire(smg_limiter_t* limiter, uint64_t* expired_out) {
  return Guarded(nullptr, [&]() -> smg_code_t {
    smg::capi::LimiterBox* box = Get(limiter);
    if (box == nullptr) return SMG_ERR_INVALID_HANDLE;
    const size_t n = box->limiter->ExpireWaiters();
    if (expired_out != nullptr) *expired_out = n;
    return SMG_OK;
  });
}

smg_code_t smg_limiter_next_deadline(const smg_limiter_t* limiter, int64_t* wait_ns_out) {
  return Guarded(nullptr, [&]() -> smg_code_t {
    const smg::capi::LimiterBox* box = Get(limiter);
    if (box == nullptr) return SMG_ERR_INVALID_HANDLE;
    if (wait_ns_out == nullptr) return SMG_ERR_INVALID_ARGUMENT;
    const std::optional<absl::Duration> d = box->limiter->TimeUntilNextDeadline();
    *wait_ns_out = d ? ToNanos(*d) : -1;
    return SMG_OK;
  });
}

smg_code_t smg_limiter_dispatch(smg_limiter_t* limiter, uint64_t* ran_out) {
  return Guarded(nullptr, [&]() -> smg_code_t {
    smg::capi::LimiterBox* box = Get(limiter);
    if (box == nullptr) return SMG_ERR_INVALID_HANDLE;
    const size_t n = box->limiter->DispatchCompletions();
    if (ran_out != nullptr) *ran_out = n;
    return SMG_OK;
  });
}

smg_code_t smg_limiter_get_stats(const smg_limiter_t* limiter, smg_limiter_stats_t* stats_out) {
  return Guarded(nullptr, [&]() -> smg_code_t {
    const smg::capi::LimiterBox* box = Get(limiter);
    if (box == nullptr) return SMG_ERR_INVALID_HANDLE;
    if (stats_out == nullptr) return SMG_ERR_INVALID_ARGUMENT;
    const smg::ConcurrencyLimiterStats s = box->limiter->stats();
    *stats_out = smg_limiter_stats_t{
        .in_flight = s.in_flight,
        .queue_depth = s.queue_depth,
        .admitted = s.admitted,
        .admitted_after_wait = s.admitted_after_wait,
        .rejected = s.rejected,
        .timed_out = s.timed_out,
        .cancelled = s.cancelled,
        .total_queue_wait_ns = s.total_queue_wait_nanos,
        .retry_after_ns = ToNanos(box->limiter->RetryAfterHint()),
    };
    return SMG_OK;
  });
}

smg_code_t smg_router_track_limiter(smg_router_t* router, const char* name, size_t name_len,
                                    const smg_limiter_t* limiter, smg_error_t** err) {
  return Guarded(err, [&]() -> smg_code_t {
    const smg::capi::LimiterBox* box = Get(limiter);
    if (box == nullptr) return InvalidHandle(err, "smg_limiter_t");
    return Track<smg::ConcurrencyLimiter>(router, name, name_len, box->limiter, err);
  });
}

// --- smg_tenant_limiter_t -----------------------------------------------------

smg_code_t smg_tenant_limiter_create(const smg_tenant_limits_t* limits,
                                     const smg_manual_clock_t* clock,
                                     smg_tenant_limiter_t** limiter_out, smg_error_t** err) {
  return Guarded(err, [&]() -> smg_code_t {
    const smg::TenantLimiterOptions* options = Get(limits);
    if (options == nullptr) return InvalidHandle(err, "smg_tenant_limits_t");
    if (limiter_out == nullptr) return InvalidArgument(err, "limiter_out is NULL");
    const smg::Clock* c = nullptr;
    if (smg_code_t code = ClockArg(clock, &c, err); code != SMG_OK) return code;
    absl::StatusOr<std::unique_ptr<smg::TenantLimiter>> limiter =
        smg::TenantLimiter::Create(*options, c);
    if (!limiter.ok()) return FailStatus(err, limiter.status());
    auto box = std::make_unique<smg::capi::TenantLimiterBox>();
    box->limiter = std::move(*limiter);
    *limiter_out = smg::capi::Publish<smg_tenant_limiter_t>(std::move(box));
    return SMG_OK;
  });
}

void smg_tenant_limiter_destroy(smg_tenant_limiter_t* limiter) {
  smg::capi::GuardedVoid([&] { smg::capi::Take(limiter).reset(); });
}

smg_code_t smg_tenant_limiter_reserve(smg_tenant_limiter_t* limiter, const char* tenant,
                                      size_t tenant_len, uint64_t estimated_tokens,
                                      smg_tenant_decision_t* decision_out,
                                      smg_tenant_reservation_t** reservation_out) {
  return Guarded(nullptr, [&]() -> smg_code_t {
    smg::capi::TenantLimiterBox* box = Get(limiter);
    if (box == nullptr) return SMG_ERR_INVALID_HANDLE;
    if (decision_out == nullptr || reservation_out == nullptr) return SMG_ERR_INVALID_ARGUMENT;
    absl::string_view name;
    if (smg_code_t c = smg::capi::ToView(tenant, tenant_len, "tenant", &name, nullptr); c != SMG_OK) {
      return c;
    }
    smg::TenantDecision d = box->limiter->Reserve(name, estimated_tokens);
    *decision_out = smg_tenant_decision_t{
        .reason = static_cast<uint8_t>(d.reason),
        .scope = static_cast<uint8_t>(d.scope),
        .dimension = static_cast<uint8_t>(d.dimension),
        .retry_after_ns = ToNanos(d.retry_after),
    };
    *reservation_out = nullptr;
    if (d.granted()) {
      auto r = std::make_unique<smg::capi::ReservationBox>();
      r->reservation = std::move(d.reservation);
      *reservation_out = smg::capi::Publish<smg_tenant_reservation_t>(std::move(r));
    }
    return SMG_OK;
  });
}

smg_code_t smg_tenant_reservation_settle(smg_tenant_reservation_t* reservation,
                                         uint64_t actual_tokens) {
  return Guarded(nullptr, [&]() -> smg_code_t {
    smg::capi::ReservationBox* box = Get(reservation);
    if (box == nullptr) return SMG_ERR_INVALID_HANDLE;
    return smg::capi::CodeOf(box->reservation.Settle(actual_tokens));
  });
}

void smg_tenant_reservation_destroy(smg_tenant_reservation_t* reservation) {
  smg::capi::GuardedVoid([&] { smg::capi::Take(reservation).reset(); });
}

}  // extern "C"
