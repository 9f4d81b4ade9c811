/*
 * asterisk-ari: settings, request URLs and events (see ari.h). Pure
 * translation: no sockets, no libre. The session is in ari.c.
 */
#include "core/common.h"
#include "core/buf.h"
#include "core/codec.h"
#include "core/json.h"
#include "core/text.h"
#include "adapters/builtin.h"
#include "adapters/common.h"
#include "adapters/voip/ari.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>

#define BASE_URL_MAX 512
#define TEMPLATE_MAX 128
#define NAME_MAX_ 64
#define USER_MAX 64
#define PASSWORD_MAX 128
#define DEFAULT_APP "vyomcomm"
#define DEFAULT_AGENT_ENDPOINT "PJSIP/{number}"

#define BAD_INPUT(...) \
  vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID, __VA_ARGS__)

/* ------------------------------------------------------------------ */
/* settings                                                            */

static int name_char(int c)
{
  return vc__is_alnum(c) || c == '_' || c == '-' || c == '.';
}

/* Characters of an endpoint: technology, resource, '@' trunk, a sip:
 * URI's user and host. No spaces, quotes, commas, '&' or '?'. */
static int endpoint_char(int c)
{
  return vc__is_alnum(c) || (c != '\0' && strchr("/@:+._-;=", c) != NULL);
}

static int check_name(const char *key, const char *v)
{
  size_t n = strnlen(v, NAME_MAX_ + 1);

  if (n == 0 || n > NAME_MAX_ || !vc__all_of(v, n, name_char))
    return BAD_INPUT("config.%s must be 1..%d of A-Z a-z 0-9 _ - .", key,
                     NAME_MAX_);
  return 0;
}

static int check_template(const char *key, const char *v)
{
  size_t n = strnlen(v, TEMPLATE_MAX + 1), holes = 0;
  const char *p;

  if (n == 0 || n > TEMPLATE_MAX)
    return BAD_INPUT("config.%s must be 1..%d bytes", key, TEMPLATE_MAX);
  for (p = v; *p != '\0'; p++) {
    if (strncmp(p, "{number}", 8) == 0 || strncmp(p, "{digits}", 8) == 0) {
      holes++;
      p += 7;
    } else if (!endpoint_char((unsigned char)*p)) {
      return BAD_INPUT("config.%s has a character an endpoint may not "
                       "have (only {number} and {digits} are replaced)",
                       key);
    }
  }
  if (holes != 1)
    return BAD_INPUT("config.%s must hold {number} or {digits} once", key);
  if (strchr(v, '/') == NULL)
    return BAD_INPUT("config.%s must name a technology (PJSIP/...)", key);
  return 0;
}

/* http(s)://host[:port][/path]: printable ASCII, no user, query,
 * fragment or backslash. Plain http is allowed on any host: Asterisk's
 * ARI commonly listens so on a private network (docs/calls.md says what
 * that risks). */
static int check_base_url(const char *url, size_t *len)
{
  size_t n = strnlen(url, BASE_URL_MAX + 1), skip, host;

  if (n == 0 || n > BASE_URL_MAX)
    return BAD_INPUT("config.base_url must be 1..%d bytes", BASE_URL_MAX);
  if (strncmp(url, "https://", 8) == 0)
    skip = 8;
  else if (strncmp(url, "http://", 7) == 0)
    skip = 7;
  else
    return BAD_INPUT("config.base_url must be an http:// or https:// URL");
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)url[i];
    if (c <= 0x20 || c >= 0x7f || c == '?' || c == '#' || c == '@' ||
        c == '\\' || c == '"' || c == '%')
      return BAD_INPUT("config.base_url has a space, user, query, "
                       "fragment or character a URL may not have");
  }
  host = strcspn(url + skip, "/");
  if (host == 0 || url[skip] == ':')
    return BAD_INPUT("config.base_url has no host");
  while (n > skip + host && url[n - 1] == '/')
    n--;
  *len = n;
  return 0;
}

