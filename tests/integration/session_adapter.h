/*
 * "test-session": a session adapter (vyomcomm/sys/transport.h) for the
 * tests, registered with vc_adapter_register(). It runs on the context's
 * network thread and plays a provider with libre timers:
 *
 *   placing  answers ACCEPTED (provider id "ts-<channel name>-<n>") after
 *            TS_STEP_MS, then reports, TS_STEP_MS apart: agent ringing
 *            (sent twice with one event id), agent answered (sent twice
 *            without an event id), customer ringing, customer answered;
 *            the call then stays bridged until an operation hangs it up.
 *   customer numbers pick other endings:
 *            TS_BUSY          the customer's leg ends busy;
 *            TS_NO_ANSWER     the agent's leg ends unanswered;
 *            TS_REJECT        place_call() refuses it (VC_EINVALID);
 *   ts_ctl.silent            that many placements get no answer at all
 *                            (then later ones are answered again);
 *   operations               answered ACCEPTED after TS_STEP_MS and logged
 *                            in ts_ctl.ops; a hangup then reports the end
 *                            of the call (API hangup);
 *   ts_ctl.down[i]           channel "<i>" (config {"name":"<i>"}, a
 *                            digit) reports its link down while set, up
 *                            again when cleared (checked every 5 ms).
 *
 * ts_ctl is shared with the test thread under its mutex.
 */
#ifndef VC_TEST_SESSION_ADAPTER_H
#define VC_TEST_SESSION_ADAPTER_H

#include "vyomcomm.h"
#include "vyomcomm/sys/adapter.h"
#include "vyomcomm/sys/errors.h"
#include "vyomcomm/sys/transport.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <re.h>

#define TS_STEP_MS 10
#define TS_BUSY "+15550000002"
#define TS_NO_ANSWER "+15550000003"
#define TS_REJECT "+15550000004"

static struct {
  pthread_mutex_t mu;
  int silent;                 /* placements left unanswered */
  int down[10];               /* wanted link state by channel name */
  int reported_down[10];      /* link downs reported */
  int opened, closed, placed, live_calls;
  char ops[1024];             /* "hold unhold transfer:+91... hangup" */
  int second_answer_rc;       /* a second vc_session_placed() */
  int bad_report_rc;          /* a report without call_id */
} ts_ctl = { PTHREAD_MUTEX_INITIALIZER, 0, { 0 }, { 0 }, 0, 0, 0, 0, "",
             0, 0 };

typedef struct ts_sess ts_sess;

typedef struct ts_call {
  ts_sess *s;
  char call_id[32];
  char provider_id[48];
  char customer[40];
  int step;
  int silent;
  struct tmr t;
  struct ts_call *next;
} ts_call;

typedef struct ts_op {
  ts_sess *s;
  uint64_t token;
  int op;
  char call_id[32];
  struct tmr t;
  struct ts_op *next;
} ts_op;

struct ts_sess {
  vc_session_host *host;
  int name;                   /* 0..9 */
  int link_up;
  struct tmr poll;
  ts_call *calls;
  ts_op *ops;
};

static int ts_init(void **state, const char *config_json,
                   const char *credentials_json)
{
  const char *p = config_json ? strstr(config_json, "\"name\":\"") : NULL;
  int *name = malloc(sizeof(*name));

  (void)credentials_json;
  if (name == NULL)
    return VC_ENOMEM;
  *name = p != NULL && p[8] >= '0' && p[8] <= '9' ? p[8] - '0' : 0;
  *state = name;
  return 0;
}

static void ts_fini(void *state)
{
  free(state);
}

static void ts_ctl_lock(void)
{
  pthread_mutex_lock(&ts_ctl.mu);
}

static void ts_ctl_unlock(void)
{
  pthread_mutex_unlock(&ts_ctl.mu);
}

static void ts_report(ts_call *c, int type, int leg, int cause,
                      const char *event_id)
{
  vc_call_update u;

  memset(&u, 0, sizeof(u));
  u.version = VC_CALL_UPDATE_VERSION;
  u.type = type;
  u.call_id = c->call_id;
  u.provider_call_id = c->provider_id;
  u.leg = leg;
  u.cause = cause;
  u.event_id = event_id;
  if (type == VC_UPDATE_ENDED && cause == VC_CAUSE_API_HANGUP)
    u.duration_s = 1;
  (void)vc_session_report(c->s->host, &u);
}

