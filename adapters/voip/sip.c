/*
 * Plain SIP click-to-call: the "sip" voice adapter, a session adapter
 * (vyomcomm/sys/transport.h) built on libre's SIP stack.
 *
 * The library is a SIP user agent on UDP or TCP that places both legs
 * itself and connects them by third-party call control (RFC 3725); no
 * media passes through it. The flow (docs/calls.md "SIP" says why this
 * one, and what the library can and cannot see):
 *
 *   1. INVITE the agent without SDP; its 200 carries its offer (O1).
 *      libre ACKs a 2xx at once, so the ACK carries an answer that
 *      accepts O1's streams but is a=inactive (nothing flows yet).
 *   2. INVITE the customer with O1 (under our own o= line).
 *   3. The customer's 200 carries its answer (A1). re-INVITE the agent
 *      with A1 as our offer: the two phones now send to each other.
 *
 * Hold re-INVITEs both legs with their peer's description marked
 * a=sendonly (so each answers recvonly and both go quiet), resume with
 * sendrecv. Blind transfer REFERs the customer's dialog to the target
 * and follows the NOTIFY sipfrag; on its 2xx both of our dialogs end.
 * Hangup is BYE or CANCEL (libre sends whichever the dialog needs when
 * the session is released). DTMF arrives as INFO application/dtmf-relay
 * on either dialog. Link state comes from REGISTER (when configured) or
 * an OPTIONS ping of the proxy.
 *
 * Calls it takes (config.inbound: an INVITE to one of the channel's
 * numbers) are run by the core's scripts in sip_in.c; what both halves
 * share is in sip_int.h.
 *
 * Threading: init and fini run anywhere (the state is immutable after
 * init); every session method and libre callback runs on the context's
 * network thread, which owns every libre object made here.
 */
#include "core/common.h"
#include "core/buf.h"
#include "adapters/builtin.h"
#include "adapters/common.h"
#include "adapters/voip/sip_int.h"

#include <arpa/inet.h>
#include <cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#define BAD_INPUT(...) \
  vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID, __VA_ARGS__)

#define CRED_MAX 128
#define DEFAULT_RING_S VC__SIP_DEFAULT_RING_S
#define DEFAULT_KEEPALIVE_S 30
#define DEFAULT_EXPIRES_S 600
#define OP_TIMEOUT_MS 15000       /* a re-INVITE or REFER left unanswered */
#define CONTACT_USER VC__SIP_CONTACT_USER
#define CTYPE_SDP VC__SIP_CTYPE_SDP

/* ------------------------------------------------------------------ */
/* configuration                                                       */


static void sip_fini(void *state)
{
  sip_cfg *c = state;

  if (c == NULL)
    return;
  vc__free(c->proxy);
  vc__free(c->from);
  vc__free(c->aor);
  vc__free(c->agent_tmpl);
  vc__free(c->customer_tmpl);
  vc__adapter_free_secret(c->username);
  vc__adapter_free_secret(c->password);
  vc__wipe(c, sizeof(*c));
  vc__free(c);
}

static int dup_str(char **out, const char *s)
{
  if (s == NULL)
    return 0;
  if ((*out = vc__strdup(s)) == NULL)
    return vc_error_set_oom();
  return 0;
}

/* An integer member in [lo, hi], `def` when absent. */
static int get_int(int *out, const cJSON *cfg, const char *key, int lo,
                   int hi, int def)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(cfg, key);

  if (v == NULL || cJSON_IsNull(v)) {
    *out = def;
    return 0;
  }
  /* The range first: casting a double out of int's range is undefined. */
  if (!cJSON_IsNumber(v) || !(v->valuedouble >= lo && v->valuedouble <= hi) ||
      v->valuedouble != (double)(int)v->valuedouble)
    return BAD_INPUT("config.%s must be an integer from %d to %d", key, lo,
                     hi);
  *out = (int)v->valuedouble;
  return 0;
}

