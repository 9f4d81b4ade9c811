/*
 * The call state machine (src/call/machine.c): targets of each report,
 * causes to final states, monotonicity, filled-in states, final states
 * that never change, timeline order, the time clamp, legs that come
 * apart during a transfer, and webhook deduplication.
 */
#include "core/common.h"
#include "core/ctx.h"
#include "call/hooks.h"
#include "call/machine.h"
#include "store/db.h"
#include "harness.h"

#include <stdio.h>

static int64_t g_now = 1700000000000LL;
#define T0 1700000000000LL

static int64_t test_clock(void *payload)
{
  (void)payload;
  return g_now;
}

static vc_call_update upd(int type, int leg, int cause, int64_t at)
{
  vc_call_update u;

  memset(&u, 0, sizeof(u));
  u.version = VC_CALL_UPDATE_VERSION;
  u.type = type;
  u.leg = leg;
  u.cause = cause;
  u.occurred_at = at;
  u.jitter_ms = u.packet_loss_pct = u.rtt_ms = u.mos = -1;
  return u;
}

static void test_call_machine__targets(void)
{
  vc_call_update u;

  u = upd(VC_UPDATE_RINGING, VC_LEG_AGENT, 0, 0);
  CHECK(vc__call_update_target(VC_CALL_INITIATED, &u, 0, 0) ==
        VC_CALL_AGENT_RINGING);
  /* Never backwards, never sideways. */
  CHECK(vc__call_update_target(VC_CALL_AGENT_ANSWERED, &u, 0, 0) == 0);
  CHECK(vc__call_update_target(VC_CALL_AGENT_RINGING, &u, 0, 0) == 0);
  u = upd(VC_UPDATE_ANSWERED, VC_LEG_CUSTOMER, 0, 0);
  CHECK(vc__call_update_target(VC_CALL_INITIATED, &u, 0, 0) ==
        VC_CALL_BRIDGED);
  /* With an IVR the customer answering is not yet the bridge. */
  CHECK(vc__call_update_target(VC_CALL_AGENT_ANSWERED, &u, 1, 0) ==
        VC_CALL_CUSTOMER_RINGING);
  CHECK(vc__call_update_target(VC_CALL_CUSTOMER_RINGING, &u, 1, 0) == 0);
  u = upd(VC_UPDATE_ANSWERED, VC_LEG_NONE, 0, 0);
  CHECK(vc__call_update_target(VC_CALL_INITIATED, &u, 0, 0) == 0);
  /* Final states take nothing. */
  for (int st = VC_CALL_COMPLETED; st <= VC_CALL_CANCELED; st++) {
    u = upd(VC_UPDATE_ENDED, VC_LEG_NONE, VC_CAUSE_NORMAL, 0);
    CHECK(vc__call_update_target(st, &u, 0, 0) == 0);
    u = upd(VC_UPDATE_ANSWERED, VC_LEG_AGENT, 0, 0);
    CHECK(vc__call_update_target(st, &u, 0, 0) == 0);
  }
  /* One leg ending while the legs are apart (hold, transfer) does not
   * end the call; the whole call ending does. */
  u = upd(VC_UPDATE_ENDED, VC_LEG_AGENT, VC_CAUSE_NORMAL, 0);
  CHECK(vc__call_update_target(VC_CALL_BRIDGED, &u, 0, 1) == 0);
  CHECK(vc__call_update_target(VC_CALL_BRIDGED, &u, 0, 0) ==
        VC_CALL_COMPLETED);
  u.leg = VC_LEG_NONE;
  CHECK(vc__call_update_target(VC_CALL_BRIDGED, &u, 0, 1) ==
        VC_CALL_COMPLETED);
  /* Other reports move nothing. */
  u = upd(VC_UPDATE_DTMF, VC_LEG_CUSTOMER, 0, 0);
  CHECK(vc__call_update_target(VC_CALL_BRIDGED, &u, 0, 0) == 0);
}

