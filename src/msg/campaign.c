/*
 * Campaigns: validation and storage of the spec, the lifecycle (start,
 * pause, resume, cancel), lookup, list and counters, and the counters'
 * moves when a campaign message changes status. The fan-out job that
 * turns the audience into messages is in campaign_fanout.c.
 */
#include "core/common.h"
#include "core/audit.h"
#include "core/ctx.h"
#include "core/event.h"
#include "core/iter.h"
#include "core/job.h"
#include "core/json.h"
#include "core/tenant.h"
#include "core/text.h"
#include "core/ulid.h"
#include "campaign.h"
#include "contact.h"
#include "message.h"
#include "msg_hooks.h"
#include "route.h"
#include "template.h"

#include <cJSON.h>
#include <math.h>
#include <stdio.h>

/* ---- names and links ------------------------------------------------- */

const char *vc_campaign_state_name(int state)
{
  static const char *const names[] = {
    "unknown", "draft", "running", "paused", "completed", "canceled"
  };

  return state >= VC_CAMPAIGN_DRAFT && state <= VC_CAMPAIGN_CANCELED
           ? names[state] : names[0];
}

static const struct {
  const char *name;
  int addr_kind, channel_kind;
} LINK_KINDS[] = {
  { "whatsapp", VC_ADDRESS_WHATSAPP, VC_CHANNEL_CHAT },
  { "telegram", VC_ADDRESS_TELEGRAM, VC_CHANNEL_CHAT },
  { "sms", VC_ADDRESS_PHONE, VC_CHANNEL_SMS },
  { "email", VC_ADDRESS_EMAIL, VC_CHANNEL_EMAIL },
};
#define NLINK_KINDS (sizeof(LINK_KINDS) / sizeof(LINK_KINDS[0]))

static const char *link_kind_name(int addr_kind)
{
  for (size_t i = 0; i < NLINK_KINDS; i++)
    if (LINK_KINDS[i].addr_kind == addr_kind)
      return LINK_KINDS[i].name;
  return "?";
}

/* "kind" or "kind@channel": the kind part into `l`, the channel part
 * (borrowed, NUL-free copy in `chan`) or "". */
static int link_split(vc__campaign_link *l, char chan[VC_CHANNEL_NAME_MAX + 1],
                      const char *text, size_t len)
{
  const char *at = memchr(text, '@', len);
  size_t klen = at ? (size_t)(at - text) : len;

  memset(l, 0, sizeof(*l));
  chan[0] = '\0';
  for (size_t i = 0; i < NLINK_KINDS; i++)
    if (strlen(LINK_KINDS[i].name) == klen &&
        memcmp(LINK_KINDS[i].name, text, klen) == 0) {
      l->addr_kind = LINK_KINDS[i].addr_kind;
      l->channel_kind = LINK_KINDS[i].channel_kind;
    }
  if (l->addr_kind == 0)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "chain link '%.*s' is not whatsapp, telegram, sms "
                         "or email", (int)(klen > 32 ? 32 : klen), text);
  if (at != NULL) {
    size_t clen = len - klen - 1;
    if (clen == 0 || clen > VC_CHANNEL_NAME_MAX)
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "chain link has an empty or too long channel");
    memcpy(chan, at + 1, clen);
    chan[clen] = '\0';
  }
  return 0;
}

int vc__campaign_chain_parse(vc__campaign_link *links, size_t *n,
                             const char *text)
{
  char chan[VC_CHANNEL_NAME_MAX + 1];
  const char *p = text;
  int rc;

  *n = 0;
  while (*p != '\0') {
    size_t len = strcspn(p, " ");
    if (len > 0) {
      if (*n == VC_CAMPAIGN_CHAIN_MAX)
        return vc__error_set(VC_ERRCLASS_INTERNAL, VC_ETOOBIG,
                             "stored chain is too long");
      if ((rc = link_split(&links[*n], chan, p, len)) < 0)
        return rc;
      snprintf(links[*n].channel_id, VC_ID_SIZE, "%s", chan);
      (*n)++;
    }
    p += len + (p[len] == ' ');
  }
  return 0;
}

/* ---- rows and handles ----------------------------------------------- */

struct vc_campaign {
  vc_tenant *t;
  vc__campaign_row row;
};

#define COLUMNS                                                            \
  "tenant_id, id, name, template_id, COALESCE(locale, ''), chain,"         \
  " COALESCE(tag, ''), cursor, audience, category, state, window_start,"   \
  " window_end, fanout_done, rate, start_at, end_at, base_at, base_n,"     \
  " paused_at, created_at, updated_at, started_at, finished_at, total,"    \
  " queued, sent, delivered, failed, canceled, skipped_consent,"           \
  " skipped_address, deferred_quiet, expired, open_count"

static const char SQL_BY_ID[] =
  "SELECT " COLUMNS " FROM vc_campaign WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_PAGE[] =
  "SELECT " COLUMNS " FROM vc_campaign WHERE tenant_id = ?1"
  " AND (?2 = '' OR id < ?2) AND (?3 = 0 OR state = ?3)"
  " ORDER BY id DESC LIMIT 50";

static void text_col(char *dst, size_t size, vc__stmt *s, int col)
{
  const char *v = vc__stmt_text(s, col);

  snprintf(dst, size, "%s", v ? v : "");
}

