/*
 * The simulator's voice providers: every refusal with the provider's
 * body, the created call, each call's callbacks per outcome, Twilio's
 * signatures recomputed here with mbedTLS, the TwiML fetch, a <Gather>
 * keypress and the live-call update.
 */
#define _GNU_SOURCE
#include "harness.h"
#include "sim.h"
#include "test_sim_util.h"
#include <time.h>
#include <unistd.h>

#define CALLS "/2010-04-01/Accounts/" SID "/Calls"
#define FORM "application/x-www-form-urlencoded"

static void tv_post(resp *r, vc_sim *s, const char *path, const char *form)
{
  req_opts o = { SID ":" TOKEN, { NULL }, 0 };

  http(r, "POST", url_of(s, path), FORM, form, strlen(form), &o);
}

static void tv_get(resp *r, vc_sim *s, const char *path)
{
  req_opts o = { SID ":" TOKEN, { NULL }, 0 };

  http(r, "GET", url_of(s, path), NULL, NULL, 0, &o);
}

static void refused(vc_sim *s, const char *form, int code, const char *msg)
{
  resp r;

  tv_post(&r, s, CALLS ".json", form);
  check_twilio_error(&r, 400, code, msg);
  resp_free(&r);
}

/* Create a call; returns its sid (static storage, one at a time). */
static const char *create_call(vc_sim *s, const char *form)
{
  static char sid[40];
  resp r;
  cJSON *j;

  tv_post(&r, s, CALLS ".json", form);
  if (r.status != 201)
    fprintf(stderr, "  got %ld: %s\n", r.status, r.body ? r.body : "");
  CHECK(r.status == 201);
  CHECK((j = json(&r)) != NULL);
  snprintf(sid, sizeof(sid), "%s", jstr(j, "sid"));
  cJSON_Delete(j);
  resp_free(&r);
  return sid;
}

static char *rx_url(receiver *rv, const char *path)
{
  static _Thread_local char slots[4][256];
  static _Thread_local int next;
  char *u = slots[next++ % 4];

  snprintf(u, 256, "http://127.0.0.1:%u%s", rv->port, path);
  return u;
}

/* A received form post's value (static storage). */
static const char *rx_form(const rx_req *q, const char *k)
{
  static _Thread_local char out[4][512];
  static _Thread_local int next;
  char *o = out[next++ % 4];
  kv f[40];
  size_t n = parse_form(q->body, f, 40);
  const char *v = form_val(f, n, k);

  snprintf(o, 512, "%s", v ? v : "(none)");
  free_form(f, n);
  return o;
}

/* ---- Twilio Voice: refusals ------------------------------------------- */

static void test_twilio_voice__refusals(void)
{
  vc_sim *s = start();
  req_opts bad = { SID ":wrong", { NULL }, 0 };
  resp r;

  http(&r, "POST", url_of(s, CALLS ".json"), FORM, "To=x", 4, NULL);
  check_twilio_error(&r, 401, 20003,
                     "Authentication Error - No credentials provided");
  CHECK(strncmp(rhdr(&r, "WWW-Authenticate"), "Basic", 5) == 0);
  resp_free(&r);
  http(&r, "POST", url_of(s, CALLS ".json"), FORM, "To=x", 4, &bad);
  check_twilio_error(&r, 401, 20003, "Authenticate");
  resp_free(&r);

  refused(s, "From=%2B15005550006&Url=http%3A%2F%2Fa.example%2Ft", 21201,
          "No 'To' number is specified");
  refused(s, "To=%2B14155550100&Url=http%3A%2F%2Fa.example%2Ft", 21213,
          "No 'From' number is specified");
  refused(s, "To=%2B14155550100&From=%2B15005550006", 21205,
          "Url parameter is required.");
  refused(s, "To=4155550100&From=%2B15005550006&Twiml=%3CResponse%2F%3E",
          21211, "The phone number you are attempting to call, 4155550100, "
          "is not valid.");
  refused(s, "To=%2B14155550100&From=ACME&Twiml=%3CResponse%2F%3E", 21212,
          "From is not a valid phone number: ACME");
  /* A client may call a client, not a phone number. */
  refused(s, "To=%2B14155550100&From=client%3Aagent&Twiml=%3CResponse%2F%3E",
          21212, NULL);
  refused(s, "To=%2B14155550100&From=%2B15005550006&Url=ftp%3A%2F%2Fx", 21205,
          "Url is not a valid URL: ftp://x");
  refused(s, "To=%2B14155550100&From=%2B15005550006&ApplicationSid=AP12",
          21218, NULL);
  refused(s, "To=%2B14155550100&From=%2B15005550006&Twiml=x&Timeout=601",
          21208, NULL);
  refused(s, "To=%2B14155550100&From=%2B15005550006&Twiml=x&Method=PUT",
          21209, NULL);
  refused(s, "To=%2B14155550100&From=%2B15005550006&Twiml=x&SendDigits=12x",
          21206, NULL);
  refused(s, "To=%2B14155550100&From=%2B15005550006&Twiml=x"
          "&StatusCallbackEvent=answered&StatusCallbackEvent=bridged", 21626,
          NULL);
  /* Parameters come from form bodies only. */
  {
    req_opts o = { SID ":" TOKEN, { NULL }, 0 };
    const char *js = "{\"To\":\"+14155550100\"}";
    http(&r, "POST", url_of(s, CALLS ".json"), "application/json", js,
         strlen(js), &o);
    check_twilio_error(&r, 400, 21201, NULL);
    resp_free(&r);
  }

  CHECK_OK(vc_sim_set(s, "twilio-voice.unverified_from", "+15005550007"));
  refused(s, "To=%2B14155550100&From=%2B15005550007&Twiml=x", 21210,
          "The source phone number provided, +15005550007, is not yet "
          "verified for your account. You may only make calls from phone "
          "numbers that you've verified or purchased from Twilio.");
  CHECK_OK(vc_sim_set(s, "twilio-voice.blocked_prefixes", "+882,+979"));
  refused(s, "To=%2B8821234567&From=%2B15005550006&Twiml=x", 21215, NULL);

  tv_get(&r, s, CALLS "/CA00000000000000000000000000000000.json");
  check_twilio_error(&r, 404, 20404, "The requested resource " CALLS
                     "/CA00000000000000000000000000000000.json was not found");
  resp_free(&r);
  tv_post(&r, s, CALLS "/CA00000000000000000000000000000000.json",
          "Status=completed");
  check_twilio_error(&r, 404, 20404, NULL);
  resp_free(&r);
  tv_get(&r, s, CALLS "/CA00000000000000000000000000000000/Events.json");
  check_twilio_error(&r, 404, 20404, NULL);
  resp_free(&r);
  tv_get(&r, s, CALLS ".json");
  check_twilio_error(&r, 405, 20004, NULL);
  resp_free(&r);
  /* Messaging still answers on its own path. */
  tw_post(&r, s, good_form);
  CHECK(r.status == 201);
  resp_free(&r);
  CHECK(vc_sim_accepted_count(s, "twilio-voice") == 0);
  vc_sim_stop(s);
}

/* ---- Twilio Voice: the created call ------------------------------------ */

static void test_twilio_voice__created(void)
{
  vc_sim *s = start();
  vc_sim_request rq;
  char status[32];
  const char *sid;
  size_t i;
  resp r;
  cJSON *j, *subs;

  tv_post(&r, s, CALLS ".json", "To=%2B14155550100&From=%2B15005550006"
          "&Twiml=%3CResponse%3E%3CSay%3Ehi%3C%2FSay%3E%3C%2FResponse%3E");
  CHECK(r.status == 201);
  CHECK(strncmp(rhdr(&r, "Content-Type"), "application/json", 16) == 0);
  CHECK((j = json(&r)) != NULL);
  sid = jstr(j, "sid");
  CHECK(sid != NULL && strlen(sid) == 34 && strncmp(sid, "CA", 2) == 0);
  for (i = 2; i < 34; i++)
    CHECK(strchr("0123456789abcdef", sid[i]) != NULL);
  CHECK_STR(jstr(j, "status"), "queued");
  CHECK_STR(jstr(j, "account_sid"), SID);
  CHECK_STR(jstr(j, "to"), "+14155550100");
  CHECK_STR(jstr(j, "from"), "+15005550006");
  CHECK_STR(jstr(j, "direction"), "outbound-api");
  CHECK_STR(jstr(j, "api_version"), "2010-04-01");
  CHECK_STR(jstr(j, "price_unit"), "USD");
  CHECK(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j, "price")));
  CHECK(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j, "end_time")));
  CHECK(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j, "duration")));
  CHECK(jstr(j, "date_created") != NULL &&
        strstr(jstr(j, "date_created"), " +0000") != NULL);
  {
    char uri[200];
    snprintf(uri, sizeof(uri), CALLS "/%s.json", sid);
    CHECK_STR(jstr(j, "uri"), uri);
  }
  subs = cJSON_GetObjectItemCaseSensitive(j, "subresource_uris");
  CHECK(jstr(subs, "recordings") != NULL &&
        strstr(jstr(subs, "recordings"), "/Recordings.json") != NULL);
  CHECK(vc_sim_accepted_count(s, "twilio-voice") == 1);
  CHECK(vc_sim_sent_count(s, "+14155550100") == 1);
  CHECK(vc_sim_sent_count(s, sid) == 1);
  CHECK_OK(vc_sim_received_get(s, 0, &rq));
  CHECK_STR(rq.provider, "twilio-voice");
  CHECK_STR(rq.message_id, sid);
  /* Inline TwiML is the call's first document. */
  {
    char doc[256];
    CHECK(vc_sim_twilio_voice_twiml(s, sid, 0, doc, sizeof(doc)) > 0);
    CHECK_STR(doc, "<Response><Say>hi</Say></Response>");
  }

  /* Without a StatusCallback the call still lives and ends. */
  CHECK_OK(vc_sim_webhooks_wait(s, 5000));
  CHECK(vc_sim_call_status(s, "twilio-voice", sid, status, sizeof(status))
        > 0);
  CHECK_STR(status, "completed");
  {
    char path[200];
    snprintf(path, sizeof(path), CALLS "/%s.json", sid);
    resp g;
    tv_get(&g, s, path);
    CHECK(g.status == 200);
    cJSON *k = json(&g);
    CHECK_STR(jstr(k, "status"), "completed");
    CHECK_STR(jstr(k, "sid"), sid);
    CHECK_STR(jstr(k, "duration"), "1");
    CHECK(jstr(k, "start_time") != NULL && jstr(k, "end_time") != NULL);
    cJSON_Delete(k);
    resp_free(&g);
  }
  cJSON_Delete(j);
  resp_free(&r);
  vc_sim_stop(s);
}

/* ---- Twilio Voice: a call's life --------------------------------------- */

