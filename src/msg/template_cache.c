/*
 * Compiled-template cache: a chained hash table over a doubly linked LRU
 * list. See template_cache.h.
 */
#include "core/common.h"
#include "msg/template_cache.h"

#include <pthread.h>
#include <stdio.h>

/* What an entry costs besides its source: the compiled nodes and names
 * are a few times the source, so count the source four times. */
#define COST_FACTOR 4
#define ENTRY_OVERHEAD 256

typedef struct entry {
  vc__tpart part;          /* first: a part pointer is its entry */
  char *key;
  uint64_t hash;
  size_t cost;
  int refs;                /* references handed out */
  int cached;              /* still in the table */
  struct entry *chain;     /* next in the bucket */
  struct entry *newer, *older;
} entry;

struct vc__tcache {
  pthread_mutex_t lock;
  entry **buckets;
  size_t nbuckets;         /* a power of two */
  entry *newest, *oldest;
  size_t entries, bytes, max_entries, max_bytes;
  uint64_t hits, misses, inserts, evictions;
};

static void free_strings(char **v, size_t n)
{
  for (size_t i = 0; i < n; i++)
    vc__free(v[i]);
  vc__free(v);
}

void vc__tpart_clear(vc__tpart *p)
{
  if (p == NULL)
    return;
  vc__mustache_free(p->tpl);
  vc__free(p->src);
  free_strings(p->names, p->nnames);
  free_strings(p->optional, p->noptional);
  free_strings(p->partials, p->npartials);
  memset(p, 0, sizeof(*p));
}

