/*
 * Twilio Programmable Voice, click-to-call: the "twilio-voice" adapter.
 *
 * Pure translation (DESIGN 2, 6). The call is created to the agent
 * (POST .../Calls.json); when the agent answers, Twilio fetches TwiML
 * from the call's webhook URL (&vc_step=answer) and the core answers
 * with a script that dials the customer (render_script: <Dial><Number>).
 * Every callback and instruction fetch goes to the call's webhook URL
 * with a vc_step of its own, which parse_webhook reads to know what the
 * webhook is. Wire facts: providers.md sections 1 and 8.5; the patterns
 * for hold and transfer are described in docs/calls.md, "Twilio Voice".
 *
 * The state is immutable after init, so every method may run on several
 * threads at once.
 */
#include "core/common.h"
#include "core/buf.h"
#include "core/codec.h"
#include "core/json.h"
#include "core/text.h"
#include "adapters/builtin.h"
#include "adapters/common.h"
#include "adapters/twilio_common.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>

#define DEFAULT_BASE_URL "https://api.twilio.com"
#define SID_LEN VC__TWILIO_SID_LEN
#define TOKEN_LEN 32             /* an auth token: 32 hex digits */
#define BASE_URL_MAX 512
#define ADDR_MAX 256             /* VC_CALL_ADDRESS_MAX */
#define URL_MAX 2048
#define CALL_ID_MAX 64
#define TEXT_MAX 4096            /* one Say */
#define STEPS_MAX 64
#define TWIML_MAX (64 * 1024)
#define DIGITS_MAX 32
#define RING_MAX 600             /* Twilio's Timeout */
#define LIMIT_MAX 86400          /* Twilio's TimeLimit */
/* The agent's leg also rings the customer and may run an IVR before the
 * conversation: its TimeLimit leaves room for that; <Dial timeLimit>
 * bounds the conversation itself. */
#define IVR_ALLOWANCE_S 300
#define HOLD_PAUSES 240          /* 240 x 60 s: the longest call */
#define QUEUE_PREFIX "vc-"
#define TWIML_HEAD "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response>"
#define TWIML_TAIL "</Response>"

#define BAD_INPUT(...) \
  vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID, __VA_ARGS__)

typedef struct twv_state {
  char account_sid[SID_LEN + 1];
  char auth_token[TOKEN_LEN + 1];
  char *account_url;             /* {base}/2010-04-01/Accounts/{sid} */
  char *hold_url;                /* config.hold_music_url, or NULL */
} twv_state;

/* ------------------------------------------------------------------ */
/* Small checks                                                        */

static int is_e164(const char *s)
{
  size_t n = strnlen(s, 17);

  return s[0] == '+' && n >= 9 && n <= 16 && s[1] != '0' &&
         vc__all_of(s + 1, n - 1, vc__is_digit);
}

/* A sip: URI on one line: user@host, no spaces, quotes or brackets. */
static int is_sip(const char *s)
{
  size_t n = strnlen(s, ADDR_MAX + 1);

  if (n > ADDR_MAX || strncmp(s, "sip:", 4) != 0 || strchr(s + 4, '@') ==
      NULL || s[4] == '@')
    return 0;
  for (size_t i = 4; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c <= 0x20 || c >= 0x7f || c == '<' || c == '>' || c == '"' ||
        c == '\'' || c == '&')
      return 0;
  }
  return 1;
}

static int check_address(const char *field, const char *s)
{
  if (s == NULL || s[0] == '\0')
    return BAD_INPUT("%s is required", field);
  if (!is_e164(s) && !is_sip(s))
    return BAD_INPUT("%s must be an E.164 number or a sip: URI", field);
  return 0;
}

/* An absolute http(s) URL on one line, without spaces or a fragment. */
static int check_url(const char *field, const char *url)
{
  size_t n;

  if (url == NULL || url[0] == '\0')
    return BAD_INPUT("%s is required", field);
  n = strnlen(url, URL_MAX + 1);
  if (n > URL_MAX)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                         "%s is longer than %d bytes", field, URL_MAX);
  if (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0)
    return BAD_INPUT("%s must be an http(s) URL", field);
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)url[i] <= 0x20 || (unsigned char)url[i] >= 0x7f ||
        url[i] == '#')
      return BAD_INPUT("%s has a space, control character or fragment",
                       field);
  return 0;
}

