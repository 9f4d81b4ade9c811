package vyomcomm

// #include "vcgo.h"
import "C"

import (
	"time"
	"unsafe"
)

// Event is one entry of the event log, copied out of the library.
type Event struct {
	Seq         uint64
	TenantID    string
	Type        string // "message.sent", "call.completed", ...
	SubjectID   string
	PayloadJSON string
	CreatedAt   time.Time
}

func eventFrom(ev *C.vc_event) Event {
	return Event{
		Seq:         uint64(ev.seq),
		TenantID:    gostr(ev.tenant_id),
		Type:        gostr(ev._type),
		SubjectID:   gostr(ev.subject_id),
		PayloadJSON: gostr(ev.payload_json),
		CreatedAt:   msTime(ev.created_at),
	}
}

// Events lists the tenant's events with a sequence number above cursor,
// in order: pass the last Seq handled as the next cursor.
func (t *Tenant) Events(cursor uint64) (*Iter[Event], error) {
	tp, err := t.acquire()
	if err != nil {
		return nil, err
	}
	defer t.release()
	var it *C.vc_iter
	var e C.vcgo_err
	if rc := C.vcgo_events_since(&it, tp, C.uint64_t(cursor), &e); rc < 0 {
		return nil, errorFrom(rc, &e)
	}
	return newIter(t.h.ctx, nil, unsafe.Pointer(it),
		func(ip unsafe.Pointer) (Event, error, bool) {
			var ev *C.vc_event
			var e C.vcgo_err
			rc := C.vcgo_event_next(&ev, (*C.vc_iter)(ip), &e)
			if rc < 0 {
				return Event{}, iterEnd(rc, &e), false
			}
			return eventFrom(ev), nil, true
		}), nil
}
