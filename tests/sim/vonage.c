/*
 * Vonage SMS API (rest.nexmo.com), as the real API answers:
 *
 *   POST /sms/json
 *
 * A form-encoded body with api_key and api_secret (or api_key and a
 * `sig` over the parameters), from, to (digits, no '+'), text, and the
 * optional type, callback and client-ref. Everything processed is HTTP
 * 200 with {"message-count", "messages": [...]}: one entry per SMS part
 * on success, one entry with a non-zero "status" and an "error-text"
 * when refused (2 missing parameter, 3 invalid parameter, 4 bad
 * credentials, 1 throttled, ...). providers.md section 9.
 *
 * Delivery receipts go, one per part, to the request's `callback` (or
 * the webhook URL): JSON (the spec's shape) or a form, signed with a
 * `sig` parameter (md5hash, md5hmac, sha1hmac, sha256hmac, sha512hmac)
 * or a Bearer JWT (HS256, payload_hash), per vonage.signature_method.
 * vc_sim_vonage_inbound() posts an inbound SMS the same way.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mbedtls/md.h>

#include "sim_int.h"

#define VN_PATH "/sms/json"
#define VN_MAX_CHARS 3600      /* the simulator's cap (status 12) */
#define VN_CALLBACK_MAX 100
#define VN_CLIENT_REF_MAX 40
#define VN_SENDER_MAX 11
#define VN_PARAMS_MAX 24
#define VN_MAX_PARTS 255        /* parts are numbered in one octet */

static const char *const vn_defaults[] = {
  "api_key", VC_SIM_VONAGE_API_KEY,
  "api_secret", VC_SIM_VONAGE_API_SECRET,
  "signature_secret", VC_SIM_VONAGE_SIGNATURE_SECRET,
  /* md5hash, md5hmac, sha1hmac, sha256hmac, sha512hmac, jwt, none */
  "signature_method", "md5hash",
  /* json (the spec's receipts) or form */
  "webhook_format", "json",
  /* recipients answered with status 7, comma-separated digits */
  "barred", "",
  "price", "0.03330000",
  /* The price each part's receipt carries; "" for the same as price
   * (what Vonage does). */
  "receipt_price", "",
  "network", "23410",
  NULL
};

typedef struct vn_state {
  vc_sim *sim;
  unsigned long parts;   /* sent so far: the balance goes down */
} vn_state;

/* ---- answers ---------------------------------------------------------- */

/* Vonage's refusal: HTTP 200, one messages[] entry with the status. */
static void vn_refuse(sim_resp *rs, int code, const char *text)
{
  sim_resp_reset(rs);
  rs->status = 200;
  rs->content_type = "application/json";
  sim_buf_printf(&rs->body, "{\"message-count\":\"1\",\"messages\":[{"
                 "\"status\":\"%d\",\"error-text\":", code);
  sim_buf_json_str(&rs->body, text);
  sim_buf_str(&rs->body, "}]}");
}

static void vn_fault(vc_sim *sim, void *state, int status,
                     unsigned retry_after_s, sim_resp *rs)
{
  (void)sim;
  (void)state;
  if (status == 413) {
    sim_resp_reset(rs);
    rs->status = 413;
    rs->content_type = "text/html";
    sim_buf_str(&rs->body, "<html><body><h1>413 Request Entity Too Large"
                "</h1></body></html>\n");
  } else if (status == 429) {
    /* Vonage throttles inside a 200, with the wait in the text. */
    char text[96];
    snprintf(text, sizeof(text), "Throughput Rate Exceeded - please wait "
             "[ %u ] and retry", retry_after_s * 1000);
    vn_refuse(rs, 1, text);
  } else {
    vn_refuse(rs, 5, "Internal Error");
    rs->status = status;
  }
}

/* ---- text measure ----------------------------------------------------- */

