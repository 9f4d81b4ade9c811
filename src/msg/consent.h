/*
 * Consent enforcement, asked by every send and every call.
 */
#ifndef VC_MSG_CONSENT_H
#define VC_MSG_CONSENT_H

#include "vyomcomm/tenant.h"
#include "store/db.h"

/* Whether a message or call of `category` on channel kind `kind` may
 * reach `to` (normalized) of contact `contact_id` ("" when no contact
 * holds it). 0, or VC_ECONSENT with the reason in the error detail (an
 * opt-out, the do-not-call list, no opt-in where the tenant's policy
 * needs one). Reads only. */
int vc__consent_check(vc__db *db, vc_tenant *t, const char *contact_id,
                      int kind, int category, const char *to);

/* Record a consent change on the caller's connection and transaction:
 * the current state and an append-only log row (state a vc_consent,
 * `source` such as "api", "keyword", "unsubscribe"; `proof` free text
 * or NULL), and the contact.opted_out / contact.opted_in event when the
 * state changed. `category` is transactional or marketing, or 0 for
 * both (an opt-out keyword). The caller resolved the contact and writes
 * its own audit row. 0, or VC_EINVALID / VC_ETOOBIG / a store error. */
int vc__consent_record(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                       const char *contact_id, int kind, int category,
                       int state, const char *source, const char *proof);

#endif /* VC_MSG_CONSENT_H */
