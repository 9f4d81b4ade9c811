/*
 * Inbound calls. See inbound.h; the flow is described in docs/calls.md,
 * "Inbound calls".
 *
 * Phases of vc_inbound_call (where the caller is):
 *   IVR        the number's menu runs (GATHER to vc_step=ivr)
 *   QUEUE      waiting in queue_id (in the queue's line)
 *   RINGING    a DIAL rings ring_agent_id (or a number an IVR transfer
 *              named); the call is out of the line meanwhile
 *   BRIDGED    talking
 *   VOICEMAIL  recording a voicemail
 *   MISSED     the agent the number (or the IVR) named missed the call:
 *              the next fetch offers that agent's voicemail
 *   ENDED
 * Every fetch and report touches last_fetch_at; the watchdog job ends a
 * caller not heard of for VC__INBOUND_IDLE_MS outside a conversation.
 */
#include "core/common.h"
#include "core/ctx.h"
#include "core/event.h"
#include "core/json.h"
#include "core/job.h"
#include "core/text.h"
#include "msg/contact.h"
#include "agent.h"
#include "control.h"
#include "hooks.h"
#include "inbound.h"
#include "number.h"
#include "queue.h"
#include "voicemail.h"

#include <cJSON.h>
#include <stdio.h>

enum {
  P_IVR = 1, P_QUEUE = 2, P_RINGING = 3, P_BRIDGED = 4, P_VOICEMAIL = 5,
  P_ENDED = 6, P_MISSED = 7
};

#define STEPS_MAX (VC__IVR_MAX_STEPS + 8)
#define URL_SIZE 1200
#define PATH_MAX_ENTRIES 32
#define PATH_SIZE 4096
#define TRIED_SIZE 1024
#define QUEUE_RING_S 20        /* a queue rings each agent this long */
#define AGENT_RING_S 30        /* the agent a number or menu names */
#define WAIT_PAUSE_S 5         /* silence between two tries to pick */
#define VOICEMAIL_MAX_S 120
#define VOICEMAIL_SILENCE_S 5
#define HOPS_MAX 4             /* overflows from queue to queue */
#define TIME_LIMIT_S 14400

static const char SQL_BY_PROVIDER[] =
  "SELECT call_id, COALESCE(answer_type, ''), COALESCE(answer_body, '')"
  " FROM vc_inbound_call WHERE tenant_id = ?1 AND channel_id = ?2"
  " AND provider_call_id = ?3";
static const char SQL_INSERT_CALL[] =
  "INSERT INTO vc_call (tenant_id, id, state, agent_number,"
  " customer_number, caller_id, channel_id, pinned, provider_call_id,"
  " record_mode, ivr_menu_id, content_hash, ring_timeout_s, time_limit_s,"
  " created_at, updated_at, contact_id, direction)"
  " VALUES (?1, ?2, 1, '', ?3, ?4, ?5, 1, ?6, ?7, ?8, 'inbound', ?9, ?10,"
  " ?11, ?11, ?12, 2)";
static const char SQL_INSERT[] =
  "INSERT INTO vc_inbound_call (tenant_id, call_id, channel_id,"
  " provider_call_id, number_id, entry_kind, entry_id, phase,"
  " last_fetch_at, created_at, updated_at)"
  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?9)";
static const char SQL_ANSWER_KEEP[] =
  "UPDATE vc_inbound_call SET answer_type = ?3, answer_body = ?4"
  " WHERE tenant_id = ?1 AND call_id = ?2";
static const char SQL_LOAD[] =
  "SELECT number_id, entry_kind, entry_id, phase, ivr_path, queue_id,"
  " skills, queue_expires_at, queue_hops, ring_agent_id, rings, tried,"
  " voicemail_box, COALESCE(voicemail_id, ''), provider_call_id"
  " FROM vc_inbound_call WHERE tenant_id = ?1 AND call_id = ?2";
static const char SQL_SAVE[] =
  "UPDATE vc_inbound_call SET phase = ?3, ivr_path = ?4, queue_id = ?5,"
  " skills = ?6, queue_expires_at = ?7, queue_hops = ?8,"
  " ring_agent_id = ?9, rings = ?10, tried = ?11, voicemail_box = ?12,"
  " last_fetch_at = ?13, updated_at = ?13"
  " WHERE tenant_id = ?1 AND call_id = ?2";
static const char SQL_CALLBACK[] =
  "UPDATE vc_inbound_call SET callback_agent = ?3"
  " WHERE tenant_id = ?1 AND call_id = ?2";
static const char SQL_SET_AGENT[] =
  "UPDATE vc_call SET agent_id = ?3, agent_number = ?4, updated_at = ?5"
  " WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_AGENT[] =
  "SELECT number, name FROM vc_agent WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_AGENT_BY_NUMBER[] =
  "SELECT id FROM vc_agent WHERE tenant_id = ?1 AND number = ?2"
  " ORDER BY id LIMIT 1";
static const char SQL_QUEUE[] =
  "SELECT name, announce_position, overflow_kind, overflow_target,"
  " moh_url, (SELECT COUNT(*) FROM vc_queue_member m"
  "  WHERE m.tenant_id = q.tenant_id AND m.queue_id = q.id)"
  " FROM vc_queue q WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_EXPIRES[] =
  "SELECT expires_at FROM vc_queue_call WHERE tenant_id = ?1"
  " AND queue_id = ?2 AND call_id = ?3";
/* Back to the head of the line, with the wait it started with. */
static const char SQL_REQUEUE_HEAD[] =
  "INSERT INTO vc_queue_call (tenant_id, queue_id, call_id, seq,"
  " enqueued_at, expires_at)"
  " SELECT ?1, ?2, ?3, COALESCE(MIN(seq), 1) - 1, ?4, ?5"
  " FROM vc_queue_call WHERE tenant_id = ?1 AND queue_id = ?2";
static const char SQL_NUMBER[] =
  "SELECT number, label FROM vc_number WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_CONTACT[] =
  "SELECT COALESCE(name, '') FROM vc_contact WHERE tenant_id = ?1"
  " AND id = ?2";
static const char SQL_CALL_CONTACT[] =
  "SELECT COALESCE(contact_id, '') FROM vc_call WHERE tenant_id = ?1"
  " AND id = ?2";
static const char SQL_TOUCH[] =
  "UPDATE vc_inbound_call SET last_fetch_at = ?3 WHERE tenant_id = ?1"
  " AND call_id = ?2";
static const char SQL_RINGS[] =
  "SELECT rings FROM vc_inbound_call WHERE tenant_id = ?1 AND call_id = ?2";
static const char SQL_WATCH[] =
  "SELECT phase, last_fetch_at FROM vc_inbound_call WHERE tenant_id = ?1"
  " AND call_id = ?2";

/* An inbound call's row. */
typedef struct inbound {
  char number_id[VC_ID_SIZE];
  int entry_kind;
  char entry_id[VC_ID_SIZE];
  int phase;
  char path[PATH_SIZE];
  char queue_id[VC_ID_SIZE];
  char skills[520];
  int64_t queue_expires_at;
  int hops;
  char ring_agent[VC_ID_SIZE];
  int rings;
  char tried[TRIED_SIZE];
  char box[VC_ID_SIZE];
  char voicemail_id[VC__CALL_PROVIDER_ID_MAX];
  char provider_call_id[VC__CALL_PROVIDER_ID_MAX];
} inbound;

/* A script under construction; steps point into its own strings. */
typedef struct script {
  vc_call_step steps[STEPS_MAX];
  size_t n;
  char base[URL_SIZE];
  char urls[4][URL_SIZE];
  int nurls;
  char texts[4][1024];
  int ntexts;
  char target[VC_CALL_ADDRESS_MAX + 1];
  char caller[VC_CALL_ADDRESS_MAX + 1];
  char language[36];
  vc__ivr_result ivr;
} script;