static int read_config(void *state, const cJSON *cfg)
{
  sip_cfg *c = state;
  static const char *const known[] = {
    "proxy", "transport", "local_address", "local_port", "from", "aor",
    "register", "register_expires_s", "keepalive_s", "agent_uri",
    "customer_uri", "inbound", "inbound_peers",
    "caller_ids" /* the core's caller-id pool (src/call/placing.c) */
  };
  const char *proxy, *tp, *laddr, *from, *aor, *agent, *customer;
  const cJSON *reg = cJSON_GetObjectItemCaseSensitive(cfg, "register");
  int port, rc;

  if ((rc = vc__adapter_check_keys(cfg, "config", known,
                                   VC_ARRAY_SIZE(known), 1)) < 0 ||
      (rc = vc__adapter_get_str(&proxy, cfg, "config", "proxy")) < 0 ||
      (rc = vc__adapter_get_str(&tp, cfg, "config", "transport")) < 0 ||
      (rc = vc__adapter_get_str(&laddr, cfg, "config",
                                "local_address")) < 0 ||
      (rc = vc__adapter_get_str(&from, cfg, "config", "from")) < 0 ||
      (rc = vc__adapter_get_str(&aor, cfg, "config", "aor")) < 0 ||
      (rc = vc__adapter_get_str(&agent, cfg, "config", "agent_uri")) < 0 ||
      (rc = vc__adapter_get_str(&customer, cfg, "config",
                                "customer_uri")) < 0 ||
      (rc = get_int(&port, cfg, "local_port", 0, 65535, 0)) < 0 ||
      (rc = get_int(&c->expires_s, cfg, "register_expires_s", 60, 86400,
                    DEFAULT_EXPIRES_S)) < 0 ||
      (rc = get_int(&c->keepalive_s, cfg, "keepalive_s", 0, 3600,
                    DEFAULT_KEEPALIVE_S)) < 0)
    return rc;
  c->lport = (uint16_t)port;
  if (tp == NULL || strcmp(tp, "udp") == 0)
    c->tcp = 0;
  else if (strcmp(tp, "tcp") == 0)
    c->tcp = 1;
  else
    return BAD_INPUT("config.transport must be \"udp\" or \"tcp\"");
  if (laddr != NULL) {
    unsigned char bin[16];
    if (strlen(laddr) >= sizeof(c->laddr) ||
        (inet_pton(AF_INET, laddr, bin) != 1 &&
         inet_pton(AF_INET6, laddr, bin) != 1))
      return BAD_INPUT("config.local_address must be an IPv4 or IPv6 "
                       "address");
    strcpy(c->laddr, laddr);
  }
  if (reg != NULL && !cJSON_IsNull(reg) && !cJSON_IsBool(reg))
    return BAD_INPUT("config.register must be true or false");
  c->reg = reg != NULL && cJSON_IsTrue(reg);
  if (proxy != NULL && (rc = vc__sip_check_uri(proxy, "config.proxy")) < 0)
    return rc;
  if (from == NULL)
    return BAD_INPUT("config.from is required");
  if (strstr(from, "{number}") != NULL
          ? (rc = vc__sip_check_template(from, "config.from")) < 0
          : (rc = vc__sip_check_uri(from, "config.from")) < 0)
    return rc;
  if (aor != NULL && (rc = vc__sip_check_uri(aor, "config.aor")) < 0)
    return rc;
  if (c->reg && proxy == NULL)
    return BAD_INPUT("config.register needs config.proxy (the registrar)");
  if (c->reg && aor == NULL && strstr(from, "{number}") != NULL)
    return BAD_INPUT("config.register needs config.aor when config.from "
                     "is a template");
  if (customer == NULL)
    return BAD_INPUT("config.customer_uri is required");
  if ((rc = vc__sip_check_template(customer, "config.customer_uri")) < 0 ||
      (agent != NULL &&
       (rc = vc__sip_check_template(agent, "config.agent_uri")) < 0))
    return rc;
  if ((rc = dup_str(&c->proxy, proxy)) < 0 ||
      (rc = dup_str(&c->from, from)) < 0 ||
      (rc = dup_str(&c->aor, aor ? aor : (c->reg ? from : NULL))) < 0 ||
      (rc = dup_str(&c->agent_tmpl, agent)) < 0 ||
      (rc = dup_str(&c->customer_tmpl, customer)) < 0)
    return rc;
  return vc__sip_in_config(c, cfg);
}

static int read_credentials(void *state, const cJSON *cred)
{
  sip_cfg *c = state;
  static const char *const known[] = { "username", "password" };
  int rc;

  if ((rc = vc__adapter_check_keys(cred, "credentials", known,
                                   VC_ARRAY_SIZE(known), 0)) < 0 ||
      (rc = vc__adapter_read_secret(&c->username, cred, "username", 1,
                                    CRED_MAX, 0)) < 0 ||
      (rc = vc__adapter_read_secret(&c->password, cred, "password", 1,
                                    CRED_MAX, 1)) < 0)
    return rc;
  if ((c->username == NULL) != (c->password == NULL))
    return BAD_INPUT("credentials.username and credentials.password go "
                     "together");
  if (c->reg && c->username == NULL)
    return BAD_INPUT("config.register needs credentials.username and "
                     "credentials.password");
  return 0;
}

static int sip_init(void **state, const char *config_json,
                    const char *credentials_json)
{
  return vc__adapter_init(state, sizeof(sip_cfg), config_json,
                          credentials_json, read_config, read_credentials,
                          sip_fini);
}

/*
 * The request URI of a party: a sip: URI as given, else the template
 * with the number; ";transport=tcp" added when there is no proxy to
 * route through and the URI names no transport.
 */
int vc__sip_party_uri(char *out, size_t cap, const sip_cfg *c,
                     const char *tmpl, const char *party, const char *what)
{
  int rc;

  if (party != NULL && strncmp(party, "sip:", 4) == 0) {
    if ((rc = vc__sip_check_uri(party, what)) < 0)
      return rc;
    if (strlen(party) >= cap)
      return BAD_INPUT("%s is too long", what);
    strcpy(out, party);
  } else if (tmpl == NULL) {
    return BAD_INPUT("%s must be a sip: URI (config.agent_uri is not set)",
                     what);
  } else if ((rc = vc__sip_expand(out, cap, tmpl, party)) < 0) {
    return rc;
  }
  if (c->tcp && c->proxy == NULL && strstr(out, "transport=") == NULL) {
    if (strlen(out) + sizeof(";transport=tcp") > cap)
      return BAD_INPUT("%s is too long", what);
    strcat(out, ";transport=tcp");
  }
  return 0;
}

/* ------------------------------------------------------------------ */
/* the session                                                         */

static void link_state(sip_session *s, int up, const char *why)
{
  if (s->link == up)
    return;
  s->link = up;
  vc_session_link(s->host, up, why);
}

static void call_drop(sip_call *call);

/* Answer the core's place_call. -1 when an ACCEPTED found nobody waiting
 * (the core gave up on this placement and will place the call again):
 * the call is then dropped here, silently, and the caller returns. */
static int placed(sip_call *call, int outcome, int error, int scode,
                  const char *text)
{
  vc_send_result r;

  if (call->placed)
    return 0;
  call->placed = 1;
  memset(&r, 0, sizeof(r));
  r.version = VC_SEND_RESULT_VERSION;
  r.outcome = outcome;
  r.error = outcome == VC_SEND_ACCEPTED ? 0 : error;
  if (outcome == VC_SEND_ACCEPTED)
    snprintf(r.provider_id, sizeof(r.provider_id), "%s", call->provider_id);
  if (scode > 0)
    snprintf(r.provider_code, sizeof(r.provider_code), "%d", scode);
  if (text != NULL)
    snprintf(r.error_message, sizeof(r.error_message), "%s", text);
  if (vc_session_placed(call->s->host, call->call_id, &r) == VC_ENOTFOUND &&
      outcome == VC_SEND_ACCEPTED) {
    vc_error_clear();
    vc_session_log(call->s->host, VC_LOG_INFO, "a placement answered too "
                   "late for the core: its INVITE is canceled");
    call_drop(call);
    return -1;
  }
  return 0;
}

