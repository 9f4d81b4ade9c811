/*
 * Asterisk ARI click-to-call: the "asterisk-ari" session adapter.
 *
 * One session per channel, on the context's network thread (libre's
 * loop). It keeps the events WebSocket (GET {base}/events?app=...) open
 * with libre's websock client, reconnecting with backoff, and sends REST
 * requests with libre's HTTP client: the WebSocket client needs an
 * http_cli anyway, the requests are few and small, and libre's own
 * client lives in the loop we run in, where libcurl's multi interface
 * would need its sockets and timers bridged into libre's fd_listen and
 * tmr by hand.
 *
 * A call: originate the agent (channel "vc-<call>-a", app args "<call>")
 * → on its StasisStart (answered) originate the customer ("vc-<call>-c",
 * originator the agent) → on the customer's StasisStart create a mixing
 * bridge ("vc-<call>-b", dtmf_events), add both, report the customer
 * answered (the core's bridged). A channel's ChannelDestroyed ends its
 * leg with its Q.850 cause; then the other leg is hung up and the bridge
 * destroyed. Channel ids name the call, so every event maps to its call
 * without a lookup table surviving reconnects. Wire facts: providers.md
 * section 4; behaviour: docs/calls.md, "Asterisk ARI". Inbound calls
 * (channels the dialplan sends to the app, and run_script) are in
 * ari_inbound.c, which sees every event first.
 */
#include "core/common.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/text.h"
#include "adapters/builtin.h"
#include "adapters/common.h"
#include "adapters/voip/ari.h"
#include "adapters/voip/ari_sess.h"
#include "vyomcomm/sys/transport.h"

#include <errno.h>
#include <re.h>
#include <stdio.h>

#define KEEPALIVE_MS 15000
#define BACKOFF_MIN_MS 500
#define BACKOFF_MAX_MS 30000
#define BODY_MAX (64 * 1024)

enum { LEG_A = 0, LEG_C = 1, LEG_T = 2, LEGS = 3 };

typedef struct ari_call {
  struct le le;
  ari_sess *s;
  char id[CALL_ID_MAX];
  char chan[LEGS][ID_MAX];       /* agent, customer, transfer target */
  int up[LEGS], gone[LEGS], hup_cause[LEGS];
  int heard[LEGS];               /* an event of the leg's channel came */
  char bridge[ID_MAX];
  char rec[ID_MAX];              /* the live recording's name, or "" */
  char agent[260], customer[260], caller_id[64];
  int ring_timeout, record, recs, transfers;
  int bridged, ending, placed, held;
  int waiting;                   /* for the first connection to be made */
} ari_call;

static void ws_connect(ari_sess *s);
static void call_maybe_free(ari_call *c);

/* ------------------------------------------------------------------ */
/* small things                                                        */

static ari_call *find_call(ari_sess *s, const char *id)
{
  for (struct le *le = s->calls.head; le != NULL; le = le->next) {
    ari_call *c = le->data;
    if (strcmp(c->id, id) == 0)
      return c;
  }
  return NULL;
}

/* The call and leg a channel id of ours names: "vc-<call>-a|c|t<n>". */
static ari_call *call_of_channel(ari_sess *s, const char *chan, int *leg)
{
  for (struct le *le = s->calls.head; le != NULL; le = le->next) {
    ari_call *c = le->data;
    for (int i = 0; i < LEGS; i++)
      if (c->chan[i][0] != '\0' && strcmp(c->chan[i], chan) == 0) {
        *leg = i;
        return c;
      }
  }
  return NULL;
}

static ari_call *call_of_recording(ari_sess *s, const char *name)
{
  char prefix[ID_MAX];

  for (struct le *le = s->calls.head; le != NULL; le = le->next) {
    ari_call *c = le->data;
    snprintf(prefix, sizeof(prefix), "vc-%s-r", c->id);
    if (strncmp(name, prefix, strlen(prefix)) == 0)
      return c;
  }
  return NULL;
}

static int core_leg(int leg)
{
  return leg == LEG_A ? VC_LEG_AGENT : VC_LEG_CUSTOMER;
}

static void report(ari_call *c, const vc_call_update *u)
{
  if (vc_session_report(c->s->host, u) < 0)
    vc_session_log(c->s->host, VC_LOG_WARN, vc_error_last()->message);
}

static void result_of(vc_send_result *r, int outcome, int error,
                      const char *code, const char *msg)
{
  memset(r, 0, sizeof(*r));
  r->version = VC_SEND_RESULT_VERSION;
  r->outcome = outcome;
  r->error = outcome == VC_SEND_ACCEPTED ? 0 : error;
  snprintf(r->provider_code, sizeof(r->provider_code), "%s", code ? code : "");
  snprintf(r->error_message, sizeof(r->error_message), "%s", msg ? msg : "");
}

/* ARI's error body is {"message": "..."}: its text, printable. */
void vc__ari_error_text(char *out, size_t cap, int status, const char *body,
                       size_t len)
{
  cJSON *j = len > 0 && len <= 4096 ? vc__cjson_parse(body, len, NULL, 0)
                                    : NULL;
  const char *m = vc__json_str(j, "message");
  size_t n = 0;

  n = (size_t)snprintf(out, cap, "HTTP %d", status);
  if (m != NULL && n + 3 < cap) {
    out[n++] = ':';
    out[n++] = ' ';
    for (; *m != '\0' && n + 1 < cap; m++)
      out[n++] = (unsigned char)*m < 0x20 || (unsigned char)*m >= 0x7f
                 ? '?' : *m;
    out[n] = '\0';
  }
  cJSON_Delete(j);
}

/* ------------------------------------------------------------------ */
/* REST                                                                */

static void req_free(ari_req *r)
{
  tmr_cancel(&r->tmr);
  list_unlink(&r->le);
  r->http = mem_deref(r->http);
  vc__free(r);
}

/* A request unanswered in config.request_timeout_ms: dropped, and its
 * `done` runs with ETIMEDOUT, so that no call waits on a silent ARI up
 * to the core's own deadline. */
