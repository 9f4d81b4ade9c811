/*
 * The durable job table. See job.h.
 *
 * A claim moves a due job's due_at to the end of its lease, so one index
 * on due_at serves both fresh jobs and jobs whose engine died: a lease
 * that expires simply makes the job due again.
 */
#include "common.h"
#include "ctx.h"
#include "job.h"
#include "net/transport.h"

#include <stdio.h>

static const char SQL_INSERT[] =
  "INSERT INTO vc_job (tenant_id, id, kind, subject_id, due_at, created_at)"
  " VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
/* The claim is the one statement whose SQL differs per dialect. */
static const char SQL_CLAIM_SQLITE[] =
  "UPDATE vc_job SET lease_owner = ?1, lease_until = ?2, due_at = ?2,"
  " attempts = attempts + 1"
  " WHERE rowid IN (SELECT rowid FROM vc_job WHERE due_at <= ?3"
  "  ORDER BY due_at LIMIT ?4)"
  " RETURNING tenant_id, id, kind, subject_id, attempts";
static const char SQL_CLAIM_POSTGRES[] =
  "UPDATE vc_job SET lease_owner = ?1, lease_until = ?2, due_at = ?2,"
  " attempts = attempts + 1"
  " WHERE (tenant_id, id) IN (SELECT tenant_id, id FROM vc_job"
  "  WHERE due_at <= ?3 ORDER BY due_at LIMIT ?4 FOR UPDATE SKIP LOCKED)"
  " RETURNING tenant_id, id, kind, subject_id, attempts";
static const char SQL_DONE[] =
  "DELETE FROM vc_job WHERE tenant_id = ?1 AND id = ?2 AND lease_owner = ?3";
static const char SQL_DONE_MANY[] =
  "DELETE FROM vc_job WHERE tenant_id = ?65 AND lease_owner = ?66"
  " AND id IN (" VC__DB_IDS_SQL ")";
static const char SQL_RETRY[] =
  "UPDATE vc_job SET due_at = ?4, lease_owner = NULL, lease_until = 0,"
  " last_error = ?5 WHERE tenant_id = ?1 AND id = ?2 AND lease_owner = ?3";
static const char SQL_EXTEND[] =
  "UPDATE vc_job SET lease_until = ?4, due_at = ?4"
  " WHERE tenant_id = ?1 AND id = ?2 AND lease_owner = ?3"
  " AND lease_until < ?4";
static const char SQL_NEXT_DUE[] = "SELECT MIN(due_at) FROM vc_job";

static int add_handler(vc_ctx *ctx, const char *kind, vc__job_fn fn,
                       vc__job_batch_fn batch)
{
  if (ctx->nhandlers >= VC__JOB_KINDS_MAX)
    return vc__error_set(VC_ERRCLASS_INTERNAL, VC_ERROR,
                         "too many job kinds");
  ctx->handlers[ctx->nhandlers].kind = kind;
  ctx->handlers[ctx->nhandlers].fn = fn;
  ctx->handlers[ctx->nhandlers].batch = batch;
  ctx->nhandlers++;
  return 0;
}

int vc__job_register(vc_ctx *ctx, const char *kind, vc__job_fn fn)
{
  return add_handler(ctx, kind, fn, NULL);
}

int vc__job_register_batch(vc_ctx *ctx, const char *kind,
                           vc__job_batch_fn fn)
{
  return add_handler(ctx, kind, NULL, fn);
}

int vc__job_register_async(vc_ctx *ctx, const char *kind,
                           const vc__job_async *async)
{
  if (async->start == NULL || async->ready == NULL || async->end == NULL)
    return vc__error_set(VC_ERRCLASS_INTERNAL, VC_ERROR,
                         "async halves of kind %s incomplete", kind);
  for (size_t i = 0; i < ctx->nhandlers; i++)
    if (strcmp(ctx->handlers[i].kind, kind) == 0 &&
        ctx->handlers[i].batch != NULL) {
      ctx->handlers[i].async = async;
      return 0;
    }
  return vc__error_set(VC_ERRCLASS_INTERNAL, VC_ERROR,
                       "no batch handler for kind %s", kind);
}

int vc__engine_write_acquire(vc__db **db, vc_ctx *ctx)
{
  int rc;

  pthread_mutex_lock(&ctx->engine_write);
  if ((rc = vc__db_acquire(db, ctx->store)) < 0)
    pthread_mutex_unlock(&ctx->engine_write);
  return rc;
}

