/*
 * Unit tests of the asterisk-ari adapter's wire format
 * (adapters/voip/ari_proto.c): config and credential checks, the exact
 * REST URLs (paths and query strings) the session sends, each event of
 * the ARI event description parsed into the update it makes (with
 * causes), Q.850 causes, times, and malformed events refused.
 *
 * Known-good values computed with Python, independently of the adapter:
 *   Basic = base64.b64encode(b"vyom:s3cr:t")            -> dnlvbTpzM2NyOnQ=
 *   ms    = int(datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%f%z")
 *               .timestamp() * 1000)
 *   2024-05-01T10:00:00.123+0000 -> 1714557600123
 *   2024-05-01T15:30:00.5+0530   -> 1714557600500
 */
#include "core/common.h"
#include "core/buf.h"
#include "adapters/builtin.h"
#include "adapters/voip/ari.h"

#include "harness.h"

#define CREDS "{\"username\": \"vyom\", \"password\": \"s3cr:t\"}"
#define CONFIG "{\"base_url\": \"http://10.0.0.5:8088/ari/\", " \
  "\"customer_endpoint\": \"PJSIP/{number}@trunk\", " \
  "\"caller_ids\": [\"+14155550100\"], \"moh_class\": \"calm\"}"
#define CALL "01J9ZK3M2V7Q8R4T6W0X1Y2Z3C"
#define CHAN "{\"id\": \"vc-" CALL "-a\", \"name\": \"PJSIP/agent-0001\", " \
  "\"state\": \"%s\", \"caller\": {\"name\": \"\", \"number\": \"100\"}, " \
  "\"connected\": {\"name\": \"\", \"number\": \"\"}, " \
  "\"accountcode\": \"\", \"dialplan\": {\"context\": \"default\", " \
  "\"exten\": \"s\", \"priority\": 1, \"app_name\": \"Stasis\", " \
  "\"app_data\": \"vyomcomm\"}, \"creationtime\": " \
  "\"2024-05-01T09:59:50.000+0000\", \"language\": \"en\"}"

static vc__ari_config *cfg_new(const char *config)
{
  void *st = NULL;

  CHECK_RC(vc__ari_init(&st, config, CREDS), 0);
  return st;
}

