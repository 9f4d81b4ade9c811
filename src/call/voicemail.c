/*
 * Voicemail. See voicemail.h.
 */
#include "core/common.h"
#include "core/event.h"
#include "hooks.h"
#include "voicemail.h"

#include <cJSON.h>

static const char SQL_KEEP[] =
  "UPDATE vc_inbound_call SET voicemail_id = ?3, voicemail_url = ?4,"
  " voicemail_s = ?5, updated_at = ?6"
  " WHERE tenant_id = ?1 AND call_id = ?2 AND voicemail_id IS NULL";

int vc__voicemail_store(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                        const vc__call_row *r, const char *box,
                        const vc_call_update *u, int64_t at)
{
  cJSON *d;
  char *text;
  int rc;

  if ((rc = vc__db_run(db, SQL_KEEP, "tttiii", tenant_id, r->id,
                       u->recording_id ? u->recording_id : "",
                       u->recording_url, (int64_t)u->recording_duration_s,
                       at)) < 0)
    return rc;
  if (vc__db_changes(db) == 0)
    return 0;
  if ((d = cJSON_CreateObject()) == NULL)
    return vc_error_set_oom();
  cJSON_AddStringToObject(d, "box", box);
  if (u->recording_id != NULL)
    cJSON_AddStringToObject(d, "recording_id", u->recording_id);
  cJSON_AddStringToObject(d, "url", u->recording_url ? u->recording_url
                                                     : "");
  cJSON_AddNumberToObject(d, "duration_s", u->recording_duration_s);
  cJSON_AddStringToObject(d, "from", r->customer_number);
  if ((text = cJSON_PrintUnformatted(d)) == NULL) {
    cJSON_Delete(d);
    return vc_error_set_oom();
  }
  cJSON_Delete(d);
  if ((rc = vc__call_entry_add(db, ctx, tenant_id, r->id, "voicemail_left",
                               VC_LEG_CUSTOMER, text, at)) == 0)
    rc = vc__event_append(db, ctx, tenant_id, "call.voicemail", r->id, text);
  cJSON_free(text);
  return rc;
}
