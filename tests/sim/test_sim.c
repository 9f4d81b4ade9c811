/*
 * The provider simulator, driven over loopback with plain libcurl easy
 * requests: every rejection the real providers make (with their error
 * bodies), realistic successes, each injected fault as a client sees it,
 * signed webhooks checked by recomputing the signatures with mbedTLS,
 * delay, reordering and duplication, records, counts and the control API.
 * Threaded (libre thread, webhook workers, a receiver): runs under TSan.
 */
#define _GNU_SOURCE
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

static double now_s(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(int ms)
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

static size_t on_body(char *p, size_t size, size_t n, void *arg)
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

static size_t on_header(char *p, size_t size, size_t n, void *arg)
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

static void resp_free(resp *r)
{
  free(r->body);
  memset(r, 0, sizeof(*r));
}

/* A response header's value ("" when absent), in a static slot. */
static const char *rhdr(const resp *r, const char *name)
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

static void http_on(CURL *c, resp *r, const char *method, const char *url,
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

static void http(resp *r, const char *method, const char *url,
                 const char *ctype, const char *body, size_t len,
                 const req_opts *o)
{
  CURL *c = curl_easy_init();

  http_on(c, r, method, url, ctype, body, len, o);
  curl_easy_cleanup(c);
}

static char *url_of(vc_sim *s, const char *path)
{
  static _Thread_local char slots[4][512];
  static _Thread_local int next;
  char *u = slots[next++ % 4];

  snprintf(u, 512, "%s%s", vc_sim_base_url(s), path);
  return u;
}

/* POST a form to the Twilio Messages endpoint as SID:TOKEN. */
static void tw_post(resp *r, vc_sim *s, const char *form)
{
  req_opts o = { SID ":" TOKEN, { NULL }, 0 };

  http(r, "POST", url_of(s, TW_PATH), "application/x-www-form-urlencoded",
       form, strlen(form), &o);
}

static void sg_post(resp *r, vc_sim *s, const char *json)
{
  req_opts o = { NULL, { "Authorization: Bearer " SGKEY }, 0 };

  http(r, "POST", url_of(s, "/v3/mail/send"), "application/json", json,
       strlen(json), &o);
}

static vc_sim *start(void)
{
  vc_sim *s = NULL;

  CHECK_OK(vc_sim_start(&s, NULL));
  CHECK(vc_sim_port(s) > 0);
  return s;
}

/* ---- JSON checks ------------------------------------------------------ */

static cJSON *json(const resp *r)
{
  cJSON *j = r->body ? cJSON_Parse(r->body) : NULL;

  if (j == NULL)
    fprintf(stderr, "  not JSON: %s\n", r->body ? r->body : "(empty)");
  return j;
}

static const char *jstr(const cJSON *o, const char *k)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

  return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double jnum(const cJSON *o, const char *k)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

  return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

/* A Twilio error: status, code, message, more_info. */
static void check_twilio_error(const resp *r, long status, int code,
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
static void check_sg_error(const resp *r, int i, const char *msg,
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

static int sg_error_count(const resp *r)
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
} receiver;

typedef struct rx_conn {
  int fd;
  char *buf;
  size_t len;
} rx_conn;

/* One complete request in c->buf: store it, answer, consume it. */
static int rx_take(receiver *rv, rx_conn *c)
{
  char *end, *cl, *sp;
  size_t hl, bl = 0, total;
  char ans[128];
  rx_req q;
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
  if (rv->n < RX_MAX)
    rv->req[rv->n++] = q;
  else
    free(q.path), free(q.headers), free(q.body);
  pthread_cond_broadcast(&rv->cond);
  pthread_mutex_unlock(&rv->mu);
  n = snprintf(ans, sizeof(ans), "HTTP/1.1 %d X\r\nContent-Length: 0\r\n\r\n",
               atomic_load(&rv->answer));
  if (write(c->fd, ans, (size_t)n) != n)
    return -1;
  memmove(c->buf, c->buf + total, c->len - total + 1);
  c->len -= total;
  return 1;
}

static void *rx_main(void *arg)
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

static receiver *rx_start(void)
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

static void rx_stop(receiver *rv)
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
static size_t rx_wait(receiver *rv, size_t n, int timeout_ms)
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
static const rx_req *rx_get(receiver *rv, size_t i)
{
  const rx_req *q;

  pthread_mutex_lock(&rv->mu);
  q = i < rv->n ? &rv->req[i] : NULL;
  pthread_mutex_unlock(&rv->mu);
  return q;
}

static const char *rx_hdr(const rx_req *q, const char *name)
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

static int kv_cmp(const void *a, const void *b)
{
  const kv *x = a, *y = b;
  int c = strcmp(x->k, y->k);

  return c ? c : strcmp(x->v, y->v);
}

static char *unform(const char *s, size_t n)
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
static size_t parse_form(const char *body, kv *out, size_t max)
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

static void free_form(kv *f, size_t n)
{
  while (n--) {
    free(f[n].k);
    free(f[n].v);
  }
}

static const char *form_val(kv *f, size_t n, const char *k)
{
  size_t i;

  for (i = 0; i < n; i++)
    if (strcmp(f[i].k, k) == 0)
      return f[i].v;
  return NULL;
}

/* base64(HMAC-SHA1(token, url + sorted name+value pairs)). */
static void twilio_expected(const char *token, const char *url,
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
static int sendgrid_verify(const char *pub_b64, const char *ts,
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

static void check_twilio_signed(const rx_req *q, const char *url)
{
  char want[64];

  twilio_expected(TOKEN, url, q->body, want);
  CHECK_STR(rx_hdr(q, "X-Twilio-Signature"), want);
  CHECK(strncmp(rx_hdr(q, "Content-Type"),
                "application/x-www-form-urlencoded", 33) == 0);
}

/* ---- Twilio: rejections ---------------------------------------------- */

static const char *good_form =
  "To=%2B14155550100&From=%2B15005550006&Body=Hello+from+vyomcomm";

static void test_twilio__auth_missing(void)
{
  vc_sim *s = start();
  resp r;

  http(&r, "POST", url_of(s, TW_PATH), "application/x-www-form-urlencoded",
       good_form, strlen(good_form), NULL);
  check_twilio_error(&r, 401, 20003,
                     "Authentication Error - No credentials provided");
  CHECK(strstr(rhdr(&r, "WWW-Authenticate"), "Basic") != NULL);
  resp_free(&r);
  CHECK(vc_sim_accepted_count(s, "twilio") == 0);
  vc_sim_stop(s);
}

static void test_twilio__auth_wrong(void)
{
  vc_sim *s = start();
  req_opts bad = { SID ":wrong-token", { NULL }, 0 };
  req_opts other = { "AC00000000000000000000000000000000:" TOKEN, { NULL },
                     0 };
  resp r;

  http(&r, "POST", url_of(s, TW_PATH), "application/x-www-form-urlencoded",
       good_form, strlen(good_form), &bad);
  check_twilio_error(&r, 401, 20003, "Authenticate");
  resp_free(&r);
  /* Valid credentials of another account on this account's path. */
  http(&r, "POST", url_of(s, TW_PATH), "application/x-www-form-urlencoded",
       good_form, strlen(good_form), &other);
  check_twilio_error(&r, 401, 20003, "Authenticate");
  resp_free(&r);
  /* A bearer token is not Basic auth. */
  bad.userpwd = NULL;
  bad.extra[0] = "Authorization: Bearer " TOKEN;
  http(&r, "POST", url_of(s, TW_PATH), "application/x-www-form-urlencoded",
       good_form, strlen(good_form), &bad);
  check_twilio_error(&r, 401, 20003, "Authenticate");
  resp_free(&r);
  vc_sim_stop(s);
}

static void test_twilio__content_type(void)
{
  vc_sim *s = start();
  req_opts o = { SID ":" TOKEN, { NULL }, 0 };
  const char *js = "{\"To\":\"+14155550100\",\"From\":\"+15005550006\","
                   "\"Body\":\"hi\"}";
  resp r;

  /* Twilio reads form bodies only: a JSON body has no To. */
  http(&r, "POST", url_of(s, TW_PATH), "application/json", js, strlen(js),
       &o);
  check_twilio_error(&r, 400, 21604, "A 'To' phone number is required.");
  resp_free(&r);
  CHECK(vc_sim_accepted_count(s, NULL) == 0);
  vc_sim_stop(s);
}

static void test_twilio__required_params(void)
{
  vc_sim *s = start();
  resp r;

  tw_post(&r, s, "From=%2B15005550006&Body=hi");
  check_twilio_error(&r, 400, 21604, "A 'To' phone number is required.");
  resp_free(&r);
  tw_post(&r, s, "To=&From=%2B15005550006&Body=hi");
  check_twilio_error(&r, 400, 21604, NULL);
  resp_free(&r);
  tw_post(&r, s, "To=%2B14155550100&Body=hi");
  check_twilio_error(&r, 400, 21603, "A 'From' phone number is required.");
  resp_free(&r);
  tw_post(&r, s, "To=%2B14155550100&From=%2B15005550006");
  check_twilio_error(&r, 400, 21619,
                     "A text message body or media URL must be specified.");
  resp_free(&r);
  tw_post(&r, s, "To=%2B14155550100&From=%2B15005550006&Body=");
  check_twilio_error(&r, 400, 21619, NULL);
  resp_free(&r);
  CHECK(vc_sim_accepted_count(s, NULL) == 0);
  vc_sim_stop(s);
}

static void test_twilio__invalid_to(void)
{
  static const char *const bad[] = {
    "14155550100", "%2B0123456", "%2B1", "%2B1415555010012345",
    "%2B1415-555-0100", "whatsapp%3A14155550100", "alice" };
  vc_sim *s = start();
  char form[256], msg[128];
  size_t i;
  resp r;

  for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    snprintf(form, sizeof(form), "To=%s&From=%%2B15005550006&Body=hi",
             bad[i]);
    tw_post(&r, s, form);
    check_twilio_error(&r, 400, 21211, NULL);
    resp_free(&r);
  }
  tw_post(&r, s, "To=12345&From=%2B15005550006&Body=hi");
  snprintf(msg, sizeof(msg),
           "The 'To' number 12345 is not a valid phone number.");
  check_twilio_error(&r, 400, 21211, msg);
  resp_free(&r);
  /* A channel address with an E.164 number is fine. */
  tw_post(&r, s, "To=whatsapp%3A%2B14155550100&From=whatsapp%3A%2B15005550006"
          "&Body=hi");
  CHECK(r.status == 201);
  resp_free(&r);
  vc_sim_stop(s);
}

static void test_twilio__invalid_from(void)
{
  vc_sim *s = start();
  resp r;

  tw_post(&r, s, "To=%2B14155550100&From=not+a+sender!&Body=hi");
  check_twilio_error(&r, 400, 21212, "The 'From' number not a sender! is "
                     "not a valid phone number, shortcode, or alphanumeric "
                     "sender ID.");
  resp_free(&r);
  tw_post(&r, s, "To=%2B14155550100&From=AlphanumericTooLong&Body=hi");
  check_twilio_error(&r, 400, 21212, NULL);
  resp_free(&r);
  /* Short codes and alphanumeric sender ids are senders. */
  tw_post(&r, s, "To=%2B14155550100&From=12345&Body=hi");
  CHECK(r.status == 201);
  resp_free(&r);
  tw_post(&r, s, "To=%2B14155550100&From=VyomERP&Body=hi");
  CHECK(r.status == 201);
  resp_free(&r);
  vc_sim_stop(s);
}

static void test_twilio__body_too_long(void)
{
  vc_sim *s = start();
  char *form = malloc(16000);
  size_t n;
  resp r;

  n = (size_t)sprintf(form, "To=%%2B14155550100&From=%%2B15005550006&Body=");
  memset(form + n, 'a', 1600);
  form[n + 1600] = '\0';
  tw_post(&r, s, form);
  CHECK(r.status == 201);
  resp_free(&r);
  strcat(form, "a");
  tw_post(&r, s, form);
  check_twilio_error(&r, 400, 21617, "The concatenated message body "
                     "exceeds the 1600 character limit.");
  resp_free(&r);
  /* Characters, not bytes: 1600 two-byte characters are allowed. */
  form[n] = '\0';
  for (int i = 0; i < 1600; i++)
    strcat(form, "%C3%A9");
  tw_post(&r, s, form);
  CHECK(r.status == 201);
  resp_free(&r);
  free(form);
  vc_sim_stop(s);
}

static void test_twilio__not_found(void)
{
  vc_sim *s = start();
  req_opts o = { SID ":" TOKEN, { NULL }, 0 };
  resp r;

  http(&r, "POST", url_of(s, "/2010-04-01/Accounts/" SID "/Calls.json"),
       "application/x-www-form-urlencoded", "To=1", 4, &o);
  check_twilio_error(&r, 404, 20404, "The requested resource /2010-04-01/"
                     "Accounts/" SID "/Calls.json was not found");
  resp_free(&r);
  http(&r, "GET", url_of(s, "/nowhere"), NULL, NULL, 0, NULL);
  CHECK(r.status == 404);
  resp_free(&r);
  vc_sim_stop(s);
}

/* ---- Twilio: success -------------------------------------------------- */

static int is_hex(const char *s, size_t n)
{
  size_t i;

  for (i = 0; i < n; i++)
    if (!strchr("0123456789abcdef", s[i]))
      return 0;
  return s[n] == '\0';
}

static void test_twilio__send_ok(void)
{
  vc_sim *s = start();
  char uri[256];
  cJSON *j;
  resp r;
  int d, y, hh, mm, ss;
  char wd[4], mon[4], tz[6];

  tw_post(&r, s, good_form);
  CHECK(r.cc == CURLE_OK);
  CHECK(r.status == 201);
  CHECK(strncmp(rhdr(&r, "Twilio-Request-Id"), "RQ", 2) == 0);
  j = json(&r);
  CHECK(j != NULL);
  CHECK(strncmp(jstr(j, "sid"), "SM", 2) == 0);
  CHECK(strlen(jstr(j, "sid")) == 34 && is_hex(jstr(j, "sid") + 2, 32));
  CHECK_STR(jstr(j, "account_sid"), SID);
  CHECK_STR(jstr(j, "status"), "queued");
  CHECK_STR(jstr(j, "to"), "+14155550100");
  CHECK_STR(jstr(j, "from"), "+15005550006");
  CHECK_STR(jstr(j, "body"), "Hello from vyomcomm");
  CHECK_STR(jstr(j, "num_segments"), "1");
  CHECK_STR(jstr(j, "num_media"), "0");
  CHECK_STR(jstr(j, "direction"), "outbound-api");
  CHECK_STR(jstr(j, "api_version"), "2010-04-01");
  CHECK_STR(jstr(j, "price_unit"), "USD");
  CHECK(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j, "price")));
  CHECK(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j, "error_code")));
  CHECK(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j, "date_sent")));
  CHECK(cJSON_IsNull(
          cJSON_GetObjectItemCaseSensitive(j, "messaging_service_sid")));
  /* RFC 2822, e.g. "Thu, 24 Aug 2023 05:01:45 +0000". */
  CHECK(sscanf(jstr(j, "date_created"), "%3s, %d %3s %d %d:%d:%d %5s", wd,
               &d, mon, &y, &hh, &mm, &ss, tz) == 8);
  CHECK_STR(tz, "+0000");
  CHECK(y >= 2024);
  snprintf(uri, sizeof(uri), "/2010-04-01/Accounts/%s/Messages/%s.json", SID,
           jstr(j, "sid"));
  CHECK_STR(jstr(j, "uri"), uri);
  CHECK(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(j,
                                                        "subresource_uris")));
  CHECK(vc_sim_accepted_count(s, "twilio") == 1);
  CHECK(vc_sim_sent_count(s, "+14155550100") == 1);
  CHECK(vc_sim_sent_count(s, jstr(j, "sid")) == 1);
  cJSON_Delete(j);
  resp_free(&r);
  vc_sim_stop(s);
}

