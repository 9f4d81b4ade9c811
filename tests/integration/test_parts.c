/*
 * What the dispatcher gives adapters beyond one request per message,
 * through the public API with a test adapter: messages split into parts
 * (count_parts) sent in order and resumed after a failure, refused when
 * the adapter says so, and the time of the customer's latest message for
 * adapters with a customer-service window (VC_CAP_SESSION_WINDOW).
 */
#define _GNU_SOURCE
#include "vyomcomm.h"
#include "vyomcomm/sys/adapter.h"
#include "vyomcomm/sys/errors.h"
#include "harness.h"
#include "local_adapter.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int64_t g_now = 1700000000000LL;

static int64_t test_clock(void *payload)
{
  (void)payload;
  return g_now;
}

/* --- the test adapter: 5 bytes a part, at most 10 parts ------------- */

#define PART_BYTES 5
#define MAX_PARTS 10

/* What parse_send saw, in order. */
static struct {
  unsigned part;
  int64_t last_inbound_ms, now_ms;
  char text[PART_BYTES + 1];
} g_sent[64];
static int g_nsent;
static int g_fail_part = -1; /* that part fails once, as a 503 would */

static int pa_count(void *state, const vc_outbound *msg)
{
  size_t len = msg->text ? strlen(msg->text) : 0;
  size_t n = (len + PART_BYTES - 1) / PART_BYTES;

  (void)state;
  if (n > MAX_PARTS)
    return vc_error_set_str(VC_ERRCLASS_ADAPTER, VC_ETOOBIG,
                            "text needs more than 10 parts");
  return n ? (int)n : 1;
}

static int pa_parse(void *state, const vc_outbound *msg,
                    const vc_http_response *res, vc_send_result *out)
{
  (void)state;
  (void)res;
  if ((int)msg->part == g_fail_part) {
    g_fail_part = -1;
    out->outcome = VC_SEND_RETRY;
    out->error = VC_EPROVIDER;
    return 0;
  }
  if (g_nsent < 64) {
    g_sent[g_nsent].part = msg->part;
    g_sent[g_nsent].last_inbound_ms = msg->last_inbound_ms;
    g_sent[g_nsent].now_ms = msg->now_ms;
    snprintf(g_sent[g_nsent].text, sizeof(g_sent[0].text), "%.*s",
             PART_BYTES, msg->text ? msg->text + msg->part * PART_BYTES : "");
    g_nsent++;
  }
  out->outcome = VC_SEND_ACCEPTED;
  snprintf(out->provider_id, sizeof(out->provider_id), "P%u", msg->part);
  return 0;
}

/* The body is the sender of an inbound message. */
static int pa_parse_webhook(void *state, const vc_http_request *req,
                            vc_event_sink *sink)
{
  char from[64];
  vc_inbound m = { VC_INBOUND_VERSION, NULL, from, NULL, "hi", NULL, 0, 0 };

  (void)state;
  snprintf(from, sizeof(from), "%.*s", (int)req->body_len,
           (const char *)req->body);
  return vc_event_sink_inbound(sink, &m);
}

static const vc_adapter PARTS_ADAPTER = {
  VC_ADAPTER_VERSION, "parts-test", VC_CHANNEL_CHAT,
  VC_CAP_LOCAL | VC_CAP_INBOUND | VC_CAP_SESSION_WINDOW,
  local_init, local_fini, local_build, pa_parse, local_verify_any,
  pa_parse_webhook, pa_count
};

/* --- fixture -------------------------------------------------------------- */

typedef struct env {
  vc_ctx *ctx;
  vc_tenant *t;
  char channel[VC_ID_SIZE];
} env;

static void env_open(env *e, const char *file)
{
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;
  vc_tenant_spec ts = VC_TENANT_SPEC_INIT;
  vc_channel_spec cs = VC_CHANNEL_SPEC_INIT;
  vc_channel *ch;
  vc_store *store;

  CHECK_OK(vc_store_open_sqlite(&store, vc_test_path(file), NULL));
  o.store = store;
  o.clock_cb = test_clock;
  o.public_base_url = "https://erp.example.com";
  CHECK_OK(vc_ctx_new(&e->ctx, &o));
  CHECK_OK(vc_adapter_register(e->ctx, &PARTS_ADAPTER));
  ts.slug = "acme";
  CHECK_OK(vc_tenant_new(&e->t, e->ctx, &ts));
  cs.name = "parts";
  cs.provider = "parts-test";
  CHECK_OK(vc_channel_new(&ch, e->t, &cs));
  snprintf(e->channel, sizeof(e->channel), "%s", vc_channel_id(ch));
  vc_channel_free(ch);
  g_nsent = 0;
  g_fail_part = -1;
}

static void env_close(env *e)
{
  vc_tenant_free(e->t);
  vc_ctx_free(e->ctx);
}

