/*
 * Unit tests of the multipart/form-data parser (src/core/multipart.c):
 * bodies written out by hand as RFC 7578 and RFC 2046 describe them
 * (preamble, epilogue, quoted boundary, transport padding), a round trip
 * through the request builder, and every malformed shape refused.
 */
#include "core/common.h"
#include "core/codec.h"
#include "core/multipart.h"
#include "net/http_out.h"

#include "harness.h"

static int parse(vc__form *f, size_t *nfiles, const char *ct,
                 const char *body, size_t len)
{
  return vc__multipart_parse(f, nfiles, ct, (const uint8_t *)body, len,
                             100);
}

static void test_multipart__by_hand(void)
{
  static const char body[] =
    "This is a preamble.\r\n"
    "--b0und'ary\r\n"
    "Content-Disposition: form-data; name=\"recipient\"\r\n"
    "\r\n"
    "support@mg.example\r\n"
    "--b0und'ary  \r\n"                    /* transport padding */
    "content-disposition: form-data; name=body-plain\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "\r\n"
    "line 1\r\nline 2\r\n"
    "--b0und'ary\r\n"
    "Content-Disposition: form-data; name=\"attachment-1\"; "
    "filename=\"a \\\"b\\\".txt\"\r\n"
    "Content-Type: text/plain\r\n"
    "\r\n"
    "file bytes\r\n"
    "--b0und'ary\r\n"
    "Content-Disposition: form-data; name=\"empty\"\r\n"
    "\r\n"
    "\r\n"
    "--b0und'ary--\r\n"
    "An epilogue.\r\n";
  vc__form f;
  size_t nfiles;

  CHECK_OK(parse(&f, &nfiles,
                 "multipart/form-data; boundary=\"b0und'ary\"", body,
                 sizeof(body) - 1));
  CHECK(f.n == 3 && nfiles == 1);
  CHECK_STR(f.pairs[0].name, "recipient");
  CHECK_STR(f.pairs[0].value, "support@mg.example");
  CHECK_STR(f.pairs[1].name, "body-plain");
  /* The CR LF before a delimiter belongs to the delimiter. */
  CHECK_STR(f.pairs[1].value, "line 1\r\nline 2");
  CHECK_STR(f.pairs[2].name, "empty");
  CHECK_STR(f.pairs[2].value, "");
  vc__form_free(&f);
}

static void test_multipart__round_trip(void)
{
  static const uint8_t bin[] = { 0, 1, 2, '\r', '\n', '-', '-', 3 };
  vc_http_out req;
  vc__form f;
  size_t nfiles;
  const char *ct;

  vc__http_out_init(&req);
  CHECK_OK(vc_http_out_multipart_add(&req, "from", NULL, NULL,
                                     "ERP <b@erp.example>", 19));
  CHECK_OK(vc_http_out_multipart_add(&req, "attachment", "x.bin", NULL,
                                     bin, sizeof(bin)));
  CHECK_OK(vc_http_out_multipart_add(&req, "text", NULL, NULL,
                                     "a\r\n\r\nb", 6));
  CHECK_OK(vc_http_out_multipart_add(&req, "a\"b", NULL, NULL, "q", 1));
  ct = vc__http_out_header(&req, "Content-Type");
  CHECK_OK(vc__multipart_parse(&f, &nfiles, ct,
                               (const uint8_t *)req.body.ptr, req.body.size,
                               100));
  CHECK(f.n == 3 && nfiles == 1);
  CHECK_STR(f.pairs[0].value, "ERP <b@erp.example>");
  CHECK_STR(f.pairs[1].name, "text");
  CHECK_STR(f.pairs[1].value, "a\r\n\r\nb");
  CHECK_STR(f.pairs[2].name, "a%22b");
  vc__form_free(&f);
  vc__http_out_reset(&req);
}

static void test_multipart__boundary(void)
{
  char b[71];

  CHECK_OK(vc__multipart_boundary(b, "multipart/form-data; boundary=abc"));
  CHECK_STR(b, "abc");
  CHECK_OK(vc__multipart_boundary(b, "Multipart/Form-Data;charset=utf-8;"
                                     " Boundary=\"x-y_z\""));
  CHECK_STR(b, "x-y_z");
  CHECK_RC(vc__multipart_boundary(b, "multipart/mixed; boundary=abc"),
           VC_EINVALID);
  CHECK_RC(vc__multipart_boundary(b, "multipart/form-datax; boundary=a"),
           VC_EINVALID);
  CHECK_RC(vc__multipart_boundary(b, "multipart/form-data"), VC_EINVALID);
  CHECK_RC(vc__multipart_boundary(b, "multipart/form-data; boundary="),
           VC_EINVALID);
  CHECK_RC(vc__multipart_boundary(b, "multipart/form-data; boundary=\"\""),
           VC_EINVALID);
  CHECK_RC(vc__multipart_boundary(b, "multipart/form-data; boundary=a\"b"),
           VC_EINVALID);
  CHECK_RC(vc__multipart_boundary(b, "multipart/form-data; boundary=\"a"),
           VC_EINVALID);
  CHECK_RC(vc__multipart_boundary(b, NULL), VC_EINVALID);
  /* RFC 2046: at most 70 characters. */
  CHECK_RC(vc__multipart_boundary(b, "multipart/form-data; boundary="
                                     "0123456789012345678901234567890123456"
                                     "7890123456789012345678901234567890X"),
           VC_EINVALID);
}

