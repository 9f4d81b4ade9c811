/*
 * The unified inbox: conversations (one per contact), threaded from
 * inbound messages by the webhook hook, and what the API does with them:
 * lookup, list and search, status, assignment, unread counts and the
 * reply. The timeline is in inbox_thread.c.
 *
 * A snooze is not woken by a job: a snoozed conversation whose time has
 * passed is read as open (the SQL below compares with the clock), and
 * the stored row keeps `snoozed` until its next change.
 */
#include "core/common.h"
#include "core/audit.h"
#include "core/ctx.h"
#include "core/iter.h"
#include "core/tenant.h"
#include "core/text.h"
#include "core/ulid.h"
#include "address.h"
#include "contact.h"
#include "inbox.h"
#include "message.h"
#include "msg_hooks.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>

#define AGENT_REF_MAX 255

static const char *const STATUS_NAMES[] = { "", "open", "pending",
                                            "resolved", "snoozed" };

const char *vc_conversation_status_name(int status)
{
  return status >= VC_CONVERSATION_OPEN && status <= VC_CONVERSATION_SNOOZED
           ? STATUS_NAMES[status]
           : "";
}

/* ---- SQL ------------------------------------------------------------- */

/* The stored status as it reads at time NOW: a snooze that ended is open. */
#define LIVE_STATUS(NOW) \
  "(CASE WHEN v.status = 4 AND v.snoozed_until <= " NOW \
  " THEN 1 ELSE v.status END)"
#define CONV_COLS(NOW) \
  "v.id, v.contact_id, " LIVE_STATUS(NOW) "," \
  " CASE WHEN v.status = 4 AND v.snoozed_until > " NOW \
  " THEN v.snoozed_until ELSE 0 END, COALESCE(v.assignee_id, ''), v.unread," \
  " COALESCE(v.last_channel_id, ''), v.last_channel_kind," \
  " v.last_activity_at, v.created_at, v.updated_at"

static const char SQL_BY_ID[] =
  "SELECT " CONV_COLS("?3") " FROM vc_conversation v"
  " WHERE v.tenant_id = ?1 AND v.id = ?2";
static const char SQL_BY_CONTACT[] =
  "SELECT " CONV_COLS("?3") " FROM vc_conversation v"
  " WHERE v.tenant_id = ?1 AND v.contact_id = ?2";
static const char SQL_CONTACT_OF[] =
  "SELECT contact_id FROM vc_conversation WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_PROVIDER[] =
  "SELECT provider FROM vc_channel WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_INBOUND_CONTACT[] =
  "UPDATE vc_inbound_message SET contact_id = ?3"
  " WHERE tenant_id = ?1 AND id = ?2";
/* An inbound message opens the contact's conversation, or reopens it and
 * counts one more unread; the latest inbound (by the time received)
 * decides the channel a reply goes on. */
static const char SQL_ON_INBOUND[] =
  "INSERT INTO vc_conversation (tenant_id, id, contact_id, status, unread,"
  " last_inbound_id, last_inbound_at, last_channel_id, last_channel_kind,"
  " last_activity_at, created_at, updated_at)"
  " VALUES (?1, ?2, ?3, 1, 1, ?4, ?5, ?6, ?7, ?5, ?8, ?8)"
  " ON CONFLICT (tenant_id, contact_id) DO UPDATE SET status = 1,"
  " snoozed_until = 0, unread = vc_conversation.unread + 1,"
  " last_inbound_id = CASE WHEN excluded.last_inbound_at >="
  "   vc_conversation.last_inbound_at THEN excluded.last_inbound_id"
  "   ELSE vc_conversation.last_inbound_id END,"
  " last_channel_id = CASE WHEN excluded.last_inbound_at >="
  "   vc_conversation.last_inbound_at THEN excluded.last_channel_id"
  "   ELSE vc_conversation.last_channel_id END,"
  " last_channel_kind = CASE WHEN excluded.last_inbound_at >="
  "   vc_conversation.last_inbound_at THEN excluded.last_channel_kind"
  "   ELSE vc_conversation.last_channel_kind END,"
  " last_inbound_at = CASE WHEN excluded.last_inbound_at >="
  "   vc_conversation.last_inbound_at THEN excluded.last_inbound_at"
  "   ELSE vc_conversation.last_inbound_at END,"
  " last_activity_at = CASE WHEN excluded.last_activity_at >"
  "   vc_conversation.last_activity_at THEN excluded.last_activity_at"
  "   ELSE vc_conversation.last_activity_at END,"
  " updated_at = excluded.updated_at";
