/*
 * Session adapters (vyomcomm/sys/transport.h) through the public API:
 * the test adapter of session_adapter.h runs on the context's network
 * thread with libre timers, engine threads place and control the calls,
 * and its reports come back through vc_session_report(). The clock is
 * the wall clock plus an offset the test moves (the placement timeout).
 * SQLite on disk.
 */
#define _GNU_SOURCE
#include "vyomcomm.h"
#include "harness.h"
#include "net_util.h"
#include "session_adapter.h"

#define AGENT "+919876543210"
#define CUSTOMER "+15550000001"

static pthread_mutex_t clock_mu = PTHREAD_MUTEX_INITIALIZER;
static int64_t clock_offset;

static int64_t test_clock(void *payload)
{
  int64_t off;

  (void)payload;
  pthread_mutex_lock(&clock_mu);
  off = clock_offset;
  pthread_mutex_unlock(&clock_mu);
  return wall_ms() + off;
}

static void clock_advance(int64_t ms)
{
  pthread_mutex_lock(&clock_mu);
  clock_offset += ms;
  pthread_mutex_unlock(&clock_mu);
}

typedef struct env {
  vc_ctx *ctx;
  vc_tenant *t;
} env;

static void ts_reset(void)
{
  ts_ctl_lock();
  ts_ctl.silent = 0;
  memset(ts_ctl.down, 0, sizeof(ts_ctl.down));
  memset(ts_ctl.reported_down, 0, sizeof(ts_ctl.reported_down));
  ts_ctl.opened = ts_ctl.closed = ts_ctl.placed = ts_ctl.live_calls = 0;
  ts_ctl.ops[0] = '\0';
  ts_ctl.second_answer_rc = ts_ctl.bad_report_rc = 0;
  ts_ctl_unlock();
}

static void env_open(env *e)
{
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;
  vc_tenant_spec ts = VC_TENANT_SPEC_INIT;
  vc_adapter a;
  vc_store *store;

  memset(e, 0, sizeof(*e));
  ts_reset();
  pthread_mutex_lock(&clock_mu);
  clock_offset = 0;
  pthread_mutex_unlock(&clock_mu);
  CHECK_OK(vc_store_open_sqlite(&store, vc_test_path("x.db"), NULL));
  o.store = store;
  o.clock_cb = test_clock;
  o.public_base_url = "http://127.0.0.1:9";
  CHECK_OK(vc_ctx_new(&e->ctx, &o));
  ts_adapter(&a);
  CHECK_OK(vc_adapter_register(e->ctx, &a));
  ts.slug = "acme";
  CHECK_OK(vc_tenant_new(&e->t, e->ctx, &ts));
}

static void env_close(env *e)
{
  vc_tenant_free(e->t);
  vc_ctx_free(e->ctx);
}

static void channel(env *e, int name, int priority, char id[VC_ID_SIZE])
{
  vc_channel_spec s = VC_CHANNEL_SPEC_INIT;
  char config[64], cname[16];
  vc_channel *ch;

  snprintf(config, sizeof(config), "{\"name\":\"%d\"}", name);
  snprintf(cname, sizeof(cname), "ts%d", name);
  s.name = cname;
  s.provider = "test-session";
  s.config_json = config;
  s.sender = "+15550009999";
  s.priority = priority;
  CHECK_OK(vc_channel_new(&ch, e->t, &s));
  snprintf(id, VC_ID_SIZE, "%s", vc_channel_id(ch));
  vc_channel_free(ch);
}

static void start_call(env *e, vc_call **c, const char *customer,
                       int ring_timeout_s)
{
  vc_call_spec s = VC_CALL_SPEC_INIT;

  s.agent_number = AGENT;
  s.customer_number = customer;
  s.ring_timeout_s = ring_timeout_s;
  s.time_limit_s = 600;
  CHECK_OK(vc_call_start(c, e->t, &s));
}

/* Wait (real time) until the call is in `state` (0: any final one). */
static int wait_state(vc_call *c, int state, int ms)
{
  int64_t deadline = wall_ms() + ms;

  do {
    CHECK_OK(vc_call_refresh(c));
    if (state ? vc_call_state_of(c) == state
              : vc_call_state_final(vc_call_state_of(c)))
      return 1;
    usleep(5000);
  } while (wall_ms() < deadline);
  return 0;
}

