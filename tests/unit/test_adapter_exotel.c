/*
 * Unit tests of the Exotel voice adapter (adapters/voip/exotel.c):
 * config and credential checks, the exact Calls/connect request, every
 * class of answer, the callback token (accepted, tampered, missing,
 * another call's), and each callback shape (answered, terminal JSON,
 * multipart and form, the default four fields) with the ordered updates
 * and exact times it yields, and the bounds.
 *
 * Known-good values were computed with Python, independently of the
 * adapter:
 *   token  = hmac.new(SECRET, call_id, hashlib.sha256).hexdigest()
 *   Basic  = base64.b64encode(b"<api_key>:<api_token>")
 *   times  = (calendar.timegm(strptime(s)) - 330 * 60) * 1000   (+05:30)
 *   bodies = urllib.parse.urlencode([...])
 */
#include "core/common.h"
#include "core/buf.h"
#include "net/http_out.h"
#include "adapters/builtin.h"

#include "harness.h"
#include "voice_sink.h"

#define EX (&vc__adapter_exotel)

#define API_KEY "0a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f50617"
#define API_TOKEN "f1e2d3c4b5a697887766554433221100ffeeddccbbaa9988"
#define SECRET "exotel-webhook-secret-0123456789abcdef"
#define CREDS "{\"api_key\": \"" API_KEY "\", \"api_token\": \"" API_TOKEN \
  "\", \"webhook_secret\": \"" SECRET "\"}"
#define CONFIG "{\"account_sid\": \"vyomsim1\"}"
#define CALL_ID "01J9ZK3M2V7Q8R4T6W0X1Y2Z3C"
#define OTHER_ID "01J9ZK3M2V7Q8R4T6W0X1Y2Z3D"
/* hmac-sha256(SECRET, CALL_ID) and (SECRET, OTHER_ID), hex */
#define TOKEN "d758607f6614a25ad9865a734b2ecf4b9ef249b6eb5bfe1766b13af169451139"
#define OTHER_TOKEN \
  "0e1713cc14f183a5eda518d38881e86f26d564dfff9d9b890db4215ad12dc3d5"
#define HOOK_URL "https://hooks.example.com/webhooks/01J9ZK0000000000000000CHAN"
#define TARGET "/webhooks/01J9ZK0000000000000000CHAN?vc_call=" CALL_ID \
  "&vc_step=status&vc_token=" TOKEN
#define SID "80bfbec2d78bbbf10fb851f4fa165211"

/* 2024-01-15 14:30:SS at +05:30, Unix ms */
#define T_1430_00 INT64_C(1705309200000)
#define T_1430_15 INT64_C(1705309215000)
#define T_1430_20 INT64_C(1705309220000)
#define T_1430_30 INT64_C(1705309230000)
#define T_1430_40 INT64_C(1705309240000)
#define T_1431_10 INT64_C(1705309270000)
/* the same wall time read as UTC */
#define T_1430_00_UTC INT64_C(1705329000000)

static void *state_new(const char *config, const char *creds)
{
  void *st = NULL;
  int rc = EX->init(&st, config, creds);

  if (rc != 0)
    fprintf(stderr, "  init: %d %s\n", rc, vc_error_last()->message);
  CHECK(rc == 0 && st != NULL);
  return st;
}

static vc_call_outbound outbound(void)
{
  vc_call_outbound c;

  memset(&c, 0, sizeof(c));
  c.version = VC_CALL_OUTBOUND_VERSION;
  c.call_id = CALL_ID;
  c.tenant_id = "01J9ZK0000000000000000TEN1";
  c.agent = "+919876543210";
  c.customer = "+919812345678";
  c.caller_id = "08047112345";
  c.record = 1;
  c.ring_timeout_s = 30;
  c.time_limit_s = 3600;
  c.webhook_url = HOOK_URL "?vc_call=" CALL_ID;
  return c;
}

static void check_clean_error(void)
{
  const char *m = vc_error_last()->message;

  for (const char *p = m; *p; p++)
    CHECK((unsigned char)*p >= 0x20 && *p != 0x7f);
  CHECK(strstr(m, API_TOKEN) == NULL && strstr(m, SECRET) == NULL &&
        strstr(m, API_KEY) == NULL);
}

/* ------------------------------------------------------------------ */

static void test_exotel__vtable(void)
{
  CHECK_STR(EX->name, "exotel");
  CHECK(EX->version == VC_ADAPTER_VERSION);
  CHECK(EX->kind == VC_CHANNEL_VOICE);
  CHECK(EX->capabilities == (VC_CAP_DELIVERY_REPORTS | VC_CAP_CALL_PRICE));
  CHECK((EX->capabilities & (VC_CAP_CALL_HOLD | VC_CAP_CALL_TRANSFER |
                             VC_CAP_CALL_HANGUP | VC_CAP_CALL_RECORD |
                             VC_CAP_CALL_SCRIPT)) == 0);
  CHECK(EX->build_send == NULL && EX->parse_send == NULL);
  CHECK(EX->build_call != NULL && EX->parse_call != NULL);
  /* controls: only asking a call's price */
  CHECK(EX->build_control != NULL && EX->parse_control != NULL);
  /* scripts are rendered for the applets of inbound calls */
  CHECK(EX->render_script != NULL);
  CHECK(EX->verify_webhook != NULL && EX->parse_webhook != NULL);
}

static void test_exotel__init_ok(void)
{
  EX->fini(state_new(CONFIG, CREDS));
  EX->fini(state_new("{\"account_sid\": \"acme_1\", \"subdomain\": "
                     "\"api.in.exotel.com\", \"timezone\": \"UTC\", "
                     "\"caller_ids\": [\"08047112345\", \"+918047112346\"]}",
                     CREDS));
  EX->fini(state_new("{\"account_sid\": \"a\", \"base_url\": "
                     "\"http://127.0.0.1:8080/\", \"timezone\": \"-03:00\"}",
                     CREDS));
  EX->fini(state_new("{\"account_sid\": \"a\", \"timezone\": "
                     "\"Asia/Kolkata\"}", CREDS));
  EX->fini(NULL);
}

static void test_exotel__init_bad(void)
{
  static const struct {
    const char *config, *creds, *needle;
  } cases[] = {
    { "{}", CREDS, "account_sid is required" },
    { "[]", CREDS, "JSON object" },
    { "{\"account_sid\": \"a b\"}", CREDS, "account_sid must be" },
    { "{\"account_sid\": 7}", CREDS, "must be a string" },
    { "{\"account_sid\": \"a\", \"colour\": 1}", CREDS,
      "unknown key 'colour'" },
    { "{\"account_sid\": \"a\", \"subdomain\": \"evil.example.com\"}", CREDS,
      "subdomain must be" },
    { "{\"account_sid\": \"a\", \"subdomain\": \"api.exotel.com\", "
      "\"base_url\": \"https://x\"}", CREDS, "exclude each other" },
    { "{\"account_sid\": \"a\", \"base_url\": \"http://api.exotel.com\"}",
      CREDS, "loopback" },
    { "{\"account_sid\": \"a\", \"base_url\": \"ftp://x\"}", CREDS,
      "https://" },
    { "{\"account_sid\": \"a\", \"timezone\": \"+5:30\"}", CREDS,
      "config.timezone must be" },
    { "{\"account_sid\": \"a\", \"timezone\": \"+15:00\"}", CREDS,
      "config.timezone must be" },
    { "{\"account_sid\": \"a\", \"caller_ids\": \"080\"}", CREDS,
      "caller_ids must be an array" },
    { "{\"account_sid\": \"a\", \"currency\": \"inr\"}", CREDS,
      "config.currency must be an ISO 4217 code" },
    { "{\"account_sid\": \"a\", \"currency\": \"RUPEE\"}", CREDS,
      "config.currency must be an ISO 4217 code" },
    { "{\"account_sid\": \"a\", \"currency\": 356}", CREDS,
      "must be a string" },
    { "{\"account_sid\": \"a\", \"caller_ids\": [\"080-47\"]}", CREDS,
      "caller_ids[0] must be a phone number" },
    { CONFIG, "{}", "credentials.api_key is required" },
    { CONFIG, "{\"api_key\": \"k:x\", \"api_token\": \"t\", "
      "\"webhook_secret\": \"" SECRET "\"}", "without spaces or ':'" },
    { CONFIG, "{\"api_key\": \"k\", \"webhook_secret\": \"" SECRET "\"}",
      "credentials.api_token is required" },
    { CONFIG, "{\"api_key\": \"k\", \"api_token\": \"t\"}",
      "credentials.webhook_secret is required" },
    { CONFIG, "{\"api_key\": \"k\", \"api_token\": \"t\", "
      "\"webhook_secret\": \"short-secret\"}", "32 to 256 bytes" },
    /* an unknown credential key is not quoted: it may be a secret */
    { CONFIG, "{\"api_key\": \"k\", \"api_token\": \"t\", "
      "\"webhook_secret\": \"" SECRET "\", \"" API_TOKEN "\": 1}",
      "unknown key" },
  };

  for (size_t i = 0; i < VC_ARRAY_SIZE(cases); i++) {
    void *st = (void *)1;
    int rc = EX->init(&st, cases[i].config, cases[i].creds);
    if (rc != VC_EINVALID || strstr(vc_error_last()->message,
                                    cases[i].needle) == NULL)
      fprintf(stderr, "  case %zu: %d %s\n", i, rc,
              vc_error_last()->message);
    CHECK(rc == VC_EINVALID);
    CHECK(st == NULL);
    CHECK(strstr(vc_error_last()->message, cases[i].needle) != NULL);
    check_clean_error();
  }
}

