package vyomcomm

// #include "vcgo.h"
import "C"

import (
	"runtime"
	"time"
	"unsafe"
)

// AgentState is an agent's state (vc_agent_state). SetState moves an
// agent to AgentOffline, AgentAvailable or AgentBreak; calls set the
// others.
type AgentState int

const (
	AgentOffline   AgentState = 1
	AgentAvailable AgentState = 2
	AgentRinging   AgentState = 3
	AgentOnCall    AgentState = 4
	AgentWrapUp    AgentState = 5
	AgentBreak     AgentState = 6
)

func (s AgentState) String() string {
	return C.GoString(C.vc_agent_state_name(C.int(s)))
}

// AgentCause is what moved an agent (vc_agent_cause).
type AgentCause int

const (
	AgentCauseAPI    AgentCause = 1
	AgentCauseCall   AgentCause = 2
	AgentCauseWrapUp AgentCause = 3
)

func (c AgentCause) String() string {
	return gostr(C.vc_agent_cause_name(C.int(c)))
}

// NoWrapUp in AgentSpec.WrapUp: back to available at once after a call.
const NoWrapUp time.Duration = -1

// AgentField names a field of AgentSpec that Update can empty, which an
// empty string cannot say (it keeps the current value).
type AgentField uint

const (
	AgentDisplayName AgentField = 1 << iota
)

// AgentSpec creates or updates an agent (vc_agent_spec). For NewAgent,
// Name and Number are required and the rest take the defaults; for
// Update, empty strings and a zero WrapUp keep the current value, and
// Clear empties the fields it names.
type AgentSpec struct {
	Name        string // [a-z0-9][a-z0-9_.-]{0,63}, unique per tenant
	DisplayName string
	Number      string // E.164 or a sip: URI: the phone rung first
	// WrapUp after a call the agent answered, whole seconds up to an
	// hour; 0 = the default (30 s) or, for Update, unchanged; NoWrapUp
	// for none.
	WrapUp   time.Duration
	Metadata any        // a JSON object kept with the agent
	Clear    AgentField // fields to empty, which must then be ""
}

func (a *cstrs) agentSpec(s *C.vc_agent_spec, spec *AgentSpec) error {
	C.vc_agent_spec_init(s, C.VC_AGENT_SPEC_VERSION)
	meta, err := jsonArg(spec.Metadata)
	if err != nil {
		return err
	}
	s.name = a.str(spec.Name)
	s.display_name = a.cleared(spec.DisplayName, spec.Clear&AgentDisplayName != 0, "AgentSpec.DisplayName")
	s.number = a.str(spec.Number)
	s.metadata_json = a.str(meta)
	switch {
	case spec.WrapUp == NoWrapUp:
		s.wrap_up_s = 0
	case spec.WrapUp == 0:
		s.wrap_up_s = -1
	case spec.WrapUp < 0 || spec.WrapUp%time.Second != 0 || spec.WrapUp > C.VC_AGENT_WRAP_UP_MAX*time.Second:
		return goError(codeInvalid, "AgentSpec.WrapUp: whole seconds, in range")
	default:
		s.wrap_up_s = C.int(spec.WrapUp / time.Second)
	}
	return a.err
}

// Agent is an agent handle (vc_agent): a snapshot of the stored agent,
// reloaded by Refresh and by the methods that change it. Safe to share
// between goroutines.
type Agent struct {
	h  handle
	id string
}

func freeAgent(p unsafe.Pointer) { C.vc_agent_free((*C.vc_agent)(p)) }

func newAgent(c *Context, p *C.vc_agent) *Agent {
	ag := &Agent{id: C.GoString(C.vc_agent_id(p))}
	ag.h.init(c, nil, unsafe.Pointer(p), freeAgent)
	runtime.SetFinalizer(ag, func(ag *Agent) { ag.Close() })
	return ag
}

// NewAgent creates an agent, offline. ErrInvalid for a bad name,
// number, wrap-up or metadata, ErrExists when the name is taken.
func (t *Tenant) NewAgent(spec AgentSpec) (*Agent, error) {
	tp, err := t.acquire()
	if err != nil {
		return nil, err
	}
	defer t.release()
	var a cstrs
	defer a.free()
	var s C.vc_agent_spec
	if err := a.agentSpec(&s, &spec); err != nil {
		return nil, err
	}
	var ag *C.vc_agent
	var e C.vcgo_err
	if rc := C.vcgo_agent_new(&ag, tp, &s, &e); rc < 0 {
		return nil, errorFrom(rc, &e)
	}
	return newAgent(t.h.ctx, ag), nil
}

// LookupAgent loads an agent by id or name. ErrNotFound also for
// another tenant's.
func (t *Tenant) LookupAgent(idOrName string) (*Agent, error) {
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
	var ag *C.vc_agent
	var e C.vcgo_err
	if rc := C.vcgo_agent_lookup(&ag, tp, cs, &e); rc < 0 {
		return nil, errorFrom(rc, &e)
	}
	return newAgent(t.h.ctx, ag), nil
}

