/*
 * Unit tests of the experimental mCube voice adapter
 * (adapters/voip/mcube.c): config and credentials of both API
 * generations, the exact classic and cloud requests with Indian numbers
 * as 10 digits, every class of answer, the callback token, and the
 * end-of-call callback (JSON and form) with the ordered updates and
 * exact times it yields, and the bounds.
 *
 * Known-good values were computed with Python, independently of the
 * adapter:
 *   token = hmac.new(SECRET, call_id, hashlib.sha256).hexdigest()
 *   URL   = base + "?" + urllib.parse.urlencode([...])
 *   JSON  = json.dumps({...}, separators=(',', ':'))
 *   times = (calendar.timegm(strptime(s)) - 330 * 60) * 1000  (+05:30)
 * The callback sample is the one repeated across public integrations
 * (providers.md 3.2); its callid ends in 1697091597, the Unix time of
 * its starttime read as IST.
 */
#include "core/common.h"
#include "core/buf.h"
#include "net/http_out.h"
#include "adapters/builtin.h"

#include "harness.h"
#include "voice_sink.h"

#define MC (&vc__adapter_mcube)

#define SECRET "mcube-webhook-secret-0123456789abcdef"
#define KEY "mcube-key-123"
#define CLASSIC_CREDS "{\"api_key\": \"" KEY "\", \"webhook_secret\": \"" \
  SECRET "\"}"
#define CLOUD_CREDS "{\"token\": \"tok\", \"webhook_secret\": \"" SECRET "\"}"
#define CALL_ID "01J9ZK3M2V7Q8R4T6W0X1Y2Z3C"
#define TOKEN "d14796a81b5e34d1b95bc76ea37bf0b1bf4822546861cced378531f4147f0fee"
#define OTHER_TOKEN \
  "c2ebf3fb26e4bb58e0c255efd8945b5731648098ddd6afa816aaf6e38e1c4942"
#define HOOK_URL "https://hooks.example.com/webhooks/01J9ZK0000000000000000CHAN"
#define CB HOOK_URL "?vc_call=" CALL_ID "&vc_step=status&vc_token=" TOKEN
#define CB_ENC "https%3A%2F%2Fhooks.example.com%2Fwebhooks%2F" \
  "01J9ZK0000000000000000CHAN%3Fvc_call%3D" CALL_ID "%26vc_step%3Dstatus" \
  "%26vc_token%3D" TOKEN
#define TARGET "/webhooks/01J9ZK0000000000000000CHAN?vc_call=" CALL_ID \
  "&vc_step=status&vc_token=" TOKEN
#define MCID "80889767291697091597"

#define T_START INT64_C(1697091597000)   /* 2023-10-12 11:49:57 IST */
#define T_ANSWER INT64_C(1697091624000)  /* 11:50:24 */
#define T_END INT64_C(1697091628000)     /* 11:50:28 */

static void *state_new(const char *config, const char *creds)
{
  void *st = NULL;
  int rc = MC->init(&st, config, creds);

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
  c.caller_id = NULL;
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
  CHECK(strstr(m, SECRET) == NULL && strstr(m, KEY) == NULL);
}

static void test_mcube__vtable(void)
{
  CHECK_STR(MC->name, "mcube");
  CHECK(MC->version == VC_ADAPTER_VERSION);
  CHECK(MC->kind == VC_CHANNEL_VOICE);
  CHECK(MC->capabilities == VC_CAP_DELIVERY_REPORTS);
  CHECK(MC->build_send == NULL && MC->build_control == NULL &&
        MC->render_script == NULL);
  CHECK(MC->build_call != NULL && MC->parse_call != NULL &&
        MC->verify_webhook != NULL && MC->parse_webhook != NULL);
}

