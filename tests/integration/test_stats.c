/*
 * vc_stats_query through the public API, SQLite on disk and an injected
 * clock: messages sent over two hours on a sandbox channel and on a test
 * channel whose webhooks report delivery (counts by status, kind,
 * channel, provider, hour and day; delivery rate; latency percentiles
 * from known delays; inbound), a campaign's funnel, calls for agents on
 * sandbox-voice (attempts, answer rate, talk and handle time by agent)
 * with their ledger costs (an estimate replaced by a provider's price),
 * tenant isolation, refused queries, and the rollups against GROUP BY
 * over the base tables after a random mix of operations.
 */
#define _GNU_SOURCE
#include "vyomcomm.h"
#include "vyomcomm/sys/adapter.h"
#include "vyomcomm/sys/errors.h"
#include "harness.h"
#include "local_adapter.h"

#include <cJSON.h>
#include <sqlite3.h>
#include <stdlib.h>

#define HOUR 3600000LL
#define DAY (24 * HOUR)
/* 2023-11-14 22:00 UTC: two hours to midnight. */
#define H0 1699999200000LL

static int64_t g_now = H0;

static int64_t test_clock(void *payload)
{
  (void)payload;
  return g_now;
}

/* ---- a test adapter: sends locally, webhooks are lines of text ---------- */

/* Lines: "status <message id> <status> <event id>" or
 * "inbound <provider id> <from> <text>". */
static int ta_parse_webhook(void *state, const vc_http_request *req,
                            vc_event_sink *sink)
{
  char *body = malloc(req->body_len + 1), *save = NULL;
  int rc = 0;

  (void)state;
  if (body == NULL)
    return VC_ENOMEM;
  memcpy(body, req->body, req->body_len);
  body[req->body_len] = '\0';
  for (char *line = strtok_r(body, "\n", &save); line != NULL && rc == 0;
       line = strtok_r(NULL, "\n", &save)) {
    char a[64], b[64], c[64];
    if (sscanf(line, "status %63s %63s %63s", a, b, c) == 3) {
      vc_status_update u = { VC_STATUS_UPDATE_VERSION, NULL, NULL, 0, NULL,
                             0, NULL, NULL };
      u.message_id = a;
      u.status = atoi(b);
      u.event_id = c;
      rc = vc_event_sink_status(sink, &u);
    } else if (sscanf(line, "inbound %63s %63s %63s", a, b, c) == 3) {
      vc_inbound m = { VC_INBOUND_VERSION, a, b, "+15550001111", c, NULL, 0,
                       0 };
      rc = vc_event_sink_inbound(sink, &m);
    } else {
      rc = vc_error_set_str(VC_ERRCLASS_ADAPTER, VC_EINVALID, "bad line");
    }
  }
  free(body);
  if (rc == 0)
    rc = vc_event_sink_reply(sink, 200, "text/plain", "ok");
  return rc;
}

static const vc_adapter TEST_ADAPTER = {
  VC_ADAPTER_VERSION, "test-hook", VC_CHANNEL_SMS,
  VC_CAP_LOCAL | VC_CAP_DELIVERY_REPORTS | VC_CAP_INBOUND,
  local_init, local_fini, local_build, local_accept, local_verify_any,
  ta_parse_webhook
};

/* ---- fixture ------------------------------------------------------------ */

typedef struct env {
  vc_ctx *ctx;
  vc_tenant *t, *other;
  char hook[VC_ID_SIZE], sbx[VC_ID_SIZE];
  sqlite3 *db;          /* a side connection for the base-table checks */
} env;

static const char *channel_new(vc_tenant *t, const char *name,
                               const char *provider, const char *config,
                               char id[VC_ID_SIZE])
{
  vc_channel_spec cs = VC_CHANNEL_SPEC_INIT;
  vc_channel *ch;

  cs.name = name;
  cs.provider = provider;
  cs.config_json = config;
  cs.sender = provider[0] == 's' && strstr(provider, "voice")
                ? "+14155550000" : "+15550001111";
  CHECK_OK(vc_channel_new(&ch, t, &cs));
  snprintf(id, VC_ID_SIZE, "%s", vc_channel_id(ch));
  vc_channel_free(ch);
  return id;
}

