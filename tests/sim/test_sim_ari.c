/*
 * The simulator's Asterisk ARI: every REST endpoint's answer and each
 * refusal ({"message": ...}), the events WebSocket's handshake (read
 * with a raw-socket client written here, so that bad upgrades can be
 * sent), the order of events for a whole click-to-call, busy, no-answer
 * and failed channels, DTMF, hold, recordings, and dropped sockets.
 */
#define _GNU_SOURCE
#include "harness.h"
#include "sim.h"
#include "test_sim_util.h"

#include <regex.h>
#include <mbedtls/sha1.h>

#define USERPWD VC_SIM_ARI_USERNAME ":" VC_SIM_ARI_PASSWORD
#define JSON_CT "application/json"

/* ---- REST ------------------------------------------------------------- */

static void ari(resp *r, vc_sim *s, const char *method, const char *path,
                const char *body)
{
  req_opts o = { USERPWD, { NULL }, 0 };

  http(r, method, url_of(s, path), body ? JSON_CT : NULL, body,
       body ? strlen(body) : 0, &o);
}

/* An ARI error: the status and {"message": <msg>}. */
static void check_error(const resp *r, long status, const char *msg)
{
  cJSON *j;

  if (r->status != status)
    fprintf(stderr, "  got %ld: %s\n", r->status, r->body ? r->body : "");
  CHECK(r->status == status);
  CHECK(strncmp(rhdr(r, "Content-Type"), JSON_CT, 16) == 0);
  CHECK((j = json(r)) != NULL);
  CHECK_STR(jstr(j, "message"), msg);
  CHECK(cJSON_GetArraySize(j) == 1);
  cJSON_Delete(j);
}

static void refused(vc_sim *s, const char *method, const char *path,
                    const char *body, long status, const char *msg)
{
  resp r;

  ari(&r, s, method, path, body);
  check_error(&r, status, msg);
  resp_free(&r);
}

static void no_content(vc_sim *s, const char *method, const char *path)
{
  resp r;

  ari(&r, s, method, path, NULL);
  if (r.status != 204)
    fprintf(stderr, "  %s %s: %ld %s\n", method, path, r.status,
            r.body ? r.body : "");
  CHECK(r.status == 204);
  CHECK(r.len == 0);
  resp_free(&r);
}

/* POST, expecting `status` and a JSON object back (caller frees). */
static cJSON *post_json(vc_sim *s, const char *path, const char *body,
                        long status)
{
  resp r;
  cJSON *j;

  ari(&r, s, "POST", path, body);
  if (r.status != status)
    fprintf(stderr, "  POST %s: %ld %s\n", path, r.status,
            r.body ? r.body : "");
  CHECK(r.status == status);
  CHECK((j = json(&r)) != NULL);
  resp_free(&r);
  return j;
}

/* ---- a raw WebSocket client ------------------------------------------ */

typedef struct wsc {
  int fd;
  unsigned char *buf;
  size_t len, cap;
  char head[4096];          /* the handshake answer's head */
  int status;
} wsc;

static int tcp_open(vc_sim *s)
{
  struct sockaddr_in a;
  int fd = socket(AF_INET, SOCK_STREAM, 0);

  CHECK(fd >= 0);
  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_port = htons(vc_sim_port(s));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  CHECK(connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
  return fd;
}

/* Read more into w->buf; 1, 0 on timeout, -1 at EOF. */
static int wsc_fill(wsc *w, int timeout_ms)
{
  struct pollfd p = { w->fd, POLLIN, 0 };
  ssize_t n;

  if (poll(&p, 1, timeout_ms) <= 0)
    return 0;
  if (w->len + 65536 > w->cap) {
    w->cap = w->len + 65536 * 2;
    w->buf = realloc(w->buf, w->cap);
    CHECK(w->buf != NULL);
  }
  n = recv(w->fd, w->buf + w->len, w->cap - w->len, 0);
  if (n <= 0)
    return -1;
  w->len += (size_t)n;
  return 1;
}

/*
 * Send an upgrade request for `target` with the standard headers, any of
 * which `omit` names ("upgrade", "version", "key"), plus `extra` lines.
 * Reads the answer's head; returns its status.
 */
static int wsc_open_ex(wsc *w, vc_sim *s, const char *target,
                       const char *auth, const char *omit,
                       const char *extra)
{
  char req[2048];
  char *end;
  int n;

  memset(w, 0, sizeof(*w));
  w->fd = tcp_open(s);
  n = snprintf(req, sizeof(req),
               "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s%s%s%s%s%s%s%s%s\r\n",
               target,
               strstr(omit, "upgrade") ? "" : "Upgrade: websocket\r\n",
               "Connection: Upgrade\r\n",
               strstr(omit, "version") ? "Sec-WebSocket-Version: 8\r\n"
                                       : "Sec-WebSocket-Version: 13\r\n",
               strstr(omit, "key") ? "Sec-WebSocket-Key: short\r\n"
                                   : "Sec-WebSocket-Key: "
                                     "dGhlIHNhbXBsZSBub25jZQ==\r\n",
               auth ? "Authorization: Basic " : "", auth ? auth : "",
               auth ? "\r\n" : "", extra ? extra : "", extra ? "\r\n" : "");
  CHECK(n > 0 && (size_t)n < sizeof(req));
  CHECK(send(w->fd, req, (size_t)n, 0) == n);
  while ((end = w->buf ? memmem(w->buf, w->len, "\r\n\r\n", 4) : NULL) ==
         NULL)
    CHECK(wsc_fill(w, 5000) == 1);
  n = (int)(end - (char *)w->buf) + 4;
  CHECK((size_t)n < sizeof(w->head));
  memcpy(w->head, w->buf, (size_t)n);
  w->head[n] = '\0';
  memmove(w->buf, w->buf + n, w->len - (size_t)n);
  w->len -= (size_t)n;
  CHECK(sscanf(w->head, "HTTP/1.1 %d", &w->status) == 1);
  return w->status;
}

/* base64("vyomcomm:s1m-ari-Passw0rd"), computed with `printf %s
 * 'vyomcomm:s1m-ari-Passw0rd' | base64`. */
#define AUTH_B64 "dnlvbWNvbW06czFtLWFyaS1QYXNzdzByZA=="

static void wsc_open(wsc *w, vc_sim *s, const char *query)
{
  char target[512];

  snprintf(target, sizeof(target), "/ari/events?%s", query);
  CHECK(wsc_open_ex(w, s, target, AUTH_B64, "", NULL) == 101);
}

static void wsc_close(wsc *w)
{
  if (w->fd >= 0)
    close(w->fd);
  free(w->buf);
  memset(w, 0, sizeof(*w));
  w->fd = -1;
}

/* A masked frame from the client. */
static void wsc_send(wsc *w, int op, const char *data, size_t len)
{
  unsigned char f[256];
  const unsigned char key[4] = { 0x37, 0xfa, 0x21, 0x3d };
  size_t i;

  CHECK(len < 126);
  f[0] = (unsigned char)(0x80 | op);
  f[1] = (unsigned char)(0x80 | len);
  memcpy(f + 2, key, 4);
  for (i = 0; i < len; i++)
    f[6 + i] = (unsigned char)data[i] ^ key[i % 4];
  CHECK(send(w->fd, f, 6 + len, 0) == (ssize_t)(6 + len));
}

/* The next frame: 1 (op, malloc'd payload), 0 timeout, -1 EOF. */
static int wsc_frame(wsc *w, int timeout_ms, int *op, char **data,
                     size_t *len)
{
  for (;;) {
    size_t hl = 2, n, i;
    if (w->len >= 2) {
      CHECK((w->buf[1] & 0x80) == 0);   /* servers never mask */
      n = w->buf[1] & 0x7f;
      if (n == 126) {
        hl = 4;
        n = w->len >= 4 ? (size_t)w->buf[2] << 8 | w->buf[3] : 0;
      } else if (n == 127) {
        hl = 10;
        for (n = 0, i = 0; i < 8 && w->len >= 10; i++)
          n = n << 8 | w->buf[2 + i];
      }
      if (w->len >= hl && w->len >= hl + n) {
        CHECK(w->buf[0] & 0x80);        /* whole messages */
        *op = w->buf[0] & 0x0f;
        *data = malloc(n + 1);
        memcpy(*data, w->buf + hl, n);
        (*data)[n] = '\0';
        *len = n;
        memmove(w->buf, w->buf + hl + n, w->len - hl - n);
        w->len -= hl + n;
        return 1;
      }
    }
    i = (size_t)wsc_fill(w, timeout_ms);
    if ((int)i != 1)
      return (int)i;
  }
}

/* The next event (a text frame), or NULL on timeout or EOF. */
static cJSON *ev_next(wsc *w, int timeout_ms)
{
  char *d;
  size_t n;
  int op;
  cJSON *j;

  if (wsc_frame(w, timeout_ms, &op, &d, &n) != 1)
    return NULL;
  CHECK(op == 1);
  j = cJSON_Parse(d);
  if (j == NULL)
    fprintf(stderr, "  not JSON: %s\n", d);
  CHECK(j != NULL);
  free(d);
  return j;
}

/* The common members of every event (events.json Message and Event). */
static void check_common(const cJSON *e, const char *app)
{
  static regex_t re;
  static int init;

  if (!init) {
    /* ARI's timestamp: ISO 8601 with milliseconds and a zone offset. */
    CHECK(regcomp(&re, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:"
                  "[0-9]{2}\\.[0-9]{3}[+-][0-9]{4}$", REG_EXTENDED) == 0);
    init = 1;
  }
  CHECK(jstr(e, "type") != NULL);
  CHECK_STR(jstr(e, "application"), app);
  CHECK_STR(jstr(e, "asterisk_id"), VC_SIM_ARI_ASTERISK_ID);
  CHECK(jstr(e, "timestamp") != NULL);
  CHECK(regexec(&re, jstr(e, "timestamp"), 0, NULL, 0) == 0);
}

/* The next event must be `type` (for `app`); returned for more checks. */
static cJSON *ev_expect(wsc *w, const char *app, const char *type)
{
  cJSON *e = ev_next(w, 5000);

  if (e == NULL)
    fprintf(stderr, "  no event, wanted %s\n", type);
  CHECK(e != NULL);
  if (strcmp(jstr(e, "type"), type) != 0)
    fprintf(stderr, "  got %s, wanted %s\n", jstr(e, "type"), type);
  CHECK_STR(jstr(e, "type"), type);
  check_common(e, app);
  return e;
}

static const cJSON *obj(const cJSON *o, const char *k)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

  CHECK(cJSON_IsObject(v));
  return v;
}

