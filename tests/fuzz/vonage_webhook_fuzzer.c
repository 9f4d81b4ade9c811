/*
 * Fuzz target for the Vonage SMS adapter's webhook handling
 * (adapters/sms/vonage.c): `sig` and JWT verification and
 * parse_webhook, plus parse_send on the same bytes.
 *
 * Input: line 1 is "<method> <content type>" ("-" for none), line 2 the
 * request target ("/webhooks/ch?..." carries a GET's parameters), line
 * 3 the Authorization header (empty for none), the rest the body.
 * Without a newline the whole input is a form body POSTed. Three
 * channels see every input: md5hash, sha256hmac and jwt, all with the
 * signature secret FUZZ_SECRET, at the fixed time FUZZ_NOW, so seeds can
 * carry valid signatures.
 *
 * Beyond what ASan and UBSan catch, it aborts when an invariant breaks:
 * an unexpected return code, an error message on several lines or
 * quoting a secret, an event reported by a call that failed, more than
 * one event per request, a malformed event, a replayed nonce that still
 * reports, a send result with an unknown outcome or inconsistent fields.
 *
 * libFuzzer build (scratch directory, clang): as in mustache_fuzzer.c,
 * with tests/fuzz/vonage_webhook_fuzzer.c and -o vonage_webhook_fuzzer,
 * then ./vonage_webhook_fuzzer tests/fuzz/corpus/vonage_webhook
 */
#include "core/common.h"
#include "core/text.h"
#include "net/fetch.h"
#include "net/sink.h"
#include "adapters/builtin.h"

#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_SECRET "sig-secret-for-unit-tests-0123456789"
#define FUZZ_API_SECRET "s3cr3tS3cr3t1234"
#define FUZZ_NOW INT64_C(1700000000000)
#define VN (&vc__adapter_vonage_sms)

static const char *const METHODS[] = { "md5hash", "sha256hmac", "jwt" };

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
  if (i == n || e->code != rc || quotes_secret(e->message, FUZZ_SECRET) ||
      quotes_secret(e->message, FUZZ_API_SECRET))
    abort();
  for (const char *p = e->message; *p; p++)
    if ((unsigned char)*p < 0x20 || *p == 0x7f)
      abort();
}

static int is_id(const char *s, size_t max)
{
  size_t n = s ? strlen(s) : 0;

  if (n == 0 || n > max)
    return 0;
  for (size_t i = 0; i < n; i++)
    if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
          (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_'))
      return 0;
  return 1;
}

static int on_status(void *payload, const vc_status_update *u)
{
  (void)payload;
  if ((u->status != VC_MSG_SENT && u->status != VC_MSG_DELIVERED &&
       u->status != VC_MSG_UNDELIVERED) ||
      !is_id(u->provider_id, 64) || u->event_id != NULL ||
      (u->message_id != NULL && !is_id(u->message_id, 40)) ||
      (u->provider_code != NULL && u->status == VC_MSG_DELIVERED) ||
      u->occurred_at < 0)
    abort();
  return 0;
}

static int on_inbound(void *payload, const vc_inbound *m)
{
  (void)payload;
  if (m->from == NULL || m->from[0] == '\0' || !is_id(m->provider_id, 64) ||
      m->text == NULL || m->nmedia != 0 || m->occurred_at < 0)
    abort();
  return 0;
}

/* Every other single-use value counts as seen before. */
static int g_once_calls;

static int on_once(void *payload, const char *key)
{
  (void)payload;
  if (key == NULL || key[0] == '\0')
    abort();
  if (g_once_calls++ % 2 == 1)
    return vc_error_set_str(VC_ERRCLASS_ADAPTER, VC_EEXISTS, "seen");
  return 0;
}

static void fuzz_send(void *state, const char *body, size_t len)
{
  static const int statuses[] = { 200, 429, 500, 401 };
  vc_http_header h = { "Retry-After", "3" };

  for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
    vc_http_response res = VC_HTTP_RESPONSE_INIT;
    vc_send_result r;

    res.status = statuses[i];
    res.body.ptr = (char *)body;     /* borrowed: reserved stays 0 */
    res.body.size = len;
    res.headers = &h;
    res.nheaders = 1;
    memset(&r, 0, sizeof(r));
    if (VN->parse_send(state, NULL, &res, &r) != 0 ||
        r.outcome < VC_SEND_ACCEPTED || r.outcome > VC_SEND_FAILOVER ||
        r.retry_after_ms < 0 || r.retry_after_ms > 86400000 ||
        r.cost_micros < 0 ||
        memchr(r.error_message, '\0', sizeof(r.error_message)) == NULL ||
        memchr(r.provider_code, '\0', sizeof(r.provider_code)) == NULL ||
        !vc__utf8_valid(r.error_message, strlen(r.error_message)) ||
        (r.outcome == VC_SEND_ACCEPTED) != (r.provider_id[0] != '\0') ||
        (r.outcome == VC_SEND_ACCEPTED && r.error != 0) ||
        (r.outcome != VC_SEND_ACCEPTED && r.error == 0))
      abort();
  }
}

