/*
 * loop_epoll: the library's HTTP work driven from the host's own epoll
 * loop (vyomcomm/loop.h), with no engine thread and no blocking call.
 *
 * It starts the provider simulator, opens a context on an SQLite file,
 * creates a Twilio SMS channel pointing at the simulator, queues a batch
 * of messages, and then runs an ordinary epoll loop: the library asks
 * for sockets to be watched and a timer (a timerfd) to be set, and the
 * loop reports back. A second thread queues more messages meanwhile, to
 * show that a send from another thread wakes the loop through the timer
 * hook. It exits 0 once every message is `sent`, 1 otherwise.
 *
 *   build/examples/loop_epoll [messages] [scratch directory]
 */
#define _GNU_SOURCE
#include "vyomcomm.h"
#include "sim.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

typedef struct host_loop {
  int epfd;
  int timerfd;
  int sockets;        /* watched right now */
  int most_sockets;   /* at most, at once */
} host_loop;

/* The library's socket hook: add, change or drop an epoll registration. */
static int on_socket(void *payload, int fd, int events)
{
  host_loop *h = payload;
  struct epoll_event ev = { 0 };

  if (events & VC_LOOP_REMOVE) {
    /* The socket may be closed already: EBADF and ENOENT are fine. */
    if (epoll_ctl(h->epfd, EPOLL_CTL_DEL, fd, NULL) == 0)
      h->sockets--;
    return 0;
  }
  ev.events = ((events & VC_LOOP_IN) ? EPOLLIN : 0) |
              ((events & VC_LOOP_OUT) ? EPOLLOUT : 0);
  ev.data.fd = fd;
  if (epoll_ctl(h->epfd, EPOLL_CTL_MOD, fd, &ev) == 0)
    return 0;
  if (errno != ENOENT || epoll_ctl(h->epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
    return -1;
  if (++h->sockets > h->most_sockets)
    h->most_sockets = h->sockets;
  return 0;
}

/* The library's timer hook. timerfd_settime is thread-safe, as the hook
 * must be: a send on another thread calls it. */
static int on_timer(void *payload, long ms)
{
  host_loop *h = payload;
  struct itimerspec t = { { 0, 0 }, { 0, 0 } };

  if (ms == 0)
    t.it_value.tv_nsec = 1; /* zero would disarm it */
  else if (ms > 0) {
    t.it_value.tv_sec = ms / 1000;
    t.it_value.tv_nsec = (ms % 1000) * 1000000L;
  }
  return timerfd_settime(h->timerfd, 0, &t, NULL) == 0 ? 0 : -1;
}

/* Count messages that reached `sent` (events arrive on the loop's
 * thread, inside vc_ctx_loop_*). */
static int on_event(const vc_event *e, void *payload)
{
  int *sent = payload;

  if (strcmp(e->type, "message.sent") == 0)
    (*sent)++;
  return 0;
}

static int queue(vc_tenant *t, int from, int n)
{
  char id[VC_ID_SIZE], to[24], text[64];

  for (int i = from; i < from + n; i++) {
    vc_message_spec s = VC_MESSAGE_SPEC_INIT;
    snprintf(to, sizeof(to), "+1415555%04d", i);
    snprintf(text, sizeof(text), "Order %d is on its way.", i);
    s.kind = VC_CHANNEL_SMS;
    s.to = to;
    s.text = text;
    if (vc_message_send(id, t, &s) != 0) {
      fprintf(stderr, "loop_epoll: send: %s\n", vc_error_last()->message);
      return -1;
    }
  }
  return 0;
}

typedef struct late_sender {
  vc_tenant *t;
  int from, n, rc;
} late_sender;

static void *send_later(void *arg)
{
  late_sender *l = arg;
  struct timespec pause = { 0, 50 * 1000000L };

  nanosleep(&pause, NULL);
  l->rc = queue(l->t, l->from, l->n);
  return NULL;
}

static int setup(vc_ctx **ctx, vc_tenant **t, vc_sim *sim, const char *dir)
{
  /* A real host keeps its master key out of its code (a file, a KMS). */
  static const uint8_t key[32] = "loop_epoll example key, not real";
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;
  vc_master_key mk = VC_MASTER_KEY_INIT;
  vc_tenant_spec ts = VC_TENANT_SPEC_INIT;
  vc_channel_spec cs = VC_CHANNEL_SPEC_INIT;
  vc_channel *ch;
  vc_store *store;
  char path[512], config[256], creds[128];

  snprintf(path, sizeof(path), "%s/loop_epoll.db", dir);
  unlink(path);
  if (vc_store_open_sqlite(&store, path, NULL) != 0)
    return -1;
  mk.key = key;
  mk.key_len = sizeof(key);
  o.store = store;
  o.master_key = &mk;
  o.allow_private_network = 1; /* the simulator is on loopback */
  if (vc_ctx_new(ctx, &o) != 0)
    return -1;
  ts.slug = "acme";
  if (vc_tenant_new(t, *ctx, &ts) != 0)
    return -1;
  snprintf(config, sizeof(config),
           "{\"account_sid\":\"%s\",\"base_url\":\"%s\"}",
           VC_SIM_TWILIO_ACCOUNT_SID, vc_sim_base_url(sim));
  snprintf(creds, sizeof(creds), "{\"auth_token\":\"%s\"}",
           VC_SIM_TWILIO_AUTH_TOKEN);
  cs.name = "sms";
  cs.provider = "twilio-sms";
  cs.config_json = config;
  cs.credentials_json = creds;
  cs.sender = "+15005550006";
  if (vc_channel_new(&ch, *t, &cs) != 0)
    return -1;
  vc_channel_free(ch);
  return 0;
}

int main(int argc, char **argv)
{
  int total = argc > 1 ? atoi(argv[1]) : 200;
  const char *dir = argc > 2 ? argv[2] : getenv("TMPDIR");
  host_loop h = { -1, -1, 0, 0 };
  vc_loop_hooks hooks = VC_LOOP_HOOKS_INIT;
  late_sender late;
  pthread_t th;
  vc_sim *sim = NULL;
  vc_ctx *ctx = NULL;
  vc_tenant *t = NULL;
  struct timespec start, now;
  int sent = 0, first = total / 2, ok = 0;

  if (total < 2)
    total = 2;
  first = total / 2;
  if (dir == NULL)
    dir = "/tmp";
  if (vc_sim_start(&sim, NULL) != 0 || setup(&ctx, &t, sim, dir) != 0) {
    fprintf(stderr, "loop_epoll: setup: %s\n", vc_error_last()->message);
    goto out;
  }
  h.epfd = epoll_create1(EPOLL_CLOEXEC);
  h.timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
  if (h.epfd < 0 || h.timerfd < 0)
    goto out;
  {
    struct epoll_event ev = { .events = EPOLLIN, .data.fd = h.timerfd };
    if (epoll_ctl(h.epfd, EPOLL_CTL_ADD, h.timerfd, &ev) != 0)
      goto out;
  }
  vc_ctx_set_event_cb(ctx, on_event, &sent);
  hooks.socket = on_socket;
  hooks.timer = on_timer;
  hooks.payload = &h;
  if (queue(t, 0, first) != 0 || vc_ctx_set_loop(ctx, &hooks) != 0)
    goto out;
  late.t = t;
  late.from = first;
  late.n = total - first;
  late.rc = -1;
  if (pthread_create(&th, NULL, send_later, &late) != 0)
    goto out;

  clock_gettime(CLOCK_MONOTONIC, &start);
  for (;;) {
    struct epoll_event evs[64];
    int n = epoll_wait(h.epfd, evs, 64, 1000);
    for (int i = 0; i < n; i++) {
      if (evs[i].data.fd == h.timerfd) {
        uint64_t expirations;
        if (read(h.timerfd, &expirations, sizeof(expirations)) > 0)
          vc_ctx_loop_timeout(ctx);
      } else {
        int what = ((evs[i].events & EPOLLIN) ? VC_LOOP_IN : 0) |
                   ((evs[i].events & EPOLLOUT) ? VC_LOOP_OUT : 0);
        if (evs[i].events & (EPOLLERR | EPOLLHUP))
          what = VC_LOOP_IN | VC_LOOP_OUT;
        vc_ctx_loop_socket(ctx, evs[i].data.fd, what);
      }
    }
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (sent >= total || now.tv_sec - start.tv_sec > 60)
      break;
  }
  pthread_join(th, NULL);
  ok = sent == total && late.rc == 0;
  printf("loop_epoll: %d of %d messages sent from the host's epoll loop, "
         "up to %d sockets watched at once\n", sent, total, h.most_sockets);
out:
  vc_tenant_free(t);
  vc_ctx_free(ctx);
  vc_sim_stop(sim);
  if (h.epfd >= 0)
    close(h.epfd);
  if (h.timerfd >= 0)
    close(h.timerfd);
  return ok ? 0 : 1;
}
