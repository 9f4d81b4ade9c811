/*
 * The event log. See event.h.
 *
 * Delivery reads a bounded page of events, releases the connection (the
 * callback may call the library, and a store may have one connection
 * only), calls back, then stores the cursor: a crash in between delivers
 * those events again, which is what "at least once" allows.
 */
#include "common.h"
#include "ctx.h"
#include "event.h"
#include "iter.h"
#include "tenant.h"

#include <stdio.h>

#define PAGE 64

static const char SQL_APPEND[] =
  "INSERT INTO vc_event (tenant_id, type, subject_id, payload, created_at)"
  " VALUES (?1, ?2, ?3, ?4, ?5)";
static const char SQL_PAGE_ALL[] =
  "SELECT seq, tenant_id, type, subject_id, payload, created_at"
  " FROM vc_event WHERE seq > ?1 ORDER BY seq LIMIT 64";
static const char SQL_PAGE_TENANT[] =
  "SELECT seq, tenant_id, type, subject_id, payload, created_at"
  " FROM vc_event WHERE tenant_id = ?1 AND seq > ?2 ORDER BY seq LIMIT 64";
static const char SQL_CURSOR_GET[] =
  "SELECT seq FROM vc_event_cursor WHERE name = ?1";
static const char SQL_CURSOR_PUT[] =
  "INSERT INTO vc_event_cursor (name, seq) VALUES (?1, ?2)"
  " ON CONFLICT (name) DO UPDATE SET seq = excluded.seq"
  " WHERE excluded.seq > vc_event_cursor.seq";

int vc__event_append(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                     const char *type, const char *subject_id,
                     const char *payload_json)
{
  int rc;

  if ((rc = vc__db_run(db, SQL_APPEND, "tttti", tenant_id, type,
                       subject_id, payload_json ? payload_json : "{}",
                       vc__now(ctx))) < 0)
    return rc;
  return vc__rules_on_event(db, ctx, tenant_id, type, subject_id,
                            payload_json);
}

/* One page of events, copied out of the store. */
typedef struct event_row {
  vc_event ev;
  char *strings; /* tenant_id, type, subject_id, payload, NUL-separated */
} event_row;

typedef struct event_page {
  event_row rows[PAGE];
  size_t n, next;
} event_page;

static void page_clear(event_page *p)
{
  for (size_t i = 0; i < p->n; i++)
    vc__free(p->rows[i].strings);
  p->n = p->next = 0;
}

static int row_from(event_row *r, vc__stmt *s)
{
  const char *f[4];
  size_t len[4], total = 0;
  char *dst;

  for (int i = 0; i < 4; i++) {
    f[i] = vc__stmt_text(s, i + 1);
    if (f[i] == NULL)
      f[i] = "";
    len[i] = strlen(f[i]);
    total += len[i] + 1;
  }
  if ((dst = r->strings = vc__malloc(total)) == NULL)
    return vc_error_set_oom();
  r->ev.seq = (uint64_t)vc__stmt_int64(s, 0);
  r->ev.created_at = vc__stmt_int64(s, 5);
  for (int i = 0; i < 4; i++) {
    const char **slot[] = { &r->ev.tenant_id, &r->ev.type, &r->ev.subject_id,
                            &r->ev.payload_json };
    memcpy(dst, f[i], len[i] + 1);
    *slot[i] = dst;
    dst += len[i] + 1;
  }
  return 0;
}

/* Read the page after `cursor`, for one tenant or (NULL) all. */
static int page_read(event_page *p, vc_store *store, const char *tenant_id,
                     uint64_t cursor)
{
  vc__db *db;
  vc__stmt *s;
  int rc;

  page_clear(p);
  if ((rc = vc__db_acquire(&db, store)) < 0)
    return rc;
  if (tenant_id != NULL)
    rc = vc__db_query(&s, db, SQL_PAGE_TENANT, "ti", tenant_id,
                      (int64_t)cursor);
  else
    rc = vc__db_query(&s, db, SQL_PAGE_ALL, "i", (int64_t)cursor);
  if (rc == 0) {
    while ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW && p->n < PAGE) {
      if ((rc = row_from(&p->rows[p->n], s)) < 0)
        break;
      p->n++;
    }
    vc__stmt_done(s);
  }
  vc__db_release(db);
  return rc < 0 ? rc : 0;
}

