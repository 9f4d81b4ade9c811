/*
 * `vyomcomm serve`, its HTTP layer: a small HTTP/1.1 server on libre's
 * TCP sockets and HTTP parser, on the program's own thread with its own
 * libre context; routing, API keys, body limits, JSON errors, pages.
 *
 * Not http_listen(): libre's server buffers a request up to 512 KiB
 * before its handler sees it and drops a larger one without an answer.
 * Here the Content-Length is checked as soon as the headers are in, so
 * an oversized body gets its 413 before a byte of it is kept.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <re.h>

#include "cli.h"
#include "cli_config.h"
#include "serve.h"

#define MAX_HEADER_BYTES (16 * 1024)
#define MAX_HEADERS 64
#define IDLE_MS 60000       /* an idle keep-alive connection is closed */
#define DRAIN_MS 5000       /* after an early answer, input is read so long */
#define BACKLOG 1024
#define RATE_SLOTS 64
#define MQ_STOP 1

const char *const SRV_KINDS[] = { "email", "sms", "chat", "voice", NULL };
const char *const SRV_CATEGORIES[] = { "transactional", "marketing", "otp",
                                       NULL };

/* ---- the server's state (its libre thread only) --------------------- */

typedef struct rate_slot {
  char tenant_id[VC_ID_SIZE];
  int64_t window;           /* the second counted */
  unsigned count;
} rate_slot;

struct srv {
  vc_ctx *ctx;
  struct tcp_sock *ts;
  struct mqueue *mq;
  struct list conns;
  unsigned rate;            /* requests per second per tenant; 0 = any */
  rate_slot slots[RATE_SLOTS];
};

typedef struct conn {
  struct le le;
  srv *s;
  struct tcp_conn *tc;
  struct mbuf *rx;          /* unparsed input from rx->pos */
  struct tmr tmr;
  int draining;             /* answered early: discard input, then close */
} conn;

/* ---- errors ------------------------------------------------------------ */

const char *srv_code_name(int code)
{
  switch (code) {
  case VC_ERROR: return "VC_ERROR";
  case VC_ENOMEM: return "VC_ENOMEM";
  case VC_ENOTFOUND: return "VC_ENOTFOUND";
  case VC_EEXISTS: return "VC_EEXISTS";
  case VC_EINVALID: return "VC_EINVALID";
  case VC_EBUSY: return "VC_EBUSY";
  case VC_ETIMEOUT: return "VC_ETIMEOUT";
  case VC_EAUTH: return "VC_EAUTH";
  case VC_ENOTSUPPORTED: return "VC_ENOTSUPPORTED";
  case VC_ECANCELED: return "VC_ECANCELED";
  case VC_ERATELIMIT: return "VC_ERATELIMIT";
  case VC_EPROVIDER: return "VC_EPROVIDER";
  case VC_ESTORAGE: return "VC_ESTORAGE";
  case VC_EVERSION: return "VC_EVERSION";
  case VC_ECRYPTO: return "VC_ECRYPTO";
  case VC_EKEY: return "VC_EKEY";
  case VC_ECONFLICT: return "VC_ECONFLICT";
  case VC_ETOOBIG: return "VC_ETOOBIG";
  case VC_EENCODING: return "VC_EENCODING";
  case VC_ECORRUPT: return "VC_ECORRUPT";
  case VC_ESTATE: return "VC_ESTATE";
  case VC_ENET: return "VC_ENET";
  case VC_ECONSENT: return "VC_ECONSENT";
  case VC_ELOOP: return "VC_ELOOP";
  default: return "VC_ERROR";
  }
}

/* The HTTP status of a library error. */
static int code_status(int code)
{
  switch (code) {
  case VC_EINVALID: case VC_EVERSION: case VC_EENCODING: case VC_ETOOBIG:
  case VC_ELOOP:
    return 400;
  case VC_EAUTH: return 401;
  case VC_ECONSENT: return 403;
  case VC_ENOTFOUND: return 404;
  case VC_EEXISTS: case VC_ESTATE: case VC_ECONFLICT: case VC_ECANCELED:
    return 409;
  case VC_ERATELIMIT: return 429;
  case VC_ENOTSUPPORTED: return 501;
  case VC_EPROVIDER: case VC_ENET: return 502;
  case VC_EBUSY: return 503;
  case VC_ETIMEOUT: return 504;
  default: return 500;
  }
}

static const char *reason(int status)
{
  switch (status) {
  case 200: return "OK";
  case 201: return "Created";
  case 202: return "Accepted";
  case 204: return "No Content";
  case 400: return "Bad Request";
  case 401: return "Unauthorized";
  case 403: return "Forbidden";
  case 404: return "Not Found";
  case 405: return "Method Not Allowed";
  case 409: return "Conflict";
  case 411: return "Length Required";
  case 413: return "Payload Too Large";
  case 429: return "Too Many Requests";
  case 431: return "Request Header Fields Too Large";
  case 501: return "Not Implemented";
  case 502: return "Bad Gateway";
  case 503: return "Service Unavailable";
  case 504: return "Gateway Timeout";
  default: return status < 400 ? "OK" : "Error";
  }
}