static int read_config(void *state, const cJSON *cfg)
{
  static const char *const known[] = {
    "base_url", "app", "agent_endpoint", "customer_endpoint",
    "caller_ids", "moh_class", "request_timeout_ms"
  };
  vc__ari_config *st = state;
  const char *base, *app, *agent, *customer, *moh;
  const cJSON *tmo;
  size_t n = 0;
  int rc;

  if ((rc = vc__adapter_check_keys(cfg, "config", known,
                                   VC_ARRAY_SIZE(known), 1)) < 0 ||
      (rc = vc__adapter_get_str(&base, cfg, "config", "base_url")) < 0 ||
      (rc = vc__adapter_get_str(&app, cfg, "config", "app")) < 0 ||
      (rc = vc__adapter_get_str(&agent, cfg, "config",
                                "agent_endpoint")) < 0 ||
      (rc = vc__adapter_get_str(&customer, cfg, "config",
                                "customer_endpoint")) < 0 ||
      (rc = vc__adapter_get_str(&moh, cfg, "config", "moh_class")) < 0)
    return rc;
  if (base == NULL)
    return BAD_INPUT("config.base_url is required (http://pbx:8088/ari)");
  if (customer == NULL)
    return BAD_INPUT("config.customer_endpoint is required "
                     "(PJSIP/{number}@trunk)");
  if (app == NULL)
    app = DEFAULT_APP;
  if (agent == NULL)
    agent = DEFAULT_AGENT_ENDPOINT;
  st->request_timeout_ms = VC__ARI_REQUEST_TIMEOUT_MS;
  if ((tmo = cJSON_GetObjectItemCaseSensitive(cfg, "request_timeout_ms")) !=
      NULL) {
    /* The range first: casting a double out of int's range is
     * undefined. */
    if (!cJSON_IsNumber(tmo) ||
        !(tmo->valuedouble >= VC__ARI_REQUEST_TIMEOUT_MIN_MS &&
          tmo->valuedouble <= VC__ARI_REQUEST_TIMEOUT_MAX_MS) ||
        tmo->valuedouble != (double)(int)tmo->valuedouble)
      return BAD_INPUT("config.request_timeout_ms must be an integer from "
                       "%d to %d", VC__ARI_REQUEST_TIMEOUT_MIN_MS,
                       VC__ARI_REQUEST_TIMEOUT_MAX_MS);
    st->request_timeout_ms = (int)tmo->valuedouble;
  }
  if ((rc = check_base_url(base, &n)) < 0 ||
      (rc = check_name("app", app)) < 0 ||
      (rc = check_template("agent_endpoint", agent)) < 0 ||
      (rc = check_template("customer_endpoint", customer)) < 0 ||
      (moh != NULL && (rc = check_name("moh_class", moh)) < 0))
    return rc;
  if ((st->base_url = vc__strndup(base, n)) == NULL ||
      (st->app = vc__strdup(app)) == NULL ||
      (st->agent_endpoint = vc__strdup(agent)) == NULL ||
      (st->customer_endpoint = vc__strdup(customer)) == NULL ||
      (moh != NULL && (st->moh_class = vc__strdup(moh)) == NULL))
    return vc_error_set_oom();
  return 0;
}

static int read_credentials(void *state, const cJSON *cred)
{
  static const char *const known[] = { "username", "password" };
  vc__ari_config *st = state;
  vc_buf pair = VC_BUF_INIT, b64 = VC_BUF_INIT;
  int rc;

  if ((rc = vc__adapter_check_keys(cred, "credentials", known,
                                   VC_ARRAY_SIZE(known), 0)) < 0 ||
      (rc = vc__adapter_read_secret(&st->username, cred, "username", 1,
                                    USER_MAX, 0)) < 0 ||
      (rc = vc__adapter_read_secret(&st->password, cred, "password", 1,
                                    PASSWORD_MAX, 1)) < 0)
    return rc;
  if (st->username == NULL || st->password == NULL)
    return BAD_INPUT("credentials.username and credentials.password are "
                     "required (an ari.conf user)");
  if ((rc = vc__buf_printf(&pair, "%s:%s", st->username, st->password)) < 0 ||
      (rc = vc__buf_puts(&b64, "Basic ")) < 0 ||
      (rc = vc__base64_encode(&b64, pair.ptr, pair.size)) < 0)
    goto out;
  st->authorization = b64.ptr;
  b64.ptr = NULL;
  b64.reserved = b64.size = 0;
out:
  vc__buf_wipe(&pair);
  vc__buf_wipe(&b64);
  return rc;
}

void vc__ari_fini(void *state)
{
  vc__ari_config *st = state;

  if (st == NULL)
    return;
  vc__free(st->base_url);
  vc__free(st->app);
  vc__free(st->agent_endpoint);
  vc__free(st->customer_endpoint);
  vc__free(st->moh_class);
  vc__adapter_free_secret(st->username);
  vc__adapter_free_secret(st->password);
  vc__adapter_free_secret(st->authorization);
  vc__wipe(st, sizeof(*st));
  vc__free(st);
}

int vc__ari_init(void **state, const char *config_json,
                 const char *credentials_json)
{
  return vc__adapter_init(state, sizeof(vc__ari_config), config_json,
                          credentials_json, read_config, read_credentials,
                          vc__ari_fini);
}

