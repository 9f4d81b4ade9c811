/*
 * Automation rules at work: every event appended is offered to the
 * tenant's enabled rules (vc__rules_on_event, core/event.h), inside the
 * appending transaction. See vyomcomm/rule.h for what a rule does.
 *
 * Cost: an event type no rule can wait for returns at once; otherwise
 * the tenant's rules come from the context's cache (rule.c), and a
 * tenant without rules for that trigger costs one cached lookup. Only
 * when a rule waits for the event is its subject read from the store.
 *
 * Chains: a rule's actions append events that are offered to the rules
 * again, on the same thread and in the same transaction; a thread-local
 * depth bounds the chain at VC_RULE_DEPTH_MAX rules.
 */
#include "core/common.h"
#include "core/ctx.h"
#include "core/event.h"
#include "core/json.h"
#include "core/tenant.h"
#include "core/tz.h"
#include "channel.h"
#include "consent.h"
#include "contact.h"
#include "keyword.h"
#include "message.h"
#include "msg_hooks.h"
#include "rule.h"
#include "call/call_internal.h"

#include <cJSON.h>
#include <stdio.h>

#define TEXT_MAX 4096     /* bytes of an inbound text a rule looks at */
#define OUTCOME_MAX 160

static const char SQL_INBOUND[] =
  "SELECT i.channel_id, i.from_addr, i.text_body, c.kind, c.provider"
  " FROM vc_inbound_message i JOIN vc_channel c"
  " ON c.tenant_id = i.tenant_id AND c.id = i.channel_id"
  " WHERE i.tenant_id = ?1 AND i.id = ?2";
static const char SQL_MESSAGE[] =
  "SELECT kind, channel_id, to_addr, contact_id FROM vc_message"
  " WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_CALL[] =
  "SELECT channel_id, customer_number, contact_id, direction,"
  " COALESCE(caller_id, ''), ended_at FROM vc_call"
  " WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_HAS_TAG[] =
  "SELECT 1 FROM vc_contact_tag WHERE tenant_id = ?1 AND tag = ?2"
  " AND contact_id = ?3";
static const char SQL_TAG_ADD[] =
  "INSERT INTO vc_contact_tag (tenant_id, tag, contact_id)"
  " VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING";
static const char SQL_TAG_DEL[] =
  "DELETE FROM vc_contact_tag WHERE tenant_id = ?1 AND tag = ?2"
  " AND contact_id = ?3";
static const char SQL_TAG_COUNT[] =
  "SELECT COUNT(*) FROM vc_contact_tag WHERE tenant_id = ?1"
  " AND contact_id = ?2";

/* The chain on this thread: rules firing now, and whether this chain
 * has recorded its stop. */
static _Thread_local int tl_depth;
static _Thread_local int tl_stopped;

/* ---- the triggering event ------------------------------------------- */

typedef struct subject {
  int trigger;
  const char *type, *id, *payload;
  int status;                  /* a message's status, a campaign's state */
  int cause;                   /* a call's vc_call_cause */
  int loaded;
  char channel_id[VC_ID_SIZE]; /* the channel it came on, "" none */
  int kind;                    /* that channel's kind (an opt-out's) */
  char contact_id[VC_ID_SIZE]; /* "" none known */
  char to[320];                /* who to answer on channel_id, "" none */
  vc__sender who;              /* an inbound message's sender */
  int has_sender;
  char *text;                  /* an inbound message's text */
  int direction;               /* a call's vc_call_direction */
  char called[VC_CALL_ADDRESS_MAX + 1]; /* an inbound call's number */
  int64_t ended_at;            /* a call's end */
  vc_tenant *t;                /* loaded when needed */
} subject;

static int name_index(const char *name, const char *(*fn)(int), int lo,
                      int hi)
{
  for (int i = lo; i <= hi; i++)
    if (strcmp(fn(i), name) == 0)
      return i;
  return 0;
}

