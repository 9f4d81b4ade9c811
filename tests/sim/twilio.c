/*
 * Twilio Programmable Messaging, as the real API answers:
 *
 *   POST /2010-04-01/Accounts/{AccountSid}/Messages.json
 *
 * HTTP Basic auth (account sid, auth token); a form-encoded body (any
 * other content type leaves the parameters unread, so the first required
 * one is reported missing); To, From or MessagingServiceSid, and Body,
 * MediaUrl or ContentSid required; To in E.164; From a number, short code
 * or alphanumeric sender id; Body at most 1,600 characters. Errors are
 * Twilio's JSON ({code, message, more_info, status}); success is 201
 * with a Message resource. Status callbacks go
 * to the message's StatusCallback, form-encoded and signed with
 * X-Twilio-Signature (base64 HMAC-SHA1, key = auth token, over the URL
 * followed by the parameters sorted by name, each name then value).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/md.h>

#include "sim_int.h"

#define TW_PREFIX "/2010-04-01/Accounts/"
#define TW_API_VERSION "2010-04-01"
#define TW_MAX_BODY_CHARS 1600

static const char *const tw_defaults[] = {
  "account_sid", VC_SIM_TWILIO_ACCOUNT_SID,
  "auth_token", VC_SIM_TWILIO_AUTH_TOKEN,
  /* The sender a Messaging Service picks when the request names none. */
  "service_from", "+15005550006",
  /* The Message resource's price: "" answers null (Twilio prices most
   * messages later); a decimal such as "-0.00750" answers that string,
   * in price_unit. */
  "price", "",
  "price_unit", "USD",
  NULL
};

/* ---- answers ---------------------------------------------------------- */

/* ---- checks ----------------------------------------------------------- */

/* A sender: E.164 (maybe behind a channel prefix), a short code of 3-8
 * digits, or an alphanumeric sender id of up to 11 characters. */
static int tw_sender_ok(const char *s)
{
  size_t n = strlen(s), i, letters = 0;

  if (sim_tw_e164(s))
    return 1;
  if (n >= 3 && n <= 8 && strspn(s, "0123456789") == n)
    return 1;
  if (n == 0 || n > 11)
    return 0;
  for (i = 0; i < n; i++) {
    char c = s[i];
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))
      letters++;
    else if (!(c >= '0' && c <= '9') && c != ' ')
      return 0;
  }
  return letters > 0;
}

/* Next code point of UTF-8 text; a stray byte counts as itself. */
static unsigned long utf8_next(const unsigned char **pp,
                               const unsigned char *e)
{
  const unsigned char *p = *pp;
  unsigned long cp = *p;
  int n, i;

  if (cp >= 0xf0 && cp < 0xf8) {
    n = 3;
    cp &= 0x07;
  } else if (cp >= 0xe0 && cp < 0xf0) {
    n = 2;
    cp &= 0x0f;
  } else if (cp >= 0xc0 && cp < 0xe0) {
    n = 1;
    cp &= 0x1f;
  } else {
    *pp = p + 1;
    return cp;
  }
  if (e - p <= n)
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

/* 1: GSM-7 basic table, 2: extension table (two septets), 0: neither. */
static int gsm7_class(unsigned long c)
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
  if (c >= 0x20 && c < 0x7f) {
    if (strchr("[\\]^{|}~", (int)c))
      return 2;
    return c == '`' ? 0 : 1;
  }
  for (i = 0; i < sizeof(basic) / sizeof(basic[0]); i++)
    if (basic[i] == c)
      return 1;
  return 0;
}

/* Characters, and SMS segments as Twilio bills them. */
static void tw_measure(const char *body, size_t *chars, unsigned *segments)
{
  const unsigned char *p = (const unsigned char *)body;
  const unsigned char *e = p + strlen(body);
  size_t n = 0, septets = 0, units = 0;
  int gsm = 1;

  while (p < e) {
    unsigned long c = utf8_next(&p, e);
    int k = gsm7_class(c);
    n++;
    if (k == 0)
      gsm = 0;
    septets += k == 2 ? 2 : 1;
    units += c > 0xffff ? 2 : 1;
  }
  *chars = n;
  if (gsm)
    *segments = septets <= 160 ? 1 : (unsigned)((septets + 152) / 153);
  else
    *segments = units <= 70 ? 1 : (unsigned)((units + 66) / 67);
}

/* ---- status callbacks ------------------------------------------------- */

