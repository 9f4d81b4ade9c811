/*
 * Messages: validation, rendering and the durable enqueue; lookup, list,
 * cancel; and the ranked status changes the dispatcher and webhooks make.
 */
#include "core/common.h"
#include "core/audit.h"
#include "core/buf.h"
#include "core/codec.h"
#include "core/crypto.h"
#include "core/ctx.h"
#include "core/event.h"
#include "core/iter.h"
#include "core/job.h"
#include "core/json.h"
#include "core/tenant.h"
#include "core/text.h"
#include "store/group.h"
#include "address.h"
#include "campaign.h"
#include "consent.h"
#include "contact.h"
#include "message.h"
#include "msg_hooks.h"
#include "quiet.h"
#include "rule.h"
#include "route.h"
#include "segments.h"

#include <cJSON.h>
#include <stddef.h>
#include <stdio.h>

#define ADDRESS_MAX 320
#define SUBJECT_MAX 998
#define SMS_TEXT_MAX_CHARS 1600
/* Bytes. The adapter applies its provider's limit: Telegram splits a
 * long text over several messages (count_parts), WhatsApp refuses it. */
#define CHAT_TEXT_MAX (64 * 1024)
#define EMAIL_BODY_MAX (1024 * 1024)
#define METADATA_MAX 8192
#define METADATA_DEPTH 16
#define VARS_MAX (64 * 1024)
#define IDEMPOTENCY_MAX 255
#define FILENAME_MAX_LEN 255
#define URL_MAX_LEN 2048

/* ---- statuses ------------------------------------------------------- */

const char *vc_message_status_name(int status)
{
  static const char *const names[] = {
    "unknown", "queued", "sending", "sent", "delivered", "read", "failed",
    "undelivered", "bounced", "canceled"
  };

  return status >= VC_MSG_QUEUED && status <= VC_MSG_CANCELED
           ? names[status] : names[0];
}

static int terminal(int s)
{
  return s == VC_MSG_READ || s == VC_MSG_FAILED ||
         s == VC_MSG_UNDELIVERED || s == VC_MSG_BOUNCED ||
         s == VC_MSG_CANCELED;
}

int vc__msg_status_may_follow(int from, int to)
{
  if (from == to)
    return 0;
  if (from == VC_MSG_DELIVERED)
    return to == VC_MSG_READ;
  if (terminal(from))
    return 0;
  /* queued < sending < sent < delivered, and any of them may end in a
   * failure state; a delivery report may overtake `sent`. */
  return to > from;
}

int vc__msg_status_dispatch_final(int s)
{
  return s >= VC_MSG_SENT;
}

/* ---- the handle ------------------------------------------------------ */

struct vc_message {
  char id[VC_ID_SIZE];
  char channel_id[VC_ID_SIZE];
  char contact_id[VC_ID_SIZE];
  int status, kind, error, segments, attempts, template_version, category;
  char *to, *provider_id, *provider_code, *error_message;
  int64_t created_at, updated_at;
};

#define COLUMNS \
  "id, COALESCE(channel_id, ''), status, kind, error_code, segments," \
  " attempts, template_version, to_addr, COALESCE(provider_id, '')," \
  " COALESCE(provider_code, ''), COALESCE(error_message, '')," \
  " created_at, updated_at, category, COALESCE(contact_id, '')"

static const char SQL_BY_ID[] =
  "SELECT " COLUMNS " FROM vc_message WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_PAGE[] =
  "SELECT " COLUMNS " FROM vc_message WHERE tenant_id = ?1"
  " AND (?2 = '' OR id < ?2) AND (?3 = 0 OR status = ?3)"
  " AND (?4 = '' OR channel_id = ?4) AND (?5 = 0 OR created_at >= ?5)"
  " AND (?6 = 0 OR created_at < ?6) ORDER BY id DESC LIMIT 50";

void vc_message_free(vc_message *m)
{
  if (m == NULL)
    return;
  vc__free(m->to);
  vc__free(m->provider_id);
  vc__free(m->provider_code);
  vc__free(m->error_message);
  vc__free(m);
}

static int message_from_stmt(vc_message **out, vc__stmt *s)
{
  vc_message *m = vc__calloc(1, sizeof(*m));

  if (m == NULL)
    return vc_error_set_oom();
  snprintf(m->id, sizeof(m->id), "%s", vc__stmt_text(s, 0));
  snprintf(m->channel_id, sizeof(m->channel_id), "%s", vc__stmt_text(s, 1));
  m->status = (int)vc__stmt_int64(s, 2);
  m->kind = (int)vc__stmt_int64(s, 3);
  m->error = (int)vc__stmt_int64(s, 4);
  m->segments = (int)vc__stmt_int64(s, 5);
  m->attempts = (int)vc__stmt_int64(s, 6);
  m->template_version = (int)vc__stmt_int64(s, 7);
  m->to = vc__strdup(vc__stmt_text(s, 8));
  m->provider_id = vc__strdup(vc__stmt_text(s, 9));
  m->provider_code = vc__strdup(vc__stmt_text(s, 10));
  m->error_message = vc__strdup(vc__stmt_text(s, 11));
  m->created_at = vc__stmt_int64(s, 12);
  m->updated_at = vc__stmt_int64(s, 13);
  m->category = (int)vc__stmt_int64(s, 14);
  snprintf(m->contact_id, sizeof(m->contact_id), "%s", vc__stmt_text(s, 15));
  if (!m->to || !m->provider_id || !m->provider_code || !m->error_message) {
    vc_message_free(m);
    return vc_error_set_oom();
  }
  *out = m;
  return 0;
}

const char *vc_message_id(const vc_message *m) { return m ? m->id : NULL; }
int vc_message_status(const vc_message *m) { return m ? m->status : 0; }
int vc_message_kind(const vc_message *m) { return m ? m->kind : 0; }
const char *vc_message_channel_id(const vc_message *m)
{
  return m ? m->channel_id : NULL;
}
const char *vc_message_to(const vc_message *m) { return m ? m->to : NULL; }
const char *vc_message_provider_id(const vc_message *m)
{
  return m ? m->provider_id : NULL;
}
int vc_message_error(const vc_message *m) { return m ? m->error : 0; }
const char *vc_message_provider_code(const vc_message *m)
{
  return m ? m->provider_code : NULL;
}
const char *vc_message_error_message(const vc_message *m)
{
  return m ? m->error_message : NULL;
}
int vc_message_segments(const vc_message *m) { return m ? m->segments : 0; }
int vc_message_attempts(const vc_message *m) { return m ? m->attempts : 0; }
int vc_message_template_version(const vc_message *m)
{
  return m ? m->template_version : 0;
}
int64_t vc_message_created_at(const vc_message *m)
{
  return m ? m->created_at : 0;
}
int64_t vc_message_updated_at(const vc_message *m)
{
  return m ? m->updated_at : 0;
}
int vc_message_category(const vc_message *m) { return m ? m->category : 0; }
const char *vc_message_contact_id(const vc_message *m)
{
  return m ? m->contact_id : NULL;
}

static int load(vc_message **out, vc__db *db, const char *tenant_id,
                const char *id)
{
  vc__stmt *s;
  int rc;

  if ((rc = vc__db_query(&s, db, SQL_BY_ID, "tt", tenant_id, id)) < 0)
    return rc;
  rc = vc__stmt_step(s);
  if (rc == VC_STORAGE_ROW)
    rc = message_from_stmt(out, s);
  else if (rc == VC_STORAGE_DONE)
    rc = vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                       "no message '%.32s'", id);
  vc__stmt_done(s);
  return rc;
}