/* ------------------------------------------------------------------ */
/* build_call                                                          */

static void test_exotel__build_exact(void)
{
  void *st = state_new(CONFIG, CREDS);
  vc_call_outbound c = outbound();
  vc_http_out req;

  vc__http_out_init(&req);
  CHECK_OK(EX->build_call(st, &c, &req));
  CHECK_STR(req.method, "POST");
  CHECK_STR(req.url, "https://api.exotel.com/v1/Accounts/vyomsim1/Calls/"
            "connect.json");
  CHECK_STR(vc__http_out_header(&req, "Authorization"),
            "Basic MGExYjJjM2Q0ZTVmNjA3MTgyOTNhNGI1YzZkN2U4ZjlhMGIxYzJkM2U0Zj"
            "UwNjE3OmYxZTJkM2M0YjVhNjk3ODg3NzY2NTU0NDMzMjIxMTAwZmZlZWRkY2NiYm"
            "FhOTk4OA==");
  CHECK_STR(vc__http_out_header(&req, "Content-Type"),
            "application/x-www-form-urlencoded");
  CHECK_STR(req.body.ptr,
            "From=%2B919876543210&To=%2B919812345678&CallerId=08047112345"
            "&TimeOut=30&TimeLimit=3600&Record=true&CustomField=" CALL_ID
            "&StatusCallback=https%3A%2F%2Fhooks.example.com%2Fwebhooks%2F"
            "01J9ZK0000000000000000CHAN%3Fvc_call%3D" CALL_ID
            "%26vc_step%3Dstatus%26vc_token%3D" TOKEN
            "&StatusCallbackEvents%5B%5D=terminal"
            "&StatusCallbackEvents%5B%5D=answered"
            "&StatusCallbackContentType=application%2Fjson");
  vc__http_out_reset(&req);

  /* No recording, no ring timeout, no limit: those fields are left out. */
  c.record = 0;
  c.ring_timeout_s = 0;
  c.time_limit_s = 0;
  vc__http_out_init(&req);
  CHECK_OK(EX->build_call(st, &c, &req));
  CHECK(strstr(req.body.ptr, "Record=") == NULL);
  CHECK(strstr(req.body.ptr, "TimeOut=") == NULL);
  CHECK(strstr(req.body.ptr, "TimeLimit=") == NULL);
  CHECK(strncmp(req.body.ptr, "From=%2B919876543210&To=%2B919812345678&"
                "CallerId=08047112345&CustomField=", 72) == 0);
  vc__http_out_reset(&req);
  EX->fini(st);

  /* The Mumbai cluster, and a loopback base URL (the simulator). */
  st = state_new("{\"account_sid\": \"acme\", \"subdomain\": "
                 "\"api.in.exotel.com\"}", CREDS);
  vc__http_out_init(&req);
  CHECK_OK(EX->build_call(st, &c, &req));
  CHECK_STR(req.url, "https://api.in.exotel.com/v1/Accounts/acme/Calls/"
            "connect.json");
  vc__http_out_reset(&req);
  EX->fini(st);
  st = state_new("{\"account_sid\": \"acme\", \"base_url\": "
                 "\"http://127.0.0.1:9/x/\"}", CREDS);
  vc__http_out_init(&req);
  CHECK_OK(EX->build_call(st, &c, &req));
  CHECK_STR(req.url, "http://127.0.0.1:9/x/v1/Accounts/acme/Calls/"
            "connect.json");
  vc__http_out_reset(&req);
  EX->fini(st);
}

static void test_exotel__build_refused(void)
{
  static const struct {
    const char *agent, *customer, *caller_id, *hook;
    int limit;
    const char *needle;
  } cases[] = {
    { "sip:agent@pbx.example.com", "+919812345678", "080", HOOK_URL "?a=1",
      0, "only E.164" },
    { "+919876543210", "09812345678", "080", HOOK_URL "?a=1", 0,
      "customer's number is not E.164" },
    { "+919876543210", "+919812345678", NULL, HOOK_URL "?a=1", 0,
      "needs a caller id" },
    { "+919876543210", "+919812345678", "08 04", HOOK_URL "?a=1", 0,
      "caller id is not a phone number" },
    { "+919876543210", "+919812345678", "080", NULL, 0,
      "public_base_url" },
    { "+919876543210", "+919812345678", "080", "ftp://x?a=1", 0,
      "not an http(s) URL" },
    { "+919876543210", "+919812345678", "080", HOOK_URL "?a=1", 14401,
      "time limit" },
  };
  void *st = state_new(CONFIG, CREDS);

  for (size_t i = 0; i < VC_ARRAY_SIZE(cases); i++) {
    vc_call_outbound c = outbound();
    vc_http_out req;
    int rc;

    c.agent = cases[i].agent;
    c.customer = cases[i].customer;
    c.caller_id = cases[i].caller_id;
    c.webhook_url = cases[i].hook;
    c.time_limit_s = cases[i].limit;
    vc__http_out_init(&req);
    rc = EX->build_call(st, &c, &req);
    if (rc != VC_EINVALID ||
        strstr(vc_error_last()->message, cases[i].needle) == NULL)
      fprintf(stderr, "  case %zu: %d %s\n", i, rc,
              vc_error_last()->message);
    CHECK(rc == VC_EINVALID);
    CHECK(strstr(vc_error_last()->message, cases[i].needle) != NULL);
    check_clean_error();
    vc__http_out_reset(&req);
  }
  EX->fini(st);
}

/* ------------------------------------------------------------------ */
/* parse_call                                                          */

static vc_send_result parse(void *st, int status, const char *body,
                            const char *retry_after)
{
  vc_http_response res = VC_HTTP_RESPONSE_INIT;
  vc_http_header h = { "Retry-After", retry_after };
  vc_call_outbound c = outbound();
  vc_send_result r;

  res.status = status;
  res.content_type = "application/json";
  res.body.ptr = (char *)body;
  res.body.size = body ? strlen(body) : 0;
  if (retry_after != NULL) {
    res.headers = &h;
    res.nheaders = 1;
  }
  memset(&r, 0, sizeof(r));
  r.version = VC_SEND_RESULT_VERSION;
  CHECK_OK(EX->parse_call(st, &c, &res, &r));
  return r;
}

#define REST(st, msg) "{\"RestException\": {\"Status\": " #st ", \"Code\": " \
  #st ", \"Message\": \"" msg "\"}}"

