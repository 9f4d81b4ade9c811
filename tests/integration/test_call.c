/*
 * Calls through the public API on sandbox-voice channels, SQLite on disk
 * and an injected clock: the whole life of a call with every timestamp
 * and timeline entry, each leg's failures, failover, idempotency, bad
 * input, hold/transfer/hangup, the watchdog, tenant isolation, webhooks,
 * lists, the caller-id pool, the host's loop and version-1 adapters.
 */
#define _GNU_SOURCE
#include "vyomcomm.h"
#include "vyomcomm/sys/adapter.h"
#include "harness.h"
#include "tenant_env.h"

#include <sqlite3.h>
#include <stddef.h>

#define T0 VC_TEST_T0

static const uint8_t KEY[32] = { 9, 9, 9 };

static void env_open(env *e)
{
  tenant_env_open(e, "calls.db", KEY, 7, "https://hooks.example.com");
}

static void env_close(env *e)
{
  tenant_env_close(e);
}

/* A sandbox-voice channel with `config`; its id into id (may be NULL). */
static void voice_channel(vc_tenant *t, const char *name, int priority,
                          const char *config, char id[VC_ID_SIZE])
{
  vc_channel_spec s = VC_CHANNEL_SPEC_INIT;
  vc_channel *ch;

  s.name = name;
  s.provider = "sandbox-voice";
  s.config_json = config;
  s.sender = "+14155550000";
  s.priority = priority;
  CHECK_OK(vc_channel_new(&ch, t, &s));
  if (id != NULL)
    snprintf(id, VC_ID_SIZE, "%s", vc_channel_id(ch));
  vc_channel_free(ch);
}

static void spec_init(vc_call_spec *s)
{
  vc_call_spec_init(s, VC_CALL_SPEC_VERSION);
  s->agent_number = "+14155550111";
  s->customer_number = "+14155550123";
}

static int count_rows(const char *sql)
{
  sqlite3 *db;
  sqlite3_stmt *st;
  int n = -1;

  CHECK(sqlite3_open(vc_test_path("calls.db"), &db) == SQLITE_OK);
  CHECK(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK);
  if (sqlite3_step(st) == SQLITE_ROW)
    n = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return n;
}

/* Run the engine until nothing is due. */
static void drain(env *e)
{
  for (int i = 0; i < 20 && vc_ctx_run(e->ctx, 0) > 0; i++)
    ;
}

static void reload(env *e, vc_call **c)
{
  (void)e;
  CHECK_OK(vc_call_refresh(*c));
}

/* The timeline as "type/leg/state@offset" joined with ' '. An entry's
 * state is the call's when it was written: a report's entry comes just
 * before the `state` entry of the state it moved the call to. */
static void timeline(env *e, const char *id, char *out, size_t size)
{
  vc_iter *it;
  vc_call_entry *en;
  int64_t seq = 0;
  size_t len = 0;

  out[0] = '\0';
  CHECK_OK(vc_call_timeline(&it, e->t, id));
  while (vc_call_entry_next(&en, it) == 0) {
    CHECK(vc_call_entry_seq(en) == seq + 1);
    seq = vc_call_entry_seq(en);
    len += (size_t)snprintf(out + len, size - len, "%s%s/%d/%s@%lld",
                            len ? " " : "", vc_call_entry_type(en),
                            vc_call_entry_leg(en),
                            vc_call_state_name(vc_call_entry_state(en)),
                            (long long)(vc_call_entry_at(en) - T0));
    CHECK(len < size);
    vc_call_entry_free(en);
  }
  vc_iter_free(it);
}

