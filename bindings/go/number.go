package vyomcomm

// #include "vcgo.h"
import "C"

import (
	"runtime"
	"time"
	"unsafe"
)

// NumberEntry is where a call to an inbound number goes first
// (vc_number_entry).
type NumberEntry int

const (
	EntryIVR   NumberEntry = 1
	EntryQueue NumberEntry = 2
	EntryAgent NumberEntry = 3
)

func (k NumberEntry) String() string {
	return C.GoString(C.vc_number_entry_name(C.int(k)))
}

// NumberField names a field of NumberSpec that Update can empty, which
// an empty string cannot say (it keeps the current value).
type NumberField uint

const (
	NumberLabel NumberField = 1 << iota
)

// NumberSpec creates or updates an inbound number (vc_number_spec). For
// NewNumber every field but Label is required; for Update, empty
// strings and a zero EntryKind keep the current value, and Clear
// empties the fields it names.
type NumberSpec struct {
	Number    string // E.164 (separators, a leading "00") or a sip:/sips: URI
	Channel   string // the voice channel calls arrive on, by id or name
	EntryKind NumberEntry
	Entry     string // the menu, queue or agent, by id or name
	Label     string
	Clear     NumberField // fields to empty, which must then be ""
}

func (a *cstrs) numberSpec(s *C.vc_number_spec, spec *NumberSpec) error {
	C.vc_number_spec_init(s, C.VC_NUMBER_SPEC_VERSION)
	s.number = a.str(spec.Number)
	s.channel = a.str(spec.Channel)
	s.entry_kind = C.int(spec.EntryKind)
	s.entry = a.str(spec.Entry)
	s.label = a.cleared(spec.Label, spec.Clear&NumberLabel != 0, "NumberSpec.Label")
	return a.err
}

// Number is an inbound-number handle (vc_number): a snapshot of the
// stored number. Safe to share between goroutines.
type Number struct {
	h  handle
	id string
}

func freeNumber(p unsafe.Pointer) { C.vc_number_free((*C.vc_number)(p)) }

func newNumber(c *Context, p *C.vc_number) *Number {
	n := &Number{id: C.GoString(C.vc_number_id(p))}
	n.h.init(c, nil, unsafe.Pointer(p), freeNumber)
	runtime.SetFinalizer(n, func(n *Number) { n.Close() })
	return n
}

// NewNumber stores an inbound number. ErrInvalid (a malformed or
// national number, a channel that is not a voice channel), ErrNotFound
// (no such channel, menu, queue or agent), ErrExists (the number is
// taken, by this tenant or another).
func (t *Tenant) NewNumber(spec NumberSpec) (*Number, error) {
	tp, err := t.acquire()
	if err != nil {
		return nil, err
	}
	defer t.release()
	var a cstrs
	defer a.free()
	var s C.vc_number_spec
	if err := a.numberSpec(&s, &spec); err != nil {
		return nil, err
	}
	var n *C.vc_number
	var e C.vcgo_err
	if rc := C.vcgo_number_new(&n, tp, &s, &e); rc < 0 {
		return nil, errorFrom(rc, &e)
	}
	return newNumber(t.h.ctx, n), nil
}

func (t *Tenant) loadNumber(key string,
	f func(out **C.vc_number, tp *C.vc_tenant, key *C.char, e *C.vcgo_err) C.int) (*Number, error) {
	tp, err := t.acquire()
	if err != nil {
		return nil, err
	}
	defer t.release()
	var a cstrs
	defer a.free()
	ck := a.always(key)
	if a.err != nil {
		return nil, a.err
	}
	var n *C.vc_number
	var e C.vcgo_err
	if rc := f(&n, tp, ck, &e); rc < 0 {
		return nil, errorFrom(rc, &e)
	}
	return newNumber(t.h.ctx, n), nil
}

// LookupNumber loads a number by id.
func (t *Tenant) LookupNumber(id string) (*Number, error) {
	return t.loadNumber(id, func(out **C.vc_number, tp *C.vc_tenant, k *C.char, e *C.vcgo_err) C.int {
		return C.vcgo_number_lookup(out, tp, k, e)
	})
}

// FindNumber loads the tenant's number that number denotes, written as
// a provider writes it ("+91 44 1234 5678", "044 1234 5678", ...).
// ErrNotFound when none of the tenant's, ErrInvalid when malformed or
// a national number of two countries.
func (t *Tenant) FindNumber(number string) (*Number, error) {
	return t.loadNumber(number, func(out **C.vc_number, tp *C.vc_tenant, k *C.char, e *C.vcgo_err) C.int {
		return C.vcgo_number_find(out, tp, k, e)
	})
}