void vc__engine_write_release(vc__db *db, vc_ctx *ctx)
{
  vc__db_release(db);
  pthread_mutex_unlock(&ctx->engine_write);
}

void vc__engine_init(vc__engine *e, const char *owner)
{
  memset(e, 0, sizeof(*e));
  snprintf(e->owner, sizeof(e->owner), "%s", owner);
}

void vc__engine_fini(vc__engine *e)
{
  vc__transport_free(e->transport);
  e->transport = NULL;
}

void vc__job_retry_machinery(vc_ctx *ctx, const vc__job *job,
                             vc__job_outcome *out, int64_t retry_at)
{
  out->recorded = 0;
  out->result = VC__JOB_RETRY;
  out->retry_at = retry_at;
  snprintf(out->error, sizeof(out->error), "%s", vc_error_last()->message);
  VC_LOG(ctx, VC_LOG_WARN, "job %s (%s) failed: %s", job->id, job->kind,
         out->error);
}

int vc__job_enqueue(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                    const char *kind, const char *subject_id,
                    int64_t due_at, char id_out[VC_ID_SIZE])
{
  char id[VC_ID_SIZE];
  int rc;

  if ((rc = vc__new_id(ctx, id)) < 0)
    return rc;
  rc = vc__db_run(db, SQL_INSERT, "ttttii", tenant_id, id, kind, subject_id,
                  due_at, vc__now(ctx));
  if (rc == 0 && id_out != NULL)
    memcpy(id_out, id, VC_ID_SIZE);
  return rc;
}

static void copy_text(char *dst, size_t size, const char *src)
{
  size_t len = src ? strlen(src) : 0;

  if (len >= size)
    len = size - 1;
  memcpy(dst, src ? src : "", len);
  dst[len] = '\0';
}

int vc__job_claim(vc_ctx *ctx, const char *owner, uint32_t max,
                  vc__job **jobs, size_t *n)
{
  int64_t now = vc__now(ctx);
  const char *sql = SQL_CLAIM_SQLITE;
  vc__job *out;
  vc__db *db;
  vc__stmt *s;
  int rc;

  *jobs = NULL;
  *n = 0;
  if ((out = vc__calloc(max, sizeof(*out))) == NULL)
    return vc_error_set_oom();
  if ((rc = vc__engine_write_acquire(&db, ctx)) < 0) {
    vc__free(out);
    return rc;
  }
  if (vc__db_dialect(db) == VC_DIALECT_POSTGRES)
    sql = SQL_CLAIM_POSTGRES;
  if ((rc = vc__db_begin(db)) < 0)
    goto out;
  if ((rc = vc__db_query(&s, db, sql, "tiii", owner, now + ctx->lease_ms,
                         now, (int64_t)max)) < 0)
    goto fail;
  while ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW && *n < max) {
    vc__job *j = &out[(*n)++];
    copy_text(j->tenant_id, sizeof(j->tenant_id), vc__stmt_text(s, 0));
    copy_text(j->id, sizeof(j->id), vc__stmt_text(s, 1));
    copy_text(j->kind, sizeof(j->kind), vc__stmt_text(s, 2));
    copy_text(j->subject_id, sizeof(j->subject_id), vc__stmt_text(s, 3));
    j->attempts = vc__stmt_int64(s, 4);
  }
  vc__stmt_done(s);
  if (rc < 0 || (rc = vc__db_commit(db)) < 0)
    goto fail;
  *jobs = out;
  out = NULL;
  goto out;
fail:
  vc__db_rollback(db);
  *n = 0;
out:
  vc__free(out);
  vc__engine_write_release(db, ctx);
  return rc < 0 ? rc : 0;
}

static int finish_one(vc__db *db, const char *owner, const vc__job *job,
                      const vc__job_outcome *o)
{
  if (o->result == VC__JOB_DONE)
    return vc__db_run(db, SQL_DONE, "ttt", job->tenant_id, job->id, owner);
  return vc__db_run(db, SQL_RETRY, "tttit", job->tenant_id, job->id, owner,
                    o->retry_at, o->error);
}

int vc__job_record(vc__db *db, const char *owner, const vc__job *job,
                   vc__job_outcome *out)
{
  int rc = finish_one(db, owner, job, out);

  out->recorded = rc == 0;
  return rc;
}

