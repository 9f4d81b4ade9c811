/* TEMPORARY stand-ins for other modules; removed when branches merge. */
#include "core/common.h"
#include "hooks.h"

int vc__ivr_resolve(vc__db *db, const char *tenant_id,
                    const char *id_or_name, char menu_id[VC_ID_SIZE])
{
  VC_UNUSED(db);
  VC_UNUSED(tenant_id);
  menu_id[0] = '\0';
  return vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                       "no IVR menu '%.64s'", id_or_name);
}

int vc__ivr_step(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                 const char *call_id, const char *menu_id, const char *node,
                 const char *digits, int attempt, const char *webhook_url,
                 vc__ivr_result *out)
{
  VC_UNUSED(db); VC_UNUSED(ctx); VC_UNUSED(tenant_id); VC_UNUSED(call_id);
  VC_UNUSED(menu_id); VC_UNUSED(node); VC_UNUSED(digits);
  VC_UNUSED(attempt); VC_UNUSED(webhook_url);
  memset(out, 0, sizeof(*out));
  out->action = VC__IVR_CONNECT;
  return 0;
}

int vc__recording_mode(vc__db *db, const char *tenant_id, int requested,
                       int *mode, char *consent)
{
  VC_UNUSED(db);
  VC_UNUSED(tenant_id);
  *mode = requested == VC_RECORD_DEFAULT ? VC_RECORD_OFF : requested;
  consent[0] = '\0';
  return 0;
}

int vc__recording_on_update(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                            const char *call_id, const vc_call_update *u)
{
  VC_UNUSED(db); VC_UNUSED(ctx); VC_UNUSED(tenant_id); VC_UNUSED(call_id);
  VC_UNUSED(u);
  return 0;
}

int vc__recording_on_deleted(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                             const char *recording_id, int ok, int64_t at)
{
  VC_UNUSED(db); VC_UNUSED(ctx); VC_UNUSED(tenant_id);
  VC_UNUSED(recording_id); VC_UNUSED(ok); VC_UNUSED(at);
  return 0;
}

