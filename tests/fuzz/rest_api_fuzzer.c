/*
 * Fuzz target for `vyomcomm serve`'s request handling
 * (examples/vyomcomm/serve_*.c): routing, API keys, query strings, JSON
 * bodies and every handler behind them, through srv_reply_to(), the
 * function the server's connections hand each parsed request to. It is
 * built from the server's sources (the build lists them in
 * examples/vyomcomm/meson.build, so it exists only with the `examples`
 * option); the HTTP framing in front (libre's parser, the 16 KiB header
 * and 256 KiB body bounds) is not fuzzed here.
 *
 * Set-up, once: in a temporary directory, a store with a tenant, its API
 * key and, made through the REST API itself, sandbox SMS, e-mail and
 * voice channels, a Twilio and a Telegram channel with credentials, a
 * template, a contact with consent, an agent, a queue with a member, a
 * number, a queued message, a call, a campaign and an inbox conversation
 * (from a Telegram update on the webhook route). The store file is then
 * kept in memory, and each input runs on a fresh copy of it, on disk, in
 * a context of its own with a fixed clock and seed: every input starts
 * from the same state, so a finding replays, and each input's
 * allocations are freed before the next.
 *
 * Input, three parts split at the first two newlines:
 *
 *   METHOD[ AUTH]\n
 *   TARGET\n
 *   BODY
 *
 * METHOD and TARGET (path and query) end at the first byte <= 0x20, as
 * HTTP's request line would end them. Without AUTH the request carries
 * the tenant's valid API key ("Authorization: Bearer <key>"); AUTH "-"
 * sends no Authorization header, any other AUTH is sent as the header's
 * value. The body is sent as is with "Content-Type: application/json".
 * In TARGET, AUTH and BODY, "@" and a capital letter stand for the id of
 * a set-up object: @S sandbox SMS channel, @E sandbox e-mail channel, @V
 * voice channel, @W Twilio channel, @G Telegram channel, @T template, @C
 * contact, @A agent, @Q queue, @N number, @M message, @L call, @K
 * campaign, @I conversation.
 *
 * Beyond what ASan, UBSan and LeakSanitizer catch, it aborts (after
 * printing the request and the answer) when the answer breaks what
 * docs/rest.md documents:
 *   - a status outside the documented set (200, 201, 202, 400, 401, 403,
 *     404, 405, 409, 413, 429, 500..504; 411 and 431 come from the HTTP
 *     layer in front), or a 405 without its Allow header;
 *   - a 5xx other than 501 (not supported) and 503 (busy, such as an
 *     agent on a call): with no provider reached and no network, a store
 *     or internal error caused by a request is a bug (bad input must get
 *     a 4xx);
 *   - an application/json answer that is not one JSON document in valid
 *     UTF-8;
 *   - an answer of the API itself (not a provider webhook's) that is not
 *     a JSON object, or a 4xx/5xx without {"error": {"code", "name",
 *     "message"}} where code is negative, name is its VC_* name and the
 *     message is one non-empty line (no CR, LF, VT or FF);
 *   - a secret (the API key, a channel's credentials) in an answer when
 *     the request's target and body do not hold it.
 *
 * libFuzzer build (scratch directory, clang): as in mustache_fuzzer.c,
 * with tests/fuzz/rest_api_fuzzer.c and the server's sources:
 *   ninja -C build-fuzz examples/vyomcomm/serve_openapi.c
 *   clang ...(as there)... -Iexamples/vyomcomm -I/usr/include/re \
 *     -DHAVE_INTTYPES_H -DHAVE_STDBOOL_H tests/fuzz/rest_api_fuzzer.c \
 *     examples/vyomcomm/serve_http.c examples/vyomcomm/serve_calls.c \
 *     examples/vyomcomm/serve_msg.c examples/vyomcomm/serve_engage.c \
 *     examples/vyomcomm/channel_json.c examples/vyomcomm/cli_config.c \
 *     examples/vyomcomm/cli_util.c \
 *     build-fuzz/examples/vyomcomm/serve_openapi.c ... -o rest_api_fuzzer
 * which tests/fuzz/campaign.sh does.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "serve.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define T0_MS 1793000000000LL    /* the set-up's clock (2026-10-26) */
