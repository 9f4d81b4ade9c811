/*
 * SendGrid v3 Mail Send, as the real API answers:
 *
 *   POST /v3/mail/send
 *
 * Bearer auth (the API key); Content-Type application/json; a body of at
 * most 30 MB (413 above, unread); the JSON checked as SendGrid does, every
 * problem reported at once as {"errors":[{"message","field","help"}]} with
 * 400. Success is 202 with an empty body and an X-Message-Id header.
 *
 * Event webhook: one POST per accepted request to the configured URL, a
 * JSON array of events (processed, then the final event, per recipient)
 * with each custom_args key at the top level, events separated by
 * ",\r\n" and the body ending in "\r\n" as SendGrid's do; signed with
 * ECDSA P-256 over timestamp || body in X-Twilio-Email-Event-Webhook-
 * Signature (base64 DER) and -Timestamp.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>
#include <mbedtls/base64.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/ecp.h>
#include <mbedtls/md.h>
#include <mbedtls/pk.h>

#include "sim_int.h"

#define SG_HELP "http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/" \
  "errors.html#"
#define SG_MAX_PERSONALIZATIONS 1000
#define SG_MAX_RECIPIENTS 1000
#define SG_MAX_CATEGORIES 10

static const char *const sg_defaults[] = {
  "api_key", VC_SIM_SENDGRID_API_KEY,
  NULL
};

typedef struct sg_state {
  pthread_mutex_t mu;        /* the ECP group caches tables on first use */
  mbedtls_pk_context pk;
} sg_state;

/* ---- errors ----------------------------------------------------------- */

typedef struct sg_errs {
  sim_buf b;
  int n;
} sg_errs;

static void sg_err(sg_errs *e, const char *msg, const char *field,
                   const char *help)
{
  sim_buf_str(&e->b, e->n++ ? ",{\"message\":" : "{\"message\":");
  sim_buf_json_str(&e->b, msg);
  sim_buf_str(&e->b, ",\"field\":");
  sim_buf_json_str(&e->b, field);
  sim_buf_str(&e->b, ",\"help\":");
  if (help != NULL) {
    sim_buf_str(&e->b, "\"" SG_HELP);
    sim_buf_str(&e->b, help);
    sim_buf_str(&e->b, "\"");
  } else {
    sim_buf_str(&e->b, "null");
  }
  sim_buf_str(&e->b, "}");
}

static void sg_reply_errs(sim_resp *rs, int status, sg_errs *e)
{
  sim_resp_reset(rs);
  rs->status = status;
  rs->content_type = "application/json";
  sim_buf_str(&rs->body, "{\"errors\":[");
  sim_buf_add(&rs->body, e->b.ptr ? e->b.ptr : "", e->b.len);
  sim_buf_str(&rs->body, "]}");
}

/* One error without a field or help, as the auth and limit errors. */
static void sg_reply(sim_resp *rs, int status, const char *msg)
{
  sim_resp_reset(rs);
  rs->status = status;
  rs->content_type = "application/json";
  sim_buf_str(&rs->body, "{\"errors\":[{\"field\":null,\"message\":");
  sim_buf_json_str(&rs->body, msg);
  sim_buf_str(&rs->body, "}]}");
}

static void sg_fault(vc_sim *sim, void *state, int status,
                     unsigned retry_after_s, sim_resp *rs)
{
  (void)sim;
  (void)state;
  if (status == 413) {
    sg_reply(rs, 413, "content too large");
  } else if (status == 429) {
    sg_reply(rs, 429, "too many requests");
    /* SendGrid documents no Retry-After: the reset time is the hint. */
    sim_buf_printf(&rs->headers, "X-RateLimit-Limit: 600\r\n"
                   "X-RateLimit-Remaining: 0\r\n"
                   "X-RateLimit-Reset: %lld\r\n",
                   (long long)(sim_now_ms() / 1000 + retry_after_s));
  } else {
    sg_reply(rs, status, "internal server error");
  }
}

/* ---- validation ------------------------------------------------------- */

