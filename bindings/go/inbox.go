package vyomcomm

// #include "vcgo.h"
import "C"

import (
	"time"
	"unsafe"
)

// ConversationStatus is a conversation's status (vc_conversation_status).
type ConversationStatus int

const (
	ConversationOpen     ConversationStatus = 1
	ConversationPending  ConversationStatus = 2 // answered, waiting on the customer
	ConversationResolved ConversationStatus = 3
	ConversationSnoozed  ConversationStatus = 4
)

func (s ConversationStatus) String() string {
	return C.GoString(C.vc_conversation_status_name(C.int(s)))
}

// Conversation is a snapshot of a conversation of the unified inbox
// (one per contact, across channels), copied out of the library: a
// plain value, nothing to close. The Tenant methods change it by id.
type Conversation struct {
	ID              string
	ContactID       string
	Status          ConversationStatus // a snooze that ended reads as open
	SnoozedUntil    time.Time
	AssigneeID      string // an agent id, "" when unassigned
	Unread          int64  // inbound messages since last read or answered
	LastChannelID   string // the channel of the latest inbound message
	LastChannelKind ChannelKind
	LastActivityAt  time.Time
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

func conversationFrom(c *C.vc_conversation) Conversation {
	return Conversation{
		ID:              gostr(C.vc_conversation_id(c)),
		ContactID:       gostr(C.vc_conversation_contact_id(c)),
		Status:          ConversationStatus(C.vc_conversation_status_of(c)),
		SnoozedUntil:    msTime(C.vc_conversation_snoozed_until(c)),
		AssigneeID:      gostr(C.vc_conversation_assignee_id(c)),
		Unread:          int64(C.vc_conversation_unread(c)),
		LastChannelID:   gostr(C.vc_conversation_last_channel_id(c)),
		LastChannelKind: ChannelKind(C.vc_conversation_last_channel_kind(c)),
		LastActivityAt:  msTime(C.vc_conversation_last_activity_at(c)),
		CreatedAt:       msTime(C.vc_conversation_created_at(c)),
		UpdatedAt:       msTime(C.vc_conversation_updated_at(c)),
	}
}

func (t *Tenant) loadConversation(key string,
	f func(out **C.vc_conversation, tp *C.vc_tenant, key *C.char, e *C.vcgo_err) C.int) (Conversation, error) {
	tp, err := t.acquire()
	if err != nil {
		return Conversation{}, err
	}
	defer t.release()
	var a cstrs
	defer a.free()
	ck := a.always(key)
	if a.err != nil {
		return Conversation{}, a.err
	}
	var c *C.vc_conversation
	var e C.vcgo_err
	if rc := f(&c, tp, ck, &e); rc < 0 {
		return Conversation{}, errorFrom(rc, &e)
	}
	defer C.vc_conversation_free(c)
	return conversationFrom(c), nil
}

// LookupConversation loads a conversation by id. ErrInvalid (not an
// id), ErrNotFound.
func (t *Tenant) LookupConversation(id string) (Conversation, error) {
	return t.loadConversation(id, func(out **C.vc_conversation, tp *C.vc_tenant, k *C.char, e *C.vcgo_err) C.int {
		return C.vcgo_conversation_lookup(out, tp, k, e)
	})
}

// ContactConversation loads a contact's conversation. ErrNotFound when
// the contact has none yet.
func (t *Tenant) ContactConversation(contactID string) (Conversation, error) {
	return t.loadConversation(contactID, func(out **C.vc_conversation, tp *C.vc_tenant, k *C.char, e *C.vcgo_err) C.int {
		return C.vcgo_conversation_lookup_contact(out, tp, k, e)
	})
}

// ConversationFilter says which conversations Conversations lists,
// newest activity first; every condition set must hold.
type ConversationFilter struct {
	After        string // a cursor from Iter.Cursor
	Status       ConversationStatus
	AssigneeID   string // an agent id
	Unassigned   bool   // only those nobody is assigned (not with AssigneeID)
	Unread       bool   // only those with unread messages
	ChannelKind  ChannelKind
	UpdatedSince time.Time
	// Text searches the contact's name and addresses and the text of
	// its messages (at most 100 bytes; ASCII letters in either case).
	Text string
}

// Conversations lists the tenant's conversations, newest activity
// first. ErrInvalid (a bad cursor, status, kind or agent id; Unassigned
// with AssigneeID), ErrTooBig (search text too long).
func (t *Tenant) Conversations(filter ConversationFilter) (*Iter[Conversation], error) {
	tp, err := t.acquire()
	if err != nil {
		return nil, err
	}
	defer t.release()
	var a cstrs
	defer a.free()
	var f C.vc_conversation_filter
	C.vc_conversation_filter_init(&f, C.VC_CONVERSATION_FILTER_VERSION)
	f.after = a.str(filter.After)
	f.status = C.int(filter.Status)
	f.assignee_id = a.str(filter.AssigneeID)
	f.unassigned = cbool(filter.Unassigned)
	f.unread = cbool(filter.Unread)
	f.channel_kind = C.int(filter.ChannelKind)
	f.updated_since = timeMs(filter.UpdatedSince)
	f.text = a.str(filter.Text)
	if a.err != nil {
		return nil, a.err
	}
	var it *C.vc_iter
	var e C.vcgo_err
	if rc := C.vcgo_conversation_list(&it, tp, &f, &e); rc < 0 {
		return nil, errorFrom(rc, &e)
	}
	return newIter(t.h.ctx, nil, unsafe.Pointer(it),
		func(ip unsafe.Pointer) (Conversation, error, bool) {
			var c *C.vc_conversation
			var e C.vcgo_err
			rc := C.vcgo_conversation_next(&c, (*C.vc_iter)(ip), &e)
			if rc < 0 {
				return Conversation{}, iterEnd(rc, &e), false
			}
			defer C.vc_conversation_free(c)
			return conversationFrom(c), nil, true
		}), nil
}

// conversationDo calls f with the conversation id and an optional
// second string (NULL when "") as C strings.
func (t *Tenant) conversationDo(id, arg string,
	f func(tp *C.vc_tenant, id, arg *C.char, e *C.vcgo_err) C.int) error {
	tp, err := t.acquire()
	if err != nil {
		return err
	}
	defer t.release()
	var a cstrs
	defer a.free()
	cid, carg := a.always(id), a.str(arg)
	if a.err != nil {
		return a.err
	}
	var e C.vcgo_err
	return errorFrom(f(tp, cid, carg, &e), &e)
}

// SetConversationStatus sets a conversation's status; snoozedUntil is
// only for ConversationSnoozed (a time in the future) and zero
// otherwise. ErrInvalid, ErrNotFound.
func (t *Tenant) SetConversationStatus(id string, status ConversationStatus,
	snoozedUntil time.Time) error {
	return t.conversationDo(id, "", func(tp *C.vc_tenant, id, _ *C.char, e *C.vcgo_err) C.int {
		return C.vcgo_conversation_set_status(tp, id, C.int(status),
			timeMs(snoozedUntil), e)
	})
}

// ResolveConversation closes a conversation (resolved) until the
// customer writes again; ReopenConversation opens it again.
func (t *Tenant) ResolveConversation(id string) error {
	return t.SetConversationStatus(id, ConversationResolved, time.Time{})
}
func (t *Tenant) ReopenConversation(id string) error {
	return t.SetConversationStatus(id, ConversationOpen, time.Time{})
}

// SnoozeConversation sets a conversation aside until a future time; it
// reads as open from then on.
func (t *Tenant) SnoozeConversation(id string, until time.Time) error {
	if until.IsZero() {
		return goError(codeInvalid, "SnoozeConversation: no time given")
	}
	return t.SetConversationStatus(id, ConversationSnoozed, until)
}

// AssignConversation assigns a conversation to an agent (by id or
// name), replacing any earlier assignee. ErrInvalid, ErrNotFound (no such
// conversation or agent).
func (t *Tenant) AssignConversation(id, agent string) error {
	if agent == "" {
		return goError(codeInvalid, "AssignConversation: no agent")
	}
	return t.conversationDo(id, agent, func(tp *C.vc_tenant, id, ag *C.char, e *C.vcgo_err) C.int {
		return C.vcgo_conversation_assign(tp, id, ag, e)
	})
}

// UnassignConversation leaves a conversation unassigned.
func (t *Tenant) UnassignConversation(id string) error {
	return t.conversationDo(id, "", func(tp *C.vc_tenant, id, _ *C.char, e *C.vcgo_err) C.int {
		return C.vcgo_conversation_unassign(tp, id, e)
	})
}

// MarkConversationRead sets a conversation's unread count to 0.
func (t *Tenant) MarkConversationRead(id string) error {
	return t.conversationDo(id, "", func(tp *C.vc_tenant, id, _ *C.char, e *C.vcgo_err) C.int {
		return C.vcgo_conversation_mark_read(tp, id, e)
	})
}

// ReplyConversation queues a reply to the customer on the channel of
// the conversation's latest inbound message, to the address it came
// from, and returns the message id; the conversation becomes read and
// pending. spec gives the body (Text, HTML, Subject, Template, Vars,
// Attachments, Category, IdempotencyKey, SendAt); its Kind, Channel, To
// and ContactID must be unset. ErrInvalid, ErrNotFound (no such
// conversation, or no inbound message yet), and every error of Send
// (ErrConsent, ...); nothing changes on an error.
func (t *Tenant) ReplyConversation(id string, spec MessageSpec) (string, error) {
	tp, err := t.acquire()
	if err != nil {
		return "", err
	}
	defer t.release()
	var a cstrs
	defer a.free()
	cid := a.always(id)
	var s C.vc_message_spec
	if err := a.messageSpec(&s, &spec); err != nil {
		return "", err
	}
	var out [C.VC_ID_SIZE]C.char
	var e C.vcgo_err
	if rc := C.vcgo_conversation_reply(&out[0], tp, cid, &s, &e); rc < 0 {
		return "", errorFrom(rc, &e)
	}
	return C.GoString(&out[0]), nil
}

// ConversationItemType is what a timeline item is
// (vc_conversation_item_type).
type ConversationItemType int

const (
	ItemInbound   ConversationItemType = 1
	ItemOutbound  ConversationItemType = 2
	ItemCall      ConversationItemType = 3
	ItemVoicemail ConversationItemType = 4
)

func (k ConversationItemType) String() string {
	switch k {
	case ItemInbound:
		return "inbound"
	case ItemOutbound:
		return "outbound"
	case ItemCall:
		return "call"
	case ItemVoicemail:
		return "voicemail"
	}
	return "unknown"
}

// ConversationItem is one entry of a contact's timeline, copied out.
type ConversationItem struct {
	Type        ConversationItemType
	ID          string // the inbound message's, message's or call's id
	At          time.Time
	ChannelKind ChannelKind
	ChannelID   string // "" while not routed
	Text        string // the start of a message's text; "" for a call
	// Status is an outbound message's MessageStatus, a call's (or a
	// voicemail's call's) CallState, 0 for an inbound message.
	Status       int
	RecordingURL string        // a voicemail's
	Duration     time.Duration // a voicemail's
}

// ItemFilter says whose timeline ConversationItems reads: a
// conversation's, or (ConversationID "") a contact's.
type ItemFilter struct {
	ConversationID string
	ContactID      string
	After          string
	NewestFirst    bool
}

// ConversationItems lists a timeline: inbound and outbound messages,
// calls and voicemails, in time order (oldest first unless
// NewestFirst). ErrInvalid (neither or both of ConversationID and
// ContactID, not an id, a bad cursor), ErrNotFound.
func (t *Tenant) ConversationItems(filter ItemFilter) (*Iter[ConversationItem], error) {
	tp, err := t.acquire()
	if err != nil {
		return nil, err
	}
	defer t.release()
	var a cstrs
	defer a.free()
	var f C.vc_conversation_item_filter
	C.vc_conversation_item_filter_init(&f, C.VC_CONVERSATION_ITEM_FILTER_VERSION)
	f.conversation_id = a.str(filter.ConversationID)
	f.contact_id = a.str(filter.ContactID)
	f.after = a.str(filter.After)
	f.newest_first = cbool(filter.NewestFirst)
	if a.err != nil {
		return nil, a.err
	}
	var it *C.vc_iter
	var e C.vcgo_err
	if rc := C.vcgo_conversation_items(&it, tp, &f, &e); rc < 0 {
		return nil, errorFrom(rc, &e)
	}
	return newIter(t.h.ctx, nil, unsafe.Pointer(it),
		func(ip unsafe.Pointer) (ConversationItem, error, bool) {
			var i *C.vc_conversation_item
			var e C.vcgo_err
			rc := C.vcgo_conversation_item_next(&i, (*C.vc_iter)(ip), &e)
			if rc < 0 {
				return ConversationItem{}, iterEnd(rc, &e), false
			}
			defer C.vc_conversation_item_free(i)
			return ConversationItem{
				Type:         ConversationItemType(C.vc_conversation_item_type_of(i)),
				ID:           gostr(C.vc_conversation_item_id(i)),
				At:           msTime(C.vc_conversation_item_at(i)),
				ChannelKind:  ChannelKind(C.vc_conversation_item_channel_kind(i)),
				ChannelID:    gostr(C.vc_conversation_item_channel_id(i)),
				Text:         gostr(C.vc_conversation_item_text(i)),
				Status:       int(C.vc_conversation_item_status(i)),
				RecordingURL: gostr(C.vc_conversation_item_recording_url(i)),
				Duration:     time.Duration(C.vc_conversation_item_duration(i)) * time.Second,
			}, nil, true
		}), nil
}
