/*
 * The outbound HTTP request an adapter builds (vc_http_out), as the
 * transport reads it.
 */
#ifndef VC_NET_HTTP_OUT_H
#define VC_NET_HTTP_OUT_H

#include "vyomcomm/sys/adapter.h"

#define VC__HTTP_OUT_MAX_HEADERS 32

struct vc_http_out {
  char method[8];
  char *url;
  char *headers[VC__HTTP_OUT_MAX_HEADERS]; /* "Name: value" lines */
  size_t nheaders;
  vc_buf body;
  int form;            /* body is a form being appended to */
  int multipart;       /* body is multipart/form-data being appended to */
  char boundary[40];   /* its boundary */
  size_t tail;         /* bytes of its closing delimiter, last in body */
};

void vc__http_out_init(vc_http_out *req);
/* Release everything; the request may be initialised again. */
void vc__http_out_reset(vc_http_out *req);
/* The value of a header that was added, or NULL (case-insensitive). */
const char *vc__http_out_header(const vc_http_out *req, const char *name);

#endif