static void test_ari__config(void)
{
  vc__ari_config *c = cfg_new(CONFIG);
  void *st = NULL;
  static const char *const bad[] = {
    "{}",                                                     /* no base */
    "{\"base_url\": \"ftp://pbx/ari\", \"customer_endpoint\": \"PJSIP/{number}\"}",
    "{\"base_url\": \"http://u:p@pbx/ari\", \"customer_endpoint\": \"PJSIP/{number}\"}",
    "{\"base_url\": \"http://pbx/ari?x=1\", \"customer_endpoint\": \"PJSIP/{number}\"}",
    "{\"base_url\": \"http:///ari\", \"customer_endpoint\": \"PJSIP/{number}\"}",
    "{\"base_url\": \"http://pbx:8088/ari\"}",                /* no customer */
    "{\"base_url\": \"http://pbx/ari\", \"customer_endpoint\": \"PJSIP/trunk\"}",
    "{\"base_url\": \"http://pbx/ari\", \"customer_endpoint\": \"{number}\"}",
    "{\"base_url\": \"http://pbx/ari\", \"customer_endpoint\": \"PJSIP/{number}&x\"}",
    "{\"base_url\": \"http://pbx/ari\", \"customer_endpoint\": \"PJSIP/{number}{digits}\"}",
    "{\"base_url\": \"http://pbx/ari\", \"customer_endpoint\": \"PJSIP/{number}\", \"app\": \"a b\"}",
    "{\"base_url\": \"http://pbx/ari\", \"customer_endpoint\": \"PJSIP/{number}\", \"moh_class\": \"\"}",
    "{\"base_url\": \"http://pbx/ari\", \"customer_endpoint\": \"PJSIP/{number}\", \"colour\": 1}",
    "{\"base_url\": 5, \"customer_endpoint\": \"PJSIP/{number}\"}",
    "{\"base_url\": \"http://pbx/ari\", \"customer_endpoint\": \"PJSIP/{number}\", \"request_timeout_ms\": 99}",
    "{\"base_url\": \"http://pbx/ari\", \"customer_endpoint\": \"PJSIP/{number}\", \"request_timeout_ms\": 60001}",
    "{\"base_url\": \"http://pbx/ari\", \"customer_endpoint\": \"PJSIP/{number}\", \"request_timeout_ms\": 1.5}",
    "{\"base_url\": \"http://pbx/ari\", \"customer_endpoint\": \"PJSIP/{number}\", \"request_timeout_ms\": 1e30}",
    "{\"base_url\": \"http://pbx/ari\", \"customer_endpoint\": \"PJSIP/{number}\", \"request_timeout_ms\": \"5000\"}",
  };

  CHECK(strcmp(c->base_url, "http://10.0.0.5:8088/ari") == 0);
  CHECK(strcmp(c->app, "vyomcomm") == 0);
  CHECK(strcmp(c->agent_endpoint, "PJSIP/{number}") == 0);
  CHECK(strcmp(c->moh_class, "calm") == 0);
  CHECK(strcmp(c->authorization, "Basic dnlvbTpzM2NyOnQ=") == 0);
  CHECK(c->request_timeout_ms == VC__ARI_REQUEST_TIMEOUT_MS);
  vc__ari_fini(c);
  c = cfg_new("{\"base_url\": \"http://pbx/ari\", \"customer_endpoint\": "
              "\"PJSIP/{number}\", \"request_timeout_ms\": 2500}");
  CHECK(c->request_timeout_ms == 2500);
  vc__ari_fini(c);
  /* https is accepted as well as http on any host */
  c = cfg_new("{\"base_url\": \"https://pbx.example.com:8089/ari\", "
              "\"app\": \"crm-calls\", \"agent_endpoint\": "
              "\"SIP/{digits}\", \"customer_endpoint\": \"PJSIP/{number}\"}");
  CHECK(strcmp(c->app, "crm-calls") == 0);
  vc__ari_fini(c);
  for (size_t i = 0; i < VC_ARRAY_SIZE(bad); i++) {
    CHECK_RC(vc__ari_init(&st, bad[i], CREDS), VC_EINVALID);
    CHECK(st == NULL);
  }
  /* credentials: both required, no spaces, never quoted */
  CHECK_RC(vc__ari_init(&st, CONFIG, "{}"), VC_EINVALID);
  CHECK_RC(vc__ari_init(&st, CONFIG, "{\"username\": \"vyom\"}"),
           VC_EINVALID);
  CHECK_RC(vc__ari_init(&st, CONFIG, "{\"username\": \"vyom\", "
                        "\"password\": \"has space\"}"), VC_EINVALID);
  CHECK(strstr(vc_error_last()->message, "has space") == NULL);
  CHECK_RC(vc__ari_init(&st, CONFIG, "{\"username\": \"a:b\", "
                        "\"password\": \"x\"}"), VC_EINVALID);
  CHECK_RC(vc__ari_init(&st, CONFIG, "{\"username\": \"vyom\", "
                        "\"password\": \"x\", \"token\": \"y\"}"),
           VC_EINVALID);
  /* the adapter is a session adapter */
  CHECK(vc__adapter_asterisk_ari.session == &vc__ari_session_ops);
  CHECK(vc__adapter_asterisk_ari.build_call == NULL);
  CHECK(vc__adapter_asterisk_ari.kind == VC_CHANNEL_VOICE);
  CHECK((vc__adapter_asterisk_ari.capabilities &
         (VC_CAP_CALL_HOLD | VC_CAP_CALL_TRANSFER | VC_CAP_CALL_HANGUP |
          VC_CAP_CALL_RECORD)) ==
        (VC_CAP_CALL_HOLD | VC_CAP_CALL_TRANSFER | VC_CAP_CALL_HANGUP |
         VC_CAP_CALL_RECORD));
}

static void test_ari__endpoint(void)
{
  vc_buf b = VC_BUF_INIT;

  CHECK_RC(vc__ari_endpoint(&b, "PJSIP/{number}@trunk", "+919876543210"), 0);
  CHECK(strcmp(b.ptr, "PJSIP/+919876543210@trunk") == 0);
  CHECK_RC(vc__ari_endpoint(&b, "SIP/trunk/{digits}", "+14155550123"), 0);
  CHECK(strcmp(b.ptr, "SIP/trunk/14155550123") == 0);
  CHECK_RC(vc__ari_endpoint(&b, "PJSIP/agents/{number}", "sip:alice@pbx"),
           0);
  CHECK(strcmp(b.ptr, "PJSIP/agents/sip:alice@pbx") == 0);
  CHECK_RC(vc__ari_endpoint(&b, "PJSIP/{number}", "+1 415"), VC_EINVALID);
  CHECK_RC(vc__ari_endpoint(&b, "PJSIP/{number}", "x&app=evil"),
           VC_EINVALID);
  CHECK_RC(vc__ari_endpoint(&b, "PJSIP/{number}", ""), VC_EINVALID);
  vc_buf_dispose(&b);
}