static void test_call_machine__causes(void)
{
  static const struct { int cause, state; } map[] = {
    { VC_CAUSE_NONE, VC_CALL_CANCELED },
    { VC_CAUSE_NORMAL, VC_CALL_CANCELED },
    { VC_CAUSE_BUSY, VC_CALL_BUSY },
    { VC_CAUSE_NO_ANSWER, VC_CALL_NO_ANSWER },
    { VC_CAUSE_REJECTED, VC_CALL_FAILED },
    { VC_CAUSE_UNREACHABLE, VC_CALL_FAILED },
    { VC_CAUSE_CANCELED, VC_CALL_CANCELED },
    { VC_CAUSE_API_HANGUP, VC_CALL_CANCELED },
    { VC_CAUSE_TIME_LIMIT, VC_CALL_FAILED },
    { VC_CAUSE_PROVIDER_ERROR, VC_CALL_FAILED },
    { VC_CAUSE_IVR, VC_CALL_CANCELED },
  };

  for (size_t i = 0; i < VC_ARRAY_SIZE(map); i++) {
    CHECK(vc__call_end_state(map[i].cause, 0) == map[i].state);
    /* After the bridge every end is a completion. */
    CHECK(vc__call_end_state(map[i].cause, 1) == VC_CALL_COMPLETED);
  }
  CHECK(vc__call_state_live(VC_CALL_BRIDGED));
  CHECK(!vc__call_state_live(VC_CALL_COMPLETED));
  CHECK(!vc__call_state_live(0));
}

typedef struct env {
  vc_ctx *ctx;
  vc_tenant *t;
  vc__db *db;
  char call[VC_ID_SIZE];
} env;

static void env_open(env *e, const char *channel_config)
{
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;
  vc_tenant_spec ts = VC_TENANT_SPEC_INIT;
  vc_channel_spec cs = VC_CHANNEL_SPEC_INIT;
  vc_call_spec s = VC_CALL_SPEC_INIT;
  vc_channel *ch;
  vc_store *store;
  vc_call *c;

  g_now = T0;
  CHECK_OK(vc_store_open_sqlite(&store, vc_test_path("m.db"), NULL));
  o.store = store;
  o.clock_cb = test_clock;
  o.public_base_url = "https://hooks.example.com";
  CHECK_OK(vc_ctx_new(&e->ctx, &o));
  ts.slug = "acme";
  CHECK_OK(vc_tenant_new(&e->t, e->ctx, &ts));
  cs.name = "voice";
  cs.provider = "sandbox-voice";
  cs.config_json = channel_config;
  cs.sender = "+14155550000";
  CHECK_OK(vc_channel_new(&ch, e->t, &cs));
  vc_channel_free(ch);
  s.agent_number = "+14155550111";
  s.customer_number = "+14155550123";
  CHECK_OK(vc_call_start(&c, e->t, &s));
  snprintf(e->call, sizeof(e->call), "%s", vc_call_id(c));
  vc_call_free(c);
  CHECK_OK(vc__db_acquire(&e->db, e->ctx->store));
}

static void env_close(env *e)
{
  vc__db_release(e->db);
  vc_tenant_free(e->t);
  vc_ctx_free(e->ctx);
}

static int apply(env *e, vc_call_update u)
{
  int rc, changed = 0;

  CHECK_OK(vc__db_begin(e->db));
  rc = vc__call_apply(e->db, e->ctx, vc_tenant_id(e->t), e->call, &u,
                      g_now, &changed);
  if (rc == 0)
    CHECK_OK(vc__db_commit(e->db));
  else
    vc__db_rollback(e->db);
  return rc < 0 ? rc : changed;
}

static vc__call_row row(env *e)
{
  vc__call_row r;

  CHECK_OK(vc__call_row_load(&r, e->db, vc_tenant_id(e->t), e->call));
  return r;
}

/* "type:state" of every entry after seq `from`, in order. */
static void entries(env *e, int64_t from, char *out, size_t size)
{
  vc__stmt *s;
  size_t len = 0;

  out[0] = '\0';
  CHECK_OK(vc__db_query(&s, e->db,
                        "SELECT type, state FROM vc_call_event"
                        " WHERE tenant_id = ?1 AND call_id = ?2"
                        " AND seq > ?3 ORDER BY seq", "tti",
                        vc_tenant_id(e->t), e->call, from));
  while (vc__stmt_step(s) == VC_STORAGE_ROW)
    len += (size_t)snprintf(out + len, size - len, "%s%s:%lld",
                            len ? " " : "", vc__stmt_text(s, 0),
                            (long long)vc__stmt_int64(s, 1));
  vc__stmt_done(s);
}