#define TWILIO_TOKEN "f7c3e1a9b5d20486e3f1a7c9b2d4e6f8"
#define TG_TOKEN "123456:AAH4xq9Zp2Lw7Rt5Ky3Nm8Vb1Cd6Fg0Hj4Sk"
#define TG_SECRET "tg-webhook-secret-5e8a1c7d3b9f"

/* The set-up's objects by their letter in "@X". */
static char g_ids[26][VC_ID_SIZE];
static char g_key[VC_APIKEY_SECRET_SIZE];
static char g_dir[256], g_db[300];
static uint8_t *g_image;            /* the set-up store's file */
static size_t g_image_len;
static const uint8_t g_master[VC_MASTER_KEY_SIZE] = {
  0x5a, 0x11, 0xc3, 0x7e, 0x90, 0x2b, 0x44, 0xd8, 0x06, 0xf1, 0x9c, 0x3a,
  0x61, 0xb7, 0x28, 0xe5, 0x4f, 0x83, 0x1d, 0xa0, 0x7c, 0x52, 0xe9, 0x36,
  0xbb, 0x0d, 0x94, 0x6a, 0x17, 0xc8, 0x25, 0xf0
};
static int64_t g_now;

static int64_t fuzz_clock(void *payload)
{
  (void)payload;
  return g_now++;
}

static void no_log(int level, const char *message, void *payload)
{
  (void)level;
  (void)message;
  (void)payload;
}

static int open_ctx(vc_ctx **out, uint64_t seed)
{
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;
  vc_master_key mk = VC_MASTER_KEY_INIT;
  vc_store *store;
  int rc;

  if ((rc = vc_store_open_sqlite(&store, g_db, NULL)) < 0)
    return rc;
  mk.key = g_master;
  mk.key_len = sizeof(g_master);
  o.store = store;
  o.master_key = &mk;
  o.log_cb = no_log;
  o.clock_cb = fuzz_clock;
  o.random_seed = seed;
  o.allow_private_network = 1;      /* as `vyomcomm serve` */
  o.public_base_url = "https://comm.example.com";
  if ((rc = vc_ctx_new(out, &o)) < 0)
    vc_store_free(store);
  return rc;
}

/* ---- set-up ------------------------------------------------------------ */

static _Noreturn void setup_fail(const char *what, const char *detail)
{
  fprintf(stderr, "rest_api_fuzzer: set-up: %s: %s\n", what, detail);
  abort();
}

/* A request through the server during set-up; the answer's "id" (if
 * any) goes to the letter `id` (0: none). */
static void setup_req(srv *s, const char *method, const char *target,
                      const char *body, int want, int id)
{
  vc_http_header h[2] = { { "Authorization", NULL },
                          { "Content-Type", "application/json" } };
  vc_http_request req = VC_HTTP_REQUEST_INIT;
  char auth[sizeof(g_key) + 8];
  srv_reply r;

  snprintf(auth, sizeof(auth), "Bearer %s", g_key);
  h[0].value = auth;
  req.method = method;
  req.target = target;
  req.headers = h;
  req.nheaders = 2;
  req.body = (const uint8_t *)body;
  req.body_len = body ? strlen(body) : 0;
  srv_reply_to(&r, s, &req);
  if (r.status != want)
    setup_fail(target, r.body);
  if (id != 0) {
    cJSON *doc = cJSON_ParseWithLength(r.body, r.len);
    cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, "id");

    if (!cJSON_IsString(v) || strlen(v->valuestring) != VC_ID_SIZE - 1)
      setup_fail(target, r.body);
    memcpy(g_ids[id - 'A'], v->valuestring, VC_ID_SIZE);
    cJSON_Delete(doc);
  }
  srv_reply_dispose(&r);
}

