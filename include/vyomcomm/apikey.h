/**
 * @file vyomcomm/apikey.h
 * @brief API keys: secrets a tenant's programs present to a host's API
 *        (the `vyomcomm serve` REST server uses them), stored hashed.
 *
 * vc_apikey_new() makes a key and returns its secret once:
 * `vck_{id}_{64 hex digits}`, 256 random bits after the key's id. The
 * store keeps only a random salt and SHA-256(salt || secret), so a copy
 * of the store yields no usable key. vc_apikey_verify() finds the key by
 * the id in the secret, recomputes the hash, compares it in constant
 * time and returns the key's tenant: the secret alone decides the
 * tenant. A revoked or expired key, a deleted tenant, a malformed or an
 * unknown secret all fail alike with VC_EAUTH.
 *
 * Creating and revoking a key append `apikey.created` and
 * `apikey.revoked` events and an audit entry (never the secret).
 *
 * Thread safety: every function may be called from any thread; a
 * vc_apikey handle is an immutable snapshot.
 *
 * @defgroup vc_apikey API keys
 * @{
 */
#ifndef VYOMCOMM_APIKEY_H
#define VYOMCOMM_APIKEY_H

#include "common.h"
#include "types.h"
#include "iter.h"

VC_BEGIN_DECL

/** A key handle: a snapshot of the stored key (never its secret). */
typedef struct vc_apikey vc_apikey;

/** Size of the buffer vc_apikey_new() writes the secret to, with its
 *  NUL (the secret itself is 95 bytes). */
#define VC_APIKEY_SECRET_SIZE 128
/** A key's label, bytes of UTF-8. */
#define VC_APIKEY_LABEL_MAX 200

/** A new key's settings. */
typedef struct vc_apikey_spec {
  unsigned int version;   /**< VC_APIKEY_SPEC_VERSION */
  /** What the key is for ("erp-prod"); NULL = "". At most
   *  VC_APIKEY_LABEL_MAX bytes of UTF-8. */
  const char *label;
  /** When the key stops working (Unix ms), or 0 for never. Must be in
   *  the future. */
  int64_t expires_at;
} vc_apikey_spec;

/** The current version of vc_apikey_spec, and an initializer with every
 *  member at its default (vc_apikey_spec_init() for other languages). */
#define VC_APIKEY_SPEC_VERSION 1
#define VC_APIKEY_SPEC_INIT { VC_APIKEY_SPEC_VERSION, NULL, 0 }

/** Fill `s` with the defaults of `version`. @since 0.3 */
VC_EXTERN(int) vc_apikey_spec_init(vc_apikey_spec *s, unsigned int version);

/** What vc_apikey_list() returns. */
typedef struct vc_apikey_filter {
  unsigned int version;   /**< VC_APIKEY_FILTER_VERSION */
  const char *after;      /**< a vc_iter_cursor() value, or NULL */
  int include_revoked;    /**< 1 to list revoked keys too */
} vc_apikey_filter;

/** The current version of vc_apikey_filter, and an initializer with every
 *  member at its default (vc_apikey_filter_init() for other languages). */
#define VC_APIKEY_FILTER_VERSION 1
#define VC_APIKEY_FILTER_INIT { VC_APIKEY_FILTER_VERSION, NULL, 0 }

/** Fill `f` with the defaults of `version`. @since 0.3 */
VC_EXTERN(int) vc_apikey_filter_init(vc_apikey_filter *f,
                                     unsigned int version);

/**
 * Make a key for the tenant. Writes its secret, NUL-terminated, to
 * `secret` (VC_APIKEY_SECRET_SIZE bytes): the only time the secret is
 * ever available. `out` may be NULL; otherwise it receives the key's
 * handle (free it with vc_apikey_free()).
 *
 * @return 0; VC_EINVALID (a label that is not UTF-8 text, an expiry not
 *   in the future), VC_ETOOBIG (label), VC_EVERSION, VC_ENOTFOUND (the
 *   tenant was deleted), or a storage error
 * @since 0.3
 */
VC_EXTERN(int) vc_apikey_new(vc_apikey **out,
                             char secret[VC_APIKEY_SECRET_SIZE],
                             vc_tenant *tenant, const vc_apikey_spec *spec);

/**
 * Check a secret and return the tenant it belongs to (free it with
 * vc_tenant_free()). Takes time independent of how much of the secret
 * is right.
 *
 * @return 0; VC_EAUTH when the secret is malformed, unknown, revoked or
 *   expired, or its tenant was deleted; VC_EINVALID for a NULL argument;
 *   or a storage error
 * @since 0.3
 */
VC_EXTERN(int) vc_apikey_verify(vc_tenant **out, vc_ctx *ctx,
                                const char *secret);

/**
 * Look up one of the tenant's keys by id.
 *
 * @return 0; VC_EINVALID (not an id); VC_ENOTFOUND (no such key of this
 *   tenant); or a storage error
 * @since 0.3
 */
VC_EXTERN(int) vc_apikey_lookup(vc_apikey **out, vc_tenant *tenant,
                                const char *id);

/**
 * Revoke one of the tenant's keys: from now on vc_apikey_verify()
 * refuses it. Revoking a revoked key changes nothing and returns 0.
 *
 * @return 0; VC_EINVALID (not an id); VC_ENOTFOUND (no such key of this
 *   tenant); or a storage error
 * @since 0.3
 */
VC_EXTERN(int) vc_apikey_revoke(vc_tenant *tenant, const char *id);

/**
 * List the tenant's keys in id (creation) order, 50 read at a time.
 * Take them with vc_apikey_next().
 *
 * @return 0; VC_EINVALID (a cursor that is not an id), VC_EVERSION
 * @since 0.3
 */
VC_EXTERN(int) vc_apikey_list(vc_iter **out, vc_tenant *tenant,
                              const vc_apikey_filter *filter);

/**
 * The next key of a vc_apikey_list() iterator.
 *
 * @return 0; VC_ITEROVER at the end; VC_EINVALID (not such an
 *   iterator); or a storage error
 * @since 0.3
 */
VC_EXTERN(int) vc_apikey_next(vc_apikey **out, vc_iter *it);

/** Free a key handle; NULL is accepted. @since 0.3 */
VC_EXTERN(void) vc_apikey_free(vc_apikey *key);

/* Getters; strings are borrowed from the handle. */

/** The key's id (also inside its secret). @since 0.3 */
VC_EXTERN(const char *) vc_apikey_id(const vc_apikey *key);
/** The key's tenant id. @since 0.3 */
VC_EXTERN(const char *) vc_apikey_tenant_id(const vc_apikey *key);
/** The key's label, "" when none. @since 0.3 */
VC_EXTERN(const char *) vc_apikey_label(const vc_apikey *key);
/** When the key was made (Unix ms). @since 0.3 */
VC_EXTERN(int64_t) vc_apikey_created_at(const vc_apikey *key);
/** When the key expires (Unix ms), 0 for never. @since 0.3 */
VC_EXTERN(int64_t) vc_apikey_expires_at(const vc_apikey *key);
/** When the key was revoked (Unix ms), 0 while it is not. @since 0.3 */
VC_EXTERN(int64_t) vc_apikey_revoked_at(const vc_apikey *key);

VC_END_DECL

/** @} */
#endif /* VYOMCOMM_APIKEY_H */