static void req_timeout(void *arg)
{
  ari_req *r = arg;

  r->http = mem_deref(r->http); /* its handler is not called then */
  list_unlink(&r->le);
  r->done(r, ETIMEDOUT, 0, NULL, 0);
  vc__free(r);
}

static void http_resp(int err, const struct http_msg *msg, void *arg)
{
  ari_req *r = arg;
  const char *body = NULL;
  size_t len = 0;
  int status = 0;

  r->http = NULL; /* libre frees it after this returns */
  tmr_cancel(&r->tmr);
  if (err == 0 && msg != NULL) {
    status = msg->scode;
    if (msg->mb != NULL && msg->mb->end <= BODY_MAX) {
      body = (const char *)msg->mb->buf;
      len = msg->mb->end;
    }
  } else if (err == 0) {
    err = EPROTO;
  }
  list_unlink(&r->le);
  r->done(r, err, status, body, len);
  vc__free(r);
}

/* Send a request; `done` runs once with its outcome (never during this
 * call). A request that cannot start runs `done` with the error now
 * deferred to the caller: the return value. */
int vc__ari_rest_url(ari_sess *s, const char *method, const char *url,
                     req_done_h *done, ari_req **out)
{
  ari_req *r;
  int err;

  if (out != NULL)
    *out = NULL;
  if ((r = vc__calloc(1, sizeof(*r))) == NULL)
    return vc_error_set_oom();
  r->s = s;
  r->done = done;
  err = http_request(&r->http, s->http, method, url, http_resp, NULL, r,
                     "Authorization: %s\r\n"
                     "Content-Length: 0\r\n"
                     "\r\n", s->cfg->authorization);
  if (err != 0) {
    vc__free(r);
    return vc__error_set(VC_ERRCLASS_NET, VC_ENET,
                         "ARI request could not start: %s", strerror(err));
  }
  list_append(&s->reqs, &r->le, r);
  tmr_start(&r->tmr, (uint64_t)s->cfg->request_timeout_ms, req_timeout, r);
  if (out != NULL)
    *out = r;
  return 0;
}

int vc__ari_rest(ari_sess *s, int kind, const char *a, const char *b,
                 const vc__ari_originate *o, req_done_h *done,
                 const char *call_id, int leg, ari_req **out)
{
  vc_buf url = VC_BUF_INIT;
  const char *method;
  ari_req *r;
  int rc;

  if (out != NULL)
    *out = NULL;
  if ((rc = vc__ari_url(&url, &method, s->cfg, kind, a, b, o)) == 0)
    rc = vc__ari_rest_url(s, method, url.ptr, done, &r);
  vc_buf_dispose(&url);
  if (rc < 0)
    return rc;
  r->leg = leg;
  snprintf(r->call_id, sizeof(r->call_id), "%s", call_id ? call_id : "");
  if (out != NULL)
    *out = r;
  return 0;
}

/* Fire and forget: hang-ups and clean-ups whose failure changes nothing
 * (a channel already gone answers 404). */
void vc__ari_ignore_done(ari_req *r, int err, int status, const char *body,
                        size_t len)
{
  VC_UNUSED(body);
  VC_UNUSED(len);
  if (err != 0 || (status >= 300 && status != 404)) {
    char m[160];
    snprintf(m, sizeof(m), "ARI clean-up request failed (%s %d)",
             err ? "error" : "HTTP", err ? err : status);
    vc_session_log(r->s->host, VC_LOG_INFO, m);
  }
}

static void hang_up(ari_call *c, int leg)
{
  if (c->chan[leg][0] != '\0' && !c->gone[leg])
    (void)vc__ari_rest(c->s, VC__ARI_HANGUP, c->chan[leg], NULL, NULL, vc__ari_ignore_done,
               c->id, leg, NULL);
}

/* One leg ended: end the others and the bridge. */
static void tear_down(ari_call *c)
{
  if (c->ending)
    return;
  c->ending = 1;
  for (int i = 0; i < LEGS; i++)
    hang_up(c, i);
  if (c->bridge[0] != '\0')
    (void)vc__ari_rest(c->s, VC__ARI_BRIDGE_DELETE, c->bridge, NULL, NULL,
               vc__ari_ignore_done, c->id, 0, NULL);
}

/* ------------------------------------------------------------------ */
/* placing                                                             */

static void placed(ari_call *c, int outcome, int error, const char *code,
                   const char *msg)
{
  vc_send_result r;

  if (c->placed)
    return;
  c->placed = 1;
  result_of(&r, outcome, error, code, msg);
  if (outcome == VC_SEND_ACCEPTED)
    snprintf(r.provider_id, sizeof(r.provider_id), "%s", c->chan[LEG_A]);
  if (vc_session_placed(c->s->host, c->id, &r) == VC_ENOTFOUND &&
      outcome == VC_SEND_ACCEPTED && !c->heard[LEG_A]) {
    /* The core gave up waiting and will place the call again: this
     * agent's channel goes, before anything of it was reported (its
     * events find no call then). */
    vc_error_clear();
    vc_session_log(c->s->host, VC_LOG_INFO, "an originate answered too "
                   "late for the core: its channel is hung up");
    hang_up(c, LEG_A);
    c->gone[LEG_A] = 1;
  }
}

/* How an ARI answer to an originate goes: 2xx accepted; 400 (the
 * endpoint built from this channel's template), 401, 403, 404 and 422
 * (this Asterisk cannot) fail over; 409 (the channel id is taken: this
 * call is there already) and other 4xx refuse; 429 and 5xx are retried;
 * no answer at all fails over. */
static int originate_outcome(int err, int status)
{
  if (err != 0)
    return VC_SEND_FAILOVER;
  if (status >= 200 && status < 300)
    return VC_SEND_ACCEPTED;
  if (status == 429 || status >= 500)
    return VC_SEND_RETRY;
  if (status == 400 || status == 401 || status == 403 || status == 404 ||
      status == 422)
    return VC_SEND_FAILOVER;
  return VC_SEND_REJECTED;
}