static void check_callback(const rx_req *q, const char *url, const char *sid,
                           const char *status, const char *seq)
{
  check_twilio_signed(q, url);
  CHECK_STR(rx_form(q, "CallSid"), sid);
  CHECK_STR(rx_form(q, "CallStatus"), status);
  CHECK_STR(rx_form(q, "AccountSid"), SID);
  CHECK_STR(rx_form(q, "To"), "+14155550100");
  CHECK_STR(rx_form(q, "From"), "+15005550006");
  CHECK_STR(rx_form(q, "Direction"), "outbound-api");
  CHECK_STR(rx_form(q, "ApiVersion"), "2010-04-01");
  CHECK_STR(rx_form(q, "CallbackSource"), "call-progress-events");
  if (seq != NULL)
    CHECK_STR(rx_form(q, "SequenceNumber"), seq);
  CHECK(strcmp(rx_form(q, "Timestamp"), "(none)") != 0);
}

static void test_twilio_voice__answered(void)
{
  vc_sim *s = start();
  receiver *rv = rx_start();
  const char *twiml = "<Response><Dial>+14155550199</Dial></Response>";
  char form[1024], cb[256], tw[256], doc[256];
  const char *sid;

  rx_route(rv, "/twiml", "text/xml", twiml);
  snprintf(cb, sizeof(cb), "%s", rx_url(rv, "/status?leg=agent"));
  snprintf(tw, sizeof(tw), "%s", rx_url(rv, "/twiml"));
  snprintf(form, sizeof(form), "To=%%2B14155550100&From=%%2B15005550006"
           "&Url=http%%3A%%2F%%2F127.0.0.1%%3A%u%%2Ftwiml"
           "&StatusCallback=http%%3A%%2F%%2F127.0.0.1%%3A%u%%2Fstatus%%3Fleg"
           "%%3Dagent&StatusCallbackEvent=initiated&StatusCallbackEvent="
           "ringing&StatusCallbackEvent=answered&StatusCallbackEvent="
           "completed&Record=true&MachineDetection=Enable", rv->port,
           rv->port);
  sid = create_call(s, form);
  CHECK(rx_wait(rv, 5, 5000) == 5);
  CHECK_OK(vc_sim_webhooks_wait(s, 5000));
  CHECK(rx_wait(rv, 6, 200) == 5);
  check_callback(rx_get(rv, 0), cb, sid, "initiated", "0");
  check_callback(rx_get(rv, 1), cb, sid, "ringing", "1");
  check_callback(rx_get(rv, 2), cb, sid, "in-progress", "2");
  CHECK_STR(rx_form(rx_get(rv, 2), "AnsweredBy"), "human");
  /* The answer fetches the TwiML: the call's parameters, signed. */
  CHECK_STR(rx_get(rv, 3)->path, "/twiml");
  check_twilio_signed(rx_get(rv, 3), tw);
  CHECK_STR(rx_form(rx_get(rv, 3), "CallSid"), sid);
  CHECK_STR(rx_form(rx_get(rv, 3), "CallStatus"), "in-progress");
  CHECK(vc_sim_twilio_voice_twiml(s, sid, 0, doc, sizeof(doc)) ==
        (int)strlen(twiml));
  CHECK_STR(doc, twiml);
  CHECK(vc_sim_twilio_voice_twiml(s, sid, 1, doc, sizeof(doc)) == -ENOENT);
  check_callback(rx_get(rv, 4), cb, sid, "completed", "3");
  CHECK_STR(rx_form(rx_get(rv, 4), "CallDuration"), "1");
  CHECK(strncmp(rx_form(rx_get(rv, 4), "RecordingSid"), "RE", 2) == 0);
  CHECK(strstr(rx_form(rx_get(rv, 4), "RecordingUrl"), "/Recordings/RE") !=
        NULL);
  CHECK(strlen(rx_hdr(rx_get(rv, 4), "I-Twilio-Idempotency-Token")) == 36);
  rx_stop(rv);
  vc_sim_stop(s);
}

/* Callbacks' CallStatus in order, "a,b,c", for a call to `to`. */
static void life(vc_sim *s, receiver *rv, const char *to, const char *events,
                 const char *want)
{
  char form[1024], got[256] = "", status[32], cb[256];
  size_t before = rx_wait(rv, 0, 0), n, i, expect = 1;
  const char *sid, *p;

  for (p = want; *p; p++)
    expect += *p == ',';
  snprintf(cb, sizeof(cb), "%s", rx_url(rv, "/status"));
  snprintf(form, sizeof(form), "To=%s&From=%%2B15005550006&Twiml=%%3C"
           "Response%%2F%%3E&StatusCallback=http%%3A%%2F%%2F127.0.0.1%%3A%u"
           "%%2Fstatus%s", to, rv->port, events);
  sid = create_call(s, form);
  n = rx_wait(rv, before + expect, 5000);
  CHECK_OK(vc_sim_webhooks_wait(s, 5000));
  n = rx_wait(rv, before + expect + 1, 100);
  for (i = before; i < n; i++) {
    check_twilio_signed(rx_get(rv, i), cb);
    CHECK_STR(rx_form(rx_get(rv, i), "CallSid"), sid);
    if (got[0])
      strcat(got, ",");
    strncat(got, rx_form(rx_get(rv, i), "CallStatus"), 40);
  }
  if (strcmp(got, want) != 0)
    fprintf(stderr, "  %s: got %s\n", to, got);
  CHECK_STR(got, want);
  CHECK(vc_sim_call_status(s, "twilio-voice", sid, status, sizeof(status))
        > 0);
  CHECK(strstr(want, status) != NULL || strcmp(status, "completed") == 0);
  /* The final callback carries the duration: 0 when nobody answered. */
  if (strstr(want, "completed") != NULL)
    CHECK_STR(rx_form(rx_get(rv, n - 1), "CallDuration"), "1");
  else if (strstr(want, "in-progress") == NULL)
    CHECK_STR(rx_form(rx_get(rv, n - 1), "CallDuration"), "0");
}

#define ALL_EVENTS "&StatusCallbackEvent=initiated&StatusCallbackEvent=" \
  "ringing&StatusCallbackEvent=answered&StatusCallbackEvent=completed"

static void test_twilio_voice__outcomes(void)
{
  vc_sim *s = start();
  receiver *rv = rx_start();
  vc_sim_call_plan busy = { VC_SIM_CALL_BUSY, 0, 0 };
  vc_sim_call_plan none = { VC_SIM_CALL_NO_ANSWER, 0, 0 };
  vc_sim_call_plan fail = { VC_SIM_CALL_FAILED, 0, 0 };
  vc_sim_call_plan cancel = { VC_SIM_CALL_CANCELED, 0, 0 };
  vc_sim_call_plan slow = { VC_SIM_CALL_ANSWER, 1500, 0 };

  CHECK(vc_sim_call_plan_set(s, "twilio", "+1", &busy) == -ENOENT);
  CHECK(vc_sim_call_plan_set(s, "twilio-voice", "+--", &busy) == -EINVAL);
  CHECK_OK(vc_sim_call_plan_set(s, "twilio-voice", "+1 415 555 0101", &busy));
  CHECK_OK(vc_sim_call_plan_set(s, "twilio-voice", "+14155550102", &none));
  CHECK_OK(vc_sim_call_plan_set(s, "twilio-voice", "+14155550103", &fail));
  CHECK_OK(vc_sim_call_plan_set(s, "twilio-voice", "+14155550104", &cancel));
  CHECK_OK(vc_sim_call_plan_set(s, "twilio-voice", "+14155550105", &slow));

  life(s, rv, "%2B14155550100", ALL_EVENTS,
       "initiated,ringing,in-progress,completed");
  life(s, rv, "%2B14155550100", "", "completed");
  life(s, rv, "%2B14155550100", "&StatusCallbackEvent=answered",
       "in-progress");
  life(s, rv, "%2B14155550101", ALL_EVENTS, "initiated,ringing,busy");
  life(s, rv, "%2B14155550101", "", "busy");
  life(s, rv, "%2B14155550102", ALL_EVENTS, "initiated,ringing,no-answer");
  life(s, rv, "%2B14155550103", ALL_EVENTS, "initiated,failed");
  life(s, rv, "%2B14155550104", ALL_EVENTS, "initiated,ringing,canceled");
  /* Rings longer than Timeout: no-answer when Timeout runs out. */
  life(s, rv, "%2B14155550105", ALL_EVENTS "&Timeout=1",
       "initiated,ringing,no-answer");
  /* Removing a plan restores the default (answer). */
  CHECK_OK(vc_sim_call_plan_set(s, "twilio-voice", "+14155550101", NULL));
  life(s, rv, "%2B14155550101", "", "completed");
  /* Webhooks off: the call ends unheard. */
  {
    vc_sim_webhooks w = VC_SIM_WEBHOOKS_INIT;
    w.off = 1;
    CHECK_OK(vc_sim_webhooks_set(s, "twilio-voice", &w));
    size_t before = rx_wait(rv, 0, 0);
    char st[32];
    const char *sid = create_call(s, "To=%2B14155550100&From=%2B15005550006"
                                  "&Twiml=x&StatusCallback=http%3A%2F%2F"
                                  "127.0.0.1%3A1%2Fs");
    CHECK_OK(vc_sim_webhooks_wait(s, 5000));
    CHECK(rx_wait(rv, before + 1, 100) == before);
    CHECK(vc_sim_call_status(s, "twilio-voice", sid, st, sizeof(st)) > 0);
    CHECK_STR(st, "completed");
  }
  rx_stop(rv);
  vc_sim_stop(s);
}

static void test_twilio_voice__duplicates(void)
{
  vc_sim *s = start();
  receiver *rv = rx_start();
  vc_sim_webhooks w = VC_SIM_WEBHOOKS_INIT;
  char form[512];
  const char *sid;

  rx_route(rv, "/twiml", "text/xml", "<Response/>");
  w.duplicates = 1;
  CHECK_OK(vc_sim_webhooks_set(s, "twilio-voice", &w));
  snprintf(form, sizeof(form), "To=%%2B14155550100&From=%%2B15005550006"
           "&Url=http%%3A%%2F%%2F127.0.0.1%%3A%u%%2Ftwiml&StatusCallback="
           "http%%3A%%2F%%2F127.0.0.1%%3A%u%%2Fs&StatusCallbackEvent="
           "answered&StatusCallbackEvent=completed", rv->port, rv->port);
  sid = create_call(s, form);
  CHECK_OK(vc_sim_webhooks_wait(s, 5000));
  /* Each callback twice with one idempotency token; the fetch once. */
  CHECK(rx_wait(rv, 6, 200) == 5);
  CHECK_STR(rx_form(rx_get(rv, 0), "CallStatus"), "in-progress");
  CHECK_STR(rx_form(rx_get(rv, 1), "CallStatus"), "in-progress");
  CHECK_STR(rx_hdr(rx_get(rv, 0), "I-Twilio-Idempotency-Token"),
            rx_hdr(rx_get(rv, 1), "I-Twilio-Idempotency-Token"));
  CHECK_STR(rx_get(rv, 2)->path, "/twiml");
  CHECK_STR(rx_form(rx_get(rv, 3), "CallStatus"), "completed");
  CHECK_STR(rx_form(rx_get(rv, 4), "CallStatus"), "completed");
  CHECK_STR(rx_form(rx_get(rv, 4), "CallSid"), sid);
  rx_stop(rv);
  vc_sim_stop(s);
}