static void test_exotel__parse_call(void)
{
  void *st = state_new(CONFIG, CREDS);
  vc_send_result r;

  r = parse(st, 200, "{\"Call\": {\"Sid\": \"" SID "\", \"Status\": "
            "\"queued\", \"Price\": null}}", NULL);
  CHECK(r.outcome == VC_SEND_ACCEPTED);
  CHECK_STR(r.provider_id, SID);
  CHECK(r.error == 0);

  /* 2xx without a Sid, or not JSON: it may not have been placed */
  r = parse(st, 200, "{\"Call\": {}}", NULL);
  CHECK(r.outcome == VC_SEND_RETRY && r.error == VC_EPROVIDER);
  CHECK(r.provider_id[0] == '\0');
  r = parse(st, 200, "<TwilioResponse><Call/></TwilioResponse>", NULL);
  CHECK(r.outcome == VC_SEND_RETRY && r.error == VC_EPROVIDER);
  r = parse(st, 200, "{\"Call\": {\"Sid\": \"a b\"}}", NULL);
  CHECK(r.outcome == VC_SEND_RETRY);

  /* this call's numbers or caller id: rejected */
  r = parse(st, 400, REST(400, "Invalid phone number: 98765"), NULL);
  CHECK(r.outcome == VC_SEND_REJECTED && r.error == VC_EINVALID);
  CHECK_STR(r.provider_code, "400");
  CHECK_STR(r.error_message, "Invalid phone number: 98765");
  r = parse(st, 400, REST(400, "CallerId 0800 is not an ExoPhone of this "
                          "account"), NULL);
  CHECK(r.outcome == VC_SEND_REJECTED);
  r = parse(st, 400, REST(400, "TimeLimit must be between 1 and 14400"),
            NULL);
  CHECK(r.outcome == VC_SEND_REJECTED);
  /* the account: the next channel */
  r = parse(st, 400, REST(400, "Your account is suspended"), NULL);
  CHECK(r.outcome == VC_SEND_FAILOVER && r.error == VC_EPROVIDER);
  r = parse(st, 400, REST(400, "Insufficient balance"), NULL);
  CHECK(r.outcome == VC_SEND_FAILOVER);
  r = parse(st, 401, REST(401, "Authentication is required to view this "
                          "page."), NULL);
  CHECK(r.outcome == VC_SEND_FAILOVER && r.error == VC_EAUTH);
  CHECK_STR(r.error_message, "Authentication is required to view this "
            "page.");
  r = parse(st, 403, NULL, NULL);
  CHECK(r.outcome == VC_SEND_FAILOVER && r.error == VC_EAUTH);
  CHECK_STR(r.error_message, "HTTP 403 from Exotel");
  r = parse(st, 404, REST(404, "Resource not found"), NULL);
  CHECK(r.outcome == VC_SEND_FAILOVER);
  r = parse(st, 402, "{\"RestException\": {\"Code\": \"E402\"}}", NULL);
  CHECK(r.outcome == VC_SEND_FAILOVER);
  CHECK_STR(r.provider_code, "E402");
  /* transient */
  r = parse(st, 429, REST(429, "Too Many Requests"), "30");
  CHECK(r.outcome == VC_SEND_RETRY && r.error == VC_ERATELIMIT);
  CHECK(r.retry_after_ms == 30000);
  r = parse(st, 429, NULL, "999999999");
  CHECK(r.retry_after_ms == INT64_C(86400000));   /* capped at a day */
  r = parse(st, 429, NULL, "soon");
  CHECK(r.outcome == VC_SEND_RETRY && r.retry_after_ms == 0);
  r = parse(st, 500, REST(500, "Internal Server Error"), NULL);
  CHECK(r.outcome == VC_SEND_RETRY && r.error == VC_EPROVIDER);
  r = parse(st, 503, "<html>down</html>", "5");
  CHECK(r.outcome == VC_SEND_RETRY && r.retry_after_ms == 5000);
  r = parse(st, 408, NULL, NULL);
  CHECK(r.outcome == VC_SEND_RETRY);
  /* an error message is one clean line */
  r = parse(st, 400, REST(400, "bad\\nnumber"), NULL);
  CHECK(strchr(r.error_message, '\n') == NULL);
  EX->fini(st);
}

/* ------------------------------------------------------------------ */
/* verify_webhook                                                      */

static void test_exotel__token(void)
{
  void *st = state_new(CONFIG, CREDS);
  char t[512];

  CHECK_OK(vs_verify(EX, st, TARGET));
  /* the parameters in another order */
  CHECK_OK(vs_verify(EX, st, "/webhooks/c?vc_token=" TOKEN
                     "&vc_step=status&vc_call=" CALL_ID));
  /* tampered: one digit changed, upper case, cut short, longer */
  snprintf(t, sizeof(t), "%s", TARGET);
  t[strlen(t) - 1] = t[strlen(t) - 1] == '9' ? '8' : '9';
  CHECK(vs_verify(EX, st, t) == VC_EAUTH);
  CHECK(vs_verify(EX, st, "/w?vc_call=" CALL_ID "&vc_token="
                  "D758607F6614A25AD9865A734B2ECF4B9EF249B6EB5BFE1766B13AF1"
                  "69451139") == VC_EAUTH);
  CHECK(vs_verify(EX, st, "/w?vc_call=" CALL_ID "&vc_token=d758607f")
        == VC_EAUTH);
  CHECK(vs_verify(EX, st, "/w?vc_call=" CALL_ID "&vc_token=" TOKEN "00")
        == VC_EAUTH);
  CHECK(strstr(vc_error_last()->message, "does not verify") != NULL);
  check_clean_error();
  /* missing */
  CHECK(vs_verify(EX, st, "/w?vc_call=" CALL_ID "&vc_step=status")
        == VC_EAUTH);
  CHECK(strstr(vc_error_last()->message, "no vc_token") != NULL);
  CHECK(vs_verify(EX, st, "/w?vc_token=" TOKEN) == VC_EAUTH);
  CHECK(vs_verify(EX, st, "/w") == VC_EAUTH);
  CHECK(vs_verify(EX, st, "/w?vc_call=&vc_token=" TOKEN) == VC_EAUTH);
  /* another call's token, and a call id given twice */
  CHECK(vs_verify(EX, st, "/w?vc_call=" CALL_ID "&vc_token=" OTHER_TOKEN)
        == VC_EAUTH);
  CHECK_OK(vs_verify(EX, st, "/w?vc_call=" OTHER_ID "&vc_token="
                     OTHER_TOKEN));
  CHECK(vs_verify(EX, st, "/w?vc_call=" CALL_ID "&vc_token=" TOKEN
                  "&vc_call=" OTHER_ID) == VC_EAUTH);
  CHECK(vs_verify(EX, st, "/w?vc_call=" CALL_ID "&vc_token=" TOKEN
                  "&vc_token=" TOKEN) == VC_EAUTH);
  CHECK(vs_verify(EX, st, "/w?vc_call=" CALL_ID "%00&vc_token=" TOKEN)
        == VC_EAUTH);
  EX->fini(st);

  /* another channel's secret */
  st = state_new(CONFIG, "{\"api_key\": \"k\", \"api_token\": \"t\", "
                 "\"webhook_secret\": \"another-secret-0123456789abcdefgh\"}");
  CHECK(vs_verify(EX, st, TARGET) == VC_EAUTH);
  EX->fini(st);
}

/* ------------------------------------------------------------------ */
/* parse_webhook                                                       */

