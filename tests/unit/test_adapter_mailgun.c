/*
 * Unit tests of the Mailgun adapter (adapters/email/mailgun.c): config
 * and credential checks, the messages request (urlencoded and
 * multipart), every outcome class of Mailgun's answer, webhook
 * verification against the published vector TV-MG-1 and its negative
 * cases, the timestamp window, event mapping, routed inbound mail, token
 * replay, and malformed bodies.
 *
 * Signatures not taken from TV-MG-1 were computed with Python's
 * hmac/hashlib, independently of the adapter:
 *   hmac.new(key, (timestamp + token).encode(), hashlib.sha256).hexdigest()
 * Expected Authorization values: base64.b64encode(b"api:<key>").
 */
#include "core/common.h"
#include "core/buf.h"
#include "core/codec.h"
#include "core/multipart.h"
#include "core/text.h"
#include "net/http_out.h"
#include "net/fetch.h"
#include "net/sink.h"
#include "adapters/builtin.h"

#include "harness.h"

#define MG (&vc__adapter_mailgun)

#define API_KEY "key-test-0123456789abcdef"
/* base64("api:key-test-0123456789abcdef") */
#define API_AUTH "Basic YXBpOmtleS10ZXN0LTAxMjM0NTY3ODlhYmNkZWY="

/* TV-MG-1 (mailgun-php tests/Api/WebhookTest.php), stated as facts. */
#define TV_KEY "key-3ax6xnjp29jd6fds4gc373sgvjxteol0"
#define TV_TS "1403645220"
#define TV_TOKEN "5egbgr1vjgqxtrnp65xfznchgdccwh5d6i09vijqi3whgowmn6"
#define TV_SIG \
  "9cfc5c41582e51246e73c88d34db3af0a3a2692a76fbab81492842f000256d33"
/* Its negative case: the same signature over another token. */
#define TV_BAD_TOKEN "owyldpe6nxhmrn78epljl6bj0orrki1u3d2v5e6cnlmmuox8jr"
#define TV_NOW (INT64_C(1403645220) * 1000)

/* Computed with Python (see the header): TV_KEY over TV_TS + TOKEN2, and
 * over "1403645100" + TOKEN2. */
#define TOKEN2 "0123456789abcdefghijklmnopqrstuvwxyz0123456789abcd"
#define SIG2 "d253d011fe14fa880921b811b5439706ff45a8abaa011fe6834ea381631c83cc"
#define TS3 "1403645100"
#define SIG3 "14d2fb39cb9c2eeb04967ee8b512b48f6298cbda192da67104a6ba4b96d9d564"

#define CONFIG "{\"domain\": \"mg.example.com\"}"
#define CREDS \
  "{\"api_key\": \"" API_KEY "\", \"webhook_signing_key\": \"" TV_KEY "\"}"
#define SEND_URL "https://api.mailgun.net/v3/mg.example.com/messages"

#define MSG_ID "01HZX0000000000000000000EE"
#define TENANT_ID "01HZX00000000000000000TTTT"

/* ------------------------------------------------------------------ */
/* Helpers                                                             */

static void *state_new(const char *config, const char *creds)
{
  void *st = NULL;

  CHECK_OK(MG->init(&st, config, creds));
  CHECK(st != NULL);
  return st;
}

/* init must fail with `code` and a message containing `says`. */
static void init_fails(const char *config, const char *creds, int code,
                       const char *says)
{
  void *st = (void *)1;
  int rc = MG->init(&st, config, creds);

  if (rc != code || strstr(vc_error_last()->message, says) == NULL)
    fprintf(stderr, "  init gave %d \"%s\", wanted %d \"%s\"\n", rc,
            vc_error_last()->message, code, says);
  CHECK(rc == code);
  CHECK(st == NULL);
  CHECK(strstr(vc_error_last()->message, says) != NULL);
}

static vc_outbound outbound(void)
{
  vc_outbound m;

  memset(&m, 0, sizeof(m));
  m.version = VC_OUTBOUND_VERSION;
  m.kind = VC_CHANNEL_EMAIL;
  m.message_id = MSG_ID;
  m.tenant_id = TENANT_ID;
  m.to = "asha@example.com";
  m.from = "billing@erp.example";
  m.from_name = "ERP Billing";
  m.subject = "Invoice 42";
  m.text = "Your invoice & receipt";
  m.html = "<p>Your invoice</p>";
  return m;
}

static const char *body_of(const vc_http_out *req)
{
  return req->body.ptr ? req->body.ptr : "";
}

static vc_http_response response(int status, const char *body)
{
  vc_http_response r;

  memset(&r, 0, sizeof(r));
  r.version = VC_HTTP_RESPONSE_VERSION;
  r.status = status;
  if (body != NULL) {
    r.body.ptr = (char *)body;
    r.body.size = strlen(body);
  }
  return r;
}

static vc_send_result parse_send(void *st, const vc_http_response *res)
{
  vc_outbound m = outbound();
  vc_send_result out;

  memset(&out, 0, sizeof(out));
  out.version = VC_SEND_RESULT_VERSION;
  CHECK_OK(MG->parse_send(st, &m, res, &out));
  return out;
}

static vc_http_request request(const char *ctype, const char *body,
                               size_t len, vc_http_header *h)
{
  vc_http_request r;

  memset(&r, 0, sizeof(r));
  r.version = VC_HTTP_REQUEST_VERSION;
  r.method = "POST";
  r.target = "/webhooks/01HZX0000000000000000000CH";
  if (ctype != NULL) {
    h->name = "Content-Type";
    h->value = ctype;
    r.headers = h;
    r.nheaders = 1;
  }
  r.body = (const uint8_t *)body;
  r.body_len = len;
  return r;
}

static int verify_at(void *st, const char *ctype, const char *body,
                     int64_t now)
{
  vc_http_header h;
  vc_http_request r = request(ctype, body, strlen(body), &h);

  return MG->verify_webhook(st, &r, VC__WEBHOOK_ENV("https://x/", now));
}

/* A JSON webhook: the signature object, then event-data. */
static char *event_body(const char *ts, const char *token, const char *sig,
                        const char *event_data)
{
  char *b = NULL;

  CHECK(asprintf(&b, "{\"signature\": {\"timestamp\": \"%s\", \"token\": "
                 "\"%s\", \"signature\": \"%s\"}, \"event-data\": %s}", ts,
                 token, sig, event_data) > 0);
  return b;
}

/* What a sink received. */
#define MAX_SEEN 8
typedef struct seen {
  size_t nstatus, ninbound, nonce;
  vc_status_update st[MAX_SEEN];
  char st_strs[MAX_SEEN][6][1100];
  vc_inbound in;
  char in_strs[4][70000];
  char tokens[16][300];
  size_t ntokens;
} seen;

static const char *keep(char *slot, const char *s)
{
  if (s == NULL)
    return NULL;
  snprintf(slot, 1100, "%s", s);
  return slot;
}

static int on_status(void *payload, const vc_status_update *u)
{
  seen *s = payload;
  size_t i = s->nstatus++;

  CHECK(i < MAX_SEEN);
  s->st[i] = *u;
  s->st[i].message_id = keep(s->st_strs[i][0], u->message_id);
  s->st[i].provider_id = keep(s->st_strs[i][1], u->provider_id);
  s->st[i].event_id = keep(s->st_strs[i][2], u->event_id);
  s->st[i].provider_code = keep(s->st_strs[i][3], u->provider_code);
  s->st[i].error_message = keep(s->st_strs[i][4], u->error_message);
  return 0;
}

