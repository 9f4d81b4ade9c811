/*
 * vc_http_out: the request builder adapters fill. Every string is copied
 * and checked, so an adapter cannot smuggle a header or a bad URL past the
 * transport.
 */
#include "core/common.h"
#include "core/buf.h"
#include "core/codec.h"
#include "core/random.h"
#include "http_out.h"

#include <stdio.h>
#include <strings.h>

#define URL_MAX 8192
#define HEADER_MAX 8192

void vc__http_out_init(vc_http_out *req)
{
  memset(req, 0, sizeof(*req));
}

void vc__http_out_reset(vc_http_out *req)
{
  vc__free(req->url);
  for (size_t i = 0; i < req->nheaders; i++) {
    vc__wipe(req->headers[i], strlen(req->headers[i]));
    vc__free(req->headers[i]);
  }
  vc__buf_wipe(&req->body);
  vc__http_out_init(req);
}

/* No control characters: they would split or end an HTTP line. */
static int clean_line(const char *s)
{
  for (; *s; s++)
    if ((unsigned char)*s < 0x20 || *s == 0x7f)
      return 0;
  return 1;
}

int vc_http_out_set_target(vc_http_out *req, const char *method,
                           const char *url)
{
  char *copy;

  VC_ASSERT_ARG(req);
  VC_ASSERT_ARG(method);
  VC_ASSERT_ARG(url);
  if (strlen(method) >= sizeof(req->method) || !clean_line(method) ||
      strchr(method, ' ') != NULL)
    return vc__error_set(VC_ERRCLASS_ADAPTER, VC_EINVALID,
                         "invalid HTTP method");
  if (strlen(url) > URL_MAX || !clean_line(url) ||
      (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0))
    return vc__error_set(VC_ERRCLASS_ADAPTER, VC_EINVALID,
                         "request URL must be http(s), one line, at most "
                         "%d bytes", URL_MAX);
  if ((copy = vc__strdup(url)) == NULL)
    return vc_error_set_oom();
  vc__free(req->url);
  req->url = copy;
  snprintf(req->method, sizeof(req->method), "%s", method);
  return 0;
}

int vc_http_out_add_header(vc_http_out *req, const char *name,
                           const char *value)
{
  vc_buf line = VC_BUF_INIT;
  int rc;

  VC_ASSERT_ARG(req);
  VC_ASSERT_ARG(name);
  VC_ASSERT_ARG(value);
  if (name[0] == '\0' || strpbrk(name, ": \t") != NULL ||
      !clean_line(name) || !clean_line(value) ||
      strlen(name) + strlen(value) > HEADER_MAX)
    return vc__error_set(VC_ERRCLASS_ADAPTER, VC_EINVALID,
                         "invalid header '%.64s'", name);
  if (strcasecmp(name, "Content-Length") == 0)
    return vc__error_set(VC_ERRCLASS_ADAPTER, VC_EINVALID,
                         "Content-Length is set by the transport");
  if (req->nheaders == VC__HTTP_OUT_MAX_HEADERS)
    return vc__error_set(VC_ERRCLASS_ADAPTER, VC_ETOOBIG,
                         "more than %d request headers",
                         VC__HTTP_OUT_MAX_HEADERS);
  /* "Name: value", sized once (a request gets a few per message). */
  if ((rc = vc__buf_grow(&line, strlen(name) + 2 + strlen(value))) < 0 ||
      (rc = vc__buf_puts(&line, name)) < 0 ||
      (rc = vc__buf_puts(&line, ": ")) < 0 ||
      (rc = vc__buf_puts(&line, value)) < 0) {
    vc_buf_dispose(&line);
    return rc;
  }
  req->headers[req->nheaders++] = line.ptr;
  return 0;
}

int vc_http_out_basic_auth(vc_http_out *req, const char *user,
                           const char *password)
{
  vc_buf plain = VC_BUF_INIT, value = VC_BUF_INIT;
  int rc;

  VC_ASSERT_ARG(req);
  VC_ASSERT_ARG(user);
  VC_ASSERT_ARG(password);
  if ((rc = vc__buf_printf(&plain, "%s:%s", user, password)) == 0 &&
      (rc = vc__buf_puts(&value, "Basic ")) == 0 &&
      (rc = vc__base64_encode(&value, plain.ptr, plain.size)) == 0)
    rc = vc_http_out_add_header(req, "Authorization", value.ptr);
  vc__buf_wipe(&plain);
  vc__buf_wipe(&value);
  return rc;
}

int vc_http_out_set_body(vc_http_out *req, const void *data, size_t len)
{
  VC_ASSERT_ARG(req);
  VC_ASSERT_ARG(data != NULL || len == 0);
  vc__buf_wipe(&req->body);
  req->form = 0;
  req->multipart = 0;
  req->tail = 0;
  return vc__buf_put(&req->body, data ? data : "", len);
}

int vc_http_out_form_add(vc_http_out *req, const char *name,
                         const char *value)
{
  int rc;

  VC_ASSERT_ARG(req);
  VC_ASSERT_ARG(name);
  VC_ASSERT_ARG(value);
  if (req->multipart)
    return vc__error_set(VC_ERRCLASS_ADAPTER, VC_EINVALID,
                         "the body is multipart/form-data: add fields "
                         "with vc_http_out_multipart_add");
  if (!req->form) {
    vc__buf_wipe(&req->body);
    if ((rc = vc_http_out_add_header(
           req, "Content-Type", "application/x-www-form-urlencoded")) < 0)
      return rc;
    req->form = 1;
  } else if ((rc = vc__buf_puts(&req->body, "&")) < 0) {
    return rc;
  }
  if ((rc = vc__form_encode(&req->body, name, strlen(name))) < 0 ||
      (rc = vc__buf_puts(&req->body, "=")) < 0)
    return rc;
  return vc__form_encode(&req->body, value, strlen(value));
}