static int wait_hold(vc_call *c, int on, int ms)
{
  int64_t deadline = wall_ms() + ms;

  do {
    CHECK_OK(vc_call_refresh(c));
    if (vc_call_on_hold(c) == on)
      return 1;
    usleep(5000);
  } while (wall_ms() < deadline);
  return 0;
}

static int ctl_int(const int *v)
{
  int x;

  ts_ctl_lock();
  x = *v;
  ts_ctl_unlock();
  return x;
}

static int wait_ctl(const int *v, int want, int ms)
{
  int64_t deadline = wall_ms() + ms;

  while (ctl_int(v) < want && wall_ms() < deadline)
    usleep(2000);
  return ctl_int(v) >= want;
}

static void ops_log(char *out, size_t size)
{
  ts_ctl_lock();
  snprintf(out, size, "%s", ts_ctl.ops);
  ts_ctl_unlock();
}

/* The timeline's "type/leg ..." entries, oldest first. */
static void timeline(env *e, const char *id, char *out, size_t size)
{
  vc_iter *it;
  vc_call_entry *en;
  int64_t last = 0, seq = 0;
  size_t len = 0;

  out[0] = '\0';
  CHECK_OK(vc_call_timeline(&it, e->t, id));
  while (vc_call_entry_next(&en, it) == 0) {
    CHECK(vc_call_entry_at(en) >= last);
    CHECK(vc_call_entry_seq(en) > seq);
    last = vc_call_entry_at(en);
    seq = vc_call_entry_seq(en);
    if (strcmp(vc_call_entry_type(en), "state") == 0)
      len += (size_t)snprintf(out + len, size - len, "%s%s/%d",
                              len ? " " : "",
                              vc_call_state_name(vc_call_entry_state(en)),
                              vc_call_entry_leg(en));
    else
      len += (size_t)snprintf(out + len, size - len, "%s%s/%d",
                              len ? " " : "", vc_call_entry_type(en),
                              vc_call_entry_leg(en));
    CHECK(len < size);
    vc_call_entry_free(en);
  }
  vc_iter_free(it);
}

static int count_of(const char *hay, const char *needle)
{
  int n = 0;

  for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
    n++;
  return n;
}

/* Forty calls at once on two engine threads: placed in batches, their
 * reports applied several to a transaction, their hangups run together.
 * Every call still gets every state once, in order, and each transition
 * keeps the time the session reported it (the session reports them
 * TS_STEP_MS apart, however they were batched). */
static void test_session__many_at_once(void)
{
  enum { N = 40 };
  env e;
  vc_call *c[N];
  char ch[VC_ID_SIZE], line[2048];

  env_open(&e);
  channel(&e, 1, 10, ch);
  CHECK_OK(vc_ctx_start(e.ctx, 2));
  for (int i = 0; i < N; i++)
    start_call(&e, &c[i], CUSTOMER, 0);
  for (int i = 0; i < N; i++)
    CHECK(wait_state(c[i], VC_CALL_BRIDGED, 20000));
  for (int i = 0; i < N; i++)
    CHECK_OK(vc_call_hangup(c[i]));
  for (int i = 0; i < N; i++) {
    CHECK(wait_state(c[i], 0, 20000));
    CHECK(vc_call_state_of(c[i]) == VC_CALL_COMPLETED);
    CHECK(vc_call_cause_of(c[i]) == VC_CAUSE_API_HANGUP);
    CHECK(vc_call_attempts(c[i]) == 1);
    timeline(&e, vc_call_id(c[i]), line, sizeof(line));
    CHECK(strstr(line, "initiated/0 ringing/1 agent_ringing/0 answered/1 "
                       "agent_answered/0 ringing/2 customer_ringing/0 "
                       "answered/2 bridged/0") == line);
    CHECK(count_of(line, "completed/0") == 1);
    /* Reported TS_STEP_MS apart: never the same instant. */
    CHECK(vc_call_state_at(c[i], VC_CALL_AGENT_RINGING) <
          vc_call_state_at(c[i], VC_CALL_AGENT_ANSWERED));
    CHECK(vc_call_state_at(c[i], VC_CALL_AGENT_ANSWERED) <
          vc_call_state_at(c[i], VC_CALL_CUSTOMER_RINGING));
    CHECK(vc_call_state_at(c[i], VC_CALL_CUSTOMER_RINGING) <
          vc_call_state_at(c[i], VC_CALL_BRIDGED));
    CHECK(vc_call_state_at(c[i], VC_CALL_BRIDGED) <=
          vc_call_state_at(c[i], VC_CALL_COMPLETED));
    vc_call_free(c[i]);
  }
  /* One session, although both engine threads made an instance of the
   * channel at once (their first use of it). */
  CHECK(ctl_int(&ts_ctl.opened) == 1);
  env_close(&e);
}

