/*
 * vc_stats_query: a window of the hourly rollups (stats.c) summed into
 * one JSON document. Every statement reads the rows of the window's
 * hours by the rollup's key (tenant, hour, ...), so the cost follows the
 * number of hours and dimensions, never the number of messages.
 */
#include "core/common.h"
#include "core/buf.h"
#include "core/tenant.h"
#include "core/ulid.h"
#include "core/ctx.h"
#include "stats.h"

#include "vyomcomm/call.h"
#include "vyomcomm/campaign.h"
#include "vyomcomm/channel.h"
#include "vyomcomm/message.h"
#include "vyomcomm/stats.h"

#include <cJSON.h>
#include <stdio.h>

int vc_stats_spec_init(vc_stats_spec *q, unsigned int version)
{
  VC_INIT_STRUCT(q, version, VC_STATS_SPEC_VERSION, vc_stats_spec,
                 VC_STATS_SPEC_INIT);
}

/* The statuses a message is counted into, in the order they are shown. */
static const int STATUSES[] = {
  VC_MSG_QUEUED, VC_MSG_SENT, VC_MSG_DELIVERED, VC_MSG_READ, VC_MSG_FAILED,
  VC_MSG_UNDELIVERED, VC_MSG_BOUNCED, VC_MSG_CANCELED
};
#define NSTATUS (VC_MSG_CANCELED + 1)

/* Final states of a call, in the order they are shown. */
static const int OUTCOMES[] = {
  VC_CALL_COMPLETED, VC_CALL_FAILED, VC_CALL_BUSY, VC_CALL_NO_ANSWER,
  VC_CALL_CANCELED
};
#define NOUTCOME (VC_CALL_CANCELED + 1)

typedef struct query {
  vc__db *db;
  const char *tid;
  int64_t from, to;
  int64_t step;          /* a point of the series, ms */
  int64_t first;         /* the first point's start */
  size_t npoints;
  const char *channel;   /* "" = all */
  const char *campaign;  /* "" = all */
  int oom;
  cJSON *root;
} query;

/* ---- JSON helpers: an allocation failure is remembered in q->oom ------- */

static cJSON *add_obj(query *q, cJSON *parent, const char *name)
{
  cJSON *o = cJSON_CreateObject();

  if (o != NULL &&
      !(name ? cJSON_AddItemToObject(parent, name, o)
             : cJSON_AddItemToArray(parent, o))) {
    cJSON_Delete(o);
    o = NULL;
  }
  q->oom |= o == NULL;
  return o;
}

static cJSON *add_arr(query *q, cJSON *parent, const char *name)
{
  cJSON *a = cJSON_AddArrayToObject(parent, name);

  q->oom |= a == NULL;
  return a;
}

static void add_num(query *q, cJSON *o, const char *name, double v)
{
  q->oom |= o == NULL || cJSON_AddNumberToObject(o, name, v) == NULL;
}

static void add_str(query *q, cJSON *o, const char *name, const char *v)
{
  q->oom |= o == NULL || cJSON_AddStringToObject(o, name, v) == NULL;
}

static void add_bool(query *q, cJSON *o, const char *name, int v)
{
  q->oom |= o == NULL || cJSON_AddBoolToObject(o, name, v) == NULL;
}

/* A ratio, or null when there is nothing to divide by. */
static void add_ratio(query *q, cJSON *o, const char *name, int64_t num,
                      int64_t den)
{
  if (den > 0)
    add_num(q, o, name, (double)num / (double)den);
  else
    q->oom |= o == NULL || cJSON_AddNullToObject(o, name) == NULL;
}

static void add_statuses(query *q, cJSON *o, const int64_t *n)
{
  for (size_t i = 0; i < VC_ARRAY_SIZE(STATUSES); i++)
    add_num(q, o, vc_message_status_name(STATUSES[i]),
            (double)n[STATUSES[i]]);
}

static int status_ok(int64_t s)
{
  return s >= VC_MSG_QUEUED && s <= VC_MSG_CANCELED;
}