static void env_open(env *e)
{
  static const uint8_t key[32] = { 7, 7, 7 };
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;
  vc_master_key mk = VC_MASTER_KEY_INIT;
  vc_tenant_spec ts = VC_TENANT_SPEC_INIT;
  vc_store *store;

  g_now = H0;
  CHECK_OK(vc_store_open_sqlite(&store, vc_test_path("s.db"), NULL));
  mk.key = key;
  mk.key_len = 32;
  o.store = store;
  o.master_key = &mk;
  o.clock_cb = test_clock;
  o.random_seed = 5;
  o.public_base_url = "https://erp.example.com";
  CHECK_OK(vc_ctx_new(&e->ctx, &o));
  CHECK_OK(vc_adapter_register(e->ctx, &TEST_ADAPTER));
  ts.slug = "acme";
  CHECK_OK(vc_tenant_new(&e->t, e->ctx, &ts));
  ts.slug = "globex";
  CHECK_OK(vc_tenant_new(&e->other, e->ctx, &ts));
  channel_new(e->t, "hook", "test-hook", NULL, e->hook);
  channel_new(e->t, "sbx", "sandbox-sms", NULL, e->sbx);
  CHECK(sqlite3_open(vc_test_path("s.db"), &e->db) == SQLITE_OK);
  sqlite3_busy_timeout(e->db, 5000);
}

static void env_close(env *e)
{
  sqlite3_close(e->db);
  vc_tenant_free(e->other);
  vc_tenant_free(e->t);
  vc_ctx_free(e->ctx);
}

static void drain(env *e)
{
  for (int i = 0; i < 1000 && vc_ctx_run(e->ctx, 0) > 0; i++)
    ;
}

static void send_on(env *e, const char *channel, char id[VC_ID_SIZE])
{
  vc_message_spec s = VC_MESSAGE_SPEC_INIT;

  s.channel = channel;
  s.to = "+14155550123";
  s.text = "hello";
  CHECK_OK(vc_message_send(id, e->t, &s));
}

static void webhook(env *e, const char *body)
{
  vc_http_request req = VC_HTTP_REQUEST_INIT;
  vc_http_response res;
  char path[64];

  snprintf(path, sizeof(path), "/webhooks/%s", e->hook);
  req.method = "POST";
  req.target = path;
  req.body = (const uint8_t *)body;
  req.body_len = strlen(body);
  CHECK_OK(vc_webhook_handle(&res, e->ctx, &req));
  CHECK(res.status == 200);
  vc_http_response_dispose(&res);
}

static void status_hook(env *e, const char *id, int status)
{
  static int seq;
  char body[160];

  snprintf(body, sizeof(body), "status %s %d ev-%d\n", id, status, ++seq);
  webhook(e, body);
}

/* Query `t` and parse the answer. */
static cJSON *query(vc_tenant *t, int64_t from, int64_t to,
                    int granularity, unsigned what, const char *channel,
                    const char *campaign)
{
  vc_stats_spec q = VC_STATS_SPEC_INIT;
  vc_buf out = VC_BUF_INIT;
  cJSON *j;

  q.from = from;
  q.to = to;
  q.granularity = granularity;
  q.what = what;
  q.channel_id = channel;
  q.campaign_id = campaign;
  CHECK_OK(vc_stats_query(&out, t, &q));
  j = cJSON_Parse(out.ptr);
  vc_buf_dispose(&out);
  CHECK(j != NULL);
  return j;
}

/* A member by a dotted path ("messages.by_status.queued"); a segment
 * "[k=v]" picks the element of an array whose member k is the string v,
 * "[3]" the fourth. */
static const cJSON *at(const cJSON *j, const char *path)
{
  char buf[256], *save = NULL;

  snprintf(buf, sizeof(buf), "%s", path);
  for (char *p = strtok_r(buf, ".", &save); p && j;
       p = strtok_r(NULL, ".", &save)) {
    if (p[0] == '[') {
      char *eq = strchr(p, '='), *end = strchr(p, ']');
      const cJSON *el;
      *end = '\0';
      if (eq == NULL) {
        j = cJSON_GetArrayItem(j, atoi(p + 1));
        continue;
      }
      *eq = '\0';
      el = NULL;
      cJSON_ArrayForEach(el, j) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(el, p + 1);
        if (cJSON_IsString(v) && strcmp(v->valuestring, eq + 1) == 0)
          break;
      }
      j = el;
    } else {
      j = cJSON_GetObjectItemCaseSensitive(j, p);
    }
  }
  return j;
}

static int64_t num(const cJSON *j, const char *path)
{
  const cJSON *v = at(j, path);

  if (!cJSON_IsNumber(v)) {
    fprintf(stderr, "  no number at %s\n", path);
    CHECK(0);
  }
  return (int64_t)v->valuedouble;
}

static double real(const cJSON *j, const char *path)
{
  const cJSON *v = at(j, path);

  CHECK(cJSON_IsNumber(v));
  return v->valuedouble;
}

static int close_to(double a, double b)
{
  return a - b < 1e-9 && b - a < 1e-9;
}

/* ---- messages ----------------------------------------------------------- */

