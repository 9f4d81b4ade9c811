/**
 * @file vyomcomm/sys/transport.h
 * @brief For implementers: voice providers reached over a long-lived
 *        connection (Asterisk's ARI WebSocket, a SIP user agent) rather
 *        than one HTTP request per operation.
 *
 * A session adapter is a vc_adapter of kind VC_CHANNEL_VOICE whose
 * `session` member points to these methods (it then has no build_call
 * or parse_call). The core opens one session per channel, on first use,
 * on the context's network thread: the thread that runs libre's loop.
 * Every method runs on that thread and must not block it; a built-in
 * adapter may use libre's sockets, timers, SIP stack and WebSocket
 * client directly, since it runs inside that loop.
 *
 * A session reports back through its vc_session_host: what became of a
 * call it was asked to place or an operation it was asked to run, and
 * everything it learns about a call afterwards, with the same
 * vc_call_update reports a webhook makes. The core applies a call's
 * reports in the order they are made, each once (deduplicated like
 * webhook reports) and with the time it was made, several to a
 * transaction when they queue up.
 *
 * @defgroup vc_transport Session adapters
 * @{
 */
#ifndef VYOMCOMM_SYS_TRANSPORT_H
#define VYOMCOMM_SYS_TRANSPORT_H

#include "adapter.h"

VC_BEGIN_DECL

/** The core's side of one session; valid until the session's `close`
 *  returns. */
typedef struct vc_session_host vc_session_host;

/**
 * What became of a place_call(): ACCEPTED with the provider's id of the
 * call in `result->provider_id` (the agent's channel or dialog), or
 * RETRY, REJECTED, FAILOVER as vc_adapter.parse_call reports them. Each
 * place_call() gets exactly one answer; a call not answered within its
 * ring timeout plus 30 seconds is taken as RETRY with VC_ETIMEOUT.
 * Safe from any thread.
 *
 * @return 0, VC_ENOTFOUND (no such call pending on this session: it was
 *   answered already, or the core stopped waiting and will place the
 *   call again, so hang up what was placed)
 * @since 0.2
 */
VC_EXTERN(int) vc_session_placed(vc_session_host *host, const char *call_id,
                                 const vc_send_result *result);

/**
 * What became of an operation(): ACCEPTED, or RETRY, REJECTED as
 * vc_adapter.parse_control reports them. `token` is the one the core
 * passed. Each operation gets exactly one answer. Safe from any thread.
 *
 * @return 0, VC_ENOTFOUND
 * @since 0.2
 */
VC_EXTERN(int) vc_session_done(vc_session_host *host, uint64_t token,
                               const vc_send_result *result);

/**
 * Report something that happened to a call placed on this session:
 * ringing, answered and ended legs, DTMF, recordings, quality. Set
 * `call_id` (the session knows it from place_call). Safe from any
 * thread; the report is copied. A report made after vc_session_placed()
 * is applied once that answer is stored; VC_UPDATE_SCRIPT is ignored.
 *
 * @return 0; VC_EINVALID (a malformed update, as vc_event_sink_call())
 * @since 0.2
 */
VC_EXTERN(int) vc_session_report(vc_session_host *host,
                                 const vc_call_update *update);

/**
 * The session's connection went down (`up` 0) or came back (`up` 1),
 * for the log and the channel's circuit breaker. While it is down the
 * core fails calls over to the next channel; until the first report the
 * link counts as up. Safe from any thread.
 * @since 0.2
 */
VC_EXTERN(void) vc_session_link(vc_session_host *host, int up,
                                const char *why);

/**
 * Write a line to the context's log at `level` (a vc_log_level): what a
 * session dropped or could not do (a malformed event, a failed clean-up)
 * and nobody else would hear of. Never pass a secret. Safe from any
 * thread.
 * @since 0.2
 */
VC_EXTERN(void) vc_session_log(vc_session_host *host, int level,
                               const char *text);