static void test_call__full_lifecycle(void)
{
  env e;
  vc_call_spec s;
  vc_call *c;
  vc_iter *it;
  const vc_event *ev;
  char line[4096], ch[VC_ID_SIZE], events[1024] = "";
  size_t len = 0;

  env_open(&e);
  voice_channel(e.t, "voice", 10,
                "{\"ring_s\":5,\"talk_s\":60,\"quality\":{\"jitter_ms\":"
                "12,\"packet_loss_pct\":0.5,\"rtt_ms\":80,\"mos\":4.1}}",
                ch);
  spec_init(&s);
  s.metadata_json = "{\"ticket\":42}";
  CHECK_OK(vc_call_start(&c, e.t, &s));
  CHECK(vc_call_state_of(c) == VC_CALL_INITIATED);
  CHECK(vc_call_state_at(c, VC_CALL_INITIATED) == T0);
  CHECK_STR(vc_call_customer_number(c), "+14155550123");
  CHECK_STR(vc_call_agent_number(c), "+14155550111");
  CHECK_STR(vc_call_channel_id(c), "");
  CHECK_STR(vc_call_provider_id(c), "");
  CHECK_STR(vc_call_metadata_json(c), "{\"ticket\":42}");
  CHECK(vc_call_record_mode(c) == VC_RECORD_OFF);
  CHECK(vc_ctx_run(e.ctx, 0) == 1);
  reload(&e, &c);
  CHECK(vc_call_state_of(c) == VC_CALL_COMPLETED);
  CHECK(vc_call_state_final(vc_call_state_of(c)));
  CHECK(vc_call_cause_of(c) == VC_CAUSE_NORMAL);
  CHECK(vc_call_failed_leg(c) == VC_LEG_NONE);
  CHECK(vc_call_error(c) == 0);
  CHECK(vc_call_attempts(c) == 1);
  CHECK_STR(vc_call_channel_id(c), ch);
  CHECK(strncmp(vc_call_provider_id(c), "sandbox-", 8) == 0);
  CHECK_STR(vc_call_caller_id(c), "+14155550000"); /* the sender */
  CHECK(vc_call_talk_seconds(c) == 60);
  CHECK(vc_call_state_at(c, VC_CALL_AGENT_RINGING) == T0);
  CHECK(vc_call_state_at(c, VC_CALL_AGENT_ANSWERED) == T0 + 5000);
  CHECK(vc_call_state_at(c, VC_CALL_CUSTOMER_RINGING) == T0 + 5000);
  CHECK(vc_call_state_at(c, VC_CALL_BRIDGED) == T0 + 10000);
  CHECK(vc_call_state_at(c, VC_CALL_COMPLETED) == T0 + 70000);
  CHECK(vc_call_state_at(c, VC_CALL_FAILED) == 0);
  timeline(&e, vc_call_id(c), line, sizeof(line));
  CHECK_STR(line,
            "state/0/initiated@0 "
            "ringing/1/initiated@0 state/0/agent_ringing@0 "
            "answered/1/agent_ringing@5000 "
            "state/0/agent_answered@5000 "
            "ringing/2/agent_answered@5000 "
            "state/0/customer_ringing@5000 "
            "answered/2/customer_ringing@10000 "
            "bridged/0/customer_ringing@10000 "
            "state/0/bridged@10000 "
            "hangup/2/bridged@70000 state/0/completed@70000 "
            "quality/0/completed@70000");
  /* One event per state, in order. */
  CHECK_OK(vc_events_since(&it, e.t, 0));
  while (vc_event_next(&ev, it) == 0)
    if (strncmp(ev->type, "call.", 5) == 0) {
      CHECK_STR(ev->subject_id, vc_call_id(c));
      len += (size_t)snprintf(events + len, sizeof(events) - len, "%s ",
                              ev->type + 5);
    }
  vc_iter_free(it);
  CHECK_STR(events, "initiated agent_ringing agent_answered "
                    "customer_ringing bridged completed quality ");
  /* Nothing left to run: the watchdog went with the end. */
  CHECK(count_rows("SELECT COUNT(*) FROM vc_job") == 0);
  vc_call_free(c);
  env_close(&e);
}

/* A leg's outcome: the state, cause and failed leg it ends with. */
static void test_call__leg_outcomes(void)
{
  static const struct {
    const char *config;
    int state, cause, leg;
    const char *last;
  } cases[] = {
    { "{\"agent\":\"busy\"}", VC_CALL_BUSY, VC_CAUSE_BUSY, VC_LEG_AGENT,
      "agent_ringing" },
    { "{\"agent\":\"no_answer\"}", VC_CALL_NO_ANSWER, VC_CAUSE_NO_ANSWER,
      VC_LEG_AGENT, "agent_ringing" },
    { "{\"agent\":\"failed\"}", VC_CALL_FAILED, VC_CAUSE_UNREACHABLE,
      VC_LEG_AGENT, "agent_ringing" },
    { "{\"customer\":\"busy\"}", VC_CALL_BUSY, VC_CAUSE_BUSY,
      VC_LEG_CUSTOMER, "customer_ringing" },
    { "{\"customer\":\"no_answer\"}", VC_CALL_NO_ANSWER,
      VC_CAUSE_NO_ANSWER, VC_LEG_CUSTOMER, "customer_ringing" },
    { "{\"customer\":\"failed\"}", VC_CALL_FAILED, VC_CAUSE_UNREACHABLE,
      VC_LEG_CUSTOMER, "customer_ringing" },
  };
  env e;

  env_open(&e);
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    vc_call_spec s;
    vc_call *c;
    char name[16], line[2048], want[64];
    g_now = T0;
    snprintf(name, sizeof(name), "v%zu", i);
    voice_channel(e.t, name, 1, cases[i].config, NULL);
    spec_init(&s);
    s.channel = name;
    CHECK_OK(vc_call_start(&c, e.t, &s));
    drain(&e);
    reload(&e, &c);
    CHECK(vc_call_state_of(c) == cases[i].state);
    CHECK(vc_call_cause_of(c) == cases[i].cause);
    CHECK(vc_call_failed_leg(c) == cases[i].leg);
    CHECK(vc_call_talk_seconds(c) == 0);
    CHECK(vc_call_state_at(c, VC_CALL_BRIDGED) == 0);
    CHECK(vc_call_state_at(c, cases[i].state) ==
          T0 + (cases[i].leg == VC_LEG_AGENT ? 5000 : 10000));
    timeline(&e, vc_call_id(c), line, sizeof(line));
    /* The last live state, then the hangup of the failing leg. */
    snprintf(want, sizeof(want), "state/0/%s@", cases[i].last);
    CHECK(strstr(line, want) != NULL);
    snprintf(want, sizeof(want), "hangup/%d/", cases[i].leg);
    CHECK(strstr(line, want) != NULL);
    CHECK(strstr(line, "bridged") == NULL);
    vc_call_free(c);
  }
  env_close(&e);
}

static void test_call__failover(void)
{
  env e;
  vc_call_spec s;
  vc_call *c;
  char bad[VC_ID_SIZE], good[VC_ID_SIZE];

  env_open(&e);
  voice_channel(e.t, "first", 1, "{\"outcome\":\"failover\"}", bad);
  voice_channel(e.t, "second", 2, "{}", good);
  spec_init(&s);
  CHECK_OK(vc_call_start(&c, e.t, &s));
  drain(&e);
  reload(&e, &c);
  CHECK(vc_call_state_of(c) == VC_CALL_COMPLETED);
  CHECK_STR(vc_call_channel_id(c), good);
  CHECK(vc_call_attempts(c) == 2);
  CHECK(vc_call_error(c) == 0);
  vc_call_free(c);
  env_close(&e);
}

