// File: smgcore/concurrency_limiter.h
//
// A cap on in-flight requests with a bounded FIFO wait queue and a queue
// timeout: the concurrency half of SMG's global limiter (smg.md §4; queue
// 100, timeout 60 s, queue full -> 429, timeout -> 408), without its 10 ms
// polling and with a Retry-After hint, which SMG lacks.
//
// A request is admitted at once while fewer than `max_in_flight` are in
// flight; otherwise it waits in FIFO order for a Release(), and a release
// hands its slot straight to the oldest waiter, so nobody barges ahead of the
// queue and `in_flight()` never exceeds the maximum.
//
// Thread hosts block in Acquire():
//
//   const smg::AdmissionResult r = limiter->Acquire(absl::Seconds(5));
//   if (r != smg::AdmissionResult::kAdmitted) {
//     return Reply(smg::AdmissionResultHttpStatus(r), limiter->RetryAfterHint());
//   }
//   Serve(request);
//   limiter->Release();
//
// Event-loop hosts use AcquireAsync(). Results that are known at once run the
// callback inline; queued requests are resolved later on whichever thread
// calls Release(), ExpireWaiters() or Cancel(). With a completion notifier
// those deferred callbacks are handed to the loop thread instead:
//
//   uv_async_t wake;  // its callback calls limiter->DispatchCompletions()
//   options.completion_notifier = [&wake] { uv_async_send(&wake); };
//   ...
//   limiter->AcquireAsync([req](smg::AdmissionResult r) { ... });  // on the loop
//   // A uv_timer armed with TimeUntilNextDeadline() calls ExpireWaiters().
//
// Deadlines are measured on the injected Clock, so tests drive timeouts with
// a ManualClock and ExpireWaiters() instead of sleeping.
#ifndef SMGCORE_CONCURRENCY_LIMITER_H_
#define SMGCORE_CONCURRENCY_LIMITER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "smgcore/clock.h"

namespace smg {

// AdmissionResult
//
// How an admission request ended. The values are stable (they cross the C
// ABI).
enum class AdmissionResult : uint8_t {
  // The request holds a slot and must Release() it when done.
  kAdmitted = 0,
  // Every slot was busy and the wait queue was full (or disabled).
  kRejectedQueueFull = 1,
  // The request waited until its deadline without getting a slot.
  kTimedOut = 2,
  // The request was withdrawn while queued: Cancel(), CancelAll() or the
  // limiter's destruction.
  kCancelled = 3,
};

// AdmissionResultName()
//
// "admitted", "rejected_queue_full", "timed_out" or "cancelled": stable
// strings for metric labels and logs.
absl::string_view AdmissionResultName(AdmissionResult result);

// AdmissionResultHttpStatus()
//
// The HTTP status a gateway should answer with: 200 (admitted), 429 (queue
// full, with RetryAfterHint() as Retry-After), 408 (timed out; SMG's code),
// 503 (cancelled). Cancellation by Cancel() means the client is gone and
// nobody reads the status; the code that matters is the shutdown case
// (CancelAll(), destruction), where 503 tells the client to retry elsewhere.
// nginx's 499 would instead blame the client, which is wrong for shutdown.
int AdmissionResultHttpStatus(AdmissionResult result);

// kMaxConcurrencyLimiterQueue
//
// The largest accepted `max_queue`.
inline constexpr uint32_t kMaxConcurrencyLimiterQueue = uint32_t{1} << 20;

// kMaxConcurrencyLimiterQueueTimeout
//
// The longest accepted `queue_timeout` (one day): longer waits are a
// configuration mistake, and the bound keeps deadlines far from overflow.
inline constexpr absl::Duration kMaxConcurrencyLimiterQueueTimeout = absl::Hours(24);

// ConcurrencyLimiterOptions
//
// Move-only (it holds the notifier).
struct ConcurrencyLimiterOptions {
  // The most requests admitted and not yet released. At least 1.
  uint32_t max_in_flight = 0;
  // The most requests waiting for a slot, at most
  // kMaxConcurrencyLimiterQueue. 0 disables the queue: a request that finds
  // every slot busy is rejected at once.
  uint32_t max_queue = 100;
  // The longest a request waits in the queue (an Acquire() timeout can only
  // shorten it). Positive and at most kMaxConcurrencyLimiterQueueTimeout.
  absl::Duration queue_timeout = absl::Seconds(60);
  // Optional. When set, callbacks of queued AcquireAsync() requests are not
  // run on the resolving thread: they are pushed onto a lock-free queue and
  // this notifier is called (from that thread, with no limiter lock held,
  // possibly from several threads at once, possibly coalescing several
  // results into one call), and the host runs them by calling
  // DispatchCompletions() on its loop thread. Typically wraps uv_async_send().
  // Must be thread-safe and must not call back into the limiter.
  absl::AnyInvocable<void()> completion_notifier;
};

// ValidateConcurrencyLimiterOptions()
//
// InvalidArgument naming the field and value when `max_in_flight` is 0,
// `max_queue` is above kMaxConcurrencyLimiterQueue, or `queue_timeout` is not
// positive or above kMaxConcurrencyLimiterQueueTimeout (infinite included).
absl::Status ValidateConcurrencyLimiterOptions(const ConcurrencyLimiterOptions& options);

// ConcurrencyLimiterStats
//
// Counters since creation, for metrics. Taken under the limiter's lock, but
// admissions and releases while nobody is queued do not take it (they are
// one atomic operation each): while such calls run, `in_flight`, `admitted`
// and `rejected` may be a few requests apart from the other fields. Every
// field is exact once the calls it should count have returned.
struct ConcurrencyLimiterStats {
  // Requests holding a slot now.
  uint32_t in_flight = 0;
  // Requests waiting now.
  size_t queue_depth = 0;
  // Admissions: at once (TryAcquire, Acquire, AcquireAsync) or after queueing.
  uint64_t admitted = 0;
  // Of `admitted`, those that waited in the queue first.
  uint64_t admitted_after_wait = 0;
  // Requests refused without queueing: kRejectedQueueFull results and failed
  // TryAcquire() calls.
  uint64_t rejected = 0;
  // kTimedOut results.
  uint64_t timed_out = 0;
  // kCancelled results.
  uint64_t cancelled = 0;
  // Time spent in the queue, summed over every request that left it
  // (whatever its result), in nanoseconds of the injected clock.
  int64_t total_queue_wait_nanos = 0;
};

// ConcurrencyLimiter
//
// Thread-safe: every method may be called from any thread concurrently
// (DispatchCompletions() is meant for one loop thread, but tolerates more).
// While nobody is queued, admitting and releasing are lock-free (one
// compare-and-swap on the slot count); the queue and its hand-offs are
// under a mutex.
// Callbacks and the notifier are never called with the limiter's lock held,
// so they may call back into the limiter (the notifier excepted).
class ConcurrencyLimiter {
 public:
  // ConcurrencyLimiter::Callback
  //
  // Receives the result of AcquireAsync(), exactly once.
  using Callback = absl::AnyInvocable<void(AdmissionResult) &&>;

