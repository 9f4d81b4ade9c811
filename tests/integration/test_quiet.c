/*
 * Quiet hours through the public API, with an injected clock: a message
 * sent inside the tenant's window stays queued until the window ends
 * (the engine runs before and after), across the US spring-forward and
 * fall-back nights; exempt categories; a window wrapping past midnight;
 * no window; unknown timezones refused; calls deferred to the opening
 * with their agent claimed only then. A contact's own window and
 * timezone are covered by unit/test_quiet_internal.c until contacts
 * land (the stand-in knows no contact).
 *
 * Instants in America/New_York were computed with Python 3.11's
 * zoneinfo: int(datetime(2026, 6, 10, 23, 0, tzinfo=ZoneInfo(
 * "America/New_York")).timestamp()) * 1000, and so on.
 */
#define _GNU_SOURCE
#include "vyomcomm.h"
#include "harness.h"

#include <sqlite3.h>
#include <stddef.h>
#include <sys/stat.h>

#define JUN10_2059 1781139540000LL
#define JUN10_2300 1781146800000LL
#define JUN11_0100 1781154000000LL
#define JUN11_0800 1781179200000LL
#define MAR07_2200 1772938800000LL
#define MAR08_0800 1772971200000LL
#define OCT31_2200 1793498400000LL
#define NOV01_0800 1793538000000LL

__attribute__((constructor)) static void need_zoneinfo(void)
{
  struct stat st;

  if (stat("/usr/share/zoneinfo/America/New_York", &st) != 0) {
    fprintf(stderr, "SKIP: /usr/share/zoneinfo is absent (install the "
                    "tzdata package)\n");
    exit(77);
  }
}

/* Marketing SMS and chat without an opt-in: these tests are not about
 * consent (an opt-out still refuses). */
static void no_opt_in(vc_tenant *t)
{
  CHECK_OK(vc_consent_policy_set(t, VC_CHANNEL_SMS, VC_CATEGORY_MARKETING,
                                 0));
  CHECK_OK(vc_consent_policy_set(t, VC_CHANNEL_CHAT, VC_CATEGORY_MARKETING,
                                 0));
}

static int64_t g_now = JUN10_2300;

static int64_t test_clock(void *payload)
{
  (void)payload;
  return g_now;
}

typedef struct env {
  vc_ctx *ctx;
  vc_tenant *t;
} env;

static vc_tenant *tenant_new(env *e, const char *slug, int qs, int qe)
{
  vc_tenant_spec ts = VC_TENANT_SPEC_INIT;
  vc_tenant *t;

  ts.slug = slug;
  ts.timezone = "America/New_York";
  ts.quiet_start_min = qs;
  ts.quiet_end_min = qe;
  CHECK_OK(vc_tenant_new(&t, e->ctx, &ts));
  no_opt_in(t);
  return t;
}

static void env_open(env *e)
{
  static const uint8_t key[32] = { 9, 9, 9 };
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;
  vc_master_key mk = VC_MASTER_KEY_INIT;
  vc_store *store;

  g_now = JUN10_2300;
  CHECK_OK(vc_store_open_sqlite(&store, vc_test_path("q.db"), NULL));
  mk.key = key;
  mk.key_len = 32;
  o.store = store;
  o.master_key = &mk;
  o.clock_cb = test_clock;
  o.random_seed = 7;
  o.public_base_url = "https://hooks.example.com";
  CHECK_OK(vc_ctx_new(&e->ctx, &o));
  e->t = tenant_new(e, "acme", 21 * 60, 8 * 60);
}

static void env_close(env *e)
{
  vc_tenant_free(e->t);
  vc_ctx_free(e->ctx);
}

static void sms_channel(vc_tenant *t)
{
  vc_channel_spec s = VC_CHANNEL_SPEC_INIT;
  vc_channel *ch;

  s.name = "sms";
  s.provider = "sandbox-sms";
  s.config_json = "{\"outcome\":\"accepted\"}";
  s.sender = "+15550001111";
  CHECK_OK(vc_channel_new(&ch, t, &s));
  vc_channel_free(ch);
}

static void send(vc_tenant *t, int category, char id[VC_ID_SIZE])
{
  vc_message_spec s;

  vc_message_spec_init(&s, VC_MESSAGE_SPEC_VERSION);
  s.kind = VC_CHANNEL_SMS;
  s.to = "+14155550123";
  s.text = "Your order has shipped";
  s.category = category;
  CHECK_OK(vc_message_send(id, t, &s));
}

