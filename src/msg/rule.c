/*
 * Automation rules: checking a definition, storing it (a JSON object per
 * row), the loop check, the audited API, and each context's cache of
 * the tenants' enabled rules. Evaluation is in rule_eval.c.
 *
 * The cache: the evaluator runs for every event appended (several per
 * message), so a tenant without rules must cost a mutex and a lookup.
 * Entries live RULE_TTL_MS (a monotonic clock): a change made through
 * this context drops the tenant's entry at once, a change made through
 * another context on the same store is seen within the TTL.
 */
#include "core/common.h"
#include "core/audit.h"
#include "core/ctx.h"
#include "core/iter.h"
#include "core/json.h"
#include "core/tenant.h"
#include "core/text.h"
#include "core/ulid.h"
#include "call/hooks.h"
#include "channel.h"
#include "contact.h"
#include "rule.h"

#include <cJSON.h>
#include <stddef.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>

#define RULE_TTL_MS 1000
#define CACHE_TENANTS_MAX 256

static const char SQL_INSERT[] =
  "INSERT INTO vc_rule (tenant_id, id, name, position, enabled,"
  " trigger_kind, definition, created_at, updated_at)"
  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)";
static const char SQL_UPDATE[] =
  "UPDATE vc_rule SET name = ?3, position = ?4, enabled = ?5,"
  " trigger_kind = ?6, definition = ?7, updated_at = ?8"
  " WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_DELETE[] =
  "DELETE FROM vc_rule WHERE tenant_id = ?1 AND id = ?2";
#define COLUMNS \
  "id, name, position, enabled, trigger_kind, definition, created_at," \
  " updated_at"
static const char SQL_GET[] =
  "SELECT " COLUMNS " FROM vc_rule WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_GET_ANY[] =
  "SELECT " COLUMNS " FROM vc_rule WHERE tenant_id = ?1"
  " AND (id = ?2 OR name = ?2) ORDER BY id = ?2 DESC LIMIT 1";
static const char SQL_NAME_TAKEN[] =
  "SELECT 1 FROM vc_rule WHERE tenant_id = ?1 AND name = ?2 AND id <> ?3";
static const char SQL_COUNT[] =
  "SELECT COUNT(*) FROM vc_rule WHERE tenant_id = ?1";
static const char SQL_ENABLED[] =
  "SELECT " COLUMNS " FROM vc_rule WHERE tenant_id = ?1 AND enabled = 1"
  " ORDER BY position, id LIMIT 200";
static const char SQL_PAGE[] =
  "SELECT " COLUMNS " FROM vc_rule WHERE tenant_id = ?1 AND id > ?2"
  " ORDER BY id LIMIT 50";
static const char SQL_TEMPLATE[] =
  "SELECT 1 FROM vc_template WHERE tenant_id = ?1"
  " AND (id = ?2 OR name = ?2)";

/* ---- checking a spec ------------------------------------------------- */

static int invalid(const char *what)
{
  return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID, "%s", what);
}

static int is_space(char c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' ||
         c == '\f';
}

/* `in` trimmed, ASCII letters in lower case, into out (size n + 1);
 * its length, 0 when empty or longer than `max`. */
static size_t fold(char *out, const char *in, size_t max)
{
  const char *end;
  size_t n;

  while (*in != '\0' && is_space(*in))
    in++;
  end = in + strlen(in);
  while (end > in && is_space(end[-1]))
    end--;
  n = (size_t)(end - in);
  if (n == 0 || n > max)
    return 0;
  for (size_t i = 0; i < n; i++)
    out[i] = in[i] >= 'A' && in[i] <= 'Z' ? (char)(in[i] + 32) : in[i];
  out[n] = '\0';
  return n;
}

static int compile(vc__rule *r)
{
  int rc;

  if (r->pattern[0] == '\0' || r->has_re)
    return 0;
  if ((rc = regcomp(&r->re, r->pattern, REG_EXTENDED | REG_ICASE |
                                          REG_NOSUB)) != 0) {
    char why[128];
    regerror(rc, NULL, why, sizeof(why));
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "pattern does not compile: %s", why);
  }
  r->has_re = 1;
  return 0;
}

void vc__rule_dispose(vc__rule *r)
{
  if (r->has_re)
    regfree(&r->re);
  r->has_re = 0;
}

/* One tag, as a contact holds it (no `;`, which separates tags). */
static int check_tag(const char *tag, const char *field)
{
  int rc;

  if ((rc = vc__check_text(field, tag, VC_CONTACT_TAG_MAX, 1)) < 0)
    return rc;
  if (strchr(tag, ';') != NULL)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "%s has a ';'", field);
  return vc__contact_check_tags(tag, field);
}

static int copy_text(char *out, size_t size, const char *field,
                     const char *in, int required)
{
  int rc;

  if ((rc = vc__check_text(field, in, size - 1, required)) < 0)
    return rc;
  snprintf(out, size, "%s", in ? in : "");
  return 0;
}

/* A channel named by id or name, into its id (and kind). */
static int resolve_channel(char id[VC_ID_SIZE], int *kind, vc__db *db,
                           vc_ctx *ctx, const char *tenant_id,
                           const char *name)
{
  vc__channel_info ch;
  int rc;

  if ((rc = vc__check_text("channel", name, VC_CHANNEL_NAME_MAX, 1)) < 0)
    return rc;
  if ((rc = vc__channel_find(&ch, ctx, db, tenant_id, name)) < 0)
    return rc == VC_ENOTFOUND
             ? vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                             "no channel '%s'", name)
             : rc;
  snprintf(id, VC_ID_SIZE, "%s", ch.id);
  if (kind != NULL)
    *kind = ch.kind;
  return 0;
}

