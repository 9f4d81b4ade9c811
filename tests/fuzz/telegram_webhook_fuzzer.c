/*
 * Fuzz target for the Telegram adapter (adapters/chat/telegram.c): the
 * secret-token check and parse_webhook of an Update, parse_send of the
 * same bytes as an answer, and count_parts / build_send with them as a
 * message text (the splitter).
 *
 * Input: the first line is the X-Telegram-Bot-Api-Secret-Token header,
 * the rest the body. Without a newline the whole input is the body, sent
 * with the right token (FUZZ_SECRET), so seeds reach the parser.
 *
 * Beyond what ASan and UBSan catch, it aborts when an invariant breaks:
 * an unexpected return code, an error message on several lines or
 * quoting the bot token or the secret, an event reported by a call that
 * failed, more than one event per update, a status update (Telegram has
 * no receipts), an inbound message whose sender is not a chat id or
 * whose media is not a telegram-file reference, a send result with an
 * unknown outcome, a text part over 4,096 characters or not UTF-8, or
 * parts that lose a non-whitespace byte of the text.
 *
 * libFuzzer build (scratch directory, clang): as in mustache_fuzzer.c,
 * with tests/fuzz/telegram_webhook_fuzzer.c and -o telegram_webhook_fuzzer,
 * then
 *   ./telegram_webhook_fuzzer tests/fuzz/corpus/telegram_webhook
 */
#include "core/common.h"
#include "core/text.h"
#include "net/fetch.h"
#include "net/http_out.h"
#include "net/sink.h"
#include "adapters/builtin.h"
#include "adapters/chat/telegram.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define TG (&vc__adapter_telegram)
#define FUZZ_TOKEN_SECRET "AAFfuzzFuzzFuzzFuzzFuzzFuzzFuzz_00"
#define FUZZ_SECRET "fuzz-Secret_0"

/* The input: an error message may quote it, and with it a secret the
 * input itself holds, without leaking anything. */
static const uint8_t *g_in;
static size_t g_in_len;

static int quotes_secret(const char *message, const char *secret)
{
  return strstr(message, secret) != NULL &&
         memmem(g_in, g_in_len, secret, strlen(secret)) == NULL;
}

static void check_error(int rc, const int *allowed, size_t n)
{
  const vc_error *e = vc_error_last();
  size_t i = 0;

  while (i < n && allowed[i] != rc)
    i++;
  if (i == n || e->code != rc ||
      quotes_secret(e->message, FUZZ_TOKEN_SECRET) ||
      quotes_secret(e->message, FUZZ_SECRET))
    abort();
  for (const char *p = e->message; *p; p++)
    if ((unsigned char)*p < 0x20 || *p == 0x7f)
      abort();
}

static int on_status(void *payload, const vc_status_update *u)
{
  (void)payload;
  (void)u;
  abort();
}

static int on_inbound(void *payload, const vc_inbound *m)
{
  size_t n = strlen(m->from), i = m->from[0] == '-';

  (void)payload;
  if (n == i || n > 20 || strspn(m->from + i, "0123456789") != n - i ||
      m->provider_id == NULL || strncmp(m->provider_id, m->from, n) != 0 ||
      m->provider_id[n] != ':' || m->to == NULL ||
      strcmp(m->to, "987654321") != 0 || m->nmedia > 10)
    abort();
  for (size_t k = 0; k < m->nmedia; k++)
    if (strncmp(m->media_urls[k], "telegram-file:", 14) != 0)
      abort();
  return 0;
}

static int on_once(void *payload, const char *key)
{
  (void)payload;
  if (strncmp(key, "update:", 7) != 0)
    abort();
  return 0;
}

static void fuzz_send(void *state, const char *body, size_t len)
{
  static const int statuses[] = { 200, 400, 401, 429, 502 };

  for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
    vc_http_response res = VC_HTTP_RESPONSE_INIT;
    vc_send_result r;

    res.status = statuses[i];
    res.body.ptr = (char *)body;     /* borrowed: reserved stays 0 */
    res.body.size = len;
    memset(&r, 0, sizeof(r));
    if (TG->parse_send(state, NULL, &res, &r) != 0 ||
        r.outcome < VC_SEND_ACCEPTED || r.outcome > VC_SEND_FAILOVER ||
        r.retry_after_ms < 0 || r.retry_after_ms > 86400000 ||
        memchr(r.error_message, '\0', sizeof(r.error_message)) == NULL ||
        !vc__utf8_valid(r.error_message, strlen(r.error_message)) ||
        (r.outcome == VC_SEND_ACCEPTED) != (r.provider_id[0] != '\0'))
      abort();
  }
}

