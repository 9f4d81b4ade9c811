/*
 * The body of the Exotel and mCube fuzz targets: verify_webhook,
 * parse_webhook and parse_call of one adapter on the same bytes (and
 * parse_control of FETCH_PRICE when FZ_PRICE_SID names a call).
 *
 * Input: the first line is the Content-Type (and the Retry-After of the
 * parse_call pass), the second the request target
 * ("/webhooks/ch?vc_call=...&vc_step=status&vc_token=..."), the rest the
 * body. Without a newline the whole input is a JSON body and the target
 * carries a valid token for FUZZ_CALL_ID, so seeds can pass the check.
 *
 * Beyond what ASan and UBSan catch, it aborts when an invariant breaks:
 * an unexpected return code; an error message on several lines or
 * quoting a credential; an update from a call that failed; an update
 * with an unknown type, leg or cause, without the provider's call id or
 * an event id, a recording URL that is not http(s); times going
 * backwards within one callback; the end not reported last but for the
 * recording (with FZ_ONE_CALLBACK: leg events without the end); a
 * send result with an unknown outcome, or accepted without
 * a provider id.
 */
#include "core/common.h"
#include "core/text.h"
#include "net/sink.h"
#include "adapters/builtin.h"

#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_SECRET "fuzz-webhook-secret-0123456789abcdef"
#define FUZZ_CALL_ID "01J9ZK3M2V7Q8R4T6W0X1Y2Z3C"

typedef struct fz_seen {
  int n, ended, type_after_end;
  int64_t last_at;
} fz_seen;

/* The input: an error message may quote it, and with it a secret the
 * input itself holds, without leaking anything. */
static const uint8_t *fz_g_in;
static size_t fz_g_in_len;

static int fz_quotes_secret(const char *message, const char *secret)
{
  return strstr(message, secret) != NULL &&
         memmem(fz_g_in, fz_g_in_len, secret, strlen(secret)) == NULL;
}

static void fz_check_error(int rc, const int *allowed, size_t n)
{
  const vc_error *e = vc_error_last();
  size_t i = 0;

  while (i < n && allowed[i] != rc)
    i++;
  if (i == n || e->code != rc || fz_quotes_secret(e->message, FUZZ_SECRET) ||
      fz_quotes_secret(e->message, FUZZ_KEY))
    abort();
  for (const char *p = e->message; *p; p++)
    if ((unsigned char)*p < 0x20 || *p == 0x7f)
      abort();
}

static int fz_on_call(void *payload, const vc_call_update *u)
{
  fz_seen *s = payload;

  if (u->version != VC_CALL_UPDATE_VERSION ||
      u->provider_call_id == NULL || u->provider_call_id[0] == '\0' ||
      u->event_id == NULL || u->leg < VC_LEG_NONE ||
      u->leg > VC_LEG_CUSTOMER || u->duration_s < 0 ||
      u->recording_duration_s < 0 || u->occurred_at < 0)
    abort();
  switch (u->type) {
  case VC_UPDATE_RINGING:
  case VC_UPDATE_ANSWERED:
    if (u->leg == VC_LEG_NONE || s->ended)
      abort();
    break;
  case VC_UPDATE_ENDED:
    if (s->ended ||
        u->cause < VC_CAUSE_NORMAL || u->cause > VC_CAUSE_IVR)
      abort();
    s->ended = 1;
    break;
  case VC_UPDATE_RECORDING:
    if (!s->ended || u->recording_status != VC_RECORDING_AVAILABLE ||
        u->recording_url == NULL ||
        strncmp(u->recording_url, "http", 4) != 0)
      abort();
    break;
  default:
    abort();
  }
  if (u->occurred_at != 0) {
    if (u->occurred_at < s->last_at)
      abort();
    s->last_at = u->occurred_at;
  }
  s->n++;
  return 0;
}

static void fz_parse_call(const char *retry_after, const char *body,
                          size_t len, void *state)
{
  static const int statuses[] = { 200, 400, 401, 429, 503 };
  vc_http_header h = { "Retry-After", retry_after };
  vc_call_outbound c;

  memset(&c, 0, sizeof(c));
  c.version = VC_CALL_OUTBOUND_VERSION;
  c.call_id = FUZZ_CALL_ID;
  for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
    vc_http_response res = VC_HTTP_RESPONSE_INIT;
    vc_send_result r;

    res.status = statuses[i];
    res.body.ptr = (char *)body;
    res.body.size = len;
    res.headers = retry_after ? &h : NULL;
    res.nheaders = retry_after ? 1 : 0;
    memset(&r, 0, sizeof(r));
    if (FZ_ADAPTER->parse_call(state, &c, &res, &r) != 0 ||
        r.outcome < VC_SEND_ACCEPTED || r.outcome > VC_SEND_FAILOVER ||
        r.retry_after_ms < 0 || r.retry_after_ms > 86400000 ||
        memchr(r.error_message, '\0', sizeof(r.error_message)) == NULL ||
        memchr(r.provider_id, '\0', sizeof(r.provider_id)) == NULL ||
        !vc__utf8_valid(r.error_message, strlen(r.error_message)) ||
        (r.outcome == VC_SEND_ACCEPTED) != (r.provider_id[0] != '\0'))
      abort();
  }
}

