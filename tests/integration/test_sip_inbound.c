/*
 * Calls the "sip" voice adapter takes (issue 8), end to end through the
 * public API: a sipp UAC (tests/sip/uac_*.xml) calls one of the
 * tenant's numbers on the library's SIP port, the core's scripts run on
 * its dialog (IVR keys as SIP INFO, a queue, an agent rung by DIAL),
 * and sipp UAS scenarios play the agents' phones. Each sipp runs one
 * call and exits 0 only when the call went exactly as its scenario
 * says. Malformed INVITEs are sent as raw UDP datagrams, so that the
 * test controls every byte and reads the status line back.
 *
 * Without /usr/bin/sipp the sipp cases pass with a note that they did
 * not run.
 */
#define _GNU_SOURCE
#include "vyomcomm.h"
#include "harness.h"
#include "net_util.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>

#define SIPP "/usr/bin/sipp"
#define NUMBER "+914412345678"      /* the tenant's number */
#define CALLER "+15550000001"       /* uac_inbound.xml's From */

typedef struct sipp {
  pid_t pid;
  int port;
  char log[512];
} sipp;

static pid_t started[32];
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
          "the SIP inbound cases did not run\n", SIPP);
  return 0;
}

static int bound_udp(int port)
{
  char line[512], want[32];
  FILE *f = fopen("/proc/net/udp", "r");
  int found = 0;

  if (f == NULL)
    return 0;
  snprintf(want, sizeof(want), "0100007F:%04X ", port);
  while (!found && fgets(line, sizeof(line), f) != NULL)
    found = strstr(line, want) != NULL;
  fclose(f);
  return found;
}

/* Start sipp with tests/sip/<scenario> for one call: a UAS when
 * `lib_port` is 0, else a UAC calling `number` at 127.0.0.1:lib_port. */
static void sipp_start(sipp *p, const char *scenario, int lib_port,
                       const char *number)
{
  const char *root = getenv("VC_SOURCE_ROOT");
  char sf[1024], port[16], errf[512], remote[64], name[128];
  static int seq;

  CHECK(root != NULL);
  snprintf(sf, sizeof(sf), "%s/tests/sip/%s", root, scenario);
  p->port = free_port();
  snprintf(port, sizeof(port), "%d", p->port);
  snprintf(name, sizeof(name), "%s.%d", scenario, ++seq);
  snprintf(p->log, sizeof(p->log), "%s", vc_test_path(name));
  snprintf(errf, sizeof(errf), "%s.err", p->log);
  snprintf(remote, sizeof(remote), "127.0.0.1:%d", lib_port);
  p->pid = fork();
  CHECK(p->pid >= 0);
  if (p->pid > 0 && nstarted < sizeof(started) / sizeof(started[0]))
    started[nstarted++] = p->pid;
  if (p->pid == 0) {
    FILE *out = freopen(p->log, "w", stdout);
    (void)out;
    dup2(fileno(stdout), 2);
    if (lib_port == 0)
      execl(SIPP, "sipp", "-sf", sf, "-i", "127.0.0.1", "-p", port, "-t",
            "u1", "-m", "1", "-nostdin", "-timeout", "60s", "-trace_err",
            "-error_file", errf, (char *)NULL);
    else
      execl(SIPP, "sipp", "-sf", sf, "-s", number, "-i", "127.0.0.1", "-p",
            port, "-t", "u1", "-m", "1", "-nostdin", "-timeout", "60s",
            "-trace_err", "-error_file", errf, remote, (char *)NULL);
    _exit(127);
  }
  if (lib_port == 0) {
    int64_t deadline = wall_ms() + 5000;
    while (!bound_udp(p->port) && wall_ms() < deadline)
      usleep(10000);
    CHECK(bound_udp(p->port));
  }
}

/* Wait for sipp to end by itself: its exit status, or -1. */
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

/* ---- the library --------------------------------------------------------- */

typedef struct env {
  vc_ctx *ctx;
  vc_tenant *t;
  int sip_port;              /* the channel's local_port */
  char channel_id[VC_ID_SIZE];
} env;

static _Atomic int refused_logged;

static void on_log(int level, const char *message, void *payload)
{
  (void)payload;
  if (strstr(message, "an INVITE refused") != NULL)
    refused_logged++;
  if (getenv("VC_TEST_LOG") != NULL)
    fprintf(stderr, "  log %d: %s\n", level, message);
}