/* 1..max bytes of [A-Za-z0-9_-]: ids we put in a path or queue name. */
static int is_id(const char *s, size_t max)
{
  size_t n = s ? strnlen(s, max + 1) : 0;

  if (n == 0 || n > max)
    return 0;
  for (size_t i = 0; i < n; i++)
    if (!vc__is_alnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
      return 0;
  return 1;
}

/* `url` with its vc_step parameter (if any) replaced by `step`. The core
 * gives URLs ending in its own query; ours goes last. */
static int step_url(vc_buf *out, const char *url, const char *step)
{
  const char *q = strchr(url, '?'), *p;
  int rc;

  out->size = 0;
  if (q == NULL)
    return vc__buf_printf(out, "%s?vc_step=%s", url, step);
  if ((rc = vc__buf_put(out, url, (size_t)(q - url) + 1)) < 0)
    return rc;
  for (p = q + 1; *p != '\0'; ) {
    size_t len = strcspn(p, "&");
    if (!(len >= 8 && strncmp(p, "vc_step=", 8) == 0) && len > 0) {
      if (out->ptr[out->size - 1] != '?' && (rc = vc__buf_puts(out, "&")) < 0)
        return rc;
      if ((rc = vc__buf_put(out, p, len)) < 0)
        return rc;
    }
    p += len + (p[len] == '&');
  }
  return vc__buf_printf(out, "%svc_step=%s",
                        out->ptr[out->size - 1] == '?' ? "" : "&", step);
}

/* ------------------------------------------------------------------ */
/* init / fini                                                         */

static void twv_fini(void *state)
{
  twv_state *st = state;

  if (st == NULL)
    return;
  vc__free(st->account_url);
  vc__free(st->hold_url);
  vc__wipe(st, sizeof(*st));
  vc__free(st);
}

static int read_config(twv_state *st, const cJSON *cfg)
{
  /* caller_ids is the core's (the channel's caller-id pool): it passes
   * through untouched. */
  static const char *const known[] = {
    "account_sid", "base_url", "caller_ids", "hold_music_url"
  };
  const char *sid, *base, *hold;
  vc_buf url = VC_BUF_INIT;
  size_t n = 0;
  int rc;

  if ((rc = vc__adapter_check_keys(cfg, "config", known,
                                   VC_ARRAY_SIZE(known), 1)) < 0 ||
      (rc = vc__adapter_get_str(&sid, cfg, "config", "account_sid")) < 0 ||
      (rc = vc__adapter_get_str(&base, cfg, "config", "base_url")) < 0 ||
      (rc = vc__adapter_get_str(&hold, cfg, "config",
                                "hold_music_url")) < 0)
    return rc;
  if (sid == NULL)
    return BAD_INPUT("config.account_sid is required");
  if (!vc__twilio_is_sid(sid, "AC"))
    return BAD_INPUT("config.account_sid must be 'AC' and 32 hex digits");
  if (hold != NULL && (rc = check_url("config.hold_music_url", hold)) < 0)
    return rc;
  if (base == NULL)
    base = DEFAULT_BASE_URL;
  if ((rc = vc__adapter_check_base_url(base, BASE_URL_MAX, &n)) < 0)
    return rc;
  memcpy(st->account_sid, sid, SID_LEN + 1);
  if ((rc = vc__buf_put(&url, base, n)) < 0 ||
      (rc = vc__buf_printf(&url, "/2010-04-01/Accounts/%s", sid)) < 0) {
    vc_buf_dispose(&url);
    return rc;
  }
  st->account_url = url.ptr;
  if (hold != NULL && (st->hold_url = vc__strdup(hold)) == NULL)
    return vc_error_set_oom();
  return 0;
}

static int read_credentials(twv_state *st, const cJSON *cred)
{
  static const char *const known[] = { "auth_token" };
  const char *token;
  int rc;

  if ((rc = vc__adapter_check_keys(cred, "credentials", known,
                                   VC_ARRAY_SIZE(known), 0)) < 0 ||
      (rc = vc__adapter_get_str(&token, cred, "credentials",
                                "auth_token")) < 0)
    return rc;
  if (token == NULL)
    return BAD_INPUT("credentials.auth_token is required (it also "
                     "verifies webhooks)");
  if (strnlen(token, TOKEN_LEN + 1) != TOKEN_LEN ||
      !vc__all_of(token, TOKEN_LEN, vc__is_hex))
    return BAD_INPUT("credentials.auth_token must be 32 hex digits");
  memcpy(st->auth_token, token, TOKEN_LEN + 1);
  return 0;
}

static int twv_init(void **state, const char *config_json,
                    const char *credentials_json)
{
  cJSON *cfg = NULL, *cred = NULL;
  twv_state *st;
  int rc;

  VC_ASSERT_ARG(state);
  *state = NULL;
  if ((st = vc__calloc(1, sizeof(*st))) == NULL)
    return vc_error_set_oom();
  if ((rc = vc__adapter_parse_config(&cfg, config_json, "config")) < 0 ||
      (rc = read_config(st, cfg)) < 0 ||
      (rc = vc__adapter_parse_config(&cred, credentials_json,
                                     "credentials")) < 0 ||
      (rc = read_credentials(st, cred)) < 0)
    goto out;
  *state = st;
  st = NULL;
out:
  vc__json_wipe(cred);
  cJSON_Delete(cred);
  cJSON_Delete(cfg);
  twv_fini(st);
  return rc;
}

/* ------------------------------------------------------------------ */
/* build_call / parse_call                                             */

static int auth(const twv_state *st, vc_http_out *req)
{
  int rc;

  if ((rc = vc_http_out_basic_auth(req, st->account_sid,
                                   st->auth_token)) < 0)
    return rc;
  return vc_http_out_add_header(req, "Accept", "application/json");
}

static int check_call(const vc_call_outbound *call)
{
  int rc;

  if ((rc = check_address("agent", call->agent)) < 0)
    return rc;
  if (call->customer == NULL || !is_e164(call->customer))
    return BAD_INPUT("customer must be an E.164 number");
  if (call->caller_id == NULL || !is_e164(call->caller_id))
    return BAD_INPUT("caller_id must be an E.164 number (a Twilio number "
                     "or a verified caller id)");
  if (call->webhook_url == NULL)
    return BAD_INPUT("Twilio Voice needs the context's public_base_url: "
                     "it fetches the call's instructions from it");
  if ((rc = check_url("webhook URL", call->webhook_url)) < 0)
    return rc;
  if (call->ring_timeout_s < 0 || call->ring_timeout_s > RING_MAX)
    return BAD_INPUT("ring timeout must be 0 to %d seconds", RING_MAX);
  if (call->time_limit_s < 0 || call->time_limit_s > VC_CALL_TIME_LIMIT_MAX)
    return BAD_INPUT("time limit must be 0 to %d seconds",
                     VC_CALL_TIME_LIMIT_MAX);
  return 0;
}

static int twv_build_call(void *state, const vc_call_outbound *call,
                          vc_http_out *req)
{
  static const char *const events[] = {
    "initiated", "ringing", "answered", "completed"
  };
  const twv_state *st = state;
  vc_buf url = VC_BUF_INIT, u = VC_BUF_INIT;
  char num[24];
  int rc;

  VC_ASSERT_ARG(st);
  VC_ASSERT_ARG(call);
  VC_ASSERT_ARG(req);
  VC_CHECK_VERSION(call, VC_CALL_OUTBOUND_VERSION, "vc_call_outbound");
  if ((rc = check_call(call)) < 0)
    return rc;
  if ((rc = vc__buf_printf(&url, "%s/Calls.json", st->account_url)) < 0 ||
      (rc = vc_http_out_set_target(req, "POST", url.ptr)) < 0 ||
      (rc = auth(st, req)) < 0 ||
      (rc = vc_http_out_form_add(req, "To", call->agent)) < 0 ||
      (rc = vc_http_out_form_add(req, "From", call->caller_id)) < 0 ||
      (rc = step_url(&u, call->webhook_url, "answer")) < 0 ||
      (rc = vc_http_out_form_add(req, "Url", u.ptr)) < 0 ||
      (rc = vc_http_out_form_add(req, "Method", "POST")) < 0 ||
      (rc = step_url(&u, call->webhook_url, "agent")) < 0 ||
      (rc = vc_http_out_form_add(req, "StatusCallback", u.ptr)) < 0 ||
      (rc = vc_http_out_form_add(req, "StatusCallbackMethod", "POST")) < 0)
    goto out;
  for (size_t i = 0; i < VC_ARRAY_SIZE(events); i++)
    if ((rc = vc_http_out_form_add(req, "StatusCallbackEvent",
                                   events[i])) < 0)
      goto out;
  if (call->ring_timeout_s > 0) {
    snprintf(num, sizeof(num), "%d", call->ring_timeout_s);
    if ((rc = vc_http_out_form_add(req, "Timeout", num)) < 0)
      goto out;
  }
  if (call->time_limit_s > 0) {
    long limit = (long)call->time_limit_s + call->ring_timeout_s +
                 IVR_ALLOWANCE_S;
    snprintf(num, sizeof(num), "%ld", limit > LIMIT_MAX ? LIMIT_MAX : limit);
    if ((rc = vc_http_out_form_add(req, "TimeLimit", num)) < 0)
      goto out;
  }
out:
  vc_buf_dispose(&url);
  vc_buf_dispose(&u);
  return rc;
}

/* How Twilio error codes map to outcomes; a code not listed falls back
 * to the HTTP status. */
typedef struct code_rule {
  int code;
  int outcome;
  int error;
} code_rule;

static const code_rule CODE_RULES[] = {
  /* this call is refused: another channel would refuse it as well */
  { 21201, VC_SEND_REJECTED, VC_EINVALID },   /* no To */
  { 21210, VC_SEND_REJECTED, VC_EPROVIDER },  /* caller id not verified */
  { 21211, VC_SEND_REJECTED, VC_EINVALID },   /* invalid To */
  { 21212, VC_SEND_REJECTED, VC_EINVALID },   /* invalid From */
  { 21213, VC_SEND_REJECTED, VC_EINVALID },   /* no From */
  { 21215, VC_SEND_REJECTED, VC_EPROVIDER },  /* geo permissions */
  { 21216, VC_SEND_REJECTED, VC_EPROVIDER },  /* number blocked */
  /* this channel cannot call: another one may */
  { 20003, VC_SEND_FAILOVER, VC_EAUTH },      /* authentication */
  { 20005, VC_SEND_FAILOVER, VC_EAUTH },      /* account not active */
  { 20404, VC_SEND_FAILOVER, VC_EPROVIDER },  /* account not found */
  { 21205, VC_SEND_FAILOVER, VC_EPROVIDER },  /* Url refused */
  /* transient */
  { 20429, VC_SEND_RETRY, VC_ERATELIMIT },    /* too many requests */
};

static void classify(vc_send_result *out, int status, long code, int json)
{
  if (status >= 400 && status < 500)
    for (size_t i = 0; i < VC_ARRAY_SIZE(CODE_RULES); i++)
      if (CODE_RULES[i].code == code) {
        out->outcome = CODE_RULES[i].outcome;
        out->error = CODE_RULES[i].error;
        return;
      }
  out->outcome = VC_SEND_RETRY;
  out->error = VC_EPROVIDER;
  if (status == 429) {
    out->error = VC_ERATELIMIT;
  } else if (status == 401 || status == 403) {
    out->outcome = VC_SEND_FAILOVER;
    out->error = VC_EAUTH;
  } else if (json && (status == 400 || status == 422)) {
    /* a parameter of this call was refused */
    out->outcome = VC_SEND_REJECTED;
  } else if (json && status == 404) {
    out->outcome = VC_SEND_FAILOVER;
  }
  /* 408, 5xx, an answer that is not Twilio's JSON: retry */
}

static cJSON *read_doc(const vc_http_response *res)
{
  cJSON *doc = NULL;

  if (res->body.ptr != NULL && res->body.size > 0)
    doc = vc__cjson_parse(res->body.ptr, res->body.size, NULL, 0);
  if (doc != NULL && !cJSON_IsObject(doc)) {
    cJSON_Delete(doc);
    doc = NULL;
  }
  return doc;
}

static void read_failure(vc_send_result *out, const vc_http_response *res,
                         const cJSON *doc)
{
  long code = vc__twilio_error_fields(out, doc, res->status);

  classify(out, res->status, code, doc != NULL);
  if (out->outcome == VC_SEND_RETRY)
    vc__twilio_read_retry_after(out, res);
}

static int twv_parse_call(void *state, const vc_call_outbound *call,
                          const vc_http_response *res, vc_send_result *out)
{
  cJSON *doc;
  const char *sid;

  VC_UNUSED(state);
  VC_UNUSED(call);
  VC_ASSERT_ARG(res);
  VC_ASSERT_ARG(out);
  doc = read_doc(res);
  if (res->status >= 200 && res->status < 300) {
    /* Only a call sid proves Twilio took it and lets webhooks find it. */
    sid = vc__json_str(doc, "sid");
    if (sid != NULL && vc__twilio_is_sid(sid, "CA")) {
      out->outcome = VC_SEND_ACCEPTED;
      memcpy(out->provider_id, sid, SID_LEN + 1);
    } else {
      out->outcome = VC_SEND_RETRY;
      out->error = VC_EPROVIDER;
      snprintf(out->error_message, sizeof(out->error_message),
               "Twilio answered %d without a call sid", res->status);
    }
  } else {
    read_failure(out, res, doc);
  }
  cJSON_Delete(doc);
  return 0;
}

/* ------------------------------------------------------------------ */
/* TwiML                                                               */

/* XML text or attribute value: UTF-8, no control characters XML 1.0
 * forbids, the five specials escaped. */
static int xml_text(vc_buf *out, const char *field, const char *s,
                    size_t max)
{
  size_t n = strnlen(s, max + 1), start = 0;
  int rc;

  if (n > max)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                         "%s is longer than %zu bytes", field, max);
  if (!vc__utf8_valid(s, n))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EENCODING,
                         "%s is not valid UTF-8", field);
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    const char *ent = NULL;

    if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
      return BAD_INPUT("%s has a control character", field);
    switch (c) {
    case '&': ent = "&amp;"; break;
    case '<': ent = "&lt;"; break;
    case '>': ent = "&gt;"; break;
    case '"': ent = "&quot;"; break;
    case '\'': ent = "&apos;"; break;
    default: continue;
    }
    if ((rc = vc__buf_put(out, s + start, i - start)) < 0 ||
        (rc = vc__buf_puts(out, ent)) < 0)
      return rc;
    start = i + 1;
  }
  return vc__buf_put(out, s + start, n - start);
}

