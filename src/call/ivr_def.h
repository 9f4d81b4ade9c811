/*
 * The IVR menu document (format version 1): a strict parser into a tree
 * of nodes and actions, and its normalized JSON. No store access here:
 * references to agents, channels and templates are checked by ivr.c.
 */
#ifndef VC_CALL_IVR_DEF_H
#define VC_CALL_IVR_DEF_H

#include "vyomcomm/ivr.h"

#include <cJSON.h>

typedef enum vc__ivr_kind {
  VC__IVR_DO_TRANSFER = 1,
  VC__IVR_DO_MENU = 2,
  VC__IVR_DO_REPEAT = 3,
  VC__IVR_DO_HANGUP = 4,
  VC__IVR_DO_CONNECT = 5,
  VC__IVR_DO_MESSAGE = 6,
  VC__IVR_DO_QUEUE = 7,      /* inbound: wait in a queue for an agent */
  VC__IVR_DO_VOICEMAIL = 8   /* inbound: leave a voicemail */
} vc__ivr_kind;

/* The keys of a node, in option order: 0-9, '*', '#'. */
#define VC__IVR_KEYS "0123456789*#"
#define VC__IVR_NKEYS 12

/* A prompt: `say` (with `language`) or `play`. */
typedef struct vc__ivr_prompt {
  const char *say;
  const char *play;
  const char *language;   /* of `say`; the menu's when not given */
} vc__ivr_prompt;

typedef struct vc__ivr_act {
  int kind;               /* a vc__ivr_kind; 0: no action */
  const char *say;        /* spoken first (hangup, connect, transfer,
                             message), or NULL */
  const char *agent;      /* transfer: an agent's id or name */
  const char *to;         /* transfer: E.164 or sip: URI */
  const char *node;       /* menu: the node */
  int node_index;
  const char *template_name;  /* message */
  int channel_kind;           /* message: VC_CHANNEL_SMS or _CHAT */
  const char *channel;        /* message: a channel (id or name), or NULL */
  char *vars_json;            /* message: variables (owned), or NULL */
  struct vc__ivr_act *then; /* message: what comes next */
  const char *queue;          /* queue: the queue (id or name) */
  const char *skills;         /* queue: tags the call requires, or NULL */
} vc__ivr_act;

typedef struct vc__ivr_node {
  const char *name;
  vc__ivr_prompt prompt;
  int timeout_s;
  int retries;
  vc__ivr_act *options[VC__IVR_NKEYS]; /* NULL: no such option */
} vc__ivr_node;

typedef struct vc__ivr_def {
  cJSON *doc;              /* the parsed input: strings point into it */
  const char *language;    /* default language of spoken text */
  int entry;               /* index of the entry node */
  vc__ivr_prompt invalid;  /* said before a replay after a wrong key */
  vc__ivr_act fallback; /* when the retries are used up */
  vc__ivr_node nodes[VC_IVR_NODES_MAX];
  size_t nnodes;
  vc__ivr_act pool[VC_IVR_NODES_MAX * VC__IVR_NKEYS * 2 + 2];
  size_t npool;
} vc__ivr_def;

/*
 * Parse and validate a menu document into *out (allocated; free it with
 * vc__ivr_def_free). Returns 0 or a code with a message naming the first
 * fault: VC_EINVALID, VC_ETOOBIG, VC_EENCODING.
 */
int vc__ivr_def_parse(vc__ivr_def **out, const char *json);
void vc__ivr_def_free(vc__ivr_def *def);

/* The normalized document, every default written out (vc__free it). */
int vc__ivr_def_print(char **out, const vc__ivr_def *def);

/* A node by name, or -1. */
int vc__ivr_def_node(const vc__ivr_def *def, const char *name);

/* The option index of a key, or -1. */
int vc__ivr_key_index(char key);

/* A static name for an action kind ("menu", "transfer", ...). */
const char *vc__ivr_kind_name(int kind);

#endif
