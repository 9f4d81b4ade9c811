/*
 * The provider simulator, driven over loopback with plain libcurl easy
 * requests: every rejection the real providers make (with their error
 * bodies), realistic successes, and each injected fault as a client sees
 * it. Webhooks, records, settings and the server: test_sim_server.c.
 */
#define _GNU_SOURCE
#include "harness.h"
#include "sim.h"
#include "test_sim_util.h"

/* ---- Twilio: rejections ---------------------------------------------- */


static void test_twilio__auth_missing(void)
{
  vc_sim *s = start();
  resp r;

  http(&r, "POST", url_of(s, TW_PATH), "application/x-www-form-urlencoded",
       good_form, strlen(good_form), NULL);
  check_twilio_error(&r, 401, 20003,
                     "Authentication Error - No credentials provided");
  CHECK(strstr(rhdr(&r, "WWW-Authenticate"), "Basic") != NULL);
  resp_free(&r);
  CHECK(vc_sim_accepted_count(s, "twilio") == 0);
  vc_sim_stop(s);
}

static void test_twilio__auth_wrong(void)
{
  vc_sim *s = start();
  req_opts bad = { SID ":wrong-token", { NULL }, 0 };
  req_opts other = { "AC00000000000000000000000000000000:" TOKEN, { NULL },
                     0 };
  resp r;

  http(&r, "POST", url_of(s, TW_PATH), "application/x-www-form-urlencoded",
       good_form, strlen(good_form), &bad);
  check_twilio_error(&r, 401, 20003, "Authenticate");
  resp_free(&r);
  /* Valid credentials of another account on this account's path. */
  http(&r, "POST", url_of(s, TW_PATH), "application/x-www-form-urlencoded",
       good_form, strlen(good_form), &other);
  check_twilio_error(&r, 401, 20003, "Authenticate");
  resp_free(&r);
  /* A bearer token is not Basic auth. */
  bad.userpwd = NULL;
  bad.extra[0] = "Authorization: Bearer " TOKEN;
  http(&r, "POST", url_of(s, TW_PATH), "application/x-www-form-urlencoded",
       good_form, strlen(good_form), &bad);
  check_twilio_error(&r, 401, 20003, "Authenticate");
  resp_free(&r);
  vc_sim_stop(s);
}

static void test_twilio__content_type(void)
{
  vc_sim *s = start();
  req_opts o = { SID ":" TOKEN, { NULL }, 0 };
  const char *js = "{\"To\":\"+14155550100\",\"From\":\"+15005550006\","
                   "\"Body\":\"hi\"}";
  resp r;

  /* Twilio reads form bodies only: a JSON body has no To. */
  http(&r, "POST", url_of(s, TW_PATH), "application/json", js, strlen(js),
       &o);
  check_twilio_error(&r, 400, 21604, "A 'To' phone number is required.");
  resp_free(&r);
  CHECK(vc_sim_accepted_count(s, NULL) == 0);
  vc_sim_stop(s);
}

static void test_twilio__required_params(void)
{
  vc_sim *s = start();
  resp r;

  tw_post(&r, s, "From=%2B15005550006&Body=hi");
  check_twilio_error(&r, 400, 21604, "A 'To' phone number is required.");
  resp_free(&r);
  tw_post(&r, s, "To=&From=%2B15005550006&Body=hi");
  check_twilio_error(&r, 400, 21604, NULL);
  resp_free(&r);
  tw_post(&r, s, "To=%2B14155550100&Body=hi");
  check_twilio_error(&r, 400, 21603, "A 'From' phone number is required.");
  resp_free(&r);
  tw_post(&r, s, "To=%2B14155550100&From=%2B15005550006");
  check_twilio_error(&r, 400, 21619,
                     "A text message body or media URL must be specified.");
  resp_free(&r);
  tw_post(&r, s, "To=%2B14155550100&From=%2B15005550006&Body=");
  check_twilio_error(&r, 400, 21619, NULL);
  resp_free(&r);
  CHECK(vc_sim_accepted_count(s, NULL) == 0);
  vc_sim_stop(s);
}

