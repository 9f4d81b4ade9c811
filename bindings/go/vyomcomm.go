// Package vyomcomm binds libvyomcomm, the embeddable library for
// multi-tenant messaging and click-to-call, with cgo.
//
// Build against an installed library (pkg-config finds it):
//
//	CGO_CFLAGS="$(pkg-config --cflags vyomcomm)" \
//	CGO_LDFLAGS="$(pkg-config --libs vyomcomm)" go build
//
// or against a build tree:
//
//	CGO_CFLAGS="-I$SRC/include" CGO_LDFLAGS="-L$BUILD/src" \
//	LD_LIBRARY_PATH=$BUILD/src go test
//
// Every library call goes through a small C helper that reads the
// library's thread-local error detail in the same C call as the failure
// (a goroutine may change OS threads between two cgo calls). Errors are
// *Error values that match the sentinels with errors.Is. Handles
// (Context, Tenant, Channel, Template, Call, Campaign, Iter) have an
// idempotent Close, with a finalizer only as a fallback; Message,
// Contact and Event are plain values copied out of the library. No Go
// pointer is kept by C: strings are copied to C memory for each call
// and freed after it, and callbacks reach Go through runtime/cgo
// handles.
package vyomcomm

// #cgo LDFLAGS: -lvyomcomm
// #include "vcgo.h"
import "C"

// Version is the library's version string at run time.
func Version() string { return C.GoString(C.vc_version_string()) }
