/*
 * The simulator's AWS SNS: the Query API's SigV4 check and Publish
 * answers, the signing certificate, ConfirmSubscription, and the signed
 * topic messages it posts.
 *
 * Requests are signed with the library's SigV4 signer (src/core/sigv4.c,
 * itself tested against the AWS suite), so this also proves that the
 * signer and the simulator's independent check agree. Posted messages
 * are verified here with mbedTLS directly, from the documented string to
 * sign, not with the adapter's code.
 */
#include "test_sim_util.h"
#include "core/sigv4.h"

#include <mbedtls/x509_crt.h>

#define PUB_PATH "/"
#define PHONE "+14155550123"
#define FORM_CT "application/x-www-form-urlencoded; charset=utf-8"
#define GOOD_FORM \
  "Action=Publish&Version=2010-03-31&PhoneNumber=%2B14155550123" \
  "&Message=Hello+from+the+test"

static int64_t wall_ms(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const vc__aws_creds SIM_CREDS = {
  VC_SIM_SNS_ACCESS_KEY_ID, VC_SIM_SNS_SECRET_ACCESS_KEY, NULL
};

/* POST a form to the Query API, signed as `creds` in `region` at `at`
 * (0: now); `sent_body` may differ from the signed one (tampering). */
static void sns_post_as(resp *r, vc_sim *s, const vc__aws_creds *creds,
                        const char *region, int64_t at, const char *body,
                        const char *sent_body)
{
  vc_http_header ct = { "Content-Type", FORM_CT };
  char auth[512], date[64], host[300], token[600];
  req_opts o;
  vc__sigv4 sig;

  memset(&o, 0, sizeof(o));
  CHECK(vc__sigv4_sign(&sig, "POST", url_of(s, PUB_PATH), &ct, 1, body,
                       strlen(body), region, "sns", creds,
                       at ? at : wall_ms())
        == 0);
  snprintf(auth, sizeof(auth), "Authorization: %s", sig.authorization.ptr);
  snprintf(date, sizeof(date), "X-Amz-Date: %s", sig.amz_date);
  snprintf(host, sizeof(host), "Host: %s", sig.host);
  o.extra[0] = auth;
  o.extra[1] = date;
  o.extra[2] = host;
  if (creds->session_token != NULL) {
    snprintf(token, sizeof(token), "X-Amz-Security-Token: %s",
             creds->session_token);
    o.extra[3] = token;
  }
  vc__sigv4_dispose(&sig);
  http(r, "POST", url_of(s, PUB_PATH), FORM_CT, sent_body,
       strlen(sent_body), &o);
}

static void sns_post(resp *r, vc_sim *s, const char *body)
{
  sns_post_as(r, s, &SIM_CREDS, VC_SIM_SNS_REGION, 0, body, body);
}

/* The text of <tag>...</tag> in r's body, or "". */
static const char *xml_tag(const resp *r, const char *tag)
{
  static char out[1024];
  char open[64], close[64];
  const char *a, *b;

  snprintf(open, sizeof(open), "<%s>", tag);
  snprintf(close, sizeof(close), "</%s>", tag);
  out[0] = '\0';
  if (r->body && (a = strstr(r->body, open)) != NULL &&
      (b = strstr(a, close)) != NULL)
    snprintf(out, sizeof(out), "%.*s", (int)(b - a - strlen(open)),
             a + strlen(open));
  return out;
}

static void check_sns_error(const resp *r, long status, const char *type,
                            const char *code, const char *msg_part)
{
  if (r->status != status || strcmp(xml_tag(r, "Code"), code) != 0)
    fprintf(stderr, "  got %ld: %s\n", r->status, r->body ? r->body : "");
  CHECK(r->status == status);
  CHECK(strstr(r->body, "<ErrorResponse xmlns=\"http://sns.amazonaws.com/"
                        "doc/2010-03-31/\">") != NULL);
  CHECK_STR(xml_tag(r, "Type"), type);
  CHECK_STR(xml_tag(r, "Code"), code);
  CHECK(strstr(xml_tag(r, "Message"), msg_part) != NULL);
  CHECK(strlen(xml_tag(r, "RequestId")) == 36);
  CHECK(strncmp(rhdr(r, "Content-Type"), "text/xml", 8) == 0);
}

/* ---- Publish ----------------------------------------------------------- */

static void test_sim_sns__publish_accepted(void)
{
  vc_sim *s = start();
  vc_sim_request q;
  resp r;

  sns_post(&r, s, GOOD_FORM
           "&MessageAttributes.entry.1.Name=AWS.SNS.SMS.SMSType"
           "&MessageAttributes.entry.1.Value.DataType=String"
           "&MessageAttributes.entry.1.Value.StringValue=Transactional"
           "&MessageAttributes.entry.2.Name=AWS.SNS.SMS.SenderID"
           "&MessageAttributes.entry.2.Value.DataType=String"
           "&MessageAttributes.entry.2.Value.StringValue=ACME");
  if (r.status != 200)
    fprintf(stderr, "  %s\n", r.body ? r.body : "");
  CHECK(r.status == 200);
  CHECK(strstr(r.body, "<PublishResponse xmlns=\"http://sns.amazonaws.com/"
                       "doc/2010-03-31/\">") != NULL);
  CHECK(strlen(xml_tag(&r, "MessageId")) == 36);
  CHECK(strlen(xml_tag(&r, "RequestId")) == 36);
  CHECK(vc_sim_sent_count(s, PHONE) == 1);
  CHECK(vc_sim_sent_count(s, xml_tag(&r, "MessageId")) == 1);
  CHECK(vc_sim_accepted_count(s, "sns") == 1);
  CHECK_OK(vc_sim_received_get(s, 0, &q));
  CHECK_STR(q.provider, "sns");
#define CRED "AWS4-HMAC-SHA256 Credential=" VC_SIM_SNS_ACCESS_KEY_ID "/"
  CHECK(strncmp(q.authorization, CRED, strlen(CRED)) == 0);
  resp_free(&r);
  /* The same message again is a duplicate. */
  sns_post(&r, s, GOOD_FORM);
  CHECK(r.status == 200);
  resp_free(&r);
  sns_post(&r, s, GOOD_FORM);
  CHECK(r.status == 200 && vc_sim_duplicate_count(s, "sns") == 1);
  resp_free(&r);
  vc_sim_stop(s);
}

static void test_sim_sns__signature_refused(void)
{
  static const vc__aws_creds wrong_secret = {
    VC_SIM_SNS_ACCESS_KEY_ID, "not-the-secret", NULL
  };
  static const vc__aws_creds other_key = {
    "AKIAOTHERACCOUNT0001", VC_SIM_SNS_SECRET_ACCESS_KEY, NULL
  };
  vc_sim *s = start();
  resp r;

  sns_post_as(&r, s, &wrong_secret, VC_SIM_SNS_REGION, 0, GOOD_FORM,
              GOOD_FORM);
  check_sns_error(&r, 403, "Sender", "SignatureDoesNotMatch",
                  "The request signature we calculated does not match the "
                  "signature you provided.");
  resp_free(&r);
  /* Signed one body, sent another. */
  sns_post_as(&r, s, &SIM_CREDS, VC_SIM_SNS_REGION, 0, GOOD_FORM,
              GOOD_FORM "x");
  check_sns_error(&r, 403, "Sender", "SignatureDoesNotMatch",
                  "does not match");
  resp_free(&r);
  sns_post_as(&r, s, &other_key, VC_SIM_SNS_REGION, 0, GOOD_FORM,
              GOOD_FORM);
  check_sns_error(&r, 403, "Sender", "InvalidClientTokenId",
                  "security token");
  resp_free(&r);
  sns_post_as(&r, s, &SIM_CREDS, "eu-west-1", 0, GOOD_FORM, GOOD_FORM);
  check_sns_error(&r, 403, "Sender", "SignatureDoesNotMatch", "scoped");
  resp_free(&r);
  /* Twenty minutes old: past AWS's fifteen. */
  sns_post_as(&r, s, &SIM_CREDS, VC_SIM_SNS_REGION,
              wall_ms() - 20 * 60 * 1000, GOOD_FORM, GOOD_FORM);
  check_sns_error(&r, 403, "Sender", "SignatureDoesNotMatch",
                  "Signature expired");
  resp_free(&r);
  http(&r, "POST", url_of(s, PUB_PATH), FORM_CT, GOOD_FORM,
       strlen(GOOD_FORM), NULL);
  check_sns_error(&r, 403, "Sender", "MissingAuthenticationToken",
                  "missing Authentication Token");
  resp_free(&r);
  {
    req_opts o = { NULL, { "Authorization: AWS4-HMAC-SHA256 Garbage" },
                   0 };
    http(&r, "POST", url_of(s, PUB_PATH), FORM_CT, GOOD_FORM,
         strlen(GOOD_FORM), &o);
    check_sns_error(&r, 403, "Sender", "IncompleteSignature", "Credential");
    resp_free(&r);
  }
  CHECK(vc_sim_accepted_count(s, "sns") == 0);
  vc_sim_stop(s);
}

static void test_sim_sns__session_token(void)
{
  static const vc__aws_creds with_token = {
    VC_SIM_SNS_ACCESS_KEY_ID, VC_SIM_SNS_SECRET_ACCESS_KEY, "sess-token-1"
  };
  static const vc__aws_creds bad_token = {
    VC_SIM_SNS_ACCESS_KEY_ID, VC_SIM_SNS_SECRET_ACCESS_KEY, "sess-token-2"
  };
  vc_sim *s = start();
  resp r;

  CHECK_OK(vc_sim_set(s, "sns.session_token", "sess-token-1"));
  sns_post(&r, s, GOOD_FORM);
  check_sns_error(&r, 403, "Sender", "InvalidClientTokenId", "token");
  resp_free(&r);
  sns_post_as(&r, s, &bad_token, VC_SIM_SNS_REGION, 0, GOOD_FORM, GOOD_FORM);
  check_sns_error(&r, 403, "Sender", "InvalidClientTokenId", "token");
  resp_free(&r);
  sns_post_as(&r, s, &with_token, VC_SIM_SNS_REGION, 0, GOOD_FORM,
              GOOD_FORM);
  CHECK(r.status == 200);
  resp_free(&r);
  vc_sim_stop(s);
}

static void test_sim_sns__publish_refused(void)
{
  vc_sim *s = start();
  char big[2100];
  resp r;

  sns_post(&r, s, "Action=Publish&Version=2010-03-31&Message=hi");
  check_sns_error(&r, 400, "Sender", "InvalidParameter",
                  "TopicArn or TargetArn Reason: no value for required "
                  "parameter");
  resp_free(&r);
  sns_post(&r, s, "Action=Publish&Version=2010-03-31&PhoneNumber=%2B1415");
  check_sns_error(&r, 400, "Sender", "ValidationError",
                  "Value null at 'message'");
  resp_free(&r);
  sns_post(&r, s, "Action=Publish&Version=2010-03-31&PhoneNumber=12345"
           "&Message=hi");
  check_sns_error(&r, 400, "Sender", "InvalidParameter",
                  "PhoneNumber Reason: 12345 is not valid to publish to");
  resp_free(&r);
  sns_post(&r, s, "Action=Publish&Version=2010-03-31&PhoneNumber="
           "%2B15005550001&Message=hi");
  check_sns_error(&r, 400, "Sender", "InvalidParameter",
                  "+15005550001 is not valid to publish to");
  resp_free(&r);
  snprintf(big, sizeof(big), "Action=Publish&Version=2010-03-31&"
           "PhoneNumber=%%2B14155550123&Message=");
  memset(big + strlen(big), 'a', 1601);
  big[sizeof(big) - 1] = '\0';
  big[strlen("Action=Publish&Version=2010-03-31&PhoneNumber=%2B14155550123"
             "&Message=") + 1601] = '\0';
  sns_post(&r, s, big);
  check_sns_error(&r, 400, "Sender", "InvalidParameter", "too long");
  resp_free(&r);
  sns_post(&r, s, GOOD_FORM
           "&MessageAttributes.entry.1.Name=AWS.SNS.SMS.SMSType"
           "&MessageAttributes.entry.1.Value.DataType=String"
           "&MessageAttributes.entry.1.Value.StringValue=Urgent");
  check_sns_error(&r, 400, "Sender", "InvalidParameter",
                  "AWS.SNS.SMS.SMSType");
  resp_free(&r);
  sns_post(&r, s, GOOD_FORM
           "&MessageAttributes.entry.1.Name=AWS.SNS.SMS.SenderID"
           "&MessageAttributes.entry.1.Value.DataType=String"
           "&MessageAttributes.entry.1.Value.StringValue=123456");
  check_sns_error(&r, 400, "Sender", "InvalidParameter",
                  "AWS.SNS.SMS.SenderID");
  resp_free(&r);
  sns_post(&r, s, "Action=Subscribe&Version=2010-03-31");
  check_sns_error(&r, 400, "Sender", "InvalidAction", "invalid");
  resp_free(&r);
  CHECK(vc_sim_accepted_count(s, "sns") == 0);
  vc_sim_stop(s);
}

static void test_sim_sns__faults(void)
{
  vc_sim *s = start();
  vc_sim_fault f = VC_SIM_FAULT_INIT;
  resp r;

  f.kind = VC_SIM_FAULT_429;
  CHECK_OK(vc_sim_fault_add(s, "sns", &f));
  sns_post(&r, s, GOOD_FORM);
  check_sns_error(&r, 429, "Sender", "Throttled", "Rate exceeded");
  resp_free(&r);
  CHECK_OK(vc_sim_set(s, "sns.throttling", "Throttling"));
  CHECK_OK(vc_sim_fault_add(s, "sns", &f));
  sns_post(&r, s, GOOD_FORM);
  check_sns_error(&r, 400, "Sender", "Throttling", "Rate exceeded");
  resp_free(&r);
  f.kind = VC_SIM_FAULT_5XX;
  f.status = 503;
  CHECK_OK(vc_sim_fault_add(s, "sns", &f));
  sns_post(&r, s, GOOD_FORM);
  check_sns_error(&r, 503, "Receiver", "ServiceUnavailable", "unavailable");
  resp_free(&r);
  f.status = 500;
  CHECK_OK(vc_sim_fault_add(s, "sns", &f));
  sns_post(&r, s, GOOD_FORM);
  check_sns_error(&r, 500, "Receiver", "InternalError", "internal error");
  resp_free(&r);
  sns_post(&r, s, GOOD_FORM);
  CHECK(r.status == 200);
  resp_free(&r);
  /* Twilio's paths still go to Twilio. */
  tw_post(&r, s, "To=%2B14155550123&From=%2B15005550006&Body=x");
  CHECK(r.status == 201);
  resp_free(&r);
  http(&r, "GET", url_of(s, "/nothing/here"), NULL, NULL, 0, NULL);
  CHECK(r.status == 404);
  resp_free(&r);
  vc_sim_stop(s);
}

/* ---- topic messages ------------------------------------------------------ */

static char g_cert_path[128];

static const char *cert_path(vc_sim *s)
{
  CHECK(vc_sim_get(s, "sns.cert_path", g_cert_path,
                   sizeof(g_cert_path)) > 0);
  return g_cert_path;
}

static void test_sim_sns__certificate(void)
{
  vc_sim *s = start();
  mbedtls_x509_crt crt;
  resp r;

  http(&r, "GET", url_of(s, cert_path(s)), NULL, NULL, 0, NULL);
  CHECK(r.status == 200);
  CHECK(strncmp(r.body, "-----BEGIN CERTIFICATE-----", 27) == 0);
  CHECK_STR(r.body, vc_sim_sns_cert_pem(s));
  mbedtls_x509_crt_init(&crt);
  CHECK(mbedtls_x509_crt_parse(&crt, (const unsigned char *)r.body,
                               r.len + 1) == 0);
  CHECK(mbedtls_pk_get_type(&crt.pk) == MBEDTLS_PK_RSA);
  CHECK(mbedtls_pk_get_bitlen(&crt.pk) == 2048);
  mbedtls_x509_crt_free(&crt);
  resp_free(&r);
  http(&r, "GET", url_of(s, "/SimpleNotificationService-other.pem"), NULL,
       NULL, 0, NULL);
  CHECK(r.status == 404);
  resp_free(&r);
  vc_sim_stop(s);
}

/* Verify a posted body with the certificate, from the documented string
 * to sign: mbedTLS directly. */
static int sns_verify(const char *body, const char *pem)
{
  static const char *const note_keys[] = {
    "Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"
  };
  static const char *const conf_keys[] = {
    "Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn",
    "Type"
  };
  cJSON *j = cJSON_Parse(body);
  const char *type = jstr(j, "Type"), *ver = jstr(j, "SignatureVersion");
  int note = type && strcmp(type, "Notification") == 0;
  const char *const *keys = note ? note_keys : conf_keys;
  size_t nkeys = note ? 6 : 7, slen = 0;
  char text[8192] = "";
  unsigned char sig[512], hash[32];
  mbedtls_md_type_t md;
  mbedtls_x509_crt crt;
  int rc;

  CHECK(j != NULL && ver != NULL);
  for (size_t i = 0; i < nkeys; i++)
    if (jstr(j, keys[i]) != NULL)
      snprintf(text + strlen(text), sizeof(text) - strlen(text), "%s\n%s\n",
               keys[i], jstr(j, keys[i]));
  md = strcmp(ver, "1") == 0 ? MBEDTLS_MD_SHA1 : MBEDTLS_MD_SHA256;
  CHECK(mbedtls_base64_decode(sig, sizeof(sig), &slen,
                              (const unsigned char *)jstr(j, "Signature"),
                              strlen(jstr(j, "Signature"))) == 0);
  mbedtls_md(mbedtls_md_info_from_type(md), (const unsigned char *)text,
             strlen(text), hash);
  mbedtls_x509_crt_init(&crt);
  CHECK(mbedtls_x509_crt_parse(&crt, (const unsigned char *)pem,
                               strlen(pem) + 1) == 0);
  rc = mbedtls_pk_verify(&crt.pk, md, hash, 0, sig, slen);
  mbedtls_x509_crt_free(&crt);
  cJSON_Delete(j);
  return rc;
}

static void test_sim_sns__notifications_signed(void)
{
  vc_sim *s = start();
  receiver *rv = rx_start();
  vc_sim_sns_message m = VC_SIM_SNS_MESSAGE_INIT;
  const char *pem = vc_sim_sns_cert_pem(s);
  char url[128], *tampered;
  const rx_req *q;
  cJSON *j, *inner;
  int seen_v[3] = { 0, 0, 0 };

  snprintf(url, sizeof(url), "http://127.0.0.1:%u/hook", rv->port);
  CHECK(pem != NULL);
  m.subject = "Greetings";
  m.message = "hello";
  m.signature_version = 1;
  CHECK_OK(vc_sim_sns_post(s, url, &m));
  m.signature_version = 2;
  CHECK_OK(vc_sim_sns_post(s, url, &m));
  CHECK_OK(vc_sim_sns_inbound(s, url, "+14155550123", "+12065550100",
                              "Yes \"please\""));
  CHECK(rx_wait(rv, 3, 10000) == 3);
  CHECK(vc_sim_webhooks_wait(s, 10000) == 0);
  /* Separate messages may arrive in any order. */
  for (int i = 0; i < 3; i++) {
    q = rx_get(rv, (size_t)i);
    CHECK(sns_verify(q->body, pem) == 0);
    j = cJSON_Parse(q->body);
    seen_v[jstr(j, "Subject") == NULL ? 2 : jstr(j, "SignatureVersion")[0]
           == '1' ? 0 : 1]++;
    cJSON_Delete(j);
  }
  CHECK(seen_v[0] == 1 && seen_v[1] == 1 && seen_v[2] == 1);
  for (int i = 0; i < 3; i++) {
    q = rx_get(rv, (size_t)i);
    CHECK_STR(rx_hdr(q, "x-amz-sns-message-type"), "Notification");
    CHECK_STR(rx_hdr(q, "x-amz-sns-topic-arn"), VC_SIM_SNS_TOPIC_ARN);
    CHECK(strncmp(rx_hdr(q, "Content-Type"), "text/plain", 10) == 0);
    CHECK_STR(rx_hdr(q, "User-Agent"),
              "Amazon Simple Notification Service Agent");
    j = cJSON_Parse(q->body);
    CHECK_STR(rx_hdr(q, "x-amz-sns-message-id"), jstr(j, "MessageId"));
    CHECK(strncmp(jstr(j, "SigningCertURL"),
                  "https://sns.us-east-1.amazonaws.com/"
                  "SimpleNotificationService-",
                  strlen("https://sns.us-east-1.amazonaws.com/"
                         "SimpleNotificationService-")) == 0);
    CHECK(strstr(jstr(j, "SigningCertURL"), cert_path(s)) != NULL);
    if (jstr(j, "Subject") == NULL) {
      inner = cJSON_Parse(jstr(j, "Message"));
      CHECK_STR(jstr(inner, "originationNumber"), "+14155550123");
      CHECK_STR(jstr(inner, "destinationNumber"), "+12065550100");
      CHECK_STR(jstr(inner, "messageBody"), "Yes \"please\"");
      CHECK(strlen(jstr(inner, "inboundMessageId")) == 36);
      cJSON_Delete(inner);
    } else {
      CHECK_STR(jstr(j, "Subject"), "Greetings");
    }
    cJSON_Delete(j);
  }
  /* What was signed is what is checked. */
  for (int i = 0; i < 3; i++)
    if (strstr((q = rx_get(rv, (size_t)i))->body, "hello") != NULL)
      break;
  tampered = strdup(q->body);
  *strstr(tampered, "hello") = 'j';
  CHECK(sns_verify(tampered, pem) != 0);
  free(tampered);
  rx_stop(rv);
  vc_sim_stop(s);
}

static void test_sim_sns__subscription(void)
{
  vc_sim *s = start();
  vc_sim_sns_message m = VC_SIM_SNS_MESSAGE_INIT;
  char *body, path[1024];
  const char *sub;
  cJSON *j;
  resp r;

  m.type = "SubscriptionConfirmation";
  CHECK_OK(vc_sim_sns_build(s, &m, &body));
  CHECK(sns_verify(body, vc_sim_sns_cert_pem(s)) == 0);
  j = cJSON_Parse(body);
  CHECK_STR(jstr(j, "Type"), "SubscriptionConfirmation");
  CHECK(strstr(jstr(j, "Message"), VC_SIM_SNS_TOPIC_ARN) != NULL);
  sub = jstr(j, "SubscribeURL");
#define SUB_PREFIX "https://sns.us-east-1.amazonaws.com/?Action=" \
  "ConfirmSubscription&TopicArn=" VC_SIM_SNS_TOPIC_ARN "&Token="
  CHECK(strncmp(sub, SUB_PREFIX, strlen(SUB_PREFIX)) == 0);
  CHECK(strstr(sub, jstr(j, "Token")) != NULL);
  CHECK(vc_sim_sns_confirmed(s, NULL) == 0);
  /* A wrong token is refused. */
  snprintf(path, sizeof(path), "/?Action=ConfirmSubscription&TopicArn="
           VC_SIM_SNS_TOPIC_ARN "&Token=0000");
  http(&r, "GET", url_of(s, path), NULL, NULL, 0, NULL);
  check_sns_error(&r, 400, "Sender", "InvalidParameter", "Invalid token");
  resp_free(&r);
  /* The SubscribeURL, on the simulator. */
  snprintf(path, sizeof(path), "%s", strchr(sub + 8, '/'));
  http(&r, "GET", url_of(s, path), NULL, NULL, 0, NULL);
  CHECK(r.status == 200);
  CHECK(strncmp(xml_tag(&r, "SubscriptionArn"),
                VC_SIM_SNS_TOPIC_ARN ":", strlen(VC_SIM_SNS_TOPIC_ARN) + 1)
        == 0);
  resp_free(&r);
  CHECK(vc_sim_sns_confirmed(s, VC_SIM_SNS_TOPIC_ARN) == 1);
  CHECK(vc_sim_sns_confirmed(s, "arn:aws:sns:us-east-1:1:other") == 0);
  cJSON_Delete(j);
  free(body);
  /* Unsubscribe confirmations carry a token too, and a version 2. */
  m.type = "UnsubscribeConfirmation";
  m.signature_version = 2;
  CHECK_OK(vc_sim_sns_build(s, &m, &body));
  CHECK(sns_verify(body, vc_sim_sns_cert_pem(s)) == 0);
  free(body);
  m.type = "Other";
  CHECK(vc_sim_sns_build(s, &m, &body) == -EINVAL);
  vc_sim_stop(s);
}

VC_TESTS(
  VC_TEST(test_sim_sns__publish_accepted),
  VC_TEST(test_sim_sns__signature_refused),
  VC_TEST(test_sim_sns__session_token),
  VC_TEST(test_sim_sns__publish_refused),
  VC_TEST(test_sim_sns__faults),
  VC_TEST(test_sim_sns__certificate),
  VC_TEST(test_sim_sns__notifications_signed),
  VC_TEST(test_sim_sns__subscription),
)