static void row_from_stmt(vc__campaign_row *r, vc__stmt *s)
{
  int64_t *ints[] = {
    &r->start_at, &r->end_at, &r->base_at, &r->base_n, &r->paused_at,
    &r->created_at, &r->updated_at, &r->started_at, &r->finished_at,
    &r->total, &r->queued, &r->sent, &r->delivered, &r->failed,
    &r->canceled, &r->skipped_consent, &r->skipped_address,
    &r->deferred_quiet, &r->expired, &r->open
  };

  memset(r, 0, sizeof(*r));
  text_col(r->tenant_id, sizeof(r->tenant_id), s, 0);
  text_col(r->id, sizeof(r->id), s, 1);
  text_col(r->name, sizeof(r->name), s, 2);
  text_col(r->template_id, sizeof(r->template_id), s, 3);
  text_col(r->locale, sizeof(r->locale), s, 4);
  text_col(r->chain, sizeof(r->chain), s, 5);
  text_col(r->tag, sizeof(r->tag), s, 6);
  text_col(r->cursor, sizeof(r->cursor), s, 7);
  r->audience = (int)vc__stmt_int64(s, 8);
  r->category = (int)vc__stmt_int64(s, 9);
  r->state = (int)vc__stmt_int64(s, 10);
  r->window_start = (int)vc__stmt_int64(s, 11);
  r->window_end = (int)vc__stmt_int64(s, 12);
  r->fanout_done = (int)vc__stmt_int64(s, 13);
  r->rate = vc__stmt_double(s, 14);
  for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++)
    *ints[i] = vc__stmt_int64(s, 15 + (int)i);
}

int vc__campaign_row_load(vc__campaign_row *out, vc__db *db,
                          const char *tenant_id, const char *id)
{
  vc__stmt *s;
  int rc;

  if ((rc = vc__db_query(&s, db, SQL_BY_ID, "tt", tenant_id, id)) < 0)
    return rc;
  rc = vc__stmt_step(s);
  if (rc == VC_STORAGE_ROW) {
    row_from_stmt(out, s);
    rc = 0;
  } else if (rc == VC_STORAGE_DONE) {
    rc = vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                       "no campaign '%.32s'", id);
  }
  vc__stmt_done(s);
  return rc;
}

static int handle_new(vc_campaign **out, vc_tenant *t,
                      const vc__campaign_row *row)
{
  vc_campaign *c = vc__calloc(1, sizeof(*c));

  if (c == NULL)
    return vc_error_set_oom();
  c->t = t;
  c->row = *row;
  *out = c;
  return 0;
}

void vc_campaign_free(vc_campaign *c)
{
  vc__free(c);
}

const char *vc_campaign_id(const vc_campaign *c)
{
  return c ? c->row.id : NULL;
}
const char *vc_campaign_name(const vc_campaign *c)
{
  return c ? c->row.name : NULL;
}
int vc_campaign_state(const vc_campaign *c) { return c ? c->row.state : 0; }
int vc_campaign_audience_kind(const vc_campaign *c)
{
  return c ? c->row.audience : 0;
}
int vc_campaign_category(const vc_campaign *c)
{
  return c ? c->row.category : 0;
}
const char *vc_campaign_template_id(const vc_campaign *c)
{
  return c ? c->row.template_id : NULL;
}
double vc_campaign_rate(const vc_campaign *c) { return c ? c->row.rate : 0; }
int64_t vc_campaign_start_at(const vc_campaign *c)
{
  return c ? c->row.start_at : 0;
}
int64_t vc_campaign_end_at(const vc_campaign *c)
{
  return c ? c->row.end_at : 0;
}
int64_t vc_campaign_created_at(const vc_campaign *c)
{
  return c ? c->row.created_at : 0;
}

int vc_campaign_lookup(vc_campaign **out, vc_tenant *t, const char *id)
{
  vc__campaign_row row;
  vc__db *db;
  int rc;

  VC_ASSERT_ARG(out);
  *out = NULL;
  VC_ASSERT_ARG(t);
  if (!vc__ulid_valid(id))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "campaign id is not a valid id");
  if ((rc = vc__db_acquire(&db, vc__tenant_ctx(t)->store)) < 0)
    return rc;
  rc = vc__campaign_row_load(&row, db, vc_tenant_id(t), id);
  vc__db_release(db);
  return rc < 0 ? rc : handle_new(out, t, &row);
}

/* ---- create ------------------------------------------------------------ */

static const char SQL_INSERT[] =
  "INSERT INTO vc_campaign (tenant_id, id, name, template_id, locale, vars,"
  " chain, audience, tag, category, rate, start_at, end_at, window_start,"
  " window_end, state, created_at, updated_at)"
  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,"
  " ?15, 1, ?16, ?16)";
static const char SQL_RCPT_ADD[] =
  "INSERT INTO vc_campaign_recipient (tenant_id, campaign_id, contact_id,"
  " vars, state) VALUES (?1, ?2, ?3, ?4, 0)"
  " ON CONFLICT (tenant_id, campaign_id, contact_id) DO UPDATE"
  " SET vars = excluded.vars";

/* A JSON object of at most `max` bytes, or NULL. */
static int check_object(const char *what, const char *json)
{
  cJSON *v = NULL;
  int rc;

  if (json == NULL)
    return 0;
  rc = vc__json_parse(&v, what, json, VC_CAMPAIGN_VARS_MAX, 16, 1);
  cJSON_Delete(v);
  return rc;
}

