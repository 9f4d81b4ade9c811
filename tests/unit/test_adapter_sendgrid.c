/*
 * Unit tests of the SendGrid adapter (adapters/email/sendgrid.c) and of
 * ECDSA P-256 verification (src/core/ecdsa.c): SendGrid's published
 * Event Webhook vectors (sendgrid-nodejs eventwebhook.spec.js), round
 * trips with keys made here, configuration checks, the Mail Send body,
 * the outcomes of SendGrid's answers, webhook verification and the
 * mapping of every event type, and malformed input.
 */
#include "core/common.h"
#include "core/buf.h"
#include "core/codec.h"
#include "core/crypto.h"
#include "core/ecdsa.h"
#include "core/text.h"
#include "net/http_out.h"
#include "net/fetch.h"
#include "net/sink.h"
#include "adapters/builtin.h"

#include <cJSON.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/pk.h>

#include "harness.h"

#define A (&vc__adapter_sendgrid)

/* ------------------------------------------------------------------ */
/* Published vectors                                                   */

/* TV-SG-1: one dropped event; the payload ends with CR LF. */
static const char tv1_key[] =
  "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE83T4O/n84iotIvIW4mdBgQ/7dAfSmp"
  "qIM8kF9mN1flpVKS3GRqe62gw+2fNNRaINXvVpiglSI8eNEc6wEA3F+g==";
static const char tv1_ts[] = "1600112502";
static const char tv1_payload[] =
  "[{\"email\":\"hello@world.com\",\"event\":\"dropped\",\"reason\":"
  "\"Bounced Address\",\"sg_event_id\":"
  "\"ZHJvcC0xMDk5NDkxOS1MUnpYbF9OSFN0T0doUTRrb2ZTbV9BLTA\","
  "\"sg_message_id\":\"LRzXl_NHStOGhQ4kofSm_A.filterdrecv-p3mdw1-"
  "756b745b58-kmzbl-18-5F5FC76C-9.0\",\"smtp-id\":"
  "\"<LRzXl_NHStOGhQ4kofSm_A@ismtpd0039p1iad1.sendgrid.net>\","
  "\"timestamp\":1600112492}]\r\n";
static const char tv1_sig[] =
  "MEUCIGHQVtGj+Y3LkG9fLcxf3qfI10QysgDWmMOVmxG0u6ZUAiEAyBiXDWzM+uOe5W0J"
  "uG+luQAbPIqHh89M15TluLtEZtM=";

/* TV-SG-2: JSON.stringify of two events, "},{" turned into "},\r\n{",
 * and a trailing CR LF: 889 bytes. */
static const char tv2_key[] =
  "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEQ4LIFtWztlsF7skFqOncjD1lun4H5w"
  "8XOhyOArHW9RcIx/FfEzx6cikC/yPfUvwaX/JScE7Fc9CJD2afQ9Ok3Q==";
static const char tv2_ts[] = "1619651159";
static const char tv2_event1[] =
  "{\"email\":\"invalid@gmail.com\",\"event\":\"processed\",\"send_at\":0,"
  "\"sg_event_id\":"
  "\"cHJvY2Vzc2VkLTE5OTQyMTEyLXFOd0JMZ1BRUWpXNkRKdktRd1NBYnctMA\","
  "\"sg_message_id\":\"qNwBLgPQQjW6DJvKQwSAbw.filterdrecv-canary-"
  "547b64655b-cw6zx-1-6089EA4A-56.0\",\"smtp-id\":"
  "\"<qNwBLgPQQjW6DJvKQwSAbw@ismtpd0178p1mdw1.sendgrid.net>\","
  "\"timestamp\":1619651146}";
static const char tv2_event2[] =
  "{\"email\":\"invalid@gmail.com\",\"event\":\"bounce\",\"ip\":"
  "\"167.89.101.76\",\"reason\":\"552 5.2.2 The email account that you "
  "tried to reach is over quota and inactive. Please direct the "
  "recipient to https://support.google.com/mail/?p=OverQuotaPerm "
  "c17si1130468pgv.34 - gsmtp\",\"sg_event_id\":"
  "\"Ym91bmNlLTAtMTk5NDIxMTItcU53QkxnUFFRalc2REp2S1F3U0Fidy0w\","
  "\"sg_message_id\":\"qNwBLgPQQjW6DJvKQwSAbw.filterdrecv-canary-"
  "547b64655b-cw6zx-1-6089EA4A-56.0\",\"smtp-id\":"
  "\"<qNwBLgPQQjW6DJvKQwSAbw@ismtpd0178p1mdw1.sendgrid.net>\","
  "\"status\":\"5.2.2\",\"timestamp\":1619651147,\"tls\":1,"
  "\"type\":\"blocked\"}";
static const char tv2_sig[] =
  "MEYCIQC/I4o6vCgqRYrTljjoVWB/GRWNtxeePlLMHr3x9ETeRQIhAIpV+03nREPTTHWS"
  "W0wIOA0EoMPdcNgXa70yCaqDJlu5";

/* Negative cases of the same spec file. */
static const char other_key[] =
  "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEqTxd43gyp8IOEto2LdIfjRQrIbsd4S"
  "XZkLW6jDutdhXSJCWHw8REntlo7aNDthvj+y7GjUuFDb/R1NGe1OPzpA==";
static const char other_sig[] =
  "MEUCIQCtIHJeH93Y+qpYeWrySphQgpNGNr/U+UyUlBkU6n7RAwIgJTz2C+8a8xonZGi6"
  "BpSzoQsbVRamr2nlxFDWYNH3j/0=";

/* ------------------------------------------------------------------ */
/* Helpers                                                             */

static void b64(vc_buf *out, const char *text)
{
  vc_buf_dispose(out);
  CHECK_OK(vc__base64_decode(out, text, strlen(text)));
}

static void tv2_payload(vc_buf *out)
{
  vc_buf_dispose(out);
  CHECK_OK(vc__buf_printf(out, "[%s,\r\n%s]\r\n", tv2_event1,
                          tv2_event2));
}

/* ts || payload verified with the base64 key and signature. */
static int verify_b64(const char *key, const char *ts, const char *payload,
                      size_t len, const char *sig)
{
  vc_buf k = VC_BUF_INIT, s = VC_BUF_INIT, m = VC_BUF_INIT;
  int rc;

  b64(&k, key);
  b64(&s, sig);
  CHECK_OK(vc__buf_puts(&m, ts));
  CHECK_OK(vc__buf_put(&m, payload, len));
  rc = vc__ecdsa_p256_verify((const uint8_t *)k.ptr, k.size,
                             (const uint8_t *)m.ptr, m.size,
                             (const uint8_t *)s.ptr, s.size);
  vc_buf_dispose(&k);
  vc_buf_dispose(&s);
  vc_buf_dispose(&m);
  return rc;
}

/* The last error is a one-line message containing `says`. */
static void check_error(int code, const char *says)
{
  const vc_error *e = vc_error_last();

  if (e->code != code || strstr(e->message, says) == NULL)
    fprintf(stderr, "  code %d message \"%s\", wanted %d \"%s\"\n",
            e->code, e->message, code, says);
  CHECK(e->code == code);
  CHECK(strstr(e->message, says) != NULL);
  for (const char *p = e->message; *p; p++)
    CHECK((unsigned char)*p >= 0x20 && *p != 0x7f);
}

/* A deterministic RNG: keys and signatures made here need no entropy. */
static int test_rng(void *p, unsigned char *out, size_t n)
{
  uint64_t *x = p;

  for (size_t i = 0; i < n; i++) {
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    out[i] = (unsigned char)(*x >> 32);
  }
  return 0;
}

typedef struct test_key {
  mbedtls_pk_context pk;
  uint8_t spki[256];
  size_t spki_len;
  char spki_b64[512];
  uint64_t rng;
} test_key;

static void key_gen(test_key *k, mbedtls_ecp_group_id gid, uint64_t seed)
{
  uint8_t der[256];
  vc_buf t = VC_BUF_INIT;
  int n;

  k->rng = seed;
  mbedtls_pk_init(&k->pk);
  CHECK(mbedtls_pk_setup(&k->pk,
                         mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)) == 0);
  CHECK(mbedtls_ecdsa_genkey(mbedtls_pk_ec(k->pk), gid, test_rng,
                             &k->rng) == 0);
  /* The DER is written at the end of the buffer. */
  n = mbedtls_pk_write_pubkey_der(&k->pk, der, sizeof(der));
  CHECK(n > 0 && (size_t)n <= sizeof(k->spki));
  memcpy(k->spki, der + sizeof(der) - (size_t)n, (size_t)n);
  k->spki_len = (size_t)n;
  CHECK_OK(vc__base64_encode(&t, k->spki, k->spki_len));
  CHECK(t.size < sizeof(k->spki_b64));
  memcpy(k->spki_b64, t.ptr, t.size + 1);
  vc_buf_dispose(&t);
}

static void key_free(test_key *k)
{
  mbedtls_pk_free(&k->pk);
}

/* DER signature over sha256(a || b). */
static size_t key_sign(test_key *k, uint8_t sig[160], const char *a,
                       const void *b, size_t blen)
{
  vc_buf m = VC_BUF_INIT;
  uint8_t hash[32];
  size_t n = 0;

  CHECK_OK(vc__buf_puts(&m, a));
  CHECK_OK(vc__buf_put(&m, b, blen));
  CHECK_OK(vc__digest(hash, VC__MD_SHA256, m.ptr, m.size));
  vc_buf_dispose(&m);
  CHECK(mbedtls_pk_sign(&k->pk, MBEDTLS_MD_SHA256, hash, sizeof(hash), sig,
                        &n, test_rng, &k->rng) == 0);
  CHECK(n > 0 && n <= 160);
  return n;
}

static void sign_b64(test_key *k, char out[256], const char *ts,
                     const void *body, size_t len)
{
  uint8_t sig[160];
  size_t n = key_sign(k, sig, ts, body, len);
  vc_buf t = VC_BUF_INIT;

  CHECK_OK(vc__base64_encode(&t, sig, n));
  CHECK(t.size < 256);
  memcpy(out, t.ptr, t.size + 1);
  vc_buf_dispose(&t);
}

static void *adapter_new(const char *config, const char *credentials)
{
  void *state = NULL;

  CHECK_OK(A->init(&state, config, credentials));
  CHECK(state != NULL);
  return state;
}