/* The trigger an event type can fire, 0 when none. */
static int trigger_of(subject *sub, const char *type)
{
  switch (type[0]) {
  case 'i':
    return strcmp(type, "inbound.received") == 0 ? VC_RULE_ON_INBOUND : 0;
  case 'm':
    if (strncmp(type, "message.", 8) != 0 ||
        (sub->status = name_index(type + 8, vc_message_status_name,
                                  VC_MSG_QUEUED, VC_MSG_CANCELED)) == 0)
      return 0;
    return VC_RULE_ON_MESSAGE;
  case 'c':
    if (strncmp(type, "call.", 5) == 0) {
      int state = name_index(type + 5, vc_call_state_name, VC_CALL_COMPLETED,
                             VC_CALL_CANCELED);
      return state != 0 && vc_call_state_final(state) ? VC_RULE_ON_CALL : 0;
    }
    if (strcmp(type, "campaign.completed") == 0) {
      sub->status = VC_CAMPAIGN_COMPLETED;
      return VC_RULE_ON_CAMPAIGN;
    }
    if (strcmp(type, "campaign.canceled") == 0) {
      sub->status = VC_CAMPAIGN_CANCELED;
      return VC_RULE_ON_CAMPAIGN;
    }
    return strcmp(type, "contact.opted_out") == 0 ? VC_RULE_ON_OPT_OUT : 0;
  default:
    return 0;
  }
}

static void copy(char *out, size_t size, const char *in)
{
  snprintf(out, size, "%s", in ? in : "");
}

/* A string member of the event's payload, "" when absent. */
static void payload_str(char *out, size_t size, const char *payload,
                        const char *key)
{
  cJSON *o = payload ? vc__cjson_parse(payload, strlen(payload) + 1, NULL, 0)
                     : NULL;
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

  copy(out, size, cJSON_IsString(v) ? v->valuestring : "");
  cJSON_Delete(o);
}

static int load_inbound(subject *sub, vc__db *db, const char *tenant_id)
{
  vc__stmt *s;
  int rc;

  if ((rc = vc__db_query(&s, db, SQL_INBOUND, "tt", tenant_id, sub->id)) <
      0)
    return rc;
  if ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW) {
    const char *text = vc__stmt_text(s, 2);
    size_t n = text ? strlen(text) : 0;
    copy(sub->channel_id, sizeof(sub->channel_id), vc__stmt_text(s, 0));
    sub->kind = (int)vc__stmt_int64(s, 3);
    if (n > TEXT_MAX)
      n = TEXT_MAX;
    if ((sub->text = vc__malloc(n + 1)) == NULL) {
      vc__stmt_done(s);
      return vc_error_set_oom();
    }
    memcpy(sub->text, text ? text : "", n);
    sub->text[n] = '\0';
    if (vc__sender_of(&sub->who, sub->kind, vc__stmt_text(s, 4),
                      vc__stmt_text(s, 1)) == 0) {
      sub->has_sender = 1;
      copy(sub->to, sizeof(sub->to), sub->who.to);
    } else {
      vc_error_clear();
    }
  }
  vc__stmt_done(s);
  if (rc < 0)
    return rc;
  if (sub->has_sender)
    return vc__contact_for_recipient(sub->contact_id, db, tenant_id,
                                     sub->kind, sub->who.to);
  return 0;
}

static int load_row(subject *sub, vc__db *db, const char *tenant_id)
{
  int call = sub->trigger == VC_RULE_ON_CALL;
  vc__stmt *s;
  int rc;

  if ((rc = vc__db_query(&s, db, call ? SQL_CALL : SQL_MESSAGE, "tt",
                         tenant_id, sub->id)) < 0)
    return rc;
  if ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW) {
    int o = call ? 0 : 1;
    sub->kind = call ? VC_CHANNEL_VOICE : (int)vc__stmt_int64(s, 0);
    copy(sub->channel_id, sizeof(sub->channel_id), vc__stmt_text(s, o));
    copy(sub->to, sizeof(sub->to), vc__stmt_text(s, o + 1));
    copy(sub->contact_id, sizeof(sub->contact_id), vc__stmt_text(s, o + 2));
    if (call) {
      sub->direction = (int)vc__stmt_int64(s, 3);
      copy(sub->called, sizeof(sub->called), vc__stmt_text(s, 4));
      sub->ended_at = vc__stmt_int64(s, 5);
    }
  }
  vc__stmt_done(s);
  if (rc < 0)
    return rc;
  if (call && sub->contact_id[0] == '\0' && sub->to[0] != '\0')
    return vc__contact_for_recipient(sub->contact_id, db, tenant_id,
                                     VC_CHANNEL_VOICE, sub->to);
  return 0;
}

