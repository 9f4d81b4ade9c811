/*
 * mCube (VMC Technologies) click-to-call: the "mcube" voice adapter.
 * EXPERIMENTAL.
 *
 * No mCube documentation could be confirmed (providers.md 3): every
 * path, name, shape and word below is the best reading of public
 * third-party integrations, the same reading the simulator
 * (tests/sim/mcube.c) encodes. All of it is gathered in the ASSUMPTIONS
 * block right below, one named constant or table each, so that it can
 * be corrected in one place when mCube's own documentation is at hand.
 *
 * Pure translation (DESIGN 2, 6). Two API generations:
 *  - classic: GET {base}/api/outboundcall with the API key and the call
 *    in the query;
 *  - cloud: POST {base}/Restmcube-api/outbound-calls, a JSON object
 *    with the token as HTTP_AUTHORIZATION.
 * The agent (exenumber) rings first, then the customer (custnumber).
 * mCube posts one callback when the call ends; it signs nothing, so the
 * callback URL carries vc_token (hex HMAC-SHA256 of the call id under
 * the channel's webhook_secret), checked in constant time.
 *
 * No control of a live call, no scripts: the core answers
 * VC_ENOTSUPPORTED for hold, transfer, hangup and recording control.
 *
 * The state is immutable after init, so every method may run on several
 * threads at once.
 */
#include "core/common.h"
#include "core/buf.h"
#include "core/codec.h"
#include "core/json.h"
#include "core/text.h"
#include "net/sink.h"
#include "adapters/builtin.h"
#include "adapters/common.h"
#include "adapters/voip/callback.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

/* ==================================================================== */
/* ASSUMPTIONS (all UNCONFIRMED, providers.md 3)                        */
/* ==================================================================== */

/* Hosts and paths of the two generations (3.1). */
#define MC_CLASSIC_BASE "https://mcube.vmc.in"
#define MC_CLASSIC_PATH "/api/outboundcall"
#define MC_CLOUD_BASE "https://api.mcube.com"
#define MC_CLOUD_PATH "/Restmcube-api/outbound-calls"

/* Request names (3.1): classic query fields, cloud JSON members. */
#define MC_Q_KEY "apikey"
#define MC_Q_AGENT "exenumber"          /* rung first */
#define MC_Q_CUSTOMER "custnumber"      /* rung once the agent answers */
#define MC_Q_DID "did"                  /* the virtual number shown */
#define MC_Q_URL "url"                  /* classic callback URL */
#define MC_Q_REFID "refid"              /* echoed back: our call id */
#define MC_Q_MAX_TIME "mct"             /* classic: longest call, s */
#define MC_J_TOKEN "HTTP_AUTHORIZATION" /* cloud: the token */
#define MC_J_URL "refurl"               /* cloud callback URL */

/* Numbers: mCube is an Indian service; integrations send national
 * 10-digit numbers. We send the 10 digits after +91 and refuse others. */
#define MC_COUNTRY_PREFIX "+91"
#define MC_NATIONAL_DIGITS 10

/* The longest call mct accepts (the simulator's bound, Exotel's too). */
#define MC_MAX_TIME_S 14400

/* The answer: {"status": true, "callid": "..."} accepted; status false
 * (even with HTTP 200) refused, "msg" saying why. A true status without
 * callid is taken as accepted, with our call id (the refid) as the
 * provider's id. */
#define MC_A_STATUS "status"
#define MC_A_CALL_ID "callid"
#define MC_A_MESSAGE "msg"

/* What a refusal's msg means, first match wins (words, case ignored);
 * no match: REJECTED (this call's parameters). HTTP 401/403 is always
 * FAILOVER, 429 and 5xx RETRY. */
static const struct {
  const char *word;
  int outcome, error;
} MC_REFUSALS[] = {
  { "apikey", VC_SEND_FAILOVER, VC_EAUTH },
  { "token", VC_SEND_FAILOVER, VC_EAUTH },
  { "auth", VC_SEND_FAILOVER, VC_EAUTH },
  { "balance", VC_SEND_FAILOVER, VC_EPROVIDER },
  { "credit", VC_SEND_FAILOVER, VC_EPROVIDER },
  { "account", VC_SEND_FAILOVER, VC_EPROVIDER },
  { "suspend", VC_SEND_FAILOVER, VC_EPROVIDER },
  { "expired", VC_SEND_FAILOVER, VC_EPROVIDER },
  { "number", VC_SEND_REJECTED, VC_EINVALID },   /* exenumber, custnumber */
  { "did", VC_SEND_REJECTED, VC_EINVALID },
};