static void agent_originated(ari_req *r, int err, int status,
                             const char *body, size_t len)
{
  ari_call *c = find_call(r->s, r->call_id);
  char m[256];
  int outcome = originate_outcome(err, status);

  if (c == NULL)
    return;
  if (outcome == VC_SEND_ACCEPTED ||
      (err == ETIMEDOUT && (c->heard[LEG_A] || c->placed))) {
    /* A lost answer to an originate whose channel is heard of was
     * taken all the same: its events go on. */
    placed(c, VC_SEND_ACCEPTED, 0, NULL, NULL);
    return;
  }
  if (err == ETIMEDOUT)
    snprintf(m, sizeof(m), "ARI did not answer the originate in %d ms",
             r->s->cfg->request_timeout_ms);
  else if (err != 0)
    snprintf(m, sizeof(m), "ARI unreachable: %s", strerror(err));
  else
    vc__ari_error_text(m, sizeof(m), status, body, len);
  if (err == ETIMEDOUT) {
    /* It may have been made all the same, unheard of yet: the next
     * channel must not find the agent's phone ringing from this one (its
     * events, if any come, find no call and are ignored). */
    hang_up(c, LEG_A);
  }
  {
    char code[16];
    snprintf(code, sizeof(code), "%d", status);
    placed(c, outcome,
           err == ETIMEDOUT ? VC_ETIMEOUT
           : outcome == VC_SEND_RETRY ? VC_ENET
           : outcome == VC_SEND_FAILOVER && err != 0 ? VC_ENET
           : VC_EPROVIDER, err ? NULL : code, m);
  }
  c->gone[LEG_A] = 1;
  call_maybe_free(c);
}

static int originate(ari_call *c, int leg, const char *tmpl,
                     const char *number, const char *originator,
                     req_done_h *done, ari_req **out)
{
  vc_buf ep = VC_BUF_INIT;
  vc__ari_originate o;
  char args[CALL_ID_MAX + 16];
  int rc;

  if ((rc = vc__ari_endpoint(&ep, tmpl, number)) < 0)
    goto out;
  snprintf(args, sizeof(args), "%s", c->id);
  memset(&o, 0, sizeof(o));
  o.endpoint = ep.ptr;
  o.channel_id = c->chan[leg];
  o.app_args = args;
  o.caller_id = c->caller_id[0] ? c->caller_id : NULL;
  o.timeout_s = c->ring_timeout;
  o.originator = originator;
  rc = vc__ari_rest(c->s, VC__ARI_ORIGINATE, NULL, NULL, &o, done, c->id, leg, out);
out:
  vc_buf_dispose(&ep);
  return rc;
}

/* The report of a leg that ended without an event saying why (its
 * originate failed, or it vanished while we were disconnected). */
static void report_end(ari_call *c, int leg, int cause, const char *code,
                       const char *suffix, int64_t at)
{
  vc_call_update u;
  char eid[ID_MAX * 2];

  memset(&u, 0, sizeof(u));
  u.version = VC_CALL_UPDATE_VERSION;
  u.type = VC_UPDATE_ENDED;
  u.call_id = c->id;
  u.leg = core_leg(leg);
  u.leg_provider_id = c->chan[leg];
  u.cause = cause;
  u.provider_code = code;
  u.occurred_at = at;
  u.jitter_ms = u.packet_loss_pct = u.rtt_ms = u.mos = -1;
  snprintf(eid, sizeof(eid), "ari:%s:%s", c->chan[leg], suffix);
  u.event_id = eid;
  report(c, &u);
}

static void leg_originated(ari_req *r, int err, int status, const char *body,
                           size_t len)
{
  ari_call *c = find_call(r->s, r->call_id);
  char m[256];

  VC_UNUSED(body);
  VC_UNUSED(len);
  if (c == NULL || (err == 0 && status >= 200 && status < 300))
    return;
  /* The customer (or a transfer's target) was never dialled. */
  if (err != 0)
    snprintf(m, sizeof(m), "ARI unreachable: %s", strerror(err));
  else
    vc__ari_error_text(m, sizeof(m), status, body, len);
  vc_session_log(r->s->host, VC_LOG_WARN, m);
  c->gone[r->leg] = 1;
  report_end(c, r->leg, VC_CAUSE_PROVIDER_ERROR, "originate failed",
             "originate-failed", 0);
  tear_down(c);
  call_maybe_free(c);
}

static int ari_place_call(void *session, const vc_call_outbound *call)
{
  ari_sess *s = session;
  ari_call *c;
  int rc;

  if (call == NULL || call->call_id == NULL || call->agent == NULL ||
      call->customer == NULL)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "place_call needs a call id, agent and customer");
  if (strnlen(call->call_id, CALL_ID_MAX) >= CALL_ID_MAX - 8 ||
      strnlen(call->customer, 260) >= 260 ||
      strnlen(call->agent, 260) >= 260 ||
      (call->caller_id && strnlen(call->caller_id, 64) >= 64))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "place_call: an id or number is too long");
  if ((c = find_call(s, call->call_id)) != NULL) {
    /* The core places again a call this session still follows (its wait
     * ran out, or its job's lease did): the same call, never a second
     * originate. The answer goes to the new placement, now if it was
     * given already. */
    vc_send_result r;
    if (c->placed && !c->gone[LEG_A]) {
      result_of(&r, VC_SEND_ACCEPTED, 0, NULL, NULL);
      snprintf(r.provider_id, sizeof(r.provider_id), "%s", c->chan[LEG_A]);
      (void)vc_session_placed(s->host, c->id, &r);
    } else if (c->placed) {
      /* Its last attempt is still being cleared away: a little later. */
      result_of(&r, VC_SEND_RETRY, VC_ESTATE, NULL,
                "the call's last attempt is still being cleared away");
      (void)vc_session_placed(s->host, c->id, &r);
    }
    return 0;
  }
  if ((c = vc__calloc(1, sizeof(*c))) == NULL)
    return vc_error_set_oom();
  c->s = s;
  snprintf(c->id, sizeof(c->id), "%s", call->call_id);
  snprintf(c->chan[LEG_A], ID_MAX, "vc-%s-a", c->id);
  snprintf(c->agent, sizeof(c->agent), "%s", call->agent);
  snprintf(c->customer, sizeof(c->customer), "%s", call->customer);
  snprintf(c->caller_id, sizeof(c->caller_id), "%s",
           call->caller_id ? call->caller_id : "");
  c->ring_timeout = call->ring_timeout_s > 0 ? call->ring_timeout_s : 30;
  c->record = call->record;
  for (int i = 0; i < LEGS; i++)
    c->hup_cause[i] = -1;
  c->gone[LEG_C] = c->gone[LEG_T] = 1; /* not dialled yet */
  list_append(&s->calls, &c->le, c);
  if (!s->up && s->connecting && !s->down_told) {
    /* The session was just opened and its first connection is being
     * made: the call waits for it (placed once it is up, failed over
     * if it cannot be made). */
    c->waiting = 1;
    return 0;
  }
  if (!s->up) {
    /* Without events the call cannot be followed: another channel. */
    placed(c, VC_SEND_FAILOVER, VC_ENET, NULL,
           "the ARI event connection is down");
    c->gone[LEG_A] = 1;
    call_maybe_free(c);
    return 0;
  }
  if ((rc = originate(c, LEG_A, s->cfg->agent_endpoint, call->agent, NULL,
                      agent_originated, NULL)) < 0) {
    list_unlink(&c->le);
    vc__free(c);
    return rc;
  }
  return 0;
}

