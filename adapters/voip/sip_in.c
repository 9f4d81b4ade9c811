/*
 * Calls the SIP adapter takes: an INVITE to one of the channel's numbers
 * (vyomcomm/sys/transport.h, vc_session_incoming and run_script). The
 * core routes the number and answers with a script; this file runs it
 * on the caller's dialog, without media of its own (docs/calls.md, "SIP
 * inbound"):
 *
 *   - the caller gets 100 Trying and 180 Ringing at once, and our 200
 *     (an answer to its offer that is a=inactive: silence both ways) at
 *     the first step that needs the call answered;
 *   - GATHER collects keys the caller sends as SIP INFO
 *     (application/dtmf-relay or application/dtmf); SAY, PLAY and the
 *     music of HOLD are skipped (logged); PAUSE waits; RECORD cannot be
 *     done and reports a failed recording to its action;
 *   - DIAL connects the caller to the agent by third-party call control
 *     as placed calls do (sip.c): an INVITE to the agent without SDP,
 *     its offer re-INVITEd to the caller, the caller's answer re-INVITEd
 *     to the agent. The agent's leg ending (busy, no answer, hung up)
 *     does not end the caller's: its action says what comes next.
 *
 * Calls are taken only from the peers the channel names
 * (config.inbound_peers, by default the proxy's address).
 */
#include "core/common.h"
#include "core/buf.h"
#include "adapters/common.h"
#include "adapters/voip/sip_int.h"

#include <arpa/inet.h>
#include <cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#define BAD_INPUT(...) \
  vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID, __VA_ARGS__)

#define INBOUND_MAX 64           /* live calls taken per session */
#define STEPS_MAX 64             /* steps of one script */
#define SCRIPT_TEXT_MAX 65536    /* the strings of one script, bytes */
#define KEYS_MAX 64              /* keys one GATHER collects */
#define AHEAD_MAX 16             /* keys pressed before a GATHER */
#define CORE_WAIT_MS 30000       /* the core's answer to an arrival or fetch */
#define ZOMBIE_MS 60000          /* a caller gone before its first script */
#define REDIRECT_GAP_MS 1000     /* between two fetches of one call */
#define PAUSE_MAX_S 600
#define GATHER_DEFAULT_S 5
#define GATHER_MAX_S 120
#define ALLOW_HDR "Allow: INVITE, ACK, BYE, CANCEL, INFO, OPTIONS\r\n"

/* What a call taken waits for. */
enum { W_NONE = 0, W_CORE, W_PAUSE, W_GATHER, W_HOLD, W_REDIRECT, W_DIAL };

/* Where the DIAL of a call taken stands. */
enum { DIAL_NONE = 0, DIAL_RINGING, DIAL_LINKING, DIAL_BRIDGING,
       DIAL_BRIDGED };

struct sip_in {
  sip_call *call;
  vc_call_step *steps;       /* a copy of the script */
  size_t nsteps, pc;
  char *text;                /* the copy's strings */
  int waiting;               /* W_* */
  struct tmr step_tmr;       /* pause, gather, redirect, the core's answer */
  uint64_t last_fetch;       /* tmr_jiffies() */
  char keys[KEYS_MAX + 1];
  size_t nkeys;
  char ahead[AHEAD_MAX + 1];
  size_t nahead;
  char *offer;               /* the caller's offer in its INVITE */
  size_t offer_len;
  int answered, acked;       /* our 200 sent; its ACK came */
  int gone;                  /* the caller's leg is over */
  int end_cause, reported;
  char end_code[16];
  /* DIAL */
  int dial;                  /* DIAL_* */
  int link_pending;          /* link the caller once it ACKs */
  char *dial_action;
  int dial_limit_s;
};

static void in_step(sip_call *call);
static void zombie_done(void *arg);
static void in_hangup_call(sip_call *call, int cause, int scode,
                           const char *reason);

/* ------------------------------------------------------------------ */
/* configuration                                                       */

/* The host of a sip: URI when it is an IP address: "" otherwise. */
static void uri_ip_host(char *out, size_t cap, const char *uri)
{
  const char *h = strchr(uri, '@'), *end;
  unsigned char bin[16];
  char host[VC__SIP_PEER_MAX + 1];
  size_t n;

  out[0] = '\0';
  h = h ? h + 1 : uri + 4;
  if (*h == '[') {
    h++;
    end = strchr(h, ']');
  } else {
    end = h + strcspn(h, ":;?");
  }
  if (end == NULL || (n = (size_t)(end - h)) == 0 || n >= sizeof(host))
    return;
  memcpy(host, h, n);
  host[n] = '\0';
  if ((inet_pton(AF_INET, host, bin) == 1 ||
       inet_pton(AF_INET6, host, bin) == 1) && n < cap)
    strcpy(out, host);
}

