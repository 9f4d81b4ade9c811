/*
 * A conversation's timeline: the contact's inbound messages, outbound
 * messages and calls, merged in time order (then by id) with a keyset
 * cursor "<time>:<id>". Nothing is copied: each table carries the
 * contact's id, and the ids merged into the contact are read with it.
 */
#include "core/common.h"
#include "core/ctx.h"
#include "core/iter.h"
#include "core/tenant.h"
#include "core/ulid.h"
#include "contact.h"
#include "inbox.h"

#include <inttypes.h>
#include <stdio.h>

/* The contact and the ids merged into it: ?1..?64 (VC__DB_IDS), the
 * tenant is ?65. An IN list of values, so that each is an index lookup. */
#define OF_CONTACT(col) col " IN (" VC__DB_IDS_SQL ")"
/* After the cursor (?66, ?67) in the direction CMP. */
#define AFTER(at, id, CMP) \
  " AND (" at " " CMP " ?66 OR (" at " = ?66 AND " id " " CMP " ?67))"
#define TEXT_MAX_SQL "160"

#define ITEMS_SQL(CMP, DIR) \
  "SELECT item_type, item_id, item_at, item_kind, item_channel," \
  " item_text, item_status, item_url, item_duration FROM (" \
  "SELECT 1 AS item_type, i.id AS item_id, i.received_at AS item_at," \
  " COALESCE(ch.kind, 0) AS item_kind, i.channel_id AS item_channel," \
  " substr(COALESCE(i.text_body, ''), 1, " TEXT_MAX_SQL ") AS item_text," \
  " 0 AS item_status, '' AS item_url, 0 AS item_duration" \
  " FROM vc_inbound_message i LEFT JOIN vc_channel ch" \
  " ON ch.tenant_id = i.tenant_id AND ch.id = i.channel_id" \
  " WHERE i.tenant_id = ?65 AND " OF_CONTACT("i.contact_id") \
  AFTER("i.received_at", "i.id", CMP) \
  " UNION ALL SELECT 2, m.id, m.created_at, m.kind," \
  " COALESCE(m.channel_id, ''), substr(CASE WHEN m.subject IS NOT NULL" \
  " AND m.subject <> '' THEN m.subject ELSE COALESCE(m.text_body, '') END," \
  " 1, " TEXT_MAX_SQL "), m.status, '', 0 FROM vc_message m" \
  " WHERE m.tenant_id = ?65 AND " \
  OF_CONTACT("m.contact_id") AFTER("m.created_at", "m.id", CMP) \
  " UNION ALL SELECT 3, c.id, c.created_at, 4, COALESCE(c.channel_id, '')," \
  " '', c.state, '', 0 FROM vc_call c" \
  " WHERE c.tenant_id = ?65 AND " \
  OF_CONTACT("c.contact_id") AFTER("c.created_at", "c.id", CMP) \
  " UNION ALL SELECT 4, v.call_id, v.voicemail_at, 4, v.channel_id, ''," \
  " (SELECT c.state FROM vc_call c WHERE c.tenant_id = v.tenant_id" \
  "  AND c.id = v.call_id), COALESCE(v.voicemail_url, ''), v.voicemail_s" \
  " FROM vc_inbound_call v WHERE v.tenant_id = ?65" \
  " AND v.voicemail_id IS NOT NULL AND " OF_CONTACT("v.contact_id") \
  AFTER("v.voicemail_at", "v.call_id", CMP) \
  ") AS items ORDER BY item_at " DIR ", item_id " DIR " LIMIT 50"

static const char SQL_OLDEST_FIRST[] = ITEMS_SQL(">", "ASC");
static const char SQL_NEWEST_FIRST[] = ITEMS_SQL("<", "DESC");

struct vc_conversation_item {
  int type, kind, status;
  int64_t at;
  char id[VC_ID_SIZE];
  char channel_id[VC_ID_SIZE];
  char text[4 * VC_CONVERSATION_ITEM_TEXT_MAX + 1];
  char key[48];                 /* its cursor */
  char *url;                    /* a voicemail's recording */
  int duration;
};