static int on_inbound(void *payload, const vc_inbound *m)
{
  seen *s = payload;
  const char *src[4] = { m->provider_id, m->from, m->to, m->text };
  const char **dst[4] = { &s->in.provider_id, &s->in.from, &s->in.to,
                          &s->in.text };

  s->ninbound++;
  s->in = *m;
  for (int i = 0; i < 4; i++) {
    if (src[i] != NULL)
      snprintf(s->in_strs[i], sizeof(s->in_strs[i]), "%s", src[i]);
    *dst[i] = src[i] != NULL ? s->in_strs[i] : NULL;
  }
  return 0;
}

/* Tokens are remembered across calls, as the core does in its store. */
static int on_once(void *payload, const char *key)
{
  seen *s = payload;

  s->nonce++;
  for (size_t i = 0; i < s->ntokens; i++)
    if (strcmp(s->tokens[i], key) == 0)
      return vc__error_set(VC_ERRCLASS_ADAPTER, VC_EEXISTS, "seen");
  CHECK(s->ntokens < 16);
  snprintf(s->tokens[s->ntokens++], 300, "%s", key);
  return 0;
}

/* Parse a webhook into `s`; the sink's reply status goes to *reply. */
static int parse_into(seen *s, void *st, const char *ctype,
                      const char *body, size_t len, int *reply)
{
  vc_event_sink sink;
  vc_http_header h;
  vc_http_request r = request(ctype, body, len, &h);
  int rc;

  vc__sink_init(&sink, on_status, on_inbound, s);
  vc__sink_set_once(&sink, on_once);
  rc = MG->parse_webhook(st, &r, &sink);
  if (reply != NULL)
    *reply = sink.reply_status;
  vc__sink_fini(&sink);
  return rc;
}

/* A form body given as a string. */
static int parse_form_str(seen *s, void *st, const char *body, int *reply)
{
  return parse_into(s, st, "application/x-www-form-urlencoded", body,
                    strlen(body), reply);
}

static seen *seen_new(void)
{
  seen *s = calloc(1, sizeof(*s));

  CHECK(s != NULL);
  return s;
}

/* One event of ours with `fields` added to its event-data. */
static char *our_event(const char *token, const char *sig,
                       const char *fields)
{
  char ed[2048];

  snprintf(ed, sizeof(ed),
           "{\"id\": \"CPgfbmQMTCKtHW6uIWtuVe\", \"timestamp\": "
           "1521472262.908181, \"log-level\": \"info\", %s, "
           "\"message\": {\"headers\": {\"to\": \"asha@example.com\", "
           "\"message-id\": \"20130503182626.18666.16540@mg.example.com\", "
           "\"from\": \"billing@erp.example\", \"subject\": \"Invoice\"}, "
           "\"attachments\": [], \"size\": 111}, \"recipient\": "
           "\"asha@example.com\", \"tags\": [], \"user-variables\": "
           "{\"vc_message_id\": \"" MSG_ID "\", \"vc_tenant_id\": \""
           TENANT_ID "\"}}", fields);
  return event_body(TV_TS, token, sig, ed);
}

/* ------------------------------------------------------------------ */
/* init                                                                */

static void test_mailgun__init_ok_and_regions(void)
{
  vc_outbound m = outbound();
  vc_http_out req;
  void *st;

  st = state_new(CONFIG, "{\"api_key\": \"" API_KEY "\"}");
  vc__http_out_init(&req);
  CHECK_OK(MG->build_send(st, &m, &req));
  CHECK_STR(req.url, SEND_URL);
  vc__http_out_reset(&req);
  MG->fini(st);

  st = state_new("{\"domain\": \"MG.Example.COM\", \"region\": \"eu\"}",
                 CREDS);
  CHECK_OK(MG->build_send(st, &m, &req));
  CHECK_STR(req.url, "https://api.eu.mailgun.net/v3/mg.example.com/"
            "messages");
  vc__http_out_reset(&req);
  MG->fini(st);

  st = state_new("{\"domain\": \"mg.example.com\", \"region\": \"us\"}",
                 CREDS);
  CHECK_OK(MG->build_send(st, &m, &req));
  CHECK_STR(req.url, SEND_URL);
  vc__http_out_reset(&req);
  MG->fini(st);

  /* The simulator: http on loopback, trailing slashes dropped. */
  st = state_new("{\"domain\": \"mg.example.com\", \"base_url\": "
                 "\"http://127.0.0.1:8099/\"}", CREDS);
  CHECK_OK(MG->build_send(st, &m, &req));
  CHECK_STR(req.url, "http://127.0.0.1:8099/v3/mg.example.com/messages");
  vc__http_out_reset(&req);
  MG->fini(st);
  MG->fini(NULL);
}

static void test_mailgun__init_refusals(void)
{
  init_fails("{}", CREDS, VC_EINVALID, "config 'domain' is required");
  init_fails("{\"domain\": \"localhost\"}", CREDS, VC_EINVALID,
             "not a domain name");
  init_fails("{\"domain\": \"a..b\"}", CREDS, VC_EINVALID,
             "not a domain name");
  init_fails("{\"domain\": \"mg.example.com/x\"}", CREDS, VC_EINVALID,
             "not a domain name");
  init_fails("{\"domain\": \"-a.example\"}", CREDS, VC_EINVALID,
             "not a domain name");
  init_fails("{\"domain\": 7}", CREDS, VC_EINVALID, "must be a string");
  init_fails("{\"domain\": \"mg.example.com\", \"region\": \"ap\"}", CREDS,
             VC_EINVALID, "\"us\" or \"eu\"");
  init_fails("{\"domain\": \"mg.example.com\", \"region\": \"eu\", "
             "\"base_url\": \"https://x.example\"}", CREDS, VC_EINVALID,
             "exclude each other");
  init_fails("{\"domain\": \"mg.example.com\", \"base_url\": "
             "\"http://api.mailgun.net\"}", CREDS, VC_EINVALID,
             "only for a loopback host");
  init_fails("{\"domain\": \"mg.example.com\", \"base_url\": "
             "\"https://u:p@api.mailgun.net\"}", CREDS, VC_EINVALID,
             "no user");
  init_fails("{\"domain\": \"mg.example.com\", \"base_url\": "
             "\"ftp://api.mailgun.net\"}", CREDS, VC_EINVALID,
             "https://");
  init_fails("{\"domain\": \"mg.example.com\", \"webhook_window_s\": 10}",
             CREDS, VC_EINVALID, "60 to 86400");
  init_fails("{\"domain\": \"mg.example.com\", \"webhook_window_s\": "
             "90000}", CREDS, VC_EINVALID, "60 to 86400");
  init_fails("{\"domain\": \"mg.example.com\", \"webhook_window_s\": "
             "300.5}", CREDS, VC_EINVALID, "whole number");
  init_fails("{\"domain\": \"mg.example.com\", \"tracking_clicks\": "
             "\"sometimes\"}", CREDS, VC_EINVALID, "htmlonly");
  init_fails("{\"domain\": \"mg.example.com\", \"test_mode\": \"yes\"}",
             CREDS, VC_EINVALID, "true or false");
  init_fails("{\"domain\": \"mg.example.com\", \"colour\": 1}", CREDS,
             VC_EINVALID, "unknown config key 'colour'");
  init_fails("{\"domain\": \"a.example\", \"domain\": \"b.example\"}",
             CREDS, VC_EINVALID, "appears twice");
  init_fails("[1]", CREDS, VC_EINVALID, "config");
  init_fails(CONFIG, "{}", VC_EINVALID, "'api_key' is required");
  init_fails(CONFIG, "{\"api_key\": \"\"}", VC_EINVALID, "1 to 256");
  init_fails(CONFIG, "{\"api_key\": 12}", VC_EINVALID, "must be a string");
  init_fails(CONFIG, "{\"api_key\": \"a\", \"webhook_signing_key\": "
             "\"b\", \"api_key\": \"c\"}", VC_EINVALID, "appears twice");
}