static void test_call__every_channel_fails(void)
{
  env e;
  vc_call_spec s;
  vc_call *c;

  env_open(&e);
  voice_channel(e.t, "first", 1, "{\"outcome\":\"failover\"}", NULL);
  voice_channel(e.t, "second", 2, "{\"outcome\":\"failover\"}", NULL);
  spec_init(&s);
  CHECK_OK(vc_call_start(&c, e.t, &s));
  drain(&e);
  reload(&e, &c);
  CHECK(vc_call_state_of(c) == VC_CALL_FAILED);
  CHECK(vc_call_cause_of(c) == VC_CAUSE_PROVIDER_ERROR);
  CHECK(vc_call_error(c) == VC_EPROVIDER);
  CHECK(strstr(vc_call_error_message(c), "sandbox configured") != NULL);
  CHECK(vc_call_attempts(c) == 2);
  vc_call_free(c);
  /* A pinned channel that refuses: failed at once, no other channel. */
  spec_init(&s);
  s.channel = "first";
  CHECK_OK(vc_call_start(&c, e.t, &s));
  drain(&e);
  reload(&e, &c);
  CHECK(vc_call_state_of(c) == VC_CALL_FAILED);
  CHECK(vc_call_attempts(c) == 1);
  vc_call_free(c);
  env_close(&e);
}

/* Post a sandbox-voice webhook to a channel; the HTTP status. */
static int webhook(env *e, const char *channel, const char *call_id,
                   const char *body)
{
  vc_http_request req = VC_HTTP_REQUEST_INIT;
  vc_http_response res;
  char target[256];
  int status;

  snprintf(target, sizeof(target), "/webhooks/%s?vc_call=%s&vc_step=agent",
           channel, call_id);
  req.method = "POST";
  req.target = target;
  req.body = (const uint8_t *)body;
  req.body_len = strlen(body);
  vc_webhook_handle(&res, e->ctx, &req);
  status = res.status;
  vc_http_response_dispose(&res);
  return status;
}

/* A channel that keeps asking for a retry, and a webhook saying the
 * agent answered meanwhile: the call is never placed again, on that
 * channel or the next. */
static void test_call__no_failover_after_answer(void)
{
  env e;
  vc_call_spec s;
  vc_call *c;
  char first[VC_ID_SIZE];

  env_open(&e);
  voice_channel(e.t, "first", 1, "{\"outcome\":\"retry\"}", first);
  voice_channel(e.t, "second", 2, "{}", NULL);
  spec_init(&s);
  CHECK_OK(vc_call_start(&c, e.t, &s));
  CHECK(vc_ctx_run(e.ctx, 0) == 1);
  reload(&e, &c);
  CHECK(vc_call_attempts(c) == 1);
  CHECK_STR(vc_call_channel_id(c), first);
  CHECK(webhook(&e, first, vc_call_id(c),
                "{\"type\":\"answered\",\"leg\":\"agent\"}") == 200);
  g_now += 10 * 60 * 1000;
  drain(&e);
  reload(&e, &c);
  CHECK(vc_call_state_of(c) == VC_CALL_AGENT_ANSWERED);
  CHECK(vc_call_attempts(c) == 1);
  CHECK_STR(vc_call_channel_id(c), first);
  /* Skipped states are filled in with the same time. */
  CHECK(vc_call_state_at(c, VC_CALL_AGENT_RINGING) == T0);
  CHECK(vc_call_state_at(c, VC_CALL_AGENT_ANSWERED) == T0);
  vc_call_free(c);
  env_close(&e);
}

static void test_call__idempotency(void)
{
  env e;
  vc_call_spec s;
  vc_call *a, *b;

  env_open(&e);
  voice_channel(e.t, "voice", 1, "{}", NULL);
  spec_init(&s);
  s.idempotency_key = "click-1";
  CHECK_OK(vc_call_start(&a, e.t, &s));
  CHECK_OK(vc_call_start(&b, e.t, &s));
  CHECK_STR(vc_call_id(a), vc_call_id(b));
  vc_call_free(b);
  s.customer_number = "+14155550124";
  CHECK_RC(vc_call_start(&b, e.t, &s), VC_ECONFLICT);
  CHECK(b == NULL);
  vc_call_free(a);
  CHECK(count_rows("SELECT COUNT(*) FROM vc_call") == 1);
  CHECK(count_rows("SELECT COUNT(*) FROM vc_job") == 1);
  env_close(&e);
}

