/*
 * Quiet hours: when a message or call may reach a contact.
 */
#ifndef VC_MSG_QUIET_H
#define VC_MSG_QUIET_H

#include "vyomcomm/tenant.h"
#include "store/db.h"
#include "contact.h"

/* The first instant at or after `at` (Unix ms) outside the quiet window
 * that applies to the contact (its own override, else the tenant's), in
 * the contact's timezone (else the tenant's); `at` itself when that is
 * outside the window or `category` is exempt. `contact_id` "" = no
 * contact: the tenant's window and timezone. 0 or < 0. */
int vc__quiet_next_open(int64_t *open_at, vc__db *db, vc_tenant *t,
                        const char *contact_id, int category, int64_t at);

/* The same with the contact's settings already read (NULL: no contact):
 * the rules alone, for tests and callers holding the settings. */
int vc__quiet_open_for(int64_t *open_at, vc_tenant *t,
                       const vc__contact_prefs *prefs, int category,
                       int64_t at);

#endif /* VC_MSG_QUIET_H */