static void test_twilio__invalid_to(void)
{
  static const char *const bad[] = {
    "14155550100", "%2B0123456", "%2B1", "%2B1415555010012345",
    "%2B1415-555-0100", "whatsapp%3A14155550100", "alice" };
  vc_sim *s = start();
  char form[256], msg[128];
  size_t i;
  resp r;

  for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    snprintf(form, sizeof(form), "To=%s&From=%%2B15005550006&Body=hi",
             bad[i]);
    tw_post(&r, s, form);
    check_twilio_error(&r, 400, 21211, NULL);
    resp_free(&r);
  }
  tw_post(&r, s, "To=12345&From=%2B15005550006&Body=hi");
  snprintf(msg, sizeof(msg),
           "The 'To' number 12345 is not a valid phone number.");
  check_twilio_error(&r, 400, 21211, msg);
  resp_free(&r);
  /* A channel address with an E.164 number is fine. */
  tw_post(&r, s, "To=whatsapp%3A%2B14155550100&From=whatsapp%3A%2B15005550006"
          "&Body=hi");
  CHECK(r.status == 201);
  resp_free(&r);
  vc_sim_stop(s);
}

static void test_twilio__invalid_from(void)
{
  vc_sim *s = start();
  resp r;

  tw_post(&r, s, "To=%2B14155550100&From=not+a+sender!&Body=hi");
  check_twilio_error(&r, 400, 21212, "The 'From' number not a sender! is "
                     "not a valid phone number, shortcode, or alphanumeric "
                     "sender ID.");
  resp_free(&r);
  tw_post(&r, s, "To=%2B14155550100&From=AlphanumericTooLong&Body=hi");
  check_twilio_error(&r, 400, 21212, NULL);
  resp_free(&r);
  /* Short codes and alphanumeric sender ids are senders. */
  tw_post(&r, s, "To=%2B14155550100&From=12345&Body=hi");
  CHECK(r.status == 201);
  resp_free(&r);
  tw_post(&r, s, "To=%2B14155550100&From=VyomERP&Body=hi");
  CHECK(r.status == 201);
  resp_free(&r);
  vc_sim_stop(s);
}

static void test_twilio__body_too_long(void)
{
  vc_sim *s = start();
  char *form = malloc(16000);
  size_t n;
  resp r;

  n = (size_t)sprintf(form, "To=%%2B14155550100&From=%%2B15005550006&Body=");
  memset(form + n, 'a', 1600);
  form[n + 1600] = '\0';
  tw_post(&r, s, form);
  CHECK(r.status == 201);
  resp_free(&r);
  strcat(form, "a");
  tw_post(&r, s, form);
  check_twilio_error(&r, 400, 21617, "The concatenated message body "
                     "exceeds the 1600 character limit.");
  resp_free(&r);
  /* Characters, not bytes: 1600 two-byte characters are allowed. */
  form[n] = '\0';
  for (int i = 0; i < 1600; i++)
    strcat(form, "%C3%A9");
  tw_post(&r, s, form);
  CHECK(r.status == 201);
  resp_free(&r);
  free(form);
  vc_sim_stop(s);
}

static void test_twilio__not_found(void)
{
  vc_sim *s = start();
  req_opts o = { SID ":" TOKEN, { NULL }, 0 };
  resp r;

  /* Calls.json is the voice simulator's; Queues are nobody's. */
  http(&r, "POST", url_of(s, "/2010-04-01/Accounts/" SID "/Queues.json"),
       "application/x-www-form-urlencoded", "To=1", 4, &o);
  check_twilio_error(&r, 404, 20404, "The requested resource /2010-04-01/"
                     "Accounts/" SID "/Queues.json was not found");
  resp_free(&r);
  http(&r, "GET", url_of(s, "/nowhere"), NULL, NULL, 0, NULL);
  CHECK(r.status == 404);
  resp_free(&r);
  vc_sim_stop(s);
}

/* ---- Twilio: success -------------------------------------------------- */

static int is_hex(const char *s, size_t n)
{
  size_t i;

  for (i = 0; i < n; i++)
    if (!strchr("0123456789abcdef", s[i]))
      return 0;
  return s[n] == '\0';
}