/* Read what the rules need of the event's subject, once. */
static int load_subject(subject *sub, vc__db *db, const char *tenant_id)
{
  char name[32];
  int rc = 0;

  if (sub->loaded)
    return 0;
  sub->loaded = 1;
  switch (sub->trigger) {
  case VC_RULE_ON_INBOUND:
    rc = load_inbound(sub, db, tenant_id);
    break;
  case VC_RULE_ON_MESSAGE:
    rc = load_row(sub, db, tenant_id);
    break;
  case VC_RULE_ON_CALL:
    payload_str(name, sizeof(name), sub->payload, "cause");
    sub->cause = name_index(name, vc_call_cause_name, VC_CAUSE_NORMAL,
                            VC_CAUSE_UNKNOWN_NUMBER);
    rc = load_row(sub, db, tenant_id);
    break;
  case VC_RULE_ON_OPT_OUT:
    copy(sub->contact_id, sizeof(sub->contact_id), sub->id);
    payload_str(name, sizeof(name), sub->payload, "kind");
    sub->kind = name_index(name, vc_channel_kind_name, VC_CHANNEL_EMAIL,
                           VC_CHANNEL_VOICE);
    break;
  default:
    break;
  }
  return rc < 0 ? rc : 0;
}

static int tenant_of(subject *sub, vc__db *db, vc_ctx *ctx,
                     const char *tenant_id)
{
  if (sub->t != NULL)
    return 0;
  return vc__tenant_load(&sub->t, ctx, db, tenant_id);
}

/* ---- matching ---------------------------------------------------------- */

int vc__rule_text_matches(const vc__rule *r, const char *text)
{
  if (r->keyword[0] != '\0') {
    const char *end;
    size_t n, k = strlen(r->keyword);
    while (*text == ' ' || (*text >= '\t' && *text <= '\r'))
      text++;
    end = text + strlen(text);
    while (end > text && (end[-1] == ' ' ||
                          (end[-1] >= '\t' && end[-1] <= '\r')))
      end--;
    n = (size_t)(end - text);
    return n == k && strncasecmp(text, r->keyword, n) == 0;
  }
  return r->has_re && regexec(&r->re, text, 0, NULL, 0) == 0;
}

static int in_window(int *ok, const vc__rule *r, subject *sub, vc__db *db,
                     vc_ctx *ctx, const char *tenant_id)
{
  const vc__tz *z;
  vc__tm tm;
  int rc, min;

  *ok = 1;
  if (r->days == 0 && r->window_start == 0 && r->window_end == 0)
    return 0;
  if ((rc = tenant_of(sub, db, ctx, tenant_id)) < 0 ||
      (rc = vc__tz_acquire(&z, ctx, vc_tenant_timezone(sub->t))) < 0)
    return rc;
  vc__tz_local(&tm, z, vc__now(ctx));
  vc__tz_release(ctx, z);
  min = tm.hour * 60 + tm.min;
  if (r->days != 0 && (r->days & (1u << tm.wday)) == 0)
    *ok = 0;
  else if (r->window_start < r->window_end)
    *ok = min >= r->window_start && min < r->window_end;
  else if (r->window_start > r->window_end)
    *ok = min >= r->window_start || min < r->window_end;
  return 0;
}

