/*
 * Telegram Bot API: the "telegram" adapter.
 *
 * Pure translation (sys/adapter.h): POST {base}/bot{token}/sendMessage
 * with a JSON body, sendPhoto / sendDocument for an attachment (its URL
 * in JSON, or its bytes uploaded as multipart/form-data), the {"ok": ...}
 * answer, the X-Telegram-Bot-Api-Secret-Token check of a webhook, and the
 * Update objects Telegram posts. Wire facts: providers.md section 11 (and
 * 0).
 *
 * A text longer than Telegram's 4,096 characters is split into several
 * messages (count_parts) or refused, as the channel says. Attachments
 * follow the text, one message each. Telegram reports no delivery or
 * read receipts: a message ends at `sent`.
 *
 * The bot token is the only authentication and it sits in the request
 * path, so the URL is a secret: it is kept in the state only, wiped by
 * fini, and never put in a message (the core logs no request URL).
 *
 * config:      {"base_url": "https://api.telegram.org",
 *               "parse_mode": "HTML" | "MarkdownV2" | "Markdown",
 *               "long_text": "split" | "refuse"}     every key optional
 * credentials: {"bot_token": "<bot id>:<secret>",    required
 *               "webhook_secret": "<1-256 of A-Za-z0-9_->"}
 */
#include "core/common.h"
#include "core/buf.h"
#include "core/crypto.h"
#include "core/json.h"
#include "core/text.h"
#include "msg/address.h"
#include "adapters/builtin.h"
#include "adapters/common.h"
#include "adapters/chat/telegram.h"

#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#define DEFAULT_BASE_URL "https://api.telegram.org"
#define SECRET_HEADER "X-Telegram-Bot-Api-Secret-Token"

#define URL_MAX 2048
#define BOT_ID_MAX 20                /* digits before the ':' */
#define TOKEN_SECRET_MIN 30          /* after it (35 in practice) */
#define TOKEN_SECRET_MAX 64
#define WEBHOOK_SECRET_MAX 256       /* providers.md 11.6 */
#define PARTS_MAX 32                 /* requests one message may take */
#define TEXT_BYTES_MAX (4 * VC__TELEGRAM_TEXT_MAX * PARTS_MAX)
#define ERROR_BODY_MAX (64 * 1024)
#define WEBHOOK_MAX (256 * 1024)     /* an Update is a few KB */
#define JSON_DEPTH_MAX 32            /* replies nest messages */
#define FILE_ID_MAX 256
#define MEDIA_MAX 10                 /* the sink's bound */
#define UPLOAD_MAX 50000000          /* bytes, PTB FileSizeLimit */
#define PHOTO_UPLOAD_MAX 10000000
#define FILENAME_MAX_LEN 255
#define RETRY_AFTER_MAX_S (24 * 3600)
#define JSON_INT_MAX 9007199254740992.0 /* 2^53: exact in a double */

typedef struct tg_state {
  char *api;                /* "{base}/bot{token}/": holds the token */
  size_t api_len;
  char bot_id[BOT_ID_MAX + 1];
  char parse_mode[16];      /* "" when not configured */
  int refuse_long;          /* long_text "refuse" */
  int has_secret;
  uint8_t secret_hash[32];  /* SHA-256 of the webhook secret */
} tg_state;

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */

static int is_token_char(int c)
{
  return vc__is_alnum(c) || c == '_' || c == '-';
}

static int all_token_chars(const char *s, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (!is_token_char((unsigned char)s[i]))
      return 0;
  return 1;
}

static int is_space(int c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* A JSON number that is an integer exactly representable in a double. */
static int json_int(const cJSON *v, double min, double *out)
{
  /* range first: the cast is defined only for values that fit */
  if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) ||
      v->valuedouble < min || v->valuedouble >= JSON_INT_MAX ||
      v->valuedouble <= -JSON_INT_MAX ||
      (double)(int64_t)v->valuedouble != v->valuedouble)
    return 0;
  *out = v->valuedouble;
  return 1;
}

/* Characters as the Bot API counts a text: code points. */
static size_t count_chars(const char *s, size_t n)
{
  size_t k = 0;

  for (size_t i = 0; i < n; i++)
    k += ((unsigned char)s[i] & 0xc0) != 0x80;
  return k;
}

/* ------------------------------------------------------------------ */
/* Splitting long texts                                                */