static void test_exotel__answered(void)
{
  void *st = state_new(CONFIG, CREDS);
  vs_seen s;

  CHECK_OK(vs_parse(EX, st, &s, TARGET, "application/json",
    "{\"CallSid\": \"" SID "\", \"Status\": \"in-progress\", "
    "\"RecordingUrl\": null, \"DateUpdated\": \"2024-01-15 14:30:20\", "
    "\"EventType\": \"answered\", \"DateCreated\": \"2024-01-15 14:30:00\", "
    "\"To\": \"+919812345678\", \"From\": \"+919876543210\", "
    "\"StartTime\": \"2024-01-15 14:30:00\", \"EndTime\": null, "
    "\"ConversationDuration\": \"0\", \"CustomField\": \"" CALL_ID "\", "
    "\"Legs\": [{\"OnCallDuration\": 5, \"Status\": \"in-progress\", "
    "\"AnsweredBy\": null}, {\"OnCallDuration\": 0, \"Status\": "
    "\"in-progress\", \"AnsweredBy\": null}]}"));
  CHECK(s.n == 4);
  VS_CHECK(&s, 0, VC_UPDATE_RINGING, VC_LEG_AGENT, T_1430_00, 0, 0);
  VS_CHECK(&s, 1, VC_UPDATE_ANSWERED, VC_LEG_AGENT, T_1430_15, 0, 0);
  VS_CHECK(&s, 2, VC_UPDATE_RINGING, VC_LEG_CUSTOMER, T_1430_15, 0, 0);
  VS_CHECK(&s, 3, VC_UPDATE_ANSWERED, VC_LEG_CUSTOMER, T_1430_20, 0, 0);
  CHECK_STR(s.u[0].event_id, SID ":agent:ringing");
  CHECK_STR(s.u[1].event_id, SID ":agent:answered");
  CHECK_STR(s.u[2].event_id, SID ":customer:ringing");
  CHECK_STR(s.u[3].event_id, SID ":customer:answered");
  for (int i = 0; i < s.n; i++)
    CHECK_STR(s.u[i].provider_call_id, SID);

  /* The agent answered, the customer still rings. */
  CHECK_OK(vs_parse(EX, st, &s, TARGET, "application/json",
    "{\"CallSid\": \"" SID "\", \"Status\": \"in-progress\", "
    "\"DateUpdated\": \"2024-01-15 14:30:20\", \"EventType\": \"answered\", "
    "\"StartTime\": \"2024-01-15 14:30:00\", \"Legs\": ["
    "{\"OnCallDuration\": 5, \"Status\": \"in-progress\"}, "
    "{\"OnCallDuration\": 0, \"Status\": \"ringing\"}]}"));
  CHECK(s.n == 3);
  VS_CHECK(&s, 1, VC_UPDATE_ANSWERED, VC_LEG_AGENT, T_1430_15, 0, 0);
  VS_CHECK(&s, 2, VC_UPDATE_RINGING, VC_LEG_CUSTOMER, T_1430_15, 0, 0);

  /* Without Legs: both answered at DateUpdated. */
  CHECK_OK(vs_parse(EX, st, &s, TARGET, "application/json",
    "{\"CallSid\": \"" SID "\", \"Status\": \"in-progress\", "
    "\"DateUpdated\": \"2024-01-15 14:30:20\", \"EventType\": "
    "\"answered\"}"));
  CHECK(s.n == 3);
  VS_CHECK(&s, 0, VC_UPDATE_ANSWERED, VC_LEG_AGENT, T_1430_20, 0, 0);
  VS_CHECK(&s, 2, VC_UPDATE_ANSWERED, VC_LEG_CUSTOMER, T_1430_20, 0, 0);

  /* No DateUpdated nor StartTime: the answers' times are unknown (0),
   * not OnCallDuration before 1970, which the sink refused after the
   * first two updates had gone (found by fuzzing). */
  CHECK_OK(vs_parse(EX, st, &s, TARGET, "application/json",
    "{\"CallSid\": \"" SID "\", \"Status\": \"in-progress\", "
    "\"EventType\": \"answered\", \"Legs\": ["
    "{\"Status\": \"in-progress\"}, "
    "{\"OnCallDuration\": 5, \"Status\": \"in-progress\"}]}"));
  CHECK(s.n == 3);
  VS_CHECK(&s, 0, VC_UPDATE_ANSWERED, VC_LEG_AGENT, 0, 0, 0);
  VS_CHECK(&s, 1, VC_UPDATE_RINGING, VC_LEG_CUSTOMER, 0, 0, 0);
  VS_CHECK(&s, 2, VC_UPDATE_ANSWERED, VC_LEG_CUSTOMER, 0, 0, 0);

  /* An EventType we do not know: nothing, and no error. */
  CHECK_OK(vs_parse(EX, st, &s, TARGET, "application/json",
    "{\"CallSid\": \"" SID "\", \"Status\": \"ringing\", \"EventType\": "
    "\"ringing\"}"));
  CHECK(s.n == 0);
  EX->fini(st);
}

static void test_exotel__terminal_json(void)
{
  void *st = state_new(CONFIG, CREDS);
  vs_seen s;

  CHECK_OK(vs_parse(EX, st, &s, TARGET, "application/json; charset=utf-8",
    "{\"CallSid\": \"" SID "\", \"Status\": \"completed\", "
    "\"RecordingUrl\": \"https://s3.example.com/rec/" SID ".mp3\", "
    "\"DateUpdated\": \"2024-01-15 14:31:10\", \"EventType\": \"terminal\", "
    "\"StartTime\": \"2024-01-15 14:30:00\", "
    "\"EndTime\": \"2024-01-15 14:31:10\", \"ConversationDuration\": 40, "
    "\"Direction\": \"outbound-api\", \"Legs\": ["
    "{\"OnCallDuration\": 55, \"Status\": \"completed\", "
    "\"AnsweredBy\": \"human\"}, {\"OnCallDuration\": 40, \"Status\": "
    "\"completed\", \"AnsweredBy\": \"human\"}]}"));
  CHECK(s.n == 6);
  VS_CHECK(&s, 0, VC_UPDATE_RINGING, VC_LEG_AGENT, T_1430_00, 0, 0);
  VS_CHECK(&s, 1, VC_UPDATE_ANSWERED, VC_LEG_AGENT, T_1430_15, 0, 0);
  VS_CHECK(&s, 2, VC_UPDATE_RINGING, VC_LEG_CUSTOMER, T_1430_15, 0, 0);
  VS_CHECK(&s, 3, VC_UPDATE_ANSWERED, VC_LEG_CUSTOMER, T_1430_30, 0, 0);
  VS_CHECK(&s, 4, VC_UPDATE_ENDED, VC_LEG_NONE, T_1431_10, VC_CAUSE_NORMAL,
           40);
  CHECK_STR(s.u[4].code, "completed");
  CHECK_STR(s.u[4].event_id, SID ":ended");
  VS_CHECK(&s, 5, VC_UPDATE_RECORDING, VC_LEG_NONE, T_1431_10, 0, 0);
  CHECK(s.u[5].recording_status == VC_RECORDING_AVAILABLE);
  CHECK(s.u[5].recording_duration_s == 40);
  CHECK_STR(s.u[5].url, "https://s3.example.com/rec/" SID ".mp3");
  CHECK_STR(s.u[5].event_id, SID ":recording");

  /* The agent was busy: it rang, the call ended busy; Legs[1] ignored. */
  CHECK_OK(vs_parse(EX, st, &s, TARGET, "application/json",
    "{\"CallSid\": \"" SID "\", \"Status\": \"busy\", \"RecordingUrl\": "
    "null, \"DateUpdated\": \"2024-01-15 14:30:20\", \"EventType\": "
    "\"terminal\", \"StartTime\": \"2024-01-15 14:30:00\", "
    "\"EndTime\": \"2024-01-15 14:30:20\", \"ConversationDuration\": \"0\", "
    "\"Legs\": [{\"OnCallDuration\": 0, \"Status\": \"busy\"}, "
    "{\"OnCallDuration\": 0, \"Status\": \"no-answer\"}]}"));
  CHECK(s.n == 2);
  VS_CHECK(&s, 0, VC_UPDATE_RINGING, VC_LEG_AGENT, T_1430_00, 0, 0);
  VS_CHECK(&s, 1, VC_UPDATE_ENDED, VC_LEG_AGENT, T_1430_20, VC_CAUSE_BUSY, 0);
  CHECK_STR(s.u[1].code, "busy");

  /* The agent's number failed: it never rang. */
  CHECK_OK(vs_parse(EX, st, &s, TARGET, "application/json",
    "{\"CallSid\": \"" SID "\", \"Status\": \"failed\", \"EventType\": "
    "\"terminal\", \"StartTime\": \"2024-01-15 14:30:00\", "
    "\"EndTime\": \"2024-01-15 14:30:00\", \"Legs\": ["
    "{\"Status\": \"failed\"}, {\"Status\": \"no-answer\"}]}"));
  CHECK(s.n == 1);
  VS_CHECK(&s, 0, VC_UPDATE_ENDED, VC_LEG_AGENT, T_1430_00,
           VC_CAUSE_UNREACHABLE, 0);

  /* The customer was busy after the agent answered. */
  CHECK_OK(vs_parse(EX, st, &s, TARGET, "application/json",
    "{\"CallSid\": \"" SID "\", \"Status\": \"busy\", \"EventType\": "
    "\"terminal\", \"StartTime\": \"2024-01-15 14:30:00\", "
    "\"EndTime\": \"2024-01-15 14:30:40\", \"ConversationDuration\": 0, "
    "\"Legs\": [{\"OnCallDuration\": 25, \"Status\": \"completed\"}, "
    "{\"OnCallDuration\": 0, \"Status\": \"busy\"}]}"));
  CHECK(s.n == 4);
  VS_CHECK(&s, 1, VC_UPDATE_ANSWERED, VC_LEG_AGENT, T_1430_15, 0, 0);
  VS_CHECK(&s, 2, VC_UPDATE_RINGING, VC_LEG_CUSTOMER, T_1430_15, 0, 0);
  VS_CHECK(&s, 3, VC_UPDATE_ENDED, VC_LEG_CUSTOMER, T_1430_40, VC_CAUSE_BUSY, 0);

  /* No times at all: every update at an unknown time (0), none before
   * 1970; the talk time is still the end's duration. */
  CHECK_OK(vs_parse(EX, st, &s, TARGET, "application/json",
    "{\"CallSid\": \"" SID "\", \"Status\": \"completed\", "
    "\"EventType\": \"terminal\", \"ConversationDuration\": 30, "
    "\"Legs\": [{\"OnCallDuration\": 45, \"Status\": \"completed\"}, "
    "{\"OnCallDuration\": 30, \"Status\": \"completed\"}]}"));
  CHECK(s.n == 4);
  VS_CHECK(&s, 0, VC_UPDATE_ANSWERED, VC_LEG_AGENT, 0, 0, 0);
  VS_CHECK(&s, 2, VC_UPDATE_ANSWERED, VC_LEG_CUSTOMER, 0, 0, 0);
  VS_CHECK(&s, 3, VC_UPDATE_ENDED, VC_LEG_NONE, 0, VC_CAUSE_NORMAL, 30);
  EX->fini(st);
}

