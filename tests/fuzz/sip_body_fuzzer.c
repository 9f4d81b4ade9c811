/*
 * Fuzz target for the bodies the SIP adapter reads itself
 * (adapters/voip/sip_text.c): SDP restated on our dialogs and answered
 * inactive, application/dtmf-relay, application/dtmf and message/sipfrag. libre parses the
 * SIP messages around them.
 *
 * Input: the first byte picks the direction of the restate; the rest is
 * the body, given to every parser. Beyond what ASan and UBSan catch, it
 * aborts when an invariant breaks: a restated body must parse again and
 * restate to itself (with the next origin version); an answer must parse
 * too; a failure must leave the output empty and the origin's version as
 * it was; a DTMF key is one of 0-9 * # A-D; a sipfrag code is 100..699.
 *
 * libFuzzer build (scratch directory, clang): as in mustache_fuzzer.c,
 * with tests/fuzz/sip_body_fuzzer.c and -o sip_body_fuzzer, then
 *   ./sip_body_fuzzer tests/fuzz/corpus/sip_body
 */
#include "core/common.h"
#include "core/buf.h"
#include "adapters/voip/sip_text.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The body with its o= line's version digits dropped, for comparing
 * two restatements that differ only there. */
static int same_but_version(const vc_buf *a, const vc_buf *b)
{
  const char *pa = strstr(a->ptr, "\no=vyomcomm "), *pb =
      strstr(b->ptr, "\no=vyomcomm ");
  const char *ea, *eb;

  if (pa == NULL || pb == NULL || pa - a->ptr != pb - b->ptr ||
      memcmp(a->ptr, b->ptr, (size_t)(pa - a->ptr)) != 0)
    return 0;
  ea = strstr(pa, "\r\n");
  eb = strstr(pb, "\r\n");
  return ea && eb && strcmp(ea, eb) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *body;
  size_t n;
  int dir, rc, code;
  vc__sdp_origin o = { 99, 7, "127.0.0.1" };
  vc_buf out = VC_BUF_INIT, again = VC_BUF_INIT;
  char digit = 0;

  if (size == 0)
    return 0;
  dir = data[0] % 5;
  body = (const char *)data + 1;
  n = size - 1;

  rc = vc__sip_sdp_restate(&out, body, n, dir, &o);
  if (rc < 0) {
    if (rc != VC_EINVALID || out.ptr != NULL || o.version != 7)
      abort();
  } else {
    if (o.version != 8 || out.ptr == NULL || strlen(out.ptr) != out.size)
      abort();
    if (vc__sip_sdp_restate(&again, out.ptr, out.size, dir, &o) != 0 ||
        o.version != 9 || !same_but_version(&out, &again))
      abort();
  }
  o.version = 7;
  rc = vc__sip_sdp_inactive_answer(&out, body, n, &o);
  if (rc < 0) {
    if (rc != VC_EINVALID || o.version != 7)
      abort();
  } else if (vc__sip_sdp_restate(&again, out.ptr, out.size, VC__SDP_KEEP,
                                 &o) != 0) {
    abort();
  }
  vc_buf_dispose(&out);
  vc_buf_dispose(&again);

  if (vc__sip_dtmf_relay(&digit, body, n) == 0 &&
      strchr("0123456789*#ABCD", digit) == NULL)
    abort();
  digit = 0;
  if (vc__sip_dtmf_plain(&digit, body, n) == 0 &&
      (digit == 0 || strchr("0123456789*#ABCD", digit) == NULL))
    abort();
  code = vc__sip_sipfrag(body, n);
  if (code >= 0 && (code < 100 || code > 699))
    abort();
  return 0;
}