/* Delete the done jobs ids[0..n) of one tenant. */
static int delete_done(vc__db *db, const char *owner, const char *tenant_id,
                       const char *const *ids, size_t n)
{
  vc__stmt *s;
  int rc;

  if ((rc = vc__db_prepare(&s, db, SQL_DONE_MANY)) < 0)
    return rc;
  if ((rc = vc__stmt_bind_ids(s, ids, n)) == 0 &&
      (rc = vc__stmt_bind_text(s, VC__DB_IDS + 1, tenant_id)) == 0 &&
      (rc = vc__stmt_bind_text(s, VC__DB_IDS + 2, owner)) == 0)
    rc = vc__stmt_step(s);
  vc__stmt_done(s);
  return rc < 0 ? rc : 0;
}

int vc__job_record_many(vc__db *db, const char *owner, const vc__job *jobs,
                        vc__job_outcome *out, size_t n)
{
  const char *ids[VC__DB_IDS], *tenant = NULL;
  size_t m = 0;
  int rc = 0;

  for (size_t i = 0; i < n && rc == 0; i++) {
    if (out[i].result != VC__JOB_DONE) {
      rc = vc__job_record(db, owner, &jobs[i], &out[i]);
      continue;
    }
    if (m > 0 && (m == VC__DB_IDS || strcmp(tenant, jobs[i].tenant_id) != 0)) {
      if ((rc = delete_done(db, owner, tenant, ids, m)) < 0)
        break;
      m = 0;
    }
    if (m == 0)
      tenant = jobs[i].tenant_id;
    ids[m++] = jobs[i].id;
  }
  if (rc == 0 && m > 0)
    rc = delete_done(db, owner, tenant, ids, m);
  for (size_t i = 0; i < n; i++)
    out[i].recorded = rc == 0;
  return rc;
}

int vc__job_finish(vc_ctx *ctx, const char *owner, const vc__job *job,
                   const vc__job_outcome *o)
{
  return vc__job_finish_many(ctx, owner, job, o, 1);
}

int vc__job_finish_many(vc_ctx *ctx, const char *owner, const vc__job *jobs,
                        const vc__job_outcome *out, size_t n)
{
  vc__db *db;
  int rc;

  if ((rc = vc__engine_write_acquire(&db, ctx)) < 0)
    return rc;
  if ((rc = vc__db_begin(db)) == 0) {
    for (size_t i = 0; i < n && rc == 0; i++)
      if (!out[i].recorded)
        rc = finish_one(db, owner, &jobs[i], &out[i]);
    if (rc == 0)
      rc = vc__db_commit(db);
    if (rc < 0)
      vc__db_rollback(db);
  }
  vc__engine_write_release(db, ctx);
  return rc;
}

int64_t vc__job_next_due(vc_ctx *ctx)
{
  int64_t due = INT64_MAX;
  vc__db *db;
  vc__stmt *s;

  if (vc__db_acquire(&db, ctx->store) < 0)
    return due;
  if (vc__db_query(&s, db, SQL_NEXT_DUE, "") == 0) {
    if (vc__stmt_step(s) == VC_STORAGE_ROW && !vc__stmt_is_null(s, 0))
      due = vc__stmt_int64(s, 0);
    vc__stmt_done(s);
  }
  vc__db_release(db);
  return due;
}

static const vc__job_handler *find_handler(vc_ctx *ctx, const char *kind)
{
  for (size_t i = 0; i < ctx->nhandlers; i++)
    if (strcmp(ctx->handlers[i].kind, kind) == 0)
      return &ctx->handlers[i];
  return NULL;
}

/* A failure of the machinery: retry after a pause that grows with the
 * attempts (capped at 10 minutes), keeping the error. */
static void machinery_retry(vc_ctx *ctx, const vc__job *job,
                            vc__job_outcome *o, const char *why)
{
  int64_t delay = 1000;

  for (int64_t i = 1; i < job->attempts && delay < 600000; i++)
    delay *= 2;
  if (delay > 600000)
    delay = 600000;
  o->result = VC__JOB_RETRY;
  o->retry_at = vc__now(ctx) + delay;
  snprintf(o->error, sizeof(o->error), "%s", why);
}

/* The jobs of one kind within a claimed batch, gathered for its handler:
 * mine[k] is jobs[idx[k]], its outcome res[k]. */
typedef struct kind_group {
  const vc__job_handler *h;
  size_t *idx;
  vc__job *mine;
  vc__job_outcome *res;
  size_t m;
} kind_group;

