package smgcore

/*
#include <stdint.h>
#include <smgcore/smgcore_c.h>

// Exported from callback.go.
extern void smgGoAdmission(void* user_data, uint8_t result);

// Passes a cgo.Handle (a uintptr) as the callback's void* user_data. The
// integer-to-pointer conversion happens here in C: done in Go it would be an
// unsafe.Pointer made from a uintptr, which go vet and the GC's pointer
// checks rightly distrust.
static smg_code_t smg_go_acquire_async(smg_limiter_t* limiter, uintptr_t handle,
                                       uint64_t* waiter_out) {
  return smg_limiter_acquire_async(limiter, smgGoAdmission, (void*)handle, waiter_out);
}
*/
import "C"

import (
	"runtime/cgo"
	"sync/atomic"
	"time"
)

// pendingCallbacks counts AcquireAsync callbacks not yet delivered (their
// cgo.Handles still live); tests check that it returns to zero.
var pendingCallbacks atomic.Int64

// Admission is the result of an admission (SMG_ADMISSION_*).
type Admission uint8

const (
	Admitted           Admission = C.SMG_ADMISSION_ADMITTED
	RejectedQueueFull  Admission = C.SMG_ADMISSION_REJECTED_QUEUE_FULL
	TimedOut           Admission = C.SMG_ADMISSION_TIMED_OUT
	AdmissionCancelled Admission = C.SMG_ADMISSION_CANCELLED
)

func (a Admission) String() string { return enumName(C.SMG_ENUM_ADMISSION, uint32(a)) }

// LimiterConfig is a concurrency limiter's settings.
type LimiterConfig struct {
	// MaxInFlight is the most requests admitted at once (>= 1).
	MaxInFlight uint32
	// MaxQueue is the most requests waiting; 0 disables the queue.
	MaxQueue uint32
	// QueueTimeout is the longest wait in the queue; 0 means 60 s.
	QueueTimeout time.Duration
}

// LimiterStats are a limiter's counters since creation.
type LimiterStats struct {
	InFlight          uint32
	QueueDepth        uint64
	Admitted          uint64
	AdmittedAfterWait uint64
	Rejected          uint64
	TimedOut          uint64
	Cancelled         uint64
}

// Limiter caps in-flight requests, with a FIFO wait queue. Every method may
// be called from any number of goroutines at once, except Close, which must
// be the last call.
type Limiter struct{ raw *C.smg_limiter_t }

func NewLimiter(config LimiterConfig) (*Limiter, error) {
	var cfg C.smg_limiter_config_t
	C.smg_limiter_config_init(&cfg)
	cfg.max_in_flight = C.uint32_t(config.MaxInFlight)
	cfg.max_queue = C.uint32_t(config.MaxQueue)
	if config.QueueTimeout != 0 {
		cfg.queue_timeout_ns = C.int64_t(config.QueueTimeout)
	}
	var raw *C.smg_limiter_t
	var cerr *C.smg_error_t
	code := C.smg_limiter_create(&cfg, nil, &raw, &cerr)
	if err := takeError(code, cerr); err != nil {
		return nil, err
	}
	return &Limiter{raw}, nil
}

// Close destroys the limiter; queued admissions get AdmissionCancelled
// (their callbacks run on this goroutine before Close returns).
func (l *Limiter) Close() {
	C.smg_limiter_destroy(l.raw)
	l.raw = nil
}

// TryAcquire takes a slot if one is free now; it never queues.
func (l *Limiter) TryAcquire() (bool, error) {
	var acquired C.uint8_t
	if err := takeError(C.smg_limiter_try_acquire(l.raw, &acquired), nil); err != nil {
		return false, err
	}
	return acquired != 0, nil
}

// AcquireAsync asks for a slot; fn receives the result exactly once. When
// the result is known at once (a free slot, or a full queue) fn runs before
// AcquireAsync returns and the waiter is 0; otherwise the request is queued,
// the waiter names it for Cancel, and fn runs later on the goroutine whose
// call resolves it (Release, Cancel, Expire or Close). fn must not block:
// hand the result to a channel or start a goroutine.
func (l *Limiter) AcquireAsync(fn func(Admission)) (waiter uint64, err error) {
	h := cgo.NewHandle(fn)
	pendingCallbacks.Add(1)
	var w C.uint64_t
	if err = takeError(C.smg_go_acquire_async(l.raw, C.uintptr_t(h), &w), nil); err != nil {
		// On an error the library never calls fn.
		h.Delete()
		pendingCallbacks.Add(-1)
		return 0, err
	}
	return uint64(w), nil
}

// Cancel withdraws a queued request (its callback gets AdmissionCancelled)
// and reports whether it was still queued.
func (l *Limiter) Cancel(waiter uint64) (bool, error) {
	var cancelled C.uint8_t
	if err := takeError(C.smg_limiter_cancel(l.raw, C.uint64_t(waiter), &cancelled), nil); err != nil {
		return false, err
	}
	return cancelled != 0, nil
}

// Release returns an admitted request's slot, handing it to the oldest
// waiter (whose callback runs inside this call).
func (l *Limiter) Release() error {
	return takeError(C.smg_limiter_release(l.raw), nil)
}

// Expire times out queued requests whose deadline passed and returns how
// many; call it from a timer.
func (l *Limiter) Expire() (int, error) {
	var n C.uint64_t
	if err := takeError(C.smg_limiter_expire(l.raw, &n), nil); err != nil {
		return 0, err
	}
	return int(n), nil
}

// Stats returns the limiter's counters.
func (l *Limiter) Stats() (LimiterStats, error) {
	var s C.smg_limiter_stats_t
	if err := takeError(C.smg_limiter_get_stats(l.raw, &s), nil); err != nil {
		return LimiterStats{}, err
	}
	return LimiterStats{
		InFlight:          uint32(s.in_flight),
		QueueDepth:        uint64(s.queue_depth),
		Admitted:          uint64(s.admitted),
		AdmittedAfterWait: uint64(s.admitted_after_wait),
		Rejected:          uint64(s.rejected),
		TimedOut:          uint64(s.timed_out),
		Cancelled:         uint64(s.cancelled),
	}, nil
}