static void test_mailgun__init_never_quotes_secrets(void)
{
  void *st = NULL;

  /* A secret with a space, and a secret pasted as a key name. */
  CHECK(MG->init(&st, CONFIG, "{\"api_key\": \"key-s3cret value\"}") ==
        VC_EINVALID);
  CHECK(strstr(vc_error_last()->message, "s3cret") == NULL);
  CHECK(MG->init(&st, CONFIG, "{\"api_key\": \"k\", \"key-s3cret\": 1}") ==
        VC_EINVALID);
  CHECK(strstr(vc_error_last()->message, "s3cret") == NULL);
  CHECK(MG->init(&st, CONFIG, "{\"api_key\": \"k\", "
                 "\"webhook_signing_key\": \"s3cret\n\"}") == VC_EINVALID);
  CHECK(strstr(vc_error_last()->message, "s3cret") == NULL);
  CHECK(MG->init(&st, CONFIG, "{\"api_key\": \"s3cret") < 0);
  CHECK(strstr(vc_error_last()->message, "s3cret") == NULL);
  CHECK(st == NULL);
}

/* ------------------------------------------------------------------ */
/* build_send                                                          */

static void test_mailgun__build_send_form(void)
{
  void *st = state_new(CONFIG, CREDS);
  vc_outbound m = outbound();
  vc_http_out req;

  vc__http_out_init(&req);
  CHECK_OK(MG->build_send(st, &m, &req));
  CHECK_STR(req.method, "POST");
  CHECK_STR(req.url, SEND_URL);
  CHECK_STR(vc__http_out_header(&req, "Authorization"), API_AUTH);
  CHECK_STR(vc__http_out_header(&req, "Content-Type"),
            "application/x-www-form-urlencoded");
  CHECK_STR(vc__http_out_header(&req, "Accept"), "application/json");
  CHECK_STR(body_of(&req),
            "from=ERP+Billing+%3Cbilling%40erp.example%3E"
            "&to=asha%40example.com&subject=Invoice+42"
            "&text=Your+invoice+%26+receipt"
            "&html=%3Cp%3EYour+invoice%3C%2Fp%3E"
            "&v%3Avc_message_id=" MSG_ID "&v%3Avc_tenant_id=" TENANT_ID);
  vc__http_out_reset(&req);

  /* Only what is there: no name, no subject, no HTML, no ids. */
  m.from_name = NULL;
  m.subject = NULL;
  m.html = "";
  m.message_id = NULL;
  m.tenant_id = NULL;
  CHECK_OK(MG->build_send(st, &m, &req));
  CHECK_STR(body_of(&req), "from=billing%40erp.example"
            "&to=asha%40example.com&text=Your+invoice+%26+receipt");
  vc__http_out_reset(&req);
  MG->fini(st);
}

static void test_mailgun__build_send_display_names(void)
{
  static const struct { const char *name, *want; } cases[] = {
    /* Plain words stay as they are; anything else is quoted. */
    { "Asha's Shop", "from=Asha%27s+Shop+%3Cb%40erp.example%3E" },
    { "Billing, ERP", "from=%22Billing%2C+ERP%22+%3Cb%40erp.example%3E" },
    { "The \"Best\" \\ Shop",
      "from=%22The+%5C%22Best%5C%22+%5C%5C+Shop%22+%3Cb%40erp.example%3E" },
    { "R\xc3\xa9sum\xc3\xa9 Co",
      "from=R%C3%A9sum%C3%A9+Co+%3Cb%40erp.example%3E" },
    { "ERP (India)", "from=%22ERP+%28India%29%22+%3Cb%40erp.example%3E" },
  };
  void *st = state_new(CONFIG, CREDS);
  vc_outbound m = outbound();
  vc_http_out req;

  m.from = "b@erp.example";
  for (size_t i = 0; i < VC_ARRAY_SIZE(cases); i++) {
    size_t n = strlen(cases[i].want);
    m.from_name = cases[i].name;
    vc__http_out_init(&req);
    CHECK_OK(MG->build_send(st, &m, &req));
    if (strncmp(body_of(&req), cases[i].want, n) != 0 ||
        body_of(&req)[n] != '&')
      fprintf(stderr, "  %s\n", body_of(&req));
    CHECK(strncmp(body_of(&req), cases[i].want, n) == 0);
    CHECK(body_of(&req)[n] == '&');
    vc__http_out_reset(&req);
  }
  MG->fini(st);
}

static void test_mailgun__build_send_options(void)
{
  void *st = state_new("{\"domain\": \"mg.example.com\", \"test_mode\": "
                       "true, \"tracking_opens\": false, "
                       "\"tracking_clicks\": \"htmlonly\"}", CREDS);
  vc_outbound m = outbound();
  vc_http_out req;

  vc__http_out_init(&req);
  CHECK_OK(MG->build_send(st, &m, &req));
  CHECK(strstr(body_of(&req), "&o%3Atestmode=yes&o%3Atracking-opens=no"
               "&o%3Atracking-clicks=htmlonly") != NULL);
  vc__http_out_reset(&req);
  MG->fini(st);
  st = state_new("{\"domain\": \"mg.example.com\", \"test_mode\": false, "
                 "\"tracking_opens\": true, \"tracking_clicks\": false}",
                 CREDS);
  CHECK_OK(MG->build_send(st, &m, &req));
  CHECK(strstr(body_of(&req), "testmode") == NULL);
  CHECK(strstr(body_of(&req), "&o%3Atracking-opens=yes"
               "&o%3Atracking-clicks=no") != NULL);
  vc__http_out_reset(&req);
  MG->fini(st);
}