/* Exotel's default: multipart/form-data, Legs as Legs[0][Status]. */
static void test_exotel__terminal_multipart(void)
{
  static const char body[] =
    "--XyZ\r\nContent-Disposition: form-data; name=\"CallSid\"\r\n\r\n"
    SID "\r\n"
    "--XyZ\r\nContent-Disposition: form-data; name=\"Status\"\r\n\r\n"
    "no-answer\r\n"
    "--XyZ\r\nContent-Disposition: form-data; name=\"RecordingUrl\"\r\n\r\n"
    "\r\n"
    "--XyZ\r\nContent-Disposition: form-data; name=\"DateUpdated\"\r\n\r\n"
    "2024-01-15 14:30:40\r\n"
    "--XyZ\r\nContent-Disposition: form-data; name=\"EventType\"\r\n\r\n"
    "terminal\r\n"
    "--XyZ\r\nContent-Disposition: form-data; name=\"StartTime\"\r\n\r\n"
    "2024-01-15 14:30:00\r\n"
    "--XyZ\r\nContent-Disposition: form-data; name=\"EndTime\"\r\n\r\n"
    "2024-01-15 14:30:40\r\n"
    "--XyZ\r\nContent-Disposition: form-data; "
    "name=\"ConversationDuration\"\r\n\r\n0\r\n"
    "--XyZ\r\nContent-Disposition: form-data; "
    "name=\"Legs[0][OnCallDuration]\"\r\n\r\n25\r\n"
    "--XyZ\r\nContent-Disposition: form-data; name=\"Legs[0][Status]\"\r\n"
    "\r\ncompleted\r\n"
    "--XyZ\r\nContent-Disposition: form-data; "
    "name=\"Legs[1][OnCallDuration]\"\r\n\r\n0\r\n"
    "--XyZ\r\nContent-Disposition: form-data; name=\"Legs[1][Status]\"\r\n"
    "\r\nno-answer\r\n"
    "--XyZ--\r\n";
  void *st = state_new(CONFIG, CREDS);
  vs_seen s;

  CHECK_OK(vs_parse(EX, st, &s, TARGET, "multipart/form-data; boundary=XyZ",
                    body));
  CHECK(s.n == 4);
  VS_CHECK(&s, 0, VC_UPDATE_RINGING, VC_LEG_AGENT, T_1430_00, 0, 0);
  VS_CHECK(&s, 1, VC_UPDATE_ANSWERED, VC_LEG_AGENT, T_1430_15, 0, 0);
  VS_CHECK(&s, 2, VC_UPDATE_RINGING, VC_LEG_CUSTOMER, T_1430_15, 0, 0);
  VS_CHECK(&s, 3, VC_UPDATE_ENDED, VC_LEG_CUSTOMER, T_1430_40,
           VC_CAUSE_NO_ANSWER, 0);
  CHECK_STR(s.u[3].code, "no-answer");

  /* The four fields of a callback without events: the end alone. */
  CHECK_OK(vs_parse(EX, st, &s, TARGET, "multipart/form-data; boundary=b",
    "--b\r\nContent-Disposition: form-data; name=\"CallSid\"\r\n\r\n" SID
    "\r\n--b\r\nContent-Disposition: form-data; name=\"Status\"\r\n\r\n"
    "failed\r\n--b\r\nContent-Disposition: form-data; name=\"DateUpdated\""
    "\r\n\r\n2024-01-15 14:30:20\r\n--b\r\nContent-Disposition: form-data; "
    "name=\"RecordingUrl\"\r\n\r\n\r\n--b--\r\n"));
  CHECK(s.n == 1);
  VS_CHECK(&s, 0, VC_UPDATE_ENDED, VC_LEG_NONE, T_1430_20,
           VC_CAUSE_UNREACHABLE, 0);

  /* A url-encoded form, and times read in another zone. */
  EX->fini(st);
  st = state_new("{\"account_sid\": \"a\", \"timezone\": \"UTC\"}", CREDS);
  CHECK_OK(vs_parse(EX, st, &s, TARGET, "application/x-www-form-urlencoded",
    "CallSid=" SID "&Status=completed&DateUpdated=2024-01-15+14%3A30%3A00"
    "&RecordingUrl=&ConversationDuration=0"));
  CHECK(s.n == 4);
  VS_CHECK(&s, 3, VC_UPDATE_ENDED, VC_LEG_NONE, T_1430_00_UTC,
           VC_CAUSE_NORMAL, 0);
  EX->fini(st);
}

static void test_exotel__bad_callbacks(void)
{
  static const struct {
    const char *target, *ctype, *body;
    int rc;
    const char *needle;
  } cases[] = {
    { "/w?vc_call=" CALL_ID, "application/json", "{\"CallSid\": \"" SID
      "\", \"Status\": \"busy\"}", VC_EINVALID, "vc_step=status" },
    { "/w?vc_call=" CALL_ID "&vc_step=agent", "application/json",
      "{\"CallSid\": \"" SID "\", \"Status\": \"busy\"}", VC_EINVALID,
      "vc_step=status" },
    { TARGET, "application/json", "{\"Status\": \"busy\"}", VC_EINVALID,
      "CallSid" },
    { TARGET, "application/json", "{\"CallSid\": \"a/b\", \"Status\": "
      "\"busy\"}", VC_EINVALID, "CallSid" },
    { TARGET, "application/json", "{\"CallSid\": \"" SID "\"}", VC_EINVALID,
      "no Status" },
    { TARGET, "application/json", "{\"CallSid\": \"" SID "\", \"Status\": "
      "\"busy\", \"EndTime\": \"2024-01-15T14:30:00Z\"}", VC_EINVALID,
      "EndTime is not" },
    { TARGET, "application/json", "{\"CallSid\": \"" SID "\", \"Status\": "
      "\"busy\", \"DateUpdated\": \"2024-02-30 10:00:00\"}", VC_EINVALID,
      "DateUpdated is not" },
    { TARGET, "application/json", "{\"CallSid\": \"" SID "\", \"Status\": "
      "\"busy\", \"ConversationDuration\": -1}", VC_EINVALID,
      "ConversationDuration is not" },
    { TARGET, "application/json", "{\"CallSid\": \"" SID "\", \"Status\": "
      "\"busy\", \"ConversationDuration\": 86401}", VC_EINVALID,
      "up to a day" },
    /* A talk time the sink refuses: refused before the leg events went
     * (found by fuzzing). */
    { TARGET, "application/json", "{\"CallSid\": \"" SID "\", \"Status\": "
      "\"completed\", \"ConversationDuration\": 28801}", VC_EINVALID,
      "longer than a call can last" },
    { TARGET, "application/json", "{\"CallSid\": \"" SID "\", \"Status\": "
      "\"busy\", \"StartTime\": \"2024-01-15 14:30:01\", \"EndTime\": "
      "\"2024-01-15 14:30:00\"}", VC_EINVALID, "StartTime is after" },
    { TARGET, "application/json", "{\"CallSid\": \"" SID "\", \"Status\": "
      "\"busy\", \"Legs\": [{\"OnCallDuration\": \"1e3\"}]}", VC_EINVALID,
      "OnCallDuration" },
    /* A number no integer holds: refused, without the undefined cast
     * of reading it (found by fuzzing). */
    { TARGET, "application/json", "{\"CallSid\": \"" SID "\", \"Status\": "
      "\"busy\", \"Legs\": [{\"OnCallDuration\": 518446744073709551616}]}",
      VC_EINVALID, "OnCallDuration" },
    { TARGET, "application/json", "{\"CallSid\": \"" SID "\", \"Status\": "
      "\"completed\", \"RecordingUrl\": \"javascript:x\"}", VC_EINVALID,
      "RecordingUrl" },
    /* The sink takes a lowercase scheme only: refused before the end
     * went (found by fuzzing). */
    { TARGET, "application/json", "{\"CallSid\": \"" SID "\", \"Status\": "
      "\"completed\", \"RecordingUrl\": \"httPs://s3.example.com/r.mp3\"}",
      VC_EINVALID, "RecordingUrl" },
    { TARGET, "application/json", "{\"CallSid\": \"" SID "\", \"CallSid\": "
      "\"" SID "\", \"Status\": \"busy\"}", VC_EINVALID, "twice" },
    { TARGET, "application/x-www-form-urlencoded", "CallSid=" SID
      "&Status=busy&Status=completed", VC_EINVALID, "twice" },
    { TARGET, "application/x-www-form-urlencoded", "CallSid=" SID
      "%00&Status=busy", VC_EINVALID, "NUL" },
    { TARGET, "application/json", "[1, 2]", VC_EINVALID, "" },
    { TARGET, "application/json", "{\"CallSid\": ", VC_EINVALID, "" },
    { TARGET, "text/plain", "CallSid=" SID, VC_EINVALID, "neither" },
    { TARGET, "application/json", "", VC_EINVALID, "no body" },
    { TARGET, "multipart/form-data; boundary=b", "--b\r\nContent-"
      "Disposition: form-data; name=\"f\"; filename=\"x\"\r\n\r\nx\r\n"
      "--b--\r\n", VC_EINVALID, "no files" },
  };
  void *st = state_new(CONFIG, CREDS);
  vs_seen s;

  for (size_t i = 0; i < VC_ARRAY_SIZE(cases); i++) {
    int rc = vs_parse(EX, st, &s, cases[i].target, cases[i].ctype,
                      cases[i].body);
    if (rc != cases[i].rc ||
        strstr(vc_error_last()->message, cases[i].needle) == NULL)
      fprintf(stderr, "  case %zu: %d %s\n", i, rc,
              vc_error_last()->message);
    CHECK(rc == cases[i].rc);
    CHECK(strstr(vc_error_last()->message, cases[i].needle) != NULL);
    CHECK(s.n == 0);
    check_clean_error();
  }
  EX->fini(st);
}

