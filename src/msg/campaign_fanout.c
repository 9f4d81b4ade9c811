/*
 * The campaign fan-out: a durable job that turns a campaign's audience
 * into queued messages, one page per transaction.
 *
 * Each page reads up to PAGE recipients after the stored keyset cursor
 * (a contact id) together with their addresses for every chain link
 * and their quiet-hour settings (no query per recipient for either),
 * then, per recipient, picks the first link with an address and consent,
 * renders the template (compiled once per run), and inserts the message,
 * its send job and the recipient's row; the cursor, the throttle's base
 * and the counters move in the same transaction. A killed fan-out thus
 * starts again at the first recipient it had not committed, and the
 * unique key (campaign, contact, link) on messages makes a second
 * message for the same link impossible.
 *
 * Throttling is by due time: message n is due 1/rate after message n-1,
 * moved to the next opening of the daily send window; no one sleeps.
 */
#include "core/common.h"
#include "core/buf.h"
#include "core/ctx.h"
#include "core/event.h"
#include "core/job.h"
#include "core/json.h"
#include "core/tenant.h"
#include "core/tz.h"
#include "campaign.h"
#include "consent.h"
#include "contact.h"
#include "message.h"
#include "msg_hooks.h"
#include "quiet.h"
#include "template.h"

#include <cJSON.h>
#include <stdio.h>
#include <time.h>

#define PAGE 500
/* Bytes of recipient text (ids, variables, addresses) held per page: a
 * page ends early rather than grow past it. */
#define ARENA_MAX (1024 * 1024)
/* Pages per run of the job before it yields to other jobs. */
#define PAGES_PER_RUN 40
#define RUN_BUDGET_NS (2 * 1000000000LL)
#define NONE ((size_t)-1)

/* The audience's page, with each link's address. ?5..?8: the links'
 * address kinds (0 for absent links). */
#define ADDRESS(n)                                                        \
  " (SELECT a.address FROM vc_contact_address a"                          \
  "  WHERE a.tenant_id = ?1 AND a.contact_id = k.contact_id"              \
  "  AND +a.addr_kind = ?" #n " ORDER BY a.created_at, a.address LIMIT 1)"
/* The contact's own quiet-hour settings (NULL: the tenant's), then its
 * name and custom fields for the template's `contact` variables. */
#define PREFS " c.timezone, c.quiet_start_min, c.quiet_end_min," \
  " c.name, c.fields, c.locale"
#define GONE                                                              \
  " (c.id IS NULL OR c.erased_at IS NOT NULL OR c.merged_into IS NOT NULL)"
#define ADDRESSES \
  ADDRESS(5) "," ADDRESS(6) "," ADDRESS(7) "," ADDRESS(8) "," PREFS
#define CONTACT                                                           \
  " LEFT JOIN vc_contact c ON c.tenant_id = ?1 AND c.id = k.contact_id"

static const char SQL_PAGE_LIST[] =
  "SELECT k.contact_id, k.vars," GONE "," ADDRESSES
  " FROM vc_campaign_recipient k" CONTACT
  " WHERE k.tenant_id = ?1 AND k.campaign_id = ?2 AND k.contact_id > ?3"
  " AND k.state = 0 ORDER BY k.contact_id LIMIT ?4";
static const char SQL_PAGE_TAG[] =
  "SELECT k.contact_id, NULL," GONE "," ADDRESSES
  " FROM vc_contact_tag k" CONTACT
  " WHERE k.tenant_id = ?1 AND k.tag = ?2 AND k.contact_id > ?3"
  " ORDER BY k.contact_id LIMIT ?4";
/* One recipient again, for the next link after a failure. */
static const char SQL_ONE[] =
  "SELECT k.contact_id, k.vars," GONE "," ADDRESSES
  " FROM vc_campaign_recipient k" CONTACT
  " WHERE k.tenant_id = ?1 AND k.campaign_id = ?2 AND k.contact_id = ?3"
  " AND ?4 = ?4";
static const char SQL_VARS[] =
  "SELECT vars FROM vc_campaign WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_MESSAGE[] =
  "INSERT INTO vc_message (tenant_id, id, kind, channel_id, pinned,"
  " to_addr, subject, text_body, html_body, template_id, template_version,"
  " content_hash, status, segments, send_at, created_at, updated_at,"
  " category, contact_id, campaign_id, campaign_link)"
  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, '', 1, ?12, ?13,"
  " ?14, ?14, ?15, ?16, ?17, ?18)";