static int64_t row_int(const char *sql, const char *id)
{
  sqlite3 *db;
  sqlite3_stmt *st;
  int64_t n = -1;

  CHECK(sqlite3_open(vc_test_path("q.db"), &db) == SQLITE_OK);
  CHECK(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK);
  if (id != NULL)
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
  if (sqlite3_step(st) == SQLITE_ROW)
    n = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return n;
}

static int64_t due_of(const char *id)
{
  return row_int("SELECT send_at FROM vc_message WHERE id = ?1", id);
}

static int status_of(vc_tenant *t, const char *id)
{
  vc_message *m;
  int st;

  CHECK_OK(vc_message_lookup(&m, t, id));
  st = vc_message_status(m);
  vc_message_free(m);
  return st;
}

/* The due_at of the subject's `type` event, 0 when there is none. */
static int64_t event_due(vc_tenant *t, const char *type, const char *id)
{
  const vc_event *ev;
  int64_t due = 0;
  vc_iter *it;

  CHECK_OK(vc_events_since(&it, t, 0));
  while (vc_event_next(&ev, it) == 0) {
    const char *p;
    if (strcmp(ev->type, type) != 0 || strcmp(ev->subject_id, id) != 0)
      continue;
    CHECK(strstr(ev->payload_json, "\"reason\":\"quiet_hours\"") != NULL);
    CHECK((p = strstr(ev->payload_json, "\"due_at\":")) != NULL);
    due = strtoll(p + 9, NULL, 10);
  }
  vc_iter_free(it);
  return due;
}

static void drain(env *e)
{
  for (int i = 0; i < 20 && vc_ctx_run(e->ctx, 0) > 0; i++)
    ;
}

static void test_quiet__message_waits_for_window_end(void)
{
  char id[VC_ID_SIZE];
  env e;

  env_open(&e);
  sms_channel(e.t);
  send(e.t, 0, id);
  CHECK(status_of(e.t, id) == VC_MSG_QUEUED);
  CHECK(due_of(id) == JUN11_0800);
  CHECK(event_due(e.t, "message.deferred", id) == JUN11_0800);
  drain(&e);
  CHECK(status_of(e.t, id) == VC_MSG_QUEUED);
  g_now = JUN11_0800 - 60000;
  drain(&e);
  CHECK(status_of(e.t, id) == VC_MSG_QUEUED);
  g_now = JUN11_0800;
  drain(&e);
  CHECK(status_of(e.t, id) == VC_MSG_SENT);
  env_close(&e);
}

static void test_quiet__dst_nights(void)
{
  char spring[VC_ID_SIZE], fall[VC_ID_SIZE];
  env e;

  env_open(&e);
  sms_channel(e.t);
  /* 22:00 EST to 08:00 EDT: 9 h later in UTC. */
  g_now = MAR07_2200;
  send(e.t, 0, spring);
  CHECK(due_of(spring) == MAR08_0800);
  g_now = MAR08_0800 - 3600000; /* 07:00 EDT, 08:00 by standard time */
  drain(&e);
  CHECK(status_of(e.t, spring) == VC_MSG_QUEUED);
  g_now = MAR08_0800;
  drain(&e);
  CHECK(status_of(e.t, spring) == VC_MSG_SENT);
  /* 22:00 EDT to 08:00 EST: 11 h later in UTC. */
  g_now = OCT31_2200;
  send(e.t, 0, fall);
  CHECK(due_of(fall) == NOV01_0800);
  g_now = NOV01_0800 - 3600000; /* 07:00 EST, 08:00 by summer time */
  drain(&e);
  CHECK(status_of(e.t, fall) == VC_MSG_QUEUED);
  g_now = NOV01_0800;
  drain(&e);
  CHECK(status_of(e.t, fall) == VC_MSG_SENT);
  env_close(&e);
}

static void test_quiet__wraps_past_midnight(void)
{
  char a[VC_ID_SIZE], b[VC_ID_SIZE];
  env e;

  env_open(&e);
  g_now = JUN11_0100;
  send(e.t, 0, a);
  CHECK(due_of(a) == JUN11_0800);
  g_now = JUN10_2059;
  send(e.t, 0, b);
  CHECK(due_of(b) == JUN10_2059);
  CHECK(event_due(e.t, "message.deferred", b) == 0);
  env_close(&e);
}