/* The bounds: 64 KB of body, 200 fields, 4 levels of JSON. */
static void test_exotel__bounds(void)
{
  void *st = state_new(CONFIG, CREDS);
  vc_buf b = VC_BUF_INIT;
  vs_seen s;

  CHECK_OK(vc__buf_printf(&b, "{\"CallSid\": \"" SID "\", \"Status\": "
                          "\"busy\", \"Pad\": \""));
  while (b.size < 64 * 1024)
    CHECK_OK(vc__buf_puts(&b, "xxxxxxxxxxxxxxxx"));
  CHECK_OK(vc__buf_puts(&b, "\"}"));
  CHECK(vs_parse(EX, st, &s, TARGET, "application/json", b.ptr)
        == VC_ETOOBIG);
  b.size = 0;
  CHECK_OK(vc__buf_printf(&b, "CallSid=" SID "&Status=busy"));
  for (int i = 0; i < 200; i++)
    CHECK_OK(vc__buf_printf(&b, "&f%d=1", i));
  CHECK(vs_parse(EX, st, &s, TARGET, "application/x-www-form-urlencoded",
                 b.ptr) == VC_ETOOBIG);
  b.size = 0;
  CHECK_OK(vc__buf_printf(&b, "{\"CallSid\": \"" SID "\", \"Status\": "
                          "\"busy\""));
  for (int i = 0; i < 190; i++)
    CHECK_OK(vc__buf_printf(&b, ", \"f%d\": 1", i));
  CHECK_OK(vc__buf_puts(&b, "}"));
  CHECK_OK(vs_parse(EX, st, &s, TARGET, "application/json", b.ptr));
  CHECK(s.n == 1);
  CHECK(vs_parse(EX, st, &s, TARGET, "application/json",
                 "{\"CallSid\": \"" SID "\", \"Status\": \"busy\", "
                 "\"a\": {\"b\": {\"c\": {\"d\": {\"e\": 1}}}}}")
        == VC_ETOOBIG);
  vc_buf_dispose(&b);
  EX->fini(st);
}

/* ------------------------------------------------------------------ */
/* the price of a call                                                  */

static vc_call_control price_control(void)
{
  vc_call_control c;

  memset(&c, 0, sizeof(c));
  c.version = VC_CALL_CONTROL_VERSION;
  c.op = VC_CALL_OP_FETCH_PRICE;
  c.call_id = CALL_ID;
  c.provider_call_id = SID;
  c.webhook_url = HOOK_URL "?vc_call=" CALL_ID;
  return c;
}

static int price_build(void *st, const vc_call_control *c, vc_http_out *req)
{
  int rc;

  vc__http_out_init(req);
  rc = EX->build_control(st, c, req);
  if (rc != 0)
    CHECK(req->url == NULL && req->body.size == 0);
  return rc;
}

/* The call details answer with `price` (raw JSON) and `status`. */
static vc_send_result price_parse(void *st, int code, const char *sid,
                                  const char *status, const char *price)
{
  vc_http_response res = VC_HTTP_RESPONSE_INIT;
  vc_call_control c = price_control();
  vc_send_result r;
  char body[512];

  if (sid != NULL)
    snprintf(body, sizeof(body), "{\"Call\": {\"Sid\": \"%s\", "
             "\"ParentCallSid\": null, \"Status\": \"%s\", \"Duration\": "
             "\"17\", \"Price\": %s, \"Direction\": \"outbound-api\"}}",
             sid, status, price);
  else
    snprintf(body, sizeof(body), "%s", price);
  res.status = code;
  res.content_type = "application/json";
  res.body.ptr = body;
  res.body.size = strlen(body);
  memset(&r, 0, sizeof(r));
  r.version = VC_SEND_RESULT_VERSION;
  CHECK_OK(EX->parse_control(st, &c, &res, &r));
  return r;
}

