/*
 * The call state machine. See machine.h.
 *
 * States are ranked by value: initiated < agent_ringing < agent_answered
 * < customer_ringing < bridged < any final state. A report that would
 * move a call backwards, or touch a call that ended, changes nothing
 * (recording, quality and price reports still count after the end).
 */
#include "core/common.h"
#include "core/ctx.h"
#include "core/event.h"
#include "control.h"
#include "hooks.h"
#include "inbound.h"
#include "machine.h"

#include <cJSON.h>
#include <stdio.h>

#define COLUMNS \
  "id, COALESCE(agent_id, ''), COALESCE(channel_id, '')," \
  " COALESCE(ivr_menu_id, ''), agent_number, customer_number," \
  " COALESCE(caller_id, ''), COALESCE(provider_call_id, '')," \
  " COALESCE(customer_leg_id, ''), state, pinned, record_mode, recording," \
  " on_hold, transferred, hangup_requested, ring_timeout_s, time_limit_s," \
  " cause, attempts, channel_attempts, error_code, agent_ringing_at," \
  " agent_answered_at, customer_ringing_at, bridged_at, ended_at," \
  " created_at, COALESCE((SELECT e.occurred_at FROM vc_call_event e" \
  "  WHERE e.tenant_id = vc_call.tenant_id AND e.call_id = vc_call.id" \
  "  ORDER BY e.seq DESC LIMIT 1), 0)," \
  " direction, COALESCE((SELECT MAX(e.seq) FROM vc_call_event e" \
  "  WHERE e.tenant_id = vc_call.tenant_id AND e.call_id = vc_call.id)," \
  " 0) + 1"

static const char SQL_ROW[] =
  "SELECT " COLUMNS " FROM vc_call WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_ENTER[] =
  "UPDATE vc_call SET state = ?3,"
  " agent_ringing_at = CASE WHEN ?3 = 2 THEN ?4 ELSE agent_ringing_at END,"
  " agent_answered_at = CASE WHEN ?3 = 3 THEN ?4 ELSE agent_answered_at END,"
  " customer_ringing_at = CASE WHEN ?3 = 4 THEN ?4"
  "  ELSE customer_ringing_at END,"
  " bridged_at = CASE WHEN ?3 = 5 THEN ?4 ELSE bridged_at END,"
  " updated_at = ?5 WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_END[] =
  "UPDATE vc_call SET state = ?3, ended_at = ?4, cause = ?5,"
  " failed_leg = ?6, error_code = CASE WHEN ?7 = 0 THEN error_code"
  "  ELSE ?7 END, provider_code = COALESCE(?8, provider_code),"
  " error_message = COALESCE(?9, error_message), talk_s = ?10,"
  " on_hold = 0, updated_at = ?11 WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_COST[] =
  "UPDATE vc_call SET cost_micros = ?3, currency = ?4"
  " WHERE tenant_id = ?1 AND id = ?2 AND cost_reported = 0";
static const char SQL_PRICE[] =
  "UPDATE vc_call SET cost_micros = ?3, currency = ?4, cost_reported = 1,"
  " updated_at = ?5 WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_COST_NOW[] =
  "SELECT cost_micros, COALESCE(currency, ''), cost_reported FROM vc_call"
  " WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_IDS[] =
  "UPDATE vc_call SET provider_call_id = COALESCE(provider_call_id, ?3),"
  " customer_leg_id = COALESCE(customer_leg_id, ?4)"
  " WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_HOLD[] =
  "UPDATE vc_call SET on_hold = ?3, updated_at = ?4"
  " WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_RECORDING[] =
  "UPDATE vc_call SET recording = ?3, updated_at = ?4"
  " WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_TOUCH[] =
  "UPDATE vc_call SET updated_at = ?3 WHERE tenant_id = ?1 AND id = ?2";
/* A call that ended needs neither its placing nor its watchdog. */
static const char SQL_DROP_JOBS[] =
  "DELETE FROM vc_job WHERE tenant_id = ?1 AND subject_id = ?2"
  " AND kind IN ('call.start', 'call.watchdog')";
static const char SQL_PENDING_LEG_OPS[] =
  "SELECT COUNT(*) FROM vc_call_control WHERE tenant_id = ?1"
  " AND call_id = ?2 AND status = 0 AND op IN (2, 3, 4)";
