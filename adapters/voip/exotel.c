/*
 * Exotel click-to-call (the v1 "connect two numbers" API): the "exotel"
 * voice adapter.
 *
 * Pure translation (DESIGN 2, 6): a form POST to
 * {base}/v1/Accounts/{sid}/Calls/connect.json with Basic auth (API key
 * and token) that rings From (the agent) and then To (the customer);
 * the JSON answer or RestException; and the StatusCallback Exotel posts
 * when the call is answered and when it ends. Wire facts: providers.md
 * section 2.
 *
 * Exotel signs no callback (providers.md 2.5). The callback URL carries
 * vc_token, the hex HMAC-SHA256 of the call id under the channel's
 * webhook_secret; verify_webhook checks it in constant time. Anyone who
 * sees that URL can post for that call, and only that call.
 *
 * Exotel has no v1 operation on a live call that we could confirm (its
 * hangup is a v2 "legs" API on another host), so hold, transfer, hangup
 * and recording control are off: the core answers VC_ENOTSUPPORTED.
 * Click-to-call follows no script; inbound calls take part in a flow of
 * applets whose requests and scripts are exotel_inbound.c's.
 *
 * Timestamps are "YYYY-MM-DD HH:MM:SS" in a zone Exotel does not state
 * (providers.md 2.3: UNCONFIRMED): config.timezone, default +05:30.
 *
 * The state is immutable after init, so every method may run on several
 * threads at once.
 */
#include "core/common.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/text.h"
#include "net/sink.h"
#include "adapters/builtin.h"
#include "adapters/common.h"
#include "adapters/voip/callback.h"
#include "adapters/voip/exotel_inbound.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>

#define DEFAULT_HOST "api.exotel.com"      /* Singapore cluster */
#define MUMBAI_HOST "api.in.exotel.com"
#define DEFAULT_ZONE "+05:30"               /* UNCONFIRMED: see above */
#define DEFAULT_CURRENCY "INR"              /* UNCONFIRMED: see price */
#define BASE_URL_MAX 512
#define SID_MAX 64            /* account sids are short words */
#define KEY_MAX 128           /* API key and token */
#define CALLER_IDS_MAX 100
#define CALLER_ID_MAX 32
#define NUMBER_MAX 16         /* '+' and at most 15 digits */
#define PROVIDER_ID_MAX VC__VOIP_PROVIDER_ID_MAX
#define TIME_LIMIT_MAX 14400  /* Exotel's TimeLimit bound */
#define CUSTOM_FIELD_MAX 128
#define SECONDS_MAX 86400    /* a duration in a callback, at most */

#define BAD_INPUT(...) \
  vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID, __VA_ARGS__)
#define BAD_HOOK(...) \
  vc__error_set(VC_ERRCLASS_ADAPTER, VC_EINVALID, __VA_ARGS__)

typedef struct ex_state {
  char *connect_url;          /* .../v1/Accounts/{sid}/Calls/connect.json */
  char *api_key;
  char *api_token;
  char *secret;               /* webhook_secret */
  int zone_min;               /* offset of Exotel's times from UTC */
  char currency[4];           /* of Exotel's prices: config.currency */
} ex_state;

/* ------------------------------------------------------------------ */
/* init / fini                                                         */

static void ex_fini(void *state)
{
  ex_state *st = state;

  if (st == NULL)
    return;
  vc__free(st->connect_url);
  vc__adapter_free_secret(st->api_key);
  vc__adapter_free_secret(st->api_token);
  vc__adapter_free_secret(st->secret);
  vc__wipe(st, sizeof(*st));
  vc__free(st);
}

/* A caller id: 1..CALLER_ID_MAX digits, an optional '+' first. */
static int is_caller_id(const char *s)
{
  size_t len = s ? strnlen(s, CALLER_ID_MAX + 1) : 0;

  return len > 0 && len <= CALLER_ID_MAX &&
         strspn(s + (s[0] == '+'), "0123456789") == len - (s[0] == '+');
}

/* The currency Exotel bills the account in: its prices carry none
 * (providers.md 2.3). */