static void op_done(sip_call *call, int outcome, int error, const char *why)
{
  vc_send_result r;

  tmr_cancel(&call->op_tmr);
  call->op = OP_NONE;
  if (!call->op_has_token)
    return;
  call->op_has_token = 0;
  memset(&r, 0, sizeof(r));
  r.version = VC_SEND_RESULT_VERSION;
  r.outcome = outcome;
  r.error = outcome == VC_SEND_ACCEPTED ? 0 : error;
  if (why != NULL)
    snprintf(r.error_message, sizeof(r.error_message), "%s", why);
  (void)vc_session_done(call->s->host, call->op_token, &r);
}

void vc__sip_report(sip_call *call, int type, int leg, int cause,
                   int duration_s, const char *code, const char *digits)
{
  vc_call_update u;
  char event_id[sizeof(call->provider_id) + 16];

  memset(&u, 0, sizeof(u));
  u.version = VC_CALL_UPDATE_VERSION;
  u.type = type;
  u.call_id = call->call_id;
  u.provider_call_id = call->provider_id;
  /* Each report is news: two alike (the same key pressed twice, a
   * second agent ringing) must not be taken for a replay. */
  snprintf(event_id, sizeof(event_id), "%s/%u", call->provider_id,
           ++call->reports);
  u.event_id = event_id;
  u.leg = leg;
  u.cause = cause;
  u.duration_s = duration_s;
  u.provider_code = code;
  u.digits = digits;
  u.jitter_ms = u.packet_loss_pct = u.rtt_ms = u.mos = -1;
  (void)vc_session_report(call->s->host, &u);
}

static void call_free(void *arg)
{
  sip_call *call = arg;

  tmr_cancel(&call->agent.ring_tmr);
  tmr_cancel(&call->customer.ring_tmr);
  tmr_cancel(&call->limit_tmr);
  tmr_cancel(&call->op_tmr);
  tmr_cancel(&call->gc_tmr);
  list_unlink(&call->le);
  /* Releasing a live session sends its BYE or CANCEL. */
  call->refer = mem_deref(call->refer);
  call->agent.sess = mem_deref(call->agent.sess);
  call->customer.sess = mem_deref(call->customer.sess);
  for (size_t i = 0; i < 2; i++)
    call->trash[i] = mem_deref(call->trash[i]);
  vc__free(call->offer);
  vc__free(call->answer);
  vc__sip_in_free(call);
}

static void gc_handler(void *arg)
{
  sip_call *call = arg;

  for (size_t i = 0; i < 2; i++)
    call->trash[i] = mem_deref(call->trash[i]);
  if (call->ended)
    mem_deref(call);
}

void vc__sip_call_gc(sip_call *call)
{
  tmr_start(&call->gc_tmr, 0, gc_handler, call);
}

/* Take a leg's session out of use: it is released (BYE or CANCEL when
 * still live) on the next turn of the loop, never inside its own
 * callback. */
void vc__sip_leg_release(sip_leg *leg)
{
  sip_call *call = CALL_OF(leg);

  tmr_cancel(&leg->ring_tmr);
  if (leg->sess != NULL) {
    call->trash[leg->which == VC_LEG_AGENT ? 0 : 1] = leg->sess;
    leg->sess = NULL;
  }
  tmr_start(&call->gc_tmr, 0, gc_handler, call);
}

int vc__sip_talk_s(const sip_leg *leg)
{
  return leg->answered ? (int)((tmr_jiffies() - leg->answered_at) / 1000)
                       : 0;
}

static void leg_end(sip_leg *leg, int cause, const char *code)
{
  if (leg->ended)
    return;
  leg->ended = 1;
  vc__sip_leg_release(leg);
  if (leg->heard || leg->answered)
    vc__sip_report(CALL_OF(leg), VC_UPDATE_ENDED, leg->which, cause, vc__sip_talk_s(leg),
           code, NULL);
}

/* One leg ended with `cause`: end the other, then the call. */
static void call_end(sip_call *call, sip_leg *first, int cause,
                     const char *code)
{
  sip_leg *other = OTHER(first);

  leg_end(first, cause, code);
  if (!other->ended) {
    int oc = other->answered ? (call->bridged ? VC_CAUSE_NORMAL
                                              : VC_CAUSE_CANCELED)
                             : VC_CAUSE_CANCELED;
    if (cause == VC_CAUSE_API_HANGUP || cause == VC_CAUSE_TIME_LIMIT)
      oc = cause;
    leg_end(other, oc, NULL);
  }
  if (call->op != OP_NONE)
    op_done(call, VC_SEND_REJECTED, VC_ESTATE, "the call ended");
  call->refer = mem_deref(call->refer);
  tmr_cancel(&call->limit_tmr);
  call->ended = 1;
  tmr_start(&call->gc_tmr, 0, gc_handler, call);
}

/* A call that was never placed (it failed over): nothing to report. */
static void call_drop(sip_call *call)
{
  call->agent.ended = call->customer.ended = 1;
  vc__sip_leg_release(&call->agent);
  call->ended = 1;
}

/* --- libre callbacks ------------------------------------------------------ */

int vc__sip_auth_handler(char **user, char **pass, const char *realm,
                        void *arg)
{
  const sip_cfg *c = arg;

  (void)realm;
  if (c->username == NULL)
    return EAUTH;
  if (str_dup(user, c->username) != 0)
    return ENOMEM;
  if (str_dup(pass, c->password) != 0) {
    *user = mem_deref(*user);
    return ENOMEM;
  }
  return 0;
}