/* The Channel model's required members (channels.json). */
static void check_channel(const cJSON *c, const char *id, const char *state)
{
  static const char *const req[] = {
    "id", "protocol_id", "name", "state", "accountcode", "creationtime",
    "language", NULL
  };
  const cJSON *d;
  size_t i;

  for (i = 0; req[i]; i++)
    CHECK(jstr(c, req[i]) != NULL);
  CHECK(jstr(obj(c, "caller"), "name") && jstr(obj(c, "caller"), "number"));
  CHECK(jstr(obj(c, "connected"), "number") != NULL);
  d = obj(c, "dialplan");
  CHECK(jstr(d, "context") && jstr(d, "exten") && jstr(d, "app_name") &&
        jstr(d, "app_data"));
  CHECK(jnum(d, "priority") >= 1);
  if (id != NULL)
    CHECK_STR(jstr(c, "id"), id);
  if (state != NULL)
    CHECK_STR(jstr(c, "state"), state);
}

/* An event about channel `id` in `state`; freed here. */
static void ev_chan(wsc *w, const char *app, const char *type,
                    const char *id, const char *state)
{
  cJSON *e = ev_expect(w, app, type);

  check_channel(obj(e, "channel"), id, state);
  cJSON_Delete(e);
}

static void ev_dial(wsc *w, const char *app, const char *id,
                    const char *dialstatus)
{
  cJSON *e = ev_expect(w, app, "Dial");

  check_channel(obj(e, "peer"), id, NULL);
  CHECK_STR(jstr(e, "dialstatus"), dialstatus);
  CHECK(jstr(e, "dialstring") != NULL);
  cJSON_Delete(e);
}

static void ev_destroyed(wsc *w, const char *app, const char *id, int cause,
                         const char *txt)
{
  cJSON *e = ev_expect(w, app, "ChannelDestroyed");

  check_channel(obj(e, "channel"), id, NULL);
  CHECK(jnum(e, "cause") == cause);
  CHECK_STR(jstr(e, "cause_txt"), txt);
  cJSON_Delete(e);
}

/* Nothing more arrives within `ms`. */
static void ev_none(wsc *w, int ms)
{
  cJSON *e = ev_next(w, ms);

  if (e != NULL)
    fprintf(stderr, "  unexpected %s\n", jstr(e, "type"));
  CHECK(e == NULL);
}

/* A channel that rings `ring_ms` and answers: its StasisStart seen. */
static void answered(vc_sim *s, wsc *w, const char *number, const char *id)
{
  char path[256];
  cJSON *j;

  snprintf(path, sizeof(path), "/ari/channels?endpoint=PJSIP/%s&app=vyom"
           "&channelId=%s", number, id);
  j = post_json(s, path, NULL, 200);
  cJSON_Delete(j);
  ev_dial(w, "vyom", id, "");
  ev_chan(w, "vyom", "ChannelStateChange", id, "Ringing");
  ev_dial(w, "vyom", id, "RINGING");
  ev_dial(w, "vyom", id, "ANSWER");
  ev_chan(w, "vyom", "ChannelStateChange", id, "Up");
  ev_chan(w, "vyom", "StasisStart", id, "Up");
}

static vc_sim *start_ari(void)
{
  vc_sim *s = start();
  vc_sim_call_plan p = VC_SIM_CALL_PLAN_INIT;

  /* Calls talk until hung up, unless a test says otherwise. */
  p.ring_ms = 20;
  p.talk_ms = 600000;
  CHECK_OK(vc_sim_call_plan_set(s, "ari", NULL, &p));
  return s;
}

/* ---- tests ------------------------------------------------------------ */

static void test_ari__auth(void)
{
  vc_sim *s = start_ari();
  req_opts bad = { VC_SIM_ARI_USERNAME ":wrong", { NULL }, 0 };
  resp r;

  /* No credentials, wrong ones: 401 with a Basic challenge. */
  http(&r, "GET", url_of(s, "/ari/channels"), NULL, NULL, 0, NULL);
  check_error(&r, 401, "Authentication required");
  CHECK_STR(rhdr(&r, "WWW-Authenticate"),
            "Basic realm=\"Asterisk REST Interface\"");
  resp_free(&r);
  http(&r, "GET", url_of(s, "/ari/channels"), NULL, NULL, 0, &bad);
  check_error(&r, 401, "Authentication required");
  resp_free(&r);
  http(&r, "GET", url_of(s, "/ari/channels?api_key=" VC_SIM_ARI_USERNAME
                         ":nope"), NULL, NULL, 0, NULL);
  check_error(&r, 401, "Authentication required");
  resp_free(&r);

  /* Basic, or the api_key query parameter. */
  ari(&r, s, "GET", "/ari/channels", NULL);
  CHECK(r.status == 200);
  CHECK_STR(r.body, "[]");
  resp_free(&r);
  http(&r, "GET", url_of(s, "/ari/bridges?api_key=" USERPWD), NULL, NULL, 0,
       NULL);
  CHECK(r.status == 200);
  CHECK_STR(r.body, "[]");
  resp_free(&r);

  refused(s, "GET", "/ari/nothing", NULL, 404, "Resource not found");
  refused(s, "PUT", "/ari/channels", NULL, 405, "Invalid method");
  /* Two REST requests passed authentication before the refusals. */
  CHECK(vc_sim_ari_requests(s) == 4);
  vc_sim_stop(s);
}

