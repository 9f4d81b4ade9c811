/*
 * Unit tests of the AWS SNS adapter (adapters/sms/sns.c): configuration
 * and credential checks, the SigV4-signed Publish request, every outcome
 * class of SNS's XML answers, the SNS URL rules, the RSA signatures of
 * SNS messages, and the inbound two-way SMS.
 *
 * Known-good values, none computed by the code under test:
 * - the Authorization headers of the Publish requests: a separate
 *   Python implementation of SigV4 (hashlib, hmac, urllib.parse);
 * - tests/resources/sns/: messages signed with openssl (see its
 *   README.md); they always run;
 * - TV-SNS-1..4 (providers.md): real SNS messages and AWS's certificate,
 *   read at test time from $VC_VECTORS_DIR (sns_vectors.json,
 *   sns_test_cert.pem); skipped with a note when absent.
 */
#include "core/common.h"
#include "core/buf.h"
#include "core/crypto.h"
#include "core/x509.h"
#include "net/fetch.h"
#include "net/http_out.h"
#include "net/sink.h"
#include "adapters/builtin.h"
#include "adapters/sms/sns.h"

#include "harness.h"

#include <cJSON.h>
#include <time.h>

#define SNS (&vc__adapter_aws_sns)

#define AKID "AKIAIOSFODNN7EXAMPLE"
#define SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define TOKEN "IQoJb3JpZ2luX2VjEXAMPLETOKEN/Zm9vYmFy+c2Vzc2lvbg=="
#define TOPIC "arn:aws:sns:us-east-1:123456789012:vc-inbound"
#define CREDS "{\"access_key_id\": \"" AKID "\", \"secret_access_key\": \"" \
              SECRET "\"}"
#define CONFIG "{\"region\": \"us-east-1\", \"topic_arns\": [\"" TOPIC "\"]}"
#define CT "application/x-www-form-urlencoded; charset=utf-8"

/* 2026-12-01T00:00:00Z: the fixtures' Timestamp. */
#define FIXTURE_MS INT64_C(1796083200000)
/* The fixture certificate's notBefore and notAfter (README.md). */
#define CERT_FROM_MS INT64_C(1795712352000)   /* 2026-11-26 16:59:12 */
#define CERT_TO_MS INT64_C(4949312352000)     /* 2126-11-02 16:59:12 */

/* ------------------------------------------------------------------ */
/* Helpers                                                             */

static void *state_new(const char *config, const char *creds)
{
  void *st = NULL;
  int rc = SNS->init(&st, config, creds);

  if (rc != 0)
    fprintf(stderr, "  init: %d %s\n", rc, vc_error_last()->message);
  CHECK(rc == 0 && st != NULL);
  return st;
}

/* init fails with `want`, and the message quotes no secret. */
static void init_fails(const char *config, const char *creds, int want,
                       const char *mentions)
{
  void *st = NULL;
  const char *m;

  CHECK_RC(SNS->init(&st, config, creds), want);
  CHECK(st == NULL);
  m = vc_error_last()->message;
  CHECK(strstr(m, SECRET) == NULL && strstr(m, TOKEN) == NULL);
  if (mentions != NULL && strstr(m, mentions) == NULL) {
    fprintf(stderr, "  message '%s' lacks '%s'\n", m, mentions);
    CHECK(0);
  }
}

/* A file of the project's source tree, or of the reference vectors. */
static char *read_file(const char *dir, const char *name, size_t *len)
{
  char path[1024];
  FILE *f;
  char *buf;
  long n;

  snprintf(path, sizeof(path), "%s/%s", dir, name);
  if ((f = fopen(path, "rb")) == NULL)
    return NULL;
  fseek(f, 0, SEEK_END);
  n = ftell(f);
  fseek(f, 0, SEEK_SET);
  buf = malloc((size_t)n + 1);
  CHECK(buf != NULL && fread(buf, 1, (size_t)n, f) == (size_t)n);
  fclose(f);
  buf[n] = '\0';
  if (len != NULL)
    *len = (size_t)n;
  return buf;
}

static char *fixture(const char *name, size_t *len)
{
  const char *root = getenv("VC_SOURCE_ROOT");
  char dir[768];
  char *b;

  snprintf(dir, sizeof(dir), "%s/tests/resources/sns",
           root ? root : "..");
  b = read_file(dir, name, len);
  if (b == NULL)
    fprintf(stderr, "  missing fixture %s/%s\n", dir, name);
  CHECK(b != NULL);
  return b;
}

static vc_outbound outbound(const char *to, const char *from,
                            const char *text)
{
  vc_outbound m;

  memset(&m, 0, sizeof(m));
  m.version = VC_OUTBOUND_VERSION;
  m.kind = VC_CHANNEL_SMS;
  m.message_id = "01J9ZK3M2V7Q8R4T6W0X1Y2Z3A";
  m.tenant_id = "01J9ZK0000000000000000TEN1";
  m.to = to;
  m.from = from;
  m.text = text;
  m.now_ms = FIXTURE_MS;
  return m;
}

static vc_http_response response(int status, const char *body)
{
  vc_http_response r = VC_HTTP_RESPONSE_INIT;

  r.status = status;
  r.body.ptr = (char *)body;     /* borrowed: reserved stays 0 */
  r.body.size = body ? strlen(body) : 0;
  return r;
}

static vc_send_result parse(int status, const char *body)
{
  vc_http_response r = response(status, body);
  vc_send_result out;

  memset(&out, 0, sizeof(out));
  out.version = VC_SEND_RESULT_VERSION;
  CHECK_OK(SNS->parse_send(NULL, NULL, &r, &out));
  return out;
}

static vc_http_request hook(const char *body, const vc_http_header *h,
                            size_t nh)
{
  vc_http_request r = VC_HTTP_REQUEST_INIT;

  r.method = "POST";
  r.target = "/webhooks/01J9ZK3M2V7Q8R4T6W0X1Y2Z3B";
  r.headers = h;
  r.nheaders = nh;
  r.body = (const uint8_t *)body;
  r.body_len = body ? strlen(body) : 0;
  return r;
}

typedef struct seen {
  int nstatus, ninbound;
  char from[64], to[64], text[256], id[128];
  int has_to;
  int64_t at;
} seen;

static int on_status(void *p, const vc_status_update *u)
{
  (void)u;
  ((seen *)p)->nstatus++;
  return 0;
}

static int on_inbound(void *p, const vc_inbound *m)
{
  seen *s = p;

  s->ninbound++;
  snprintf(s->from, sizeof(s->from), "%s", m->from);
  s->has_to = m->to != NULL;
  snprintf(s->to, sizeof(s->to), "%s", m->to ? m->to : "");
  snprintf(s->text, sizeof(s->text), "%s", m->text ? m->text : "");
  snprintf(s->id, sizeof(s->id), "%s", m->provider_id);
  s->at = m->occurred_at;
  return 0;
}