/* Whether rule `r` fires for the event: 1, 0, or < 0. */
static int matches(const vc__rule *r, subject *sub, vc__db *db, vc_ctx *ctx,
                   const char *tenant_id)
{
  vc__stmt *s;
  int rc, ok;

  switch (r->trigger) {
  case VC_RULE_ON_INBOUND:
    if (sub->text == NULL || !vc__rule_text_matches(r, sub->text))
      return 0;
    break;
  case VC_RULE_ON_MESSAGE:
    if ((r->states & (1u << sub->status)) == 0)
      return 0;
    break;
  case VC_RULE_ON_CALL:
    if (r->causes != 0 && (r->causes & (1u << sub->cause)) == 0)
      return 0;
    if (r->direction != 0 && r->direction != sub->direction)
      return 0;
    break;
  case VC_RULE_ON_CAMPAIGN:
    if (r->states != 0 && (r->states & (1u << sub->status)) == 0)
      return 0;
    break;
  default:
    break;
  }
  if ((r->channel_kind != 0 && r->channel_kind != sub->kind) ||
      (r->channel_id[0] != '\0' &&
       strcmp(r->channel_id, sub->channel_id) != 0))
    return 0;
  if (r->tag[0] != '\0') {
    if (sub->contact_id[0] == '\0')
      return 0;
    if ((rc = vc__db_query(&s, db, SQL_HAS_TAG, "ttt", tenant_id, r->tag,
                           sub->contact_id)) < 0)
      return rc;
    rc = vc__stmt_step(s);
    vc__stmt_done(s);
    if (rc < 0)
      return rc;
    if (rc != VC_STORAGE_ROW)
      return 0;
  }
  if ((rc = in_window(&ok, r, sub, db, ctx, tenant_id)) < 0)
    return rc;
  return ok;
}

/* ---- actions ----------------------------------------------------------- */

/* A failure of the store (or of memory) undoes the change that appended
 * the event; anything else is the action's outcome. */
static int fatal(int rc)
{
  const vc_error *e = vc_error_last();

  return rc == VC_ENOMEM || rc == VC_ESTORAGE || rc == VC_EBUSY ||
         e->klass == VC_ERRCLASS_STORAGE;
}

typedef struct outcome {
  char text[OUTCOME_MAX];
  char id[VC_ID_SIZE];         /* a message queued, "" none */
  int is_call;                 /* id is a call's */
} outcome;

/* The contact an action works on: the known one, else an inbound
 * sender made a contact (as STOP does). 1 with id, 0 when none. */
static int contact_for_action(char id[VC_ID_SIZE], subject *sub,
                              vc__db *db, vc_ctx *ctx, const char *tenant_id)
{
  int rc;

  if (sub->contact_id[0] == '\0' && sub->has_sender &&
      (rc = vc__contact_ensure(sub->contact_id, db, ctx, tenant_id,
                               sub->who.addr_kind, sub->who.address)) < 0)
    return rc;
  if (sub->contact_id[0] == '\0')
    return 0;
  if ((rc = vc__contact_resolve(id, db, tenant_id, sub->contact_id)) < 0)
    return rc == VC_ENOTFOUND ? 0 : rc;
  return 1;
}

static int addr_kind_of(int kind, const char *provider)
{
  switch (kind) {
  case VC_CHANNEL_EMAIL:
    return VC_ADDRESS_EMAIL;
  case VC_CHANNEL_CHAT:
    return strstr(provider, "telegram") ? VC_ADDRESS_TELEGRAM
                                        : VC_ADDRESS_WHATSAPP;
  default:
    return VC_ADDRESS_PHONE;
  }
}