static const char SQL_ON_VOICEMAIL[] =
  "INSERT INTO vc_conversation (tenant_id, id, contact_id, status, unread,"
  " last_activity_at, created_at, updated_at)"
  " VALUES (?1, ?2, ?3, 1, 1, ?4, ?5, ?5)"
  " ON CONFLICT (tenant_id, contact_id) DO UPDATE SET status = 1,"
  " snoozed_until = 0, unread = vc_conversation.unread + 1,"
  " last_activity_at = CASE WHEN excluded.last_activity_at >"
  "   vc_conversation.last_activity_at THEN excluded.last_activity_at"
  "   ELSE vc_conversation.last_activity_at END,"
  " updated_at = excluded.updated_at";
static const char SQL_ASSIGN_CONTACT[] =
  "INSERT INTO vc_conversation (tenant_id, id, contact_id, status,"
  " assignee_id, last_activity_at, created_at, updated_at)"
  " VALUES (?1, ?2, ?3, 1, ?4, ?5, ?5, ?5)"
  " ON CONFLICT (tenant_id, contact_id) DO UPDATE SET"
  " assignee_id = excluded.assignee_id, updated_at = excluded.updated_at";
static const char SQL_ERASE[] =
  "DELETE FROM vc_conversation WHERE tenant_id = ?1 AND (contact_id = ?2"
  " OR contact_id IN (SELECT id FROM vc_contact WHERE tenant_id = ?1"
  " AND merged_into = ?2))";
static const char SQL_AGENT[] =
  "SELECT id FROM vc_agent WHERE tenant_id = ?1 AND (id = ?2 OR name = ?2)"
  " ORDER BY CASE WHEN id = ?2 THEN 0 ELSE 1 END LIMIT 1";
static const char SQL_SET_STATUS[] =
  "UPDATE vc_conversation SET status = ?3, snoozed_until = ?4,"
  " updated_at = ?5 WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_SET_ASSIGNEE[] =
  "UPDATE vc_conversation SET assignee_id = ?3, updated_at = ?4"
  " WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_MARK_READ[] =
  "UPDATE vc_conversation SET unread = 0, updated_at = ?3"
  " WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_REPLY_SOURCE[] =
  "SELECT v.contact_id, COALESCE(v.last_inbound_id, ''), i.channel_id,"
  " i.from_addr, ch.kind, ch.provider FROM vc_conversation v"
  " LEFT JOIN vc_inbound_message i ON i.tenant_id = v.tenant_id"
  "   AND i.id = v.last_inbound_id"
  " LEFT JOIN vc_channel ch ON ch.tenant_id = i.tenant_id"
  "   AND ch.id = i.channel_id"
  " WHERE v.tenant_id = ?1 AND v.id = ?2";
/* Answered: read, and waiting on the customer. */
static const char SQL_REPLIED[] =
  "UPDATE vc_conversation SET unread = 0, status = 2, snoozed_until = 0,"
  " last_activity_at = CASE WHEN ?3 > last_activity_at THEN ?3"
  " ELSE last_activity_at END, updated_at = ?3"
  " WHERE tenant_id = ?1 AND id = ?2";

/* ---- helpers ----------------------------------------------------------- */

static int check_id(const char *id, const char *what)
{
  if (!vc__ulid_valid(id))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "%s is not a valid id", what);
  return 0;
}

static int not_found(const char *id)
{
  return vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                       "no conversation '%.32s'", id);
}

int vc__inbox_cursor_parse(const char *cursor, const char *what,
                           int64_t *at, char id[VC_ID_SIZE])
{
  const char *colon;
  int64_t v = 0;

  *at = -1;
  id[0] = '\0';
  if (cursor == NULL || cursor[0] == '\0')
    return 0;
  colon = strchr(cursor, ':');
  if (colon == NULL || colon == cursor || colon - cursor > 18 ||
      !vc__ulid_valid(colon + 1))
    goto bad;
  for (const char *p = cursor; p < colon; p++) {
    if (*p < '0' || *p > '9')
      goto bad;
    v = v * 10 + (*p - '0');
  }
  *at = v;
  snprintf(id, VC_ID_SIZE, "%s", colon + 1);
  return 0;
bad:
  return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                       "cursor is not a %s cursor", what);
}

int vc__inbox_conversation_contact(char contact_id[VC_ID_SIZE], vc__db *db,
                                   const char *tenant_id,
                                   const char *conversation_id)
{
  char stored[VC_ID_SIZE];
  vc__stmt *s;
  int rc;

  contact_id[0] = '\0';
  if ((rc = vc__db_query(&s, db, SQL_CONTACT_OF, "tt", tenant_id,
                         conversation_id)) < 0)
    return rc;
  if ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW)
    snprintf(stored, sizeof(stored), "%s", vc__stmt_text(s, 0));
  vc__stmt_done(s);
  if (rc == VC_STORAGE_DONE)
    return not_found(conversation_id);
  if (rc < 0)
    return rc;
  return vc__contact_resolve(contact_id, db, tenant_id, stored);
}