static void test_mcube__init(void)
{
  static const struct {
    const char *config, *creds, *needle;
  } bad[] = {
    { "{\"api\": \"v3\"}", CLASSIC_CREDS, "classic\" or \"cloud" },
    { "{\"did\": \"+14155550100\"}", CLASSIC_CREDS, "config.did must be" },
    { "{\"did\": \"0804711200\"}", CLASSIC_CREDS, "config.did must be" },
    { "{\"base_url\": \"http://mcube.vmc.in\"}", CLASSIC_CREDS, "loopback" },
    { "{\"timezone\": \"India\"}", CLASSIC_CREDS, "timezone must be" },
    { "{\"caller_ids\": [\"12\"]}", CLASSIC_CREDS, "caller_ids[0]" },
    { "{\"colour\": 1}", CLASSIC_CREDS, "unknown key 'colour'" },
    { "{}", "{\"webhook_secret\": \"" SECRET "\"}",
      "credentials.api_key is required" },
    { "{\"api\": \"cloud\"}", CLASSIC_CREDS, "credentials.api_key is for "
      "the classic API" },
    { "{\"api\": \"cloud\"}", "{\"webhook_secret\": \"" SECRET "\"}",
      "credentials.token is required" },
    { "{}", "{\"api_key\": \"k\"}", "webhook_secret is required" },
    { "{}", "{\"api_key\": \"k\", \"webhook_secret\": \"short\"}",
      "32 to 256" },
    { "{}", "{\"api_key\": \"k y\", \"webhook_secret\": \"" SECRET "\"}",
      "printable ASCII" },
  };

  MC->fini(state_new(NULL, CLASSIC_CREDS));
  MC->fini(state_new("{\"api\": \"classic\", \"did\": \"+918047112000\", "
                     "\"caller_ids\": [\"+918047112001\"], \"timezone\": "
                     "\"+05:30\"}", CLASSIC_CREDS));
  MC->fini(state_new("{\"api\": \"cloud\", \"base_url\": "
                     "\"http://localhost:8080\"}", CLOUD_CREDS));
  MC->fini(NULL);
  for (size_t i = 0; i < VC_ARRAY_SIZE(bad); i++) {
    void *st = (void *)1;
    int rc = MC->init(&st, bad[i].config, bad[i].creds);
    if (rc != VC_EINVALID || strstr(vc_error_last()->message,
                                    bad[i].needle) == NULL)
      fprintf(stderr, "  case %zu: %d %s\n", i, rc,
              vc_error_last()->message);
    CHECK(rc == VC_EINVALID && st == NULL);
    CHECK(strstr(vc_error_last()->message, bad[i].needle) != NULL);
    check_clean_error();
  }
}

static void test_mcube__build_classic(void)
{
  void *st = state_new("{\"did\": \"8047112000\"}", CLASSIC_CREDS);
  vc_call_outbound c = outbound();
  vc_http_out req;

  vc__http_out_init(&req);
  CHECK_OK(MC->build_call(st, &c, &req));
  CHECK_STR(req.method, "GET");
  CHECK_STR(req.url, "https://mcube.vmc.in/api/outboundcall?apikey=" KEY
            "&exenumber=9876543210&custnumber=9812345678&did=8047112000"
            "&url=" CB_ENC "&refid=" CALL_ID "&mct=3600");
  CHECK(req.body.size == 0);
  vc__http_out_reset(&req);

  /* The call's caller id wins over config.did; no limit, no mct. */
  c.caller_id = "+918047112999";
  c.time_limit_s = 0;
  vc__http_out_init(&req);
  CHECK_OK(MC->build_call(st, &c, &req));
  CHECK(strstr(req.url, "&did=8047112999&") != NULL);
  CHECK(strstr(req.url, "mct=") == NULL);
  vc__http_out_reset(&req);
  MC->fini(st);

  /* No DID anywhere: the parameter is left out. */
  st = state_new("{\"base_url\": \"http://127.0.0.1:9\"}", CLASSIC_CREDS);
  c = outbound();
  vc__http_out_init(&req);
  CHECK_OK(MC->build_call(st, &c, &req));
  CHECK_STR(req.url, "http://127.0.0.1:9/api/outboundcall?apikey=" KEY
            "&exenumber=9876543210&custnumber=9812345678"
            "&url=" CB_ENC "&refid=" CALL_ID "&mct=3600");
  vc__http_out_reset(&req);
  MC->fini(st);
}

static void test_mcube__build_cloud(void)
{
  void *st = state_new("{\"api\": \"cloud\", \"did\": \"+918047112000\"}",
                       CLOUD_CREDS);
  vc_call_outbound c = outbound();
  vc_http_out req;

  vc__http_out_init(&req);
  CHECK_OK(MC->build_call(st, &c, &req));
  CHECK_STR(req.method, "POST");
  CHECK_STR(req.url, "https://api.mcube.com/Restmcube-api/outbound-calls");
  CHECK_STR(vc__http_out_header(&req, "Content-Type"), "application/json");
  CHECK(vc__http_out_header(&req, "Authorization") == NULL);
  CHECK_STR(req.body.ptr, "{\"HTTP_AUTHORIZATION\":\"tok\","
            "\"exenumber\":\"9876543210\",\"custnumber\":\"9812345678\","
            "\"refurl\":\"" CB "\",\"refid\":\"" CALL_ID "\","
            "\"did\":\"8047112000\"}");
  vc__http_out_reset(&req);
  MC->fini(st);
}