static void test_call__bad_input_stores_nothing(void)
{
  env e;
  vc_call_spec s;
  vc_call *c = NULL;
  vc_channel_spec cs = VC_CHANNEL_SPEC_INIT;
  vc_channel *sms;

  env_open(&e);
  /* No voice channel at all. */
  spec_init(&s);
  CHECK_RC(vc_call_start(&c, e.t, &s), VC_ENOTFOUND);
  voice_channel(e.t, "voice", 1, "{}", NULL);
  cs.name = "sms";
  cs.provider = "sandbox-sms";
  CHECK_OK(vc_channel_new(&sms, e.t, &cs));
  vc_channel_free(sms);
  spec_init(&s);
  s.customer_number = "4155550123";
  CHECK_RC(vc_call_start(&c, e.t, &s), VC_EINVALID);
  s.customer_number = "+1 415 555";
  CHECK_RC(vc_call_start(&c, e.t, &s), VC_EINVALID);
  s.customer_number = "sip:bob@example.com"; /* customers are numbers */
  CHECK_RC(vc_call_start(&c, e.t, &s), VC_EINVALID);
  s.customer_number = NULL;
  CHECK_RC(vc_call_start(&c, e.t, &s), VC_EINVALID);
  spec_init(&s);
  s.agent_number = "+0123";
  CHECK_RC(vc_call_start(&c, e.t, &s), VC_EINVALID);
  s.agent_number = "sip:";
  CHECK_RC(vc_call_start(&c, e.t, &s), VC_EINVALID);
  s.agent_number = NULL;
  CHECK_RC(vc_call_start(&c, e.t, &s), VC_EINVALID); /* nobody to ring */
  spec_init(&s);
  s.caller_id = "hello";
  CHECK_RC(vc_call_start(&c, e.t, &s), VC_EINVALID);
  spec_init(&s);
  s.channel = "nope";
  CHECK_RC(vc_call_start(&c, e.t, &s), VC_ENOTFOUND);
  s.channel = "sms";
  CHECK_RC(vc_call_start(&c, e.t, &s), VC_EINVALID);
  spec_init(&s);
  s.ivr_menu = "main";
  CHECK_RC(vc_call_start(&c, e.t, &s), VC_ENOTFOUND);
  spec_init(&s);
  s.agent = "alice";
  CHECK_RC(vc_call_start(&c, e.t, &s), VC_ENOTFOUND);
  spec_init(&s);
  s.ring_timeout_s = VC_CALL_RING_TIMEOUT_MAX + 1;
  CHECK_RC(vc_call_start(&c, e.t, &s), VC_EINVALID);
  s.ring_timeout_s = 0;
  s.time_limit_s = -1;
  CHECK_RC(vc_call_start(&c, e.t, &s), VC_EINVALID);
  s.time_limit_s = 0;
  s.record = 9;
  CHECK_RC(vc_call_start(&c, e.t, &s), VC_EINVALID);
  s.record = 0;
  s.metadata_json = "[1]";
  CHECK_RC(vc_call_start(&c, e.t, &s), VC_EINVALID);
  s.metadata_json = "{\"n\": [1e999]}";
  CHECK_RC(vc_call_start(&c, e.t, &s), VC_EINVALID);
  s.metadata_json = NULL;
  s.idempotency_key = "";
  CHECK_RC(vc_call_start(&c, e.t, &s), VC_EINVALID);
  s.idempotency_key = NULL;
  s.version = 99;
  CHECK_RC(vc_call_start(&c, e.t, &s), VC_EVERSION);
  CHECK(c == NULL);
  CHECK(count_rows("SELECT COUNT(*) FROM vc_call") == 0);
  CHECK(count_rows("SELECT COUNT(*) FROM vc_call_event") == 0);
  CHECK(count_rows("SELECT COUNT(*) FROM vc_job") == 0);
  CHECK(count_rows("SELECT COUNT(*) FROM vc_event WHERE type LIKE 'call.%'")
        == 0);
  env_close(&e);
}

static void test_call__hold_transfer_hangup(void)
{
  env e;
  vc_call_spec s;
  vc_call *c;
  char line[4096];

  env_open(&e);
  voice_channel(e.t, "voice", 1, "{\"talk_s\":-1}", NULL);
  spec_init(&s);
  CHECK_OK(vc_call_start(&c, e.t, &s));
  /* Not bridged yet. */
  CHECK_RC(vc_call_hold(c, 1), VC_ESTATE);
  CHECK_RC(vc_call_transfer(c, "+14155550199"), VC_ESTATE);
  drain(&e);
  reload(&e, &c);
  CHECK(vc_call_state_of(c) == VC_CALL_BRIDGED);
  CHECK_RC(vc_call_hold(c, 0), VC_ESTATE); /* not on hold */
  CHECK_OK(vc_call_hold(c, 1));
  CHECK(vc_call_on_hold(c) == 0); /* once the provider took it */
  g_now += 20000;
  drain(&e);
  reload(&e, &c);
  CHECK(vc_call_on_hold(c) == 1);
  CHECK_RC(vc_call_hold(c, 1), VC_ESTATE);
  CHECK_OK(vc_call_hold(c, 0));
  g_now += 10000;
  drain(&e);
  reload(&e, &c);
  CHECK(vc_call_on_hold(c) == 0);
  CHECK_RC(vc_call_transfer(c, NULL), VC_EINVALID);
  CHECK_RC(vc_call_transfer(c, "nobody"), VC_EINVALID);
  CHECK_OK(vc_call_transfer(c, "+14155550199"));
  g_now += 10000;
  drain(&e);
  CHECK_RC(vc_call_record(c, 1), VC_ESTATE); /* recording is off */
  CHECK_OK(vc_call_hangup(c));
  g_now += 5000;
  drain(&e);
  reload(&e, &c);
  CHECK(vc_call_state_of(c) == VC_CALL_COMPLETED);
  CHECK(vc_call_cause_of(c) == VC_CAUSE_API_HANGUP);
  CHECK(vc_call_talk_seconds(c) == 35); /* bridged at 10 s */
  CHECK_RC(vc_call_hangup(c), VC_ESTATE);
  timeline(&e, vc_call_id(c), line, sizeof(line));
  CHECK(strstr(line, "state/0/bridged@10000 hold/2/bridged@20000 "
                     "unhold/2/bridged@30000 transfer/2/bridged@40000 "
                     "state/0/completed@45000") != NULL);
  vc_call_free(c);
  env_close(&e);
}

/* A voice adapter with no control capability, registered by the host. */
static int local_init(void **state, const char *config, const char *creds)
{
  (void)config;
  (void)creds;
  *state = NULL;
  return 0;
}