static void test_mailgun__build_send_attachments(void)
{
  static const uint8_t pdf[] = { '%', 'P', 'D', 'F', 0, 1, 2, '\r', '\n' };
  vc_attachment att[2];
  void *st = state_new(CONFIG, CREDS);
  vc_outbound m = outbound();
  vc_http_out req;
  vc__form f;
  size_t nfiles;

  memset(att, 0, sizeof(att));
  att[0].filename = "invoice-42.pdf";
  att[0].content_type = "application/pdf";
  att[0].data = pdf;
  att[0].len = sizeof(pdf);
  att[1].filename = "notes.txt";
  att[1].data = (const uint8_t *)"plain";
  att[1].len = 5;
  m.attachments = att;
  m.nattachments = 2;
  vc__http_out_init(&req);
  CHECK_OK(MG->build_send(st, &m, &req));
  CHECK(strncmp(vc__http_out_header(&req, "Content-Type"),
                "multipart/form-data; boundary=", 30) == 0);
  CHECK_STR(vc__http_out_header(&req, "Authorization"), API_AUTH);
  CHECK_OK(vc__multipart_parse(&f, &nfiles,
                               vc__http_out_header(&req, "Content-Type"),
                               (const uint8_t *)req.body.ptr, req.body.size,
                               100));
  CHECK(nfiles == 2);
  CHECK(f.n == 7);
  CHECK_STR(vc__form_get(&f, "from"), "ERP Billing <billing@erp.example>");
  CHECK_STR(vc__form_get(&f, "to"), "asha@example.com");
  CHECK_STR(vc__form_get(&f, "subject"), "Invoice 42");
  CHECK_STR(vc__form_get(&f, "text"), "Your invoice & receipt");
  CHECK_STR(vc__form_get(&f, "html"), "<p>Your invoice</p>");
  CHECK_STR(vc__form_get(&f, "v:vc_message_id"), MSG_ID);
  CHECK_STR(vc__form_get(&f, "v:vc_tenant_id"), TENANT_ID);
  vc__form_free(&f);
  /* The files, with their names, types and exact bytes. */
  CHECK(memmem(req.body.ptr, req.body.size,
               "name=\"attachment\"; filename=\"invoice-42.pdf\"\r\n"
               "Content-Type: application/pdf\r\n\r\n%PDF\0\1\2\r\n\r\n--",
               84) != NULL);
  {
    static const char notes[] =
      "name=\"attachment\"; filename=\"notes.txt\"\r\nContent-Type: "
      "application/octet-stream\r\n\r\nplain\r\n--";
    CHECK(memmem(req.body.ptr, req.body.size, notes, sizeof(notes) - 1) !=
          NULL);
  }
  vc__http_out_reset(&req);
  MG->fini(st);
}

static void test_mailgun__build_send_refusals(void)
{
  static const uint8_t one[1] = { 'x' };
  vc_attachment att;
  void *st = state_new(CONFIG, CREDS);
  vc_outbound m;
  vc_http_out req;

  vc__http_out_init(&req);
  m = outbound();
  m.to = "not an address";
  CHECK(MG->build_send(st, &m, &req) == VC_EINVALID);
  CHECK(strstr(vc_error_last()->message, "recipient") != NULL);
  m = outbound();
  m.from = NULL;
  CHECK(MG->build_send(st, &m, &req) == VC_EINVALID);
  CHECK(strstr(vc_error_last()->message, "sender") != NULL);
  m = outbound();
  m.text = NULL;
  m.html = "";
  CHECK(MG->build_send(st, &m, &req) == VC_EINVALID);
  CHECK(strstr(vc_error_last()->message, "text or an HTML body") != NULL);
  m = outbound();
  m.subject = "two\r\nlines";
  CHECK(MG->build_send(st, &m, &req) == VC_EINVALID);
  CHECK(strstr(vc_error_last()->message, "subject") != NULL);
  m = outbound();
  m.from_name = "a\nb";
  CHECK(MG->build_send(st, &m, &req) == VC_EINVALID);
  m = outbound();
  m.text = "bad \xff UTF-8";
  CHECK(MG->build_send(st, &m, &req) == VC_EENCODING);

  /* Mailgun needs the bytes of an attachment. */
  memset(&att, 0, sizeof(att));
  att.filename = "a.pdf";
  att.url = "https://files.example/a.pdf";
  m = outbound();
  m.attachments = &att;
  m.nattachments = 1;
  CHECK(MG->build_send(st, &m, &req) == VC_ENOTSUPPORTED);
  CHECK(strstr(vc_error_last()->message, "attachment 1 is a URL") != NULL);
  att.url = NULL;
  CHECK(MG->build_send(st, &m, &req) == VC_EINVALID);
  CHECK(strstr(vc_error_last()->message, "no content") != NULL);
  att.data = one;
  att.len = 1;
  att.filename = NULL;
  CHECK(MG->build_send(st, &m, &req) == VC_EINVALID);
  CHECK(strstr(vc_error_last()->message, "filename") != NULL);
  att.filename = "a.pdf";
  att.content_type = "text/plain\r\nX-Evil: 1";
  CHECK(MG->build_send(st, &m, &req) == VC_EINVALID);
  /* Over the limit: refused before a byte is read. */
  att.content_type = NULL;
  att.len = 26u * 1024 * 1024;
  CHECK(MG->build_send(st, &m, &req) == VC_ETOOBIG);
  CHECK(strstr(vc_error_last()->message, "25 MB") != NULL);
  m.attachments = NULL;
  CHECK(MG->build_send(st, &m, &req) == VC_EINVALID);
  /* Nothing was built by any refusal. */
  CHECK(req.url == NULL && req.nheaders == 0 && req.body.size == 0);
  vc__http_out_reset(&req);
  MG->fini(st);
}

/* ------------------------------------------------------------------ */
/* parse_send                                                          */

static void test_mailgun__parse_send_accepted(void)
{
  void *st = state_new(CONFIG, CREDS);
  vc_http_response r;
  vc_send_result out;

  /* The answer as mailgun.js's test data has it. */
  r = response(200, "{\"id\": \"<20111114174239.25659.5817@samples."
               "mailgun.org>\", \"message\": \"Queued. Thank you.\"}");
  out = parse_send(st, &r);
  CHECK(out.outcome == VC_SEND_ACCEPTED && out.error == 0);
  CHECK_STR(out.provider_id, "20111114174239.25659.5817@samples.mailgun.org");
  /* Unreadable, or an id that does not fit: accepted all the same. */
  r = response(200, "Queued");
  out = parse_send(st, &r);
  CHECK(out.outcome == VC_SEND_ACCEPTED && out.provider_id[0] == '\0');
  r = response(200, "{\"id\": \"<a b@c>\"}");
  out = parse_send(st, &r);
  CHECK(out.outcome == VC_SEND_ACCEPTED && out.provider_id[0] == '\0');
  r = response(200, "{\"id\": 5}");
  out = parse_send(st, &r);
  CHECK(out.outcome == VC_SEND_ACCEPTED && out.provider_id[0] == '\0');
  r = response(200, NULL);
  out = parse_send(st, &r);
  CHECK(out.outcome == VC_SEND_ACCEPTED);
  MG->fini(st);
}

