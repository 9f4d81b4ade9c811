/*
 * Helpers shared by the simulator tests (test_sim.c, test_sim_server.c):
 * a libcurl client, JSON checks, a plain-socket webhook receiver, and
 * signatures recomputed with mbedTLS. Each program uses a subset, so
 * the functions are static inline.
 */
#ifndef VC_TEST_SIM_UTIL_H
#define VC_TEST_SIM_UTIL_H

#include "harness.h"
#include "sim.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <mbedtls/base64.h>
#include <mbedtls/md.h>
#include <mbedtls/pk.h>

#define SID VC_SIM_TWILIO_ACCOUNT_SID
#define TOKEN VC_SIM_TWILIO_AUTH_TOKEN
#define SGKEY VC_SIM_SENDGRID_API_KEY
#define TW_PATH "/2010-04-01/Accounts/" SID "/Messages.json"

/* ---- time ----------------------------------------------------------- */

static inline double now_s(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline void sleep_ms(int ms)
{
  struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

  nanosleep(&ts, NULL);
}

/* ---- a libcurl client ------------------------------------------------ */

typedef struct resp {
  CURLcode cc;
  long status;
  char *body;
  size_t len;
  char hdr[16384];
  size_t hlen;
  int writes;              /* body callbacks: chunks as they arrived */
  double elapsed;
  long connects;           /* new connections this request opened */
} resp;

static inline size_t on_body(char *p, size_t size, size_t n, void *arg)
{
  resp *r = arg;
  size_t k = size * n;
  char *nb = realloc(r->body, r->len + k + 1);

  if (nb == NULL)
    return 0;
  r->body = nb;
  memcpy(r->body + r->len, p, k);
  r->len += k;
  r->body[r->len] = '\0';
  r->writes++;
  return k;
}

static inline size_t on_header(char *p, size_t size, size_t n, void *arg)
{
  resp *r = arg;
  size_t k = size * n;

  if (r->hlen + k < sizeof(r->hdr)) {
    memcpy(r->hdr + r->hlen, p, k);
    r->hlen += k;
    r->hdr[r->hlen] = '\0';
  }
  return k;
}

static inline void resp_free(resp *r)
{
  free(r->body);
  memset(r, 0, sizeof(*r));
}

/* A response header's value ("" when absent), in a static slot. */
static inline const char *rhdr(const resp *r, const char *name)
{
  static _Thread_local char slots[4][1024];
  static _Thread_local int next;
  char *out = slots[next++ % 4];
  const char *p = r->hdr;
  size_t nl = strlen(name);

  out[0] = '\0';
  while ((p = strstr(p, "\r\n")) != NULL) {
    p += 2;
    if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
      const char *v = p + nl + 1, *e = strstr(v, "\r\n");
      while (*v == ' ')
        v++;
      snprintf(out, 1024, "%.*s", (int)(e ? e - v : (long)strlen(v)), v);
    }
  }
  return out;
}

typedef struct req_opts {
  const char *userpwd;     /* Basic credentials */
  const char *extra[4];    /* extra header lines */
  long timeout_ms;
} req_opts;

static inline void http_on(CURL *c, resp *r, const char *method, const char *url,
                    const char *ctype, const char *body, size_t len,
                    const req_opts *o)
{
  struct curl_slist *h = NULL;
  char ct[256];
  double t0 = now_s();
  int i;

  memset(r, 0, sizeof(*r));
  if (ctype != NULL) {
    snprintf(ct, sizeof(ct), "Content-Type: %s", ctype);
    h = curl_slist_append(h, ct);
  }
  for (i = 0; o && i < 4 && o->extra[i]; i++)
    h = curl_slist_append(h, o->extra[i]);
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
  if (body != NULL) {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
  } else {
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
  }
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS,
                   o && o->timeout_ms ? o->timeout_ms : 10000L);
  if (o && o->userpwd) {
    curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
    curl_easy_setopt(c, CURLOPT_USERPWD, o->userpwd);
  } else {
    curl_easy_setopt(c, CURLOPT_USERPWD, NULL);
  }
  r->cc = curl_easy_perform(c);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
  curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &r->connects);
  r->elapsed = now_s() - t0;
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
  curl_slist_free_all(h);
}

static inline void http(resp *r, const char *method, const char *url,
                 const char *ctype, const char *body, size_t len,
                 const req_opts *o)
{
  CURL *c = curl_easy_init();

  http_on(c, r, method, url, ctype, body, len, o);
  curl_easy_cleanup(c);
}

