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
  /* Batches with transfers not started yet, oldest first; `queued` such
   * transfers in all, `active` transfers in the multi handle. */
  vc__transport_batch *head, *tail;
  vc__transport_batch *live;   /* every batch not ended yet */
  size_t queued, active;
  size_t held;                 /* started and not released */
  uint64_t ended;              /* transfers ended so far */
  vc__transport_batch own;     /* vc__transport_run's and the loop's */
  /* Easy handles of finished transfers, kept for the next ones. */
  CURL *spare[VC__TRANSPORT_SPARE];
  size_t nspare;
  /* Loop mode: the host's socket and timer hooks. */
  vc__transport_socket_fn on_socket;
  vc__transport_timer_fn on_timer;
  void *loop_payload;
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
  while (t->nspare > 0)
    curl_easy_cleanup(t->spare[--t->nspare]);
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

/* A new easy handle with the options every request of this transport
 * shares; a recycled handle keeps them. */
static CURL *new_easy(vc__transport *t)
{
  CURL *e = curl_easy_init();

  if (e == NULL)
    return NULL;
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, t->opts.timeout_ms);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, t->opts.connect_timeout_ms);
  curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, open_socket);
  curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, t);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(e, CURLOPT_USERAGENT, "libvyomcomm/" VC_VERSION_STRING);
  return e;
}

/* The options of this request: every one a previous request on the same
 * handle may have set differently. */
static int setup(vc__transport *t, vc__transfer *x)
{
  CURL *e = x->easy;

  if (x->req.url == NULL)
    return vc__error_set(VC_ERRCLASS_ADAPTER, VC_EINVALID,
                         "the adapter built no request URL");
  if (e == NULL && t->nspare > 0)
    e = x->easy = t->spare[--t->nspare];
  if (e == NULL && (e = x->easy = new_easy(t)) == NULL)
    return vc_error_set_oom();
  if (x->slist != NULL) {
    curl_slist_free_all(x->slist);
    x->slist = NULL;
  }
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
  if (strcmp(x->req.method, "GET") == 0) {
    curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, NULL);
  } else {
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, x->req.body.ptr ? x->req.body.ptr
                                                           : "");
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
                     (curl_off_t)x->req.body.size);
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST,
                     strcmp(x->req.method, "POST") == 0 ? NULL
                                                        : x->req.method);
  }
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->slist);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
  curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)x);
  x->max_response = t->opts.max_response;
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
 * next queued one starts as one finishes. Transfers queued inside libcurl
 * waiting for a connection can leave curl_multi_poll sleeping its whole
 * timeout, and each costs libcurl work on every perform.
 */
/* One more transfer of `b` ended. */
static void ended(vc__transport *t, vc__transport_batch *b)
{
  t->ended++;
  if (b == NULL || ++b->ended < b->n)
    return;
  for (vc__transport_batch **pp = &t->live; *pp != NULL;
       pp = &(*pp)->next_live)
    if (*pp == b) {
      *pp = b->next_live;
      break;
    }
  b->next_live = NULL;
}

static void fill(vc__transport *t)
{
  while (t->head != NULL && t->active < (size_t)t->opts.max_connections &&
         (t->opts.window == 0 || t->held < t->opts.window)) {
    vc__transport_batch *b = t->head;
    vc__transfer *x = b->xfers[b->started++];
    b->held++;
    t->held++;
    if (b->started == b->n) {
      t->head = b->next;
      if (t->head == NULL)
        t->tail = NULL;
      b->next = NULL;
    }
    t->queued--;
    x->batch = b;
    if (start_one(t, x))
      t->active++;
    else
      ended(t, b);
  }
}

/* Finish what libcurl completed and start as many more. Collect after
 * every perform or socket action, or a wait would sleep with nothing
 * left to wait for. */
static void collect(vc__transport *t)
{
  CURLMsg *msg;
  int left;

  while ((msg = curl_multi_info_read(t->multi, &left)) != NULL) {
    vc__transfer *x = NULL;
    if (msg->msg != CURLMSG_DONE)
      continue;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
    curl_multi_remove_handle(t->multi, msg->easy_handle);
    if (x != NULL) {
      finish(x, msg->data.result);
      t->active--;
      ended(t, x->batch);
    }
    fill(t);
  }
}

void vc__transport_submit(vc__transport *t, vc__transport_batch *b,
                          vc__transfer **xfers, size_t n)
{
  b->xfers = xfers;
  b->n = n;
  b->started = b->ended = b->held = 0;
  b->next = b->next_live = NULL;
  if (n == 0)
    return;
  b->next_live = t->live;
  t->live = b;
  if (t->tail != NULL)
    t->tail->next = b;
  else
    t->head = b;
  t->tail = b;
  t->queued += n;
  fill(t);
}

void vc__transport_release(vc__transport *t, vc__transport_batch *b)
{
  t->held -= b->held;
  b->held = 0;
  fill(t);
}

int vc__transport_batch_done(const vc__transport_batch *b)
{
  return b->ended == b->n;
}

size_t vc__transport_backlog(const vc__transport *t)
{
  return t->queued;
}

size_t vc__transport_width(const vc__transport *t)
{
  return (size_t)t->opts.max_connections;
}

