/*
 * Inbound numbers, for the arrival path: which tenant, channel and entry
 * point a called number leads to.
 */
#ifndef VC_CALL_NUMBER_H
#define VC_CALL_NUMBER_H

#include "vyomcomm/number.h"
#include "vyomcomm/ctx.h"
#include "store/db.h"

/* Where a call to a number goes. */
typedef struct vc__number_routing {
  char tenant_id[VC_ID_SIZE];
  char number_id[VC_ID_SIZE];
  char channel_id[VC_ID_SIZE];
  int entry_kind;                  /* a vc_number_entry */
  char entry_id[VC_ID_SIZE];
} vc__number_routing;

/*
 * The routing of `number` as a provider wrote it (see vyomcomm/number.h
 * for the forms taken), across tenants: the one lookup that does not
 * start from a tenant, since the number is what names the tenant.
 * VC_ENOTFOUND for a number no live tenant has (logged at INFO with its
 * last four characters only), VC_EINVALID for a malformed one or a
 * national number of two countries. One or two indexed reads.
 */
int vc__number_route(vc__db *db, vc_ctx *ctx, const char *number,
                     vc__number_routing *out);

/* The length of the country calling code E.164 `digits` begin with
 * (1, 2 or 3; ITU-T E.164 assignments are prefix-free). */
int vc__number_cc_len(const char *digits);

#endif