int vc__ari_endpoint(vc_buf *out, const char *tmpl, const char *number)
{
  const char *p;
  int rc;

  out->size = 0;
  if (number == NULL || number[0] == '\0' ||
      strnlen(number, 257) > 256)
    return BAD_INPUT("the number to dial is empty or too long");
  for (p = number; *p != '\0'; p++)
    if (!endpoint_char((unsigned char)*p))
      return BAD_INPUT("the number to dial has a character an endpoint "
                       "may not have");
  for (p = tmpl; *p != '\0'; p++) {
    if (strncmp(p, "{number}", 8) == 0) {
      rc = vc__buf_puts(out, number);
      p += 7;
    } else if (strncmp(p, "{digits}", 8) == 0) {
      rc = vc__buf_puts(out, number + (number[0] == '+'));
      p += 7;
    } else {
      rc = vc__buf_put(out, p, 1);
    }
    if (rc < 0)
      return rc;
  }
  return 0;
}

/* ------------------------------------------------------------------ */
/* requests                                                            */

/* Percent-encode all but RFC 3986's unreserved characters. */
static int put_enc(vc_buf *out, const char *s)
{
  static const char hex[] = "0123456789ABCDEF";
  char e[3] = { '%', 0, 0 };
  int rc = 0;

  for (; *s != '\0' && rc == 0; s++) {
    unsigned char c = (unsigned char)*s;
    if (vc__is_alnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      rc = vc__buf_put(out, s, 1);
    } else {
      e[1] = hex[c >> 4];
      e[2] = hex[c & 15];
      rc = vc__buf_put(out, e, 3);
    }
  }
  return rc;
}

static int put_param(vc_buf *out, const char *name, const char *value)
{
  int rc;

  if (value == NULL)
    return 0;
  if ((rc = vc__buf_puts(out, strchr(out->ptr, '?') ? "&" : "?")) < 0 ||
      (rc = vc__buf_puts(out, name)) < 0 || (rc = vc__buf_puts(out, "=")) < 0)
    return rc;
  return put_enc(out, value);
}

/* base + a path of literal parts and one encoded id between them. */
static int put_path(vc_buf *out, const vc__ari_config *cfg,
                    const char *head, const char *id, const char *tail)
{
  int rc;

  if ((rc = vc__buf_puts(out, cfg->base_url)) < 0 ||
      (rc = vc__buf_puts(out, head)) < 0)
    return rc;
  if (id != NULL && (rc = put_enc(out, id)) < 0)
    return rc;
  return tail != NULL ? vc__buf_puts(out, tail) : 0;
}

int vc__ari_url(vc_buf *out, const char **method, const vc__ari_config *cfg,
                int kind, const char *a, const char *b,
                const vc__ari_originate *o)
{
  char num[16];
  int rc = 0;

  out->size = 0;
  if (out->ptr != NULL)
    out->ptr[0] = '\0';
  *method = "POST";
  if (kind != VC__ARI_ORIGINATE && kind != VC__ARI_BRIDGE_NEW &&
      kind != VC__ARI_EVENTS && (a == NULL || a[0] == '\0'))
    return BAD_INPUT("an ARI request lacks its resource id");
  switch (kind) {
  case VC__ARI_ORIGINATE:
    snprintf(num, sizeof(num), "%d", o->timeout_s);
    if ((rc = put_path(out, cfg, "/channels", NULL, NULL)) < 0 ||
        (rc = put_param(out, "endpoint", o->endpoint)) < 0 ||
        (rc = put_param(out, "app", cfg->app)) < 0 ||
        (rc = put_param(out, "appArgs", o->app_args)) < 0 ||
        (rc = put_param(out, "callerId", o->caller_id)) < 0 ||
        (rc = put_param(out, "timeout", num)) < 0 ||
        (rc = put_param(out, "channelId", o->channel_id)) < 0)
      return rc;
    return put_param(out, "originator", o->originator);
  case VC__ARI_HANGUP:
    *method = "DELETE";
    if ((rc = put_path(out, cfg, "/channels/", a, NULL)) < 0)
      return rc;
    return put_param(out, "reason", "normal");
  case VC__ARI_CHANNEL_GET:
    *method = "GET";
    return put_path(out, cfg, "/channels/", a, NULL);
  case VC__ARI_BRIDGE_NEW:
    if ((rc = put_path(out, cfg, "/bridges", NULL, NULL)) < 0 ||
        (rc = put_param(out, "type", "mixing,dtmf_events")) < 0 ||
        (rc = put_param(out, "bridgeId", b)) < 0)
      return rc;
    return put_param(out, "name", b);
  case VC__ARI_BRIDGE_ADD:
  case VC__ARI_BRIDGE_REMOVE:
    if ((rc = put_path(out, cfg, "/bridges/", a,
                       kind == VC__ARI_BRIDGE_ADD ? "/addChannel"
                                                  : "/removeChannel")) < 0)
      return rc;
    return put_param(out, "channel", b);
  case VC__ARI_BRIDGE_DELETE:
    *method = "DELETE";
    return put_path(out, cfg, "/bridges/", a, NULL);
  case VC__ARI_MOH_START:
    if ((rc = put_path(out, cfg, "/channels/", a, "/moh")) < 0)
      return rc;
    return put_param(out, "mohClass", cfg->moh_class);
  case VC__ARI_MOH_STOP:
    *method = "DELETE";
    return put_path(out, cfg, "/channels/", a, "/moh");
  case VC__ARI_RECORD:
    if ((rc = put_path(out, cfg, "/bridges/", a, "/record")) < 0 ||
        (rc = put_param(out, "name", b)) < 0)
      return rc;
    return put_param(out, "format", "wav");
  case VC__ARI_RECORD_STOP:
    return put_path(out, cfg, "/recordings/live/", a, "/stop");
  case VC__ARI_RECORDING_DELETE:
    *method = "DELETE";
    return put_path(out, cfg, "/recordings/stored/", a, NULL);
  case VC__ARI_RECORDING_FILE:
    *method = "GET";
    return put_path(out, cfg, "/recordings/stored/", a, "/file");
  case VC__ARI_EVENTS:
    *method = "GET";
    if ((rc = put_path(out, cfg, "/events", NULL, NULL)) < 0)
      return rc;
    return put_param(out, "app", cfg->app);
  case VC__ARI_ANSWER:
    return put_path(out, cfg, "/channels/", a, "/answer");
  case VC__ARI_PLAYBACK_STOP:
    *method = "DELETE";
    return put_path(out, cfg, "/playbacks/", a, NULL);
  default:
    return BAD_INPUT("unknown ARI request %d", kind);
  }
}