static int attr(vc_buf *out, const char *name, const char *value,
                size_t max)
{
  int rc;

  if ((rc = vc__buf_printf(out, " %s=\"", name)) < 0 ||
      (rc = xml_text(out, name, value, max)) < 0)
    return rc;
  return vc__buf_puts(out, "\"");
}

static int attr_url(vc_buf *out, const char *name, const char *url)
{
  int rc;

  if ((rc = check_url(name, url)) < 0)
    return rc;
  return attr(out, name, url, URL_MAX);
}

static int attr_int(vc_buf *out, const char *name, long v, long lo,
                    long hi)
{
  if (v < lo || v > hi)
    return BAD_INPUT("%s must be %ld to %ld", name, lo, hi);
  return vc__buf_printf(out, " %s=\"%ld\"", name, v);
}

/* Say or Play, repeated `loop` times (0 and 1: once; Twilio's loop="0"
 * would repeat forever). */
static int say_or_play(vc_buf *out, const vc_call_step *s, int say)
{
  int rc;

  if ((rc = vc__buf_puts(out, say ? "<Say" : "<Play")) < 0)
    return rc;
  if (say && s->language != NULL &&
      (rc = vc__check_token("say language", s->language, 16, "a-zA-Z",
                            "a-zA-Z0-9-")) < 0)
    return rc;
  if (say && s->language != NULL &&
      (rc = attr(out, "language", s->language, 16)) < 0)
    return rc;
  if (s->loop > 1 && (rc = attr_int(out, "loop", (long)s->loop, 2,
                                    1000)) < 0)
    return rc;
  if ((rc = vc__buf_puts(out, ">")) < 0)
    return rc;
  if (say) {
    if (s->text == NULL || s->text[0] == '\0')
      return BAD_INPUT("a SAY step needs text");
    rc = xml_text(out, "say text", s->text, TEXT_MAX);
  } else {
    if ((rc = check_url("play URL", s->url)) == 0)
      rc = xml_text(out, "play URL", s->url, URL_MAX);
  }
  if (rc < 0)
    return rc;
  return vc__buf_puts(out, say ? "</Say>" : "</Play>");
}

static int render_gather(vc_buf *out, const vc_call_step *s)
{
  const char *k = s->finish_on_key;
  int rc;

  if ((rc = vc__buf_puts(out, "<Gather input=\"dtmf\"")) < 0)
    return rc;
  if (s->num_digits > 0 &&
      (rc = attr_int(out, "numDigits", (long)s->num_digits, 1,
                     DIGITS_MAX)) < 0)
    return rc;
  if (s->timeout_s > 0 &&
      (rc = attr_int(out, "timeout", s->timeout_s, 1, 600)) < 0)
    return rc;
  if (k != NULL) {
    /* "" turns the finishing key off; otherwise one key. */
    if (strlen(k) > 1 || (k[0] != '\0' && strchr("0123456789*#", k[0]) ==
                          NULL))
      return BAD_INPUT("finish_on_key must be one of 0-9 * # or empty");
    if ((rc = attr(out, "finishOnKey", k, 1)) < 0)
      return rc;
  }
  if (s->action_url != NULL &&
      ((rc = attr_url(out, "action", s->action_url)) < 0 ||
       (rc = vc__buf_puts(out, " method=\"POST\"")) < 0))
    return rc;
  if ((rc = vc__buf_puts(out, ">")) < 0)
    return rc;
  /* The prompt plays while keys are collected. */
  if (s->text != NULL && (rc = say_or_play(out, s, 1)) < 0)
    return rc;
  if (s->url != NULL && (rc = say_or_play(out, s, 0)) < 0)
    return rc;
  return vc__buf_puts(out, "</Gather>");
}

static int render_dial(vc_buf *out, const vc_call_step *s)
{
  static const char events[] = "initiated ringing answered completed";
  const char *noun;
  vc_buf rec = VC_BUF_INIT;
  int rc;

  if ((rc = check_address("dial target", s->target)) < 0)
    return rc;
  noun = is_sip(s->target) ? "Sip" : "Number";
  if ((rc = vc__buf_puts(out, "<Dial")) < 0)
    return rc;
  if (s->caller_id != NULL) {
    if (!is_e164(s->caller_id))
      return BAD_INPUT("dial caller_id must be an E.164 number");
    if ((rc = attr(out, "callerId", s->caller_id, ADDR_MAX)) < 0)
      return rc;
  }
  if (s->timeout_s > 0 &&
      (rc = attr_int(out, "timeout", s->timeout_s, 1, RING_MAX)) < 0)
    return rc;
  if (s->time_limit_s > 0 &&
      (rc = attr_int(out, "timeLimit", s->time_limit_s, 1, LIMIT_MAX)) < 0)
    return rc;
  if (s->action_url != NULL &&
      ((rc = attr_url(out, "action", s->action_url)) < 0 ||
       (rc = vc__buf_puts(out, " method=\"POST\"")) < 0))
    return rc;
  if (s->record) {
    /* Recording callbacks go to the call's URL with vc_step=recording. */
    const char *base = s->action_url ? s->action_url : s->status_url;
    if ((rc = vc__buf_puts(out, " record=\"record-from-answer\"")) < 0)
      return rc;
    if (base != NULL &&
        ((rc = check_url("dial action", base)) < 0 ||
         (rc = step_url(&rec, base, "recording")) < 0 ||
         (rc = attr(out, "recordingStatusCallback", rec.ptr,
                    URL_MAX + 32)) < 0 ||
         (rc = vc__buf_puts(out, " recordingStatusCallbackMethod=\"POST\" "
                            "recordingStatusCallbackEvent=\"completed "
                            "absent\"")) < 0))
      goto out;
  }
  if ((rc = vc__buf_printf(out, "><%s", noun)) < 0)
    goto out;
  if (s->status_url != NULL &&
      ((rc = attr_url(out, "statusCallback", s->status_url)) < 0 ||
       (rc = attr(out, "statusCallbackEvent", events, sizeof(events))) < 0 ||
       (rc = vc__buf_puts(out, " statusCallbackMethod=\"POST\"")) < 0))
    goto out;
  if (s->answer_url != NULL &&
      ((rc = attr_url(out, "url", s->answer_url)) < 0 ||
       (rc = vc__buf_puts(out, " method=\"POST\"")) < 0))
    goto out;
  if ((rc = vc__buf_puts(out, ">")) < 0 ||
      (rc = xml_text(out, "dial target", s->target, ADDR_MAX)) < 0)
    goto out;
  rc = vc__buf_printf(out, "</%s></Dial>", noun);
out:
  vc_buf_dispose(&rec);
  return rc;
}

