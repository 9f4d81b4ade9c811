/*
 * End to end over loopback with the WhatsApp Cloud API adapter: the
 * dispatcher sends through the Graph API simulator, whose signed status
 * and message notifications come back through vc_webhook_listen(); the
 * 24-hour customer service window decided from the messages stored; the
 * GET subscription handshake as Meta performs it.
 */
#define _GNU_SOURCE
#include "chat_env.h"

#include <mbedtls/md.h>

#define VERIFY "verify-me please"
#define WINDOW_TEXT "outside the 24-hour customer service window; a " \
  "WhatsApp template is required"
#define ORDER_TEMPLATE \
  "{\"whatsapp_template\": {\"name\": \"order_update\", \"language\": " \
  "\"en_US\", \"components\": [{\"type\": \"body\", \"parameters\": " \
  "[{\"type\": \"text\", \"text\": \"42\"}]}]}}"

typedef struct wa_env {
  env e;
  char ch[VC_ID_SIZE];
} wa_env;

static void wa_open(wa_env *w)
{
  char config[512], creds[256];

  env_open(&w->e);
  snprintf(config, sizeof(config), "{\"phone_number_id\": \"%s\", "
           "\"base_url\": \"%s/graph\"}", VC_SIM_WHATSAPP_PHONE_NUMBER_ID,
           vc_sim_base_url(w->e.sim));
  snprintf(creds, sizeof(creds), "{\"access_token\": \"%s\", \"app_secret\":"
           " \"%s\", \"verify_token\": \"%s\"}", VC_SIM_WHATSAPP_ACCESS_TOKEN,
           VC_SIM_WHATSAPP_APP_SECRET, VERIFY);
  add_channel(&w->e, "wa", "whatsapp", 10, config, creds, w->ch);
  hooks_to(&w->e, "whatsapp", w->ch, NULL);
}

static const char *jstr(const cJSON *o, const char *k)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

  return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The user writes first; the message is stored. */
static void user_writes(wa_env *w, const char *from, const char *text,
                        int nth)
{
  CHECK_OK(vc_sim_whatsapp_inbound(w->e.sim, from, text));
  CHECK(vc_sim_webhooks_wait(w->e.sim, 10000) == 0);
  CHECK(wait_events(&w->e, "inbound.received", nth, 5000));
}

static void test_whatsapp__reply_in_window_read(void)
{
  wa_env w;
  char id[VC_ID_SIZE], row[512];
  vc_sim_request r[4];
  vc_message *m;
  cJSON *j;

  wa_open(&w);
  user_writes(&w, "14155550100", "Ol\xc3\xa1, where is my order?", 1);
  inbound_row(&w.e, w.ch, 0, row, sizeof(row));
  CHECK(has_prefix(row, "+14155550100|+15550001234|Ol\xc3\xa1, where is my "
                   "order?|[]|wamid."));
  /* within the window: free text goes, and Meta reports it read */
  send_chat(&w.e, id, "+14155550100", "On its way: arriving Tuesday", NULL);
  CHECK_OK(vc_ctx_start(w.e.ctx, 1));
  CHECK(wait_status(&w.e, id, VC_MSG_READ, 20000));
  CHECK(vc_sim_webhooks_wait(w.e.sim, 10000) == 0);
  CHECK_OK(vc_ctx_stop(w.e.ctx));
  CHECK(count_events(&w.e, "message.delivered", id) == 1);
  CHECK(count_events(&w.e, "message.read", id) == 1);
  CHECK(sim_requests(&w.e, "whatsapp", "/messages", r, 4) == 1);
  CHECK(r[0].status == 200);
  CHECK_STR(r[0].authorization, "Bearer " VC_SIM_WHATSAPP_ACCESS_TOKEN);
  CHECK_STR(r[0].path, "/graph/v26.0/" VC_SIM_WHATSAPP_PHONE_NUMBER_ID
            "/messages");
  j = cJSON_Parse(r[0].body);
  CHECK_STR(jstr(j, "messaging_product"), "whatsapp");
  CHECK_STR(jstr(j, "to"), "14155550100");
  CHECK_STR(jstr(j, "type"), "text");
  CHECK_STR(jstr(cJSON_GetObjectItemCaseSensitive(j, "text"), "body"),
            "On its way: arriving Tuesday");
  CHECK_STR(jstr(j, "biz_opaque_callback_data"), id);
  cJSON_Delete(j);
  CHECK_OK(vc_message_lookup(&m, w.e.t, id));
  CHECK_STR(vc_message_provider_id(m), r[0].message_id);
  vc_message_free(m);
  env_close(&w.e);
}

