/*
 * Exotel click-to-call (connect two numbers):
 *
 *   POST /v1/Accounts/{AccountSid}/Calls/connect[.json]
 *   GET  /v1/Accounts/{AccountSid}/Calls/{CallSid}[.json]
 *
 * Basic auth with the API key and token; the account sid only in the
 * path. Form parameters From (the agent, dialled first), To (the
 * customer, dialled once the agent answers), CallerId (an ExoPhone of
 * the account). Answers XML, or JSON with the .json suffix. The call's
 * life has two legs, each following its number's plan; the
 * StatusCallback gets the terminal post (and "answered" when asked),
 * multipart/form-data unless StatusCallbackContentType is JSON. Exotel
 * signs nothing (the library puts a secret in the URL).
 *
 * UNCONFIRMED (providers.md 2.3): the XML root TwilioResponse, the
 * RestException inner names (Status, Code, Message) and every error
 * text and code here; the call status of a connected call whose second
 * leg failed (taken to be that leg's outcome); how Legs is written in a
 * multipart body (Legs[0][Status], ...); the zone of the times (the
 * account's local time, exotel.utc_offset, +05:30 by default).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sim_int.h"

#define EX_PREFIX "/v1/Accounts/"

typedef struct ex_state {
  sim_voice v;                /* first: the shared voice state */
} ex_state;

static const char *const ex_defaults[] = {
  "account_sid", VC_SIM_EXOTEL_ACCOUNT_SID,
  "api_key", VC_SIM_EXOTEL_API_KEY,
  "api_token", VC_SIM_EXOTEL_API_TOKEN,
  /* The account's ExoPhones, comma-separated. */
  "caller_ids", VC_SIM_EXOTEL_CALLER_ID,
  "ring_ms", VC_SIM_VOICE_RING_MS,
  "talk_ms", VC_SIM_VOICE_TALK_MS,
  /* The account's local time, which Exotel writes its times in (the
   * zone is UNCONFIRMED: providers.md 2.3); "+HH:MM" or "-HH:MM". */
  "utc_offset", "+05:30",
  /* What a call costs per started minute of its Duration, in the
   * account's currency, shown as its Price this long after it ended
   * ("": never priced). Exotel says about five minutes. */
  "price_per_min", "1.200",
  "price_delay_ms", "2000",
  NULL
};

/* A time as Exotel writes it: local to the account, without a zone. */
static void ex_datetime(vc_sim *sim, char out[24], int64_t unix_ms)
{
  char off[16];
  int64_t min = 0;

  sim_setting(sim, "exotel.utc_offset", off, sizeof(off));
  if (strlen(off) == 6 && (off[0] == '+' || off[0] == '-') && off[3] == ':')
    min = (off[0] == '-' ? -1 : 1) *
      (((off[1] - '0') * 10 + (off[2] - '0')) * 60 +
       (off[4] - '0') * 10 + (off[5] - '0'));
  sim_voice_datetime(out, unix_ms + min * 60000);
}

static void ex_error(sim_resp *rs, int json, int status, const char *msg)
{
  sim_resp_reset(rs);
  rs->status = status;
  if (json) {
    rs->content_type = "application/json";
    sim_buf_printf(&rs->body, "{\"RestException\": {\"Status\": %d, "
                   "\"Code\": %d, \"Message\": ", status, status);
    sim_buf_json_str(&rs->body, msg);
    sim_buf_str(&rs->body, "}}");
  } else {
    rs->content_type = "application/xml";
    sim_buf_printf(&rs->body, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                   "<TwilioResponse><RestException><Status>%d</Status>"
                   "<Code>%d</Code><Message>", status, status);
    for (; *msg; msg++)         /* the message may echo the request */
      sim_buf_str(&rs->body, *msg == '<' ? "&lt;" : *msg == '>' ? "&gt;"
                  : *msg == '&' ? "&amp;" : (char[2]){ *msg, 0 });
    sim_buf_str(&rs->body, "</Message></RestException></TwilioResponse>\n");
  }
}