static int read_currency(ex_state *st, const cJSON *cfg)
{
  const char *v;
  int rc;

  if ((rc = vc__adapter_get_str(&v, cfg, "config", "currency")) < 0)
    return rc;
  if (v == NULL)
    v = DEFAULT_CURRENCY;
  if (strlen(v) != 3 || v[0] < 'A' || v[0] > 'Z' || v[1] < 'A' ||
      v[1] > 'Z' || v[2] < 'A' || v[2] > 'Z')
    return BAD_INPUT("config.currency must be an ISO 4217 code such as "
                     "\"INR\"");
  memcpy(st->currency, v, 4);
  return 0;
}

static int read_config(void *state, const cJSON *cfg)
{
  ex_state *st = state;
  static const char *const known[] = {
    "account_sid", "subdomain", "base_url", "caller_ids", "timezone",
    "currency"
  };
  const char *sid, *sub, *base, *zone;
  vc_buf url = VC_BUF_INIT;
  size_t n = 0;
  int rc;

  if ((rc = vc__adapter_check_keys(cfg, "config", known,
                                   VC_ARRAY_SIZE(known), 1)) < 0 ||
      (rc = vc__adapter_get_str(&sid, cfg, "config", "account_sid")) < 0 ||
      (rc = vc__adapter_get_str(&sub, cfg, "config", "subdomain")) < 0 ||
      (rc = vc__adapter_get_str(&base, cfg, "config", "base_url")) < 0 ||
      (rc = vc__adapter_get_str(&zone, cfg, "config", "timezone")) < 0 ||
      (rc = vc__voip_caller_ids(cfg, CALLER_IDS_MAX, is_caller_id,
                                "ExoPhone numbers",
                                "a phone number")) < 0)
    return rc;
  if (sid == NULL)
    return BAD_INPUT("config.account_sid is required");
  if (!vc__voip_is_id(sid, SID_MAX))
    return BAD_INPUT("config.account_sid must be 1 to %d letters, digits, "
                     "'_' or '-'", SID_MAX);
  if (sub != NULL && base != NULL)
    return BAD_INPUT("config.subdomain and config.base_url exclude each "
                     "other");
  if (sub != NULL && strcmp(sub, DEFAULT_HOST) != 0 &&
      strcmp(sub, MUMBAI_HOST) != 0)
    return BAD_INPUT("config.subdomain must be \"" DEFAULT_HOST "\" or \""
                     MUMBAI_HOST "\"");
  if ((rc = vc__voip_zone(&st->zone_min, zone ? zone : DEFAULT_ZONE,
                          "config.timezone")) < 0)
    return rc;
  if (base != NULL) {
    if ((rc = vc__adapter_check_base_url(base, BASE_URL_MAX, &n)) < 0 ||
        (rc = vc__buf_put(&url, base, n)) < 0)
      goto out;
  } else if ((rc = vc__buf_printf(&url, "https://%s",
                                  sub ? sub : DEFAULT_HOST)) < 0) {
    goto out;
  }
  if ((rc = vc__buf_printf(&url, "/v1/Accounts/%s/Calls/connect.json",
                           sid)) < 0)
    goto out;
  st->connect_url = url.ptr;
  url = (vc_buf)VC_BUF_INIT;
  rc = read_currency(st, cfg);
out:
  vc_buf_dispose(&url);
  return rc;
}

/* A required credential (vc__adapter_read_secret). */
static int read_secret(char **out, const cJSON *cred, const char *key,
                       size_t min, size_t max, int colon_ok)
{
  int rc = vc__adapter_read_secret(out, cred, key, min, max, colon_ok);

  if (rc == 0 && *out == NULL)
    return BAD_INPUT("credentials.%s is required", key);
  return rc;
}

static int read_credentials(void *state, const cJSON *cred)
{
  ex_state *st = state;
  static const char *const known[] = {
    "api_key", "api_token", "webhook_secret"
  };
  int rc;

  if ((rc = vc__adapter_check_keys(cred, "credentials", known,
                                   VC_ARRAY_SIZE(known), 0)) < 0 ||
      (rc = read_secret(&st->api_key, cred, "api_key", 1, KEY_MAX, 0)) < 0 ||
      (rc = read_secret(&st->api_token, cred, "api_token", 1, KEY_MAX,
                        1)) < 0 ||
      (rc = read_secret(&st->secret, cred, "webhook_secret",
                        VC__VOIP_SECRET_MIN, VC__VOIP_SECRET_MAX, 1)) < 0)
    return rc;
  return 0;
}

static int ex_init(void **state, const char *config_json,
                   const char *credentials_json)
{
  return vc__adapter_init(state, sizeof(ex_state), config_json,
                          credentials_json, read_config, read_credentials,
                          ex_fini);
}