/* Replace the first `from` in s (malloc'd) by `to`. */
static char *replace(const char *s, const char *from, const char *to)
{
  const char *p = strstr(s, from);
  size_t n = strlen(s) - strlen(from) + strlen(to);
  char *out;

  CHECK(p != NULL);
  out = malloc(n + 1);
  CHECK(out != NULL);
  snprintf(out, n + 1, "%.*s%s%s", (int)(p - s), s, to, p + strlen(from));
  return out;
}

/* ------------------------------------------------------------------ */
/* init                                                                */

static void test_sns__init_valid(void)
{
  void *st;

  st = state_new("{\"region\": \"us-east-1\"}", CREDS);
  SNS->fini(st);
  st = state_new("{\"region\": \"ap-south-1\", \"endpoint\": "
                 "\"http://127.0.0.1:4566/\", \"sms_type\": \"Promotional\","
                 " \"sender_id\": \"ACME1\", \"max_price\": \"1\", "
                 "\"entity_id\": \"1101\", \"template_id\": \"A7\", "
                 "\"topic_arns\": [\"" TOPIC "\"], "
                 "\"fetch_base_url\": \"http://localhost:9\"}",
                 "{\"access_key_id\": \"ASIAIOSFODNN7EXAMPLE\", "
                 "\"secret_access_key\": \"" SECRET "\", "
                 "\"session_token\": \"" TOKEN "\"}");
  SNS->fini(st);
  SNS->fini(NULL);
}

static void test_sns__init_refused(void)
{
  init_fails("{}", CREDS, VC_EINVALID, "config.region is required");
  init_fails("{\"region\": \"US-EAST-1\"}", CREDS, VC_EINVALID, "region");
  init_fails("{\"region\": \"useast1\"}", CREDS, VC_EINVALID, "region");
  init_fails("{\"region\": 5}", CREDS, VC_EINVALID, "must be a string");
  init_fails("{\"region\": \"us-east-1\", \"colour\": 1}", CREDS,
             VC_EINVALID, "'colour'");
  init_fails("{\"region\": \"us-east-1\", \"region\": \"us-east-2\"}",
             CREDS, VC_EINVALID, "twice");
  init_fails("{\"region\": \"us-east-1\", \"endpoint\": "
             "\"http://sns.example.com\"}", CREDS, VC_EINVALID, "loopback");
  init_fails("{\"region\": \"us-east-1\", \"endpoint\": "
             "\"https://sns.example.com/path\"}", CREDS, VC_EINVALID,
             "endpoint");
  init_fails("{\"region\": \"us-east-1\", \"endpoint\": "
             "\"https://u@sns.example.com\"}", CREDS, VC_EINVALID,
             "endpoint");
  init_fails("{\"region\": \"us-east-1\", \"endpoint\": "
             "\"http://127.0.0.1:\"}", CREDS, VC_EINVALID, "port");
  init_fails("{\"region\": \"us-east-1\", \"endpoint\": "
             "\"https://sns.example.com:99999\"}", CREDS, VC_EINVALID,
             "port");
  init_fails("{\"region\": \"us-east-1\", \"endpoint\": "
             "\"https://sns.example.com:443:1\"}", CREDS, VC_EINVALID,
             "port");
  init_fails("{\"region\": \"us-east-1\", \"endpoint\": "
             "\"https://sns.example]com\"}", CREDS, VC_EINVALID,
             "endpoint");
  init_fails("{\"region\": \"us-east-1\", \"endpoint\": "
             "\"https://[::1x]\"}", CREDS, VC_EINVALID, "IPv6");
  {
    char cfg[400];
    snprintf(cfg, sizeof(cfg), "{\"region\": \"us-east-1\", "
             "\"endpoint\": \"https://%0250d.example.com\"}", 0);
    init_fails(cfg, CREDS, VC_EINVALID, "longer than 255");
  }
  init_fails("{\"region\": \"us-east-1\", \"sms_type\": \"urgent\"}", CREDS,
             VC_EINVALID, "sms_type");
  init_fails("{\"region\": \"us-east-1\", \"sender_id\": \"123456\"}",
             CREDS, VC_EINVALID, "sender_id");
  init_fails("{\"region\": \"us-east-1\", \"sender_id\": \"TWELVELETTER\"}",
             CREDS, VC_EINVALID, "sender_id");
  init_fails("{\"region\": \"us-east-1\", \"max_price\": \"-1\"}", CREDS,
             VC_EINVALID, "max_price");
  init_fails("{\"region\": \"us-east-1\", \"entity_id\": \"a b\"}", CREDS,
             VC_EINVALID, "entity_id");
  init_fails("{\"region\": \"us-east-1\", \"topic_arns\": \"" TOPIC "\"}",
             CREDS, VC_EINVALID, "topic_arns");
  init_fails("{\"region\": \"us-east-1\", \"topic_arns\": [\"x\"]}", CREDS,
             VC_EINVALID, "topic_arns[0]");
  init_fails("{\"region\": \"us-east-1\", \"fetch_base_url\": "
             "\"ftp://x\"}", CREDS, VC_EINVALID, "fetch_base_url");
  init_fails("not json", CREDS, VC_EINVALID, NULL);
  /* Credentials: required, shaped, never quoted. */
  init_fails(CONFIG, "{}", VC_EINVALID, "required");
  init_fails(CONFIG, "{\"access_key_id\": \"" AKID "\"}", VC_EINVALID,
             "required");
  init_fails(CONFIG, "{\"access_key_id\": \"akiaiosfodnn7example\", "
             "\"secret_access_key\": \"" SECRET "\"}", VC_EINVALID,
             "access_key_id");
  init_fails(CONFIG, "{\"access_key_id\": \"AKIA\", "
             "\"secret_access_key\": \"" SECRET "\"}", VC_EINVALID,
             "access_key_id");
  init_fails(CONFIG, "{\"access_key_id\": \"" AKID "\", "
             "\"secret_access_key\": \"has space\"}", VC_EINVALID,
             "secret_access_key");
  init_fails(CONFIG, "{\"access_key_id\": \"" AKID "\", "
             "\"secret_access_key\": \"" SECRET "\", \"session_token\": "
             "\"a b\"}", VC_EINVALID, "session_token");
  init_fails(CONFIG, "{\"" SECRET "\": 1}", VC_EINVALID, "unknown key");
  init_fails(CONFIG, "{\"secret_access_key\": \"" SECRET "\"", VC_EINVALID,
             "credentials");
}

/* ------------------------------------------------------------------ */
/* build_send                                                          */

