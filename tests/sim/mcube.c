/*
 * mCube (VMC Technologies) click-to-call, both API generations seen in
 * public integrations:
 *
 *   classic  GET|POST /api/outboundcall   apikey, exenumber, custnumber,
 *            [did, url, refid, mct, wct] in the query or a form body
 *   cloud    POST /Restmcube-api/outbound-calls   JSON {HTTP_AUTHORIZATION,
 *            exenumber, custnumber, refurl, refid, [did]}, or the token
 *            as the raw Authorization header
 *
 * The agent (exenumber) rings first, then the customer (custnumber),
 * each by its number's plan. When the call ends mCube posts one callback
 * to `url`/`refurl`, or to the dashboard's URL (the webhook url set with
 * vc_sim_webhooks_set) when that is "1" or absent. Nothing is signed.
 *
 * UNCONFIRMED (providers.md 3: no mCube documentation was found; all of
 * this comes from third-party integrations, and much is the simulator's
 * choice): every path and parameter name; the answer bodies
 * {"status": true|false, "msg", "callid", "refid"} and their HTTP
 * statuses (mcube.error_status "200" answers refusals with 200); every
 * message text; the callback's field set and formats (JSON by default,
 * mcube.callback_format "form"); times in IST (+05:30, read off the
 * documented sample whose callid ends in the Unix time of its
 * starttime); callid as 10 digits and the Unix seconds; duration and
 * answeredtime as the conversation's length; the dialstatus and status
 * words other than ANSWER/Call complete, Busy/Customer Busy, NoAnswer,
 * Executive Busy and CANCEL; disconnectedby "Customer" for a completed
 * call; a recording (filename) per the account setting mcube.record, as
 * no request parameter for it is known.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "sim_int.h"

#define MC_CLASSIC "/api/outboundcall"
#define MC_CLOUD_DIR "/Restmcube-api/"
#define MC_CLOUD MC_CLOUD_DIR "outbound-calls"
/* India's offset: mCube writes local times (UNCONFIRMED). */
#define MC_IST_MS (19800LL * 1000)

typedef struct mc_state {
  sim_voice v;                /* first: the shared voice state */
} mc_state;

static const char *const mc_defaults[] = {
  "api_key", VC_SIM_MCUBE_API_KEY,        /* classic apikey */
  "token", VC_SIM_MCUBE_TOKEN,            /* cloud HTTP_AUTHORIZATION */
  "did", VC_SIM_MCUBE_DID,                /* clicktocalldid without did */
  "record", "1",                          /* the account records calls */
  "callback_format", "json",              /* or "form" */
  "error_status", "http",                 /* or "200" */
  "ring_ms", VC_SIM_VOICE_RING_MS,
  "talk_ms", VC_SIM_VOICE_TALK_MS,
  NULL
};

static int mc_match(const char *path)
{
  return strcmp(path, MC_CLASSIC) == 0 || strcmp(path, MC_CLASSIC "/") == 0 ||
    strncmp(path, MC_CLOUD_DIR, strlen(MC_CLOUD_DIR)) == 0;
}

static void mc_body(sim_resp *rs, int status, const char *msg)
{
  sim_resp_reset(rs);
  rs->status = status;
  rs->content_type = "application/json";
  sim_buf_str(&rs->body, "{\"status\": false, \"msg\": ");
  sim_buf_json_str(&rs->body, msg);
  sim_buf_str(&rs->body, "}");
}

/* A refusal; with mcube.error_status "200" only the body says so. */
static void mc_error(vc_sim *sim, sim_resp *rs, int status, const char *msg)
{
  char mode[16];

  sim_setting(sim, "mcube.error_status", mode, sizeof(mode));
  mc_body(rs, strcmp(mode, "200") == 0 ? 200 : status, msg);
}

static void mc_fault(vc_sim *sim, void *state, int status,
                     unsigned retry_after_s, sim_resp *rs)
{
  (void)sim;
  (void)state;
  if (status == 429) {
    mc_body(rs, 429, "Too Many Requests");
    sim_buf_printf(&rs->headers, "Retry-After: %u\r\n", retry_after_s);
  } else if (status == 413) {
    mc_body(rs, 413, "Request Entity Too Large");
  } else {
    mc_body(rs, status, status == 503 ? "Service Unavailable"
                                      : "Internal Server Error");
  }
}

