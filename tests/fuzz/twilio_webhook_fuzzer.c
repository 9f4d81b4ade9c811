/*
 * Fuzz target for the Twilio Messaging adapter's webhook handling
 * (adapters/sms/twilio.c): X-Twilio-Signature verification and
 * parse_webhook, plus parse_send on the same bytes.
 *
 * Input: the first line is the X-Twilio-Signature header (and the
 * Retry-After header of the parse_send pass), the second the request
 * target ("/webhooks/ch?vc_msg=..."), the rest the form body. Without a
 * newline the whole input is the body and there is no signature. The
 * public URL is "https://hooks.example.com" + target; the auth token is
 * fixed (FUZZ_TOKEN), so seeds can carry valid signatures.
 *
 * Beyond what ASan and UBSan catch, it aborts when an invariant breaks:
 * an unexpected return code, an error message on several lines or
 * quoting the token, an event reported by a call that failed, more than
 * one event per request, an inbound message answered with anything but
 * empty TwiML, a send result with an unknown outcome, and a 201 answer
 * read otherwise than cJSON reads it: the adapter reads plain bodies
 * with its own scanner, which must agree with cJSON on every body.
 *
 * libFuzzer build (scratch directory, clang): as in mustache_fuzzer.c,
 * with tests/fuzz/twilio_webhook_fuzzer.c and -o twilio_webhook_fuzzer,
 * then ./twilio_webhook_fuzzer tests/fuzz/corpus/twilio_webhook
 */
#include "core/common.h"
#include "core/json.h"
#include "core/text.h"
#include "net/fetch.h"
#include "net/sink.h"
#include "adapters/builtin.h"

#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_TOKEN "feedfacecafebeef0123456789abcdef"
#define TW (&vc__adapter_twilio_sms)

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

static int on_status(void *payload, const vc_status_update *u)
{
  (void)payload;
  if (u->status < VC_MSG_SENT || u->status > VC_MSG_CANCELED ||
      u->provider_id == NULL || strlen(u->provider_id) != 34 ||
      u->event_id != NULL ||
      (u->message_id != NULL &&
       (u->message_id[0] == '\0' || strlen(u->message_id) > 64)))
    abort();
  return 0;
}

static int on_inbound(void *payload, const vc_inbound *m)
{
  (void)payload;
  if (m->from == NULL || m->from[0] == '\0' || m->provider_id == NULL ||
      m->nmedia > 10 || (m->text == NULL && m->nmedia == 0))
    abort();
  for (size_t i = 0; i < m->nmedia; i++)
    if (strncmp(m->media_urls[i], "http", 4) != 0)
      abort();
  return 0;
}

static vc_send_result parse_201(const char *body, size_t len)
{
  vc_http_response res = VC_HTTP_RESPONSE_INIT;
  vc_send_result r;

  res.status = 201;
  res.body.ptr = (char *)body;       /* borrowed: reserved stays 0 */
  res.body.size = len;
  memset(&r, 0, sizeof(r));
  if (TW->parse_send(NULL, NULL, &res, &r) != 0)
    abort();
  return r;
}

/* The 201 outcome of `got` must be the one of a body holding only the
 * three members cJSON reads from this one (the sid, the price and its
 * unit, each when a string), as the adapter's cJSON path reads them. */
static void check_same_as_cjson(const char *body, size_t len,
                                const vc_send_result *got)
{
  static const char *const keys[] = { "sid", "price", "price_unit" };
  cJSON *doc = cJSON_ParseWithLengthOpts(body, len, NULL, 0);
  cJSON *only = cJSON_CreateObject();
  vc_send_result want;
  char *text;

  if (only == NULL)
    abort();
  for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
    const char *v = cJSON_IsObject(doc) ? vc__json_str(doc, keys[i]) : NULL;

    if (v != NULL && cJSON_AddStringToObject(only, keys[i], v) == NULL)
      abort();
  }
  if ((text = cJSON_PrintUnformatted(only)) == NULL)
    abort();
  want = parse_201(text, strlen(text));
  if (got->outcome != want.outcome || got->error != want.error ||
      strcmp(got->provider_id, want.provider_id) != 0 ||
      got->cost_micros != want.cost_micros ||
      strcmp(got->currency, want.currency) != 0 ||
      strcmp(got->error_message, want.error_message) != 0)
    abort();
  cJSON_free(text);
  cJSON_Delete(only);
  cJSON_Delete(doc);
}

static void fuzz_send(const char *retry_after, const char *body,
                      size_t len)
{
  static const int statuses[] = { 201, 400, 429, 503 };
  vc_http_header h = { "Retry-After", retry_after };

  for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
    vc_http_response res = VC_HTTP_RESPONSE_INIT;
    vc_send_result r;

    res.status = statuses[i];
    res.body.ptr = (char *)body;     /* borrowed: reserved stays 0 */
    res.body.size = len;
    res.headers = retry_after ? &h : NULL;
    res.nheaders = retry_after ? 1 : 0;
    memset(&r, 0, sizeof(r));
    if (TW->parse_send(NULL, NULL, &res, &r) != 0 ||
        r.outcome < VC_SEND_ACCEPTED || r.outcome > VC_SEND_FAILOVER ||
        r.retry_after_ms < 0 || r.retry_after_ms > 86400000 ||
        r.cost_micros < 0 ||
        memchr(r.error_message, '\0', sizeof(r.error_message)) == NULL ||
        !vc__utf8_valid(r.error_message, strlen(r.error_message)) ||
        (r.outcome == VC_SEND_ACCEPTED) != (r.provider_id[0] != '\0'))
      abort();
    if (statuses[i] == 201 && len > 0)
      check_same_as_cjson(body, len, &r);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static const int verify_codes[] = { VC_EAUTH, VC_ETOOBIG, VC_EINVALID,
                                      VC_ENOMEM };
  static const int parse_codes[] = { VC_EINVALID, VC_ETOOBIG,
                                     VC_EENCODING, VC_ENOMEM };
  static void *state;
  char *in = malloc(size + 1), *sig = NULL, *body, *nl, *url = NULL;
  const char *target = "/webhooks/ch";
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
      TW->init(&state, "{\"account_sid\": "
               "\"AC0123456789abcdef0123456789abcdef\"}",
               "{\"auth_token\": \"" FUZZ_TOKEN "\"}") != 0)
    abort();
  if (size > 0)
    memcpy(in, data, size);
  in[size] = '\0';
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

  rc = TW->verify_webhook(state, &req, VC__WEBHOOK_ENV(url, 0));
  if (rc != 0)
    check_error(rc, verify_codes, VC_ARRAY_SIZE(verify_codes));

  vc__sink_init(&sink, on_status, on_inbound, NULL);
  rc = TW->parse_webhook(state, &req, &sink);
  if (rc != 0) {
    check_error(rc, parse_codes, VC_ARRAY_SIZE(parse_codes));
    if (sink.nevents != 0 && rc != VC_ENOMEM)
      abort();
  }
  if (sink.nevents > 1)
    abort();
  if (sink.reply_status != 0 &&
      (sink.reply_status != 200 || sink.reply_content_type == NULL ||
       strcmp(sink.reply_content_type, "text/xml") != 0 ||
       strstr(sink.reply_body.ptr, "<Response/>") == NULL))
    abort();
  vc__sink_fini(&sink);

  fuzz_send(sig, body, body_len);
out:
  free(url);
  free(in);
  return 0;
}