int vc_message_lookup(vc_message **out, vc_tenant *t, const char *id)
{
  vc_ctx *ctx;
  vc__db *db;
  int rc;

  VC_ASSERT_ARG(out);
  *out = NULL;
  VC_ASSERT_ARG(t);
  if (!vc__ulid_valid(id))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "message id is not a valid id");
  ctx = vc__tenant_ctx(t);
  if ((rc = vc__db_acquire(&db, ctx->store)) < 0)
    return rc;
  rc = load(out, db, vc_tenant_id(t), id);
  vc__db_release(db);
  return rc;
}

/* ---- status changes -------------------------------------------------- */

/* What vc__msg_change needs of a message, read before and returned by
 * the guarded update. */
#define CHANGE_COLUMNS \
  " kind, category, COALESCE(channel_id, ''), COALESCE(campaign_id, '')," \
  " COALESCE(contact_id, ''), segments, created_at"
static const char SQL_STATUS_GET[] =
  "SELECT status," CHANGE_COLUMNS " FROM vc_message"
  " WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_STATUS_SET[] =
  "UPDATE vc_message SET status = ?3,"
  " channel_id = COALESCE(?4, channel_id),"
  " provider_id = CASE WHEN provider_id IS NULL OR provider_id = ''"
  "  THEN ?5 ELSE provider_id END,"
  " error_code = CASE WHEN ?6 = 0 THEN error_code ELSE ?6 END,"
  " provider_code = COALESCE(?7, provider_code),"
  " error_message = COALESCE(?8, error_message), updated_at = ?9"
  " WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_STATUS_SET_IF[] =
  "UPDATE vc_message SET status = ?3,"
  " channel_id = COALESCE(?4, channel_id),"
  " provider_id = CASE WHEN provider_id IS NULL OR provider_id = ''"
  "  THEN ?5 ELSE provider_id END,"
  " error_code = CASE WHEN ?6 = 0 THEN error_code ELSE ?6 END,"
  " provider_code = COALESCE(?7, provider_code),"
  " error_message = COALESCE(?8, error_message), updated_at = ?9"
  " WHERE tenant_id = ?1 AND id = ?2 AND status = ?10"
  " RETURNING 0," CHANGE_COLUMNS;

/* The message.<status> event of a change from `previous`. */
static int status_event(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                        const char *message_id, int previous,
                        const vc__msg_status_change *c)
{
  char type[40], payload[160];

  snprintf(type, sizeof(type), "message.%s",
           vc_message_status_name(c->status));
  snprintf(payload, sizeof(payload),
           "{\"status\":\"%s\",\"previous\":\"%s\",\"error\":%d}",
           vc_message_status_name(c->status),
           vc_message_status_name(previous), c->error);
  return vc__event_append(db, ctx, tenant_id, type, message_id, payload);
}

/* A message's columns of a vc__msg_change, from a row of CHANGE_COLUMNS
 * after column 0. */
typedef struct change_row {
  char channel_id[VC_ID_SIZE], campaign_id[VC_ID_SIZE];
  char contact_id[VC_ID_SIZE];
  vc__msg_change c;
} change_row;

static void change_read(change_row *r, vc__stmt *s)
{
  memset(r, 0, sizeof(*r));
  r->c.kind = (int)vc__stmt_int64(s, 1);
  r->c.category = (int)vc__stmt_int64(s, 2);
  snprintf(r->channel_id, sizeof(r->channel_id), "%s", vc__stmt_text(s, 3));
  snprintf(r->campaign_id, sizeof(r->campaign_id), "%s",
           vc__stmt_text(s, 4));
  snprintf(r->contact_id, sizeof(r->contact_id), "%s", vc__stmt_text(s, 5));
  r->c.segments = (int)vc__stmt_int64(s, 6);
  r->c.created_at = vc__stmt_int64(s, 7);
}

/* The change made: its event, then the modules that follow messages. */
static int changed_to(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                      const char *message_id, int previous,
                      const vc__msg_status_change *c, change_row *r,
                      int64_t now)
{
  int rc;

  if ((rc = status_event(db, ctx, tenant_id, message_id, previous, c)) < 0)
    return rc;
  r->c.tenant_id = tenant_id;
  r->c.message_id = message_id;
  r->c.from = previous;
  r->c.to = c->status;
  r->c.channel_id = c->channel_id ? c->channel_id : r->channel_id;
  r->c.to_addr = "";
  r->c.campaign_id = r->campaign_id;
  r->c.contact_id = r->contact_id;
  r->c.error = c->error;
  r->c.at = now;
  /* A campaign's message: its counters move in this transaction. */
  if (r->campaign_id[0] != '\0' &&
      (rc = vc__campaign_on_status(db, ctx, tenant_id, r->campaign_id,
                                   message_id, previous, c->status)) < 0)
    return rc;
  return vc__msg_on_change(db, ctx, &r->c);
}

int vc__msg_set_status(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                       const char *message_id,
                       const vc__msg_status_change *c, int *changed)
{
  change_row row;
  vc__stmt *s;
  int64_t now = vc__now(ctx);
  int current = 0, rc;

  *changed = 0;
  if ((rc = vc__db_query(&s, db, SQL_STATUS_GET, "tt", tenant_id,
                         message_id)) < 0)
    return rc;
  rc = vc__stmt_step(s);
  if (rc == VC_STORAGE_ROW) {
    current = (int)vc__stmt_int64(s, 0);
    change_read(&row, s);
  }
  vc__stmt_done(s);
  if (rc == VC_STORAGE_DONE)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                         "no message '%.32s'", message_id);
  if (rc < 0)
    return rc;
  if (!vc__msg_status_may_follow(current, c->status))
    return 0;
  if ((rc = vc__db_run(db, SQL_STATUS_SET, "ttittitti", tenant_id,
                       message_id, (int64_t)c->status, c->channel_id,
                       c->provider_id, (int64_t)c->error, c->provider_code,
                       c->error_message, now)) < 0 ||
      (rc = changed_to(db, ctx, tenant_id, message_id, current, c, &row,
                       now)) < 0)
    return rc;
  *changed = 1;
  return 0;
}

int vc__msg_set_status_from(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                            const char *message_id, int expected,
                            const vc__msg_status_change *c, int *changed)
{
  change_row row;
  vc__stmt *s;
  int64_t now = vc__now(ctx);
  int rc;

  *changed = 0;
  if (!vc__msg_status_may_follow(expected, c->status))
    return vc__msg_set_status(db, ctx, tenant_id, message_id, c, changed);
  if ((rc = vc__db_query(&s, db, SQL_STATUS_SET_IF, "ttittittii", tenant_id,
                         message_id, (int64_t)c->status, c->channel_id,
                         c->provider_id, (int64_t)c->error, c->provider_code,
                         c->error_message, now, (int64_t)expected)) < 0)
    return rc;
  rc = vc__stmt_step(s);
  if (rc == VC_STORAGE_ROW)
    change_read(&row, s);
  vc__stmt_done(s);
  if (rc == VC_STORAGE_DONE)  /* it moved meanwhile: decide on its status */
    return vc__msg_set_status(db, ctx, tenant_id, message_id, c, changed);
  if (rc < 0)
    return rc;
  if ((rc = changed_to(db, ctx, tenant_id, message_id, expected, c, &row,
                       now)) < 0)
    return rc;
  *changed = 1;
  return 0;
}

