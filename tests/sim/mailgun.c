/*
 * Mailgun Messages API, as the real API answers:
 *
 *   POST /v3/{domain}/messages
 *
 * HTTP Basic auth, user "api" and the API key (anything else: 401 with
 * the plain text "Forbidden"); the domain must be the account's (404
 * {"message":"Domain not found: <domain>"}); the body is
 * application/x-www-form-urlencoded or multipart/form-data (any other
 * type leaves the parameters unread, so `from` is reported missing);
 * from, to and one of text, html, amp-html or template are required, each
 * problem answered 400 {"message":"..."} one at a time, in that order.
 * Success is 200 {"id":"<...@domain>","message":"Queued. Thank you."}.
 *
 * Webhooks: one JSON POST per event to the configured webhook URL,
 * {"signature":{"token","timestamp","signature"},"event-data":{...}},
 * signed hex HMAC-SHA256(signing key, timestamp || token): `accepted`,
 * then the final event of every recipient, with the message's v:
 * variables as event-data.user-variables and message.headers.message-id
 * the id without its angle brackets. vc_sim_mailgun_inbound() posts a
 * message received by a route, form-encoded (multipart/form-data when it
 * has an attachment), signed the same way.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <mbedtls/md.h>

#include "sim_int.h"

#define MG_PREFIX "/v3/"
#define MG_MAX_RECIPIENTS 1000
#define MG_MAX_PARTS 2000
#define MG_TOKEN_LEN 50

static const char *const mg_defaults[] = {
  "api_key", VC_SIM_MAILGUN_API_KEY,
  "domain", VC_SIM_MAILGUN_DOMAIN,
  "signing_key", VC_SIM_MAILGUN_SIGNING_KEY,
  NULL
};

/* ---- answers ---------------------------------------------------------- */

static void mg_message(sim_resp *rs, int status, const char *msg)
{
  sim_resp_reset(rs);
  rs->status = status;
  rs->content_type = "application/json";
  sim_buf_str(&rs->body, "{\"message\": ");
  sim_buf_json_str(&rs->body, msg);
  sim_buf_str(&rs->body, "}\n");
}

static void mg_fault(vc_sim *sim, void *state, int status,
                     unsigned retry_after_s, sim_resp *rs)
{
  (void)sim;
  (void)state;
  if (status == 413) {
    mg_message(rs, 413, "Request Entity Too Large");
  } else if (status == 429) {
    /* Mailgun documents "retry as defined in the response" without
     * naming the header: Retry-After is the simulator's choice. */
    mg_message(rs, 429, "Too many requests");
    sim_buf_printf(&rs->headers, "Retry-After: %u\r\n", retry_after_s);
  } else {
    mg_message(rs, status, "Internal Server Error");
  }
}

/* ---- request bodies ----------------------------------------------------- */

/* The parameters of a request: names and values in received order.
 * Values of file parts are their bytes (NUL-terminated copies). */
typedef struct mg_params {
  size_t n;
  char **name;
  char **value;
  size_t *len;
  int *is_file;
  sim_form form_;       /* for urlencoded bodies */
} mg_params;

static void mg_params_free(mg_params *p)
{
  if (p->form_.mem_ == NULL) {
    for (size_t i = 0; i < p->n; i++) {
      free(p->name[i]);
      free(p->value[i]);
    }
  }
  sim_form_free(&p->form_);
  free(p->name);
  free(p->value);
  free(p->len);
  free(p->is_file);
  memset(p, 0, sizeof(*p));
}

static int mg_params_alloc(mg_params *p, size_t n)
{
  p->name = calloc(n ? n : 1, sizeof(char *));
  p->value = calloc(n ? n : 1, sizeof(char *));
  p->len = calloc(n ? n : 1, sizeof(size_t));
  p->is_file = calloc(n ? n : 1, sizeof(int));
  return p->name && p->value && p->len && p->is_file ? 0 : -ENOMEM;
}

/* A parameter of a header value: `key=value` or `key="value"`, copied
 * into out. 0 when found. */
