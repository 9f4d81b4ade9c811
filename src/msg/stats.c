/*
 * Analytics rollups: the hooks that move the hourly counters in the
 * transaction of each change (a message's move into a status, an inbound
 * message, a ledger entry, a call's end). Each is one upsert on a hot
 * path (a campaign's fan-out calls vc__stats_on_message per message), so
 * nothing here reads before it writes except a call's end, which is rare.
 * The query side is stats_query.c.
 */
#include "core/common.h"
#include "call/hooks.h"
#include "call/ledger.h"
#include "msg_hooks.h"
#include "stats.h"

#include "vyomcomm/call.h"
#include "vyomcomm/message.h"

const int64_t vc__stats_latency_bounds[VC__STATS_LATENCY_BUCKETS - 1] = {
  1000, 2000, 5000, 10000, 20000, 30000,          /* seconds */
  60000, 120000, 300000, 600000, 1200000, 1800000, /* minutes */
  3600000, 7200000, 21600000, 43200000, 86400000   /* hours, a day */
};

int64_t vc__stats_hour(int64_t ms)
{
  return ms >= 0 ? ms - ms % VC__STATS_HOUR_MS
                 : ms - (VC__STATS_HOUR_MS + ms % VC__STATS_HOUR_MS) %
                          VC__STATS_HOUR_MS;
}

int vc__stats_latency_bucket(int64_t ms)
{
  int i = 0;

  while (i < VC__STATS_LATENCY_BUCKETS - 1 &&
         ms > vc__stats_latency_bounds[i])
    i++;
  return i;
}

/* ---- messages ----------------------------------------------------------- */

static const char SQL_MESSAGE[] =
  "INSERT INTO vc_stats_message (tenant_id, hour, kind, channel_id,"
  " campaign_id, status, n) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
  " ON CONFLICT (tenant_id, hour, kind, channel_id, campaign_id, status)"
  " DO UPDATE SET n = vc_stats_message.n + excluded.n";
static const char SQL_LATENCY[] =
  "INSERT INTO vc_stats_latency (tenant_id, hour, channel_id, campaign_id,"
  " bucket, n, sum_ms) VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6)"
  " ON CONFLICT (tenant_id, hour, channel_id, campaign_id, bucket)"
  " DO UPDATE SET n = vc_stats_latency.n + 1,"
  " sum_ms = vc_stats_latency.sum_ms + excluded.sum_ms";

static int count_status_n(vc__db *db, const vc__msg_change *c,
                          int64_t hour, int status, int64_t n)
{
  return vc__db_run(db, SQL_MESSAGE, "tiittii", c->tenant_id, hour,
                    (int64_t)c->kind, c->channel_id ? c->channel_id : "",
                    c->campaign_id ? c->campaign_id : "", (int64_t)status,
                    n);
}

static int count_status(vc__db *db, const vc__msg_change *c, int64_t hour,
                        int status)
{
  return count_status_n(db, c, hour, status, 1);
}

int vc__stats_on_message(vc__db *db, vc_ctx *ctx, const vc__msg_change *c)
{
  int64_t hour = vc__stats_hour(c->at), ms;
  int delivered, rc;

  VC_UNUSED(ctx);
  /* Most moves into sending are the dispatcher's batched UPDATE, which
   * does not come here: counting the few that do would mislead. */
  if (c->to == VC_MSG_SENDING)
    return 0;
  if ((rc = count_status(db, c, hour, c->to)) < 0)
    return rc;
  /* A read receipt that overtook the delivery report: the message was
   * delivered, and is counted so (delivery rate, latency). */
  delivered = c->to == VC_MSG_DELIVERED ||
              (c->to == VC_MSG_READ && c->from < VC_MSG_DELIVERED);
  if (!delivered)
    return 0;
  if (c->to == VC_MSG_READ &&
      (rc = count_status(db, c, hour, VC_MSG_DELIVERED)) < 0)
    return rc;
  ms = c->at - c->created_at;
  if (ms < 0)
    ms = 0;
  return vc__db_run(db, SQL_LATENCY, "tittii", c->tenant_id, hour,
                    c->channel_id ? c->channel_id : "",
                    c->campaign_id ? c->campaign_id : "",
                    (int64_t)vc__stats_latency_bucket(ms), ms);
}

static const char *or_empty(const char *s)
{
  return s ? s : "";
}

/* Two changes count in the same vc_stats_message row. */
static int same_row(const vc__msg_change *a, const vc__msg_change *b)
{
  return a->to == b->to && a->kind == b->kind &&
         vc__stats_hour(a->at) == vc__stats_hour(b->at) &&
         strcmp(a->tenant_id, b->tenant_id) == 0 &&
         strcmp(or_empty(a->channel_id), or_empty(b->channel_id)) == 0 &&
         strcmp(or_empty(a->campaign_id), or_empty(b->campaign_id)) == 0;
}