/* The series point of an hour, or -1 outside the window. */
static long point_of(const query *q, int64_t hour)
{
  if (hour < q->from || hour >= q->to)
    return -1;
  return (long)((hour - q->first) / q->step);
}

/* Bind the common parameters: tenant, window, channel, campaign. */
static int run(vc__stmt **s, query *q, const char *sql)
{
  return vc__db_query(s, q->db, sql, "tiitt", q->tid, q->from, q->to,
                      q->channel, q->campaign);
}

/* ---- messages ----------------------------------------------------------- */

#define MSG_WHERE \
  " WHERE s.tenant_id = ?1 AND s.hour >= ?2 AND s.hour < ?3" \
  " AND (?4 = '' OR s.channel_id = ?4) AND (?5 = '' OR s.campaign_id = ?5)"

static const char SQL_MSG_SERIES[] =
  "SELECT s.hour, s.status, SUM(s.n) FROM vc_stats_message s" MSG_WHERE
  " GROUP BY s.hour, s.status";
static const char SQL_MSG_KIND[] =
  "SELECT s.kind, s.status, SUM(s.n) FROM vc_stats_message s" MSG_WHERE
  " GROUP BY s.kind, s.status ORDER BY s.kind";
static const char SQL_MSG_CHANNEL[] =
  "SELECT s.channel_id, COALESCE(c.name, ''), COALESCE(c.provider, ''),"
  " s.status, SUM(s.n) FROM vc_stats_message s LEFT JOIN vc_channel c"
  " ON c.tenant_id = s.tenant_id AND c.id = s.channel_id" MSG_WHERE
  " GROUP BY s.channel_id, c.name, c.provider, s.status"
  " ORDER BY s.channel_id";
static const char SQL_MSG_PROVIDER[] =
  "SELECT COALESCE(c.provider, ''), s.status, SUM(s.n)"
  " FROM vc_stats_message s LEFT JOIN vc_channel c"
  " ON c.tenant_id = s.tenant_id AND c.id = s.channel_id" MSG_WHERE
  " GROUP BY COALESCE(c.provider, ''), s.status"
  " ORDER BY COALESCE(c.provider, '')";

/*
 * Rows of (key, shown columns..., status, n) ordered by the key (column
 * 0): one object per key in `arr`, its statuses summed. `names` name the
 * `ncol` columns before the status ("kind" is shown by its name).
 */
static int grouped(query *q, cJSON *arr, const char *sql,
                   const char *const *names, int ncol, int *truncated)
{
  char key[128] = "";
  int64_t n[NSTATUS];
  cJSON *o = NULL;
  vc__stmt *s;
  int rc, count = 0;

  *truncated = 0;
  if ((rc = run(&s, q, sql)) < 0)
    return rc;
  memset(n, 0, sizeof(n));
  while ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW) {
    const char *k = vc__stmt_text(s, 0);
    int64_t st = vc__stmt_int64(s, ncol);

    if (o == NULL || strcmp(key, k ? k : "") != 0) {
      if (o != NULL)
        add_statuses(q, o, n);
      if (count++ == VC_STATS_LIST_MAX) {
        *truncated = 1;
        o = NULL;
        break;
      }
      snprintf(key, sizeof(key), "%s", k ? k : "");
      memset(n, 0, sizeof(n));
      o = add_obj(q, arr, NULL);
      for (int i = 0; i < ncol; i++) {
        if (strcmp(names[i], "kind") == 0)
          add_str(q, o, "kind",
                  vc_channel_kind_name((int)vc__stmt_int64(s, i)));
        else
          add_str(q, o, names[i], vc__stmt_text(s, i));
      }
    }
    if (status_ok(st))
      n[st] += vc__stmt_int64(s, ncol + 1);
  }
  if (o != NULL)
    add_statuses(q, o, n);
  vc__stmt_done(s);
  return rc < 0 ? rc : 0;
}