static void setup_objects(srv *s)
{
  char path[256], body[1024];
  const char *V = "/api/v1";

#define REQ(m, t, b, want, id) do {                                      \
    snprintf(path, sizeof(path), "%s%s", V, t);                          \
    setup_req(s, m, path, b, want, id);                                  \
  } while (0)

  REQ("POST", "/communication/channels", "{\"name\":\"sms-sandbox\","
      "\"provider\":\"sandbox-sms\",\"sender\":\"+15550001111\"}", 201, 'S');
  REQ("POST", "/communication/channels", "{\"name\":\"mail\","
      "\"provider\":\"sandbox-email\",\"sender\":\"billing@example.com\"}",
      201, 'E');
  REQ("POST", "/voip-providers", "{\"name\":\"voice-sandbox\","
      "\"provider\":\"sandbox-voice\",\"sender\":\"+15550002222\","
      "\"config_json\":{\"ring_s\":1,\"talk_s\":-1}}", 201, 'V');
  REQ("POST", "/communication/channels", "{\"name\":\"sms-twilio\","
      "\"provider\":\"twilio-sms\",\"sender\":\"+15005550006\","
      "\"config_json\":{\"account_sid\":"
      "\"AC0123456789abcdef0123456789abcdef\","
      "\"base_url\":\"http://127.0.0.1:9\"},"
      "\"credentials_json\":{\"auth_token\":\"" TWILIO_TOKEN "\"}}",
      201, 'W');
  REQ("POST", "/communication/channels", "{\"name\":\"tg\","
      "\"provider\":\"telegram\",\"sender\":\"acme_bot\","
      "\"config_json\":{\"base_url\":\"http://127.0.0.1:9\"},"
      "\"credentials_json\":{\"bot_token\":\"" TG_TOKEN "\","
      "\"webhook_secret\":\"" TG_SECRET "\"}}", 201, 'G');
  REQ("POST", "/communication/templates", "{\"name\":\"otp\","
      "\"kind\":\"sms\",\"text_body\":\"code {{code}}\","
      "\"category\":\"otp\"}", 201, 'T');
  REQ("POST", "/contacts", "{\"name\":\"Ravi\",\"phone\":\"+14155550150\","
      "\"email\":\"ravi@example.com\",\"tags\":\"vip\"}", 200, 'C');
  snprintf(body, sizeof(body), "/contacts/%s/consent", g_ids['C' - 'A']);
  REQ("POST", body, "{\"kind\":\"sms\",\"category\":\"marketing\","
      "\"state\":\"opted_in\",\"source\":\"web\"}", 200, 0);
  REQ("POST", "/agents", "{\"name\":\"asha\",\"number\":\"+14155550190\"}",
      201, 'A');
  REQ("PATCH", "/agents/asha/state", "{\"state\":\"available\"}", 200, 0);
  REQ("POST", "/queues", "{\"name\":\"support\"}", 201, 'Q');
  REQ("POST", "/queues/support/members", "{\"agent\":\"asha\","
      "\"skills\":\"hindi\"}", 201, 0);
  snprintf(body, sizeof(body), "{\"number\":\"+14155550170\","
           "\"channel\":\"%s\",\"entry_kind\":\"queue\",\"entry\":\"%s\"}",
           g_ids['V' - 'A'], g_ids['Q' - 'A']);
  REQ("POST", "/numbers", body, 201, 'N');
  REQ("POST", "/communication/messages", "{\"channel\":\"sms-sandbox\","
      "\"to\":\"+14155550150\",\"text\":\"Your order shipped\"}", 202, 'M');
  REQ("POST", "/click-to-call/initiate", "{\"agent\":\"asha\","
      "\"customer_number\":\"+14155550191\","
      "\"metadata_json\":{\"order\":42}}", 202, 'L');
  REQ("POST", "/campaigns", "{\"name\":\"promo\",\"template_name\":\"otp\","
      "\"chain\":[\"sms\"],\"audience\":\"tag\",\"tag\":\"vip\","
      "\"vars_json\":{\"code\":\"9\"}}", 201, 'K');
#undef REQ
}