static void env_open(env *e)
{
  static const uint8_t key[32] = { 9, 9, 9 };
  vc_master_key mk = VC_MASTER_KEY_INIT;
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;
  vc_tenant_spec ts = VC_TENANT_SPEC_INIT;
  vc_store *store;

  memset(e, 0, sizeof(*e));
  CHECK_OK(vc_store_open_sqlite(&store, vc_test_path("in.db"), NULL));
  o.store = store;
  mk.key = key;
  mk.key_len = sizeof(key);
  o.master_key = &mk;
  o.public_base_url = "http://127.0.0.1:9";
  o.log_cb = on_log;
  o.log_level = VC_LOG_DEBUG;
  refused_logged = 0;
  CHECK_OK(vc_ctx_new(&e->ctx, &o));
  ts.slug = "acme";
  CHECK_OK(vc_tenant_new(&e->t, e->ctx, &ts));
}

static void env_close(env *e)
{
  vc_tenant_free(e->t);
  vc_ctx_free(e->ctx);
}

/*
 * A sip channel that takes calls on a fixed loopback port, from
 * `peers` (a JSON list); agents are sip: URIs of their own (each sipp
 * UAS on its port), and `customer_port` is where placed calls go.
 */
static void channel(env *e, const char *peers, int customer_port)
{
  vc_channel_spec s = VC_CHANNEL_SPEC_INIT;
  char config[768];
  vc_channel *ch;

  e->sip_port = free_port();
  snprintf(config, sizeof(config),
           "{\"transport\": \"udp\", \"local_address\": \"127.0.0.1\", "
           "\"local_port\": %d, \"from\": \"sip:{number}@127.0.0.1\", "
           "\"customer_uri\": \"sip:{number}@127.0.0.1:%d\", "
           "\"inbound\": true, \"inbound_peers\": %s}",
           e->sip_port, customer_port, peers);
  s.name = "trunk";
  s.provider = "sip";
  s.config_json = config;
  s.credentials_json = "{}";
  s.sender = "+15550009999";
  s.priority = 10;
  CHECK_OK(vc_channel_new(&ch, e->t, &s));
  snprintf(e->channel_id, sizeof(e->channel_id), "%s", vc_channel_id(ch));
  vc_channel_free(ch);
}

/* Wait until the channel's session listens: it opens at vc_ctx_start()
 * (or when a number is stored) for a channel with inbound numbers. */
static void wait_listening(env *e)
{
  int64_t deadline = wall_ms() + 10000;

  while (!bound_udp(e->sip_port) && wall_ms() < deadline)
    usleep(10000);
  CHECK(bound_udp(e->sip_port));
}

/* ---- the tenant's inbound setup ------------------------------------------ */

static pthread_mutex_t pop_mu = PTHREAD_MUTEX_INITIALIZER;
static int screen_pops;
static char pop_payload[4096];

static int on_event(const vc_event *ev, void *payload)
{
  (void)payload;
  if (strcmp(ev->type, "call.screen_pop") == 0) {
    pthread_mutex_lock(&pop_mu);
    if (screen_pops++ == 0)
      snprintf(pop_payload, sizeof(pop_payload), "%s", ev->payload_json);
    pthread_mutex_unlock(&pop_mu);
  }
  return 0;
}

/*
 * Agents `names` (their phones: sipp UAS on `ports`, as sip: URIs; 0:
 * a port nobody listens on), available in that order unless
 * `available` is 0; the queue "support" with them; the menu "main"
 * whose key 1 leads to the queue; NUMBER to the menu; the caller a
 * contact ("Ravi Kumar"); a rate card for the channel.
 */
static int next_overflow;     /* the queue's overflow_kind (0: hang up) */

