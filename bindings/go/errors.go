package vyomcomm

// #include "vcgo.h"
import "C"

import "fmt"

// Error is a failure reported by the library, or found by the binding
// before it called the library. Code is one of the library's pinned
// VC_E* codes (negative), Name its C name ("VC_ENOTFOUND"), Message the
// one-line detail the library gave for this failure.
//
// Compare with errors.Is against the sentinels (ErrNotFound, ErrConsent,
// ...): an *Error matches the sentinel of its code.
type Error struct {
	Code           int
	Name           string
	Message        string
	Class          int // a vc_error_class: where the error came from
	ProviderStatus int // an HTTP status or SIP code, when relevant

	sentinel bool
}

func (e *Error) Error() string {
	if e.Message == "" {
		return "vyomcomm: " + e.Name
	}
	return fmt.Sprintf("vyomcomm: %s (%s)", e.Message, e.Name)
}

// Is reports whether target is e itself, or the sentinel of e's code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok {
		return false
	}
	return t == e || (t.sentinel && t.Code == e.Code)
}

// The error codes of include/vyomcomm/errors.h. Their values are pinned.
const (
	codeError        = -1
	codeNoMem        = -2
	codeNotFound     = -3
	codeExists       = -4
	codeInvalid      = -5
	codeBusy         = -6
	codeTimeout      = -7
	codeAuth         = -8
	codeNotSupported = -9
	codeCanceled     = -10
	codeRateLimit    = -11
	codeProvider     = -12
	codeStorage      = -13
	codeVersion      = -14
	codeCrypto       = -15
	codeKey          = -16
	codeConflict     = -17
	codeTooBig       = -18
	codeEncoding     = -19
	codeCorrupt      = -20
	codeState        = -21
	codeNet          = -22
	codeConsent      = -23
	codeLoop         = -24
	codeUser         = -30
	codePassthrough  = -31
	codeIterOver     = -32
)

var codeNames = map[int]string{
	codeError: "VC_ERROR", codeNoMem: "VC_ENOMEM",
	codeNotFound: "VC_ENOTFOUND", codeExists: "VC_EEXISTS",
	codeInvalid: "VC_EINVALID", codeBusy: "VC_EBUSY",
	codeTimeout: "VC_ETIMEOUT", codeAuth: "VC_EAUTH",
	codeNotSupported: "VC_ENOTSUPPORTED", codeCanceled: "VC_ECANCELED",
	codeRateLimit: "VC_ERATELIMIT", codeProvider: "VC_EPROVIDER",
	codeStorage: "VC_ESTORAGE", codeVersion: "VC_EVERSION",
	codeCrypto: "VC_ECRYPTO", codeKey: "VC_EKEY",
	codeConflict: "VC_ECONFLICT", codeTooBig: "VC_ETOOBIG",
	codeEncoding: "VC_EENCODING", codeCorrupt: "VC_ECORRUPT",
	codeState: "VC_ESTATE", codeNet: "VC_ENET", codeConsent: "VC_ECONSENT",
	codeLoop: "VC_ELOOP",
	codeUser: "VC_EUSER", codePassthrough: "VC_PASSTHROUGH",
	codeIterOver: "VC_ITEROVER",
}

// CodeName is the C name of an error code ("VC_ENOTFOUND"), or
// "VC_E<code>" for a code this binding does not know.
func CodeName(code int) string {
	if n, ok := codeNames[code]; ok {
		return n
	}
	return fmt.Sprintf("VC_E%d", code)
}

// Strerror is the library's static description of a code.
func Strerror(code int) string {
	return C.GoString(C.vc_strerror(C.int(code)))
}

func sentinel(code int) *Error {
	return &Error{Code: code, Name: CodeName(code), Message: Strerror(code),
		sentinel: true}
}

// Sentinels, one per code: errors.Is(err, vyomcomm.ErrNotFound).
var (
	ErrGeneric      = sentinel(codeError)
	ErrNoMem        = sentinel(codeNoMem)
	ErrNotFound     = sentinel(codeNotFound)
	ErrExists       = sentinel(codeExists)
	ErrInvalid      = sentinel(codeInvalid)
	ErrBusy         = sentinel(codeBusy)
	ErrTimeout      = sentinel(codeTimeout)
	ErrAuth         = sentinel(codeAuth)
	ErrNotSupported = sentinel(codeNotSupported)
	ErrCanceled     = sentinel(codeCanceled)
	ErrRateLimit    = sentinel(codeRateLimit)
	ErrProvider     = sentinel(codeProvider)
	ErrStorage      = sentinel(codeStorage)
	ErrVersion      = sentinel(codeVersion)
	ErrCrypto       = sentinel(codeCrypto)
	ErrKey          = sentinel(codeKey)
	ErrConflict     = sentinel(codeConflict)
	ErrTooBig       = sentinel(codeTooBig)
	ErrEncoding     = sentinel(codeEncoding)
	ErrCorrupt      = sentinel(codeCorrupt)
	ErrState        = sentinel(codeState)
	ErrNet          = sentinel(codeNet)
	ErrConsent      = sentinel(codeConsent)
	ErrLoop         = sentinel(codeLoop)
	ErrUser         = sentinel(codeUser)
)

// ErrClosed is returned when a handle (or its context, or for a
// campaign its tenant) was closed. It has code VC_ESTATE, so
// errors.Is(err, ErrState) holds for it too.
var ErrClosed = &Error{Code: codeState, Name: "VC_ESTATE",
	Message: "the handle is closed"}

// errorFrom turns a captured vcgo_err into an *Error (nil for rc >= 0).
func errorFrom(rc C.int, e *C.vcgo_err) error {
	if rc >= 0 {
		return nil
	}
	code := int(rc)
	msg := C.GoString(&e.message[0])
	if msg == "" {
		msg = Strerror(code)
	}
	return &Error{Code: code, Name: CodeName(code), Message: msg,
		Class: int(e.klass), ProviderStatus: int(e.provider_status)}
}

// goError is an error the binding finds itself, before any C call.
func goError(code int, msg string) error {
	return &Error{Code: code, Name: CodeName(code), Message: msg}
}
