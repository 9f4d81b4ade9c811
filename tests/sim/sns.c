/*
 * AWS SNS, as the real service answers and posts:
 *
 *   POST /    the Query API (Action=Publish, Version=2010-03-31), form
 *             encoded, signed with AWS Signature Version 4 (service sns,
 *             the simulator's region); the signature is recomputed here
 *             from the request as received. Errors are AWS's XML
 *             (<ErrorResponse><Error><Type/><Code/><Message/></Error>
 *             <RequestId/></ErrorResponse>); success is a
 *             PublishResponse with a MessageId.
 *   GET  /?Action=ConfirmSubscription&TopicArn=..&Token=..
 *             the SubscribeURL of a SubscriptionConfirmation this
 *             simulator posted: records the confirmation.
 *   GET  /SimpleNotificationService-<hex>.pem
 *             the certificate that signs the messages it posts.
 *
 * SNS posts no delivery status for an SMS. What it posts to a subscribed
 * HTTP(S) endpoint are topic messages, here on request (sim.h): JSON
 * bodies with Content-Type text/plain, the x-amz-sns-* headers, signed
 * with RSA (SHA1withRSA for SignatureVersion 1, SHA256withRSA for 2)
 * over "Key\nValue\n" of the type's fields in byte order. The RSA key
 * and its self-signed certificate are made once per process, on first
 * use (a 2048-bit key takes about a second).
 *
 * Its SigV4 check is written here from the specification, apart from
 * the library's signer, so each checks the other.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <mbedtls/bignum.h>
#include <mbedtls/md.h>
#include <mbedtls/pk.h>
#include <mbedtls/rsa.h>
#include <mbedtls/x509_crt.h>

#include "sim_int.h"

#define SNS_XMLNS "http://sns.amazonaws.com/doc/2010-03-31/"
#define SNS_VERSION "2010-03-31"
#define SNS_MAX_BODY (512 * 1024)
#define SNS_SMS_MAX_BYTES 1600
#define SNS_SKEW_MS (15 * 60 * 1000)  /* AWS's allowed clock skew */
#define SNS_MAX_ATTRS 10
#define SNS_MAX_SUBS 256
#define SNS_ACCOUNT "123456789012"

static const char *const sns_defaults[] = {
  "access_key_id", VC_SIM_SNS_ACCESS_KEY_ID,
  "secret_access_key", VC_SIM_SNS_SECRET_ACCESS_KEY,
  /* When set, requests must carry it as X-Amz-Security-Token. */
  "session_token", "",
  "region", VC_SIM_SNS_REGION,
  "topic_arn", VC_SIM_SNS_TOPIC_ARN,
  "signature_version", "1",
  /* The 429 fault's answer: "Throttled" (HTTP 429) or "Throttling"
   * (HTTP 400). */
  "throttling", "Throttled",
  /* Numbers refused as not valid to publish to (comma-separated), as
   * SNS refuses numbers no carrier serves. */
  "invalid_numbers", "+15005550001",
  NULL
};

typedef struct sns_sub {
  char topic[256];
  char token[72];
  char arn[320];
  int confirmed;
} sns_sub;

typedef struct sns_state {
  pthread_mutex_t mu;
  char cert_path[80];        /* "/SimpleNotificationService-<hex>.pem" */
  sns_sub subs[SNS_MAX_SUBS];
  size_t nsubs, next_sub;
} sns_state;

/* ---- the signing key: one per process --------------------------------- */

static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t key_mu = PTHREAD_MUTEX_INITIALIZER;
static mbedtls_pk_context key_pk;
static char key_cert_pem[4096];
static int key_err;

static void fmt_x509_time(char out[16], int64_t unix_s)
{
  time_t t = (time_t)unix_s;
  struct tm tm;

  gmtime_r(&t, &tm);
  strftime(out, 16, "%Y%m%d%H%M%S", &tm);
}

static void key_make(void)
{
  mbedtls_x509write_cert crt;
  mbedtls_mpi serial;
  char from[16], to[16];
  int64_t now = sim_now_ms() / 1000;
  int rc;

  mbedtls_pk_init(&key_pk);
  mbedtls_x509write_crt_init(&crt);
  mbedtls_mpi_init(&serial);
  rc = mbedtls_pk_setup(&key_pk, mbedtls_pk_info_from_type(MBEDTLS_PK_RSA));
  if (rc == 0)
    rc = mbedtls_rsa_gen_key(mbedtls_pk_rsa(key_pk), sim_rng, NULL, 2048,
                             65537);
  /* Valid from yesterday for ten years: tests move their clocks. */
  fmt_x509_time(from, now - 86400);
  fmt_x509_time(to, now + 3650LL * 86400);
  if (rc == 0)
    rc = mbedtls_mpi_lset(&serial, 1);
  if (rc == 0) {
    mbedtls_x509write_crt_set_version(&crt, MBEDTLS_X509_CRT_VERSION_3);
    mbedtls_x509write_crt_set_md_alg(&crt, MBEDTLS_MD_SHA256);
    mbedtls_x509write_crt_set_subject_key(&crt, &key_pk);
    mbedtls_x509write_crt_set_issuer_key(&crt, &key_pk);
    rc = mbedtls_x509write_crt_set_serial(&crt, &serial);
  }
  if (rc == 0)
    rc = mbedtls_x509write_crt_set_subject_name(&crt, "CN=sns.amazonaws.com");
  if (rc == 0)
    rc = mbedtls_x509write_crt_set_issuer_name(&crt, "CN=sns.amazonaws.com");
  if (rc == 0)
    rc = mbedtls_x509write_crt_set_validity(&crt, from, to);
  if (rc == 0)
    rc = mbedtls_x509write_crt_pem(&crt, (unsigned char *)key_cert_pem,
                                   sizeof(key_cert_pem), sim_rng, NULL);
  mbedtls_x509write_crt_free(&crt);
  mbedtls_mpi_free(&serial);
  key_err = rc == 0 ? 0 : -EIO;
}

