/*
 * The event log: appended in the same transaction as the change it
 * records, delivered to the host's callback in order, at least once.
 */
#ifndef VC_CORE_EVENT_H
#define VC_CORE_EVENT_H

#include "vyomcomm/ctx.h"
#include "store/db.h"

/* Append an event inside the caller's transaction. `payload_json` must
 * be a JSON object (NULL = "{}"). */
int vc__event_append(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                     const char *type, const char *subject_id,
                     const char *payload_json);

/* Automation rules (src/msg/rule.c): every event appended is offered to
 * the tenant's rules, in the appending transaction. `payload_json` may be
 * NULL. A rule's actions may append events of their own; the rules
 * module bounds that recursion. */
int vc__rules_on_event(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                       const char *type, const char *subject_id,
                       const char *payload_json);

/* Deliver pending events to the callback. Returns how many were
 * delivered (0 when another thread is delivering), or < 0. */
int vc__event_deliver(vc_ctx *ctx);

#endif
