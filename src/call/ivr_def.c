/*
 * The IVR menu document. See ivr_def.h and docs/calls.md ("IVR menus").
 *
 * Strict: every object admits only its own members, every value its own
 * type and range, so a typo ("retry" for "retries") is an error rather
 * than a silently ignored setting.
 */
#include "core/common.h"
#include "core/json.h"
#include "core/text.h"
#include "msg/address.h"
#include "ivr_def.h"
#include "language.h"

#include <stdarg.h>
#include <stdio.h>

#define JSON_DEPTH 8          /* menu > nodes > node > options > key >
                                 then > vars > (nothing deeper) */
#define AGENT_MAX 64
#define TEMPLATE_MAX 128
#define CHANNEL_MAX 64
#define VARS_MAX 4096
#define LANGUAGE_MAX VC__LANGUAGE_MAX

static const char DEFAULT_LANGUAGE[] = "en-US";
static const char DEFAULT_INVALID[] = "Sorry, that is not a valid choice.";
static const char DEFAULT_GOODBYE[] =
  "Sorry, we did not get a valid choice. Goodbye.";

static const char *const KIND_NAMES[] = {
  "", "transfer", "menu", "repeat", "hangup", "connect", "message",
  "queue", "voicemail"
};

const char *vc__ivr_kind_name(int kind)
{
  return kind >= 1 && kind <= VC__IVR_DO_VOICEMAIL ? KIND_NAMES[kind] : "";
}

int vc__ivr_key_index(char key)
{
  const char *p = key != '\0' ? strchr(VC__IVR_KEYS, key) : NULL;

  return p != NULL ? (int)(p - VC__IVR_KEYS) : -1;
}

/* Where a fault is, for messages: "node 'main' key '1'". */
typedef struct where {
  char text[96];
} where;

static int fail(const where *w, const char *fmt, ...)
  VC_FORMAT_PRINTF(2, 3);

static int fail(const where *w, const char *fmt, ...)
{
  char msg[256];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID, "%s%s%s",
                       w->text, w->text[0] ? ": " : "", msg);
}

/* A member name fit for a message. */
static const char *shown(char buf[68], const char *name)
{
  return vc__json_key_name(buf, name);
}

/* Every member of `obj` is one of `allowed` (NULL-terminated), once. */
static int check_members(const where *w, const cJSON *obj,
                         const char *const *allowed)
{
  char name[68];

  for (const cJSON *m = obj->child; m != NULL; m = m->next) {
    int known = 0;
    for (size_t i = 0; allowed[i] != NULL && !known; i++)
      known = strcmp(m->string, allowed[i]) == 0;
    if (!known)
      return fail(w, "unknown member '%s'", shown(name, m->string));
    for (const cJSON *o = obj->child; o != m; o = o->next)
      if (strcmp(o->string, m->string) == 0)
        return fail(w, "member '%s' appears twice", shown(name, m->string));
  }
  return 0;
}

static const cJSON *member(const cJSON *obj, const char *name)
{
  return cJSON_GetObjectItemCaseSensitive(obj, name);
}

/* A string member: NULL when absent; an error when not a string. */
static int opt_string(const char **out, const where *w, const cJSON *obj,
                      const char *name)
{
  const cJSON *v = member(obj, name);

  *out = NULL;
  if (v == NULL)
    return 0;
  if (!cJSON_IsString(v))
    return fail(w, "'%s' must be a string", name);
  *out = v->valuestring;
  return 0;
}

/* An integer member within [lo, hi], `def` when absent. */
static int opt_int(int *out, const where *w, const cJSON *obj,
                   const char *name, int lo, int hi, int def)
{
  const cJSON *v = member(obj, name);
  char range[48];

  *out = def;
  if (v == NULL)
    return 0;
  snprintf(range, sizeof(range), "%d to %d", lo, hi);
  /* The range first: casting a huge double to int is undefined. */
  if (!cJSON_IsNumber(v) || !(v->valuedouble >= lo && v->valuedouble <= hi) ||
      v->valuedouble != (double)(int)v->valuedouble)
    return fail(w, "'%s' must be a whole number from %s", name, range);
  *out = (int)v->valuedouble;
  return 0;
}