static void test_twilio__send_ok(void)
{
  vc_sim *s = start();
  char uri[256];
  cJSON *j;
  resp r;
  int d, y, hh, mm, ss;
  char wd[4], mon[4], tz[6];

  tw_post(&r, s, good_form);
  CHECK(r.cc == CURLE_OK);
  CHECK(r.status == 201);
  CHECK(strncmp(rhdr(&r, "Twilio-Request-Id"), "RQ", 2) == 0);
  j = json(&r);
  CHECK(j != NULL);
  CHECK(strncmp(jstr(j, "sid"), "SM", 2) == 0);
  CHECK(strlen(jstr(j, "sid")) == 34 && is_hex(jstr(j, "sid") + 2, 32));
  CHECK_STR(jstr(j, "account_sid"), SID);
  CHECK_STR(jstr(j, "status"), "queued");
  CHECK_STR(jstr(j, "to"), "+14155550100");
  CHECK_STR(jstr(j, "from"), "+15005550006");
  CHECK_STR(jstr(j, "body"), "Hello from vyomcomm");
  CHECK_STR(jstr(j, "num_segments"), "1");
  CHECK_STR(jstr(j, "num_media"), "0");
  CHECK_STR(jstr(j, "direction"), "outbound-api");
  CHECK_STR(jstr(j, "api_version"), "2010-04-01");
  CHECK_STR(jstr(j, "price_unit"), "USD");
  CHECK(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j, "price")));
  CHECK(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j, "error_code")));
  CHECK(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j, "date_sent")));
  CHECK(cJSON_IsNull(
          cJSON_GetObjectItemCaseSensitive(j, "messaging_service_sid")));
  /* RFC 2822, e.g. "Thu, 24 Aug 2023 05:01:45 +0000". */
  CHECK(sscanf(jstr(j, "date_created"), "%3s, %d %3s %d %d:%d:%d %5s", wd,
               &d, mon, &y, &hh, &mm, &ss, tz) == 8);
  CHECK_STR(tz, "+0000");
  CHECK(y >= 2024);
  snprintf(uri, sizeof(uri), "/2010-04-01/Accounts/%s/Messages/%s.json", SID,
           jstr(j, "sid"));
  CHECK_STR(jstr(j, "uri"), uri);
  CHECK(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(j,
                                                        "subresource_uris")));
  CHECK(vc_sim_accepted_count(s, "twilio") == 1);
  CHECK(vc_sim_sent_count(s, "+14155550100") == 1);
  CHECK(vc_sim_sent_count(s, jstr(j, "sid")) == 1);
  cJSON_Delete(j);
  resp_free(&r);
  vc_sim_stop(s);
}

static void test_twilio__segments(void)
{
  vc_sim *s = start();
  char form[4096];
  size_t n;
  cJSON *j;
  resp r;

  /* 161 GSM-7 characters: two segments. */
  n = (size_t)sprintf(form, "To=%%2B14155550100&From=%%2B15005550006&Body=");
  memset(form + n, 'x', 161);
  form[n + 161] = '\0';
  tw_post(&r, s, form);
  j = json(&r);
  CHECK(j != NULL && r.status == 201);
  CHECK_STR(jstr(j, "num_segments"), "2");
  cJSON_Delete(j);
  resp_free(&r);
  /* 71 UCS-2 characters (the rupee sign): two segments. */
  form[n] = '\0';
  for (int i = 0; i < 71; i++)
    strcat(form, "%E2%82%B9");
  tw_post(&r, s, form);
  j = json(&r);
  CHECK(j != NULL && r.status == 201);
  CHECK_STR(jstr(j, "num_segments"), "2");
  cJSON_Delete(j);
  resp_free(&r);
  vc_sim_stop(s);
}

static void test_twilio__messaging_service_and_mms(void)
{
  vc_sim *s = start();
  cJSON *j;
  resp r;

  tw_post(&r, s, "To=%2B14155550100&MessagingServiceSid="
          "MG0123456789abcdef0123456789abcdef&Body=hi");
  j = json(&r);
  CHECK(j != NULL && r.status == 201);
  CHECK(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j, "from")));
  CHECK_STR(jstr(j, "messaging_service_sid"),
            "MG0123456789abcdef0123456789abcdef");
  CHECK_STR(jstr(j, "status"), "accepted");
  CHECK_STR(jstr(j, "num_segments"), "0");
  cJSON_Delete(j);
  resp_free(&r);
  /* Media without a body is a valid MMS. */
  tw_post(&r, s, "To=%2B14155550100&From=%2B15005550006&MediaUrl="
          "https%3A%2F%2Fexample.com%2Fa.png&MediaUrl=https%3A%2F%2F"
          "example.com%2Fb.png");
  j = json(&r);
  CHECK(j != NULL && r.status == 201);
  CHECK(strncmp(jstr(j, "sid"), "MM", 2) == 0);
  CHECK_STR(jstr(j, "num_media"), "2");
  CHECK_STR(jstr(j, "body"), "");
  cJSON_Delete(j);
  resp_free(&r);
  vc_sim_stop(s);
}

/* ---- SendGrid --------------------------------------------------------- */