static void test_mcube__build_refused(void)
{
  static const struct {
    const char *agent, *customer, *caller_id, *hook, *needle;
  } cases[] = {
    { "+14155550100", "+919812345678", NULL, HOOK_URL "?a=1",
      "agent's number" },
    { "sip:a@b", "+919812345678", NULL, HOOK_URL "?a=1", "agent's number" },
    { "+919876543210", "09812345678", NULL, HOOK_URL "?a=1",
      "customer's number" },
    { "+919876543210", "+91981234567", NULL, HOOK_URL "?a=1",
      "customer's number" },
    { "+919876543210", "+919812345678", "+4420", HOOK_URL "?a=1",
      "caller id" },
    { "+919876543210", "+919812345678", NULL, NULL, "public_base_url" },
  };
  void *st = state_new(NULL, CLASSIC_CREDS);

  for (size_t i = 0; i < VC_ARRAY_SIZE(cases); i++) {
    vc_call_outbound c = outbound();
    vc_http_out req;
    int rc;

    c.agent = cases[i].agent;
    c.customer = cases[i].customer;
    c.caller_id = cases[i].caller_id;
    c.webhook_url = cases[i].hook;
    vc__http_out_init(&req);
    rc = MC->build_call(st, &c, &req);
    if (rc != VC_EINVALID ||
        strstr(vc_error_last()->message, cases[i].needle) == NULL)
      fprintf(stderr, "  case %zu: %d %s\n", i, rc,
              vc_error_last()->message);
    CHECK(rc == VC_EINVALID);
    CHECK(strstr(vc_error_last()->message, cases[i].needle) != NULL);
    check_clean_error();
    vc__http_out_reset(&req);
  }
  MC->fini(st);
}

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
  CHECK_OK(MC->parse_call(st, &c, &res, &r));
  return r;
}

#define NO(msg) "{\"status\": false, \"msg\": \"" msg "\"}"

static void test_mcube__parse_call(void)
{
  void *st = state_new(NULL, CLASSIC_CREDS);
  vc_send_result r;

  r = parse(st, 200, "{\"status\": true, \"msg\": \"Call initiated "
            "successfully\", \"callid\": \"" MCID "\", \"refid\": \""
            CALL_ID "\"}", NULL);
  CHECK(r.outcome == VC_SEND_ACCEPTED);
  CHECK_STR(r.provider_id, MCID);
  r = parse(st, 200, "{\"status\": \"true\", \"callid\": 12345}", NULL);
  CHECK(r.outcome == VC_SEND_ACCEPTED);
  CHECK_STR(r.provider_id, "12345");
  /* accepted without a callid: our call id stands for it */
  r = parse(st, 200, "{\"status\": 1}", NULL);
  CHECK(r.outcome == VC_SEND_ACCEPTED);
  CHECK_STR(r.provider_id, CALL_ID);
  /* 2xx we cannot read */
  r = parse(st, 200, "OK", NULL);
  CHECK(r.outcome == VC_SEND_RETRY && r.error == VC_EPROVIDER);
  r = parse(st, 200, "{\"success\": true}", NULL);
  CHECK(r.outcome == VC_SEND_RETRY);

  /* refusals, by HTTP status or by status false with 200 */
  r = parse(st, 401, NO("Invalid apikey"), NULL);
  CHECK(r.outcome == VC_SEND_FAILOVER && r.error == VC_EAUTH);
  CHECK_STR(r.error_message, "Invalid apikey");
  r = parse(st, 200, NO("Invalid token"), NULL);
  CHECK(r.outcome == VC_SEND_FAILOVER && r.error == VC_EAUTH);
  r = parse(st, 400, NO("Invalid custnumber: 98765"), NULL);
  CHECK(r.outcome == VC_SEND_REJECTED && r.error == VC_EINVALID);
  r = parse(st, 200, NO("Invalid exenumber: 12"), NULL);
  CHECK(r.outcome == VC_SEND_REJECTED);
  r = parse(st, 400, NO("Invalid did"), NULL);
  CHECK(r.outcome == VC_SEND_REJECTED);
  r = parse(st, 200, NO("Insufficient balance"), NULL);
  CHECK(r.outcome == VC_SEND_FAILOVER && r.error == VC_EPROVIDER);
  r = parse(st, 400, NO("refid must be at most 100 characters"), NULL);
  CHECK(r.outcome == VC_SEND_REJECTED);
  r = parse(st, 200, "{\"status\": false}", NULL);
  CHECK(r.outcome == VC_SEND_REJECTED);
  CHECK_STR(r.error_message, "HTTP 200 from mCube with status false");
  r = parse(st, 404, NO("Not Found"), NULL);
  CHECK(r.outcome == VC_SEND_FAILOVER);
  r = parse(st, 403, NULL, NULL);
  CHECK(r.outcome == VC_SEND_FAILOVER && r.error == VC_EAUTH);
  /* transient */
  r = parse(st, 429, NO("Too Many Requests"), "7");
  CHECK(r.outcome == VC_SEND_RETRY && r.error == VC_ERATELIMIT);
  CHECK(r.retry_after_ms == 7000);
  r = parse(st, 500, NO("Internal Server Error"), NULL);
  CHECK(r.outcome == VC_SEND_RETRY && r.error == VC_EPROVIDER);
  r = parse(st, 502, "<html/>", NULL);
  CHECK(r.outcome == VC_SEND_RETRY);
  MC->fini(st);
}

