/*
 * The simulator's inbound calls: Twilio's incoming-call webhook (signed,
 * its form fields), the TwiML it then executes (Say, Gather with the
 * plan's keys or a timeout, Pause, Redirect, Dial with the leg's status
 * callbacks and the action, Record, Hangup), the caller hanging up at a
 * planned verb, an API hangup, and the number's status callback.
 */
#define _GNU_SOURCE
#include "harness.h"
#include "sim.h"
#include "test_sim_util.h"
#include <unistd.h>

#define CALLS "/2010-04-01/Accounts/" SID "/Calls"
#define FORM "application/x-www-form-urlencoded"

static const char *rx_url(receiver *rv, const char *path)
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

/* The first request received for `path` (query ignored) from index i. */
static const rx_req *rx_find(receiver *rv, const char *path, size_t from)
{
  size_t i, n = rx_wait(rv, 0, 0);

  for (i = from; i < n; i++) {
    const rx_req *q = rx_get(rv, i);
    if (strncmp(q->path, path, strlen(path)) == 0 &&
        (q->path[strlen(path)] == '\0' || q->path[strlen(path)] == '?'))
      return q;
  }
  return NULL;
}

static size_t rx_count(receiver *rv, const char *path)
{
  size_t i, k = 0, n = rx_wait(rv, 0, 0);

  for (i = 0; i < n; i++)
    if (strncmp(rx_get(rv, i)->path, path, strlen(path)) == 0)
      k++;
  return k;
}

static void incoming(vc_sim *s, receiver *rv, vc_sim_incoming *in,
                     char sid[35])
{
  in->voice_url = in->voice_url ? in->voice_url : rx_url(rv, "/voice");
  in->status_url = rx_url(rv, "/status");
  in->from = "+919812345678";
  in->to = "+14155550123";
  CHECK_OK(vc_sim_twilio_incoming(s, in, sid));
  CHECK(strncmp(sid, "CA", 2) == 0 && strlen(sid) == 34);
  CHECK_OK(vc_sim_incoming_wait(s, "twilio-voice", sid, 10000));
}