static void ex_fault(vc_sim *sim, void *state, int status,
                     unsigned retry_after_s, sim_resp *rs)
{
  (void)sim;
  (void)state;
  if (status == 429) {
    ex_error(rs, 1, 429, "Too Many Requests");
    sim_buf_printf(&rs->headers, "Retry-After: %u\r\n", retry_after_s);
  } else if (status == 413) {
    ex_error(rs, 1, 413, "Request Entity Too Large");
  } else {
    ex_error(rs, 1, status, status == 503 ? "Service Unavailable"
                                          : "Internal Server Error");
  }
}

static int in_list(const char *list, const char *s)
{
  size_t sl = strlen(s);

  while (*list) {
    size_t n = strcspn(list, ",");
    if (n == sl && strncmp(list, s, n) == 0)
      return 1;
    list += n + (list[n] == ',');
  }
  return 0;
}

/* 0 when the Basic credentials are the account's. */
static int ex_auth(vc_sim *sim, const sim_req *rq, const char *account)
{
  char key[128], token[128], sid[64], pair[260], want[360];
  size_t len = 0;
  const char *h = sim_req_header(rq, "Authorization", &len);

  sim_setting(sim, "exotel.api_key", key, sizeof(key));
  sim_setting(sim, "exotel.api_token", token, sizeof(token));
  sim_setting(sim, "exotel.account_sid", sid, sizeof(sid));
  snprintf(pair, sizeof(pair), "%s:%s", key, token);
  if (h == NULL || sim_base64(want, sizeof(want), pair, strlen(pair)) != 0 ||
      !sim_prefix_ci(h, len, "Basic ") || len - 6 != strlen(want) ||
      memcmp(h + 6, want, len - 6) != 0 || strcmp(account, sid) != 0)
    return -1;
  return 0;
}

/* ---- the call and its callbacks ---------------------------------------- */

typedef struct ex_call {
  const sim_vcall *c;
  const char *cb, *ctype;     /* StatusCallback; "json" or multipart */
  int all_fields;             /* StatusCallbackEvents given */
  int record;
  char base[128];
  vc_sim *sim;
} ex_call;

static void field(sim_buf *b, int json, const char *bnd, const char *k,
                  const char *v)
{
  if (json) {
    sim_buf_str(b, b->len > 1 ? ", " : "");
    sim_buf_json_str(b, k);
    sim_buf_str(b, ": ");
    sim_buf_json_str(b, v);
    return;
  }
  sim_buf_printf(b, "--%s\r\nContent-Disposition: form-data; name=\"%s\""
                 "\r\n\r\n%s\r\n", bnd, k, v ? v : "");
}

/*
 * One callback. Leg statuses and on-call seconds; `talk_s` the
 * conversation; `at` the event time; `event` "terminal" or "answered".
 */