static int sg_email_ok(const cJSON *o)
{
  const cJSON *e = cJSON_GetObjectItemCaseSensitive(o, "email");
  const char *s, *at, *dot;
  size_t n;

  if (!cJSON_IsString(e))
    return 0;
  s = e->valuestring;
  n = strlen(s);
  at = strchr(s, '@');
  if (n < 3 || n > 254 || at == NULL || at == s || strchr(at + 1, '@') ||
      strpbrk(s, " \t\r\n<>,;\"") != NULL)
    return 0;
  dot = strrchr(at + 1, '.');
  return dot != NULL && dot > at + 1 && dot[1] != '\0';
}

static int sg_nonempty_str(const cJSON *o, const char *key)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

  return cJSON_IsString(v) && v->valuestring[0] != '\0';
}

static int b64_ok(const char *s)
{
  size_t n = strlen(s), i, pad = 0;

  if (n == 0 || n % 4 != 0)
    return 0;
  for (i = 0; i < n; i++) {
    char c = s[i];
    if (c == '=') {
      pad++;
      continue;
    }
    if (pad || !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                 (c >= '0' && c <= '9') || c == '+' || c == '/'))
      return 0;
  }
  return pad <= 2;
}

/* The recipients of one list (to, cc, bcc) of personalization i. */
static void sg_check_list(sg_errs *e, const cJSON *p, size_t i,
                          const char *name, size_t *total)
{
  const cJSON *list = cJSON_GetObjectItemCaseSensitive(p, name), *r;
  char field[96];
  size_t j = 0;

  cJSON_ArrayForEach(r, list) {
    if (!sg_email_ok(r)) {
      snprintf(field, sizeof(field), "personalizations.%zu.%s.%zu.email",
               i, name, j);
      sg_err(e, "Does not contain a valid address.", field,
             "message.personalizations");
    }
    (*total)++;
    j++;
  }
}

/* An address repeated inside one personalization's to, cc and bcc. */
static const char *sg_find_dup(const cJSON *p, char *where, size_t size)
{
  static const char *const lists[] = { "to", "cc", "bcc" };
  const cJSON *a, *b;
  size_t li, lj;

  for (li = 0; li < 3; li++) {
    cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(p, lists[li])) {
      const cJSON *ea = cJSON_GetObjectItemCaseSensitive(a, "email");
      int seen_self = 0;
      if (!cJSON_IsString(ea))
        continue;
      for (lj = 0; lj <= li; lj++) {
        cJSON_ArrayForEach(b,
                           cJSON_GetObjectItemCaseSensitive(p, lists[lj])) {
          const cJSON *eb = cJSON_GetObjectItemCaseSensitive(b, "email");
          if (b == a) {
            seen_self = 1;
            break;
          }
          if (cJSON_IsString(eb) &&
              strcasecmp(ea->valuestring, eb->valuestring) == 0) {
            snprintf(where, size, "%s", lists[li]);
            return ea->valuestring;
          }
        }
        if (seen_self)
          break;
      }
    }
  }
  return NULL;
}