static void test_sns__publish_request(void)
{
  void *st = state_new("{\"region\": \"us-east-1\"}", CREDS);
  vc_outbound m = outbound("+14155550123", NULL, "Hello world & more: 100%");
  vc_http_out req;

  vc__http_out_init(&req);
  CHECK_OK(SNS->build_send(st, &m, &req));
  CHECK_STR(req.method, "POST");
  CHECK_STR(req.url, "https://sns.us-east-1.amazonaws.com/");
  CHECK_STR(req.body.ptr, "Action=Publish&Version=2010-03-31&PhoneNumber="
            "%2B14155550123&Message=Hello+world+%26+more%3A+100%25");
  CHECK_STR(vc__http_out_header(&req, "Content-Type"), CT);
  CHECK_STR(vc__http_out_header(&req, "Host"), "sns.us-east-1.amazonaws.com");
  CHECK_STR(vc__http_out_header(&req, "X-Amz-Date"), "20261201T000000Z");
  CHECK(vc__http_out_header(&req, "X-Amz-Security-Token") == NULL);
  /* Python-computed (see the file comment). */
  CHECK_STR(vc__http_out_header(&req, "Authorization"),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261201/"
            "us-east-1/sns/aws4_request, SignedHeaders=content-type;host;"
            "x-amz-date, Signature=14b172bad9f2d2efeb50c57d32c1fed6158007d2"
            "109b161e7f1f03da4109e1c0");
  vc__http_out_reset(&req);
  SNS->fini(st);
}

static void test_sns__publish_attributes(void)
{
  void *st = state_new(
    "{\"region\": \"ap-south-1\", \"sms_type\": \"Transactional\", "
    "\"sender_id\": \"ACMEIN\", \"max_price\": \"0.50\", \"entity_id\": "
    "\"1101234567890123456\", \"template_id\": \"1107161234567890123\"}",
    "{\"access_key_id\": \"" AKID "\", \"secret_access_key\": \"" SECRET
    "\", \"session_token\": \"" TOKEN "\"}");
  vc_outbound m = outbound("+919812345678", "+15005550006",
                           "Your OTP is 123456");
  vc_http_out req;

  vc__http_out_init(&req);
  CHECK_OK(SNS->build_send(st, &m, &req));
  CHECK_STR(req.url, "https://sns.ap-south-1.amazonaws.com/");
  CHECK_STR(req.body.ptr,
            "Action=Publish&Version=2010-03-31&PhoneNumber=%2B919812345678&"
            "Message=Your+OTP+is+123456&"
            "MessageAttributes.entry.1.Name=AWS.SNS.SMS.SMSType&"
            "MessageAttributes.entry.1.Value.DataType=String&"
            "MessageAttributes.entry.1.Value.StringValue=Transactional&"
            "MessageAttributes.entry.2.Name=AWS.SNS.SMS.SenderID&"
            "MessageAttributes.entry.2.Value.DataType=String&"
            "MessageAttributes.entry.2.Value.StringValue=ACMEIN&"
            "MessageAttributes.entry.3.Name=AWS.MM.SMS.OriginationNumber&"
            "MessageAttributes.entry.3.Value.DataType=String&"
            "MessageAttributes.entry.3.Value.StringValue=%2B15005550006&"
            "MessageAttributes.entry.4.Name=AWS.SNS.SMS.MaxPrice&"
            "MessageAttributes.entry.4.Value.DataType=Number&"
            "MessageAttributes.entry.4.Value.StringValue=0.50&"
            "MessageAttributes.entry.5.Name=AWS.MM.SMS.EntityId&"
            "MessageAttributes.entry.5.Value.DataType=String&"
            "MessageAttributes.entry.5.Value.StringValue=1101234567890123456&"
            "MessageAttributes.entry.6.Name=AWS.MM.SMS.TemplateId&"
            "MessageAttributes.entry.6.Value.DataType=String&"
            "MessageAttributes.entry.6.Value.StringValue=1107161234567890123");
  CHECK_STR(vc__http_out_header(&req, "X-Amz-Security-Token"), TOKEN);
  CHECK_STR(vc__http_out_header(&req, "Authorization"),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261201/"
            "ap-south-1/sns/aws4_request, SignedHeaders=content-type;host;"
            "x-amz-date;x-amz-security-token, Signature=0f5b659a8c91a0e836d9"
            "32296578653327c79afe338b23b31dc98c1d0de050fd");
  vc__http_out_reset(&req);

  /* An alphanumeric sender replaces the configured sender ID. */
  m = outbound("+919812345678", "SHOPIN", "hi");
  vc__http_out_init(&req);
  CHECK_OK(SNS->build_send(st, &m, &req));
  CHECK(strstr(req.body.ptr, "StringValue=SHOPIN&") != NULL);
  CHECK(strstr(req.body.ptr, "ACMEIN") == NULL);
  CHECK(strstr(req.body.ptr, "OriginationNumber") == NULL);
  vc__http_out_reset(&req);
  SNS->fini(st);
}

static void test_sns__publish_endpoint_and_china(void)
{
  void *st = state_new("{\"region\": \"us-east-1\", \"endpoint\": "
                       "\"http://127.0.0.1:4566/\"}", CREDS);
  vc_outbound m = outbound("+14155550123", NULL, "x");
  vc_http_out req;

  vc__http_out_init(&req);
  CHECK_OK(SNS->build_send(st, &m, &req));
  CHECK_STR(req.url, "http://127.0.0.1:4566/");
  CHECK_STR(vc__http_out_header(&req, "Host"), "127.0.0.1:4566");
  vc__http_out_reset(&req);
  SNS->fini(st);
  /* An IPv6 literal with a port signs too. */
  st = state_new("{\"region\": \"us-east-1\", \"endpoint\": "
                 "\"https://[::1]:8443\"}", CREDS);
  vc__http_out_init(&req);
  CHECK_OK(SNS->build_send(st, &m, &req));
  CHECK_STR(req.url, "https://[::1]:8443/");
  vc__http_out_reset(&req);
  SNS->fini(st);
  st = state_new("{\"region\": \"cn-north-1\"}", CREDS);
  vc__http_out_init(&req);
  CHECK_OK(SNS->build_send(st, &m, &req));
  CHECK_STR(req.url, "https://sns.cn-north-1.amazonaws.com.cn/");
  vc__http_out_reset(&req);
  SNS->fini(st);
}