/* ---- Twilio Voice: Gather, redirect, hang up ---------------------------- */

static void test_twilio_voice__gather_and_update(void)
{
  vc_sim *s = start();
  receiver *rv = rx_start();
  vc_sim_call_plan talk = { VC_SIM_CALL_ANSWER, 0, 20000 };
  char gather[512], form[1024], path[200], doc[512], st[32], want[256];
  const char *said = "<Response><Say>Connecting</Say></Response>";
  const char *sid;
  const rx_req *q;
  resp r;
  cJSON *j;

  snprintf(gather, sizeof(gather), "<Response><Gather numDigits=\"1\" "
           "action=\"http://127.0.0.1:%u/gathered?step=1&amp;lang=hi\">"
           "<Say>Press 1</Say></Gather></Response>", rv->port);
  rx_route(rv, "/ivr", "text/xml", gather);
  rx_route(rv, "/gathered", "text/xml", said);
  rx_route(rv, "/moved", "text/xml", "<Response><Hangup/></Response>");
  CHECK_OK(vc_sim_call_plan_set(s, "twilio-voice", NULL, &talk));
  snprintf(form, sizeof(form), "To=%%2B14155550100&From=%%2B15005550006"
           "&Url=http%%3A%%2F%%2F127.0.0.1%%3A%u%%2Fivr&StatusCallback="
           "http%%3A%%2F%%2F127.0.0.1%%3A%u%%2Fs", rv->port, rv->port);
  sid = create_call(s, form);
  CHECK(vc_sim_twilio_voice_press(s, sid, "1") == -EAGAIN);   /* ringing */
  CHECK(rx_wait(rv, 1, 5000) == 1);                           /* fetched */
  for (int i = 0; i < 100 &&
       vc_sim_twilio_voice_twiml(s, sid, 0, doc, sizeof(doc)) < 0; i++)
    sleep_ms(10);
  CHECK_STR(doc, gather);
  CHECK(vc_sim_twilio_voice_press(s, sid, "1x") == -EINVAL);
  CHECK(vc_sim_twilio_voice_press(s, "CA0", "1") == -ENOENT);
  CHECK_OK(vc_sim_twilio_voice_press(s, sid, "1"));
  CHECK(rx_wait(rv, 2, 5000) == 2);
  q = rx_get(rv, 1);
  CHECK_STR(q->path, "/gathered?step=1&lang=hi");
  snprintf(want, sizeof(want), "http://127.0.0.1:%u/gathered?step=1&lang=hi",
           rv->port);
  check_twilio_signed(q, want);
  CHECK_STR(rx_form(q, "Digits"), "1");
  CHECK_STR(rx_form(q, "CallSid"), sid);
  CHECK_STR(rx_form(q, "CallStatus"), "in-progress");
  for (int i = 0; i < 100 &&
       vc_sim_twilio_voice_twiml(s, sid, 1, doc, sizeof(doc)) < 0; i++)
    sleep_ms(10);
  CHECK_STR(doc, said);
  /* The latest document has no Gather. */
  CHECK(vc_sim_twilio_voice_press(s, sid, "2") == -EAGAIN);

  snprintf(path, sizeof(path), CALLS "/%s.json", sid);
  tv_get(&r, s, path);
  CHECK((j = json(&r)) != NULL);
  CHECK_STR(jstr(j, "status"), "in-progress");
  CHECK(jstr(j, "start_time") != NULL);
  cJSON_Delete(j);
  resp_free(&r);

  /* Redirect: the new Url is fetched at once. */
  snprintf(form, sizeof(form), "Url=http%%3A%%2F%%2F127.0.0.1%%3A%u%%2Fmoved",
           rv->port);
  tv_post(&r, s, path, form);
  CHECK(r.status == 200);
  resp_free(&r);
  CHECK(rx_wait(rv, 3, 5000) == 3);
  CHECK_STR(rx_get(rv, 2)->path, "/moved");
  /* The receiver logs the fetch before answering it: wait until the
   * answer is the call's document 2, or the Twiml below may come first. */
  for (int i = 0; i < 100 &&
       vc_sim_twilio_voice_twiml(s, sid, 2, doc, sizeof(doc)) < 0; i++)
    sleep_ms(10);
  CHECK_STR(doc, "<Response><Hangup/></Response>");
  tv_post(&r, s, path, "Twiml=%3CResponse%3E%3CPause%2F%3E%3C%2FResponse%3E");
  CHECK(r.status == 200);
  resp_free(&r);
  for (int i = 0; i < 100 &&
       vc_sim_twilio_voice_twiml(s, sid, 3, doc, sizeof(doc)) < 0; i++)
    sleep_ms(10);
  CHECK_STR(doc, "<Response><Pause/></Response>");
  tv_post(&r, s, path, "Status=hold");
  check_twilio_error(&r, 400, 20001, NULL);
  resp_free(&r);

  /* canceled leaves an answered call alone; completed hangs it up. */
  tv_post(&r, s, path, "Status=canceled");
  CHECK(r.status == 200);
  CHECK((j = json(&r)) != NULL);
  CHECK_STR(jstr(j, "status"), "in-progress");
  cJSON_Delete(j);
  resp_free(&r);
  tv_post(&r, s, path, "Status=completed");
  CHECK(r.status == 200);
  CHECK((j = json(&r)) != NULL);
  CHECK_STR(jstr(j, "status"), "completed");
  CHECK(jstr(j, "end_time") != NULL && jstr(j, "duration") != NULL);
  cJSON_Delete(j);
  resp_free(&r);
  CHECK(rx_wait(rv, 4, 5000) == 4);
  q = rx_get(rv, 3);
  CHECK_STR(q->path, "/s");
  CHECK_STR(rx_form(q, "CallStatus"), "completed");
  CHECK(atoi(rx_form(q, "CallDuration")) >= 1);
  /* The planned end of the call (20 s away) never comes. */
  CHECK_OK(vc_sim_webhooks_wait(s, 2000));
  CHECK(rx_wait(rv, 5, 100) == 4);
  CHECK(vc_sim_call_status(s, "twilio-voice", sid, st, sizeof(st)) > 0);
  CHECK_STR(st, "completed");
  /* An ended call cannot be redirected. */
  tv_post(&r, s, path, form);
  check_twilio_error(&r, 400, 21220, "Call is not in-progress. Cannot "
                     "redirect.");
  resp_free(&r);

  /* A ringing call: canceled. */
  {
    vc_sim_call_plan ring = { VC_SIM_CALL_ANSWER, 20000, 0 };
    CHECK_OK(vc_sim_call_plan_set(s, "twilio-voice", NULL, &ring));
    sid = create_call(s, "To=%2B14155550100&From=%2B15005550006&Twiml=x");
    snprintf(path, sizeof(path), CALLS "/%s.json", sid);
    for (int i = 0; i < 100; i++) {
      vc_sim_call_status(s, "twilio-voice", sid, st, sizeof(st));
      if (strcmp(st, "ringing") == 0)
        break;
      sleep_ms(10);
    }
    CHECK_STR(st, "ringing");
    tv_post(&r, s, path, "Status=canceled");
    CHECK((j = json(&r)) != NULL);
    CHECK_STR(jstr(j, "status"), "canceled");
    CHECK_STR(jstr(j, "duration"), "0");
    cJSON_Delete(j);
    resp_free(&r);
    CHECK_OK(vc_sim_webhooks_wait(s, 2000));
  }
  rx_stop(rv);
  vc_sim_stop(s);
}

/* ---- Twilio <Dial><Number>: the customer's child call ---------------- */

/* The i-th received request whose path starts with `path`, waiting up
 * to 5 s for it; NULL when none came. */
static const rx_req *rx_find(receiver *rv, const char *path, size_t nth)
{
  for (int t = 0; t < 500; t++) {
    size_t n = rx_wait(rv, 0, 0), seen = 0;
    for (size_t i = 0; i < n; i++)
      if (strncmp(rx_get(rv, i)->path, path, strlen(path)) == 0 &&
          seen++ == nth)
        return rx_get(rv, i);
    sleep_ms(10);
  }
  return NULL;
}

static void wait_doc(vc_sim *s, const char *sid, size_t i, char *doc,
                     size_t size)
{
  doc[0] = '\0';
  for (int t = 0; t < 300 &&
       vc_sim_twilio_voice_twiml(s, sid, i, doc, size) < 0; t++)
    sleep_ms(10);
}

/* A click-to-call's answer TwiML: dial the customer, recorded, with a
 * whisper; `port` is the receiver's. */
static void dial_twiml(char *out, size_t size, unsigned port)
{
  snprintf(out, size, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response>"
           "<Dial callerId=\"+15005550006\" timeout=\"20\" timeLimit=\"60\" "
           "action=\"http://127.0.0.1:%u/dial_end?vc_call=c1&amp;vc_step="
           "dial_end\" record=\"record-from-answer\" recordingStatusCallback"
           "=\"http://127.0.0.1:%u/rec?vc_step=recording\"><Number "
           "statusCallback=\"http://127.0.0.1:%u/cust?vc_step=customer\" "
           "statusCallbackEvent=\"initiated ringing answered completed\" "
           "url=\"http://127.0.0.1:%u/whisper\">+919812345678</Number>"
           "</Dial></Response>", port, port, port, port);
}

static const char *start_click(vc_sim *s, receiver *rv)
{
  char form[1024];

  snprintf(form, sizeof(form), "To=%%2B14155550100&From=%%2B15005550006"
           "&Url=http%%3A%%2F%%2F127.0.0.1%%3A%u%%2Fanswer&StatusCallback="
           "http%%3A%%2F%%2F127.0.0.1%%3A%u%%2Fstatus" ALL_EVENTS, rv->port,
           rv->port);
  return create_call(s, form);
}

