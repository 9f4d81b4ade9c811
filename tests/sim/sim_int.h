/*
 * Inside the simulator: what a provider file sees. A provider is one file
 * defining a `const sim_provider sim_<name>` and one X(<name>) line in
 * SIM_PROVIDERS below. Provider code runs on the libre thread (handle,
 * error) or on a webhook worker (sign); it never touches libre itself.
 */
#ifndef VC_SIM_INT_H
#define VC_SIM_INT_H

#include "sim.h"

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

/* The provider table: one line per provider file. */
#define SIM_PROVIDERS(X) \
  X(twilio)              \
  X(sendgrid)            \
  X(vonage)              \
  X(mailgun)             \
  X(sns)                 \
  X(telegram)            \
  X(whatsapp)            \
  X(twilio_voice)        \
  X(exotel)              \
  X(mcube)               \
  X(ari)

/* ---- growable text buffer ------------------------------------------- */

typedef struct sim_buf {
  char *ptr;       /* NUL-terminated when non-NULL */
  size_t len;
  size_t cap;
  int oom;         /* an append failed; the content is incomplete */
} sim_buf;

void sim_buf_free(sim_buf *b);
void sim_buf_add(sim_buf *b, const void *p, size_t n);
void sim_buf_str(sim_buf *b, const char *s);
void sim_buf_printf(sim_buf *b, const char *fmt, ...)
  __attribute__((format(printf, 2, 3)));
/* A JSON string literal with its quotes; NULL becomes null. */
void sim_buf_json_str(sim_buf *b, const char *s);
void sim_buf_json_strn(sim_buf *b, const char *s, size_t n);
/* application/x-www-form-urlencoded: unreserved bytes kept, space '+'. */
void sim_buf_form_enc(sim_buf *b, const char *s);

/* ---- form bodies ---------------------------------------------------- */

typedef struct sim_form {
  size_t n;
  char **key;
  char **val;
  char *mem_;
} sim_form;

/* Decode a form body or query string (+ and %XX); 0 or -ENOMEM. */
int sim_form_parse(sim_form *f, const char *s, size_t len);
void sim_form_free(sim_form *f);
/* The first value of a name, or NULL. */
const char *sim_form_get(const sim_form *f, const char *key);
size_t sim_form_count(const sim_form *f, const char *key);

/* ---- small helpers -------------------------------------------------- */

/* Unique, unpredictable-enough bytes for ids (not for keys). */
void sim_random(void *out, size_t n);
/* `n` random lowercase hex digits plus a NUL. */
void sim_random_hex(char *out, size_t n);
/* `n` random base64url characters plus a NUL. */
void sim_random_b64url(char *out, size_t n);
/* mbedTLS-shaped random callback: the kernel's generator. */
int sim_rng(void *unused, unsigned char *out, size_t n);
int64_t sim_now_ms(void);         /* Unix time */
uint64_t sim_mono_ms(void);       /* monotonic */
/* RFC 2822 date as Twilio writes it: "Thu, 24 Aug 2023 05:01:45 +0000". */
void sim_rfc2822(char out[40], int64_t unix_s);
uint64_t sim_fnv1a(uint64_t h, const void *p, size_t n);
#define SIM_FNV_INIT 0xcbf29ce484222325ULL
/* Base64 of n bytes into out (NUL-terminated); 0 or -ENOSPC. */
int sim_base64(char *out, size_t size, const void *in, size_t n);
/* Case-insensitive prefix test. */
int sim_prefix_ci(const char *s, size_t len, const char *prefix);
const char *sim_reason(int status);

/* ---- requests and answers ------------------------------------------- */

typedef struct sim_req {
  const char *method;      /* "POST" */
  const char *path;        /* without the query string */
  const char *query;       /* after '?'; "" when none */
  const char *body;        /* not NUL-terminated; NULL when unread */
  size_t body_len;
  uint64_t content_length; /* declared; the body is unread when too large */
  int too_large;           /* content_length over the provider's max_body */
  const void *msg_;        /* for sim_req_header() */
} sim_req;