static void *adapter_with_key(const char *key_b64)
{
  char cfg[700];

  snprintf(cfg, sizeof(cfg), "{\"webhook_public_key\":\"%s\"}", key_b64);
  return adapter_new(cfg, "{\"api_key\":\"SG.test\"}");
}

/* A webhook request with the two SendGrid headers (either may be NULL). */
typedef struct webhook {
  vc_http_header h[3];
  vc_http_request req;
} webhook;

static void webhook_make(webhook *w, const char *sig, const char *ts,
                         const void *body, size_t len)
{
  memset(w, 0, sizeof(*w));
  w->req.version = VC_HTTP_REQUEST_VERSION;
  w->req.method = "POST";
  w->req.target = "/webhooks/01JTEST";
  w->req.headers = w->h;
  w->h[w->req.nheaders].name = "Content-Type";
  w->h[w->req.nheaders++].value = "application/json";
  if (sig != NULL) {
    w->h[w->req.nheaders].name = "X-Twilio-Email-Event-Webhook-Signature";
    w->h[w->req.nheaders++].value = sig;
  }
  if (ts != NULL) {
    w->h[w->req.nheaders].name = "X-Twilio-Email-Event-Webhook-Timestamp";
    w->h[w->req.nheaders++].value = ts;
  }
  w->req.body = body;
  w->req.body_len = len;
}

/* What the sink collected, with copies of the borrowed strings. */
typedef struct got_update {
  char *message_id, *provider_id, *event_id, *code, *error;
  int status;
  int64_t occurred_at;
} got_update;

typedef struct collected {
  got_update u[1100];
  size_t n;
} collected;

static char *dup_or_null(const char *s)
{
  return s ? strdup(s) : NULL;
}

static int collect(void *payload, const vc_status_update *u)
{
  collected *c = payload;
  got_update *g;

  if (c->n == VC_ARRAY_SIZE(c->u))
    return VC_ETOOBIG;
  g = &c->u[c->n++];
  g->message_id = dup_or_null(u->message_id);
  g->provider_id = dup_or_null(u->provider_id);
  g->event_id = dup_or_null(u->event_id);
  g->code = dup_or_null(u->provider_code);
  g->error = dup_or_null(u->error_message);
  g->status = u->status;
  g->occurred_at = u->occurred_at;
  return 0;
}

static void collected_free(collected *c)
{
  for (size_t i = 0; i < c->n; i++) {
    free(c->u[i].message_id);
    free(c->u[i].provider_id);
    free(c->u[i].event_id);
    free(c->u[i].code);
    free(c->u[i].error);
  }
  c->n = 0;
}

/* Parse `body` through the adapter; the sink's reply is checked. */
static int parse_body(void *state, collected *c, const char *body,
                      size_t len)
{
  vc_event_sink sink;
  webhook w;
  int rc;

  webhook_make(&w, NULL, NULL, body, len);
  vc__sink_init(&sink, collect, NULL, c);
  rc = A->parse_webhook(state, &w.req, &sink);
  if (rc == 0) {
    CHECK(sink.reply_status == 200);
    CHECK(sink.reply_body.size == 0);
    CHECK(sink.reply_content_type == NULL);
  }
  vc__sink_fini(&sink);
  return rc;
}

static collected *collected_new(void)
{
  collected *c = calloc(1, sizeof(*c));

  CHECK(c != NULL);
  return c;
}

/* ------------------------------------------------------------------ */
/* ECDSA                                                               */

static void test_adapter_sendgrid__ecdsa_tv1(void)
{
  CHECK_OK(verify_b64(tv1_key, tv1_ts, tv1_payload, strlen(tv1_payload),
                      tv1_sig));
}

static void test_adapter_sendgrid__ecdsa_tv2(void)
{
  vc_buf p = VC_BUF_INIT;

  tv2_payload(&p);
  CHECK(p.size == 889);
  CHECK_OK(verify_b64(tv2_key, tv2_ts, p.ptr, p.size, tv2_sig));
  /* Without the CR LF between events it is another message. */
  vc_buf_dispose(&p);
  CHECK_OK(vc__buf_printf(&p, "[%s,%s]\r\n", tv2_event1, tv2_event2));
  CHECK_RC(verify_b64(tv2_key, tv2_ts, p.ptr, p.size, tv2_sig), VC_EAUTH);
  vc_buf_dispose(&p);
}

static void test_adapter_sendgrid__ecdsa_negatives(void)
{
  size_t n = strlen(tv1_payload);
  vc_buf k = VC_BUF_INIT, s = VC_BUF_INIT, m = VC_BUF_INIT;

  /* The four negative cases of the spec file. */
  CHECK_RC(verify_b64(other_key, tv1_ts, tv1_payload, n, tv1_sig),
           VC_EAUTH);
  check_error(VC_EAUTH, "does not verify");
  CHECK_RC(verify_b64(tv1_key, tv1_ts, "payload", 7, tv1_sig), VC_EAUTH);
  CHECK_RC(verify_b64(tv1_key, tv1_ts, tv1_payload, n, other_sig),
           VC_EAUTH);
  CHECK_RC(verify_b64(tv1_key, "timestamp", tv1_payload, n, tv1_sig),
           VC_EAUTH);
  /* The payload without its CR LF, and the other vector's key. */
  CHECK_RC(verify_b64(tv1_key, tv1_ts, tv1_payload, n - 2, tv1_sig),
           VC_EAUTH);
  CHECK_RC(verify_b64(tv2_key, tv1_ts, tv1_payload, n, tv1_sig),
           VC_EAUTH);

  /* Mangled signatures: truncated, a trailing byte, empty, flipped. */
  b64(&k, tv1_key);
  b64(&s, tv1_sig);
  CHECK_OK(vc__buf_puts(&m, tv1_ts));
  CHECK_OK(vc__buf_puts(&m, tv1_payload));
#define V(sig, len)                                                    \
  vc__ecdsa_p256_verify((const uint8_t *)k.ptr, k.size,                \
                        (const uint8_t *)m.ptr, m.size,                \
                        (const uint8_t *)(sig), (len))
  CHECK_OK(V(s.ptr, s.size));
  CHECK_RC(V(s.ptr, s.size - 1), VC_EAUTH);
  CHECK_RC(V(s.ptr, 0), VC_EAUTH);
  CHECK_RC(V(NULL, 0), VC_EAUTH);
  CHECK_OK(vc__buf_put(&s, "\0", 1));
  CHECK_RC(V(s.ptr, s.size), VC_EAUTH);
  s.size--;
  s.ptr[20] ^= 1;
  CHECK_RC(V(s.ptr, s.size), VC_EAUTH);
  s.ptr[20] ^= 1;
  CHECK_OK(V(s.ptr, s.size));
  /* A key cannot stand in for the message. */
  CHECK_RC(vc__ecdsa_p256_verify((const uint8_t *)k.ptr, k.size, NULL, 5,
                                 (const uint8_t *)s.ptr, s.size),
           VC_EINVALID);
#undef V
  vc_buf_dispose(&k);
  vc_buf_dispose(&s);
  vc_buf_dispose(&m);
}

static void test_adapter_sendgrid__ecdsa_bad_keys(void)
{
  vc_buf k = VC_BUF_INIT, s = VC_BUF_INIT;
  test_key k384, k256k1;
  static const uint8_t junk[] = { 0x30, 0x03, 0x02, 0x01, 0x01 };
  const uint8_t msg[] = "x";

  b64(&k, tv1_key);
  b64(&s, tv1_sig);
  CHECK_OK(vc__ecdsa_p256_check_key((const uint8_t *)k.ptr, k.size));
  CHECK_RC(vc__ecdsa_p256_check_key(junk, sizeof(junk)), VC_EINVALID);
  check_error(VC_EINVALID, "SubjectPublicKeyInfo");
  CHECK_RC(vc__ecdsa_p256_check_key(NULL, 0), VC_EINVALID);
  CHECK_RC(vc__ecdsa_p256_check_key((const uint8_t *)k.ptr, k.size - 1),
           VC_EINVALID);
  /* A point off the curve. */
  k.ptr[k.size - 1] ^= 1;
  CHECK_RC(vc__ecdsa_p256_check_key((const uint8_t *)k.ptr, k.size),
           VC_EINVALID);
  CHECK_RC(vc__ecdsa_p256_verify((const uint8_t *)k.ptr, k.size, msg, 1,
                                 (const uint8_t *)s.ptr, s.size),
           VC_EINVALID);
  k.ptr[k.size - 1] ^= 1;
  /* Trailing bytes after the SPKI. */
  CHECK_OK(vc__buf_put(&k, "\0", 1));
  CHECK_RC(vc__ecdsa_p256_check_key((const uint8_t *)k.ptr, k.size),
           VC_EINVALID);

  /* Well-formed EC keys on other curves, P-384 and secp256k1 (also
   * 256 bits) are refused. */
  key_gen(&k384, MBEDTLS_ECP_DP_SECP384R1, 7);
  CHECK_RC(vc__ecdsa_p256_check_key(k384.spki, k384.spki_len),
           VC_EINVALID);
  check_error(VC_EINVALID, "P-256");
  key_gen(&k256k1, MBEDTLS_ECP_DP_SECP256K1, 8);
  CHECK_RC(vc__ecdsa_p256_check_key(k256k1.spki, k256k1.spki_len),
           VC_EINVALID);
  {
    uint8_t sig[160];
    size_t n = key_sign(&k256k1, sig, "", msg, 1);
    CHECK_RC(vc__ecdsa_p256_verify(k256k1.spki, k256k1.spki_len, msg, 1,
                                   sig, n),
             VC_EINVALID);
  }
  key_free(&k384);
  key_free(&k256k1);
  vc_buf_dispose(&k);
  vc_buf_dispose(&s);
}

static void test_adapter_sendgrid__ecdsa_roundtrip(void)
{
  test_key k1, k2;
  uint8_t sig[160], msg[300];
  uint64_t x = 99;

  key_gen(&k1, MBEDTLS_ECP_DP_SECP256R1, 1);
  key_gen(&k2, MBEDTLS_ECP_DP_SECP256R1, 2);
  CHECK(k1.spki_len == 91);
  CHECK_OK(vc__ecdsa_p256_check_key(k1.spki, k1.spki_len));
  for (size_t len = 0; len <= sizeof(msg); len += 37) {
    size_t n;
    test_rng(&x, msg, sizeof(msg));
    n = key_sign(&k1, sig, "", msg, len);
    CHECK_OK(vc__ecdsa_p256_verify(k1.spki, k1.spki_len, msg, len, sig,
                                   n));
    CHECK_RC(vc__ecdsa_p256_verify(k2.spki, k2.spki_len, msg, len, sig,
                                   n),
             VC_EAUTH);
    if (len > 0) {
      msg[len / 2] ^= 0x80;
      CHECK_RC(vc__ecdsa_p256_verify(k1.spki, k1.spki_len, msg, len,
                                     sig, n),
               VC_EAUTH);
    }
  }
  key_free(&k1);
  key_free(&k2);
}