/* An entry is never dated before the one it follows (vc__call_entry_add),
 * so a call's latest time is its last entry's: one index seek, where
 * MAX(occurred_at) read every entry of the call. */
static const char SQL_ENTRY_SEQ[] =
  "SELECT COALESCE((SELECT MAX(e.seq) FROM vc_call_event e"
  "  WHERE e.tenant_id = c.tenant_id AND e.call_id = c.id), 0) + 1,"
  " c.state, COALESCE((SELECT e.occurred_at FROM vc_call_event e"
  "  WHERE e.tenant_id = c.tenant_id AND e.call_id = c.id"
  "  ORDER BY e.seq DESC LIMIT 1), 0)"
  " FROM vc_call c WHERE c.tenant_id = ?1 AND c.id = ?2";
static const char SQL_ENTRY[] =
  "INSERT INTO vc_call_event (tenant_id, call_id, seq, type, leg, state,"
  " detail, occurred_at, created_at)"
  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
/* The same with the seq the caller expects to be free. */
static const char SQL_ENTRY_NEXT[] =
  "INSERT INTO vc_call_event (tenant_id, call_id, seq, type, leg, state,"
  " detail, occurred_at, created_at)"
  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
  " ON CONFLICT (tenant_id, call_id, seq) DO NOTHING";

static void copy(char *dst, size_t size, const char *src)
{
  snprintf(dst, size, "%s", src ? src : "");
}

int vc__call_row_load(vc__call_row *r, vc__db *db, const char *tenant_id,
                      const char *call_id)
{
  vc__stmt *s;
  int rc;

  memset(r, 0, sizeof(*r));
  if ((rc = vc__db_query(&s, db, SQL_ROW, "tt", tenant_id, call_id)) < 0)
    return rc;
  rc = vc__stmt_step(s);
  if (rc == VC_STORAGE_ROW) {
    copy(r->id, sizeof(r->id), vc__stmt_text(s, 0));
    copy(r->agent_id, sizeof(r->agent_id), vc__stmt_text(s, 1));
    copy(r->channel_id, sizeof(r->channel_id), vc__stmt_text(s, 2));
    copy(r->ivr_menu_id, sizeof(r->ivr_menu_id), vc__stmt_text(s, 3));
    copy(r->agent_number, sizeof(r->agent_number), vc__stmt_text(s, 4));
    copy(r->customer_number, sizeof(r->customer_number),
         vc__stmt_text(s, 5));
    copy(r->caller_id, sizeof(r->caller_id), vc__stmt_text(s, 6));
    copy(r->provider_call_id, sizeof(r->provider_call_id),
         vc__stmt_text(s, 7));
    copy(r->customer_leg_id, sizeof(r->customer_leg_id),
         vc__stmt_text(s, 8));
    r->state = (int)vc__stmt_int64(s, 9);
    r->pinned = (int)vc__stmt_int64(s, 10);
    r->record_mode = (int)vc__stmt_int64(s, 11);
    r->recording = (int)vc__stmt_int64(s, 12);
    r->on_hold = (int)vc__stmt_int64(s, 13);
    r->transferred = (int)vc__stmt_int64(s, 14);
    r->hangup_requested = (int)vc__stmt_int64(s, 15);
    r->ring_timeout_s = (int)vc__stmt_int64(s, 16);
    r->time_limit_s = (int)vc__stmt_int64(s, 17);
    r->cause = (int)vc__stmt_int64(s, 18);
    r->attempts = (int)vc__stmt_int64(s, 19);
    r->channel_attempts = (int)vc__stmt_int64(s, 20);
    r->error = (int)vc__stmt_int64(s, 21);
    for (int i = 0; i < 4; i++)
      r->at[VC_CALL_AGENT_RINGING + i] = vc__stmt_int64(s, 22 + i);
    r->at[0] = vc__stmt_int64(s, 26);
    r->created_at = vc__stmt_int64(s, 27);
    r->at[VC_CALL_INITIATED] = r->created_at;
    r->last_entry_at = vc__stmt_int64(s, 28);
    r->direction = (int)vc__stmt_int64(s, 29);
    r->next_seq = vc__stmt_int64(s, 30);
    rc = 0;
  } else if (rc == VC_STORAGE_DONE) {
    rc = vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                       "no call '%.32s'", call_id);
  }
  vc__stmt_done(s);
  return rc;
}