static int key_ready(void)
{
  pthread_once(&key_once, key_make);
  return key_err;
}

/* base64 of the RSA PKCS#1 v1.5 signature of `text`. */
static int key_sign(const char *text, int version, char *out, size_t size)
{
  mbedtls_md_type_t md = version == 1 ? MBEDTLS_MD_SHA1 : MBEDTLS_MD_SHA256;
  unsigned char hash[32], sig[512];
  size_t sig_len = 0;
  int rc;

  if ((rc = key_ready()) != 0)
    return rc;
  if (mbedtls_md(mbedtls_md_info_from_type(md), (const unsigned char *)text,
                 strlen(text), hash) != 0)
    return -EIO;
  pthread_mutex_lock(&key_mu);
  rc = mbedtls_pk_sign(&key_pk, md, hash, 0, sig, &sig_len, sim_rng, NULL);
  pthread_mutex_unlock(&key_mu);
  if (rc != 0)
    return -EIO;
  return sim_base64(out, size, sig, sig_len);
}

/* ---- answers ---------------------------------------------------------- */

static void xml_esc(sim_buf *b, const char *s)
{
  for (; s && *s; s++) {
    switch (*s) {
    case '<': sim_buf_str(b, "&lt;"); break;
    case '>': sim_buf_str(b, "&gt;"); break;
    case '&': sim_buf_str(b, "&amp;"); break;
    case '"': sim_buf_str(b, "&quot;"); break;
    default: sim_buf_add(b, s, 1);
    }
  }
}

static void uuid(char out[37])
{
  char h[33];

  sim_random_hex(h, 32);
  snprintf(out, 37, "%.8s-%.4s-4%.3s-a%.3s-%.12s", h, h + 8, h + 13,
           h + 17, h + 20);
}

static void sns_error(sim_resp *rs, int status, const char *type,
                      const char *code, const char *msg)
{
  char rid[37];

  sim_resp_reset(rs);
  uuid(rid);
  rs->status = status;
  rs->content_type = "text/xml";
  sim_buf_str(&rs->body, "<ErrorResponse xmlns=\"" SNS_XMLNS "\">\n"
              "  <Error>\n    <Type>");
  sim_buf_str(&rs->body, type);
  sim_buf_str(&rs->body, "</Type>\n    <Code>");
  sim_buf_str(&rs->body, code);
  sim_buf_str(&rs->body, "</Code>\n    <Message>");
  xml_esc(&rs->body, msg);
  sim_buf_printf(&rs->body, "</Message>\n  </Error>\n  <RequestId>%s"
                 "</RequestId>\n</ErrorResponse>\n", rid);
  sim_buf_printf(&rs->headers, "x-amzn-RequestId: %s\r\n", rid);
}

static void sns_fault(vc_sim *sim, void *state, int status,
                      unsigned retry_after_s, sim_resp *rs)
{
  char style[32];

  (void)state;
  (void)retry_after_s;              /* SNS sends no Retry-After */
  if (status == 413) {
    sim_resp_reset(rs);
    rs->status = 413;
    rs->content_type = "text/plain";
    sim_buf_str(&rs->body, "Request Entity Too Large\n");
  } else if (status == 429) {
    /* SNS's model declares Throttled as 429; the Query API's common
     * throttling error is Throttling with 400. */
    sim_setting(sim, "sns.throttling", style, sizeof(style));
    if (strcmp(style, "Throttling") == 0)
      sns_error(rs, 400, "Sender", "Throttling", "Rate exceeded");
    else
      sns_error(rs, 429, "Sender", "Throttled", "Rate exceeded");
  } else if (status == 503) {
    sns_error(rs, 503, "Receiver", "ServiceUnavailable",
              "Service is unavailable. Try again later.");
  } else {
    sns_error(rs, status >= 500 ? status : 500, "Receiver", "InternalError",
              "An internal error has occurred. Try again later.");
  }
}

/* ---- SigV4, recomputed -------------------------------------------------- */

static int unreserved(unsigned char c)
{
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
         c == '~';
}

static void uri_enc(sim_buf *b, const char *s, size_t n, int slash)
{
  static const char hex[] = "0123456789ABCDEF";

  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    char e[3] = { '%', hex[c >> 4], hex[c & 15] };

    if (unreserved(c) || (slash && c == '/'))
      sim_buf_add(b, s + i, 1);
    else
      sim_buf_add(b, e, 3);
  }
}