int vc__ari_media_url(vc_buf *out, const char **method,
                      const vc__ari_config *cfg, int kind, const char *chan,
                      const char *id, const vc__ari_media *m)
{
  char num[16];
  int rc;

  out->size = 0;
  if (out->ptr != NULL)
    out->ptr[0] = '\0';
  *method = "POST";
  if (chan == NULL || chan[0] == '\0' || id == NULL || id[0] == '\0' ||
      m == NULL)
    return BAD_INPUT("an ARI request lacks its channel or id");
  if (kind == VC__ARI_PLAY) {
    if (m->media == NULL || m->media[0] == '\0')
      return BAD_INPUT("an ARI playback lacks its media");
    if ((rc = put_path(out, cfg, "/channels/", chan, "/play/")) < 0 ||
        (rc = put_enc(out, id)) < 0 ||
        (rc = put_param(out, "media", m->media)) < 0)
      return rc;
    return put_param(out, "lang", m->lang);
  }
  if (kind != VC__ARI_CHANNEL_RECORD)
    return BAD_INPUT("unknown ARI media request %d", kind);
  if ((rc = put_path(out, cfg, "/channels/", chan, "/record")) < 0 ||
      (rc = put_param(out, "name", id)) < 0 ||
      (rc = put_param(out, "format", "wav")) < 0)
    return rc;
  if (m->max_s > 0) {
    snprintf(num, sizeof(num), "%d", m->max_s);
    if ((rc = put_param(out, "maxDurationSeconds", num)) < 0)
      return rc;
  }
  if (m->silence_s > 0) {
    snprintf(num, sizeof(num), "%d", m->silence_s);
    if ((rc = put_param(out, "maxSilenceSeconds", num)) < 0)
      return rc;
  }
  if ((rc = put_param(out, "ifExists", "overwrite")) < 0 ||
      (rc = put_param(out, "beep", "true")) < 0)
    return rc;
  return put_param(out, "terminateOn",
                   m->terminate_on ? m->terminate_on : "none");
}

/* A sound's name: a path of A-Z a-z 0-9 _ - . / without "..". */
static int sound_name_ok(const char *s, size_t n)
{
  if (n == 0 || s[0] == '/' || strstr(s, "..") != NULL)
    return 0;
  for (size_t i = 0; i < n; i++)
    if (!vc__is_alnum((unsigned char)s[i]) && strchr("_-./", s[i]) == NULL)
      return 0;
  return 1;
}