static void test_stats__messages_over_two_hours(void)
{
  char ids[6][VC_ID_SIZE], tag[80];
  cJSON *j;
  env e;

  env_open(&e);
  /* Hour 1 (22:10): three on the test channel, two on the sandbox. */
  g_now = H0 + 10 * 60000;
  for (int i = 0; i < 3; i++)
    send_on(&e, "hook", ids[i]);
  send_on(&e, "sbx", ids[3]);
  send_on(&e, "sbx", ids[4]);
  drain(&e);
  /* Two delivered 5 s after they were queued, one failed. */
  g_now += 5000;
  status_hook(&e, ids[0], VC_MSG_DELIVERED);
  status_hook(&e, ids[1], VC_MSG_DELIVERED);
  status_hook(&e, ids[2], VC_MSG_FAILED);
  /* A replayed report counts nothing. */
  {
    char body[160];
    snprintf(body, sizeof(body), "status %s %d ev-1\n", ids[0],
             VC_MSG_DELIVERED);
    webhook(&e, body);
  }
  /* Hour 2 (23:01): one more, delivered after 90 s, read later; a reply
   * comes in. */
  g_now = H0 + HOUR + 60000;
  send_on(&e, "hook", ids[5]);
  drain(&e);
  g_now += 90000;
  status_hook(&e, ids[5], VC_MSG_DELIVERED);
  g_now += 1000;
  status_hook(&e, ids[5], VC_MSG_READ);
  webhook(&e, "inbound in-1 +14155550123 thanks\n");

  j = query(e.t, H0, H0 + 2 * HOUR, VC_STATS_HOUR, 0, NULL, NULL);
  CHECK(num(j, "from") == H0 && num(j, "to") == H0 + 2 * HOUR);
  CHECK_STR(at(j, "granularity")->valuestring, "hour");
  CHECK(num(j, "messages.by_status.queued") == 6);
  CHECK(num(j, "messages.by_status.sent") == 6);
  CHECK(num(j, "messages.by_status.delivered") == 3);
  CHECK(num(j, "messages.by_status.read") == 1);
  CHECK(num(j, "messages.by_status.failed") == 1);
  CHECK(num(j, "messages.by_status.canceled") == 0);
  CHECK(num(j, "messages.by_kind.[kind=sms].queued") == 6);
  snprintf(tag, sizeof(tag), "messages.by_channel.[channel_id=%s]", e.hook);
  CHECK_STR(at(at(j, tag), "name")->valuestring, "hook");
  CHECK_STR(at(at(j, tag), "provider")->valuestring, "test-hook");
  CHECK(num(at(j, tag), "queued") == 4 && num(at(j, tag), "sent") == 4);
  CHECK(num(at(j, tag), "delivered") == 3 && num(at(j, tag), "failed") == 1);
  snprintf(tag, sizeof(tag), "messages.by_channel.[channel_id=%s]", e.sbx);
  CHECK(num(at(j, tag), "queued") == 2 && num(at(j, tag), "sent") == 2);
  CHECK(num(at(j, tag), "delivered") == 0);
  CHECK(num(j, "messages.by_provider.[provider=test-hook].delivered") == 3);
  CHECK(num(j, "messages.by_provider.[provider=sandbox-sms].sent") == 2);
  CHECK(cJSON_GetArraySize(at(j, "messages.series")) == 2);
  CHECK(num(j, "messages.series.[0].t") == H0);
  CHECK(num(j, "messages.series.[0].queued") == 5);
  CHECK(num(j, "messages.series.[0].delivered") == 2);
  CHECK(num(j, "messages.series.[0].failed") == 1);
  CHECK(num(j, "messages.series.[1].t") == H0 + HOUR);
  CHECK(num(j, "messages.series.[1].queued") == 1);
  CHECK(num(j, "messages.series.[1].delivered") == 1);
  CHECK(num(j, "messages.series.[1].read") == 1);
  /* Delivered 3 of the 4 whose fate is known. */
  CHECK(close_to(real(j, "delivery_rate"), 0.75));
  /* 5 s, 5 s, 90 s: by bucket bounds. */
  CHECK(num(j, "latency_ms.delivered") == 3);
  CHECK(num(j, "latency_ms.p50") == 5000);
  CHECK(num(j, "latency_ms.p90") == 120000);
  CHECK(num(j, "latency_ms.p99") == 120000);
  CHECK(num(j, "latency_ms.mean") == (5000 + 5000 + 90000) / 3);
  CHECK(num(j, "latency_ms.histogram.[2].le") == 5000);
  CHECK(num(j, "latency_ms.histogram.[2].n") == 2);
  CHECK(cJSON_IsNull(at(j, "latency_ms.histogram.[17].le")));
  CHECK(num(j, "inbound.total") == 1);
  snprintf(tag, sizeof(tag), "inbound.by_channel.[channel_id=%s].n", e.hook);
  CHECK(num(j, tag) == 1);
  CHECK(num(j, "inbound.series.[1].n") == 1);
  cJSON_Delete(j);

  /* The second hour alone; the test channel alone. */
  j = query(e.t, H0 + HOUR, H0 + 2 * HOUR, VC_STATS_HOUR, VC_STATS_MESSAGES,
            e.hook, NULL);
  CHECK(num(j, "messages.by_status.queued") == 1);
  CHECK(at(j, "latency_ms") == NULL && at(j, "calls") == NULL);
  CHECK(close_to(real(j, "delivery_rate"), 1.0));
  cJSON_Delete(j);
  j = query(e.t, H0, H0 + 2 * HOUR, VC_STATS_HOUR, VC_STATS_MESSAGES, e.sbx,
            NULL);
  CHECK(num(j, "messages.by_status.queued") == 2);
  CHECK(cJSON_IsNull(at(j, "delivery_rate")));
  cJSON_Delete(j);

  /* By day: the UTC day of 14 November holds everything; the next day
   * nothing. */
  j = query(e.t, H0 - 22 * HOUR, H0 - 22 * HOUR + 2 * DAY, VC_STATS_DAY, 0,
            NULL, NULL);
  CHECK_STR(at(j, "granularity")->valuestring, "day");
  CHECK(cJSON_GetArraySize(at(j, "messages.series")) == 2);
  CHECK(num(j, "messages.series.[0].t") == H0 - 22 * HOUR);
  CHECK(num(j, "messages.series.[0].queued") == 6);
  CHECK(num(j, "messages.series.[0].delivered") == 3);
  CHECK(num(j, "messages.series.[1].queued") == 0);
  CHECK(num(j, "inbound.series.[0].n") == 1);
  cJSON_Delete(j);
  /* A window that is not day-aligned: its first day starts before it. */
  j = query(e.t, H0 + HOUR, H0 + 3 * HOUR, VC_STATS_DAY, VC_STATS_MESSAGES,
            NULL, NULL);
  CHECK(cJSON_GetArraySize(at(j, "messages.series")) == 2);
  CHECK(num(j, "messages.series.[0].t") == H0 - 22 * HOUR);
  CHECK(num(j, "messages.series.[0].queued") == 1);
  cJSON_Delete(j);
  env_close(&e);
}

