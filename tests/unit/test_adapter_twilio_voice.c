/*
 * Unit tests of the Twilio Voice adapter (adapters/voip/twilio_voice.c):
 * configuration, the Calls.json request field by field, every class of
 * answer, X-Twilio-Signature (published TV-TW vectors and signatures of
 * our own webhook URLs), each vc_step's webhook and the updates it
 * reports, TwiML for every step kind with escaping, and the live-call
 * controls.
 *
 * Signatures of our own URLs were computed with Python's hmac, hashlib
 * and base64, independently of the adapter:
 *   base64(hmac.new(token, url + "".join(k + v for k, v in
 *          sorted(params)), sha1).digest())
 * Timestamps: calendar.timegm((2023, 8, 24, 5, 1, 45)) = 1692853305.
 */
#include "core/common.h"
#include "core/buf.h"
#include "core/codec.h"
#include "core/text.h"
#include "net/http_out.h"
#include "net/fetch.h"
#include "net/sink.h"
#include "adapters/builtin.h"
#include "adapters/twilio_common.h"

#include "harness.h"

#define TV (&vc__adapter_twilio_voice)

#define ACCOUNT "AC0123456789abcdef0123456789abcdef"
#define TOKEN "5f4dcc3b5aa765d61d8327deb882cf99"
#define CALL_SID "CA0123456789abcdef0123456789abcdef"
#define CHILD_SID "CAfedcba9876543210fedcba9876543210"
#define REC_SID "RE00112233445566778899aabbccddeeff"
#define CALL_ID "01J9ZK3M2V7Q8R4T6W0X1Y2Z3A"
#define HOOK "https://hooks.example.com/webhooks/ch1?vc_call=" CALL_ID
#define TARGET "/webhooks/ch1?vc_call=" CALL_ID
#define API "https://api.twilio.com/2010-04-01/Accounts/" ACCOUNT
#define CONFIG "{\"account_sid\": \"" ACCOUNT "\"}"
#define CREDS "{\"auth_token\": \"" TOKEN "\"}"
#define FORM "application/x-www-form-urlencoded"
#define TS "Thu%2C+24+Aug+2023+05%3A01%3A45+%2B0000"
#define TS_MS INT64_C(1692853305000)

/* The call core's (src/net/sink.h on i5-core). */
void vc__sink_set_call(vc_event_sink *s,
                       int (*on_call)(void *payload,
                                      const vc_call_update *u));

/* ------------------------------------------------------------------ */
/* Helpers                                                             */

static void *state_new(const char *config, const char *creds)
{
  void *st = NULL;
  int rc = TV->init(&st, config, creds);

  if (rc != 0)
    fprintf(stderr, "  init: %d %s\n", rc, vc_error_last()->message);
  CHECK(rc == 0 && st != NULL);
  return st;
}

static int init_rc(const char *config, const char *creds)
{
  void *st = NULL;
  int rc = TV->init(&st, config, creds);

  CHECK((rc == 0) == (st != NULL));
  TV->fini(st);
  if (rc != 0)
    CHECK(strstr(vc_error_last()->message, TOKEN) == NULL);
  return rc;
}

static vc_call_outbound outbound(void)
{
  vc_call_outbound c;

  memset(&c, 0, sizeof(c));
  c.version = VC_CALL_OUTBOUND_VERSION;
  c.call_id = CALL_ID;
  c.tenant_id = "01J9ZK0000000000000000TEN1";
  c.agent = "+14155550100";
  c.customer = "+919812345678";
  c.caller_id = "+14155550199";
  c.ring_timeout_s = 30;
  c.time_limit_s = 3600;
  c.webhook_url = HOOK;
  return c;
}

typedef struct answer {
  vc_http_response res;
  vc_http_header h[1];
} answer;

static void answer_set(answer *a, int status, const char *body,
                       const char *retry_after)
{
  memset(a, 0, sizeof(*a));
  a->res.version = VC_HTTP_RESPONSE_VERSION;
  a->res.status = status;
  a->res.content_type = "application/json";
  a->res.body.ptr = (char *)body;          /* borrowed */
  a->res.body.size = body ? strlen(body) : 0;
  if (retry_after != NULL) {
    a->h[0].name = "Retry-After";
    a->h[0].value = retry_after;
    a->res.headers = a->h;
    a->res.nheaders = 1;
  }
}

static vc_send_result parse_call(void *st, int status, const char *body,
                                 const char *retry_after)
{
  vc_call_outbound c = outbound();
  vc_send_result r;
  answer a;

  answer_set(&a, status, body, retry_after);
  memset(&r, 0, sizeof(r));
  r.version = VC_SEND_RESULT_VERSION;
  CHECK_OK(TV->parse_call(st, &c, &a.res, &r));
  return r;
}

/* A webhook request. */
typedef struct hook {
  vc_http_header h[3];
  vc_http_request req;
} hook;

static void hook_set(hook *k, const char *target, const char *body,
                     const char *sig, const char *token)
{
  size_t n = 0;

  memset(k, 0, sizeof(*k));
  if (sig != NULL) {
    k->h[n].name = "X-Twilio-Signature";
    k->h[n++].value = sig;
  }
  if (token != NULL) {
    k->h[n].name = "I-Twilio-Idempotency-Token";
    k->h[n++].value = token;
  }
  k->h[n].name = "Content-Type";
  k->h[n++].value = FORM;
  k->req.version = VC_HTTP_REQUEST_VERSION;
  k->req.method = "POST";
  k->req.target = target;
  k->req.headers = k->h;
  k->req.nheaders = n;
  k->req.body = (const uint8_t *)body;
  k->req.body_len = strlen(body);
}

/* What the sink received. */
typedef struct got {
  int n;
  vc_call_update u[4];
  char call[4][48], leg[4][48], event[4][160], code[4][32], digits[4][40],
    rid[4][48], rurl[4][256], from[4][40], to[4][40];
} got;

static void copy(char *dst, size_t cap, const char *src)
{
  snprintf(dst, cap, "%s", src ? src : "(null)");
}

static int on_call(void *payload, const vc_call_update *u)
{
  got *g = payload;
  int i = g->n++;

  CHECK(i < 4);
  if (i >= 4)
    return 0;
  g->u[i] = *u;
  copy(g->call[i], 48, u->provider_call_id);
  copy(g->leg[i], 48, u->leg_provider_id);
  copy(g->event[i], 160, u->event_id);
  copy(g->code[i], 32, u->provider_code);
  copy(g->digits[i], 40, u->digits);
  copy(g->rid[i], 48, u->recording_id);
  copy(g->rurl[i], 256, u->recording_url);
  copy(g->from[i], 40, u->from);
  copy(g->to[i], 40, u->to);
  CHECK(u->version == VC_CALL_UPDATE_VERSION);
  CHECK(u->call_id == NULL);    /* the core reads vc_call itself */
  return 0;
}

static int parse_hook(got *g, const char *target, const char *body,
                      const char *token)
{
  vc_event_sink sink;
  hook k;
  int rc;

  memset(g, 0, sizeof(*g));
  vc__sink_init(&sink, NULL, NULL, g);
  vc__sink_set_call(&sink, on_call);
  hook_set(&k, target, body, NULL, token);
  rc = TV->parse_webhook(NULL, &k.req, &sink);
  if (rc != 0)
    CHECK(g->n == 0 || rc == VC_ENOMEM);
  vc__sink_fini(&sink);
  return rc;
}

static void render(vc_buf *out, void *st, const vc_call_step *steps,
                   size_t n, int want_rc)
{
  vc_call_script sc = { VC_CALL_SCRIPT_VERSION, steps, n };
  const char *ct = NULL;
  int rc;

  rc = TV->render_script(st, &sc, out, &ct);
  if (rc != want_rc)
    fprintf(stderr, "  render: %d %s\n", rc, vc_error_last()->message);
  CHECK(rc == want_rc);
  if (rc == 0)
    CHECK_STR(ct, "text/xml");
}

#define HEAD "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response>"
#define TAIL "</Response>"

/* ------------------------------------------------------------------ */
/* The vtable and init                                                 */

static void test_twilio_voice__vtable(void)
{
  CHECK(TV->version == VC_ADAPTER_VERSION);
  CHECK_STR(TV->name, "twilio-voice");
  CHECK(TV->kind == VC_CHANNEL_VOICE);
  CHECK(TV->build_call && TV->parse_call && TV->build_control &&
        TV->parse_control && TV->render_script && TV->verify_webhook &&
        TV->parse_webhook);
  CHECK(TV->build_send == NULL && TV->parse_send == NULL &&
        TV->local_progress == NULL);
  /* what works: hold, transfer, hangup, deleting recordings, scripts;
   * not recording on demand */
  CHECK(TV->capabilities == (VC_CAP_DELIVERY_REPORTS |
                             VC_CAP_SIGNED_WEBHOOKS | VC_CAP_CALL_HOLD |
                             VC_CAP_CALL_TRANSFER | VC_CAP_CALL_HANGUP |
                             VC_CAP_RECORDING_DELETE | VC_CAP_CALL_SCRIPT |
                             VC_CAP_CALL_PRICE));
}