/* Spoken text: 1..VC_IVR_TEXT_MAX bytes, no control characters. */
static int check_say(const where *w, const char *field, const char *s)
{
  size_t n = strlen(s);

  if (n == 0)
    return fail(w, "'%s' is empty", field);
  if (n > VC_IVR_TEXT_MAX)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                         "%s%s'%s' is longer than %d bytes", w->text,
                         w->text[0] ? ": " : "", field, VC_IVR_TEXT_MAX);
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
      return fail(w, "'%s' has a control character", field);
  return 0;
}

/* An https URL with a host, printable ASCII without spaces. */
static int check_url(const where *w, const char *s)
{
  size_t n = strlen(s);

  if (n > VC_IVR_URL_MAX)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                         "%s%s'play' is longer than %d bytes", w->text,
                         w->text[0] ? ": " : "", VC_IVR_URL_MAX);
  if (strncmp(s, "https://", 8) != 0 || n == 8 || s[8] == '/' ||
      s[8] == '?' || s[8] == '#')
    return fail(w, "'play' must be an https URL with a host");
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f ||
        s[i] == '"' || s[i] == '<' || s[i] == '>' || s[i] == '\\')
      return fail(w, "'play' has a character not allowed in a URL");
  return 0;
}

static int check_language(const where *w, const char *s)
{
  return vc__language_ok(s) ? 0
         : fail(w, "'language' is not a language tag such as en-US");
}

/* A transfer target: E.164 or a sip:/sips: URI. */
static int check_target(const where *w, const char *s)
{
  char e164[VC__ADDR_PHONE_MAX];
  size_t n = strlen(s), at;

  if (strncmp(s, "sip:", 4) == 0 || strncmp(s, "sips:", 5) == 0) {
    at = s[3] == ':' ? 4 : 5;
    if (n == at || n > VC_CALL_ADDRESS_MAX)
      return fail(w, "'to' is not a SIP URI");
    for (size_t i = at; i < n; i++)
      if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f ||
          strchr("\"<>\\`{}|^", s[i]) != NULL)
        return fail(w, "'to' is not a SIP URI");
    return 0;
  }
  if (s[0] != '+' || vc__addr_phone(e164, s, 0) < 0 ||
      strcmp(e164, s) != 0)
    return fail(w, "'to' must be an E.164 number or a sip: URI");
  return 0;
}

/* A short reference (agent, template, channel): 1..max, no controls. */
static int check_ref(const where *w, const char *field, const char *s,
                     size_t max)
{
  size_t n = strlen(s);
  char lim[16];

  snprintf(lim, sizeof(lim), "%zu", max);
  if (n == 0 || n > max)
    return fail(w, "'%s' must be 1 to %s bytes", field, lim);
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f)
      return fail(w, "'%s' has a space or control character", field);
  return 0;
}

static int node_name_ok(const char *s)
{
  size_t n = strlen(s);

  if (n == 0 || n > VC_IVR_NODE_NAME_MAX ||
      !(vc__is_digit(s[0]) || (s[0] >= 'a' && s[0] <= 'z')))
    return 0;
  for (size_t i = 1; i < n; i++)
    if (!(vc__is_digit(s[i]) || (s[i] >= 'a' && s[i] <= 'z') ||
          s[i] == '_' || s[i] == '-'))
      return 0;
  return 1;
}

int vc__ivr_def_node(const vc__ivr_def *def, const char *name)
{
  for (size_t i = 0; name != NULL && i < def->nnodes; i++)
    if (strcmp(def->nodes[i].name, name) == 0)
      return (int)i;
  return -1;
}

/* ---- prompts and actions ---------------------------------------------- */

static const char *const PROMPT_MEMBERS[] = { "say", "play", "language",
                                              NULL };

static int parse_prompt(vc__ivr_prompt *p, const where *w, const cJSON *v,
                        const char *menu_language)
{
  const char *lang;
  int rc;

  memset(p, 0, sizeof(*p));
  if (!cJSON_IsObject(v))
    return fail(w, "a prompt must be an object with 'say' or 'play'");
  if ((rc = check_members(w, v, PROMPT_MEMBERS)) < 0 ||
      (rc = opt_string(&p->say, w, v, "say")) < 0 ||
      (rc = opt_string(&p->play, w, v, "play")) < 0 ||
      (rc = opt_string(&lang, w, v, "language")) < 0)
    return rc;
  if ((p->say == NULL) == (p->play == NULL))
    return fail(w, "a prompt needs exactly one of 'say' and 'play'");
  if (p->say != NULL && (rc = check_say(w, "say", p->say)) < 0)
    return rc;
  if (p->play != NULL && (rc = check_url(w, p->play)) < 0)
    return rc;
  if (lang != NULL && p->play != NULL)
    return fail(w, "'language' goes with 'say' only");
  if (lang != NULL && (rc = check_language(w, lang)) < 0)
    return rc;
  p->language = p->say != NULL ? (lang ? lang : menu_language) : NULL;
  return 0;
}

