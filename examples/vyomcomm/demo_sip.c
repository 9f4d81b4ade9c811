/*
 * vyomcomm demo, SIP: when sipp (Debian sip-tester) is installed, two
 * sipp processes play the agent's and the customer's phones on loopback,
 * and the library places a click-to-call between them as a SIP user
 * agent (third-party call control), then hangs it up. sipp exits 0 only
 * when every message it saw was the one its scenario expected.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vyomcomm.h"
#include "cli.h"
#include "demo_net.h"

#define SIPP "/usr/bin/sipp"
#define WAIT_MS 15000

typedef struct phone {
  pid_t pid;
  int port;
} phone;

/* The folder of the sipp scenarios: $VC_SIP_SCENARIOS, else the source
 * tree's tests/sip the program was built from. */
static const char *scenario_dir(void)
{
  const char *dir = getenv("VC_SIP_SCENARIOS");

  return dir != NULL ? dir : VC_DEMO_SIP_SCENARIOS;
}

/* A sipp UAS that answers one call on a free loopback UDP port. */
static int phone_start(phone *p, const char *dir, const char *log)
{
  char sf[1024], port[16];

  snprintf(sf, sizeof(sf), "%s/uas_answer.xml", dir);
  if (access(sf, R_OK) != 0 || (p->port = demo_free_port()) <= 0)
    return -1;
  snprintf(port, sizeof(port), "%d", p->port);
  fflush(NULL); /* or the child writes out a copy of what is buffered */
  if ((p->pid = fork()) < 0)
    return -1;
  if (p->pid == 0) {
    if (freopen(log, "w", stdout) == NULL)
      _exit(127);
    dup2(fileno(stdout), 2);
    execl(SIPP, "sipp", "-sf", sf, "-i", "127.0.0.1", "-p", port, "-t",
          "u1", "-m", "1", "-nostdin", "-timeout", "30s", (char *)NULL);
    _exit(127);
  }
  usleep(300000); /* sipp binds its port */
  return 0;
}

/* sipp's exit status once it ended its call (-1: it had to be killed). */
static int phone_wait(phone *p)
{
  int64_t deadline = demo_wall_ms() + WAIT_MS;
  int status = 0;
  pid_t r;

  if (p->pid <= 0)
    return -1;
  while ((r = waitpid(p->pid, &status, WNOHANG)) == 0 &&
         demo_wall_ms() < deadline)
    usleep(20000);
  if (r == 0) {
    kill(p->pid, SIGKILL);
    waitpid(p->pid, &status, 0);
    return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int wait_state(vc_call *call, int state)
{
  int64_t deadline = demo_wall_ms() + WAIT_MS;

  while (demo_wall_ms() < deadline) {
    if (vc_call_refresh(call) == 0 &&
        (state ? vc_call_state_of(call) == state
               : vc_call_state_final(vc_call_state_of(call))))
      return 1;
    usleep(20000);
  }
  return 0;
}

static void place(demo_checks *c, vc_tenant *t, const phone *agent,
                  const phone *customer)
{
  vc_channel_spec cs = VC_CHANNEL_SPEC_INIT;
  vc_call_spec s = VC_CALL_SPEC_INIT;
  vc_channel *ch = NULL;
  vc_call *call = NULL;
  char config[512];

  snprintf(config, sizeof(config),
           "{\"transport\": \"udp\", \"local_address\": \"127.0.0.1\", "
           "\"from\": \"sip:{number}@127.0.0.1\", "
           "\"agent_uri\": \"sip:{number}@127.0.0.1:%d\", "
           "\"customer_uri\": \"sip:{number}@127.0.0.1:%d\"}",
           agent->port, customer->port);
  cs.name = "voice-sip";
  cs.provider = "sip";
  cs.config_json = config;
  cs.sender = "+15550009999";
  if (!demo_check(c, vc_channel_new(&ch, t, &cs) == 0,
                  "voice channel: voice-sip (sip, to the two sipp phones)"))
    return;
  s.agent_number = "+15550001001";
  s.customer_number = "+15550002002";
  s.channel = vc_channel_id(ch);
  if (demo_check(c, vc_call_start(&call, t, &s) == 0,
                 "click-to-call over SIP stored") &&
      demo_check(c, wait_state(call, VC_CALL_BRIDGED),
                 "SIP: agent and customer answered and are bridged")) {
    usleep(300000); /* the bridge's re-INVITE reaches the agent */
    demo_check(c, vc_call_hangup(call) == 0 && wait_state(call, 0) &&
                  vc_call_state_of(call) == VC_CALL_COMPLETED,
               "SIP: hung up with BYE on both legs, call completed");
  }
  vc_call_free(call);
  vc_channel_free(ch);
}

void demo_sip(demo_checks *c, const char *dir)
{
  static const uint8_t key[32] = { 0x7c, 0x35, 0x59 };
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;
  vc_master_key mk = VC_MASTER_KEY_INIT;
  vc_tenant_spec ts = VC_TENANT_SPEC_INIT;
  vc_store *store = NULL;
  vc_tenant *t = NULL;
  vc_ctx *ctx = NULL;
  phone agent = { 0, 0 }, customer = { 0, 0 };
  char path[600], alog[600], clog[600];

  printf("click-to-call over SIP (sipp as the phones)\n");
  if (access(SIPP, X_OK) != 0) {
    printf("  skipped: %s is not installed (Debian sip-tester)\n\n", SIPP);
    return;
  }
  snprintf(alog, sizeof(alog), "%s/sipp-agent.log", dir);
  snprintf(clog, sizeof(clog), "%s/sipp-customer.log", dir);
  if (phone_start(&agent, scenario_dir(), alog) != 0 ||
      phone_start(&customer, scenario_dir(), clog) != 0) {
    printf("  skipped: no sipp scenarios in %s\n\n", scenario_dir());
    goto out;
  }
  snprintf(path, sizeof(path), "%s/sip.db", dir);
  mk.key = key;
  mk.key_len = sizeof(key);
  o.master_key = &mk;
  if (!demo_check(c, vc_store_open_sqlite(&store, path, NULL) == 0 &&
                     (o.store = store, vc_ctx_new(&ctx, &o) == 0),
                  "open a store for SIP calls")) {
    vc_store_free(store);
    goto out;
  }
  ts.slug = "acme";
  if (demo_check(c, vc_tenant_new(&t, ctx, &ts) == 0, "create a tenant") &&
      demo_check(c, vc_ctx_start(ctx, 1) == 0, "start an engine thread"))
    place(c, t, &agent, &customer);
  vc_ctx_stop(ctx);
  demo_check(c, phone_wait(&agent) == 0 && phone_wait(&customer) == 0,
             "sipp: both phones saw exactly the messages they expected");
  printf("\n");
out:
  if (agent.pid > 0 && waitpid(agent.pid, NULL, WNOHANG) == 0) {
    kill(agent.pid, SIGKILL);
    waitpid(agent.pid, NULL, 0);
  }
  if (customer.pid > 0 && waitpid(customer.pid, NULL, WNOHANG) == 0) {
    kill(customer.pid, SIGKILL);
    waitpid(customer.pid, NULL, 0);
  }
  vc_tenant_free(t);
  vc_ctx_free(ctx);
}
