/*
 * WhatsApp Business Cloud API (Meta Graph API), as the real API answers:
 *
 *   POST /graph/{version}/{phone_number_id}/messages
 *
 * Graph's paths are versioned at the root (/v21.0/...), which would
 * collide with other providers' /v1 and /v3 on the one simulator, so the
 * simulator serves Graph under the prefix /graph: a channel's base_url is
 * "{sim}/graph" and every path after it is Graph's own.
 *
 * Bearer auth (the access token); a JSON body with messaging_product
 * "whatsapp", `to` and a `type` (text, template, image, document, audio,
 * video, sticker). Errors are Graph's {"error": {"message", "type",
 * "code", ["error_subcode"], ["error_data": {"messaging_product",
 * "details"}], "fbtrace_id"}}. Free-form messages to a user who has not
 * written in the last 24 hours are refused with 131047 (re-engagement)
 * unless the window is off (whatsapp.window); the simulator knows only
 * the inbound messages it posted itself (vc_sim_whatsapp_inbound).
 *
 * Webhooks go to vc_sim_webhooks.url: one POST per status (sent,
 * delivered, read, or failed with errors[]), and the inbound messages,
 * in Meta's envelope {"object": "whatsapp_business_account", "entry":
 * [{"id", "changes": [{"value": {...}, "field": "messages"}]}]}, non-ASCII
 * escaped as \uXXXX as Meta sends it, signed X-Hub-Signature-256:
 * sha256=<hex HMAC-SHA256(app secret, body)> (and the legacy sha1 one).
 * vc_sim_whatsapp_verify() performs the GET subscription handshake.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <mbedtls/md.h>

#include "sim_int.h"

#define WA_PREFIX "/graph/"
#define WA_TEXT_MAX 4096
#define WA_WINDOW_MS (24LL * 3600 * 1000)
#define WA_USERS_MAX 256

static const char *const wa_defaults[] = {
  "access_token", VC_SIM_WHATSAPP_ACCESS_TOKEN,
  "app_secret", VC_SIM_WHATSAPP_APP_SECRET,
  "phone_number_id", VC_SIM_WHATSAPP_PHONE_NUMBER_ID,
  "display_phone_number", "15550001234",
  "waba_id", "102290129340398",
  /* approved templates: comma-separated names */
  "templates", "hello_world,order_update",
  /* "enforce" the 24-hour customer service window, or "off" */
  "window", "enforce",
  NULL
};

/* When each user last wrote (the inbound the simulator posted). */
typedef struct wa_user {
  char wa_id[20];
  int64_t last_ms;
} wa_user;

typedef struct wa_state {
  pthread_mutex_t mu;
  wa_user users[WA_USERS_MAX];
  size_t nusers;
} wa_state;

/* ---- answers ---------------------------------------------------------- */

static void wa_error(sim_resp *rs, int status, const char *type, int code,
                     int subcode, const char *message, const char *details)
{
  char trace[16];

  sim_random_b64url(trace, 11);
  sim_resp_reset(rs);
  rs->status = status;
  rs->content_type = "application/json";
  sim_buf_str(&rs->body, "{\"error\":{\"message\":");
  sim_buf_json_str(&rs->body, message);
  sim_buf_str(&rs->body, ",\"type\":");
  sim_buf_json_str(&rs->body, type);
  sim_buf_printf(&rs->body, ",\"code\":%d", code);
  if (subcode > 0)
    sim_buf_printf(&rs->body, ",\"error_subcode\":%d", subcode);
  if (details != NULL) {
    sim_buf_str(&rs->body, ",\"error_data\":{\"messaging_product\":"
                "\"whatsapp\",\"details\":");
    sim_buf_json_str(&rs->body, details);
    sim_buf_str(&rs->body, "}");
  }
  sim_buf_printf(&rs->body, ",\"fbtrace_id\":\"A%s\"}}", trace);
}

/* "(#100) ..." as Graph words parameter errors. */
static void wa_param(sim_resp *rs, const char *message)
{
  wa_error(rs, 400, "OAuthException", 100, 0, message, NULL);
}

