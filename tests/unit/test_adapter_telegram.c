/*
 * Unit tests of the Telegram Bot API adapter (adapters/chat/telegram.c):
 * configuration and credential checks (no secret in any message), the
 * sendMessage / sendPhoto / sendDocument requests, splitting long texts
 * at paragraph, line and word boundaries and never inside a UTF-8
 * sequence, the "refuse" setting, every outcome class of the answer,
 * the secret-token check of webhooks and the Update objects.
 *
 * Telegram's webhook authenticity is string equality (providers.md 11.5,
 * no vectors): the cases below are the token itself, others of the same
 * length, prefixes and extensions of it, and its absence.
 */
#include "core/common.h"
#include "core/buf.h"
#include "core/text.h"
#include "net/http_out.h"
#include "net/sink.h"
#include "adapters/builtin.h"
#include "adapters/chat/telegram.h"

#include <cJSON.h>

#include "harness.h"

#define TG (&vc__adapter_telegram)

#define BOT_TOKEN "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
#define SECRET "wh_Secret-0123456789abcdef"
#define CREDS "{\"bot_token\": \"" BOT_TOKEN "\", \"webhook_secret\": \"" \
  SECRET "\"}"
#define API "https://api.telegram.org/bot" BOT_TOKEN "/"

/* ------------------------------------------------------------------ */
/* Helpers                                                             */

static void *state_new(const char *config, const char *creds)
{
  void *st = NULL;
  int rc = TG->init(&st, config, creds);

  if (rc != 0)
    fprintf(stderr, "  init: %d %s\n", rc, vc_error_last()->message);
  CHECK(rc == 0 && st != NULL);
  return st;
}

/* The last error is one line and quotes neither the token nor the
 * secret. */
static void check_clean_error(void)
{
  const char *m = vc_error_last()->message;

  for (const char *p = m; *p; p++)
    CHECK((unsigned char)*p >= 0x20 && *p != 0x7f);
  CHECK(strstr(m, "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw") == NULL);
  CHECK(strstr(m, SECRET) == NULL);
}

static vc_outbound outbound(const char *to, const char *text)
{
  vc_outbound m;

  memset(&m, 0, sizeof(m));
  m.version = VC_OUTBOUND_VERSION;
  m.kind = VC_CHANNEL_CHAT;
  m.message_id = "01J9ZK3M2V7Q8R4T6W0X1Y2Z3A";
  m.tenant_id = "01J9ZK0000000000000000TEN1";
  m.to = to;
  m.text = text;
  m.now_ms = INT64_C(1700000000000);
  return m;
}

/* Build part `part` of m; the body parsed as JSON (caller frees). */
static cJSON *build(void *st, vc_outbound *m, unsigned part, vc_http_out *req)
{
  cJSON *j;

  m->part = part;
  vc__http_out_init(req);
  CHECK_OK(TG->build_send(st, m, req));
  CHECK_STR(req->method, "POST");
  CHECK_STR(vc__http_out_header(req, "Content-Type"), "application/json");
  CHECK(req->body.ptr != NULL);
  j = cJSON_Parse(req->body.ptr);
  CHECK(j != NULL);
  return j;
}

static const char *jstr(const cJSON *o, const char *k)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

  return cJSON_IsString(v) ? v->valuestring : NULL;
}

static char *repeat(const char *unit, size_t n)
{
  size_t len = strlen(unit);
  char *s = malloc(len * n + 1);

  CHECK(s != NULL);
  for (size_t i = 0; i < n; i++)
    memcpy(s + i * len, unit, len);
  s[len * n] = '\0';
  return s;
}

static size_t chars(const char *s, size_t n)
{
  size_t k = 0;

  for (size_t i = 0; i < n; i++)
    k += ((unsigned char)s[i] & 0xc0) != 0x80;
  return k;
}

/* A response with a body and optional header. */
typedef struct answer {
  vc_http_response res;
  vc_http_header h[1];
} answer;

static vc_send_result parse(void *st, int status, const char *body,
                            const char *hname, const char *hvalue)
{
  answer a;
  vc_send_result r;
  vc_outbound m = outbound("42", "hi");

  memset(&a, 0, sizeof(a));
  a.res.version = VC_HTTP_RESPONSE_VERSION;
  a.res.status = status;
  a.res.body.ptr = (char *)body;
  a.res.body.size = body ? strlen(body) : 0;
  if (hname != NULL) {
    a.h[0].name = hname;
    a.h[0].value = hvalue;
    a.res.headers = a.h;
    a.res.nheaders = 1;
  }
  memset(&r, 0, sizeof(r));
  r.version = VC_SEND_RESULT_VERSION;
  CHECK_OK(TG->parse_send(st, &m, &a.res, &r));
  return r;
}

/* What a sink received. */
typedef struct seen {
  int nstatus, ninbound, nonce;
  char from[64], to[64], text[256], id[64], media[4][300];
  int has_text;
  size_t nmedia;
  int64_t at;
  char keys[8][64];
  size_t nkeys;
} seen;

static int on_status(void *p, const vc_status_update *u)
{
  (void)u;
  ((seen *)p)->nstatus++;
  return 0;
}

static int on_inbound(void *p, const vc_inbound *m)
{
  seen *s = p;

  s->ninbound++;
  snprintf(s->from, sizeof(s->from), "%s", m->from);
  snprintf(s->to, sizeof(s->to), "%s", m->to ? m->to : "");
  s->has_text = m->text != NULL;
  snprintf(s->text, sizeof(s->text), "%s", m->text ? m->text : "");
  snprintf(s->id, sizeof(s->id), "%s", m->provider_id);
  s->nmedia = m->nmedia;
  for (size_t i = 0; i < m->nmedia && i < 4; i++)
    snprintf(s->media[i], sizeof(s->media[i]), "%s", m->media_urls[i]);
  s->at = m->occurred_at;
  return 0;
}