static int messages(query *q)
{
  static const char *const kind_names[] = { "kind" };
  static const char *const channel_names[] = {
    "channel_id", "name", "provider"
  };
  static const char *const provider_names[] = { "provider" };
  int64_t total[NSTATUS], *series;
  cJSON *m, *arr;
  vc__stmt *s;
  int rc, truncated;

  memset(total, 0, sizeof(total));
  if ((series = vc__calloc(q->npoints * NSTATUS, sizeof(*series))) == NULL)
    return vc_error_set_oom();
  if ((rc = run(&s, q, SQL_MSG_SERIES)) < 0)
    goto done;
  while ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW) {
    long p = point_of(q, vc__stmt_int64(s, 0));
    int64_t st = vc__stmt_int64(s, 1), n = vc__stmt_int64(s, 2);
    if (p < 0 || !status_ok(st))
      continue;
    series[(size_t)p * NSTATUS + (size_t)st] += n;
    total[st] += n;
  }
  vc__stmt_done(s);
  if (rc < 0)
    goto done;
  m = add_obj(q, q->root, "messages");
  add_statuses(q, add_obj(q, m, "by_status"), total);
  if ((rc = grouped(q, add_arr(q, m, "by_kind"), SQL_MSG_KIND, kind_names,
                    1, &truncated)) < 0 ||
      (rc = grouped(q, add_arr(q, m, "by_channel"), SQL_MSG_CHANNEL,
                    channel_names, 3, &truncated)) < 0)
    goto done;
  if (truncated)
    add_bool(q, m, "by_channel_truncated", 1);
  if ((rc = grouped(q, add_arr(q, m, "by_provider"), SQL_MSG_PROVIDER,
                    provider_names, 1, &truncated)) < 0)
    goto done;
  arr = add_arr(q, m, "series");
  for (size_t p = 0; p < q->npoints && !q->oom; p++) {
    cJSON *o = add_obj(q, arr, NULL);
    add_num(q, o, "t", (double)(q->first + (int64_t)p * q->step));
    add_statuses(q, o, &series[p * NSTATUS]);
  }
  /* Of the messages whose fate became known in the window. */
  add_ratio(q, q->root, "delivery_rate", total[VC_MSG_DELIVERED],
            total[VC_MSG_DELIVERED] + total[VC_MSG_FAILED] +
            total[VC_MSG_UNDELIVERED] + total[VC_MSG_BOUNCED]);
  rc = 0;
done:
  vc__free(series);
  return rc;
}

/* ---- latency ------------------------------------------------------------ */

static const char SQL_LATENCY[] =
  "SELECT s.bucket, SUM(s.n), SUM(s.sum_ms) FROM vc_stats_latency s"
  MSG_WHERE " GROUP BY s.bucket";

/* The upper bound of the bucket holding the p-th fraction, or null past
 * the last bound. */
static void add_percentile(query *q, cJSON *o, const char *name,
                           const int64_t *n, int64_t total, double p)
{
  int64_t rank = (int64_t)(p * (double)total + 0.999999), seen = 0;

  if (rank < 1)
    rank = 1;
  for (int b = 0; b < VC__STATS_LATENCY_BUCKETS; b++) {
    seen += n[b];
    if (seen >= rank) {
      if (b < VC__STATS_LATENCY_BUCKETS - 1)
        add_num(q, o, name, (double)vc__stats_latency_bounds[b]);
      else
        q->oom |= cJSON_AddNullToObject(o, name) == NULL;
      return;
    }
  }
  q->oom |= cJSON_AddNullToObject(o, name) == NULL;
}