static void wa_fault(vc_sim *sim, void *state, int status,
                     unsigned retry_after_s, sim_resp *rs)
{
  (void)sim;
  (void)state;
  (void)retry_after_s;  /* Graph sends no Retry-After */
  if (status == 413)
    wa_error(rs, 413, "OAuthException", 100, 0,
             "(#100) Request body is too large", NULL);
  else if (status == 429)
    wa_error(rs, 429, "OAuthException", 130429, 0, "(#130429) Rate limit hit",
             "Cloud API message throughput has been reached.");
  else if (status == 503)
    wa_error(rs, 503, "OAuthException", 2, 0,
             "Service temporarily unavailable", NULL);
  else
    wa_error(rs, status, "OAuthException", 1, 0,
             "An unknown error has occurred.", NULL);
}

/* ---- helpers ---------------------------------------------------------- */

static const char *wa_str(const cJSON *o, const char *key)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

  return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int in_list(const char *list, const char *item)
{
  size_t n = strlen(item);

  while (*list) {
    size_t k = strcspn(list, ",");
    if (k == n && strncmp(list, item, n) == 0)
      return 1;
    list += k;
    if (*list == ',')
      list++;
  }
  return 0;
}

/* A recipient: 8 to 15 digits, an optional '+'. Writes the digits. */
static int wa_number(const char *s, char out[20])
{
  size_t n;

  if (*s == '+')
    s++;
  n = strlen(s);
  if (n < 8 || n > 15 || strspn(s, "0123456789") != n || s[0] == '0')
    return 0;
  memcpy(out, s, n + 1);
  return 1;
}

static size_t wa_chars(const char *s)
{
  size_t n = 0;

  for (; *s; s++)
    n += ((unsigned char)*s & 0xc0) != 0x80;
  return n;
}

/* A JSON string with every non-ASCII character as \uXXXX (UTF-16), as
 * Meta writes its webhook bodies. `s` is UTF-8. */
static void json_ascii(sim_buf *b, const char *s)
{
  const unsigned char *p = (const unsigned char *)s;
  sim_buf plain = { 0 };

  sim_buf_str(b, "\"");
  while (*p) {
    unsigned long cp = *p;
    int k = 0;

    if (cp < 0x80) {
      /* ASCII runs go through the shared escaper, quotes stripped */
      size_t n = 0;
      while (p[n] && p[n] < 0x80)
        n++;
      sim_buf_json_strn(&plain, (const char *)p, n);
      if (plain.ptr != NULL && plain.len >= 2)
        sim_buf_add(b, plain.ptr + 1, plain.len - 2);
      plain.len = 0;
      p += n;
      continue;
    }
    if (cp >= 0xf0) {
      cp &= 0x07;
      k = 3;
    } else if (cp >= 0xe0) {
      cp &= 0x0f;
      k = 2;
    } else {
      cp &= 0x1f;
      k = 1;
    }
    for (int i = 1; i <= k && p[i]; i++)
      cp = cp << 6 | (p[i] & 0x3f);
    for (int i = 0; i <= k && *p; i++)
      p++;
    if (cp >= 0x10000) {
      cp -= 0x10000;
      sim_buf_printf(b, "\\u%04lx\\u%04lx", 0xd800 + (cp >> 10),
                     0xdc00 + (cp & 0x3ff));
    } else {
      sim_buf_printf(b, "\\u%04lx", cp);
    }
  }
  sim_buf_str(b, "\"");
  sim_buf_free(&plain);
}

static void wa_wamid(char out[64])
{
  char r[40];

  sim_random_b64url(r, 36);
  for (char *p = r; *p; p++)
    if (*p == '-' || *p == '_')
      *p = 'Q';
  snprintf(out, 64, "wamid.HBgL%s", r);
}

