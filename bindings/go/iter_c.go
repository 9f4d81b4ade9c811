package vyomcomm

// #include "vcgo.h"
import "C"

import (
	"runtime"
	"unsafe"
)

// The C side of Iter, kept out of the generic code.

func iterFree(p unsafe.Pointer) { C.vc_iter_free((*C.vc_iter)(p)) }

// iterEnd is the error a list's next function ends on with rc < 0: none
// at the list's end.
func iterEnd(rc C.int, e *C.vcgo_err) error {
	if rc == C.VC_ITEROVER {
		return nil
	}
	return errorFrom(rc, e)
}

func iterCursor(p unsafe.Pointer) string {
	return C.GoString(C.vc_iter_cursor((*C.vc_iter)(p)))
}

type closer interface{ Close() error }

func setIterFinalizer(it closer) {
	runtime.SetFinalizer(it, func(c closer) { c.Close() })
}