static void test_ari__urls(void)
{
  vc__ari_config *c = cfg_new(CONFIG);
  vc_buf u = VC_BUF_INIT;
  const char *m;
  vc__ari_originate o;

  memset(&o, 0, sizeof(o));
  o.endpoint = "PJSIP/+14155550111";
  o.channel_id = "vc-" CALL "-a";
  o.app_args = CALL;
  o.caller_id = "+14155550100";
  o.timeout_s = 30;
  CHECK_RC(vc__ari_url(&u, &m, c, VC__ARI_ORIGINATE, NULL, NULL, &o), 0);
  CHECK(strcmp(m, "POST") == 0);
  CHECK(strcmp(u.ptr, "http://10.0.0.5:8088/ari/channels?endpoint=PJSIP%2F"
               "%2B14155550111&app=vyomcomm&appArgs=" CALL "&callerId=%2B"
               "14155550100&timeout=30&channelId=vc-" CALL "-a") == 0);
  o.endpoint = "PJSIP/+919876543210@trunk";
  o.channel_id = "vc-" CALL "-c";
  o.originator = "vc-" CALL "-a";
  o.caller_id = NULL;
  o.timeout_s = 45;
  CHECK_RC(vc__ari_url(&u, &m, c, VC__ARI_ORIGINATE, NULL, NULL, &o), 0);
  CHECK(strcmp(u.ptr, "http://10.0.0.5:8088/ari/channels?endpoint=PJSIP%2F"
               "%2B919876543210%40trunk&app=vyomcomm&appArgs=" CALL
               "&timeout=45&channelId=vc-" CALL "-c&originator=vc-" CALL
               "-a") == 0);
#define URL(kind, a, b, method, want)                                     \
  do {                                                                    \
    CHECK_RC(vc__ari_url(&u, &m, c, kind, a, b, NULL), 0);                \
    CHECK(strcmp(m, method) == 0);                                        \
    CHECK(strcmp(u.ptr, "http://10.0.0.5:8088/ari" want) == 0);           \
  } while (0)
  URL(VC__ARI_HANGUP, "vc-x-a", NULL, "DELETE",
      "/channels/vc-x-a?reason=normal");
  URL(VC__ARI_CHANNEL_GET, "vc-x-c", NULL, "GET", "/channels/vc-x-c");
  URL(VC__ARI_BRIDGE_NEW, NULL, "vc-x-b", "POST",
      "/bridges?type=mixing%2Cdtmf_events&bridgeId=vc-x-b&name=vc-x-b");
  URL(VC__ARI_BRIDGE_ADD, "vc-x-b", "vc-x-a,vc-x-c", "POST",
      "/bridges/vc-x-b/addChannel?channel=vc-x-a%2Cvc-x-c");
  URL(VC__ARI_BRIDGE_REMOVE, "vc-x-b", "vc-x-c", "POST",
      "/bridges/vc-x-b/removeChannel?channel=vc-x-c");
  URL(VC__ARI_BRIDGE_DELETE, "vc-x-b", NULL, "DELETE", "/bridges/vc-x-b");
  URL(VC__ARI_MOH_START, "vc-x-c", NULL, "POST",
      "/channels/vc-x-c/moh?mohClass=calm");
  URL(VC__ARI_MOH_STOP, "vc-x-c", NULL, "DELETE", "/channels/vc-x-c/moh");
  URL(VC__ARI_RECORD, "vc-x-b", "vc-x-r1", "POST",
      "/bridges/vc-x-b/record?name=vc-x-r1&format=wav");
  URL(VC__ARI_RECORD_STOP, "vc-x-r1", NULL, "POST",
      "/recordings/live/vc-x-r1/stop");
  URL(VC__ARI_RECORDING_DELETE, "vc-x-r1", NULL, "DELETE",
      "/recordings/stored/vc-x-r1");
  URL(VC__ARI_RECORDING_FILE, "vc-x-r1", NULL, "GET",
      "/recordings/stored/vc-x-r1/file");
  URL(VC__ARI_EVENTS, NULL, NULL, "GET", "/events?app=vyomcomm");
  /* ids are encoded: nothing from outside breaks out of a path */
  URL(VC__ARI_HANGUP, "a/../b?c", NULL, "DELETE",
      "/channels/a%2F..%2Fb%3Fc?reason=normal");
  CHECK_RC(vc__ari_url(&u, &m, c, VC__ARI_HANGUP, NULL, NULL, NULL),
           VC_EINVALID);
  CHECK_RC(vc__ari_url(&u, &m, c, VC__ARI_HANGUP, "", NULL, NULL),
           VC_EINVALID);
  vc_buf_dispose(&u);
  vc__ari_fini(c);
}

