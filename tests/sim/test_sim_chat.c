/*
 * The chat providers of the simulator, Telegram Bot API and WhatsApp
 * Cloud API, driven over loopback with plain libcurl: each rejection the
 * real APIs make (with their error bodies), successes, faults, inbound
 * controls, status webhooks (signatures recomputed here with mbedTLS)
 * and Meta's GET handshake.
 */
#define _GNU_SOURCE
#include "harness.h"
#include "sim.h"
#include "test_sim_util.h"

#define TG_TOKEN VC_SIM_TELEGRAM_BOT_TOKEN
#define TG_BOT_ID "8123456789"
#define WA_TOKEN VC_SIM_WHATSAPP_ACCESS_TOKEN
#define WA_SECRET VC_SIM_WHATSAPP_APP_SECRET
#define WA_PATH "/graph/v26.0/" VC_SIM_WHATSAPP_PHONE_NUMBER_ID "/messages"

/* ---- helpers ---------------------------------------------------------- */

static void tg_call(resp *r, vc_sim *s, const char *method, const char *json)
{
  char path[256];

  snprintf(path, sizeof(path), "/bot%s/%s", TG_TOKEN, method);
  http(r, "POST", url_of(s, path), "application/json", json, strlen(json),
       NULL);
}

/* A Telegram error: HTTP status = error_code, the description. */
static void check_tg_error(const resp *r, int code, const char *desc)
{
  cJSON *j;

  if (r->status != code)
    fprintf(stderr, "  got %ld: %s\n", r->status, r->body ? r->body : "");
  CHECK(r->cc == CURLE_OK);
  CHECK(r->status == code);
  j = json(r);
  CHECK(j != NULL);
  CHECK(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(j, "ok")));
  CHECK(jnum(j, "error_code") == code);
  if (desc != NULL)
    CHECK_STR(jstr(j, "description"), desc);
  cJSON_Delete(j);
}

static void wa_post(resp *r, vc_sim *s, const char *json)
{
  req_opts o = { NULL, { "Authorization: Bearer " WA_TOKEN }, 0 };

  http(r, "POST", url_of(s, WA_PATH), "application/json", json,
       strlen(json), &o);
}

/* A Graph error: status, code, subcode (0: none), message. */
static void check_wa_error(const resp *r, long status, int code,
                           int subcode, const char *msg)
{
  cJSON *j, *e;

  if (r->status != status)
    fprintf(stderr, "  got %ld: %s\n", r->status, r->body ? r->body : "");
  CHECK(r->status == status);
  j = json(r);
  CHECK(j != NULL);
  e = cJSON_GetObjectItemCaseSensitive(j, "error");
  CHECK(cJSON_IsObject(e));
  if (jnum(e, "code") != code)
    fprintf(stderr, "  error: %s\n", r->body);
  CHECK(jnum(e, "code") == code);
  if (subcode)
    CHECK(jnum(e, "error_subcode") == subcode);
  CHECK(jstr(e, "type") != NULL);
  CHECK(jstr(e, "fbtrace_id") != NULL && strlen(jstr(e, "fbtrace_id")) > 4);
  if (msg != NULL)
    CHECK_STR(jstr(e, "message"), msg);
  cJSON_Delete(j);
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

/* A webhook receiver and the provider's webhooks pointed at it. */
static receiver *hook_to(vc_sim *s, const char *provider,
                         const char *final_status)
{
  receiver *rv = rx_start();
  vc_sim_webhooks w = VC_SIM_WEBHOOKS_INIT;
  char url[64];

  snprintf(url, sizeof(url), "http://127.0.0.1:%u/hook", rv->port);
  w.url = url;
  w.final_status = final_status;
  CHECK_OK(vc_sim_webhooks_set(s, provider, &w));
  return rv;
}

/* X-Hub-Signature-256 as Meta computes it, recomputed here. */
static void meta_sig(char out[80], const char *secret, const char *body,
                     size_t len)
{
  unsigned char mac[32];

  CHECK(mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256),
                        (const unsigned char *)secret, strlen(secret),
                        (const unsigned char *)body, len, mac) == 0);
  strcpy(out, "sha256=");
  for (int i = 0; i < 32; i++)
    sprintf(out + 7 + 2 * i, "%02x", mac[i]);
}

/* ---- Telegram --------------------------------------------------------- */