static int latency(query *q)
{
  int64_t n[VC__STATS_LATENCY_BUCKETS], total = 0, sum = 0;
  cJSON *l, *h;
  vc__stmt *s;
  int rc;

  memset(n, 0, sizeof(n));
  if ((rc = run(&s, q, SQL_LATENCY)) < 0)
    return rc;
  while ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW) {
    int64_t b = vc__stmt_int64(s, 0);
    if (b < 0 || b >= VC__STATS_LATENCY_BUCKETS)
      continue;
    n[b] += vc__stmt_int64(s, 1);
    total += vc__stmt_int64(s, 1);
    sum += vc__stmt_int64(s, 2);
  }
  vc__stmt_done(s);
  if (rc < 0)
    return rc;
  l = add_obj(q, q->root, "latency_ms");
  add_num(q, l, "delivered", (double)total);
  add_ratio(q, l, "mean", sum, total);
  if (total > 0) {
    add_percentile(q, l, "p50", n, total, 0.50);
    add_percentile(q, l, "p90", n, total, 0.90);
    add_percentile(q, l, "p99", n, total, 0.99);
  } else {
    q->oom |= cJSON_AddNullToObject(l, "p50") == NULL ||
              cJSON_AddNullToObject(l, "p90") == NULL ||
              cJSON_AddNullToObject(l, "p99") == NULL;
  }
  h = add_arr(q, l, "histogram");
  for (int b = 0; b < VC__STATS_LATENCY_BUCKETS && !q->oom; b++) {
    cJSON *o = add_obj(q, h, NULL);
    if (b < VC__STATS_LATENCY_BUCKETS - 1)
      add_num(q, o, "le", (double)vc__stats_latency_bounds[b]);
    else
      q->oom |= cJSON_AddNullToObject(o, "le") == NULL;
    add_num(q, o, "n", (double)n[b]);
  }
  return 0;
}

/* ---- inbound ------------------------------------------------------------ */

#define IN_WHERE \
  " WHERE s.tenant_id = ?1 AND s.hour >= ?2 AND s.hour < ?3" \
  " AND (?4 = '' OR s.channel_id = ?4) AND ?5 = ''"

static const char SQL_IN_SERIES[] =
  "SELECT s.hour, SUM(s.n) FROM vc_stats_inbound s" IN_WHERE
  " GROUP BY s.hour";
static const char SQL_IN_CHANNEL[] =
  "SELECT s.channel_id, COALESCE(c.name, ''), COALESCE(c.provider, ''),"
  " SUM(s.n) FROM vc_stats_inbound s LEFT JOIN vc_channel c"
  " ON c.tenant_id = s.tenant_id AND c.id = s.channel_id" IN_WHERE
  " GROUP BY s.channel_id, c.name, c.provider ORDER BY s.channel_id"
  " LIMIT 501";

static int inbound(query *q)
{
  int64_t *series, total = 0;
  cJSON *in, *arr;
  vc__stmt *s;
  int rc, count = 0;

  if ((series = vc__calloc(q->npoints, sizeof(*series))) == NULL)
    return vc_error_set_oom();
  if ((rc = run(&s, q, SQL_IN_SERIES)) < 0)
    goto done;
  while ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW) {
    long p = point_of(q, vc__stmt_int64(s, 0));
    if (p < 0)
      continue;
    series[p] += vc__stmt_int64(s, 1);
    total += vc__stmt_int64(s, 1);
  }
  vc__stmt_done(s);
  if (rc < 0)
    goto done;
  in = add_obj(q, q->root, "inbound");
  add_num(q, in, "total", (double)total);
  arr = add_arr(q, in, "by_channel");
  if ((rc = run(&s, q, SQL_IN_CHANNEL)) < 0)
    goto done;
  while ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW) {
    cJSON *o;
    if (++count > VC_STATS_LIST_MAX) {
      add_bool(q, in, "by_channel_truncated", 1);
      break;
    }
    o = add_obj(q, arr, NULL);
    add_str(q, o, "channel_id", vc__stmt_text(s, 0));
    add_str(q, o, "name", vc__stmt_text(s, 1));
    add_str(q, o, "provider", vc__stmt_text(s, 2));
    add_num(q, o, "n", (double)vc__stmt_int64(s, 3));
  }
  vc__stmt_done(s);
  if (rc < 0)
    goto done;
  arr = add_arr(q, in, "series");
  for (size_t p = 0; p < q->npoints && !q->oom; p++) {
    cJSON *o = add_obj(q, arr, NULL);
    add_num(q, o, "t", (double)(q->first + (int64_t)p * q->step));
    add_num(q, o, "n", (double)series[p]);
  }
  rc = 0;