static void test_ari__handshake(void)
{
  vc_sim *s = start_ari();
  unsigned char digest[20];
  char accept[64], *d;
  size_t n, olen;
  int op;
  wsc w;

  /* The accept value of RFC 6455's own example key (section 1.3),
   * computed here with SHA-1 and base64. */
  mbedtls_sha1_ret((const unsigned char *)"dGhlIHNhbXBsZSBub25jZQ=="
                   "258EAFA5-E914-47DA-95CA-C5AB0DC85B11", 60, digest);
  mbedtls_base64_encode((unsigned char *)accept, sizeof(accept), &olen,
                        digest, 20);
  CHECK_STR(accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");

  /* Authentication first, then the app, then the upgrade itself. */
  CHECK(wsc_open_ex(&w, s, "/ari/events?app=vyom", NULL, "", NULL) == 401);
  CHECK(strstr(w.head, "WWW-Authenticate: Basic") != NULL);
  wsc_close(&w);
  CHECK(wsc_open_ex(&w, s, "/ari/events", AUTH_B64, "", NULL) == 400);
  wsc_close(&w);
  CHECK(wsc_open_ex(&w, s, "/ari/events?app=vyom", AUTH_B64, "upgrade",
                    NULL) == 426);
  wsc_close(&w);
  CHECK(wsc_open_ex(&w, s, "/ari/events?app=vyom", AUTH_B64, "version",
                    NULL) == 426);
  CHECK(strstr(w.head, "Sec-WebSocket-Version: 13\r\n") != NULL);
  wsc_close(&w);
  CHECK(wsc_open_ex(&w, s, "/ari/events?app=vyom", AUTH_B64, "key",
                    NULL) == 400);
  wsc_close(&w);
  CHECK(wsc_open_ex(&w, s, "/ari/events?app=vyom", AUTH_B64, "",
                    "Sec-WebSocket-Protocol: chat") == 400);
  wsc_close(&w);
  CHECK(vc_sim_ari_sockets(s) == 0);

  /* A valid upgrade: 101 with the accept value; "ari" when asked. */
  CHECK(wsc_open_ex(&w, s, "/ari/events?app=vyom&api_key=" USERPWD, NULL,
                    "", "Sec-WebSocket-Protocol: ari") == 101);
  CHECK(strstr(w.head, "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
               "\r\n") != NULL);
  CHECK(strstr(w.head, "Sec-WebSocket-Protocol: ari\r\n") != NULL);
  CHECK(strstr(w.head, "Content-Length") == NULL);
  CHECK(vc_sim_ari_sockets(s) == 1);
  /* A ping is answered with its payload; a close with a close. */
  wsc_send(&w, 0x9, "hi", 2);
  CHECK(wsc_frame(&w, 5000, &op, &d, &n) == 1);
  CHECK(op == 0xa && n == 2 && memcmp(d, "hi", 2) == 0);
  free(d);
  wsc_send(&w, 0x8, "\x03\xe8", 2);
  CHECK(wsc_frame(&w, 5000, &op, &d, &n) == 1);
  CHECK(op == 0x8 && n == 2 && memcmp(d, "\x03\xe8", 2) == 0);
  free(d);
  CHECK(wsc_frame(&w, 5000, &op, &d, &n) == -1);
  wsc_close(&w);
  CHECK(vc_sim_ari_sockets(s) == 0);

  /* An unmasked client frame is a protocol error (1002). */
  wsc_open(&w, s, "app=vyom");
  CHECK(send(w.fd, "\x81\x02hi", 4, 0) == 4);
  CHECK(wsc_frame(&w, 5000, &op, &d, &n) == 1);
  CHECK(op == 0x8 && n == 2 && memcmp(d, "\x03\xea", 2) == 0);
  free(d);
  wsc_close(&w);
  /* The upgrade request is recorded, but it is not a REST request. */
  CHECK(vc_sim_ari_requests(s) == 0);
  CHECK(vc_sim_received_count(s) == 8);
  vc_sim_stop(s);
}

static void test_ari__originate_refusals(void)
{
  vc_sim *s = start_ari();
  wsc w;

  wsc_open(&w, s, "app=vyom");
  refused(s, "POST", "/ari/channels?app=vyom", NULL, 400,
          "Endpoint must be specified");
  refused(s, "POST", "/ari/channels?endpoint=agent100&app=vyom", NULL, 400,
          "Invalid endpoint specified");
  refused(s, "POST", "/ari/channels?endpoint=XYZ/agent100&app=vyom", NULL,
          400, "Invalid endpoint specified");
  refused(s, "POST", "/ari/channels?endpoint=PJSIP/agent100", NULL, 400,
          "Application or extension must be specified");
  refused(s, "POST", "/ari/channels?endpoint=PJSIP/a&app=v&extension=1",
          NULL, 400, "Application and extension are mutually exclusive");
  refused(s, "POST", "/ari/channels?endpoint=PJSIP/a&app=v&timeout=x", NULL,
          400, "Invalid timeout");
  refused(s, "POST", "/ari/channels?endpoint=PJSIP/a&app=v&originator=nope",
          NULL, 400, "Provided originator channel was not found");
  refused(s, "POST", "/ari/channels?endpoint=PJSIP/a&app=v", "{not json",
          400, "Error parsing request body");
  refused(s, "POST", "/ari/channels?endpoint=PJSIP/a&app=v",
          "{\"variables\": [1]}", 400, "Invalid variables");
  answered(s, &w, "agent100", "dup-1");
  refused(s, "POST", "/ari/channels?endpoint=PJSIP/a&app=vyom&channelId="
          "dup-1", NULL, 409, "Channel with given unique ID already exists");
  refused(s, "POST", "/ari/channels/dup-1?endpoint=PJSIP/a&app=vyom", NULL,
          409, "Channel with given unique ID already exists");
  refused(s, "GET", "/ari/channels/nope", NULL, 404, "Channel not found");
  refused(s, "DELETE", "/ari/channels/nope", NULL, 404, "Channel not found");
  refused(s, "DELETE", "/ari/channels/dup-1?reason=loud", NULL, 400,
          "Invalid reason for hangup provided");
  refused(s, "DELETE", "/ari/channels/dup-1?reason_code=300", NULL, 400,
          "Invalid reason for hangup provided");
  refused(s, "DELETE", "/ari/channels/dup-1?reason=busy&reason_code=17",
          NULL, 400, "The reason and reason_code can't both be specified");
  refused(s, "POST", "/ari/channels/nope/hold", NULL, 404,
          "Channel not found");
  refused(s, "DELETE", "/ari/channels/nope/moh", NULL, 404,
          "Channel not found");
  refused(s, "POST", "/ari/channels/dup-1/dtmf", NULL, 400,
          "DTMF is required");
  refused(s, "POST", "/ari/channels/dup-1/redirect", NULL, 400,
          "Required parameter endpoint not provided");
  refused(s, "POST", "/ari/channels/dup-1/redirect?endpoint=IAX2/x", NULL,
          422, "Endpoint is not the same type as the channel");
  refused(s, "POST", "/ari/channels/dup-1/redirect?endpoint=Foo/x", NULL,
          404, "Endpoint not found");
  refused(s, "POST", "/ari/channels/nope/continue", NULL, 404,
          "Channel not found");
  refused(s, "POST", "/ari/channels/dup-1/nothing", NULL, 404,
          "Resource not found");
  refused(s, "PUT", "/ari/channels/dup-1", NULL, 405, "Invalid method");
  /* Refusals change nothing: one channel, no more events. */
  ev_none(&w, 100);
  CHECK(vc_sim_accepted_count(s, "ari") == 1);
  CHECK(vc_sim_sent_count(s, "PJSIP/agent100") == 1);
  wsc_close(&w);
  vc_sim_stop(s);
}

static void test_ari__ringing_not_in_stasis(void)
{
  vc_sim *s = start_ari();
  vc_sim_call_plan slow = { VC_SIM_CALL_ANSWER, 60000, 0 };
  cJSON *j;
  wsc w;

  CHECK_OK(vc_sim_call_plan_set(s, "ari", "555", &slow));
  wsc_open(&w, s, "app=vyom");
  j = post_json(s, "/ari/channels?endpoint=PJSIP/555@trunk&app=vyom"
                "&channelId=ring-1", NULL, 200);
  cJSON_Delete(j);
  ev_dial(&w, "vyom", "ring-1", "");
  ev_chan(&w, "vyom", "ChannelStateChange", "ring-1", "Ringing");
  ev_dial(&w, "vyom", "ring-1", "RINGING");
  /* Ringing: not yet in the Stasis app. */
  refused(s, "POST", "/ari/channels/ring-1/hold", NULL, 409,
          "Channel not in Stasis application");
  refused(s, "POST", "/ari/channels/ring-1/moh", NULL, 409,
          "Channel not in Stasis application");
  refused(s, "POST", "/ari/channels/ring-1/dtmf?dtmf=1", NULL, 409,
          "Channel not in Stasis application");
  CHECK(vc_sim_ari_dtmf(s, "ring-1", "1") == -EAGAIN);
  j = post_json(s, "/ari/bridges?bridgeId=b-ring", NULL, 200);
  cJSON_Delete(j);
  cJSON_Delete(ev_expect(&w, "vyom", "BridgeCreated"));
  refused(s, "POST", "/ari/bridges/b-ring/addChannel?channel=ring-1", NULL,
          422, "Channel not in Stasis application");
  /* Hung up while ringing: the dial is canceled, no Stasis events. */
  no_content(s, "DELETE", "/ari/channels/ring-1?reason=no_answer");
  {
    cJSON *e = ev_expect(&w, "vyom", "ChannelHangupRequest");
    CHECK(jnum(e, "cause") == 19);
    CHECK(cJSON_IsTrue(cJSON_GetObjectItem(e, "soft")));
    cJSON_Delete(e);
  }
  ev_dial(&w, "vyom", "ring-1", "CANCEL");
  ev_destroyed(&w, "vyom", "ring-1", 19, "User alerted, no answer");
  ev_none(&w, 100);
  refused(s, "GET", "/ari/channels/ring-1", NULL, 404, "Channel not found");
  wsc_close(&w);
  vc_sim_stop(s);
}

/* Originate agent, then customer, bridge them, hang up: the events. */
static void test_ari__full_call(void)
{
  vc_sim *s = start_ari();
  vc_sim_ari_channel ch;
  const cJSON *a;
  cJSON *j, *e;
  char st[16];
  resp r;
  wsc w;

  wsc_open(&w, s, "app=vyom");
  j = post_json(s, "/ari/channels?endpoint=PJSIP/agent100&app=vyom"
                "&appArgs=agent,call-42&callerId=Vyom%20%3C%2B918047112000%3E"
                "&channelId=agent-1&timeout=30",
                "{\"variables\": {\"VC_CALL\": \"call-42\", \"X\": "
                "{\"value\": \"y\"}}}", 200);
  check_channel(j, "agent-1", "Down");
  CHECK(strncmp(jstr(j, "name"), "PJSIP/agent100-", 15) == 0);
  CHECK_STR(jstr(obj(j, "caller"), "name"), "Vyom");
  CHECK_STR(jstr(obj(j, "caller"), "number"), "+918047112000");
  CHECK_STR(jstr(obj(j, "channelvars"), "VC_CALL"), "call-42");
  CHECK_STR(jstr(obj(j, "channelvars"), "X"), "y");
  cJSON_Delete(j);

  ev_dial(&w, "vyom", "agent-1", "");
  ev_chan(&w, "vyom", "ChannelStateChange", "agent-1", "Ringing");
  ev_dial(&w, "vyom", "agent-1", "RINGING");
  ev_dial(&w, "vyom", "agent-1", "ANSWER");
  ev_chan(&w, "vyom", "ChannelStateChange", "agent-1", "Up");
  e = ev_expect(&w, "vyom", "StasisStart");
  check_channel(obj(e, "channel"), "agent-1", "Up");
  a = cJSON_GetObjectItem(e, "args");
  CHECK(cJSON_GetArraySize(a) == 2);
  CHECK_STR(cJSON_GetArrayItem(a, 0)->valuestring, "agent");
  CHECK_STR(cJSON_GetArrayItem(a, 1)->valuestring, "call-42");
  CHECK_STR(jstr(obj(obj(e, "channel"), "dialplan"), "app_name"), "Stasis");
  CHECK_STR(jstr(obj(obj(e, "channel"), "dialplan"), "app_data"),
            "vyom,agent,call-42");
  cJSON_Delete(e);
  CHECK(vc_sim_call_status(s, "ari", "agent-1", st, sizeof(st)) == 2);
  CHECK_STR(st, "Up");

  /* The customer, with the agent as originator; body keys as params. */
  j = post_json(s, "/ari/channels/cust-1",
                "{\"endpoint\": \"PJSIP/+919876543210@trunk\", "
                "\"app\": \"vyom\", \"originator\": \"agent-1\", "
                "\"timeout\": 30}", 200);
  check_channel(j, "cust-1", "Down");
  CHECK(strncmp(jstr(j, "name"), "PJSIP/trunk-", 12) == 0);
  cJSON_Delete(j);
  e = ev_expect(&w, "vyom", "Dial");
  check_channel(obj(e, "caller"), "agent-1", "Up");
  check_channel(obj(e, "peer"), "cust-1", "Down");
  CHECK_STR(jstr(e, "dialstring"), "+919876543210@trunk");
  cJSON_Delete(e);
  ev_chan(&w, "vyom", "ChannelStateChange", "cust-1", "Ringing");
  ev_dial(&w, "vyom", "cust-1", "RINGING");
  ev_dial(&w, "vyom", "cust-1", "ANSWER");
  ev_chan(&w, "vyom", "ChannelStateChange", "cust-1", "Up");
  ev_chan(&w, "vyom", "StasisStart", "cust-1", "Up");

  /* A mixing bridge with both. */
  j = post_json(s, "/ari/bridges?type=mixing&bridgeId=br-1&name=call-42",
                NULL, 200);
  CHECK_STR(jstr(j, "id"), "br-1");
  CHECK_STR(jstr(j, "bridge_type"), "mixing");
  CHECK_STR(jstr(j, "bridge_class"), "stasis");
  CHECK_STR(jstr(j, "name"), "call-42");
  CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(j, "channels")) == 0);
  cJSON_Delete(j);
  e = ev_expect(&w, "vyom", "BridgeCreated");
  CHECK_STR(jstr(obj(e, "bridge"), "id"), "br-1");
  cJSON_Delete(e);
  no_content(s, "POST", "/ari/bridges/br-1/addChannel?channel=agent-1,cust-1");
  e = ev_expect(&w, "vyom", "ChannelEnteredBridge");
  check_channel(obj(e, "channel"), "agent-1", "Up");
  CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(obj(e, "bridge"),
                                               "channels")) == 1);
  cJSON_Delete(e);
  e = ev_expect(&w, "vyom", "ChannelEnteredBridge");
  check_channel(obj(e, "channel"), "cust-1", "Up");
  CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(obj(e, "bridge"),
                                               "channels")) == 2);
  cJSON_Delete(e);
  ari(&r, s, "GET", "/ari/bridges/br-1", NULL);
  CHECK(r.status == 200);
  CHECK((j = json(&r)) != NULL);
  CHECK_STR(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "channels"), 1)
            ->valuestring, "cust-1");
  cJSON_Delete(j);
  resp_free(&r);
  ari(&r, s, "GET", "/ari/channels", NULL);
  CHECK((j = json(&r)) != NULL && cJSON_GetArraySize(j) == 2);
  cJSON_Delete(j);
  resp_free(&r);

  /* The customer hangs up; then the app hangs the agent up. */
  CHECK_OK(vc_sim_ari_hangup(s, "cust-1", 16));
  e = ev_expect(&w, "vyom", "ChannelHangupRequest");
  CHECK(jnum(e, "cause") == 16);
  CHECK(cJSON_GetObjectItem(e, "soft") == NULL);
  cJSON_Delete(e);
  e = ev_expect(&w, "vyom", "ChannelLeftBridge");
  check_channel(obj(e, "channel"), "cust-1", "Up");
  CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(obj(e, "bridge"),
                                               "channels")) == 1);
  cJSON_Delete(e);
  ev_chan(&w, "vyom", "StasisEnd", "cust-1", "Up");
  ev_destroyed(&w, "vyom", "cust-1", 16, "Normal Clearing");
  no_content(s, "DELETE", "/ari/channels/agent-1?reason_code=16");
  cJSON_Delete(ev_expect(&w, "vyom", "ChannelHangupRequest"));
  cJSON_Delete(ev_expect(&w, "vyom", "ChannelLeftBridge"));
  ev_chan(&w, "vyom", "StasisEnd", "agent-1", "Up");
  ev_destroyed(&w, "vyom", "agent-1", 16, "Normal Clearing");
  no_content(s, "DELETE", "/ari/bridges/br-1");
  e = ev_expect(&w, "vyom", "BridgeDestroyed");
  CHECK_STR(jstr(obj(e, "bridge"), "id"), "br-1");
  cJSON_Delete(e);
  ev_none(&w, 100);
  refused(s, "GET", "/ari/bridges/br-1", NULL, 404, "Bridge not found");

  CHECK_OK(vc_sim_ari_channel_get(s, "agent-1", &ch));
  CHECK(ch.ended && ch.cause == 16 && !ch.in_stasis);
  CHECK_OK(vc_sim_ari_channel_get(s, "PJSIP/+919876543210@trunk", &ch));
  CHECK_STR(ch.id, "cust-1");
  CHECK(vc_sim_call_status(s, "ari", "agent-1", st, sizeof(st)) == 4);
  CHECK_STR(st, "Down");
  wsc_close(&w);
  vc_sim_stop(s);
}