static int hexv(int c)
{
  return c >= '0' && c <= '9' ? c - '0'
         : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* %XX decoded ('+' stays: RFC 3986), then encoded strictly. */
static char *recode(const char *s, size_t n)
{
  sim_buf dec = { 0 }, enc = { 0 };

  for (size_t i = 0; i < n; i++) {
    if (s[i] == '%' && i + 2 < n && hexv(s[i + 1]) >= 0 &&
        hexv(s[i + 2]) >= 0) {
      char c = (char)(hexv(s[i + 1]) * 16 + hexv(s[i + 2]));
      sim_buf_add(&dec, &c, 1);
      i += 2;
    } else {
      sim_buf_add(&dec, s + i, 1);
    }
  }
  uri_enc(&enc, dec.ptr ? dec.ptr : "", dec.len, 0);
  sim_buf_str(&enc, "");
  sim_buf_free(&dec);
  return enc.ptr;
}

typedef struct qp {
  char *k, *v;
} qp;

static int qp_cmp(const void *a, const void *b)
{
  const qp *x = a, *y = b;
  int c = strcmp(x->k, y->k);

  return c ? c : strcmp(x->v, y->v);
}

static void canon_query(sim_buf *b, const char *q)
{
  qp p[64];
  size_t n = 0, len = strlen(q);

  for (size_t i = 0; i < len && n < 64;) {
    size_t j = i, eq;
    while (j < len && q[j] != '&')
      j++;
    for (eq = i; eq < j && q[eq] != '='; eq++)
      ;
    if (j > i) {
      p[n].k = recode(q + i, eq - i);
      p[n].v = eq < j ? recode(q + eq + 1, j - eq - 1) : recode("", 0);
      n++;
    }
    i = j + 1;
  }
  qsort(p, n, sizeof(*p), qp_cmp);
  for (size_t i = 0; i < n; i++) {
    sim_buf_printf(b, "%s%s=%s", i ? "&" : "", p[i].k ? p[i].k : "",
                   p[i].v ? p[i].v : "");
    free(p[i].k);
    free(p[i].v);
  }
}

/* A header's value, trimmed, inner runs of spaces as one. */
static void canon_value(sim_buf *b, const char *v, size_t n)
{
  int space = 0;

  while (n > 0 && (*v == ' ' || *v == '\t')) {
    v++;
    n--;
  }
  while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
    n--;
  for (size_t i = 0; i < n; i++) {
    if (v[i] == ' ') {
      space = 1;
      continue;
    }
    if (space)
      sim_buf_add(b, " ", 1);
    space = 0;
    sim_buf_add(b, v + i, 1);
  }
}

static void hex_of(char *out, const unsigned char *p, size_t n)
{
  for (size_t i = 0; i < n; i++)
    sprintf(out + 2 * i, "%02x", p[i]);
}

static int hmac256(const void *k, size_t kl, const char *m, unsigned char *o)
{
  return mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), k, kl,
                         (const unsigned char *)m, strlen(m), o);
}

/* The parts of "AWS4-HMAC-SHA256 Credential=.., SignedHeaders=..,
 * Signature=..". 0 or -1. */
typedef struct sv4_auth {
  char akid[160], date[16], region[64], service[64], term[32];
  char signed_headers[1024];
  char signature[80];
} sv4_auth;

static int copy_part(char *out, size_t size, const char *from, size_t n)
{
  if (n == 0 || n >= size)
    return -1;
  memcpy(out, from, n);
  out[n] = '\0';
  return 0;
}

static int parse_auth(sv4_auth *a, const char *h, size_t len)
{
  char buf[2048], *cred, *sh, *sig, *p, *parts[5];
  int n = 0;

  if (len >= sizeof(buf) || !sim_prefix_ci(h, len, "AWS4-HMAC-SHA256 "))
    return -1;
  memcpy(buf, h, len);
  buf[len] = '\0';
  cred = strstr(buf, "Credential=");
  sh = strstr(buf, "SignedHeaders=");
  sig = strstr(buf, "Signature=");
  if (!cred || !sh || !sig)
    return -1;
  cred += 11;
  sh += 14;
  sig += 10;
  if (copy_part(a->signed_headers, sizeof(a->signed_headers), sh,
                strcspn(sh, ", ")) < 0 ||
      copy_part(a->signature, sizeof(a->signature), sig,
                strcspn(sig, ", ")) < 0)
    return -1;
  cred[strcspn(cred, ", ")] = '\0';
  for (p = cred; n < 5; n++) {
    parts[n] = p;
    p = strchr(p, '/');
    if (p == NULL)
      break;
    *p++ = '\0';
  }
  if (n != 4)
    return -1;
  if (copy_part(a->akid, sizeof(a->akid), parts[0], strlen(parts[0])) < 0 ||
      copy_part(a->date, sizeof(a->date), parts[1], strlen(parts[1])) < 0 ||
      copy_part(a->region, sizeof(a->region), parts[2],
                strlen(parts[2])) < 0 ||
      copy_part(a->service, sizeof(a->service), parts[3],
                strlen(parts[3])) < 0 ||
      copy_part(a->term, sizeof(a->term), parts[4], strlen(parts[4])) < 0)
    return -1;
  return 0;
}

/* Unix ms of "YYYYMMDDTHHMMSSZ", or -1. */
static int64_t amz_date_ms(const char *s, size_t n)
{
  struct tm tm;
  char buf[20];

  if (n != 16 || s[8] != 'T' || s[15] != 'Z')
    return -1;
  memcpy(buf, s, 16);
  buf[16] = '\0';
  memset(&tm, 0, sizeof(tm));
  if (strptime(buf, "%Y%m%dT%H%M%SZ", &tm) == NULL)
    return -1;
  return (int64_t)timegm(&tm) * 1000;
}