static void ts_call_unlink(ts_call *c)
{
  ts_call **pp;

  for (pp = &c->s->calls; *pp != NULL; pp = &(*pp)->next)
    if (*pp == c) {
      *pp = c->next;
      break;
    }
  tmr_cancel(&c->t);
  free(c);
  ts_ctl_lock();
  ts_ctl.live_calls--;
  ts_ctl_unlock();
}

static void ts_step(void *arg)
{
  ts_call *c = arg;
  vc_send_result r;
  char ev[96];
  int busy = strcmp(c->customer, TS_BUSY) == 0;
  int no_answer = strcmp(c->customer, TS_NO_ANSWER) == 0;
  int rc;

  switch (c->step++) {
  case 0:
    memset(&r, 0, sizeof(r));
    r.version = VC_SEND_RESULT_VERSION;
    r.outcome = VC_SEND_ACCEPTED;
    snprintf(r.provider_id, sizeof(r.provider_id), "%s", c->provider_id);
    (void)vc_session_placed(c->s->host, c->call_id, &r);
    rc = vc_session_placed(c->s->host, c->call_id, &r); /* once only */
    ts_ctl_lock();
    ts_ctl.second_answer_rc = rc;
    ts_ctl_unlock();
    break;
  case 1: {
    vc_call_update bad;
    memset(&bad, 0, sizeof(bad));
    bad.version = VC_CALL_UPDATE_VERSION;
    bad.type = VC_UPDATE_RINGING;
    bad.leg = VC_LEG_AGENT;
    rc = vc_session_report(c->s->host, &bad); /* no call_id */
    ts_ctl_lock();
    ts_ctl.bad_report_rc = rc;
    ts_ctl_unlock();
  }
    snprintf(ev, sizeof(ev), "%s-agent-ringing", c->provider_id);
    ts_report(c, VC_UPDATE_RINGING, VC_LEG_AGENT, 0, ev);
    ts_report(c, VC_UPDATE_RINGING, VC_LEG_AGENT, 0, ev); /* again */
    break;
  case 2:
    if (no_answer) {
      ts_report(c, VC_UPDATE_ENDED, VC_LEG_AGENT, VC_CAUSE_NO_ANSWER, NULL);
      ts_call_unlink(c);
      return;
    }
    ts_report(c, VC_UPDATE_ANSWERED, VC_LEG_AGENT, 0, NULL);
    ts_report(c, VC_UPDATE_ANSWERED, VC_LEG_AGENT, 0, NULL); /* again */
    break;
  case 3:
    ts_report(c, VC_UPDATE_RINGING, VC_LEG_CUSTOMER, 0, NULL);
    break;
  case 4:
    if (busy) {
      ts_report(c, VC_UPDATE_ENDED, VC_LEG_CUSTOMER, VC_CAUSE_BUSY, NULL);
      ts_call_unlink(c);
      return;
    }
    ts_report(c, VC_UPDATE_ANSWERED, VC_LEG_CUSTOMER, 0, NULL);
    return; /* bridged until hung up */
  default:
    return;
  }
  tmr_start(&c->t, TS_STEP_MS, ts_step, c);
}

static void ts_poll(void *arg)
{
  ts_sess *s = arg;
  int down;

  ts_ctl_lock();
  down = ts_ctl.down[s->name];
  ts_ctl_unlock();
  if (down == s->link_up) {
    s->link_up = !down;
    vc_session_link(s->host, s->link_up, down ? "test: link dropped"
                                                : "test: link back");
    ts_ctl_lock();
    ts_ctl.reported_down[s->name] += down;
    ts_ctl_unlock();
  }
  tmr_start(&s->poll, 5, ts_poll, s);
}

static int ts_open(void **session, void *adapter_state, vc_session_host *host)
{
  ts_sess *s = calloc(1, sizeof(*s));

  if (s == NULL)
    return VC_ENOMEM;
  s->host = host;
  s->name = *(int *)adapter_state;
  s->link_up = 1;
  tmr_init(&s->poll);
  tmr_start(&s->poll, 5, ts_poll, s);
  vc_session_link(host, 1, "test: connected");
  ts_ctl_lock();
  ts_ctl.opened++;
  ts_ctl_unlock();
  *session = s;
  return 0;
}

