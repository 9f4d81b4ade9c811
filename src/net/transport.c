/*
 * HTTP transport over libcurl multi. See transport.h.
 *
 * Safety: only http and https, no redirects, bounded response bodies,
 * and (unless the host allows it, as the simulator needs) no connection
 * to loopback, link-local or private addresses: a channel's base URL is
 * tenant data and must not reach the host's internal network.
 */
#include "core/common.h"
#include "core/buf.h"
#include "transport.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <strings.h>
#include <sys/socket.h>

struct vc__transport {
  CURLM *multi;
  vc__transport_opts opts;
};

void vc__transfer_init(vc__transfer *x)
{
  memset(x, 0, sizeof(*x));
  vc__http_out_init(&x->req);
  vc_http_response_init(&x->res, VC_HTTP_RESPONSE_VERSION);
}

void vc__transfer_reset(vc__transfer *x)
{
  vc__http_out_reset(&x->req);
  vc_buf_dispose(&x->res.body);
  vc_buf_dispose(&x->header_text);
  if (x->slist != NULL)
    curl_slist_free_all(x->slist);
  if (x->easy != NULL)
    curl_easy_cleanup(x->easy);
  vc__transfer_init(x);
}

int vc__transport_new(vc__transport **out, const vc__transport_opts *o)
{
  vc__transport *t = vc__calloc(1, sizeof(*t));

  if (t == NULL)
    return vc_error_set_oom();
  if (o != NULL)
    t->opts = *o;
  if (t->opts.max_connections <= 0)
    t->opts.max_connections = 32;
  if (t->opts.timeout_ms <= 0)
    t->opts.timeout_ms = 30000;
  if (t->opts.connect_timeout_ms <= 0)
    t->opts.connect_timeout_ms = 10000;
  if (t->opts.max_response == 0)
    t->opts.max_response = 1024 * 1024;
  if ((t->multi = curl_multi_init()) == NULL) {
    vc__free(t);
    return vc__error_set(VC_ERRCLASS_NET, VC_ENOMEM, "curl_multi_init");
  }
  curl_multi_setopt(t->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
                    t->opts.max_connections);
  curl_multi_setopt(t->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
                    t->opts.max_connections);
  curl_multi_setopt(t->multi, CURLMOPT_MAXCONNECTS, t->opts.max_connections);
  *out = t;
  return 0;
}

void vc__transport_free(vc__transport *t)
{
  if (t == NULL)
    return;
  curl_multi_cleanup(t->multi);
  vc__free(t);
}

/* 1 for addresses a tenant's URL must not reach by default. */
static int private_address(const struct sockaddr *sa)
{
  if (sa->sa_family == AF_INET) {
    uint32_t a = ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr);
    return (a >> 24) == 127 || (a >> 24) == 10 || (a >> 24) == 0 ||
           (a >> 20) == (172u << 4 | 1) || (a >> 16) == (192u << 8 | 168) ||
           (a >> 16) == (169u << 8 | 254) || (a >> 22) == (100u << 2 | 1);
  }
  if (sa->sa_family == AF_INET6) {
    const uint8_t *b = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
    static const uint8_t loop[16] = { [15] = 1 };
    static const uint8_t v4map[12] = { [10] = 0xff, [11] = 0xff };
    if (memcmp(b, loop, 16) == 0 || (b[0] & 0xfe) == 0xfc ||
        (b[0] == 0xfe && (b[1] & 0xc0) == 0x80))
      return 1;
    if (memcmp(b, v4map, 12) == 0) {
      struct sockaddr_in v4;
      memset(&v4, 0, sizeof(v4));
      v4.sin_family = AF_INET;
      memcpy(&v4.sin_addr, b + 12, 4);
      return private_address((const struct sockaddr *)&v4);
    }
    return 0;
  }
  return 1; /* unix sockets and the rest: never */
}

static curl_socket_t open_socket(void *payload, curlsocktype purpose,
                                 struct curl_sockaddr *addr)
{
  vc__transport *t = payload;

  VC_UNUSED(purpose);
  if (!t->opts.allow_private && private_address(&addr->addr))
    return CURL_SOCKET_BAD;
  return socket(addr->family, addr->socktype, addr->protocol);
}

static size_t on_body(char *data, size_t size, size_t n, void *payload)
{
  vc__transfer *x = payload;
  size_t len = size * n;

  if (x->res.body.size + len > x->max_response)
    return 0; /* makes curl fail with CURLE_WRITE_ERROR */
  return vc__buf_put(&x->res.body, data, len) == 0 ? len : 0;
}

/* Keep "name: value" header lines of the final response. */
static size_t on_header(char *data, size_t size, size_t n, void *payload)
{
  vc__transfer *x = payload;
  size_t len = size * n, name_len;
  const char *colon = memchr(data, ':', len);

  if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {
    /* A new response (after 100 Continue): forget earlier headers. */
    vc_buf_dispose(&x->header_text);
    x->res.nheaders = 0;
    return len;
  }
  if (colon == NULL || x->res.nheaders >= VC__TRANSFER_MAX_HEADERS ||
      x->header_text.size > 64 * 1024)
    return len;
  name_len = (size_t)(colon - data);
  {
    const char *v = colon + 1, *end = data + len;
    while (v < end && (*v == ' ' || *v == '\t'))
      v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
      end--;
    if (vc__buf_put(&x->header_text, data, name_len) < 0 ||
        vc__buf_put(&x->header_text, "", 1) < 0 ||
        vc__buf_put(&x->header_text, v, (size_t)(end - v)) < 0 ||
        vc__buf_put(&x->header_text, "", 1) < 0)
      return 0;
  }
  x->res.nheaders++;
  return len;
}