/* A failure of the store (or of memory) must undo the caller's
 * transaction; anything else about threading a message is logged. */
static int fatal(int rc)
{
  const vc_error *e = vc_error_last();

  return rc == VC_ENOMEM || rc == VC_ESTORAGE || rc == VC_EBUSY ||
         e->klass == VC_ERRCLASS_STORAGE;
}

/* The sender of an inbound message as a message recipient (`to`, in the
 * form vc_message_send() takes for the channel's kind) and the kind of
 * contact address it is. VC_EINVALID when it is neither. */
typedef struct sender {
  char to[VC__ADDR_EMAIL_MAX + 1];
  int addr_kind;
} sender;

static int sender_of(sender *out, int kind, const char *provider,
                     const char *from)
{
  char buf[VC__ADDR_EMAIL_MAX + 4];
  int rc = VC_EINVALID;

  memset(out, 0, sizeof(*out));
  if (from == NULL || from[0] == '\0' || strlen(from) > VC__ADDR_EMAIL_MAX)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "the sender's address is empty or too long");
  switch (kind) {
  case VC_CHANNEL_SMS:
  case VC_CHANNEL_VOICE:
    /* Some providers drop the '+'. */
    snprintf(buf, sizeof(buf), "%s%s", from[0] == '+' ? "" : "+", from);
    rc = vc__addr_phone(out->to, buf, 1);
    out->addr_kind = VC_ADDRESS_PHONE;
    break;
  case VC_CHANNEL_EMAIL: {
    /* "Name <address>" as well as the bare address. */
    const char *lt = strrchr(from, '<'), *gt = strrchr(from, '>');
    vc_buf b = VC_BUF_INIT;
    if (lt != NULL && gt != NULL && gt > lt)
      snprintf(buf, sizeof(buf), "%.*s", (int)(gt - lt - 1), lt + 1);
    else
      snprintf(buf, sizeof(buf), "%s", from);
    if ((rc = vc__addr_email(&b, buf)) == 0)
      snprintf(out->to, sizeof(out->to), "%s", b.ptr);
    vc_buf_dispose(&b);
    out->addr_kind = VC_ADDRESS_EMAIL;
    break;
  }
  case VC_CHANNEL_CHAT:
    if (strstr(provider, "telegram") != NULL) {
      rc = vc__addr_telegram(out->to, from);
      out->addr_kind = VC_ADDRESS_TELEGRAM;
    } else {
      rc = vc__addr_whatsapp(out->to, from);
      out->addr_kind = VC_ADDRESS_WHATSAPP;
    }
    break;
  default:
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "no sender address on a channel of kind %d", kind);
  }
  return rc;
}

static int provider_of(char *out, size_t size, vc__db *db,
                       const char *tenant_id, const char *channel_id)
{
  vc__stmt *s;
  int rc;

  out[0] = '\0';
  if ((rc = vc__db_query(&s, db, SQL_PROVIDER, "tt", tenant_id,
                         channel_id)) < 0)
    return rc;
  if ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW)
    snprintf(out, size, "%s", vc__stmt_text(s, 0));
  vc__stmt_done(s);
  return rc < 0 ? rc : 0;
}

/* ---- the hooks (msg_hooks.h) ----------------------------------------- */

int vc__inbox_on_inbound(vc__db *db, vc_ctx *ctx, const vc__msg_inbound *m)
{
  char contact[VC_ID_SIZE] = "", id[VC_ID_SIZE], provider[64] = "";
  sender who;
  int rc;

  /* Only a chat channel's sender needs its provider to be read. */
  if (m->kind == VC_CHANNEL_CHAT &&
      (rc = provider_of(provider, sizeof(provider), db, m->tenant_id,
                        m->channel_id)) < 0)
    return rc;
  if ((rc = sender_of(&who, m->kind, provider, m->from_addr)) == 0 &&
      (rc = vc__contact_for_recipient(contact, db, m->tenant_id, m->kind,
                                      who.to)) == 0)
    /* An inbox never loses a customer: an unknown sender becomes one. */
    rc = vc__contact_ensure(contact, db, ctx, m->tenant_id, who.addr_kind,
                            who.to);
  if (rc < 0) {
    if (fatal(rc))
      return rc;
    VC_LOG(ctx, VC_LOG_WARN, "inbound message %s kept outside the inbox: %s",
           m->id, vc_error_last()->message);
    vc_error_clear();
    return 0;
  }
  if ((rc = vc__db_run(db, SQL_INBOUND_CONTACT, "ttt", m->tenant_id, m->id,
                       contact)) < 0 ||
      (rc = vc__new_id(ctx, id)) < 0)
    return rc;
  return vc__db_run(db, SQL_ON_INBOUND, "ttttit" "ii", m->tenant_id, id,
                    contact, m->id, m->at, m->channel_id, (int64_t)m->kind,
                    vc__now(ctx));
}

