package vyomcomm

// #include "vcgo.h"
import "C"

import (
	"runtime"
	"unsafe"
)

// TemplateSpec is one variant of a template (vc_template_spec).
type TemplateSpec struct {
	Name      string // required by NewTemplate
	Kind      ChannelKind
	Locale    string // "" = the tenant's
	Subject   string // email
	Text      string
	HTML      string   // email
	Variables []string // declared names ("coupon?" optional); nil = any
	Category  Category
}

// RenderSpec says what Template.Render renders (vc_template_render_spec).
type RenderSpec struct {
	Kind    ChannelKind // 0 = the kind of the first version
	Locale  string
	Vars    any          // a JSON object, as text or a value to marshal
	Part    TemplatePart // 0 = text, or HTML when there is no text
	Version int          // 0 = the latest
}

// TemplatePart is the part of a variant to render.
type TemplatePart int

const (
	PartText    TemplatePart = 1
	PartHTML    TemplatePart = 2
	PartSubject TemplatePart = 3
)

// Template is a template handle (vc_template).
type Template struct {
	h  handle
	id string
}

func freeTemplate(p unsafe.Pointer) { C.vc_template_free((*C.vc_template)(p)) }

func newTemplate(c *Context, p *C.vc_template) *Template {
	tp := &Template{id: C.GoString(C.vc_template_id(p))}
	tp.h.init(c, nil, unsafe.Pointer(p), freeTemplate)
	runtime.SetFinalizer(tp, func(tp *Template) { tp.Close() })
	return tp
}

func (a *cstrs) templateSpec(spec TemplateSpec) (C.vc_template_spec, error) {
	var s C.vc_template_spec
	C.vc_template_spec_init(&s, C.VC_TEMPLATE_SPEC_VERSION)
	s.name = a.str(spec.Name)
	s.kind = C.int(spec.Kind)
	s.locale = a.str(spec.Locale)
	s.subject = a.str(spec.Subject)
	s.text_body = a.str(spec.Text)
	s.html_body = a.str(spec.HTML)
	if spec.Variables != nil {
		v, err := jsonArg(spec.Variables)
		if err != nil {
			return s, err
		}
		s.variables_json = a.always(v)
	}
	s.category = C.int(spec.Category)
	return s, a.err
}

// NewTemplate creates a template with its first variant, as version 1.
func (t *Tenant) NewTemplate(spec TemplateSpec) (*Template, error) {
	tp, err := t.acquire()
	if err != nil {
		return nil, err
	}
	defer t.release()
	var a cstrs
	defer a.free()
	s, err := a.templateSpec(spec)
	if err != nil {
		return nil, err
	}
	var tpl *C.vc_template
	var e C.vcgo_err
	if rc := C.vcgo_template_new(&tpl, tp, &s, &e); rc < 0 {
		return nil, errorFrom(rc, &e)
	}
	return newTemplate(t.h.ctx, tpl), nil
}

// LookupTemplate loads a template by id or name.
func (t *Tenant) LookupTemplate(idOrName string) (*Template, error) {
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
	var tpl *C.vc_template
	var e C.vcgo_err
	if rc := C.vcgo_template_lookup(&tpl, tp, cs, &e); rc < 0 {
		return nil, errorFrom(rc, &e)
	}
	return newTemplate(t.h.ctx, tpl), nil
}

// Close frees the handle; calling it again does nothing.
func (tp *Template) Close() error {
	tp.h.close(freeTemplate)
	return nil
}

// ID is the template's id.
func (tp *Template) ID() string { return tp.id }

// Name is the template's name; Version the latest version it knows.
func (tp *Template) Name() string {
	p, err := tp.h.acquire()
	if err != nil {
		return ""
	}
	defer tp.h.release()
	return gostr(C.vc_template_name((*C.vc_template)(p)))
}

func (tp *Template) Version() int {
	p, err := tp.h.acquire()
	if err != nil {
		return 0
	}
	defer tp.h.release()
	return int(C.vc_template_version((*C.vc_template)(p)))
}

// AddVariant adds or replaces a variant: a new version.
func (tp *Template) AddVariant(spec TemplateSpec) error {
	p, err := tp.h.acquire()
	if err != nil {
		return err
	}
	defer tp.h.release()
	var a cstrs
	defer a.free()
	s, err := a.templateSpec(spec)
	if err != nil {
		return err
	}
	var e C.vcgo_err
	return errorFrom(C.vcgo_template_add_variant((*C.vc_template)(p), &s, &e), &e)
}

// Render renders one part; nothing is stored. ErrInvalid names a
// missing variable.
func (tp *Template) Render(spec RenderSpec) (string, error) {
	p, err := tp.h.acquire()
	if err != nil {
		return "", err
	}
	defer tp.h.release()
	var a cstrs
	defer a.free()
	vars, err := jsonArg(spec.Vars)
	if err != nil {
		return "", err
	}
	var s C.vc_template_render_spec
	C.vc_template_render_spec_init(&s, C.VC_TEMPLATE_RENDER_SPEC_VERSION)
	s.kind = C.int(spec.Kind)
	s.locale = a.str(spec.Locale)
	s.vars_json = a.str(vars)
	s.part = C.int(spec.Part)
	s.template_version = C.int(spec.Version)
	if a.err != nil {
		return "", a.err
	}
	// The buffer is C memory: a Go-allocated vc_buf would have C write
	// a C pointer into Go memory, which is allowed, but keeping it in C
	// keeps the rule simple.
	buf := (*C.vc_buf)(C.calloc(1, C.size_t(unsafe.Sizeof(C.vc_buf{}))))
	defer C.free(unsafe.Pointer(buf))
	var e C.vcgo_err
	if rc := C.vcgo_template_render(buf, (*C.vc_template)(p), &s, &e); rc < 0 {
		return "", errorFrom(rc, &e)
	}
	out := C.GoStringN(buf.ptr, C.int(buf.size))
	C.vc_buf_dispose(buf)
	return out, nil
}