static void test_quiet__exempt_categories(void)
{
  vc_tenant_spec s = VC_TENANT_SPEC_INIT;
  char otp[VC_ID_SIZE], mkt[VC_ID_SIZE], tx[VC_ID_SIZE];
  unsigned int mask = 0;
  env e;

  env_open(&e);
  /* Marketing SMS to a recipient without an opt-in: consent's business,
   * not this test's. */
  CHECK_OK(vc_consent_policy_set(e.t, VC_CHANNEL_SMS, VC_CATEGORY_MARKETING,
                                 0));
  /* The default: OTP only. */
  CHECK_OK(vc_tenant_quiet_exempt_categories(e.t, &mask));
  CHECK(mask == VC_QUIET_EXEMPT_DEFAULT);
  send(e.t, VC_CATEGORY_OTP, otp);
  send(e.t, VC_CATEGORY_MARKETING, mkt);
  send(e.t, VC_CATEGORY_TRANSACTIONAL, tx);
  CHECK(due_of(otp) == JUN10_2300);
  CHECK(event_due(e.t, "message.deferred", otp) == 0);
  CHECK(due_of(mkt) == JUN11_0800);
  CHECK(due_of(tx) == JUN11_0800);
  /* Marketing exempt too (an odd choice, but the tenant's). */
  s.quiet_start_min = s.quiet_end_min = VC_TENANT_KEEP;
  s.quiet_exempt_categories = (1u << VC_CATEGORY_MARKETING) |
                              (1u << VC_CATEGORY_OTP);
  CHECK_OK(vc_tenant_update(e.t, &s));
  send(e.t, VC_CATEGORY_MARKETING, mkt);
  CHECK(due_of(mkt) == JUN10_2300);
  /* Nothing exempt: even a code waits. */
  s.quiet_exempt_categories = 0;
  CHECK_OK(vc_tenant_update(e.t, &s));
  send(e.t, VC_CATEGORY_OTP, otp);
  CHECK(due_of(otp) == JUN11_0800);
  /* Keep, and bits of no category. */
  s.quiet_exempt_categories = VC_QUIET_EXEMPT_KEEP;
  CHECK_OK(vc_tenant_update(e.t, &s));
  CHECK_OK(vc_tenant_quiet_exempt_categories(e.t, &mask));
  CHECK(mask == 0);
  s.quiet_exempt_categories = 1u << 5;
  CHECK_RC(vc_tenant_update(e.t, &s), VC_EINVALID);
  CHECK(strstr(vc_error_last()->message, "quiet_exempt_categories") != NULL);
  s.quiet_exempt_categories = 1u;
  CHECK_RC(vc_tenant_update(e.t, &s), VC_EINVALID);
  CHECK_OK(vc_tenant_quiet_exempt_categories(e.t, &mask));
  CHECK(mask == 0);
  env_close(&e);
}

static void test_quiet__spec_version_1(void)
{
  /* A caller built against version 1 passes the shorter struct. */
  const size_t v1 = offsetof(vc_tenant_spec, quiet_exempt_categories);
  unsigned char *one = malloc(v1 + 8);
  vc_tenant_spec full = VC_TENANT_SPEC_INIT;
  unsigned int mask = 1, version = 0;
  vc_tenant *t;
  env e;

  CHECK(one != NULL);
  env_open(&e);
  memset(one, 0xAB, v1 + 8);
  CHECK_OK(vc_tenant_spec_init((vc_tenant_spec *)one, 1));
  memcpy(&version, one, sizeof(version));
  CHECK(version == 1);
  for (size_t i = v1; i < v1 + 8; i++)
    CHECK(one[i] == 0xAB); /* nothing written past the caller's struct */
  full.version = 1;
  full.slug = "old";
  memcpy(one, &full, v1);
  CHECK_OK(vc_tenant_new(&t, e.ctx, (vc_tenant_spec *)one));
  no_opt_in(t);
  CHECK_OK(vc_tenant_quiet_exempt_categories(t, &mask));
  CHECK(mask == VC_QUIET_EXEMPT_DEFAULT);
  full = (vc_tenant_spec)VC_TENANT_SPEC_INIT;
  full.quiet_start_min = full.quiet_end_min = VC_TENANT_KEEP;
  full.quiet_exempt_categories = 0;
  CHECK_OK(vc_tenant_update(t, &full));
  /* A version-1 update keeps the mask. */
  full.version = 1;
  full.name = "Old Co";
  memcpy(one, &full, v1);
  CHECK_OK(vc_tenant_update(t, (vc_tenant_spec *)one));
  CHECK_OK(vc_tenant_quiet_exempt_categories(t, &mask));
  CHECK(mask == 0);
  CHECK_STR(vc_tenant_name(t), "Old Co");
  vc_tenant_free(t);
  env_close(&e);
  free(one);
}