static void setup_inbound(env *e, const char *const *names,
                          const int *ports, size_t n, int available)
{
  vc_queue_spec qs = VC_QUEUE_SPEC_INIT;
  vc_ivr_menu_spec ms = VC_IVR_MENU_SPEC_INIT;
  vc_number_spec ns = VC_NUMBER_SPEC_INIT;
  vc_contact_spec cs = VC_CONTACT_SPEC_INIT;
  vc_ratecard_spec rs = VC_RATECARD_SPEC_INIT;
  vc_ratecard_entry re = VC_RATECARD_ENTRY_INIT;
  char id[VC_ID_SIZE];
  vc_queue *q;
  vc_ivr_menu *m;
  vc_number *num;

  qs.name = "support";
  qs.max_wait_s = 60;
  qs.overflow_kind = next_overflow;
  next_overflow = 0;
  CHECK_OK(vc_queue_new(&q, e->t, &qs));
  for (size_t i = 0; i < n; i++) {
    vc_agent_spec as = VC_AGENT_SPEC_INIT;
    vc_agent *a;
    char uri[64];
    snprintf(uri, sizeof(uri), "sip:%s@127.0.0.1:%d", names[i],
             ports[i] ? ports[i] : free_port());
    as.name = names[i];
    as.number = uri;
    as.wrap_up_s = 0;
    CHECK_OK(vc_agent_new(&a, e->t, &as));
    if (available) {
      CHECK_OK(vc_agent_set_state(a, VC_AGENT_AVAILABLE, NULL));
      usleep(20000); /* the first stays the longest idle */
    }
    CHECK_OK(vc_queue_member_add(q, names[i], NULL));
    vc_agent_free(a);
  }
  vc_queue_free(q);
  ms.name = "main";
  ms.definition_json =
    "{\"version\": 1, \"entry\": \"main\", \"nodes\": {\"main\": {"
    "\"prompt\": {\"say\": \"For support press 1.\"}, \"timeout\": 8,"
    " \"options\": {\"1\": {\"action\": \"queue\", \"queue\": \"support\"}}"
    "}}}";
  CHECK_OK(vc_ivr_menu_new(&m, e->t, &ms));
  vc_ivr_menu_free(m);
  ns.number = NUMBER;
  ns.channel = "trunk";
  ns.entry_kind = VC_NUMBER_ENTRY_IVR;
  ns.entry = "main";
  ns.label = "Support line";
  CHECK_OK(vc_number_new(&num, e->t, &ns));
  vc_number_free(num);
  cs.name = "Ravi Kumar";
  cs.phone = CALLER;
  CHECK_OK(vc_contact_upsert(id, e->t, &cs));
  re.prefix = "";
  re.rate_per_min_micros = 600000;
  re.initial_s = 1;
  re.subsequent_s = 1;
  re.connection_fee_micros = 10000;
  re.currency = "INR";
  rs.channel = "trunk";
  rs.entries = &re;
  rs.nentries = 1;
  CHECK_OK(vc_ratecard_set(id, e->t, &rs));
  CHECK_OK(vc_ctx_set_event_cb(e->ctx, on_event, NULL));
  pthread_mutex_lock(&pop_mu);
  screen_pops = 0;
  pop_payload[0] = '\0';
  pthread_mutex_unlock(&pop_mu);
}

/* The tenant's inbound call (the newest), waited for until final. */
static vc_call *inbound_call(env *e, int ms)
{
  int64_t deadline = wall_ms() + ms;
  vc_call *found = NULL;

  do {
    vc_iter *it;
    vc_call *c;
    CHECK_OK(vc_call_list(&it, e->t, NULL));
    while (found == NULL && vc_call_next(&c, it) == 0) {
      if (vc_call_direction_of(c) == VC_CALL_INBOUND)
        found = c;
      else
        vc_call_free(c);
    }
    vc_iter_free(it);
    if (found != NULL && vc_call_state_final(vc_call_state_of(found)))
      return found;
    vc_call_free(found);
    found = NULL;
    usleep(20000);
  } while (wall_ms() < deadline);
  CHECK(!"no final inbound call");
  return NULL;
}

/* The timeline as "state/leg" and "type/leg" words. */
static void timeline(env *e, const char *id, char *out, size_t size)
{
  vc_iter *it;
  vc_call_entry *en;
  size_t len = 0;

  out[0] = '\0';
  CHECK_OK(vc_call_timeline(&it, e->t, id));
  while (vc_call_entry_next(&en, it) == 0) {
    const char *type = vc_call_entry_type(en);
    len += (size_t)snprintf(out + len, size - len, "%s%s/%d", len ? " " : "",
                            strcmp(type, "state") == 0
                              ? vc_call_state_name(vc_call_entry_state(en))
                              : type, vc_call_entry_leg(en));
    CHECK(len < size);
    vc_call_entry_free(en);
  }
  vc_iter_free(it);
}

