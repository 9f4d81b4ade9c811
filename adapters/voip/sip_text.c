/*
 * The SIP adapter's own text handling (sip_text.h): URI templates, the
 * causes of final statuses, and the SDP, dtmf-relay and sipfrag bodies.
 * libre parses the SIP messages; these bodies are ours to read, so each
 * is bounded and checked line by line.
 */
#include "core/common.h"
#include "core/buf.h"
#include "vyomcomm/call.h"
#include "adapters/voip/sip_text.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define BAD(...) vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID, __VA_ARGS__)

static const char NUMBER_SLOT[] = "{number}";

/* A byte a URI may hold here: visible ASCII but for <, >, " and \. */
static int uri_byte(unsigned char c)
{
  return c > 0x20 && c < 0x7f && c != '<' && c != '>' && c != '"' &&
         c != '\\';
}

static int check_chars(const char *s, size_t len, int braces_ok)
{
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (!uri_byte(c) || (!braces_ok && (c == '{' || c == '}')))
      return -1;
  }
  return 0;
}

int vc__sip_check_uri(const char *uri, const char *what)
{
  size_t len = uri ? strnlen(uri, VC__SIP_URI_MAX + 1) : 0;
  const char *at;

  if (len == 0 || len > VC__SIP_URI_MAX)
    return BAD("%s must be a sip: URI of at most %d bytes", what,
               VC__SIP_URI_MAX);
  if (strncmp(uri, "sip:", 4) != 0 || len == 4 ||
      check_chars(uri, len, 0) < 0)
    return BAD("%s must be a sip: URI (no spaces, quotes, <, >, braces)",
               what);
  at = strchr(uri, '@');
  if (at != NULL && (at == uri + 4 || at[1] == '\0' || at[1] == ':' ||
                     at[1] == ';' || strchr(at + 1, '@') != NULL))
    return BAD("%s must have a user and a host around '@'", what);
  if (uri[4] == ':' || uri[4] == ';')
    return BAD("%s must name a host", what);
  return 0;
}

int vc__sip_check_template(const char *tmpl, const char *what)
{
  size_t len = tmpl ? strnlen(tmpl, VC__SIP_URI_MAX + 1) : 0;
  const char *slot, *at;

  if (len == 0 || len > VC__SIP_URI_MAX)
    return BAD("%s must be a sip: URI template of at most %d bytes", what,
               VC__SIP_URI_MAX);
  if (strncmp(tmpl, "sip:", 4) != 0 || check_chars(tmpl, len, 1) < 0)
    return BAD("%s must be a sip: URI template (no spaces, quotes, <, >)",
               what);
  slot = strstr(tmpl, NUMBER_SLOT);
  at = strchr(tmpl, '@');
  if (slot == NULL || strstr(slot + 1, NUMBER_SLOT) != NULL)
    return BAD("%s must hold {number} exactly once", what);
  if (at == NULL || slot > at || at[1] == '\0' || at[1] == ':' ||
      at[1] == ';' || strchr(at + 1, '@') != NULL)
    return BAD("%s must put {number} before '@' and a host after it",
               what);
  /* No other brace: a typo like {numbr} would be sent as is. */
  for (const char *p = tmpl; *p; p++)
    if ((*p == '{' || *p == '}') &&
        !(p >= slot && p < slot + sizeof(NUMBER_SLOT) - 1))
      return BAD("%s has a brace outside {number}", what);
  return 0;
}

static int number_byte(unsigned char c)
{
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
         (c >= 'A' && c <= 'Z') || c == '+' || c == '*' || c == '#' ||
         c == '-' || c == '.' || c == '_';
}

