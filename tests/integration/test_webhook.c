/*
 * vc_webhook_handle through the public API, with a test adapter whose
 * webhook format is trivial: routing by path, signature refusal, status
 * updates applied once and never backwards, inbound messages, bounds.
 */
#define _GNU_SOURCE
#include "vyomcomm.h"
#include "vyomcomm/sys/adapter.h"
#include "vyomcomm/sys/errors.h"
#include "harness.h"
#include "local_adapter.h"

#include <stdlib.h>
#include <curl/curl.h>

static int64_t g_now = 1700000000000LL;

static int64_t test_clock(void *payload)
{
  (void)payload;
  return g_now;
}

/* --- the test adapter: sends locally, webhooks are lines of text ------- */

static char g_signed_url[512];
static int g_gets, g_fetch_rc;
static char g_fetched[256];

/* "X-Test-Fetch: <url>" makes verification fetch that URL (with the
 * cache when "X-Test-Fetch-Cache" is present), as a signing certificate
 * would be. An unsigned GET is the document being fetched. */
static int ta_verify(void *state, const vc_http_request *req,
                     vc_webhook_env *env)
{
  const char *sig = vc_http_request_header(req, "X-Test-Sig");
  const char *fetch = vc_http_request_header(req, "X-Test-Fetch");

  (void)state;
  snprintf(g_signed_url, sizeof(g_signed_url), "%s",
           vc_webhook_env_url(env));
  if (strcmp(req->method, "GET") == 0 && sig == NULL) {
    g_gets++;
    return 0;
  }
  if (sig == NULL || strcmp(sig, "good") != 0)
    return vc_error_set_str(VC_ERRCLASS_ADAPTER, VC_EAUTH, "bad signature");
  if (fetch != NULL) {
    vc_buf b = { NULL, 0, 0 };
    unsigned flags = vc_http_request_header(req, "X-Test-Fetch-Cache")
                       ? VC_WEBHOOK_FETCH_CACHE : 0;
    g_fetch_rc = vc_webhook_env_fetch(env, fetch, 64, flags, &b);
    snprintf(g_fetched, sizeof(g_fetched), "%.*s", (int)b.size,
             b.ptr ? b.ptr : "");
    vc_buf_dispose(&b);
  }
  return 0;
}

/* Lines: "status <our id|-> <provider id|-> <status> <event id|->" or
 * "inbound <provider id> <from> <text>". */
static int ta_parse_webhook(void *state, const vc_http_request *req,
                            vc_event_sink *sink)
{
  /* The body is not NUL-terminated: copy it into a string. */
  char *body = malloc(req->body_len + 1), *save = NULL;
  int rc = 0;

  (void)state;
  if (body == NULL)
    return VC_ENOMEM;
  if (strcmp(req->method, "GET") == 0) {
    /* The document verification fetches; "?big" makes it 100 bytes. */
    free(body);
    return vc_event_sink_reply(sink, 200, "text/plain",
                               strstr(req->target, "?big")
                                 ? "0123456789012345678901234567890123456789"
                                   "0123456789012345678901234567890123456789"
                                   "01234567890123456789"
                                 : "ok");
  }
  memcpy(body, req->body, req->body_len);
  body[req->body_len] = '\0';
  for (char *line = strtok_r(body, "\n", &save); line != NULL && rc == 0;
       line = strtok_r(NULL, "\n", &save)) {
    char a[64], b[64], c[64], d[64];
    if (sscanf(line, "status %63s %63s %63s %63s", a, b, c, d) == 4) {
      vc_status_update u = { VC_STATUS_UPDATE_VERSION, NULL, NULL, 0, NULL,
                             0, NULL, NULL };
      u.message_id = strcmp(a, "-") ? a : NULL;
      u.provider_id = strcmp(b, "-") ? b : NULL;
      u.status = atoi(c);
      u.event_id = strcmp(d, "-") ? d : NULL;
      rc = vc_event_sink_status(sink, &u);
    } else if (sscanf(line, "once %63s", a) == 1) {
      /* A nonce seen before: the rest of the webhook is ignored. */
      if ((rc = vc_event_sink_once(sink, a)) == VC_EEXISTS) {
        rc = 0;
        break;
      }
    } else if (sscanf(line, "inbound %63s %63s %63s", a, b, c) == 3) {
      vc_inbound m = { VC_INBOUND_VERSION, a, b, "+15550001111", c, NULL, 0,
                       0 };
      rc = vc_event_sink_inbound(sink, &m);
    } else {
      rc = vc_error_set_str(VC_ERRCLASS_ADAPTER, VC_EINVALID, "bad line");
    }
  }
  free(body);
  if (rc == 0)
    rc = vc_event_sink_reply(sink, 200, "text/plain", "ok");
  return rc;
}

