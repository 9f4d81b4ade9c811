package vyomcomm

// #include "vcgo.h"
import "C"

import (
	"runtime"
	"time"
	"unsafe"
)

// CallSpec is a click-to-call to place (vc_call_spec).
type CallSpec struct {
	Agent          string // an agent id or name, or ""
	AgentNumber    string // E.164 or sip: URI; "" = the agent's own
	CustomerNumber string // E.164; required
	CallerID       string
	Channel        string // a voice channel id or name; "" = by priority
	Record         RecordMode
	IVRMenu        string
	Metadata       any // a JSON object kept with the call
	IdempotencyKey string
	RingTimeout    time.Duration // per leg; 0 = 30 s
	TimeLimit      time.Duration // 0 = 4 hours
	Category       Category
	ContactID      string
}

// Call is a call handle (vc_call): a snapshot, refreshed by Refresh.
type Call struct {
	h  handle
	id string
}

func freeCall(p unsafe.Pointer) { C.vc_call_free((*C.vc_call)(p)) }

func newCall(c *Context, p *C.vc_call) *Call {
	cl := &Call{id: C.GoString(C.vc_call_id(p))}
	cl.h.init(c, nil, unsafe.Pointer(p), freeCall)
	runtime.SetFinalizer(cl, func(cl *Call) { cl.Close() })
	return cl
}

// StartCall stores a call as initiated and returns it; the engine
// places it. ErrConsent for a number on the do-not-call list or a
// contact without consent, ErrNotFound without a voice channel, ErrBusy
// when the agent is on another call.
func (t *Tenant) StartCall(spec CallSpec) (*Call, error) {
	tp, err := t.acquire()
	if err != nil {
		return nil, err
	}
	defer t.release()
	var a cstrs
	defer a.free()
	meta, err := jsonArg(spec.Metadata)
	if err != nil {
		return nil, err
	}
	var s C.vc_call_spec
	C.vc_call_spec_init(&s, C.VC_CALL_SPEC_VERSION)
	s.agent = a.str(spec.Agent)
	s.agent_number = a.str(spec.AgentNumber)
	s.customer_number = a.str(spec.CustomerNumber)
	s.caller_id = a.str(spec.CallerID)
	s.channel = a.str(spec.Channel)
	s.record = C.int(spec.Record)
	s.ivr_menu = a.str(spec.IVRMenu)
	s.metadata_json = a.str(meta)
	s.idempotency_key = a.str(spec.IdempotencyKey)
	s.ring_timeout_s = C.int(spec.RingTimeout / time.Second)
	s.time_limit_s = C.int(spec.TimeLimit / time.Second)
	s.category = C.int(spec.Category)
	s.contact_id = a.str(spec.ContactID)
	if a.err != nil {
		return nil, a.err
	}
	var cl *C.vc_call
	var e C.vcgo_err
	if rc := C.vcgo_call_start(&cl, tp, &s, &e); rc < 0 {
		return nil, errorFrom(rc, &e)
	}
	return newCall(t.h.ctx, cl), nil
}

// LookupCall loads a call.
func (t *Tenant) LookupCall(id string) (*Call, error) {
	tp, err := t.acquire()
	if err != nil {
		return nil, err
	}
	defer t.release()
	var a cstrs
	defer a.free()
	cid := a.always(id)
	if a.err != nil {
		return nil, a.err
	}
	var cl *C.vc_call
	var e C.vcgo_err
	if rc := C.vcgo_call_lookup(&cl, tp, cid, &e); rc < 0 {
		return nil, errorFrom(rc, &e)
	}
	return newCall(t.h.ctx, cl), nil
}

// Close frees the handle; calling it again does nothing.
func (cl *Call) Close() error {
	cl.h.close(freeCall)
	return nil
}

// ID is the call's id.
func (cl *Call) ID() string { return cl.id }