static void sg_check_personalizations(sg_errs *e, const cJSON *root,
                                      int *all_have_subject)
{
  const cJSON *ps = cJSON_GetObjectItemCaseSensitive(root,
                                                     "personalizations");
  const cJSON *p;
  size_t i = 0, total = 0;
  char field[96], where[8], msg[512];

  *all_have_subject = 0;
  if (!cJSON_IsArray(ps) || cJSON_GetArraySize(ps) == 0) {
    sg_err(e, "The personalizations field is required and must have at "
           "least one personalization.", "personalizations",
           "-Personalizations-Errors");
    return;
  }
  if (cJSON_GetArraySize(ps) > SG_MAX_PERSONALIZATIONS)
    sg_err(e, "The personalizations field is limited to 1000 "
           "personalizations per API request.", "personalizations",
           "-Personalizations-Errors");
  *all_have_subject = 1;
  cJSON_ArrayForEach(p, ps) {
    const cJSON *to = cJSON_GetObjectItemCaseSensitive(p, "to");
    const char *dup;

    if (!sg_nonempty_str(p, "subject"))
      *all_have_subject = 0;
    if (!cJSON_IsArray(to) || cJSON_GetArraySize(to) == 0) {
      snprintf(field, sizeof(field), "personalizations.%zu.to", i);
      sg_err(e, "The to array is required for all personalization "
             "objects, and must have at least one email object with a "
             "valid email address.", field, "message.personalizations.to");
    }
    sg_check_list(e, p, i, "to", &total);
    sg_check_list(e, p, i, "cc", &total);
    sg_check_list(e, p, i, "bcc", &total);
    dup = sg_find_dup(p, where, sizeof(where));
    if (dup != NULL) {
      snprintf(field, sizeof(field), "personalizations.%zu.%s", i, where);
      snprintf(msg, sizeof(msg), "Each email address in the "
               "personalization block should be unique between to, cc, "
               "and bcc. We found the first duplicate instance of [%.200s] "
               "in the %s field.", dup, field);
      sg_err(e, msg, field, "message.recipient_errors");
    }
    i++;
  }
  if (total > SG_MAX_RECIPIENTS)
    sg_err(e, "The total number of recipients must be less than 1000. "
           "This includes all recipients defined within the to, cc, and "
           "bcc parameters, across each object that you include in the "
           "personalizations array.", "personalizations",
           "message.personalizations");
}

static void sg_check_content(sg_errs *e, const cJSON *root, int templ)
{
  const cJSON *content = cJSON_GetObjectItemCaseSensitive(root, "content");
  const cJSON *c;
  char field[64];
  size_t i = 0;

  if (!cJSON_IsArray(content) || cJSON_GetArraySize(content) == 0) {
    if (!templ)
      sg_err(e, "Unless a valid template_id is provided, the content "
             "parameter is required. There must be at least one defined "
             "content block. We typically suggest both text/plain and "
             "text/html blocks are included, but only one block is "
             "required.", "content", "message.content");
    return;
  }
  cJSON_ArrayForEach(c, content) {
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(c, "type");
    if (!sg_nonempty_str(c, "type")) {
      snprintf(field, sizeof(field), "content.%zu.type", i);
      sg_err(e, "The content type must be a string at least one "
             "character in length.", field, "message.content.type");
    } else if (i > 0 && strcmp(type->valuestring, "text/plain") == 0) {
      snprintf(field, sizeof(field), "content.%zu.type", i);
      sg_err(e, "If present, text/plain content must be first, followed "
             "by text/html, followed by any other content.", field,
             "message.content.type");
    }
    if (!sg_nonempty_str(c, "value")) {
      snprintf(field, sizeof(field), "content.%zu.value", i);
      sg_err(e, "The content value must be a string at least one "
             "character in length.", field, "message.content.value");
    }
    i++;
  }
}

static void sg_check_attachments(sg_errs *e, const cJSON *root)
{
  const cJSON *atts = cJSON_GetObjectItemCaseSensitive(root, "attachments");
  const cJSON *a, *content;
  char field[64];
  size_t i = 0;

  cJSON_ArrayForEach(a, atts) {
    content = cJSON_GetObjectItemCaseSensitive(a, "content");
    snprintf(field, sizeof(field), "attachments.%zu.content", i);
    if (!sg_nonempty_str(a, "content"))
      sg_err(e, "The attachment content is required.", field,
             "message.attachments.content");
    else if (!b64_ok(content->valuestring))
      sg_err(e, "The attachment content must be base64 encoded.", field,
             "message.attachments.content");
    if (!sg_nonempty_str(a, "filename")) {
      snprintf(field, sizeof(field), "attachments.%zu.filename", i);
      sg_err(e, "The attachment filename parameter is required.", field,
             "message.attachments.filename");
    }
    i++;
  }
}

/* "headers": an object of string values that may not override the
 * headers SendGrid sets itself. */