static int check_spec(const vc_campaign_spec *s, int64_t now)
{
  int rc;

  if ((rc = vc__check_text("campaign name", s->name, VC_CAMPAIGN_NAME_MAX,
                           1)) < 0 ||
      (rc = vc__check_text("locale", s->locale, 35, 0)) < 0 ||
      (rc = check_object("campaign variables", s->vars_json)) < 0)
    return rc;
  if (s->template_name == NULL || s->template_name[0] == '\0')
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "a campaign needs a template");
  if (s->nchain == 0 || s->chain == NULL)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "a campaign needs at least one chain link");
  if (s->nchain > VC_CAMPAIGN_CHAIN_MAX)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                         "more than %d chain links", VC_CAMPAIGN_CHAIN_MAX);
  if (s->start_at < 0 || s->end_at < 0)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "start or end time is negative");
  if (s->end_at != 0 &&
      (s->end_at <= s->start_at || (s->start_at == 0 && s->end_at <= now)))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "the end time is not after the start");
  if (s->window_start_min < 0 || s->window_start_min >= 1440 ||
      s->window_end_min < 0 || s->window_end_min >= 1440 ||
      (s->window_start_min == s->window_end_min &&
       s->window_start_min != 0))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "send window minutes must be 0..1439 and differ");
  if (!(s->rate >= 0 && s->rate <= VC_CAMPAIGN_RATE_MAX))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "rate must be 0..%g messages per second",
                         VC_CAMPAIGN_RATE_MAX);
  if (s->category != 0 && vc_category_name(s->category) == NULL)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "unknown category %d", s->category);
  switch (s->audience) {
  case VC_AUDIENCE_LIST:
    if (s->ncontacts == 0 || s->contact_ids == NULL)
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "a list audience needs contact ids");
    if (s->ncontacts > VC_CAMPAIGN_LIST_MAX)
      return vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                           "more than %d contacts in the list",
                           VC_CAMPAIGN_LIST_MAX);
    for (size_t i = 0; i < s->ncontacts; i++) {
      if (!vc__ulid_valid(s->contact_ids[i]))
        return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                             "contact %zu is not a valid id", i);
      if (s->contact_vars != NULL &&
          (rc = check_object("recipient variables",
                             s->contact_vars[i])) < 0)
        return rc;
    }
    break;
  case VC_AUDIENCE_TAG:
    if ((rc = vc__check_text("tag", s->tag, VC__CAMPAIGN_TAG_MAX, 1)) < 0)
      return rc;
    break;
  case VC_AUDIENCE_CSV:
    break;
  default:
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "unknown audience %d", s->audience);
  }
  if (s->audience != VC_AUDIENCE_LIST && s->ncontacts != 0)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "contact ids are for a list audience");
  if (s->audience != VC_AUDIENCE_TAG && s->tag != NULL)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "a tag is for a tag audience");
  return 0;
}

/* Resolve each link (pinned channels by id or name) into the stored
 * chain text, and check the template has a variant for each kind. */
static int resolve_chain(char chain[VC__CAMPAIGN_CHAIN_TEXT],
                         char template_id[VC_ID_SIZE], vc__db *db,
                         vc_tenant *t, const vc_campaign_spec *s)
{
  char chan[VC_CHANNEL_NAME_MAX + 1];
  size_t used = 0;
  int rc;

  chain[0] = '\0';
  for (size_t i = 0; i < s->nchain; i++) {
    vc__template_request req = { s->template_name, 0, s->locale, 0, NULL };
    vc__template_plan *plan;
    vc__campaign_link l;
    vc__route_channel rc_ch;
    const char *text = s->chain[i];

    if ((rc = vc__check_text("chain link", text, VC__CAMPAIGN_LINK_MAX +
                             VC_CHANNEL_NAME_MAX, 1)) < 0 ||
        (rc = link_split(&l, chan, text, strlen(text))) < 0)
      return rc;
    if (chan[0] != '\0') {
      if ((rc = vc__route_lookup_on(&rc_ch, db, t, chan)) < 0)
        return rc;
      if (rc_ch.kind != l.channel_kind)
        return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                             "channel '%s' of link %zu is not a %s channel",
                             chan, i, link_kind_name(l.addr_kind));
      snprintf(l.channel_id, sizeof(l.channel_id), "%s", rc_ch.id);
    }
    req.kind = l.channel_kind;
    if ((rc = vc__template_plan_open(&plan, t, db, &req)) < 0)
      return rc;
    snprintf(template_id, VC_ID_SIZE, "%s", vc__template_plan_id(plan));
    vc__template_plan_free(plan);
    used += (size_t)snprintf(chain + used, VC__CAMPAIGN_CHAIN_TEXT - used,
                             "%s%s%s%s", i ? " " : "",
                             link_kind_name(l.addr_kind),
                             l.channel_id[0] ? "@" : "", l.channel_id);
  }
  return 0;
}

static void audit_summary(char *buf, size_t size, const vc__campaign_row *r,
                          const char *extra)
{
  snprintf(buf, size, "{\"state\":\"%s\"%s%s}",
           vc_campaign_state_name(r->state), extra ? "," : "",
           extra ? extra : "");
}

