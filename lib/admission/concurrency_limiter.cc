// ConcurrencyLimiter: a slot count in one atomic word, a FIFO of waiters
// under a mutex, and a lock-free hand-off of resolved callbacks to the host's
// loop thread.
#include "smgcore/concurrency_limiter.h"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <limits>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "concurrentqueue/concurrentqueue.h"

namespace smg {

absl::string_view AdmissionResultName(AdmissionResult result) {
  switch (result) {
    case AdmissionResult::kAdmitted: return "admitted";
    case AdmissionResult::kRejectedQueueFull: return "rejected_queue_full";
    case AdmissionResult::kTimedOut: return "timed_out";
    case AdmissionResult::kCancelled: return "cancelled";
  }
  return "unknown";
}

int AdmissionResultHttpStatus(AdmissionResult result) {
  switch (result) {
    case AdmissionResult::kAdmitted: return 200;
    case AdmissionResult::kRejectedQueueFull: return 429;
    case AdmissionResult::kTimedOut: return 408;
    case AdmissionResult::kCancelled: return 503;
  }
  return 500;
}

absl::Status ValidateConcurrencyLimiterOptions(const ConcurrencyLimiterOptions& options) {
  if (options.max_in_flight == 0) {
    return absl::InvalidArgumentError(
        "ConcurrencyLimiterOptions.max_in_flight: must be at least 1 (got 0)");
  }
  if (options.max_queue > kMaxConcurrencyLimiterQueue) {
    return absl::InvalidArgumentError(
        absl::StrCat("ConcurrencyLimiterOptions.max_queue: ", options.max_queue,
                     " is above the maximum ", kMaxConcurrencyLimiterQueue));
  }
  if (options.queue_timeout <= absl::ZeroDuration() ||
      options.queue_timeout > kMaxConcurrencyLimiterQueueTimeout) {
    return absl::InvalidArgumentError(absl::StrCat(
        "ConcurrencyLimiterOptions.queue_timeout: must be positive and at most ",
        absl::FormatDuration(kMaxConcurrencyLimiterQueueTimeout), " (got ",
        absl::FormatDuration(options.queue_timeout), ")"));
  }
  return absl::OkStatus();
}

namespace {

// The signal a thread blocked in Acquire() waits on. It lives on that
// thread's stack; the resolver writes it under the limiter's mutex, and the
// thread reads it only after re-acquiring that mutex, so it stays alive for
// as long as anyone can touch it.
struct SyncWait {
  absl::CondVar cv;
  bool done = false;
  AdmissionResult result = AdmissionResult::kTimedOut;
};

// A queued request.
struct Waiter {
  int64_t enqueued_nanos = 0;
  int64_t deadline_nanos = 0;
  // Set for a blocking Acquire(); null for AcquireAsync().
  SyncWait* sync = nullptr;
  // AcquireAsync()'s callback.
  ConcurrencyLimiter::Callback cb;
};

// A resolved AcquireAsync() request whose callback has not run yet.
struct Completion {
  ConcurrencyLimiter::Callback cb;
  AdmissionResult result = AdmissionResult::kCancelled;
};

using CompletionList = absl::InlinedVector<Completion, 2>;

// EWMA weight of the newest Release() interval in the Retry-After estimate:
// about the last ten releases matter.
constexpr double kReleaseIntervalWeight = 0.2;

// moodycamel's default preallocation (6 blocks of 32 slots), spent only by
// limiters that hand completions off.
constexpr size_t kCompletionQueueInitialCapacity = 6 * 32;

}  // namespace

// ConcurrencyLimiter::State
//
// The wait queue is two ordered indexes under `mu_`: `fifo_`, waiters keyed
// by a sequence number (key order is arrival order, and the key is the
// WaiterId), and `deadlines_`, (deadline, id) pairs for ExpireWaiters() and
// TimeUntilNextDeadline(). Deadlines are not in arrival order, because
// Acquire() timeouts differ. Keying the FIFO by id gives Cancel() its lookup
// and O(log n) removal from the middle without the separate id -> node map
// an intrusive list would need. A moodycamel queue cannot be the wait queue: it
// is FIFO only per producer, so two threads' waiters could be admitted out of
// order, and it cannot remove a timed-out or cancelled waiter from the
// middle. It is used where those limits do not matter: handing resolved
// callbacks from the releasing threads (many producers) to the host's loop
// thread (one consumer) without a lock.
//
// The slot count lives outside the mutex, in `word_`: the in-flight count
// and a "queued" bit, set exactly while `fifo_` is non-empty and changed only
// under `mu_`. While the bit is clear, admitting (a CAS that stays below the
// maximum) and releasing (a CAS down) never take the mutex: the common case
// of a limiter with free slots costs one atomic operation on one line per
// call. While it is set, every admission and release goes through the
// mutex, where a release hands its slot to the oldest waiter, so nobody
// barges past the queue. A thread that is about to queue sets the bit with
// a CAS on the word it saw full: a release that freed a slot meanwhile makes
// that CAS fail, and the thread takes the slot instead of waiting for a
// release that already happened.
class ConcurrencyLimiter::State {
 public:
  State(ConcurrencyLimiterOptions options, const Clock* clock)
      : options_(std::move(options)),
        clock_(clock),
        queue_timeout_nanos_(absl::ToInt64Nanoseconds(options_.queue_timeout)),
        // Without a notifier nothing is ever enqueued: preallocate nothing.
        completions_(options_.completion_notifier ? kCompletionQueueInitialCapacity : 0) {}