static void test_sns__publish_refused(void)
{
  void *st = state_new("{\"region\": \"us-east-1\"}", CREDS);
  char big[1602];
  vc_attachment a;
  vc_outbound m;
  vc_http_out req;

#define REFUSED(msg, want)                                                \
  do {                                                                    \
    vc__http_out_init(&req);                                              \
    CHECK_RC(SNS->build_send(st, &(msg), &req), want);                    \
    CHECK(req.url == NULL && req.body.size == 0);                         \
    vc__http_out_reset(&req);                                             \
  } while (0)
  m = outbound("14155550123", NULL, "x");
  REFUSED(m, VC_EINVALID);
  m = outbound("+1415555012345678", NULL, "x");
  REFUSED(m, VC_EINVALID);
  m = outbound("+14155550123", "not a sender!", "x");
  REFUSED(m, VC_EINVALID);
  m = outbound("+14155550123", NULL, NULL);
  REFUSED(m, VC_EINVALID);
  m = outbound("+14155550123", NULL, "\xff\xfe");
  REFUSED(m, VC_EENCODING);
  memset(big, 'a', 1601);
  big[1601] = '\0';
  m = outbound("+14155550123", NULL, big);
  REFUSED(m, VC_ETOOBIG);
  big[1600] = '\0';                     /* exactly 1600 bytes: fine */
  vc__http_out_init(&req);
  CHECK_OK(SNS->build_send(st, &m, &req));
  vc__http_out_reset(&req);
  memset(&a, 0, sizeof(a));
  a.url = "https://example.com/a.png";
  m = outbound("+14155550123", NULL, "x");
  m.attachments = &a;
  m.nattachments = 1;
  REFUSED(m, VC_ENOTSUPPORTED);
  m = outbound("+14155550123", NULL, "x");
  m.now_ms = 0;
  REFUSED(m, VC_EINVALID);
#undef REFUSED
  SNS->fini(st);
}

/* ------------------------------------------------------------------ */
/* parse_send                                                          */

#define OK_XML \
  "<PublishResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\">\n" \
  "  <PublishResult>\n" \
  "    <MessageId>94f20ce6-13c5-43a0-9a9e-ca52d816e90b</MessageId>\n" \
  "  </PublishResult>\n" \
  "  <ResponseMetadata>\n" \
  "    <RequestId>f187a3c1-376f-11df-8963-01868b7c937a</RequestId>\n" \
  "  </ResponseMetadata>\n" \
  "</PublishResponse>\n"

#define ERR_XML(type, code, msg) \
  "<ErrorResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\">\n" \
  "  <Error>\n    <Type>" type "</Type>\n    <Code>" code "</Code>\n" \
  "    <Message>" msg "</Message>\n  </Error>\n" \
  "  <RequestId>9a1f1a2b-6b0e-5f0e-8f1f-0123456789ab</RequestId>\n" \
  "</ErrorResponse>\n"

static void test_sns__parse_accepted(void)
{
  vc_send_result r = parse(200, "<?xml version=\"1.0\"?>\n" OK_XML);

  CHECK(r.outcome == VC_SEND_ACCEPTED);
  CHECK_STR(r.provider_id, "94f20ce6-13c5-43a0-9a9e-ca52d816e90b");
  /* A namespace prefix, a comment and CDATA are still XML. */
  r = parse(200, "<sns:PublishResponse xmlns:sns=\"x\"><!-- c -->"
            "<sns:PublishResult><sns:MessageId><![CDATA[abc-1]]>"
            "</sns:MessageId></sns:PublishResult></sns:PublishResponse>");
  CHECK(r.outcome == VC_SEND_ACCEPTED);
  CHECK_STR(r.provider_id, "abc-1");
  /* 200 without a MessageId is not proof. */
  r = parse(200, "<PublishResponse><PublishResult/></PublishResponse>");
  CHECK(r.outcome == VC_SEND_RETRY && r.error == VC_EPROVIDER);
  CHECK(r.provider_id[0] == '\0');
  r = parse(200, "");
  CHECK(r.outcome == VC_SEND_RETRY);
  r = parse(200, "<PublishResponse><PublishResult><MessageId>a b"
            "</MessageId></PublishResult></PublishResponse>");
  CHECK(r.outcome == VC_SEND_RETRY);
  /* A MessageId somewhere else does not count. */
  r = parse(200, "<Other><PublishResult><MessageId>x</MessageId>"
            "</PublishResult></Other>");
  CHECK(r.outcome == VC_SEND_RETRY);
}

static void test_sns__parse_errors(void)
{
  vc_send_result r;

  r = parse(400, ERR_XML("Sender", "InvalidParameter",
                         "Invalid parameter: PhoneNumber Reason: +1 is not "
                         "valid to publish to"));
  CHECK(r.outcome == VC_SEND_REJECTED && r.error == VC_EPROVIDER);
  CHECK_STR(r.provider_code, "InvalidParameter");
  CHECK_STR(r.error_message, "Invalid parameter: PhoneNumber Reason: +1 is "
            "not valid to publish to");

  r = parse(403, ERR_XML("Sender", "SignatureDoesNotMatch",
                         "The request signature we calculated does not "
                         "match the signature you provided."));
  CHECK(r.outcome == VC_SEND_FAILOVER && r.error == VC_EAUTH);
  CHECK_STR(r.provider_code, "SignatureDoesNotMatch");
  r = parse(403, ERR_XML("Sender", "InvalidClientTokenId",
                         "The security token included in the request is "
                         "invalid."));
  CHECK(r.outcome == VC_SEND_FAILOVER && r.error == VC_EAUTH);
  r = parse(403, ERR_XML("Sender", "AuthorizationError", "not allowed"));
  CHECK(r.outcome == VC_SEND_FAILOVER && r.error == VC_EAUTH);

  r = parse(400, ERR_XML("Sender", "Throttling", "Rate exceeded"));
  CHECK(r.outcome == VC_SEND_RETRY && r.error == VC_ERATELIMIT);
  CHECK_STR(r.provider_code, "Throttling");
  r = parse(429, ERR_XML("Sender", "Throttled", "slow down"));
  CHECK(r.outcome == VC_SEND_RETRY && r.error == VC_ERATELIMIT);
  r = parse(500, ERR_XML("Receiver", "InternalError", "oops"));
  CHECK(r.outcome == VC_SEND_RETRY && r.error == VC_EPROVIDER);
  CHECK_STR(r.provider_code, "InternalError");

  /* An unknown code falls back to the status. */
  r = parse(400, ERR_XML("Sender", "BrandNewError", "new"));
  CHECK(r.outcome == VC_SEND_REJECTED);
  CHECK_STR(r.provider_code, "BrandNewError");
  r = parse(403, ERR_XML("Sender", "BrandNewError", "new"));
  CHECK(r.outcome == VC_SEND_FAILOVER);
  r = parse(502, "<html>Bad Gateway</html>");
  CHECK(r.outcome == VC_SEND_RETRY);
  CHECK_STR(r.provider_code, "502");
  CHECK_STR(r.error_message, "HTTP 502 from SNS");
  r = parse(503, NULL);
  CHECK(r.outcome == VC_SEND_RETRY && r.error == VC_EPROVIDER);
}