/* Where an action may appear decides which kinds it may have. */
typedef enum place {
  PLACE_OPTION = 0,   /* a key of a node */
  PLACE_THEN = 1,     /* after a message */
  PLACE_FALLBACK = 2, /* the menu's fallback */
  PLACE_FALLBACK_THEN = 3
} place;

static const char *const MEMBERS_TRANSFER[] = { "action", "agent", "to",
                                                "say", NULL };
static const char *const MEMBERS_MENU[] = { "action", "node", NULL };
static const char *const MEMBERS_REPEAT[] = { "action", NULL };
static const char *const MEMBERS_SAY[] = { "action", "say", NULL };
static const char *const MEMBERS_QUEUE[] = { "action", "queue", "skills",
                                             "say", NULL };
static const char *const MEMBERS_MESSAGE[] = { "action", "template", "kind",
                                               "channel", "vars", "say",
                                               "then", NULL };

static vc__ivr_act *pool_take(vc__ivr_def *def)
{
  vc__ivr_act *a;

  if (def->npool >= VC_ARRAY_SIZE(def->pool))
    return NULL;
  a = &def->pool[def->npool++];
  memset(a, 0, sizeof(*a));
  a->node_index = -1;
  return a;
}

static int parse_action(vc__ivr_def *def, vc__ivr_act *a, const where *w,
                        const cJSON *v, place at);

static int parse_vars(vc__ivr_act *a, const where *w, const cJSON *v)
{
  char name[68];
  char *text;

  if (!cJSON_IsObject(v))
    return fail(w, "'vars' must be an object");
  for (const cJSON *m = v->child; m != NULL; m = m->next)
    if (!cJSON_IsString(m) && !cJSON_IsNumber(m) && !cJSON_IsBool(m))
      return fail(w, "variable '%s' must be a string, number or boolean",
                  shown(name, m->string));
  if ((text = cJSON_PrintUnformatted(v)) == NULL)
    return vc_error_set_oom();
  if (strlen(text) > VARS_MAX) {
    cJSON_free(text);
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                         "%s: 'vars' is larger than %d bytes", w->text,
                         VARS_MAX);
  }
  a->vars_json = vc__strdup(text);
  cJSON_free(text);
  return a->vars_json != NULL ? 0 : vc_error_set_oom();
}

static int parse_message(vc__ivr_def *def, vc__ivr_act *a,
                         const where *w, const cJSON *v, place at)
{
  const char *kind;
  const cJSON *then, *vars;
  where tw;
  int rc;

  if ((rc = opt_string(&a->template_name, w, v, "template")) < 0 ||
      (rc = opt_string(&kind, w, v, "kind")) < 0 ||
      (rc = opt_string(&a->channel, w, v, "channel")) < 0)
    return rc;
  if (a->template_name == NULL)
    return fail(w, "a message needs 'template'");
  if ((rc = check_ref(w, "template", a->template_name, TEMPLATE_MAX)) < 0)
    return rc;
  if (kind == NULL)
    return fail(w, "a message needs 'kind' (sms or chat)");
  if (strcmp(kind, "sms") == 0)
    a->channel_kind = VC_CHANNEL_SMS;
  else if (strcmp(kind, "chat") == 0)
    a->channel_kind = VC_CHANNEL_CHAT;
  else
    return fail(w, "'kind' must be sms or chat");
  if (a->channel != NULL &&
      (rc = check_ref(w, "channel", a->channel, CHANNEL_MAX)) < 0)
    return rc;
  if ((vars = member(v, "vars")) != NULL &&
      (rc = parse_vars(a, w, vars)) < 0)
    return rc;
  if ((then = member(v, "then")) == NULL)
    return fail(w, "a message needs 'then' (what happens next)");
  snprintf(tw.text, sizeof(tw.text), "%s then", w->text);
  if ((a->then = pool_take(def)) == NULL)
    return fail(w, "too many actions");
  return parse_action(def, a->then, &tw, then,
                      at == PLACE_FALLBACK ? PLACE_FALLBACK_THEN
                                           : PLACE_THEN);
}

