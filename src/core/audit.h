/*
 * The audit trail: one append-only row per mutating API call, written in
 * the call's own transaction.
 */
#ifndef VC_CORE_AUDIT_H
#define VC_CORE_AUDIT_H

#include "vyomcomm/ctx.h"
#include "store/db.h"

/* Record `action` ("contact.upsert", "channel.update", ...) on an entity
 * by the calling thread's actor (vc_audit_actor_set). `summary_json` is
 * a JSON object, or NULL: never secrets, never message bodies. */
int vc__audit(vc__db *db, vc_ctx *ctx, const char *tenant_id,
              const char *action, const char *entity_id,
              const char *summary_json);

/* The same with an explicit actor: VC_AUDIT_ACTOR_SYSTEM for the
 * library's own work (done on no host thread). */
int vc__audit_as(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                 const char *actor, const char *action,
                 const char *entity_id, const char *summary_json);

/* Several rows at once, in order (ids increase), by up to eight a
 * statement: a group commit's sends (message.c). Each row's actor is
 * the one given, as for vc__audit_as. */
typedef struct vc__audit_row {
  const char *tenant_id;
  const char *actor;
  const char *action;
  const char *entity_id;
  const char *summary_json;
} vc__audit_row;

int vc__audit_rows(vc__db *db, vc_ctx *ctx, const vc__audit_row *rows,
                   size_t n);

/* Write {"fields":["a","b"]} into out: the names[i] whose set[i] is
 * non-zero (static names, nothing to escape). Cut short, never
 * overflowed, when `size` is too small. */
void vc__audit_fields(char *out, size_t size, const char *const *names,
                      const int *set, size_t n);

#endif /* VC_CORE_AUDIT_H */