/* ------------------------------------------------------------------ */
/* build_call                                                          */

/* E.164: '+' and 8 to 15 digits. Exotel prefers it (providers.md 2.2). */
static int is_e164(const char *s)
{
  size_t n = s ? strnlen(s, NUMBER_MAX + 1) : 0;

  return n >= 9 && n <= NUMBER_MAX && s[0] == '+' && s[1] != '0' &&
         vc__all_of(s + 1, n - 1, vc__is_digit);
}

static int ex_build_call(void *state, const vc_call_outbound *call,
                         vc_http_out *req)
{
  const ex_state *st = state;
  vc_buf cb = VC_BUF_INIT;
  char num[16];
  const char *cid;
  size_t n;
  int rc;

  VC_ASSERT_ARG(st);
  VC_ASSERT_ARG(call);
  VC_ASSERT_ARG(req);
  VC_CHECK_VERSION(call, VC_CALL_OUTBOUND_VERSION, "vc_call_outbound");
  if (!is_e164(call->agent))
    return BAD_INPUT("Exotel dials only E.164 numbers: the agent's number "
                     "is not one");
  if (!is_e164(call->customer))
    return BAD_INPUT("the customer's number is not E.164");
  cid = call->caller_id;
  n = cid ? strnlen(cid, CALLER_ID_MAX + 1) : 0;
  if (n == 0)
    return BAD_INPUT("Exotel needs a caller id (an ExoPhone): set "
                     "config.caller_ids or the call's caller_id");
  if (!is_caller_id(cid))
    return BAD_INPUT("the caller id is not a phone number");
  if (!vc__voip_is_id(call->call_id, CUSTOM_FIELD_MAX))
    return BAD_INPUT("the call id is not an id");
  if (call->ring_timeout_s < 0 || call->time_limit_s < 0 ||
      call->time_limit_s > TIME_LIMIT_MAX)
    return BAD_INPUT("the call's time limit must be 0 to %d seconds",
                     TIME_LIMIT_MAX);
  if ((rc = vc__voip_callback_url(&cb, call->webhook_url, "status",
                                  st->secret, call->call_id)) < 0)
    return rc;
  if ((rc = vc_http_out_set_target(req, "POST", st->connect_url)) < 0 ||
      (rc = vc_http_out_basic_auth(req, st->api_key, st->api_token)) < 0 ||
      (rc = vc_http_out_add_header(req, "Accept", "application/json")) < 0 ||
      (rc = vc_http_out_form_add(req, "From", call->agent)) < 0 ||
      (rc = vc_http_out_form_add(req, "To", call->customer)) < 0 ||
      (rc = vc_http_out_form_add(req, "CallerId", cid)) < 0)
    goto out;
  if (call->ring_timeout_s > 0) {
    snprintf(num, sizeof(num), "%d", call->ring_timeout_s);
    if ((rc = vc_http_out_form_add(req, "TimeOut", num)) < 0)
      goto out;
  }
  if (call->time_limit_s > 0) {
    snprintf(num, sizeof(num), "%d", call->time_limit_s);
    if ((rc = vc_http_out_form_add(req, "TimeLimit", num)) < 0)
      goto out;
  }
  if (call->record &&
      (rc = vc_http_out_form_add(req, "Record", "true")) < 0)
    goto out;
  if ((rc = vc_http_out_form_add(req, "CustomField", call->call_id)) < 0 ||
      (rc = vc_http_out_form_add(req, "StatusCallback", cb.ptr)) < 0 ||
      (rc = vc_http_out_form_add(req, "StatusCallbackEvents[]",
                                 "terminal")) < 0 ||
      (rc = vc_http_out_form_add(req, "StatusCallbackEvents[]",
                                 "answered")) < 0 ||
      (rc = vc_http_out_form_add(req, "StatusCallbackContentType",
                                 "application/json")) < 0)
    goto out;
out:
  vc_buf_dispose(&cb);
  return rc;
}

/* ------------------------------------------------------------------ */
/* parse_call                                                          */

/*
 * A refusal, read from its status and message: Exotel documents the
 * RestException wrapper but no codes (providers.md 2.3), so the words
 * decide. This call's numbers or caller id: REJECTED (the brief's
 * reading: a caller id that is not an ExoPhone refuses the call); the
 * account or credentials: FAILOVER; too many requests and server
 * trouble: RETRY.
 */