/* What a step of the engine works on. */
typedef struct run {
  vc_ctx *ctx;
  vc__db *db;
  const char *tenant_id;
  const char *channel_id;
  vc__call_row r;
  inbound ic;
  int64_t now;
} run;

static void copy(char *dst, size_t size, const char *src)
{
  snprintf(dst, size, "%s", src ? src : "");
}

/* ---- the row ------------------------------------------------------------ */

static int load(run *x)
{
  inbound *ic = &x->ic;
  vc__stmt *s;
  int rc;

  memset(ic, 0, sizeof(*ic));
  if ((rc = vc__db_query(&s, x->db, SQL_LOAD, "tt", x->tenant_id,
                         x->r.id)) < 0)
    return rc;
  if ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW) {
    copy(ic->number_id, sizeof(ic->number_id), vc__stmt_text(s, 0));
    ic->entry_kind = (int)vc__stmt_int64(s, 1);
    copy(ic->entry_id, sizeof(ic->entry_id), vc__stmt_text(s, 2));
    ic->phase = (int)vc__stmt_int64(s, 3);
    copy(ic->path, sizeof(ic->path), vc__stmt_text(s, 4));
    copy(ic->queue_id, sizeof(ic->queue_id), vc__stmt_text(s, 5));
    copy(ic->skills, sizeof(ic->skills), vc__stmt_text(s, 6));
    ic->queue_expires_at = vc__stmt_int64(s, 7);
    ic->hops = (int)vc__stmt_int64(s, 8);
    copy(ic->ring_agent, sizeof(ic->ring_agent), vc__stmt_text(s, 9));
    ic->rings = (int)vc__stmt_int64(s, 10);
    copy(ic->tried, sizeof(ic->tried), vc__stmt_text(s, 11));
    copy(ic->box, sizeof(ic->box), vc__stmt_text(s, 12));
    copy(ic->voicemail_id, sizeof(ic->voicemail_id), vc__stmt_text(s, 13));
    copy(ic->provider_call_id, sizeof(ic->provider_call_id),
         vc__stmt_text(s, 14));
    rc = 0;
  } else if (rc == VC_STORAGE_DONE) {
    rc = vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                       "call %.32s is not an inbound call", x->r.id);
  }
  vc__stmt_done(s);
  return rc;
}

static int save(run *x)
{
  inbound *ic = &x->ic;

  return vc__db_run(x->db, SQL_SAVE, "ttittti" "iti" "tti", x->tenant_id,
                    x->r.id, (int64_t)ic->phase, ic->path, ic->queue_id,
                    ic->skills, ic->queue_expires_at, (int64_t)ic->hops,
                    ic->ring_agent, (int64_t)ic->rings, ic->tried, ic->box,
                    x->now);
}

static int reload_call(run *x)
{
  char id[VC_ID_SIZE];

  copy(id, sizeof(id), x->r.id);
  return vc__call_row_load(&x->r, x->db, x->tenant_id, id);
}

/* A timeline entry with a small JSON detail (NULL: "{}"). */
static int entry(run *x, const char *type, int leg, cJSON *d)
{
  char *text = NULL;
  int rc;

  if (d != NULL && (text = cJSON_PrintUnformatted(d)) == NULL) {
    cJSON_Delete(d);
    return vc_error_set_oom();
  }
  cJSON_Delete(d);
  rc = vc__call_entry_add(x->db, x->ctx, x->tenant_id, x->r.id, type, leg,
                          text, x->now);
  cJSON_free(text);
  return rc;
}

/* ---- building scripts ----------------------------------------------------- */

static vc_call_step *add(script *sc, int kind)
{
  vc_call_step *st;

  if (sc->n == STEPS_MAX)
    return NULL;
  st = &sc->steps[sc->n++];
  memset(st, 0, sizeof(*st));
  st->kind = kind;
  return st;
}

static const char *url(script *sc, const char *step, int attempt)
{
  char *u;

  if (sc->nurls == 4)
    return NULL;
  u = sc->urls[sc->nurls++];
  if (attempt > 0)
    snprintf(u, URL_SIZE, "%s&vc_step=%s&vc_try=%d", sc->base, step,
             attempt);
  else
    snprintf(u, URL_SIZE, "%s&vc_step=%s", sc->base, step);
  return u;
}

/* SAY `text`; a position n > 0 is put in place of the "#". */
static void say(script *sc, const char *text, int n)
{
  const char *hash = strchr(text, '#');
  vc_call_step *st;
  char *t;

  if (sc->ntexts == 4 || (st = add(sc, VC_STEP_SAY)) == NULL)
    return;
  t = sc->texts[sc->ntexts++];
  if (n > 0 && hash != NULL)
    snprintf(t, sizeof(sc->texts[0]), "%.*s%d%s", (int)(hash - text), text,
             n, hash + 1);
  else
    snprintf(t, sizeof(sc->texts[0]), "%s", text);
  st->text = t;
  st->language = sc->language[0] ? sc->language : NULL;
}

static void hangup(script *sc)
{
  if (sc->n == 0 || sc->steps[sc->n - 1].kind != VC_STEP_HANGUP)
    add(sc, VC_STEP_HANGUP);
}

/* ---- ending ---------------------------------------------------------------- */

static int end_call(run *x, int state, int cause, int leg)
{
  vc__call_ending e;
  int rc;

  if (x->ic.queue_id[0] != '\0') {
    rc = vc__queue_dequeue(x->db, x->tenant_id, x->ic.queue_id, x->r.id);
    if (rc < 0 && rc != VC_ENOTFOUND)
      return rc;
    vc_error_clear();
  }
  x->ic.phase = P_ENDED;
  if ((rc = save(x)) < 0)
    return rc;
  memset(&e, 0, sizeof(e));
  e.state = state;
  e.cause = cause;
  e.leg = leg;
  e.at = x->now;
  return vc__call_end(x->db, x->ctx, x->tenant_id, x->r.id, &e);
}

/* ---- the screen-pop ---------------------------------------------------------- */

static int text_of(char *out, size_t size, vc__db *db, const char *sql,
                   const char *a, const char *b, int col)
{
  vc__stmt *s;
  int rc;

  out[0] = '\0';
  if ((rc = vc__db_query(&s, db, sql, "tt", a, b)) < 0)
    return rc;
  if ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW)
    copy(out, size, vc__stmt_text(s, col));
  vc__stmt_done(s);
  return rc < 0 ? rc : 0;
}

/* call.screen_pop: who calls, the contact, the IVR path so far, the
 * queue, the agent and the number, before the agent answers. */
static int screen_pop(run *x, const char *agent_id, const char *agent_name)
{
  char contact[VC_ID_SIZE], name[512], label[VC_NUMBER_LABEL_MAX + 1];
  char qname[VC_QUEUE_NAME_MAX + 1] = "";
  cJSON *o = cJSON_CreateObject(), *c, *path;
  char *text;
  int rc;

  if (o == NULL)
    return vc_error_set_oom();
  if ((rc = text_of(contact, sizeof(contact), x->db, SQL_CALL_CONTACT,
                    x->tenant_id, x->r.id, 0)) < 0 ||
      (rc = text_of(label, sizeof(label), x->db, SQL_NUMBER, x->tenant_id,
                    x->ic.number_id, 1)) < 0 ||
      (x->ic.queue_id[0] &&
       (rc = text_of(qname, sizeof(qname), x->db, SQL_QUEUE, x->tenant_id,
                     x->ic.queue_id, 0)) < 0))
    goto out;
  name[0] = '\0';
  if (contact[0] != '\0' &&
      (rc = text_of(name, sizeof(name), x->db, SQL_CONTACT, x->tenant_id,
                    contact, 0)) < 0)
    goto out;
  cJSON_AddStringToObject(o, "call_id", x->r.id);
  cJSON_AddStringToObject(o, "from", x->r.customer_number);
  cJSON_AddStringToObject(o, "to", x->r.caller_id);
  cJSON_AddStringToObject(o, "number_id", x->ic.number_id);
  cJSON_AddStringToObject(o, "number_label", label);
  if (contact[0] != '\0' && (c = cJSON_AddObjectToObject(o, "contact"))) {
    cJSON_AddStringToObject(c, "id", contact);
    cJSON_AddStringToObject(c, "name", name);
  } else {
    cJSON_AddNullToObject(o, "contact");
  }
  if ((path = vc__cjson_parse(x->ic.path, strlen(x->ic.path) + 1, NULL,
                              0)) == NULL)
    path = cJSON_CreateArray();
  cJSON_AddItemToObject(o, "ivr_path", path);
  if (x->ic.queue_id[0] != '\0' && (c = cJSON_AddObjectToObject(o, "queue"))) {
    cJSON_AddStringToObject(c, "id", x->ic.queue_id);
    cJSON_AddStringToObject(c, "name", qname);
  } else {
    cJSON_AddNullToObject(o, "queue");
  }
  if ((c = cJSON_AddObjectToObject(o, "agent")) != NULL) {
    cJSON_AddStringToObject(c, "id", agent_id);
    cJSON_AddStringToObject(c, "name", agent_name);
  }
  cJSON_AddNumberToObject(o, "try", x->ic.rings);
  if ((text = cJSON_PrintUnformatted(o)) == NULL) {
    rc = vc_error_set_oom();
    goto out;
  }
  rc = vc__event_append(x->db, x->ctx, x->tenant_id, "call.screen_pop",
                        x->r.id, text);
  cJSON_free(text);
out:
  cJSON_Delete(o);
  return rc;
}