int vc__ari_media_uri(char *out, size_t cap, const char *url)
{
  static const char *const as_is[] = {
    "recording:", "tone:", "digits:", "number:", "characters:"
  };
  size_t n;

  if (url == NULL || (n = strnlen(url, 1025)) == 0 || n > 1024)
    return BAD_INPUT("no media, or media longer than 1024 bytes");
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)url[i] <= 0x20 || (unsigned char)url[i] >= 0x7f)
      return BAD_INPUT("media with a space or a character a URI may not "
                       "have");
  if (strncmp(url, "sound:", 6) == 0 &&
      (strncmp(url + 6, "http://", 7) == 0 ||
       strncmp(url + 6, "https://", 8) == 0 ||
       sound_name_ok(url + 6, n - 6))) {
    if (n + 1 > cap)
      return BAD_INPUT("media too long");
    memcpy(out, url, n + 1);
    return 0;
  }
  if (strncmp(url, "http://", 7) == 0 || strncmp(url, "https://", 8) == 0) {
    /* Asterisk fetches it through its HTTP media cache. */
    if (n + 7 > cap)
      return BAD_INPUT("media too long");
    snprintf(out, cap, "sound:%s", url);
    return 0;
  }
  for (size_t i = 0; i < VC_ARRAY_SIZE(as_is); i++) {
    size_t p = strlen(as_is[i]);
    if (strncmp(url, as_is[i], p) == 0 && n > p) {
      if (n + 1 > cap)
        return BAD_INPUT("media too long");
      memcpy(out, url, n + 1);
      return 0;
    }
  }
  return BAD_INPUT("media ARI cannot play (a sound: name, a recording:, "
                   "tone:, digits: or number: URI, or an http(s) URL)");
}

/* ------------------------------------------------------------------ */
/* events                                                              */

static const struct { const char *name; int type; } EVENTS[] = {
  { "StasisStart", VC__ARI_EV_STASIS_START },
  { "StasisEnd", VC__ARI_EV_STASIS_END },
  { "ChannelStateChange", VC__ARI_EV_STATE },
  { "ChannelHangupRequest", VC__ARI_EV_HANGUP_REQUEST },
  { "ChannelDestroyed", VC__ARI_EV_DESTROYED },
  { "ChannelDtmfReceived", VC__ARI_EV_DTMF },
  { "RecordingStarted", VC__ARI_EV_REC_STARTED },
  { "RecordingFinished", VC__ARI_EV_REC_FINISHED },
  { "RecordingFailed", VC__ARI_EV_REC_FAILED },
  { "ChannelEnteredBridge", VC__ARI_EV_ENTERED_BRIDGE },
  { "ChannelLeftBridge", VC__ARI_EV_LEFT_BRIDGE },
  { "PlaybackStarted", VC__ARI_EV_PLAY_STARTED },
  { "PlaybackFinished", VC__ARI_EV_PLAY_FINISHED },
};

static int depth_ok(const cJSON *j, int depth)
{
  if (depth > VC__ARI_DEPTH_MAX)
    return 0;
  for (const cJSON *c = j->child; c != NULL; c = c->next)
    if (!depth_ok(c, depth + 1))
      return 0;
  return 1;
}

/* A printable ASCII id of 1..cap-1 bytes into out. */
static int copy_id(char *out, size_t cap, const cJSON *obj, const char *key,
                   int required, const char *what)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
  size_t n;

  out[0] = '\0';
  if (v == NULL || cJSON_IsNull(v)) {
    if (required)
      return BAD_INPUT("ARI event %s lacks '%s'", what, key);
    return 0;
  }
  if (!cJSON_IsString(v))
    return BAD_INPUT("ARI event %s: '%s' is not a string", what, key);
  n = strnlen(v->valuestring, cap);
  if ((n == 0 && required) || n >= cap)
    return BAD_INPUT("ARI event %s: '%s' is empty or longer than %zu", what,
                     key, cap - 1);
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)v->valuestring[i] < 0x20 ||
        (unsigned char)v->valuestring[i] >= 0x7f)
      return BAD_INPUT("ARI event %s: '%s' is not printable ASCII", what,
                       key);
  memcpy(out, v->valuestring, n + 1);
  return 0;
}

/* A text field of any content, cut to cap-1 bytes and made printable. */
static void copy_text(char *out, size_t cap, const cJSON *obj, const char *key)
{
  const char *s = vc__json_str(obj, key);
  size_t n = 0;

  if (s != NULL)
    for (; s[n] != '\0' && n + 1 < cap; n++)
      out[n] = (unsigned char)s[n] < 0x20 || (unsigned char)s[n] >= 0x7f
               ? '?' : s[n];
  out[n] = '\0';
}

static int int_field(const cJSON *obj, const char *key, int min, int max)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

  if (!cJSON_IsNumber(v) || v->valuedouble < min || v->valuedouble > max)
    return -1;
  return (int)v->valuedouble;
}