/* The transport failed: every unfinished transfer ends with an error,
 * out of the multi handle and out of the queue. */
static void abandon(vc__transport *t)
{
  while (t->live != NULL) {
    vc__transport_batch *b = t->live;
    for (size_t i = 0; i < b->n; i++) {
      vc__transfer *x = b->xfers[i];
      if (x->done)
        continue;
      if (i < b->started) {
        curl_multi_remove_handle(t->multi, x->easy);
        t->active--;
      } else {
        t->queued--;
      }
      x->done = 1;
      x->error = VC_ENET;
      snprintf(x->error_text, sizeof(x->error_text), "transport failed");
      ended(t, b);
    }
  }
  t->head = t->tail = NULL;
}

/* One curl_multi_perform and what it finished. */
static int perform(vc__transport *t, int *running)
{
  if (curl_multi_perform(t->multi, running) != CURLM_OK)
    return vc__error_set(VC_ERRCLASS_NET, VC_ENET, "curl_multi_perform");
  collect(t);
  return 0;
}

int vc__transport_wait(vc__transport *t, int timeout_ms)
{
  uint64_t before = t->ended;
  int running = 0, rc;

  if (t->on_socket != NULL)
    return vc__error_set(VC_ERRCLASS_INTERNAL, VC_ESTATE,
                         "the transport runs in the host's loop");
  if (t->active == 0)
    return 0;
  if ((rc = perform(t, &running)) < 0)
    goto fail;
  if (t->ended != before || timeout_ms <= 0 || t->active == 0 ||
      running == 0)
    return 0;
  if (curl_multi_poll(t->multi, NULL, 0, timeout_ms, NULL) != CURLM_OK) {
    rc = vc__error_set(VC_ERRCLASS_NET, VC_ENET, "curl_multi_poll");
    goto fail;
  }
  if ((rc = perform(t, &running)) == 0)
    return 0;
fail:
  abandon(t);
  return rc;
}

int vc__transport_progress(vc__transport *t)
{
  if (t == NULL || t->on_socket != NULL || t->active == 0)
    return 0;
  return vc__transport_wait(t, 0);
}

int vc__transport_run(vc__transport *t, vc__transfer **xfers, size_t n)
{
  vc__transport_batch *b = &t->own;
  int rc = 0;

  if (t->on_socket != NULL)
    return vc__error_set(VC_ERRCLASS_INTERNAL, VC_ESTATE,
                         "the transport runs in the host's loop");
  vc__transport_submit(t, b, xfers, n);
  while (rc == 0 && !vc__transport_batch_done(b))
    rc = vc__transport_wait(t, 1000);
  vc__transport_release(t, b);
  return rc;
}

void vc__transport_recycle(vc__transport *t, vc__transfer *x)
{
  /* Only a finished transfer's handle is out of the multi handle. Its
   * options stay: the next request on it sets its own. */
  if (x->easy == NULL || !x->done || t->nspare >= VC__TRANSPORT_SPARE)
    return;
  t->spare[t->nspare++] = x->easy;
  x->easy = NULL;
}

/* ---- the host's loop ------------------------------------------------- */

static int on_curl_socket(CURL *easy, curl_socket_t fd, int what,
                          void *payload, void *socketp)
{
  vc__transport *t = payload;
  int events = what == CURL_POLL_IN ? VC__POLL_IN
               : what == CURL_POLL_OUT ? VC__POLL_OUT
               : what == CURL_POLL_INOUT ? VC__POLL_IN | VC__POLL_OUT
               : VC__POLL_REMOVE;

  (void)easy;
  (void)socketp;
  return t->on_socket(t->loop_payload, (int)fd, events) < 0 ? -1 : 0;
}

static int on_curl_timer(CURLM *multi, long ms, void *payload)
{
  vc__transport *t = payload;

  (void)multi;
  return t->on_timer(t->loop_payload, ms) < 0 ? -1 : 0;
}

int vc__transport_use_loop(vc__transport *t, vc__transport_socket_fn on_socket,
                           vc__transport_timer_fn on_timer, void *payload)
{
  t->on_socket = on_socket;
  t->on_timer = on_timer;
  t->loop_payload = payload;
  curl_multi_setopt(t->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
  curl_multi_setopt(t->multi, CURLMOPT_SOCKETDATA, t);
  curl_multi_setopt(t->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
  curl_multi_setopt(t->multi, CURLMOPT_TIMERDATA, t);
  return 0;
}

int vc__transport_action(vc__transport *t, int fd, int events)
{
  int running = 0, mask = 0;

  if (t->active == 0 && t->queued == 0)
    return 0;
  if (events & VC__POLL_IN)
    mask |= CURL_CSELECT_IN;
  if (events & VC__POLL_OUT)
    mask |= CURL_CSELECT_OUT;
  if (curl_multi_socket_action(t->multi,
                               fd < 0 ? CURL_SOCKET_TIMEOUT : fd, mask,
                               &running) != CURLM_OK) {
    abandon(t);
    return vc__error_set(VC_ERRCLASS_NET, VC_ENET,
                         "curl_multi_socket_action");
  }
  collect(t);
  return t->active > 0 || t->queued > 0;
}