static void test_mcube__token(void)
{
  void *st = state_new(NULL, CLASSIC_CREDS);
  char t[512];

  CHECK_OK(vs_verify(MC, st, TARGET));
  snprintf(t, sizeof(t), "%s", TARGET);
  t[strlen(t) - 2] ^= 1;
  CHECK(vs_verify(MC, st, t) == VC_EAUTH);
  CHECK(vs_verify(MC, st, "/w?vc_call=" CALL_ID) == VC_EAUTH);
  CHECK(vs_verify(MC, st, "/w?vc_call=" CALL_ID "&vc_token=" OTHER_TOKEN)
        == VC_EAUTH);
  CHECK(vs_verify(MC, st, "/w?vc_call=01J9ZK3M2V7Q8R4T6W0X1Y2Z3D&vc_token="
                  OTHER_TOKEN) == 0);
  check_clean_error();
  MC->fini(st);
}

/* The integrations' sample, with our query added. */
#define SAMPLE(dialstatus, extra) \
  "{\"starttime\": \"2023-10-12 11:49:57\", \"callid\": \"" MCID "\", " \
  "\"emp_phone\": \"8767316316\", \"clicktocalldid\": \"8035053336\", " \
  "\"callto\": \"7816999444\", \"dialstatus\": \"" dialstatus "\", " \
  "\"direction\": \"inbound\", \"endtime\": \"2023-10-12 11:50:28\", " \
  "\"disconnectedby\": \"Customer\", \"groupname\": \"Integration\", " \
  "\"agentname\": \"Test\"" extra "}"

