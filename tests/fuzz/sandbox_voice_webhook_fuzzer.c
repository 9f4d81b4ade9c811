/*
 * Fuzz target for sandbox-voice webhooks (adapters/sandbox/voice.c):
 * parse_webhook on the input as the body, every update going through
 * vc_event_sink_call()'s checks (src/net/sink.c).
 *
 * It aborts when an invariant breaks: an unexpected return code, an
 * error message on several lines, an update that passed the sink with
 * an unknown type or leg, DTMF without digits, more than 16 updates.
 *
 * libFuzzer build (scratch directory, clang): as in mustache_fuzzer.c,
 * with tests/fuzz/sandbox_voice_webhook_fuzzer.c and
 * -o sandbox_voice_webhook_fuzzer, then
 * ./sandbox_voice_webhook_fuzzer tests/fuzz/corpus/sandbox_voice_webhook
 */
#include "core/common.h"
#include "net/sink.h"
#include "adapters/builtin.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SV (&vc__adapter_sandbox_voice)

static int on_call(void *payload, const vc_call_update *u)
{
  int *n = payload;

  if (u->type < VC_UPDATE_RINGING || u->type > VC_UPDATE_UNHOLD ||
      u->leg < VC_LEG_NONE || u->leg > VC_LEG_CUSTOMER ||
      (u->type == VC_UPDATE_DTMF && (u->digits == NULL ||
                                     u->digits[0] == '\0')) ||
      u->occurred_at < 0 || u->duration_s < 0 || ++*n > 16)
    abort();
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static const int allowed[] = { 0, VC_EINVALID, VC_ETOOBIG, VC_EENCODING };
  vc_http_request req = VC_HTTP_REQUEST_INIT;
  vc_event_sink sink;
  void *state = NULL;
  size_t i = 0;
  int rc, n = 0;

  if (SV->init(&state, "{}", NULL) < 0)
    abort();
  req.method = "POST";
  req.target = "/webhooks/ch?vc_call=x";
  req.body = data;
  req.body_len = size;
  vc__sink_init(&sink, NULL, NULL, &n);
  vc__sink_set_call(&sink, on_call);
  if ((rc = SV->verify_webhook(state, &req, NULL)) == 0)
    rc = SV->parse_webhook(state, &req, &sink);
  while (i < VC_ARRAY_SIZE(allowed) && allowed[i] != rc)
    i++;
  if (i == VC_ARRAY_SIZE(allowed))
    abort();
  if (rc < 0)
    for (const char *p = vc_error_last()->message; *p; p++)
      if ((unsigned char)*p < 0x20)
        abort();
  vc__sink_fini(&sink);
  SV->fini(state);
  vc_error_clear();
  return 0;
}