/* A Telegram update on the webhook route opens a conversation. */
static void setup_conversation(srv *s)
{
  static const char update[] = "{\"update_id\":1,\"message\":{"
    "\"message_id\":7,\"from\":{\"id\":555,\"is_bot\":false,"
    "\"first_name\":\"Asha\"},\"chat\":{\"id\":555,\"type\":\"private\","
    "\"first_name\":\"Asha\"},\"date\":1793000000,"
    "\"text\":\"where is my order?\"}}";
  vc_http_header h[2] = { { "X-Telegram-Bot-Api-Secret-Token", TG_SECRET },
                          { "Content-Type", "application/json" } };
  vc_http_request req = VC_HTTP_REQUEST_INIT;
  vc_http_header a = { "Authorization", NULL };
  char target[64], auth[sizeof(g_key) + 8];
  srv_reply r;
  cJSON *doc, *items;

  snprintf(target, sizeof(target), "/webhooks/%s", g_ids['G' - 'A']);
  req.method = "POST";
  req.target = target;
  req.headers = h;
  req.nheaders = 2;
  req.body = (const uint8_t *)update;
  req.body_len = sizeof(update) - 1;
  srv_reply_to(&r, s, &req);
  if (r.status != 200)
    setup_fail(target, r.body);
  srv_reply_dispose(&r);

  snprintf(auth, sizeof(auth), "Bearer %s", g_key);
  a.value = auth;
  req = (vc_http_request)VC_HTTP_REQUEST_INIT;
  req.method = "GET";
  req.target = "/api/v1/inbox/conversations";
  req.headers = &a;
  req.nheaders = 1;
  srv_reply_to(&r, s, &req);
  doc = cJSON_ParseWithLength(r.body, r.len);
  items = cJSON_GetObjectItemCaseSensitive(doc, "items");
  if (r.status != 200 || cJSON_GetArraySize(items) != 1 ||
      !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetArrayItem(items, 0), "id")))
    setup_fail("the inbox", r.body);
  snprintf(g_ids['I' - 'A'], VC_ID_SIZE, "%s",
           cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(items, 0),
                                            "id")->valuestring);
  cJSON_Delete(doc);
  srv_reply_dispose(&r);
}

static void cleanup(void)
{
  char p[320];

  unlink(g_db);
  snprintf(p, sizeof(p), "%s-wal", g_db);
  unlink(p);
  snprintf(p, sizeof(p), "%s-shm", g_db);
  unlink(p);
  snprintf(p, sizeof(p), "%s-journal", g_db);
  unlink(p);
  rmdir(g_dir);
  free(g_image);
}

static void setup(void)
{
  vc_tenant_spec ts = VC_TENANT_SPEC_INIT;
  vc_apikey_spec ks = VC_APIKEY_SPEC_INIT;
  const char *tmp = getenv("TMPDIR");
  vc_tenant *t;
  vc_apikey *k;
  vc_ctx *ctx;
  srv *s;
  FILE *f;
  long len;

  snprintf(g_dir, sizeof(g_dir), "%s/rest_api_fuzz.XXXXXX",
           tmp && tmp[0] ? tmp : "/tmp");
  if (mkdtemp(g_dir) == NULL)
    setup_fail("mkdtemp", g_dir);
  snprintf(g_db, sizeof(g_db), "%s/vyomcomm.db", g_dir);
  atexit(cleanup);
  g_now = T0_MS;
  if (open_ctx(&ctx, 1) < 0)
    setup_fail("open the store", vc_error_last()->message);
  ts.slug = "acme";
  if (vc_tenant_new(&t, ctx, &ts) < 0)
    setup_fail("tenant", vc_error_last()->message);
  ks.label = "fuzz";
  if (vc_apikey_new(&k, g_key, t, &ks) < 0)
    setup_fail("API key", vc_error_last()->message);
  vc_apikey_free(k);
  vc_tenant_free(t);
  if (srv_new(&s, ctx, 0) < 0)
    setup_fail("server", "out of memory");
  setup_objects(s);
  setup_conversation(s);
  srv_free(s);
  vc_ctx_free(ctx);

  /* The store's file, its journal folded in by the last close. */
  if ((f = fopen(g_db, "rb")) == NULL || fseek(f, 0, SEEK_END) != 0 ||
      (len = ftell(f)) <= 0 || fseek(f, 0, SEEK_SET) != 0 ||
      (g_image = malloc((size_t)len)) == NULL ||
      fread(g_image, 1, (size_t)len, f) != (size_t)len)
    setup_fail("read the store", g_db);
  fclose(f);
  g_image_len = (size_t)len;
}

/* A fresh copy of the set-up store. */
static void restore(void)
{
  char p[320];
  FILE *f;

  snprintf(p, sizeof(p), "%s-wal", g_db);
  unlink(p);
  snprintf(p, sizeof(p), "%s-shm", g_db);
  unlink(p);
  if ((f = fopen(g_db, "wb")) == NULL ||
      fwrite(g_image, 1, g_image_len, f) != g_image_len || fclose(f) != 0)
    setup_fail("restore the store", g_db);
}

/* ---- the input ------------------------------------------------------------ */

/* `len` bytes of `s` with every "@X" of a set-up object replaced by its
 * id; NUL-terminated, malloc'd. */