static void local_fini(void *state)
{
  (void)state;
}

static int local_parse_call(void *state, const vc_call_outbound *call,
                            const vc_http_response *res, vc_send_result *out)
{
  (void)state;
  (void)res;
  out->outcome = VC_SEND_ACCEPTED;
  snprintf(out->provider_id, sizeof(out->provider_id), "bare-%s",
           call->call_id);
  return 0;
}

static int local_progress(void *state, const vc_call_outbound *call,
                          vc_event_sink *sink)
{
  vc_call_update u;

  (void)state;
  memset(&u, 0, sizeof(u));
  u.version = VC_CALL_UPDATE_VERSION;
  u.type = VC_UPDATE_ANSWERED;
  u.leg = VC_LEG_CUSTOMER; /* straight to bridged: the rest filled in */
  u.occurred_at = call->now_ms + 1000;
  u.jitter_ms = u.packet_loss_pct = u.rtt_ms = u.mos = -1;
  return vc_event_sink_call(sink, &u);
}

static void test_call__not_supported(void)
{
  vc_adapter a;
  env e;
  vc_call_spec s;
  vc_call *c;
  vc_channel_spec cs = VC_CHANNEL_SPEC_INIT;
  vc_channel *ch;

  env_open(&e);
  memset(&a, 0, sizeof(a));
  a.version = VC_ADAPTER_VERSION;
  a.name = "bare-voice";
  a.kind = VC_CHANNEL_VOICE;
  a.capabilities = VC_CAP_LOCAL;
  a.init = local_init;
  a.fini = local_fini;
  CHECK_RC(vc_adapter_register(e.ctx, &a), VC_EINVALID); /* no parse_call */
  a.parse_call = local_parse_call;
  a.local_progress = local_progress;
  CHECK_OK(vc_adapter_register(e.ctx, &a));
  cs.name = "bare";
  cs.provider = "bare-voice";
  cs.sender = "+14155550000";
  CHECK_OK(vc_channel_new(&ch, e.t, &cs));
  vc_channel_free(ch);
  spec_init(&s);
  CHECK_OK(vc_call_start(&c, e.t, &s));
  drain(&e);
  reload(&e, &c);
  CHECK(vc_call_state_of(c) == VC_CALL_BRIDGED);
  CHECK(vc_call_state_at(c, VC_CALL_AGENT_RINGING) == T0 + 1000);
  CHECK(vc_call_state_at(c, VC_CALL_CUSTOMER_RINGING) == T0 + 1000);
  CHECK_RC(vc_call_hold(c, 1), VC_ENOTSUPPORTED);
  CHECK_RC(vc_call_transfer(c, "+14155550199"), VC_ENOTSUPPORTED);
  CHECK_RC(vc_call_hangup(c), VC_ENOTSUPPORTED);
  CHECK(count_rows("SELECT COUNT(*) FROM vc_call_control") == 0);
  vc_call_free(c);
  env_close(&e);
}

static int v1_build(void *state, const vc_outbound *msg, vc_http_out *req)
{
  (void)state;
  (void)msg;
  (void)req;
  return 0;
}

static int v1_parse(void *state, const vc_outbound *msg,
                    const vc_http_response *res, vc_send_result *out)
{
  (void)state;
  (void)msg;
  (void)res;
  out->outcome = VC_SEND_ACCEPTED;
  return 0;
}

/* A version-1 vtable is shorter than today's: registering one must not
 * read past its end (ASan checks the exact-size allocation), and it
 * cannot serve voice. */
static void test_call__adapter_version_1(void)
{
  env e;
  size_t v1 = offsetof(vc_adapter, build_call);
  vc_adapter full;
  unsigned char *a = malloc(v1);

  env_open(&e);
  CHECK(a != NULL);
  memset(&full, 0, sizeof(full));
  full.version = 1;
  full.name = "old-sms";
  full.kind = VC_CHANNEL_SMS;
  full.init = local_init;
  full.fini = local_fini;
  memcpy(a, &full, v1);
  CHECK_RC(vc_adapter_register(e.ctx, (const vc_adapter *)(void *)a),
           VC_EINVALID); /* no send */
  full.build_send = v1_build;
  full.parse_send = v1_parse;
  memcpy(a, &full, v1);
  CHECK_OK(vc_adapter_register(e.ctx, (const vc_adapter *)(void *)a));
  full.kind = VC_CHANNEL_VOICE;
  full.name = "old-voice";
  memcpy(a, &full, v1);
  CHECK_RC(vc_adapter_register(e.ctx, (const vc_adapter *)(void *)a),
           VC_EINVALID);
  free(a);
  env_close(&e);
}

static void test_call__hangup_before_placing(void)
{
  env e;
  vc_call_spec s;
  vc_call *c;
  char line[1024];

  env_open(&e);
  voice_channel(e.t, "voice", 1, "{}", NULL);
  spec_init(&s);
  CHECK_OK(vc_call_start(&c, e.t, &s));
  g_now += 2000;
  CHECK_OK(vc_call_hangup(c));
  CHECK(vc_call_state_of(c) == VC_CALL_CANCELED); /* at once */
  CHECK(vc_call_cause_of(c) == VC_CAUSE_API_HANGUP);
  CHECK(vc_call_state_at(c, VC_CALL_CANCELED) == T0 + 2000);
  CHECK(vc_ctx_run(e.ctx, 0) == 0); /* its placing is gone */
  reload(&e, &c);
  CHECK(vc_call_attempts(c) == 0);
  CHECK_STR(vc_call_channel_id(c), "");
  timeline(&e, vc_call_id(c), line, sizeof(line));
  CHECK_STR(line, "state/0/initiated@0 state/0/canceled@2000");
  vc_call_free(c);
  env_close(&e);
}