/* A request header's value (not NUL-terminated) and its length, or NULL. */
const char *sim_req_header(const sim_req *rq, const char *name, size_t *len);

typedef struct sim_resp {
  int status;
  const char *content_type;   /* static string; NULL: no body type */
  sim_buf headers;            /* extra "Name: value\r\n" lines */
  sim_buf body;
  char message_id[72];        /* set by sim_accept() */
  void *upgrade_;             /* set by sim_ws_accept() */
} sim_resp;

void sim_resp_reset(sim_resp *rs);

/* ---- what a provider tells the simulator ---------------------------- */

/* One accepted message, for counts and duplicate detection. */
typedef struct sim_accept_info {
  const char *message_id;
  const char *const *keys;  /* recipients and references */
  size_t nkeys;
  uint64_t identity;        /* equal for a repeat of the same message */
} sim_accept_info;

void sim_accept(vc_sim *sim, const char *provider, sim_resp *rs,
                const sim_accept_info *a);

/* A copy of a provider's webhook settings. */
typedef struct sim_wh_opts {
  int off;
  char url[1024];
  unsigned delay_ms, gap_ms, duplicates;
  int reorder;
  char final_status[32];
} sim_wh_opts;

void sim_webhook_opts(vc_sim *sim, const char *provider, sim_wh_opts *out);

/* One webhook POST. Owned strings, freed by the simulator. */
typedef struct sim_post {
  char *url;
  char *content_type;
  char *headers;            /* "Name: value\n" lines; may be NULL */
  char *body;
  size_t body_len;
  unsigned wait_ms;         /* extra wait before this post (a call's life) */
  int no_dup;               /* never duplicated (a TwiML fetch) */
  char *tag;                /* the provider's, for prepare/response; owned */
} sim_post;

/*
 * Queue a message's callbacks in the order given (the provider applies
 * `reorder` itself); the simulator applies delay, gap and duplicates.
 * Takes the posts' strings in every case.
 */
void sim_webhook_schedule(vc_sim *sim, const char *provider,
                          sim_post *posts, size_t n,
                          const sim_wh_opts *o);

/* Drop a provider's queued jobs whose next post's tag starts with
 * `tag_prefix` (a call that ended early). */
void sim_webhook_cancel(vc_sim *sim, const char *provider,
                        const char *tag_prefix);

/* Copy a setting "provider.key" into buf ("" when unset). */
void sim_setting(vc_sim *sim, const char *key, char *buf, size_t size);
/* Publish a read-only setting (at init). */
int sim_publish(vc_sim *sim, const char *key, const char *value);
/* A provider's state (from its init), for its sim.h control functions. */
void *sim_provider_state(vc_sim *sim, const char *provider);

/* ---- the provider interface ----------------------------------------- */

typedef struct sim_provider {
  const char *name;            /* "twilio": setting and API name */
  const char *prefix;          /* request paths routed here */
  uint64_t max_body;           /* larger bodies get error(413) unread */
  const char *const *defaults; /* key, value, ..., NULL */
  int  (*init)(vc_sim *sim, void **state);          /* may be NULL */
  void (*fini)(void *state);                        /* may be NULL */
  /* Answer a request (libre thread). */
  void (*handle)(vc_sim *sim, void *state, const sim_req *rq,
                 sim_resp *rs);
  /* Fill the provider's error for 413, 429 and 5xx (libre thread). */
  void (*error)(vc_sim *sim, void *state, int status,
                unsigned retry_after_s, sim_resp *rs);
  /*
   * Before each POST of a webhook, on a worker thread: add time-bound
   * headers (SendGrid signs timestamp + body). Returns a malloc'd
   * "Name: value\n" block or NULL. May be NULL.
   */
  char *(*sign)(void *state, const sim_post *post);
  /*
   * May be NULL. For providers that share a prefix (Mailgun's and
   * SendGrid's /v3/): 1 when this provider serves `path`. Providers with
   * a match function are tried before those without.
   */
  int (*match)(const char *path);
  /*
   * May be NULL. On a worker thread before each post (before sign): 0 to
   * post it, 1 to drop it unposted and uncounted (a step of a call that
   * ended meanwhile, a step nobody subscribed to). Moves the provider's
   * own state, such as a call's status, when its step comes due.
   */
  int (*prepare)(void *state, const sim_post *post);
  /*
   * May be NULL. On a worker thread after each post: the answer's status
   * (0: none) and body (at most 64 KB, NUL-terminated). A TwiML fetch.
   */
  void (*response)(void *state, const sim_post *post, long status,
                   const char *body, size_t len);
} sim_provider;