static void test_exotel__fetch_price(void)
{
  void *st = state_new(CONFIG, CREDS);
  void *usd = state_new("{\"account_sid\": \"vyomsim1\", \"subdomain\": "
                        "\"api.in.exotel.com\", \"currency\": \"USD\"}",
                        CREDS);
  vc_call_control c = price_control();
  vc_send_result r;
  vc_http_out req;

  /* the exact request: a GET of the call's details, as JSON */
  CHECK_OK(price_build(st, &c, &req));
  CHECK_STR(req.method, "GET");
  CHECK_STR(req.url, "https://api.exotel.com/v1/Accounts/vyomsim1/Calls/"
            SID ".json");
  CHECK_STR(vc__http_out_header(&req, "Authorization"),
            "Basic MGExYjJjM2Q0ZTVmNjA3MTgyOTNhNGI1YzZkN2U4ZjlhMGIxYzJkM2U0Zj"
            "UwNjE3OmYxZTJkM2M0YjVhNjk3ODg3NzY2NTU0NDMzMjIxMTAwZmZlZWRkY2NiYm"
            "FhOTk4OA==");
  CHECK_STR(vc__http_out_header(&req, "Accept"), "application/json");
  CHECK(req.body.size == 0);
  vc__http_out_reset(&req);
  CHECK_OK(price_build(usd, &c, &req));
  CHECK_STR(req.url, "https://api.in.exotel.com/v1/Accounts/vyomsim1/Calls/"
            SID ".json");
  vc__http_out_reset(&req);
  /* refusals: no or a bad CallSid, any other operation, a version */
  c.provider_call_id = NULL;
  CHECK_RC(price_build(st, &c, &req), VC_EINVALID);
  vc__http_out_reset(&req);
  c.provider_call_id = "../connect";
  CHECK_RC(price_build(st, &c, &req), VC_EINVALID);
  vc__http_out_reset(&req);
  c = price_control();
  for (int op = VC_CALL_OP_HANGUP; op <= VC_CALL_OP_DELETE_RECORDING; op++) {
    c.op = op;
    CHECK_RC(price_build(st, &c, &req), VC_ENOTSUPPORTED);
    vc__http_out_reset(&req);
  }
  c = price_control();
  c.version = 9;
  CHECK_RC(price_build(st, &c, &req), VC_EVERSION);
  vc__http_out_reset(&req);

  /* "1.500" of the account's currency (INR by default) */
  r = price_parse(st, 200, SID, "completed", "\"1.500\"");
  CHECK(r.outcome == VC_SEND_ACCEPTED && r.cost_micros == 1500000);
  CHECK_STR(r.currency, "INR");
  CHECK_STR(r.provider_id, SID);
  r = price_parse(usd, 200, SID, "completed", "\"0.0123456\"");
  CHECK(r.outcome == VC_SEND_ACCEPTED && r.cost_micros == 12346);
  CHECK_STR(r.currency, "USD");
  r = price_parse(st, 200, SID, "completed", "\"999999999.999999\"");
  CHECK(r.outcome == VC_SEND_ACCEPTED &&
        r.cost_micros == INT64_C(999999999999999));
  /* a call that never talked may cost nothing */
  r = price_parse(st, 200, SID, "no-answer", "\"0\"");
  CHECK(r.outcome == VC_SEND_ACCEPTED && r.cost_micros == 0);
  r = price_parse(st, 200, SID, "busy", "\"0.000\"");
  CHECK(r.outcome == VC_SEND_ACCEPTED && r.cost_micros == 0);
  /* not priced yet: null, empty, or zero for a call that talked */
  r = price_parse(st, 200, SID, "completed", "null");
  CHECK(r.outcome == VC_SEND_RETRY && r.error == 0 &&
        r.retry_after_ms == 120000);
  r = price_parse(st, 200, SID, "completed", "\"\"");
  CHECK(r.outcome == VC_SEND_RETRY && r.error == 0);
  r = price_parse(st, 200, SID, "completed", "\"0.000\"");
  CHECK(r.outcome == VC_SEND_RETRY && r.error == 0);
  /* malformed */
  {
    static const char *const bad[] = {
      "\"-1.5\"", "\"1.5.0\"", "\"1,50\"", "\"1000000000\"", "1.5",
      "\"INR 1.5\"", "\"1e2\"", "true", "\".\""
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
      r = price_parse(st, 200, SID, "completed", bad[i]);
      CHECK(r.outcome == VC_SEND_RETRY && r.error == VC_EPROVIDER);
    }
  }
  r = price_parse(st, 200, "0000bec2d78bbbf10fb851f4fa165211", "completed",
                  "\"1.5\"");                 /* another call */
  CHECK(r.outcome == VC_SEND_RETRY && r.error == VC_EPROVIDER);
  r = price_parse(st, 200, NULL, NULL, "<TwilioResponse/>");
  CHECK(r.outcome == VC_SEND_RETRY && r.error == VC_EPROVIDER);
  /* refusals */
  r = price_parse(st, 404, NULL, NULL, REST(404, "Call not found"));
  CHECK(r.outcome == VC_SEND_REJECTED && r.error == VC_ENOTFOUND);
  CHECK_STR(r.error_message, "Call not found");
  r = price_parse(st, 401, NULL, NULL, REST(401, "Authentication failed"));
  CHECK(r.outcome == VC_SEND_FAILOVER && r.error == VC_EAUTH);
  r = price_parse(st, 429, NULL, NULL, REST(429, "Too many requests"));
  CHECK(r.outcome == VC_SEND_RETRY && r.error == VC_ERATELIMIT);
  r = price_parse(st, 502, NULL, NULL, "");
  CHECK(r.outcome == VC_SEND_RETRY && r.error == VC_EPROVIDER);
  CHECK_STR(r.error_message, "HTTP 502 from Exotel");
  EX->fini(st);
  EX->fini(usd);
}

/* ------------------------------------------------------------------ */
/* inbound: the applets of the library's flow                          */

/* hmac-sha256(SECRET, "inbound"), hex */
#define IN_TOKEN \
  "2808b31d18871488cf0dcf88c1bf97cbc807d30ec542b538d82940b944e623f5"
#define IN_URL(step) "/webhooks/01J9ZK0000000000000000CHAN?vc_call=inbound" \
  "&vc_step=" step "&vc_token=" IN_TOKEN "&CallSid=" SID \
  "&CallFrom=09812345678&CallTo=08047112345&Direction=incoming" \
  "&CurrentTime=2024-01-15+14%3A30%3A20"

static void test_exotel__inbound_applets(void)
{
  void *st = state_new(CONFIG, CREDS);
  vs_seen s;

  /* the flow's URLs verify with the token of "inbound" */
  CHECK_OK(vs_verify(EX, st, IN_URL("incoming")));
  CHECK(vs_verify(EX, st, "/w?vc_call=inbound&vc_step=incoming&vc_token="
                  TOKEN) == VC_EAUTH);
  /* the Passthru of the call's arrival */
  CHECK_OK(vs_parse(EX, st, &s, IN_URL("incoming"), NULL, NULL));
  CHECK(s.n == 1);
  VS_CHECK(&s, 0, VC_UPDATE_INCOMING, VC_LEG_CUSTOMER, T_1430_20, 0, 0);
  CHECK_STR(s.u[0].provider_call_id, SID);
  CHECK_STR(s.u[0].from, "+919812345678");
  CHECK_STR(s.u[0].to, "+918047112345");
  CHECK_STR(s.u[0].event_id, SID ":incoming");
  CHECK(s.reply == 0);        /* the core answers with the script */
  /* the Gather applet asks for the script */
  CHECK_OK(vs_parse(EX, st, &s, IN_URL("gather"), NULL, NULL));
  CHECK(s.n == 1);
  VS_CHECK(&s, 0, VC_UPDATE_SCRIPT, VC_LEG_CUSTOMER, T_1430_20, 0, 0);
  /* the Connect applet: the keys (quoted by Exotel), then the script */
  CHECK_OK(vs_parse(EX, st, &s, IN_URL("ivr") "&digits=%2212%22", NULL,
                    NULL));
  CHECK(s.n == 2);
  VS_CHECK(&s, 0, VC_UPDATE_DTMF, VC_LEG_CUSTOMER, T_1430_20, 0, 0);
  CHECK_STR(s.u[0].digits, "12");
  CHECK_STR(s.u[0].event_id, SID ":ivr:2024-01-15 14:30:20:12");
  VS_CHECK(&s, 1, VC_UPDATE_SCRIPT, VC_LEG_CUSTOMER, T_1430_20, 0, 0);
  CHECK_OK(vs_parse(EX, st, &s, IN_URL("ivr") "&digits=", NULL, NULL));
  CHECK(s.n == 1 && s.u[0].type == VC_UPDATE_SCRIPT);
  CHECK(vs_parse(EX, st, &s, IN_URL("ivr") "&digits=%221x%22", NULL,
                 NULL) == VC_EINVALID);
  /* after the Connect: a conversation ends the call (302: Hangup) */
  CHECK_OK(vs_parse(EX, st, &s, IN_URL("in_dial") "&DialCallStatus="
                    "completed&DialWhomNumber=%2B919812340001"
                    "&DialCallDuration=42&CallType=completed", NULL, NULL));
  CHECK(s.n == 2);
  VS_CHECK(&s, 0, VC_UPDATE_ANSWERED, VC_LEG_AGENT,
           T_1430_20 - 42000, 0, 0);
  VS_CHECK(&s, 1, VC_UPDATE_ENDED, VC_LEG_AGENT, T_1430_20,
           VC_CAUSE_NORMAL, 42);
  CHECK(s.reply == 302);
  /* nobody answered: 200, the flow waits and asks again */
  CHECK_OK(vs_parse(EX, st, &s, IN_URL("in_dial") "&DialCallStatus=busy"
                    "&DialWhomNumber=%2B919812340001&DialCallDuration=0",
                    NULL, NULL));
  VS_CHECK(&s, 0, VC_UPDATE_ENDED, VC_LEG_AGENT, T_1430_20, VC_CAUSE_BUSY,
           0);
  CHECK(s.reply == 200);
  /* without DialCallStatus, CallType tells */
  CHECK_OK(vs_parse(EX, st, &s, IN_URL("in_dial") "&CallType=incomplete"
                    "&DialWhomNumber=%2B919812340001", NULL, NULL));
  VS_CHECK(&s, 0, VC_UPDATE_ENDED, VC_LEG_AGENT, T_1430_20,
           VC_CAUSE_NO_ANSWER, 0);
  /* nobody was dialed (a wait): an agent who did not answer, if any */
  CHECK_OK(vs_parse(EX, st, &s, IN_URL("in_dial"), NULL, NULL));
  CHECK(s.n == 1 && s.reply == 200);
  VS_CHECK(&s, 0, VC_UPDATE_ENDED, VC_LEG_AGENT, T_1430_20,
           VC_CAUSE_NO_ANSWER, 0);
  CHECK_STR(s.u[0].code, "none");
  /* malformed requests change nothing */
  CHECK(vs_parse(EX, st, &s, "/w?vc_call=inbound&vc_step=incoming"
                 "&CallTo=08047112345", NULL, NULL) == VC_EINVALID);
  CHECK(s.n == 0);
  CHECK(vs_parse(EX, st, &s, "/w?vc_call=inbound&vc_step=incoming&CallSid="
                 SID, NULL, NULL) == VC_EINVALID);
  CHECK(vs_parse(EX, st, &s, IN_URL("incoming") "x%01", NULL, NULL)
        == VC_EINVALID);
  CHECK(vs_parse(EX, st, &s, "/w?vc_call=inbound&vc_step=gather&CallSid="
                 SID "&CurrentTime=yesterday", NULL, NULL) == VC_EINVALID);
  CHECK(vs_parse(EX, st, &s, IN_URL("in_dial") "&DialWhomNumber=%2B91"
                 "&DialCallDuration=-4", NULL, NULL) == VC_EINVALID);
  check_clean_error();
  EX->fini(st);
}

