/*
 * End to end over loopback with the Telegram adapter: the dispatcher
 * sends through the Bot API simulator with libcurl, and the simulator's
 * updates come back through vc_webhook_listen() with the secret token.
 * Telegram has no delivery receipts, so a message ends at `sent`.
 */
#define _GNU_SOURCE
#include "chat_env.h"

#define SECRET "tg-Secret_for-integration"

typedef struct tg_env {
  env e;
  char ch[VC_ID_SIZE];
} tg_env;

static void tg_channel(env *e, const char *name, int priority,
                       const char *token, const char *extra_config,
                       char id[VC_ID_SIZE])
{
  char config[512], creds[256];

  snprintf(config, sizeof(config), "{\"base_url\": \"%s\"%s%s}",
           vc_sim_base_url(e->sim), extra_config ? ", " : "",
           extra_config ? extra_config : "");
  snprintf(creds, sizeof(creds), "{\"bot_token\": \"%s\", "
           "\"webhook_secret\": \"%s\"}", token, SECRET);
  add_channel(e, name, "telegram", priority, config, creds, id);
}

static void tg_open(tg_env *t, const char *extra_config)
{
  env_open(&t->e);
  tg_channel(&t->e, "bot", 10, VC_SIM_TELEGRAM_BOT_TOKEN, extra_config,
             t->ch);
  hooks_to(&t->e, "telegram", t->ch, NULL);
  CHECK_OK(vc_sim_set(t->e.sim, "telegram.secret_token", SECRET));
}

/* The JSON body of a recorded request, parsed. */
static cJSON *body_of(const vc_sim_request *r)
{
  cJSON *j = cJSON_Parse(r->body);

  CHECK(j != NULL);
  return j;
}

static const char *jstr(const cJSON *o, const char *k)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

  return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void test_telegram__sent_without_receipts(void)
{
  tg_env t;
  char id[VC_ID_SIZE];
  vc_sim_request r[4];
  vc_message *m;
  cJSON *j;

  tg_open(&t, NULL);
  send_chat(&t.e, id, "123456789", "Your order shipped", NULL);
  CHECK_OK(vc_ctx_start(t.e.ctx, 1));
  CHECK(wait_status(&t.e, id, VC_MSG_SENT, 20000));
  CHECK_OK(vc_ctx_stop(t.e.ctx));
  CHECK(sim_requests(&t.e, "telegram", "/sendMessage", r, 4) == 1);
  CHECK(r[0].status == 200);
  CHECK_STR(r[0].content_type, "application/json");
  CHECK_STR(r[0].path, "/bot" VC_SIM_TELEGRAM_BOT_TOKEN "/sendMessage");
  j = body_of(&r[0]);
  CHECK_STR(jstr(j, "chat_id"), "123456789");
  CHECK_STR(jstr(j, "text"), "Your order shipped");
  cJSON_Delete(j);
  CHECK_OK(vc_message_lookup(&m, t.e.t, id));
  CHECK(strncmp(vc_message_provider_id(m), "123456789:", 10) == 0);
  CHECK_STR(vc_message_channel_id(m), t.ch);
  vc_message_free(m);
  /* no receipts ever come: it stays `sent` */
  CHECK(vc_sim_webhooks_wait(t.e.sim, 2000) == 0);
  CHECK(status_of(&t.e, id) == VC_MSG_SENT);
  CHECK(count_events(&t.e, "message.delivered", id) == 0);
  env_close(&t.e);
}

/* A text and two attachments: three messages, in order; the bytes go up
 * as multipart/form-data, the URL in JSON. */