static void test_twilio_voice__init(void)
{
  CHECK_OK(init_rc(CONFIG, CREDS));
  /* the caller-id pool is the core's: any shape passes untouched */
  CHECK_OK(init_rc("{\"account_sid\": \"" ACCOUNT "\", \"caller_ids\": "
                   "[\"+14155550199\", \"+14155550198\"]}", CREDS));
  CHECK_OK(init_rc("{\"account_sid\": \"" ACCOUNT "\", \"base_url\": "
                   "\"http://127.0.0.1:8080/\"}", CREDS));
  CHECK_OK(init_rc("{\"account_sid\": \"" ACCOUNT "\", \"hold_music_url\": "
                   "\"https://cdn.example.com/hold.mp3\"}", CREDS));
  CHECK_RC(init_rc("{}", CREDS), VC_EINVALID);
  CHECK(strstr(vc_error_last()->message, "account_sid") != NULL);
  CHECK_RC(init_rc("{\"account_sid\": \"AC123\"}", CREDS), VC_EINVALID);
  CHECK_RC(init_rc("{\"account_sid\": \"" ACCOUNT "\", \"base_url\": "
                   "\"http://api.example.com\"}", CREDS), VC_EINVALID);
  CHECK(strstr(vc_error_last()->message, "loopback") != NULL);
  CHECK_RC(init_rc("{\"account_sid\": \"" ACCOUNT "\", \"base_url\": "
                   "\"https://api.example.com?x=1\"}", CREDS), VC_EINVALID);
  CHECK_RC(init_rc("{\"account_sid\": \"" ACCOUNT "\", \"hold_music_url\": "
                   "\"ftp://x\"}", CREDS), VC_EINVALID);
  CHECK_RC(init_rc("{\"account_sid\": \"" ACCOUNT "\", \"region\": 1}",
                   CREDS), VC_EINVALID);
  CHECK(strstr(vc_error_last()->message, "region") != NULL);
  CHECK_RC(init_rc(CONFIG, "{}"), VC_EINVALID);
  CHECK_RC(init_rc(CONFIG, "{\"auth_token\": \"" TOKEN "x\"}"),
           VC_EINVALID);
  CHECK_RC(init_rc(CONFIG, "{\"auth_token\": \"" TOKEN "\", \"other\": "
                   "\"" TOKEN "\"}"), VC_EINVALID);
  CHECK_RC(init_rc(CONFIG, "{\"auth_token\": 5}"), VC_EINVALID);
  CHECK_RC(init_rc("[", CREDS), VC_EINVALID);
}

/* ------------------------------------------------------------------ */
/* build_call / parse_call                                             */

#define ENC_HOOK "https%3A%2F%2Fhooks.example.com%2Fwebhooks%2Fch1%3F" \
  "vc_call%3D" CALL_ID

static void test_twilio_voice__build_call(void)
{
  void *st = state_new(CONFIG, CREDS);
  vc_call_outbound c = outbound();
  vc_http_out req;
  vc_buf basic = VC_BUF_INIT;

  vc__http_out_init(&req);
  CHECK_OK(TV->build_call(st, &c, &req));
  CHECK_STR(req.method, "POST");
  CHECK_STR(req.url, API "/Calls.json");
  CHECK_OK(vc__base64_encode(&basic, ACCOUNT ":" TOKEN,
                             strlen(ACCOUNT ":" TOKEN)));
  {
    char want[200];
    snprintf(want, sizeof(want), "Basic %s", basic.ptr);
    CHECK_STR(vc__http_out_header(&req, "Authorization"), want);
  }
  CHECK_STR(vc__http_out_header(&req, "Accept"), "application/json");
  CHECK_STR(vc__http_out_header(&req, "Content-Type"), FORM);
  /* To is the agent; Url and StatusCallback are the call's webhook URL
   * with their steps; TimeLimit = 3600 + 30 ring + 300 for an IVR. */
  CHECK_STR(req.body.ptr,
            "To=%2B14155550100&From=%2B14155550199"
            "&Url=" ENC_HOOK "%26vc_step%3Danswer&Method=POST"
            "&StatusCallback=" ENC_HOOK "%26vc_step%3Dagent"
            "&StatusCallbackMethod=POST"
            "&StatusCallbackEvent=initiated&StatusCallbackEvent=ringing"
            "&StatusCallbackEvent=answered&StatusCallbackEvent=completed"
            "&Timeout=30&TimeLimit=3930");
  vc__http_out_reset(&req);

  /* a SIP agent, no limits given, a URL without a query */
  vc__http_out_init(&req);
  c.agent = "sip:agent7@pbx.example.com";
  c.ring_timeout_s = 0;
  c.time_limit_s = 0;
  c.webhook_url = "https://h.example.com/webhooks/ch1";
  CHECK_OK(TV->build_call(st, &c, &req));
  CHECK_STR(req.body.ptr,
            "To=sip%3Aagent7%40pbx.example.com&From=%2B14155550199"
            "&Url=https%3A%2F%2Fh.example.com%2Fwebhooks%2Fch1%3Fvc_step"
            "%3Danswer&Method=POST&StatusCallback=https%3A%2F%2F"
            "h.example.com%2Fwebhooks%2Fch1%3Fvc_step%3Dagent"
            "&StatusCallbackMethod=POST"
            "&StatusCallbackEvent=initiated&StatusCallbackEvent=ringing"
            "&StatusCallbackEvent=answered&StatusCallbackEvent=completed");
  vc__http_out_reset(&req);

  /* refusals: nothing is built */
  {
    static const struct { const char *field, *value; } bad[] = {
      { "agent", "" }, { "agent", "4155550100" },
      { "agent", "sip:nohost" }, { "agent", "sip:a b@host" },
      { "customer", "+1" }, { "customer", "sip:x@y" },
      { "caller_id", NULL }, { "caller_id", "Acme" },
      { "webhook_url", NULL }, { "webhook_url", "ftp://x/y" },
      { "webhook_url", "https://h.example.com/a b" },
    };
    for (size_t i = 0; i < VC_ARRAY_SIZE(bad); i++) {
      vc_call_outbound b = outbound();
      if (strcmp(bad[i].field, "agent") == 0)
        b.agent = bad[i].value;
      else if (strcmp(bad[i].field, "customer") == 0)
        b.customer = bad[i].value;
      else if (strcmp(bad[i].field, "caller_id") == 0)
        b.caller_id = bad[i].value;
      else
        b.webhook_url = bad[i].value;
      vc__http_out_init(&req);
      CHECK_RC(TV->build_call(st, &b, &req), VC_EINVALID);
      CHECK(req.url == NULL && req.body.size == 0);
      vc__http_out_reset(&req);
    }
    c = outbound();
    c.ring_timeout_s = 601;
    vc__http_out_init(&req);
    CHECK_RC(TV->build_call(st, &c, &req), VC_EINVALID);
    vc__http_out_reset(&req);
    c = outbound();
    c.time_limit_s = VC_CALL_TIME_LIMIT_MAX + 1;
    vc__http_out_init(&req);
    CHECK_RC(TV->build_call(st, &c, &req), VC_EINVALID);
    vc__http_out_reset(&req);
    c = outbound();
    c.version = 99;
    vc__http_out_init(&req);
    CHECK_RC(TV->build_call(st, &c, &req), VC_EVERSION);
    vc__http_out_reset(&req);
  }
  vc_buf_dispose(&basic);
  TV->fini(st);
}

static void test_twilio_voice__base_url(void)
{
  void *st = state_new("{\"account_sid\": \"" ACCOUNT "\", \"base_url\": "
                       "\"http://127.0.0.1:4010/\"}", CREDS);
  vc_call_outbound c = outbound();
  vc_http_out req;

  vc__http_out_init(&req);
  CHECK_OK(TV->build_call(st, &c, &req));
  CHECK_STR(req.url, "http://127.0.0.1:4010/2010-04-01/Accounts/" ACCOUNT
            "/Calls.json");
  vc__http_out_reset(&req);
  TV->fini(st);
}