static void test_twilio_incoming__ivr_queue_agent(void)
{
  vc_sim *s = start();
  receiver *rv = rx_start();
  vc_sim_incoming in = VC_SIM_INCOMING_INIT;
  vc_sim_call_plan agent = { VC_SIM_CALL_ANSWER, 30, 40 };
  char voice[512], queue[1024], sid[35], log[2048], st[32], path[200];
  const rx_req *q;
  resp r;
  cJSON *j;

  snprintf(voice, sizeof(voice), "<?xml version=\"1.0\"?><Response>"
           "<Say>Welcome</Say><Gather numDigits=\"1\" action=\"/menu?"
           "vc_step=ivr&amp;n=1\" method=\"POST\"><Say>Press 1</Say>"
           "</Gather><Say>Bye</Say></Response>");
  snprintf(queue, sizeof(queue), "<Response><Dial timeout=\"20\" "
           "action=\"%s\"><Number statusCallback=\"%s\" statusCallbackEvent="
           "\"initiated ringing answered completed\">+15550001111</Number>"
           "</Dial></Response>", rx_url(rv, "/dialed"), rx_url(rv, "/leg"));
  rx_route(rv, "/voice", "text/xml", voice);
  rx_route(rv, "/menu", "text/xml", "<Response><Pause length=\"2\"/>"
           "<Redirect>/queue</Redirect></Response>");
  rx_route(rv, "/queue", "text/xml", queue);
  rx_route(rv, "/dialed", "text/xml", "<Response><Hangup/></Response>");
  CHECK_OK(vc_sim_call_plan_set(s, "twilio-voice", "+15550001111", &agent));
  in.digits = "1";
  incoming(s, rv, &in, sid);

  CHECK(vc_sim_incoming_log(s, "twilio-voice", sid, log, sizeof(log)) > 0);
  snprintf(voice, sizeof(voice), "incoming 200\nsay Welcome\nsay Press 1\n"
           "gather 1\npause 2\nredirect %s\ndial +15550001111 completed\n"
           "hangup\ncompleted\n", rx_url(rv, "/queue"));
  CHECK_STR(log, voice);

  /* The incoming-call webhook: signed, Twilio's fields. */
  q = rx_find(rv, "/voice", 0);
  CHECK(q != NULL);
  check_twilio_signed(q, rx_url(rv, "/voice"));
  CHECK_STR(rx_form(q, "CallSid"), sid);
  CHECK_STR(rx_form(q, "AccountSid"), SID);
  CHECK_STR(rx_form(q, "CallStatus"), "ringing");
  CHECK_STR(rx_form(q, "Direction"), "inbound");
  CHECK_STR(rx_form(q, "From"), "+919812345678");
  CHECK_STR(rx_form(q, "Caller"), "+919812345678");
  CHECK_STR(rx_form(q, "To"), "+14155550123");
  CHECK_STR(rx_form(q, "Called"), "+14155550123");
  CHECK_STR(rx_form(q, "ApiVersion"), "2010-04-01");
  /* The Gather's relative action, with the keys. */
  q = rx_find(rv, "/menu", 0);
  CHECK(q != NULL);
  CHECK_STR(q->path, "/menu?vc_step=ivr&n=1");
  check_twilio_signed(q, rx_url(rv, "/menu?vc_step=ivr&n=1"));
  CHECK_STR(rx_form(q, "Digits"), "1");
  CHECK_STR(rx_form(q, "CallStatus"), "in-progress");
  /* The dialed leg's callbacks, in order. */
  CHECK(rx_count(rv, "/leg") == 4);
  {
    const char *want[] = { "initiated", "ringing", "in-progress",
                           "completed" };
    size_t from = 0;
    for (int i = 0; i < 4; i++) {
      q = rx_find(rv, "/leg", from);
      CHECK(q != NULL);
      CHECK_STR(rx_form(q, "CallStatus"), want[i]);
      CHECK_STR(rx_form(q, "ParentCallSid"), sid);
      CHECK_STR(rx_form(q, "Direction"), "outbound-dial");
      CHECK_STR(rx_form(q, "To"), "+15550001111");
      check_twilio_signed(q, rx_url(rv, "/leg"));
      for (from = 0; rx_get(rv, from) != q; from++)
        ;
      from++;
    }
    CHECK_STR(rx_form(q, "CallDuration"), "1");
  }
  q = rx_find(rv, "/dialed", 0);
  CHECK(q != NULL);
  CHECK_STR(rx_form(q, "DialCallStatus"), "completed");
  CHECK_STR(rx_form(q, "DialCallDuration"), "1");
  CHECK(strncmp(rx_form(q, "DialCallSid"), "CA", 2) == 0);
  CHECK_STR(rx_form(q, "CallSid"), sid);
  /* The number's status callback: completed, with the duration. */
  q = rx_find(rv, "/status", 0);
  CHECK(q != NULL);
  CHECK_STR(rx_form(q, "CallStatus"), "completed");
  CHECK_STR(rx_form(q, "Direction"), "inbound");
  CHECK(strcmp(rx_form(q, "CallDuration"), "(none)") != 0);
  CHECK(rx_count(rv, "/status") == 1);
  /* The call is a resource. */
  CHECK(vc_sim_call_status(s, "twilio-voice", sid, st, sizeof(st)) > 0);
  CHECK_STR(st, "completed");
  snprintf(path, sizeof(path), CALLS "/%s.json", sid);
  {
    req_opts o = { SID ":" TOKEN, { NULL }, 0 };
    http(&r, "GET", url_of(s, path), NULL, NULL, 0, &o);
  }
  CHECK(r.status == 200);
  CHECK((j = json(&r)) != NULL);
  CHECK_STR(jstr(j, "direction"), "inbound");
  CHECK_STR(jstr(j, "status"), "completed");
  cJSON_Delete(j);
  resp_free(&r);
  rx_stop(rv);
  vc_sim_stop(s);
}