/* Check the request's SigV4 signature; 0, or the 403 filled. */
static int sns_auth(vc_sim *sim, const sim_req *rq, sim_resp *rs)
{
  char akid[160], secret[256], token[4096], region[64], date[20];
  char want_hex[65], hash_hex[65], *names, *name, *save = NULL;
  unsigned char hash[32], k1[32], k2[32], mac[32];
  size_t alen = 0, dlen = 0, tlen = 0;
  const char *auth = sim_req_header(rq, "Authorization", &alen);
  const char *amz = sim_req_header(rq, "X-Amz-Date", &dlen);
  const char *tok = sim_req_header(rq, "X-Amz-Security-Token", &tlen);
  sim_buf creq = { 0 }, sts = { 0 }, key = { 0 };
  int64_t at;
  sv4_auth a;
  int ok;

  sim_setting(sim, "sns.access_key_id", akid, sizeof(akid));
  sim_setting(sim, "sns.secret_access_key", secret, sizeof(secret));
  sim_setting(sim, "sns.session_token", token, sizeof(token));
  sim_setting(sim, "sns.region", region, sizeof(region));
  if (auth == NULL) {
    sns_error(rs, 403, "Sender", "MissingAuthenticationToken",
              "Request is missing Authentication Token");
    return -1;
  }
  memset(&a, 0, sizeof(a));
  if (parse_auth(&a, auth, alen) < 0 || strcmp(a.term, "aws4_request")) {
    sns_error(rs, 403, "Sender", "IncompleteSignature",
              "Authorization header requires 'Credential', "
              "'SignedHeaders' and 'Signature' parameters.");
    return -1;
  }
  if (strcmp(a.akid, akid) != 0 ||
      (token[0] != '\0' &&
       (tok == NULL || tlen != strlen(token) || memcmp(tok, token, tlen)))) {
    sns_error(rs, 403, "Sender", "InvalidClientTokenId",
              "The security token included in the request is invalid.");
    return -1;
  }
  if (amz == NULL || (at = amz_date_ms(amz, dlen)) < 0) {
    sns_error(rs, 403, "Sender", "IncompleteSignature",
              "Authorization header requires existence of either a "
              "'X-Amz-Date' or a 'Date' header.");
    return -1;
  }
  memcpy(date, amz, 16);
  date[16] = '\0';
  if (strncmp(a.date, date, 8) != 0 || strcmp(a.service, "sns") != 0 ||
      strcmp(a.region, region) != 0) {
    char m[200];
    snprintf(m, sizeof(m), "Credential should be scoped to a valid "
             "region and service, not '%s/%s'.", a.region, a.service);
    sns_error(rs, 403, "Sender", "SignatureDoesNotMatch", m);
    return -1;
  }
  if (at < sim_now_ms() - SNS_SKEW_MS || at > sim_now_ms() + SNS_SKEW_MS) {
    char m[200];
    snprintf(m, sizeof(m), "Signature expired: %s is now earlier or later "
             "than the allowed 15 minutes.", date);
    sns_error(rs, 403, "Sender", "SignatureDoesNotMatch", m);
    return -1;
  }

  /* The canonical request from what was received. */
  sim_buf_printf(&creq, "%s\n", rq->method);
  uri_enc(&creq, rq->path, strlen(rq->path), 1);
  sim_buf_str(&creq, "\n");
  canon_query(&creq, rq->query);
  sim_buf_str(&creq, "\n");
  names = strdup(a.signed_headers);
  ok = names != NULL && strstr(a.signed_headers, "host") != NULL;
  for (name = names ? strtok_r(names, ";", &save) : NULL; name && ok;
       name = strtok_r(NULL, ";", &save)) {
    size_t vl = 0;
    const char *v = sim_req_header(rq, name, &vl);
    if (v == NULL) {
      ok = 0;
      break;
    }
    sim_buf_printf(&creq, "%s:", name);
    canon_value(&creq, v, vl);
    sim_buf_str(&creq, "\n");
  }
  free(names);
  mbedtls_md(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256),
             (const unsigned char *)(rq->body ? rq->body : ""),
             rq->body_len, hash);
  hex_of(hash_hex, hash, 32);
  sim_buf_printf(&creq, "\n%s\n%s", a.signed_headers, hash_hex);
  mbedtls_md(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256),
             (const unsigned char *)(creq.ptr ? creq.ptr : ""), creq.len,
             hash);
  hex_of(hash_hex, hash, 32);
  sim_buf_printf(&sts, "AWS4-HMAC-SHA256\n%s\n%.8s/%s/sns/aws4_request\n%s",
                 date, date, region, hash_hex);
  sim_buf_printf(&key, "AWS4%s", secret);
  hmac256(key.ptr, key.len, a.date, k1);
  hmac256(k1, 32, region, k2);
  hmac256(k2, 32, "sns", k1);
  hmac256(k1, 32, "aws4_request", k2);
  hmac256(k2, 32, sts.ptr ? sts.ptr : "", mac);
  hex_of(want_hex, mac, 32);
  ok = ok && !creq.oom && !sts.oom && strcmp(want_hex, a.signature) == 0;
  sim_buf_free(&creq);
  sim_buf_free(&sts);
  sim_buf_free(&key);
  if (!ok) {
    sns_error(rs, 403, "Sender", "SignatureDoesNotMatch",
              "The request signature we calculated does not match the "
              "signature you provided. Check your AWS Secret Access Key "
              "and signing method. Consult the service documentation for "
              "details.");
    return -1;
  }
  return 0;
}

/* ---- Publish -------------------------------------------------------- */