int vc__inbox_on_voicemail(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                           const char *contact_id, int64_t at)
{
  char id[VC_ID_SIZE];
  int rc;

  if ((rc = vc__new_id(ctx, id)) < 0)
    return rc;
  return vc__db_run(db, SQL_ON_VOICEMAIL, "tttii", tenant_id, id,
                    contact_id, at, vc__now(ctx));
}

/* The agent an id or a name designates: 0 and its id, or VC_ENOTFOUND. */
static int agent_find(char out[VC_ID_SIZE], vc__db *db, const char *tenant_id,
                      const char *agent)
{
  vc__stmt *s;
  int rc;

  out[0] = '\0';
  if (agent == NULL || agent[0] == '\0' || strlen(agent) > AGENT_REF_MAX)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                         "no agent named by an empty or over-long text");
  if ((rc = vc__db_query(&s, db, SQL_AGENT, "tt", tenant_id, agent)) < 0)
    return rc;
  if ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW)
    snprintf(out, VC_ID_SIZE, "%s", vc__stmt_text(s, 0));
  vc__stmt_done(s);
  if (rc == VC_STORAGE_DONE)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                         "no agent '%.64s'", agent);
  return rc < 0 ? rc : 0;
}

int vc__inbox_assign_contact(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                             const char *contact_id, const char *agent)
{
  char live[VC_ID_SIZE], agent_id[VC_ID_SIZE], id[VC_ID_SIZE];
  int rc;

  if ((rc = vc__contact_resolve(live, db, tenant_id, contact_id)) < 0 ||
      (rc = agent_find(agent_id, db, tenant_id, agent)) < 0 ||
      (rc = vc__new_id(ctx, id)) < 0)
    return rc;
  return vc__db_run(db, SQL_ASSIGN_CONTACT, "tttti", tenant_id, id, live,
                    agent_id, vc__now(ctx));
}

int vc__inbox_erase_contact(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                            const char *contact_id)
{
  VC_UNUSED(ctx);
  /* Conversations hold ids, counts and times: no other personal data. */
  return vc__db_run(db, SQL_ERASE, "tt", tenant_id, contact_id);
}

/* ---- the handle ------------------------------------------------------ */

struct vc_conversation {
  char id[VC_ID_SIZE];
  char contact_id[VC_ID_SIZE];
  char assignee_id[VC_ID_SIZE];
  char channel_id[VC_ID_SIZE];
  int status, channel_kind;
  int64_t snoozed_until, unread, last_activity_at, created_at, updated_at;
  char key[48];                 /* its list cursor */
};

static int conv_from_stmt(vc_conversation **out, vc__stmt *s)
{
  vc_conversation *c = vc__calloc(1, sizeof(*c));

  *out = NULL;
  if (c == NULL)
    return vc_error_set_oom();
  snprintf(c->id, sizeof(c->id), "%s", vc__stmt_text(s, 0));
  snprintf(c->contact_id, sizeof(c->contact_id), "%s", vc__stmt_text(s, 1));
  c->status = (int)vc__stmt_int64(s, 2);
  c->snoozed_until = vc__stmt_int64(s, 3);
  snprintf(c->assignee_id, sizeof(c->assignee_id), "%s",
           vc__stmt_text(s, 4));
  c->unread = vc__stmt_int64(s, 5);
  snprintf(c->channel_id, sizeof(c->channel_id), "%s", vc__stmt_text(s, 6));
  c->channel_kind = (int)vc__stmt_int64(s, 7);
  c->last_activity_at = vc__stmt_int64(s, 8);
  c->created_at = vc__stmt_int64(s, 9);
  c->updated_at = vc__stmt_int64(s, 10);
  snprintf(c->key, sizeof(c->key), "%" PRId64 ":%s", c->last_activity_at,
           c->id);
  *out = c;
  return 0;
}

static int load(vc_conversation **out, vc_tenant *t, const char *sql,
                const char *key, int by_contact)
{
  vc_ctx *ctx = vc__tenant_ctx(t);
  char live[VC_ID_SIZE];
  vc__db *db;
  vc__stmt *s;
  int rc;

  if ((rc = vc__db_acquire(&db, ctx->store)) < 0)
    return rc;
  if (by_contact &&
      (rc = vc__contact_resolve(live, db, vc_tenant_id(t), key)) < 0)
    goto release;
  if ((rc = vc__db_query(&s, db, sql, "tti", vc_tenant_id(t),
                         by_contact ? live : key, vc__now(ctx))) < 0)
    goto release;
  if ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW)
    rc = conv_from_stmt(out, s);
  else if (rc == VC_STORAGE_DONE)
    rc = by_contact
           ? vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                           "contact '%.32s' has no conversation", key)
           : not_found(key);
  vc__stmt_done(s);