/* ------------------------------------------------------------------ */
/* init                                                                */

static void test_adapter_sendgrid__vtable(void)
{
  CHECK(A->version == VC_ADAPTER_VERSION);
  CHECK_STR(A->name, "sendgrid");
  CHECK(A->kind == VC_CHANNEL_EMAIL);
  CHECK(A->capabilities == (VC_CAP_DELIVERY_REPORTS | VC_CAP_HTML |
                            VC_CAP_MEDIA | VC_CAP_SIGNED_WEBHOOKS));
  CHECK(A->init && A->fini && A->build_send && A->parse_send &&
        A->verify_webhook && A->parse_webhook);
  A->fini(NULL);
}

typedef struct init_case {
  const char *config;
  const char *credentials;
  int code;
  const char *says;
} init_case;

static void test_adapter_sendgrid__init_validation(void)
{
  char long_key[600], cred[700], deep[64];
  static const init_case bad[] = {
    { "{}", "{}", VC_EINVALID, "'api_key' is required" },
    { "{}", "{\"api_key\":\"\"}", VC_EINVALID, "'api_key' must be" },
    { "{}", "{\"api_key\":\"SG.secret value\"}", VC_EINVALID,
      "without spaces" },
    { "{}", "{\"api_key\":\"SG.secret\\nvalue\"}", VC_EINVALID,
      "'api_key' must be" },
    { "{}", "{\"api_key\":\"SG.s\xc3\xa9\x63ret\"}", VC_EINVALID,
      "'api_key' must be" },
    { "{}", "{\"api_key\":42}", VC_EINVALID, "'api_key' must be" },
    { "{}", "{\"api_key\":\"SG.a\",\"api_key\":\"SG.b\"}", VC_EINVALID,
      "twice" },
    { "{}", "{\"api_key\":\"SG.a\",\"user\":\"x\"}", VC_EINVALID,
      "unknown credential 'user'" },
    { "{}", "[\"SG.secret\"]", VC_EINVALID, "not a JSON object" },
    { "{}", "{\"api_key\":\"SG.secret\"", VC_EINVALID, "not valid JSON" },
    { "{}", "{\"api_key\":\"SG.secret\"} x", VC_EINVALID,
      "not valid JSON" },
    { "{\"base_url\":\"ftp://api.sendgrid.com\"}", NULL, VC_EINVALID,
      "'base_url' must start with https://" },
    { "{\"base_url\":\"http://api.sendgrid.com\"}", NULL, VC_EINVALID,
      "only for a loopback host" },
    { "{\"base_url\":\"http://127.evil.example\"}", NULL, VC_EINVALID,
      "loopback" },
    { "{\"base_url\":\"https://\"}", NULL, VC_EINVALID, "needs a host" },
    { "{\"base_url\":\"https://u:p@api.sendgrid.com\"}", NULL,
      VC_EINVALID, "no user" },
    { "{\"base_url\":\"https://api.sendgrid.com/?x=1\"}", NULL,
      VC_EINVALID, "query" },
    { "{\"base_url\":\"https://api.sendgrid .com\"}", NULL, VC_EINVALID,
      "'base_url' has an invalid character" },
    { "{\"base_url\":\"\"}", NULL, VC_EINVALID, "'base_url' is required" },
    { "{\"base_url\":7}", NULL, VC_EINVALID, "'base_url' must be a string" },
    { "{\"webhook_public_key\":\"not base64!\"}", NULL, VC_EINVALID,
      "'webhook_public_key': malformed base64" },
    { "{\"webhook_public_key\":\"MFkwEw==\"}", NULL, VC_EINVALID,
      "'webhook_public_key': public key is not" },
    { "{\"webhook_public_key\":\"\"}", NULL, VC_EINVALID,
      "'webhook_public_key' is empty" },
    { "{\"sandbox_mode\":\"yes\"}", NULL, VC_EINVALID,
      "'sandbox_mode' must be true or false" },
    { "{\"sandbx\":true}", NULL, VC_EINVALID,
      "unknown config key 'sandbx'" },
    { "{\"sandbox_mode\":true,\"sandbox_mode\":false}", NULL, VC_EINVALID,
      "appears twice" },
    { "[]", NULL, VC_EINVALID, "config is not a JSON object" },
    { "\xff", NULL, VC_EINVALID, "config is not UTF-8" },
  };

  for (size_t i = 0; i < VC_ARRAY_SIZE(bad); i++) {
    void *state = (void *)1;
    const char *cr = bad[i].credentials ? bad[i].credentials
                                        : "{\"api_key\":\"SG.secret\"}";
    int rc = A->init(&state, bad[i].config, cr);
    if (rc != bad[i].code)
      fprintf(stderr, "  case %zu\n", i);
    CHECK(rc == bad[i].code);
    check_error(bad[i].code, bad[i].says);
    CHECK(state == NULL);
    /* Never a secret in a message. */
    CHECK(strstr(vc_error_last()->message, "secret") == NULL);
    CHECK(strstr(vc_error_last()->message, "SG.") == NULL);
  }

  memset(long_key, 'k', 513);
  long_key[513] = '\0';
  snprintf(cred, sizeof(cred), "{\"api_key\":\"%s\"}", long_key);
  {
    void *state = NULL;
    CHECK_RC(A->init(&state, "{}", cred), VC_EINVALID);
    check_error(VC_EINVALID, "1 to 512");
    long_key[512] = '\0';
    snprintf(cred, sizeof(cred), "{\"api_key\":\"%s\"}", long_key);
    CHECK_OK(A->init(&state, "{}", cred));
    A->fini(state);
    /* Any printable key is taken, not only "SG." ones. */
    CHECK_OK(A->init(&state, NULL, "{\"api_key\":\"k!~\"}"));
    A->fini(state);
  }
  /* Nesting is bounded before cJSON recurses. */
  memset(deep, '[', 40);
  deep[40] = '\0';
  {
    void *state = NULL;
    CHECK_RC(A->init(&state, deep, "{\"api_key\":\"SG.a\"}"),
             VC_EINVALID);
    check_error(VC_EINVALID, "nests deeper");
  }
  CHECK_RC(A->init(NULL, "{}", "{}"), VC_EINVALID);
  {
    void *state = NULL;
    CHECK_RC(A->init(&state, "{}", NULL), VC_EINVALID);
    check_error(VC_EINVALID, "'api_key' is required");
  }
}

/* The URL the adapter posts to. */
static void check_url(const char *config, const char *want)
{
  void *state = adapter_new(config, "{\"api_key\":\"SG.test\"}");
  vc_outbound m;
  vc_http_out req;

  memset(&m, 0, sizeof(m));
  m.version = VC_OUTBOUND_VERSION;
  m.to = "to@example.com";
  m.from = "from@example.com";
  m.subject = "s";
  m.text = "t";
  vc__http_out_init(&req);
  CHECK_OK(A->build_send(state, &m, &req));
  CHECK_STR(req.url, want);
  vc__http_out_reset(&req);
  A->fini(state);
}

static void test_adapter_sendgrid__init_base_url(void)
{
  check_url(NULL, "https://api.sendgrid.com/v3/mail/send");
  check_url("{}", "https://api.sendgrid.com/v3/mail/send");
  check_url("{\"base_url\":\"https://api.eu.sendgrid.com/\"}",
            "https://api.eu.sendgrid.com/v3/mail/send");
  check_url("{\"base_url\":\"http://127.0.0.1:40123\"}",
            "http://127.0.0.1:40123/v3/mail/send");
  check_url("{\"base_url\":\"http://localhost:8080//\"}",
            "http://localhost:8080/v3/mail/send");
  check_url("{\"base_url\":\"http://[::1]:9/p\"}",
            "http://[::1]:9/p/v3/mail/send");
  check_url("{\"base_url\":\"https://proxy.example/sg\"}",
            "https://proxy.example/sg/v3/mail/send");
}

static void test_adapter_sendgrid__init_public_key(void)
{
  char cfg[700];
  void *state;
  test_key k384;

  state = adapter_with_key(tv1_key);
  A->fini(state);
  /* PEM armour, as some dashboards and tools show it, is tolerated. */
  snprintf(cfg, sizeof(cfg),
           "{\"webhook_public_key\":\"-----BEGIN PUBLIC KEY-----\\n%.64s"
           "\\n%s\\n-----END PUBLIC KEY-----\\n\"}", tv1_key, tv1_key + 64);
  state = adapter_new(cfg, "{\"api_key\":\"SG.test\"}");
  A->fini(state);
  snprintf(cfg, sizeof(cfg),
           "{\"webhook_public_key\":\"-----BEGIN PUBLIC KEY-----%s\"}",
           tv1_key);
  state = NULL;
  CHECK_RC(A->init(&state, cfg, "{\"api_key\":\"SG.test\"}"),
           VC_EINVALID);
  check_error(VC_EINVALID, "no PEM end");
  /* A P-384 key is refused at init, naming the key. */
  key_gen(&k384, MBEDTLS_ECP_DP_SECP384R1, 3);
  snprintf(cfg, sizeof(cfg), "{\"webhook_public_key\":\"%s\"}",
           k384.spki_b64);
  key_free(&k384);
  CHECK_RC(A->init(&state, cfg, "{\"api_key\":\"SG.test\"}"),
           VC_EINVALID);
  check_error(VC_EINVALID, "'webhook_public_key': public key is not an "
              "EC P-256 key");
}

/* ------------------------------------------------------------------ */
/* build_send                                                          */

static const uint8_t pdf_bytes[] = { '%', 'P', 'D', 'F', 0, 0xff, 0x80,
                                     '\n' };