static int parse_action(vc__ivr_def *def, vc__ivr_act *a, const where *w,
                        const cJSON *v, place at)
{
  const char *const *members;
  const char *kind;
  int rc;

  if (!cJSON_IsObject(v))
    return fail(w, "an action must be an object with 'action'");
  if ((rc = opt_string(&kind, w, v, "action")) < 0)
    return rc;
  if (kind == NULL)
    return fail(w, "'action' is required");
  for (a->kind = VC__IVR_DO_VOICEMAIL; a->kind > 0; a->kind--)
    if (strcmp(kind, KIND_NAMES[a->kind]) == 0)
      break;
  if (a->kind == 0)
    return fail(w, "unknown action (transfer, menu, repeat, hangup, "
                "connect, message, queue or voicemail)");
  if (at >= PLACE_FALLBACK &&
      (a->kind == VC__IVR_DO_MENU || a->kind == VC__IVR_DO_REPEAT))
    return fail(w, "a fallback cannot be '%s': it would replay without a "
                "key", kind);
  if (at != PLACE_OPTION && at != PLACE_FALLBACK &&
      a->kind == VC__IVR_DO_MESSAGE)
    return fail(w, "'then' cannot be another message");
  switch (a->kind) {
  case VC__IVR_DO_TRANSFER: members = MEMBERS_TRANSFER; break;
  case VC__IVR_DO_MENU: members = MEMBERS_MENU; break;
  case VC__IVR_DO_REPEAT: members = MEMBERS_REPEAT; break;
  case VC__IVR_DO_MESSAGE: members = MEMBERS_MESSAGE; break;
  case VC__IVR_DO_QUEUE: members = MEMBERS_QUEUE; break;
  default: members = MEMBERS_SAY; break;
  }
  if ((rc = check_members(w, v, members)) < 0 ||
      (rc = opt_string(&a->say, w, v, "say")) < 0 ||
      (a->say != NULL && (rc = check_say(w, "say", a->say)) < 0))
    return rc;
  switch (a->kind) {
  case VC__IVR_DO_TRANSFER:
    if ((rc = opt_string(&a->agent, w, v, "agent")) < 0 ||
        (rc = opt_string(&a->to, w, v, "to")) < 0)
      return rc;
    if ((a->agent == NULL) == (a->to == NULL))
      return fail(w, "a transfer needs exactly one of 'agent' and 'to'");
    if (a->agent != NULL)
      return check_ref(w, "agent", a->agent, AGENT_MAX);
    return check_target(w, a->to);
  case VC__IVR_DO_MENU:
    if ((rc = opt_string(&a->node, w, v, "node")) < 0)
      return rc;
    if (a->node == NULL)
      return fail(w, "a menu action needs 'node'");
    return 0; /* resolved once every node is known */
  case VC__IVR_DO_MESSAGE:
    return parse_message(def, a, w, v, at);
  case VC__IVR_DO_QUEUE:
    if ((rc = opt_string(&a->queue, w, v, "queue")) < 0 ||
        (rc = opt_string(&a->skills, w, v, "skills")) < 0)
      return rc;
    if (a->queue == NULL)
      return fail(w, "a queue action needs 'queue'");
    if ((rc = check_ref(w, "queue", a->queue, AGENT_MAX)) < 0)
      return rc;
    if (a->skills != NULL && (strlen(a->skills) > 512 ||
        strspn(a->skills, "abcdefghijklmnopqrstuvwxyz0123456789_-,") !=
        strlen(a->skills)))
      return fail(w, "'skills' must be tags [a-z0-9_-] separated by ','");
    return 0;
  default:
    return 0;
  }
}

/* ---- nodes and the menu ------------------------------------------------ */

static const char *const NODE_MEMBERS[] = { "prompt", "timeout", "retries",
                                            "options", NULL };
static const char *const MENU_MEMBERS[] = { "version", "entry", "language",
                                            "nodes", "invalid", "fallback",
                                            NULL };