/* Next code point of UTF-8 text; a stray byte counts as itself. */
static unsigned long vn_utf8_next(const unsigned char **pp,
                                  const unsigned char *e)
{
  const unsigned char *p = *pp;
  unsigned long cp = *p;
  int n, i;

  if (cp >= 0xf0 && cp < 0xf8)
    n = 3, cp &= 0x07;
  else if (cp >= 0xe0 && cp < 0xf0)
    n = 2, cp &= 0x0f;
  else if (cp >= 0xc0 && cp < 0xe0)
    n = 1, cp &= 0x1f;
  else
    n = 0;
  if (n == 0 || e - p <= n)
    goto stray;
  for (i = 1; i <= n; i++) {
    if ((p[i] & 0xc0) != 0x80)
      goto stray;
    cp = cp << 6 | (p[i] & 0x3f);
  }
  *pp = p + n + 1;
  return cp;
stray:
  *pp = p + 1;
  return *p;
}

/* Septets of a code point in GSM-7: 1 basic, 2 extension, 0 neither. */
static int vn_gsm7(unsigned long c)
{
  static const unsigned long basic[] = {
    0xa3, 0xa5, 0xe8, 0xe9, 0xf9, 0xec, 0xf2, 0xc7, 0xd8, 0xf8, 0xc5,
    0xe5, 0x394, 0x3a6, 0x393, 0x39b, 0x3a9, 0x3a0, 0x3a8, 0x3a3, 0x398,
    0x39e, 0xc6, 0xe6, 0xdf, 0xc9, 0xa4, 0xa1, 0xc4, 0xd6, 0xd1, 0xdc,
    0xa7, 0xbf, 0xe4, 0xf6, 0xf1, 0xfc, 0xe0 };
  size_t i;

  if (c == '\n' || c == '\r')
    return 1;
  if (c == 0x0c || c == 0x20ac)
    return 2;
  if (c >= 0x20 && c < 0x7f)
    return strchr("[\\]^{|}~", (int)c) ? 2 : c == '`' ? 0 : 1;
  for (i = 0; i < sizeof(basic) / sizeof(basic[0]); i++)
    if (basic[i] == c)
      return 1;
  return 0;
}

static int vn_is_gsm(const char *s)
{
  const unsigned char *p = (const unsigned char *)s, *e = p + strlen(s);

  while (p < e)
    if (vn_gsm7(vn_utf8_next(&p, e)) == 0)
      return 0;
  return 1;
}

/*
 * Characters, and the parts Vonage splits the text into: GSM-7 septets
 * for type=text (160, then 153 a part; an escape pair never split; a
 * character without a GSM-7 form goes as one septet), UTF-16 units for
 * type=unicode (70, then 67; a surrogate pair never split).
 */
static void vn_measure(const char *text, int unicode, size_t *chars,
                       unsigned *parts)
{
  const unsigned char *p = (const unsigned char *)text;
  const unsigned char *e = p + strlen(text);
  size_t total = 0, n = 0, used = 0;
  unsigned multi = 1;
  size_t single = unicode ? 70 : 160, each = unicode ? 67 : 153;

  /* First the total, to know whether the text is split at all. */
  while (p < e) {
    unsigned long c = vn_utf8_next(&p, e);
    int w = unicode ? (c > 0xffff ? 2 : 1) : (vn_gsm7(c) == 2 ? 2 : 1);
    n++;
    total += (size_t)w;
  }
  *chars = n;
  if (total <= single) {
    *parts = 1;
    return;
  }
  for (p = (const unsigned char *)text; p < e;) {
    unsigned long c = vn_utf8_next(&p, e);
    size_t w = unicode ? (c > 0xffff ? 2 : 1) : (vn_gsm7(c) == 2 ? 2 : 1);
    if (used + w > each) {
      multi++;
      used = 0;
    }
    used += w;
  }
  *parts = multi;
}

/* ---- signatures ------------------------------------------------------- */

typedef struct vn_param {
  const char *k, *v;
} vn_param;

static int vn_param_cmp(const void *a, const void *b)
{
  return strcmp(((const vn_param *)a)->k, ((const vn_param *)b)->k);
}

static const mbedtls_md_info_t *vn_md(const char *method)
{
  mbedtls_md_type_t t;

  if (strcmp(method, "md5hash") == 0 || strcmp(method, "md5hmac") == 0)
    t = MBEDTLS_MD_MD5;
  else if (strcmp(method, "sha1hmac") == 0)
    t = MBEDTLS_MD_SHA1;
  else if (strcmp(method, "sha256hmac") == 0)
    t = MBEDTLS_MD_SHA256;
  else if (strcmp(method, "sha512hmac") == 0)
    t = MBEDTLS_MD_SHA512;
  else
    return NULL;
  return mbedtls_md_info_from_type(t);
}