static int send_template(outcome *o, const vc__rule *r, size_t i,
                         const vc__rule_action *a, subject *sub,
                         vc__db *db, vc_ctx *ctx, const char *tenant_id)
{
  vc_message_spec spec = VC_MESSAGE_SPEC_INIT;
  const char *channel = a->channel_id[0] ? a->channel_id : sub->channel_id;
  char to[VC__CONTACT_ADDR_MAX + 1] = "", key[128];
  char contact[VC_ID_SIZE] = "";
  int rc;

  if (channel[0] == '\0') {
    copy(o->text, sizeof(o->text), "skipped: no channel to send on");
    return 0;
  }
  if (sub->contact_id[0] != '\0' &&
      (rc = vc__contact_resolve(contact, db, tenant_id, sub->contact_id)) <
        0 && rc != VC_ENOTFOUND)
    return rc;
  vc_error_clear();
  if (strcmp(channel, sub->channel_id) == 0 && sub->to[0] != '\0') {
    copy(to, sizeof(to), sub->to);
  } else {
    vc__channel_info ch;
    if ((rc = vc__channel_find(&ch, ctx, db, tenant_id, channel)) < 0)
      return rc;
    if (contact[0] != '\0' &&
        (rc = vc__contact_address(to, sizeof(to), db, tenant_id, contact,
                                  addr_kind_of(ch.kind, ch.provider))) < 0)
      return rc;
    if (to[0] == '\0' && sub->to[0] == '+' &&
        (ch.kind == VC_CHANNEL_SMS || ch.kind == VC_CHANNEL_VOICE))
      copy(to, sizeof(to), sub->to);
    if (to[0] == '\0') {
      snprintf(o->text, sizeof(o->text), "skipped: no %s address",
               vc_channel_kind_name(ch.kind));
      return 0;
    }
  }
  if ((rc = tenant_of(sub, db, ctx, tenant_id)) < 0)
    return rc;
  /* A webhook's event is applied once, so its subject names the run; a
   * contact opts out again later, so there the time does (one opt-out
   * of both categories, two events in one transaction, sends once). */
  if (sub->trigger == VC_RULE_ON_OPT_OUT)
    snprintf(key, sizeof(key), "rule:%s:%zu:%s:%s:%lld", r->id, i,
             sub->type, sub->id, (long long)vc__now(ctx));
  else
    snprintf(key, sizeof(key), "rule:%s:%zu:%s:%s", r->id, i, sub->type,
             sub->id);
  spec.channel = channel;
  spec.to = to;
  spec.template_name = a->template_name;
  spec.locale = a->locale[0] ? a->locale : NULL;
  spec.vars_json = a->vars[0] ? a->vars : NULL;
  spec.category = a->category;
  spec.contact_id = contact[0] ? contact : NULL;
  spec.idempotency_key = key;
  if ((rc = vc__message_queue(o->id, db, sub->t, &spec)) < 0) {
    o->id[0] = '\0';
    return rc;
  }
  vc_ctx_wakeup(ctx);
  copy(o->text, sizeof(o->text), "queued");
  return 0;
}

static int tag_contact(outcome *o, const vc__rule_action *a,
                       const char *contact, vc__db *db, vc_ctx *ctx,
                       const char *tenant_id)
{
  int64_t n = 0;
  vc__stmt *s;
  int rc;

  if ((rc = vc__db_run(db, SQL_TAG_ADD, "ttt", tenant_id, a->tag,
                       contact)) < 0)
    return rc;
  if (vc__db_changes(db) == 0) {
    copy(o->text, sizeof(o->text), "ok: had the tag");
    return 0;
  }
  if ((rc = vc__db_query(&s, db, SQL_TAG_COUNT, "tt", tenant_id,
                         contact)) < 0)
    return rc;
  if ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW)
    n = vc__stmt_int64(s, 0);
  vc__stmt_done(s);
  if (rc < 0)
    return rc;
  if (n > VC_CONTACT_TAGS_MAX) {
    if ((rc = vc__db_run(db, SQL_TAG_DEL, "ttt", tenant_id, a->tag,
                         contact)) < 0)
      return rc;
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                         "the contact has %d tags", VC_CONTACT_TAGS_MAX);
  }
  copy(o->text, sizeof(o->text), "ok");
  return vc__event_append(db, ctx, tenant_id, "contact.updated", contact,
                          NULL);
}

static int notify(outcome *o, const vc__rule *r, subject *sub, vc__db *db,
                  vc_ctx *ctx, const char *tenant_id)
{
  cJSON *p = cJSON_CreateObject();
  char *text;
  int rc;

  if (p == NULL)
    return vc_error_set_oom();
  cJSON_AddStringToObject(p, "rule_id", r->id);
  cJSON_AddStringToObject(p, "rule", r->name);
  cJSON_AddStringToObject(p, "trigger", sub->type);
  cJSON_AddStringToObject(p, "subject_id", sub->id);
  text = cJSON_PrintUnformatted(p);
  cJSON_Delete(p);
  if (text == NULL)
    return vc_error_set_oom();
  rc = vc__event_append(db, ctx, tenant_id, "rule.notify", sub->id, text);
  cJSON_free(text);
  copy(o->text, sizeof(o->text), "ok");
  return rc;
}

static const char *action_name(int kind)
{
  static const char *const names[] = { "", "send_template", "tag_contact",
                                       "assign", "set_consent", "notify",
                                       "callback" };

  return kind > 0 && kind < (int)VC_ARRAY_SIZE(names) ? names[kind] : "";
}