static const char SQL_RECIPIENT[] =
  "INSERT INTO vc_campaign_recipient (tenant_id, campaign_id, contact_id,"
  " state, link, message_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
  " ON CONFLICT (tenant_id, campaign_id, contact_id) DO UPDATE"
  " SET state = excluded.state, link = excluded.link,"
  " message_id = excluded.message_id";
static const char SQL_PROGRESS[] =
  "UPDATE vc_campaign SET cursor = ?3, fanout_done = ?4, base_at = ?5,"
  " base_n = ?6, total = total + ?7, queued = queued + ?8,"
  " failed = failed + ?9, skipped_consent = skipped_consent + ?10,"
  " skipped_address = skipped_address + ?11,"
  " deferred_quiet = deferred_quiet + ?12, expired = expired + ?13,"
  " open_count = open_count + ?14, updated_at = ?15"
  " WHERE tenant_id = ?1 AND id = ?2";
/* At the end time: the rest of a stored audience expires. */
static const char SQL_EXPIRE_REST[] =
  "UPDATE vc_campaign_recipient SET state = 5 WHERE tenant_id = ?1"
  " AND campaign_id = ?2 AND state = 0";

/* A recipient of the page: offsets into the arena, NONE when absent. */
typedef struct rcpt {
  size_t contact, vars, addr[VC_CAMPAIGN_CHAIN_MAX], timezone;
  size_t name, fields;          /* the contact's, for `contact` vars */
  size_t locale;                /* the contact's, for the template */
  int gone;
  int quiet_start, quiet_end;   /* VC_TENANT_KEEP: the tenant's */
} rcpt;

/* A template plan for one locale: the campaign's when it names one, else
 * the recipient's contact's ("" for none: the tenant's). */
#define LOCALE_PLANS 8
typedef struct locale_plan {
  char locale[VC__LOCALE_MAX + 1];
  vc__template_plan *plan;
} locale_plan;

/* Counter moves of the transaction in progress. */
typedef struct deltas {
  int64_t total, queued, failed, consent, address, quiet, expired, open;
} deltas;

typedef struct fanout {
  vc_ctx *ctx;
  vc_tenant *t;
  vc__db *db;
  vc__campaign_row row;
  vc__campaign_link links[VC_CAMPAIGN_CHAIN_MAX];
  size_t nlinks;
  /* Per link, the plans of the locales met so far (opened on first
   * use), replaced in turn once LOCALE_PLANS are open. */
  locale_plan plans[VC_CAMPAIGN_CHAIN_MAX][LOCALE_PLANS];
  unsigned plan_turn[VC_CAMPAIGN_CHAIN_MAX];
  cJSON *vars;                  /* the campaign's, or NULL */
  const vc__tz *tz;             /* the tenant's, for the send window */
  vc_buf arena;
  rcpt rows[PAGE];
  size_t n;
  deltas d;
  int64_t now;
  int ended;                    /* the end time was reached */
} fanout;

/* ---- the daily window ---------------------------------------------------- */

int64_t vc__campaign_window_open(const vc__tz *z, int64_t at,
                                 int start_min, int end_min)
{
  const int64_t day = 86400000, minute = 60000;
  vc__tm local, want;
  int64_t m;
  int inside;

  if (start_min == end_min || at < 0)
    return at;
  if (z == NULL) {
    int64_t midnight = at - at % day;
    m = (at - midnight) / minute;
    inside = start_min < end_min ? m >= start_min && m < end_min
                                 : m >= start_min || m < end_min;
    if (inside)
      return at;
    return m < start_min ? midnight + start_min * minute
                         : midnight + day + start_min * minute;
  }
  vc__tz_local(&local, z, at);
  m = local.hour * 60 + local.min;
  inside = start_min < end_min ? m >= start_min && m < end_min
                               : m >= start_min || m < end_min;
  if (inside)
    return at;
  /* Outside: the next start, today's or tomorrow's, in local time (a
   * start inside a DST gap opens when the gap ends). */
  memset(&want, 0, sizeof(want));
  want.year = local.year;
  want.month = local.month;
  want.day = local.day + (m < start_min ? 0 : 1);
  want.hour = start_min / 60;
  want.min = start_min % 60;
  return vc__tz_to_utc(z, &want);
}