static void test_twilio__segments(void)
{
  vc_sim *s = start();
  char form[4096];
  size_t n;
  cJSON *j;
  resp r;

  /* 161 GSM-7 characters: two segments. */
  n = (size_t)sprintf(form, "To=%%2B14155550100&From=%%2B15005550006&Body=");
  memset(form + n, 'x', 161);
  form[n + 161] = '\0';
  tw_post(&r, s, form);
  j = json(&r);
  CHECK(j != NULL && r.status == 201);
  CHECK_STR(jstr(j, "num_segments"), "2");
  cJSON_Delete(j);
  resp_free(&r);
  /* 71 UCS-2 characters (the rupee sign): two segments. */
  form[n] = '\0';
  for (int i = 0; i < 71; i++)
    strcat(form, "%E2%82%B9");
  tw_post(&r, s, form);
  j = json(&r);
  CHECK(j != NULL && r.status == 201);
  CHECK_STR(jstr(j, "num_segments"), "2");
  cJSON_Delete(j);
  resp_free(&r);
  vc_sim_stop(s);
}

static void test_twilio__messaging_service_and_mms(void)
{
  vc_sim *s = start();
  cJSON *j;
  resp r;

  tw_post(&r, s, "To=%2B14155550100&MessagingServiceSid="
          "MG0123456789abcdef0123456789abcdef&Body=hi");
  j = json(&r);
  CHECK(j != NULL && r.status == 201);
  CHECK(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j, "from")));
  CHECK_STR(jstr(j, "messaging_service_sid"),
            "MG0123456789abcdef0123456789abcdef");
  CHECK_STR(jstr(j, "status"), "accepted");
  CHECK_STR(jstr(j, "num_segments"), "0");
  cJSON_Delete(j);
  resp_free(&r);
  /* Media without a body is a valid MMS. */
  tw_post(&r, s, "To=%2B14155550100&From=%2B15005550006&MediaUrl="
          "https%3A%2F%2Fexample.com%2Fa.png&MediaUrl=https%3A%2F%2F"
          "example.com%2Fb.png");
  j = json(&r);
  CHECK(j != NULL && r.status == 201);
  CHECK(strncmp(jstr(j, "sid"), "MM", 2) == 0);
  CHECK_STR(jstr(j, "num_media"), "2");
  CHECK_STR(jstr(j, "body"), "");
  cJSON_Delete(j);
  resp_free(&r);
  vc_sim_stop(s);
}

/* ---- SendGrid --------------------------------------------------------- */