int vc_campaign_new(vc_campaign **out, vc_tenant *t,
                    const vc_campaign_spec *spec)
{
  char chain[VC__CAMPAIGN_CHAIN_TEXT], template_id[VC_ID_SIZE];
  char id[VC_ID_SIZE], summary[160];
  const char *tenant_id;
  vc__campaign_row row;
  vc_ctx *ctx;
  vc__db *db;
  int64_t now;
  int rc;

  VC_ASSERT_ARG(out);
  *out = NULL;
  VC_ASSERT_ARG(t);
  VC_ASSERT_ARG(spec);
  VC_CHECK_VERSION(spec, VC_CAMPAIGN_SPEC_VERSION, "vc_campaign_spec");
  ctx = vc__tenant_ctx(t);
  tenant_id = vc_tenant_id(t);
  now = vc__now(ctx);
  if ((rc = check_spec(spec, now)) < 0 || (rc = vc__new_id(ctx, id)) < 0)
    return rc;
  if ((rc = vc__db_acquire(&db, ctx->store)) < 0)
    return rc;
  if ((rc = resolve_chain(chain, template_id, db, t, spec)) < 0)
    goto release;
  if ((rc = vc__db_begin(db)) < 0)
    goto release;
  rc = vc__db_run(db, SQL_INSERT, "ttttttt" "itidiii" "ii", tenant_id, id,
                  spec->name, template_id, spec->locale, spec->vars_json,
                  chain, (int64_t)spec->audience, spec->tag,
                  (int64_t)(spec->category ? spec->category
                                           : VC_CATEGORY_MARKETING),
                  spec->rate, spec->start_at, spec->end_at,
                  (int64_t)spec->window_start_min,
                  (int64_t)spec->window_end_min, now);
  for (size_t i = 0; rc == 0 && spec->audience == VC_AUDIENCE_LIST &&
                     i < spec->ncontacts; i++)
    rc = vc__db_run(db, SQL_RCPT_ADD, "tttt", tenant_id, id,
                    spec->contact_ids[i],
                    spec->contact_vars ? spec->contact_vars[i] : NULL);
  if (rc == 0)
    rc = vc__campaign_row_load(&row, db, tenant_id, id);
  if (rc == 0) {
    audit_summary(summary, sizeof(summary), &row, NULL);
    rc = vc__audit(db, ctx, tenant_id, "campaign.create", id, summary);
  }
  if (rc == 0)
    rc = vc__event_append(db, ctx, tenant_id, "campaign.created", id, NULL);
  if (rc < 0 || (rc = vc__db_commit(db)) < 0) {
    vc__db_rollback(db);
    goto release;
  }
  rc = handle_new(out, t, &row);
release:
  vc__db_release(db);
  return rc;
}

/* ---- CSV audience -------------------------------------------------------- */

typedef struct csv_arg {
  const char *tenant_id, *campaign_id;
} csv_arg;

/* A stored row of the import becomes a recipient, its other columns
 * its variables; an empty cell leaves the campaign's value. */
static int csv_row(void *arg, vc__db *db, const char *contact_id,
                   const char *extra_json, uint64_t line)
{
  csv_arg *a = arg;
  cJSON *vars = NULL, *it, *next;
  char *text = NULL;
  int rc;

  VC_UNUSED(line);
  if (extra_json != NULL &&
      (rc = vc__json_parse(&vars, "row variables", extra_json,
                           VC_CAMPAIGN_VARS_MAX, 2, 1)) < 0)
    return rc;
  for (it = vars ? vars->child : NULL; it != NULL; it = next) {
    next = it->next;
    if (cJSON_IsString(it) && it->valuestring[0] == '\0')
      cJSON_Delete(cJSON_DetachItemViaPointer(vars, it));
  }
  if (vars != NULL && vars->child != NULL &&
      (text = cJSON_PrintUnformatted(vars)) == NULL) {
    cJSON_Delete(vars);
    return vc_error_set_oom();
  }
  cJSON_Delete(vars);
  rc = vc__db_run(db, SQL_RCPT_ADD, "tttt", a->tenant_id, a->campaign_id,
                  contact_id, text);
  cJSON_free(text);
  return rc;
}

int vc_campaign_import_csv(vc_contact_import_result *out, vc_campaign *c,
                           const vc_contact_import_spec *spec)
{
  char summary[200], extra[120];
  vc__campaign_row row;
  csv_arg a;
  vc_ctx *ctx;
  vc__db *db;
  int rc;

  VC_ASSERT_ARG(out);
  VC_ASSERT_ARG(c);
  VC_ASSERT_ARG(spec);
  ctx = vc__tenant_ctx(c->t);
  a.tenant_id = c->row.tenant_id;
  a.campaign_id = c->row.id;
  if ((rc = vc__db_acquire(&db, ctx->store)) < 0)
    return rc;
  rc = vc__campaign_row_load(&row, db, a.tenant_id, a.campaign_id);
  vc__db_release(db);
  if (rc < 0)
    return rc;
  if (row.state != VC_CAMPAIGN_DRAFT || row.audience != VC_AUDIENCE_CSV)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ESTATE,
                         "only a draft CSV campaign takes a CSV");
  /* The import commits as it goes (it may be large); the audit row
   * records the call once it is done. */
  if ((rc = vc__contact_import_csv(out, c->t, spec, csv_row, &a)) < 0)
    return rc;
  if ((rc = vc__db_acquire(&db, ctx->store)) < 0)
    return rc;
  snprintf(extra, sizeof(extra), "\"rows\":%llu,\"rejected\":%llu",
           (unsigned long long)out->rows,
           (unsigned long long)out->rejected);
  audit_summary(summary, sizeof(summary), &row, extra);
  if ((rc = vc__db_begin(db)) == 0) {
    if ((rc = vc__audit(db, ctx, a.tenant_id, "campaign.import", row.id,
                        summary)) < 0 || (rc = vc__db_commit(db)) < 0)
      vc__db_rollback(db);
  }
  vc__db_release(db);
  return rc;
}