static void test_mailgun__parse_send_errors(void)
{
  static const struct {
    int status;
    const char *body;
    int outcome, error;
    const char *text;
  } cases[] = {
    { 400, "{\"message\": \"'from' parameter is missing\"}",
      VC_SEND_REJECTED, VC_EPROVIDER, "'from' parameter is missing" },
    { 400, "{\"message\": \"Need at least one of 'text', 'html', "
      "'amp-html' or 'template' parameters specified\"}",
      VC_SEND_REJECTED, VC_EPROVIDER, "Need at least one of 'text'" },
    { 401, "Forbidden", VC_SEND_FAILOVER, VC_EAUTH, "Forbidden" },
    { 403, "{\"message\": \"Domain mg.example.com is not allowed to send: "
      "Free accounts are for test purposes only.\"}",
      VC_SEND_FAILOVER, VC_EAUTH, "is not allowed to send" },
    { 404, "{\"message\": \"Domain not found: mg.example.com\"}",
      VC_SEND_RETRY, VC_EPROVIDER, "Domain not found: mg.example.com" },
    { 413, "{\"message\": \"Request Entity Too Large\"}",
      VC_SEND_REJECTED, VC_ETOOBIG, "Request Entity Too Large" },
    { 429, "{\"message\": \"Too many requests\"}",
      VC_SEND_RETRY, VC_ERATELIMIT, "Too many requests" },
    { 500, "{\"error\": \"internal\"}", VC_SEND_RETRY, VC_EPROVIDER,
      "internal" },
    { 502, "<html><body>Bad Gateway</body></html>", VC_SEND_RETRY,
      VC_EPROVIDER, "HTTP 502 from Mailgun" },
    { 503, NULL, VC_SEND_RETRY, VC_EPROVIDER, "HTTP 503 from Mailgun" },
    { 405, "{\"message\": 42}", VC_SEND_RETRY, VC_EPROVIDER,
      "HTTP 405 from Mailgun" },
  };
  void *st = state_new(CONFIG, CREDS);
  char code[8];

  for (size_t i = 0; i < VC_ARRAY_SIZE(cases); i++) {
    vc_http_response r = response(cases[i].status, cases[i].body);
    vc_send_result out = parse_send(st, &r);
    if (out.outcome != cases[i].outcome || out.error != cases[i].error ||
        strstr(out.error_message, cases[i].text) == NULL)
      fprintf(stderr, "  case %zu: outcome %d error %d \"%s\"\n", i,
              out.outcome, out.error, out.error_message);
    CHECK(out.outcome == cases[i].outcome);
    CHECK(out.error == cases[i].error);
    CHECK(strstr(out.error_message, cases[i].text) != NULL);
    snprintf(code, sizeof(code), "%d", cases[i].status);
    CHECK_STR(out.provider_code, code);
    CHECK(out.provider_id[0] == '\0');
  }
  MG->fini(st);
}

static void test_mailgun__parse_send_retry_after_and_text(void)
{
  vc_http_header h = { "Retry-After", "7" };
  void *st = state_new(CONFIG, CREDS);
  vc_http_response r = response(429, "{\"message\": \"slow down\"}");
  vc_send_result out;
  char big[2000];

  r.headers = &h;
  r.nheaders = 1;
  out = parse_send(st, &r);
  CHECK(out.outcome == VC_SEND_RETRY && out.retry_after_ms == 7000);
  h.value = "999999";
  out = parse_send(st, &r);
  CHECK(out.retry_after_ms == INT64_C(86400) * 1000);
  h.value = "Wed, 21 Oct 2015 07:28:00 GMT";
  out = parse_send(st, &r);
  CHECK(out.retry_after_ms == 0);
  /* Not applied to a final outcome. */
  h.value = "7";
  r.status = 400;
  out = parse_send(st, &r);
  CHECK(out.outcome == VC_SEND_REJECTED && out.retry_after_ms == 0);
  /* Mailgun's text: one line, cut on a character, within the field. */
  r = response(400, "{\"message\": \"bad\\r\\nthing\\u0007 \\u00e9\"}");
  out = parse_send(st, &r);
  CHECK_STR(out.error_message, "bad  thing  \xc3\xa9");
  snprintf(big, sizeof(big), "{\"message\": \"%0254d\xc3\xa9 tail\"}", 0);
  r = response(400, big);
  out = parse_send(st, &r);
  /* 254 digits, and no room left for the two bytes of the é. */
  CHECK(strlen(out.error_message) == 254);
  CHECK(vc__utf8_valid(out.error_message, strlen(out.error_message)));
  MG->fini(st);
}

/* ------------------------------------------------------------------ */
/* verify_webhook                                                      */

static void test_mailgun__verify_tv_mg_1(void)
{
  void *st = state_new(CONFIG, CREDS);
  char *b;

  b = event_body(TV_TS, TV_TOKEN, TV_SIG, "{\"event\": \"delivered\"}");
  CHECK_OK(verify_at(st, "application/json", b, TV_NOW));
  /* Upper-case hex is the same signature. */
  free(b);
  b = event_body(TV_TS, TV_TOKEN, "9CFC5C41582E51246E73C88D34DB3AF0A3A2692A"
                 "76FBAB81492842F000256D33", "{\"event\": \"delivered\"}");
  CHECK_OK(verify_at(st, "application/json", b, TV_NOW));
  free(b);
  /* The negative vector: the same signature over another token. */
  b = event_body(TV_TS, TV_BAD_TOKEN, TV_SIG, "{\"event\": \"delivered\"}");
  CHECK(verify_at(st, "application/json", b, TV_NOW) == VC_EAUTH);
  CHECK(strstr(vc_error_last()->message, "does not verify") != NULL);
  free(b);
  /* And the empty one: (0, '', ''). */
  b = event_body("0", "", "", "{\"event\": \"delivered\"}");
  CHECK(verify_at(st, "application/json", b, 0) == VC_EAUTH);
  free(b);
  /* A second pair computed with Python. */
  b = event_body(TV_TS, TOKEN2, SIG2, "{}");
  CHECK_OK(verify_at(st, "application/json", b, TV_NOW));
  free(b);
  /* One hex digit changed. */
  b = event_body(TV_TS, TOKEN2, "e253d011fe14fa880921b811b5439706ff45a8ab"
                 "aa011fe6834ea381631c83cc", "{}");
  CHECK(verify_at(st, "application/json", b, TV_NOW) == VC_EAUTH);
  free(b);
  /* Another timestamp with the same token and signature. */
  b = event_body(TS3, TOKEN2, SIG2, "{}");
  CHECK(verify_at(st, "application/json", b, TV_NOW) == VC_EAUTH);
  free(b);
  b = event_body(TS3, TOKEN2, SIG3, "{}");
  CHECK_OK(verify_at(st, "application/json", b, TV_NOW));
  free(b);
  MG->fini(st);
}

static void test_mailgun__verify_wrong_key_and_no_key(void)
{
  void *st = state_new(CONFIG, "{\"api_key\": \"k\", "
                       "\"webhook_signing_key\": \"key-another\"}");
  char *b = event_body(TV_TS, TV_TOKEN, TV_SIG, "{}");

  CHECK(verify_at(st, "application/json", b, TV_NOW) == VC_EAUTH);
  CHECK(strstr(vc_error_last()->message, "key-another") == NULL);
  MG->fini(st);
  /* Without a signing key nothing verifies, and the message says why. */
  st = state_new(CONFIG, "{\"api_key\": \"" API_KEY "\"}");
  CHECK(verify_at(st, "application/json", b, TV_NOW) == VC_EAUTH);
  CHECK(strstr(vc_error_last()->message, "webhook_signing_key") != NULL);
  MG->fini(st);
  free(b);
}

static void test_mailgun__verify_timestamp_window(void)
{
  void *st = state_new(CONFIG, CREDS);
  char *b = event_body(TV_TS, TV_TOKEN, TV_SIG, "{}");

  /* Five minutes either way by default. */
  CHECK_OK(verify_at(st, "application/json", b, TV_NOW + 300000));
  CHECK_OK(verify_at(st, "application/json", b, TV_NOW - 300000));
  CHECK(verify_at(st, "application/json", b, TV_NOW + 300001) == VC_EAUTH);
  CHECK(strstr(vc_error_last()->message, "outside the 300 s window") !=
        NULL);
  CHECK(verify_at(st, "application/json", b, TV_NOW - 300001) == VC_EAUTH);
  MG->fini(st);
  st = state_new("{\"domain\": \"mg.example.com\", \"webhook_window_s\": "
                 "3600}", CREDS);
  CHECK_OK(verify_at(st, "application/json", b, TV_NOW + 3600000));
  CHECK(verify_at(st, "application/json", b, TV_NOW + 3600001) == VC_EAUTH);
  MG->fini(st);
  free(b);
}