static inline char *url_of(vc_sim *s, const char *path)
{
  static _Thread_local char slots[4][512];
  static _Thread_local int next;
  char *u = slots[next++ % 4];

  snprintf(u, 512, "%s%s", vc_sim_base_url(s), path);
  return u;
}

/* POST a form to the Twilio Messages endpoint as SID:TOKEN. */
static inline void tw_post(resp *r, vc_sim *s, const char *form)
{
  req_opts o = { SID ":" TOKEN, { NULL }, 0 };

  http(r, "POST", url_of(s, TW_PATH), "application/x-www-form-urlencoded",
       form, strlen(form), &o);
}

static inline void sg_post(resp *r, vc_sim *s, const char *json)
{
  req_opts o = { NULL, { "Authorization: Bearer " SGKEY }, 0 };

  http(r, "POST", url_of(s, "/v3/mail/send"), "application/json", json,
       strlen(json), &o);
}

static inline vc_sim *start(void)
{
  vc_sim *s = NULL;

  CHECK_OK(vc_sim_start(&s, NULL));
  CHECK(vc_sim_port(s) > 0);
  return s;
}

/* ---- JSON checks ------------------------------------------------------ */

static inline cJSON *json(const resp *r)
{
  cJSON *j = r->body ? cJSON_Parse(r->body) : NULL;

  if (j == NULL)
    fprintf(stderr, "  not JSON: %s\n", r->body ? r->body : "(empty)");
  return j;
}

static inline const char *jstr(const cJSON *o, const char *k)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

  return cJSON_IsString(v) ? v->valuestring : NULL;
}

static inline double jnum(const cJSON *o, const char *k)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

  return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

/* A Twilio error: status, code, message, more_info. */
static inline void check_twilio_error(const resp *r, long status, int code,
                               const char *msg)
{
  char more[128];
  cJSON *j;

  if (r->status != status)
    fprintf(stderr, "  got %ld: %s\n", r->status, r->body ? r->body : "");
  CHECK(r->cc == CURLE_OK);
  CHECK(r->status == status);
  CHECK(strncmp(rhdr(r, "Content-Type"), "application/json", 16) == 0);
  j = json(r);
  CHECK(j != NULL);
  snprintf(more, sizeof(more), "https://www.twilio.com/docs/errors/%d", code);
  CHECK(jnum(j, "code") == code);
  CHECK(jnum(j, "status") == status);
  CHECK_STR(jstr(j, "more_info"), more);
  if (msg != NULL)
    CHECK_STR(jstr(j, "message"), msg);
  cJSON_Delete(j);
}

/* A SendGrid error list: the i-th error's message and field. */
static inline void check_sg_error(const resp *r, int i, const char *msg,
                           const char *field)
{
  cJSON *j = json(r), *errs, *e;

  CHECK(j != NULL);
  errs = cJSON_GetObjectItemCaseSensitive(j, "errors");
  CHECK(cJSON_IsArray(errs));
  e = cJSON_GetArrayItem(errs, i);
  if (e == NULL || jstr(e, "message") == NULL ||
      strcmp(jstr(e, "message"), msg) != 0)
    fprintf(stderr, "  errors: %s\n", r->body);
  CHECK(e != NULL);
  CHECK_STR(jstr(e, "message"), msg);
  if (field == NULL)
    CHECK(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(e, "field")));
  else
    CHECK_STR(jstr(e, "field"), field);
  cJSON_Delete(j);
}

static inline int sg_error_count(const resp *r)
{
  cJSON *j = json(r);
  int n = j ? cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j,
                                                                   "errors"))
            : -1;

  cJSON_Delete(j);
  return n;
}

/* ---- a webhook receiver: a plain socket server ------------------------ */

#define RX_MAX 512
#define RX_CONNS 16

typedef struct rx_req {
  char *path;
  char *headers;
  char *body;
  size_t len;
  double at;
} rx_req;

typedef struct receiver {
  int lfd;
  unsigned short port;
  pthread_t th;
  atomic_int stop;
  atomic_int answer;       /* status to answer with */
  pthread_mutex_t mu;
  pthread_cond_t cond;
  rx_req req[RX_MAX];
  size_t n;
  /* Answers with a body for some paths (rx_route), under mu. */
  struct { char path[256], ctype[64], body[4096]; } route[8];
  size_t nroute;
} receiver;

/* Answer requests for `path` (query ignored) with this body. */
static inline void rx_route(receiver *rv, const char *path, const char *ctype,
                            const char *body)
{
  pthread_mutex_lock(&rv->mu);
  if (rv->nroute < 8) {
    snprintf(rv->route[rv->nroute].path, 256, "%s", path);
    snprintf(rv->route[rv->nroute].ctype, 64, "%s", ctype);
    snprintf(rv->route[rv->nroute].body, 4096, "%s", body);
    rv->nroute++;
  }
  pthread_mutex_unlock(&rv->mu);
}

