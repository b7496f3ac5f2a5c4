// ConcurrencyLimiter driven from a real libuv loop, the way an event-loop
// host embeds it: the completion notifier is uv_async_send(), the async
// handle's callback runs DispatchCompletions() on the loop thread, and
// another thread releases slots.
#include <uv.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "smgcore/concurrency_limiter.h"

namespace smg {
namespace {

constexpr int kWaiters = 32;
// Safety net only: a working limiter finishes in milliseconds.
constexpr uint64_t kDeadlineMs = 5000;

struct LoopState {
  uv_loop_t loop;
  uv_async_t wake;
  uv_timer_t deadline;
  ConcurrencyLimiter* limiter = nullptr;
  std::thread::id loop_thread;
  std::vector<int> admitted_order;  // loop thread only
  int callbacks_off_loop = 0;       // loop thread only
  bool timed_out = false;
};

TEST(ConcurrencyLimiterUvTest, DeferredCallbacksArriveOnTheLoopThread) {
  LoopState st;
  ASSERT_EQ(uv_loop_init(&st.loop), 0);
  st.loop.data = &st;
  ASSERT_EQ(uv_async_init(&st.loop, &st.wake,
                          [](uv_async_t* h) {
                            auto* s = static_cast<LoopState*>(h->loop->data);
                            s->limiter->DispatchCompletions();
                          }),
            0);
  ASSERT_EQ(uv_timer_init(&st.loop, &st.deadline), 0);
  ASSERT_EQ(uv_timer_start(
                &st.deadline,
                [](uv_timer_t* h) {
                  static_cast<LoopState*>(h->loop->data)->timed_out = true;
                  uv_stop(h->loop);
                },
                kDeadlineMs, 0),
            0);

  ConcurrencyLimiterOptions options;
  options.max_in_flight = 1;
  options.max_queue = kWaiters;
  options.completion_notifier = [&st] { uv_async_send(&st.wake); };
  absl::StatusOr<std::unique_ptr<ConcurrencyLimiter>> limiter =
      ConcurrencyLimiter::Create(std::move(options));
  ASSERT_TRUE(limiter.ok()) << limiter.status();
  st.limiter = limiter->get();
  st.loop_thread = std::this_thread::get_id();

  ASSERT_TRUE(st.limiter->TryAcquire());
  for (int i = 0; i < kWaiters; ++i) {
    st.limiter->AcquireAsync([&st, i](AdmissionResult r) {
      if (std::this_thread::get_id() != st.loop_thread) ++st.callbacks_off_loop;
      if (r == AdmissionResult::kAdmitted) st.admitted_order.push_back(i);
      if (st.admitted_order.size() == static_cast<size_t>(kWaiters)) uv_stop(&st.loop);
    });
  }
  ASSERT_EQ(st.limiter->queue_depth(), static_cast<size_t>(kWaiters));

  // Each release hands the slot to the next waiter; one producer thread, so
  // its completions reach the loop in order.
  std::thread releaser([&st] {
    for (int i = 0; i < kWaiters; ++i) st.limiter->Release();
  });
  uv_run(&st.loop, UV_RUN_DEFAULT);
  releaser.join();

  EXPECT_FALSE(st.timed_out) << "only " << st.admitted_order.size() << " callbacks arrived";
  EXPECT_EQ(st.callbacks_off_loop, 0);
  ASSERT_EQ(st.admitted_order.size(), static_cast<size_t>(kWaiters));
  for (int i = 0; i < kWaiters; ++i) EXPECT_EQ(st.admitted_order[static_cast<size_t>(i)], i);
  EXPECT_EQ(st.limiter->in_flight(), 1u);
  EXPECT_EQ(st.limiter->DispatchCompletions(), 0u);

  // The releaser is joined, so nothing can call uv_async_send() any more.
  limiter->reset();
  uv_close(reinterpret_cast<uv_handle_t*>(&st.wake), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&st.deadline), nullptr);
  uv_run(&st.loop, UV_RUN_DEFAULT);
  EXPECT_EQ(uv_loop_close(&st.loop), 0);
}

}  // namespace
}  // namespace smg
