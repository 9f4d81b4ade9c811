package vyomcomm

// #include "vcgo.h"
import "C"

import (
	"runtime"
	"strings"
	"time"
	"unsafe"
)

// QueueStrategy is how a queue picks the agent for a call
// (vc_queue_strategy).
type QueueStrategy int

const (
	QueueLongestIdle QueueStrategy = 1
	QueueRoundRobin  QueueStrategy = 2
	QueueRingAll     QueueStrategy = 3
	QueueBySkill     QueueStrategy = 4
)

func (s QueueStrategy) String() string {
	return C.GoString(C.vc_queue_strategy_name(C.int(s)))
}

// QueueOverflow is what happens to a call still waiting at the maximum
// wait (vc_queue_overflow).
type QueueOverflow int

const (
	OverflowHangup    QueueOverflow = 1
	OverflowQueue     QueueOverflow = 2 // target: another queue
	OverflowVoicemail QueueOverflow = 3 // target: an agent, "" = the queue's
	OverflowCallback  QueueOverflow = 4 // target: an agent, "" = the members
)

func (o QueueOverflow) String() string {
	return C.GoString(C.vc_queue_overflow_name(C.int(o)))
}

// NoMaxWait in QueueSpec.MaxWait: calls wait without a limit.
const NoMaxWait time.Duration = -1

// QueueField names a field of QueueSpec that Update can empty, which an
// empty string cannot say (it keeps the current value).
type QueueField uint

const (
	QueueOverflowTarget QueueField = 1 << iota // voicemail: the queue's; callback: the members
	QueueMOHURL                                // the provider's music on hold
)

// QueueSpec creates or updates a queue (vc_queue_spec). For NewQueue,
// Name is required and zero values take the defaults; for Update, zero
// values keep the current setting, and Clear empties the fields it
// names.
type QueueSpec struct {
	Name     string        // [a-z0-9][a-z0-9_.-]{0,63}, unique per tenant
	Strategy QueueStrategy // 0 = longest idle (new) or unchanged
	// MaxWait a call may wait, whole seconds up to a day; 0 = the
	// default (300 s) or unchanged; NoMaxWait for no limit.
	MaxWait time.Duration
	// AnnouncePosition: nil = the default (off) or unchanged.
	AnnouncePosition *bool
	Overflow         QueueOverflow // 0 = hang up (new) or unchanged
	OverflowTarget   string        // a queue or agent, by id or name
	MOHURL           string        // music on hold, http(s)
	Clear            QueueField    // fields to empty, which must then be ""
}

func (a *cstrs) queueSpec(s *C.vc_queue_spec, spec *QueueSpec) error {
	C.vc_queue_spec_init(s, C.VC_QUEUE_SPEC_VERSION)
	s.name = a.str(spec.Name)
	s.strategy = C.int(spec.Strategy)
	switch {
	case spec.MaxWait == NoMaxWait:
		s.max_wait_s = 0
	case spec.MaxWait == 0:
		s.max_wait_s = -1
	case spec.MaxWait < 0 || spec.MaxWait%time.Second != 0 || spec.MaxWait > C.VC_QUEUE_MAX_WAIT_MAX*time.Second:
		return goError(codeInvalid, "QueueSpec.MaxWait: whole seconds, in range")
	default:
		s.max_wait_s = C.int(spec.MaxWait / time.Second)
	}
	if spec.AnnouncePosition != nil {
		s.announce_position = cbool(*spec.AnnouncePosition)
	}
	s.overflow_kind = C.int(spec.Overflow)
	s.overflow_target = a.cleared(spec.OverflowTarget, spec.Clear&QueueOverflowTarget != 0, "QueueSpec.OverflowTarget")
	s.moh_url = a.cleared(spec.MOHURL, spec.Clear&QueueMOHURL != 0, "QueueSpec.MOHURL")
	return a.err
}

// Queue is a call-queue handle (vc_queue): a snapshot of the stored
// queue. Safe to share between goroutines.
type Queue struct {
	h  handle
	id string
}

func freeQueue(p unsafe.Pointer) { C.vc_queue_free((*C.vc_queue)(p)) }

func newQueue(c *Context, p *C.vc_queue) *Queue {
	q := &Queue{id: C.GoString(C.vc_queue_id(p))}
	q.h.init(c, nil, unsafe.Pointer(p), freeQueue)
	runtime.SetFinalizer(q, func(q *Queue) { q.Close() })
	return q
}