static void test_telegram__token_and_methods(void)
{
  vc_sim *s = start();
  resp r;
  cJSON *j;

  /* not shaped like a token: the Bot API answers 404 */
  http(&r, "POST", url_of(s, "/botnot-a-token/sendMessage"),
       "application/json", "{}", 2, NULL);
  check_tg_error(&r, 404, "Not Found");
  resp_free(&r);
  /* shaped like one, but not this bot's */
  http(&r, "POST", url_of(s, "/bot8123456789:AAEsimulatorBotTokenForTests_"
                             "only-1/sendMessage"),
       "application/json", "{\"chat_id\":1,\"text\":\"x\"}", 24, NULL);
  check_tg_error(&r, 401, "Unauthorized");
  resp_free(&r);
  tg_call(&r, s, "sendSticker", "{}");
  check_tg_error(&r, 404, "Not Found: method not found");
  resp_free(&r);
  /* method names are case-insensitive */
  tg_call(&r, s, "GETME", "{}");
  CHECK(r.status == 200);
  j = json(&r);
  CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "ok")));
  CHECK(jnum(cJSON_GetObjectItemCaseSensitive(j, "result"), "id") ==
        8123456789.0);
  cJSON_Delete(j);
  resp_free(&r);
  CHECK(vc_sim_accepted_count(s, "telegram") == 0);
  vc_sim_stop(s);
}

static void test_telegram__send_ok(void)
{
  vc_sim *s = start();
  const char *form = "chat_id=-1001234567890&text=caf%C3%A9";
  char path[256];
  cJSON *j, *res, *chat;
  resp r;

  tg_call(&r, s, "sendMessage", "{\"chat_id\":123456789,\"text\":\"Hello "
          "\\u00e9\",\"parse_mode\":\"HTML\"}");
  CHECK(r.status == 200);
  CHECK(strncmp(rhdr(&r, "Content-Type"), "application/json", 16) == 0);
  j = json(&r);
  CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "ok")));
  res = cJSON_GetObjectItemCaseSensitive(j, "result");
  CHECK(jnum(res, "message_id") >= 1);
  CHECK(jnum(res, "date") > 1.6e9);
  CHECK_STR(jstr(res, "text"), "Hello \xc3\xa9");
  chat = cJSON_GetObjectItemCaseSensitive(res, "chat");
  CHECK(jnum(chat, "id") == 123456789.0);
  CHECK_STR(jstr(chat, "type"), "private");
  CHECK(jnum(cJSON_GetObjectItemCaseSensitive(res, "from"), "id") ==
        8123456789.0);
  cJSON_Delete(j);
  resp_free(&r);
  /* a form body, a supergroup */
  snprintf(path, sizeof(path), "/bot%s/sendMessage", TG_TOKEN);
  http(&r, "POST", url_of(s, path), "application/x-www-form-urlencoded",
       form, strlen(form), NULL);
  CHECK(r.status == 200);
  j = json(&r);
  chat = cJSON_GetObjectItemCaseSensitive(
    cJSON_GetObjectItemCaseSensitive(j, "result"), "chat");
  CHECK_STR(jstr(chat, "type"), "supergroup");
  cJSON_Delete(j);
  resp_free(&r);
  /* a photo and a document by URL; a channel by username */
  tg_call(&r, s, "sendPhoto", "{\"chat_id\":\"@vc_news\",\"photo\":"
          "\"https://example.com/a.jpg\",\"caption\":\"look\"}");
  CHECK(r.status == 200);
  CHECK(strstr(r.body, "\"photo\":[{\"file_id\"") != NULL);
  CHECK(strstr(r.body, "\"type\":\"channel\"") != NULL);
  resp_free(&r);
  tg_call(&r, s, "sendDocument", "{\"chat_id\":42,\"document\":"
          "\"https://example.com/a.pdf\"}");
  CHECK(r.status == 200);
  resp_free(&r);
  CHECK(vc_sim_accepted_count(s, "telegram") == 4);
  CHECK(vc_sim_sent_count(s, "123456789") == 1);
  CHECK(vc_sim_sent_count(s, "@vc_news") == 1);
  vc_sim_stop(s);
}