static void test_call__watchdog(void)
{
  env e;
  vc_call_spec s;
  vc_call *c;

  env_open(&e);
  voice_channel(e.t, "voice", 1, "{\"talk_s\":-1}", NULL);
  spec_init(&s);
  s.ring_timeout_s = 20;
  s.time_limit_s = 600;
  CHECK_OK(vc_call_start(&c, e.t, &s));
  CHECK(vc_ctx_run(e.ctx, 0) == 1);
  reload(&e, &c);
  CHECK(vc_call_state_of(c) == VC_CALL_BRIDGED);
  /* Due after both ring timeouts, the time limit and 5 minutes. */
  g_now = T0 + (2 * 20 + 600) * 1000LL + 300000 - 1;
  CHECK(vc_ctx_run(e.ctx, 0) == 0);
  g_now += 1;
  CHECK(vc_ctx_run(e.ctx, 0) == 1);
  reload(&e, &c);
  CHECK(vc_call_state_of(c) == VC_CALL_FAILED);
  CHECK(vc_call_error(c) == VC_ETIMEOUT);
  CHECK(vc_call_state_at(c, VC_CALL_FAILED) == g_now);
  CHECK(vc_call_state_at(c, VC_CALL_BRIDGED) == T0 + 10000);
  CHECK(count_rows("SELECT COUNT(*) FROM vc_job") == 0);
  vc_call_free(c);
  env_close(&e);
}

static void test_call__tenant_isolation(void)
{
  env e;
  vc_tenant *other;
  vc_tenant_spec ts = VC_TENANT_SPEC_INIT;
  vc_call_spec s;
  vc_call *c, *x = NULL;
  vc_iter *it;
  char theirs[VC_ID_SIZE];

  env_open(&e);
  voice_channel(e.t, "voice", 1, "{\"talk_s\":-1}", NULL);
  ts.slug = "other";
  CHECK_OK(vc_tenant_new(&other, e.ctx, &ts));
  voice_channel(other, "voice", 1, "{}", theirs);
  spec_init(&s);
  CHECK_OK(vc_call_start(&c, e.t, &s));
  drain(&e);
  CHECK_RC(vc_call_lookup(&x, other, vc_call_id(c)), VC_ENOTFOUND);
  CHECK(x == NULL);
  CHECK_RC(vc_call_timeline(&it, other, vc_call_id(c)), VC_ENOTFOUND);
  CHECK_OK(vc_call_list(&it, other, NULL));
  CHECK_RC(vc_call_next(&x, it), VC_ITEROVER);
  vc_iter_free(it);
  /* The other tenant's channel cannot move the call by webhook. */
  CHECK(webhook(&e, theirs, vc_call_id(c),
                "{\"type\":\"ended\",\"leg\":\"none\"}") == 200);
  CHECK(webhook(&e, theirs, vc_call_id(c),
                "{\"type\":\"hold\"}") == 200);
  reload(&e, &c);
  CHECK(vc_call_state_of(c) == VC_CALL_BRIDGED);
  CHECK(vc_call_on_hold(c) == 0);
  vc_call_free(c);
  vc_tenant_free(other);
  env_close(&e);
}

static void test_call__webhooks(void)
{
  env e;
  vc_call_spec s;
  vc_call *c;
  char ch[VC_ID_SIZE], line[4096];
  int calls, entries;

  env_open(&e);
  voice_channel(e.t, "voice", 1, "{\"outcome\":\"retry\"}", ch);
  spec_init(&s);
  CHECK_OK(vc_call_start(&c, e.t, &s));
  CHECK(vc_ctx_run(e.ctx, 0) == 1); /* on the channel, not yet placed */
  calls = count_rows("SELECT COUNT(*) FROM vc_call");
  entries = count_rows("SELECT COUNT(*) FROM vc_call_event");
  /* An unknown call: 200, nothing changes. */
  CHECK(webhook(&e, ch, "01ARZ3NDEKTSV4RRFFQ69G5FAV",
                "{\"type\":\"answered\",\"leg\":\"agent\"}") == 200);
  CHECK(count_rows("SELECT COUNT(*) FROM vc_call") == calls);
  CHECK(count_rows("SELECT COUNT(*) FROM vc_call_event") == entries);
  /* Malformed: 400. */
  CHECK(webhook(&e, ch, vc_call_id(c), "{\"type\":\"ringing\"}") == 400);
  CHECK(webhook(&e, ch, vc_call_id(c), "{\"type\":\"bogus\"}") == 400);
  CHECK(count_rows("SELECT COUNT(*) FROM vc_call_event") == entries);
  /* In order, out of order, and replayed. */
  CHECK(webhook(&e, ch, vc_call_id(c),
                "[{\"type\":\"ringing\",\"leg\":\"agent\","
                "\"occurred_at\":1700000001000,\"event_id\":\"e1\"},"
                "{\"type\":\"answered\",\"leg\":\"customer\","
                "\"occurred_at\":1700000009000,\"event_id\":\"e2\"}]")
        == 200);
  CHECK(webhook(&e, ch, vc_call_id(c),
                "{\"type\":\"ringing\",\"leg\":\"customer\","
                "\"occurred_at\":1700000004000,\"event_id\":\"e3\"}")
        == 200);
  CHECK(webhook(&e, ch, vc_call_id(c),
                "{\"type\":\"dtmf\",\"leg\":\"customer\",\"digits\":\"5\","
                "\"occurred_at\":1700000010000}") == 200);
  CHECK(webhook(&e, ch, vc_call_id(c),
                "{\"type\":\"dtmf\",\"leg\":\"customer\",\"digits\":\"5\","
                "\"occurred_at\":1700000010000}") == 200);
  CHECK(webhook(&e, ch, vc_call_id(c),
                "{\"type\":\"ended\",\"leg\":\"none\",\"cause\":\"normal\","
                "\"duration_s\":30,\"occurred_at\":1700000039000,"
                "\"event_id\":\"e4\"}") == 200);
  CHECK(webhook(&e, ch, vc_call_id(c),
                "{\"type\":\"ended\",\"leg\":\"none\",\"cause\":\"normal\","
                "\"duration_s\":30,\"occurred_at\":1700000039000,"
                "\"event_id\":\"e4\"}") == 200);
  reload(&e, &c);
  CHECK(vc_call_state_of(c) == VC_CALL_COMPLETED);
  CHECK(vc_call_talk_seconds(c) == 30);
  CHECK(vc_call_state_at(c, VC_CALL_AGENT_ANSWERED) == T0 + 9000);
  timeline(&e, vc_call_id(c), line, sizeof(line));
  CHECK_STR(line,
            "state/0/initiated@0 "
            "ringing/1/initiated@1000 state/0/agent_ringing@1000 "
            "state/0/agent_answered@9000 state/0/customer_ringing@9000 "
            "answered/2/customer_ringing@9000 "
            "bridged/0/customer_ringing@9000 "
            "state/0/bridged@9000 dtmf/2/bridged@10000 "
            "hangup/0/bridged@39000 state/0/completed@39000");
  /* The placing job sees the call under way and stops. */
  g_now += 60000;
  drain(&e);
  reload(&e, &c);
  CHECK(vc_call_attempts(c) == 1);
  CHECK(count_rows("SELECT COUNT(*) FROM vc_job") == 0);
  vc_call_free(c);
  env_close(&e);
}