int vc__sip_expand(char *out, size_t cap, const char *tmpl,
                   const char *number)
{
  size_t nlen = number ? strnlen(number, VC__SIP_NUMBER_MAX + 1) : 0;
  const char *slot = tmpl ? strstr(tmpl, NUMBER_SLOT) : NULL;
  size_t o = 0;

  if (nlen == 0 || nlen > VC__SIP_NUMBER_MAX)
    return BAD("a number must be 1 to %d bytes", VC__SIP_NUMBER_MAX);
  for (size_t i = 0; i < nlen; i++)
    if (!number_byte((unsigned char)number[i]))
      return BAD("a number may hold only digits, letters, '+', '*', '#', "
                 "'-', '.', '_'");
  if (slot == NULL || cap == 0)
    return BAD("no {number} in the URI template");
#define PUT(s, l) do { \
    if (o + (l) >= cap) \
      return vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG, \
                           "the URI is longer than %zu bytes", cap - 1); \
    memcpy(out + o, (s), (l)); o += (l); } while (0)
  PUT(tmpl, (size_t)(slot - tmpl));
  for (size_t i = 0; i < nlen; i++) {
    if (number[i] == '#')
      PUT("%23", 3);           /* '#' is not allowed in a user part */
    else
      PUT(number + i, 1);
  }
  slot += sizeof(NUMBER_SLOT) - 1;
  PUT(slot, strlen(slot));
#undef PUT
  out[o] = '\0';
  return 0;
}

int vc__sip_cause(int scode)
{
  switch (scode) {
  case 486: case 600:
    return VC_CAUSE_BUSY;
  case 408: case 480:
    return VC_CAUSE_NO_ANSWER;
  case 487:
    return VC_CAUSE_CANCELED;
  case 603:
    return VC_CAUSE_REJECTED;
  case 404: case 410: case 484: case 485: case 604:
    return VC_CAUSE_UNREACHABLE;
  case 401: case 403: case 407:
    return VC_CAUSE_PROVIDER_ERROR;   /* the trunk refused us, not them */
  default:
    break;
  }
  if (scode >= 500 && scode < 600)
    return VC_CAUSE_PROVIDER_ERROR;
  if (scode >= 300 && scode < 400)
    return VC_CAUSE_PROVIDER_ERROR;   /* a redirect libre did not follow */
  return VC_CAUSE_REJECTED;           /* other 4xx and 6xx */
}

int vc__sip_failover_worthy(int scode)
{
  return (scode >= 500 && scode < 600) || scode == 408 || scode == 401 ||
         scode == 403 || scode == 407;
}

/* --- SDP ------------------------------------------------------------------ */

typedef struct sdp_line {
  const char *p;
  size_t len;
} sdp_line;

/* The next line of [*pos, end) into *line; 0 at the end, 1 for a line,
 * -1 for a line that is not "<letter>=..." or holds a control byte. */
static int next_line(const char **pos, const char *end, sdp_line *line)
{
  const char *p, *nl;

  for (;;) {
    p = *pos;
    if (p >= end)
      return 0;
    nl = memchr(p, '\n', (size_t)(end - p));
    *pos = nl ? nl + 1 : end;
    line->p = p;
    line->len = (size_t)((nl ? nl : end) - p);
    if (line->len > 0 && p[line->len - 1] == '\r')
      line->len--;
    if (line->len > 0)
      break;                  /* blank lines are skipped */
  }
  if (line->len < 2 || line->len > VC__SIP_SDP_LINE_MAX ||
      line->p[0] < 'a' || line->p[0] > 'z' || line->p[1] != '=')
    return -1;
  for (size_t i = 0; i < line->len; i++) {
    unsigned char c = (unsigned char)line->p[i];
    if ((c < 0x20 && c != '\t') || c == 0x7f)
      return -1;
  }
  return 1;
}

static int line_is(const sdp_line *l, const char *s)
{
  size_t n = strlen(s);
  return l->len == n && memcmp(l->p, s, n) == 0;
}

static int is_direction(const sdp_line *l)
{
  return line_is(l, "a=sendrecv") || line_is(l, "a=sendonly") ||
         line_is(l, "a=recvonly") || line_is(l, "a=inactive");
}

static const char *dir_name(int dir)
{
  switch (dir) {
  case VC__SDP_SENDRECV: return "sendrecv";
  case VC__SDP_SENDONLY: return "sendonly";
  case VC__SDP_RECVONLY: return "recvonly";
  case VC__SDP_INACTIVE: return "inactive";
  default: return NULL;
  }
}

static int put_origin(vc_buf *b, vc__sdp_origin *o)
{
  o->version++;
  return vc__buf_printf(b, "o=vyomcomm %" PRIu64 " %" PRIu64 " IN %s %s\r\n",
                        o->sess_id, o->version,
                        strchr(o->addr, ':') ? "IP6" : "IP4", o->addr);
}