/* Single-use values, remembered as the core does. */
static int on_once(void *p, const char *key)
{
  seen *s = p;

  for (size_t i = 0; i < s->nkeys; i++)
    if (strcmp(s->keys[i], key) == 0)
      return VC_EEXISTS;
  if (s->nkeys < 8)
    snprintf(s->keys[s->nkeys++], sizeof(s->keys[0]), "%s", key);
  s->nonce++;
  return 0;
}

typedef struct hook {
  vc_http_header h[2];
  vc_http_request req;
} hook;

static void hook_set(hook *k, const char *method, const char *ctype,
                     const char *body, const char *secret)
{
  size_t n = 0;

  memset(k, 0, sizeof(*k));
  if (secret != NULL) {
    k->h[n].name = "X-Telegram-Bot-Api-Secret-Token";
    k->h[n++].value = secret;
  }
  if (ctype != NULL) {
    k->h[n].name = "Content-Type";
    k->h[n++].value = ctype;
  }
  k->req.version = VC_HTTP_REQUEST_VERSION;
  k->req.method = method;
  k->req.target = "/webhooks/01J9ZK3M2V7Q8R4T6W0X1Y2Z3B";
  k->req.headers = k->h;
  k->req.nheaders = n;
  k->req.body = (const uint8_t *)body;
  k->req.body_len = body ? strlen(body) : 0;
}

/* Parse an update; the sink keeps its single-use values in `s` across
 * calls when `keep` is set. */
static int parse_update(void *st, seen *s, const char *body, int keep)
{
  vc_event_sink sink;
  hook k;
  int rc;

  if (!keep)
    memset(s, 0, sizeof(*s));
  else
    s->ninbound = s->nstatus = 0;
  vc__sink_init(&sink, on_status, on_inbound, s);
  vc__sink_set_once(&sink, on_once);
  hook_set(&k, "POST", "application/json", body, SECRET);
  rc = TG->parse_webhook(st, &k.req, &sink);
  CHECK(sink.reply_status == 0 || sink.reply_status == 200);
  vc__sink_fini(&sink);
  return rc;
}

/* ------------------------------------------------------------------ */
/* The vtable and init                                                 */

static void test_telegram__vtable(void)
{
  CHECK(TG->version == VC_ADAPTER_VERSION);
  CHECK_STR(TG->name, "telegram");
  CHECK(TG->kind == VC_CHANNEL_CHAT);
  /* no delivery receipts: messages end at `sent` */
  CHECK(TG->capabilities ==
        (VC_CAP_INBOUND | VC_CAP_MEDIA | VC_CAP_SIGNED_WEBHOOKS));
  CHECK(TG->init && TG->fini && TG->build_send && TG->parse_send);
  CHECK(TG->verify_webhook && TG->parse_webhook && TG->count_parts);
  TG->fini(NULL);
}

static void test_telegram__init_ok(void)
{
  static const struct { const char *config, *creds; } ok[] = {
    { NULL, "{\"bot_token\": \"" BOT_TOKEN "\"}" },
    { "{}", CREDS },
    { "{\"base_url\": \"http://127.0.0.1:8081/\", \"parse_mode\": "
      "\"MarkdownV2\", \"long_text\": \"refuse\"}", CREDS },
    { "{\"parse_mode\": \"HTML\", \"long_text\": \"split\"}", CREDS },
    { "{\"base_url\": \"https://tg.example.com/proxy\"}",
      "{\"bot_token\": \"1:abcdefghijklmnopqrstuvwxyz0123\", "
      "\"webhook_secret\": \"x\"}" },
  };

  for (size_t i = 0; i < VC_ARRAY_SIZE(ok); i++)
    TG->fini(state_new(ok[i].config, ok[i].creds));
}