static void test_telegram__attachments_uploaded(void)
{
  static const uint8_t png[] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a,
                                 '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R' };
  vc_message_spec s = VC_MESSAGE_SPEC_INIT;
  vc_attachment a[2];
  char id[VC_ID_SIZE];
  vc_sim_request r[8];
  tg_env t;

  tg_open(&t, NULL);
  memset(a, 0, sizeof(a));
  a[0].filename = "chart.png";
  a[0].content_type = "image/png";
  a[0].data = png;
  a[0].len = sizeof(png);
  a[1].filename = "terms.pdf";
  a[1].content_type = "application/pdf";
  a[1].url = "https://example.com/terms.pdf";
  s.kind = VC_CHANNEL_CHAT;
  s.to = "555000111";
  s.text = "This week's chart and the terms";
  s.attachments = a;
  s.nattachments = 2;
  CHECK_OK(vc_message_send(id, t.e.t, &s));
  CHECK_OK(vc_ctx_start(t.e.ctx, 1));
  CHECK(wait_status(&t.e, id, VC_MSG_SENT, 20000));
  CHECK_OK(vc_ctx_stop(t.e.ctx));
  CHECK(sim_requests(&t.e, "telegram", NULL, r, 8) == 3);
  CHECK(has_prefix(r[0].path, "/bot" VC_SIM_TELEGRAM_BOT_TOKEN
                   "/sendMessage"));
  CHECK(has_prefix(r[1].path, "/bot" VC_SIM_TELEGRAM_BOT_TOKEN
                   "/sendPhoto"));
  CHECK(has_prefix(r[1].content_type, "multipart/form-data; boundary="));
  CHECK(strstr(r[1].body, "filename=\"chart.png\"") != NULL);
  CHECK(has_prefix(r[2].path, "/bot" VC_SIM_TELEGRAM_BOT_TOKEN
                   "/sendDocument"));
  CHECK(strstr(r[2].body, "\"document\":\"https://example.com/terms.pdf\"")
        != NULL);
  for (int i = 0; i < 3; i++)
    CHECK(r[i].status == 200);
  env_close(&t.e);
}

static void test_telegram__long_text_split_in_order(void)
{
  tg_env t;
  char id[VC_ID_SIZE], part[3][16];
  char *text = malloc(3 * 3020 + 1);
  vc_sim_request r[8];
  vc_message *m;
  size_t n, o = 0;

  tg_open(&t, "\"parse_mode\": \"HTML\"");
  /* three paragraphs of 3,000 characters: 9,004 characters in all */
  for (int p = 0; p < 3; p++) {
    snprintf(part[p], sizeof(part[p]), "Part-%d ", p + 1);
    for (int k = 0; k < 3000 / 8; k++)
      o += (size_t)sprintf(text + o, "%s", part[p]);
    if (p < 2)
      o += (size_t)sprintf(text + o, "\n\n");
  }
  send_chat(&t.e, id, "-1001234567890", text, NULL);
  CHECK_OK(vc_ctx_start(t.e.ctx, 1));
  CHECK(wait_status(&t.e, id, VC_MSG_SENT, 20000));
  CHECK_OK(vc_ctx_stop(t.e.ctx));
  n = sim_requests(&t.e, "telegram", "/sendMessage", r, 8);
  CHECK(n == 3);
  for (size_t i = 0; i < n; i++) {
    cJSON *j = body_of(&r[i]);
    const char *txt = jstr(j, "text");
    CHECK(r[i].status == 200);
    /* in order, each one paragraph, each within 4,096 characters */
    CHECK(strncmp(txt, part[i], 7) == 0);
    CHECK(strstr(txt, part[(i + 1) % 3]) == NULL);
    CHECK(strlen(txt) <= 4096);
    CHECK_STR(jstr(j, "parse_mode"), "HTML");
    CHECK_STR(jstr(j, "chat_id"), "-1001234567890");
    cJSON_Delete(j);
    if (i > 0)
      CHECK(r[i].received_ms >= r[i - 1].received_ms);
  }
  /* the message keeps the first part's id */
  CHECK_OK(vc_message_lookup(&m, t.e.t, id));
  CHECK_STR(vc_message_provider_id(m), r[0].message_id);
  vc_message_free(m);
  free(text);
  env_close(&t.e);
}

