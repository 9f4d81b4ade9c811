/*
 * Fuzz target for the Twilio Voice adapter (adapters/voip/twilio_voice.c):
 * verify_webhook and parse_webhook on a request, render_script on a
 * script built from the same bytes, and parse_control of a call's price
 * (FETCH_PRICE) on the body.
 *
 * Input: the first line is the X-Twilio-Signature header, the second the
 * request target ("/webhooks/ch?vc_call=...&vc_step=agent"), the rest
 * the form body. Without a newline the whole input is the body, with
 * vc_step=agent. The public URL is "https://hooks.example.com" + target.
 * For render_script, the body's bytes are cut at '|' into the text,
 * URL, target and keys of one step of each kind.
 *
 * Beyond what ASan and UBSan catch, it aborts when an invariant breaks:
 * an unexpected return code, an error message on several lines or
 * quoting the token, updates reported by a call that failed, an update
 * of an unknown type or leg, TwiML that is not one <Response> document
 * or holds a raw '<' from the input.
 *
 * libFuzzer build: as in mustache_fuzzer.c, with
 * tests/fuzz/twilio_voice_fuzzer.c and -o twilio_voice_fuzzer, then
 * ./twilio_voice_fuzzer tests/fuzz/corpus/twilio_voice
 */
#include "core/common.h"
#include "core/text.h"
#include "net/fetch.h"
#include "net/sink.h"
#include "adapters/builtin.h"

#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The call core's (src/net/sink.h on i5-core). */
void vc__sink_set_call(vc_event_sink *s,
                       int (*on_call)(void *payload,
                                      const vc_call_update *u));

#define FUZZ_TOKEN "feedfacecafebeef0123456789abcdef"
#define TV (&vc__adapter_twilio_voice)

/* The input: an error message may quote it, and with it a secret the
 * input itself holds, without leaking anything. */
static const uint8_t *g_in;
static size_t g_in_len;

static int quotes_secret(const char *message, const char *secret)
{
  return strstr(message, secret) != NULL &&
         memmem(g_in, g_in_len, secret, strlen(secret)) == NULL;
}

static void check_error(int rc, const int *allowed, size_t n)
{
  const vc_error *e = vc_error_last();
  size_t i = 0;

  while (i < n && allowed[i] != rc)
    i++;
  if (i == n || e->code != rc || quotes_secret(e->message, FUZZ_TOKEN))
    abort();
  for (const char *p = e->message; *p; p++)
    if ((unsigned char)*p < 0x20 || *p == 0x7f)
      abort();
}

static int on_call(void *payload, const vc_call_update *u)
{
  (void)payload;
  if (u->type < VC_UPDATE_RINGING || u->type > VC_UPDATE_UNHOLD ||
      u->leg < VC_LEG_NONE || u->leg > VC_LEG_CUSTOMER ||
      u->provider_call_id == NULL || strlen(u->provider_call_id) != 34 ||
      u->duration_s < 0 || u->recording_duration_s < 0 ||
      (u->type == VC_UPDATE_DTMF &&
       (u->digits == NULL || u->digits[0] == '\0')) ||
      (u->type == VC_UPDATE_RECORDING && u->recording_id == NULL))
    abort();
  return 0;
}

static long count_lt(const char *doc)
{
  long n = 0;

  for (; doc != NULL && *doc; doc++)
    n += *doc == '<';
  return n;
}

/* The '<' of the document of `sc` with every text "x": its own tags,
 * which escaped input adds none to. -1 when it does not render. */
static long skeleton_tags(void *state, const vc_call_script *sc)
{
  vc_call_step s[8];
  vc_call_script k = *sc;
  vc_buf out = VC_BUF_INIT;
  const char *ct = NULL;
  long n;

  memcpy(s, sc->steps, sc->nsteps * sizeof(s[0]));
  for (size_t i = 0; i < sc->nsteps; i++)
    s[i].text = "x";
  k.steps = s;
  n = TV->render_script(state, &k, &out, &ct) != 0 ? -1
                                                    : count_lt(out.ptr);
  vc_buf_dispose(&out);
  return n;
}

/* One step of each kind from '|'-separated pieces of the input. */
static void fuzz_render(void *state, char *in)
{
  static const int codes[] = { VC_EINVALID, VC_ETOOBIG, VC_EENCODING,
                               VC_ENOMEM };
  const char *piece[4] = { "", "", "", "" };
  vc_call_step s[8];
  vc_call_script sc = { VC_CALL_SCRIPT_VERSION, s, 8 };
  vc_buf out = VC_BUF_INIT;
  const char *ct = NULL;
  size_t np = 0;
  int rc;

  for (char *p = in; np < 4; np++) {
    piece[np] = p;
    if ((p = strchr(p, '|')) == NULL) {
      np++;
      break;
    }
    *p++ = '\0';
  }
  memset(s, 0, sizeof(s));
  for (int k = 0; k < 8; k++) {
    s[k].kind = k + 1;
    s[k].text = piece[0];
    s[k].url = piece[1][0] ? piece[1] : NULL;
    s[k].target = piece[2];
    s[k].finish_on_key = piece[3];
    s[k].action_url = piece[1];
    s[k].loop = (unsigned)strlen(piece[0]) % 4;
    s[k].timeout_s = (int)strlen(piece[2]) % 700;
  }
  /* each step alone, then all of them */
  for (int k = 0; k <= 8; k++) {
    sc.steps = k < 8 ? &s[k] : s;
    sc.nsteps = k < 8 ? 1 : 8;
    rc = TV->render_script(state, &sc, &out, &ct);
    if (rc != 0) {
      check_error(rc, codes, VC_ARRAY_SIZE(codes));
      continue;
    }
    {
      const char *r = out.ptr ? strstr(out.ptr, "<Response>") : NULL;
      if (ct == NULL || strcmp(ct, "text/xml") != 0 || r == NULL ||
          strstr(r + 1, "<Response>") != NULL || out.size < 11 ||
          strcmp(out.ptr + out.size - 11, "</Response>") != 0)
        abort();
    }
    /* the input's markup never reaches the document unescaped: its
     * text adds no '<' (its own characters may still be found there:
     * ";<" escaped ends "&lt;" before "</Say>") */
    if (strchr(piece[0], '<') != NULL) {
      long tags = skeleton_tags(state, &sc);
      if (tags >= 0 && count_lt(out.ptr) != tags)
        abort();
    }
  }
  vc_buf_dispose(&out);
}

