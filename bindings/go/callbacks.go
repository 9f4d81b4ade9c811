package vyomcomm

// #include <stdint.h>
// #include <vyomcomm.h>
import "C"

import (
	"runtime/cgo"
	"time"
)

// The library's callbacks reach Go through these exported functions; the
// payload is a cgo.Handle naming the Go function, so no Go pointer is
// ever passed to C.

//export vcgoClock
func vcgoClock(h C.uintptr_t) C.int64_t {
	f := cgo.Handle(h).Value().(func() time.Time)
	return C.int64_t(f().UnixMilli())
}

//export vcgoLog
func vcgoLog(level C.int, msg *C.char, h C.uintptr_t) {
	f := cgo.Handle(h).Value().(func(int, string))
	defer func() { _ = recover() }()
	f(int(level), C.GoString(msg))
}

//export vcgoEvent
func vcgoEvent(ev *C.vc_event, h C.uintptr_t) (rc C.int) {
	f := cgo.Handle(h).Value().(func(Event) error)
	// A panicking handler must not unwind through C: the event is
	// offered again later, as for a handler that returned an error.
	defer func() {
		if recover() != nil {
			rc = 1
		}
	}()
	if f(eventFrom(ev)) != nil {
		return 1
	}
	return 0
}