static void test_sns__parse_xml_text(void)
{
  vc_http_header h = { "Retry-After", "7" };
  vc_http_response res;
  vc_send_result r;

  /* Entities decoded, controls flattened, the text kept. */
  r = parse(400, ERR_XML("Sender", "InvalidParameter",
                         "a &lt;b&gt; &amp; &quot;c&quot; &#x41;&#66;\n"
                         "&#x20AC;"));
  CHECK_STR(r.error_message, "a <b> & \"c\" AB \xe2\x82\xac");
  /* Malformed XML: no code, no text trusted. */
  r = parse(400, "<ErrorResponse><Error><Code>Throttling</Code></Eror>"
            "</ErrorResponse>");
  CHECK(r.outcome == VC_SEND_REJECTED);
  CHECK_STR(r.provider_code, "400");
  r = parse(400, "<!DOCTYPE x [<!ENTITY e \"Throttling\">]><ErrorResponse>"
            "<Error><Code>&e;</Code></Error></ErrorResponse>");
  CHECK_STR(r.provider_code, "400");
  r = parse(400, ERR_XML("Sender", "Throttling", "bad &bogus; entity"));
  CHECK_STR(r.provider_code, "400");
  r = parse(400, ERR_XML("Sender", "Thrott&#0;ling", "NUL"));
  CHECK_STR(r.provider_code, "400");
  r = parse(400, "<ErrorResponse><Error><Code>Throttling</Code></Error>"
            "</ErrorResponse><Second/>");
  CHECK_STR(r.provider_code, "400");
  r = parse(400, "<ErrorResponse><Error><Code>Throttling</Code></Error>");
  CHECK_STR(r.provider_code, "400");
  /* A code that is not a token is not echoed. */
  r = parse(400, ERR_XML("Sender", "Bad Code", "x"));
  CHECK_STR(r.provider_code, "400");
  {
    /* Nesting past the bound. */
    char deep[2048] = "";
    for (int i = 0; i < 20; i++)
      strcat(deep, "<a>");
    for (int i = 0; i < 20; i++)
      strcat(deep, "</a>");
    r = parse(400, deep);
    CHECK_STR(r.provider_code, "400");
  }
  /* Retry-After, when a proxy sends one. */
  res = response(503, ERR_XML("Receiver", "ServiceUnavailable", "busy"));
  res.headers = &h;
  res.nheaders = 1;
  memset(&r, 0, sizeof(r));
  CHECK_OK(SNS->parse_send(NULL, NULL, &res, &r));
  CHECK(r.outcome == VC_SEND_RETRY && r.retry_after_ms == 7000);
}

/* ------------------------------------------------------------------ */
/* SNS URLs                                                            */

static void test_sns__cert_url_rules(void)
{
  static const char *const good[] = {
    "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-"
    "0123456789abcdef0123456789abcdef.pem",
    "https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-"
    "abc.pem",
    "https://sns.us-gov-west-1.amazonaws.com/a/b.pem",
  };
  static const char *const bad[] = {
    /* scheme */
    "http://sns.us-east-1.amazonaws.com/x.pem",
    "HTTPS://sns.us-east-1.amazonaws.com/x.pem",
    "ftp://sns.us-east-1.amazonaws.com/x.pem",
    /* other hosts, suffix and prefix tricks */
    "https://evil.example.com/x.pem",
    "https://sns.us-east-1.amazonaws.com.evil.com/x.pem",
    "https://sns.us-east-1.amazonaws.com.cn.evil.com/x.pem",
    "https://evilsns.us-east-1.amazonaws.com/x.pem",
    "https://x.sns.us-east-1.amazonaws.com/x.pem",
    "https://sns.us.amazonaws.com/x.pem",
    "https://sns..amazonaws.com/x.pem",
    "https://sns.us-east-1.evil.amazonaws.com/x.pem",
    "https://sns.us_east_1.amazonaws.com/x.pem",
    "https://SNS.us-east-1.amazonaws.com/x.pem",
    "https://sns.us-east-1.amazonaws.com./x.pem",
    "https://sns.us-east-1.amazonaws.co/x.pem",
    /* userinfo, ports */
    "https://evil.com@sns.us-east-1.amazonaws.com/x.pem",
    "https://sns.us-east-1.amazonaws.com@evil.com/x.pem",
    "https://sns.us-east-1.amazonaws.com:443/x.pem",
    "https://sns.us-east-1.amazonaws.com:8443/x.pem",
    /* paths */
    "https://sns.us-east-1.amazonaws.com/x.pem.txt",
    "https://sns.us-east-1.amazonaws.com/x",
    "https://sns.us-east-1.amazonaws.com/.pem",
    "https://sns.us-east-1.amazonaws.com",
    "https://sns.us-east-1.amazonaws.com/x.pem?y",
    "https://sns.us-east-1.amazonaws.com/x.pem#y",
    "https://sns.us-east-1.amazonaws.com?x.pem",
    "https://sns.us-east-1.amazonaws.com/../x.pem",
    "https://sns.us-east-1.amazonaws.com//evil.com/x.pem",
    "https://sns.us-east-1.amazonaws.com/%2e%2e/x.pem",
    "https://sns.us-east-1.amazonaws.com/a\\b.pem",
    "https://sns.us-east-1.amazonaws.com/a b.pem",
    "",
  };
  const char *path;

  for (size_t i = 0; i < VC_ARRAY_SIZE(good); i++) {
    if (vc__sns_check_url(good[i], VC__SNS_URL_CERT, &path) != 0)
      fprintf(stderr, "  refused %s: %s\n", good[i],
              vc_error_last()->message);
    CHECK(vc__sns_check_url(good[i], VC__SNS_URL_CERT, &path) == 0);
    CHECK(path[0] == '/' && strstr(good[i], path) != NULL);
  }
  for (size_t i = 0; i < VC_ARRAY_SIZE(bad); i++) {
    if (vc__sns_check_url(bad[i], VC__SNS_URL_CERT, &path) != VC_EAUTH)
      fprintf(stderr, "  accepted %s\n", bad[i]);
    CHECK(vc__sns_check_url(bad[i], VC__SNS_URL_CERT, &path) == VC_EAUTH);
    CHECK(path == NULL);
  }
  CHECK(vc__sns_check_url(NULL, VC__SNS_URL_CERT, NULL) == VC_EAUTH);
}