/* An inbound call's terminal callback: the caller's leg ended. */
static void test_exotel__inbound_status(void)
{
  void *st = state_new(CONFIG, CREDS);
  vs_seen s;

  CHECK_OK(vs_parse(EX, st, &s, "/w?vc_call=inbound&vc_step=status"
                    "&vc_token=" IN_TOKEN, "application/json",
                    "{\"CallSid\": \"" SID "\", \"Status\": \"completed\", "
                    "\"DateUpdated\": \"2024-01-15 14:30:40\", \"EndTime\": "
                    "\"2024-01-15 14:30:30\", \"Direction\": \"inbound\"}"));
  CHECK(s.n == 1);
  VS_CHECK(&s, 0, VC_UPDATE_ENDED, VC_LEG_CUSTOMER, T_1430_30,
           VC_CAUSE_NORMAL, 0);
  CHECK_STR(s.u[0].provider_call_id, SID);
  CHECK_OK(vs_parse(EX, st, &s, "/w?vc_call=inbound&vc_step=status",
                    "application/json",
                    "{\"CallSid\": \"" SID "\", \"Status\": \"no-answer\", "
                    "\"DateUpdated\": \"2024-01-15 14:30:40\", "
                    "\"Direction\": \"incoming\"}"));
  VS_CHECK(&s, 0, VC_UPDATE_ENDED, VC_LEG_CUSTOMER, T_1430_40,
           VC_CAUSE_CANCELED, 0);
  CHECK(vs_parse(EX, st, &s, "/w?vc_step=status", "application/json",
                 "{\"CallSid\": \"a b\", \"Status\": \"completed\", "
                 "\"Direction\": \"inbound\"}") == VC_EINVALID);
  EX->fini(st);
}

/* Scripts as the Gather and Connect applets take them. */
static void test_exotel__render(void)
{
  vc_call_step steps[4];
  vc_call_script sc = { VC_CALL_SCRIPT_VERSION, steps, 0 };
  const char *type = NULL;
  vc_buf out = VC_BUF_INIT;

  memset(steps, 0, sizeof(steps));
  /* an IVR menu */
  steps[0].kind = VC_STEP_SAY;
  steps[0].text = "Welcome to Acme.";
  steps[1].kind = VC_STEP_GATHER;
  steps[1].text = "Press 1 for sales.";
  steps[1].num_digits = 1;
  steps[1].timeout_s = 6;
  steps[1].finish_on_key = "#";
  sc.nsteps = 2;
  CHECK_OK(EX->render_script(NULL, &sc, &out, &type));
  CHECK_STR(type, "application/json");
  CHECK_STR(out.ptr, "{\"gather_prompt\":{\"text\":\"Welcome to Acme. Press "
            "1 for sales.\"},\"max_input_digits\":1,\"finish_on_key\":\"#\","
            "\"input_timeout\":6,\"repeat_menu\":1,\"fetch_after_attempt\":"
            "false,\"destination\":{\"numbers\":[]},\"music_on_hold\":"
            "{\"type\":\"operator_tone\"}}");
  /* waiting in a queue: the music as the prompt for the pause */
  memset(steps, 0, sizeof(steps));
  steps[0].kind = VC_STEP_PLAY;
  steps[0].url = "https://cdn.example.com/moh.mp3";
  steps[1].kind = VC_STEP_PAUSE;
  steps[1].timeout_s = 5;
  steps[2].kind = VC_STEP_REDIRECT;
  steps[2].url = "https://h.example/webhooks/c?vc_step=in_wait";
  sc.nsteps = 3;
  CHECK_OK(EX->render_script(NULL, &sc, &out, &type));
  CHECK_STR(out.ptr, "{\"gather_prompt\":{\"audio_url\":\"https://cdn."
            "example.com/moh.mp3\"},\"max_input_digits\":1,\"input_timeout\":"
            "5,\"repeat_menu\":1,\"fetch_after_attempt\":false,"
            "\"destination\":{\"numbers\":[]},\"music_on_hold\":{\"type\":"
            "\"operator_tone\"}}");
  /* an agent to ring */
  memset(steps, 0, sizeof(steps));
  steps[0].kind = VC_STEP_DIAL;
  steps[0].target = "+919812340001";
  steps[0].caller_id = "+918047112345";
  steps[0].timeout_s = 20;
  steps[0].time_limit_s = 3600;
  steps[0].record = 1;
  sc.nsteps = 1;
  CHECK_OK(EX->render_script(NULL, &sc, &out, &type));
  CHECK_STR(out.ptr, "{\"gather_prompt\":{},\"max_input_digits\":1,"
            "\"input_timeout\":1,\"repeat_menu\":1,\"fetch_after_attempt\":"
            "false,\"destination\":{\"numbers\":[\"+919812340001\"]},"
            "\"outgoing_phone_number\":\"+918047112345\",\"record\":true,"
            "\"recording_channels\":\"single\",\"max_ringing_duration\":20,"
            "\"max_conversation_duration\":3600,\"music_on_hold\":{\"type\":"
            "\"operator_tone\"}}");
  /* refused: a SIP target, a bad key, a pause too long, an unknown kind */
  steps[0].target = "sip:agent@pbx.example";
  CHECK(EX->render_script(NULL, &sc, &out, &type) == VC_EINVALID);
  memset(steps, 0, sizeof(steps));
  steps[0].kind = VC_STEP_GATHER;
  steps[0].finish_on_key = "x";
  CHECK(EX->render_script(NULL, &sc, &out, &type) == VC_EINVALID);
  steps[0].kind = VC_STEP_PAUSE;
  steps[0].timeout_s = 601;
  CHECK(EX->render_script(NULL, &sc, &out, &type) == VC_EINVALID);
  steps[0].kind = 99;
  CHECK(EX->render_script(NULL, &sc, &out, &type) == VC_EINVALID);
  vc_buf_dispose(&out);
}

VC_TESTS(
  VC_TEST(test_exotel__vtable),
  VC_TEST(test_exotel__init_ok),
  VC_TEST(test_exotel__init_bad),
  VC_TEST(test_exotel__build_exact),
  VC_TEST(test_exotel__build_refused),
  VC_TEST(test_exotel__parse_call),
  VC_TEST(test_exotel__token),
  VC_TEST(test_exotel__answered),
  VC_TEST(test_exotel__terminal_json),
  VC_TEST(test_exotel__terminal_multipart),
  VC_TEST(test_exotel__bad_callbacks),
  VC_TEST(test_exotel__bounds),
  VC_TEST(test_exotel__fetch_price),
  VC_TEST(test_exotel__inbound_applets),
  VC_TEST(test_exotel__inbound_status),
  VC_TEST(test_exotel__render),
)