static void test_telegram__long_text_refused(void)
{
  tg_env t;
  char id[VC_ID_SIZE];
  char *text = malloc(5001);
  vc_sim_request r[2];
  vc_message *m;

  tg_open(&t, "\"long_text\": \"refuse\"");
  memset(text, 'a', 5000);
  text[5000] = '\0';
  send_chat(&t.e, id, "42", text, NULL);
  CHECK(vc_ctx_run(t.e.ctx, 0) >= 1);
  CHECK_OK(vc_message_lookup(&m, t.e.t, id));
  CHECK(vc_message_status(m) == VC_MSG_FAILED);
  CHECK(vc_message_error(m) == VC_ETOOBIG);
  CHECK(strstr(vc_message_error_message(m), "over Telegram's 4096") != NULL);
  vc_message_free(m);
  CHECK(sim_requests(&t.e, "telegram", NULL, r, 2) == 0);
  free(text);
  env_close(&t.e);
}

static void test_telegram__inbound_stored_once(void)
{
  tg_env t;
  vc_sim_webhooks w = VC_SIM_WEBHOOKS_INIT;
  char url[160], row[512];
  long long update;

  tg_open(&t, NULL);
  /* Telegram resends an update it thinks was lost: applied once */
  snprintf(url, sizeof(url), "%s/webhooks/%s", t.e.base, t.ch);
  w.url = url;
  w.duplicates = 2;
  CHECK_OK(vc_sim_webhooks_set(t.e.sim, "telegram", &w));
  update = vc_sim_telegram_inbound(t.e.sim, 555000111,
                                   "Hello \xc3\xa9 \xf0\x9f\x98\x80");
  CHECK(update > 0);
  CHECK(vc_sim_webhooks_wait(t.e.sim, 10000) == 0);
  CHECK(wait_events(&t.e, "inbound.received", 1, 5000));
  CHECK(count_events(&t.e, "inbound.received", NULL) == 1);
  inbound_row(&t.e, t.ch, 0, row, sizeof(row));
  CHECK(has_prefix(row, "555000111|8123456789|Hello \xc3\xa9 \xf0\x9f\x98"
                   "\x80|[]|555000111:"));
  inbound_row(&t.e, t.ch, 1, row, sizeof(row));
  CHECK_STR(row, "");
  env_close(&t.e);
}

static void test_telegram__forged_updates_refused(void)
{
  tg_env t;
  char path[96], row[512];
  const char *update = "{\"update_id\":1,\"message\":{\"message_id\":1,"
                       "\"chat\":{\"id\":66,\"type\":\"private\"},\"date\":"
                       "1700000000,\"text\":\"forged\"}}";

  tg_open(&t, NULL);
  snprintf(path, sizeof(path), "/webhooks/%s", t.ch);
  CHECK(hook_raw(&t.e, "POST", path, NULL, NULL, update, NULL, 0) == 401);
  CHECK(hook_raw(&t.e, "POST", path, "X-Telegram-Bot-Api-Secret-Token: "
                 "tg-Secret_for-integratioN", NULL, update, NULL, 0) == 401);
  CHECK(hook_raw(&t.e, "POST", path, "X-Telegram-Bot-Api-Secret-Token: "
                 SECRET "x", NULL, update, NULL, 0) == 401);
  inbound_row(&t.e, t.ch, 0, row, sizeof(row));
  CHECK_STR(row, "");
  CHECK(count_events(&t.e, "inbound.received", NULL) == 0);
  /* the right token: stored */
  CHECK(hook_raw(&t.e, "POST", path, "X-Telegram-Bot-Api-Secret-Token: "
                 SECRET, NULL, update, NULL, 0) == 200);
  inbound_row(&t.e, t.ch, 0, row, sizeof(row));
  CHECK_STR(row, "66|8123456789|forged|[]|66:1");
  /* a malformed update with the right token: 400, nothing more */
  CHECK(hook_raw(&t.e, "POST", path, "X-Telegram-Bot-Api-Secret-Token: "
                 SECRET, NULL, "{\"message\":{}}", NULL, 0) == 400);
  CHECK(count_events(&t.e, "inbound.received", NULL) == 1);
  env_close(&t.e);
}