static int check_action(vc__rule_action *out, const vc_rule_action *a,
                        size_t i, vc__db *db, vc_ctx *ctx,
                        const char *tenant_id)
{
  char field[48];
  int rc;

  memset(out, 0, sizeof(*out));
  if (a->version == 0 || a->version > VC_RULE_ACTION_VERSION)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EVERSION,
                         "invalid version %u on action %zu", a->version, i);
  out->kind = a->kind;
  switch (a->kind) {
  case VC_RULE_SEND_TEMPLATE: {
    vc__stmt *s;
    snprintf(field, sizeof(field), "action %zu template", i);
    if ((rc = copy_text(out->template_name, sizeof(out->template_name),
                        field, a->template_name, 1)) < 0)
      return rc;
    if ((rc = vc__db_query(&s, db, SQL_TEMPLATE, "tt", tenant_id,
                           out->template_name)) < 0)
      return rc;
    rc = vc__stmt_step(s);
    vc__stmt_done(s);
    if (rc < 0)
      return rc;
    if (rc != VC_STORAGE_ROW)
      return vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                           "action %zu: no template '%s'", i,
                           out->template_name);
    if (a->channel != NULL &&
        (rc = resolve_channel(out->channel_id, NULL, db, ctx, tenant_id,
                              a->channel)) < 0)
      return rc;
    snprintf(field, sizeof(field), "action %zu locale", i);
    if ((rc = copy_text(out->locale, sizeof(out->locale), field, a->locale,
                        0)) < 0)
      return rc;
    if (a->vars_json != NULL) {
      /* Read as the template's render will read them when it fires. */
      snprintf(field, sizeof(field), "action %zu vars", i);
      if ((rc = vc__json_check_object(field, a->vars_json, VC_RULE_VARS_MAX,
                                      VC_TEMPLATE_VARS_DEPTH)) < 0)
        return rc;
      snprintf(out->vars, sizeof(out->vars), "%s", a->vars_json);
    }
    if (a->category < 0 || a->category > VC_CATEGORY_OTP)
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "action %zu: unknown category %d", i,
                           a->category);
    out->category = a->category;
    return 0;
  }
  case VC_RULE_TAG_CONTACT:
    snprintf(field, sizeof(field), "action %zu tag", i);
    if ((rc = check_tag(a->tag, field)) < 0)
      return rc;
    snprintf(out->tag, sizeof(out->tag), "%s", a->tag);
    return 0;
  case VC_RULE_ASSIGN:
    snprintf(field, sizeof(field), "action %zu agent", i);
    return copy_text(out->agent, sizeof(out->agent), field, a->agent, 1);
  case VC_RULE_SET_CONSENT:
    if (a->consent != VC_CONSENT_OPTED_IN &&
        a->consent != VC_CONSENT_OPTED_OUT)
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "action %zu: consent must be opted in or out", i);
    if (a->channel_kind < 0 || a->channel_kind > VC_CHANNEL_VOICE ||
        a->category < 0 || a->category > VC_CATEGORY_OTP)
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "action %zu: unknown channel kind or category",
                           i);
    out->consent = a->consent;
    out->channel_kind = a->channel_kind;
    out->category = a->category;
    return 0;
  case VC_RULE_NOTIFY:
    return 0;
  case VC_RULE_CALLBACK: {
    char agent_id[VC_ID_SIZE], number[VC_CALL_ADDRESS_MAX + 1];
    snprintf(field, sizeof(field), "action %zu agent", i);
    if ((rc = copy_text(out->agent, sizeof(out->agent), field, a->agent,
                        1)) < 0)
      return rc;
    if (vc__agent_resolve(db, tenant_id, out->agent, agent_id, number) < 0)
      return vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                           "action %zu: no agent '%s'", i, out->agent);
    return 0;
  }
  default:
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "action %zu: unknown kind %d", i, a->kind);
  }
}

