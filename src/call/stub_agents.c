/* TEMPORARY stand-ins for other modules; removed when branches merge. */
/*
 * vc__call_entry_add is the call core's (i5-core). This stand-in appends
 * the entry the way hooks.h describes, so that the quality module's
 * timeline entry can be seen in tests until the core arrives.
 */
#include "core/common.h"
#include "core/ctx.h"
#include "call/hooks.h"

int vc__call_entry_add(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                       const char *call_id, const char *type, int leg,
                       const char *detail_json, int64_t at)
{
  return vc__db_run(db,
                    "INSERT INTO vc_call_event (tenant_id, call_id, seq,"
                    " type, leg, state, detail, occurred_at, created_at)"
                    " SELECT ?1, ?2, COALESCE((SELECT MAX(seq) FROM"
                    " vc_call_event WHERE tenant_id = ?1 AND call_id = ?2),"
                    " 0) + 1, ?3, ?4, c.state, ?5, ?6, ?7 FROM vc_call c"
                    " WHERE c.tenant_id = ?1 AND c.id = ?2",
                    "ttti" "tii",
                    tenant_id, call_id, type, (int64_t)leg,
                    detail_json ? detail_json : "{}", at, vc__now(ctx));
}