static void test_telegram__rejections(void)
{
  vc_sim *s = start();
  char *ok_text = repeat("\xc3\xa9", 4096), *long_text = repeat("a", 4097);
  char *long_caption = repeat("c", 1025), *body;
  resp r;

  tg_call(&r, s, "sendMessage", "{\"text\":\"hi\"}");
  check_tg_error(&r, 400, "Bad Request: chat_id is empty");
  resp_free(&r);
  tg_call(&r, s, "sendMessage", "{\"chat_id\":\"alice\",\"text\":\"hi\"}");
  check_tg_error(&r, 400, "Bad Request: chat not found");
  resp_free(&r);
  tg_call(&r, s, "sendMessage", "{\"chat_id\":42}");
  check_tg_error(&r, 400, "Bad Request: message text is empty");
  resp_free(&r);
  tg_call(&r, s, "sendMessage", "{\"chat_id\":42,\"text\":\" \\n \"}");
  check_tg_error(&r, 400, "Bad Request: message text is empty");
  resp_free(&r);
  tg_call(&r, s, "sendMessage", "{\"chat_id\":42,\"text\":\"x\","
          "\"parse_mode\":\"RTF\"}");
  check_tg_error(&r, 400, "Bad Request: unsupported parse_mode");
  resp_free(&r);
  tg_call(&r, s, "sendMessage", "{\"chat_id\":42,");
  check_tg_error(&r, 400, "Bad Request: can't parse JSON object");
  resp_free(&r);
  /* 4096 characters of two bytes each pass: characters, not bytes */
  CHECK(asprintf(&body, "{\"chat_id\":42,\"text\":\"%s\"}", ok_text) > 0);
  tg_call(&r, s, "sendMessage", body);
  CHECK(r.status == 200);
  resp_free(&r);
  free(body);
  CHECK(asprintf(&body, "{\"chat_id\":42,\"text\":\"%s\"}", long_text) > 0);
  tg_call(&r, s, "sendMessage", body);
  check_tg_error(&r, 400, "Bad Request: message is too long");
  resp_free(&r);
  free(body);
  tg_call(&r, s, "sendPhoto", "{\"chat_id\":42}");
  check_tg_error(&r, 400, "Bad Request: there is no photo in the request");
  resp_free(&r);
  tg_call(&r, s, "sendDocument", "{\"chat_id\":42}");
  check_tg_error(&r, 400,
                 "Bad Request: there is no document in the request");
  resp_free(&r);
  tg_call(&r, s, "sendDocument", "{\"chat_id\":42,\"document\":\"nope\"}");
  check_tg_error(&r, 400, NULL);
  resp_free(&r);
  CHECK(asprintf(&body, "{\"chat_id\":42,\"photo\":\"https://e.com/a.png\","
                 "\"caption\":\"%s\"}", long_caption) > 0);
  tg_call(&r, s, "sendPhoto", body);
  check_tg_error(&r, 400, "Bad Request: message caption is too long");
  resp_free(&r);
  free(body);
  /* the user blocked the bot */
  CHECK_OK(vc_sim_set(s, "telegram.blocked", "42,43"));
  tg_call(&r, s, "sendMessage", "{\"chat_id\":43,\"text\":\"hi\"}");
  check_tg_error(&r, 403, "Forbidden: bot was blocked by the user");
  resp_free(&r);
  /* only listed chats exist */
  CHECK_OK(vc_sim_set(s, "telegram.chats", "7,8"));
  tg_call(&r, s, "sendMessage", "{\"chat_id\":9,\"text\":\"hi\"}");
  check_tg_error(&r, 400, "Bad Request: chat not found");
  resp_free(&r);
  tg_call(&r, s, "sendMessage", "{\"chat_id\":8,\"text\":\"hi\"}");
  CHECK(r.status == 200);
  resp_free(&r);
  CHECK(vc_sim_accepted_count(s, "telegram") == 2);
  free(ok_text);
  free(long_text);
  free(long_caption);
  vc_sim_stop(s);
}

/* A multipart/form-data body: chat_id and one file of `size` bytes. */
static char *tg_multipart(const char *field, size_t size, size_t *len)
{
  char h[512];
  size_t hl = (size_t)snprintf(h, sizeof(h), "--XyZ\r\nContent-Disposition: "
                               "form-data; name=\"chat_id\"\r\n\r\n42\r\n"
                               "--XyZ\r\nContent-Disposition: form-data; "
                               "name=\"%s\"; filename=\"a.png\"\r\n"
                               "Content-Type: image/png\r\n\r\n", field);
  char *b = malloc(hl + size + 16);

  CHECK(b != NULL);
  memcpy(b, h, hl);
  memset(b + hl, 'P', size);
  memcpy(b + hl + size, "\r\n--XyZ--\r\n", 12);
  *len = hl + size + 12;
  return b;
}