release:
  vc__db_release(db);
  return rc;
}

int vc_conversation_lookup(vc_conversation **out, vc_tenant *t,
                           const char *id)
{
  int rc;

  VC_ASSERT_ARG(out);
  *out = NULL;
  VC_ASSERT_ARG(t);
  if ((rc = check_id(id, "conversation id")) < 0)
    return rc;
  return load(out, t, SQL_BY_ID, id, 0);
}

int vc_conversation_lookup_contact(vc_conversation **out, vc_tenant *t,
                                   const char *contact_id)
{
  int rc;

  VC_ASSERT_ARG(out);
  *out = NULL;
  VC_ASSERT_ARG(t);
  if ((rc = check_id(contact_id, "contact id")) < 0)
    return rc;
  return load(out, t, SQL_BY_CONTACT, contact_id, 1);
}

void vc_conversation_free(vc_conversation *c) { vc__free(c); }

const char *vc_conversation_id(const vc_conversation *c)
{
  return c ? c->id : NULL;
}
const char *vc_conversation_contact_id(const vc_conversation *c)
{
  return c ? c->contact_id : NULL;
}
int vc_conversation_status_of(const vc_conversation *c)
{
  return c ? c->status : 0;
}
int64_t vc_conversation_snoozed_until(const vc_conversation *c)
{
  return c ? c->snoozed_until : 0;
}
const char *vc_conversation_assignee_id(const vc_conversation *c)
{
  return c ? c->assignee_id : NULL;
}
int64_t vc_conversation_unread(const vc_conversation *c)
{
  return c ? c->unread : 0;
}
const char *vc_conversation_last_channel_id(const vc_conversation *c)
{
  return c ? c->channel_id : NULL;
}
int vc_conversation_last_channel_kind(const vc_conversation *c)
{
  return c ? c->channel_kind : 0;
}
int64_t vc_conversation_last_activity_at(const vc_conversation *c)
{
  return c ? c->last_activity_at : 0;
}
int64_t vc_conversation_created_at(const vc_conversation *c)
{
  return c ? c->created_at : 0;
}
int64_t vc_conversation_updated_at(const vc_conversation *c)
{
  return c ? c->updated_at : 0;
}

/* ---- list and search ------------------------------------------------- */

/* Newest activity first after the cursor (?3, ?4), every set condition
 * holding. The search (?11, a LIKE pattern) reads the contact and its
 * messages of each conversation the walk reaches. */
static const char SQL_LIST[] =
  "SELECT " CONV_COLS("?2") " FROM vc_conversation v JOIN vc_contact c"
  " ON c.tenant_id = v.tenant_id AND c.id = v.contact_id"
  " WHERE v.tenant_id = ?1 AND c.merged_into IS NULL"
  " AND c.erased_at IS NULL"
  " AND (v.last_activity_at < ?3 OR (v.last_activity_at = ?3"
  "   AND v.id < ?4))"
  " AND (?5 = 0 OR " LIVE_STATUS("?2") " = ?5)"
  " AND (?6 = '' OR v.assignee_id = ?6)"
  " AND (?7 = 0 OR v.assignee_id IS NULL)"
  " AND (?8 = 0 OR v.unread > 0)"
  " AND (?9 = 0 OR v.last_channel_kind = ?9)"
  " AND (?10 = 0 OR v.updated_at >= ?10)"
  " AND (?11 = '' OR lower(COALESCE(c.name, '')) LIKE ?11 ESCAPE '\\'"
  "   OR EXISTS (SELECT 1 FROM vc_contact_address a"
  "     WHERE a.tenant_id = ?1 AND a.contact_id = v.contact_id"
  "     AND lower(a.address) LIKE ?11 ESCAPE '\\')"
  "   OR EXISTS (SELECT 1 FROM vc_inbound_message i"
  "     WHERE i.tenant_id = ?1 AND i.contact_id = v.contact_id"
  "     AND lower(i.text_body) LIKE ?11 ESCAPE '\\')"
  "   OR EXISTS (SELECT 1 FROM vc_message m"
  "     WHERE m.tenant_id = ?1 AND m.contact_id = v.contact_id"
  "     AND lower(m.text_body) LIKE ?11 ESCAPE '\\'))"
  " ORDER BY v.last_activity_at DESC, v.id DESC LIMIT 50";

typedef struct conv_iter {
  vc__page_iter page;
  vc_ctx *ctx;
  char tenant_id[VC_ID_SIZE];
  char assignee[VC_ID_SIZE];
  int status, unassigned, unread, kind;
  int64_t updated_since;
  /* "%text%", lower-cased, with % _ and \ escaped; "" for no search. */
  char pattern[2 * VC_CONVERSATION_SEARCH_MAX + 3];
} conv_iter;