/* A voicemail: <Record> after a beep; the recording's status goes to
 * the action URL with vc_step=recording, as a <Dial>'s does. */
static int render_record(vc_buf *out, const vc_call_step *s)
{
  const char *k = s->finish_on_key;
  vc_buf rec = VC_BUF_INIT;
  int rc;

  if ((rc = vc__buf_puts(out, "<Record playBeep=\"true\"")) < 0)
    return rc;
  if (s->time_limit_s > 0 &&
      (rc = attr_int(out, "maxLength", s->time_limit_s, 1, 14400)) < 0)
    return rc;
  if (s->timeout_s > 0 &&
      (rc = attr_int(out, "timeout", s->timeout_s, 1, 600)) < 0)
    return rc;
  if (k != NULL) {
    if (strlen(k) > 1 || (k[0] != '\0' && strchr("0123456789*#", k[0]) ==
                          NULL))
      return BAD_INPUT("finish_on_key must be one of 0-9 * # or empty");
    if ((rc = attr(out, "finishOnKey", k, 1)) < 0)
      return rc;
  }
  if (s->action_url != NULL) {
    if ((rc = attr_url(out, "action", s->action_url)) < 0 ||
        (rc = vc__buf_puts(out, " method=\"POST\"")) < 0 ||
        (rc = step_url(&rec, s->action_url, "recording")) < 0 ||
        (rc = attr(out, "recordingStatusCallback", rec.ptr,
                   URL_MAX + 32)) < 0 ||
        (rc = vc__buf_puts(out, " recordingStatusCallbackMethod=\"POST\" "
                           "recordingStatusCallbackEvent=\"completed "
                           "absent\"")) < 0)
      goto out;
  }
  rc = vc__buf_puts(out, "/>");
out:
  vc_buf_dispose(&rec);
  return rc;
}

/* Music on hold until the call is redirected: the step's audio, else the
 * channel's, else silence in one-minute pauses (TwiML has no endless
 * pause) as long as the longest call. */
static int render_hold(const twv_state *st, vc_buf *out,
                       const vc_call_step *s)
{
  const char *url = s->url ? s->url : st ? st->hold_url : NULL;
  int rc;

  if (url != NULL) {
    if ((rc = check_url("hold music URL", url)) < 0 ||
        (rc = vc__buf_puts(out, "<Play loop=\"0\">")) < 0 ||
        (rc = xml_text(out, "hold music URL", url, URL_MAX)) < 0)
      return rc;
    return vc__buf_puts(out, "</Play>");
  }
  for (int i = 0; i < HOLD_PAUSES; i++)
    if ((rc = vc__buf_puts(out, "<Pause length=\"60\"/>")) < 0)
      return rc;
  return 0;
}

static int render_step(const twv_state *st, vc_buf *out,
                       const vc_call_step *s)
{
  int rc;

  switch (s->kind) {
  case VC_STEP_SAY:
    return say_or_play(out, s, 1);
  case VC_STEP_PLAY:
    return say_or_play(out, s, 0);
  case VC_STEP_PAUSE:
    if ((rc = vc__buf_puts(out, "<Pause")) < 0 ||
        (s->timeout_s > 0 &&
         (rc = attr_int(out, "length", s->timeout_s, 1, 600)) < 0))
      return rc;
    return vc__buf_puts(out, "/>");
  case VC_STEP_GATHER:
    return render_gather(out, s);
  case VC_STEP_DIAL:
    return render_dial(out, s);
  case VC_STEP_HANGUP:
    return vc__buf_puts(out, "<Hangup/>");
  case VC_STEP_REDIRECT:
    if ((rc = check_url("redirect URL", s->url)) < 0 ||
        (rc = vc__buf_puts(out, "<Redirect method=\"POST\">")) < 0 ||
        (rc = xml_text(out, "redirect URL", s->url, URL_MAX)) < 0)
      return rc;
    return vc__buf_puts(out, "</Redirect>");
  case VC_STEP_HOLD:
    return render_hold(st, out, s);
  case VC_STEP_RECORD:
    return render_record(out, s);
  default:
    return BAD_INPUT("unknown call step kind %d", s->kind);
  }
}

static int twv_render_script(void *state, const vc_call_script *script,
                             vc_buf *out, const char **content_type)
{
  const twv_state *st = state;
  vc_buf doc = VC_BUF_INIT;
  int rc;

  VC_ASSERT_ARG(script);
  VC_ASSERT_ARG(out);
  VC_ASSERT_ARG(content_type);
  VC_CHECK_VERSION(script, VC_CALL_SCRIPT_VERSION, "vc_call_script");
  if (script->nsteps > STEPS_MAX)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                         "a script has at most %d steps", STEPS_MAX);
  if (script->nsteps > 0 && script->steps == NULL)
    return BAD_INPUT("script steps are missing");
  if ((rc = vc__buf_puts(&doc, TWIML_HEAD)) < 0)
    goto out;
  for (size_t i = 0; i < script->nsteps; i++) {
    if ((rc = render_step(st, &doc, &script->steps[i])) < 0)
      goto out;
    if (doc.size > TWIML_MAX) {
      rc = vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                         "the TwiML is longer than %d bytes", TWIML_MAX);
      goto out;
    }
  }
  if ((rc = vc__buf_puts(&doc, TWIML_TAIL)) < 0)
    goto out;
  vc_buf_dispose(out);
  *out = doc;
  doc = (vc_buf)VC_BUF_INIT;
  *content_type = "text/xml";
out:
  vc_buf_dispose(&doc);
  return rc;
}

/* ------------------------------------------------------------------ */
/* build_control / parse_control                                       */

/* Inline TwiML for a call update (Twilio's Twiml parameter). */
static int control_twiml(const vc_call_control *c, vc_buf *tw)
{
  vc_buf u = VC_BUF_INIT;
  int rc = 0;

  if ((rc = vc__buf_puts(tw, "<Response>")) < 0)
    goto out;
  switch (c->op) {
  case VC_CALL_OP_HOLD:
    /* The customer waits in the call's own queue (Twilio's default
     * music) until the agent's leg dials that queue again. */
    rc = vc__buf_printf(tw, "<Enqueue>" QUEUE_PREFIX "%s</Enqueue>",
                        c->call_id);
    break;
  case VC_CALL_OP_UNHOLD:
    if ((rc = vc__buf_puts(tw, "<Dial")) < 0)
      goto out;
    if (c->webhook_url != NULL &&
        ((rc = step_url(&u, c->webhook_url, "dial_end")) < 0 ||
         (rc = attr(tw, "action", u.ptr, URL_MAX + 32)) < 0 ||
         (rc = vc__buf_puts(tw, " method=\"POST\"")) < 0))
      goto out;
    rc = vc__buf_printf(tw, "><Queue>" QUEUE_PREFIX "%s</Queue></Dial>",
                        c->call_id);
    break;
  case VC_CALL_OP_TRANSFER: {
    const char *noun = is_sip(c->target) ? "Sip" : "Number";
    if ((rc = vc__buf_puts(tw, "<Dial")) < 0 ||
        (c->caller_id != NULL &&
         (rc = attr(tw, "callerId", c->caller_id, ADDR_MAX)) < 0) ||
        (rc = vc__buf_printf(tw, "><%s>", noun)) < 0 ||
        (rc = xml_text(tw, "transfer target", c->target, ADDR_MAX)) < 0)
      goto out;
    rc = vc__buf_printf(tw, "</%s></Dial>", noun);
    break;
  }
  default:
    break;
  }
  if (rc == 0)
    rc = vc__buf_puts(tw, "</Response>");
out:
  vc_buf_dispose(&u);
  return rc;
}