static void test_whatsapp__free_text_outside_window_fails(void)
{
  wa_env w;
  char id[VC_ID_SIZE];
  vc_sim_request r[2];
  vc_message *m;

  wa_open(&w);
  user_writes(&w, "14155550100", "hi", 1);
  /* someone who never wrote on this channel */
  send_chat(&w.e, id, "+4915112345678", "Hello there", NULL);
  CHECK(vc_ctx_run(w.e.ctx, 0) >= 1);
  CHECK_OK(vc_message_lookup(&m, w.e.t, id));
  CHECK(vc_message_status(m) == VC_MSG_FAILED);
  CHECK(vc_message_error(m) == VC_ESTATE);
  CHECK_STR(vc_message_error_message(m), WINDOW_TEXT);
  vc_message_free(m);
  CHECK(sim_requests(&w.e, "whatsapp", "/messages", r, 2) == 0);
  env_close(&w.e);
}

static void test_whatsapp__template_outside_window(void)
{
  wa_env w;
  char id[VC_ID_SIZE];
  vc_sim_request r[2];
  const cJSON *t;
  cJSON *j;

  wa_open(&w);
  send_chat(&w.e, id, "+4915112345678", "Order 42 update", ORDER_TEMPLATE);
  CHECK_OK(vc_ctx_start(w.e.ctx, 1));
  CHECK(wait_status(&w.e, id, VC_MSG_READ, 20000));
  CHECK(vc_sim_webhooks_wait(w.e.sim, 10000) == 0);
  CHECK_OK(vc_ctx_stop(w.e.ctx));
  CHECK(sim_requests(&w.e, "whatsapp", "/messages", r, 2) == 1);
  j = cJSON_Parse(r[0].body);
  CHECK_STR(jstr(j, "type"), "template");
  t = cJSON_GetObjectItemCaseSensitive(j, "template");
  CHECK_STR(jstr(t, "name"), "order_update");
  CHECK_STR(jstr(cJSON_GetObjectItemCaseSensitive(t, "language"), "code"),
            "en_US");
  CHECK(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(t,
                                                            "components"))
        == 1);
  cJSON_Delete(j);
  env_close(&w.e);
}

static void test_whatsapp__failed_after_acceptance(void)
{
  wa_env w;
  char id[VC_ID_SIZE];
  vc_message *m;

  wa_open(&w);
  hooks_to(&w.e, "whatsapp", w.ch, "failed");
  send_chat(&w.e, id, "+4915112345678", "x", ORDER_TEMPLATE);
  CHECK_OK(vc_ctx_start(w.e.ctx, 1));
  CHECK(wait_status(&w.e, id, VC_MSG_UNDELIVERED, 20000));
  CHECK_OK(vc_ctx_stop(w.e.ctx));
  CHECK_OK(vc_message_lookup(&m, w.e.t, id));
  CHECK_STR(vc_message_provider_code(m), "131026");
  CHECK(strstr(vc_message_error_message(m), "Message undeliverable") !=
        NULL);
  vc_message_free(m);
  env_close(&w.e);
}

static void test_whatsapp__permanent_error_fails(void)
{
  wa_env w;
  char id[VC_ID_SIZE];
  vc_message *m;

  wa_open(&w);
  send_chat(&w.e, id, "+4915112345678", "x", "{\"whatsapp_template\": "
            "{\"name\": \"no_such_template\", \"language\": \"en_US\"}}");
  CHECK(vc_ctx_run(w.e.ctx, 0) >= 1);
  CHECK_OK(vc_message_lookup(&m, w.e.t, id));
  CHECK(vc_message_status(m) == VC_MSG_FAILED);
  CHECK_STR(vc_message_provider_code(m), "132001");
  CHECK_STR(vc_message_error_message(m), "(#132001) Template name does not "
            "exist in the translation: template name (no_such_template) "
            "does not exist in en_US");
  vc_message_free(m);
  env_close(&w.e);
}

static void test_whatsapp__5xx_retried(void)
{
  wa_env w;
  char id[VC_ID_SIZE];
  vc_sim_fault f = VC_SIM_FAULT_INIT;
  vc_sim_request r[4];

  wa_open(&w);
  f.kind = VC_SIM_FAULT_5XX;
  f.status = 503;
  CHECK_OK(vc_sim_fault_add(w.e.sim, "whatsapp", &f));
  send_chat(&w.e, id, "+4915112345678", "x", ORDER_TEMPLATE);
  CHECK_OK(vc_ctx_start(w.e.ctx, 1));
  CHECK(wait_status(&w.e, id, VC_MSG_READ, 20000));
  CHECK_OK(vc_ctx_stop(w.e.ctx));
  CHECK(sim_requests(&w.e, "whatsapp", "/messages", r, 4) == 2);
  CHECK(r[0].status == 503 && r[1].status == 200);
  env_close(&w.e);
}