/* The end-of-call callback (3.2): JSON or a form, every value a
 * string. Times are local "YYYY-MM-DD HH:MM:SS" (IST by default:
 * config.timezone); the conversation's length is `duration` (seconds),
 * else `answeredtime` (HH:MM:SS); `filename` is the recording's URL. */
#define MC_CB_CALL_ID "callid"
#define MC_CB_START "starttime"
#define MC_CB_END "endtime"
#define MC_CB_TALK_S "duration"
#define MC_CB_TALK_HMS "answeredtime"
#define MC_CB_DIALSTATUS "dialstatus"
#define MC_CB_RECORDING "filename"
#define MC_DEFAULT_ZONE "+05:30"

/* dialstatus words: the leg that decided the call and the cause
 * (compared with case and spaces ignored: "No Answer" is "NoAnswer").
 * Seen in integrations: ANSWER, CANCEL, Executive Busy, Busy, NoAnswer;
 * the rest is the simulator's reading. An unknown word ends the call
 * with VC_CAUSE_REJECTED, no leg named. */
static const struct {
  const char *word;
  int leg, cause;
} MC_DIALSTATUS[] = {
  { "ANSWER", VC_LEG_NONE, VC_CAUSE_NORMAL },
  { "Executive Busy", VC_LEG_AGENT, VC_CAUSE_BUSY },
  { "Executive NoAnswer", VC_LEG_AGENT, VC_CAUSE_NO_ANSWER },
  { "Executive Failed", VC_LEG_AGENT, VC_CAUSE_UNREACHABLE },
  { "Busy", VC_LEG_CUSTOMER, VC_CAUSE_BUSY },
  { "NoAnswer", VC_LEG_CUSTOMER, VC_CAUSE_NO_ANSWER },
  { "Failed", VC_LEG_CUSTOMER, VC_CAUSE_UNREACHABLE },
  { "CANCEL", VC_LEG_NONE, VC_CAUSE_CANCELED },
};

/* ==================================================================== */

#define BASE_URL_MAX 512
#define SECRET_MAX 1024       /* a cloud token looks like a JWT */
#define CALLER_IDS_MAX 100
#define PROVIDER_ID_MAX VC__VOIP_PROVIDER_ID_MAX
#define REFID_MAX 100
#define SECONDS_MAX 86400    /* a call's length in a callback, at most */

#define BAD_INPUT(...) \
  vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID, __VA_ARGS__)
#define BAD_HOOK(...) \
  vc__error_set(VC_ERRCLASS_ADAPTER, VC_EINVALID, __VA_ARGS__)

typedef struct mc_state {
  int cloud;
  char *url;                  /* base and path */
  char *key;                  /* apikey (classic) or token (cloud) */
  char *secret;               /* webhook_secret */
  char did[MC_NATIONAL_DIGITS + 1];  /* "" when not configured */
  int zone_min;
} mc_state;

/* ------------------------------------------------------------------ */
/* numbers                                                             */

/* The national digits of an Indian number given as E.164 or as the 10
 * digits themselves (a DID in config); -1 for anything else. */
static int national(char out[MC_NATIONAL_DIGITS + 1], const char *s)
{
  size_t pre = strlen(MC_COUNTRY_PREFIX);

  if (s == NULL)
    return -1;
  if (strncmp(s, MC_COUNTRY_PREFIX, pre) == 0)
    s += pre;
  else if (s[0] == '+')
    return -1;
  if (strlen(s) != MC_NATIONAL_DIGITS || s[0] == '0' ||
      !vc__all_of(s, MC_NATIONAL_DIGITS, vc__is_digit))
    return -1;
  memcpy(out, s, MC_NATIONAL_DIGITS + 1);
  return 0;
}

/* ------------------------------------------------------------------ */
/* init / fini                                                         */