typedef struct rx_conn {
  int fd;
  char *buf;
  size_t len;
} rx_conn;

/* One complete request in c->buf: store it, answer, consume it. */
static inline int rx_take(receiver *rv, rx_conn *c)
{
  char *end, *cl, *sp;
  size_t hl, bl = 0, total;
  char ans[4400];
  rx_req q;
  size_t i;
  int n;

  if (c->buf == NULL)
    return 0;
  end = strstr(c->buf, "\r\n\r\n");
  if (end == NULL)
    return 0;
  hl = (size_t)(end - c->buf) + 4;
  cl = strcasestr(c->buf, "\r\nContent-Length:");
  if (cl != NULL && cl < end)
    bl = strtoul(cl + 17, NULL, 10);
  total = hl + bl;
  if (c->len < total)
    return 0;
  memset(&q, 0, sizeof(q));
  sp = strchr(c->buf, ' ');
  q.path = sp ? strndup(sp + 1, strcspn(sp + 1, " ")) : strdup("");
  q.headers = strndup(c->buf, hl);
  q.body = strndup(c->buf + hl, bl);
  q.len = bl;
  q.at = now_s();
  pthread_mutex_lock(&rv->mu);
  n = snprintf(ans, sizeof(ans), "HTTP/1.1 %d X\r\nContent-Length: 0\r\n\r\n",
               atomic_load(&rv->answer));
  for (i = 0; i < rv->nroute; i++)
    if (strncmp(q.path, rv->route[i].path, strcspn(q.path, "?")) == 0 &&
        rv->route[i].path[strcspn(q.path, "?")] == '\0')
      n = snprintf(ans, sizeof(ans), "HTTP/1.1 200 OK\r\nContent-Type: %s\r\n"
                   "Content-Length: %zu\r\n\r\n%s", rv->route[i].ctype,
                   strlen(rv->route[i].body), rv->route[i].body);
  if (rv->n < RX_MAX)
    rv->req[rv->n++] = q;
  else
    free(q.path), free(q.headers), free(q.body);
  pthread_cond_broadcast(&rv->cond);
  pthread_mutex_unlock(&rv->mu);
  if (write(c->fd, ans, (size_t)n) != n)
    return -1;
  memmove(c->buf, c->buf + total, c->len - total + 1);
  c->len -= total;
  return 1;
}

static inline void *rx_main(void *arg)
{
  receiver *rv = arg;
  rx_conn conns[RX_CONNS];
  struct pollfd pf[RX_CONNS + 1];
  int i, nc = 0;

  memset(conns, 0, sizeof(conns));
  while (!atomic_load(&rv->stop)) {
    pf[0].fd = rv->lfd;
    pf[0].events = POLLIN;
    for (i = 0; i < nc; i++) {
      pf[i + 1].fd = conns[i].fd;
      pf[i + 1].events = POLLIN;
    }
    if (poll(pf, (nfds_t)nc + 1, 50) <= 0)
      continue;
    if ((pf[0].revents & POLLIN) && nc < RX_CONNS) {
      int fd = accept(rv->lfd, NULL, NULL);
      if (fd >= 0)
        conns[nc++] = (rx_conn){ fd, NULL, 0 };
    }
    for (i = 0; i < nc; i++) {
      char tmp[65536], *nb;
      ssize_t k;
      if (!(pf[i + 1].revents & (POLLIN | POLLHUP | POLLERR)) ||
          pf[i + 1].fd != conns[i].fd)
        continue;
      k = read(conns[i].fd, tmp, sizeof(tmp));
      if (k <= 0) {
        close(conns[i].fd);
        free(conns[i].buf);
        conns[i] = conns[--nc];
        i--;
        continue;
      }
      nb = realloc(conns[i].buf, conns[i].len + (size_t)k + 1);
      if (nb == NULL)
        continue;
      conns[i].buf = nb;
      memcpy(nb + conns[i].len, tmp, (size_t)k);
      conns[i].len += (size_t)k;
      nb[conns[i].len] = '\0';
      while (rx_take(rv, &conns[i]) > 0)
        ;
    }
  }
  for (i = 0; i < nc; i++) {
    close(conns[i].fd);
    free(conns[i].buf);
  }
  return NULL;
}