static int conv_page_query(vc__stmt **out, vc__db *db, const vc__page_iter *p)
{
  const conv_iter *it = (const conv_iter *)p;
  char id[VC_ID_SIZE];
  int64_t at;
  int rc;

  if ((rc = vc__inbox_cursor_parse(p->base.cursor, "conversation list", &at,
                                   id)) < 0)
    return rc;
  if (at < 0)
    at = INT64_MAX;
  return vc__db_query(out, db, SQL_LIST, "tiit" "itiii" "it", it->tenant_id,
                      vc__now(it->ctx), at, id, (int64_t)it->status,
                      it->assignee, (int64_t)it->unassigned,
                      (int64_t)it->unread, (int64_t)it->kind,
                      it->updated_since, it->pattern);
}

static int conv_page_row(void **out, vc__stmt *s)
{
  return conv_from_stmt((vc_conversation **)out, s);
}

static void conv_page_row_free(void *row) { vc_conversation_free(row); }

static const char *conv_page_row_key(const void *row)
{
  return ((const vc_conversation *)row)->key;
}

static const vc__page_ops CONV_PAGES = {
  { "conversation", vc__page_iter_free }, conv_page_query, conv_page_row,
  conv_page_row_free, conv_page_row_key
};

static int check_search(char *pattern, size_t size, const char *text)
{
  size_t len, n = 0;
  int rc;

  pattern[0] = '\0';
  if (text == NULL || text[0] == '\0')
    return 0;
  if ((rc = vc__check_text("search text", text, VC_CONVERSATION_SEARCH_MAX,
                           0)) < 0)
    return rc;
  len = strlen(text);
  pattern[n++] = '%';
  for (size_t i = 0; i < len && n + 3 < size; i++) {
    char ch = text[i];
    if ((unsigned char)ch < 0x20 || ch == 0x7f)
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "search text contains a control character");
    if (ch == '%' || ch == '_' || ch == '\\')
      pattern[n++] = '\\';
    pattern[n++] = ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
  }
  pattern[n++] = '%';
  pattern[n] = '\0';
  return 0;
}

int vc_conversation_list(vc_iter **out, vc_tenant *t,
                         const vc_conversation_filter *f)
{
  char pattern[2 * VC_CONVERSATION_SEARCH_MAX + 3];
  conv_iter *it;
  int64_t at;
  char id[VC_ID_SIZE];
  int rc;

  VC_ASSERT_ARG(out);
  *out = NULL;
  VC_ASSERT_ARG(t);
  VC_CHECK_VERSION(f, VC_CONVERSATION_FILTER_VERSION,
                   "vc_conversation_filter");
  pattern[0] = '\0';
  if (f != NULL) {
    if ((rc = vc__inbox_cursor_parse(f->after, "conversation list", &at,
                                     id)) < 0)
      return rc;
    if (f->status < 0 || f->status > VC_CONVERSATION_SNOOZED)
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "unknown conversation status %d", f->status);
    if (f->assignee_id != NULL && !vc__ulid_valid(f->assignee_id))
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "assignee filter is not an agent id");
    if (f->assignee_id != NULL && f->unassigned)
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "a conversation cannot be both assigned to an "
                           "agent and unassigned");
    if (f->channel_kind < 0 || f->channel_kind > VC_CHANNEL_VOICE)
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "unknown channel kind %d", f->channel_kind);
    if (f->updated_since < 0)
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "updated_since is negative");
    if ((rc = check_search(pattern, sizeof(pattern), f->text)) < 0)
      return rc;
  }
  if ((it = vc__calloc(1, sizeof(*it))) == NULL)
    return vc_error_set_oom();
  vc__page_iter_init(&it->page, &CONV_PAGES, vc__tenant_ctx(t)->store,
                     f != NULL ? f->after : NULL);
  it->ctx = vc__tenant_ctx(t);
  snprintf(it->tenant_id, sizeof(it->tenant_id), "%s", vc_tenant_id(t));
  memcpy(it->pattern, pattern, sizeof(pattern));
  if (f != NULL) {
    snprintf(it->assignee, sizeof(it->assignee), "%s",
             f->assignee_id ? f->assignee_id : "");
    it->status = f->status;
    it->unassigned = f->unassigned != 0;
    it->unread = f->unread != 0;
    it->kind = f->channel_kind;
    it->updated_since = f->updated_since;
  }
  *out = &it->page.base;
  return 0;
}

int vc_conversation_next(vc_conversation **out, vc_iter *base)
{
  void *row;
  int rc;

  VC_ASSERT_ARG(out);
  *out = NULL;
  if ((rc = vc__page_iter_next(&row, base, &CONV_PAGES)) < 0)
    return rc;
  *out = row;
  return 0;
}

