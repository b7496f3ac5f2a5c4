// ConcurrencyLimiter: FIFO hand-off, rejection, deadlines on a ManualClock,
// blocking and async waiters, exactly-once delivery, the completion
// notifier, cancellation and destruction. No test sleeps: threads are
// sequenced with notifications and AwaitQueueDepthForTesting().
#include "smgcore/concurrency_limiter.h"

#include <array>
#include <atomic>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace smg {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Generous real-time bound for waits that a working limiter ends at once.
constexpr absl::Duration kTestWait = absl::Seconds(30);

ConcurrencyLimiterOptions Opts(uint32_t max_in_flight, uint32_t max_queue = 100,
                               absl::Duration queue_timeout = absl::Seconds(60)) {
  ConcurrencyLimiterOptions o;
  o.max_in_flight = max_in_flight;
  o.max_queue = max_queue;
  o.queue_timeout = queue_timeout;
  return o;
}

// Per-waiter delivery record: how many times its callback ran, and with what.
struct Slot {
  std::atomic<int> calls{0};
  std::atomic<int> result{-1};
};

ConcurrencyLimiter::Callback Record(Slot* slot) {
  return [slot](AdmissionResult r) {
    slot->result.store(static_cast<int>(r));
    slot->calls.fetch_add(1);
  };
}

int Code(AdmissionResult r) { return static_cast<int>(r); }

// A thread blocked in Acquire(). Every wait on it is bounded in real time,
// so a broken limiter fails the test instead of hanging it: if the thread
// is still blocked at destruction, CancelAll() releases it before the join.
class BlockedAcquire {
 public:
  BlockedAcquire(ConcurrencyLimiter* limiter, absl::Duration timeout)
      : limiter_(limiter), thread_([this, timeout] {
          result_ = limiter_->Acquire(timeout);
          done_.Notify();
        }) {}
  ~BlockedAcquire() {
    if (!done_.HasBeenNotified()) limiter_->CancelAll();
    thread_.join();
  }

  // The result, once Acquire() returned; nullopt if it is still blocked
  // after kTestWait.
  std::optional<AdmissionResult> Result() {
    if (!done_.WaitForNotificationWithTimeout(kTestWait)) return std::nullopt;
    return result_;
  }
  // True while Acquire() has not returned (checked without waiting).
  bool Blocked() const { return !done_.HasBeenNotified(); }

 private:
  ConcurrencyLimiter* const limiter_;
  AdmissionResult result_ = AdmissionResult::kCancelled;
  absl::Notification done_;
  std::thread thread_;
};

class ConcurrencyLimiterTest : public ::testing::Test {
 protected:
  std::unique_ptr<ConcurrencyLimiter> Make(ConcurrencyLimiterOptions options) {
    absl::StatusOr<std::unique_ptr<ConcurrencyLimiter>> l =
        ConcurrencyLimiter::Create(std::move(options), &clock_);
    EXPECT_TRUE(l.ok()) << l.status();
    return l.ok() ? *std::move(l) : nullptr;
  }