/* ---- ringing an agent ----------------------------------------------------------- */

/* The DIAL that rings `target` (an agent's number, or a number an IVR
 * transfer named). */
static void dial(run *x, script *sc, const char *target, int timeout_s)
{
  vc_call_step *st = add(sc, VC_STEP_DIAL);

  if (st == NULL)
    return;
  copy(sc->target, sizeof(sc->target), target);
  copy(sc->caller, sizeof(sc->caller), x->r.caller_id);
  st->target = sc->target;
  /* The number called is the tenant's own: the provider lets it show. */
  st->caller_id = sc->caller[0] == '+' ? sc->caller : NULL;
  st->timeout_s = timeout_s;
  st->time_limit_s = x->r.time_limit_s;
  st->record = x->r.record_mode == VC_RECORD_ALWAYS;
  st->status_url = url(sc, "in_ring", x->ic.rings);
  st->action_url = url(sc, "in_dial", x->ic.rings);
}

/* Ring agent `agent_id`, already claimed for the call. */
static int ring(run *x, script *sc, const char *agent_id, int timeout_s)
{
  char number[VC_CALL_ADDRESS_MAX + 1], name[VC_AGENT_NAME_MAX + 1];
  vc__stmt *s;
  cJSON *d;
  int rc;

  number[0] = name[0] = '\0';
  if ((rc = vc__db_query(&s, x->db, SQL_AGENT, "tt", x->tenant_id,
                         agent_id)) < 0)
    return rc;
  if ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW) {
    copy(number, sizeof(number), vc__stmt_text(s, 0));
    copy(name, sizeof(name), vc__stmt_text(s, 1));
  }
  vc__stmt_done(s);
  if (rc < 0)
    return rc;
  x->ic.phase = P_RINGING;
  copy(x->ic.ring_agent, sizeof(x->ic.ring_agent), agent_id);
  x->ic.rings++;
  if ((rc = save(x)) < 0 ||
      (rc = vc__db_run(x->db, SQL_SET_AGENT, "tttti", x->tenant_id, x->r.id,
                       agent_id, number, x->now)) < 0 ||
      (rc = reload_call(x)) < 0)
    return rc;
  if ((d = cJSON_CreateObject()) == NULL)
    return vc_error_set_oom();
  cJSON_AddStringToObject(d, "agent_id", agent_id);
  cJSON_AddNumberToObject(d, "try", x->ic.rings);
  if (x->ic.queue_id[0] != '\0')
    cJSON_AddStringToObject(d, "queue_id", x->ic.queue_id);
  if ((rc = entry(x, "agent_ring", VC_LEG_AGENT, d)) < 0)
    return rc;
  /* The first agent moves the call to agent_ringing (the machine tells
   * the agent); a later one is told here. */
  if (x->r.state == VC_CALL_INITIATED)
    rc = vc__call_advance(x->db, x->ctx, x->tenant_id, x->r.id,
                          VC_CALL_AGENT_RINGING, x->now);
  else
    rc = vc__agent_on_call_state(x->db, x->ctx, x->tenant_id, agent_id,
                                 x->r.id, VC_CALL_AGENT_RINGING, x->now);
  if (rc < 0 || (rc = screen_pop(x, agent_id, name)) < 0)
    return rc;
  dial(x, sc, number, timeout_s);
  return 0;
}

/* ---- voicemail and overflow ----------------------------------------------------- */

static int voicemail(run *x, script *sc, const char *box)
{
  vc_call_step *st;
  cJSON *d;
  int rc;

  x->ic.phase = P_VOICEMAIL;
  copy(x->ic.box, sizeof(x->ic.box), box);
  if ((rc = save(x)) < 0)
    return rc;
  if ((d = cJSON_CreateObject()) == NULL)
    return vc_error_set_oom();
  cJSON_AddStringToObject(d, "box", box);
  if ((rc = entry(x, "voicemail", VC_LEG_CUSTOMER, d)) < 0)
    return rc;
  say(sc, "Please leave a message after the beep.", 0);
  if ((st = add(sc, VC_STEP_RECORD)) != NULL) {
    st->time_limit_s = VOICEMAIL_MAX_S;
    st->timeout_s = VOICEMAIL_SILENCE_S;
    st->finish_on_key = "#";
    st->action_url = url(sc, "in_record", 0);
  }
  return 0;
}

static int enter_queue(run *x, script *sc, const char *queue_id,
                       const char *skills, int depth);

static int overflow(run *x, script *sc, int kind, const char *target,
                    int depth)
{
  char from[VC_ID_SIZE];
  cJSON *d;
  int rc;

  copy(from, sizeof(from), x->ic.queue_id);
  if (from[0] != '\0') {
    rc = vc__queue_dequeue(x->db, x->tenant_id, from, x->r.id);
    if (rc < 0 && rc != VC_ENOTFOUND)
      return rc;
    vc_error_clear();
  }
  if ((d = cJSON_CreateObject()) == NULL)
    return vc_error_set_oom();
  cJSON_AddStringToObject(d, "queue_id", from);
  cJSON_AddStringToObject(d, "overflow", vc_queue_overflow_name(kind));
  if (target[0] != '\0')
    cJSON_AddStringToObject(d, "target", target);
  if ((rc = entry(x, "overflow", VC_LEG_NONE, d)) < 0)
    return rc;
  switch (kind) {
  case VC_QUEUE_OVERFLOW_QUEUE:
    if (target[0] != '\0' && depth < HOPS_MAX && x->ic.hops < HOPS_MAX) {
      x->ic.hops++;
      x->ic.queue_id[0] = '\0';
      return enter_queue(x, sc, target, x->ic.skills, depth + 1);
    }
    break;
  case VC_QUEUE_OVERFLOW_VOICEMAIL:
    return voicemail(x, sc, target[0] ? target : from);
  case VC_QUEUE_OVERFLOW_CALLBACK:
    if ((rc = vc__db_run(x->db, SQL_CALLBACK, "ttt", x->tenant_id, x->r.id,
                         target)) < 0)
      return rc;
    if ((d = cJSON_CreateObject()) == NULL)
      return vc_error_set_oom();
    cJSON_AddStringToObject(d, "queue_id", from);
    cJSON_AddStringToObject(d, "agent_id", target);
    cJSON_AddStringToObject(d, "number", x->r.customer_number);
    if ((rc = entry(x, "callback_requested", VC_LEG_CUSTOMER,
                    cJSON_Duplicate(d, 1))) < 0) {
      cJSON_Delete(d);
      return rc;
    }
    {
      char *text = cJSON_PrintUnformatted(d);
      cJSON_Delete(d);
      if (text == NULL)
        return vc_error_set_oom();
      rc = vc__event_append(x->db, x->ctx, x->tenant_id,
                            "call.callback_requested", x->r.id, text);
      cJSON_free(text);
      if (rc < 0)
        return rc;
    }
    say(sc, "Thank you. We will call you back as soon as we can.", 0);
    hangup(sc);
    return end_call(x, VC_CALL_NO_ANSWER, VC_CAUSE_CALLBACK, VC_LEG_NONE);
  default:
    break;
  }
  say(sc, "All our agents are busy. Please call again later.", 0);
  hangup(sc);
  return end_call(x, VC_CALL_NO_ANSWER, VC_CAUSE_QUEUE_TIMEOUT,
                  VC_LEG_NONE);
}