static const char *good_mail =
  "{\"personalizations\":[{\"to\":[{\"email\":\"asha@example.com\","
  "\"name\":\"Asha\"}],\"custom_args\":{\"p_arg\":\"p1\"}}],"
  "\"from\":{\"email\":\"billing@erp.example\",\"name\":\"ERP\"},"
  "\"subject\":\"Invoice 42\",\"content\":[{\"type\":\"text/plain\","
  "\"value\":\"Your invoice\"},{\"type\":\"text/html\",\"value\":"
  "\"<p>Your invoice</p>\"}],\"custom_args\":{\"vc_message_id\":"
  "\"01HZX0000000000000000000AA\"},\"categories\":[\"invoice\"]}";

static void test_sendgrid__auth(void)
{
  vc_sim *s = start();
  req_opts none = { NULL, { NULL }, 0 };
  req_opts bad = { NULL, { "Authorization: Bearer SG.nope.nope" }, 0 };
  req_opts basic = { "apikey:" SGKEY, { NULL }, 0 };
  resp r;

  http(&r, "POST", url_of(s, "/v3/mail/send"), "application/json",
       good_mail, strlen(good_mail), &none);
  CHECK(r.status == 401);
  check_sg_error(&r, 0, "authorization required", NULL);
  resp_free(&r);
  http(&r, "POST", url_of(s, "/v3/mail/send"), "application/json",
       good_mail, strlen(good_mail), &bad);
  CHECK(r.status == 401);
  CHECK(r.body && strcmp(r.body, "{\"errors\":[{\"field\":null,\"message\":"
                         "\"The provided authorization grant is invalid, "
                         "expired, or revoked\"}]}") == 0);
  resp_free(&r);
  http(&r, "POST", url_of(s, "/v3/mail/send"), "application/json",
       good_mail, strlen(good_mail), &basic);
  CHECK(r.status == 401);
  resp_free(&r);
  CHECK(vc_sim_accepted_count(s, NULL) == 0);
  vc_sim_stop(s);
}

static void test_sendgrid__content_type_and_json(void)
{
  vc_sim *s = start();
  req_opts o = { NULL, { "Authorization: Bearer " SGKEY }, 0 };
  resp r;

  http(&r, "POST", url_of(s, "/v3/mail/send"), "text/plain", good_mail,
       strlen(good_mail), &o);
  CHECK(r.status == 400);
  check_sg_error(&r, 0, "Content-Type should be application/json.", NULL);
  resp_free(&r);
  sg_post(&r, s, "{\"personalizations\": [");
  CHECK(r.status == 400);
  check_sg_error(&r, 0, "Bad Request", NULL);
  resp_free(&r);
  sg_post(&r, s, "[1,2]");
  CHECK(r.status == 400);
  check_sg_error(&r, 0, "Bad Request", NULL);
  resp_free(&r);
  vc_sim_stop(s);
}

static void test_sendgrid__required_fields(void)
{
  vc_sim *s = start();
  resp r;

  sg_post(&r, s, "{\"from\":{\"email\":\"a@b.example\"},\"subject\":\"s\","
          "\"content\":[{\"type\":\"text/plain\",\"value\":\"v\"}]}");
  CHECK(r.status == 400);
  check_sg_error(&r, 0, "The personalizations field is required and must "
                 "have at least one personalization.", "personalizations");
  resp_free(&r);

  sg_post(&r, s, "{\"personalizations\":[{\"subject\":\"s\"}],\"from\":"
          "{\"email\":\"a@b.example\"},\"content\":[{\"type\":\"text/plain\","
          "\"value\":\"v\"}]}");
  CHECK(r.status == 400);
  check_sg_error(&r, 0, "The to array is required for all personalization "
                 "objects, and must have at least one email object with a "
                 "valid email address.", "personalizations.0.to");
  resp_free(&r);

  sg_post(&r, s, "{\"personalizations\":[{\"to\":[{\"email\":"
          "\"c@d.example\"}]}],\"subject\":\"s\",\"content\":[{\"type\":"
          "\"text/plain\",\"value\":\"v\"}]}");
  CHECK(r.status == 400);
  check_sg_error(&r, 0, "The from object must be provided for every email "
                 "send. It is an object that requires the email parameter, "
                 "but may also contain a name parameter.  e.g. {\"email\" : "
                 "\"example@example.com\"}  or {\"email\" : "
                 "\"example@example.com\", \"name\" : \"Example "
                 "Recipient\"}.", "from.email");
  resp_free(&r);

  sg_post(&r, s, "{\"personalizations\":[{\"to\":[{\"email\":"
          "\"c@d.example\"}]}],\"from\":{\"email\":\"a@b.example\"},"
          "\"content\":[{\"type\":\"text/plain\",\"value\":\"v\"}]}");
  CHECK(r.status == 400);
  check_sg_error(&r, 0, "The subject is required. You can get around this "
                 "requirement if you use a template with a subject defined "
                 "or if every personalization has a subject defined.",
                 "subject");
  resp_free(&r);

  sg_post(&r, s, "{\"personalizations\":[{\"to\":[{\"email\":"
          "\"c@d.example\"}]}],\"from\":{\"email\":\"a@b.example\"},"
          "\"subject\":\"s\"}");
  CHECK(r.status == 400);
  check_sg_error(&r, 0, "Unless a valid template_id is provided, the "
                 "content parameter is required. There must be at least "
                 "one defined content block. We typically suggest both "
                 "text/plain and text/html blocks are included, but only "
                 "one block is required.", "content");
  resp_free(&r);

  /* A template replaces content and subject. */
  sg_post(&r, s, "{\"personalizations\":[{\"to\":[{\"email\":"
          "\"c@d.example\"}],\"dynamic_template_data\":{\"n\":1}}],"
          "\"from\":{\"email\":\"a@b.example\"},\"template_id\":"
          "\"d-0123456789abcdef0123456789abcdef\"}");
  CHECK(r.status == 202);
  resp_free(&r);
  /* So do subjects in every personalization. */
  sg_post(&r, s, "{\"personalizations\":[{\"to\":[{\"email\":"
          "\"c@d.example\"}],\"subject\":\"p\"}],\"from\":{\"email\":"
          "\"a@b.example\"},\"content\":[{\"type\":\"text/plain\","
          "\"value\":\"v\"}]}");
  CHECK(r.status == 202);
  resp_free(&r);
  vc_sim_stop(s);
}

static void test_sendgrid__invalid_values(void)
{
  vc_sim *s = start();
  resp r;

  sg_post(&r, s, "{\"personalizations\":[{\"to\":[{\"email\":"
          "\"not-an-address\"}]}],\"from\":{\"email\":\"a@b.example\"},"
          "\"subject\":\"s\",\"content\":[{\"type\":\"text/plain\","
          "\"value\":\"v\"}]}");
  CHECK(r.status == 400);
  check_sg_error(&r, 0, "Does not contain a valid address.",
                 "personalizations.0.to.0.email");
  resp_free(&r);

  sg_post(&r, s, "{\"personalizations\":[{\"to\":[{\"email\":"
          "\"c@d.example\"}]}],\"from\":{\"email\":\"nobody\"},"
          "\"subject\":\"s\",\"content\":[{\"type\":\"text/plain\","
          "\"value\":\"v\"}]}");
  CHECK(r.status == 400);
  check_sg_error(&r, 0, "The from email does not contain a valid address.",
                 "from.email");
  resp_free(&r);

  sg_post(&r, s, "{\"personalizations\":[{\"to\":[{\"email\":"
          "\"c@d.example\"}]}],\"from\":{\"email\":\"a@b.example\"},"
          "\"subject\":\"s\",\"content\":[{\"type\":\"text/plain\","
          "\"value\":\"\"}]}");
  CHECK(r.status == 400);
  check_sg_error(&r, 0, "The content value must be a string at least one "
                 "character in length.", "content.0.value");
  resp_free(&r);

  sg_post(&r, s, "{\"personalizations\":[{\"to\":[{\"email\":"
          "\"c@d.example\"}]}],\"from\":{\"email\":\"a@b.example\"},"
          "\"subject\":\"s\",\"content\":[{\"type\":\"text/html\","
          "\"value\":\"<p>v</p>\"},{\"type\":\"text/plain\",\"value\":"
          "\"v\"}]}");
  CHECK(r.status == 400);
  check_sg_error(&r, 0, "If present, text/plain content must be first, "
                 "followed by text/html, followed by any other content.",
                 "content.1.type");
  resp_free(&r);

  sg_post(&r, s, "{\"personalizations\":[{\"to\":[{\"email\":"
          "\"c@d.example\"}],\"cc\":[{\"email\":\"C@d.example\"}]}],"
          "\"from\":{\"email\":\"a@b.example\"},\"subject\":\"s\","
          "\"content\":[{\"type\":\"text/plain\",\"value\":\"v\"}]}");
  CHECK(r.status == 400);
  check_sg_error(&r, 0, "Each email address in the personalization block "
                 "should be unique between to, cc, and bcc. We found the "
                 "first duplicate instance of [C@d.example] in the "
                 "personalizations.0.cc field.", "personalizations.0.cc");
  resp_free(&r);
  vc_sim_stop(s);
}

