/*
 * The simulator's server: HTTP/1.1 on libre's TCP layer, routing to the
 * provider files, fault injection, request records and send counts.
 *
 * Framing is done here with libre's http_msg_decode() rather than with
 * http_listen(): libre 1.1.0's server drops a connection whose buffered
 * request passes 512 KB, without an answer, and frees a connection under
 * a held answer. SendGrid takes 30 MB bodies and must answer 413 above
 * that, and faults hold, reset and trickle answers, so the simulator owns
 * its connections.
 *
 * Threads: libre objects live on the simulator's libre thread only. Other
 * threads reach shared state under `mu` and wake the loop through an
 * mqueue (stop is the only message).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

#include <curl/curl.h>
#include <mbedtls/sha1.h>
#include <re.h>

#include "sim_int.h"
#include "sim_conn.h"

enum {
  SIM_MAX_HEADER = 64 * 1024,     /* request line and headers */
  SIM_MAX_PATH = 4096,
  SIM_MAX_BODY_OTHER = 1024 * 1024,
  SIM_DRAIN_MS = 2000,            /* linger after an early answer */
  SIM_MQ_STOP = 1,
  SIM_MQ_TASK = 2,
  SIM_BACKLOG = 1024,
};

#define SIM_COUNT(name) +1
enum { SIM_NPROV = 0 SIM_PROVIDERS(SIM_COUNT) };
#undef SIM_COUNT

#define SIM_ENTRY(name) &sim_##name,
static const sim_provider *const sim_table[SIM_NPROV] = {
  SIM_PROVIDERS(SIM_ENTRY)
};
#undef SIM_ENTRY

typedef struct sim_kv {
  char *key;
  char *val;
  int ro;
} sim_kv;

/* A set of 64-bit identities (open addressing, 0 = empty). */
typedef struct sim_idset {
  uint64_t *slot;
  size_t cap, n;
} sim_idset;

/* Counts per string key (open addressing). */
typedef struct sim_keymap {
  char **key;
  size_t *count;
  size_t cap, n;
} sim_keymap;

typedef struct sim_prov {
  const sim_provider *p;
  void *state;
  sim_wh_opts wh;
  vc_sim_fault *faults;      /* FIFO; faults[0].count is what is left */
  size_t nfaults, capfaults;
  size_t accepted, duplicates;
  sim_idset ids;
} sim_prov;

typedef struct sim_record {
  vc_sim_request r;          /* strings point into the same allocation */
} sim_record;

struct vc_sim {
  pthread_mutex_t mu;
  pthread_cond_t ready_cond;
  int ready;
  int start_err;

  sim_kv *set;
  size_t nset, capset;
  sim_prov prov[SIM_NPROV];
  sim_record **rec;
  size_t nrec, caprec;
  sim_keymap keys;

  char host[64];
  unsigned short port;
  char base_url[128];
  int verbose;
  sim_wq *wq;
  int curl_init;

  pthread_t thread;
  int thread_started;
  struct mqueue *mq;         /* set by the libre thread before `ready` */
  pthread_cond_t run_cond;   /* sim_run(): a task is done */

  /* libre thread only */
  struct tcp_sock *ts;
  struct list conns;
  struct list tasks;         /* sim_later() timers */
};

/* A sim_later() or sim_run() task; `data` follows. */
typedef struct sim_task {
  struct le le;
  struct tmr tmr;
  vc_sim *sim;
  void (*fn)(vc_sim *, void *);
  void *arg;                 /* sim_run(): the caller's; else data */
  unsigned ms;
  int sync, done;
  size_t n;
} sim_task;

enum { CONN_NEXT, CONN_WAIT, CONN_GONE, CONN_UPGRADED };


static void conn_process(sim_conn *c);

/* ---- identity set and key counts ------------------------------------- */

/* Insert; returns 1 when it was already there. */
static int idset_add(sim_idset *s, uint64_t id)
{
  size_t i, mask;

  if (id == 0)
    id = 1;
  if ((s->n + 1) * 2 > s->cap) {
    size_t ncap = s->cap ? s->cap * 2 : 1024, j;
    uint64_t *ns = calloc(ncap, sizeof(*ns));
    if (ns == NULL)
      return 0;
    for (j = 0; j < s->cap; j++) {
      if (s->slot[j] == 0)
        continue;
      for (i = s->slot[j] & (ncap - 1); ns[i]; i = (i + 1) & (ncap - 1))
        ;
      ns[i] = s->slot[j];
    }
    free(s->slot);
    s->slot = ns;
    s->cap = ncap;
  }
  mask = s->cap - 1;
  for (i = id & mask; s->slot[i]; i = (i + 1) & mask)
    if (s->slot[i] == id)
      return 1;
  s->slot[i] = id;
  s->n++;
  return 0;
}

static void idset_free(sim_idset *s)
{
  free(s->slot);
  memset(s, 0, sizeof(*s));
}

static size_t keymap_find(const sim_keymap *m, const char *k, uint64_t h)
{
  size_t i, mask = m->cap - 1;

  for (i = h & mask; m->key[i]; i = (i + 1) & mask)
    if (strcmp(m->key[i], k) == 0)
      return i;
  return i;
}

static void keymap_add(sim_keymap *m, const char *k)
{
  uint64_t h = sim_fnv1a(SIM_FNV_INIT, k, strlen(k));
  size_t i;

  if ((m->n + 1) * 2 > m->cap) {
    sim_keymap nm = { NULL, NULL, m->cap ? m->cap * 2 : 1024, 0 };
    size_t j;

    nm.key = calloc(nm.cap, sizeof(char *));
    nm.count = calloc(nm.cap, sizeof(size_t));
    if (nm.key == NULL || nm.count == NULL) {
      free(nm.key);
      free(nm.count);
      return;
    }
    for (j = 0; j < m->cap; j++) {
      if (m->key[j] == NULL)
        continue;
      i = keymap_find(&nm, m->key[j],
                      sim_fnv1a(SIM_FNV_INIT, m->key[j],
                                strlen(m->key[j])));
      nm.key[i] = m->key[j];
      nm.count[i] = m->count[j];
    }
    nm.n = m->n;
    free(m->key);
    free(m->count);
    *m = nm;
  }
  i = keymap_find(m, k, h);
  if (m->key[i] == NULL) {
    m->key[i] = strdup(k);
    if (m->key[i] == NULL)
      return;
    m->n++;
  }
  m->count[i]++;
}

static size_t keymap_get(const sim_keymap *m, const char *k)
{
  size_t i;

  if (m->cap == 0)
    return 0;
  i = keymap_find(m, k, sim_fnv1a(SIM_FNV_INIT, k, strlen(k)));
  return m->key[i] ? m->count[i] : 0;
}

static void keymap_free(sim_keymap *m)
{
  size_t i;

  for (i = 0; i < m->cap; i++)
    free(m->key[i]);
  free(m->key);
  free(m->count);
  memset(m, 0, sizeof(*m));
}

/* ---- settings -------------------------------------------------------- */

static sim_prov *prov_find(vc_sim *s, const char *name, size_t len)
{
  size_t i;

  for (i = 0; i < SIM_NPROV; i++)
    if (strlen(s->prov[i].p->name) == len &&
        strncmp(s->prov[i].p->name, name, len) == 0)
      return &s->prov[i];
  return NULL;
}

