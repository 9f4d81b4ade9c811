/**
 * @file vyomcomm/sys/storage.h
 * @brief For implementers: the storage backend vtable, a small SQL driver.
 *
 * The library writes its SQL once, in the subset that SQLite and
 * PostgreSQL share, and runs it through these methods. Parameters are
 * written `?1`, `?2`, ... in the SQL text (a PostgreSQL backend rewrites
 * them to `$1`, `$2`). A backend must apply the schema of its dialect;
 * the library does that through `exec` when the context opens.
 *
 * Connections: the library asks for one connection per thread that uses
 * the store (`connect`), and uses a connection from one thread at a time.
 * Statements belong to the connection that prepared them.
 *
 * Every method returns 0 or a negative vc_error_code after calling
 * vc_error_set() (vyomcomm/sys/errors.h), except where noted. A busy or
 * locked database is VC_EBUSY; a constraint violation VC_EEXISTS.
 *
 * @defgroup vc_storage Storage backends
 * @{
 */
#ifndef VYOMCOMM_SYS_STORAGE_H
#define VYOMCOMM_SYS_STORAGE_H

#include "../common.h"
#include "../types.h"

VC_BEGIN_DECL

/** The SQL dialect a backend speaks. Values are pinned. */
typedef enum vc_storage_dialect {
  VC_DIALECT_SQLITE = 1,
  VC_DIALECT_POSTGRES = 2
} vc_storage_dialect;

/** `step` results besides errors. */
#define VC_STORAGE_ROW  1 /**< a row is available */
#define VC_STORAGE_DONE 2 /**< the statement has finished */

/** Column types reported by `column_type`. Values are pinned. */
typedef enum vc_storage_type {
  VC_STORAGE_NULL = 0,
  VC_STORAGE_INT = 1,
  VC_STORAGE_FLOAT = 2,
  VC_STORAGE_TEXT = 3,
  VC_STORAGE_BLOB = 4
} vc_storage_type;

/**
 * The backend methods. Connections and statements are the backend's own
 * opaque pointers. All methods are REQUIRED unless marked OPTIONAL.
 */
typedef struct vc_storage_ops {
  unsigned int version;   /**< VC_STORAGE_OPS_VERSION */
  int dialect;            /**< a vc_storage_dialect */
  /** Largest number of connections the backend can open; 0 = no limit.
   *  A backend over one borrowed connection says 1. */
  uint32_t max_connections;

  /** Open a connection. */
  int VC_CALLBACK(connect)(void **conn_out, void *payload);
  /** Close a connection; its statements are already finalized. */
  void VC_CALLBACK(disconnect)(void *conn, void *payload);

  /** Run one or more statements without results (schema, pragmas). */
  int VC_CALLBACK(exec)(void *conn, const char *sql);
  /** Compile one statement. */
  int VC_CALLBACK(prepare)(void **stmt_out, void *conn, const char *sql);
  /** Bind parameter `idx` (1-based). Text is UTF-8, `len` bytes. */
  int VC_CALLBACK(bind_null)(void *stmt, int idx);
  /** Bind a 64-bit integer to parameter `idx`. */
  int VC_CALLBACK(bind_int64)(void *stmt, int idx, int64_t value);
  /** Bind a double to parameter `idx`. */
  int VC_CALLBACK(bind_double)(void *stmt, int idx, double value);
  /** Bind `len` bytes of UTF-8 text, not necessarily NUL-terminated; the
   *  pointer is valid only during the call, so copy it. */
  int VC_CALLBACK(bind_text)(void *stmt, int idx, const char *text,
                             size_t len);
  /** Bind `len` bytes as a blob (copy them, as for text); an empty blob
   *  may come with a NULL pointer. */
  int VC_CALLBACK(bind_blob)(void *stmt, int idx, const void *data,
                             size_t len);
  /** Advance: VC_STORAGE_ROW, VC_STORAGE_DONE or a negative code. */
  int VC_CALLBACK(step)(void *stmt);
  /** A vc_storage_type for column `col` (0-based) of the current row. */
  int VC_CALLBACK(column_type)(void *stmt, int col);
  /** Column `col` of the current row as a 64-bit integer. */
  int64_t VC_CALLBACK(column_int64)(void *stmt, int col);
  /** Column `col` of the current row as a double. */
  double VC_CALLBACK(column_double)(void *stmt, int col);
  /** Text of the column, valid until the next step/reset; length in
   *  `*len`. NULL for SQL NULL. */
  const char *VC_CALLBACK(column_text)(void *stmt, int col, size_t *len);
  /** Bytes of a blob column, as for `column_text`; NULL for SQL NULL. */
  const void *VC_CALLBACK(column_blob)(void *stmt, int col, size_t *len);
  /** Make the statement ready to run again and clear its bindings. */
  int VC_CALLBACK(reset)(void *stmt);
  /** Free a statement from `prepare`. */
  void VC_CALLBACK(finalize)(void *stmt);
  /** Rows changed by the last statement on the connection. */
  int64_t VC_CALLBACK(changes)(void *conn);

  /** Begin a write transaction. When a transaction is already open on the
   *  connection (a host's), open a savepoint inside it instead. */
  int VC_CALLBACK(begin)(void *conn);
  /** Commit what `begin` opened (or release its savepoint). */
  int VC_CALLBACK(commit)(void *conn);
  /** Roll back what `begin` opened (or to its savepoint). */
  int VC_CALLBACK(rollback)(void *conn);
  /** The connection's last error text, for messages. Never NULL. */
  const char *VC_CALLBACK(errmsg)(void *conn);

  /** OPTIONAL: release the payload when the store is freed. */
  void VC_CALLBACK(free)(void *payload);
} vc_storage_ops;

/** The current version of vc_storage_ops. */
#define VC_STORAGE_OPS_VERSION 1

/** Initialise a vc_storage_ops (all methods NULL) for `version`.
 *  @return 0 or VC_EVERSION. @since 0.1 */
VC_EXTERN(int) vc_storage_ops_init(vc_storage_ops *ops,
                                   unsigned int version);

/**
 * Make a store from a backend. The ops table is copied; `payload` is
 * passed to connect/disconnect/free and belongs to the store once the
 * store is handed to vc_ctx_new() successfully (its `free` runs then).
 *
 * @return 0, VC_EVERSION, VC_EINVALID (a required method is missing)
 * @since 0.1
 */
VC_EXTERN(int) vc_store_custom(vc_store **out, const vc_storage_ops *ops,
                               void *payload);

/**
 * The schema script of a dialect at a version (1-based), for backends
 * that apply migrations themselves. The library also applies them.
 *
 * @param sql_out receives a static NUL-terminated script
 * @return 0, VC_ENOTFOUND when no such version
 * @since 0.1
 */
VC_EXTERN(int) vc_storage_schema(const char **sql_out, int dialect,
                                 int version);

/** The newest schema version this library knows. @since 0.1 */
VC_EXTERN(int) vc_storage_schema_version(void);

VC_END_DECL

/** @} */
#endif /* VYOMCOMM_SYS_STORAGE_H */
