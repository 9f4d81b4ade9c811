package vyomcomm

// #include "vcgo.h"
import "C"

import (
	"runtime"
	"unsafe"
)

// QuietHours is a daily window in minutes after local midnight
// (0..1439); it may wrap past midnight.
type QuietHours struct {
	StartMin, EndMin int
}

// TenantSpec creates a tenant (vc_tenant_spec). Empty strings take the
// library's defaults ("UTC", "en", "USD").
type TenantSpec struct {
	Slug     string // [a-z0-9][a-z0-9_-]{0,62}; required
	Name     string
	Timezone string
	Locale   string
	Currency string
	Quiet    *QuietHours // nil: none
}

// Tenant is a tenant handle (vc_tenant): the security boundary of every
// other object. Safe to share between goroutines.
type Tenant struct {
	h  handle
	id string
}

func freeTenant(p unsafe.Pointer) { C.vc_tenant_free((*C.vc_tenant)(p)) }

func newTenant(c *Context, p *C.vc_tenant) *Tenant {
	t := &Tenant{id: C.GoString(C.vc_tenant_id(p))}
	t.h.init(c, nil, unsafe.Pointer(p), freeTenant)
	runtime.SetFinalizer(t, func(t *Tenant) { t.Close() })
	return t
}

// NewTenant creates a tenant. ErrExists when the slug is taken.
func (c *Context) NewTenant(spec TenantSpec) (*Tenant, error) {
	p, err := c.acquire()
	if err != nil {
		return nil, err
	}
	defer c.release()
	var a cstrs
	defer a.free()
	var s C.vc_tenant_spec
	C.vc_tenant_spec_init(&s, C.VC_TENANT_SPEC_VERSION)
	s.slug = a.always(spec.Slug)
	s.name = a.str(spec.Name)
	s.timezone = a.str(spec.Timezone)
	s.locale = a.str(spec.Locale)
	s.currency = a.str(spec.Currency)
	if spec.Quiet != nil {
		s.quiet_start_min = C.int(spec.Quiet.StartMin)
		s.quiet_end_min = C.int(spec.Quiet.EndMin)
	}
	if a.err != nil {
		return nil, a.err
	}
	var t *C.vc_tenant
	var e C.vcgo_err
	if rc := C.vcgo_tenant_new(&t, p, &s, &e); rc < 0 {
		return nil, errorFrom(rc, &e)
	}
	return newTenant(c, t), nil
}

// LookupTenant loads a live tenant by slug. ErrNotFound when none.
func (c *Context) LookupTenant(slug string) (*Tenant, error) {
	p, err := c.acquire()
	if err != nil {
		return nil, err
	}
	defer c.release()
	var a cstrs
	defer a.free()
	cs := a.always(slug)
	if a.err != nil {
		return nil, a.err
	}
	var t *C.vc_tenant
	var e C.vcgo_err
	if rc := C.vcgo_tenant_lookup(&t, p, cs, &e); rc < 0 {
		return nil, errorFrom(rc, &e)
	}
	return newTenant(c, t), nil
}

// Tenants lists the live tenants in creation order; close each one.
func (c *Context) Tenants(after string) (*Iter[*Tenant], error) {
	p, err := c.acquire()
	if err != nil {
		return nil, err
	}
	defer c.release()
	var a cstrs
	defer a.free()
	var f C.vc_tenant_filter
	C.vc_tenant_filter_init(&f, C.VC_TENANT_FILTER_VERSION)
	f.after = a.str(after)
	if a.err != nil {
		return nil, a.err
	}
	var it *C.vc_iter
	var e C.vcgo_err
	if rc := C.vcgo_tenant_list(&it, p, &f, &e); rc < 0 {
		return nil, errorFrom(rc, &e)
	}
	return newIter(c, nil, unsafe.Pointer(it),
		func(ip unsafe.Pointer) (*Tenant, error, bool) {
			var t *C.vc_tenant
			var e C.vcgo_err
			rc := C.vcgo_tenant_next(&t, (*C.vc_iter)(ip), &e)
			if rc < 0 {
				return nil, iterEnd(rc, &e), false
			}
			return newTenant(c, t), nil, true
		}), nil
}

// Close frees the handle; calling it again does nothing.
func (t *Tenant) Close() error {
	t.h.close(freeTenant)
	return nil
}

func (t *Tenant) acquire() (*C.vc_tenant, error) {
	p, err := t.h.acquire()
	return (*C.vc_tenant)(p), err
}

func (t *Tenant) release() { t.h.release() }

// ID is the tenant's id.
func (t *Tenant) ID() string { return t.id }

func (t *Tenant) str(get func(*C.vc_tenant) *C.char) string {
	p, err := t.acquire()
	if err != nil {
		return ""
	}
	defer t.release()
	return gostr(get(p))
}

// Slug, Name, Timezone, Locale and Currency are the tenant's settings
// ("" once the handle is closed).
func (t *Tenant) Slug() string {
	return t.str(func(p *C.vc_tenant) *C.char { return C.vc_tenant_slug(p) })
}
func (t *Tenant) Name() string {
	return t.str(func(p *C.vc_tenant) *C.char { return C.vc_tenant_name(p) })
}
func (t *Tenant) Timezone() string {
	return t.str(func(p *C.vc_tenant) *C.char { return C.vc_tenant_timezone(p) })
}
func (t *Tenant) Locale() string {
	return t.str(func(p *C.vc_tenant) *C.char { return C.vc_tenant_locale(p) })
}
func (t *Tenant) Currency() string {
	return t.str(func(p *C.vc_tenant) *C.char { return C.vc_tenant_currency(p) })
}