static size_t skip_space(const char *s, size_t n, size_t i)
{
  while (i < n && is_space((unsigned char)s[i]))
    i++;
  return i;
}

/* Where the part starting at `at` (not a space) ends: a byte offset in
 * (at, len], at most `limit` characters on. */
static size_t cut_at(const char *s, size_t len, size_t at, size_t limit)
{
  size_t i = at, k = 0, half = at, end, p;

  while (i < len && k < limit) {
    i++;
    while (i < len && ((unsigned char)s[i] & 0xc0) == 0x80)
      i++;
    if (++k == (limit + 1) / 2)
      half = i;
  }
  if (i >= len)
    return len;
  /* s[i] starts the first character past the limit. A boundary counts
   * in the part's second half only, so no part is needlessly short. */
  end = 0;
  for (p = i; p >= half && end == 0; p--) {       /* a blank line */
    size_t q = p;
    if (s[p] != '\n')
      continue;
    while (q > half && s[q - 1] == '\r')
      q--;
    if (q > half && s[q - 1] == '\n')
      end = q - 1;
  }
  for (p = i; p >= half && end == 0; p--)         /* a line break */
    if (s[p] == '\n')
      end = p;
  for (p = i; p >= half && end == 0; p--)         /* a space */
    if (s[p] == ' ' || s[p] == '\t')
      end = p;
  return end != 0 ? end : i;
}

size_t vc__telegram_split(const char *text, size_t len, size_t limit,
                          size_t *start, size_t *end, size_t max)
{
  size_t at = skip_space(text, len, 0), n = 0;

  if (limit == 0)
    return 0;
  while (at < len) {
    size_t e = cut_at(text, len, at, limit), stop = e;

    /* Trailing spaces of the part go with the cut. */
    while (stop > at && is_space((unsigned char)text[stop - 1]))
      stop--;
    if (n < max && start != NULL && end != NULL) {
      start[n] = at;
      end[n] = stop;
    }
    n++;
    at = skip_space(text, len, e);
  }
  return n;
}

/* ------------------------------------------------------------------ */
/* init / fini                                                         */

static void tg_fini(void *state)
{
  tg_state *s = state;

  if (s == NULL)
    return;
  if (s->api != NULL) {
    vc__wipe(s->api, s->api_len);
    vc__free(s->api);
  }
  vc__wipe(s, sizeof(*s));
  vc__free(s);
}

typedef struct tg_config {
  const char *base_url;
} tg_config;

static int read_config(tg_state *s, tg_config *c, const cJSON *cfg)
{
  static const char *const keys[] = { "base_url", "parse_mode",
                                      "long_text" };
  char name[68];
  unsigned seen = 0;

  c->base_url = DEFAULT_BASE_URL;
  for (const cJSON *it = cfg->child; it != NULL; it = it->next) {
    const char *v;
    unsigned k = 0;

    while (k < VC_ARRAY_SIZE(keys) && strcmp(it->string, keys[k]) != 0)
      k++;
    if (k == VC_ARRAY_SIZE(keys))
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "unknown config key '%s'",
                           vc__json_key_name(name, it->string));
    if (seen & (1u << k))
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "config key '%s' appears twice", it->string);
    seen |= 1u << k;
    if (!cJSON_IsString(it) || it->valuestring == NULL)
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "config '%s' must be a string", it->string);
    v = it->valuestring;
    if (k == 0) {
      c->base_url = v;
    } else if (k == 1) {
      if (strcmp(v, "HTML") != 0 && strcmp(v, "MarkdownV2") != 0 &&
          strcmp(v, "Markdown") != 0)
        return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                             "config 'parse_mode' must be HTML, "
                             "MarkdownV2 or Markdown");
      snprintf(s->parse_mode, sizeof(s->parse_mode), "%s", v);
    } else {
      if (strcmp(v, "split") != 0 && strcmp(v, "refuse") != 0)
        return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                             "config 'long_text' must be \"split\" or "
                             "\"refuse\"");
      s->refuse_long = strcmp(v, "refuse") == 0;
    }
  }
  return 0;
}