int vc__sip_in_config(sip_cfg *c, const cJSON *cfg)
{
  const cJSON *in = cJSON_GetObjectItemCaseSensitive(cfg, "inbound");
  const cJSON *peers = cJSON_GetObjectItemCaseSensitive(cfg,
                                                        "inbound_peers");
  const cJSON *p;

  if (in != NULL && !cJSON_IsNull(in) && !cJSON_IsBool(in))
    return BAD_INPUT("config.inbound must be true or false");
  c->inbound = in != NULL && cJSON_IsTrue(in);
  if (peers != NULL && !cJSON_IsNull(peers)) {
    if (!cJSON_IsArray(peers) || cJSON_GetArraySize(peers) < 1 ||
        cJSON_GetArraySize(peers) > VC__SIP_PEERS_MAX)
      return BAD_INPUT("config.inbound_peers must be a list of 1 to %d "
                       "IP addresses, or [\"*\"]", VC__SIP_PEERS_MAX);
    cJSON_ArrayForEach(p, peers) {
      unsigned char bin[16];
      const char *v = cJSON_IsString(p) ? p->valuestring : NULL;
      if (v != NULL && strcmp(v, "*") == 0) {
        c->any_peer = 1;
        continue;
      }
      if (v == NULL || strlen(v) > VC__SIP_PEER_MAX ||
          (inet_pton(AF_INET, v, bin) != 1 &&
           inet_pton(AF_INET6, v, bin) != 1))
        return BAD_INPUT("config.inbound_peers[%zu] must be an IPv4 or "
                         "IPv6 address, or \"*\"", c->npeers);
      strcpy(c->peers[c->npeers++], v);
    }
    if (c->any_peer && c->npeers > 0)
      return BAD_INPUT("config.inbound_peers: \"*\" stands alone");
  }
  if (!c->inbound)
    return 0;
  if (!c->any_peer && c->npeers == 0) {
    /* By default calls come through the trunk we send ours to. */
    if (c->proxy != NULL)
      uri_ip_host(c->peers[0], sizeof(c->peers[0]), c->proxy);
    if (c->proxy == NULL || c->peers[0][0] == '\0')
      return BAD_INPUT("config.inbound needs config.inbound_peers (the "
                       "addresses calls come from) unless config.proxy "
                       "is given as an IP address");
    c->npeers = 1;
  }
  return 0;
}

static int peer_allowed(const sip_cfg *c, const struct sa *src)
{
  if (c->any_peer)
    return 1;
  for (size_t i = 0; i < c->npeers; i++) {
    struct sa p;
    if (sa_set_str(&p, c->peers[i], 0) == 0 && sa_cmp(&p, src, SA_ADDR))
      return 1;
  }
  return 0;
}

/* ------------------------------------------------------------------ */
/* the script's copy                                                   */

static void script_free(sip_in *in)
{
  vc__free(in->steps);
  vc__free(in->text);
  in->steps = NULL;
  in->text = NULL;
  in->nsteps = in->pc = 0;
}

static size_t str_size(const char *s)
{
  return s ? strnlen(s, SCRIPT_TEXT_MAX + 1) + 1 : 0;
}

static const char *put_str(char **at, const char *s)
{
  char *p = *at;
  size_t n;

  if (s == NULL)
    return NULL;
  n = strlen(s) + 1;
  memcpy(p, s, n);
  *at += n;
  return p;
}

/* Copy `sc` (bounded) over the call's script. */
static int script_copy(sip_in *in, const vc_call_script *sc)
{
  vc_call_step *steps;
  char *text = NULL, *at;
  size_t total = 0;

  if (sc->version < 1 || (sc->nsteps > 0 && sc->steps == NULL))
    return BAD_INPUT("sip: a malformed script");
  if (sc->nsteps > STEPS_MAX)
    return BAD_INPUT("sip: a script of %zu steps (at most %d)", sc->nsteps,
                     STEPS_MAX);
  for (size_t i = 0; i < sc->nsteps; i++) {
    const vc_call_step *st = &sc->steps[i];
    const char *strs[] = { st->text, st->language, st->url,
                           st->finish_on_key, st->action_url, st->target,
                           st->caller_id, st->status_url, st->answer_url };
    for (size_t k = 0; k < VC_ARRAY_SIZE(strs); k++)
      total += str_size(strs[k]);
    if (total > SCRIPT_TEXT_MAX)
      return BAD_INPUT("sip: a script's text is over %d bytes",
                       SCRIPT_TEXT_MAX);
  }
  if ((steps = vc__calloc(sc->nsteps ? sc->nsteps : 1,
                          sizeof(*steps))) == NULL ||
      (total > 0 && (text = vc__malloc(total)) == NULL)) {
    vc__free(steps);
    return vc_error_set_oom();
  }
  at = text;
  for (size_t i = 0; i < sc->nsteps; i++) {
    const vc_call_step *st = &sc->steps[i];
    steps[i] = *st;
    steps[i].text = put_str(&at, st->text);
    steps[i].language = put_str(&at, st->language);
    steps[i].url = put_str(&at, st->url);
    steps[i].finish_on_key = put_str(&at, st->finish_on_key);
    steps[i].action_url = put_str(&at, st->action_url);
    steps[i].target = put_str(&at, st->target);
    steps[i].caller_id = put_str(&at, st->caller_id);
    steps[i].status_url = put_str(&at, st->status_url);
    steps[i].answer_url = put_str(&at, st->answer_url);
  }
  script_free(in);
  in->steps = steps;
  in->nsteps = sc->nsteps;
  in->text = text;
  in->pc = 0;
  return 0;
}

/* ------------------------------------------------------------------ */
/* reporting                                                           */

static void in_log(sip_call *call, int level, const char *what,
                   const char *why)
{
  char line[256];

  snprintf(line, sizeof(line), "sip: call %s: %s%s%s",
           call->call_id[0] ? call->call_id : "(not routed yet)", what,
           why ? ": " : "", why ? why : "");
  vc_session_log(call->s->host, level, line);
}

static void update_init(vc_call_update *u, sip_call *call, int type,
                        int leg)
{
  memset(u, 0, sizeof(*u));
  u->version = VC_CALL_UPDATE_VERSION;
  u->type = type;
  u->call_id = call->call_id;
  u->provider_call_id = call->provider_id;
  u->leg = leg;
  u->jitter_ms = u->packet_loss_pct = u->rtt_ms = u->mos = -1;
}

static void core_timeout(void *arg)
{
  sip_call *call = arg;

  in_log(call, VC_LOG_WARN, "the core did not answer in time",
         "the caller is hung up");
  in_hangup_call(call, VC_CAUSE_PROVIDER_ERROR, 503,
                 "Service Unavailable");
}

