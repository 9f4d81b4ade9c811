/*
 * Webhook sender: worker threads that POST queued callbacks with libcurl.
 *
 * A job is one message's callbacks in order. A worker takes the job due
 * first, posts its next callback, and requeues the rest `gap_ms` later, so
 * one message's callbacks never overtake each other while different
 * messages go out in parallel. The libre thread only queues (a short
 * mutex hold); it never waits on the network.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "sim_int.h"

enum { WQ_POST_TIMEOUT_MS = 10000, WQ_MAX_ANSWER = 64 * 1024 };

typedef struct wq_job {
  uint64_t due;              /* monotonic ms */
  uint64_t seq;              /* FIFO among equal due times */
  const sim_provider *prov;
  void *state;
  sim_post *posts;
  size_t idx, n;
  unsigned gap_ms;
  int canceled;              /* sim_wq_cancel() while it was posting */
} wq_job;

struct sim_wq {
  pthread_mutex_t mu;
  pthread_cond_t work;       /* a job was queued, or stop */
  pthread_cond_t idle;       /* a job finished */
  wq_job **heap;
  size_t n, cap;
  uint64_t seq;
  size_t inflight;
  wq_job **flying;           /* the jobs being posted (nthreads slots) */
  atomic_int stop;
  pthread_t *threads;
  unsigned nthreads;
  uint64_t posted, failed;
  uint64_t pending;          /* callbacks queued or being posted */
  int verbose;
};

/* ---- a min-heap on (due, seq) ----------------------------------------- */

static int job_before(const wq_job *a, const wq_job *b)
{
  return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

static int heap_push(sim_wq *q, wq_job *j)
{
  size_t i;

  if (q->n == q->cap) {
    size_t ncap = q->cap ? q->cap * 2 : 64;
    wq_job **nh = realloc(q->heap, ncap * sizeof(*nh));
    if (nh == NULL)
      return -ENOMEM;
    q->heap = nh;
    q->cap = ncap;
  }
  j->seq = q->seq++;
  for (i = q->n++; i > 0; ) {
    size_t up = (i - 1) / 2;
    if (!job_before(j, q->heap[up]))
      break;
    q->heap[i] = q->heap[up];
    i = up;
  }
  q->heap[i] = j;
  return 0;
}

static wq_job *heap_pop(sim_wq *q)
{
  wq_job *top = q->heap[0], *last = q->heap[--q->n];
  size_t i = 0;

  for (;;) {
    size_t l = 2 * i + 1, m = i;
    if (l < q->n && job_before(q->heap[l], last))
      m = l;
    if (l + 1 < q->n &&
        job_before(q->heap[l + 1], m == i ? last : q->heap[m]))
      m = l + 1;
    if (m == i)
      break;
    q->heap[i] = q->heap[m];
    i = m;
  }
  if (q->n > 0)
    q->heap[i] = last;
  return top;
}

static void job_free(wq_job *j)
{
  size_t i;

  for (i = 0; i < j->n; i++)
    sim_post_free(&j->posts[i]);
  free(j->posts);
  free(j);
}

/* ---- posting ---------------------------------------------------------- */

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
  (void)p;
  (void)arg;
  return size * n;
}

/* Keep up to WQ_MAX_ANSWER bytes of an answer for the response hook. */
static size_t keep(char *p, size_t size, size_t n, void *arg)
{
  sim_buf *b = arg;
  size_t len = size * n;

  if (b->len < WQ_MAX_ANSWER)
    sim_buf_add(b, p, len < WQ_MAX_ANSWER - b->len ? len
                                                  : WQ_MAX_ANSWER - b->len);
  return len;
}

static int on_progress(void *arg, curl_off_t dt, curl_off_t dn,
                       curl_off_t ut, curl_off_t un)
{
  sim_wq *q = arg;

  (void)dt;
  (void)dn;
  (void)ut;
  (void)un;
  return atomic_load(&q->stop) ? 1 : 0;   /* abort: shutting down */
}

/* Add "Name: value" lines of a '\n'-separated block. */
static struct curl_slist *add_lines(struct curl_slist *h, const char *blk)
{
  char line[2048];

  while (blk && *blk) {
    const char *eol = strchr(blk, '\n');
    size_t n = eol ? (size_t)(eol - blk) : strlen(blk);
    if (n > 0 && n < sizeof(line)) {
      struct curl_slist *nh;
      memcpy(line, blk, n);
      line[n] = '\0';
      nh = curl_slist_append(h, line);
      if (nh != NULL)
        h = nh;
    }
    blk += n + (eol ? 1 : 0);
  }
  return h;
}