/* Credential checks never quote the value. */
static int read_credentials(tg_state *s, const tg_config *c,
                            const cJSON *cred)
{
  const cJSON *token = NULL, *secret = NULL;
  vc_buf api = VC_BUF_INIT;
  size_t base_len = 0, n, id_len;
  int rc;

  for (const cJSON *it = cred->child; it != NULL; it = it->next) {
    const cJSON **slot;
    if (strcmp(it->string, "bot_token") == 0)
      slot = &token;
    else if (strcmp(it->string, "webhook_secret") == 0)
      slot = &secret;
    else
      /* not quoted: a secret pasted as a key would be */
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "unknown credential key");
    if (*slot != NULL)
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "credential '%s' appears twice", it->string);
    *slot = it;
  }
  if (token == NULL)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "credential 'bot_token' is required");
  if (!cJSON_IsString(token) || token->valuestring == NULL)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "credential 'bot_token' must be a string");
  /* "<bot id>:<secret>", as @BotFather issues it */
  n = strnlen(token->valuestring, BOT_ID_MAX + TOKEN_SECRET_MAX + 2);
  id_len = strspn(token->valuestring, "0123456789");
  if (id_len == 0 || id_len > BOT_ID_MAX ||
      token->valuestring[id_len] != ':' ||
      n - id_len - 1 < TOKEN_SECRET_MIN || n - id_len - 1 > TOKEN_SECRET_MAX ||
      !all_token_chars(token->valuestring + id_len + 1, n - id_len - 1))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "credential 'bot_token' must be the bot's id, "
                         "':' and %d to %d of A-Z a-z 0-9 _ -",
                         TOKEN_SECRET_MIN, TOKEN_SECRET_MAX);
  if (secret != NULL) {
    size_t k;
    if (!cJSON_IsString(secret) || secret->valuestring == NULL ||
        (k = strnlen(secret->valuestring, WEBHOOK_SECRET_MAX + 1)) == 0 ||
        k > WEBHOOK_SECRET_MAX || !all_token_chars(secret->valuestring, k))
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "credential 'webhook_secret' must be 1 to %d "
                           "of A-Z a-z 0-9 _ -", WEBHOOK_SECRET_MAX);
    if ((rc = vc__digest(s->secret_hash, VC__MD_SHA256, secret->valuestring,
                         k)) < 0)
      return rc;
    s->has_secret = 1;
  }
  if ((rc = vc__adapter_check_base_url(c->base_url, URL_MAX, &base_len)) < 0)
    return rc;
  if ((rc = vc__buf_put(&api, c->base_url, base_len)) < 0 ||
      (rc = vc__buf_puts(&api, "/bot")) < 0 ||
      (rc = vc__buf_put(&api, token->valuestring, n)) < 0 ||
      (rc = vc__buf_puts(&api, "/")) < 0) {
    vc__buf_wipe(&api);
    return rc;
  }
  memcpy(s->bot_id, token->valuestring, id_len);
  s->bot_id[id_len] = '\0';
  s->api = api.ptr;
  s->api_len = api.size;
  return 0;
}

static int tg_init(void **state, const char *config_json,
                   const char *credentials_json)
{
  cJSON *cfg = NULL, *cred = NULL;
  tg_state *s = NULL;
  tg_config c;
  int rc;

  VC_ASSERT_ARG(state);
  *state = NULL;
  if ((rc = vc__adapter_parse_config(&cfg, config_json, "config")) < 0 ||
      (rc = vc__adapter_parse_config(&cred, credentials_json,
                                     "credentials")) < 0)
    goto out;
  if ((s = vc__calloc(1, sizeof(*s))) == NULL) {
    rc = vc_error_set_oom();
    goto out;
  }
  if ((rc = read_config(s, &c, cfg)) < 0 ||
      (rc = read_credentials(s, &c, cred)) < 0)
    goto out;
  *state = s;
  s = NULL;
out:
  cJSON_Delete(cfg);
  vc__json_wipe(cred);
  cJSON_Delete(cred);
  tg_fini(s);
  return rc;
}

/* ------------------------------------------------------------------ */
/* count_parts / build_send                                            */

/* An attachment: an http(s) URL Telegram fetches itself, or bytes we
 * upload (multipart/form-data) within Telegram's upload limit. */