/* ---- a batch of the dispatcher's outcomes ------------------------------ */

/* (id, provider id) of up to VC__DB_IDS messages: ids in ?1..?64, as
 * vc__stmt_bind_ids binds them (a NULL id matches no row), provider ids
 * in ?65..?128. */
#define ID_PAIRS \
  "(?1, ?65), (?2, ?66), (?3, ?67), (?4, ?68), (?5, ?69), (?6, ?70)," \
  " (?7, ?71), (?8, ?72), (?9, ?73), (?10, ?74), (?11, ?75), (?12, ?76)," \
  " (?13, ?77), (?14, ?78), (?15, ?79), (?16, ?80), (?17, ?81)," \
  " (?18, ?82), (?19, ?83), (?20, ?84), (?21, ?85), (?22, ?86)," \
  " (?23, ?87), (?24, ?88), (?25, ?89), (?26, ?90), (?27, ?91)," \
  " (?28, ?92), (?29, ?93), (?30, ?94), (?31, ?95), (?32, ?96)," \
  " (?33, ?97), (?34, ?98), (?35, ?99), (?36, ?100), (?37, ?101)," \
  " (?38, ?102), (?39, ?103), (?40, ?104), (?41, ?105), (?42, ?106)," \
  " (?43, ?107), (?44, ?108), (?45, ?109), (?46, ?110), (?47, ?111)," \
  " (?48, ?112), (?49, ?113), (?50, ?114), (?51, ?115), (?52, ?116)," \
  " (?53, ?117), (?54, ?118), (?55, ?119), (?56, ?120), (?57, ?121)," \
  " (?58, ?122), (?59, ?123), (?60, ?124), (?61, ?125), (?62, ?126)," \
  " (?63, ?127), (?64, ?128)"
/* SQL_STATUS_SET_IF for the set. A campaign's message is left to the
 * single path, which moves the campaign's counters. */
static const char SQL_STATUS_SET_MANY[] =
  "UPDATE vc_message SET status = ?129,"
  " channel_id = COALESCE(?130, channel_id),"
  " provider_id = CASE WHEN provider_id IS NULL OR provider_id = ''"
  "  THEN v.column2 ELSE provider_id END,"
  " error_code = CASE WHEN ?131 = 0 THEN error_code ELSE ?131 END,"
  " provider_code = COALESCE(?132, provider_code),"
  " error_message = COALESCE(?133, error_message), updated_at = ?134"
  " FROM (VALUES " ID_PAIRS ") AS v"
  " WHERE vc_message.tenant_id = ?135 AND vc_message.id = v.column1"
  " AND vc_message.status = ?136"
  " AND COALESCE(vc_message.campaign_id, '') = ''"
  " RETURNING id," CHANGE_COLUMNS;
/* The changed messages' events, in the order of their ids' parameters. */
static const char SQL_STATUS_EVENTS[] =
  "INSERT INTO vc_event (tenant_id, type, subject_id, payload, created_at)"
  " SELECT ?65, ?66, column1, ?67, ?68 FROM (VALUES " VC__MSG_IDS_ROWS ")"
  " WHERE column1 IS NOT NULL";

/* Whether the tenant's automation rules act on message events. */
static int rules_on_messages(int *out, vc__db *db, vc_ctx *ctx,
                             const char *tenant_id)
{
  vc__rule_set *set;
  int rc;

  *out = 0;
  if ((rc = vc__rule_set_get(&set, db, ctx, tenant_id)) < 0)
    return rc;
  if (set != NULL) {
    *out = (set->triggers & (1u << VC_RULE_ON_MESSAGE)) != 0;
    vc__rule_set_release(ctx, set);
  }
  return 0;
}

/* The UPDATE of the set: rows[k] for each item it moved (changed = 1).
 * Returns how many moved, or < 0. */
static int set_many_update(vc__db *db, const char *tenant_id, int expected,
                           const vc__msg_status_change *c,
                           vc__msg_status_item *items, size_t n,
                           change_row *rows, int64_t now)
{
  const char *ids[VC__DB_IDS];
  size_t hint = 0;
  int moved = 0, rc;
  vc__stmt *s;

  for (size_t i = 0; i < n; i++)
    ids[i] = items[i].message_id;
  if ((rc = vc__db_prepare(&s, db, SQL_STATUS_SET_MANY)) < 0)
    return rc;
  rc = vc__stmt_bind_ids(s, ids, n);
  for (size_t i = 0; i < VC__DB_IDS && rc == 0; i++)
    rc = i < n && items[i].provider_id != NULL
           ? vc__stmt_bind_text(s, VC__DB_IDS + 1 + (int)i,
                                items[i].provider_id)
           : vc__stmt_bind_null(s, VC__DB_IDS + 1 + (int)i);
  if (rc == 0 &&
      (rc = vc__stmt_bind_int64(s, 129, c->status)) == 0 &&
      (rc = c->channel_id ? vc__stmt_bind_text(s, 130, c->channel_id)
                          : vc__stmt_bind_null(s, 130)) == 0 &&
      (rc = vc__stmt_bind_int64(s, 131, c->error)) == 0 &&
      (rc = c->provider_code ? vc__stmt_bind_text(s, 132, c->provider_code)
                             : vc__stmt_bind_null(s, 132)) == 0 &&
      (rc = c->error_message ? vc__stmt_bind_text(s, 133, c->error_message)
                             : vc__stmt_bind_null(s, 133)) == 0 &&
      (rc = vc__stmt_bind_int64(s, 134, now)) == 0 &&
      (rc = vc__stmt_bind_text(s, 135, tenant_id)) == 0 &&
      (rc = vc__stmt_bind_int64(s, 136, expected)) == 0) {
    while ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW) {
      const char *id = vc__stmt_text(s, 0);
      /* Rows come in about the items' order: look from the last match. */
      for (size_t k = 0; k < n; k++) {
        size_t j = (hint + k) % n;
        if (!items[j].changed && strcmp(items[j].message_id, id) == 0) {
          items[j].changed = 1;
          change_read(&rows[j], s);
          hint = j + 1;
          moved++;
          break;
        }
      }
    }
  }
  vc__stmt_done(s);
  return rc < 0 ? rc : moved;
}

/* The events of the items the UPDATE moved, in the items' order. */
static int set_many_events(vc__db *db, const char *tenant_id, int expected,
                           const vc__msg_status_change *c,
                           const vc__msg_status_item *items, size_t n,
                           int64_t now)
{
  const char *ids[VC__DB_IDS];
  char type[40], payload[160];
  size_t m = 0;
  vc__stmt *s;
  int rc;

  for (size_t i = 0; i < n; i++)
    if (items[i].changed)
      ids[m++] = items[i].message_id;
  snprintf(type, sizeof(type), "message.%s",
           vc_message_status_name(c->status));
  snprintf(payload, sizeof(payload),
           "{\"status\":\"%s\",\"previous\":\"%s\",\"error\":%d}",
           vc_message_status_name(c->status),
           vc_message_status_name(expected), c->error);
  if ((rc = vc__db_prepare(&s, db, SQL_STATUS_EVENTS)) < 0)
    return rc;
  if ((rc = vc__stmt_bind_ids(s, ids, m)) == 0 &&
      (rc = vc__stmt_bind_text(s, VC__DB_IDS + 1, tenant_id)) == 0 &&
      (rc = vc__stmt_bind_text(s, VC__DB_IDS + 2, type)) == 0 &&
      (rc = vc__stmt_bind_text(s, VC__DB_IDS + 3, payload)) == 0 &&
      (rc = vc__stmt_bind_int64(s, VC__DB_IDS + 4, now)) == 0)
    rc = vc__stmt_step(s);
  vc__stmt_done(s);
  return rc < 0 ? rc : 0;
}

