/*
 * What the chat integration tests (test_telegram.c, test_whatsapp.c)
 * share: a context on an SQLite file with its webhook listener, the
 * provider simulator, a tenant, and ways to wait for and look at what
 * happened. Messages are looked at through the public API; inbound
 * messages, which have no getter yet, by reading the store's file.
 */
#ifndef VC_TEST_CHAT_ENV_H
#define VC_TEST_CHAT_ENV_H

#include "vyomcomm.h"
#include "sim.h"
#include "harness.h"
#include "net_util.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <time.h>

static inline int has_prefix(const char *s, const char *prefix)
{
  if (strncmp(s, prefix, strlen(prefix)) != 0) {
    fprintf(stderr, "  \"%s\" does not start with \"%s\"\n", s, prefix);
    return 0;
  }
  return 1;
}

typedef struct env {
  vc_sim *sim;
  vc_ctx *ctx;
  vc_tenant *t;
  char base[64];
  char db[512];
} env;

static inline void env_open(env *e)
{
  static const uint8_t key[32] = { 9, 8, 7 };
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;
  vc_master_key mk = VC_MASTER_KEY_INIT;
  vc_tenant_spec ts = VC_TENANT_SPEC_INIT;
  vc_store *store;
  char addr[32];
  int port = free_port();

  memset(e, 0, sizeof(*e));
  CHECK_OK(vc_sim_start(&e->sim, NULL));
  snprintf(e->base, sizeof(e->base), "http://127.0.0.1:%d", port);
  snprintf(e->db, sizeof(e->db), "%s", vc_test_path("chat.db"));
  CHECK_OK(vc_store_open_sqlite(&store, e->db, NULL));
  mk.key = key;
  mk.key_len = 32;
  o.store = store;
  o.master_key = &mk;
  o.public_base_url = e->base;
  o.allow_private_network = 1;
  CHECK_OK(vc_ctx_new(&e->ctx, &o));
  snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
  CHECK(vc_webhook_listen(e->ctx, addr) == port);
  ts.slug = "acme";
  CHECK_OK(vc_tenant_new(&e->t, e->ctx, &ts));
}

static inline void env_close(env *e)
{
  vc_tenant_free(e->t);
  vc_ctx_free(e->ctx);
  vc_sim_stop(e->sim);
}

static inline void add_channel(env *e, const char *name, const char *provider,
                               int priority, const char *config,
                               const char *creds, char id[VC_ID_SIZE])
{
  vc_channel_spec s = VC_CHANNEL_SPEC_INIT;
  vc_channel *ch;

  s.name = name;
  s.provider = provider;
  s.kind = VC_CHANNEL_CHAT;
  s.config_json = config;
  s.credentials_json = creds;
  s.priority = priority;
  CHECK_OK(vc_channel_new(&ch, e->t, &s));
  snprintf(id, VC_ID_SIZE, "%s", vc_channel_id(ch));
  vc_channel_free(ch);
}

/* The provider's webhooks go to this channel's URL. */
static inline void hooks_to(env *e, const char *provider,
                            const char *channel, const char *final_status)
{
  vc_sim_webhooks w = VC_SIM_WEBHOOKS_INIT;
  char url[160];

  snprintf(url, sizeof(url), "%s/webhooks/%s", e->base, channel);
  w.url = url;
  w.final_status = final_status;
  CHECK_OK(vc_sim_webhooks_set(e->sim, provider, &w));
}

static inline void send_chat(env *e, char id[VC_ID_SIZE], const char *to,
                             const char *text, const char *metadata)
{
  vc_message_spec s = VC_MESSAGE_SPEC_INIT;

  s.kind = VC_CHANNEL_CHAT;
  s.to = to;
  s.text = text;
  s.metadata_json = metadata;
  CHECK_OK(vc_message_send(id, e->t, &s));
}

static inline int status_of(env *e, const char *id)
{
  vc_message *m;
  int st;

  CHECK_OK(vc_message_lookup(&m, e->t, id));
  st = vc_message_status(m);
  vc_message_free(m);
  return st;
}

/* Wait (real time, engine threads running) until the message has
 * `want`, or has passed it for good. */