static int put_line(vc_buf *b, const sdp_line *l)
{
  int rc = vc__buf_put(b, l->p, l->len);
  return rc < 0 ? rc : vc__buf_put(b, "\r\n", 2);
}

/* Check the body's bounds and that its first line is v=. */
static int sdp_start(const char *sdp, size_t n)
{
  const char *pos = sdp;
  sdp_line l;

  if (sdp == NULL || n == 0 || n > VC__SIP_SDP_MAX ||
      memchr(sdp, '\0', n) != NULL)
    return -1;
  if (next_line(&pos, sdp + n, &l) != 1 || !line_is(&l, "v=0"))
    return -1;
  return 0;
}

int vc__sip_sdp_restate(vc_buf *out, const char *sdp, size_t n, int dir,
                        vc__sdp_origin *origin)
{
  const char *pos = sdp, *end = sdp + n, *dname = dir_name(dir);
  vc_buf b = VC_BUF_INIT;
  sdp_line l;
  int rc = 0, r, in_media = 0, seen_o = 0;
  uint64_t version = origin->version;

  if (sdp_start(sdp, n) < 0)
    return BAD("the SDP body is malformed or too long");
  while ((r = next_line(&pos, end, &l)) == 1) {
    if (l.p[0] == 'o') {
      if (seen_o++)
        break;
      rc = put_origin(&b, origin);
    } else if (dname != NULL && is_direction(&l)) {
      continue;
    } else if (l.p[0] == 'm') {
      if (dname != NULL && in_media)
        rc = vc__buf_printf(&b, "a=%s\r\n", dname);
      in_media = 1;
      if (rc == 0)
        rc = put_line(&b, &l);
    } else {
      rc = put_line(&b, &l);
    }
    if (rc < 0)
      goto fail;
  }
  if (r != 0 || seen_o != 1 || !in_media) {
    rc = BAD("the SDP body is malformed");
    goto fail;
  }
  if (dname != NULL && (rc = vc__buf_printf(&b, "a=%s\r\n", dname)) < 0)
    goto fail;
  vc_buf_dispose(out);
  *out = b;
  return 0;
fail:
  origin->version = version;
  vc_buf_dispose(&b);
  return rc;
}

/* The i-th space-separated token of line `l` after its "x=". */
static int token(const sdp_line *l, int i, const char **tp, size_t *tn)
{
  const char *p = l->p + 2, *end = l->p + l->len;

  for (int k = 0;; k++) {
    const char *s;
    while (p < end && *p == ' ')
      p++;
    s = p;
    while (p < end && *p != ' ')
      p++;
    if (s == p)
      return -1;
    if (k == i) {
      *tp = s;
      *tn = (size_t)(p - s);
      return 0;
    }
  }
}

/* Whether `l` is "a=<attr>:<fmt> ..." or "a=<attr>:<fmt>". */
static int attr_for(const sdp_line *l, const char *attr, const char *fmt,
                    size_t fn)
{
  size_t an = strlen(attr);

  return l->len >= 2 + an + fn && memcmp(l->p + 2, attr, an) == 0 &&
         memcmp(l->p + 2 + an, fmt, fn) == 0 &&
         (l->len == 2 + an + fn || l->p[2 + an + fn] == ' ');
}