/* Forty calls held at once, then hung up at once while held: each
 * operation's answer is handed to its waiter while the call's later
 * items (the next answer, the end the session reports right after the
 * hangup's answer) wait behind it, with other calls' items going on
 * meanwhile. Every call still ends once, after its hold. */
static void test_session__operations_at_once(void)
{
  enum { N = 40 };
  env e;
  vc_call *c[N];
  char ch[VC_ID_SIZE], line[2048];

  env_open(&e);
  channel(&e, 1, 10, ch);
  CHECK_OK(vc_ctx_start(e.ctx, 2));
  for (int i = 0; i < N; i++)
    start_call(&e, &c[i], CUSTOMER, 0);
  for (int i = 0; i < N; i++)
    CHECK(wait_state(c[i], VC_CALL_BRIDGED, 20000));
  for (int i = 0; i < N; i++)
    CHECK_OK(vc_call_hold(c[i], 1));
  for (int i = 0; i < N; i++)
    CHECK(wait_hold(c[i], 1, 20000));
  for (int i = 0; i < N; i++)
    CHECK_OK(vc_call_hangup(c[i]));
  for (int i = 0; i < N; i++) {
    CHECK(wait_state(c[i], 0, 20000));
    CHECK(vc_call_state_of(c[i]) == VC_CALL_COMPLETED);
    CHECK(vc_call_cause_of(c[i]) == VC_CAUSE_API_HANGUP);
    timeline(&e, vc_call_id(c[i]), line, sizeof(line));
    CHECK(strstr(line, "initiated/0 ringing/1 agent_ringing/0 answered/1 "
                       "agent_answered/0 ringing/2 customer_ringing/0 "
                       "answered/2 bridged/0") == line);
    CHECK(count_of(line, " hold/") == 1);
    CHECK(count_of(line, "completed/0") == 1);
    CHECK(strstr(line, " hold/") < strstr(line, "completed/0"));
    vc_call_free(c[i]);
  }
  env_close(&e);
}