static const char *agent_id(env *e, const char *name)
{
  static char id[VC_ID_SIZE];
  vc_agent *a;

  CHECK_OK(vc_agent_lookup(&a, e->t, name));
  snprintf(id, sizeof(id), "%s", vc_agent_id(a));
  CHECK(vc_agent_state_of(a) != VC_AGENT_RINGING &&
        vc_agent_state_of(a) != VC_AGENT_ON_CALL);
  vc_agent_free(a);
  return id;
}

/*
 * The whole way: sipp calls NUMBER, presses 1 in the menu (INFO
 * dtmf-relay), waits in the queue, and the agent's phone (a sipp UAS)
 * rings and answers; the library links them (the caller's re-INVITE
 * with the agent's offer, the agent's with the caller's answer); the
 * caller hangs up after two seconds and the agent gets BYE. The call is
 * inbound, completed, with the agent's ringing and the bridge on its
 * timeline, a screen-pop event naming the contact, and a cost.
 */
static void test_sip_inbound__ivr_queue_agent(void)
{
  static const char *const names[] = { "asha" };
  env e;
  sipp agent, caller;
  vc_call *c;
  char line[4096];
  int ports[1];

  if (!have_sipp())
    return;
  sipp_start(&agent, "uas_answer.xml", 0, NULL);
  ports[0] = agent.port;
  env_open(&e);
  channel(&e, "[\"127.0.0.1\"]", free_port());
  setup_inbound(&e, names, ports, 1, 1);
  CHECK_OK(vc_ctx_start(e.ctx, 2));
  wait_listening(&e);
  sipp_start(&caller, "uac_inbound.xml", e.sip_port, NUMBER);
  CHECK(sipp_wait(&caller, 40000) == 0);
  CHECK(sipp_wait(&agent, 10000) == 0);
  c = inbound_call(&e, 10000);
  timeline(&e, vc_call_id(c), line, sizeof(line));
  fprintf(stderr, "  timeline: %s\n", line);
  CHECK(vc_call_state_of(c) == VC_CALL_COMPLETED);
  CHECK_STR(vc_call_customer_number(c), CALLER);
  CHECK_STR(vc_call_caller_id(c), NUMBER);
  CHECK_STR(vc_call_channel_id(c), e.channel_id);
  CHECK_STR(vc_call_agent_id(c), agent_id(&e, "asha"));
  CHECK(strstr(line, "agent_ringing/") != NULL);
  CHECK(strstr(line, "bridged/") != NULL);
  CHECK(vc_call_cost_micros(c) > 0);
  fprintf(stderr, "  cost: %lld %s\n", (long long)vc_call_cost_micros(c),
          vc_call_currency(c));
  pthread_mutex_lock(&pop_mu);
  fprintf(stderr, "  screen pop: %s\n", pop_payload);
  CHECK(screen_pops >= 1);
  CHECK(strstr(pop_payload, "Ravi Kumar") != NULL);
  CHECK(strstr(pop_payload, vc_call_id(c)) != NULL);
  pthread_mutex_unlock(&pop_mu);
  vc_call_free(c);
  env_close(&e);
}

/*
 * The caller presses 1 (INFO application/dtmf) and waits in a queue
 * whose only agent is offline, then hangs up: the call ends canceled,
 * abandoned, and the library sent the caller nothing meanwhile.
 */
static void test_sip_inbound__abandon(void)
{
  static const char *const names[] = { "asha" };
  env e;
  sipp caller;
  vc_call *c;
  int ports[1] = { 0 };

  if (!have_sipp())
    return;
  env_open(&e);
  channel(&e, "[\"127.0.0.1\"]", free_port());
  setup_inbound(&e, names, ports, 1, 0);
  CHECK_OK(vc_ctx_start(e.ctx, 2));
  wait_listening(&e);
  sipp_start(&caller, "uac_abandon.xml", e.sip_port, NUMBER);
  CHECK(sipp_wait(&caller, 30000) == 0);
  c = inbound_call(&e, 10000);
  CHECK(vc_call_state_of(c) == VC_CALL_CANCELED);
  CHECK(vc_call_cause_of(c) == VC_CAUSE_ABANDONED);
  CHECK_STR(vc_call_customer_number(c), "+15550000002");
  vc_call_free(c);
  env_close(&e);
}

/*
 * The first agent's phone is busy (486): the caller is not hung up, the
 * next agent is rung and answers, and the call completes with that one.
 */