static void outbound_full(vc_outbound *m, vc_attachment att[2])
{
  memset(m, 0, sizeof(*m));
  memset(att, 0, 2 * sizeof(*att));
  att[0].filename = "invoice.pdf";
  att[0].content_type = "application/pdf";
  att[0].data = pdf_bytes;
  att[0].len = sizeof(pdf_bytes);
  att[1].filename = "note.txt";
  att[1].data = (const uint8_t *)"hi";
  att[1].len = 2;
  m->version = VC_OUTBOUND_VERSION;
  m->kind = VC_CHANNEL_EMAIL;
  m->message_id = "01JMSG0000000000000000000A";
  m->tenant_id = "01JTEN0000000000000000000B";
  m->to = "Asha@Example.COM";
  m->from = "billing@acme.example";
  m->from_name = "Acme \"Billing\" \xe0\xa4\x85";
  m->subject = "Invoice \xe2\x82\xb9 100";
  m->text = "Hello,\nyour invoice.";
  m->html = "<p>Hello, <b>your</b> invoice.</p>";
  m->attachments = att;
  m->nattachments = 2;
  m->metadata_json = "{\"order\":7}";
  m->status_callback_url = "https://erp.example/webhooks/01JCHAN";
}

static const cJSON *get(const cJSON *o, const char *key)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

  if (v == NULL)
    fprintf(stderr, "  no key '%s'\n", key);
  CHECK(v != NULL);
  return v;
}

static const char *get_str(const cJSON *o, const char *key)
{
  const cJSON *v = get(o, key);

  CHECK(cJSON_IsString(v));
  return v->valuestring;
}

/* Exactly these keys, in any order. */
static void check_keys(const cJSON *o, const char *const *keys, size_t n)
{
  CHECK(cJSON_IsObject(o));
  CHECK((size_t)cJSON_GetArraySize(o) == n);
  for (size_t i = 0; i < n; i++)
    get(o, keys[i]);
}

static void test_adapter_sendgrid__build_send_full(void)
{
  void *state = adapter_new("{\"sandbox_mode\":true}",
                            "{\"api_key\":\"SG.abc.def\"}");
  static const char *const top[] = { "personalizations", "from",
                                     "subject", "content", "attachments",
                                     "mail_settings" };
  static const char *const pkeys[] = { "to", "custom_args" };
  vc_attachment att[2];
  vc_outbound m;
  vc_http_out req;
  cJSON *root;
  const cJSON *p, *v, *a;
  vc_buf dec = VC_BUF_INIT;

  outbound_full(&m, att);
  vc__http_out_init(&req);
  CHECK_OK(A->build_send(state, &m, &req));
  CHECK_STR(req.method, "POST");
  CHECK_STR(req.url, "https://api.sendgrid.com/v3/mail/send");
  CHECK_STR(vc__http_out_header(&req, "Authorization"), "Bearer SG.abc.def");
  CHECK_STR(vc__http_out_header(&req, "Content-Type"), "application/json");
  CHECK(req.nheaders == 2);
  CHECK(req.body.size == strlen(req.body.ptr));

  CHECK((root = cJSON_Parse(req.body.ptr)) != NULL);
  check_keys(root, top, VC_ARRAY_SIZE(top));
  v = get(root, "personalizations");
  CHECK(cJSON_GetArraySize(v) == 1);
  p = cJSON_GetArrayItem(v, 0);
  check_keys(p, pkeys, VC_ARRAY_SIZE(pkeys));
  v = get(p, "to");
  CHECK(cJSON_GetArraySize(v) == 1);
  CHECK(cJSON_GetArraySize(cJSON_GetArrayItem(v, 0)) == 1);
  /* The domain is lowercased, the local part kept. */
  CHECK_STR(get_str(cJSON_GetArrayItem(v, 0), "email"), "Asha@example.com");
  v = get(p, "custom_args");
  CHECK(cJSON_GetArraySize(v) == 2);
  CHECK_STR(get_str(v, "vc_message_id"), "01JMSG0000000000000000000A");
  CHECK_STR(get_str(v, "vc_tenant_id"), "01JTEN0000000000000000000B");
  v = get(root, "from");
  CHECK(cJSON_GetArraySize(v) == 2);
  CHECK_STR(get_str(v, "email"), "billing@acme.example");
  CHECK_STR(get_str(v, "name"), "Acme \"Billing\" \xe0\xa4\x85");
  CHECK_STR(get_str(root, "subject"), "Invoice \xe2\x82\xb9 100");
  v = get(root, "content");
  CHECK(cJSON_GetArraySize(v) == 2);
  CHECK_STR(get_str(cJSON_GetArrayItem(v, 0), "type"), "text/plain");
  CHECK_STR(get_str(cJSON_GetArrayItem(v, 0), "value"),
            "Hello,\nyour invoice.");
  CHECK_STR(get_str(cJSON_GetArrayItem(v, 1), "type"), "text/html");
  CHECK_STR(get_str(cJSON_GetArrayItem(v, 1), "value"),
            "<p>Hello, <b>your</b> invoice.</p>");
  v = get(root, "attachments");
  CHECK(cJSON_GetArraySize(v) == 2);
  a = cJSON_GetArrayItem(v, 0);
  CHECK(cJSON_GetArraySize(a) == 4);
  CHECK_STR(get_str(a, "content"), "JVBERgD/gAo=");
  b64(&dec, get_str(a, "content"));
  CHECK(dec.size == sizeof(pdf_bytes));
  CHECK(memcmp(dec.ptr, pdf_bytes, dec.size) == 0);
  CHECK_STR(get_str(a, "filename"), "invoice.pdf");
  CHECK_STR(get_str(a, "type"), "application/pdf");
  CHECK_STR(get_str(a, "disposition"), "attachment");
  a = cJSON_GetArrayItem(v, 1);
  CHECK(cJSON_GetArraySize(a) == 3);   /* no type given: none sent */
  CHECK_STR(get_str(a, "content"), "aGk=");
  CHECK_STR(get_str(a, "filename"), "note.txt");
  CHECK_STR(get_str(a, "disposition"), "attachment");
  v = get(get(get(root, "mail_settings"), "sandbox_mode"), "enable");
  CHECK(cJSON_IsTrue(v));
  cJSON_Delete(root);
  vc_buf_dispose(&dec);
  vc__http_out_reset(&req);
  A->fini(state);
}

static void test_adapter_sendgrid__build_send_minimal(void)
{
  void *state = adapter_new("{\"sandbox_mode\":false}",
                            "{\"api_key\":\"SG.k\"}");
  static const char *const top[] = { "personalizations", "from",
                                     "subject", "content",
                                     "mail_settings" };
  vc_outbound m;
  vc_http_out req;
  cJSON *root;
  const cJSON *v;

  memset(&m, 0, sizeof(m));
  m.version = VC_OUTBOUND_VERSION;
  m.to = "a@example.com";
  m.from = "b@example.com";
  m.from_name = "";
  m.subject = "Hi";
  m.html = "<i>only html</i>";
  m.text = "";
  vc__http_out_init(&req);
  CHECK_OK(A->build_send(state, &m, &req));
  CHECK((root = cJSON_Parse(req.body.ptr)) != NULL);
  check_keys(root, top, VC_ARRAY_SIZE(top));
  /* No ids: no custom_args. */
  v = cJSON_GetArrayItem(get(root, "personalizations"), 0);
  CHECK(cJSON_GetArraySize(v) == 1);
  v = get(root, "from");
  CHECK(cJSON_GetArraySize(v) == 1);
  v = get(root, "content");
  CHECK(cJSON_GetArraySize(v) == 1);
  CHECK_STR(get_str(cJSON_GetArrayItem(v, 0), "type"), "text/html");
  v = get(get(get(root, "mail_settings"), "sandbox_mode"), "enable");
  CHECK(cJSON_IsFalse(v));
  cJSON_Delete(root);
  vc__http_out_reset(&req);
  A->fini(state);

  /* sandbox_mode not configured: no mail_settings at all. */
  state = adapter_new(NULL, "{\"api_key\":\"SG.k\"}");
  m.message_id = "01JM";
  vc__http_out_init(&req);
  CHECK_OK(A->build_send(state, &m, &req));
  CHECK((root = cJSON_Parse(req.body.ptr)) != NULL);
  CHECK(cJSON_GetObjectItem(root, "mail_settings") == NULL);
  v = get(cJSON_GetArrayItem(get(root, "personalizations"), 0),
          "custom_args");
  CHECK(cJSON_GetArraySize(v) == 1);
  CHECK_STR(get_str(v, "vc_message_id"), "01JM");
  cJSON_Delete(root);
  vc__http_out_reset(&req);
  A->fini(state);
}

typedef void (*mutate_fn)(vc_outbound *m, vc_attachment *att);

static void mut_no_body(vc_outbound *m, vc_attachment *a)
{
  (void)a;
  m->text = NULL;
  m->html = "";
}
static void mut_bad_to(vc_outbound *m, vc_attachment *a)
{
  (void)a;
  m->to = "not an address";
}
static void mut_no_to(vc_outbound *m, vc_attachment *a)
{
  (void)a;
  m->to = NULL;
}
static void mut_bad_from(vc_outbound *m, vc_attachment *a)
{
  (void)a;
  m->from = "billing@";
}
static void mut_no_subject(vc_outbound *m, vc_attachment *a)
{
  (void)a;
  m->subject = NULL;
}
static void mut_subject_crlf(vc_outbound *m, vc_attachment *a)
{
  (void)a;
  m->subject = "Hi\r\nBcc: x@example.com";
}
static void mut_name_ctl(vc_outbound *m, vc_attachment *a)
{
  (void)a;
  m->from_name = "Acme\n";
}
static void mut_text_utf8(vc_outbound *m, vc_attachment *a)
{
  (void)a;
  m->text = "bad \xc3\x28";
}
static void mut_url_attachment(vc_outbound *m, vc_attachment *a)
{
  (void)m;
  a[1].data = NULL;
  a[1].len = 0;
  a[1].url = "https://files.example/x.pdf";
}
static void mut_no_filename(vc_outbound *m, vc_attachment *a)
{
  (void)m;
  a[0].filename = NULL;
}
static void mut_empty_attachment(vc_outbound *m, vc_attachment *a)
{
  (void)m;
  a[0].len = 0;
}
static void mut_null_list(vc_outbound *m, vc_attachment *a)
{
  (void)a;
  m->attachments = NULL;
}
static void mut_type_ctl(vc_outbound *m, vc_attachment *a)
{
  (void)m;
  a[0].content_type = "text/plain\r\nX: y";
}
static void mut_version(vc_outbound *m, vc_attachment *a)
{
  (void)a;
  m->version = 99;
}
static void mut_long_id(vc_outbound *m, vc_attachment *a)
{
  static char id[200];
  (void)a;
  memset(id, 'x', sizeof(id) - 1);
  m->message_id = id;
}