static int check_attachment(const vc_attachment *a, size_t i)
{
  int rc;

  if (a->url == NULL && (a->data == NULL || a->len == 0))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "attachment %zu has neither a URL nor bytes",
                         i + 1);
  if (a->url == NULL) {
    if (a->len > UPLOAD_MAX)
      return vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                           "attachment %zu is larger than Telegram's 50 MB "
                           "upload limit", i + 1);
    if ((rc = vc__check_text("attachment filename", a->filename,
                             FILENAME_MAX_LEN, 0)) < 0 ||
        (rc = vc__check_text("attachment content type", a->content_type,
                             FILENAME_MAX_LEN, 0)) < 0)
      return rc;
    return 0;
  }
  if (vc__check_token("attachment URL", a->url, URL_MAX, NULL, "!-~") < 0 ||
      (strncmp(a->url, "https://", 8) != 0 &&
       strncmp(a->url, "http://", 7) != 0))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "attachment %zu must be an http(s) URL without "
                         "spaces", i + 1);
  return 0;
}

/* How many text parts; refuses what Telegram would refuse. */
static int text_parts(const tg_state *s, const vc_outbound *m, size_t *n)
{
  size_t len, chars;
  int rc;

  *n = 0;
  if (!vc__present(m->text))
    return 0;
  if ((rc = vc__check_text("text", m->text, TEXT_BYTES_MAX, 1)) < 0)
    return rc;
  len = strlen(m->text);
  chars = count_chars(m->text, len);
  if (chars > VC__TELEGRAM_TEXT_MAX && s->refuse_long)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                         "text is %zu characters, over Telegram's %d "
                         "(the channel's long_text is \"refuse\")", chars,
                         VC__TELEGRAM_TEXT_MAX);
  *n = vc__telegram_split(m->text, len, VC__TELEGRAM_TEXT_MAX, NULL, NULL,
                          0);
  if (*n == 0)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "text is only whitespace: Telegram refuses an "
                         "empty message");
  return 0;
}

/* Everything Telegram would refuse, refused before anything is built.
 * *ntext and the return value: text parts, and all parts. */
static int plan(const tg_state *s, const vc_outbound *m, char *chat,
                size_t *ntext)
{
  size_t total;
  int rc;

  if (vc__addr_telegram(chat, m->to) < 0)
    return vc__error_wrap("recipient");
  if ((rc = text_parts(s, m, ntext)) < 0)
    return rc;
  if (m->nattachments > 0 && m->attachments == NULL)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "invalid argument: 'attachments'");
  for (size_t i = 0; i < m->nattachments; i++)
    if ((rc = check_attachment(&m->attachments[i], i)) < 0)
      return rc;
  if (*ntext == 0 && m->nattachments == 0)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "a Telegram message needs a text or an "
                         "attachment");
  total = *ntext + m->nattachments;
  if (total > PARTS_MAX)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                         "the message would take %zu Telegram messages; "
                         "at most %d", total, PARTS_MAX);
  return (int)total;
}

static int tg_count_parts(void *state, const vc_outbound *msg)
{
  char chat[VC__ADDR_TELEGRAM_MAX];
  size_t ntext;

  VC_ASSERT_ARG(state);
  VC_ASSERT_ARG(msg);
  VC_CHECK_VERSION(msg, VC_OUTBOUND_VERSION, "vc_outbound");
  return plan(state, msg, chat, &ntext);
}

/* JPEG, PNG and WebP images go as photos (uploaded, at most 10 MB);
 * the rest as files. */
static int is_photo(const vc_attachment *a)
{
  const char *t = a->content_type;

  if (a->url == NULL && a->len > PHOTO_UPLOAD_MAX)
    return 0;
  return t != NULL && (strcasecmp(t, "image/jpeg") == 0 ||
                       strcasecmp(t, "image/png") == 0 ||
                       strcasecmp(t, "image/webp") == 0);
}

/* An attachment's bytes as multipart/form-data: chat_id, then the file. */
static int upload(vc_http_out *req, const char *chat, const char *field,
                  const vc_attachment *a)
{
  const char *name = vc__present(a->filename) ? a->filename : "attachment";
  int rc;

  /* Content-Type: multipart/form-data; boundary=... (the builder's) */
  if ((rc = vc_http_out_multipart_add(req, "chat_id", NULL, NULL, chat,
                                      strlen(chat))) < 0)
    return rc;
  return vc_http_out_multipart_add(req, field, name, a->content_type,
                                   a->data, a->len);
}

