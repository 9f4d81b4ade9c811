package vyomcomm

// #include "vcgo.h"
import "C"

import (
	"runtime"
	"time"
	"unsafe"
)

// CampaignSpec creates a campaign (vc_campaign_spec).
type CampaignSpec struct {
	Name     string
	Template string // a template id or name
	Locale   string
	Vars     any      // variables for every recipient, a JSON object
	Chain    []string // links: "sms", "email", "whatsapp@wa-main", ...
	Audience Audience
	// AudienceList: contact ids, and optionally each one's variables
	// (a JSON object as text, "" for none), parallel to them.
	ContactIDs  []string
	ContactVars []string
	Tag         string // AudienceTag
	StartAt     time.Time
	EndAt       time.Time
	// Daily window in the tenant's timezone, minutes after midnight;
	// both 0 = all day.
	WindowStartMin, WindowEndMin int
	Rate                         float64  // messages per second; 0 = no limit
	Category                     Category // 0 = marketing
}

// CampaignCounters is a campaign's progress, read from the store.
type CampaignCounters struct {
	State          CampaignState
	Total          uint64
	Queued         uint64
	Sent           uint64
	Delivered      uint64
	Failed         uint64
	Canceled       uint64
	SkippedConsent uint64
	SkippedAddress uint64
	DeferredQuiet  uint64
	Expired        uint64
	Open           uint64
}

// Campaign is a campaign handle (vc_campaign). It uses its tenant's
// handle: once the tenant is closed its methods return ErrClosed.
type Campaign struct {
	h  handle
	id string
	t  *Tenant // keeps the tenant's handle alive while this one is
}

func freeCampaign(p unsafe.Pointer) { C.vc_campaign_free((*C.vc_campaign)(p)) }

func newCampaign(t *Tenant, p *C.vc_campaign) *Campaign {
	cp := &Campaign{id: C.GoString(C.vc_campaign_id(p)), t: t}
	cp.h.init(t.h.ctx, &t.h, unsafe.Pointer(p), freeCampaign)
	runtime.SetFinalizer(cp, func(cp *Campaign) { cp.Close() })
	return cp
}

// NewCampaign creates a draft campaign.
func (t *Tenant) NewCampaign(spec CampaignSpec) (*Campaign, error) {
	tp, err := t.acquire()
	if err != nil {
		return nil, err
	}
	defer t.release()
	var a cstrs
	defer a.free()
	vars, err := jsonArg(spec.Vars)
	if err != nil {
		return nil, err
	}
	if spec.ContactVars != nil && len(spec.ContactVars) != len(spec.ContactIDs) {
		return nil, goError(codeInvalid, "ContactVars must be parallel to ContactIDs")
	}
	var s C.vc_campaign_spec
	C.vc_campaign_spec_init(&s, C.VC_CAMPAIGN_SPEC_VERSION)
	s.name = a.str(spec.Name)
	s.template_name = a.str(spec.Template)
	s.locale = a.str(spec.Locale)
	s.vars_json = a.str(vars)
	s.chain = a.array(spec.Chain, false)
	s.nchain = C.size_t(len(spec.Chain))
	s.audience = C.int(spec.Audience)
	s.contact_ids = a.array(spec.ContactIDs, false)
	s.ncontacts = C.size_t(len(spec.ContactIDs))
	s.contact_vars = a.array(spec.ContactVars, true)
	s.tag = a.str(spec.Tag)
	s.start_at = timeMs(spec.StartAt)
	s.end_at = timeMs(spec.EndAt)
	s.window_start_min = C.int(spec.WindowStartMin)
	s.window_end_min = C.int(spec.WindowEndMin)
	s.rate = C.double(spec.Rate)
	s.category = C.int(spec.Category)
	if a.err != nil {
		return nil, a.err
	}
	var cp *C.vc_campaign
	var e C.vcgo_err
	if rc := C.vcgo_campaign_new(&cp, tp, &s, &e); rc < 0 {
		return nil, errorFrom(rc, &e)
	}
	return newCampaign(t, cp), nil
}