// NewQueue creates a queue without members. ErrInvalid, ErrNotFound
// (no such overflow queue or agent), ErrExists (name taken).
func (t *Tenant) NewQueue(spec QueueSpec) (*Queue, error) {
	tp, err := t.acquire()
	if err != nil {
		return nil, err
	}
	defer t.release()
	var a cstrs
	defer a.free()
	var s C.vc_queue_spec
	if err := a.queueSpec(&s, &spec); err != nil {
		return nil, err
	}
	var q *C.vc_queue
	var e C.vcgo_err
	if rc := C.vcgo_queue_new(&q, tp, &s, &e); rc < 0 {
		return nil, errorFrom(rc, &e)
	}
	return newQueue(t.h.ctx, q), nil
}

// LookupQueue loads a queue by id or name.
func (t *Tenant) LookupQueue(idOrName string) (*Queue, error) {
	tp, err := t.acquire()
	if err != nil {
		return nil, err
	}
	defer t.release()
	var a cstrs
	defer a.free()
	cs := a.always(idOrName)
	if a.err != nil {
		return nil, a.err
	}
	var q *C.vc_queue
	var e C.vcgo_err
	if rc := C.vcgo_queue_lookup(&q, tp, cs, &e); rc < 0 {
		return nil, errorFrom(rc, &e)
	}
	return newQueue(t.h.ctx, q), nil
}

// Queues lists the tenant's queues in creation order, from the cursor
// after ("" = the start); close each one.
func (t *Tenant) Queues(after string) (*Iter[*Queue], error) {
	tp, err := t.acquire()
	if err != nil {
		return nil, err
	}
	defer t.release()
	var a cstrs
	defer a.free()
	var f C.vc_queue_filter
	C.vc_queue_filter_init(&f, C.VC_QUEUE_FILTER_VERSION)
	f.after = a.str(after)
	if a.err != nil {
		return nil, a.err
	}
	var it *C.vc_iter
	var e C.vcgo_err
	if rc := C.vcgo_queue_list(&it, tp, &f, &e); rc < 0 {
		return nil, errorFrom(rc, &e)
	}
	c := t.h.ctx
	return newIter(c, nil, unsafe.Pointer(it),
		func(ip unsafe.Pointer) (*Queue, error, bool) {
			var q *C.vc_queue
			var e C.vcgo_err
			rc := C.vcgo_queue_next(&q, (*C.vc_iter)(ip), &e)
			if rc < 0 {
				return nil, iterEnd(rc, &e), false
			}
			return newQueue(c, q), nil, true
		}), nil
}

// Close frees the handle; calling it again does nothing.
func (q *Queue) Close() error {
	q.h.close(freeQueue)
	return nil
}

// ID is the queue's id.
func (q *Queue) ID() string { return q.id }

func (q *Queue) do(f func(p *C.vc_queue, e *C.vcgo_err) C.int) error {
	p, err := q.h.acquire()
	if err != nil {
		return err
	}
	defer q.h.release()
	var e C.vcgo_err
	return errorFrom(f((*C.vc_queue)(p), &e), &e)
}

func (q *Queue) get(f func(p *C.vc_queue)) {
	p, err := q.h.acquire()
	if err != nil {
		return
	}
	defer q.h.release()
	f((*C.vc_queue)(p))
}

// Update changes the queue's settings; the handle shows the new values.
func (q *Queue) Update(spec QueueSpec) error {
	var a cstrs
	defer a.free()
	var s C.vc_queue_spec
	if err := a.queueSpec(&s, &spec); err != nil {
		return err
	}
	return q.do(func(p *C.vc_queue, e *C.vcgo_err) C.int {
		return C.vcgo_queue_update(p, &s, e)
	})
}

// Delete deletes the queue and its memberships. ErrState while a
// number routes to it, another queue overflows to it or calls wait in
// it; ErrNotFound when already deleted.
func (q *Queue) Delete() error {
	return q.do(func(p *C.vc_queue, e *C.vcgo_err) C.int {
		return C.vcgo_queue_delete(p, e)
	})
}

// AddMember adds an agent (by id or name) with its skill tags in this
// queue ([a-z0-9][a-z0-9_-]{0,31} each, at most 16); adding it again
// replaces its tags. ErrInvalid, ErrNotFound, ErrTooBig (500 members).
func (q *Queue) AddMember(agent string, skills ...string) error {
	var a cstrs
	defer a.free()
	ca := a.always(agent)
	cs := a.str(strings.Join(skills, ","))
	if a.err != nil {
		return a.err
	}
	return q.do(func(p *C.vc_queue, e *C.vcgo_err) C.int {
		return C.vcgo_queue_member_add(p, ca, cs, e)
	})
}