static sim_prov *prov_by_name(vc_sim *s, const char *name)
{
  return name ? prov_find(s, name, strlen(name)) : NULL;
}

void *sim_provider_state(vc_sim *s, const char *name)
{
  sim_prov *p = s ? prov_by_name(s, name) : NULL;

  return p ? p->state : NULL;
}

/* Caller holds mu. */
static sim_kv *setting_find(vc_sim *s, const char *key)
{
  size_t i;

  for (i = 0; i < s->nset; i++)
    if (strcmp(s->set[i].key, key) == 0)
      return &s->set[i];
  return NULL;
}

/* Caller holds mu. */
static int setting_put(vc_sim *s, const char *key, const char *val, int ro)
{
  sim_kv *e = setting_find(s, key);
  const char *dot = strchr(key, '.');
  char *v;

  if (dot == NULL || dot[1] == '\0' || prov_find(s, key,
                                                 (size_t)(dot - key)) == NULL)
    return -ENOENT;
  if (e != NULL && e->ro)
    return -EPERM;
  v = strdup(val);
  if (v == NULL)
    return -ENOMEM;
  if (e != NULL) {
    free(e->val);
    e->val = v;
    return 0;
  }
  if (s->nset == s->capset) {
    size_t ncap = s->capset ? s->capset * 2 : 16;
    sim_kv *ns = realloc(s->set, ncap * sizeof(*ns));
    if (ns == NULL) {
      free(v);
      return -ENOMEM;
    }
    s->set = ns;
    s->capset = ncap;
  }
  e = &s->set[s->nset];
  e->key = strdup(key);
  if (e->key == NULL) {
    free(v);
    return -ENOMEM;
  }
  e->val = v;
  e->ro = ro;
  s->nset++;
  return 0;
}

int vc_sim_set(vc_sim *s, const char *key, const char *value)
{
  int rc;

  if (s == NULL || key == NULL || value == NULL)
    return -EINVAL;
  pthread_mutex_lock(&s->mu);
  rc = setting_put(s, key, value, 0);
  pthread_mutex_unlock(&s->mu);
  return rc;
}

int vc_sim_get(vc_sim *s, const char *key, char *buf, size_t size)
{
  sim_kv *e;
  int rc;

  if (s == NULL || key == NULL || buf == NULL || size == 0)
    return -EINVAL;
  pthread_mutex_lock(&s->mu);
  e = setting_find(s, key);
  if (e == NULL) {
    rc = -ENOENT;
  } else if (strlen(e->val) >= size) {
    rc = -ENOSPC;
  } else {
    strcpy(buf, e->val);
    rc = (int)strlen(e->val);
  }
  pthread_mutex_unlock(&s->mu);
  return rc;
}

void sim_setting(vc_sim *sim, const char *key, char *buf, size_t size)
{
  sim_kv *e;
  size_t n = 0;

  pthread_mutex_lock(&sim->mu);
  e = setting_find(sim, key);
  if (e != NULL && size > 0) {
    n = strlen(e->val);
    if (n >= size)
      n = size - 1;
    memcpy(buf, e->val, n);
  }
  pthread_mutex_unlock(&sim->mu);
  if (size > 0)
    buf[n] = '\0';
}

int sim_publish(vc_sim *sim, const char *key, const char *value)
{
  int rc;

  pthread_mutex_lock(&sim->mu);
  rc = setting_put(sim, key, value, 1);
  pthread_mutex_unlock(&sim->mu);
  return rc;
}

const char *vc_sim_sendgrid_public_key(vc_sim *s)
{
  sim_kv *e;
  const char *v;

  if (s == NULL)
    return NULL;
  pthread_mutex_lock(&s->mu);
  e = setting_find(s, "sendgrid.public_key");
  /* Read-only values never change, so the pointer stays valid. */
  v = e && e->ro ? e->val : NULL;
  pthread_mutex_unlock(&s->mu);
  return v;
}

/* ---- faults ---------------------------------------------------------- */

int vc_sim_fault_add(vc_sim *s, const char *provider, const vc_sim_fault *f)
{
  sim_prov *p;
  vc_sim_fault x;
  int rc = 0;

  if (s == NULL || f == NULL || f->kind <= VC_SIM_FAULT_NONE ||
      f->kind > VC_SIM_FAULT_SLOW_BODY)
    return -EINVAL;
  p = prov_by_name(s, provider);
  if (p == NULL)
    return -ENOENT;
  x = *f;
  if (x.count == 0)
    x.count = 1;
  if (x.kind == VC_SIM_FAULT_5XX && (x.status < 500 || x.status > 599))
    x.status = 500;
  if (x.kind == VC_SIM_FAULT_429) {
    x.status = 429;
    if (x.retry_after_s == 0)
      x.retry_after_s = 1;
  }
  if (x.kind == VC_SIM_FAULT_SLOW_BODY) {
    if (x.chunk_bytes == 0)
      x.chunk_bytes = 16;
    if (x.chunk_delay_ms == 0)
      x.chunk_delay_ms = 20;
  }
  pthread_mutex_lock(&s->mu);
  if (p->nfaults == p->capfaults) {
    size_t ncap = p->capfaults ? p->capfaults * 2 : 4;
    vc_sim_fault *nf = realloc(p->faults, ncap * sizeof(*nf));
    if (nf == NULL) {
      rc = -ENOMEM;
      goto out;
    }
    p->faults = nf;
    p->capfaults = ncap;
  }
  p->faults[p->nfaults++] = x;
out:
  pthread_mutex_unlock(&s->mu);
  return rc;
}

void vc_sim_fault_clear(vc_sim *s, const char *provider)
{
  size_t i;

  if (s == NULL)
    return;
  pthread_mutex_lock(&s->mu);
  for (i = 0; i < SIM_NPROV; i++)
    if (provider == NULL || strcmp(provider, s->prov[i].p->name) == 0)
      s->prov[i].nfaults = 0;
  pthread_mutex_unlock(&s->mu);
}

/* Take the fault for one request, if any. */
static void fault_take(vc_sim *s, sim_prov *p, vc_sim_fault *out)
{
  memset(out, 0, sizeof(*out));
  pthread_mutex_lock(&s->mu);
  if (p->nfaults > 0) {
    *out = p->faults[0];
    if (--p->faults[0].count == 0) {
      p->nfaults--;
      memmove(p->faults, p->faults + 1, p->nfaults * sizeof(*p->faults));
    }
  }
  pthread_mutex_unlock(&s->mu);
}

/* ---- webhooks -------------------------------------------------------- */

static void wh_copy(sim_wh_opts *o, const vc_sim_webhooks *w)
{
  memset(o, 0, sizeof(*o));
  o->off = w->off;
  snprintf(o->url, sizeof(o->url), "%s", w->url ? w->url : "");
  o->delay_ms = w->delay_ms;
  o->gap_ms = w->gap_ms;
  o->reorder = w->reorder;
  o->duplicates = w->duplicates;
  snprintf(o->final_status, sizeof(o->final_status), "%s",
           w->final_status ? w->final_status : "");
}