/* ---- the request, from either generation ------------------------------ */

enum { MC_KEY, MC_AGENT, MC_CUST, MC_DID, MC_URL, MC_REFID, MC_MCT, MC_WCT,
       MC_NFIELDS };

typedef struct mc_req {
  int cloud;
  const char *v[MC_NFIELDS];  /* NULL when absent */
  char num[MC_NFIELDS][32];   /* JSON numbers written out */
  char hdr[1024];             /* a raw Authorization header */
} mc_req;

/* Classic names, then cloud names, per field. */
static const char *const mc_names[2][MC_NFIELDS] = {
  { "apikey", "exenumber", "custnumber", "did", "url", "refid", "mct",
    "wct" },
  { "HTTP_AUTHORIZATION", "exenumber", "custnumber", "did", "refurl",
    "refid", NULL, NULL },
};

/* The query's value, else the form body's. */
static void mc_from_forms(mc_req *r, const sim_form *q, const sim_form *b)
{
  int i;

  for (i = 0; i < MC_NFIELDS; i++) {
    r->v[i] = sim_form_get(q, mc_names[0][i]);
    if (r->v[i] == NULL)
      r->v[i] = sim_form_get(b, mc_names[0][i]);
  }
}

/* Strings as they are; numbers (integrations send refurl: 1) as text;
 * other types count as given but invalid. */
static void mc_from_json(mc_req *r, const cJSON *o)
{
  int i;

  for (i = 0; i < MC_NFIELDS; i++) {
    const cJSON *it;
    if (mc_names[1][i] == NULL)
      continue;
    it = cJSON_GetObjectItemCaseSensitive(o, mc_names[1][i]);
    if (cJSON_IsString(it))
      r->v[i] = it->valuestring;
    else if (cJSON_IsNumber(it) && it->valuedouble >= 0 &&
             it->valuedouble < 1e15 &&
             it->valuedouble == (double)(long long)it->valuedouble) {
      snprintf(r->num[i], sizeof(r->num[i]), "%lld",
               (long long)it->valuedouble);
      r->v[i] = r->num[i];
    } else if (it != NULL && !cJSON_IsNull(it)) {
      r->v[i] = "?";
    }
  }
}

static int mc_url_ok(const char *u)
{
  size_t n = strlen(u);

  return n < 1000 && (strncmp(u, "http://", 7) == 0 ||
                      strncmp(u, "https://", 8) == 0) &&
    strcspn(u, " \t\r\n") == n;
}

static int mc_seconds_ok(const char *s)
{
  size_t n = strlen(s);

  return n > 0 && n <= 5 && strspn(s, "0123456789") == n && atol(s) > 0 &&
    atol(s) <= 14400;
}

/* 0, or -1 with the refusal filled. Auth first, then the fields. */
static int mc_check(vc_sim *sim, const mc_req *r, sim_resp *rs)
{
  const char *key = r->v[MC_KEY], *agent = r->v[MC_AGENT];
  const char *cust = r->v[MC_CUST], *url = r->v[MC_URL];
  char want[1024], msg[200];

  sim_setting(sim, r->cloud ? "mcube.token" : "mcube.api_key", want,
              sizeof(want));
  if (key == NULL || *key == '\0') {
    mc_error(sim, rs, 401, r->cloud ? "Authorization token is required"
                                    : "apikey is required");
    return -1;
  }
  if (strcmp(key, want) != 0) {
    mc_error(sim, rs, 401, r->cloud ? "Invalid token" : "Invalid apikey");
    return -1;
  }
  if (agent == NULL || *agent == '\0') {
    mc_error(sim, rs, 400, "exenumber is required");
    return -1;
  }
  if (cust == NULL || *cust == '\0') {
    mc_error(sim, rs, 400, "custnumber is required");
    return -1;
  }
  if (!sim_voice_number(agent) || !sim_voice_number(cust)) {
    int bad = !sim_voice_number(agent);
    snprintf(msg, sizeof(msg), "Invalid %s: %.64s",
             bad ? "exenumber" : "custnumber", bad ? agent : cust);
    mc_error(sim, rs, 400, msg);
    return -1;
  }
  if (r->v[MC_DID] != NULL && *r->v[MC_DID] &&
      !sim_voice_number(r->v[MC_DID])) {
    mc_error(sim, rs, 400, "Invalid did");
    return -1;
  }
  /* "1": the URL configured on the dashboard. */
  if (url != NULL && *url && strcmp(url, "1") != 0 && !mc_url_ok(url)) {
    mc_error(sim, rs, 400, r->cloud ? "Invalid refurl" : "Invalid url");
    return -1;
  }
  if (r->v[MC_REFID] != NULL && strlen(r->v[MC_REFID]) > 100) {
    mc_error(sim, rs, 400, "refid must be at most 100 characters");
    return -1;
  }
  if (r->v[MC_MCT] != NULL && !mc_seconds_ok(r->v[MC_MCT])) {
    mc_error(sim, rs, 400, "Invalid mct");
    return -1;
  }
  if (r->v[MC_WCT] != NULL && !mc_seconds_ok(r->v[MC_WCT])) {
    mc_error(sim, rs, 400, "Invalid wct");
    return -1;
  }
  return 0;
}