static void test_telegram__init_bad(void)
{
  static const struct {
    const char *config, *creds, *says;
  } bad[] = {
    { "{\"parse_mode\": \"RTF\"}", CREDS, "config 'parse_mode' must be" },
    { "{\"parse_mode\": 1}", CREDS, "config 'parse_mode' must be a string" },
    { "{\"long_text\": \"truncate\"}", CREDS, "config 'long_text' must be" },
    { "{\"base_url\": \"http://api.telegram.org\"}", CREDS,
      "http:// only for a loopback host" },
    { "{\"base_url\": \"ftp://api.telegram.org\"}", CREDS,
      "must start with https://" },
    { "{\"base_url\": \"https://u:p@api.telegram.org\"}", CREDS,
      "no user, query or fragment" },
    { "{\"parsemode\": \"HTML\"}", CREDS, "unknown config key 'parsemode'" },
    { "{\"long_text\": \"split\", \"long_text\": \"split\"}", CREDS,
      "appears twice" },
    { "[]", CREDS, "config is not a JSON object" },
    { NULL, NULL, "credential 'bot_token' is required" },
    { NULL, "{\"bot_token\": 5}", "credential 'bot_token' must be a string" },
    { NULL, "{\"bot_token\": \"AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw\"}",
      "credential 'bot_token' must be the bot's id" },
    { NULL, "{\"bot_token\": \"123456789:AAHdq\"}",
      "credential 'bot_token' must be the bot's id" },
    { NULL, "{\"bot_token\": \"123456789:AAHdqTcvCH1vGWJxf/eofSAs0K5PALDsaw\"}",
      "credential 'bot_token' must be the bot's id" },
    { NULL, "{\"bot_token\": \"123456789;AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw\"}",
      "credential 'bot_token' must be the bot's id" },
    { NULL, "{\"bot_token\": \"" BOT_TOKEN "\", \"webhook_secret\": \"a b\"}",
      "credential 'webhook_secret' must be 1 to 256" },
    { NULL, "{\"bot_token\": \"" BOT_TOKEN "\", \"webhook_secret\": \"\"}",
      "credential 'webhook_secret' must be 1 to 256" },
    { NULL, "{\"bot_token\": \"" BOT_TOKEN "\", \"" SECRET "\": 1}",
      "unknown credential" },
    { NULL, "{\"bot_token\": \"" BOT_TOKEN "\", \"bot_token\": \"" BOT_TOKEN
      "\"}", "appears twice" },
  };

  for (size_t i = 0; i < VC_ARRAY_SIZE(bad); i++) {
    void *st = (void *)&st;
    int rc = TG->init(&st, bad[i].config, bad[i].creds);

    if (rc != VC_EINVALID ||
        strstr(vc_error_last()->message, bad[i].says) == NULL)
      fprintf(stderr, "  case %zu: %d \"%s\"\n", i, rc,
              vc_error_last()->message);
    CHECK(rc == VC_EINVALID);
    CHECK(st == NULL);
    CHECK(strstr(vc_error_last()->message, bad[i].says) != NULL);
    check_clean_error();
  }
  /* a secret of 257 characters */
  {
    char creds[512];
    char *big = repeat("s", 257);
    void *st = NULL;

    snprintf(creds, sizeof(creds), "{\"bot_token\": \"%s\", "
             "\"webhook_secret\": \"%s\"}", BOT_TOKEN, big);
    CHECK_RC(TG->init(&st, NULL, creds), VC_EINVALID);
    CHECK(st == NULL);
    big[256] = '\0';
    snprintf(creds, sizeof(creds), "{\"bot_token\": \"%s\", "
             "\"webhook_secret\": \"%s\"}", BOT_TOKEN, big);
    TG->fini(state_new(NULL, creds));
    free(big);
  }
}

/* ------------------------------------------------------------------ */
/* build_send                                                          */

static void test_telegram__send_message(void)
{
  void *st = state_new(NULL, CREDS), *md;
  vc_outbound m = outbound("-1001234567890", "Hello <b>you</b>");
  vc_http_out req;
  cJSON *j;

  CHECK(TG->count_parts(st, &m) == 1);
  j = build(st, &m, 0, &req);
  CHECK_STR(req.url, API "sendMessage");
  /* chat ids go as strings: a double cannot hold every 64-bit id */
  CHECK_STR(jstr(j, "chat_id"), "-1001234567890");
  CHECK_STR(jstr(j, "text"), "Hello <b>you</b>");
  CHECK(cJSON_GetObjectItemCaseSensitive(j, "parse_mode") == NULL);
  CHECK(cJSON_GetArraySize(j) == 2);
  cJSON_Delete(j);
  vc__http_out_reset(&req);
  /* parse_mode only when configured; @channel usernames */
  md = state_new("{\"parse_mode\": \"HTML\"}", CREDS);
  m.to = "@vc_news_channel";
  j = build(md, &m, 0, &req);
  CHECK_STR(jstr(j, "chat_id"), "@vc_news_channel");
  CHECK_STR(jstr(j, "parse_mode"), "HTML");
  cJSON_Delete(j);
  vc__http_out_reset(&req);
  /* nothing in the request's headers but the content type */
  CHECK(req.nheaders == 0);
  TG->fini(md);
  TG->fini(st);
}

static void test_telegram__bad_messages(void)
{
  void *st = state_new(NULL, CREDS);
  vc_attachment bytes = { 0 }, ftp = { 0 }, none = { 0 };
  vc_outbound m;
  vc_http_out req;

  static const char *const bad_to[] = { "alice", "+14155550100", "0", "",
                                        "@abc", "12a" };
  for (size_t i = 0; i < VC_ARRAY_SIZE(bad_to); i++) {
    m = outbound(bad_to[i], "hi");
    CHECK_RC(TG->count_parts(st, &m), VC_EINVALID);
    CHECK(strncmp(vc_error_last()->message, "recipient", 9) == 0);
    vc__http_out_init(&req);
    CHECK_RC(TG->build_send(st, &m, &req), VC_EINVALID);
    CHECK(req.url == NULL);
    vc__http_out_reset(&req);
  }
  m = outbound("42", NULL);
  CHECK_RC(TG->count_parts(st, &m), VC_EINVALID);
  CHECK(strstr(vc_error_last()->message, "needs a text or an attachment")
        != NULL);
  m = outbound("42", " \n\t ");
  CHECK_RC(TG->count_parts(st, &m), VC_EINVALID);
  CHECK(strstr(vc_error_last()->message, "only whitespace") != NULL);
  m = outbound("42", "bad \xff utf-8");
  CHECK(TG->count_parts(st, &m) < 0);
  /* bytes past Telegram's 50 MB upload limit (never read) */
  bytes.filename = "a.bin";
  bytes.data = (const uint8_t *)"BIN";
  bytes.len = 50000001;
  m = outbound("42", "hi");
  m.attachments = &bytes;
  m.nattachments = 1;
  CHECK_RC(TG->count_parts(st, &m), VC_ETOOBIG);
  CHECK(strstr(vc_error_last()->message, "50 MB") != NULL);
  bytes.len = 3;
  bytes.filename = "bad\xffname";
  CHECK_RC(TG->count_parts(st, &m), VC_EENCODING);
  ftp.url = "ftp://example.com/a.png";
  m.attachments = &ftp;
  CHECK_RC(TG->count_parts(st, &m), VC_EINVALID);
  m.attachments = &none;
  CHECK_RC(TG->count_parts(st, &m), VC_EINVALID);
  /* a part past the end */
  m = outbound("42", "hi");
  m.part = 1;
  vc__http_out_init(&req);
  CHECK_RC(TG->build_send(st, &m, &req), VC_EINVALID);
  vc__http_out_reset(&req);
  TG->fini(st);
}

