/**
 * @file vyomcomm/ctx.h
 * @brief The library context: store, master key, clock, logging, engine.
 *
 * A context owns one store and runs the durable job engine over it. The
 * host drives the engine itself with vc_ctx_run(), or lets library threads
 * drive it with vc_ctx_start(). Every function here is safe to call from
 * any thread, except vc_ctx_free(), which must be the last call on the
 * context and must not run on an engine thread (inside a callback).
 *
 * @defgroup vc_ctx Context
 * @{
 */
#ifndef VYOMCOMM_CTX_H
#define VYOMCOMM_CTX_H

#include "common.h"
#include "types.h"
#include "log.h"
#include "event.h"

VC_BEGIN_DECL

/**
 * The master key that encrypts credentials at rest. Give either 32 raw
 * bytes, or a passphrase that is stretched with PBKDF2-HMAC-SHA256 over a
 * random salt kept in the store. All fields are copied; the library wipes
 * its copies when it is done with them.
 */
typedef struct vc_master_key {
  unsigned int version;   /**< VC_MASTER_KEY_VERSION */
  const uint8_t *key;     /**< 32 raw bytes, or NULL */
  size_t key_len;         /**< must be 32 when key is set */
  const char *passphrase; /**< NUL-terminated, or NULL */
  /** PBKDF2 iterations for a new passphrase; 0 = 600000. A store keeps the
   *  count it was created with. */
  uint32_t kdf_iterations;
} vc_master_key;

/** The current version of vc_master_key, and an initializer with every
 *  member at its default (vc_master_key_init() for other languages). */
#define VC_MASTER_KEY_VERSION 1
#define VC_MASTER_KEY_INIT { VC_MASTER_KEY_VERSION, NULL, 0, NULL, 0 }
#define VC_MASTER_KEY_SIZE 32

/** Initialise a vc_master_key for `version`. @since 0.1 */
VC_EXTERN(int) vc_master_key_init(vc_master_key *k, unsigned int version);

/** Returns the current time in Unix milliseconds (UTC). */
typedef int64_t VC_CALLBACK(vc_clock_cb)(void *payload);

/** Options for vc_ctx_new(). */
typedef struct vc_ctx_options {
  unsigned int version; /**< VC_CTX_OPTIONS_VERSION */
  /** The store; ownership passes to the context when vc_ctx_new()
   *  succeeds. Required. */
  vc_store *store;
  /** The master key, or NULL: then credentials cannot be stored. */
  const vc_master_key *master_key;
  /** Log callback and the most verbose level passed to it (default
   *  VC_LOG_INFO when 0). */
  vc_log_cb log_cb;
  void *log_payload;          /**< passed to `log_cb` */
  int log_level;              /**< a vc_log_level; 0 = VC_LOG_INFO */
  /** Clock, or NULL for the system's real-time clock. Tests inject one so
   *  that scheduling and backoff need no sleeping. */
  vc_clock_cb clock_cb;
  void *clock_payload;        /**< passed to `clock_cb` */
  /** Seed for ids and jitter; 0 = the operating system's randomness.
   *  Nonces and salts always come from the operating system. */
  uint64_t random_seed;
  /** Where providers reach the host, e.g. "https://erp.example.com";
   *  webhook URLs are built from it. May be NULL until webhooks are used. */
  const char *public_base_url;
  /** How long a claimed job stays leased to one engine (default 60000). */
  int64_t lease_ms;
  /** Jobs claimed per batch (default 256, at most 10000). */
  uint32_t claim_batch;
  /** Name of this context's event-delivery cursor in the store, 1..64 of
   *  [A-Za-z0-9_.-]; NULL = "default". Contexts that share a name share
   *  the cursor: each event reaches one of them (at least once). Give
   *  each a different name for every context to see every event. */
  const char *event_consumer;

  /* Added in version 2 (vyomcomm 0.2). */
  /** 1 to let provider requests reach loopback and private addresses
   *  (a local simulator or gateway). By default they are refused, since a
   *  channel's base URL is tenant data. */
  int allow_private_network;
} vc_ctx_options;

/** The current version of vc_ctx_options, and an initializer with every
 *  member at its default (vc_ctx_options_init() for other languages). */
#define VC_CTX_OPTIONS_VERSION 2
#define VC_CTX_OPTIONS_INIT \
  { VC_CTX_OPTIONS_VERSION, NULL, NULL, NULL, NULL, 0, NULL, NULL, 0, \
    NULL, 0, 0, NULL, 0 }

/** Initialise a vc_ctx_options for `version`. @since 0.1 */
VC_EXTERN(int) vc_ctx_options_init(vc_ctx_options *o, unsigned int version);

/**
 * Create a context over a store. Migrates the store's schema forward and
 * checks the master key against the store.
 *
 * @param out receives the context; freed with vc_ctx_free()
 * @param opts options; opts->store is required
 * @return 0; VC_EVERSION when the store was written by a newer library;
 *   VC_EKEY when the master key is not the store's; VC_ECORRUPT when the
 *   store is not a database. On failure the caller still owns the store.
 * @since 0.1
 */
VC_EXTERN(int) vc_ctx_new(vc_ctx **out, const vc_ctx_options *opts);

/**
 * Stop the engine threads, then free the context and its store. Handles
 * made from the context (tenants, iterators) must be freed before.
 *
 * @param ctx the context; NULL is accepted
 * @since 0.1
 */
VC_EXTERN(void) vc_ctx_free(vc_ctx *ctx);

/**
 * Run one engine iteration on the calling thread: claim due jobs, run
 * them, and deliver pending events to the event callback. When nothing is
 * due, waits up to `timeout_ms` for work (0 = do not wait, < 0 = wait
 * until vc_ctx_wakeup() or the next due job).
 *
 * @return the number of jobs and events handled (>= 0), or a negative code
 * @note Safe from any thread, also while engine threads run.
 * @since 0.1
 */
VC_EXTERN(int) vc_ctx_run(vc_ctx *ctx, int timeout_ms);

/**
 * Start `nthreads` engine threads (1..64) that run the engine until
 * vc_ctx_stop().
 *
 * @return 0, VC_ESTATE when already started, VC_EINVALID
 * @since 0.1
 */
VC_EXTERN(int) vc_ctx_start(vc_ctx *ctx, unsigned int nthreads);

/**
 * Stop and join the engine threads. Work in progress finishes; jobs not
 * yet claimed stay in the store.
 *
 * @return 0, or VC_ESTATE when the engine was not started
 * @note Must not be called from an engine thread (a callback). @since 0.1
 */
VC_EXTERN(int) vc_ctx_stop(vc_ctx *ctx);

/** Wake engine threads and any vc_ctx_run() waiting. @since 0.1 */
VC_EXTERN(int) vc_ctx_wakeup(vc_ctx *ctx);

/**
 * Set the callback that receives events in sequence order, at least once.
 * The delivered cursor is kept in the store, so events survive restarts.
 * The callback runs on an engine thread (or the thread in vc_ctx_run()),
 * one event at a time. It must return quickly; it may call the library but
 * must not free the context. Returning non-zero stops delivery; the same
 * event is offered again on a later iteration.
 *
 * @param cb the callback, or NULL to stop delivery
 * @return 0
 * @since 0.1
 */
VC_EXTERN(int) vc_ctx_set_event_cb(vc_ctx *ctx, vc_event_cb cb,
                                   void *payload);

/** The context's clock, in Unix milliseconds. @since 0.1 */
VC_EXTERN(int64_t) vc_ctx_now(vc_ctx *ctx);

VC_END_DECL

/** @} */
#endif /* VYOMCOMM_CTX_H */