static void test_twilio_voice__dial_child(void)
{
  vc_sim *s = start();
  receiver *rv = rx_start();
  vc_sim_call_plan cust = { VC_SIM_CALL_ANSWER, 50, 1500 };
  char answer[1200], gather[400], want[300], doc[1200], parent[40],
    child[40], path[200], st[32];
  const rx_req *q;
  resp r;
  cJSON *j;

  dial_twiml(answer, sizeof(answer), rv->port);
  snprintf(gather, sizeof(gather), "<Response><Gather numDigits=\"1\" "
           "action=\"http://127.0.0.1:%u/ivr?vc_node=root\"><Say>Press 1"
           "</Say></Gather></Response>", rv->port);
  rx_route(rv, "/answer", "text/xml", answer);
  rx_route(rv, "/whisper", "text/xml", gather);
  rx_route(rv, "/ivr", "text/xml", "<Response/>");
  rx_route(rv, "/dial_end", "text/xml", "<Response><Hangup/></Response>");
  CHECK_OK(vc_sim_call_plan_set(s, "twilio-voice", "+919812345678", &cust));
  snprintf(parent, sizeof(parent), "%s", start_click(s, rv));

  /* the child rings by the customer's plan: its own CA sid, signed
   * callbacks to <Number statusCallback> with ParentCallSid */
  CHECK((q = rx_find(rv, "/cust", 0)) != NULL);
  snprintf(want, sizeof(want), "http://127.0.0.1:%u/cust?vc_step=customer",
           rv->port);
  check_twilio_signed(q, want);
  snprintf(child, sizeof(child), "%s", rx_form(q, "CallSid"));
  CHECK(strlen(child) == 34 && strncmp(child, "CA", 2) == 0);
  CHECK(strcmp(child, parent) != 0);
  CHECK_STR(rx_form(q, "ParentCallSid"), parent);
  CHECK_STR(rx_form(q, "CallStatus"), "initiated");
  CHECK_STR(rx_form(q, "To"), "+919812345678");
  CHECK_STR(rx_form(q, "From"), "+15005550006");
  CHECK_STR(rx_form(q, "Direction"), "outbound-dial");
  CHECK_STR(rx_form(rx_find(rv, "/cust", 1), "CallStatus"), "ringing");
  CHECK_STR(rx_form(rx_find(rv, "/cust", 2), "CallStatus"), "in-progress");
  /* the whisper: fetched signed, recorded as the child's document, and
   * its Gather takes keys */
  CHECK((q = rx_find(rv, "/whisper", 0)) != NULL);
  snprintf(want, sizeof(want), "http://127.0.0.1:%u/whisper", rv->port);
  check_twilio_signed(q, want);
  CHECK_STR(rx_form(q, "CallSid"), child);
  CHECK_STR(rx_form(q, "ParentCallSid"), parent);
  wait_doc(s, child, 0, doc, sizeof(doc));
  CHECK_STR(doc, gather);
  CHECK_OK(vc_sim_twilio_voice_press(s, child, "1"));
  CHECK((q = rx_find(rv, "/ivr", 0)) != NULL);
  CHECK_STR(rx_form(q, "Digits"), "1");
  CHECK_STR(rx_form(q, "CallSid"), child);
  /* the child resource names its parent */
  snprintf(path, sizeof(path), CALLS "/%s.json", child);
  tv_get(&r, s, path);
  CHECK((j = json(&r)) != NULL);
  CHECK_STR(jstr(j, "parent_call_sid"), parent);
  cJSON_Delete(j);
  resp_free(&r);

  /* the conversation ends: the child completes, the Dial action runs on
   * the parent's behalf with the recording, the recording callback
   * follows, and the action's Hangup ends the parent */
  CHECK((q = rx_find(rv, "/cust", 3)) != NULL);
  CHECK_STR(rx_form(q, "CallStatus"), "completed");
  CHECK_STR(rx_form(q, "CallDuration"), "2");
  CHECK((q = rx_find(rv, "/dial_end", 0)) != NULL);
  snprintf(want, sizeof(want), "http://127.0.0.1:%u/dial_end?vc_call=c1&"
           "vc_step=dial_end", rv->port);
  check_twilio_signed(q, want);
  CHECK_STR(rx_form(q, "CallSid"), parent);
  CHECK_STR(rx_form(q, "DialCallStatus"), "completed");
  CHECK_STR(rx_form(q, "DialCallSid"), child);
  CHECK_STR(rx_form(q, "DialCallDuration"), "2");
  {
    char rsid[40], rurl[300];
    snprintf(rsid, sizeof(rsid), "%s", rx_form(q, "RecordingSid"));
    snprintf(rurl, sizeof(rurl), "%s", rx_form(q, "RecordingUrl"));
    CHECK(strlen(rsid) == 34 && strncmp(rsid, "RE", 2) == 0 &&
          strspn(rsid + 2, "0123456789abcdef") == 32);
    CHECK(strstr(rurl, "/2010-04-01/Accounts/" SID "/Recordings/") != NULL);
    CHECK((q = rx_find(rv, "/rec", 0)) != NULL);
    snprintf(want, sizeof(want), "http://127.0.0.1:%u/rec?vc_step="
             "recording", rv->port);
    check_twilio_signed(q, want);
    CHECK_STR(rx_form(q, "RecordingSid"), rsid);
    CHECK_STR(rx_form(q, "RecordingUrl"), rurl);
    CHECK_STR(rx_form(q, "RecordingStatus"), "completed");
    CHECK_STR(rx_form(q, "RecordingDuration"), "2");
    CHECK_STR(rx_form(q, "CallSid"), parent);
    /* the Recording resource: fetched, deleted (204), then gone */
    snprintf(path, sizeof(path), "/2010-04-01/Accounts/" SID
             "/Recordings/%s.json", rsid);
    tv_get(&r, s, path);
    CHECK(r.status == 200);
    CHECK((j = json(&r)) != NULL);
    CHECK_STR(jstr(j, "sid"), rsid);
    CHECK_STR(jstr(j, "call_sid"), parent);
    CHECK_STR(jstr(j, "duration"), "2");
    cJSON_Delete(j);
    resp_free(&r);
    {
      req_opts o = { SID ":" TOKEN, { NULL }, 0 };
      http(&r, "POST", url_of(s, path), FORM, "", 0, &o);
      check_twilio_error(&r, 405, 20004, NULL);
      resp_free(&r);
      http(&r, "DELETE", url_of(s, path), NULL, NULL, 0, &o);
      CHECK(r.status == 204);
      resp_free(&r);
      http(&r, "DELETE", url_of(s, path), NULL, NULL, 0, &o);
      check_twilio_error(&r, 404, 20404, NULL);
      resp_free(&r);
    }
    tv_get(&r, s, path);
    check_twilio_error(&r, 404, 20404, NULL);
    resp_free(&r);
  }
  wait_doc(s, parent, 1, doc, sizeof(doc));
  CHECK_STR(doc, "<Response><Hangup/></Response>");
  for (int t = 0; t < 300; t++) {
    vc_sim_call_status(s, "twilio-voice", parent, st, sizeof(st));
    if (strcmp(st, "completed") == 0)
      break;
    sleep_ms(10);
  }
  CHECK_STR(st, "completed");
  CHECK_OK(vc_sim_webhooks_wait(s, 5000));
  /* the parent's last callback is its own completed, once */
  CHECK((q = rx_find(rv, "/status", 3)) != NULL);
  CHECK_STR(rx_form(q, "CallStatus"), "completed");
  CHECK(rx_find(rv, "/status", 4) == NULL);
  /* refusals of the Recordings resource */
  tv_get(&r, s, "/2010-04-01/Accounts/" SID "/Recordings/RE00.json");
  check_twilio_error(&r, 404, 20404, NULL);
  resp_free(&r);
  tv_get(&r, s, "/2010-04-01/Accounts/" SID
         "/Recordings/RE00112233445566778899aabbccddeeff.json");
  check_twilio_error(&r, 404, 20404, NULL);
  resp_free(&r);
  rx_stop(rv);
  vc_sim_stop(s);
}

static void test_twilio_voice__dial_busy(void)
{
  vc_sim *s = start();
  receiver *rv = rx_start();
  vc_sim_call_plan busy = { VC_SIM_CALL_BUSY, 50, 0 };
  char answer[1200], parent[40], st[32];
  const rx_req *q;

  dial_twiml(answer, sizeof(answer), rv->port);
  rx_route(rv, "/answer", "text/xml", answer);
  rx_route(rv, "/dial_end", "text/xml", "<Response/>");
  CHECK_OK(vc_sim_call_plan_set(s, "twilio-voice", "+919812345678", &busy));
  snprintf(parent, sizeof(parent), "%s", start_click(s, rv));
  CHECK((q = rx_find(rv, "/cust", 2)) != NULL);
  CHECK_STR(rx_form(q, "CallStatus"), "busy");
  CHECK_STR(rx_form(q, "CallDuration"), "0");
  CHECK((q = rx_find(rv, "/dial_end", 0)) != NULL);
  CHECK_STR(rx_form(q, "DialCallStatus"), "busy");
  CHECK_STR(rx_form(q, "DialCallDuration"), "0");
  CHECK_STR(rx_form(q, "RecordingSid"), "(none)");
  /* an empty answer ends the parent too; no recording was made */
  CHECK_OK(vc_sim_webhooks_wait(s, 5000));
  CHECK(rx_find(rv, "/rec", 0) == NULL);
  vc_sim_call_status(s, "twilio-voice", parent, st, sizeof(st));
  CHECK_STR(st, "completed");
  rx_stop(rv);
  vc_sim_stop(s);
}

/* Hold and transfer as the twilio-voice adapter does them: the child
 * leaves the bridge for new TwiML; the parent's Dial action runs. */
static void test_twilio_voice__dial_updates(void)
{
  vc_sim *s = start();
  receiver *rv = rx_start();
  vc_sim_call_plan cust = { VC_SIM_CALL_ANSWER, 50, 20000 };
  char answer[1200], parent[40], child[40], path[200], doc[1200], st[32];
  const rx_req *q;
  resp r;

  dial_twiml(answer, sizeof(answer), rv->port);
  rx_route(rv, "/answer", "text/xml", answer);
  rx_route(rv, "/whisper", "text/xml", "<Response/>");
  rx_route(rv, "/dial_end", "text/xml",
           "<Response><Play loop=\"0\">http://127.0.0.1/m.mp3</Play>"
           "</Response>");
  CHECK_OK(vc_sim_call_plan_set(s, "twilio-voice", "+919812345678", &cust));
  snprintf(parent, sizeof(parent), "%s", start_click(s, rv));
  CHECK((q = rx_find(rv, "/cust", 2)) != NULL);
  CHECK_STR(rx_form(q, "CallStatus"), "in-progress");
  snprintf(child, sizeof(child), "%s", rx_form(q, "CallSid"));
  CHECK(rx_find(rv, "/whisper", 0) != NULL);
  sleep_ms(1100);

  /* hold: the child goes to a queue; the parent's Dial ends */
  snprintf(path, sizeof(path), CALLS "/%s.json", child);
  tv_post(&r, s, path, "Twiml=%3CResponse%3E%3CEnqueue%3Evc-c1%3C%2F"
          "Enqueue%3E%3C%2FResponse%3E");
  CHECK(r.status == 200);
  resp_free(&r);
  CHECK((q = rx_find(rv, "/dial_end", 0)) != NULL);
  CHECK_STR(rx_form(q, "DialCallStatus"), "completed");
  CHECK_STR(rx_form(q, "DialCallSid"), child);
  CHECK(atoi(rx_form(q, "DialCallDuration")) >= 1);
  CHECK(strncmp(rx_form(q, "RecordingSid"), "RE", 2) == 0);
  CHECK(rx_find(rv, "/rec", 0) != NULL);
  wait_doc(s, child, 1, doc, sizeof(doc));
  CHECK_STR(doc, "<Response><Enqueue>vc-c1</Enqueue></Response>");
  wait_doc(s, parent, 1, doc, sizeof(doc));
  CHECK(strstr(doc, "<Play loop=\"0\">") != NULL);
  /* both legs live on: the parent waits in its music, the child queued */
  vc_sim_call_status(s, "twilio-voice", parent, st, sizeof(st));
  CHECK_STR(st, "in-progress");
  vc_sim_call_status(s, "twilio-voice", child, st, sizeof(st));
  CHECK_STR(st, "in-progress");
  /* unhold: the parent's new TwiML is recorded */
  snprintf(path, sizeof(path), CALLS "/%s.json", parent);
  tv_post(&r, s, path, "Twiml=%3CResponse%3E%3CDial%3E%3CQueue%3Evc-c1%3C%2F"
          "Queue%3E%3C%2FDial%3E%3C%2FResponse%3E");
  CHECK(r.status == 200);
  resp_free(&r);
  CHECK(vc_sim_twilio_voice_twiml(s, parent, 2, doc, sizeof(doc)) > 0);
  CHECK_STR(doc, "<Response><Dial><Queue>vc-c1</Queue></Dial></Response>");
  /* the customer hangs up out of the bridge: its final callback only,
   * no second Dial action */
  snprintf(path, sizeof(path), CALLS "/%s.json", child);
  tv_post(&r, s, path, "Status=completed");
  CHECK(r.status == 200);
  resp_free(&r);
  CHECK((q = rx_find(rv, "/cust", 3)) != NULL);
  CHECK_STR(rx_form(q, "CallStatus"), "completed");
  CHECK_OK(vc_sim_webhooks_wait(s, 5000));
  CHECK(rx_find(rv, "/dial_end", 1) == NULL);
  /* an ended child cannot be moved */
  tv_post(&r, s, path, "Twiml=%3CResponse%2F%3E");
  check_twilio_error(&r, 400, 21220, NULL);
  resp_free(&r);
  rx_stop(rv);
  vc_sim_stop(s);
}