// AgentFilter says which agents Agents lists, in creation order.
type AgentFilter struct {
	After string     // a cursor from Iter.Cursor
	State AgentState // 0 = any; a finished wrap-up counts as available
}

// Agents lists the tenant's agents in creation order; close each one.
func (t *Tenant) Agents(filter AgentFilter) (*Iter[*Agent], error) {
	tp, err := t.acquire()
	if err != nil {
		return nil, err
	}
	defer t.release()
	var a cstrs
	defer a.free()
	var f C.vc_agent_filter
	C.vc_agent_filter_init(&f, C.VC_AGENT_FILTER_VERSION)
	f.after = a.str(filter.After)
	f.state = C.int(filter.State)
	if a.err != nil {
		return nil, a.err
	}
	var it *C.vc_iter
	var e C.vcgo_err
	if rc := C.vcgo_agent_list(&it, tp, &f, &e); rc < 0 {
		return nil, errorFrom(rc, &e)
	}
	c := t.h.ctx
	return newIter(c, nil, unsafe.Pointer(it),
		func(ip unsafe.Pointer) (*Agent, error, bool) {
			var ag *C.vc_agent
			var e C.vcgo_err
			rc := C.vcgo_agent_next(&ag, (*C.vc_iter)(ip), &e)
			if rc < 0 {
				return nil, iterEnd(rc, &e), false
			}
			return newAgent(c, ag), nil, true
		}), nil
}

// Close frees the handle; calling it again does nothing.
func (ag *Agent) Close() error {
	ag.h.close(freeAgent)
	return nil
}

// ID is the agent's id.
func (ag *Agent) ID() string { return ag.id }

func (ag *Agent) do(f func(p *C.vc_agent, e *C.vcgo_err) C.int) error {
	p, err := ag.h.acquire()
	if err != nil {
		return err
	}
	defer ag.h.release()
	var e C.vcgo_err
	return errorFrom(f((*C.vc_agent)(p), &e), &e)
}

func (ag *Agent) get(f func(p *C.vc_agent)) {
	p, err := ag.h.acquire()
	if err != nil {
		return
	}
	defer ag.h.release()
	f((*C.vc_agent)(p))
}

// Update changes the agent's settings (not its state); the handle shows
// the new values. ErrInvalid, ErrExists (name taken), ErrNotFound
// (deleted).
func (ag *Agent) Update(spec AgentSpec) error {
	var a cstrs
	defer a.free()
	var s C.vc_agent_spec
	if err := a.agentSpec(&s, &spec); err != nil {
		return err
	}
	return ag.do(func(p *C.vc_agent, e *C.vcgo_err) C.int {
		return C.vcgo_agent_update(p, &s, e)
	})
}

// SetState moves the agent to AgentOffline, AgentAvailable or
// AgentBreak (a break needs a reason) and refreshes the handle.
// ErrInvalid for a state only calls set or a break without a reason,
// ErrState while the agent has a live call.
func (ag *Agent) SetState(state AgentState, reason string) error {
	var a cstrs
	defer a.free()
	cr := a.str(reason)
	if a.err != nil {
		return a.err
	}
	return ag.do(func(p *C.vc_agent, e *C.vcgo_err) C.int {
		return C.vcgo_agent_set_state(p, C.int(state), cr, e)
	})
}

// Refresh reloads the handle from the store.
func (ag *Agent) Refresh() error {
	return ag.do(func(p *C.vc_agent, e *C.vcgo_err) C.int {
		return C.vcgo_agent_refresh(p, e)
	})
}

// Delete deletes an offline agent: it leaves every queue, its
// conversations become unassigned, calls keep its id. ErrState when it
// is not offline, ErrNotFound when already deleted. The getters keep
// the last snapshot.
func (ag *Agent) Delete() error {
	return ag.do(func(p *C.vc_agent, e *C.vcgo_err) C.int {
		return C.vcgo_agent_delete(p, e)
	})
}

// Name, DisplayName, Number, MetadataJSON, Reason and CallID read the
// snapshot ("" when unset).
func (ag *Agent) Name() (s string) {
	ag.get(func(p *C.vc_agent) { s = gostr(C.vc_agent_name(p)) })
	return
}
func (ag *Agent) DisplayName() (s string) {
	ag.get(func(p *C.vc_agent) { s = gostr(C.vc_agent_display_name(p)) })
	return
}
func (ag *Agent) Number() (s string) {
	ag.get(func(p *C.vc_agent) { s = gostr(C.vc_agent_number(p)) })
	return
}
func (ag *Agent) MetadataJSON() (s string) {
	ag.get(func(p *C.vc_agent) { s = gostr(C.vc_agent_metadata_json(p)) })
	return
}
func (ag *Agent) Reason() (s string) {
	ag.get(func(p *C.vc_agent) { s = gostr(C.vc_agent_reason(p)) })
	return
}
func (ag *Agent) CallID() (s string) {
	ag.get(func(p *C.vc_agent) { s = gostr(C.vc_agent_call_id(p)) })
	return
}