static void sg_check_headers(sg_errs *e, const cJSON *root)
{
  static const char *const reserved[] = {
    "x-sg-id", "x-sg-eid", "received", "dkim-signature", "content-type",
    "content-transfer-encoding", "to", "from", "subject", "reply-to", "cc",
    "bcc"
  };
  const cJSON *h = cJSON_GetObjectItemCaseSensitive(root, "headers"), *v;

  if (h == NULL)
    return;
  if (!cJSON_IsObject(h)) {
    sg_err(e, "Headers must be an object.", "headers", "message.headers");
    return;
  }
  cJSON_ArrayForEach(v, h) {
    if (!cJSON_IsString(v))
      sg_err(e, "Header values must be strings.", "headers",
             "message.headers");
    for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
      if (strcasecmp(v->string, reserved[i]) == 0)
        sg_err(e, "You may not override this header.", "headers",
               "message.headers");
  }
}

/* Every check; returns the number of errors found. */
static int sg_validate(sg_errs *e, const cJSON *root)
{
  const cJSON *from = cJSON_GetObjectItemCaseSensitive(root, "from");
  const cJSON *reply = cJSON_GetObjectItemCaseSensitive(root, "reply_to");
  const cJSON *cats = cJSON_GetObjectItemCaseSensitive(root, "categories");
  int templ = sg_nonempty_str(root, "template_id"), all_subject;

  sg_check_personalizations(e, root, &all_subject);
  if (!cJSON_IsObject(from) ||
      !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(from, "email")))
    sg_err(e, "The from object must be provided for every email send. It "
           "is an object that requires the email parameter, but may also "
           "contain a name parameter.  e.g. {\"email\" : "
           "\"example@example.com\"}  or {\"email\" : "
           "\"example@example.com\", \"name\" : \"Example Recipient\"}.",
           "from.email", "message.from");
  else if (!sg_email_ok(from))
    sg_err(e, "The from email does not contain a valid address.",
           "from.email", "message.from");
  if (reply != NULL && !sg_email_ok(reply))
    sg_err(e, "The reply_to email does not contain a valid address.",
           "reply_to.email", "message.reply_to");
  if (!templ && !all_subject && !sg_nonempty_str(root, "subject"))
    sg_err(e, "The subject is required. You can get around this "
           "requirement if you use a template with a subject defined or "
           "if every personalization has a subject defined.", "subject",
           "message.subject");
  sg_check_content(e, root, templ);
  sg_check_attachments(e, root);
  sg_check_headers(e, root);
  if (cJSON_IsArray(cats) && cJSON_GetArraySize(cats) > SG_MAX_CATEGORIES)
    sg_err(e, "Too many categories on this message. There is a maximum "
           "of 10 categories per message.", "categories",
           "message.categories");
  return e->n;
}

/* ---- the event webhook ------------------------------------------------ */

/* Copy string custom_args of `o` to the event's top level. */
static void sg_add_args(cJSON *ev, const cJSON *o)
{
  const cJSON *a;

  if (!cJSON_IsObject(o))
    return;
  cJSON_ArrayForEach(a, o) {
    if (a->string == NULL)
      continue;
    if (cJSON_GetObjectItemCaseSensitive(ev, a->string) != NULL)
      cJSON_DeleteItemFromObjectCaseSensitive(ev, a->string);
    if (cJSON_IsString(a))
      cJSON_AddStringToObject(ev, a->string, a->valuestring);
    else if (cJSON_IsNumber(a))
      cJSON_AddNumberToObject(ev, a->string, a->valuedouble);
  }
}