#define SIM_DECLARE(name) extern const sim_provider sim_##name;
SIM_PROVIDERS(SIM_DECLARE)
#undef SIM_DECLARE

/* ---- Twilio helpers shared by Messaging and Voice (util.c) ----------- */

typedef struct sim_kvp {
  const char *k, *v;
} sim_kvp;

/* Twilio's error JSON {code, message, more_info, status}. */
void sim_tw_error(sim_resp *rs, int status, int code, const char *msg);
/* The provider error hook: 413 (HTML), 429 (20429), 5xx (20500/20503). */
void sim_tw_fault(vc_sim *sim, void *state, int status,
                  unsigned retry_after_s, sim_resp *rs);
/* Basic auth against twilio.account_sid/auth_token and the path's
 * account; 0, or -1 with the 401 filled. */
int sim_tw_auth(vc_sim *sim, const sim_req *rq, const char *path_sid,
                sim_resp *rs);
/* E.164, optionally behind a channel prefix such as "whatsapp:". */
int sim_tw_e164(const char *s);
/* X-Twilio-Signature over url + the pairs sorted by name (sorts p). */
int sim_tw_sign(const char *token, const char *url, sim_kvp *p, size_t n,
                char out[64]);
/* A signed form post of the pairs to url (X-Twilio-Signature, User-Agent,
 * I-Twilio-Idempotency-Token). Fills *out; 0, -EIO or -ENOMEM. */
int sim_tw_form_post(sim_post *out, const char *token, const char *url,
                     sim_kvp *p, size_t n);

/* Free a post's strings. */
void sim_post_free(sim_post *p);

/* ---- voice calls shared by twilio_voice.c, exotel.c, mcube.c (voice.c) */

enum { SIM_VOICE_DOCS = 16, SIM_VOICE_MAX_CALLS = 100000 };

/* One simulated call; fields under sim_voice.mu. */
typedef struct sim_vcall {
  char id[48];
  char to[64], from[64], caller_id[64];
  char status[24];          /* the provider's word for it now */
  unsigned gen;             /* bumped when the call is ended early */
  int ended;                /* a final status was reached */
  int64_t created_ms, answered_ms, ended_ms;   /* Unix ms; 0: not yet */
  unsigned seq;             /* callbacks built so far (SequenceNumber) */
  /* Twilio */
  char account[64];
  char *cb_url;             /* StatusCallback, or NULL */
  unsigned events;          /* SIM_TWV_EV_* bits */
  char *url;                /* where its TwiML comes from, or NULL */
  int record, amd;
  char *doc[SIM_VOICE_DOCS], *doc_url[SIM_VOICE_DOCS];
  size_t ndocs;
  /* Twilio <Dial>: a child call's parent and the parent's current child;
   * on the child, its <Dial>'s action, recordingStatusCallback and
   * record flag, when it was bridged, whether it left the bridge */
  char parent[48], child[48], rec_sid[40];
  char *dial_action, *rec_cb;
  int dial_record, redirected;
  int64_t bridged_ms;
  /* Exotel / mCube: the second leg (the customer) */
  char leg2_status[24];
  char custom[160];
  /* An inbound call (inbound.c) or a leg its <Dial> rang: 1 the caller's
   * call, 2 a dialed leg */
  int inbound;
} sim_vcall;