int vc__call_state_live(int state)
{
  return state >= VC_CALL_INITIATED && state <= VC_CALL_BRIDGED;
}

int vc__call_end_state(int cause, int bridged)
{
  if (bridged)
    return VC_CALL_COMPLETED;
  switch (cause) {
  case VC_CAUSE_BUSY: return VC_CALL_BUSY;
  case VC_CAUSE_NO_ANSWER: return VC_CALL_NO_ANSWER;
  case VC_CAUSE_NONE:
  case VC_CAUSE_NORMAL:
  case VC_CAUSE_CANCELED:
  case VC_CAUSE_API_HANGUP:
  case VC_CAUSE_IVR:
  case VC_CAUSE_ABANDONED:
    return VC_CALL_CANCELED;
  case VC_CAUSE_QUEUE_TIMEOUT:
  case VC_CAUSE_VOICEMAIL:
  case VC_CAUSE_CALLBACK:
    return VC_CALL_NO_ANSWER;
  default: /* and VC_CAUSE_UNKNOWN_NUMBER */ /* rejected, unreachable, time limit, provider error */
    return VC_CALL_FAILED;
  }
}

int vc__call_update_target(int current, const vc_call_update *u,
                           int has_ivr, int legs_detached)
{
  int want;

  if (!vc__call_state_live(current))
    return 0;
  switch (u->type) {
  case VC_UPDATE_RINGING:
    want = u->leg == VC_LEG_AGENT ? VC_CALL_AGENT_RINGING
           : u->leg == VC_LEG_CUSTOMER ? VC_CALL_CUSTOMER_RINGING : 0;
    break;
  case VC_UPDATE_ANSWERED:
    if (u->leg == VC_LEG_AGENT)
      want = VC_CALL_AGENT_ANSWERED;
    else if (u->leg == VC_LEG_CUSTOMER)
      /* With an IVR the customer hears the menu first: bridged when
       * it says so (vc__call_bridge). */
      want = has_ivr ? VC_CALL_CUSTOMER_RINGING : VC_CALL_BRIDGED;
    else
      want = 0;
    break;
  case VC_UPDATE_ENDED:
    if (u->leg != VC_LEG_NONE && legs_detached)
      return 0;
    return vc__call_end_state(u->cause, current == VC_CALL_BRIDGED);
  default:
    return 0;
  }
  return want > current ? want : 0;
}

/* ---- the timeline ------------------------------------------------------ */

/* Append an entry, reading the next seq, the call's state and its
 * latest time; *seq and *used (may be NULL) get the seq and the time it
 * took. */
static int entry_add(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                     const char *call_id, const char *type, int leg,
                     const char *detail_json, int64_t at, int64_t *seq_out,
                     int64_t *used)
{
  vc__stmt *s;
  int64_t seq = 0, state = 0;
  int rc;

  if ((rc = vc__db_query(&s, db, SQL_ENTRY_SEQ, "tt", tenant_id,
                         call_id)) < 0)
    return rc;
  rc = vc__stmt_step(s);
  if (rc == VC_STORAGE_ROW) {
    seq = vc__stmt_int64(s, 0);
    state = vc__stmt_int64(s, 1);
    /* The timeline never goes back in time, whoever's clock said when
     * (a provider's whole seconds after an entry of ours). */
    if (vc__stmt_int64(s, 2) > at)
      at = vc__stmt_int64(s, 2);
    rc = 0;
  } else if (rc == VC_STORAGE_DONE) {
    rc = vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                       "no call '%.32s'", call_id);
  }
  vc__stmt_done(s);
  if (rc < 0)
    return rc;
  if (seq_out != NULL)
    *seq_out = seq;
  if (used != NULL)
    *used = at;
  return vc__db_run(db, SQL_ENTRY, "ttitiitii", tenant_id, call_id, seq,
                    type, (int64_t)leg, state,
                    detail_json ? detail_json : "{}", at, vc__now(ctx));
}

int vc__call_entry_add(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                       const char *call_id, const char *type, int leg,
                       const char *detail_json, int64_t at)
{
  return entry_add(db, ctx, tenant_id, call_id, type, leg, detail_json, at,
                   NULL, NULL);
}

/* An entry added meanwhile by other code took the row's seq: the insert
 * then changes nothing, and the entry is added the long way, which puts
 * the row right. */