/* hex HMAC-SHA256 and SHA1 of a body under the app secret, as headers. */
static int wa_sign(vc_sim *sim, const char *body, size_t len, sim_buf *hdr)
{
  static const char hex[] = "0123456789abcdef";
  unsigned char mac[32];
  char secret[256], h256[65], h1[41];

  sim_setting(sim, "whatsapp.app_secret", secret, sizeof(secret));
  if (mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256),
                      (const unsigned char *)secret, strlen(secret),
                      (const unsigned char *)body, len, mac) != 0)
    return -EIO;
  for (int i = 0; i < 32; i++) {
    h256[2 * i] = hex[mac[i] >> 4];
    h256[2 * i + 1] = hex[mac[i] & 15];
  }
  h256[64] = '\0';
  if (mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA1),
                      (const unsigned char *)secret, strlen(secret),
                      (const unsigned char *)body, len, mac) != 0)
    return -EIO;
  for (int i = 0; i < 20; i++) {
    h1[2 * i] = hex[mac[i] >> 4];
    h1[2 * i + 1] = hex[mac[i] & 15];
  }
  h1[40] = '\0';
  sim_buf_printf(hdr, "X-Hub-Signature-256: sha256=%s\nX-Hub-Signature: "
                 "sha1=%s\nUser-Agent: facebookexternalua\n", h256, h1);
  return hdr->oom ? -ENOMEM : 0;
}

/* The envelope around one change's value. */
static void wa_envelope_open(vc_sim *sim, sim_buf *b)
{
  char waba[64], pnid[64], disp[64];

  sim_setting(sim, "whatsapp.waba_id", waba, sizeof(waba));
  sim_setting(sim, "whatsapp.phone_number_id", pnid, sizeof(pnid));
  sim_setting(sim, "whatsapp.display_phone_number", disp, sizeof(disp));
  sim_buf_printf(b, "{\"object\":\"whatsapp_business_account\",\"entry\":"
                 "[{\"id\":\"%s\",\"changes\":[{\"value\":{"
                 "\"messaging_product\":\"whatsapp\",\"metadata\":{"
                 "\"display_phone_number\":\"%s\",\"phone_number_id\":\"%s\"},",
                 waba, disp, pnid);
}

static void wa_envelope_close(sim_buf *b)
{
  sim_buf_str(b, "},\"field\":\"messages\"}]}]}");
}

/* One signed webhook POST of `body` (taken). 0 or -errno. */
static int wa_post(vc_sim *sim, const sim_wh_opts *o, sim_buf *body,
                   sim_post *out)
{
  sim_buf hdr = { 0 };

  memset(out, 0, sizeof(*out));
  if (body->oom || wa_sign(sim, body->ptr, body->len, &hdr) != 0) {
    sim_buf_free(&hdr);
    sim_buf_free(body);
    return -ENOMEM;
  }
  out->url = strdup(o->url);
  out->content_type = strdup("application/json");
  out->headers = hdr.ptr;
  out->body = body->ptr;
  out->body_len = body->len;
  memset(body, 0, sizeof(*body));
  if (out->url == NULL || out->content_type == NULL) {
    free(out->url);
    free(out->content_type);
    free(out->headers);
    free(out->body);
    memset(out, 0, sizeof(*out));
    return -ENOMEM;
  }
  return 0;
}

/* ---- status webhooks -------------------------------------------------- */

typedef struct wa_sent {
  const char *wamid, *to, *opaque;
  int templ;
} wa_sent;

static int wa_status_post(vc_sim *sim, const sim_wh_opts *o,
                          const wa_sent *m, const char *status,
                          sim_post *out)
{
  sim_buf b = { 0 };
  char conv[40];
  long long now = (long long)(sim_now_ms() / 1000);

  sim_random_hex(conv, 32);
  wa_envelope_open(sim, &b);
  sim_buf_printf(&b, "\"statuses\":[{\"id\":\"%s\",\"status\":\"%s\","
                 "\"timestamp\":\"%lld\",\"recipient_id\":\"%s\"", m->wamid,
                 status, now, m->to);
  if (m->opaque != NULL) {
    sim_buf_str(&b, ",\"biz_opaque_callback_data\":");
    json_ascii(&b, m->opaque);
  }
  if (strcmp(status, "failed") == 0) {
    sim_buf_str(&b, ",\"errors\":[{\"code\":131026,\"title\":\"Message "
                "undeliverable\",\"message\":\"Message undeliverable\","
                "\"error_data\":{\"details\":\"Message Undeliverable.\"},"
                "\"href\":\"https://developers.facebook.com/docs/whatsapp/"
                "cloud-api/support/error-codes/\"}]");
  } else if (strcmp(status, "read") != 0) {
    const char *cat = m->templ ? "utility" : "service";
    sim_buf_printf(&b, ",\"conversation\":{\"id\":\"%s\",", conv);
    if (strcmp(status, "sent") == 0)
      sim_buf_printf(&b, "\"expiration_timestamp\":\"%lld\",",
                     now + 24 * 3600);
    sim_buf_printf(&b, "\"origin\":{\"type\":\"%s\"}},\"pricing\":{"
                   "\"billable\":%s,\"pricing_model\":\"CBP\","
                   "\"category\":\"%s\"}", cat,
                   m->templ ? "true" : "false", cat);
  }
  sim_buf_str(&b, "}]");
  wa_envelope_close(&b);
  return wa_post(sim, o, &b, out);
}