/*
 * The `sig` of params (any "sig" among them skipped): "&name=value" per
 * parameter in name order, '&' and '=' in the text replaced by '_';
 * md5hash is the lowercase hex MD5 of that plus the secret, the HMACs
 * uppercase hex under the secret. 0, or -EINVAL for a method without a
 * sig.
 */
static int vn_sig(const char *method, const char *secret,
                  const vn_param *in, size_t n, char out[130])
{
  const mbedtls_md_info_t *md = vn_md(method);
  vn_param p[VN_PARAMS_MAX];
  unsigned char mac[64];
  sim_buf s = { 0 };
  size_t i, k = 0, len;
  int rc;

  if (md == NULL || n > VN_PARAMS_MAX)
    return -EINVAL;
  for (i = 0; i < n; i++)
    if (strcmp(in[i].k, "sig") != 0)
      p[k++] = in[i];
  qsort(p, k, sizeof(*p), vn_param_cmp);
  sim_buf_str(&s, "");
  for (i = 0; i < k; i++) {
    size_t at;
    sim_buf_printf(&s, "&%s=", p[i].k);
    at = s.len;
    sim_buf_str(&s, p[i].v);
    if (strcmp(p[i].k, "text") == 0 && s.ptr != NULL)
      for (; at < s.len; at++)
        if (s.ptr[at] == '&' || s.ptr[at] == '=')
          s.ptr[at] = '_';
  }
  if (strcmp(method, "md5hash") == 0) {
    sim_buf_str(&s, secret);
    rc = s.oom ? -1 : mbedtls_md(md, (const unsigned char *)s.ptr, s.len,
                                 mac);
  } else {
    rc = s.oom ? -1 : mbedtls_md_hmac(md, (const unsigned char *)secret,
                                      strlen(secret),
                                      (const unsigned char *)s.ptr, s.len,
                                      mac);
  }
  sim_buf_free(&s);
  if (rc != 0)
    return -ENOMEM;
  len = mbedtls_md_get_size(md);
  for (i = 0; i < len; i++)
    sprintf(out + 2 * i, strcmp(method, "md5hash") == 0 ? "%02x" : "%02X",
            mac[i]);
  out[2 * len] = '\0';
  return 0;
}

/* Base64url without padding. */
static void vn_b64url(sim_buf *b, const void *in, size_t n)
{
  char tmp[1400];
  size_t i;

  if (sim_base64(tmp, sizeof(tmp), in, n) != 0) {
    b->oom = 1;
    return;
  }
  for (i = 0; tmp[i] && tmp[i] != '='; i++)
    tmp[i] = tmp[i] == '+' ? '-' : tmp[i] == '/' ? '_' : tmp[i];
  sim_buf_add(b, tmp, i);
}

/* "Authorization: Bearer <JWT>" over a body, signed now (the sign hook:
 * iat is the time of the POST). */
