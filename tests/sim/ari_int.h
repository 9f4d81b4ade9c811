/*
 * The simulated Asterisk's state, shared by the ARI REST side (ari.c)
 * and the control functions of sim.h (ari_control.c). All of it belongs
 * to the libre thread: see ari.c.
 */
#ifndef VC_SIM_ARI_INT_H
#define VC_SIM_ARI_INT_H

#include "sim_int.h"

#include <cjson/cJSON.h>

enum {
  ARI_MAX_CHANS = 10000,
  ARI_MAX_BRIDGES = 1000,
  ARI_MAX_RECS = 1000,
  ARI_MAX_SOCKS = 64,
  ARI_MAX_APPS = 8,
  ARI_BRIDGE_MAX = 16,       /* channels in one bridge */
  ARI_MAX_PARAMS = 32,       /* body keys used as parameters */
  ARI_MAX_PBS = 256,         /* playbacks remembered */
};

/* A channel's next step on the loop. */
enum { ST_DIAL, ST_OUTCOME, ST_TALK_END, ST_REDIRECTED, ST_PRESS,
       ST_CALLER_HANGUP };

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
  /* An inbound caller (vc_sim_ari_incoming) and its plan. */
  int inbound;
  char keys[128];            /* key groups, ',' between them */
  size_t key_pos;
  unsigned press_ms, hangup_moh_ms, hangup_rec_ms;
  char played[512];          /* media URIs played, ',' between them */
  char recording[128];       /* its latest channel recording */
} ari_chan;

/* A playback (POST /channels/{id}/play): one media URI after another. */
typedef struct ari_pb {
  char id[64], chan[64];
  char media[512];           /* the URIs, ',' between them */
  char state[16];            /* playing, done, failed */
  unsigned gen;
} ari_pb;

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
  char term[8];              /* terminateOn: none, any, *, # */
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
  ari_pb *pbs;               /* playbacks (ARI_MAX_PBS, the oldest reused) */
  size_t npbs;
  unsigned pb_gen;
} ari_state;

/* The parameters of one request: query first, then the JSON body's
 * top-level members other than "variables" (as Asterisk takes them). */
typedef struct ari_args {
  sim_form q;
  cJSON *body;
  char *key[ARI_MAX_PARAMS], *val[ARI_MAX_PARAMS];
  size_t n;
} ari_args;

/* ari.c's helpers the control functions and ari_inbound.c use. */
ari_chan *ari_chan_find(ari_state *st, const char *id);
ari_chan *ari_chan_any(ari_state *st, const char *key);
void ari_chan_end(ari_state *st, ari_chan *c, int cause, int request);
void ari_chan_json(sim_buf *b, const ari_chan *c);
void ari_sock_remove(ari_state *st, ari_sock *k);
void ari_emit(ari_state *st, const char *app, const char *type,
              const sim_buf *fields);
void ari_emit_dial(ari_state *st, const ari_chan *c, const char *status);
void ari_error(sim_resp *rs, int status, const char *msg);
void ari_no_content(sim_resp *rs);
int ari_in_list(const char *const *l, const char *s);
int ari_true(const char *s);
int ari_int(const char *s, long lo, long hi, long *out);
void ari_emit_chan(ari_state *st, const ari_chan *c, const char *type);
void ari_emit_rec(ari_state *st, const ari_rec *r, const char *type);
void ari_set_state(ari_state *st, ari_chan *c, const char *state);
void ari_step_later(ari_state *st, ari_chan *c, int step, unsigned ms);
ari_chan *ari_chan_new(ari_state *st);
const char *ari_arg(const ari_args *a, const char *name);
ari_chan *ari_chan_stasis(ari_state *st, const char *id, sim_resp *rs);
void ari_rec_finish(ari_state *st, ari_rec *r);
ari_rec *ari_rec_start(ari_state *st, const ari_args *a, const char *target,
                       sim_resp *rs);

/* ari_inbound.c: a caller's channel entering the application, and what a
 * Stasis application does with it (answer, play, record). */
void ari_in_answer(ari_state *st, ari_chan *c, sim_resp *rs);
void ari_in_play(ari_state *st, const ari_args *a, ari_chan *c,
                 const char *playback_id, sim_resp *rs);
void ari_in_record(ari_state *st, const ari_args *a, ari_chan *c,
                   sim_resp *rs);
void ari_in_playbacks(ari_state *st, const char *method, char **seg,
                      size_t nseg, sim_resp *rs);
/* Before a channel's end: its playback and channel recordings end. */
void ari_in_chan_ending(ari_state *st, ari_chan *c);
/* A key pressed on c (the plan or vc_sim_ari_dtmf): ends a channel
 * recording whose terminateOn it matches. */
void ari_in_key(ari_state *st, ari_chan *c, char key);
/* ST_PRESS and ST_CALLER_HANGUP of an inbound channel. */
void ari_in_step(ari_state *st, ari_chan *c, int step);
/* Music on hold started on c. */
void ari_in_moh(ari_state *st, ari_chan *c);
/* RecordingStarted of r was sent. */
void ari_in_rec_started(ari_state *st, const ari_rec *r);

#endif