static void wa_schedule(vc_sim *sim, const wa_sent *m)
{
  static const char *const full[] = { "sent", "delivered", "read" };
  const char *seq[3];
  sim_wh_opts o;
  sim_post posts[3];
  size_t n = 0, i;

  sim_webhook_opts(sim, "whatsapp", &o);
  if (o.off || o.url[0] == '\0')
    return;
  if (strcmp(o.final_status, "failed") == 0) {
    seq[n++] = "failed";
  } else {
    size_t upto = strcmp(o.final_status, "sent") == 0 ? 1
                  : strcmp(o.final_status, "delivered") == 0 ? 2 : 3;
    for (i = 0; i < upto; i++)
      seq[n++] = full[i];
    if (o.reorder && n > 1) {
      /* the final status first: Meta does not order them */
      const char *t = seq[0];
      seq[0] = seq[n - 1];
      seq[n - 1] = t;
    }
  }
  memset(posts, 0, sizeof(posts));
  for (i = 0; i < n; i++)
    if (wa_status_post(sim, &o, m, seq[i], &posts[i]) != 0)
      goto fail;
  sim_webhook_schedule(sim, "whatsapp", posts, n, &o);
  return;
fail:
  for (i = 0; i < n; i++) {
    free(posts[i].url);
    free(posts[i].content_type);
    free(posts[i].headers);
    free(posts[i].body);
  }
}

/* ---- the endpoint ----------------------------------------------------- */

static int wa_in_window(wa_state *st, const char *wa_id)
{
  int64_t now = sim_now_ms();
  int open = 0;

  pthread_mutex_lock(&st->mu);
  for (size_t i = 0; i < st->nusers; i++)
    if (strcmp(st->users[i].wa_id, wa_id) == 0)
      open = now - st->users[i].last_ms <= WA_WINDOW_MS;
  pthread_mutex_unlock(&st->mu);
  return open;
}

/* The type's object: 0 when it is usable, else the error is set. */
static int wa_check_content(vc_sim *sim, const cJSON *root, const char *type,
                            sim_resp *rs)
{
  const cJSON *obj = cJSON_GetObjectItemCaseSensitive(root, type);
  char msg[256], list[1024], details[256];

  if (strcmp(type, "text") == 0) {
    const char *body = wa_str(obj, "body");
    if (body == NULL || *body == '\0') {
      wa_param(rs, "(#100) The parameter text['body'] is required.");
      return -1;
    }
    if (wa_chars(body) > WA_TEXT_MAX) {
      wa_param(rs, "(#100) Param text['body'] must be at most 4096 "
               "characters long.");
      return -1;
    }
    return 0;
  }
  if (strcmp(type, "template") == 0) {
    const char *name = wa_str(obj, "name");
    const char *code = wa_str(cJSON_GetObjectItemCaseSensitive(obj,
                                                               "language"),
                              "code");
    if (name == NULL || *name == '\0') {
      wa_param(rs, "(#100) The parameter template['name'] is required.");
      return -1;
    }
    if (code == NULL || *code == '\0') {
      wa_param(rs, "(#100) The parameter template['language'] is "
               "required.");
      return -1;
    }
    sim_setting(sim, "whatsapp.templates", list, sizeof(list));
    if (!in_list(list, name)) {
      snprintf(details, sizeof(details), "template name (%.100s) does not "
               "exist in %.16s", name, code);
      wa_error(rs, 404, "OAuthException", 132001, 0, "(#132001) Template "
               "name does not exist in the translation", details);
      return -1;
    }
    return 0;
  }
  /* media: a link or an uploaded media id */
  if (!cJSON_IsObject(obj) || (wa_str(obj, "link") == NULL &&
                               wa_str(obj, "id") == NULL)) {
    snprintf(msg, sizeof(msg), "(#100) The parameter %s['link'] or "
             "%s['id'] is required.", type, type);
    wa_param(rs, msg);
    return -1;
  }
  return 0;
}