static void test_twilio_voice__parse_call(void)
{
  vc_send_result r;

  r = parse_call(NULL, 201, "{\"sid\": \"" CALL_SID "\", \"status\": "
                 "\"queued\", \"price\": null}", NULL);
  CHECK(r.outcome == VC_SEND_ACCEPTED);
  CHECK_STR(r.provider_id, CALL_SID);
  /* a 2xx without a call sid cannot be followed: retry */
  r = parse_call(NULL, 201, "{\"sid\": \"SM0123456789abcdef0123456789abcdef"
                 "\"}", NULL);
  CHECK(r.outcome == VC_SEND_RETRY && r.error == VC_EPROVIDER);
  CHECK(r.provider_id[0] == '\0');
  r = parse_call(NULL, 200, "<html>", NULL);
  CHECK(r.outcome == VC_SEND_RETRY);

  /* number and permission errors: this call, on any channel */
  {
    static const int codes[] = { 21211, 21215, 21210, 21212, 21201 };
    for (size_t i = 0; i < VC_ARRAY_SIZE(codes); i++) {
      char body[200], code[16];
      snprintf(body, sizeof(body), "{\"code\": %d, \"message\": \"The "
               "number is refused\", \"more_info\": \"https://www.twilio."
               "com/docs/errors/%d\", \"status\": 400}", codes[i], codes[i]);
      snprintf(code, sizeof(code), "%d", codes[i]);
      r = parse_call(NULL, 400, body, NULL);
      CHECK(r.outcome == VC_SEND_REJECTED);
      CHECK_STR(r.provider_code, code);
      CHECK_STR(r.error_message, "The number is refused");
    }
  }
  /* account problems: the next channel */
  r = parse_call(NULL, 401, "{\"code\": 20003, \"message\": \"Authenticate\""
                 ", \"status\": 401}", NULL);
  CHECK(r.outcome == VC_SEND_FAILOVER && r.error == VC_EAUTH);
  CHECK_STR(r.provider_code, "20003");
  r = parse_call(NULL, 403, "{\"code\": 20005, \"message\": \"Account not "
                 "active\"}", NULL);
  CHECK(r.outcome == VC_SEND_FAILOVER && r.error == VC_EAUTH);
  r = parse_call(NULL, 404, "{\"code\": 20404, \"message\": \"Not found\"}",
                 NULL);
  CHECK(r.outcome == VC_SEND_FAILOVER);
  r = parse_call(NULL, 401, "", NULL);
  CHECK(r.outcome == VC_SEND_FAILOVER && r.error == VC_EAUTH);
  /* transient: 429/20429, 5xx, unparsable */
  r = parse_call(NULL, 429, "{\"code\": 20429, \"message\": \"Too Many "
                 "Requests\"}", "7");
  CHECK(r.outcome == VC_SEND_RETRY && r.error == VC_ERATELIMIT);
  CHECK(r.retry_after_ms == 7000);
  CHECK_STR(r.provider_code, "20429");
  r = parse_call(NULL, 400, "{\"code\": \"20429\", \"message\": \"x\"}",
                 NULL);
  CHECK(r.outcome == VC_SEND_RETRY && r.error == VC_ERATELIMIT);
  r = parse_call(NULL, 503, "{\"code\": 20503, \"message\": \"Service "
                 "Unavailable\"}", "Wed, 21 Oct 2037 07:28:00 GMT");
  CHECK(r.outcome == VC_SEND_RETRY && r.error == VC_EPROVIDER);
  CHECK(r.retry_at_ms == INT64_C(2139722880000));
  r = parse_call(NULL, 502, "<html>Bad gateway</html>", NULL);
  CHECK(r.outcome == VC_SEND_RETRY);
  CHECK_STR(r.error_message, "HTTP 502 from Twilio");
  r = parse_call(NULL, 400, "not json", NULL);
  CHECK(r.outcome == VC_SEND_RETRY);
  /* an unknown 400 of Twilio's: this call's parameters */
  r = parse_call(NULL, 400, "{\"code\": 21999, \"message\": \"Bad "
                 "\\nthing\"}", NULL);
  CHECK(r.outcome == VC_SEND_REJECTED);
  CHECK_STR(r.error_message, "Bad  thing");
}

/* ------------------------------------------------------------------ */
/* verify_webhook                                                      */

/* TV-TW-1 (providers.md, token "12345") through the shared check. */
static void test_twilio_voice__signature_vectors(void)
{
  static const char url[] = "https://mycompany.com/myapp.php?foo=1&bar=2";
  static const char body[] =
    "CallSid=CA1234567890ABCDE&Caller=%2B14158675309&Digits=1234"
    "&From=%2B14158675309&To=%2B18005551212";
  hook k;

  hook_set(&k, "/myapp.php?foo=1&bar=2", body,
           "RSOYDt4T1cUTdK1PDd93/VVr8B8=", NULL);
  CHECK_OK(vc__twilio_check_signature("12345", &k.req, url));
  /* TV-TW-2: the same params signed with :443 verify the port-less URL */
  hook_set(&k, "/myapp.php?foo=1&bar=2", body,
           "kvajT1Ptam85bY51eRf/AJRuM3w=", NULL);
  CHECK_OK(vc__twilio_check_signature("12345", &k.req, url));
  /* tampered: a digit changed, a parameter dropped, another token */
  hook_set(&k, "/myapp.php?foo=1&bar=2",
           "CallSid=CA1234567890ABCDE&Caller=%2B14158675309&Digits=1235"
           "&From=%2B14158675309&To=%2B18005551212",
           "RSOYDt4T1cUTdK1PDd93/VVr8B8=", NULL);
  CHECK_RC(vc__twilio_check_signature("12345", &k.req, url), VC_EAUTH);
  hook_set(&k, "/myapp.php?foo=1&bar=2",
           "CallSid=CA1234567890ABCDE&Caller=%2B14158675309&Digits=1234",
           "RSOYDt4T1cUTdK1PDd93/VVr8B8=", NULL);
  CHECK_RC(vc__twilio_check_signature("12345", &k.req, url), VC_EAUTH);
  hook_set(&k, "/myapp.php?foo=1&bar=2", body,
           "RSOYDt4T1cUTdK1PDd93/VVr8B8=", NULL);
  CHECK_RC(vc__twilio_check_signature("12346", &k.req, url), VC_EAUTH);
}

#define AGENT_BODY "CallSid=" CALL_SID "&CallStatus=ringing&AccountSid=" \
  ACCOUNT "&SequenceNumber=1&Timestamp=" TS
#define AGENT_SIG "Tuq73i5516NWYulVAeEQN2X7wOw="

static void test_twilio_voice__verify(void)
{
  void *st = state_new(CONFIG, CREDS);
  hook k;

  hook_set(&k, TARGET "&vc_step=agent", AGENT_BODY, AGENT_SIG, NULL);
  CHECK_OK(TV->verify_webhook(st, &k.req,
                              VC__WEBHOOK_ENV(HOOK "&vc_step=agent", 0)));
  /* the public base URL alone: the target's query is signed too */
  CHECK_OK(TV->verify_webhook(st, &k.req,
                              VC__WEBHOOK_ENV("https://hooks.example.com"
                                              "/webhooks/ch1", 0)));
  /* another step in the URL (a callback replayed as an answer) */
  hook_set(&k, TARGET "&vc_step=answer", AGENT_BODY, AGENT_SIG, NULL);
  CHECK_RC(TV->verify_webhook(st, &k.req,
                              VC__WEBHOOK_ENV(HOOK "&vc_step=answer", 0)),
           VC_EAUTH);
  /* a changed status */
  hook_set(&k, TARGET "&vc_step=agent",
           "CallSid=" CALL_SID "&CallStatus=completed&AccountSid=" ACCOUNT
           "&SequenceNumber=1&Timestamp=" TS, AGENT_SIG, NULL);
  CHECK_RC(TV->verify_webhook(st, &k.req,
                              VC__WEBHOOK_ENV(HOOK "&vc_step=agent", 0)),
           VC_EAUTH);
  /* no signature; a signature of the wrong length */
  hook_set(&k, TARGET "&vc_step=agent", AGENT_BODY, NULL, NULL);
  CHECK_RC(TV->verify_webhook(st, &k.req,
                              VC__WEBHOOK_ENV(HOOK "&vc_step=agent", 0)),
           VC_EAUTH);
  hook_set(&k, TARGET "&vc_step=agent", AGENT_BODY, "Tuq73i5516NWYul", NULL);
  CHECK_RC(TV->verify_webhook(st, &k.req,
                              VC__WEBHOOK_ENV(HOOK "&vc_step=agent", 0)),
           VC_EAUTH);
  CHECK(strstr(vc_error_last()->message, TOKEN) == NULL);
  TV->fini(st);
}

/* ------------------------------------------------------------------ */
/* parse_webhook, step by step                                         */

