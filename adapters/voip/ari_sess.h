/*
 * The "asterisk-ari" session's state, shared by its click-to-call side
 * (ari.c) and its inbound side (ari_inbound.c). Everything here belongs
 * to the network thread (libre's loop). Internal.
 */
#ifndef VC_ADAPTERS_VOIP_ARI_SESS_H
#define VC_ADAPTERS_VOIP_ARI_SESS_H

#include "adapters/voip/ari.h"
#include "vyomcomm/sys/transport.h"

#include <re.h>

#define ID_MAX 128
#define CALL_ID_MAX 80

typedef struct ari_sess ari_sess;
typedef struct ari_req ari_req;
typedef void (req_done_h)(ari_req *r, int err, int status, const char *body,
                          size_t len);

struct ari_req {
  struct le le;
  ari_sess *s;
  struct http_req *http;
  struct tmr tmr;                /* config.request_timeout_ms */
  char call_id[CALL_ID_MAX];
  req_done_h *done;
  int leg;                       /* the leg it is about */
  int op;                        /* an operation: its vc_call_op */
  uint64_t token;                /* an operation's; an inbound call's
                                    serial */
  int step;                      /* of a multi-request operation; an
                                    inbound call's script generation */
  char arg[ID_MAX * 2];
};

struct ari_sess {
  const vc__ari_config *cfg;
  vc_session_host *host;
  struct dnsc *dnsc;
  struct http_cli *http;
  struct websock *ws;
  struct websock_conn *conn;
  struct tmr retry;
  int backoff_ms, up, down_told;
  int connecting;                /* an attempt is under way */
  struct list calls, reqs;
  uint64_t dropped;              /* malformed events, for the log */
  struct list incalls;           /* inbound calls (ari_inbound.c) */
  size_t nincalls;
  uint64_t in_serial;
};

/* Send a request of `kind` (vc__ari_url); `done` runs once with its
 * outcome, never during this call. An error when it cannot start. */
int vc__ari_rest(ari_sess *s, int kind, const char *a, const char *b,
                 const vc__ari_originate *o, req_done_h *done,
                 const char *call_id, int leg, ari_req **out);
/* The same with a URL already built. */
int vc__ari_rest_url(ari_sess *s, const char *method, const char *url,
                     req_done_h *done, ari_req **out);
/* A `done` for requests whose failure changes nothing (logged). */
void vc__ari_ignore_done(ari_req *r, int err, int status, const char *body,
                         size_t len);
/* ARI's error answer as printable text. */
void vc__ari_error_text(char *out, size_t cap, int status, const char *body,
                        size_t len);

/* ari_inbound.c. 1 when the event was an inbound call's (or a new one's)
 * and is handled. */
int vc__ari_in_event(ari_sess *s, const vc__ari_event *ev);
/* The connection is back: check the inbound calls' channels. */
void vc__ari_in_resync(ari_sess *s);
/* The session closes: forget every inbound call. */
void vc__ari_in_close(ari_sess *s);
/* vc_session_ops.run_script. */
int vc__ari_run_script(void *session, const char *call_id,
                       const char *provider_call_id,
                       const vc_call_script *script);

#endif
