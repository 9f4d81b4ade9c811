/*
 * What the SIP adapter (adapters/voip/sip.c) does with text on its own,
 * without libre: URI templates, the causes of SIP final statuses, and
 * the SDP, application/dtmf-relay and message/sipfrag bodies it reads or
 * rewrites. Pure functions, every input bounded, fuzzed by
 * tests/fuzz/sip_body_fuzzer.c. Internal.
 */
#ifndef VC_ADAPTERS_VOIP_SIP_TEXT_H
#define VC_ADAPTERS_VOIP_SIP_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "vyomcomm/buffer.h"

#define VC__SIP_URI_MAX 256     /* a URI or a URI template */
#define VC__SIP_NUMBER_MAX 32   /* what replaces {number} */
#define VC__SIP_SDP_MAX 8192    /* an SDP body we read */
#define VC__SIP_SDP_LINE_MAX 1024

/*
 * Check a URI template: "sip:" then printable ASCII without spaces,
 * '<', '>', '"' or '\\', at most VC__SIP_URI_MAX bytes, with "{number}"
 * exactly once in the part before '@' (the user part). 0 or VC_EINVALID
 * naming `what`.
 */
int vc__sip_check_template(const char *tmpl, const char *what);

/*
 * Check a plain sip: URI (an agent given as a URI, the proxy, the From
 * without {number}): the same characters as a template, no braces, and
 * a host after "sip:". 0 or VC_EINVALID naming `what`.
 */
int vc__sip_check_uri(const char *uri, const char *what);

/*
 * The template with {number} replaced by `number` (1..VC__SIP_NUMBER_MAX
 * of '+', digits, '*', '#', letters, '-', '.', '_'; '#' is written %23)
 * into `out` (`cap` bytes, NUL-terminated). 0, VC_EINVALID (a bad
 * number), VC_ETOOBIG (it does not fit).
 */
int vc__sip_expand(char *out, size_t cap, const char *tmpl,
                   const char *number);

/* The vc_call_cause of a final SIP status >= 300 (see docs/calls.md
 * "SIP"). */
int vc__sip_cause(int scode);

/*
 * Whether a final status of the agent's INVITE, received before any
 * provisional answer, says this channel cannot place calls now (5xx,
 * 408 without a provisional, 401/403/407 left after authentication):
 * then the call fails over to the next channel instead of ending.
 */
int vc__sip_failover_worthy(int scode);

/* SDP media directions. */
enum { VC__SDP_KEEP = 0, VC__SDP_SENDRECV, VC__SDP_SENDONLY,
       VC__SDP_RECVONLY, VC__SDP_INACTIVE };

/* The origin (o= line) the library writes in the SDP it sends on one
 * dialog: the session id stays, the version goes up by one every time. */
typedef struct vc__sdp_origin {
  uint64_t sess_id;
  uint64_t version;
  char addr[64];              /* our address, "127.0.0.1" */
} vc__sdp_origin;

/*
 * Restate `sdp` (a body some party sent) as our own on one dialog: its
 * o= line replaced by `origin` (whose version is bumped first), and
 * unless `dir` is VC__SDP_KEEP every direction attribute dropped and
 * `a=<dir>` put at the end of each media section. The lines are written
 * with CRLF. VC_EINVALID for a body that is not SDP (a line that is not
 * "<letter>=", no v= first, no m= line, a line or the body too long,
 * a NUL byte).
 */
int vc__sip_sdp_restate(vc_buf *out, const char *sdp, size_t n, int dir,
                        vc__sdp_origin *origin);

/*
 * An answer to the offer `sdp` that accepts every stream the offer did
 * not reject (with the offer's first format and its rtpmap/fmtp lines)
 * but sends and receives nothing: a=inactive, port 9. What the agent's
 * phone gets while the customer is called (docs/calls.md "SIP").
 * VC_EINVALID as vc__sip_sdp_restate.
 */
int vc__sip_sdp_inactive_answer(vc_buf *out, const char *sdp, size_t n,
                                vc__sdp_origin *origin);

/*
 * The key of an application/dtmf-relay body ("Signal=5\r\nDuration=160")
 * into *digit: '0'-'9', '*', '#', 'A'-'D' ("10" and "11" read as '*' and
 * '#'). 0 or VC_EINVALID.
 */
int vc__sip_dtmf_relay(char *digit, const char *body, size_t n);

/*
 * The key of an application/dtmf body: the key alone ("5", blanks and a
 * line end around it allowed), as application/dtmf-relay's keys. 0 or
 * VC_EINVALID.
 */
int vc__sip_dtmf_plain(char *digit, const char *body, size_t n);

#define VC__SIP_USER_MAX 64     /* a user part we take from a request */
#define VC__SIP_HOST_MAX 128

/*
 * The number a call taken is to, from its URI's user part and host
 * (`port` 0: none): "sip:user@host[:port]" into `out` (`cap` bytes). The
 * core takes the URI itself as a number or, when the user part is a
 * phone number, that number. VC_EINVALID for an empty or overlong part
 * or a byte a URI may not hold there, VC_ETOOBIG when it does not fit.
 */
int vc__sip_called(char *out, size_t cap, const char *user, size_t ul,
                   const char *host, size_t hl, unsigned port);

/*
 * The caller of a call taken, from its From URI's user part and host:
 * the user part alone when it is a phone number ('+' then 3 to 20
 * digits, or the digits alone), "" when the caller is withheld (no user
 * part, "anonymous", the host "anonymous.invalid"), else
 * "sip:user@host". Errors as vc__sip_called().
 */
int vc__sip_caller(char *out, size_t cap, const char *user, size_t ul,
                   const char *host, size_t hl);

/*
 * The status code of a message/sipfrag body's first line
 * ("SIP/2.0 180 Ringing"), 100..699, or VC_EINVALID.
 */
int vc__sip_sipfrag(const char *body, size_t n);

#endif