static void test_twilio_voice__hook_agent(void)
{
  got g;

  /* ringing, with its time and SequenceNumber */
  CHECK_OK(parse_hook(&g, TARGET "&vc_step=agent", AGENT_BODY, NULL));
  CHECK(g.n == 1);
  CHECK(g.u[0].type == VC_UPDATE_RINGING && g.u[0].leg == VC_LEG_AGENT);
  CHECK_STR(g.call[0], CALL_SID);
  CHECK_STR(g.leg[0], "(null)");
  CHECK(g.u[0].occurred_at == TS_MS);
  CHECK_STR(g.event[0], "twilio:" CALL_SID ":agent:1");
  CHECK_STR(g.code[0], "ringing");
  /* answered */
  CHECK_OK(parse_hook(&g, TARGET "&vc_step=agent", "CallSid=" CALL_SID
                      "&CallStatus=in-progress&SequenceNumber=2", NULL));
  CHECK(g.n == 1 && g.u[0].type == VC_UPDATE_ANSWERED);
  CHECK(g.u[0].occurred_at == 0);
  /* ended, each final status with its cause and duration */
  {
    static const struct { const char *status; int cause; } ends[] = {
      { "completed", VC_CAUSE_NORMAL }, { "busy", VC_CAUSE_BUSY },
      { "no-answer", VC_CAUSE_NO_ANSWER },
      { "failed", VC_CAUSE_UNREACHABLE }, { "canceled", VC_CAUSE_CANCELED },
    };
    for (size_t i = 0; i < VC_ARRAY_SIZE(ends); i++) {
      char body[300];
      snprintf(body, sizeof(body), "CallSid=" CALL_SID "&CallStatus=%s"
               "&CallDuration=42&Timestamp=Fri%%2C+25+Aug+2023+07%%3A31"
               "%%3A45+%%2B0530", ends[i].status);
      /* no SequenceNumber: Twilio's idempotency token names it */
      CHECK_OK(parse_hook(&g, TARGET "&vc_step=agent", body,
                          "8a2b2e8c-5a7a-4ad8-9d2c-1d1c2f5a9b10"));
      CHECK(g.n == 1 && g.u[0].type == VC_UPDATE_ENDED);
      CHECK(g.u[0].leg == VC_LEG_AGENT && g.u[0].cause == ends[i].cause);
      CHECK(g.u[0].duration_s == 42);
      CHECK_STR(g.code[0], ends[i].status);
      CHECK_STR(g.event[0], "twilio:8a2b2e8c-5a7a-4ad8-9d2c-1d1c2f5a9b10");
      /* 2023-08-25 07:31:45 +0530 = 02:01:45 UTC */
      CHECK(g.u[0].occurred_at == TS_MS + 86400000 - 3 * 3600000);
    }
  }
  /* neither: call, step and status */
  CHECK_OK(parse_hook(&g, TARGET "&vc_step=agent", "CallSid=" CALL_SID
                      "&CallStatus=busy", NULL));
  CHECK_STR(g.event[0], "twilio:" CALL_SID ":agent:busy");
  CHECK(g.u[0].duration_s == 0);
  /* initiated and queued move nothing */
  CHECK_OK(parse_hook(&g, TARGET "&vc_step=agent", "CallSid=" CALL_SID
                      "&CallStatus=initiated&SequenceNumber=0", NULL));
  CHECK(g.n == 0);
  /* refusals */
  CHECK_RC(parse_hook(&g, TARGET "&vc_step=agent", "CallSid=" CALL_SID
                      "&CallStatus=exploded", NULL), VC_EINVALID);
  CHECK_RC(parse_hook(&g, TARGET "&vc_step=agent", "CallStatus=ringing",
                      NULL), VC_EINVALID);
  CHECK_RC(parse_hook(&g, TARGET "&vc_step=agent", "CallSid=CA12&"
                      "CallStatus=ringing", NULL), VC_EINVALID);
  CHECK_RC(parse_hook(&g, TARGET "&vc_step=agent", "CallSid=" CALL_SID
                      "&CallStatus=ringing&CallStatus=busy", NULL),
           VC_EINVALID);
  CHECK_RC(parse_hook(&g, TARGET, AGENT_BODY, NULL), VC_EINVALID);
  CHECK_RC(parse_hook(&g, TARGET "&vc_step=party", AGENT_BODY, NULL),
           VC_EINVALID);
  CHECK_RC(parse_hook(&g, TARGET "&vc_step=agent", "CallSid=" CALL_SID
                      "&CallStatus=ringing%00", NULL), VC_EINVALID);
  CHECK_RC(parse_hook(&g, TARGET "&vc_step=agent", "CallSid=" CALL_SID
                      "&CallStatus=ringing&X=%ff", NULL), VC_EINVALID);
}

static void test_twilio_voice__hook_answer(void)
{
  got g;

  CHECK_OK(parse_hook(&g, TARGET "&vc_step=answer", "CallSid=" CALL_SID
                      "&CallStatus=in-progress&AccountSid=" ACCOUNT, NULL));
  CHECK(g.n == 2);
  CHECK(g.u[0].type == VC_UPDATE_ANSWERED && g.u[0].leg == VC_LEG_AGENT);
  CHECK_STR(g.event[0], "twilio:" CALL_SID ":answer");
  CHECK(g.u[1].type == VC_UPDATE_SCRIPT && g.u[1].leg == VC_LEG_AGENT);
  CHECK_STR(g.call[1], CALL_SID);
  CHECK_STR(g.event[1], "(null)");
}

static void test_twilio_voice__hook_customer(void)
{
  got g;

  /* the child leg: its own sid, the agent's call as ParentCallSid */
  CHECK_OK(parse_hook(&g, TARGET "&vc_step=customer", "CallSid=" CHILD_SID
                      "&ParentCallSid=" CALL_SID "&CallStatus=ringing"
                      "&SequenceNumber=1&Timestamp=" TS, NULL));
  CHECK(g.n == 1 && g.u[0].type == VC_UPDATE_RINGING);
  CHECK(g.u[0].leg == VC_LEG_CUSTOMER);
  CHECK_STR(g.call[0], CALL_SID);
  CHECK_STR(g.leg[0], CHILD_SID);
  CHECK_STR(g.event[0], "twilio:" CHILD_SID ":customer:1");
  CHECK(g.u[0].occurred_at == TS_MS);
  CHECK_OK(parse_hook(&g, TARGET "&vc_step=customer", "CallSid=" CHILD_SID
                      "&ParentCallSid=" CALL_SID "&CallStatus=in-progress",
                      NULL));
  CHECK(g.n == 1 && g.u[0].type == VC_UPDATE_ANSWERED);
  CHECK_OK(parse_hook(&g, TARGET "&vc_step=customer", "CallSid=" CHILD_SID
                      "&ParentCallSid=" CALL_SID "&CallStatus=no-answer"
                      "&CallDuration=0", NULL));
  CHECK(g.n == 1 && g.u[0].type == VC_UPDATE_ENDED);
  CHECK(g.u[0].cause == VC_CAUSE_NO_ANSWER && g.u[0].duration_s == 0);
  CHECK_RC(parse_hook(&g, TARGET "&vc_step=customer", "CallSid=" CHILD_SID
                      "&ParentCallSid=SM0123456789abcdef0123456789abcdef"
                      "&CallStatus=ringing", NULL), VC_EINVALID);

  /* the customer answered: Twilio asks for the whisper (consent, IVR) */
  CHECK_OK(parse_hook(&g, TARGET "&vc_step=customer_answer", "CallSid="
                      CHILD_SID "&ParentCallSid=" CALL_SID
                      "&CallStatus=in-progress", NULL));
  CHECK(g.n == 1 && g.u[0].type == VC_UPDATE_SCRIPT);
  CHECK(g.u[0].leg == VC_LEG_CUSTOMER);
  CHECK_STR(g.call[0], CALL_SID);
  CHECK_STR(g.leg[0], CHILD_SID);
}

static void test_twilio_voice__hook_ivr(void)
{
  got g;

  CHECK_OK(parse_hook(&g, TARGET "&vc_step=ivr&vc_node=root&vc_try=2",
                      "CallSid=" CHILD_SID "&ParentCallSid=" CALL_SID
                      "&Digits=1%23&FinishedOnKey=%23", NULL));
  CHECK(g.n == 2);
  CHECK(g.u[0].type == VC_UPDATE_DTMF && g.u[0].leg == VC_LEG_CUSTOMER);
  CHECK_STR(g.digits[0], "1#");
  CHECK_STR(g.leg[0], CHILD_SID);
  CHECK_STR(g.event[0], "twilio:" CHILD_SID ":ivr:root:2:1#");
  CHECK(g.u[1].type == VC_UPDATE_SCRIPT && g.u[1].leg == VC_LEG_CUSTOMER);
  /* no keys (actionOnEmptyResult): only the question what next */
  CHECK_OK(parse_hook(&g, TARGET "&vc_step=ivr&vc_node=root&vc_try=1",
                      "CallSid=" CHILD_SID "&ParentCallSid=" CALL_SID
                      "&Digits=", NULL));
  CHECK(g.n == 1 && g.u[0].type == VC_UPDATE_SCRIPT);
  CHECK_RC(parse_hook(&g, TARGET "&vc_step=ivr&vc_node=root",
                      "CallSid=" CHILD_SID "&Digits=12a", NULL),
           VC_EINVALID);
  CHECK_RC(parse_hook(&g, TARGET "&vc_step=ivr&vc_node=ro%20ot",
                      "CallSid=" CHILD_SID "&Digits=1", NULL), VC_EINVALID);
  CHECK_RC(parse_hook(&g, TARGET "&vc_step=ivr",
                      "CallSid=" CHILD_SID "&Digits="
                      "123456789012345678901234567890123", NULL),
           VC_EINVALID);
}