static int hdr_param(const char *h, size_t hl, const char *key, char *out,
                     size_t size)
{
  size_t kl = strlen(key), i = 0;

  while (i < hl) {
    /* Past the next ';'. */
    while (i < hl && h[i] != ';')
      i++;
    if (i++ >= hl)
      break;
    while (i < hl && (h[i] == ' ' || h[i] == '\t'))
      i++;
    if (hl - i > kl && strncasecmp(h + i, key, kl) == 0 &&
        h[i + kl] == '=') {
      size_t s = i + kl + 1, e, o = 0;
      if (s < hl && h[s] == '"') {
        for (e = s + 1; e < hl && h[e] != '"'; e++)
          if (o + 1 < size)
            out[o++] = h[e];
      } else {
        for (e = s; e < hl && h[e] != ';' && h[e] != ' '; e++)
          if (o + 1 < size)
            out[o++] = h[e];
      }
      out[o] = '\0';
      return 0;
    }
  }
  return -1;
}

static const char *memfind(const char *h, size_t hl, const char *n,
                           size_t nl)
{
  return nl <= hl ? memmem(h, hl, n, nl) : NULL;
}

/* multipart/form-data (RFC 7578): -EINVAL when malformed. */
static int mg_parse_multipart(mg_params *p, const char *ct, size_t ctl,
                              const char *body, size_t len)
{
  char boundary[200], delim[210];
  const char *at, *end = body + len;
  size_t dl, cap = 0;
  int rc = -EINVAL;

  if (hdr_param(ct, ctl, "boundary", boundary, sizeof(boundary)) != 0 ||
      boundary[0] == '\0')
    return -EINVAL;
  dl = (size_t)snprintf(delim, sizeof(delim), "--%s", boundary);
  for (at = body; (at = memfind(at, (size_t)(end - at), delim, dl));
       at += dl)
    cap++;
  if (cap > MG_MAX_PARTS || mg_params_alloc(p, cap) != 0)
    return cap > MG_MAX_PARTS ? -E2BIG : -ENOMEM;
  at = memfind(body, len, delim, dl);
  if (at == NULL)
    return -EINVAL;
  at += dl;
  for (;;) {
    const char *hend, *next, *cd, *q;
    char name[256] = "", file[256];
    int is_file;

    if (end - at >= 2 && at[0] == '-' && at[1] == '-')
      return 0;                     /* the closing delimiter */
    if (end - at < 2 || at[0] != '\r' || at[1] != '\n')
      return rc;
    at += 2;
    hend = memfind(at, (size_t)(end - at), "\r\n\r\n", 4);
    if (hend == NULL)
      return rc;
    /* The part ends at CRLF and the next delimiter. */
    q = hend + 4;
    next = NULL;
    while ((q = memfind(q, (size_t)(end - q), delim, dl)) != NULL) {
      if (q >= hend + 6 && q[-2] == '\r' && q[-1] == '\n') {
        next = q;
        break;
      }
      q += dl;
    }
    if (next == NULL)
      return rc;
    cd = NULL;
    for (q = at; q < hend;) {
      const char *eol = memfind(q, (size_t)(hend + 2 - q), "\r\n", 2);
      size_t ll = eol ? (size_t)(eol - q) : (size_t)(hend - q);
      if (ll > 20 && strncasecmp(q, "Content-Disposition:", 20) == 0)
        cd = q;
      if (cd == q) {
        if (hdr_param(q, ll, "name", name, sizeof(name)) != 0)
          return rc;
        is_file = hdr_param(q, ll, "filename", file, sizeof(file)) == 0;
        p->is_file[p->n] = is_file;
      }
      q += ll + 2;
    }
    if (cd == NULL || name[0] == '\0')
      return rc;
    p->len[p->n] = (size_t)(next - 2 - (hend + 4));
    p->name[p->n] = strdup(name);
    p->value[p->n] = malloc(p->len[p->n] + 1);
    if (p->name[p->n] == NULL || p->value[p->n] == NULL) {
      p->n++;
      return -ENOMEM;
    }
    memcpy(p->value[p->n], hend + 4, p->len[p->n]);
    p->value[p->n][p->len[p->n]] = '\0';
    p->n++;
    at = next + dl;
  }
}

/* 0, or -EINVAL for an unreadable body, -ENOMEM. A body of another type
 * reads as no parameters, as the real API. */