static int ex_callback(const ex_call *x, sim_post *out, const char *event,
                       const char *status, int64_t at,
                       const char *const leg_status[2], long leg_s[2],
                       long talk_s)
{
  const sim_vcall *c = x->c;
  int json = strcmp(x->ctype, "json") == 0;
  char bnd[40], upd[24], created[24], start[24], end[24], n[24], rec[300];
  sim_buf b = { 0 };
  int i;

  memset(out, 0, sizeof(*out));
  memcpy(bnd, "----vcsim", 9);
  sim_random_hex(bnd + 9, 24);
  ex_datetime(x->sim, upd, at);
  ex_datetime(x->sim, created, c->created_ms);
  ex_datetime(x->sim, start, c->created_ms);
  ex_datetime(x->sim, end, at);
  rec[0] = '\0';
  if (x->record && talk_s > 0)
    snprintf(rec, sizeof(rec), "%s/exotel/recordings/%s.mp3", x->base,
             c->id);
  if (json)
    sim_buf_str(&b, "{");
  field(&b, json, bnd, "CallSid", c->id);
  field(&b, json, bnd, "Status", status);
  field(&b, json, bnd, "RecordingUrl", rec[0] ? rec : NULL);
  field(&b, json, bnd, "DateUpdated", upd);
  if (x->all_fields) {
    field(&b, json, bnd, "EventType", event);
    field(&b, json, bnd, "DateCreated", created);
    field(&b, json, bnd, "To", c->to);
    field(&b, json, bnd, "From", c->from);
    field(&b, json, bnd, "PhoneNumberSid", c->caller_id);
    field(&b, json, bnd, "StartTime", start);
    field(&b, json, bnd, "EndTime", strcmp(event, "terminal") == 0 ? end
                                                                   : NULL);
    snprintf(n, sizeof(n), "%ld", talk_s);
    field(&b, json, bnd, "ConversationDuration", n);
    field(&b, json, bnd, "Direction", "outbound-api");
    field(&b, json, bnd, "CustomField", c->custom);
    if (json) {
      sim_buf_str(&b, ", \"Legs\": [");
      for (i = 0; i < 2; i++)
        sim_buf_printf(&b, "%s{\"OnCallDuration\": %ld, \"Status\": \"%s\", "
                       "\"AnsweredBy\": %s}", i ? ", " : "", leg_s[i],
                       leg_status[i], strcmp(leg_status[i], "completed") == 0
                       ? "\"human\"" : "null");
      sim_buf_str(&b, "]");
    } else {
      for (i = 0; i < 2; i++) {
        char k[40];
        snprintf(k, sizeof(k), "Legs[%d][OnCallDuration]", i);
        snprintf(n, sizeof(n), "%ld", leg_s[i]);
        field(&b, json, bnd, k, n);
        snprintf(k, sizeof(k), "Legs[%d][Status]", i);
        field(&b, json, bnd, k, leg_status[i]);
        snprintf(k, sizeof(k), "Legs[%d][AnsweredBy]", i);
        field(&b, json, bnd, k, strcmp(leg_status[i], "completed") == 0
              ? "human" : "");
      }
    }
  }
  if (json)
    sim_buf_str(&b, "}");
  else
    sim_buf_printf(&b, "--%s--\r\n", bnd);
  out->url = strdup(x->cb);
  if (json)
    out->content_type = strdup("application/json");
  else if (asprintf(&out->content_type, "multipart/form-data; boundary=%s",
                    bnd) < 0)
    out->content_type = NULL;
  out->headers = strdup("User-Agent: Exotel\n");
  out->body = b.ptr;
  out->body_len = b.len;
  if (b.oom || !out->url || !out->content_type || !out->headers || !b.ptr)
    return -ENOMEM;
  return 0;
}

static const char *ex_final(vc_sim_call_outcome o)
{
  return o == VC_SIM_CALL_BUSY ? "busy" : o == VC_SIM_CALL_FAILED ? "failed"
    : "no-answer";            /* no-answer, or the caller gave up */
}

/* The builder of sim_voice_two_legs: Exotel's words for each moment. */
static int ex_moment(void *ctx, const sim_voice_moment *m, sim_post *out,
                     const char **status)
{
  const ex_call *x = ctx;
  const char *legs[2] = { "no-answer", "no-answer" };
  long secs[2] = { m->leg_s[0], m->leg_s[1] };

  if (!m->final) {
    legs[0] = legs[1] = "in-progress";
    *status = "in-progress";
  } else if (m->leg == 1) {
    legs[0] = ex_final(m->outcome);   /* leg 2 never dialled: UNCONFIRMED */
    *status = legs[0];
  } else if (m->leg == 2) {
    legs[0] = "completed";
    legs[1] = ex_final(m->outcome);
    *status = legs[1];
  } else {
    legs[0] = legs[1] = "completed";
    *status = "completed";
  }
  if (x->cb == NULL)
    return 0;
  return ex_callback(x, out, m->final ? "terminal" : "answered", *status,
                     m->at, legs, secs, m->talk_s);
}

/* ---- the endpoints ---------------------------------------------------- */