static char *vn_jwt_header(vc_sim *sim, const sim_post *post)
{
  static const char hdr[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
  const mbedtls_md_info_t *sha = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
  char secret[300], key[64], jti[40], hash[65], claims[400];
  unsigned char d[32];
  sim_buf t = { 0 };
  char *out = NULL;
  size_t i;

  sim_setting(sim, "vonage.signature_secret", secret, sizeof(secret));
  sim_setting(sim, "vonage.api_key", key, sizeof(key));
  mbedtls_md(sha, (const unsigned char *)post->body, post->body_len, d);
  for (i = 0; i < 32; i++)
    sprintf(hash + 2 * i, "%02x", d[i]);
  sim_random_hex(jti, 32);
  snprintf(claims, sizeof(claims), "{\"iat\":%lld,\"jti\":\"%.8s-%.4s-"
           "%.4s-%.4s-%.12s\",\"iss\":\"Vonage\",\"payload_hash\":\"%s\","
           "\"api_key\":\"%s\",\"application_id\":\"00000000-0000-4000-"
           "8000-000000000000\"}", (long long)(sim_now_ms() / 1000), jti,
           jti + 8, jti + 12, jti + 16, jti + 20, hash, key);
  sim_buf_str(&t, "Authorization: Bearer ");
  i = t.len;
  vn_b64url(&t, hdr, strlen(hdr));
  sim_buf_str(&t, ".");
  vn_b64url(&t, claims, strlen(claims));
  if (!t.oom &&
      mbedtls_md_hmac(sha, (const unsigned char *)secret, strlen(secret),
                      (const unsigned char *)t.ptr + i, t.len - i, d) == 0) {
    sim_buf_str(&t, ".");
    vn_b64url(&t, d, sizeof(d));
    sim_buf_str(&t, "\n");
    if (!t.oom)
      out = t.ptr;
  }
  if (out == NULL)
    sim_buf_free(&t);
  return out;
}

static char *vn_sign_hook(void *state, const sim_post *post)
{
  vn_state *st = state;
  char method[32];

  sim_setting(st->sim, "vonage.signature_method", method, sizeof(method));
  return strcmp(method, "jwt") == 0 ? vn_jwt_header(st->sim, post) : NULL;
}

/* ---- webhooks --------------------------------------------------------- */

static void vn_post_free(sim_post *p)
{
  free(p->url);
  free(p->content_type);
  free(p->headers);
  free(p->body);
  memset(p, 0, sizeof(*p));
}

/*
 * One webhook: `p` plus, unless the method is jwt or none, timestamp,
 * nonce and sig; as JSON or a form per vonage.webhook_format. Takes
 * `n` parameters with room for three more.
 */
static int vn_webhook(vc_sim *sim, sim_post *out, const char *url,
                      vn_param *p, size_t n)
{
  char method[32], secret[300], format[16], ts[24], nonce[40], sig[130];
  char nonce_uuid[40];
  sim_buf body = { 0 };
  size_t i;
  int json;

  memset(out, 0, sizeof(*out));
  sim_setting(sim, "vonage.signature_method", method, sizeof(method));
  sim_setting(sim, "vonage.signature_secret", secret, sizeof(secret));
  sim_setting(sim, "vonage.webhook_format", format, sizeof(format));
  json = strcmp(format, "form") != 0;
  if (vn_md(method) != NULL) {
    snprintf(ts, sizeof(ts), "%lld", (long long)(sim_now_ms() / 1000));
    sim_random_hex(nonce, 32);
    snprintf(nonce_uuid, sizeof(nonce_uuid), "%.8s-%.4s-%.4s-%.4s-%.12s",
             nonce, nonce + 8, nonce + 12, nonce + 16, nonce + 20);
    p[n++] = (vn_param){ "timestamp", ts };
    p[n++] = (vn_param){ "nonce", nonce_uuid };
    if (vn_sig(method, secret, p, n, sig) != 0)
      return -EIO;
    p[n++] = (vn_param){ "sig", sig };
  }
  sim_buf_str(&body, json ? "{" : "");
  for (i = 0; i < n; i++) {
    if (json) {
      sim_buf_str(&body, i ? "," : "");
      sim_buf_json_str(&body, p[i].k);
      sim_buf_str(&body, ":");
      sim_buf_json_str(&body, p[i].v);
    } else {
      sim_buf_str(&body, i ? "&" : "");
      sim_buf_form_enc(&body, p[i].k);
      sim_buf_str(&body, "=");
      sim_buf_form_enc(&body, p[i].v);
    }
  }
  sim_buf_str(&body, json ? "}" : "");
  out->url = strdup(url);
  out->content_type = strdup(json ? "application/json"
                                  : "application/x-www-form-urlencoded");
  out->headers = strdup("User-Agent: Nexmo/MessagingHUB/v1.0\n");
  out->body = body.ptr;
  out->body_len = body.len;
  if (body.oom || !out->url || !out->content_type || !out->headers ||
      !out->body) {
    vn_post_free(out);
    return -ENOMEM;
  }
  return 0;
}

typedef struct vn_part {
  char id[24];
} vn_part;

typedef struct vn_msg {
  const char *to, *from, *client_ref, *price, *network;
  const vn_part *parts;
  unsigned nparts;
} vn_msg;

/* A receipt's err-code for a final status (providers.md 9.4). */
static const char *vn_err_code(const char *status)
{
  if (strcmp(status, "failed") == 0)
    return "8";                 /* network error */
  if (strcmp(status, "rejected") == 0)
    return "6";                 /* anti-spam */
  if (strcmp(status, "expired") == 0)
    return "2";                 /* absent subscriber, temporary */
  if (strcmp(status, "unknown") == 0)
    return "1";
  return "0";
}

static int vn_receipt(vc_sim *sim, sim_post *out, const char *url,
                      const vn_msg *m, const vn_part *part,
                      const char *status)
{
  char key[64], scts[16], stamp[24];
  time_t now = (time_t)(sim_now_ms() / 1000);
  struct tm tm;
  vn_param p[VN_PARAMS_MAX];
  size_t n = 0;

  gmtime_r(&now, &tm);
  /* YYMMDDHHMM: when the carrier reported */
  snprintf(scts, sizeof(scts), "%02d%02d%02d%02d%02d", tm.tm_year % 100,
           tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min);
  strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &tm);
  sim_setting(sim, "vonage.api_key", key, sizeof(key));
  p[n++] = (vn_param){ "msisdn", m->to };
  p[n++] = (vn_param){ "to", m->from };
  p[n++] = (vn_param){ "network-code", m->network };
  p[n++] = (vn_param){ "messageId", part->id };
  p[n++] = (vn_param){ "price", m->price };
  p[n++] = (vn_param){ "status", status };
  p[n++] = (vn_param){ "scts", scts };
  p[n++] = (vn_param){ "err-code", vn_err_code(status) };
  p[n++] = (vn_param){ "api-key", key };
  if (m->client_ref != NULL && *m->client_ref)
    p[n++] = (vn_param){ "client-ref", m->client_ref };
  p[n++] = (vn_param){ "message-timestamp", stamp };
  return vn_webhook(sim, out, url, p, n);
}