done:
  vc__free(series);
  return rc;
}

/* ---- campaigns ---------------------------------------------------------- */

static const char SQL_CAMPAIGNS[] =
  "SELECT id, name, state, created_at, total, queued, sent, delivered,"
  " failed, canceled, skipped_consent, skipped_address, deferred_quiet,"
  " expired, open_count FROM vc_campaign WHERE tenant_id = ?1"
  " AND (CASE WHEN ?4 = '' THEN created_at >= ?2 AND created_at < ?3"
  " ELSE id = ?4 END)"
  " ORDER BY created_at DESC, id DESC LIMIT 501";

static int campaigns(query *q)
{
  static const char *const counters[] = {
    "total", "queued", "sent", "delivered", "failed", "canceled",
    "skipped_consent", "skipped_address", "deferred_quiet", "expired",
    "open"
  };
  cJSON *arr = add_arr(q, q->root, "campaigns");
  vc__stmt *s;
  int rc, count = 0;

  /* The channel filter does not apply: campaign counters have none. */
  if ((rc = vc__db_query(&s, q->db, SQL_CAMPAIGNS, "tiit", q->tid, q->from,
                         q->to, q->campaign)) < 0)
    return rc;
  while ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW) {
    cJSON *o, *f;
    int64_t delivered, failed;
    if (++count > VC_STATS_LIST_MAX) {
      add_bool(q, q->root, "campaigns_truncated", 1);
      break;
    }
    o = add_obj(q, arr, NULL);
    add_str(q, o, "id", vc__stmt_text(s, 0));
    add_str(q, o, "name", vc__stmt_text(s, 1));
    add_str(q, o, "state",
            vc_campaign_state_name((int)vc__stmt_int64(s, 2)));
    add_num(q, o, "created_at", (double)vc__stmt_int64(s, 3));
    f = add_obj(q, o, "funnel");
    for (int i = 0; i < (int)VC_ARRAY_SIZE(counters); i++)
      add_num(q, f, counters[i], (double)vc__stmt_int64(s, 4 + i));
    delivered = vc__stmt_int64(s, 7);
    failed = vc__stmt_int64(s, 8);
    add_ratio(q, o, "delivery_rate", delivered, delivered + failed);
  }
  vc__stmt_done(s);
  return rc < 0 ? rc : 0;
}

/* ---- calls -------------------------------------------------------------- */

#define CALL_WHERE \
  " WHERE s.tenant_id = ?1 AND s.hour >= ?2 AND s.hour < ?3" \
  " AND (?4 = '' OR s.channel_id = ?4) AND ?5 = ''"

static const char SQL_CALL_OUTCOME[] =
  "SELECT s.outcome, SUM(s.n), SUM(s.answered), SUM(s.talk_s),"
  " SUM(s.handle_s) FROM vc_stats_call s" CALL_WHERE " GROUP BY s.outcome";
static const char SQL_CALL_AGENT[] =
  "SELECT s.agent_id, COALESCE(a.name, ''), SUM(s.n), SUM(s.answered),"
  " SUM(s.talk_s), SUM(s.handle_s) FROM vc_stats_call s"
  " LEFT JOIN vc_agent a ON a.tenant_id = s.tenant_id AND a.id = s.agent_id"
  CALL_WHERE " GROUP BY s.agent_id, a.name"
  " ORDER BY SUM(s.n) DESC, s.agent_id LIMIT 501";
static const char SQL_CALL_SERIES[] =
  "SELECT s.hour, SUM(s.n), SUM(s.answered) FROM vc_stats_call s"
  CALL_WHERE " GROUP BY s.hour";