static char *expand(const char *s, size_t len, size_t *out_len)
{
  char *o = malloc(len * (VC_ID_SIZE / 2) + 1);
  size_t n = 0;

  if (o == NULL)
    return NULL;
  for (size_t i = 0; i < len; i++) {
    if (s[i] == '@' && i + 1 < len && s[i + 1] >= 'A' && s[i + 1] <= 'Z' &&
        g_ids[s[i + 1] - 'A'][0] != '\0') {
      memcpy(o + n, g_ids[s[i + 1] - 'A'], VC_ID_SIZE - 1);
      n += VC_ID_SIZE - 1;
      i++;
    } else {
      o[n++] = s[i];
    }
  }
  o[n] = '\0';
  *out_len = n;
  return o;
}

/* The request, for a report. */
static const char *g_method, *g_target, *g_auth, *g_body;
static size_t g_body_len;

static void fail(const srv_reply *r, const char *why)
{
  fprintf(stderr, "rest_api_fuzzer: %s\nrequest: %s %s (auth: %s)\n"
          "%.*s\nanswer: %d %s\n%.*s\n", why, g_method, g_target,
          g_auth ? g_auth : "-", (int)(g_body_len > 2048 ? 2048 : g_body_len),
          g_body, r->status, r->content_type,
          (int)(r->len > 4096 ? 4096 : r->len), r->body);
  abort();
}