static void test_call_machine__monotonic_and_filled(void)
{
  env e;
  vc__call_row r;
  char line[1024];

  env_open(&e, "{}");
  /* Straight to customer ringing: the two agent states are filled in
   * at the same time, in order. */
  CHECK(apply(&e, upd(VC_UPDATE_RINGING, VC_LEG_CUSTOMER, 0, T0 + 3000))
        == 1);
  r = row(&e);
  CHECK(r.state == VC_CALL_CUSTOMER_RINGING);
  CHECK(r.at[VC_CALL_AGENT_RINGING] == T0 + 3000);
  CHECK(r.at[VC_CALL_AGENT_ANSWERED] == T0 + 3000);
  CHECK(r.at[VC_CALL_CUSTOMER_RINGING] == T0 + 3000);
  entries(&e, 1, line, sizeof(line));
  CHECK_STR(line, "state:2 state:3 ringing:3 state:4");
  /* A late agent report changes nothing. */
  CHECK(apply(&e, upd(VC_UPDATE_ANSWERED, VC_LEG_AGENT, 0, T0 + 2000)) == 0);
  CHECK(apply(&e, upd(VC_UPDATE_RINGING, VC_LEG_AGENT, 0, T0 + 1000)) == 0);
  r = row(&e);
  CHECK(r.state == VC_CALL_CUSTOMER_RINGING);
  CHECK(r.at[VC_CALL_AGENT_ANSWERED] == T0 + 3000);
  /* A provider time before the call's latest is clamped to it. */
  CHECK(apply(&e, upd(VC_UPDATE_ANSWERED, VC_LEG_CUSTOMER, 0, T0 + 500))
        == 1);
  r = row(&e);
  CHECK(r.state == VC_CALL_BRIDGED);
  CHECK(r.at[VC_CALL_BRIDGED] == T0 + 3000);
  /* The end; talk time from the bridge when the leg gives none. */
  CHECK(apply(&e, upd(VC_UPDATE_ENDED, VC_LEG_AGENT, VC_CAUSE_NORMAL,
                      T0 + 63000)) == 1);
  r = row(&e);
  CHECK(r.state == VC_CALL_COMPLETED);
  CHECK(r.cause == VC_CAUSE_NORMAL);
  CHECK(r.at[0] == T0 + 63000);
  /* Final: nothing moves it again. */
  CHECK(apply(&e, upd(VC_UPDATE_ENDED, VC_LEG_NONE, VC_CAUSE_BUSY,
                      T0 + 70000)) == 0);
  CHECK(apply(&e, upd(VC_UPDATE_RINGING, VC_LEG_AGENT, 0, T0 + 70000)) == 0);
  CHECK(apply(&e, upd(VC_UPDATE_DTMF, VC_LEG_CUSTOMER, 0, 0)) == 0);
  r = row(&e);
  CHECK(r.state == VC_CALL_COMPLETED);
  CHECK(r.at[0] == T0 + 63000);
  entries(&e, 5, line, sizeof(line));
  CHECK_STR(line, "answered:4 bridged:4 state:5 hangup:5 state:6");
  {
    vc__stmt *s;
    CHECK_OK(vc__db_query(&s, e.db, "SELECT talk_s FROM vc_call"
                          " WHERE id = ?1", "t", e.call));
    CHECK(vc__stmt_step(s) == VC_STORAGE_ROW);
    CHECK(vc__stmt_int64(s, 0) == 60);
    vc__stmt_done(s);
  }
  env_close(&e);
}

static void test_call_machine__customer_leg_fails(void)
{
  env e;
  vc__call_row r;
  char line[512];

  env_open(&e, "{}");
  /* Only the agent rang, then the customer's leg was busy: the agent
   * must have answered (the customer is dialled after). */
  CHECK(apply(&e, upd(VC_UPDATE_RINGING, VC_LEG_AGENT, 0, T0 + 1000)) == 1);
  CHECK(apply(&e, upd(VC_UPDATE_ENDED, VC_LEG_CUSTOMER, VC_CAUSE_BUSY,
                      T0 + 9000)) == 1);
  r = row(&e);
  CHECK(r.state == VC_CALL_BUSY);
  CHECK(r.at[VC_CALL_AGENT_ANSWERED] == T0 + 9000);
  CHECK(r.at[VC_CALL_CUSTOMER_RINGING] == 0);
  entries(&e, 0, line, sizeof(line));
  CHECK_STR(line, "state:1 ringing:1 state:2 state:3 hangup:3 state:8");
  env_close(&e);
}