/* ---- lifecycle ----------------------------------------------------------- */

static const char SQL_STATE[] =
  "UPDATE vc_campaign SET state = ?3, updated_at = ?4 WHERE tenant_id = ?1"
  " AND id = ?2";
static const char SQL_STARTED[] =
  "UPDATE vc_campaign SET started_at = ?3, base_at = ?4 WHERE tenant_id = ?1"
  " AND id = ?2";
static const char SQL_PAUSED_AT[] =
  "UPDATE vc_campaign SET paused_at = ?3 WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_FINISHED[] =
  "UPDATE vc_campaign SET finished_at = ?3 WHERE tenant_id = ?1 AND id = ?2";
/* The campaign's queued messages' jobs, for holding and releasing. */
#define CAMPAIGN_JOBS                                                     \
  " WHERE tenant_id = ?1 AND kind = 'message.send' AND subject_id IN"    \
  " (SELECT id FROM vc_message WHERE tenant_id = ?1 AND campaign_id = ?2" \
  "  AND status = 1)"
static const char SQL_HOLD[] =
  "UPDATE vc_job SET due_at = due_at + ?3" CAMPAIGN_JOBS
  " AND due_at < ?3 AND (lease_owner IS NULL OR lease_until <= ?4)";
static const char SQL_RELEASE[] =
  "UPDATE vc_job SET due_at = due_at - ?3 + ?4" CAMPAIGN_JOBS
  " AND due_at >= ?3";
static const char SQL_CANCEL_JOBS[] =
  "DELETE FROM vc_job" CAMPAIGN_JOBS;
/* A page of the campaign's queued messages cancelled, in the order of
 * the campaign index after the recipient and link (?5, ?6). */
static const char SQL_CANCEL_PAGE[] =
  "UPDATE vc_message SET status = 9, error_code = ?3, updated_at = ?4"
  " WHERE tenant_id = ?1 AND id IN (SELECT id FROM vc_message"
  "  WHERE tenant_id = ?1 AND campaign_id = ?2"
  "  AND (contact_id, campaign_link) > (?5, ?6) AND status = 1"
  "  ORDER BY contact_id, campaign_link LIMIT 256)"
  " RETURNING id, kind, category, COALESCE(channel_id, ''),"
  " COALESCE(contact_id, ''), segments, created_at, campaign_link";
static const char SQL_CANCEL_COUNT[] =
  "UPDATE vc_campaign SET canceled = canceled + ?3,"
  " open_count = open_count - ?3 WHERE tenant_id = ?1 AND id = ?2";

#define CANCEL_PAGE 256

typedef struct cancelled {
  char id[VC_ID_SIZE], channel_id[VC_ID_SIZE], contact_id[VC_ID_SIZE];
  int kind, category, segments, link;
  int64_t created_at;
} cancelled;

/* One page of cancel_messages(): *got rows in `rows`, in key order. */
static int cancel_page(cancelled *rows, size_t *got, vc__db *db,
                       const char *tid, const char *id, int64_t now,
                       const char *after_contact, int after_link)
{
  vc__stmt *s;
  int rc;

  *got = 0;
  if ((rc = vc__db_query(&s, db, SQL_CANCEL_PAGE, "ttiiti", tid, id,
                         (int64_t)VC_ECANCELED, now, after_contact,
                         (int64_t)after_link)) < 0)
    return rc;
  while (*got < CANCEL_PAGE && (rc = vc__stmt_step(s)) == VC_STORAGE_ROW) {
    cancelled *r = &rows[(*got)++];
    snprintf(r->id, sizeof(r->id), "%s", vc__stmt_text(s, 0));
    r->kind = (int)vc__stmt_int64(s, 1);
    r->category = (int)vc__stmt_int64(s, 2);
    snprintf(r->channel_id, sizeof(r->channel_id), "%s",
             vc__stmt_text(s, 3));
    snprintf(r->contact_id, sizeof(r->contact_id), "%s",
             vc__stmt_text(s, 4));
    r->segments = (int)vc__stmt_int64(s, 5);
    r->created_at = vc__stmt_int64(s, 6);
    r->link = (int)vc__stmt_int64(s, 7);
  }
  vc__stmt_done(s);
  return rc < 0 ? rc : 0;
}

static int key_before(const cancelled *a, const cancelled *b)
{
  int c = strcmp(a->contact_id, b->contact_id);
  return c < 0 || (c == 0 && a->link < b->link);
}

/* Cancel the campaign's queued messages a page at a time, so memory
 * does not grow with the audience, telling the modules that follow
 * messages of each; the campaign's own counters move once, by *n. */