static void mc_fini(void *state)
{
  mc_state *st = state;

  if (st == NULL)
    return;
  vc__free(st->url);
  vc__adapter_free_secret(st->key);
  vc__adapter_free_secret(st->secret);
  vc__wipe(st, sizeof(*st));
  vc__free(st);
}

static int is_indian(const char *s)
{
  char d[MC_NATIONAL_DIGITS + 1];

  return national(d, s) == 0;
}

static int read_config(void *state, const cJSON *cfg)
{
  mc_state *st = state;
  static const char *const known[] = {
    "api", "base_url", "did", "caller_ids", "timezone"
  };
  const char *api, *base, *did, *zone;
  vc_buf url = VC_BUF_INIT;
  size_t n = 0;
  int rc;

  if ((rc = vc__adapter_check_keys(cfg, "config", known,
                                   VC_ARRAY_SIZE(known), 1)) < 0 ||
      (rc = vc__adapter_get_str(&api, cfg, "config", "api")) < 0 ||
      (rc = vc__adapter_get_str(&base, cfg, "config", "base_url")) < 0 ||
      (rc = vc__adapter_get_str(&did, cfg, "config", "did")) < 0 ||
      (rc = vc__adapter_get_str(&zone, cfg, "config", "timezone")) < 0 ||
      (rc = vc__voip_caller_ids(cfg, CALLER_IDS_MAX, is_indian, "numbers",
                                "an Indian number (+91 and 10 "
                                "digits)")) < 0)
    return rc;
  if (api != NULL && strcmp(api, "classic") != 0 &&
      strcmp(api, "cloud") != 0)
    return BAD_INPUT("config.api must be \"classic\" or \"cloud\"");
  st->cloud = api != NULL && strcmp(api, "cloud") == 0;
  if (did != NULL && national(st->did, did) < 0)
    return BAD_INPUT("config.did must be an Indian number (+91 and 10 "
                     "digits, or the 10 digits)");
  if ((rc = vc__voip_zone(&st->zone_min, zone ? zone : MC_DEFAULT_ZONE,
                          "config.timezone")) < 0)
    return rc;
  if (base == NULL)
    base = st->cloud ? MC_CLOUD_BASE : MC_CLASSIC_BASE;
  if ((rc = vc__adapter_check_base_url(base, BASE_URL_MAX, &n)) < 0 ||
      (rc = vc__buf_put(&url, base, n)) < 0 ||
      (rc = vc__buf_puts(&url, st->cloud ? MC_CLOUD_PATH
                                         : MC_CLASSIC_PATH)) < 0) {
    vc_buf_dispose(&url);
    return rc;
  }
  st->url = url.ptr;
  return 0;
}

static int read_credentials(void *state, const cJSON *cred)
{
  mc_state *st = state;
  static const char *const known[] = {
    "api_key", "token", "webhook_secret"
  };
  const char *want = st->cloud ? "token" : "api_key";
  const char *other = st->cloud ? "api_key" : "token";
  int rc;

  if ((rc = vc__adapter_check_keys(cred, "credentials", known,
                                   VC_ARRAY_SIZE(known), 0)) < 0)
    return rc;
  if (cJSON_GetObjectItemCaseSensitive(cred, other) != NULL)
    return BAD_INPUT("credentials.%s is for the %s API (config.api)",
                     other, st->cloud ? "classic" : "cloud");
  if ((rc = vc__adapter_read_secret(&st->key, cred, want, 1, SECRET_MAX,
                                    1)) < 0 ||
      (rc = vc__adapter_read_secret(&st->secret, cred, "webhook_secret",
                                    VC__VOIP_SECRET_MIN, VC__VOIP_SECRET_MAX,
                                    1)) < 0)
    return rc;
  if (st->key == NULL)
    return BAD_INPUT("credentials.%s is required", want);
  if (st->secret == NULL)
    return BAD_INPUT("credentials.webhook_secret is required");
  return 0;
}

static int mc_init(void **state, const char *config_json,
                   const char *credentials_json)
{
  return vc__adapter_init(state, sizeof(mc_state), config_json,
                          credentials_json, read_config, read_credentials,
                          mc_fini);
}

/* ------------------------------------------------------------------ */
/* build_call                                                          */