int vc__call_row_entry(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                       vc__call_row *r, const char *type, int leg,
                       const char *detail_json, int64_t at)
{
  int64_t seq, used = at > r->last_entry_at ? at : r->last_entry_at;
  int rc;

  if (r->next_seq > 0) {
    if ((rc = vc__db_run(db, SQL_ENTRY_NEXT, "ttitiitii", tenant_id, r->id,
                         r->next_seq, type, (int64_t)leg,
                         (int64_t)r->state,
                         detail_json ? detail_json : "{}", used,
                         vc__now(ctx))) < 0)
      return rc;
    if (vc__db_changes(db) > 0) {
      r->next_seq++;
      r->last_entry_at = used;
      return 0;
    }
  }
  if ((rc = entry_add(db, ctx, tenant_id, r->id, type, leg, detail_json,
                      at, &seq, &used)) < 0)
    return rc;
  r->next_seq = seq + 1;
  r->last_entry_at = used;
  return 0;
}

/* An entry whose detail is built with cJSON (NULL: "{}"); the object is
 * freed here. */
static int entry_json(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                      const char *call_id, const char *type, int leg,
                      cJSON *detail, int64_t at)
{
  char *text = NULL;
  int rc;

  if (detail != NULL && (text = cJSON_PrintUnformatted(detail)) == NULL) {
    cJSON_Delete(detail);
    return vc_error_set_oom();
  }
  cJSON_Delete(detail);
  rc = vc__call_entry_add(db, ctx, tenant_id, call_id, type, leg, text, at);
  cJSON_free(text);
  return rc;
}

/* row_entry with a detail built with cJSON (NULL: "{}"), freed here. */
static int row_entry_json(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                          vc__call_row *r, const char *type, int leg,
                          cJSON *detail, int64_t at)
{
  char *text = NULL;
  int rc;

  if (detail != NULL && (text = cJSON_PrintUnformatted(detail)) == NULL) {
    cJSON_Delete(detail);
    return vc_error_set_oom();
  }
  cJSON_Delete(detail);
  rc = vc__call_row_entry(db, ctx, tenant_id, r, type, leg, text, at);
  cJSON_free(text);
  return rc;
}

/* ---- moving the call ---------------------------------------------------- */

/* The latest time the call already has (its states and its timeline's
 * entries): reports never go before it. */
static int64_t latest(const vc__call_row *r)
{
  int64_t t = r->created_at > r->last_entry_at ? r->created_at
                                               : r->last_entry_at;

  for (int i = VC_CALL_AGENT_RINGING; i <= VC_CALL_BRIDGED; i++)
    if (r->at[i] > t)
      t = r->at[i];
  return t;
}

static int state_event(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                       const vc__call_row *r, int state, int previous)
{
  char type[48], payload[256];

  snprintf(type, sizeof(type), "call.%s", vc_call_state_name(state));
  snprintf(payload, sizeof(payload),
           "{\"state\":\"%s\",\"previous\":\"%s\",\"cause\":\"%s\","
           "\"agent_id\":\"%s\"}", vc_call_state_name(state),
           vc_call_state_name(previous),
           vc_call_cause_name(vc_call_state_final(state) ? r->cause : 0),
           r->agent_id);
  return vc__event_append(db, ctx, tenant_id, type, r->id, payload);
}

/* Everything that goes with entering `state` at `at`, row kept up to
 * date; the call's own columns are the caller's. */
static int entered(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                   vc__call_row *r, int state, int64_t at)
{
  int previous = r->state, rc;
  cJSON *d = cJSON_CreateObject();

  r->state = state;
  if (d == NULL)
    return vc_error_set_oom();
  cJSON_AddStringToObject(d, "state", vc_call_state_name(state));
  cJSON_AddStringToObject(d, "previous", vc_call_state_name(previous));
  if (vc_call_state_final(state))
    cJSON_AddStringToObject(d, "cause", vc_call_cause_name(r->cause));
  if ((rc = row_entry_json(db, ctx, tenant_id, r, "state", VC_LEG_NONE, d,
                       at)) < 0 ||
      (rc = state_event(db, ctx, tenant_id, r, state, previous)) < 0)
    return rc;
  if (r->agent_id[0] != '\0')
    rc = vc__agent_on_call_state(db, ctx, tenant_id, r->agent_id, r->id,
                                 state, at);
  return rc;
}

