// File: capi/src/clock_api.cc
//
// Manual clocks. A clock's storage is never freed: workers, tickets and
// reservations keep reading the clock they were built with (the C++ core
// holds it by pointer), so only the handle dies on destroy.
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "boxes.h"
#include "errors.h"

namespace {

// Every clock ever created, reachable for the life of the process (so leak
// checkers see them as live, which they are).
class ClockArena {
 public:
  smg::ManualClock* Make(int64_t start) {
    absl::MutexLock lock(&mu_);
    clocks_.push_back(std::make_unique<smg::ManualClock>(start));
    return clocks_.back().get();
  }

 private:
  absl::Mutex mu_;
  std::vector<std::unique_ptr<smg::ManualClock>> clocks_ ABSL_GUARDED_BY(mu_);
};

ClockArena& Arena() {
  static ClockArena* const arena = new ClockArena();
  return *arena;
}

}  // namespace

extern "C" {

smg_code_t smg_manual_clock_create(int64_t start_ns, smg_manual_clock_t** clock_out) {
  return smg::capi::Guarded(nullptr, [&]() -> smg_code_t {
    if (clock_out == nullptr || start_ns < 0) return SMG_ERR_INVALID_ARGUMENT;
    smg::ManualClock* clock = Arena().Make(start_ns);
    *clock_out = reinterpret_cast<smg_manual_clock_t*>(
        smg::capi::RegisterHandle(smg::capi::HandleKind::kManualClock, clock));
    return SMG_OK;
  });
}

void smg_manual_clock_destroy(smg_manual_clock_t* clock) {
  smg::capi::GuardedVoid(
      [&] { smg::capi::UnregisterHandle(clock, smg::capi::HandleKind::kManualClock); });
}

smg_code_t smg_manual_clock_advance(smg_manual_clock_t* clock, int64_t delta_ns) {
  smg::ManualClock* c = smg::capi::Get(clock);
  if (c == nullptr) return SMG_ERR_INVALID_HANDLE;
  if (delta_ns < 0) return SMG_ERR_INVALID_ARGUMENT;
  c->Advance(absl::Nanoseconds(delta_ns));
  return SMG_OK;
}

smg_code_t smg_manual_clock_now(const smg_manual_clock_t* clock, int64_t* now_ns_out) {
  const smg::ManualClock* c = smg::capi::Get(clock);
  if (c == nullptr) return SMG_ERR_INVALID_HANDLE;
  if (now_ns_out == nullptr) return SMG_ERR_INVALID_ARGUMENT;
  *now_ns_out = c->NowNanos();
  return SMG_OK;
}

}  // extern "C"