static void classify(vc_send_result *out, int status, const char *msg)
{
  out->outcome = VC_SEND_RETRY;
  out->error = VC_EPROVIDER;
  if (status == 429) {
    out->error = VC_ERATELIMIT;
  } else if (status == 401 || status == 403) {
    out->outcome = VC_SEND_FAILOVER;
    out->error = VC_EAUTH;
  } else if (status == 400 || status == 422) {
    if (vc__voip_contains(msg, "callerid") ||
        vc__voip_contains(msg, "exophone") ||
        vc__voip_contains(msg, "number")) {
      out->outcome = VC_SEND_REJECTED;
      out->error = VC_EINVALID;
    } else if (vc__voip_contains(msg, "account") ||
               vc__voip_contains(msg, "balance") ||
               vc__voip_contains(msg, "credit") ||
               vc__voip_contains(msg, "suspend") ||
               vc__voip_contains(msg, "kyc")) {
      out->outcome = VC_SEND_FAILOVER;
    } else {
      out->outcome = VC_SEND_REJECTED;
      out->error = VC_EINVALID;
    }
  } else if (status >= 400 && status < 500 && status != 408) {
    /* 402 payment, 404 no such account, 405...: this channel cannot */
    out->outcome = VC_SEND_FAILOVER;
  }
  /* 408, 5xx and anything unexpected: retry */
}

static int ex_parse_call(void *state, const vc_call_outbound *call,
                         const vc_http_response *res, vc_send_result *out)
{
  cJSON *doc = NULL;
  const cJSON *c, *code;
  const char *sid, *msg = NULL;

  VC_UNUSED(state);
  VC_UNUSED(call);
  VC_ASSERT_ARG(res);
  VC_ASSERT_ARG(out);
  doc = vc__voip_answer(res);
  if (res->status >= 200 && res->status < 300) {
    c = cJSON_GetObjectItemCaseSensitive(doc, "Call");
    sid = vc__json_str(c, "Sid");
    if (sid != NULL && vc__voip_is_id(sid, PROVIDER_ID_MAX)) {
      out->outcome = VC_SEND_ACCEPTED;
      memcpy(out->provider_id, sid, strlen(sid) + 1);
    } else {
      out->outcome = VC_SEND_RETRY;
      out->error = VC_EPROVIDER;
      snprintf(out->error_message, sizeof(out->error_message),
               "Exotel answered %d without a call Sid", res->status);
    }
    goto out;
  }
  c = cJSON_GetObjectItemCaseSensitive(doc, "RestException");
  code = cJSON_GetObjectItemCaseSensitive(c, "Code");
  if (cJSON_IsNumber(code) && code->valuedouble >= 0 &&
      code->valuedouble < 1e9)
    snprintf(out->provider_code, sizeof(out->provider_code), "%ld",
             (long)code->valuedouble);
  else if (cJSON_IsString(code) && vc__voip_is_id(code->valuestring, 31))
    snprintf(out->provider_code, sizeof(out->provider_code), "%s",
             code->valuestring);
  if ((msg = vc__json_str(c, "Message")) != NULL && msg[0] != '\0')
    vc__copy_line(out->error_message, sizeof(out->error_message), msg,
                  strlen(msg));
  else
    snprintf(out->error_message, sizeof(out->error_message),
             "HTTP %d from Exotel", res->status);
  classify(out, res->status, msg);
  if (out->outcome == VC_SEND_RETRY)
    vc__voip_retry_after(out, res);
out:
  cJSON_Delete(doc);
  return 0;
}

/* ------------------------------------------------------------------ */
/* webhooks                                                            */

static int ex_verify_webhook(void *state, const vc_http_request *req,
                             vc_webhook_env *env)
{
  const ex_state *st = state;

  VC_UNUSED(env);
  VC_ASSERT_ARG(st);
  return vc__voip_verify(st->secret, req);
}

/* What one callback says, read and checked. */
typedef struct ex_hook {
  const char *sid, *status, *event, *rec_url;
  const char *leg_status[2];
  long leg_s[2];              /* OnCallDuration, -1 when not given */
  long talk_s;                /* ConversationDuration, -1 */
  int64_t updated, start, end;  /* Unix ms, 0 when not given */
} ex_hook;