/* Enter live state `state` (and every one skipped before it). */
static int advance(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                   vc__call_row *r, int state, int64_t at, int64_t now,
                   int fill_only)
{
  int rc;

  for (int s = r->state + 1; s <= state; s++) {
    if (fill_only && s == state)
      break;
    if ((rc = vc__db_run(db, SQL_ENTER, "ttiii", tenant_id, r->id,
                         (int64_t)s, at, now)) < 0 ||
        (rc = entered(db, ctx, tenant_id, r, s, at)) < 0)
      return rc;
    r->at[s] = at;
  }
  return 0;
}

/* End the call: final state, cause, talk time, price, agent freed. */
static int finish(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                  vc__call_row *r, const vc__call_ending *e, int talk_s,
                  int64_t now)
{
  int64_t cost = 0;
  char currency[4] = "";
  int rc;

  r->cause = e->cause;
  if ((rc = vc__db_run(db, SQL_END, "ttiiiii" "ttii", tenant_id, r->id,
                       (int64_t)e->state, e->at, (int64_t)e->cause,
                       (int64_t)e->leg, (int64_t)e->error, e->provider_code,
                       e->message, (int64_t)talk_s, now)) < 0 ||
      (rc = vc__db_run(db, SQL_DROP_JOBS, "tt", tenant_id, r->id)) < 0 ||
      (rc = entered(db, ctx, tenant_id, r, e->state, e->at)) < 0)
    return rc;
  r->at[0] = e->at;
  {
    vc__stats_call sc = { r->agent_id, r->channel_id, e->state,
                          r->at[VC_CALL_BRIDGED] > 0,
                          r->at[VC_CALL_AGENT_ANSWERED] > 0, talk_s,
                          r->at[VC_CALL_AGENT_RINGING], e->at };
    if ((rc = vc__stats_on_call(db, ctx, tenant_id, &sc)) < 0)
      return rc;
  }
  if ((rc = vc__billing_on_call_end(db, ctx, tenant_id, r->id,
                                    r->channel_id[0] ? r->channel_id : NULL,
                                    r->customer_number, talk_s, e->at,
                                    &cost, currency)) < 0)
    return rc;
  if ((cost != 0 || currency[0] != '\0') &&
      (rc = vc__db_run(db, SQL_COST, "ttit", tenant_id, r->id, cost,
                       currency[0] ? currency : NULL)) < 0)
    return rc;
  /* The provider's own price, where it tells one, replaces the
   * estimate later (control.c). */
  return vc__call_price_schedule(db, ctx, tenant_id, r->id);
}

int vc__call_legs_detached(vc__db *db, const char *tenant_id,
                           const vc__call_row *r, int leg, int *out)
{
  vc__stmt *s;
  int rc;

  /* After a hangup was asked, any leg's end is the call's. */
  *out = !r->hangup_requested &&
         (r->on_hold || (r->transferred && leg == VC_LEG_AGENT));
  if (*out || r->hangup_requested)
    return 0;
  if ((rc = vc__db_query(&s, db, SQL_PENDING_LEG_OPS, "tt", tenant_id,
                         r->id)) < 0)
    return rc;
  if ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW) {
    *out = vc__stmt_int64(s, 0) > 0;
    rc = 0;
  }
  vc__stmt_done(s);
  return rc < 0 ? rc : 0;
}

static cJSON *leg_detail(const vc_call_update *u)
{
  cJSON *d = cJSON_CreateObject();

  if (d == NULL)
    return NULL;
  if (u->type == VC_UPDATE_ENDED) {
    cJSON_AddStringToObject(d, "cause", vc_call_cause_name(u->cause));
    if (u->duration_s > 0)
      cJSON_AddNumberToObject(d, "duration_s", u->duration_s);
  }
  if (u->leg_provider_id != NULL)
    cJSON_AddStringToObject(d, "leg_id", u->leg_provider_id);
  if (u->provider_code != NULL)
    cJSON_AddStringToObject(d, "provider_code", u->provider_code);
  return d;
}