static void test_twilio_incoming__timeout_busy_hangup(void)
{
  vc_sim *s = start();
  receiver *rv = rx_start();
  vc_sim_incoming in = VC_SIM_INCOMING_INIT;
  vc_sim_call_plan busy = { VC_SIM_CALL_BUSY, 20, 0 };
  char queue[512], sid[35], log[2048], want[1024];
  const rx_req *q;

  /* A Gather without keys goes on with the next verb. */
  rx_route(rv, "/voice", "text/xml", "<Response><Gather timeout=\"1\">"
           "<Say>Press</Say></Gather><Redirect>/queue</Redirect>"
           "</Response>");
  snprintf(queue, sizeof(queue), "<Response><Dial action=\"/dialed\">"
           "<Number>+15550002222</Number></Dial></Response>");
  rx_route(rv, "/queue", "text/xml", queue);
  rx_route(rv, "/dialed", "text/xml", "<Response><Pause/>"
           "<Redirect>/wait</Redirect></Response>");
  rx_route(rv, "/wait", "text/xml", "<Response><Play>http://x/m.mp3</Play>"
           "<Redirect>/wait</Redirect></Response>");
  CHECK_OK(vc_sim_call_plan_set(s, "twilio-voice", "+15550002222", &busy));
  in.hangup_verb = "Redirect";
  in.hangup_count = 4;            /* the caller gives up in the queue */
  incoming(s, rv, &in, sid);
  CHECK(vc_sim_incoming_log(s, "twilio-voice", sid, log, sizeof(log)) > 0);
  snprintf(want, sizeof(want), "incoming 200\nsay Press\ngather timeout\n"
           "redirect %s\ndial +15550002222 busy\npause 1\nredirect %s\n"
           "play http://x/m.mp3\nredirect %s\nplay http://x/m.mp3\n"
           "caller-hangup\ncompleted\n", rx_url(rv, "/queue"),
           rx_url(rv, "/wait"), rx_url(rv, "/wait"));
  CHECK_STR(log, want);
  q = rx_find(rv, "/dialed", 0);
  CHECK(q != NULL);
  CHECK_STR(rx_form(q, "DialCallStatus"), "busy");
  CHECK_STR(rx_form(q, "DialBridged"), "false");
  CHECK(rx_count(rv, "/wait") == 2);
  CHECK(rx_count(rv, "/status") == 1);

  /* The caller hangs up while the agent rings: the leg is canceled, the
   * action is still requested. */
  rx_route(rv, "/voice2", "text/xml", "<Response><Dial action=\"/d2\">"
           "<Number statusCallback=\"/l2\">+15550003333</Number></Dial>"
           "</Response>");
  memset(&in, 0, sizeof(in));
  in.voice_url = rx_url(rv, "/voice2");
  in.hangup_verb = "Dial";
  incoming(s, rv, &in, sid);
  CHECK(vc_sim_incoming_log(s, "twilio-voice", sid, log, sizeof(log)) > 0);
  CHECK_STR(log, "incoming 200\ndial +15550003333 canceled\ncaller-hangup\n"
            "completed\n");
  q = rx_find(rv, "/d2", 0);
  CHECK(q != NULL);
  CHECK_STR(rx_form(q, "DialCallStatus"), "canceled");
  CHECK_STR(rx_form(q, "CallStatus"), "completed");
  q = rx_find(rv, "/l2", 0);
  CHECK(q != NULL);
  CHECK_STR(rx_form(q, "CallStatus"), "canceled");

  /* A SIP target rings by its user part's plan; no action: next verb. */
  rx_route(rv, "/voice3", "text/xml", "<Response><Dial><Sip>"
           "sip:100@10.0.0.5</Sip></Dial><Say>Sorry</Say></Response>");
  CHECK_OK(vc_sim_call_plan_set(s, "twilio-voice", "100", &busy));
  memset(&in, 0, sizeof(in));
  in.voice_url = rx_url(rv, "/voice3");
  incoming(s, rv, &in, sid);
  CHECK(vc_sim_incoming_log(s, "twilio-voice", sid, log, sizeof(log)) > 0);
  CHECK_STR(log, "incoming 200\ndial sip:100@10.0.0.5 busy\nsay Sorry\n"
            "end\ncompleted\n");
  rx_stop(rv);
  vc_sim_stop(s);
}

