/*
 * Fuzz target for the built-in adapters' channel settings: init's
 * parsing of the config and credentials JSON objects (adapters/common.c
 * and each adapter's read_config and read_credentials), then the state
 * it made, on a fixed outbound message or call.
 *
 * Input: the first byte picks the adapter (its value modulo 16, in the
 * order of ADAPTERS below, which is that of adapters/builtin.h); the
 * bytes after it up to the first NUL are the config JSON, the bytes
 * after that NUL (up to a second one) the credentials JSON. Without a
 * NUL the credentials are NULL, which an adapter reads as "{}".
 *
 * init runs twice: on the credentials as given, and on a copy where
 * every ASCII letter and digit of every string value (not the keys)
 * from its fifth byte on is rotated within its class (0-9, a-f, g-z,
 * A-F, G-Z), so that hex stays hex and a prefix such as "AC" or "SG."
 * stays. A message that holds 8 bytes (or all, if shorter) of a value
 * in the first run, and the rotated bytes at the same place of the
 * rotated value in the second (and neither the other), quotes a
 * credential.
 *
 * Beyond what ASan, UBSan and LeakSanitizer catch (fini must free what
 * init made), it aborts when an invariant breaks:
 * - init returns a code outside its documented ones, or one that
 *   vc_error_last() does not hold;
 * - an error message spans lines, holds a control byte or is not
 *   UTF-8;
 * - an error message quotes a credential value (above);
 * - a failed init leaves a state behind;
 * - on success, the state fails to build the fixed message (build_send)
 *   or call (build_call), which are valid for every adapter: init took
 *   settings that every send would fail on; or it builds a request
 *   without a method or an http(s) URL, or with a plain http:// URL to
 *   a host that is not loopback (every adapter's documentation allows
 *   http:// only there: a request carries credentials);
 * - a sandbox (VC_CAP_LOCAL) answers with an unknown outcome, or an id
 *   that does not match it.
 * The request is released with vc__http_out_reset, as the transport
 * does. asterisk-ari and sip (sessions) only get init and fini.
 *
 * libFuzzer build (scratch directory, clang): as in mustache_fuzzer.c,
 * with tests/fuzz/channel_config_fuzzer.c and -o channel_config_fuzzer,
 * then ./channel_config_fuzzer tests/fuzz/corpus/channel_config
 */
#include "core/common.h"
#include "core/text.h"
#include "net/http_out.h"
#include "adapters/builtin.h"
#include "adapters/common.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct fuzz_adapter {
  const vc_adapter *a;
  const char *to, *from;    /* the fixed message's addresses */
} fuzz_adapter;

static const fuzz_adapter ADAPTERS[16] = {
  { &vc__adapter_sendgrid, "asha@example.com", "billing@example.com" },
  { &vc__adapter_mailgun, "asha@example.com", "billing@example.com" },
  { &vc__adapter_twilio_sms, "+14155550123", "+14155550100" },
  { &vc__adapter_twilio_voice, NULL, NULL },
  { &vc__adapter_aws_sns, "+14155550123", "+14155550100" },
  { &vc__adapter_vonage_sms, "+14155550123", "+14155550100" },
  { &vc__adapter_telegram, "42", NULL },
  { &vc__adapter_whatsapp, "+14155550123", NULL },
  { &vc__adapter_sandbox_email, "asha@example.com",
    "billing@example.com" },
  { &vc__adapter_sandbox_sms, "+14155550123", "+14155550100" },
  { &vc__adapter_sandbox_chat, "42", NULL },
  { &vc__adapter_sandbox_voice, NULL, NULL },
  { &vc__adapter_exotel, NULL, NULL },
  { &vc__adapter_mcube, NULL, NULL },
  { &vc__adapter_sip, NULL, NULL },
  { &vc__adapter_asterisk_ari, NULL, NULL },
};

#define MSG_ID "01J9ZK3M2V7Q8R4T6W0X1Y2Z3A"
#define CALL_ID "01J9ZK3M2V7Q8R4T6W0X1Y2Z3C"
#define HOOK "https://hooks.example.com/webhooks/01J9ZK0000000000000000CHAN"
#define NOW INT64_C(1700000000000)

/* What one run of init saw: its return code and a copy of its error
 * message. */
typedef struct run_result {
  int init_rc;
  char *init_msg;
} run_result;