static void test_sendgrid__auth(void)
{
  vc_sim *s = start();
  req_opts none = { NULL, { NULL }, 0 };
  req_opts bad = { NULL, { "Authorization: Bearer SG.nope.nope" }, 0 };
  req_opts basic = { "apikey:" SGKEY, { NULL }, 0 };
  resp r;

  http(&r, "POST", url_of(s, "/v3/mail/send"), "application/json",
       good_mail, strlen(good_mail), &none);
  CHECK(r.status == 401);
  check_sg_error(&r, 0, "authorization required", NULL);
  resp_free(&r);
  http(&r, "POST", url_of(s, "/v3/mail/send"), "application/json",
       good_mail, strlen(good_mail), &bad);
  CHECK(r.status == 401);
  CHECK(r.body && strcmp(r.body, "{\"errors\":[{\"field\":null,\"message\":"
                         "\"The provided authorization grant is invalid, "
                         "expired, or revoked\"}]}") == 0);
  resp_free(&r);
  http(&r, "POST", url_of(s, "/v3/mail/send"), "application/json",
       good_mail, strlen(good_mail), &basic);
  CHECK(r.status == 401);
  resp_free(&r);
  CHECK(vc_sim_accepted_count(s, NULL) == 0);
  vc_sim_stop(s);
}

static void test_sendgrid__content_type_and_json(void)
{
  vc_sim *s = start();
  req_opts o = { NULL, { "Authorization: Bearer " SGKEY }, 0 };
  resp r;

  http(&r, "POST", url_of(s, "/v3/mail/send"), "text/plain", good_mail,
       strlen(good_mail), &o);
  CHECK(r.status == 400);
  check_sg_error(&r, 0, "Content-Type should be application/json.", NULL);
  resp_free(&r);
  sg_post(&r, s, "{\"personalizations\": [");
  CHECK(r.status == 400);
  check_sg_error(&r, 0, "Bad Request", NULL);
  resp_free(&r);
  sg_post(&r, s, "[1,2]");
  CHECK(r.status == 400);
  check_sg_error(&r, 0, "Bad Request", NULL);
  resp_free(&r);
  vc_sim_stop(s);
}

static void test_sendgrid__required_fields(void)
{
  vc_sim *s = start();
  resp r;

  sg_post(&r, s, "{\"from\":{\"email\":\"a@b.example\"},\"subject\":\"s\","
          "\"content\":[{\"type\":\"text/plain\",\"value\":\"v\"}]}");
  CHECK(r.status == 400);
  check_sg_error(&r, 0, "The personalizations field is required and must "
                 "have at least one personalization.", "personalizations");
  resp_free(&r);

  sg_post(&r, s, "{\"personalizations\":[{\"subject\":\"s\"}],\"from\":"
          "{\"email\":\"a@b.example\"},\"content\":[{\"type\":\"text/plain\","
          "\"value\":\"v\"}]}");
  CHECK(r.status == 400);
  check_sg_error(&r, 0, "The to array is required for all personalization "
                 "objects, and must have at least one email object with a "
                 "valid email address.", "personalizations.0.to");
  resp_free(&r);

  sg_post(&r, s, "{\"personalizations\":[{\"to\":[{\"email\":"
          "\"c@d.example\"}]}],\"subject\":\"s\",\"content\":[{\"type\":"
          "\"text/plain\",\"value\":\"v\"}]}");
  CHECK(r.status == 400);
  check_sg_error(&r, 0, "The from object must be provided for every email "
                 "send. It is an object that requires the email parameter, "
                 "but may also contain a name parameter.  e.g. {\"email\" : "
                 "\"example@example.com\"}  or {\"email\" : "
                 "\"example@example.com\", \"name\" : \"Example "
                 "Recipient\"}.", "from.email");
  resp_free(&r);

  sg_post(&r, s, "{\"personalizations\":[{\"to\":[{\"email\":"
          "\"c@d.example\"}]}],\"from\":{\"email\":\"a@b.example\"},"
          "\"content\":[{\"type\":\"text/plain\",\"value\":\"v\"}]}");
  CHECK(r.status == 400);
  check_sg_error(&r, 0, "The subject is required. You can get around this "
                 "requirement if you use a template with a subject defined "
                 "or if every personalization has a subject defined.",
                 "subject");
  resp_free(&r);

  sg_post(&r, s, "{\"personalizations\":[{\"to\":[{\"email\":"
          "\"c@d.example\"}]}],\"from\":{\"email\":\"a@b.example\"},"
          "\"subject\":\"s\"}");
  CHECK(r.status == 400);
  check_sg_error(&r, 0, "Unless a valid template_id is provided, the "
                 "content parameter is required. There must be at least "
                 "one defined content block. We typically suggest both "
                 "text/plain and text/html blocks are included, but only "
                 "one block is required.", "content");
  resp_free(&r);

  /* A template replaces content and subject. */
  sg_post(&r, s, "{\"personalizations\":[{\"to\":[{\"email\":"
          "\"c@d.example\"}],\"dynamic_template_data\":{\"n\":1}}],"
          "\"from\":{\"email\":\"a@b.example\"},\"template_id\":"
          "\"d-0123456789abcdef0123456789abcdef\"}");
  CHECK(r.status == 202);
  resp_free(&r);
  /* So do subjects in every personalization. */
  sg_post(&r, s, "{\"personalizations\":[{\"to\":[{\"email\":"
          "\"c@d.example\"}],\"subject\":\"p\"}],\"from\":{\"email\":"
          "\"a@b.example\"},\"content\":[{\"type\":\"text/plain\","
          "\"value\":\"v\"}]}");
  CHECK(r.status == 202);
  resp_free(&r);
  vc_sim_stop(s);
}