static int read_secs(long *out, const vc__form *f, const char *name)
{
  const char *v = vc__voip_field(f, name);

  *out = -1;
  if (v == NULL || v[0] == '\0')
    return 0;
  if ((*out = vc__voip_seconds(v)) < 0 || *out > SECONDS_MAX)
    return BAD_HOOK("%s is not a count of seconds up to a day", name);
  return 0;
}

/* A status word: 1..32 of [a-z-]; NULL when absent or empty. */
static int read_word(const char **out, const vc__form *f, const char *name)
{
  const char *v = vc__voip_field(f, name);

  *out = NULL;
  if (v == NULL || v[0] == '\0')
    return 0;
  if (!vc__voip_is_id(v, 32))
    return BAD_HOOK("%s is not a status word", name);
  *out = v;
  return 0;
}

static int read_hook(ex_hook *h, const vc__form *f, int zone_min)
{
  char name[40];
  int rc;

  memset(h, 0, sizeof(*h));
  h->sid = vc__voip_field(f, "CallSid");
  if (h->sid == NULL || !vc__voip_is_id(h->sid, PROVIDER_ID_MAX))
    return BAD_HOOK("the callback has no valid CallSid");
  if ((rc = read_word(&h->status, f, "Status")) < 0 ||
      (rc = read_word(&h->event, f, "EventType")) < 0 ||
      (rc = vc__voip_read_time(&h->updated, f, "DateUpdated", zone_min)) < 0 ||
      (rc = vc__voip_read_time(&h->start, f, "StartTime", zone_min)) < 0 ||
      (rc = vc__voip_read_time(&h->end, f, "EndTime", zone_min)) < 0 ||
      (rc = read_secs(&h->talk_s, f, "ConversationDuration")) < 0)
    return rc;
  if (h->status == NULL)
    return BAD_HOOK("the callback has no Status");
  /* The end carries it: refused by the sink, after the leg events. */
  if (h->talk_s > VC__SINK_SECONDS_MAX)
    return BAD_HOOK("ConversationDuration is longer than a call can last");
  for (int i = 0; i < 2; i++) {
    snprintf(name, sizeof(name), "Legs[%d][Status]", i);
    if ((rc = read_word(&h->leg_status[i], f, name)) < 0)
      return rc;
    snprintf(name, sizeof(name), "Legs[%d][OnCallDuration]", i);
    if ((rc = read_secs(&h->leg_s[i], f, name)) < 0)
      return rc;
  }
  if (h->start != 0 && ((h->end != 0 && h->start > h->end) ||
                        (h->updated != 0 && h->start > h->updated)))
    return BAD_HOOK("StartTime is after EndTime or DateUpdated");
  h->rec_url = vc__voip_field(f, "RecordingUrl");
  if (h->rec_url != NULL && h->rec_url[0] == '\0')
    h->rec_url = NULL;
  if (h->rec_url != NULL && !vc__voip_is_recording_url(h->rec_url, 2048))
    return BAD_HOOK("RecordingUrl is not an http(s) URL");
  return 0;
}

/* Exotel's call and leg statuses, normalized (providers.md 2.3, 2.4). */
static int cause_of(const char *s)
{
  static const struct { const char *word; int cause; } map[] = {
    { "completed", VC_CAUSE_NORMAL },
    { "busy", VC_CAUSE_BUSY },
    { "no-answer", VC_CAUSE_NO_ANSWER },
    { "failed", VC_CAUSE_UNREACHABLE },     /* not placed: bad number */
    { "canceled", VC_CAUSE_CANCELED },
  };

  for (size_t i = 0; s != NULL && i < VC_ARRAY_SIZE(map); i++)
    if (strcmp(s, map[i].word) == 0)
      return map[i].cause;
  return VC_CAUSE_REJECTED;                 /* unknown: refused */
}

static int answered(const char *s)
{
  return s != NULL && (strcmp(s, "completed") == 0 ||
                       strcmp(s, "in-progress") == 0 ||
                       strcmp(s, "answered") == 0);
}

/* The answered and terminal callbacks, and Exotel's retries, dedupe by
 * their event ids ("<CallSid>:<what>", vc__voip_report). */
static int leg_event(vc_event_sink *sink, const ex_hook *h, int type,
                     int leg, int64_t at)
{
  return vc__voip_leg_event(sink, h->sid, type, leg, at);
}

/* secs before t; an unknown time (0) stays unknown, rather than a time
 * before 1970 that the sink refuses after the earlier events went. */