static int leg_event(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                     vc__call_row *r, const vc_call_update *u, int64_t at,
                     int64_t now, int *changed)
{
  static const char *const names[] = { "", "ringing", "answered", "hangup" };
  int detached = 0, target, rc, bridging;
  cJSON *d;

  /* Only a leg's end asks whether the legs are apart. */
  if (u->type == VC_UPDATE_ENDED &&
      (rc = vc__call_legs_detached(db, tenant_id, r, u->leg,
                                   &detached)) < 0)
    return rc;
  target = vc__call_update_target(r->state, u, r->ivr_menu_id[0] != '\0',
                                  detached);
  if (target == 0) {
    /* Worth a line though the call stays: a leg that ended while the
     * other is held or transferred, a customer answering an IVR. */
    if ((u->type == VC_UPDATE_ENDED && u->leg != VC_LEG_NONE && detached &&
         vc__call_state_live(r->state)) ||
        (u->type == VC_UPDATE_ANSWERED && u->leg == VC_LEG_CUSTOMER &&
         r->ivr_menu_id[0] != '\0' && r->state == VC_CALL_CUSTOMER_RINGING))
      return row_entry_json(db, ctx, tenant_id, r, names[u->type], u->leg,
                        leg_detail(u), at);
    return 0;
  }
  *changed = 1;
  if (vc_call_state_final(target)) {
    vc__call_ending e;
    int talk = 0, cause = u->cause ? u->cause : VC_CAUSE_NORMAL;
    /* A customer is dialled once the agent answered. */
    if (target != VC_CALL_COMPLETED && u->leg == VC_LEG_CUSTOMER &&
        (rc = advance(db, ctx, tenant_id, r, VC_CALL_AGENT_ANSWERED, at,
                      now, 0)) < 0)
      return rc;
    if (r->hangup_requested &&
        (cause == VC_CAUSE_NORMAL || cause == VC_CAUSE_CANCELED))
      cause = VC_CAUSE_API_HANGUP;
    if (target == VC_CALL_COMPLETED) {
      talk = u->duration_s > 0 && u->leg != VC_LEG_AGENT
             ? u->duration_s
             : (int)((at - r->at[VC_CALL_BRIDGED]) / 1000);
      if (talk < 0)
        talk = 0;
    }
    if ((d = leg_detail(u)) == NULL)
      return vc_error_set_oom();
    if ((rc = row_entry_json(db, ctx, tenant_id, r, "hangup", u->leg, d,
                         at)) < 0)
      return rc;
    memset(&e, 0, sizeof(e));
    e.state = target;
    e.cause = cause;
    e.leg = target == VC_CALL_COMPLETED ? VC_LEG_NONE : u->leg;
    e.provider_code = u->provider_code;
    e.at = at;
    return finish(db, ctx, tenant_id, r, &e, talk, now);
  }
  bridging = target == VC_CALL_BRIDGED;
  if ((rc = advance(db, ctx, tenant_id, r, target, at, now, 1)) < 0)
    return rc;
  if ((d = leg_detail(u)) == NULL)
    return vc_error_set_oom();
  if ((rc = row_entry_json(db, ctx, tenant_id, r, names[u->type], u->leg, d,
                       at)) < 0)
    return rc;
  if (bridging &&
      (rc = vc__call_row_entry(db, ctx, tenant_id, r, "bridged",
                               VC_LEG_NONE, NULL, at)) < 0)
    return rc;
  return advance(db, ctx, tenant_id, r, target, at, now, 0);
}

/* The recording module keeps the recording and logs its timeline
 * entries; the call keeps whether it is being recorded. */
static int recording(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                     vc__call_row *r, const vc_call_update *u, int64_t now)
{
  int rc, on;

  if (u->recording_status < VC_RECORDING_STARTED ||
      u->recording_status > VC_RECORDING_FAILED)
    return vc__error_set(VC_ERRCLASS_ADAPTER, VC_EINVALID,
                         "unknown recording status %d",
                         u->recording_status);
  on = u->recording_status == VC_RECORDING_STARTED;
  if (on != r->recording &&
      (rc = vc__db_run(db, SQL_RECORDING, "ttii", tenant_id, r->id,
                       (int64_t)on, now)) < 0)
    return rc;
  return vc__recording_on_update(db, ctx, tenant_id, r->id, u);
}

/* The quality module adds the timeline entry and the event itself. */
static int quality(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                   vc__call_row *r, const vc_call_update *u, int64_t at)
{
  double mos = 0;

  return vc__quality_record(db, ctx, tenant_id, r->id, u->jitter_ms,
                            u->packet_loss_pct, u->rtt_ms, u->mos, at, &mos);
}

/* The provider's price replaces the estimate: the ledger (billing), the
 * call's cost, a `price` entry and a call.price event; the same price
 * again changes nothing. */