static int mg_parse_body(mg_params *p, const sim_req *rq)
{
  size_t ctl = 0;
  const char *ct = sim_req_header(rq, "Content-Type", &ctl);
  int rc;

  memset(p, 0, sizeof(*p));
  if (ct != NULL && sim_prefix_ci(ct, ctl, "multipart/form-data"))
    return mg_parse_multipart(p, ct, ctl, rq->body ? rq->body : "",
                              rq->body_len);
  if (ct == NULL ||
      !sim_prefix_ci(ct, ctl, "application/x-www-form-urlencoded"))
    return mg_params_alloc(p, 0);
  rc = sim_form_parse(&p->form_, rq->body ? rq->body : "", rq->body_len);
  if (rc != 0 || mg_params_alloc(p, p->form_.n) != 0)
    return rc ? rc : -ENOMEM;
  for (size_t i = 0; i < p->form_.n; i++) {
    p->name[i] = p->form_.key[i];
    p->value[i] = p->form_.val[i];
    p->len[i] = strlen(p->form_.val[i]);
  }
  p->n = p->form_.n;
  return 0;
}

static const char *mg_get(const mg_params *p, const char *name)
{
  for (size_t i = 0; i < p->n; i++)
    if (!p->is_file[i] && strcmp(p->name[i], name) == 0)
      return p->value[i];
  return NULL;
}

/* ---- checks ------------------------------------------------------------ */

/* Basic "api:<key>": 0 when right, else 401 "Forbidden" filled. */
static int mg_auth(vc_sim *sim, const sim_req *rq, sim_resp *rs)
{
  char key[256], pair[270], want[380];
  size_t len = 0, wl;
  const char *h = sim_req_header(rq, "Authorization", &len);

  sim_setting(sim, "mailgun.api_key", key, sizeof(key));
  snprintf(pair, sizeof(pair), "api:%s", key);
  if (h != NULL && sim_base64(want, sizeof(want), pair, strlen(pair)) == 0) {
    wl = strlen(want);
    if (sim_prefix_ci(h, len, "Basic ") && len - 6 == wl &&
        memcmp(h + 6, want, wl) == 0)
      return 0;
  }
  sim_resp_reset(rs);
  rs->status = 401;
  rs->content_type = "text/plain";
  sim_buf_str(&rs->body, "Forbidden");
  return -1;
}

/* A bare address: local@domain.tld, no spaces or brackets. */
static int mg_addr_ok(const char *s, size_t n)
{
  const char *at = memchr(s, '@', n), *dot;

  if (n < 3 || n > 254 || at == NULL || at == s || at == s + n - 1 ||
      memchr(at + 1, '@', (size_t)(s + n - at - 1)) != NULL)
    return 0;
  for (size_t i = 0; i < n; i++)
    if (strchr(" \t\r\n<>,;\"()[]\\", s[i]) != NULL)
      return 0;
  dot = memrchr(at + 1, '.', (size_t)(s + n - at - 1));
  return dot != NULL && dot > at + 1 && dot < s + n - 1;
}

/* One mailbox: "addr" or "Display Name <addr>" (the name may be
 * quoted). The address goes to out. */
static int mg_mailbox(const char *s, size_t n, char *out, size_t size)
{
  const char *lt, *gt;

  while (n > 0 && (*s == ' ' || *s == '\t'))
    s++, n--;
  while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
    n--;
  if (n > 0 && s[n - 1] == '>') {
    gt = s + n - 1;
    lt = memrchr(s, '<', n);
    if (lt == NULL)
      return 0;
    s = lt + 1;
    n = (size_t)(gt - s);
  }
  if (!mg_addr_ok(s, n) || n >= size)
    return 0;
  memcpy(out, s, n);
  out[n] = '\0';
  return 1;
}

/* Every address of a comma list (commas inside quotes do not count);
 * calls back with each. Returns the count, or -1 on a bad address. */
static long mg_each_addr(const char *list,
                         void (*cb)(void *arg, const char *addr), void *arg)
{
  const char *p = list;
  char addr[256];
  long n = 0;

  while (*p) {
    const char *s = p;
    int quoted = 0;
    while (*p && (quoted || *p != ',')) {
      if (*p == '"')
        quoted = !quoted;
      p++;
    }
    if (!mg_mailbox(s, (size_t)(p - s), addr, sizeof(addr)))
      return -1;
    if (cb)
      cb(arg, addr);
    n++;
    if (*p == ',')
      p++;
  }
  return n;
}