static int parse_channel(vc__ari_event *ev, const cJSON *root, const char *key)
{
  const cJSON *ch = cJSON_GetObjectItemCaseSensitive(root, key);
  int rc;

  if (!cJSON_IsObject(ch))
    return BAD_INPUT("ARI event %s lacks its channel", ev->name);
  if ((rc = copy_id(ev->channel_id, sizeof(ev->channel_id), ch, "id", 1,
                    ev->name)) < 0 ||
      (rc = copy_id(ev->channel_state, sizeof(ev->channel_state), ch,
                    "state", 0, ev->name)) < 0)
    return rc;
  return 0;
}

static int parse_fields(vc__ari_event *ev, const cJSON *root)
{
  const cJSON *v;
  int rc;

  switch (ev->type) {
  case VC__ARI_EV_STASIS_START:
    if ((rc = parse_channel(ev, root, "channel")) < 0)
      return rc;
    /* An inbound call's caller and the extension the dialplan sent to
     * the application (the number called). */
    v = cJSON_GetObjectItemCaseSensitive(root, "channel");
    if ((rc = copy_id(ev->exten, sizeof(ev->exten),
                      cJSON_GetObjectItemCaseSensitive(v, "dialplan"),
                      "exten", 0, ev->name)) < 0)
      return rc;
    /* A caller number that is no printable id counts as withheld. */
    if (copy_id(ev->caller_num, sizeof(ev->caller_num),
                cJSON_GetObjectItemCaseSensitive(v, "caller"), "number", 0,
                ev->name) < 0) {
      ev->caller_num[0] = '\0';
      vc_error_clear();
    }
    v = cJSON_GetObjectItemCaseSensitive(root, "args");
    if (v != NULL && !cJSON_IsArray(v))
      return BAD_INPUT("ARI event StasisStart: 'args' is not a list");
    /* Our own originates carry the call id first; others may carry
     * anything, which is only compared, never trusted. */
    if (v != NULL && cJSON_IsString(v->child)) {
      snprintf(ev->arg0, sizeof(ev->arg0), "%s", v->child->valuestring);
      for (char *p = ev->arg0; *p != '\0'; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
          *p = '?';
    }
    return 0;
  case VC__ARI_EV_STASIS_END:
  case VC__ARI_EV_STATE:
    return parse_channel(ev, root, "channel");
  case VC__ARI_EV_HANGUP_REQUEST:
  case VC__ARI_EV_DESTROYED:
    if ((rc = parse_channel(ev, root, "channel")) < 0)
      return rc;
    ev->cause = int_field(root, "cause", 0, 1000);
    if (ev->type == VC__ARI_EV_DESTROYED && ev->cause < 0)
      return BAD_INPUT("ARI event ChannelDestroyed lacks a cause");
    copy_text(ev->cause_txt, sizeof(ev->cause_txt), root, "cause_txt");
    return 0;
  case VC__ARI_EV_DTMF:
    if ((rc = parse_channel(ev, root, "channel")) < 0 ||
        (rc = copy_id(ev->digit, sizeof(ev->digit), root, "digit", 1,
                      ev->name)) < 0)
      return rc;
    if (strchr("0123456789*#ABCD", ev->digit[0]) == NULL)
      return BAD_INPUT("ARI event ChannelDtmfReceived: not a DTMF digit");
    return 0;
  case VC__ARI_EV_REC_STARTED:
  case VC__ARI_EV_REC_FINISHED:
  case VC__ARI_EV_REC_FAILED:
    v = cJSON_GetObjectItemCaseSensitive(root, "recording");
    if (!cJSON_IsObject(v))
      return BAD_INPUT("ARI event %s lacks its recording", ev->name);
    if ((rc = copy_id(ev->recording, sizeof(ev->recording), v, "name", 1,
                      ev->name)) < 0 ||
        (rc = copy_id(ev->recording_state, sizeof(ev->recording_state), v,
                      "state", 0, ev->name)) < 0)
      return rc;
    ev->recording_duration_s = int_field(v, "duration", 0, 86400 * 7);
    return 0;
  case VC__ARI_EV_PLAY_STARTED:
  case VC__ARI_EV_PLAY_FINISHED:
    v = cJSON_GetObjectItemCaseSensitive(root, "playback");
    if (!cJSON_IsObject(v))
      return BAD_INPUT("ARI event %s lacks its playback", ev->name);
    if ((rc = copy_id(ev->playback, sizeof(ev->playback), v, "id", 1,
                      ev->name)) < 0 ||
        (rc = copy_id(ev->playback_state, sizeof(ev->playback_state), v,
                      "state", 0, ev->name)) < 0)
      return rc;
    return 0;
  case VC__ARI_EV_ENTERED_BRIDGE:
  case VC__ARI_EV_LEFT_BRIDGE:
    v = cJSON_GetObjectItemCaseSensitive(root, "bridge");
    if (!cJSON_IsObject(v))
      return BAD_INPUT("ARI event %s lacks its bridge", ev->name);
    if ((rc = copy_id(ev->bridge_id, sizeof(ev->bridge_id), v, "id", 1,
                      ev->name)) < 0)
      return rc;
    /* ChannelEnteredBridge's channel is optional in the description. */
    if (cJSON_GetObjectItemCaseSensitive(root, "channel") == NULL &&
        ev->type == VC__ARI_EV_ENTERED_BRIDGE)
      return 0;
    return parse_channel(ev, root, "channel");
  default:
    return 0;
  }
}

int vc__ari_event_parse(vc__ari_event *ev, const char *text, size_t len)
{
  cJSON *root;
  const char *ts;
  int rc = 0;

  memset(ev, 0, sizeof(*ev));
  ev->cause = -1;
  ev->recording_duration_s = -1;
  if (len > VC__ARI_EVENT_MAX)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                         "ARI event of %zu bytes (at most %d)", len,
                         VC__ARI_EVENT_MAX);
  if (!vc__utf8_valid(text, len))
    return BAD_INPUT("ARI event is not UTF-8");
  if ((root = vc__cjson_parse(text, len, NULL, 0)) == NULL)
    return BAD_INPUT("ARI event is not JSON");
  if (!cJSON_IsObject(root)) {
    rc = BAD_INPUT("ARI event is not a JSON object");
    goto out;
  }
  if (!depth_ok(root, 1)) {
    rc = vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                       "ARI event nested deeper than %d", VC__ARI_DEPTH_MAX);
    goto out;
  }
  if ((rc = copy_id(ev->name, sizeof(ev->name), root, "type", 1,
                    "message")) < 0)
    goto out;
  ts = vc__json_str(root, "timestamp");
  if (ts != NULL) {
    copy_text(ev->timestamp, sizeof(ev->timestamp), root, "timestamp");
    if ((ev->at_ms = vc__ari_time(ev->timestamp)) < 0) {
      rc = BAD_INPUT("ARI event %s has a malformed timestamp", ev->name);
      goto out;
    }
  }
  for (size_t i = 0; i < VC_ARRAY_SIZE(EVENTS); i++)
    if (strcmp(ev->name, EVENTS[i].name) == 0)
      ev->type = EVENTS[i].type;
  rc = parse_fields(ev, root);