static int tg_build_send(void *state, const vc_outbound *msg,
                         vc_http_out *req)
{
  const tg_state *s = state;
  const vc_attachment *a = NULL;
  char chat[VC__ADDR_TELEGRAM_MAX];
  size_t ntext, starts[PARTS_MAX], ends[PARTS_MAX];
  const char *method;
  vc_buf url = VC_BUF_INIT, part = VC_BUF_INIT;
  cJSON *root = NULL;
  char *body = NULL;
  int total, rc;

  VC_ASSERT_ARG(s);
  VC_ASSERT_ARG(msg);
  VC_ASSERT_ARG(req);
  VC_CHECK_VERSION(msg, VC_OUTBOUND_VERSION, "vc_outbound");
  if ((total = plan(s, msg, chat, &ntext)) < 0)
    return total;
  if (msg->part >= (unsigned)total)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "part %u of a message of %d parts", msg->part,
                         total);
  if ((root = cJSON_CreateObject()) == NULL ||
      cJSON_AddStringToObject(root, "chat_id", chat) == NULL)
    goto oom;
  if (msg->part < ntext) {
    size_t i = msg->part;
    vc__telegram_split(msg->text, strlen(msg->text), VC__TELEGRAM_TEXT_MAX,
                       starts, ends, PARTS_MAX);
    method = "sendMessage";
    /* the part's bytes: the text is valid UTF-8 and so is every cut */
    if ((rc = vc__buf_put(&part, msg->text + starts[i],
                          ends[i] - starts[i])) < 0)
      goto out;
    if (cJSON_AddStringToObject(root, "text", part.ptr) == NULL)
      goto oom;
    if (s->parse_mode[0] != '\0' &&
        cJSON_AddStringToObject(root, "parse_mode", s->parse_mode) == NULL)
      goto oom;
  } else {
    a = &msg->attachments[msg->part - ntext];
    method = is_photo(a) ? "sendPhoto" : "sendDocument";
    if (a->url != NULL &&
        cJSON_AddStringToObject(root, is_photo(a) ? "photo" : "document",
                                a->url) == NULL)
      goto oom;
  }
  if ((rc = vc__buf_put(&url, s->api, s->api_len)) < 0 ||
      (rc = vc__buf_puts(&url, method)) < 0 ||
      (rc = vc_http_out_set_target(req, "POST", url.ptr)) < 0)
    goto out;
  if (a != NULL && a->url == NULL) {
    rc = upload(req, chat, is_photo(a) ? "photo" : "document", a);
    goto out;
  }
  if ((body = cJSON_PrintUnformatted(root)) == NULL)
    goto oom;
  if ((rc = vc_http_out_add_header(req, "Content-Type",
                                   "application/json")) < 0 ||
      (rc = vc_http_out_set_body(req, body, strlen(body))) < 0)
    goto out;
  goto out;
oom:
  rc = vc_error_set_oom();
out:
  vc__buf_wipe(&url);
  vc_buf_dispose(&part);
  cJSON_free(body);
  cJSON_Delete(root);
  return rc;
}

/* ------------------------------------------------------------------ */
/* parse_send                                                          */

/* The answer's JSON object, or NULL. */
static cJSON *answer_json(const vc_http_response *res)
{
  cJSON *root = NULL;
  vc_buf text = VC_BUF_INIT;

  if (res->body.ptr == NULL || res->body.size == 0 ||
      res->body.size > ERROR_BODY_MAX ||
      memchr(res->body.ptr, '\0', res->body.size) != NULL ||
      vc__buf_put(&text, res->body.ptr, res->body.size) < 0)
    return NULL;
  if (vc__json_parse(&root, "answer", text.ptr, ERROR_BODY_MAX,
                     JSON_DEPTH_MAX, 1) < 0) {
    vc_error_clear();
    root = NULL;
  }
  vc_buf_dispose(&text);
  return root;
}

/* "<chat id>:<message id>": message ids are unique per chat only. */
static int accepted(vc_send_result *out, const cJSON *result,
                    const vc_outbound *msg)
{
  const cJSON *chat = cJSON_GetObjectItemCaseSensitive(result, "chat");
  double mid, cid;

  if (!json_int(cJSON_GetObjectItemCaseSensitive(result, "message_id"), 1,
                &mid))
    return 0;
  if (json_int(cJSON_GetObjectItemCaseSensitive(chat, "id"), -JSON_INT_MAX,
               &cid) && cid != 0)
    snprintf(out->provider_id, sizeof(out->provider_id), "%.0f:%.0f", cid,
             mid);
  else if (msg != NULL && msg->to != NULL && strlen(msg->to) < 64)
    snprintf(out->provider_id, sizeof(out->provider_id), "%s:%.0f",
             msg->to, mid);
  else
    return 0;
  return 1;
}