/* ---- webhooks ------------------------------------------------------------ */

/* hex HMAC-SHA256(key, timestamp || token) */
static void mg_sign(const char *key, const char *ts, const char *token,
                    char out[65])
{
  static const char hex[] = "0123456789abcdef";
  unsigned char mac[32];
  char msg[128];
  int n = snprintf(msg, sizeof(msg), "%s%s", ts, token);

  mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256),
                  (const unsigned char *)key, strlen(key),
                  (const unsigned char *)msg, (size_t)n, mac);
  for (int i = 0; i < 32; i++) {
    out[2 * i] = hex[mac[i] >> 4];
    out[2 * i + 1] = hex[mac[i] & 15];
  }
  out[64] = '\0';
}

/* A fresh token, timestamp and signature. */
static void mg_signature(vc_sim *sim, char token[MG_TOKEN_LEN + 1],
                         char ts[24], char sig[65])
{
  char key[256];

  sim_setting(sim, "mailgun.signing_key", key, sizeof(key));
  sim_random_hex(token, MG_TOKEN_LEN);
  snprintf(ts, 24, "%lld", (long long)(sim_now_ms() / 1000));
  mg_sign(key, ts, token, sig);
}

/* What one message's events need. */
typedef struct mg_msg {
  const mg_params *p;
  const char *id;             /* without brackets */
  const char *domain;
  const char *from;
  const char *subject;
} mg_msg;

static void mg_json_kv(sim_buf *b, const char *k, const char *v, int comma)
{
  if (comma)
    sim_buf_str(b, ",");
  sim_buf_json_str(b, k);
  sim_buf_str(b, ":");
  sim_buf_json_str(b, v);
}