/* Ask the core for the next script (what `url` leads to). */
static void in_fetch(sip_call *call, const char *url,
                     const vc_call_update *u)
{
  sip_in *in = call->in;

  in->waiting = W_CORE;
  in->last_fetch = tmr_jiffies();
  tmr_start(&in->step_tmr, CORE_WAIT_MS, core_timeout, call);
  if (vc_session_fetch(call->s->host, call->call_id, url, u) < 0) {
    in_log(call, VC_LOG_WARN, "the next script could not be asked for",
           vc_error_last()->message);
    in_hangup_call(call, VC_CAUSE_PROVIDER_ERROR, 503,
                   "Service Unavailable");
  }
}

/* ------------------------------------------------------------------ */
/* the caller's leg                                                    */

/* Answer the caller (once): 200 with an answer to its offer that sends
 * and receives nothing. 0, or -1 when the call was hung up instead. */
static int answer_caller(sip_call *call)
{
  sip_in *in = call->in;
  vc_buf b = VC_BUF_INIT;
  struct mbuf *desc = NULL;
  int err;

  if (in->answered)
    return 0;
  if (vc__sip_sdp_inactive_answer(&b, in->offer, in->offer_len,
                                  &call->customer.origin) < 0 ||
      vc__sip_mbuf(&desc, &b) != 0) {
    vc_buf_dispose(&b);
    in_hangup_call(call, VC_CAUSE_PROVIDER_ERROR, 488, "Not Acceptable Here");
    return -1;
  }
  vc_buf_dispose(&b);
  err = sipsess_answer(call->customer.sess, 200, "OK", desc, ALLOW_HDR);
  mem_deref(desc);
  if (err != 0) {
    in_hangup_call(call, VC_CAUSE_PROVIDER_ERROR, 500, "Server Error");
    return -1;
  }
  in->answered = 1;
  call->customer.answered = 1;
  call->customer.answered_at = tmr_jiffies();
  return 0;
}

static void dial_end(sip_call *call, int cause, const char *code,
                     int fetch);

/*
 * The caller's leg is over (its BYE or CANCEL, or its ACK never came):
 * the agent's leg goes too, and the end is reported, now or, when the
 * core has not named the call yet, with its first script.
 */
static void caller_gone(sip_call *call, int cause, const char *code)
{
  sip_in *in = call->in;

  if (in->gone)
    return;
  in->gone = 1;
  in->waiting = W_NONE;
  tmr_cancel(&in->step_tmr);
  call->customer.ended = 1;
  in->end_cause = cause;
  snprintf(in->end_code, sizeof(in->end_code), "%s", code ? code : "");
  /* Who hung up first is told first. */
  if (call->call_id[0] != '\0') {
    in->reported = 1;
    vc__sip_report(call, VC_UPDATE_ENDED, VC_LEG_CUSTOMER, cause,
                   vc__sip_talk_s(&call->customer), code, NULL);
    call->ended = 1;
  }
  if (in->dial != DIAL_NONE)
    dial_end(call, call->agent.answered ? VC_CAUSE_NORMAL
                                        : VC_CAUSE_CANCELED, NULL, 0);
  vc__sip_leg_release(&call->customer);
  if (!call->ended)
    tmr_start(&in->step_tmr, ZOMBIE_MS, zombie_done, call);
}

static void zombie_done(void *arg)
{
  sip_call *call = arg;

  call->ended = 1;
  vc__sip_call_gc(call);
}

/*
 * Hang the caller up (a script's HANGUP, its end, an error): BYE once
 * answered, else the final status `scode`; the agent's leg goes too.
 */
static void in_hangup_call(sip_call *call, int cause, int scode,
                           const char *reason)
{
  sip_in *in = call->in;

  if (in->gone)
    return;
  if (!in->answered && call->customer.sess != NULL)
    (void)sipsess_reject(call->customer.sess, (uint16_t)scode, reason,
                         NULL);
  caller_gone(call, cause, NULL);
  if (!call->ended) {
    /* Not named by the core yet: nothing will ask for it. */
    tmr_cancel(&in->step_tmr);
    zombie_done(call);
  }
}

int vc__sip_in_hangup(sip_call *call)
{
  in_hangup_call(call, VC_CAUSE_API_HANGUP, 480, "Temporarily Unavailable");
  return 0;
}

static void caller_close(int err, const struct sip_msg *msg, void *arg)
{
  sip_leg *leg = arg;
  sip_call *call = CALL_OF(leg);
  char code[16] = "";
  int cause;

  if (call->in->gone)
    return;
  if (msg != NULL && !msg->req && msg->scode >= 100)
    snprintf(code, sizeof(code), "%u", msg->scode);
  if (call->in->answered)
    cause = err == ETIMEDOUT ? VC_CAUSE_PROVIDER_ERROR : VC_CAUSE_NORMAL;
  else
    cause = VC_CAUSE_CANCELED;  /* CANCEL before we answered */
  caller_gone(call, cause, code[0] ? code : NULL);
}

/* A key the caller pressed. */
static void gather_key(sip_call *call, char key);

