package vyomcomm

// #include "vcgo.h"
import "C"

import (
	"runtime"
	"unsafe"
)

// ChannelSpec creates a channel (vc_channel_spec): a provider instance
// of the tenant.
type ChannelSpec struct {
	Name     string // [a-z0-9][a-z0-9_.-]{0,63}, unique per tenant; required
	Provider string // an adapter: "sandbox-sms", "twilio-sms", ...; required
	// Config holds the provider settings that are not secret and
	// Credentials the secrets (encrypted at rest): JSON objects, as
	// text or as values to marshal; nil = {}.
	Config      any
	Credentials any
	Sender      string
	Priority    int     // lower is tried first; 0 = the default (100)
	Rate        float64 // messages per second; 0 = no limit
	Kind        ChannelKind
}

// Channel is a channel handle (vc_channel).
type Channel struct {
	h  handle
	id string
}

func freeChannel(p unsafe.Pointer) { C.vc_channel_free((*C.vc_channel)(p)) }

func newChannel(c *Context, p *C.vc_channel) *Channel {
	ch := &Channel{id: C.GoString(C.vc_channel_id(p))}
	ch.h.init(c, nil, unsafe.Pointer(p), freeChannel)
	runtime.SetFinalizer(ch, func(ch *Channel) { ch.Close() })
	return ch
}

// NewChannel creates a channel. ErrNotFound for an unknown provider,
// ErrInvalid for settings the adapter refuses, ErrExists for a name
// taken, ErrKey for credentials without a master key.
func (t *Tenant) NewChannel(spec ChannelSpec) (*Channel, error) {
	tp, err := t.acquire()
	if err != nil {
		return nil, err
	}
	defer t.release()
	var a cstrs
	defer a.free()
	cfg, err := jsonArg(spec.Config)
	if err != nil {
		return nil, err
	}
	creds, err := jsonArg(spec.Credentials)
	if err != nil {
		return nil, err
	}
	var s C.vc_channel_spec
	C.vc_channel_spec_init(&s, C.VC_CHANNEL_SPEC_VERSION)
	s.name = a.always(spec.Name)
	s.provider = a.always(spec.Provider)
	s.config_json = a.str(cfg)
	s.credentials_json = a.str(creds)
	s.sender = a.str(spec.Sender)
	if spec.Priority != 0 {
		s.priority = C.int32_t(spec.Priority)
	}
	if spec.Rate != 0 {
		s.rate_per_second = C.double(spec.Rate)
	}
	s.kind = C.int(spec.Kind)
	if a.err != nil {
		return nil, a.err
	}
	var ch *C.vc_channel
	var e C.vcgo_err
	if rc := C.vcgo_channel_new(&ch, tp, &s, &e); rc < 0 {
		return nil, errorFrom(rc, &e)
	}
	return newChannel(t.h.ctx, ch), nil
}

// LookupChannel loads a channel by id or name.
func (t *Tenant) LookupChannel(idOrName string) (*Channel, error) {
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
	var ch *C.vc_channel
	var e C.vcgo_err
	if rc := C.vcgo_channel_lookup(&ch, tp, cs, &e); rc < 0 {
		return nil, errorFrom(rc, &e)
	}
	return newChannel(t.h.ctx, ch), nil
}

// Close frees the handle; calling it again does nothing.
func (ch *Channel) Close() error {
	ch.h.close(freeChannel)
	return nil
}

// ID is the channel's id.
func (ch *Channel) ID() string { return ch.id }

func (ch *Channel) get(f func(p *C.vc_channel)) bool {
	p, err := ch.h.acquire()
	if err != nil {
		return false
	}
	defer ch.h.release()
	f((*C.vc_channel)(p))
	return true
}

// Name, Provider, Sender, Kind and Enabled read the handle.
func (ch *Channel) Name() (s string) {
	ch.get(func(p *C.vc_channel) { s = gostr(C.vc_channel_name(p)) })
	return
}
func (ch *Channel) Provider() (s string) {
	ch.get(func(p *C.vc_channel) { s = gostr(C.vc_channel_provider(p)) })
	return
}
func (ch *Channel) Sender() (s string) {
	ch.get(func(p *C.vc_channel) { s = gostr(C.vc_channel_sender(p)) })
	return
}
func (ch *Channel) Kind() (k ChannelKind) {
	ch.get(func(p *C.vc_channel) { k = ChannelKind(C.vc_channel_kind_of(p)) })
	return
}
func (ch *Channel) Enabled() (b bool) {
	ch.get(func(p *C.vc_channel) { b = C.vc_channel_enabled(p) != 0 })
	return
}

// WebhookPath is where providers post this channel's webhooks,
// "/webhooks/{id}".
func (ch *Channel) WebhookPath() (s string) {
	ch.get(func(p *C.vc_channel) { s = gostr(C.vc_channel_webhook_path(p)) })
	return
}

func (ch *Channel) call(f func(p *C.vc_channel, e *C.vcgo_err) C.int) error {
	p, err := ch.h.acquire()
	if err != nil {
		return err
	}
	defer ch.h.release()
	var e C.vcgo_err
	return errorFrom(f((*C.vc_channel)(p), &e), &e)
}

// Disable stops routing messages through the channel; Enable resumes.
func (ch *Channel) Disable() error {
	return ch.call(func(p *C.vc_channel, e *C.vcgo_err) C.int {
		return C.vcgo_channel_disable(p, e)
	})
}
func (ch *Channel) Enable() error {
	return ch.call(func(p *C.vc_channel, e *C.vcgo_err) C.int {
		return C.vcgo_channel_enable(p, e)
	})
}