static inline int wait_status(env *e, const char *id, int want, int ms)
{
  int64_t deadline = wall_ms() + ms;

  while (wall_ms() < deadline) {
    if (status_of(e, id) == want)
      return 1;
    vc_ctx_wakeup(e->ctx);
    usleep(20000);
  }
  fprintf(stderr, "  message %s is %s, not %s\n", id,
          vc_message_status_name(status_of(e, id)),
          vc_message_status_name(want));
  return 0;
}

static inline int count_events(env *e, const char *type, const char *subject)
{
  vc_iter *it;
  const vc_event *ev;
  int n = 0;

  CHECK_OK(vc_events_since(&it, e->t, 0));
  while (vc_event_next(&ev, it) == 0)
    n += strcmp(ev->type, type) == 0 &&
         (subject == NULL || strcmp(ev->subject_id, subject) == 0);
  vc_iter_free(it);
  return n;
}

static inline int wait_events(env *e, const char *type, int n, int ms)
{
  int64_t deadline = wall_ms() + ms;

  while (wall_ms() < deadline) {
    if (count_events(e, type, NULL) >= n)
      return 1;
    usleep(20000);
  }
  return 0;
}

/* One stored inbound message of a channel, read from the store's file:
 * "from|to|text|media|provider_id" of the i-th oldest, "" when none. */
static inline void inbound_row(env *e, const char *channel, int i,
                               char *out, size_t cap)
{
  sqlite3 *db;
  sqlite3_stmt *s;

  out[0] = '\0';
  CHECK(sqlite3_open_v2(e->db, &db, SQLITE_OPEN_READONLY, NULL) ==
        SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  CHECK(sqlite3_prepare_v2(db, "SELECT from_addr, COALESCE(to_addr, ''),"
                           " COALESCE(text_body, ''), media, provider_id"
                           " FROM vc_inbound_message WHERE channel_id = ?1"
                           " ORDER BY received_at, rowid LIMIT 1 OFFSET ?2",
                           -1, &s, NULL) == SQLITE_OK);
  sqlite3_bind_text(s, 1, channel, -1, SQLITE_STATIC);
  sqlite3_bind_int(s, 2, i);
  if (sqlite3_step(s) == SQLITE_ROW)
    snprintf(out, cap, "%s|%s|%s|%s|%s", sqlite3_column_text(s, 0),
             sqlite3_column_text(s, 1), sqlite3_column_text(s, 2),
             sqlite3_column_text(s, 3), sqlite3_column_text(s, 4));
  sqlite3_finalize(s);
  sqlite3_close(db);
}

/* A raw request to our webhook URL; the HTTP status (0: no answer). */
static inline long hook_raw(env *e, const char *method, const char *path,
                            const char *header1, const char *header2,
                            const char *body, char *reply, size_t cap)
{
  char url[512];
  struct curl_slist *h = NULL;
  long status = 0;
  CURL *c = curl_easy_init();
  FILE *f = reply ? fmemopen(reply, cap, "w") : NULL;

  snprintf(url, sizeof(url), "%s%s", e->base, path);
  h = curl_slist_append(h, "Content-Type: application/json");
  if (header1 != NULL)
    h = curl_slist_append(h, header1);
  if (header2 != NULL)
    h = curl_slist_append(h, header2);
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
  if (body != NULL)
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  if (f != NULL)
    curl_easy_setopt(c, CURLOPT_WRITEDATA, f);
  if (curl_easy_perform(c) == CURLE_OK)
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  if (f != NULL)
    fclose(f);
  curl_slist_free_all(h);
  curl_easy_cleanup(c);
  return status;
}

/* Requests the simulator received from the library for a provider, with
 * a path ending in `suffix` (NULL: any). */
static inline size_t sim_requests(env *e, const char *provider,
                                  const char *suffix, vc_sim_request *out,
                                  size_t max)
{
  size_t n = 0, total = vc_sim_received_count(e->sim);
  vc_sim_request r;

  for (size_t i = 0; i < total; i++) {
    CHECK_OK(vc_sim_received_get(e->sim, i, &r));
    if (strcmp(r.provider, provider) != 0)
      continue;
    if (suffix != NULL) {
      size_t pl = strcspn(r.path, "?"), sl = strlen(suffix);
      if (pl < sl || strncmp(r.path + pl - sl, suffix, sl) != 0)
        continue;
    }
    if (n < max)
      out[n] = r;
    n++;
  }
  return n;
}

#endif
