/*
 * What the SIP adapter's two halves share: sip.c (the session, calls it
 * places) and sip_in.c (calls it takes, run by the core's scripts).
 * Internal; every function here runs on the network thread, as every
 * libre object named here belongs to it.
 */
#ifndef VC_ADAPTERS_VOIP_SIP_INT_H
#define VC_ADAPTERS_VOIP_SIP_INT_H

#include "adapters/voip/callback.h"
#include "adapters/voip/sip_text.h"
#include "vyomcomm/sys/transport.h"

#include <re.h>

#define VC__SIP_CONTACT_USER "vyomcomm"
#define VC__SIP_CTYPE_SDP "application/sdp"
#define VC__SIP_DEFAULT_RING_S 30
#define VC__SIP_PEERS_MAX 16      /* config.inbound_peers */
#define VC__SIP_PEER_MAX 46       /* an IPv6 address in text */

typedef struct sip_cfg {
  char *proxy;               /* outbound proxy / trunk URI, or NULL */
  int tcp;
  char laddr[64];            /* "" = the default source address */
  uint16_t lport;
  char *from;                /* URI, or a template with {number} */
  char *aor;                 /* what REGISTER registers */
  int reg;
  int expires_s;
  int keepalive_s;
  char *agent_tmpl;          /* NULL: agents must be sip: URIs */
  char *customer_tmpl;
  char *username, *password;
  /* Calls taken (sip_in.c): from these source addresses, or from any
   * when `any_peer`. */
  int inbound;
  int any_peer;
  size_t npeers;
  char peers[VC__SIP_PEERS_MAX][VC__SIP_PEER_MAX + 1];
} sip_cfg;

typedef struct sip_session sip_session;
typedef struct sip_call sip_call;
typedef struct sip_in sip_in;

typedef struct sip_leg {
  sip_call *call;
  int which;                 /* VC_LEG_AGENT, VC_LEG_CUSTOMER */
  struct sipsess *sess;
  char uri[VC__SIP_URI_MAX + 32];
  int heard;                 /* any response to our INVITE */
  int ringing, answered, ended;
  uint64_t answered_at;      /* tmr_jiffies() */
  int reinvites;             /* re-INVITEs of ours not answered yet */
  struct tmr ring_tmr;
  vc__sdp_origin origin;
} sip_leg;

/* What operation a call waits on. */
enum { OP_NONE = 0, OP_BRIDGE, OP_HOLD, OP_UNHOLD, OP_TRANSFER };

/*
 * A call: one placed (the agent's leg, then the customer's) or one taken
 * (`in` set: the caller is the customer leg, and a DIAL rings the agent
 * leg).
 */
struct sip_call {
  struct le le;
  sip_session *s;
  char call_id[VC__VOIP_CALL_ID_MAX + 1];
  char provider_id[128];
  char from[VC__SIP_URI_MAX + 1];
  sip_leg agent, customer;
  char *offer;               /* the agent's description (O1) */
  size_t offer_len;
  char *answer;              /* the customer's (A1) */
  size_t answer_len;
  int placed, bridged, held, ended;
  int ring_s, limit_s;
  struct tmr limit_tmr;
  int op;                    /* OP_* in flight */
  uint64_t op_token;
  int op_has_token;
  struct tmr op_tmr;
  struct sip_request *refer;
  struct tmr gc_tmr;
  struct sipsess *trash[2];  /* released on the next loop turn */
  sip_in *in;                /* a call taken: its script (sip_in.c) */
  unsigned int reports;      /* made so far: each report's event id */
};

struct sip_session {
  const sip_cfg *cfg;
  vc_session_host *host;
  struct dnsc *dnsc;
  struct sip *sip;
  struct sipsess_sock *sock;
  struct sip_lsnr *lsnr;
  struct sipreg *reg;
  struct sip_dialog *ping_dlg;
  struct sip_request *ping;
  struct tmr ping_tmr;
  struct list calls;
  size_t ninbound;           /* calls taken, live */
  char route[VC__SIP_URI_MAX + 32];
  const char *routev[1];
  uint32_t routec;
  char addr[64];             /* our address, for SDP origins */
  int link;                  /* -1 unknown, 0 down, 1 up */
};

#define CALL_OF(leg) ((leg)->call)
#define OTHER(leg) \
  ((leg)->which == VC_LEG_AGENT ? &(leg)->call->customer : &(leg)->call->agent)

/* --- sip.c ---------------------------------------------------------------- */

/* The request URI of a party: a sip: URI as given, else `tmpl` with the
 * number (see sip.c). */
int vc__sip_party_uri(char *out, size_t cap, const sip_cfg *c,
                      const char *tmpl, const char *party, const char *what);
/* Report `type` of a leg of the call through vc_session_report(). */
void vc__sip_report(sip_call *call, int type, int leg, int cause,
                    int duration_s, const char *code, const char *digits);
/* Take a leg's session out of use: released (BYE or CANCEL when still
 * live) on the next turn of the loop. */
void vc__sip_leg_release(sip_leg *leg);
/* Free the call on the next turn of the loop once `ended` is set. */
void vc__sip_call_gc(sip_call *call);
/* Seconds a leg has talked. */
int vc__sip_talk_s(const sip_leg *leg);
int vc__sip_auth_handler(char **user, char **pass, const char *realm,
                         void *arg);
int vc__sip_mbuf(struct mbuf **out, const vc_buf *b);
/* Keep a message's body (an SDP, at most VC__SIP_SDP_MAX bytes). */
int vc__sip_keep_body(char **dst, size_t *len, const struct sip_msg *msg);
/* Our description for a leg: its peer's (the agent's: call->answer; the
 * customer's: call->offer), restated with `dir`. */
int vc__sip_leg_desc(struct mbuf **out, sip_leg *leg, int dir);
/* re-INVITE a leg with vc__sip_leg_desc(leg, dir). */
int vc__sip_reinvite(sip_leg *leg, int dir);
sip_call *vc__sip_find_call(sip_session *s, const char *call_id);
/* A new call of the session, not listed yet; NULL when out of memory. */
sip_call *vc__sip_call_new(sip_session *s);

/* --- sip_in.c ------------------------------------------------------------- */

struct cJSON;
/* Read config.inbound and config.inbound_peers into `c`. */
int vc__sip_in_config(sip_cfg *c, const struct cJSON *cfg);
/* An INVITE outside any dialog: take the call or refuse it. */
void vc__sip_in_invite(sip_session *s, const struct sip_msg *msg);
/* The session's run_script. */
int vc__sip_in_run_script(void *session, const char *call_id,
                          const char *provider_call_id,
                          const vc_call_script *script);
/* vc_call_hangup() of a call taken; 0 or an error. */
int vc__sip_in_hangup(sip_call *call);
/* Release what a call taken holds (from the call's destructor). */
void vc__sip_in_free(sip_call *call);

#endif
