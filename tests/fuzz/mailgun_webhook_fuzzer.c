/*
 * Fuzz target for the Mailgun adapter's webhook handling
 * (adapters/email/mailgun.c): verify_webhook and parse_webhook over JSON
 * events and routed inbound mail, plus parse_send on the same bytes.
 *
 * Input: the first byte chooses the Content-Type ('j' application/json,
 * 'f' application/x-www-form-urlencoded, 'm' multipart/form-data with
 * boundary "zz", anything else none); the rest is the body. The signing
 * key, the clock and the token of the seeds are those of TV-MG-1, so
 * seeds verify.
 *
 * Beyond what ASan and UBSan catch, it aborts when an invariant breaks:
 * an unexpected return code; an error message that is not one printable
 * line, or quotes the key when the input does not hold it; an update or message reported by a parse that
 * failed; an update with a status Mailgun cannot cause or naming no
 * message; an error text or inbound text past the sink's bounds or not
 * UTF-8; a reply other than the default, 200 or 406; anything reported when the same
 * body comes again (its token was used); a send result with an unknown
 * outcome.
 *
 * libFuzzer build (scratch directory, clang): as in mustache_fuzzer.c,
 * with tests/fuzz/mailgun_webhook_fuzzer.c and -o mailgun_webhook_fuzzer,
 * then
 *   ./mailgun_webhook_fuzzer tests/fuzz/corpus/mailgun_webhook
 */
#include "core/common.h"
#include "core/text.h"
#include "net/fetch.h"
#include "net/sink.h"
#include "adapters/builtin.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MG (&vc__adapter_mailgun)
#define KEY "key-3ax6xnjp29jd6fds4gc373sgvjxteol0"
#define NOW (INT64_C(1403645220) * 1000)

typedef struct tally {
  size_t events;
  char tokens[4][300];
  size_t ntokens;
} tally;

/* Set when the input itself holds the key: a message may then quote
 * the input, and with it the key, without leaking anything. */
static int g_key_in_input;

static void check_message(void)
{
  const vc_error *e = vc_error_last();
  size_t n = strlen(e->message);

  if (n == 0 || n > 511 || !vc__utf8_valid(e->message, n) ||
      (!g_key_in_input && strstr(e->message, KEY) != NULL))
    abort();
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)e->message[i] < 0x20 || e->message[i] == 0x7f)
      abort();
}

static void check_line(const char *s, size_t max)
{
  size_t n;

  if (s == NULL)
    return;
  n = strlen(s);
  if (n > max || !vc__utf8_valid(s, n))
    abort();
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)s[i] < 0x20)
      abort();
}

static int on_status(void *payload, const vc_status_update *u)
{
  tally *t = payload;

  if (u->status != VC_MSG_SENT && u->status != VC_MSG_DELIVERED &&
      u->status != VC_MSG_READ && u->status != VC_MSG_BOUNCED &&
      u->status != VC_MSG_UNDELIVERED)
    abort();
  if (u->message_id == NULL && u->provider_id == NULL)
    abort();
  if (u->occurred_at < 0 || u->occurred_at >= INT64_C(100000000000000))
    abort();
  check_line(u->error_message, 1024);
  t->events++;
  return 0;
}

static int on_inbound(void *payload, const vc_inbound *m)
{
  tally *t = payload;

  if (m->from == NULL || m->from[0] == '\0' || m->nmedia != 0)
    abort();
  if (m->text != NULL &&
      (strlen(m->text) > 64 * 1024 ||
       !vc__utf8_valid(m->text, strlen(m->text))))
    abort();
  t->events++;
  return 0;
}

static int on_once(void *payload, const char *key)
{
  tally *t = payload;

  for (size_t i = 0; i < t->ntokens; i++)
    if (strcmp(t->tokens[i], key) == 0)
      return vc__error_set(VC_ERRCLASS_ADAPTER, VC_EEXISTS, "seen");
  if (t->ntokens < 4 && strlen(key) < sizeof(t->tokens[0]))
    strcpy(t->tokens[t->ntokens++], key);
  return 0;
}

/* Parse once with `t`; returns the rc after checking its invariants. */
static int parse(void *state, const vc_http_request *req, tally *t)
{
  vc_event_sink sink;
  size_t before = t->events;
  int rc;

  vc__sink_init(&sink, on_status, on_inbound, t);
  vc__sink_set_once(&sink, on_once);
  rc = MG->parse_webhook(state, req, &sink);
  if (rc == 0) {
    /* 0: the core's default 200 (a replayed token). */
    if (sink.reply_status != 0 && sink.reply_status != 200 &&
        sink.reply_status != 406)
      abort();
  } else {
    if (rc != VC_EINVALID && rc != VC_ETOOBIG && rc != VC_EENCODING &&
        rc != VC_ENOMEM)
      abort();
    if (t->events != before)
      abort();
    check_message();
  }
  vc__sink_fini(&sink);
  return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  vc_http_header h = { "Content-Type", NULL };
  vc_http_request req;
  vc_http_response res;
  vc_send_result out;
  void *state = NULL;
  tally t;
  int rc;

  if (size == 0)
    return 0;
  g_key_in_input = memmem(data, size, KEY, strlen(KEY)) != NULL;
  switch (data[0]) {
  case 'j': h.value = "application/json"; break;
  case 'f': h.value = "application/x-www-form-urlencoded"; break;
  case 'm': h.value = "multipart/form-data; boundary=zz"; break;
  default: break;
  }
  if (MG->init(&state, "{\"domain\":\"mg.example.com\"}",
               "{\"api_key\":\"k\",\"webhook_signing_key\":\"" KEY "\"}") !=
      0)
    abort();
  memset(&req, 0, sizeof(req));
  req.version = VC_HTTP_REQUEST_VERSION;
  req.method = "POST";
  req.target = "/webhooks/fuzz";
  req.headers = h.value ? &h : NULL;
  req.nheaders = h.value ? 1 : 0;
  req.body = data + 1;
  req.body_len = size - 1;

  rc = MG->verify_webhook(state, &req, VC__WEBHOOK_ENV("https://x", NOW));
  if (rc != 0 && rc != VC_EAUTH && rc != VC_ETOOBIG && rc != VC_ENOMEM)
    abort();
  if (rc != 0)
    check_message();

  memset(&t, 0, sizeof(t));
  if (parse(state, &req, &t) == 0) {
    /* The same body again: its token is used, nothing may apply. */
    size_t first = t.events;
    if (parse(state, &req, &t) != 0 || t.events != first)
      abort();
  }

  /* The same bytes as an answer to a send. */
  memset(&res, 0, sizeof(res));
  res.version = VC_HTTP_RESPONSE_VERSION;
  res.status = 200 + (int)(data[0] % 4) * 100;
  res.body.ptr = (char *)(data + 1);
  res.body.size = size - 1;
  memset(&out, 0, sizeof(out));
  out.version = VC_SEND_RESULT_VERSION;
  if (MG->parse_send(state, NULL, &res, &out) != 0 ||
      out.outcome < VC_SEND_ACCEPTED || out.outcome > VC_SEND_FAILOVER)
    abort();
  check_line(out.error_message, sizeof(out.error_message) - 1);
  MG->fini(state);
  return 0;
}