typedef struct tw_msg {
  const char *sid, *account, *from, *to, *service;
} tw_msg;

static int tw_callback(sim_post *out, const char *token, const char *url,
                       const tw_msg *m, const char *status)
{
  sim_kvp p[12];
  size_t n = 0;
  const char *err = NULL;

  if (strcmp(status, "undelivered") == 0)
    err = "30003";            /* unreachable destination handset */
  else if (strcmp(status, "failed") == 0)
    err = "30008";            /* unknown error */
  p[n++] = (sim_kvp){ "AccountSid", m->account };
  p[n++] = (sim_kvp){ "ApiVersion", TW_API_VERSION };
  if (err)
    p[n++] = (sim_kvp){ "ErrorCode", err };
  p[n++] = (sim_kvp){ "From", m->from };
  p[n++] = (sim_kvp){ "MessageSid", m->sid };
  p[n++] = (sim_kvp){ "MessageStatus", status };
  if (m->service && *m->service)
    p[n++] = (sim_kvp){ "MessagingServiceSid", m->service };
  p[n++] = (sim_kvp){ "SmsSid", m->sid };
  p[n++] = (sim_kvp){ "SmsStatus", status };
  p[n++] = (sim_kvp){ "To", m->to };
  return sim_tw_form_post(out, token, url, p, n);
}

static void tw_schedule(vc_sim *sim, const tw_msg *m, const char *cb_url)
{
  sim_wh_opts o;
  sim_post posts[2];
  const char *final;
  char token[128];
  size_t n = 0, i;

  sim_webhook_opts(sim, "twilio", &o);
  if (o.off)
    return;
  if (cb_url == NULL || *cb_url == '\0')
    cb_url = o.url;           /* as a Messaging Service's callback URL */
  if (*cb_url == '\0')
    return;
  final = o.final_status[0] ? o.final_status : "delivered";
  sim_setting(sim, "twilio.auth_token", token, sizeof(token));
  memset(posts, 0, sizeof(posts));
  /* "sent" alone: a route that never reports delivery. */
  if (strcmp(final, "sent") == 0) {
    if (tw_callback(&posts[n++], token, cb_url, m, "sent") != 0)
      goto fail;
  } else if (o.reorder) {
    if (tw_callback(&posts[n++], token, cb_url, m, final) != 0 ||
        tw_callback(&posts[n++], token, cb_url, m, "sent") != 0)
      goto fail;
  } else {
    if (tw_callback(&posts[n++], token, cb_url, m, "sent") != 0 ||
        tw_callback(&posts[n++], token, cb_url, m, final) != 0)
      goto fail;
  }
  sim_webhook_schedule(sim, "twilio", posts, n, &o);
  return;
fail:
  for (i = 0; i < 2; i++) {
    free(posts[i].url);
    free(posts[i].content_type);
    free(posts[i].headers);
    free(posts[i].body);
  }
}

int vc_sim_twilio_inbound(vc_sim *s, const char *url, const char *from,
                          const char *to, const char *text, char *sid_out)
{
  char sid[35], token[128], account[64];
  sim_kvp p[11];
  sim_wh_opts o;
  sim_post post;
  size_t n = 0;
  int rc;

  if (s == NULL || from == NULL || to == NULL || text == NULL)
    return -EINVAL;
  sim_webhook_opts(s, "twilio", &o);
  if (url == NULL || *url == '\0')
    url = o.url;
  if (*url == '\0')
    return -EINVAL;
  memcpy(sid, "SM", 2);
  sim_random_hex(sid + 2, 32);
  sim_setting(s, "twilio.auth_token", token, sizeof(token));
  sim_setting(s, "twilio.account_sid", account, sizeof(account));
  p[n++] = (sim_kvp){ "AccountSid", account };
  p[n++] = (sim_kvp){ "ApiVersion", TW_API_VERSION };
  p[n++] = (sim_kvp){ "Body", text };
  p[n++] = (sim_kvp){ "From", from };
  p[n++] = (sim_kvp){ "MessageSid", sid };
  p[n++] = (sim_kvp){ "NumMedia", "0" };
  p[n++] = (sim_kvp){ "NumSegments", "1" };
  p[n++] = (sim_kvp){ "SmsMessageSid", sid };
  p[n++] = (sim_kvp){ "SmsSid", sid };
  p[n++] = (sim_kvp){ "SmsStatus", "received" };
  p[n++] = (sim_kvp){ "To", to };
  memset(&post, 0, sizeof(post));
  if ((rc = sim_tw_form_post(&post, token, url, p, n)) != 0)
    return rc;
  if (sid_out != NULL)
    memcpy(sid_out, sid, sizeof(sid));
  o.off = 0;
  sim_webhook_schedule(s, "twilio", &post, 1, &o);
  return 0;
}