/* ---- setup ---------------------------------------------------------------- */

static void fanout_close(fanout *f)
{
  for (size_t i = 0; i < VC_CAMPAIGN_CHAIN_MAX; i++)
    for (size_t j = 0; j < LOCALE_PLANS; j++)
      vc__template_plan_free(f->plans[i][j].plan);
  cJSON_Delete(f->vars);
  if (f->tz != NULL)
    vc__tz_release(f->ctx, f->tz);
  vc_buf_dispose(&f->arena);
  vc_tenant_free(f->t);
}

static int fanout_open(fanout *f, vc_ctx *ctx, vc__db *db,
                       const char *tenant_id, const char *campaign_id)
{
  vc__stmt *s;
  int rc;

  memset(f, 0, sizeof(*f));
  f->ctx = ctx;
  f->db = db;
  if ((rc = vc__tenant_load(&f->t, ctx, db, tenant_id)) < 0 ||
      (rc = vc__campaign_row_load(&f->row, db, tenant_id, campaign_id)) < 0 ||
      (rc = vc__campaign_chain_parse(f->links, &f->nlinks,
                                     f->row.chain)) < 0)
    return rc;
  if (f->row.window_start != f->row.window_end &&
      vc__tz_acquire(&f->tz, ctx, vc_tenant_timezone(f->t)) < 0) {
    /* A zone the system lost since it was checked: UTC, and say so. */
    VC_LOG(ctx, VC_LOG_WARN, "campaign %s: %s; send window in UTC",
           campaign_id, vc_error_last()->message);
    vc_error_clear();
    f->tz = NULL;
  }
  if ((rc = vc__db_query(&s, db, SQL_VARS, "tt", tenant_id,
                         campaign_id)) < 0)
    return rc;
  if ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW && !vc__stmt_is_null(s, 0)) {
    const char *v = vc__stmt_text(s, 0);
    rc = vc__json_parse(&f->vars, "campaign variables", v, strlen(v) + 1,
                        16, 1);
  }
  vc__stmt_done(s);
  return rc < 0 ? rc : 0;
}

/* The plan of `link` for a recipient whose contact's locale is `locale`
 * (NULL: none). The variant's fallback (language, then the tenant's
 * locale) happens when the plan opens. */
static int plan_of(vc__template_plan **out, fanout *f, size_t link,
                   const char *locale)
{
  const char *want = f->row.locale[0] ? f->row.locale : locale ? locale : "";
  locale_plan *lp = NULL;
  vc__template_request req;
  int rc;

  for (size_t i = 0; i < LOCALE_PLANS; i++) {
    locale_plan *p = &f->plans[link][i];
    if (p->plan != NULL && strcmp(p->locale, want) == 0) {
      *out = p->plan;
      return 0;
    }
    if (p->plan == NULL && lp == NULL)
      lp = p;
  }
  if (lp == NULL) {
    lp = &f->plans[link][f->plan_turn[link]++ % LOCALE_PLANS];
    vc__template_plan_free(lp->plan);
    lp->plan = NULL;
  }
  memset(&req, 0, sizeof(req));
  req.template_name = f->row.template_id;
  req.kind = f->links[link].channel_kind;
  req.locale = want[0] ? want : NULL;
  if ((rc = vc__template_plan_open(&lp->plan, f->t, f->db, &req)) < 0)
    return rc;
  /* A stored locale is canonical and at most VC__LOCALE_MAX bytes. */
  snprintf(lp->locale, sizeof(lp->locale), "%s", want);
  *out = lp->plan;
  return 0;
}

/* ---- reading recipients ---------------------------------------------- */

static size_t arena_add(fanout *f, const char *s)
{
  size_t at = f->arena.size;

  if (s == NULL)
    return NONE;
  if (vc__buf_put(&f->arena, s, strlen(s) + 1) < 0)
    return NONE - 1;
  return at;
}

static const char *arena_str(const fanout *f, size_t off)
{
  return off == NONE ? NULL : f->arena.ptr + off;
}

/* Prepare an audience query: ?1 tenant, ?2 key, ?3 contact id, ?4 a
 * number, ?5.. the links' address kinds. */
