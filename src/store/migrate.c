/*
 * The migration runner. vc_schema_version records each applied script;
 * the highest row is the store's version. All pending scripts apply in
 * one transaction, so a crash leaves the store at the old version or the
 * new one, never in between; concurrent openers serialise on the write
 * lock and the second finds nothing left to do.
 */
#include "core/common.h"
#include "migrate.h"

#include <time.h>

static const char SQL_CREATE[] =
  "CREATE TABLE IF NOT EXISTS vc_schema_version ("
  " version INTEGER PRIMARY KEY,"
  " applied_at INTEGER NOT NULL,"
  " library TEXT NOT NULL)";
static const char SQL_CURRENT[] =
  "SELECT COALESCE(MAX(version), 0) FROM vc_schema_version";
static const char SQL_RECORD[] =
  "INSERT INTO vc_schema_version (version, applied_at, library)"
  " VALUES (?1, ?2, ?3)";

static int64_t wall_ms(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int current_version(vc__db *db, int *out)
{
  vc__stmt *s;
  int rc;

  if ((rc = vc__db_query(&s, db, SQL_CURRENT, "")) < 0)
    return rc;
  rc = vc__stmt_step(s);
  if (rc == VC_STORAGE_ROW) {
    *out = (int)vc__stmt_int64(s, 0);
    rc = 0;
  } else if (rc >= 0) {
    rc = vc__error_set(VC_ERRCLASS_STORAGE, VC_ESTORAGE,
                       "no schema version row");
  }
  vc__stmt_done(s);
  return rc;
}

int vc__migrate(vc__db *db, int *version_out)
{
  int latest = vc_storage_schema_version();
  int version = 0, rc;
  const char *sql;

  if ((rc = vc__db_begin(db)) < 0)
    return rc;
  if ((rc = vc__db_exec(db, SQL_CREATE)) < 0 ||
      (rc = current_version(db, &version)) < 0)
    goto fail;
  if (version > latest) {
    rc = vc__error_set(VC_ERRCLASS_STORAGE, VC_EVERSION,
                       "store schema version %d is newer than this "
                       "library's %d (vyomcomm %s); upgrade the library",
                       version, latest, VC_VERSION_STRING);
    goto fail;
  }
  for (int v = version + 1; v <= latest; v++) {
    if ((rc = vc_storage_schema(&sql, vc__db_dialect(db), v)) < 0 ||
        (rc = vc__db_exec(db, sql)) < 0 ||
        (rc = vc__db_run(db, SQL_RECORD, "iit", (int64_t)v, wall_ms(),
                         VC_VERSION_STRING)) < 0) {
      vc__error_wrap("schema migration");
      goto fail;
    }
  }
  if ((rc = vc__db_commit(db)) < 0)
    goto fail;
  if (version_out)
    *version_out = latest;
  return 0;
fail:
  vc__db_rollback(db);
  return rc;
}