static void ts_close(void *session)
{
  ts_sess *s = session;

  tmr_cancel(&s->poll);
  while (s->calls != NULL)
    ts_call_unlink(s->calls);
  while (s->ops != NULL) {
    ts_op *o = s->ops;
    s->ops = o->next;
    tmr_cancel(&o->t);
    free(o);
  }
  free(s);
  ts_ctl_lock();
  ts_ctl.closed++;
  ts_ctl_unlock();
}

static int ts_place_call(void *session, const vc_call_outbound *ob)
{
  ts_sess *s = session;
  ts_call *c;
  int n;

  if (strcmp(ob->customer, TS_REJECT) == 0)
    return vc_error_set_str(VC_ERRCLASS_ADAPTER, VC_EINVALID,
                            "test: the number is refused");
  if ((c = calloc(1, sizeof(*c))) == NULL)
    return VC_ENOMEM;
  ts_ctl_lock();
  n = ++ts_ctl.placed;
  ts_ctl.live_calls++;
  if (ts_ctl.silent > 0) {
    ts_ctl.silent--;
    c->silent = 1;
  }
  ts_ctl_unlock();
  c->s = s;
  snprintf(c->call_id, sizeof(c->call_id), "%s", ob->call_id);
  snprintf(c->customer, sizeof(c->customer), "%s", ob->customer);
  snprintf(c->provider_id, sizeof(c->provider_id), "ts-%d-%d", s->name, n);
  tmr_init(&c->t);
  c->next = s->calls;
  s->calls = c;
  if (!c->silent)
    tmr_start(&c->t, TS_STEP_MS, ts_step, c);
  return 0;
}

static void ts_op_done(void *arg)
{
  ts_op *o = arg;
  ts_sess *s = o->s;
  ts_op **pp;
  ts_call *c;
  vc_send_result r;

  memset(&r, 0, sizeof(r));
  r.version = VC_SEND_RESULT_VERSION;
  r.outcome = VC_SEND_ACCEPTED;
  (void)vc_session_done(s->host, o->token, &r);
  if (o->op == VC_CALL_OP_HANGUP)
    for (c = s->calls; c != NULL; c = c->next)
      if (strcmp(c->call_id, o->call_id) == 0) {
        ts_report(c, VC_UPDATE_ENDED, VC_LEG_NONE, VC_CAUSE_API_HANGUP,
                  NULL);
        ts_call_unlink(c);
        break;
      }
  for (pp = &s->ops; *pp != NULL; pp = &(*pp)->next)
    if (*pp == o) {
      *pp = o->next;
      break;
    }
  free(o);
}

static int ts_operation(void *session, const vc_call_control *ctl,
                        uint64_t token)
{
  static const char *const names[] = { "?", "hangup", "hold", "unhold",
                                       "transfer", "record_start",
                                       "record_stop", "delete_recording" };
  ts_sess *s = session;
  ts_op *o;
  size_t len;

  if (ctl->op < 1 || ctl->op > 7 || (o = calloc(1, sizeof(*o))) == NULL)
    return VC_EINVALID;
  o->s = s;
  o->token = token;
  o->op = ctl->op;
  snprintf(o->call_id, sizeof(o->call_id), "%s", ctl->call_id);
  ts_ctl_lock();
  len = strlen(ts_ctl.ops);
  snprintf(ts_ctl.ops + len, sizeof(ts_ctl.ops) - len, "%s%s%s%s",
           len ? " " : "", names[ctl->op], ctl->target ? ":" : "",
           ctl->target ? ctl->target : "");
  ts_ctl_unlock();
  tmr_init(&o->t);
  o->next = s->ops;
  s->ops = o;
  tmr_start(&o->t, TS_STEP_MS, ts_op_done, o);
  return 0;
}

static const vc_session_ops ts_session_ops = {
  VC_SESSION_OPS_VERSION, ts_open, ts_close, ts_place_call, ts_operation
};

/* The adapter, named "test-session". */
static void ts_adapter(vc_adapter *a)
{
  memset(a, 0, sizeof(*a));
  a->version = VC_ADAPTER_VERSION;
  a->name = "test-session";
  a->kind = VC_CHANNEL_VOICE;
  a->capabilities = VC_CAP_CALL_HOLD | VC_CAP_CALL_TRANSFER |
                    VC_CAP_CALL_HANGUP;
  a->init = ts_init;
  a->fini = ts_fini;
  a->session = &ts_session_ops;
}

#endif