/* Each part's receipts: "accepted", then the final status (reversed
 * with `reorder`); "accepted" or "buffered" alone when that is the
 * final status asked for (no final receipt). */
static void vn_schedule(vc_sim *sim, const vn_msg *m, const char *cb)
{
  sim_wh_opts o;
  sim_post *posts;
  const char *final;
  size_t n = 0, i, per;
  unsigned k;

  sim_webhook_opts(sim, "vonage", &o);
  if (o.off)
    return;
  if (cb == NULL || *cb == '\0')
    cb = o.url;                 /* the dashboard's receipt URL */
  if (*cb == '\0')
    return;
  final = o.final_status[0] ? o.final_status : "delivered";
  per = strcmp(final, "accepted") == 0 || strcmp(final, "buffered") == 0
          ? 1 : 2;
  posts = calloc(m->nparts * per, sizeof(*posts));
  if (posts == NULL)
    return;
  for (k = 0; k < m->nparts; k++) {
    const char *first = per == 1 ? final : o.reorder ? final : "accepted";
    if (vn_receipt(sim, &posts[n++], cb, m, &m->parts[k], first) != 0)
      goto fail;
    if (per == 2 &&
        vn_receipt(sim, &posts[n++], cb, m, &m->parts[k],
                   o.reorder ? "accepted" : final) != 0)
      goto fail;
  }
  sim_webhook_schedule(sim, "vonage", posts, n, &o);
  free(posts);
  return;
fail:
  for (i = 0; i < n; i++)
    vn_post_free(&posts[i]);
  free(posts);
}