static void send_text(env *e, const char *text, char id[VC_ID_SIZE])
{
  vc_message_spec s = VC_MESSAGE_SPEC_INIT;

  s.kind = VC_CHANNEL_CHAT;
  s.to = "12345";
  s.text = text;
  CHECK_OK(vc_message_send(id, e->t, &s));
}

/* Run the engine until nothing is due, moving the clock past backoffs. */
static void drain(env *e)
{
  for (int i = 0; i < 50; i++) {
    if (vc_ctx_run(e->ctx, 0) == 0)
      g_now += 11 * 60 * 1000;
  }
}

static void test_parts__sent_in_order(void)
{
  env e;
  vc_message *m;
  char id[VC_ID_SIZE];

  env_open(&e, "p1.db");
  send_text(&e, "aaaaabbbbbccccc-d", id);
  drain(&e);
  CHECK_OK(vc_message_lookup(&m, e.t, id));
  CHECK(vc_message_status(m) == VC_MSG_SENT);
  CHECK_STR(vc_message_provider_id(m), "P0");
  vc_message_free(m);
  CHECK(g_nsent == 4);
  for (int i = 0; i < g_nsent && i < 4; i++)
    CHECK(g_sent[i].part == (unsigned)i);
  CHECK_STR(g_sent[0].text, "aaaaa");
  CHECK_STR(g_sent[3].text, "-d");
  env_close(&e);
}

/* A part that fails is retried; the parts before it are not sent again. */
static void test_parts__resume_after_failure(void)
{
  env e;
  vc_message *m;
  char id[VC_ID_SIZE];

  env_open(&e, "p2.db");
  g_fail_part = 1;
  send_text(&e, "aaaaabbbbbccccc", id);
  drain(&e);
  CHECK_OK(vc_message_lookup(&m, e.t, id));
  CHECK(vc_message_status(m) == VC_MSG_SENT);
  vc_message_free(m);
  CHECK(g_nsent == 3);
  for (int i = 0; i < g_nsent && i < 3; i++)
    CHECK(g_sent[i].part == (unsigned)i);
  env_close(&e);
}

/* A message the adapter cannot split within its limit fails, unsent. */
static void test_parts__refused(void)
{
  env e;
  vc_message *m;
  char id[VC_ID_SIZE], text[64];

  env_open(&e, "p3.db");
  memset(text, 'x', 51);
  text[51] = '\0';
  send_text(&e, text, id);
  drain(&e);
  CHECK_OK(vc_message_lookup(&m, e.t, id));
  CHECK(vc_message_status(m) == VC_MSG_FAILED);
  CHECK(vc_message_error(m) == VC_ETOOBIG);
  CHECK(strstr(vc_message_error_message(m), "more than 10 parts") != NULL);
  vc_message_free(m);
  CHECK(g_nsent == 0);
  env_close(&e);
}

static void inbound_from(env *e, const char *from)
{
  char target[64];
  vc_http_request req = VC_HTTP_REQUEST_INIT;
  vc_http_response res;

  snprintf(target, sizeof(target), "/webhooks/%s", e->channel);
  req.method = "POST";
  req.target = target;
  req.body = (const uint8_t *)from;
  req.body_len = strlen(from);
  CHECK_OK(vc_webhook_handle(&res, e->ctx, &req));
  CHECK(res.status == 200);
  vc_http_response_dispose(&res);
}

/* The adapter learns when the recipient last wrote on this channel. */
static void test_parts__last_inbound(void)
{
  env e;
  char id[VC_ID_SIZE];
  int64_t t0;

  env_open(&e, "p4.db");
  send_text(&e, "one", id);
  CHECK(vc_ctx_run(e.ctx, 0) >= 1);
  CHECK(g_nsent == 1);
  CHECK(g_sent[0].last_inbound_ms == 0);
  CHECK(g_sent[0].now_ms == g_now);
  inbound_from(&e, "99999");        /* someone else */
  t0 = g_now;
  inbound_from(&e, "12345");
  g_now += 1000;
  inbound_from(&e, "12345");        /* the latest counts */
  g_now += 5000;
  send_text(&e, "two", id);
  CHECK(vc_ctx_run(e.ctx, 0) >= 1);
  CHECK(g_nsent == 2);
  CHECK(g_sent[1].last_inbound_ms == t0 + 1000);
  CHECK(g_sent[1].now_ms == g_now);
  /* A sender reported in E.164 is the chat recipient without its '+'. */
  g_now += 1000;
  inbound_from(&e, "+12345");
  send_text(&e, "three", id);
  CHECK(vc_ctx_run(e.ctx, 0) >= 1);
  CHECK(g_nsent == 3);
  CHECK(g_sent[2].last_inbound_ms == g_now);
  env_close(&e);
}

VC_TESTS(
  VC_TEST(test_parts__sent_in_order),
  VC_TEST(test_parts__resume_after_failure),
  VC_TEST(test_parts__refused),
  VC_TEST(test_parts__last_inbound),
)
