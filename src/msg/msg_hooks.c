/*
 * The fan-out of message changes to the modules that follow messages.
 * See msg_hooks.h.
 */
#include "core/common.h"
#include "msg_hooks.h"

int vc__msg_on_change(vc__db *db, vc_ctx *ctx, const vc__msg_change *c)
{
  int rc;

  if ((rc = vc__stats_on_message(db, ctx, c)) < 0)
    return rc;
  return vc__msg_ledger_on_message(db, ctx, c);
}

int vc__msg_on_changes(vc__db *db, vc_ctx *ctx, const vc__msg_change *c,
                       size_t n)
{
  int rc;

  if ((rc = vc__stats_on_messages(db, ctx, c, n)) < 0)
    return rc;
  for (size_t i = 0; i < n; i++)
    if ((rc = vc__msg_ledger_on_message(db, ctx, &c[i])) < 0)
      return rc;
  return 0;
}

int vc__msg_on_inbound(vc__db *db, vc_ctx *ctx, const vc__msg_inbound *m)
{
  int rc;

  if ((rc = vc__stats_on_inbound(db, ctx, m)) < 0)
    return rc;
  return vc__inbox_on_inbound(db, ctx, m);
}
