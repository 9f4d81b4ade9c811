/*
 * SIP call legs set up per second through the "sip" adapter, against
 * sipp's own UAC, both against the same sipp UAS (tests/sip/
 * uas_answer.xml) in the same run (issue 6 item 4, docs/benchmarks.md).
 *
 *   baseline  sipp -sn uac: N2 calls (INVITE, 180, 200, ACK, BYE), at
 *             most 100 at once; legs/s = calls / wall time.
 *   library   N click-to-calls through the public API (SQLite on disk,
 *             vc_ctx_start(ctx, 2)): each is two legs (the agent's and
 *             the customer's INVITE, plus the bridge's re-INVITE), hung
 *             up with vc_call_hangup() as soon as it is bridged; legs/s =
 *             2 N / wall time from the first vc_call_start() to the last
 *             call completed.
 *
 * Both include the teardown (BYE). Each line also gives the CPU time per
 * leg, which depends less on the machine's load than the rates: the whole
 * sipp UAC process (its start-up included), and this process over the
 * library's part (every thread: the library's and this polling one);
 * sipp's UAS, serving both, is in neither. The ratio is printed, never
 * asserted; the run fails when a call does not complete or sipp reports a
 * failed call (exit status not 0). Without /usr/bin/sipp it prints a note and
 * exits 0. --quick (or VC_BENCH_QUICK=1): 40 calls, else 300.
 */
#define _GNU_SOURCE
#include "vyomcomm.h"
#include "bench_common.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>

#define SIPP "/usr/bin/sipp"

static int free_port(void)
{
  struct sockaddr_in a;
  socklen_t len = sizeof(a);
  int fd = socket(AF_INET, SOCK_DGRAM, 0), port = -1;

  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
      getsockname(fd, (struct sockaddr *)&a, &len) == 0)
    port = ntohs(a.sin_port);
  if (fd >= 0)
    close(fd);
  return port;
}

static pid_t spawn(char *const argv[], const char *log)
{
  pid_t pid = fork();

  if (pid == 0) {
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
    }
    execv(argv[0], argv);
    _exit(127);
  }
  return pid;
}

static double ru_cpu(const struct rusage *ru)
{
  return (double)ru->ru_utime.tv_sec + ru->ru_utime.tv_usec / 1e6 +
         (double)ru->ru_stime.tv_sec + ru->ru_stime.tv_usec / 1e6;
}

/* This process's CPU time so far (every thread), in seconds. */
static double self_cpu(void)
{
  struct rusage ru;

  return getrusage(RUSAGE_SELF, &ru) == 0 ? ru_cpu(&ru) : 0;
}

/* The exit status, -1 when killed; *cpu_s (if not NULL) the child's CPU
 * time. */
static int wait_exit(pid_t pid, double timeout_s, double *cpu_s)
{
  double deadline = bench_now() + timeout_s;
  struct rusage ru;
  int status = 0;
  pid_t r;

  memset(&ru, 0, sizeof(ru));
  while ((r = wait4(pid, &status, WNOHANG, &ru)) == 0 &&
         bench_now() < deadline)
    usleep(10000);
  if (r == 0) {
    kill(pid, SIGKILL);
    wait4(pid, &status, 0, &ru);
    return -1;
  }
  if (cpu_s != NULL)
    *cpu_s = ru_cpu(&ru);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

#define FAIL(...) do { fprintf(stderr, "bench_sip: " __VA_ARGS__); \
                       fputc('\n', stderr); goto out; } while (0)

