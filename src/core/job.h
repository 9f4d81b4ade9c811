/*
 * The durable job table: everything that waits or talks to a provider is
 * a job (kind, subject, due time) claimed by an engine under a lease.
 * Messages and calls keep their own state; jobs move them.
 */
#ifndef VC_CORE_JOB_H
#define VC_CORE_JOB_H

#include "vyomcomm/ctx.h"
#include "store/db.h"

#define VC__JOB_KINDS_MAX 32

/* A claimed job. */
typedef struct vc__job {
  char tenant_id[VC_ID_SIZE];
  char id[VC_ID_SIZE];
  char kind[48];
  char subject_id[VC_ID_SIZE];
  int64_t attempts;      /* including this one */
} vc__job;

/* What a handler decides. */
typedef enum vc__job_result {
  VC__JOB_DONE = 0,      /* finished: remove the job */
  VC__JOB_RETRY = 1      /* run again at `retry_at` */
} vc__job_result;

typedef struct vc__job_outcome {
  int result;            /* a vc__job_result */
  int64_t retry_at;
  char error[256];       /* recorded as last_error on retry */
  int recorded;          /* the handler applied it to the job row in its
                            own transaction (vc__job_record) */
} vc__job_outcome;

/* The engine running a batch: its lease owner name and its transport. */
typedef struct vc__engine {
  char owner[VC_ID_SIZE + 8];
  struct vc__transport *transport; /* created on first use */
} vc__engine;

/* The job's own machinery failed (not its provider): record the error
 * detail and run it again at `retry_at`. */
void vc__job_retry_machinery(vc_ctx *ctx, const vc__job *job,
                             vc__job_outcome *out, int64_t retry_at);

/* Runs one job. It acquires store connections itself; it returns < 0
 * only for failures of its own machinery (the job is then retried). */
typedef int (*vc__job_fn)(vc_ctx *ctx, const vc__job *job,
                          vc__job_outcome *out);

/* Runs all claimed jobs of its kind at once (out[i] for jobs[i]). */
typedef int (*vc__job_batch_fn)(vc_ctx *ctx, vc__engine *engine,
                                const vc__job *jobs, size_t n,
                                vc__job_outcome *out);

/* A batch handler's halves for the host's loop (vc_ctx_set_loop) and for
 * engine threads, which keep two batches in flight: `start` does the
 * store work and queues its transfers on the engine's transport,
 * returning 1 while they run (0: nothing to wait for) and its state;
 * `ready` says whether they all ended; `end` records the outcomes once
 * they did and frees the state. */
typedef struct vc__job_async {
  int (*start)(vc_ctx *ctx, vc__engine *engine, const vc__job *jobs,
               size_t n, vc__job_outcome *out, void **state);
  int (*ready)(void *state);
  int (*end)(vc_ctx *ctx, vc__engine *engine, void *state);
} vc__job_async;

typedef struct vc__job_handler {
  const char *kind;
  vc__job_fn fn;
  vc__job_batch_fn batch;
  const vc__job_async *async;  /* NULL: runs to its end in the loop */
} vc__job_handler;

/* Register a handler for a kind (at context creation). */
int vc__job_register(vc_ctx *ctx, const char *kind, vc__job_fn fn);
int vc__job_register_batch(vc_ctx *ctx, const char *kind,
                           vc__job_batch_fn fn);

/* Give a registered batch kind its halves for the host's loop. */
int vc__job_register_async(vc_ctx *ctx, const char *kind,
                           const vc__job_async *async);

/* Insert a job inside the caller's transaction on `db`. */
int vc__job_enqueue(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                    const char *kind, const char *subject_id,
                    int64_t due_at, char id_out[VC_ID_SIZE]);

/* A connection for one of the engine's write transactions (claims,
 * marking messages sending, recording outcomes), taken only while no
 * other engine thread runs one: two engine threads then hand over at
 * once instead of sleeping in SQLite's busy handler at BEGIN IMMEDIATE.
 * Not to be nested. */
int vc__engine_write_acquire(vc__db **db, vc_ctx *ctx);
void vc__engine_write_release(vc__db *db, vc_ctx *ctx);

/* Claim up to `max` due jobs for `owner`. `*jobs` is allocated. */
int vc__job_claim(vc_ctx *ctx, const char *owner, uint32_t max,
                  vc__job **jobs, size_t *n);

/* Apply an outcome inside the caller's transaction on `db`, so that it
 * commits with the handler's own changes; sets out->recorded, which the
 * caller clears again if that transaction rolls back. */
int vc__job_record(vc__db *db, const char *owner, const vc__job *job,
                   vc__job_outcome *out);
/* The same for jobs[0..n) and out[0..n): the done ones deleted with one
 * statement per run of up to VC__DB_IDS jobs of a tenant. */
int vc__job_record_many(vc__db *db, const char *owner, const vc__job *jobs,
                        vc__job_outcome *out, size_t n);

/* Apply an outcome; a no-op when the lease was lost to another owner. */
int vc__job_finish(vc_ctx *ctx, const char *owner, const vc__job *job,
                   const vc__job_outcome *out);
/* Keep the lease of a job this owner runs until `until` (a handler that
 * waits longer than a lease: a session's placement). A no-op when the
 * lease was lost. */
int vc__job_extend(vc_ctx *ctx, const char *owner, const vc__job *job,
                   int64_t until);

/* Apply n outcomes in one transaction. */
int vc__job_finish_many(vc_ctx *ctx, const char *owner, const vc__job *jobs,
                        const vc__job_outcome *out, size_t n);

/* The earliest due_at of any job, or INT64_MAX when there is none. */
int64_t vc__job_next_due(vc_ctx *ctx);

/* Claim and run one batch. Returns the number of jobs run, or < 0. */
int vc__job_run_batch(vc_ctx *ctx, vc__engine *engine);

/* The host's loop: claim a batch, run the kinds that cannot wait and
 * start the one with async halves. Returns the number of jobs claimed;
 * *pending is set while transfers run, and vc__job_loop_end() then
 * finishes the batch once the transport is done. */
typedef struct vc__job_pending vc__job_pending;
int vc__job_loop_start(vc_ctx *ctx, vc__engine *engine,
                       vc__job_pending **pending);
int vc__job_loop_end(vc_ctx *ctx, vc__engine *engine,
                     vc__job_pending *pending);
/* 1 when a pending batch's transfers all ended (vc__job_loop_end may
 * run): engine threads keep several batches pending on one transport. */
int vc__job_pending_ready(vc__job_pending *pending);

void vc__engine_init(vc__engine *e, const char *owner);
void vc__engine_fini(vc__engine *e);

#endif