/* ---- campaigns ---------------------------------------------------------- */

static void test_stats__campaign_funnel(void)
{
  static const char *const chain[] = { "sms" };
  vc_template_spec ts = VC_TEMPLATE_SPEC_INIT;
  vc_campaign_spec cs;
  vc_template *tpl;
  vc_campaign *c;
  char id[VC_ID_SIZE], path[96];
  cJSON *j;
  env e;

  env_open(&e);
  g_now = H0 + 5 * 60000;
  /* Campaigns go over the sandbox only: the test channel is disabled. */
  {
    vc_channel *ch;
    CHECK_OK(vc_channel_lookup(&ch, e.t, "hook"));
    CHECK_OK(vc_channel_disable(ch));
    vc_channel_free(ch);
  }
  CHECK_OK(vc_consent_policy_set(e.t, VC_CHANNEL_SMS, VC_CATEGORY_MARKETING,
                                 0));
  for (int i = 0; i < 4; i++) {
    vc_contact_spec s = VC_CONTACT_SPEC_INIT;
    char phone[32];
    snprintf(phone, sizeof(phone), "+1415555%04d", 100 + i);
    s.phone = phone;
    s.tags = "vip";
    CHECK_OK(vc_contact_upsert(id, e.t, &s));
  }
  ts.name = "offer";
  ts.kind = VC_CHANNEL_SMS;
  ts.text_body = "10% off today";
  CHECK_OK(vc_template_new(&tpl, e.t, &ts));
  vc_template_free(tpl);
  vc_campaign_spec_init(&cs, VC_CAMPAIGN_SPEC_VERSION);
  cs.name = "November offer";
  cs.template_name = "offer";
  cs.chain = chain;
  cs.nchain = 1;
  cs.audience = VC_AUDIENCE_TAG;
  cs.tag = "vip";
  CHECK_OK(vc_campaign_new(&c, e.t, &cs));
  CHECK_OK(vc_campaign_start(c));
  drain(&e);
  /* And one message of no campaign. */
  send_on(&e, "sbx", id);
  drain(&e);

  j = query(e.t, H0, H0 + HOUR, VC_STATS_HOUR, 0, NULL, NULL);
  snprintf(path, sizeof(path), "campaigns.[id=%s]", vc_campaign_id(c));
  CHECK_STR(at(at(j, path), "name")->valuestring, "November offer");
  CHECK_STR(at(at(j, path), "state")->valuestring, "completed");
  CHECK(num(at(j, path), "funnel.total") == 4);
  CHECK(num(at(j, path), "funnel.queued") == 4);
  CHECK(num(at(j, path), "funnel.sent") == 4);
  CHECK(num(at(j, path), "funnel.delivered") == 0);
  CHECK(num(at(j, path), "funnel.skipped_consent") == 0);
  CHECK(num(j, "messages.by_status.queued") == 5);
  cJSON_Delete(j);
  /* Filtered by the campaign: its messages only; no calls or inbound. */
  j = query(e.t, H0, H0 + HOUR, VC_STATS_HOUR, 0, NULL, vc_campaign_id(c));
  CHECK_STR(at(j, "campaign_id")->valuestring, vc_campaign_id(c));
  CHECK(cJSON_GetArraySize(at(j, "campaigns")) == 1);
  CHECK(num(j, "messages.by_status.queued") == 4);
  CHECK(num(j, "messages.by_status.sent") == 4);
  CHECK(at(j, "calls") == NULL && at(j, "inbound") == NULL);
  CHECK(at(j, "costs") != NULL);
  cJSON_Delete(j);
  /* A window before the campaign was created lists no campaign. */
  j = query(e.t, H0 - HOUR, H0, VC_STATS_HOUR, VC_STATS_CAMPAIGNS, NULL,
            NULL);
  CHECK(cJSON_GetArraySize(at(j, "campaigns")) == 0);
  cJSON_Delete(j);
  vc_campaign_free(c);
  env_close(&e);
}