  ManualClock clock_{1'000'000'000};
};

// --- Admission, FIFO, rejection ---------------------------------------------

TEST_F(ConcurrencyLimiterTest, AdmitsUpToMaxThenQueues) {
  auto l = Make(Opts(2));
  EXPECT_TRUE(l->TryAcquire());
  EXPECT_EQ(l->Acquire(kTestWait), AdmissionResult::kAdmitted);
  EXPECT_EQ(l->in_flight(), 2u);
  EXPECT_FALSE(l->TryAcquire());  // TryAcquire never queues
  EXPECT_EQ(l->queue_depth(), 0u);
  l->Release();
  EXPECT_EQ(l->in_flight(), 1u);
  EXPECT_TRUE(l->TryAcquire());
  const ConcurrencyLimiterStats s = l->stats();
  EXPECT_EQ(s.admitted, 3u);
  EXPECT_EQ(s.rejected, 1u);
  EXPECT_EQ(s.in_flight, 2u);
}

TEST_F(ConcurrencyLimiterTest, ImmediateResultsRunTheCallbackInline) {
  auto l = Make(Opts(1, /*max_queue=*/0));
  Slot admitted;
  EXPECT_EQ(l->AcquireAsync(Record(&admitted)), ConcurrencyLimiter::kNoWaiter);
  EXPECT_EQ(admitted.calls.load(), 1);  // before AcquireAsync returned
  EXPECT_EQ(admitted.result.load(), Code(AdmissionResult::kAdmitted));
  Slot rejected;
  EXPECT_EQ(l->AcquireAsync(Record(&rejected)), ConcurrencyLimiter::kNoWaiter);
  EXPECT_EQ(rejected.calls.load(), 1);
  EXPECT_EQ(rejected.result.load(), Code(AdmissionResult::kRejectedQueueFull));
}

TEST_F(ConcurrencyLimiterTest, QueuedWaitersAreAdmittedInFifoOrder) {
  constexpr int kWaiters = 16;
  auto l = Make(Opts(1, kWaiters));
  ASSERT_TRUE(l->TryAcquire());
  std::vector<int> order;
  for (int i = 0; i < kWaiters; ++i) {
    const ConcurrencyLimiter::WaiterId id = l->AcquireAsync([&order, i](AdmissionResult r) {
      EXPECT_EQ(r, AdmissionResult::kAdmitted);
      order.push_back(i);
    });
    EXPECT_NE(id, ConcurrencyLimiter::kNoWaiter);
  }
  EXPECT_EQ(l->queue_depth(), static_cast<size_t>(kWaiters));
  for (int i = 0; i < kWaiters; ++i) {
    l->Release();
    ASSERT_EQ(order.size(), static_cast<size_t>(i + 1));
    EXPECT_EQ(order.back(), i);
    EXPECT_EQ(l->in_flight(), 1u);  // the slot passed on, never exceeded
  }
  EXPECT_EQ(l->queue_depth(), 0u);
  l->Release();
  EXPECT_EQ(l->in_flight(), 0u);
  EXPECT_EQ(l->stats().admitted_after_wait, static_cast<uint64_t>(kWaiters));
}

TEST_F(ConcurrencyLimiterTest, ReleasedSlotCannotBeTakenByABarger) {
  auto l = Make(Opts(1));
  ASSERT_TRUE(l->TryAcquire());
  Slot waiter;
  l->AcquireAsync(Record(&waiter));
  l->Release();
  EXPECT_EQ(waiter.result.load(), Code(AdmissionResult::kAdmitted));
  EXPECT_FALSE(l->TryAcquire());
  EXPECT_EQ(l->Acquire(absl::ZeroDuration()), AdmissionResult::kTimedOut);
  EXPECT_EQ(l->in_flight(), 1u);
}

TEST_F(ConcurrencyLimiterTest, FullQueueRejectsAtOnce) {
  auto l = Make(Opts(1, /*max_queue=*/2));
  ASSERT_TRUE(l->TryAcquire());
  std::array<Slot, 3> slots;
  l->AcquireAsync(Record(&slots[0]));
  l->AcquireAsync(Record(&slots[1]));
  EXPECT_EQ(l->AcquireAsync(Record(&slots[2])), ConcurrencyLimiter::kNoWaiter);
  EXPECT_EQ(slots[2].result.load(), Code(AdmissionResult::kRejectedQueueFull));
  EXPECT_EQ(l->Acquire(kTestWait), AdmissionResult::kRejectedQueueFull);  // does not block
  EXPECT_EQ(slots[0].calls.load() + slots[1].calls.load(), 0);
  EXPECT_EQ(l->queue_depth(), 2u);
  EXPECT_EQ(l->stats().rejected, 2u);
}

TEST_F(ConcurrencyLimiterTest, ZeroQueueRejectsWhenAllSlotsAreBusy) {
  auto l = Make(Opts(1, /*max_queue=*/0));
  ASSERT_TRUE(l->TryAcquire());
  EXPECT_EQ(l->Acquire(kTestWait), AdmissionResult::kRejectedQueueFull);
  EXPECT_EQ(l->queue_depth(), 0u);
}

// --- Deadlines ----------------------------------------------------------------

TEST_F(ConcurrencyLimiterTest, ExpireWaitersTimesOutExactlyAtTheDeadline) {
  auto l = Make(Opts(1, 10, absl::Seconds(10)));
  ASSERT_TRUE(l->TryAcquire());
  EXPECT_EQ(l->TimeUntilNextDeadline(), std::nullopt);
  Slot a, b;
  l->AcquireAsync(Record(&a));
  clock_.Advance(absl::Seconds(4));
  l->AcquireAsync(Record(&b));
  EXPECT_EQ(l->TimeUntilNextDeadline(), absl::Seconds(6));

  clock_.Advance(absl::Seconds(6) - absl::Nanoseconds(1));
  EXPECT_EQ(l->ExpireWaiters(), 0u);
  EXPECT_EQ(a.calls.load(), 0);
  EXPECT_EQ(l->TimeUntilNextDeadline(), absl::Nanoseconds(1));

  clock_.Advance(absl::Nanoseconds(1));  // exactly a's deadline
  EXPECT_EQ(l->ExpireWaiters(), 1u);
  EXPECT_EQ(a.calls.load(), 1);
  EXPECT_EQ(a.result.load(), Code(AdmissionResult::kTimedOut));
  EXPECT_EQ(b.calls.load(), 0);
  EXPECT_EQ(l->queue_depth(), 1u);
  EXPECT_EQ(l->TimeUntilNextDeadline(), absl::Seconds(4));

  clock_.Advance(absl::Seconds(5));  // past b's deadline
  EXPECT_EQ(l->TimeUntilNextDeadline(), absl::ZeroDuration());
  EXPECT_EQ(l->ExpireWaiters(), 1u);
  EXPECT_EQ(b.result.load(), Code(AdmissionResult::kTimedOut));
  EXPECT_EQ(l->ExpireWaiters(), 0u);  // each waiter once

  const ConcurrencyLimiterStats s = l->stats();
  EXPECT_EQ(s.timed_out, 2u);
  EXPECT_EQ(s.total_queue_wait_nanos, absl::ToInt64Nanoseconds(absl::Seconds(10 + 11)));
  EXPECT_EQ(s.in_flight, 1u);  // timeouts do not touch the held slot
}

TEST_F(ConcurrencyLimiterTest, ExpiryDoesNotBreakFifoOfTheSurvivors) {
  auto l = Make(Opts(1, 10, absl::Seconds(10)));
  ASSERT_TRUE(l->TryAcquire());
  std::array<Slot, 3> s;
  l->AcquireAsync(Record(&s[0]));
  clock_.Advance(absl::Seconds(5));
  l->AcquireAsync(Record(&s[1]));
  l->AcquireAsync(Record(&s[2]));
  clock_.Advance(absl::Seconds(5));
  EXPECT_EQ(l->ExpireWaiters(), 1u);
  l->Release();
  EXPECT_EQ(s[1].result.load(), Code(AdmissionResult::kAdmitted));
  EXPECT_EQ(s[2].calls.load(), 0);
}

// --- Blocking Acquire ---------------------------------------------------------

TEST_F(ConcurrencyLimiterTest, BlockingAcquireIsAdmittedByAReleaseOnAnotherThread) {
  auto l = Make(Opts(1));
  ASSERT_TRUE(l->TryAcquire());
  BlockedAcquire waiter(l.get(), kTestWait);
  ASSERT_TRUE(l->AwaitQueueDepthForTesting(1, kTestWait));
  EXPECT_TRUE(waiter.Blocked());
  l->Release();
  EXPECT_EQ(waiter.Result(), AdmissionResult::kAdmitted);
  EXPECT_EQ(l->in_flight(), 1u);
  EXPECT_EQ(l->stats().admitted_after_wait, 1u);
}

TEST_F(ConcurrencyLimiterTest, BlockingWaitersAreAdmittedInArrivalOrder) {
  auto l = Make(Opts(1));
  ASSERT_TRUE(l->TryAcquire());
  BlockedAcquire first(l.get(), kTestWait);
  ASSERT_TRUE(l->AwaitQueueDepthForTesting(1, kTestWait));
  BlockedAcquire second(l.get(), kTestWait);
  ASSERT_TRUE(l->AwaitQueueDepthForTesting(2, kTestWait));
  l->Release();
  EXPECT_EQ(first.Result(), AdmissionResult::kAdmitted);
  EXPECT_TRUE(second.Blocked());
  EXPECT_EQ(l->queue_depth(), 1u);
  l->Release();
  EXPECT_EQ(second.Result(), AdmissionResult::kAdmitted);
}

TEST_F(ConcurrencyLimiterTest, BlockingAcquireTimesOutOnClockAdvanceAndExpire) {
  auto l = Make(Opts(1, 10, absl::Seconds(60)));
  ASSERT_TRUE(l->TryAcquire());
  BlockedAcquire waiter(l.get(), absl::Seconds(5));
  ASSERT_TRUE(l->AwaitQueueDepthForTesting(1, kTestWait));
  // The Acquire() timeout is shorter than queue_timeout, so it wins.
  EXPECT_EQ(l->TimeUntilNextDeadline(), absl::Seconds(5));
  clock_.Advance(absl::Seconds(5) - absl::Nanoseconds(1));
  EXPECT_EQ(l->ExpireWaiters(), 0u);
  EXPECT_TRUE(waiter.Blocked());
  clock_.Advance(absl::Nanoseconds(1));
  EXPECT_EQ(l->ExpireWaiters(), 1u);
  EXPECT_EQ(waiter.Result(), AdmissionResult::kTimedOut);
  EXPECT_EQ(l->in_flight(), 1u);
  EXPECT_EQ(l->queue_depth(), 0u);
}

TEST_F(ConcurrencyLimiterTest, NonPositiveTimeoutNeverQueues) {
  auto l = Make(Opts(1));
  ASSERT_TRUE(l->TryAcquire());
  EXPECT_EQ(l->Acquire(absl::ZeroDuration()), AdmissionResult::kTimedOut);
  EXPECT_EQ(l->Acquire(-absl::Seconds(1)), AdmissionResult::kTimedOut);
  EXPECT_EQ(l->queue_depth(), 0u);
  EXPECT_EQ(l->stats().timed_out, 2u);
}

// The one test on real time: with a SteadyClock a blocked Acquire() must end
// by itself, with nobody calling ExpireWaiters(). It waits 20 ms.
TEST(ConcurrencyLimiterSteadyClockTest, BlockingAcquireTimesOutByItself) {
  auto l = ConcurrencyLimiter::Create(Opts(1));
  ASSERT_TRUE(l.ok());
  ASSERT_TRUE((*l)->TryAcquire());
  {
    BlockedAcquire waiter(l->get(), absl::Milliseconds(20));
    EXPECT_EQ(waiter.Result(), AdmissionResult::kTimedOut);
  }
  EXPECT_EQ((*l)->queue_depth(), 0u);
  EXPECT_EQ((*l)->stats().timed_out, 1u);
}

// --- Exactly once -------------------------------------------------------------

// Release() on one thread races ExpireWaiters() on this one for the same
// waiters, every one of them already past its deadline: each waiter must be
// resolved exactly once, either admitted or timed out, and the slot count
// must stay consistent.
TEST_F(ConcurrencyLimiterTest, ReleaseRacingExpireResolvesEachWaiterExactlyOnce) {
  constexpr int kIterations = 200;
  constexpr int kWaiters = 8;
  for (int iter = 0; iter < kIterations; ++iter) {
    auto l = Make(Opts(1, kWaiters, absl::Seconds(1)));
    ASSERT_TRUE(l->TryAcquire());
    std::array<Slot, kWaiters> slots;
    for (Slot& s : slots) l->AcquireAsync(Record(&s));
    clock_.Advance(absl::Seconds(1));
    absl::Notification go;
    std::thread releaser([&] {
      go.WaitForNotification();
      for (int i = 0; i < kWaiters; ++i) l->Release();
    });
    go.Notify();
    const size_t expired = l->ExpireWaiters();
    releaser.join();

    int admitted = 0;
    for (const Slot& s : slots) {
      ASSERT_EQ(s.calls.load(), 1) << "iteration " << iter;
      admitted += s.result.load() == Code(AdmissionResult::kAdmitted) ? 1 : 0;
    }
    EXPECT_EQ(static_cast<size_t>(kWaiters - admitted), expired);
    const ConcurrencyLimiterStats st = l->stats();
    EXPECT_EQ(st.admitted_after_wait, static_cast<uint64_t>(admitted));
    EXPECT_EQ(st.timed_out, expired);
    EXPECT_EQ(st.queue_depth, 0u);
    // Each Release() admitted a waiter (keeping the slot busy) until the
    // queue was empty; the first release after that freed the slot.
    EXPECT_EQ(st.in_flight, admitted == kWaiters ? 1u : 0u) << "iteration " << iter;
  }
}

// --- Completion hand-off ------------------------------------------------------

TEST_F(ConcurrencyLimiterTest, NotifierDefersDeferredCallbacksToDispatch) {
  std::atomic<int> notified{0};
  ConcurrencyLimiterOptions o = Opts(1, 10, absl::Seconds(10));
  o.completion_notifier = [&notified] { notified.fetch_add(1); };
  auto l = Make(std::move(o));

  Slot immediate;
  l->AcquireAsync(Record(&immediate));
  EXPECT_EQ(immediate.calls.load(), 1);  // immediate results stay inline
  EXPECT_EQ(notified.load(), 0);

  std::array<Slot, 3> s;
  for (Slot& x : s) l->AcquireAsync(Record(&x));
  l->Release();
  EXPECT_EQ(notified.load(), 1);
  EXPECT_EQ(s[0].calls.load(), 0);  // not on the releasing thread
  EXPECT_EQ(l->DispatchCompletions(), 1u);
  EXPECT_EQ(s[0].result.load(), Code(AdmissionResult::kAdmitted));

  clock_.Advance(absl::Seconds(10));
  EXPECT_EQ(l->ExpireWaiters(), 2u);
  EXPECT_EQ(notified.load(), 2);  // one notification for the batch
  EXPECT_EQ(s[1].calls.load() + s[2].calls.load(), 0);
  EXPECT_EQ(l->DispatchCompletions(), 2u);
  EXPECT_EQ(s[1].result.load(), Code(AdmissionResult::kTimedOut));
  EXPECT_EQ(s[2].result.load(), Code(AdmissionResult::kTimedOut));
  EXPECT_EQ(l->DispatchCompletions(), 0u);
}

TEST_F(ConcurrencyLimiterTest, WithoutNotifierCallbacksRunOnTheResolvingThread) {
  auto l = Make(Opts(1));
  ASSERT_TRUE(l->TryAcquire());
  std::thread::id ran_on;
  l->AcquireAsync([&ran_on](AdmissionResult) { ran_on = std::this_thread::get_id(); });
  std::thread releaser([&] { l->Release(); });
  const std::thread::id releaser_id = releaser.get_id();
  releaser.join();
  EXPECT_EQ(ran_on, releaser_id);
  EXPECT_EQ(l->DispatchCompletions(), 0u);
}

TEST_F(ConcurrencyLimiterTest, CallbacksMayCallBackIntoTheLimiter) {
  auto l = Make(Opts(1));
  ASSERT_TRUE(l->TryAcquire());
  Slot second;
  // The first waiter's work is instant: it releases from its callback, which
  // must admit the second waiter (no lock is held while callbacks run).
  l->AcquireAsync([&](AdmissionResult r) {
    if (r == AdmissionResult::kAdmitted) l->Release();
  });
  l->AcquireAsync(Record(&second));
  l->Release();
  EXPECT_EQ(second.result.load(), Code(AdmissionResult::kAdmitted));
  EXPECT_EQ(l->in_flight(), 1u);
}

// --- Cancellation and destruction -----------------------------------------------

TEST_F(ConcurrencyLimiterTest, CancelWithdrawsAQueuedWaiterOnce) {
  auto l = Make(Opts(1));
  ASSERT_TRUE(l->TryAcquire());
  Slot a, b;
  const ConcurrencyLimiter::WaiterId ida = l->AcquireAsync(Record(&a));
  const ConcurrencyLimiter::WaiterId idb = l->AcquireAsync(Record(&b));
  EXPECT_NE(ida, idb);
  EXPECT_TRUE(l->Cancel(ida));
  EXPECT_EQ(a.calls.load(), 1);
  EXPECT_EQ(a.result.load(), Code(AdmissionResult::kCancelled));
  EXPECT_FALSE(l->Cancel(ida));
  EXPECT_FALSE(l->Cancel(ConcurrencyLimiter::kNoWaiter));
  l->Release();  // b is now the oldest
  EXPECT_EQ(b.result.load(), Code(AdmissionResult::kAdmitted));
  EXPECT_FALSE(l->Cancel(idb));  // already resolved: no second call
  EXPECT_EQ(b.calls.load(), 1);
  EXPECT_EQ(a.calls.load(), 1);
  EXPECT_EQ(l->stats().cancelled, 1u);
}

TEST_F(ConcurrencyLimiterTest, CancelAllWithdrawsEveryWaiter) {
  auto l = Make(Opts(1));
  ASSERT_TRUE(l->TryAcquire());
  std::array<Slot, 3> s;
  for (Slot& x : s) l->AcquireAsync(Record(&x));
  BlockedAcquire waiter(l.get(), kTestWait);
  ASSERT_TRUE(l->AwaitQueueDepthForTesting(4, kTestWait));
  EXPECT_EQ(l->CancelAll(), 4u);
  EXPECT_EQ(waiter.Result(), AdmissionResult::kCancelled);
  for (const Slot& x : s) {
    EXPECT_EQ(x.calls.load(), 1);
    EXPECT_EQ(x.result.load(), Code(AdmissionResult::kCancelled));
  }
  EXPECT_EQ(l->queue_depth(), 0u);
  EXPECT_EQ(l->in_flight(), 1u);
}

TEST_F(ConcurrencyLimiterTest, DestructorCancelsQueuedAsyncWaitersExactlyOnce) {
  std::atomic<int> notified{0};
  ConcurrencyLimiterOptions o = Opts(1);
  o.completion_notifier = [&notified] { notified.fetch_add(1); };
  auto l = Make(std::move(o));
  ASSERT_TRUE(l->TryAcquire());
  std::array<Slot, 3> s;
  for (Slot& x : s) l->AcquireAsync(Record(&x));
  l->Release();  // s[0] admitted, but its callback is still undispatched
  ASSERT_EQ(notified.load(), 1);
  EXPECT_EQ(s[0].calls.load(), 0);
  l.reset();
  EXPECT_EQ(notified.load(), 1);  // the destructor never notifies
  EXPECT_EQ(s[0].calls.load(), 1);
  EXPECT_EQ(s[0].result.load(), Code(AdmissionResult::kAdmitted));
  for (int i : {1, 2}) {
    EXPECT_EQ(s[i].calls.load(), 1);
    EXPECT_EQ(s[i].result.load(), Code(AdmissionResult::kCancelled));
  }
}

TEST_F(ConcurrencyLimiterTest, DestroyingTheLimiterWakesABlockedThread) {
  auto l = Make(Opts(1));
  ASSERT_TRUE(l->TryAcquire());
  BlockedAcquire waiter(l.get(), kTestWait);
  ASSERT_TRUE(l->AwaitQueueDepthForTesting(1, kTestWait));
  l.reset();  // the waiter still holds the shared state; ASan checks the rest
  EXPECT_EQ(waiter.Result(), AdmissionResult::kCancelled);
}

// --- Stress -----------------------------------------------------------------------

// `threads` threads repeatedly acquire (blocking and async) and release
// `slots` slots: the number holding one must never exceed `slots`, and every
// acquisition ends. On the SteadyClock, so that a lost wake-up ends as a
// timeout (a failure) rather than a hang. Releases race with threads that
// are about to queue, which is where the lock-free fast path meets the queue.
void RunHoldStress(int threads, uint32_t slots) {
  constexpr int kIterations = 1000;
  absl::StatusOr<std::unique_ptr<ConcurrencyLimiter>> created =
      ConcurrencyLimiter::Create(Opts(slots, static_cast<uint32_t>(threads)));
  ASSERT_TRUE(created.ok());
  ConcurrencyLimiter* l = created->get();
  std::atomic<int> holders{0};
  std::atomic<int> max_holders{0};
  std::atomic<int> failures{0};
  auto hold = [&] {
    const int now = holders.fetch_add(1) + 1;
    int seen = max_holders.load();
    while (now > seen && !max_holders.compare_exchange_weak(seen, now)) {
    }
    // Hold the slot a little (bounded, no sleep) so that an extra holder,
    // if the limiter let one in, would overlap.
    for (int k = 0; k < 8; ++k) {
      if (l->in_flight() > slots) failures.fetch_add(1);
      std::this_thread::yield();
    }
    holders.fetch_sub(1);
    l->Release();
  };
  absl::Notification go;
  auto worker = [&] {
    go.WaitForNotification();
    for (int i = 0; i < kIterations; ++i) {
      AdmissionResult r = AdmissionResult::kCancelled;
      if (i % 2 == 0) {
        r = l->Acquire(kTestWait);
      } else {
        // Shared with the callback, which a broken limiter might run late.
        struct Pending {
          absl::Notification done;
          AdmissionResult result = AdmissionResult::kCancelled;
        };
        auto pending = std::make_shared<Pending>();
        l->AcquireAsync([pending](AdmissionResult got) {
          pending->result = got;
          pending->done.Notify();
        });
        if (!pending->done.WaitForNotificationWithTimeout(kTestWait)) {
          failures.fetch_add(1);
          return;
        }
        r = pending->result;
      }
      if (r != AdmissionResult::kAdmitted) {
        failures.fetch_add(1);
        continue;
      }
      hold();
    }
  };
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) pool.emplace_back(worker);
  go.Notify();
  for (std::thread& t : pool) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_LE(max_holders.load(), static_cast<int>(slots));
  EXPECT_EQ(l->in_flight(), 0u);
  EXPECT_EQ(l->queue_depth(), 0u);
  EXPECT_EQ(l->stats().admitted, static_cast<uint64_t>(threads) * kIterations);
}