// LookupCampaign loads a campaign.
func (t *Tenant) LookupCampaign(id string) (*Campaign, error) {
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
	var cp *C.vc_campaign
	var e C.vcgo_err
	if rc := C.vcgo_campaign_lookup(&cp, tp, cid, &e); rc < 0 {
		return nil, errorFrom(rc, &e)
	}
	return newCampaign(t, cp), nil
}

// Close frees the handle; calling it again does nothing.
func (cp *Campaign) Close() error {
	cp.h.close(freeCampaign)
	return nil
}

// ID is the campaign's id.
func (cp *Campaign) ID() string { return cp.id }

// The lifecycle calls update the handle's snapshot: the write lock.
func (cp *Campaign) change(f func(p *C.vc_campaign, e *C.vcgo_err) C.int) error {
	c := cp.h.ctx
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.p == nil {
		return ErrClosed
	}
	cp.h.parent.mu.RLock()
	defer cp.h.parent.mu.RUnlock()
	if cp.h.parent.p == nil {
		return ErrClosed
	}
	cp.h.mu.Lock()
	defer cp.h.mu.Unlock()
	if cp.h.p == nil {
		return ErrClosed
	}
	var e C.vcgo_err
	return errorFrom(f((*C.vc_campaign)(cp.h.p), &e), &e)
}

// Start starts a draft; ErrState when it is not one.
func (cp *Campaign) Start() error {
	return cp.change(func(p *C.vc_campaign, e *C.vcgo_err) C.int {
		return C.vcgo_campaign_start(p, e)
	})
}

// Pause holds a running campaign.
func (cp *Campaign) Pause() error {
	return cp.change(func(p *C.vc_campaign, e *C.vcgo_err) C.int {
		return C.vcgo_campaign_pause(p, e)
	})
}

// Resume continues a paused campaign.
func (cp *Campaign) Resume() error {
	return cp.change(func(p *C.vc_campaign, e *C.vcgo_err) C.int {
		return C.vcgo_campaign_resume(p, e)
	})
}

// Cancel stops a campaign and cancels its queued messages.
func (cp *Campaign) Cancel() error {
	return cp.change(func(p *C.vc_campaign, e *C.vcgo_err) C.int {
		return C.vcgo_campaign_cancel(p, e)
	})
}

// Counters reads the campaign's progress from the store.
func (cp *Campaign) Counters() (CampaignCounters, error) {
	p, err := cp.h.acquire()
	if err != nil {
		return CampaignCounters{}, err
	}
	defer cp.h.release()
	var k C.vc_campaign_counters
	C.vc_campaign_counters_init(&k, C.VC_CAMPAIGN_COUNTERS_VERSION)
	var e C.vcgo_err
	if rc := C.vcgo_campaign_counters_get(&k, (*C.vc_campaign)(p), &e); rc < 0 {
		return CampaignCounters{}, errorFrom(rc, &e)
	}
	return CampaignCounters{
		State: CampaignState(k.state), Total: uint64(k.total),
		Queued: uint64(k.queued), Sent: uint64(k.sent),
		Delivered: uint64(k.delivered), Failed: uint64(k.failed),
		Canceled: uint64(k.canceled), SkippedConsent: uint64(k.skipped_consent),
		SkippedAddress: uint64(k.skipped_address),
		DeferredQuiet:  uint64(k.deferred_quiet), Expired: uint64(k.expired),
		Open: uint64(k.open),
	}, nil
}

// State is the state in the handle's snapshot (Counters reads the
// store).
func (cp *Campaign) State() CampaignState {
	p, err := cp.h.acquire()
	if err != nil {
		return 0
	}
	defer cp.h.release()
	return CampaignState(C.vc_campaign_state((*C.vc_campaign)(p)))
}

// Name is the campaign's name.
func (cp *Campaign) Name() string {
	p, err := cp.h.acquire()
	if err != nil {
		return ""
	}
	defer cp.h.release()
	return gostr(C.vc_campaign_name((*C.vc_campaign)(p)))
}