static int cancel_messages(vc__db *db, vc_ctx *ctx, const char *tid,
                           const char *id, int64_t now, int64_t *n)
{
  cancelled *rows = vc__malloc(CANCEL_PAGE * sizeof(*rows));
  cancelled last = { .contact_id = "", .link = -1 };
  size_t got;
  int rc;

  *n = 0;
  if (rows == NULL)
    return vc_error_set_oom();
  do {
    if ((rc = cancel_page(rows, &got, db, tid, id, now, last.contact_id,
                          last.link)) < 0)
      break;
    for (size_t i = 0; rc == 0 && i < got; i++) {
      const cancelled *r = &rows[i];
      vc__msg_change c = { tid, r->id, r->kind, r->category, VC_MSG_QUEUED,
                           VC_MSG_CANCELED, r->channel_id, "", id,
                           r->contact_id, r->segments, VC_ECANCELED,
                           r->created_at, now };
      rc = vc__msg_on_change(db, ctx, &c);
      if (key_before(&last, r))  /* RETURNING need not keep order */
        last = *r;
    }
    *n += (int64_t)got;
  } while (rc == 0 && got == CANCEL_PAGE);
  vc__free(rows);
  return rc;
}

typedef enum { OP_START, OP_PAUSE, OP_RESUME, OP_CANCEL } op_kind;

static int op_apply(vc__db *db, vc_ctx *ctx, const vc__campaign_row *r,
                    op_kind op, int64_t now, char *extra, size_t size)
{
  const char *tid = r->tenant_id, *id = r->id;
  int64_t n;
  int rc;

  extra[0] = '\0';
  switch (op) {
  case OP_START: {
    int64_t at = r->start_at > now ? r->start_at : now;
    if ((rc = vc__db_run(db, SQL_STATE, "tti" "i", tid, id,
                         (int64_t)VC_CAMPAIGN_RUNNING, now)) < 0 ||
        (rc = vc__db_run(db, SQL_STARTED, "ttii", tid, id, now, at)) < 0 ||
        (rc = vc__job_enqueue(db, ctx, tid, VC__JOB_CAMPAIGN_FANOUT, id, at,
                              NULL)) < 0)
      return rc;
    return vc__event_append(db, ctx, tid, "campaign.started", id, NULL);
  }
  case OP_PAUSE:
    if ((rc = vc__db_run(db, SQL_STATE, "tti" "i", tid, id,
                         (int64_t)VC_CAMPAIGN_PAUSED, now)) < 0 ||
        (rc = vc__db_run(db, SQL_PAUSED_AT, "tti", tid, id, now)) < 0 ||
        (rc = vc__db_run(db, SQL_HOLD, "ttii", tid, id, VC__CAMPAIGN_HOLD,
                         now)) < 0)
      return rc;
    n = vc__db_changes(db);
    snprintf(extra, size, "\"held\":%lld", (long long)n);
    return vc__event_append(db, ctx, tid, "campaign.paused", id, NULL);
  case OP_RESUME:
    if ((rc = vc__db_run(db, SQL_STATE, "tti" "i", tid, id,
                         (int64_t)VC_CAMPAIGN_RUNNING, now)) < 0 ||
        (rc = vc__db_run(db, SQL_RELEASE, "ttii", tid, id,
                         VC__CAMPAIGN_HOLD, now - r->paused_at)) < 0)
      return rc;
    n = vc__db_changes(db);
    snprintf(extra, size, "\"released\":%lld", (long long)n);
    /* The fan-out stopped at the pause: it goes on from its cursor. */
    if (!r->fanout_done &&
        (rc = vc__job_enqueue(db, ctx, tid, VC__JOB_CAMPAIGN_FANOUT, id, now,
                              NULL)) < 0)
      return rc;
    return vc__event_append(db, ctx, tid, "campaign.resumed", id, NULL);
  case OP_CANCEL: {
    char payload[64];
    if ((rc = vc__db_run(db, SQL_STATE, "tti" "i", tid, id,
                         (int64_t)VC_CAMPAIGN_CANCELED, now)) < 0 ||
        (rc = vc__db_run(db, SQL_FINISHED, "tti", tid, id, now)) < 0 ||
        (rc = vc__db_run(db, SQL_CANCEL_JOBS, "tt", tid, id)) < 0 ||
        (rc = cancel_messages(db, ctx, tid, id, now, &n)) < 0)
      return rc;
    if ((rc = vc__db_run(db, SQL_CANCEL_COUNT, "tti", tid, id, n)) < 0)
      return rc;
    snprintf(extra, size, "\"canceled_messages\":%lld", (long long)n);
    snprintf(payload, sizeof(payload), "{\"canceled_messages\":%lld}",
             (long long)n);
    return vc__event_append(db, ctx, tid, "campaign.canceled", id, payload);
  }
  }
  return 0;
}