static void test_twilio_voice__hook_dial_end(void)
{
  got g;

  CHECK_OK(parse_hook(&g, TARGET "&vc_step=dial_end", "CallSid=" CALL_SID
                      "&CallStatus=in-progress&DialCallStatus=completed"
                      "&DialCallSid=" CHILD_SID "&DialCallDuration=65"
                      "&RecordingUrl=https%3A%2F%2Fapi.twilio.com%2Fr"
                      "&RecordingSid=" REC_SID, NULL));
  /* A Dial that connected says nothing of the customer's leg, which
   * may go on (redirected by a hold or a transfer): only the agent's
   * next script is asked for. */
  CHECK(g.n == 1);
  CHECK(g.u[0].type == VC_UPDATE_SCRIPT && g.u[0].leg == VC_LEG_AGENT);
  CHECK(g.u[0].duration_s == 65);      /* the bridge's length */
  CHECK_OK(parse_hook(&g, TARGET "&vc_step=dial_end", "CallSid=" CALL_SID
                      "&DialCallStatus=no-answer&DialCallSid=" CHILD_SID
                      "&DialCallDuration=0", NULL));
  CHECK(g.n == 2);
  CHECK(g.u[0].type == VC_UPDATE_ENDED && g.u[0].leg == VC_LEG_CUSTOMER);
  CHECK(g.u[0].cause == VC_CAUSE_NO_ANSWER && g.u[0].duration_s == 0);
  CHECK_STR(g.call[0], CALL_SID);
  CHECK_STR(g.leg[0], CHILD_SID);
  CHECK_STR(g.event[0], "twilio:" CALL_SID ":dial_end:" CHILD_SID);
  CHECK(g.u[1].type == VC_UPDATE_SCRIPT && g.u[1].leg == VC_LEG_AGENT);
  CHECK_OK(parse_hook(&g, TARGET "&vc_step=dial_end", "CallSid=" CALL_SID
                      "&DialCallStatus=busy&DialCallDuration=0", NULL));
  CHECK(g.n == 2 && g.u[0].cause == VC_CAUSE_BUSY);
  CHECK_STR(g.leg[0], "(null)");
  CHECK_RC(parse_hook(&g, TARGET "&vc_step=dial_end", "CallSid=" CALL_SID
                      "&DialCallStatus=ringing", NULL), VC_EINVALID);
  CHECK_RC(parse_hook(&g, TARGET "&vc_step=dial_end", "CallSid=" CALL_SID,
                      NULL), VC_EINVALID);
}

/* A URL parameter that decodes to a NUL byte is refused: the string
 * would end there while the value went on (vc_step's copy once ran
 * past its buffer, found by fuzzing). */
static void test_twilio_voice__hook_nul_in_url(void)
{
  got g;

  CHECK_RC(parse_hook(&g, TARGET "&vc_step=agent%00xxxxxxxxxxxxxxxxxxxxxxxxx"
                      "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
                      "CallSid=" CALL_SID "&CallStatus=ringing", NULL),
           VC_EINVALID);
  CHECK(strstr(vc_error_last()->message, "vc_step holds a NUL byte") != NULL);
  CHECK_RC(parse_hook(&g, TARGET "&vc_step=ivr&vc_node=main%00x&vc_try=1",
                      "CallSid=" CHILD_SID "&Digits=1", NULL), VC_EINVALID);
  CHECK_RC(parse_hook(&g, TARGET "&vc_step=in_dial&vc_try=1%00",
                      "CallSid=" CALL_SID "&DialCallStatus=completed", NULL),
           VC_EINVALID);
}

static void test_twilio_voice__hook_recording(void)
{
  got g;

  CHECK_OK(parse_hook(&g, TARGET "&vc_step=recording", "AccountSid="
                      ACCOUNT "&CallSid=" CALL_SID "&RecordingSid=" REC_SID
                      "&RecordingUrl=https%3A%2F%2Fapi.twilio.com%2F2010-04"
                      "-01%2FAccounts%2F" ACCOUNT "%2FRecordings%2F" REC_SID
                      "&RecordingStatus=completed&RecordingDuration=64"
                      "&RecordingChannels=1&RecordingSource=DialVerb",
                      NULL));
  CHECK(g.n == 1 && g.u[0].type == VC_UPDATE_RECORDING);
  CHECK(g.u[0].recording_status == VC_RECORDING_AVAILABLE);
  CHECK_STR(g.rid[0], REC_SID);
  CHECK_STR(g.rurl[0], "https://api.twilio.com/2010-04-01/Accounts/" ACCOUNT
            "/Recordings/" REC_SID);
  CHECK(g.u[0].recording_duration_s == 64);
  CHECK_STR(g.call[0], CALL_SID);
  CHECK_STR(g.event[0], "twilio:" REC_SID ":completed");
  CHECK_OK(parse_hook(&g, TARGET "&vc_step=recording", "CallSid=" CALL_SID
                      "&RecordingSid=" REC_SID "&RecordingStatus=absent",
                      NULL));
  CHECK(g.n == 1 && g.u[0].recording_status == VC_RECORDING_FAILED);
  CHECK_STR(g.rurl[0], "(null)");
  CHECK_RC(parse_hook(&g, TARGET "&vc_step=recording", "CallSid=" CALL_SID
                      "&RecordingSid=" REC_SID "&RecordingStatus=completed",
                      NULL), VC_EINVALID);            /* no URL */
  CHECK_RC(parse_hook(&g, TARGET "&vc_step=recording", "CallSid=" CALL_SID
                      "&RecordingSid=" CALL_SID "&RecordingUrl=https%3A%2F"
                      "%2Fx", NULL), VC_EINVALID);    /* not a RE sid */
  CHECK_RC(parse_hook(&g, TARGET "&vc_step=recording", "CallSid=" CALL_SID
                      "&RecordingSid=" REC_SID "&RecordingStatus=lost",
                      NULL), VC_EINVALID);
}

/* Inbound calls: the voice URL (no vc_step), its final status, and the
 * steps of a call waiting, ringing an agent and leaving a voicemail. */
static void test_twilio_voice__hook_inbound(void)
{
  got g;

  CHECK_OK(parse_hook(&g, "/webhooks/ch1", "AccountSid=" ACCOUNT
                      "&CallSid=" CALL_SID "&From=%2B919876543210"
                      "&To=%2B914412345678&Direction=inbound"
                      "&CallStatus=ringing&ApiVersion=2010-04-01", NULL));
  CHECK(g.n == 1 && g.u[0].type == VC_UPDATE_INCOMING);
  CHECK_STR(g.call[0], CALL_SID);
  CHECK_STR(g.from[0], "+919876543210");
  CHECK_STR(g.to[0], "+914412345678");
  /* A withheld caller; the call's own end. */
  CHECK_OK(parse_hook(&g, "/webhooks/ch1", "CallSid=" CALL_SID
                      "&To=%2B914412345678&Direction=inbound"
                      "&CallStatus=ringing", NULL));
  CHECK(g.n == 1 && strcmp(g.from[0], "(null)") == 0);
  CHECK_OK(parse_hook(&g, "/webhooks/ch1", "CallSid=" CALL_SID
                      "&Direction=inbound&CallStatus=completed", NULL));
  CHECK(g.n == 1 && g.u[0].type == VC_UPDATE_ENDED);
  CHECK(g.u[0].leg == VC_LEG_CUSTOMER && g.u[0].cause == VC_CAUSE_NORMAL);
  /* Refused: no To, no CallSid, not inbound, an unknown status. */
  CHECK_RC(parse_hook(&g, "/webhooks/ch1", "CallSid=" CALL_SID
                      "&Direction=inbound&CallStatus=ringing", NULL),
           VC_EINVALID);
  CHECK_RC(parse_hook(&g, "/webhooks/ch1", "To=%2B914412345678"
                      "&Direction=inbound&CallStatus=ringing", NULL),
           VC_EINVALID);
  CHECK_RC(parse_hook(&g, "/webhooks/ch1", "CallSid=" CALL_SID
                      "&To=%2B914412345678&Direction=outbound-api"
                      "&CallStatus=ringing", NULL), VC_EINVALID);
  CHECK_RC(parse_hook(&g, "/webhooks/ch1", "CallSid=" CALL_SID
                      "&To=%2B914412345678&Direction=inbound"
                      "&CallStatus=dancing", NULL), VC_EINVALID);
  /* in_wait: a fetch; in_ring: the agent's leg; in_dial: its end, then
   * a fetch; in_record: the voicemail, then a fetch. */
  CHECK_OK(parse_hook(&g, TARGET "&vc_step=in_wait", "CallSid=" CALL_SID,
                      NULL));
  CHECK(g.n == 1 && g.u[0].type == VC_UPDATE_SCRIPT);
  CHECK_OK(parse_hook(&g, TARGET "&vc_step=in_ring&vc_try=1", "CallSid="
                      CHILD_SID "&ParentCallSid=" CALL_SID
                      "&CallStatus=in-progress&SequenceNumber=2", NULL));
  CHECK(g.n == 1 && g.u[0].type == VC_UPDATE_ANSWERED);
  CHECK(g.u[0].leg == VC_LEG_AGENT);
  CHECK_STR(g.call[0], CALL_SID);
  CHECK_STR(g.leg[0], CHILD_SID);
  CHECK_OK(parse_hook(&g, TARGET "&vc_step=in_dial&vc_try=2", "CallSid="
                      CALL_SID "&DialCallStatus=no-answer&DialCallSid="
                      CHILD_SID, NULL));
  CHECK(g.n == 2 && g.u[0].type == VC_UPDATE_ENDED);
  CHECK(g.u[0].leg == VC_LEG_AGENT && g.u[0].cause == VC_CAUSE_NO_ANSWER);
  CHECK_STR(g.event[0], "twilio:" CALL_SID ":in_dial:2:" CHILD_SID);
  CHECK(g.u[1].type == VC_UPDATE_SCRIPT && g.u[1].leg == VC_LEG_CUSTOMER);
  CHECK_OK(parse_hook(&g, TARGET "&vc_step=in_record", "CallSid=" CALL_SID
                      "&RecordingSid=" REC_SID "&RecordingUrl=https%3A%2F"
                      "%2Fapi.twilio.com%2Fr&RecordingDuration=9&Digits=%23",
                      NULL));
  CHECK(g.n == 2 && g.u[0].type == VC_UPDATE_RECORDING);
  CHECK(g.u[0].recording_status == VC_RECORDING_AVAILABLE);
  CHECK(g.u[0].recording_duration_s == 9);
  CHECK_STR(g.event[0], "twilio:" REC_SID ":completed");
  CHECK(g.u[1].type == VC_UPDATE_SCRIPT);
  /* The caller hung up before the beep: no recording, the fetch only. */
  CHECK_OK(parse_hook(&g, TARGET "&vc_step=in_record", "CallSid=" CALL_SID,
                      NULL));
  CHECK(g.n == 1 && g.u[0].type == VC_UPDATE_SCRIPT);
}

