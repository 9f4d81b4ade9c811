/*
 * The public HTTP value types.
 */
#include "core/common.h"

#include <strings.h>

int vc_http_request_init(vc_http_request *r, unsigned int version)
{
  VC_INIT_STRUCT(r, version, VC_HTTP_REQUEST_VERSION, vc_http_request,
                 VC_HTTP_REQUEST_INIT);
}

int vc_http_response_init(vc_http_response *r, unsigned int version)
{
  VC_INIT_STRUCT(r, version, VC_HTTP_RESPONSE_VERSION, vc_http_response,
                 VC_HTTP_RESPONSE_INIT);
}

void vc_http_response_dispose(vc_http_response *r)
{
  if (r == NULL)
    return;
  vc_buf_dispose(&r->body);
  r->status = 0;
  r->content_type = NULL;
  r->headers = NULL;
  r->nheaders = 0;
}

const char *vc_http_request_header(const vc_http_request *r,
                                   const char *name)
{
  if (r == NULL || name == NULL || r->headers == NULL)
    return NULL;
  for (size_t i = 0; i < r->nheaders; i++)
    if (r->headers[i].name != NULL &&
        strcasecmp(r->headers[i].name, name) == 0)
      return r->headers[i].value;
  return NULL;
}

const char *vc_http_response_header(const vc_http_response *r,
                                    const char *name)
{
  if (r == NULL || name == NULL || r->headers == NULL)
    return NULL;
  for (size_t i = 0; i < r->nheaders; i++)
    if (r->headers[i].name != NULL &&
        strcasecmp(r->headers[i].name, name) == 0)
      return r->headers[i].value;
  return NULL;
}