int vc_sim_webhooks_set(vc_sim *s, const char *provider,
                        const vc_sim_webhooks *w)
{
  sim_prov *p;

  if (s == NULL || w == NULL)
    return -EINVAL;
  if ((w->url && strlen(w->url) >= sizeof(p->wh.url)) ||
      (w->final_status &&
       strlen(w->final_status) >= sizeof(p->wh.final_status)))
    return -EINVAL;
  p = prov_by_name(s, provider);
  if (p == NULL)
    return -ENOENT;
  pthread_mutex_lock(&s->mu);
  wh_copy(&p->wh, w);
  pthread_mutex_unlock(&s->mu);
  return 0;
}

void sim_webhook_opts(vc_sim *sim, const char *provider, sim_wh_opts *out)
{
  sim_prov *p = prov_by_name(sim, provider);

  memset(out, 0, sizeof(*out));
  if (p == NULL)
    return;
  pthread_mutex_lock(&sim->mu);
  *out = p->wh;
  pthread_mutex_unlock(&sim->mu);
}

void sim_post_free(sim_post *p)
{
  free(p->url);
  free(p->content_type);
  free(p->headers);
  free(p->body);
  free(p->tag);
  memset(p, 0, sizeof(*p));
}

static char *dup_or_null(const char *s)
{
  return s ? strdup(s) : NULL;
}

void sim_webhook_schedule(vc_sim *sim, const char *provider,
                          sim_post *posts, size_t n, const sim_wh_opts *o)
{
  sim_prov *p = prov_by_name(sim, provider);
  size_t copies = 1 + (o ? o->duplicates : 0), total = 0, i, k, j = 0;
  sim_post *all = NULL;

  if (p == NULL || n == 0 || (o && o->off) || copies > 64)
    goto drop;
  for (i = 0; i < n; i++)
    total += posts[i].no_dup ? 1 : copies;
  all = calloc(total, sizeof(*all));
  if (all == NULL)
    goto drop;
  /* Each callback followed by its duplicates, as a retrying sender. */
  for (i = 0; i < n; i++) {
    all[j++] = posts[i];
    for (k = 1; k < copies && !posts[i].no_dup; k++, j++) {
      all[j].tag = dup_or_null(posts[i].tag);
      all[j].url = dup_or_null(posts[i].url);
      all[j].content_type = dup_or_null(posts[i].content_type);
      all[j].headers = dup_or_null(posts[i].headers);
      all[j].body = malloc(posts[i].body_len + 1);
      if (all[j].body != NULL) {
        memcpy(all[j].body, posts[i].body, posts[i].body_len);
        all[j].body[posts[i].body_len] = '\0';
      }
      all[j].body_len = posts[i].body_len;
    }
    memset(&posts[i], 0, sizeof(posts[i]));
  }
  sim_wq_push(sim->wq, p->p, p->state, all, total,
              o ? o->delay_ms : 0, o ? o->gap_ms : 0);
  return;
drop:
  for (i = 0; i < n; i++)
    sim_post_free(&posts[i]);
}

void sim_webhook_cancel(vc_sim *sim, const char *provider,
                        const char *tag_prefix)
{
  sim_prov *p = prov_by_name(sim, provider);

  if (p != NULL && tag_prefix != NULL)
    sim_wq_cancel(sim->wq, p->p, tag_prefix);
}

int vc_sim_webhooks_wait(vc_sim *s, int timeout_ms)
{
  if (s == NULL)
    return -EINVAL;
  return sim_wq_wait(s->wq, timeout_ms);
}

void vc_sim_webhooks_stats(vc_sim *s, vc_sim_webhook_stats *out)
{
  memset(out, 0, sizeof(*out));
  if (s != NULL)
    sim_wq_stats(s->wq, out);
}

/* ---- accepted messages ----------------------------------------------- */

void sim_accept(vc_sim *sim, const char *provider, sim_resp *rs,
                const sim_accept_info *a)
{
  sim_prov *p = prov_by_name(sim, provider);
  size_t i, j;

  snprintf(rs->message_id, sizeof(rs->message_id), "%s",
           a->message_id ? a->message_id : "");
  if (p == NULL)
    return;
  pthread_mutex_lock(&sim->mu);
  p->accepted++;
  if (idset_add(&p->ids, a->identity))
    p->duplicates++;
  if (a->message_id && *a->message_id)
    keymap_add(&sim->keys, a->message_id);
  for (i = 0; i < a->nkeys; i++) {
    int seen = 0;
    if (a->keys[i] == NULL || *a->keys[i] == '\0')
      continue;
    /* One message counts once per key (to and cc may repeat). */
    for (j = 0; j < i && !seen; j++)
      seen = a->keys[j] && strcmp(a->keys[j], a->keys[i]) == 0;
    if (!seen)
      keymap_add(&sim->keys, a->keys[i]);
  }
  pthread_mutex_unlock(&sim->mu);
}

size_t vc_sim_accepted_count(vc_sim *s, const char *provider)
{
  size_t i, n = 0;

  if (s == NULL)
    return 0;
  pthread_mutex_lock(&s->mu);
  for (i = 0; i < SIM_NPROV; i++)
    if (provider == NULL || strcmp(provider, s->prov[i].p->name) == 0)
      n += s->prov[i].accepted;
  pthread_mutex_unlock(&s->mu);
  return n;
}

size_t vc_sim_duplicate_count(vc_sim *s, const char *provider)
{
  size_t i, n = 0;

  if (s == NULL)
    return 0;
  pthread_mutex_lock(&s->mu);
  for (i = 0; i < SIM_NPROV; i++)
    if (provider == NULL || strcmp(provider, s->prov[i].p->name) == 0)
      n += s->prov[i].duplicates;
  pthread_mutex_unlock(&s->mu);
  return n;
}

size_t vc_sim_sent_count(vc_sim *s, const char *key)
{
  size_t n;

  if (s == NULL || key == NULL)
    return 0;
  pthread_mutex_lock(&s->mu);
  n = keymap_get(&s->keys, key);
  pthread_mutex_unlock(&s->mu);
  return n;
}

/* ---- records --------------------------------------------------------- */

/* Copy `n` bytes as a NUL-terminated string at *at; returns it. */
static const char *rec_put(char **at, const char *p, size_t n)
{
  char *d = *at;

  if (n)
    memcpy(d, p, n);
  d[n] = '\0';
  *at += n + 1;
  return d;
}