/* ---- the queue ------------------------------------------------------------------ */

typedef struct queue_info {
  char name[VC_QUEUE_NAME_MAX + 1];
  int announce, overflow_kind, members;
  char overflow_target[VC_ID_SIZE];
  char moh[VC_QUEUE_URL_MAX + 1];
} queue_info;

static int queue_info_load(run *x, const char *queue_id, queue_info *q)
{
  vc__stmt *s;
  int rc;

  memset(q, 0, sizeof(*q));
  if ((rc = vc__db_query(&s, x->db, SQL_QUEUE, "tt", x->tenant_id,
                         queue_id)) < 0)
    return rc;
  if ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW) {
    copy(q->name, sizeof(q->name), vc__stmt_text(s, 0));
    q->announce = (int)vc__stmt_int64(s, 1);
    q->overflow_kind = (int)vc__stmt_int64(s, 2);
    copy(q->overflow_target, sizeof(q->overflow_target),
         vc__stmt_text(s, 3));
    copy(q->moh, sizeof(q->moh), vc__stmt_text(s, 4));
    q->members = (int)vc__stmt_int64(s, 5);
    rc = 0;
  } else if (rc == VC_STORAGE_DONE) {
    rc = vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                       "no queue '%.32s'", queue_id);
  }
  vc__stmt_done(s);
  return rc;
}

/* The caller's turn in its queue: ring an agent when one can take the
 * call and the caller is near enough the head of the line, overflow when
 * the wait is over (at once for a queue without members), else wait. */
static int queue_step(run *x, script *sc, int depth)
{
  char agent[VC_ID_SIZE], ids[VC__QUEUE_RING_MAX][VC_ID_SIZE];
  const char *skills = x->ic.skills[0] ? x->ic.skills : NULL;
  vc__queue_verdict v;
  queue_info q;
  size_t n = 0;
  int pos = 0, rc;

  if ((rc = queue_info_load(x, x->ic.queue_id, &q)) == VC_ENOTFOUND) {
    vc_error_clear();
    return overflow(x, sc, VC_QUEUE_OVERFLOW_HANGUP, "", depth);
  }
  if (rc < 0)
    return rc;
  if (q.members == 0)
    return overflow(x, sc, q.overflow_kind, q.overflow_target, depth);
  rc = vc__queue_position(x->db, x->tenant_id, x->ic.queue_id, x->r.id,
                          &pos);
  if (rc == VC_ENOTFOUND) {
    /* Out of the line (the watchdog, a lost race): the wait is over. */
    vc_error_clear();
    return overflow(x, sc, q.overflow_kind, q.overflow_target, depth);
  }
  if (rc < 0 ||
      (rc = vc__queue_ring_all(x->db, x->ctx, x->tenant_id, x->ic.queue_id,
                               skills, x->now, ids, VC__QUEUE_RING_MAX,
                               &n)) < 0)
    return rc;
  /* The wait is over first: a caller past the queue's maximum goes to
   * its overflow even when an agent just became free. */
  if ((rc = vc__queue_overflow_decide(x->db, x->tenant_id, x->ic.queue_id,
                                      x->r.id, x->now, &v)) < 0)
    return rc;
  if (v.due)
    return overflow(x, sc, v.kind, v.target, depth);
  /* Callers ahead get the free agents first; one whose provider is slow
   * to come back does not hold up the others. */
  if (pos >= 1 && (size_t)pos <= n) {
    if ((rc = vc__queue_pick(x->db, x->ctx, x->tenant_id, x->ic.queue_id,
                             x->r.id, skills, x->now, agent)) < 0)
      return rc;
    if (agent[0] != '\0')
      return ring(x, sc, agent, QUEUE_RING_S);
    /* Lost every candidate to other calls: still in the line? */
    if (vc__queue_position(x->db, x->tenant_id, x->ic.queue_id, x->r.id,
                           &pos) == VC_ENOTFOUND) {
      vc_error_clear();
      if ((rc = vc__db_run(x->db, SQL_REQUEUE_HEAD, "tttii", x->tenant_id,
                           x->ic.queue_id, x->r.id, x->now,
                           x->ic.queue_expires_at)) < 0)
        return rc;
      pos = 1;
    }
  }
  x->ic.phase = P_QUEUE;
  if ((rc = save(x)) < 0)
    return rc;
  if (q.announce && pos > 0)
    say(sc, "You are number # in line.", pos);
  if (q.moh[0] != '\0') {
    vc_call_step *st = add(sc, VC_STEP_PLAY);
    if (st != NULL) {
      if (sc->nurls < 4) {
        copy(sc->urls[sc->nurls], URL_SIZE, q.moh);
        st->url = sc->urls[sc->nurls++];
      } else {
        sc->n--;
      }
    }
  } else {
    vc_call_step *st = add(sc, VC_STEP_PAUSE);
    if (st != NULL)
      st->timeout_s = WAIT_PAUSE_S;
  }
  {
    vc_call_step *st = add(sc, VC_STEP_REDIRECT);
    if (st != NULL)
      st->url = url(sc, "in_wait", 0);
  }
  return 0;
}

static int enter_queue(run *x, script *sc, const char *queue_id,
                       const char *skills, int depth)
{
  vc__stmt *s;
  cJSON *d;
  int pos = 0, rc;

  if (x->ic.queue_id[0] != '\0' && strcmp(x->ic.queue_id, queue_id) != 0) {
    rc = vc__queue_dequeue(x->db, x->tenant_id, x->ic.queue_id, x->r.id);
    if (rc < 0 && rc != VC_ENOTFOUND)
      return rc;
    vc_error_clear();
  }
  if ((rc = vc__queue_enqueue(x->db, x->ctx, x->tenant_id, queue_id,
                              x->r.id, x->now, &pos)) == VC_EBUSY) {
    /* The line is full: as if the wait were over. */
    queue_info q;
    vc_error_clear();
    copy(x->ic.queue_id, sizeof(x->ic.queue_id), queue_id);
    if ((rc = queue_info_load(x, queue_id, &q)) < 0)
      return rc;
    return overflow(x, sc, q.overflow_kind, q.overflow_target, depth);
  }
  if (rc < 0)
    return rc;
  copy(x->ic.queue_id, sizeof(x->ic.queue_id), queue_id);
  copy(x->ic.skills, sizeof(x->ic.skills), skills);
  x->ic.phase = P_QUEUE;
  x->ic.queue_expires_at = 0;
  if ((rc = vc__db_query(&s, x->db, SQL_EXPIRES, "ttt", x->tenant_id,
                         queue_id, x->r.id)) < 0)
    return rc;
  if ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW)
    x->ic.queue_expires_at = vc__stmt_int64(s, 0);
  vc__stmt_done(s);
  if (rc < 0 || (rc = save(x)) < 0)
    return rc;
  if ((d = cJSON_CreateObject()) == NULL)
    return vc_error_set_oom();
  cJSON_AddStringToObject(d, "queue_id", queue_id);
  cJSON_AddNumberToObject(d, "position", pos);
  if (skills[0] != '\0')
    cJSON_AddStringToObject(d, "skills", skills);
  if ((rc = entry(x, "queue", VC_LEG_CUSTOMER, d)) < 0)
    return rc;
  return queue_step(x, sc, depth);
}