/* ---- calls and costs ---------------------------------------------------- */

static vc_agent *agent_new(env *e, const char *name, const char *number,
                           int wrap_up_s)
{
  vc_agent_spec s = VC_AGENT_SPEC_INIT;
  vc_agent *a;

  s.name = name;
  s.number = number;
  s.wrap_up_s = wrap_up_s;
  CHECK_OK(vc_agent_new(&a, e->t, &s));
  CHECK_OK(vc_agent_set_state(a, VC_AGENT_AVAILABLE, NULL));
  return a;
}

static void call(env *e, const char *agent, const char *channel)
{
  vc_call_spec s = VC_CALL_SPEC_INIT;
  vc_call *c;

  s.agent = agent;
  s.customer_number = "+14155550123";
  s.channel = channel;
  CHECK_OK(vc_call_start(&c, e->t, &s));
  drain(e);
  CHECK_OK(vc_call_refresh(c));
  CHECK(vc_call_state_of(c) >= VC_CALL_COMPLETED);
  vc_call_free(c);
}

static void test_stats__calls_by_agent_and_costs(void)
{
  vc_ratecard_entry en = VC_RATECARD_ENTRY_INIT;
  vc_ratecard_spec rs = VC_RATECARD_SPEC_INIT;
  char voice[VC_ID_SIZE], busy[VC_ID_SIZE], priced[VC_ID_SIZE];
  char rid[VC_ID_SIZE], path[128];
  vc_agent *asha, *ravi;
  cJSON *j;
  env e;

  env_open(&e);
  channel_new(e.t, "voice", "sandbox-voice",
              "{\"ring_s\":5,\"talk_s\":30}", voice);
  channel_new(e.t, "cbusy", "sandbox-voice",
              "{\"customer\":\"busy\",\"ring_s\":3}", busy);
  channel_new(e.t, "priced", "sandbox-voice",
              "{\"ring_s\":5,\"talk_s\":30,\"price_micros\":45000,"
              "\"currency\":\"USD\"}", priced);
  /* 60,000 micro-USD a minute, billed by the minute. */
  en.prefix = "";
  en.rate_per_min_micros = 60000;
  en.currency = "USD";
  rs.provider = "sandbox-voice";
  rs.entries = &en;
  rs.nentries = 1;
  CHECK_OK(vc_ratecard_set(rid, e.t, &rs));
  asha = agent_new(&e, "asha", "+14155550111", 20);
  ravi = agent_new(&e, "ravi", "+14155550112", 0);
  /* asha: rings 5 s, talks 30 s, then 20 s of wrap-up: handled 60 s. */
  g_now = H0 + 1000;
  call(&e, "asha", "voice");
  /* ravi answers (3 s), the customer is busy (3 s more): 6 s. */
  g_now = H0 + 100000;
  call(&e, "ravi", "cbusy");
  /* asha again, on the channel whose provider reports its price. */
  g_now = H0 + 200000;
  call(&e, "asha", "priced");

  j = query(e.t, H0, H0 + HOUR, VC_STATS_HOUR, VC_STATS_CALLS |
            VC_STATS_COSTS, NULL, NULL);
  CHECK(at(j, "messages") == NULL);
  CHECK(num(j, "calls.attempts") == 3);
  CHECK(num(j, "calls.answered") == 2);
  CHECK(close_to(real(j, "calls.answer_rate"), 2.0 / 3.0));
  CHECK(num(j, "calls.talk_s") == 60);
  CHECK(num(j, "calls.by_outcome.completed") == 2);
  CHECK(num(j, "calls.by_outcome.busy") == 1);
  snprintf(path, sizeof(path), "calls.by_agent.[agent_id=%s]",
           vc_agent_id(asha));
  CHECK_STR(at(at(j, path), "name")->valuestring, "asha");
  CHECK(num(at(j, path), "attempts") == 2);
  CHECK(num(at(j, path), "answered") == 2);
  CHECK(close_to(real(at(j, path), "answer_rate"), 1.0));
  CHECK(num(at(j, path), "talk_s") == 60);
  CHECK(num(at(j, path), "handle_s") == 120);
  CHECK(num(at(j, path), "avg_talk_s") == 30);
  snprintf(path, sizeof(path), "calls.by_agent.[agent_id=%s]",
           vc_agent_id(ravi));
  CHECK(num(at(j, path), "attempts") == 1);
  CHECK(num(at(j, path), "answered") == 0);
  CHECK(num(at(j, path), "talk_s") == 0);
  CHECK(num(at(j, path), "handle_s") == 6);
  CHECK(num(j, "calls.series.[0].attempts") == 3);
  /* Costs: the estimate of the first call; the second's estimate was
   * reversed for the provider's price. */
  CHECK(num(j, "costs.by_currency.[currency=USD].amount_micros") ==
        60000 + 45000);
  snprintf(path, sizeof(path), "costs.rows.[channel_id=%s]", voice);
  CHECK(num(at(j, path), "amount_micros") == 60000);
  CHECK_STR(at(at(j, path), "provider")->valuestring, "sandbox-voice");
  CHECK_STR(at(at(j, path), "source")->valuestring, "call");
  snprintf(path, sizeof(path), "costs.rows.[channel_id=%s]", priced);
  CHECK(num(at(j, path), "amount_micros") == 45000);
  cJSON_Delete(j);
  /* One channel only. */
  j = query(e.t, H0, H0 + HOUR, VC_STATS_HOUR, VC_STATS_CALLS |
            VC_STATS_COSTS, busy, NULL);
  CHECK(num(j, "calls.attempts") == 1);
  CHECK(cJSON_GetArraySize(at(j, "costs.rows")) == 0);
  cJSON_Delete(j);
  vc_agent_free(asha);
  vc_agent_free(ravi);
  env_close(&e);
}

