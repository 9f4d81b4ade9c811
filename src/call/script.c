/*
 * The call side of webhooks. See script.h.
 *
 * Scripts by step (the brief "how a call flows"):
 *   answer           DIAL the customer (status_url ...&vc_step=customer,
 *                    action_url ...&vc_step=dial_end, answer_url
 *                    ...&vc_step=customer_answer when there is a consent
 *                    announcement or an IVR menu);
 *   customer_answer  SAY the consent text, then the IVR menu's entry;
 *   ivr              the IVR's next step for the keys pressed;
 *   dial_end         HANGUP, or HOLD for the agent while the customer is
 *                    held (a transfer ends the agent's leg: HANGUP); a
 *                    bridge that ended with the legs together ends the
 *                    call as the customer's hangup, if nothing did yet;
 *   anything else    an empty script.
 * An IVR's CONNECT bridges the call (empty script: the provider bridges),
 * HANGUP ends it (cause ivr), TRANSFER queues a transfer control and
 * answers HANGUP for the customer's whisper.
 */
#include "core/common.h"
#include "core/buf.h"
#include "core/codec.h"
#include "core/ctx.h"
#include "core/text.h"
#include "core/ulid.h"
#include "control.h"
#include "hooks.h"
#include "inbound.h"
#include "machine.h"
#include "script.h"

#include <stdio.h>
#include <stdlib.h>

#define SCRIPT_STEPS (VC__IVR_MAX_STEPS + 4)
#define URL_SIZE 1200

static const char SQL_BY_PROVIDER_ID[] =
  "SELECT id FROM vc_call WHERE tenant_id = ?1 AND channel_id = ?2"
  " AND provider_call_id = ?3";
/* A hold the engine is still sending: the provider may end the bridge
 * (Twilio's <Dial> action) before the engine hears that it took it. */
static const char SQL_HOLD_PENDING[] =
  "SELECT COUNT(*) FROM vc_call_control WHERE tenant_id = ?1"
  " AND call_id = ?2 AND status = 0 AND op = ?3";

void vc__call_webhook_init(vc__call_webhook *w, const char *target)
{
  const char *q = strchr(target, '?');
  vc__form f;
  const char *v;

  w->call_id[0] = w->step[0] = w->node[0] = '\0';
  w->attempt = 0;
  w->have_digits = 0;
  if (q == NULL || vc__form_parse(&f, q + 1, strlen(q + 1), 32) < 0) {
    vc_error_clear();
    return;
  }
  if ((v = vc__form_get(&f, "vc_call")) != NULL && vc__ulid_valid(v))
    snprintf(w->call_id, sizeof(w->call_id), "%s", v);
  if ((v = vc__form_get(&f, "vc_step")) != NULL &&
      vc__check_token("vc_step", v, VC__CALL_STEP_MAX - 1, "a-z",
                      "a-z_") == 0)
    snprintf(w->step, sizeof(w->step), "%s", v);
  if ((v = vc__form_get(&f, "vc_node")) != NULL &&
      vc__check_token("vc_node", v, VC__CALL_NODE_MAX - 1, NULL,
                      "A-Za-z0-9_.:-") == 0)
    snprintf(w->node, sizeof(w->node), "%s", v);
  if ((v = vc__form_get(&f, "vc_try")) != NULL &&
      vc__check_token("vc_try", v, 2, "0-9", "0-9") == 0)
    w->attempt = atoi(v);
  vc_error_clear();
  vc__form_free(&f);
}

/* The call an update is about, on this channel: 0 with *r loaded, or
 * VC_ENOTFOUND. */