static int is_e164(const char *s)
{
  size_t n;

  if (s == NULL || s[0] != '+' || s[1] < '1' || s[1] > '9')
    return 0;
  n = strlen(s + 1);
  return n >= 2 && n <= 15 && strspn(s + 1, "0123456789") == n;
}

static int sender_id_ok(const char *s)
{
  size_t n = strlen(s), letters = 0;

  if (n == 0 || n > 11)
    return 0;
  for (size_t i = 0; i < n; i++) {
    if ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z'))
      letters++;
    else if (s[i] < '0' || s[i] > '9')
      return 0;
  }
  return letters > 0;
}

/* The SMS message attributes; 0, or the 400 filled. */
static int check_attributes(const sim_form *f, uint64_t *id, sim_resp *rs)
{
  char key[96], m[256];

  for (int i = 1; i <= SNS_MAX_ATTRS + 1; i++) {
    const char *name, *type, *value;

    snprintf(key, sizeof(key), "MessageAttributes.entry.%d.Name", i);
    if ((name = sim_form_get(f, key)) == NULL)
      return 0;
    if (i > SNS_MAX_ATTRS) {
      sns_error(rs, 400, "Sender", "InvalidParameter",
                "Invalid parameter: MessageAttributes Reason: too many "
                "attributes");
      return -1;
    }
    snprintf(key, sizeof(key), "MessageAttributes.entry.%d.Value.DataType",
             i);
    type = sim_form_get(f, key);
    snprintf(key, sizeof(key),
             "MessageAttributes.entry.%d.Value.StringValue", i);
    value = sim_form_get(f, key);
    if (type == NULL || value == NULL ||
        (strcmp(type, "String") != 0 && strcmp(type, "Number") != 0)) {
      snprintf(m, sizeof(m), "Invalid parameter: MessageAttributes Reason: "
               "the message attribute '%.64s' has an invalid type or no "
               "value", name);
      sns_error(rs, 400, "Sender", "InvalidParameter", m);
      return -1;
    }
    if ((strcmp(name, "AWS.SNS.SMS.SMSType") == 0 &&
         strcmp(value, "Promotional") != 0 &&
         strcmp(value, "Transactional") != 0) ||
        (strcmp(name, "AWS.SNS.SMS.SenderID") == 0 &&
         !sender_id_ok(value)) ||
        (strcmp(name, "AWS.MM.SMS.OriginationNumber") == 0 &&
         !is_e164(value)) ||
        (strcmp(name, "AWS.SNS.SMS.MaxPrice") == 0 &&
         (strcmp(type, "Number") != 0 ||
          strspn(value, "0123456789.") != strlen(value)))) {
      snprintf(m, sizeof(m), "Invalid parameter: MessageAttributes Reason: "
               "the value of message attribute '%.64s' is invalid", name);
      sns_error(rs, 400, "Sender", "InvalidParameter", m);
      return -1;
    }
    *id = sim_fnv1a(*id, name, strlen(name) + 1);
    *id = sim_fnv1a(*id, value, strlen(value) + 1);
  }
  return 0;
}

/* 1 when `phone` is in the comma-separated list. */
static int listed(const char *list, const char *phone)
{
  size_t n = strlen(phone);

  for (const char *p = list; *p;) {
    size_t len = strcspn(p, ",");
    if (len == n && strncmp(p, phone, n) == 0)
      return 1;
    p += len + (p[len] == ',');
  }
  return 0;
}

static void sns_publish(vc_sim *sim, const sim_form *f, sim_resp *rs)
{
  char invalid[1024];

  const char *phone = sim_form_get(f, "PhoneNumber");
  const char *msg = sim_form_get(f, "Message");
  char mid[37], rid[37], m[256];
  const char *keys[1];
  sim_accept_info a;
  uint64_t id;

  if (phone == NULL && sim_form_get(f, "TopicArn") == NULL &&
      sim_form_get(f, "TargetArn") == NULL) {
    sns_error(rs, 400, "Sender", "InvalidParameter",
              "Invalid parameter: TopicArn or TargetArn Reason: no value "
              "for required parameter");
    return;
  }
  if (msg == NULL) {
    sns_error(rs, 400, "Sender", "ValidationError",
              "1 validation error detected: Value null at 'message' failed "
              "to satisfy constraint: Member must not be null");
    return;
  }
  if (phone == NULL) {
    /* Topics and endpoints are not simulated. */
    sns_error(rs, 404, "Sender", "NotFound",
              "Topic does not exist");
    return;
  }
  sim_setting(sim, "sns.invalid_numbers", invalid, sizeof(invalid));
  if (!is_e164(phone) || listed(invalid, phone)) {
    snprintf(m, sizeof(m), "Invalid parameter: PhoneNumber Reason: %.40s "
             "is not valid to publish to", phone);
    sns_error(rs, 400, "Sender", "InvalidParameter", m);
    return;
  }
  if (msg[0] == '\0') {
    sns_error(rs, 400, "Sender", "InvalidParameter",
              "Invalid parameter: Empty message");
    return;
  }
  if (strlen(msg) > SNS_SMS_MAX_BYTES) {
    sns_error(rs, 400, "Sender", "InvalidParameter",
              "Invalid parameter: Message Reason: Message too long");
    return;
  }
  id = sim_fnv1a(SIM_FNV_INIT, phone, strlen(phone) + 1);
  id = sim_fnv1a(id, msg, strlen(msg) + 1);
  if (check_attributes(f, &id, rs) != 0)
    return;
  uuid(mid);
  uuid(rid);
  rs->status = 200;
  rs->content_type = "text/xml";
  sim_buf_printf(&rs->headers, "x-amzn-RequestId: %s\r\n", rid);
  sim_buf_printf(&rs->body,
                 "<PublishResponse xmlns=\"" SNS_XMLNS "\">\n"
                 "  <PublishResult>\n"
                 "    <MessageId>%s</MessageId>\n"
                 "  </PublishResult>\n"
                 "  <ResponseMetadata>\n"
                 "    <RequestId>%s</RequestId>\n"
                 "  </ResponseMetadata>\n"
                 "</PublishResponse>\n", mid, rid);
  keys[0] = phone;
  a.message_id = mid;
  a.keys = keys;
  a.nkeys = 1;
  a.identity = id;
  sim_accept(sim, "sns", rs, &a);
}