TEST(ConcurrencyLimiterStressTest, InFlightNeverExceedsMaxUnderTwoThreads) { RunHoldStress(2, 1); }

TEST(ConcurrencyLimiterStressTest, InFlightNeverExceedsMaxUnderFourThreadsAndTwoSlots) {
  RunHoldStress(4, 2);
}

// --- Retry-After --------------------------------------------------------------------

TEST_F(ConcurrencyLimiterTest, RetryAfterHintFollowsReleaseIntervals) {
  auto l = Make(Opts(1, 10, absl::Seconds(60)));
  EXPECT_EQ(l->RetryAfterHint(), absl::Seconds(1));  // nothing observed yet
  ASSERT_TRUE(l->TryAcquire());
  l->Release();  // first release: no interval yet
  EXPECT_EQ(l->RetryAfterHint(), absl::Seconds(1));
  ASSERT_TRUE(l->TryAcquire());
  clock_.Advance(absl::Seconds(2));
  l->Release();  // interval 2 s: the average starts there
  ASSERT_TRUE(l->TryAcquire());
  Slot a, b;
  l->AcquireAsync(Record(&a));
  l->AcquireAsync(Record(&b));
  EXPECT_EQ(l->RetryAfterHint(), absl::Seconds(6));  // (2 queued + 1) x 2 s
  clock_.Advance(absl::Seconds(7));
  l->Release();  // interval 7 s: 2 + 0.2 x (7 - 2) = 3 s; a admitted, b left
  EXPECT_EQ(l->RetryAfterHint(), absl::Seconds(6));  // (1 + 1) x 3 s
  clock_.Advance(absl::Milliseconds(100));
  l->Release();  // interval 0.1 s: 3 + 0.2 x (0.1 - 3) = 2.42 s; queue empty
  EXPECT_EQ(l->RetryAfterHint(), absl::Seconds(3));  // 2.42 s rounded up
}