/* ---- changes --------------------------------------------------------- */

typedef int (*write_fn)(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                        void *arg);

/* Run `fn` in a transaction of its own on a live tenant. */
static int write_tx(vc_tenant *t, write_fn fn, void *arg)
{
  vc_ctx *ctx = vc__tenant_ctx(t);
  const char *tenant_id = vc_tenant_id(t);
  vc__db *db;
  int rc;

  if ((rc = vc__db_acquire(&db, ctx->store)) < 0)
    return rc;
  if ((rc = vc__db_begin(db)) < 0)
    goto release;
  if ((rc = vc__contact_tenant_live(db, tenant_id)) < 0 ||
      (rc = fn(db, ctx, tenant_id, arg)) < 0 ||
      (rc = vc__db_commit(db)) < 0) {
    vc__db_rollback(db);
    goto release;
  }
  vc_ctx_wakeup(ctx);
release:
  vc__db_release(db);
  return rc;
}

/* One UPDATE of a conversation: VC_ENOTFOUND when there is none. */
static int changed_one(vc__db *db, const char *id)
{
  return vc__db_changes(db) > 0 ? 0 : not_found(id);
}

typedef struct status_arg {
  const char *id;
  int status;
  int64_t until;
} status_arg;

static int status_write(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                        void *arg)
{
  const status_arg *a = arg;
  char summary[64];
  int rc;

  if (a->status == VC_CONVERSATION_SNOOZED && a->until <= vc__now(ctx))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "a snooze must end in the future");
  if ((rc = vc__db_run(db, SQL_SET_STATUS, "ttiii", tenant_id, a->id,
                       (int64_t)a->status, a->until, vc__now(ctx))) < 0 ||
      (rc = changed_one(db, a->id)) < 0)
    return rc;
  snprintf(summary, sizeof(summary), "{\"status\":\"%s\"}",
           vc_conversation_status_name(a->status));
  return vc__audit(db, ctx, tenant_id, "conversation.status", a->id,
                   summary);
}

int vc_conversation_set_status(vc_tenant *t, const char *id, int status,
                               int64_t snoozed_until)
{
  status_arg a;
  int rc;

  VC_ASSERT_ARG(t);
  if ((rc = check_id(id, "conversation id")) < 0)
    return rc;
  if (status < VC_CONVERSATION_OPEN || status > VC_CONVERSATION_SNOOZED)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "unknown conversation status %d", status);
  if (status != VC_CONVERSATION_SNOOZED && snoozed_until != 0)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "a snooze time goes only with the snoozed status");
  a.id = id;
  a.status = status;
  a.until = snoozed_until;
  return write_tx(t, status_write, &a);
}

typedef struct assign_arg {
  const char *id;
  const char *agent_id;         /* NULL: unassign */
} assign_arg;

static int assign_write(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                        void *arg)
{
  const assign_arg *a = arg;
  char agent[VC_ID_SIZE] = "", summary[64];
  int rc;

  if (a->agent_id != NULL &&
      (rc = agent_find(agent, db, tenant_id, a->agent_id)) < 0)
    return rc;
  if ((rc = vc__db_run(db, SQL_SET_ASSIGNEE, "ttti", tenant_id, a->id,
                       a->agent_id ? agent : NULL, vc__now(ctx))) < 0 ||
      (rc = changed_one(db, a->id)) < 0)
    return rc;
  if (a->agent_id != NULL)
    snprintf(summary, sizeof(summary), "{\"agent_id\":\"%s\"}", agent);
  return vc__audit(db, ctx, tenant_id,
                   a->agent_id ? "conversation.assign"
                               : "conversation.unassign",
                   a->id, a->agent_id ? summary : NULL);
}

int vc_conversation_assign(vc_tenant *t, const char *id,
                           const char *agent_id)
{
  assign_arg a;
  int rc;

  VC_ASSERT_ARG(t);
  if ((rc = check_id(id, "conversation id")) < 0)
    return rc;
  if (agent_id == NULL)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "no agent given (vc_conversation_unassign "
                         "unassigns)");
  a.id = id;
  a.agent_id = agent_id;
  return write_tx(t, assign_write, &a);
}

int vc_conversation_unassign(vc_tenant *t, const char *id)
{
  assign_arg a;
  int rc;

  VC_ASSERT_ARG(t);
  if ((rc = check_id(id, "conversation id")) < 0)
    return rc;
  a.id = id;
  a.agent_id = NULL;
  return write_tx(t, assign_write, &a);
}