/* parse_control of VC_CALL_OP_FETCH_PRICE on the body: a price is a
 * bounded, non-negative amount with an ISO 4217 code, or none. */
static void fuzz_price(void *state, const char *body, size_t len)
{
  static const int statuses[] = { 200, 404, 401, 429, 503 };
  vc_call_control c;

  memset(&c, 0, sizeof(c));
  c.version = VC_CALL_CONTROL_VERSION;
  c.op = VC_CALL_OP_FETCH_PRICE;
  c.call_id = "c1";
  c.provider_call_id = "CA0123456789abcdef0123456789abcdef";
  for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
    vc_http_response res = VC_HTTP_RESPONSE_INIT;
    vc_send_result r;

    res.status = statuses[i];
    res.body.ptr = (char *)body;
    res.body.size = len;
    memset(&r, 0, sizeof(r));
    if (TV->parse_control(state, &c, &res, &r) != 0 ||
        r.outcome < VC_SEND_ACCEPTED || r.outcome > VC_SEND_FAILOVER ||
        memchr(r.error_message, '\0', sizeof(r.error_message)) == NULL ||
        (r.outcome == VC_SEND_ACCEPTED && c.op == VC_CALL_OP_FETCH_PRICE &&
         res.status == 200 &&
         (r.cost_micros < 0 || r.cost_micros >= INT64_C(1000000000000000) ||
          strlen(r.currency) != 3)))
      abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static const int verify_codes[] = { VC_EAUTH, VC_ETOOBIG, VC_EINVALID,
                                      VC_ENOMEM };
  static const int parse_codes[] = { VC_EINVALID, VC_ETOOBIG,
                                     VC_EENCODING, VC_ENOMEM };
  static void *state;
  char *in = malloc(size + 1), *copy = NULL, *sig = NULL, *body, *nl;
  char *url = NULL;
  const char *target = "/webhooks/ch?vc_call=c1&vc_step=agent";
  vc_http_header h[2];
  vc_http_request req = VC_HTTP_REQUEST_INIT;
  vc_event_sink sink;
  size_t body_len;
  int rc;

  g_in = data;
  g_in_len = size;
  if (in == NULL)
    return 0;
  if (state == NULL &&
      TV->init(&state, "{\"account_sid\": "
               "\"AC0123456789abcdef0123456789abcdef\"}",
               "{\"auth_token\": \"" FUZZ_TOKEN "\"}") != 0)
    abort();
  if (size > 0)
    memcpy(in, data, size);
  in[size] = '\0';
  if ((copy = strdup(in)) == NULL)
    goto out;
  body = in;
  body_len = size;
  if ((nl = memchr(in, '\n', size)) != NULL) {
    *nl = '\0';
    sig = in;
    target = nl + 1;
    if ((nl = memchr(nl + 1, '\n', size - (size_t)(target - in))) != NULL) {
      *nl = '\0';
      body = nl + 1;
    } else {
      body = in + size;
    }
    body_len = size - (size_t)(body - in);
  }
  if ((url = malloc(strlen(target) + 32)) == NULL)
    goto out;
  snprintf(url, strlen(target) + 32, "https://hooks.example.com%s",
           target);
  h[0].name = "X-Twilio-Signature";
  h[0].value = sig;
  h[1].name = "Content-Type";
  h[1].value = "application/x-www-form-urlencoded";
  req.method = "POST";
  req.target = target;
  req.headers = sig ? h : h + 1;
  req.nheaders = sig ? 2 : 1;
  req.body = (const uint8_t *)body;
  req.body_len = body_len;

  rc = TV->verify_webhook(state, &req, VC__WEBHOOK_ENV(url, 0));
  if (rc != 0)
    check_error(rc, verify_codes, VC_ARRAY_SIZE(verify_codes));
  vc__sink_init(&sink, NULL, NULL, NULL);
  vc__sink_set_call(&sink, on_call);
  rc = TV->parse_webhook(state, &req, &sink);
  if (rc != 0) {
    check_error(rc, parse_codes, VC_ARRAY_SIZE(parse_codes));
    if (sink.nevents != 0 && rc != VC_ENOMEM)
      abort();
  }
  if (sink.nevents > 2)
    abort();
  vc__sink_fini(&sink);
  fuzz_render(state, copy);
  fuzz_price(state, body, body_len);
out:
  free(copy);
  free(url);
  free(in);
  return 0;
}
