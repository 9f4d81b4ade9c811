/*
 * vc_http_out: the request builder adapters fill. Every string is copied
 * and checked, so an adapter cannot smuggle a header or a bad URL past the
 * transport.
 */
#include "core/common.h"
#include "core/buf.h"
#include "core/codec.h"
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
  if ((rc = vc__buf_printf(&line, "%s: %s", name, value)) < 0)
    return rc;
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
  return vc__buf_put(&req->body, data ? data : "", len);
}

int vc_http_out_form_add(vc_http_out *req, const char *name,
                         const char *value)
{
  int rc;

  VC_ASSERT_ARG(req);
  VC_ASSERT_ARG(name);
  VC_ASSERT_ARG(value);
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

const char *vc__http_out_header(const vc_http_out *req, const char *name)
{
  size_t n = strlen(name);

  for (size_t i = 0; i < req->nheaders; i++)
    if (strncasecmp(req->headers[i], name, n) == 0 &&
        req->headers[i][n] == ':')
      return req->headers[i] + n + 2;
  return NULL;
}
