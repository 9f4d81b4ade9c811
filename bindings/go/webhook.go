package vyomcomm

// #include "vcgo.h"
import "C"

import (
	"io"
	"net/http"
	"strconv"
	"unsafe"
)

// WebhookMaxBody is the largest webhook body the library accepts.
const WebhookMaxBody = int(C.VC_WEBHOOK_MAX_BODY)

// HandleWebhook hands one provider webhook received by the host's own
// HTTP server to the library (vc_webhook_handle) and writes the response
// the provider expects: 200 once applied (or a duplicate), 401 for a bad
// signature, 404 for an unknown channel, 413 for a body over
// WebhookMaxBody, 400 for a malformed one, 500 when the store failed (so
// that the provider retries). Mount it where providers post,
// "/webhooks/" (Options.PublicBaseURL + "/webhooks/{channel_id}"):
//
//	http.Handle("/webhooks/", http.HandlerFunc(ctx.HandleWebhook))
func (c *Context) HandleWebhook(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, int64(WebhookMaxBody)+1))
	if err != nil {
		http.Error(w, "cannot read the body", http.StatusBadRequest)
		return
	}
	p, err := c.acquire()
	if err != nil {
		http.Error(w, "closed", http.StatusServiceUnavailable)
		return
	}
	defer c.release()
	var a cstrs
	defer a.free()
	req := (*C.vc_http_request)(C.calloc(1, C.size_t(unsafe.Sizeof(C.vc_http_request{}))))
	a.ptrs = append(a.ptrs, unsafe.Pointer(req))
	C.vc_http_request_init(req, C.VC_HTTP_REQUEST_VERSION)
	req.method = a.always(r.Method)
	req.target = a.always(r.RequestURI)
	req.remote_addr = a.str(r.RemoteAddr)
	// Go keeps Host apart from the other headers.
	n := 1
	for _, vs := range r.Header {
		n += len(vs)
	}
	hs := C.calloc(C.size_t(n), C.size_t(unsafe.Sizeof(C.vc_http_header{})))
	a.ptrs = append(a.ptrs, hs)
	arr := unsafe.Slice((*C.vc_http_header)(hs), n)
	arr[0].name, arr[0].value = a.always("Host"), a.always(r.Host)
	i := 1
	for name, vs := range r.Header {
		for _, v := range vs {
			arr[i].name, arr[i].value = a.always(name), a.always(v)
			i++
		}
	}
	req.headers = (*C.vc_http_header)(hs)
	req.nheaders = C.size_t(n)
	if len(body) > 0 {
		b := C.CBytes(body)
		a.ptrs = append(a.ptrs, b)
		req.body = (*C.uint8_t)(b)
		req.body_len = C.size_t(len(body))
	}
	if a.err != nil {
		http.Error(w, "a header holds a NUL byte", http.StatusBadRequest)
		return
	}
	res := (*C.vc_http_response)(C.calloc(1, C.size_t(unsafe.Sizeof(C.vc_http_response{}))))
	defer C.free(unsafe.Pointer(res))
	C.vc_http_response_init(res, C.VC_HTTP_RESPONSE_VERSION)
	var e C.vcgo_err
	C.vcgo_webhook_handle(res, p, req, &e) // the response says it all
	defer C.vc_http_response_dispose(res)
	if res.content_type != nil {
		w.Header().Set("Content-Type", C.GoString(res.content_type))
	}
	if res.nheaders > 0 {
		for _, h := range unsafe.Slice(res.headers, int(res.nheaders)) {
			w.Header().Add(gostr(h.name), gostr(h.value))
		}
	}
	status := int(res.status)
	if status == 0 {
		status = http.StatusInternalServerError
	}
	out := C.GoBytes(unsafe.Pointer(res.body.ptr), C.int(res.body.size))
	w.Header().Set("Content-Length", strconv.Itoa(len(out)))
	w.WriteHeader(status)
	w.Write(out)
}