/* ------------------------------------------------------------------ */
/* Splitting                                                           */

/* Parts of `text` at `limit`, as "part|part|...". */
static void split_str(char *out, size_t cap, const char *text, size_t limit)
{
  size_t start[64], end[64], n, o = 0;

  n = vc__telegram_split(text, strlen(text), limit, start, end, 64);
  out[0] = '\0';
  for (size_t i = 0; i < n && i < 64; i++)
    o += (size_t)snprintf(out + o, cap - o, "%s%.*s", i ? "|" : "",
                          (int)(end[i] - start[i]), text + start[i]);
}

static void test_telegram__split_boundaries(void)
{
  char out[512];

  /* fits */
  split_str(out, sizeof(out), "short text", 10);
  CHECK_STR(out, "short text");
  /* a space in the second half */
  split_str(out, sizeof(out), "aaaa bbbb cccc", 10);
  CHECK_STR(out, "aaaa bbbb|cccc");
  /* a line break beats a later space */
  split_str(out, sizeof(out), "aaaaaa\nbb cc dddd", 12);
  CHECK_STR(out, "aaaaaa|bb cc dddd");
  /* a blank line beats a later line break and space */
  split_str(out, sizeof(out), "one two\n\nthree\nfour", 14);
  CHECK_STR(out, "one two|three\nfour");
  /* ... unless it is in the first half */
  split_str(out, sizeof(out), "one two\n\nthree\nfour five", 16);
  CHECK_STR(out, "one two\n\nthree|four five");
  /* CRLF paragraphs; the CRs go with the cut */
  split_str(out, sizeof(out), "one two\r\n\r\nthree four", 14);
  CHECK_STR(out, "one two|three four");
  /* a boundary in the first half is not taken: the part would be short */
  split_str(out, sizeof(out), "a bcdefghijklmnop", 8);
  CHECK_STR(out, "a bcdefg|hijklmno|p");
  /* no boundary: a hard cut after `limit` characters */
  split_str(out, sizeof(out), "abcdefghij", 4);
  CHECK_STR(out, "abcd|efgh|ij");
  /* whitespace at the ends and around cuts is dropped */
  split_str(out, sizeof(out), "  \n aaaa   \n\n\n  bbbb  \n", 8);
  CHECK_STR(out, "aaaa|bbbb");
  /* blank */
  CHECK(vc__telegram_split(" \r\n\t", 4, 10, NULL, NULL, 0) == 0);
  CHECK(vc__telegram_split("", 0, 10, NULL, NULL, 0) == 0);
}

static void test_telegram__split_multibyte(void)
{
  /* é is 2 bytes, € 3, 😀 4: cuts fall between characters, and the
   * limit counts characters, not bytes */
  const char *text = "\xc3\xa9\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"
                     "\xf0\x9f\x98\x80\xc3\xa9\xe2\x82\xac";
  size_t start[8], end[8], n;
  char out[128];

  n = vc__telegram_split(text, strlen(text), 3, start, end, 8);
  CHECK(n == 3);
  split_str(out, sizeof(out), text, 3);
  CHECK_STR(out, "\xc3\xa9\xc3\xa9\xe2\x82\xac|\xf0\x9f\x98\x80\xf0\x9f\x98"
            "\x80\xc3\xa9|\xe2\x82\xac");
  for (size_t i = 0; i < n; i++)
    CHECK(vc__utf8_valid(text + start[i], end[i] - start[i]));
  /* 4,096 emoji fit in one message: Telegram counts characters */
  {
    char *e = repeat("\xf0\x9f\x98\x80", 4096);
    CHECK(vc__telegram_split(e, strlen(e), VC__TELEGRAM_TEXT_MAX, NULL, NULL,
                             0) == 1);
    free(e);
    e = repeat("\xf0\x9f\x98\x80", 4097);
    CHECK(vc__telegram_split(e, strlen(e), VC__TELEGRAM_TEXT_MAX, start, end,
                             8) == 2);
    CHECK(end[0] - start[0] == 4 * 4096);
    free(e);
  }
}

/* Invariants over many generated texts: parts are non-empty, valid
 * UTF-8, within the limit, in order, and together hold every
 * non-whitespace byte of the text in the same order. */