static void test_quiet__none_and_isolation(void)
{
  char a[VC_ID_SIZE], b[VC_ID_SIZE];
  vc_tenant *other;
  vc_message *m;
  env e;

  env_open(&e);
  other = tenant_new(&e, "globex", VC_QUIET_NONE, VC_QUIET_NONE);
  send(e.t, 0, a);
  send(other, 0, b);
  CHECK(due_of(a) == JUN11_0800);
  CHECK(due_of(b) == JUN10_2300);
  CHECK(event_due(other, "message.deferred", b) == 0);
  /* Another tenant sees neither the message nor its deferral. */
  CHECK_RC(vc_message_lookup(&m, other, a), VC_ENOTFOUND);
  CHECK(event_due(other, "message.deferred", a) == 0);
  vc_tenant_free(other);
  env_close(&e);
}

static void test_quiet__unknown_timezone(void)
{
  vc_tenant_spec s = VC_TENANT_SPEC_INIT;
  vc_tenant *t = NULL;
  env e;

  env_open(&e);
  s.slug = "mars";
  s.timezone = "Mars/Olympus_Mons";
  CHECK_RC(vc_tenant_new(&t, e.ctx, &s), VC_EINVALID);
  CHECK(strstr(vc_error_last()->message, "Mars/Olympus_Mons") != NULL);
  CHECK(strstr(vc_error_last()->message, "unknown zone") != NULL);
  CHECK_RC(vc_tenant_lookup(&t, e.ctx, "mars"), VC_ENOTFOUND);
  s.timezone = "../../etc/passwd";
  CHECK_RC(vc_tenant_new(&t, e.ctx, &s), VC_EINVALID);
  /* An update to a bad zone changes nothing. */
  memset(&s, 0, sizeof(s));
  s.version = VC_TENANT_SPEC_VERSION;
  s.quiet_start_min = s.quiet_end_min = VC_TENANT_KEEP;
  s.quiet_exempt_categories = VC_QUIET_EXEMPT_KEEP;
  s.timezone = "America/Nowhere";
  CHECK_RC(vc_tenant_update(e.t, &s), VC_EINVALID);
  CHECK_STR(vc_tenant_timezone(e.t), "America/New_York");
  s.timezone = "Asia/Kolkata";
  CHECK_OK(vc_tenant_update(e.t, &s));
  CHECK_STR(vc_tenant_timezone(e.t), "Asia/Kolkata");
  env_close(&e);
}

/* ---- calls ------------------------------------------------------------- */

static void voice_channel(vc_tenant *t)
{
  vc_channel_spec s = VC_CHANNEL_SPEC_INIT;
  vc_channel *ch;

  s.name = "voice";
  s.provider = "sandbox-voice";
  s.config_json = "{\"ring_s\":5,\"talk_s\":-1}";
  s.sender = "+14155550000";
  CHECK_OK(vc_channel_new(&ch, t, &s));
  vc_channel_free(ch);
}

static vc_agent *agent_new(vc_tenant *t)
{
  vc_agent_spec s = VC_AGENT_SPEC_INIT;
  vc_agent *a;

  s.name = "asha";
  s.number = "+14155550111";
  CHECK_OK(vc_agent_new(&a, t, &s));
  CHECK_OK(vc_agent_set_state(a, VC_AGENT_AVAILABLE, NULL));
  return a;
}

static vc_call *call_start(vc_tenant *t, const char *customer)
{
  vc_call_spec s = VC_CALL_SPEC_INIT;
  vc_call *c;

  s.agent = "asha";
  s.customer_number = customer;
  CHECK_OK(vc_call_start(&c, t, &s));
  return c;
}