static void test_telegram__uploads(void)
{
  vc_sim *s = start();
  char path[256], *body;
  size_t len;
  resp r;

  snprintf(path, sizeof(path), "/bot%s/sendPhoto", TG_TOKEN);
  body = tg_multipart("photo", 100, &len);
  http(&r, "POST", url_of(s, path), "multipart/form-data; boundary=XyZ",
       body, len, NULL);
  CHECK(r.status == 200);
  CHECK(strstr(r.body, "\"photo\":[{\"file_id\"") != NULL);
  resp_free(&r);
  free(body);
  /* an empty file; a file under another name; a broken body */
  body = tg_multipart("photo", 0, &len);
  http(&r, "POST", url_of(s, path), "multipart/form-data; boundary=XyZ",
       body, len, NULL);
  check_tg_error(&r, 400, "Bad Request: file must be non-empty");
  resp_free(&r);
  free(body);
  body = tg_multipart("document", 10, &len);
  http(&r, "POST", url_of(s, path), "multipart/form-data; boundary=XyZ",
       body, len, NULL);
  check_tg_error(&r, 400, "Bad Request: there is no photo in the request");
  resp_free(&r);
  http(&r, "POST", url_of(s, path), "multipart/form-data; boundary=Other",
       body, len, NULL);
  check_tg_error(&r, 400, "Bad Request: can't parse multipart form data");
  resp_free(&r);
  free(body);
  /* photos up to 10 MB */
  body = tg_multipart("photo", 10000001, &len);
  http(&r, "POST", url_of(s, path), "multipart/form-data; boundary=XyZ",
       body, len, NULL);
  check_tg_error(&r, 413, "Request Entity Too Large");
  resp_free(&r);
  free(body);
  CHECK(vc_sim_accepted_count(s, "telegram") == 1);
  vc_sim_stop(s);
}

static void test_telegram__faults(void)
{
  vc_sim *s = start();
  vc_sim_fault f = VC_SIM_FAULT_INIT;
  cJSON *j;
  resp r;

  f.kind = VC_SIM_FAULT_429;
  f.retry_after_s = 7;
  CHECK_OK(vc_sim_fault_add(s, "telegram", &f));
  tg_call(&r, s, "sendMessage", "{\"chat_id\":42,\"text\":\"hi\"}");
  check_tg_error(&r, 429, "Too Many Requests: retry after 7");
  j = json(&r);
  CHECK(jnum(cJSON_GetObjectItemCaseSensitive(j, "parameters"),
             "retry_after") == 7);
  cJSON_Delete(j);
  resp_free(&r);
  f.kind = VC_SIM_FAULT_5XX;
  f.status = 502;
  CHECK_OK(vc_sim_fault_add(s, "telegram", &f));
  tg_call(&r, s, "sendMessage", "{\"chat_id\":42,\"text\":\"hi\"}");
  check_tg_error(&r, 502, "Bad Gateway");
  resp_free(&r);
  CHECK(vc_sim_accepted_count(s, "telegram") == 0);
  vc_sim_stop(s);
}