int vc__sip_mbuf(struct mbuf **out, const vc_buf *b)
{
  struct mbuf *mb = mbuf_alloc(b->size + 1);

  if (mb == NULL)
    return ENOMEM;
  if (mbuf_write_mem(mb, (const uint8_t *)b->ptr, b->size) != 0) {
    mem_deref(mb);
    return ENOMEM;
  }
  mb->pos = 0;
  *out = mb;
  return 0;
}

int vc__sip_keep_body(char **dst, size_t *len, const struct sip_msg *msg)
{
  size_t n = mbuf_get_left(msg->mb);
  char *p;

  if (n == 0 || n > VC__SIP_SDP_MAX)
    return EPROTO;
  if ((p = vc__malloc(n + 1)) == NULL)
    return ENOMEM;
  memcpy(p, mbuf_buf(msg->mb), n);
  p[n] = '\0';
  vc__free(*dst);
  *dst = p;
  *len = n;
  return 0;
}

/* Our description for a leg: its peer's, restated with `dir`. */
int vc__sip_leg_desc(struct mbuf **out, sip_leg *leg, int dir)
{
  sip_call *call = CALL_OF(leg);
  const char *peer = leg->which == VC_LEG_AGENT ? call->answer : call->offer;
  size_t n = leg->which == VC_LEG_AGENT ? call->answer_len : call->offer_len;
  vc_buf b = VC_BUF_INIT;
  int err;

  if (peer == NULL)
    return EPROTO;
  if (vc__sip_sdp_restate(&b, peer, n, dir, &leg->origin) < 0)
    return EPROTO;
  err = vc__sip_mbuf(out, &b);
  vc_buf_dispose(&b);
  return err;
}

static int offer_handler(struct mbuf **descp, const struct sip_msg *msg,
                         void *arg)
{
  sip_leg *leg = arg;
  sip_call *call = CALL_OF(leg);
  vc_buf b = VC_BUF_INIT;
  int err;

  if (leg->ended)
    return ECANCELED;

  if (leg->which == VC_LEG_AGENT && !leg->answered) {
    /* The agent's 200 to our SDP-less INVITE: its offer O1. */
    if ((err = vc__sip_keep_body(&call->offer, &call->offer_len, msg)) != 0)
      return err;
    if (vc__sip_sdp_inactive_answer(&b, call->offer, call->offer_len,
                                    &leg->origin) < 0)
      return EPROTO;
    err = vc__sip_mbuf(descp, &b);
    vc_buf_dispose(&b);
    return err;
  }
  /* A re-INVITE from a phone: answered with its peer's description as
   * it stands; the offer is not relayed (docs/calls.md "SIP"). */
  if (!call->bridged && leg->which == VC_LEG_AGENT) {
    if (vc__sip_sdp_inactive_answer(&b, (const char *)mbuf_buf(msg->mb),
                                    mbuf_get_left(msg->mb),
                                    &leg->origin) < 0)
      return EPROTO;
    err = vc__sip_mbuf(descp, &b);
    vc_buf_dispose(&b);
    return err;
  }
  return vc__sip_leg_desc(descp, leg, call->held ? VC__SDP_SENDONLY : VC__SDP_KEEP);
}

static void reinvite_answered(sip_leg *leg)
{
  sip_call *call = CALL_OF(leg);

  if (leg->reinvites > 0)
    leg->reinvites--;
  if (call->op == OP_BRIDGE && leg->which == VC_LEG_AGENT) {
    call->op = OP_NONE;
  } else if ((call->op == OP_HOLD || call->op == OP_UNHOLD) &&
             call->agent.reinvites == 0 && call->customer.reinvites == 0) {
    int hold = call->op == OP_HOLD;
    call->held = hold;
    vc__sip_report(call, hold ? VC_UPDATE_HOLD : VC_UPDATE_UNHOLD, VC_LEG_CUSTOMER,
           0, 0, NULL, NULL);
    op_done(call, VC_SEND_ACCEPTED, 0, NULL);
  }
}

static int answer_handler(const struct sip_msg *msg, void *arg)
{
  sip_leg *leg = arg;
  sip_call *call = CALL_OF(leg);

  if (leg->ended)
    return ECANCELED;
  if (leg->which == VC_LEG_CUSTOMER && !leg->answered) {
    /* The customer's 200: its answer A1 to O1. */
    return vc__sip_keep_body(&call->answer, &call->answer_len, msg);
  }
  reinvite_answered(leg);
  return 0;
}

static void progress_handler(const struct sip_msg *msg, void *arg)
{
  sip_leg *leg = arg;
  sip_call *call = CALL_OF(leg);

  if (leg->ended)
    return;
  leg->heard = 1;
  if (leg->which == VC_LEG_AGENT &&
      placed(call, VC_SEND_ACCEPTED, 0, 0, NULL) < 0)
    return;
  if ((msg->scode == 180 || msg->scode == 183) && !leg->ringing) {
    leg->ringing = 1;
    vc__sip_report(call, VC_UPDATE_RINGING, leg->which, 0, 0, NULL, NULL);
  }
}

static void ring_timeout(void *arg);
static void limit_timeout(void *arg);

static void establish_handler(const struct sip_msg *msg, void *arg);
static void info_handler(struct sip *sip, const struct sip_msg *msg,
                         void *arg);
static void close_handler(int err, const struct sip_msg *msg, void *arg);

static int connect_leg(sip_leg *leg, struct mbuf *desc)
{
  sip_call *call = CALL_OF(leg);
  sip_session *s = call->s;
  int err;

  err = sipsess_connect(&leg->sess, s->sock, leg->uri, NULL, call->from,
                        CONTACT_USER, s->routev, s->routec, CTYPE_SDP, desc,
                        vc__sip_auth_handler, (void *)s->cfg, false, offer_handler,
                        answer_handler, progress_handler, establish_handler,
                        info_handler, NULL, close_handler, leg,
                        "Max-Forwards: 70\r\n");
  if (err == 0)
    tmr_start(&leg->ring_tmr, (uint64_t)call->ring_s * 1000, ring_timeout,
              leg);
  return err;
}