static int audience_query(vc__stmt **out, const fanout *f, const char *sql,
                          const char *key, const char *contact_id,
                          int64_t n)
{
  vc__stmt *s;
  int rc;

  if ((rc = vc__db_prepare(&s, f->db, sql)) < 0)
    return rc;
  if ((rc = vc__stmt_bind_text(s, 1, f->row.tenant_id)) == 0 &&
      (rc = vc__stmt_bind_text(s, 2, key)) == 0 &&
      (rc = vc__stmt_bind_text(s, 3, contact_id)) == 0)
    rc = vc__stmt_bind_int64(s, 4, n);
  for (size_t i = 0; i < VC_CAMPAIGN_CHAIN_MAX && rc == 0; i++)
    rc = vc__stmt_bind_int64(s, 5 + (int)i,
                             i < f->nlinks ? f->links[i].addr_kind : 0);
  if (rc < 0) {
    vc__stmt_done(s);
    return rc;
  }
  *out = s;
  return 0;
}

/* Read rows of `s` (already bound) into the page. */
static int read_rows(fanout *f, vc__stmt *s, int *short_page)
{
  int rc;

  f->n = 0;
  f->arena.size = 0;
  *short_page = 1;
  while (f->n < PAGE && f->arena.size < ARENA_MAX &&
         (rc = vc__stmt_step(s)) == VC_STORAGE_ROW) {
    rcpt *r = &f->rows[f->n];
    r->contact = arena_add(f, vc__stmt_text(s, 0));
    r->vars = arena_add(f, vc__stmt_text(s, 1));
    r->gone = (int)vc__stmt_int64(s, 2);
    for (size_t i = 0; i < VC_CAMPAIGN_CHAIN_MAX; i++)
      r->addr[i] = arena_add(f, vc__stmt_text(s, 3 + (int)i));
    r->timezone = arena_add(f, vc__stmt_text(s, 7));
    r->quiet_start = vc__stmt_is_null(s, 8) ? VC_TENANT_KEEP
                                            : (int)vc__stmt_int64(s, 8);
    r->quiet_end = vc__stmt_is_null(s, 9) ? VC_TENANT_KEEP
                                          : (int)vc__stmt_int64(s, 9);
    r->name = arena_add(f, vc__stmt_text(s, 10));
    r->fields = NONE;
    if (!vc__stmt_is_null(s, 11) && strcmp(vc__stmt_text(s, 11), "{}") != 0)
      r->fields = arena_add(f, vc__stmt_text(s, 11));
    r->locale = arena_add(f, vc__stmt_text(s, 12));
    if (f->arena.ptr == NULL || r->contact == NONE - 1 ||
        r->vars == NONE - 1 || r->addr[0] == NONE - 1 ||
        r->addr[1] == NONE - 1 || r->addr[2] == NONE - 1 ||
        r->addr[3] == NONE - 1 || r->timezone == NONE - 1 ||
        r->name == NONE - 1 || r->fields == NONE - 1 ||
        r->locale == NONE - 1)
      return vc_error_set_oom();
    f->n++;
  }
  if (f->n == PAGE || f->arena.size >= ARENA_MAX)
    *short_page = 0;
  else if (rc < 0)
    return rc;
  return 0;
}

static int read_page(fanout *f, int *short_page)
{
  int tag = f->row.audience == VC_AUDIENCE_TAG;
  vc__stmt *s;
  int rc;

  if ((rc = audience_query(&s, f, tag ? SQL_PAGE_TAG : SQL_PAGE_LIST,
                           tag ? f->row.tag : f->row.id, f->row.cursor,
                           PAGE)) < 0)
    return rc;
  rc = read_rows(f, s, short_page);
  vc__stmt_done(s);
  return rc;
}

/* ---- one recipient ------------------------------------------------------- */

/* The due time of the next message: throttle, then window. */
static int64_t next_slot(fanout *f)
{
  vc__campaign_row *r = &f->row;
  int64_t n = r->queued + f->d.queued, due, open;

  if (r->rate > 0)
    due = r->base_at + (int64_t)((double)(n - r->base_n) * 1000.0 / r->rate);
  else
    due = r->base_at;
  if (due < f->now) {
    /* Behind (a pause, a slow fan-out): space from now, not burst. */
    r->base_at = due = f->now;
    r->base_n = n;
  }
  open = vc__campaign_window_open(f->tz, due, r->window_start,
                                  r->window_end);
  if (open != due) {
    r->base_at = due = open;
    r->base_n = n;
  }
  return due;
}

