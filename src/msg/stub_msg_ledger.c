/* Stand-in until message costs land: no ledger entries for messages. */
#include "core/common.h"
#include "msg_hooks.h"

int vc__msg_ledger_on_message(vc__db *db, vc_ctx *ctx,
                              const vc__msg_change *c)
{
  VC_UNUSED(db); VC_UNUSED(ctx); VC_UNUSED(c);
  return 0;
}