static void test_twilio_voice__render_record(void)
{
  vc_buf out = VC_BUF_INIT;
  vc_call_step s[2];

  memset(s, 0, sizeof(s));
  s[0].kind = VC_STEP_RECORD;
  s[0].time_limit_s = 120;
  s[0].timeout_s = 5;
  s[0].finish_on_key = "#";
  s[0].action_url = HOOK "&vc_step=in_record";
  render(&out, NULL, s, 1, 0);
  CHECK_STR(out.ptr, HEAD "<Record playBeep=\"true\" maxLength=\"120\""
            " timeout=\"5\" finishOnKey=\"#\" action=\"" HOOK
            "&amp;vc_step=in_record\" method=\"POST\""
            " recordingStatusCallback=\"" HOOK "&amp;vc_step=recording\""
            " recordingStatusCallbackMethod=\"POST\""
            " recordingStatusCallbackEvent=\"completed absent\"/>" TAIL);
  s[0].finish_on_key = "12";
  render(&out, NULL, s, 1, VC_EINVALID);
  vc_buf_dispose(&out);
}

/* ------------------------------------------------------------------ */
/* render_script                                                       */

static void test_twilio_voice__render_each_step(void)
{
  vc_buf out = VC_BUF_INIT;
  vc_call_step s[4];

  memset(s, 0, sizeof(s));
  s[0].kind = VC_STEP_SAY;
  s[0].text = "Namaste & \"welcome\" <to> 'Acme'";
  s[0].language = "hi-IN";
  s[0].loop = 2;
  s[1].kind = VC_STEP_PLAY;
  s[1].url = "https://cdn.example.com/a.mp3?x=1&y=2";
  s[2].kind = VC_STEP_PAUSE;
  s[2].timeout_s = 2;
  s[3].kind = VC_STEP_HANGUP;
  render(&out, NULL, s, 4, 0);
  CHECK_STR(out.ptr, HEAD
            "<Say language=\"hi-IN\" loop=\"2\">Namaste &amp; &quot;welcome"
            "&quot; &lt;to&gt; &apos;Acme&apos;</Say>"
            "<Play>https://cdn.example.com/a.mp3?x=1&amp;y=2</Play>"
            "<Pause length=\"2\"/><Hangup/>" TAIL);

  /* Gather with its prompt; Redirect */
  memset(s, 0, sizeof(s));
  s[0].kind = VC_STEP_GATHER;
  s[0].num_digits = 1;
  s[0].timeout_s = 5;
  s[0].finish_on_key = "#";
  s[0].action_url = HOOK "&vc_step=ivr&vc_node=root&vc_try=1";
  s[0].text = "Press 1 for sales";
  s[0].language = "en-IN";
  s[1].kind = VC_STEP_REDIRECT;
  s[1].url = HOOK "&vc_step=control";
  render(&out, NULL, s, 2, 0);
  CHECK_STR(out.ptr, HEAD
            "<Gather input=\"dtmf\" numDigits=\"1\" timeout=\"5\" "
            "finishOnKey=\"#\" action=\"" HOOK "&amp;vc_step=ivr&amp;"
            "vc_node=root&amp;vc_try=1\" method=\"POST\">"
            "<Say language=\"en-IN\">Press 1 for sales</Say></Gather>"
            "<Redirect method=\"POST\">" HOOK "&amp;vc_step=control"
            "</Redirect>" TAIL);
  /* an audio prompt, no finishing key */
  memset(s, 0, sizeof(s));
  s[0].kind = VC_STEP_GATHER;
  s[0].url = "https://cdn.example.com/menu.wav";
  s[0].finish_on_key = "";
  render(&out, NULL, s, 1, 0);
  CHECK_STR(out.ptr, HEAD "<Gather input=\"dtmf\" finishOnKey=\"\">"
            "<Play>https://cdn.example.com/menu.wav</Play></Gather>" TAIL);

  /* the click-to-call Dial */
  memset(s, 0, sizeof(s));
  s[0].kind = VC_STEP_DIAL;
  s[0].target = "+919812345678";
  s[0].caller_id = "+14155550199";
  s[0].timeout_s = 30;
  s[0].time_limit_s = 3600;
  s[0].record = 1;
  s[0].status_url = HOOK "&vc_step=customer";
  s[0].action_url = HOOK "&vc_step=dial_end";
  s[0].answer_url = HOOK "&vc_step=customer_answer";
  render(&out, NULL, s, 1, 0);
  CHECK_STR(out.ptr, HEAD
            "<Dial callerId=\"+14155550199\" timeout=\"30\" timeLimit=\"3600"
            "\" action=\"" HOOK "&amp;vc_step=dial_end\" method=\"POST\" "
            "record=\"record-from-answer\" recordingStatusCallback=\"" HOOK
            "&amp;vc_step=recording\" recordingStatusCallbackMethod=\"POST\""
            " recordingStatusCallbackEvent=\"completed absent\">"
            "<Number statusCallback=\"" HOOK "&amp;vc_step=customer\" "
            "statusCallbackEvent=\"initiated ringing answered completed\" "
            "statusCallbackMethod=\"POST\" url=\"" HOOK "&amp;vc_step="
            "customer_answer\" method=\"POST\">+919812345678</Number>"
            "</Dial>" TAIL);
  /* a SIP target, nothing else */
  memset(s, 0, sizeof(s));
  s[0].kind = VC_STEP_DIAL;
  s[0].target = "sip:desk@pbx.example.com";
  render(&out, NULL, s, 1, 0);
  CHECK_STR(out.ptr, HEAD "<Dial><Sip>sip:desk@pbx.example.com</Sip></Dial>"
            TAIL);

  /* hold: the step's music, the channel's, or silence */
  memset(s, 0, sizeof(s));
  s[0].kind = VC_STEP_HOLD;
  s[0].url = "https://cdn.example.com/hold.mp3";
  render(&out, NULL, s, 1, 0);
  CHECK_STR(out.ptr, HEAD "<Play loop=\"0\">https://cdn.example.com/hold.mp3"
            "</Play>" TAIL);
  {
    void *st = state_new("{\"account_sid\": \"" ACCOUNT "\", "
                         "\"hold_music_url\": \"https://m.example.com/h.mp3"
                         "\"}", CREDS);
    s[0].url = NULL;
    render(&out, st, s, 1, 0);
    CHECK_STR(out.ptr, HEAD "<Play loop=\"0\">https://m.example.com/h.mp3"
              "</Play>" TAIL);
    TV->fini(st);
  }
  render(&out, NULL, s, 1, 0);
  CHECK(strncmp(out.ptr, HEAD "<Pause length=\"60\"/><Pause", 70) == 0);
  CHECK(out.size == strlen(HEAD TAIL) + 240 * strlen("<Pause length=\"60\"/>"));

  /* empty: the bridge happens (nothing to do) */
  render(&out, NULL, NULL, 0, 0);
  CHECK_STR(out.ptr, HEAD TAIL);
  vc_buf_dispose(&out);
}