static void test_telegram__inbound(void)
{
  vc_sim *s = start();
  receiver *rv;
  const rx_req *q;
  cJSON *j, *m;
  long long u1, u2;
  resp r;

  CHECK(vc_sim_telegram_inbound(s, 42, "hi") == -ENOTCONN);
  rv = hook_to(s, "telegram", NULL);
  CHECK_OK(vc_sim_set(s, "telegram.secret_token", "s3cret_Token-1"));
  CHECK_OK(vc_sim_set(s, "telegram.chats", ""));
  u1 = vc_sim_telegram_inbound(s, 555000111, "Hello, bot \xf0\x9f\x98\x80");
  CHECK(u1 > 0);
  CHECK(rx_wait(rv, 1, 5000) == 1);
  q = rx_get(rv, 0);
  CHECK_STR(q->path, "/hook");
  CHECK_STR(rx_hdr(q, "Content-Type"), "application/json");
  CHECK_STR(rx_hdr(q, "X-Telegram-Bot-Api-Secret-Token"), "s3cret_Token-1");
  j = cJSON_Parse(q->body);
  CHECK(j != NULL);
  CHECK(jnum(j, "update_id") == (double)u1);
  m = cJSON_GetObjectItemCaseSensitive(j, "message");
  CHECK_STR(jstr(m, "text"), "Hello, bot \xf0\x9f\x98\x80");
  CHECK(jnum(cJSON_GetObjectItemCaseSensitive(m, "chat"), "id") ==
        555000111.0);
  CHECK(jnum(cJSON_GetObjectItemCaseSensitive(m, "from"), "id") ==
        555000111.0);
  CHECK(jnum(m, "message_id") >= 1 && jnum(m, "date") > 1.6e9);
  cJSON_Delete(j);
  /* the chat wrote to the bot: the bot may answer it now */
  tg_call(&r, s, "sendMessage", "{\"chat_id\":555000111,\"text\":\"yo\"}");
  CHECK(r.status == 200);
  resp_free(&r);
  tg_call(&r, s, "sendMessage", "{\"chat_id\":555000112,\"text\":\"yo\"}");
  check_tg_error(&r, 400, "Bad Request: chat not found");
  resp_free(&r);
  /* without a secret token, no header; update ids only grow */
  CHECK_OK(vc_sim_set(s, "telegram.secret_token", ""));
  u2 = vc_sim_telegram_inbound(s, -1001234, "group");
  CHECK(u2 == u1 + 1);
  CHECK(rx_wait(rv, 2, 5000) == 2);
  CHECK_STR(rx_hdr(rx_get(rv, 1), "X-Telegram-Bot-Api-Secret-Token"), "");
  CHECK(vc_sim_webhooks_wait(s, 5000) == 0);
  vc_sim_stop(s);
  rx_stop(rv);
}

/* ---- WhatsApp --------------------------------------------------------- */

static void test_whatsapp__auth_and_path(void)
{
  vc_sim *s = start();
  req_opts bad = { NULL, { "Authorization: Bearer EAAGwrong" }, 0 };
  const char *body = "{\"messaging_product\":\"whatsapp\",\"to\":"
                     "\"14155550100\",\"type\":\"template\",\"template\":{"
                     "\"name\":\"hello_world\",\"language\":{\"code\":"
                     "\"en_US\"}}}";
  req_opts good = { NULL, { "Authorization: Bearer " WA_TOKEN }, 0 };
  resp r;

  http(&r, "POST", url_of(s, WA_PATH), "application/json", body,
       strlen(body), NULL);
  check_wa_error(&r, 401, 104, 0, "An access token is required to request "
                 "this resource.");
  resp_free(&r);
  http(&r, "POST", url_of(s, WA_PATH), "application/json", body,
       strlen(body), &bad);
  check_wa_error(&r, 401, 190, 0, "Invalid OAuth access token - Cannot "
                 "parse access token");
  resp_free(&r);
  /* another phone number id */
  http(&r, "POST", url_of(s, "/graph/v26.0/999/messages"),
       "application/json", body, strlen(body), &good);
  check_wa_error(&r, 400, 100, 33, NULL);
  CHECK(strstr(r.body, "Object with ID '999' does not exist") != NULL);
  resp_free(&r);
  http(&r, "POST", url_of(s, "/graph/latest/" VC_SIM_WHATSAPP_PHONE_NUMBER_ID
                             "/messages"),
       "application/json", body, strlen(body), &good);
  check_wa_error(&r, 400, 2500, 0, NULL);
  resp_free(&r);
  http(&r, "POST", url_of(s, "/graph/v26.0/" VC_SIM_WHATSAPP_PHONE_NUMBER_ID
                             "/media"),
       "application/json", body, strlen(body), &good);
  check_wa_error(&r, 400, 2500, 0, "Unknown path components: /media");
  resp_free(&r);
  http(&r, "GET", url_of(s, WA_PATH), NULL, NULL, 0, &good);
  check_wa_error(&r, 400, 100, 0, "Unsupported GET request.");
  resp_free(&r);
  CHECK(vc_sim_accepted_count(s, "whatsapp") == 0);
  vc_sim_stop(s);
}