/* A channel's talk time ends it from the far end. */
static void test_ari__talk_ends(void)
{
  vc_sim *s = start_ari();
  vc_sim_call_plan p = { VC_SIM_CALL_ANSWER, 10, 30 };
  cJSON *e;
  wsc w;

  CHECK_OK(vc_sim_call_plan_set(s, "ari", "200", &p));
  wsc_open(&w, s, "app=vyom");
  answered(s, &w, "agent200", "t-1");
  e = ev_expect(&w, "vyom", "ChannelHangupRequest");
  CHECK(jnum(e, "cause") == 16);
  cJSON_Delete(e);
  ev_chan(&w, "vyom", "StasisEnd", "t-1", "Up");
  ev_destroyed(&w, "vyom", "t-1", 16, "Normal Clearing");
  wsc_close(&w);
  vc_sim_stop(s);
}

static void test_ari__outcomes(void)
{
  static const struct {
    const char *number;
    vc_sim_call_outcome o;
    const char *dial;
    int cause;
    const char *txt;
  } t[] = {
    { "301", VC_SIM_CALL_BUSY, "BUSY", 17, "User busy" },
    { "302", VC_SIM_CALL_NO_ANSWER, "NOANSWER", 19,
      "User alerted, no answer" },
    { "303", VC_SIM_CALL_CANCELED, "CANCEL", 21, "Call Rejected" },
  };
  vc_sim *s = start_ari();
  vc_sim_call_plan p = VC_SIM_CALL_PLAN_INIT;
  char path[128];
  size_t i;
  cJSON *j;
  wsc w;

  wsc_open(&w, s, "app=vyom");
  for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
    char id[16];
    p.outcome = t[i].o;
    p.ring_ms = 10;
    CHECK_OK(vc_sim_call_plan_set(s, "ari", t[i].number, &p));
    snprintf(id, sizeof(id), "o-%s", t[i].number);
    snprintf(path, sizeof(path), "/ari/channels?endpoint=PJSIP/%s@trunk"
             "&app=vyom&channelId=%s", t[i].number, id);
    j = post_json(s, path, NULL, 200);
    cJSON_Delete(j);
    ev_dial(&w, "vyom", id, "");
    ev_chan(&w, "vyom", "ChannelStateChange", id, "Ringing");
    ev_dial(&w, "vyom", id, "RINGING");
    ev_dial(&w, "vyom", id, t[i].dial);
    ev_destroyed(&w, "vyom", id, t[i].cause, t[i].txt);
  }
  /* Failed: never rings. */
  p.outcome = VC_SIM_CALL_FAILED;
  CHECK_OK(vc_sim_call_plan_set(s, "ari", "304", &p));
  j = post_json(s, "/ari/channels?endpoint=PJSIP/304@trunk&app=vyom"
                "&channelId=o-304", NULL, 200);
  cJSON_Delete(j);
  ev_dial(&w, "vyom", "o-304", "");
  ev_dial(&w, "vyom", "o-304", "CHANUNAVAIL");
  ev_destroyed(&w, "vyom", "o-304", 1, "Unallocated (unassigned) number");
  /* A ring longer than the originate's timeout goes unanswered. */
  p.outcome = VC_SIM_CALL_ANSWER;
  p.ring_ms = 5000;
  CHECK_OK(vc_sim_call_plan_set(s, "ari", "305", &p));
  j = post_json(s, "/ari/channels?endpoint=PJSIP/305@trunk&app=vyom"
                "&channelId=o-305&timeout=1", NULL, 200);
  cJSON_Delete(j);
  ev_dial(&w, "vyom", "o-305", "");
  ev_chan(&w, "vyom", "ChannelStateChange", "o-305", "Ringing");
  ev_dial(&w, "vyom", "o-305", "RINGING");
  ev_dial(&w, "vyom", "o-305", "NOANSWER");
  ev_destroyed(&w, "vyom", "o-305", 19, "User alerted, no answer");
  ev_none(&w, 100);
  wsc_close(&w);
  vc_sim_stop(s);
}