static void test_mailgun__verify_shapes(void)
{
  static const char *const bad[] = {
    "",
    "{}",
    "[]",
    "not json",
    "{\"signature\": \"x\"}",
    "{\"signature\": {\"timestamp\": \"" TV_TS "\", \"token\": \"" TV_TOKEN
    "\"}}",
    "{\"signature\": {\"timestamp\": \"" TV_TS "\", \"signature\": \""
    TV_SIG "\"}}",
    "{\"signature\": {\"token\": \"" TV_TOKEN "\", \"signature\": \""
    TV_SIG "\"}}",
    "{\"signature\": {\"timestamp\": \"+" TV_TS "\", \"token\": \""
    TV_TOKEN "\", \"signature\": \"" TV_SIG "\"}}",
    "{\"signature\": {\"timestamp\": \"" TV_TS "\", \"token\": \""
    TV_TOKEN "\", \"signature\": \"" TV_SIG "00\"}}",
    "{\"signature\": {\"timestamp\": 1403645220.5, \"token\": \"" TV_TOKEN
    "\", \"signature\": \"" TV_SIG "\"}}",
  };
  void *st = state_new(CONFIG, CREDS);
  char *big;

  for (size_t i = 0; i < VC_ARRAY_SIZE(bad); i++) {
    int rc = verify_at(st, "application/json", bad[i], TV_NOW);
    if (rc != VC_EAUTH)
      fprintf(stderr, "  case %zu gave %d\n", i, rc);
    CHECK(rc == VC_EAUTH);
  }
  /* A whole-number JSON timestamp reads as its digits. */
  CHECK_OK(verify_at(st, "application/json",
                     "{\"signature\": {\"timestamp\": 1403645220, \"token\":"
                     " \"" TV_TOKEN "\", \"signature\": \"" TV_SIG "\"}}",
                     TV_NOW));
  /* No Content-Type: a body opening with '{' is JSON. */
  CHECK_OK(verify_at(st, NULL, "{\"signature\": {\"timestamp\": \"" TV_TS
                     "\", \"token\": \"" TV_TOKEN "\", \"signature\": \""
                     TV_SIG "\"}}", TV_NOW));
  /* Over the webhook bound. */
  big = malloc(VC_WEBHOOK_MAX_BODY + 2);
  CHECK(big != NULL);
  memset(big, ' ', VC_WEBHOOK_MAX_BODY + 1);
  big[VC_WEBHOOK_MAX_BODY + 1] = '\0';
  CHECK(verify_at(st, "application/json", big, TV_NOW) == VC_ETOOBIG);
  free(big);
  MG->fini(st);
}

static void test_mailgun__verify_routed_forms(void)
{
  static const char form[] =
    "recipient=support%40mg.example.com&sender=asha%40example.com"
    "&body-plain=Paid&timestamp=" TV_TS "&token=" TV_TOKEN
    "&signature=" TV_SIG;
  static const char mp[] =
    "--zz\r\nContent-Disposition: form-data; name=\"timestamp\"\r\n\r\n"
    TV_TS "\r\n--zz\r\nContent-Disposition: form-data; name=\"token\"\r\n"
    "\r\n" TV_TOKEN "\r\n--zz\r\nContent-Disposition: form-data; "
    "name=\"signature\"\r\n\r\n" TV_SIG "\r\n--zz--\r\n";
  void *st = state_new(CONFIG, CREDS);
  char tampered[sizeof(form) + 8];

  CHECK_OK(verify_at(st, "application/x-www-form-urlencoded", form,
                     TV_NOW));
  CHECK_OK(verify_at(st, "multipart/form-data; boundary=zz", mp, TV_NOW));
  snprintf(tampered, sizeof(tampered), "%s", form);
  memcpy(strstr(tampered, "token=") + 6, "6", 1);
  CHECK(verify_at(st, "application/x-www-form-urlencoded", tampered,
                  TV_NOW) == VC_EAUTH);
  /* A field twice: which one would be signed? Refused. */
  snprintf(tampered, sizeof(tampered), "%s&token=x", form);
  CHECK(verify_at(st, "application/x-www-form-urlencoded", tampered,
                  TV_NOW) == VC_EAUTH);
  CHECK(verify_at(st, "text/plain", form, TV_NOW) == VC_EAUTH);
  MG->fini(st);
}

/* ------------------------------------------------------------------ */
/* parse_webhook: events                                               */

static void test_mailgun__parse_delivered(void)
{
  void *st = state_new(CONFIG, CREDS);
  seen *s = seen_new();
  char *b = our_event(TV_TOKEN, TV_SIG, "\"event\": \"delivered\", "
                      "\"delivery-status\": {\"code\": 250, \"message\": "
                      "\"OK\", \"description\": \"\"}");
  int reply = 0;

  CHECK_OK(parse_into(s, st, "application/json", b, strlen(b), &reply));
  CHECK(reply == 200);
  CHECK(s->nstatus == 1 && s->nonce == 1);
  CHECK_STR(s->tokens[0], TV_TOKEN);
  CHECK(s->st[0].status == VC_MSG_DELIVERED);
  CHECK_STR(s->st[0].message_id, MSG_ID);
  CHECK_STR(s->st[0].provider_id,
            "20130503182626.18666.16540@mg.example.com");
  CHECK_STR(s->st[0].event_id, "CPgfbmQMTCKtHW6uIWtuVe");
  CHECK(s->st[0].occurred_at == INT64_C(1521472262908));
  CHECK(s->st[0].provider_code == NULL && s->st[0].error_message == NULL);
  free(b);
  free(s);
  MG->fini(st);
}

static void test_mailgun__parse_event_mapping(void)
{
  static const struct {
    const char *fields;
    int status;                /* 0: nothing reported */
    const char *code, *text;
  } cases[] = {
    { "\"event\": \"accepted\", \"method\": \"HTTP\"", VC_MSG_SENT, NULL,
      NULL },
    { "\"event\": \"opened\", \"ip\": \"1.2.3.4\"", VC_MSG_READ, NULL,
      NULL },
    { "\"event\": \"clicked\", \"url\": \"https://x\"", VC_MSG_READ, NULL,
      NULL },
    { "\"event\": \"failed\", \"severity\": \"permanent\", \"reason\": "
      "\"bounce\", \"delivery-status\": {\"code\": 550, \"message\": \"550 "
      "5.1.1 The email account that you tried to reach does not exist.\", "
      "\"description\": \"\"}", VC_MSG_BOUNCED, "550",
      "550 5.1.1 The email account that you tried to reach does not "
      "exist." },
    { "\"event\": \"failed\", \"severity\": \"permanent\", \"reason\": "
      "\"suppress-bounce\", \"delivery-status\": {\"code\": 605, "
      "\"message\": \"\", \"description\": \"Not delivering to previously "
      "bounced address\"}", VC_MSG_UNDELIVERED, "605",
      "Not delivering to previously bounced address" },
    { "\"event\": \"failed\", \"severity\": \"permanent\", \"reason\": "
      "\"generic\"", VC_MSG_BOUNCED, "generic", "generic" },
    { "\"event\": \"failed\", \"severity\": \"temporary\", \"reason\": "
      "\"generic\", \"delivery-status\": {\"code\": 452}", 0, NULL, NULL },
    { "\"event\": \"failed\"", 0, NULL, NULL },
    { "\"event\": \"rejected\", \"reject\": {\"reason\": \"hardfail\", "
      "\"description\": \"sender not verified\"}", VC_MSG_UNDELIVERED,
      NULL, "sender not verified" },
    { "\"event\": \"unsubscribed\"", 0, NULL, NULL },
    { "\"event\": \"complained\"", 0, NULL, NULL },
    { "\"event\": \"stored\"", 0, NULL, NULL },
    { "\"event\": \"list_member_uploaded\", \"odd\": [1, {\"x\": 2}]", 0,
      NULL, NULL },
  };
  void *st = state_new(CONFIG, CREDS);

  for (size_t i = 0; i < VC_ARRAY_SIZE(cases); i++) {
    seen *s = seen_new();
    char *b = our_event(TV_TOKEN, TV_SIG, cases[i].fields);
    int reply = 0;

    CHECK_OK(parse_into(s, st, "application/json", b, strlen(b), &reply));
    CHECK(reply == 200);
    if (s->nstatus != (cases[i].status != 0))
      fprintf(stderr, "  case %zu: %zu updates\n", i, s->nstatus);
    CHECK(s->nstatus == (cases[i].status != 0));
    if (cases[i].status != 0) {
      CHECK(s->st[0].status == cases[i].status);
      CHECK_STR(s->st[0].message_id, MSG_ID);
      if (cases[i].code != NULL)
        CHECK_STR(s->st[0].provider_code, cases[i].code);
      else
        CHECK(s->st[0].provider_code == NULL);
      if (cases[i].text != NULL)
        CHECK_STR(s->st[0].error_message, cases[i].text);
      else
        CHECK(s->st[0].error_message == NULL);
    }
    free(b);
    free(s);
  }
  MG->fini(st);
}