static void caller_info(struct sip *sip, const struct sip_msg *msg,
                        void *arg)
{
  sip_leg *leg = arg;
  sip_call *call = CALL_OF(leg);
  char digit = 0;
  int rc;

  if (call->in->gone) {
    (void)sip_reply(sip, msg, 481, "Call Does Not Exist");
    return;
  }
  if (msg_ctype_cmp(&msg->ctyp, "application", "dtmf-relay"))
    rc = vc__sip_dtmf_relay(&digit, (const char *)mbuf_buf(msg->mb),
                            mbuf_get_left(msg->mb));
  else if (msg_ctype_cmp(&msg->ctyp, "application", "dtmf"))
    rc = vc__sip_dtmf_plain(&digit, (const char *)mbuf_buf(msg->mb),
                            mbuf_get_left(msg->mb));
  else {
    (void)sip_reply(sip, msg, 415, "Unsupported Media Type");
    return;
  }
  if (rc < 0) {
    (void)sip_reply(sip, msg, 400, "Bad DTMF Body");
    return;
  }
  (void)sip_reply(sip, msg, 200, "OK");
  gather_key(call, digit);
}

static int caller_offer(struct mbuf **descp, const struct sip_msg *msg,
                        void *arg)
{
  sip_leg *leg = arg;
  sip_call *call = CALL_OF(leg);
  vc_buf b = VC_BUF_INIT;
  int err;

  if (call->in->gone)
    return ECANCELED;
  /* Linked to the agent: the agent's description as it stands (the
   * offer is not relayed, as on placed calls). */
  if (call->in->dial >= DIAL_LINKING && call->offer != NULL)
    return vc__sip_leg_desc(descp, leg, VC__SDP_KEEP);
  if (vc__sip_sdp_inactive_answer(&b, (const char *)mbuf_buf(msg->mb),
                                  mbuf_get_left(msg->mb), &leg->origin) < 0)
    return EPROTO;
  err = vc__sip_mbuf(descp, &b);
  vc_buf_dispose(&b);
  return err;
}

/* The caller's answer to our re-INVITE. */
static int caller_answer(const struct sip_msg *msg, void *arg)
{
  sip_leg *leg = arg;
  sip_call *call = CALL_OF(leg);
  sip_in *in = call->in;
  int err;

  if (in->gone)
    return ECANCELED;
  if (leg->reinvites > 0)
    leg->reinvites--;
  if (in->dial != DIAL_LINKING)
    return 0;
  /* Its answer A1 to the agent's offer: now offered to the agent. */
  if ((err = vc__sip_keep_body(&call->answer, &call->answer_len, msg)) != 0)
    return err;
  if (vc__sip_reinvite(&call->agent, VC__SDP_KEEP) != 0) {
    in_log(call, VC_LOG_WARN, "the agent could not be re-INVITEd", NULL);
    dial_end(call, VC_CAUSE_PROVIDER_ERROR, "bridge", 1);
    return 0;
  }
  in->dial = DIAL_BRIDGING;
  return 0;
}

static void link_caller(sip_call *call);

static void caller_estab(const struct sip_msg *msg, void *arg)
{
  sip_leg *leg = arg;
  sip_call *call = CALL_OF(leg);

  (void)msg;
  if (call->in->gone)
    return;
  call->in->acked = 1;
  if (call->in->link_pending)
    link_caller(call);
}

/* ------------------------------------------------------------------ */
/* steps                                                               */

static void step_next(sip_call *call)
{
  call->in->pc++;
  call->in->waiting = W_NONE;
  in_step(call);
}

static void step_timer(void *arg)
{
  sip_call *call = arg;
  sip_in *in = call->in;

  if (in->waiting == W_PAUSE)
    step_next(call);
}

static void gather_done(sip_call *call);

static void gather_timer(void *arg)
{
  gather_done(arg);
}

static void redirect_timer(void *arg)
{
  sip_call *call = arg;
  const vc_call_step *st = &call->in->steps[call->in->pc];

  in_fetch(call, st->url, NULL);
}

static int gather_timeout_s(const vc_call_step *st)
{
  if (st->timeout_s <= 0)
    return GATHER_DEFAULT_S;
  return st->timeout_s > GATHER_MAX_S ? GATHER_MAX_S : st->timeout_s;
}

static void gather_done(sip_call *call)
{
  sip_in *in = call->in;
  const vc_call_step *st = &in->steps[in->pc];
  vc_call_update u;

  tmr_cancel(&in->step_tmr);
  in->waiting = W_NONE;
  if (in->nkeys == 0) {
    /* Nothing pressed: the script goes on; at its end the action hears
     * of nothing. */
    if (in->pc + 1 < in->nsteps || st->action_url == NULL) {
      step_next(call);
      return;
    }
    in_fetch(call, st->action_url, NULL);
    return;
  }
  in->keys[in->nkeys] = '\0';
  if (st->action_url == NULL) {
    step_next(call);
    return;
  }
  update_init(&u, call, VC_UPDATE_DTMF, VC_LEG_CUSTOMER);
  u.digits = in->keys;
  in_fetch(call, st->action_url, &u);
}

static void gather_key(sip_call *call, char key)
{
  sip_in *in = call->in;
  const vc_call_step *st;
  const char *finish;
  char digits[2] = { key, 0 };

  if (in->waiting != W_GATHER) {
    if (in->dial >= DIAL_LINKING) {
      /* Talking to the agent: a key for the timeline. */
      vc__sip_report(call, VC_UPDATE_DTMF, VC_LEG_CUSTOMER, 0, 0, NULL,
                     digits);
    } else if (in->nahead < AHEAD_MAX) {
      in->ahead[in->nahead++] = key; /* for the next GATHER */
    }
    return;
  }
  st = &in->steps[in->pc];
  finish = st->finish_on_key ? st->finish_on_key : "#";
  if (finish[0] != '\0' && strchr(finish, key) != NULL) {
    gather_done(call);
    return;
  }
  if (in->nkeys < KEYS_MAX)
    in->keys[in->nkeys++] = key;
  if ((st->num_digits > 0 && in->nkeys >= st->num_digits) ||
      in->nkeys >= KEYS_MAX) {
    gather_done(call);
    return;
  }
  tmr_start(&in->step_tmr, (uint64_t)gather_timeout_s(st) * 1000,
            gather_timer, call);
}

