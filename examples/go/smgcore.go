// Package smgcore is a Go host of smgcore's C ABI (libsmgcore_c.so): a thin,
// cgo-only wrapper with a Router for prefill-decode and regular routing and a
// Limiter whose asynchronous admissions call back into Go through
// runtime/cgo.Handle.
//
// Every type that owns a C handle has a Close method that must be its last
// call; there are no finalizers, so an unclosed object leaks its handle.
// Routers and limiters may be used from any number of goroutines; options,
// policy configurations and tickets by one goroutine at a time.
//
// Building needs the header and the library, passed through the environment
// (the #cgo directive below only names the library):
//
//	CGO_CFLAGS="-I$SRC/capi/include" \
//	CGO_LDFLAGS="-L$BUILD/capi -Wl,-rpath,$BUILD/capi" go test ./...
package smgcore

/*
#cgo LDFLAGS: -lsmgcore_c
#include <stdlib.h>
#include <smgcore/smgcore_c.h>
*/
import "C"

import (
	"fmt"
	"reflect"
	"time"
	"unsafe"
)

// ABIVersion is the C ABI version this package was written for.
const ABIVersion = 1

// LibraryABIVersion is the ABI version of the loaded libsmgcore_c.
func LibraryABIVersion() int { return int(C.smg_abi_version()) }

// CheckABI reports an error when the loaded library speaks another ABI
// version; call it once at startup (convention 9 of the header).
func CheckABI() error {
	if v := LibraryABIVersion(); v != ABIVersion {
		return fmt.Errorf("smgcore: libsmgcore_c speaks ABI %d, this package was written for ABI %d", v, ABIVersion)
	}
	return nil
}

// Version is the loaded library's release, "major.minor.patch".
func Version() string { return C.GoString(C.smg_version_string()) }

// Code is a call's result, one of the C ABI's SMG_ERR_* values.
type Code int32

const (
	OK                 Code = C.SMG_OK
	InvalidArgument    Code = C.SMG_ERR_INVALID_ARGUMENT
	InvalidHandle      Code = C.SMG_ERR_INVALID_HANDLE
	NotFound           Code = C.SMG_ERR_NOT_FOUND
	AlreadyExists      Code = C.SMG_ERR_ALREADY_EXISTS
	Unavailable        Code = C.SMG_ERR_UNAVAILABLE
	ResourceExhausted  Code = C.SMG_ERR_RESOURCE_EXHAUSTED
	FailedPrecondition Code = C.SMG_ERR_FAILED_PRECONDITION
	Internal           Code = C.SMG_ERR_INTERNAL
)

// String is the library's name of the code, e.g. "SMG_ERR_NOT_FOUND".
func (c Code) String() string { return C.GoString(C.smg_code_name(C.smg_code_t(c))) }

// Error is a failed call: its code and the library's explanation.
type Error struct {
	Code    Code
	Message string
	// RetryAfter is the hint of a ResourceExhausted error, or -1.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	if e.Message == "" {
		return "smgcore: " + e.Code.String()
	}
	return "smgcore: " + e.Code.String() + ": " + e.Message
}

// Is makes errors.Is(err, smgcore.ErrNotFound) compare codes.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Sentinels for errors.Is.
var (
	ErrInvalidArgument    = &Error{Code: InvalidArgument, RetryAfter: -1}
	ErrInvalidHandle      = &Error{Code: InvalidHandle, RetryAfter: -1}
	ErrNotFound           = &Error{Code: NotFound, RetryAfter: -1}
	ErrAlreadyExists      = &Error{Code: AlreadyExists, RetryAfter: -1}
	ErrUnavailable        = &Error{Code: Unavailable, RetryAfter: -1}
	ErrResourceExhausted  = &Error{Code: ResourceExhausted, RetryAfter: -1}
	ErrFailedPrecondition = &Error{Code: FailedPrecondition, RetryAfter: -1}
	ErrInternal           = &Error{Code: Internal, RetryAfter: -1}
)

// takeError turns a failed call's code and owned error object (may be nil)
// into an *Error, freeing the object; nil for SMG_OK.
func takeError(code C.smg_code_t, cerr *C.smg_error_t) error {
	if code == C.SMG_OK {
		return nil
	}
	e := &Error{Code: Code(code), RetryAfter: -1}
	if cerr != nil {
		e.Message = goString(C.smg_error_message(cerr))
		if ns := C.smg_error_retry_after_ns(cerr); ns >= 0 {
			e.RetryAfter = time.Duration(ns)
		}
		C.smg_error_destroy(cerr)
	}
	return e
}

// goString copies a library string (pointer + length) into Go memory.
func goString(s C.smg_str_t) string {
	if s.len == 0 {
		return ""
	}
	return C.GoStringN(s.data, C.int(s.len))
}

// strData points at s's bytes without copying (nil for ""), for the C
// ABI's pointer + length strings. cgo allows passing it: the bytes hold no
// Go pointers, and a pointer passed as a C call's argument is kept alive
// until the call returns. Never store it in C memory. (Go 1.20's
// unsafe.StringData does the same; the module targets Debian 12's Go 1.19.)
func strData(s string) *C.char {
	if len(s) == 0 {
		return nil
	}
	return (*C.char)(unsafe.Pointer((*reflect.StringHeader)(unsafe.Pointer(&s)).Data))
}