/* A spec into `r` (id and times untouched), checked against the store. */
static int from_spec(vc__rule *r, const vc_rule_spec *s, vc__db *db,
                     vc_ctx *ctx, const char *tenant_id)
{
  int rc;

  if ((rc = copy_text(r->name, sizeof(r->name), "rule name", s->name, 1)) <
      0)
    return rc;
  r->position = s->position;
  r->enabled = !s->disabled;
  r->trigger = s->trigger;
  if (s->trigger < VC_RULE_ON_INBOUND || s->trigger > VC_RULE_ON_OPT_OUT)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "unknown trigger %d", s->trigger);
  if (s->trigger == VC_RULE_ON_INBOUND) {
    if ((s->keyword != NULL) == (s->pattern != NULL))
      return invalid("an inbound trigger needs a keyword or a pattern");
    if (s->keyword != NULL) {
      if ((rc = vc__check_text("keyword", s->keyword, VC_KEYWORD_MAX, 1)) <
          0)
        return rc;
      if (fold(r->keyword, s->keyword, VC_KEYWORD_MAX) == 0)
        return invalid("keyword is white space");
    } else {
      if ((rc = copy_text(r->pattern, sizeof(r->pattern), "pattern",
                          s->pattern, 1)) < 0 ||
          (rc = compile(r)) < 0)
        return rc;
    }
  } else if (s->keyword != NULL || s->pattern != NULL) {
    return invalid("a keyword or pattern needs an inbound trigger");
  }
  if (s->trigger == VC_RULE_ON_MESSAGE &&
      (s->states == 0 ||
       (s->states & ~(uint32_t)(((1u << 10) - 1) & ~1u)) != 0))
    return invalid("a message trigger needs statuses (1u << vc_msg_status)");
  if (s->trigger == VC_RULE_ON_CAMPAIGN &&
      (s->states & ~((1u << VC_CAMPAIGN_COMPLETED) |
                     (1u << VC_CAMPAIGN_CANCELED))) != 0)
    return invalid("a campaign trigger's states are completed or canceled");
  if (s->trigger != VC_RULE_ON_MESSAGE && s->trigger != VC_RULE_ON_CAMPAIGN &&
      s->states != 0)
    return invalid("states are for message and campaign triggers");
  if ((s->trigger != VC_RULE_ON_CALL && s->causes != 0) ||
      (s->causes & ~(uint32_t)(((1u << (VC_CAUSE_UNKNOWN_NUMBER + 1)) - 1) &
                               ~1u)) != 0)
    return invalid("causes are vc_call_cause bits of a call trigger");
  if (s->version >= 2) {
    if (s->direction < 0 || s->direction > VC_CALL_INBOUND ||
        (s->direction != 0 && s->trigger != VC_RULE_ON_CALL))
      return invalid("direction is a vc_call_direction of a call trigger");
    if (s->callback_delay_s < 0 ||
        s->callback_delay_s > VC_RULE_CALLBACK_DELAY_MAX)
      return invalid("callback_delay_s is 0..VC_RULE_CALLBACK_DELAY_MAX");
    r->direction = s->direction;
    r->callback_delay_s = s->callback_delay_s;
  }
  r->states = s->states;
  r->causes = s->causes;
  if (s->channel_kind < 0 || s->channel_kind > VC_CHANNEL_VOICE)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "unknown channel kind %d", s->channel_kind);
  r->channel_kind = s->channel_kind;
  if (s->channel != NULL &&
      (rc = resolve_channel(r->channel_id, NULL, db, ctx, tenant_id,
                            s->channel)) < 0)
    return rc;
  if (s->tag != NULL) {
    if ((rc = check_tag(s->tag, "condition tag")) < 0)
      return rc;
    snprintf(r->tag, sizeof(r->tag), "%s", s->tag);
  }
  if ((s->days & ~0x7fu) != 0)
    return invalid("days are bits 0 (Sunday) to 6");
  r->days = s->days;
  if (s->window_start_min < 0 || s->window_start_min > 1439 ||
      s->window_end_min < 0 || s->window_end_min > 1439)
    return invalid("window minutes are 0..1439");
  if (s->window_start_min == s->window_end_min && s->window_start_min != 0)
    return invalid("an empty window (start equals end)");
  r->window_start = s->window_start_min;
  r->window_end = s->window_end_min;
  if (s->nactions > VC_RULE_ACTIONS_MAX)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                         "%zu actions (at most %d)", s->nactions,
                         VC_RULE_ACTIONS_MAX);
  if (s->nactions == 0 || s->actions == NULL)
    return invalid("a rule needs an action");
  for (size_t i = 0; i < s->nactions; i++) {
    if ((rc = check_action(&r->actions[i], &s->actions[i], i, db, ctx,
                           tenant_id)) < 0)
      return rc;
    if (r->actions[i].kind == VC_RULE_CALLBACK &&
        (r->trigger != VC_RULE_ON_CALL || r->direction != VC_CALL_INBOUND))
      return invalid("a callback is an action of a call trigger with "
                     "direction inbound");
  }
  r->nactions = s->nactions;
  return 0;
}

/* ---- the stored definition ------------------------------------------- */

static char *to_json(const vc__rule *r)
{
  cJSON *o = cJSON_CreateObject(), *acts = cJSON_CreateArray();
  char *out;

  if (o == NULL || acts == NULL) {
    cJSON_Delete(o);
    cJSON_Delete(acts);
    return NULL;
  }
  cJSON_AddNumberToObject(o, "trigger", r->trigger);
  if (r->keyword[0])
    cJSON_AddStringToObject(o, "keyword", r->keyword);
  if (r->pattern[0])
    cJSON_AddStringToObject(o, "pattern", r->pattern);
  cJSON_AddNumberToObject(o, "states", r->states);
  cJSON_AddNumberToObject(o, "causes", r->causes);
  cJSON_AddNumberToObject(o, "channel_kind", r->channel_kind);
  if (r->channel_id[0])
    cJSON_AddStringToObject(o, "channel_id", r->channel_id);
  if (r->tag[0])
    cJSON_AddStringToObject(o, "tag", r->tag);
  cJSON_AddNumberToObject(o, "days", r->days);
  cJSON_AddNumberToObject(o, "window_start", r->window_start);
  cJSON_AddNumberToObject(o, "window_end", r->window_end);
  if (r->direction != 0)
    cJSON_AddNumberToObject(o, "direction", r->direction);
  if (r->callback_delay_s != 0)
    cJSON_AddNumberToObject(o, "callback_delay_s", r->callback_delay_s);
  for (size_t i = 0; i < r->nactions; i++) {
    const vc__rule_action *a = &r->actions[i];
    cJSON *j = cJSON_CreateObject();
    if (j == NULL)
      break;
    cJSON_AddNumberToObject(j, "kind", a->kind);
    if (a->template_name[0])
      cJSON_AddStringToObject(j, "template", a->template_name);
    if (a->channel_id[0])
      cJSON_AddStringToObject(j, "channel_id", a->channel_id);
    if (a->locale[0])
      cJSON_AddStringToObject(j, "locale", a->locale);
    if (a->vars[0])
      cJSON_AddStringToObject(j, "vars", a->vars);
    if (a->tag[0])
      cJSON_AddStringToObject(j, "tag", a->tag);
    if (a->agent[0])
      cJSON_AddStringToObject(j, "agent", a->agent);
    cJSON_AddNumberToObject(j, "category", a->category);
    cJSON_AddNumberToObject(j, "consent", a->consent);
    cJSON_AddNumberToObject(j, "channel_kind", a->channel_kind);
    cJSON_AddItemToArray(acts, j);
  }
  cJSON_AddItemToObject(o, "actions", acts);
  out = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  return out;
}