static void test_telegram__permanent_errors_fail(void)
{
  tg_env t;
  char a[VC_ID_SIZE], b[VC_ID_SIZE];
  vc_message *m;

  tg_open(&t, NULL);
  CHECK_OK(vc_sim_set(t.e.sim, "telegram.chats", "42,43"));
  CHECK_OK(vc_sim_set(t.e.sim, "telegram.blocked", "43"));
  send_chat(&t.e, a, "99", "nobody", NULL);
  send_chat(&t.e, b, "43", "blocked", NULL);
  CHECK(vc_ctx_run(t.e.ctx, 0) >= 2);
  CHECK_OK(vc_message_lookup(&m, t.e.t, a));
  CHECK(vc_message_status(m) == VC_MSG_FAILED);
  CHECK_STR(vc_message_provider_code(m), "400");
  CHECK_STR(vc_message_error_message(m), "Bad Request: chat not found");
  vc_message_free(m);
  CHECK_OK(vc_message_lookup(&m, t.e.t, b));
  CHECK(vc_message_status(m) == VC_MSG_FAILED);
  CHECK_STR(vc_message_provider_code(m), "403");
  CHECK_STR(vc_message_error_message(m),
            "Forbidden: bot was blocked by the user");
  vc_message_free(m);
  env_close(&t.e);
}

static void test_telegram__retry_after_429(void)
{
  tg_env t;
  char id[VC_ID_SIZE];
  vc_sim_fault f = VC_SIM_FAULT_INIT;
  vc_sim_request r[4];

  tg_open(&t, NULL);
  f.kind = VC_SIM_FAULT_429;
  f.retry_after_s = 1;
  CHECK_OK(vc_sim_fault_add(t.e.sim, "telegram", &f));
  send_chat(&t.e, id, "42", "rate limited", NULL);
  CHECK_OK(vc_ctx_start(t.e.ctx, 1));
  CHECK(wait_status(&t.e, id, VC_MSG_SENT, 20000));
  CHECK_OK(vc_ctx_stop(t.e.ctx));
  CHECK(sim_requests(&t.e, "telegram", "/sendMessage", r, 4) == 2);
  CHECK(r[0].status == 429 && r[1].status == 200);
  /* parameters.retry_after was honoured */
  CHECK(r[1].received_ms - r[0].received_ms >= 1000);
  env_close(&t.e);
}

static void test_telegram__bad_token_fails_over(void)
{
  tg_env t;
  char bad[VC_ID_SIZE], id[VC_ID_SIZE];
  vc_message *m;

  tg_open(&t, NULL);
  /* first in line, a bot token the API does not know: 401 */
  tg_channel(&t.e, "old-bot", 1, "8123456789:AAEsimulatorBotTokenForTests_"
             "only-9", NULL, bad);
  send_chat(&t.e, id, "42", "hello", NULL);
  vc_ctx_run(t.e.ctx, 0);
  vc_ctx_run(t.e.ctx, 0);
  CHECK_OK(vc_message_lookup(&m, t.e.t, id));
  CHECK(vc_message_status(m) == VC_MSG_SENT);
  CHECK_STR(vc_message_channel_id(m), t.ch);
  vc_message_free(m);
  env_close(&t.e);
}

VC_TESTS(
  VC_TEST(test_telegram__sent_without_receipts),
  VC_TEST(test_telegram__attachments_uploaded),
  VC_TEST(test_telegram__long_text_split_in_order),
  VC_TEST(test_telegram__long_text_refused),
  VC_TEST(test_telegram__inbound_stored_once),
  VC_TEST(test_telegram__forged_updates_refused),
  VC_TEST(test_telegram__permanent_errors_fail),
  VC_TEST(test_telegram__retry_after_429),
  VC_TEST(test_telegram__bad_token_fails_over),
)