/* ---- the call and its callback ----------------------------------------- */

typedef struct mc_call {
  const sim_vcall *c;
  char cb[1024];              /* "" : nobody to tell */
  int form, record;
  char base[128];
} mc_call;

/* dialstatus and status per deciding leg (agent, customer) and outcome. */
static const char *const mc_words[2][5][2] = {
  { { "ANSWER", "Call complete" },
    { "Executive Busy", "Executive Busy" },
    { "Executive NoAnswer", "Executive Not Answered" },
    { "Executive Failed", "Executive Failed" },
    { "CANCEL", "Call Canceled" } },
  { { "ANSWER", "Call complete" },
    { "Busy", "Customer Busy" },
    { "NoAnswer", "Customer Not Answered" },
    { "Failed", "Customer Failed" },
    { "CANCEL", "Call Canceled" } },
};

static void mc_field(sim_buf *b, int form, const char *k, const char *v)
{
  if (form) {
    sim_buf_str(b, b->len ? "&" : "");
    sim_buf_form_enc(b, k);
    sim_buf_str(b, "=");
    sim_buf_form_enc(b, v);
    return;
  }
  sim_buf_str(b, b->len > 1 ? ", " : "");
  sim_buf_json_str(b, k);
  sim_buf_str(b, ": ");
  sim_buf_json_str(b, v);
}

/* The builder of sim_voice_two_legs: one post, when the call ends. */
static int mc_moment(void *ctx, const sim_voice_moment *m, sim_post *out,
                     const char **status)
{
  const mc_call *x = ctx;
  const sim_vcall *c = x->c;
  const char *const *w;
  char start[24], end[24], talk[16], secs[24], rec[300];
  sim_buf b = { 0 };

  if (!m->final) {
    *status = "in-progress";
    return 0;
  }
  w = mc_words[m->leg == 1 ? 0 : 1][m->leg == 0 ? VC_SIM_CALL_ANSWER
                                                : m->outcome];
  *status = w[0];
  if (x->cb[0] == '\0')
    return 0;
  sim_voice_datetime(start, c->created_ms + MC_IST_MS);
  sim_voice_datetime(end, m->at + MC_IST_MS);
  snprintf(talk, sizeof(talk), "%02ld:%02ld:%02ld", m->talk_s / 3600 % 100,
           m->talk_s / 60 % 60, m->talk_s % 60);
  snprintf(secs, sizeof(secs), "%ld", m->talk_s);
  rec[0] = '\0';
  if (x->record && m->talk_s > 0)
    snprintf(rec, sizeof(rec), "%s/mcube/recordings/%s.wav", x->base, c->id);
  if (!x->form)
    sim_buf_str(&b, "{");
  mc_field(&b, x->form, "callid", c->id);
  mc_field(&b, x->form, "refid", c->custom);
  mc_field(&b, x->form, "starttime", start);
  mc_field(&b, x->form, "endtime", end);
  mc_field(&b, x->form, "answeredtime", talk);
  mc_field(&b, x->form, "duration", secs);
  mc_field(&b, x->form, "emp_phone", c->from);
  mc_field(&b, x->form, "callto", c->to);
  mc_field(&b, x->form, "clicktocalldid", c->caller_id);
  mc_field(&b, x->form, "dialstatus", w[0]);
  mc_field(&b, x->form, "status", w[1]);
  mc_field(&b, x->form, "filename", rec);
  mc_field(&b, x->form, "direction", "outbound");
  mc_field(&b, x->form, "disconnectedby", m->leg == 0 ? "Customer" : "");
  if (!x->form)
    sim_buf_str(&b, "}");
  out->url = strdup(x->cb);
  out->content_type = strdup(x->form ? "application/x-www-form-urlencoded"
                                     : "application/json");
  out->body = b.ptr;
  out->body_len = b.len;
  if (b.oom || !out->url || !out->content_type || !b.ptr)
    return -ENOMEM;
  return 0;
}