/* One event of one recipient, as a complete signed webhook body. */
static void mg_event_body(vc_sim *sim, sim_buf *b, const mg_msg *m,
                          const char *rcpt, const char *kind)
{
  char token[MG_TOKEN_LEN + 1], ts[24], sig[65], evid[32];
  const char *dom = strrchr(rcpt, '@');
  double now = (double)sim_now_ms() / 1000.0;
  int n = 0;

  mg_signature(sim, token, ts, sig);
  sim_random_b64url(evid, 22);
  sim_buf_str(b, "{\"signature\":{");
  mg_json_kv(b, "token", token, 0);
  mg_json_kv(b, "timestamp", ts, 1);
  mg_json_kv(b, "signature", sig, 1);
  sim_buf_str(b, "},\"event-data\":{");
  mg_json_kv(b, "id", evid, 0);
  sim_buf_printf(b, ",\"timestamp\":%.6f", now);
  if (strcmp(kind, "delivered") == 0) {
    mg_json_kv(b, "event", "delivered", 1);
    mg_json_kv(b, "log-level", "info", 1);
    sim_buf_str(b, ",\"delivery-status\":{\"tls\":true,\"mx-host\":"
                "\"mx.sim.example\",\"code\":250,\"description\":\"\","
                "\"session-seconds\":0.41,\"utf8\":true,\"attempt-no\":1,"
                "\"message\":\"OK\",\"certificate-verified\":true}");
  } else if (strcmp(kind, "permanent_fail") == 0 ||
             strcmp(kind, "suppress") == 0) {
    int sup = kind[0] == 's';
    mg_json_kv(b, "event", "failed", 1);
    mg_json_kv(b, "log-level", "error", 1);
    mg_json_kv(b, "severity", "permanent", 1);
    mg_json_kv(b, "reason", sup ? "suppress-bounce" : "bounce", 1);
    sim_buf_str(b, sup ?
                ",\"delivery-status\":{\"attempt-no\":1,\"message\":\"\","
                "\"code\":605,\"description\":\"Not delivering to "
                "previously bounced address\",\"session-seconds\":0.0}" :
                ",\"delivery-status\":{\"attempt-no\":1,\"message\":"
                "\"550 5.1.1 The email account that you tried to reach "
                "does not exist.\",\"code\":550,\"description\":\"\","
                "\"session-seconds\":0.12,\"mx-host\":\"mx.sim.example\"}");
  } else if (strcmp(kind, "temporary_fail") == 0) {
    mg_json_kv(b, "event", "failed", 1);
    mg_json_kv(b, "log-level", "warn", 1);
    mg_json_kv(b, "severity", "temporary", 1);
    mg_json_kv(b, "reason", "generic", 1);
    sim_buf_str(b, ",\"delivery-status\":{\"attempt-no\":1,\"message\":"
                "\"452 4.2.2 The email account that you tried to reach is "
                "over quota.\",\"code\":452,\"description\":\"\","
                "\"retry-seconds\":600,\"session-seconds\":0.2}");
  } else if (strcmp(kind, "opened") == 0) {
    mg_json_kv(b, "event", "opened", 1);
    mg_json_kv(b, "log-level", "info", 1);
    mg_json_kv(b, "ip", "127.0.0.1", 1);
    sim_buf_str(b, ",\"client-info\":{\"client-type\":\"browser\","
                "\"client-os\":\"Linux\",\"device-type\":\"desktop\","
                "\"client-name\":\"Firefox\"}");
  } else {
    mg_json_kv(b, "event", "accepted", 1);
    mg_json_kv(b, "log-level", "info", 1);
    mg_json_kv(b, "method", "HTTP", 1);
  }
  sim_buf_str(b, ",\"flags\":{\"is-routed\":false,\"is-authenticated\":true,"
              "\"is-system-test\":false,\"is-test-mode\":false}");
  sim_buf_str(b, ",\"envelope\":{\"transport\":\"smtp\",\"sender\":");
  sim_buf_printf(b, "\"postmaster@%s\"", m->domain);
  sim_buf_str(b, ",\"sending-ip\":\"127.0.0.1\",\"targets\":");
  sim_buf_json_str(b, rcpt);
  sim_buf_str(b, "},\"message\":{\"headers\":{");
  mg_json_kv(b, "to", rcpt, 0);
  mg_json_kv(b, "message-id", m->id, 1);
  mg_json_kv(b, "from", m->from, 1);
  mg_json_kv(b, "subject", m->subject ? m->subject : "", 1);
  sim_buf_str(b, "},\"attachments\":[],\"size\":1024}");
  mg_json_kv(b, "recipient", rcpt, 1);
  mg_json_kv(b, "recipient-domain", dom ? dom + 1 : "", 1);
  sim_buf_str(b, ",\"campaigns\":[],\"tags\":[");
  for (size_t i = 0; i < m->p->n; i++)
    if (!m->p->is_file[i] && strcmp(m->p->name[i], "o:tag") == 0) {
      sim_buf_str(b, n++ ? "," : "");
      sim_buf_json_str(b, m->p->value[i]);
    }
  sim_buf_str(b, "],\"user-variables\":{");
  n = 0;
  for (size_t i = 0; i < m->p->n; i++)
    if (!m->p->is_file[i] && strncmp(m->p->name[i], "v:", 2) == 0 &&
        m->p->name[i][2] != '\0')
      mg_json_kv(b, m->p->name[i] + 2, m->p->value[i], n++ > 0);
  sim_buf_str(b, "}}}");
}

static int mg_post(sim_post *post, const char *url, sim_buf *body,
                   const char *ctype)
{
  memset(post, 0, sizeof(*post));
  post->url = strdup(url);
  post->content_type = strdup(ctype);
  post->headers = strdup("User-Agent: mailgun/treq-16.12.0\n");
  post->body = body->ptr;
  post->body_len = body->len;
  if (body->oom || !post->url || !post->content_type || !post->headers) {
    free(post->url);
    free(post->content_type);
    free(post->headers);
    sim_buf_free(body);
    memset(post, 0, sizeof(*post));
    return -ENOMEM;
  }
  memset(body, 0, sizeof(*body));
  return 0;
}

typedef struct mg_rcpts {
  char (*addr)[256];
  size_t n;
} mg_rcpts;

static void mg_rcpt_add(void *arg, const char *addr)
{
  mg_rcpts *r = arg;

  snprintf(r->addr[r->n++], 256, "%s", addr);
}

