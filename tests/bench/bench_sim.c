/*
 * bench_sim: how fast the provider simulator answers, so that it is never
 * what a dispatcher benchmark measures. A bare libcurl-multi loop keeps
 * 32 keep-alive connections busy POSTing small Twilio Messages forms (and
 * then SendGrid mail JSON) and prints requests per second, next to the
 * same loop against a minimal libre http_listen() server that answers a
 * fixed 201 (the fastest a libre server gets on this machine, measured in
 * the same run), and the simulator thread's CPU time per request.
 *
 *   bench_sim [--quick] [--requests N] [--connections N]
 *
 * Default 20000 requests per endpoint; --quick (or VC_BENCH_QUICK=1) 3000.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <errno.h>
#include <pthread.h>

#include <curl/curl.h>
#include <re.h>

#include "sim.h"

#define MAX_CONNS 256

typedef struct target {
  const char *name;
  char url[256];
  const char *ctype;
  const char *body;
  const char *userpwd;      /* Basic, or NULL */
  const char *bearer;       /* Authorization header, or NULL */
  long want;                /* expected status */
} target;

static double now_s(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
  (void)p;
  (void)arg;
  return size * n;
}

/* ---- the baseline: a minimal libre HTTP server ------------------------ */

typedef struct baseline {
  pthread_t th;
  pthread_mutex_t mu;
  pthread_cond_t cond;
  int ready, err;
  unsigned short port;
  struct mqueue *mq;
  char body[1024];
} baseline;

static void base_req(struct http_conn *conn, const struct http_msg *msg,
                     void *arg)
{
  baseline *b = arg;

  (void)msg;
  (void)http_creply(conn, 201, "Created", "application/json", "%s",
                    b->body);
}

static void base_mq(int id, void *data, void *arg)
{
  (void)id;
  (void)data;
  (void)arg;
  re_cancel();
}

static void *base_main(void *arg)
{
  baseline *b = arg;
  struct http_sock *hs = NULL;
  struct sa sa;
  int err;

  err = re_thread_init();
  if (err == 0)
    err = fd_setsize(4096);
  if (err == 0)
    err = mqueue_alloc(&b->mq, base_mq, b);
  if (err == 0)
    err = sa_set_str(&sa, "127.0.0.1", 0);
  if (err == 0)
    err = http_listen(&hs, &sa, base_req, b);
  if (err == 0)
    err = tcp_sock_local_get(http_sock_tcp(hs), &sa);
  pthread_mutex_lock(&b->mu);
  b->err = err;
  b->port = err ? 0 : sa_port(&sa);
  b->ready = 1;
  pthread_cond_signal(&b->cond);
  pthread_mutex_unlock(&b->mu);
  if (err == 0)
    (void)re_main(NULL);
  mem_deref(hs);
  b->mq = mem_deref(b->mq);
  re_thread_close();
  return NULL;
}

static int base_start(baseline *b)
{
  size_t i;

  memset(b, 0, sizeof(*b));
  /* About the size of the simulator's Twilio answer. */
  for (i = 0; i < 900; i++)
    b->body[i] = (char)('a' + i % 26);
  pthread_mutex_init(&b->mu, NULL);
  pthread_cond_init(&b->cond, NULL);
  if (pthread_create(&b->th, NULL, base_main, b) != 0)
    return EAGAIN;
  pthread_mutex_lock(&b->mu);
  while (!b->ready)
    pthread_cond_wait(&b->cond, &b->mu);
  pthread_mutex_unlock(&b->mu);
  if (b->err)
    pthread_join(b->th, NULL);
  return b->err;
}

static void base_stop(baseline *b)
{
  (void)mqueue_push(b->mq, 0, NULL);
  pthread_join(b->th, NULL);
  pthread_cond_destroy(&b->cond);
  pthread_mutex_destroy(&b->mu);
}

/* ---- the client loop ---------------------------------------------------- */

/* n requests over the multi handle's connections; returns the seconds. */
static double loop(CURLM *m, CURL **easy, int conns, long n, long want,
                   long *errors)
{
  long started = 0, done = 0;
  double t0 = now_s();
  int i, running = 0;

  for (i = 0; i < conns && started < n; i++, started++)
    curl_multi_add_handle(m, easy[i]);
  while (done < n) {
    CURLMsg *msg;
    int left;

    curl_multi_perform(m, &running);
    /* Collect after every perform, or poll waits on nothing. */
    while ((msg = curl_multi_info_read(m, &left)) != NULL) {
      long code = 0;
      CURL *e = msg->easy_handle;

      if (msg->msg != CURLMSG_DONE)
        continue;
      curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
      if (msg->data.result != CURLE_OK || code != want)
        (*errors)++;
      done++;
      curl_multi_remove_handle(m, e);
      if (started < n) {
        curl_multi_add_handle(m, e);
        started++;
      }
    }
    if (done < n)
      curl_multi_poll(m, NULL, 0, 100, NULL);
  }
  return now_s() - t0;
}

/*
 * Open the connections with a warm-up round, then time n requests over
 * them; returns requests/s.
 */