/* The contact's name and custom fields as one object, the `contact`
 * variable of the template ({{contact.name}}, {{contact.city}}); NULL
 * when the contact has neither. A custom field named "name" yields to
 * the contact's name. */
static int contact_vars(cJSON **out, const fanout *f, const rcpt *r)
{
  const char *name = arena_str(f, r->name), *fields = arena_str(f, r->fields);
  cJSON *c = NULL;
  int rc;

  *out = NULL;
  if (name == NULL && fields == NULL)
    return 0;
  if (fields != NULL) {
    /* Stored by the contact module, which checked it: a parse failure
     * here is corruption, reported like a bad variable. */
    if ((rc = vc__json_parse(&c, "contact fields", fields,
                             VC_CAMPAIGN_VARS_MAX, 16, 1)) < 0)
      return rc;
  } else if ((c = cJSON_CreateObject()) == NULL) {
    return vc_error_set_oom();
  }
  if (name != NULL) {
    cJSON_DeleteItemFromObjectCaseSensitive(c, "name");
    if (cJSON_AddStringToObject(c, "name", name) == NULL) {
      cJSON_Delete(c);
      return vc_error_set_oom();
    }
  }
  *out = c;
  return 0;
}

/* The variables of one recipient: its own, over the campaign's, over
 * its contact's (as `contact`). NULL when it has none of its own: the
 * campaign's are used as they are. */
static int recipient_vars(cJSON **out, const fanout *f, const rcpt *r)
{
  const char *json = arena_str(f, r->vars);
  cJSON *own = NULL, *contact = NULL, *it;
  int rc;

  *out = NULL;
  if ((rc = contact_vars(&contact, f, r)) < 0)
    return rc;
  if (json == NULL && contact == NULL)
    return 0;
  if (json != NULL)
    rc = vc__json_parse(&own, "recipient variables", json,
                        VC_CAMPAIGN_VARS_MAX, 16, 1);
  else if ((own = cJSON_CreateObject()) == NULL)
    rc = vc_error_set_oom();
  if (rc < 0) {
    cJSON_Delete(contact);
    return rc;
  }
  for (it = f->vars ? f->vars->child : NULL; it != NULL; it = it->next)
    if (!cJSON_HasObjectItem(own, it->string) &&
        !cJSON_AddItemReferenceToObject(own, it->string, it))
      goto oom;
  if (contact != NULL && !cJSON_HasObjectItem(own, "contact")) {
    if (!cJSON_AddItemToObject(own, "contact", contact))
      goto oom;
    contact = NULL;
  }
  cJSON_Delete(contact);  /* NULL, or yielding to the caller's own */
  *out = own;
  return 0;
oom:
  cJSON_Delete(contact);
  cJSON_Delete(own);
  return vc_error_set_oom();
}

static int insert_message(fanout *f, const char *id, size_t link,
                          const char *contact_id, const char *to,
                          const vc__template_output *o, int segments,
                          int64_t due)
{
  const vc__campaign_link *l = &f->links[link];
  vc__stmt *s;
  int rc;

  if ((rc = vc__db_prepare(&s, f->db, SQL_MESSAGE)) < 0)
    return rc;
  if ((rc = vc__stmt_bind_text(s, 1, f->row.tenant_id)) < 0 ||
      (rc = vc__stmt_bind_text(s, 2, id)) < 0 ||
      (rc = vc__stmt_bind_int64(s, 3, l->channel_kind)) < 0 ||
      (rc = vc__stmt_bind_text(s, 4, l->channel_id[0] ? l->channel_id
                                                      : NULL)) < 0 ||
      (rc = vc__stmt_bind_int64(s, 5, l->channel_id[0] != '\0')) < 0 ||
      (rc = vc__stmt_bind_text(s, 6, to)) < 0 ||
      (rc = vc__stmt_bind_textn(s, 7, o->subject.ptr, o->subject.size)) < 0 ||
      (rc = vc__stmt_bind_textn(s, 8, o->text.ptr, o->text.size)) < 0 ||
      (rc = vc__stmt_bind_textn(s, 9, o->html.ptr, o->html.size)) < 0 ||
      (rc = vc__stmt_bind_text(s, 10, o->template_id)) < 0 ||
      (rc = vc__stmt_bind_int64(s, 11, o->version)) < 0 ||
      (rc = vc__stmt_bind_int64(s, 12, segments)) < 0 ||
      (rc = vc__stmt_bind_int64(s, 13, due)) < 0 ||
      (rc = vc__stmt_bind_int64(s, 14, f->now)) < 0 ||
      (rc = vc__stmt_bind_int64(s, 15, f->row.category)) < 0 ||
      (rc = vc__stmt_bind_text(s, 16, contact_id)) < 0 ||
      (rc = vc__stmt_bind_text(s, 17, f->row.id)) < 0 ||
      (rc = vc__stmt_bind_int64(s, 18, (int64_t)link)) < 0)
    goto done;
  rc = vc__stmt_step(s);
  rc = rc < 0 ? rc : 0;
done:
  vc__stmt_done(s);
  if (rc == 0) {
    vc__msg_change c = { f->row.tenant_id, id, l->channel_kind,
                         f->row.category, 0, VC_MSG_QUEUED, l->channel_id,
                         to, f->row.id, contact_id, segments, 0, f->now,
                         f->now };
    rc = vc__msg_on_change(f->db, f->ctx, &c);
  }
  return rc;
}