static void group_free(kind_group *g)
{
  vc__free(g->idx);
  vc__free(g->mine);
  vc__free(g->res);
  memset(g, 0, sizeof(*g));
}

static int group_gather(kind_group *g, const vc__job_handler *h,
                        const vc__job *jobs, size_t n, const uint8_t *handled)
{
  memset(g, 0, sizeof(*g));
  g->h = h;
  g->idx = vc__calloc(n, sizeof(*g->idx));
  g->mine = vc__calloc(n, sizeof(*g->mine));
  g->res = vc__calloc(n, sizeof(*g->res));
  if (g->idx == NULL || g->mine == NULL || g->res == NULL) {
    group_free(g);
    return vc_error_set_oom();
  }
  for (size_t i = 0; i < n; i++)
    if (!handled[i] && strcmp(jobs[i].kind, h->kind) == 0) {
      g->idx[g->m] = i;
      g->mine[g->m++] = jobs[i];
    }
  return 0;
}

/* The group's outcomes back into the batch; a failed handler retries
 * all its jobs. */
static void group_scatter(vc_ctx *ctx, kind_group *g, int rc,
                          vc__job_outcome *out, uint8_t *handled)
{
  if (rc < 0) {
    VC_LOG(ctx, VC_LOG_WARN, "jobs of kind %s failed: %s", g->h->kind,
           vc_error_last()->message);
    for (size_t k = 0; k < g->m; k++)
      machinery_retry(ctx, &g->mine[k], &g->res[k],
                      vc_error_last()->message);
  }
  for (size_t k = 0; k < g->m; k++) {
    out[g->idx[k]] = g->res[k];
    handled[g->idx[k]] = 1;
  }
}

/* Run the jobs of one batch handler: gather its jobs, run them at once.
 * On allocation failure they stay unhandled; single handling retries
 * them. */
static void run_kind(vc_ctx *ctx, vc__engine *engine,
                     const vc__job_handler *h, vc__job *jobs, size_t n,
                     vc__job_outcome *out, uint8_t *handled)
{
  kind_group g;

  if (group_gather(&g, h, jobs, n, handled) < 0)
    return;
  group_scatter(ctx, &g, h->batch(ctx, engine, g.mine, g.m, g.res), out,
                handled);
  group_free(&g);
}

/* A claimed batch on its way through the handlers. */
struct vc__job_pending {
  vc__job *jobs;
  size_t n;
  vc__job_outcome *out;
  uint8_t *handled;
  kind_group async;            /* the kind started in the host's loop */
  void *state;                 /* its handler's */
};

static void pending_free(vc__job_pending *p)
{
  if (p == NULL)
    return;
  group_free(&p->async);
  vc__free(p->jobs);
  vc__free(p->out);
  vc__free(p->handled);
  vc__free(p);
}

/* Claim a batch. 0 with *out NULL when nothing is due. */
static int claim(vc_ctx *ctx, vc__engine *engine, vc__job_pending **out)
{
  vc__job_pending *p;
  int rc;

  *out = NULL;
  /* A read first: an idle engine should not take the write lock. */
  if (vc__job_next_due(ctx) > vc__now(ctx))
    return 0;
  if ((p = vc__calloc(1, sizeof(*p))) == NULL)
    return vc_error_set_oom();
  if ((rc = vc__job_claim(ctx, engine->owner, ctx->claim_batch, &p->jobs,
                          &p->n)) < 0 || p->n == 0) {
    pending_free(p);
    return rc;
  }
  p->out = vc__calloc(p->n, sizeof(*p->out));
  p->handled = vc__calloc(p->n, 1);
  if (p->out == NULL || p->handled == NULL) {
    /* The leases expire and the jobs run again. */
    pending_free(p);
    return vc_error_set_oom();
  }
  *out = p;
  return 0;
}