static void test_twilio_voice__render_refusals(void)
{
  vc_buf out = VC_BUF_INIT;
  vc_call_step s;
  char *big;

  CHECK_OK(vc__buf_puts(&out, "kept"));
#define BAD(field_set, rc) do { \
    memset(&s, 0, sizeof(s)); \
    field_set; \
    render(&out, NULL, &s, 1, rc); \
    CHECK_STR(out.ptr, "kept"); \
  } while (0)
  BAD(s.kind = 99, VC_EINVALID);
  BAD(s.kind = VC_STEP_SAY, VC_EINVALID);                  /* no text */
  BAD((s.kind = VC_STEP_SAY, s.text = "a\001b"), VC_EINVALID);
  BAD((s.kind = VC_STEP_SAY, s.text = "\xff"), VC_EENCODING);
  BAD((s.kind = VC_STEP_SAY, s.text = "hi", s.language = "en\"x"),
      VC_EINVALID);
  BAD((s.kind = VC_STEP_PLAY, s.url = "javascript:x"), VC_EINVALID);
  BAD((s.kind = VC_STEP_PLAY), VC_EINVALID);
  BAD((s.kind = VC_STEP_GATHER, s.finish_on_key = "ab"), VC_EINVALID);
  BAD((s.kind = VC_STEP_GATHER, s.num_digits = 33), VC_EINVALID);
  BAD((s.kind = VC_STEP_GATHER, s.action_url = "https://x/a b"),
      VC_EINVALID);
  BAD((s.kind = VC_STEP_DIAL), VC_EINVALID);
  BAD((s.kind = VC_STEP_DIAL, s.target = "12345"), VC_EINVALID);
  BAD((s.kind = VC_STEP_DIAL, s.target = "+14155550100",
       s.caller_id = "Acme"), VC_EINVALID);
  BAD((s.kind = VC_STEP_DIAL, s.target = "+14155550100",
       s.timeout_s = 601), VC_EINVALID);
  BAD((s.kind = VC_STEP_REDIRECT, s.url = NULL), VC_EINVALID);
  BAD((s.kind = VC_STEP_PAUSE, s.timeout_s = 601), VC_EINVALID);
  big = malloc(5000);
  memset(big, 'a', 4999);
  big[4999] = '\0';
  BAD((s.kind = VC_STEP_SAY, s.text = big), VC_ETOOBIG);
  {
    /* too many steps; a document over 64 KiB */
    vc_call_step many[65];
    memset(many, 0, sizeof(many));
    for (size_t i = 0; i < 65; i++) {
      many[i].kind = VC_STEP_SAY;
      many[i].text = big + 1000;               /* 3999 bytes */
    }
    render(&out, NULL, many, 65, VC_ETOOBIG);
    render(&out, NULL, many, 17, VC_ETOOBIG);
    CHECK_STR(out.ptr, "kept");
    render(&out, NULL, many, 16, 0);
  }
  free(big);
#undef BAD
  vc_buf_dispose(&out);
}

/* ------------------------------------------------------------------ */
/* build_control / parse_control                                       */

static vc_call_control control(int op)
{
  vc_call_control c;

  memset(&c, 0, sizeof(c));
  c.version = VC_CALL_CONTROL_VERSION;
  c.op = op;
  c.call_id = CALL_ID;
  c.provider_call_id = CALL_SID;
  c.customer_leg_id = CHILD_SID;
  c.webhook_url = HOOK;
  return c;
}

static void build_control(void *st, const vc_call_control *c,
                          const char *method, const char *url,
                          const char *body)
{
  vc_http_out req;
  int rc;

  vc__http_out_init(&req);
  rc = TV->build_control(st, c, &req);
  if (rc != 0)
    fprintf(stderr, "  control: %d %s\n", rc, vc_error_last()->message);
  CHECK_OK(rc);
  CHECK_STR(req.method, method);
  CHECK_STR(req.url, url);
  CHECK(vc__http_out_header(&req, "Authorization") != NULL);
  CHECK_STR(req.body.ptr ? req.body.ptr : "", body);
  vc__http_out_reset(&req);
}

static int control_rc(void *st, const vc_call_control *c)
{
  vc_http_out req;
  int rc;

  vc__http_out_init(&req);
  rc = TV->build_control(st, c, &req);
  if (rc != 0)
    CHECK(req.url == NULL && req.body.size == 0);
  vc__http_out_reset(&req);
  return rc;
}

static void test_twilio_voice__controls(void)
{
  void *st = state_new(CONFIG, CREDS);
  vc_call_control c;

  c = control(VC_CALL_OP_HANGUP);
  build_control(st, &c, "POST", API "/Calls/" CALL_SID ".json",
                "Status=completed");
  /* hold: the customer's leg waits in the call's queue */
  c = control(VC_CALL_OP_HOLD);
  build_control(st, &c, "POST", API "/Calls/" CHILD_SID ".json",
                "Twiml=%3CResponse%3E%3CEnqueue%3Evc-" CALL_ID
                "%3C%2FEnqueue%3E%3C%2FResponse%3E");
  /* unhold: the agent's leg takes the customer out of that queue */
  c = control(VC_CALL_OP_UNHOLD);
  build_control(st, &c, "POST", API "/Calls/" CALL_SID ".json",
                "Twiml=%3CResponse%3E%3CDial+action%3D%22https%3A%2F%2F"
                "hooks.example.com%2Fwebhooks%2Fch1%3Fvc_call%3D" CALL_ID
                "%26amp%3Bvc_step%3Ddial_end%22+method%3D%22POST%22%3E%3C"
                "Queue%3Evc-" CALL_ID "%3C%2FQueue%3E%3C%2FDial%3E%3C%2F"
                "Response%3E");
  /* blind transfer: the customer's leg dials the new party */
  c = control(VC_CALL_OP_TRANSFER);
  c.target = "+14155550123";
  c.caller_id = "+14155550199";
  build_control(st, &c, "POST", API "/Calls/" CHILD_SID ".json",
                "Twiml=%3CResponse%3E%3CDial+callerId%3D%22%2B14155550199"
                "%22%3E%3CNumber%3E%2B14155550123%3C%2FNumber%3E%3C%2FDial"
                "%3E%3C%2FResponse%3E");
  c.target = "sip:desk@pbx.example.com";
  c.caller_id = NULL;
  build_control(st, &c, "POST", API "/Calls/" CHILD_SID ".json",
                "Twiml=%3CResponse%3E%3CDial%3E%3CSip%3Esip%3Adesk%40"
                "pbx.example.com%3C%2FSip%3E%3C%2FDial%3E%3C%2FResponse%3E");
  c = control(VC_CALL_OP_DELETE_RECORDING);
  c.recording_id = REC_SID;
  build_control(st, &c, "DELETE", API "/Recordings/" REC_SID ".json", "");

  /* refusals */
  c = control(VC_CALL_OP_RECORD_START);
  CHECK_RC(control_rc(st, &c), VC_ENOTSUPPORTED);
  c = control(VC_CALL_OP_RECORD_STOP);
  CHECK_RC(control_rc(st, &c), VC_ENOTSUPPORTED);
  c = control(42);
  CHECK_RC(control_rc(st, &c), VC_EINVALID);
  c = control(VC_CALL_OP_HOLD);
  c.customer_leg_id = NULL;                 /* not bridged yet */
  CHECK_RC(control_rc(st, &c), VC_ESTATE);
  c = control(VC_CALL_OP_HANGUP);
  c.provider_call_id = NULL;
  CHECK_RC(control_rc(st, &c), VC_EINVALID);
  c = control(VC_CALL_OP_HOLD);
  c.call_id = "a<b";
  CHECK_RC(control_rc(st, &c), VC_EINVALID);
  c = control(VC_CALL_OP_TRANSFER);
  c.target = "0800 FLOWERS";
  CHECK_RC(control_rc(st, &c), VC_EINVALID);
  c.target = "+14155550123";
  c.caller_id = "x";
  CHECK_RC(control_rc(st, &c), VC_EINVALID);
  c = control(VC_CALL_OP_DELETE_RECORDING);
  c.recording_id = "../Calls/" CALL_SID;
  CHECK_RC(control_rc(st, &c), VC_EINVALID);
  c = control(VC_CALL_OP_HANGUP);
  c.version = 7;
  CHECK_RC(control_rc(st, &c), VC_EVERSION);
  TV->fini(st);
}

static vc_send_result parse_control(int op, int status, const char *body)
{
  vc_call_control c = control(op);
  vc_send_result r;
  answer a;

  c.recording_id = REC_SID;
  answer_set(&a, status, body, NULL);
  memset(&r, 0, sizeof(r));
  r.version = VC_SEND_RESULT_VERSION;
  CHECK_OK(TV->parse_control(NULL, &c, &a.res, &r));
  return r;
}