static void establish_handler(const struct sip_msg *msg, void *arg)
{
  sip_leg *leg = arg;
  sip_call *call = CALL_OF(leg);
  struct mbuf *desc = NULL;
  int err;

  (void)msg;
  if (leg->ended)
    return;
  tmr_cancel(&leg->ring_tmr);
  leg->heard = leg->answered = 1;
  leg->answered_at = tmr_jiffies();
  if (leg->which == VC_LEG_AGENT) {
    if (placed(call, VC_SEND_ACCEPTED, 0, 0, NULL) < 0)
      return;
    vc__sip_report(call, VC_UPDATE_ANSWERED, VC_LEG_AGENT, 0, 0, NULL, NULL);
    /* The customer gets the agent's offer, under our origin. */
    if ((err = vc__sip_leg_desc(&desc, &call->customer, VC__SDP_KEEP)) != 0 ||
        (err = connect_leg(&call->customer, desc)) != 0) {
      mem_deref(desc);
      call->customer.heard = 1;
      call_end(call, &call->customer, VC_CAUSE_PROVIDER_ERROR,
               err == EPROTO ? "agent SDP" : NULL);
      return;
    }
    mem_deref(desc);
    return;
  }
  vc__sip_report(call, VC_UPDATE_ANSWERED, VC_LEG_CUSTOMER, 0, 0, NULL, NULL);
  /* Bridge: the agent's phone gets the customer's description. */
  if ((err = vc__sip_leg_desc(&desc, &call->agent, VC__SDP_KEEP)) != 0 ||
      (err = sipsess_modify(call->agent.sess, desc)) != 0) {
    mem_deref(desc);
    call_end(call, &call->customer, VC_CAUSE_PROVIDER_ERROR, "bridge");
    return;
  }
  mem_deref(desc);
  call->agent.reinvites++;
  call->op = OP_BRIDGE;
  call->bridged = 1;
  if (call->limit_s > 0)
    tmr_start(&call->limit_tmr, (uint64_t)call->limit_s * 1000,
              limit_timeout, call);
}

static void info_handler(struct sip *sip, const struct sip_msg *msg,
                         void *arg)
{
  sip_leg *leg = arg;
  char digit[2] = { 0, 0 };

  if (leg->ended) {
    (void)sip_reply(sip, msg, 481, "Call Does Not Exist");
    return;
  }
  if (!msg_ctype_cmp(&msg->ctyp, "application", "dtmf-relay")) {
    (void)sip_reply(sip, msg, 415, "Unsupported Media Type");
    return;
  }
  if (vc__sip_dtmf_relay(digit, (const char *)mbuf_buf(msg->mb),
                         mbuf_get_left(msg->mb)) < 0) {
    (void)sip_reply(sip, msg, 400, "Bad DTMF Relay Body");
    return;
  }
  (void)sip_reply(sip, msg, 200, "OK");
  vc__sip_report(CALL_OF(leg), VC_UPDATE_DTMF, leg->which, 0, 0, NULL, digit);
}

static void close_handler(int err, const struct sip_msg *msg, void *arg)
{
  sip_leg *leg = arg;
  sip_call *call = CALL_OF(leg);
  char code[16] = "";
  int cause;

  if (leg->ended)
    return;
  if (msg != NULL && msg->scode >= 100) {
    snprintf(code, sizeof(code), "%u", msg->scode);
    leg->heard = 1;
  }
  if (leg->which == VC_LEG_AGENT && !call->placed) {
    /* Nothing heard, or a final answer that says this channel cannot
     * place calls now: another channel may. */
    if (msg == NULL || msg->scode < 300 ||
        vc__sip_failover_worthy(msg->scode)) {
      placed(call, VC_SEND_FAILOVER,
             msg == NULL ? (err == ETIMEDOUT ? VC_ETIMEOUT : VC_ENET)
                         : (msg->scode == 401 || msg->scode == 403 ||
                            msg->scode == 407 ? VC_EAUTH : VC_EPROVIDER),
             msg ? msg->scode : 0,
             msg == NULL ? "the trunk did not answer" : "refused");
      call_drop(call);
      return;
    }
    if (placed(call, VC_SEND_ACCEPTED, 0, 0, NULL) < 0)
      return;
  }
  if (msg != NULL && msg->scode >= 300)
    cause = vc__sip_cause(msg->scode);
  else if (leg->answered)
    cause = VC_CAUSE_NORMAL;             /* a BYE, or our 2xx went wrong */
  else if (err == ETIMEDOUT)
    cause = VC_CAUSE_NO_ANSWER;
  else
    cause = VC_CAUSE_PROVIDER_ERROR;
  call_end(call, leg, cause, code[0] ? code : NULL);
}

static void ring_timeout(void *arg)
{
  sip_leg *leg = arg;
  sip_call *call = CALL_OF(leg);

  if (leg->which == VC_LEG_AGENT && !call->placed) {
    placed(call, VC_SEND_FAILOVER, VC_ETIMEOUT, 0,
           "the trunk did not answer");
    call_drop(call);
    return;
  }
  leg->heard = 1;
  call_end(call, leg, VC_CAUSE_NO_ANSWER, "timeout");
}

static void limit_timeout(void *arg)
{
  sip_call *call = arg;

  call_end(call, &call->agent, VC_CAUSE_TIME_LIMIT, NULL);
}

/* --- NOTIFY of a transfer ------------------------------------------------- */

static sip_call *call_of_dialog(sip_session *s, const struct sip_msg *msg,
                                sip_leg **legp)
{
  for (struct le *le = s->calls.head; le != NULL; le = le->next) {
    sip_call *call = le->data;
    sip_leg *legs[2] = { &call->agent, &call->customer };
    for (size_t i = 0; i < 2; i++)
      if (legs[i]->sess != NULL &&
          sip_dialog_cmp(sipsess_dialog(legs[i]->sess), msg)) {
        *legp = legs[i];
        return call;
      }
  }
  return NULL;
}

