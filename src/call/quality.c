/*
 * Call quality: figures merged per call, each with its source, and a MOS
 * computed with the E-model (emodel.c) when nobody measured one.
 */
#include "core/common.h"
#include "core/audit.h"
#include "core/ctx.h"
#include "core/event.h"
#include "core/tenant.h"
#include "call/emodel.h"
#include "call/hooks.h"

#include <cJSON.h>
#include <math.h>
#include <stdio.h>

const char *vc_quality_source_name(int source)
{
  switch (source) {
  case VC_QUALITY_NONE: return "none";
  case VC_QUALITY_PROVIDER: return "provider";
  case VC_QUALITY_HOST: return "host";
  case VC_QUALITY_COMPUTED: return "computed";
  default: return "unknown";
  }
}

/* One figure: its value (< 0: not known) and where it came from. */
typedef struct figure {
  double v;
  int source;
} figure;

typedef struct quality_row {
  figure jitter, loss, rtt, mos;
  double r;             /* < 0 unless the MOS was computed */
  int reports, found;
  int64_t measured_at;
} quality_row;

static const char SQL_CALL_EXISTS[] =
  "SELECT 1 FROM vc_call WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_GET[] =
  "SELECT COALESCE(jitter_ms, -1), jitter_source,"
  " COALESCE(packet_loss_pct, -1), loss_source, COALESCE(rtt_ms, -1),"
  " rtt_source, COALESCE(mos, -1), mos_source, COALESCE(r_factor, -1),"
  " reports, measured_at FROM vc_call_quality"
  " WHERE tenant_id = ?1 AND call_id = ?2";
/* An unknown figure (negative) is stored as NULL. */
#define UNKNOWN_NULL(n) "CASE WHEN ?" #n " < 0 THEN NULL ELSE ?" #n " END"
static const char SQL_PUT[] =
  "INSERT INTO vc_call_quality (tenant_id, call_id, jitter_ms,"
  " jitter_source, packet_loss_pct, loss_source, rtt_ms, rtt_source, mos,"
  " mos_source, r_factor, reports, measured_at, created_at, updated_at)"
  " VALUES (?1, ?2, " UNKNOWN_NULL(3) ", ?4, " UNKNOWN_NULL(5) ", ?6, "
  UNKNOWN_NULL(7) ", ?8, " UNKNOWN_NULL(9) ", ?10, " UNKNOWN_NULL(11) ","
  " ?12, ?13, ?14, ?14) ON CONFLICT (tenant_id, call_id) DO UPDATE SET"
  " jitter_ms = excluded.jitter_ms, jitter_source = excluded.jitter_source,"
  " packet_loss_pct = excluded.packet_loss_pct,"
  " loss_source = excluded.loss_source, rtt_ms = excluded.rtt_ms,"
  " rtt_source = excluded.rtt_source, mos = excluded.mos,"
  " mos_source = excluded.mos_source, r_factor = excluded.r_factor,"
  " reports = excluded.reports, measured_at = excluded.measured_at,"
  " updated_at = excluded.updated_at";

static int not_found(const char *call_id)
{
  return vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND, "no call '%.32s'",
                       call_id);
}

static int call_exists(vc__db *db, const char *tenant_id,
                       const char *call_id)
{
  vc__stmt *s;
  int rc;

  if (!vc__ulid_valid(call_id))
    return not_found(call_id ? call_id : "");
  if ((rc = vc__db_query(&s, db, SQL_CALL_EXISTS, "tt", tenant_id,
                         call_id)) < 0)
    return rc;
  rc = vc__stmt_step(s);
  vc__stmt_done(s);
  if (rc == VC_STORAGE_DONE)
    return not_found(call_id);
  return rc < 0 ? rc : 0;
}

static int load(quality_row *q, vc__db *db, const char *tenant_id,
                const char *call_id)
{
  vc__stmt *s;
  int rc;

  memset(q, 0, sizeof(*q));
  q->jitter.v = q->loss.v = q->rtt.v = q->mos.v = q->r = -1;
  if ((rc = vc__db_query(&s, db, SQL_GET, "tt", tenant_id, call_id)) < 0)
    return rc;
  if ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW) {
    q->found = 1;
    q->jitter.v = vc__stmt_double(s, 0);
    q->jitter.source = (int)vc__stmt_int64(s, 1);
    q->loss.v = vc__stmt_double(s, 2);
    q->loss.source = (int)vc__stmt_int64(s, 3);
    q->rtt.v = vc__stmt_double(s, 4);
    q->rtt.source = (int)vc__stmt_int64(s, 5);
    q->mos.v = vc__stmt_double(s, 6);
    q->mos.source = (int)vc__stmt_int64(s, 7);
    q->r = vc__stmt_double(s, 8);
    q->reports = (int)vc__stmt_int64(s, 9);
    q->measured_at = vc__stmt_int64(s, 10);
  }
  vc__stmt_done(s);
  return rc < 0 ? rc : 0;
}