int vc__msg_set_status_many(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                            int expected, const vc__msg_status_change *c,
                            vc__msg_status_item *items, size_t n)
{
  vc__msg_change changes[VC__DB_IDS];
  change_row *rows = NULL;
  int64_t now = vc__now(ctx);
  int rules = 1, moved = 0, rc;
  size_t m = 0;

  for (size_t i = 0; i < n; i++)
    items[i].changed = 0;
  if (n > VC__DB_IDS)
    return vc__error_set(VC_ERRCLASS_INTERNAL, VC_ERROR,
                         "status change of %zu messages at once", n);
  if (n > 1 && vc__msg_status_may_follow(expected, c->status) &&
      (rc = rules_on_messages(&rules, db, ctx, tenant_id)) < 0)
    return rc;
  if (n > 1 && !rules && vc__msg_status_may_follow(expected, c->status)) {
    if ((rows = vc__calloc(n, sizeof(*rows))) == NULL)
      return vc_error_set_oom();
    if ((moved = set_many_update(db, tenant_id, expected, c, items, n, rows,
                                 now)) < 0 ||
        (moved > 0 &&
         (rc = set_many_events(db, tenant_id, expected, c, items, n,
                               now)) < 0)) {
      vc__free(rows);
      return moved < 0 ? moved : rc;
    }
    for (size_t i = 0; i < n; i++) {
      vc__msg_change *h;
      if (!items[i].changed)
        continue;
      h = &changes[m++];
      *h = rows[i].c;
      h->tenant_id = tenant_id;
      h->message_id = items[i].message_id;
      h->from = expected;
      h->to = c->status;
      h->channel_id = c->channel_id ? c->channel_id : rows[i].channel_id;
      h->to_addr = "";
      h->campaign_id = rows[i].campaign_id; /* "": the UPDATE's guard */
      h->contact_id = rows[i].contact_id;
      h->error = c->error;
      h->at = now;
    }
    rc = m > 0 ? vc__msg_on_changes(db, ctx, changes, m) : 0;
    vc__free(rows);
    if (rc < 0)
      return rc;
  }
  /* The rest one by one: it moved meanwhile, or belongs to a campaign. */
  for (size_t i = 0; i < n; i++) {
    vc__msg_status_change one = *c;
    if (items[i].changed)
      continue;
    one.provider_id = items[i].provider_id;
    if ((rc = vc__msg_set_status_from(db, ctx, tenant_id,
                                      items[i].message_id, expected, &one,
                                      &items[i].changed)) < 0)
      return rc;
  }
  return 0;
}

/* ---- sending --------------------------------------------------------- */

/* What a spec becomes once validated and rendered. */
typedef struct prepared {
  int kind;
  vc__route_channel channel;   /* pinned channel, when the spec names one */
  int pinned;
  char to[ADDRESS_MAX + 1];
  vc__rendered body;           /* subject, text, html, template */
  int segments;
  int category;                /* a vc_category */
  char contact_id[VC_ID_SIZE]; /* "" when no contact holds `to` */
  int64_t due;                 /* send_at, or the end of quiet hours */
  int deferred;                /* quiet hours moved `due` */
  int required;                /* a carrier-required reply: no consent
                                  check, no quiet hours */
  char hash[65];
} prepared;

/* A caller's spec in the latest layout: members its version does not
 * have are zero. */
static size_t spec_size(unsigned int version)
{
  return version >= 2 ? sizeof(vc_message_spec)
                      : offsetof(vc_message_spec, category);
}

static void spec_latest(vc_message_spec *out, const vc_message_spec *in)
{
  memset(out, 0, sizeof(*out));
  memcpy(out, in, spec_size(in->version));
}

static void prepared_free(prepared *p)
{
  vc__rendered_free(&p->body);
}

/* Normalize the recipient for the message's kind. */
static int check_recipient(prepared *p, const char *to)
{
  vc_buf email = VC_BUF_INIT;
  int rc;

  if ((rc = vc__check_text("recipient", to, ADDRESS_MAX, 1)) < 0)
    return rc;
  switch (p->kind) {
  case VC_CHANNEL_SMS:
  case VC_CHANNEL_VOICE:
    return vc__addr_phone(p->to, to, 0);
  case VC_CHANNEL_EMAIL:
    if ((rc = vc__addr_email(&email, to)) == 0)
      snprintf(p->to, sizeof(p->to), "%s", email.ptr);
    vc_buf_dispose(&email);
    return rc;
  case VC_CHANNEL_CHAT: {
    /* The chat provider decides the address form; accept either. */
    char tg[VC__ADDR_TELEGRAM_MAX], wa[VC__ADDR_WHATSAPP_MAX];
    if (vc__addr_telegram(tg, to) == 0) {
      snprintf(p->to, sizeof(p->to), "%s", tg);
      return 0;
    }
    if (vc__addr_whatsapp(wa, to) == 0) {
      snprintf(p->to, sizeof(p->to), "%s", wa);
      return 0;
    }
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "recipient is not a chat id");
  }
  default:
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "unknown channel kind %d", p->kind);
  }
}

/* A JSON object of at most `max` bytes, or NULL. */
static int check_attachments(const vc_message_spec *s)
{
  size_t total = 0;
  int rc;

  if (s->nattachments > VC_MESSAGE_MAX_ATTACHMENTS)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                         "more than %d attachments",
                         VC_MESSAGE_MAX_ATTACHMENTS);
  if (s->nattachments > 0 && s->attachments == NULL)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "nattachments is set but attachments is NULL");
  for (size_t i = 0; i < s->nattachments; i++) {
    const vc_attachment *a = &s->attachments[i];
    if ((rc = vc__check_token("attachment filename", a->filename,
                              FILENAME_MAX_LEN, "A-Za-z0-9_",
                              "A-Za-z0-9_. ()+-")) < 0 ||
        (rc = vc__check_token("attachment content type", a->content_type,
                              127, "a-z", "a-zA-Z0-9/.+-")) < 0)
      return rc;
    if ((a->data == NULL) == (a->url == NULL))
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "attachment %zu needs either data or a URL", i);
    if (a->url != NULL &&
        ((rc = vc__check_text("attachment URL", a->url, URL_MAX_LEN, 1)) <
           0 || strncmp(a->url, "https://", 8) != 0))
      return rc < 0 ? rc : vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                                         "attachment URL must be https");
    total += a->data ? a->len : 0;
    if (total > VC_MESSAGE_MAX_ATTACHMENT_BYTES)
      return vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                           "attachments are larger than %d bytes",
                           VC_MESSAGE_MAX_ATTACHMENT_BYTES);
  }
  return 0;
}