static void test_whatsapp__body_checks(void)
{
  static const struct {
    const char *body;
    long status;
    int code;
    const char *msg;
  } bad[] = {
    { "{}", 400, 100, "(#100) The parameter messaging_product is "
      "required." },
    { "not json", 400, 100, "(#100) The parameter messaging_product is "
      "required." },
    { "{\"messaging_product\":\"sms\",\"to\":\"14155550100\"}", 400, 100,
      "(#100) Param messaging_product must be one of {WHATSAPP} - got "
      "\"sms\"." },
    { "{\"messaging_product\":\"whatsapp\"}", 400, 100,
      "(#100) The parameter to is required." },
    { "{\"messaging_product\":\"whatsapp\",\"to\":\"12ab\",\"type\":\"text\","
      "\"text\":{\"body\":\"x\"}}", 400, 100, "(#100) Invalid parameter" },
    { "{\"messaging_product\":\"whatsapp\",\"to\":\"14155550100\","
      "\"type\":\"fax\"}", 400, 100, NULL },
    { "{\"messaging_product\":\"whatsapp\",\"to\":\"14155550100\","
      "\"type\":\"text\",\"text\":{}}", 400, 100,
      "(#100) The parameter text['body'] is required." },
    { "{\"messaging_product\":\"whatsapp\",\"to\":\"14155550100\","
      "\"type\":\"template\",\"template\":{\"language\":{\"code\":\"en\"}}}",
      400, 100, "(#100) The parameter template['name'] is required." },
    { "{\"messaging_product\":\"whatsapp\",\"to\":\"14155550100\","
      "\"type\":\"template\",\"template\":{\"name\":\"hello_world\"}}",
      400, 100, "(#100) The parameter template['language'] is required." },
    { "{\"messaging_product\":\"whatsapp\",\"to\":\"14155550100\","
      "\"type\":\"template\",\"template\":{\"name\":\"nope\",\"language\":"
      "{\"code\":\"en_US\"}}}", 404, 132001,
      "(#132001) Template name does not exist in the translation" },
    { "{\"messaging_product\":\"whatsapp\",\"to\":\"14155550100\","
      "\"type\":\"image\",\"image\":{}}", 400, 100,
      "(#100) The parameter image['link'] or image['id'] is required." },
  };
  vc_sim *s = start();
  char *big, *body;
  resp r;

  CHECK_OK(vc_sim_set(s, "whatsapp.window", "off"));
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    wa_post(&r, s, bad[i].body);
    check_wa_error(&r, bad[i].status, bad[i].code, 0, bad[i].msg);
    resp_free(&r);
  }
  big = repeat("\xc3\xa9", 4097);
  CHECK(asprintf(&body, "{\"messaging_product\":\"whatsapp\",\"to\":"
                 "\"14155550100\",\"type\":\"text\",\"text\":{\"body\":"
                 "\"%s\"}}", big) > 0);
  wa_post(&r, s, body);
  check_wa_error(&r, 400, 100, 0, "(#100) Param text['body'] must be at "
                 "most 4096 characters long.");
  resp_free(&r);
  free(body);
  free(big);
  CHECK(vc_sim_accepted_count(s, "whatsapp") == 0);
  vc_sim_stop(s);
}

static void test_whatsapp__window(void)
{
  vc_sim *s = start();
  const char *text = "{\"messaging_product\":\"whatsapp\",\"to\":"
                     "\"+14155550100\",\"type\":\"text\",\"text\":{\"body\":"
                     "\"hi\"}}";
  const char *tpl = "{\"messaging_product\":\"whatsapp\",\"to\":"
                    "\"14155550100\",\"type\":\"template\",\"template\":{"
                    "\"name\":\"order_update\",\"language\":{\"code\":"
                    "\"en_US\"},\"components\":[{\"type\":\"body\","
                    "\"parameters\":[{\"type\":\"text\",\"text\":\"42\"}]}]}}";
  receiver *rv;
  cJSON *j, *c;
  resp r;

  /* nobody wrote: free text is a re-engagement message */
  wa_post(&r, s, text);
  check_wa_error(&r, 400, 131047, 0, "(#131047) Re-engagement message");
  CHECK(strstr(r.body, "more than 24 hours have passed") != NULL);
  resp_free(&r);
  /* a template goes any time */
  wa_post(&r, s, tpl);
  CHECK(r.status == 200);
  resp_free(&r);
  /* the user writes: the window opens (with somewhere to post it) */
  CHECK(vc_sim_whatsapp_inbound(s, "+14155550100", "hello") == -ENOTCONN);
  rv = hook_to(s, "whatsapp", NULL);
  CHECK_OK(vc_sim_whatsapp_inbound(s, "+14155550100", "hello"));
  wa_post(&r, s, text);
  CHECK(r.status == 200);
  j = json(&r);
  CHECK_STR(jstr(j, "messaging_product"), "whatsapp");
  c = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "contacts"), 0);
  CHECK_STR(jstr(c, "input"), "+14155550100");
  CHECK_STR(jstr(c, "wa_id"), "14155550100");
  c = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "messages"), 0);
  CHECK(strncmp(jstr(c, "id"), "wamid.", 6) == 0);
  cJSON_Delete(j);
  resp_free(&r);
  /* someone else still needs a template */
  wa_post(&r, s, "{\"messaging_product\":\"whatsapp\",\"to\":\"4915112345678\","
          "\"text\":{\"body\":\"hi\"}}");
  check_wa_error(&r, 400, 131047, 0, NULL);
  resp_free(&r);
  CHECK(vc_sim_accepted_count(s, "whatsapp") == 2);
  CHECK(vc_sim_sent_count(s, "14155550100") == 2);
  CHECK(vc_sim_webhooks_wait(s, 10000) == 0);
  vc_sim_stop(s);
  rx_stop(rv);
}