static bool request_handler(const struct sip_msg *msg, void *arg)
{
  sip_session *s = arg;
  sip_call *call;
  sip_leg *leg = NULL;
  int code;

  if (pl_strcmp(&msg->met, "NOTIFY") != 0)
    return false;
  if ((call = call_of_dialog(s, msg, &leg)) == NULL) {
    (void)sip_reply(s->sip, msg, 481, "Subscription Does Not Exist");
    return true;
  }
  if (!msg_ctype_cmp(&msg->ctyp, "message", "sipfrag")) {
    (void)sip_reply(s->sip, msg, 415, "Unsupported Media Type");
    return true;
  }
  code = vc__sip_sipfrag((const char *)mbuf_buf(msg->mb),
                         mbuf_get_left(msg->mb));
  if (code < 0) {
    (void)sip_reply(s->sip, msg, 400, "Bad Sipfrag Body");
    return true;
  }
  (void)sip_reply(s->sip, msg, 200, "OK");
  if (code >= 200 && code < 300 && !call->ended) {
    /* The customer talks to the target now; our dialogs are done. */
    call_end(call, &call->agent, VC_CAUSE_NORMAL, "transferred");
  }
  return true;
}

static int contact_handler(enum sip_transp tp, const struct sa *src,
                           const struct sa *dst, struct mbuf *mb, void *arg)
{
  struct sip_contact contact;

  (void)dst;
  (void)arg;
  sip_contact_set(&contact, CONTACT_USER, src, tp);
  return mbuf_printf(mb, "%H", sip_contact_print, &contact);
}

static void refer_response(int err, const struct sip_msg *msg, void *arg)
{
  sip_call *call = arg;

  if (call->op != OP_TRANSFER)
    return;
  if (err != 0 || msg == NULL) {
    op_done(call, VC_SEND_RETRY, VC_ENET, "no answer to REFER");
  } else if (msg->scode < 200) {
    return;
  } else if (msg->scode < 300) {
    op_done(call, VC_SEND_ACCEPTED, 0, NULL);
  } else {
    char why[64];
    snprintf(why, sizeof(why), "REFER refused: %u", msg->scode);
    op_done(call, VC_SEND_REJECTED, VC_EPROVIDER, why);
  }
}

/* --- link: REGISTER or OPTIONS -------------------------------------------- */

static void register_response(int err, const struct sip_msg *msg, void *arg)
{
  sip_session *s = arg;

  if (err != 0)
    link_state(s, 0, "REGISTER got no answer");
  else if (msg->scode >= 200 && msg->scode < 300)
    link_state(s, 1, "registered");
  else if (msg->scode >= 300)
    link_state(s, 0, "REGISTER refused");
}

static void ping(void *arg);

static void ping_response(int err, const struct sip_msg *msg, void *arg)
{
  sip_session *s = arg;

  /* Any final answer, even 405 or 407, shows the trunk is there. */
  if (err != 0 || msg == NULL)
    link_state(s, 0, "OPTIONS got no answer");
  else if (msg->scode >= 200)
    link_state(s, 1, "OPTIONS answered");
  else
    return;
  s->ping = mem_deref(s->ping);
  if (s->cfg->keepalive_s > 0)
    tmr_start(&s->ping_tmr, (uint64_t)s->cfg->keepalive_s * 1000, ping, s);
}

static void ping(void *arg)
{
  sip_session *s = arg;
  int err;

  s->ping = mem_deref(s->ping);
  s->ping_dlg = mem_deref(s->ping_dlg);
  err = sip_dialog_alloc(&s->ping_dlg, s->cfg->proxy, s->cfg->proxy, NULL,
                         s->cfg->aor ? s->cfg->aor : s->cfg->proxy,
                         s->routev, s->routec);
  if (err == 0)
    err = sip_drequestf(&s->ping, s->sip, true, "OPTIONS", s->ping_dlg, 0,
                        NULL, NULL, ping_response, s,
                        "Accept: application/sdp\r\n"
                        "Content-Length: 0\r\n\r\n");
  if (err != 0) {
    link_state(s, 0, "OPTIONS could not be sent");
    if (s->cfg->keepalive_s > 0)
      tmr_start(&s->ping_tmr, (uint64_t)s->cfg->keepalive_s * 1000, ping,
                s);
  }
}

/* --- session methods ------------------------------------------------------ */

/* An INVITE outside our dialogs: a call to take (sip_in.c). */
static void incoming(const struct sip_msg *msg, void *arg)
{
  vc__sip_in_invite(arg, msg);
}

static void session_free(sip_session *s)
{
  struct le *le;

  if (s == NULL)
    return;
  tmr_cancel(&s->ping_tmr);
  while ((le = s->calls.head) != NULL)
    mem_deref(le->data);
  s->ping = mem_deref(s->ping);
  s->ping_dlg = mem_deref(s->ping_dlg);
  s->reg = mem_deref(s->reg);
  s->lsnr = mem_deref(s->lsnr);
  /* Flushes what is still in flight (a BYE just sent), calling its
   * handlers with an error, so nothing outlives the session. */
  if (s->sip != NULL)
    sip_close(s->sip, true);
  s->sock = mem_deref(s->sock);
  s->sip = mem_deref(s->sip);
  s->dnsc = mem_deref(s->dnsc);
  vc__free(s);
}