/* ---- ConfirmSubscription and the certificate ------------------------- */

static void sns_confirm(sns_state *st, const sim_form *q, sim_resp *rs)
{
  const char *topic = sim_form_get(q, "TopicArn");
  const char *token = sim_form_get(q, "Token");
  char arn[320] = "", rid[37];
  size_t i;

  if (topic == NULL || token == NULL) {
    sns_error(rs, 400, "Sender", "ValidationError",
              "1 validation error detected: TopicArn and Token are "
              "required");
    return;
  }
  pthread_mutex_lock(&st->mu);
  for (i = 0; i < st->nsubs; i++)
    if (strcmp(st->subs[i].token, token) == 0 &&
        strcmp(st->subs[i].topic, topic) == 0) {
      st->subs[i].confirmed = 1;
      snprintf(arn, sizeof(arn), "%s", st->subs[i].arn);
      break;
    }
  pthread_mutex_unlock(&st->mu);
  if (arn[0] == '\0') {
    sns_error(rs, 400, "Sender", "InvalidParameter",
              "Invalid token");
    return;
  }
  uuid(rid);
  rs->status = 200;
  rs->content_type = "text/xml";
  sim_buf_str(&rs->body, "<ConfirmSubscriptionResponse xmlns=\"" SNS_XMLNS
              "\">\n  <ConfirmSubscriptionResult>\n    <SubscriptionArn>");
  xml_esc(&rs->body, arn);
  sim_buf_printf(&rs->body, "</SubscriptionArn>\n  "
                 "</ConfirmSubscriptionResult>\n  <ResponseMetadata>\n"
                 "    <RequestId>%s</RequestId>\n  </ResponseMetadata>\n"
                 "</ConfirmSubscriptionResponse>\n", rid);
}

static void not_found(sim_resp *rs)
{
  sim_resp_reset(rs);
  rs->status = 404;
  rs->content_type = "text/plain";
  sim_buf_str(&rs->body, "no simulated provider serves this path\n");
}

static void sns_handle(vc_sim *sim, void *state, const sim_req *rq,
                       sim_resp *rs)
{
  sns_state *st = state;
  const char *ct;
  size_t ctl = 0;
  sim_form f;
  const char *action;

  memset(&f, 0, sizeof(f));
  if (strcmp(rq->method, "GET") == 0 &&
      strcmp(rq->path, st->cert_path) == 0) {
    if (key_ready() != 0) {
      sns_fault(sim, state, 500, 0, rs);
      return;
    }
    rs->status = 200;
    rs->content_type = "application/x-x509-ca-cert";
    sim_buf_str(&rs->body, key_cert_pem);
    return;
  }
  if (strcmp(rq->path, "/") != 0) {
    not_found(rs);
    return;
  }
  if (strcmp(rq->method, "GET") == 0) {
    /* SubscribeURL: unauthenticated, the token is the secret. */
    if (sim_form_parse(&f, rq->query, strlen(rq->query)) != 0) {
      sns_fault(sim, state, 500, 0, rs);
      return;
    }
    action = sim_form_get(&f, "Action");
    if (action != NULL && strcmp(action, "ConfirmSubscription") == 0)
      sns_confirm(st, &f, rs);
    else
      sns_error(rs, 403, "Sender", "MissingAuthenticationToken",
                "Request is missing Authentication Token");
    sim_form_free(&f);
    return;
  }
  if (strcmp(rq->method, "POST") != 0) {
    sns_error(rs, 400, "Sender", "InvalidAction",
              "The action or operation requested is invalid. Verify that "
              "the action is typed correctly.");
    return;
  }
  if (sns_auth(sim, rq, rs) != 0)
    return;
  ct = sim_req_header(rq, "Content-Type", &ctl);
  if (ct != NULL &&
      sim_prefix_ci(ct, ctl, "application/x-www-form-urlencoded") &&
      sim_form_parse(&f, rq->body ? rq->body : "", rq->body_len) != 0) {
    sns_fault(sim, state, 500, 0, rs);
    return;
  }
  action = sim_form_get(&f, "Action");
  if (action == NULL || strcmp(action, "Publish") != 0) {
    sns_error(rs, 400, "Sender", "InvalidAction",
              "The action or operation requested is invalid. Verify that "
              "the action is typed correctly.");
  } else if (sim_form_get(&f, "Version") == NULL ||
             strcmp(sim_form_get(&f, "Version"), SNS_VERSION) != 0) {
    sns_error(rs, 400, "Sender", "InvalidAction",
              "Could not find operation Publish for version "
              "(missing or unknown Version)");
  } else {
    sns_publish(sim, &f, rs);
  }
  sim_form_free(&f);
}