static void test_sns__subscribe_url_rules(void)
{
  const char *path;

  CHECK_OK(vc__sns_check_url("https://sns.us-east-1.amazonaws.com/?Action="
                             "ConfirmSubscription&TopicArn=arn:aws:sns:us-"
                             "east-1:1:t&Token=abc%2F", VC__SNS_URL_SUBSCRIBE,
                             &path));
  CHECK_STR(path, "/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:us-"
            "east-1:1:t&Token=abc%2F");
  CHECK(vc__sns_check_url("http://sns.us-east-1.amazonaws.com/?Action=x",
                          VC__SNS_URL_SUBSCRIBE, &path) == VC_EAUTH);
  CHECK(vc__sns_check_url("https://sns.us-east-1.amazonaws.com.evil.com/"
                          "?Action=x", VC__SNS_URL_SUBSCRIBE, &path) ==
        VC_EAUTH);
  CHECK(vc__sns_check_url("https://sns.us-east-1.amazonaws.com?Action=x",
                          VC__SNS_URL_SUBSCRIBE, &path) == VC_EAUTH);
  CHECK(vc__sns_check_url("https://sns.us-east-1.amazonaws.com/?a#b",
                          VC__SNS_URL_SUBSCRIBE, &path) == VC_EAUTH);
}

/* ------------------------------------------------------------------ */
/* Signatures: the project's fixtures                                  */

static void test_sns__fixtures_verify(void)
{
  static const char *const names[] = {
    "notification_v1_two_way.json", "notification_v2_subject.json",
    "subscribe_v2.json", "unsubscribe_v1.json",
  };
  size_t clen, blen;
  char *cert = fixture("cert.pem", &clen);

  for (size_t i = 0; i < VC_ARRAY_SIZE(names); i++) {
    char *body = fixture(names[i], &blen);
    int rc = vc__sns_verify_with_cert(body, blen, cert, clen,
                                      FIXTURE_MS + 1000);
    if (rc != 0)
      fprintf(stderr, "  %s: %s\n", names[i], vc_error_last()->message);
    CHECK(rc == 0);
    free(body);
  }
  free(cert);
}

static void test_sns__fixtures_tampered(void)
{
  size_t clen, blen, len;
  char *cert = fixture("cert.pem", &clen);
  char *n1 = fixture("notification_v1_two_way.json", &blen);
  char *n2 = fixture("notification_v2_subject.json", NULL);
  char *sc = fixture("subscribe_v2.json", NULL);
  char *small = fixture("cert_rsa1024.pem", &len);
  char *ec = fixture("cert_ec.pem", NULL);
  char *t;

#define REFUSED(body, certp, certlen, now, want)                           \
  CHECK_RC(vc__sns_verify_with_cert(body, strlen(body), certp, certlen,    \
                                    now), want)
  /* Every signed field matters. */
  t = replace(n1, "confirm my order", "cancel my order");
  REFUSED(t, cert, clen, FIXTURE_MS, VC_EAUTH);
  free(t);
  t = replace(n1, "6a1f3d2e", "6a1f3d2f");
  REFUSED(t, cert, clen, FIXTURE_MS, VC_EAUTH);
  free(t);
  t = replace(n1, "00:00:00.000Z", "00:00:01.000Z");
  REFUSED(t, cert, clen, FIXTURE_MS, VC_EAUTH);
  free(t);
  t = replace(n1, "vc-inbound\"", "vc-inbound2\"");
  REFUSED(t, cert, clen, FIXTURE_MS, VC_EAUTH);
  free(t);
  t = replace(n2, "\"Inbound SMS\"", "\"Outbound SMS\"");
  REFUSED(t, cert, clen, FIXTURE_MS, VC_EAUTH);
  free(t);
  /* A Subject added to, or removed from, what was signed. */
  t = replace(n1, "\"Message\":", "\"Subject\": \"x\", \"Message\":");
  REFUSED(t, cert, clen, FIXTURE_MS, VC_EAUTH);
  free(t);
  t = replace(n2, "\"Subject\": \"Inbound SMS\",", "");
  REFUSED(t, cert, clen, FIXTURE_MS, VC_EAUTH);
  free(t);
  t = replace(sc, "Token=2336", "Token=9336");
  REFUSED(t, cert, clen, FIXTURE_MS, VC_EAUTH);
  free(t);
  /* The type changed: another key list and string. */
  t = replace(sc, "\"SubscriptionConfirmation\"",
              "\"UnsubscribeConfirmation\"");
  REFUSED(t, cert, clen, FIXTURE_MS, VC_EAUTH);
  free(t);
  /* SignatureVersion swapped: SHA-256 instead of SHA-1. */
  t = replace(n1, "\"SignatureVersion\": \"1\"",
              "\"SignatureVersion\": \"2\"");
  REFUSED(t, cert, clen, FIXTURE_MS, VC_EAUTH);
  free(t);
  t = replace(n1, "\"SignatureVersion\": \"1\"",
              "\"SignatureVersion\": \"3\"");
  REFUSED(t, cert, clen, FIXTURE_MS, VC_EINVALID);
  free(t);
  t = replace(n1, "\"Signature\": \"", "\"Signature\": \"AAAA");
  REFUSED(t, cert, clen, FIXTURE_MS, VC_EAUTH);
  free(t);
  t = replace(n1, "\"Signature\": \"", "\"Signature\": \"!");
  REFUSED(t, cert, clen, FIXTURE_MS, VC_EAUTH);
  free(t);
  /* The cert URL is checked here too. */
  t = replace(n1, "amazonaws.com/Simple", "amazonaws.com.evil.com/Simple");
  REFUSED(t, cert, clen, FIXTURE_MS, VC_EAUTH);
  free(t);
  /* Another key; weak and non-RSA keys; validity period. */
  REFUSED(n1, small, len, FIXTURE_MS, VC_EAUTH);
  REFUSED(n1, ec, strlen(ec), FIXTURE_MS, VC_EAUTH);
  REFUSED(n1, "not a cert", 10, FIXTURE_MS, VC_EAUTH);
  REFUSED(n1, cert, clen, CERT_FROM_MS - 1000, VC_EAUTH);
  CHECK(strstr(vc_error_last()->message, "not valid yet") != NULL);
  CHECK_OK(vc__sns_verify_with_cert(n1, blen, cert, clen, CERT_FROM_MS));
  CHECK_OK(vc__sns_verify_with_cert(n1, blen, cert, clen,
                                    CERT_TO_MS + 999));
  REFUSED(n1, cert, clen, CERT_TO_MS + 1000, VC_EAUTH);
  CHECK(strstr(vc_error_last()->message, "expired") != NULL);
  /* Malformed messages. */
  t = replace(n1, "\"Type\": \"Notification\"", "\"Type\": \"Note\"");
  REFUSED(t, cert, clen, FIXTURE_MS, VC_EINVALID);
  free(t);
  t = replace(n1, "\"Type\": \"Notification\",", "");
  REFUSED(t, cert, clen, FIXTURE_MS, VC_EINVALID);
  free(t);
  t = replace(n1, "\"Type\":", "\"Type\": \"Notification\", \"Type\":");
  REFUSED(t, cert, clen, FIXTURE_MS, VC_EINVALID);
  free(t);
  t = replace(n1, "\"MessageId\": \"", "\"MessageId\": 5, \"x\": \"");
  REFUSED(t, cert, clen, FIXTURE_MS, VC_EINVALID);
  free(t);
  t = replace(sc, "\"Token\": ", "\"Tokens\": ");
  REFUSED(t, cert, clen, FIXTURE_MS, VC_EINVALID);
  free(t);
  t = replace(n1, "2026-12-01T00:00:00.000Z", "yesterday");
  REFUSED(t, cert, clen, FIXTURE_MS, VC_EINVALID);
  free(t);
  REFUSED("[]", cert, clen, FIXTURE_MS, VC_EINVALID);
  REFUSED("{", cert, clen, FIXTURE_MS, VC_EINVALID);
  CHECK_RC(vc__sns_verify_with_cert("{\"a\":\0}", 7, cert, clen, FIXTURE_MS),
           VC_EINVALID);
#undef REFUSED
  free(n1);
  free(n2);
  free(sc);
  free(small);
  free(ec);
  free(cert);
}