/* Body limits per kind, after rendering. */
int vc__msg_check_body(int kind, const char *subject, const char *text,
                       const char *html, int *segments)
{
  int rc;

  *segments = 0;
  if ((text == NULL || text[0] == '\0') && (html == NULL || html[0] == '\0'))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "the message has no body");
  if (subject != NULL &&
      ((rc = vc__check_text("subject", subject, SUBJECT_MAX, 0)) < 0 ||
       strpbrk(subject, "\r\n") != NULL))
    return rc < 0 ? rc : vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                                       "subject has a line break");
  switch (kind) {
  case VC_CHANNEL_EMAIL:
    if ((rc = vc__check_text("text body", text, EMAIL_BODY_MAX, 0)) < 0 ||
        (rc = vc__check_text("HTML body", html, EMAIL_BODY_MAX, 0)) < 0)
      return rc;
    return 0;
  case VC_CHANNEL_SMS: {
    vc__sms_info info;
    if (text == NULL)
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "an SMS needs a text body");
    if ((rc = vc__sms_analyze(&info, text, strlen(text))) < 0)
      return rc;
    if (info.characters > SMS_TEXT_MAX_CHARS)
      return vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                           "SMS text is longer than %d characters",
                           SMS_TEXT_MAX_CHARS);
    *segments = (int)info.segments;
    return 0;
  }
  default:
    if (text == NULL)
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "a chat message needs a text body");
    return vc__check_text("text body", text, CHAT_TEXT_MAX, 1);
  }
}

static int check_body(prepared *p)
{
  return vc__msg_check_body(p->kind, p->body.subject, p->body.text,
                            p->body.html, &p->segments);
}

/* Feed one field into the content hash, length-prefixed. */
static void hash_field(vc_buf *b, const void *data, size_t len)
{
  vc__buf_printf(b, "%zu:", len);
  if (len > 0)
    vc__buf_put(b, data, len);
}

static void hash_str(vc_buf *b, const char *s)
{
  if (s == NULL)
    vc__buf_puts(b, "-");
  else
    hash_field(b, s, strlen(s));
}

/* The identity of a request, for idempotency: what the caller asked. */
static int content_hash(char out[65], const vc_message_spec *s)
{
  uint8_t digest[32];
  vc_buf b = VC_BUF_INIT;
  int rc;

  vc__buf_printf(&b, "v1|%d|%lld|", s->kind, (long long)s->send_at);
  if (s->category != 0 || s->contact_id != NULL) {
    vc__buf_printf(&b, "c%d|", s->category);
    hash_str(&b, s->contact_id);
  }
  hash_str(&b, s->channel);
  hash_str(&b, s->to);
  hash_str(&b, s->from);
  hash_str(&b, s->subject);
  hash_str(&b, s->text);
  hash_str(&b, s->html);
  hash_str(&b, s->template_name);
  hash_str(&b, s->locale);
  hash_str(&b, s->vars_json);
  hash_str(&b, s->metadata_json);
  for (size_t i = 0; i < s->nattachments; i++) {
    const vc_attachment *a = &s->attachments[i];
    hash_str(&b, a->filename);
    hash_str(&b, a->content_type);
    hash_str(&b, a->url);
    if (a->data != NULL)
      hash_field(&b, a->data, a->len);
  }
  if (b.ptr == NULL)
    return vc_error_set_oom();
  rc = vc__digest(digest, VC__MD_SHA256, b.ptr, b.size);
  vc_buf_dispose(&b);
  if (rc == 0)
    vc__hex_encode(out, digest, sizeof(digest));
  return rc;
}

/* Who the message is for: the contact given, or the one holding the
 * recipient's address ("" when none does). */
static int find_contact(prepared *p, vc_tenant *t, vc__db *db,
                        const vc_message_spec *s)
{
  int rc;

  if (s->contact_id != NULL)
    rc = vc__contact_resolve(p->contact_id, db, vc_tenant_id(t),
                             s->contact_id);
  else
    rc = vc__contact_for_recipient(p->contact_id, db, vc_tenant_id(t),
                                   p->kind, p->to);
  return rc < 0 ? rc : 0;
}

/* The template locale: the spec's, else the recipient contact's, else
 * NULL (the tenant's). `buf` holds a contact's. */
static int template_locale(const char **out, char buf[36], prepared *p,
                           vc_tenant *t, vc__db *db, const vc_message_spec *s)
{
  vc__contact_prefs prefs;
  int rc;

  *out = s->locale;
  if (s->locale != NULL || p->contact_id[0] == '\0')
    return 0;
  if ((rc = vc__contact_prefs_get(&prefs, db, vc_tenant_id(t),
                                  p->contact_id)) < 0)
    return rc;
  if (prefs.locale[0] != '\0') {
    memcpy(buf, prefs.locale, sizeof(prefs.locale));
    *out = buf;
  }
  return 0;
}

/* Whether the recipient may get the message, and when. */
static int recipient_rules_on(prepared *p, vc_tenant *t, vc__db *db,
                              const vc_message_spec *s, int64_t now)
{
  int64_t asked;
  int rc;

  p->category = s->category != 0 ? s->category
                : p->body.category != 0 ? p->body.category
                : VC_CATEGORY_TRANSACTIONAL;
  if (vc_category_name(p->category) == NULL)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "unknown category %d", s->category);
  if (!p->required &&
      (rc = vc__consent_check(db, t, p->contact_id, p->kind, p->category,
                              p->to)) < 0)
    return rc;
  asked = s->send_at > now ? s->send_at : now;
  if (p->required) {
    p->due = asked;
    return 0;
  }
  rc = vc__quiet_next_open(&p->due, db, t, p->contact_id, p->category,
                           asked);
  p->deferred = rc == 0 && p->due > asked;
  return rc;
}

/* Everything a send decides before it writes, on `db`, a connection the
 * caller holds (its reads in one snapshot when the caller began one). */
static int prepare(prepared *p, vc_tenant *t, vc__db *db,
                   const vc_message_spec *s, int64_t now, int required)
{
  int rc;

  memset(p, 0, sizeof(*p));
  p->required = required;
  if (s->channel != NULL) {
    if ((rc = vc__route_lookup_on(&p->channel, db, t, s->channel)) < 0)
      return rc;
    if (s->kind != 0 && s->kind != p->channel.kind)
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "channel '%.64s' is not of kind %d", s->channel,
                           s->kind);
    p->kind = p->channel.kind;
    p->pinned = 1;
  } else {
    p->kind = s->kind;
  }
  if (p->kind < VC_CHANNEL_EMAIL || p->kind > VC_CHANNEL_CHAT)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "kind must be email, sms or chat (or a channel)");
  if ((rc = check_recipient(p, s->to)) < 0 ||
      (rc = vc__check_text("sender", s->from, ADDRESS_MAX, 0)) < 0 ||
      (rc = vc__json_check_object("metadata", s->metadata_json,
                                  METADATA_MAX, METADATA_DEPTH)) < 0 ||
      (rc = vc__json_check_object("template variables", s->vars_json,
                                  VARS_MAX, VC_TEMPLATE_VARS_DEPTH)) < 0 ||
      (rc = check_attachments(s)) < 0 ||
      (rc = vc__check_text("idempotency key", s->idempotency_key,
                           IDEMPOTENCY_MAX, 0)) < 0)
    return rc;
  if (s->send_at < 0)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "send_at is negative");
  if ((rc = find_contact(p, t, db, s)) < 0)
    return rc;
  if (s->template_name != NULL) {
    char contact_locale[36];
    const char *locale;
    if (s->text != NULL || s->html != NULL || s->subject != NULL)
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "give a template or a raw body, not both");
    if ((rc = template_locale(&locale, contact_locale, p, t, db, s)) < 0)
      return rc;
    rc = vc__route_render_on(&p->body, db, t, s->template_name, p->kind,
                             locale, s->vars_json);
  } else {
    if (s->vars_json != NULL || s->locale != NULL)
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "variables and locale need a template");
    rc = vc__rendered_raw(&p->body, s->subject, s->text, s->html);
  }
  if (rc < 0 || (rc = check_body(p)) < 0 ||
      (rc = recipient_rules_on(p, t, db, s, now)) < 0)
    return rc;
  /* The hash only tells a reused idempotency key's content apart: a
   * message without a key stores none (as campaign messages do). */
  if (s->idempotency_key == NULL)
    return 0;
  return content_hash(p->hash, s);
}