static int find_call(vc__call_webhook *w, const vc_call_update *u,
                     vc__call_row *r)
{
  char id[VC_ID_SIZE] = "";
  vc__stmt *s;
  int rc;

  if (w->call_id[0] != '\0')
    snprintf(id, sizeof(id), "%s", w->call_id);
  else if (u->call_id != NULL && vc__ulid_valid(u->call_id))
    snprintf(id, sizeof(id), "%s", u->call_id);
  else if (u->provider_call_id != NULL) {
    if ((rc = vc__db_query(&s, w->db, SQL_BY_PROVIDER_ID, "ttt",
                           w->tenant_id, w->channel_id,
                           u->provider_call_id)) < 0)
      return rc;
    if (vc__stmt_step(s) == VC_STORAGE_ROW)
      snprintf(id, sizeof(id), "%s", vc__stmt_text(s, 0));
    vc__stmt_done(s);
  }
  if (id[0] == '\0')
    return VC_ENOTFOUND;
  if ((rc = vc__call_row_load(r, w->db, w->tenant_id, id)) < 0)
    return rc;
  /* Only the channel placing the call may move it. */
  if (strcmp(r->channel_id, w->channel_id) != 0)
    return VC_ENOTFOUND;
  return 0;
}

/* A script under construction; steps point into its own strings. */
typedef struct script {
  vc_call_step steps[SCRIPT_STEPS];
  size_t n;
  char base[URL_SIZE];
  char status_url[URL_SIZE], action_url[URL_SIZE], answer_url[URL_SIZE];
  char consent[1024];
  char language[36];
  vc__ivr_result ivr;
} script;

static vc_call_step *add(script *sc, int kind)
{
  vc_call_step *st;

  if (sc->n == SCRIPT_STEPS)
    return NULL;
  st = &sc->steps[sc->n++];
  memset(st, 0, sizeof(*st));
  st->kind = kind;
  return st;
}

static int has_consent(vc__call_webhook *w, const vc__call_row *r,
                       script *sc)
{
  int mode = 0;

  sc->consent[0] = '\0';
  if (vc__recording_mode(w->db, w->tenant_id, r->record_mode, &mode,
                         sc->consent) < 0)
    return -1;
  return sc->consent[0] != '\0';
}

/* 1 when the customer is on hold or a hold is being sent. */
static int holding(vc__call_webhook *w, const vc__call_row *r, int *out)
{
  vc__stmt *s;
  int rc;

  *out = r->on_hold;
  if (*out)
    return 0;
  if ((rc = vc__db_query(&s, w->db, SQL_HOLD_PENDING, "tti", w->tenant_id,
                         r->id, (int64_t)VC_CALL_OP_HOLD)) < 0)
    return rc;
  if ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW) {
    *out = vc__stmt_int64(s, 0) > 0;
    rc = 0;
  }
  vc__stmt_done(s);
  return rc < 0 ? rc : 0;
}

static int dial_customer(vc__call_webhook *w, const vc__call_row *r,
                         script *sc)
{
  vc_call_step *st;
  int consent;

  if ((consent = has_consent(w, r, sc)) < 0)
    return VC_ERROR;
  snprintf(sc->status_url, URL_SIZE, "%s&vc_step=customer", sc->base);
  snprintf(sc->action_url, URL_SIZE, "%s&vc_step=dial_end", sc->base);
  snprintf(sc->answer_url, URL_SIZE, "%s&vc_step=customer_answer",
           sc->base);
  st = add(sc, VC_STEP_DIAL);
  st->target = r->customer_number;
  st->caller_id = r->caller_id[0] ? r->caller_id : NULL;
  st->timeout_s = r->ring_timeout_s;
  st->time_limit_s = r->time_limit_s;
  st->record = r->record_mode == VC_RECORD_ALWAYS;
  st->status_url = sc->status_url;
  st->action_url = sc->action_url;
  if (consent || r->ivr_menu_id[0] != '\0')
    st->answer_url = sc->answer_url;
  return 0;
}

/* One IVR step and what the call does after it. The IVR's steps (a
 * node's prompt, or the words an option says before it connects,
 * transfers or hangs up) come first in every case. */