/* ---- the endpoint ----------------------------------------------------- */

static void tw_created(vc_sim *sim, const sim_form *f, const char *account,
                       sim_resp *rs)
{
  const char *to = sim_form_get(f, "To");
  const char *from = sim_form_get(f, "From");
  const char *service = sim_form_get(f, "MessagingServiceSid");
  const char *body = sim_form_get(f, "Body");
  size_t nmedia = sim_form_count(f, "MediaUrl"), chars = 0, i;
  unsigned segments = 1;
  char sid[40], rqid[40], date[40], picked[64], price[40], unit[8];
  const char *keys[1];
  sim_accept_info a;
  uint64_t id;
  tw_msg m;
  int by_service = service && *service && !(from && *from);

  if (body == NULL)
    body = "";
  if (from != NULL && *from == '\0')
    from = NULL;
  if (service != NULL && *service == '\0')
    service = NULL;
  tw_measure(body, &chars, &segments);
  if (nmedia > 0)
    segments = 1;             /* one MMS */
  memcpy(sid, nmedia > 0 ? "MM" : "SM", 2);
  sim_random_hex(sid + 2, 32);
  memcpy(rqid, "RQ", 2);
  sim_random_hex(rqid + 2, 32);
  sim_rfc2822(date, sim_now_ms() / 1000);

  rs->status = 201;
  rs->content_type = "application/json";
  sim_buf_printf(&rs->headers, "Twilio-Request-Id: %s\r\n", rqid);
  sim_buf_str(&rs->body, "{\"account_sid\": ");
  sim_buf_json_str(&rs->body, account);
  sim_buf_str(&rs->body, ", \"api_version\": \"" TW_API_VERSION "\", "
              "\"body\": ");
  sim_buf_json_str(&rs->body, body);
  sim_buf_printf(&rs->body, ", \"date_created\": \"%s\", \"date_sent\": "
                 "null, \"date_updated\": \"%s\", \"direction\": "
                 "\"outbound-api\", \"error_code\": null, \"error_message\":"
                 " null, \"from\": ", date, date);
  sim_buf_json_str(&rs->body, from);
  sim_buf_str(&rs->body, ", \"messaging_service_sid\": ");
  sim_buf_json_str(&rs->body, service);
  /* A Messaging Service picks the sender later: 0 segments for now. */
  sim_setting(sim, "twilio.price", price, sizeof(price));
  sim_setting(sim, "twilio.price_unit", unit, sizeof(unit));
  sim_buf_printf(&rs->body, ", \"num_media\": \"%zu\", \"num_segments\": "
                 "\"%u\", \"price\": ", nmedia, by_service ? 0u : segments);
  sim_buf_json_str(&rs->body, price[0] ? price : NULL);
  sim_buf_str(&rs->body, ", \"price_unit\": ");
  sim_buf_json_str(&rs->body, unit);
  sim_buf_printf(&rs->body, ", "
                 "\"sid\": \"%s\", \"status\": \"%s\", "
                 "\"subresource_uris\": {\"media\": \"/2010-04-01/Accounts/"
                 "%s/Messages/%s/Media.json\"}, \"to\": ", sid,
                 service ? "accepted" : "queued", account, sid);
  sim_buf_json_str(&rs->body, to);
  sim_buf_printf(&rs->body, ", \"uri\": \"/2010-04-01/Accounts/%s/Messages/"
                 "%s.json\"}", account, sid);

  /* The same To, sender and content again is a duplicate send. */
  id = sim_fnv1a(SIM_FNV_INIT, to, strlen(to) + 1);
  id = sim_fnv1a(id, from ? from : "", from ? strlen(from) + 1 : 1);
  id = sim_fnv1a(id, service ? service : "", service ? strlen(service) + 1 : 1);
  id = sim_fnv1a(id, body, strlen(body) + 1);
  for (i = 0; i < f->n; i++)
    if (strcmp(f->key[i], "MediaUrl") == 0 ||
        strcmp(f->key[i], "ContentSid") == 0 ||
        strcmp(f->key[i], "ContentVariables") == 0)
      id = sim_fnv1a(id, f->val[i], strlen(f->val[i]) + 1);
  keys[0] = to;
  a.message_id = sid;
  a.keys = keys;
  a.nkeys = 1;
  a.identity = id;
  sim_accept(sim, "twilio", rs, &a);

  sim_setting(sim, "twilio.service_from", picked, sizeof(picked));
  m.sid = sid;
  m.account = account;
  m.from = from ? from : picked;
  m.to = to;
  m.service = service;
  tw_schedule(sim, &m, sim_form_get(f, "StatusCallback"));
}