typedef struct sim_voice_plan_entry {
  char digits[40];
  vc_sim_call_plan plan;
} sim_voice_plan_entry;

/* The first member of each voice provider's state. */
typedef struct sim_voice {
  pthread_mutex_t mu;
  vc_sim *sim;
  const char *provider;
  sim_voice_plan_entry *plans;
  size_t nplans;
  int has_default;
  vc_sim_call_plan dflt;
  sim_vcall **calls;
  size_t ncalls, capcalls;
  struct sim_inbound *inbound;  /* inbound calls' runs (inbound.c) */
} sim_voice;

int sim_voice_init(sim_voice *v, vc_sim *sim, const char *provider);
void sim_voice_fini(sim_voice *v);
/* The plan for a number, with the provider's ring/talk settings filled
 * in. Takes mu itself. */
void sim_voice_plan(sim_voice *v, const char *number, vc_sim_call_plan *out);
/* A new call appended to the table (caller holds mu); NULL when full or
 * out of memory. */
sim_vcall *sim_voice_add(sim_voice *v);
/* A call by id (caller holds mu), or NULL. */
sim_vcall *sim_voice_find(sim_voice *v, const char *id);
/*
 * Steps of a call's life for Exotel and mCube. A tag is "id gen kind
 * status" with kind "step", "answer" (marks the answer) or "final"; the
 * status word ('_' for spaces) becomes the call's status when the step
 * comes due. sim_voice_silent() makes an unposted step.
 */
int sim_voice_tag(sim_post *p, const sim_vcall *c, const char *kind,
                  const char *status);
int sim_voice_silent(sim_post *p, const sim_vcall *c, const char *kind,
                     const char *status, unsigned wait_ms);
/* The prepare hook of a provider whose state is a sim_voice. */
int sim_voice_prepare(void *state, const sim_post *post);
/* "YYYY-MM-DD HH:MM:SS" (UTC) as Exotel and mCube write times. */
void sim_voice_datetime(char out[24], int64_t unix_ms);
/* The price of an ended call once <provider>.price_delay_ms passed since
 * its end: <provider>.price_per_min per started minute of `secs`, as
 * "[-]W.FFF..." with `decimals` digits (a minus for Twilio); 0 when not
 * priced (yet, or never: an empty price_per_min). */
int sim_voice_price(vc_sim *sim, const char *provider, const sim_vcall *c,
                    long secs, int decimals, int negative, char *out,
                    size_t size);
/* An Indian or international number: + and 8-15 digits, 10 digits, 0
 * and 10 digits, or 91 and 10 digits. */
int sim_voice_number(const char *s);
/* Cap each leg's ringing at ring_s and the conversation at talk_s
 * seconds (0: no cap); a leg that would ring longer is not answered. */
void sim_voice_limits(vc_sim_call_plan *p1, vc_sim_call_plan *p2,
                      unsigned long ring_s, unsigned long talk_s);

/*
 * A two-leg click-to-call (Exotel, mCube): the agent's leg rings by its
 * plan, then, if answered, the customer's. One moment of that life, as
 * the provider's post builder sees it.
 */
typedef struct sim_voice_moment {
  int final;                   /* the call ended (else: both answered) */
  int leg;                     /* the leg that ended it: 1 agent, 2
                                  customer; 0 a completed conversation */
  vc_sim_call_outcome outcome; /* that leg's plan outcome */
  int64_t at;                  /* Unix ms */
  long leg_s[2];               /* each leg's seconds on the call */
  long talk_s;                 /* seconds both were connected */
} sim_voice_moment;

/* Fill *out with the moment's post (out->url NULL: nothing to post) and
 * name the call's status then; 0 or -ENOMEM. */
typedef int (*sim_voice_post_fn)(void *ctx, const sim_voice_moment *m,
                                 sim_post *out, const char **status);

