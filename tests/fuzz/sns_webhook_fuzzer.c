/*
 * Fuzz target for the AWS SNS adapter (adapters/sms/sns.c): SNS message
 * parsing and RSA verification, the SigningCertURL/SubscribeURL rules,
 * verify_webhook up to the certificate fetch, parse_webhook, and the
 * small XML reader of parse_send on the same bytes.
 *
 * Input: the raw body of an SNS POST. It is checked against a fixed
 * certificate (tests/resources/sns/cert.pem, so the committed fixtures
 * verify), goes through verify_webhook with a context-less environment
 * (fetching is refused there: everything before it runs), through
 * parse_webhook with a sink that accepts everything, through parse_send
 * as four HTTP answers, and, first line only, through the URL checks.
 *
 * Beyond what ASan and UBSan catch, it aborts when an invariant breaks:
 * an unexpected return code; an error message that is not one printable
 * line; more than one event, an event from a failed parse, an inbound
 * message without an E.164 sender or without the message id; a send
 * result with an unknown outcome, an id without acceptance (or the
 * reverse), or a code or text that is not clean; a URL accepted that
 * is not https on an SNS host.
 *
 * libFuzzer build (scratch directory, clang): as in mustache_fuzzer.c,
 * with tests/fuzz/sns_webhook_fuzzer.c and -o sns_webhook_fuzzer, then
 *   ./sns_webhook_fuzzer tests/fuzz/corpus/sns_webhook
 */
#include "core/common.h"
#include "core/text.h"
#include "net/fetch.h"
#include "net/sink.h"
#include "adapters/builtin.h"
#include "adapters/sms/sns.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SNS (&vc__adapter_aws_sns)
#define TOPIC "arn:aws:sns:us-east-1:123456789012:vc-inbound"
/* The fixtures' Timestamp (2026-12-01T00:00:00Z) plus a minute. */
#define NOW_MS INT64_C(1796083260000)

/* tests/resources/sns/cert.pem */
static const char cert[] =
  "-----BEGIN CERTIFICATE-----\n"
  "MIIDGzCCAgOgAwIBAgIULOkeFg2gn6yGsXzWrG8ktTvoKdAwDQYJKoZIhvcNAQEL\n"
  "BQAwHDEaMBgGA1UEAwwRc25zLmFtYXpvbmF3cy5jb20wIBcNMjYxMTI2MTY1OTEy\n"
  "WhgPMjEyNjExMDIxNjU5MTJaMBwxGjAYBgNVBAMMEXNucy5hbWF6b25hd3MuY29t\n"
  "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA82p1yEYrFyuw/Jp2Vjxr\n"
  "N6Ed/gqPOaEV0dk9lypEgQbj+lpunGCQufqaAGZR/o0wVJVgJRlSrse5LMFUqprz\n"
  "ImxYs4cm5RE8U8ID28JwRRX1IsPNcRl+9uU7eRpBHQJgpw//pmqflbPwZyCcfXwL\n"
  "26iEYs+gzUcq3eQT4N5o3uOoscKZ8oDQuU3h4yxeSA28ZBl4D6Psg6eKuCaD28ah\n"
  "fGEoSBxngbO5dZEf3fiINLQg0Q4Im1nwonZuJ/QPFnl/O7S+YmnepQmxxrQaJero\n"
  "0J96zx5DjkhqZL3KCHWpygdw8HHqs5IJ+JVkXBqw9gq+CIEnWB9H2pyOrHRccKAV\n"
  "ZwIDAQABo1MwUTAdBgNVHQ4EFgQUMxi2aDSArLFiGrjrBM+xXNW8rrkwHwYDVR0j\n"
  "BBgwFoAUMxi2aDSArLFiGrjrBM+xXNW8rrkwDwYDVR0TAQH/BAUwAwEB/zANBgkq\n"
  "hkiG9w0BAQsFAAOCAQEARBBsqBjMYQcSWtavDj6w86eQNML+qp8EiZXzNI8PLQGg\n"
  "RZkbdpOlOxtdGkfciN8xeIT++0fJPDey1qqM/3vXiQB3q/4l6mX1tcPqv/SIZ0HZ\n"
  "0VmRmoj+HzlqRBcSOE8X+BSLzLwXed2KFD5x/8pSvX+nnHMXui35deNy0nlR/ds/\n"
  "AtmVBT8lezP88PdswlOV6upmin1rsXK2yyuoxrg49G+rjePle3TtxG4u/wY2YuWb\n"
  "XOr5eOMzqN1LG3lsKo2jSmoYfHPVl8Vv+C+dgHTQ7BwObPbGiPcAkQnpnwjR1hlm\n"
  "C//lypIZULROJKMA8a2k20AzGR6w0O/p6kCR2WfGjg==\n"
  "-----END CERTIFICATE-----\n"
  ;

static void check_error(int rc, const int *allowed, size_t n)
{
  const vc_error *e = vc_error_last();
  size_t i = 0;

  while (i < n && allowed[i] != rc)
    i++;
  if (i == n || e->code != rc)
    abort();
  for (const char *p = e->message; *p; p++)
    if ((unsigned char)*p < 0x20 || *p == 0x7f)
      abort();
}