/* The agent hangs up during the bridge: the child goes with it and the
 * Dial action never runs; a whisper that hangs up ends the child. */
static void test_twilio_voice__dial_hangups(void)
{
  vc_sim *s = start();
  receiver *rv = rx_start();
  vc_sim_call_plan cust = { VC_SIM_CALL_ANSWER, 50, 20000 };
  char answer[1200], parent[40], path[200], st[32];
  const rx_req *q;
  resp r;

  dial_twiml(answer, sizeof(answer), rv->port);
  rx_route(rv, "/answer", "text/xml", answer);
  rx_route(rv, "/whisper", "text/xml", "<Response/>");
  rx_route(rv, "/dial_end", "text/xml", "<Response><Hangup/></Response>");
  CHECK_OK(vc_sim_call_plan_set(s, "twilio-voice", "+919812345678", &cust));
  snprintf(parent, sizeof(parent), "%s", start_click(s, rv));
  CHECK(rx_find(rv, "/whisper", 0) != NULL);
  snprintf(path, sizeof(path), CALLS "/%s.json", parent);
  tv_post(&r, s, path, "Status=completed");
  CHECK(r.status == 200);
  resp_free(&r);
  CHECK((q = rx_find(rv, "/cust", 3)) != NULL);
  CHECK_STR(rx_form(q, "CallStatus"), "completed");
  CHECK_OK(vc_sim_webhooks_wait(s, 5000));
  CHECK(rx_find(rv, "/dial_end", 0) == NULL);
  vc_sim_call_status(s, "twilio-voice", parent, st, sizeof(st));
  CHECK_STR(st, "completed");
  rx_stop(rv);

  /* the whisper hangs up (an IVR's hang-up option) */
  rv = rx_start();
  dial_twiml(answer, sizeof(answer), rv->port);
  rx_route(rv, "/answer", "text/xml", answer);
  rx_route(rv, "/whisper", "text/xml", "<Response><Hangup/></Response>");
  rx_route(rv, "/dial_end", "text/xml", "<Response><Hangup/></Response>");
  snprintf(parent, sizeof(parent), "%s", start_click(s, rv));
  CHECK((q = rx_find(rv, "/dial_end", 0)) != NULL);
  CHECK_STR(rx_form(q, "DialCallStatus"), "completed");
  CHECK((q = rx_find(rv, "/cust", 3)) != NULL);
  CHECK_STR(rx_form(q, "CallStatus"), "completed");
  CHECK_OK(vc_sim_webhooks_wait(s, 5000));
  vc_sim_call_status(s, "twilio-voice", parent, st, sizeof(st));
  CHECK_STR(st, "completed");
  rx_stop(rv);
  vc_sim_stop(s);
}

/* The call's price and price_unit as the GET shows them ("null" when
 * null). */
static void tv_price(vc_sim *s, const char *sid, char *price, size_t size,
                     char *unit, size_t usize)
{
  char path[200];
  const cJSON *p;
  cJSON *j;
  resp r;

  snprintf(path, sizeof(path), CALLS "/%s.json", sid);
  tv_get(&r, s, path);
  CHECK(r.status == 200);
  CHECK((j = json(&r)) != NULL);
  p = cJSON_GetObjectItemCaseSensitive(j, "price");
  CHECK(cJSON_IsNull(p) || cJSON_IsString(p));
  snprintf(price, size, "%s", cJSON_IsString(p) ? p->valuestring : "null");
  snprintf(unit, usize, "%s", jstr(j, "price_unit") ? jstr(j, "price_unit")
                                                     : "null");
  cJSON_Delete(j);
  resp_free(&r);
}

static void test_twilio_voice__price(void)
{
  vc_sim *s = start();
  vc_sim_call_plan busy = { VC_SIM_CALL_BUSY, 0, 0 };
  char price[40], unit[8], keep[40];
  const char *sid;

  CHECK_OK(vc_sim_set(s, "twilio-voice.price_delay_ms", "300"));
  CHECK_OK(vc_sim_call_plan_set(s, "twilio-voice", "+14155550101", &busy));
  sid = create_call(s, "To=%2B14155550100&From=%2B15005550006"
                    "&Twiml=%3CResponse%2F%3E");
  snprintf(keep, sizeof(keep), "%s", sid);
  CHECK_OK(vc_sim_webhooks_wait(s, 5000));
  /* ended, not rated yet */
  tv_price(s, keep, price, sizeof(price), unit, sizeof(unit));
  CHECK_STR(price, "null");
  CHECK_STR(unit, "USD");
  usleep(400 * 1000);
  /* the default rate, 0.0140 a started minute, as a charge */
  tv_price(s, keep, price, sizeof(price), unit, sizeof(unit));
  CHECK_STR(price, "-0.01400");
  CHECK_STR(unit, "USD");
  /* the rate is read when asked; five decimals, truncated */
  CHECK_OK(vc_sim_set(s, "twilio-voice.price_per_min", "0.1234567"));
  CHECK_OK(vc_sim_set(s, "twilio-voice.price_unit", "EUR"));
  tv_price(s, keep, price, sizeof(price), unit, sizeof(unit));
  CHECK_STR(price, "-0.12345");
  CHECK_STR(unit, "EUR");
  /* never rated */
  CHECK_OK(vc_sim_set(s, "twilio-voice.price_per_min", ""));
  tv_price(s, keep, price, sizeof(price), unit, sizeof(unit));
  CHECK_STR(price, "null");
  /* a call nobody answered costs nothing */
  CHECK_OK(vc_sim_set(s, "twilio-voice.price_per_min", "0.0140"));
  CHECK_OK(vc_sim_set(s, "twilio-voice.price_delay_ms", "0"));
  sid = create_call(s, "To=%2B14155550101&From=%2B15005550006"
                    "&Twiml=%3CResponse%2F%3E");
  snprintf(keep, sizeof(keep), "%s", sid);
  CHECK_OK(vc_sim_webhooks_wait(s, 5000));
  tv_price(s, keep, price, sizeof(price), unit, sizeof(unit));
  CHECK_STR(price, "0.00000");
  vc_sim_stop(s);
}

/* ---- Exotel ---------------------------------------------------------- */

#define EX_CONNECT "/v1/Accounts/" VC_SIM_EXOTEL_ACCOUNT_SID "/Calls/connect"
#define EX_AUTH VC_SIM_EXOTEL_API_KEY ":" VC_SIM_EXOTEL_API_TOKEN

static void ex_post(resp *r, vc_sim *s, const char *path, const char *form)
{
  req_opts o = { EX_AUTH, { NULL }, 0 };

  http(r, "POST", url_of(s, path), FORM, form, strlen(form), &o);
}

static void ex_refused(vc_sim *s, const char *form, const char *msg)
{
  resp r;
  cJSON *j, *e;

  ex_post(&r, s, EX_CONNECT ".json", form);
  if (r.status != 400)
    fprintf(stderr, "  got %ld: %s\n", r.status, r.body ? r.body : "");
  CHECK(r.status == 400);
  CHECK((j = json(&r)) != NULL);
  e = cJSON_GetObjectItemCaseSensitive(j, "RestException");
  CHECK(jnum(e, "Status") == 400);
  CHECK_STR(jstr(e, "Message"), msg);
  cJSON_Delete(j);
  resp_free(&r);
}

#define EX_OK "From=09876543210&To=%2B919812345678&CallerId=08047112345"

static void test_exotel__refusals(void)
{
  vc_sim *s = start();
  req_opts bad = { VC_SIM_EXOTEL_API_KEY ":nope", { NULL }, 0 };
  resp r;
  cJSON *j;

  http(&r, "POST", url_of(s, EX_CONNECT ".json"), FORM, EX_OK,
       strlen(EX_OK), &bad);
  CHECK(r.status == 401);
  CHECK((j = json(&r)) != NULL);
  CHECK(jnum(cJSON_GetObjectItemCaseSensitive(j, "RestException"),
             "Status") == 401);
  cJSON_Delete(j);
  resp_free(&r);
  /* The XML answer without .json. */
  http(&r, "POST", url_of(s, EX_CONNECT), FORM, EX_OK, strlen(EX_OK), NULL);
  CHECK(r.status == 401);
  CHECK(strstr(r.body, "<RestException><Status>401</Status>") != NULL);
  resp_free(&r);
  ex_post(&r, s, "/v1/Accounts/other/Calls/connect.json", EX_OK);
  CHECK(r.status == 401);
  resp_free(&r);

  ex_refused(s, "To=%2B919812345678&CallerId=08047112345",
             "Missing parameter From");
  ex_refused(s, "From=09876543210&CallerId=08047112345",
             "Missing parameter To");
  ex_refused(s, "From=09876543210&To=%2B919812345678",
             "Missing parameter CallerId");
  ex_refused(s, "From=98765&To=%2B919812345678&CallerId=08047112345",
             "Invalid phone number: 98765");
  ex_refused(s, "From=09876543210&To=%2B919812345678&CallerId=0800",
             "CallerId 0800 is not an ExoPhone of this account");
  ex_refused(s, EX_OK "&TimeLimit=14401",
             "TimeLimit must be between 1 and 14400");
  ex_refused(s, EX_OK "&StatusCallbackEvents%5B%5D=ringing",
             "Invalid StatusCallbackEvents");
  ex_refused(s, EX_OK "&StatusCallbackContentType=text%2Fplain",
             "Invalid StatusCallbackContentType");
  ex_post(&r, s, EX_CONNECT, "From=%3Cx%3E&To=1&CallerId=1");
  CHECK(r.status == 400);
  CHECK(strstr(r.body, "<Message>Invalid phone number: &lt;x&gt;</Message>")
        != NULL);
  resp_free(&r);
  CHECK(vc_sim_accepted_count(s, "exotel") == 0);
  vc_sim_stop(s);
}