int main(int argc, char **argv)
{
  int quick = bench_quick_env(), n, n_base, port, rc = 1, st;
  char scen[1024], portarg[16], mstr[16], target[64], log_uas[512],
       log_uac[512], dbpath[512], config[512], nbase[16];
  const char *root = getenv("VC_SOURCE_ROOT"), *tmp = getenv("TMPDIR");
  pid_t uas = 0, uac;
  double t0, t_base = 0, t_lib = 0, cpu_base = 0, cpu_lib = 0, load[3];
  vc_ctx *ctx = NULL;
  vc_tenant *t = NULL;
  vc_call **calls = NULL;

  for (int i = 1; i < argc; i++)
    if (strcmp(argv[i], "--quick") == 0)
      quick = 1;
  if (access(SIPP, X_OK) != 0) {
    printf("bench_sip: skipped: %s is not installed\n", SIPP);
    return 0;
  }
  n = quick ? 40 : 300;
  n_base = 2 * n;
  if (root == NULL)
    root = ".";
  if (tmp == NULL)
    tmp = "/tmp";
  snprintf(scen, sizeof(scen), "%s/tests/sip/uas_answer.xml", root);
  snprintf(log_uas, sizeof(log_uas), "%s/bench_sip_uas.log", tmp);
  snprintf(log_uac, sizeof(log_uac), "%s/bench_sip_uac.log", tmp);
  snprintf(dbpath, sizeof(dbpath), "%s/bench_sip_%d.db", tmp, (int)getpid());
  if ((port = free_port()) < 0)
    FAIL("no free port");
  snprintf(portarg, sizeof(portarg), "%d", port);
  /* The UAS takes the baseline's calls and the library's legs. */
  snprintf(mstr, sizeof(mstr), "%d", n_base + 2 * n);
  {
    char *av[] = { SIPP, "-sf", scen, "-i", "127.0.0.1", "-p", portarg,
                   "-m", mstr, "-nostdin", "-timeout", "300s", NULL };
    uas = spawn(av, log_uas);
  }
  usleep(500000);

  /* Baseline: sipp's UAC. */
  snprintf(target, sizeof(target), "127.0.0.1:%d", port);
  snprintf(nbase, sizeof(nbase), "%d", n_base);
  {
    char *av[] = { SIPP, "-sn", "uac", "-i", "127.0.0.1", "-p", "0",
                   "-m", nbase, "-r", "2000", "-l", "100", "-nostdin",
                   "-timeout", "120s", target, NULL };
    t0 = bench_now();
    uac = spawn(av, log_uac);
    st = wait_exit(uac, 150, &cpu_base);
    t_base = bench_now() - t0;
    if (st != 0)
      FAIL("sipp UAC exited %d (log %s)", st, log_uac);
  }

  /* The library. */
  {
    vc_ctx_options o = VC_CTX_OPTIONS_INIT;
    vc_tenant_spec ts = VC_TENANT_SPEC_INIT;
    vc_channel_spec cs = VC_CHANNEL_SPEC_INIT;
    vc_channel *ch;
    vc_store *store;
    int left, *done;

    if (vc_store_open_sqlite(&store, dbpath, NULL) != 0)
      FAIL("store");
    o.store = store;
    if (vc_ctx_new(&ctx, &o) != 0)
      FAIL("ctx: %s", vc_error_last()->message);
    ts.slug = "bench";
    if (vc_tenant_new(&t, ctx, &ts) != 0)
      FAIL("tenant");
    snprintf(config, sizeof(config),
             "{\"local_address\": \"127.0.0.1\", "
             "\"from\": \"sip:{number}@127.0.0.1\", "
             "\"agent_uri\": \"sip:{number}@127.0.0.1:%d\", "
             "\"customer_uri\": \"sip:{number}@127.0.0.1:%d\"}", port, port);
    cs.name = "sipp";
    cs.provider = "sip";
    cs.config_json = config;
    cs.sender = "+15550009999";
    if (vc_channel_new(&ch, t, &cs) != 0)
      FAIL("channel: %s", vc_error_last()->message);
    vc_channel_free(ch);
    if (vc_ctx_start(ctx, 2) != 0)
      FAIL("start");
    calls = calloc((size_t)n, sizeof(*calls));
    done = calloc((size_t)n, sizeof(*done));
    if (calls == NULL || done == NULL)
      FAIL("memory");
    t0 = bench_now();
    cpu_lib = self_cpu();
    for (int i = 0; i < n; i++) {
      vc_call_spec s = VC_CALL_SPEC_INIT;
      char agent[32], customer[32];
      snprintf(agent, sizeof(agent), "+9198%08d", i);
      snprintf(customer, sizeof(customer), "+1415%07d", i);
      s.agent_number = agent;
      s.customer_number = customer;
      s.ring_timeout_s = 30;
      s.time_limit_s = 600;
      if (vc_call_start(&calls[i], t, &s) != 0)
        FAIL("call start: %s", vc_error_last()->message);
    }
    left = n;
    while (left > 0 && bench_now() - t0 < 240) {
      for (int i = 0; i < n; i++) {
        int state;
        if (done[i] == 2 || vc_call_refresh(calls[i]) != 0)
          continue;
        state = vc_call_state_of(calls[i]);
        if (vc_call_state_final(state)) {
          if (state != VC_CALL_COMPLETED)
            FAIL("call %d ended %s (%s: %s)", i, vc_call_state_name(state),
                 vc_call_cause_name(vc_call_cause_of(calls[i])),
                 vc_call_error_message(calls[i]));
          done[i] = 2;
          left--;
        } else if (state == VC_CALL_BRIDGED && done[i] == 0) {
          if (vc_call_hangup(calls[i]) == 0)
            done[i] = 1;
        }
      }
      usleep(20000);      /* each refresh is a query: poll gently */
    }
    t_lib = bench_now() - t0;
    cpu_lib = self_cpu() - cpu_lib;
    free(done);
    if (left > 0)
      FAIL("%d calls did not complete", left);
  }
  st = wait_exit(uas, 60, NULL);
  uas = 0;
  if (st != 0)
    FAIL("sipp UAS exited %d (log %s)", st, log_uas);
  {
    double base = n_base / t_base, lib = 2.0 * n / t_lib;
    printf("bench_sip: sipp UAC        %6d legs in %7.3f s: %8.1f legs/s, "
           "CPU %5.1f us a leg\n", n_base, t_base, base,
           cpu_base / n_base * 1e6);
    printf("bench_sip: library (sip)   %6d legs in %7.3f s: %8.1f legs/s, "
           "CPU %5.1f us a leg (%d click-to-calls, 0 failed)\n", 2 * n,
           t_lib, lib, cpu_lib / (2.0 * n) * 1e6, n);
    printf("bench_sip: ratio library/sipp = %.3f (goal >= 0.5)\n",
           lib / base);
    if (getloadavg(load, 3) == 3)
      printf("bench_sip: load average %.2f %.2f %.2f\n", load[0], load[1],
             load[2]);
  }
  rc = 0;
out:
  if (calls != NULL)
    for (int i = 0; i < n; i++)
      vc_call_free(calls[i]);
  free(calls);
  vc_tenant_free(t);
  vc_ctx_free(ctx);
  if (uas > 0) {
    kill(uas, SIGKILL);
    waitpid(uas, NULL, 0);
  }
  unlink(dbpath);
  return rc;
}