/* ---- messages posted to subscribers ----------------------------------- */

static void iso8601(char out[32], int64_t ms)
{
  time_t t = (time_t)(ms / 1000);
  struct tm tm;

  gmtime_r(&t, &tm);
  snprintf(out, 32, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
           tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
           tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

static void json_field(sim_buf *b, const char *key, const char *val,
                       int last)
{
  sim_buf_printf(b, "  \"%s\" : ", key);
  sim_buf_json_str(b, val);
  sim_buf_str(b, last ? "\n" : ",\n");
}

/* Build the body and headers of one message. */
static int sns_build(vc_sim *sim, const vc_sim_sns_message *m,
                     sim_buf *body, sim_buf *hdr)
{
  sns_state *st = sim_provider_state(sim, "sns");
  const char *type = m->type ? m->type : "Notification";
  int note = strcmp(type, "Notification") == 0;
  char topic[256], region[64], setv[8], host[256], id[37], ts[32];
  char token[72], sub[1024] = "", unsub[600], cert[400], text[600];
  char sig[1024], subarn[37];
  const char *message = m->message;
  sim_buf s = { 0 };
  int version = m->signature_version, rc;

  if (st == NULL)
    return -ENOENT;
  if (!note && strcmp(type, "SubscriptionConfirmation") != 0 &&
      strcmp(type, "UnsubscribeConfirmation") != 0)
    return -EINVAL;
  sim_setting(sim, "sns.topic_arn", topic, sizeof(topic));
  sim_setting(sim, "sns.region", region, sizeof(region));
  sim_setting(sim, "sns.signature_version", setv, sizeof(setv));
  if (m->topic_arn != NULL)
    snprintf(topic, sizeof(topic), "%s", m->topic_arn);
  if (version == 0)
    version = atoi(setv) == 2 ? 2 : 1;
  if (version != 1 && version != 2)
    return -EINVAL;
  if (m->cert_host != NULL)
    snprintf(host, sizeof(host), "%s", m->cert_host);
  else
    snprintf(host, sizeof(host), "sns.%s.amazonaws.com", region);
  uuid(id);
  uuid(subarn);
  iso8601(ts, m->timestamp_ms ? m->timestamp_ms : sim_now_ms());
  snprintf(cert, sizeof(cert), "https://%s%s", host, st->cert_path);
  snprintf(unsub, sizeof(unsub), "https://%s/?Action=Unsubscribe&"
           "SubscriptionArn=%s:%s", host, topic, subarn);
  if (!note) {
    sim_random_hex(token, 64);
    snprintf(sub, sizeof(sub), "https://%s/?Action=ConfirmSubscription&"
             "TopicArn=%s&Token=%s", host, topic, token);
    if (message == NULL) {
      snprintf(text, sizeof(text), "You have chosen to subscribe to the "
               "topic %s.\nTo confirm the subscription, visit the "
               "SubscribeURL included in this message.", topic);
      message = text;
    }
    if (strcmp(type, "SubscriptionConfirmation") == 0) {
      sns_sub *e;
      pthread_mutex_lock(&st->mu);
      e = &st->subs[st->next_sub];
      st->next_sub = (st->next_sub + 1) % SNS_MAX_SUBS;
      if (st->nsubs < SNS_MAX_SUBS)
        st->nsubs++;
      memset(e, 0, sizeof(*e));
      snprintf(e->topic, sizeof(e->topic), "%s", topic);
      snprintf(e->token, sizeof(e->token), "%s", token);
      snprintf(e->arn, sizeof(e->arn), "%s:%s", topic, subarn);
      pthread_mutex_unlock(&st->mu);
    }
  }
  if (message == NULL)
    message = "";
  /* The string to sign: the type's keys in byte order. */
  sim_buf_printf(&s, "Message\n%s\nMessageId\n%s\n", message, id);
  if (note && m->subject != NULL)
    sim_buf_printf(&s, "Subject\n%s\n", m->subject);
  if (!note)
    sim_buf_printf(&s, "SubscribeURL\n%s\n", sub);
  sim_buf_printf(&s, "Timestamp\n%s\n", ts);
  if (!note)
    sim_buf_printf(&s, "Token\n%s\n", token);
  sim_buf_printf(&s, "TopicArn\n%s\nType\n%s\n", topic, type);
  rc = s.oom ? -ENOMEM : key_sign(s.ptr, version, sig, sizeof(sig));
  sim_buf_free(&s);
  if (rc != 0)
    return rc;

  sim_buf_str(body, "{\n");
  json_field(body, "Type", type, 0);
  json_field(body, "MessageId", id, 0);
  if (!note)
    json_field(body, "Token", token, 0);
  json_field(body, "TopicArn", topic, 0);
  if (note && m->subject != NULL)
    json_field(body, "Subject", m->subject, 0);
  json_field(body, "Message", message, 0);
  if (!note)
    json_field(body, "SubscribeURL", sub, 0);
  json_field(body, "Timestamp", ts, 0);
  json_field(body, "SignatureVersion", version == 1 ? "1" : "2", 0);
  json_field(body, "Signature", sig, 0);
  json_field(body, "SigningCertURL", cert, !note);
  if (note)
    json_field(body, "UnsubscribeURL", unsub, 1);
  sim_buf_str(body, "}");
  sim_buf_printf(hdr, "x-amz-sns-message-type: %s\nx-amz-sns-message-id: "
                 "%s\nx-amz-sns-topic-arn: %s\n", type, id, topic);
  if (note)
    sim_buf_printf(hdr, "x-amz-sns-subscription-arn: %s:%s\n", topic,
                   subarn);
  sim_buf_str(hdr, "User-Agent: Amazon Simple Notification Service "
              "Agent\n");
  return body->oom || hdr->oom ? -ENOMEM : 0;
}

int vc_sim_sns_build(vc_sim *s, const vc_sim_sns_message *m, char **body)
{
  sim_buf b = { 0 }, h = { 0 };
  vc_sim_sns_message dflt = VC_SIM_SNS_MESSAGE_INIT;
  int rc;

  if (s == NULL || body == NULL)
    return -EINVAL;
  rc = sns_build(s, m ? m : &dflt, &b, &h);
  sim_buf_free(&h);
  if (rc != 0) {
    sim_buf_free(&b);
    return rc;
  }
  *body = b.ptr;
  return 0;
}

int vc_sim_sns_post(vc_sim *s, const char *url, const vc_sim_sns_message *m)
{
  vc_sim_sns_message dflt = VC_SIM_SNS_MESSAGE_INIT;
  sim_buf b = { 0 }, h = { 0 };
  sim_wh_opts o;
  sim_post p;
  int rc;

  if (s == NULL)
    return -EINVAL;
  sim_webhook_opts(s, "sns", &o);
  if (url == NULL)
    url = o.url;
  if (url[0] == '\0')
    return -EINVAL;
  if ((rc = sns_build(s, m ? m : &dflt, &b, &h)) != 0) {
    sim_buf_free(&b);
    sim_buf_free(&h);
    return rc;
  }
  memset(&p, 0, sizeof(p));
  p.url = strdup(url);
  p.content_type = strdup("text/plain; charset=UTF-8");
  p.headers = h.ptr;
  p.body = b.ptr;
  p.body_len = b.len;
  if (p.url == NULL || p.content_type == NULL) {
    free(p.url);
    free(p.content_type);
    free(p.headers);
    free(p.body);
    return -ENOMEM;
  }
  /* Posted even when webhooks are "off": this is an explicit request. */
  o.off = 0;
  sim_webhook_schedule(s, "sns", &p, 1, &o);
  return 0;
}

int vc_sim_sns_inbound(vc_sim *s, const char *url, const char *from,
                       const char *to, const char *text)
{
  vc_sim_sns_message m = VC_SIM_SNS_MESSAGE_INIT;
  char id[37];
  sim_buf b = { 0 };
  int rc;

  if (s == NULL || from == NULL || to == NULL || text == NULL)
    return -EINVAL;
  uuid(id);
  /* AWS End User Messaging's two-way SMS payload. */
  sim_buf_str(&b, "{\"originationNumber\":");
  sim_buf_json_str(&b, from);
  sim_buf_str(&b, ",\"destinationNumber\":");
  sim_buf_json_str(&b, to);
  sim_buf_str(&b, ",\"messageKeyword\":\"KEYWORD_" SNS_ACCOUNT "\","
              "\"messageBody\":");
  sim_buf_json_str(&b, text);
  sim_buf_printf(&b, ",\"inboundMessageId\":\"%s\","
                 "\"previousPublishedMessageId\":null}", id);
  if (b.oom) {
    sim_buf_free(&b);
    return -ENOMEM;
  }
  m.message = b.ptr;
  rc = vc_sim_sns_post(s, url, &m);
  sim_buf_free(&b);
  return rc;
}

size_t vc_sim_sns_confirmed(vc_sim *s, const char *topic_arn)
{
  sns_state *st = s ? sim_provider_state(s, "sns") : NULL;
  size_t n = 0;

  if (st == NULL)
    return 0;
  pthread_mutex_lock(&st->mu);
  for (size_t i = 0; i < st->nsubs; i++)
    n += st->subs[i].confirmed &&
         (topic_arn == NULL || strcmp(st->subs[i].topic, topic_arn) == 0);
  pthread_mutex_unlock(&st->mu);
  return n;
}

const char *vc_sim_sns_cert_pem(vc_sim *s)
{
  (void)s;
  return key_ready() == 0 ? key_cert_pem : NULL;
}

/* ---- provider ----------------------------------------------------------- */

static int sns_init(vc_sim *sim, void **out)
{
  sns_state *st = calloc(1, sizeof(*st));
  char hex[33];
  int rc;

  if (st == NULL)
    return -ENOMEM;
  pthread_mutex_init(&st->mu, NULL);
  sim_random_hex(hex, 32);
  snprintf(st->cert_path, sizeof(st->cert_path),
           "/SimpleNotificationService-%s.pem", hex);
  if ((rc = sim_publish(sim, "sns.cert_path", st->cert_path)) != 0) {
    pthread_mutex_destroy(&st->mu);
    free(st);
    return rc;
  }
  *out = st;
  return 0;
}

static void sns_fini(void *state)
{
  sns_state *st = state;

  pthread_mutex_destroy(&st->mu);
  free(st);
}

const sim_provider sim_sns = {
  .name = "sns",
  .prefix = "/",
  .max_body = SNS_MAX_BODY,
  .defaults = sns_defaults,
  .init = sns_init,
  .fini = sns_fini,
  .handle = sns_handle,
  .error = sns_fault,
  .sign = NULL,
};
