/**
 * @file vyomcomm/loop.h
 * @brief Driving the engine from the host's own event loop.
 *
 * Instead of vc_ctx_run() or engine threads, a host with an event loop
 * (epoll, libuv, libevent) can run the engine's HTTP work itself, the
 * way libcurl's multi-socket interface works: the library tells the host
 * which sockets to watch and when to call back, and the host reports
 * readiness. No call blocks on the network; store work (claiming a batch,
 * recording outcomes) runs inside the host's calls. See
 * examples/loop_epoll.c.
 *
 * Thread safety: vc_ctx_loop_socket() and vc_ctx_loop_timeout() are
 * meant for the loop's thread; they serialise with each other. The timer
 * hook is also called from any thread that queues work (a send wakes the
 * loop through it), so it must be thread-safe, as a timerfd is.
 *
 * @defgroup vc_loop Host event loop
 * @{
 */
#ifndef VYOMCOMM_LOOP_H
#define VYOMCOMM_LOOP_H

#include "common.h"
#include "types.h"

VC_BEGIN_DECL

/** Socket readiness and interest. Values are pinned. */
#define VC_LOOP_IN 1      /**< readable / watch for reading */
#define VC_LOOP_OUT 2     /**< writable / watch for writing */
#define VC_LOOP_REMOVE 4  /**< stop watching the socket */

/** What the host's loop offers the library. */
typedef struct vc_loop_hooks {
  unsigned int version;     /**< VC_LOOP_HOOKS_VERSION */
  /**
   * REQUIRED. Watch `fd` for `events` (VC_LOOP_IN, VC_LOOP_OUT or both)
   * from now on, replacing the earlier interest, or stop watching it
   * (VC_LOOP_REMOVE; the socket may already be closed). Called from
   * inside vc_ctx_loop_socket() and vc_ctx_loop_timeout(). Return 0, or
   * -1 to fail the transfers on that socket.
   */
  int VC_CALLBACK(socket)(void *payload, int fd, int events);
  /**
   * REQUIRED. Call vc_ctx_loop_timeout() once `timeout_ms` milliseconds
   * have passed (0: as soon as possible), replacing the earlier timer;
   * -1 cancels it. Called from any thread (see above).
   */
  int VC_CALLBACK(timer)(void *payload, long timeout_ms);
  void *payload;              /**< passed to `socket` and `timer` */
} vc_loop_hooks;

/** The current version of vc_loop_hooks, and an initializer with every
 *  member at its default (vc_loop_hooks_init() for other languages). */
#define VC_LOOP_HOOKS_VERSION 1
#define VC_LOOP_HOOKS_INIT { VC_LOOP_HOOKS_VERSION, NULL, NULL, NULL }

/** Initialise a vc_loop_hooks for `version`. @since 0.2 */
VC_EXTERN(int) vc_loop_hooks_init(vc_loop_hooks *hooks,
                                  unsigned int version);

/**
 * Hand the context's host-side engine to the host's loop. From then on
 * vc_ctx_run() refuses (VC_ESTATE); engine threads (vc_ctx_start) may
 * still run beside the loop. The timer hook is called at once to start.
 *
 * @return 0, VC_EINVALID (a hook missing), VC_EVERSION, VC_ESTATE (set
 *   already)
 * @since 0.2
 */
VC_EXTERN(int) vc_ctx_set_loop(vc_ctx *ctx, const vc_loop_hooks *hooks);

/**
 * A watched socket is ready: `events` is VC_LOOP_IN and/or VC_LOOP_OUT
 * (errors and hang-ups count as both).
 *
 * @return the number of jobs finished and events delivered (>= 0), or a
 *   negative code (VC_ESTATE when no loop is set)
 * @since 0.2
 */
VC_EXTERN(int) vc_ctx_loop_socket(vc_ctx *ctx, int fd, int events);

/**
 * The timer fired: run what is due.
 *
 * @return as vc_ctx_loop_socket()
 * @since 0.2
 */
VC_EXTERN(int) vc_ctx_loop_timeout(vc_ctx *ctx);

VC_END_DECL

/** @} */
#endif /* VYOMCOMM_LOOP_H */