func (cl *Call) do(f func(p *C.vc_call, e *C.vcgo_err) C.int) error {
	p, err := cl.h.acquire()
	if err != nil {
		return err
	}
	defer cl.h.release()
	var e C.vcgo_err
	return errorFrom(f((*C.vc_call)(p), &e), &e)
}

// Hangup ends the call (or cancels it before it is placed). ErrState
// once it has ended.
func (cl *Call) Hangup() error {
	return cl.do(func(p *C.vc_call, e *C.vcgo_err) C.int {
		return C.vcgo_call_hangup(p, e)
	})
}

// Hold puts the customer of a bridged call on hold, or resumes.
func (cl *Call) Hold(on bool) error {
	return cl.do(func(p *C.vc_call, e *C.vcgo_err) C.int {
		return C.vcgo_call_hold(p, cbool(on), e)
	})
}

// Transfer connects the customer to `to` and ends the agent's leg.
func (cl *Call) Transfer(to string) error {
	var a cstrs
	defer a.free()
	cto := a.always(to)
	if a.err != nil {
		return a.err
	}
	return cl.do(func(p *C.vc_call, e *C.vcgo_err) C.int {
		return C.vcgo_call_transfer(p, cto, e)
	})
}

// Refresh reloads the snapshot from the store. It changes the handle,
// so it takes the handle's write lock.
func (cl *Call) Refresh() error {
	c := cl.h.ctx
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.p == nil {
		return ErrClosed
	}
	cl.h.mu.Lock()
	defer cl.h.mu.Unlock()
	if cl.h.p == nil {
		return ErrClosed
	}
	var e C.vcgo_err
	return errorFrom(C.vcgo_call_refresh((*C.vc_call)(cl.h.p), &e), &e)
}

func (cl *Call) get(f func(p *C.vc_call)) {
	p, err := cl.h.acquire()
	if err != nil {
		return
	}
	defer cl.h.release()
	f((*C.vc_call)(p))
}

// State is the call's state in the snapshot.
func (cl *Call) State() (s CallState) {
	cl.get(func(p *C.vc_call) { s = CallState(C.vc_call_state_of(p)) })
	return
}

// StateAt is when the call entered a state (zero when it never did).
func (cl *Call) StateAt(s CallState) (t time.Time) {
	cl.get(func(p *C.vc_call) { t = msTime(C.vc_call_state_at(p, C.int(s))) })
	return
}

// Cause is why the call ended (a vc_call_cause), 0 while live.
func (cl *Call) Cause() (n int) {
	cl.get(func(p *C.vc_call) { n = int(C.vc_call_cause_of(p)) })
	return
}

// CauseName is the name of Cause ("normal", "busy", ...).
func (cl *Call) CauseName() (s string) {
	cl.get(func(p *C.vc_call) { s = gostr(C.vc_call_cause_name(C.vc_call_cause_of(p))) })
	return
}

// CustomerNumber, AgentNumber, ChannelID, ProviderID and CallerID read
// the snapshot.
func (cl *Call) CustomerNumber() (s string) {
	cl.get(func(p *C.vc_call) { s = gostr(C.vc_call_customer_number(p)) })
	return
}
func (cl *Call) AgentNumber() (s string) {
	cl.get(func(p *C.vc_call) { s = gostr(C.vc_call_agent_number(p)) })
	return
}
func (cl *Call) ChannelID() (s string) {
	cl.get(func(p *C.vc_call) { s = gostr(C.vc_call_channel_id(p)) })
	return
}
func (cl *Call) ProviderID() (s string) {
	cl.get(func(p *C.vc_call) { s = gostr(C.vc_call_provider_id(p)) })
	return
}
func (cl *Call) CallerID() (s string) {
	cl.get(func(p *C.vc_call) { s = gostr(C.vc_call_caller_id(p)) })
	return
}

// TalkTime is how long agent and customer talked (0 until it ends).
func (cl *Call) TalkTime() (d time.Duration) {
	cl.get(func(p *C.vc_call) {
		d = time.Duration(C.vc_call_talk_seconds(p)) * time.Second
	})
	return
}