static void test_mcube__callback_answer(void)
{
  void *st = state_new(NULL, CLASSIC_CREDS);
  vs_seen s;

  CHECK_OK(vs_parse(MC, st, &s, TARGET, "application/json",
    SAMPLE("ANSWER", ", \"answeredtime\": \"00:00:04\", \"filename\": "
           "\"https://s3.ap-south-1.amazonaws.com/app.mcube.com/recordings/"
           "x.wav\"")));
  CHECK(s.n == 6);
  VS_CHECK(&s, 0, VC_UPDATE_RINGING, VC_LEG_AGENT, T_START, 0, 0);
  VS_CHECK(&s, 1, VC_UPDATE_ANSWERED, VC_LEG_AGENT, T_ANSWER, 0, 0);
  VS_CHECK(&s, 2, VC_UPDATE_RINGING, VC_LEG_CUSTOMER, T_ANSWER, 0, 0);
  VS_CHECK(&s, 3, VC_UPDATE_ANSWERED, VC_LEG_CUSTOMER, T_ANSWER, 0, 0);
  VS_CHECK(&s, 4, VC_UPDATE_ENDED, VC_LEG_NONE, T_END, VC_CAUSE_NORMAL, 4);
  CHECK_STR(s.u[4].code, "ANSWER");
  CHECK_STR(s.u[4].event_id, MCID ":ended");
  VS_CHECK(&s, 5, VC_UPDATE_RECORDING, VC_LEG_NONE, T_END, 0, 0);
  CHECK(s.u[5].recording_status == VC_RECORDING_AVAILABLE &&
        s.u[5].recording_duration_s == 4);
  CHECK_STR(s.u[5].url, "https://s3.ap-south-1.amazonaws.com/app.mcube.com/"
            "recordings/x.wav");
  for (int i = 0; i < s.n; i++)
    CHECK_STR(s.u[i].provider_call_id, MCID);

  /* duration wins over answeredtime; as a form, as the simulator's. */
  CHECK_OK(vs_parse(MC, st, &s, TARGET, "application/x-www-form-urlencoded",
    "callid=" MCID "&refid=" CALL_ID "&starttime=2023-10-12+11%3A49%3A57"
    "&endtime=2023-10-12+11%3A50%3A28&answeredtime=00%3A00%3A09"
    "&duration=4&dialstatus=ANSWER&status=Call+complete&filename="));
  CHECK(s.n == 5);
  VS_CHECK(&s, 3, VC_UPDATE_ANSWERED, VC_LEG_CUSTOMER, T_ANSWER, 0, 0);
  VS_CHECK(&s, 4, VC_UPDATE_ENDED, VC_LEG_NONE, T_END, VC_CAUSE_NORMAL, 4);

  /* The longest talk time the sink takes (2 * VC_CALL_TIME_LIMIT_MAX). */
  CHECK_OK(vs_parse(MC, st, &s, TARGET, "application/json",
    SAMPLE("ANSWER", ", \"duration\": \"28800\"")));
  CHECK(s.n == 5);
  VS_CHECK(&s, 3, VC_UPDATE_ANSWERED, VC_LEG_CUSTOMER, T_START, 0, 0);
  VS_CHECK(&s, 4, VC_UPDATE_ENDED, VC_LEG_NONE, T_END, VC_CAUSE_NORMAL,
           28800);
  MC->fini(st);
}

static void test_mcube__callback_failures(void)
{
  static const struct {
    const char *dialstatus;
    int n, cause, leg;
  } cases[] = {
    /* agent's leg: it rang (or not, for a failure), then the end */
    { "Executive Busy", 2, VC_CAUSE_BUSY, VC_LEG_AGENT },
    { "Executive NoAnswer", 2, VC_CAUSE_NO_ANSWER, VC_LEG_AGENT },
    { "Executive Failed", 1, VC_CAUSE_UNREACHABLE, VC_LEG_AGENT },
    /* customer's leg: the agent answered and it rang, at the end */
    { "Busy", 4, VC_CAUSE_BUSY, VC_LEG_CUSTOMER },
    { "NoAnswer", 4, VC_CAUSE_NO_ANSWER, VC_LEG_CUSTOMER },
    { "No Answer", 4, VC_CAUSE_NO_ANSWER, VC_LEG_CUSTOMER },
    { "Failed", 4, VC_CAUSE_UNREACHABLE, VC_LEG_CUSTOMER },
    { "CANCEL", 2, VC_CAUSE_CANCELED, VC_LEG_NONE },
    { "cancel", 2, VC_CAUSE_CANCELED, VC_LEG_NONE },
    { "Something New", 2, VC_CAUSE_REJECTED, VC_LEG_NONE },
  };
  void *st = state_new(NULL, CLASSIC_CREDS);
  char body[1024];
  vs_seen s;

  for (size_t i = 0; i < VC_ARRAY_SIZE(cases); i++) {
    snprintf(body, sizeof(body),
             "{\"callid\": \"" MCID "\", \"starttime\": \"2023-10-12 "
             "11:49:57\", \"endtime\": \"2023-10-12 11:50:28\", "
             "\"answeredtime\": \"00:00:00\", \"duration\": \"0\", "
             "\"dialstatus\": \"%s\", \"filename\": \"\"}",
             cases[i].dialstatus);
    CHECK_OK(vs_parse(MC, st, &s, TARGET, "application/json", body));
    if (s.n != cases[i].n)
      fprintf(stderr, "  case %zu: %d updates\n", i, s.n);
    CHECK(s.n == cases[i].n);
    if (cases[i].n > 1)
      VS_CHECK(&s, 0, VC_UPDATE_RINGING, VC_LEG_AGENT, T_START, 0, 0);
    if (cases[i].n == 4) {
      VS_CHECK(&s, 1, VC_UPDATE_ANSWERED, VC_LEG_AGENT, T_END, 0, 0);
      VS_CHECK(&s, 2, VC_UPDATE_RINGING, VC_LEG_CUSTOMER, T_END, 0, 0);
    }
    VS_CHECK(&s, s.n - 1, VC_UPDATE_ENDED, cases[i].leg, T_END,
             cases[i].cause, 0);
    CHECK_STR(s.u[s.n - 1].code, cases[i].dialstatus);
  }
  MC->fini(st);
}