/* The calls that waited for the connection: placed now that it is up
 * (`up`), or failed over. */
static void start_waiting(ari_sess *s, int up)
{
  struct le *le = s->calls.head;

  while (le != NULL) {
    ari_call *c = le->data;
    le = le->next;
    if (!c->waiting)
      continue;
    c->waiting = 0;
    if (up && originate(c, LEG_A, s->cfg->agent_endpoint, c->agent, NULL,
                        agent_originated, NULL) == 0)
      continue;
    placed(c, up ? VC_SEND_RETRY : VC_SEND_FAILOVER, VC_ENET, NULL,
           up ? vc_error_last()->message
              : "the ARI event connection could not be made");
    c->gone[LEG_A] = 1;
    call_maybe_free(c);
  }
}

/* ------------------------------------------------------------------ */
/* the bridge                                                          */

static void bridge_added(ari_req *r, int err, int status, const char *body,
                         size_t len);

static void bridge_made(ari_req *r, int err, int status, const char *body,
                        size_t len)
{
  ari_call *c = find_call(r->s, r->call_id);
  char both[ID_MAX * 2 + 2];

  VC_UNUSED(body);
  VC_UNUSED(len);
  if (c == NULL || c->ending)
    return;
  if (err != 0 || status < 200 || status >= 300) {
    bridge_added(r, err, status ? status : 599, body, len);
    return;
  }
  snprintf(both, sizeof(both), "%s,%s", c->chan[LEG_A], c->chan[LEG_C]);
  if (vc__ari_rest(c->s, VC__ARI_BRIDGE_ADD, c->bridge, both, NULL, bridge_added,
           c->id, LEG_C, NULL) < 0)
    bridge_added(r, ENOMEM, 0, NULL, 0);
}

static void record_started(ari_req *r, int err, int status, const char *body,
                           size_t len);

static void bridge_added(ari_req *r, int err, int status, const char *body,
                         size_t len)
{
  ari_call *c = find_call(r->s, r->call_id);
  vc_call_update u;
  char eid[ID_MAX * 2], m[256];

  if (c == NULL || c->ending)
    return;
  if (err != 0 || status < 200 || status >= 300) {
    if (err != 0)
      snprintf(m, sizeof(m), "ARI bridge failed: %s", strerror(err));
    else
      vc__ari_error_text(m, sizeof(m), status, body, len);
    vc_session_log(c->s->host, VC_LOG_WARN, m);
    report_end(c, LEG_C, VC_CAUSE_PROVIDER_ERROR, "bridge failed",
               "bridge-failed", 0);
    tear_down(c);
    return;
  }
  c->bridged = 1;
  /* The customer answered and is bridged: the core's "bridged". */
  memset(&u, 0, sizeof(u));
  u.version = VC_CALL_UPDATE_VERSION;
  u.type = VC_UPDATE_ANSWERED;
  u.call_id = c->id;
  u.leg = VC_LEG_CUSTOMER;
  u.leg_provider_id = c->chan[LEG_C];
  u.jitter_ms = u.packet_loss_pct = u.rtt_ms = u.mos = -1;
  snprintf(eid, sizeof(eid), "ari:%s:bridged", c->chan[LEG_C]);
  u.event_id = eid;
  report(c, &u);
  if (c->record) {
    snprintf(c->rec, sizeof(c->rec), "vc-%s-r%d", c->id, ++c->recs);
    (void)vc__ari_rest(c->s, VC__ARI_RECORD, c->bridge, c->rec, NULL, record_started,
               c->id, 0, NULL);
  }
}

static void make_bridge(ari_call *c)
{
  snprintf(c->bridge, sizeof(c->bridge), "vc-%s-b", c->id);
  if (vc__ari_rest(c->s, VC__ARI_BRIDGE_NEW, NULL, c->bridge, NULL, bridge_made,
           c->id, LEG_C, NULL) < 0) {
    report_end(c, LEG_C, VC_CAUSE_PROVIDER_ERROR, "bridge failed",
               "bridge-failed", 0);
    tear_down(c);
  }
}

/* A transfer's target answered: it takes the agent's place. */
static void target_added(ari_req *r, int err, int status, const char *body,
                         size_t len)
{
  ari_call *c = find_call(r->s, r->call_id);

  VC_UNUSED(body);
  VC_UNUSED(len);
  if (c == NULL || c->ending || (err == 0 && status >= 200 && status < 300))
    return;
  report_end(c, LEG_C, VC_CAUSE_PROVIDER_ERROR, "bridge failed",
             "transfer-bridge-failed", 0);
  tear_down(c);
}

/* ------------------------------------------------------------------ */
/* events                                                              */

