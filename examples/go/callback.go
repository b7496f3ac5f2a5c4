package smgcore

// The C side of the limiter's callbacks. A file with //export may only
// declare C functions in its preamble, so the helper that hands this
// function to the library lives in limiter.go.

/*
#include <stdint.h>
*/
import "C"

import (
	"runtime/cgo"
	"unsafe"
)

// smgGoAdmission is the smg_admission_fn of every Limiter.AcquireAsync. Its
// user_data is a cgo.Handle naming the Go callback: C must never hold a Go
// pointer, and a handle is just a number. The library calls it exactly once
// per admission, so the handle is deleted here.
//
//export smgGoAdmission
func smgGoAdmission(userData unsafe.Pointer, result C.uint8_t) {
	h := cgo.Handle(uintptr(userData))
	fn := h.Value().(func(Admission))
	h.Delete()
	pendingCallbacks.Add(-1)
	fn(Admission(result))
}