static int utf8_valid(const unsigned char *s, size_t len)
{
  size_t i = 0;

  while (i < len) {
    unsigned char c = s[i];
    size_t n;
    uint32_t cp;

    if (c < 0x80) {
      i++;
      continue;
    }
    if (c >= 0xc2 && c <= 0xdf) {
      n = 1;
      cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
      n = 2;
      cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 3;
      cp = c & 0x07;
    } else {
      return 0;
    }
    for (size_t k = 1; k <= n; k++) {
      if (i + k >= len || (s[i + k] & 0xc0) != 0x80)
        return 0;
      cp = cp << 6 | (s[i + k] & 0x3f);
    }
    if ((n == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (n == 3 && (cp < 0x10000 || cp > 0x10ffff)))
      return 0;
    i += n + 1;
  }
  return 1;
}

/* A secret in the answer that the request's target and body do not hold
 * (a message may quote those). */
static int leaks(const srv_reply *r, const char *secret)
{
  size_t n = strlen(secret);

  return memmem(r->body, r->len, secret, n) != NULL &&
         strstr(g_target, secret) == NULL &&
         memmem(g_body, g_body_len, secret, n) == NULL;
}

static int webhook_route(const char *target)
{
  return strncmp(target, "/webhooks/", 10) == 0 ||
         strncmp(target, "/api/v1/communication/webhooks/", 31) == 0;
}

static void check_error_doc(const srv_reply *r, const cJSON *doc)
{
  const cJSON *e = cJSON_GetObjectItemCaseSensitive(doc, "error");
  const cJSON *code = cJSON_GetObjectItemCaseSensitive(e, "code");
  const cJSON *name = cJSON_GetObjectItemCaseSensitive(e, "name");
  const cJSON *msg = cJSON_GetObjectItemCaseSensitive(e, "message");

  if (!cJSON_IsObject(e) || !cJSON_IsNumber(code) || !cJSON_IsString(name) ||
      !cJSON_IsString(msg) || code->valuedouble >= 0 ||
      code->valuedouble != (double)code->valueint ||
      strcmp(name->valuestring, srv_code_name(code->valueint)) != 0)
    fail(r, "an error without its documented fields");
  if (msg->valuestring[0] == '\0')
    fail(r, "an empty error message");
  if (strpbrk(msg->valuestring, "\n\r\v\f") != NULL)
    fail(r, "an error message on several lines");
}

static void check(const srv_reply *r)
{
  /* 413 too: a webhook answers it for a body past its adapter's bounds
   * (VC_ETOOBIG), whatever its length. */
  static const int documented[] = { 200, 201, 202, 400, 401, 403, 404, 405,
                                    409, 413, 429, 500, 501, 502, 503, 504 };
  const char *secrets[] = { g_key, strrchr(g_key, '_'), TWILIO_TOKEN,
                            TG_TOKEN, TG_SECRET };
  int api = r->res.raw.status == 0 || !webhook_route(g_target);
  size_t i = 0;

  while (i < sizeof(documented) / sizeof(documented[0]) &&
         documented[i] != r->status)
    i++;
  if (i == sizeof(documented) / sizeof(documented[0]))
    fail(r, "a status docs/rest.md does not document");
  if (r->status >= 500 && r->status != 501 && r->status != 503)
    fail(r, "a 5xx answer to a request");
  if ((r->status == 405) != (r->allow[0] != '\0'))
    fail(r, "a 405 without Allow, or Allow without a 405");
  for (i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++)
    if (secrets[i] != NULL && strlen(secrets[i]) > 8 &&
        leaks(r, secrets[i]))
      fail(r, "a secret in the answer");
  if (strncmp(r->content_type, "application/json", 16) == 0) {
    const char *end = NULL;
    cJSON *doc = cJSON_ParseWithLengthOpts(r->body, r->len, &end, 0);

    if (doc == NULL)
      fail(r, "an answer that is not JSON");
    while (end < r->body + r->len &&
           (*end == ' ' || *end == '\n' || *end == '\r' || *end == '\t'))
      end++;
    if (end != r->body + r->len)
      fail(r, "an answer with bytes after its JSON document");
    if (!utf8_valid((const unsigned char *)r->body, r->len))
      fail(r, "an answer that is not UTF-8");
    if (api && !cJSON_IsObject(doc))
      fail(r, "an answer that is not a JSON object");
    if (api && r->status >= 400)
      check_error_doc(r, doc);
    cJSON_Delete(doc);
  } else if (api && r->status >= 400) {
    fail(r, "an error that is not a JSON document");
  }
}

/* Cut at the first byte <= 0x20, as a request line would end it. */
static void cut_token(char *s)
{
  while (*s != '\0' && (unsigned char)*s > 0x20)
    s++;
  *s = '\0';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char *in = malloc(size + 1), *line1, *line2 = NULL, *rest = NULL, *nl;
  char *target = NULL, *body = NULL, *auth = NULL, *authv = NULL;
  size_t target_len, body_len = 0, auth_len, rest_len = 0;
  vc_http_header h[2];
  vc_http_request req = VC_HTTP_REQUEST_INIT;
  size_t nh = 0;
  vc_ctx *ctx = NULL;
  srv *s = NULL;
  srv_reply r;

  if (in == NULL)
    return 0;
  if (g_image == NULL)
    setup();
  if (size > 0)
    memcpy(in, data, size);
  in[size] = '\0';
  line1 = in;
  if ((nl = memchr(in, '\n', size)) != NULL) {
    *nl = '\0';
    line2 = nl + 1;
    if ((nl = memchr(line2, '\n', size - (size_t)(line2 - in))) != NULL) {
      *nl = '\0';
      rest = nl + 1;
      rest_len = size - (size_t)(rest - in);
    }
  }
  if ((auth = strchr(line1, ' ')) != NULL) {
    *auth++ = '\0';
    auth[strcspn(auth, "\r")] = '\0';
  }
  cut_token(line1);
  if (line2 != NULL)
    cut_token(line2);
  if ((target = expand(line2 ? line2 : "", line2 ? strlen(line2) : 0,
                       &target_len)) == NULL ||
      (body = expand(rest ? rest : "", rest_len, &body_len)) == NULL ||
      (auth != NULL &&
       (authv = expand(auth, strlen(auth), &auth_len)) == NULL))
    goto out;

  restore();
  g_now = T0_MS + 3600000;
  if (open_ctx(&ctx, 2) < 0)
    setup_fail("open the store", vc_error_last()->message);
  if (srv_new(&s, ctx, 0) < 0)
    goto out;
  if (authv == NULL) {
    static char bearer[sizeof(g_key) + 8];

    snprintf(bearer, sizeof(bearer), "Bearer %s", g_key);
    h[nh].name = "Authorization";
    h[nh++].value = bearer;
  } else if (strcmp(authv, "-") != 0) {
    h[nh].name = "Authorization";
    h[nh++].value = authv;
  }
  h[nh].name = "Content-Type";
  h[nh++].value = "application/json";
  req.method = line1;
  req.target = target;
  req.headers = h;
  req.nheaders = nh;
  req.body = (const uint8_t *)body;
  req.body_len = body_len;
  g_method = line1;
  g_target = target;
  g_auth = authv;
  g_body = body;
  g_body_len = body_len;

  srv_reply_to(&r, s, &req);
  check(&r);
  srv_reply_dispose(&r);
out:
  srv_free(s);
  vc_ctx_free(ctx);
  free(authv);
  free(body);
  free(target);
  free(in);
  return 0;
}