static int set_recipient(fanout *f, const char *contact_id, int state,
                         int link, const char *message_id)
{
  return vc__db_run(f->db, SQL_RECIPIENT, "tttiit", f->row.tenant_id,
                    f->row.id, contact_id, (int64_t)state, (int64_t)link,
                    message_id);
}

/* Render and queue on `link`. 1 queued, 0 refused (counted failed). */
static int queue_on(fanout *f, const rcpt *r, size_t link, int64_t due)
{
  const char *contact_id = arena_str(f, r->contact);
  vc__template_output o;
  vc__template_plan *plan;
  char id[VC_ID_SIZE];
  cJSON *own = NULL;
  int segments = 0, rc;

  if ((rc = plan_of(&plan, f, link, arena_str(f, r->locale))) < 0)
    return rc;
  rc = recipient_vars(&own, f, r);
  if (rc == 0)
    rc = vc__template_plan_render(&o, plan, own ? own : f->vars);
  cJSON_Delete(own);
  if (rc == 0 &&
      (rc = vc__msg_check_body(f->links[link].channel_kind, o.subject.ptr,
                               o.text.ptr, o.html.ptr, &segments)) < 0)
    vc__template_output_dispose(&o);
  if (rc == VC_ENOMEM)
    return rc;
  if (rc < 0) {
    /* This recipient's variables do not fit the template. */
    VC_LOG(f->ctx, VC_LOG_INFO, "campaign %s: recipient %s: %s", f->row.id,
           contact_id, vc_error_last()->message);
    vc_error_clear();
    f->d.failed++;
    return set_recipient(f, contact_id, VC__RCPT_FAILED, (int)link, NULL);
  }
  if ((rc = vc__new_id(f->ctx, id)) == 0 &&
      (rc = insert_message(f, id, link, contact_id,
                           arena_str(f, r->addr[link]), &o, segments,
                           due)) == 0 &&
      (rc = vc__job_enqueue(f->db, f->ctx, f->row.tenant_id,
                            VC__JOB_MESSAGE_SEND, id,
                            f->row.state == VC_CAMPAIGN_PAUSED
                              ? due + VC__CAMPAIGN_HOLD : due, NULL)) == 0)
    rc = set_recipient(f, contact_id, VC__RCPT_MESSAGE, (int)link, id);
  vc__template_output_dispose(&o);
  if (rc < 0)
    return rc;
  f->d.queued++;
  return 1;
}

/* The end of the contact's quiet hours at or after `at`: the rules of
 * vc__quiet_next_open() with the settings the page query read. */
static int quiet_open(int64_t *open, const fanout *f, const rcpt *r,
                      int64_t at)
{
  vc__contact_prefs p;

  memset(&p, 0, sizeof(p));
  if (r->timezone != NONE)
    snprintf(p.timezone, sizeof(p.timezone), "%s",
             arena_str(f, r->timezone));
  p.quiet_start_min = r->quiet_start;
  p.quiet_end_min = r->quiet_end;
  return vc__quiet_open_for(open, f->t, &p, f->row.category, at);
}