static void test_sip_inbound__busy_next(void)
{
  static const char *const names[] = { "asha", "bala" };
  env e;
  sipp busy, ok, caller;
  vc_call *c;
  char line[4096];
  int ports[2];

  if (!have_sipp())
    return;
  sipp_start(&busy, "uas_busy.xml", 0, NULL);
  sipp_start(&ok, "uas_answer.xml", 0, NULL);
  ports[0] = busy.port;
  ports[1] = ok.port;
  env_open(&e);
  channel(&e, "[\"127.0.0.1\"]", free_port());
  setup_inbound(&e, names, ports, 2, 1);
  CHECK_OK(vc_ctx_start(e.ctx, 2));
  wait_listening(&e);
  sipp_start(&caller, "uac_inbound.xml", e.sip_port, NUMBER);
  CHECK(sipp_wait(&caller, 40000) == 0);
  CHECK(sipp_wait(&busy, 10000) == 0);
  CHECK(sipp_wait(&ok, 10000) == 0);
  c = inbound_call(&e, 10000);
  timeline(&e, vc_call_id(c), line, sizeof(line));
  fprintf(stderr, "  timeline: %s\n", line);
  CHECK(vc_call_state_of(c) == VC_CALL_COMPLETED);
  CHECK_STR(vc_call_agent_id(c), agent_id(&e, "bala"));
  vc_call_free(c);
  env_close(&e);
}

/* ---- raw SIP over UDP ---------------------------------------------------- */

typedef struct raw_invite {
  const char *user;          /* the request URI's user part, "" none */
  const char *callid;        /* NULL: a fresh one; "" none */
  const char *ctype;         /* NULL: application/sdp */
  const char *body;          /* NULL: an SDP offer */
  size_t pad;                /* bytes of "a=x" lines added to the body */
} raw_invite;

static const char SDP[] =
  "v=0\r\no=caller 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
  "t=0 0\r\nm=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";

/*
 * Send an INVITE from a loopback socket and return the first final
 * status the library answers (0 when none within 5 s). *provisional
 * gets the provisional statuses seen ("100 180").
 */