out:
  cJSON_Delete(root);
  if (rc < 0) {
    memset(ev, 0, sizeof(*ev));
    ev->cause = -1;
    ev->recording_duration_s = -1;
  }
  return rc;
}

static int digits(const char *s, int n)
{
  int v = 0;

  for (int i = 0; i < n; i++) {
    if (!vc__is_digit((unsigned char)s[i]))
      return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
  int64_t era, yoe, doy, doe;

  y -= m <= 2;
  era = (y >= 0 ? y : y - 399) / 400;
  yoe = y - era * 400;
  doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

int64_t vc__ari_time(const char *s)
{
  int y, mo, d, h, mi, sec, ms = 0, off = 0, sign;
  const char *p;

  if (s == NULL || strnlen(s, 40) < 19 || s[4] != '-' || s[7] != '-' ||
      (s[10] != 'T' && s[10] != ' ') || s[13] != ':' || s[16] != ':')
    return -1;
  y = digits(s, 4), mo = digits(s + 5, 2), d = digits(s + 8, 2);
  h = digits(s + 11, 2), mi = digits(s + 14, 2), sec = digits(s + 17, 2);
  if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 ||
      mi < 0 || mi > 59 || sec < 0 || sec > 60)
    return -1;
  p = s + 19;
  if (*p == '.') {
    int n = 0, scale = 100;
    for (p++; vc__is_digit((unsigned char)*p) && n < 9; p++, n++) {
      ms += (*p - '0') * scale;
      scale /= 10;
    }
    if (n == 0 || vc__is_digit((unsigned char)*p))
      return -1;
  }
  if (*p == 'Z' && p[1] == '\0') {
    off = 0;
  } else if ((*p == '+' || *p == '-') && p[1] != '\0') {
    int oh, om;
    sign = *p == '-' ? -1 : 1;
    p++;
    oh = digits(p, 2);
    p += 2;
    if (*p == ':')
      p++;
    om = digits(p, 2);
    if (oh < 0 || oh > 23 || om < 0 || om > 59 || p[2] != '\0')
      return -1;
    off = sign * (oh * 60 + om);
  } else if (*p != '\0') {
    return -1;
  }
  return ((days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec) -
          (int64_t)off * 60) * 1000 + ms;
}

int vc__ari_cause(int q850)
{
  switch (q850) {
  case 16: /* normal clearing */
  case 31: /* normal, unspecified */
  case 0:  /* not set: a channel we hung up */
    return VC_CAUSE_NORMAL;
  case 17: /* user busy */
    return VC_CAUSE_BUSY;
  case 18: /* no user responding */
  case 19: /* no answer from user */
    return VC_CAUSE_NO_ANSWER;
  case 21: /* call rejected */
  case 88: /* incompatible destination */
    return VC_CAUSE_REJECTED;
  case 1:  /* unallocated number */
  case 2:  /* no route to network */
  case 3:  /* no route to destination */
  case 20: /* subscriber absent */
  case 22: /* number changed */
  case 27: /* destination out of order */
  case 28: /* invalid number format */
  case 34: /* no circuit available */
  case 38: /* network out of order */
  case 41: /* temporary failure */
  case 42: /* switching equipment congestion */
    return VC_CAUSE_UNREACHABLE;
  default:
    return VC_CAUSE_UNREACHABLE;
  }
}

int vc__ari_state_update(const char *state)
{
  if (strcmp(state, "Ringing") == 0 || strcmp(state, "Ring") == 0)
    return VC_UPDATE_RINGING;
  if (strcmp(state, "Up") == 0)
    return VC_UPDATE_ANSWERED;
  return 0;
}

void vc__ari_event_id(char *out, size_t cap, const vc__ari_event *ev,
                      const char *suffix)
{
  snprintf(out, cap, "ari:%s:%s:%s%s%s",
           ev->channel_id[0] ? ev->channel_id : ev->recording, ev->name,
           ev->timestamp, suffix ? ":" : "", suffix ? suffix : "");
}

int vc__ari_event_update(vc_call_update *u, const vc__ari_event *ev,
                         const char *call_id, int leg,
                         char *event_id, size_t event_id_cap,
                         vc_buf *url, const vc__ari_config *cfg)
{
  const char *method;
  int rc;

  memset(u, 0, sizeof(*u));
  u->version = VC_CALL_UPDATE_VERSION;
  u->call_id = call_id;
  u->leg = leg;
  u->occurred_at = ev->at_ms;
  u->leg_provider_id = ev->channel_id[0] ? ev->channel_id : NULL;
  u->jitter_ms = u->packet_loss_pct = u->rtt_ms = u->mos = -1;
  /* Two keys can share a timestamp (ARI's is to the millisecond): the
   * digit keeps them apart. */
  vc__ari_event_id(event_id, event_id_cap, ev,
                   ev->type == VC__ARI_EV_DTMF ? ev->digit : NULL);
  u->event_id = event_id;
  switch (ev->type) {
  case VC__ARI_EV_STATE:
    if (vc__ari_state_update(ev->channel_state) == VC_UPDATE_RINGING)
      u->type = VC_UPDATE_RINGING;
    break;
  case VC__ARI_EV_STASIS_START:
    u->type = VC_UPDATE_ANSWERED;
    break;
  case VC__ARI_EV_DESTROYED:
    u->type = VC_UPDATE_ENDED;
    u->cause = vc__ari_cause(ev->cause);
    u->provider_code = ev->cause_txt[0] ? ev->cause_txt : NULL;
    break;
  case VC__ARI_EV_DTMF:
    u->type = VC_UPDATE_DTMF;
    u->digits = ev->digit;
    break;
  case VC__ARI_EV_REC_STARTED:
  case VC__ARI_EV_REC_FINISHED:
  case VC__ARI_EV_REC_FAILED:
    u->leg = VC_LEG_NONE;
    u->leg_provider_id = NULL;
    u->recording_id = ev->recording;
    u->recording_status = ev->type == VC__ARI_EV_REC_STARTED
                            ? VC_RECORDING_STARTED
                          : ev->type == VC__ARI_EV_REC_FAILED
                            ? VC_RECORDING_FAILED : VC_RECORDING_AVAILABLE;
    if (ev->type == VC__ARI_EV_REC_FINISHED) {
      if ((rc = vc__ari_url(url, &method, cfg, VC__ARI_RECORDING_FILE,
                            ev->recording, NULL, NULL)) < 0)
        return rc;
      u->recording_url = url->ptr;
      u->recording_duration_s = ev->recording_duration_s > 0
                                  ? ev->recording_duration_s : 0;
    }
    u->type = VC_UPDATE_RECORDING;
    break;
  default:
    break;
  }
  return 0;
}