static void wa_accepted(vc_sim *sim, const cJSON *root, const char *to,
                        const char *digits, const char *type, sim_resp *rs)
{
  char wamid[64], *body;
  const char *keys[2];
  sim_accept_info a;
  wa_sent m;

  wa_wamid(wamid);
  rs->status = 200;
  rs->content_type = "application/json";
  sim_buf_str(&rs->body, "{\"messaging_product\":\"whatsapp\",\"contacts\":"
              "[{\"input\":");
  sim_buf_json_str(&rs->body, to);
  sim_buf_printf(&rs->body, ",\"wa_id\":\"%s\"}],\"messages\":[{\"id\":"
                 "\"%s\"}]}", digits, wamid);
  keys[0] = digits;
  keys[1] = wa_str(root, "biz_opaque_callback_data");
  a.message_id = wamid;
  a.keys = keys;
  a.nkeys = keys[1] ? 2 : 1;
  /* the same request again (recipient, content) is a duplicate */
  body = cJSON_PrintUnformatted(root);
  a.identity = sim_fnv1a(SIM_FNV_INIT, body ? body : "",
                         body ? strlen(body) : 0);
  free(body);
  sim_accept(sim, "whatsapp", rs, &a);
  m.wamid = wamid;
  m.to = digits;
  m.opaque = keys[1];
  m.templ = strcmp(type, "template") == 0;
  wa_schedule(sim, &m);
}

