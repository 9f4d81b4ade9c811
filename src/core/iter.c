/*
 * Iterator base. See iter.h.
 */
#include "common.h"
#include "iter.h"
#include "ulid.h"

#include <stdio.h>

int vc__iter_check(const vc_iter *it, const vc__iter_ops *ops)
{
  VC_ASSERT_ARG(it);
  if (it->ops != ops)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "iterator over %s used as one over %s",
                         it->ops->kind, ops->kind);
  return 0;
}

const char *vc_iter_cursor(const vc_iter *it)
{
  return it ? it->cursor : "";
}

void vc_iter_free(vc_iter *it)
{
  if (it == NULL)
    return;
  if (it->ops->free)
    it->ops->free(it);
  vc__free(it);
}

void vc__page_iter_init(vc__page_iter *it, const vc__page_ops *ops,
                        vc_store *store, const char *after)
{
  it->base.ops = &ops->iter;
  it->ops = ops;
  it->store = store;
  snprintf(it->base.cursor, sizeof(it->base.cursor), "%s",
           after ? after : "");
}

int vc__page_iter_new(vc__page_iter **out, size_t size,
                      const vc__page_ops *ops, vc_store *store,
                      const char *after, const char *what)
{
  vc__page_iter *it;

  *out = NULL;
  if (after != NULL && after[0] != '\0' && !vc__ulid_valid(after))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "cursor is not %s", what);
  if ((it = vc__calloc(1, size)) == NULL)
    return vc_error_set_oom();
  vc__page_iter_init(it, ops, store, after);
  *out = it;
  return 0;
}

static void page_clear(vc__page_iter *it)
{
  for (size_t i = it->next; i < it->n; i++)
    it->ops->row_free(it->rows[i]);
  it->n = it->next = 0;
}

void vc__page_iter_free(vc_iter *base)
{
  page_clear((vc__page_iter *)base);
}

static int fetch_page(vc__page_iter *it)
{
  vc__db *db;
  vc__stmt *s;
  int rc;

  page_clear(it);
  if ((rc = vc__db_acquire(&db, it->store)) < 0)
    return rc;
  if ((rc = it->ops->query(&s, db, it)) == 0) {
    while ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW && it->n < VC__PAGE) {
      if ((rc = it->ops->row(&it->rows[it->n], s)) < 0)
        break;
      it->n++;
    }
    vc__stmt_done(s);
  }
  vc__db_release(db);
  if (rc >= 0 && it->n < VC__PAGE)
    it->exhausted = 1;
  return rc < 0 ? rc : 0;
}

int vc__page_iter_next(void **out, vc_iter *base, const vc__page_ops *ops)
{
  vc__page_iter *it = (vc__page_iter *)base;
  int rc;

  *out = NULL;
  if ((rc = vc__iter_check(base, &ops->iter)) < 0)
    return rc;
  if (it->next >= it->n) {
    if (it->exhausted)
      return VC_ITEROVER;
    if ((rc = fetch_page(it)) < 0)
      return rc;
    if (it->n == 0)
      return VC_ITEROVER;
  }
  *out = it->rows[it->next++];
  snprintf(base->cursor, sizeof(base->cursor), "%s", ops->row_key(*out));
  return 0;
}