static cJSON *sg_event(const char *kind, const char *email,
                       const char *msgid, const char *xmid, long long ts,
                       const cJSON *root, const cJSON *p)
{
  cJSON *ev = cJSON_CreateObject(), *cats;
  char evid[32], smtp[96];

  if (ev == NULL)
    return NULL;
  /* custom_args first so the event's own fields win on a clash. */
  sg_add_args(ev, cJSON_GetObjectItemCaseSensitive(root, "custom_args"));
  sg_add_args(ev, cJSON_GetObjectItemCaseSensitive(p, "custom_args"));
  sim_random_b64url(evid, 22);
  snprintf(smtp, sizeof(smtp), "<%s@ismtpd0001p1sim.sendgrid.net>", xmid);
  cJSON_AddStringToObject(ev, "email", email);
  cJSON_AddStringToObject(ev, "event", kind);
  cJSON_AddStringToObject(ev, "sg_event_id", evid);
  cJSON_AddStringToObject(ev, "sg_message_id", msgid);
  cJSON_AddStringToObject(ev, "smtp-id", smtp);
  cJSON_AddNumberToObject(ev, "timestamp", (double)ts);
  cats = cJSON_GetObjectItemCaseSensitive(root, "categories");
  if (cJSON_IsArray(cats))
    cJSON_AddItemToObject(ev, "category", cJSON_Duplicate(cats, 1));
  if (strcmp(kind, "delivered") == 0) {
    cJSON_AddStringToObject(ev, "response", "250 2.0.0 OK");
    cJSON_AddStringToObject(ev, "ip", "127.0.0.1");
    cJSON_AddNumberToObject(ev, "tls", 1);
  } else if (strcmp(kind, "bounce") == 0) {
    cJSON_AddStringToObject(ev, "reason", "550 5.1.1 The email account "
                            "that you tried to reach does not exist.");
    cJSON_AddStringToObject(ev, "status", "5.1.1");
    cJSON_AddStringToObject(ev, "type", "bounce");
  } else if (strcmp(kind, "dropped") == 0) {
    cJSON_AddStringToObject(ev, "reason", "Bounced Address");
  } else if (strcmp(kind, "deferred") == 0) {
    cJSON_AddStringToObject(ev, "response", "421 4.7.0 Try again later");
    cJSON_AddStringToObject(ev, "attempt", "1");
  }
  return ev;
}

/* Append one event as compact JSON to the batch. */
static void sg_batch_add(sim_buf *b, cJSON *ev)
{
  char *s = ev ? cJSON_PrintUnformatted(ev) : NULL;

  if (s == NULL) {
    b->oom = 1;
  } else {
    sim_buf_str(b, b->len > 1 ? ",\r\n" : "");
    sim_buf_str(b, s);
  }
  cJSON_free(s);
  cJSON_Delete(ev);
}

/* Events of every recipient: a pass over one kind at a time. */
static void sg_batch_pass(sim_buf *b, const char *kind, const char *xmid,
                          long long ts, const cJSON *root)
{
  static const char *const lists[] = { "to", "cc", "bcc" };
  const cJSON *p, *r;
  char msgid[160];
  size_t i = 0, j, li;

  cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(root,
                                                         "personalizations")) {
    j = 0;
    for (li = 0; li < 3; li++) {
      cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(p, lists[li])) {
        const cJSON *em = cJSON_GetObjectItemCaseSensitive(r, "email");
        if (!cJSON_IsString(em))
          continue;
        /* X-Message-Id, then a per-recipient suffix. */
        snprintf(msgid, sizeof(msgid), "%s.filterdrecv-sim-%zu-%zu-0",
                 xmid, i, j++);
        sg_batch_add(b, sg_event(kind, em->valuestring, msgid, xmid, ts,
                                 root, p));
      }
    }
    i++;
  }
}

static void sg_schedule(vc_sim *sim, const char *xmid, const cJSON *root)
{
  sim_wh_opts o;
  sim_post post;
  sim_buf b = { 0 };
  long long ts = (long long)(sim_now_ms() / 1000);
  const char *final;

  sim_webhook_opts(sim, "sendgrid", &o);
  if (o.off || o.url[0] == '\0')
    return;
  final = o.final_status[0] ? o.final_status : "delivered";
  sim_buf_str(&b, "[");
  if (strcmp(final, "dropped") == 0) {
    /* A dropped message is never processed. */
    sg_batch_pass(&b, "dropped", xmid, ts, root);
  } else if (o.reorder) {
    sg_batch_pass(&b, final, xmid, ts, root);
    sg_batch_pass(&b, "processed", xmid, ts, root);
  } else {
    sg_batch_pass(&b, "processed", xmid, ts, root);
    sg_batch_pass(&b, final, xmid, ts, root);
  }
  sim_buf_str(&b, "]\r\n");
  memset(&post, 0, sizeof(post));
  post.url = strdup(o.url);
  post.content_type = strdup("application/json");
  post.headers = strdup("User-Agent: SendGrid Event API\n");
  post.body = b.ptr;
  post.body_len = b.len;
  if (b.oom || !post.url || !post.content_type || !post.headers) {
    free(post.url);
    free(post.content_type);
    free(post.headers);
    sim_buf_free(&b);
    return;
  }
  sim_webhook_schedule(sim, "sendgrid", &post, 1, &o);
}