static int parse_node(vc__ivr_def *def, vc__ivr_node *n, const cJSON *v)
{
  const cJSON *options, *prompt;
  char key_name[68];
  where w;
  int rc;

  snprintf(w.text, sizeof(w.text), "node '%s'", n->name);
  if (!cJSON_IsObject(v))
    return fail(&w, "a node must be an object");
  if ((rc = check_members(&w, v, NODE_MEMBERS)) < 0 ||
      (rc = opt_int(&n->timeout_s, &w, v, "timeout", 1, VC_IVR_TIMEOUT_MAX,
                    5)) < 0 ||
      (rc = opt_int(&n->retries, &w, v, "retries", 0, VC_IVR_RETRIES_MAX,
                    2)) < 0)
    return rc;
  if ((prompt = member(v, "prompt")) == NULL)
    return fail(&w, "'prompt' is required");
  snprintf(w.text, sizeof(w.text), "node '%s' prompt", n->name);
  if ((rc = parse_prompt(&n->prompt, &w, prompt, def->language)) < 0)
    return rc;
  snprintf(w.text, sizeof(w.text), "node '%s'", n->name);
  options = member(v, "options");
  if (options == NULL || !cJSON_IsObject(options) || options->child == NULL)
    return fail(&w, "'options' must be an object with at least one key");
  for (const cJSON *o = options->child; o != NULL; o = o->next) {
    int k = strlen(o->string) == 1 ? vc__ivr_key_index(o->string[0]) : -1;
    if (k < 0)
      return fail(&w, "'%s' is not a key (0-9, *, #)",
                  shown(key_name, o->string));
    if (n->options[k] != NULL)
      return fail(&w, "key '%s' appears twice", o->string);
    snprintf(w.text, sizeof(w.text), "node '%s' key '%s'", n->name,
             o->string);
    if ((n->options[k] = pool_take(def)) == NULL)
      return fail(&w, "too many actions");
    if ((rc = parse_action(def, n->options[k], &w, o, PLACE_OPTION)) < 0)
      return rc;
    snprintf(w.text, sizeof(w.text), "node '%s'", n->name);
  }
  return 0;
}

/* Resolve a menu action (and a message's `then`) to its node. */
static int resolve_action(vc__ivr_def *def, vc__ivr_act *a, int self,
                          const char *node, char key)
{
  where w;

  for (; a != NULL; a = a->then) {
    if (a->kind != VC__IVR_DO_MENU)
      continue;
    snprintf(w.text, sizeof(w.text), "node '%s' key '%c'", node, key);
    if ((a->node_index = vc__ivr_def_node(def, a->node)) < 0) {
      char shown_node[68];
      return fail(&w, "no node '%s'", shown(shown_node, a->node));
    }
    if (a->node_index == self)
      return fail(&w, "goes to its own node: use 'repeat'");
  }
  return 0;
}

/* Every node reachable from the entry, none deeper than the limit. */
static int check_graph(vc__ivr_def *def)
{
  int dist[VC_IVR_NODES_MAX], queue[VC_IVR_NODES_MAX];
  size_t head = 0, tail = 0;
  where w;

  for (size_t i = 0; i < def->nnodes; i++)
    dist[i] = -1;
  dist[def->entry] = 0;
  queue[tail++] = def->entry;
  while (head < tail) {
    int from = queue[head++];
    for (int k = 0; k < VC__IVR_NKEYS; k++)
      for (const vc__ivr_act *a = def->nodes[from].options[k]; a != NULL;
           a = a->then)
        if (a->kind == VC__IVR_DO_MENU && dist[a->node_index] < 0) {
          dist[a->node_index] = dist[from] + 1;
          queue[tail++] = a->node_index;
        }
  }
  w.text[0] = '\0';
  for (size_t i = 0; i < def->nnodes; i++) {
    char depth[16];
    if (dist[i] < 0)
      return fail(&w, "node '%s' cannot be reached from the entry",
                  def->nodes[i].name);
    snprintf(depth, sizeof(depth), "%d", VC_IVR_DEPTH_MAX);
    if (dist[i] > VC_IVR_DEPTH_MAX)
      return fail(&w, "node '%s' is deeper than %s keys from the entry",
                  def->nodes[i].name, depth);
  }
  return 0;
}

void vc__ivr_def_free(vc__ivr_def *def)
{
  if (def == NULL)
    return;
  for (size_t i = 0; i < def->npool; i++)
    vc__free(def->pool[i].vars_json);
  /* The fallback is the one action outside the pool. */
  vc__free(def->fallback.vars_json);
  cJSON_Delete(def->doc);
  vc__free(def);
}