static const char SQL_IDEM_GET[] =
  "SELECT id, content_hash FROM vc_message"
  " WHERE tenant_id = ?1 AND idempotency_key = ?2";
static const char SQL_INSERT[] =
  "INSERT INTO vc_message (tenant_id, id, kind, channel_id, pinned,"
  " to_addr, from_addr, subject, text_body, html_body, metadata,"
  " template_id, template_version, idempotency_key, content_hash, status,"
  " segments, send_at, created_at, updated_at, attachments, category,"
  " contact_id, consent_exempt)"
  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,"
  " ?15, 1, ?16, ?17, ?18, ?18, ?19, ?20, ?21, ?22)";
static const char SQL_ATTACH[] =
  "INSERT INTO vc_message_attachment (tenant_id, message_id, seq, filename,"
  " content_type, data, url) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";

/* An earlier message with the same key: 1 and its id, or 0. */
static int find_idempotent(vc__db *db, const char *tenant_id,
                           const char *key, const char *hash,
                           char id_out[VC_ID_SIZE])
{
  vc__stmt *s;
  int rc;

  if ((rc = vc__db_query(&s, db, SQL_IDEM_GET, "tt", tenant_id, key)) < 0)
    return rc;
  rc = vc__stmt_step(s);
  if (rc == VC_STORAGE_ROW) {
    if (strcmp(vc__stmt_text(s, 1), hash) != 0)
      rc = vc__error_set(VC_ERRCLASS_INVALID, VC_ECONFLICT,
                         "idempotency key reused with different content");
    else {
      snprintf(id_out, VC_ID_SIZE, "%s", vc__stmt_text(s, 0));
      rc = 1;
    }
  } else if (rc == VC_STORAGE_DONE) {
    rc = 0;
  }
  vc__stmt_done(s);
  return rc;
}

/* `defer`: NULL to run the modules' hooks here, else the change is left
 * in it for the caller to hand to vc__msg_on_changes with others. */
static int insert(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                  const char *id, const prepared *p,
                  const vc_message_spec *s, int64_t now,
                  vc__msg_change *defer)
{
  int64_t due = p->due;
  char payload[96];
  int rc;

  rc = vc__db_run(db, SQL_INSERT, "ttitittttttti" "ttiiii" "iti", tenant_id,
                  id,
                  (int64_t)p->kind, p->pinned ? p->channel.id : NULL,
                  (int64_t)p->pinned, p->to, s->from, p->body.subject,
                  p->body.text, p->body.html, s->metadata_json,
                  p->body.template_id[0] ? p->body.template_id : NULL,
                  (int64_t)p->body.template_version, s->idempotency_key,
                  p->hash, (int64_t)p->segments, due, now,
                  (int64_t)s->nattachments, (int64_t)p->category,
                  p->contact_id[0] ? p->contact_id : NULL,
                  (int64_t)p->required);
  for (size_t i = 0; rc == 0 && i < s->nattachments; i++) {
    const vc_attachment *a = &s->attachments[i];
    if (a->data != NULL)
      rc = vc__db_run(db, SQL_ATTACH, "ttittbn", tenant_id, id, (int64_t)i,
                      a->filename, a->content_type, a->data, a->len);
    else
      rc = vc__db_run(db, SQL_ATTACH, "ttittnt", tenant_id, id, (int64_t)i,
                      a->filename, a->content_type, a->url);
  }
  snprintf(payload, sizeof(payload), "{\"status\":\"queued\",\"kind\":%d}",
           p->kind);
  if (rc == 0)
    rc = vc__job_enqueue(db, ctx, tenant_id, VC__JOB_MESSAGE_SEND, id, due,
                         NULL);
  if (rc == 0)
    rc = vc__event_append(db, ctx, tenant_id, "message.queued", id,
                          payload);
  if (rc == 0) {
    vc__msg_change c = { tenant_id, id, p->kind, p->category, 0,
                         VC_MSG_QUEUED, p->pinned ? p->channel.id : "",
                         p->to, "", p->contact_id, p->segments, 0, now,
                         now };
    if (defer != NULL)
      *defer = c;
    else
      rc = vc__msg_on_change(db, ctx, &c);
  }
  if (rc == 0 && p->deferred) {
    /* Counted by hosts and campaigns: held back by quiet hours. */
    snprintf(payload, sizeof(payload),
             "{\"reason\":\"quiet_hours\",\"due_at\":%lld}",
             (long long)due);
    rc = vc__event_append(db, ctx, tenant_id, "message.deferred", id,
                          payload);
  }
  return rc;
}

/* The store part of a send, run in a transaction shared with other
 * threads' sends (group commit). 1 when an earlier message has the
 * idempotency key: its id is then in w->id. */
typedef struct send_write {
  vc_ctx *ctx;
  const char *tenant_id;
  const prepared *p;
  const vc_message_spec *spec;
  int64_t now;
  vc__msg_change *defer;       /* see insert() */
  char new_id[VC_ID_SIZE];
  char id[VC_ID_SIZE];
  vc__msg_change change;       /* vc_message_send's, for flush_sends */
  int changed;                 /* it holds one: the message is new */
  /* The sending thread's audit actor: the write runs on whichever
   * thread leads its group. */
  char actor[VC_AUDIT_ACTOR_MAX + 1];
  char summary[80];            /* its audit row's, made before queueing */
} send_write;

static int write_message(vc__db *db, void *arg)
{
  send_write *w = arg;
  int rc;

  if (w->spec->idempotency_key != NULL &&
      (rc = find_idempotent(db, w->tenant_id, w->spec->idempotency_key,
                            w->p->hash, w->id)) != 0)
    return rc;
  memcpy(w->id, w->new_id, VC_ID_SIZE);
  return insert(db, w->ctx, w->tenant_id, w->id, w->p, w->spec, w->now,
                w->defer);
}

/* vc_message_send's write: the message, its job and events. Its audit
 * row (none for an idempotent replay, which changes nothing) and the
 * modules' hooks run in flush_sends, once for the group of sends that
 * share its transaction. */
static int write_send(vc__db *db, void *arg)
{
  send_write *w = arg;
  int rc;

  w->changed = 0;
  w->defer = &w->change;
  if ((rc = write_message(db, w)) != 0)
    return rc;
  w->changed = 1;
  return 0;
}

static int flush_some(vc__db *db, vc_ctx *ctx, const vc__msg_change *changes,
                      const vc__audit_row *rows, size_t n)
{
  int rc;

  if ((rc = vc__msg_on_changes(db, ctx, changes, n)) < 0)
    return rc;
  return vc__audit_rows(db, ctx, rows, n);
}

/* The hooks and audit rows of a group's new messages, up to 64 at a
 * time: a rollup row they share moves by one upsert, and their audit
 * rows go in by eight a statement. */