/* The agent ringing missed the call (no answer, busy, unreachable): the
 * agent is released, the caller goes back to the head of its line, or,
 * without a queue, to the agent's voicemail at the next fetch. */
static int agent_missed(run *x, int cause)
{
  char agent[VC_ID_SIZE];
  size_t len;
  cJSON *d;
  int rc;

  copy(agent, sizeof(agent), x->ic.ring_agent);
  if (agent[0] != '\0') {
    if ((rc = vc__agent_on_call_state(x->db, x->ctx, x->tenant_id, agent,
                                      x->r.id, VC_CALL_NO_ANSWER,
                                      x->now)) < 0 ||
        (rc = vc__db_run(x->db, SQL_SET_AGENT, "ttnti", x->tenant_id,
                         x->r.id, "", x->now)) < 0)
      return rc;
    len = strlen(x->ic.tried);
    if (len + VC_ID_SIZE + 2 < sizeof(x->ic.tried))
      snprintf(x->ic.tried + len, sizeof(x->ic.tried) - len, "%s%s",
               len ? "," : "", agent);
  }
  if ((d = cJSON_CreateObject()) == NULL)
    return vc_error_set_oom();
  cJSON_AddStringToObject(d, "agent_id", agent);
  cJSON_AddStringToObject(d, "cause", vc_call_cause_name(cause));
  if ((rc = entry(x, "agent_missed", VC_LEG_AGENT, d)) < 0)
    return rc;
  x->ic.ring_agent[0] = '\0';
  if (x->ic.queue_id[0] != '\0') {
    x->ic.phase = P_QUEUE;
    if ((rc = vc__db_run(x->db, SQL_REQUEUE_HEAD, "tttii", x->tenant_id,
                         x->ic.queue_id, x->r.id, x->now,
                         x->ic.queue_expires_at)) < 0)
      return rc;
  } else {
    x->ic.phase = P_MISSED;
    copy(x->ic.box, sizeof(x->ic.box), agent);
  }
  if ((rc = save(x)) < 0)
    return rc;
  return reload_call(x);
}

/* Ring an agent the number or the menu names; busy: its voicemail. */
static int ring_named(run *x, script *sc, const char *agent_id)
{
  int rc = vc__agent_claim_available(x->db, x->ctx, x->tenant_id, agent_id,
                                     x->r.id, x->now);

  if (rc == VC_EBUSY || rc == VC_ENOTFOUND) {
    cJSON *d = cJSON_CreateObject();
    if (d == NULL)
      return vc_error_set_oom();
    cJSON_AddStringToObject(d, "agent_id", agent_id);
    cJSON_AddStringToObject(d, "reason", vc_error_last()->message);
    vc_error_clear();
    if ((rc = entry(x, "agent_busy", VC_LEG_AGENT, d)) < 0)
      return rc;
    return voicemail(x, sc, agent_id);
  }
  if (rc < 0)
    return rc;
  return ring(x, sc, agent_id, AGENT_RING_S);
}

/* ---- the IVR ----------------------------------------------------------------------- */

/* Remember the keys pressed at a node for the screen-pop. */
static void path_add(inbound *ic, const char *node, const char *keys)
{
  cJSON *a = vc__cjson_parse(ic->path, strlen(ic->path) + 1, NULL, 0), *o;
  char *text;

  if (a == NULL || !cJSON_IsArray(a))
    a = (cJSON_Delete(a), cJSON_CreateArray());
  if (a == NULL || cJSON_GetArraySize(a) >= PATH_MAX_ENTRIES ||
      (o = cJSON_CreateObject()) == NULL) {
    cJSON_Delete(a);
    return;
  }
  cJSON_AddStringToObject(o, "node", node[0] ? node : "entry");
  cJSON_AddStringToObject(o, "keys", keys);
  cJSON_AddItemToArray(a, o);
  if ((text = cJSON_PrintUnformatted(a)) != NULL &&
      strlen(text) < sizeof(ic->path))
    copy(ic->path, sizeof(ic->path), text);
  cJSON_free(text);
  cJSON_Delete(a);
}

static int ivr(run *x, script *sc, const char *node, const char *digits,
               int attempt)
{
  char agent[VC_ID_SIZE];
  vc__stmt *s;
  int rc;

  if (digits != NULL) {
    path_add(&x->ic, node, digits);
    if ((rc = save(x)) < 0)
      return rc;
  }
  if ((rc = vc__ivr_step(x->db, x->ctx, x->tenant_id, x->r.id,
                         x->r.ivr_menu_id, node, digits, attempt, sc->base,
                         &sc->ivr)) < 0)
    return rc;
  for (size_t i = 0; i < sc->ivr.nsteps && i < VC__IVR_MAX_STEPS; i++) {
    vc_call_step *st = add(sc, sc->ivr.steps[i].kind);
    if (st != NULL)
      *st = sc->ivr.steps[i];
  }
  switch (sc->ivr.action) {
  case VC__IVR_SCRIPT:
    x->ic.phase = P_IVR;
    return save(x);
  case VC__IVR_QUEUE:
    return enter_queue(x, sc, sc->ivr.target, sc->ivr.skills, 0);
  case VC__IVR_VOICEMAIL:
  case VC__IVR_CONNECT:
    /* An inbound call has no agent to connect to: "connect" leaves a
     * voicemail (docs/calls.md). */
    return voicemail(x, sc, "");
  case VC__IVR_TRANSFER:
    agent[0] = '\0';
    if ((rc = vc__db_query(&s, x->db, SQL_AGENT_BY_NUMBER, "tt",
                           x->tenant_id, sc->ivr.target)) < 0)
      return rc;
    if ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW)
      copy(agent, sizeof(agent), vc__stmt_text(s, 0));
    vc__stmt_done(s);
    if (rc < 0)
      return rc;
    if (agent[0] != '\0')
      return ring_named(x, sc, agent);
    /* A number outside: ring it; nobody to release after. */
    x->ic.phase = P_RINGING;
    x->ic.ring_agent[0] = '\0';
    x->ic.rings++;
    if ((rc = save(x)) < 0)
      return rc;
    dial(x, sc, sc->ivr.target, AGENT_RING_S);
    return 0;
  default: /* VC__IVR_HANGUP: the steps end with it */
    hangup(sc);
    return end_call(x, VC_CALL_CANCELED, VC_CAUSE_IVR, VC_LEG_CUSTOMER);
  }
}

/* ---- scripts by step ----------------------------------------------------------------- */

static int consent(run *x, script *sc)
{
  char text[1024];
  int mode = 0;

  text[0] = '\0';
  if (vc__recording_mode(x->db, x->tenant_id, x->r.record_mode, &mode,
                         text) < 0)
    return VC_ERROR;
  if (text[0] == '\0' || sc->ntexts == 4)
    return 0;
  copy(sc->texts[sc->ntexts], sizeof(sc->texts[0]), text);
  {
    vc_call_step *st = add(sc, VC_STEP_SAY);
    if (st != NULL) {
      st->text = sc->texts[sc->ntexts];
      st->language = sc->language[0] ? sc->language : NULL;
    }
  }
  sc->ntexts++;
  return 0;
}

/* The first script: consent, then the number's entry. */
static int entry_script(run *x, script *sc)
{
  int rc;

  if ((rc = consent(x, sc)) < 0)
    return rc;
  switch (x->ic.entry_kind) {
  case VC_NUMBER_ENTRY_IVR:
    return ivr(x, sc, "", NULL, 0);
  case VC_NUMBER_ENTRY_QUEUE:
    return enter_queue(x, sc, x->ic.entry_id, "", 0);
  default:
    return ring_named(x, sc, x->ic.entry_id);
  }
}

/* What the caller does now, by phase, for a fetch that is not the step
 * the phase expects (a late or repeated fetch). */
