package vyomcomm

// #include "vcgo.h"
import "C"

import (
	"strings"
	"time"
	"unsafe"
)

// ContactSpec creates or updates a contact (vc_contact_spec). Empty
// strings leave a value as it is.
type ContactSpec struct {
	Name     string
	Phone    string
	Email    string
	Telegram string
	WhatsApp string
	Timezone string
	Locale   string
	Tags     []string
	Fields   any // custom fields, a JSON object; a null member removes one
}

// Address is one of a contact's addresses.
type Address struct {
	Kind  AddressKind
	Value string
}

// Contact is a snapshot of a contact, copied out of the library: a
// plain value, nothing to close.
type Contact struct {
	ID         string
	Name       string
	Timezone   string
	Locale     string
	FieldsJSON string
	Addresses  []Address
	Tags       []string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Address is the contact's first address of a kind, "" when none.
func (c Contact) Address(kind AddressKind) string {
	for _, a := range c.Addresses {
		if a.Kind == kind {
			return a.Value
		}
	}
	return ""
}

func contactFrom(c *C.vc_contact) Contact {
	out := Contact{
		ID:         gostr(C.vc_contact_id(c)),
		Name:       gostr(C.vc_contact_name(c)),
		Timezone:   gostr(C.vc_contact_timezone(c)),
		Locale:     gostr(C.vc_contact_locale(c)),
		FieldsJSON: gostr(C.vc_contact_fields_json(c)),
		CreatedAt:  msTime(C.vc_contact_created_at(c)),
		UpdatedAt:  msTime(C.vc_contact_updated_at(c)),
	}
	n := C.vc_contact_address_count(c)
	for i := C.size_t(0); i < n; i++ {
		var kind C.int
		s := C.vc_contact_address_at(c, i, &kind)
		if s == nil {
			break
		}
		out.Addresses = append(out.Addresses, Address{AddressKind(kind), C.GoString(s)})
	}
	n = C.vc_contact_tag_count(c)
	for i := C.size_t(0); i < n; i++ {
		if s := C.vc_contact_tag_at(c, i); s != nil {
			out.Tags = append(out.Tags, C.GoString(s))
		}
	}
	return out
}

// UpsertContact creates a contact, or updates the one holding one of
// the spec's addresses, and returns its id. ErrConflict when the
// addresses belong to two contacts.
func (t *Tenant) UpsertContact(spec ContactSpec) (string, error) {
	tp, err := t.acquire()
	if err != nil {
		return "", err
	}
	defer t.release()
	var a cstrs
	defer a.free()
	fields, err := jsonArg(spec.Fields)
	if err != nil {
		return "", err
	}
	var s C.vc_contact_spec
	C.vc_contact_spec_init(&s, C.VC_CONTACT_SPEC_VERSION)
	s.name = a.str(spec.Name)
	s.phone = a.str(spec.Phone)
	s.email = a.str(spec.Email)
	s.telegram = a.str(spec.Telegram)
	s.whatsapp = a.str(spec.WhatsApp)
	s.timezone = a.str(spec.Timezone)
	s.locale = a.str(spec.Locale)
	if len(spec.Tags) > 0 {
		s.tags = a.always(strings.Join(spec.Tags, ";"))
	}
	s.fields_json = a.str(fields)
	if a.err != nil {
		return "", a.err
	}
	var id [C.VC_ID_SIZE]C.char
	var e C.vcgo_err
	if rc := C.vcgo_contact_upsert(&id[0], tp, &s, &e); rc < 0 {
		return "", errorFrom(rc, &e)
	}
	return C.GoString(&id[0]), nil
}

// LookupContact loads a contact (a merged contact's id gives the
// survivor).
func (t *Tenant) LookupContact(id string) (Contact, error) {
	tp, err := t.acquire()
	if err != nil {
		return Contact{}, err
	}
	defer t.release()
	var a cstrs
	defer a.free()
	cid := a.always(id)
	if a.err != nil {
		return Contact{}, a.err
	}
	var c *C.vc_contact
	var e C.vcgo_err
	if rc := C.vcgo_contact_lookup(&c, tp, cid, &e); rc < 0 {
		return Contact{}, errorFrom(rc, &e)
	}
	defer C.vc_contact_free(c)
	return contactFrom(c), nil
}

// FindContact loads the contact holding an address.
func (t *Tenant) FindContact(kind AddressKind, address string) (Contact, error) {
	tp, err := t.acquire()
	if err != nil {
		return Contact{}, err
	}
	defer t.release()
	var a cstrs
	defer a.free()
	ca := a.always(address)
	if a.err != nil {
		return Contact{}, a.err
	}
	var c *C.vc_contact
	var e C.vcgo_err
	if rc := C.vcgo_contact_find_by_address(&c, tp, C.int(kind), ca, &e); rc < 0 {
		return Contact{}, errorFrom(rc, &e)
	}
	defer C.vc_contact_free(c)
	return contactFrom(c), nil
}

func (t *Tenant) contactDo(id, arg string,
	f func(tp *C.vc_tenant, id, arg *C.char, e *C.vcgo_err) C.int) error {
	tp, err := t.acquire()
	if err != nil {
		return err
	}
	defer t.release()
	var a cstrs
	defer a.free()
	cid, carg := a.always(id), a.always(arg)
	if a.err != nil {
		return a.err
	}
	var e C.vcgo_err
	return errorFrom(f(tp, cid, carg, &e), &e)
}

// TagContact adds a tag to a contact; UntagContact removes one.
func (t *Tenant) TagContact(id, tag string) error {
	return t.contactDo(id, tag, func(tp *C.vc_tenant, id, tag *C.char, e *C.vcgo_err) C.int {
		return C.vcgo_contact_tag_add(tp, id, tag, e)
	})
}

func (t *Tenant) UntagContact(id, tag string) error {
	return t.contactDo(id, tag, func(tp *C.vc_tenant, id, tag *C.char, e *C.vcgo_err) C.int {
		return C.vcgo_contact_tag_remove(tp, id, tag, e)
	})
}

// ContactFilter says which contacts Contacts lists, in creation order.
type ContactFilter struct {
	After        string
	Tag          string
	AddressKind  AddressKind
	NamePrefix   string
	UpdatedSince time.Time
}

// Contacts lists the tenant's live contacts.
func (t *Tenant) Contacts(filter ContactFilter) (*Iter[Contact], error) {
	tp, err := t.acquire()
	if err != nil {
		return nil, err
	}
	defer t.release()
	var a cstrs
	defer a.free()
	var f C.vc_contact_filter
	C.vc_contact_filter_init(&f, C.VC_CONTACT_FILTER_VERSION)
	f.after = a.str(filter.After)
	f.tag = a.str(filter.Tag)
	f.address_kind = C.int(filter.AddressKind)
	f.name_prefix = a.str(filter.NamePrefix)
	f.updated_since = timeMs(filter.UpdatedSince)
	if a.err != nil {
		return nil, a.err
	}
	var it *C.vc_iter
	var e C.vcgo_err
	if rc := C.vcgo_contact_list(&it, tp, &f, &e); rc < 0 {
		return nil, errorFrom(rc, &e)
	}
	return newIter(t.h.ctx, nil, unsafe.Pointer(it),
		func(ip unsafe.Pointer) (Contact, error, bool) {
			var c *C.vc_contact
			var e C.vcgo_err
			rc := C.vcgo_contact_next(&c, (*C.vc_iter)(ip), &e)
			if rc < 0 {
				return Contact{}, iterEnd(rc, &e), false
			}
			defer C.vc_contact_free(c)
			return contactFrom(c), nil, true
		}), nil
}

// ConsentSpec records a consent change (vc_consent_spec).
type ConsentSpec struct {
	ContactID string
	Kind      ChannelKind
	Category  Category // Transactional or Marketing; 0 = both
	State     ConsentState
	Source    string // "api" when ""
	Proof     string
}

// ConsentInfo is a contact's consent for one kind and category.
type ConsentInfo struct {
	State         ConsentState
	ChangedAt     time.Time
	Source        string
	RequiresOptIn bool // the tenant's policy needs an opt-in
	Allowed       bool // a send of this kind and category may reach them
}

// SetConsent records a consent change, with its log row.
func (t *Tenant) SetConsent(spec ConsentSpec) error {
	tp, err := t.acquire()
	if err != nil {
		return err
	}
	defer t.release()
	var a cstrs
	defer a.free()
	var s C.vc_consent_spec
	C.vc_consent_spec_init(&s, C.VC_CONSENT_SPEC_VERSION)
	s.contact_id = a.always(spec.ContactID)
	s.kind = C.int(spec.Kind)
	s.category = C.int(spec.Category)
	s.state = C.int(spec.State)
	s.source = a.str(spec.Source)
	s.proof = a.str(spec.Proof)
	if a.err != nil {
		return a.err
	}
	var e C.vcgo_err
	return errorFrom(C.vcgo_consent_set(tp, &s, &e), &e)
}

// Consent reads a contact's consent for a kind and category.
func (t *Tenant) Consent(contactID string, kind ChannelKind, cat Category) (ConsentInfo, error) {
	tp, err := t.acquire()
	if err != nil {
		return ConsentInfo{}, err
	}
	defer t.release()
	var a cstrs
	defer a.free()
	cid := a.always(contactID)
	if a.err != nil {
		return ConsentInfo{}, a.err
	}
	var i C.vc_consent_info
	C.vc_consent_info_init(&i, C.VC_CONSENT_INFO_VERSION)
	var e C.vcgo_err
	if rc := C.vcgo_consent_get(&i, tp, cid, C.int(kind), C.int(cat), &e); rc < 0 {
		return ConsentInfo{}, errorFrom(rc, &e)
	}
	return ConsentInfo{
		State:         ConsentState(i.state),
		ChangedAt:     msTime(i.changed_at),
		Source:        C.GoString(&i.source[0]),
		RequiresOptIn: i.requires_opt_in != 0,
		Allowed:       i.allowed != 0,
	}, nil
}

// SetConsentPolicy says whether a kind and category needs an opt-in.
func (t *Tenant) SetConsentPolicy(kind ChannelKind, cat Category, requiresOptIn bool) error {
	tp, err := t.acquire()
	if err != nil {
		return err
	}
	defer t.release()
	var e C.vcgo_err
	return errorFrom(C.vcgo_consent_policy_set(tp, C.int(kind), C.int(cat),
		cbool(requiresOptIn), &e), &e)
}

// AddDNC puts a number on the tenant's do-not-call list (source "" =
// "api"); calls to it are refused with ErrConsent, except OTP.
func (t *Tenant) AddDNC(number, source string) error {
	tp, err := t.acquire()
	if err != nil {
		return err
	}
	defer t.release()
	var a cstrs
	defer a.free()
	cn, cs := a.always(number), a.str(source)
	if a.err != nil {
		return a.err
	}
	var e C.vcgo_err
	return errorFrom(C.vcgo_dnc_add(tp, cn, cs, &e), &e)
}

// RemoveDNC takes a number off the list; ErrNotFound when not on it.
func (t *Tenant) RemoveDNC(number string) error {
	return t.contactDo(number, "", func(tp *C.vc_tenant, n, _ *C.char, e *C.vcgo_err) C.int {
		return C.vcgo_dnc_remove(tp, n, e)
	})
}

// OnDNC reports whether a number is on the do-not-call list.
func (t *Tenant) OnDNC(number string) (bool, error) {
	var on bool
	err := t.contactDo(number, "", func(tp *C.vc_tenant, n, _ *C.char, e *C.vcgo_err) C.int {
		rc := C.vcgo_dnc_contains(tp, n, e)
		if rc > 0 {
			on = true
			return 0
		}
		return rc
	})
	return on, err
}