static void test_sendgrid__attachments(void)
{
  vc_sim *s = start();
  resp r;

  sg_post(&r, s, "{\"personalizations\":[{\"to\":[{\"email\":"
          "\"c@d.example\"}]}],\"from\":{\"email\":\"a@b.example\"},"
          "\"subject\":\"s\",\"content\":[{\"type\":\"text/plain\","
          "\"value\":\"v\"}],\"attachments\":[{\"filename\":\"a.pdf\"},"
          "{\"content\":\"not base64!\",\"filename\":\"b.pdf\"},"
          "{\"content\":\"aGVsbG8=\"}]}");
  CHECK(r.status == 400);
  CHECK(sg_error_count(&r) == 3);
  check_sg_error(&r, 0, "The attachment content is required.",
                 "attachments.0.content");
  check_sg_error(&r, 1, "The attachment content must be base64 encoded.",
                 "attachments.1.content");
  check_sg_error(&r, 2, "The attachment filename parameter is required.",
                 "attachments.2.filename");
  resp_free(&r);
  sg_post(&r, s, "{\"personalizations\":[{\"to\":[{\"email\":"
          "\"c@d.example\"}]}],\"from\":{\"email\":\"a@b.example\"},"
          "\"subject\":\"s\",\"content\":[{\"type\":\"text/plain\","
          "\"value\":\"v\"}],\"attachments\":[{\"content\":\"aGVsbG8=\","
          "\"filename\":\"hello.txt\",\"type\":\"text/plain\"}]}");
  CHECK(r.status == 202);
  resp_free(&r);
  vc_sim_stop(s);
}

static void test_sendgrid__all_errors_at_once(void)
{
  vc_sim *s = start();
  resp r;

  /* No personalizations, no from, no subject, no content: four errors. */
  sg_post(&r, s, "{}");
  CHECK(r.status == 400);
  CHECK(sg_error_count(&r) == 4);
  check_sg_error(&r, 0, "The personalizations field is required and must "
                 "have at least one personalization.", "personalizations");
  check_sg_error(&r, 3, "Unless a valid template_id is provided, the "
                 "content parameter is required. There must be at least "
                 "one defined content block. We typically suggest both "
                 "text/plain and text/html blocks are included, but only "
                 "one block is required.", "content");
  {
    cJSON *j = json(&r), *e;
    CHECK(j != NULL);
    e = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "errors"), 0);
    CHECK(strncmp(jstr(e, "help"), "http://sendgrid.com/docs/", 25) == 0);
    cJSON_Delete(j);
  }
  resp_free(&r);
  vc_sim_stop(s);
}

static void test_sendgrid__send_ok(void)
{
  vc_sim *s = start();
  const char *id;
  resp r;

  sg_post(&r, s, good_mail);
  CHECK(r.cc == CURLE_OK);
  CHECK(r.status == 202);
  CHECK(r.len == 0);
  id = rhdr(&r, "X-Message-Id");
  CHECK(strlen(id) == 22);
  CHECK(strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
               "0123456789-_") == 22);
  CHECK(vc_sim_accepted_count(s, "sendgrid") == 1);
  CHECK(vc_sim_sent_count(s, "asha@example.com") == 1);
  CHECK(vc_sim_sent_count(s, "01HZX0000000000000000000AA") == 1);
  CHECK(vc_sim_sent_count(s, id) == 1);
  resp_free(&r);
  vc_sim_stop(s);
}

static void test_sendgrid__not_found_and_method(void)
{
  vc_sim *s = start();
  req_opts o = { NULL, { "Authorization: Bearer " SGKEY }, 0 };
  resp r;

  http(&r, "GET", url_of(s, "/v3/mail/send"), NULL, NULL, 0, &o);
  CHECK(r.status == 405);
  check_sg_error(&r, 0, "method not allowed", NULL);
  resp_free(&r);
  http(&r, "POST", url_of(s, "/v3/mail/nothing"), "application/json", "{}",
       2, &o);
  CHECK(r.status == 404);
  check_sg_error(&r, 0, "not found", NULL);
  resp_free(&r);
  vc_sim_stop(s);
}

/* A mail with one attachment of `bytes` base64 characters. */
static char *big_mail(size_t bytes)
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

static void test_sendgrid__large_bodies(void)
{
  vc_sim *s = start();
  vc_sim_request q;
  char *m;
  resp r;

  /* 2 MB: far past libre's own 512 KB request buffer, still accepted. */
  m = big_mail(2 * 1024 * 1024);
  sg_post(&r, s, m);
  CHECK(r.cc == CURLE_OK);
  CHECK(r.status == 202);
  resp_free(&r);
  free(m);
  /* Over 30 MB: 413, and the body is never read. */
  m = big_mail(30 * 1024 * 1024 + 16);
  sg_post(&r, s, m);
  free(m);
  CHECK(r.cc == CURLE_OK);
  CHECK(r.status == 413);
  check_sg_error(&r, 0, "content too large", NULL);
  resp_free(&r);
  CHECK(vc_sim_accepted_count(s, "sendgrid") == 1);
  CHECK(vc_sim_received_count(s) == 2);
  CHECK_OK(vc_sim_received_get(s, 1, &q));
  CHECK(q.status == 413);
  CHECK(q.body_len == 0);
  CHECK(q.content_length > 30u * 1024 * 1024);
  vc_sim_stop(s);
}

/* ---- faults ----------------------------------------------------------- */

static void test_fault__5xx(void)
{
  vc_sim *s = start();
  vc_sim_fault f = VC_SIM_FAULT_INIT;
  vc_sim_request q;
  resp r;

  f.kind = VC_SIM_FAULT_5XX;
  f.count = 2;
  f.status = 503;
  CHECK_OK(vc_sim_fault_add(s, "twilio", &f));
  tw_post(&r, s, good_form);
  check_twilio_error(&r, 503, 20503, "Service Unavailable");
  resp_free(&r);
  tw_post(&r, s, good_form);
  CHECK(r.status == 503);
  resp_free(&r);
  tw_post(&r, s, good_form);
  CHECK(r.status == 201);
  resp_free(&r);
  CHECK(vc_sim_accepted_count(s, "twilio") == 1);
  CHECK_OK(vc_sim_received_get(s, 0, &q));
  CHECK(q.fault == VC_SIM_FAULT_5XX && q.status == 503);

  f.status = 0;                     /* default 500 */
  f.count = 1;
  CHECK_OK(vc_sim_fault_add(s, "sendgrid", &f));
  sg_post(&r, s, good_mail);
  CHECK(r.status == 500);
  check_sg_error(&r, 0, "internal server error", NULL);
  resp_free(&r);
  sg_post(&r, s, good_mail);
  CHECK(r.status == 202);
  resp_free(&r);
  /* Faults are per provider: Twilio is unaffected by SendGrid's. */
  CHECK_OK(vc_sim_fault_add(s, "sendgrid", &f));
  tw_post(&r, s, good_form);
  CHECK(r.status == 201);
  resp_free(&r);
  vc_sim_fault_clear(s, "sendgrid");
  sg_post(&r, s, good_mail);
  CHECK(r.status == 202);
  resp_free(&r);
  CHECK(vc_sim_fault_add(s, "nobody", &f) == -ENOENT);
  vc_sim_stop(s);
}

static void test_fault__429(void)
{
  vc_sim *s = start();
  vc_sim_fault f = VC_SIM_FAULT_INIT;
  long long reset;
  resp r;

  f.kind = VC_SIM_FAULT_429;
  f.retry_after_s = 7;
  CHECK_OK(vc_sim_fault_add(s, "twilio", &f));
  tw_post(&r, s, good_form);
  check_twilio_error(&r, 429, 20429, "Too Many Requests");
  CHECK_STR(rhdr(&r, "Retry-After"), "7");
  resp_free(&r);
  tw_post(&r, s, good_form);
  CHECK(r.status == 201);
  resp_free(&r);

  CHECK_OK(vc_sim_fault_add(s, "sendgrid", &f));
  sg_post(&r, s, good_mail);
  CHECK(r.status == 429);
  check_sg_error(&r, 0, "too many requests", NULL);
  CHECK_STR(rhdr(&r, "X-RateLimit-Remaining"), "0");
  reset = atoll(rhdr(&r, "X-RateLimit-Reset"));
  CHECK(reset >= (long long)time(NULL) + 5 &&
        reset <= (long long)time(NULL) + 8);
  resp_free(&r);
  vc_sim_stop(s);
}

static void test_fault__timeout(void)
{
  vc_sim *s = start();
  vc_sim_fault f = VC_SIM_FAULT_INIT;
  req_opts o = { SID ":" TOKEN, { NULL }, 300 };
  vc_sim_request q;
  resp r;

  /* Held longer than the client waits: the client times out. */
  f.kind = VC_SIM_FAULT_TIMEOUT;
  f.hold_ms = 5000;
  CHECK_OK(vc_sim_fault_add(s, "twilio", &f));
  http(&r, "POST", url_of(s, TW_PATH), "application/x-www-form-urlencoded",
       good_form, strlen(good_form), &o);
  CHECK(r.cc == CURLE_OPERATION_TIMEDOUT);
  CHECK(r.elapsed >= 0.25 && r.elapsed < 3.0);
  resp_free(&r);
  /* Held briefly, then closed unanswered: the client gets nothing. */
  f.hold_ms = 200;
  CHECK_OK(vc_sim_fault_add(s, "twilio", &f));
  tw_post(&r, s, good_form);
  CHECK(r.cc == CURLE_GOT_NOTHING);
  CHECK(r.elapsed >= 0.15);
  resp_free(&r);
  tw_post(&r, s, good_form);
  CHECK(r.status == 201);
  resp_free(&r);
  CHECK_OK(vc_sim_received_get(s, 0, &q));
  CHECK(q.fault == VC_SIM_FAULT_TIMEOUT && q.status == 0);
  /* Not processed: only the last request was accepted. */
  CHECK(vc_sim_accepted_count(s, NULL) == 1);
  vc_sim_stop(s);
}

