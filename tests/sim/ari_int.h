/*
 * The simulated Asterisk's state, shared by the ARI REST side (ari.c)
 * and the control functions of sim.h (ari_control.c). All of it belongs
 * to the libre thread: see ari.c.
 */
#ifndef VC_SIM_ARI_INT_H
#define VC_SIM_ARI_INT_H

#include "sim_int.h"

enum {
  ARI_MAX_CHANS = 10000,
  ARI_MAX_BRIDGES = 1000,
  ARI_MAX_RECS = 1000,
  ARI_MAX_SOCKS = 64,
  ARI_MAX_APPS = 8,
  ARI_BRIDGE_MAX = 16,       /* channels in one bridge */
  ARI_MAX_PARAMS = 32,       /* body keys used as parameters */
};

/* A channel's next step on the loop. */
enum { ST_DIAL, ST_OUTCOME, ST_TALK_END, ST_REDIRECTED };

typedef struct ari_chan {
  char id[64], name[112], endpoint[128], tech[16], resource[96];
  char app[64];
  char args[512];            /* appArgs as given */
  char caller_name[64], caller_num[64];
  char state[16];            /* Down, Ringing, Up */
  char protocol_id[40];
  char context[64], exten[64];
  long priority;
  char originator[64];
  char *vars;                /* channelvars JSON object, or NULL */
  int64_t created_ms;
  vc_sim_call_plan plan;
  int dialing;               /* Dial begun, not yet ended */
  int in_stasis, ended, cause, held, moh;
  unsigned gen;              /* bumped when the channel ends */
  char bridge[64];
  char dtmf_sent[128], redirect[128];
  sim_vcall *vc;             /* the status mirror (v.mu) */
} ari_chan;

typedef struct ari_bridge {
  char id[64], name[64], type[64];
  int64_t created_ms;
  char chans[ARI_BRIDGE_MAX][64];
  size_t n;
  int gone;
} ari_bridge;

typedef struct ari_rec {
  char name[128], format[16], target[80];
  char state[16];            /* queued, recording, done, failed */
  int64_t started_ms;
  long duration;
  unsigned gen;
  int stored;                /* a stored recording (done) */
  int deleted;
} ari_rec;

typedef struct ari_sock {
  sim_ws *ws;
  char apps[ARI_MAX_APPS][64];
  size_t napps;
  int all;
} ari_sock;

typedef struct ari_state {
  sim_voice v;               /* first: the shared voice state */
  vc_sim *sim;
  ari_chan **chans;
  size_t nchans, capchans;
  ari_bridge **bridges;
  size_t nbridges, capbridges;
  ari_rec **recs;
  size_t nrecs, caprecs;
  ari_sock *socks[ARI_MAX_SOCKS];
  size_t nsocks;
  unsigned long seq;
  unsigned long requests;    /* REST requests (not the WebSocket) */
} ari_state;

/* ari.c's helpers the control functions use. */
ari_chan *ari_chan_find(ari_state *st, const char *id);
ari_chan *ari_chan_any(ari_state *st, const char *key);
void ari_chan_end(ari_state *st, ari_chan *c, int cause, int request);
void ari_chan_json(sim_buf *b, const ari_chan *c);
void ari_sock_remove(ari_state *st, ari_sock *k);
void ari_emit(ari_state *st, const char *app, const char *type,
              const sim_buf *fields);
void ari_emit_dial(ari_state *st, const ari_chan *c, const char *status);

#endif