static void check_code(int rc, const int *allowed, size_t n)
{
  size_t i = 0;

  while (i < n && allowed[i] != rc)
    i++;
  if (i == n || vc_error_last()->code != rc)
    abort();
}

/* The message of the last error, checked and copied. */
static char *take_message(void)
{
  const char *m = vc_error_last()->message;
  char *copy;

  if (m == NULL || !vc__utf8_valid(m, strlen(m)))
    abort();
  for (const char *p = m; *p; p++)
    if ((unsigned char)*p < 0x20 || *p == 0x7f)
      abort();
  if ((copy = strdup(m)) == NULL)
    abort();
  return copy;
}

static void check_request(const vc_http_out *req)
{
  const char *host;

  if (req->method[0] == '\0' || req->url == NULL)
    abort();
  if (strncmp(req->url, "https://", 8) == 0)
    return;
  if (strncmp(req->url, "http://", 7) != 0)
    abort();
  host = req->url + 7;
  if (!vc__adapter_loopback_host(host, strcspn(host, "/?#")))
    abort();
}

static void check_local(int rc, const vc_send_result *r)
{
  if (rc != 0 || r->outcome < VC_SEND_ACCEPTED ||
      r->outcome > VC_SEND_FAILOVER ||
      (r->outcome == VC_SEND_ACCEPTED) != (r->provider_id[0] != '\0'))
    abort();
}

/* Use a state init made: build the fixed message or call, as the core
 * does for the adapter's kind and capabilities. */
static void exercise(const fuzz_adapter *fa, void *state)
{
  const vc_adapter *a = fa->a;
  vc_http_out req;
  vc_send_result r;
  int rc;

  memset(&r, 0, sizeof(r));
  r.version = VC_SEND_RESULT_VERSION;
  vc__http_out_init(&req);
  if (a->kind == VC_CHANNEL_VOICE) {
    vc_call_outbound c;

    memset(&c, 0, sizeof(c));
    c.version = VC_CALL_OUTBOUND_VERSION;
    c.call_id = CALL_ID;
    c.tenant_id = "01J9ZK0000000000000000TEN1";
    c.agent = "+919876543210";
    c.customer = "+919812345678";
    c.caller_id = "+918047112345";
    c.record = 1;
    c.ring_timeout_s = 30;
    c.time_limit_s = 3600;
    c.webhook_url = HOOK "?vc_call=" CALL_ID;
    c.now_ms = NOW;
    if (a->session != NULL)
      return;
    if (a->capabilities & VC_CAP_LOCAL) {
      check_local(a->parse_call(state, &c, NULL, &r), &r);
      return;
    }
    vc_error_clear();
    rc = a->build_call(state, &c, &req);
  } else {
    vc_outbound m;

    memset(&m, 0, sizeof(m));
    m.version = VC_OUTBOUND_VERSION;
    m.kind = a->kind;
    m.message_id = MSG_ID;
    m.tenant_id = "01J9ZK0000000000000000TEN1";
    m.to = fa->to;
    m.from = fa->from;
    m.subject = a->kind == VC_CHANNEL_EMAIL ? "Invoice 42" : NULL;
    m.text = "Your invoice is ready";
    m.status_callback_url = HOOK;
    m.last_inbound_ms = NOW - 3600000;
    m.now_ms = NOW;
    if (a->capabilities & VC_CAP_LOCAL) {
      check_local(a->parse_send(state, &m, NULL, &r), &r);
      return;
    }
    vc_error_clear();
    rc = a->build_send(state, &m, &req);
  }
  /* The message and the call are valid for every adapter: a state
   * that cannot build them came from settings every send fails on. */
  if (rc != 0)
    abort();
  check_request(&req);
  vc__http_out_reset(&req);
}

static void run(const fuzz_adapter *fa, const char *config,
                const char *creds, run_result *res)
{
  static const int init_codes[] = { VC_EINVALID, VC_ETOOBIG, VC_EENCODING,
                                    VC_ENOMEM };
  void *state = NULL;

  memset(res, 0, sizeof(*res));
  vc_error_clear();
  res->init_rc = fa->a->init(&state, config, creds);
  if (res->init_rc != 0) {
    check_code(res->init_rc, init_codes, VC_ARRAY_SIZE(init_codes));
    res->init_msg = take_message();
    if (state != NULL)
      abort();
    return;
  }
  exercise(fa, state);
  fa->a->fini(state);
}