static void gather_start(sip_call *call, const vc_call_step *st)
{
  sip_in *in = call->in;
  char ahead[AHEAD_MAX + 1];
  size_t n = in->nahead;

  in->nkeys = 0;
  in->waiting = W_GATHER;
  tmr_start(&in->step_tmr, (uint64_t)gather_timeout_s(st) * 1000,
            gather_timer, call);
  /* Keys pressed ahead count first. */
  memcpy(ahead, in->ahead, n);
  in->nahead = 0;
  for (size_t i = 0; i < n && in->waiting == W_GATHER &&
                     &in->steps[in->pc] == st; i++)
    gather_key(call, ahead[i]);
}

/* --- DIAL -------------------------------------------------------------- */

/* Give the caller the agent's description (the agent answered). */
static void link_caller(sip_call *call)
{
  sip_in *in = call->in;

  in->link_pending = 0;
  if (vc__sip_reinvite(&call->customer, VC__SDP_KEEP) != 0) {
    in_log(call, VC_LOG_WARN, "the caller could not be re-INVITEd", NULL);
    dial_end(call, VC_CAUSE_PROVIDER_ERROR, "link", 1);
    return;
  }
  in->dial = DIAL_LINKING;
}

static void limit_timer(void *arg)
{
  sip_call *call = arg;

  dial_end(call, VC_CAUSE_TIME_LIMIT, NULL, 1);
}

/*
 * The agent's leg is over: report it, put the caller back to silence
 * when it had the agent's media, and (`fetch`) ask the DIAL's action
 * what comes next, or go on with the script without one.
 */
static void dial_end(sip_call *call, int cause, const char *code, int fetch)
{
  sip_in *in = call->in;
  sip_leg *agent = &call->agent;
  int linked = in->dial >= DIAL_LINKING;
  vc_call_update u;
  char *action = in->dial_action;

  if (in->dial == DIAL_NONE)
    return;
  in->dial = DIAL_NONE;
  in->link_pending = 0;
  in->dial_action = NULL;
  call->bridged = 0;
  tmr_cancel(&call->limit_tmr);
  agent->ended = 1;
  vc__sip_leg_release(agent);
  vc__sip_report(call, VC_UPDATE_ENDED, VC_LEG_AGENT, cause,
                 vc__sip_talk_s(agent), code, NULL);
  if (!fetch || in->gone) {
    vc__free(action);
    return;
  }
  if (linked && vc__sip_reinvite(&call->customer, VC__SDP_INACTIVE) != 0)
    in_log(call, VC_LOG_INFO, "the caller could not be put back to "
           "silence", NULL);
  if (action != NULL) {
    update_init(&u, call, VC_UPDATE_ENDED, VC_LEG_AGENT);
    u.cause = cause;
    u.duration_s = vc__sip_talk_s(agent);
    u.provider_code = code;
    in_fetch(call, action, &u);
    vc__free(action);
    return;
  }
  vc__free(action);
  step_next(call);
}

static int agent_offer(struct mbuf **descp, const struct sip_msg *msg,
                       void *arg)
{
  sip_leg *leg = arg;
  sip_call *call = CALL_OF(leg);
  vc_buf b = VC_BUF_INIT;
  const char *body = (const char *)mbuf_buf(msg->mb);
  size_t n = mbuf_get_left(msg->mb);
  int err;

  if (leg->ended)
    return ECANCELED;
  if (!leg->answered) {
    /* The agent's 200 to our INVITE without SDP: its offer O1, ACKed at
     * once with an inactive answer (sip.c says why). */
    if ((err = vc__sip_keep_body(&call->offer, &call->offer_len, msg)) != 0)
      return err;
    body = call->offer;
    n = call->offer_len;
  } else if (call->bridged) {
    return vc__sip_leg_desc(descp, leg, VC__SDP_KEEP);
  }
  if (vc__sip_sdp_inactive_answer(&b, body, n, &leg->origin) < 0)
    return EPROTO;
  err = vc__sip_mbuf(descp, &b);
  vc_buf_dispose(&b);
  return err;
}

/* The agent's answer to our re-INVITE with the caller's description. */
static int agent_answer(const struct sip_msg *msg, void *arg)
{
  sip_leg *leg = arg;
  sip_call *call = CALL_OF(leg);

  (void)msg;
  if (leg->ended)
    return ECANCELED;
  if (leg->reinvites > 0)
    leg->reinvites--;
  if (call->in->dial == DIAL_BRIDGING) {
    call->in->dial = DIAL_BRIDGED;
    call->bridged = 1;
  }
  return 0;
}

static void agent_progress(const struct sip_msg *msg, void *arg)
{
  sip_leg *leg = arg;
  sip_call *call = CALL_OF(leg);

  if (leg->ended)
    return;
  leg->heard = 1;
  if ((msg->scode == 180 || msg->scode == 183) && !leg->ringing) {
    leg->ringing = 1;
    vc__sip_report(call, VC_UPDATE_RINGING, VC_LEG_AGENT, 0, 0, NULL, NULL);
  }
}

static void agent_estab(const struct sip_msg *msg, void *arg)
{
  sip_leg *leg = arg;
  sip_call *call = CALL_OF(leg);
  sip_in *in = call->in;

  (void)msg;
  if (leg->ended)
    return;
  tmr_cancel(&leg->ring_tmr);
  leg->heard = leg->answered = 1;
  leg->answered_at = tmr_jiffies();
  vc__sip_report(call, VC_UPDATE_ANSWERED, VC_LEG_AGENT, 0, 0, NULL, NULL);
  if (in->dial_limit_s > 0)
    tmr_start(&call->limit_tmr, (uint64_t)in->dial_limit_s * 1000,
              limit_timer, call);
  if (in->acked)
    link_caller(call);
  else
    in->link_pending = 1;
}