int vc__stats_on_messages(vc__db *db, vc_ctx *ctx, const vc__msg_change *c,
                          size_t n)
{
  /* rep[k]: the first change of group k, cnt[k] its changes. */
  size_t rep[VC__DB_IDS], m = 0;
  int64_t cnt[VC__DB_IDS];
  int rc;

  for (size_t i = 0; i < n; i++) {
    size_t k;
    /* Latency and the delivered count of a read: one at a time. */
    if (i >= VC__DB_IDS || c[i].to == VC_MSG_DELIVERED ||
        c[i].to == VC_MSG_READ) {
      if ((rc = vc__stats_on_message(db, ctx, &c[i])) < 0)
        return rc;
      continue;
    }
    if (c[i].to == VC_MSG_SENDING)
      continue; /* as vc__stats_on_message */
    for (k = 0; k < m && !same_row(&c[rep[k]], &c[i]); k++)
      ;
    if (k == m) {
      rep[m] = i;
      cnt[m++] = 0;
    }
    cnt[k]++;
  }
  for (size_t k = 0; k < m; k++)
    if ((rc = count_status_n(db, &c[rep[k]], vc__stats_hour(c[rep[k]].at),
                             c[rep[k]].to, cnt[k])) < 0)
      return rc;
  return 0;
}

/* ---- inbound -------------------------------------------------------------- */

static const char SQL_INBOUND[] =
  "INSERT INTO vc_stats_inbound (tenant_id, hour, channel_id, n)"
  " VALUES (?1, ?2, ?3, 1) ON CONFLICT (tenant_id, hour, channel_id)"
  " DO UPDATE SET n = vc_stats_inbound.n + 1";

int vc__stats_on_inbound(vc__db *db, vc_ctx *ctx, const vc__msg_inbound *m)
{
  VC_UNUSED(ctx);
  return vc__db_run(db, SQL_INBOUND, "tit", m->tenant_id,
                    vc__stats_hour(m->at),
                    m->channel_id ? m->channel_id : "");
}

/* ---- costs ---------------------------------------------------------------- */

static const char SQL_COST[] =
  "INSERT INTO vc_stats_cost (tenant_id, hour, source, channel_id,"
  " provider, campaign_id, currency, amount_micros)"
  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
  " ON CONFLICT (tenant_id, hour, source, channel_id, provider,"
  " campaign_id, currency) DO UPDATE SET"
  " amount_micros = vc_stats_cost.amount_micros + excluded.amount_micros";

int vc__stats_on_ledger(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                        const vc__ledger_post *p, const char period[11])
{
  int64_t amount = p->kind == VC_LEDGER_REVERSAL ? -p->amount_micros
                                                  : p->amount_micros;

  VC_UNUSED(ctx);
  VC_UNUSED(period);  /* by the hour, so that windows are exact */
  return vc__db_run(db, SQL_COST, "tittttti", tenant_id,
                    vc__stats_hour(p->occurred_at),
                    p->source ? p->source : "",
                    p->channel_id ? p->channel_id : "",
                    p->provider ? p->provider : "",
                    p->campaign_id ? p->campaign_id : "",
                    p->currency ? p->currency : "", amount);
}

/* ---- calls ---------------------------------------------------------------- */

static const char SQL_WRAP_UP[] =
  "SELECT wrap_up_s FROM vc_agent WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_CALL[] =
  "INSERT INTO vc_stats_call (tenant_id, hour, agent_id, channel_id,"
  " outcome, n, answered, talk_s, handle_s)"
  " VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6, ?7, ?8)"
  " ON CONFLICT (tenant_id, hour, agent_id, channel_id, outcome)"
  " DO UPDATE SET n = vc_stats_call.n + 1,"
  " answered = vc_stats_call.answered + excluded.answered,"
  " talk_s = vc_stats_call.talk_s + excluded.talk_s,"
  " handle_s = vc_stats_call.handle_s + excluded.handle_s";

int vc__stats_on_call(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                      const vc__stats_call *c)
{
  int64_t handle = 0;
  vc__stmt *s;
  int rc;

  VC_UNUSED(ctx);
  /* The agent is taken from the first ring to the end, then by its
   * wrap-up when it answered. */
  if (c->agent_ringing_at > 0 && c->ended_at > c->agent_ringing_at)
    handle = (c->ended_at - c->agent_ringing_at) / 1000;
  if (c->agent_id[0] != '\0' && c->agent_answered) {
    if ((rc = vc__db_query(&s, db, SQL_WRAP_UP, "tt", tenant_id,
                           c->agent_id)) < 0)
      return rc;
    rc = vc__stmt_step(s);
    if (rc == VC_STORAGE_ROW)
      handle += vc__stmt_int64(s, 0);
    vc__stmt_done(s);
    if (rc < 0)
      return rc;
  }
  return vc__db_run(db, SQL_CALL, "tittiiii", tenant_id,
                    vc__stats_hour(c->ended_at), c->agent_id,
                    c->channel_id, (int64_t)c->state,
                    (int64_t)(c->bridged != 0),
                    (int64_t)(c->talk_s > 0 ? c->talk_s : 0), handle);
}
