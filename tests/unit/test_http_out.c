/*
 * Unit tests of the request builder's multipart/form-data bodies
 * (vc_http_out_multipart_add, src/net/http_out.c): the exact bytes
 * RFC 7578 asks for, a complete body after every call, escaping of names
 * and filenames, binary data, and the refusals. The expected bodies are
 * written out by hand here, with the random boundary read back from the
 * Content-Type header.
 */
#include "core/common.h"
#include "core/buf.h"
#include "net/http_out.h"

#include "harness.h"

/* The boundary from the request's Content-Type header. */
static const char *boundary_of(const vc_http_out *req)
{
  static char b[64];
  const char *ct = vc__http_out_header(req, "Content-Type");
  const char *p;

  CHECK(ct != NULL);
  CHECK(strncmp(ct, "multipart/form-data; boundary=", 30) == 0);
  p = ct + 30;
  CHECK(strlen(p) > 0 && strlen(p) < sizeof(b));
  snprintf(b, sizeof(b), "%s", p);
  return b;
}

/* The number of headers named `name`. */
static int count_headers(const vc_http_out *req, const char *name)
{
  size_t n = strlen(name);
  int k = 0;

  for (size_t i = 0; i < req->nheaders; i++)
    k += strncasecmp(req->headers[i], name, n) == 0 &&
         req->headers[i][n] == ':';
  return k;
}

static void check_body(const vc_http_out *req, const char *want,
                       size_t want_len)
{
  if (req->body.size != want_len ||
      memcmp(req->body.ptr, want, want_len) != 0)
    fprintf(stderr, "  body:\n%.*s\n  wanted:\n%.*s\n",
            (int)req->body.size, req->body.ptr, (int)want_len, want);
  CHECK(req->body.size == want_len);
  CHECK(memcmp(req->body.ptr, want, want_len) == 0);
}

static void test_http_out__multipart_fields(void)
{
  vc_http_out req;
  const char *b;
  char want[1024];
  int n;

  vc__http_out_init(&req);
  CHECK_OK(vc_http_out_multipart_add(&req, "from", NULL, NULL,
                                     "ERP <b@erp.example>", 19));
  b = boundary_of(&req);
  /* Random, long enough, and unlike anything a body would hold. */
  CHECK(strlen(b) >= 32);
  n = snprintf(want, sizeof(want),
               "--%s\r\nContent-Disposition: form-data; name=\"from\"\r\n"
               "\r\nERP <b@erp.example>\r\n--%s--\r\n", b, b);
  check_body(&req, want, (size_t)n);
  /* A second field goes before the closing delimiter. */
  CHECK_OK(vc_http_out_multipart_add(&req, "v:vc_message_id", NULL, NULL,
                                     "01HZX", 5));
  n = snprintf(want, sizeof(want),
               "--%s\r\nContent-Disposition: form-data; name=\"from\"\r\n"
               "\r\nERP <b@erp.example>\r\n"
               "--%s\r\nContent-Disposition: form-data; "
               "name=\"v:vc_message_id\"\r\n\r\n01HZX\r\n--%s--\r\n",
               b, b, b);
  check_body(&req, want, (size_t)n);
  CHECK(count_headers(&req, "Content-Type") == 1);
  vc__http_out_reset(&req);
}

static void test_http_out__multipart_files(void)
{
  static const uint8_t bin[] = { 'P', 'K', 0, 1, '\r', '\n', '-', '-', 0xff };
  vc_http_out req;
  const char *b;
  char want[1024];
  size_t n;

  vc__http_out_init(&req);
  CHECK_OK(vc_http_out_multipart_add(&req, "attachment", "a.zip", NULL,
                                     bin, sizeof(bin)));
  CHECK_OK(vc_http_out_multipart_add(&req, "attachment", "notes.txt",
                                     "text/plain; charset=utf-8", "", 0));
  b = boundary_of(&req);
  n = (size_t)snprintf(want, sizeof(want),
                       "--%s\r\nContent-Disposition: form-data; "
                       "name=\"attachment\"; filename=\"a.zip\"\r\n"
                       "Content-Type: application/octet-stream\r\n\r\n", b);
  memcpy(want + n, bin, sizeof(bin));
  n += sizeof(bin);
  n += (size_t)snprintf(want + n, sizeof(want) - n,
                        "\r\n--%s\r\nContent-Disposition: form-data; "
                        "name=\"attachment\"; filename=\"notes.txt\"\r\n"
                        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
                        "\r\n--%s--\r\n", b, b);
  check_body(&req, want, n);
  vc__http_out_reset(&req);
}