static void get_str(char *out, size_t size, const cJSON *o, const char *k)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

  snprintf(out, size, "%s", cJSON_IsString(v) ? v->valuestring : "");
}

/* A number of a stored definition; 0 when absent or out of range (the
 * library never writes one: casting it would be undefined). */
static int64_t get_num(const cJSON *o, const char *k)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

  return cJSON_IsNumber(v) && v->valuedouble >= -9.2e18 &&
         v->valuedouble <= 9.2e18 ? (int64_t)v->valuedouble : 0;
}

/* A stored row's definition into `r` (its pattern compiled). */
static int from_json(vc__rule *r, const char *json)
{
  cJSON *o = vc__cjson_parse(json, strlen(json) + 1, NULL, 0), *acts, *j;
  int rc;

  if (o == NULL)
    return vc__error_set(VC_ERRCLASS_STORAGE, VC_ECORRUPT,
                         "rule %s: definition is not JSON", r->id);
  r->trigger = (int)get_num(o, "trigger");
  get_str(r->keyword, sizeof(r->keyword), o, "keyword");
  get_str(r->pattern, sizeof(r->pattern), o, "pattern");
  r->states = (uint32_t)get_num(o, "states");
  r->causes = (uint32_t)get_num(o, "causes");
  r->channel_kind = (int)get_num(o, "channel_kind");
  get_str(r->channel_id, sizeof(r->channel_id), o, "channel_id");
  get_str(r->tag, sizeof(r->tag), o, "tag");
  r->days = (uint32_t)get_num(o, "days");
  r->window_start = (int)get_num(o, "window_start");
  r->window_end = (int)get_num(o, "window_end");
  r->direction = (int)get_num(o, "direction");
  r->callback_delay_s = (int)get_num(o, "callback_delay_s");
  acts = cJSON_GetObjectItemCaseSensitive(o, "actions");
  r->nactions = 0;
  cJSON_ArrayForEach(j, acts) {
    vc__rule_action *a;
    if (r->nactions == VC_RULE_ACTIONS_MAX)
      break;
    a = &r->actions[r->nactions++];
    memset(a, 0, sizeof(*a));
    a->kind = (int)get_num(j, "kind");
    get_str(a->template_name, sizeof(a->template_name), j, "template");
    get_str(a->channel_id, sizeof(a->channel_id), j, "channel_id");
    get_str(a->locale, sizeof(a->locale), j, "locale");
    get_str(a->vars, sizeof(a->vars), j, "vars");
    get_str(a->tag, sizeof(a->tag), j, "tag");
    get_str(a->agent, sizeof(a->agent), j, "agent");
    a->category = (int)get_num(j, "category");
    a->consent = (int)get_num(j, "consent");
    a->channel_kind = (int)get_num(j, "channel_kind");
  }
  cJSON_Delete(o);
  if ((rc = compile(r)) < 0)
    return rc;
  return 0;
}

/* The row at a statement of COLUMNS, with its definition kept in
 * *def (allocated) when def is not NULL. */
typedef struct rule_row {
  vc__rule r;
  char *def;
  int64_t created_at, updated_at;
} rule_row;

static int row_read(rule_row *out, vc__stmt *s, int keep_def)
{
  const char *def = vc__stmt_text(s, 5);
  int rc;

  memset(out, 0, sizeof(*out));
  snprintf(out->r.id, sizeof(out->r.id), "%s", vc__stmt_text(s, 0));
  snprintf(out->r.name, sizeof(out->r.name), "%s", vc__stmt_text(s, 1));
  out->r.position = (int)vc__stmt_int64(s, 2);
  out->r.enabled = (int)vc__stmt_int64(s, 3);
  out->created_at = vc__stmt_int64(s, 6);
  out->updated_at = vc__stmt_int64(s, 7);
  if ((rc = from_json(&out->r, def ? def : "{}")) < 0)
    return rc;
  out->r.trigger = (int)vc__stmt_int64(s, 4);
  if (keep_def && (out->def = vc__strdup(def ? def : "{}")) == NULL) {
    vc__rule_dispose(&out->r);
    return vc_error_set_oom();
  }
  return 0;
}

static void row_dispose(rule_row *row)
{
  vc__rule_dispose(&row->r);
  vc__free(row->def);
  row->def = NULL;
}

/* ---- loops --------------------------------------------------------- */