static int flush_sends(vc__db *db, void *const *args, size_t n)
{
  vc__msg_change changes[VC__DB_IDS];
  vc__audit_row rows[VC__DB_IDS];
  vc_ctx *ctx = ((const send_write *)args[0])->ctx;
  size_t k = 0;
  int rc;

  for (size_t i = 0; i < n; i++) {
    const send_write *w = args[i];
    if (!w->changed)
      continue;
    changes[k] = w->change;
    rows[k].tenant_id = w->tenant_id;
    rows[k].actor = w->actor;
    rows[k].action = "message.send";
    rows[k].entity_id = w->id;
    rows[k].summary_json = w->summary;
    if (++k == VC__DB_IDS) {
      if ((rc = flush_some(db, ctx, changes, rows, k)) < 0)
        return rc;
      k = 0;
    }
  }
  if (k > 0 && (rc = flush_some(db, ctx, changes, rows, k)) < 0)
    return rc;
  return 0;
}

int vc_message_send(char id_out[VC_ID_SIZE], vc_tenant *t,
                    const vc_message_spec *spec)
{
  vc_message_spec copy;
  send_write w;
  prepared p;
  vc__db *db;
  int rc, reading;

  VC_ASSERT_ARG(id_out);
  id_out[0] = '\0';
  VC_ASSERT_ARG(t);
  VC_ASSERT_ARG(spec);
  VC_CHECK_VERSION(spec, VC_MESSAGE_SPEC_VERSION, "vc_message_spec");
  spec_latest(&copy, spec);
  memset(&w, 0, sizeof(w));
  w.ctx = vc__tenant_ctx(t);
  w.tenant_id = vc_tenant_id(t);
  w.p = &p;
  w.spec = &copy;
  w.now = vc__now(w.ctx);
  snprintf(w.actor, sizeof(w.actor), "%s", vc_audit_actor());
  /* The reads (route, template, contact, consent, quiet hours) in one
   * snapshot: the WAL read lock is taken once, not around each. */
  if ((rc = vc__db_acquire(&db, w.ctx->store)) < 0) {
    memset(&p, 0, sizeof(p));
    goto out;
  }
  reading = vc__db_read_begin(db);
  rc = prepare(&p, t, db, &copy, w.now, 0);
  if (reading)
    vc__db_read_end(db);
  vc__db_release(db);
  if (rc < 0 || (rc = vc__new_id(w.ctx, w.new_id)) < 0)
    goto out;
  snprintf(w.summary, sizeof(w.summary),
           "{\"kind\":\"%s\",\"category\":\"%s\"}",
           vc_channel_kind_name(p.kind), vc_category_name(p.category));
  if ((rc = vc__store_write_flushed(w.ctx->store, write_send, flush_sends,
                                    &w)) < 0)
    goto out;
  memcpy(id_out, w.id, VC_ID_SIZE);
  if (rc == 0)
    vc_ctx_wakeup(w.ctx);
  rc = 0;
out:
  prepared_free(&p);
  return rc;
}

static int queue(char id_out[VC_ID_SIZE], vc__db *db, vc_tenant *t,
                 const vc_message_spec *spec, int required)
{
  vc_message_spec copy;
  send_write w;
  prepared p;
  int rc;

  id_out[0] = '\0';
  VC_CHECK_VERSION(spec, VC_MESSAGE_SPEC_VERSION, "vc_message_spec");
  spec_latest(&copy, spec);
  memset(&w, 0, sizeof(w));
  w.ctx = vc__tenant_ctx(t);
  w.tenant_id = vc_tenant_id(t);
  w.p = &p;
  w.spec = &copy;
  w.now = vc__now(w.ctx);
  if ((rc = prepare(&p, t, db, &copy, w.now, required)) < 0 ||
      (rc = vc__new_id(w.ctx, w.new_id)) < 0)
    goto out;
  /* A savepoint: a refusal leaves the caller's transaction as it was. */
  if ((rc = vc__db_begin(db)) < 0)
    goto out;
  if ((rc = write_message(db, &w)) < 0 || (rc = vc__db_commit(db)) < 0) {
    vc__db_rollback(db);
    goto out;
  }
  memcpy(id_out, w.id, VC_ID_SIZE);
  rc = 0;
out:
  prepared_free(&p);
  return rc;
}

int vc__message_queue(char id_out[VC_ID_SIZE], vc__db *db, vc_tenant *t,
                      const vc_message_spec *spec)
{
  return queue(id_out, db, t, spec, 0);
}

int vc__message_queue_required(char id_out[VC_ID_SIZE], vc__db *db,
                               vc_tenant *t, const vc_message_spec *spec)
{
  return queue(id_out, db, t, spec, 1);
}

/* Several sends in one write. A message whose idempotency check fails
 * fails alone: the check only reads, so the transaction goes on. */
typedef struct many_write {
  send_write *w;
  const int *prepared_rc;      /* messages refused before the store */
  char actor[VC_AUDIT_ACTOR_MAX + 1]; /* the caller's: see send_write */
  int *rc;
  size_t n;
} many_write;

static int write_many(vc__db *db, void *arg)
{
  many_write *m = arg;
  /* The new messages' hooks run 64 at a time: rollups they share move by
   * one upsert. */
  vc__msg_change changes[VC__DB_IDS];
  size_t nchanges = 0;
  int accepted = 0;

  for (size_t i = 0; i < m->n; i++) {
    int rc;
    if (m->prepared_rc[i] < 0)
      continue;
    m->w[i].defer = &changes[nchanges];
    rc = write_message(db, &m->w[i]);
    m->w[i].defer = NULL;
    if (rc < 0 && rc != VC_ECONFLICT)
      return rc; /* a store failure: the whole call fails */
    m->rc[i] = rc < 0 ? rc : 0;
    accepted += rc >= 0;
    if (rc == 0 && ++nchanges == VC__DB_IDS) {
      if ((rc = vc__msg_on_changes(db, m->w[0].ctx, changes, nchanges)) < 0)
        return rc;
      nchanges = 0;
    }
  }
  if (nchanges > 0) {
    int rc = vc__msg_on_changes(db, m->w[0].ctx, changes, nchanges);
    if (rc < 0)
      return rc;
  }
  if (accepted > 0) {
    char summary[64];
    int rc;
    snprintf(summary, sizeof(summary), "{\"count\":%d,\"refused\":%zu}",
             accepted, m->n - (size_t)accepted);
    if ((rc = vc__audit_as(db, m->w[0].ctx, m->w[0].tenant_id, m->actor,
                           "message.send_many", NULL, summary)) < 0)
      return rc;
  }
  return accepted;
}

