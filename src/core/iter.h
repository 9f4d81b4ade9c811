/*
 * The iterator base. Each list embeds it first and fills its ops.
 */
#ifndef VC_CORE_ITER_H
#define VC_CORE_ITER_H

#include "vyomcomm/iter.h"

typedef struct vc__iter_ops {
  const char *kind;              /* "tenant", "event", ... */
  void (*free)(vc_iter *it);     /* releases the subtype's own fields */
} vc__iter_ops;

struct vc_iter {
  const vc__iter_ops *ops;
  char cursor[64];               /* position after the last item */
};

/* VC_EINVALID unless `it` is an iterator of `ops`. */
int vc__iter_check(const vc_iter *it, const vc__iter_ops *ops);

/*
 * A list read from the store a page at a time, in key order after the
 * cursor. The page query must end with "LIMIT 50" (VC__PAGE).
 */
#include "store/db.h"

#define VC__PAGE 50

typedef struct vc__page_iter vc__page_iter;

typedef struct vc__page_ops {
  vc__iter_ops iter;  /* its free must be vc__page_iter_free */
  /* Prepare and bind the query of the page after it->base.cursor. */
  int (*query)(vc__stmt **out, vc__db *db, const vc__page_iter *it);
  /* Make one item (owned by the iterator until handed out) of a row. */
  int (*row)(void **out, vc__stmt *s);
  void (*row_free)(void *row);
  /* The cursor value after an item: its key. */
  const char *(*row_key)(const void *row);
} vc__page_ops;

struct vc__page_iter {
  vc_iter base;
  const vc__page_ops *ops;
  vc_store *store;
  void *rows[VC__PAGE];
  size_t n, next;
  int exhausted;
};

/* Set up an iterator (allocated by the caller, zeroed) after `after`. */
void vc__page_iter_init(vc__page_iter *it, const vc__page_ops *ops,
                        vc_store *store, const char *after);
/*
 * A new zeroed iterator of `size` bytes (a struct that starts with its
 * vc__page_iter), set up after `after`: NULL, "" or an id. Any other
 * cursor is VC_EINVALID "cursor is not <what>"; VC_ENOMEM.
 */
int vc__page_iter_new(vc__page_iter **out, size_t size,
                      const vc__page_ops *ops, vc_store *store,
                      const char *after, const char *what);
/* The next item, which the caller now owns; VC_ITEROVER at the end. */
int vc__page_iter_next(void **out, vc_iter *base, const vc__page_ops *ops);
void vc__page_iter_free(vc_iter *base);

#endif