static int raw_call(env *e, const raw_invite *ri, char *provisional,
                    size_t psize)
{
  static int seq;
  struct sockaddr_in a;
  socklen_t alen = sizeof(a);
  char *msg, callid[64], *body;
  size_t blen, cap;
  int fd, n, port, final = 0;
  int64_t deadline;

  provisional[0] = '\0';
  fd = socket(AF_INET, SOCK_DGRAM, 0);
  CHECK(fd >= 0);
  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  CHECK(bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
  CHECK(getsockname(fd, (struct sockaddr *)&a, &alen) == 0);
  port = ntohs(a.sin_port);
  snprintf(callid, sizeof(callid), "raw-%d-%d@127.0.0.1", (int)getpid(),
           ++seq);
  blen = (ri->body ? strlen(ri->body) : strlen(SDP)) + ri->pad * 5;
  CHECK((body = malloc(blen + 1)) != NULL);
  snprintf(body, blen + 1, "%s", ri->body ? ri->body : SDP);
  for (size_t i = 0; i < ri->pad; i++)
    strcat(body, "a=x\r\n");
  cap = blen + 2048;
  CHECK((msg = malloc(cap)) != NULL);
  n = snprintf(msg, cap,
               "INVITE sip:%s%s127.0.0.1:%d SIP/2.0\r\n"
               "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bKraw%d\r\n"
               "Max-Forwards: 70\r\n"
               "From: <sip:" CALLER "@127.0.0.1>;tag=raw%d\r\n"
               "To: <sip:%s%s127.0.0.1:%d>\r\n"
               "%s%s%s"
               "CSeq: 1 INVITE\r\n"
               "Contact: <sip:caller@127.0.0.1:%d>\r\n"
               "Content-Type: %s\r\n"
               "Content-Length: %zu\r\n\r\n%s",
               ri->user, ri->user[0] ? "@" : "", e->sip_port, port, seq, seq,
               ri->user, ri->user[0] ? "@" : "", e->sip_port,
               ri->callid && !ri->callid[0] ? "" : "Call-ID: ",
               ri->callid ? ri->callid : callid,
               ri->callid && !ri->callid[0] ? "" : "\r\n", port,
               ri->ctype ? ri->ctype : "application/sdp", strlen(body),
               body);
  CHECK(n > 0 && (size_t)n < cap);
  a.sin_port = htons((uint16_t)e->sip_port);
  CHECK(sendto(fd, msg, (size_t)n, 0, (struct sockaddr *)&a, sizeof(a)) ==
        n);
  deadline = wall_ms() + 5000;
  while (!final && wall_ms() < deadline) {
    struct pollfd pfd = { fd, POLLIN, 0 };
    char buf[4096];
    ssize_t r;
    int code;
    if (poll(&pfd, 1, 100) <= 0)
      continue;
    if ((r = recv(fd, buf, sizeof(buf) - 1, 0)) <= 0)
      continue;
    buf[r] = '\0';
    if (sscanf(buf, "SIP/2.0 %d", &code) != 1)
      continue;
    if (code < 200) {
      size_t l = strlen(provisional);
      snprintf(provisional + l, psize - l, "%s%d", l ? " " : "", code);
    } else {
      final = code;
    }
  }
  close(fd);
  free(msg);
  free(body);
  return final;
}

static int raw_status(env *e, const raw_invite *ri)
{
  char prov[64];

  return raw_call(e, ri, prov, sizeof(prov));
}

/*
 * Malformed INVITEs and INVITEs the channel does not take get the
 * status that says why, and nothing is stored: a source not in
 * config.inbound_peers 403; no number 404; no Call-ID 400; a body over
 * 8 KiB 413; no offer 488; a body that is not SDP 415; a broken SDP 400.
 * A well-formed INVITE is answered 100 and 180 at once.
 */
static void test_sip_inbound__refused(void)
{
  env e;
  raw_invite ri;
  char prov[64];
  vc_iter *it;
  vc_call *c;

  if (!have_sipp())
    return;
  env_open(&e);
  channel(&e, "[\"127.0.0.1\"]", free_port());
  setup_inbound(&e, NULL, NULL, 0, 1);
  CHECK_OK(vc_ctx_start(e.ctx, 2));
  wait_listening(&e);

#define RI(...) (ri = (raw_invite){ "" NUMBER, NULL, NULL, NULL, 0 }, \
                 __VA_ARGS__, &ri)
  CHECK(raw_status(&e, RI(ri.user = "")) == 404);
  CHECK(raw_status(&e, RI(ri.callid = "")) == 400);
  CHECK(raw_status(&e, RI(ri.pad = 2000)) == 413);
  CHECK(raw_status(&e, RI(ri.body = "")) == 488);
  CHECK(raw_status(&e, RI(ri.ctype = "text/plain",
                          ri.body = "hello\r\n")) == 415);
  CHECK(raw_status(&e, RI(ri.body = "v=0\r\nthis is not SDP\r\n")) == 400);
  CHECK(raw_status(&e, RI(ri.body = "v=0\r\no=x 1 1 IN IP4 1.2.3.4\r\n"
                                    "s=-\r\n")) == 400);
  CHECK(refused_logged >= 7);
  /* None of these became a call. */
  CHECK_OK(vc_call_list(&it, e.t, NULL));
  CHECK(vc_call_next(&c, it) == VC_ITEROVER);
  vc_iter_free(it);

  /* A well-formed one to a number nobody has: 100 and 180 at once, then
   * the core decides. */
  {
    int code = raw_call(&e, RI(ri.user = "+914400000000"), prov,
                        sizeof(prov));
    fprintf(stderr, "  unknown number: %s then %d\n", prov, code);
    CHECK(strstr(prov, "100") != NULL && strstr(prov, "180") != NULL);
    /* The core's script only hangs up: 480, the call recorded failed. */
    CHECK(code == 480);
    c = inbound_call(&e, 5000);
    CHECK(vc_call_state_of(c) == VC_CALL_FAILED);
    CHECK(vc_call_cause_of(c) == VC_CAUSE_UNKNOWN_NUMBER);
    CHECK_STR(vc_call_customer_number(c), CALLER);
    vc_call_free(c);
  }
#undef RI
  env_close(&e);
}

/* A channel that takes calls only from another address refuses ours
 * with 403. */
static void test_sip_inbound__peer(void)
{
  env e;
  raw_invite ri = { NUMBER, NULL, NULL, NULL, 0 };

  if (!have_sipp())
    return;
  env_open(&e);
  channel(&e, "[\"192.0.2.1\"]", free_port());
  setup_inbound(&e, NULL, NULL, 0, 1);
  CHECK_OK(vc_ctx_start(e.ctx, 2));
  wait_listening(&e);
  CHECK(raw_status(&e, &ri) == 403);
  env_close(&e);
}