static int tg_parse_send(void *state, const vc_outbound *msg,
                         const vc_http_response *res, vc_send_result *out)
{
  cJSON *root;
  const cJSON *ok, *params;
  const char *desc;
  double code = 0, after;
  int st;

  VC_UNUSED(state);
  VC_ASSERT_ARG(res);
  VC_ASSERT_ARG(out);
  st = res->status;
  root = answer_json(res);
  ok = cJSON_GetObjectItemCaseSensitive(root, "ok");
  if (st >= 200 && st < 300) {
    if (cJSON_IsTrue(ok) &&
        accepted(out, cJSON_GetObjectItemCaseSensitive(root, "result"),
                 msg)) {
      out->outcome = VC_SEND_ACCEPTED;
    } else {
      out->outcome = VC_SEND_RETRY;
      out->error = VC_EPROVIDER;
      snprintf(out->error_message, sizeof(out->error_message),
               "Telegram answered %d without a message", st);
    }
    cJSON_Delete(root);
    return 0;
  }
  /* {"ok": false, "error_code", "description", "parameters"} */
  if (json_int(cJSON_GetObjectItemCaseSensitive(root, "error_code"), 1,
               &code) && code < 1000)
    snprintf(out->provider_code, sizeof(out->provider_code), "%.0f", code);
  else
    snprintf(out->provider_code, sizeof(out->provider_code), "%d", st);
  if ((desc = vc__json_str(root, "description")) != NULL && desc[0] != '\0')
    vc__copy_line(out->error_message, sizeof(out->error_message), desc,
                  strlen(desc));
  else
    snprintf(out->error_message, sizeof(out->error_message),
             "HTTP %d from Telegram", st);
  params = cJSON_GetObjectItemCaseSensitive(root, "parameters");
  /* A group that became a supergroup: the host resends to the new id. */
  if (json_int(cJSON_GetObjectItemCaseSensitive(params,
                                                "migrate_to_chat_id"),
               -JSON_INT_MAX, &after) && after != 0) {
    size_t n = strlen(out->error_message);
    snprintf(out->error_message + n, sizeof(out->error_message) - n,
             " (the chat is now %.0f)", after);
  }
  /* PTB and the Bot API key off the HTTP status (providers.md 11.3). */
  if (st == 429) {
    out->outcome = VC_SEND_RETRY;
    out->error = VC_ERATELIMIT;
  } else if (st == 401 || st == 404) {
    /* a wrong or revoked token: this bot cannot send at all */
    out->outcome = VC_SEND_FAILOVER;
    out->error = VC_EAUTH;
  } else if (st == 400 || st == 403) {
    /* this message or this chat (blocked, kicked, not found) */
    out->outcome = VC_SEND_REJECTED;
    out->error = VC_EPROVIDER;
  } else if (st == 413) {
    out->outcome = VC_SEND_REJECTED;
    out->error = VC_ETOOBIG;
  } else {
    /* 5xx, 409 and anything undocumented */
    out->outcome = VC_SEND_RETRY;
    out->error = VC_EPROVIDER;
  }
  if (out->outcome == VC_SEND_RETRY) {
    if (json_int(cJSON_GetObjectItemCaseSensitive(params, "retry_after"), 0,
                 &after)) {
      out->retry_after_ms = (int64_t)(after > RETRY_AFTER_MAX_S
                                          ? RETRY_AFTER_MAX_S : after) *
                            1000;
    } else {
      const char *h = vc_http_response_header(res, "Retry-After");
      char *end = NULL;
      long v = h ? strtol(h, &end, 10) : -1;
      if (h != NULL && end != h && *end == '\0' && v >= 0)
        out->retry_after_ms = (int64_t)(v > RETRY_AFTER_MAX_S
                                            ? RETRY_AFTER_MAX_S : v) * 1000;
    }
  }
  cJSON_Delete(root);
  return 0;
}

/* ------------------------------------------------------------------ */
/* verify_webhook                                                      */