static void test_ari__time_and_causes(void)
{
  CHECK(vc__ari_time("2024-05-01T10:00:00.123+0000") == 1714557600123);
  CHECK(vc__ari_time("2024-05-01T15:30:00.5+0530") == 1714557600500);
  CHECK(vc__ari_time("2024-05-01T10:00:01.000Z") == 1714557601000);
  CHECK(vc__ari_time("2024-05-01T15:30:00.500+05:30") == 1714557600500);
  CHECK(vc__ari_time("2024-05-01 10:00:00") == 1714557600000);
  CHECK(vc__ari_time("2024-13-01T10:00:00.000+0000") == -1);
  CHECK(vc__ari_time("2024-05-01T10:00:00.+0000") == -1);
  CHECK(vc__ari_time("2024-05-01T10:00:00.000+0000junk") == -1);
  CHECK(vc__ari_time("yesterday") == -1);
  CHECK(vc__ari_cause(16) == VC_CAUSE_NORMAL);
  CHECK(vc__ari_cause(17) == VC_CAUSE_BUSY);
  CHECK(vc__ari_cause(18) == VC_CAUSE_NO_ANSWER);
  CHECK(vc__ari_cause(19) == VC_CAUSE_NO_ANSWER);
  CHECK(vc__ari_cause(21) == VC_CAUSE_REJECTED);
  CHECK(vc__ari_cause(1) == VC_CAUSE_UNREACHABLE);
  CHECK(vc__ari_cause(3) == VC_CAUSE_UNREACHABLE);
  CHECK(vc__ari_cause(34) == VC_CAUSE_UNREACHABLE);
  CHECK(vc__ari_cause(0) == VC_CAUSE_NORMAL);
  CHECK(vc__ari_state_update("Ringing") == VC_UPDATE_RINGING);
  CHECK(vc__ari_state_update("Up") == VC_UPDATE_ANSWERED);
  CHECK(vc__ari_state_update("Down") == 0);
}

/* An event of the description's shape with the agent's channel. */
static void event_of(vc__ari_event *ev, const char *fmt, const char *state)
{
  char chan[1024], text[4096];
  const char *hole = strstr(fmt, "%s");

  snprintf(chan, sizeof(chan), CHAN, state);
  CHECK(hole != NULL);
  snprintf(text, sizeof(text), "%.*s%s%s", (int)(hole - fmt), fmt, chan,
           hole + 2);
  CHECK_RC(vc__ari_event_parse(ev, text, strlen(text)), 0);
}

