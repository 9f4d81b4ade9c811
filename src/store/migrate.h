/*
 * Schema migrations, compiled into the library (schema/<dialect>/).
 */
#ifndef VC_STORE_MIGRATE_H
#define VC_STORE_MIGRATE_H

#include "db.h"

/*
 * Bring the store's schema up to this library's version, in one
 * transaction. VC_EVERSION when the store is newer than the library.
 * `version_out` (may be NULL) receives the resulting version.
 */
int vc__migrate(vc__db *db, int *version_out);

#endif