static const vc_adapter TEST_ADAPTER = {
  VC_ADAPTER_VERSION, "test-hook", VC_CHANNEL_SMS,
  VC_CAP_LOCAL | VC_CAP_DELIVERY_REPORTS | VC_CAP_INBOUND,
  local_init, local_fini, local_build, local_accept, ta_verify,
  ta_parse_webhook
};

/* --- fixture -------------------------------------------------------------- */

typedef struct env {
  vc_ctx *ctx;
  vc_tenant *t;
  char channel[VC_ID_SIZE];
  char path[64];
} env;

static void env_open_net(env *e, int allow_private)
{
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;
  vc_tenant_spec ts = VC_TENANT_SPEC_INIT;
  vc_channel_spec cs = VC_CHANNEL_SPEC_INIT;
  vc_channel *ch;
  vc_store *store;

  CHECK_OK(vc_store_open_sqlite(&store, vc_test_path(allow_private ? "wp.db"
                                                     : "w.db"), NULL));
  o.store = store;
  o.clock_cb = test_clock;
  o.public_base_url = "https://erp.example.com";
  o.allow_private_network = allow_private;
  CHECK_OK(vc_ctx_new(&e->ctx, &o));
  CHECK_OK(vc_adapter_register(e->ctx, &TEST_ADAPTER));
  ts.slug = "acme";
  CHECK_OK(vc_tenant_new(&e->t, e->ctx, &ts));
  cs.name = "hook";
  cs.provider = "test-hook";
  cs.sender = "+15550001111";
  CHECK_OK(vc_channel_new(&ch, e->t, &cs));
  snprintf(e->channel, sizeof(e->channel), "%s", vc_channel_id(ch));
  snprintf(e->path, sizeof(e->path), "/webhooks/%s", e->channel);
  vc_channel_free(ch);
}

static void env_open(env *e)
{
  env_open_net(e, 0);
}

static void env_close(env *e)
{
  vc_tenant_free(e->t);
  vc_ctx_free(e->ctx);
}

static int post(env *e, const char *target, const char *sig,
                const char *body, vc_http_response *res)
{
  vc_http_header h[1] = { { "X-Test-Sig", sig } };
  vc_http_request req = VC_HTTP_REQUEST_INIT;

  req.method = "POST";
  req.target = target ? target : e->path;
  req.headers = sig ? h : NULL;
  req.nheaders = sig ? 1 : 0;
  req.body = (const uint8_t *)body;
  req.body_len = strlen(body);
  return vc_webhook_handle(res, e->ctx, &req);
}

static void send_one(env *e, char id[VC_ID_SIZE])
{
  vc_message_spec s = VC_MESSAGE_SPEC_INIT;

  s.kind = VC_CHANNEL_SMS;
  s.to = "+14155550123";
  s.text = "hello";
  CHECK_OK(vc_message_send(id, e->t, &s));
  CHECK(vc_ctx_run(e->ctx, 0) >= 1);
}

static int status_of(env *e, const char *id)
{
  vc_message *m;
  int st;

  CHECK_OK(vc_message_lookup(&m, e->t, id));
  st = vc_message_status(m);
  vc_message_free(m);
  return st;
}

static int count_events(env *e, const char *type, const char *subject)
{
  vc_iter *it;
  const vc_event *ev;
  int n = 0;

  CHECK_OK(vc_events_since(&it, e->t, 0));
  while (vc_event_next(&ev, it) == 0)
    n += strcmp(ev->type, type) == 0 &&
         (subject == NULL || strcmp(ev->subject_id, subject) == 0);
  vc_iter_free(it);
  return n;
}