int vc__sip_sdp_inactive_answer(vc_buf *out, const char *sdp, size_t n,
                                vc__sdp_origin *origin)
{
  const char *pos = sdp, *end = sdp + n;
  const char *fmt = NULL;
  size_t fn = 0;
  vc_buf b = VC_BUF_INIT;
  sdp_line l;
  int rc, r, in_media = 0, rejected = 0, seen_o = 0;
  uint64_t version = origin->version;

  if (sdp_start(sdp, n) < 0)
    return BAD("the SDP offer is malformed or too long");
  if ((rc = vc__buf_puts(&b, "v=0\r\n")) < 0 ||
      (rc = put_origin(&b, origin)) < 0 ||
      (rc = vc__buf_printf(&b, "s=-\r\nc=IN %s %s\r\nt=0 0\r\n",
                           strchr(origin->addr, ':') ? "IP6" : "IP4",
                           origin->addr)) < 0)
    goto fail;
  while ((r = next_line(&pos, end, &l)) == 1) {
    if (l.p[0] == 'o' && seen_o++)
      break;
    if (l.p[0] == 'm') {
      const char *media, *port, *proto;
      size_t mn, pn, prn;
      if (in_media && !rejected &&
          (rc = vc__buf_puts(&b, "a=inactive\r\n")) < 0)
        goto fail;
      if (token(&l, 0, &media, &mn) < 0 || token(&l, 1, &port, &pn) < 0 ||
          token(&l, 2, &proto, &prn) < 0 || token(&l, 3, &fmt, &fn) < 0) {
        rc = BAD("the SDP offer has a malformed m= line");
        goto fail;
      }
      rejected = pn == 1 && port[0] == '0';
      if ((rc = vc__buf_printf(&b, "m=%.*s %s %.*s %.*s\r\n", (int)mn,
                               media, rejected ? "0" : "9", (int)prn, proto,
                               (int)fn, fmt)) < 0)
        goto fail;
      in_media = 1;
    } else if (in_media && !rejected &&
               (attr_for(&l, "rtpmap:", fmt, fn) ||
                attr_for(&l, "fmtp:", fmt, fn))) {
      if ((rc = put_line(&b, &l)) < 0)
        goto fail;
    }
  }
  if (r != 0 || !in_media || seen_o != 1) {
    rc = BAD("the SDP offer is malformed");
    goto fail;
  }
  if (!rejected && (rc = vc__buf_puts(&b, "a=inactive\r\n")) < 0)
    goto fail;
  vc_buf_dispose(out);
  *out = b;
  return 0;
fail:
  origin->version = version;
  vc_buf_dispose(&b);
  return rc;
}

/* --- dtmf-relay, sipfrag --------------------------------------------------- */

static int ieq(const char *a, size_t n, const char *lit)
{
  size_t m = strlen(lit);

  if (n != m)
    return 0;
  for (size_t i = 0; i < n; i++) {
    char c = a[i];
    if (c >= 'A' && c <= 'Z')
      c = (char)(c - 'A' + 'a');
    if (c != lit[i])
      return 0;
  }
  return 1;
}

static void trim(const char **p, size_t *n)
{
  while (*n > 0 && (**p == ' ' || **p == '\t')) {
    (*p)++;
    (*n)--;
  }
  while (*n > 0 && ((*p)[*n - 1] == ' ' || (*p)[*n - 1] == '\t' ||
                    (*p)[*n - 1] == '\r'))
    (*n)--;
}

int vc__sip_dtmf_relay(char *digit, const char *body, size_t n)
{
  const char *pos = body, *end = body + n;

  if (body == NULL || n == 0 || n > 1024)
    return BAD("the dtmf-relay body is empty or too long");
  while (pos < end) {
    const char *nl = memchr(pos, '\n', (size_t)(end - pos));
    const char *line = pos, *eq, *v;
    size_t len = (size_t)((nl ? nl : end) - pos), kn, vn;


    pos = nl ? nl + 1 : end;
    eq = memchr(line, '=', len);
    if (eq == NULL)
      continue;
    kn = (size_t)(eq - line);
    trim(&line, &kn);
    if (!ieq(line, kn, "signal"))
      continue;
    v = eq + 1;
    vn = (size_t)((nl ? nl : end) - v);
    trim(&v, &vn);
    if (vn == 1 && ((*v >= '0' && *v <= '9') || *v == '*' || *v == '#' ||
                    (*v >= 'A' && *v <= 'D') || (*v >= 'a' && *v <= 'd'))) {
      *digit = (*v >= 'a' && *v <= 'd') ? (char)(*v - 'a' + 'A') : *v;
      return 0;
    }
    if (vn == 2 && v[0] == '1' && (v[1] == '0' || v[1] == '1')) {
      *digit = v[1] == '0' ? '*' : '#';
      return 0;
    }
    return BAD("the dtmf-relay Signal is not a key");
  }
  return BAD("the dtmf-relay body has no Signal");
}