int vc_sim_vonage_inbound(vc_sim *s, const char *url, const char *from,
                          const char *to, const char *text)
{
  char key[64], id[24], stamp[24], keyword[64];
  time_t now = (time_t)(sim_now_ms() / 1000);
  vn_param p[VN_PARAMS_MAX];
  sim_wh_opts o;
  sim_post post;
  struct tm tm;
  size_t n = 0, i;

  if (s == NULL || from == NULL || to == NULL || text == NULL)
    return -EINVAL;
  sim_webhook_opts(s, "vonage", &o);
  if (url == NULL || *url == '\0')
    url = o.url;
  if (*url == '\0')
    return -EINVAL;
  from += *from == '+';
  to += *to == '+';
  gmtime_r(&now, &tm);
  strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &tm);
  sim_setting(s, "vonage.api_key", key, sizeof(key));
  sim_random_hex(id + 2, 14);
  memcpy(id, "0B", 2);
  for (i = 2; id[i]; i++)
    id[i] = (char)toupper((unsigned char)id[i]);
  /* The first word, in capitals. */
  for (i = 0; text[i] && text[i] != ' ' && i + 1 < sizeof(keyword); i++)
    keyword[i] = (char)toupper((unsigned char)text[i]);
  keyword[i] = '\0';
  p[n++] = (vn_param){ "api-key", key };
  p[n++] = (vn_param){ "msisdn", from };
  p[n++] = (vn_param){ "to", to };
  p[n++] = (vn_param){ "messageId", id };
  p[n++] = (vn_param){ "text", text };
  p[n++] = (vn_param){ "type", vn_is_gsm(text) ? "text" : "unicode" };
  p[n++] = (vn_param){ "keyword", keyword };
  p[n++] = (vn_param){ "message-timestamp", stamp };
  if (vn_webhook(s, &post, url, p, n) != 0)
    return -ENOMEM;
  o.off = 0;
  sim_webhook_schedule(s, "vonage", &post, 1, &o);
  return 0;
}

/* ---- the endpoint ----------------------------------------------------- */

/* `to`: 7 to 15 digits, no '+'. */
static int vn_msisdn_ok(const char *s)
{
  size_t n = strlen(s);

  return n >= 7 && n <= 15 && strspn(s, "0123456789") == n;
}

/* `from`: up to 15 digits, or up to 11 letters and digits (spaces are
 * ignored) with at least one letter. */
static int vn_sender_ok(const char *s)
{
  size_t n = strlen(s), k = 0, letters = 0, i;

  if (n > 0 && n <= 15 && strspn(s, "0123456789") == n)
    return 1;
  for (i = 0; i < n; i++) {
    if (s[i] == ' ')
      continue;
    if (!isalnum((unsigned char)s[i]) || ++k > VN_SENDER_MAX)
      return 0;
    letters += isalpha((unsigned char)s[i]) != 0;
  }
  return letters > 0;
}

static int vn_barred(vc_sim *sim, const char *to)
{
  char list[1024];
  const char *p = list;
  size_t n = strlen(to);

  sim_setting(sim, "vonage.barred", list, sizeof(list));
  while (*p) {
    size_t len = strcspn(p, ",");
    if (len == n && strncmp(p, to, n) == 0)
      return 1;
    p += len + (p[len] == ',');
  }
  return 0;
}

/* A request signed with `sig` instead of api_secret: the signature over
 * its parameters under the signature secret. */
static int vn_signed_ok(vc_sim *sim, const sim_form *f)
{
  char method[32], secret[300], want[130];
  vn_param p[VN_PARAMS_MAX];
  const char *sig = sim_form_get(f, "sig");
  size_t i;

  if (f->n > VN_PARAMS_MAX)
    return 0;
  for (i = 0; i < f->n; i++)
    p[i] = (vn_param){ f->key[i], f->val[i] };
  sim_setting(sim, "vonage.signature_method", method, sizeof(method));
  sim_setting(sim, "vonage.signature_secret", secret, sizeof(secret));
  return vn_sig(method, secret, p, f->n, want) == 0 &&
         strcasecmp(want, sig) == 0;
}

