/*
 * The context's network thread: libre's loop (re_main) on a thread the
 * library owns, started on first use and stopped by vc_ctx_free(). The
 * webhook listener and session adapters (sys/transport.h) live on it;
 * libre objects belong to it alone. Other threads hand it work here.
 * libre's headers stay out of this header.
 */
#ifndef VC_NET_NETTHREAD_H
#define VC_NET_NETTHREAD_H

#include "vyomcomm/types.h"

typedef struct vc__netthread vc__netthread;

/* Work for the loop. `run` runs on the network thread; when the thread
 * ends before running it, `drop` (may be NULL) runs instead, on the
 * thread that stops it, so that `arg` is released either way. */
typedef void (*vc__net_fn)(void *arg);

/* Queue run(arg) on the loop, starting the thread when it is not
 * running. <0 (with the detail set) when it cannot: the caller still
 * owns `arg`. */
int vc__net_post(vc_ctx *ctx, vc__net_fn run, vc__net_fn drop, void *arg);

/* Run fn(arg) on the loop and return its result (at once when called on
 * the network thread). VC_ESTATE when the thread has ended. fn must not
 * wait for another thread. */
int vc__net_call(vc_ctx *ctx, int (*fn)(void *arg), void *arg);

/* 1 when the calling thread is the context's network thread. */
int vc__net_on_thread(vc_ctx *ctx);

/* Stop the loop and join the thread; work still queued is dropped. The
 * thread does not start again. For vc_ctx_free(). */
void vc__net_stop(vc_ctx *ctx);

#endif
