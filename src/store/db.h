/*
 * A connection of the store and its statements, as the rest of the
 * library uses them. Library SQL is written once, with ?N parameters, in
 * the subset of SQL that SQLite and PostgreSQL share.
 *
 * A connection is used by one thread at a time: acquire it, use it,
 * release it. Code that holds a connection never acquires a second one
 * (a store may have only one, e.g. the host's wrapped connection).
 */
#ifndef VC_STORE_DB_H
#define VC_STORE_DB_H

#include "store.h"

typedef struct vc__stmt vc__stmt;

int  vc__db_acquire(vc__db **out, vc_store *store);
void vc__db_release(vc__db *db);
/* Close an acquired connection instead of releasing it. */
void vc__db_discard(vc__db *db);
int  vc__db_dialect(const vc__db *db);

int  vc__db_exec(vc__db *db, const char *sql);
/* Prepare, or take from the cache when `sql` was prepared before. The
 * cache keeps the pointer: `sql` must be static text. */
int  vc__db_prepare(vc__stmt **out, vc__db *db, const char *sql);

/* A write transaction; nests as savepoints. */
int  vc__db_begin(vc__db *db);
int  vc__db_commit(vc__db *db);
/* Roll back, keeping the error detail that caused it. */
void vc__db_rollback(vc__db *db);
int64_t vc__db_changes(vc__db *db);

/* Deferred durability, on a store that has it (store.h): 1 when
 * vc__db_set_lazy and vc__db_sync work on its connections. */
int  vc__db_can_defer_sync(const vc_store *store);
/* With lazy = 1 the connection's commits no longer wait for the disk;
 * vc__db_sync then makes everything committed so far durable. */
int  vc__db_set_lazy(vc__db *db, int lazy);
int  vc__db_sync(vc__db *db);

/* A read transaction around a run of reads: one snapshot, and one WAL
 * read lock instead of one per statement. 1 when one was opened (end it
 * with vc__db_read_end before the connection writes or is released); 0
 * when none could be (another dialect, or a host connection already in a
 * transaction), and the reads run as before. */
int  vc__db_read_begin(vc__db *db);
void vc__db_read_end(vc__db *db);

/* step(db, i, arg) for each i in [0, n), all in one transaction on a
 * connection of the store: 0 when every step and the commit succeeded;
 * else < 0 with nothing kept, and the caller takes the steps one
 * transaction each. Batching only saves commits: it must never change
 * what is recorded. */
typedef int (*vc__db_step_fn)(vc__db *db, size_t i, void *arg);
int vc__db_batch(vc_store *store, size_t n, vc__db_step_fn step, void *arg);

int vc__stmt_bind_text(vc__stmt *s, int idx, const char *text);
int vc__stmt_bind_textn(vc__stmt *s, int idx, const char *text, size_t n);
/* The same without a copy where the backend can: `text` must live until
 * vc__stmt_done (which clears the bindings). */
int vc__stmt_bind_text_kept(vc__stmt *s, int idx, const char *text);
int vc__stmt_bind_int64(vc__stmt *s, int idx, int64_t v);
int vc__stmt_bind_blob(vc__stmt *s, int idx, const void *p, size_t n);
int vc__stmt_bind_null(vc__stmt *s, int idx);
int vc__stmt_bind_double(vc__stmt *s, int idx, double v);
/* VC_STORAGE_ROW, VC_STORAGE_DONE or a negative code. */
int vc__stmt_step(vc__stmt *s);
int vc__stmt_is_null(vc__stmt *s, int col);
int64_t vc__stmt_int64(vc__stmt *s, int col);
double vc__stmt_double(vc__stmt *s, int col);
/* NULL for SQL NULL; valid until the next step or done. */
const char *vc__stmt_text(vc__stmt *s, int col);
const void *vc__stmt_blob(vc__stmt *s, int col, size_t *len);
/* Reset the statement and give it back to the cache. NULL is accepted. */
void vc__stmt_done(vc__stmt *s);

/*
 * Prepare `sql` and bind arguments described by `types`, one letter per
 * parameter ?1, ?2, ...:
 *   t  const char *        text (NULL binds NULL)
 *   i  int64_t             integer
 *   d  double              real
 *   b  const void *, size_t blob
 *   n  (no argument)       NULL
 * vc__db_query leaves the statement to the caller (step, then done);
 * vc__db_run steps it to completion.
 */
int vc__db_query(vc__stmt **out, vc__db *db, const char *sql,
                 const char *types, ...);
int vc__db_run(vc__db *db, const char *sql, const char *types, ...);

/*
 * One statement for a set of rows instead of one per row: VC__DB_IDS_SQL
 * is the list "?1, ..., ?64" for an IN (...) of ids, and the statement's
 * other parameters are numbered from ?65 (VC__DB_IDS + 1). bind_ids binds
 * ids[0..n) (n <= VC__DB_IDS) and NULL to the rest, which matches no row.
 */
#define VC__DB_IDS 64
#define VC__DB_IDS_SQL \
  "?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, " \
  "?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, " \
  "?31, ?32, ?33, ?34, ?35, ?36, ?37, ?38, ?39, ?40, ?41, ?42, ?43, ?44, " \
  "?45, ?46, ?47, ?48, ?49, ?50, ?51, ?52, ?53, ?54, ?55, ?56, ?57, ?58, " \
  "?59, ?60, ?61, ?62, ?63, ?64"
int vc__stmt_bind_ids(vc__stmt *s, const char *const *ids, size_t n);

#endif