static void vn_accepted(vc_sim *sim, vn_state *st, const sim_form *f,
                        sim_resp *rs)
{
  const char *to = sim_form_get(f, "to"), *from = sim_form_get(f, "from");
  const char *text = sim_form_get(f, "text");
  const char *type = sim_form_get(f, "type");
  const char *ref = sim_form_get(f, "client-ref");
  char price[32], receipt_price[32], network[32], report[8];
  const char *keys[VN_MAX_PARTS + 2];
  vn_part parts[VN_MAX_PARTS];
  unsigned nparts = 1, k;
  size_t chars = 0, nkeys = 0;
  double each, balance;
  sim_accept_info a;
  uint64_t id;
  vn_msg m;

  vn_measure(text, type != NULL && strcmp(type, "unicode") == 0, &chars,
             &nparts);
  if (nparts > VN_MAX_PARTS)
    nparts = VN_MAX_PARTS;
  sim_setting(sim, "vonage.price", price, sizeof(price));
  sim_setting(sim, "vonage.network", network, sizeof(network));
  each = strtod(price, NULL);
  rs->status = 200;
  rs->content_type = "application/json";
  sim_buf_printf(&rs->body, "{\"message-count\":\"%u\",\"messages\":[",
                 nparts);
  for (k = 0; k < nparts; k++) {
    sim_random_hex(parts[k].id, 16);
    for (char *c = parts[k].id; *c; c++)
      *c = (char)toupper((unsigned char)*c);
    st->parts++;
    balance = 100.0 - each * (double)st->parts;
    sim_buf_str(&rs->body, k ? ",{\"to\":" : "{\"to\":");
    sim_buf_json_str(&rs->body, to);
    sim_buf_printf(&rs->body, ",\"message-id\":\"%s\",\"status\":\"0\","
                   "\"remaining-balance\":\"%.8f\",\"message-price\":",
                   parts[k].id, balance);
    sim_buf_json_str(&rs->body, price);
    sim_buf_str(&rs->body, ",\"network\":");
    sim_buf_json_str(&rs->body, network);
    if (ref != NULL) {
      sim_buf_str(&rs->body, ",\"client-ref\":");
      sim_buf_json_str(&rs->body, ref);
    }
    sim_buf_str(&rs->body, "}");
    if (k > 0)                  /* the first is the message id */
      keys[nkeys++] = parts[k].id;
  }
  sim_buf_str(&rs->body, "]}");

  /* The same recipient, sender, text and type again is a duplicate. */
  id = sim_fnv1a(SIM_FNV_INIT, to, strlen(to) + 1);
  id = sim_fnv1a(id, from, strlen(from) + 1);
  id = sim_fnv1a(id, text, strlen(text) + 1);
  id = sim_fnv1a(id, type ? type : "text", strlen(type ? type : "text"));
  keys[nkeys++] = to;
  if (ref != NULL && *ref)
    keys[nkeys++] = ref;
  a.message_id = parts[0].id;
  a.keys = keys;
  a.nkeys = nkeys;
  a.identity = id;
  sim_accept(sim, "vonage", rs, &a);

  /* status-report-req=false (or 0): no receipts */
  snprintf(report, sizeof(report), "%s",
           sim_form_get(f, "status-report-req") ?
           sim_form_get(f, "status-report-req") : "true");
  if (strcmp(report, "false") == 0 || strcmp(report, "0") == 0)
    return;
  m.to = to;
  m.from = from;
  m.client_ref = ref;
  sim_setting(sim, "vonage.receipt_price", receipt_price,
              sizeof(receipt_price));
  m.price = receipt_price[0] ? receipt_price : price;
  m.network = network;
  m.parts = parts;
  m.nparts = nparts;
  vn_schedule(sim, &m, sim_form_get(f, "callback"));
}