static void test_sns__x509_helper(void)
{
  size_t clen;
  char *cert = fixture("cert.pem", &clen), *two;
  const uint8_t sig[256] = { 1 };

  /* Only SHA-1 and SHA-256 signatures. */
  CHECK_RC(vc__x509_rsa_verify(cert, clen, VC__MD_MD5,
                               (const uint8_t *)"x", 1, sig, sizeof(sig),
                               VC__X509_ANY_TIME), VC_EINVALID);
  CHECK_RC(vc__x509_rsa_verify(cert, clen, VC__MD_SHA256,
                               (const uint8_t *)"x", 1, sig, sizeof(sig),
                               VC__X509_ANY_TIME), VC_EAUTH);
  CHECK_RC(vc__x509_rsa_verify(cert, clen, VC__MD_SHA256,
                               (const uint8_t *)"x", 1, NULL, 0,
                               VC__X509_ANY_TIME), VC_EAUTH);
  /* One certificate, not a bundle. */
  two = malloc(2 * clen + 1);
  CHECK(two != NULL);
  memcpy(two, cert, clen);
  memcpy(two + clen, cert, clen);
  two[2 * clen] = '\0';
  CHECK_RC(vc__x509_rsa_verify(two, 2 * clen, VC__MD_SHA256,
                               (const uint8_t *)"x", 1, sig, sizeof(sig),
                               VC__X509_ANY_TIME), VC_EINVALID);
  CHECK_RC(vc__x509_rsa_verify(cert, clen - 40, VC__MD_SHA256,
                               (const uint8_t *)"x", 1, sig, sizeof(sig),
                               VC__X509_ANY_TIME), VC_EINVALID);
  free(two);
  free(cert);
}

/* ------------------------------------------------------------------ */
/* Signatures: the published SNS messages (TV-SNS-1..4)                */

static void test_sns__published_vectors(void)
{
  const char *dir = getenv("VC_VECTORS_DIR");
  char *json, *cert, *body;
  size_t clen;
  cJSON *doc;
  const cJSON *e;
  int n = 0;

  if (dir == NULL || dir[0] == '\0' ||
      (json = read_file(dir, "sns_vectors.json", NULL)) == NULL) {
    printf("  note: reference vectors not found (VC_VECTORS_DIR=%s): "
           "TV-SNS-1..4 skipped\n", dir ? dir : "");
    return;
  }
  cert = read_file(dir, "sns_test_cert.pem", &clen);
  CHECK(cert != NULL);
  doc = cJSON_Parse(json);
  CHECK(cJSON_IsArray(doc));
  cJSON_ArrayForEach(e, doc) {
    const cJSON *fx = cJSON_GetObjectItem(e, "fixture");
    const char *ts = cJSON_GetStringValue(cJSON_GetObjectItem(fx, "Timestamp"));
    const char *sig = cJSON_GetStringValue(cJSON_GetObjectItem(fx,
                                                               "Signature"));
    char *tampered;
    int64_t at;
    struct tm tm;

    CHECK(cJSON_IsTrue(cJSON_GetObjectItem(e, "valid")) && ts && sig);
    /* The message's own time: AWS's certificate was valid then. */
    memset(&tm, 0, sizeof(tm));
    CHECK(strptime(ts, "%Y-%m-%dT%H:%M:%S", &tm) != NULL);
    at = (int64_t)timegm(&tm) * 1000;
    body = cJSON_PrintUnformatted(fx);
    if (vc__sns_verify_with_cert(body, strlen(body), cert, clen, at) != 0)
      fprintf(stderr, "  vector %d: %s\n", n, vc_error_last()->message);
    CHECK_OK(vc__sns_verify_with_cert(body, strlen(body), cert, clen, at));
    /* It expired on 2022-08-17. */
    CHECK_RC(vc__sns_verify_with_cert(body, strlen(body), cert, clen,
                                      FIXTURE_MS), VC_EAUTH);
    tampered = replace(body, "Hello world", "Hello World");
    CHECK_RC(vc__sns_verify_with_cert(tampered, strlen(tampered), cert, clen,
                                      at), VC_EAUTH);
    free(tampered);
    cJSON_free(body);
    n++;
  }
  CHECK(n == 4);
  cJSON_Delete(doc);
  free(cert);
  free(json);
}

/* ------------------------------------------------------------------ */
/* verify_webhook up to the fetch (unit tests have no context)        */