/*
 * Check one figure of a report. `strict` (the public API): only exactly
 * VC_QUALITY_UNKNOWN means unknown, any other negative is refused; else
 * (a provider's, hooks.h) every negative means unknown.
 */
static int check_figure(const char *what, double v, double min, double max,
                        int strict)
{
  if (isnan(v) || isinf(v))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "%s is not a number", what);
  if (v < 0 && (!strict || v == VC_QUALITY_UNKNOWN))
    return 0;
  if (v < min || v > max)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "%s %g is out of range %g..%g", what, v, min, max);
  return 0;
}

static int check_figures(double jitter, double loss, double rtt, double mos,
                         int strict)
{
  int rc;

  if ((rc = check_figure("jitter_ms", jitter, 0, VC_QUALITY_JITTER_MAX,
                         strict)) < 0 ||
      (rc = check_figure("packet_loss_pct", loss, 0, 100, strict)) < 0 ||
      (rc = check_figure("rtt_ms", rtt, 0, VC_QUALITY_RTT_MAX, strict)) < 0 ||
      (rc = check_figure("mos", mos, 1, 5, strict)) < 0)
    return rc;
  if (jitter < 0 && loss < 0 && rtt < 0 && mos < 0)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "a quality report needs at least one figure");
  return 0;
}

static void take(figure *f, double v, int source)
{
  if (v >= 0) {
    f->v = v;
    f->source = source;
  }
}

static int add_number(cJSON *o, const char *key, double v)
{
  return v < 0 ? cJSON_AddNullToObject(o, key) != NULL
               : cJSON_AddNumberToObject(o, key, v) != NULL;
}

/* The figures as JSON, for the timeline entry and the event. */
static char *figures_json(const quality_row *q, int source)
{
  cJSON *o = cJSON_CreateObject();
  char *text = NULL;

  if (o != NULL &&
      add_number(o, "jitter_ms", q->jitter.v) &&
      add_number(o, "packet_loss_pct", q->loss.v) &&
      add_number(o, "rtt_ms", q->rtt.v) &&
      add_number(o, "mos", q->mos.v) &&
      cJSON_AddStringToObject(o, "mos_source",
                              vc_quality_source_name(q->mos.source)) &&
      add_number(o, "r_factor", q->r) &&
      cJSON_AddStringToObject(o, "source", vc_quality_source_name(source)))
    text = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  return text;
}

static void bind_figure(double *v, int64_t *src, const figure *f)
{
  *v = f->v;
  *src = f->source;
}

/* Merge a report into the call's figures, store them, and record it. */
static int record(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                  const char *call_id, double jitter, double loss,
                  double rtt, double mos, int64_t at, int source,
                  double *mos_out)
{
  double jv, lv, rv, mv;
  int64_t js, ls, rs, ms;
  quality_row q;
  char *json;
  int rc;

  if ((rc = call_exists(db, tenant_id, call_id)) < 0 ||
      (rc = load(&q, db, tenant_id, call_id)) < 0)
    return rc;
  take(&q.jitter, jitter, source);
  take(&q.loss, loss, source);
  take(&q.rtt, rtt, source);
  if (mos >= 0) {
    take(&q.mos, mos, source);
    q.r = -1;
  } else if (q.mos.source != VC_QUALITY_PROVIDER &&
             q.mos.source != VC_QUALITY_HOST &&
             (q.jitter.v >= 0 || q.loss.v >= 0 || q.rtt.v >= 0)) {
    vc__emodel e;

    if ((rc = vc__emodel_mos(&e, q.rtt.v < 0 ? 0 : q.rtt.v,
                             q.jitter.v < 0 ? 0 : q.jitter.v,
                             q.loss.v < 0 ? 0 : q.loss.v)) < 0)
      return rc;
    q.mos.v = e.mos;
    q.mos.source = VC_QUALITY_COMPUTED;
    q.r = e.r;
  }
  q.reports++;
  q.measured_at = at;
  bind_figure(&jv, &js, &q.jitter);
  bind_figure(&lv, &ls, &q.loss);
  bind_figure(&rv, &rs, &q.rtt);
  bind_figure(&mv, &ms, &q.mos);
  rc = vc__db_run(db, SQL_PUT, "tt" "di" "di" "di" "di" "d" "iii",
                  tenant_id, call_id, jv, js, lv, ls, rv, rs, mv, ms, q.r,
                  (int64_t)q.reports, at, vc__now(ctx));
  if (rc < 0)
    return rc;
  if ((json = figures_json(&q, source)) == NULL)
    return vc_error_set_oom();
  if ((rc = vc__call_entry_add(db, ctx, tenant_id, call_id, "quality",
                               VC_LEG_NONE, json, at)) == 0)
    rc = vc__event_append(db, ctx, tenant_id, "call.quality", call_id, json);
  cJSON_free(json);
  if (rc == 0 && mos_out != NULL)
    *mos_out = q.mos.v < 0 ? 0 : q.mos.v;
  return rc;
}

