package vyomcomm

import "unsafe"

// Iter reads a list a page at a time from the store (a vc_iter):
//
//	it, err := tenant.Messages(vyomcomm.MessageFilter{})
//	if err != nil { ... }
//	defer it.Close()
//	for it.Next() {
//		m := it.Value()
//		...
//	}
//	if err := it.Err(); err != nil { ... }
//
// An Iter is used by one goroutine at a time. Items that are handles
// (tenants) are closed by the caller; the others are plain values.
type Iter[T any] struct {
	h    handle
	next func(p unsafe.Pointer) (T, error, bool)
	cur  T
	err  error
	done bool
}

func newIter[T any](c *Context, parent *handle, p unsafe.Pointer,
	next func(p unsafe.Pointer) (T, error, bool)) *Iter[T] {
	it := &Iter[T]{next: next}
	it.h.init(c, parent, p, iterFree)
	setIterFinalizer(it)
	return it
}

// Next advances to the next item; false at the end or on an error.
func (it *Iter[T]) Next() bool {
	if it.done {
		return false
	}
	p, err := it.h.acquire()
	if err != nil {
		it.err, it.done = err, true
		return false
	}
	defer it.h.release()
	v, err, ok := it.next(p)
	if err != nil || !ok {
		var zero T
		it.cur, it.err, it.done = zero, err, true
		return false
	}
	it.cur = v
	return true
}

// Value is the item Next moved to.
func (it *Iter[T]) Value() T { return it.cur }

// Err is the error that ended the iteration, nil at a normal end.
func (it *Iter[T]) Err() error { return it.err }

// Cursor is the position after the last item returned, to pass as the
// After field of the list's filter to resume later.
func (it *Iter[T]) Cursor() string {
	p, err := it.h.acquire()
	if err != nil {
		return ""
	}
	defer it.h.release()
	return iterCursor(p)
}

// Close frees the iterator; calling it again does nothing.
func (it *Iter[T]) Close() error {
	it.h.close(iterFree)
	it.done = true
	return nil
}