static void agent_info(struct sip *sip, const struct sip_msg *msg,
                       void *arg)
{
  sip_leg *leg = arg;
  char digit[2] = { 0, 0 };

  if (leg->ended) {
    (void)sip_reply(sip, msg, 481, "Call Does Not Exist");
    return;
  }
  if (!msg_ctype_cmp(&msg->ctyp, "application", "dtmf-relay") ||
      vc__sip_dtmf_relay(digit, (const char *)mbuf_buf(msg->mb),
                         mbuf_get_left(msg->mb)) < 0) {
    (void)sip_reply(sip, msg, 415, "Unsupported Media Type");
    return;
  }
  (void)sip_reply(sip, msg, 200, "OK");
  vc__sip_report(CALL_OF(leg), VC_UPDATE_DTMF, VC_LEG_AGENT, 0, 0, NULL,
                 digit);
}

static void agent_close(int err, const struct sip_msg *msg, void *arg)
{
  sip_leg *leg = arg;
  sip_call *call = CALL_OF(leg);
  char code[16] = "";
  int cause;

  if (leg->ended)
    return;
  if (msg != NULL && !msg->req && msg->scode >= 100)
    snprintf(code, sizeof(code), "%u", msg->scode);
  if (msg != NULL && !msg->req && msg->scode >= 300)
    cause = vc__sip_cause(msg->scode);
  else if (leg->answered)
    cause = VC_CAUSE_NORMAL;
  else if (err == ETIMEDOUT)
    cause = VC_CAUSE_NO_ANSWER;
  else
    cause = VC_CAUSE_PROVIDER_ERROR;
  dial_end(call, cause, code[0] ? code : NULL, 1);
}

static void agent_ring_timeout(void *arg)
{
  sip_leg *leg = arg;

  dial_end(CALL_OF(leg), VC_CAUSE_NO_ANSWER, "timeout", 1);
}

static void dial_start(sip_call *call, const vc_call_step *st)
{
  sip_in *in = call->in;
  sip_session *s = call->s;
  const sip_cfg *c = s->cfg;
  sip_leg *agent = &call->agent;
  const char *shown = st->caller_id;
  int ring_s, err;

  tmr_cancel(&agent->ring_tmr);
  agent->heard = agent->ringing = agent->answered = agent->ended = 0;
  agent->reinvites = 0;
  agent->origin.sess_id = rand_u64() >> 2;
  agent->origin.version = 0;
  vc__free(call->offer);
  vc__free(call->answer);
  call->offer = call->answer = NULL;
  call->offer_len = call->answer_len = 0;
  in->dial_action = st->action_url ? vc__strdup(st->action_url) : NULL;
  in->dial_limit_s = st->time_limit_s > 0 ? st->time_limit_s : 0;
  in->dial = DIAL_RINGING;
  in->waiting = W_DIAL;
  if (st->action_url != NULL && in->dial_action == NULL) {
    dial_end(call, VC_CAUSE_PROVIDER_ERROR, NULL, 0);
    in_hangup_call(call, VC_CAUSE_PROVIDER_ERROR, 500, "Server Error");
    return;
  }
  if (vc__sip_party_uri(agent->uri, sizeof(agent->uri), c, c->agent_tmpl,
                        st->target, "the dialled party") < 0) {
    in_log(call, VC_LOG_WARN, "DIAL", vc_error_last()->message);
    dial_end(call, VC_CAUSE_UNREACHABLE, NULL, 1);
    return;
  }
  /* The agent's phone shows who calls. */
  if (strstr(c->from, "{number}") == NULL ||
      vc__sip_expand(call->from, sizeof(call->from), c->from,
                     shown ? shown : "anonymous") < 0)
    snprintf(call->from, sizeof(call->from), "%s",
             strstr(c->from, "{number}") ? "sip:anonymous@anonymous.invalid"
                                         : c->from);
  vc_error_clear();
  ring_s = st->timeout_s > 0 ? st->timeout_s : VC__SIP_DEFAULT_RING_S;
  if (ring_s > 600)
    ring_s = 600;
  err = sipsess_connect(&agent->sess, s->sock, agent->uri, NULL, call->from,
                        VC__SIP_CONTACT_USER, s->routev, s->routec,
                        VC__SIP_CTYPE_SDP, NULL, vc__sip_auth_handler,
                        (void *)c, false, agent_offer, agent_answer,
                        agent_progress, agent_estab, agent_info, NULL,
                        agent_close, agent, "Max-Forwards: 70\r\n");
  if (err != 0) {
    in_log(call, VC_LOG_WARN, "DIAL", "the INVITE could not be sent");
    dial_end(call, VC_CAUSE_PROVIDER_ERROR, NULL, 1);
    return;
  }
  tmr_start(&agent->ring_tmr, (uint64_t)ring_s * 1000, agent_ring_timeout,
            agent);
}

/* --- the loop ---------------------------------------------------------- */