static void record_add(vc_sim *s, const char *provider, const sim_req *rq,
                       const char *rawpath, size_t rawpath_len,
                       const sim_resp *rs, int status,
                       vc_sim_fault_kind fault)
{
  const struct http_msg *msg = rq->msg_;
  const char *auth, *ctype;
  size_t alen = 0, clen = 0, hlen = 0, need;
  sim_record *r;
  struct le *le;
  char *at;

  auth = sim_req_header(rq, "Authorization", &alen);
  ctype = sim_req_header(rq, "Content-Type", &clen);
  LIST_FOREACH(&msg->hdrl, le) {
    const struct http_hdr *h = le->data;
    hlen += h->name.l + h->val.l + 4;
  }
  need = sizeof(*r) + strlen(provider) + strlen(rq->method) + rawpath_len +
         alen + clen + hlen + rq->body_len + strlen(rs->message_id) + 8;
  r = malloc(need);
  if (r == NULL)
    return;
  at = (char *)(r + 1);
  r->r.provider = rec_put(&at, provider, strlen(provider));
  r->r.method = rec_put(&at, rq->method, strlen(rq->method));
  r->r.path = rec_put(&at, rawpath, rawpath_len);
  r->r.authorization = rec_put(&at, auth ? auth : "", alen);
  r->r.content_type = rec_put(&at, ctype ? ctype : "", clen);
  r->r.headers = at;
  LIST_FOREACH(&msg->hdrl, le) {
    const struct http_hdr *h = le->data;
    memcpy(at, h->name.p, h->name.l);
    at += h->name.l;
    memcpy(at, ": ", 2);
    at += 2;
    memcpy(at, h->val.p, h->val.l);
    at += h->val.l;
    memcpy(at, "\r\n", 2);
    at += 2;
  }
  *at++ = '\0';
  r->r.body = rec_put(&at, rq->body ? rq->body : "", rq->body_len);
  r->r.body_len = rq->body_len;
  r->r.content_length = rq->content_length;
  r->r.status = status;
  r->r.fault = fault;
  r->r.message_id = rec_put(&at, rs->message_id, strlen(rs->message_id));
  r->r.received_ms = sim_now_ms();

  pthread_mutex_lock(&s->mu);
  if (s->nrec == s->caprec) {
    size_t ncap = s->caprec ? s->caprec * 2 : 256;
    sim_record **nr = realloc(s->rec, ncap * sizeof(*nr));
    if (nr == NULL) {
      pthread_mutex_unlock(&s->mu);
      free(r);
      return;
    }
    s->rec = nr;
    s->caprec = ncap;
  }
  s->rec[s->nrec++] = r;
  pthread_mutex_unlock(&s->mu);
}

size_t vc_sim_received_count(vc_sim *s)
{
  size_t n;

  if (s == NULL)
    return 0;
  pthread_mutex_lock(&s->mu);
  n = s->nrec;
  pthread_mutex_unlock(&s->mu);
  return n;
}

int vc_sim_received_get(vc_sim *s, size_t i, vc_sim_request *out)
{
  int rc = 0;

  if (s == NULL || out == NULL)
    return -EINVAL;
  pthread_mutex_lock(&s->mu);
  if (i < s->nrec)
    *out = s->rec[i]->r;
  else
    rc = -ENOENT;
  pthread_mutex_unlock(&s->mu);
  return rc;
}

int vc_sim_request_header(const vc_sim_request *r, const char *name,
                          char *buf, size_t size)
{
  size_t nl = strlen(name);
  const char *p;

  for (p = r->headers; *p; ) {
    const char *eol = strstr(p, "\r\n");
    if (eol == NULL)
      break;
    if ((size_t)(eol - p) > nl && p[nl] == ':' &&
        strncasecmp(p, name, nl) == 0) {
      const char *v = p + nl + 1;
      size_t vl;
      while (v < eol && (*v == ' ' || *v == '\t'))
        v++;
      vl = (size_t)(eol - v);
      if (buf != NULL && size > 0)
        snprintf(buf, size, "%.*s", (int)vl, v);
      return (int)vl;
    }
    p = eol + 2;
  }
  return -ENOENT;
}

void vc_sim_received_clear(vc_sim *s)
{
  size_t i;

  if (s == NULL)
    return;
  pthread_mutex_lock(&s->mu);
  for (i = 0; i < s->nrec; i++)
    free(s->rec[i]);
  s->nrec = 0;
  keymap_free(&s->keys);
  for (i = 0; i < SIM_NPROV; i++) {
    s->prov[i].accepted = 0;
    s->prov[i].duplicates = 0;
    idset_free(&s->prov[i].ids);
  }
  pthread_mutex_unlock(&s->mu);
}

/* ---- requests and answers -------------------------------------------- */

const char *sim_req_header(const sim_req *rq, const char *name, size_t *len)
{
  const struct http_hdr *h = http_msg_xhdr(rq->msg_, name);

  if (h == NULL)
    return NULL;
  if (len)
    *len = h->val.l;
  return h->val.p;
}

void sim_resp_reset(sim_resp *rs)
{
  sim_buf_free(&rs->headers);
  sim_buf_free(&rs->body);
  rs->status = 0;
  rs->content_type = NULL;
}