static void test_whatsapp__handshake(void)
{
  wa_env w;
  char url[160], path[96];
  int echoed = -1;

  wa_open(&w);
  snprintf(url, sizeof(url), "%s/webhooks/%s", w.e.base, w.ch);
  CHECK(vc_sim_whatsapp_verify(w.e.sim, url, VERIFY, &echoed) == 200);
  CHECK(echoed == 1);
  CHECK(vc_sim_whatsapp_verify(w.e.sim, url, "verify-me pleasE", &echoed) ==
        403);
  CHECK(echoed == 0);
  CHECK(vc_sim_whatsapp_verify(w.e.sim, url, "", &echoed) == 403);
  /* a GET that is not a handshake */
  snprintf(path, sizeof(path), "/webhooks/%s?hub.mode=subscribe", w.ch);
  CHECK(hook_raw(&w.e, "GET", path, NULL, NULL, NULL, NULL, 0) == 401);
  env_close(&w.e);
}

/* X-Hub-Signature-256 of a body, computed here with mbedTLS. */
static void sign(char out[80], const char *body)
{
  unsigned char mac[32];

  CHECK(mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256),
                        (const unsigned char *)VC_SIM_WHATSAPP_APP_SECRET,
                        strlen(VC_SIM_WHATSAPP_APP_SECRET),
                        (const unsigned char *)body, strlen(body), mac) == 0);
  strcpy(out, "X-Hub-Signature-256: sha256=");
  for (int i = 0; i < 32; i++)
    sprintf(out + 28 + 2 * i, "%02x", mac[i]);
}

static void test_whatsapp__forged_notifications_refused(void)
{
  wa_env w;
  char id[VC_ID_SIZE], path[96], sig[100], body[1024], forged[1024];
  vc_message *m;

  wa_open(&w);
  hooks_to(&w.e, "whatsapp", w.ch, "sent");
  send_chat(&w.e, id, "+4915112345678", "x", ORDER_TEMPLATE);
  CHECK_OK(vc_ctx_start(w.e.ctx, 1));
  CHECK(wait_status(&w.e, id, VC_MSG_SENT, 20000));
  CHECK(vc_sim_webhooks_wait(w.e.sim, 10000) == 0);
  CHECK_OK(vc_ctx_stop(w.e.ctx));
  CHECK_OK(vc_message_lookup(&m, w.e.t, id));
  snprintf(body, sizeof(body), "{\"object\":\"whatsapp_business_account\","
           "\"entry\":[{\"id\":\"1\",\"changes\":[{\"field\":\"messages\","
           "\"value\":{\"messaging_product\":\"whatsapp\",\"metadata\":{"
           "\"display_phone_number\":\"15550001234\",\"phone_number_id\":"
           "\"%s\"},\"statuses\":[{\"id\":\"%s\",\"status\":\"delivered\","
           "\"timestamp\":\"1700000000\",\"recipient_id\":"
           "\"4915112345678\"}]}}]}]}", VC_SIM_WHATSAPP_PHONE_NUMBER_ID,
           vc_message_provider_id(m));
  vc_message_free(m);
  snprintf(path, sizeof(path), "/webhooks/%s", w.ch);
  sign(sig, body);
  /* no signature; someone else's; the signature on a changed body */
  CHECK(hook_raw(&w.e, "POST", path, NULL, NULL, body, NULL, 0) == 401);
  CHECK(hook_raw(&w.e, "POST", path, "X-Hub-Signature-256: sha256=00000000"
                 "00000000000000000000000000000000000000000000000000000000",
                 NULL, body, NULL, 0) == 401);
  snprintf(forged, sizeof(forged), "%s", body);
  memcpy(strstr(forged, "delivered"), "read\",\"x\":\"", 11);
  CHECK(hook_raw(&w.e, "POST", path, sig, NULL, forged, NULL, 0) == 401);
  CHECK(status_of(&w.e, id) == VC_MSG_SENT);
  /* the genuine one */
  CHECK(hook_raw(&w.e, "POST", path, sig, NULL, body, NULL, 0) == 200);
  CHECK(status_of(&w.e, id) == VC_MSG_DELIVERED);
  env_close(&w.e);
}

VC_TESTS(
  VC_TEST(test_whatsapp__reply_in_window_read),
  VC_TEST(test_whatsapp__free_text_outside_window_fails),
  VC_TEST(test_whatsapp__template_outside_window),
  VC_TEST(test_whatsapp__failed_after_acceptance),
  VC_TEST(test_whatsapp__permanent_error_fails),
  VC_TEST(test_whatsapp__5xx_retried),
  VC_TEST(test_whatsapp__handshake),
  VC_TEST(test_whatsapp__forged_notifications_refused),
)