static int price(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                 const char *call_id, const vc_call_update *u, int64_t at,
                 int64_t now)
{
  char was_currency[4] = "", payload[256];
  int64_t was = 0;
  int reported = 0, rc;
  vc__stmt *s;
  cJSON *d;

  if ((rc = vc__db_query(&s, db, SQL_COST_NOW, "tt", tenant_id,
                         call_id)) < 0)
    return rc;
  if ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW) {
    was = vc__stmt_int64(s, 0);
    copy(was_currency, sizeof(was_currency), vc__stmt_text(s, 1));
    reported = (int)vc__stmt_int64(s, 2);
    rc = 0;
  }
  vc__stmt_done(s);
  if (rc < 0)
    return rc;
  if ((rc = vc__billing_on_call_price(db, ctx, tenant_id, call_id,
                                      u->price_micros, u->currency,
                                      at)) < 0)
    return rc;
  if (reported && was == u->price_micros &&
      strcmp(was_currency, u->currency) == 0)
    return 0;
  if ((rc = vc__db_run(db, SQL_PRICE, "ttiti", tenant_id, call_id,
                       u->price_micros, u->currency, now)) < 0)
    return rc;
  if ((d = cJSON_CreateObject()) == NULL)
    return vc_error_set_oom();
  cJSON_AddNumberToObject(d, "price_micros", (double)u->price_micros);
  cJSON_AddStringToObject(d, "currency", u->currency);
  cJSON_AddNumberToObject(d, "previous_micros", (double)was);
  cJSON_AddStringToObject(d, "previous_currency", was_currency);
  if ((rc = entry_json(db, ctx, tenant_id, call_id, "price", VC_LEG_NONE, d,
                       at)) < 0)
    return rc;
  snprintf(payload, sizeof(payload),
           "{\"price_micros\":%lld,\"currency\":\"%s\","
           "\"previous_micros\":%lld,\"previous_currency\":\"%s\"}",
           (long long)u->price_micros, u->currency, (long long)was,
           was_currency);
  return vc__event_append(db, ctx, tenant_id, "call.price", call_id,
                          payload);
}

int vc__call_set_hold(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                      const char *call_id, int on, int64_t at)
{
  vc__call_row r;
  int rc;

  if ((rc = vc__call_row_load(&r, db, tenant_id, call_id)) < 0)
    return rc;
  on = on != 0;
  if (r.on_hold == on || r.state != VC_CALL_BRIDGED)
    return 0;
  if ((rc = vc__db_run(db, SQL_HOLD, "ttii", tenant_id, call_id,
                       (int64_t)on, vc__now(ctx))) < 0)
    return rc;
  return vc__call_entry_add(db, ctx, tenant_id, call_id,
                            on ? "hold" : "unhold", VC_LEG_CUSTOMER, NULL,
                            at);
}

int vc__call_apply(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                   const char *call_id, const vc_call_update *u,
                   int64_t now, int *changed)
{
  vc__call_row r;
  int rc;

  if ((rc = vc__call_row_load(&r, db, tenant_id, call_id)) < 0) {
    if (changed != NULL)
      *changed = 0;
    return rc;
  }
  return vc__call_apply_row(db, ctx, tenant_id, &r, u, now, changed);
}

