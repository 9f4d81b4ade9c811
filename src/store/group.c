/*
 * Group commit without a thread of its own: the first writer to find no
 * group in progress becomes the leader, takes every write queued so far,
 * runs them in one transaction and wakes their writers; writes queued
 * meanwhile form the next group. A lone writer is a group of one.
 *
 * On a store that can defer its syncs (store.h), the leader commits
 * without waiting for the disk, hands the leader role on at once, and
 * only then syncs the WAL and wakes its writers: the next group's writes
 * overlap this group's fsync, and no writer returns before the sync that
 * makes its write durable.
 */
#include "core/common.h"
#include "group.h"
#include "store.h"

#include <stdio.h>

typedef struct vc__group_req {
  vc__group_fn fn;
  vc__group_flush_fn flush;
  void *arg;
  int rc;
  int failed;                  /* fn failed: not run again */
  int taken;                   /* in a group (no longer queued) */
  int done;
  pthread_cond_t cond;         /* its writer's: to lead, or done */
  vc_error err;                /* the error when rc < 0 */
  char message[256];
  struct vc__group_req *next;
} group_req;

static void keep_error(group_req *r, int rc)
{
  const vc_error *e = vc_error_last();

  r->rc = rc;
  r->err = *e;
  snprintf(r->message, sizeof(r->message), "%s", e->message);
}

static void fail_rest(group_req *list, int rc)
{
  for (group_req *r = list; r != NULL; r = r->next)
    if (!r->failed) {
      keep_error(r, rc);
      r->failed = 1;
    }
}

/* Move up to `room` queued writes to the end of a group (after *last).
 * 0 when none is waiting. With `until_synced`, while the previous group
 * is still syncing, wait for writes to come: they would wait for that
 * sync anyway, and this way they share the next one. */
static size_t take_queued(vc_store *store, group_req **last, size_t room,
                          int until_synced)
{
  size_t n = 0;

  pthread_mutex_lock(&store->group_lock);
  while (until_synced && store->group_head == NULL &&
         store->group_syncing > 0)
    pthread_cond_wait(&store->group_join_cond, &store->group_lock);
  while (store->group_head != NULL && n < room) {
    group_req *r = store->group_head;
    store->group_head = r->next;
    r->next = NULL;
    r->taken = 1;
    (*last)->next = r;
    *last = r;
    n++;
  }
  if (store->group_head == NULL)
    store->group_tail = NULL;
  store->group_queued -= n;
  pthread_mutex_unlock(&store->group_lock);
  return n;
}

/* Run the writes from `r` on; the one that failed, or NULL. `*last` and
 * `*total` follow the group. With `alone`, each write flushes itself. */
static group_req *run_writes(vc__db *db, group_req *r, group_req **last,
                             size_t *total, int alone)
{
  for (; r != NULL; r = r->next) {
    *last = r;
    (*total)++;
    if (r->failed)
      continue;
    if ((r->rc = r->fn(db, r->arg)) < 0)
      return r;
    if (alone && r->flush != NULL) {
      int rc = r->flush(db, &r->arg, 1);
      if (rc < 0) {
        r->rc = rc;
        return r;
      }
    }
  }
  return NULL;
}

/* The group's flushes, each once for the writes that gave it. */
static int flush_group(vc__db *db, group_req *list)
{
  void *args[VC__GROUP_MAX];

  for (group_req *r = list; r != NULL; r = r->next) {
    vc__group_flush_fn flush = r->flush;
    size_t n = 0;
    int rc;
    if (flush == NULL || r->failed)
      continue;
    /* Earlier writes with this flush were flushed with the first. */
    for (group_req *q = list; q != r && flush != NULL; q = q->next)
      if (q->flush == flush && !q->failed)
        flush = NULL;
    if (flush == NULL)
      continue;
    for (group_req *q = r; q != NULL; q = q->next)
      if (q->flush == flush && !q->failed)
        args[n++] = q->arg;
    if ((rc = flush(db, args, n)) < 0)
      return rc;
  }
  return 0;
}

/* A connection for a group: with `lazy`, one whose commits do not sync
 * (kept between groups), else NULL in *lazy_out and one from the pool. */