/* 10 random digits and the Unix seconds, as the documented sample. */
static void mc_callid(char out[48], int64_t now_ms)
{
  unsigned char r[10];
  int i;

  sim_random(r, sizeof(r));
  for (i = 0; i < 10; i++)
    out[i] = (char)('0' + r[i] % 10);
  snprintf(out + 10, 38, "%lld", (long long)(now_ms / 1000));
}

static void mc_call_create(mc_state *st, const mc_req *r, sim_resp *rs)
{
  vc_sim *sim = st->v.sim;
  const char *agent = r->v[MC_AGENT], *cust = r->v[MC_CUST];
  const char *refid = r->v[MC_REFID], *url = r->v[MC_URL];
  char did[64], fmt[16], rec[8];
  vc_sim_call_plan p1, p2;
  sim_post steps[SIM_VOICE_STEPS];
  const char *keys[3];
  sim_accept_info a;
  sim_wh_opts o;
  sim_vcall *c;
  mc_call x;
  size_t n;

  if (mc_check(sim, r, rs) != 0)
    return;
  memset(&x, 0, sizeof(x));
  if (url != NULL && *url && strcmp(url, "1") != 0) {
    snprintf(x.cb, sizeof(x.cb), "%s", url);
  } else {
    sim_webhook_opts(sim, "mcube", &o);
    snprintf(x.cb, sizeof(x.cb), "%s", o.url);
  }
  sim_setting(sim, "mcube.callback_format", fmt, sizeof(fmt));
  sim_setting(sim, "mcube.record", rec, sizeof(rec));
  x.form = strcmp(fmt, "form") == 0;
  x.record = strcmp(rec, "1") == 0;
  snprintf(x.base, sizeof(x.base), "%s", vc_sim_base_url(sim));
  if (r->v[MC_DID] != NULL && *r->v[MC_DID])
    snprintf(did, sizeof(did), "%s", r->v[MC_DID]);
  else
    sim_setting(sim, "mcube.did", did, sizeof(did));
  sim_voice_plan(&st->v, agent, &p1);
  sim_voice_plan(&st->v, cust, &p2);
  /* mct: the longest the two may talk. */
  sim_voice_limits(&p1, &p2, 0, r->v[MC_MCT] ? strtoul(r->v[MC_MCT], NULL,
                                                       10) : 0);

  pthread_mutex_lock(&st->v.mu);
  c = sim_voice_add(&st->v);
  if (c == NULL) {
    pthread_mutex_unlock(&st->v.mu);
    mc_fault(sim, st, 500, 0, rs);
    return;
  }
  c->created_ms = sim_now_ms();
  mc_callid(c->id, c->created_ms);
  snprintf(c->from, sizeof(c->from), "%s", agent);
  snprintf(c->to, sizeof(c->to), "%s", cust);
  snprintf(c->caller_id, sizeof(c->caller_id), "%s", did);
  snprintf(c->custom, sizeof(c->custom), "%s", refid ? refid : "");
  snprintf(c->status, sizeof(c->status), "queued");
  x.c = c;
  n = sim_voice_two_legs(c, &p1, &p2, 0, mc_moment, &x, steps);
  sim_resp_reset(rs);
  rs->status = 200;
  rs->content_type = "application/json";
  sim_buf_str(&rs->body, "{\"status\": true, \"msg\": \"Call initiated "
              "successfully\", \"callid\": ");
  sim_buf_json_str(&rs->body, c->id);
  sim_buf_str(&rs->body, ", \"refid\": ");
  sim_buf_json_str(&rs->body, refid && *refid ? refid : NULL);
  sim_buf_str(&rs->body, "}");
  pthread_mutex_unlock(&st->v.mu);

  keys[0] = cust;
  keys[1] = agent;
  keys[2] = refid;
  a.message_id = c->id;
  a.keys = keys;
  a.nkeys = refid && *refid ? 3 : 2;
  a.identity = sim_fnv1a(sim_fnv1a(SIM_FNV_INIT, agent, strlen(agent) + 1),
                         cust, strlen(cust) + 1);
  sim_accept(sim, "mcube", rs, &a);
  sim_voice_schedule(sim, "mcube", steps, n);
}