static int on_status(void *payload, const vc_status_update *u)
{
  (void)payload;
  (void)u;
  abort();                      /* SNS reports no delivery status */
}

static int on_inbound(void *payload, const vc_inbound *m)
{
  (void)payload;
  if (m->from == NULL || m->from[0] != '+' || m->provider_id == NULL ||
      m->provider_id[0] == '\0' || m->text == NULL || m->nmedia != 0)
    abort();
  return 0;
}

static int clean_line(const char *s, size_t cap)
{
  if (memchr(s, '\0', cap) == NULL || !vc__utf8_valid(s, strlen(s)))
    return 0;
  for (; *s; s++)
    if ((unsigned char)*s < 0x20 || *s == 0x7f)
      return 0;
  return 1;
}

static void fuzz_send(const char *body, size_t len)
{
  static const int statuses[] = { 200, 400, 403, 500 };

  for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
    vc_http_response res = VC_HTTP_RESPONSE_INIT;
    vc_send_result r;

    res.status = statuses[i];
    res.body.ptr = (char *)body;     /* borrowed: reserved stays 0 */
    res.body.size = len;
    memset(&r, 0, sizeof(r));
    if (SNS->parse_send(NULL, NULL, &res, &r) != 0 ||
        r.outcome < VC_SEND_ACCEPTED || r.outcome > VC_SEND_FAILOVER ||
        (r.outcome == VC_SEND_ACCEPTED) != (r.provider_id[0] != '\0') ||
        (r.outcome == VC_SEND_ACCEPTED && statuses[i] != 200) ||
        !clean_line(r.provider_id, sizeof(r.provider_id)) ||
        !clean_line(r.provider_code, sizeof(r.provider_code)) ||
        !clean_line(r.error_message, sizeof(r.error_message)) ||
        strchr(r.provider_code, ' ') != NULL)
      abort();
  }
}

static void fuzz_url(const char *in, size_t size)
{
  size_t n = strcspn(in, "\n");
  char *url = malloc(n + 1);
  const char *path;

  if (url == NULL || n > size)
    goto out;
  memcpy(url, in, n);
  url[n] = '\0';
  for (int kind = VC__SNS_URL_CERT; kind <= VC__SNS_URL_SUBSCRIBE; kind++) {
    int rc = vc__sns_check_url(url, kind, &path);

    if (rc != 0 && rc != VC_EAUTH)
      abort();
    if (rc == 0 && (strncmp(url, "https://sns.", 12) != 0 ||
                    path == NULL || path[0] != '/' ||
                    strpbrk(url + 8, "#\\") != NULL ||
                    memchr(url + 8, '@', (size_t)(path - url - 8)) != NULL ||
                    memchr(url + 8, ':', (size_t)(path - url - 8)) != NULL))
      abort();
  }
out:
  free(url);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static const int verify_codes[] = { VC_EAUTH, VC_EINVALID, VC_EENCODING,
                                      VC_ETOOBIG, VC_ENOMEM,
                                      VC_ENOTSUPPORTED };
  static const int parse_codes[] = { VC_EINVALID, VC_EENCODING, VC_ETOOBIG,
                                     VC_ENOMEM };
  static void *state;
  vc_http_request req = VC_HTTP_REQUEST_INIT;
  vc_event_sink sink;
  char *in = malloc(size + 1);
  int rc;

  if (in == NULL)
    return 0;
  if (state == NULL &&
      SNS->init(&state, "{\"region\": \"us-east-1\", \"topic_arns\": [\""
                TOPIC "\"]}", "{\"access_key_id\": \"AKIAIOSFODNN7EXAMPLE\","
                " \"secret_access_key\": \"secret\"}") != 0)
    abort();
  if (size > 0)
    memcpy(in, data, size);
  in[size] = '\0';

  rc = vc__sns_verify_with_cert(in, size, cert, sizeof(cert) - 1, NOW_MS);
  if (rc != 0)
    check_error(rc, verify_codes, VC_ARRAY_SIZE(verify_codes));

  req.method = "POST";
  req.target = "/webhooks/01J9ZK3M2V7Q8R4T6W0X1Y2Z3B";
  req.body = (const uint8_t *)in;
  req.body_len = size;
  rc = SNS->verify_webhook(state, &req,
                           VC__WEBHOOK_ENV("https://hooks.example.com/"
                                           "webhooks/x", NOW_MS));
  /* No context: a message that passes every check stops at the fetch. */
  if (rc == 0)
    abort();
  check_error(rc, verify_codes, VC_ARRAY_SIZE(verify_codes));

  vc__sink_init(&sink, on_status, on_inbound, NULL);
  rc = SNS->parse_webhook(state, &req, &sink);
  if (rc != 0) {
    check_error(rc, parse_codes, VC_ARRAY_SIZE(parse_codes));
    if (sink.nevents != 0 && rc != VC_ENOMEM)
      abort();
  } else if (sink.reply_status != 200) {
    abort();
  }
  if (sink.nevents > 1)
    abort();
  vc__sink_fini(&sink);

  fuzz_send(in, size);
  fuzz_url(in, size);
  free(in);
  return 0;
}