/* Drop every header named `name`. */
static void remove_header(vc_http_out *req, const char *name)
{
  size_t n = strlen(name), j = 0;

  for (size_t i = 0; i < req->nheaders; i++) {
    if (strncasecmp(req->headers[i], name, n) == 0 &&
        req->headers[i][n] == ':') {
      vc__wipe(req->headers[i], strlen(req->headers[i]));
      vc__free(req->headers[i]);
    } else {
      req->headers[j++] = req->headers[i];
    }
  }
  req->nheaders = j;
}

/* A name or filename inside a quoted-string, as browsers write it
 * (WHATWG's multipart/form-data encoding): LF, CR and '"' become %0A,
 * %0D and %22; everything else is kept. */
static int put_quoted(vc_buf *b, const char *s)
{
  int rc = vc__buf_puts(b, "\"");

  for (; rc == 0 && *s; s++)
    rc = *s == '\n' ? vc__buf_puts(b, "%0A")
       : *s == '\r' ? vc__buf_puts(b, "%0D")
       : *s == '"' ? vc__buf_puts(b, "%22")
       : vc__buf_put(b, s, 1);
  return rc == 0 ? vc__buf_puts(b, "\"") : rc;
}

/* The first multipart field: a fresh body and Content-Type. */
static int multipart_start(vc_http_out *req)
{
  uint8_t rnd[16];
  char hex[33], ct[96];
  int rc;

  if ((rc = vc__random_os(rnd, sizeof(rnd))) < 0)
    return rc;
  vc__hex_encode(hex, rnd, sizeof(rnd));
  /* Dashes and a random part: no body the adapter did not choose can
   * predict it. */
  snprintf(req->boundary, sizeof(req->boundary), "----vc%s", hex);
  snprintf(ct, sizeof(ct), "multipart/form-data; boundary=%s",
           req->boundary);
  remove_header(req, "Content-Type");
  if ((rc = vc_http_out_add_header(req, "Content-Type", ct)) < 0)
    return rc;
  vc__buf_wipe(&req->body);
  req->form = 0;
  req->multipart = 1;
  req->tail = 0;
  return 0;
}

int vc_http_out_multipart_add(vc_http_out *req, const char *name,
                              const char *filename,
                              const char *content_type, const void *data,
                              size_t len)
{
  vc_buf part = VC_BUF_INIT;
  char delim[48];
  size_t dl, closing;
  int rc;

  VC_ASSERT_ARG(req);
  VC_ASSERT_ARG(name);
  VC_ASSERT_ARG(data != NULL || len == 0);
  if (name[0] == '\0')
    return vc__error_set(VC_ERRCLASS_ADAPTER, VC_EINVALID,
                         "a multipart field needs a name");
  if (content_type != NULL &&
      (content_type[0] == '\0' || !clean_line(content_type) ||
       strlen(content_type) > 255))
    return vc__error_set(VC_ERRCLASS_ADAPTER, VC_EINVALID,
                         "invalid content type for field '%.64s'", name);
  if (req->form)
    return vc__error_set(VC_ERRCLASS_ADAPTER, VC_EINVALID,
                         "the body is a form: a request cannot mix "
                         "urlencoded and multipart fields");
  if (!req->multipart && (rc = multipart_start(req)) < 0)
    return rc;
  dl = (size_t)snprintf(delim, sizeof(delim), "--%s", req->boundary);
  /* The boundary is random, so this never happens by chance; it is
   * still checked, since the part would end the body early. */
  if (len >= dl && memmem(data, len, delim, dl) != NULL)
    return vc__error_set(VC_ERRCLASS_ADAPTER, VC_EINVALID,
                         "field '%.64s' contains the multipart boundary",
                         name);
  if ((rc = vc__buf_printf(&part, "%s\r\nContent-Disposition: form-data; "
                           "name=", delim)) < 0 ||
      (rc = put_quoted(&part, name)) < 0 ||
      (filename != NULL &&
       ((rc = vc__buf_puts(&part, "; filename=")) < 0 ||
        (rc = put_quoted(&part, filename)) < 0)) ||
      (rc = vc__buf_puts(&part, "\r\n")) < 0)
    goto out;
  if (content_type != NULL || filename != NULL)
    rc = vc__buf_printf(&part, "Content-Type: %s\r\n",
                        content_type ? content_type
                                     : "application/octet-stream");
  if (rc < 0 || (rc = vc__buf_puts(&part, "\r\n")) < 0)
    goto out;
  /* The body stays complete after every call: this part replaces the
   * closing delimiter, which follows it again. Room is made first so
   * that a failure leaves the body as it was. */
  closing = dl + 4;                      /* "--b" "--" CR LF */
  if (len > SIZE_MAX / 2 ||
      (rc = vc__buf_grow(&req->body, part.size + len + 2 + closing)) < 0)
    goto out;
  req->body.size -= req->tail;
  vc__buf_put(&req->body, part.ptr, part.size);
  vc__buf_put(&req->body, data ? data : "", len);
  vc__buf_put(&req->body, "\r\n", 2);
  vc__buf_put(&req->body, delim, dl);
  vc__buf_put(&req->body, "--\r\n", 4);
  req->tail = closing;
out:
  vc_buf_dispose(&part);
  return rc;
}

const char *vc__http_out_header(const vc_http_out *req, const char *name)
{
  size_t n = strlen(name);

  for (size_t i = 0; i < req->nheaders; i++)
    if (strncasecmp(req->headers[i], name, n) == 0 &&
        req->headers[i][n] == ':')
      return req->headers[i] + n + 2;
  return NULL;
}