// WrapUp is the wrap-up after an answered call (0 = none).
func (ag *Agent) WrapUp() (d time.Duration) {
	ag.get(func(p *C.vc_agent) {
		d = time.Duration(C.vc_agent_wrap_up_seconds(p)) * time.Second
	})
	return
}

// State is the agent's state in the snapshot; a wrap-up whose time ran
// out reads as available.
func (ag *Agent) State() (s AgentState) {
	ag.get(func(p *C.vc_agent) { s = AgentState(C.vc_agent_state_of(p)) })
	return
}

// StateSince is when the agent entered its state; WrapUpUntil is when
// a wrap-up ends (zero outside one).
func (ag *Agent) StateSince() (t time.Time) {
	ag.get(func(p *C.vc_agent) { t = msTime(C.vc_agent_state_since(p)) })
	return
}
func (ag *Agent) WrapUpUntil() (t time.Time) {
	ag.get(func(p *C.vc_agent) { t = msTime(C.vc_agent_wrap_up_until(p)) })
	return
}

// CreatedAt and UpdatedAt: when the agent was created and its settings
// last changed.
func (ag *Agent) CreatedAt() (t time.Time) {
	ag.get(func(p *C.vc_agent) { t = msTime(C.vc_agent_created_at(p)) })
	return
}
func (ag *Agent) UpdatedAt() (t time.Time) {
	ag.get(func(p *C.vc_agent) { t = msTime(C.vc_agent_updated_at(p)) })
	return
}

// AgentChange is one entry of an agent's activity log, copied out.
type AgentChange struct {
	Seq    int64
	From   AgentState // 0 for the first entry
	To     AgentState
	Reason string
	Cause  AgentCause
	CallID string // "" for the API
	At     time.Time
}

// ActivityFilter says which changes Activity lists, oldest first.
type ActivityFilter struct {
	After        string
	Since, Until time.Time
}

// Activity lists the agent's state changes, oldest first.
func (ag *Agent) Activity(filter ActivityFilter) (*Iter[AgentChange], error) {
	p, err := ag.h.acquire()
	if err != nil {
		return nil, err
	}
	defer ag.h.release()
	var a cstrs
	defer a.free()
	var f C.vc_agent_activity_filter
	C.vc_agent_activity_filter_init(&f, C.VC_AGENT_ACTIVITY_FILTER_VERSION)
	f.after = a.str(filter.After)
	f.since = timeMs(filter.Since)
	f.until = timeMs(filter.Until)
	if a.err != nil {
		return nil, a.err
	}
	var it *C.vc_iter
	var e C.vcgo_err
	if rc := C.vcgo_agent_activity(&it, (*C.vc_agent)(p), &f, &e); rc < 0 {
		return nil, errorFrom(rc, &e)
	}
	return newIter(ag.h.ctx, nil, unsafe.Pointer(it),
		func(ip unsafe.Pointer) (AgentChange, error, bool) {
			var ch *C.vc_agent_change
			var e C.vcgo_err
			rc := C.vcgo_agent_change_next(&ch, (*C.vc_iter)(ip), &e)
			if rc < 0 {
				return AgentChange{}, iterEnd(rc, &e), false
			}
			defer C.vc_agent_change_free(ch)
			return AgentChange{
				Seq:    int64(C.vc_agent_change_seq(ch)),
				From:   AgentState(C.vc_agent_change_from(ch)),
				To:     AgentState(C.vc_agent_change_to(ch)),
				Reason: gostr(C.vc_agent_change_reason(ch)),
				Cause:  AgentCause(C.vc_agent_change_cause(ch)),
				CallID: gostr(C.vc_agent_change_call_id(ch)),
				At:     msTime(C.vc_agent_change_at(ch)),
			}, nil, true
		}), nil
}

// AgentTotals are an agent's figures over a period (vc_agent_totals).
type AgentTotals struct {
	Calls         int64 // placed in the period
	AnsweredCalls int64
	Talk          time.Duration
	WrapUp        time.Duration
	Idle          time.Duration // available
	Break         time.Duration
	OnCall        time.Duration // ringing or on a call
	Offline       time.Duration
}

// Stats is the agent's figures for [since, until); a zero until is now.
// ErrInvalid when since is not before until.
func (ag *Agent) Stats(since, until time.Time) (AgentTotals, error) {
	var out AgentTotals
	err := ag.do(func(p *C.vc_agent, e *C.vcgo_err) C.int {
		var tt C.vc_agent_totals
		C.vc_agent_totals_init(&tt, C.VC_AGENT_TOTALS_VERSION)
		rc := C.vcgo_agent_stats(&tt, p, timeMs(since), timeMs(until), e)
		if rc >= 0 {
			ms := func(v C.int64_t) time.Duration {
				return time.Duration(v) * time.Millisecond
			}
			out = AgentTotals{
				Calls: int64(tt.calls), AnsweredCalls: int64(tt.answered_calls),
				Talk: ms(tt.talk_ms), WrapUp: ms(tt.wrap_up_ms),
				Idle: ms(tt.idle_ms), Break: ms(tt.break_ms),
				OnCall: ms(tt.on_call_ms), Offline: ms(tt.offline_ms),
			}
		}
		return rc
	})
	return out, err
}
