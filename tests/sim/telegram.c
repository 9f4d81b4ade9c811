/*
 * Telegram Bot API, as the real API answers:
 *
 *   POST /bot{token}/sendMessage | sendPhoto | sendDocument | getMe
 *
 * The token in the path is the only authentication: a path token that is
 * not shaped like one is 404 Not Found, a well-formed but unknown one 401
 * Unauthorized. Method names are case-insensitive. Parameters come as a
 * JSON object (application/json), a form or multipart/form-data body
 * (files up to 50 MB, photos up to 10 MB), or the query string. Every
 * answer is
 * {"ok": true, "result": ...} or {"ok": false, "error_code": N,
 * "description": "...", ["parameters": {"retry_after": N}]} with the HTTP
 * status equal to error_code.
 *
 * Telegram sends no delivery receipts. Inbound messages are Update
 * objects posted to the webhook URL (vc_sim_webhooks.url) by
 * vc_sim_telegram_inbound(), with X-Telegram-Bot-Api-Secret-Token when a
 * secret token is set (telegram.secret_token).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "sim_int.h"

#define TG_TEXT_MAX 4096        /* characters (code points) */
#define TG_CAPTION_MAX 1024
#define TG_UPLOAD_MAX 50e6      /* bytes */
#define TG_PHOTO_UPLOAD_MAX 10e6
#define TG_KNOWN_MAX 256        /* chats remembered from inbound */

static const char *const tg_defaults[] = {
  "bot_token", VC_SIM_TELEGRAM_BOT_TOKEN,
  /* the secret_token given to setWebhook: "" sends no header */
  "secret_token", "",
  /* chats the bot may write to: "*" any, else a comma-separated list
   * (chats that wrote to the bot are always known) */
  "chats", "*",
  /* chats whose user blocked the bot: comma-separated */
  "blocked", "",
  NULL
};

typedef struct tg_state {
  pthread_mutex_t mu;
  long long next_message_id;
  long long next_update_id;
  char *known[TG_KNOWN_MAX];    /* chat ids that wrote to the bot */
  size_t nknown;
} tg_state;

/* ---- answers ---------------------------------------------------------- */

static void tg_error(sim_resp *rs, int code, const char *description,
                     unsigned retry_after)
{
  sim_resp_reset(rs);
  rs->status = code;
  rs->content_type = "application/json";
  sim_buf_printf(&rs->body, "{\"ok\":false,\"error_code\":%d,"
                 "\"description\":", code);
  sim_buf_json_str(&rs->body, description);
  if (retry_after > 0)
    sim_buf_printf(&rs->body, ",\"parameters\":{\"retry_after\":%u}",
                   retry_after);
  sim_buf_str(&rs->body, "}");
}

static void tg_fault(vc_sim *sim, void *state, int status,
                     unsigned retry_after_s, sim_resp *rs)
{
  char text[64];

  (void)sim;
  (void)state;
  if (status == 413) {
    /* nginx in front of the Bot API refuses it unread */
    sim_resp_reset(rs);
    rs->status = 413;
    rs->content_type = "text/html";
    sim_buf_str(&rs->body, "<html>\r\n<head><title>413 Request Entity Too "
                "Large</title></head>\r\n<body>\r\n<center><h1>413 Request "
                "Entity Too Large</h1></center>\r\n</body>\r\n</html>\r\n");
  } else if (status == 429) {
    if (retry_after_s == 0)
      retry_after_s = 1;
    snprintf(text, sizeof(text), "Too Many Requests: retry after %u",
             retry_after_s);
    tg_error(rs, 429, text, retry_after_s);
  } else if (status == 502) {
    tg_error(rs, 502, "Bad Gateway", 0);
  } else {
    tg_error(rs, status, "Internal Server Error", 0);
  }
}

/* ---- small checks ------------------------------------------------------ */