int vc__rule_feeds(const vc__rule *a, const vc__rule *b)
{
  for (size_t i = 0; i < a->nactions; i++) {
    const vc__rule_action *x = &a->actions[i];
    if (x->kind == VC_RULE_SEND_TEMPLATE && b->trigger == VC_RULE_ON_MESSAGE) {
      /* The message goes on the action's channel, or the trigger's:
       * known only when `a` has a channel condition. */
      const char *ch = x->channel_id[0] ? x->channel_id : a->channel_id;
      if (ch[0] != '\0' && b->channel_id[0] != '\0' &&
          strcmp(ch, b->channel_id) != 0)
        continue;
      return 1;
    }
    if (x->kind == VC_RULE_SET_CONSENT &&
        x->consent == VC_CONSENT_OPTED_OUT &&
        b->trigger == VC_RULE_ON_OPT_OUT) {
      int kind = x->channel_kind ? x->channel_kind : a->channel_kind;
      if (kind != 0 && b->channel_kind != 0 && kind != b->channel_kind)
        continue;
      return 1;
    }
  }
  return 0;
}

/* Whether `start` reaches rules[target] through feeds edges (rules[]
 * at most VC_RULE_TENANT_MAX + 1; seen[] marks visited ones). */
static int reaches(const vc__rule *rules, size_t n, size_t from,
                   size_t target, unsigned char *seen)
{
  for (size_t j = 0; j < n; j++) {
    if (seen[j] || !vc__rule_feeds(&rules[from], &rules[j]))
      continue;
    if (j == target)
      return 1;
    seen[j] = 1;
    if (reaches(rules, n, j, target, seen))
      return 1;
  }
  return 0;
}

/* Refuse `r` (enabled) when it can trigger itself or close a cycle with
 * the tenant's other enabled rules. */
static int loop_check(vc__db *db, const char *tenant_id, const vc__rule *r)
{
  vc__rule *rules;
  unsigned char *seen;
  size_t n = 0;
  vc__stmt *s;
  int rc;

  if (!r->enabled)
    return 0;
  if (vc__rule_feeds(r, r))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ELOOP,
                         "rule '%s' would trigger itself: its actions "
                         "append the event it waits for", r->name);
  rules = vc__calloc(VC_RULE_TENANT_MAX + 1, sizeof(*rules));
  seen = vc__calloc(VC_RULE_TENANT_MAX + 1, 1);
  if (rules == NULL || seen == NULL) {
    vc__free(rules);
    vc__free(seen);
    return vc_error_set_oom();
  }
  rules[n++] = *r;
  rules[0].has_re = 0;
  if ((rc = vc__db_query(&s, db, SQL_ENABLED, "t", tenant_id)) == 0) {
    while ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW &&
           n < VC_RULE_TENANT_MAX + 1) {
      rule_row row;
      if (strcmp(vc__stmt_text(s, 0), r->id) == 0)
        continue;
      if ((rc = row_read(&row, s, 0)) < 0)
        break;
      vc__rule_dispose(&row.r);  /* patterns play no part here */
      rules[n++] = row.r;
    }
    vc__stmt_done(s);
  }
  if (rc >= 0) {
    rc = 0;
    for (size_t j = 1; j < n && rc == 0; j++) {
      if (!vc__rule_feeds(&rules[0], &rules[j]))
        continue;
      memset(seen, 0, n);
      seen[j] = 1;
      if (reaches(rules, n, j, 0, seen))
        rc = vc__error_set(VC_ERRCLASS_INVALID, VC_ELOOP,
                           "rules '%s' and '%s' would trigger each other",
                           r->name, rules[j].name);
    }
  }
  vc__free(rules);
  vc__free(seen);
  return rc;
}

/* ---- the cache --------------------------------------------------------- */

typedef struct cache_entry {
  char tenant_id[VC_ID_SIZE];
  int64_t loaded_at;          /* monotonic ms */
  vc__rule_set *set;          /* NULL: the tenant has no enabled rule */
} cache_entry;

struct vc__rule_cache {
  pthread_mutex_t lock;
  uint64_t gen;               /* bumped by every invalidation */
  cache_entry entries[CACHE_TENANTS_MAX];
  size_t n;
};

