/* TEMPORARY stand-in until consent lands: everyone may be contacted. */
#include "core/common.h"
#include "consent.h"

int vc__consent_check(vc__db *db, vc_tenant *t, const char *contact_id,
                      int kind, int category, const char *to)
{
  (void)db, (void)t, (void)contact_id, (void)kind, (void)category, (void)to;
  return 0;
}

int vc__consent_record(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                       const char *contact_id, int kind, int category,
                       int state, const char *source, const char *proof)
{
  (void)db, (void)ctx, (void)tenant_id, (void)contact_id, (void)kind;
  (void)category, (void)state, (void)source, (void)proof;
  return vc__error_set(VC_ERRCLASS_INTERNAL, VC_ENOTSUPPORTED,
                       "consent is not built yet");
}