static int64_t before(int64_t t, long secs)
{
  return t != 0 && secs > 0 ? t - (int64_t)secs * 1000 : t;
}

static int64_t clamp(int64_t t, int64_t lo, int64_t hi)
{
  if (lo != 0 && t < lo)
    t = lo;
  if (hi != 0 && t > hi)
    t = hi;
  return t;
}

/* The "answered" event: the legs that it says are answered. */
static int on_answered(vc_event_sink *sink, const ex_hook *h)
{
  int64_t t = h->updated, ta, tc;
  int legs = h->leg_status[0] != NULL || h->leg_status[1] != NULL;
  int a0 = legs ? answered(h->leg_status[0]) : 1;
  int a1 = legs ? answered(h->leg_status[1]) : 1;
  int rc;

  if (h->start != 0 &&
      (rc = leg_event(sink, h, VC_UPDATE_RINGING, VC_LEG_AGENT,
                      h->start)) < 0)
    return rc;
  if (!a0)
    return 0;
  ta = clamp(before(t, h->leg_s[0]), h->start, t);
  if ((rc = leg_event(sink, h, VC_UPDATE_ANSWERED, VC_LEG_AGENT, ta)) < 0)
    return rc;
  if (!a1 && !(legs && h->leg_status[1] != NULL &&
               strcmp(h->leg_status[1], "ringing") == 0))
    return 0;
  if ((rc = leg_event(sink, h, VC_UPDATE_RINGING, VC_LEG_CUSTOMER,
                      ta)) < 0 || !a1)
    return rc;
  tc = clamp(before(t, h->leg_s[1]), ta, t);
  return leg_event(sink, h, VC_UPDATE_ANSWERED, VC_LEG_CUSTOMER, tc);
}

/*
 * The terminal event: every leg event it implies, oldest first, then
 * the call's end (with the failing leg when the Legs say which, else
 * VC_LEG_NONE) and its recording. The agent answered OnCallDuration
 * (Legs[0]) before EndTime, the customer ConversationDuration before
 * it; the customer's leg rings once the agent answers.
 */
static int on_terminal(vc_event_sink *sink, const ex_hook *h)
{
  int64_t end = h->end ? h->end : h->updated, ta = 0, tc = 0;
  int legs = h->leg_status[0] != NULL || h->leg_status[1] != NULL;
  long talk = h->talk_s > 0 ? h->talk_s : 0;
  int a0, a1, cause, leg = VC_LEG_NONE, rc;

  a1 = (legs && h->leg_status[1] != NULL &&
        strcmp(h->leg_status[1], "completed") == 0) || talk > 0 ||
       (!legs && strcmp(h->status, "completed") == 0);
  a0 = a1 || (legs && answered(h->leg_status[0]));
  if (h->start != 0 && !(legs && h->leg_status[0] != NULL &&
                         strcmp(h->leg_status[0], "failed") == 0) &&
      (rc = leg_event(sink, h, VC_UPDATE_RINGING, VC_LEG_AGENT,
                      h->start)) < 0)
    return rc;
  if (a1)
    tc = clamp(before(end, talk), h->start, end);
  if (a0) {
    ta = h->leg_s[0] > 0 ? before(end, h->leg_s[0]) : a1 ? tc : end;
    ta = clamp(ta, h->start, a1 ? tc : end);
    if ((rc = leg_event(sink, h, VC_UPDATE_ANSWERED, VC_LEG_AGENT,
                        ta)) < 0)
      return rc;
    /* Without Legs a failure could be either leg's: say no more. */
    if ((legs || a1) &&
        (rc = leg_event(sink, h, VC_UPDATE_RINGING, VC_LEG_CUSTOMER,
                        ta)) < 0)
      return rc;
  }
  if (a1 && (rc = leg_event(sink, h, VC_UPDATE_ANSWERED, VC_LEG_CUSTOMER,
                            tc)) < 0)
    return rc;
  /* The failing leg's own status says most; else the call's. The core
   * takes the failed leg from the end's leg: named when Legs tell it. */
  if (a1) {
    cause = VC_CAUSE_NORMAL;
  } else if (legs && !a0) {
    leg = VC_LEG_AGENT;
    cause = cause_of(h->leg_status[0] ? h->leg_status[0] : h->status);
  } else if (legs && a0) {
    leg = VC_LEG_CUSTOMER;
    cause = cause_of(h->leg_status[1] ? h->leg_status[1] : h->status);
  } else {
    cause = cause_of(h->status);
  }
  if (!a1 && cause == VC_CAUSE_NORMAL)
    cause = VC_CAUSE_NO_ANSWER;   /* "completed" without a conversation */
  return vc__voip_report_end(sink, h->sid, leg, end, cause, talk, h->status,
                             h->rec_url);
}