/* Run every job not handled yet, one by one. */
static void run_singles(vc_ctx *ctx, vc__job_pending *p)
{
  for (size_t i = 0; i < p->n; i++) {
    const vc__job_handler *h;
    int rc;
    if (p->handled[i])
      continue;
    h = find_handler(ctx, p->jobs[i].kind);
    if (h == NULL || h->fn == NULL) {
      /* A kind from a newer library sharing the store: leave it be. */
      machinery_retry(ctx, &p->jobs[i], &p->out[i],
                      "no handler for this job kind");
      VC_LOG(ctx, VC_LOG_WARN, "job %s: no handler for kind '%s'",
             p->jobs[i].id, p->jobs[i].kind);
    } else if ((rc = h->fn(ctx, &p->jobs[i], &p->out[i])) < 0) {
      machinery_retry(ctx, &p->jobs[i], &p->out[i],
                      vc_error_last()->message);
      VC_LOG(ctx, VC_LOG_WARN, "job %s (%s) failed: %s", p->jobs[i].id,
             p->jobs[i].kind, p->out[i].error);
    }
  }
}

/* Record every outcome and free the batch. An unrecorded outcome is not
 * lost: the lease expires and the job runs again. */
static int finish_batch(vc_ctx *ctx, vc__engine *engine, vc__job_pending *p)
{
  int n = (int)p->n;
  size_t left = 0;

  for (size_t i = 0; i < p->n; i++)
    left += !p->out[i].recorded;
  if (left > 0 && vc__job_finish_many(ctx, engine->owner, p->jobs, p->out, p->n) < 0)
    VC_LOG(ctx, VC_LOG_ERROR, "cannot record %zu job outcomes: %s", p->n,
           vc_error_last()->message);
  pending_free(p);
  return n;
}

int vc__job_run_batch(vc_ctx *ctx, vc__engine *engine)
{
  vc__job_pending *p;
  int rc;

  if ((rc = claim(ctx, engine, &p)) < 0 || p == NULL)
    return rc;
  for (size_t i = 0; i < p->n; i++) {
    const vc__job_handler *h = find_handler(ctx, p->jobs[i].kind);
    if (!p->handled[i] && h != NULL && h->batch != NULL)
      run_kind(ctx, engine, h, p->jobs, p->n, p->out, p->handled);
  }
  run_singles(ctx, p);
  return finish_batch(ctx, engine, p);
}

int vc__job_loop_start(vc_ctx *ctx, vc__engine *engine,
                       vc__job_pending **pending)
{
  vc__job_pending *p;
  int rc, n;

  *pending = NULL;
  if ((rc = claim(ctx, engine, &p)) < 0 || p == NULL)
    return rc;
  n = (int)p->n;
  /* One kind runs in the loop (the engine has one transport); the
   * others run to their end now. */
  for (size_t i = 0; i < p->n; i++) {
    const vc__job_handler *h = find_handler(ctx, p->jobs[i].kind);
    if (p->handled[i] || h == NULL || h->batch == NULL)
      continue;
    if (h->async == NULL || p->async.h != NULL) {
      run_kind(ctx, engine, h, p->jobs, p->n, p->out, p->handled);
      continue;
    }
    if (group_gather(&p->async, h, p->jobs, p->n, p->handled) < 0)
      break; /* run one by one below, as run_kind would */
    rc = h->async->start(ctx, engine, p->async.mine, p->async.m,
                         p->async.res, &p->state);
    if (rc <= 0) {
      /* Failed (no state then), or nothing to wait for: finish now. */
      if (rc == 0 && p->state != NULL)
        rc = h->async->end(ctx, engine, p->state);
      p->state = NULL;
      group_scatter(ctx, &p->async, rc, p->out, p->handled);
      group_free(&p->async);
      continue;
    }
    for (size_t k = 0; k < p->async.m; k++)
      p->handled[p->async.idx[k]] = 1;
  }
  run_singles(ctx, p);
  if (p->state == NULL) {
    finish_batch(ctx, engine, p);
    return n;
  }
  *pending = p;
  return n;
}

int vc__job_loop_end(vc_ctx *ctx, vc__engine *engine,
                     vc__job_pending *p)
{
  int rc = p->async.h->async->end(ctx, engine, p->state);

  p->state = NULL;
  group_scatter(ctx, &p->async, rc, p->out, p->handled);
  return finish_batch(ctx, engine, p);
}

int vc__job_pending_ready(vc__job_pending *p)
{
  return p->state == NULL || p->async.h->async->ready(p->state);
}

int vc__job_extend(vc_ctx *ctx, const char *owner, const vc__job *job,
                   int64_t until)
{
  vc__db *db;
  int rc;

  if ((rc = vc__db_acquire(&db, ctx->store)) < 0)
    return rc;
  rc = vc__db_run(db, SQL_EXTEND, "ttti", job->tenant_id, job->id, owner,
                  until);
  vc__db_release(db);
  return rc;
}