static void test_ari__events(void)
{
  vc__ari_config *c = cfg_new(CONFIG);
  vc__ari_event ev;
  vc_call_update u;
  char eid[300];
  vc_buf url = VC_BUF_INIT;

  event_of(&ev, "{\"type\": \"ChannelStateChange\", \"timestamp\": "
           "\"2024-05-01T10:00:00.123+0000\", \"application\": "
           "\"vyomcomm\", \"asterisk_id\": \"52:54:00:12:34:56\", "
           "\"channel\": %s}", "Ringing");
  CHECK(ev.type == VC__ARI_EV_STATE);
  CHECK(strcmp(ev.channel_id, "vc-" CALL "-a") == 0);
  CHECK_RC(vc__ari_event_update(&u, &ev, CALL, VC_LEG_AGENT, eid,
                                sizeof(eid), &url, c), 0);
  CHECK(u.type == VC_UPDATE_RINGING && u.leg == VC_LEG_AGENT);
  CHECK(u.occurred_at == 1714557600123);
  CHECK(strcmp(u.call_id, CALL) == 0);
  CHECK(strcmp(u.event_id, "ari:vc-" CALL "-a:ChannelStateChange:"
               "2024-05-01T10:00:00.123+0000") == 0);
  CHECK(strcmp(u.leg_provider_id, "vc-" CALL "-a") == 0);

  event_of(&ev, "{\"type\": \"ChannelStateChange\", \"timestamp\": "
           "\"2024-05-01T10:00:00.123+0000\", \"application\": "
           "\"vyomcomm\", \"channel\": %s}", "Up");
  CHECK_RC(vc__ari_event_update(&u, &ev, CALL, VC_LEG_AGENT, eid,
                                sizeof(eid), &url, c), 0);
  CHECK(u.type == 0); /* answered is StasisStart's to say */

  event_of(&ev, "{\"type\": \"StasisStart\", \"timestamp\": "
           "\"2024-05-01T15:30:00.5+0530\", \"application\": \"vyomcomm\", "
           "\"args\": [\"" CALL "\"], \"channel\": %s}", "Up");
  CHECK(ev.type == VC__ARI_EV_STASIS_START);
  CHECK(strcmp(ev.arg0, CALL) == 0);
  CHECK_RC(vc__ari_event_update(&u, &ev, CALL, VC_LEG_CUSTOMER, eid,
                                sizeof(eid), &url, c), 0);
  CHECK(u.type == VC_UPDATE_ANSWERED && u.leg == VC_LEG_CUSTOMER);
  CHECK(u.occurred_at == 1714557600500);

  event_of(&ev, "{\"type\": \"ChannelHangupRequest\", \"timestamp\": "
           "\"2024-05-01T10:00:00.123+0000\", \"application\": "
           "\"vyomcomm\", \"cause\": 17, \"soft\": false, \"channel\": %s}",
           "Ringing");
  CHECK(ev.type == VC__ARI_EV_HANGUP_REQUEST && ev.cause == 17);
  CHECK_RC(vc__ari_event_update(&u, &ev, CALL, VC_LEG_AGENT, eid,
                                sizeof(eid), &url, c), 0);
  CHECK(u.type == 0); /* the destroyed channel ends the leg */

  {
    static const struct { int q850; int cause; const char *txt; } ends[] = {
      { 16, VC_CAUSE_NORMAL, "Normal Clearing" },
      { 17, VC_CAUSE_BUSY, "User busy" },
      { 19, VC_CAUSE_NO_ANSWER, "No answer" },
      { 21, VC_CAUSE_REJECTED, "Call Rejected" },
      { 1, VC_CAUSE_UNREACHABLE, "Unallocated (unassigned) number" },
    };
    for (size_t i = 0; i < VC_ARRAY_SIZE(ends); i++) {
      char fmt[512];
      snprintf(fmt, sizeof(fmt), "{\"type\": \"ChannelDestroyed\", "
               "\"timestamp\": \"2024-05-01T10:00:00.123+0000\", "
               "\"application\": \"vyomcomm\", \"cause\": %d, "
               "\"cause_txt\": \"%s\", \"channel\": %%s}", ends[i].q850,
               ends[i].txt);
      event_of(&ev, fmt, "Down");
      CHECK(ev.type == VC__ARI_EV_DESTROYED);
      CHECK_RC(vc__ari_event_update(&u, &ev, CALL, VC_LEG_CUSTOMER, eid,
                                    sizeof(eid), &url, c), 0);
      CHECK(u.type == VC_UPDATE_ENDED && u.leg == VC_LEG_CUSTOMER);
      CHECK(u.cause == ends[i].cause);
      CHECK(strcmp(u.provider_code, ends[i].txt) == 0);
    }
  }

  event_of(&ev, "{\"type\": \"ChannelDtmfReceived\", \"timestamp\": "
           "\"2024-05-01T10:00:00.123+0000\", \"application\": "
           "\"vyomcomm\", \"digit\": \"#\", \"duration_ms\": 120, "
           "\"channel\": %s}", "Up");
  CHECK(ev.type == VC__ARI_EV_DTMF);
  CHECK_RC(vc__ari_event_update(&u, &ev, CALL, VC_LEG_CUSTOMER, eid,
                                sizeof(eid), &url, c), 0);
  CHECK(u.type == VC_UPDATE_DTMF && strcmp(u.digits, "#") == 0);
  /* Keys pressed in the same millisecond are not one key twice. */
  CHECK(strcmp(u.event_id, "ari:vc-" CALL "-a:ChannelDtmfReceived:"
               "2024-05-01T10:00:00.123+0000:#") == 0);

  {
    static const char rec[] =
      "{\"type\": \"%s\", \"timestamp\": \"2024-05-01T10:00:00.123+0000\", "
      "\"application\": \"vyomcomm\", \"recording\": {\"name\": \"vc-" CALL
      "-r1\", \"format\": \"wav\", \"state\": \"%s\", \"target_uri\": "
      "\"bridge:vc-" CALL "-b\", \"duration\": 42}}";
    char text[1024];

    snprintf(text, sizeof(text), rec, "RecordingStarted", "recording");
    CHECK_RC(vc__ari_event_parse(&ev, text, strlen(text)), 0);
    CHECK(ev.type == VC__ARI_EV_REC_STARTED);
    CHECK_RC(vc__ari_event_update(&u, &ev, CALL, VC_LEG_NONE, eid,
                                  sizeof(eid), &url, c), 0);
    CHECK(u.type == VC_UPDATE_RECORDING);
    CHECK(u.recording_status == VC_RECORDING_STARTED);
    CHECK(strcmp(u.recording_id, "vc-" CALL "-r1") == 0);
    CHECK(strcmp(u.event_id, "ari:vc-" CALL "-r1:RecordingStarted:"
                 "2024-05-01T10:00:00.123+0000") == 0);
    snprintf(text, sizeof(text), rec, "RecordingFinished", "done");
    CHECK_RC(vc__ari_event_parse(&ev, text, strlen(text)), 0);
    CHECK_RC(vc__ari_event_update(&u, &ev, CALL, VC_LEG_NONE, eid,
                                  sizeof(eid), &url, c), 0);
    CHECK(u.recording_status == VC_RECORDING_AVAILABLE);
    CHECK(u.recording_duration_s == 42);
    CHECK(strcmp(u.recording_url, "http://10.0.0.5:8088/ari/recordings/"
                 "stored/vc-" CALL "-r1/file") == 0);
    snprintf(text, sizeof(text), rec, "RecordingFailed", "failed");
    CHECK_RC(vc__ari_event_parse(&ev, text, strlen(text)), 0);
    CHECK_RC(vc__ari_event_update(&u, &ev, CALL, VC_LEG_NONE, eid,
                                  sizeof(eid), &url, c), 0);
    CHECK(u.recording_status == VC_RECORDING_FAILED);
  }

  /* events of no interest parse, and report nothing */
  {
    static const char *const others[] = {
      "{\"type\": \"ApplicationReplaced\", \"timestamp\": "
      "\"2024-05-01T10:00:00.123+0000\", \"application\": \"vyomcomm\"}",
      "{\"type\": \"ChannelVarset\", \"application\": \"vyomcomm\", "
      "\"variable\": \"X\", \"value\": \"1\"}",
      "{\"type\": \"ChannelEnteredBridge\", \"application\": \"vyomcomm\", "
      "\"bridge\": {\"id\": \"vc-x-b\", \"technology\": \"simple_bridge\"}}",
    };
    for (size_t i = 0; i < VC_ARRAY_SIZE(others); i++) {
      CHECK_RC(vc__ari_event_parse(&ev, others[i], strlen(others[i])), 0);
      CHECK_RC(vc__ari_event_update(&u, &ev, CALL, VC_LEG_AGENT, eid,
                                    sizeof(eid), &url, c), 0);
      CHECK(u.type == 0);
    }
  }
  vc_buf_dispose(&url);
  vc__ari_fini(c);
}

