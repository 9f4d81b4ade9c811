/*
 * Unit tests of AWS Signature Version 4 (src/core/sigv4.c).
 *
 * Known-good values, none computed by the code under test:
 * - TV-AWS-1..6 (providers.md, "AWS SigV4"): the AWS signing test suite
 *   (awslabs/aws-c-auth tests/aws-signing-test-suite/v4) and the
 *   smithy-typescript fixtures, plus the AWS documentation's signing-key
 *   example;
 * - further cases of the same suite (get-vanilla-query-order-key-case,
 *   get-header-key-duplicate, get-header-value-trim,
 *   get-space-normalized, get-slashes-normalized,
 *   get-vanilla-with-session-token): published signatures, each
 *   re-computed with a separate Python implementation (hashlib/hmac,
 *   urllib.parse.quote) before being pasted here;
 * - the edge cases below (reserved characters, '+', repeated query
 *   names, an SNS Publish): computed with that same Python
 *   implementation only.
 */
#include "core/common.h"
#include "core/codec.h"
#include "core/sigv4.h"

#include "harness.h"

#define AKID "AKIDEXAMPLE"
#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
/* 2015-08-30T12:36:00Z */
#define SUITE_MS INT64_C(1440938160000)
#define EMPTY_SHA256 \
  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static const vc__aws_creds CREDS = { AKID, SECRET, NULL };

static void sign(vc__sigv4 *s, const char *method, const char *url,
                 const vc_http_header *h, size_t nh, const char *body,
                 const char *service, const vc__aws_creds *c)
{
  CHECK_OK(vc__sigv4_sign(s, method, url, h, nh, body,
                          body ? strlen(body) : 0, "us-east-1", service, c,
                          SUITE_MS));
}

/* The Signature= part of the Authorization value. */
static const char *signature_of(const vc__sigv4 *s)
{
  const char *p = strstr(s->authorization.ptr, "Signature=");

  CHECK(p != NULL);
  return p + 10;
}

static void check_sig(const char *method, const char *url,
                      const vc_http_header *h, size_t nh, const char *body,
                      const char *want)
{
  vc__sigv4 s;

  sign(&s, method, url, h, nh, body, "service", &CREDS);
  CHECK_STR(signature_of(&s), want);
  vc__sigv4_dispose(&s);
}

/* ------------------------------------------------------------------ */
/* TV-AWS                                                              */