/*
 * One recipient from link `first` on: 1 queued, 0 not (its row says
 * why), < 0 on failure. `fresh`: the fan-out's first visit (throttled
 * slot); else a fallback (due now).
 */
static int recipient(fanout *f, const rcpt *r, size_t first, int fresh)
{
  const char *contact_id = arena_str(f, r->contact);
  int refused = 0, rc;
  int64_t due, open;

  for (size_t i = first; i < f->nlinks && !r->gone; i++) {
    const char *to = arena_str(f, r->addr[i]);
    if (to == NULL)
      continue;
    rc = vc__consent_check(f->db, f->t, contact_id,
                           f->links[i].channel_kind, f->row.category, to);
    if (rc == VC_ECONSENT) {
      vc_error_clear();
      refused = 1;
      continue;
    }
    if (rc < 0)
      return rc;
    due = fresh ? next_slot(f)
                : vc__campaign_window_open(f->tz, f->now,
                                           f->row.window_start,
                                           f->row.window_end);
    if (f->row.end_at > 0 && due >= f->row.end_at) {
      if (fresh)
        f->ended = 1; /* every later slot is later still */
      else {
        f->d.expired++;
        return set_recipient(f, contact_id, VC__RCPT_EXPIRED, -1, NULL);
      }
      return 0;
    }
    if ((rc = quiet_open(&open, f, r, due)) < 0)
      return rc;
    if (open > due) {
      f->d.quiet++;
      if (f->row.end_at > 0 && open >= f->row.end_at) {
        f->d.expired++;
        return set_recipient(f, contact_id, VC__RCPT_EXPIRED, -1, NULL);
      }
      due = open;
    }
    return queue_on(f, r, i, due);
  }
  if (refused)
    f->d.consent++;
  else
    f->d.address++;
  rc = set_recipient(f, contact_id,
                     refused ? VC__RCPT_NO_CONSENT : VC__RCPT_NO_ADDRESS, -1,
                     NULL);
  return rc < 0 ? rc : 0;
}

/* ---- a page ---------------------------------------------------------------- */

static int save_progress(fanout *f, const char *cursor, int done)
{
  const vc__campaign_row *r = &f->row;

  return vc__db_run(f->db, SQL_PROGRESS, "ttti" "iiii" "iiiiii" "i",
                    r->tenant_id, r->id, cursor, (int64_t)done, r->base_at,
                    r->base_n, f->d.total, f->d.queued, f->d.failed,
                    f->d.consent, f->d.address, f->d.quiet, f->d.expired,
                    f->d.open, f->now);
}

/* Process one page in one transaction: 1 when more remain, 0 when the
 * fan-out is over (or the campaign no longer running). */
static int page(fanout *f)
{
  char cursor[sizeof(f->row.cursor)];
  int short_page = 0, done, rc;
  size_t i;

  if ((rc = vc__db_begin(f->db)) < 0)
    return rc;
  /* The row again, inside the transaction: state and cursor are
   * whatever the last commit (of any process) left. */
  if ((rc = vc__campaign_row_load(&f->row, f->db, f->row.tenant_id,
                                  f->row.id)) < 0)
    goto fail;
  if (f->row.state != VC_CAMPAIGN_RUNNING || f->row.fanout_done) {
    vc__db_rollback(f->db);
    return 0;
  }
  memset(&f->d, 0, sizeof(f->d));
  f->now = vc__now(f->ctx);
  f->ended = f->row.end_at > 0 && f->now >= f->row.end_at;
  snprintf(cursor, sizeof(cursor), "%s", f->row.cursor);
  if (!f->ended && (rc = read_page(f, &short_page)) < 0)
    goto fail;
  for (i = 0; i < f->n && !f->ended; i++) {
    const rcpt *r = &f->rows[i];
    if ((rc = recipient(f, r, 0, 1)) < 0)
      goto fail;
    if (f->ended)
      break;
    f->d.total++;
    f->d.open += rc;
    snprintf(cursor, sizeof(cursor), "%s", arena_str(f, r->contact));
  }
  done = f->ended || (short_page && i == f->n);
  if (f->ended && f->row.audience != VC_AUDIENCE_TAG) {
    if ((rc = vc__db_run(f->db, SQL_EXPIRE_REST, "tt", f->row.tenant_id,
                         f->row.id)) < 0)
      goto fail;
    f->d.expired += vc__db_changes(f->db);
    f->d.total += vc__db_changes(f->db);
  }
  if ((rc = save_progress(f, cursor, done)) < 0)
    goto fail;
  if (done) {
    f->row.fanout_done = 1;
    f->row.open += f->d.open;
    if ((rc = vc__campaign_complete_if_done(f->db, f->ctx, &f->row)) < 0)
      goto fail;
  }
  if ((rc = vc__db_commit(f->db)) < 0)
    goto fail;
  return !done;
fail:
  vc__db_rollback(f->db);
  return rc;
}