static void test_ari__malformed(void)
{
  static const char *const bad[] = {
    "",
    "not json",
    "[1, 2]",
    "{\"type\": 5}",
    "{\"timestamp\": \"2024-05-01T10:00:00.000+0000\"}",
    "{\"type\": \"StasisStart\"}",
    "{\"type\": \"StasisStart\", \"channel\": {\"name\": \"x\"}}",
    "{\"type\": \"StasisStart\", \"channel\": {\"id\": 7}}",
    "{\"type\": \"StasisStart\", \"channel\": {\"id\": \"\"}}",
    "{\"type\": \"StasisStart\", \"args\": \"x\", \"channel\": {\"id\": \"a\"}}",
    "{\"type\": \"ChannelDestroyed\", \"channel\": {\"id\": \"a\"}}",
    "{\"type\": \"ChannelDestroyed\", \"cause\": \"16\", \"channel\": {\"id\": \"a\"}}",
    "{\"type\": \"ChannelDtmfReceived\", \"digit\": \"xx\", \"channel\": {\"id\": \"a\"}}",
    "{\"type\": \"ChannelDtmfReceived\", \"digit\": \"x\", \"channel\": {\"id\": \"a\"}}",
    "{\"type\": \"RecordingStarted\", \"recording\": {}}",
    "{\"type\": \"ChannelStateChange\", \"timestamp\": \"soon\", \"channel\": {\"id\": \"a\"}}",
    "{\"type\": \"ChannelStateChange\", \"channel\": {\"id\": \"a\\u0001b\"}}",
    "{\"type\": \"StasisStart\", \"channel\": {\"id\": \"a\"}, \"x\": \"\xff\"}",
  };
  vc__ari_event ev;
  char deep[256], *big;
  size_t n = 0;

  for (size_t i = 0; i < VC_ARRAY_SIZE(bad); i++) {
    CHECK_RC(vc__ari_event_parse(&ev, bad[i], strlen(bad[i])), VC_EINVALID);
    CHECK(ev.type == 0 && ev.channel_id[0] == '\0');
  }
  /* too deep */
  n += (size_t)snprintf(deep, sizeof(deep), "{\"type\": \"X\", \"a\": ");
  for (int i = 0; i < 12; i++)
    deep[n++] = '[';
  for (int i = 0; i < 12; i++)
    deep[n++] = ']';
  deep[n++] = '}';
  deep[n] = '\0';
  CHECK_RC(vc__ari_event_parse(&ev, deep, n), VC_ETOOBIG);
  /* too big */
  big = malloc(VC__ARI_EVENT_MAX + 64);
  CHECK(big != NULL);
  memset(big, ' ', VC__ARI_EVENT_MAX + 63);
  memcpy(big, "{\"type\": \"X\"}", 13);
  big[VC__ARI_EVENT_MAX + 63] = '\0';
  CHECK_RC(vc__ari_event_parse(&ev, big, VC__ARI_EVENT_MAX + 63),
           VC_ETOOBIG);
  free(big);
  /* a long id is refused, not cut */
  {
    char text[512], id[VC__ARI_ID_MAX + 10];
    memset(id, 'a', sizeof(id) - 1);
    id[sizeof(id) - 1] = '\0';
    snprintf(text, sizeof(text), "{\"type\": \"StasisStart\", \"channel\": "
             "{\"id\": \"%s\"}}", id);
    CHECK_RC(vc__ari_event_parse(&ev, text, strlen(text)), VC_EINVALID);
  }
}