static int read_write(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                      void *arg)
{
  const char *id = arg;
  int rc;

  if ((rc = vc__db_run(db, SQL_MARK_READ, "tti", tenant_id, id,
                       vc__now(ctx))) < 0 ||
      (rc = changed_one(db, id)) < 0)
    return rc;
  return vc__audit(db, ctx, tenant_id, "conversation.read", id, NULL);
}

int vc_conversation_mark_read(vc_tenant *t, const char *id)
{
  int rc;

  VC_ASSERT_ARG(t);
  if ((rc = check_id(id, "conversation id")) < 0)
    return rc;
  return write_tx(t, read_write, (void *)id);
}

/* ---- reply ------------------------------------------------------------ */

typedef struct reply_arg {
  vc_tenant *t;
  const char *id;
  const vc_message_spec *spec;  /* the caller's, at the latest version */
  char message_id[VC_ID_SIZE];
} reply_arg;

static int reply_write(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                       void *arg)
{
  reply_arg *a = arg;
  char contact[VC_ID_SIZE], inbound[VC_ID_SIZE], channel[VC_ID_SIZE];
  char from[VC__ADDR_EMAIL_MAX + 1], provider[64], summary[96];
  vc_message_spec spec = *a->spec;
  int64_t kind = 0;
  int has_inbound;
  sender who;
  vc__stmt *s;
  int rc;

  if ((rc = vc__db_query(&s, db, SQL_REPLY_SOURCE, "tt", tenant_id,
                         a->id)) < 0)
    return rc;
  if ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW) {
    snprintf(contact, sizeof(contact), "%s", vc__stmt_text(s, 0));
    snprintf(inbound, sizeof(inbound), "%s", vc__stmt_text(s, 1));
    has_inbound = !vc__stmt_is_null(s, 2) && !vc__stmt_is_null(s, 4);
    if (has_inbound) {
      snprintf(channel, sizeof(channel), "%s", vc__stmt_text(s, 2));
      snprintf(from, sizeof(from), "%s", vc__stmt_text(s, 3));
      kind = vc__stmt_int64(s, 4);
      snprintf(provider, sizeof(provider), "%s", vc__stmt_text(s, 5));
    }
  }
  vc__stmt_done(s);
  if (rc == VC_STORAGE_DONE)
    return not_found(a->id);
  if (rc < 0)
    return rc;
  if (!has_inbound)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                         "conversation %s has no inbound message (or its "
                         "channel is gone) to reply to", a->id);
  if ((rc = sender_of(&who, (int)kind, provider, from)) < 0)
    return vc__error_wrap("the inbound message's sender");
  spec.channel = channel;
  spec.to = who.to;
  spec.contact_id = contact;
  if ((rc = vc__message_queue(a->message_id, db, a->t, &spec)) < 0 ||
      (rc = vc__db_run(db, SQL_REPLIED, "tti", tenant_id, a->id,
                       vc__now(ctx))) < 0)
    return rc;
  snprintf(summary, sizeof(summary), "{\"message_id\":\"%s\"}",
           a->message_id);
  return vc__audit(db, ctx, tenant_id, "conversation.reply", a->id,
                   summary);
}

int vc_conversation_reply(char id_out[VC_ID_SIZE], vc_tenant *t,
                          const char *conversation_id,
                          const vc_message_spec *spec)
{
  vc_message_spec copy = VC_MESSAGE_SPEC_INIT;
  reply_arg a;
  int rc;

  VC_ASSERT_ARG(id_out);
  id_out[0] = '\0';
  VC_ASSERT_ARG(t);
  VC_ASSERT_ARG(spec);
  VC_CHECK_VERSION(spec, VC_MESSAGE_SPEC_VERSION, "vc_message_spec");
  if ((rc = check_id(conversation_id, "conversation id")) < 0)
    return rc;
  /* A version 1 spec ends before `category`. */
  memcpy(&copy, spec, spec->version >= 2 ? sizeof(copy)
                                         : offsetof(vc_message_spec,
                                                    category));
  copy.version = VC_MESSAGE_SPEC_VERSION;
  if (copy.kind != 0 || copy.channel != NULL || copy.to != NULL ||
      copy.contact_id != NULL)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "a reply's kind, channel, recipient and contact "
                         "come from its conversation: leave them unset");
  a.t = t;
  a.id = conversation_id;
  a.spec = &copy;
  a.message_id[0] = '\0';
  if ((rc = write_tx(t, reply_write, &a)) == 0)
    memcpy(id_out, a.message_id, VC_ID_SIZE);
  return rc;
}

/* ---- struct initialisers -------------------------------------------- */

int vc_conversation_filter_init(vc_conversation_filter *f,
                                unsigned int version)
{
  VC_INIT_STRUCT(f, version, VC_CONVERSATION_FILTER_VERSION,
                 vc_conversation_filter, VC_CONVERSATION_FILTER_INIT);
}