static void test_sendgrid__invalid_values(void)
{
  vc_sim *s = start();
  resp r;

  sg_post(&r, s, "{\"personalizations\":[{\"to\":[{\"email\":"
          "\"not-an-address\"}]}],\"from\":{\"email\":\"a@b.example\"},"
          "\"subject\":\"s\",\"content\":[{\"type\":\"text/plain\","
          "\"value\":\"v\"}]}");
  CHECK(r.status == 400);
  check_sg_error(&r, 0, "Does not contain a valid address.",
                 "personalizations.0.to.0.email");
  resp_free(&r);

  sg_post(&r, s, "{\"personalizations\":[{\"to\":[{\"email\":"
          "\"c@d.example\"}]}],\"from\":{\"email\":\"nobody\"},"
          "\"subject\":\"s\",\"content\":[{\"type\":\"text/plain\","
          "\"value\":\"v\"}]}");
  CHECK(r.status == 400);
  check_sg_error(&r, 0, "The from email does not contain a valid address.",
                 "from.email");
  resp_free(&r);

  sg_post(&r, s, "{\"personalizations\":[{\"to\":[{\"email\":"
          "\"c@d.example\"}]}],\"from\":{\"email\":\"a@b.example\"},"
          "\"subject\":\"s\",\"content\":[{\"type\":\"text/plain\","
          "\"value\":\"\"}]}");
  CHECK(r.status == 400);
  check_sg_error(&r, 0, "The content value must be a string at least one "
                 "character in length.", "content.0.value");
  resp_free(&r);

  sg_post(&r, s, "{\"personalizations\":[{\"to\":[{\"email\":"
          "\"c@d.example\"}]}],\"from\":{\"email\":\"a@b.example\"},"
          "\"subject\":\"s\",\"content\":[{\"type\":\"text/html\","
          "\"value\":\"<p>v</p>\"},{\"type\":\"text/plain\",\"value\":"
          "\"v\"}]}");
  CHECK(r.status == 400);
  check_sg_error(&r, 0, "If present, text/plain content must be first, "
                 "followed by text/html, followed by any other content.",
                 "content.1.type");
  resp_free(&r);

  sg_post(&r, s, "{\"personalizations\":[{\"to\":[{\"email\":"
          "\"c@d.example\"}],\"cc\":[{\"email\":\"C@d.example\"}]}],"
          "\"from\":{\"email\":\"a@b.example\"},\"subject\":\"s\","
          "\"content\":[{\"type\":\"text/plain\",\"value\":\"v\"}]}");
  CHECK(r.status == 400);
  check_sg_error(&r, 0, "Each email address in the personalization block "
                 "should be unique between to, cc, and bcc. We found the "
                 "first duplicate instance of [C@d.example] in the "
                 "personalizations.0.cc field.", "personalizations.0.cc");
  resp_free(&r);
  vc_sim_stop(s);
}

static void test_sendgrid__attachments(void)
{
  vc_sim *s = start();
  resp r;

  sg_post(&r, s, "{\"personalizations\":[{\"to\":[{\"email\":"
          "\"c@d.example\"}]}],\"from\":{\"email\":\"a@b.example\"},"
          "\"subject\":\"s\",\"content\":[{\"type\":\"text/plain\","
          "\"value\":\"v\"}],\"attachments\":[{\"filename\":\"a.pdf\"},"
          "{\"content\":\"not base64!\",\"filename\":\"b.pdf\"},"
          "{\"content\":\"aGVsbG8=\"}]}");
  CHECK(r.status == 400);
  CHECK(sg_error_count(&r) == 3);
  check_sg_error(&r, 0, "The attachment content is required.",
                 "attachments.0.content");
  check_sg_error(&r, 1, "The attachment content must be base64 encoded.",
                 "attachments.1.content");
  check_sg_error(&r, 2, "The attachment filename parameter is required.",
                 "attachments.2.filename");
  resp_free(&r);
  sg_post(&r, s, "{\"personalizations\":[{\"to\":[{\"email\":"
          "\"c@d.example\"}]}],\"from\":{\"email\":\"a@b.example\"},"
          "\"subject\":\"s\",\"content\":[{\"type\":\"text/plain\","
          "\"value\":\"v\"}],\"attachments\":[{\"content\":\"aGVsbG8=\","
          "\"filename\":\"hello.txt\",\"type\":\"text/plain\"}]}");
  CHECK(r.status == 202);
  resp_free(&r);
  vc_sim_stop(s);
}