static int current(run *x, script *sc)
{
  vc_call_step *st;

  switch (x->ic.phase) {
  case P_QUEUE:
    return queue_step(x, sc, 0);
  case P_MISSED:
    return voicemail(x, sc, x->ic.box);
  case P_IVR:
    return ivr(x, sc, "", NULL, 0);
  default:
    /* Ringing, talking or recording: nothing new; come back shortly. */
    if ((st = add(sc, VC_STEP_PAUSE)) != NULL)
      st->timeout_s = WAIT_PAUSE_S;
    if ((st = add(sc, VC_STEP_REDIRECT)) != NULL)
      st->url = url(sc, "in_wait", 0);
    return 0;
  }
}

static int compose(run *x, vc__call_webhook *w, script *sc)
{
  const char *step = w->step;
  int rc;

  if (!vc__call_state_live(x->r.state) || x->ic.phase == P_ENDED) {
    hangup(sc);
    return 0;
  }
  if ((rc = vc__db_run(x->db, SQL_TOUCH, "tti", x->tenant_id, x->r.id,
                       x->now)) < 0)
    return rc;
  if (strcmp(step, "ivr") == 0 && x->ic.phase == P_IVR &&
      x->r.ivr_menu_id[0] != '\0')
    return ivr(x, sc, w->node, w->have_digits ? w->digits : NULL,
               w->attempt);
  if (strcmp(step, "in_dial") == 0) {
    /* The leg's end came first (in_ring or this fetch's own report);
     * without it, the agent missed the call. */
    if (x->ic.phase == P_RINGING) {
      if (x->ic.ring_agent[0] == '\0') {
        /* A transfer to a number nobody answered. */
        say(sc, "Sorry, nobody could take your call. Goodbye.", 0);
        hangup(sc);
        return end_call(x, VC_CALL_NO_ANSWER, VC_CAUSE_NO_ANSWER,
                        VC_LEG_AGENT);
      }
      if ((rc = agent_missed(x, VC_CAUSE_NO_ANSWER)) < 0)
        return rc;
    }
    if (x->ic.phase == P_BRIDGED) {
      hangup(sc);
      return end_call(x, VC_CALL_COMPLETED, VC_CAUSE_NORMAL, VC_LEG_NONE);
    }
    return current(x, sc);
  }
  if (strcmp(step, "in_record") == 0) {
    say(sc, "Thank you for your message. Goodbye.", 0);
    hangup(sc);
    return end_call(x, VC_CALL_NO_ANSWER, VC_CAUSE_VOICEMAIL,
                    VC_LEG_NONE);
  }
  return current(x, sc);
}

static int run_init(run *x, vc__call_webhook *w, const vc__call_row *r)
{
  memset(x, 0, sizeof(*x));
  x->ctx = w->ctx;
  x->db = w->db;
  x->tenant_id = w->tenant_id;
  x->channel_id = w->channel_id;
  x->now = w->now;
  x->r = *r;
  return load(x);
}

static int script_init(run *x, script *sc)
{
  vc__call_webhook_url(sc->base, sizeof(sc->base), x->ctx, x->channel_id,
                       x->r.id);
  /* Without a public base URL no webhook reaches the core, so this is a
   * session's call: it fetches nothing and only hands the step back,
   * which a relative URL names as well. */
  if (sc->base[0] == '\0')
    snprintf(sc->base, sizeof(sc->base), "/webhooks/%s?vc_call=%s",
             x->channel_id, x->r.id);
  return vc__recording_consent_language(x->db, x->tenant_id, sc->language);
}

int vc__inbound_script(vc__call_webhook *w, const vc__call_row *r)
{
  vc_call_script s = { VC_CALL_SCRIPT_VERSION, NULL, 0 };
  script *sc = NULL;
  run *x = NULL;
  int rc;

  if ((x = vc__calloc(1, sizeof(*x))) == NULL ||
      (sc = vc__calloc(1, sizeof(*sc))) == NULL) {
    rc = vc_error_set_oom();
    goto out;
  }
  if ((rc = run_init(x, w, r)) < 0 || (rc = script_init(x, sc)) < 0 ||
      (rc = compose(x, w, sc)) < 0)
    goto out;
  s.steps = sc->steps;
  s.nsteps = sc->n;
  rc = vc__call_webhook_answer(w, x->r.id, x->ic.provider_call_id, &s, NULL,
                               NULL);
out:
  vc__free(sc);
  vc__free(x);
  return rc;
}

/* ---- the legs ----------------------------------------------------------------------- */

int vc__inbound_leg(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                    vc__call_row *r, const vc_call_update *u, int64_t at,
                    int *changed)
{
  static const char *const names[] = { "", "ringing", "answered", "hangup" };
  run *x;
  cJSON *d;
  int rc = 0;

  if (!vc__call_state_live(r->state))
    return 0;
  if ((x = vc__calloc(1, sizeof(*x))) == NULL)
    return vc_error_set_oom();
  x->ctx = ctx;
  x->db = db;
  x->tenant_id = tenant_id;
  x->channel_id = r->channel_id;
  x->now = at;
  x->r = *r;
  if ((rc = load(x)) < 0)
    goto out;
  if ((rc = vc__db_run(db, SQL_TOUCH, "tti", tenant_id, r->id,
                       vc__now(ctx))) < 0)
    goto out;
  if (u->leg == VC_LEG_AGENT) {
    if (x->ic.phase != P_RINGING && x->ic.phase != P_BRIDGED)
      goto out; /* a leg already let go */
    *changed = 1;
    if ((d = cJSON_CreateObject()) == NULL) {
      rc = vc_error_set_oom();
      goto out;
    }
    if (u->type == VC_UPDATE_ENDED)
      cJSON_AddStringToObject(d, "cause", vc_call_cause_name(u->cause));
    if (u->leg_provider_id != NULL)
      cJSON_AddStringToObject(d, "leg_id", u->leg_provider_id);
    if (u->provider_code != NULL)
      cJSON_AddStringToObject(d, "provider_code", u->provider_code);
    if ((rc = entry(x, names[u->type], VC_LEG_AGENT, d)) < 0)
      goto out;
    if (u->type == VC_UPDATE_ANSWERED && x->ic.phase == P_RINGING) {
      x->ic.phase = P_BRIDGED;
      if ((rc = save(x)) == 0)
        rc = vc__call_bridge(db, ctx, tenant_id, r->id, at);
    } else if (u->type == VC_UPDATE_ENDED && x->ic.phase == P_BRIDGED) {
      rc = end_call(x, VC_CALL_COMPLETED, VC_CAUSE_NORMAL, VC_LEG_NONE);
    } else if (u->type == VC_UPDATE_ENDED &&
               (u->cause == VC_CAUSE_NORMAL && u->duration_s > 0)) {
      /* Answered and over, its answer never reported. */
      x->ic.phase = P_BRIDGED;
      if ((rc = save(x)) == 0 &&
          (rc = vc__call_bridge(db, ctx, tenant_id, r->id, at)) == 0 &&
          (rc = reload_call(x)) == 0)
        rc = end_call(x, VC_CALL_COMPLETED, VC_CAUSE_NORMAL, VC_LEG_NONE);
    } else if (u->type == VC_UPDATE_ENDED) {
      if (x->ic.ring_agent[0] == '\0') {
        x->ic.phase = P_MISSED;
        rc = save(x);
      } else {
        rc = agent_missed(x, u->cause ? u->cause : VC_CAUSE_NO_ANSWER);
      }
    }
    goto out;
  }
  if (u->type != VC_UPDATE_ENDED)
    goto out; /* the caller's leg is up from the start */
  *changed = 1;
  if ((d = cJSON_CreateObject()) == NULL) {
    rc = vc_error_set_oom();
    goto out;
  }
  cJSON_AddStringToObject(d, "cause", vc_call_cause_name(u->cause));
  if (u->provider_code != NULL)
    cJSON_AddStringToObject(d, "provider_code", u->provider_code);
  if ((rc = entry(x, "hangup", VC_LEG_CUSTOMER, d)) < 0)
    goto out;
  if (x->ic.phase == P_BRIDGED)
    rc = end_call(x, VC_CALL_COMPLETED, VC_CAUSE_NORMAL, VC_LEG_NONE);
  else if (x->ic.phase == P_VOICEMAIL)
    rc = end_call(x, VC_CALL_NO_ANSWER, VC_CAUSE_VOICEMAIL, VC_LEG_NONE);
  else if (x->r.hangup_requested || u->cause == VC_CAUSE_API_HANGUP)
    /* The host hung up (vc_call_hangup()), not the caller. */
    rc = end_call(x, VC_CALL_CANCELED, VC_CAUSE_API_HANGUP, VC_LEG_NONE);
  else
    rc = end_call(x, VC_CALL_CANCELED, VC_CAUSE_ABANDONED, VC_LEG_CUSTOMER);
out:
  vc__free(x);
  return rc;
}