static void test_telegram__split_properties(void)
{
  static const char *const atoms[] = {
    "a", "word", " ", "  ", "\n", "\n\n", "\r\n", "\t", "\xc3\xa9",
    "\xe2\x82\xac", "\xf0\x9f\x98\x80", "longerwordwithoutspaces", ".",
  };
  uint32_t seed = 12345;
  static char text[2048], joined[2048], plain[2048];
  static size_t start[2048], end[2048];

  for (int round = 0; round < 400; round++) {
    size_t len = 0, n, limit, jn = 0, pn = 0, prev = 0;

    while (len < 1500) {
      const char *a;
      seed = seed * 1103515245u + 12345u;
      a = atoms[(seed >> 16) % VC_ARRAY_SIZE(atoms)];
      memcpy(text + len, a, strlen(a));
      len += strlen(a);
    }
    text[len] = '\0';
    seed = seed * 1103515245u + 12345u;
    limit = 1 + (seed >> 16) % 300;
    n = vc__telegram_split(text, len, limit, start, end, 2048);
    CHECK(n <= 2048);
    for (size_t i = 0; i < n; i++) {
      CHECK(start[i] >= prev && end[i] > start[i] && end[i] <= len);
      CHECK(vc__utf8_valid(text + start[i], end[i] - start[i]));
      CHECK(chars(text + start[i], end[i] - start[i]) <= limit);
      CHECK(text[start[i]] != ' ' && text[start[i]] != '\n');
      CHECK(text[end[i] - 1] != ' ' && text[end[i] - 1] != '\n');
      for (size_t k = start[i]; k < end[i]; k++)
        if (!strchr(" \t\r\n", text[k]))
          joined[jn++] = text[k];
      prev = end[i];
    }
    for (size_t k = 0; k < len; k++)
      if (!strchr(" \t\r\n", text[k]))
        plain[pn++] = text[k];
    CHECK(jn == pn && memcmp(joined, plain, pn) == 0);
  }
}

static void test_telegram__long_text_split(void)
{
  void *st = state_new(NULL, CREDS);
  char *para = repeat("lorem ipsum ", 250);   /* 3000 characters */
  char *text = malloc(3 * 3002 + 1);
  vc_outbound m;
  vc_http_out req;
  cJSON *j;

  /* three paragraphs of 3,000 characters: 9,004 in all */
  CHECK(text != NULL);
  sprintf(text, "%s\n\n%s\n\n%s", para, para, para);
  m = outbound("42", text);
  CHECK(TG->count_parts(st, &m) == 3);
  for (unsigned p = 0; p < 3; p++) {
    j = build(st, &m, p, &req);
    CHECK_STR(req.url, API "sendMessage");
    /* each part is one paragraph, its trailing space trimmed */
    CHECK(strlen(jstr(j, "text")) == 2999);
    CHECK(strncmp(jstr(j, "text"), "lorem ipsum lorem", 17) == 0);
    cJSON_Delete(j);
    vc__http_out_reset(&req);
  }
  /* exactly 4,096 characters: one message; one more: two */
  free(text);
  text = repeat("\xc3\xa9", 4096);
  m = outbound("42", text);
  CHECK(TG->count_parts(st, &m) == 1);
  free(text);
  text = repeat("\xc3\xa9", 4097);
  m = outbound("42", text);
  CHECK(TG->count_parts(st, &m) == 2);
  j = build(st, &m, 1, &req);
  CHECK_STR(jstr(j, "text"), "\xc3\xa9");
  cJSON_Delete(j);
  vc__http_out_reset(&req);
  free(text);
  /* more than 32 messages is refused */
  text = repeat("x", 4096 * 32 + 1);
  m = outbound("42", text);
  CHECK_RC(TG->count_parts(st, &m), VC_ETOOBIG);
  free(text);
  free(para);
  TG->fini(st);
}

static void test_telegram__long_text_refused(void)
{
  void *st = state_new("{\"long_text\": \"refuse\"}", CREDS);
  char *text = repeat("a", 4097);
  vc_outbound m = outbound("42", text);
  vc_http_out req;

  CHECK_RC(TG->count_parts(st, &m), VC_ETOOBIG);
  CHECK_STR(vc_error_last()->message, "text is 4097 characters, over "
            "Telegram's 4096 (the channel's long_text is \"refuse\")");
  vc__http_out_init(&req);
  CHECK_RC(TG->build_send(st, &m, &req), VC_ETOOBIG);
  vc__http_out_reset(&req);
  text[4096] = '\0';
  CHECK(TG->count_parts(st, &m) == 1);
  free(text);
  TG->fini(st);
}

static void test_telegram__attachments(void)
{
  void *st = state_new(NULL, CREDS);
  vc_attachment a[3];
  vc_outbound m = outbound("42", "see these");
  vc_http_out req;
  cJSON *j;

  memset(a, 0, sizeof(a));
  a[0].url = "https://example.com/p.jpg";
  a[0].content_type = "image/jpeg";
  a[1].url = "https://example.com/r.pdf";
  a[1].content_type = "application/pdf";
  a[1].filename = "r.pdf";
  a[2].url = "https://example.com/x.gif";
  a[2].content_type = "image/gif";
  m.attachments = a;
  m.nattachments = 3;
  CHECK(TG->count_parts(st, &m) == 4);
  j = build(st, &m, 0, &req);
  CHECK_STR(req.url, API "sendMessage");
  cJSON_Delete(j);
  vc__http_out_reset(&req);
  j = build(st, &m, 1, &req);
  CHECK_STR(req.url, API "sendPhoto");
  CHECK_STR(jstr(j, "photo"), "https://example.com/p.jpg");
  CHECK_STR(jstr(j, "chat_id"), "42");
  cJSON_Delete(j);
  vc__http_out_reset(&req);
  j = build(st, &m, 2, &req);
  CHECK_STR(req.url, API "sendDocument");
  CHECK_STR(jstr(j, "document"), "https://example.com/r.pdf");
  cJSON_Delete(j);
  vc__http_out_reset(&req);
  j = build(st, &m, 3, &req);
  CHECK_STR(req.url, API "sendDocument");
  cJSON_Delete(j);
  vc__http_out_reset(&req);
  /* media alone */
  m.text = NULL;
  m.nattachments = 1;
  CHECK(TG->count_parts(st, &m) == 1);
  j = build(st, &m, 0, &req);
  CHECK_STR(req.url, API "sendPhoto");
  cJSON_Delete(j);
  vc__http_out_reset(&req);
  TG->fini(st);
}