typedef struct build_case {
  mutate_fn fn;
  int code;
  const char *says;
} build_case;

static void test_adapter_sendgrid__build_send_bad(void)
{
  static const build_case bad[] = {
    { mut_no_body, VC_EINVALID, "needs a text or an HTML body" },
    { mut_bad_to, VC_EINVALID, "recipient: " },
    { mut_no_to, VC_EINVALID, "recipient: " },
    { mut_bad_from, VC_EINVALID, "sender: " },
    { mut_no_subject, VC_EINVALID, "subject is required" },
    { mut_subject_crlf, VC_EINVALID, "subject contains a control" },
    { mut_name_ctl, VC_EINVALID, "sender name contains a control" },
    { mut_text_utf8, VC_EENCODING, "text body is not valid UTF-8" },
    { mut_url_attachment, VC_ENOTSUPPORTED,
      "attachment 2 is a URL; SendGrid takes attachment content inline" },
    { mut_no_filename, VC_EINVALID, "attachment filename is required" },
    { mut_empty_attachment, VC_EINVALID, "attachment 1 has no content" },
    { mut_null_list, VC_EINVALID, "attachments" },
    { mut_type_ctl, VC_EINVALID, "content type contains a control" },
    { mut_version, VC_EVERSION, "vc_outbound" },
    { mut_long_id, VC_ETOOBIG, "message id is longer than 128" },
  };
  void *state = adapter_new(NULL, "{\"api_key\":\"SG.k\"}");

  for (size_t i = 0; i < VC_ARRAY_SIZE(bad); i++) {
    vc_attachment att[2];
    vc_outbound m;
    vc_http_out req;
    int rc;

    outbound_full(&m, att);
    bad[i].fn(&m, att);
    vc__http_out_init(&req);
    rc = A->build_send(state, &m, &req);
    if (rc != bad[i].code)
      fprintf(stderr, "  case %zu: %d (%s)\n", i, rc,
              vc_error_last()->message);
    CHECK(rc == bad[i].code);
    check_error(bad[i].code, bad[i].says);
    /* Nothing built. */
    CHECK(req.url == NULL && req.nheaders == 0 && req.body.size == 0);
    vc__http_out_reset(&req);
  }
  A->fini(state);
}

static void test_adapter_sendgrid__build_send_size(void)
{
  void *state = adapter_new(NULL, "{\"api_key\":\"SG.k\"}");
  size_t big = 23u * 1024 * 1024; /* base64 makes it 30.7 MB */
  uint8_t *bytes = calloc(1, big);
  char *text = malloc(31u * 1024 * 1024 + 1);
  vc_attachment att[2];
  vc_outbound m;
  vc_http_out req;

  CHECK(bytes != NULL && text != NULL);
  outbound_full(&m, att);
  att[0].data = bytes;
  att[0].len = big;
  vc__http_out_init(&req);
  CHECK_RC(A->build_send(state, &m, &req), VC_ETOOBIG);
  check_error(VC_ETOOBIG, "30 MB");
  CHECK(req.url == NULL);
  /* A size_t-sized length cannot wrap the sum. */
  att[0].len = SIZE_MAX;
  CHECK_RC(A->build_send(state, &m, &req), VC_ETOOBIG);
  /* 20 MB of attachment fits (about 27 MB of base64). */
  att[0].len = 20u * 1024 * 1024;
  CHECK_OK(A->build_send(state, &m, &req));
  CHECK(req.body.size > 26u * 1024 * 1024 &&
        req.body.size <= 30u * 1024 * 1024);
  vc__http_out_reset(&req);
  /* A 31 MB text body. */
  memset(text, 'a', 31u * 1024 * 1024);
  text[31u * 1024 * 1024] = '\0';
  m.nattachments = 0;
  m.text = text;
  CHECK_RC(A->build_send(state, &m, &req), VC_ETOOBIG);
  free(bytes);
  free(text);
  A->fini(state);
}

/* ------------------------------------------------------------------ */
/* parse_send                                                          */

static void run_parse(vc_send_result *out, int status, const char *body,
                      const vc_http_header *h, size_t nh)
{
  vc_http_response res;

  memset(&res, 0, sizeof(res));
  res.version = VC_HTTP_RESPONSE_VERSION;
  res.status = status;
  res.content_type = body ? "application/json" : NULL;
  res.headers = h;
  res.nheaders = nh;
  res.body.ptr = (char *)body;
  res.body.size = body ? strlen(body) : 0;
  memset(out, 0, sizeof(*out));
  out->version = VC_SEND_RESULT_VERSION;
  CHECK_OK(A->parse_send(NULL, NULL, &res, out));
}

static void test_adapter_sendgrid__parse_send_accepted(void)
{
  vc_http_header h[2] = {
    { "Connection", "keep-alive" },
    { "X-Message-Id", "LRzXl_NHStOGhQ4kofSm_A" },
  };
  vc_http_header lower = { "x-message-id", "abc-123" };
  vc_http_header bad = { "X-Message-Id", "has space" };
  vc_send_result r;

  run_parse(&r, 202, NULL, h, 2);
  CHECK(r.outcome == VC_SEND_ACCEPTED && r.error == 0);
  CHECK_STR(r.provider_id, "LRzXl_NHStOGhQ4kofSm_A");
  run_parse(&r, 202, "", &lower, 1);
  CHECK(r.outcome == VC_SEND_ACCEPTED);
  CHECK_STR(r.provider_id, "abc-123");
  /* No X-Message-Id (sandbox mode answers 200 without one): still
   * accepted; events carry vc_message_id. */
  run_parse(&r, 202, NULL, NULL, 0);
  CHECK(r.outcome == VC_SEND_ACCEPTED);
  CHECK_STR(r.provider_id, "");
  run_parse(&r, 200, NULL, &bad, 1);
  CHECK(r.outcome == VC_SEND_ACCEPTED);
  CHECK_STR(r.provider_id, "");
}

typedef struct send_case {
  int status;
  const char *body;
  int outcome;
  int error;
  const char *message;
} send_case;

static void test_adapter_sendgrid__parse_send_errors(void)
{
  static const send_case cases[] = {
    { 400, "{\"errors\":[{\"message\":\"Does not contain a valid address."
      "\",\"field\":\"personalizations.0.to.0.email\",\"help\":\"http://"
      "sendgrid.com/docs\"},{\"message\":\"second\"}]}",
      VC_SEND_REJECTED, VC_EPROVIDER,
      "Does not contain a valid address. (field "
      "personalizations.0.to.0.email)" },
    { 400, "{\"errors\":[{\"message\":\"invalid request\",\"field\":"
      "\"null\"}]}", VC_SEND_REJECTED, VC_EPROVIDER, "invalid request" },
    { 400, "{\"errors\":[{\"message\":\"m\",\"field\":null}],\"id\":\"x\"}",
      VC_SEND_REJECTED, VC_EPROVIDER, "m" },
    { 400, "<html>Bad Request</html>", VC_SEND_REJECTED, VC_EPROVIDER,
      "HTTP 400 from SendGrid" },
    { 400, "{\"errors\":[]}", VC_SEND_REJECTED, VC_EPROVIDER,
      "HTTP 400 from SendGrid" },
    { 400, "{\"errors\":[{\"message\":7}]}", VC_SEND_REJECTED, VC_EPROVIDER,
      "HTTP 400 from SendGrid" },
    { 401, "{\"errors\":[{\"message\":\"authorization required\","
      "\"field\":\"null\"}]}", VC_SEND_FAILOVER, VC_EAUTH,
      "authorization required" },
    { 403, "{\"errors\":[{\"message\":\"The from address does not match a "
      "verified Sender Identity.\",\"field\":\"from\"}]}",
      VC_SEND_FAILOVER, VC_EAUTH,
      "The from address does not match a verified Sender Identity. "
      "(field from)" },
    { 413, "{\"errors\":[{\"message\":\"content too large\"}]}",
      VC_SEND_REJECTED, VC_ETOOBIG, "content too large" },
    { 500, "{\"errors\":[{\"message\":\"internal server error\"}]}",
      VC_SEND_RETRY, VC_EPROVIDER, "internal server error" },
    { 502, NULL, VC_SEND_RETRY, VC_EPROVIDER, "HTTP 502 from SendGrid" },
    { 503, "not json", VC_SEND_RETRY, VC_EPROVIDER,
      "HTTP 503 from SendGrid" },
    { 404, "{\"errors\":[{\"message\":\"not found\"}]}", VC_SEND_RETRY,
      VC_EPROVIDER, "not found" },
    { 405, NULL, VC_SEND_RETRY, VC_EPROVIDER, "HTTP 405 from SendGrid" },
    { 302, NULL, VC_SEND_RETRY, VC_EPROVIDER, "HTTP 302 from SendGrid" },
    { 0, NULL, VC_SEND_RETRY, VC_EPROVIDER, "HTTP 0 from SendGrid" },
    { 429, "{\"errors\":[{\"field\":null,\"message\":\"too many "
      "requests\"}]}", VC_SEND_RETRY, VC_ERATELIMIT, "too many requests" },
    /* Controls become spaces, invalid UTF-8 '?'. */
    { 400, "{\"errors\":[{\"message\":\"a\\nb\\u0007c \xff\xfe d \xc3\xa9\""
      "}]}", VC_SEND_REJECTED, VC_EPROVIDER, "a b c ?? d \xc3\xa9" },
  };

  for (size_t i = 0; i < VC_ARRAY_SIZE(cases); i++) {
    vc_send_result r;
    char code[8];

    run_parse(&r, cases[i].status, cases[i].body, NULL, 0);
    if (r.outcome != cases[i].outcome || r.error != cases[i].error ||
        strcmp(r.error_message, cases[i].message) != 0)
      fprintf(stderr, "  case %zu: %d %d \"%s\"\n", i, r.outcome, r.error,
              r.error_message);
    CHECK(r.outcome == cases[i].outcome);
    CHECK(r.error == cases[i].error);
    CHECK_STR(r.error_message, cases[i].message);
    snprintf(code, sizeof(code), "%d", cases[i].status);
    CHECK_STR(r.provider_code, code);
    CHECK_STR(r.provider_id, "");
    CHECK(r.retry_at_ms == 0 && r.retry_after_ms == 0);
  }
}