static int check_control(const vc_call_control *c)
{
  int rc;

  if (c->op == VC_CALL_OP_RECORD_START || c->op == VC_CALL_OP_RECORD_STOP)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTSUPPORTED,
                         "twilio-voice does not start or stop recording "
                         "during a call: record the call from the start");
  if (c->op < VC_CALL_OP_HANGUP || c->op > VC_CALL_OP_FETCH_PRICE)
    return BAD_INPUT("unknown call operation %d", c->op);
  if (c->op == VC_CALL_OP_DELETE_RECORDING) {
    if (c->recording_id == NULL || !vc__twilio_is_sid(c->recording_id,
                                                      "RE"))
      return BAD_INPUT("recording id must be 'RE' and 32 hex digits");
    return 0;
  }
  if (c->provider_call_id == NULL ||
      !vc__twilio_is_sid(c->provider_call_id, "CA"))
    return BAD_INPUT("the call has no Twilio call sid");
  if (c->op == VC_CALL_OP_HANGUP || c->op == VC_CALL_OP_FETCH_PRICE)
    return 0;
  if (!is_id(c->call_id, CALL_ID_MAX))
    return BAD_INPUT("call id must be 1 to %d of [A-Za-z0-9_-]",
                     CALL_ID_MAX);
  if (c->op == VC_CALL_OP_UNHOLD) {
    if (c->webhook_url != NULL &&
        (rc = check_url("webhook URL", c->webhook_url)) < 0)
      return rc;
    return 0;
  }
  /* HOLD and TRANSFER move the customer's own leg. */
  if (c->customer_leg_id == NULL ||
      !vc__twilio_is_sid(c->customer_leg_id, "CA"))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ESTATE,
                         "the customer's leg is not connected yet");
  if (c->op == VC_CALL_OP_TRANSFER) {
    if ((rc = check_address("transfer target", c->target)) < 0)
      return rc;
    if (c->caller_id != NULL && !is_e164(c->caller_id))
      return BAD_INPUT("caller_id must be an E.164 number");
  }
  return 0;
}

static int twv_build_control(void *state, const vc_call_control *c,
                             vc_http_out *req)
{
  const twv_state *st = state;
  vc_buf url = VC_BUF_INIT, tw = VC_BUF_INIT;
  const char *sid;
  int rc;

  VC_ASSERT_ARG(st);
  VC_ASSERT_ARG(c);
  VC_ASSERT_ARG(req);
  VC_CHECK_VERSION(c, VC_CALL_CONTROL_VERSION, "vc_call_control");
  if ((rc = check_control(c)) < 0)
    return rc;
  if (c->op == VC_CALL_OP_DELETE_RECORDING) {
    if ((rc = vc__buf_printf(&url, "%s/Recordings/%s.json",
                             st->account_url, c->recording_id)) < 0 ||
        (rc = vc_http_out_set_target(req, "DELETE", url.ptr)) < 0)
      goto out;
    rc = auth(st, req);
    goto out;
  }
  if (c->op == VC_CALL_OP_FETCH_PRICE) {
    /* The Call resource: its price once Twilio has rated the call. */
    if ((rc = vc__buf_printf(&url, "%s/Calls/%s.json", st->account_url,
                             c->provider_call_id)) < 0 ||
        (rc = vc_http_out_set_target(req, "GET", url.ptr)) < 0)
      goto out;
    rc = auth(st, req);
    goto out;
  }
  sid = c->op == VC_CALL_OP_HOLD || c->op == VC_CALL_OP_TRANSFER
          ? c->customer_leg_id : c->provider_call_id;
  if ((rc = vc__buf_printf(&url, "%s/Calls/%s.json", st->account_url,
                           sid)) < 0 ||
      (rc = vc_http_out_set_target(req, "POST", url.ptr)) < 0 ||
      (rc = auth(st, req)) < 0)
    goto out;
  if (c->op == VC_CALL_OP_HANGUP) {
    rc = vc_http_out_form_add(req, "Status", "completed");
    goto out;
  }
  if ((rc = control_twiml(c, &tw)) < 0)
    goto out;
  rc = vc_http_out_form_add(req, "Twiml", tw.ptr);
out:
  vc_buf_dispose(&url);
  vc_buf_dispose(&tw);
  return rc;
}

/* Not priced yet: ask again in a minute. */
#define PRICE_RETRY_MS 60000
/* Digits before the point of a price: up to 10^9 - 1 of the currency. */
#define PRICE_WHOLE_MAX 9

static int currency_ok(const char *s)
{
  return s != NULL && strlen(s) == 3 && s[0] >= 'A' && s[0] <= 'Z' &&
         s[1] >= 'A' && s[1] <= 'Z' && s[2] >= 'A' && s[2] <= 'Z';
}

/*
 * A 2xx answer to the GET of a call: `price` is null until Twilio has
 * rated the call, then a decimal string in `price_unit`, negative for a
 * charge ("-0.01400"); zero for a call that cost nothing.
 */
static void read_price(vc_send_result *out, const vc_call_control *c,
                       const cJSON *doc)
{
  const cJSON *p = cJSON_GetObjectItemCaseSensitive(doc, "price");
  const char *sid = vc__json_str(doc, "sid");
  const char *unit = vc__json_str(doc, "price_unit");
  const char *v;
  int64_t micros;

  out->outcome = VC_SEND_RETRY;
  if (doc == NULL || (sid != NULL && strcmp(sid, c->provider_call_id))) {
    out->error = VC_EPROVIDER;
    snprintf(out->error_message, sizeof(out->error_message),
             "Twilio's answer is not the call's resource");
    return;
  }
  if (p == NULL || cJSON_IsNull(p)) {
    out->retry_after_ms = PRICE_RETRY_MS;
    snprintf(out->error_message, sizeof(out->error_message),
             "Twilio has not priced the call yet");
    return;
  }
  v = cJSON_IsString(p) ? p->valuestring : NULL;
  /* A charge is negative; zero may carry either sign; a credit for a
   * call we placed is not believed. */
  if (v == NULL || vc__adapter_parse_price(v, 1, PRICE_WHOLE_MAX,
                                           &micros) < 0 ||
      (micros != 0 && v[0] != '-') || !currency_ok(unit)) {
    out->error = VC_EPROVIDER;
    snprintf(out->error_message, sizeof(out->error_message),
             "Twilio's price of the call is unreadable");
    return;
  }
  out->outcome = VC_SEND_ACCEPTED;
  out->cost_micros = micros;
  memcpy(out->currency, unit, 4);
  memcpy(out->provider_id, c->provider_call_id, SID_LEN + 1);
}

static int twv_parse_control(void *state, const vc_call_control *c,
                             const vc_http_response *res,
                             vc_send_result *out)
{
  cJSON *doc;

  VC_UNUSED(state);
  VC_ASSERT_ARG(c);
  VC_ASSERT_ARG(res);
  VC_ASSERT_ARG(out);
  if (c->op == VC_CALL_OP_DELETE_RECORDING &&
      (res->status == 204 || res->status == 200 || res->status == 404)) {
    /* 404: already gone, which is what was asked */
    out->outcome = VC_SEND_ACCEPTED;
    if (c->recording_id != NULL)
      snprintf(out->provider_id, sizeof(out->provider_id), "%s",
               c->recording_id);
    return 0;
  }
  doc = read_doc(res);
  if (c->op == VC_CALL_OP_FETCH_PRICE && res->status >= 200 &&
      res->status < 300) {
    if (c->provider_call_id == NULL ||
        !vc__twilio_is_sid(c->provider_call_id, "CA")) {
      cJSON_Delete(doc);
      return BAD_INPUT("the call has no Twilio call sid");
    }
    read_price(out, c, doc);
  } else if (res->status >= 200 && res->status < 300) {
    const char *sid = vc__json_str(doc, "sid");
    out->outcome = VC_SEND_ACCEPTED;
    if (sid != NULL && vc__twilio_is_sid(sid, "CA"))
      memcpy(out->provider_id, sid, SID_LEN + 1);
  } else {
    read_failure(out, res, doc);
    /* The call is gone or not in a state to be changed (21220): no
     * other channel can act on it either. */
    if (out->outcome == VC_SEND_FAILOVER && out->error != VC_EAUTH) {
      out->outcome = VC_SEND_REJECTED;
      out->error = res->status == 404 ? VC_ENOTFOUND : VC_EPROVIDER;
    }
    if (strcmp(out->provider_code, "21220") == 0) {
      out->outcome = VC_SEND_REJECTED;
      out->error = VC_ESTATE;
    }
  }
  cJSON_Delete(doc);
  return 0;
}