static int group_db(vc__db **out, vc_store *store, int *lazy)
{
  int rc;

  if (*lazy) {
    pthread_mutex_lock(&store->group_lock);
    if (store->group_nidle > 0) {
      *out = store->group_idle[--store->group_nidle];
      pthread_mutex_unlock(&store->group_lock);
      return 0;
    }
    pthread_mutex_unlock(&store->group_lock);
  }
  if ((rc = vc__db_acquire(out, store)) < 0)
    return rc;
  if (*lazy && vc__db_set_lazy(*out, 1) < 0)
    *lazy = 0; /* this group syncs on commit, as before */
  return 0;
}

static void group_db_release(vc_store *store, vc__db *db, int lazy)
{
  if (lazy) {
    pthread_mutex_lock(&store->group_lock);
    if (store->group_nidle < sizeof(store->group_idle) /
                               sizeof(store->group_idle[0])) {
      store->group_idle[store->group_nidle++] = db;
      db = NULL;
    }
    pthread_mutex_unlock(&store->group_lock);
    /* Back to the pool, where commits must sync again. */
    if (db != NULL && vc__db_set_lazy(db, 0) < 0) {
      vc__db_discard(db);
      return;
    }
  }
  if (db != NULL)
    vc__db_release(db);
}

/* Run one group to its end: committed, or every write failed; the
 * number of writes it ran. With `join`, writes queued while the group
 * runs join it before the commit, so that producers woken by the
 * previous commit, still preparing their next write when this group
 * began, share this one's fsync. With `unsynced`, a commit that still
 * needs vc__db_sync leaves its connection there (else NULL): the caller
 * syncs and releases it. */
static size_t run_group(vc_store *store, group_req *list, int join,
                        vc__db **unsynced)
{
  vc__db *db;
  size_t total = 0;
  int rc, lazy = unsynced != NULL;

  if (unsynced != NULL)
    *unsynced = NULL;
  if ((rc = group_db(&db, store, &lazy)) < 0) {
    fail_rest(list, rc);
    return 0;
  }
  for (int alone = 0;;) {
    group_req *bad, *last = list;
    total = 0;
    if ((rc = vc__db_begin(db)) < 0) {
      fail_rest(list, rc);
      break;
    }
    bad = run_writes(db, list, &last, &total, alone);
    while (bad == NULL && join && total < VC__GROUP_MAX) {
      group_req *before = last;
      if (take_queued(store, &last, VC__GROUP_MAX - total, lazy) == 0)
        break;
      bad = run_writes(db, before->next, &last, &total, alone);
    }
    if (bad != NULL) {
      /* Undo the group, drop the failed write, run the others again. */
      keep_error(bad, bad->rc);
      bad->failed = 1;
      vc__db_rollback(db);
      continue;
    }
    if (!alone && flush_group(db, list) < 0) {
      /* Whose failure is unknown: again, each write flushing alone. */
      vc__db_rollback(db);
      alone = 1;
      continue;
    }
    if ((rc = vc__db_commit(db)) < 0) {
      vc__db_rollback(db);
      fail_rest(list, rc);
    } else if (lazy) {
      *unsynced = db;
      return total;
    }
    break;
  }
  group_db_release(store, db, lazy);
  return total;
}

/* Wake a group's writers, one by one: a broadcast to every waiting
 * writer woke those of other groups too, a futex call each for
 * nothing. Called with group_lock held, which a woken writer needs
 * before it can return (and its group_req go). */
static void finish(group_req *list)
{
  for (group_req *g = list; g != NULL; g = g->next) {
    g->done = 1;
    pthread_cond_signal(&g->cond);
  }
}