/* Run steps from in->pc until one waits. */
static void in_step(sip_call *call)
{
  sip_in *in = call->in;

  while (!in->gone && in->pc < in->nsteps) {
    const vc_call_step *st = &in->steps[in->pc];
    uint64_t since;

    if (st->kind != VC_STEP_HANGUP && st->kind != VC_STEP_REDIRECT &&
        answer_caller(call) < 0)
      return;
    switch (st->kind) {
    case VC_STEP_SAY:
    case VC_STEP_PLAY:
      in_log(call, VC_LOG_DEBUG, st->kind == VC_STEP_SAY ? "SAY skipped"
                                                         : "PLAY skipped",
             "no media passes through the library");
      in->pc++;
      continue;
    case VC_STEP_PAUSE: {
      int s = st->timeout_s > 0 ? st->timeout_s : 1;
      in->waiting = W_PAUSE;
      tmr_start(&in->step_tmr,
                (uint64_t)(s > PAUSE_MAX_S ? PAUSE_MAX_S : s) * 1000,
                step_timer, call);
      return;
    }
    case VC_STEP_HOLD:
      /* Silence instead of music, until the core runs another script. */
      in_log(call, VC_LOG_DEBUG, "HOLD without music",
             "no media passes through the library");
      in->waiting = W_HOLD;
      return;
    case VC_STEP_GATHER:
      gather_start(call, st);
      return;
    case VC_STEP_DIAL:
      dial_start(call, st);
      return;
    case VC_STEP_RECORD: {
      vc_call_update u;
      in_log(call, VC_LOG_INFO, "RECORD not possible",
             "no media passes through the library");
      if (st->action_url == NULL) {
        in->pc++;
        continue;
      }
      update_init(&u, call, VC_UPDATE_RECORDING, VC_LEG_CUSTOMER);
      u.recording_status = VC_RECORDING_FAILED;
      in_fetch(call, st->action_url, &u);
      return;
    }
    case VC_STEP_REDIRECT:
      if (st->url == NULL) {
        in->pc++;
        continue;
      }
      /* Skipped prompts take no time: a waiting line of PLAY and
       * REDIRECT must not ask the core without a pause. */
      since = tmr_jiffies() - in->last_fetch;
      if (in->last_fetch != 0 && since < REDIRECT_GAP_MS) {
        in->waiting = W_REDIRECT;
        tmr_start(&in->step_tmr, REDIRECT_GAP_MS - since, redirect_timer,
                  call);
      } else {
        in_fetch(call, st->url, NULL);
      }
      return;
    case VC_STEP_HANGUP:
      in_hangup_call(call, VC_CAUSE_NORMAL, 480, "Temporarily Unavailable");
      return;
    default:
      in_log(call, VC_LOG_INFO, "an unknown step is skipped", NULL);
      in->pc++;
      continue;
    }
  }
  /* The script ended without a word on what next: the call ends, as it
   * does on providers that follow scripts. */
  if (!in->gone)
    in_hangup_call(call, VC_CAUSE_NORMAL, 480, "Temporarily Unavailable");
}

static sip_call *find_taken(sip_session *s, const char *provider_call_id)
{
  for (struct le *le = s->calls.head; le != NULL; le = le->next) {
    sip_call *call = le->data;
    if (call->in != NULL &&
        strcmp(call->provider_id, provider_call_id) == 0 &&
        (!call->ended || !call->in->reported))
      return call;
  }
  return NULL;
}

int vc__sip_in_run_script(void *session, const char *call_id,
                          const char *provider_call_id,
                          const vc_call_script *script)
{
  sip_session *s = session;
  sip_call *call;
  sip_in *in;
  int rc;

  VC_ASSERT_ARG(s && call_id && provider_call_id && script);
  if (strlen(call_id) > VC__VOIP_CALL_ID_MAX)
    return BAD_INPUT("sip: call id too long");
  if ((call = find_taken(s, provider_call_id)) == NULL)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                         "sip: no call %s on this session", call_id);
  in = call->in;
  if (call->call_id[0] == '\0')
    strcpy(call->call_id, call_id);
  if (in->gone) {
    /* The caller left before the core knew the call: say so now. */
    if (!in->reported) {
      in->reported = 1;
      vc__sip_report(call, VC_UPDATE_ENDED, VC_LEG_CUSTOMER, in->end_cause,
                     vc__sip_talk_s(&call->customer),
                     in->end_code[0] ? in->end_code : NULL, NULL);
      tmr_cancel(&in->step_tmr);
      zombie_done(call);
    }
    return 0;
  }
  /* The new script replaces the old: what it waited on is dropped, and a
   * DIAL still ringing or talking ends without its action. */
  tmr_cancel(&in->step_tmr);
  in->waiting = W_NONE;
  if (in->dial != DIAL_NONE)
    dial_end(call, call->agent.answered ? VC_CAUSE_NORMAL
                                        : VC_CAUSE_CANCELED, NULL, 0);
  if ((rc = script_copy(in, script)) < 0) {
    in_log(call, VC_LOG_WARN, "a script was refused",
           vc_error_last()->message);
    in_hangup_call(call, VC_CAUSE_PROVIDER_ERROR, 500, "Server Error");
    return rc;
  }
  in_step(call);
  return 0;
}

/* ------------------------------------------------------------------ */
/* arrival                                                             */

void vc__sip_in_free(sip_call *call)
{
  sip_in *in = call->in;

  if (in == NULL)
    return;
  tmr_cancel(&in->step_tmr);
  if (call->s->ninbound > 0)
    call->s->ninbound--;
  script_free(in);
  vc__free(in->offer);
  vc__free(in->dial_action);
  vc__free(in);
  call->in = NULL;
}

static void refuse(sip_session *s, const struct sip_msg *msg, int scode,
                   const char *reason, const char *why)
{
  char line[200];

  snprintf(line, sizeof(line), "sip: an INVITE refused with %d: %s", scode,
           why);
  vc_session_log(s->host, scode >= 500 ? VC_LOG_WARN : VC_LOG_INFO, line);
  (void)sip_treply(NULL, s->sip, msg, (uint16_t)scode, reason);
}

/* The number called: the request URI's user part, or the To header's
 * when the request is to our contact (a trunk we registered with). */