static void test_mailgun__parse_correlation(void)
{
  void *st = state_new(CONFIG, CREDS);
  seen *s = seen_new();
  char *b;

  /* Without our variable: the provider id alone, brackets stripped. */
  b = event_body(TV_TS, TV_TOKEN, TV_SIG,
                 "{\"event\": \"delivered\", \"message\": {\"headers\": "
                 "{\"message-id\": \"<abc@mg.example.com>\"}}, "
                 "\"user-variables\": {\"vc_message_id\": 7}}");
  CHECK_OK(parse_into(s, st, "application/json", b, strlen(b), NULL));
  CHECK(s->nstatus == 1);
  CHECK(s->st[0].message_id == NULL);
  CHECK_STR(s->st[0].provider_id, "abc@mg.example.com");
  CHECK(s->st[0].event_id == NULL && s->st[0].occurred_at == 0);
  free(b);
  /* Mail we did not send: neither id, nothing reported. */
  b = event_body(TV_TS, TOKEN2, SIG2,
                 "{\"event\": \"delivered\", \"user-variables\": {}}");
  CHECK_OK(parse_into(s, st, "application/json", b, strlen(b), NULL));
  CHECK(s->nstatus == 1);
  free(b);
  free(s);
  MG->fini(st);
}

static void test_mailgun__parse_token_replay(void)
{
  void *st = state_new(CONFIG, CREDS);
  seen *s = seen_new();
  char *b = our_event(TV_TOKEN, TV_SIG, "\"event\": \"delivered\"");
  char *other = our_event(TV_TOKEN, TV_SIG, "\"event\": \"failed\", "
                          "\"severity\": \"permanent\", \"reason\": "
                          "\"bounce\"");
  int reply = 0;

  CHECK_OK(parse_into(s, st, "application/json", b, strlen(b), &reply));
  CHECK(s->nstatus == 1);
  /* The same token again, even with another body: applied never,
   * answered 200. */
  CHECK_OK(parse_into(s, st, "application/json", b, strlen(b), &reply));
  CHECK_OK(parse_into(s, st, "application/json", other, strlen(other),
                      &reply));
  CHECK(reply == 0 || reply == 200);
  CHECK(s->nstatus == 1 && s->nonce == 3);
  free(b);
  free(other);
  free(s);
  MG->fini(st);
}

static void test_mailgun__parse_malformed(void)
{
  static const char *const bad[] = {
    "{\"signature\": {\"timestamp\": \"" TV_TS "\", \"token\": \"" TV_TOKEN
    "\", \"signature\": \"" TV_SIG "\"}}",
    "{\"signature\": {\"timestamp\": \"" TV_TS "\", \"token\": \"" TV_TOKEN
    "\", \"signature\": \"" TV_SIG "\"}, \"event-data\": []}",
    "{\"signature\": {\"timestamp\": \"" TV_TS "\", \"token\": \"" TV_TOKEN
    "\", \"signature\": \"" TV_SIG "\"}, \"event-data\": {}}",
    "{\"signature\": {\"timestamp\": \"" TV_TS "\", \"token\": \"" TV_TOKEN
    "\", \"signature\": \"" TV_SIG "\"}, \"event-data\": {\"event\": 5}}",
    "{\"signature\": {\"timestamp\": \"" TV_TS "\", \"token\": \"" TV_TOKEN
    "\", \"signature\": \"" TV_SIG "\"}, \"event-data\": {\"event\": "
    "\"delivered\", \"user-variables\": \"x\"}}",
    "{\"signature\": {\"timestamp\": \"" TV_TS "\", \"token\": \"" TV_TOKEN
    "\", \"signature\": \"" TV_SIG "\"}, \"event-data\": {\"event\": "
    "\"delivered\", \"timestamp\": \"yesterday\"}}",
    "{\"signature\": {\"timestamp\": \"" TV_TS "\", \"token\": \"" TV_TOKEN
    "\", \"signature\": \"" TV_SIG "\"}, \"event-data\": {\"event\": "
    "\"delivered\", \"message\": {\"headers\": {\"message-id\": 3}}}}",
    "{\"signature\": {\"timestamp\": \"" TV_TS "\", \"token\": \"" TV_TOKEN
    "\", \"signature\": \"" TV_SIG "\"}, \"event-data\": {\"event\": "
    "\"delivered\", \"timestamp\": -5}}",
    "{\"signature\": {\"timestamp\": \"" TV_TS "\", \"signature\": \""
    TV_SIG "\"}, \"event-data\": {\"event\": \"delivered\"}}",
    "{\"signature\": {\"timestamp\": \"" TV_TS "\", \"token\": \"" TV_TOKEN
    "\", \"signature\": \"" TV_SIG "\"}, \"event-data\": {\"event\": "
    "\"delivered\"}} trailing",
    ("[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"
     "]]]]]]]]]"),
  };
  void *st = state_new(CONFIG, CREDS);

  for (size_t i = 0; i < VC_ARRAY_SIZE(bad); i++) {
    seen *s = seen_new();
    int rc = parse_into(s, st, "application/json", bad[i], strlen(bad[i]),
                        NULL);
    if (rc != VC_EINVALID && rc != VC_ETOOBIG)
      fprintf(stderr, "  case %zu gave %d\n", i, rc);
    CHECK(rc == VC_EINVALID || rc == VC_ETOOBIG);
    CHECK(s->nstatus == 0 && s->ninbound == 0);
    free(s);
  }
  MG->fini(st);
}

/* ------------------------------------------------------------------ */
/* parse_webhook: routed mail                                          */