static void test_twilio_incoming__record_and_api(void)
{
  vc_sim *s = start();
  receiver *rv = rx_start();
  vc_sim_incoming in = VC_SIM_INCOMING_INIT;
  char sid[35], log[2048], path[200], rec[200];
  const rx_req *q;
  resp r;
  req_opts o = { SID ":" TOKEN, { NULL }, 0 };

  rx_route(rv, "/voice", "text/xml", "<Response><Say>Leave a message"
           "</Say><Record maxLength=\"60\" action=\"/recorded\" "
           "recordingStatusCallback=\"/rec\"/></Response>");
  rx_route(rv, "/recorded", "text/xml", "<Response><Hangup/></Response>");
  in.record_s = 3;
  incoming(s, rv, &in, sid);
  CHECK(vc_sim_incoming_log(s, "twilio-voice", sid, log, sizeof(log)) > 0);
  CHECK_STR(log, "incoming 200\nsay Leave a message\nrecord 3\nhangup\n"
            "completed\n");
  q = rx_find(rv, "/recorded", 0);
  CHECK(q != NULL);
  CHECK_STR(rx_form(q, "RecordingDuration"), "3");
  CHECK(strncmp(rx_form(q, "RecordingSid"), "RE", 2) == 0);
  snprintf(rec, sizeof(rec), "%s", rx_form(q, "RecordingUrl"));
  q = rx_find(rv, "/rec", 0);
  CHECK(q != NULL);
  CHECK_STR(rx_form(q, "RecordingStatus"), "completed");
  CHECK_STR(rx_form(q, "RecordingSource"), "RecordVerb");
  CHECK_STR(rx_form(q, "RecordingUrl"), rec);
  /* The recording is served. */
  http(&r, "GET", rec, NULL, NULL, 0, &o);
  CHECK(r.status == 200);
  resp_free(&r);

  /* Hold music until the application hangs up through the API. */
  rx_route(rv, "/hold", "text/xml", "<Response><Play loop=\"0\">"
           "http://x/moh.mp3</Play></Response>");
  memset(&in, 0, sizeof(in));
  in.voice_url = rx_url(rv, "/hold");
  in.status_url = rx_url(rv, "/status");
  in.from = "+919812345678";
  in.to = "+14155550123";
  CHECK_OK(vc_sim_twilio_incoming(s, &in, sid));
  CHECK(vc_sim_incoming_wait(s, "twilio-voice", sid, 100) == -ETIMEDOUT);
  snprintf(path, sizeof(path), CALLS "/%s.json", sid);
  http(&r, "POST", url_of(s, path), FORM, "Status=completed", 16, &o);
  CHECK(r.status == 200);
  resp_free(&r);
  CHECK_OK(vc_sim_incoming_wait(s, "twilio-voice", sid, 5000));
  CHECK(vc_sim_incoming_log(s, "twilio-voice", sid, log, sizeof(log)) > 0);
  CHECK_STR(log, "incoming 200\nplay http://x/moh.mp3 loop\napi-hangup\n"
            "completed\n");

  /* An application that fails: Twilio ends the call. */
  memset(&in, 0, sizeof(in));
  in.voice_url = rx_url(rv, "/nothing");
  atomic_store(&rv->answer, 500);
  incoming(s, rv, &in, sid);
  CHECK(vc_sim_incoming_log(s, "twilio-voice", sid, log, sizeof(log)) > 0);
  CHECK_STR(log, "error 500\nincoming failed\ncompleted\n");
  CHECK(vc_sim_twilio_incoming(s, NULL, sid) == -EINVAL);
  in.voice_url = "ftp://x";
  CHECK(vc_sim_twilio_incoming(s, &in, sid) == -EINVAL);
  CHECK(vc_sim_incoming_wait(s, "twilio-voice", "CA0", 10) == -ENOENT);
  rx_stop(rv);
  vc_sim_stop(s);
}

/* A query parameter of a received GET (static storage). */
static const char *rx_query(const rx_req *q, const char *k)
{
  const char *qs = strchr(q->path, '?');

  return qs ? rx_form(&(rx_req){ .body = (char *)qs + 1 }, k) : "(none)";
}