int srv_fail(srv_req *req, int code, const char *fmt, ...)
{
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(req->message, sizeof(req->message), fmt, ap);
  va_end(ap);
  return code;
}

/* The length of the UTF-8 sequence at s (at most `left` bytes), or 0
 * when it is not one: an invalid, overlong or cut sequence, a
 * surrogate. */
static size_t utf8_seq(const unsigned char *s, size_t left)
{
  size_t n;
  uint32_t cp;

  if (s[0] < 0x80)
    return 1;
  if (s[0] >= 0xc2 && s[0] <= 0xdf)
    n = 2, cp = s[0] & 0x1fu;
  else if (s[0] >= 0xe0 && s[0] <= 0xef)
    n = 3, cp = s[0] & 0x0fu;
  else if (s[0] >= 0xf0 && s[0] <= 0xf4)
    n = 4, cp = s[0] & 0x07u;
  else
    return 0;
  if (n > left)
    return 0;
  for (size_t i = 1; i < n; i++) {
    if ((s[i] & 0xc0) != 0x80)
      return 0;
    cp = cp << 6 | (s[i] & 0x3fu);
  }
  if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
      (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
    return 0;
  return n;
}

static int utf8_ok(const char *s, size_t len)
{
  const unsigned char *p = (const unsigned char *)s;
  size_t i = 0, n;

  while (i < len) {
    if ((n = utf8_seq(p + i, len - i)) == 0)
      return 0;
    i += n;
  }
  return 1;
}

/* {"error":{"code":..,"name":..,"message":..}}. The message may quote a
 * request, cut to a bound: it goes out as one line of UTF-8, a control
 * character as a space and a byte outside UTF-8 (a quote cut inside a
 * character) as '?'. */
static cJSON *error_doc(int code, const char *message)
{
  cJSON *o = cJSON_CreateObject(), *e = cJSON_AddObjectToObject(o, "error");
  const unsigned char *m = (const unsigned char *)message;
  size_t len = strlen(message), i = 0, j = 0, n;
  char line[1024];

  while (i < len && j + 4 < sizeof(line)) {
    if ((n = utf8_seq(m + i, len - i)) == 0) {
      line[j++] = '?';
      i++;
    } else if (n == 1 && (m[i] < 0x20 || m[i] == 0x7f)) {
      line[j++] = ' ';
      i++;
    } else {
      memcpy(line + j, m + i, n);
      i += n;
      j += n;
    }
  }
  line[j] = '\0';
  cJSON_AddNumberToObject(e, "code", code);
  cJSON_AddStringToObject(e, "name", srv_code_name(code));
  cJSON_AddStringToObject(e, "message", line);
  return o;
}

/* ---- helpers for handlers ------------------------------------------------ */

const char *srv_query(const srv_req *req, const char *key)
{
  for (size_t i = 0; i < req->nquery; i++)
    if (strcmp(req->qkeys[i], key) == 0)
      return req->qvals[i];
  return NULL;
}

int srv_id_ok(const char *id)
{
  static const char B32[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

  if (id == NULL || strlen(id) != VC_ID_SIZE - 1)
    return 0;
  for (const char *p = id; *p != '\0'; p++)
    if (strchr(B32, *p) == NULL)
      return 0;
  return 1;
}

int srv_need_body(srv_req *req)
{
  if (req->body == NULL)
    return srv_fail(req, VC_EINVALID, "the request needs a JSON object "
                    "body");
  return 0;
}

static cJSON *field(srv_req *req, const char *name)
{
  cJSON *v = req->body ? cJSON_GetObjectItemCaseSensitive(req->body, name)
                       : NULL;

  return v != NULL && !cJSON_IsNull(v) ? v : NULL;
}

static int missing(srv_req *req, const char *name)
{
  return srv_fail(req, VC_EINVALID, "field '%s' is required", name);
}

int srv_str(srv_req *req, const char *name, int required, const char **out)
{
  cJSON *v = field(req, name);

  if (v == NULL)
    return required ? missing(req, name) : 0;
  if (!cJSON_IsString(v))
    return srv_fail(req, VC_EINVALID, "field '%s' must be a string", name);
  *out = v->valuestring;
  return 0;
}

int srv_int(srv_req *req, const char *name, int required, int64_t *out)
{
  cJSON *v = field(req, name);

  if (v == NULL)
    return required ? missing(req, name) : 0;
  if (!cJSON_IsNumber(v) || v->valuedouble != (double)(int64_t)v->valuedouble
      || v->valuedouble > 9007199254740992.0 ||
      v->valuedouble < -9007199254740992.0)
    return srv_fail(req, VC_EINVALID, "field '%s' must be an integer",
                    name);
  *out = (int64_t)v->valuedouble;
  return 0;
}

int srv_num(srv_req *req, const char *name, int required, double *out)
{
  cJSON *v = field(req, name);

  if (v == NULL)
    return required ? missing(req, name) : 0;
  if (!cJSON_IsNumber(v))
    return srv_fail(req, VC_EINVALID, "field '%s' must be a number", name);
  *out = v->valuedouble;
  return 0;
}

int srv_bool(srv_req *req, const char *name, int *out)
{
  cJSON *v = field(req, name);

  if (v == NULL)
    return 0;
  if (!cJSON_IsBool(v))
    return srv_fail(req, VC_EINVALID, "field '%s' must be true or false",
                    name);
  *out = cJSON_IsTrue(v);
  return 0;
}

int srv_obj_text(srv_req *req, const char *name, char **out)
{
  cJSON *v = field(req, name);

  *out = NULL;
  if (v == NULL)
    return 0;
  if (!cJSON_IsObject(v))
    return srv_fail(req, VC_EINVALID, "field '%s' must be an object", name);
  if ((*out = cJSON_PrintUnformatted(v)) == NULL)
    return VC_ENOMEM;
  return 0;
}

int srv_enum(srv_req *req, const char *name, int required,
             const char *const *names, int base, int *out)
{
  const char *s = NULL;
  int rc;

  if ((rc = srv_str(req, name, required, &s)) < 0 || s == NULL)
    return rc;
  for (int i = 0; names[i] != NULL; i++)
    if (strcmp(names[i], s) == 0) {
      *out = base + i;
      return 0;
    }
  return srv_fail(req, VC_EINVALID, "field '%s': unknown value '%.64s'",
                  name, s);
}

int srv_query_int(srv_req *req, const char *key, int64_t min, int64_t max,
                  int64_t *out)
{
  const char *s = srv_query(req, key);
  char *end;
  long long v;

  if (s == NULL)
    return 0;
  errno = 0;
  v = strtoll(s, &end, 10);
  if (s[0] == '\0' || *end != '\0' || errno != 0 || v < min || v > max)
    return srv_fail(req, VC_EINVALID, "query parameter '%s' must be an "
                    "integer from %lld to %lld", key, (long long)min,
                    (long long)max);
  *out = v;
  return 0;
}

int srv_page_args(srv_req *req, size_t *limit, const char **after)
{
  int64_t n = SRV_PAGE_DEFAULT;
  int rc;

  if ((rc = srv_query_int(req, "limit", 1, SRV_PAGE_MAX, &n)) < 0)
    return rc;
  *limit = (size_t)n;
  *after = srv_query(req, "after");
  if (*after != NULL && (*after)[0] == '\0')
    *after = NULL;
  return 0;
}

int srv_page(srv_res *res, vc_iter *it, size_t limit, json_next_fn next)
{
  cJSON *page = srv_object(res, 200);
  cJSON *items = cJSON_AddArrayToObject(page, "items");
  char cursor[64] = "";
  cJSON *item = NULL;
  size_t n = 0;
  int rc = 0;

  while (n < limit && (rc = next(&item, it)) == 0) {
    cJSON_AddItemToArray(items, item);
    n++;
  }
  /* A full page: peek one further to know whether another follows. */
  if (rc == 0 && n == limit) {
    const char *c = vc_iter_cursor(it);

    snprintf(cursor, sizeof(cursor), "%s", c ? c : "");
    if ((rc = next(&item, it)) == 0)
      cJSON_Delete(item);
  }
  vc_iter_free(it);
  if (rc < 0 && rc != VC_ITEROVER)
    return rc;
  if (rc == 0 && cursor[0])
    cJSON_AddStringToObject(page, "next", cursor);
  else
    cJSON_AddNullToObject(page, "next");
  return 0;
}

int srv_answer(srv_res *res, int status, cJSON *json)
{
  cJSON_Delete(res->json);
  res->status = status;
  res->json = json;
  return 0;
}

int srv_deleted(srv_res *res, const char *id)
{
  cJSON *o = srv_object(res, 200);

  cJSON_AddStringToObject(o, "id", id);
  cJSON_AddBoolToObject(o, "deleted", 1);
  return 0;
}

int srv_not_found(int rc)
{
  return rc == VC_EINVALID ? VC_ENOTFOUND : rc;
}

int srv_query_enum(srv_req *req, const char *key, const char *const *names,
                   int *out)
{
  const char *v = srv_query(req, key);

  if (v == NULL)
    return 0;
  for (int i = 0; names[i]; i++)
    if (strcmp(names[i], v) == 0) {
      *out = i + 1;
      return 0;
    }
  return srv_fail(req, VC_EINVALID, "unknown %s '%.32s'", key, v);
}

cJSON *srv_object(srv_res *res, int status)
{
  cJSON_Delete(res->json);
  res->status = status;
  res->json = cJSON_CreateObject();
  return res->json;
}

void srv_add_str(cJSON *o, const char *name, const char *v)
{
  if (v != NULL && v[0] != '\0')
    cJSON_AddStringToObject(o, name, v);
  else
    cJSON_AddNullToObject(o, name);
}

void srv_add_time(cJSON *o, const char *name, int64_t ms)
{
  if (ms != 0)
    cJSON_AddNumberToObject(o, name, (double)ms);
  else
    cJSON_AddNullToObject(o, name);
}

void srv_add_json(cJSON *o, const char *name, const char *text)
{
  cJSON *v = text != NULL && text[0] != '\0' ? cJSON_Parse(text) : NULL;

  if (v != NULL)
    cJSON_AddItemToObject(o, name, v);
  else
    cJSON_AddNullToObject(o, name);
}

/* ---- routing ---------------------------------------------------------------- */

static int get_openapi(srv_req *req, srv_res *res)
{
  (void)req;
  res->raw.status = 200;
  res->raw.content_type = "application/json";
  res->raw.body.ptr = (char *)SRV_OPENAPI_JSON;
  res->raw.body.size = SRV_OPENAPI_JSON_LEN;
  res->raw.body.reserved = 0;     /* not owned */
  return 0;
}

/* The library's own webhook path, /webhooks/{channel_id}: the status
 * callback URLs it gives providers when --base-url points here. */
static int post_channel_webhook(srv_req *req, srv_res *res)
{
  (void)vc_webhook_handle(&res->raw, req->ctx, req->http);
  if (res->raw.status == 0)
    res->raw.status = 500;
  return 0;
}

static const srv_route BASE_ROUTES[] = {
  { "GET", "/api/v1/openapi.json", get_openapi, 1 },
  { "POST", "/webhooks/{channel_id}", post_channel_webhook, 1 },
  { NULL, NULL, NULL, 0 }
};

static const srv_route *const TABLES[] = {
  BASE_ROUTES, SRV_CALL_ROUTES, SRV_MSG_ROUTES, SRV_ENGAGE_ROUTES
};
#define NTABLES (sizeof(TABLES) / sizeof(TABLES[0]))

#define PREFIX "/api/v1"

/* Match `path` (no query) against a route's pattern; the
 * {name} segments go to params (pointing into `buf`, a copy). */
static int match(const char *pattern, const char *path, char *buf,
                 size_t size, const char **params, size_t *nparams)
{
  size_t n = 0, used = 0;

  while (*pattern != '\0' && *path != '\0') {
    size_t pl = strcspn(pattern + 1, "/") + 1;
    size_t sl = strcspn(path + 1, "/") + 1;

    if (*pattern != '/' || *path != '/')
      return 0;
    if (pattern[1] == '{') {
      if (sl < 2 || n == SRV_MAX_PARAMS || used + sl > size)
        return 0;
      memcpy(buf + used, path + 1, sl - 1);
      buf[used + sl - 1] = '\0';
      params[n++] = buf + used;
      used += sl;
    } else if (pl != sl || memcmp(pattern, path, pl) != 0) {
      return 0;
    }
    pattern += pl;
    path += sl;
  }
  if (*pattern != '\0' || *path != '\0')
    return 0;
  *nparams = n;
  return 1;
}

static int hexval(int c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* Decode %XX and '+' in place; 0, or -1 for a bad escape or a NUL. */
static int url_decode(char *s)
{
  char *o = s;

  for (; *s != '\0'; s++) {
    if (*s == '+') {
      *o++ = ' ';
    } else if (*s == '%') {
      int hi = hexval((unsigned char)s[1]), lo;

      if (hi < 0 || (lo = hexval((unsigned char)s[2])) < 0 ||
          (hi == 0 && lo == 0))
        return -1;
      *o++ = (char)(hi * 16 + lo);
      s += 2;
    } else {
      *o++ = *s;
    }
  }
  *o = '\0';
  return 0;
}

/* Split the query (in a writable copy) into req's pairs. */
static int parse_query(srv_req *req, char *q)
{
  while (q != NULL && *q != '\0') {
    char *amp = strchr(q, '&'), *eq;

    if (amp != NULL)
      *amp = '\0';
    if (*q != '\0') {
      if (req->nquery == SRV_MAX_QUERY)
        return srv_fail(req, VC_EINVALID, "more than %d query parameters",
                        SRV_MAX_QUERY);
      eq = strchr(q, '=');
      if (eq != NULL)
        *eq = '\0';
      if (url_decode(q) < 0 || (eq != NULL && url_decode(eq + 1) < 0) ||
          !utf8_ok(q, strlen(q)) ||
          (eq != NULL && !utf8_ok(eq + 1, strlen(eq + 1))))
        return srv_fail(req, VC_EINVALID, "malformed query string");
      req->qkeys[req->nquery] = q;
      req->qvals[req->nquery++] = eq != NULL ? eq + 1 : "";
    }
    q = amp != NULL ? amp + 1 : NULL;
  }
  return 0;
}

/* "Bearer <key>" → the key's tenant. */
static int authenticate(srv_req *req)
{
  const char *h = vc_http_request_header(req->http, "Authorization");
  int rc;

  if (h == NULL)
    return srv_fail(req, VC_EAUTH, "an API key is required "
                    "(Authorization: Bearer <key>)");
  if (strncasecmp(h, "Bearer ", 7) != 0)
    return srv_fail(req, VC_EAUTH, "the Authorization header must be "
                    "'Bearer <key>'");
  h += 7;
  while (*h == ' ')
    h++;
  if ((rc = vc_apikey_verify(&req->tenant, req->ctx, h)) == VC_EAUTH)
    return srv_fail(req, VC_EAUTH, "the API key is not valid");
  return rc;
}

/* A fixed one-second window per tenant, in a small table. */
static int rate_ok(srv *s, const char *tenant_id)
{
  int64_t now = (int64_t)(tmr_jiffies() / 1000);
  rate_slot *free_slot = NULL, *oldest = &s->slots[0];

  if (s->rate == 0)
    return 1;
  for (size_t i = 0; i < RATE_SLOTS; i++) {
    rate_slot *r = &s->slots[i];

    if (strcmp(r->tenant_id, tenant_id) == 0) {
      if (r->window != now) {
        r->window = now;
        r->count = 0;
      }
      return ++r->count <= s->rate;
    }
    if (r->tenant_id[0] == '\0' && free_slot == NULL)
      free_slot = r;
    if (r->window < oldest->window)
      oldest = r;
  }
  if (free_slot == NULL)
    free_slot = oldest;
  snprintf(free_slot->tenant_id, sizeof(free_slot->tenant_id), "%s",
           tenant_id);
  free_slot->window = now;
  free_slot->count = 1;
  return 1;
}

static void set_error(srv_res *res, int status, int code, const char *msg)
{
  cJSON_Delete(res->json);
  res->status = status;
  res->json = error_doc(code, msg);
}

static char *copy_str(const char *s)
{
  size_t n = strlen(s) + 1;
  char *d = malloc(n);

  if (d != NULL)
    memcpy(d, s, n);
  return d;
}

/* Answer one request into `res` (a JSON document or raw bytes). */
static void dispatch(srv *s, const vc_http_request *http, srv_res *res,
                     char *allow, size_t allow_size)
{
  srv_req req;
  const srv_route *found = NULL;
  char path[2048], params[2048], *query;
  size_t len = strcspn(http->target, "?");
  int rc, any = 0;

  memset(&req, 0, sizeof(req));
  req.ctx = s->ctx;
  req.http = http;
  req.method = http->method;
  allow[0] = '\0';
  /* A request target is ASCII (RFC 3986: other bytes are %-escaped). */
  for (const char *p = http->target; *p != '\0'; p++)
    if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f) {
      set_error(res, 400, VC_EINVALID, "malformed request target");
      return;
    }
  if (len >= sizeof(path)) {
    set_error(res, 404, VC_ENOTFOUND, "no such route");
    return;
  }
  memcpy(path, http->target, len);
  path[len] = '\0';
  query = http->target[len] == '?' ? copy_str(http->target + len + 1) : NULL;

  for (size_t t = 0; t < NTABLES && found == NULL; t++)
    for (const srv_route *r = TABLES[t]; r->method != NULL; r++) {
      size_t np;

      if (!match(r->path, path, params, sizeof(params), req.params, &np))
        continue;
      any = 1;
      if (strcmp(r->method, http->method) == 0) {
        found = r;
        req.nparams = np;
        break;
      }
      if (strlen(allow) + strlen(r->method) + 3 < allow_size)
        snprintf(allow + strlen(allow), allow_size - strlen(allow), "%s%s",
                 allow[0] ? ", " : "", r->method);
    }
  if (found == NULL) {
    if (any)
      set_error(res, 405, VC_EINVALID, "method not allowed on this route");
    else
      set_error(res, 404, VC_ENOTFOUND, "no such route");
    free(query);
    return;
  }
  allow[0] = '\0';
  if (!found->open && (rc = authenticate(&req)) < 0)
    goto fail;
  if (req.tenant != NULL && !rate_ok(s, vc_tenant_id(req.tenant))) {
    rc = srv_fail(&req, VC_ERATELIMIT, "more than %u requests in a second",
                  s->rate);
    goto fail;
  }
  if ((rc = parse_query(&req, query)) < 0)
    goto fail;
  if (!found->open && http->body_len > 0) {
    const char *end = NULL;

    if (!utf8_ok((const char *)http->body, http->body_len)) {
      rc = srv_fail(&req, VC_EENCODING, "the body is not UTF-8");
      goto fail;
    }
    req.body = cJSON_ParseWithLengthOpts((const char *)http->body,
                                         http->body_len, &end, 0);
    if (req.body == NULL) {
      rc = srv_fail(&req, VC_EINVALID, "the body is not valid JSON (near "
                    "byte %zu)", end != NULL
                    ? (size_t)(end - (const char *)http->body) : (size_t)0);
      goto fail;
    }
    if (!cJSON_IsObject(req.body)) {
      rc = srv_fail(&req, VC_EINVALID, "the body must be a JSON object");
      goto fail;
    }
  }
  vc_error_clear();
  rc = found->run(&req, res);
  if (rc >= 0)
    goto done;
fail:
  {
    const vc_error *e = vc_error_last();
    const char *msg = req.message[0] ? req.message
                      : e->code == rc ? e->message : vc_strerror(rc);

    /* A storage error's detail stays in the server's log. */
    if (code_status(rc) >= 500 && code_status(rc) != 501) {
      fprintf(stderr, "vyomcomm: %s %s: %s (%d): %s\n", http->method, path,
              srv_code_name(rc), rc, msg);
      if (rc == VC_ESTORAGE || rc == VC_ECORRUPT || rc == VC_ENOMEM ||
          rc == VC_ERROR)
        msg = "internal error (see the server's log)";
    }
    if (res->raw.status != 0 && res->raw.body.reserved != 0)
      vc_http_response_dispose(&res->raw);
    memset(&res->raw, 0, sizeof(res->raw));
    set_error(res, code_status(rc), rc, msg);
  }
done:
  cJSON_Delete(req.body);
  vc_tenant_free(req.tenant);
  free(query);
}

/* ---- connections ------------------------------------------------------------ */

static void conn_destructor(void *arg)
{
  conn *c = arg;

  tmr_cancel(&c->tmr);
  list_unlink(&c->le);
  c->tc = mem_deref(c->tc);
  c->rx = mem_deref(c->rx);
}

static void conn_close(conn *c)
{
  mem_deref(c);
}

static void on_timeout(void *arg)
{
  conn_close(arg);
}

static void send_answer(conn *c, int status, const char *ctype,
                        const char *body, size_t len, const char *allow,
                        const char *extra)
{
  struct mbuf *mb = mbuf_alloc(256 + len);

  if (mb == NULL)
    return;
  (void)mbuf_printf(mb, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
                    "Content-Length: %zu\r\n%s%s%s%s\r\n", status,
                    reason(status), ctype, len,
                    allow && allow[0] ? "Allow: " : "",
                    allow && allow[0] ? allow : "",
                    allow && allow[0] ? "\r\n" : "", extra ? extra : "");
  (void)mbuf_write_mem(mb, (const uint8_t *)body, len);
  mb->pos = 0;
  (void)tcp_send(c->tc, mb);
  mem_deref(mb);
}

/* Answer without reading the rest: the error, then drain and close. */
static void fail_early(conn *c, int status, int code, const char *msg)
{
  cJSON *doc = error_doc(code, msg);
  char *text = cJSON_PrintUnformatted(doc);

  if (text != NULL)
    send_answer(c, status, "application/json", text, strlen(text), NULL,
                "Connection: close\r\n");
  cJSON_free(text);
  cJSON_Delete(doc);
  c->draining = 1;
  c->rx = mem_deref(c->rx);
  tmr_start(&c->tmr, DRAIN_MS, on_timeout, c);
}

static char *pl_copy(const struct pl *pl)
{
  char *s = malloc(pl->l + 1);

  if (s != NULL) {
    memcpy(s, pl->p ? pl->p : "", pl->l);
    s[pl->l] = '\0';
  }
  return s;
}

/* The bytes of the answer in `r->res`, as the server writes them. */
static void render(srv_reply *r)
{
  if (r->res.raw.status != 0) {
    r->status = r->res.raw.status;
    r->content_type = r->res.raw.content_type ? r->res.raw.content_type
                                              : "text/plain";
    r->body = r->res.raw.body.ptr ? r->res.raw.body.ptr : "";
    r->len = r->res.raw.body.size;
    r->allow[0] = '\0';
    return;
  }
  r->content_type = "application/json";
  r->text = r->res.json ? cJSON_PrintUnformatted(r->res.json) : NULL;
  if (r->text == NULL) {
    r->status = 500;
    r->body = "{}";
    r->len = 2;
    r->allow[0] = '\0';
  } else {
    r->status = r->res.status;
    r->body = r->text;
    r->len = strlen(r->text);
  }
}

int srv_new(srv **out, vc_ctx *ctx, unsigned rate)
{
  srv *s = calloc(1, sizeof(*s));

  *out = s;
  if (s == NULL)
    return VC_ENOMEM;
  s->ctx = ctx;
  s->rate = rate;
  list_init(&s->conns);
  return 0;
}

void srv_free(srv *s)
{
  free(s);
}

void srv_reply_to(srv_reply *out, srv *s, const vc_http_request *http)
{
  memset(out, 0, sizeof(*out));
  dispatch(s, http, &out->res, out->allow, sizeof(out->allow));
  render(out);
}

void srv_reply_dispose(srv_reply *r)
{
  if (r->res.raw.status != 0 && r->res.raw.body.reserved != 0)
    vc_http_response_dispose(&r->res.raw);
  cJSON_Delete(r->res.json);
  cJSON_free(r->text);
  memset(r, 0, sizeof(*r));
}

/* One complete request: hand it to dispatch() and write the answer. */
static void conn_request(conn *c, const struct http_msg *msg,
                         const uint8_t *body, size_t len)
{
  vc_http_header headers[MAX_HEADERS];
  char *names[MAX_HEADERS], *values[MAX_HEADERS];
  vc_http_request req = VC_HTTP_REQUEST_INIT;
  srv_reply r;
  char *method = pl_copy(&msg->met), *target;
  size_t n = 0;
  struct le *le;

  target = malloc(msg->path.l + msg->prm.l + 2);
  for (le = msg->hdrl.head; le != NULL && n < MAX_HEADERS; le = le->next) {
    const struct http_hdr *h = le->data;

    names[n] = pl_copy(&h->name);
    values[n] = pl_copy(&h->val);
    headers[n].name = names[n] ? names[n] : "";
    headers[n].value = values[n] ? values[n] : "";
    n++;
  }
  if (method == NULL || target == NULL) {
    memset(&r, 0, sizeof(r));
    set_error(&r.res, 500, VC_ENOMEM, "out of memory");
    render(&r);
  } else {
    snprintf(target, msg->path.l + msg->prm.l + 2, "%.*s%s%.*s",
             (int)msg->path.l, msg->path.p,
             msg->prm.l > 0 && msg->prm.p[0] != '?' ? "?" : "",
             (int)msg->prm.l, msg->prm.p);
    req.method = method;
    req.target = target;
    req.headers = headers;
    req.nheaders = n;
    req.body = body;
    req.body_len = len;
    srv_reply_to(&r, c->s, &req);
  }
  send_answer(c, r.status, r.content_type, r.body, r.len, r.allow, NULL);
  srv_reply_dispose(&r);
  for (size_t i = 0; i < n; i++) {
    free(names[i]);
    free(values[i]);
  }
  free(method);
  free(target);
}

/* Drop the consumed part of the input. */
static int rx_compact(conn *c)
{
  struct mbuf *nb;
  size_t left = c->rx ? mbuf_get_left(c->rx) : 0;

  if (c->rx == NULL)
    return 0;
  if (left == 0) {
    c->rx = mem_deref(c->rx);
    return 0;
  }
  if (c->rx->pos == 0)
    return 0;
  if ((nb = mbuf_alloc(left)) == NULL)
    return ENOMEM;
  (void)mbuf_write_mem(nb, mbuf_buf(c->rx), left);
  nb->pos = 0;
  mem_deref(c->rx);
  c->rx = nb;
  return 0;
}

static void conn_process(conn *c)
{
  while (c->rx != NULL && !c->draining) {
    struct mbuf *rx = c->rx;
    size_t start = rx->pos;
    struct http_msg *msg = NULL;
    const struct http_hdr *h;
    int err;

    err = http_msg_decode(&msg, rx, true);
    if (err == ENODATA) {
      rx->pos = start;
      if (mbuf_get_left(rx) > MAX_HEADER_BYTES)
        fail_early(c, 431, VC_ETOOBIG, "request headers too large");
      return;
    }
    if (err != 0) {
      fail_early(c, 400, VC_EINVALID, "malformed HTTP request");
      return;
    }
    if (http_msg_hdr(msg, HTTP_HDR_TRANSFER_ENCODING) != NULL) {
      mem_deref(msg);
      fail_early(c, 411, VC_EINVALID, "send a Content-Length, not a "
                 "chunked body");
      return;
    }
    h = http_msg_hdr(msg, HTTP_HDR_CONTENT_LENGTH);
    if ((h != NULL && h->val.l > 9) || msg->clen > SRV_MAX_BODY) {
      char m[96];

      mem_deref(msg);
      snprintf(m, sizeof(m), "the request body is over %d bytes",
               SRV_MAX_BODY);
      fail_early(c, 413, VC_ETOOBIG, m);
      return;
    }
    if (mbuf_get_left(rx) < msg->clen) {
      size_t need = msg->clen - mbuf_get_left(rx);

      mem_deref(msg);
      rx->pos = start;
      if (rx_compact(c) == 0 && c->rx->size < c->rx->end + need)
        (void)mbuf_resize(c->rx, c->rx->end + need);
      return;
    }
    conn_request(c, msg, mbuf_buf(rx), msg->clen);
    mbuf_advance(rx, (ssize_t)msg->clen);
    mem_deref(msg);
    if (rx_compact(c) != 0) {
      conn_close(c);
      return;
    }
  }
}

static void on_recv(struct mbuf *mb, void *arg)
{
  conn *c = arg;

  if (c->draining) {
    tmr_start(&c->tmr, DRAIN_MS, on_timeout, c);
    return;
  }
  tmr_start(&c->tmr, IDLE_MS, on_timeout, c);
  if (c->rx == NULL) {
    c->rx = mem_ref(mb);
  } else {
    size_t pos = c->rx->pos;

    c->rx->pos = c->rx->end;
    if (mbuf_write_mem(c->rx, mbuf_buf(mb), mbuf_get_left(mb)) != 0) {
      conn_close(c);
      return;
    }
    c->rx->pos = pos;
  }
  conn_process(c);
}

static void on_close(int err, void *arg)
{
  (void)err;
  conn_close(arg);
}

static void on_connect(const struct sa *peer, void *arg)
{
  srv *s = arg;
  conn *c = mem_zalloc(sizeof(*c), conn_destructor);

  (void)peer;
  if (c == NULL) {
    tcp_reject(s->ts);
    return;
  }
  c->s = s;
  tmr_init(&c->tmr);
  list_append(&s->conns, &c->le, c);
  if (tcp_accept(&c->tc, s->ts, NULL, on_recv, on_close, c) != 0) {
    mem_deref(c);
    tcp_reject(s->ts);
    return;
  }
  tmr_start(&c->tmr, IDLE_MS, on_timeout, c);
}

/* ---- the program ------------------------------------------------------------ */

static void on_mqueue(int id, void *data, void *arg)
{
  (void)data;
  (void)arg;
  if (id == MQ_STOP)
    re_cancel();
}

/* SIGINT and SIGTERM are blocked in every thread; this one waits for
 * them and stops the loop. */
static void *signal_thread(void *arg)
{
  srv *s = arg;
  sigset_t set;
  int sig;

  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  if (sigwait(&set, &sig) == 0)
    (void)mqueue_push(s->mq, MQ_STOP, NULL);
  return NULL;
}

static void print_routes(void)
{
  for (size_t t = 0; t < NTABLES; t++)
    for (const srv_route *r = TABLES[t]; r->method != NULL; r++)
      printf("%s %s\n", r->method, r->path);
}

static int usage(void)
{
  fprintf(stderr, "usage: vyomcomm serve [--listen ADDR] [--threads N] "
          "[--rate N] [--store PATH] [--key-file PATH] [--base-url URL] "
          "[--config PATH]\n");
  return EXIT_USAGE;
}

static int listen_on(srv *s, const char *addr, uint16_t *port)
{
  struct sa laddr;
  int err;

  if ((err = sa_decode(&laddr, addr, strlen(addr))) != 0) {
    fprintf(stderr, "vyomcomm: --listen wants HOST:PORT, not '%s'\n", addr);
    return err;
  }
  if ((err = tcp_sock_alloc(&s->ts, &laddr, on_connect, s)) == 0 &&
      (err = tcp_sock_bind(s->ts, &laddr)) == 0 &&
      (err = tcp_sock_listen(s->ts, BACKLOG)) == 0 &&
      (err = tcp_local_get(s->ts, &laddr)) == 0)
    *port = sa_port(&laddr);
  if (err != 0)
    fprintf(stderr, "vyomcomm: cannot listen on %s: %s\n", addr,
            strerror(err));
  return err;
}

int cmd_serve(int argc, char **argv)
{
  const char *addr = "127.0.0.1:8080";
  unsigned threads = 2, rate = 0;
  cli_config cfg;
  srv s;
  sigset_t set;
  pthread_t sig_thread;
  uint16_t port = 0;
  int rc, err, sig_started = 0;

  if ((rc = cli_config_load(&cfg, &argc, argv)) != 0)
    return rc;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--routes") == 0) {
      print_routes();
      return EXIT_OK;
    } else if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc) {
      addr = argv[++i];
    } else if ((strcmp(argv[i], "--threads") == 0 ||
                strcmp(argv[i], "--rate") == 0) && i + 1 < argc) {
      char *end;
      long v = strtol(argv[i + 1], &end, 10);

      if (*end != '\0' || v < 0 || v > 1000000 ||
          (argv[i][2] == 't' && (v < 1 || v > 64)))
        return usage();
      if (argv[i][2] == 't')
        threads = (unsigned)v;
      else
        rate = (unsigned)v;
      i++;
    } else {
      return usage();
    }
  }

  /* Before any thread starts, so that every thread inherits the mask. */
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, NULL);

  memset(&s, 0, sizeof(s));
  s.rate = rate;
  if ((rc = cli_ctx_open(&s.ctx, &cfg)) < 0)
    return EXIT_FAILED;
  if ((rc = vc_ctx_start(s.ctx, threads)) < 0) {
    cli_error(&cfg, "start the engine", rc);
    vc_ctx_free(s.ctx);
    return EXIT_FAILED;
  }
  if ((err = re_thread_init()) != 0) {
    fprintf(stderr, "vyomcomm: cannot start libre: %s\n", strerror(err));
    rc = -1;
    goto stop;
  }
  list_init(&s.conns);
  if ((err = mqueue_alloc(&s.mq, on_mqueue, &s)) != 0 ||
      (err = listen_on(&s, addr, &port)) != 0) {
    rc = -1;
    goto close;
  }
  if (pthread_create(&sig_thread, NULL, signal_thread, &s) == 0)
    sig_started = 1;
  printf("vyomcomm: serving http://%.*s:%u%s/ (%u engine threads)\n",
         (int)strcspn(addr, ":"), addr, port, PREFIX, threads);
  fflush(stdout);
  (void)re_main(NULL);
  rc = 0;
close:
  list_flush(&s.conns);
  s.ts = mem_deref(s.ts);
  if (sig_started) {
    /* It has returned after a signal; else wake it with one. */
    pthread_kill(sig_thread, SIGTERM);
    pthread_join(sig_thread, NULL);
  }
  s.mq = mem_deref(s.mq);
  re_thread_close();
stop:
  vc_ctx_stop(s.ctx);
  vc_ctx_free(s.ctx);
  if (rc == 0) {
    fprintf(stderr, "vyomcomm: stopped\n");
    return EXIT_OK;
  }
  return EXIT_FAILED;
}
