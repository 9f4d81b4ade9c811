/* TEMPORARY stand-in until the audit trail lands: records nothing. */
#include "core/common.h"
#include "audit.h"

int vc__audit(vc__db *db, vc_ctx *ctx, const char *tenant_id,
              const char *action, const char *entity_id,
              const char *summary_json)
{
  (void)db, (void)ctx, (void)tenant_id, (void)action, (void)entity_id;
  (void)summary_json;
  return 0;
}
