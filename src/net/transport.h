/*
 * The HTTP transport: one libcurl multi handle per engine, running many
 * requests at once over reused connections. Adapters never see it.
 */
#ifndef VC_NET_TRANSPORT_H
#define VC_NET_TRANSPORT_H

#include "http_out.h"

#define VC__TRANSFER_MAX_HEADERS 64

/* One request and, once run, its response or transport error. */
typedef struct vc__transfer {
  vc_http_out req;            /* filled by an adapter's build_send */
  vc_http_response res;       /* status, headers and body once done */
  int error;                  /* 0, or VC_ETIMEOUT / VC_ENET / VC_EAUTH */
  char error_text[256];       /* the transport's reason when error != 0 */
  void *user;                 /* the caller's */

  /* The transport's own. */
  void *easy;
  struct curl_slist *slist;
  vc_http_header headers[VC__TRANSFER_MAX_HEADERS];
  vc_buf header_text;         /* "name\0value\0" pairs */
  size_t max_response;
  int done;
  struct vc__transport_batch *batch;
} vc__transfer;

/* Transfers handed to the transport together, done once every one of
 * them ended. The caller owns it (and the transfers) until then. */
typedef struct vc__transport_batch {
  vc__transfer **xfers;
  size_t n;
  size_t started, ended, held; /* the transport's */
  struct vc__transport_batch *next, *next_live;
} vc__transport_batch;

typedef struct vc__transport_opts {
  long max_connections;       /* concurrent connections (default 32) */
  long timeout_ms;            /* whole request (default 30000) */
  long connect_timeout_ms;    /* (default 10000) */
  size_t max_response;        /* bytes of response body (default 1 MiB) */
  int allow_private;          /* 1: loopback and private ranges allowed */
  /* At most this many transfers started and not released yet
   * (vc__transport_release), 0: no limit. */
  size_t window;
} vc__transport_opts;

typedef struct vc__transport vc__transport;

int vc__transport_new(vc__transport **out, const vc__transport_opts *o);
void vc__transport_free(vc__transport *t);

void vc__transfer_init(vc__transfer *x);
void vc__transfer_reset(vc__transfer *x);

/* Run every transfer to completion (each ends with a response or an
 * error). Returns 0, or < 0 when the transport itself failed. */
int vc__transport_run(vc__transport *t, vc__transfer **xfers, size_t n);

/*
 * Several batches at once (an engine thread keeps the next batch's
 * transfers queued while the current one's run, so that no connection
 * waits for a batch's store work or its slowest transfer): submit queues
 * a batch behind the others, and its transfers start in order as
 * connections free up; wait drives every running transfer for up to
 * `timeout_ms` (0: only what is ready now), returning once at least one
 * ended or the time is up (< 0 when the transport failed: every
 * unfinished transfer then ended with an error). batch_done: 1 when every
 * transfer of `b` ended.
 */
void vc__transport_submit(vc__transport *t, vc__transport_batch *b,
                          vc__transfer **xfers, size_t n);
int vc__transport_wait(vc__transport *t, int timeout_ms);
/* What is ready now, from inside other work (an engine preparing its
 * next batch), so that the running transfers' connections do not stand
 * idle through it: wait(0), and nothing when the host's loop drives the
 * transport. < 0 as wait. */
int vc__transport_progress(vc__transport *t);
int vc__transport_batch_done(const vc__transport_batch *b);
/* The caller is done with the batch (its outcomes are recorded): its
 * transfers leave the window, and queued ones may start. A no-op for a
 * batch never submitted or released already. */
void vc__transport_release(vc__transport *t, vc__transport_batch *b);
/* Transfers queued and not started yet, of every batch. */
size_t vc__transport_backlog(const vc__transport *t);
/* The most transfers running at once (its connections). */
size_t vc__transport_width(const vc__transport *t);

/*
 * The host's loop (vc_ctx_set_loop): libcurl asks, through these, which
 * sockets to watch and when to call back, and the host reports readiness
 * with vc__transport_action() instead of the transport waiting itself.
 */
#define VC__POLL_IN 1
#define VC__POLL_OUT 2
#define VC__POLL_REMOVE 4
typedef int (*vc__transport_socket_fn)(void *payload, int fd, int events);
typedef int (*vc__transport_timer_fn)(void *payload, long ms);

int vc__transport_use_loop(vc__transport *t, vc__transport_socket_fn on_socket,
                           vc__transport_timer_fn on_timer, void *payload);
/* Batches are queued with vc__transport_submit as in the engine's own
 * threads. A watched socket is ready (events VC__POLL_*), or the timer
 * fired (fd < 0): 1 while transfers remain, 0 when none does, < 0 when
 * the transport failed (every unfinished transfer then ended with an
 * error). */
int vc__transport_action(vc__transport *t, int fd, int events);

/* Keep a finished transfer's libcurl handle, with the options every
 * request shares, for a later transfer; call before vc__transfer_reset. */
#define VC__TRANSPORT_SPARE 256
void vc__transport_recycle(vc__transport *t, vc__transfer *x);

/* A response header of a finished transfer, or NULL. */
const char *vc__transfer_header(const vc__transfer *x, const char *name);

#endif