static void test_call__list_and_filters(void)
{
  env e;
  vc_call_spec s;
  vc_call *c, *first;
  vc_call_filter f;
  vc_iter *it;
  char ch[VC_ID_SIZE], ids[3][VC_ID_SIZE], cursor[64];
  int n;

  env_open(&e);
  voice_channel(e.t, "voice", 1, "{\"agent\":\"busy\"}", ch);
  for (int i = 0; i < 3; i++) {
    spec_init(&s);
    s.customer_number = i == 1 ? "+919800000001" : "+14155550123";
    g_now += 1000;
    CHECK_OK(vc_call_start(&c, e.t, &s));
    snprintf(ids[i], VC_ID_SIZE, "%s", vc_call_id(c));
    vc_call_free(c);
  }
  CHECK(vc_ctx_run(e.ctx, 0) == 3);
  /* Newest first. */
  CHECK_OK(vc_call_list(&it, e.t, NULL));
  CHECK_OK(vc_call_next(&first, it));
  CHECK_STR(vc_call_id(first), ids[2]);
  snprintf(cursor, sizeof(cursor), "%s", vc_iter_cursor(it));
  vc_call_free(first);
  vc_iter_free(it);
  vc_call_filter_init(&f, VC_CALL_FILTER_VERSION);
  f.after = cursor;
  CHECK_OK(vc_call_list(&it, e.t, &f));
  n = 0;
  while (vc_call_next(&c, it) == 0) {
    CHECK_STR(vc_call_id(c), ids[1 - n]);
    CHECK(vc_call_state_of(c) == VC_CALL_BUSY);
    /* Handles from a list can be acted on. */
    CHECK_RC(vc_call_hangup(c), VC_ESTATE);
    vc_call_free(c);
    n++;
  }
  CHECK(n == 2);
  vc_iter_free(it);
  vc_call_filter_init(&f, VC_CALL_FILTER_VERSION);
  f.customer_number = "+919800000001";
  f.channel = ch;
  f.state = VC_CALL_BUSY;
  CHECK_OK(vc_call_list(&it, e.t, &f));
  CHECK_OK(vc_call_next(&c, it));
  CHECK_STR(vc_call_id(c), ids[1]);
  vc_call_free(c);
  CHECK_RC(vc_call_next(&c, it), VC_ITEROVER);
  vc_iter_free(it);
  f.state = VC_CALL_COMPLETED;
  CHECK_OK(vc_call_list(&it, e.t, &f));
  CHECK_RC(vc_call_next(&c, it), VC_ITEROVER);
  vc_iter_free(it);
  vc_call_filter_init(&f, VC_CALL_FILTER_VERSION);
  f.since = T0 + 2000;
  f.until = T0 + 3000;
  CHECK_OK(vc_call_list(&it, e.t, &f));
  CHECK_OK(vc_call_next(&c, it));
  CHECK_STR(vc_call_id(c), ids[1]);
  vc_call_free(c);
  CHECK_RC(vc_call_next(&c, it), VC_ITEROVER);
  vc_iter_free(it);
  f.state = 99;
  CHECK_RC(vc_call_list(&it, e.t, &f), VC_EINVALID);
  f.state = 0;
  f.customer_number = "12";
  CHECK_RC(vc_call_list(&it, e.t, &f), VC_EINVALID);
  f.customer_number = NULL;
  f.after = "x";
  CHECK_RC(vc_call_list(&it, e.t, &f), VC_EINVALID);
  env_close(&e);
}