static void test_sendgrid__all_errors_at_once(void)
{
  vc_sim *s = start();
  resp r;

  /* No personalizations, no from, no subject, no content: four errors. */
  sg_post(&r, s, "{}");
  CHECK(r.status == 400);
  CHECK(sg_error_count(&r) == 4);
  check_sg_error(&r, 0, "The personalizations field is required and must "
                 "have at least one personalization.", "personalizations");
  check_sg_error(&r, 3, "Unless a valid template_id is provided, the "
                 "content parameter is required. There must be at least "
                 "one defined content block. We typically suggest both "
                 "text/plain and text/html blocks are included, but only "
                 "one block is required.", "content");
  {
    cJSON *j = json(&r), *e;
    CHECK(j != NULL);
    e = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "errors"), 0);
    CHECK(strncmp(jstr(e, "help"), "http://sendgrid.com/docs/", 25) == 0);
    cJSON_Delete(j);
  }
  resp_free(&r);
  vc_sim_stop(s);
}

static void test_sendgrid__send_ok(void)
{
  vc_sim *s = start();
  const char *id;
  resp r;

  sg_post(&r, s, good_mail);
  CHECK(r.cc == CURLE_OK);
  CHECK(r.status == 202);
  CHECK(r.len == 0);
  id = rhdr(&r, "X-Message-Id");
  CHECK(strlen(id) == 22);
  CHECK(strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
               "0123456789-_") == 22);
  CHECK(vc_sim_accepted_count(s, "sendgrid") == 1);
  CHECK(vc_sim_sent_count(s, "asha@example.com") == 1);
  CHECK(vc_sim_sent_count(s, "01HZX0000000000000000000AA") == 1);
  CHECK(vc_sim_sent_count(s, id) == 1);
  resp_free(&r);
  vc_sim_stop(s);
}

static void test_sendgrid__not_found_and_method(void)
{
  vc_sim *s = start();
  req_opts o = { NULL, { "Authorization: Bearer " SGKEY }, 0 };
  resp r;

  http(&r, "GET", url_of(s, "/v3/mail/send"), NULL, NULL, 0, &o);
  CHECK(r.status == 405);
  check_sg_error(&r, 0, "method not allowed", NULL);
  resp_free(&r);
  http(&r, "POST", url_of(s, "/v3/mail/nothing"), "application/json", "{}",
       2, &o);
  CHECK(r.status == 404);
  check_sg_error(&r, 0, "not found", NULL);
  resp_free(&r);
  vc_sim_stop(s);
}

/* A mail with one attachment of `bytes` base64 characters. */

static void test_sendgrid__large_bodies(void)
{
  vc_sim *s = start();
  vc_sim_request q;
  char *m;
  resp r;

  /* 2 MB: far past libre's own 512 KB request buffer, still accepted. */
  m = big_mail(2 * 1024 * 1024);
  sg_post(&r, s, m);
  CHECK(r.cc == CURLE_OK);
  CHECK(r.status == 202);
  resp_free(&r);
  free(m);
  /* Over 30 MB: 413, and the body is never read. */
  m = big_mail(30 * 1024 * 1024 + 16);
  sg_post(&r, s, m);
  free(m);
  CHECK(r.cc == CURLE_OK);
  CHECK(r.status == 413);
  check_sg_error(&r, 0, "content too large", NULL);
  resp_free(&r);
  CHECK(vc_sim_accepted_count(s, "sendgrid") == 1);
  CHECK(vc_sim_received_count(s) == 2);
  CHECK_OK(vc_sim_received_get(s, 1, &q));
  CHECK(q.status == 413);
  CHECK(q.body_len == 0);
  CHECK(q.content_length > 30u * 1024 * 1024);
  vc_sim_stop(s);
}

/* ---- faults ----------------------------------------------------------- */