static void test_twilio_voice__parse_control(void)
{
  vc_send_result r;

  r = parse_control(VC_CALL_OP_HANGUP, 200, "{\"sid\": \"" CALL_SID "\", "
                    "\"status\": \"completed\"}");
  CHECK(r.outcome == VC_SEND_ACCEPTED);
  CHECK_STR(r.provider_id, CALL_SID);
  r = parse_control(VC_CALL_OP_DELETE_RECORDING, 204, NULL);
  CHECK(r.outcome == VC_SEND_ACCEPTED);
  CHECK_STR(r.provider_id, REC_SID);
  /* already gone is what was asked */
  r = parse_control(VC_CALL_OP_DELETE_RECORDING, 404, "{\"code\": 20404, "
                    "\"message\": \"The requested resource was not "
                    "found\"}");
  CHECK(r.outcome == VC_SEND_ACCEPTED);
  r = parse_control(VC_CALL_OP_DELETE_RECORDING, 503, "");
  CHECK(r.outcome == VC_SEND_RETRY);
  /* a call that ended meanwhile */
  r = parse_control(VC_CALL_OP_HOLD, 400, "{\"code\": 21220, \"message\": "
                    "\"Call is not in-progress. Cannot redirect.\"}");
  CHECK(r.outcome == VC_SEND_REJECTED && r.error == VC_ESTATE);
  CHECK_STR(r.provider_code, "21220");
  r = parse_control(VC_CALL_OP_HANGUP, 404, "{\"code\": 20404, \"message\":"
                    " \"Not found\"}");
  CHECK(r.outcome == VC_SEND_REJECTED && r.error == VC_ENOTFOUND);
  r = parse_control(VC_CALL_OP_HANGUP, 401, "{\"code\": 20003, \"message\":"
                    " \"Authenticate\"}");
  CHECK(r.outcome == VC_SEND_FAILOVER && r.error == VC_EAUTH);
  r = parse_control(VC_CALL_OP_TRANSFER, 429, "{\"code\": 20429}");
  CHECK(r.outcome == VC_SEND_RETRY && r.error == VC_ERATELIMIT);
}

/* A Call resource as Twilio answers the GET, with `price` (raw JSON:
 * null, a string) and `unit`. */
static vc_send_result price_answer(const char *sid, const char *price,
                                   const char *unit, int status)
{
  char body[512];

  snprintf(body, sizeof(body), "{\"sid\": \"%s\", \"status\": "
           "\"completed\", \"duration\": \"61\", \"price\": %s, "
           "\"price_unit\": %s}", sid, price, unit);
  return parse_control(VC_CALL_OP_FETCH_PRICE, status, body);
}

static void test_twilio_voice__fetch_price(void)
{
  void *st = state_new(CONFIG, CREDS);
  vc_call_control c;
  vc_send_result r;

  /* the exact request: a GET of the call's resource, nothing in it */
  c = control(VC_CALL_OP_FETCH_PRICE);
  build_control(st, &c, "GET", API "/Calls/" CALL_SID ".json", "");
  c.provider_call_id = CHILD_SID;           /* the customer's leg */
  build_control(st, &c, "GET", API "/Calls/" CHILD_SID ".json", "");
  c.provider_call_id = NULL;
  CHECK_RC(control_rc(st, &c), VC_EINVALID);
  c.provider_call_id = "CA../../Accounts";
  CHECK_RC(control_rc(st, &c), VC_EINVALID);
  c = control(VC_CALL_OP_FETCH_PRICE + 1);
  CHECK_RC(control_rc(st, &c), VC_EINVALID);

  /* a charge is negative: "-0.01400" USD is 14000 micro-USD, exactly */
  r = price_answer(CALL_SID, "\"-0.01400\"", "\"USD\"", 200);
  CHECK(r.outcome == VC_SEND_ACCEPTED);
  CHECK(r.cost_micros == 14000);
  CHECK_STR(r.currency, "USD");
  CHECK_STR(r.provider_id, CALL_SID);
  r = price_answer(CALL_SID, "\"-1.2345678\"", "\"EUR\"", 200);
  CHECK(r.outcome == VC_SEND_ACCEPTED && r.cost_micros == 1234568);
  CHECK_STR(r.currency, "EUR");
  /* the bound: 9 digits before the point */
  r = price_answer(CALL_SID, "\"-999999999.999999\"", "\"USD\"", 200);
  CHECK(r.outcome == VC_SEND_ACCEPTED &&
        r.cost_micros == INT64_C(999999999999999));
  r = price_answer(CALL_SID, "\"-1000000000.00\"", "\"USD\"", 200);
  CHECK(r.outcome == VC_SEND_RETRY && r.error == VC_EPROVIDER);
  /* a call that cost nothing (never answered) */
  r = price_answer(CALL_SID, "\"0.00000\"", "\"USD\"", 200);
  CHECK(r.outcome == VC_SEND_ACCEPTED && r.cost_micros == 0);
  r = price_answer(CALL_SID, "\"-0.00000\"", "\"USD\"", 200);
  CHECK(r.outcome == VC_SEND_ACCEPTED && r.cost_micros == 0);
  /* not rated yet: ask again in a minute, nothing wrong */
  r = price_answer(CALL_SID, "null", "\"USD\"", 200);
  CHECK(r.outcome == VC_SEND_RETRY && r.error == 0);
  CHECK(r.retry_after_ms == 60000);
  r = parse_control(VC_CALL_OP_FETCH_PRICE, 200, "{\"sid\": \"" CALL_SID
                    "\", \"status\": \"in-progress\"}");
  CHECK(r.outcome == VC_SEND_RETRY && r.error == 0);
  /* malformed: retried, as the provider's fault */
  {
    static const char *const bad[][2] = {
      { "\"-0.01.4\"", "\"USD\"" }, { "\"-\"", "\"USD\"" },
      { "\"\"", "\"USD\"" }, { "\"-1e3\"", "\"USD\"" },
      { "-0.014", "\"USD\"" },            /* a number, not a string */
      { "\"0.01400\"", "\"USD\"" },      /* a credit for our call */
      { "\"- 0.014\"", "\"USD\"" }, { "\"-0.014\"", "\"usd\"" },
      { "\"-0.014\"", "null" }, { "\"-0.014\"", "\"US\"" },
      { "\"-0.014\"", "\"USDX\"" }, { "true", "\"USD\"" },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
      r = price_answer(CALL_SID, bad[i][0], bad[i][1], 200);
      CHECK(r.outcome == VC_SEND_RETRY && r.error == VC_EPROVIDER);
    }
  }
  /* another call's resource, or not JSON */
  r = price_answer(CHILD_SID, "\"-0.01400\"", "\"USD\"", 200);
  CHECK(r.outcome == VC_SEND_RETRY && r.error == VC_EPROVIDER);
  r = parse_control(VC_CALL_OP_FETCH_PRICE, 200, "<Response/>");
  CHECK(r.outcome == VC_SEND_RETRY && r.error == VC_EPROVIDER);
  /* refusals as for the other controls */
  r = parse_control(VC_CALL_OP_FETCH_PRICE, 404, "{\"code\": 20404, "
                    "\"message\": \"Not found\"}");
  CHECK(r.outcome == VC_SEND_REJECTED && r.error == VC_ENOTFOUND);
  r = parse_control(VC_CALL_OP_FETCH_PRICE, 401, "{\"code\": 20003}");
  CHECK(r.outcome == VC_SEND_FAILOVER && r.error == VC_EAUTH);
  r = parse_control(VC_CALL_OP_FETCH_PRICE, 503, "");
  CHECK(r.outcome == VC_SEND_RETRY);
  TV->fini(st);
}

VC_TESTS(
  VC_TEST(test_twilio_voice__vtable),
  VC_TEST(test_twilio_voice__init),
  VC_TEST(test_twilio_voice__build_call),
  VC_TEST(test_twilio_voice__base_url),
  VC_TEST(test_twilio_voice__parse_call),
  VC_TEST(test_twilio_voice__signature_vectors),
  VC_TEST(test_twilio_voice__verify),
  VC_TEST(test_twilio_voice__hook_agent),
  VC_TEST(test_twilio_voice__hook_answer),
  VC_TEST(test_twilio_voice__hook_customer),
  VC_TEST(test_twilio_voice__hook_ivr),
  VC_TEST(test_twilio_voice__hook_dial_end),
  VC_TEST(test_twilio_voice__hook_nul_in_url),
  VC_TEST(test_twilio_voice__hook_recording),
  VC_TEST(test_twilio_voice__hook_inbound),
  VC_TEST(test_twilio_voice__render_record),
  VC_TEST(test_twilio_voice__render_each_step),
  VC_TEST(test_twilio_voice__render_refusals),
  VC_TEST(test_twilio_voice__controls),
  VC_TEST(test_twilio_voice__parse_control),
  VC_TEST(test_twilio_voice__fetch_price)
)
