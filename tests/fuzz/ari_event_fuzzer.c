/*
 * Fuzz target for the asterisk-ari WebSocket event parser and the
 * update it maps an event to (adapters/voip/ari_proto.c).
 *
 * Input: the raw bytes are one WebSocket text message. Beyond what ASan
 * and UBSan catch, it aborts when an invariant breaks: a refusal is
 * VC_EINVALID or VC_ETOOBIG of the INVALID class with a one-line message
 * and leaves the event empty; an accepted event's strings are
 * NUL-terminated printable ASCII within their buffers; its update has a
 * known type, and an ENDED one a known cause.
 *
 * libFuzzer build (scratch directory, clang): as in mustache_fuzzer.c,
 * with tests/fuzz/ari_event_fuzzer.c and -o ari_event_fuzzer, then
 *   ./ari_event_fuzzer tests/fuzz/corpus/ari_event
 */
#include "core/common.h"
#include "core/buf.h"
#include "adapters/voip/ari.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_str(const char *s, size_t cap)
{
  size_t n = strnlen(s, cap);

  if (n == cap)
    abort();
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
      abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static vc__ari_config *cfg;
  vc__ari_event ev;
  vc_call_update u;
  vc_buf url = VC_BUF_INIT;
  char eid[400];
  char *text;
  int rc;

  if (cfg == NULL) {
    void *st = NULL;
    if (vc__ari_init(&st, "{\"base_url\": \"http://127.0.0.1:8088/ari\", "
                     "\"customer_endpoint\": \"PJSIP/{number}@trunk\"}",
                     "{\"username\": \"u\", \"password\": \"p\"}") != 0)
      abort();
    cfg = st;
  }
  if ((text = malloc(size + 1)) == NULL)
    return 0;
  memcpy(text, data, size);
  text[size] = '\0';
  rc = vc__ari_event_parse(&ev, text, size);
  if (rc < 0) {
    const vc_error *e = vc_error_last();
    if ((rc != VC_EINVALID && rc != VC_ETOOBIG) || e->code != rc ||
        e->klass != VC_ERRCLASS_INVALID || strchr(e->message, '\n') ||
        ev.type != 0 || ev.channel_id[0] != '\0' || ev.recording[0] != '\0')
      abort();
    free(text);
    return 0;
  }
  check_str(ev.name, sizeof(ev.name));
  check_str(ev.timestamp, sizeof(ev.timestamp));
  check_str(ev.channel_id, sizeof(ev.channel_id));
  check_str(ev.channel_state, sizeof(ev.channel_state));
  check_str(ev.arg0, sizeof(ev.arg0));
  check_str(ev.cause_txt, sizeof(ev.cause_txt));
  check_str(ev.recording, sizeof(ev.recording));
  if (vc__ari_event_update(&u, &ev, "call", VC_LEG_AGENT, eid, sizeof(eid),
                           &url, cfg) == 0) {
    if (u.type < 0 || u.type > VC_UPDATE_UNHOLD)
      abort();
    if (u.type == VC_UPDATE_ENDED &&
        (u.cause < VC_CAUSE_NORMAL || u.cause > VC_CAUSE_IVR))
      abort();
    if (u.type == VC_UPDATE_DTMF && strlen(u.digits) != 1)
      abort();
    check_str(eid, sizeof(eid));
  }
  vc_buf_dispose(&url);
  free(text);
  return 0;
}