TEST_F(ConcurrencyLimiterTest, RetryAfterHintIsCappedByTheQueueTimeout) {
  auto l = Make(Opts(1, 10, absl::Milliseconds(4500)));
  ASSERT_TRUE(l->TryAcquire());
  l->Release();
  ASSERT_TRUE(l->TryAcquire());
  clock_.Advance(absl::Seconds(30));
  l->Release();
  EXPECT_EQ(l->RetryAfterHint(), absl::Seconds(5));  // 4.5 s rounded up
}

// --- Options and names --------------------------------------------------------------

TEST_F(ConcurrencyLimiterTest, InvalidOptionsAreRejectedWithTheField) {
  struct Case {
    ConcurrencyLimiterOptions options;
    const char* needle;
  };
  std::vector<Case> cases;
  cases.push_back({Opts(0), "max_in_flight: must be at least 1 (got 0)"});
  cases.push_back({Opts(1, (1u << 20) + 1), "max_queue: 1048577 is above the maximum 1048576"});
  cases.push_back({Opts(1, 1, absl::ZeroDuration()), "queue_timeout: must be positive"});
  cases.push_back({Opts(1, 1, -absl::Seconds(1)), "(got -1s)"});
  cases.push_back({Opts(1, 1, absl::InfiniteDuration()), "(got inf)"});
  cases.push_back({Opts(1, 1, absl::Hours(25)), "(got 25h)"});
  for (Case& c : cases) {
    absl::Status s = ValidateConcurrencyLimiterOptions(c.options);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.needle;
    EXPECT_THAT(s.message(), HasSubstr(c.needle));
    EXPECT_THAT(s.message(), HasSubstr("ConcurrencyLimiterOptions."));
    EXPECT_EQ(ConcurrencyLimiter::Create(std::move(c.options), &clock_).status().code(),
              absl::StatusCode::kInvalidArgument);
  }
  EXPECT_TRUE(ValidateConcurrencyLimiterOptions(Opts(1, 1u << 20, absl::Hours(24))).ok());
  EXPECT_TRUE(ValidateConcurrencyLimiterOptions(Opts(1, 0)).ok());
}

TEST(AdmissionResultTest, NamesAndHttpStatuses) {
  const AdmissionResult all[] = {AdmissionResult::kAdmitted, AdmissionResult::kRejectedQueueFull,
                                 AdmissionResult::kTimedOut, AdmissionResult::kCancelled};
  std::vector<absl::string_view> names;
  std::vector<int> codes;
  for (AdmissionResult r : all) {
    names.push_back(AdmissionResultName(r));
    codes.push_back(AdmissionResultHttpStatus(r));
  }
  EXPECT_THAT(names, ElementsAre("admitted", "rejected_queue_full", "timed_out", "cancelled"));
  EXPECT_THAT(codes, ElementsAre(200, 429, 408, 503));
}

}  // namespace
}  // namespace smg