static void test_adapter_sendgrid__parse_send_retry_timing(void)
{
  vc_http_header rl[3] = {
    { "X-RateLimit-Limit", "600" },
    { "X-RateLimit-Remaining", "0" },
    { "x-ratelimit-reset", "1700000060" },
  };
  vc_http_header ra = { "Retry-After", "7" };
  vc_http_header ra_big = { "Retry-After", "999999" };
  vc_http_header junk = { "X-RateLimit-Reset", "soon" };
  vc_send_result r;

  run_parse(&r, 429, NULL, rl, 3);
  CHECK(r.outcome == VC_SEND_RETRY && r.error == VC_ERATELIMIT);
  CHECK(r.retry_at_ms == INT64_C(1700000060000));
  CHECK(r.retry_after_ms == 0);
  run_parse(&r, 429, NULL, &junk, 1);
  CHECK(r.retry_at_ms == 0);
  run_parse(&r, 503, NULL, &ra, 1);
  CHECK(r.outcome == VC_SEND_RETRY && r.retry_after_ms == 7000);
  run_parse(&r, 429, NULL, &ra_big, 1);
  CHECK(r.retry_after_ms == INT64_C(24) * 3600 * 1000);
  /* Retry-After means nothing on a final answer. */
  run_parse(&r, 400, NULL, &ra, 1);
  CHECK(r.outcome == VC_SEND_REJECTED && r.retry_after_ms == 0);
}

static void test_adapter_sendgrid__parse_send_long_message(void)
{
  vc_buf body = VC_BUF_INIT;
  vc_send_result r;
  size_t n;

  /* 300 two-byte characters: cut between characters, below 256. */
  CHECK_OK(vc__buf_puts(&body, "{\"errors\":[{\"message\":\"x"));
  for (int i = 0; i < 300; i++)
    CHECK_OK(vc__buf_puts(&body, "\xc3\xa9"));
  CHECK_OK(vc__buf_puts(&body, "\"}]}"));
  run_parse(&r, 400, body.ptr, NULL, 0);
  n = strlen(r.error_message);
  CHECK(n >= 250 && n < sizeof(r.error_message));
  CHECK(vc__utf8_valid(r.error_message, n));
  vc_buf_dispose(&body);
  CHECK_RC(A->parse_send(NULL, NULL, NULL, &r), VC_EINVALID);
}

/* ------------------------------------------------------------------ */
/* verify_webhook                                                      */

static int64_t ms(const char *ts)
{
  return (int64_t)strtoll(ts, NULL, 10) * 1000;
}

static void test_adapter_sendgrid__verify_tv1(void)
{
  void *state = adapter_with_key(tv1_key);
  size_t n = strlen(tv1_payload);
  webhook w;

  webhook_make(&w, tv1_sig, tv1_ts, tv1_payload, n);
  CHECK_OK(A->verify_webhook(state, &w.req, VC__WEBHOOK_ENV("https://erp.example/x", ms(tv1_ts))));
  /* Header names are case-insensitive. */
  w.h[1].name = "x-twilio-email-event-webhook-signature";
  w.h[2].name = "X-TWILIO-EMAIL-EVENT-WEBHOOK-TIMESTAMP";
  CHECK_OK(A->verify_webhook(state, &w.req, VC__WEBHOOK_ENV(NULL, ms(tv1_ts))));
  /* The replay window is 300 s either side. */
  CHECK_OK(A->verify_webhook(state, &w.req, VC__WEBHOOK_ENV(NULL, ms(tv1_ts) + 300000)));
  CHECK_OK(A->verify_webhook(state, &w.req, VC__WEBHOOK_ENV(NULL, ms(tv1_ts) - 300000)));
  CHECK_RC(A->verify_webhook(state, &w.req, VC__WEBHOOK_ENV(NULL, ms(tv1_ts) + 300001)),
           VC_EAUTH);
  check_error(VC_EAUTH, "outside the 300 s replay window");
  CHECK_RC(A->verify_webhook(state, &w.req, VC__WEBHOOK_ENV(NULL, ms(tv1_ts) - 300001)),
           VC_EAUTH);
  CHECK_RC(A->verify_webhook(state, &w.req, VC__WEBHOOK_ENV(NULL, INT64_MIN)), VC_EAUTH);
  CHECK_RC(A->verify_webhook(state, &w.req, VC__WEBHOOK_ENV(NULL, INT64_MAX)), VC_EAUTH);
  A->fini(state);
}

static void test_adapter_sendgrid__verify_tv2(void)
{
  void *state = adapter_with_key(tv2_key);
  vc_buf p = VC_BUF_INIT;
  webhook w;

  tv2_payload(&p);
  webhook_make(&w, tv2_sig, tv2_ts, p.ptr, p.size);
  CHECK_OK(A->verify_webhook(state, &w.req, VC__WEBHOOK_ENV(NULL, ms(tv2_ts) + 12345)));
  vc_buf_dispose(&p);
  A->fini(state);
}

static void test_adapter_sendgrid__verify_rejects(void)
{
  void *state = adapter_with_key(tv1_key);
  void *wrong = adapter_with_key(other_key);
  void *nokey = adapter_new(NULL, "{\"api_key\":\"SG.k\"}");
  size_t n = strlen(tv1_payload);
  char *tampered = strdup(tv1_payload);
  int64_t now = ms(tv1_ts);
  webhook w;

  CHECK(tampered != NULL);
  tampered[strlen("[{\"email\":\"h")] = 'j';
  webhook_make(&w, tv1_sig, tv1_ts, tampered, n);
  CHECK_RC(A->verify_webhook(state, &w.req, VC__WEBHOOK_ENV(NULL, now)), VC_EAUTH);
  check_error(VC_EAUTH, "signature does not verify");
  /* A body cut short, or one extra byte. */
  webhook_make(&w, tv1_sig, tv1_ts, tv1_payload, n - 1);
  CHECK_RC(A->verify_webhook(state, &w.req, VC__WEBHOOK_ENV(NULL, now)), VC_EAUTH);
  webhook_make(&w, tv1_sig, tv1_ts, tv1_payload, n + 1);
  CHECK_RC(A->verify_webhook(state, &w.req, VC__WEBHOOK_ENV(NULL, now)), VC_EAUTH);
  /* Another key. */
  webhook_make(&w, tv1_sig, tv1_ts, tv1_payload, n);
  CHECK_RC(A->verify_webhook(wrong, &w.req, VC__WEBHOOK_ENV(NULL, now)), VC_EAUTH);
  /* No key configured: every webhook is refused. */
  CHECK_RC(A->verify_webhook(nokey, &w.req, VC__WEBHOOK_ENV(NULL, now)), VC_EAUTH);
  check_error(VC_EAUTH, "no verification key configured");
  /* Missing headers. */
  webhook_make(&w, NULL, tv1_ts, tv1_payload, n);
  CHECK_RC(A->verify_webhook(state, &w.req, VC__WEBHOOK_ENV(NULL, now)), VC_EAUTH);
  check_error(VC_EAUTH, "missing X-Twilio-Email-Event-Webhook-Signature");
  webhook_make(&w, tv1_sig, NULL, tv1_payload, n);
  CHECK_RC(A->verify_webhook(state, &w.req, VC__WEBHOOK_ENV(NULL, now)), VC_EAUTH);
  check_error(VC_EAUTH, "missing X-Twilio-Email-Event-Webhook-Timestamp");
  webhook_make(&w, NULL, NULL, tv1_payload, n);
  CHECK_RC(A->verify_webhook(state, &w.req, VC__WEBHOOK_ENV(NULL, now)), VC_EAUTH);
  /* Bad timestamps: the spec's "timestamp", signs, spaces, huge. */
  {
    static const char *const ts[] = { "timestamp", "", "-1600112502",
                                      "+1600112502", " 1600112502",
                                      "1600112502 ", "1600112502.0",
                                      "99999999999999999999" };
    for (size_t i = 0; i < VC_ARRAY_SIZE(ts); i++) {
      webhook_make(&w, tv1_sig, ts[i], tv1_payload, n);
      CHECK_RC(A->verify_webhook(state, &w.req, VC__WEBHOOK_ENV(NULL, now)), VC_EAUTH);
      check_error(VC_EAUTH, "not a Unix time");
    }
  }
  /* A signature that is not base64, empty, or too long. */
  {
    char longsig[400];
    memset(longsig, 'A', sizeof(longsig) - 1);
    longsig[sizeof(longsig) - 1] = '\0';
    webhook_make(&w, "!!!", tv1_ts, tv1_payload, n);
    CHECK_RC(A->verify_webhook(state, &w.req, VC__WEBHOOK_ENV(NULL, now)), VC_EAUTH);
    check_error(VC_EAUTH, "is not base64");
    webhook_make(&w, "", tv1_ts, tv1_payload, n);
    CHECK_RC(A->verify_webhook(state, &w.req, VC__WEBHOOK_ENV(NULL, now)), VC_EAUTH);
    webhook_make(&w, longsig, tv1_ts, tv1_payload, n);
    CHECK_RC(A->verify_webhook(state, &w.req, VC__WEBHOOK_ENV(NULL, now)), VC_EAUTH);
    webhook_make(&w, other_sig, tv1_ts, tv1_payload, n);
    CHECK_RC(A->verify_webhook(state, &w.req, VC__WEBHOOK_ENV(NULL, now)), VC_EAUTH);
  }
  /* Bodies past 1 MiB are refused before any work. */
  {
    char *huge = calloc(1, 1024 * 1024 + 1);
    CHECK(huge != NULL);
    webhook_make(&w, tv1_sig, tv1_ts, huge, 1024 * 1024 + 1);
    CHECK_RC(A->verify_webhook(state, &w.req, VC__WEBHOOK_ENV(NULL, now)), VC_ETOOBIG);
    free(huge);
  }
  webhook_make(&w, tv1_sig, tv1_ts, NULL, 3);
  CHECK_RC(A->verify_webhook(state, &w.req, VC__WEBHOOK_ENV(NULL, now)), VC_EINVALID);
  free(tampered);
  A->fini(state);
  A->fini(wrong);
  A->fini(nokey);
}

/* Our own key and payloads, verified and then parsed: the path a
 * delivery webhook from the simulator takes. */
