/*
 * Fuzz target for the WhatsApp Cloud API adapter
 * (adapters/chat/whatsapp.c): the X-Hub-Signature-256 check and
 * parse_webhook of a notification or of a GET handshake, and parse_send
 * of the same bytes as an answer.
 *
 * Input: "GET <target>" as the first line makes a handshake request of
 * that target (the rest is ignored). Otherwise the first line is the
 * X-Hub-Signature-256 header and the rest the body; without a newline the
 * whole input is the body, signed here with the fixed app secret
 * (vc__hmac), so seeds reach the parser through a passing check.
 *
 * Beyond what ASan and UBSan catch, it aborts when an invariant breaks:
 * an unexpected return code, an error message on several lines or
 * quoting a credential, an event reported by a call that failed, a
 * status the provider cannot cause or without its event id, an inbound
 * sender that is not "+" and digits, media that is not a whatsapp-media
 * reference, a handshake answered other than 200 with a plain challenge
 * or 403, a send result with an unknown outcome.
 *
 * libFuzzer build (scratch directory, clang): as in mustache_fuzzer.c,
 * with tests/fuzz/whatsapp_webhook_fuzzer.c and -o whatsapp_webhook_fuzzer,
 * then ./whatsapp_webhook_fuzzer tests/fuzz/corpus/whatsapp_webhook
 */
#include "core/common.h"
#include "core/codec.h"
#include "core/crypto.h"
#include "core/text.h"
#include "net/fetch.h"
#include "net/sink.h"
#include "adapters/builtin.h"

#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define WA (&vc__adapter_whatsapp)
#define FUZZ_TOKEN "EAAGfuzzAccessToken0ZDZD"
#define FUZZ_SECRET "fuzz-app-secret-0123456789abcdef"
#define FUZZ_VERIFY "fuzz-verify"

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
  if (i == n || e->code != rc || quotes_secret(e->message, FUZZ_TOKEN) ||
      quotes_secret(e->message, FUZZ_SECRET) ||
      quotes_secret(e->message, FUZZ_VERIFY))
    abort();
  for (const char *p = e->message; *p; p++)
    if ((unsigned char)*p < 0x20 || *p == 0x7f)
      abort();
}

static int on_status(void *payload, const vc_status_update *u)
{
  size_t n;

  (void)payload;
  if (u->status != VC_MSG_SENT && u->status != VC_MSG_DELIVERED &&
      u->status != VC_MSG_READ && u->status != VC_MSG_UNDELIVERED)
    abort();
  if (u->provider_id == NULL || u->event_id == NULL)
    abort();
  n = strlen(u->provider_id);
  if (strncmp(u->event_id, u->provider_id, n) != 0 || u->event_id[n] != ':')
    abort();
  if (u->occurred_at < 0 || u->occurred_at >= INT64_C(100000000000000))
    abort();
  if (u->message_id != NULL && strlen(u->message_id) > 64)
    abort();
  return 0;
}

static int on_inbound(void *payload, const vc_inbound *m)
{
  size_t n = strlen(m->from);

  (void)payload;
  if (n < 2 || n > 16 || m->from[0] != '+' ||
      strspn(m->from + 1, "0123456789") != n - 1 || m->provider_id == NULL ||
      m->nmedia > 1)
    abort();
  if (m->nmedia == 1 &&
      strncmp(m->media_urls[0], "whatsapp-media:", 15) != 0)
    abort();
  return 0;
}

static void fuzz_send(void *state, const char *body, size_t len)
{
  static const int statuses[] = { 200, 400, 401, 404, 429, 503 };

  for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
    vc_http_response res = VC_HTTP_RESPONSE_INIT;
    vc_send_result r;

    res.status = statuses[i];
    res.body.ptr = (char *)body;
    res.body.size = len;
    memset(&r, 0, sizeof(r));
    if (WA->parse_send(state, NULL, &res, &r) != 0 ||
        r.outcome < VC_SEND_ACCEPTED || r.outcome > VC_SEND_FAILOVER ||
        r.retry_after_ms < 0 ||
        memchr(r.error_message, '\0', sizeof(r.error_message)) == NULL ||
        !vc__utf8_valid(r.error_message, strlen(r.error_message)) ||
        (r.outcome == VC_SEND_ACCEPTED) != (r.provider_id[0] != '\0'))
      abort();
  }
}