/* Inbound calls: the media a script names, the answer, play, playback
 * and channel record requests, and the events they read. */
static void test_ari__inbound(void)
{
  vc__ari_config *c = cfg_new(CONFIG);
  vc_buf u = VC_BUF_INIT;
  vc__ari_media md;
  vc__ari_event ev;
  const char *m;
  char out[1100], big[1200];
  const char *ss;

  CHECK_RC(vc__ari_media_uri(out, sizeof(out), "sound:hello-world"), 0);
  CHECK(strcmp(out, "sound:hello-world") == 0);
  CHECK_RC(vc__ari_media_uri(out, sizeof(out), "sound:custom/menu.en"), 0);
  CHECK_RC(vc__ari_media_uri(out, sizeof(out),
                             "https://cdn.example/a.wav?x=1"), 0);
  CHECK(strcmp(out, "sound:https://cdn.example/a.wav?x=1") == 0);
  CHECK_RC(vc__ari_media_uri(out, sizeof(out), "sound:http://h/b.wav"), 0);
  CHECK(strcmp(out, "sound:http://h/b.wav") == 0);
  CHECK_RC(vc__ari_media_uri(out, sizeof(out), "recording:vm1"), 0);
  CHECK_RC(vc__ari_media_uri(out, sizeof(out), "digits:1234"), 0);
  CHECK_RC(vc__ari_media_uri(out, sizeof(out), "tone:ring"), 0);
  /* what Asterisk cannot play, or a path out of the sounds */
  CHECK_RC(vc__ari_media_uri(out, sizeof(out), "ftp://h/a.wav"), VC_EINVALID);
  CHECK_RC(vc__ari_media_uri(out, sizeof(out), "Welcome"), VC_EINVALID);
  CHECK_RC(vc__ari_media_uri(out, sizeof(out), "sound:../etc/x"),
           VC_EINVALID);
  CHECK_RC(vc__ari_media_uri(out, sizeof(out), "sound:/etc/x"), VC_EINVALID);
  CHECK_RC(vc__ari_media_uri(out, sizeof(out), "sound:a b"), VC_EINVALID);
  CHECK_RC(vc__ari_media_uri(out, sizeof(out), "digits:"), VC_EINVALID);
  CHECK_RC(vc__ari_media_uri(out, sizeof(out), NULL), VC_EINVALID);
  memset(big, 'a', sizeof(big) - 1);
  big[sizeof(big) - 1] = '\0';
  memcpy(big, "sound:", 6);
  CHECK_RC(vc__ari_media_uri(out, sizeof(out), big), VC_EINVALID);
  CHECK_RC(vc__ari_media_uri(out, 8, "sound:hello"), VC_EINVALID);

  URL(VC__ARI_ANSWER, "1700000000.12", NULL, "POST",
      "/channels/1700000000.12/answer");
  URL(VC__ARI_PLAYBACK_STOP, "vc-x-p1", NULL, "DELETE",
      "/playbacks/vc-x-p1");
  memset(&md, 0, sizeof(md));
  md.media = "sound:https://h/a b.wav";
  md.lang = "en";
  CHECK_RC(vc__ari_media_url(&u, &m, c, VC__ARI_PLAY, "17.1", "vc-x-p1",
                             &md), 0);
  CHECK(strcmp(m, "POST") == 0);
  CHECK(strcmp(u.ptr, "http://10.0.0.5:8088/ari/channels/17.1/play/vc-x-p1"
               "?media=sound%3Ahttps%3A%2F%2Fh%2Fa%20b.wav&lang=en") == 0);
  memset(&md, 0, sizeof(md));
  md.max_s = 120;
  md.silence_s = 5;
  md.terminate_on = "#";
  CHECK_RC(vc__ari_media_url(&u, &m, c, VC__ARI_CHANNEL_RECORD, "17.1",
                             "vc-x-v1", &md), 0);
  CHECK(strcmp(u.ptr, "http://10.0.0.5:8088/ari/channels/17.1/record?name="
               "vc-x-v1&format=wav&maxDurationSeconds=120&maxSilenceSeconds"
               "=5&ifExists=overwrite&beep=true&terminateOn=%23") == 0);
  md.max_s = md.silence_s = 0;
  md.terminate_on = NULL;
  CHECK_RC(vc__ari_media_url(&u, &m, c, VC__ARI_CHANNEL_RECORD, "17.1",
                             "vc-x-v1", &md), 0);
  CHECK(strstr(u.ptr, "maxDuration") == NULL);
  CHECK(strstr(u.ptr, "terminateOn=none") != NULL);
  CHECK_RC(vc__ari_media_url(&u, &m, c, VC__ARI_PLAY, "17.1", "p", &md),
           VC_EINVALID);  /* no media */
  CHECK_RC(vc__ari_media_url(&u, &m, c, VC__ARI_PLAY, "", "p", &md),
           VC_EINVALID);
  CHECK_RC(vc__ari_media_url(&u, &m, c, VC__ARI_HANGUP, "17.1", "p", &md),
           VC_EINVALID);

  /* StasisStart of an inbound channel: the caller and the number. */
  ss = "{\"type\": \"StasisStart\", \"timestamp\": \"2024-05-01T10:00:00.000"
       "+0000\", \"args\": [], \"channel\": {\"id\": \"1714557600.7\", "
       "\"state\": \"Ring\", \"caller\": {\"name\": \"\", \"number\": "
       "\"+919812345678\"}, \"dialplan\": {\"context\": \"from-trunk\", "
       "\"exten\": \"+914066000000\", \"priority\": 2}}}";
  CHECK_RC(vc__ari_event_parse(&ev, ss, strlen(ss)), 0);
  CHECK(ev.type == VC__ARI_EV_STASIS_START);
  CHECK(strcmp(ev.caller_num, "+919812345678") == 0);
  CHECK(strcmp(ev.exten, "+914066000000") == 0);
  CHECK(ev.arg0[0] == '\0');
  /* a caller number that is no printable id counts as withheld */
  ss = "{\"type\": \"StasisStart\", \"channel\": {\"id\": \"1.7\", "
       "\"caller\": {\"number\": \"\\u00e9\\u00e9\"}, \"dialplan\": "
       "{\"exten\": \"100\"}}}";
  CHECK_RC(vc__ari_event_parse(&ev, ss, strlen(ss)), 0);
  CHECK(ev.caller_num[0] == '\0' && strcmp(ev.exten, "100") == 0);
  ss = "{\"type\": \"StasisStart\", \"channel\": {\"id\": \"1.7\", "
       "\"dialplan\": {\"exten\": 100}}}";
  CHECK_RC(vc__ari_event_parse(&ev, ss, strlen(ss)), VC_EINVALID);
  ss = "{\"type\": \"PlaybackFinished\", \"playback\": {\"id\": \"vc-x-p2\","
       " \"media_uri\": \"sound:a\", \"target_uri\": \"channel:1.7\", "
       "\"state\": \"done\"}}";
  CHECK_RC(vc__ari_event_parse(&ev, ss, strlen(ss)), 0);
  CHECK(ev.type == VC__ARI_EV_PLAY_FINISHED);
  CHECK(strcmp(ev.playback, "vc-x-p2") == 0);
  CHECK(strcmp(ev.playback_state, "done") == 0);
  ss = "{\"type\": \"PlaybackStarted\", \"playback\": \"x\"}";
  CHECK_RC(vc__ari_event_parse(&ev, ss, strlen(ss)), VC_EINVALID);
  ss = "{\"type\": \"PlaybackStarted\", \"playback\": {\"state\": \"x\"}}";
  CHECK_RC(vc__ari_event_parse(&ev, ss, strlen(ss)), VC_EINVALID);
  vc_buf_dispose(&u);
  vc__ari_fini(c);
}

VC_TESTS(VC_TEST(test_ari__config), VC_TEST(test_ari__endpoint),
         VC_TEST(test_ari__urls), VC_TEST(test_ari__time_and_causes),
         VC_TEST(test_ari__events), VC_TEST(test_ari__malformed),
         VC_TEST(test_ari__inbound))
