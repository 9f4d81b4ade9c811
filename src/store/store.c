/*
 * Stores: a backend's ops table and payload, and its connection pool.
 */
#include "core/common.h"
#include "store.h"
#include "db.h"

extern const char *const vc__schema_sqlite[];
extern const int vc__schema_sqlite_count;

void vc__db_close(vc__db *db); /* db.c */

int vc__store_new(vc_store **out, const vc_storage_ops *ops, void *payload,
                  uint32_t stmt_cache_size)
{
  vc_store *s = vc__calloc(1, sizeof(*s));

  if (s == NULL)
    return vc_error_set_oom();
  memcpy(&s->ops, ops, sizeof(s->ops));
  s->payload = payload;
  s->stmt_cache_size = stmt_cache_size ? stmt_cache_size : 64;
  pthread_mutex_init(&s->lock, NULL);
  pthread_cond_init(&s->idle_cond, NULL);
  pthread_mutex_init(&s->group_lock, NULL);
  pthread_cond_init(&s->group_join_cond, NULL);
  *out = s;
  return 0;
}

int vc_store_custom(vc_store **out, const vc_storage_ops *ops, void *payload)
{
  vc_storage_ops copy;

  VC_ASSERT_ARG(out);
  *out = NULL;
  VC_ASSERT_ARG(ops);
  VC_CHECK_VERSION(ops, VC_STORAGE_OPS_VERSION, "vc_storage_ops");
  if (ops->dialect == VC_DIALECT_POSTGRES)
    return vc__error_set(VC_ERRCLASS_STORAGE, VC_ENOTSUPPORTED,
                         "the PostgreSQL dialect is not supported yet");
  if (ops->dialect != VC_DIALECT_SQLITE)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "unknown storage dialect %d", ops->dialect);
  /* Copy only what the caller's version has; the rest stays zero. */
  memset(&copy, 0, sizeof(copy));
  memcpy(&copy, ops, sizeof(copy));
#define REQUIRE(m) \
  if (copy.m == NULL) \
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID, \
                         "storage backend lacks required method '%s'", #m)
  REQUIRE(connect); REQUIRE(disconnect); REQUIRE(exec); REQUIRE(prepare);
  REQUIRE(bind_null); REQUIRE(bind_int64); REQUIRE(bind_double);
  REQUIRE(bind_text); REQUIRE(bind_blob); REQUIRE(step);
  REQUIRE(column_type); REQUIRE(column_int64); REQUIRE(column_double);
  REQUIRE(column_text); REQUIRE(column_blob); REQUIRE(reset);
  REQUIRE(finalize); REQUIRE(changes); REQUIRE(begin); REQUIRE(commit);
  REQUIRE(rollback); REQUIRE(errmsg);
#undef REQUIRE
  return vc__store_new(out, &copy, payload, 0);
}

void vc_store_free(vc_store *s)
{
  if (s == NULL)
    return;
  for (size_t i = 0; i < s->nidle; i++)
    vc__db_close(s->idle[i]);
  for (size_t i = 0; i < s->group_nidle; i++)
    vc__db_close(s->group_idle[i]);
  vc__free(s->idle);
  if (s->ops.free != NULL)
    s->ops.free(s->payload);
  pthread_cond_destroy(&s->idle_cond);
  pthread_mutex_destroy(&s->lock);
  pthread_cond_destroy(&s->group_join_cond);
  pthread_mutex_destroy(&s->group_lock);
  vc__free(s);
}

int vc_storage_ops_init(vc_storage_ops *ops, unsigned int version)
{
  VC_ASSERT_ARG(ops);
  if (version == 0 || version > VC_STORAGE_OPS_VERSION)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EVERSION,
                         "invalid version %u on vc_storage_ops", version);
  memset(ops, 0, sizeof(*ops));
  ops->version = version;
  return 0;
}

int vc_storage_schema(const char **sql_out, int dialect, int version)
{
  VC_ASSERT_ARG(sql_out);
  *sql_out = NULL;
  if (dialect != VC_DIALECT_SQLITE || version < 1 ||
      version > vc__schema_sqlite_count)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                         "no schema version %d for dialect %d", version,
                         dialect);
  *sql_out = vc__schema_sqlite[version - 1];
  return 0;
}

int vc_storage_schema_version(void)
{
  return vc__schema_sqlite_count;
}