/* Attachment bytes go up as multipart/form-data: chat_id, then the
 * file under "photo" (images up to 10 MB) or "document". */
static void test_telegram__uploads(void)
{
  static const uint8_t png[] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a,
                                 '\n', 0, 0, 0, 13 };
  void *st = state_new(NULL, CREDS);
  vc_attachment a[2];
  vc_outbound m = outbound("-100777", NULL);
  vc_http_out req;
  const char *ct, *body;
  char boundary[128], want[512];
  size_t n;

  memset(a, 0, sizeof(a));
  a[0].filename = "chart.png";
  a[0].content_type = "image/png";
  a[0].data = png;
  a[0].len = sizeof(png);
  a[1].filename = "big \"photo\".jpg";
  a[1].content_type = "image/jpeg";
  a[1].data = png;
  a[1].len = 10000001;      /* over the photo limit: a document */
  m.attachments = a;
  m.nattachments = 1;
  CHECK(TG->count_parts(st, &m) == 1);
  vc__http_out_init(&req);
  CHECK_OK(TG->build_send(st, &m, &req));
  CHECK_STR(req.url, API "sendPhoto");
  ct = vc__http_out_header(&req, "Content-Type");
  CHECK(ct != NULL && strncmp(ct, "multipart/form-data; boundary=", 30) == 0);
  snprintf(boundary, sizeof(boundary), "--%s", ct + 30);
  body = req.body.ptr;
  n = req.body.size;
  snprintf(want, sizeof(want), "%s\r\nContent-Disposition: form-data; "
           "name=\"chat_id\"\r\n\r\n-100777\r\n%s\r\n"
           "Content-Disposition: form-data; name=\"photo\"; "
           "filename=\"chart.png\"\r\nContent-Type: image/png\r\n\r\n",
           boundary, boundary);
  CHECK(n > strlen(want) && memcmp(body, want, strlen(want)) == 0);
  CHECK(memcmp(body + strlen(want), png, sizeof(png)) == 0);
  snprintf(want, sizeof(want), "\r\n%s--\r\n", boundary);
  CHECK(strcmp(body + n - strlen(want), want) == 0);
  vc__http_out_reset(&req);
  /* an image over 10 MB goes as a document, its name escaped */
  m.attachments = &a[1];
  CHECK((a[1].data = calloc(1, a[1].len)) != NULL);
  vc__http_out_init(&req);
  CHECK_OK(TG->build_send(st, &m, &req));
  CHECK_STR(req.url, API "sendDocument");
  CHECK(req.body.size > 10000001);
  {
    static const char want_doc[] = "name=\"document\"; filename=\"big "
      "%22photo%22.jpg\"\r\nContent-Type: image/jpeg\r\n";
    CHECK(memmem(req.body.ptr, 1000, want_doc, strlen(want_doc)) != NULL);
  }
  vc__http_out_reset(&req);
  free((void *)a[1].data);
  TG->fini(st);
}

/* ------------------------------------------------------------------ */
/* parse_send                                                          */

