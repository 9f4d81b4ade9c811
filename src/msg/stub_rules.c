/* Stand-in until automation rules land: events fire nothing. */
#include "core/common.h"
#include "core/event.h"

int vc__rules_on_event(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                       const char *type, const char *subject_id,
                       const char *payload_json)
{
  VC_UNUSED(db); VC_UNUSED(ctx); VC_UNUSED(tenant_id); VC_UNUSED(type);
  VC_UNUSED(subject_id); VC_UNUSED(payload_json);
  return 0;
}