static void test_webhook__delivered_once_and_monotonic(void)
{
  env e;
  vc_http_response res;
  char id[VC_ID_SIZE], body[256];

  env_open(&e);
  send_one(&e, id);
  CHECK(status_of(&e, id) == VC_MSG_SENT);
  snprintf(body, sizeof(body), "status %s - %d ev-1\n", id,
           VC_MSG_DELIVERED);
  CHECK_OK(post(&e, NULL, "good", body, &res));
  CHECK(res.status == 200);
  CHECK_STR(res.body.ptr, "ok");
  CHECK(strncmp(g_signed_url, "https://erp.example.com/webhooks/", 33) == 0);
  vc_http_response_dispose(&res);
  CHECK(status_of(&e, id) == VC_MSG_DELIVERED);
  /* A replay is recorded once. */
  CHECK_OK(post(&e, NULL, "good", body, &res));
  CHECK(res.status == 200);
  vc_http_response_dispose(&res);
  CHECK(count_events(&e, "message.delivered", id) == 1);
  /* A late `sent` (out of order) never moves it back. */
  snprintf(body, sizeof(body), "status - P-%s %d ev-0\n", id, VC_MSG_SENT);
  CHECK_OK(post(&e, NULL, "good", body, &res));
  vc_http_response_dispose(&res);
  CHECK(status_of(&e, id) == VC_MSG_DELIVERED);
  /* `read` may follow `delivered`, matched by the provider's id. */
  snprintf(body, sizeof(body), "status - P-%s %d ev-2\n", id, VC_MSG_READ);
  CHECK_OK(post(&e, NULL, "good", body, &res));
  vc_http_response_dispose(&res);
  CHECK(status_of(&e, id) == VC_MSG_READ);
  env_close(&e);
}

static void test_webhook__refusals(void)
{
  env e;
  vc_http_response res;
  char id[VC_ID_SIZE], body[256], *big;

  env_open(&e);
  send_one(&e, id);
  snprintf(body, sizeof(body), "status %s - %d ev-1\n", id,
           VC_MSG_DELIVERED);
  CHECK_RC(post(&e, NULL, "bad", body, &res), VC_EAUTH);
  CHECK(res.status == 401);
  vc_http_response_dispose(&res);
  CHECK_RC(post(&e, NULL, NULL, body, &res), VC_EAUTH);
  vc_http_response_dispose(&res);
  CHECK(status_of(&e, id) == VC_MSG_SENT);
  CHECK_RC(post(&e, "/webhooks/01ARZ3NDEKTSV4RRFFQ69G5FAV", "good", body,
                &res), VC_ENOTFOUND);
  CHECK(res.status == 404);
  vc_http_response_dispose(&res);
  CHECK_RC(post(&e, "/elsewhere", "good", body, &res), VC_ENOTFOUND);
  vc_http_response_dispose(&res);
  CHECK_RC(post(&e, NULL, "good", "garbage\n", &res), VC_EINVALID);
  CHECK(res.status == 400);
  vc_http_response_dispose(&res);
  big = malloc(VC_WEBHOOK_MAX_BODY + 2);
  memset(big, 'x', VC_WEBHOOK_MAX_BODY + 1);
  big[VC_WEBHOOK_MAX_BODY + 1] = '\0';
  CHECK_RC(post(&e, NULL, "good", big, &res), VC_ETOOBIG);
  CHECK(res.status == 413);
  vc_http_response_dispose(&res);
  free(big);
  /* A malformed batch applies nothing, even its good lines. */
  snprintf(body, sizeof(body), "status %s - %d ev-9\nbroken\n", id,
           VC_MSG_DELIVERED);
  CHECK_RC(post(&e, NULL, "good", body, &res), VC_EINVALID);
  vc_http_response_dispose(&res);
  CHECK(status_of(&e, id) == VC_MSG_SENT);
  env_close(&e);
}