static int ex_parse_webhook(void *state, const vc_http_request *req,
                            vc_event_sink *sink)
{
  const ex_state *st = state;
  vc__form f = { NULL, 0 };
  vc_buf step = VC_BUF_INIT;
  int nstep = 0;
  ex_hook h;
  int rc;

  VC_ASSERT_ARG(st);
  VC_ASSERT_ARG(req);
  VC_ASSERT_ARG(sink);
  /* An applet of the inbound flow asks (a GET with a query). */
  if ((rc = vc__voip_query(&step, &nstep, req->target, "vc_step")) < 0)
    return rc;
  if (nstep == 1 && vc__exotel_inbound_step(step.ptr)) {
    rc = vc__exotel_inbound_parse(req, step.ptr, sink, st->zone_min);
    vc_buf_dispose(&step);
    return rc;
  }
  vc_buf_dispose(&step);
  if ((rc = vc__voip_status_fields(&f, req, "Exotel")) < 0)
    goto out;
  /* An inbound call's end: the caller's leg. */
  if (vc__exotel_inbound_status(&f, sink, st->zone_min, &rc))
    goto out;
  if ((rc = read_hook(&h, &f, st->zone_min)) < 0)
    goto out;
  if (h.event == NULL || strcmp(h.event, "terminal") == 0)
    rc = on_terminal(sink, &h);
  else if (strcmp(h.event, "answered") == 0)
    rc = on_answered(sink, &h);
  /* another EventType (Exotel may add some): nothing we know of */
out:
  vc__form_free(&f);
  return rc;
}

/* ------------------------------------------------------------------ */
/* the price of a call: build_control / parse_control                  */

/*
 * Exotel's only operation here is VC_CALL_OP_FETCH_PRICE: GET
 * .../Calls/{CallSid}.json answers {"Call": {..., "Status", "Price"}}
 * (providers.md 2.3). Price is a decimal string of the account's
 * currency (config.currency; Exotel names none); Exotel fills it in
 * some minutes after the end. UNCONFIRMED: that Price is null (or
 * empty) until then; a call that talked ("completed") priced at zero
 * is taken as not priced yet.
 */
#define PRICE_RETRY_MS 120000
#define PRICE_WHOLE_MAX 9

static int ex_build_control(void *state, const vc_call_control *c,
                            vc_http_out *req)
{
  const ex_state *st = state;
  size_t base = strlen(st ? st->connect_url : "") - strlen("connect.json");
  vc_buf url = VC_BUF_INIT;
  int rc;

  VC_ASSERT_ARG(st);
  VC_ASSERT_ARG(c);
  VC_ASSERT_ARG(req);
  VC_CHECK_VERSION(c, VC_CALL_CONTROL_VERSION, "vc_call_control");
  if (c->op != VC_CALL_OP_FETCH_PRICE)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTSUPPORTED,
                         "Exotel has no %s for a call",
                         c->op == VC_CALL_OP_HANGUP ? "hangup"
                                                    : "such operation");
  if (c->provider_call_id == NULL ||
      !vc__voip_is_id(c->provider_call_id, PROVIDER_ID_MAX))
    return BAD_INPUT("the call has no Exotel CallSid");
  if ((rc = vc__buf_put(&url, st->connect_url, base)) < 0 ||
      (rc = vc__buf_printf(&url, "%s.json", c->provider_call_id)) < 0 ||
      (rc = vc_http_out_set_target(req, "GET", url.ptr)) < 0 ||
      (rc = vc_http_out_basic_auth(req, st->api_key, st->api_token)) < 0)
    goto out;
  rc = vc_http_out_add_header(req, "Accept", "application/json");
out:
  vc_buf_dispose(&url);
  return rc;
}