static char *sg_sign(void *state, const sim_post *post)
{
  sg_state *st = state;
  const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
  unsigned char hash[32], sig[MBEDTLS_ECDSA_MAX_LEN];
  char ts[24], b64[160], *out;
  size_t slen = 0;
  mbedtls_md_context_t ctx;
  int rc;

  snprintf(ts, sizeof(ts), "%lld", (long long)(sim_now_ms() / 1000));
  mbedtls_md_init(&ctx);
  rc = mbedtls_md_setup(&ctx, md, 0);
  if (rc == 0)
    rc = mbedtls_md_starts(&ctx);
  if (rc == 0)
    rc = mbedtls_md_update(&ctx, (const unsigned char *)ts, strlen(ts));
  if (rc == 0)
    rc = mbedtls_md_update(&ctx, (const unsigned char *)post->body,
                           post->body_len);
  if (rc == 0)
    rc = mbedtls_md_finish(&ctx, hash);
  mbedtls_md_free(&ctx);
  if (rc != 0)
    return NULL;
  pthread_mutex_lock(&st->mu);
  rc = mbedtls_pk_sign(&st->pk, MBEDTLS_MD_SHA256, hash, sizeof(hash), sig,
                       &slen, sim_rng, NULL);
  pthread_mutex_unlock(&st->mu);
  if (rc != 0 || sim_base64(b64, sizeof(b64), sig, slen) != 0)
    return NULL;
  if (asprintf(&out, "X-Twilio-Email-Event-Webhook-Signature: %s\n"
               "X-Twilio-Email-Event-Webhook-Timestamp: %s\n", b64, ts) < 0)
    return NULL;
  return out;
}

/* ---- the endpoint ----------------------------------------------------- */

/* Recipients and custom_args values, for sent counts; keys may be NULL
 * to count them. */
static size_t sg_keys(const cJSON *root, const char **keys)
{
  static const char *const lists[] = { "to", "cc", "bcc" };
  const cJSON *p, *r, *a;
  size_t n = 0, li;

  cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(root,
                                                         "custom_args"))
    if (cJSON_IsString(a)) {
      if (keys)
        keys[n] = a->valuestring;
      n++;
    }
  cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(root,
                                                         "personalizations")) {
    for (li = 0; li < 3; li++)
      cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(p, lists[li])) {
        const cJSON *em = cJSON_GetObjectItemCaseSensitive(r, "email");
        if (cJSON_IsString(em)) {
          if (keys)
            keys[n] = em->valuestring;
          n++;
        }
      }
    cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(p,
                                                           "custom_args"))
      if (cJSON_IsString(a)) {
        if (keys)
          keys[n] = a->valuestring;
        n++;
      }
  }
  return n;
}

static void sg_accepted(vc_sim *sim, const sim_req *rq, const cJSON *root,
                        sim_resp *rs)
{
  const char *few[8], **keys = few;
  size_t nkeys = sg_keys(root, NULL);
  sim_accept_info a;
  char xmid[32];

  sim_random_b64url(xmid, 22);
  rs->status = 202;
  rs->content_type = NULL;
  sim_buf_printf(&rs->headers, "X-Message-Id: %s\r\n", xmid);
  if (nkeys > 8)
    keys = calloc(nkeys, sizeof(*keys));
  a.message_id = xmid;
  a.keys = keys;
  a.nkeys = keys ? sg_keys(root, keys) : 0;
  /* A retry resends the same bytes. */
  a.identity = sim_fnv1a(SIM_FNV_INIT, rq->body, rq->body_len);
  sim_accept(sim, "sendgrid", rs, &a);
  if (keys != few)
    free(keys);
  sg_schedule(sim, xmid, root);
}