static int post_one(sim_wq *q, CURL *curl, const wq_job *j,
                    const sim_post *p)
{
  struct curl_slist *h = NULL;
  char ctype[256], *extra = NULL;
  long code = 0;
  sim_buf answer = { 0 };
  CURLcode rc;

  snprintf(ctype, sizeof(ctype), "Content-Type: %s",
           p->content_type ? p->content_type : "application/octet-stream");
  h = curl_slist_append(h, ctype);
  h = add_lines(h, "Expect:");          /* no 100-continue round trip */
  h = add_lines(h, p->headers);
  if (j->prov->sign != NULL) {
    extra = j->prov->sign(j->state, p);
    h = add_lines(h, extra);
    free(extra);
  }
  curl_easy_setopt(curl, CURLOPT_URL, p->url);
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, p->body ? p->body : "");
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                   (curl_off_t)p->body_len);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)WQ_POST_TIMEOUT_MS);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  if (j->prov->response != NULL) {
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, keep);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer);
  } else {
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
  }
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, q);
  rc = curl_easy_perform(curl);
  if (rc == CURLE_OK)
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
  curl_slist_free_all(h);
  if (j->prov->response != NULL)
    j->prov->response(j->state, p, code, answer.ptr ? answer.ptr : "",
                      answer.len);
  sim_buf_free(&answer);
  if (q->verbose)
    fprintf(stderr, "vyomcomm-sim: webhook %s -> %ld%s%s\n", p->url, code,
            rc != CURLE_OK ? " " : "",
            rc != CURLE_OK ? curl_easy_strerror(rc) : "");
  return rc == CURLE_OK && code >= 200 && code < 300;
}

static void deadline_at(struct timespec *ts, uint64_t due_mono_ms)
{
  ts->tv_sec = (time_t)(due_mono_ms / 1000);
  ts->tv_nsec = (long)(due_mono_ms % 1000) * 1000000L;
}

static void *worker(void *arg)
{
  sim_wq *q = arg;
  CURL *curl = curl_easy_init();

  pthread_mutex_lock(&q->mu);
  while (!atomic_load(&q->stop)) {
    wq_job *j;
    uint64_t now;
    struct timespec ts;
    int ok, skip;

    if (q->n == 0) {
      pthread_cond_wait(&q->work, &q->mu);
      continue;
    }
    now = sim_mono_ms();
    if (q->heap[0]->due > now) {
      deadline_at(&ts, q->heap[0]->due);
      pthread_cond_timedwait(&q->work, &q->mu, &ts);
      continue;
    }
    j = heap_pop(q);
    q->flying[q->inflight++] = j;
    pthread_mutex_unlock(&q->mu);

    /* 0: post, 1: skip this one, 2: skip the rest of the job. */
    skip = j->prov->prepare ? j->prov->prepare(j->state, &j->posts[j->idx])
                            : 0;
    ok = skip == 0 && curl != NULL &&
      post_one(q, curl, j, &j->posts[j->idx]);

    pthread_mutex_lock(&q->mu);
    for (size_t k = 0; k < q->inflight; k++)
      if (q->flying[k] == j) {
        q->flying[k] = q->flying[--q->inflight];
        break;
      }
    q->pending--;
    if (skip == 2 || j->canceled) {
      q->pending -= j->n - j->idx - 1;
      j->idx = j->n - 1;
    } else if (skip == 0 && ok) {
      q->posted++;
    } else if (skip == 0) {
      q->failed++;
    }
    if (++j->idx < j->n) {
      j->due = sim_mono_ms() + j->gap_ms + j->posts[j->idx].wait_ms;
      if (heap_push(q, j) != 0) {
        q->failed += j->n - j->idx;
        q->pending -= j->n - j->idx;
        job_free(j);
      }
      pthread_cond_signal(&q->work);
    } else {
      job_free(j);
    }
    pthread_cond_broadcast(&q->idle);
  }
  pthread_mutex_unlock(&q->mu);
  if (curl != NULL)
    curl_easy_cleanup(curl);
  return NULL;
}

/* ---- the queue -------------------------------------------------------- */

int sim_wq_start(sim_wq **out, unsigned workers, int verbose)
{
  pthread_condattr_t ca;
  sim_wq *q;
  unsigned i;

  *out = NULL;
  q = calloc(1, sizeof(*q));
  if (q == NULL)
    return -ENOMEM;
  q->threads = calloc(workers, sizeof(pthread_t));
  q->flying = calloc(workers, sizeof(*q->flying));
  if (q->threads == NULL || q->flying == NULL) {
    free(q->threads);
    free(q->flying);
    free(q);
    return -ENOMEM;
  }
  q->verbose = verbose;
  atomic_init(&q->stop, 0);
  pthread_mutex_init(&q->mu, NULL);
  /* Deadlines on the monotonic clock: immune to clock changes. */
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&q->work, &ca);
  pthread_cond_init(&q->idle, &ca);
  pthread_condattr_destroy(&ca);
  for (i = 0; i < workers; i++) {
    if (pthread_create(&q->threads[i], NULL, worker, q) != 0)
      break;
    q->nthreads++;
  }
  *out = q;
  if (q->nthreads == 0) {
    sim_wq_stop(q);
    *out = NULL;
    return -EAGAIN;
  }
  return 0;
}