static void ex_resource(vc_sim *sim, sim_resp *rs, int json,
                        const sim_vcall *c)
{
  char created[24], upd[24], start[24], end[24], dur[24], price[40];
  long secs = c->ended && c->answered_ms
              ? (long)((c->ended_ms - c->answered_ms + 999) / 1000) : 0L;
  /* null until Exotel priced the call, minutes after its end */
  int priced = sim_voice_price(sim, "exotel", c, secs, 3, 0, price,
                               sizeof(price));

  ex_datetime(sim, created, c->created_ms);
  ex_datetime(sim, upd, c->ended_ms ? c->ended_ms : c->created_ms);
  ex_datetime(sim, start, c->created_ms);
  ex_datetime(sim, end, c->ended_ms);
  snprintf(dur, sizeof(dur), "%ld", secs);
  sim_resp_reset(rs);
  rs->status = 200;
  if (json) {
    rs->content_type = "application/json";
    sim_buf_str(&rs->body, "{\"Call\": {\"Sid\": ");
    sim_buf_json_str(&rs->body, c->id);
    sim_buf_str(&rs->body, ", \"ParentCallSid\": null, \"DateCreated\": ");
    sim_buf_json_str(&rs->body, created);
    sim_buf_str(&rs->body, ", \"DateUpdated\": ");
    sim_buf_json_str(&rs->body, upd);
    sim_buf_str(&rs->body, ", \"AccountSid\": ");
    sim_buf_json_str(&rs->body, c->account);
    sim_buf_str(&rs->body, ", \"To\": ");
    sim_buf_json_str(&rs->body, c->to);
    sim_buf_str(&rs->body, ", \"From\": ");
    sim_buf_json_str(&rs->body, c->from);
    sim_buf_str(&rs->body, ", \"PhoneNumberSid\": ");
    sim_buf_json_str(&rs->body, c->caller_id);
    sim_buf_str(&rs->body, ", \"Status\": ");
    sim_buf_json_str(&rs->body, c->status);
    sim_buf_str(&rs->body, ", \"StartTime\": ");
    sim_buf_json_str(&rs->body, start);
    sim_buf_str(&rs->body, ", \"EndTime\": ");
    sim_buf_json_str(&rs->body, c->ended ? end : NULL);
    sim_buf_str(&rs->body, ", \"Duration\": ");
    sim_buf_json_str(&rs->body, c->ended ? dur : NULL);
    sim_buf_str(&rs->body, ", \"Price\": ");
    sim_buf_json_str(&rs->body, priced ? price : NULL);
    sim_buf_printf(&rs->body, ", \"Direction\": "
                   "\"outbound-api\", \"AnsweredBy\": null, "
                   "\"RecordingUrl\": null, \"Uri\": \"/v1/Accounts/%s/"
                   "Calls/%s.json\"}}", c->account, c->id);
    return;
  }
  rs->content_type = "application/xml";
  sim_buf_printf(&rs->body, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                 "<TwilioResponse>\n <Call>\n  <Sid>%s</Sid>\n"
                 "  <ParentCallSid/>\n  <DateCreated>%s</DateCreated>\n"
                 "  <DateUpdated>%s</DateUpdated>\n"
                 "  <AccountSid>%s</AccountSid>\n  <To>%s</To>\n"
                 "  <From>%s</From>\n  <PhoneNumberSid>%s</PhoneNumberSid>\n"
                 "  <Status>%s</Status>\n  <StartTime>%s</StartTime>\n"
                 "  <EndTime>%s</EndTime>\n  <Duration>%s</Duration>\n"
                 "  <Price>%s</Price>\n  <Direction>outbound-api</Direction>\n"
                 "  <AnsweredBy/>\n  <RecordingUrl/>\n"
                 "  <Uri>/v1/Accounts/%s/Calls/%s</Uri>\n </Call>\n"
                 "</TwilioResponse>\n", c->id, created, upd, c->account,
                 c->to, c->from, c->caller_id, c->status, start,
                 c->ended ? end : "", c->ended ? dur : "",
                 priced ? price : "", c->account, c->id);
}