static void test_adapter_sendgrid__verify_roundtrip(void)
{
  static const char body[] =
    "[{\"email\":\"a@example.com\",\"event\":\"processed\",\"sg_event_id\":"
    "\"e1\",\"sg_message_id\":\"X1.r1\",\"timestamp\":1700000000,"
    "\"vc_message_id\":\"01JM1\",\"vc_tenant_id\":\"01JT\"},\r\n"
    "{\"email\":\"a@example.com\",\"event\":\"delivered\",\"sg_event_id\":"
    "\"e2\",\"sg_message_id\":\"X1.r1\",\"timestamp\":1700000005,"
    "\"response\":\"250 OK\",\"vc_message_id\":\"01JM1\"}]\r\n";
  char sig[256];
  test_key k, other;
  void *state;
  collected *c = collected_new();
  webhook w;

  key_gen(&k, MBEDTLS_ECP_DP_SECP256R1, 42);
  key_gen(&other, MBEDTLS_ECP_DP_SECP256R1, 43);
  state = adapter_with_key(k.spki_b64);
  sign_b64(&k, sig, "1700000009", body, strlen(body));
  webhook_make(&w, sig, "1700000009", body, strlen(body));
  CHECK_OK(A->verify_webhook(state, &w.req, VC__WEBHOOK_ENV(NULL, ms("1700000010"))));
  CHECK_OK(parse_body(state, c, body, strlen(body)));
  CHECK(c->n == 2);
  CHECK(c->u[0].status == VC_MSG_SENT && c->u[1].status == VC_MSG_DELIVERED);
  CHECK_STR(c->u[1].message_id, "01JM1");
  CHECK(c->u[1].error == NULL);
  /* Signed under another timestamp than the header says. */
  webhook_make(&w, sig, "1700000008", body, strlen(body));
  CHECK_RC(A->verify_webhook(state, &w.req, VC__WEBHOOK_ENV(NULL, ms("1700000010"))),
           VC_EAUTH);
  /* Signed by another key. */
  sign_b64(&other, sig, "1700000009", body, strlen(body));
  webhook_make(&w, sig, "1700000009", body, strlen(body));
  CHECK_RC(A->verify_webhook(state, &w.req, VC__WEBHOOK_ENV(NULL, ms("1700000010"))),
           VC_EAUTH);
  /* An empty body can be signed too, and verifies. */
  sign_b64(&k, sig, "1700000009", "", 0);
  webhook_make(&w, sig, "1700000009", NULL, 0);
  CHECK_OK(A->verify_webhook(state, &w.req, VC__WEBHOOK_ENV(NULL, ms("1700000010"))));
  collected_free(c);
  free(c);
  key_free(&k);
  key_free(&other);
  A->fini(state);
}

/* ------------------------------------------------------------------ */
/* parse_webhook                                                       */

#define EV(fields) "{\"email\":\"a@example.com\",\"timestamp\":1700000000," \
  fields "}"

static void test_adapter_sendgrid__parse_mapping(void)
{
  static const char body[] = "["
    EV("\"event\":\"processed\",\"sg_event_id\":\"p\",\"sg_message_id\":"
       "\"SGID.r\",\"vc_message_id\":\"M1\",\"vc_tenant_id\":\"T1\","
       "\"category\":[\"a\",\"b\"]") ","
    EV("\"event\":\"deferred\",\"sg_event_id\":\"df\",\"response\":"
       "\"400 try again\",\"attempt\":\"5\",\"vc_message_id\":\"M1\"") ","
    EV("\"event\":\"delivered\",\"sg_event_id\":\"dl\",\"response\":"
       "\"250 OK\",\"vc_message_id\":\"M1\"") ","
    EV("\"event\":\"open\",\"sg_event_id\":\"o1\",\"sg_machine_open\":"
       "false,\"useragent\":\"x\",\"vc_message_id\":\"M1\"") ","
    EV("\"event\":\"open\",\"sg_event_id\":\"o2\",\"sg_machine_open\":"
       "true,\"vc_message_id\":\"M2\"") ","
    EV("\"event\":\"bounce\",\"sg_event_id\":\"b1\",\"type\":\"bounce\","
       "\"status\":\"5.1.1\",\"reason\":\"550 5.1.1 no such user\","
       "\"vc_message_id\":\"M3\"") ","
    EV("\"event\":\"bounce\",\"sg_event_id\":\"b2\",\"type\":\"blocked\","
       "\"status\":\"5.7.1\",\"reason\":\"554 blocked\","
       "\"vc_message_id\":\"M4\"") ","
    EV("\"event\":\"bounce\",\"sg_event_id\":\"b3\",\"status\":\"5.0.0\","
       "\"response\":\"550 gone\",\"vc_message_id\":\"M5\"") ","
    EV("\"event\":\"dropped\",\"sg_event_id\":\"dr\",\"reason\":"
       "\"Bounced Address\",\"vc_message_id\":\"M6\"") ","
    EV("\"event\":\"click\",\"url\":\"https://x\",\"vc_message_id\":\"M1\"")
    ","
    EV("\"event\":\"spamreport\",\"vc_message_id\":\"M1\"") ","
    EV("\"event\":\"unsubscribe\",\"vc_message_id\":\"M1\"") ","
    EV("\"event\":\"group_unsubscribe\",\"asm_group_id\":1,"
       "\"vc_message_id\":\"M1\"") ","
    EV("\"event\":\"group_resubscribe\",\"asm_group_id\":1,"
       "\"vc_message_id\":\"M1\"") ","
    /* Unknown types are skipped, whatever their fields look like. */
    EV("\"event\":\"account_status_change\",\"type\":7,\"sg_event_id\":1")
    "]";
  static const struct {
    const char *message_id, *event_id, *code, *error;
    int status;
  } want[] = {
    { "M1", "p", NULL, NULL, VC_MSG_SENT },
    { "M1", "dl", NULL, NULL, VC_MSG_DELIVERED },
    { "M1", "o1", NULL, NULL, VC_MSG_READ },
    { "M2", "o2", NULL, NULL, VC_MSG_DELIVERED },
    { "M3", "b1", "5.1.1", "550 5.1.1 no such user", VC_MSG_BOUNCED },
    { "M4", "b2", "5.7.1", "554 blocked", VC_MSG_UNDELIVERED },
    { "M5", "b3", "5.0.0", "550 gone", VC_MSG_BOUNCED },
    { "M6", "dr", NULL, "Bounced Address", VC_MSG_UNDELIVERED },
  };
  void *state = adapter_new(NULL, "{\"api_key\":\"SG.k\"}");
  collected *c = collected_new();

  CHECK_OK(parse_body(state, c, body, strlen(body)));
  CHECK(c->n == VC_ARRAY_SIZE(want));
  for (size_t i = 0; i < c->n; i++) {
    got_update *g = &c->u[i];
    CHECK(g->status == want[i].status);
    CHECK_STR(g->message_id, want[i].message_id);
    CHECK_STR(g->event_id, want[i].event_id);
    CHECK(g->occurred_at == INT64_C(1700000000000));
    CHECK(want[i].code ? g->code && !strcmp(g->code, want[i].code)
                       : g->code == NULL);
    CHECK(want[i].error ? g->error && !strcmp(g->error, want[i].error)
                        : g->error == NULL);
  }
  /* The X-Message-Id part of sg_message_id, as parse_send stored it. */
  CHECK_STR(c->u[0].provider_id, "SGID");
  CHECK(c->u[1].provider_id == NULL);
  collected_free(c);
  free(c);
  A->fini(state);
}

static void test_adapter_sendgrid__parse_vectors(void)
{
  void *state = adapter_new(NULL, "{\"api_key\":\"SG.k\"}");
  collected *c = collected_new();
  vc_buf p = VC_BUF_INIT;

  /* TV-SG-1: a dropped event of mail we did not tag: correlated by
   * sg_message_id only. */
  CHECK_OK(parse_body(state, c, tv1_payload, strlen(tv1_payload)));
  CHECK(c->n == 1);
  CHECK(c->u[0].status == VC_MSG_UNDELIVERED);
  CHECK(c->u[0].message_id == NULL);
  CHECK_STR(c->u[0].provider_id, "LRzXl_NHStOGhQ4kofSm_A");
  CHECK_STR(c->u[0].event_id,
            "ZHJvcC0xMDk5NDkxOS1MUnpYbF9OSFN0T0doUTRrb2ZTbV9BLTA");
  CHECK_STR(c->u[0].error, "Bounced Address");
  CHECK(c->u[0].occurred_at == INT64_C(1600112492000));
  collected_free(c);
  /* TV-SG-2: processed, then a blocked bounce. */
  tv2_payload(&p);
  CHECK_OK(parse_body(state, c, p.ptr, p.size));
  CHECK(c->n == 2);
  CHECK(c->u[0].status == VC_MSG_SENT);
  CHECK(c->u[0].occurred_at == INT64_C(1619651146000));
  CHECK(c->u[1].status == VC_MSG_UNDELIVERED);
  CHECK_STR(c->u[1].code, "5.2.2");
  CHECK(strncmp(c->u[1].error, "552 5.2.2 The email account", 27) == 0);
  CHECK_STR(c->u[1].event_id,
            "Ym91bmNlLTAtMTk5NDIxMTItcU53QkxnUFFRalc2REp2S1F3U0Fidy0w");
  CHECK_STR(c->u[1].provider_id, "qNwBLgPQQjW6DJvKQwSAbw");
  collected_free(c);
  free(c);
  vc_buf_dispose(&p);
  A->fini(state);
}

static void test_adapter_sendgrid__parse_skips(void)
{
  static const char body[] = "["
    /* Neither our id nor SendGrid's: not ours to update. */
    "{\"event\":\"delivered\",\"email\":\"x@example.com\"},"
    "{\"event\":\"delivered\",\"vc_message_id\":\"\",\"sg_message_id\":"
    "null},"
    "{\"event\":\"delivered\",\"sg_message_id\":\".suffix-only\"},"
    /* An sg_message_id without a suffix is taken whole. */
    "{\"event\":\"open\",\"sg_message_id\":\"Bare\"},"
    /* No timestamp: occurred_at unknown. No sg_event_id: the core
     * hashes the event. */
    "{\"event\":\"delivered\",\"vc_message_id\":\"M9\"}"
    "]";
  void *state = adapter_new(NULL, "{\"api_key\":\"SG.k\"}");
  collected *c = collected_new();

  CHECK_OK(parse_body(state, c, body, strlen(body)));
  CHECK(c->n == 2);
  CHECK(c->u[0].message_id == NULL && c->u[0].status == VC_MSG_READ);
  CHECK_STR(c->u[0].provider_id, "Bare");
  CHECK_STR(c->u[1].message_id, "M9");
  CHECK(c->u[1].event_id == NULL && c->u[1].occurred_at == 0);
  collected_free(c);
  /* An empty batch is fine. */
  CHECK_OK(parse_body(state, c, " [ ]\r\n", 6));
  CHECK(c->n == 0);
  free(c);
  A->fini(state);
}