/* A leg answered (StasisStart, or found Up at a resync). */
static void answered(ari_call *c, int leg, const vc__ari_event *ev)
{
  vc_call_update u;
  char eid[ID_MAX * 2];
  vc_buf url = VC_BUF_INIT;

  if (c->up[leg] || c->ending)
    return;
  c->up[leg] = 1;
  if (leg == LEG_A) {
    if (vc__ari_event_update(&u, ev, c->id, VC_LEG_AGENT, eid, sizeof(eid),
                             &url, c->s->cfg) == 0) {
      u.type = VC_UPDATE_ANSWERED;
      report(c, &u);
    }
    snprintf(c->chan[LEG_C], ID_MAX, "vc-%s-c", c->id);
    c->gone[LEG_C] = 0;
    if (originate(c, LEG_C, c->s->cfg->customer_endpoint, c->customer,
                  c->chan[LEG_A], leg_originated, NULL) < 0) {
      c->gone[LEG_C] = 1;
      report_end(c, LEG_C, VC_CAUSE_PROVIDER_ERROR, "originate failed",
                 "originate-failed", ev->at_ms);
      tear_down(c);
    }
  } else if (leg == LEG_C) {
    make_bridge(c);
  } else {
    /* A transfer's target: into the bridge in the agent's place. */
    (void)vc__ari_rest(c->s, VC__ARI_BRIDGE_ADD, c->bridge, c->chan[LEG_T], NULL,
               target_added, c->id, LEG_T, NULL);
  }
  vc_buf_dispose(&url);
}

static void destroyed(ari_call *c, int leg, const vc__ari_event *ev)
{
  vc_call_update u;
  vc__ari_event e = *ev;
  char eid[ID_MAX * 2];
  vc_buf url = VC_BUF_INIT;

  if (c->gone[leg])
    return;
  c->gone[leg] = 1;
  /* A destroyed channel may say 0 where its hangup request said why. */
  if (e.cause == 0 && c->hup_cause[leg] > 0)
    e.cause = c->hup_cause[leg];
  if (leg == LEG_T) {
    /* The transferred conversation ended (or never began): so does the
     * customer's leg, which is the call's now. */
    if (!c->gone[LEG_C]) {
      hang_up(c, LEG_C);
    }
    tear_down(c);
    return;
  }
  if (vc__ari_event_update(&u, &e, c->id, core_leg(leg), eid, sizeof(eid),
                           &url, c->s->cfg) == 0)
    report(c, &u);
  vc_buf_dispose(&url);
  /* After a transfer the agent's end is expected; the customer goes on. */
  if (leg == LEG_A && c->transfers > 0 && !c->gone[LEG_C])
    return;
  tear_down(c);
}

static void on_event(ari_sess *s, const vc__ari_event *ev)
{
  ari_call *c = NULL;
  vc_call_update u;
  vc_buf url = VC_BUF_INIT;
  char eid[ID_MAX * 2];
  int leg = 0;

  if (vc__ari_in_event(s, ev))
    return; /* an inbound call's (ari_inbound.c) */

  if (ev->type == VC__ARI_EV_REC_STARTED || ev->type == VC__ARI_EV_REC_FINISHED
      || ev->type == VC__ARI_EV_REC_FAILED) {
    if ((c = call_of_recording(s, ev->recording)) == NULL)
      return;
    if (ev->type != VC__ARI_EV_REC_STARTED && strcmp(c->rec, ev->recording) == 0)
      c->rec[0] = '\0';
    if (vc__ari_event_update(&u, ev, c->id, VC_LEG_NONE, eid, sizeof(eid),
                             &url, s->cfg) == 0)
      report(c, &u);
    vc_buf_dispose(&url);
    call_maybe_free(c);
    return;
  }
  if (ev->channel_id[0] == '\0' ||
      (c = call_of_channel(s, ev->channel_id, &leg)) == NULL)
    return; /* not ours: another application's channel */
  c->heard[leg] = 1;
  switch (ev->type) {
  case VC__ARI_EV_STASIS_START:
    /* Ours carry the call id first; anything else is not our call. */
    if (strcmp(ev->arg0, c->id) == 0)
      answered(c, leg, ev);
    break;
  case VC__ARI_EV_STATE:
    if (leg != LEG_T && !c->up[leg] &&
        vc__ari_event_update(&u, ev, c->id, core_leg(leg), eid, sizeof(eid),
                             &url, s->cfg) == 0 && u.type != 0)
      report(c, &u);
    break;
  case VC__ARI_EV_HANGUP_REQUEST:
    if (ev->cause > 0)
      c->hup_cause[leg] = ev->cause;
    break;
  case VC__ARI_EV_DESTROYED:
    destroyed(c, leg, ev);
    break;
  case VC__ARI_EV_DTMF:
    if (vc__ari_event_update(&u, ev, c->id,
                             leg == LEG_A ? VC_LEG_AGENT : VC_LEG_CUSTOMER,
                             eid, sizeof(eid), &url, s->cfg) == 0)
      report(c, &u);
    break;
  default:
    break;
  }
  vc_buf_dispose(&url);
  call_maybe_free(c);
}

static void call_maybe_free(ari_call *c)
{
  if (c == NULL || !c->placed)
    return;
  for (int i = 0; i < LEGS; i++)
    if (!c->gone[i])
      return;
  if (c->rec[0] != '\0')
    return; /* its RecordingFinished is still to come */
  for (struct le *le = c->s->reqs.head; le != NULL; le = le->next) {
    ari_req *r = le->data;
    if (strcmp(r->call_id, c->id) == 0 && r->done != vc__ari_ignore_done)
      return;
  }
  list_unlink(&c->le);
  vc__free(c);
}

/* ------------------------------------------------------------------ */
/* the WebSocket                                                       */