/* Placed, reported, held, transferred and hung up through the session. */
static void test_session__lifecycle(void)
{
  env e;
  vc_call *c;
  char ch[VC_ID_SIZE], line[2048], ops[256];

  env_open(&e);
  channel(&e, 1, 10, ch);
  CHECK_OK(vc_ctx_start(e.ctx, 2));
  start_call(&e, &c, CUSTOMER, 0);
  CHECK(wait_state(c, VC_CALL_BRIDGED, 10000));
  CHECK_STR(vc_call_provider_id(c), "ts-1-1");
  CHECK_STR(vc_call_channel_id(c), ch);
  CHECK(vc_call_attempts(c) == 1);
  CHECK(ctl_int(&ts_ctl.opened) == 1);
  /* Each placement is answered once; a report names its call. */
  CHECK(ctl_int(&ts_ctl.second_answer_rc) == VC_ENOTFOUND);
  CHECK(ctl_int(&ts_ctl.bad_report_rc) == VC_EINVALID);
  /* Every state once, in order, although the session sent the agent's
   * ringing twice (one event id) and its answer twice (no event id). */
  timeline(&e, vc_call_id(c), line, sizeof(line));
  fprintf(stderr, "  timeline: %s\n", line);
  CHECK(count_of(line, "ringing/1") == 1);
  CHECK(count_of(line, "answered/1") == 1);
  CHECK(count_of(line, "ringing/2") == 1);
  CHECK(count_of(line, "answered/2") == 1);
  CHECK(strstr(line, "initiated/0 ringing/1 agent_ringing/0 answered/1 "
                     "agent_answered/0 ringing/2 customer_ringing/0 "
                     "answered/2 bridged/0 bridged/0") == line);
  CHECK(strstr(line, "ringing/1") < strstr(line, "answered/1"));
  CHECK(strstr(line, "answered/1") < strstr(line, "ringing/2"));
  CHECK(strstr(line, "ringing/2") < strstr(line, "answered/2"));

  CHECK_OK(vc_call_hold(c, 1));
  CHECK(wait_hold(c, 1, 5000));
  CHECK_OK(vc_call_hold(c, 0));
  CHECK(wait_hold(c, 0, 5000));
  CHECK_OK(vc_call_transfer(c, "+919812345678"));
  for (int i = 0; i < 500; i++) {
    ops_log(ops, sizeof(ops));
    if (strstr(ops, "transfer") != NULL)
      break;
    usleep(10000);
  }
  /* The transfer's answer is recorded before the hangup goes out. */
  for (int i = 0; i < 500; i++) {
    timeline(&e, vc_call_id(c), line, sizeof(line));
    if (strstr(line, "transfer/") != NULL)
      break;
    usleep(10000);
  }
  CHECK(strstr(line, "transfer/") != NULL);
  CHECK_OK(vc_call_hangup(c));
  CHECK(wait_state(c, 0, 10000));
  CHECK(vc_call_state_of(c) == VC_CALL_COMPLETED);
  CHECK(vc_call_cause_of(c) == VC_CAUSE_API_HANGUP);
  ops_log(ops, sizeof(ops));
  CHECK_STR(ops, "hold unhold transfer:+919812345678 hangup");
  timeline(&e, vc_call_id(c), line, sizeof(line));
  fprintf(stderr, "  timeline: %s\n", line);
  CHECK(count_of(line, " hold/") == 1);
  CHECK(count_of(line, "unhold/") == 1);
  CHECK(count_of(line, "transfer/") == 1);
  CHECK(count_of(line, "completed/0") == 1);
  vc_call_free(c);
  env_close(&e);
  /* The session was closed with the context. */
  CHECK(ctl_int(&ts_ctl.closed) == 1);
  CHECK(ctl_int(&ts_ctl.live_calls) == 0);
}

/* A busy customer, an agent who does not answer, a refused placement. */
static void test_session__busy_no_answer(void)
{
  env e;
  vc_call *busy, *noans, *refused;
  char ch[VC_ID_SIZE];

  env_open(&e);
  channel(&e, 1, 10, ch);
  CHECK_OK(vc_ctx_start(e.ctx, 2));
  start_call(&e, &busy, TS_BUSY, 0);
  start_call(&e, &noans, TS_NO_ANSWER, 0);
  start_call(&e, &refused, TS_REJECT, 0);
  CHECK(wait_state(busy, 0, 10000));
  CHECK(wait_state(noans, 0, 10000));
  CHECK(wait_state(refused, 0, 10000));
  CHECK(vc_call_state_of(busy) == VC_CALL_BUSY);
  CHECK(vc_call_cause_of(busy) == VC_CAUSE_BUSY);
  CHECK(vc_call_failed_leg(busy) == VC_LEG_CUSTOMER);
  CHECK(vc_call_state_of(noans) == VC_CALL_NO_ANSWER);
  CHECK(vc_call_failed_leg(noans) == VC_LEG_AGENT);
  /* place_call's error is a REJECTED answer: failed, not retried. */
  CHECK(vc_call_state_of(refused) == VC_CALL_FAILED);
  CHECK(vc_call_error(refused) == VC_EINVALID);
  CHECK_STR(vc_call_error_message(refused), "test: the number is refused");
  CHECK(vc_call_attempts(refused) == 1);
  vc_call_free(busy);
  vc_call_free(noans);
  vc_call_free(refused);
  env_close(&e);
}

/* A placement the session never answers is taken as RETRY after the
 * ring timeout plus 30 s (context clock); the next attempt goes through. */