  bool TryAcquire() {
    if (TryTakeSlot()) return true;
    rejected_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }

  AdmissionResult Acquire(absl::Duration timeout) {
    if (TryTakeSlot()) return AdmissionResult::kAdmitted;
    absl::MutexLock lock(&mu_);
    const int64_t budget = std::min(absl::ToInt64Nanoseconds(timeout), queue_timeout_nanos_);
    if (std::optional<AdmissionResult> now_result = ImmediateLocked(/*may_queue=*/budget > 0)) {
      return *now_result;
    }
    if (budget <= 0) {
      ++stats_.timed_out;
      return AdmissionResult::kTimedOut;
    }
    const int64_t start = clock_->NowNanos();
    const int64_t deadline = start + budget;
    SyncWait wait;
    const uint64_t id = EnqueueLocked(Waiter{start, deadline, &wait, nullptr});
    // Wait for as long as the injected clock says is left, then look at the
    // clock again: a SteadyClock times out here by itself, while a clock that
    // does not follow real time relies on ExpireWaiters() to resolve us.
    while (!wait.done) {
      const int64_t t = clock_->NowNanos();
      if (t >= deadline) {
        CompletionList none;  // a blocking waiter produces no completion
        ResolveLocked(fifo_.find(id), AdmissionResult::kTimedOut, t, &none);
        break;
      }
      wait.cv.WaitWithTimeout(&mu_, absl::Nanoseconds(deadline - t));
    }
    return wait.result;
  }

  WaiterId AcquireAsync(Callback cb) {
    std::optional<AdmissionResult> result;
    if (TryTakeSlot()) {
      result = AdmissionResult::kAdmitted;
    } else {
      absl::MutexLock lock(&mu_);
      result = ImmediateLocked(/*may_queue=*/true);
      if (!result.has_value()) {
        const int64_t now = clock_->NowNanos();
        return EnqueueLocked(Waiter{now, now + queue_timeout_nanos_, nullptr, std::move(cb)});
      }
    }
    std::move(cb)(*result);
    return kNoWaiter;
  }

  bool Cancel(WaiterId id) {
    CompletionList done;
    {
      absl::MutexLock lock(&mu_);
      auto it = fifo_.find(id);
      // Blocking waiters' ids are never handed out, so they cannot be named.
      if (it == fifo_.end() || it->second.sync != nullptr) return false;
      ResolveLocked(it, AdmissionResult::kCancelled, clock_->NowNanos(), &done);
    }
    Deliver(done, /*use_notifier=*/true);
    return true;
  }

  size_t CancelAll(bool use_notifier) {
    CompletionList done;
    size_t n = 0;
    {
      absl::MutexLock lock(&mu_);
      const int64_t now = clock_->NowNanos();
      for (; !fifo_.empty(); ++n) {
        ResolveLocked(fifo_.begin(), AdmissionResult::kCancelled, now, &done);
      }
    }
    Deliver(done, use_notifier);
    return n;
  }