static int dtmf_key(char *digit, char c)
{
  if ((c >= '0' && c <= '9') || c == '*' || c == '#' ||
      (c >= 'A' && c <= 'D')) {
    *digit = c;
    return 0;
  }
  if (c >= 'a' && c <= 'd') {
    *digit = (char)(c - 'a' + 'A');
    return 0;
  }
  return -1;
}

int vc__sip_dtmf_plain(char *digit, const char *body, size_t n)
{
  const char *p = body;

  if (body == NULL || n == 0 || n > 64)
    return BAD("the dtmf body is empty or too long");
  while (n > 0 && (p[n - 1] == '\n' || p[n - 1] == '\r'))
    n--;
  trim(&p, &n);
  if (n != 1 || dtmf_key(digit, p[0]) < 0)
    return BAD("the dtmf body is not one key");
  return 0;
}

/* A user part: URI bytes but '@', ':', ';' and '?' (which end it). */
static int check_user(const char *u, size_t n)
{
  if (u == NULL || n == 0 || n > VC__SIP_USER_MAX)
    return -1;
  for (size_t i = 0; i < n; i++)
    if (!uri_byte((unsigned char)u[i]) || strchr("@:;?{}", u[i]) != NULL)
      return -1;
  return 0;
}

/* A host: a name, an IPv4 address or a bracketed IPv6 address. */
static int check_host(const char *h, size_t n)
{
  if (h == NULL || n == 0 || n > VC__SIP_HOST_MAX)
    return -1;
  for (size_t i = 0; i < n; i++) {
    char c = h[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
          (c >= 'A' && c <= 'Z') || c == '.' || c == '-' || c == ':' ||
          c == '[' || c == ']'))
      return -1;
  }
  return 0;
}

int vc__sip_called(char *out, size_t cap, const char *user, size_t ul,
                   const char *host, size_t hl, unsigned port)
{
  int n;

  if (check_user(user, ul) < 0)
    return BAD("the number called is empty, too long or malformed");
  if (check_host(host, hl) < 0)
    return BAD("the host called is empty, too long or malformed");
  n = port ? snprintf(out, cap, "sip:%.*s@%.*s:%u", (int)ul, user, (int)hl,
                      host, port & 0xffffu)
           : snprintf(out, cap, "sip:%.*s@%.*s", (int)ul, user, (int)hl,
                      host);
  if (n < 0 || (size_t)n >= cap)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                         "the URI called is too long");
  return 0;
}

static int is_phone(const char *u, size_t n)
{
  size_t i = u[0] == '+' ? 1 : 0;

  if (n - i < 3 || n - i > 20)
    return 0;
  for (; i < n; i++)
    if (u[i] < '0' || u[i] > '9')
      return 0;
  return 1;
}

int vc__sip_caller(char *out, size_t cap, const char *user, size_t ul,
                   const char *host, size_t hl)
{
  if (cap == 0)
    return BAD("no room for the caller");
  out[0] = '\0';
  if (ul == 0 || ieq(user, ul, "anonymous") ||
      (hl > 0 && ieq(host, hl, "anonymous.invalid")))
    return 0;
  if (check_user(user, ul) < 0)
    return BAD("the caller's user part is too long or malformed");
  if (is_phone(user, ul)) {
    if (ul >= cap)
      return vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                           "the caller is too long");
    memcpy(out, user, ul);
    out[ul] = '\0';
    return 0;
  }
  return vc__sip_called(out, cap, user, ul, host, hl, 0);
}

int vc__sip_sipfrag(const char *body, size_t n)
{
  int code;

  if (body == NULL || n < 11 || memcmp(body, "SIP/2.0 ", 8) != 0)
    return BAD("the sipfrag body has no status line");
  for (int i = 8; i < 11; i++)
    if (body[i] < '0' || body[i] > '9')
      return BAD("the sipfrag status is not a number");
  if (n > 11 && body[11] != ' ' && body[11] != '\r' && body[11] != '\n')
    return BAD("the sipfrag status is not a number");
  code = (body[8] - '0') * 100 + (body[9] - '0') * 10 + (body[10] - '0');
  if (code < 100 || code > 699)
    return BAD("the sipfrag status is out of range");
  return code;
}