static void test_ari__dtmf_hold_redirect(void)
{
  vc_sim *s = start_ari();
  vc_sim_ari_channel ch;
  cJSON *e;
  wsc w;

  wsc_open(&w, s, "app=vyom");
  answered(s, &w, "agent100", "d-1");
  CHECK(vc_sim_ari_dtmf(s, "d-1", "1x") == -EINVAL);
  CHECK(vc_sim_ari_dtmf(s, "nope", "1") == -ENOENT);
  CHECK_OK(vc_sim_ari_dtmf(s, "d-1", "4#"));
  e = ev_expect(&w, "vyom", "ChannelDtmfReceived");
  CHECK_STR(jstr(e, "digit"), "4");
  CHECK(jnum(e, "duration_ms") == 100);
  check_channel(obj(e, "channel"), "d-1", "Up");
  cJSON_Delete(e);
  e = ev_expect(&w, "vyom", "ChannelDtmfReceived");
  CHECK_STR(jstr(e, "digit"), "#");
  cJSON_Delete(e);

  no_content(s, "POST", "/ari/channels/d-1/hold");
  ev_chan(&w, "vyom", "ChannelHold", "d-1", "Up");
  no_content(s, "DELETE", "/ari/channels/d-1/hold");
  ev_chan(&w, "vyom", "ChannelUnhold", "d-1", "Up");
  no_content(s, "POST", "/ari/channels/d-1/moh?mohClass=default");
  CHECK_OK(vc_sim_ari_channel_get(s, "d-1", &ch));
  CHECK(ch.moh == 1 && ch.held == 0);
  no_content(s, "DELETE", "/ari/channels/d-1/moh");
  no_content(s, "POST", "/ari/channels/d-1/dtmf?dtmf=12");
  CHECK_OK(vc_sim_ari_channel_get(s, "d-1", &ch));
  CHECK(ch.moh == 0);
  CHECK_STR(ch.dtmf_sent, "12");
  ev_none(&w, 50);

  /* Redirected: the far end takes the transfer and the channel goes. */
  no_content(s, "POST", "/ari/channels/d-1/redirect?endpoint=PJSIP/%2B"
             "919999999999@trunk");
  cJSON_Delete(ev_expect(&w, "vyom", "ChannelHangupRequest"));
  ev_chan(&w, "vyom", "StasisEnd", "d-1", "Up");
  ev_destroyed(&w, "vyom", "d-1", 16, "Normal Clearing");
  CHECK_OK(vc_sim_ari_channel_get(s, "d-1", &ch));
  CHECK_STR(ch.redirect, "PJSIP/+919999999999@trunk");
  CHECK(vc_sim_ari_hangup(s, "d-1", 16) == -ENOENT);

  /* Continue in the dialplan: out of Stasis. */
  answered(s, &w, "agent101", "d-2");
  no_content(s, "POST", "/ari/channels/d-2/continue?context=from-ari");
  ev_chan(&w, "vyom", "StasisEnd", "d-2", "Up");
  refused(s, "POST", "/ari/channels/d-2/hold", NULL, 409,
          "Channel not in Stasis application");
  wsc_close(&w);
  vc_sim_stop(s);
}