static void test_webhook__api_route_and_inbound(void)
{
  env e;
  vc_http_response res;
  char target[160];

  env_open(&e);
  snprintf(target, sizeof(target),
           "/api/v1/communication/webhooks/sms?channel=%s", e.channel);
  CHECK_OK(post(&e, target, "good", "inbound SM1 +14155550123 hi\n", &res));
  vc_http_response_dispose(&res);
  CHECK_OK(post(&e, target, "good", "inbound SM1 +14155550123 hi\n", &res));
  vc_http_response_dispose(&res);
  CHECK(count_events(&e, "inbound.received", NULL) == 1);
  env_close(&e);
}

static void test_webhook__other_tenant_ids_ignored(void)
{
  env e;
  vc_tenant_spec ts = VC_TENANT_SPEC_INIT;
  vc_channel_spec cs = VC_CHANNEL_SPEC_INIT;
  vc_tenant *b;
  vc_channel *bch;
  vc_http_response res;
  char id[VC_ID_SIZE], body[256], path[64];

  env_open(&e);
  send_one(&e, id);
  ts.slug = "beta";
  CHECK_OK(vc_tenant_new(&b, e.ctx, &ts));
  cs.name = "hook";
  cs.provider = "test-hook";
  CHECK_OK(vc_channel_new(&bch, b, &cs));
  snprintf(path, sizeof(path), "/webhooks/%s", vc_channel_id(bch));
  /* B's channel reporting on A's message id changes nothing. */
  snprintf(body, sizeof(body), "status %s - %d ev-x\n", id, VC_MSG_FAILED);
  CHECK_OK(post(&e, path, "good", body, &res));
  vc_http_response_dispose(&res);
  CHECK(status_of(&e, id) == VC_MSG_SENT);
  vc_channel_free(bch);
  vc_tenant_free(b);
  env_close(&e);
}

static size_t collect(char *data, size_t size, size_t n, void *payload)
{
  vc_buf *b = payload;
  size_t len = size * n;
  char *p = realloc(b->ptr, b->size + len + 1);

  if (p == NULL)
    return 0;
  memcpy(p + b->size, data, len);
  b->ptr = p;
  b->size += len;
  p[b->size] = '\0';
  return len;
}

static void test_webhook__listener(void)
{
  env e;
  char url[128], id[VC_ID_SIZE], body[256];
  struct curl_slist *h = NULL;
  vc_buf got = { NULL, 0, 0 };
  long status = 0;
  CURL *c;
  int port;

  env_open(&e);
  send_one(&e, id);
  port = vc_webhook_listen(e.ctx, "127.0.0.1:0");
  CHECK(port > 0);
  CHECK_RC(vc_webhook_listen(e.ctx, "127.0.0.1:0"), VC_ESTATE);
  snprintf(url, sizeof(url), "http://127.0.0.1:%d%s?x=1", port, e.path);
  snprintf(body, sizeof(body), "status %s - %d ev-l\n", id,
           VC_MSG_DELIVERED);
  c = curl_easy_init();
  h = curl_slist_append(h, "X-Test-Sig: good");
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &got);
  CHECK(curl_easy_perform(c) == CURLE_OK);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  CHECK(status == 200);
  CHECK(got.ptr != NULL && strcmp(got.ptr, "ok") == 0);
  /* The signed URL includes the query as posted. */
  CHECK(strstr(g_signed_url, "?x=1") != NULL);
  CHECK(status_of(&e, id) == VC_MSG_DELIVERED);
  /* A bad signature over the wire: 401. */
  curl_slist_free_all(h);
  h = curl_slist_append(NULL, "X-Test-Sig: forged");
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  CHECK(curl_easy_perform(c) == CURLE_OK);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  CHECK(status == 401);
  curl_slist_free_all(h);
  curl_easy_cleanup(c);
  free(got.ptr);
  env_close(&e);
}

/* A signature nonce is accepted once: the same nonce with another body
 * (a signature that does not cover the body) changes nothing. */