static int tg_verify_webhook(void *state, const vc_http_request *req,
                             vc_webhook_env *env)
{
  const tg_state *s = state;
  const char *got;
  uint8_t hash[32];
  size_t n;
  int rc;

  VC_UNUSED(env);
  VC_ASSERT_ARG(s);
  VC_ASSERT_ARG(req);
  if (!s->has_secret)
    return vc__error_set(VC_ERRCLASS_ADAPTER, VC_EAUTH,
                         "no webhook secret configured (credential "
                         "'webhook_secret')");
  if (req->body_len > WEBHOOK_MAX)
    return vc__error_set(VC_ERRCLASS_ADAPTER, VC_ETOOBIG,
                         "webhook body is larger than %d bytes",
                         WEBHOOK_MAX);
  if ((got = vc_http_request_header(req, SECRET_HEADER)) == NULL)
    return vc__error_set(VC_ERRCLASS_ADAPTER, VC_EAUTH, "missing %s header",
                         SECRET_HEADER);
  /* Compare digests: equal time whatever the length or the content. */
  n = strnlen(got, WEBHOOK_SECRET_MAX + 1);
  if ((rc = vc__digest(hash, VC__MD_SHA256, got, n)) < 0)
    return rc;
  if (!vc__ct_equal(hash, s->secret_hash, sizeof(hash)))
    return vc__error_set(VC_ERRCLASS_ADAPTER, VC_EAUTH,
                         "%s does not match", SECRET_HEADER);
  return 0;
}

/* ------------------------------------------------------------------ */
/* parse_webhook                                                       */

static int bad_update(const char *why)
{
  return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID, "Telegram "
                       "update: %s", why);
}

/* A file_id as Telegram issues them (base64url). */
static int file_id_ok(const char *s)
{
  size_t n = s ? strnlen(s, FILE_ID_MAX + 1) : 0;

  return n > 0 && n <= FILE_ID_MAX && all_token_chars(s, n);
}

/* Media of a message: the largest photo size, or the file of a
 * document, audio, video, voice note, animation or sticker. */
static int read_media(const cJSON *m, char urls[][FILE_ID_MAX + 16],
                      size_t *n)
{
  static const char *const kinds[] = { "document", "audio", "video",
                                       "voice", "video_note", "animation",
                                       "sticker" };
  const cJSON *photo = cJSON_GetObjectItemCaseSensitive(m, "photo");
  const char *id;

  *n = 0;
  if (photo != NULL) {
    if (!cJSON_IsArray(photo) || cJSON_GetArraySize(photo) == 0)
      return bad_update("photo is not a list of sizes");
    /* sizes come smallest first */
    id = vc__json_str(cJSON_GetArrayItem(photo, cJSON_GetArraySize(photo) - 1),
                  "file_id");
    if (!file_id_ok(id))
      return bad_update("photo has no valid file_id");
    snprintf(urls[(*n)++], FILE_ID_MAX + 16, "telegram-file:%s", id);
  }
  for (size_t k = 0; k < VC_ARRAY_SIZE(kinds) && *n < MEDIA_MAX; k++) {
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(m, kinds[k]);
    if (o == NULL)
      continue;
    if (!file_id_ok(id = vc__json_str(o, "file_id")))
      return bad_update("a file has no valid file_id");
    snprintf(urls[(*n)++], FILE_ID_MAX + 16, "telegram-file:%s", id);
  }
  return 0;
}

/* The Message of a message / channel_post / business_message update. */
static int report_message(const tg_state *s, const cJSON *m,
                          vc_event_sink *sink)
{
  char urls[MEDIA_MAX][FILE_ID_MAX + 16], from[32], pid[64];
  const char *ptrs[MEDIA_MAX];
  const cJSON *chat = cJSON_GetObjectItemCaseSensitive(m, "chat");
  const char *text;
  double mid, cid, date = 0;
  size_t nmedia = 0;
  vc_inbound in;
  int rc;

  if (!cJSON_IsObject(m))
    return bad_update("the message is not an object");
  if (!json_int(cJSON_GetObjectItemCaseSensitive(m, "message_id"), 1, &mid))
    return bad_update("message_id is not a positive integer");
  if (!json_int(cJSON_GetObjectItemCaseSensitive(chat, "id"), -JSON_INT_MAX,
                &cid) || cid == 0)
    return bad_update("chat.id is not a chat id");
  if (cJSON_GetObjectItemCaseSensitive(m, "date") != NULL &&
      (!json_int(cJSON_GetObjectItemCaseSensitive(m, "date"), 0, &date) ||
       date >= 1e11))
    return bad_update("date is not a Unix time");
  text = vc__json_str(m, "text");
  if (text == NULL)
    text = vc__json_str(m, "caption");
  if ((cJSON_GetObjectItemCaseSensitive(m, "text") != NULL ||
       cJSON_GetObjectItemCaseSensitive(m, "caption") != NULL) &&
      text == NULL)
    return bad_update("text is not a string");
  if ((rc = read_media(m, urls, &nmedia)) < 0)
    return rc;
  for (size_t i = 0; i < nmedia; i++)
    ptrs[i] = urls[i];
  /* The chat is where a reply goes: the user in a private chat, the
   * group or channel otherwise. */
  snprintf(from, sizeof(from), "%.0f", cid);
  snprintf(pid, sizeof(pid), "%.0f:%.0f", cid, mid);
  memset(&in, 0, sizeof(in));
  in.version = VC_INBOUND_VERSION;
  in.provider_id = pid;
  in.from = from;
  in.to = s->bot_id;
  in.text = text;
  in.media_urls = nmedia ? ptrs : NULL;
  in.nmedia = nmedia;
  in.occurred_at = (int64_t)date * 1000;
  return vc_event_sink_inbound(sink, &in);
}