/*
 * The steps of such a call (caller holds v.mu): "ringing" while the legs
 * ring, the builder's word once both answered and at the end. The
 * builder is asked for the answer moment only when `answer_moment`.
 * Returns the number of steps in s (at most SIM_VOICE_STEPS), 0 when
 * out of memory.
 */
enum { SIM_VOICE_STEPS = 4 };
size_t sim_voice_two_legs(sim_vcall *c, const vc_sim_call_plan *p1,
                          const vc_sim_call_plan *p2, int answer_moment,
                          sim_voice_post_fn fn, void *ctx, sim_post *s);
/* Queue a call's steps with the provider's webhook options; with `off`
 * the call still lives, its posts unposted. */
void sim_voice_schedule(vc_sim *sim, const char *provider, sim_post *s,
                        size_t n);

/* ---- inbound calls (inbound.c, twilio_inbound.c, exotel_inbound.c) --- */

/*
 * One inbound call's run: a thread that plays the provider's side of a
 * call to one of the account's numbers, in order, with blocking HTTP
 * requests to the application (the call's flow is one conversation, so
 * a thread per call keeps it a plain sequence). Fields other than the
 * copies made at creation are under the voice state's mu.
 */
typedef struct sim_icall sim_icall;
struct sim_icall {
  sim_voice *v;
  char sid[48];
  char from[64], to[64];
  char *voice_url, *status_url, *digits, *hangup_verb;
  const char *digits_next;      /* the next group of `digits` */
  unsigned hangup_count, hangup_after_ms, record_s, verbs_seen;
  unsigned pause_ms, say_ms, max_fetches, fetches;
  uint64_t start_mono;
  char token[128], base[128];   /* signing key; the simulator's URL */
  char account[64];             /* Twilio's account sid, Exotel's */
  sim_buf log;                  /* one line per thing done */
  int done, api_hangup, caller_gone;
  int leg_hangup;               /* the API hung up the dialed leg */
  char *api_url;                /* a redirect through the API, to fetch */
  void *(*fn)(void *);          /* the provider's run */
  pthread_t th;
  sim_icall *next;
};

/* The runs of one voice provider (sim_voice.inbound). */
typedef struct sim_inbound {
  pthread_cond_t cond;          /* with v->mu: progress, done, stop */
  sim_icall *calls;
  int stopping;
} sim_inbound;

/* A new run for `in` on the provider's voice state (not started). The
 * settings "<provider>.pause_ms", "say_ms" and "max_fetches" are read
 * now. NULL when out of memory. */
sim_icall *sim_inbound_new(sim_voice *v, const vc_sim_incoming *in);
/* Free a run that was not started. */
void sim_inbound_discard(sim_icall *t);
/* Start it on a thread of its own; 0 or -ENOMEM (then it is freed). */
int sim_inbound_start(sim_icall *t);
/* The run, by sid (caller holds v->mu), or NULL. */
sim_icall *sim_inbound_find(sim_voice *v, const char *sid);
/* Wait `ms` (interruptible): 0 when it passed; 1 when the call must stop
 * (the caller's planned hangup time, an update through the API, stop,
 * the dialed leg hung up through the API). */
int sim_inbound_wait(sim_icall *t, unsigned ms);
/* 1 when the call must stop now (as above) without waiting. */
int sim_inbound_stopped(sim_icall *t);
/* Append one line to the run's log. */
void sim_inbound_log(sim_icall *t, const char *fmt, ...)
  __attribute__((format(printf, 2, 3)));
/* The keys pressed at the next gather ("" when it times out). */
void sim_inbound_digits(sim_icall *t, char out[40]);
/* 1 when the caller hangs up at this occurrence of `verb`. */
int sim_inbound_hangs_up_at(sim_icall *t, const char *verb);
/* Interrupt the run (an API update; caller holds v->mu). */
void sim_inbound_kick(sim_icall *t);
/* The run is over: wakes vc_sim_incoming_wait(). */
void sim_inbound_finish(sim_icall *t);
/* A blocking request (GET when body is NULL): the answer's status (0 when
 * none) and body (at most 64 KB, malloc'd, NUL-terminated; may be NULL). */