  // ConcurrencyLimiter::WaiterId
  //
  // Names a queued AcquireAsync() request for Cancel(). Ids are never
  // reused; kNoWaiter (0) means the request was resolved inline.
  using WaiterId = uint64_t;
  static constexpr WaiterId kNoWaiter = 0;

  // ConcurrencyLimiter::Create()
  //
  // Validates `options` (see ValidateConcurrencyLimiterOptions()). `clock`
  // must outlive the limiter; null means SteadyClock::Instance().
  static absl::StatusOr<std::unique_ptr<ConcurrencyLimiter>> Create(
      ConcurrencyLimiterOptions options, const Clock* clock = nullptr);

  // ConcurrencyLimiter::~ConcurrencyLimiter()
  //
  // Runs the callbacks still waiting in the completion queue, then resolves
  // every queued request as kCancelled: async callbacks run inline on the
  // destroying thread (never through the notifier, whose target may already
  // be gone), and threads blocked in Acquire() wake up and return kCancelled.
  // Blocked threads are safe: they share ownership of the limiter's internal
  // state, which the last of them frees. Callbacks run here must not call
  // into the limiter, and no other call may race with the destructor.
  ~ConcurrencyLimiter();
  ConcurrencyLimiter(const ConcurrencyLimiter&) = delete;
  ConcurrencyLimiter& operator=(const ConcurrencyLimiter&) = delete;

  // ConcurrencyLimiter::TryAcquire()
  //
  // Takes a slot if one is free now; never queues. False while requests are
  // queued, since their slots are spoken for.
  bool TryAcquire();

  // ConcurrencyLimiter::Acquire()
  //
  // Blocks the calling thread until it is admitted, rejected or timed out.
  // Returns kAdmitted at once when a slot is free and kRejectedQueueFull at
  // once when the queue is full; otherwise waits in FIFO order for at most
  // min(`timeout`, options().queue_timeout) on the injected clock. With a
  // SteadyClock the wait times out by itself. With another clock the thread
  // sleeps on a per-waiter condition variable for the remaining clock time
  // in real time and re-checks the clock when woken, so a test that advances
  // a ManualClock calls ExpireWaiters() to time it out. A non-positive
  // `timeout` never queues: kTimedOut when no slot is free and the queue has
  // room. kCancelled when CancelAll() or the destructor withdraws it.
  AdmissionResult Acquire(absl::Duration timeout);