// RemoveMember takes an agent (by id or name) out of the queue.
// ErrNotFound when it is not a member.
func (q *Queue) RemoveMember(agent string) error {
	var a cstrs
	defer a.free()
	ca := a.always(agent)
	if a.err != nil {
		return a.err
	}
	return q.do(func(p *C.vc_queue, e *C.vcgo_err) C.int {
		return C.vcgo_queue_member_remove(p, ca, e)
	})
}

// QueueMember is one member of a queue, copied out.
type QueueMember struct {
	AgentID  string
	Skills   []string // sorted; nil when none
	Position int      // 1, 2, ...: the round-robin order
	AddedAt  time.Time
}

// Members lists the queue's members in the order they were added, from
// the cursor after ("" = the start).
func (q *Queue) Members(after string) (*Iter[QueueMember], error) {
	p, err := q.h.acquire()
	if err != nil {
		return nil, err
	}
	defer q.h.release()
	var a cstrs
	defer a.free()
	var f C.vc_queue_member_filter
	C.vc_queue_member_filter_init(&f, C.VC_QUEUE_MEMBER_FILTER_VERSION)
	f.after = a.str(after)
	if a.err != nil {
		return nil, a.err
	}
	var it *C.vc_iter
	var e C.vcgo_err
	if rc := C.vcgo_queue_members(&it, (*C.vc_queue)(p), &f, &e); rc < 0 {
		return nil, errorFrom(rc, &e)
	}
	return newIter(q.h.ctx, nil, unsafe.Pointer(it),
		func(ip unsafe.Pointer) (QueueMember, error, bool) {
			var m *C.vc_queue_member
			var e C.vcgo_err
			rc := C.vcgo_queue_member_next(&m, (*C.vc_iter)(ip), &e)
			if rc < 0 {
				return QueueMember{}, iterEnd(rc, &e), false
			}
			defer C.vc_queue_member_free(m)
			out := QueueMember{
				AgentID:  gostr(C.vc_queue_member_agent_id(m)),
				Position: int(C.vc_queue_member_position(m)),
				AddedAt:  msTime(C.vc_queue_member_added_at(m)),
			}
			if s := gostr(C.vc_queue_member_skills(m)); s != "" {
				out.Skills = strings.Split(s, ",")
			}
			return out, nil, true
		}), nil
}

// Name, OverflowTarget (the queue's or agent's id) and MOHURL read the
// snapshot.
func (q *Queue) Name() (s string) {
	q.get(func(p *C.vc_queue) { s = gostr(C.vc_queue_name(p)) })
	return
}
func (q *Queue) OverflowTarget() (s string) {
	q.get(func(p *C.vc_queue) { s = gostr(C.vc_queue_overflow_target(p)) })
	return
}
func (q *Queue) MOHURL() (s string) {
	q.get(func(p *C.vc_queue) { s = gostr(C.vc_queue_moh_url(p)) })
	return
}

// Strategy and Overflow are the queue's strategy and overflow kind.
func (q *Queue) Strategy() (s QueueStrategy) {
	q.get(func(p *C.vc_queue) { s = QueueStrategy(C.vc_queue_strategy_of(p)) })
	return
}
func (q *Queue) Overflow() (o QueueOverflow) {
	q.get(func(p *C.vc_queue) { o = QueueOverflow(C.vc_queue_overflow_kind(p)) })
	return
}

// MaxWait is how long a call may wait; 0 = no limit.
func (q *Queue) MaxWait() (d time.Duration) {
	q.get(func(p *C.vc_queue) {
		d = time.Duration(C.vc_queue_max_wait_seconds(p)) * time.Second
	})
	return
}

// AnnouncePosition reports whether callers are told their position.
func (q *Queue) AnnouncePosition() (b bool) {
	q.get(func(p *C.vc_queue) { b = C.vc_queue_announce_position(p) != 0 })
	return
}

// CreatedAt and UpdatedAt: when the queue was stored and last changed.
func (q *Queue) CreatedAt() (t time.Time) {
	q.get(func(p *C.vc_queue) { t = msTime(C.vc_queue_created_at(p)) })
	return
}
func (q *Queue) UpdatedAt() (t time.Time) {
	q.get(func(p *C.vc_queue) { t = msTime(C.vc_queue_updated_at(p)) })
	return
}