long sim_inbound_http(const char *url, const char *content_type,
                      const char *headers, const char *body, size_t len,
                      char **answer);
/* Stop and join every run (the voice state's fini). */
void sim_inbound_fini(sim_voice *v);

/* Twilio: an API update of an inbound call or one of its dialed legs
 * (twilio_voice.c's update; caller holds v->mu): Status hangs up, Url
 * redirects the caller. */
void sim_twin_update(sim_voice *v, sim_vcall *c, const char *status,
                     const char *url);
/* Twilio: keep a recording so .../Recordings/{sid} serves it (caller
 * holds v->mu); sid_out gets "RE" + 32 hex. 0 or -ENOMEM. */
int sim_twv_recording_add(sim_voice *v, const sim_vcall *call, long secs,
                          char sid_out[40]);

/* ---- WebSocket connections and the loop (sim.c) ----------------------- */

/*
 * The WebSocket server side (RFC 6455) on the simulator's own HTTP
 * connections. Everything here runs on the libre thread: a provider
 * calls these from handle() and from its loop tasks.
 */
typedef struct sim_ws sim_ws;

typedef struct sim_ws_handler {
  /* A complete text (1) or binary (0) message from the client. */
  void (*recv)(void *arg, sim_ws *ws, int text, const char *data,
               size_t len);
  /* The client closed or the connection broke; `ws` is gone after
   * this. Not called for sim_ws_close(). */
  void (*closed)(void *arg, sim_ws *ws);
} sim_ws_handler;

/*
 * From handle(): check that `rq` is a valid upgrade (GET, HTTP/1.1,
 * Upgrade: websocket, Connection: Upgrade, Sec-WebSocket-Version 13, a
 * 16-byte Sec-WebSocket-Key). On success fill rs with the 101 answer
 * (offering `protocol` when the client asked for it) and return 0: once
 * the answer is sent the connection is a WebSocket (*out). Otherwise
 * return the HTTP status to refuse with (400, 426; for 426 the needed
 * headers are already in rs->headers) and leave *out NULL. If the
 * answer is then not sent, handler->closed is called.
 */
int sim_ws_accept(vc_sim *sim, const sim_req *rq, sim_resp *rs,
                  const char *protocol, const sim_ws_handler *h, void *arg,
                  sim_ws **out);
/* One text message; 0 or an errno value. */
int sim_ws_send(sim_ws *ws, const char *text, size_t len);
/* Close: with a Close frame carrying `code`, or (code 0) by dropping the
 * TCP connection without one. `ws` is gone after this. */
void sim_ws_close(sim_ws *ws, unsigned code);

/* Run fn(sim, data) on the libre thread after `ms` milliseconds; `data`
 * (n bytes) is copied. From any thread; 0 or -ENOMEM. Tasks still
 * pending at stop are dropped. */
int sim_later(vc_sim *sim, unsigned ms, void (*fn)(vc_sim *, void *),
              const void *data, size_t n);
/* Run fn(sim, arg) on the libre thread and wait for it (directly when
 * called there). 0, or -ENOMEM. */
int sim_run(vc_sim *sim, void (*fn)(vc_sim *, void *), void *arg);

/* ---- webhook worker (webhook.c) -------------------------------------- */

typedef struct sim_wq sim_wq;

int  sim_wq_start(sim_wq **out, unsigned workers, int verbose);
void sim_wq_stop(sim_wq *q);
void sim_wq_push(sim_wq *q, const sim_provider *prov, void *state,
                 sim_post *posts, size_t n, unsigned delay_ms,
                 unsigned gap_ms);
int  sim_wq_wait(sim_wq *q, int timeout_ms);
void sim_wq_cancel(sim_wq *q, const sim_provider *prov, const char *prefix);
void sim_wq_stats(sim_wq *q, vc_sim_webhook_stats *out);

#endif