/* Every `to` recipient of the message, at most MG_MAX_RECIPIENTS. */
static int mg_recipients(const mg_params *p, mg_rcpts *out)
{
  size_t total = 0;

  memset(out, 0, sizeof(*out));
  for (size_t i = 0; i < p->n; i++) {
    long n = 0;
    if (!p->is_file[i] && strcmp(p->name[i], "to") == 0 &&
        (n = mg_each_addr(p->value[i], NULL, NULL)) < 0)
      return -EINVAL;
    total += (size_t)n;
  }
  out->addr = calloc(total ? total : 1, 256);
  if (out->addr == NULL)
    return -ENOMEM;
  for (size_t i = 0; i < p->n; i++)
    if (!p->is_file[i] && strcmp(p->name[i], "to") == 0)
      mg_each_addr(p->value[i], mg_rcpt_add, out);
  return 0;
}

static void mg_schedule(vc_sim *sim, const mg_msg *m)
{
  const char *kinds[3];
  size_t nk = 0, np = 0;
  sim_post *posts;
  sim_wh_opts o;
  mg_rcpts r;

  sim_webhook_opts(sim, "mailgun", &o);
  if (o.off || o.url[0] == '\0' || mg_recipients(m->p, &r) != 0)
    return;
  kinds[nk++] = "accepted";
  if (o.final_status[0] == '\0' || strcmp(o.final_status, "opened") == 0)
    kinds[nk++] = "delivered";
  if (o.final_status[0] != '\0' && strcmp(o.final_status, "accepted") != 0)
    kinds[nk++] = o.final_status;
  if (o.reorder && nk > 1) {
    const char *t = kinds[0];
    kinds[0] = kinds[nk - 1];
    kinds[nk - 1] = t;
  }
  posts = calloc(r.n * nk + 1, sizeof(*posts));
  for (size_t i = 0; posts != NULL && i < r.n; i++)
    for (size_t k = 0; k < nk; k++) {
      sim_buf b = { 0 };
      mg_event_body(sim, &b, m, r.addr[i], kinds[k]);
      if (mg_post(&posts[np], o.url, &b, "application/json") == 0)
        np++;
    }
  if (posts != NULL)
    sim_webhook_schedule(sim, "mailgun", posts, np, &o);
  free(posts);
  free(r.addr);
}

/* ---- the endpoint ------------------------------------------------------ */

static void mg_accepted(vc_sim *sim, const mg_params *p, const char *domain,
                        sim_resp *rs)
{
  const char *keys[64];
  char id[160], rnd[17], stamp[16];
  sim_accept_info a;
  mg_rcpts r = { 0 };
  uint64_t h = SIM_FNV_INIT;
  time_t now = (time_t)(sim_now_ms() / 1000);
  struct tm tm;
  size_t nk = 0;
  mg_msg m;

  gmtime_r(&now, &tm);
  strftime(stamp, sizeof(stamp), "%Y%m%d%H%M%S", &tm);
  sim_random_hex(rnd, 16);
  snprintf(id, sizeof(id), "%s.%s@%s", stamp, rnd, domain);
  rs->status = 200;
  rs->content_type = "application/json";
  sim_buf_str(&rs->body, "{\n  \"id\": \"<");
  sim_buf_str(&rs->body, id);
  sim_buf_str(&rs->body, ">\",\n  \"message\": \"Queued. Thank you.\"\n}\n");
  /* A retry carries the same fields (the multipart boundary differs). */
  for (size_t i = 0; i < p->n; i++) {
    h = sim_fnv1a(h, p->name[i], strlen(p->name[i]) + 1);
    h = sim_fnv1a(h, p->value[i], p->len[i] + 1);
  }
  if (mg_recipients(p, &r) == 0)
    for (size_t i = 0; i < r.n && nk < 48; i++)
      keys[nk++] = r.addr[i];
  for (size_t i = 0; i < p->n && nk < 64; i++)
    if (!p->is_file[i] && strncmp(p->name[i], "v:", 2) == 0)
      keys[nk++] = p->value[i];
  a.message_id = id;
  a.keys = keys;
  a.nkeys = nk;
  a.identity = h;
  sim_accept(sim, "mailgun", rs, &a);
  free(r.addr);
  m.p = p;
  m.id = id;
  m.domain = domain;
  m.from = mg_get(p, "from");
  m.subject = mg_get(p, "subject");
  mg_schedule(sim, &m);
}

static int mg_nonempty(const mg_params *p, const char *name)
{
  for (size_t i = 0; i < p->n; i++)
    if (strcmp(p->name[i], name) == 0 && p->len[i] > 0)
      return 1;
  return 0;
}