static int parse_menu(vc__ivr_def *def)
{
  const cJSON *doc = def->doc, *nodes, *v;
  const char *entry;
  where w;
  int version, rc;

  w.text[0] = '\0';
  if ((rc = check_members(&w, doc, MENU_MEMBERS)) < 0)
    return rc;
  if ((v = member(doc, "version")) == NULL)
    return fail(&w, "'version' is required (the format version, 1)");
  if ((rc = opt_int(&version, &w, doc, "version", 1, 1000000, 1)) < 0)
    return rc;
  if (version != VC_IVR_FORMAT_VERSION) {
    char got[16];
    snprintf(got, sizeof(got), "%d", version);
    return fail(&w, "format version %s is not supported (1 is)", got);
  }
  if ((rc = opt_string(&def->language, &w, doc, "language")) < 0)
    return rc;
  if (def->language == NULL)
    def->language = DEFAULT_LANGUAGE;
  else if ((rc = check_language(&w, def->language)) < 0)
    return rc;
  nodes = member(doc, "nodes");
  if (nodes == NULL || !cJSON_IsObject(nodes) || nodes->child == NULL)
    return fail(&w, "'nodes' must be an object with at least one node");
  for (const cJSON *n = nodes->child; n != NULL; n = n->next) {
    char name[68];
    if (def->nnodes >= VC_IVR_NODES_MAX) {
      char lim[16];
      snprintf(lim, sizeof(lim), "%d", VC_IVR_NODES_MAX);
      return fail(&w, "more than %s nodes", lim);
    }
    if (!node_name_ok(n->string))
      return fail(&w, "node name '%s' must match [a-z0-9][a-z0-9_-]*, at "
                  "most 32 bytes", shown(name, n->string));
    if (vc__ivr_def_node(def, n->string) >= 0)
      return fail(&w, "node '%s' is defined twice", n->string);
    def->nodes[def->nnodes++].name = n->string;
  }
  for (size_t i = 0; i < def->nnodes; i++)
    if ((rc = parse_node(def, &def->nodes[i],
                         member(nodes, def->nodes[i].name))) < 0)
      return rc;
  if ((rc = opt_string(&entry, &w, doc, "entry")) < 0)
    return rc;
  if (entry == NULL)
    return fail(&w, "'entry' is required (the first node)");
  if ((def->entry = vc__ivr_def_node(def, entry)) < 0) {
    char name[68];
    return fail(&w, "'entry' names no node ('%s')", shown(name, entry));
  }
  for (size_t i = 0; i < def->nnodes; i++)
    for (int k = 0; k < VC__IVR_NKEYS; k++)
      if ((rc = resolve_action(def, def->nodes[i].options[k], (int)i,
                               def->nodes[i].name, VC__IVR_KEYS[k])) < 0)
        return rc;
  if ((rc = check_graph(def)) < 0)
    return rc;
  if ((v = member(doc, "invalid")) != NULL) {
    snprintf(w.text, sizeof(w.text), "invalid");
    if ((rc = parse_prompt(&def->invalid, &w, v, def->language)) < 0)
      return rc;
  } else {
    def->invalid.say = DEFAULT_INVALID;
    def->invalid.language = def->language;
  }
  if ((v = member(doc, "fallback")) != NULL) {
    snprintf(w.text, sizeof(w.text), "fallback");
    return parse_action(def, &def->fallback, &w, v, PLACE_FALLBACK);
  }
  def->fallback.kind = VC__IVR_DO_HANGUP;
  def->fallback.say = DEFAULT_GOODBYE;
  return 0;
}

int vc__ivr_def_parse(vc__ivr_def **out, const char *json)
{
  vc__ivr_def *def;
  int rc;

  *out = NULL;
  if ((def = vc__calloc(1, sizeof(*def))) == NULL)
    return vc_error_set_oom();
  def->fallback.node_index = -1;
  if ((rc = vc__json_parse(&def->doc, "menu definition", json,
                           VC_IVR_DEFINITION_MAX, JSON_DEPTH, 1)) < 0 ||
      (rc = parse_menu(def)) < 0) {
    vc__ivr_def_free(def);
    return rc;
  }
  *out = def;
  return 0;
}

