/*
 * The "sip" voice adapter end to end, through the public API, against
 * sipp (Debian sip-tester) as the real SIP peer: one sipp UAS plays the
 * agent's phone, another the customer's, each on a free loopback UDP
 * port with a scenario from tests/sip/ (README.md there). Each sipp runs
 * one call (-m 1) and exits 0 only when the call went exactly as its
 * scenario says; a message it did not expect fails the call, so "exit 0"
 * means "no unexpected message". SQLite on disk; the library's libre
 * loop runs on the context's network thread.
 *
 * Without /usr/bin/sipp every case passes with a note that it was not
 * run.
 */
#define _GNU_SOURCE
#include "vyomcomm.h"
#include "harness.h"
#include "net_util.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>

#define SIPP "/usr/bin/sipp"
#define VC_ARRAY_SIZE_(a) (sizeof(a) / sizeof((a)[0]))
#define AGENT "+919876543210"
#define CUSTOMER "+15550000001"

typedef struct sipp {
  pid_t pid;
  int port;
  char log[512];
} sipp;

/* Every sipp started, so that a case that failed half-way leaves none
 * running for the next. */
static pid_t started[64];
static size_t nstarted;

static void sipp_reap_all(void)
{
  for (size_t i = 0; i < nstarted; i++)
    if (started[i] > 0 && waitpid(started[i], NULL, WNOHANG) == 0) {
      kill(started[i], SIGKILL);
      waitpid(started[i], NULL, 0);
    }
  nstarted = 0;
}

static int have_sipp(void)
{
  sipp_reap_all();
  if (access(SIPP, X_OK) == 0)
    return 1;
  fprintf(stderr, "  SKIPPED: %s is not installed (Debian sip-tester); "
          "the SIP end-to-end cases did not run\n", SIPP);
  return 0;
}

/* Whether a UDP socket is bound to (or a TCP one listens on)
 * 127.0.0.1:port (/proc/net/udp, /proc/net/tcp). */
static int bound(int port, int tcp)
{
  char line[512], want[32];
  FILE *f = fopen(tcp ? "/proc/net/tcp" : "/proc/net/udp", "r");
  int found = 0;

  if (f == NULL)
    return 0;
  snprintf(want, sizeof(want), "0100007F:%04X ", port);
  while (!found && fgets(line, sizeof(line), f) != NULL)
    found = strstr(line, want) != NULL;
  fclose(f);
  return found;
}

static void sipp_start_m(sipp *p, const char *scenario, int tcp, int calls);

/* Start sipp as a UAS with tests/sip/<scenario> for one call, on UDP
 * or TCP. */
static void sipp_start_tp(sipp *p, const char *scenario, int tcp)
{
  sipp_start_m(p, scenario, tcp, 1);
}

/* The same for `calls` calls (each REGISTER, OPTIONS or INVITE dialog
 * is one). */
static void sipp_start_m(sipp *p, const char *scenario, int tcp, int calls)
{
  const char *root = getenv("VC_SOURCE_ROOT");
  char sf[1024], port[16], errf[512], m[16];
  int64_t deadline;

  CHECK(root != NULL);
  snprintf(sf, sizeof(sf), "%s/tests/sip/%s", root, scenario);
  p->port = free_port();
  snprintf(port, sizeof(port), "%d", p->port);
  snprintf(p->log, sizeof(p->log), "%s", vc_test_path(scenario));
  snprintf(errf, sizeof(errf), "%s.err", p->log);
  snprintf(m, sizeof(m), "%d", calls);
  p->pid = fork();
  CHECK(p->pid >= 0);
  if (p->pid > 0 && nstarted < VC_ARRAY_SIZE_(started))
    started[nstarted++] = p->pid;
  if (p->pid == 0) {
    FILE *out = freopen(p->log, "w", stdout);
    (void)out;
    dup2(fileno(stdout), 2);
    execl(SIPP, "sipp", "-sf", sf, "-i", "127.0.0.1", "-p", port,
          "-t", tcp ? "t1" : "u1", "-m", m, "-nostdin", "-timeout",
          "60s", "-trace_err", "-error_file", errf, (char *)NULL);
    _exit(127);
  }
  deadline = wall_ms() + 5000;
  while (!bound(p->port, tcp) && wall_ms() < deadline)
    usleep(10000);
  CHECK(bound(p->port, tcp));
}