  void Release() {
    const int64_t now = clock_->NowNanos();
    RecordRelease(now);
    uint64_t word = word_.load(std::memory_order_relaxed);
    while ((word & kQueued) == 0) {
      if (word == 0) return;  // nothing in flight: a host bug, ignored
      if (word_.compare_exchange_weak(word, word - 1, std::memory_order_acq_rel,
                                      std::memory_order_relaxed)) {
        return;
      }
    }
    CompletionList done;
    {
      absl::MutexLock lock(&mu_);
      if (!fifo_.empty()) {
        // The slot passes to the oldest waiter: the count stays the same.
        ResolveLocked(fifo_.begin(), AdmissionResult::kAdmitted, now, &done);
      } else {
        // The queue emptied (timeouts, cancellations) since the bit was
        // seen; the bit is clear now and only this mutex sets it again.
        TakeBackSlotLocked();
      }
    }
    Deliver(done, /*use_notifier=*/true);
  }

  size_t ExpireWaiters() {
    CompletionList done;
    size_t n = 0;
    {
      absl::MutexLock lock(&mu_);
      const int64_t now = clock_->NowNanos();
      for (; !deadlines_.empty() && deadlines_.begin()->first <= now; ++n) {
        const uint64_t id = deadlines_.begin()->second;
        ResolveLocked(fifo_.find(id), AdmissionResult::kTimedOut, now, &done);
      }
    }
    Deliver(done, /*use_notifier=*/true);
    return n;
  }

  std::optional<absl::Duration> TimeUntilNextDeadline() const {
    absl::MutexLock lock(&mu_);
    if (deadlines_.empty()) return std::nullopt;
    const int64_t left = deadlines_.begin()->first - clock_->NowNanos();
    return absl::Nanoseconds(std::max<int64_t>(0, left));
  }

  size_t DispatchCompletions() {
    size_t n = 0;
    Completion c;
    // Ends: each completion is one resolved waiter, and callbacks that
    // resolve more can only do so for waiters that exist.
    while (completions_.try_dequeue(c)) {
      std::move(c.cb)(c.result);
      ++n;
    }
    return n;
  }

  absl::Duration RetryAfterHint() const {
    const int64_t cap_seconds = std::max<int64_t>(
        1, absl::ToInt64Seconds(absl::Ceil(options_.queue_timeout, absl::Seconds(1))));
    const double interval = std::bit_cast<double>(release_interval_bits_.load(std::memory_order_relaxed));
    if (std::isnan(interval)) return absl::Seconds(1);
    const double estimate_nanos = interval * static_cast<double>(queue_depth() + 1);
    const double seconds = std::ceil(estimate_nanos / 1e9);
    // Compared in double: the estimate may exceed int64 seconds in theory.
    if (seconds >= static_cast<double>(cap_seconds)) return absl::Seconds(cap_seconds);
    return absl::Seconds(std::max<int64_t>(1, static_cast<int64_t>(seconds)));
  }

  ConcurrencyLimiterStats stats() const {
    absl::MutexLock lock(&mu_);
    ConcurrencyLimiterStats s = stats_;
    s.in_flight = in_flight();
    s.queue_depth = fifo_.size();
    s.admitted = admitted_.load(std::memory_order_relaxed);
    s.rejected = rejected_.load(std::memory_order_relaxed);
    return s;
  }

  uint32_t in_flight() const {
    return static_cast<uint32_t>(word_.load(std::memory_order_relaxed) & kCountMask);
  }

  size_t queue_depth() const {
    absl::MutexLock lock(&mu_);
    return fifo_.size();
  }