/* ---- isolation and refusals --------------------------------------------- */

static void test_stats__tenant_isolation(void)
{
  char id[VC_ID_SIZE], other_ch[VC_ID_SIZE];
  vc_stats_spec q = VC_STATS_SPEC_INIT;
  vc_buf out = VC_BUF_INIT;
  cJSON *j;
  env e;

  env_open(&e);
  g_now = H0 + 60000;
  send_on(&e, "hook", id);
  drain(&e);
  channel_new(e.other, "mine", "sandbox-sms", NULL, other_ch);
  /* The other tenant sees none of it. */
  j = query(e.other, H0, H0 + HOUR, VC_STATS_HOUR, 0, NULL, NULL);
  CHECK(num(j, "messages.by_status.queued") == 0);
  CHECK(cJSON_GetArraySize(at(j, "messages.by_channel")) == 0);
  cJSON_Delete(j);
  /* Nor may it name the first tenant's channel, or the first its. */
  q.from = H0;
  q.to = H0 + HOUR;
  q.channel_id = e.hook;
  CHECK_RC(vc_stats_query(&out, e.other, &q), VC_ENOTFOUND);
  CHECK(out.ptr == NULL);
  q.channel_id = other_ch;
  CHECK_RC(vc_stats_query(&out, e.t, &q), VC_ENOTFOUND);
  q.channel_id = NULL;
  q.campaign_id = id;  /* an id, but no campaign's */
  CHECK_RC(vc_stats_query(&out, e.t, &q), VC_ENOTFOUND);
  j = query(e.t, H0, H0 + HOUR, VC_STATS_HOUR, 0, NULL, NULL);
  CHECK(num(j, "messages.by_status.queued") == 1);
  cJSON_Delete(j);
  env_close(&e);
}