static int is_space(char c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The body as a message text: every part within the limit, and every
 * non-whitespace byte of the text in exactly one part, in order. */
static void fuzz_split(void *state, const char *text)
{
  vc_outbound m;
  size_t at = 0;
  int n;

  memset(&m, 0, sizeof(m));
  m.version = VC_OUTBOUND_VERSION;
  m.to = "-100123";
  m.text = text;
  if ((n = TG->count_parts(state, &m)) < 0) {
    static const int codes[] = { VC_EINVALID, VC_ETOOBIG, VC_EENCODING,
                                 VC_ENOMEM };
    check_error(n, codes, VC_ARRAY_SIZE(codes));
    return;
  }
  for (int p = 0; p < n; p++) {
    vc_http_out req;
    cJSON *j;
    const char *part;
    size_t chars = 0;

    vc__http_out_init(&req);
    m.part = (unsigned)p;
    if (TG->build_send(state, &m, &req) != 0 ||
        (j = cJSON_Parse(req.body.ptr)) == NULL)
      abort();
    part = cJSON_GetStringValue(cJSON_GetObjectItem(j, "text"));
    if (part == NULL || part[0] == '\0' ||
        !vc__utf8_valid(part, strlen(part)))
      abort();
    for (const char *q = part; *q; q++) {
      chars += ((unsigned char)*q & 0xc0) != 0x80;
      if (is_space(*q))
        continue;
      while (text[at] != '\0' && is_space(text[at]))
        at++;
      if (text[at++] != *q)
        abort();
    }
    if (chars > VC__TELEGRAM_TEXT_MAX)
      abort();
    cJSON_Delete(j);
    vc__http_out_reset(&req);
  }
  while (text[at] != '\0' && is_space(text[at]))
    at++;
  if (text[at] != '\0')
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static const int verify_codes[] = { VC_EAUTH, VC_ETOOBIG, VC_ENOMEM };
  static const int parse_codes[] = { VC_EINVALID, VC_ETOOBIG,
                                     VC_EENCODING, VC_ENOMEM };
  static void *state;
  char *in = malloc(size + 1), *body, *nl;
  const char *secret = FUZZ_SECRET;
  vc_http_header h[2];
  vc_http_request req = VC_HTTP_REQUEST_INIT;
  vc_event_sink sink;
  size_t body_len;
  int rc;

  g_in = data;
  g_in_len = size;
  if (in == NULL)
    return 0;
  if (state == NULL &&
      TG->init(&state, NULL, "{\"bot_token\": \"987654321:" FUZZ_TOKEN_SECRET
               "\", \"webhook_secret\": \"" FUZZ_SECRET "\"}") != 0)
    abort();
  if (size > 0)
    memcpy(in, data, size);
  in[size] = '\0';
  body = in;
  body_len = size;
  if ((nl = memchr(in, '\n', size)) != NULL) {
    *nl = '\0';
    secret = in;
    body = nl + 1;
    body_len = size - (size_t)(body - in);
  }
  h[0].name = "X-Telegram-Bot-Api-Secret-Token";
  h[0].value = secret;
  h[1].name = "Content-Type";
  h[1].value = "application/json";
  req.method = "POST";
  req.target = "/webhooks/ch";
  req.headers = h;
  req.nheaders = 2;
  req.body = (const uint8_t *)body;
  req.body_len = body_len;

  rc = TG->verify_webhook(state, &req, VC__WEBHOOK_ENV("https://x/", 0));
  if (rc != 0)
    check_error(rc, verify_codes, VC_ARRAY_SIZE(verify_codes));

  vc__sink_init(&sink, on_status, on_inbound, NULL);
  vc__sink_set_once(&sink, on_once);
  rc = TG->parse_webhook(state, &req, &sink);
  if (rc != 0) {
    check_error(rc, parse_codes, VC_ARRAY_SIZE(parse_codes));
    if (sink.nevents != 0 && rc != VC_ENOMEM)
      abort();
  }
  if (sink.nevents > 1 || sink.reply_status != 0)
    abort();
  vc__sink_fini(&sink);

  fuzz_send(state, body, body_len);
  if (strlen(body) == body_len)
    fuzz_split(state, body);
  free(in);
  return 0;
}
