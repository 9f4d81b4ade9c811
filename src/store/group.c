/*
 * Group commit without a thread of its own: the first writer to find no
 * group in progress becomes the leader, takes every write queued so far,
 * runs them in one transaction and wakes their writers; writes queued
 * meanwhile form the next group. A lone writer is a group of one.
 */
#include "core/common.h"
#include "group.h"
#include "store.h"

#include <stdio.h>

typedef struct vc__group_req {
  vc__group_fn fn;
  void *arg;
  int rc;
  int failed;                  /* fn failed: not run again */
  int done;
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
 * 0 when none is waiting. */
static size_t take_queued(vc_store *store, group_req **last, size_t room)
{
  size_t n = 0;

  pthread_mutex_lock(&store->group_lock);
  while (store->group_head != NULL && n < room) {
    group_req *r = store->group_head;
    store->group_head = r->next;
    r->next = NULL;
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
 * `*total` follow the group. */
static group_req *run_writes(vc__db *db, group_req *r, group_req **last,
                             size_t *total)
{
  for (; r != NULL; r = r->next) {
    *last = r;
    (*total)++;
    if (!r->failed && (r->rc = r->fn(db, r->arg)) < 0)
      return r;
  }
  return NULL;
}

/* Run one group to its end: committed, or every write failed. With
 * `join`, writes queued while the group runs join it before the commit,
 * so that producers woken by the previous commit, still preparing their
 * next write when this group began, share this one's fsync. */
static void run_group(vc_store *store, group_req *list, int join)
{
  vc__db *db;
  int rc;

  if ((rc = vc__db_acquire(&db, store)) < 0) {
    fail_rest(list, rc);
    return;
  }
  for (;;) {
    group_req *bad, *last = list;
    size_t total = 0;
    if ((rc = vc__db_begin(db)) < 0) {
      fail_rest(list, rc);
      break;
    }
    bad = run_writes(db, list, &last, &total);
    while (bad == NULL && join && total < VC__GROUP_MAX) {
      group_req *before = last;
      if (take_queued(store, &last, VC__GROUP_MAX - total) == 0)
        break;
      bad = run_writes(db, before->next, &last, &total);
    }
    if (bad != NULL) {
      /* Undo the group, drop the failed write, run the others again. */
      keep_error(bad, bad->rc);
      bad->failed = 1;
      vc__db_rollback(db);
      continue;
    }
    if ((rc = vc__db_commit(db)) < 0) {
      vc__db_rollback(db);
      fail_rest(list, rc);
    }
    break;
  }
  vc__db_release(db);
}

/* A store whose one connection may be inside the host's transaction. */
static int write_alone(vc_store *store, vc__group_fn fn, void *arg)
{
  group_req r;

  memset(&r, 0, sizeof(r));
  r.fn = fn;
  r.arg = arg;
  run_group(store, &r, 0);
  if (r.rc < 0)
    vc_error_set_str(r.err.klass, r.err.code, r.message);
  return r.rc;
}

int vc__store_write_grouped(vc_store *store, vc__group_fn fn, void *arg)
{
  group_req r;

  if (store->ops.max_connections == 1)
    return write_alone(store, fn, arg);
  memset(&r, 0, sizeof(r));
  r.fn = fn;
  r.arg = arg;
  pthread_mutex_lock(&store->group_lock);
  if (store->group_tail != NULL)
    store->group_tail->next = &r;
  else
    store->group_head = &r;
  store->group_tail = &r;
  store->group_queued++;
  while (!r.done) {
    group_req *list, *last;
    size_t n = 1;
    if (store->group_leader) {
      pthread_cond_wait(&store->group_cond, &store->group_lock);
      continue;
    }
    /* Lead: take the queue (up to VC__GROUP_MAX writes). */
    store->group_leader = 1;
    list = last = store->group_head;
    while (last->next != NULL && n < VC__GROUP_MAX) {
      last = last->next;
      n++;
    }
    store->group_head = last->next;
    store->group_queued -= n;
    if (store->group_head == NULL)
      store->group_tail = NULL;
    last->next = NULL;
    pthread_mutex_unlock(&store->group_lock);
    run_group(store, list, 1);
    pthread_mutex_lock(&store->group_lock);
    for (group_req *g = list, *next; g != NULL; g = next) {
      next = g->next;
      g->done = 1;
    }
    store->group_leader = 0;
    pthread_cond_broadcast(&store->group_cond);
  }
  pthread_mutex_unlock(&store->group_lock);
  if (r.rc < 0)
    vc_error_set_str(r.err.klass, r.err.code, r.message);
  return r.rc;
}