/* How far (seconds) a "YYYY-MM-DD HH:MM:SS" local time at `offset_min`
 * is from now. */
static long ex_local_skew(const char *s, int offset_min)
{
  struct tm tm;
  time_t t;

  memset(&tm, 0, sizeof(tm));
  if (s == NULL || strptime(s, "%Y-%m-%d %H:%M:%S", &tm) == NULL)
    return 1000000;
  t = timegm(&tm) - (time_t)offset_min * 60;
  return labs((long)(t - time(NULL)));
}

static void test_exotel__connect(void)
{
  vc_sim *s = start();
  resp r;
  cJSON *j, *c;
  char sid[64], path[200], st[32];

  ex_post(&r, s, EX_CONNECT ".json", EX_OK);
  CHECK(r.status == 200);
  CHECK(strncmp(rhdr(&r, "Content-Type"), "application/json", 16) == 0);
  CHECK((j = json(&r)) != NULL);
  c = cJSON_GetObjectItemCaseSensitive(j, "Call");
  CHECK(jstr(c, "Sid") != NULL && strlen(jstr(c, "Sid")) == 32);
  snprintf(sid, sizeof(sid), "%s", jstr(c, "Sid"));
  CHECK_STR(jstr(c, "Status"), "queued");
  CHECK_STR(jstr(c, "From"), "09876543210");
  CHECK_STR(jstr(c, "To"), "+919812345678");
  CHECK_STR(jstr(c, "PhoneNumberSid"), "08047112345");
  CHECK_STR(jstr(c, "AccountSid"), VC_SIM_EXOTEL_ACCOUNT_SID);
  CHECK_STR(jstr(c, "Direction"), "outbound-api");
  CHECK(strlen(jstr(c, "DateCreated")) == 19);
  /* Times are the account's local time: +05:30 unless set. */
  CHECK(ex_local_skew(jstr(c, "DateCreated"), 330) <= 5);
  cJSON_Delete(j);
  resp_free(&r);
  CHECK(vc_sim_sent_count(s, "+919812345678") == 1);
  CHECK(vc_sim_sent_count(s, sid) == 1);

  ex_post(&r, s, EX_CONNECT, EX_OK);
  CHECK(r.status == 200);
  CHECK(strncmp(rhdr(&r, "Content-Type"), "application/xml", 15) == 0);
  CHECK(strstr(r.body, "<TwilioResponse>") != NULL &&
        strstr(r.body, "<Status>queued</Status>") != NULL);
  resp_free(&r);

  CHECK_OK(vc_sim_webhooks_wait(s, 5000));
  CHECK(vc_sim_call_status(s, "exotel", sid, st, sizeof(st)) > 0);
  CHECK_STR(st, "completed");
  snprintf(path, sizeof(path), "/v1/Accounts/" VC_SIM_EXOTEL_ACCOUNT_SID
           "/Calls/%s.json", sid);
  {
    req_opts o = { EX_AUTH, { NULL }, 0 };
    http(&r, "GET", url_of(s, path), NULL, NULL, 0, &o);
  }
  CHECK(r.status == 200);
  CHECK((j = json(&r)) != NULL);
  c = cJSON_GetObjectItemCaseSensitive(j, "Call");
  CHECK_STR(jstr(c, "Status"), "completed");
  CHECK_STR(jstr(c, "Duration"), "1");
  cJSON_Delete(j);
  resp_free(&r);
  CHECK_OK(vc_sim_set(s, "exotel.utc_offset", "-03:00"));
  ex_post(&r, s, EX_CONNECT ".json", EX_OK);
  CHECK((j = json(&r)) != NULL);
  CHECK(ex_local_skew(jstr(cJSON_GetObjectItemCaseSensitive(j, "Call"),
                           "DateCreated"), -180) <= 5);
  cJSON_Delete(j);
  resp_free(&r);
  CHECK_OK(vc_sim_webhooks_wait(s, 5000));
  vc_sim_stop(s);
}

/* The Price of a call as Exotel's details show it, JSON ("null" when
 * null) and XML (the element's text). */
static void ex_price(vc_sim *s, const char *sid, char *json_price,
                     size_t size, char *xml, size_t xsize)
{
  req_opts o = { EX_AUTH, { NULL }, 0 };
  char path[200];
  const cJSON *p;
  const char *a, *b;
  cJSON *j;
  resp r;

  snprintf(path, sizeof(path), "/v1/Accounts/" VC_SIM_EXOTEL_ACCOUNT_SID
           "/Calls/%s.json", sid);
  http(&r, "GET", url_of(s, path), NULL, NULL, 0, &o);
  CHECK(r.status == 200);
  CHECK((j = json(&r)) != NULL);
  p = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(j, "Call"), "Price");
  CHECK(cJSON_IsNull(p) || cJSON_IsString(p));
  snprintf(json_price, size, "%s",
           cJSON_IsString(p) ? p->valuestring : "null");
  cJSON_Delete(j);
  resp_free(&r);
  path[strlen(path) - 5] = '\0';           /* XML without .json */
  http(&r, "GET", url_of(s, path), NULL, NULL, 0, &o);
  CHECK(r.status == 200);
  CHECK((a = strstr(r.body, "<Price>")) != NULL);
  CHECK((b = strstr(a, "</Price>")) != NULL);
  snprintf(xml, xsize, "%.*s", (int)(b - a - 7), a + 7);
  resp_free(&r);
}

static void test_exotel__price(void)
{
  vc_sim *s = start();
  vc_sim_call_plan busy = { VC_SIM_CALL_BUSY, 0, 0 };
  char sid[64], price[40], xml[40];
  resp r;
  cJSON *j;

  CHECK_OK(vc_sim_set(s, "exotel.price_delay_ms", "300"));
  ex_post(&r, s, EX_CONNECT ".json", EX_OK);
  CHECK(r.status == 200 && (j = json(&r)) != NULL);
  snprintf(sid, sizeof(sid), "%s",
           jstr(cJSON_GetObjectItemCaseSensitive(j, "Call"), "Sid"));
  cJSON_Delete(j);
  resp_free(&r);
  CHECK_OK(vc_sim_webhooks_wait(s, 5000));
  ex_price(s, sid, price, sizeof(price), xml, sizeof(xml));
  CHECK_STR(price, "null");
  CHECK_STR(xml, "");
  usleep(400 * 1000);
  /* 1.200 a started minute of its Duration (1 s), three decimals */
  ex_price(s, sid, price, sizeof(price), xml, sizeof(xml));
  CHECK_STR(price, "1.200");
  CHECK_STR(xml, "1.200");
  CHECK_OK(vc_sim_set(s, "exotel.price_per_min", "0.45"));
  ex_price(s, sid, price, sizeof(price), xml, sizeof(xml));
  CHECK_STR(price, "0.450");
  CHECK_OK(vc_sim_set(s, "exotel.price_per_min", ""));
  ex_price(s, sid, price, sizeof(price), xml, sizeof(xml));
  CHECK_STR(price, "null");
  /* the customer was busy: nobody talked, nothing to pay */
  CHECK_OK(vc_sim_set(s, "exotel.price_per_min", "1.200"));
  CHECK_OK(vc_sim_call_plan_set(s, "exotel", "+919812345678", &busy));
  ex_post(&r, s, EX_CONNECT ".json", EX_OK);
  CHECK(r.status == 200 && (j = json(&r)) != NULL);
  snprintf(sid, sizeof(sid), "%s",
           jstr(cJSON_GetObjectItemCaseSensitive(j, "Call"), "Sid"));
  cJSON_Delete(j);
  resp_free(&r);
  CHECK_OK(vc_sim_webhooks_wait(s, 5000));
  usleep(400 * 1000);
  ex_price(s, sid, price, sizeof(price), xml, sizeof(xml));
  CHECK_STR(price, "0.000");
  vc_sim_stop(s);
}

/* A multipart/form-data field's value (static storage). */
static const char *mp_field(const rx_req *q, const char *name)
{
  static _Thread_local char out[4][256];
  static _Thread_local int next;
  char *o = out[next++ % 4], pat[128];
  const char *p, *e;

  snprintf(pat, sizeof(pat), "name=\"%s\"\r\n\r\n", name);
  o[0] = '\0';
  if ((p = strstr(q->body, pat)) == NULL)
    return "(none)";
  p += strlen(pat);
  e = strstr(p, "\r\n");
  snprintf(o, 256, "%.*s", (int)(e ? e - p : 0), p);
  return o;
}

static void test_exotel__callbacks(void)
{
  vc_sim *s = start();
  receiver *rv = rx_start();
  vc_sim_call_plan busy = { VC_SIM_CALL_BUSY, 0, 0 };
  vc_sim_call_plan none = { VC_SIM_CALL_NO_ANSWER, 0, 0 };
  char form[1024];
  const rx_req *q;
  cJSON *j, *legs;

  /* Answered, JSON, both events. */
  snprintf(form, sizeof(form), "%s&StatusCallback=http%%3A%%2F%%2F"
           "127.0.0.1%%3A%u%%2Fex%%3Fk%%3Dsecret&StatusCallbackEvents%%5B%%5D="
           "terminal&StatusCallbackEvents%%5B%%5D=answered"
           "&StatusCallbackContentType=application%%2Fjson&CustomField=ord-42"
           "&Record=true", EX_OK,
           rv->port);
  resp r;
  ex_post(&r, s, EX_CONNECT ".json", form);
  CHECK(r.status == 200);
  resp_free(&r);
  CHECK(rx_wait(rv, 2, 5000) == 2);
  q = rx_get(rv, 0);
  CHECK_STR(q->path, "/ex?k=secret");
  CHECK(strncmp(rx_hdr(q, "Content-Type"), "application/json", 16) == 0);
  CHECK((j = cJSON_Parse(q->body)) != NULL);
  CHECK_STR(jstr(j, "EventType"), "answered");
  CHECK_STR(jstr(j, "Status"), "in-progress");
  cJSON_Delete(j);
  q = rx_get(rv, 1);
  CHECK((j = cJSON_Parse(q->body)) != NULL);
  CHECK_STR(jstr(j, "EventType"), "terminal");
  CHECK_STR(jstr(j, "Status"), "completed");
  CHECK(jstr(j, "CallSid") != NULL && strlen(jstr(j, "CallSid")) == 32);
  CHECK_STR(jstr(j, "CustomField"), "ord-42");
  CHECK_STR(jstr(j, "From"), "09876543210");
  CHECK_STR(jstr(j, "To"), "+919812345678");
  CHECK_STR(jstr(j, "ConversationDuration"), "1");
  CHECK_STR(jstr(j, "Direction"), "outbound-api");
  CHECK(jstr(j, "RecordingUrl") != NULL);
  CHECK(jstr(j, "DateUpdated") != NULL && strlen(jstr(j, "DateUpdated")) ==
        19);
  legs = cJSON_GetObjectItemCaseSensitive(j, "Legs");
  CHECK(cJSON_GetArraySize(legs) == 2);
  CHECK_STR(jstr(cJSON_GetArrayItem(legs, 0), "Status"), "completed");
  CHECK(jnum(cJSON_GetArrayItem(legs, 1), "OnCallDuration") == 1);
  cJSON_Delete(j);

  /* The agent is busy: one terminal post, multipart, the four fields. */
  CHECK_OK(vc_sim_call_plan_set(s, "exotel", "09876543210", &busy));
  snprintf(form, sizeof(form), "%s&StatusCallback=http%%3A%%2F%%2F"
           "127.0.0.1%%3A%u%%2Fex2", EX_OK,
           rv->port);
  ex_post(&r, s, EX_CONNECT ".json", form);
  resp_free(&r);
  CHECK(rx_wait(rv, 3, 5000) == 3);
  CHECK_OK(vc_sim_webhooks_wait(s, 5000));
  CHECK(rx_wait(rv, 4, 100) == 3);
  q = rx_get(rv, 2);
  CHECK(strncmp(rx_hdr(q, "Content-Type"), "multipart/form-data; boundary=",
                30) == 0);
  CHECK_STR(mp_field(q, "Status"), "busy");
  CHECK(strlen(mp_field(q, "CallSid")) == 32);
  CHECK(strlen(mp_field(q, "DateUpdated")) == 19);
  CHECK_STR(mp_field(q, "RecordingUrl"), "");
  CHECK_STR(mp_field(q, "EventType"), "(none)");

  /* The agent answers, the customer does not: Legs tell which. */
  CHECK_OK(vc_sim_call_plan_set(s, "exotel", "09876543210", NULL));
  CHECK_OK(vc_sim_call_plan_set(s, "exotel", "+91 98123 45678", &none));
  snprintf(form, sizeof(form), "%s&StatusCallback=http%%3A%%2F%%2F"
           "127.0.0.1%%3A%u%%2Fex3&StatusCallbackEvents%%5B%%5D=terminal",
           EX_OK, rv->port);
  ex_post(&r, s, EX_CONNECT ".json", form);
  resp_free(&r);
  CHECK(rx_wait(rv, 4, 5000) == 4);
  q = rx_get(rv, 3);
  CHECK_STR(mp_field(q, "Status"), "no-answer");
  CHECK_STR(mp_field(q, "EventType"), "terminal");
  CHECK_STR(mp_field(q, "Legs[0][Status]"), "completed");
  CHECK_STR(mp_field(q, "Legs[1][Status]"), "no-answer");
  CHECK_STR(mp_field(q, "ConversationDuration"), "0");
  rx_stop(rv);
  vc_sim_stop(s);
}