static void test_call_machine__hangup_asked_and_detached(void)
{
  env e;
  vc__call_row r;

  env_open(&e, "{}");
  CHECK(apply(&e, upd(VC_UPDATE_ANSWERED, VC_LEG_CUSTOMER, 0, T0)) == 1);
  CHECK_OK(vc__db_run(e.db, "UPDATE vc_call SET transferred = 1", ""));
  /* Transferred: the agent's leg ending leaves the call up. */
  CHECK(apply(&e, upd(VC_UPDATE_ENDED, VC_LEG_AGENT, VC_CAUSE_NORMAL,
                      T0 + 5000)) == 0);
  r = row(&e);
  CHECK(r.state == VC_CALL_BRIDGED);
  /* The customer's leg ends it; asked by vc_call_hangup: api_hangup. */
  CHECK_OK(vc__db_run(e.db, "UPDATE vc_call SET hangup_requested = 1", ""));
  CHECK(apply(&e, upd(VC_UPDATE_ENDED, VC_LEG_CUSTOMER, VC_CAUSE_NORMAL,
                      T0 + 9000)) == 1);
  r = row(&e);
  CHECK(r.state == VC_CALL_COMPLETED);
  CHECK(r.cause == VC_CAUSE_API_HANGUP);
  env_close(&e);
}

/* On hold, a leg's end leaves the call up until a hangup is asked: then
 * the first leg to end ends the call. */
static void test_call_machine__hangup_while_held(void)
{
  env e;
  vc__call_row r;

  env_open(&e, "{}");
  CHECK(apply(&e, upd(VC_UPDATE_ANSWERED, VC_LEG_CUSTOMER, 0, T0)) == 1);
  CHECK_OK(vc__db_run(e.db, "UPDATE vc_call SET on_hold = 1", ""));
  CHECK(apply(&e, upd(VC_UPDATE_ENDED, VC_LEG_CUSTOMER, VC_CAUSE_NORMAL,
                      T0 + 5000)) == 0);
  CHECK(row(&e).state == VC_CALL_BRIDGED);
  CHECK_OK(vc__db_run(e.db, "UPDATE vc_call SET hangup_requested = 1", ""));
  CHECK(apply(&e, upd(VC_UPDATE_ENDED, VC_LEG_AGENT, VC_CAUSE_NORMAL,
                      T0 + 9000)) == 1);
  r = row(&e);
  CHECK(r.state == VC_CALL_COMPLETED);
  CHECK(r.cause == VC_CAUSE_API_HANGUP);
  env_close(&e);
}

/* Entries never go back in time along seq, whoever dated them, so the
 * call's latest time (the clamp's base) is its last entry's. */
