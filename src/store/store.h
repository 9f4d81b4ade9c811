/*
 * The store: a storage backend (vtable and payload) plus a pool of its
 * connections, each with a cache of prepared statements (db.h).
 */
#ifndef VC_STORE_STORE_H
#define VC_STORE_STORE_H

#include <pthread.h>

#include "vyomcomm/sys/storage.h"

typedef struct vc__db vc__db;

struct vc_store {
  vc_storage_ops ops;
  void *payload;
  int owned;                 /* 1 once a context owns it */
  uint32_t stmt_cache_size;  /* statements cached per connection */

  pthread_mutex_t lock;
  pthread_cond_t idle_cond;  /* a connection was released */
  vc__db **idle;             /* idle connections, a stack */
  size_t nidle, idle_cap;
  uint32_t nopen;            /* connections open (idle or in use) */

  /* Group commit (group.c): writes waiting for a leader. */
  pthread_mutex_t group_lock;
  struct vc__group_req *group_head, *group_tail;
  size_t group_queued;        /* writes in that queue */
  int group_leader;           /* a group is being written */
  int group_syncing;          /* groups committed, not yet synced */
  size_t group_last_size;     /* writes in the last group committed */
  pthread_cond_t group_join_cond; /* a write queued, or a sync ended */
  /* Connections set lazy (below), kept for group leaders. */
  vc__db *group_idle[4];
  size_t group_nidle;

  /* Optional, internal (the SQLite backend on a store opened FULL): a
   * connection set lazy commits without syncing, and sync() makes what
   * it committed durable. group.c overlaps one group's sync with the
   * next group's writes. NULL: every commit syncs itself, as before. */
  int (*set_lazy)(void *conn, int lazy);
  int (*sync)(void *conn);
  int group_defer_always;     /* tests: a lone writer's too */

  /* Optional, internal (the SQLite backend): bind text or a blob without
   * copying it. Only for a statement stepped to its end and reset (which
   * clears its bindings) while the bound memory lives: vc__db_run. */
  int (*bind_text_borrowed)(void *stmt, int i, const char *t, size_t n);
  int (*bind_blob_borrowed)(void *stmt, int i, const void *p, size_t n);
};

/* Make a store from an ops table (copied) and payload. */
int vc__store_new(vc_store **out, const vc_storage_ops *ops, void *payload,
                  uint32_t stmt_cache_size);

#endif