/*
 * A queue without members overflows to voicemail at once: RECORD cannot
 * be done without media, so its action hears of a failed recording and
 * the library hangs the caller up with BYE (sipp expects it).
 */
static void test_sip_inbound__voicemail_not_possible(void)
{
  env e;
  sipp caller;
  vc_call *c;
  char line[4096];

  if (!have_sipp())
    return;
  env_open(&e);
  channel(&e, "[\"127.0.0.1\"]", free_port());
  next_overflow = VC_QUEUE_OVERFLOW_VOICEMAIL;
  setup_inbound(&e, NULL, NULL, 0, 1);
  CHECK_OK(vc_ctx_start(e.ctx, 2));
  wait_listening(&e);
  sipp_start(&caller, "uac_hungup.xml", e.sip_port, NUMBER);
  CHECK(sipp_wait(&caller, 30000) == 0);
  c = inbound_call(&e, 10000);
  timeline(&e, vc_call_id(c), line, sizeof(line));
  fprintf(stderr, "  timeline: %s\n", line);
  CHECK(vc_call_state_of(c) == VC_CALL_NO_ANSWER);
  CHECK_STR(vc_call_customer_number(c), "+15550000003");
  vc_call_free(c);
  env_close(&e);
}

/*
 * Tenants stay apart: a call arriving on tenant A's channel to tenant
 * B's number is refused (480, failed unknown_number in A) and B sees
 * no call.
 */
static void test_sip_inbound__other_tenant(void)
{
  env e;
  vc_tenant_spec ts = VC_TENANT_SPEC_INIT;
  vc_channel_spec cs = VC_CHANNEL_SPEC_INIT;
  vc_number_spec ns = VC_NUMBER_SPEC_INIT;
  vc_agent_spec as = VC_AGENT_SPEC_INIT;
  raw_invite ri = { "+914455556666", NULL, NULL, NULL, 0 };
  vc_tenant *b;
  vc_channel *ch;
  vc_number *num;
  vc_agent *ag;
  vc_iter *it;
  vc_call *c;
  char config[512];

  if (!have_sipp())
    return;
  env_open(&e);
  channel(&e, "[\"127.0.0.1\"]", free_port());
  setup_inbound(&e, NULL, NULL, 0, 1);
  ts.slug = "globex";
  CHECK_OK(vc_tenant_new(&b, e.ctx, &ts));
  snprintf(config, sizeof(config),
           "{\"local_address\": \"127.0.0.1\", \"local_port\": %d, "
           "\"from\": \"sip:{number}@127.0.0.1\", \"customer_uri\": "
           "\"sip:{number}@127.0.0.1:9\", \"inbound\": true, "
           "\"inbound_peers\": [\"127.0.0.1\"]}", free_port());
  cs.name = "trunk";
  cs.provider = "sip";
  cs.config_json = config;
  cs.sender = "+15550008888";
  CHECK_OK(vc_channel_new(&ch, b, &cs));
  as.name = "zed";
  as.number = "sip:zed@127.0.0.1:9";
  CHECK_OK(vc_agent_new(&ag, b, &as));
  vc_agent_free(ag);
  ns.number = "+914455556666";
  ns.channel = "trunk";
  ns.entry_kind = VC_NUMBER_ENTRY_AGENT;
  ns.entry = "zed";
  CHECK_OK(vc_number_new(&num, b, &ns));
  vc_number_free(num);
  vc_channel_free(ch);
  CHECK_OK(vc_ctx_start(e.ctx, 2));
  wait_listening(&e);
  CHECK(raw_status(&e, &ri) == 480);
  c = inbound_call(&e, 5000);
  CHECK(vc_call_state_of(c) == VC_CALL_FAILED);
  CHECK(vc_call_cause_of(c) == VC_CAUSE_UNKNOWN_NUMBER);
  vc_call_free(c);
  CHECK_OK(vc_call_list(&it, b, NULL));
  CHECK(vc_call_next(&c, it) == VC_ITEROVER);
  vc_iter_free(it);
  vc_tenant_free(b);
  env_close(&e);
}