static void test_call_machine__latest_entry(void)
{
  env e;
  vc__stmt *s;
  vc__call_row r;
  char line[512];

  env_open(&e, "{}");
  CHECK(apply(&e, upd(VC_UPDATE_RINGING, VC_LEG_AGENT, 0, T0 + 1000)) == 1);
  /* An entry of the library's own, later than the provider's times. */
  CHECK_OK(vc__db_begin(e.db));
  CHECK_OK(vc__call_entry_add(e.db, e.ctx, vc_tenant_id(e.t), e.call,
                              "dtmf", VC_LEG_CUSTOMER, NULL, T0 + 5000));
  /* One dated before the entry it follows is dated at it. */
  CHECK_OK(vc__call_entry_add(e.db, e.ctx, vc_tenant_id(e.t), e.call,
                              "dtmf", VC_LEG_CUSTOMER, NULL, T0 + 4000));
  CHECK_OK(vc__db_commit(e.db));
  r = row(&e);
  CHECK(r.last_entry_at == T0 + 5000);
  /* A report dated before it: its state and entries at the latest. */
  CHECK(apply(&e, upd(VC_UPDATE_ANSWERED, VC_LEG_AGENT, 0, T0 + 2000)) == 1);
  r = row(&e);
  CHECK(r.state == VC_CALL_AGENT_ANSWERED);
  CHECK(r.at[VC_CALL_AGENT_ANSWERED] == T0 + 5000);
  CHECK(r.last_entry_at == T0 + 5000);
  entries(&e, 3, line, sizeof(line));
  CHECK_STR(line, "dtmf:2 dtmf:2 answered:2 state:3");
  CHECK(apply(&e, upd(VC_UPDATE_RINGING, VC_LEG_CUSTOMER, 0, T0 + 7000))
        == 1);
  CHECK(row(&e).last_entry_at == T0 + 7000);
  /* Along seq the times never fall, and the last is the latest. */
  CHECK_OK(vc__db_query(&s, e.db, "SELECT COUNT(*) FROM vc_call_event a"
                        " JOIN vc_call_event b ON b.tenant_id = a.tenant_id"
                        " AND b.call_id = a.call_id AND b.seq = a.seq + 1"
                        " WHERE b.occurred_at < a.occurred_at", ""));
  CHECK(vc__stmt_step(s) == VC_STORAGE_ROW);
  CHECK(vc__stmt_int64(s, 0) == 0);
  vc__stmt_done(s);
  CHECK_OK(vc__db_query(&s, e.db, "SELECT MAX(occurred_at), (SELECT"
                        " occurred_at FROM vc_call_event ORDER BY seq DESC"
                        " LIMIT 1) FROM vc_call_event", ""));
  CHECK(vc__stmt_step(s) == VC_STORAGE_ROW);
  CHECK(vc__stmt_int64(s, 0) == T0 + 7000);
  CHECK(vc__stmt_int64(s, 1) == T0 + 7000);
  vc__stmt_done(s);
  env_close(&e);
}

/* The machine appends a call's entries from the row it holds; an entry
 * someone else added meanwhile (here a trigger, after each `ringing`
 * entry) takes the seq the row expected, and the next entry goes after
 * it, at its time or later. */
static void test_call_machine__entry_added_meanwhile(void)
{
  env e;
  vc__stmt *s;
  char line[512];
  int64_t prev = 0, seq = 0;

  env_open(&e, "{}");
  CHECK_OK(vc__db_run(e.db, "CREATE TEMP TRIGGER other_entry AFTER INSERT"
                      " ON vc_call_event WHEN NEW.type = 'ringing' BEGIN"
                      " INSERT INTO vc_call_event (tenant_id, call_id, seq,"
                      " type, leg, state, detail, occurred_at, created_at)"
                      " VALUES (NEW.tenant_id, NEW.call_id, NEW.seq + 1,"
                      " 'other', 0, NEW.state, '{}', NEW.occurred_at + 500,"
                      " NEW.created_at); END", ""));
  CHECK(apply(&e, upd(VC_UPDATE_RINGING, VC_LEG_AGENT, 0, T0 + 1000)) == 1);
  CHECK(apply(&e, upd(VC_UPDATE_ANSWERED, VC_LEG_AGENT, 0, T0 + 1200)) == 1);
  entries(&e, 0, line, sizeof(line));
  CHECK_STR(line, "state:1 ringing:1 other:1 state:2 answered:2 state:3");
  CHECK_OK(vc__db_query(&s, e.db, "SELECT seq, occurred_at FROM"
                        " vc_call_event ORDER BY seq", ""));
  while (vc__stmt_step(s) == VC_STORAGE_ROW) {
    CHECK(vc__stmt_int64(s, 0) == ++seq);
    CHECK(vc__stmt_int64(s, 1) >= prev);
    prev = vc__stmt_int64(s, 1);
  }
  vc__stmt_done(s);
  CHECK(seq == 6);
  /* The state entry after the other one is at the other one's time. */
  CHECK(prev == T0 + 1500);
  CHECK(row(&e).at[VC_CALL_AGENT_RINGING] == T0 + 1000);
  CHECK_OK(vc__db_run(e.db, "DROP TRIGGER other_entry", ""));
  env_close(&e);
}