static void test_sns__verify_webhook_checks(void)
{
  void *st = state_new(CONFIG, CREDS);
  void *open = state_new("{\"region\": \"us-east-1\"}", CREDS);
  void *other = state_new("{\"region\": \"us-east-1\", \"topic_arns\": "
                          "[\"arn:aws:sns:us-east-1:1:other\"]}", CREDS);
  char *n1 = fixture("notification_v1_two_way.json", NULL), *t;
  vc_http_header wrong = { "x-amz-sns-message-type",
                           "SubscriptionConfirmation" };
  vc_http_header right = { "x-amz-sns-message-type", "Notification" };
  vc_http_request req = hook(n1, NULL, 0);
  const char *url = "https://hooks.example.com/webhooks/x";

  /* Everything checked passes: the certificate fetch is next, and a
   * unit test has no context to fetch with. */
  CHECK_RC(SNS->verify_webhook(st, &req, VC__WEBHOOK_ENV(url, FIXTURE_MS)),
           VC_ENOTSUPPORTED);
  req = hook(n1, &right, 1);
  CHECK_RC(SNS->verify_webhook(st, &req, VC__WEBHOOK_ENV(url, FIXTURE_MS)),
           VC_ENOTSUPPORTED);
  /* No topics configured, or another topic: refused. */
  CHECK_RC(SNS->verify_webhook(open, &req,
                               VC__WEBHOOK_ENV(url, FIXTURE_MS)), VC_EAUTH);
  CHECK(strstr(vc_error_last()->message, "topic_arns") != NULL);
  CHECK_RC(SNS->verify_webhook(other, &req,
                               VC__WEBHOOK_ENV(url, FIXTURE_MS)), VC_EAUTH);
  /* The type header must agree with the body. */
  req = hook(n1, &wrong, 1);
  CHECK_RC(SNS->verify_webhook(st, &req, VC__WEBHOOK_ENV(url, FIXTURE_MS)),
           VC_EAUTH);
  /* The window: an hour back, five minutes ahead. */
  req = hook(n1, NULL, 0);
  CHECK_RC(SNS->verify_webhook(st, &req, VC__WEBHOOK_ENV(url, FIXTURE_MS +
                               3600 * 1000)), VC_ENOTSUPPORTED);
  CHECK_RC(SNS->verify_webhook(st, &req, VC__WEBHOOK_ENV(url, FIXTURE_MS +
                               3600 * 1000 + 1)), VC_EAUTH);
  CHECK_RC(SNS->verify_webhook(st, &req, VC__WEBHOOK_ENV(url, FIXTURE_MS -
                               300 * 1000)), VC_ENOTSUPPORTED);
  CHECK_RC(SNS->verify_webhook(st, &req, VC__WEBHOOK_ENV(url, FIXTURE_MS -
                               300 * 1000 - 1)), VC_EAUTH);
  /* A certificate elsewhere is never fetched. */
  t = replace(n1, "https://sns.us-east-1.amazonaws.com/Simple",
              "https://sns.us-east-1.amazonaws.com.evil.com/Simple");
  req = hook(t, NULL, 0);
  CHECK_RC(SNS->verify_webhook(st, &req, VC__WEBHOOK_ENV(url, FIXTURE_MS)),
           VC_EAUTH);
  free(t);
  t = replace(n1, "https://sns.us-east-1.amazonaws.com/Simple",
              "http://sns.us-east-1.amazonaws.com/Simple");
  req = hook(t, NULL, 0);
  CHECK_RC(SNS->verify_webhook(st, &req, VC__WEBHOOK_ENV(url, FIXTURE_MS)),
           VC_EAUTH);
  free(t);
  req = hook("{}", NULL, 0);
  CHECK_RC(SNS->verify_webhook(st, &req, VC__WEBHOOK_ENV(url, FIXTURE_MS)),
           VC_EINVALID);
  free(n1);
  SNS->fini(st);
  SNS->fini(open);
  SNS->fini(other);
}

/* ------------------------------------------------------------------ */
/* parse_webhook                                                       */

static int parse_hook(const char *body, seen *s, vc_event_sink *sink)
{
  vc_http_request req = hook(body, NULL, 0);

  memset(s, 0, sizeof(*s));
  vc__sink_init(sink, on_status, on_inbound, s);
  return SNS->parse_webhook(NULL, &req, sink);
}

static void test_sns__parse_inbound(void)
{
  char *n1 = fixture("notification_v1_two_way.json", NULL);
  char *n2 = fixture("notification_v2_subject.json", NULL);
  char *sc = fixture("subscribe_v2.json", NULL);
  char *uc = fixture("unsubscribe_v1.json", NULL);
  vc_event_sink sink;
  seen s;
  char *t;

  CHECK_OK(parse_hook(n1, &s, &sink));
  CHECK(s.ninbound == 1 && s.nstatus == 0);
  CHECK_STR(s.from, "+14155550123");
  CHECK_STR(s.to, "+12065550100");
  CHECK_STR(s.text, "Yes, confirm my order");
  CHECK_STR(s.id, "6a1f3d2e-0f4b-5c7a-9e8d-1b2c3d4e5f60");
  CHECK(s.at == FIXTURE_MS);
  CHECK(sink.reply_status == 200);
  vc__sink_fini(&sink);
  /* Notifications that are not two-way SMS, and confirmations: nothing,
   * answered 200. */
  CHECK_OK(parse_hook(n2, &s, &sink));
  CHECK(s.ninbound == 0 && s.nstatus == 0 && sink.reply_status == 200);
  vc__sink_fini(&sink);
  CHECK_OK(parse_hook(sc, &s, &sink));
  CHECK(s.ninbound == 0 && sink.reply_status == 200);
  vc__sink_fini(&sink);
  CHECK_OK(parse_hook(uc, &s, &sink));
  CHECK(s.ninbound == 0 && sink.reply_status == 200);
  vc__sink_fini(&sink);
  t = replace(n1, "{\\\"originationNumber", "{\\\"origin");
  CHECK_OK(parse_hook(t, &s, &sink));
  CHECK(s.ninbound == 0);
  vc__sink_fini(&sink);
  free(t);
  /* A two-way payload with a bad number is malformed. */
  t = replace(n1, "\\\"+14155550123", "\\\"14155550123");
  CHECK_RC(parse_hook(t, &s, &sink), VC_EINVALID);
  CHECK(s.ninbound == 0);
  vc__sink_fini(&sink);
  free(t);
  t = replace(n1, "\\\"+12065550100", "\\\"x");
  CHECK_RC(parse_hook(t, &s, &sink), VC_EINVALID);
  vc__sink_fini(&sink);
  free(t);
  CHECK_RC(parse_hook("not json", &s, &sink), VC_EINVALID);
  vc__sink_fini(&sink);
  free(n1);
  free(n2);
  free(sc);
  free(uc);
}

VC_TESTS(
  VC_TEST(test_sns__init_valid),
  VC_TEST(test_sns__init_refused),
  VC_TEST(test_sns__publish_request),
  VC_TEST(test_sns__publish_attributes),
  VC_TEST(test_sns__publish_endpoint_and_china),
  VC_TEST(test_sns__publish_refused),
  VC_TEST(test_sns__parse_accepted),
  VC_TEST(test_sns__parse_errors),
  VC_TEST(test_sns__parse_xml_text),
  VC_TEST(test_sns__cert_url_rules),
  VC_TEST(test_sns__subscribe_url_rules),
  VC_TEST(test_sns__fixtures_verify),
  VC_TEST(test_sns__fixtures_tampered),
  VC_TEST(test_sns__x509_helper),
  VC_TEST(test_sns__published_vectors),
  VC_TEST(test_sns__verify_webhook_checks),
  VC_TEST(test_sns__parse_inbound),
)