/* Attempts, answered, talk and handle seconds, with their rates. */
static void add_call_figures(query *q, cJSON *o, int64_t n, int64_t ans,
                             int64_t talk, int64_t handle)
{
  add_num(q, o, "attempts", (double)n);
  add_num(q, o, "answered", (double)ans);
  add_ratio(q, o, "answer_rate", ans, n);
  add_num(q, o, "talk_s", (double)talk);
  add_num(q, o, "handle_s", (double)handle);
  add_ratio(q, o, "avg_talk_s", talk, ans);
  add_ratio(q, o, "avg_handle_s", handle, n);
}

static int calls(query *q)
{
  int64_t by[NOUTCOME], n = 0, ans = 0, talk = 0, handle = 0, *series;
  cJSON *c, *o, *arr;
  vc__stmt *s;
  int rc, count = 0;

  memset(by, 0, sizeof(by));
  if ((series = vc__calloc(q->npoints * 2, sizeof(*series))) == NULL)
    return vc_error_set_oom();
  if ((rc = run(&s, q, SQL_CALL_OUTCOME)) < 0)
    goto done;
  while ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW) {
    int64_t st = vc__stmt_int64(s, 0);
    if (st >= 0 && st < NOUTCOME)
      by[st] += vc__stmt_int64(s, 1);
    n += vc__stmt_int64(s, 1);
    ans += vc__stmt_int64(s, 2);
    talk += vc__stmt_int64(s, 3);
    handle += vc__stmt_int64(s, 4);
  }
  vc__stmt_done(s);
  if (rc < 0)
    goto done;
  c = add_obj(q, q->root, "calls");
  add_call_figures(q, c, n, ans, talk, handle);
  o = add_obj(q, c, "by_outcome");
  for (size_t i = 0; i < VC_ARRAY_SIZE(OUTCOMES); i++)
    add_num(q, o, vc_call_state_name(OUTCOMES[i]), (double)by[OUTCOMES[i]]);
  arr = add_arr(q, c, "by_agent");
  if ((rc = run(&s, q, SQL_CALL_AGENT)) < 0)
    goto done;
  while ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW) {
    if (++count > VC_STATS_LIST_MAX) {
      add_bool(q, c, "by_agent_truncated", 1);
      break;
    }
    o = add_obj(q, arr, NULL);
    add_str(q, o, "agent_id", vc__stmt_text(s, 0));
    add_str(q, o, "name", vc__stmt_text(s, 1));
    add_call_figures(q, o, vc__stmt_int64(s, 2), vc__stmt_int64(s, 3),
                     vc__stmt_int64(s, 4), vc__stmt_int64(s, 5));
  }
  vc__stmt_done(s);
  if (rc < 0 || (rc = run(&s, q, SQL_CALL_SERIES)) < 0)
    goto done;
  while ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW) {
    long p = point_of(q, vc__stmt_int64(s, 0));
    if (p < 0)
      continue;
    series[p * 2] += vc__stmt_int64(s, 1);
    series[p * 2 + 1] += vc__stmt_int64(s, 2);
  }
  vc__stmt_done(s);
  if (rc < 0)
    goto done;
  arr = add_arr(q, c, "series");
  for (size_t p = 0; p < q->npoints && !q->oom; p++) {
    o = add_obj(q, arr, NULL);
    add_num(q, o, "t", (double)(q->first + (int64_t)p * q->step));
    add_num(q, o, "attempts", (double)series[p * 2]);
    add_num(q, o, "answered", (double)series[p * 2 + 1]);
  }
  rc = 0;
done:
  vc__free(series);
  return rc;
}

/* ---- costs -------------------------------------------------------------- */

static const char SQL_COST_ROWS[] =
  "SELECT s.source, s.channel_id, s.provider, s.campaign_id, s.currency,"
  " SUM(s.amount_micros) FROM vc_stats_cost s" MSG_WHERE
  " GROUP BY s.source, s.channel_id, s.provider, s.campaign_id, s.currency"
  " ORDER BY s.currency, s.source, s.provider, s.channel_id, s.campaign_id"
  " LIMIT 501";