static void test_stats__bad_queries(void)
{
  vc_stats_spec q = VC_STATS_SPEC_INIT;
  vc_buf out = VC_BUF_INIT;
  env e;

  env_open(&e);
  CHECK_OK(vc_stats_spec_init(&q, VC_STATS_SPEC_VERSION));
  CHECK(q.granularity == VC_STATS_HOUR && q.what == VC_STATS_ALL);
  CHECK_RC(vc_stats_spec_init(&q, 99), VC_EVERSION);
  q.from = H0;
  q.to = H0 + HOUR;
  /* Whatever the buffer held is replaced, also on error. */
  CHECK_OK(vc_stats_query(&out, e.t, &q));
  CHECK(out.ptr != NULL && out.ptr[0] == '{');
#define REFUSED(field, code)                                            \
  do {                                                                  \
    CHECK_RC(vc_stats_query(&out, e.t, &q), code);                      \
    CHECK(out.ptr == NULL);                                             \
    CHECK(strstr(vc_error_last()->message, field) != NULL);             \
    q = (vc_stats_spec)VC_STATS_SPEC_INIT;                              \
    q.from = H0;                                                        \
    q.to = H0 + HOUR;                                                   \
  } while (0)
  q.from = H0 + 1;
  REFUSED("from", VC_EINVALID);
  q.from = -HOUR;
  REFUSED("from", VC_EINVALID);
  q.to = H0;
  REFUSED("to", VC_EINVALID);
  q.to = H0 + HOUR + 5;
  REFUSED("to", VC_EINVALID);
  q.to = H0 + (VC_STATS_MAX_HOURS + 1) * HOUR;
  REFUSED("to", VC_EINVALID);
  q.granularity = VC_STATS_DAY;
  q.to = H0 + (VC_STATS_MAX_DAYS + 1) * DAY;
  REFUSED("to", VC_EINVALID);
  q.granularity = 3;
  REFUSED("granularity", VC_EINVALID);
  q.what = 1u << 6;
  REFUSED("what", VC_EINVALID);
  q.channel_id = "hook";
  REFUSED("channel_id", VC_EINVALID);
  q.campaign_id = "not an id";
  REFUSED("campaign_id", VC_EINVALID);
  q.version = 2;
  REFUSED("vc_stats_spec", VC_EVERSION);
  CHECK_RC(vc_stats_query(&out, e.t, NULL), VC_EINVALID);
  CHECK_RC(vc_stats_query(NULL, e.t, &q), VC_EINVALID);
  CHECK_RC(vc_stats_query(&out, NULL, &q), VC_EINVALID);
#undef REFUSED
  /* The longest windows are accepted. */
  q.to = H0 + VC_STATS_MAX_HOURS * HOUR;
  CHECK_OK(vc_stats_query(&out, e.t, &q));
  q.granularity = VC_STATS_DAY;
  q.to = H0 + VC_STATS_MAX_DAYS * DAY;
  CHECK_OK(vc_stats_query(&out, e.t, &q));
  vc_buf_dispose(&out);
  env_close(&e);
}

/* ---- the rollups against the base tables -------------------------------- */

/* Every row of `sql` (two integer columns or more) as "a:b:c;..." */
static void rows(env *e, const char *sql, char *out, size_t size)
{
  sqlite3_stmt *st;
  size_t len = 0;

  out[0] = '\0';
  if (sqlite3_prepare_v2(e->db, sql, -1, &st, NULL) != SQLITE_OK) {
    fprintf(stderr, "  SQL: %s\n  %s\n", sqlite3_errmsg(e->db), sql);
    CHECK(0);
  }
  while (sqlite3_step(st) == SQLITE_ROW) {
    for (int c = 0; c < sqlite3_column_count(st); c++)
      len += (size_t)snprintf(out + len, size - len, "%s%s", c ? ":" : "",
                              (const char *)sqlite3_column_text(st, c));
    len += (size_t)snprintf(out + len, size - len, ";");
    CHECK(len < size);
  }
  sqlite3_finalize(st);
}

static void same_rows(env *e, const char *rollup, const char *base)
{
  static char a[65536], b[65536];

  rows(e, rollup, a, sizeof(a));
  rows(e, base, b, sizeof(b));
  if (strcmp(a, b) != 0) {
    fprintf(stderr, "  rollup: %s\n  base:   %s\n", a, b);
    CHECK(0);
  }
}

