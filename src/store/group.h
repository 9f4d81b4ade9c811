/*
 * Group commit: writers on different threads share one transaction and
 * one commit, so that N concurrent durable writes cost about one fsync
 * rather than N, and never meet in SQLite's sleeping busy handler.
 */
#ifndef VC_STORE_GROUP_H
#define VC_STORE_GROUP_H

#include "db.h"

/* At most this many writes share one transaction. */
#define VC__GROUP_MAX 256

/* One write: statements on `db`, inside a transaction the caller does not
 * open. It may run more than once (again after another write of its
 * group failed), so it must not change anything outside the store.
 * Returns >= 0 (passed back to the caller) or a negative error. */
typedef int (*vc__group_fn)(vc__db *db, void *arg);

/* Optional, per write: work on behalf of several writes at once (e.g.
 * one rollup upsert for the group), run after the writes of a group and
 * before its commit, for those that succeeded and gave the same `flush`:
 * flush(db, args, n). If it fails, the group runs again with each write
 * flushing alone right after its fn, so that a failure stays its own
 * write's. It may run more than once, like a write. */
typedef int (*vc__group_flush_fn)(vc__db *db, void *const *args, size_t n);

/* Run `fn` in a transaction, shared with whatever other threads write
 * through here at the same moment, and return once that transaction
 * committed. A write that fails fails alone: the others of its group run
 * again without it. A failed commit fails every write of the group. On a
 * store with one connection (a wrapped host connection, whose own
 * transaction a write must join) each write runs by itself. */
int vc__store_write_grouped(vc_store *store, vc__group_fn fn, void *arg);
/* The same, with a flush (above); NULL is none. */
int vc__store_write_flushed(vc_store *store, vc__group_fn fn,
                            vc__group_flush_fn flush, void *arg);

#endif