/* A click-to-call from the action's agent to the caller, after the
 * rule's delay; one per call and action. */
static int callback(outcome *o, const vc__rule *r, size_t i, subject *sub,
                    vc__db *db, vc_ctx *ctx, const char *tenant_id)
{
  vc_call_spec spec = VC_CALL_SPEC_INIT;
  char key[128], meta[96];
  int64_t at;
  int rc;

  if (sub->to[0] != '+') {
    copy(o->text, sizeof(o->text), "skipped: the caller's number is not "
         "known");
    return 0;
  }
  if ((rc = tenant_of(sub, db, ctx, tenant_id)) < 0)
    return rc;
  snprintf(key, sizeof(key), "rule:%s:%zu:%s", r->id, i, sub->id);
  snprintf(meta, sizeof(meta), "{\"callback_of\":\"%s\"}", sub->id);
  spec.agent = r->actions[i].agent;
  spec.customer_number = sub->to;
  spec.caller_id = sub->called[0] == '+' ? sub->called : NULL;
  spec.contact_id = sub->contact_id[0] ? sub->contact_id : NULL;
  spec.metadata_json = meta;
  spec.idempotency_key = key;
  at = (sub->ended_at > 0 ? sub->ended_at : vc__now(ctx)) +
       (int64_t)r->callback_delay_s * 1000;
  if ((rc = vc__call_create(o->id, db, sub->t, &spec, at, "callback")) < 0) {
    o->id[0] = '\0';
    return rc;
  }
  o->is_call = 1;
  copy(o->text, sizeof(o->text), "scheduled");
  return 0;
}

static int run_action(outcome *o, const vc__rule *r, size_t i,
                      subject *sub, vc__db *db, vc_ctx *ctx,
                      const char *tenant_id)
{
  const vc__rule_action *a = &r->actions[i];
  char contact[VC_ID_SIZE];
  int rc, kind;

  if (a->kind == VC_RULE_SEND_TEMPLATE)
    return send_template(o, r, i, a, sub, db, ctx, tenant_id);
  if (a->kind == VC_RULE_NOTIFY)
    return notify(o, r, sub, db, ctx, tenant_id);
  if (a->kind == VC_RULE_CALLBACK)
    return callback(o, r, i, sub, db, ctx, tenant_id);
  if ((rc = contact_for_action(contact, sub, db, ctx, tenant_id)) < 0)
    return rc;
  if (rc == 0) {
    copy(o->text, sizeof(o->text), "skipped: no contact");
    return 0;
  }
  switch (a->kind) {
  case VC_RULE_TAG_CONTACT:
    return tag_contact(o, a, contact, db, ctx, tenant_id);
  case VC_RULE_ASSIGN:
    if ((rc = vc__inbox_assign_contact(db, ctx, tenant_id, contact,
                                       a->agent)) < 0)
      return rc;
    copy(o->text, sizeof(o->text), "ok");
    return 0;
  case VC_RULE_SET_CONSENT:
    if ((kind = a->channel_kind ? a->channel_kind : sub->kind) == 0) {
      copy(o->text, sizeof(o->text), "skipped: no channel kind");
      return 0;
    }
    if ((rc = vc__consent_record(db, ctx, tenant_id, contact, kind,
                                 a->category, a->consent, "rule", r->id)) <
        0)
      return rc;
    copy(o->text, sizeof(o->text), "ok");
    return 0;
  default:
    copy(o->text, sizeof(o->text), "skipped: unknown action");
    return 0;
  }
}