static int ex_check(vc_sim *sim, const sim_form *f, int json, sim_resp *rs)
{
  const char *from = sim_form_get(f, "From"), *to = sim_form_get(f, "To");
  const char *cid = sim_form_get(f, "CallerId");
  const char *ct = sim_form_get(f, "StatusCallbackContentType");
  const char *tl = sim_form_get(f, "TimeLimit");
  const char *cf = sim_form_get(f, "CustomField");
  char list[1024], msg[300];
  size_t i;

  if (from == NULL || *from == '\0') {
    ex_error(rs, json, 400, "Missing parameter From");
    return -1;
  }
  if (to == NULL || *to == '\0') {
    ex_error(rs, json, 400, "Missing parameter To");
    return -1;
  }
  if (cid == NULL || *cid == '\0') {
    ex_error(rs, json, 400, "Missing parameter CallerId");
    return -1;
  }
  if (!sim_voice_number(from) || !sim_voice_number(to)) {
    snprintf(msg, sizeof(msg), "Invalid phone number: %.64s",
             sim_voice_number(from) ? to : from);
    ex_error(rs, json, 400, msg);
    return -1;
  }
  sim_setting(sim, "exotel.caller_ids", list, sizeof(list));
  if (!in_list(list, cid)) {
    snprintf(msg, sizeof(msg), "CallerId %.64s is not an ExoPhone of this "
             "account", cid);
    ex_error(rs, json, 400, msg);
    return -1;
  }
  if (tl != NULL && (strspn(tl, "0123456789") != strlen(tl) || !*tl ||
                     atol(tl) > 14400 || atol(tl) < 1)) {
    ex_error(rs, json, 400, "TimeLimit must be between 1 and 14400");
    return -1;
  }
  if (cf != NULL && strlen(cf) > 128) {
    ex_error(rs, json, 400, "CustomField must be at most 128 characters");
    return -1;
  }
  if (ct != NULL && strcmp(ct, "multipart/form-data") != 0 &&
      strcmp(ct, "application/json") != 0) {
    ex_error(rs, json, 400, "Invalid StatusCallbackContentType");
    return -1;
  }
  for (i = 0; i < f->n; i++)
    if (strncmp(f->key[i], "StatusCallbackEvents", 20) == 0 &&
        strcmp(f->val[i], "terminal") != 0 &&
        strcmp(f->val[i], "answered") != 0) {
      ex_error(rs, json, 400, "Invalid StatusCallbackEvents");
      return -1;
    }
  return 0;
}

static void ex_connect(ex_state *st, const sim_form *f, const char *account,
                       int json, sim_resp *rs)
{
  vc_sim *sim = st->v.sim;
  const char *from = sim_form_get(f, "From"), *to = sim_form_get(f, "To");
  const char *cb = sim_form_get(f, "StatusCallback");
  const char *ct = sim_form_get(f, "StatusCallbackContentType");
  const char *rec = sim_form_get(f, "Record");
  const char *cf = sim_form_get(f, "CustomField");
  const char *tl = sim_form_get(f, "TimeLimit");
  const char *tmo = sim_form_get(f, "TimeOut");
  vc_sim_call_plan p1, p2;
  sim_post steps[SIM_VOICE_STEPS];
  sim_accept_info a;
  const char *keys[2];
  sim_vcall *c;
  ex_call x;
  size_t i, n;
  int answered = 0, events = 0;

  if (ex_check(sim, f, json, rs) != 0)
    return;
  for (i = 0; i < f->n; i++)
    if (strncmp(f->key[i], "StatusCallbackEvents", 20) == 0) {
      events = 1;
      answered |= strcmp(f->val[i], "answered") == 0;
    }
  sim_voice_plan(&st->v, from, &p1);
  sim_voice_plan(&st->v, to, &p2);
  /* TimeLimit cuts the conversation; TimeOut each leg's ringing. */
  sim_voice_limits(&p1, &p2, tmo ? strtoul(tmo, NULL, 10) : 0,
                   tl ? strtoul(tl, NULL, 10) : 0);
  pthread_mutex_lock(&st->v.mu);
  c = sim_voice_add(&st->v);
  if (c == NULL) {
    pthread_mutex_unlock(&st->v.mu);
    ex_fault(sim, st, 500, 0, rs);
    return;
  }
  sim_random_hex(c->id, 32);
  snprintf(c->to, sizeof(c->to), "%s", to);
  snprintf(c->from, sizeof(c->from), "%s", from);
  snprintf(c->caller_id, sizeof(c->caller_id), "%s",
           sim_form_get(f, "CallerId"));
  snprintf(c->account, sizeof(c->account), "%s", account);
  snprintf(c->custom, sizeof(c->custom), "%s", cf ? cf : "");
  snprintf(c->status, sizeof(c->status), "queued");
  c->created_ms = sim_now_ms();
  memset(&x, 0, sizeof(x));
  x.c = c;
  x.sim = sim;
  x.cb = cb && *cb ? cb : NULL;
  x.ctype = ct && strcmp(ct, "application/json") == 0 ? "json" : "multipart";
  x.all_fields = events;
  x.record = rec != NULL && strcasecmp(rec, "true") == 0;
  snprintf(x.base, sizeof(x.base), "%s", vc_sim_base_url(sim));
  n = sim_voice_two_legs(c, &p1, &p2, answered, ex_moment, &x, steps);
  ex_resource(sim, rs, json, c);
  pthread_mutex_unlock(&st->v.mu);

  keys[0] = to;
  keys[1] = from;
  a.message_id = c->id;
  a.keys = keys;
  a.nkeys = 2;
  a.identity = sim_fnv1a(sim_fnv1a(SIM_FNV_INIT, from, strlen(from) + 1),
                         to, strlen(to) + 1);
  sim_accept(sim, "exotel", rs, &a);
  sim_voice_schedule(sim, "exotel", steps, n);
}

