/* Stand-in until the inbox lands: no conversations. */
#include "core/common.h"
#include "msg_hooks.h"

int vc__inbox_on_inbound(vc__db *db, vc_ctx *ctx, const vc__msg_inbound *m)
{
  VC_UNUSED(db); VC_UNUSED(ctx); VC_UNUSED(m);
  return 0;
}

int vc__inbox_erase_contact(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                            const char *contact_id)
{
  VC_UNUSED(db); VC_UNUSED(ctx); VC_UNUSED(tenant_id); VC_UNUSED(contact_id);
  return 0;
}

int vc__inbox_assign_contact(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                             const char *contact_id, const char *agent)
{
  VC_UNUSED(db); VC_UNUSED(ctx); VC_UNUSED(tenant_id); VC_UNUSED(contact_id);
  VC_UNUSED(agent);
  return 0;
}