static inline receiver *rx_start(void)
{
  receiver *rv = calloc(1, sizeof(*rv));
  struct sockaddr_in a;
  socklen_t al = sizeof(a);
  int one = 1;

  CHECK(rv != NULL);
  pthread_mutex_init(&rv->mu, NULL);
  pthread_cond_init(&rv->cond, NULL);
  atomic_init(&rv->stop, 0);
  atomic_init(&rv->answer, 200);
  rv->lfd = socket(AF_INET, SOCK_STREAM, 0);
  CHECK(rv->lfd >= 0);
  setsockopt(rv->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  CHECK(bind(rv->lfd, (struct sockaddr *)&a, sizeof(a)) == 0);
  CHECK(listen(rv->lfd, 64) == 0);
  CHECK(getsockname(rv->lfd, (struct sockaddr *)&a, &al) == 0);
  rv->port = ntohs(a.sin_port);
  CHECK(pthread_create(&rv->th, NULL, rx_main, rv) == 0);
  return rv;
}

static inline void rx_stop(receiver *rv)
{
  size_t i;

  if (rv == NULL)
    return;
  atomic_store(&rv->stop, 1);
  pthread_join(rv->th, NULL);
  close(rv->lfd);
  for (i = 0; i < rv->n; i++) {
    free(rv->req[i].path);
    free(rv->req[i].headers);
    free(rv->req[i].body);
  }
  pthread_cond_destroy(&rv->cond);
  pthread_mutex_destroy(&rv->mu);
  free(rv);
}

/* Wait until at least n requests arrived; returns how many did. */
static inline size_t rx_wait(receiver *rv, size_t n, int timeout_ms)
{
  double end = now_s() + timeout_ms / 1000.0;
  size_t got;

  pthread_mutex_lock(&rv->mu);
  while (rv->n < n && now_s() < end) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += 20 * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
      ts.tv_sec++;
      ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&rv->cond, &rv->mu, &ts);
  }
  got = rv->n;
  pthread_mutex_unlock(&rv->mu);
  return got;
}

/* The i-th received request (stable once received). */
static inline const rx_req *rx_get(receiver *rv, size_t i)
{
  const rx_req *q;

  pthread_mutex_lock(&rv->mu);
  q = i < rv->n ? &rv->req[i] : NULL;
  pthread_mutex_unlock(&rv->mu);
  return q;
}

static inline const char *rx_hdr(const rx_req *q, const char *name)
{
  static _Thread_local char slots[4][1024];
  static _Thread_local int next;
  char *out = slots[next++ % 4];
  const char *p = q->headers;
  size_t nl = strlen(name);

  out[0] = '\0';
  while ((p = strstr(p, "\r\n")) != NULL) {
    p += 2;
    if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
      const char *v = p + nl + 1, *e = strstr(v, "\r\n");
      while (*v == ' ')
        v++;
      snprintf(out, 1024, "%.*s", (int)(e ? e - v : (long)strlen(v)), v);
      break;
    }
  }
  return out;
}

/* ---- signature checks, computed here independently -------------------- */

typedef struct kv {
  char *k, *v;
} kv;

static inline int kv_cmp(const void *a, const void *b)
{
  const kv *x = a, *y = b;
  int c = strcmp(x->k, y->k);

  return c ? c : strcmp(x->v, y->v);
}

static inline char *unform(const char *s, size_t n)
{
  char *o = malloc(n + 1), hex[3] = { 0 };
  size_t i, j = 0;

  for (i = 0; i < n; i++) {
    if (s[i] == '+') {
      o[j++] = ' ';
    } else if (s[i] == '%' && i + 2 < n) {
      hex[0] = s[i + 1];
      hex[1] = s[i + 2];
      o[j++] = (char)strtol(hex, NULL, 16);
      i += 2;
    } else {
      o[j++] = s[i];
    }
  }
  o[j] = '\0';
  return o;
}

/* Parse a form body; returns the pair count (at most max). */
static inline size_t parse_form(const char *body, kv *out, size_t max)
{
  const char *p = body;
  size_t n = 0;

  while (*p && n < max) {
    size_t len = strcspn(p, "&");
    const char *eq = memchr(p, '=', len);
    out[n].k = unform(p, eq ? (size_t)(eq - p) : len);
    out[n].v = eq ? unform(eq + 1, len - (size_t)(eq - p) - 1) : strdup("");
    n++;
    p += len + (p[len] == '&');
  }
  return n;
}

static inline void free_form(kv *f, size_t n)
{
  while (n--) {
    free(f[n].k);
    free(f[n].v);
  }
}