static void ex_handle(vc_sim *sim, void *state, const sim_req *rq,
                      sim_resp *rs)
{
  ex_state *st = state;
  const char *p = rq->path + strlen(EX_PREFIX), *slash = strchr(p, '/');
  const char *rest, *ct;
  char account[64], sid[48];
  size_t ctlen = 0, sl;
  int json;
  sim_form f;

  memset(&f, 0, sizeof(f));
  account[0] = '\0';
  if (slash != NULL && (size_t)(slash - p) < sizeof(account)) {
    memcpy(account, p, (size_t)(slash - p));
    account[slash - p] = '\0';
  }
  json = strlen(rq->path) > 5 &&
    strcmp(rq->path + strlen(rq->path) - 5, ".json") == 0;
  if (ex_auth(sim, rq, account) != 0) {
    ex_error(rs, json, 401, "Authentication is required to view this page.");
    sim_buf_str(&rs->headers, "WWW-Authenticate: Basic realm=\"Exotel\"\r\n");
    return;
  }
  if (slash == NULL || strncmp(slash, "/Calls/", 7) != 0) {
    ex_error(rs, json, 404, "Resource not found");
    return;
  }
  rest = slash + 7;
  if (strcmp(rest, "connect") == 0 || strcmp(rest, "connect.json") == 0) {
    if (strcmp(rq->method, "POST") != 0) {
      ex_error(rs, json, 405, "Method Not Allowed");
      return;
    }
    /* Form fields: urlencoded here (form-data is not parsed). */
    ct = sim_req_header(rq, "Content-Type", &ctlen);
    if (ct != NULL &&
        sim_prefix_ci(ct, ctlen, "application/x-www-form-urlencoded") &&
        sim_form_parse(&f, rq->body ? rq->body : "", rq->body_len) != 0) {
      ex_fault(sim, st, 500, 0, rs);
      return;
    }
    ex_connect(st, &f, account, json, rs);
    sim_form_free(&f);
    return;
  }
  sl = strcspn(rest, "/");
  if (rest[sl] != '\0' || sl - (json ? 5 : 0) == 0 ||
      sl - (json ? 5 : 0) >= sizeof(sid) || strcmp(rq->method, "GET") != 0) {
    ex_error(rs, json, 404, "Resource not found");
    return;
  }
  memcpy(sid, rest, sl - (json ? 5 : 0));
  sid[sl - (json ? 5 : 0)] = '\0';
  pthread_mutex_lock(&st->v.mu);
  {
    sim_vcall *c = sim_voice_find(&st->v, sid);
    if (c == NULL || strcmp(c->account, account) != 0)
      ex_error(rs, json, 404, "Resource not found");
    else
      ex_resource(sim, rs, json, c);
  }
  pthread_mutex_unlock(&st->v.mu);
}

static int ex_init(vc_sim *sim, void **state)
{
  ex_state *st = calloc(1, sizeof(*st));

  if (st == NULL)
    return -ENOMEM;
  if (sim_voice_init(&st->v, sim, "exotel") != 0) {
    free(st);
    return -ENOMEM;
  }
  *state = st;
  return 0;
}

static void ex_fini(void *state)
{
  ex_state *st = state;

  sim_voice_fini(&st->v);
  free(st);
}

const sim_provider sim_exotel = {
  .name = "exotel",
  .prefix = EX_PREFIX,
  .max_body = 1024 * 1024,
  .defaults = ex_defaults,
  .init = ex_init,
  .fini = ex_fini,
  .handle = ex_handle,
  .error = ex_fault,
  .sign = NULL,
  .match = NULL,
  .prepare = sim_voice_prepare,
  .response = NULL,
};