void sim_wq_stop(sim_wq *q)
{
  unsigned i;

  if (q == NULL)
    return;
  pthread_mutex_lock(&q->mu);
  atomic_store(&q->stop, 1);
  pthread_cond_broadcast(&q->work);
  pthread_cond_broadcast(&q->idle);
  pthread_mutex_unlock(&q->mu);
  for (i = 0; i < q->nthreads; i++)
    pthread_join(q->threads[i], NULL);
  while (q->n > 0)
    job_free(heap_pop(q));
  free(q->heap);
  free(q->threads);
  free(q->flying);
  pthread_cond_destroy(&q->work);
  pthread_cond_destroy(&q->idle);
  pthread_mutex_destroy(&q->mu);
  free(q);
}

void sim_wq_push(sim_wq *q, const sim_provider *prov, void *state,
                 sim_post *posts, size_t n, unsigned delay_ms,
                 unsigned gap_ms)
{
  wq_job *j = calloc(1, sizeof(*j));
  size_t i;

  if (j == NULL || q == NULL) {
    free(j);
    goto drop;
  }
  j->due = sim_mono_ms() + delay_ms + (n > 0 ? posts[0].wait_ms : 0);
  j->prov = prov;
  j->state = state;
  j->posts = posts;
  j->n = n;
  j->gap_ms = gap_ms;
  pthread_mutex_lock(&q->mu);
  if (atomic_load(&q->stop) || heap_push(q, j) != 0) {
    pthread_mutex_unlock(&q->mu);
    job_free(j);
    return;
  }
  q->pending += n;
  pthread_cond_signal(&q->work);
  pthread_mutex_unlock(&q->mu);
  return;
drop:
  for (i = 0; i < n; i++)
    sim_post_free(&posts[i]);
  free(posts);
}

void sim_wq_cancel(sim_wq *q, const sim_provider *prov, const char *prefix)
{
  size_t i, n, pl = strlen(prefix);
  wq_job **keep;

  if (q == NULL)
    return;
  pthread_mutex_lock(&q->mu);
  keep = malloc((q->n ? q->n : 1) * sizeof(*keep));
  if (keep == NULL) {
    pthread_mutex_unlock(&q->mu);
    return;
  }
  n = q->n;
  memcpy(keep, q->heap, n * sizeof(*keep));
  q->n = 0;
  /* Rebuild the heap from the jobs that stay. */
  for (i = 0; i < n; i++) {
    wq_job *j = keep[i];
    const char *tag = j->posts[j->idx].tag;
    if (j->prov == prov && tag != NULL && strncmp(tag, prefix, pl) == 0) {
      q->pending -= j->n - j->idx;
      job_free(j);
    } else {
      (void)heap_push(q, j);   /* cannot fail: capacity is unchanged */
    }
  }
  free(keep);
  /* A job being posted (by a provider's response hook, say) loses the
   * rest of its posts once the current one is done. */
  for (i = 0; i < q->inflight; i++) {
    wq_job *j = q->flying[i];
    const char *tag = j->idx + 1 < j->n ? j->posts[j->idx + 1].tag : NULL;
    if (j->prov == prov && tag != NULL && strncmp(tag, prefix, pl) == 0)
      j->canceled = 1;
  }
  pthread_cond_broadcast(&q->idle);
  pthread_mutex_unlock(&q->mu);
}

int sim_wq_wait(sim_wq *q, int timeout_ms)
{
  uint64_t end = sim_mono_ms() + (uint64_t)(timeout_ms < 0 ? 0 : timeout_ms);
  struct timespec ts;
  int rc = 0;

  pthread_mutex_lock(&q->mu);
  while ((q->n > 0 || q->inflight > 0) && !atomic_load(&q->stop)) {
    if (timeout_ms < 0) {
      pthread_cond_wait(&q->idle, &q->mu);
      continue;
    }
    if (sim_mono_ms() >= end) {
      rc = -ETIMEDOUT;
      break;
    }
    deadline_at(&ts, end);
    pthread_cond_timedwait(&q->idle, &q->mu, &ts);
  }
  pthread_mutex_unlock(&q->mu);
  return rc;
}

void sim_wq_stats(sim_wq *q, vc_sim_webhook_stats *out)
{
  memset(out, 0, sizeof(*out));
  if (q == NULL)
    return;
  pthread_mutex_lock(&q->mu);
  out->posted = q->posted;
  out->failed = q->failed;
  out->pending = q->pending;
  pthread_mutex_unlock(&q->mu);
}
