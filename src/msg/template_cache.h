/*
 * The context's cache of compiled template parts: a bounded LRU keyed by
 * tenant, template, variant version, kind, locale and part, so that a
 * template is compiled once however often it is rendered.
 *
 * Versions are immutable, so an entry never goes stale: entries leave
 * only by eviction (entry count or source bytes over the bound). A part
 * handed out is referenced and stays valid until released, even if it is
 * evicted meanwhile. Thread-safe: one mutex, held only for table work,
 * never while compiling or rendering.
 */
#ifndef VC_MSG_TEMPLATE_CACHE_H
#define VC_MSG_TEMPLATE_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "msg/mustache.h"

#define VC__TCACHE_DEFAULT_ENTRIES 1024
#define VC__TCACHE_DEFAULT_BYTES (64u * 1024 * 1024)

/* One compiled part of a template variant. Immutable once cached. */
typedef struct vc__tpart {
  vc__mustache *tpl;       /* NULL: the variant has no such part */
  char *src;               /* its source, NUL-terminated (for partials) */
  size_t len;
  char **names;            /* distinct interpolated names, as written */
  size_t nnames;
  char **optional;         /* the variant's optional declared names */
  size_t noptional;
  char **partials;         /* distinct partial names */
  size_t npartials;
} vc__tpart;

/* Free what a part holds and zero it. */
void vc__tpart_clear(vc__tpart *p);

typedef struct vc__tcache_key {
  const char *tenant_id;
  const char *template_id;
  int version;             /* of the variant's row */
  int kind;
  const char *locale;
  int part;                /* a vc_template_part */
} vc__tcache_key;

typedef struct vc__tcache vc__tcache;

typedef struct vc__tcache_stats {
  uint64_t hits, misses, inserts, evictions;
  size_t entries, bytes;
} vc__tcache_stats;

/* 0 for either bound takes the default. */
int vc__tcache_new(vc__tcache **out, size_t max_entries, size_t max_bytes);
/* Every reference must have been released. NULL is accepted. */
void vc__tcache_free(vc__tcache *c);

/* A cached part: a reference in *out, or VC_ENOTFOUND (a miss). Both
 * are counted. */
int vc__tcache_get(const vc__tpart **out, vc__tcache *c,
                   const vc__tcache_key *k);

/*
 * Cache `part`, whose contents are moved out (it is cleared, also on
 * failure), and return a reference to the cached part: this one, or the
 * one another thread added first under the same key.
 */
int vc__tcache_add(const vc__tpart **out, vc__tcache *c,
                   const vc__tcache_key *k, vc__tpart *part);

/* Release a reference from _get or _add. NULL is accepted. */
void vc__tcache_release(vc__tcache *c, const vc__tpart *p);

void vc__tcache_stats_get(vc__tcache *c, vc__tcache_stats *out);

#endif