  bool AwaitQueueDepth(size_t depth, absl::Duration timeout) const {
    absl::MutexLock lock(&mu_);
    auto reached = [this, depth]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return fifo_.size() >= depth;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&reached), timeout);
  }

  const ConcurrencyLimiterOptions& options() const { return options_; }

 private:
  // Takes a slot if one is free and nobody is queued. Lock-free.
  bool TryTakeSlot() {
    uint64_t word = word_.load(std::memory_order_relaxed);
    while ((word & kQueued) == 0 && word < options_.max_in_flight) {
      if (word_.compare_exchange_weak(word, word + 1, std::memory_order_acq_rel,
                                      std::memory_order_relaxed)) {
        admitted_.fetch_add(1, std::memory_order_relaxed);
        return true;
      }
    }
    return false;
  }

  // The result of a request that need not queue: kAdmitted when a slot is
  // free, kRejectedQueueFull when the queue is full. Otherwise nullopt, and
  // when `may_queue` the queued bit is set: the caller must then enqueue
  // before it unlocks. A free slot implies an empty queue (Release() hands
  // slots to waiters), so nobody barges.
  std::optional<AdmissionResult> ImmediateLocked(bool may_queue) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    uint64_t word = word_.load(std::memory_order_relaxed);
    while (true) {
      if ((word & kQueued) == 0 && word < options_.max_in_flight) {
        if (word_.compare_exchange_weak(word, word + 1, std::memory_order_acq_rel,
                                        std::memory_order_relaxed)) {
          admitted_.fetch_add(1, std::memory_order_relaxed);
          return AdmissionResult::kAdmitted;
        }
        continue;
      }
      if (fifo_.size() >= options_.max_queue) {
        rejected_.fetch_add(1, std::memory_order_relaxed);
        return AdmissionResult::kRejectedQueueFull;
      }
      if (!may_queue || (word & kQueued) != 0) return std::nullopt;
      // Every slot is taken: mark the queue, unless a release got in first.
      if (word_.compare_exchange_weak(word, word | kQueued, std::memory_order_acq_rel,
                                      std::memory_order_relaxed)) {
        return std::nullopt;
      }
    }
  }

  // Gives a slot back while the queue is empty, under mu_ (the bit may have
  // been cleared since the caller saw it set).
  void TakeBackSlotLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    uint64_t word = word_.load(std::memory_order_relaxed);
    while ((word & kCountMask) != 0 &&
           !word_.compare_exchange_weak(word, word - 1, std::memory_order_acq_rel,
                                        std::memory_order_relaxed)) {
    }
  }

  uint64_t EnqueueLocked(Waiter w) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    const uint64_t id = next_id_++;
    deadlines_.emplace(w.deadline_nanos, id);
    fifo_.emplace(id, std::move(w));
    return id;
  }

  // Removes the waiter at `it` from both indexes and resolves it with `r`:
  // a blocking waiter is signalled; an async waiter's callback goes to `out`
  // for the caller to deliver after unlocking. Each waiter is removed exactly
  // once under `mu_`, and only its remover resolves it: that is the
  // exactly-once guarantee.
  void ResolveLocked(absl::btree_map<uint64_t, Waiter>::iterator it, AdmissionResult r,
                     int64_t now, CompletionList* out) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    const uint64_t id = it->first;
    Waiter w = std::move(it->second);
    fifo_.erase(it);
    deadlines_.erase({w.deadline_nanos, id});
    if (fifo_.empty()) word_.fetch_and(~kQueued, std::memory_order_acq_rel);
    stats_.total_queue_wait_nanos += std::max<int64_t>(0, now - w.enqueued_nanos);
    switch (r) {
      case AdmissionResult::kAdmitted:
        admitted_.fetch_add(1, std::memory_order_relaxed);
        ++stats_.admitted_after_wait;
        break;
      case AdmissionResult::kTimedOut: ++stats_.timed_out; break;
      case AdmissionResult::kCancelled: ++stats_.cancelled; break;
      case AdmissionResult::kRejectedQueueFull:
        rejected_.fetch_add(1, std::memory_order_relaxed);
        break;
    }
    if (w.sync != nullptr) {
      w.sync->result = r;
      w.sync->done = true;
      w.sync->cv.Signal();
    } else {
      out->push_back(Completion{std::move(w.cb), r});
    }
  }

  // Runs or hands off resolved callbacks; called with no lock held.
  void Deliver(CompletionList& done, bool use_notifier) {
    if (done.empty()) return;
    if (use_notifier && options_.completion_notifier) {
      for (Completion& c : done) {
        // enqueue() fails only when it cannot allocate; the callback then
        // runs here rather than being lost.
        if (!completions_.enqueue(std::move(c)) && c.cb) std::move(c.cb)(c.result);
      }
      options_.completion_notifier();
      return;
    }
    for (Completion& c : done) std::move(c.cb)(c.result);
  }

  // Folds the interval since the previous release into the EWMA, without a
  // lock. Releases racing on two threads may each fold their interval into
  // the same old average, losing one update: an estimate can afford that.
  void RecordRelease(int64_t now) {
    const int64_t last = last_release_nanos_.exchange(now, std::memory_order_relaxed);
    if (last == kNeverReleased) return;
    const auto interval = static_cast<double>(std::max<int64_t>(0, now - last));
    const double ewma = std::bit_cast<double>(release_interval_bits_.load(std::memory_order_relaxed));
    const double next = std::isnan(ewma) ? interval : ewma + kReleaseIntervalWeight * (interval - ewma);
    release_interval_bits_.store(std::bit_cast<uint64_t>(next), std::memory_order_relaxed);
  }

  // Not const: the notifier is called through it (possibly concurrently, as
  // documented for hosts).
  ConcurrencyLimiterOptions options_;
  const Clock* const clock_;
  const int64_t queue_timeout_nanos_;

  // The hot line: every admission and release touches it.
  static constexpr uint64_t kCountMask = 0xffffffffu;
  static constexpr uint64_t kQueued = uint64_t{1} << 32;
  static constexpr int64_t kNeverReleased = std::numeric_limits<int64_t>::min();
  alignas(64) std::atomic<uint64_t> word_{0};  // in flight | kQueued
  std::atomic<uint64_t> admitted_{0};
  std::atomic<uint64_t> rejected_{0};
  std::atomic<int64_t> last_release_nanos_{kNeverReleased};
  // The EWMA of release intervals in nanoseconds, as double bits; NaN until
  // a second release gives the first interval.
  std::atomic<uint64_t> release_interval_bits_{std::bit_cast<uint64_t>(std::numeric_limits<double>::quiet_NaN())};

  alignas(64) mutable absl::Mutex mu_;
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = kNoWaiter + 1;
  absl::btree_map<uint64_t, Waiter> fifo_ ABSL_GUARDED_BY(mu_);
  absl::btree_set<std::pair<int64_t, uint64_t>> deadlines_ ABSL_GUARDED_BY(mu_);
  // The fields kept under mu_ (in_flight, queue_depth, admitted and
  // rejected are filled in by stats()).
  ConcurrencyLimiterStats stats_ ABSL_GUARDED_BY(mu_);

  moodycamel::ConcurrentQueue<Completion> completions_;
};