static void test_telegram__parse_send(void)
{
  void *st = state_new(NULL, CREDS);
  vc_send_result r;

  r = parse(st, 200, "{\"ok\":true,\"result\":{\"message_id\":77,\"from\":"
            "{\"id\":123456789,\"is_bot\":true},\"chat\":{\"id\":-100123456"
            "7890,\"type\":\"supergroup\"},\"date\":1700000000,\"text\":"
            "\"hi\"}}", NULL, NULL);
  CHECK(r.outcome == VC_SEND_ACCEPTED);
  CHECK_STR(r.provider_id, "-1001234567890:77");
  /* no chat in the answer: the recipient names it */
  r = parse(st, 200, "{\"ok\":true,\"result\":{\"message_id\":5}}", NULL,
            NULL);
  CHECK(r.outcome == VC_SEND_ACCEPTED);
  CHECK_STR(r.provider_id, "42:5");
  /* 2xx that proves nothing */
  r = parse(st, 200, "{\"ok\":true,\"result\":true}", NULL, NULL);
  CHECK(r.outcome == VC_SEND_RETRY && r.error == VC_EPROVIDER);
  r = parse(st, 200, "<html>", NULL, NULL);
  CHECK(r.outcome == VC_SEND_RETRY);
  r = parse(st, 200, "{\"ok\":false}", NULL, NULL);
  CHECK(r.outcome == VC_SEND_RETRY);
  /* 429: retry after parameters.retry_after */
  r = parse(st, 429, "{\"ok\":false,\"error_code\":429,\"description\":"
            "\"Too Many Requests: retry after 35\",\"parameters\":{"
            "\"retry_after\":35}}", NULL, NULL);
  CHECK(r.outcome == VC_SEND_RETRY && r.error == VC_ERATELIMIT);
  CHECK(r.retry_after_ms == 35000);
  CHECK_STR(r.provider_code, "429");
  CHECK_STR(r.error_message, "Too Many Requests: retry after 35");
  /* or a Retry-After header */
  r = parse(st, 429, "{\"ok\":false,\"error_code\":429}", "Retry-After",
            "3");
  CHECK(r.outcome == VC_SEND_RETRY && r.retry_after_ms == 3000);
  /* 400: this message or chat */
  r = parse(st, 400, "{\"ok\":false,\"error_code\":400,\"description\":"
            "\"Bad Request: chat not found\"}", NULL, NULL);
  CHECK(r.outcome == VC_SEND_REJECTED && r.error == VC_EPROVIDER);
  CHECK_STR(r.provider_code, "400");
  CHECK_STR(r.error_message, "Bad Request: chat not found");
  /* a group that became a supergroup: the new id is in the text */
  r = parse(st, 400, "{\"ok\":false,\"error_code\":400,\"description\":"
            "\"Bad Request: group chat was upgraded to a supergroup chat\","
            "\"parameters\":{\"migrate_to_chat_id\":-1001234567890}}", NULL,
            NULL);
  CHECK(r.outcome == VC_SEND_REJECTED);
  CHECK_STR(r.error_message, "Bad Request: group chat was upgraded to a "
            "supergroup chat (the chat is now -1001234567890)");
  /* 403: the user blocked the bot */
  r = parse(st, 403, "{\"ok\":false,\"error_code\":403,\"description\":"
            "\"Forbidden: bot was blocked by the user\"}", NULL, NULL);
  CHECK(r.outcome == VC_SEND_REJECTED);
  /* 401 and 404: a bad token; another channel may do */
  r = parse(st, 401, "{\"ok\":false,\"error_code\":401,\"description\":"
            "\"Unauthorized\"}", NULL, NULL);
  CHECK(r.outcome == VC_SEND_FAILOVER && r.error == VC_EAUTH);
  r = parse(st, 404, "{\"ok\":false,\"error_code\":404,\"description\":"
            "\"Not Found\"}", NULL, NULL);
  CHECK(r.outcome == VC_SEND_FAILOVER && r.error == VC_EAUTH);
  /* 5xx and unreadable answers: retry */
  r = parse(st, 500, "{\"ok\":false,\"error_code\":500,\"description\":"
            "\"Internal Server Error\"}", NULL, NULL);
  CHECK(r.outcome == VC_SEND_RETRY && r.error == VC_EPROVIDER);
  r = parse(st, 502, "<html><body>Bad Gateway</body></html>", NULL, NULL);
  CHECK(r.outcome == VC_SEND_RETRY);
  CHECK_STR(r.error_message, "HTTP 502 from Telegram");
  r = parse(st, 413, "<html>", NULL, NULL);
  CHECK(r.outcome == VC_SEND_REJECTED && r.error == VC_ETOOBIG);
  /* controls in a description become spaces */
  r = parse(st, 400, "{\"ok\":false,\"description\":\"a\\nb\\u0000c\"}",
            NULL, NULL);
  CHECK_STR(r.error_message, "a b");
  TG->fini(st);
}

/* ------------------------------------------------------------------ */
/* Webhooks                                                            */

static void test_telegram__verify(void)
{
  void *st = state_new(NULL, CREDS), *none;
  static const char *const wrong[] = {
    "wh_Secret-0123456789abcdeF", "wh_Secret-0123456789abcde",
    "wh_Secret-0123456789abcdef0", "", " wh_Secret-0123456789abcdef",
    "WH_SECRET-0123456789ABCDEF",
  };
  hook k;

  hook_set(&k, "POST", "application/json", "{}", SECRET);
  CHECK_OK(TG->verify_webhook(st, &k.req, NULL));
  for (size_t i = 0; i < VC_ARRAY_SIZE(wrong); i++) {
    hook_set(&k, "POST", "application/json", "{}", wrong[i]);
    CHECK_RC(TG->verify_webhook(st, &k.req, NULL), VC_EAUTH);
    check_clean_error();
  }
  hook_set(&k, "POST", "application/json", "{}", NULL);
  CHECK_RC(TG->verify_webhook(st, &k.req, NULL), VC_EAUTH);
  CHECK(strstr(vc_error_last()->message, "missing") != NULL);
  /* no secret configured: nothing verifies */
  none = state_new(NULL, "{\"bot_token\": \"" BOT_TOKEN "\"}");
  hook_set(&k, "POST", "application/json", "{}", SECRET);
  CHECK_RC(TG->verify_webhook(none, &k.req, NULL), VC_EAUTH);
  CHECK(strstr(vc_error_last()->message, "webhook_secret") != NULL);
  check_clean_error();
  TG->fini(none);
  TG->fini(st);
}

static void test_telegram__inbound_text(void)
{
  void *st = state_new(NULL, CREDS);
  seen s;

  CHECK_OK(parse_update(st, &s, "{\"update_id\":700000001,\"message\":{"
           "\"message_id\":12,\"from\":{\"id\":555000111,\"is_bot\":false,"
           "\"first_name\":\"Ana\"},\"chat\":{\"id\":555000111,\"type\":"
           "\"private\"},\"date\":1700000123,\"text\":\"Ol\\u00e1! \\ud83d"
           "\\ude00\"}}", 0));
  CHECK(s.ninbound == 1 && s.nstatus == 0);
  CHECK_STR(s.from, "555000111");
  CHECK_STR(s.to, "123456789");       /* the bot's id, from its token */
  CHECK_STR(s.id, "555000111:12");
  CHECK_STR(s.text, "Ol\xc3\xa1! \xf0\x9f\x98\x80");
  CHECK(s.at == INT64_C(1700000123000));
  CHECK(s.nmedia == 0);
  CHECK(s.nkeys == 1);
  CHECK_STR(s.keys[0], "update:700000001");
  /* Telegram sends an unanswered update again: applied once */
  CHECK_OK(parse_update(st, &s, "{\"update_id\":700000001,\"message\":{"
           "\"message_id\":12,\"chat\":{\"id\":555000111},\"date\":1,"
           "\"text\":\"x\"}}", 1));
  CHECK(s.ninbound == 0);
  TG->fini(st);
}