static int64_t mono_ms(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int vc__rule_cache_new(struct vc__rule_cache **out)
{
  struct vc__rule_cache *c = vc__calloc(1, sizeof(*c));

  if (c == NULL)
    return vc_error_set_oom();
  pthread_mutex_init(&c->lock, NULL);
  *out = c;
  return 0;
}

static void set_free(vc__rule_set *set)
{
  for (size_t i = 0; i < set->n; i++)
    vc__rule_dispose(&set->rules[i]);
  vc__free(set);
}

/* Drop a reference, under the lock; 1 when the set is to be freed. */
static int set_unref(vc__rule_set *set)
{
  return set != NULL && --set->refs == 0;
}

void vc__rule_cache_free(struct vc__rule_cache *c)
{
  if (c == NULL)
    return;
  for (size_t i = 0; i < c->n; i++)
    if (set_unref(c->entries[i].set))
      set_free(c->entries[i].set);
  pthread_mutex_destroy(&c->lock);
  vc__free(c);
}

void vc__rule_set_release(vc_ctx *ctx, vc__rule_set *set)
{
  int last;

  if (set == NULL)
    return;
  pthread_mutex_lock(&ctx->rules->lock);
  last = set_unref(set);
  pthread_mutex_unlock(&ctx->rules->lock);
  if (last)
    set_free(set);
}

/* Forget a tenant's entry after a change through this context. */
static void cache_forget(vc_ctx *ctx, const char *tenant_id)
{
  struct vc__rule_cache *c = ctx->rules;
  vc__rule_set *drop = NULL;

  pthread_mutex_lock(&c->lock);
  c->gen++;
  for (size_t i = 0; i < c->n; i++) {
    if (strcmp(c->entries[i].tenant_id, tenant_id) != 0)
      continue;
    if (set_unref(c->entries[i].set))
      drop = c->entries[i].set;
    c->entries[i] = c->entries[--c->n];
    break;
  }
  pthread_mutex_unlock(&c->lock);
  if (drop != NULL)
    set_free(drop);
}

/* Read a tenant's enabled rules: *out NULL when none. */
static int set_load(vc__rule_set **out, vc__db *db, const char *tenant_id)
{
  vc__rule_set *set = NULL;
  size_t cap = 0;
  vc__stmt *s;
  int rc;

  *out = NULL;
  if ((rc = vc__db_query(&s, db, SQL_ENABLED, "t", tenant_id)) < 0)
    return rc;
  while ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW) {
    rule_row row;
    if (set == NULL || set->n == cap) {
      size_t ncap = cap ? cap * 2 : 4;
      vc__rule_set *bigger = vc__realloc(set, sizeof(*set) +
                                                ncap * sizeof(vc__rule));
      if (bigger == NULL) {
        rc = vc_error_set_oom();
        break;
      }
      if (set == NULL)
        memset(bigger, 0, sizeof(*bigger));
      set = bigger;
      cap = ncap;
    }
    if (row_read(&row, s, 0) < 0) {
      /* A row this build cannot read fires nothing. */
      vc_error_clear();
      continue;
    }
    set->rules[set->n++] = row.r;
    set->triggers |= 1u << row.r.trigger;
  }
  vc__stmt_done(s);
  if (rc < 0) {
    if (set != NULL)
      set_free(set);
    return rc;
  }
  if (set != NULL && set->n == 0) {
    vc__free(set);
    set = NULL;
  }
  if (set != NULL)
    set->refs = 1;
  *out = set;
  return 0;
}

int vc__rule_set_get(vc__rule_set **out, vc__db *db, vc_ctx *ctx,
                     const char *tenant_id)
{
  struct vc__rule_cache *c = ctx->rules;
  int64_t now = mono_ms();
  vc__rule_set *set, *drop = NULL;
  uint64_t gen;
  size_t i;
  int rc;

  *out = NULL;
  pthread_mutex_lock(&c->lock);
  for (i = 0; i < c->n; i++)
    if (strcmp(c->entries[i].tenant_id, tenant_id) == 0)
      break;
  if (i < c->n && now - c->entries[i].loaded_at < RULE_TTL_MS) {
    if ((set = c->entries[i].set) != NULL)
      set->refs++;
    pthread_mutex_unlock(&c->lock);
    *out = set;
    return 0;
  }
  gen = c->gen;
  pthread_mutex_unlock(&c->lock);

  if ((rc = set_load(&set, db, tenant_id)) < 0)
    return rc;
  pthread_mutex_lock(&c->lock);
  /* An invalidation meanwhile: this read may predate the change. */
  if (c->gen == gen) {
    for (i = 0; i < c->n; i++)
      if (strcmp(c->entries[i].tenant_id, tenant_id) == 0)
        break;
    if (i == c->n && c->n == CACHE_TENANTS_MAX) {
      size_t old = 0;
      for (size_t k = 1; k < c->n; k++)
        if (c->entries[k].loaded_at < c->entries[old].loaded_at)
          old = k;
      i = old;
      if (set_unref(c->entries[i].set))
        drop = c->entries[i].set;
    } else if (i == c->n) {
      c->n++;
    } else if (set_unref(c->entries[i].set)) {
      drop = c->entries[i].set;
    }
    snprintf(c->entries[i].tenant_id, VC_ID_SIZE, "%s", tenant_id);
    c->entries[i].loaded_at = now;
    c->entries[i].set = set;
    if (set != NULL)
      set->refs++;
  }
  pthread_mutex_unlock(&c->lock);
  if (drop != NULL)
    set_free(drop);
  *out = set;
  return 0;
}

/* ---- the handle ------------------------------------------------------ */

struct vc_rule {
  vc_tenant *t;
  rule_row row;
};

static int handle_new(vc_rule **out, vc_tenant *t, rule_row *row)
{
  vc_rule *r = vc__calloc(1, sizeof(*r));

  if (r == NULL) {
    row_dispose(row);
    return vc_error_set_oom();
  }
  r->t = t;
  r->row = *row;
  *out = r;
  return 0;
}

void vc_rule_free(vc_rule *r)
{
  if (r == NULL)
    return;
  row_dispose(&r->row);
  vc__free(r);
}

static int load(rule_row *out, vc__db *db, const char *tenant_id,
                const char *sql, const char *key)
{
  vc__stmt *s;
  int rc;

  if ((rc = vc__db_query(&s, db, sql, "tt", tenant_id, key)) < 0)
    return rc;
  if ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW)
    rc = row_read(out, s, 1);
  else if (rc >= 0)
    rc = vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND, "no rule '%s'",
                       key);
  vc__stmt_done(s);
  return rc < 0 ? rc : 0;
}

/* ---- create, update, delete ------------------------------------------ */