int vc__inbound_recorded(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                         const vc__call_row *r, const vc_call_update *u,
                         int64_t at)
{
  run *x;
  int rc;

  if (u->recording_status != VC_RECORDING_AVAILABLE)
    return 0;
  if ((x = vc__calloc(1, sizeof(*x))) == NULL)
    return vc_error_set_oom();
  x->ctx = ctx;
  x->db = db;
  x->tenant_id = tenant_id;
  x->now = at;
  x->r = *r;
  rc = load(x);
  if (rc == 0 && (x->ic.phase == P_VOICEMAIL ||
                  (x->ic.phase == P_ENDED && r->cause == VC_CAUSE_VOICEMAIL))
      && x->ic.voicemail_id[0] == '\0')
    rc = vc__voicemail_store(db, ctx, tenant_id, r, x->ic.box, u, at);
  vc__free(x);
  return rc;
}

/* ---- arrival ------------------------------------------------------------------------ */

static void last4(char out[8], const char *number)
{
  size_t n = number ? strlen(number) : 0;

  snprintf(out, 8, "%s", n > 4 ? number + n - 4 : number ? number : "");
}

/* A call to no number of the tenant: stored failed, answered HANGUP. */
static int refuse(vc__call_webhook *w, const vc_call_update *u,
                  const char *from, const char *id)
{
  vc_call_script s = { VC_CALL_SCRIPT_VERSION, NULL, 0 };
  vc_call_step hang;
  vc__call_ending e;
  char l4[8], to[VC_CALL_ADDRESS_MAX + 1], *body = NULL, *type = NULL;
  int rc;

  last4(l4, u->to);
  VC_LOG(w->ctx, VC_LOG_INFO, "inbound call on channel %s to unknown "
         "number ...%s refused", w->channel_id, l4);
  copy(to, sizeof(to), u->to);
  if ((rc = vc__db_run(w->db, SQL_INSERT_CALL, "ttttttitiiit", w->tenant_id,
                       id, from, to, w->channel_id, u->provider_call_id,
                       (int64_t)VC_RECORD_OFF, NULL, (int64_t)0, (int64_t)0,
                       w->now, NULL)) < 0 ||
      (rc = vc__db_run(w->db, SQL_INSERT, "tttttitii", w->tenant_id, id,
                       w->channel_id, u->provider_call_id, "", (int64_t)0,
                       "", (int64_t)P_ENDED, w->now)) < 0 ||
      (rc = vc__call_entry_add(w->db, w->ctx, w->tenant_id, id, "state",
                               VC_LEG_NONE, "{\"state\":\"initiated\"}",
                               w->now)) < 0 ||
      (rc = vc__event_append(w->db, w->ctx, w->tenant_id, "call.initiated",
                             id, "{\"state\":\"initiated\","
                             "\"direction\":\"inbound\"}")) < 0)
    return rc;
  memset(&e, 0, sizeof(e));
  e.state = VC_CALL_FAILED;
  e.cause = VC_CAUSE_UNKNOWN_NUMBER;
  e.leg = VC_LEG_CUSTOMER;
  e.error = VC_ENOTFOUND;
  e.message = "the number called is not one of the tenant's";
  e.at = w->now;
  if ((rc = vc__call_end(w->db, w->ctx, w->tenant_id, id, &e)) < 0)
    return rc;
  memset(&hang, 0, sizeof(hang));
  hang.kind = VC_STEP_HANGUP;
  s.steps = &hang;
  s.nsteps = 1;
  /* Kept, for a repeated arrival to get it again. */
  if ((rc = vc__call_webhook_answer(w, id, u->provider_call_id, &s, &body,
                                    &type)) == 0 && body != NULL)
    rc = vc__db_run(w->db, SQL_ANSWER_KEEP, "tttt", w->tenant_id, id, type,
                    body);
  vc__free(body);
  vc__free(type);
  return rc;
}

/* The same arrival again: the same call, the answer it had. */
static int repeated(vc__call_webhook *w, const char *id, const char *type,
                    const char *body)
{
  if (w->run != NULL || w->sink == NULL)
    return 0; /* a session runs the call already */
  VC_LOG(w->ctx, VC_LOG_DEBUG, "inbound call %s: arrival repeated", id);
  if (body[0] == '\0')
    return 0;
  return vc_event_sink_reply(w->sink, 200, type, body);
}