static const char SQL_COST_TOTAL[] =
  "SELECT s.currency, SUM(s.amount_micros) FROM vc_stats_cost s" MSG_WHERE
  " GROUP BY s.currency ORDER BY s.currency LIMIT 501";

static int costs(query *q)
{
  cJSON *c = add_obj(q, q->root, "costs"), *arr, *o;
  vc__stmt *s;
  int rc, count = 0;

  arr = add_arr(q, c, "by_currency");
  if ((rc = run(&s, q, SQL_COST_TOTAL)) < 0)
    return rc;
  while ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW &&
         ++count <= VC_STATS_LIST_MAX) {
    o = add_obj(q, arr, NULL);
    add_str(q, o, "currency", vc__stmt_text(s, 0));
    add_num(q, o, "amount_micros", (double)vc__stmt_int64(s, 1));
  }
  vc__stmt_done(s);
  if (rc < 0)
    return rc;
  count = 0;
  arr = add_arr(q, c, "rows");
  if ((rc = run(&s, q, SQL_COST_ROWS)) < 0)
    return rc;
  while ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW) {
    if (++count > VC_STATS_LIST_MAX) {
      add_bool(q, c, "rows_truncated", 1);
      break;
    }
    o = add_obj(q, arr, NULL);
    add_str(q, o, "source", vc__stmt_text(s, 0));
    add_str(q, o, "channel_id", vc__stmt_text(s, 1));
    add_str(q, o, "provider", vc__stmt_text(s, 2));
    add_str(q, o, "campaign_id", vc__stmt_text(s, 3));
    add_str(q, o, "currency", vc__stmt_text(s, 4));
    add_num(q, o, "amount_micros", (double)vc__stmt_int64(s, 5));
  }
  vc__stmt_done(s);
  return rc < 0 ? rc : 0;
}

/* ---- the query ---------------------------------------------------------- */

static const char SQL_HAS_CHANNEL[] =
  "SELECT 1 FROM vc_channel WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_HAS_CAMPAIGN[] =
  "SELECT 1 FROM vc_campaign WHERE tenant_id = ?1 AND id = ?2";

static int exists(vc__db *db, const char *sql, const char *tid,
                  const char *id, const char *member, const char *noun)
{
  vc__stmt *s;
  int rc;

  if ((rc = vc__db_query(&s, db, sql, "tt", tid, id)) < 0)
    return rc;
  rc = vc__stmt_step(s);
  vc__stmt_done(s);
  if (rc == VC_STORAGE_DONE)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                         "vc_stats_spec.%s: no such %s of the tenant",
                         member, noun);
  return rc < 0 ? rc : 0;
}

static int validate(query *q, const vc_stats_spec *in, int *granularity,
                    unsigned int *what)
{
  int64_t span;

  *granularity = in->granularity ? in->granularity : VC_STATS_HOUR;
  *what = in->what ? in->what : VC_STATS_ALL;
  if (in->from < 0 || in->from % VC__STATS_HOUR_MS != 0)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "vc_stats_spec.from must be a whole UTC hour "
                         "(Unix ms, >= 0)");
  if (in->to <= in->from || in->to % VC__STATS_HOUR_MS != 0)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "vc_stats_spec.to must be a whole UTC hour "
                         "after from");
  if (*granularity != VC_STATS_HOUR && *granularity != VC_STATS_DAY)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "vc_stats_spec.granularity must be "
                         "VC_STATS_HOUR or VC_STATS_DAY");
  if (*what & ~(unsigned int)VC_STATS_ALL)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "vc_stats_spec.what has unknown bits 0x%x",
                         *what & ~(unsigned int)VC_STATS_ALL);
  span = in->to - in->from;
  if (*granularity == VC_STATS_HOUR &&
      span > VC_STATS_MAX_HOURS * VC__STATS_HOUR_MS)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "vc_stats_spec.to: an hourly window spans at "
                         "most %d hours", VC_STATS_MAX_HOURS);
  if (*granularity == VC_STATS_DAY &&
      span > VC_STATS_MAX_DAYS * VC__STATS_DAY_MS)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "vc_stats_spec.to: a daily window spans at "
                         "most %d days", VC_STATS_MAX_DAYS);
  q->channel = in->channel_id ? in->channel_id : "";
  q->campaign = in->campaign_id ? in->campaign_id : "";
  if (q->channel[0] != '\0' && !vc__ulid_valid(q->channel))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "vc_stats_spec.channel_id is not an id");
  if (q->campaign[0] != '\0' && !vc__ulid_valid(q->campaign))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "vc_stats_spec.campaign_id is not an id");
  q->from = in->from;
  q->to = in->to;
  q->step = *granularity == VC_STATS_DAY ? VC__STATS_DAY_MS
                                         : VC__STATS_HOUR_MS;
  q->first = q->from - q->from % q->step;
  q->npoints = (size_t)((q->to - q->first + q->step - 1) / q->step);
  return 0;
}