static void test_exotel_incoming__flow(void)
{
  vc_sim *s = start();
  receiver *rv = rx_start();
  vc_sim_incoming in = VC_SIM_INCOMING_INIT;
  vc_sim_call_plan agent = { VC_SIM_CALL_ANSWER, 30, 1200 };
  char sid[33], log[2048], st[32];
  const rx_req *q;

  rx_route(rv, "/ex/gather", "application/json",
           "{\"gather_prompt\": {\"text\": \"Press 1 for sales\"}, "
           "\"max_input_digits\": 1, \"finish_on_key\": \"#\", "
           "\"input_timeout\": 2, \"repeat_menu\": 1}");
  rx_route(rv, "/ex/ivr", "application/json",
           "{\"fetch_after_attempt\": false, \"destination\": {\"numbers\": "
           "[\"+919812340001\"]}, \"max_ringing_duration\": 20, "
           "\"record\": true, \"music_on_hold\": {\"type\": "
           "\"operator_tone\"}}");
  /* the Passthrus get the receiver's default answer, 200 */
  CHECK_OK(vc_sim_call_plan_set(s, "exotel", "+919812340001", &agent));
  rx_route(rv, "/ex/in_dial", "text/plain", "");
  in.voice_url = rx_url(rv, "/ex/{step}?vc_token=abc");
  in.status_url = rx_url(rv, "/cb");
  in.from = "09812345678";
  in.to = "08047112345";
  in.digits = "1";
  in.hangup_verb = "Gather";
  in.hangup_count = 2;         /* in the flow's wait: the caller leaves */
  CHECK_OK(vc_sim_exotel_incoming(s, &in, sid));
  CHECK(strlen(sid) == 32);
  CHECK_OK(vc_sim_incoming_wait(s, "exotel", sid, 10000));
  CHECK(vc_sim_incoming_log(s, "exotel", sid, log, sizeof(log)) > 0);
  CHECK_STR(log, "passthru incoming 200\ngather say Press 1 for sales\n"
            "gather 1\ndial +919812340001 completed\n"
            "passthru in_dial 200\ncaller-hangup\ncompleted\n");
  q = rx_find(rv, "/ex/incoming", 0);
  CHECK(q != NULL);
  CHECK_STR(rx_query(q, "vc_token"), "abc");
  CHECK_STR(rx_query(q, "CallSid"), sid);
  CHECK_STR(rx_query(q, "CallFrom"), "09812345678");
  CHECK_STR(rx_query(q, "CallTo"), "08047112345");
  CHECK_STR(rx_query(q, "Direction"), "incoming");
  CHECK_STR(rx_query(q, "CallType"), "call-attempt");
  CHECK_STR(rx_hdr(q, "Exotel-Version"), "1.0");
  q = rx_find(rv, "/ex/ivr", 0);      /* the Connect, with the keys */
  CHECK(q != NULL);
  CHECK_STR(rx_query(q, "digits"), "\"1\"");
  q = rx_find(rv, "/ex/in_dial", 0);
  CHECK(q != NULL);
  CHECK_STR(rx_query(q, "DialCallStatus"), "completed");
  CHECK_STR(rx_query(q, "DialWhomNumber"), "+919812340001");
  CHECK_STR(rx_query(q, "CallType"), "completed");
  CHECK_STR(rx_query(q, "DialCallDuration"), "2");
  CHECK(strstr(rx_query(q, "RecordingUrl"), "/exotel/recordings/") != NULL);
  q = rx_find(rv, "/cb", 0);
  CHECK(q != NULL);
  CHECK(strstr(q->body, "name=\"Direction\"\r\n\r\ninbound\r\n") != NULL);
  CHECK(strstr(q->body, "name=\"Status\"\r\n\r\ncompleted\r\n") != NULL);
  CHECK(vc_sim_call_status(s, "exotel", sid, st, sizeof(st)) > 0);
  CHECK_STR(st, "completed");

  /* Nobody to dial: the flow's wait, then the Connect again. */
  rx_route(rv, "/e2/gather", "application/json",
           "{\"gather_prompt\": {\"audio_url\": \"http://x/w.mp3\"}, "
           "\"input_timeout\": 1}");
  rx_route(rv, "/e2/ivr", "application/json",
           "{\"destination\": {\"numbers\": []}}");
  memset(&in, 0, sizeof(in));
  in.voice_url = rx_url(rv, "/e2/{step}");
  in.from = "09812345678";
  in.to = "08047112345";
  in.hangup_verb = "Connect";
  in.hangup_count = 2;
  CHECK_OK(vc_sim_exotel_incoming(s, &in, sid));
  CHECK_OK(vc_sim_incoming_wait(s, "exotel", sid, 10000));
  CHECK(vc_sim_incoming_log(s, "exotel", sid, log, sizeof(log)) > 0);
  CHECK_STR(log, "passthru incoming 200\ngather play http://x/w.mp3\n"
            "gather timeout 1\ndial none\npassthru in_dial 200\nwait 5\n"
            "caller-hangup\nno-answer\n");
  q = rx_find(rv, "/e2/ivr", 0);
  CHECK(q != NULL);
  CHECK_STR(rx_query(q, "digits"), "(none)");
  CHECK(vc_sim_exotel_incoming(s, NULL, sid) == -EINVAL);
  rx_stop(rv);
  vc_sim_stop(s);
}

VC_TESTS(
  VC_TEST(test_twilio_incoming__ivr_queue_agent),
  VC_TEST(test_twilio_incoming__timeout_busy_hangup),
  VC_TEST(test_twilio_incoming__record_and_api),
  VC_TEST(test_exotel_incoming__flow),
)