/* Cut the next line off *p (NUL-terminating it); NULL when none. */
static char *next_line(char **p, char *end)
{
  char *line = *p, *nl;

  if (line >= end || (nl = memchr(line, '\n', (size_t)(end - line))) == NULL)
    return NULL;
  *nl = '\0';
  *p = nl + 1;
  return line;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static const int verify_codes[] = { VC_EAUTH, VC_ETOOBIG, VC_EINVALID,
                                      VC_EENCODING, VC_ENOMEM };
  static const int parse_codes[] = { VC_EINVALID, VC_ETOOBIG,
                                     VC_EENCODING, VC_ENOMEM };
  static void *states[3];
  char *in = malloc(size + 1), *p, *end, *l1, *l2, *l3;
  char method[16] = "POST", ctype[128] = "application/x-www-form-urlencoded";
  const char *target = "/webhooks/ch";
  vc_http_header h[2];
  vc_http_request req = VC_HTTP_REQUEST_INIT;
  size_t nh = 0;

  g_in = data;
  g_in_len = size;
  if (in == NULL)
    return 0;
  for (size_t i = 0; i < 3; i++) {
    char config[96];

    snprintf(config, sizeof(config), "{\"signature_method\": \"%s\"}",
             METHODS[i]);
    if (states[i] == NULL &&
        VN->init(&states[i], config,
                 "{\"api_key\": \"abcd1234\", \"api_secret\": \""
                 FUZZ_API_SECRET "\", \"signature_secret\": \""
                 FUZZ_SECRET "\"}") != 0)
      abort();
  }
  if (size > 0)
    memcpy(in, data, size);
  in[size] = '\0';
  p = in;
  end = in + size;
  l3 = NULL;
  if ((l1 = next_line(&p, end)) != NULL) {
    char *sp = strchr(l1, ' ');

    snprintf(method, sizeof(method), "%.*s",
             (int)(sp ? (size_t)(sp - l1) : strlen(l1)), l1);
    snprintf(ctype, sizeof(ctype), "%s", sp ? sp + 1 : "-");
    if ((l2 = next_line(&p, end)) != NULL) {
      target = l2;
      l3 = next_line(&p, end);
    }
  }
  if (strcmp(ctype, "-") != 0) {
    h[nh].name = "Content-Type";
    h[nh++].value = ctype;
  }
  if (l3 != NULL && l3[0] != '\0') {
    h[nh].name = "Authorization";
    h[nh++].value = l3;
  }
  req.method = method;
  req.target = target;
  req.headers = nh ? h : NULL;
  req.nheaders = nh;
  req.body = (const uint8_t *)p;
  req.body_len = (size_t)(end - p);

  for (size_t i = 0; i < 3; i++) {
    vc_event_sink sink;
    int rc = VN->verify_webhook(states[i], &req,
                                VC__WEBHOOK_ENV("https://h.example/x",
                                                FUZZ_NOW));

    if (rc != 0)
      check_error(rc, verify_codes, VC_ARRAY_SIZE(verify_codes));
    for (int round = 0; round < 2; round++) {
      size_t before = (size_t)g_once_calls;

      vc__sink_init(&sink, on_status, on_inbound, NULL);
      vc__sink_set_once(&sink, on_once);
      rc = VN->parse_webhook(states[i], &req, &sink);
      if (rc != 0) {
        check_error(rc, parse_codes, VC_ARRAY_SIZE(parse_codes));
        if (sink.nevents != 0)
          abort();
      }
      /* a value seen before: nothing reported */
      if ((size_t)g_once_calls > before && g_once_calls % 2 == 0 &&
          sink.nevents != 0)
        abort();
      if (sink.nevents > 1)
        abort();
      vc__sink_fini(&sink);
    }
  }
  fuzz_send(states[0], (const char *)req.body, req.body_len);
  fuzz_send(NULL, (const char *)req.body, req.body_len);
  free(in);
  return 0;
}
