/*
 * What the rest of the library needs of contacts: the contact an address
 * belongs to, creating one for an unknown sender, and the preferences
 * sending honours (timezone, locale, quiet hours).
 */
#ifndef VC_MSG_CONTACT_H
#define VC_MSG_CONTACT_H

#include "vyomcomm/contact.h"
#include "vyomcomm/tenant.h"
#include "store/db.h"

/* The contact holding `to`, already normalized for a message or call of
 * `channel_kind` (an email address for email, an E.164 number for SMS
 * and voice, a chat id or WhatsApp number for chat): 1 and its id (the
 * survivor when the holder was merged), 0 when no contact holds it. */
int vc__contact_for_recipient(char id_out[VC_ID_SIZE], vc__db *db,
                              const char *tenant_id, int channel_kind,
                              const char *to);

/* The contact holding a normalized address of a vc_address_kind, created
 * (with that one address) when none does: an inbound STOP from an unknown
 * number still needs a contact to record consent on. 1 when created. */
int vc__contact_ensure(char id_out[VC_ID_SIZE], vc__db *db, vc_ctx *ctx,
                       const char *tenant_id, int addr_kind,
                       const char *address);

/* Whether a live (not erased) contact exists: 0, or VC_ENOTFOUND with
 * the error set. A merged id resolves to its survivor in `id_out`. */
int vc__contact_resolve(char id_out[VC_ID_SIZE], vc__db *db,
                        const char *tenant_id, const char *contact_id);

/* A contact's own settings; "" and VC_TENANT_KEEP mean the tenant's. */
typedef struct vc__contact_prefs {
  char timezone[VC_CONTACT_TIMEZONE_MAX + 1];
  char locale[36];
  int quiet_start_min;   /* VC_TENANT_KEEP, VC_QUIET_NONE, or 0..1439 */
  int quiet_end_min;
} vc__contact_prefs;

int vc__contact_prefs_get(vc__contact_prefs *out, vc__db *db,
                          const char *tenant_id, const char *contact_id);

/* The contact's address of a vc_address_kind: 1 and the address, 0 when
 * it has none. */
int vc__contact_address(char *out, size_t size, vc__db *db,
                        const char *tenant_id, const char *contact_id,
                        int addr_kind);

/* Called for each stored row of an import, inside the transaction that
 * stores it, with the row's columns that are not contact fields as a
 * JSON object (a campaign's per-recipient variables). A negative return
 * rejects the row as if it were malformed (its changes are undone). */
typedef int (*vc__contact_row_fn)(void *arg, vc__db *db,
                                  const char *contact_id,
                                  const char *extra_json, uint64_t line);

/* vc_contact_import_csv() with a row hook (NULL: none). */
int vc__contact_import_csv(vc_contact_import_result *out, vc_tenant *t,
                           const vc_contact_import_spec *spec,
                           vc__contact_row_fn row_fn, void *arg);

/*
 * Code that keeps a contact id of its own (messages, calls, consent
 * records) keeps the id it was given, also after a merge: the contact
 * and the ids merged into it are, in SQL, the ids
 *   SELECT id FROM vc_contact WHERE tenant_id = ? AND
 *     (id = <survivor> OR merged_into = <survivor>)
 * (merged_into always names the final survivor: a merge re-points the
 * tombstones of the contact it merges).
 */

/* ---- shared by contact.c and contact_import.c --------------------------- */

#include <cJSON.h>

/* A normalized address fits here (an email address is the longest). */
#define VC__CONTACT_ADDR_MAX 255

/* A contact's settings, validated and normalized: what a spec or a CSV
 * row asks for. Pointers are borrowed from the spec or row. */
typedef struct vc__contact_input {
  const char *name;       /* NULL keep, "" none */
  const char *timezone;   /* NULL keep, "" the tenant's */
  const char *locale;     /* NULL keep, "" the tenant's, else canon */
  char locale_buf[36];
  int quiet_start, quiet_end;  /* VC_CONTACT_KEEP, VC_TENANT_KEEP, ... */
  /* Per vc_address_kind: 0 not given, 1 `addr` given, 2 given as "". */
  int addr_state[5];
  char addr[5][VC__CONTACT_ADDR_MAX];
  const char *tags;       /* a checked `;` list, NULL keep */
  cJSON *fields;          /* owned: members to merge, NULL none */
} vc__contact_input;

void vc__contact_input_init(vc__contact_input *in);
void vc__contact_input_dispose(vc__contact_input *in);

/* Checks of single values (`field` names them in messages). */
int vc__contact_check_name(const char *name);
int vc__contact_check_timezone(const char *tz);
int vc__contact_check_tags(const char *tags, const char *field);
int vc__contact_normalize(char out[VC__CONTACT_ADDR_MAX], int kind,
                          const char *in);

/* Set the members of `in` from `s`, checking each. */
int vc__contact_input_from_spec(vc__contact_input *in,
                                const vc_contact_spec *s);

/* The store part of vc_contact_upsert() in the caller's transaction,
 * with `more_tags` (a checked `;` list, or NULL) added: 0, or 1 when a
 * contact was created; `id_out` gets its id. No audit row. */
int vc__contact_upsert_on(char id_out[VC_ID_SIZE], vc__db *db, vc_ctx *ctx,
                          const char *tenant_id,
                          const vc__contact_input *in,
                          const char *more_tags);

/* 0 when the tenant is live, else VC_ENOTFOUND. */
int vc__contact_tenant_live(vc__db *db, const char *tenant_id);

#endif /* VC_MSG_CONTACT_H */