static void vn_handle(vc_sim *sim, void *state, const sim_req *rq,
                      sim_resp *rs)
{
  vn_state *st = state;
  const char *key, *secret, *sig, *from, *to, *text, *type, *cb, *ref, *ct;
  char want_key[64], want_secret[128], msg[160];
  size_t ctlen = 0, chars = 0;
  unsigned parts = 0;
  sim_form f;

  memset(&f, 0, sizeof(f));
  if (strcmp(rq->path, VN_PATH) != 0) {
    sim_resp_reset(rs);
    rs->status = 404;
    rs->content_type = "text/plain";
    sim_buf_str(&rs->body, "Not Found\n");
    return;
  }
  if (strcmp(rq->method, "POST") != 0) {
    sim_resp_reset(rs);
    rs->status = 405;
    rs->content_type = "text/plain";
    sim_buf_str(&rs->body, "Method Not Allowed\n");
    return;
  }
  /* The spec's body is a form; any other body leaves the parameters
   * unread, so the first required one is missing. */
  ct = sim_req_header(rq, "Content-Type", &ctlen);
  if (ct != NULL &&
      sim_prefix_ci(ct, ctlen, "application/x-www-form-urlencoded") &&
      sim_form_parse(&f, rq->body ? rq->body : "", rq->body_len) != 0) {
    vn_fault(sim, state, 500, 0, rs);
    return;
  }
  key = sim_form_get(&f, "api_key");
  secret = sim_form_get(&f, "api_secret");
  sig = sim_form_get(&f, "sig");
  from = sim_form_get(&f, "from");
  to = sim_form_get(&f, "to");
  text = sim_form_get(&f, "text");
  type = sim_form_get(&f, "type");
  cb = sim_form_get(&f, "callback");
  ref = sim_form_get(&f, "client-ref");
  sim_setting(sim, "vonage.api_key", want_key, sizeof(want_key));
  sim_setting(sim, "vonage.api_secret", want_secret, sizeof(want_secret));
  if (key == NULL || *key == '\0') {
    vn_refuse(rs, 2, "Missing api_key");
  } else if ((secret == NULL || *secret == '\0') &&
             (sig == NULL || *sig == '\0')) {
    vn_refuse(rs, 2, "Missing api_secret");
  } else if (secret != NULL && sig != NULL) {
    vn_refuse(rs, 32, "Signature and API secret disallowed");
  } else if (strcmp(key, want_key) != 0 ||
             (secret != NULL && strcmp(secret, want_secret) != 0)) {
    vn_refuse(rs, 4, "Bad Credentials");
  } else if (sig != NULL && !vn_signed_ok(sim, &f)) {
    vn_refuse(rs, 14, "Invalid Signature");
  } else if (from == NULL || *from == '\0') {
    vn_refuse(rs, 2, "Missing from param");
  } else if (to == NULL || *to == '\0') {
    vn_refuse(rs, 2, "Missing to param");
  } else if (type != NULL && strcmp(type, "text") != 0 &&
             strcmp(type, "unicode") != 0) {
    /* binary, wappush, vcal and vcard are not simulated */
    vn_refuse(rs, 3, "Invalid type param");
  } else if (text == NULL || *text == '\0') {
    vn_refuse(rs, 2, "Missing text param");
  } else if (!vn_msisdn_ok(to)) {
    snprintf(msg, sizeof(msg), "Invalid to address: %.40s", to);
    vn_refuse(rs, 3, msg);
  } else if (!vn_sender_ok(from)) {
    vn_refuse(rs, 15, "Illegal Sender Address - rejected");
  } else if (cb != NULL && (strlen(cb) > VN_CALLBACK_MAX ||
                            (strncmp(cb, "http://", 7) != 0 &&
                             strncmp(cb, "https://", 8) != 0))) {
    vn_refuse(rs, 23, "Invalid callback url");
  } else if (ref != NULL && strlen(ref) > VN_CLIENT_REF_MAX) {
    vn_refuse(rs, 3, "Invalid client-ref param");
  } else if (vn_measure(text, type && strcmp(type, "unicode") == 0, &chars,
                        &parts),
             chars > VN_MAX_CHARS || parts > VN_MAX_PARTS) {
    vn_refuse(rs, 12, "Message too long");
  } else if (vn_barred(sim, to)) {
    vn_refuse(rs, 7, "Number barred");
  } else {
    vn_accepted(sim, st, &f, rs);
  }
  sim_form_free(&f);
}

static int vn_init(vc_sim *sim, void **out)
{
  vn_state *st = calloc(1, sizeof(*st));

  if (st == NULL)
    return -ENOMEM;
  st->sim = sim;
  *out = st;
  return 0;
}

static void vn_fini(void *state)
{
  free(state);
}

const sim_provider sim_vonage = {
  .name = "vonage",
  .prefix = "/sms/",
  .max_body = 1024 * 1024,
  .defaults = vn_defaults,
  .init = vn_init,
  .fini = vn_fini,
  .handle = vn_handle,
  .error = vn_fault,
  .sign = vn_sign_hook,
};