absl::StatusOr<std::unique_ptr<ConcurrencyLimiter>> ConcurrencyLimiter::Create(
    ConcurrencyLimiterOptions options, const Clock* clock) {
  if (absl::Status s = ValidateConcurrencyLimiterOptions(options); !s.ok()) return s;
  if (clock == nullptr) clock = &SteadyClock::Instance();
  return std::unique_ptr<ConcurrencyLimiter>(
      new ConcurrencyLimiter(std::make_shared<State>(std::move(options), clock)));
}

ConcurrencyLimiter::ConcurrencyLimiter(std::shared_ptr<State> state) : state_(std::move(state)) {}

ConcurrencyLimiter::~ConcurrencyLimiter() {
  // Older results first, then the withdrawn waiters, all on this thread.
  state_->DispatchCompletions();
  state_->CancelAll(/*use_notifier=*/false);
}

bool ConcurrencyLimiter::TryAcquire() { return state_->TryAcquire(); }

AdmissionResult ConcurrencyLimiter::Acquire(absl::Duration timeout) {
  // The copy keeps the state alive if the limiter is destroyed while this
  // thread waits.
  const std::shared_ptr<State> state = state_;
  return state->Acquire(timeout);
}

ConcurrencyLimiter::WaiterId ConcurrencyLimiter::AcquireAsync(Callback cb) {
  return state_->AcquireAsync(std::move(cb));
}

bool ConcurrencyLimiter::Cancel(WaiterId id) { return state_->Cancel(id); }
size_t ConcurrencyLimiter::CancelAll() { return state_->CancelAll(/*use_notifier=*/true); }
void ConcurrencyLimiter::Release() { state_->Release(); }
size_t ConcurrencyLimiter::ExpireWaiters() { return state_->ExpireWaiters(); }

std::optional<absl::Duration> ConcurrencyLimiter::TimeUntilNextDeadline() const {
  return state_->TimeUntilNextDeadline();
}

size_t ConcurrencyLimiter::DispatchCompletions() { return state_->DispatchCompletions(); }
absl::Duration ConcurrencyLimiter::RetryAfterHint() const { return state_->RetryAfterHint(); }
uint32_t ConcurrencyLimiter::in_flight() const { return state_->in_flight(); }
size_t ConcurrencyLimiter::queue_depth() const { return state_->queue_depth(); }
ConcurrencyLimiterStats ConcurrencyLimiter::stats() const { return state_->stats(); }

const ConcurrencyLimiterOptions& ConcurrencyLimiter::options() const {
  return state_->options();
}

bool ConcurrencyLimiter::AwaitQueueDepthForTesting(size_t depth, absl::Duration timeout) const {
  return state_->AwaitQueueDepth(depth, timeout);
}

}  // namespace smg