int vc_message_send_many(vc_tenant *t, const vc_message_spec *specs,
                         size_t n, char (*ids)[VC_ID_SIZE], int *results)
{
  vc_message_spec *copies = NULL;
  send_write *w = NULL;
  prepared *p = NULL;
  int *rc = NULL, accepted = 0;
  many_write m;
  vc__db *db;
  vc_ctx *ctx;
  int64_t now;
  size_t stride;
  int reading;

  VC_ASSERT_ARG(t);
  VC_ASSERT_ARG(specs || n == 0);
  VC_ASSERT_ARG(ids || n == 0);
  if (n > VC_MESSAGE_SEND_MANY_MAX)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "at most %d messages per call",
                         VC_MESSAGE_SEND_MANY_MAX);
  if (n == 0)
    return 0;
  /* The array is of the caller's struct layout: the first element's
   * version gives its size, and every element must have that version. */
  VC_CHECK_VERSION(&specs[0], VC_MESSAGE_SPEC_VERSION, "vc_message_spec");
  stride = spec_size(specs[0].version);
  for (size_t i = 0; i < n; i++) {
    const vc_message_spec *s =
      (const vc_message_spec *)((const char *)specs + i * stride);
    ids[i][0] = '\0';
    if (s->version != specs[0].version)
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EVERSION,
                           "vc_message_spec %zu has version %u, not %u", i,
                           s->version, specs[0].version);
  }
  ctx = vc__tenant_ctx(t);
  copies = vc__calloc(n, sizeof(*copies));
  w = vc__calloc(n, sizeof(*w));
  p = vc__calloc(n, sizeof(*p));
  rc = vc__calloc(2 * n, sizeof(*rc));
  if (copies == NULL || w == NULL || p == NULL || rc == NULL) {
    accepted = vc_error_set_oom();
    goto out;
  }
  now = vc__now(ctx);
  /* Every message's reads (route, template, contact, consent, quiet
   * hours) on one connection in one snapshot: a lock per batch, not per
   * statement. The writes follow on whichever connection the group takes. */
  if ((accepted = vc__db_acquire(&db, ctx->store)) < 0)
    goto out;
  reading = vc__db_read_begin(db);
  for (size_t i = 0; i < n; i++) {
    spec_latest(&copies[i],
                (const vc_message_spec *)((const char *)specs + i * stride));
    w[i].ctx = ctx;
    w[i].tenant_id = vc_tenant_id(t);
    w[i].p = &p[i];
    w[i].spec = &copies[i];
    w[i].now = now;
    if ((rc[n + i] = prepare(&p[i], t, db, &copies[i], now, 0)) == 0)
      rc[n + i] = vc__new_id(ctx, w[i].new_id);
    rc[i] = rc[n + i];
  }
  if (reading)
    vc__db_read_end(db);
  vc__db_release(db);
  m.w = w;
  m.prepared_rc = rc + n;
  m.rc = rc;
  m.n = n;
  snprintf(m.actor, sizeof(m.actor), "%s", vc_audit_actor());
  if ((accepted = vc__store_write_grouped(ctx->store, write_many, &m)) < 0)
    goto out;
  for (size_t i = 0; i < n; i++)
    if (rc[i] == 0)
      memcpy(ids[i], w[i].id, VC_ID_SIZE);
  if (accepted > 0)
    vc_ctx_wakeup(ctx);
out:
  for (size_t i = 0; results != NULL && i < n; i++)
    results[i] = accepted < 0 ? accepted : rc[i];
  for (size_t i = 0; p != NULL && i < n; i++)
    prepared_free(&p[i]);
  vc__free(copies);
  vc__free(w);
  vc__free(p);
  vc__free(rc);
  return accepted;
}

/* ---- cancel ---------------------------------------------------------- */

static const char SQL_CANCEL_JOBS[] =
  "DELETE FROM vc_job WHERE tenant_id = ?1 AND subject_id = ?2"
  " AND kind = 'message.send'";

int vc_message_cancel(vc_tenant *t, const char *id)
{
  vc__msg_status_change c = { VC_MSG_CANCELED, NULL, NULL, VC_ECANCELED,
                              NULL, NULL };
  vc_message *m = NULL;
  const char *tenant_id;
  vc_ctx *ctx;
  vc__db *db;
  int rc, changed = 0;

  VC_ASSERT_ARG(t);
  if (!vc__ulid_valid(id))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "message id is not a valid id");
  ctx = vc__tenant_ctx(t);
  tenant_id = vc_tenant_id(t);
  if ((rc = vc__db_acquire(&db, ctx->store)) < 0)
    return rc;
  if ((rc = vc__db_begin(db)) < 0)
    goto release;
  if ((rc = load(&m, db, tenant_id, id)) < 0)
    goto fail;
  if (m->status != VC_MSG_QUEUED) {
    rc = vc__error_set(VC_ERRCLASS_INVALID, VC_ESTATE,
                       "message is %s: only a queued message can be "
                       "canceled", vc_message_status_name(m->status));
    goto fail;
  }
  if ((rc = vc__msg_set_status(db, ctx, tenant_id, id, &c, &changed)) < 0 ||
      (rc = vc__db_run(db, SQL_CANCEL_JOBS, "tt", tenant_id, id)) < 0 ||
      (rc = vc__audit(db, ctx, tenant_id, "message.cancel", id, NULL)) < 0 ||
      (rc = vc__db_commit(db)) < 0)
    goto fail;
  vc_ctx_wakeup(ctx);
  goto release;
fail:
  vc__db_rollback(db);
release:
  vc_message_free(m);
  vc__db_release(db);
  return rc;
}

/* ---- list -------------------------------------------------------------- */

typedef struct message_iter {
  vc__page_iter page;
  char tenant_id[VC_ID_SIZE];
  char channel[VC_ID_SIZE];
  int status;
  int64_t since, until;
} message_iter;

static int page_query(vc__stmt **out, vc__db *db, const vc__page_iter *p)
{
  const message_iter *it = (const message_iter *)p;

  return vc__db_query(out, db, SQL_PAGE, "ttitii", it->tenant_id,
                      p->base.cursor, (int64_t)it->status, it->channel,
                      it->since, it->until);
}

static int page_row(void **out, vc__stmt *s)
{
  return message_from_stmt((vc_message **)out, s);
}

static void page_row_free(void *row)
{
  vc_message_free(row);
}

static const char *page_row_key(const void *row)
{
  return ((const vc_message *)row)->id;
}

static const vc__page_ops MESSAGE_PAGES = {
  { "message", vc__page_iter_free }, page_query, page_row, page_row_free,
  page_row_key
};

int vc_message_list(vc_iter **out, vc_tenant *t, const vc_message_filter *f)
{
  message_iter *it;

  VC_ASSERT_ARG(out);
  *out = NULL;
  VC_ASSERT_ARG(t);
  VC_CHECK_VERSION(f, VC_MESSAGE_FILTER_VERSION, "vc_message_filter");
  if (f != NULL && f->after != NULL && f->after[0] != '\0' &&
      !vc__ulid_valid(f->after))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "cursor is not a message list cursor");
  if (f != NULL && f->channel != NULL && !vc__ulid_valid(f->channel))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "channel filter is not a channel id");
  if (f != NULL && (f->status < 0 || f->status > VC_MSG_CANCELED))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "unknown status %d", f->status);
  if ((it = vc__calloc(1, sizeof(*it))) == NULL)
    return vc_error_set_oom();
  vc__page_iter_init(&it->page, &MESSAGE_PAGES, vc__tenant_ctx(t)->store,
                     f != NULL ? f->after : NULL);
  snprintf(it->tenant_id, sizeof(it->tenant_id), "%s", vc_tenant_id(t));
  if (f != NULL) {
    snprintf(it->channel, sizeof(it->channel), "%s",
             f->channel ? f->channel : "");
    it->status = f->status;
    it->since = f->since;
    it->until = f->until;
  }
  *out = &it->page.base;
  return 0;
}

int vc_message_next(vc_message **out, vc_iter *base)
{
  void *row;
  int rc;

  VC_ASSERT_ARG(out);
  *out = NULL;
  if ((rc = vc__page_iter_next(&row, base, &MESSAGE_PAGES)) < 0)
    return rc;
  *out = row;
  return 0;
}

int vc_message_spec_init(vc_message_spec *s, unsigned int version)
{
  VC_INIT_STRUCT_SIZED(s, version, VC_MESSAGE_SPEC_VERSION, vc_message_spec,
                       spec_size(version), VC_MESSAGE_SPEC_INIT);
}

int vc_message_filter_init(vc_message_filter *f, unsigned int version)
{
  VC_INIT_STRUCT(f, version, VC_MESSAGE_FILTER_VERSION, vc_message_filter,
                 VC_MESSAGE_FILTER_INIT);
}