static void test_webhook__nonce_once(void)
{
  env e;
  vc_http_response res;
  char id[VC_ID_SIZE], body[256];

  env_open(&e);
  send_one(&e, id);
  snprintf(body, sizeof(body), "once n-1\nstatus %s - %d ev-n1\n", id,
           VC_MSG_DELIVERED);
  CHECK_OK(post(&e, NULL, "good", body, &res));
  CHECK(res.status == 200);
  vc_http_response_dispose(&res);
  CHECK(status_of(&e, id) == VC_MSG_DELIVERED);
  snprintf(body, sizeof(body), "once n-1\nstatus %s - %d ev-n2\n", id,
           VC_MSG_READ);
  CHECK_OK(post(&e, NULL, "good", body, &res));
  CHECK(res.status == 200);
  vc_http_response_dispose(&res);
  CHECK(status_of(&e, id) == VC_MSG_DELIVERED);
  /* A new nonce goes through. */
  snprintf(body, sizeof(body), "once n-2\nstatus %s - %d ev-n2\n", id,
           VC_MSG_READ);
  CHECK_OK(post(&e, NULL, "good", body, &res));
  vc_http_response_dispose(&res);
  CHECK(status_of(&e, id) == VC_MSG_READ);
  env_close(&e);
}

static int post_fetch(env *e, const char *url, int cache)
{
  vc_http_header h[3] = { { "X-Test-Sig", "good" }, { "X-Test-Fetch", url },
                          { "X-Test-Fetch-Cache", "1" } };
  vc_http_request req = VC_HTTP_REQUEST_INIT;
  vc_http_response res;

  req.method = "POST";
  req.target = e->path;
  req.headers = h;
  req.nheaders = cache ? 3 : 2;
  req.body = (const uint8_t *)"";
  g_fetch_rc = 1;
  g_fetched[0] = '\0';
  CHECK_OK(vc_webhook_handle(&res, e->ctx, &req));
  CHECK(res.status == 200);
  vc_http_response_dispose(&res);
  return g_fetch_rc;
}

/* What verification may fetch (a certificate): the rules and the cache. */
static void test_webhook__verification_fetch(void)
{
  env e;
  char url[160];
  int port, gets;

  /* Loopback is refused unless the context allows private addresses. */
  env_open(&e);
  port = vc_webhook_listen(e.ctx, "127.0.0.1:0");
  CHECK(port > 0);
  snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, e.path);
  CHECK(post_fetch(&e, url, 0) == VC_ENET);
  CHECK(g_fetched[0] == '\0');
  env_close(&e);

  env_open_net(&e, 1);
  port = vc_webhook_listen(e.ctx, "127.0.0.1:0");
  CHECK(port > 0);
  snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, e.path);
  gets = g_gets;
  CHECK_OK(post_fetch(&e, url, 0));
  CHECK_STR(g_fetched, "ok");
  CHECK(g_gets == gets + 1);
  /* Cached: the second fetch does not reach the server. */
  CHECK_OK(post_fetch(&e, url, 1));
  CHECK(g_gets == gets + 2);
  CHECK_OK(post_fetch(&e, url, 1));
  CHECK_STR(g_fetched, "ok");
  CHECK(g_gets == gets + 2);
  /* Without the flag it goes out again. */
  CHECK_OK(post_fetch(&e, url, 0));
  CHECK(g_gets == gets + 3);
  /* Other schemes, error statuses and oversized bodies. */
  CHECK(post_fetch(&e, "ftp://127.0.0.1/cert.pem", 0) == VC_EINVALID);
  snprintf(url, sizeof(url), "http://127.0.0.1:%d/webhooks/unknown", port);
  CHECK(post_fetch(&e, url, 0) == VC_EPROVIDER);
  snprintf(url, sizeof(url), "http://127.0.0.1:%d%s?big", port, e.path);
  CHECK(post_fetch(&e, url, 0) == VC_ETOOBIG);
  env_close(&e);
}

VC_TESTS(
  VC_TEST(test_webhook__delivered_once_and_monotonic),
  VC_TEST(test_webhook__refusals),
  VC_TEST(test_webhook__api_route_and_inbound),
  VC_TEST(test_webhook__other_tenant_ids_ignored),
  VC_TEST(test_webhook__listener),
  VC_TEST(test_webhook__nonce_once),
  VC_TEST(test_webhook__verification_fetch),
)