static void result_free(run_result *res)
{
  free(res->init_msg);
}

/* Rotate c within its class, or leave it. */
static char rotate(char c)
{
  if (c >= '0' && c <= '9')
    return (char)('0' + (c - '0' + 1) % 10);
  if (c >= 'a' && c <= 'f')
    return (char)('a' + (c - 'a' + 1) % 6);
  if (c >= 'g' && c <= 'z')
    return (char)('g' + (c - 'g' + 1) % 20);
  if (c >= 'A' && c <= 'F')
    return (char)('A' + (c - 'A' + 1) % 6);
  if (c >= 'G' && c <= 'Z')
    return (char)('G' + (c - 'G' + 1) % 20);
  return c;
}

/* Rotate the string values (not the keys) of JSON text s in place, from
 * their fifth byte on; escapes are kept as they are. */
static void rotate_values(char *s)
{
  for (char *p = s; *p; p++) {
    char *start, *q;

    if (*p != '"')
      continue;
    start = ++p;
    while (*p && *p != '"')
      p += p[0] == '\\' && p[1] ? 2 : 1;
    if (*p == '\0')
      return;
    q = p + 1;
    while (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r')
      q++;
    if (*q == ':')
      continue;                   /* a key */
    for (size_t i = 0, n = (size_t)(p - start); i < n; i++) {
      if (start[i] == '\\')
        i += start[i + 1] == 'u' ? 5 : 1; /* escapes stay as they are */
      else if (i >= 4)
        start[i] = rotate(start[i]);
    }
  }
}

/* Whether message m quotes value v, given the message m2 of the run
 * where v was rotated into v2 (same length). */
static int quotes(const char *m, const char *m2, const char *v,
                  const char *v2)
{
  size_t n = strlen(v), w = n < 8 ? n : 8;
  char a[9], b[9];

  if (m == NULL || m2 == NULL || n < 6 || strlen(v2) != n)
    return 0;
  for (size_t j = 0; j + w <= n; j++) {
    if (memcmp(v + j, v2 + j, w) == 0)
      continue;
    memcpy(a, v + j, w);
    a[w] = '\0';
    memcpy(b, v2 + j, w);
    b[w] = '\0';
    /* Text quoted from elsewhere (the config) stays the same in both
     * runs: it may hold both windows, but then in both messages. */
    if (strstr(m, a) != NULL && strstr(m2, b) != NULL &&
        strstr(m, b) == NULL && strstr(m2, a) == NULL)
      return 1;
  }
  return 0;
}

/* Walk the two credential documents in step: abort when a message of
 * the first run quotes one of its string values. */
static void check_secrets(const cJSON *j, const cJSON *j2,
                          const run_result *r, const run_result *r2)
{
  for (; j != NULL && j2 != NULL; j = j->next, j2 = j2->next) {
    if (cJSON_IsString(j) && cJSON_IsString(j2) &&
        j->valuestring != NULL && j2->valuestring != NULL &&
        quotes(r->init_msg, r2->init_msg, j->valuestring, j2->valuestring))
      abort();
    check_secrets(j->child, j2->child, r, r2);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const fuzz_adapter *fa;
  char *in, *config, *creds = NULL, *creds2 = NULL;
  const char *nul;
  run_result r, r2;

  if (size == 0)
    return 0;
  fa = &ADAPTERS[data[0] % 16];
  if ((in = malloc(size)) == NULL)
    return 0;
  memcpy(in, data + 1, size - 1);
  in[size - 1] = '\0';
  config = in;
  if ((nul = memchr(data + 1, '\0', size - 1)) != NULL)
    creds = in + (nul - (const char *)(data + 1)) + 1;

  run(fa, config, creds, &r);
  if (creds != NULL && (creds2 = strdup(creds)) != NULL) {
    cJSON *j = cJSON_Parse(creds), *j2;

    rotate_values(creds2);
    j2 = cJSON_Parse(creds2);
    run(fa, config, creds2, &r2);
    if (j != NULL && j2 != NULL)
      check_secrets(j, j2, &r, &r2);
    cJSON_Delete(j);
    cJSON_Delete(j2);
    result_free(&r2);
  }
  result_free(&r);
  free(creds2);
  free(in);
  return 0;
}