static void test_session__placement_timeout(void)
{
  env e;
  vc_call *c;
  char ch[VC_ID_SIZE];
  int64_t deadline;

  env_open(&e);
  channel(&e, 1, 10, ch);
  ts_ctl_lock();
  ts_ctl.silent = 1;
  ts_ctl_unlock();
  CHECK_OK(vc_ctx_start(e.ctx, 1));
  start_call(&e, &c, CUSTOMER, 5);
  CHECK(wait_ctl(&ts_ctl.placed, 1, 5000));
  usleep(300000);
  CHECK_OK(vc_call_refresh(c));
  CHECK(vc_call_state_of(c) == VC_CALL_INITIATED); /* still waiting */
  CHECK(vc_call_provider_id(c)[0] == '\0');
  /* Past 5 + 30 s: the wait gives up; then past the retry's backoff. */
  clock_advance(36000);
  deadline = wall_ms() + 10000;
  while (ctl_int(&ts_ctl.placed) < 2 && wall_ms() < deadline) {
    usleep(50000);
    clock_advance(5000);
    vc_ctx_wakeup(e.ctx);
  }
  CHECK(ctl_int(&ts_ctl.placed) == 2);
  CHECK(wait_state(c, VC_CALL_BRIDGED, 10000));
  CHECK(vc_call_attempts(c) == 2);
  CHECK_STR(vc_call_provider_id(c), "ts-1-2");
  CHECK_OK(vc_call_hangup(c));
  CHECK(wait_state(c, 0, 10000));
  CHECK(vc_call_state_of(c) == VC_CALL_COMPLETED);
  vc_call_free(c);
  env_close(&e);
  CHECK(ctl_int(&ts_ctl.live_calls) == 0);
}

/* While a session's link is down its channel's calls fail over. */
static void test_session__failover_link_down(void)
{
  env e;
  vc_call *c;
  char a[VC_ID_SIZE], b[VC_ID_SIZE];

  env_open(&e);
  channel(&e, 1, 10, a);
  channel(&e, 2, 20, b);
  CHECK_OK(vc_ctx_start(e.ctx, 2));
  start_call(&e, &c, CUSTOMER, 0);
  CHECK(wait_state(c, VC_CALL_BRIDGED, 10000));
  CHECK_STR(vc_call_channel_id(c), a);
  CHECK_OK(vc_call_hangup(c));
  CHECK(wait_state(c, 0, 10000));
  vc_call_free(c);

  ts_ctl_lock();
  ts_ctl.down[1] = 1;
  ts_ctl_unlock();
  CHECK(wait_ctl(&ts_ctl.reported_down[1], 1, 5000));
  start_call(&e, &c, CUSTOMER, 0);
  CHECK(wait_state(c, VC_CALL_BRIDGED, 10000));
  CHECK_STR(vc_call_channel_id(c), b);
  CHECK_STR(vc_call_provider_id(c), "ts-2-2");
  CHECK(vc_call_attempts(c) == 2);
  CHECK(ctl_int(&ts_ctl.placed) == 2); /* nothing went to channel a */
  CHECK_OK(vc_call_hangup(c));
  CHECK(wait_state(c, 0, 10000));
  CHECK(vc_call_state_of(c) == VC_CALL_COMPLETED);
  vc_call_free(c);

  /* Back up: channel a takes calls again. */
  ts_ctl_lock();
  ts_ctl.down[1] = 0;
  ts_ctl_unlock();
  usleep(100000);
  start_call(&e, &c, CUSTOMER, 0);
  CHECK(wait_state(c, VC_CALL_BRIDGED, 10000));
  CHECK_STR(vc_call_channel_id(c), a);
  vc_call_free(c);
  env_close(&e);
}

/* A channel changed: its session is closed, the next call opens one with
 * the new settings. */