static void test_http_out__multipart_escapes_names(void)
{
  vc_http_out req;
  const char *b;
  char want[1024];
  int n;

  vc__http_out_init(&req);
  /* CR, LF and '"' would end the header or the quoted-string. UTF-8 is
   * kept as it is. */
  CHECK_OK(vc_http_out_multipart_add(&req, "a\"b", "in\"voice\r\n.pdf",
                                     "application/pdf", "x", 1));
  CHECK_OK(vc_http_out_multipart_add(&req, "n", "r\xc3\xa9sum\xc3\xa9.txt",
                                     "text/plain", "y", 1));
  b = boundary_of(&req);
  n = snprintf(want, sizeof(want),
               "--%s\r\nContent-Disposition: form-data; name=\"a%%22b\"; "
               "filename=\"in%%22voice%%0D%%0A.pdf\"\r\nContent-Type: "
               "application/pdf\r\n\r\nx\r\n"
               "--%s\r\nContent-Disposition: form-data; name=\"n\"; "
               "filename=\"r\xc3\xa9sum\xc3\xa9.txt\"\r\nContent-Type: "
               "text/plain\r\n\r\ny\r\n--%s--\r\n", b, b, b);
  check_body(&req, want, (size_t)n);
  vc__http_out_reset(&req);
}

static void test_http_out__multipart_replaces_content_type(void)
{
  vc_http_out req;

  vc__http_out_init(&req);
  CHECK_OK(vc_http_out_add_header(&req, "Content-Type", "text/plain"));
  CHECK_OK(vc_http_out_add_header(&req, "Accept", "application/json"));
  CHECK_OK(vc_http_out_set_body(&req, "raw", 3));
  CHECK_OK(vc_http_out_multipart_add(&req, "a", NULL, NULL, "1", 1));
  CHECK(count_headers(&req, "Content-Type") == 1);
  CHECK_STR(vc__http_out_header(&req, "Accept"), "application/json");
  CHECK(strstr(req.body.ptr, "raw") == NULL);
  boundary_of(&req);
  /* Two requests get different boundaries. */
  {
    vc_http_out other;
    char first[64];
    snprintf(first, sizeof(first), "%s", boundary_of(&req));
    vc__http_out_init(&other);
    CHECK_OK(vc_http_out_multipart_add(&other, "a", NULL, NULL, "1", 1));
    CHECK(strcmp(first, boundary_of(&other)) != 0);
    vc__http_out_reset(&other);
  }
  /* A raw body afterwards ends the multipart body. */
  CHECK_OK(vc_http_out_set_body(&req, "{}", 2));
  CHECK(req.body.size == 2 && req.multipart == 0);
  vc__http_out_reset(&req);
}

static void test_http_out__multipart_refusals(void)
{
  vc_http_out req;
  char with_boundary[128];
  size_t before;
  int n;

  vc__http_out_init(&req);
  CHECK_RC(vc_http_out_multipart_add(&req, "", NULL, NULL, "x", 1),
           VC_EINVALID);
  CHECK_RC(vc_http_out_multipart_add(&req, "a", "f", "text/plain\r\nX: y",
                                     "x", 1), VC_EINVALID);
  CHECK_RC(vc_http_out_multipart_add(&req, "a", "f", "", "x", 1),
           VC_EINVALID);
  CHECK_RC(vc_http_out_multipart_add(&req, "a", NULL, NULL, NULL, 1),
           VC_EINVALID);
  CHECK_RC(vc_http_out_multipart_add(NULL, "a", NULL, NULL, "x", 1),
           VC_EINVALID);
  CHECK(req.body.size == 0 && req.nheaders == 0);
  /* Urlencoded, then multipart: refused, the form is kept. */
  CHECK_OK(vc_http_out_form_add(&req, "a", "1"));
  CHECK_RC(vc_http_out_multipart_add(&req, "b", NULL, NULL, "2", 1),
           VC_EINVALID);
  CHECK_STR(req.body.ptr, "a=1");
  vc__http_out_reset(&req);
  /* Multipart, then urlencoded: refused, the body is kept. */
  vc__http_out_init(&req);
  CHECK_OK(vc_http_out_multipart_add(&req, "a", NULL, NULL, "1", 1));
  n = (int)req.body.size;
  CHECK_RC(vc_http_out_form_add(&req, "b", "2"), VC_EINVALID);
  CHECK((int)req.body.size == n);
  /* Data holding the boundary itself would end the body early. */
  n = snprintf(with_boundary, sizeof(with_boundary), "x\r\n--%s--\r\n",
               boundary_of(&req));
  before = req.body.size;
  CHECK_RC(vc_http_out_multipart_add(&req, "b", NULL, NULL, with_boundary,
                                     (size_t)n), VC_EINVALID);
  CHECK(req.body.size == before);
  CHECK(strstr(req.body.ptr, "name=\"b\"") == NULL);
  vc__http_out_reset(&req);
}

VC_TESTS(
  VC_TEST(test_http_out__multipart_fields),
  VC_TEST(test_http_out__multipart_files),
  VC_TEST(test_http_out__multipart_escapes_names),
  VC_TEST(test_http_out__multipart_replaces_content_type),
  VC_TEST(test_http_out__multipart_refusals),
)