static int lifecycle(vc_campaign *c, op_kind op)
{
  static const char *const actions[] = {
    "campaign.start", "campaign.pause", "campaign.resume", "campaign.cancel"
  };
  char summary[160], extra[64];
  vc__campaign_row row;
  vc_ctx *ctx;
  vc__db *db;
  int64_t now;
  int ok, rc;

  VC_ASSERT_ARG(c);
  ctx = vc__tenant_ctx(c->t);
  if ((rc = vc__db_acquire(&db, ctx->store)) < 0)
    return rc;
  if ((rc = vc__db_begin(db)) < 0)
    goto release;
  if ((rc = vc__campaign_row_load(&row, db, c->row.tenant_id,
                                  c->row.id)) < 0)
    goto fail;
  ok = op == OP_START    ? row.state == VC_CAMPAIGN_DRAFT
       : op == OP_PAUSE  ? row.state == VC_CAMPAIGN_RUNNING
       : op == OP_RESUME ? row.state == VC_CAMPAIGN_PAUSED
       : row.state == VC_CAMPAIGN_DRAFT || row.state == VC_CAMPAIGN_RUNNING ||
         row.state == VC_CAMPAIGN_PAUSED;
  if (!ok) {
    rc = vc__error_set(VC_ERRCLASS_INVALID, VC_ESTATE,
                       "campaign is %s: cannot %s it",
                       vc_campaign_state_name(row.state),
                       actions[op] + strlen("campaign."));
    goto fail;
  }
  now = vc__now(ctx);
  if ((rc = op_apply(db, ctx, &row, op, now, extra, sizeof(extra))) < 0 ||
      (rc = vc__campaign_row_load(&row, db, c->row.tenant_id,
                                  c->row.id)) < 0)
    goto fail;
  audit_summary(summary, sizeof(summary), &row, extra[0] ? extra : NULL);
  if ((rc = vc__audit(db, ctx, row.tenant_id, actions[op], row.id,
                      summary)) < 0 ||
      (rc = vc__db_commit(db)) < 0)
    goto fail;
  c->row = row;
  vc_ctx_wakeup(ctx);
  goto release;
fail:
  vc__db_rollback(db);
release:
  vc__db_release(db);
  return rc;
}

int vc_campaign_start(vc_campaign *c) { return lifecycle(c, OP_START); }
int vc_campaign_pause(vc_campaign *c) { return lifecycle(c, OP_PAUSE); }
int vc_campaign_resume(vc_campaign *c) { return lifecycle(c, OP_RESUME); }
int vc_campaign_cancel(vc_campaign *c) { return lifecycle(c, OP_CANCEL); }

/* ---- counters --------------------------------------------------------- */

int vc_campaign_counters_get(vc_campaign_counters *out, vc_campaign *c)
{
  vc__campaign_row r;
  vc__db *db;
  int rc;

  VC_ASSERT_ARG(out);
  VC_ASSERT_ARG(c);
  VC_CHECK_VERSION(out, VC_CAMPAIGN_COUNTERS_VERSION,
                   "vc_campaign_counters");
  if ((rc = vc__db_acquire(&db, vc__tenant_ctx(c->t)->store)) < 0)
    return rc;
  rc = vc__campaign_row_load(&r, db, c->row.tenant_id, c->row.id);
  vc__db_release(db);
  if (rc < 0)
    return rc;
  out->state = r.state;
  out->total = (uint64_t)r.total;
  out->queued = (uint64_t)r.queued;
  out->sent = (uint64_t)r.sent;
  out->delivered = (uint64_t)r.delivered;
  out->failed = (uint64_t)r.failed;
  out->canceled = (uint64_t)r.canceled;
  out->skipped_consent = (uint64_t)r.skipped_consent;
  out->skipped_address = (uint64_t)r.skipped_address;
  out->deferred_quiet = (uint64_t)r.deferred_quiet;
  out->expired = (uint64_t)r.expired;
  out->open = (uint64_t)r.open;
  return 0;
}

/* ---- status changes of campaign messages ---------------------------- */

static const char SQL_ON_STATUS[] =
  "UPDATE vc_campaign SET sent = sent + ?3, delivered = delivered + ?4,"
  " failed = failed + ?5, canceled = canceled + ?6,"
  " open_count = open_count + ?7, updated_at = ?8"
  " WHERE tenant_id = ?1 AND id = ?2"
  " RETURNING open_count, fanout_done, state";
static const char SQL_MSG_RCPT[] =
  "SELECT contact_id, campaign_link FROM vc_message"
  " WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_COMPLETE[] =
  "UPDATE vc_campaign SET state = 4, finished_at = ?3, updated_at = ?3"
  " WHERE tenant_id = ?1 AND id = ?2 AND state = 2";

static int is_success(int s)
{
  return s == VC_MSG_SENT || s == VC_MSG_DELIVERED || s == VC_MSG_READ;
}

static int is_failure(int s)
{
  return s == VC_MSG_FAILED || s == VC_MSG_UNDELIVERED ||
         s == VC_MSG_BOUNCED;
}

/* Complete a running campaign whose fan-out is done and nothing open. */
static int maybe_complete(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                          const char *id, int64_t open, int fanout_done,
                          int state)
{
  int rc;

  if (open > 0 || !fanout_done || state != VC_CAMPAIGN_RUNNING)
    return 0;
  if ((rc = vc__db_run(db, SQL_COMPLETE, "tti", tenant_id, id,
                       vc__now(ctx))) < 0)
    return rc;
  return vc__event_append(db, ctx, tenant_id, "campaign.completed", id,
                          NULL);
}

int vc__campaign_complete_if_done(vc__db *db, vc_ctx *ctx,
                                  const vc__campaign_row *r)
{
  return maybe_complete(db, ctx, r->tenant_id, r->id, r->open,
                        r->fanout_done, r->state);
}