static void mc_handle(vc_sim *sim, void *state, const sim_req *rq,
                      sim_resp *rs)
{
  mc_state *st = state;
  sim_form q, b;
  mc_req r;
  cJSON *root = NULL;
  const char *ct;
  size_t len = 0;

  memset(&q, 0, sizeof(q));
  memset(&b, 0, sizeof(b));
  memset(&r, 0, sizeof(r));
  if (strncmp(rq->path, MC_CLOUD_DIR, strlen(MC_CLOUD_DIR)) == 0) {
    if (strcmp(rq->path, MC_CLOUD) != 0) {
      mc_error(sim, rs, 404, "Not Found");
      return;
    }
    if (strcmp(rq->method, "POST") != 0) {
      mc_error(sim, rs, 405, "Method Not Allowed");
      return;
    }
    r.cloud = 1;
    root = cJSON_ParseWithLength(rq->body ? rq->body : "", rq->body_len);
    if (!cJSON_IsObject(root)) {
      cJSON_Delete(root);
      mc_error(sim, rs, 400, "Invalid request body");
      return;
    }
    mc_from_json(&r, root);
    /* Some integrations send the token as the raw header, no scheme. */
    ct = sim_req_header(rq, "Authorization", &len);
    if (r.v[MC_KEY] == NULL && ct != NULL && len < sizeof(r.hdr)) {
      memcpy(r.hdr, ct, len);
      r.hdr[len] = '\0';
      r.v[MC_KEY] = r.hdr;
    }
    mc_call_create(st, &r, rs);
    cJSON_Delete(root);
    return;
  }
  if (strcmp(rq->method, "GET") != 0 && strcmp(rq->method, "POST") != 0) {
    mc_error(sim, rs, 405, "Method Not Allowed");
    return;
  }
  ct = sim_req_header(rq, "Content-Type", &len);
  if (sim_form_parse(&q, rq->query, strlen(rq->query)) != 0 ||
      (ct != NULL && rq->body != NULL &&
       sim_prefix_ci(ct, len, "application/x-www-form-urlencoded") &&
       sim_form_parse(&b, rq->body, rq->body_len) != 0)) {
    sim_form_free(&q);
    sim_form_free(&b);
    mc_fault(sim, st, 500, 0, rs);
    return;
  }
  mc_from_forms(&r, &q, &b);
  mc_call_create(st, &r, rs);
  sim_form_free(&q);
  sim_form_free(&b);
}

static int mc_init(vc_sim *sim, void **state)
{
  mc_state *st = calloc(1, sizeof(*st));

  if (st == NULL)
    return -ENOMEM;
  if (sim_voice_init(&st->v, sim, "mcube") != 0) {
    free(st);
    return -ENOMEM;
  }
  *state = st;
  return 0;
}

static void mc_fini(void *state)
{
  mc_state *st = state;

  sim_voice_fini(&st->v);
  free(st);
}

const sim_provider sim_mcube = {
  .name = "mcube",
  .prefix = "/",
  .max_body = 64 * 1024,
  .defaults = mc_defaults,
  .init = mc_init,
  .fini = mc_fini,
  .handle = mc_handle,
  .error = mc_fault,
  .sign = NULL,
  .match = mc_match,
  .prepare = sim_voice_prepare,
  .response = NULL,
};