static void resynced(ari_req *r, int err, int status, const char *body,
                     size_t len)
{
  ari_call *c = find_call(r->s, r->call_id);
  vc__ari_event ev;

  if (c == NULL || c->gone[r->leg] || err != 0)
    return; /* no answer: the next reconnect asks again */
  if (status == 404) {
    /* Gone while we were away, cause unknown: normal for a leg that
     * had answered, else a provider error (we never saw why). */
    c->gone[r->leg] = 1;
    if (r->leg != LEG_T)
      report_end(c, r->leg, c->up[r->leg] ? VC_CAUSE_NORMAL
                                          : VC_CAUSE_PROVIDER_ERROR,
                 "gone at resync", "resync-gone", 0);
    if (!(r->leg == LEG_A && c->transfers > 0))
      tear_down(c);
    call_maybe_free(c);
    return;
  }
  if (status < 200 || status >= 300 || body == NULL)
    return;
  /* Alive: a leg that answered meanwhile goes on as if we had seen its
   * StasisStart (the channel model is the event's "channel"). */
  {
    vc_buf wrapped = VC_BUF_INIT;
    if (vc__buf_puts(&wrapped, "{\"type\":\"StasisStart\",\"args\":[\"") == 0
        && vc__buf_puts(&wrapped, c->id) == 0 &&
        vc__buf_puts(&wrapped, "\"],\"channel\":") == 0 &&
        vc__buf_put(&wrapped, body, len) == 0 &&
        vc__buf_puts(&wrapped, "}") == 0 &&
        vc__ari_event_parse(&ev, wrapped.ptr, wrapped.size) == 0 &&
        strcmp(ev.channel_id, c->chan[r->leg]) == 0 &&
        strcmp(ev.channel_state, "Up") == 0)
      answered(c, r->leg, &ev);
    vc_buf_dispose(&wrapped);
  }
}

static void resync(ari_sess *s)
{
  for (struct le *le = s->calls.head; le != NULL; le = le->next) {
    ari_call *c = le->data;
    for (int i = 0; i < LEGS; i++)
      if (c->chan[i][0] != '\0' && !c->gone[i] && c->placed)
        (void)vc__ari_rest(s, VC__ARI_CHANNEL_GET, c->chan[i], NULL, NULL, resynced,
                   c->id, i, NULL);
  }
}

static void ws_estab(void *arg)
{
  ari_sess *s = arg;

  s->up = 1;
  s->connecting = 0;
  s->down_told = 0;
  s->backoff_ms = BACKOFF_MIN_MS;
  vc_session_link(s->host, 1, "ARI events connected");
  resync(s);
  vc__ari_in_resync(s);
  start_waiting(s, 1);
}

static void ws_recv(const struct websock_hdr *hdr, struct mbuf *mb, void *arg)
{
  ari_sess *s = arg;
  vc__ari_event ev;
  size_t len = mbuf_get_left(mb);

  if (hdr->opcode != WEBSOCK_TEXT || !hdr->fin) {
    s->dropped++;
    vc_session_log(s->host, VC_LOG_WARN,
                   "ARI event dropped: not a whole text message");
    return;
  }
  if (vc__ari_event_parse(&ev, (const char *)mbuf_buf(mb), len) < 0) {
    char m[320];
    s->dropped++;
    snprintf(m, sizeof(m), "ARI event dropped: %s", vc_error_last()->message);
    vc_session_log(s->host, VC_LOG_WARN, m);
    return;
  }
  on_event(s, &ev);
}

static void retry_tmr(void *arg)
{
  ws_connect(arg);
}

static void ws_down(ari_sess *s, const char *why)
{
  int was_up = s->up;

  s->up = 0;
  s->connecting = 0;
  s->conn = mem_deref(s->conn);
  if (was_up || !s->down_told) {
    s->down_told = 1;
    vc_session_link(s->host, 0, why);
  }
  start_waiting(s, 0);
  tmr_start(&s->retry, (uint64_t)s->backoff_ms, retry_tmr, s);
  s->backoff_ms = s->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS
                                                     : s->backoff_ms * 2;
}

static void ws_close(int err, void *arg)
{
  char why[96];

  snprintf(why, sizeof(why), "ARI events connection lost: %s",
           err ? strerror(err) : "closed by Asterisk");
  ws_down(arg, why);
}

static void ws_connect(ari_sess *s)
{
  vc_buf url = VC_BUF_INIT;
  const char *method;
  int err;

  if (vc__ari_url(&url, &method, s->cfg, VC__ARI_EVENTS, NULL, NULL,
                  NULL) < 0) {
    vc_buf_dispose(&url);
    ws_down(s, "ARI events URL could not be built");
    return;
  }
  s->connecting = 1;
  err = websock_connect(&s->conn, s->ws, s->http, url.ptr, KEEPALIVE_MS,
                        ws_estab, ws_recv, ws_close, s,
                        "Authorization: %s\r\n", s->cfg->authorization);
  vc_buf_dispose(&url);
  if (err != 0) {
    char why[96];
    snprintf(why, sizeof(why), "ARI events connection failed: %s",
             strerror(err));
    ws_down(s, why);
  }
}

/* ------------------------------------------------------------------ */
/* operations                                                          */

static void op_answer(ari_req *r, int outcome, int error, const char *msg)
{
  vc_send_result res;

  result_of(&res, outcome, error, NULL, msg);
  vc_session_done(r->s->host, r->token, &res);
}

/* 2xx accepted; 404 on a hangup: gone already; 4xx refused; 5xx and
 * no answer retried. */
static int op_outcome(int op, int err, int status)
{
  if (err != 0 || status == 429 || status >= 500)
    return VC_SEND_RETRY;
  if ((status >= 200 && status < 300) ||
      (status == 404 && (op == VC_CALL_OP_HANGUP ||
                         op == VC_CALL_OP_DELETE_RECORDING)))
    return VC_SEND_ACCEPTED;
  return VC_SEND_REJECTED;
}

static int op_next(ari_req *r, ari_call *c);