static int run_ivr(vc__call_webhook *w, const vc__call_row *r, script *sc,
                   const char *node, const char *digits, int attempt)
{
  vc__call_ending e;
  int rc;

  if ((rc = vc__ivr_step(w->db, w->ctx, w->tenant_id, r->id, r->ivr_menu_id,
                         node, digits, attempt, sc->base, &sc->ivr)) < 0)
    return rc;
  for (size_t i = 0; i < sc->ivr.nsteps && i < VC__IVR_MAX_STEPS; i++) {
    vc_call_step *st = add(sc, sc->ivr.steps[i].kind);
    if (st != NULL)
      *st = sc->ivr.steps[i];
  }
  switch (sc->ivr.action) {
  case VC__IVR_SCRIPT:
    return 0;
  case VC__IVR_CONNECT:
    return vc__call_bridge(w->db, w->ctx, w->tenant_id, r->id, w->now);
  case VC__IVR_TRANSFER:
    if ((rc = vc__call_control_enqueue(w->db, w->ctx, w->tenant_id, r->id,
                                       VC_CALL_OP_TRANSFER,
                                       sc->ivr.target)) < 0)
      return rc;
    add(sc, VC_STEP_HANGUP);
    return 0;
  default: /* VC__IVR_HANGUP */
    memset(&e, 0, sizeof(e));
    e.state = VC_CALL_CANCELED;
    e.cause = VC_CAUSE_IVR;
    e.leg = VC_LEG_CUSTOMER;
    e.at = w->now;
    if (sc->n == 0 || sc->steps[sc->n - 1].kind != VC_STEP_HANGUP)
      add(sc, VC_STEP_HANGUP);
    return vc__call_end(w->db, w->ctx, w->tenant_id, r->id, &e);
  }
}

static int compose(vc__call_webhook *w, const vc__call_row *r,
                   const vc_call_update *script_u, script *sc)
{
  int rc, detached;

  vc__call_webhook_url(sc->base, sizeof(sc->base), w->ctx, w->channel_id,
                       r->id);
  if (!vc__call_state_live(r->state)) {
    add(sc, VC_STEP_HANGUP);
    return 0;
  }
  if (strcmp(w->step, "answer") == 0)
    return dial_customer(w, r, sc);
  if (strcmp(w->step, "customer_answer") == 0) {
    if ((rc = has_consent(w, r, sc)) < 0)
      return VC_ERROR;
    if (rc == 1) {
      vc_call_step *st = add(sc, VC_STEP_SAY);
      if (vc__recording_consent_language(w->db, w->tenant_id,
                                         sc->language) < 0)
        return VC_ERROR;
      st->text = sc->consent;
      st->language = sc->language;
    }
    if (r->ivr_menu_id[0] != '\0')
      return run_ivr(w, r, sc, "", NULL, 0);
    return 0;
  }
  if (strcmp(w->step, "ivr") == 0) {
    if (r->ivr_menu_id[0] == '\0')
      return 0;
    return run_ivr(w, r, sc, w->node, w->have_digits ? w->digits : NULL,
                   w->attempt);
  }
  if (strcmp(w->step, "dial_end") == 0) {
    int held;
    if ((rc = vc__call_legs_detached(w->db, w->tenant_id, r,
                                     VC_LEG_CUSTOMER, &detached)) < 0 ||
        (rc = holding(w, r, &held)) < 0)
      return rc;
    if (detached && !r->transferred && held) {
      vc_call_step *st = add(sc, VC_STEP_HOLD);
      st->loop = 0;
      return 0;
    }
    /* A bridge that ended with the legs together: the customer left it
     * (hung up, or the time limit came). Its own status callback says
     * so too, but may come later than this, and the agent's hangup
     * that answers it must not be taken for the end. */
    if (!detached && !r->transferred && r->state == VC_CALL_BRIDGED) {
      vc_call_update u;
      memset(&u, 0, sizeof(u));
      u.version = VC_CALL_UPDATE_VERSION;
      u.type = VC_UPDATE_ENDED;
      u.leg = VC_LEG_CUSTOMER;
      u.cause = VC_CAUSE_NORMAL;
      u.duration_s = script_u->duration_s;   /* the bridge's, if told */
      u.occurred_at = script_u->occurred_at;
      if ((rc = vc__call_apply_row(w->db, w->ctx, w->tenant_id, r, &u,
                                   w->now, NULL)) < 0)
        return rc;
    }
    add(sc, VC_STEP_HANGUP);
    return 0;
  }
  return 0;
}