// NumberFilter says which numbers Numbers lists, in creation order.
type NumberFilter struct {
	After     string
	EntryKind NumberEntry // 0 = any
	EntryID   string      // only numbers to this menu, queue or agent id
	ChannelID string      // only numbers arriving on this channel id
}

// Numbers lists the tenant's inbound numbers; close each one.
func (t *Tenant) Numbers(filter NumberFilter) (*Iter[*Number], error) {
	tp, err := t.acquire()
	if err != nil {
		return nil, err
	}
	defer t.release()
	var a cstrs
	defer a.free()
	var f C.vc_number_filter
	C.vc_number_filter_init(&f, C.VC_NUMBER_FILTER_VERSION)
	f.after = a.str(filter.After)
	f.entry_kind = C.int(filter.EntryKind)
	f.entry_id = a.str(filter.EntryID)
	f.channel_id = a.str(filter.ChannelID)
	if a.err != nil {
		return nil, a.err
	}
	var it *C.vc_iter
	var e C.vcgo_err
	if rc := C.vcgo_number_list(&it, tp, &f, &e); rc < 0 {
		return nil, errorFrom(rc, &e)
	}
	c := t.h.ctx
	return newIter(c, nil, unsafe.Pointer(it),
		func(ip unsafe.Pointer) (*Number, error, bool) {
			var n *C.vc_number
			var e C.vcgo_err
			rc := C.vcgo_number_next(&n, (*C.vc_iter)(ip), &e)
			if rc < 0 {
				return nil, iterEnd(rc, &e), false
			}
			return newNumber(c, n), nil, true
		}), nil
}

// Close frees the handle; calling it again does nothing.
func (n *Number) Close() error {
	n.h.close(freeNumber)
	return nil
}

// ID is the number's id.
func (n *Number) ID() string { return n.id }

func (n *Number) do(f func(p *C.vc_number, e *C.vcgo_err) C.int) error {
	p, err := n.h.acquire()
	if err != nil {
		return err
	}
	defer n.h.release()
	var e C.vcgo_err
	return errorFrom(f((*C.vc_number)(p), &e), &e)
}

func (n *Number) get(f func(p *C.vc_number)) {
	p, err := n.h.acquire()
	if err != nil {
		return
	}
	defer n.h.release()
	f((*C.vc_number)(p))
}

// Update changes the number's settings; the handle shows the new
// values. Errors as NewNumber's, ErrNotFound when deleted.
func (n *Number) Update(spec NumberSpec) error {
	var a cstrs
	defer a.free()
	var s C.vc_number_spec
	if err := a.numberSpec(&s, &spec); err != nil {
		return err
	}
	return n.do(func(p *C.vc_number, e *C.vcgo_err) C.int {
		return C.vcgo_number_update(p, &s, e)
	})
}

// Delete deletes the number: calls to it are refused from now on. The
// getters keep the last snapshot. ErrNotFound when already deleted.
func (n *Number) Delete() error {
	return n.do(func(p *C.vc_number, e *C.vcgo_err) C.int {
		return C.vcgo_number_delete(p, e)
	})
}

// Number is the normalized number or SIP URI.
func (n *Number) Number() (s string) {
	n.get(func(p *C.vc_number) { s = gostr(C.vc_number_number(p)) })
	return
}

// ChannelID, EntryID and Label read the snapshot.
func (n *Number) ChannelID() (s string) {
	n.get(func(p *C.vc_number) { s = gostr(C.vc_number_channel_id(p)) })
	return
}
func (n *Number) EntryID() (s string) {
	n.get(func(p *C.vc_number) { s = gostr(C.vc_number_entry_id(p)) })
	return
}
func (n *Number) Label() (s string) {
	n.get(func(p *C.vc_number) { s = gostr(C.vc_number_label(p)) })
	return
}

// EntryKind is where calls to the number go first.
func (n *Number) EntryKind() (k NumberEntry) {
	n.get(func(p *C.vc_number) { k = NumberEntry(C.vc_number_entry_kind(p)) })
	return
}

// CreatedAt and UpdatedAt: when the number was stored and last changed.
func (n *Number) CreatedAt() (t time.Time) {
	n.get(func(p *C.vc_number) { t = msTime(C.vc_number_created_at(p)) })
	return
}
func (n *Number) UpdatedAt() (t time.Time) {
	n.get(func(p *C.vc_number) { t = msTime(C.vc_number_updated_at(p)) })
	return
}