typedef struct change {
  const vc_rule_spec *spec;
  const char *id;         /* NULL: create */
  int del;
  rule_row out;           /* the row after the change */
} change;

static int count_rules(vc__db *db, const char *tenant_id, int64_t *n)
{
  vc__stmt *s;
  int rc;

  *n = 0;
  if ((rc = vc__db_query(&s, db, SQL_COUNT, "t", tenant_id)) < 0)
    return rc;
  if ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW)
    *n = vc__stmt_int64(s, 0);
  vc__stmt_done(s);
  return rc < 0 ? rc : 0;
}

static int write_change(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                        change *c)
{
  vc__rule *r = &c->out.r;
  char audit[200], *def = NULL;
  int64_t now = vc__now(ctx), n;
  vc__stmt *s;
  int rc, taken;

  if ((rc = vc__contact_tenant_live(db, tenant_id)) < 0)
    return rc;
  if (c->del) {
    if ((rc = vc__db_run(db, SQL_DELETE, "tt", tenant_id, c->id)) < 0)
      return rc;
    if (vc__db_changes(db) == 0)
      return vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                           "no rule '%s'", c->id);
    return vc__audit(db, ctx, tenant_id, "rule.delete", c->id, NULL);
  }
  if (c->id == NULL) {
    if ((rc = count_rules(db, tenant_id, &n)) < 0)
      return rc;
    if (n >= VC_RULE_TENANT_MAX)
      return vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                           "the tenant has %d rules already",
                           VC_RULE_TENANT_MAX);
    if ((rc = vc__new_id(ctx, r->id)) < 0)
      return rc;
  } else {
    rule_row cur;
    if ((rc = load(&cur, db, tenant_id, SQL_GET, c->id)) < 0)
      return rc;
    c->out.created_at = cur.created_at;
    row_dispose(&cur);
    snprintf(r->id, sizeof(r->id), "%s", c->id);
  }
  if ((rc = from_spec(r, c->spec, db, ctx, tenant_id)) < 0)
    return rc;
  if ((rc = vc__db_query(&s, db, SQL_NAME_TAKEN, "ttt", tenant_id, r->name,
                         r->id)) < 0)
    return rc;
  taken = (rc = vc__stmt_step(s)) == VC_STORAGE_ROW;
  vc__stmt_done(s);
  if (rc < 0)
    return rc;
  if (taken)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EEXISTS,
                         "a rule is named '%s' already", r->name);
  if ((rc = loop_check(db, tenant_id, r)) < 0)
    return rc;
  if ((def = to_json(r)) == NULL)
    return vc_error_set_oom();
  rc = vc__db_run(db, c->id == NULL ? SQL_INSERT : SQL_UPDATE, "tttiiiti",
                  tenant_id, r->id, r->name, (int64_t)r->position,
                  (int64_t)r->enabled, (int64_t)r->trigger, def, now);
  if (rc < 0) {
    cJSON_free(def);
    return rc;
  }
  if ((c->out.def = vc__strdup(def)) == NULL) {
    cJSON_free(def);
    return vc_error_set_oom();
  }
  cJSON_free(def);
  if (c->id == NULL)
    c->out.created_at = now;
  c->out.updated_at = now;
  /* Names and actions' kinds; never a keyword or pattern (free text). */
  snprintf(audit, sizeof(audit),
           "{\"trigger\":%d,\"enabled\":%s,\"position\":%d,\"actions\":%zu}",
           r->trigger, r->enabled ? "true" : "false", r->position,
           r->nactions);
  return vc__audit(db, ctx, tenant_id,
                   c->id == NULL ? "rule.create" : "rule.update", r->id,
                   audit);
}

static int run_change(vc_tenant *t, change *c)
{
  vc_ctx *ctx = vc__tenant_ctx(t);
  const char *tenant_id = vc_tenant_id(t);
  vc__db *db;
  int rc;

  if ((rc = vc__db_acquire(&db, ctx->store)) < 0)
    return rc;
  if ((rc = vc__db_begin(db)) == 0) {
    if ((rc = write_change(db, ctx, tenant_id, c)) < 0 ||
        (rc = vc__db_commit(db)) < 0)
      vc__db_rollback(db);
  }
  vc__db_release(db);
  if (rc < 0) {
    row_dispose(&c->out);
    return rc;
  }
  cache_forget(ctx, tenant_id);
  return 0;
}

int vc_rule_new(vc_rule **out, vc_tenant *t, const vc_rule_spec *spec)
{
  change c;
  int rc;

  VC_ASSERT_ARG(out);
  *out = NULL;
  VC_ASSERT_ARG(t);
  VC_ASSERT_ARG(spec);
  VC_CHECK_VERSION(spec, VC_RULE_SPEC_VERSION, "vc_rule_spec");
  memset(&c, 0, sizeof(c));
  c.spec = spec;
  if ((rc = run_change(t, &c)) < 0)
    return rc;
  return handle_new(out, t, &c.out);
}

int vc_rule_update(vc_rule *r, const vc_rule_spec *spec)
{
  change c;
  int rc;

  VC_ASSERT_ARG(r);
  VC_ASSERT_ARG(spec);
  VC_CHECK_VERSION(spec, VC_RULE_SPEC_VERSION, "vc_rule_spec");
  memset(&c, 0, sizeof(c));
  c.spec = spec;
  c.id = r->row.r.id;
  if ((rc = run_change(r->t, &c)) < 0)
    return rc;
  row_dispose(&r->row);
  r->row = c.out;
  return 0;
}