  // ConcurrencyLimiter::AcquireAsync()
  //
  // Calls `cb` exactly once with the result. kAdmitted (slot free) and
  // kRejectedQueueFull (queue full) are known at once: `cb` runs inline,
  // before AcquireAsync() returns, on the calling thread, and kNoWaiter is
  // returned. Otherwise the request is queued with deadline
  // now + options().queue_timeout and its id is returned; `cb` later gets
  // kAdmitted (Release()), kTimedOut (ExpireWaiters()) or kCancelled
  // (Cancel(), CancelAll(), destruction), delivered as described for
  // `completion_notifier`: through DispatchCompletions() when a notifier is
  // set, else on the resolving thread.
  WaiterId AcquireAsync(Callback cb);

  // ConcurrencyLimiter::Cancel()
  //
  // Withdraws the queued request `id`, resolving it as kCancelled (delivered
  // like every deferred result). False when `id` is no longer queued: it was
  // already resolved, or is kNoWaiter; its callback then runs (or ran) with
  // the other result, exactly once either way.
  bool Cancel(WaiterId id);

  // ConcurrencyLimiter::CancelAll()
  //
  // Withdraws every queued request (async and blocking) as kCancelled, for
  // shutdown. Returns how many.
  size_t CancelAll();

  // ConcurrencyLimiter::Release()
  //
  // Returns the slot of an admitted request. When requests are queued, the
  // oldest one is admitted with that slot. Calling it without a matching
  // admission is a host bug; it is ignored when nothing is in flight.
  void Release();

  // ConcurrencyLimiter::ExpireWaiters()
  //
  // Times out every queued request whose deadline has been reached on the
  // injected clock (a request exactly at its deadline has timed out).
  // Returns how many. Event-loop hosts call it from a timer armed with
  // TimeUntilNextDeadline().
  size_t ExpireWaiters();

  // ConcurrencyLimiter::TimeUntilNextDeadline()
  //
  // Time on the injected clock until the earliest queued deadline (zero if it
  // has passed); nullopt when nothing is queued.
  std::optional<absl::Duration> TimeUntilNextDeadline() const;

  // ConcurrencyLimiter::DispatchCompletions()
  //
  // Runs the callbacks that the completion notifier announced, on the calling
  // thread. Returns how many ran. Completions resolved by one thread run in
  // the order that thread resolved them; completions from different
  // resolving threads may interleave. Always 0 without a notifier.
  size_t DispatchCompletions();

  // ConcurrencyLimiter::RetryAfterHint()
  //
  // A Retry-After value for a kRejectedQueueFull answer, in whole seconds,
  // at least 1 s and at most max(1 s, queue_timeout rounded up). Estimated as
  // (queue_depth + 1) x the mean interval between Release() calls (an EWMA
  // with weight 0.2, on the injected clock): while the limiter is saturated,
  // releases are the queue's service rate, so that is about when a newcomer
  // would reach the head of the current queue. 1 s before any interval has
  // been observed. The average is updated without a lock, so two releases
  // at the same instant on two threads may fold in only one interval.
  absl::Duration RetryAfterHint() const;

  // ConcurrencyLimiter::in_flight()
  uint32_t in_flight() const;
  // ConcurrencyLimiter::queue_depth()
  size_t queue_depth() const;
  // ConcurrencyLimiter::stats()
  ConcurrencyLimiterStats stats() const;
  // ConcurrencyLimiter::options()
  const ConcurrencyLimiterOptions& options() const;

  // ConcurrencyLimiter::AwaitQueueDepthForTesting()
  //
  // Blocks until at least `depth` requests are queued or `timeout` of real
  // time passes; true in the first case. Lets tests sequence a thread that
  // is blocked in Acquire() without sleeping or polling.
  bool AwaitQueueDepthForTesting(size_t depth, absl::Duration timeout) const;

 private:
  class State;

  explicit ConcurrencyLimiter(std::shared_ptr<State> state);

  // Shared with threads blocked in Acquire(), so that destroying the limiter
  // under them is safe.
  std::shared_ptr<State> state_;
};

}  // namespace smg

#endif  // SMGCORE_CONCURRENCY_LIMITER_H_