static int query_add(vc_buf *url, const char *name, const char *value)
{
  int rc;

  if ((rc = vc__buf_printf(url, "%c%s=", strchr(url->ptr, '?') ? '&' : '?',
                           name)) < 0)
    return rc;
  return vc__form_encode(url, value, strlen(value));
}

static int build_classic(const mc_state *st, const vc_call_outbound *call,
                         const char *agent, const char *cust,
                         const char *did, const char *cb, vc_http_out *req)
{
  vc_buf url = VC_BUF_INIT;
  char mct[16];
  int rc;

  if ((rc = vc__buf_puts(&url, st->url)) < 0 ||
      (rc = query_add(&url, MC_Q_KEY, st->key)) < 0 ||
      (rc = query_add(&url, MC_Q_AGENT, agent)) < 0 ||
      (rc = query_add(&url, MC_Q_CUSTOMER, cust)) < 0 ||
      (did[0] && (rc = query_add(&url, MC_Q_DID, did)) < 0) ||
      (rc = query_add(&url, MC_Q_URL, cb)) < 0 ||
      (rc = query_add(&url, MC_Q_REFID, call->call_id)) < 0)
    goto out;
  if (call->time_limit_s > 0) {
    snprintf(mct, sizeof(mct), "%d", call->time_limit_s);
    if ((rc = query_add(&url, MC_Q_MAX_TIME, mct)) < 0)
      goto out;
  }
  if ((rc = vc_http_out_set_target(req, "GET", url.ptr)) < 0)
    goto out;
  rc = vc_http_out_add_header(req, "Accept", "application/json");
out:
  vc__buf_wipe(&url);          /* the key is in it */
  vc_buf_dispose(&url);
  return rc;
}

static int build_cloud(const mc_state *st, const vc_call_outbound *call,
                       const char *agent, const char *cust,
                       const char *did, const char *cb, vc_http_out *req)
{
  cJSON *o = cJSON_CreateObject();
  char *body = NULL;
  int rc;

  if (o == NULL ||
      !cJSON_AddStringToObject(o, MC_J_TOKEN, st->key) ||
      !cJSON_AddStringToObject(o, MC_Q_AGENT, agent) ||
      !cJSON_AddStringToObject(o, MC_Q_CUSTOMER, cust) ||
      !cJSON_AddStringToObject(o, MC_J_URL, cb) ||
      !cJSON_AddStringToObject(o, MC_Q_REFID, call->call_id) ||
      (did[0] && !cJSON_AddStringToObject(o, MC_Q_DID, did)) ||
      (body = cJSON_PrintUnformatted(o)) == NULL) {
    rc = vc_error_set_oom();
    goto out;
  }
  if ((rc = vc_http_out_set_target(req, "POST", st->url)) < 0 ||
      (rc = vc_http_out_add_header(req, "Content-Type",
                                   "application/json")) < 0 ||
      (rc = vc_http_out_add_header(req, "Accept", "application/json")) < 0)
    goto out;
  rc = vc_http_out_set_body(req, body, strlen(body));
out:
  if (body != NULL) {
    vc__wipe(body, strlen(body));
    cJSON_free(body);
  }
  vc__json_wipe(o);
  cJSON_Delete(o);
  return rc;
}

static int mc_build_call(void *state, const vc_call_outbound *call,
                         vc_http_out *req)
{
  const mc_state *st = state;
  char agent[MC_NATIONAL_DIGITS + 1], cust[MC_NATIONAL_DIGITS + 1];
  char did[MC_NATIONAL_DIGITS + 1] = "";
  vc_buf cb = VC_BUF_INIT;
  int rc;

  VC_ASSERT_ARG(st);
  VC_ASSERT_ARG(call);
  VC_ASSERT_ARG(req);
  VC_CHECK_VERSION(call, VC_CALL_OUTBOUND_VERSION, "vc_call_outbound");
  if (national(agent, call->agent) < 0)
    return BAD_INPUT("mCube dials only Indian numbers (+91 and 10 "
                     "digits): the agent's number is not one");
  if (national(cust, call->customer) < 0)
    return BAD_INPUT("mCube dials only Indian numbers (+91 and 10 "
                     "digits): the customer's number is not one");
  /* The caller id shown is the DID: the call's, else the channel's. */
  if (call->caller_id != NULL && call->caller_id[0] != '\0') {
    if (national(did, call->caller_id) < 0)
      return BAD_INPUT("the caller id is not an Indian number");
  } else {
    memcpy(did, st->did, sizeof(did));
  }
  if (!vc__voip_is_id(call->call_id, REFID_MAX))
    return BAD_INPUT("the call id is not an id");
  if (call->time_limit_s < 0 || call->time_limit_s > MC_MAX_TIME_S)
    return BAD_INPUT("the call's time limit must be 0 to %d seconds",
                     MC_MAX_TIME_S);
  if ((rc = vc__voip_callback_url(&cb, call->webhook_url, "status",
                                  st->secret, call->call_id)) < 0)
    return rc;
  rc = st->cloud ? build_cloud(st, call, agent, cust, did, cb.ptr, req)
                 : build_classic(st, call, agent, cust, did, cb.ptr, req);
  vc_buf_dispose(&cb);
  return rc;
}