static void test_fault__reset(void)
{
  vc_sim *s = start();
  vc_sim_fault f = VC_SIM_FAULT_INIT;
  resp r;

  f.kind = VC_SIM_FAULT_RESET;
  CHECK_OK(vc_sim_fault_add(s, "sendgrid", &f));
  sg_post(&r, s, good_mail);
  CHECK(r.cc == CURLE_RECV_ERROR || r.cc == CURLE_GOT_NOTHING);
  CHECK(r.status == 0);
  resp_free(&r);
  sg_post(&r, s, good_mail);
  CHECK(r.status == 202);
  resp_free(&r);
  CHECK(vc_sim_accepted_count(s, NULL) == 1);
  vc_sim_stop(s);
}

static void test_fault__slow_body(void)
{
  vc_sim *s = start();
  vc_sim_fault f = VC_SIM_FAULT_INIT;
  double slow;
  cJSON *j;
  resp r;

  f.kind = VC_SIM_FAULT_SLOW_BODY;
  f.chunk_bytes = 100;
  f.chunk_delay_ms = 40;
  CHECK_OK(vc_sim_fault_add(s, "twilio", &f));
  tw_post(&r, s, good_form);
  CHECK(r.cc == CURLE_OK);
  CHECK(r.status == 201);
  j = json(&r);
  CHECK(j != NULL);
  CHECK(strncmp(jstr(j, "sid"), "SM", 2) == 0);
  cJSON_Delete(j);
  /* About 1 KB in 100-byte pieces, 40 ms apart: several reads, ~0.4 s. */
  CHECK(r.writes >= 3);
  CHECK(r.elapsed >= 0.25);
  slow = r.elapsed;
  resp_free(&r);
  tw_post(&r, s, good_form);
  CHECK(r.status == 201 && r.writes < 3 && r.elapsed < slow);
  resp_free(&r);
  CHECK(vc_sim_accepted_count(s, NULL) == 2);
  vc_sim_stop(s);
}

static void test_fault__accept_first(void)
{
  vc_sim *s = start();
  vc_sim_fault f = VC_SIM_FAULT_INIT;
  vc_sim_request q;
  resp r;

  /* Accepted, then the connection resets: the client cannot know. */
  f.kind = VC_SIM_FAULT_RESET;
  f.accept_first = 1;
  CHECK_OK(vc_sim_fault_add(s, "twilio", &f));
  tw_post(&r, s, good_form);
  CHECK(r.cc != CURLE_OK);
  resp_free(&r);
  CHECK(vc_sim_sent_count(s, "+14155550100") == 1);
  CHECK_OK(vc_sim_received_get(s, 0, &q));
  CHECK(strncmp(q.message_id, "SM", 2) == 0 && q.status == 0);
  /* The client's retry is a duplicate. */
  tw_post(&r, s, good_form);
  CHECK(r.status == 201);
  resp_free(&r);
  CHECK(vc_sim_sent_count(s, "+14155550100") == 2);
  CHECK(vc_sim_duplicate_count(s, "twilio") == 1);
  CHECK(vc_sim_duplicate_count(s, "sendgrid") == 0);
  /* 5xx after acceptance: the same ambiguity with an answer. */
  f.kind = VC_SIM_FAULT_5XX;
  CHECK_OK(vc_sim_fault_add(s, "sendgrid", &f));
  sg_post(&r, s, good_mail);
  CHECK(r.status == 500);
  resp_free(&r);
  CHECK(vc_sim_accepted_count(s, "sendgrid") == 1);
  vc_sim_stop(s);
}

/* ---- webhooks --------------------------------------------------------- */

static void wh_url(char *out, size_t n, receiver *rv, const char *path)
{
  snprintf(out, n, "http://127.0.0.1:%u%s", rv->port, path);
}

/* Send one Twilio message with a StatusCallback; returns its sid. */
static void tw_send_cb(vc_sim *s, const char *cb, char sid[64])
{
  char form[1024], *esc;
  CURL *c = curl_easy_init();
  cJSON *j;
  resp r;

  esc = curl_easy_escape(c, cb, 0);
  snprintf(form, sizeof(form), "%s&StatusCallback=%s", good_form, esc);
  curl_free(esc);
  curl_easy_cleanup(c);
  tw_post(&r, s, form);
  CHECK(r.status == 201);
  j = json(&r);
  CHECK(j != NULL);
  snprintf(sid, 64, "%s", jstr(j, "sid"));
  cJSON_Delete(j);
  resp_free(&r);
}

static void check_tw_callback(const rx_req *q, const char *url,
                              const char *sid, const char *status)
{
  kv f[32];
  size_t n;

  check_twilio_signed(q, url);
  CHECK_STR(rx_hdr(q, "User-Agent"), "TwilioProxy/1.1");
  n = parse_form(q->body, f, 32);
  CHECK_STR(form_val(f, n, "MessageSid"), sid);
  CHECK_STR(form_val(f, n, "SmsSid"), sid);
  CHECK_STR(form_val(f, n, "MessageStatus"), status);
  CHECK_STR(form_val(f, n, "AccountSid"), SID);
  CHECK_STR(form_val(f, n, "From"), "+15005550006");
  CHECK_STR(form_val(f, n, "To"), "+14155550100");
  CHECK_STR(form_val(f, n, "ApiVersion"), "2010-04-01");
  free_form(f, n);
}

static void test_webhook__twilio_signed(void)
{
  vc_sim *s = start();
  receiver *rv = rx_start();
  char url[256], sid[64], bad[64];
  vc_sim_webhook_stats st;
  const rx_req *q;

  wh_url(url, sizeof(url), rv, "/webhooks/ch_1?tenant=t%201&x=1");
  tw_send_cb(s, url, sid);
  CHECK(rx_wait(rv, 2, 5000) == 2);
  q = rx_get(rv, 0);
  CHECK(strcmp(q->path, "/webhooks/ch_1?tenant=t%201&x=1") == 0);
  check_tw_callback(q, url, sid, "sent");
  check_tw_callback(rx_get(rv, 1), url, sid, "delivered");
  CHECK(strlen(rx_hdr(q, "I-Twilio-Idempotency-Token")) == 36);
  /* The check itself rejects a tampered body or another key. */
  twilio_expected("another-token", url, q->body, bad);
  CHECK(strcmp(bad, rx_hdr(q, "X-Twilio-Signature")) != 0);
  twilio_expected(TOKEN, url, "MessageStatus=delivered", bad);
  CHECK(strcmp(bad, rx_hdr(q, "X-Twilio-Signature")) != 0);
  CHECK_OK(vc_sim_webhooks_wait(s, 5000));
  vc_sim_webhooks_stats(s, &st);
  CHECK(st.posted == 2 && st.failed == 0 && st.pending == 0);
  /* A changed auth token signs the next callbacks. */
  CHECK_OK(vc_sim_set(s, "twilio.auth_token", "0000aaaa1111bbbb"));
  {
    req_opts o = { SID ":0000aaaa1111bbbb", { NULL }, 0 };
    char form[1024];
    CURL *c = curl_easy_init();
    char *esc = curl_easy_escape(c, url, 0);
    resp r;
    snprintf(form, sizeof(form), "%s&StatusCallback=%s", good_form, esc);
    curl_free(esc);
    curl_easy_cleanup(c);
    http(&r, "POST", url_of(s, TW_PATH),
         "application/x-www-form-urlencoded", form, strlen(form), &o);
    CHECK(r.status == 201);
    resp_free(&r);
  }
  CHECK(rx_wait(rv, 4, 5000) == 4);
  twilio_expected("0000aaaa1111bbbb", url, rx_get(rv, 2)->body, bad);
  CHECK_STR(rx_hdr(rx_get(rv, 2), "X-Twilio-Signature"), bad);
  vc_sim_stop(s);
  rx_stop(rv);
}