static int called_of(char *out, size_t cap, const struct sip_msg *msg)
{
  const struct uri *u = &msg->uri;

  if (u->user.l == 0 ||
      pl_strcmp(&u->user, VC__SIP_CONTACT_USER) == 0)
    u = &msg->to.uri;
  return vc__sip_called(out, cap, u->user.p, u->user.l, u->host.p,
                        u->host.l, u->port);
}

void vc__sip_in_invite(sip_session *s, const struct sip_msg *msg)
{
  const sip_cfg *c = s->cfg;
  char to[VC__SIP_URI_MAX + 1], from[VC__SIP_URI_MAX + 1];
  size_t body = mbuf_get_left(msg->mb);
  vc_call_update u;
  sip_call *call;
  sip_in *in;
  int err;

  if (!c->inbound) {
    (void)sip_treply(NULL, s->sip, msg, 603, "Decline");
    return;
  }
  if (!peer_allowed(c, &msg->src)) {
    refuse(s, msg, 403, "Forbidden", "its source is not in "
           "config.inbound_peers");
    return;
  }
  if (msg->callid.l == 0 || msg->callid.l >= sizeof(call->provider_id)) {
    refuse(s, msg, 400, "Bad Call-ID", "a missing or overlong Call-ID");
    return;
  }
  if (called_of(to, sizeof(to), msg) < 0) {
    vc_error_clear();
    refuse(s, msg, 404, "Not Found", "no number called");
    return;
  }
  if (vc__sip_caller(from, sizeof(from), msg->from.uri.user.p,
                     msg->from.uri.user.l, msg->from.uri.host.p,
                     msg->from.uri.host.l) < 0) {
    vc_error_clear();
    refuse(s, msg, 400, "Bad From", "a malformed caller");
    return;
  }
  /* Content-Length too: over UDP a long body arrives cut short. */
  if (body > VC__SIP_SDP_MAX ||
      (msg->clen.l > 0 && pl_u32(&msg->clen) > VC__SIP_SDP_MAX)) {
    refuse(s, msg, 413, "Request Entity Too Large", "an SDP over 8 KiB");
    return;
  }
  if (body == 0) {
    refuse(s, msg, 488, "Not Acceptable Here", "no SDP offer (an INVITE "
           "without one is not taken)");
    return;
  }
  if (!msg_ctype_cmp(&msg->ctyp, "application", "sdp")) {
    refuse(s, msg, 415, "Unsupported Media Type", "a body that is not SDP");
    return;
  }
  if (s->ninbound >= INBOUND_MAX) {
    refuse(s, msg, 486, "Busy Here", "too many calls taken at once");
    return;
  }
  for (struct le *le = s->calls.head; le != NULL; le = le->next) {
    sip_call *o = le->data;
    if (o->in != NULL && !o->in->gone &&
        pl_strcmp(&msg->callid, o->provider_id) == 0) {
      refuse(s, msg, 482, "Loop Detected", "a Call-ID already taken");
      return;
    }
  }
  if ((call = vc__sip_call_new(s)) == NULL ||
      (in = vc__calloc(1, sizeof(*in))) == NULL) {
    mem_deref(call);
    refuse(s, msg, 503, "Service Unavailable", "out of memory");
    return;
  }
  call->in = in;
  in->call = call;
  s->ninbound++;
  tmr_init(&in->step_tmr);
  pl_strcpy(&msg->callid, call->provider_id, sizeof(call->provider_id));
  if ((in->offer = vc__malloc(body + 1)) == NULL) {
    mem_deref(call);
    refuse(s, msg, 503, "Service Unavailable", "out of memory");
    return;
  }
  memcpy(in->offer, mbuf_buf(msg->mb), body);
  in->offer[body] = '\0';
  in->offer_len = body;
  {
    /* Checked now: a body we could not answer is refused before the
     * call is stored. */
    vc_buf b = VC_BUF_INIT;
    vc__sdp_origin o = call->customer.origin;
    int bad = vc__sip_sdp_inactive_answer(&b, in->offer, body, &o) < 0;
    vc_buf_dispose(&b);
    if (bad) {
      vc_error_clear();
      mem_deref(call);
      refuse(s, msg, 400, "Bad SDP", "a malformed SDP offer");
      return;
    }
  }
  (void)sip_reply(s->sip, msg, 100, "Trying");
  err = sipsess_accept(&call->customer.sess, s->sock, msg, 180, "Ringing",
                       VC__SIP_CONTACT_USER, VC__SIP_CTYPE_SDP, NULL,
                       vc__sip_auth_handler, (void *)c, false, caller_offer,
                       caller_answer, caller_estab, caller_info, NULL,
                       caller_close, &call->customer, ALLOW_HDR);
  if (err != 0) {
    mem_deref(call);
    refuse(s, msg, 500, "Server Error", "the dialog could not be made");
    return;
  }
  list_append(&s->calls, &call->le, call);
  update_init(&u, call, VC_UPDATE_INCOMING, VC_LEG_CUSTOMER);
  u.call_id = NULL;
  u.from = from[0] ? from : NULL;
  u.to = to;
  in->waiting = W_CORE;
  tmr_start(&in->step_tmr, CORE_WAIT_MS, core_timeout, call);
  if (vc_session_incoming(s->host, &u) < 0) {
    char why[160];
    snprintf(why, sizeof(why), "the core did not take it (%s)",
             vc_error_last()->message);
    vc_error_clear();
    (void)sipsess_reject(call->customer.sess, 503, "Service Unavailable",
                         NULL);
    vc_session_log(s->host, VC_LOG_WARN, why);
    in->gone = 1;
    tmr_cancel(&in->step_tmr);
    vc__sip_leg_release(&call->customer);
    zombie_done(call);
  }
}