static void tw_handle(vc_sim *sim, void *state, const sim_req *rq,
                      sim_resp *rs)
{
  const char *p = rq->path + strlen(TW_PREFIX), *slash, *to, *body, *ct;
  char account[64], msg[256];
  size_t ctlen = 0, chars = 0;
  unsigned segments = 0;
  sim_form f;
  int have_media;

  (void)state;
  memset(&f, 0, sizeof(f));
  slash = strchr(p, '/');
  if (strncmp(rq->path, TW_PREFIX, strlen(TW_PREFIX)) != 0 ||
      slash == NULL || (size_t)(slash - p) >= sizeof(account)) {
    account[0] = '\0';
  } else {
    memcpy(account, p, (size_t)(slash - p));
    account[slash - p] = '\0';
  }
  if (sim_tw_auth(sim, rq, account, rs) != 0)
    return;
  if (slash == NULL || strcmp(slash, "/Messages.json") != 0) {
    snprintf(msg, sizeof(msg), "The requested resource %.200s was not found",
             rq->path);
    sim_tw_error(rs, 404, 20404, msg);
    return;
  }
  if (strcmp(rq->method, "POST") != 0) {
    sim_tw_error(rs, 405, 20004, "Method not allowed");
    return;
  }
  /* Twilio reads parameters from form bodies only. */
  ct = sim_req_header(rq, "Content-Type", &ctlen);
  if (ct != NULL &&
      sim_prefix_ci(ct, ctlen, "application/x-www-form-urlencoded")) {
    if (sim_form_parse(&f, rq->body ? rq->body : "", rq->body_len) != 0) {
      sim_tw_fault(sim, state, 500, 0, rs);
      return;
    }
  }
  to = sim_form_get(&f, "To");
  body = sim_form_get(&f, "Body");
  have_media = sim_form_count(&f, "MediaUrl") > 0 ||
    (sim_form_get(&f, "ContentSid") && *sim_form_get(&f, "ContentSid"));
  if (to == NULL || *to == '\0') {
    sim_tw_error(rs, 400, 21604, "A 'To' phone number is required.");
  } else if ((sim_form_get(&f, "From") == NULL ||
              *sim_form_get(&f, "From") == '\0') &&
             (sim_form_get(&f, "MessagingServiceSid") == NULL ||
              *sim_form_get(&f, "MessagingServiceSid") == '\0')) {
    sim_tw_error(rs, 400, 21603, "A 'From' phone number is required.");
  } else if ((body == NULL || *body == '\0') && !have_media) {
    sim_tw_error(rs, 400, 21619, "A text message body or media URL must be "
                             "specified.");
  } else if (!sim_tw_e164(to)) {
    snprintf(msg, sizeof(msg),
             "The 'To' number %.64s is not a valid phone number.", to);
    sim_tw_error(rs, 400, 21211, msg);
  } else if (sim_form_get(&f, "From") && *sim_form_get(&f, "From") &&
             !tw_sender_ok(sim_form_get(&f, "From"))) {
    snprintf(msg, sizeof(msg), "The 'From' number %.64s is not a valid "
             "phone number, shortcode, or alphanumeric sender ID.",
             sim_form_get(&f, "From"));
    sim_tw_error(rs, 400, 21212, msg);
  } else if (body != NULL &&
             (tw_measure(body, &chars, &segments), chars > TW_MAX_BODY_CHARS)) {
    sim_tw_error(rs, 400, 21617, "The concatenated message body exceeds the "
             "1600 character limit.");
  } else {
    tw_created(sim, &f, account, rs);
  }
  sim_form_free(&f);
}

const sim_provider sim_twilio = {
  .name = "twilio",
  .prefix = "/2010-04-01/",
  .max_body = 1024 * 1024,
  .defaults = tw_defaults,
  .init = NULL,
  .fini = NULL,
  .handle = tw_handle,
  .error = sim_tw_fault,
  .sign = NULL,
};