/* ------------------------------------------------------------------ */
/* parse_call                                                          */

static void classify(vc_send_result *out, int status, const char *msg)
{
  out->outcome = VC_SEND_RETRY;
  out->error = VC_EPROVIDER;
  if (status == 429) {
    out->error = VC_ERATELIMIT;
    return;
  }
  if (status == 401 || status == 403) {
    out->outcome = VC_SEND_FAILOVER;
    out->error = VC_EAUTH;
    return;
  }
  if (status >= 500 || status == 408)
    return;
  if ((status >= 200 && status < 300) || status == 400 || status == 422) {
    for (size_t i = 0; i < VC_ARRAY_SIZE(MC_REFUSALS); i++)
      if (vc__voip_contains(msg, MC_REFUSALS[i].word)) {
        out->outcome = MC_REFUSALS[i].outcome;
        out->error = MC_REFUSALS[i].error;
        return;
      }
    out->outcome = VC_SEND_REJECTED;
    out->error = VC_EINVALID;
    return;
  }
  out->outcome = VC_SEND_FAILOVER;    /* 404, 405, ...: this channel */
}

/* status true, "true" or 1: 1; false, "false" or 0: 0; else -1. */
static int status_of(const cJSON *doc)
{
  const cJSON *s = cJSON_GetObjectItemCaseSensitive(doc, MC_A_STATUS);

  if (cJSON_IsBool(s))
    return cJSON_IsTrue(s);
  if (cJSON_IsNumber(s) && (s->valuedouble == 0 || s->valuedouble == 1))
    return s->valuedouble == 1;
  if (cJSON_IsString(s) && strcasecmp(s->valuestring, "true") == 0)
    return 1;
  if (cJSON_IsString(s) && strcasecmp(s->valuestring, "false") == 0)
    return 0;
  return -1;
}

static int mc_parse_call(void *state, const vc_call_outbound *call,
                         const vc_http_response *res, vc_send_result *out)
{
  cJSON *doc = NULL;
  const cJSON *id;
  const char *msg;
  int ok;

  VC_UNUSED(state);
  VC_ASSERT_ARG(call);
  VC_ASSERT_ARG(res);
  VC_ASSERT_ARG(out);
  doc = vc__voip_answer(res);
  ok = status_of(doc);
  if (res->status >= 200 && res->status < 300 && ok == 1) {
    id = cJSON_GetObjectItemCaseSensitive(doc, MC_A_CALL_ID);
    out->outcome = VC_SEND_ACCEPTED;
    if (cJSON_IsString(id) && vc__voip_is_id(id->valuestring,
                                             PROVIDER_ID_MAX))
      snprintf(out->provider_id, sizeof(out->provider_id), "%s",
               id->valuestring);
    else if (cJSON_IsNumber(id) && id->valuedouble >= 1 &&
             id->valuedouble < 1e15)
      snprintf(out->provider_id, sizeof(out->provider_id), "%lld",
               (long long)id->valuedouble);
    else
      snprintf(out->provider_id, sizeof(out->provider_id), "%s",
               call->call_id);
    goto out;
  }
  if ((msg = vc__json_str(doc, MC_A_MESSAGE)) != NULL && msg[0] != '\0')
    vc__copy_line(out->error_message, sizeof(out->error_message), msg,
                  strlen(msg));
  else
    snprintf(out->error_message, sizeof(out->error_message),
             "HTTP %d from mCube%s", res->status,
             ok == 0 ? " with status false" : "");
  if (res->status >= 200 && res->status < 300 && ok != 0) {
    /* 2xx that says nothing we can read */
    out->outcome = VC_SEND_RETRY;
    out->error = VC_EPROVIDER;
    goto out;
  }
  classify(out, res->status, msg);
  if (out->outcome == VC_SEND_RETRY)
    vc__voip_retry_after(out, res);
out:
  cJSON_Delete(doc);
  return 0;
}