/* The Date header, formatted once per second per thread. */
static const char *http_date(void)
{
  static _Thread_local char date[40];
  static _Thread_local int64_t last = -1;
  static const char days[7][4] = {
    "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
  static const char months[12][4] = {
    "Jan", "Feb", "Mar", "Apr", "May", "Jun",
    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
  int64_t now = sim_now_ms() / 1000;

  if (now != last) {
    time_t t = (time_t)now;
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(date, sizeof(date), "%s, %02d %s %04d %02d:%02d:%02d GMT",
             days[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12],
             tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    last = now;
  }
  return date;
}

static struct mbuf *resp_encode(const sim_resp *rs, int close)
{
  char head[512], clen[48] = "";
  struct mbuf *mb;
  int n;

  /* A 101 has no body and no length (RFC 7230 3.3.2). */
  if (rs->status != 101)
    snprintf(clen, sizeof(clen), "Content-Length: %zu\r\n", rs->body.len);

  n = snprintf(head, sizeof(head),
               "HTTP/1.1 %d %s\r\n"
               "Date: %s\r\n"
               "Server: vyomcomm-sim\r\n"
               "%s%s%s"
               "%s"
               "%s",
               rs->status, sim_reason(rs->status), http_date(),
               rs->content_type ? "Content-Type: " : "",
               rs->content_type ? rs->content_type : "",
               rs->content_type ? "\r\n" : "", clen,
               close ? "Connection: close\r\n" : "");
  if (n < 0 || (size_t)n >= sizeof(head))
    return NULL;
  mb = mbuf_alloc((size_t)n + rs->headers.len + 2 + rs->body.len);
  if (mb == NULL)
    return NULL;
  (void)mbuf_write_mem(mb, (const uint8_t *)head, (size_t)n);
  if (rs->headers.len)
    (void)mbuf_write_mem(mb, (const uint8_t *)rs->headers.ptr,
                         rs->headers.len);
  (void)mbuf_write_mem(mb, (const uint8_t *)"\r\n", 2);
  if (rs->body.len)
    (void)mbuf_write_mem(mb, (const uint8_t *)rs->body.ptr, rs->body.len);
  mb->pos = 0;
  return mb;
}

/* A plain-text answer for what no provider handles. */
static void resp_plain(sim_resp *rs, int status, const char *text)
{
  sim_resp_reset(rs);
  rs->status = status;
  rs->content_type = "text/plain";
  sim_buf_str(&rs->body, text);
  sim_buf_str(&rs->body, "\n");
}

/* ---- connections ----------------------------------------------------- */

static void conn_destructor(void *arg)
{
  sim_conn *c = arg;

  list_unlink(&c->le);
  tmr_cancel(&c->tmr);
  if (c->ws != NULL)
    sim_ws_gone(c->ws);
  mem_deref(c->tc);
  mem_deref(c->rx);
  mem_deref(c->slow);
}

void sim_conn_close(sim_conn *c)
{
  mem_deref(c);
}

/* Close with an RST: unanswered, as a crashed or reset server. */
static void conn_reset(sim_conn *c)
{
  struct linger l = { 1, 0 };
  int fd = c->tc ? tcp_conn_fd(c->tc) : -1;

  if (fd >= 0)
    (void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
  sim_conn_close(c);
}

static void drain_expired(void *arg)
{
  sim_conn_close(arg);
}

static void on_sent_close(void *arg)
{
  sim_conn *c = arg;

  if (tcp_conn_txqsz(c->tc) == 0)
    sim_conn_close(c);
}

/* Close once libre's send queue is empty; keep discarding input. */
void sim_conn_close_soon(sim_conn *c)
{
  c->draining = 1;
  if (tcp_conn_txqsz(c->tc) == 0) {
    /* Half-close so the peer reads the answer, then linger a little. */
    (void)shutdown(tcp_conn_fd(c->tc), SHUT_WR);
    tmr_start(&c->tmr, SIM_DRAIN_MS, drain_expired, c);
  } else {
    (void)tcp_set_send(c->tc, on_sent_close);
    tmr_start(&c->tmr, SIM_DRAIN_MS * 5, drain_expired, c);
  }
}

int sim_conn_send(sim_conn *c, struct mbuf *mb)
{
  int err = tcp_send(c->tc, mb);

  mem_deref(mb);
  return err;
}

static void slow_next(void *arg)
{
  sim_conn *c = arg;
  struct mbuf *mb, *part;
  size_t n;

  mb = c->slow;
  n = mbuf_get_left(mb);
  if (n > c->chunk)
    n = c->chunk;
  part = mbuf_alloc(n);
  if (part == NULL || mbuf_write_mem(part, mbuf_buf(mb), n) != 0) {
    mem_deref(part);
    sim_conn_close(c);
    return;
  }
  part->pos = 0;
  mbuf_advance(mb, (ssize_t)n);
  if (sim_conn_send(c, part) != 0) {
    sim_conn_close(c);
    return;
  }
  if (mbuf_get_left(mb) > 0) {
    tmr_start(&c->tmr, c->delay_ms, slow_next, c);
    return;
  }
  c->slow = mem_deref(c->slow);
  c->busy = 0;
  if (c->close_after) {
    sim_conn_close_soon(c);
    return;
  }
  conn_process(c);
}

static void hold_expired(void *arg)
{
  /* The server gives up without answering, as a timed-out proxy. */
  sim_conn_close(arg);
}

/* ---- loop tasks ------------------------------------------------------- */

static void task_expired(void *arg)
{
  sim_task *t = arg;

  list_unlink(&t->le);
  t->fn(t->sim, t->arg);
  free(t);
}

/* On the libre thread. */
static void task_start(vc_sim *s, sim_task *t)
{
  if (t->sync) {
    t->fn(s, t->arg);
    pthread_mutex_lock(&s->mu);
    t->done = 1;
    pthread_cond_broadcast(&s->run_cond);
    pthread_mutex_unlock(&s->mu);
    return;
  }
  tmr_init(&t->tmr);
  list_append(&s->tasks, &t->le, t);
  tmr_start(&t->tmr, t->ms, task_expired, t);
}

static int on_loop(vc_sim *s)
{
  return s->thread_started && pthread_equal(pthread_self(), s->thread);
}

int sim_later(vc_sim *sim, unsigned ms, void (*fn)(vc_sim *, void *),
              const void *data, size_t n)
{
  sim_task *t;

  if (sim == NULL || fn == NULL || sim->mq == NULL)
    return -EINVAL;
  t = calloc(1, sizeof(*t) + n);
  if (t == NULL)
    return -ENOMEM;
  t->sim = sim;
  t->fn = fn;
  t->ms = ms;
  t->n = n;
  t->arg = t + 1;
  if (n)
    memcpy(t->arg, data, n);
  if (on_loop(sim)) {
    task_start(sim, t);
    return 0;
  }
  if (mqueue_push(sim->mq, SIM_MQ_TASK, t) != 0) {
    free(t);
    return -ENOMEM;
  }
  return 0;
}

int sim_run(vc_sim *sim, void (*fn)(vc_sim *, void *), void *arg)
{
  sim_task t;

  if (sim == NULL || fn == NULL || sim->mq == NULL)
    return -EINVAL;
  if (on_loop(sim)) {
    fn(sim, arg);
    return 0;
  }
  memset(&t, 0, sizeof(t));
  t.sim = sim;
  t.fn = fn;
  t.arg = arg;
  t.sync = 1;
  if (mqueue_push(sim->mq, SIM_MQ_TASK, &t) != 0)
    return -ENOMEM;
  pthread_mutex_lock(&sim->mu);
  while (!t.done)
    pthread_cond_wait(&sim->run_cond, &sim->mu);
  pthread_mutex_unlock(&sim->mu);
  return 0;
}

/* ---- the control API: /__sim/... ------------------------------------- */

static void ctl_json_counts(vc_sim *s, sim_buf *b, int dups)
{
  size_t i;

  sim_buf_str(b, "{");
  for (i = 0; i < SIM_NPROV; i++) {
    sim_buf_printf(b, "%s\"%s\":%zu", i ? "," : "", s->prov[i].p->name,
                   dups ? s->prov[i].duplicates : s->prov[i].accepted);
  }
  sim_buf_str(b, "}");
}

static int fault_kind_parse(const char *k)
{
  static const char *const names[] = {
    "", "5xx", "429", "timeout", "reset", "slow" };
  int i;

  for (i = 1; i < (int)(sizeof(names) / sizeof(names[0])); i++)
    if (k && strcmp(k, names[i]) == 0)
      return i;
  return 0;
}

static unsigned form_uint(const sim_form *f, const char *key)
{
  const char *v = sim_form_get(f, key);

  return v ? (unsigned)strtoul(v, NULL, 10) : 0;
}

static void ctl_handle(vc_sim *s, const sim_req *rq, sim_resp *rs)
{
  const char *what = rq->path + strlen("/__sim/");
  sim_form q;
  char val[2048];

  if (sim_form_parse(&q, rq->query, strlen(rq->query)) != 0) {
    resp_plain(rs, 500, "out of memory");
    return;
  }
  rs->status = 200;
  rs->content_type = "application/json";
  if (strcmp(what, "health") == 0) {
    sim_buf_printf(&rs->body, "{\"ok\":true,\"port\":%u}", s->port);
  } else if (strcmp(what, "stats") == 0) {
    vc_sim_webhook_stats ws;
    vc_sim_webhooks_stats(s, &ws);
    pthread_mutex_lock(&s->mu);
    sim_buf_printf(&rs->body, "{\"received\":%zu,\"accepted\":", s->nrec);
    ctl_json_counts(s, &rs->body, 0);
    sim_buf_str(&rs->body, ",\"duplicates\":");
    ctl_json_counts(s, &rs->body, 1);
    pthread_mutex_unlock(&s->mu);
    sim_buf_printf(&rs->body,
                   ",\"webhooks\":{\"posted\":%llu,\"failed\":%llu,"
                   "\"pending\":%llu}}",
                   (unsigned long long)ws.posted,
                   (unsigned long long)ws.failed,
                   (unsigned long long)ws.pending);
  } else if (strcmp(what, "sent") == 0 && sim_form_get(&q, "key")) {
    sim_buf_str(&rs->body, "{\"key\":");
    sim_buf_json_str(&rs->body, sim_form_get(&q, "key"));
    sim_buf_printf(&rs->body, ",\"count\":%zu}",
                   vc_sim_sent_count(s, sim_form_get(&q, "key")));
  } else if (strcmp(what, "get") == 0 && sim_form_get(&q, "key") &&
             vc_sim_get(s, sim_form_get(&q, "key"), val, sizeof(val)) >= 0) {
    sim_buf_str(&rs->body, "{\"key\":");
    sim_buf_json_str(&rs->body, sim_form_get(&q, "key"));
    sim_buf_str(&rs->body, ",\"value\":");
    sim_buf_json_str(&rs->body, val);
    sim_buf_str(&rs->body, "}");
  } else if (strcmp(what, "set") == 0 && strcmp(rq->method, "POST") == 0 &&
             sim_form_get(&q, "key") && sim_form_get(&q, "value") &&
             vc_sim_set(s, sim_form_get(&q, "key"),
                        sim_form_get(&q, "value")) == 0) {
    sim_buf_str(&rs->body, "{\"ok\":true}");
  } else if (strcmp(what, "fault") == 0 &&
             strcmp(rq->method, "POST") == 0) {
    vc_sim_fault f = VC_SIM_FAULT_INIT;
    f.kind = (vc_sim_fault_kind)fault_kind_parse(sim_form_get(&q, "kind"));
    f.count = form_uint(&q, "count");
    f.status = (int)form_uint(&q, "status");
    f.retry_after_s = form_uint(&q, "retry_after");
    f.hold_ms = form_uint(&q, "hold_ms");
    f.chunk_bytes = form_uint(&q, "chunk_bytes");
    f.chunk_delay_ms = form_uint(&q, "chunk_delay_ms");
    f.accept_first = (int)form_uint(&q, "accept_first");
    if (vc_sim_fault_add(s, sim_form_get(&q, "provider"), &f) == 0)
      sim_buf_str(&rs->body, "{\"ok\":true}");
    else
      resp_plain(rs, 400, "bad fault");
  } else {
    resp_plain(rs, 404, "unknown control request");
  }
  sim_form_free(&q);
}

/* ---- one request ----------------------------------------------------- */

/* The provider with the longest matching prefix: AWS APIs live at "/",
 * the others under paths of their own. */
static const sim_provider *route(vc_sim *s, const char *path,
                                 sim_prov **pp)
{
  size_t i, best = 0;
  int best_matched = 0;

  /* A provider that recognises the path wins, then the longest prefix. */
  *pp = NULL;
  for (i = 0; i < SIM_NPROV; i++) {
    const sim_provider *p = s->prov[i].p;
    size_t n = strlen(p->prefix);
    int matched = p->match != NULL;
    if (strncmp(path, p->prefix, n) != 0 || (matched && !p->match(path)))
      continue;
    if (*pp == NULL || matched > best_matched ||
        (matched == best_matched && n > best)) {
      *pp = &s->prov[i];
      best = n;
      best_matched = matched;
    }
  }
  return *pp ? (*pp)->p : NULL;
}

static int wants_close(const struct http_msg *msg)
{
  const struct http_hdr *h = http_msg_hdr(msg, HTTP_HDR_CONNECTION);

  if (h != NULL && pl_strcasecmp(&h->val, "close") == 0)
    return 1;
  if (pl_strcmp(&msg->ver, "1.0") == 0 &&
      (h == NULL || pl_strcasecmp(&h->val, "keep-alive") != 0))
    return 1;
  return 0;
}

/*
 * Answer one complete request (or one whose body is over the limit and
 * unread). Returns CONN_NEXT, CONN_WAIT (answer pending) or CONN_GONE.
 */
static int conn_request(sim_conn *c, const struct http_msg *msg,
                        const char *body, size_t blen, int too_large)
{
  vc_sim *s = c->sim;
  char method[16], path[SIM_MAX_PATH], rawpath[SIM_MAX_PATH * 2];
  const sim_provider *prov = NULL;
  sim_prov *sp = NULL;
  vc_sim_fault f;
  sim_req rq;
  sim_resp rs;
  struct mbuf *mb;
  size_t rawlen;
  sim_ws *up;
  int status, fail_reply, too_long, ret = CONN_NEXT;

  memset(&f, 0, sizeof(f));
  memset(&rs, 0, sizeof(rs));
  memset(&rq, 0, sizeof(rq));
  (void)pl_strcpy(&msg->met, method, sizeof(method));
  (void)pl_strcpy(&msg->path, path, sizeof(path));
  too_long = msg->path.l >= SIM_MAX_PATH || msg->prm.l >= SIM_MAX_PATH;
  rawlen = too_long ? 0 : (size_t)snprintf(rawpath, sizeof(rawpath),
                                           "%.*s%.*s",
                                           (int)msg->path.l, msg->path.p,
                                           (int)msg->prm.l, msg->prm.p);
  rawpath[rawlen] = '\0';
  rq.method = method;
  rq.path = path;
  rq.query = !too_long && msg->prm.l > 0 && msg->prm.p[0] == '?' ?
    rawpath + msg->path.l + 1 : "";
  rq.body = too_large ? NULL : body;
  rq.body_len = too_large ? 0 : blen;
  rq.content_length = msg->clen;
  rq.too_large = too_large;
  rq.msg_ = msg;
  c->close_after = c->close_after || too_large || wants_close(msg);

  if (too_long) {
    resp_plain(&rs, 414, "URI too long");
    c->close_after = 1;
  } else if (strncmp(path, "/__sim/", 7) == 0) {
    ctl_handle(s, &rq, &rs);
  } else if ((prov = route(s, path, &sp)) == NULL) {
    resp_plain(&rs, 404, "no simulated provider serves this path");
  } else if (too_large) {
    prov->error(s, sp->state, 413, 0, &rs);
  } else {
    fault_take(s, sp, &f);
    fail_reply = f.kind == VC_SIM_FAULT_5XX || f.kind == VC_SIM_FAULT_429;
    if (f.kind == VC_SIM_FAULT_NONE || f.kind == VC_SIM_FAULT_SLOW_BODY ||
        f.accept_first)
      prov->handle(s, sp->state, &rq, &rs);
    if (fail_reply) {
      sim_resp_reset(&rs);
      prov->error(s, sp->state, f.status, f.retry_after_s, &rs);
    }
  }
  up = rs.upgrade_;
  rs.upgrade_ = NULL;
  if (rs.status == 0)
    resp_plain(&rs, 500, "simulator: no answer built");

  status = f.kind == VC_SIM_FAULT_TIMEOUT || f.kind == VC_SIM_FAULT_RESET ?
    0 : rs.status;
  record_add(s, prov ? prov->name : "", &rq, rawpath, rawlen, &rs, status,
             f.kind);
  if (s->verbose)
    fprintf(stderr, "vyomcomm-sim: %s %.*s -> %d%s\n", method,
            (int)(rawlen > 200 ? 200 : rawlen), rawpath, status,
            f.kind ? " (fault)" : "");

  switch (f.kind) {
  case VC_SIM_FAULT_TIMEOUT:
    c->busy = 1;
    if (f.hold_ms > 0)
      tmr_start(&c->tmr, f.hold_ms, hold_expired, c);
    ret = CONN_WAIT;
    break;
  case VC_SIM_FAULT_RESET:
    conn_reset(c);
    ret = CONN_GONE;
    break;
  case VC_SIM_FAULT_SLOW_BODY:
    c->slow = resp_encode(&rs, c->close_after);
    if (c->slow == NULL) {
      sim_conn_close(c);
      ret = CONN_GONE;
      break;
    }
    c->busy = 1;
    c->chunk = f.chunk_bytes;
    c->delay_ms = f.chunk_delay_ms;
    tmr_start(&c->tmr, 0, slow_next, c);
    ret = CONN_WAIT;
    break;
  default:
    mb = resp_encode(&rs, c->close_after);
    if (mb == NULL || sim_conn_send(c, mb) != 0) {
      sim_conn_close(c);
      ret = CONN_GONE;
    } else if (up != NULL && rs.status == 101 && !c->close_after) {
      c->ws = up;
      up->conn = c;
      up = NULL;
      ret = CONN_UPGRADED;
    } else if (c->close_after) {
      sim_conn_close_soon(c);
      ret = CONN_WAIT;
    }
  }
  if (up != NULL)
    sim_ws_gone(up);    /* the upgrade did not happen */
  sim_resp_reset(&rs);
  return ret;
}

/* An answer for input that is not HTTP we serve; then close. */
static void conn_fail(sim_conn *c, int status, const char *text)
{
  sim_resp rs;
  struct mbuf *mb;

  memset(&rs, 0, sizeof(rs));
  resp_plain(&rs, status, text);
  mb = resp_encode(&rs, 1);
  sim_resp_reset(&rs);
  if (mb != NULL)
    (void)sim_conn_send(c, mb);
  sim_conn_close_soon(c);
}

static uint64_t body_limit(vc_sim *s, const struct http_msg *msg)
{
  char path[SIM_MAX_PATH];
  sim_prov *sp;

  (void)pl_strcpy(&msg->path, path, sizeof(path));
  return route(s, path, &sp) ? sp->p->max_body : SIM_MAX_BODY_OTHER;
}

/* Drop consumed input; keep what is left at the start of a buffer. */
int sim_conn_rx_compact(sim_conn *c)
{
  struct mbuf *rx = c->rx, *nb;
  size_t left = mbuf_get_left(rx);

  if (left == 0) {
    c->rx = mem_deref(rx);
    return 0;
  }
  if (rx->pos == 0)
    return 0;
  nb = mbuf_alloc(left > 8192 ? left : 8192);
  if (nb == NULL || mbuf_write_mem(nb, mbuf_buf(rx), left) != 0) {
    mem_deref(nb);
    return ENOMEM;
  }
  nb->pos = 0;
  mem_deref(rx);
  c->rx = nb;
  return 0;
}

static void send_continue(sim_conn *c)
{
  static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
  struct mbuf *mb = mbuf_alloc(sizeof(cont));

  if (mb == NULL)
    return;
  (void)mbuf_write_mem(mb, (const uint8_t *)cont, sizeof(cont) - 1);
  mb->pos = 0;
  (void)sim_conn_send(c, mb);
}

/* Parse and answer every complete request in the input buffer. */
static void conn_process(sim_conn *c)
{
  while (c->rx != NULL && !c->busy && !c->draining) {
    struct mbuf *rx = c->rx;
    size_t start = rx->pos, have, clen, need;
    struct http_msg *msg = NULL;
    const struct http_hdr *h;
    int err, r, cont;

    err = http_msg_decode(&msg, rx, true);
    if (err == ENODATA) {
      rx->pos = start;
      if (mbuf_get_left(rx) > SIM_MAX_HEADER)
        conn_fail(c, 431, "request headers too large");
      return;
    }
    if (err != 0) {
      rx->pos = start;
      conn_fail(c, 400, "malformed request");
      return;
    }
    if (http_msg_hdr(msg, HTTP_HDR_TRANSFER_ENCODING) != NULL) {
      /* Clients of these APIs send a Content-Length. */
      mem_deref(msg);
      conn_fail(c, 411, "chunked request bodies are not supported");
      return;
    }
    h = http_msg_hdr(msg, HTTP_HDR_CONTENT_LENGTH);
    if (h != NULL && h->val.l > 9) {
      /* Over 999,999,999 bytes: beyond every provider's limit. */
      mem_deref(msg);
      conn_fail(c, 413, "request body too large");
      return;
    }
    clen = msg->clen;
    if (clen > body_limit(c->sim, msg)) {
      r = conn_request(c, msg, NULL, 0, 1);
      mem_deref(msg);
      return;     /* draining from here on: the body is never parsed */
    }
    have = mbuf_get_left(rx);
    if (have < clen) {
      need = clen - have;
      cont = !c->cont_sent &&
        http_msg_hdr_has_value(msg, HTTP_HDR_EXPECT, "100-continue");
      mem_deref(msg);
      rx->pos = start;
      if (cont) {
        send_continue(c);
        c->cont_sent = 1;
      }
      /* Room for the whole body at once; msg no longer points in. */
      if (sim_conn_rx_compact(c) == 0 && c->rx->size < c->rx->end + need)
        (void)mbuf_resize(c->rx, c->rx->end + need);
      return;
    }
    c->cont_sent = 0;
    r = conn_request(c, msg, (const char *)mbuf_buf(rx), clen, 0);
    mem_deref(msg);
    if (r == CONN_GONE)
      return;
    mbuf_advance(rx, (ssize_t)clen);
    if (sim_conn_rx_compact(c) != 0) {
      sim_conn_close(c);
      return;
    }
    if (r == CONN_UPGRADED) {
      sim_ws_input(c);
      return;
    }
  }
}

static void on_recv(struct mbuf *mb, void *arg)
{
  sim_conn *c = arg;
  size_t pos;

  if (c->draining)
    return;                 /* an early answer went out: discard */
  if (c->rx == NULL) {
    c->rx = mem_ref(mb);
  } else {
    pos = c->rx->pos;
    c->rx->pos = c->rx->end;
    if (mbuf_write_mem(c->rx, mbuf_buf(mb), mbuf_get_left(mb)) != 0) {
      sim_conn_close(c);
      return;
    }
    c->rx->pos = pos;
  }
  if (c->ws != NULL)
    sim_ws_input(c);
  else
    conn_process(c);
}

static void on_close(int err, void *arg)
{
  (void)err;
  sim_conn_close(arg);
}

static void on_connect(const struct sa *peer, void *arg)
{
  vc_sim *s = arg;
  sim_conn *c;
  int one = 1, fd;

  (void)peer;
  c = mem_zalloc(sizeof(*c), conn_destructor);
  if (c == NULL) {
    tcp_reject(s->ts);
    return;
  }
  c->sim = s;
  tmr_init(&c->tmr);
  list_append(&s->conns, &c->le, c);
  if (tcp_accept(&c->tc, s->ts, NULL, on_recv, on_close, c) != 0) {
    mem_deref(c);
    tcp_reject(s->ts);
    return;
  }
  fd = tcp_conn_fd(c->tc);
  /* Answers and slow chunks go out at once, not after a delayed ACK. */
  if (fd >= 0)
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* ---- the libre thread ------------------------------------------------ */

static void on_mqueue(int id, void *data, void *arg)
{
  if (id == SIM_MQ_STOP)
    re_cancel();
  else if (id == SIM_MQ_TASK)
    task_start(arg, data);
}

static void start_done(vc_sim *s, int err)
{
  pthread_mutex_lock(&s->mu);
  s->start_err = err;
  s->ready = 1;
  pthread_cond_broadcast(&s->ready_cond);
  pthread_mutex_unlock(&s->mu);
}

static void *sim_thread(void *arg)
{
  vc_sim *s = arg;
  struct rlimit rl;
  struct sa laddr;
  int err, maxfds = 4096;

  err = re_thread_init();
  if (err != 0) {
    start_done(s, err);
    return NULL;
  }
  /* libre indexes its fd table by fd: size it to the process limit. */
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
      rl.rlim_cur > (rlim_t)maxfds)
    maxfds = rl.rlim_cur > 65536 ? 65536 : (int)rl.rlim_cur;
  err = fd_setsize(maxfds);
  if (err == 0)
    err = mqueue_alloc(&s->mq, on_mqueue, s);
  if (err == 0)
    err = sa_set_str(&laddr, s->host, s->port);
  /* Not tcp_listen(): its backlog of 5 drops the SYNs of a burst of
   * connections, which then wait a second for the retransmission. */
  if (err == 0)
    err = tcp_sock_alloc(&s->ts, &laddr, on_connect, s);
  if (err == 0)
    err = tcp_sock_bind(s->ts, &laddr);
  if (err == 0)
    err = tcp_sock_listen(s->ts, SIM_BACKLOG);
  if (err == 0)
    err = tcp_local_get(s->ts, &laddr);
  if (err == 0)
    s->port = sa_port(&laddr);
  start_done(s, err);
  if (err == 0)
    (void)re_main(NULL);

  list_flush(&s->conns);
  while (s->tasks.head != NULL) {
    sim_task *t = s->tasks.head->data;
    tmr_cancel(&t->tmr);
    list_unlink(&t->le);
    free(t);
  }
  s->ts = mem_deref(s->ts);
  s->mq = mem_deref(s->mq);
  re_thread_close();
  return NULL;
}

/* ---- start and stop -------------------------------------------------- */

static int apply_setting(vc_sim *s, const char *kv)
{
  const char *eq = strchr(kv, '=');
  char key[256];

  if (eq == NULL || (size_t)(eq - kv) >= sizeof(key))
    return -EINVAL;
  memcpy(key, kv, (size_t)(eq - kv));
  key[eq - kv] = '\0';
  return vc_sim_set(s, key, eq + 1);
}

int vc_sim_start(vc_sim **out, const vc_sim_options *o)
{
  static const vc_sim_options defaults = VC_SIM_OPTIONS_INIT;
  vc_sim *s;
  size_t i;
  int rc;

  if (out == NULL)
    return -EINVAL;
  *out = NULL;
  if (o == NULL)
    o = &defaults;
  s = calloc(1, sizeof(*s));
  if (s == NULL)
    return -ENOMEM;
  pthread_mutex_init(&s->mu, NULL);
  pthread_cond_init(&s->ready_cond, NULL);
  pthread_cond_init(&s->run_cond, NULL);
  list_init(&s->conns);
  list_init(&s->tasks);
  snprintf(s->host, sizeof(s->host), "%s", o->host ? o->host : "127.0.0.1");
  s->port = o->port;
  s->verbose = o->verbose;
  for (i = 0; i < SIM_NPROV; i++)
    s->prov[i].p = sim_table[i];

  for (i = 0; i < SIM_NPROV; i++) {
    const char *const *d = s->prov[i].p->defaults;
    char key[256];
    for (; d && d[0] && d[1]; d += 2) {
      snprintf(key, sizeof(key), "%s.%s", s->prov[i].p->name, d[0]);
      if ((rc = vc_sim_set(s, key, d[1])) != 0)
        goto fail;
    }
  }
  for (i = 0; o->settings && o->settings[i]; i++)
    if ((rc = apply_setting(s, o->settings[i])) != 0)
      goto fail;
  for (i = 0; i < SIM_NPROV; i++)
    if (s->prov[i].p->init &&
        (rc = s->prov[i].p->init(s, &s->prov[i].state)) != 0)
      goto fail;

  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    rc = -EIO;
    goto fail;
  }
  s->curl_init = 1;
  if ((rc = sim_wq_start(&s->wq, o->webhook_workers ? o->webhook_workers : 1,
                         o->verbose)) != 0)
    goto fail;
  if (pthread_create(&s->thread, NULL, sim_thread, s) != 0) {
    rc = -EAGAIN;
    goto fail;
  }
  s->thread_started = 1;
  pthread_mutex_lock(&s->mu);
  while (!s->ready)
    pthread_cond_wait(&s->ready_cond, &s->mu);
  rc = s->start_err ? -s->start_err : 0;
  pthread_mutex_unlock(&s->mu);
  if (rc != 0)
    goto fail;
  snprintf(s->base_url, sizeof(s->base_url), "http://%s%s%s:%u",
           strchr(s->host, ':') ? "[" : "", s->host,
           strchr(s->host, ':') ? "]" : "", s->port);
  *out = s;
  return 0;
fail:
  vc_sim_stop(s);
  return rc;
}

void vc_sim_stop(vc_sim *s)
{
  struct mqueue *mq = NULL;
  size_t i;

  if (s == NULL)
    return;
  if (s->thread_started) {
    /* After a failed start the thread ends by itself. */
    pthread_mutex_lock(&s->mu);
    if (s->ready && s->start_err == 0)
      mq = s->mq;
    pthread_mutex_unlock(&s->mu);
    if (mq != NULL)
      (void)mqueue_push(mq, SIM_MQ_STOP, NULL);
    pthread_join(s->thread, NULL);
  }
  sim_wq_stop(s->wq);
  for (i = 0; i < SIM_NPROV; i++) {
    if (s->prov[i].p && s->prov[i].p->fini && s->prov[i].state)
      s->prov[i].p->fini(s->prov[i].state);
    free(s->prov[i].faults);
    idset_free(&s->prov[i].ids);
  }
  for (i = 0; i < s->nrec; i++)
    free(s->rec[i]);
  free(s->rec);
  keymap_free(&s->keys);
  for (i = 0; i < s->nset; i++) {
    free(s->set[i].key);
    free(s->set[i].val);
  }
  free(s->set);
  if (s->curl_init)
    curl_global_cleanup();
  pthread_cond_destroy(&s->ready_cond);
  pthread_cond_destroy(&s->run_cond);
  pthread_mutex_destroy(&s->mu);
  free(s);
}

unsigned short vc_sim_port(const vc_sim *s)
{
  return s ? s->port : 0;
}

const char *vc_sim_base_url(const vc_sim *s)
{
  return s ? s->base_url : NULL;
}

double vc_sim_cpu_seconds(vc_sim *s)
{
  struct timespec ts;
  clockid_t cid;

  if (s == NULL || !s->thread_started ||
      pthread_getcpuclockid(s->thread, &cid) != 0 ||
      clock_gettime(cid, &ts) != 0)
    return -1.0;
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