// Cost is the call's cost in micro-units of its currency, once known.
func (cl *Call) Cost() (micros int64, currency string) {
	cl.get(func(p *C.vc_call) {
		micros = int64(C.vc_call_cost_micros(p))
		currency = gostr(C.vc_call_currency(p))
	})
	return
}

// CallFilter says which calls Calls lists, newest first.
type CallFilter struct {
	After          string
	State          CallState
	Agent          string // an agent id
	Channel        string // a channel id
	CustomerNumber string
	Since, Until   time.Time
}

// Calls lists the tenant's calls, newest first; close each one.
func (t *Tenant) Calls(filter CallFilter) (*Iter[*Call], error) {
	tp, err := t.acquire()
	if err != nil {
		return nil, err
	}
	defer t.release()
	var a cstrs
	defer a.free()
	var f C.vc_call_filter
	C.vc_call_filter_init(&f, C.VC_CALL_FILTER_VERSION)
	f.after = a.str(filter.After)
	f.state = C.int(filter.State)
	f.agent = a.str(filter.Agent)
	f.channel = a.str(filter.Channel)
	f.customer_number = a.str(filter.CustomerNumber)
	f.since = timeMs(filter.Since)
	f.until = timeMs(filter.Until)
	if a.err != nil {
		return nil, a.err
	}
	var it *C.vc_iter
	var e C.vcgo_err
	if rc := C.vcgo_call_list(&it, tp, &f, &e); rc < 0 {
		return nil, errorFrom(rc, &e)
	}
	c := t.h.ctx
	return newIter(c, nil, unsafe.Pointer(it),
		func(ip unsafe.Pointer) (*Call, error, bool) {
			var cl *C.vc_call
			var e C.vcgo_err
			rc := C.vcgo_call_next(&cl, (*C.vc_iter)(ip), &e)
			if rc < 0 {
				return nil, iterEnd(rc, &e), false
			}
			return newCall(c, cl), nil, true
		}), nil
}

// CallEntry is one entry of a call's timeline, copied out.
type CallEntry struct {
	Seq        int64
	Type       string // "ringing", "answered", "bridged", "dtmf", "state", ...
	Leg        int    // 0 the call, 1 the agent, 2 the customer
	State      CallState
	DetailJSON string
	At         time.Time
}

// CallTimeline lists a call's timeline, oldest first.
func (t *Tenant) CallTimeline(callID string) (*Iter[CallEntry], error) {
	tp, err := t.acquire()
	if err != nil {
		return nil, err
	}
	defer t.release()
	var a cstrs
	defer a.free()
	cid := a.always(callID)
	if a.err != nil {
		return nil, a.err
	}
	var it *C.vc_iter
	var e C.vcgo_err
	if rc := C.vcgo_call_timeline(&it, tp, cid, &e); rc < 0 {
		return nil, errorFrom(rc, &e)
	}
	return newIter(t.h.ctx, nil, unsafe.Pointer(it),
		func(ip unsafe.Pointer) (CallEntry, error, bool) {
			var en *C.vc_call_entry
			var e C.vcgo_err
			rc := C.vcgo_call_entry_next(&en, (*C.vc_iter)(ip), &e)
			if rc < 0 {
				return CallEntry{}, iterEnd(rc, &e), false
			}
			defer C.vc_call_entry_free(en)
			return CallEntry{
				Seq:        int64(C.vc_call_entry_seq(en)),
				Type:       gostr(C.vc_call_entry_type(en)),
				Leg:        int(C.vc_call_entry_leg(en)),
				State:      CallState(C.vc_call_entry_state(en)),
				DetailJSON: gostr(C.vc_call_entry_detail_json(en)),
				At:         msTime(C.vc_call_entry_at(en)),
			}, nil, true
		}), nil
}
