/*
 * vc_webhook_listen: a small HTTP listener on libre for hosts without an
 * HTTP server of their own (and for tests and the demo). It lives on the
 * context's network thread (netthread.h), started by the first call, and
 * hands each request to vc_webhook_handle() there.
 *
 * libre objects live on that thread only; vc_ctx_free() closes the
 * socket there before the thread stops. libre 1.1.0's server drops
 * (without an answer) a request whose buffered size passes 512 KB, which
 * bounds webhook bodies here.
 */
#include "core/common.h"
#include "core/ctx.h"
#include "listen.h"
#include "netthread.h"

#include <stdio.h>
#include <string.h>

#include <re.h>

#define MAX_HEADERS 100
#define LISTEN_BACKLOG 1024

struct vc__listener {
  vc_ctx *ctx;
  uint16_t port;
  char addr[128];
  struct http_sock *sock;   /* the network thread's */
};

static char *pl_copy_str(const struct pl *pl)
{
  return vc__strndup(pl->p ? pl->p : "", pl->l);
}

static void on_request(struct http_conn *conn, const struct http_msg *msg,
                       void *arg)
{
  vc__listener *l = arg;
  vc_http_header headers[MAX_HEADERS];
  vc_http_request req = VC_HTTP_REQUEST_INIT;
  vc_http_response res;
  char *method = pl_copy_str(&msg->met), *target = NULL;
  char *names[MAX_HEADERS], *values[MAX_HEADERS];
  size_t n = 0;
  struct le *le;

  for (le = msg->hdrl.head; le != NULL && n < MAX_HEADERS; le = le->next) {
    const struct http_hdr *h = le->data;
    names[n] = pl_copy_str(&h->name);
    values[n] = pl_copy_str(&h->val);
    headers[n].name = names[n];
    headers[n].value = values[n];
    n++;
  }
  target = vc__malloc(msg->path.l + msg->prm.l + 2);
  if (method != NULL && target != NULL) {
    /* The path and its query, as the provider posted them. */
    snprintf(target, msg->path.l + msg->prm.l + 2, "%.*s%s%.*s",
             (int)msg->path.l, msg->path.p,
             msg->prm.l > 0 && msg->prm.p[0] != '?' ? "?" : "",
             (int)msg->prm.l, msg->prm.p);
    req.method = method;
    req.target = target;
    req.headers = headers;
    req.nheaders = n;
    req.body = msg->mb ? mbuf_buf(msg->mb) : NULL;
    req.body_len = msg->mb ? mbuf_get_left(msg->mb) : 0;
    vc_webhook_handle(&res, l->ctx, &req);
    http_creply(conn, (uint16_t)res.status, res.status < 300 ? "OK" : "Error",
                res.content_type ? res.content_type : "text/plain", "%b",
                res.body.ptr ? res.body.ptr : "", res.body.size);
    vc_http_response_dispose(&res);
  } else {
    http_ereply(conn, 500, "Internal Error");
  }
  for (size_t i = 0; i < n; i++) {
    vc__free(names[i]);
    vc__free(values[i]);
  }
  vc__free(method);
  vc__free(target);
}

static int listen_on_loop(void *arg)
{
  vc__listener *l = arg;
  struct sa laddr;
  int err;

  err = sa_decode(&laddr, l->addr, strlen(l->addr));
  if (err == 0)
    err = http_listen(&l->sock, &laddr, on_request, l);
  /* http_listen() listens with a backlog of 5: a burst of providers'
   * connections would lose SYNs and wait a second for the retransmission.
   * Listening again only raises the backlog. */
  if (err == 0)
    err = tcp_sock_listen(http_sock_tcp(l->sock), LISTEN_BACKLOG);
  if (err == 0)
    err = tcp_local_get(http_sock_tcp(l->sock), &laddr);
  if (err == 0)
    l->port = sa_port(&laddr);
  if (err != 0) {
    l->sock = mem_deref(l->sock);
    return vc__error_set(VC_ERRCLASS_NET, VC_ENET, "cannot listen on %s: %s",
                         l->addr, strerror(err));
  }
  return 0;
}

static int close_on_loop(void *arg)
{
  vc__listener *l = arg;

  l->sock = mem_deref(l->sock);
  return 0;
}

int vc__listener_start(vc__listener **out, vc_ctx *ctx, const char *addr)
{
  vc__listener *l = vc__calloc(1, sizeof(*l));
  int rc;

  if (l == NULL)
    return vc_error_set_oom();
  l->ctx = ctx;
  snprintf(l->addr, sizeof(l->addr), "%s", addr);
  if ((rc = vc__net_call(ctx, listen_on_loop, l)) < 0) {
    vc__free(l);
    return rc;
  }
  *out = l;
  return 0;
}

uint16_t vc__listener_port(const vc__listener *l)
{
  return l->port;
}

void vc__listener_stop(vc__listener *l)
{
  if (l == NULL)
    return;
  /* libre's objects go on the thread that made them. */
  (void)vc__net_call(l->ctx, close_on_loop, l);
  vc__free(l);
}