/* Run a rule's actions, then record the run (`rule.ran`). */
static int fire(const vc__rule *r, subject *sub, vc__db *db, vc_ctx *ctx,
                const char *tenant_id)
{
  cJSON *run = cJSON_CreateObject(), *acts = cJSON_CreateArray();
  char *text;
  int rc = 0;

  if (run == NULL || acts == NULL) {
    cJSON_Delete(run);
    cJSON_Delete(acts);
    return vc_error_set_oom();
  }
  cJSON_AddStringToObject(run, "rule_id", r->id);
  cJSON_AddStringToObject(run, "rule", r->name);
  cJSON_AddStringToObject(run, "trigger", sub->type);
  cJSON_AddStringToObject(run, "subject_id", sub->id);
  cJSON_AddNumberToObject(run, "depth", tl_depth);
  cJSON_AddItemToObject(run, "actions", acts);
  for (size_t i = 0; i < r->nactions; i++) {
    outcome o;
    cJSON *j;
    memset(&o, 0, sizeof(o));
    if ((rc = run_action(&o, r, i, sub, db, ctx, tenant_id)) < 0) {
      if (fatal(rc))
        break;
      /* A consent refusal is the rule's outcome, not an error of the
       * change that triggered it. */
      snprintf(o.text, sizeof(o.text), "%s: %s",
               rc == VC_ECONSENT ? "consent" : "error",
               vc_error_last()->message);
      vc_error_clear();
      rc = 0;
    }
    if ((j = cJSON_CreateObject()) != NULL) {
      cJSON_AddStringToObject(j, "action", action_name(r->actions[i].kind));
      cJSON_AddStringToObject(j, "outcome", o.text);
      if (o.id[0] != '\0')
        cJSON_AddStringToObject(j, o.is_call ? "call_id" : "message_id",
                                o.id);
      cJSON_AddItemToArray(acts, j);
    }
  }
  if (rc < 0) {
    cJSON_Delete(run);
    return rc;
  }
  text = cJSON_PrintUnformatted(run);
  cJSON_Delete(run);
  if (text == NULL)
    return vc_error_set_oom();
  rc = vc__event_append(db, ctx, tenant_id, "rule.ran", r->id, text);
  cJSON_free(text);
  return rc;
}

static int stopped(const vc__rule *r, subject *sub, vc__db *db, vc_ctx *ctx,
                   const char *tenant_id)
{
  char payload[256];

  if (tl_stopped)
    return 0;
  tl_stopped = 1;
  VC_LOG(ctx, VC_LOG_WARN, "rule %s not run: chain of %d rules", r->id,
         VC_RULE_DEPTH_MAX);
  snprintf(payload, sizeof(payload),
           "{\"rule_id\":\"%s\",\"trigger\":\"%s\",\"subject_id\":\"%s\","
           "\"depth\":%d}", r->id, sub->type, sub->id, tl_depth);
  return vc__event_append(db, ctx, tenant_id, "rule.loop_stopped", r->id,
                          payload);
}

static int evaluate(const vc__rule_set *set, subject *sub, vc__db *db,
                    vc_ctx *ctx, const char *tenant_id)
{
  int rc = 0;

  if (tl_depth == 0)
    tl_stopped = 0;
  for (size_t i = 0; i < set->n && rc >= 0; i++) {
    const vc__rule *r = &set->rules[i];
    if (r->trigger != sub->trigger)
      continue;
    if ((rc = load_subject(sub, db, tenant_id)) < 0 ||
        (rc = matches(r, sub, db, ctx, tenant_id)) <= 0)
      continue;
    if (tl_depth >= VC_RULE_DEPTH_MAX) {
      rc = stopped(r, sub, db, ctx, tenant_id);
      break;
    }
    tl_depth++;
    rc = fire(r, sub, db, ctx, tenant_id);
    tl_depth--;
  }
  return rc < 0 ? rc : 0;
}

int vc__rules_on_event(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                       const char *type, const char *subject_id,
                       const char *payload_json)
{
  vc__rule_set *set;
  subject sub;
  int rc;

  memset(&sub, 0, sizeof(sub));
  if (type == NULL || tenant_id == NULL || subject_id == NULL ||
      (sub.trigger = trigger_of(&sub, type)) == 0)
    return 0;
  if ((rc = vc__rule_set_get(&set, db, ctx, tenant_id)) < 0 || set == NULL)
    return rc;
  if ((set->triggers & (1u << sub.trigger)) != 0) {
    sub.type = type;
    sub.id = subject_id;
    sub.payload = payload_json;
    rc = evaluate(set, &sub, db, ctx, tenant_id);
    vc__free(sub.text);
    vc_tenant_free(sub.t);
  }
  vc__rule_set_release(ctx, set);
  return rc;
}