static void test_session__channel_change(void)
{
  env e;
  vc_call *c;
  vc_channel *chan;
  vc_channel_spec s = VC_CHANNEL_SPEC_INIT;
  char ch[VC_ID_SIZE];

  env_open(&e);
  channel(&e, 1, 10, ch);
  CHECK_OK(vc_ctx_start(e.ctx, 2));
  start_call(&e, &c, CUSTOMER, 0);
  CHECK(wait_state(c, VC_CALL_BRIDGED, 10000));
  CHECK_OK(vc_call_hangup(c));
  CHECK(wait_state(c, 0, 10000));
  vc_call_free(c);
  CHECK(ctl_int(&ts_ctl.opened) == 1);
  CHECK_OK(vc_channel_lookup(&chan, e.t, ch));
  s.config_json = "{\"name\":\"3\"}";
  CHECK_OK(vc_channel_update(chan, &s));
  vc_channel_free(chan);
  start_call(&e, &c, CUSTOMER, 0);
  CHECK(wait_state(c, VC_CALL_BRIDGED, 10000));
  CHECK_STR(vc_call_provider_id(c), "ts-3-2");
  CHECK(ctl_int(&ts_ctl.opened) == 2);
  CHECK(wait_ctl(&ts_ctl.closed, 1, 5000));
  CHECK_OK(vc_call_hangup(c));
  CHECK(wait_state(c, 0, 10000));
  CHECK(vc_call_state_of(c) == VC_CALL_COMPLETED);
  vc_call_free(c);
  env_close(&e);
  CHECK(ctl_int(&ts_ctl.closed) == 2);
}

/* vc_ctx_free with a bridged call, a placement waiting for its answer
 * and an operation in flight returns at once; ASan finds no leak. */
static void test_session__free_in_flight(void)
{
  env e;
  vc_call *bridged, *waiting;
  char ch[VC_ID_SIZE];
  int64_t t0;

  env_open(&e);
  channel(&e, 1, 10, ch);
  CHECK_OK(vc_ctx_start(e.ctx, 2));
  start_call(&e, &bridged, CUSTOMER, 0);
  CHECK(wait_state(bridged, VC_CALL_BRIDGED, 10000));
  ts_ctl_lock();
  ts_ctl.silent = 1;
  ts_ctl_unlock();
  start_call(&e, &waiting, CUSTOMER, 600);
  CHECK(wait_ctl(&ts_ctl.placed, 2, 5000));
  CHECK_OK(vc_call_hold(bridged, 1));
  vc_call_free(bridged);
  vc_call_free(waiting);
  vc_tenant_free(e.t);
  t0 = wall_ms();
  vc_ctx_free(e.ctx);
  CHECK(wall_ms() - t0 < 3000);
  CHECK(ctl_int(&ts_ctl.closed) == 1);
  CHECK(ctl_int(&ts_ctl.live_calls) == 0);
}

static int dummy_build(void *s, const vc_call_outbound *c, vc_http_out *r)
{
  (void)s; (void)c; (void)r;
  return 0;
}

/* A voice adapter has build_call and parse_call, or a session. */
static void test_session__adapter_validation(void)
{
  env e;
  vc_adapter a;
  vc_session_ops ops = ts_session_ops;

  env_open(&e);
  ts_adapter(&a);
  a.name = "ts-both";
  a.build_call = dummy_build;
  CHECK_RC(vc_adapter_register(e.ctx, &a), VC_EINVALID);
  ts_adapter(&a);
  a.name = "ts-none";
  a.session = NULL;
  CHECK_RC(vc_adapter_register(e.ctx, &a), VC_EINVALID);
  ops.version = 0;
  ts_adapter(&a);
  a.session = &ops;
  CHECK_RC(vc_adapter_register(e.ctx, &a), VC_EVERSION);
  ops.version = VC_SESSION_OPS_VERSION + 1;
  CHECK_RC(vc_adapter_register(e.ctx, &a), VC_EVERSION);
  ops = ts_session_ops;
  ops.place_call = NULL;
  CHECK_RC(vc_adapter_register(e.ctx, &a), VC_EINVALID);
  ops = ts_session_ops;
  ts_adapter(&a);
  a.kind = VC_CHANNEL_SMS;
  CHECK_RC(vc_adapter_register(e.ctx, &a), VC_EINVALID);
  env_close(&e);
}

VC_TESTS(
  VC_TEST(test_session__lifecycle),
  VC_TEST(test_session__many_at_once),
  VC_TEST(test_session__operations_at_once),
  VC_TEST(test_session__busy_no_answer),
  VC_TEST(test_session__placement_timeout),
  VC_TEST(test_session__failover_link_down),
  VC_TEST(test_session__channel_change),
  VC_TEST(test_session__free_in_flight),
  VC_TEST(test_session__adapter_validation),
)