int vc__quality_record(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                       const char *call_id, double jitter_ms,
                       double packet_loss_pct, double rtt_ms, double mos,
                       int64_t at, double *mos_out)
{
  int rc;

  if (mos_out != NULL)
    *mos_out = 0;
  if ((rc = check_figures(jitter_ms, packet_loss_pct, rtt_ms, mos, 0)) < 0)
    return rc;
  return record(db, ctx, tenant_id, call_id, jitter_ms, packet_loss_pct,
                rtt_ms, mos, at > 0 ? at : vc__now(ctx), VC_QUALITY_PROVIDER,
                mos_out);
}

int vc_call_quality_report(vc_tenant *t, const char *call_id,
                           const vc_call_quality *m)
{
  vc_ctx *ctx;
  vc__db *db;
  int rc;

  VC_ASSERT_ARG(t);
  VC_ASSERT_ARG(m);
  VC_CHECK_VERSION(m, VC_CALL_QUALITY_VERSION, "vc_call_quality");
  if ((rc = check_figures(m->jitter_ms, m->packet_loss_pct, m->rtt_ms,
                          m->mos, 1)) < 0)
    return rc;
  if (m->measured_at < 0)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "measured_at is negative");
  ctx = vc__tenant_ctx(t);
  if ((rc = vc__db_acquire(&db, ctx->store)) < 0)
    return rc;
  if ((rc = vc__db_begin(db)) == 0) {
    if ((rc = record(db, ctx, vc_tenant_id(t), call_id, m->jitter_ms,
                     m->packet_loss_pct, m->rtt_ms, m->mos,
                     m->measured_at > 0 ? m->measured_at : vc__now(ctx),
                     VC_QUALITY_HOST, NULL)) < 0 ||
        (rc = vc__audit(db, ctx, vc_tenant_id(t), "call.quality_report",
                        call_id, NULL)) < 0 ||
        (rc = vc__db_commit(db)) < 0)
      vc__db_rollback(db);
  }
  vc__db_release(db);
  if (rc == 0)
    vc_ctx_wakeup(ctx);
  return rc;
}

int vc_call_quality_get(vc_call_quality *out, vc_tenant *t,
                        const char *call_id)
{
  vc_call_quality r = VC_CALL_QUALITY_INIT;
  unsigned int version;
  quality_row q;
  vc_ctx *ctx;
  vc__db *db;
  int rc;

  VC_ASSERT_ARG(out);
  VC_ASSERT_ARG(t);
  VC_CHECK_VERSION(out, VC_CALL_QUALITY_VERSION, "vc_call_quality");
  version = out->version;
  ctx = vc__tenant_ctx(t);
  if ((rc = vc__db_acquire(&db, ctx->store)) < 0)
    return rc;
  if ((rc = call_exists(db, vc_tenant_id(t), call_id)) == 0 &&
      (rc = load(&q, db, vc_tenant_id(t), call_id)) == 0 && !q.found)
    rc = vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                       "call %s has no quality figures", call_id);
  vc__db_release(db);
  if (rc < 0)
    return rc;
  r.version = version;
  r.jitter_ms = q.jitter.v;
  r.jitter_source = q.jitter.source;
  r.packet_loss_pct = q.loss.v;
  r.loss_source = q.loss.source;
  r.rtt_ms = q.rtt.v;
  r.rtt_source = q.rtt.source;
  r.mos = q.mos.v;
  r.mos_source = q.mos.source;
  r.r_factor = q.mos.source == VC_QUALITY_COMPUTED ? q.r : -1.0;
  r.measured_at = q.measured_at;
  r.reports = q.reports;
  /* Version 1 is the whole struct so far. */
  memcpy(out, &r, sizeof(r));
  return 0;
}

int vc_call_quality_init(vc_call_quality *q, unsigned int version)
{
  VC_INIT_STRUCT(q, version, VC_CALL_QUALITY_VERSION, vc_call_quality,
                 VC_CALL_QUALITY_INIT);
}