/* The ids merged into a contact, oldest merge ids first. */
static const char SQL_MERGED[] =
  "SELECT id FROM vc_contact WHERE tenant_id = ?1 AND merged_into = ?2"
  " ORDER BY id LIMIT 63";

typedef struct item_iter {
  vc__page_iter page;
  char tenant_id[VC_ID_SIZE];
  /* The contact, then the ids merged into it (at most VC__DB_IDS). */
  char ids[VC__DB_IDS][VC_ID_SIZE];
  size_t nids;
  int newest_first;
} item_iter;

static int item_page_query(vc__stmt **out, vc__db *db, const vc__page_iter *p)
{
  const item_iter *it = (const item_iter *)p;
  const char *ids[VC__DB_IDS];
  char id[VC_ID_SIZE];
  vc__stmt *s;
  int64_t at;
  int rc;

  *out = NULL;
  if ((rc = vc__inbox_cursor_parse(p->base.cursor, "timeline", &at, id)) < 0)
    return rc;
  if (at < 0)
    at = it->newest_first ? INT64_MAX : -1;
  for (size_t i = 0; i < it->nids; i++)
    ids[i] = it->ids[i];
  if ((rc = vc__db_prepare(&s, db, it->newest_first ? SQL_NEWEST_FIRST
                                                    : SQL_OLDEST_FIRST)) < 0)
    return rc;
  if ((rc = vc__stmt_bind_ids(s, ids, it->nids)) < 0 ||
      (rc = vc__stmt_bind_text(s, VC__DB_IDS + 1, it->tenant_id)) < 0 ||
      (rc = vc__stmt_bind_int64(s, VC__DB_IDS + 2, at)) < 0 ||
      (rc = vc__stmt_bind_text(s, VC__DB_IDS + 3, id)) < 0) {
    vc__stmt_done(s);
    return rc;
  }
  *out = s;
  return 0;
}

static int merged_ids(item_iter *it, vc__db *db)
{
  vc__stmt *s;
  int rc;

  if ((rc = vc__db_query(&s, db, SQL_MERGED, "tt", it->tenant_id,
                         it->ids[0])) < 0)
    return rc;
  while ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW && it->nids < VC__DB_IDS)
    snprintf(it->ids[it->nids++], VC_ID_SIZE, "%s", vc__stmt_text(s, 0));
  vc__stmt_done(s);
  return rc < 0 ? rc : 0;
}

static int item_page_row(void **out, vc__stmt *s)
{
  vc_conversation_item *i = vc__calloc(1, sizeof(*i));
  const char *text;

  *out = NULL;
  if (i == NULL)
    return vc_error_set_oom();
  i->type = (int)vc__stmt_int64(s, 0);
  snprintf(i->id, sizeof(i->id), "%s", vc__stmt_text(s, 1));
  i->at = vc__stmt_int64(s, 2);
  i->kind = (int)vc__stmt_int64(s, 3);
  snprintf(i->channel_id, sizeof(i->channel_id), "%s",
           vc__stmt_text(s, 4) ? vc__stmt_text(s, 4) : "");
  text = vc__stmt_text(s, 5);
  snprintf(i->text, sizeof(i->text), "%s", text ? text : "");
  i->status = (int)vc__stmt_int64(s, 6);
  i->url = vc__strdup(vc__stmt_text(s, 7) ? vc__stmt_text(s, 7) : "");
  i->duration = (int)vc__stmt_int64(s, 8);
  if (i->url == NULL) {
    vc__free(i);
    return vc_error_set_oom();
  }
  snprintf(i->key, sizeof(i->key), "%" PRId64 ":%s", i->at, i->id);
  *out = i;
  return 0;
}

static void item_page_row_free(void *row)
{
  if (row != NULL)
    vc__free(((vc_conversation_item *)row)->url);
  vc__free(row);
}

static const char *item_page_row_key(const void *row)
{
  return ((const vc_conversation_item *)row)->key;
}

static const vc__page_ops ITEM_PAGES = {
  { "conversation item", vc__page_iter_free }, item_page_query,
  item_page_row, item_page_row_free, item_page_row_key
};