/* The caller-id pool: the customer's country code first, in turn. */
static void test_call__caller_id_pool(void)
{
  env e;
  vc_call_spec s;
  vc_call *c;
  const char *want[] = { "+14155550100", "+14155550101", "+14155550100" };

  env_open(&e);
  voice_channel(e.t, "voice", 1,
                "{\"agent\":\"busy\",\"caller_ids\":[\"+14155550100\","
                "\"+919800000009\",\"+14155550101\",\"junk\"]}", NULL);
  for (int i = 0; i < 3; i++) {
    spec_init(&s);
    CHECK_OK(vc_call_start(&c, e.t, &s));
    drain(&e);
    reload(&e, &c);
    CHECK_STR(vc_call_caller_id(c), want[i]);
    vc_call_free(c);
  }
  spec_init(&s);
  s.customer_number = "+919800000001";
  CHECK_OK(vc_call_start(&c, e.t, &s));
  drain(&e);
  reload(&e, &c);
  CHECK_STR(vc_call_caller_id(c), "+919800000009");
  vc_call_free(c);
  spec_init(&s);
  s.customer_number = "+447700900001"; /* none from there: the pool */
  s.caller_id = "+14155559999";        /* but the caller's own wins */
  CHECK_OK(vc_call_start(&c, e.t, &s));
  drain(&e);
  reload(&e, &c);
  CHECK_STR(vc_call_caller_id(c), "+14155559999");
  vc_call_free(c);
  env_close(&e);
}

/* A channel's calls-per-second limit spaces the calls out: with one per
 * second, three calls started together are placed a second apart. */
static void test_call__calls_per_second(void)
{
  env e;
  vc_channel_spec cs = VC_CHANNEL_SPEC_INIT;
  vc_channel *ch;
  vc_call_spec s;
  vc_call *c[3];

  env_open(&e);
  cs.name = "voice";
  cs.provider = "sandbox-voice";
  cs.sender = "+14155550000";
  cs.rate_per_second = 1;
  CHECK_OK(vc_channel_new(&ch, e.t, &cs));
  vc_channel_free(ch);
  for (int i = 0; i < 3; i++) {
    spec_init(&s);
    CHECK_OK(vc_call_start(&c[i], e.t, &s));
  }
  for (int second = 0; second < 3; second++) {
    int placed = 0;
    drain(&e);
    for (int i = 0; i < 3; i++) {
      reload(&e, &c[i]);
      placed += vc_call_provider_id(c[i])[0] != '\0';
    }
    CHECK(placed == second + 1);
    g_now += 1001; /* the limiter's wait is rounded up to the next ms */
  }
  /* Placed about a second apart, each at its first attempt. */
  for (int i = 0; i < 3; i++) {
    int64_t rang = vc_call_state_at(c[i], VC_CALL_AGENT_RINGING) - T0;
    CHECK(rang >= i * 1000 && rang < i * 1000 + 1000);
    CHECK(vc_call_state_of(c[i]) == VC_CALL_COMPLETED);
    CHECK(vc_call_attempts(c[i]) == 1);
    vc_call_free(c[i]);
  }
  env_close(&e);
}

static int on_socket(void *payload, int fd, int events)
{
  (void)payload;
  (void)fd;
  (void)events;
  return 0;
}

static int on_timer(void *payload, long ms)
{
  (void)payload;
  (void)ms;
  return 0;
}

/* In the host's loop, a call is placed and runs its course too. */
static void test_call__host_loop(void)
{
  env e;
  vc_loop_hooks hooks = VC_LOOP_HOOKS_INIT;
  vc_call_spec s;
  vc_call *c;

  env_open(&e);
  voice_channel(e.t, "voice", 1, "{}", NULL);
  hooks.socket = on_socket;
  hooks.timer = on_timer;
  CHECK_OK(vc_ctx_set_loop(e.ctx, &hooks));
  spec_init(&s);
  CHECK_OK(vc_call_start(&c, e.t, &s));
  CHECK(vc_ctx_loop_timeout(e.ctx) >= 1);
  reload(&e, &c);
  CHECK(vc_call_state_of(c) == VC_CALL_COMPLETED);
  vc_call_free(c);
  env_close(&e);
}

static void test_call__names(void)
{
  CHECK_STR(vc_call_state_name(VC_CALL_NO_ANSWER), "no_answer");
  CHECK_STR(vc_call_state_name(0), "unknown");
  CHECK_STR(vc_call_cause_name(VC_CAUSE_API_HANGUP), "api_hangup");
  CHECK(vc_call_state_final(VC_CALL_CANCELED));
  CHECK(!vc_call_state_final(VC_CALL_BRIDGED));
  CHECK(vc_call_state_at(NULL, 1) == 0);
  vc_call_free(NULL);
}

VC_TESTS(
  VC_TEST(test_call__full_lifecycle),
  VC_TEST(test_call__leg_outcomes),
  VC_TEST(test_call__failover),
  VC_TEST(test_call__every_channel_fails),
  VC_TEST(test_call__no_failover_after_answer),
  VC_TEST(test_call__idempotency),
  VC_TEST(test_call__bad_input_stores_nothing),
  VC_TEST(test_call__hold_transfer_hangup),
  VC_TEST(test_call__not_supported),
  VC_TEST(test_call__adapter_version_1),
  VC_TEST(test_call__hangup_before_placing),
  VC_TEST(test_call__watchdog),
  VC_TEST(test_call__tenant_isolation),
  VC_TEST(test_call__webhooks),
  VC_TEST(test_call__list_and_filters),
  VC_TEST(test_call__caller_id_pool),
  VC_TEST(test_call__calls_per_second),
  VC_TEST(test_call__host_loop),
  VC_TEST(test_call__names),
)