/* ---- the normalized document ------------------------------------------- */

static int add_str(cJSON *obj, const char *name, const char *value)
{
  return value == NULL || cJSON_AddStringToObject(obj, name, value) != NULL
         ? 0 : -1;
}

static cJSON *print_prompt(const vc__ivr_prompt *p)
{
  cJSON *o = cJSON_CreateObject();

  if (o == NULL || add_str(o, "say", p->say) < 0 ||
      add_str(o, "play", p->play) < 0 ||
      add_str(o, "language", p->language) < 0) {
    cJSON_Delete(o);
    return NULL;
  }
  return o;
}

static cJSON *print_action(const vc__ivr_act *a)
{
  cJSON *o = cJSON_CreateObject(), *sub;

  if (o == NULL || add_str(o, "action", vc__ivr_kind_name(a->kind)) < 0 ||
      add_str(o, "agent", a->agent) < 0 || add_str(o, "to", a->to) < 0 ||
      add_str(o, "node", a->node) < 0 ||
      add_str(o, "template", a->template_name) < 0 ||
      (a->kind == VC__IVR_DO_MESSAGE &&
       add_str(o, "kind", a->channel_kind == VC_CHANNEL_SMS ? "sms"
                                                            : "chat") < 0) ||
      add_str(o, "channel", a->channel) < 0 ||
      add_str(o, "queue", a->queue) < 0 || add_str(o, "skills", a->skills) < 0)
    goto fail;
  if (a->vars_json != NULL) {
    if ((sub = vc__cjson_parse(a->vars_json, strlen(a->vars_json) + 1, NULL,
                               1)) == NULL)
      goto fail;
    cJSON_AddItemToObject(o, "vars", sub);
  }
  if (add_str(o, "say", a->say) < 0)
    goto fail;
  if (a->then != NULL) {
    if ((sub = print_action(a->then)) == NULL)
      goto fail;
    cJSON_AddItemToObject(o, "then", sub);
  }
  return o;
fail:
  cJSON_Delete(o);
  return NULL;
}

int vc__ivr_def_print(char **out, const vc__ivr_def *def)
{
  cJSON *doc = cJSON_CreateObject(), *nodes, *sub;
  char *text = NULL;
  int rc = -1;

  *out = NULL;
  if (doc == NULL ||
      cJSON_AddNumberToObject(doc, "version", VC_IVR_FORMAT_VERSION) ==
        NULL ||
      add_str(doc, "entry", def->nodes[def->entry].name) < 0 ||
      add_str(doc, "language", def->language) < 0 ||
      (nodes = cJSON_AddObjectToObject(doc, "nodes")) == NULL)
    goto out;
  for (size_t i = 0; i < def->nnodes; i++) {
    const vc__ivr_node *n = &def->nodes[i];
    cJSON *node = cJSON_CreateObject(), *opts;
    if (node == NULL)
      goto out;
    cJSON_AddItemToObject(nodes, n->name, node);
    if ((sub = print_prompt(&n->prompt)) == NULL)
      goto out;
    cJSON_AddItemToObject(node, "prompt", sub);
    if (cJSON_AddNumberToObject(node, "timeout", n->timeout_s) == NULL ||
        cJSON_AddNumberToObject(node, "retries", n->retries) == NULL ||
        (opts = cJSON_AddObjectToObject(node, "options")) == NULL)
      goto out;
    for (int k = 0; k < VC__IVR_NKEYS; k++) {
      char key[2] = { VC__IVR_KEYS[k], '\0' };
      if (n->options[k] == NULL)
        continue;
      if ((sub = print_action(n->options[k])) == NULL)
        goto out;
      cJSON_AddItemToObject(opts, key, sub);
    }
  }
  if ((sub = print_prompt(&def->invalid)) == NULL)
    goto out;
  cJSON_AddItemToObject(doc, "invalid", sub);
  if ((sub = print_action(&def->fallback)) == NULL)
    goto out;
  cJSON_AddItemToObject(doc, "fallback", sub);
  if ((text = cJSON_PrintUnformatted(doc)) == NULL)
    goto out;
  if ((*out = vc__strdup(text)) != NULL)
    rc = 0;
out:
  cJSON_free(text);
  cJSON_Delete(doc);
  return rc == 0 ? 0 : vc_error_set_oom();
}