static void test_webhook__sendgrid_signed(void)
{
  vc_sim *s = start();
  receiver *rv = rx_start();
  vc_sim_webhooks w = VC_SIM_WEBHOOKS_INIT;
  const char *pub = vc_sim_sendgrid_public_key(s);
  char url[256], xmid[64], pubcopy[256];
  const char *mail =
    "{\"personalizations\":[{\"to\":[{\"email\":\"a1@example.com\"},"
    "{\"email\":\"a2@example.com\"}],\"custom_args\":{\"p\":\"v\"}}],"
    "\"from\":{\"email\":\"erp@example.com\"},\"subject\":\"s\","
    "\"content\":[{\"type\":\"text/plain\",\"value\":\"v\"}],"
    "\"custom_args\":{\"vc_message_id\":\"01HZX0000000000000000000BB\"}}";
  const rx_req *q;
  cJSON *j, *ev;
  resp r;
  int i;

  CHECK(pub != NULL && strlen(pub) == 124);     /* P-256 SPKI, base64 */
  CHECK(vc_sim_get(s, "sendgrid.public_key", pubcopy, sizeof(pubcopy)) ==
        124);
  CHECK_STR(pubcopy, pub);
  wh_url(url, sizeof(url), rv, "/webhooks/ch_mail");
  w.url = url;
  CHECK_OK(vc_sim_webhooks_set(s, "sendgrid", &w));
  sg_post(&r, s, mail);
  CHECK(r.status == 202);
  snprintf(xmid, sizeof(xmid), "%s", rhdr(&r, "X-Message-Id"));
  resp_free(&r);
  CHECK(rx_wait(rv, 1, 5000) == 1);
  q = rx_get(rv, 0);
  CHECK_STR(q->path, "/webhooks/ch_mail");
  CHECK(strncmp(rx_hdr(q, "Content-Type"), "application/json", 16) == 0);
  CHECK(strlen(rx_hdr(q, "X-Twilio-Email-Event-Webhook-Timestamp")) >= 10);
  CHECK(sendgrid_verify(pub, rx_hdr(q,
                                    "X-Twilio-Email-Event-Webhook-Timestamp"),
                        q->body, q->len,
                        rx_hdr(q, "X-Twilio-Email-Event-Webhook-Signature"))
        == 0);
  /* Tampering with the body or the timestamp breaks it. */
  CHECK(sendgrid_verify(pub, "1600112502", q->body, q->len,
                        rx_hdr(q, "X-Twilio-Email-Event-Webhook-Signature"))
        != 0);
  CHECK(sendgrid_verify(pub, rx_hdr(q,
                                    "X-Twilio-Email-Event-Webhook-Timestamp"),
                        q->body, q->len - 1,
                        rx_hdr(q, "X-Twilio-Email-Event-Webhook-Signature"))
        != 0);
  /* SendGrid's framing: events split by ",\r\n", a final "\r\n". */
  CHECK(q->len > 4 && strcmp(q->body + q->len - 3, "]\r\n") == 0);
  CHECK(strstr(q->body, "},\r\n{") != NULL);
  j = cJSON_Parse(q->body);
  CHECK(cJSON_IsArray(j) && cJSON_GetArraySize(j) == 4);
  for (i = 0; i < 4; i++) {
    ev = cJSON_GetArrayItem(j, i);
    CHECK_STR(jstr(ev, "event"), i < 2 ? "processed" : "delivered");
    CHECK_STR(jstr(ev, "email"), i % 2 ? "a2@example.com" : "a1@example.com");
    CHECK(strncmp(jstr(ev, "sg_message_id"), xmid, strlen(xmid)) == 0);
    CHECK(jstr(ev, "sg_message_id")[strlen(xmid)] == '.');
    CHECK(strlen(jstr(ev, "sg_event_id")) >= 20);
    CHECK(jnum(ev, "timestamp") > 1.7e9);
    CHECK_STR(jstr(ev, "vc_message_id"), "01HZX0000000000000000000BB");
    CHECK_STR(jstr(ev, "p"), "v");
    CHECK(strstr(jstr(ev, "smtp-id"), xmid) != NULL);
  }
  CHECK(strcmp(jstr(cJSON_GetArrayItem(j, 0), "sg_event_id"),
               jstr(cJSON_GetArrayItem(j, 2), "sg_event_id")) != 0);
  cJSON_Delete(j);
  vc_sim_stop(s);
  rx_stop(rv);
}

static void test_webhook__delay(void)
{
  vc_sim *s = start();
  receiver *rv = rx_start();
  vc_sim_webhooks w = VC_SIM_WEBHOOKS_INIT;
  char url[256], sid[64];
  double t0;

  w.delay_ms = 400;
  w.gap_ms = 200;
  CHECK_OK(vc_sim_webhooks_set(s, "twilio", &w));
  wh_url(url, sizeof(url), rv, "/cb");
  t0 = now_s();
  tw_send_cb(s, url, sid);
  CHECK(rx_wait(rv, 1, 5000) == 1);
  CHECK(rx_get(rv, 0)->at - t0 >= 0.38);
  CHECK(rx_wait(rv, 2, 5000) == 2);
  CHECK(rx_get(rv, 1)->at - rx_get(rv, 0)->at >= 0.18);
  vc_sim_stop(s);
  rx_stop(rv);
}

static void test_webhook__reorder(void)
{
  vc_sim *s = start();
  receiver *rv = rx_start();
  vc_sim_webhooks w = VC_SIM_WEBHOOKS_INIT;
  char url[256], sid[64];
  cJSON *j;
  resp r;

  w.reorder = 1;
  CHECK_OK(vc_sim_webhooks_set(s, "twilio", &w));
  wh_url(url, sizeof(url), rv, "/cb");
  tw_send_cb(s, url, sid);
  CHECK(rx_wait(rv, 2, 5000) == 2);
  check_tw_callback(rx_get(rv, 0), url, sid, "delivered");
  check_tw_callback(rx_get(rv, 1), url, sid, "sent");

  w.url = url;
  CHECK_OK(vc_sim_webhooks_set(s, "sendgrid", &w));
  sg_post(&r, s, good_mail);
  CHECK(r.status == 202);
  resp_free(&r);
  CHECK(rx_wait(rv, 3, 5000) == 3);
  j = cJSON_Parse(rx_get(rv, 2)->body);
  CHECK(cJSON_GetArraySize(j) == 2);
  CHECK_STR(jstr(cJSON_GetArrayItem(j, 0), "event"), "delivered");
  CHECK_STR(jstr(cJSON_GetArrayItem(j, 1), "event"), "processed");
  cJSON_Delete(j);
  vc_sim_stop(s);
  rx_stop(rv);
}

static void test_webhook__duplicates(void)
{
  vc_sim *s = start();
  receiver *rv = rx_start();
  vc_sim_webhooks w = VC_SIM_WEBHOOKS_INIT;
  char url[256], sid[64];
  resp r;

  w.duplicates = 1;
  CHECK_OK(vc_sim_webhooks_set(s, "twilio", &w));
  wh_url(url, sizeof(url), rv, "/cb");
  tw_send_cb(s, url, sid);
  CHECK(rx_wait(rv, 4, 5000) == 4);
  check_tw_callback(rx_get(rv, 0), url, sid, "sent");
  check_tw_callback(rx_get(rv, 1), url, sid, "sent");
  check_tw_callback(rx_get(rv, 2), url, sid, "delivered");
  check_tw_callback(rx_get(rv, 3), url, sid, "delivered");
  CHECK_STR(rx_get(rv, 0)->body, rx_get(rv, 1)->body);
  /* A retried delivery carries the same idempotency token. */
  CHECK_STR(rx_hdr(rx_get(rv, 2), "I-Twilio-Idempotency-Token"),
            rx_hdr(rx_get(rv, 3), "I-Twilio-Idempotency-Token"));

  w.url = url;
  CHECK_OK(vc_sim_webhooks_set(s, "sendgrid", &w));
  sg_post(&r, s, good_mail);
  CHECK(r.status == 202);
  resp_free(&r);
  CHECK(rx_wait(rv, 6, 5000) == 6);
  /* The same events (same sg_event_id), each copy signed on its own. */
  CHECK_STR(rx_get(rv, 4)->body, rx_get(rv, 5)->body);
  CHECK(sendgrid_verify(vc_sim_sendgrid_public_key(s),
                        rx_hdr(rx_get(rv, 5),
                               "X-Twilio-Email-Event-Webhook-Timestamp"),
                        rx_get(rv, 5)->body, rx_get(rv, 5)->len,
                        rx_hdr(rx_get(rv, 5),
                               "X-Twilio-Email-Event-Webhook-Signature"))
        == 0);
  CHECK_OK(vc_sim_webhooks_wait(s, 5000));
  sleep_ms(100);
  CHECK(rx_wait(rv, 7, 0) == 6);
  vc_sim_stop(s);
  rx_stop(rv);
}

static void test_webhook__final_status(void)
{
  vc_sim *s = start();
  receiver *rv = rx_start();
  vc_sim_webhooks w = VC_SIM_WEBHOOKS_INIT;
  vc_sim_webhook_stats st;
  char url[256], sid[64];
  kv f[32];
  size_t n;
  cJSON *j;
  resp r;

  w.final_status = "undelivered";
  CHECK_OK(vc_sim_webhooks_set(s, "twilio", &w));
  wh_url(url, sizeof(url), rv, "/cb");
  tw_send_cb(s, url, sid);
  CHECK(rx_wait(rv, 2, 5000) == 2);
  check_tw_callback(rx_get(rv, 1), url, sid, "undelivered");
  n = parse_form(rx_get(rv, 1)->body, f, 32);
  CHECK_STR(form_val(f, n, "ErrorCode"), "30003");
  free_form(f, n);

  w.final_status = "bounce";
  w.url = url;
  CHECK_OK(vc_sim_webhooks_set(s, "sendgrid", &w));
  sg_post(&r, s, good_mail);
  resp_free(&r);
  CHECK(rx_wait(rv, 3, 5000) == 3);
  j = cJSON_Parse(rx_get(rv, 2)->body);
  CHECK_STR(jstr(cJSON_GetArrayItem(j, 1), "event"), "bounce");
  CHECK_STR(jstr(cJSON_GetArrayItem(j, 1), "type"), "bounce");
  cJSON_Delete(j);

  /* Off: nothing is posted; a failing receiver is counted. */
  w.off = 1;
  CHECK_OK(vc_sim_webhooks_set(s, "twilio", &w));
  tw_send_cb(s, url, sid);
  w.off = 0;
  w.final_status = NULL;
  CHECK_OK(vc_sim_webhooks_set(s, "twilio", &w));
  /* The receiver records a request before it answers: let the three
   * earlier posts be answered (200) before it starts answering 500. */
  for (int tries = 0; tries < 250; tries++) {
    vc_sim_webhooks_stats(s, &st);
    if (st.posted >= 3)
      break;
    usleep(20000);
  }
  atomic_store(&rv->answer, 500);
  tw_send_cb(s, url, sid);
  /* The final callback is queued only after the first one is answered:
   * wait for both to have failed, not just for an empty queue. */
  for (int tries = 0; tries < 250; tries++) {
    CHECK_OK(vc_sim_webhooks_wait(s, 5000));
    vc_sim_webhooks_stats(s, &st);
    if (st.failed >= 2)
      break;
    usleep(20000);
  }
  CHECK(st.posted == 3 && st.failed == 2);
  CHECK(rx_wait(rv, 5, 5000) == 5);
  vc_sim_stop(s);
  rx_stop(rv);
}