int vc__campaign_on_status(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                           const char *campaign_id, const char *message_id,
                           int from, int to)
{
  int was_open = from < VC_MSG_SENT;
  int64_t sent = 0, delivered = 0, failed = 0, canceled = 0, open = 0;
  int64_t open_now = 0;
  int fanout_done = 0, state = 0, rc;
  vc__stmt *s;

  if (is_success(to)) {
    sent = from < VC_MSG_SENT;
    delivered = from < VC_MSG_DELIVERED && to >= VC_MSG_DELIVERED;
    open = -was_open;
  } else if (to == VC_MSG_CANCELED) {
    canceled = 1;
    open = -was_open;
  } else if (is_failure(to)) {
    char contact_id[VC_ID_SIZE] = "";
    int link = -1, queued = 0;
    failed = 1;
    if ((rc = vc__db_query(&s, db, SQL_MSG_RCPT, "tt", tenant_id,
                           message_id)) < 0)
      return rc;
    if ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW) {
      snprintf(contact_id, sizeof(contact_id), "%s",
               vc__stmt_text(s, 0) ? vc__stmt_text(s, 0) : "");
      link = (int)vc__stmt_int64(s, 1);
    }
    vc__stmt_done(s);
    if (rc < 0)
      return rc;
    /* A permanent failure moves the recipient to the next link. */
    if (contact_id[0] != '\0' &&
        (queued = vc__campaign_fallback(db, ctx, tenant_id, campaign_id,
                                        contact_id, link + 1)) < 0)
      return queued;
    open = queued ? !was_open : -was_open;
  } else {
    return 0; /* sending: nothing to count */
  }
  if ((rc = vc__db_query(&s, db, SQL_ON_STATUS, "ttiiiiii", tenant_id,
                         campaign_id, sent, delivered, failed, canceled,
                         open, vc__now(ctx))) < 0)
    return rc;
  if ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW) {
    open_now = vc__stmt_int64(s, 0);
    fanout_done = (int)vc__stmt_int64(s, 1);
    state = (int)vc__stmt_int64(s, 2);
  }
  vc__stmt_done(s);
  if (rc < 0)
    return rc;
  return open < 0 ? maybe_complete(db, ctx, tenant_id, campaign_id,
                                   open_now, fanout_done, state)
                  : 0;
}

/* ---- list -------------------------------------------------------------- */

typedef struct campaign_iter {
  vc__page_iter page;
  vc_tenant *t;
  char tenant_id[VC_ID_SIZE];
  int state;
} campaign_iter;

static int page_query(vc__stmt **out, vc__db *db, const vc__page_iter *p)
{
  const campaign_iter *it = (const campaign_iter *)p;

  return vc__db_query(out, db, SQL_PAGE, "tti", it->tenant_id,
                      p->base.cursor, (int64_t)it->state);
}

static int page_row(void **out, vc__stmt *s)
{
  vc__campaign_row *r = vc__calloc(1, sizeof(*r));

  if (r == NULL)
    return vc_error_set_oom();
  row_from_stmt(r, s);
  *out = r;
  return 0;
}

static void page_row_free(void *row)
{
  vc__free(row);
}

static const char *page_row_key(const void *row)
{
  return ((const vc__campaign_row *)row)->id;
}

static const vc__page_ops CAMPAIGN_PAGES = {
  { "campaign", vc__page_iter_free }, page_query, page_row, page_row_free,
  page_row_key
};

int vc_campaign_list(vc_iter **out, vc_tenant *t,
                     const vc_campaign_filter *f)
{
  campaign_iter *it;

  VC_ASSERT_ARG(out);
  *out = NULL;
  VC_ASSERT_ARG(t);
  VC_CHECK_VERSION(f, VC_CAMPAIGN_FILTER_VERSION, "vc_campaign_filter");
  if (f != NULL && f->after != NULL && f->after[0] != '\0' &&
      !vc__ulid_valid(f->after))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "cursor is not a campaign list cursor");
  if (f != NULL && (f->state < 0 || f->state > VC_CAMPAIGN_CANCELED))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "unknown state %d", f->state);
  if ((it = vc__calloc(1, sizeof(*it))) == NULL)
    return vc_error_set_oom();
  vc__page_iter_init(&it->page, &CAMPAIGN_PAGES, vc__tenant_ctx(t)->store,
                     f != NULL ? f->after : NULL);
  it->t = t;
  snprintf(it->tenant_id, sizeof(it->tenant_id), "%s", vc_tenant_id(t));
  it->state = f != NULL ? f->state : 0;
  *out = &it->page.base;
  return 0;
}

int vc_campaign_next(vc_campaign **out, vc_iter *base)
{
  campaign_iter *it = (campaign_iter *)base;
  void *row;
  int rc;

  VC_ASSERT_ARG(out);
  *out = NULL;
  if ((rc = vc__page_iter_next(&row, base, &CAMPAIGN_PAGES)) < 0)
    return rc;
  rc = handle_new(out, it->t, row);
  vc__free(row);
  return rc;
}

/* ---- struct inits ------------------------------------------------------ */

int vc_campaign_spec_init(vc_campaign_spec *s, unsigned int version)
{
  VC_INIT_STRUCT(s, version, VC_CAMPAIGN_SPEC_VERSION, vc_campaign_spec,
                 VC_CAMPAIGN_SPEC_INIT);
}

int vc_campaign_filter_init(vc_campaign_filter *f, unsigned int version)
{
  VC_INIT_STRUCT(f, version, VC_CAMPAIGN_FILTER_VERSION, vc_campaign_filter,
                 VC_CAMPAIGN_FILTER_INIT);
}

int vc_campaign_counters_init(vc_campaign_counters *c, unsigned int version)
{
  VC_INIT_STRUCT(c, version, VC_CAMPAIGN_COUNTERS_VERSION,
                 vc_campaign_counters, VC_CAMPAIGN_COUNTERS_INIT);
}
