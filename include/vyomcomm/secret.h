/**
 * @file vyomcomm/secret.h
 * @brief Per-tenant credentials, encrypted at rest with AES-256-GCM under
 *        the context's master key, and master-key rotation.
 *
 * Each ciphertext is bound to its tenant, table, column, row and key
 * version, so a ciphertext copied to another row does not decrypt.
 * Secret values never appear in logs or error messages.
 *
 * Thread safety: every function may be called from any thread on a
 * shared context and tenant handle. vc_secret_rotate_key() waits for
 * secret operations in progress and blocks new ones until it is done.
 *
 * @defgroup vc_secret Secrets
 * @{
 */
#ifndef VYOMCOMM_SECRET_H
#define VYOMCOMM_SECRET_H

#include "common.h"
#include "types.h"
#include "buffer.h"
#include "ctx.h"

VC_BEGIN_DECL

/** Largest secret value, in bytes. */
#define VC_SECRET_MAX 65536

/**
 * Store (or replace) a named credential of a tenant.
 *
 * @param name [A-Za-z0-9_.:-]{1,128}
 * @param value the bytes; copied; at most VC_SECRET_MAX
 * @return 0, VC_EKEY (no master key), VC_EINVALID, VC_ETOOBIG
 * @since 0.1
 */
VC_EXTERN(int) vc_secret_set(vc_tenant *tenant, const char *name,
                             const void *value, size_t len);

/**
 * Decrypt a named credential into `out` (NUL-terminated for convenience),
 * replacing its contents. Dispose of `out` with vc_buf_dispose(), which
 * zeroes the bytes before freeing them. On failure `out` is unchanged.
 *
 * @return 0, VC_ENOTFOUND, VC_ECRYPTO (tampered or moved ciphertext),
 *   VC_EKEY
 * @since 0.1
 */
VC_EXTERN(int) vc_secret_get(vc_buf *out, vc_tenant *tenant,
                             const char *name);

/** Delete a named credential. @return 0, VC_ENOTFOUND. @since 0.1 */
VC_EXTERN(int) vc_secret_delete(vc_tenant *tenant, const char *name);

/**
 * Re-encrypt every credential of every tenant under a new master key, in
 * one transaction, and make it the context's key. Other contexts open on
 * the same store must be reopened with the new key.
 *
 * @return 0, VC_EKEY (no current key), VC_ECRYPTO (a row failed to
 *   decrypt: nothing was changed), VC_EINVALID
 * @since 0.1
 */
VC_EXTERN(int) vc_secret_rotate_key(vc_ctx *ctx,
                                    const vc_master_key *new_key);

VC_END_DECL

/** @} */
#endif /* VYOMCOMM_SECRET_H */