static void test_whatsapp__status_webhooks(void)
{
  vc_sim *s = start();
  receiver *rv = hook_to(s, "whatsapp", NULL);
  const char *order[] = { "sent", "delivered", "read" };
  char wamid[80], sig[80];
  cJSON *j, *st, *v;
  resp r;

  CHECK_OK(vc_sim_set(s, "whatsapp.window", "off"));
  wa_post(&r, s, "{\"messaging_product\":\"whatsapp\",\"recipient_type\":"
          "\"individual\",\"to\":\"14155550100\",\"type\":\"text\",\"text\":"
          "{\"preview_url\":false,\"body\":\"hi\"},"
          "\"biz_opaque_callback_data\":\"01J9ZK3M2V7Q8R4T6W0X1Y2Z3A\"}");
  CHECK(r.status == 200);
  j = json(&r);
  snprintf(wamid, sizeof(wamid), "%s", jstr(cJSON_GetArrayItem(
    cJSON_GetObjectItemCaseSensitive(j, "messages"), 0), "id"));
  cJSON_Delete(j);
  resp_free(&r);
  CHECK(rx_wait(rv, 3, 10000) == 3);
  for (size_t i = 0; i < 3; i++) {
    const rx_req *q = rx_get(rv, i);
    meta_sig(sig, WA_SECRET, q->body, q->len);
    CHECK_STR(rx_hdr(q, "X-Hub-Signature-256"), sig);
    CHECK(strncmp(rx_hdr(q, "X-Hub-Signature"), "sha1=", 5) == 0);
    CHECK_STR(rx_hdr(q, "Content-Type"), "application/json");
    j = cJSON_Parse(q->body);
    CHECK_STR(jstr(j, "object"), "whatsapp_business_account");
    v = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(
          cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(
            cJSON_GetObjectItemCaseSensitive(j, "entry"), 0), "changes"), 0),
          "value");
    CHECK_STR(jstr(cJSON_GetObjectItemCaseSensitive(v, "metadata"),
                   "phone_number_id"), VC_SIM_WHATSAPP_PHONE_NUMBER_ID);
    st = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(v, "statuses"),
                            0);
    CHECK_STR(jstr(st, "id"), wamid);
    CHECK_STR(jstr(st, "status"), order[i]);
    CHECK_STR(jstr(st, "recipient_id"), "14155550100");
    CHECK_STR(jstr(st, "biz_opaque_callback_data"),
              "01J9ZK3M2V7Q8R4T6W0X1Y2Z3A");
    CHECK(atoll(jstr(st, "timestamp")) > 1600000000);
    cJSON_Delete(j);
  }
  rx_stop(rv);
  /* a failure after acceptance, with its error */
  rv = hook_to(s, "whatsapp", "failed");
  wa_post(&r, s, "{\"messaging_product\":\"whatsapp\",\"to\":\"14155550100\","
          "\"text\":{\"body\":\"again\"}}");
  CHECK(r.status == 200);
  resp_free(&r);
  CHECK(rx_wait(rv, 1, 10000) == 1);
  CHECK(strstr(rx_get(rv, 0)->body, "\"status\":\"failed\"") != NULL);
  CHECK(strstr(rx_get(rv, 0)->body, "\"code\":131026") != NULL);
  CHECK(vc_sim_webhooks_wait(s, 10000) == 0);
  vc_sim_stop(s);
  rx_stop(rv);
}