static void test_telegram__inbound_media_and_others(void)
{
  void *st = state_new(NULL, CREDS);
  seen s;

  /* a photo: the largest size, and its caption as the text */
  CHECK_OK(parse_update(st, &s, "{\"update_id\":2,\"message\":{"
           "\"message_id\":3,\"chat\":{\"id\":-1001234567890,\"type\":"
           "\"supergroup\"},\"date\":1700000000,\"caption\":\"look\","
           "\"photo\":[{\"file_id\":\"AgACsmall\",\"width\":90},{\"file_id\":"
           "\"AgACbig_-1\",\"width\":800}]}}", 0));
  CHECK(s.ninbound == 1);
  CHECK_STR(s.from, "-1001234567890");
  CHECK_STR(s.text, "look");
  CHECK(s.nmedia == 1);
  CHECK_STR(s.media[0], "telegram-file:AgACbig_-1");
  /* a document without text */
  CHECK_OK(parse_update(st, &s, "{\"update_id\":3,\"channel_post\":{"
           "\"message_id\":4,\"chat\":{\"id\":-100777,\"type\":\"channel\"},"
           "\"date\":1700000000,\"document\":{\"file_id\":\"BQACdoc\"}}}", 0));
  CHECK(s.ninbound == 1 && !s.has_text);
  CHECK_STR(s.media[0], "telegram-file:BQACdoc");
  /* updates that are not new messages change nothing */
  CHECK_OK(parse_update(st, &s, "{\"update_id\":4,\"edited_message\":{"
           "\"message_id\":3,\"chat\":{\"id\":1},\"date\":1,\"text\":\"x\"}}",
           0));
  CHECK(s.ninbound == 0 && s.nstatus == 0);
  CHECK_OK(parse_update(st, &s, "{\"update_id\":5,\"callback_query\":{"
           "\"id\":\"1\"}}", 0));
  CHECK(s.ninbound == 0);
  TG->fini(st);
}

static void test_telegram__inbound_malformed(void)
{
  static const char *const bad[] = {
    "", "[]", "{}", "not json", "{\"update_id\":\"1\"}",
    "{\"update_id\":-1}", "{\"update_id\":1.5}",
    "{\"update_id\":1,\"message\":5}",
    "{\"update_id\":1,\"message\":{\"chat\":{\"id\":1},\"text\":\"x\"}}",
    "{\"update_id\":1,\"message\":{\"message_id\":1,\"text\":\"x\"}}",
    "{\"update_id\":1,\"message\":{\"message_id\":1,\"chat\":{\"id\":0}}}",
    "{\"update_id\":1,\"message\":{\"message_id\":1,\"chat\":{\"id\":1},"
    "\"text\":7}}",
    "{\"update_id\":1,\"message\":{\"message_id\":1,\"chat\":{\"id\":1},"
    "\"date\":\"x\"}}",
    "{\"update_id\":1,\"message\":{\"message_id\":1,\"chat\":{\"id\":1},"
    "\"photo\":[]}}",
    "{\"update_id\":1,\"message\":{\"message_id\":1,\"chat\":{\"id\":1},"
    "\"document\":{\"file_id\":\"a b\"}}}",
    "{\"update_id\":1} trailing",
  };
  void *st = state_new(NULL, CREDS);
  vc_event_sink sink;
  hook k;
  seen s;
  int rc;

  for (size_t i = 0; i < VC_ARRAY_SIZE(bad); i++) {
    rc = parse_update(st, &s, bad[i], 0);
    if (rc >= 0)
      fprintf(stderr, "  case %zu accepted\n", i);
    CHECK(rc == VC_EINVALID || rc == VC_ETOOBIG);
    CHECK(s.ninbound == 0);
  }
  /* Telegram posts JSON only */
  memset(&s, 0, sizeof(s));
  vc__sink_init(&sink, on_status, on_inbound, &s);
  hook_set(&k, "POST", "text/plain", "{\"update_id\":1}", SECRET);
  CHECK_RC(TG->parse_webhook(st, &k.req, &sink), VC_EINVALID);
  hook_set(&k, "GET", "application/json", NULL, SECRET);
  CHECK_RC(TG->parse_webhook(st, &k.req, &sink), VC_EINVALID);
  vc__sink_fini(&sink);
  TG->fini(st);
}

VC_TESTS(
  VC_TEST(test_telegram__vtable),
  VC_TEST(test_telegram__init_ok),
  VC_TEST(test_telegram__init_bad),
  VC_TEST(test_telegram__send_message),
  VC_TEST(test_telegram__bad_messages),
  VC_TEST(test_telegram__split_boundaries),
  VC_TEST(test_telegram__split_multibyte),
  VC_TEST(test_telegram__split_properties),
  VC_TEST(test_telegram__long_text_split),
  VC_TEST(test_telegram__long_text_refused),
  VC_TEST(test_telegram__attachments),
  VC_TEST(test_telegram__uploads),
  VC_TEST(test_telegram__parse_send),
  VC_TEST(test_telegram__verify),
  VC_TEST(test_telegram__inbound_text),
  VC_TEST(test_telegram__inbound_media_and_others),
  VC_TEST(test_telegram__inbound_malformed),
)