static void test_sigv4__tv_aws_1_get_vanilla(void)
{
  vc__sigv4 s;

  sign(&s, "GET", "https://example.amazonaws.com/", NULL, 0, NULL,
       "service", &CREDS);
  CHECK_STR(s.canonical_request.ptr,
            "GET\n/\n\nhost:example.amazonaws.com\n"
            "x-amz-date:20150830T123600Z\n\nhost;x-amz-date\n"
            EMPTY_SHA256);
  CHECK_STR(s.string_to_sign.ptr,
            "AWS4-HMAC-SHA256\n20150830T123600Z\n"
            "20150830/us-east-1/service/aws4_request\n"
            "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
  CHECK_STR(s.authorization.ptr,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/"
            "service/aws4_request, SignedHeaders=host;x-amz-date, "
            "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1"
            "d763fbf31");
  CHECK_STR(s.amz_date, "20150830T123600Z");
  CHECK_STR(s.host, "example.amazonaws.com");
  vc__sigv4_dispose(&s);
}

static void test_sigv4__tv_aws_2_post_vanilla(void)
{
  vc__sigv4 s;

  sign(&s, "POST", "https://example.amazonaws.com/", NULL, 0, NULL,
       "service", &CREDS);
  CHECK(strstr(s.string_to_sign.ptr, "553f88c9e4d10fc9e109e2aeb65f030801b7"
               "0c2f6468faca261d401ae622fc87") != NULL);
  CHECK_STR(signature_of(&s), "5da7c1a2acd57cee7505fc6676e4e544621c30862966"
            "e37dddb68e92efbe5d6b");
  vc__sigv4_dispose(&s);
}

static void test_sigv4__tv_aws_3_form(void)
{
  vc_http_header h[] = {
    { "Content-Type", "application/x-www-form-urlencoded" }
  };
  vc__sigv4 s;

  sign(&s, "POST", "https://example.amazonaws.com/", h, 1, "Param1=value1",
       "service", &CREDS);
  CHECK_STR(s.canonical_request.ptr,
            "POST\n/\n\ncontent-type:application/x-www-form-urlencoded\n"
            "host:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
            "content-type;host;x-amz-date\n"
            "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e");
  CHECK(strstr(s.string_to_sign.ptr, "42a5e5bb34198acb3e84da4f085bb7927f2b"
               "c277ca766e6d19c73c2154021281") != NULL);
  CHECK_STR(signature_of(&s), "ff11897932ad3f4e8b18135d722051e5ac45fc38421b"
            "1da7b9d196a0fe09473a");
  vc__sigv4_dispose(&s);
}

static void test_sigv4__tv_aws_4_content_sha256(void)
{
  vc_http_header h[] = {
    { "Content-Type", "application/x-www-form-urlencoded" },
    { "Content-Length", "13" },
    { "X-Amz-Content-Sha256",
      "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e" },
  };
  vc__sigv4 s;

  sign(&s, "POST", "https://example.amazonaws.com/", h, 3, "Param1=value1",
       "service", &CREDS);
  CHECK(strstr(s.authorization.ptr, "SignedHeaders=content-length;"
               "content-type;host;x-amz-content-sha256;x-amz-date,") != NULL);
  CHECK(strstr(s.string_to_sign.ptr, "b1edd1d03544c25390e32085d55b57acc9a3"
               "961bb59415ff86c45c3d89d16cfb") != NULL);
  CHECK_STR(signature_of(&s), "d3875051da38690788ef43de4db0d8f280229d82040b"
            "fac253562e56c3f20e0b");
  vc__sigv4_dispose(&s);
}

static void test_sigv4__tv_aws_5_form_charset(void)
{
  vc_http_header h[] = {
    { "Content-Type", "application/x-www-form-urlencoded; charset=utf8" }
  };

  check_sig("POST", "https://example.amazonaws.com/", h, 1, "Param1=value1",
            "1a72ec8f64bd914b0e42e42607c7fbce7fb2c7465f63e3092b3b0d39fa77a6fe");
}

static void test_sigv4__tv_aws_6_signing_key(void)
{
  uint8_t key[32];
  char hex[65];

  CHECK_OK(vc__sigv4_signing_key(key, SECRET, "20120215", "us-east-1",
                                 "iam"));
  vc__hex_encode(hex, key, 32);
  CHECK_STR(hex, "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d4"
            "14db404d");
}

/* ------------------------------------------------------------------ */
/* More of the AWS suite                                               */

static void test_sigv4__suite_query_order(void)
{
  /* get-vanilla-query-order-key-case: sorted by name, byte order. */
  check_sig("GET", "https://example.amazonaws.com/?Param2=value2&"
            "Param1=value1", NULL, 0, NULL,
            "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
  check_sig("GET", "https://example.amazonaws.com/?Param1=value1&"
            "Param2=value2", NULL, 0, NULL,
            "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
}

static void test_sigv4__suite_repeated_header(void)
{
  /* get-header-key-duplicate: values joined with ',' as given. */
  vc_http_header h[] = {
    { "My-Header1", "value2" }, { "My-Header1", "value2" },
    { "My-Header1", "value1" },
  };
  vc__sigv4 s;

  sign(&s, "GET", "https://example.amazonaws.com/", h, 3, NULL, "service",
       &CREDS);
  CHECK(strstr(s.canonical_request.ptr,
               "\nmy-header1:value2,value2,value1\n") != NULL);
  CHECK_STR(signature_of(&s), "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4"
            "468f858259531a5138ea");
  vc__sigv4_dispose(&s);
}

static void test_sigv4__suite_header_trim(void)
{
  /* get-header-value-trim: trimmed, inner runs of spaces as one. */
  vc_http_header h[] = {
    { "My-Header1", " value1" }, { "My-Header2", " \"a   b   c\"" },
  };
  vc__sigv4 s;

  sign(&s, "GET", "https://example.amazonaws.com/", h, 2, NULL, "service",
       &CREDS);
  CHECK(strstr(s.canonical_request.ptr,
               "\nmy-header1:value1\nmy-header2:\"a b c\"\n") != NULL);
  CHECK_STR(signature_of(&s), "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b3"
            "67055dee359757a9c736");
  vc__sigv4_dispose(&s);
}

static void test_sigv4__suite_paths(void)
{
  vc__sigv4 s;

  /* get-space-normalized: the space on the wire is encoded once. */
  check_sig("GET", "https://example.amazonaws.com/example space/", NULL, 0,
            NULL, "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec"
            "1366741");
  /* get-slashes-normalized: empty segments dropped. */
  check_sig("GET", "https://example.amazonaws.com//example//", NULL, 0, NULL,
            "9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84");
  /* Dot segments, and an already encoded byte encoded again. */
  sign(&s, "GET", "https://example.amazonaws.com/a/./b/../c%20d/..", NULL,
       0, NULL, "service", &CREDS);
  CHECK(strncmp(s.canonical_request.ptr, "GET\n/a\n\n", 8) == 0);
  vc__sigv4_dispose(&s);
  sign(&s, "GET", "https://example.amazonaws.com/c%20d/", NULL, 0, NULL,
       "service", &CREDS);
  CHECK(strncmp(s.canonical_request.ptr, "GET\n/c%2520d/\n\n", 15) == 0);
  vc__sigv4_dispose(&s);
  /* No path at all is "/". */
  check_sig("GET", "https://example.amazonaws.com", NULL, 0, NULL,
            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

static void test_sigv4__suite_session_token(void)
{
  static const vc__aws_creds c = {
    AKID, SECRET,
    "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267"
  };
  vc__sigv4 s;

  sign(&s, "GET", "https://example.amazonaws.com/", NULL, 0, NULL,
       "service", &c);
  CHECK(strstr(s.authorization.ptr,
               "SignedHeaders=host;x-amz-date;x-amz-security-token,") != NULL);
  CHECK_STR(signature_of(&s), "07ec1639c89043aa0e3e2de82b96708f198cceab042d"
            "4a97044c66dd9f74e7f8");
  vc__sigv4_dispose(&s);
}

/* ------------------------------------------------------------------ */
/* Edge cases (Python-computed)                                        */

static void test_sigv4__query_encoding(void)
{
  vc__sigv4 s;

  /* '/' and ':' encoded, '~' (even as %7e) kept, lower-case escapes
   * upper-cased, '+' a literal plus, a name without '=' an empty value,
   * repeated names sorted by value, UTF-8 by its bytes. */
  sign(&s, "GET", "https://example.amazonaws.com/?b=x/y&a=hello%20world&"
       "a=A+B&c=~t%7e&empty&%e1%88%b4=%3a", NULL, 0, NULL, "service",
       &CREDS);
  CHECK(strncmp(s.canonical_request.ptr,
                "GET\n/\n%E1%88%B4=%3A&a=A%2BB&a=hello%20world&b=x%2Fy&"
                "c=~t~&empty=\n", 62) == 0);
  CHECK_STR(signature_of(&s), "cafec15ad0cbb6516d52ed1a61f1db05008906896b1a"
            "19997e1467c0c61ffb6b");
  vc__sigv4_dispose(&s);
  /* The same parameters in another order sign the same. */
  check_sig("GET", "https://example.amazonaws.com/?%e1%88%b4=%3a&empty=&"
            "c=~t~&a=A%2BB&b=x%2Fy&a=hello%20world", NULL, 0, NULL,
            "cafec15ad0cbb6516d52ed1a61f1db05008906896b1a19997e1467c0c61ffb6b");
}

static void test_sigv4__sns_publish(void)
{
  static const char body[] = "Action=Publish&Message=Hello%20world&"
                             "PhoneNumber=%2B14155550123&Version=2010-03-31";
  static const vc__aws_creds temp = {
    AKID, SECRET, "FQoGZXIvYXdzEXAMPLETOKEN//////////wEaDOEXAMPLE="
  };
  vc_http_header h[] = {
    { "Content-Type", "application/x-www-form-urlencoded; charset=utf-8" }
  };
  vc__sigv4 s;

  sign(&s, "POST", "https://sns.us-east-1.amazonaws.com/", h, 1, body, "sns",
       &CREDS);
  CHECK(strstr(s.canonical_request.ptr, "\n09bd7fc53665c5b3a23c568dcfcaf18"
               "35798225573ad1556192bcf97637c6f52") != NULL);
  CHECK(strstr(s.authorization.ptr, "/20150830/us-east-1/sns/aws4_request,")
        != NULL);
  CHECK_STR(signature_of(&s), "6e557656a35ddeb730c9622727e5699bd0c6ba4db89d"
            "2c1b534a586c9b39fc7e");
  vc__sigv4_dispose(&s);
  /* The default port is not part of Host. */
  sign(&s, "POST", "https://SNS.us-east-1.amazonaws.com:443/", h, 1, body,
       "sns", &CREDS);
  CHECK_STR(s.host, "sns.us-east-1.amazonaws.com");
  CHECK_STR(signature_of(&s), "6e557656a35ddeb730c9622727e5699bd0c6ba4db89d"
            "2c1b534a586c9b39fc7e");
  vc__sigv4_dispose(&s);
  /* Another port is. */
  sign(&s, "POST", "http://127.0.0.1:8443/", h, 1, body, "sns", &CREDS);
  CHECK_STR(s.host, "127.0.0.1:8443");
  CHECK_STR(signature_of(&s), "9a1e74e37cd354781a317ad2e44c1a300ba24f16c209"
            "a5279f5f6251fc661629");
  vc__sigv4_dispose(&s);
  /* A session token is signed. */
  sign(&s, "POST", "https://sns.us-east-1.amazonaws.com/", h, 1, body, "sns",
       &temp);
  CHECK_STR(signature_of(&s), "6ab9989a5d328cf860ce6d5267a3e13af04dd123bc00"
            "dc65237c34eb3db02a26");
  vc__sigv4_dispose(&s);
}

static void test_sigv4__everything_signed_matters(void)
{
  static const vc__aws_creds other = { AKID, "another-secret", NULL };
  const char *base = "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e"
                     "92efbe5d6b";
  vc__sigv4 s;

  sign(&s, "POST", "https://example.amazonaws.com/", NULL, 0, "x",
       "service", &CREDS);
  CHECK(strcmp(signature_of(&s), base) != 0);
  vc__sigv4_dispose(&s);
  sign(&s, "POST", "https://example.amazonaws.com/", NULL, 0, NULL,
       "service", &other);
  CHECK(strcmp(signature_of(&s), base) != 0);
  vc__sigv4_dispose(&s);
  sign(&s, "POST", "https://example.amazonaws.com/", NULL, 0, NULL, "sns",
       &CREDS);
  CHECK(strcmp(signature_of(&s), base) != 0);
  vc__sigv4_dispose(&s);
  CHECK_OK(vc__sigv4_sign(&s, "POST", "https://example.amazonaws.com/", NULL,
                          0, NULL, 0, "us-east-1", "service", &CREDS,
                          SUITE_MS + 1000));
  CHECK_STR(s.amz_date, "20150830T123601Z");
  CHECK(strcmp(signature_of(&s), base) != 0);
  vc__sigv4_dispose(&s);
}

static void test_sigv4__bad_input(void)
{
  static const vc__aws_creds bad_id = { "akid", SECRET, NULL };
  static const vc__aws_creds bad_secret = { AKID, "has space", NULL };
  static const vc__aws_creds bad_token = { AKID, SECRET, "a\nb" };
  vc_http_header host[] = { { "Host", "evil.example" } };
  vc_http_header date[] = { { "x-amz-date", "20990101T000000Z" } };
  vc_http_header crlf[] = { { "X-A", "a\r\nX-B: b" } };
  vc_http_header name[] = { { "X A", "a" } };
  vc__sigv4 s;

#define BAD_SIGN(url, h, nh, region, service, c, ms, want)                  \
  do {                                                                     \
    CHECK_RC(vc__sigv4_sign(&s, "POST", url, h, nh, NULL, 0, region,       \
                            service, c, ms), want);                        \
    CHECK(s.authorization.ptr == NULL);                                    \
    CHECK(strstr(vc_error_last()->message, SECRET) == NULL);               \
    vc__sigv4_dispose(&s);                                                 \
  } while (0)
  BAD_SIGN("ftp://example.com/", NULL, 0, "us-east-1", "sns", &CREDS,
           SUITE_MS, VC_EINVALID);
  BAD_SIGN("https://user:pw@example.com/", NULL, 0, "us-east-1", "sns",
           &CREDS, SUITE_MS, VC_EINVALID);
  BAD_SIGN("https://example.com/#frag", NULL, 0, "us-east-1", "sns", &CREDS,
           SUITE_MS, VC_EINVALID);
  BAD_SIGN("https:///path", NULL, 0, "us-east-1", "sns", &CREDS, SUITE_MS,
           VC_EINVALID);
  BAD_SIGN("https://example.com:99999/", NULL, 0, "us-east-1", "sns",
           &CREDS, SUITE_MS, VC_EINVALID);
  BAD_SIGN("https://example.com/", host, 1, "us-east-1", "sns", &CREDS,
           SUITE_MS, VC_EINVALID);
  BAD_SIGN("https://example.com/", date, 1, "us-east-1", "sns", &CREDS,
           SUITE_MS, VC_EINVALID);
  BAD_SIGN("https://example.com/", crlf, 1, "us-east-1", "sns", &CREDS,
           SUITE_MS, VC_EINVALID);
  BAD_SIGN("https://example.com/", name, 1, "us-east-1", "sns", &CREDS,
           SUITE_MS, VC_EINVALID);
  BAD_SIGN("https://example.com/", NULL, 0, "US-EAST-1", "sns", &CREDS,
           SUITE_MS, VC_EINVALID);
  BAD_SIGN("https://example.com/", NULL, 0, "us-east-1", "s n s", &CREDS,
           SUITE_MS, VC_EINVALID);
  BAD_SIGN("https://example.com/", NULL, 0, "us-east-1", "sns", &bad_id,
           SUITE_MS, VC_EINVALID);
  BAD_SIGN("https://example.com/", NULL, 0, "us-east-1", "sns",
           &bad_secret, SUITE_MS, VC_EINVALID);
  BAD_SIGN("https://example.com/", NULL, 0, "us-east-1", "sns", &bad_token,
           SUITE_MS, VC_EINVALID);
  BAD_SIGN("https://example.com/", NULL, 0, "us-east-1", "sns", &CREDS, -1,
           VC_EINVALID);
#undef BAD_SIGN
}

VC_TESTS(
  VC_TEST(test_sigv4__tv_aws_1_get_vanilla),
  VC_TEST(test_sigv4__tv_aws_2_post_vanilla),
  VC_TEST(test_sigv4__tv_aws_3_form),
  VC_TEST(test_sigv4__tv_aws_4_content_sha256),
  VC_TEST(test_sigv4__tv_aws_5_form_charset),
  VC_TEST(test_sigv4__tv_aws_6_signing_key),
  VC_TEST(test_sigv4__suite_query_order),
  VC_TEST(test_sigv4__suite_repeated_header),
  VC_TEST(test_sigv4__suite_header_trim),
  VC_TEST(test_sigv4__suite_paths),
  VC_TEST(test_sigv4__suite_session_token),
  VC_TEST(test_sigv4__query_encoding),
  VC_TEST(test_sigv4__sns_publish),
  VC_TEST(test_sigv4__everything_signed_matters),
  VC_TEST(test_sigv4__bad_input),
)