static int tg_parse_webhook(void *state, const vc_http_request *req,
                            vc_event_sink *sink)
{
  static const char *const inbound[] = { "message", "channel_post",
                                         "business_message" };
  const tg_state *s = state;
  const char *ct;
  vc_buf text = VC_BUF_INIT;
  cJSON *root = NULL;
  char key[48];
  double uid;
  int rc;

  VC_ASSERT_ARG(s);
  VC_ASSERT_ARG(req);
  VC_ASSERT_ARG(sink);
  VC_ASSERT_ARG(req->body != NULL || req->body_len == 0);
  ct = vc_http_request_header(req, "Content-Type");
  if (req->method == NULL || strcmp(req->method, "POST") != 0)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "Telegram posts its updates");
  /* Telegram posts JSON only (providers.md 11.4) */
  if (ct == NULL || strncasecmp(ct, "application/json", 16) != 0 ||
      (ct[16] != '\0' && ct[16] != ';' && ct[16] != ' '))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "webhook body is not application/json");
  if (req->body_len > WEBHOOK_MAX)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                         "webhook body is larger than %d bytes",
                         WEBHOOK_MAX);
  if (req->body_len == 0 ||
      memchr(req->body, '\0', req->body_len) != NULL)
    return bad_update("the body is empty or holds a NUL byte");
  if ((rc = vc__buf_put(&text, req->body, req->body_len)) < 0 ||
      (rc = vc__json_parse(&root, "Telegram update", text.ptr, WEBHOOK_MAX,
                           JSON_DEPTH_MAX, 1)) < 0)
    goto out;
  if (!json_int(cJSON_GetObjectItemCaseSensitive(root, "update_id"), 0,
                &uid)) {
    rc = bad_update("update_id is not an integer");
    goto out;
  }
  /* Telegram retries an update until it is answered: apply it once. */
  snprintf(key, sizeof(key), "update:%.0f", uid);
  if ((rc = vc_event_sink_once(sink, key)) == VC_EEXISTS) {
    vc_error_clear();
    rc = 0;
    goto out;
  }
  if (rc < 0)
    goto out;
  for (size_t i = 0; i < VC_ARRAY_SIZE(inbound); i++) {
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(root, inbound[i]);
    if (m != NULL) {
      rc = report_message(s, m, sink);
      goto out;
    }
  }
  /* edits, callback queries, member changes...: nothing to record */
  rc = 0;
out:
  cJSON_Delete(root);
  vc_buf_dispose(&text);
  return rc;
}

/* ------------------------------------------------------------------ */

const vc_adapter vc__adapter_telegram = {
  .version = VC_ADAPTER_VERSION,
  .name = "telegram",
  .kind = VC_CHANNEL_CHAT,
  /* no delivery receipts exist in the Bot API */
  .capabilities = VC_CAP_INBOUND | VC_CAP_MEDIA | VC_CAP_SIGNED_WEBHOOKS,
  .init = tg_init,
  .fini = tg_fini,
  .build_send = tg_build_send,
  .parse_send = tg_parse_send,
  .verify_webhook = tg_verify_webhook,
  .parse_webhook = tg_parse_webhook,
  .count_parts = tg_count_parts,
};