static void sg_handle(vc_sim *sim, void *state, const sim_req *rq,
                      sim_resp *rs)
{
  char key[256], want[300];
  const char *h, *ct;
  size_t hl = 0, ctl = 0;
  sg_errs e;
  cJSON *root;

  (void)state;
  memset(&e, 0, sizeof(e));
  h = sim_req_header(rq, "Authorization", &hl);
  if (h == NULL || hl == 0) {
    sg_reply(rs, 401, "authorization required");
    return;
  }
  sim_setting(sim, "sendgrid.api_key", key, sizeof(key));
  snprintf(want, sizeof(want), "Bearer %s", key);
  if (hl != strlen(want) || strncmp(h, want, hl) != 0) {
    sg_reply(rs, 401, "The provided authorization grant is invalid, "
             "expired, or revoked");
    return;
  }
  if (strcmp(rq->path, "/v3/mail/send") != 0) {
    sg_reply(rs, 404, "not found");
    return;
  }
  if (strcmp(rq->method, "POST") != 0) {
    sg_reply(rs, 405, "method not allowed");
    return;
  }
  ct = sim_req_header(rq, "Content-Type", &ctl);
  if (ct == NULL || !sim_prefix_ci(ct, ctl, "application/json")) {
    sg_err(&e, "Content-Type should be application/json.", NULL, NULL);
    sg_reply_errs(rs, 400, &e);
    goto out;
  }
  root = cJSON_ParseWithLength(rq->body ? rq->body : "", rq->body_len);
  if (!cJSON_IsObject(root)) {
    cJSON_Delete(root);
    sg_err(&e, "Bad Request", NULL, NULL);
    sg_reply_errs(rs, 400, &e);
    goto out;
  }
  if (sg_validate(&e, root) > 0)
    sg_reply_errs(rs, 400, &e);
  else
    sg_accepted(sim, rq, root, rs);
  cJSON_Delete(root);
out:
  sim_buf_free(&e.b);
}

/* ---- the signing key -------------------------------------------------- */

static int sg_init(vc_sim *sim, void **out)
{
  unsigned char der[256];
  char b64[256];
  size_t olen = 0;
  sg_state *st;
  int n, rc;

  st = calloc(1, sizeof(*st));
  if (st == NULL)
    return -ENOMEM;
  pthread_mutex_init(&st->mu, NULL);
  mbedtls_pk_init(&st->pk);
  rc = mbedtls_pk_setup(&st->pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
  if (rc == 0)
    rc = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(st->pk),
                             sim_rng, NULL);
  if (rc != 0)
    goto fail;
  /* DER is written at the end of the buffer. */
  n = mbedtls_pk_write_pubkey_der(&st->pk, der, sizeof(der));
  if (n <= 0 ||
      mbedtls_base64_encode((unsigned char *)b64, sizeof(b64), &olen,
                            der + sizeof(der) - n, (size_t)n) != 0)
    goto fail;
  rc = sim_publish(sim, "sendgrid.public_key", b64);
  if (rc != 0)
    goto fail;
  *out = st;
  return 0;
fail:
  mbedtls_pk_free(&st->pk);
  pthread_mutex_destroy(&st->mu);
  free(st);
  return rc < 0 ? rc : -EIO;
}

static void sg_fini(void *state)
{
  sg_state *st = state;

  mbedtls_pk_free(&st->pk);
  pthread_mutex_destroy(&st->mu);
  free(st);
}

const sim_provider sim_sendgrid = {
  .name = "sendgrid",
  .prefix = "/v3/",
  .max_body = 30ull * 1024 * 1024,
  .defaults = sg_defaults,
  .init = sg_init,
  .fini = sg_fini,
  .handle = sg_handle,
  .error = sg_fault,
  .sign = sg_sign,
};