static void test_fault__5xx(void)
{
  vc_sim *s = start();
  vc_sim_fault f = VC_SIM_FAULT_INIT;
  vc_sim_request q;
  resp r;

  f.kind = VC_SIM_FAULT_5XX;
  f.count = 2;
  f.status = 503;
  CHECK_OK(vc_sim_fault_add(s, "twilio", &f));
  tw_post(&r, s, good_form);
  check_twilio_error(&r, 503, 20503, "Service Unavailable");
  resp_free(&r);
  tw_post(&r, s, good_form);
  CHECK(r.status == 503);
  resp_free(&r);
  tw_post(&r, s, good_form);
  CHECK(r.status == 201);
  resp_free(&r);
  CHECK(vc_sim_accepted_count(s, "twilio") == 1);
  CHECK_OK(vc_sim_received_get(s, 0, &q));
  CHECK(q.fault == VC_SIM_FAULT_5XX && q.status == 503);

  f.status = 0;                     /* default 500 */
  f.count = 1;
  CHECK_OK(vc_sim_fault_add(s, "sendgrid", &f));
  sg_post(&r, s, good_mail);
  CHECK(r.status == 500);
  check_sg_error(&r, 0, "internal server error", NULL);
  resp_free(&r);
  sg_post(&r, s, good_mail);
  CHECK(r.status == 202);
  resp_free(&r);
  /* Faults are per provider: Twilio is unaffected by SendGrid's. */
  CHECK_OK(vc_sim_fault_add(s, "sendgrid", &f));
  tw_post(&r, s, good_form);
  CHECK(r.status == 201);
  resp_free(&r);
  vc_sim_fault_clear(s, "sendgrid");
  sg_post(&r, s, good_mail);
  CHECK(r.status == 202);
  resp_free(&r);
  CHECK(vc_sim_fault_add(s, "nobody", &f) == -ENOENT);
  vc_sim_stop(s);
}

static void test_fault__429(void)
{
  vc_sim *s = start();
  vc_sim_fault f = VC_SIM_FAULT_INIT;
  long long reset;
  resp r;

  f.kind = VC_SIM_FAULT_429;
  f.retry_after_s = 7;
  CHECK_OK(vc_sim_fault_add(s, "twilio", &f));
  tw_post(&r, s, good_form);
  check_twilio_error(&r, 429, 20429, "Too Many Requests");
  CHECK_STR(rhdr(&r, "Retry-After"), "7");
  resp_free(&r);
  tw_post(&r, s, good_form);
  CHECK(r.status == 201);
  resp_free(&r);

  CHECK_OK(vc_sim_fault_add(s, "sendgrid", &f));
  sg_post(&r, s, good_mail);
  CHECK(r.status == 429);
  check_sg_error(&r, 0, "too many requests", NULL);
  CHECK_STR(rhdr(&r, "X-RateLimit-Remaining"), "0");
  reset = atoll(rhdr(&r, "X-RateLimit-Reset"));
  CHECK(reset >= (long long)time(NULL) + 5 &&
        reset <= (long long)time(NULL) + 8);
  resp_free(&r);
  vc_sim_stop(s);
}

static void test_fault__timeout(void)
{
  vc_sim *s = start();
  vc_sim_fault f = VC_SIM_FAULT_INIT;
  req_opts o = { SID ":" TOKEN, { NULL }, 300 };
  vc_sim_request q;
  resp r;

  /* Held longer than the client waits: the client times out. */
  f.kind = VC_SIM_FAULT_TIMEOUT;
  f.hold_ms = 5000;
  CHECK_OK(vc_sim_fault_add(s, "twilio", &f));
  http(&r, "POST", url_of(s, TW_PATH), "application/x-www-form-urlencoded",
       good_form, strlen(good_form), &o);
  CHECK(r.cc == CURLE_OPERATION_TIMEDOUT);
  CHECK(r.elapsed >= 0.25 && r.elapsed < 3.0);
  resp_free(&r);
  /* Held briefly, then closed unanswered: the client gets nothing. */
  f.hold_ms = 200;
  CHECK_OK(vc_sim_fault_add(s, "twilio", &f));
  tw_post(&r, s, good_form);
  CHECK(r.cc == CURLE_GOT_NOTHING);
  CHECK(r.elapsed >= 0.15);
  resp_free(&r);
  tw_post(&r, s, good_form);
  CHECK(r.status == 201);
  resp_free(&r);
  CHECK_OK(vc_sim_received_get(s, 0, &q));
  CHECK(q.fault == VC_SIM_FAULT_TIMEOUT && q.status == 0);
  /* Not processed: only the last request was accepted. */
  CHECK(vc_sim_accepted_count(s, NULL) == 1);
  vc_sim_stop(s);
}