/* A 2xx answer: the call's Price, or not yet. */
static void read_price(vc_send_result *out, const ex_state *st,
                       const vc_call_control *c, const cJSON *doc)
{
  const cJSON *call = cJSON_GetObjectItemCaseSensitive(doc, "Call");
  const cJSON *p = cJSON_GetObjectItemCaseSensitive(call, "Price");
  const char *sid = vc__json_str(call, "Sid");
  const char *status = vc__json_str(call, "Status");
  int64_t micros;

  out->outcome = VC_SEND_RETRY;
  if (!cJSON_IsObject(call) || sid == NULL ||
      strcmp(sid, c->provider_call_id) != 0) {
    out->error = VC_EPROVIDER;
    snprintf(out->error_message, sizeof(out->error_message),
             "Exotel's answer is not the call's details");
    return;
  }
  if (p == NULL || cJSON_IsNull(p) ||
      (cJSON_IsString(p) && p->valuestring[0] == '\0')) {
    out->retry_after_ms = PRICE_RETRY_MS;
    snprintf(out->error_message, sizeof(out->error_message),
             "Exotel has not priced the call yet");
    return;
  }
  if (!cJSON_IsString(p) ||
      vc__adapter_parse_price(p->valuestring, 0, PRICE_WHOLE_MAX,
                              &micros) < 0) {
    out->error = VC_EPROVIDER;
    snprintf(out->error_message, sizeof(out->error_message),
             "Exotel's price of the call is unreadable");
    return;
  }
  if (micros == 0 && status != NULL && strcmp(status, "completed") == 0) {
    out->retry_after_ms = PRICE_RETRY_MS;
    snprintf(out->error_message, sizeof(out->error_message),
             "Exotel has not priced the call yet (0 for a call that "
             "talked)");
    return;
  }
  out->outcome = VC_SEND_ACCEPTED;
  out->cost_micros = micros;
  memcpy(out->currency, st->currency, 4);
  snprintf(out->provider_id, sizeof(out->provider_id), "%s", sid);
}

static int ex_parse_control(void *state, const vc_call_control *c,
                            const vc_http_response *res,
                            vc_send_result *out)
{
  const ex_state *st = state;
  cJSON *doc = NULL;
  const char *msg;

  VC_ASSERT_ARG(st);
  VC_ASSERT_ARG(c);
  VC_ASSERT_ARG(res);
  VC_ASSERT_ARG(out);
  if (c->op != VC_CALL_OP_FETCH_PRICE || c->provider_call_id == NULL)
    return BAD_INPUT("Exotel answers only FETCH_PRICE for a named call");
  if (res->body.ptr != NULL && res->body.size > 0)
    doc = vc__cjson_parse(res->body.ptr, res->body.size, NULL, 0);
  if (res->status >= 200 && res->status < 300) {
    read_price(out, st, c, doc);
    goto out;
  }
  msg = vc__json_str(cJSON_GetObjectItemCaseSensitive(doc, "RestException"),
                     "Message");
  if (msg != NULL && msg[0] != '\0')
    vc__copy_line(out->error_message, sizeof(out->error_message), msg,
                  strlen(msg));
  else
    snprintf(out->error_message, sizeof(out->error_message),
             "HTTP %d from Exotel", res->status);
  out->outcome = VC_SEND_RETRY;
  out->error = VC_EPROVIDER;
  if (res->status == 401 || res->status == 403) {
    out->outcome = VC_SEND_FAILOVER;
    out->error = VC_EAUTH;
  } else if (res->status == 404) {
    out->outcome = VC_SEND_REJECTED;
    out->error = VC_ENOTFOUND;
  } else if (res->status == 429) {
    out->error = VC_ERATELIMIT;
  } else if (res->status >= 400 && res->status < 500 && res->status != 408) {
    out->outcome = VC_SEND_REJECTED;
  }
  if (out->outcome == VC_SEND_RETRY)
    vc__voip_retry_after(out, res);
out:
  cJSON_Delete(doc);
  return 0;
}

/* ------------------------------------------------------------------ */

const vc_adapter vc__adapter_exotel = {
  .version = VC_ADAPTER_VERSION,
  .name = "exotel",
  .kind = VC_CHANNEL_VOICE,
  .capabilities = VC_CAP_DELIVERY_REPORTS | VC_CAP_CALL_PRICE,
  .init = ex_init,
  .fini = ex_fini,
  .verify_webhook = ex_verify_webhook,
  .parse_webhook = ex_parse_webhook,
  .build_call = ex_build_call,
  .parse_call = ex_parse_call,
  .build_control = ex_build_control,
  .parse_control = ex_parse_control,
  .render_script = vc__exotel_render_script,
};
