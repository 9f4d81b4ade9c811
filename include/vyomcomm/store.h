/**
 * @file vyomcomm/store.h
 * @brief Opening a store: embedded SQLite, the host's own SQLite
 *        connection, or a custom backend (vyomcomm/sys/storage.h).
 *
 * Thread safety: a store is not used by two threads before it is handed
 * to vc_ctx_new(); afterwards the context serialises access to it.
 *
 * @defgroup vc_store Stores
 * @{
 */
#ifndef VYOMCOMM_STORE_H
#define VYOMCOMM_STORE_H

#include "common.h"
#include "types.h"

VC_BEGIN_DECL

struct sqlite3;

/** SQLite durability. Values are pinned. */
typedef enum vc_sqlite_sync {
  /** WAL with synchronous=NORMAL: a commit survives a process crash; the
   *  last commits may be lost on power failure. The default. */
  VC_SQLITE_SYNC_NORMAL = 1,
  /** WAL with synchronous=FULL: a commit survives power failure. */
  VC_SQLITE_SYNC_FULL = 2
} vc_sqlite_sync;

/** Options for vc_store_open_sqlite(). */
typedef struct vc_sqlite_options {
  unsigned int version;   /**< VC_SQLITE_OPTIONS_VERSION */
  int synchronous;        /**< a vc_sqlite_sync; 0 = NORMAL */
  int busy_timeout_ms;    /**< 0 = 5000 */
  /** Statements cached per connection; 0 = 64. */
  uint32_t statement_cache;
} vc_sqlite_options;

/** The current version of vc_sqlite_options, and an initializer with every
 *  member at its default (vc_sqlite_options_init() for other languages). */
#define VC_SQLITE_OPTIONS_VERSION 1
#define VC_SQLITE_OPTIONS_INIT { VC_SQLITE_OPTIONS_VERSION, 0, 0, 0 }

/** Initialise a vc_sqlite_options for `version`. @since 0.1 */
VC_EXTERN(int) vc_sqlite_options_init(vc_sqlite_options *o,
                                      unsigned int version);

/**
 * Open (or create) an SQLite database file as a store. The library opens
 * one connection per engine thread, in WAL mode with foreign keys on.
 * ":memory:" is accepted for short-lived tests and is limited to one
 * connection.
 *
 * @param out receives the store; pass it in vc_ctx_options.store, or free
 *   it with vc_store_free()
 * @param path a file path (UTF-8)
 * @param opts NULL for defaults
 * @return 0, VC_EINVALID, VC_ESTORAGE (cannot open), VC_ECORRUPT
 * @since 0.1
 */
VC_EXTERN(int) vc_store_open_sqlite(vc_store **out, const char *path,
                                    const vc_sqlite_options *opts);

/**
 * Use the host's own SQLite connection as the store, so that a library
 * write and the host's write commit or roll back together: when the host
 * has a transaction open, library writes join it (as a savepoint).
 * The connection stays the host's: the library never closes it, uses it
 * only for library calls, and serialises those calls. Engine threads must
 * not run on such a context while the host's transaction is open.
 *
 * @param out receives the store
 * @param db an open connection (SQLite's serialized threading mode)
 * @return 0 or VC_EINVALID
 * @since 0.1
 */
VC_EXTERN(int) vc_store_wrap_sqlite(vc_store **out, struct sqlite3 *db);

/**
 * Free a store that was not handed to a context; NULL is accepted.
 * @since 0.1
 */
VC_EXTERN(void) vc_store_free(vc_store *store);

VC_END_DECL

/** @} */
#endif /* VYOMCOMM_STORE_H */