/* ---- mCube ----------------------------------------------------------- */

#define MC_KEY VC_SIM_MCUBE_API_KEY
#define MC_TOKEN VC_SIM_MCUBE_TOKEN
#define MC_OK "exenumber=9876543210&custnumber=9812345678"

/* A classic GET of /api/outboundcall with this query. */
static void mc_get(resp *r, vc_sim *s, const char *query)
{
  char path[2048];

  snprintf(path, sizeof(path), "/api/outboundcall?%s", query);
  http(r, "GET", url_of(s, path), NULL, NULL, 0, NULL);
}

/* A cloud POST of this JSON, with an optional Authorization header. */
static void mc_cloud(resp *r, vc_sim *s, const char *js, const char *auth)
{
  char h[512];
  req_opts o = { NULL, { NULL }, 0 };

  if (auth != NULL) {
    snprintf(h, sizeof(h), "Authorization: %s", auth);
    o.extra[0] = h;
  }
  http(r, "POST", url_of(s, "/Restmcube-api/outbound-calls"),
       "application/json", js, strlen(js), &o);
}

/* mCube's refusal: this HTTP status and {"status": false, "msg"}. */
static void mc_check_refusal(resp *r, long status, const char *msg)
{
  cJSON *j;

  if (r->status != status)
    fprintf(stderr, "  got %ld: %s\n", r->status, r->body ? r->body : "");
  CHECK(r->status == status);
  CHECK(strncmp(rhdr(r, "Content-Type"), "application/json", 16) == 0);
  CHECK((j = json(r)) != NULL);
  CHECK(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(j, "status")));
  if (msg != NULL)
    CHECK_STR(jstr(j, "msg"), msg);
  cJSON_Delete(j);
  resp_free(r);
}

static void mc_refused(vc_sim *s, const char *query, long status,
                       const char *msg)
{
  resp r;

  mc_get(&r, s, query);
  mc_check_refusal(&r, status, msg);
}

static void mc_cloud_refused(vc_sim *s, const char *js, const char *auth,
                             long status, const char *msg)
{
  resp r;

  mc_cloud(&r, s, js, auth);
  mc_check_refusal(&r, status, msg);
}

static void test_mcube__refusals(void)
{
  vc_sim *s = start();
  char big[256], q[512];
  resp r;

  /* Classic: the key, then the numbers, then the options. */
  mc_refused(s, MC_OK, 401, "apikey is required");
  mc_refused(s, "apikey=nope&" MC_OK, 401, "Invalid apikey");
  mc_refused(s, "apikey=" MC_KEY "&custnumber=9812345678", 400,
             "exenumber is required");
  mc_refused(s, "apikey=" MC_KEY "&exenumber=9876543210", 400,
             "custnumber is required");
  mc_refused(s, "apikey=" MC_KEY "&exenumber=98765&custnumber=9812345678",
             400, "Invalid exenumber: 98765");
  mc_refused(s, "apikey=" MC_KEY "&exenumber=9876543210&custnumber=12ab",
             400, "Invalid custnumber: 12ab");
  mc_refused(s, "apikey=" MC_KEY "&" MC_OK "&did=x", 400, "Invalid did");
  mc_refused(s, "apikey=" MC_KEY "&" MC_OK "&url=ftp%3A%2F%2Fx", 400,
             "Invalid url");
  mc_refused(s, "apikey=" MC_KEY "&" MC_OK "&mct=0", 400, "Invalid mct");
  mc_refused(s, "apikey=" MC_KEY "&" MC_OK "&wct=x", 400, "Invalid wct");
  memset(big, 'r', 101);
  big[101] = '\0';
  snprintf(q, sizeof(q), "apikey=" MC_KEY "&" MC_OK "&refid=%s", big);
  mc_refused(s, q, 400, "refid must be at most 100 characters");
  http(&r, "DELETE", url_of(s, "/api/outboundcall?apikey=" MC_KEY "&" MC_OK),
       NULL, NULL, 0, NULL);
  mc_check_refusal(&r, 405, NULL);

  /* Cloud: a JSON object, then the token (body or raw header). */
  mc_cloud_refused(s, "[1]", NULL, 400, "Invalid request body");
  mc_cloud_refused(s, "{\"exenumber\": \"9876543210\", \"custnumber\": "
                   "\"9812345678\"}", NULL, 401,
                   "Authorization token is required");
  mc_cloud_refused(s, "{\"HTTP_AUTHORIZATION\": \"nope\", \"exenumber\": "
                   "\"9876543210\", \"custnumber\": \"9812345678\"}", NULL,
                   401, "Invalid token");
  /* The header carries the token alone, not a Bearer credential. */
  mc_cloud_refused(s, "{\"exenumber\": \"9876543210\", \"custnumber\": "
                   "\"9812345678\"}", "Bearer " MC_TOKEN, 401,
                   "Invalid token");
  mc_cloud_refused(s, "{\"HTTP_AUTHORIZATION\": \"" MC_TOKEN "\", "
                   "\"custnumber\": \"9812345678\"}", NULL, 400,
                   "exenumber is required");
  mc_cloud_refused(s, "{\"HTTP_AUTHORIZATION\": \"" MC_TOKEN "\", "
                   "\"exenumber\": [1], \"custnumber\": \"9812345678\"}",
                   NULL, 400, "Invalid exenumber: ?");
  mc_cloud_refused(s, "{\"HTTP_AUTHORIZATION\": \"" MC_TOKEN "\", "
                   "\"exenumber\": \"9876543210\", \"custnumber\": "
                   "\"9812345678\", \"refurl\": \"ftp://x\"}", NULL, 400,
                   "Invalid refurl");
  http(&r, "GET", url_of(s, "/Restmcube-api/outbound-calls"), NULL, NULL, 0,
       NULL);
  mc_check_refusal(&r, 405, NULL);
  mc_cloud(&r, s, "{}", NULL);
  resp_free(&r);
  http(&r, "POST", url_of(s, "/Restmcube-api/other"), "application/json",
       "{}", 2, NULL);
  mc_check_refusal(&r, 404, NULL);

  /* Refusals in the body alone, HTTP 200. */
  CHECK_OK(vc_sim_set(s, "mcube.error_status", "200"));
  mc_refused(s, "apikey=nope&" MC_OK, 200, "Invalid apikey");
  CHECK(vc_sim_accepted_count(s, "mcube") == 0);
  vc_sim_stop(s);
}

/* An accepted request's body, its refid checked unless NULL ("": null);
 * returns the callid (static storage). */
static const char *mc_accepted(resp *r, const char *refid)
{
  static char id[48];
  cJSON *j;
  const char *c;
  long long secs, now = (long long)time(NULL);

  if (r->status != 200)
    fprintf(stderr, "  got %ld: %s\n", r->status, r->body ? r->body : "");
  CHECK(r->status == 200);
  CHECK(strncmp(rhdr(r, "Content-Type"), "application/json", 16) == 0);
  CHECK((j = json(r)) != NULL);
  CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "status")));
  CHECK_STR(jstr(j, "msg"), "Call initiated successfully");
  c = jstr(j, "callid");
  CHECK(c != NULL && strlen(c) == 20 && strspn(c, "0123456789") == 20);
  /* Ten digits, then the Unix seconds of the call's start. */
  secs = atoll(c + 10);
  CHECK(secs >= now - 5 && secs <= now + 1);
  if (refid != NULL && *refid)
    CHECK_STR(jstr(j, "refid"), refid);
  else if (refid != NULL)
    CHECK(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j, "refid")));
  snprintf(id, sizeof(id), "%s", c ? c : "");
  cJSON_Delete(j);
  resp_free(r);
  return id;
}

static void test_mcube__initiated(void)
{
  vc_sim *s = start();
  char id[48], st[32];
  const char *form = "apikey=" MC_KEY "&" MC_OK "&refid=lead-7";
  resp r;

  mc_get(&r, s, "apikey=" MC_KEY "&" MC_OK "&refid=lead-7&mct=60&wct=50");
  snprintf(id, sizeof(id), "%s", mc_accepted(&r, "lead-7"));
  CHECK(vc_sim_accepted_count(s, "mcube") == 1);
  CHECK(vc_sim_sent_count(s, "9812345678") == 1);
  CHECK(vc_sim_sent_count(s, "lead-7") == 1);
  CHECK(vc_sim_sent_count(s, id) == 1);
  /* The call lives without a callback URL and ends answered. */
  CHECK_OK(vc_sim_webhooks_wait(s, 5000));
  CHECK(vc_sim_call_status(s, "mcube", id, st, sizeof(st)) > 0);
  CHECK_STR(st, "ANSWER");

  /* Classic as a form POST; the trailing slash is the same endpoint. */
  http(&r, "POST", url_of(s, "/api/outboundcall/"), FORM, form, strlen(form),
       NULL);
  mc_accepted(&r, "lead-7");
  /* Cloud: the token in the body, or as the raw header; refurl 1. */
  mc_cloud(&r, s, "{\"HTTP_AUTHORIZATION\": \"" MC_TOKEN "\", \"exenumber\":"
           " \"9876543210\", \"custnumber\": \"+919812345678\", \"refurl\": "
           "\"1\", \"refid\": \"lead-8\"}", NULL);
  mc_accepted(&r, "lead-8");
  mc_cloud(&r, s, "{\"exenumber\": 9876543210, \"custnumber\": 9812345678, "
           "\"refurl\": 1}", MC_TOKEN);
  mc_accepted(&r, "");
  CHECK(vc_sim_accepted_count(s, "mcube") == 4);
  CHECK(vc_sim_duplicate_count(s, "mcube") == 2);
  CHECK_OK(vc_sim_webhooks_wait(s, 5000));
  vc_sim_stop(s);
}