typedef struct webhook_case {
  const char *body;
  int code;
  const char *says;
} webhook_case;

static void test_adapter_sendgrid__parse_bad(void)
{
  static const webhook_case bad[] = {
    { "", VC_EINVALID, "not valid JSON" },
    { "{}", VC_EINVALID, "not a JSON array" },
    { "\"x\"", VC_EINVALID, "not a JSON array" },
    { "[", VC_EINVALID, "not valid JSON" },
    { "[] []", VC_EINVALID, "not valid JSON" },
    { "[{\"event\":\"delivered\"}]x", VC_EINVALID, "not valid JSON" },
    { "[{\"event\":\"delivered\",\"vc_message_id\":\"\xff\"}]", VC_EINVALID,
      "not UTF-8" },
    { "[{\"event\":\"delivered\",\"vc_message_id\":\"\xed\xa0\x80\"}]",
      VC_EINVALID, "not UTF-8" },
    { "[{\"event\":\"delivered\",\"vc_message_id\":\"M\"},1]", VC_EINVALID,
      "event 1 is not a JSON object" },
    { "[{\"event\":7}]", VC_EINVALID, "event 0: 'event' is not a string" },
    { "[{\"email\":\"a@b.c\"}]", VC_EINVALID, "event 0 has no 'event'" },
    { "[{\"event\":\"delivered\",\"timestamp\":\"1700000000\"}]",
      VC_EINVALID, "'timestamp' is not a Unix time" },
    { "[{\"event\":\"delivered\",\"timestamp\":-1}]", VC_EINVALID,
      "'timestamp' is not a Unix time" },
    { "[{\"event\":\"delivered\",\"timestamp\":1e999}]", VC_EINVALID,
      "'timestamp' is not a Unix time" },
    { "[{\"event\":\"delivered\",\"sg_event_id\":5}]", VC_EINVALID,
      "'sg_event_id' is not a string" },
    { "[{\"event\":\"bounce\",\"vc_message_id\":[\"M\"]}]", VC_EINVALID,
      "'vc_message_id' is not a string" },
    { "[{\"event\":\"bounce\",\"reason\":{}}]", VC_EINVALID,
      "'reason' is not a string" },
    { "[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]", VC_EINVALID,
      "nests deeper than 8" },
    { "[{\"event\":\"delivered\",\"vc_message_id\":\"M\",\"x\":"
      "[[[[[[[[\"deep\"]]]]]]]]}]", VC_EINVALID, "nests deeper" },
  };
  void *state = adapter_new(NULL, "{\"api_key\":\"SG.k\"}");
  collected *c = collected_new();

  for (size_t i = 0; i < VC_ARRAY_SIZE(bad); i++) {
    int rc = parse_body(state, c, bad[i].body, strlen(bad[i].body));
    if (rc != bad[i].code)
      fprintf(stderr, "  case %zu: %d (%s)\n", i, rc,
              vc_error_last()->message);
    CHECK(rc == bad[i].code);
    check_error(bad[i].code, bad[i].says);
    /* A malformed batch reports nothing, not even its good events. */
    CHECK(c->n == 0);
  }
  /* Brackets inside strings do not count as nesting. */
  {
    static const char in_str[] = "[{\"event\":\"delivered\","
                                 "\"vc_message_id\":\"[[[[[[[[[[[\\\"\"}]";
    CHECK_OK(parse_body(state, c, in_str, strlen(in_str)));
    CHECK(c->n == 1);
    CHECK_STR(c->u[0].message_id, "[[[[[[[[[[[\"");
  }
  collected_free(c);
  free(c);
  A->fini(state);
}

static void test_adapter_sendgrid__parse_limits(void)
{
  static const char one[] =
    "{\"event\":\"delivered\",\"vc_message_id\":\"M\",\"sg_event_id\":\"e\"}";
  void *state = adapter_new(NULL, "{\"api_key\":\"SG.k\"}");
  collected *c = collected_new();
  vc_buf b = VC_BUF_INIT;

  /* 1000 events pass, 1001 are refused with nothing reported. */
  CHECK_OK(vc__buf_puts(&b, "["));
  for (int i = 0; i < 1000; i++)
    CHECK_OK(vc__buf_printf(&b, "%s%s", i ? "," : "", one));
  CHECK_OK(vc__buf_puts(&b, "]"));
  CHECK_OK(parse_body(state, c, b.ptr, b.size));
  CHECK(c->n == 1000);
  collected_free(c);
  b.size--;
  CHECK_OK(vc__buf_printf(&b, ",%s]", one));
  CHECK_RC(parse_body(state, c, b.ptr, b.size), VC_ETOOBIG);
  check_error(VC_ETOOBIG, "more than 1000 events");
  CHECK(c->n == 0);
  vc_buf_dispose(&b);

  /* A body past 1 MiB. */
  CHECK_OK(vc__buf_puts(&b, "[\""));
  while (b.size <= 1024 * 1024)
    CHECK_OK(vc__buf_puts(&b, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"));
  CHECK_OK(vc__buf_puts(&b, "\"]"));
  CHECK_RC(parse_body(state, c, b.ptr, b.size), VC_ETOOBIG);
  check_error(VC_ETOOBIG, "larger than 1048576 bytes");
  vc_buf_dispose(&b);

  /* A 5000-byte reason is cut to the sink's 1024 bytes, between
   * characters and on one line; an over-long id is refused. */
  CHECK_OK(vc__buf_puts(&b, "[{\"event\":\"bounce\",\"vc_message_id\":\"M\","
                        "\"reason\":\"line1\\nline2 "));
  for (int i = 0; i < 2500; i++)
    CHECK_OK(vc__buf_puts(&b, "\xc3\xa9"));
  CHECK_OK(vc__buf_puts(&b, "\"}]"));
  CHECK_OK(parse_body(state, c, b.ptr, b.size));
  CHECK(c->n == 1);
  CHECK(strlen(c->u[0].error) <= 1024 && strlen(c->u[0].error) >= 1020);
  CHECK(strncmp(c->u[0].error, "line1 line2 ", 12) == 0);
  CHECK(vc__utf8_valid(c->u[0].error, strlen(c->u[0].error)));
  collected_free(c);
  vc_buf_dispose(&b);
  CHECK_OK(vc__buf_puts(&b, "[{\"event\":\"delivered\",\"sg_event_id\":\""));
  for (int i = 0; i < 1025; i++)
    CHECK_OK(vc__buf_puts(&b, "e"));
  CHECK_OK(vc__buf_puts(&b, "\"}]"));
  CHECK_RC(parse_body(state, c, b.ptr, b.size), VC_ETOOBIG);
  check_error(VC_ETOOBIG, "'sg_event_id' is longer than 1024 bytes");
  vc_buf_dispose(&b);
  free(c);
  A->fini(state);
}

/* A sink callback's failure stops the parse and comes back as is. */
static int refuse(void *payload, const vc_status_update *u)
{
  (void)payload;
  (void)u;
  return vc__error_set(VC_ERRCLASS_CALLBACK, VC_ESTORAGE, "disk full");
}

static void test_adapter_sendgrid__parse_sink_error(void)
{
  static const char body[] = "[{\"event\":\"delivered\","
                             "\"vc_message_id\":\"M\"}]";
  void *state = adapter_new(NULL, "{\"api_key\":\"SG.k\"}");
  vc_event_sink sink;
  webhook w;

  webhook_make(&w, NULL, NULL, body, strlen(body));
  vc__sink_init(&sink, refuse, NULL, NULL);
  CHECK_RC(A->parse_webhook(state, &w.req, &sink), VC_ESTORAGE);
  CHECK(sink.reply_status == 0);
  vc__sink_fini(&sink);
  CHECK_RC(A->parse_webhook(state, &w.req, NULL), VC_EINVALID);
  A->fini(state);
}

VC_TESTS(
  VC_TEST(test_adapter_sendgrid__ecdsa_tv1),
  VC_TEST(test_adapter_sendgrid__ecdsa_tv2),
  VC_TEST(test_adapter_sendgrid__ecdsa_negatives),
  VC_TEST(test_adapter_sendgrid__ecdsa_bad_keys),
  VC_TEST(test_adapter_sendgrid__ecdsa_roundtrip),
  VC_TEST(test_adapter_sendgrid__vtable),
  VC_TEST(test_adapter_sendgrid__init_validation),
  VC_TEST(test_adapter_sendgrid__init_base_url),
  VC_TEST(test_adapter_sendgrid__init_public_key),
  VC_TEST(test_adapter_sendgrid__build_send_full),
  VC_TEST(test_adapter_sendgrid__build_send_minimal),
  VC_TEST(test_adapter_sendgrid__build_send_bad),
  VC_TEST(test_adapter_sendgrid__build_send_size),
  VC_TEST(test_adapter_sendgrid__parse_send_accepted),
  VC_TEST(test_adapter_sendgrid__parse_send_errors),
  VC_TEST(test_adapter_sendgrid__parse_send_retry_timing),
  VC_TEST(test_adapter_sendgrid__parse_send_long_message),
  VC_TEST(test_adapter_sendgrid__verify_tv1),
  VC_TEST(test_adapter_sendgrid__verify_tv2),
  VC_TEST(test_adapter_sendgrid__verify_rejects),
  VC_TEST(test_adapter_sendgrid__verify_roundtrip),
  VC_TEST(test_adapter_sendgrid__parse_mapping),
  VC_TEST(test_adapter_sendgrid__parse_vectors),
  VC_TEST(test_adapter_sendgrid__parse_skips),
  VC_TEST(test_adapter_sendgrid__parse_bad),
  VC_TEST(test_adapter_sendgrid__parse_limits),
  VC_TEST(test_adapter_sendgrid__parse_sink_error),
)