static void mg_handle(vc_sim *sim, void *state, const sim_req *rq,
                      sim_resp *rs)
{
  char domain[256], want[256], addr[256], msg[320];
  const char *rest = rq->path + strlen(MG_PREFIX), *slash, *from;
  mg_params p;
  size_t dl;
  int mime, rc;

  (void)state;
  if (mg_auth(sim, rq, rs) != 0)
    return;
  slash = strchr(rest, '/');
  dl = slash ? (size_t)(slash - rest) : 0;
  mime = slash && strcmp(slash, "/messages.mime") == 0;
  snprintf(domain, sizeof(domain), "%.*s", (int)dl, rest);
  sim_setting(sim, "mailgun.domain", want, sizeof(want));
  if (strcasecmp(domain, want) != 0) {
    snprintf(msg, sizeof(msg), "Domain not found: %s", domain);
    mg_message(rs, 404, msg);
    return;
  }
  if (strcmp(rq->method, "POST") != 0) {
    mg_message(rs, 405, "Method Not Allowed");
    return;
  }
  rc = mg_parse_body(&p, rq);
  if (rc == -ENOMEM) {
    mg_message(rs, 500, "Internal Server Error");
    goto out;
  }
  if (rc != 0) {
    mg_message(rs, 400, "Bad Request");
    goto out;
  }
  from = mg_get(&p, "from");
  if (!mime && (from == NULL || from[0] == '\0')) {
    mg_message(rs, 400, "'from' parameter is missing");
    goto out;
  }
  if (!mime && (mg_each_addr(from, NULL, NULL) != 1 ||
                !mg_mailbox(from, strlen(from), addr, sizeof(addr)))) {
    mg_message(rs, 400, "'from' parameter is not a valid address. please "
               "check documentation");
    goto out;
  }
  if (!mg_nonempty(&p, "to")) {
    mg_message(rs, 400, "'to' parameter is missing");
    goto out;
  }
  {
    long total = 0, n;
    for (size_t i = 0; i < p.n; i++) {
      if (p.is_file[i] || strcmp(p.name[i], "to") != 0)
        continue;
      if ((n = mg_each_addr(p.value[i], NULL, NULL)) < 0) {
        mg_message(rs, 400, "'to' parameter is not a valid address. "
                   "please check documentation");
        goto out;
      }
      total += n;
    }
    if (total > MG_MAX_RECIPIENTS) {
      mg_message(rs, 400, "Too many recipients: the maximum is 1000");
      goto out;
    }
  }
  if (mime) {
    if (!mg_nonempty(&p, "message")) {
      mg_message(rs, 400, "'message' parameter is missing");
      goto out;
    }
  } else if (!mg_nonempty(&p, "text") && !mg_nonempty(&p, "html") &&
             !mg_nonempty(&p, "amp-html") && !mg_nonempty(&p, "template")) {
    mg_message(rs, 400, "Need at least one of 'text', 'html', 'amp-html' "
               "or 'template' parameters specified");
    goto out;
  }
  for (size_t i = 0; i < p.n; i++)
    if (strcmp(p.name[i], "attachment") == 0 && !p.is_file[i]) {
      /* An attachment must be a file part. */
      mg_message(rs, 400, "'attachment' parameter is not a file");
      goto out;
    }
  mg_accepted(sim, &p, want, rs);
out:
  mg_params_free(&p);
}

/* Only /v3/{domain}/messages and .mime: the rest of /v3/ is SendGrid's. */
static int mg_match(const char *path)
{
  const char *rest = path + strlen(MG_PREFIX), *slash = strchr(rest, '/');

  return slash != NULL && slash > rest &&
         (strcmp(slash, "/messages") == 0 ||
          strcmp(slash, "/messages.mime") == 0);
}

/* ---- inbound (routes) --------------------------------------------------- */

static void mg_field(sim_buf *b, const char *boundary, const char *name,
                     const char *value)
{
  if (value == NULL)
    return;
  if (boundary == NULL) {
    if (b->len > 0)
      sim_buf_str(b, "&");
    sim_buf_form_enc(b, name);
    sim_buf_str(b, "=");
    sim_buf_form_enc(b, value);
    return;
  }
  sim_buf_printf(b, "--%s\r\nContent-Disposition: form-data; "
                 "name=\"%s\"\r\n\r\n", boundary, name);
  sim_buf_str(b, value);
  sim_buf_str(b, "\r\n");
}