static void test_ari__bridge_refusals(void)
{
  vc_sim *s = start_ari();
  cJSON *j;
  wsc w;

  wsc_open(&w, s, "app=vyom");
  answered(s, &w, "agent100", "c-1");
  refused(s, "POST", "/ari/bridges?type=loud", NULL, 400,
          "Invalid bridge type");
  j = post_json(s, "/ari/bridges/b-1?type=mixing,dtmf_events", NULL, 200);
  CHECK_STR(jstr(j, "id"), "b-1");
  cJSON_Delete(j);
  cJSON_Delete(ev_expect(&w, "vyom", "BridgeCreated"));
  refused(s, "POST", "/ari/bridges?bridgeId=b-1", NULL, 409,
          "Bridge with the same bridgeId already exists");
  refused(s, "POST", "/ari/bridges/nope/addChannel?channel=c-1", NULL, 404,
          "Bridge not found");
  refused(s, "POST", "/ari/bridges/b-1/addChannel?channel=c-1,nope", NULL,
          400, "Channel not found");
  refused(s, "POST", "/ari/bridges/b-1/addChannel", NULL, 400,
          "Missing parameter channel");
  refused(s, "POST", "/ari/bridges/b-1/removeChannel?channel=c-1", NULL, 422,
          "Channel not in this bridge");
  refused(s, "POST", "/ari/bridges/nope/removeChannel?channel=c-1", NULL,
          404, "Bridge not found");
  refused(s, "DELETE", "/ari/bridges/nope", NULL, 404, "Bridge not found");
  refused(s, "GET", "/ari/bridges/nope", NULL, 404, "Bridge not found");
  ev_none(&w, 50);
  no_content(s, "POST", "/ari/bridges/b-1/addChannel?channel=c-1");
  cJSON_Delete(ev_expect(&w, "vyom", "ChannelEnteredBridge"));
  no_content(s, "POST", "/ari/bridges/b-1/removeChannel?channel=c-1");
  cJSON_Delete(ev_expect(&w, "vyom", "ChannelLeftBridge"));
  ev_none(&w, 50);
  wsc_close(&w);
  vc_sim_stop(s);
}

