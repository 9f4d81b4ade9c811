/*
 * Voicemail. See voicemail.h.
 */
#include "core/common.h"
#include "core/ctx.h"
#include "core/event.h"
#include "msg/contact.h"
#include "msg/inbox.h"
#include "hooks.h"
#include "voicemail.h"

#include <cJSON.h>
#include <stdio.h>

static const char SQL_KEEP[] =
  "UPDATE vc_inbound_call SET voicemail_id = ?3, voicemail_url = ?4,"
  " voicemail_s = ?5, voicemail_at = ?6, updated_at = ?6"
  " WHERE tenant_id = ?1 AND call_id = ?2 AND voicemail_id IS NULL";
static const char SQL_CONTACT[] =
  "SELECT COALESCE(contact_id, '') FROM vc_call WHERE tenant_id = ?1"
  " AND id = ?2";
static const char SQL_CALL_CONTACT[] =
  "UPDATE vc_call SET contact_id = ?3 WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_VOICEMAIL_CONTACT[] =
  "UPDATE vc_inbound_call SET contact_id = ?3 WHERE tenant_id = ?1"
  " AND call_id = ?2";

/* The caller's contact, made from the number when there is none: a
 * voicemail is kept in a conversation. "" for a withheld number. */
static int contact_of(char id[VC_ID_SIZE], vc__db *db, vc_ctx *ctx,
                      const char *tenant_id, const vc__call_row *r)
{
  vc__stmt *s;
  int rc;

  id[0] = '\0';
  if ((rc = vc__db_query(&s, db, SQL_CONTACT, "tt", tenant_id, r->id)) < 0)
    return rc;
  if ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW)
    snprintf(id, VC_ID_SIZE, "%s", vc__stmt_text(s, 0));
  vc__stmt_done(s);
  if (rc < 0)
    return rc;
  if (id[0] != '\0' || r->customer_number[0] != '+')
    return 0;
  if ((rc = vc__contact_ensure(id, db, ctx, tenant_id, VC_ADDRESS_PHONE,
                               r->customer_number)) < 0) {
    if (rc == VC_ENOMEM || rc == VC_ESTORAGE)
      return rc;
    VC_LOG(ctx, VC_LOG_WARN, "voicemail of call %s kept outside the "
           "inbox: %s", r->id, vc_error_last()->message);
    vc_error_clear();
    id[0] = '\0';
    return 0;
  }
  return vc__db_run(db, SQL_CALL_CONTACT, "ttt", tenant_id, r->id, id);
}

int vc__voicemail_store(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                        const vc__call_row *r, const char *box,
                        const vc_call_update *u, int64_t at)
{
  char contact[VC_ID_SIZE];
  cJSON *d;
  char *text;
  int rc;

  if ((rc = vc__db_run(db, SQL_KEEP, "ttttii", tenant_id, r->id,
                       u->recording_id ? u->recording_id : "",
                       u->recording_url, (int64_t)u->recording_duration_s,
                       at)) < 0)
    return rc;
  if (vc__db_changes(db) == 0)
    return 0;
  if ((rc = contact_of(contact, db, ctx, tenant_id, r)) < 0)
    return rc;
  if (contact[0] != '\0' &&
      ((rc = vc__db_run(db, SQL_VOICEMAIL_CONTACT, "ttt", tenant_id, r->id,
                        contact)) < 0 ||
       (rc = vc__inbox_on_voicemail(db, ctx, tenant_id, contact, at)) < 0))
    return rc;
  if ((d = cJSON_CreateObject()) == NULL)
    return vc_error_set_oom();
  cJSON_AddStringToObject(d, "box", box);
  if (u->recording_id != NULL)
    cJSON_AddStringToObject(d, "recording_id", u->recording_id);
  cJSON_AddStringToObject(d, "url", u->recording_url ? u->recording_url
                                                     : "");
  cJSON_AddNumberToObject(d, "duration_s", u->recording_duration_s);
  cJSON_AddStringToObject(d, "from", r->customer_number);
  if (contact[0] != '\0')
    cJSON_AddStringToObject(d, "contact_id", contact);
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