static void test_mcube__bad_callbacks(void)
{
  static const struct {
    const char *target, *body, *needle;
  } cases[] = {
    { "/w?vc_call=" CALL_ID, SAMPLE("ANSWER", ""), "vc_step=status" },
    { TARGET, "{\"dialstatus\": \"ANSWER\", \"endtime\": \"2023-10-12 "
      "11:50:28\"}", "no valid callid" },
    { TARGET, "{\"callid\": \"" MCID "\", \"endtime\": \"2023-10-12 "
      "11:50:28\"}", "no valid dialstatus" },
    { TARGET, "{\"callid\": \"" MCID "\", \"dialstatus\": \"ANSWER\"}",
      "no endtime" },
    { TARGET, SAMPLE("ANSWER", ", \"duration\": \"4s\""),
      "duration is not" },
    { TARGET, SAMPLE("ANSWER", ", \"duration\": 184467440737095516160.0"),
      "duration is not" },
    { TARGET, SAMPLE("ANSWER", ", \"answeredtime\": \"4\""),
      "answeredtime is not" },
    { TARGET, SAMPLE("ANSWER", ", \"filename\": \"x.wav\""),
      "filename is not" },
    { TARGET, SAMPLE("ANSWER", ", \"filename\": \"HTTPS://s3.example.com/"
      "x.wav\""), "filename is not" },
    /* Talk times the sink refuses: refused before the leg events went
     * (found by fuzzing). */
    { TARGET, SAMPLE("ANSWER", ", \"answeredtime\": \"15:00:04\""),
      "longer than a call can last" },
    { TARGET, SAMPLE("ANSWER", ", \"duration\": \"28801\""),
      "longer than a call can last" },
    { TARGET, "{\"callid\": \"" MCID "\", \"dialstatus\": \"ANSWER\", "
      "\"starttime\": \"2023-10-12 11:50:29\", \"endtime\": \"2023-10-12 "
      "11:50:28\"}", "after" },
    { TARGET, "{\"callid\": \"" MCID "\", \"dialstatus\": \"ANSWER\", "
      "\"endtime\": \"12/10/2023 11:50\"}", "endtime is not" },
  };
  void *st = state_new(NULL, CLASSIC_CREDS);
  vs_seen s;

  for (size_t i = 0; i < VC_ARRAY_SIZE(cases); i++) {
    int rc = vs_parse(MC, st, &s, cases[i].target, "application/json",
                      cases[i].body);
    if (rc != VC_EINVALID ||
        strstr(vc_error_last()->message, cases[i].needle) == NULL)
      fprintf(stderr, "  case %zu: %d %s\n", i, rc,
              vc_error_last()->message);
    CHECK(rc == VC_EINVALID);
    CHECK(strstr(vc_error_last()->message, cases[i].needle) != NULL);
    CHECK(s.n == 0);
  }
  MC->fini(st);
}

static void test_mcube__bounds(void)
{
  void *st = state_new(NULL, CLASSIC_CREDS);
  vc_buf b = VC_BUF_INIT;
  vs_seen s;

  CHECK_OK(vc__buf_puts(&b, "callid=" MCID "&dialstatus=ANSWER&pad="));
  while (b.size <= 64 * 1024)
    CHECK_OK(vc__buf_puts(&b, "xxxxxxxxxxxxxxxx"));
  CHECK(vs_parse(MC, st, &s, TARGET, "application/x-www-form-urlencoded",
                 b.ptr) == VC_ETOOBIG);
  CHECK(s.n == 0);
  vc_buf_dispose(&b);
  MC->fini(st);
}

VC_TESTS(
  VC_TEST(test_mcube__vtable),
  VC_TEST(test_mcube__init),
  VC_TEST(test_mcube__build_classic),
  VC_TEST(test_mcube__build_cloud),
  VC_TEST(test_mcube__build_refused),
  VC_TEST(test_mcube__parse_call),
  VC_TEST(test_mcube__token),
  VC_TEST(test_mcube__callback_answer),
  VC_TEST(test_mcube__callback_failures),
  VC_TEST(test_mcube__bad_callbacks),
  VC_TEST(test_mcube__bounds),
)