static void wa_handle(vc_sim *sim, void *state, const sim_req *rq,
                      sim_resp *rs)
{
  static const char *const types[] = {
    "text", "template", "image", "document", "audio", "video", "sticker" };
  wa_state *st = state;
  const char *p = rq->path + strlen(WA_PREFIX), *h, *to, *type, *prod;
  char token[512], want[512], pnid[64], version[16], id[64], edge[64];
  char msg[512], digits[20], window[16];
  size_t hl = 0, i;
  int v1, v2, n = 0;
  cJSON *root = NULL;

  h = sim_req_header(rq, "Authorization", &hl);
  if (h == NULL || hl == 0) {
    wa_error(rs, 401, "OAuthException", 104, 0, "An access token is "
             "required to request this resource.", NULL);
    return;
  }
  sim_setting(sim, "whatsapp.access_token", want, sizeof(want));
  if (!sim_prefix_ci(h, hl, "Bearer ") || hl - 7 >= sizeof(token)) {
    wa_error(rs, 401, "OAuthException", 190, 0, "Invalid OAuth access "
             "token - Cannot parse access token", NULL);
    return;
  }
  memcpy(token, h + 7, hl - 7);
  token[hl - 7] = '\0';
  if (strcmp(token, want) != 0) {
    wa_error(rs, 401, "OAuthException", 190, 0, "Invalid OAuth access "
             "token - Cannot parse access token", NULL);
    return;
  }
  /* {version}/{phone_number_id}/messages */
  if (sscanf(p, "v%d.%d/%n", &v1, &v2, &n) != 2 || n == 0 ||
      (size_t)n >= sizeof(version) ||
      sscanf(p + n, "%63[^/]/%63s", id, edge) != 2) {
    snprintf(msg, sizeof(msg), "Unknown path components: /%.200s", p);
    wa_error(rs, 400, "OAuthException", 2500, 0, msg, NULL);
    return;
  }
  snprintf(version, sizeof(version), "%.*s", n - 1, p);
  sim_setting(sim, "whatsapp.phone_number_id", pnid, sizeof(pnid));
  if (strcmp(id, pnid) != 0) {
    snprintf(msg, sizeof(msg), "Unsupported post request. Object with ID "
             "'%s' does not exist, cannot be loaded due to missing "
             "permissions, or does not support this operation. Please read "
             "the Graph API documentation at https://developers.facebook.com/"
             "docs/graph-api", id);
    wa_error(rs, 400, "GraphMethodException", 100, 33, msg, NULL);
    return;
  }
  if (strcmp(edge, "messages") != 0) {
    snprintf(msg, sizeof(msg), "Unknown path components: /%s", edge);
    wa_error(rs, 400, "OAuthException", 2500, 0, msg, NULL);
    return;
  }
  if (strcmp(rq->method, "POST") != 0) {
    snprintf(msg, sizeof(msg), "Unsupported %s request.", rq->method);
    wa_error(rs, 400, "GraphMethodException", 100, 0, msg, NULL);
    return;
  }
  h = sim_req_header(rq, "Content-Type", &hl);
  if (h != NULL && sim_prefix_ci(h, hl, "application/json"))
    root = cJSON_ParseWithLength(rq->body ? rq->body : "", rq->body_len);
  prod = wa_str(root, "messaging_product");
  to = wa_str(root, "to");
  type = wa_str(root, "type");
  if (type == NULL && cJSON_IsObject(root) &&
      !cJSON_HasObjectItem(root, "type"))
    type = "text";          /* Graph's default */
  sim_setting(sim, "whatsapp.window", window, sizeof(window));
  if (!cJSON_IsObject(root) || prod == NULL) {
    wa_param(rs, "(#100) The parameter messaging_product is required.");
  } else if (strcmp(prod, "whatsapp") != 0) {
    snprintf(msg, sizeof(msg), "(#100) Param messaging_product must be one "
             "of {WHATSAPP} - got \"%.64s\".", prod);
    wa_param(rs, msg);
  } else if (to == NULL || *to == '\0') {
    wa_param(rs, "(#100) The parameter to is required.");
  } else if (!wa_number(to, digits)) {
    wa_error(rs, 400, "OAuthException", 100, 0, "(#100) Invalid parameter",
             "Invalid WhatsApp recipient phone number");
  } else {
    for (i = 0; type != NULL && i < sizeof(types) / sizeof(types[0]); i++)
      if (strcmp(type, types[i]) == 0)
        break;
    if (type == NULL || i == sizeof(types) / sizeof(types[0])) {
      snprintf(msg, sizeof(msg), "(#100) Param type must be one of {AUDIO, "
               "DOCUMENT, IMAGE, STICKER, TEMPLATE, TEXT, VIDEO} - got "
               "\"%.32s\".", type ? type : "");
      wa_param(rs, msg);
    } else if (wa_check_content(sim, root, type, rs) == 0) {
      if (strcmp(type, "template") != 0 && strcmp(window, "off") != 0 &&
          !wa_in_window(st, digits))
        wa_error(rs, 400, "OAuthException", 131047, 0,
                 "(#131047) Re-engagement message", "Message failed to send "
                 "because more than 24 hours have passed since the customer "
                 "last replied to this number.");
      else
        wa_accepted(sim, root, to, digits, type, rs);
    }
  }
  cJSON_Delete(root);
}

/* ---- controls ----------------------------------------------------------- */