int vc_sim_mailgun_inbound(vc_sim *s, const vc_sim_mailgun_mail *m,
                           char *message_id, size_t size)
{
  char token[MG_TOKEN_LEN + 1], ts[24], sig[65], boundary[40], rnd[17];
  char domain[256], id[200], addr[256];
  const char *bnd = NULL;
  sim_buf b = { 0 }, hdrs = { 0 };
  sim_wh_opts o;
  sim_post post;

  if (s == NULL || m == NULL || m->from == NULL || m->to == NULL)
    return -EINVAL;
  sim_webhook_opts(s, "mailgun", &o);
  if (o.url[0] == '\0')
    return -ENOENT;
  sim_setting(s, "mailgun.domain", domain, sizeof(domain));
  sim_random_hex(rnd, 16);
  snprintf(id, sizeof(id), "%s.%s@mail.sim.example", "inbound", rnd);
  if (message_id != NULL && size > 0)
    snprintf(message_id, size, "%s", id);
  if (!mg_mailbox(m->from, strlen(m->from), addr, sizeof(addr)))
    snprintf(addr, sizeof(addr), "%s", m->from);
  if (m->attachment != NULL) {
    sim_random_hex(boundary, 32);
    bnd = boundary;
  }
  mg_signature(s, token, ts, sig);
  /* message-headers: a JSON list of [name, value], as received. */
  sim_buf_str(&hdrs, "[[\"From\", ");
  sim_buf_json_str(&hdrs, m->from);
  sim_buf_str(&hdrs, "], [\"To\", ");
  sim_buf_json_str(&hdrs, m->to);
  sim_buf_str(&hdrs, "], [\"Subject\", ");
  sim_buf_json_str(&hdrs, m->subject ? m->subject : "");
  sim_buf_printf(&hdrs, "], [\"Message-Id\", \"<%s>\"]]", id);
  mg_field(&b, bnd, "recipient", m->to);
  mg_field(&b, bnd, "sender", addr);
  mg_field(&b, bnd, "from", m->from);
  mg_field(&b, bnd, "subject", m->subject ? m->subject : "");
  mg_field(&b, bnd, "body-plain", m->text ? m->text : "");
  mg_field(&b, bnd, "stripped-text", m->text ? m->text : "");
  mg_field(&b, bnd, "body-html", m->html);
  mg_field(&b, bnd, "stripped-html", m->html);
  mg_field(&b, bnd, "message-headers", hdrs.ptr);
  {
    char mid[210];
    snprintf(mid, sizeof(mid), "<%s>", id);
    mg_field(&b, bnd, "Message-Id", mid);
  }
  mg_field(&b, bnd, "attachment-count", m->attachment ? "1" : NULL);
  mg_field(&b, bnd, "timestamp", ts);
  mg_field(&b, bnd, "token", token);
  mg_field(&b, bnd, "signature", sig);
  if (bnd != NULL) {
    sim_buf_printf(&b, "--%s\r\nContent-Disposition: form-data; "
                   "name=\"attachment-1\"; filename=\"note.txt\"\r\n"
                   "Content-Type: text/plain\r\n\r\n", bnd);
    sim_buf_str(&b, m->attachment);
    sim_buf_printf(&b, "\r\n--%s--\r\n", bnd);
  }
  sim_buf_free(&hdrs);
  {
    char ctype[96];
    if (bnd != NULL)
      snprintf(ctype, sizeof(ctype), "multipart/form-data; boundary=%s",
               bnd);
    else
      snprintf(ctype, sizeof(ctype), "application/x-www-form-urlencoded");
    if (mg_post(&post, o.url, &b, ctype) != 0)
      return -ENOMEM;
  }
  /* One post, never duplicated or reordered: a route forwards once. */
  o.duplicates = 0;
  o.reorder = 0;
  o.off = 0;
  sim_webhook_schedule(s, "mailgun", &post, 1, &o);
  return 0;
}

const sim_provider sim_mailgun = {
  .name = "mailgun",
  .prefix = MG_PREFIX,
  .max_body = 25ull * 1024 * 1024,
  .defaults = mg_defaults,
  .handle = mg_handle,
  .error = mg_fault,
  .match = mg_match,
};