int vc__call_webhook_answer(vc__call_webhook *w, const char *call_id,
                            const char *provider_call_id,
                            const vc_call_script *s, char **body,
                            char **type)
{
  const char *t = NULL;
  vc_buf out = VC_BUF_INIT;
  int rc;

  if (body != NULL)
    *body = NULL;
  if (type != NULL)
    *type = NULL;
  if (w->run != NULL)
    return w->run(w->run_arg, call_id, provider_call_id, s);
  if (w->adapter->version < 2 || w->adapter->render_script == NULL ||
      w->sink == NULL)
    return 0;
  if ((rc = w->adapter->render_script(w->state, s, &out, &t)) == 0)
    rc = vc_event_sink_reply(w->sink, 200, t ? t : "text/plain",
                             out.ptr ? out.ptr : "");
  if (rc == 0 && body != NULL && type != NULL &&
      ((*body = vc__strdup(out.ptr ? out.ptr : "")) == NULL ||
       (*type = vc__strdup(t ? t : "text/plain")) == NULL)) {
    vc__free(*body);
    *body = NULL;
    rc = vc_error_set_oom();
  }
  vc_buf_dispose(&out);
  return rc;
}

static int answer(vc__call_webhook *w, const vc__call_row *r, script *sc)
{
  vc_call_script s = { VC_CALL_SCRIPT_VERSION, sc->steps, sc->n };

  return vc__call_webhook_answer(w, r ? r->id : "",
                                 r ? r->provider_call_id : "", &s, NULL,
                                 NULL);
}

int vc__call_webhook_update(vc__call_webhook *w, const vc_call_update *u)
{
  vc__call_row r;
  script *sc;
  int rc;

  if (u->type == VC_UPDATE_INCOMING)
    return vc__inbound_arrive(w, u);
  if ((rc = find_call(w, u, &r)) == VC_ENOTFOUND) {
    vc_error_clear();
    if (u->type == VC_UPDATE_SCRIPT && (sc = vc__calloc(1, sizeof(*sc)))) {
      add(sc, VC_STEP_HANGUP);
      rc = answer(w, NULL, sc);
      vc__free(sc);
      return rc < 0 ? rc : VC_ENOTFOUND;
    }
    return VC_ENOTFOUND;
  }
  if (rc < 0)
    return rc;
  if (u->type == VC_UPDATE_DTMF && strcmp(w->step, "ivr") == 0 &&
      r.ivr_menu_id[0] != '\0') {
    /* The IVR logs the keys with its node when it runs (the SCRIPT). */
    snprintf(w->digits, sizeof(w->digits), "%s", u->digits);
    w->have_digits = 1;
    return 0;
  }
  if (u->type != VC_UPDATE_SCRIPT) {
    if (r.direction == VC_CALL_INBOUND &&
        (rc = vc__inbound_stale(w, &r)) != 0)
      return rc < 0 ? rc : 0;
    return vc__call_apply_row(w->db, w->ctx, w->tenant_id, &r, u, w->now,
                              NULL);
  }
  if (r.direction == VC_CALL_INBOUND)
    return vc__inbound_script(w, &r);
  if ((sc = vc__calloc(1, sizeof(*sc))) == NULL)
    return vc_error_set_oom();
  if ((rc = compose(w, &r, u, sc)) == 0)
    rc = answer(w, &r, sc);
  vc__free(sc);
  return rc;
}