/* A JSON callback's field (static storage; "(none)" when absent). */
static const char *mc_field_of(const rx_req *q, const char *k)
{
  static _Thread_local char out[4][512];
  static _Thread_local int next;
  char *o = out[next++ % 4];
  cJSON *j = cJSON_Parse(q->body);
  const char *v = jstr(j, k);

  snprintf(o, 512, "%s", v ? v : "(none)");
  cJSON_Delete(j);
  return o;
}

/* Place a classic call with a callback URL on the receiver. */
static const char *mc_call(vc_sim *s, receiver *rv, const char *path,
                           const char *extra)
{
  char q[1024];
  resp r;

  snprintf(q, sizeof(q), "apikey=" MC_KEY "&" MC_OK "&url=http%%3A%%2F%%2F"
           "127.0.0.1%%3A%u%s%s", rv->port, path, extra);
  mc_get(&r, s, q);
  return mc_accepted(&r, NULL);
}

static void test_mcube__callbacks(void)
{
  vc_sim *s = start();
  receiver *rv = rx_start();
  vc_sim_call_plan busy = { VC_SIM_CALL_BUSY, 0, 0 };
  vc_sim_call_plan none = { VC_SIM_CALL_NO_ANSWER, 0, 0 };
  vc_sim_call_plan talk = { VC_SIM_CALL_ANSWER, 0, 1500 };
  char id[48], st[32], want[256];
  const rx_req *q;

  /* Answered: one post when it ends, the reference echoed. */
  CHECK_OK(vc_sim_call_plan_set(s, "mcube", "9812345678", &talk));
  snprintf(id, sizeof(id), "%s", mc_call(s, rv, "%2Fmc%3Fk%3Dsecret",
                                         "&refid=lead-42&did=8047112999"));
  CHECK(rx_wait(rv, 1, 5000) == 1);
  q = rx_get(rv, 0);
  CHECK_STR(q->path, "/mc?k=secret");
  CHECK(strncmp(rx_hdr(q, "Content-Type"), "application/json", 16) == 0);
  CHECK_STR(mc_field_of(q, "callid"), id);
  CHECK_STR(mc_field_of(q, "refid"), "lead-42");
  CHECK_STR(mc_field_of(q, "dialstatus"), "ANSWER");
  CHECK_STR(mc_field_of(q, "status"), "Call complete");
  CHECK_STR(mc_field_of(q, "duration"), "2");
  CHECK_STR(mc_field_of(q, "answeredtime"), "00:00:02");
  CHECK_STR(mc_field_of(q, "emp_phone"), "9876543210");
  CHECK_STR(mc_field_of(q, "callto"), "9812345678");
  CHECK_STR(mc_field_of(q, "clicktocalldid"), "8047112999");
  CHECK_STR(mc_field_of(q, "direction"), "outbound");
  CHECK_STR(mc_field_of(q, "disconnectedby"), "Customer");
  CHECK(strlen(mc_field_of(q, "starttime")) == 19);
  CHECK(strlen(mc_field_of(q, "endtime")) == 19);
  CHECK(strcmp(mc_field_of(q, "starttime"), mc_field_of(q, "endtime")) < 0);
  snprintf(want, sizeof(want), "%s/mcube/recordings/%s.wav",
           vc_sim_base_url(s), id);
  CHECK_STR(mc_field_of(q, "filename"), want);
  CHECK(vc_sim_call_status(s, "mcube", id, st, sizeof(st)) > 0);
  CHECK_STR(st, "ANSWER");
  CHECK_OK(vc_sim_call_plan_set(s, "mcube", "9812345678", NULL));

  /* The agent is busy: the customer is never rung, nothing recorded. */
  CHECK_OK(vc_sim_call_plan_set(s, "mcube", "98765 43210", &busy));
  snprintf(id, sizeof(id), "%s", mc_call(s, rv, "%2Fmc2", ""));
  CHECK(rx_wait(rv, 2, 5000) == 2);
  q = rx_get(rv, 1);
  CHECK_STR(mc_field_of(q, "callid"), id);
  CHECK_STR(mc_field_of(q, "dialstatus"), "Executive Busy");
  CHECK_STR(mc_field_of(q, "status"), "Executive Busy");
  CHECK_STR(mc_field_of(q, "duration"), "0");
  CHECK_STR(mc_field_of(q, "answeredtime"), "00:00:00");
  CHECK_STR(mc_field_of(q, "filename"), "");
  CHECK_STR(mc_field_of(q, "refid"), "");
  CHECK_STR(mc_field_of(q, "clicktocalldid"), VC_SIM_MCUBE_DID);
  CHECK(vc_sim_call_status(s, "mcube", id, st, sizeof(st)) > 0);
  CHECK_STR(st, "Executive Busy");
  CHECK_OK(vc_sim_call_plan_set(s, "mcube", "9876543210", NULL));

  /* The customer does not answer; a form body this time. */
  CHECK_OK(vc_sim_set(s, "mcube.callback_format", "form"));
  CHECK_OK(vc_sim_call_plan_set(s, "mcube", "9812345678", &none));
  snprintf(id, sizeof(id), "%s", mc_call(s, rv, "%2Fmc3", "&refid=a%26b"));
  CHECK(rx_wait(rv, 3, 5000) == 3);
  q = rx_get(rv, 2);
  CHECK(strncmp(rx_hdr(q, "Content-Type"),
                "application/x-www-form-urlencoded", 33) == 0);
  CHECK_STR(rx_form(q, "callid"), id);
  CHECK_STR(rx_form(q, "refid"), "a&b");
  CHECK_STR(rx_form(q, "dialstatus"), "NoAnswer");
  CHECK_STR(rx_form(q, "status"), "Customer Not Answered");
  CHECK_STR(rx_form(q, "duration"), "0");
  CHECK_STR(rx_form(q, "emp_phone"), "9876543210");
  CHECK_OK(vc_sim_call_plan_set(s, "mcube", "9812345678", NULL));
  CHECK_OK(vc_sim_set(s, "mcube.callback_format", "json"));

  /* refurl "1": the dashboard's URL; no recording when the account
   * does not record. */
  {
    vc_sim_webhooks w = VC_SIM_WEBHOOKS_INIT;
    char js[512], url[128];
    resp r;
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/dash", rv->port);
    w.url = url;
    CHECK_OK(vc_sim_webhooks_set(s, "mcube", &w));
    CHECK_OK(vc_sim_set(s, "mcube.record", "0"));
    snprintf(js, sizeof(js), "{\"HTTP_AUTHORIZATION\": \"%s\", "
             "\"exenumber\": \"9876543210\", \"custnumber\": "
             "\"09812345678\", \"refurl\": \"1\", \"refid\": \"crm-9\"}",
             MC_TOKEN);
    mc_cloud(&r, s, js, NULL);
    snprintf(id, sizeof(id), "%s", mc_accepted(&r, "crm-9"));
    CHECK(rx_wait(rv, 4, 5000) == 4);
    q = rx_get(rv, 3);
    CHECK_STR(q->path, "/dash");
    CHECK_STR(mc_field_of(q, "callid"), id);
    CHECK_STR(mc_field_of(q, "refid"), "crm-9");
    CHECK_STR(mc_field_of(q, "dialstatus"), "ANSWER");
    CHECK_STR(mc_field_of(q, "callto"), "09812345678");
    CHECK_STR(mc_field_of(q, "filename"), "");
  }
  CHECK_OK(vc_sim_webhooks_wait(s, 5000));
  CHECK(rx_wait(rv, 5, 100) == 4);
  rx_stop(rv);
  vc_sim_stop(s);
}

static void test_mcube__duplicates(void)
{
  vc_sim *s = start();
  receiver *rv = rx_start();
  vc_sim_webhooks w = VC_SIM_WEBHOOKS_INIT;
  char id[48], st[32];

  w.duplicates = 1;
  CHECK_OK(vc_sim_webhooks_set(s, "mcube", &w));
  snprintf(id, sizeof(id), "%s", mc_call(s, rv, "%2Fd", "&refid=r1"));
  CHECK_OK(vc_sim_webhooks_wait(s, 5000));
  /* The one end-of-call post, twice, byte for byte. */
  CHECK(rx_wait(rv, 3, 200) == 2);
  CHECK_STR(rx_get(rv, 0)->body, rx_get(rv, 1)->body);
  CHECK_STR(mc_field_of(rx_get(rv, 1), "callid"), id);
  CHECK_STR(mc_field_of(rx_get(rv, 1), "refid"), "r1");

  /* Off: the call still lives and ends, unheard. */
  w.duplicates = 0;
  w.off = 1;
  CHECK_OK(vc_sim_webhooks_set(s, "mcube", &w));
  snprintf(id, sizeof(id), "%s", mc_call(s, rv, "%2Fd", ""));
  CHECK_OK(vc_sim_webhooks_wait(s, 5000));
  CHECK(rx_wait(rv, 3, 200) == 2);
  CHECK(vc_sim_call_status(s, "mcube", id, st, sizeof(st)) > 0);
  CHECK_STR(st, "ANSWER");
  rx_stop(rv);
  vc_sim_stop(s);
}

VC_TESTS(
  VC_TEST(test_twilio_voice__refusals),
  VC_TEST(test_twilio_voice__created),
  VC_TEST(test_twilio_voice__answered),
  VC_TEST(test_twilio_voice__outcomes),
  VC_TEST(test_twilio_voice__duplicates),
  VC_TEST(test_twilio_voice__gather_and_update),
  VC_TEST(test_twilio_voice__dial_child),
  VC_TEST(test_twilio_voice__dial_busy),
  VC_TEST(test_twilio_voice__dial_updates),
  VC_TEST(test_twilio_voice__dial_hangups),
  VC_TEST(test_twilio_voice__price),
  VC_TEST(test_exotel__refusals),
  VC_TEST(test_exotel__connect),
  VC_TEST(test_exotel__callbacks),
  VC_TEST(test_exotel__price),
  VC_TEST(test_mcube__refusals),
  VC_TEST(test_mcube__initiated),
  VC_TEST(test_mcube__callbacks),
  VC_TEST(test_mcube__duplicates),
)