static void test_call_machine__unknown_call(void)
{
  env e;
  int rc;

  env_open(&e, "{}");
  CHECK_OK(vc__db_begin(e.db));
  rc = vc__call_apply(e.db, e.ctx, vc_tenant_id(e.t),
                      "01ARZ3NDEKTSV4RRFFQ69G5FAV",
                      &(vc_call_update){ .version = 1, .type = 1, .leg = 1 },
                      g_now, NULL);
  vc__db_rollback(e.db);
  CHECK(rc == VC_ENOTFOUND);
  /* Another tenant's id for the same call: not found either. */
  CHECK_OK(vc__db_begin(e.db));
  rc = vc__call_apply(e.db, e.ctx, "01ARZ3NDEKTSV4RRFFQ69G5FAV", e.call,
                      &(vc_call_update){ .version = 1, .type = 1, .leg = 1 },
                      g_now, NULL);
  vc__db_rollback(e.db);
  CHECK(rc == VC_ENOTFOUND);
  env_close(&e);
}

/* Webhooks are applied once: by event id, else by a hash of the update
 * and of its URL's call, step, node and try. */
static int post(env *e, const char *query, const char *body)
{
  vc_http_request req = VC_HTTP_REQUEST_INIT;
  vc_http_response res;
  vc__stmt *s;
  char target[256], channel[VC_ID_SIZE] = "";
  int status;

  CHECK_OK(vc__db_query(&s, e->db, "SELECT id FROM vc_channel", ""));
  if (vc__stmt_step(s) == VC_STORAGE_ROW)
    snprintf(channel, sizeof(channel), "%s", vc__stmt_text(s, 0));
  vc__stmt_done(s);
  snprintf(target, sizeof(target), "/webhooks/%s?vc_call=%s%s", channel,
           e->call, query);
  req.method = "POST";
  req.target = target;
  req.body = (const uint8_t *)body;
  req.body_len = strlen(body);
  vc_webhook_handle(&res, e->ctx, &req);
  status = res.status;
  vc_http_response_dispose(&res);
  return status;
}

static int count(env *e, const char *type)
{
  vc__stmt *s;
  int n = -1;

  CHECK_OK(vc__db_query(&s, e->db, "SELECT COUNT(*) FROM vc_call_event"
                        " WHERE type = ?1", "t", type));
  if (vc__stmt_step(s) == VC_STORAGE_ROW)
    n = (int)vc__stmt_int64(s, 0);
  vc__stmt_done(s);
  return n;
}

static void test_call_machine__dedupe(void)
{
  env e;

  env_open(&e, "{\"outcome\":\"retry\"}");
  CHECK(vc_ctx_run(e.ctx, 0) == 1); /* routed to the channel */
  CHECK(post(&e, "", "{\"type\":\"answered\",\"leg\":\"customer\"}") == 200);
  /* The same keys twice: once. In another IVR node or try: again. */
  CHECK(post(&e, "&vc_step=ivr&vc_node=a&vc_try=0",
             "{\"type\":\"dtmf\",\"digits\":\"1\"}") == 200);
  CHECK(post(&e, "&vc_step=ivr&vc_node=a&vc_try=0",
             "{\"type\":\"dtmf\",\"digits\":\"1\"}") == 200);
  CHECK(count(&e, "dtmf") == 1);
  CHECK(post(&e, "&vc_step=ivr&vc_node=b&vc_try=0",
             "{\"type\":\"dtmf\",\"digits\":\"1\"}") == 200);
  CHECK(count(&e, "dtmf") == 2);
  /* By event id, whatever else differs. */
  CHECK(post(&e, "", "{\"type\":\"hold\",\"event_id\":\"h1\"}") == 200);
  CHECK(post(&e, "", "{\"type\":\"unhold\",\"event_id\":\"h1\"}") == 200);
  CHECK(count(&e, "hold") == 1);
  CHECK(count(&e, "unhold") == 0);
  CHECK(post(&e, "", "{\"type\":\"unhold\",\"event_id\":\"h2\"}") == 200);
  CHECK(count(&e, "unhold") == 1);
  env_close(&e);
}

VC_TESTS(
  VC_TEST(test_call_machine__targets),
  VC_TEST(test_call_machine__causes),
  VC_TEST(test_call_machine__monotonic_and_filled),
  VC_TEST(test_call_machine__customer_leg_fails),
  VC_TEST(test_call_machine__hangup_asked_and_detached),
  VC_TEST(test_call_machine__hangup_while_held),
  VC_TEST(test_call_machine__latest_entry),
  VC_TEST(test_call_machine__entry_added_meanwhile),
  VC_TEST(test_call_machine__unknown_call),
  VC_TEST(test_call_machine__dedupe),
)