static void test_stats__rollups_match_base_tables(void)
{
  enum { MAX_IDS = 2000 };
  char (*ids)[VC_ID_SIZE] = calloc(MAX_IDS, VC_ID_SIZE);
  size_t n = 0, batches = 0;
  unsigned seed = 12345;
  cJSON *j;
  env e;

  CHECK(ids != NULL);
  env_open(&e);
  /* Over five hours: sends on either channel, some scheduled (then
   * cancelled while queued), dispatches, and delivery, failure and read
   * reports on the test channel, in a random order. */
  for (int step = 0; step < 600; step++) {
    int op = (int)(rand_r(&seed) % 10);
    g_now = H0 + step * (5 * HOUR / 600) + rand_r(&seed) % 1000;
    if (op == 0 && rand_r(&seed) % 8 == 0 && n + 150 <= MAX_IDS) {
      /* A bulk send across the 64-message chunks its hooks run in, one
       * recipient refused. */
      vc_message_spec many[150];
      int results[150], k = 65 + (int)(rand_r(&seed) % 86);
      for (int i = 0; i < k; i++) {
        vc_message_spec_init(&many[i], VC_MESSAGE_SPEC_VERSION);
        many[i].channel = rand_r(&seed) % 2 ? "hook" : "sbx";
        many[i].to = i == 7 ? "not a number" : "+14155550123";
        many[i].text = "bulk";
      }
      CHECK(vc_message_send_many(e.t, many, (size_t)k, ids + n, results) ==
            k - 1);
      {
        size_t base = n;
        for (int i = 0; i < k; i++)
          if (results[i] == 0)
            memmove(ids[n++], ids[base + (size_t)i], VC_ID_SIZE);
      }
      batches++;
    } else if (op < 4 && n < MAX_IDS) {
      vc_message_spec s = VC_MESSAGE_SPEC_INIT;
      s.channel = op < 2 ? "hook" : "sbx";
      s.to = "+14155550123";
      s.text = "hi";
      if (op == 3)
        s.send_at = g_now + 10 * HOUR;
      CHECK_OK(vc_message_send(ids[n++], e.t, &s));
    } else if (op == 4) {
      drain(&e);
    } else if (op == 5 && n > 0) {
      int rc = vc_message_cancel(e.t, ids[rand_r(&seed) % n]);
      CHECK(rc == 0 || rc == VC_ESTATE);
    } else if (n > 0) {
      static const int report[] = { VC_MSG_DELIVERED, VC_MSG_DELIVERED,
                                    VC_MSG_FAILED, VC_MSG_READ };
      status_hook(&e, ids[rand_r(&seed) % n], report[op - 6]);
    }
  }
  drain(&e);
  webhook(&e, "inbound a +14155550123 one\ninbound b +14155550124 two\n");
  CHECK(n > 100);
  CHECK(batches > 0);

  /* Queued: one per message, in the hour it was created, by channel. */
  same_rows(&e,
            "SELECT hour, channel_id, SUM(n) FROM vc_stats_message"
            " WHERE status = 1 GROUP BY hour, channel_id ORDER BY 1, 2",
            "SELECT created_at - created_at % 3600000, channel_id, COUNT(*)"
            " FROM vc_message GROUP BY 1, 2 ORDER BY 1, 2");
  /* Final states a message stays in: by channel. (Delivered counts the
   * delivered and those read after a delivery or without one.) */
  same_rows(&e,
            "SELECT channel_id, status, SUM(n) FROM vc_stats_message"
            " WHERE status IN (6, 9) GROUP BY 1, 2 ORDER BY 1, 2",
            "SELECT channel_id, status, COUNT(*) FROM vc_message"
            " WHERE status IN (6, 9) GROUP BY 1, 2 ORDER BY 1, 2");
  same_rows(&e,
            "SELECT channel_id, SUM(n) FROM vc_stats_message"
            " WHERE status = 4 GROUP BY 1 ORDER BY 1",
            "SELECT channel_id, COUNT(*) FROM vc_message"
            " WHERE status IN (4, 5) GROUP BY 1 ORDER BY 1");
  same_rows(&e,
            "SELECT SUM(n) FROM vc_stats_latency",
            "SELECT COUNT(*) FROM vc_message WHERE status IN (4, 5)");
  /* Every counted move left its event, in the same hour: by status. */
  same_rows(&e,
            "SELECT hour, status, SUM(n) FROM vc_stats_message"
            " WHERE status IN (3, 5, 6, 9) GROUP BY 1, 2 ORDER BY 1, 2",
            "SELECT created_at - created_at % 3600000,"
            " CASE type WHEN 'message.sent' THEN 3 WHEN 'message.read'"
            " THEN 5 WHEN 'message.failed' THEN 6 ELSE 9 END, COUNT(*)"
            " FROM vc_event WHERE type IN ('message.sent', 'message.read',"
            " 'message.failed', 'message.canceled') GROUP BY 1, 2"
            " ORDER BY 1, 2");
  same_rows(&e,
            "SELECT hour, channel_id, SUM(n) FROM vc_stats_inbound"
            " GROUP BY 1, 2 ORDER BY 1, 2",
            "SELECT received_at - received_at % 3600000, channel_id,"
            " COUNT(*) FROM vc_inbound_message GROUP BY 1, 2 ORDER BY 1, 2");
  /* And the query adds the same up: the five hours by day. */
  j = query(e.t, H0, H0 + 6 * HOUR, VC_STATS_HOUR, VC_STATS_MESSAGES,
            NULL, NULL);
  {
    char total[64];
    rows(&e, "SELECT COUNT(*) FROM vc_message", total, sizeof(total));
    CHECK(num(j, "messages.by_status.queued") == atoll(total));
  }
  cJSON_Delete(j);
  free(ids);
  env_close(&e);
}

VC_TESTS(
  VC_TEST(test_stats__messages_over_two_hours),
  VC_TEST(test_stats__campaign_funnel),
  VC_TEST(test_stats__calls_by_agent_and_costs),
  VC_TEST(test_stats__tenant_isolation),
  VC_TEST(test_stats__bad_queries),
  VC_TEST(test_stats__rollups_match_base_tables),
)