static inline const char *form_val(kv *f, size_t n, const char *k)
{
  size_t i;

  for (i = 0; i < n; i++)
    if (strcmp(f[i].k, k) == 0)
      return f[i].v;
  return NULL;
}

/* base64(HMAC-SHA1(token, url + sorted name+value pairs)). */
static inline void twilio_expected(const char *token, const char *url,
                            const char *body, char out[64])
{
  kv f[32];
  size_t n = parse_form(body, f, 32), i, total = strlen(url) + 1, olen = 0;
  unsigned char mac[20];
  char *s;

  qsort(f, n, sizeof(kv), kv_cmp);
  for (i = 0; i < n; i++)
    total += strlen(f[i].k) + strlen(f[i].v);
  s = malloc(total);
  strcpy(s, url);
  for (i = 0; i < n; i++) {
    strcat(s, f[i].k);
    strcat(s, f[i].v);
  }
  mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA1),
                  (const unsigned char *)token, strlen(token),
                  (const unsigned char *)s, strlen(s), mac);
  mbedtls_base64_encode((unsigned char *)out, 64, &olen, mac, sizeof(mac));
  out[olen] = '\0';
  free(s);
  free_form(f, n);
}

/* ECDSA P-256 over timestamp || body with the published key. */
static inline int sendgrid_verify(const char *pub_b64, const char *ts,
                           const char *body, size_t len, const char *sig64)
{
  unsigned char der[256], sig[160], hash[32];
  size_t dlen = 0, slen = 0;
  mbedtls_md_context_t md;
  mbedtls_pk_context pk;
  int rc;

  if (mbedtls_base64_decode(der, sizeof(der), &dlen,
                            (const unsigned char *)pub_b64,
                            strlen(pub_b64)) != 0 ||
      mbedtls_base64_decode(sig, sizeof(sig), &slen,
                            (const unsigned char *)sig64,
                            strlen(sig64)) != 0)
    return -1;
  mbedtls_md_init(&md);
  mbedtls_md_setup(&md, mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), 0);
  mbedtls_md_starts(&md);
  mbedtls_md_update(&md, (const unsigned char *)ts, strlen(ts));
  mbedtls_md_update(&md, (const unsigned char *)body, len);
  mbedtls_md_finish(&md, hash);
  mbedtls_md_free(&md);
  mbedtls_pk_init(&pk);
  rc = mbedtls_pk_parse_public_key(&pk, der, dlen);
  if (rc == 0)
    rc = mbedtls_pk_verify(&pk, MBEDTLS_MD_SHA256, hash, sizeof(hash), sig,
                           slen);
  mbedtls_pk_free(&pk);
  return rc;
}

static inline void check_twilio_signed(const rx_req *q, const char *url)
{
  char want[64];

  twilio_expected(TOKEN, url, q->body, want);
  CHECK_STR(rx_hdr(q, "X-Twilio-Signature"), want);
  CHECK(strncmp(rx_hdr(q, "Content-Type"),
                "application/x-www-form-urlencoded", 33) == 0);
}

/* A valid Twilio form and SendGrid mail, for tests to vary. */
static const char good_form[] =
  "To=%2B14155550100&From=%2B15005550006&Body=Hello+from+vyomcomm";

static const char good_mail[] =
  "{\"personalizations\":[{\"to\":[{\"email\":\"asha@example.com\","
  "\"name\":\"Asha\"}],\"custom_args\":{\"p_arg\":\"p1\"}}],"
  "\"from\":{\"email\":\"billing@erp.example\",\"name\":\"ERP\"},"
  "\"subject\":\"Invoice 42\",\"content\":[{\"type\":\"text/plain\","
  "\"value\":\"Your invoice\"},{\"type\":\"text/html\",\"value\":"
  "\"<p>Your invoice</p>\"}],\"custom_args\":{\"vc_message_id\":"
  "\"01HZX0000000000000000000AA\"},\"categories\":[\"invoice\"]}";

static inline char *big_mail(size_t bytes)
{
  const char *head = "{\"personalizations\":[{\"to\":[{\"email\":"
    "\"c@d.example\"}]}],\"from\":{\"email\":\"a@b.example\"},\"subject\":"
    "\"s\",\"content\":[{\"type\":\"text/plain\",\"value\":\"v\"}],"
    "\"attachments\":[{\"filename\":\"big.bin\",\"content\":\"";
  const char *tail = "\"}]}";
  size_t hl = strlen(head), tl = strlen(tail);
  char *m = malloc(hl + bytes + tl + 1);

  memcpy(m, head, hl);
  memset(m + hl, 'Q', bytes);
  memcpy(m + hl + bytes, tail, tl + 1);
  return m;
}

#endif
