/* TEMPORARY stand-in until contacts land: no address has a contact. */
#include "core/common.h"
#include "contact.h"

#include <stdio.h>
#include <string.h>

int vc__contact_for_recipient(char id_out[VC_ID_SIZE], vc__db *db,
                              const char *tenant_id, int channel_kind,
                              const char *to)
{
  (void)db, (void)tenant_id, (void)channel_kind, (void)to;
  id_out[0] = '\0';
  return 0;
}

int vc__contact_ensure(char id_out[VC_ID_SIZE], vc__db *db, vc_ctx *ctx,
                       const char *tenant_id, int addr_kind,
                       const char *address)
{
  (void)db, (void)ctx, (void)tenant_id, (void)addr_kind, (void)address;
  id_out[0] = '\0';
  return vc__error_set(VC_ERRCLASS_INTERNAL, VC_ENOTSUPPORTED,
                       "contacts are not built yet");
}

int vc__contact_resolve(char id_out[VC_ID_SIZE], vc__db *db,
                        const char *tenant_id, const char *contact_id)
{
  (void)db, (void)tenant_id;
  id_out[0] = '\0';
  return vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                       "no contact '%.32s'", contact_id);
}

int vc__contact_prefs_get(vc__contact_prefs *out, vc__db *db,
                          const char *tenant_id, const char *contact_id)
{
  (void)db, (void)tenant_id, (void)contact_id;
  out->timezone[0] = out->locale[0] = '\0';
  out->quiet_start_min = out->quiet_end_min = VC_TENANT_KEEP;
  return 0;
}

int vc__contact_address(char *out, size_t size, vc__db *db,
                        const char *tenant_id, const char *contact_id,
                        int addr_kind)
{
  (void)db, (void)tenant_id, (void)contact_id, (void)addr_kind;
  if (size > 0)
    out[0] = '\0';
  return 0;
}

int vc__contact_import_csv(vc_contact_import_result *out, vc_tenant *t,
                           const vc_contact_import_spec *spec,
                           vc__contact_row_fn row_fn, void *arg)
{
  (void)out, (void)t, (void)spec, (void)row_fn, (void)arg;
  return vc__error_set(VC_ERRCLASS_INTERNAL, VC_ENOTSUPPORTED,
                       "contacts are not built yet");
}

int vc_contact_import_spec_init(vc_contact_import_spec *s,
                                unsigned int version)
{
  VC_INIT_STRUCT(s, version, VC_CONTACT_IMPORT_SPEC_VERSION,
                 vc_contact_import_spec, VC_CONTACT_IMPORT_SPEC_INIT);
}

int vc_contact_import_result_init(vc_contact_import_result *r,
                                  unsigned int version)
{
  VC_INIT_STRUCT(r, version, VC_CONTACT_IMPORT_RESULT_VERSION,
                 vc_contact_import_result, VC_CONTACT_IMPORT_RESULT_INIT);
}