/*
 * vc_call_hangup() on a caller waiting in the queue (its only agent
 * offline): the library BYEs the caller (sipp expects it) and the call
 * ends.
 */
static void test_sip_inbound__api_hangup(void)
{
  static const char *const names[] = { "asha" };
  env e;
  sipp caller;
  vc_call *c = NULL;
  int ports[1] = { 0 };
  int64_t deadline;

  if (!have_sipp())
    return;
  env_open(&e);
  channel(&e, "[\"127.0.0.1\"]", free_port());
  setup_inbound(&e, names, ports, 1, 0);
  CHECK_OK(vc_ctx_start(e.ctx, 2));
  wait_listening(&e);
  sipp_start(&caller, "uac_hungup.xml", e.sip_port, NUMBER);
  /* The call exists once the core took it; its key is pressed a second
   * after the answer, then it waits in the queue. */
  deadline = wall_ms() + 10000;
  while (c == NULL && wall_ms() < deadline) {
    vc_iter *it;
    CHECK_OK(vc_call_list(&it, e.t, NULL));
    if (vc_call_next(&c, it) != 0)
      c = NULL;
    vc_iter_free(it);
    usleep(20000);
  }
  CHECK(c != NULL);
  usleep(2500000);
  CHECK_OK(vc_call_hangup(c));
  CHECK(sipp_wait(&caller, 15000) == 0);
  vc_call_free(c);
  c = inbound_call(&e, 10000);
  fprintf(stderr, "  ended %s, %s\n", vc_call_state_name(vc_call_state_of(c)),
          vc_call_cause_name(vc_call_cause_of(c)));
  /* The host hung up, not the caller: not an abandoned call. */
  CHECK(vc_call_state_of(c) == VC_CALL_CANCELED);
  CHECK(vc_call_cause_of(c) == VC_CAUSE_API_HANGUP);
  vc_call_free(c);
  env_close(&e);
}

/*
 * The first agent's phone rings and nobody answers: at the queue's ring
 * time (20 s) the library CANCELs it (sipp expects the CANCEL), the
 * caller stays, and the next agent takes the call.
 */
static void test_sip_inbound__no_answer_next(void)
{
  static const char *const names[] = { "asha", "bala" };
  env e;
  sipp ringing, ok, caller;
  vc_call *c;
  char line[4096];
  int ports[2];

  if (!have_sipp())
    return;
  sipp_start(&ringing, "uas_noanswer.xml", 0, NULL);
  sipp_start(&ok, "uas_answer.xml", 0, NULL);
  ports[0] = ringing.port;
  ports[1] = ok.port;
  env_open(&e);
  channel(&e, "[\"127.0.0.1\"]", free_port());
  setup_inbound(&e, names, ports, 2, 1);
  CHECK_OK(vc_ctx_start(e.ctx, 2));
  wait_listening(&e);
  sipp_start(&caller, "uac_inbound.xml", e.sip_port, NUMBER);
  CHECK(sipp_wait(&caller, 60000) == 0);
  CHECK(sipp_wait(&ringing, 10000) == 0);
  CHECK(sipp_wait(&ok, 10000) == 0);
  c = inbound_call(&e, 10000);
  timeline(&e, vc_call_id(c), line, sizeof(line));
  fprintf(stderr, "  timeline: %s\n", line);
  CHECK(vc_call_state_of(c) == VC_CALL_COMPLETED);
  CHECK_STR(vc_call_agent_id(c), agent_id(&e, "bala"));
  CHECK(strstr(line, "agent_missed/") != NULL);
  /* Both phones' ringing is on the timeline: alike, but not a replay. */
  {
    const char *p = strstr(line, " ringing/1");
    CHECK(p != NULL && strstr(p + 1, " ringing/1") != NULL);
  }
  vc_call_free(c);
  env_close(&e);
}

VC_TESTS(
  VC_TEST(test_sip_inbound__refused),
  VC_TEST(test_sip_inbound__peer),
  VC_TEST(test_sip_inbound__ivr_queue_agent),
  VC_TEST(test_sip_inbound__abandon),
  VC_TEST(test_sip_inbound__busy_next),
  VC_TEST(test_sip_inbound__no_answer_next),
  VC_TEST(test_sip_inbound__voicemail_not_possible),
  VC_TEST(test_sip_inbound__other_tenant),
  VC_TEST(test_sip_inbound__api_hangup),
)