/* FNV-1a. */
static uint64_t hash_of(const char *s)
{
  uint64_t h = 1469598103934665603ull;

  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

static char *key_of(const vc__tcache_key *k)
{
  char buf[256];
  int n = snprintf(buf, sizeof(buf), "%s/%s/%d/%d/%s/%d", k->tenant_id,
                   k->template_id, k->version, k->kind, k->locale, k->part);

  if (n < 0 || (size_t)n >= sizeof(buf))
    return NULL;
  return vc__strdup(buf);
}

int vc__tcache_new(vc__tcache **out, size_t max_entries, size_t max_bytes)
{
  vc__tcache *c = vc__calloc(1, sizeof(*c));

  if (c == NULL)
    return vc_error_set_oom();
  c->max_entries = max_entries ? max_entries : VC__TCACHE_DEFAULT_ENTRIES;
  c->max_bytes = max_bytes ? max_bytes : VC__TCACHE_DEFAULT_BYTES;
  c->nbuckets = 16;
  while (c->nbuckets < 2 * c->max_entries && c->nbuckets < (1u << 20))
    c->nbuckets *= 2;
  if ((c->buckets = vc__calloc(c->nbuckets, sizeof(*c->buckets))) == NULL) {
    vc__free(c);
    return vc_error_set_oom();
  }
  pthread_mutex_init(&c->lock, NULL);
  *out = c;
  return 0;
}

static void entry_free(entry *e)
{
  vc__tpart_clear(&e->part);
  vc__free(e->key);
  vc__free(e);
}

void vc__tcache_free(vc__tcache *c)
{
  entry *e, *next;

  if (c == NULL)
    return;
  for (e = c->newest; e != NULL; e = next) {
    next = e->older;
    entry_free(e);
  }
  vc__free(c->buckets);
  pthread_mutex_destroy(&c->lock);
  vc__free(c);
}

/* ---- with the lock held ------------------------------------------- */

static void lru_unlink(vc__tcache *c, entry *e)
{
  if (e->newer)
    e->newer->older = e->older;
  else
    c->newest = e->older;
  if (e->older)
    e->older->newer = e->newer;
  else
    c->oldest = e->newer;
  e->newer = e->older = NULL;
}

static void lru_push(vc__tcache *c, entry *e)
{
  e->older = c->newest;
  e->newer = NULL;
  if (c->newest)
    c->newest->newer = e;
  c->newest = e;
  if (c->oldest == NULL)
    c->oldest = e;
}

static entry *find(vc__tcache *c, const char *key, uint64_t h)
{
  for (entry *e = c->buckets[h & (c->nbuckets - 1)]; e; e = e->chain)
    if (e->hash == h && strcmp(e->key, key) == 0)
      return e;
  return NULL;
}

/* Take an entry out of the table and the list; free it unless it is
 * still referenced (then the last release frees it). */
static void evict(vc__tcache *c, entry *e)
{
  entry **p = &c->buckets[e->hash & (c->nbuckets - 1)];

  while (*p != e)
    p = &(*p)->chain;
  *p = e->chain;
  lru_unlink(c, e);
  e->cached = 0;
  c->entries--;
  c->bytes -= e->cost;
  c->evictions++;
  if (e->refs == 0)
    entry_free(e);
}

static void trim(vc__tcache *c)
{
  /* The newest entry stays even when it alone is over the budget. */
  while ((c->entries > c->max_entries || c->bytes > c->max_bytes) &&
         c->oldest != NULL && c->oldest != c->newest)
    evict(c, c->oldest);
}

/* ---- API ---------------------------------------------------------- */

int vc__tcache_get(const vc__tpart **out, vc__tcache *c,
                   const vc__tcache_key *k)
{
  char *key = key_of(k);
  uint64_t h;
  entry *e;

  *out = NULL;
  if (key == NULL)
    return vc_error_set_oom();
  h = hash_of(key);
  pthread_mutex_lock(&c->lock);
  if ((e = find(c, key, h)) != NULL) {
    e->refs++;
    lru_unlink(c, e);
    lru_push(c, e);
    c->hits++;
    *out = &e->part;
  } else {
    c->misses++;
  }
  pthread_mutex_unlock(&c->lock);
  vc__free(key);
  return e != NULL ? 0 : VC_ENOTFOUND;
}

int vc__tcache_add(const vc__tpart **out, vc__tcache *c,
                   const vc__tcache_key *k, vc__tpart *part)
{
  entry *e = vc__calloc(1, sizeof(*e)), *old;

  *out = NULL;
  if (e == NULL || (e->key = key_of(k)) == NULL) {
    vc__free(e);
    vc__tpart_clear(part);
    return vc_error_set_oom();
  }
  e->part = *part;
  memset(part, 0, sizeof(*part));
  e->hash = hash_of(e->key);
  e->cost = ENTRY_OVERHEAD + COST_FACTOR * e->part.len;
  pthread_mutex_lock(&c->lock);
  if ((old = find(c, e->key, e->hash)) != NULL) {
    /* Another thread compiled the same part first: use its copy. */
    old->refs++;
    lru_unlink(c, old);
    lru_push(c, old);
    *out = &old->part;
  } else {
    entry **b = &c->buckets[e->hash & (c->nbuckets - 1)];

    e->chain = *b;
    *b = e;
    e->cached = 1;
    e->refs = 1;
    lru_push(c, e);
    c->entries++;
    c->bytes += e->cost;
    c->inserts++;
    *out = &e->part;
    trim(c);
    e = NULL;
  }
  pthread_mutex_unlock(&c->lock);
  if (e != NULL)
    entry_free(e);
  return 0;
}

void vc__tcache_release(vc__tcache *c, const vc__tpart *p)
{
  entry *e = (entry *)(uintptr_t)p;
  int gone;

  if (p == NULL)
    return;
  pthread_mutex_lock(&c->lock);
  gone = --e->refs == 0 && !e->cached;
  pthread_mutex_unlock(&c->lock);
  if (gone)
    entry_free(e);
}

void vc__tcache_stats_get(vc__tcache *c, vc__tcache_stats *out)
{
  pthread_mutex_lock(&c->lock);
  out->hits = c->hits;
  out->misses = c->misses;
  out->inserts = c->inserts;
  out->evictions = c->evictions;
  out->entries = c->entries;
  out->bytes = c->bytes;
  pthread_mutex_unlock(&c->lock);
}