static int sip_open(void **session, void *adapter_state,
                    vc_session_host *host)
{
  const sip_cfg *c = adapter_state;
  sip_session *s;
  struct sa laddr, ns[4];
  uint32_t nsn = VC_ARRAY_SIZE(ns);
  char domain[64];
  int err;

  *session = NULL;
  if ((s = vc__calloc(1, sizeof(*s))) == NULL)
    return vc_error_set_oom();
  s->cfg = c;
  s->host = host;
  s->link = -1;
  tmr_init(&s->ping_tmr);
  list_init(&s->calls);
  if (c->laddr[0] != '\0')
    err = sa_set_str(&laddr, c->laddr, c->lport);
  else if ((err = net_default_source_addr_get(AF_INET, &laddr)) == 0)
    sa_set_port(&laddr, c->lport);
  if (err != 0) {
    err = vc__error_set(VC_ERRCLASS_SIP, VC_ENET,
                        "sip: no local address to listen on");
    goto fail;
  }
  if (re_snprintf(s->addr, sizeof(s->addr), "%j", &laddr) < 0)
    s->addr[0] = '\0';
  /* Names need a resolver; hosts given as addresses never use it. */
  if (dns_srv_get(domain, sizeof(domain), ns, &nsn) != 0 || nsn == 0) {
    sa_set_str(&ns[0], "127.0.0.1", 53);
    nsn = 1;
  }
  if ((err = dnsc_alloc(&s->dnsc, NULL, ns, nsn)) != 0 ||
      (err = sip_alloc(&s->sip, s->dnsc, 32, 32, 32, "vyomcomm", NULL,
                       NULL)) != 0 ||
      (err = sip_transp_add(s->sip, c->tcp ? SIP_TRANSP_TCP : SIP_TRANSP_UDP,
                            &laddr)) != 0 ||
      (err = sipsess_listen(&s->sock, s->sip, 32, incoming, s)) != 0 ||
      (err = sip_listen(&s->lsnr, s->sip, true, request_handler, s)) != 0) {
    err = vc__error_set(VC_ERRCLASS_SIP, VC_ENET,
                        "sip: cannot listen on %s:%u (%s)",
                        c->laddr[0] ? c->laddr : "the default address",
                        c->lport, strerror(err));
    goto fail;
  }
  if (c->proxy != NULL) {
    /* Loose routing through the proxy, on the configured transport. */
    snprintf(s->route, sizeof(s->route), "%s;lr%s", c->proxy,
             c->tcp && strstr(c->proxy, "transport=") == NULL
                 ? ";transport=tcp" : "");
    s->routev[0] = s->route;
    s->routec = 1;
  }
  if (c->reg) {
    err = sipreg_register(&s->reg, s->sip, c->proxy, c->aor, NULL, c->aor,
                          (uint32_t)c->expires_s, CONTACT_USER, s->routev,
                          s->routec, 0, vc__sip_auth_handler, (void *)c, false,
                          register_response, s, NULL, NULL);
  } else if (c->proxy != NULL) {
    ping(s);
  } else {
    link_state(s, 1, "no proxy: calls go straight to their URIs");
  }
  if (err != 0) {
    err = vc__error_set(VC_ERRCLASS_SIP, VC_ENET,
                        "sip: cannot register (%s)", strerror(err));
    goto fail;
  }
  *session = s;
  return 0;
fail:
  session_free(s);
  return err;
}

static void sip_close_session(void *session)
{
  session_free(session);
}

sip_call *vc__sip_find_call(sip_session *s, const char *call_id)
{
  for (struct le *le = s->calls.head; le != NULL; le = le->next) {
    sip_call *call = le->data;
    if (strcmp(call->call_id, call_id) == 0)
      return call;
  }
  return NULL;
}

sip_call *vc__sip_call_new(sip_session *s)
{
  sip_call *call = mem_zalloc(sizeof(*call), call_free);

  if (call == NULL)
    return NULL;
  call->s = s;
  call->agent.call = call->customer.call = call;
  call->agent.which = VC_LEG_AGENT;
  call->customer.which = VC_LEG_CUSTOMER;
  for (size_t i = 0; i < 2; i++) {
    sip_leg *leg = i ? &call->customer : &call->agent;
    tmr_init(&leg->ring_tmr);
    leg->origin.sess_id = rand_u64() >> 2;
    snprintf(leg->origin.addr, sizeof(leg->origin.addr), "%s",
             s->addr[0] ? s->addr : "127.0.0.1");
  }
  tmr_init(&call->limit_tmr);
  tmr_init(&call->op_tmr);
  tmr_init(&call->gc_tmr);
  return call;
}

static int sip_place_call(void *session, const vc_call_outbound *o)
{
  sip_session *s = session;
  const sip_cfg *c = s->cfg;
  sip_call *call;
  int rc;

  VC_ASSERT_ARG(s && o && o->call_id);
  if (strlen(o->call_id) > VC__VOIP_CALL_ID_MAX)
    return BAD_INPUT("call id too long");
  if ((call = vc__sip_find_call(s, o->call_id)) != NULL) {
    if (!call->ended) {
      /* The core places again a call this session is still placing (its
       * wait ran out, or its job's lease did): it is the same call, and
       * the agent must not be dialled twice. The answer goes to the new
       * placement, now if it was given already. */
      if (call->placed) {
        call->placed = 0;
        (void)placed(call, VC_SEND_ACCEPTED, 0, 0, NULL);
      }
      return 0;
    }
    list_unlink(&call->le); /* ended, waiting for its clean-up */
  }
  if ((call = vc__sip_call_new(s)) == NULL)
    return vc_error_set_oom();
  strcpy(call->call_id, o->call_id);
  call->ring_s = o->ring_timeout_s > 0 ? o->ring_timeout_s : DEFAULT_RING_S;
  call->limit_s = o->time_limit_s > 0 ? o->time_limit_s : 0;
  if ((rc = vc__sip_party_uri(call->agent.uri, sizeof(call->agent.uri), c,
                      c->agent_tmpl, o->agent, "the agent")) < 0 ||
      (rc = vc__sip_party_uri(call->customer.uri, sizeof(call->customer.uri), c,
                      c->customer_tmpl, o->customer, "the customer")) < 0)
    goto fail;
  if (strstr(c->from, "{number}") != NULL) {
    if ((rc = vc__sip_expand(call->from, sizeof(call->from), c->from,
                             o->caller_id ? o->caller_id
                                          : "anonymous")) < 0)
      goto fail;
  } else {
    snprintf(call->from, sizeof(call->from), "%s", c->from);
  }
  list_append(&s->calls, &call->le, call);
  if (connect_leg(&call->agent, NULL) != 0) {
    rc = vc__error_set(VC_ERRCLASS_SIP, VC_ENET,
                       "sip: the agent's INVITE could not be sent");
    goto fail;
  }
  snprintf(call->provider_id, sizeof(call->provider_id), "%s",
           sip_dialog_callid(sipsess_dialog(call->agent.sess)));
  return 0;
fail:
  mem_deref(call);
  return rc;
}