static void test_quiet__call_deferred_claims_agent_at_opening(void)
{
  vc_call *c;
  vc_agent *a;
  env e;

  env_open(&e);
  voice_channel(e.t);
  a = agent_new(e.t);
  c = call_start(e.t, "+14155550123");
  CHECK(vc_call_state_of(c) == VC_CALL_INITIATED);
  CHECK(event_due(e.t, "call.deferred", vc_call_id(c)) == JUN11_0800);
  CHECK(row_int("SELECT due_at FROM vc_job WHERE kind = 'call.start'"
                " AND subject_id = ?1", vc_call_id(c)) == JUN11_0800);
  /* The agent is not held meanwhile. */
  CHECK_OK(vc_agent_refresh(a));
  CHECK_STR(vc_agent_call_id(a), "");
  CHECK_OK(vc_agent_set_state(a, VC_AGENT_BREAK, "lunch"));
  CHECK_OK(vc_agent_set_state(a, VC_AGENT_AVAILABLE, NULL));
  drain(&e);
  g_now = JUN11_0800 - 1000;
  drain(&e);
  CHECK_OK(vc_call_refresh(c));
  CHECK(vc_call_state_of(c) == VC_CALL_INITIATED);
  CHECK_OK(vc_agent_refresh(a));
  CHECK_STR(vc_agent_call_id(a), "");
  /* At the opening it is placed, and the agent is claimed then. */
  g_now = JUN11_0800;
  drain(&e);
  CHECK_OK(vc_call_refresh(c));
  CHECK(vc_call_state_of(c) > VC_CALL_INITIATED);
  CHECK(vc_call_state_at(c, VC_CALL_AGENT_RINGING) >= JUN11_0800);
  CHECK_OK(vc_agent_refresh(a));
  CHECK_STR(vc_agent_call_id(a), vc_call_id(c));
  vc_call_free(c);
  vc_agent_free(a);
  env_close(&e);
}

static void test_quiet__deferred_calls_share_agent(void)
{
  vc_call *c1, *c2, *first, *second;
  vc_agent *a;
  env e;

  env_open(&e);
  voice_channel(e.t);
  a = agent_new(e.t);
  /* Two deferred calls for one agent: both accepted, neither holds it. */
  c1 = call_start(e.t, "+14155550123");
  c2 = call_start(e.t, "+14155550124");
  g_now = JUN11_0800;
  drain(&e);
  CHECK_OK(vc_call_refresh(c1));
  CHECK_OK(vc_call_refresh(c2));
  CHECK_OK(vc_agent_refresh(a));
  /* One is placed; the other waits for the agent. */
  first = vc_call_state_of(c1) > VC_CALL_INITIATED ? c1 : c2;
  second = first == c1 ? c2 : c1;
  CHECK(vc_call_state_of(first) > VC_CALL_INITIATED);
  CHECK(vc_call_state_of(second) == VC_CALL_INITIATED);
  CHECK_STR(vc_agent_call_id(a), vc_call_id(first));
  CHECK_OK(vc_call_hangup(first));
  drain(&e);
  CHECK_OK(vc_agent_refresh(a));
  CHECK_STR(vc_agent_call_id(a), "");
  /* Asked again 30 s later: placed then, with the agent. */
  g_now = JUN11_0800 + 30000;
  drain(&e);
  CHECK_OK(vc_call_refresh(second));
  CHECK(vc_call_state_of(second) > VC_CALL_INITIATED);
  CHECK_OK(vc_agent_refresh(a));
  CHECK_STR(vc_agent_call_id(a), vc_call_id(second));
  vc_call_free(c1);
  vc_call_free(c2);
  vc_agent_free(a);
  env_close(&e);
}

static void test_quiet__call_outside_window_claims_at_start(void)
{
  vc_call *c;
  vc_agent *a;
  env e;

  env_open(&e);
  g_now = JUN11_0800 + 3600000;
  voice_channel(e.t);
  a = agent_new(e.t);
  c = call_start(e.t, "+14155550123");
  CHECK(event_due(e.t, "call.deferred", vc_call_id(c)) == 0);
  CHECK_OK(vc_agent_refresh(a));
  CHECK_STR(vc_agent_call_id(a), vc_call_id(c));
  vc_call_free(c);
  vc_agent_free(a);
  env_close(&e);
}

VC_TESTS(
  VC_TEST(test_quiet__message_waits_for_window_end),
  VC_TEST(test_quiet__dst_nights),
  VC_TEST(test_quiet__wraps_past_midnight),
  VC_TEST(test_quiet__exempt_categories),
  VC_TEST(test_quiet__spec_version_1),
  VC_TEST(test_quiet__none_and_isolation),
  VC_TEST(test_quiet__unknown_timezone),
  VC_TEST(test_quiet__call_deferred_claims_agent_at_opening),
  VC_TEST(test_quiet__deferred_calls_share_agent),
  VC_TEST(test_quiet__call_outside_window_claims_at_start),
)