static void test_ari__recording(void)
{
  vc_sim *s = start_ari();
  cJSON *j, *e;
  resp r;
  wsc w;

  wsc_open(&w, s, "app=vyom");
  j = post_json(s, "/ari/bridges?bridgeId=rb", NULL, 200);
  cJSON_Delete(j);
  cJSON_Delete(ev_expect(&w, "vyom", "BridgeCreated"));
  refused(s, "POST", "/ari/bridges/rb/record?format=wav", NULL, 400,
          "Invalid parameters");
  refused(s, "POST", "/ari/bridges/rb/record?name=r1", NULL, 400,
          "Invalid parameters");
  refused(s, "POST", "/ari/bridges/rb/record?name=r1&format=wav&ifExists=x",
          NULL, 400, "Invalid parameters");
  refused(s, "POST", "/ari/bridges/rb/record?name=r1&format=flac", NULL, 422,
          "The format specified is unknown on this system");
  refused(s, "POST", "/ari/bridges/nope/record?name=r1&format=wav", NULL,
          404, "Bridge not found");

  ari(&r, s, "POST", "/ari/bridges/rb/record?name=r1&format=wav", NULL);
  CHECK(r.status == 201);
  CHECK_STR(rhdr(&r, "Location"), "/recordings/live/r1");
  CHECK((j = json(&r)) != NULL);
  CHECK_STR(jstr(j, "name"), "r1");
  CHECK_STR(jstr(j, "format"), "wav");
  CHECK_STR(jstr(j, "state"), "queued");
  CHECK_STR(jstr(j, "target_uri"), "bridge:rb");
  cJSON_Delete(j);
  resp_free(&r);
  e = ev_expect(&w, "vyom", "RecordingStarted");
  CHECK_STR(jstr(obj(e, "recording"), "state"), "recording");
  cJSON_Delete(e);
  refused(s, "POST", "/ari/bridges/rb/record?name=r1&format=wav&ifExists="
          "overwrite", NULL, 409,
          "A recording with the same name already exists on the system");
  ari(&r, s, "GET", "/ari/recordings/live/r1", NULL);
  CHECK(r.status == 200);
  resp_free(&r);
  no_content(s, "POST", "/ari/recordings/live/r1/stop");
  e = ev_expect(&w, "vyom", "RecordingFinished");
  CHECK_STR(jstr(obj(e, "recording"), "state"), "done");
  CHECK(jnum(obj(e, "recording"), "duration") >= 0);
  cJSON_Delete(e);
  refused(s, "POST", "/ari/recordings/live/r1/stop", NULL, 404,
          "Recording not found");

  /* Stored: {name, format}; ifExists=fail refuses the name again. */
  ari(&r, s, "GET", "/ari/recordings/stored/r1", NULL);
  CHECK(r.status == 200);
  CHECK((j = json(&r)) != NULL);
  CHECK_STR(jstr(j, "name"), "r1");
  CHECK_STR(jstr(j, "format"), "wav");
  CHECK(cJSON_GetArraySize(j) == 2);
  cJSON_Delete(j);
  resp_free(&r);
  refused(s, "POST", "/ari/bridges/rb/record?name=r1&format=wav", NULL, 409,
          "A recording with the same name already exists on the system");
  ari(&r, s, "GET", "/ari/recordings/stored", NULL);
  CHECK((j = json(&r)) != NULL && cJSON_GetArraySize(j) == 1);
  cJSON_Delete(j);
  resp_free(&r);
  no_content(s, "DELETE", "/ari/recordings/stored/r1");
  refused(s, "GET", "/ari/recordings/stored/r1", NULL, 404,
          "Recording not found");
  refused(s, "DELETE", "/ari/recordings/stored/r1", NULL, 404,
          "Recording not found");

  /* Destroying the bridge finishes its recording. */
  j = post_json(s, "/ari/bridges/rb/record?name=r2&format=ulaw", NULL, 201);
  cJSON_Delete(j);
  cJSON_Delete(ev_expect(&w, "vyom", "RecordingStarted"));
  no_content(s, "DELETE", "/ari/bridges/rb");
  e = ev_expect(&w, "vyom", "RecordingFinished");
  CHECK_STR(jstr(obj(e, "recording"), "name"), "r2");
  cJSON_Delete(e);
  cJSON_Delete(ev_expect(&w, "vyom", "BridgeDestroyed"));

  /* A failing recorder. */
  CHECK_OK(vc_sim_set(s, "ari.record_fail", "1"));
  j = post_json(s, "/ari/bridges?bridgeId=rf", NULL, 200);
  cJSON_Delete(j);
  cJSON_Delete(ev_expect(&w, "vyom", "BridgeCreated"));
  j = post_json(s, "/ari/bridges/rf/record?name=r3&format=wav", NULL, 201);
  cJSON_Delete(j);
  e = ev_expect(&w, "vyom", "RecordingFailed");
  CHECK_STR(jstr(obj(e, "recording"), "state"), "failed");
  CHECK(jstr(obj(e, "recording"), "cause") != NULL);
  cJSON_Delete(e);
  refused(s, "GET", "/ari/recordings/stored/r3", NULL, 404,
          "Recording not found");
  ev_none(&w, 50);
  wsc_close(&w);
  vc_sim_stop(s);
}

/* Who sees what: per app, subscribeAll, several sockets. */
static void test_ari__subscriptions(void)
{
  vc_sim *s = start_ari();
  cJSON *e;
  wsc a, b, c;

  wsc_open(&a, s, "app=vyom");
  wsc_open(&b, s, "app=other&subscribeAll=true");
  wsc_open(&c, s, "app=other");
  CHECK(vc_sim_ari_sockets(s) == 3);
  answered(s, &a, "agent100", "s-1");
  /* subscribeAll sees vyom's channel, under its own app name. */
  e = ev_expect(&b, "other", "Dial");
  cJSON_Delete(e);
  ev_none(&c, 100);
  wsc_close(&a);
  wsc_close(&b);
  wsc_close(&c);
  vc_sim_stop(s);
}

static void test_ari__drop(void)
{
  vc_sim *s = start_ari();
  char *d;
  size_t n;
  int op;
  long before;
  wsc a, b;

  wsc_open(&a, s, "app=vyom");
  wsc_open(&b, s, "app=vyom");
  CHECK(vc_sim_ari_sockets(s) == 2);
  /* Dropped: the TCP connection ends without a Close frame. */
  CHECK(vc_sim_ari_drop(s, 0) == 2);
  CHECK(vc_sim_ari_sockets(s) == 0);
  CHECK(wsc_frame(&a, 5000, &op, &d, &n) == -1);
  CHECK(wsc_frame(&b, 5000, &op, &d, &n) == -1);
  wsc_close(&a);
  wsc_close(&b);

  /* A reconnected client gets the events of calls made after. */
  wsc_open(&a, s, "app=vyom");
  before = vc_sim_ari_requests(s);
  answered(s, &a, "agent100", "r-1");
  CHECK(vc_sim_ari_requests(s) == before + 1);
  /* Graceful: Close 1001 (going away). */
  CHECK(vc_sim_ari_drop(s, 1) == 1);
  CHECK(wsc_frame(&a, 5000, &op, &d, &n) == 1);
  CHECK(op == 0x8 && n == 2 && memcmp(d, "\x03\xe9", 2) == 0);
  free(d);
  CHECK(wsc_frame(&a, 5000, &op, &d, &n) == -1);
  wsc_close(&a);
  CHECK(vc_sim_ari_drop(s, 0) == 0);
  vc_sim_stop(s);
}

/* A call from the trunk: StasisStart with the caller and the number
 * called; answer, playbacks (the caller's planned keys during them),
 * a voicemail ended by '#', music on hold, the planned hangup. */