static int cursor_get(vc_store *store, const char *consumer, uint64_t *out)
{
  vc__db *db;
  vc__stmt *s;
  int rc;

  *out = 0;
  if ((rc = vc__db_acquire(&db, store)) < 0)
    return rc;
  if ((rc = vc__db_query(&s, db, SQL_CURSOR_GET, "t", consumer)) == 0) {
    if ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW)
      *out = (uint64_t)vc__stmt_int64(s, 0);
    vc__stmt_done(s);
  }
  vc__db_release(db);
  return rc < 0 ? rc : 0;
}

static int cursor_put(vc_store *store, const char *consumer, uint64_t seq)
{
  vc__db *db;
  int rc;

  if ((rc = vc__db_acquire(&db, store)) < 0)
    return rc;
  rc = vc__db_run(db, SQL_CURSOR_PUT, "ti", consumer, (int64_t)seq);
  vc__db_release(db);
  return rc;
}

int vc__event_deliver(vc_ctx *ctx)
{
  event_page *page;
  uint64_t cursor;
  vc_event_cb cb;
  void *payload;
  int delivered = 0, rc;

  pthread_mutex_lock(&ctx->lock);
  cb = ctx->event_cb;
  payload = ctx->event_payload;
  pthread_mutex_unlock(&ctx->lock);
  if (cb == NULL)
    return 0;
  /* One deliverer at a time keeps events in order. */
  if (pthread_mutex_trylock(&ctx->deliver_lock) != 0)
    return 0;
  if ((page = vc__calloc(1, sizeof(*page))) == NULL) {
    pthread_mutex_unlock(&ctx->deliver_lock);
    return vc_error_set_oom();
  }
  if ((rc = cursor_get(ctx->store, ctx->event_consumer, &cursor)) < 0)
    goto out;
  for (;;) {
    size_t i;
    if ((rc = page_read(page, ctx->store, NULL, cursor)) < 0 || page->n == 0)
      break;
    for (i = 0; i < page->n; i++) {
      if (cb(&page->rows[i].ev, payload) != 0)
        break;
      cursor = page->rows[i].ev.seq;
      delivered++;
    }
    rc = cursor_put(ctx->store, ctx->event_consumer, cursor);
    if (rc < 0 || i < page->n)
      break;
  }
out:
  page_clear(page);
  vc__free(page);
  pthread_mutex_unlock(&ctx->deliver_lock);
  return rc < 0 ? rc : delivered;
}

/* vc_events_since: an iterator over one tenant's events. */
typedef struct event_iter {
  vc_iter base;
  vc_store *store;
  char tenant_id[VC_ID_SIZE];
  uint64_t cursor;
  int exhausted;
  event_page page;
} event_iter;

static void event_iter_free(vc_iter *it)
{
  page_clear(&((event_iter *)it)->page);
}

static const vc__iter_ops EVENT_ITER = { "event", event_iter_free };

int vc_events_since(vc_iter **out, vc_tenant *tenant, uint64_t cursor)
{
  event_iter *it;

  VC_ASSERT_ARG(out);
  *out = NULL;
  VC_ASSERT_ARG(tenant);
  if ((it = vc__calloc(1, sizeof(*it))) == NULL)
    return vc_error_set_oom();
  it->base.ops = &EVENT_ITER;
  it->store = vc__tenant_ctx(tenant)->store;
  snprintf(it->tenant_id, sizeof(it->tenant_id), "%s", vc_tenant_id(tenant));
  it->cursor = cursor;
  snprintf(it->base.cursor, sizeof(it->base.cursor), "%llu",
           (unsigned long long)cursor);
  *out = &it->base;
  return 0;
}

int vc_event_next(const vc_event **out, vc_iter *base)
{
  event_iter *it = (event_iter *)base;
  int rc;

  VC_ASSERT_ARG(out);
  *out = NULL;
  if ((rc = vc__iter_check(base, &EVENT_ITER)) < 0)
    return rc;
  if (it->page.next >= it->page.n) {
    if (it->exhausted)
      return VC_ITEROVER;
    if ((rc = page_read(&it->page, it->store, it->tenant_id, it->cursor)) < 0)
      return rc;
    if (it->page.n < PAGE)
      it->exhausted = 1;
    if (it->page.n == 0)
      return VC_ITEROVER;
  }
  *out = &it->page.rows[it->page.next++].ev;
  it->cursor = (*out)->seq;
  snprintf(base->cursor, sizeof(base->cursor), "%llu",
           (unsigned long long)it->cursor);
  return 0;
}