static void op_timeout(void *arg)
{
  sip_call *call = arg;

  call->agent.reinvites = call->customer.reinvites = 0;
  op_done(call, VC_SEND_RETRY, VC_ETIMEOUT, "no answer in time");
}

static int start_op(sip_call *call, int op, uint64_t token)
{
  call->op = op;
  call->op_token = token;
  call->op_has_token = 1;
  tmr_start(&call->op_tmr, OP_TIMEOUT_MS, op_timeout, call);
  return 0;
}

int vc__sip_reinvite(sip_leg *leg, int dir)
{
  struct mbuf *desc = NULL;
  int err;

  if ((err = vc__sip_leg_desc(&desc, leg, dir)) == 0 &&
      (err = sipsess_modify(leg->sess, desc)) == 0)
    leg->reinvites++;
  mem_deref(desc);
  return err;
}

static int sip_operation(void *session, const vc_call_control *c,
                         uint64_t token)
{
  sip_session *s = session;
  sip_call *call;
  vc_send_result r;

  VC_ASSERT_ARG(s && c && c->call_id);
  if ((call = vc__sip_find_call(s, c->call_id)) == NULL || call->ended) {
    if (c->op == VC_CALL_OP_HANGUP) {
      /* Already over: nothing left to hang up. */
      memset(&r, 0, sizeof(r));
      r.version = VC_SEND_RESULT_VERSION;
      r.outcome = VC_SEND_ACCEPTED;
      (void)vc_session_done(s->host, token, &r);
      return 0;
    }
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ESTATE,
                         "sip: call %s is not live on this session",
                         c->call_id);
  }
  if (call->in != NULL) {
    /* A call taken: only hanging up; its script does the rest. */
    if (c->op != VC_CALL_OP_HANGUP)
      return vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTSUPPORTED,
                           "sip: an inbound call can only be hung up");
    memset(&r, 0, sizeof(r));
    r.version = VC_SEND_RESULT_VERSION;
    r.outcome = VC_SEND_ACCEPTED;
    (void)vc__sip_in_hangup(call);
    (void)vc_session_done(s->host, token, &r);
    return 0;
  }
  switch (c->op) {
  case VC_CALL_OP_HANGUP:
    /* An unanswered INVITE is canceled, a live dialog gets BYE. */
    call_end(call, &call->agent, VC_CAUSE_API_HANGUP, NULL);
    memset(&r, 0, sizeof(r));
    r.version = VC_SEND_RESULT_VERSION;
    r.outcome = VC_SEND_ACCEPTED;
    (void)vc_session_done(s->host, token, &r);
    return 0;
  case VC_CALL_OP_HOLD:
  case VC_CALL_OP_UNHOLD: {
    int hold = c->op == VC_CALL_OP_HOLD;
    int dir = hold ? VC__SDP_SENDONLY : VC__SDP_SENDRECV;
    if (!call->bridged || call->op != OP_NONE || call->held == hold)
      return vc__error_set(VC_ERRCLASS_INVALID, VC_ESTATE,
                           "sip: the call is not in a state to %s",
                           hold ? "hold" : "resume");
    if (vc__sip_reinvite(&call->customer, dir) != 0 ||
        vc__sip_reinvite(&call->agent, dir) != 0) {
      call->agent.reinvites = call->customer.reinvites = 0;
      return vc__error_set(VC_ERRCLASS_SIP, VC_ENET,
                           "sip: the re-INVITE could not be sent");
    }
    return start_op(call, hold ? OP_HOLD : OP_UNHOLD, token);
  }
  case VC_CALL_OP_TRANSFER: {
    char uri[VC__SIP_URI_MAX + 32];
    int rc;
    if (!call->customer.answered || call->op != OP_NONE)
      return vc__error_set(VC_ERRCLASS_INVALID, VC_ESTATE,
                           "sip: the customer is not connected");
    if ((rc = vc__sip_party_uri(uri, sizeof(uri), s->cfg, s->cfg->customer_tmpl,
                        c->target, "the transfer target")) < 0)
      return rc;
    call->refer = mem_deref(call->refer);
    if (sip_drequestf(&call->refer, s->sip, true, "REFER",
                      sipsess_dialog(call->customer.sess), 0, NULL,
                      contact_handler, refer_response, call,
                      "Refer-To: <%s>\r\n"
                      "Referred-By: <%s>\r\n"
                      "Content-Length: 0\r\n\r\n", uri, call->from) != 0)
      return vc__error_set(VC_ERRCLASS_SIP, VC_ENET,
                           "sip: the REFER could not be sent");
    return start_op(call, OP_TRANSFER, token);
  }
  default:
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTSUPPORTED,
                         "sip: operation %d is not supported (no media "
                         "passes through the library)", c->op);
  }
}

static const vc_session_ops SIP_SESSION = {
  VC_SESSION_OPS_VERSION,
  sip_open,
  sip_close_session,
  sip_place_call,
  sip_operation,
  vc__sip_in_run_script,
};

const vc_adapter vc__adapter_sip = {
  .version = VC_ADAPTER_VERSION,
  .name = "sip",
  .kind = VC_CHANNEL_VOICE,
  .capabilities = VC_CAP_CALL_HOLD | VC_CAP_CALL_TRANSFER |
                  VC_CAP_CALL_HANGUP,
  .init = sip_init,
  .fini = sip_fini,
  .session = &SIP_SESSION,
};