int vc_conversation_items(vc_iter **out, vc_tenant *t,
                          const vc_conversation_item_filter *f)
{
  char id[VC_ID_SIZE];
  const char *tenant_id;
  item_iter *it;
  vc__db *db;
  int64_t at;
  int rc;

  VC_ASSERT_ARG(out);
  *out = NULL;
  VC_ASSERT_ARG(t);
  VC_ASSERT_ARG(f);
  VC_CHECK_VERSION(f, VC_CONVERSATION_ITEM_FILTER_VERSION,
                   "vc_conversation_item_filter");
  if ((f->conversation_id == NULL) == (f->contact_id == NULL))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "a timeline needs a conversation id or a contact "
                         "id (one of them)");
  if (!vc__ulid_valid(f->conversation_id ? f->conversation_id
                                         : f->contact_id))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "%s is not a valid id",
                         f->conversation_id ? "conversation id"
                                            : "contact id");
  if ((rc = vc__inbox_cursor_parse(f->after, "timeline", &at, id)) < 0)
    return rc;
  tenant_id = vc_tenant_id(t);
  if ((it = vc__calloc(1, sizeof(*it))) == NULL)
    return vc_error_set_oom();
  vc__page_iter_init(&it->page, &ITEM_PAGES, vc__tenant_ctx(t)->store,
                     f->after);
  snprintf(it->tenant_id, sizeof(it->tenant_id), "%s", tenant_id);
  it->newest_first = f->newest_first != 0;
  if ((rc = vc__db_acquire(&db, vc__tenant_ctx(t)->store)) < 0)
    goto fail;
  rc = f->conversation_id
         ? vc__inbox_conversation_contact(it->ids[0], db, tenant_id,
                                          f->conversation_id)
         : vc__contact_resolve(it->ids[0], db, tenant_id, f->contact_id);
  if (rc == 0) {
    it->nids = 1;
    rc = merged_ids(it, db);
  }
  vc__db_release(db);
  if (rc < 0)
    goto fail;
  *out = &it->page.base;
  return 0;
fail:
  vc_iter_free(&it->page.base);
  return rc;
}

int vc_conversation_item_next(vc_conversation_item **out, vc_iter *base)
{
  void *row;
  int rc;

  VC_ASSERT_ARG(out);
  *out = NULL;
  if ((rc = vc__page_iter_next(&row, base, &ITEM_PAGES)) < 0)
    return rc;
  *out = row;
  return 0;
}

void vc_conversation_item_free(vc_conversation_item *i)
{
  item_page_row_free(i);
}

const char *vc_conversation_item_type_name(int type)
{
  static const char *const NAMES[] = { "", "inbound", "outbound", "call",
                                       "voicemail" };

  return type >= VC_CONVERSATION_ITEM_INBOUND &&
         type <= VC_CONVERSATION_ITEM_VOICEMAIL ? NAMES[type] : "";
}

int vc_conversation_item_type_of(const vc_conversation_item *i)
{
  return i ? i->type : 0;
}
const char *vc_conversation_item_id(const vc_conversation_item *i)
{
  return i ? i->id : NULL;
}
int64_t vc_conversation_item_at(const vc_conversation_item *i)
{
  return i ? i->at : 0;
}
int vc_conversation_item_channel_kind(const vc_conversation_item *i)
{
  return i ? i->kind : 0;
}
const char *vc_conversation_item_channel_id(const vc_conversation_item *i)
{
  return i ? i->channel_id : NULL;
}
const char *vc_conversation_item_text(const vc_conversation_item *i)
{
  return i ? i->text : NULL;
}
int vc_conversation_item_status(const vc_conversation_item *i)
{
  return i ? i->status : 0;
}
const char *vc_conversation_item_recording_url(const vc_conversation_item *i)
{
  return i ? i->url : NULL;
}
int vc_conversation_item_duration(const vc_conversation_item *i)
{
  return i ? i->duration : 0;
}

int vc_conversation_item_filter_init(vc_conversation_item_filter *f,
                                     unsigned int version)
{
  VC_INIT_STRUCT(f, version, VC_CONVERSATION_ITEM_FILTER_VERSION,
                 vc_conversation_item_filter,
                 VC_CONVERSATION_ITEM_FILTER_INIT);
}