int vc__call_apply_row(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                       const vc__call_row *row, const vc_call_update *u,
                       int64_t now, int *changed)
{
  vc__call_row r = *row;
  const char *call_id = r.id;
  int64_t at;
  int rc, unused;

  if (changed == NULL)
    changed = &unused;
  *changed = 0;
  at = u->occurred_at > 0 ? u->occurred_at : now;
  if (at < latest(&r))
    at = latest(&r); /* a provider's clock never takes a call back */
  if ((u->provider_call_id != NULL && r.provider_call_id[0] == '\0') ||
      (u->leg == VC_LEG_CUSTOMER && u->leg_provider_id != NULL &&
       r.customer_leg_id[0] == '\0')) {
    if ((rc = vc__db_run(db, SQL_IDS, "tttt", tenant_id, call_id,
                         u->provider_call_id,
                         u->leg == VC_LEG_CUSTOMER ? u->leg_provider_id
                                                   : NULL)) < 0)
      return rc;
    if (u->leg == VC_LEG_CUSTOMER && u->leg_provider_id != NULL)
      copy(r.customer_leg_id, sizeof(r.customer_leg_id), u->leg_provider_id);
  }
  /* An inbound call's legs mean other things (inbound.c). */
  if (r.direction == VC_CALL_INBOUND &&
      (u->type == VC_UPDATE_RINGING || u->type == VC_UPDATE_ANSWERED ||
       u->type == VC_UPDATE_ENDED))
    return vc__inbound_leg(db, ctx, tenant_id, &r, u, at, changed);
  switch (u->type) {
  case VC_UPDATE_RINGING:
  case VC_UPDATE_ANSWERED:
  case VC_UPDATE_ENDED:
    return leg_event(db, ctx, tenant_id, &r, u, at, now, changed);
  case VC_UPDATE_DTMF:
    if (!vc__call_state_live(r.state) || u->digits == NULL)
      return 0;
    {
      cJSON *d = cJSON_CreateObject();
      if (d == NULL)
        return vc_error_set_oom();
      cJSON_AddStringToObject(d, "digits", u->digits);
      *changed = 1;
      return row_entry_json(db, ctx, tenant_id, &r, "dtmf",
                            u->leg ? u->leg : VC_LEG_CUSTOMER, d, at);
    }
  case VC_UPDATE_RECORDING:
    *changed = 1;
    if ((rc = recording(db, ctx, tenant_id, &r, u, now)) < 0 ||
        r.direction != VC_CALL_INBOUND)
      return rc;
    return vc__inbound_recorded(db, ctx, tenant_id, &r, u, at);
  case VC_UPDATE_QUALITY:
    *changed = 1;
    return quality(db, ctx, tenant_id, &r, u, at);
  case VC_UPDATE_PRICE:
    *changed = 1;
    return price(db, ctx, tenant_id, call_id, u, at, now);
  case VC_UPDATE_HOLD:
  case VC_UPDATE_UNHOLD:
    *changed = 1;
    return vc__call_set_hold(db, ctx, tenant_id, call_id,
                             u->type == VC_UPDATE_HOLD, at);
  default: /* VC_UPDATE_SCRIPT: answered by script.c */
    return vc__db_run(db, SQL_TOUCH, "tti", tenant_id, call_id, now);
  }
}

int vc__call_end(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                 const char *call_id, const vc__call_ending *e)
{
  vc__call_row r;
  vc__call_ending copy_e = *e;
  int64_t now = vc__now(ctx);
  int talk = 0, rc;

  if ((rc = vc__call_row_load(&r, db, tenant_id, call_id)) < 0)
    return rc;
  if (!vc__call_state_live(r.state))
    return 0;
  if (copy_e.at < latest(&r))
    copy_e.at = latest(&r);
  if (r.state == VC_CALL_BRIDGED && copy_e.state == VC_CALL_COMPLETED)
    talk = (int)((copy_e.at - r.at[VC_CALL_BRIDGED]) / 1000);
  return finish(db, ctx, tenant_id, &r, &copy_e, talk, now);
}

int vc__call_advance(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                     const char *call_id, int state, int64_t at)
{
  vc__call_row r;
  int rc;

  if (state == VC_CALL_BRIDGED)
    return vc__call_bridge(db, ctx, tenant_id, call_id, at);
  if ((rc = vc__call_row_load(&r, db, tenant_id, call_id)) < 0)
    return rc;
  if (!vc__call_state_live(r.state) || r.state >= state)
    return 0;
  if (at < latest(&r))
    at = latest(&r);
  return advance(db, ctx, tenant_id, &r, state, at, vc__now(ctx), 0);
}

int vc__call_bridge(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                    const char *call_id, int64_t at)
{
  vc__call_row r;
  int rc;

  if ((rc = vc__call_row_load(&r, db, tenant_id, call_id)) < 0)
    return rc;
  if (!vc__call_state_live(r.state) || r.state == VC_CALL_BRIDGED)
    return 0;
  if (at < latest(&r))
    at = latest(&r);
  if ((rc = advance(db, ctx, tenant_id, &r, VC_CALL_BRIDGED, at,
                    vc__now(ctx), 1)) < 0 ||
      (rc = vc__call_row_entry(db, ctx, tenant_id, &r, "bridged",
                               VC_LEG_NONE, NULL, at)) < 0)
    return rc;
  return advance(db, ctx, tenant_id, &r, VC_CALL_BRIDGED, at, vc__now(ctx),
                 0);
}