int vc_sim_whatsapp_inbound(vc_sim *s, const char *from, const char *text)
{
  wa_state *st = s ? sim_provider_state(s, "whatsapp") : NULL;
  char digits[20], wamid[64];
  sim_wh_opts o;
  sim_post post;
  sim_buf b = { 0 };
  int64_t now = sim_now_ms();
  size_t i;

  if (st == NULL || from == NULL || text == NULL || !wa_number(from, digits))
    return -EINVAL;
  sim_webhook_opts(s, "whatsapp", &o);
  if (o.off || o.url[0] == '\0')
    return -ENOTCONN;
  /* The user wrote: their customer service window opens. */
  pthread_mutex_lock(&st->mu);
  for (i = 0; i < st->nusers; i++)
    if (strcmp(st->users[i].wa_id, digits) == 0)
      break;
  if (i == st->nusers && st->nusers < WA_USERS_MAX)
    snprintf(st->users[st->nusers++].wa_id, sizeof(st->users[0].wa_id),
             "%s", digits);
  if (i < st->nusers)
    st->users[i].last_ms = now;
  pthread_mutex_unlock(&st->mu);

  wa_wamid(wamid);
  wa_envelope_open(s, &b);
  sim_buf_printf(&b, "\"contacts\":[{\"profile\":{\"name\":\"Sim User\"},"
                 "\"wa_id\":\"%s\"}],\"messages\":[{\"from\":\"%s\",\"id\":"
                 "\"%s\",\"timestamp\":\"%lld\",\"text\":{\"body\":", digits,
                 digits, wamid, (long long)(now / 1000));
  json_ascii(&b, text);
  sim_buf_str(&b, "},\"type\":\"text\"}]");
  wa_envelope_close(&b);
  if (wa_post(s, &o, &b, &post) != 0)
    return -ENOMEM;
  sim_webhook_schedule(s, "whatsapp", &post, 1, &o);
  return 0;
}

static size_t wa_collect(char *p, size_t size, size_t n, void *arg)
{
  sim_buf *b = arg;

  sim_buf_add(b, p, size * n);
  return b->len > 4096 ? 0 : size * n;
}

int vc_sim_whatsapp_verify(vc_sim *s, const char *url,
                           const char *verify_token, int *echoed)
{
  char challenge[16], *esc;
  sim_buf full = { 0 }, body = { 0 };
  long status = 0;
  CURLcode cc;
  CURL *c;
  uint32_t r;

  if (echoed != NULL)
    *echoed = 0;
  if (s == NULL || url == NULL || verify_token == NULL)
    return -EINVAL;
  if ((c = curl_easy_init()) == NULL)
    return -ENOMEM;
  /* Meta's challenge is a random integer. */
  sim_random(&r, sizeof(r));
  snprintf(challenge, sizeof(challenge), "%u", (unsigned)(r % 2000000000u));
  esc = curl_easy_escape(c, verify_token, 0);
  sim_buf_printf(&full, "%s%shub.mode=subscribe&hub.challenge=%s&"
                 "hub.verify_token=%s", url, strchr(url, '?') ? "&" : "?",
                 challenge, esc ? esc : "");
  curl_free(esc);
  if (full.oom) {
    curl_easy_cleanup(c);
    sim_buf_free(&full);
    return -ENOMEM;
  }
  curl_easy_setopt(c, CURLOPT_URL, full.ptr);
  curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "facebookplatform/1.0");
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, wa_collect);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
  cc = curl_easy_perform(c);
  if (cc == CURLE_OK)
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(c);
  if (echoed != NULL && cc == CURLE_OK && status == 200 && body.ptr != NULL &&
      strcmp(body.ptr, challenge) == 0)
    *echoed = 1;
  sim_buf_free(&full);
  sim_buf_free(&body);
  return cc == CURLE_OK ? (int)status : -ECONNREFUSED;
}

/* ---- state -------------------------------------------------------------- */

static int wa_init(vc_sim *sim, void **out)
{
  wa_state *st = calloc(1, sizeof(*st));

  (void)sim;
  if (st == NULL)
    return -ENOMEM;
  pthread_mutex_init(&st->mu, NULL);
  *out = st;
  return 0;
}

static void wa_fini(void *state)
{
  wa_state *st = state;

  pthread_mutex_destroy(&st->mu);
  free(st);
}

const sim_provider sim_whatsapp = {
  .name = "whatsapp",
  .prefix = WA_PREFIX,
  .max_body = 1024 * 1024,
  .defaults = wa_defaults,
  .init = wa_init,
  .fini = wa_fini,
  .handle = wa_handle,
  .error = wa_fault,
  .sign = NULL,
};
