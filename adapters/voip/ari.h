/*
 * The "asterisk-ari" adapter's wire format, apart from its session (so
 * that unit tests and the fuzzer reach it without libre): the channel's
 * settings, the REST requests' URLs and the WebSocket events. Facts:
 * providers.md section 4 and the ARI descriptions (channels, bridges,
 * events). Internal.
 */
#ifndef VC_ADAPTERS_VOIP_ARI_H
#define VC_ADAPTERS_VOIP_ARI_H

#include <stddef.h>
#include <stdint.h>

#include "vyomcomm/buffer.h"
#include "vyomcomm/sys/adapter.h"

/* Bounds on what Asterisk sends: one event, its nesting, one field. */
#define VC__ARI_EVENT_MAX (64 * 1024)
#define VC__ARI_DEPTH_MAX 8
#define VC__ARI_ID_MAX 127

/* A channel's settings, immutable after init. */
typedef struct vc__ari_config {
  char *base_url;          /* http(s)://host[:port]/ari, no trailing '/' */
  char *app;               /* the Stasis application */
  char *agent_endpoint;    /* templates with {number} or {digits} */
  char *customer_endpoint;
  char *moh_class;         /* NULL: Asterisk's default class */
  char *username, *password;
  char *authorization;     /* "Basic <base64(user:password)>" */
  int request_timeout_ms;  /* a REST request unanswered this long fails */
} vc__ari_config;

/* config.request_timeout_ms: its default and bounds. */
#define VC__ARI_REQUEST_TIMEOUT_MS 5000
#define VC__ARI_REQUEST_TIMEOUT_MIN_MS 100
#define VC__ARI_REQUEST_TIMEOUT_MAX_MS 60000

int vc__ari_init(void **state, const char *config_json,
                 const char *credentials_json);
void vc__ari_fini(void *state);

/* `tmpl` with {number} as `number` (E.164 or a sip: URI) and {digits} as
 * the number without its '+'. VC_EINVALID when the result has a
 * character an endpoint may not have. */
int vc__ari_endpoint(vc_buf *out, const char *tmpl, const char *number);

/* The requests the session makes. */
typedef enum vc__ari_req_kind {
  VC__ARI_ORIGINATE = 1,    /* POST /channels?endpoint&app&appArgs... */
  VC__ARI_HANGUP,           /* DELETE /channels/{a} */
  VC__ARI_CHANNEL_GET,      /* GET /channels/{a} */
  VC__ARI_BRIDGE_NEW,       /* POST /bridges?type=mixing,dtmf_events */
  VC__ARI_BRIDGE_ADD,       /* POST /bridges/{a}/addChannel?channel=b */
  VC__ARI_BRIDGE_REMOVE,    /* POST /bridges/{a}/removeChannel?channel=b */
  VC__ARI_BRIDGE_DELETE,    /* DELETE /bridges/{a} */
  VC__ARI_MOH_START,        /* POST /channels/{a}/moh[?mohClass] */
  VC__ARI_MOH_STOP,         /* DELETE /channels/{a}/moh */
  VC__ARI_RECORD,           /* POST /bridges/{a}/record?name=b&format=wav */
  VC__ARI_RECORD_STOP,      /* POST /recordings/live/{a}/stop */
  VC__ARI_RECORDING_DELETE, /* DELETE /recordings/stored/{a} */
  VC__ARI_RECORDING_FILE,   /* GET /recordings/stored/{a}/file */
  VC__ARI_EVENTS,           /* GET /events?app (the WebSocket) */
  /* Inbound calls (ari_inbound.c). */
  VC__ARI_ANSWER,           /* POST /channels/{a}/answer */
  VC__ARI_PLAY,             /* POST /channels/{a}/play/{b}?media&lang */
  VC__ARI_PLAYBACK_STOP,    /* DELETE /playbacks/{a} */
  VC__ARI_CHANNEL_RECORD    /* POST /channels/{a}/record?name=b&... */
} vc__ari_req_kind;

/* An originate's parameters (strings borrowed). */
typedef struct vc__ari_originate {
  const char *endpoint;
  const char *channel_id;
  const char *app_args;
  const char *caller_id;    /* NULL: none */
  int timeout_s;            /* ring timeout */
  const char *originator;   /* NULL: none */
} vc__ari_originate;

/* The full URL of a request into `out` and its method into *method
 * (static). `a` and `b` as the kind says; `o` for ORIGINATE. Every
 * value is percent-encoded. PLAY and CHANNEL_RECORD need
 * vc__ari_media_url(). */
int vc__ari_url(vc_buf *out, const char **method, const vc__ari_config *cfg,
                int kind, const char *a, const char *b,
                const vc__ari_originate *o);