int vc_rule_delete(vc_rule *r)
{
  change c;

  VC_ASSERT_ARG(r);
  memset(&c, 0, sizeof(c));
  c.id = r->row.r.id;
  c.del = 1;
  return run_change(r->t, &c);
}

int vc_rule_lookup(vc_rule **out, vc_tenant *t, const char *key)
{
  vc_ctx *ctx;
  rule_row row;
  vc__db *db;
  int rc;

  VC_ASSERT_ARG(out);
  *out = NULL;
  VC_ASSERT_ARG(t);
  if ((rc = vc__check_text("rule id or name", key, VC_RULE_NAME_MAX, 1)) <
      0)
    return rc;
  ctx = vc__tenant_ctx(t);
  if ((rc = vc__db_acquire(&db, ctx->store)) < 0)
    return rc;
  rc = load(&row, db, vc_tenant_id(t), SQL_GET_ANY, key);
  vc__db_release(db);
  if (rc < 0)
    return rc;
  return handle_new(out, t, &row);
}

/* ---- list -------------------------------------------------------------- */

typedef struct rule_iter {
  vc__page_iter page;
  vc_tenant *t;
  char tenant_id[VC_ID_SIZE];
} rule_iter;

static int page_query(vc__stmt **out, vc__db *db, const vc__page_iter *p)
{
  const rule_iter *it = (const rule_iter *)p;

  return vc__db_query(out, db, SQL_PAGE, "tt", it->tenant_id,
                      p->base.cursor);
}

static int page_row(void **out, vc__stmt *s)
{
  rule_row *r = vc__calloc(1, sizeof(*r));
  int rc;

  if (r == NULL)
    return vc_error_set_oom();
  if ((rc = row_read(r, s, 1)) < 0) {
    vc__free(r);
    return rc;
  }
  *out = r;
  return 0;
}

static void page_row_free(void *row)
{
  row_dispose(row);
  vc__free(row);
}

static const char *page_row_key(const void *row)
{
  return ((const rule_row *)row)->r.id;
}

static const vc__page_ops RULE_PAGES = {
  { "rule", vc__page_iter_free }, page_query, page_row, page_row_free,
  page_row_key
};

int vc_rule_list(vc_iter **out, vc_tenant *t, const vc_rule_filter *f)
{
  rule_iter *it;

  VC_ASSERT_ARG(out);
  *out = NULL;
  VC_ASSERT_ARG(t);
  VC_CHECK_VERSION(f, VC_RULE_FILTER_VERSION, "vc_rule_filter");
  if (f != NULL && f->after != NULL && f->after[0] != '\0' &&
      !vc__ulid_valid(f->after))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "cursor is not a rule list cursor");
  if ((it = vc__calloc(1, sizeof(*it))) == NULL)
    return vc_error_set_oom();
  vc__page_iter_init(&it->page, &RULE_PAGES, vc__tenant_ctx(t)->store,
                     f != NULL ? f->after : NULL);
  it->t = t;
  snprintf(it->tenant_id, sizeof(it->tenant_id), "%s", vc_tenant_id(t));
  *out = &it->page.base;
  return 0;
}

int vc_rule_next(vc_rule **out, vc_iter *base)
{
  rule_iter *it = (rule_iter *)base;
  void *row;
  int rc;

  VC_ASSERT_ARG(out);
  *out = NULL;
  if ((rc = vc__page_iter_next(&row, base, &RULE_PAGES)) < 0)
    return rc;
  rc = handle_new(out, it->t, row);
  vc__free(row);
  return rc;
}

/* ---- getters and inits ------------------------------------------------- */

const char *vc_rule_id(const vc_rule *r) { return r ? r->row.r.id : NULL; }
const char *vc_rule_name(const vc_rule *r)
{
  return r ? r->row.r.name : NULL;
}
int vc_rule_position(const vc_rule *r) { return r ? r->row.r.position : 0; }
int vc_rule_enabled(const vc_rule *r) { return r ? r->row.r.enabled : 0; }
int vc_rule_trigger_of(const vc_rule *r) { return r ? r->row.r.trigger : 0; }
size_t vc_rule_action_count(const vc_rule *r)
{
  return r ? r->row.r.nactions : 0;
}
const char *vc_rule_definition_json(const vc_rule *r)
{
  return r ? r->row.def : NULL;
}
int64_t vc_rule_created_at(const vc_rule *r)
{
  return r ? r->row.created_at : 0;
}
int64_t vc_rule_updated_at(const vc_rule *r)
{
  return r ? r->row.updated_at : 0;
}

int vc_rule_spec_init(vc_rule_spec *s, unsigned int version)
{
  VC_INIT_STRUCT_SIZED(s, version, VC_RULE_SPEC_VERSION, vc_rule_spec,
                       version >= 2 ? sizeof(vc_rule_spec)
                                    : offsetof(vc_rule_spec, direction),
                       VC_RULE_SPEC_INIT);
}

int vc_rule_action_init(vc_rule_action *a, unsigned int version)
{
  VC_INIT_STRUCT(a, version, VC_RULE_ACTION_VERSION, vc_rule_action,
                 VC_RULE_ACTION_INIT);
}

int vc_rule_filter_init(vc_rule_filter *f, unsigned int version)
{
  VC_INIT_STRUCT(f, version, VC_RULE_FILTER_VERSION, vc_rule_filter,
                 VC_RULE_FILTER_INIT);
}