static void test_mailgun__parse_routed_form(void)
{
  static const char form[] =
    "recipient=support%40mg.example.com&sender=bounce%2Bx%40example.com"
    "&from=Asha+%3CAsha%40Example.COM%3E&subject=Re%3A+Invoice+42"
    "&body-plain=Paid%2C+thanks.%0D%0A%3E+quoted&stripped-text=Paid"
    "&Message-Id=%3CCAF%3Dabc%40mail.example.com%3E"
    "&message-headers=%5B%5B%22Message-Id%22%2C+%22%3Cother%40x%3E%22%5D%5D"
    "&timestamp=" TV_TS "&token=" TV_TOKEN "&signature=" TV_SIG;
  void *st = state_new(CONFIG, CREDS);
  seen *s = seen_new();
  int reply = 0;

  CHECK_OK(parse_into(s, st, "application/x-www-form-urlencoded", form,
                      strlen(form), &reply));
  CHECK(reply == 200);
  CHECK(s->ninbound == 1 && s->nstatus == 0 && s->nonce == 1);
  /* The From header's address (domain lower-cased), not the envelope. */
  CHECK_STR(s->in.from, "Asha@example.com");
  CHECK_STR(s->in.to, "support@mg.example.com");
  CHECK_STR(s->in.text, "Paid, thanks.\r\n> quoted");
  CHECK_STR(s->in.provider_id, "CAF=abc@mail.example.com");
  CHECK(s->in.occurred_at == TV_NOW);
  CHECK(s->in.nmedia == 0);
  /* Replayed: nothing. */
  CHECK_OK(parse_into(s, st, "application/x-www-form-urlencoded", form,
                      strlen(form), &reply));
  CHECK(s->ninbound == 1);
  free(s);
  MG->fini(st);
}

static void test_mailgun__parse_routed_multipart(void)
{
  static const char mp[] =
    "--zz\r\nContent-Disposition: form-data; name=\"recipient\"\r\n\r\n"
    "support@mg.example.com\r\n"
    "--zz\r\nContent-Disposition: form-data; name=\"sender\"\r\n\r\n"
    "asha@example.com\r\n"
    "--zz\r\nContent-Disposition: form-data; name=\"from\"\r\n\r\n"
    "not an address\r\n"
    "--zz\r\nContent-Disposition: form-data; name=\"body-plain\"\r\n\r\n"
    "See attached.\r\n"
    "--zz\r\nContent-Disposition: form-data; name=\"message-headers\""
    "\r\n\r\n[[\"From\", \"x\"], [\"message-id\", \"<m1@example.com>\"]]\r\n"
    "--zz\r\nContent-Disposition: form-data; name=\"attachment-1\"; "
    "filename=\"scan.pdf\"\r\nContent-Type: application/pdf\r\n\r\n"
    "%PDF\0\1\r\n"
    "--zz\r\nContent-Disposition: form-data; name=\"timestamp\"\r\n\r\n"
    TV_TS "\r\n--zz\r\nContent-Disposition: form-data; name=\"token\"\r\n"
    "\r\n" TOKEN2 "\r\n--zz\r\nContent-Disposition: form-data; "
    "name=\"signature\"\r\n\r\n" SIG2 "\r\n--zz--\r\n";
  void *st = state_new(CONFIG, CREDS);
  seen *s = seen_new();

  CHECK_OK(parse_into(s, st, "multipart/form-data; boundary=zz", mp,
                      sizeof(mp) - 1, NULL));
  CHECK(s->ninbound == 1);
  /* An unreadable From: the envelope sender. */
  CHECK_STR(s->in.from, "asha@example.com");
  CHECK_STR(s->in.text, "See attached.");
  CHECK_STR(s->in.provider_id, "m1@example.com");
  free(s);
  MG->fini(st);
}

static void test_mailgun__parse_routed_bounds(void)
{
  void *st = state_new(CONFIG, CREDS);
  seen *s = seen_new();
  vc_buf b = VC_BUF_INIT;
  int reply = 0;

  /* A long body is cut to the sink's 64 KB, between characters. */
  CHECK_OK(vc__buf_puts(&b, "sender=a%40example.com&body-plain=x"));
  for (int i = 0; i < 40000; i++)
    CHECK_OK(vc__buf_puts(&b, "%C3%A9"));
  CHECK_OK(vc__buf_puts(&b, "&timestamp=" TV_TS "&token=" TV_TOKEN
                        "&signature=" TV_SIG));
  CHECK_OK(parse_into(s, st, "application/x-www-form-urlencoded", b.ptr,
                      b.size, NULL));
  CHECK(s->ninbound == 1);
  CHECK(strlen(s->in.text) == 65535);
  CHECK(vc__utf8_valid(s->in.text, strlen(s->in.text)));
  CHECK(s->in.provider_id == NULL);
  vc_buf_dispose(&b);
  /* No sender at all. */
  CHECK(parse_form_str(s, st, "body-plain=x&token=" TOKEN2, NULL) ==
        VC_EINVALID);
  /* Fields twice. */
  CHECK(parse_form_str(s, st, "sender=a%40b.example&sender=c%40d.example"
                        "&token=t1", NULL) == VC_EINVALID);
  /* An encoded NUL would cut a value short. */
  CHECK(parse_form_str(s, st, "sender=a%40b.example%00x&body-plain=x"
                        "&token=t4", NULL) == VC_EINVALID);
  /* Not UTF-8. */
  CHECK(parse_form_str(s, st, "sender=a%40b.example&body-plain=%FF"
                        "&token=t2", NULL) == VC_EENCODING);
  /* A legacy form-encoded event webhook: 406, nothing applied. */
  CHECK_OK(parse_form_str(s, st, "event=delivered&Message-Id=%3Cx%40y%3E"
                          "&token=t3", &reply));
  CHECK(reply == 406);
  CHECK(s->ninbound == 1 && s->nstatus == 0);
  /* No token: refused. */
  CHECK(parse_form_str(s, st, "sender=a%40b.example&body-plain=x", NULL) ==
        VC_EINVALID);
  free(s);
  MG->fini(st);
}

VC_TESTS(
  VC_TEST(test_mailgun__init_ok_and_regions),
  VC_TEST(test_mailgun__init_refusals),
  VC_TEST(test_mailgun__init_never_quotes_secrets),
  VC_TEST(test_mailgun__build_send_form),
  VC_TEST(test_mailgun__build_send_display_names),
  VC_TEST(test_mailgun__build_send_options),
  VC_TEST(test_mailgun__build_send_attachments),
  VC_TEST(test_mailgun__build_send_refusals),
  VC_TEST(test_mailgun__parse_send_accepted),
  VC_TEST(test_mailgun__parse_send_errors),
  VC_TEST(test_mailgun__parse_send_retry_after_and_text),
  VC_TEST(test_mailgun__verify_tv_mg_1),
  VC_TEST(test_mailgun__verify_wrong_key_and_no_key),
  VC_TEST(test_mailgun__verify_timestamp_window),
  VC_TEST(test_mailgun__verify_shapes),
  VC_TEST(test_mailgun__verify_routed_forms),
  VC_TEST(test_mailgun__parse_delivered),
  VC_TEST(test_mailgun__parse_event_mapping),
  VC_TEST(test_mailgun__parse_correlation),
  VC_TEST(test_mailgun__parse_token_replay),
  VC_TEST(test_mailgun__parse_malformed),
  VC_TEST(test_mailgun__parse_routed_form),
  VC_TEST(test_mailgun__parse_routed_multipart),
  VC_TEST(test_mailgun__parse_routed_bounds),
)