static void test_whatsapp__inbound_and_handshake(void)
{
  vc_sim *s = start();
  receiver *rv = hook_to(s, "whatsapp", NULL);
  const rx_req *q;
  char sig[80], url[96];
  cJSON *j, *m;
  int echoed = -1;

  CHECK(vc_sim_whatsapp_inbound(s, "abc", "x") == -EINVAL);
  CHECK_OK(vc_sim_whatsapp_inbound(s, "14155550100", "caf\xc3\xa9 \xf0\x9f"
                                   "\x98\x80"));
  CHECK(rx_wait(rv, 1, 5000) == 1);
  q = rx_get(rv, 0);
  meta_sig(sig, WA_SECRET, q->body, q->len);
  CHECK_STR(rx_hdr(q, "X-Hub-Signature-256"), sig);
  /* Meta escapes non-ASCII: the signed bytes are the escaped text */
  CHECK(strstr(q->body, "caf\\u00e9 \\ud83d\\ude00") != NULL);
  j = cJSON_Parse(q->body);
  m = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(
          cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(
            cJSON_GetObjectItemCaseSensitive(j, "entry"), 0), "changes"), 0),
          "value"), "messages"), 0);
  CHECK_STR(jstr(m, "from"), "14155550100");
  CHECK_STR(jstr(m, "type"), "text");
  CHECK(strncmp(jstr(m, "id"), "wamid.", 6) == 0);
  CHECK_STR(jstr(cJSON_GetObjectItemCaseSensitive(m, "text"), "body"),
            "caf\xc3\xa9 \xf0\x9f\x98\x80");
  cJSON_Delete(j);
  /* the handshake: a GET with the mode, a challenge and the token */
  snprintf(url, sizeof(url), "http://127.0.0.1:%u/verify", rv->port);
  CHECK(vc_sim_whatsapp_verify(s, url, "my token&x", &echoed) == 200);
  CHECK(echoed == 0);                    /* the receiver echoes nothing */
  CHECK(rx_wait(rv, 2, 5000) == 2);
  q = rx_get(rv, 1);
  CHECK(strncmp(q->headers, "GET /verify?hub.mode=subscribe&hub.challenge=",
                45) == 0);
  CHECK(strstr(q->path, "&hub.verify_token=my%20token%26x") != NULL);
  atomic_store(&rv->answer, 403);
  CHECK(vc_sim_whatsapp_verify(s, url, "t", &echoed) == 403);
  CHECK(echoed == 0);
  CHECK(vc_sim_webhooks_wait(s, 5000) == 0);
  vc_sim_stop(s);
  rx_stop(rv);
}

static void test_whatsapp__faults(void)
{
  vc_sim *s = start();
  vc_sim_fault f = VC_SIM_FAULT_INIT;
  const char *tpl = "{\"messaging_product\":\"whatsapp\",\"to\":"
                    "\"14155550100\",\"type\":\"template\",\"template\":{"
                    "\"name\":\"hello_world\",\"language\":{\"code\":"
                    "\"en_US\"}}}";
  resp r;

  f.kind = VC_SIM_FAULT_429;
  CHECK_OK(vc_sim_fault_add(s, "whatsapp", &f));
  wa_post(&r, s, tpl);
  check_wa_error(&r, 429, 130429, 0, "(#130429) Rate limit hit");
  resp_free(&r);
  f.kind = VC_SIM_FAULT_5XX;
  f.status = 503;
  CHECK_OK(vc_sim_fault_add(s, "whatsapp", &f));
  wa_post(&r, s, tpl);
  check_wa_error(&r, 503, 2, 0, "Service temporarily unavailable");
  resp_free(&r);
  wa_post(&r, s, tpl);
  CHECK(r.status == 200);
  resp_free(&r);
  CHECK(vc_sim_accepted_count(s, "whatsapp") == 1);
  vc_sim_stop(s);
}

VC_TESTS(
  VC_TEST(test_telegram__token_and_methods),
  VC_TEST(test_telegram__send_ok),
  VC_TEST(test_telegram__rejections),
  VC_TEST(test_telegram__uploads),
  VC_TEST(test_telegram__faults),
  VC_TEST(test_telegram__inbound),
  VC_TEST(test_whatsapp__auth_and_path),
  VC_TEST(test_whatsapp__body_checks),
  VC_TEST(test_whatsapp__window),
  VC_TEST(test_whatsapp__status_webhooks),
  VC_TEST(test_whatsapp__inbound_and_handshake),
  VC_TEST(test_whatsapp__faults),
)