/* What PLAY and CHANNEL_RECORD take besides the channel and the id. */
typedef struct vc__ari_media {
  const char *media;        /* PLAY: "sound:..." (required) */
  const char *lang;         /* PLAY: NULL for the channel's */
  int max_s;                /* RECORD: maxDurationSeconds, 0 none */
  int silence_s;            /* RECORD: maxSilenceSeconds, 0 none */
  const char *terminate_on; /* RECORD: none, any, * or # */
} vc__ari_media;

/* The URL of a PLAY (channel `chan`, playback `id`) or CHANNEL_RECORD
 * (recording `id`, wav, a beep, overwriting one of the same name);
 * VC_EINVALID for another kind or without media. */
int vc__ari_media_url(vc_buf *out, const char **method,
                      const vc__ari_config *cfg, int kind, const char *chan,
                      const char *id, const vc__ari_media *m);

/* A script's PLAY URL (or SAY text) as an ARI media URI into out
 * (cap bytes): "sound:<name>", a "recording:", "tone:", "digits:" or
 * "number:" URI as it is, an http(s) URL as "sound:<url>". 0, or
 * VC_EINVALID for anything ARI cannot play (or too long). */
int vc__ari_media_uri(char *out, size_t cap, const char *url);

/* The events the session acts on. */
typedef enum vc__ari_event_type {
  VC__ARI_EV_OTHER = 0,     /* well-formed, of no interest */
  VC__ARI_EV_STASIS_START,
  VC__ARI_EV_STASIS_END,
  VC__ARI_EV_STATE,         /* ChannelStateChange */
  VC__ARI_EV_HANGUP_REQUEST,
  VC__ARI_EV_DESTROYED,
  VC__ARI_EV_DTMF,
  VC__ARI_EV_REC_STARTED,
  VC__ARI_EV_REC_FINISHED,
  VC__ARI_EV_REC_FAILED,
  VC__ARI_EV_ENTERED_BRIDGE,
  VC__ARI_EV_LEFT_BRIDGE,
  VC__ARI_EV_PLAY_STARTED,
  VC__ARI_EV_PLAY_FINISHED
} vc__ari_event_type;

/* One event, its strings copied (bounded) from the JSON. */
typedef struct vc__ari_event {
  int type;
  char name[40];            /* the event's "type" */
  char timestamp[40];
  int64_t at_ms;            /* the timestamp, 0 when absent */
  char channel_id[VC__ARI_ID_MAX + 1];
  char channel_state[24];
  char arg0[VC__ARI_ID_MAX + 1];   /* StasisStart's first argument */
  char bridge_id[VC__ARI_ID_MAX + 1];
  int cause;                /* Q.850, -1 when absent */
  char cause_txt[64];
  char digit[2];
  char recording[VC__ARI_ID_MAX + 1];   /* a recording's name */
  char recording_state[24];
  int recording_duration_s; /* -1 when absent */
  /* StasisStart: the caller's number and the extension dialled (an
   * inbound call's from and to), "" when absent. */
  char caller_num[64];
  char exten[80];
  char playback[VC__ARI_ID_MAX + 1];   /* Playback*: its id */
  char playback_state[24];
} vc__ari_event;

/* Parse one WebSocket message. VC_ETOOBIG past the bounds, VC_EINVALID
 * for anything else malformed (the message says what), with *ev zeroed. */
int vc__ari_event_parse(vc__ari_event *ev, const char *text, size_t len);

/* ARI's time ("2024-05-01T10:00:00.123+0530") in Unix ms, -1 when
 * malformed. */
int64_t vc__ari_time(const char *s);

/* A Q.850 cause as a vc_call_cause. */
int vc__ari_cause(int q850);

/* A channel's state as a leg's update (VC_UPDATE_RINGING, _ANSWERED), 0
 * when it says nothing. */
int vc__ari_state_update(const char *state);

/* The event's id for deduplication: channel (or recording), type and
 * timestamp. */
void vc__ari_event_id(char *out, size_t cap, const vc__ari_event *ev,
                      const char *suffix);

/* The update an event makes about `leg` of call `call_id`, whose
 * channel (or recording) is `leg_id`; `event_id` is the buffer for its
 * id. 0 with u->type set, or 0 with u->type 0 when it reports nothing.
 * The update's strings point into ev, event_id and url. */
int vc__ari_event_update(vc_call_update *u, const vc__ari_event *ev,
                         const char *call_id, int leg,
                         char *event_id, size_t event_id_cap,
                         vc_buf *url, const vc__ari_config *cfg);

/* The session adapter's vtable (ari.c). */
extern const struct vc_session_ops vc__ari_session_ops;

#endif