int vc__inbound_arrive(vc__call_webhook *w, const vc_call_update *u)
{
  char id[VC_ID_SIZE], from[VC__CONTACT_ADDR_MAX], contact[VC_ID_SIZE];
  char number[VC_NUMBER_MAX + 1], consent[1024];
  vc_call_script s = { VC_CALL_SCRIPT_VERSION, NULL, 0 };
  vc__number_routing rt;
  char *body = NULL, *type = NULL;
  script *sc = NULL;
  run *x = NULL;
  vc__stmt *st;
  int rc, mode = 0;

  if (u->provider_call_id == NULL || u->to == NULL)
    return vc__error_set(VC_ERRCLASS_ADAPTER, VC_EINVALID,
                         "an incoming call needs its id and number");
  /* A repeated arrival (the provider's retry) finds its call. */
  if ((rc = vc__db_query(&st, w->db, SQL_BY_PROVIDER, "ttt", w->tenant_id,
                         w->channel_id, u->provider_call_id)) < 0)
    return rc;
  if ((rc = vc__stmt_step(st)) == VC_STORAGE_ROW) {
    char type_s[64], *b = vc__strdup(vc__stmt_text(st, 2));
    copy(id, sizeof(id), vc__stmt_text(st, 0));
    copy(type_s, sizeof(type_s), vc__stmt_text(st, 1));
    vc__stmt_done(st);
    if (b == NULL)
      return vc_error_set_oom();
    rc = repeated(w, id, type_s, b);
    vc__free(b);
    return rc;
  }
  vc__stmt_done(st);
  if (rc < 0)
    return rc;
  if ((rc = vc__new_id(w->ctx, id)) < 0)
    return rc;
  /* The caller as E.164 when it is one; a withheld number stays so. */
  if (u->from == NULL || u->from[0] == '\0')
    copy(from, sizeof(from), "anonymous");
  else if (vc__contact_normalize(from, VC_ADDRESS_PHONE, u->from) < 0) {
    vc_error_clear();
    copy(from, sizeof(from), u->from);
  }
  rc = vc__number_route(w->db, w->ctx, u->to, &rt);
  if (rc == VC_ENOTFOUND || rc == VC_EINVALID ||
      (rc == 0 && strcmp(rt.tenant_id, w->tenant_id) != 0)) {
    vc_error_clear();
    return refuse(w, u, from, id);
  }
  if (rc < 0)
    return rc;
  if (strcmp(rt.channel_id, w->channel_id) != 0)
    VC_LOG(w->ctx, VC_LOG_INFO, "inbound call %s arrived on channel %s, "
           "not on its number's channel %s", id, w->channel_id,
           rt.channel_id);
  contact[0] = number[0] = '\0';
  if (from[0] == '+' &&
      (rc = vc__contact_for_recipient(contact, w->db, w->tenant_id,
                                      VC_CHANNEL_VOICE, from)) < 0)
    return rc;
  if (rc != 1)
    contact[0] = '\0';
  if ((rc = text_of(number, sizeof(number), w->db, SQL_NUMBER, w->tenant_id,
                    rt.number_id, 0)) < 0 ||
      (rc = vc__recording_mode(w->db, w->tenant_id, VC_RECORD_DEFAULT, &mode,
                               consent)) < 0)
    return rc;
  if ((rc = vc__db_run(w->db, SQL_INSERT_CALL, "ttttttitiiit", w->tenant_id,
                       id, from, number, w->channel_id, u->provider_call_id,
                       (int64_t)mode,
                       rt.entry_kind == VC_NUMBER_ENTRY_IVR ? rt.entry_id
                                                            : NULL,
                       (int64_t)AGENT_RING_S, (int64_t)TIME_LIMIT_S, w->now,
                       contact[0] ? contact : NULL)) < 0 ||
      (rc = vc__db_run(w->db, SQL_INSERT, "tttttitii", w->tenant_id, id,
                       w->channel_id, u->provider_call_id, rt.number_id,
                       (int64_t)rt.entry_kind, rt.entry_id,
                       (int64_t)(rt.entry_kind == VC_NUMBER_ENTRY_IVR
                                   ? P_IVR : P_QUEUE), w->now)) < 0 ||
      (rc = vc__job_enqueue(w->db, w->ctx, w->tenant_id, VC__JOB_CALL_INBOUND,
                            id, w->now + VC__INBOUND_IDLE_MS, NULL)) < 0)
    return rc;
  if ((x = vc__calloc(1, sizeof(*x))) == NULL ||
      (sc = vc__calloc(1, sizeof(*sc))) == NULL) {
    rc = vc_error_set_oom();
    goto out;
  }
  x->ctx = w->ctx;
  x->db = w->db;
  x->tenant_id = w->tenant_id;
  x->channel_id = w->channel_id;
  x->now = w->now;
  if ((rc = vc__call_row_load(&x->r, w->db, w->tenant_id, id)) < 0 ||
      (rc = load(x)) < 0)
    goto out;
  {
    cJSON *d = cJSON_CreateObject();
    char *text;
    if (d == NULL) {
      rc = vc_error_set_oom();
      goto out;
    }
    cJSON_AddStringToObject(d, "state", "initiated");
    cJSON_AddStringToObject(d, "direction", "inbound");
    cJSON_AddStringToObject(d, "from", from);
    cJSON_AddStringToObject(d, "to", number);
    cJSON_AddStringToObject(d, "number_id", rt.number_id);
    cJSON_AddStringToObject(d, "entry", vc_number_entry_name(rt.entry_kind));
    text = cJSON_PrintUnformatted(d);
    if (text == NULL) {
      cJSON_Delete(d);
      rc = vc_error_set_oom();
      goto out;
    }
    rc = vc__event_append(w->db, w->ctx, w->tenant_id, "call.initiated", id,
                          text);
    cJSON_free(text);
    cJSON_DeleteItemFromObject(d, "direction");
    cJSON_DeleteItemFromObject(d, "state");
    if (rc < 0 ||
        (rc = vc__call_entry_add(w->db, w->ctx, w->tenant_id, id, "state",
                                 VC_LEG_NONE, "{\"state\":\"initiated\"}",
                                 w->now)) < 0 ||
        (rc = entry(x, "incoming", VC_LEG_CUSTOMER, d)) < 0)
      goto out;
  }
  if ((rc = script_init(x, sc)) < 0 || (rc = entry_script(x, sc)) < 0)
    goto out;
  s.steps = sc->steps;
  s.nsteps = sc->n;
  if ((rc = vc__call_webhook_answer(w, id, u->provider_call_id, &s, &body,
                                    &type)) < 0)
    goto out;
  if (body != NULL)
    rc = vc__db_run(w->db, SQL_ANSWER_KEEP, "tttt", w->tenant_id, id, type,
                    body);
out:
  vc__free(body);
  vc__free(type);
  vc__free(sc);
  vc__free(x);
  return rc;
}

/* ---- the watchdog ------------------------------------------------------------------- */

static int watch_job(vc_ctx *ctx, const vc__job *job, vc__job_outcome *out)
{
  int64_t now = vc__now(ctx), last = 0;
  int phase = 0, rc;
  vc__db *db;
  vc__stmt *s;
  run *x = NULL;

  out->result = VC__JOB_DONE;
  if ((rc = vc__db_acquire(&db, ctx->store)) < 0)
    return rc;
  if ((rc = vc__db_begin(db)) < 0)
    goto release;
  if ((rc = vc__db_query(&s, db, SQL_WATCH, "tt", job->tenant_id,
                         job->subject_id)) < 0)
    goto fail;
  if ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW) {
    phase = (int)vc__stmt_int64(s, 0);
    last = vc__stmt_int64(s, 1);
  }
  vc__stmt_done(s);
  if (rc < 0)
    goto fail;
  rc = 0;
  if (phase == 0 || phase == P_ENDED)
    goto commit;
  if (phase == P_BRIDGED || last + VC__INBOUND_IDLE_MS > now) {
    /* Talking (the call's time limit ends it), or heard of lately. */
    out->result = VC__JOB_RETRY;
    out->retry_at = phase == P_BRIDGED ? now + VC__INBOUND_IDLE_MS
                                       : last + VC__INBOUND_IDLE_MS;
    goto commit;
  }
  if ((x = vc__calloc(1, sizeof(*x))) == NULL) {
    rc = vc_error_set_oom();
    goto fail;
  }
  x->ctx = ctx;
  x->db = db;
  x->tenant_id = job->tenant_id;
  x->now = now;
  if ((rc = vc__call_row_load(&x->r, db, job->tenant_id,
                              job->subject_id)) < 0 ||
      (rc = load(x)) < 0)
    goto fail;
  x->channel_id = x->r.channel_id;
  VC_LOG(ctx, VC_LOG_INFO, "inbound call %s: not heard of for %lld s, "
         "taken as abandoned", x->r.id, (long long)((now - last) / 1000));
  if (vc__call_state_live(x->r.state)) {
    if (phase == P_VOICEMAIL)
      rc = end_call(x, VC_CALL_NO_ANSWER, VC_CAUSE_VOICEMAIL, VC_LEG_NONE);
    else
      rc = end_call(x, VC_CALL_CANCELED, VC_CAUSE_ABANDONED,
                    VC_LEG_CUSTOMER);
    if (rc < 0)
      goto fail;
  }
commit:
  if ((rc = vc__db_commit(db)) == 0)
    goto release;
fail:
  vc__db_rollback(db);
release:
  vc__free(x);
  vc__db_release(db);
  return rc;
}

int vc__inbound_stale(vc__call_webhook *w, const vc__call_row *r)
{
  vc__stmt *s;
  int rc;

  if (strcmp(w->step, "in_ring") != 0 || w->attempt <= 0)
    return 0;
  if ((rc = vc__db_query(&s, w->db, SQL_RINGS, "tt", w->tenant_id,
                         r->id)) < 0)
    return rc;
  rc = vc__stmt_step(s);
  if (rc == VC_STORAGE_ROW)
    rc = vc__stmt_int64(s, 0) != w->attempt;
  else if (rc == VC_STORAGE_DONE)
    rc = 0;
  vc__stmt_done(s);
  if (rc == 1)
    VC_LOG(w->ctx, VC_LOG_DEBUG, "inbound call %s: a report of ring %d "
           "came after the next ring; dropped", r->id, w->attempt);
  return rc;
}

int vc__inbound_register(vc_ctx *ctx)
{
  return vc__job_register(ctx, VC__JOB_CALL_INBOUND, watch_job);
}