static void test_ari__inbound(void)
{
  vc_sim *s = start_ari();
  vc_sim_ari_inbound in = { 0 };
  vc_sim_ari_channel ch;
  char id[64], path[256];
  const cJSON *c;
  cJSON *j, *e;
  resp r;
  wsc w;

  CHECK_OK(vc_sim_set(s, "ari.play_ms", "400"));
  wsc_open(&w, s, "app=vyom");
  in.app = "vyom";
  in.from = "+919812345678";
  in.to = "+914066000000";
  in.keys = "1,23";
  in.press_ms = 50;
  in.hangup_moh_ms = 300;
  CHECK_RC(vc_sim_ari_incoming(s, NULL, id), -EINVAL);
  in.to = NULL;
  CHECK_RC(vc_sim_ari_incoming(s, &in, id), -EINVAL);
  in.to = "+914066000000";
  CHECK_OK(vc_sim_ari_incoming(s, &in, id));
  e = ev_expect(&w, "vyom", "StasisStart");
  CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(e, "args")) == 0);
  c = obj(e, "channel");
  check_channel(c, id, "Ring");
  CHECK_STR(jstr(obj(c, "caller"), "number"), "+919812345678");
  CHECK_STR(jstr(obj(c, "dialplan"), "exten"), "+914066000000");
  CHECK_STR(jstr(obj(c, "dialplan"), "context"), "from-trunk");
  cJSON_Delete(e);

  /* Media needs an answered channel. */
  snprintf(path, sizeof(path), "/ari/channels/%s/play?media=sound:hello",
           id);
  refused(s, "POST", path, NULL, 412, "Channel in invalid state");
  snprintf(path, sizeof(path), "/ari/channels/%s/answer", id);
  no_content(s, "POST", path);
  ev_chan(&w, "vyom", "ChannelStateChange", id, "Up");
  refused(s, "POST", "/ari/channels/nope/answer", NULL, 404,
          "Channel not found");

  snprintf(path, sizeof(path), "/ari/channels/%s/play/pb1", id);
  refused(s, "POST", path, NULL, 400, "media: Missing required parameter");
  snprintf(path, sizeof(path), "/ari/channels/%s/play/pb1?media=sound:"
           "hello-world&lang=en", id);
  ari(&r, s, "POST", path, NULL);
  CHECK(r.status == 201);
  CHECK_STR(rhdr(&r, "Location"), "/playbacks/pb1");
  CHECK((j = json(&r)) != NULL);
  CHECK_STR(jstr(j, "id"), "pb1");
  CHECK_STR(jstr(j, "media_uri"), "sound:hello-world");
  CHECK_STR(jstr(j, "state"), "queued");
  cJSON_Delete(j);
  resp_free(&r);
  e = ev_expect(&w, "vyom", "PlaybackStarted");
  CHECK_STR(jstr(obj(e, "playback"), "id"), "pb1");
  CHECK_STR(jstr(obj(e, "playback"), "state"), "playing");
  {
    char t[80];
    snprintf(t, sizeof(t), "channel:%s", id);
    CHECK_STR(jstr(obj(e, "playback"), "target_uri"), t);
  }
  cJSON_Delete(e);
  /* The first key group, during the first playback. */
  e = ev_expect(&w, "vyom", "ChannelDtmfReceived");
  CHECK_STR(jstr(e, "digit"), "1");
  cJSON_Delete(e);
  e = ev_expect(&w, "vyom", "PlaybackFinished");
  CHECK_STR(jstr(obj(e, "playback"), "state"), "done");
  cJSON_Delete(e);
  refused(s, "DELETE", "/ari/playbacks/pb1", NULL, 404,
          "Playback not found");

  /* Two URIs; stopped early by DELETE; the second group of keys. */
  snprintf(path, sizeof(path), "/ari/channels/%s/play?playbackId=pb2&media="
           "sound:a,digits:42", id);
  j = post_json(s, path, NULL, 201);
  cJSON_Delete(j);
  cJSON_Delete(ev_expect(&w, "vyom", "PlaybackStarted"));
  e = ev_expect(&w, "vyom", "ChannelDtmfReceived");
  CHECK_STR(jstr(e, "digit"), "2");
  cJSON_Delete(e);
  e = ev_expect(&w, "vyom", "ChannelDtmfReceived");
  CHECK_STR(jstr(e, "digit"), "3");
  cJSON_Delete(e);
  no_content(s, "DELETE", "/ari/playbacks/pb2");
  cJSON_Delete(ev_expect(&w, "vyom", "PlaybackFinished"));
  /* A scheme Asterisk does not have fails. */
  snprintf(path, sizeof(path), "/ari/channels/%s/play/pb3?media=ftp:x", id);
  j = post_json(s, path, NULL, 201);
  cJSON_Delete(j);
  cJSON_Delete(ev_expect(&w, "vyom", "PlaybackStarted"));
  e = ev_expect(&w, "vyom", "PlaybackFinished");
  CHECK_STR(jstr(obj(e, "playback"), "state"), "failed");
  cJSON_Delete(e);

  /* A voicemail: terminateOn '#'. */
  snprintf(path, sizeof(path), "/ari/channels/%s/record?name=vm1&format=wav"
           "&terminateOn=bad", id);
  refused(s, "POST", path, NULL, 400, "Invalid parameters");
  snprintf(path, sizeof(path), "/ari/channels/%s/record?name=vm1&format=wav"
           "&maxDurationSeconds=60&maxSilenceSeconds=5&beep=true&ifExists="
           "overwrite&terminateOn=%%23", id);
  j = post_json(s, path, NULL, 201);
  {
    char t[80];
    snprintf(t, sizeof(t), "channel:%s", id);
    CHECK_STR(jstr(j, "target_uri"), t);
  }
  cJSON_Delete(j);
  cJSON_Delete(ev_expect(&w, "vyom", "RecordingStarted"));
  CHECK_OK(vc_sim_ari_dtmf(s, id, "#"));
  cJSON_Delete(ev_expect(&w, "vyom", "ChannelDtmfReceived"));
  e = ev_expect(&w, "vyom", "RecordingFinished");
  CHECK_STR(jstr(obj(e, "recording"), "name"), "vm1");
  cJSON_Delete(e);
  ari(&r, s, "GET", "/ari/recordings/stored/vm1", NULL);
  CHECK(r.status == 200);
  resp_free(&r);

  /* Music on hold; the caller hangs up 300 ms into it. */
  snprintf(path, sizeof(path), "/ari/channels/%s/moh", id);
  no_content(s, "POST", path);
  e = ev_expect(&w, "vyom", "ChannelHangupRequest");
  CHECK(jnum(e, "cause") == 16);
  cJSON_Delete(e);
  ev_chan(&w, "vyom", "StasisEnd", id, NULL);
  ev_destroyed(&w, "vyom", id, 16, "Normal Clearing");
  CHECK_OK(vc_sim_ari_channel_get(s, id, &ch));
  CHECK(ch.inbound && ch.ended && ch.moh);
  CHECK_STR(ch.played, "sound:hello-world,sound:a,digits:42,ftp:x");
  CHECK_STR(ch.recording, "vm1");
  wsc_close(&w);
  vc_sim_stop(s);
}

/* A caller hangs up during its voicemail: the recording is stored. */
static void test_ari__inbound_voicemail_hangup(void)
{
  vc_sim *s = start_ari();
  vc_sim_ari_inbound in = { 0 };
  char id[64], path[256];
  cJSON *j, *e;
  wsc w;

  wsc_open(&w, s, "app=vyom");
  in.app = "vyom";
  in.to = "100";
  in.hangup_record_ms = 200;
  CHECK_OK(vc_sim_ari_incoming(s, &in, id));
  e = ev_expect(&w, "vyom", "StasisStart");
  CHECK_STR(jstr(obj(obj(e, "channel"), "caller"), "number"), "");
  cJSON_Delete(e);
  snprintf(path, sizeof(path), "/ari/channels/%s/answer", id);
  no_content(s, "POST", path);
  ev_chan(&w, "vyom", "ChannelStateChange", id, "Up");
  snprintf(path, sizeof(path), "/ari/channels/%s/record?name=vm2&format=wav",
           id);
  j = post_json(s, path, NULL, 201);
  cJSON_Delete(j);
  cJSON_Delete(ev_expect(&w, "vyom", "RecordingStarted"));
  cJSON_Delete(ev_expect(&w, "vyom", "ChannelHangupRequest"));
  e = ev_expect(&w, "vyom", "RecordingFinished");
  CHECK_STR(jstr(obj(e, "recording"), "name"), "vm2");
  CHECK(jnum(obj(e, "recording"), "duration") >= 0);
  cJSON_Delete(e);
  ev_chan(&w, "vyom", "StasisEnd", id, NULL);
  ev_destroyed(&w, "vyom", id, 16, "Normal Clearing");
  wsc_close(&w);
  vc_sim_stop(s);
}

VC_TESTS(
  VC_TEST(test_ari__auth),
  VC_TEST(test_ari__handshake),
  VC_TEST(test_ari__originate_refusals),
  VC_TEST(test_ari__ringing_not_in_stasis),
  VC_TEST(test_ari__full_call),
  VC_TEST(test_ari__talk_ends),
  VC_TEST(test_ari__outcomes),
  VC_TEST(test_ari__dtmf_hold_redirect),
  VC_TEST(test_ari__bridge_refusals),
  VC_TEST(test_ari__recording),
  VC_TEST(test_ari__subscriptions),
  VC_TEST(test_ari__drop),
  VC_TEST(test_ari__inbound),
  VC_TEST(test_ari__inbound_voicemail_hangup),
)
