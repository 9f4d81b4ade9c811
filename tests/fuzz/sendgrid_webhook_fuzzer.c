/*
 * Fuzz target for the SendGrid Event Webhook (adapters/email/sendgrid.c).
 *
 * Input: the raw body of a webhook POST. It goes through verify_webhook
 * with a fixed key and fixed signature headers (SendGrid's published
 * TV-SG-1 values, so only that exact payload verifies), then through
 * parse_webhook with a sink that accepts every update.
 *
 * Beyond what ASan and UBSan catch, it aborts when an invariant breaks:
 * verification answers anything but 0, VC_EAUTH or VC_ETOOBIG; a parse
 * fails with an unexpected code, or reports events and then fails (a
 * malformed batch must report nothing); an update has a status SendGrid
 * cannot cause, names no message, or carries an error text that is not
 * one line of valid UTF-8 within the sink's bound; an error message is
 * not one printable line.
 *
 * libFuzzer build (scratch directory, clang): as in mustache_fuzzer.c,
 * with tests/fuzz/sendgrid_webhook_fuzzer.c and
 * -o sendgrid_webhook_fuzzer, then
 *   ./sendgrid_webhook_fuzzer tests/fuzz/corpus/sendgrid_webhook
 */
#include "core/common.h"
#include "core/text.h"
#include "net/fetch.h"
#include "net/sink.h"
#include "adapters/builtin.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define A (&vc__adapter_sendgrid)

static const char config[] =
  "{\"webhook_public_key\":\"MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE83T4O/"
  "n84iotIvIW4mdBgQ/7dAfSmpqIM8kF9mN1flpVKS3GRqe62gw+2fNNRaINXvVpiglSI8"
  "eNEc6wEA3F+g==\"}";
static const char sig[] =
  "MEUCIGHQVtGj+Y3LkG9fLcxf3qfI10QysgDWmMOVmxG0u6ZUAiEAyBiXDWzM+uOe5W0J"
  "uG+luQAbPIqHh89M15TluLtEZtM=";
static const char ts[] = "1600112502";

static void check_message(void)
{
  const vc_error *e = vc_error_last();
  size_t n = strlen(e->message);

  if (n == 0 || n > 511 || !vc__utf8_valid(e->message, n))
    abort();
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)e->message[i] < 0x20 || e->message[i] == 0x7f)
      abort();
}

static int on_status(void *payload, const vc_status_update *u)
{
  size_t *count = payload;

  if (u->status != VC_MSG_SENT && u->status != VC_MSG_DELIVERED &&
      u->status != VC_MSG_READ && u->status != VC_MSG_BOUNCED &&
      u->status != VC_MSG_UNDELIVERED)
    abort();
  if (u->message_id == NULL && u->provider_id == NULL)
    abort();
  if (u->occurred_at < 0 || u->occurred_at >= INT64_C(100000000000000))
    abort();
  if (u->error_message != NULL) {
    size_t n = strlen(u->error_message);
    if (n > 1024 || !vc__utf8_valid(u->error_message, n))
      abort();
    for (size_t i = 0; i < n; i++)
      if ((unsigned char)u->error_message[i] < 0x20)
        abort();
  }
  (*count)++;
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  vc_http_header h[2] = {
    { "X-Twilio-Email-Event-Webhook-Signature", sig },
    { "X-Twilio-Email-Event-Webhook-Timestamp", ts },
  };
  vc_http_request req;
  vc_event_sink sink;
  void *state = NULL;
  size_t count = 0;
  int rc;

  if (A->init(&state, config, "{\"api_key\":\"SG.fuzz\"}") != 0)
    abort();
  memset(&req, 0, sizeof(req));
  req.version = VC_HTTP_REQUEST_VERSION;
  req.method = "POST";
  req.target = "/webhooks/fuzz";
  req.headers = h;
  req.nheaders = 2;
  req.body = data;
  req.body_len = size;

  rc = A->verify_webhook(state, &req, VC__WEBHOOK_ENV(NULL, INT64_C(1600112502000)));
  if (rc != 0 && rc != VC_EAUTH && rc != VC_ETOOBIG)
    abort();
  if (rc != 0)
    check_message();

  vc__sink_init(&sink, on_status, NULL, &count);
  rc = A->parse_webhook(state, &req, &sink);
  if (rc == 0) {
    if (sink.reply_status != 200 || sink.reply_body.size != 0)
      abort();
  } else {
    if ((rc != VC_EINVALID && rc != VC_ETOOBIG && rc != VC_ENOMEM) ||
        count != 0)
      abort();
    check_message();
  }
  vc__sink_fini(&sink);
  A->fini(state);
  return 0;
}