static int sections(query *q, int granularity, unsigned int what)
{
  int rc = 0;

  add_num(q, q->root, "from", (double)q->from);
  add_num(q, q->root, "to", (double)q->to);
  add_str(q, q->root, "granularity",
          granularity == VC_STATS_DAY ? "day" : "hour");
  if (q->channel[0] != '\0')
    add_str(q, q->root, "channel_id", q->channel);
  if (q->campaign[0] != '\0')
    add_str(q, q->root, "campaign_id", q->campaign);
  if (q->channel[0] != '\0' &&
      (rc = exists(q->db, SQL_HAS_CHANNEL, q->tid, q->channel,
                   "channel_id", "channel")) < 0)
    return rc;
  if (q->campaign[0] != '\0' &&
      (rc = exists(q->db, SQL_HAS_CAMPAIGN, q->tid, q->campaign,
                   "campaign_id", "campaign")) < 0)
    return rc;
  if ((what & VC_STATS_MESSAGES) && (rc = messages(q)) < 0)
    return rc;
  if ((what & VC_STATS_LATENCY) && (rc = latency(q)) < 0)
    return rc;
  /* Inbound messages and calls belong to no campaign. */
  if ((what & VC_STATS_INBOUND) && q->campaign[0] == '\0' &&
      (rc = inbound(q)) < 0)
    return rc;
  if ((what & VC_STATS_CAMPAIGNS) && (rc = campaigns(q)) < 0)
    return rc;
  if ((what & VC_STATS_CALLS) && q->campaign[0] == '\0' &&
      (rc = calls(q)) < 0)
    return rc;
  if ((what & VC_STATS_COSTS) && (rc = costs(q)) < 0)
    return rc;
  return 0;
}

int vc_stats_query(vc_buf *json_out, vc_tenant *t, const vc_stats_spec *in)
{
  unsigned int what;
  int granularity, rc;
  char *text = NULL;
  query q;

  VC_ASSERT_ARG(json_out);
  vc_buf_dispose(json_out);
  VC_ASSERT_ARG(t);
  VC_ASSERT_ARG(in);
  VC_CHECK_VERSION(in, VC_STATS_SPEC_VERSION, "vc_stats_spec");
  memset(&q, 0, sizeof(q));
  if ((rc = validate(&q, in, &granularity, &what)) < 0)
    return rc;
  q.tid = vc_tenant_id(t);
  if ((q.root = cJSON_CreateObject()) == NULL)
    return vc_error_set_oom();
  if ((rc = vc__db_acquire(&q.db, vc__tenant_ctx(t)->store)) < 0) {
    cJSON_Delete(q.root);
    return rc;
  }
  rc = sections(&q, granularity, what);
  vc__db_release(q.db);
  if (rc == 0 && !q.oom)
    text = cJSON_PrintUnformatted(q.root);
  cJSON_Delete(q.root);
  if (rc < 0)
    return rc;
  if (text == NULL)
    return vc_error_set_oom();
  rc = vc__buf_puts(json_out, text);
  cJSON_free(text);
  if (rc < 0)
    vc_buf_dispose(json_out);
  return rc < 0 ? rc : 0;
}