static int64_t mono_ns(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int run_fanout(vc_ctx *ctx, const vc__job *job, vc__job_outcome *out)
{
  int64_t started = mono_ns();
  int more = 0, rc;
  vc__db *db;
  fanout f;

  if ((rc = vc__db_acquire(&db, ctx->store)) < 0)
    return rc;
  rc = fanout_open(&f, ctx, db, job->tenant_id, job->subject_id);
  if (rc == VC_ENOTFOUND) {
    /* The campaign or its tenant is gone: nothing to do. */
    vc_error_clear();
    out->result = VC__JOB_DONE;
    rc = 0;
    goto out;
  }
  for (int pages = 0; rc >= 0 && pages < PAGES_PER_RUN; pages++) {
    if ((rc = more = page(&f)) <= 0 ||
        mono_ns() - started > RUN_BUDGET_NS)
      break;
  }
  if (rc >= 0) {
    /* Yield to the other jobs, then go on from the cursor. */
    out->result = more ? VC__JOB_RETRY : VC__JOB_DONE;
    out->retry_at = vc__now(ctx);
    rc = 0;
  }
out:
  fanout_close(&f);
  vc__db_release(db);
  return rc;
}

/* ---- the next link after a failure ---------------------------------- */

int vc__campaign_fallback(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                          const char *campaign_id, const char *contact_id,
                          int first_link)
{
  int short_page, rc;
  vc__stmt *s;
  fanout *f;

  if ((f = vc__calloc(1, sizeof(*f))) == NULL)
    return vc_error_set_oom();
  if ((rc = fanout_open(f, ctx, db, tenant_id, campaign_id)) < 0)
    goto out;
  if ((f->row.state != VC_CAMPAIGN_RUNNING &&
       f->row.state != VC_CAMPAIGN_PAUSED) ||
      first_link >= (int)f->nlinks) {
    /* Nothing left to try: the recipient failed. */
    rc = set_recipient(f, contact_id, VC__RCPT_FAILED, first_link - 1, NULL);
    goto out;
  }
  if ((rc = audience_query(&s, f, SQL_ONE, campaign_id, contact_id, 0)) < 0)
    goto out;
  rc = read_rows(f, s, &short_page);
  vc__stmt_done(s);
  if (rc < 0 || f->n == 0)
    goto out;
  f->now = vc__now(ctx);
  if ((rc = recipient(f, &f->rows[0], (size_t)first_link, 0)) < 0)
    goto out;
  if (rc == 0) {
    /* No further usable link: the failure the caller counts is the
     * recipient's end (whatever stopped the other links). */
    memset(&f->d, 0, sizeof(f->d));
    if ((rc = set_recipient(f, contact_id, VC__RCPT_FAILED,
                            first_link - 1, NULL)) < 0)
      goto out;
  }
  /* Counters other than open (the caller's) move here. */
  {
    int queued = rc;
    const vc__campaign_row *r = &f->row;
    rc = vc__db_run(db, SQL_PROGRESS, "ttti" "iiii" "iiiiii" "i",
                    r->tenant_id, r->id, r->cursor, (int64_t)r->fanout_done,
                    r->base_at, r->base_n, (int64_t)0, f->d.queued,
                    f->d.failed, f->d.consent, f->d.address, f->d.quiet,
                    f->d.expired, (int64_t)0, f->now);
    if (rc == 0)
      rc = queued;
  }
out:
  fanout_close(f);
  vc__free(f);
  return rc;
}

int vc__campaign_register(vc_ctx *ctx)
{
  return vc__job_register(ctx, VC__JOB_CAMPAIGN_FANOUT, run_fanout);
}