#ifdef FZ_PRICE_SID
/* parse_control of VC_CALL_OP_FETCH_PRICE: a price is a bounded,
 * non-negative amount with an ISO 4217 code, or no price at all. */
static void fz_parse_price(const char *body, size_t len, void *state)
{
  static const int statuses[] = { 200, 404, 401, 429, 503 };
  vc_call_control c;

  memset(&c, 0, sizeof(c));
  c.version = VC_CALL_CONTROL_VERSION;
  c.op = VC_CALL_OP_FETCH_PRICE;
  c.call_id = FUZZ_CALL_ID;
  c.provider_call_id = FZ_PRICE_SID;
  for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
    vc_http_response res = VC_HTTP_RESPONSE_INIT;
    vc_send_result r;

    res.status = statuses[i];
    res.body.ptr = (char *)body;
    res.body.size = len;
    memset(&r, 0, sizeof(r));
    if (FZ_ADAPTER->parse_control(state, &c, &res, &r) != 0 ||
        r.outcome < VC_SEND_ACCEPTED || r.outcome > VC_SEND_FAILOVER ||
        memchr(r.error_message, '\0', sizeof(r.error_message)) == NULL ||
        !vc__utf8_valid(r.error_message, strlen(r.error_message)) ||
        (r.outcome == VC_SEND_ACCEPTED &&
         (r.cost_micros < 0 || r.cost_micros >= INT64_C(1000000000000000) ||
          strlen(r.currency) != 3)) ||
        (r.outcome != VC_SEND_ACCEPTED && r.cost_micros != 0))
      abort();
  }
}
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static const int verify_codes[] = { VC_EAUTH, VC_ENOMEM };
  static const int parse_codes[] = { VC_EINVALID, VC_ETOOBIG,
                                     VC_EENCODING, VC_ENOMEM };
  static void *state;
  char *in = malloc(size + 1), *ctype = NULL, *body, *nl;
  const char *target = "/webhooks/ch?vc_call=" FUZZ_CALL_ID
    "&vc_step=status&vc_token=" FUZZ_TOKEN;
  vc_http_header h;
  vc_http_request req = VC_HTTP_REQUEST_INIT;
  vc_event_sink sink;
  fz_seen seen;
  size_t body_len;
  int rc;

  fz_g_in = data;
  fz_g_in_len = size;
  if (in == NULL)
    return 0;
  if (state == NULL && FZ_ADAPTER->init(&state, FZ_CONFIG, FZ_CREDS) != 0)
    abort();
  if (size > 0)
    memcpy(in, data, size);
  in[size] = '\0';
  body = in;
  body_len = size;
  if ((nl = memchr(in, '\n', size)) != NULL) {
    *nl = '\0';
    ctype = in;
    target = nl + 1;
    if ((nl = memchr(nl + 1, '\n', size - (size_t)(target - in))) != NULL) {
      *nl = '\0';
      body = nl + 1;
    } else {
      body = in + size;
    }
    body_len = size - (size_t)(body - in);
  }
  h.name = "Content-Type";
  h.value = ctype ? ctype : "application/json";
  req.method = "POST";
  req.target = target;
  req.headers = &h;
  req.nheaders = 1;
  req.body = (const uint8_t *)body;
  req.body_len = body_len;

  rc = FZ_ADAPTER->verify_webhook(state, &req, NULL);
  if (rc != 0)
    fz_check_error(rc, verify_codes, VC_ARRAY_SIZE(verify_codes));

  memset(&seen, 0, sizeof(seen));
  vc__sink_init(&sink, NULL, NULL, &seen);
  vc__sink_set_call(&sink, fz_on_call);
  rc = FZ_ADAPTER->parse_webhook(state, &req, &sink);
  if (rc != 0) {
    fz_check_error(rc, parse_codes, VC_ARRAY_SIZE(parse_codes));
    if (seen.n != 0 && rc != VC_ENOMEM)
      abort();
  }
#ifdef FZ_ONE_CALLBACK
  if (rc == 0 && seen.n > 0 && !seen.ended)
    abort();                    /* leg events come with the end */
#endif
  vc__sink_fini(&sink);

  fz_parse_call(ctype, body, body_len, state);
#ifdef FZ_PRICE_SID
  fz_parse_price(body, body_len, state);
#endif
  free(in);
  return 0;
}