/**
 * A call arrived on this session (a channel entering the application, an
 * INVITE to the user agent): `update` is a VC_UPDATE_INCOMING (version 2,
 * with `provider_call_id`, `from` and `to`; `call_id` NULL). The core
 * routes the number and stores the call, then runs its first script
 * through the session's run_script, on the network thread, with the
 * call's new id. A call the number does not route gets a script that
 * only hangs up. Safe from any thread; the update is copied.
 *
 * @return 0; VC_EINVALID (a malformed update); VC_ENOTSUPPORTED when the
 *   adapter has no run_script
 * @since 0.3
 */
VC_EXTERN(int) vc_session_incoming(vc_session_host *host,
                                   const vc_call_update *update);

/**
 * A step of a script run by run_script() is done and names a URL (a
 * GATHER's, DIAL's or RECORD's `action_url`, a REDIRECT's `url`): ask
 * the core for the next script, as a provider would fetch that URL.
 * `url` is given back exactly as the script had it (the core reads the
 * call and the step from it). `update` (may be NULL) is what the step
 * produced, with `call_id` set: VC_UPDATE_DTMF with the keys a GATHER
 * collected (none: NULL, the gather timed out), VC_UPDATE_ENDED for the
 * leg a DIAL rang (with its cause; VC_CAUSE_NORMAL after it talked),
 * VC_UPDATE_RECORDING for a RECORD. The core applies the update and
 * answers with run_script() for the same call. Safe from any thread;
 * everything is copied.
 *
 * @return 0; VC_EINVALID (a malformed URL or update)
 * @since 0.3
 */
VC_EXTERN(int) vc_session_fetch(vc_session_host *host, const char *call_id,
                                const char *url,
                                const vc_call_update *update);

/** The methods of a session adapter. */
typedef struct vc_session_ops {
  unsigned int version;        /**< VC_SESSION_OPS_VERSION */
  /**
   * REQUIRED. Open a session for a channel from its settings and
   * credentials (already validated by the adapter's `init`, whose state
   * is `adapter_state`), and start connecting. Returns at once; the
   * connection's fate is told through vc_session_link().
   */
  int VC_CALLBACK(open)(void **session, void *adapter_state,
                        vc_session_host *host);
  /** REQUIRED. End the session: hang nothing up, release everything. */
  void VC_CALLBACK(close)(void *session);
  /**
   * REQUIRED. Start placing `call` (the agent first, the customer once
   * the agent answers, then bridge them). Strings are borrowed for the
   * call only: copy what you keep. The answer comes through
   * vc_session_placed(); returning an error here is the same as
   * answering REJECTED with it.
   */
  int VC_CALLBACK(place_call)(void *session, const vc_call_outbound *call);
  /**
   * OPTIONAL (NULL: no operation is supported). Start an operation on a
   * call; the answer comes through vc_session_done() with `token`.
   * VC_ENOTSUPPORTED (after vc_error_set_str) for one the provider
   * cannot do; the adapter's VC_CAP_CALL_* bits say which it can.
   */
  int VC_CALLBACK(operation)(void *session, const vc_call_control *c,
                             uint64_t token);

  /* Added in version 2 (vyomcomm 0.3). */
  /**
   * OPTIONAL (NULL: the session takes no inbound calls). Run `script` on
   * an inbound call, replacing whatever script the call was running:
   * its steps in order on the caller's leg (`provider_call_id`, from
   * vc_session_incoming()). A step naming a URL hands over with
   * vc_session_fetch() when it is done; a DIAL rings `target` and
   * bridges it to the caller when it answers, reporting that leg as
   * VC_LEG_AGENT through vc_session_report() (ringing, answered, ended);
   * the end of the caller's leg is reported as VC_LEG_CUSTOMER. A step
   * the provider cannot do (SAY without speech, PLAY of a URL it cannot
   * fetch) is skipped and logged with vc_session_log(); GATHER, DIAL and
   * HANGUP are required. Strings are borrowed for the call only.
   * Returns 0, or an error when the call is unknown to the session.
   */
  int VC_CALLBACK(run_script)(void *session, const char *call_id,
                              const char *provider_call_id,
                              const vc_call_script *script);
} vc_session_ops;

/** The current version of vc_session_ops (2: run_script). */
#define VC_SESSION_OPS_VERSION 2

VC_END_DECL

/** @} */
#endif /* VYOMCOMM_SYS_TRANSPORT_H */