/* ------------------------------------------------------------------ */
/* webhooks                                                            */

static int mc_verify_webhook(void *state, const vc_http_request *req,
                             vc_webhook_env *env)
{
  const mc_state *st = state;

  VC_UNUSED(env);
  VC_ASSERT_ARG(st);
  return vc__voip_verify(st->secret, req);
}

/* Words equal with case and spaces ignored. */
static int same_word(const char *a, const char *b)
{
  for (;;) {
    while (*a == ' ')
      a++;
    while (*b == ' ')
      b++;
    if (*a == '\0' || *b == '\0')
      return *a == *b;
    if ((*a | 0x20) != (*b | 0x20))
      return 0;
    a++;
    b++;
  }
}

/* "HH:MM:SS" as seconds; -1 when not. */
static long hms(const char *s)
{
  if (s == NULL || strlen(s) != 8 || s[2] != ':' || s[5] != ':' ||
      !vc__is_digit((unsigned char)s[0]) ||
      !vc__is_digit((unsigned char)s[1]) ||
      !vc__is_digit((unsigned char)s[3]) ||
      !vc__is_digit((unsigned char)s[4]) ||
      !vc__is_digit((unsigned char)s[6]) ||
      !vc__is_digit((unsigned char)s[7]) || s[3] > '5' || s[6] > '5')
    return -1;
  return ((s[0] - '0') * 10 + (s[1] - '0')) * 3600 +
         ((s[3] - '0') * 10 + (s[4] - '0')) * 60 +
         (s[6] - '0') * 10 + (s[7] - '0');
}

typedef struct mc_hook {
  const char *callid, *dialstatus, *rec_url;
  int64_t start, end;
  long talk_s;
} mc_hook;

static int read_hook(mc_hook *h, const vc__form *f, int zone_min)
{
  const char *d, *a;
  int rc;

  memset(h, 0, sizeof(*h));
  h->callid = vc__voip_field(f, MC_CB_CALL_ID);
  if (h->callid == NULL || !vc__voip_is_id(h->callid, PROVIDER_ID_MAX))
    return BAD_HOOK("the callback has no valid %s", MC_CB_CALL_ID);
  h->dialstatus = vc__voip_field(f, MC_CB_DIALSTATUS);
  if (h->dialstatus == NULL || h->dialstatus[0] == '\0' ||
      strlen(h->dialstatus) > 64)
    return BAD_HOOK("the callback has no valid %s", MC_CB_DIALSTATUS);
  if ((rc = vc__voip_read_time(&h->start, f, MC_CB_START, zone_min)) < 0 ||
      (rc = vc__voip_read_time(&h->end, f, MC_CB_END, zone_min)) < 0)
    return rc;
  if (h->end == 0)
    return BAD_HOOK("the callback has no %s", MC_CB_END);
  if (h->start > h->end)
    return BAD_HOOK("%s is after %s", MC_CB_START, MC_CB_END);
  d = vc__voip_field(f, MC_CB_TALK_S);
  a = vc__voip_field(f, MC_CB_TALK_HMS);
  h->talk_s = 0;
  if (d != NULL && d[0] != '\0') {
    if ((h->talk_s = vc__voip_seconds(d)) < 0 || h->talk_s > SECONDS_MAX)
      return BAD_HOOK("%s is not a count of seconds", MC_CB_TALK_S);
  } else if (a != NULL && a[0] != '\0') {
    if ((h->talk_s = hms(a)) < 0 || h->talk_s > SECONDS_MAX)
      return BAD_HOOK("%s is not HH:MM:SS", MC_CB_TALK_HMS);
  }
  /* The end carries it: refused by the sink, after the leg events. */
  if (h->talk_s > VC__SINK_SECONDS_MAX)
    return BAD_HOOK("the talk time is longer than a call can last");
  h->rec_url = vc__voip_field(f, MC_CB_RECORDING);
  if (h->rec_url != NULL && h->rec_url[0] == '\0')
    h->rec_url = NULL;
  if (h->rec_url != NULL && !vc__voip_is_recording_url(h->rec_url, 2048))
    return BAD_HOOK("%s is not an http(s) URL", MC_CB_RECORDING);
  return 0;
}