static double run(const target *t, long n, int conns, long *errors)
{
  CURL *easy[MAX_CONNS];
  struct curl_slist *h = NULL;
  CURLM *m = curl_multi_init();
  char ct[128];
  long warm = 0;
  double dt;
  int i;

  snprintf(ct, sizeof(ct), "Content-Type: %s", t->ctype);
  h = curl_slist_append(h, ct);
  if (t->bearer)
    h = curl_slist_append(h, t->bearer);
  *errors = 0;
  for (i = 0; i < conns; i++) {
    easy[i] = curl_easy_init();
    curl_easy_setopt(easy[i], CURLOPT_URL, t->url);
    curl_easy_setopt(easy[i], CURLOPT_POSTFIELDS, t->body);
    curl_easy_setopt(easy[i], CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(easy[i], CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(easy[i], CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy[i], CURLOPT_TIMEOUT, 30L);
    if (t->userpwd) {
      curl_easy_setopt(easy[i], CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
      curl_easy_setopt(easy[i], CURLOPT_USERPWD, t->userpwd);
    }
  }
  (void)loop(m, easy, conns, (long)conns * 4, t->want, &warm);
  dt = loop(m, easy, conns, n, t->want, errors);
  *errors += warm;
  for (i = 0; i < conns; i++)
    curl_easy_cleanup(easy[i]);
  curl_multi_cleanup(m);
  curl_slist_free_all(h);
  return (double)n / dt;
}

int main(int argc, char **argv)
{
  const char *q = getenv("VC_BENCH_QUICK");
  long n = q && *q && strcmp(q, "0") != 0 ? 3000 : 20000, errors;
  int conns = 32, i, rc = 0;
  vc_sim *sim = NULL;
  target tw = { "twilio", "", "application/x-www-form-urlencoded",
                "To=%2B14155550100&From=%2B15005550006&Body=Your+OTP+is+"
                "482913.+It+expires+in+10+minutes.",
                VC_SIM_TWILIO_ACCOUNT_SID ":" VC_SIM_TWILIO_AUTH_TOKEN,
                NULL, 201 };
  target sg = { "sendgrid", "", "application/json",
                "{\"personalizations\":[{\"to\":[{\"email\":"
                "\"asha@example.com\"}]}],\"from\":{\"email\":"
                "\"billing@erp.example\"},\"subject\":\"Invoice 42\","
                "\"content\":[{\"type\":\"text/plain\",\"value\":\"Your "
                "invoice is attached.\"}],\"custom_args\":{\"vc_message_id\":"
                "\"01HZX0000000000000000000AA\"}}",
                NULL, "Authorization: Bearer " VC_SIM_SENDGRID_API_KEY, 202 };
  target bt;
  baseline base;
  double rps, base_rps;

  for (i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--quick") == 0)
      n = 3000;
    else if (strcmp(argv[i], "--requests") == 0 && i + 1 < argc)
      n = atol(argv[++i]);
    else if (strcmp(argv[i], "--connections") == 0 && i + 1 < argc)
      conns = atoi(argv[++i]);
    else {
      fprintf(stderr, "usage: bench_sim [--quick] [--requests N] "
              "[--connections N]\n");
      return 2;
    }
  }
  if (n < 1 || conns < 1 || conns > MAX_CONNS) {
    fprintf(stderr, "bench_sim: bad --requests or --connections\n");
    return 2;
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  if (vc_sim_start(&sim, NULL) != 0) {
    fprintf(stderr, "bench_sim: cannot start the simulator\n");
    return 1;
  }
  snprintf(tw.url, sizeof(tw.url), "%s/2010-04-01/Accounts/%s/Messages.json",
           vc_sim_base_url(sim), VC_SIM_TWILIO_ACCOUNT_SID);
  snprintf(sg.url, sizeof(sg.url), "%s/v3/mail/send", vc_sim_base_url(sim));

  if (base_start(&base) != 0) {
    fprintf(stderr, "bench_sim: cannot start the baseline server\n");
    vc_sim_stop(sim);
    return 1;
  }
  bt = tw;
  bt.name = "libre";
  snprintf(bt.url, sizeof(bt.url), "http://127.0.0.1:%u/", base.port);

  printf("bench_sim: bare libcurl-multi POST loop, %d keep-alive "
         "connections, %ld requests each\n", conns, n);
  base_rps = run(&bt, n, conns, &errors);
  printf("  baseline: minimal libre server, fixed 201: %8.0f requests/s\n",
         base_rps);
  if (errors)
    rc = 1;
  for (i = 0; i < 2; i++) {
    const target *t = i == 0 ? &tw : &sg;
    double cpu0 = vc_sim_cpu_seconds(sim), us;
    rps = run(t, n, conns, &errors);
    /* The server thread's CPU per answer bounds what it can serve. */
    us = (vc_sim_cpu_seconds(sim) - cpu0) / (double)(n + conns * 4) * 1e6;
    printf("  simulator %-8s %8.0f requests/s = %.2f of the baseline "
           "(%ld errors); %.1f us CPU per request\n", t->name, rps,
           rps / base_rps, errors, us);
    if (errors)
      rc = 1;
  }
  printf("  simulator recorded %zu requests, accepted %zu\n",
         vc_sim_received_count(sim), vc_sim_accepted_count(sim, NULL));
  base_stop(&base);
  vc_sim_stop(sim);
  curl_global_cleanup();
  return rc;
}