/* Lead one group (called without group_lock, as the leader). */
static void lead(vc_store *store, group_req *list, int defer)
{
  vc__db *db = NULL;
  size_t size;
  int rc;

  size = run_group(store, list, 1, defer ? &db : NULL);
  /* The next group may begin: this one's writes are committed. */
  pthread_mutex_lock(&store->group_lock);
  store->group_leader = 0;
  store->group_last_size = size;
  if (db == NULL)
    finish(list);
  else
    store->group_syncing++;
  /* The first queued writer leads next (the others it takes along). */
  if (store->group_head != NULL)
    pthread_cond_signal(&store->group_head->cond);
  pthread_mutex_unlock(&store->group_lock);
  if (db == NULL)
    return;
  /* Committed but not yet durable: readers (the dispatcher) may see
   * these rows before this sync ends. That is safe because a FULL
   * commit (the dispatcher's move to 'sending') syncs the same WAL file,
   * which covers these earlier frames; and a writer of a later group
   * that found one of these rows (an idempotent replay) returns only
   * after its own group's sync, which covers them too. */
  if ((rc = vc__db_sync(db)) < 0) {
    /* The rows stay: other connections may already have read them. */
    char cause[200];
    snprintf(cause, sizeof(cause), "%s", vc_error_last()->message);
    vc__error_set(vc_error_last()->klass, rc, "committed, but the sync "
                  "that makes it durable failed: %s", cause);
    fail_rest(list, rc);
  }
  group_db_release(store, db, 1);
  pthread_mutex_lock(&store->group_lock);
  store->group_syncing--;
  finish(list);
  pthread_cond_signal(&store->group_join_cond);
  pthread_mutex_unlock(&store->group_lock);
}

/* A store whose one connection may be inside the host's transaction. */
static int write_alone(vc_store *store, vc__group_fn fn,
                       vc__group_flush_fn flush, void *arg)
{
  group_req r;

  memset(&r, 0, sizeof(r));
  r.fn = fn;
  r.flush = flush;
  r.arg = arg;
  run_group(store, &r, 0, NULL);
  if (r.rc < 0)
    vc_error_set_str(r.err.klass, r.err.code, r.message);
  return r.rc;
}

int vc__store_write_grouped(vc_store *store, vc__group_fn fn, void *arg)
{
  return vc__store_write_flushed(store, fn, NULL, arg);
}

int vc__store_write_flushed(vc_store *store, vc__group_fn fn,
                            vc__group_flush_fn flush, void *arg)
{
  group_req r;

  if (store->ops.max_connections == 1)
    return write_alone(store, fn, flush, arg);
  memset(&r, 0, sizeof(r));
  r.fn = fn;
  r.flush = flush;
  r.arg = arg;
  pthread_cond_init(&r.cond, NULL);
  pthread_mutex_lock(&store->group_lock);
  if (store->group_tail != NULL)
    store->group_tail->next = &r;
  else
    store->group_head = &r;
  store->group_tail = &r;
  store->group_queued++;
  if (store->group_syncing > 0)
    pthread_cond_signal(&store->group_join_cond); /* a leader may wait */
  while (!r.done) {
    group_req *list, *last;
    size_t n = 1;
    int defer;
    /* Wait while a group is being written, or while ours, taken into
     * one, is being synced. */
    if (store->group_leader || r.taken) {
      pthread_cond_wait(&r.cond, &store->group_lock);
      continue;
    }
    /* Lead: take the queue (up to VC__GROUP_MAX writes). */
    store->group_leader = 1;
    list = last = store->group_head;
    list->taken = 1;
    while (last->next != NULL && n < VC__GROUP_MAX) {
      last = last->next;
      last->taken = 1;
      n++;
    }
    store->group_head = last->next;
    store->group_queued -= n;
    if (store->group_head == NULL)
      store->group_tail = NULL;
    last->next = NULL;
    /* A lone writer (nothing else queued or syncing, and the last
     * group a write alone too) commits and syncs on a connection of the
     * pool, most likely the one it just read on, whose page cache is
     * then still valid: deferring its sync would save it nothing. After
     * a group of several, it defers: other writers are likely to join
     * it while it runs, and its sync inside the commit would hold the
     * leader role, and every writer queued behind it, for that time. */
    defer = vc__db_can_defer_sync(store) &&
            (list != last || store->group_head != NULL ||
             store->group_syncing > 0 || store->group_last_size > 1 ||
             store->group_defer_always);
    pthread_mutex_unlock(&store->group_lock);
    lead(store, list, defer);
    pthread_mutex_lock(&store->group_lock);
  }
  pthread_mutex_unlock(&store->group_lock);
  pthread_cond_destroy(&r.cond);
  if (r.rc < 0)
    vc_error_set_str(r.err.klass, r.err.code, r.message);
  return r.rc;
}