static int leg_event(vc_event_sink *sink, const mc_hook *h, int type,
                     int leg, int64_t at)
{
  return vc__voip_leg_event(sink, h->callid, type, leg, at);
}

/*
 * The one callback: the leg events it implies, oldest first, then the
 * end and the recording. mCube gives no time for the agent's answer:
 * it and the customer's ringing take the time of the next known moment
 * (the customer's answer, or the end), as the core does for a state
 * it did not see.
 */
static int mc_report(vc_event_sink *sink, const mc_hook *h)
{
  int leg = VC_LEG_NONE, cause = VC_CAUSE_REJECTED, known = 0, rc;
  int64_t start = h->start ? h->start : h->end, tc;
  long talk = h->talk_s;

  for (size_t i = 0; i < VC_ARRAY_SIZE(MC_DIALSTATUS) && !known; i++)
    if (same_word(h->dialstatus, MC_DIALSTATUS[i].word)) {
      leg = MC_DIALSTATUS[i].leg;
      cause = MC_DIALSTATUS[i].cause;
      known = 1;
    }
  if (!(leg == VC_LEG_AGENT && cause == VC_CAUSE_UNREACHABLE) &&
      (rc = leg_event(sink, h, VC_UPDATE_RINGING, VC_LEG_AGENT,
                      start)) < 0)
    return rc;
  if (cause == VC_CAUSE_NORMAL) {
    tc = h->end - (int64_t)talk * 1000;
    if (tc < start)
      tc = start;
    if ((rc = leg_event(sink, h, VC_UPDATE_ANSWERED, VC_LEG_AGENT,
                        tc)) < 0 ||
        (rc = leg_event(sink, h, VC_UPDATE_RINGING, VC_LEG_CUSTOMER,
                        tc)) < 0 ||
        (rc = leg_event(sink, h, VC_UPDATE_ANSWERED, VC_LEG_CUSTOMER,
                        tc)) < 0)
      return rc;
  } else if (leg == VC_LEG_CUSTOMER) {
    if ((rc = leg_event(sink, h, VC_UPDATE_ANSWERED, VC_LEG_AGENT,
                        h->end)) < 0 ||
        (rc = leg_event(sink, h, VC_UPDATE_RINGING, VC_LEG_CUSTOMER,
                        h->end)) < 0)
      return rc;
    talk = 0;
  } else {
    talk = 0;
  }
  /* leg: the failing one, when dialstatus says */
  return vc__voip_report_end(sink, h->callid, leg, h->end, cause, talk,
                             h->dialstatus, h->rec_url);
}

static int mc_parse_webhook(void *state, const vc_http_request *req,
                            vc_event_sink *sink)
{
  const mc_state *st = state;
  vc__form f = { NULL, 0 };
  mc_hook h;
  int rc;

  VC_ASSERT_ARG(st);
  VC_ASSERT_ARG(req);
  VC_ASSERT_ARG(sink);
  if ((rc = vc__voip_status_fields(&f, req, "mCube")) < 0 ||
      (rc = read_hook(&h, &f, st->zone_min)) < 0)
    goto out;
  rc = mc_report(sink, &h);
out:
  vc__form_free(&f);
  return rc;
}

/* ------------------------------------------------------------------ */

const vc_adapter vc__adapter_mcube = {
  .version = VC_ADAPTER_VERSION,
  .name = "mcube",
  .kind = VC_CHANNEL_VOICE,
  .capabilities = VC_CAP_DELIVERY_REPORTS,
  .init = mc_init,
  .fini = mc_fini,
  .verify_webhook = mc_verify_webhook,
  .parse_webhook = mc_parse_webhook,
  .build_call = mc_build_call,
  .parse_call = mc_parse_call,
};