/* ---- records, settings, control, server ------------------------------- */

static void test_records__received(void)
{
  vc_sim *s = start();
  req_opts o = { SID ":" TOKEN, { "I-Twilio-Idempotency-Token: idem-1",
                                  "User-Agent: vyomcomm-test/1" }, 0 };
  vc_sim_request q;
  char v[64];
  resp r;

  http(&r, "POST", url_of(s, TW_PATH "?Page=1"),
       "application/x-www-form-urlencoded", good_form, strlen(good_form),
       &o);
  CHECK(r.status == 201);
  resp_free(&r);
  sg_post(&r, s, "{}");
  resp_free(&r);
  CHECK(vc_sim_received_count(s) == 2);
  CHECK_OK(vc_sim_received_get(s, 0, &q));
  CHECK_STR(q.provider, "twilio");
  CHECK_STR(q.method, "POST");
  CHECK_STR(q.path, TW_PATH "?Page=1");
  CHECK(strncmp(q.authorization, "Basic ", 6) == 0);
  CHECK_STR(q.content_type, "application/x-www-form-urlencoded");
  CHECK_STR(q.body, good_form);
  CHECK(q.body_len == strlen(good_form));
  CHECK(q.status == 201);
  CHECK(strncmp(q.message_id, "SM", 2) == 0);
  CHECK(q.fault == VC_SIM_FAULT_NONE);
  CHECK(q.received_ms > 1700000000000LL);
  CHECK(vc_sim_request_header(&q, "i-twilio-idempotency-token", v,
                              sizeof(v)) == 6);
  CHECK_STR(v, "idem-1");
  CHECK(vc_sim_request_header(&q, "User-Agent", v, sizeof(v)) > 0);
  CHECK_STR(v, "vyomcomm-test/1");
  CHECK(vc_sim_request_header(&q, "X-Nothing", v, sizeof(v)) == -ENOENT);
  CHECK_OK(vc_sim_received_get(s, 1, &q));
  CHECK_STR(q.provider, "sendgrid");
  CHECK(q.status == 400);
  CHECK_STR(q.message_id, "");
  CHECK(vc_sim_received_get(s, 2, &q) == -ENOENT);
  vc_sim_received_clear(s);
  CHECK(vc_sim_received_count(s) == 0);
  CHECK(vc_sim_accepted_count(s, NULL) == 0);
  CHECK(vc_sim_sent_count(s, "+14155550100") == 0);
  vc_sim_stop(s);
}

static void test_records__duplicates(void)
{
  vc_sim *s = start();
  resp r;
  int i;

  for (i = 0; i < 3; i++) {
    tw_post(&r, s, good_form);
    resp_free(&r);
  }
  tw_post(&r, s, "To=%2B14155550100&From=%2B15005550006&Body=other");
  resp_free(&r);
  tw_post(&r, s, "To=%2B14155550199&From=%2B15005550006&Body=other");
  resp_free(&r);
  sg_post(&r, s, good_mail);
  resp_free(&r);
  sg_post(&r, s, good_mail);
  resp_free(&r);
  CHECK(vc_sim_accepted_count(s, NULL) == 7);
  CHECK(vc_sim_sent_count(s, "+14155550100") == 4);
  CHECK(vc_sim_sent_count(s, "+14155550199") == 1);
  CHECK(vc_sim_sent_count(s, "asha@example.com") == 2);
  CHECK(vc_sim_sent_count(s, "nobody") == 0);
  CHECK(vc_sim_duplicate_count(s, "twilio") == 2);
  CHECK(vc_sim_duplicate_count(s, "sendgrid") == 1);
  CHECK(vc_sim_duplicate_count(s, NULL) == 3);
  vc_sim_stop(s);
}

static void test_settings(void)
{
  const char *set[] = { "sendgrid.api_key=SG.custom.key", NULL };
  vc_sim_options o = VC_SIM_OPTIONS_INIT;
  req_opts old = { SID ":" TOKEN, { NULL }, 0 };
  req_opts bearer = { NULL, { "Authorization: Bearer SG.custom.key" }, 0 };
  char buf[128];
  vc_sim *s = NULL;
  resp r;

  o.settings = set;
  CHECK_OK(vc_sim_start(&s, &o));
  CHECK(vc_sim_get(s, "sendgrid.api_key", buf, sizeof(buf)) > 0);
  CHECK_STR(buf, "SG.custom.key");
  CHECK(vc_sim_get(s, "twilio.account_sid", buf, sizeof(buf)) == 34);
  CHECK_STR(buf, SID);
  http(&r, "POST", url_of(s, "/v3/mail/send"), "application/json",
       good_mail, strlen(good_mail), &bearer);
  CHECK(r.status == 202);
  resp_free(&r);
  CHECK_OK(vc_sim_set(s, "twilio.auth_token", "new-token"));
  http(&r, "POST", url_of(s, TW_PATH), "application/x-www-form-urlencoded",
       good_form, strlen(good_form), &old);
  CHECK(r.status == 401);
  resp_free(&r);
  old.userpwd = SID ":new-token";
  http(&r, "POST", url_of(s, TW_PATH), "application/x-www-form-urlencoded",
       good_form, strlen(good_form), &old);
  CHECK(r.status == 201);
  resp_free(&r);
  CHECK(vc_sim_set(s, "sendgrid.public_key", "x") == -EPERM);
  CHECK(vc_sim_set(s, "nobody.key", "x") == -ENOENT);
  CHECK(vc_sim_set(s, "nodot", "x") == -ENOENT);
  CHECK(vc_sim_get(s, "twilio.none", buf, sizeof(buf)) == -ENOENT);
  CHECK(vc_sim_get(s, "twilio.account_sid", buf, 4) == -ENOSPC);
  vc_sim_stop(s);
  /* A bad setting fails the start cleanly. */
  set[0] = "bogus=1";
  CHECK(vc_sim_start(&s, &o) == -ENOENT);
  CHECK(s == NULL);
}

static void test_control_api(void)
{
  vc_sim *s = start();
  cJSON *j, *a;
  resp r;

  http(&r, "GET", url_of(s, "/__sim/health"), NULL, NULL, 0, NULL);
  CHECK(r.status == 200);
  j = json(&r);
  CHECK(jnum(j, "port") == vc_sim_port(s));
  cJSON_Delete(j);
  resp_free(&r);
  http(&r, "POST", url_of(s, "/__sim/fault?provider=twilio&kind=429&"
                          "retry_after=3"), NULL, "", 0, NULL);
  CHECK(r.status == 200);
  resp_free(&r);
  tw_post(&r, s, good_form);
  CHECK(r.status == 429);
  CHECK_STR(rhdr(&r, "Retry-After"), "3");
  resp_free(&r);
  tw_post(&r, s, good_form);
  resp_free(&r);
  http(&r, "GET", url_of(s, "/__sim/sent?key=%2B14155550100"), NULL, NULL, 0,
       NULL);
  j = json(&r);
  CHECK(jnum(j, "count") == 1);
  cJSON_Delete(j);
  resp_free(&r);
  http(&r, "GET", url_of(s, "/__sim/stats"), NULL, NULL, 0, NULL);
  j = json(&r);
  CHECK(j != NULL);
  a = cJSON_GetObjectItemCaseSensitive(j, "accepted");
  CHECK(jnum(a, "twilio") == 1 && jnum(a, "sendgrid") == 0);
  CHECK(jnum(j, "received") >= 2);
  cJSON_Delete(j);
  resp_free(&r);
  http(&r, "GET", url_of(s, "/__sim/get?key=sendgrid.public_key"), NULL,
       NULL, 0, NULL);
  j = json(&r);
  CHECK_STR(jstr(j, "value"), vc_sim_sendgrid_public_key(s));
  cJSON_Delete(j);
  resp_free(&r);
  http(&r, "POST", url_of(s, "/__sim/fault?provider=none&kind=5xx"), NULL,
       "", 0, NULL);
  CHECK(r.status == 400);
  resp_free(&r);
  vc_sim_stop(s);
}