static void op_done(ari_req *r, int err, int status, const char *body,
                    size_t len)
{
  ari_call *c = find_call(r->s, r->call_id);
  int outcome = op_outcome(r->op, err, status);
  char m[256];

  if (outcome != VC_SEND_ACCEPTED) {
    if (err != 0)
      snprintf(m, sizeof(m), "ARI unreachable: %s", strerror(err));
    else
      vc__ari_error_text(m, sizeof(m), status, body, len);
    op_answer(r, outcome, outcome == VC_SEND_RETRY ? VC_ENET
                                                   : VC_EPROVIDER, m);
    call_maybe_free(c);
    return;
  }
  if (c != NULL && r->step > 0) {
    /* The next request of the operation carries its answer on. */
    if (op_next(r, c) == 0)
      return;
    op_answer(r, VC_SEND_RETRY, VC_ENET, vc_error_last()->message);
    return;
  }
  if (c != NULL && r->op == VC_CALL_OP_TRANSFER) {
    /* The target is dialled: the agent is released. */
    c->transfers++;
    hang_up(c, LEG_A);
  }
  if (c != NULL && (r->op == VC_CALL_OP_HOLD || r->op == VC_CALL_OP_UNHOLD))
    c->held = r->op == VC_CALL_OP_HOLD;
  op_answer(r, VC_SEND_ACCEPTED, 0, NULL);
  call_maybe_free(c);
}

/* The operations of more than one request, as steps counting down:
 * hold = take the customer out of the bridge, then music on hold;
 * unhold = stop the music, then back into the bridge. */
static int op_next(ari_req *r, ari_call *c)
{
  ari_req *n;
  int kind, step = r->step - 1, rc;
  const char *a = c->chan[LEG_C], *b = NULL;

  if (r->op == VC_CALL_OP_HOLD) {
    kind = step == 0 ? VC__ARI_MOH_START : VC__ARI_BRIDGE_REMOVE;
    if (kind == VC__ARI_BRIDGE_REMOVE)
      a = c->bridge, b = c->chan[LEG_C];
  } else {
    kind = step == 0 ? VC__ARI_BRIDGE_ADD : VC__ARI_MOH_STOP;
    if (kind == VC__ARI_BRIDGE_ADD)
      a = c->bridge, b = c->chan[LEG_C];
  }
  if ((rc = vc__ari_rest(r->s, kind, a, b, NULL, op_done, c->id, LEG_C, &n)) < 0)
    return rc;
  n->op = r->op;
  n->token = r->token;
  n->step = step;
  return 0;
}

static int unsupported(const char *what)
{
  return vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTSUPPORTED,
                       "asterisk-ari cannot %s", what);
}

static int ari_operation(void *session, const vc_call_control *ctl,
                         uint64_t token)
{
  ari_sess *s = session;
  ari_call *c;
  ari_req *r = NULL, first;
  int rc = 0, leg;

  if (ctl == NULL || ctl->call_id == NULL)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "an operation needs its call");
  if (ctl->op == VC_CALL_OP_DELETE_RECORDING) {
    if (ctl->recording_id == NULL)
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "delete_recording needs a recording id");
    rc = vc__ari_rest(s, VC__ARI_RECORDING_DELETE, ctl->recording_id, NULL, NULL,
              op_done, ctl->call_id, 0, &r);
    goto started;
  }
  c = find_call(s, ctl->call_id);
  if (c == NULL) {
    if (ctl->op != VC_CALL_OP_HANGUP || ctl->provider_call_id == NULL)
      return vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                           "call '%.64s' is not live on this session",
                           ctl->call_id);
    /* Not ours any more (a restart): hang up the channel it names. */
    rc = vc__ari_rest(s, VC__ARI_HANGUP, ctl->provider_call_id, NULL, NULL, op_done,
              ctl->call_id, 0, &r);
    goto started;
  }
  switch (ctl->op) {
  case VC_CALL_OP_HANGUP:
    /* The channel it names, and with the agent's every other leg. */
    if (ctl->provider_call_id != NULL &&
        call_of_channel(s, ctl->provider_call_id, &leg) == c &&
        leg != LEG_A) {
      rc = vc__ari_rest(s, VC__ARI_HANGUP, c->chan[leg], NULL, NULL, op_done, c->id,
                leg, &r);
      break;
    }
    rc = vc__ari_rest(s, VC__ARI_HANGUP, c->chan[LEG_A], NULL, NULL, op_done, c->id,
              LEG_A, &r);
    if (rc == 0) {
      hang_up(c, LEG_C);
      hang_up(c, LEG_T);
    }
    break;
  case VC_CALL_OP_HOLD:
  case VC_CALL_OP_UNHOLD:
    if (!c->bridged || c->gone[LEG_C])
      return vc__error_set(VC_ERRCLASS_INVALID, VC_ESTATE,
                           "the call is not bridged");
    memset(&first, 0, sizeof(first));
    first.s = s;
    first.op = ctl->op;
    first.token = token;
    first.step = 2;
    return op_next(&first, c);
  case VC_CALL_OP_TRANSFER: {
    const char *tmpl;
    if (ctl->target == NULL || !c->bridged || c->gone[LEG_C] ||
        c->chan[LEG_T][0] != '\0')
      return vc__error_set(VC_ERRCLASS_INVALID, VC_ESTATE,
                           "a transfer needs a bridged call and a target "
                           "(once per call)");
    /* A sip: target is a PBX user: the agent template; a number goes
     * out the trunk: the customer's. */
    tmpl = strncmp(ctl->target, "sip:", 4) == 0 ? s->cfg->agent_endpoint
                                                : s->cfg->customer_endpoint;
    snprintf(c->chan[LEG_T], ID_MAX, "vc-%s-t", c->id);
    c->gone[LEG_T] = 0;
    rc = originate(c, LEG_T, tmpl, ctl->target, c->chan[LEG_C], op_done,
                   &r);
    if (rc < 0) {
      c->chan[LEG_T][0] = '\0';
      c->gone[LEG_T] = 1;
    }
    break;
  }
  case VC_CALL_OP_RECORD_START:
    if (!c->bridged || c->rec[0] != '\0')
      return vc__error_set(VC_ERRCLASS_INVALID, VC_ESTATE,
                           "the call is not bridged or already recorded");
    snprintf(c->rec, sizeof(c->rec), "vc-%s-r%d", c->id, ++c->recs);
    rc = vc__ari_rest(s, VC__ARI_RECORD, c->bridge, c->rec, NULL, op_done, c->id, 0,
              &r);
    if (rc < 0)
      c->rec[0] = '\0';
    break;
  case VC_CALL_OP_RECORD_STOP:
    if (c->rec[0] == '\0')
      return vc__error_set(VC_ERRCLASS_INVALID, VC_ESTATE,
                           "the call is not being recorded");
    rc = vc__ari_rest(s, VC__ARI_RECORD_STOP, c->rec, NULL, NULL, op_done, c->id, 0,
              &r);
    break;
  default:
    return unsupported("do this operation");
  }
