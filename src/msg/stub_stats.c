/* Stand-in until the analytics module lands: no rollups. */
#include "core/common.h"
#include "call/ledger.h"
#include "msg_hooks.h"

int vc__stats_on_message(vc__db *db, vc_ctx *ctx, const vc__msg_change *c)
{
  VC_UNUSED(db); VC_UNUSED(ctx); VC_UNUSED(c);
  return 0;
}

int vc__stats_on_inbound(vc__db *db, vc_ctx *ctx, const vc__msg_inbound *m)
{
  VC_UNUSED(db); VC_UNUSED(ctx); VC_UNUSED(m);
  return 0;
}

int vc__stats_on_ledger(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                        const vc__ledger_post *p, const char period[11])
{
  VC_UNUSED(db); VC_UNUSED(ctx); VC_UNUSED(tenant_id); VC_UNUSED(p);
  VC_UNUSED(period);
  return 0;
}