/* Point the header array into header_text once the transfer is done. */
static void index_headers(vc__transfer *x)
{
  const char *p = x->header_text.ptr;

  for (size_t i = 0; i < x->res.nheaders && p != NULL; i++) {
    x->headers[i].name = p;
    p += strlen(p) + 1;
    x->headers[i].value = p;
    p += strlen(p) + 1;
  }
  x->res.headers = x->headers;
}

const char *vc__transfer_header(const vc__transfer *x, const char *name)
{
  for (size_t i = 0; i < x->res.nheaders; i++)
    if (strcasecmp(x->headers[i].name, name) == 0)
      return x->headers[i].value;
  return NULL;
}

static int setup(vc__transport *t, vc__transfer *x)
{
  CURL *e = x->easy;

  if (x->req.url == NULL)
    return vc__error_set(VC_ERRCLASS_ADAPTER, VC_EINVALID,
                         "the adapter built no request URL");
  if (e == NULL && (e = x->easy = curl_easy_init()) == NULL)
    return vc_error_set_oom();
  for (size_t i = 0; i < x->req.nheaders; i++) {
    struct curl_slist *s = curl_slist_append(x->slist, x->req.headers[i]);
    if (s == NULL)
      return vc_error_set_oom();
    x->slist = s;
  }
  /* curl adds "Expect: 100-continue" to larger bodies: a wasted trip. */
  if ((x->slist = curl_slist_append(x->slist, "Expect:")) == NULL)
    return vc_error_set_oom();
  curl_easy_setopt(e, CURLOPT_URL, x->req.url);
  curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, x->req.method);
  if (strcmp(x->req.method, "GET") != 0) {
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, x->req.body.ptr ? x->req.body.ptr
                                                           : "");
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
                     (curl_off_t)x->req.body.size);
  }
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->slist);
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, t->opts.timeout_ms);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, t->opts.connect_timeout_ms);
  curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, open_socket);
  curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, t);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
  curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)x);
  x->max_response = t->opts.max_response;
  curl_easy_setopt(e, CURLOPT_USERAGENT, "libvyomcomm/" VC_VERSION_STRING);
  return 0;
}

static void finish(vc__transfer *x, CURLcode code)
{
  long status = 0;

  curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
  x->done = 1;
  x->res.status = (int)status;
  index_headers(x);
  if (code == CURLE_OK)
    return;
  /* on_body refuses only a body over max_response (or out of memory). */
  x->error = code == CURLE_OPERATION_TIMEDOUT ? VC_ETIMEOUT
             : code == CURLE_WRITE_ERROR ? VC_ETOOBIG : VC_ENET;
  snprintf(x->error_text, sizeof(x->error_text), "%s",
           code == CURLE_WRITE_ERROR ? "response body too large"
                                     : curl_easy_strerror(code));
}

/* Hand transfer x to the multi handle; on failure it is done with an
 * error. 1 when it was added. */
static int start_one(vc__transport *t, vc__transfer *x)
{
  int rc = setup(t, x);

  if (rc < 0) {
    x->done = 1;
    x->error = rc;
    snprintf(x->error_text, sizeof(x->error_text), "%s",
             vc_error_last()->message);
    return 0;
  }
  if (curl_multi_add_handle(t->multi, x->easy) != CURLM_OK) {
    x->done = 1;
    x->error = VC_ENET;
    snprintf(x->error_text, sizeof(x->error_text), "cannot queue request");
    return 0;
  }
  return 1;
}

/*
 * At most max_connections transfers are in the multi handle at once; the
 * next starts as one finishes. Transfers queued inside libcurl waiting
 * for a connection can leave curl_multi_poll sleeping its whole timeout,
 * and each costs libcurl work on every perform.
 */
int vc__transport_run(vc__transport *t, vc__transfer **xfers, size_t n)
{
  size_t next = 0, active = 0;
  int running = 0;

  while (next < n && active < (size_t)t->opts.max_connections)
    active += (size_t)start_one(t, xfers[next++]);
  while (active > 0) {
    CURLMsg *msg;
    int left;
    if (curl_multi_perform(t->multi, &running) != CURLM_OK)
      return vc__error_set(VC_ERRCLASS_NET, VC_ENET, "curl_multi_perform");
    /* Collect after every perform, or poll would sleep with nothing
     * left to wait for. */
    while ((msg = curl_multi_info_read(t->multi, &left)) != NULL) {
      vc__transfer *x = NULL;
      if (msg->msg != CURLMSG_DONE)
        continue;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
      curl_multi_remove_handle(t->multi, msg->easy_handle);
      if (x != NULL) {
        finish(x, msg->data.result);
        active--;
      }
      while (next < n && active < (size_t)t->opts.max_connections)
        active += (size_t)start_one(t, xfers[next++]);
    }
    if (active > 0 && running > 0 &&
        curl_multi_poll(t->multi, NULL, 0, 1000, NULL) != CURLM_OK)
      return vc__error_set(VC_ERRCLASS_NET, VC_ENET, "curl_multi_poll");
  }
  return 0;
}