/* ------------------------------------------------------------------ */
/* verify_webhook                                                      */

static int twv_verify_webhook(void *state, const vc_http_request *req,
                              vc_webhook_env *env)
{
  const twv_state *st = state;

  /* Twilio signs no timestamp: replays are the core's dedupe. */
  VC_ASSERT_ARG(st);
  VC_ASSERT_ARG(env);
  return vc__twilio_check_signature(st->auth_token, req,
                                    vc_webhook_env_url(env));
}

/* ------------------------------------------------------------------ */
/* parse_webhook                                                       */

static int take_num(const char **p, int digits, int *out)
{
  int v = 0;

  for (int i = 0; i < digits; i++, (*p)++) {
    if (!vc__is_digit((unsigned char)**p))
      return -1;
    v = v * 10 + (**p - '0');
  }
  *out = v;
  return 0;
}

static int64_t days_from_civil(int64_t y, int m, int d)
{
  int64_t era, yoe, doy;

  y -= m <= 2;
  era = (y >= 0 ? y : y - 399) / 400;
  yoe = y - era * 400;
  doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

/* An RFC 2822 date as Twilio writes Timestamp ("Thu, 24 Aug 2023
 * 05:01:45 +0000") in Unix ms; 0 when it is not one. */
static int64_t rfc2822_ms(const char *s)
{
  static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
  const char *p = s;
  int day, mon = -1, year, hh, mm, ss, zh, zm, sign;

  if (s == NULL)
    return 0;
  if (vc__is_alpha((unsigned char)p[0]) && p[1] && p[2] && p[3] == ',') {
    p += 4;
    if (*p == ' ')
      p++;
  }
  if (take_num(&p, vc__is_digit((unsigned char)p[1]) ? 2 : 1, &day) < 0 ||
      *p++ != ' ')
    return 0;
  for (int m = 0; m < 12; m++)
    if (strncmp(p, months + 3 * m, 3) == 0)
      mon = m + 1;
  if (mon < 0)
    return 0;
  p += 3;
  if (*p++ != ' ' || take_num(&p, 4, &year) < 0 || *p++ != ' ' ||
      take_num(&p, 2, &hh) < 0 || *p++ != ':' || take_num(&p, 2, &mm) < 0 ||
      *p++ != ':' || take_num(&p, 2, &ss) < 0 || *p++ != ' ' ||
      (*p != '+' && *p != '-'))
    return 0;
  sign = *p++ == '-' ? -1 : 1;
  if (take_num(&p, 2, &zh) < 0 || take_num(&p, 2, &zm) < 0 || *p != '\0')
    return 0;
  if (year < 1970 || year > 9999 || day < 1 || day > 31 || hh > 23 ||
      mm > 59 || ss > 60 || zh > 23 || zm > 59)
    return 0;
  return ((days_from_civil(year, mon, day) * 86400 + hh * 3600 + mm * 60 +
           ss) - sign * (zh * 3600 + zm * 60)) * 1000;
}

/* A non-negative count of seconds, -1 when absent or malformed. */
static int seconds(const char *s)
{
  size_t n = s ? strnlen(s, 8) : 0;

  if (n == 0 || n > 7 || !vc__all_of(s, n, vc__is_digit))
    return -1;
  return atoi(s);
}

/* A Twilio call status: the update it means and, when final, the cause;
 * 0 for statuses that move nothing (queued, initiated). -1: unknown. */
static int map_call_status(const char *s, int *cause)
{
  static const struct { const char *name; int type, cause; } map[] = {
    { "queued", 0, 0 },
    { "initiated", 0, 0 },
    { "ringing", VC_UPDATE_RINGING, 0 },
    { "in-progress", VC_UPDATE_ANSWERED, 0 },
    { "answered", VC_UPDATE_ENDED, VC_CAUSE_NORMAL },  /* DialCallStatus */
    { "completed", VC_UPDATE_ENDED, VC_CAUSE_NORMAL },
    { "busy", VC_UPDATE_ENDED, VC_CAUSE_BUSY },
    { "no-answer", VC_UPDATE_ENDED, VC_CAUSE_NO_ANSWER },
    { "failed", VC_UPDATE_ENDED, VC_CAUSE_UNREACHABLE },
    { "canceled", VC_UPDATE_ENDED, VC_CAUSE_CANCELED },
  };

  *cause = VC_CAUSE_NONE;
  for (size_t i = 0; i < VC_ARRAY_SIZE(map); i++)
    if (strcmp(s, map[i].name) == 0) {
      *cause = map[i].cause;
      return map[i].type;
    }
  return -1;
}

typedef struct hook {
  const vc__form *f;
  const vc_http_request *req;
  vc_event_sink *sink;
  char step[24];
  const char *call_sid, *parent_sid;
  int64_t at;
  vc_buf id;
} hook;

/* A required parameter that must be a Twilio SID of `prefix`. */
static int sid_param(const char **out, const vc__form *f, const char *name,
                     const char *prefix, int required)
{
  int rc;

  if ((rc = vc__twilio_param(out, f, name)) < 0)
    return rc;
  if (*out == NULL || (*out)[0] == '\0') {
    *out = NULL;
    return required ? BAD_INPUT("webhook has no %s", name) : 0;
  }
  if (!vc__twilio_is_sid(*out, prefix))
    return BAD_INPUT("%s is not a Twilio %s sid", name, prefix);
  return 0;
}

/* The event id of a status callback: its call and SequenceNumber (the
 * same on Twilio's retries), else Twilio's idempotency token, else the
 * call, the step and the status. */
static int status_event_id(hook *h, const char *status)
{
  const char *seq, *token;
  int rc;

  h->id.size = 0;
  if ((rc = vc__twilio_param(&seq, h->f, "SequenceNumber")) < 0)
    return rc;
  token = vc_http_request_header(h->req, "I-Twilio-Idempotency-Token");
  if (seq != NULL && seconds(seq) >= 0)
    return vc__buf_printf(&h->id, "twilio:%s:%s:%s", h->call_sid, h->step,
                          seq);
  if (token != NULL && is_id(token, 64))
    return vc__buf_printf(&h->id, "twilio:%s", token);
  return vc__buf_printf(&h->id, "twilio:%s:%s:%s", h->call_sid, h->step,
                        status);
}

static void update_init(const hook *h, vc_call_update *u, int type,
                        int leg)
{
  memset(u, 0, sizeof(*u));
  u->version = VC_CALL_UPDATE_VERSION;
  u->type = type;
  u->leg = leg;
  u->occurred_at = h->at;
  u->provider_call_id = h->parent_sid ? h->parent_sid : h->call_sid;
  u->leg_provider_id = h->parent_sid ? h->call_sid : NULL;
  u->jitter_ms = u->packet_loss_pct = u->rtt_ms = u->mos = -1;
}

/* The instruction fetch: Twilio waits for TwiML in the answer. */
static int script(hook *h, int leg)
{
  vc_call_update u;

  update_init(h, &u, VC_UPDATE_SCRIPT, leg);
  return vc_event_sink_call(h->sink, &u);
}

/* agent and customer: a leg's status callback. */
static int leg_status(hook *h, int leg)
{
  const char *status, *dur;
  vc_call_update u;
  int type, cause, rc;

  if ((rc = vc__twilio_param(&status, h->f, "CallStatus")) < 0 ||
      (rc = vc__twilio_param(&dur, h->f, "CallDuration")) < 0)
    return rc;
  if (status == NULL || (type = map_call_status(status, &cause)) < 0)
    return BAD_INPUT("status callback has no known CallStatus");
  if (type == 0)
    return 0;
  if ((rc = status_event_id(h, status)) < 0)
    return rc;
  update_init(h, &u, type, leg);
  u.event_id = h->id.ptr;
  u.cause = cause;
  u.provider_code = status;
  if (type == VC_UPDATE_ENDED && seconds(dur) > 0)
    u.duration_s = seconds(dur);
  return vc_event_sink_call(h->sink, &u);
}

/* answer: the agent answered and Twilio asks what to do. */
static int on_answer(hook *h)
{
  vc_call_update u;
  int rc;

  h->id.size = 0;
  if ((rc = vc__buf_printf(&h->id, "twilio:%s:answer", h->call_sid)) < 0)
    return rc;
  update_init(h, &u, VC_UPDATE_ANSWERED, VC_LEG_AGENT);
  u.event_id = h->id.ptr;
  u.provider_code = "in-progress";
  if ((rc = vc_event_sink_call(h->sink, &u)) < 0)
    return rc;
  return script(h, VC_LEG_AGENT);
}

/* ivr: a <Gather> posted its keys. */
static int on_ivr(hook *h)
{
  const char *digits;
  vc_buf node = VC_BUF_INIT, try = VC_BUF_INIT;
  vc_call_update u;
  int found, rc;

  if ((rc = vc__twilio_param(&digits, h->f, "Digits")) < 0)
    return rc;
  if (digits != NULL && digits[0] != '\0') {
    size_t n = strnlen(digits, DIGITS_MAX + 1);
    if (n > DIGITS_MAX || strspn(digits, "0123456789*#") != n)
      return BAD_INPUT("Digits must be at most %d of 0-9 * #", DIGITS_MAX);
    /* One keypress per menu node and try: Twilio's retry of the same
     * post is the same event. */
    if ((rc = vc__twilio_query_get(&node, &found, h->req->target,
                                   "vc_node")) < 0 ||
        (rc = vc__twilio_query_get(&try, &found, h->req->target,
                                   "vc_try")) < 0)
      goto out;
    h->id.size = 0;
    if ((node.ptr != NULL && !is_id(node.ptr, 64)) ||
        (try.ptr != NULL && !is_id(try.ptr, 16))) {
      rc = BAD_INPUT("vc_node or vc_try is malformed");
      goto out;
    }
    if ((rc = vc__buf_printf(&h->id, "twilio:%s:ivr:%s:%s:%s", h->call_sid,
                             node.ptr ? node.ptr : "",
                             try.ptr ? try.ptr : "", digits)) < 0)
      goto out;
    update_init(h, &u, VC_UPDATE_DTMF, VC_LEG_CUSTOMER);
    u.event_id = h->id.ptr;
    u.digits = digits;
    if ((rc = vc_event_sink_call(h->sink, &u)) < 0)
      goto out;
  }
  rc = script(h, VC_LEG_CUSTOMER);
out:
  vc_buf_dispose(&node);
  vc_buf_dispose(&try);
  return rc;
}

/*
 * dial_end: the <Dial> ended; the agent's leg waits for what is next.
 * A Dial that connected ends "completed" both when the customer hangs
 * up and when the customer's leg is redirected out of it (a hold, a
 * transfer), where that leg goes on. So "completed" says nothing of
 * the leg: its own status callback reports its end. A Dial that never
 * connected (busy, no-answer, ...) did end the leg.
 */
static int on_dial_end(hook *h)
{
  const char *status, *dur, *child;
  vc_call_update u;
  int type, cause, rc;

  if ((rc = vc__twilio_param(&status, h->f, "DialCallStatus")) < 0 ||
      (rc = vc__twilio_param(&dur, h->f, "DialCallDuration")) < 0 ||
      (rc = sid_param(&child, h->f, "DialCallSid", "CA", 0)) < 0)
    return rc;
  if (status == NULL || (type = map_call_status(status, &cause)) !=
      VC_UPDATE_ENDED)
    return BAD_INPUT("Dial action has no known DialCallStatus");
  if (cause == VC_CAUSE_NORMAL) {
    /* The bridge's length goes with the request for the next script. */
    update_init(h, &u, VC_UPDATE_SCRIPT, VC_LEG_AGENT);
    if (seconds(dur) > 0)
      u.duration_s = seconds(dur);
    return vc_event_sink_call(h->sink, &u);
  }
  h->id.size = 0;
  if ((rc = vc__buf_printf(&h->id, "twilio:%s:dial_end:%s", h->call_sid,
                           child ? child : status)) < 0)
    return rc;
  update_init(h, &u, VC_UPDATE_ENDED, VC_LEG_CUSTOMER);
  u.leg_provider_id = child;
  u.event_id = h->id.ptr;
  u.cause = cause;
  u.provider_code = status;
  if (seconds(dur) > 0)
    u.duration_s = seconds(dur);
  if ((rc = vc_event_sink_call(h->sink, &u)) < 0)
    return rc;
  return script(h, VC_LEG_AGENT);
}

/* recording: a recording's status callback. */
static int on_recording(hook *h)
{
  const char *rsid, *url, *status, *dur;
  vc_call_update u;
  int rstatus, rc;

  if ((rc = sid_param(&rsid, h->f, "RecordingSid", "RE", 1)) < 0 ||
      (rc = vc__twilio_param(&url, h->f, "RecordingUrl")) < 0 ||
      (rc = vc__twilio_param(&status, h->f, "RecordingStatus")) < 0 ||
      (rc = vc__twilio_param(&dur, h->f, "RecordingDuration")) < 0)
    return rc;
  if (status == NULL || strcmp(status, "completed") == 0)
    rstatus = VC_RECORDING_AVAILABLE;   /* completed is the default event */
  else if (strcmp(status, "in-progress") == 0)
    rstatus = VC_RECORDING_STARTED;
  else if (strcmp(status, "absent") == 0 || strcmp(status, "failed") == 0)
    rstatus = VC_RECORDING_FAILED;
  else
    return BAD_INPUT("recording callback has an unknown RecordingStatus");
  if (rstatus == VC_RECORDING_AVAILABLE &&
      (url == NULL || check_url("RecordingUrl", url) < 0))
    return BAD_INPUT("recording callback has no valid RecordingUrl");
  h->id.size = 0;
  if ((rc = vc__buf_printf(&h->id, "twilio:%s:%s", rsid,
                           status ? status : "completed")) < 0)
    return rc;
  update_init(h, &u, VC_UPDATE_RECORDING, VC_LEG_NONE);
  /* A <Dial> recording belongs to the agent's (parent) call. */
  u.leg_provider_id = NULL;
  u.event_id = h->id.ptr;
  u.recording_status = rstatus;
  u.recording_id = rsid;
  u.recording_url = rstatus == VC_RECORDING_AVAILABLE ? url : NULL;
  u.recording_duration_s = seconds(dur) > 0 ? seconds(dur) : 0;
  u.provider_code = status ? status : "completed";
  return vc_event_sink_call(h->sink, &u);
}

/* in_dial: the <Dial> that rang an agent for an inbound call ended; the
 * caller waits for what is next. */
static int on_in_dial(hook *h)
{
  const char *status, *dur, *child;
  vc_buf try = VC_BUF_INIT;
  vc_call_update u;
  int type, cause, found, rc;

  if ((rc = vc__twilio_param(&status, h->f, "DialCallStatus")) < 0 ||
      (rc = vc__twilio_param(&dur, h->f, "DialCallDuration")) < 0 ||
      (rc = sid_param(&child, h->f, "DialCallSid", "CA", 0)) < 0)
    return rc;
  if (status == NULL || (type = map_call_status(status, &cause)) !=
      VC_UPDATE_ENDED)
    return BAD_INPUT("Dial action has no known DialCallStatus");
  if ((rc = vc__twilio_query_get(&try, &found, h->req->target,
                                 "vc_try")) < 0)
    return rc;
  if (try.ptr != NULL && !is_id(try.ptr, 16)) {
    rc = BAD_INPUT("vc_try is malformed");
    goto out;
  }
  h->id.size = 0;
  if ((rc = vc__buf_printf(&h->id, "twilio:%s:in_dial:%s:%s", h->call_sid,
                           try.ptr ? try.ptr : "",
                           child ? child : status)) < 0)
    goto out;
  update_init(h, &u, VC_UPDATE_ENDED, VC_LEG_AGENT);
  u.leg_provider_id = child;
  u.event_id = h->id.ptr;
  u.cause = cause;
  u.provider_code = status;
  if (seconds(dur) > 0)
    u.duration_s = seconds(dur);
  if ((rc = vc_event_sink_call(h->sink, &u)) < 0)
    goto out;
  rc = script(h, VC_LEG_CUSTOMER);
out:
  vc_buf_dispose(&try);
  return rc;
}

/* in_record: a voicemail's <Record> ended; its recording (when there is
 * one) is the same event as its recording status callback. */
static int on_in_record(hook *h)
{
  const char *rsid, *url, *dur;
  vc_call_update u;
  int rc;

  if ((rc = sid_param(&rsid, h->f, "RecordingSid", "RE", 0)) < 0 ||
      (rc = vc__twilio_param(&url, h->f, "RecordingUrl")) < 0 ||
      (rc = vc__twilio_param(&dur, h->f, "RecordingDuration")) < 0)
    return rc;
  if (rsid != NULL && url != NULL && url[0] != '\0') {
    if (check_url("RecordingUrl", url) < 0)
      return BAD_INPUT("Record action has no valid RecordingUrl");
    h->id.size = 0;
    if ((rc = vc__buf_printf(&h->id, "twilio:%s:completed", rsid)) < 0)
      return rc;
    update_init(h, &u, VC_UPDATE_RECORDING, VC_LEG_NONE);
    u.leg_provider_id = NULL;
    u.event_id = h->id.ptr;
    u.recording_status = VC_RECORDING_AVAILABLE;
    u.recording_id = rsid;
    u.recording_url = url;
    u.recording_duration_s = seconds(dur) > 0 ? seconds(dur) : 0;
    u.provider_code = "completed";
    if ((rc = vc_event_sink_call(h->sink, &u)) < 0)
      return rc;
  }
  return script(h, VC_LEG_CUSTOMER);
}

/* No vc_step: a call to one of the account's numbers (its voice URL,
 * Direction=inbound, CallStatus=ringing) or that call's own status
 * callback (a final CallStatus): the caller hung up. */
static int on_incoming(hook *h)
{
  const char *dir, *status, *from, *to, *seq;
  vc_call_update u;
  int type, cause, rc;

  if ((rc = vc__twilio_param(&dir, h->f, "Direction")) < 0 ||
      (rc = vc__twilio_param(&status, h->f, "CallStatus")) < 0 ||
      (rc = vc__twilio_param(&from, h->f, "From")) < 0 ||
      (rc = vc__twilio_param(&to, h->f, "To")) < 0 ||
      (rc = vc__twilio_param(&seq, h->f, "SequenceNumber")) < 0)
    return rc;
  if (dir == NULL || strcmp(dir, "inbound") != 0)
    return BAD_INPUT("webhook URL has no vc_step");
  if (status == NULL || (type = map_call_status(status, &cause)) < 0)
    return BAD_INPUT("incoming call has no known CallStatus");
  if (type == VC_UPDATE_ENDED) {
    h->id.size = 0;
    if ((rc = vc__buf_printf(&h->id, "twilio:%s:in:%s", h->call_sid,
                             status)) < 0)
      return rc;
    update_init(h, &u, VC_UPDATE_ENDED, VC_LEG_CUSTOMER);
    u.event_id = h->id.ptr;
    u.cause = cause;
    u.provider_code = status;
    return vc_event_sink_call(h->sink, &u);
  }
  if (type == VC_UPDATE_ANSWERED && seq != NULL)
    return 0; /* a progress callback of a call already answered */
  if (to == NULL || to[0] == '\0')
    return BAD_INPUT("incoming call has no To");
  if (strnlen(to, ADDR_MAX + 1) > ADDR_MAX ||
      (from != NULL && strnlen(from, ADDR_MAX + 1) > ADDR_MAX))
    return BAD_INPUT("incoming call's From or To is too long");
  update_init(h, &u, VC_UPDATE_INCOMING, VC_LEG_CUSTOMER);
  u.from = from != NULL && from[0] != '\0' ? from : NULL;
  u.to = to;
  return vc_event_sink_call(h->sink, &u);
}

static int twv_parse_webhook(void *state, const vc_http_request *req,
                             vc_event_sink *sink)
{
  vc__form f = { NULL, 0 };
  vc_buf step = VC_BUF_INIT;
  const char *ts;
  hook h;
  int found, rc;

  VC_UNUSED(state);
  VC_ASSERT_ARG(req);
  VC_ASSERT_ARG(sink);
  VC_ASSERT_ARG(req->body != NULL || req->body_len == 0);
  memset(&h, 0, sizeof(h));
  if (req->body_len > VC__TWILIO_HOOK_BODY_MAX)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                         "webhook body is longer than %d bytes",
                         VC__TWILIO_HOOK_BODY_MAX);
  if ((rc = vc__twilio_query_get(&step, &found, req->target,
                                 "vc_step")) < 0)
    return rc;
  /* No vc_step at all: a call arriving (on_incoming). */
  if (found && (step.ptr == NULL ||
                !is_id(step.ptr, sizeof(h.step) - 1))) {
    rc = BAD_INPUT("webhook URL has no vc_step");
    goto out;
  }
  if (found)
    memcpy(h.step, step.ptr, strlen(step.ptr) + 1);   /* is_id: fits */
  if ((rc = vc__twilio_check_form_syntax(req->body, req->body_len)) < 0 ||
      (rc = vc__form_parse(&f, (const char *)req->body, req->body_len,
                           VC__TWILIO_HOOK_PARAMS_MAX)) < 0)
    goto out;
  for (size_t i = 0; i < f.n; i++)
    if (!vc__utf8_valid(f.pairs[i].name, strlen(f.pairs[i].name)) ||
        !vc__utf8_valid(f.pairs[i].value, strlen(f.pairs[i].value))) {
      rc = BAD_INPUT("form field %zu is not valid UTF-8", i);
      goto out;
    }
  h.f = &f;
  h.req = req;
  h.sink = sink;
  if ((rc = sid_param(&h.call_sid, &f, "CallSid", "CA", 1)) < 0 ||
      (rc = sid_param(&h.parent_sid, &f, "ParentCallSid", "CA", 0)) < 0 ||
      (rc = vc__twilio_param(&ts, &f, "Timestamp")) < 0)
    goto out;
  h.at = rfc2822_ms(ts);
  if (!found)
    rc = on_incoming(&h);
  else if (strcmp(h.step, "agent") == 0)
    rc = leg_status(&h, VC_LEG_AGENT);
  else if (strcmp(h.step, "answer") == 0)
    rc = on_answer(&h);
  else if (strcmp(h.step, "customer") == 0)
    rc = leg_status(&h, VC_LEG_CUSTOMER);
  else if (strcmp(h.step, "customer_answer") == 0)
    rc = script(&h, VC_LEG_CUSTOMER);
  else if (strcmp(h.step, "ivr") == 0)
    rc = on_ivr(&h);
  else if (strcmp(h.step, "dial_end") == 0)
    rc = on_dial_end(&h);
  else if (strcmp(h.step, "recording") == 0)
    rc = on_recording(&h);
  else if (strcmp(h.step, "in_wait") == 0)
    rc = script(&h, VC_LEG_CUSTOMER);
  else if (strcmp(h.step, "in_ring") == 0)
    rc = leg_status(&h, VC_LEG_AGENT);
  else if (strcmp(h.step, "in_dial") == 0)
    rc = on_in_dial(&h);
  else if (strcmp(h.step, "in_record") == 0)
    rc = on_in_record(&h);
  else
    rc = BAD_INPUT("unknown vc_step '%s'", h.step);
out:
  vc_buf_dispose(&h.id);
  vc_buf_dispose(&step);
  vc__form_free(&f);
  return rc;
}

/* ------------------------------------------------------------------ */

const vc_adapter vc__adapter_twilio_voice = {
  .version = VC_ADAPTER_VERSION,
  .name = "twilio-voice",
  .kind = VC_CHANNEL_VOICE,
  .capabilities = VC_CAP_DELIVERY_REPORTS | VC_CAP_SIGNED_WEBHOOKS |
                  VC_CAP_CALL_HOLD | VC_CAP_CALL_TRANSFER |
                  VC_CAP_CALL_HANGUP | VC_CAP_RECORDING_DELETE |
                  VC_CAP_CALL_SCRIPT | VC_CAP_CALL_PRICE,
  .init = twv_init,
  .fini = twv_fini,
  .verify_webhook = twv_verify_webhook,
  .parse_webhook = twv_parse_webhook,
  .build_call = twv_build_call,
  .parse_call = twv_parse_call,
  .build_control = twv_build_control,
  .parse_control = twv_parse_control,
  .render_script = twv_render_script,
};
