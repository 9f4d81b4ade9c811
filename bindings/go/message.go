package vyomcomm

// #include "vcgo.h"
import "C"

import (
	"time"
	"unsafe"
)

// Attachment is a file sent with a message: bytes or a URL.
type Attachment struct {
	Filename    string
	ContentType string
	Data        []byte
	URL         string
}

// MessageSpec is what to send (vc_message_spec). Either a raw body
// (Text, HTML, Subject) or a Template with Vars.
type MessageSpec struct {
	Kind           ChannelKind // 0 when Channel is set
	Channel        string      // a channel id or name; "" routes by Kind
	To             string
	From           string
	Subject        string
	Text           string
	HTML           string
	Template       string // a template id or name
	Locale         string
	Vars           any // a JSON object, as text or a value to marshal
	Attachments    []Attachment
	Metadata       any // a JSON object kept with the message
	IdempotencyKey string
	SendAt         time.Time // zero = as soon as possible
	Category       Category  // 0 = the template's, or transactional
	ContactID      string
}

// Message is a snapshot of a stored message, copied out of the library:
// a plain value, nothing to close.
type Message struct {
	ID              string
	Status          MessageStatus
	Kind            ChannelKind
	ChannelID       string
	To              string
	ProviderID      string
	ErrorCode       int // the normalized VC_E* code of a failure, else 0
	ProviderCode    string
	ErrorMessage    string
	Segments        int
	Attempts        int
	TemplateVersion int
	Category        Category
	ContactID       string
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

func messageFrom(m *C.vc_message) Message {
	return Message{
		ID:              gostr(C.vc_message_id(m)),
		Status:          MessageStatus(C.vc_message_status(m)),
		Kind:            ChannelKind(C.vc_message_kind(m)),
		ChannelID:       gostr(C.vc_message_channel_id(m)),
		To:              gostr(C.vc_message_to(m)),
		ProviderID:      gostr(C.vc_message_provider_id(m)),
		ErrorCode:       int(C.vc_message_error(m)),
		ProviderCode:    gostr(C.vc_message_provider_code(m)),
		ErrorMessage:    gostr(C.vc_message_error_message(m)),
		Segments:        int(C.vc_message_segments(m)),
		Attempts:        int(C.vc_message_attempts(m)),
		TemplateVersion: int(C.vc_message_template_version(m)),
		Category:        Category(C.vc_message_category(m)),
		ContactID:       gostr(C.vc_message_contact_id(m)),
		CreatedAt:       msTime(C.vc_message_created_at(m)),
		UpdatedAt:       msTime(C.vc_message_updated_at(m)),
	}
}

// messageSpec fills s from spec; attachments go to C memory (s itself
// may be Go memory, so it must hold no Go pointer).
func (a *cstrs) messageSpec(s *C.vc_message_spec, spec *MessageSpec) error {
	C.vc_message_spec_init(s, C.VC_MESSAGE_SPEC_VERSION)
	vars, err := jsonArg(spec.Vars)
	if err != nil {
		return err
	}
	meta, err := jsonArg(spec.Metadata)
	if err != nil {
		return err
	}
	s.kind = C.int(spec.Kind)
	s.channel = a.str(spec.Channel)
	s.to = a.str(spec.To)
	s.from = a.str(spec.From)
	s.subject = a.str(spec.Subject)
	s.text = a.str(spec.Text)
	s.html = a.str(spec.HTML)
	s.template_name = a.str(spec.Template)
	s.locale = a.str(spec.Locale)
	s.vars_json = a.str(vars)
	s.metadata_json = a.str(meta)
	s.idempotency_key = a.str(spec.IdempotencyKey)
	s.send_at = timeMs(spec.SendAt)
	s.category = C.int(spec.Category)
	s.contact_id = a.str(spec.ContactID)
	if n := len(spec.Attachments); n > 0 {
		if n > C.VC_MESSAGE_MAX_ATTACHMENTS {
			return goError(codeTooBig, "too many attachments")
		}
		mem := C.calloc(C.size_t(n), C.size_t(unsafe.Sizeof(C.vc_attachment{})))
		a.ptrs = append(a.ptrs, mem)
		arr := unsafe.Slice((*C.vc_attachment)(mem), n)
		for i, at := range spec.Attachments {
			arr[i].filename = a.str(at.Filename)
			arr[i].content_type = a.str(at.ContentType)
			arr[i].url = a.str(at.URL)
			if len(at.Data) > 0 {
				d := C.CBytes(at.Data)
				a.ptrs = append(a.ptrs, d)
				arr[i].data = (*C.uint8_t)(d)
				arr[i].len = C.size_t(len(at.Data))
			}
		}
		s.attachments = (*C.vc_attachment)(mem)
		s.nattachments = C.size_t(n)
	}
	return a.err
}

// Send validates, renders and stores a message as queued, in one
// transaction, and returns its id; the engine (Run or Start) sends it.
// ErrConsent when the recipient may not be reached, ErrInvalid,
// ErrNotFound, ErrTooBig, ErrConflict (an idempotency key reused with
// other content).
func (t *Tenant) Send(spec MessageSpec) (string, error) {
	tp, err := t.acquire()
	if err != nil {
		return "", err
	}
	defer t.release()
	var a cstrs
	defer a.free()
	var s C.vc_message_spec
	if err := a.messageSpec(&s, &spec); err != nil {
		return "", err
	}
	var id [C.VC_ID_SIZE]C.char
	var e C.vcgo_err
	if rc := C.vcgo_message_send(&id[0], tp, &s, &e); rc < 0 {
		return "", errorFrom(rc, &e)
	}
	return C.GoString(&id[0]), nil
}

// SendResult is the outcome of one message of SendMany.
type SendResult struct {
	ID  string // "" when not stored
	Err error
}

// SendManyMax is the most messages one SendMany call takes.
const SendManyMax = int(C.VC_MESSAGE_SEND_MANY_MAX)

// SendMany stores several messages in one transaction: each is
// validated on its own, and one refused does not stop the others. The
// error is non-nil only when the call failed as a whole (nothing
// stored).
func (t *Tenant) SendMany(specs []MessageSpec) ([]SendResult, error) {
	if len(specs) == 0 {
		return nil, nil
	}
	if len(specs) > SendManyMax {
		return nil, goError(codeInvalid, "SendMany: more than SendManyMax messages")
	}
	tp, err := t.acquire()
	if err != nil {
		return nil, err
	}
	defer t.release()
	var a cstrs
	defer a.free()
	n := len(specs)
	cs := make([]C.vc_message_spec, n)
	for i := range specs {
		if err := a.messageSpec(&cs[i], &specs[i]); err != nil {
			return nil, err
		}
	}
	ids := make([]C.char, n*C.VC_ID_SIZE)
	results := make([]C.int, n)
	var e C.vcgo_err
	rc := C.vcgo_message_send_many(tp, &cs[0], C.size_t(n), &ids[0],
		&results[0], &e)
	if rc < 0 {
		return nil, errorFrom(rc, &e)
	}
	out := make([]SendResult, n)
	for i := range out {
		out[i].ID = C.GoString(&ids[i*C.VC_ID_SIZE])
		if r := int(results[i]); r < 0 {
			// Per-message details are not kept by the library: the
			// code and its description.
			out[i].Err = goError(r, Strerror(r))
		}
	}
	return out, nil
}

// LookupMessage loads a message. ErrNotFound also for another tenant's.
func (t *Tenant) LookupMessage(id string) (Message, error) {
	tp, err := t.acquire()
	if err != nil {
		return Message{}, err
	}
	defer t.release()
	var a cstrs
	defer a.free()
	cid := a.always(id)
	if a.err != nil {
		return Message{}, a.err
	}
	var m *C.vc_message
	var e C.vcgo_err
	if rc := C.vcgo_message_lookup(&m, tp, cid, &e); rc < 0 {
		return Message{}, errorFrom(rc, &e)
	}
	defer C.vc_message_free(m)
	return messageFrom(m), nil
}

// CancelMessage cancels a message still queued. ErrState once it is
// being sent or final.
func (t *Tenant) CancelMessage(id string) error {
	tp, err := t.acquire()
	if err != nil {
		return err
	}
	defer t.release()
	var a cstrs
	defer a.free()
	cid := a.always(id)
	if a.err != nil {
		return a.err
	}
	var e C.vcgo_err
	return errorFrom(C.vcgo_message_cancel(tp, cid, &e), &e)
}

// MessageFilter says which messages Messages lists, newest first.
type MessageFilter struct {
	After   string // a cursor from Iter.Cursor
	Status  MessageStatus
	Channel string // a channel id
	Since   time.Time
	Until   time.Time
}

// Messages lists the tenant's messages, newest first.
func (t *Tenant) Messages(filter MessageFilter) (*Iter[Message], error) {
	tp, err := t.acquire()
	if err != nil {
		return nil, err
	}
	defer t.release()
	var a cstrs
	defer a.free()
	var f C.vc_message_filter
	C.vc_message_filter_init(&f, C.VC_MESSAGE_FILTER_VERSION)
	f.after = a.str(filter.After)
	f.status = C.int(filter.Status)
	f.channel = a.str(filter.Channel)
	f.since = timeMs(filter.Since)
	f.until = timeMs(filter.Until)
	if a.err != nil {
		return nil, a.err
	}
	var it *C.vc_iter
	var e C.vcgo_err
	if rc := C.vcgo_message_list(&it, tp, &f, &e); rc < 0 {
		return nil, errorFrom(rc, &e)
	}
	return newIter(t.h.ctx, nil, unsafe.Pointer(it),
		func(ip unsafe.Pointer) (Message, error, bool) {
			var m *C.vc_message
			var e C.vcgo_err
			rc := C.vcgo_message_next(&m, (*C.vc_iter)(ip), &e)
			if rc < 0 {
				return Message{}, iterEnd(rc, &e), false
			}
			defer C.vc_message_free(m)
			return messageFrom(m), nil, true
		}), nil
}
