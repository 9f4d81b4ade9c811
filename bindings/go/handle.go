package vyomcomm

// #include "vcgo.h"
import "C"

import (
	"strings"
	"sync"
	"time"
	"unsafe"
)

// handle is the part every Go wrapper of a C handle shares. Locks are
// always taken in the order context, parent, handle: a call holds the
// read side of each for its whole duration, and Close takes the write
// side of its own, so a handle is never freed under a running call.
type handle struct {
	mu     sync.RWMutex
	p      unsafe.Pointer
	ctx    *Context
	parent *handle // the tenant of a campaign, whose handle it uses
	id     uint64  // its entry in the context's registry
}

// init registers p with the context so that Context.Close can free it
// if the caller never does. The registry holds the C pointer only, never
// the Go wrapper, so an unreachable wrapper is still finalized.
func (h *handle) init(c *Context, parent *handle, p unsafe.Pointer,
	free func(unsafe.Pointer)) {
	h.ctx = c
	h.parent = parent
	h.p = p
	h.id = c.register(p, free)
}

// acquire locks the context, the parent and the handle for reading and
// returns the C pointer; release undoes it. ErrClosed when any is closed.
func (h *handle) acquire() (unsafe.Pointer, error) {
	c := h.ctx
	c.mu.RLock()
	if c.p == nil {
		c.mu.RUnlock()
		return nil, ErrClosed
	}
	if h.parent != nil {
		h.parent.mu.RLock()
		if h.parent.p == nil {
			h.parent.mu.RUnlock()
			c.mu.RUnlock()
			return nil, ErrClosed
		}
	}
	h.mu.RLock()
	if h.p == nil {
		h.mu.RUnlock()
		if h.parent != nil {
			h.parent.mu.RUnlock()
		}
		c.mu.RUnlock()
		return nil, ErrClosed
	}
	return h.p, nil
}

func (h *handle) release() {
	h.mu.RUnlock()
	if h.parent != nil {
		h.parent.mu.RUnlock()
	}
	h.ctx.mu.RUnlock()
}

// close frees the C handle once; after Context.Close it only forgets it
// (the context freed it).
func (h *handle) close(free func(unsafe.Pointer)) {
	c := h.ctx
	if c == nil {
		return
	}
	c.mu.RLock()
	h.mu.Lock()
	if h.p != nil {
		if c.p != nil {
			free(h.p)
			c.unregister(h.id)
		}
		h.p = nil
	}
	h.mu.Unlock()
	c.mu.RUnlock()
}

// cstrs allocates C strings and arrays for one call and frees them all
// afterwards: Go memory is never kept by C past a call.
type cstrs struct {
	ptrs []unsafe.Pointer
	err  error
}

// str returns a C copy of s, or NULL for "" (the library's "not set").
func (a *cstrs) str(s string) *C.char {
	if s == "" {
		return nil
	}
	return a.always(s)
}

// cleared is str for a spec field an update can empty: "" when the
// spec's Clear names it (the field must then be empty), else str(s).
func (a *cstrs) cleared(s string, clear bool, field string) *C.char {
	if !clear {
		return a.str(s)
	}
	if s != "" && a.err == nil {
		a.err = goError(codeInvalid, field+" is both set and cleared")
	}
	return a.always("")
}

// always returns a C copy of s, "" included.
func (a *cstrs) always(s string) *C.char {
	if strings.IndexByte(s, 0) >= 0 && a.err == nil {
		a.err = goError(codeInvalid, "a string holds a NUL byte")
	}
	p := C.CString(s)
	a.ptrs = append(a.ptrs, unsafe.Pointer(p))
	return p
}

// array returns a C array of C copies of ss (NULL when ss is empty);
// with optional, an empty string is a NULL entry.
func (a *cstrs) array(ss []string, optional bool) **C.char {
	if len(ss) == 0 {
		return nil
	}
	mem := C.calloc(C.size_t(len(ss)), C.size_t(unsafe.Sizeof((*C.char)(nil))))
	a.ptrs = append(a.ptrs, mem)
	arr := unsafe.Slice((**C.char)(mem), len(ss))
	for i, s := range ss {
		if optional {
			arr[i] = a.str(s)
		} else {
			arr[i] = a.always(s)
		}
	}
	return (**C.char)(mem)
}

func (a *cstrs) free() {
	for _, p := range a.ptrs {
		C.free(p)
	}
	a.ptrs = nil
}

// msTime converts Unix milliseconds to a time; 0 is the zero time.
func msTime(ms C.int64_t) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(int64(ms))
}

// timeMs converts a time to Unix milliseconds; the zero time is 0.
func timeMs(t time.Time) C.int64_t {
	if t.IsZero() {
		return 0
	}
	return C.int64_t(t.UnixMilli())
}

func gostr(s *C.char) string {
	if s == nil {
		return ""
	}
	return C.GoString(s)
}

func cbool(b bool) C.int {
	if b {
		return 1
	}
	return 0
}