/* A bot token: the bot's id, ':', then 30 to 64 of [A-Za-z0-9_-]. */
static int tg_token_shaped(const char *s, size_t n)
{
  size_t i = 0, k;

  while (i < n && s[i] >= '0' && s[i] <= '9')
    i++;
  if (i == 0 || i > 20 || i >= n || s[i] != ':')
    return 0;
  k = n - i - 1;
  if (k < 30 || k > 64)
    return 0;
  for (i++; i < n; i++)
    if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
          (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
      return 0;
  return 1;
}

/* Telegram's chat_id: an integer, or '@' and a public username. */
static int tg_chat_shaped(const char *s)
{
  size_t n = strlen(s), i = s[0] == '-';

  if (s[0] == '@') {
    if (n < 6 || n > 33)
      return 0;
    for (i = 1; i < n; i++)
      if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
            (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
        return 0;
    return 1;
  }
  if (n == i || n - i > 19 || s[i] == '0')
    return 0;
  for (; i < n; i++)
    if (s[i] < '0' || s[i] > '9')
      return 0;
  return 1;
}

/* `item` in a comma-separated list. */
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

static int tg_known(vc_sim *sim, tg_state *st, const char *chat)
{
  char chats[1024];
  int known = 0;

  sim_setting(sim, "telegram.chats", chats, sizeof(chats));
  if (strcmp(chats, "*") == 0 || in_list(chats, chat))
    return 1;
  pthread_mutex_lock(&st->mu);
  for (size_t i = 0; i < st->nknown && !known; i++)
    known = strcmp(st->known[i], chat) == 0;
  pthread_mutex_unlock(&st->mu);
  return known;
}

/* Characters as the Bot API counts them: code points. */
static size_t tg_chars(const char *s)
{
  size_t n = 0;

  for (; *s; s++)
    n += ((unsigned char)*s & 0xc0) != 0x80;
  return n;
}

static int tg_blank(const char *s)
{
  return s == NULL || s[strspn(s, " \t\r\n")] == '\0';
}

/* ---- parameters --------------------------------------------------------- */

/* A quoted parameter of a header value (`key="value"`), copied. */
static int tg_hparam(const char *h, size_t n, const char *key, char *out,
                     size_t cap)
{
  size_t kl = strlen(key);

  for (size_t i = 0; i + kl + 1 < n; i++) {
    size_t k = 0;
    if ((i > 0 && h[i - 1] != ' ' && h[i - 1] != ';') ||
        strncasecmp(h + i, key, kl) != 0 || h[i + kl] != '=')
      continue;
    i += kl + 1;
    if (i < n && h[i] == '"')
      for (i++; i < n && h[i] != '"' && k + 1 < cap; i++)
        out[k++] = h[i];
    else
      for (; i < n && h[i] != ';' && h[i] != ' ' && k + 1 < cap; i++)
        out[k++] = h[i];
    out[k] = '\0';
    return 0;
  }
  return -1;
}

/*
 * multipart/form-data (RFC 7578) into `obj`: fields as strings, files as
 * {"filename", "size"}. -1 when malformed.
 */
static int tg_multipart(cJSON *obj, const char *ct, size_t ctl,
                        const char *body, size_t len)
{
  char bnd[128], delim[136], name[128], file[256];
  const char *p, *end = body + len, *hend, *next;
  size_t dl;

  if (tg_hparam(ct, ctl, "boundary", bnd, sizeof(bnd)) != 0 || !bnd[0])
    return -1;
  dl = (size_t)snprintf(delim, sizeof(delim), "\r\n--%s", bnd);
  /* the first delimiter has no CRLF before it */
  if (len < dl - 2 || memcmp(body, delim + 2, dl - 2) != 0)
    return -1;
  p = body + dl - 2;
  for (;;) {
    if (end - p >= 2 && p[0] == '-' && p[1] == '-')
      return 0;
    if (end - p < 2 || p[0] != '\r' || p[1] != '\n')
      return -1;
    p += 2;
    if ((hend = memmem(p, (size_t)(end - p), "\r\n\r\n", 4)) == NULL ||
        (next = memmem(hend + 4, (size_t)(end - hend - 4), delim, dl)) ==
          NULL)
      return -1;
    if (tg_hparam(p, (size_t)(hend - p), "name", name, sizeof(name)) != 0)
      return -1;
    if (tg_hparam(p, (size_t)(hend - p), "filename", file,
                  sizeof(file)) == 0) {
      cJSON *f = cJSON_CreateObject();
      cJSON_AddStringToObject(f, "filename", file);
      cJSON_AddNumberToObject(f, "size", (double)(next - hend - 4));
      cJSON_AddItemToObject(obj, name, f);
    } else {
      char *v = strndup(hend + 4, (size_t)(next - hend - 4));
      if (v == NULL)
        return -1;
      cJSON_AddStringToObject(obj, name, v);
      free(v);
    }
    p = next + dl;
  }
}

/*
 * The request's parameters as one JSON object of strings (numbers become
 * their decimal text; objects and arrays stay; uploaded files are
 * {"filename", "size"}): the JSON body, the form or multipart body, or
 * the query string.
 */
static cJSON *tg_params(const sim_req *rq, int *bad_json)
{
  size_t ctl = 0;
  const char *ct = sim_req_header(rq, "Content-Type", &ctl);
  cJSON *obj = NULL, *it;
  sim_form f;

  *bad_json = 0;
  if (ct != NULL && sim_prefix_ci(ct, ctl, "application/json") &&
      rq->body_len > 0) {
    cJSON *in = cJSON_ParseWithLength(rq->body, rq->body_len);
    if (!cJSON_IsObject(in)) {
      cJSON_Delete(in);
      *bad_json = 1;
      return NULL;
    }
    obj = cJSON_CreateObject();
    cJSON_ArrayForEach(it, in) {
      if (cJSON_IsNumber(it)) {
        char num[32];
        snprintf(num, sizeof(num), "%.0f", it->valuedouble);
        cJSON_AddStringToObject(obj, it->string, num);
      } else {
        cJSON_AddItemToObject(obj, it->string, cJSON_Duplicate(it, 1));
      }
    }
    cJSON_Delete(in);
    return obj;
  }
  obj = cJSON_CreateObject();
  memset(&f, 0, sizeof(f));
  if (ct != NULL && sim_prefix_ci(ct, ctl, "multipart/form-data")) {
    if (tg_multipart(obj, ct, ctl, rq->body ? rq->body : "",
                     rq->body_len) != 0)
      *bad_json = 2;
    return obj;
  }
  if (ct != NULL &&
      sim_prefix_ci(ct, ctl, "application/x-www-form-urlencoded") &&
      rq->body_len > 0) {
    if (sim_form_parse(&f, rq->body, rq->body_len) != 0)
      return obj;
  } else if (sim_form_parse(&f, rq->query, strlen(rq->query)) != 0) {
    return obj;
  }
  for (size_t i = 0; i < f.n; i++)
    if (!cJSON_HasObjectItem(obj, f.key[i]))
      cJSON_AddStringToObject(obj, f.key[i], f.val[i]);
  sim_form_free(&f);
  return obj;
}

static const char *tg_str(const cJSON *p, const char *key)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(p, key);

  return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* ---- answers for the methods -------------------------------------------- */

static void tg_bot_json(sim_buf *b, const char *token)
{
  sim_buf_printf(b, "{\"id\":%.*s,\"is_bot\":true,\"first_name\":"
                 "\"Simulator\",\"username\":\"vc_sim_bot\"}",
                 (int)strcspn(token, ":"), token);
}

static void tg_chat_json(sim_buf *b, const char *chat)
{
  if (chat[0] == '@') {
    /* A public channel by username: its numeric id is made up. */
    uint64_t h = sim_fnv1a(SIM_FNV_INIT, chat, strlen(chat));
    sim_buf_printf(b, "{\"id\":-100%010llu,\"title\":\"Channel\","
                   "\"username\":", (unsigned long long)(h % 10000000000ULL));
    sim_buf_json_str(b, chat + 1);
    sim_buf_str(b, ",\"type\":\"channel\"}");
  } else if (chat[0] == '-') {
    sim_buf_printf(b, "{\"id\":%s,\"title\":\"Group\",\"type\":\"%s\"}",
                   chat, strncmp(chat, "-100", 4) == 0 ? "supergroup"
                                                       : "group");
  } else {
    sim_buf_printf(b, "{\"id\":%s,\"first_name\":\"Sim\",\"type\":"
                   "\"private\"}", chat);
  }
}

static void tg_sent(vc_sim *sim, tg_state *st, const char *token,
                    const char *method, const cJSON *p, sim_resp *rs)
{
  const char *chat = tg_str(p, "chat_id");
  const char *text = tg_str(p, "text"), *caption = tg_str(p, "caption");
  const char *photo = tg_str(p, "photo"), *doc = tg_str(p, "document");
  const cJSON *file = cJSON_GetObjectItemCaseSensitive(
    p, strcasecmp(method, "sendPhoto") == 0 ? "photo" : "document");
  const char *fname = tg_str(file, "filename");
  char id[64];
  const char *keys[1];
  sim_accept_info a;
  long long mid;
  uint64_t h;

  pthread_mutex_lock(&st->mu);
  mid = st->next_message_id++;
  pthread_mutex_unlock(&st->mu);
  rs->status = 200;
  rs->content_type = "application/json";
  sim_buf_printf(&rs->body, "{\"ok\":true,\"result\":{\"message_id\":%lld,"
                 "\"from\":", mid);
  tg_bot_json(&rs->body, token);
  sim_buf_str(&rs->body, ",\"chat\":");
  tg_chat_json(&rs->body, chat);
  sim_buf_printf(&rs->body, ",\"date\":%lld",
                 (long long)(sim_now_ms() / 1000));
  if (strcasecmp(method, "sendMessage") == 0) {
    sim_buf_str(&rs->body, ",\"text\":");
    sim_buf_json_str(&rs->body, text);
  } else if (strcasecmp(method, "sendPhoto") == 0) {
    /* Telegram fetched the URL and stored a photo of its own. */
    sim_buf_printf(&rs->body, ",\"photo\":[{\"file_id\":\"AgAC%016llx\","
                   "\"file_unique_id\":\"AQAD%08llx\",\"file_size\":1024,"
                   "\"width\":90,\"height\":90}]", (unsigned long long)mid,
                   (unsigned long long)mid);
  } else {
    sim_buf_printf(&rs->body, ",\"document\":{\"file_id\":\"BQAC%016llx\","
                   "\"file_unique_id\":\"AgAD%08llx\",\"file_size\":2048}",
                   (unsigned long long)mid, (unsigned long long)mid);
  }
  if (caption != NULL && *caption) {
    sim_buf_str(&rs->body, ",\"caption\":");
    sim_buf_json_str(&rs->body, caption);
  }
  sim_buf_str(&rs->body, "}}");

  /* The same chat and content again is a duplicate send. */
  h = sim_fnv1a(SIM_FNV_INIT, method, strlen(method) + 1);
  h = sim_fnv1a(h, chat, strlen(chat) + 1);
  h = sim_fnv1a(h, text ? text : "", text ? strlen(text) + 1 : 1);
  h = sim_fnv1a(h, photo ? photo : "", photo ? strlen(photo) + 1 : 1);
  h = sim_fnv1a(h, doc ? doc : "", doc ? strlen(doc) + 1 : 1);
  h = sim_fnv1a(h, fname ? fname : "", fname ? strlen(fname) + 1 : 1);
  snprintf(id, sizeof(id), "%s:%lld", chat, mid);
  keys[0] = chat;
  a.message_id = id;
  a.keys = keys;
  a.nkeys = 1;
  a.identity = h;
  sim_accept(sim, "telegram", rs, &a);
}

static void tg_send(vc_sim *sim, tg_state *st, const char *token,
                    const char *method, const sim_req *rq, sim_resp *rs)
{
  char blocked[1024];
  const char *chat, *mode, *media = NULL, *caption;
  const cJSON *upload = NULL;
  double limit = 0;
  int is_text = strcasecmp(method, "sendMessage") == 0;
  int bad_json = 0;
  cJSON *p = tg_params(rq, &bad_json);

  if (bad_json) {
    tg_error(rs, 400, bad_json == 1 ? "Bad Request: can't parse JSON object"
                                    : "Bad Request: can't parse multipart "
                                      "form data", 0);
    cJSON_Delete(p);
    return;
  }
  chat = tg_str(p, "chat_id");
  mode = tg_str(p, "parse_mode");
  caption = tg_str(p, "caption");
  if (!is_text) {
    const char *field = strcasecmp(method, "sendPhoto") == 0 ? "photo"
                                                            : "document";
    upload = cJSON_GetObjectItemCaseSensitive(p, field);
    if (!cJSON_IsObject(upload))
      upload = NULL;
    media = upload ? "" : tg_str(p, field);
    limit = strcmp(field, "photo") == 0 ? TG_PHOTO_UPLOAD_MAX
                                        : TG_UPLOAD_MAX;
  }
  sim_setting(sim, "telegram.blocked", blocked, sizeof(blocked));
  if (chat == NULL || *chat == '\0') {
    tg_error(rs, 400, "Bad Request: chat_id is empty", 0);
  } else if (!tg_chat_shaped(chat) || !tg_known(sim, st, chat)) {
    tg_error(rs, 400, "Bad Request: chat not found", 0);
  } else if (mode != NULL && *mode && strcasecmp(mode, "HTML") != 0 &&
             strcasecmp(mode, "Markdown") != 0 &&
             strcasecmp(mode, "MarkdownV2") != 0) {
    tg_error(rs, 400, "Bad Request: unsupported parse_mode", 0);
  } else if (is_text && tg_blank(tg_str(p, "text"))) {
    tg_error(rs, 400, "Bad Request: message text is empty", 0);
  } else if (is_text && tg_chars(tg_str(p, "text")) > TG_TEXT_MAX) {
    tg_error(rs, 400, "Bad Request: message is too long", 0);
  } else if (upload != NULL &&
             cJSON_GetNumberValue(cJSON_GetObjectItem(upload, "size")) < 1) {
    tg_error(rs, 400, "Bad Request: file must be non-empty", 0);
  } else if (upload != NULL &&
             cJSON_GetNumberValue(cJSON_GetObjectItem(upload, "size")) >
               limit) {
    tg_error(rs, 413, "Request Entity Too Large", 0);
  } else if (!is_text && upload == NULL && (media == NULL || *media == '\0')) {
    tg_error(rs, 400, strcasecmp(method, "sendPhoto") == 0
             ? "Bad Request: there is no photo in the request"
             : "Bad Request: there is no document in the request", 0);
  } else if (!is_text && upload == NULL &&
             strncmp(media, "http://", 7) != 0 &&
             strncmp(media, "https://", 8) != 0) {
    /* not a URL: a file_id this bot never received */
    tg_error(rs, 400, "Bad Request: wrong remote file identifier "
             "specified: Wrong padding in the string", 0);
  } else if (caption != NULL && tg_chars(caption) > TG_CAPTION_MAX) {
    tg_error(rs, 400, "Bad Request: message caption is too long", 0);
  } else if (in_list(blocked, chat)) {
    tg_error(rs, 403, "Forbidden: bot was blocked by the user", 0);
  } else {
    tg_sent(sim, st, token, method, p, rs);
  }
  cJSON_Delete(p);
}

static void tg_handle(vc_sim *sim, void *state, const sim_req *rq,
                      sim_resp *rs)
{
  tg_state *st = state;
  const char *p = rq->path + 4, *slash = strchr(p, '/'), *method;
  char token[256], want[256];
  size_t tlen = slash ? (size_t)(slash - p) : strlen(p);

  if (strncmp(rq->path, "/bot", 4) != 0 || tlen >= sizeof(token) ||
      !tg_token_shaped(p, tlen) || slash == NULL) {
    tg_error(rs, 404, "Not Found", 0);
    return;
  }
  memcpy(token, p, tlen);
  token[tlen] = '\0';
  sim_setting(sim, "telegram.bot_token", want, sizeof(want));
  if (strcmp(token, want) != 0) {
    tg_error(rs, 401, "Unauthorized", 0);
    return;
  }
  method = slash + 1;
  if (strcmp(rq->method, "POST") != 0 && strcmp(rq->method, "GET") != 0) {
    tg_error(rs, 404, "Not Found", 0);
  } else if (strcasecmp(method, "getMe") == 0) {
    rs->status = 200;
    rs->content_type = "application/json";
    sim_buf_str(&rs->body, "{\"ok\":true,\"result\":");
    tg_bot_json(&rs->body, token);
    sim_buf_str(&rs->body, "}");
  } else if (strcasecmp(method, "sendMessage") == 0 ||
             strcasecmp(method, "sendPhoto") == 0 ||
             strcasecmp(method, "sendDocument") == 0) {
    tg_send(sim, st, token, method, rq, rs);
  } else {
    tg_error(rs, 404, "Not Found: method not found", 0);
  }
}

/* ---- inbound ------------------------------------------------------------ */

long long vc_sim_telegram_inbound(vc_sim *s, long long chat_id,
                                  const char *text)
{
  tg_state *st = s ? sim_provider_state(s, "telegram") : NULL;
  char secret[300], chat[32];
  sim_wh_opts o;
  sim_post post;
  sim_buf b = { 0 }, hdr = { 0 };
  long long update_id, mid;

  if (st == NULL || chat_id == 0 || text == NULL)
    return -EINVAL;
  sim_webhook_opts(s, "telegram", &o);
  if (o.off || o.url[0] == '\0')
    return -ENOTCONN;
  snprintf(chat, sizeof(chat), "%lld", chat_id);
  pthread_mutex_lock(&st->mu);
  update_id = st->next_update_id++;
  mid = st->next_message_id++;
  if (!tg_chat_shaped(chat)) {
    pthread_mutex_unlock(&st->mu);
    return -EINVAL;
  }
  if (st->nknown < TG_KNOWN_MAX) {
    size_t i = 0;
    while (i < st->nknown && strcmp(st->known[i], chat) != 0)
      i++;
    if (i == st->nknown && (st->known[i] = strdup(chat)) != NULL)
      st->nknown++;
  }
  pthread_mutex_unlock(&st->mu);

  /* A private chat: the user's id is the chat's id. */
  sim_buf_printf(&b, "{\"update_id\":%lld,\n\"message\":{\"message_id\":%lld,"
                 "\"from\":{\"id\":%s,\"is_bot\":false,\"first_name\":"
                 "\"Sim\",\"username\":\"sim_user\",\"language_code\":\"en\"},"
                 "\"chat\":{\"id\":%s,\"first_name\":\"Sim\",\"username\":"
                 "\"sim_user\",\"type\":\"private\"},\"date\":%lld,\"text\":",
                 update_id, mid, chat, chat,
                 (long long)(sim_now_ms() / 1000));
  sim_buf_json_str(&b, text);
  sim_buf_str(&b, "}}");
  sim_setting(s, "telegram.secret_token", secret, sizeof(secret));
  if (secret[0] != '\0')
    sim_buf_printf(&hdr, "X-Telegram-Bot-Api-Secret-Token: %s\n", secret);
  else
    sim_buf_str(&hdr, "");
  memset(&post, 0, sizeof(post));
  post.url = strdup(o.url);
  post.content_type = strdup("application/json");
  post.headers = hdr.ptr;
  post.body = b.ptr;
  post.body_len = b.len;
  if (b.oom || hdr.oom || !post.url || !post.content_type || !post.body ||
      !post.headers) {
    free(post.url);
    free(post.content_type);
    sim_buf_free(&hdr);
    sim_buf_free(&b);
    return -ENOMEM;
  }
  sim_webhook_schedule(s, "telegram", &post, 1, &o);
  return update_id;
}

/* ---- state -------------------------------------------------------------- */

static int tg_init(vc_sim *sim, void **out)
{
  tg_state *st = calloc(1, sizeof(*st));

  (void)sim;
  if (st == NULL)
    return -ENOMEM;
  pthread_mutex_init(&st->mu, NULL);
  st->next_message_id = 1;
  /* Real update ids are large and only grow. */
  st->next_update_id = 700000001;
  *out = st;
  return 0;
}

static void tg_fini(void *state)
{
  tg_state *st = state;

  for (size_t i = 0; i < st->nknown; i++)
    free(st->known[i]);
  pthread_mutex_destroy(&st->mu);
  free(st);
}

const sim_provider sim_telegram = {
  .name = "telegram",
  .prefix = "/bot",
  .max_body = 50 * 1024 * 1024,
  .defaults = tg_defaults,
  .init = tg_init,
  .fini = tg_fini,
  .handle = tg_handle,
  .error = tg_fault,
  .sign = NULL,
};