static void test_fault__reset(void)
{
  vc_sim *s = start();
  vc_sim_fault f = VC_SIM_FAULT_INIT;
  resp r;

  f.kind = VC_SIM_FAULT_RESET;
  CHECK_OK(vc_sim_fault_add(s, "sendgrid", &f));
  sg_post(&r, s, good_mail);
  CHECK(r.cc == CURLE_RECV_ERROR || r.cc == CURLE_GOT_NOTHING);
  CHECK(r.status == 0);
  resp_free(&r);
  sg_post(&r, s, good_mail);
  CHECK(r.status == 202);
  resp_free(&r);
  CHECK(vc_sim_accepted_count(s, NULL) == 1);
  vc_sim_stop(s);
}

static void test_fault__slow_body(void)
{
  vc_sim *s = start();
  vc_sim_fault f = VC_SIM_FAULT_INIT;
  double slow;
  cJSON *j;
  resp r;

  f.kind = VC_SIM_FAULT_SLOW_BODY;
  f.chunk_bytes = 100;
  f.chunk_delay_ms = 40;
  CHECK_OK(vc_sim_fault_add(s, "twilio", &f));
  tw_post(&r, s, good_form);
  CHECK(r.cc == CURLE_OK);
  CHECK(r.status == 201);
  j = json(&r);
  CHECK(j != NULL);
  CHECK(strncmp(jstr(j, "sid"), "SM", 2) == 0);
  cJSON_Delete(j);
  /* About 1 KB in 100-byte pieces, 40 ms apart: several reads, ~0.4 s. */
  CHECK(r.writes >= 3);
  CHECK(r.elapsed >= 0.25);
  slow = r.elapsed;
  resp_free(&r);
  tw_post(&r, s, good_form);
  CHECK(r.status == 201 && r.writes < 3 && r.elapsed < slow);
  resp_free(&r);
  CHECK(vc_sim_accepted_count(s, NULL) == 2);
  vc_sim_stop(s);
}

static void test_fault__accept_first(void)
{
  vc_sim *s = start();
  vc_sim_fault f = VC_SIM_FAULT_INIT;
  vc_sim_request q;
  resp r;

  /* Accepted, then the connection resets: the client cannot know. */
  f.kind = VC_SIM_FAULT_RESET;
  f.accept_first = 1;
  CHECK_OK(vc_sim_fault_add(s, "twilio", &f));
  tw_post(&r, s, good_form);
  CHECK(r.cc != CURLE_OK);
  resp_free(&r);
  CHECK(vc_sim_sent_count(s, "+14155550100") == 1);
  CHECK_OK(vc_sim_received_get(s, 0, &q));
  CHECK(strncmp(q.message_id, "SM", 2) == 0 && q.status == 0);
  /* The client's retry is a duplicate. */
  tw_post(&r, s, good_form);
  CHECK(r.status == 201);
  resp_free(&r);
  CHECK(vc_sim_sent_count(s, "+14155550100") == 2);
  CHECK(vc_sim_duplicate_count(s, "twilio") == 1);
  CHECK(vc_sim_duplicate_count(s, "sendgrid") == 0);
  /* 5xx after acceptance: the same ambiguity with an answer. */
  f.kind = VC_SIM_FAULT_5XX;
  CHECK_OK(vc_sim_fault_add(s, "sendgrid", &f));
  sg_post(&r, s, good_mail);
  CHECK(r.status == 500);
  resp_free(&r);
  CHECK(vc_sim_accepted_count(s, "sendgrid") == 1);
  vc_sim_stop(s);
}

VC_TESTS(
  VC_TEST(test_twilio__auth_missing),
  VC_TEST(test_twilio__auth_wrong),
  VC_TEST(test_twilio__content_type),
  VC_TEST(test_twilio__required_params),
  VC_TEST(test_twilio__invalid_to),
  VC_TEST(test_twilio__invalid_from),
  VC_TEST(test_twilio__body_too_long),
  VC_TEST(test_twilio__not_found),
  VC_TEST(test_twilio__send_ok),
  VC_TEST(test_twilio__segments),
  VC_TEST(test_twilio__messaging_service_and_mms),
  VC_TEST(test_sendgrid__auth),
  VC_TEST(test_sendgrid__content_type_and_json),
  VC_TEST(test_sendgrid__required_fields),
  VC_TEST(test_sendgrid__invalid_values),
  VC_TEST(test_sendgrid__attachments),
  VC_TEST(test_sendgrid__all_errors_at_once),
  VC_TEST(test_sendgrid__send_ok),
  VC_TEST(test_sendgrid__not_found_and_method),
  VC_TEST(test_sendgrid__large_bodies),
  VC_TEST(test_fault__5xx),
  VC_TEST(test_fault__429),
  VC_TEST(test_fault__timeout),
  VC_TEST(test_fault__reset),
  VC_TEST(test_fault__slow_body),
  VC_TEST(test_fault__accept_first),
)