static void test_server__keepalive(void)
{
  vc_sim *s = start();
  req_opts o = { SID ":" TOKEN, { NULL }, 0 };
  CURL *c = curl_easy_init();
  resp r;
  int i;

  for (i = 0; i < 5; i++) {
    http_on(c, &r, "POST", url_of(s, TW_PATH),
            "application/x-www-form-urlencoded", good_form,
            strlen(good_form), &o);
    CHECK(r.status == 201);
    /* One connection for all: only the first request opens one. */
    CHECK(r.connects == (i == 0 ? 1 : 0));
    resp_free(&r);
  }
  /* An error answer keeps the connection too. */
  http_on(c, &r, "POST", url_of(s, TW_PATH),
          "application/x-www-form-urlencoded", "Body=x", 6, &o);
  CHECK(r.status == 400 && r.connects == 0);
  resp_free(&r);
  curl_easy_cleanup(c);
  vc_sim_stop(s);
}

static void test_server__expect_continue(void)
{
  vc_sim *s = start();
  req_opts o = { NULL, { "Authorization: Bearer " SGKEY,
                         "Expect: 100-continue" }, 0 };
  char *m = big_mail(64 * 1024);
  resp r;

  http(&r, "POST", url_of(s, "/v3/mail/send"), "application/json", m,
       strlen(m), &o);
  CHECK(r.status == 202);
  /* The interim answer came (curl would otherwise wait a second). */
  CHECK(strstr(r.hdr, "HTTP/1.1 100 Continue\r\n") != NULL);
  resp_free(&r);
  free(m);
  vc_sim_stop(s);
}

typedef struct held_client {
  vc_sim *s;
  resp r;
} held_client;

static void *held_main(void *arg)
{
  held_client *h = arg;

  tw_post(&h->r, h->s, good_form);
  return NULL;
}

static void test_server__stop_while_held(void)
{
  vc_sim *s = start();
  vc_sim_fault f = VC_SIM_FAULT_INIT;
  held_client h;
  pthread_t th;
  double t0;

  f.kind = VC_SIM_FAULT_TIMEOUT;      /* hold until the end */
  CHECK_OK(vc_sim_fault_add(s, "twilio", &f));
  memset(&h, 0, sizeof(h));
  h.s = s;
  CHECK(pthread_create(&th, NULL, held_main, &h) == 0);
  for (t0 = now_s(); vc_sim_received_count(s) == 0 && now_s() - t0 < 10;)
    sleep_ms(10);
  t0 = now_s();
  vc_sim_stop(s);
  pthread_join(th, NULL);
  CHECK(h.r.cc != CURLE_OK);
  CHECK(now_s() - t0 < 5.0);
  resp_free(&h.r);
}

/* Several client threads at once, with webhooks: exact counts after. */
typedef struct load {
  vc_sim *s;
  const char *cb;
  int ok;
} load;

#define LOAD_THREADS 4
#define LOAD_EACH 40

static void *load_main(void *arg)
{
  load *l = arg;
  req_opts o = { SID ":" TOKEN, { NULL }, 0 };
  CURL *c = curl_easy_init(), *e = curl_easy_init();
  char form[512], *esc = curl_easy_escape(e, l->cb, 0);
  int i;

  for (i = 0; i < LOAD_EACH; i++) {
    resp r;
    snprintf(form, sizeof(form), "To=%%2B1415555%04d&From=%%2B15005550006"
             "&Body=n%d&StatusCallback=%s", (int)(i + 100 * (l->ok + 1)), i,
             esc);
    http_on(c, &r, "POST", url_of(l->s, TW_PATH),
            "application/x-www-form-urlencoded", form, strlen(form), &o);
    if (r.status == 201)
      l->ok++;
    resp_free(&r);
  }
  curl_free(esc);
  curl_easy_cleanup(e);
  curl_easy_cleanup(c);
  return NULL;
}

static void test_server__concurrent(void)
{
  vc_sim_options o = VC_SIM_OPTIONS_INIT;
  vc_sim_webhook_stats st;
  pthread_t th[LOAD_THREADS];
  load l[LOAD_THREADS];
  vc_sim *s = NULL;
  receiver *rv = rx_start();
  char url[256];
  double t0;
  int i, ok = 0;

  o.webhook_workers = 3;
  CHECK_OK(vc_sim_start(&s, &o));
  wh_url(url, sizeof(url), rv, "/cb");
  for (i = 0; i < LOAD_THREADS; i++) {
    l[i] = (load){ s, url, 0 };
    CHECK(pthread_create(&th[i], NULL, load_main, &l[i]) == 0);
  }
  /* Readers race the writers. */
  for (t0 = now_s(); now_s() - t0 < 10 &&
       vc_sim_received_count(s) < LOAD_THREADS * LOAD_EACH / 2; ) {
    vc_sim_webhooks_stats(s, &st);
    (void)vc_sim_accepted_count(s, NULL);
    sleep_ms(1);
  }
  for (i = 0; i < LOAD_THREADS; i++) {
    pthread_join(th[i], NULL);
    ok += l[i].ok;
  }
  CHECK(ok == LOAD_THREADS * LOAD_EACH);
  CHECK(vc_sim_accepted_count(s, "twilio") == LOAD_THREADS * LOAD_EACH);
  CHECK_OK(vc_sim_webhooks_wait(s, 20000));
  vc_sim_webhooks_stats(s, &st);
  CHECK(st.posted == 2 * LOAD_THREADS * LOAD_EACH);
  CHECK(rx_wait(rv, 2 * LOAD_THREADS * LOAD_EACH, 5000) ==
        2 * LOAD_THREADS * LOAD_EACH);
  vc_sim_stop(s);
  rx_stop(rv);
}

static void test_server__program(void)
{
  const char *exe = getenv("VC_SIM_PROGRAM");
  char buf[4096] = "", *port;
  size_t len = 0;
  int fds[2], st = 0;
  double t0 = now_s();
  pid_t pid;

  /* The program prints its port, serves, and exits 0 on SIGTERM. */
  if (exe == NULL) {
    printf("  (VC_SIM_PROGRAM not set: skipped)\n");
    return;
  }
  CHECK(pipe(fds) == 0);
  pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    execl(exe, exe, "--twilio-token", "tok", (char *)NULL);
    _exit(127);
  }
  close(fds[1]);
  while (strstr(buf, "ready\n") == NULL && now_s() - t0 < 20) {
    ssize_t k = read(fds[0], buf + len, sizeof(buf) - 1 - len);
    if (k <= 0)
      break;
    len += (size_t)k;
    buf[len] = '\0';
  }
  close(fds[0]);
  port = strstr(buf, "port ");
  if (port != NULL && strstr(buf, "ready\n") != NULL) {
    char url[128];
    resp r;
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/__sim/health",
             atoi(port + 5));
    http(&r, "GET", url, NULL, NULL, 0, NULL);
    CHECK(r.status == 200);
    resp_free(&r);
  }
  kill(pid, SIGTERM);
  CHECK(waitpid(pid, &st, 0) == pid);
  CHECK(port != NULL && atoi(port + 5) > 0);
  CHECK(strstr(buf, "sendgrid_public_key MFkw") != NULL);
  CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* The simulator's start and stop take and drop curl's global state: keep
 * one reference for the whole run, as a host program would. */
__attribute__((constructor)) static void curl_once(void)
{
  curl_global_init(CURL_GLOBAL_DEFAULT);
}

VC_TESTS(
  VC_TEST(test_twilio__auth_missing),
  VC_TEST(test_twilio__auth_wrong),
  VC_TEST(test_twilio__content_type),
  VC_TEST(test_twilio__required_params),
  VC_TEST(test_twilio__invalid_to),
  VC_TEST(test_twilio__invalid_from),
  VC_TEST(test_twilio__body_too_long),
  VC_TEST(test_twilio__not_found),
  VC_TEST(test_twilio__send_ok),
  VC_TEST(test_twilio__segments),
  VC_TEST(test_twilio__messaging_service_and_mms),
  VC_TEST(test_sendgrid__auth),
  VC_TEST(test_sendgrid__content_type_and_json),
  VC_TEST(test_sendgrid__required_fields),
  VC_TEST(test_sendgrid__invalid_values),
  VC_TEST(test_sendgrid__attachments),
  VC_TEST(test_sendgrid__all_errors_at_once),
  VC_TEST(test_sendgrid__send_ok),
  VC_TEST(test_sendgrid__not_found_and_method),
  VC_TEST(test_sendgrid__large_bodies),
  VC_TEST(test_fault__5xx),
  VC_TEST(test_fault__429),
  VC_TEST(test_fault__timeout),
  VC_TEST(test_fault__reset),
  VC_TEST(test_fault__slow_body),
  VC_TEST(test_fault__accept_first),
  VC_TEST(test_webhook__twilio_signed),
  VC_TEST(test_webhook__sendgrid_signed),
  VC_TEST(test_webhook__delay),
  VC_TEST(test_webhook__reorder),
  VC_TEST(test_webhook__duplicates),
  VC_TEST(test_webhook__final_status),
  VC_TEST(test_records__received),
  VC_TEST(test_records__duplicates),
  VC_TEST(test_settings),
  VC_TEST(test_control_api),
  VC_TEST(test_server__keepalive),
  VC_TEST(test_server__expect_continue),
  VC_TEST(test_server__stop_while_held),
  VC_TEST(test_server__concurrent),
  VC_TEST(test_server__program),
)