static void fuzz_get(void *state, const char *target)
{
  static const int verify_codes[] = { VC_EAUTH, VC_ENOMEM };
  static const int parse_codes[] = { VC_EINVALID, VC_ETOOBIG, VC_ENOMEM };
  vc_http_request req = VC_HTTP_REQUEST_INIT;
  vc_event_sink sink;
  int rc;

  req.method = "GET";
  req.target = target;
  rc = WA->verify_webhook(state, &req, VC__WEBHOOK_ENV("https://x/", 0));
  if (rc != 0) {
    check_error(rc, verify_codes, VC_ARRAY_SIZE(verify_codes));
    return;
  }
  vc__sink_init(&sink, on_status, on_inbound, NULL);
  rc = WA->parse_webhook(state, &req, &sink);
  if (rc != 0)
    check_error(rc, parse_codes, VC_ARRAY_SIZE(parse_codes));
  else if (sink.reply_status == 200) {
    const char *b = sink.reply_body.ptr;
    if (b == NULL || b[0] == '\0' || strlen(b) > 64 ||
        strspn(b, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
               "0123456789_-") != strlen(b) ||
        strcmp(sink.reply_content_type, "text/plain") != 0)
      abort();
  } else if (sink.reply_status != 403) {
    abort();
  }
  if (sink.nevents != 0)
    abort();
  vc__sink_fini(&sink);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static const int verify_codes[] = { VC_EAUTH, VC_ETOOBIG, VC_ENOMEM };
  static const int parse_codes[] = { VC_EINVALID, VC_ETOOBIG,
                                     VC_EENCODING, VC_ENOMEM };
  static void *state;
  char *in = malloc(size + 1), *body, *nl, sig[80];
  const char *sigp = sig;
  vc_http_header h[2];
  vc_http_request req = VC_HTTP_REQUEST_INIT;
  vc_event_sink sink;
  uint8_t mac[32];
  size_t body_len;
  int rc;

  g_in = data;
  g_in_len = size;
  if (in == NULL)
    return 0;
  if (state == NULL &&
      WA->init(&state, "{\"phone_number_id\": \"106540352242922\"}",
               "{\"access_token\": \"" FUZZ_TOKEN "\", \"app_secret\": \""
               FUZZ_SECRET "\", \"verify_token\": \"" FUZZ_VERIFY "\"}") != 0)
    abort();
  if (size > 0)
    memcpy(in, data, size);
  in[size] = '\0';
  if (size > 4 && memcmp(in, "GET ", 4) == 0) {
    if ((nl = strchr(in, '\n')) != NULL)
      *nl = '\0';
    fuzz_get(state, in + 4);
    free(in);
    return 0;
  }
  body = in;
  body_len = size;
  if ((nl = memchr(in, '\n', size)) != NULL) {
    *nl = '\0';
    sigp = in;
    body = nl + 1;
    body_len = size - (size_t)(body - in);
  } else {
    if (vc__hmac(mac, VC__MD_SHA256, FUZZ_SECRET, strlen(FUZZ_SECRET), body,
                 body_len) != 0)
      abort();
    memcpy(sig, "sha256=", 7);
    vc__hex_encode(sig + 7, mac, sizeof(mac));
  }
  h[0].name = "X-Hub-Signature-256";
  h[0].value = sigp;
  h[1].name = "Content-Type";
  h[1].value = "application/json";
  req.method = "POST";
  req.target = "/webhooks/ch";
  req.headers = h;
  req.nheaders = 2;
  req.body = (const uint8_t *)body;
  req.body_len = body_len;

  rc = WA->verify_webhook(state, &req, VC__WEBHOOK_ENV("https://x/", 0));
  if (rc != 0) {
    check_error(rc, verify_codes, VC_ARRAY_SIZE(verify_codes));
    if (nl == NULL && rc == VC_EAUTH)    /* signed here: must verify */
      abort();
  }

  vc__sink_init(&sink, on_status, on_inbound, NULL);
  rc = WA->parse_webhook(state, &req, &sink);
  if (rc != 0) {
    check_error(rc, parse_codes, VC_ARRAY_SIZE(parse_codes));
    if (sink.nevents != 0 && rc != VC_ENOMEM)
      abort();
  }
  if (sink.reply_status != 0)
    abort();
  vc__sink_fini(&sink);

  fuzz_send(state, body, body_len);
  free(in);
  return 0;
}
