/*
 * The context's master key: derivation, the check against the store,
 * sealing and opening of encrypted columns, and rotation.
 *
 * Each encrypted value is bound (as GCM associated data) to its tenant,
 * table, column and row id, and its header carries the key version.
 *
 * Lock order: the keyring lock is taken before a store connection is
 * acquired, never after.
 */
#ifndef VC_CORE_KEYRING_H
#define VC_CORE_KEYRING_H

#include <pthread.h>

#include "vyomcomm/types.h"
#include "crypto.h"
#include "store/db.h"

typedef struct vc__keyring {
  pthread_rwlock_t lock;
  int has_key;
  uint32_t version;
  uint8_t key[VC__KEY_SIZE];
} vc__keyring;

/* Where a sealed value lives. */
typedef struct vc__seal_site {
  const char *tenant_id;
  const char *table;
  const char *column;
  const char *row_id;
} vc__seal_site;

void vc__keyring_init(vc__keyring *kr);
void vc__keyring_fini(vc__keyring *kr);

/*
 * Take the master key (may be NULL) for a store: check it against the
 * store's key check, or record the check on first use. VC_EKEY when it is
 * not the store's key.
 */
int vc__keyring_load(vc__keyring *kr, vc__db *db, const vc_master_key *mk);

/* Hold the key steady (read side) across a store operation. */
void vc__keyring_rdlock(vc__keyring *kr);
void vc__keyring_unlock(vc__keyring *kr);

/* With the read lock held: VC_EKEY unless a key is loaded and it is
 * still the store's current key version (checked inside `db`'s
 * transaction, so another context's rotation is noticed). */
int vc__keyring_check_current(vc__keyring *kr, vc__db *db);

/* With the read lock held: seal / open one value. */
int vc__keyring_seal(vc__keyring *kr, vc_buf *out, const vc__seal_site *at,
                     const void *pt, size_t len);
int vc__keyring_open(vc__keyring *kr, vc_buf *out, const vc__seal_site *at,
                     const void *blob, size_t len);

/* Re-encrypt every sealed column of ctx's store under `mk` in one
 * transaction (with its context-wide audit row), then make it the
 * current key. Takes the write lock and a connection itself. */
int vc__keyring_rotate(vc__keyring *kr, vc_ctx *ctx,
                       const vc_master_key *mk);

#endif