static void sipp_start(sipp *p, const char *scenario)
{
  sipp_start_tp(p, scenario, 0);
}

/* Wait for sipp to end by itself; its exit status, or -1 if it had to
 * be stopped. */
static int sipp_wait(sipp *p, int ms)
{
  int64_t deadline = wall_ms() + ms;
  int status = 0;
  pid_t r;

  if (p->pid <= 0)
    return -1;
  while ((r = waitpid(p->pid, &status, WNOHANG)) == 0 &&
         wall_ms() < deadline)
    usleep(10000);
  if (r == 0) {
    kill(p->pid, SIGKILL);
    waitpid(p->pid, &status, 0);
    p->pid = 0;
    fprintf(stderr, "  sipp on port %d did not finish (log %s)\n", p->port,
            p->log);
    return -1;
  }
  p->pid = 0;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    fprintf(stderr, "  sipp on port %d exited %d (log %s)\n", p->port,
            WIFEXITED(status) ? WEXITSTATUS(status) : -1, p->log);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

typedef struct env {
  vc_ctx *ctx;
  vc_tenant *t;
} env;

/* What the sessions said of their link, from the context's log. */
static _Atomic int link_registered, link_refused, link_options;

static void on_log(int level, const char *message, void *payload)
{
  (void)payload;
  if (strstr(message, "link up: registered") != NULL)
    link_registered++;
  if (strstr(message, "link down: REGISTER refused") != NULL)
    link_refused++;
  if (strstr(message, "link up: OPTIONS answered") != NULL)
    link_options++;
  if (getenv("VC_TEST_LOG") != NULL)
    fprintf(stderr, "  log %d: %s\n", level, message);
}

/* The context's clock: real time, plus what a case adds to skip ahead. */
static _Atomic int64_t clock_skew;

static int64_t skewed_clock(void *payload)
{
  (void)payload;
  return wall_ms() + clock_skew;
}

static void env_open_clock(env *e, int skewed);

static void env_open(env *e)
{
  env_open_clock(e, 0);
}

static void env_open_clock(env *e, int skewed)
{
  static const uint8_t key[32] = { 7, 7, 7 };
  vc_master_key mk = VC_MASTER_KEY_INIT;
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;
  vc_tenant_spec ts = VC_TENANT_SPEC_INIT;
  vc_store *store;

  memset(e, 0, sizeof(*e));
  CHECK_OK(vc_store_open_sqlite(&store, vc_test_path("x.db"), NULL));
  o.store = store;
  mk.key = key;
  mk.key_len = sizeof(key);
  o.master_key = &mk;
  o.public_base_url = "http://127.0.0.1:9";
  o.log_cb = on_log;
  o.log_level = VC_LOG_DEBUG;
  link_registered = link_refused = link_options = 0;
  if (skewed) {
    clock_skew = 0;
    o.clock_cb = skewed_clock;
  }
  CHECK_OK(vc_ctx_new(&e->ctx, &o));
  ts.slug = "acme";
  CHECK_OK(vc_tenant_new(&e->t, e->ctx, &ts));
}

static void env_close(env *e)
{
  vc_tenant_free(e->t);
  vc_ctx_free(e->ctx);
}

/* A sip channel whose agents are at agent_port and customers at
 * customer_port on loopback. */
static void channel_tp(env *e, const char *name, int priority,
                       int agent_port, int customer_port, const char *creds,
                       int tcp, char id[VC_ID_SIZE])
{
  vc_channel_spec s = VC_CHANNEL_SPEC_INIT;
  char config[512];
  vc_channel *ch;

  snprintf(config, sizeof(config),
           "{\"transport\": \"%s\", \"local_address\": \"127.0.0.1\", "
           "\"from\": \"sip:{number}@127.0.0.1\", "
           "\"agent_uri\": \"sip:{number}@127.0.0.1:%d\", "
           "\"customer_uri\": \"sip:{number}@127.0.0.1:%d\"}",
           tcp ? "tcp" : "udp", agent_port, customer_port);
  s.name = name;
  s.provider = "sip";
  s.config_json = config;
  s.credentials_json = creds;
  s.sender = "+15550009999";
  s.priority = priority;
  CHECK_OK(vc_channel_new(&ch, e->t, &s));
  snprintf(id, VC_ID_SIZE, "%s", vc_channel_id(ch));
  vc_channel_free(ch);
}

static void channel(env *e, const char *name, int priority, int agent_port,
                    int customer_port, const char *creds,
                    char id[VC_ID_SIZE])
{
  channel_tp(e, name, priority, agent_port, customer_port, creds, 0, id);
}

static void start_call(env *e, vc_call **c, int ring_timeout_s)
{
  vc_call_spec s = VC_CALL_SPEC_INIT;

  s.agent_number = AGENT;
  s.customer_number = CUSTOMER;
  s.ring_timeout_s = ring_timeout_s;
  s.time_limit_s = 600;
  CHECK_OK(vc_call_start(c, e->t, &s));
}

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
  fprintf(stderr, "  state is %s\n", vc_call_state_name(
          vc_call_state_of(c)));
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

/* The timeline as "type/leg" words (states by name), with DTMF digits
 * as "dtmf:<detail>". */
static void timeline(env *e, const char *id, char *out, size_t size)
{
  vc_iter *it;
  vc_call_entry *en;
  size_t len = 0;

  out[0] = '\0';
  CHECK_OK(vc_call_timeline(&it, e->t, id));
  while (vc_call_entry_next(&en, it) == 0) {
    const char *type = vc_call_entry_type(en);
    if (strcmp(type, "state") == 0)
      len += (size_t)snprintf(out + len, size - len, "%s%s/%d",
                              len ? " " : "",
                              vc_call_state_name(vc_call_entry_state(en)),
                              vc_call_entry_leg(en));
    else if (strcmp(type, "dtmf") == 0)
      len += (size_t)snprintf(out + len, size - len, "%sdtmf:%s",
                              len ? " " : "", vc_call_entry_detail_json(en));
    else
      len += (size_t)snprintf(out + len, size - len, "%s%s/%d",
                              len ? " " : "", type, vc_call_entry_leg(en));
    CHECK(len < size);
    vc_call_entry_free(en);
  }
  vc_iter_free(it);
}

/* Both phones answer; the call is bridged; vc_call_hangup() BYEs both. */
static void test_sip__lifecycle(void)
{
  env e;
  sipp a, b;
  vc_call *c;
  char ch[VC_ID_SIZE], line[2048];

  if (!have_sipp())
    return;
  sipp_start(&a, "uas_answer.xml");
  sipp_start(&b, "uas_answer.xml");
  env_open(&e);
  channel(&e, "pbx", 10, a.port, b.port, NULL, ch);
  CHECK_OK(vc_ctx_start(e.ctx, 2));
  start_call(&e, &c, 10);
  CHECK(wait_state(c, VC_CALL_BRIDGED, 10000));
  CHECK_STR(vc_call_channel_id(c), ch);
  CHECK(vc_call_provider_id(c)[0] != '\0');   /* the agent's Call-ID */
  CHECK(vc_call_attempts(c) == 1);
  usleep(300000);      /* the bridge's re-INVITE reaches the agent */
  CHECK_OK(vc_call_hangup(c));
  CHECK(wait_state(c, 0, 10000));
  CHECK(vc_call_state_of(c) == VC_CALL_COMPLETED);
  CHECK(vc_call_cause_of(c) == VC_CAUSE_API_HANGUP);
  timeline(&e, vc_call_id(c), line, sizeof(line));
  fprintf(stderr, "  timeline: %s\n", line);
  CHECK(strstr(line, "ringing/1 agent_ringing/0 answered/1 agent_answered/0 "
                     "ringing/2 customer_ringing/0 answered/2 bridged/0")
        != NULL);
  CHECK(sipp_wait(&a, 10000) == 0);
  CHECK(sipp_wait(&b, 10000) == 0);
  vc_call_free(c);
  env_close(&e);
}

/* The same over TCP: both phones on sipp's TCP transport. */
static void test_sip__tcp(void)
{
  env e;
  sipp a, b;
  vc_call *c;
  char ch[VC_ID_SIZE];

  if (!have_sipp())
    return;
  sipp_start_tp(&a, "uas_answer.xml", 1);
  sipp_start_tp(&b, "uas_answer.xml", 1);
  env_open(&e);
  channel_tp(&e, "pbx", 10, a.port, b.port, NULL, 1, ch);
  CHECK_OK(vc_ctx_start(e.ctx, 2));
  start_call(&e, &c, 10);
  CHECK(wait_state(c, VC_CALL_BRIDGED, 10000));
  usleep(300000);
  CHECK_OK(vc_call_hangup(c));
  CHECK(wait_state(c, 0, 10000));
  CHECK(vc_call_state_of(c) == VC_CALL_COMPLETED);
  CHECK(sipp_wait(&a, 10000) == 0);
  CHECK(sipp_wait(&b, 10000) == 0);
  vc_call_free(c);
  env_close(&e);
}

/* The agent answers, the customer is busy (486): the call ends busy,
 * the customer's leg failed, the agent gets BYE. */
static void test_sip__busy(void)
{
  env e;
  sipp a, b;
  vc_call *c;
  char ch[VC_ID_SIZE];

  if (!have_sipp())
    return;
  sipp_start(&a, "uas_answer.xml");
  sipp_start(&b, "uas_busy.xml");
  env_open(&e);
  channel(&e, "pbx", 10, a.port, b.port, NULL, ch);
  CHECK_OK(vc_ctx_start(e.ctx, 2));
  start_call(&e, &c, 10);
  CHECK(wait_state(c, 0, 10000));
  CHECK(vc_call_state_of(c) == VC_CALL_BUSY);
  CHECK(vc_call_cause_of(c) == VC_CAUSE_BUSY);
  CHECK(vc_call_failed_leg(c) == VC_LEG_CUSTOMER);
  CHECK(sipp_wait(&a, 10000) == 0);
  CHECK(sipp_wait(&b, 10000) == 0);
  vc_call_free(c);
  env_close(&e);
}

/* The agent's phone rings and nobody answers: CANCEL at the ring
 * timeout, the call ends no_answer on the agent's leg. */
static void test_sip__no_answer_cancel(void)
{
  env e;
  sipp a;
  vc_call *c;
  char ch[VC_ID_SIZE];

  if (!have_sipp())
    return;
  sipp_start(&a, "uas_noanswer.xml");
  env_open(&e);
  channel(&e, "pbx", 10, a.port, free_port(), NULL, ch);
  CHECK_OK(vc_ctx_start(e.ctx, 2));
  start_call(&e, &c, 2);
  CHECK(wait_state(c, 0, 10000));
  CHECK(vc_call_state_of(c) == VC_CALL_NO_ANSWER);
  CHECK(vc_call_cause_of(c) == VC_CAUSE_NO_ANSWER);
  CHECK(vc_call_failed_leg(c) == VC_LEG_AGENT);
  CHECK(sipp_wait(&a, 10000) == 0);
  vc_call_free(c);
  env_close(&e);
}

/* The customer's phone rings, then answers 480: no_answer on the
 * customer's leg. */
static void test_sip__no_answer_480(void)
{
  env e;
  sipp a, b;
  vc_call *c;
  char ch[VC_ID_SIZE];

  if (!have_sipp())
    return;
  sipp_start(&a, "uas_answer.xml");
  sipp_start(&b, "uas_480.xml");
  env_open(&e);
  channel(&e, "pbx", 10, a.port, b.port, NULL, ch);
  CHECK_OK(vc_ctx_start(e.ctx, 2));
  start_call(&e, &c, 10);
  CHECK(wait_state(c, 0, 10000));
  CHECK(vc_call_state_of(c) == VC_CALL_NO_ANSWER);
  CHECK(vc_call_failed_leg(c) == VC_LEG_CUSTOMER);
  CHECK(sipp_wait(&a, 10000) == 0);
  CHECK(sipp_wait(&b, 10000) == 0);
  vc_call_free(c);
  env_close(&e);
}

/* The agent's side challenges the INVITE (401 digest): the library
 * answers with the channel's credentials (sipp checks them) and the call
 * goes on. */
static void test_sip__digest_auth(void)
{
  env e;
  sipp a, b;
  vc_call *c;
  char ch[VC_ID_SIZE];

  if (!have_sipp())
    return;
  sipp_start(&a, "uas_auth.xml");
  sipp_start(&b, "uas_answer.xml");
  env_open(&e);
  channel(&e, "trunk", 10, a.port, b.port,
          "{\"username\": \"trunkuser\", \"password\": \"trunkpass\"}", ch);
  CHECK_OK(vc_ctx_start(e.ctx, 2));
  start_call(&e, &c, 10);
  CHECK(wait_state(c, VC_CALL_BRIDGED, 10000));
  usleep(300000);
  CHECK_OK(vc_call_hangup(c));
  CHECK(wait_state(c, 0, 10000));
  CHECK(vc_call_state_of(c) == VC_CALL_COMPLETED);
  CHECK(sipp_wait(&a, 10000) == 0);
  CHECK(sipp_wait(&b, 10000) == 0);
  vc_call_free(c);
  env_close(&e);
}

/* A wrong password: sipp refuses the second INVITE (403), the library
 * gives up on this channel and, with no other, the call fails. */
static void test_sip__digest_refused(void)
{
  env e;
  sipp a;
  vc_call *c;
  char ch[VC_ID_SIZE];

  if (!have_sipp())
    return;
  sipp_start(&a, "uas_auth.xml");
  env_open(&e);
  channel(&e, "trunk", 10, a.port, free_port(),
          "{\"username\": \"trunkuser\", \"password\": \"wrong\"}", ch);
  CHECK_OK(vc_ctx_start(e.ctx, 2));
  start_call(&e, &c, 10);
  CHECK(wait_state(c, 0, 10000));
  fprintf(stderr, "  state %s, error %d: %s\n",
          vc_call_state_name(vc_call_state_of(c)), vc_call_error(c),
          vc_call_error_message(c));
  CHECK(vc_call_state_of(c) == VC_CALL_FAILED);
  CHECK(vc_call_error(c) == VC_EAUTH);
  CHECK(sipp_wait(&a, 10000) == 0);
  vc_call_free(c);
  env_close(&e);
}

/* Hold and resume: re-INVITEs with a=sendonly then a=sendrecv (the
 * customer's sipp checks them), the timeline records both. */
static void test_sip__hold(void)
{
  env e;
  sipp a, b;
  vc_call *c;
  char ch[VC_ID_SIZE], line[2048];

  if (!have_sipp())
    return;
  sipp_start(&a, "uas_answer.xml");
  sipp_start(&b, "uas_hold.xml");
  env_open(&e);
  channel(&e, "pbx", 10, a.port, b.port, NULL, ch);
  CHECK_OK(vc_ctx_start(e.ctx, 2));
  start_call(&e, &c, 10);
  CHECK(wait_state(c, VC_CALL_BRIDGED, 10000));
  usleep(300000);
  CHECK_OK(vc_call_hold(c, 1));
  CHECK(wait_hold(c, 1, 10000));
  CHECK_OK(vc_call_hold(c, 0));
  CHECK(wait_hold(c, 0, 10000));
  CHECK_OK(vc_call_hangup(c));
  CHECK(wait_state(c, 0, 10000));
  CHECK(vc_call_state_of(c) == VC_CALL_COMPLETED);
  timeline(&e, vc_call_id(c), line, sizeof(line));
  fprintf(stderr, "  timeline: %s\n", line);
  CHECK(strstr(line, " hold/2") != NULL);
  CHECK(strstr(line, "unhold/2") != NULL);
  CHECK(sipp_wait(&a, 10000) == 0);
  CHECK(sipp_wait(&b, 10000) == 0);
  vc_call_free(c);
  env_close(&e);
}

/* Blind transfer: REFER to the target (sipp checks Refer-To), 202, the
 * NOTIFYs' sipfrag; on 200 the library's dialogs end. */
static void test_sip__transfer(void)
{
  env e;
  sipp a, b;
  vc_call *c;
  char ch[VC_ID_SIZE], line[2048];

  if (!have_sipp())
    return;
  sipp_start(&a, "uas_answer.xml");
  sipp_start(&b, "uas_refer.xml");
  env_open(&e);
  channel(&e, "pbx", 10, a.port, b.port, NULL, ch);
  CHECK_OK(vc_ctx_start(e.ctx, 2));
  start_call(&e, &c, 10);
  CHECK(wait_state(c, VC_CALL_BRIDGED, 10000));
  usleep(300000);
  CHECK_OK(vc_call_transfer(c, "+919812345678"));
  CHECK(wait_state(c, 0, 10000));
  CHECK(vc_call_state_of(c) == VC_CALL_COMPLETED);
  timeline(&e, vc_call_id(c), line, sizeof(line));
  fprintf(stderr, "  timeline: %s\n", line);
  CHECK(strstr(line, "transfer/2") != NULL);
  CHECK(sipp_wait(&a, 10000) == 0);
  CHECK(sipp_wait(&b, 10000) == 0);
  vc_call_free(c);
  env_close(&e);
}

/* Keys pressed on the customer's phone (INFO dtmf-relay) are DTMF
 * entries of the call. */
static void test_sip__dtmf(void)
{
  env e;
  sipp a, b;
  vc_call *c;
  char ch[VC_ID_SIZE], line[2048];
  int64_t deadline;

  if (!have_sipp())
    return;
  sipp_start(&a, "uas_answer.xml");
  sipp_start(&b, "uas_dtmf.xml");
  env_open(&e);
  channel(&e, "pbx", 10, a.port, b.port, NULL, ch);
  CHECK_OK(vc_ctx_start(e.ctx, 2));
  start_call(&e, &c, 10);
  CHECK(wait_state(c, VC_CALL_BRIDGED, 10000));
  deadline = wall_ms() + 10000;
  do {
    usleep(20000);
    timeline(&e, vc_call_id(c), line, sizeof(line));
  } while (strstr(line, "#") == NULL && wall_ms() < deadline);
  fprintf(stderr, "  timeline: %s\n", line);
  CHECK(strstr(line, "dtmf:{\"digits\":\"4\"}") != NULL);
  CHECK(strstr(line, "dtmf:{\"digits\":\"#\"}") != NULL);
  CHECK_OK(vc_call_hangup(c));
  CHECK(wait_state(c, 0, 10000));
  CHECK(sipp_wait(&a, 10000) == 0);
  CHECK(sipp_wait(&b, 10000) == 0);
  vc_call_free(c);
  env_close(&e);
}

/* A trunk that never answers (nothing listens): the placement fails over
 * at the ring timeout to the next channel, where the call goes through. */
static void test_sip__failover(void)
{
  env e;
  sipp a, b;
  vc_call *c;
  char dead[VC_ID_SIZE], live[VC_ID_SIZE];

  if (!have_sipp())
    return;
  sipp_start(&a, "uas_answer.xml");
  sipp_start(&b, "uas_answer.xml");
  env_open(&e);
  channel(&e, "dead", 10, free_port(), free_port(), NULL, dead);
  channel(&e, "live", 20, a.port, b.port, NULL, live);
  CHECK_OK(vc_ctx_start(e.ctx, 2));
  start_call(&e, &c, 2);
  CHECK(wait_state(c, VC_CALL_BRIDGED, 15000));
  CHECK_STR(vc_call_channel_id(c), live);
  CHECK(vc_call_attempts(c) == 2);
  usleep(300000);
  CHECK_OK(vc_call_hangup(c));
  CHECK(wait_state(c, 0, 10000));
  CHECK(vc_call_state_of(c) == VC_CALL_COMPLETED);
  CHECK(sipp_wait(&a, 10000) == 0);
  CHECK(sipp_wait(&b, 10000) == 0);
  vc_call_free(c);
  env_close(&e);
}

/* The agent's phone says nothing for 2.5 s; meanwhile the core's wait
 * for the placement runs out (its clock jumps past the ring timeout and
 * the 30 s margin) and the retry places the call again on the same
 * channel. The session knows the call: the new placement adopts the
 * INVITE in flight instead of sending a second one (sipp on TCP fails
 * on a second INVITE), its answer goes to the retry, and the call goes
 * on to completion. */
static void test_sip__place_again(void)
{
  env e;
  sipp a, b;
  vc_call *c;
  char ch[VC_ID_SIZE], line[2048];

  if (!have_sipp())
    return;
  sipp_start_tp(&a, "uas_slow.xml", 1);
  sipp_start_tp(&b, "uas_answer.xml", 1);
  env_open_clock(&e, 1);
  channel_tp(&e, "pbx", 10, a.port, b.port, NULL, 1, ch);
  CHECK_OK(vc_ctx_start(e.ctx, 1));
  start_call(&e, &c, 5);
  usleep(500000);               /* the INVITE is out, unanswered */
  clock_skew += 40000;          /* past 5 s + 30 s: the wait gives up */
  usleep(400000);
  clock_skew += 5000;           /* the retry (after up to 1 s) is due */
  CHECK_OK(vc_ctx_wakeup(e.ctx));
  CHECK(wait_state(c, VC_CALL_BRIDGED, 15000));
  CHECK_STR(vc_call_channel_id(c), ch);
  CHECK(vc_call_attempts(c) == 2);
  usleep(300000);
  CHECK_OK(vc_call_hangup(c));
  CHECK(wait_state(c, 0, 10000));
  CHECK(vc_call_state_of(c) == VC_CALL_COMPLETED);
  timeline(&e, vc_call_id(c), line, sizeof(line));
  CHECK(strstr(line, "agent_ringing/0 answered/1 agent_answered/0") != NULL);
  CHECK(sipp_wait(&a, 10000) == 0);   /* one INVITE, as written */
  CHECK(sipp_wait(&b, 10000) == 0);
  vc_call_free(c);
  env_close(&e);
}

/* A channel through `proxy_port` (a registrar and trunk), registering
 * or not, OPTIONS every `keepalive_s` (0: only at open). */
static void proxy_channel(env *e, int proxy_port, int reg, int keepalive_s,
                          const char *password, char id[VC_ID_SIZE])
{
  vc_channel_spec s = VC_CHANNEL_SPEC_INIT;
  char config[640], creds[128];
  vc_channel *ch;

  snprintf(config, sizeof(config),
           "{\"transport\": \"udp\", \"local_address\": \"127.0.0.1\", "
           "\"proxy\": \"sip:127.0.0.1:%d\", \"register\": %s, "
           "\"aor\": \"sip:vyomcomm@127.0.0.1\", \"keepalive_s\": %d, "
           "\"from\": \"sip:{number}@127.0.0.1\", "
           "\"agent_uri\": \"sip:{number}@127.0.0.1\", "
           "\"customer_uri\": \"sip:{number}@127.0.0.1\"}",
           proxy_port, reg ? "true" : "false", keepalive_s);
  snprintf(creds, sizeof(creds),
           "{\"username\": \"trunkuser\", \"password\": \"%s\"}",
           password);
  s.name = "trunk";
  s.provider = "sip";
  s.config_json = config;
  s.credentials_json = creds;
  s.sender = "+15550009999";
  CHECK_OK(vc_channel_new(&ch, e->t, &s));
  snprintf(id, VC_ID_SIZE, "%s", vc_channel_id(ch));
  vc_channel_free(ch);
}

static int wait_flag(_Atomic int *flag, int ms)
{
  int64_t deadline = wall_ms() + ms;

  while (*flag == 0 && wall_ms() < deadline)
    usleep(10000);
  return *flag != 0;
}

/* The session registers with the trunk (config.register): its first
 * REGISTER is challenged (401 digest), the second carries the right
 * answer and is bound (sipp checks it, and 403s a wrong one); the link
 * is reported up "registered". The call goes through the same proxy
 * (loose routing), which answers it 486: the call ends busy. Then the
 * same with a wrong password: the registrar's 403 takes the link down. */
static void test_sip__register(void)
{
  env e;
  sipp r;
  vc_call *c;
  char ch[VC_ID_SIZE];

  if (!have_sipp())
    return;
  sipp_start_m(&r, "uas_registrar.xml", 0, 2); /* REGISTER, INVITE */
  env_open(&e);
  proxy_channel(&e, r.port, 1, 0, "trunkpass", ch);
  CHECK_OK(vc_ctx_start(e.ctx, 1));
  start_call(&e, &c, 5);
  CHECK(wait_state(c, 0, 10000));
  CHECK(vc_call_state_of(c) == VC_CALL_BUSY);
  CHECK(wait_flag(&link_registered, 5000));
  CHECK(link_refused == 0);
  CHECK(sipp_wait(&r, 10000) == 0);   /* challenged, then authorized */
  vc_call_free(c);
  env_close(&e);
  /* A store of its own for the second context. */
  unlink(vc_test_path("x.db"));
  unlink(vc_test_path("x.db-wal"));
  unlink(vc_test_path("x.db-shm"));

  sipp_start_m(&r, "uas_registrar.xml", 0, 1); /* REGISTER only */
  env_open(&e);
  proxy_channel(&e, r.port, 1, 0, "wrong", ch);
  CHECK_OK(vc_ctx_start(e.ctx, 1));
  start_call(&e, &c, 5);
  CHECK(wait_flag(&link_refused, 5000));
  CHECK(link_registered == 0);
  CHECK(sipp_wait(&r, 10000) == 0);   /* the 403 path, as written */
  CHECK(wait_state(c, 0, 15000));     /* whatever came of it, it ended */
  vc_call_free(c);
  env_close(&e);
}

/* Without REGISTER, a session with a proxy pings it with OPTIONS when it
 * opens and every keepalive_s: the answer brings the link up ("OPTIONS
 * answered"), and sipp sees the second OPTIONS a second later. */
static void test_sip__options_keepalive(void)
{
  env e;
  sipp r;
  vc_call *c;
  char ch[VC_ID_SIZE];

  if (!have_sipp())
    return;
  sipp_start_m(&r, "uas_registrar.xml", 0, 3); /* 2 OPTIONS, INVITE */
  env_open(&e);
  proxy_channel(&e, r.port, 0, 1, "trunkpass", ch);
  CHECK_OK(vc_ctx_start(e.ctx, 1));
  start_call(&e, &c, 5);
  CHECK(wait_state(c, 0, 10000));
  CHECK(vc_call_state_of(c) == VC_CALL_BUSY);
  CHECK(wait_flag(&link_options, 5000));
  CHECK(sipp_wait(&r, 10000) == 0);
  vc_call_free(c);
  env_close(&e);
}

/* Last: no sipp is left behind. */
static void test_sip__cleanup(void)
{
  sipp_reap_all();
}

VC_TESTS(
  VC_TEST(test_sip__lifecycle),
  VC_TEST(test_sip__tcp),
  VC_TEST(test_sip__busy),
  VC_TEST(test_sip__no_answer_cancel),
  VC_TEST(test_sip__no_answer_480),
  VC_TEST(test_sip__digest_auth),
  VC_TEST(test_sip__digest_refused),
  VC_TEST(test_sip__hold),
  VC_TEST(test_sip__transfer),
  VC_TEST(test_sip__dtmf),
  VC_TEST(test_sip__failover),
  VC_TEST(test_sip__place_again),
  VC_TEST(test_sip__register),
  VC_TEST(test_sip__options_keepalive),
  VC_TEST(test_sip__cleanup),
)