static void test_multipart__malformed(void)
{
  static const struct {
    const char *why;
    const char *body;
  } cases[] = {
    { "no delimiter", "just text" },
    { "no closing delimiter",
      "--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv" },
    { "no closing after a part",
      "--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv\r\n" },
    { "no name",
      "--B\r\nContent-Disposition: form-data\r\n\r\nv\r\n--B--" },
    { "empty name",
      "--B\r\nContent-Disposition: form-data; name=\"\"\r\n\r\nv\r\n--B--" },
    { "not form-data",
      "--B\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\nv\r\n"
      "--B--" },
    { "no Content-Disposition",
      "--B\r\nContent-Type: text/plain\r\n\r\nv\r\n--B--" },
    { "no headers at all", "--B\r\n\r\nv\r\n--B--" },
    { "two Content-Disposition",
      "--B\r\nContent-Disposition: form-data; name=\"a\"\r\n"
      "Content-Disposition: form-data; name=\"b\"\r\n\r\nv\r\n--B--" },
    { "header without colon",
      "--B\r\nContent-Disposition form-data; name=\"a\"\r\n\r\nv\r\n--B--" },
    { "headers do not end",
      "--B\r\nContent-Disposition: form-data; name=\"a\"\r\n" },
    { "delimiter not followed by CR LF",
      "--Bx\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv\r\n"
      "--B--" },
    { "unclosed quote",
      "--B\r\nContent-Disposition: form-data; name=\"a\r\n\r\nv\r\n--B--" },
    { "junk after a parameter",
      "--B\r\nContent-Disposition: form-data; name=\"a\"x\r\n\r\nv\r\n"
      "--B--" },
  };
  vc__form f;
  size_t nfiles;

  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    int rc = parse(&f, &nfiles, "multipart/form-data; boundary=B",
                   cases[i].body, strlen(cases[i].body));
    if (rc != VC_EINVALID)
      fprintf(stderr, "  case '%s' gave %d\n", cases[i].why, rc);
    CHECK(rc == VC_EINVALID);
    CHECK(f.n == 0 && f.pairs == NULL && nfiles == 0);
  }
}

static void test_multipart__bounds(void)
{
  static const char nul[] =
    "--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv\0w\r\n--B--";
  char *big;
  vc__form f;
  size_t nfiles, n = 0;

  /* A NUL byte in a text field: it would cut the value short. */
  CHECK_RC(parse(&f, &nfiles, "multipart/form-data; boundary=B", nul,
                 sizeof(nul) - 1), VC_EINVALID);
  /* In a file, bytes are not read. */
  {
    static const char file[] =
      "--B\r\nContent-Disposition: form-data; name=\"a\"; filename=f\r\n"
      "\r\nv\0w\r\n--B--";
    CHECK_OK(parse(&f, &nfiles, "multipart/form-data; boundary=B", file,
                   sizeof(file) - 1));
    CHECK(f.n == 0 && nfiles == 1);
    vc__form_free(&f);
  }
  /* More parts than allowed. */
  big = malloc(200 * 64);
  CHECK(big != NULL);
  for (int i = 0; i < 101; i++)
    n += (size_t)sprintf(big + n, "--B\r\nContent-Disposition: form-data; "
                         "name=\"f%d\"\r\n\r\nv\r\n", i);
  n += (size_t)sprintf(big + n, "--B--\r\n");
  CHECK_RC(parse(&f, &nfiles, "multipart/form-data; boundary=B", big, n),
           VC_ETOOBIG);
  CHECK(f.n == 0);
  free(big);
  /* Headers over 8 KB. */
  big = malloc(10000);
  CHECK(big != NULL);
  n = (size_t)sprintf(big, "--B\r\nContent-Disposition: form-data; "
                      "name=\"a\"\r\nX-Long: ");
  memset(big + n, 'x', 8500);
  n += 8500;
  n += (size_t)sprintf(big + n, "\r\n\r\nv\r\n--B--");
  CHECK_RC(parse(&f, &nfiles, "multipart/form-data; boundary=B", big, n),
           VC_EINVALID);
  CHECK(strstr(vc_error_last()->message, "8 KB") != NULL);
  free(big);
}

VC_TESTS(
  VC_TEST(test_multipart__by_hand),
  VC_TEST(test_multipart__round_trip),
  VC_TEST(test_multipart__boundary),
  VC_TEST(test_multipart__malformed),
  VC_TEST(test_multipart__bounds),
)