started:
  if (rc < 0)
    return rc;
  if (r != NULL) {
    r->op = ctl->op;
    r->token = token;
  }
  return 0;
}

/* A recording started with the call (record from the bridge on). */
static void record_started(ari_req *r, int err, int status, const char *body,
                           size_t len)
{
  ari_call *c = find_call(r->s, r->call_id);
  char m[256];

  if (c == NULL || (err == 0 && status >= 200 && status < 300))
    return;
  if (err != 0)
    snprintf(m, sizeof(m), "ARI recording failed: %s", strerror(err));
  else
    vc__ari_error_text(m, sizeof(m), status, body, len);
  vc_session_log(r->s->host, VC_LOG_WARN, m);
  c->rec[0] = '\0';
  call_maybe_free(c);
}

/* ------------------------------------------------------------------ */
/* open / close                                                        */

static bool refuse_send(int *err, struct mbuf *mb, void *arg)
{
  VC_UNUSED(mb);
  VC_UNUSED(arg);
  *err = ECONNABORTED;
  return true;
}

/* A client's Close frame, status 1001, masked (RFC 6455 5.5.1). */
static void send_going_away(struct tcp_conn *tc)
{
  uint8_t f[8];
  uint32_t k = rand_u32();
  struct mbuf *mb = mbuf_alloc(sizeof(f));

  f[0] = 0x88;                 /* FIN, Close */
  f[1] = 0x80 | 2;             /* masked, 2 bytes */
  f[2] = (uint8_t)(k >> 24);
  f[3] = (uint8_t)(k >> 16);
  f[4] = (uint8_t)(k >> 8);
  f[5] = (uint8_t)k;
  f[6] = (uint8_t)(0x03 ^ f[2]);   /* 1001 */
  f[7] = (uint8_t)(0xe9 ^ f[3]);
  if (mb == NULL)
    return;
  if (mbuf_write_mem(mb, f, sizeof(f)) == 0) {
    mb->pos = 0;
    (void)tcp_send(tc, mb);
  }
  mem_deref(mb);
}

static void ari_close(void *session)
{
  ari_sess *s = session;
  struct le *le;

  if (s == NULL)
    return;
  tmr_cancel(&s->retry);
  while ((le = s->reqs.head) != NULL)
    req_free(le->data);
  while ((le = s->calls.head) != NULL) {
    list_unlink(le);
    vc__free(le->data);
  }
  vc__ari_in_close(s);
  if (s->conn != NULL && websock_tcp(s->conn) != NULL) {
    /* libre keeps an open WebSocket alive after its last reference until
     * the peer answers its Close frame (up to 10 s, on this loop's
     * timers); a session closes as its context ends, when the loop stops
     * too, which would abandon the connection (a leak). So the Close
     * (1001, going away) is sent here, and a helper that refuses every
     * later send makes libre's own fail: libre then releases the
     * connection at once, and Asterisk sees the Close and the TCP end. */
    if (s->up)
      send_going_away(websock_tcp(s->conn));
    (void)tcp_register_helper(NULL, websock_tcp(s->conn), 1 << 30, NULL,
                              refuse_send, NULL, NULL);
  }
  s->conn = mem_deref(s->conn);
  s->ws = mem_deref(s->ws);
  s->http = mem_deref(s->http);
  s->dnsc = mem_deref(s->dnsc);
  vc__free(s);
}

static int ari_open(void **session, void *adapter_state,
                    vc_session_host *host)
{
  ari_sess *s;
  struct sa ns[4];
  uint32_t nsn = VC_ARRAY_SIZE(ns);
  char domain[64] = "";
  int err;

  *session = NULL;
  if ((s = vc__calloc(1, sizeof(*s))) == NULL)
    return vc_error_set_oom();
  s->cfg = adapter_state;
  s->host = host;
  s->backoff_ms = BACKOFF_MIN_MS;
  list_init(&s->calls);
  list_init(&s->reqs);
  list_init(&s->incalls);
  tmr_init(&s->retry);
  /* An IP literal needs no DNS; a host name is resolved by libre's
   * client against the system's name servers. */
  if (dns_srv_get(domain, sizeof(domain), ns, &nsn) != 0 || nsn == 0) {
    sa_set_str(&ns[0], "127.0.0.1", 53);
    nsn = 1;
  }
  if ((err = dnsc_alloc(&s->dnsc, NULL, ns, nsn)) != 0 ||
      (err = http_client_alloc(&s->http, s->dnsc)) != 0 ||
      (err = websock_alloc(&s->ws, NULL, NULL)) != 0) {
    ari_close(s);
    return vc__error_set(VC_ERRCLASS_NET, VC_ENET,
                         "asterisk-ari session could not start: %s",
                         strerror(err));
  }
  if (strncmp(s->cfg->base_url, "https://", 8) == 0)
    (void)http_client_add_ca(s->http, "/etc/ssl/certs/ca-certificates.crt");
  *session = s;
  ws_connect(s);
  return 0;
}

const vc_session_ops vc__ari_session_ops = {
  VC_SESSION_OPS_VERSION, ari_open, ari_close, ari_place_call, ari_operation,
  vc__ari_run_script
};

const vc_adapter vc__adapter_asterisk_ari = {
  .version = VC_ADAPTER_VERSION,
  .name = "asterisk-ari",
  .kind = VC_CHANNEL_VOICE,
  .capabilities = VC_CAP_CALL_HANGUP | VC_CAP_CALL_HOLD |
                  VC_CAP_CALL_TRANSFER | VC_CAP_CALL_RECORD |
                  VC_CAP_RECORDING_DELETE,
  .init = vc__ari_init,
  .fini = vc__ari_fini,
  .session = &vc__ari_session_ops,
};
