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

/* Run `fn` in a transaction, shared with whatever other threads write
 * through here at the same moment, and return once that transaction
 * committed. A write that fails fails alone: the others of its group run
 * again without it. A failed commit fails every write of the group. On a
 * store with one connection (a wrapped host connection, whose own
 * transaction a write must join) each write runs by itself. */
int vc__store_write_grouped(vc_store *store, vc__group_fn fn, void *arg);

#endif
