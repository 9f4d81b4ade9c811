/*
 * Channels: a tenant's provider instances. A handle holds a snapshot of
 * the row, like a tenant's (see core/tenant.c); the credentials and the
 * webhook secret are sealed columns that only the internal functions of
 * channel.h decrypt, never a public one.
 */
#include "core/common.h"
#include "core/audit.h"
#include "core/buf.h"
#include "core/ctx.h"
#include "core/event.h"
#include "core/iter.h"
#include "core/json.h"
#include "core/random.h"
#include "core/snapshot.h"
#include "core/tenant.h"
#include "core/text.h"
#include "msg/adapter.h"
#include "msg/channel.h"

#include <math.h>
#include <stdio.h>

#define PRIORITY_DEFAULT 100
#define RATE_MAX 1e6
#define JSON_DEPTH 16
#define PATH_PREFIX "/webhooks/"

typedef struct channel_row {
  char tenant_id[VC_ID_SIZE];
  char id[VC_ID_SIZE];
  char path[sizeof(PATH_PREFIX) + VC_ID_SIZE];
  char *name, *provider, *config, *sender;
  int kind, enabled;
  int32_t priority;
  double rate;
  int64_t created_at, updated_at, disabled_at;
  struct channel_row *retired; /* older snapshots of the same handle */
} channel_row;

struct vc_channel {
  vc_ctx *ctx;
  pthread_mutex_t lock;
  channel_row *row;
};

#define COLUMNS \
  "c.tenant_id, c.id, c.name, c.kind, c.provider, c.config," \
  " COALESCE(c.sender, ''), c.priority, c.rate_per_second, c.enabled," \
  " c.created_at, c.updated_at, COALESCE(c.disabled_at, 0)"
/* Only rows of live tenants: a deleted tenant's channels are gone. */
#define LIVE " JOIN vc_tenant t ON t.id = c.tenant_id AND t.deleted_at IS NULL"

static const char SQL_TENANT_LIVE[] =
  "SELECT 1 FROM vc_tenant WHERE id = ?1 AND deleted_at IS NULL";
static const char SQL_INSERT[] =
  "INSERT INTO vc_channel (tenant_id, id, name, kind, provider, config,"
  " credentials, webhook_secret, key_version, sender, priority,"
  " rate_per_second, enabled, created_at, updated_at)"
  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, 1, ?13,"
  " ?13)";
static const char SQL_BY_KEY[] =
  "SELECT " COLUMNS " FROM vc_channel c" LIVE
  " WHERE c.tenant_id = ?1 AND (c.id = ?2 OR c.name = ?2)"
  " ORDER BY c.id = ?2 DESC LIMIT 1";
static const char SQL_BY_ID_ANY[] =
  "SELECT " COLUMNS " FROM vc_channel c" LIVE " WHERE c.id = ?1";
static const char SQL_UPDATE[] =
  "UPDATE vc_channel SET name = ?3, provider = ?4, config = ?5,"
  " sender = ?6, priority = ?7, rate_per_second = ?8, updated_at = ?9"
  " WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_UPDATE_CREDENTIALS[] =
  "UPDATE vc_channel SET credentials = ?3, key_version = ?4"
  " WHERE tenant_id = ?1 AND id = ?2";
/* A channel made without a master key gets its webhook secret once a
 * key is there. */
static const char SQL_ADD_WEBHOOK_SECRET[] =
  "UPDATE vc_channel SET webhook_secret = ?3, key_version = ?4"
  " WHERE tenant_id = ?1 AND id = ?2 AND webhook_secret IS NULL";
static const char SQL_SET_ENABLED[] =
  "UPDATE vc_channel SET enabled = ?3, disabled_at = ?4, updated_at = ?5"
  " WHERE tenant_id = ?1 AND id = ?2 AND enabled <> ?3";
static const char SQL_PAGE[] =
  "SELECT " COLUMNS " FROM vc_channel c" LIVE
  " WHERE c.tenant_id = ?1 AND c.id > ?2 AND (?3 = 0 OR c.kind = ?3)"
  " AND (?4 = 1 OR c.enabled = 1) ORDER BY c.id LIMIT 50";
static const char SQL_CANDIDATES[] =
  "SELECT " COLUMNS " FROM vc_channel c" LIVE
  " WHERE c.tenant_id = ?1 AND c.kind = ?2 AND c.enabled = 1"
  " ORDER BY c.priority, c.id LIMIT ?3";
static const char SQL_SEALED[] =
  "SELECT c.credentials, c.webhook_secret, c.provider, c.config,"
  " c.updated_at FROM vc_channel c" LIVE
  " WHERE c.tenant_id = ?1 AND c.id = ?2";

const char *vc_channel_kind_name(int kind)
{
  switch (kind) {
  case VC_CHANNEL_EMAIL: return "email";
  case VC_CHANNEL_SMS: return "sms";
  case VC_CHANNEL_CHAT: return "chat";
  case VC_CHANNEL_VOICE: return "voice";
  default: return "unknown";
  }
}

static int kind_valid(int kind)
{
  return kind >= VC_CHANNEL_EMAIL && kind <= VC_CHANNEL_VOICE;
}

/* ---- rows ---------------------------------------------------------- */

static void row_free(channel_row *r)
{
  while (r != NULL) {
    channel_row *next = r->retired;
    vc__free(r->name);
    vc__free(r->provider);
    vc__free(r->config);
    vc__free(r->sender);
    vc__free(r);
    r = next;
  }
}

static int row_from_stmt(channel_row **out, vc__stmt *s)
{
  channel_row *r = vc__calloc(1, sizeof(*r));

  if (r == NULL)
    return vc_error_set_oom();
  snprintf(r->tenant_id, sizeof(r->tenant_id), "%s", vc__stmt_text(s, 0));
  snprintf(r->id, sizeof(r->id), "%s", vc__stmt_text(s, 1));
  snprintf(r->path, sizeof(r->path), PATH_PREFIX "%s", r->id);
  r->name = vc__strdup(vc__stmt_text(s, 2));
  r->kind = (int)vc__stmt_int64(s, 3);
  r->provider = vc__strdup(vc__stmt_text(s, 4));
  r->config = vc__strdup(vc__stmt_text(s, 5));
  r->sender = vc__strdup(vc__stmt_text(s, 6));
  r->priority = (int32_t)vc__stmt_int64(s, 7);
  r->rate = vc__stmt_double(s, 8);
  r->enabled = (int)vc__stmt_int64(s, 9);
  r->created_at = vc__stmt_int64(s, 10);
  r->updated_at = vc__stmt_int64(s, 11);
  r->disabled_at = vc__stmt_int64(s, 12);
  if (!r->name || !r->provider || !r->config || !r->sender) {
    row_free(r);
    return vc_error_set_oom();
  }
  *out = r;
  return 0;
}

static void info_from_stmt(vc__channel_info *i, vc__stmt *s)
{
  memset(i, 0, sizeof(*i));
  snprintf(i->tenant_id, sizeof(i->tenant_id), "%s", vc__stmt_text(s, 0));
  snprintf(i->id, sizeof(i->id), "%s", vc__stmt_text(s, 1));
  snprintf(i->name, sizeof(i->name), "%s", vc__stmt_text(s, 2));
  i->kind = (int)vc__stmt_int64(s, 3);
  snprintf(i->provider, sizeof(i->provider), "%s", vc__stmt_text(s, 4));
  snprintf(i->sender, sizeof(i->sender), "%s", vc__stmt_text(s, 6));
  i->priority = (int32_t)vc__stmt_int64(s, 7);
  i->rate_per_second = vc__stmt_double(s, 8);
  i->enabled = (int)vc__stmt_int64(s, 9);
  i->updated_at = vc__stmt_int64(s, 11);
}

static int handle_new(vc_channel **out, vc_ctx *ctx, channel_row *row)
{
  vc_channel *c = vc__calloc(1, sizeof(*c));

  if (c == NULL) {
    row_free(row);
    return vc_error_set_oom();
  }
  c->ctx = ctx;
  c->row = row;
  pthread_mutex_init(&c->lock, NULL);
  *out = c;
  return 0;
}

static int not_found(const char *key)
{
  return vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                       "no channel '%.64s'", key);
}

/* Run a single-row SELECT of COLUMNS. `types` binds `a` (and `b`). */
static int query_one(vc__stmt **out, vc__db *db, const char *sql,
                     const char *types, const char *a, const char *b)
{
  vc__stmt *s;
  int rc;

  if ((rc = vc__db_query(&s, db, sql, types, a, b)) < 0)
    return rc;
  if ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW) {
    *out = s;
    return 0;
  }
  vc__stmt_done(s);
  return rc == VC_STORAGE_DONE ? not_found(b ? b : a) : rc;
}

static int load_row(channel_row **out, vc__db *db, const char *tenant_id,
                    const char *key)
{
  vc__stmt *s;
  int rc;

  if ((rc = query_one(&s, db, SQL_BY_KEY, "tt", tenant_id, key)) < 0)
    return rc;
  rc = row_from_stmt(out, s);
  vc__stmt_done(s);
  return rc;
}

/* ---- validation ---------------------------------------------------- */

static int check_name(const char *name)
{
  return vc__check_token("channel name", name, VC_CHANNEL_NAME_MAX,
                         "a-z0-9", "a-z0-9_.-");
}

/* An id, or something shaped like a name. */
static int check_key(const char *key)
{
  if (vc__ulid_valid(key))
    return 0;
  return check_name(key);
}

static int check_spec(const vc_channel_spec *s, int creating)
{
  int rc;

  if ((creating || s->name != NULL) && (rc = check_name(s->name)) < 0)
    return rc;
  if ((creating || s->provider != NULL) &&
      (rc = vc__check_token("channel provider", s->provider,
                            VC__CHANNEL_PROVIDER_MAX, "a-z0-9",
                            "a-z0-9_.-")) < 0)
    return rc;
  if ((rc = vc__check_text("channel sender", s->sender,
                           VC_CHANNEL_SENDER_MAX, 0)) < 0)
    return rc;
  /* A sender ends up in headers (email From): no control characters. */
  for (const char *p = s->sender; p != NULL && *p != '\0'; p++)
    if ((unsigned char)*p < 0x20 || *p == 0x7f)
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "channel sender contains a control character");
  if (isnan(s->rate_per_second) || s->rate_per_second > RATE_MAX)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "rate_per_second must be 0..%g", RATE_MAX);
  if (s->kind != 0 && !kind_valid(s->kind))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "unknown channel kind %d", s->kind);
  return 0;
}

/* Check a JSON object of the spec; *empty tells whether it has no
 * members. The text is never quoted: it may hold secrets. */
static int check_object(const char *what, const char *text, int *empty)
{
  cJSON *j = NULL;
  int rc = vc__json_parse(&j, what, text, VC_CHANNEL_JSON_MAX, JSON_DEPTH,
                          1);

  if (rc == 0 && empty != NULL)
    *empty = j->child == NULL;
  cJSON_Delete(j);
  return rc;
}

/*
 * Find the provider's adapter, check its kind, and let its init()
 * validate the settings. The state it makes is released at once.
 */
static int validate_with_adapter(vc_adapter *a, vc_ctx *ctx,
                                 const char *provider, int kind,
                                 const char *config, const char *creds)
{
  char what[VC__CHANNEL_PROVIDER_MAX + 16];
  void *state = NULL;
  int rc;

  if ((rc = vc__adapter_find(a, ctx, provider)) < 0)
    return rc;
  if (kind != 0 && a->kind != kind)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "provider '%s' serves %s channels, not %s",
                         provider, vc_channel_kind_name(a->kind),
                         vc_channel_kind_name(kind));
  vc_error_clear();
  rc = a->init(&state, config, creds);
  if (rc >= 0) {
    a->fini(state);
    return 0;
  }
  /* An adapter that failed without saying why still gets a message. */
  if (vc__error_code() != rc)
    vc__error_set(VC_ERRCLASS_ADAPTER, rc, "the settings were rejected");
  snprintf(what, sizeof(what), "provider '%s'", provider);
  return vc__error_wrap(what);
}

static int tenant_live(vc__db *db, const char *tenant_id)
{
  vc__stmt *s;
  int rc;

  if ((rc = vc__db_query(&s, db, SQL_TENANT_LIVE, "t", tenant_id)) < 0)
    return rc;
  rc = vc__stmt_step(s);
  vc__stmt_done(s);
  if (rc == VC_STORAGE_DONE)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                         "tenant %s was deleted", tenant_id);
  return rc < 0 ? rc : 0;
}

/* With the keyring read-locked inside `db`'s transaction: seal `len`
 * bytes into `out` at the row's column. */
static int seal(vc_ctx *ctx, vc__db *db, vc_buf *out, const char *tenant_id,
                const char *id, const char *column, const void *pt,
                size_t len)
{
  vc__seal_site at = { tenant_id, "vc_channel", column, id };
  int rc;

  if ((rc = vc__keyring_check_current(&ctx->keys, db)) < 0)
    return rc;
  return vc__keyring_seal(&ctx->keys, out, &at, pt, len);
}

/* Names and kinds are tokens: nothing to escape in JSON. */
static void event_payload(char *buf, size_t size, const channel_row *r)
{
  snprintf(buf, size, "{\"name\":\"%s\",\"kind\":\"%s\",\"provider\":"
           "\"%s\"}", r->name, vc_channel_kind_name(r->kind), r->provider);
}

/* ---- create ---------------------------------------------------------- */

int vc_channel_new(vc_channel **out, vc_tenant *t,
                   const vc_channel_spec *spec)
{
  char id[VC_ID_SIZE], payload[256];
  uint8_t hook[VC__CHANNEL_WEBHOOK_SECRET_SIZE];
  vc_buf cblob = VC_BUF_INIT, hblob = VC_BUF_INIT;
  const char *config, *creds, *tenant_id, *sender;
  channel_row *row = NULL;
  int empty = 1, rc;
  vc_adapter a;
  vc_ctx *ctx;
  vc__db *db = NULL;

  if (out != NULL)
    *out = NULL;
  VC_ASSERT_ARG(t);
  VC_ASSERT_ARG(spec);
  VC_CHECK_VERSION(spec, VC_CHANNEL_SPEC_VERSION, "vc_channel_spec");
  ctx = vc__tenant_ctx(t);
  tenant_id = vc_tenant_id(t);
  config = spec->config_json ? spec->config_json : "{}";
  creds = spec->credentials_json ? spec->credentials_json : "{}";
  sender = spec->sender && spec->sender[0] ? spec->sender : NULL;
  if ((rc = check_spec(spec, 1)) < 0 ||
      (rc = check_object("config_json", config, NULL)) < 0 ||
      (rc = check_object("credentials_json", creds, &empty)) < 0 ||
      (rc = validate_with_adapter(&a, ctx, spec->provider, spec->kind,
                                  config, creds)) < 0 ||
      (rc = vc__new_id(ctx, id)) < 0 ||
      (rc = vc__random_os(hook, sizeof(hook))) < 0)
    goto wipe;
  vc__keyring_rdlock(&ctx->keys);
  if ((rc = vc__db_acquire(&db, ctx->store)) < 0)
    goto unlock;
  if ((rc = vc__db_begin(db)) < 0)
    goto release;
  if ((rc = tenant_live(db, tenant_id)) < 0)
    goto fail;
  /* Without a key, a channel may still exist if it holds no secret. */
  if (ctx->keys.has_key || !empty) {
    if ((rc = seal(ctx, db, &cblob, tenant_id, id, "credentials", creds,
                   strlen(creds))) < 0 ||
        (rc = seal(ctx, db, &hblob, tenant_id, id, "webhook_secret", hook,
                   sizeof(hook))) < 0)
      goto fail;
    rc = vc__db_run(db, SQL_INSERT, "tttitt" "bb" "itidi", tenant_id, id,
                    spec->name, (int64_t)a.kind, spec->provider, config,
                    cblob.ptr, cblob.size, hblob.ptr, hblob.size,
                    (int64_t)ctx->keys.version, sender,
                    (int64_t)(spec->priority < 0 ? PRIORITY_DEFAULT
                                                 : spec->priority),
                    spec->rate_per_second < 0 ? 0.0 : spec->rate_per_second,
                    vc__now(ctx));
  } else {
    rc = vc__db_run(db, SQL_INSERT, "tttitt" "nn" "itidi", tenant_id, id,
                    spec->name, (int64_t)a.kind, spec->provider, config,
                    (int64_t)0, sender,
                    (int64_t)(spec->priority < 0 ? PRIORITY_DEFAULT
                                                 : spec->priority),
                    spec->rate_per_second < 0 ? 0.0 : spec->rate_per_second,
                    vc__now(ctx));
  }
  if (rc == VC_EEXISTS)
    rc = vc__error_set(VC_ERRCLASS_INVALID, VC_EEXISTS,
                       "channel name '%s' is taken", spec->name);
  if (rc < 0 || (rc = load_row(&row, db, tenant_id, id)) < 0)
    goto fail;
  event_payload(payload, sizeof(payload), row);
  if ((rc = vc__event_append(db, ctx, tenant_id, "channel.created", id,
                             payload)) < 0 ||
      (rc = vc__audit(db, ctx, tenant_id, "channel.create", id,
                      payload)) < 0 ||
      (rc = vc__db_commit(db)) < 0)
    goto fail;
  vc_ctx_wakeup(ctx);
  goto release;
fail:
  vc__db_rollback(db);
  row_free(row);
  row = NULL;
release:
  vc__db_release(db);
unlock:
  vc__keyring_unlock(&ctx->keys);
  if (rc == 0) {
    /* Logged with no connection held: the callback may call the
     * library. Names only: the settings may be sensitive. */
    VC_LOG(ctx, VC_LOG_INFO, "channel %s created (%s, %s)", id, spec->name,
           spec->provider);
    if (out != NULL)
      rc = handle_new(out, ctx, row);
    else
      row_free(row);
  }
wipe:
  vc__wipe(hook, sizeof(hook));
  vc_buf_dispose(&cblob);
  vc_buf_dispose(&hblob);
  return rc;
}

/* ---- lookup ---------------------------------------------------------- */

int vc_channel_lookup(vc_channel **out, vc_tenant *t, const char *key)
{
  channel_row *row = NULL;
  vc_ctx *ctx;
  vc__db *db;
  int rc;

  VC_ASSERT_ARG(out);
  *out = NULL;
  VC_ASSERT_ARG(t);
  if ((rc = check_key(key)) < 0)
    return rc;
  ctx = vc__tenant_ctx(t);
  if ((rc = vc__db_acquire(&db, ctx->store)) < 0)
    return rc;
  rc = load_row(&row, db, vc_tenant_id(t), key);
  vc__db_release(db);
  if (rc == 0)
    rc = handle_new(out, ctx, row);
  return rc;
}

/* ---- sealed columns -------------------------------------------------- */

/* Open one sealed column of a row (NULL opens as `absent`). */
static int open_column(vc_ctx *ctx, vc__db *db, vc_buf *out,
                       const char *tenant_id, const char *id,
                       const char *column, const void *blob, size_t n,
                       const char *absent)
{
  vc__seal_site at = { tenant_id, "vc_channel", column, id };
  vc_buf pt = VC_BUF_INIT;
  int rc;

  if (blob == NULL) {
    if (absent == NULL)
      return vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                           "channel %s has no %s (made without a master "
                           "key)", id, column);
    rc = vc__buf_puts(&pt, absent);
  } else {
    rc = vc__keyring_open(&ctx->keys, &pt, &at, blob, n);
  }
  /* A header naming another key version is another context's rotation
   * only when the store's version moved too; otherwise it was altered. */
  if (rc == VC_EKEY && ctx->keys.has_key &&
      vc__keyring_check_current(&ctx->keys, db) == 0)
    rc = vc__error_set(VC_ERRCLASS_CRYPTO, VC_ECRYPTO,
                       "channel %s: %s does not authenticate: its key "
                       "version was altered", id, column);
  else if (rc < 0 && blob != NULL)
    vc__error_wrap(column);
  if (rc == 0) {
    vc__buf_wipe(out);
    *out = pt;
  } else {
    vc__buf_wipe(&pt);
  }
  return rc;
}

typedef struct sealed_read {
  vc_buf *credentials;     /* wanted when not NULL */
  vc_buf *webhook_secret;
  vc_buf *provider;
  vc_buf *config;
  int64_t updated_at;
} sealed_read;

/* Read and open what `r` asks for, under the keyring lock. */
static int read_sealed(vc_ctx *ctx, const char *tenant_id, const char *id,
                       sealed_read *r)
{
  vc__db *db;
  vc__stmt *s = NULL;
  int rc;

  if (!vc__ulid_valid(tenant_id) || !vc__ulid_valid(id))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "tenant or channel id is not a valid id");
  vc__keyring_rdlock(&ctx->keys);
  if ((rc = vc__db_acquire(&db, ctx->store)) < 0)
    goto unlock;
  if ((rc = query_one(&s, db, SQL_SEALED, "tt", tenant_id, id)) < 0)
    goto release;
  {
    size_t cn = 0, hn = 0;
    const void *cb = vc__stmt_blob(s, 0, &cn);
    const void *hb = vc__stmt_blob(s, 1, &hn);

    if (r->credentials != NULL)
      rc = open_column(ctx, db, r->credentials, tenant_id, id,
                       "credentials", cb, cn, "{}");
    if (rc == 0 && r->webhook_secret != NULL)
      rc = open_column(ctx, db, r->webhook_secret, tenant_id, id,
                       "webhook_secret", hb, hn, NULL);
    if (rc == 0 && r->provider != NULL)
      rc = vc__buf_puts(r->provider, vc__stmt_text(s, 2));
    if (rc == 0 && r->config != NULL)
      rc = vc__buf_puts(r->config, vc__stmt_text(s, 3));
    r->updated_at = vc__stmt_int64(s, 4);
  }
  vc__stmt_done(s);
release:
  vc__db_release(db);
unlock:
  vc__keyring_unlock(&ctx->keys);
  return rc;
}

int vc__channel_load_secret(vc_buf *out, vc_ctx *ctx, const char *tenant_id,
                            const char *channel_id)
{
  sealed_read r = { out, NULL, NULL, NULL, 0 };

  return read_sealed(ctx, tenant_id, channel_id, &r);
}

int vc__channel_webhook_secret(vc_buf *out, vc_ctx *ctx,
                               const char *tenant_id,
                               const char *channel_id)
{
  sealed_read r = { NULL, out, NULL, NULL, 0 };

  return read_sealed(ctx, tenant_id, channel_id, &r);
}

int vc__channel_open_adapter(vc_adapter *adapter_out, void **state_out,
                             int64_t *updated_at_out, vc_ctx *ctx,
                             const char *tenant_id, const char *channel_id)
{
  vc_buf creds = VC_BUF_INIT, provider = VC_BUF_INIT, config = VC_BUF_INIT;
  sealed_read r = { &creds, NULL, &provider, &config, 0 };
  char what[VC__CHANNEL_PROVIDER_MAX + 16];
  int rc;

  *state_out = NULL;
  if ((rc = read_sealed(ctx, tenant_id, channel_id, &r)) < 0 ||
      (rc = vc__adapter_find(adapter_out, ctx, provider.ptr)) < 0)
    goto out;
  vc_error_clear();
  if ((rc = adapter_out->init(state_out, config.ptr, creds.ptr)) < 0) {
    *state_out = NULL;
    if (vc__error_code() != rc)
      vc__error_set(VC_ERRCLASS_ADAPTER, rc, "the settings were rejected");
    snprintf(what, sizeof(what), "provider '%s'", provider.ptr);
    vc__error_wrap(what);
    goto out;
  }
  rc = 0;
  if (updated_at_out != NULL)
    *updated_at_out = r.updated_at;
out:
  vc__buf_wipe(&creds);
  vc_buf_dispose(&provider);
  vc_buf_dispose(&config);
  return rc;
}

/* ---- update ---------------------------------------------------------- */

static int add_webhook_secret(vc_ctx *ctx, vc__db *db, const channel_row *r)
{
  uint8_t hook[VC__CHANNEL_WEBHOOK_SECRET_SIZE];
  vc_buf blob = VC_BUF_INIT;
  int rc;

  if ((rc = vc__random_os(hook, sizeof(hook))) == 0 &&
      (rc = seal(ctx, db, &blob, r->tenant_id, r->id, "webhook_secret",
                 hook, sizeof(hook))) == 0)
    rc = vc__db_run(db, SQL_ADD_WEBHOOK_SECRET, "ttbi", r->tenant_id, r->id,
                    blob.ptr, blob.size, (int64_t)ctx->keys.version);
  vc__wipe(hook, sizeof(hook));
  vc_buf_dispose(&blob);
  return rc;
}

int vc_channel_update(vc_channel *c, const vc_channel_spec *spec)
{
  vc_buf old_creds = VC_BUF_INIT, cblob = VC_BUF_INIT;
  const char *name, *provider, *config, *sender;
  channel_row *cur, *row = NULL;
  char payload[256], fields[192];
  int32_t priority;
  int empty = 1, rc;
  double rate;
  vc_adapter a;
  vc_ctx *ctx;
  vc__db *db = NULL;

  VC_ASSERT_ARG(c);
  VC_ASSERT_ARG(spec);
  VC_CHECK_VERSION(spec, VC_CHANNEL_SPEC_VERSION, "vc_channel_spec");
  if ((rc = check_spec(spec, 0)) < 0 ||
      (spec->config_json != NULL &&
       (rc = check_object("config_json", spec->config_json, NULL)) < 0) ||
      (spec->credentials_json != NULL &&
       (rc = check_object("credentials_json", spec->credentials_json,
                          &empty)) < 0))
    return rc;
  ctx = c->ctx;
  pthread_mutex_lock(&c->lock);
  cur = c->row;
  if (spec->kind != 0 && spec->kind != cur->kind) {
    rc = vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                       "channel '%s' is %s: its kind cannot change",
                       cur->name, vc_channel_kind_name(cur->kind));
    goto unlock_handle;
  }
  name = spec->name ? spec->name : cur->name;
  provider = spec->provider ? spec->provider : cur->provider;
  config = spec->config_json ? spec->config_json : cur->config;
  sender = spec->sender ? spec->sender : cur->sender;
  if (sender[0] == '\0')
    sender = NULL;
  priority = spec->priority < 0 ? cur->priority : spec->priority;
  rate = spec->rate_per_second < 0 ? cur->rate : spec->rate_per_second;
  /* A new provider, configuration or credentials: the adapter checks the
   * result, with the stored credentials when no new ones are given. */
  if (strcmp(provider, cur->provider) != 0 || spec->config_json != NULL ||
      spec->credentials_json != NULL) {
    if (spec->credentials_json == NULL &&
        (rc = vc__channel_load_secret(&old_creds, ctx, cur->tenant_id,
                                      cur->id)) < 0)
      goto unlock_handle;
    if ((rc = validate_with_adapter(&a, ctx, provider, cur->kind, config,
                                    spec->credentials_json
                                      ? spec->credentials_json
                                      : old_creds.ptr)) < 0)
      goto unlock_handle;
  }
  vc__keyring_rdlock(&ctx->keys);
  if ((rc = vc__db_acquire(&db, ctx->store)) < 0)
    goto unlock;
  if ((rc = vc__db_begin(db)) < 0)
    goto release;
  if ((rc = tenant_live(db, cur->tenant_id)) < 0)
    goto fail;
  rc = vc__db_run(db, SQL_UPDATE, "tttttt" "idi", cur->tenant_id, cur->id,
                  name, provider, config, sender, (int64_t)priority, rate,
                  vc__now(ctx));
  if (rc == VC_EEXISTS)
    rc = vc__error_set(VC_ERRCLASS_INVALID, VC_EEXISTS,
                       "channel name '%s' is taken", name);
  if (rc < 0)
    goto fail;
  if (spec->credentials_json != NULL) {
    if (ctx->keys.has_key || !empty) {
      if ((rc = seal(ctx, db, &cblob, cur->tenant_id, cur->id,
                     "credentials", spec->credentials_json,
                     strlen(spec->credentials_json))) < 0)
        goto fail;
      rc = vc__db_run(db, SQL_UPDATE_CREDENTIALS, "ttbi", cur->tenant_id,
                      cur->id, cblob.ptr, cblob.size,
                      (int64_t)ctx->keys.version);
    } else {
      rc = vc__db_run(db, SQL_UPDATE_CREDENTIALS, "ttni", cur->tenant_id,
                      cur->id, (int64_t)ctx->keys.version);
    }
    if (rc < 0)
      goto fail;
  }
  if (ctx->keys.has_key && (rc = add_webhook_secret(ctx, db, cur)) < 0)
    goto fail;
  if ((rc = load_row(&row, db, cur->tenant_id, cur->id)) < 0)
    goto fail;
  event_payload(payload, sizeof(payload), row);
  {
    /* Which settings the call gave: credentials by name only. */
    static const char *const names[] = { "name", "provider", "config",
                                         "credentials", "sender",
                                         "priority", "rate_per_second" };
    const int set[] = { spec->name != NULL, spec->provider != NULL,
                        spec->config_json != NULL,
                        spec->credentials_json != NULL,
                        spec->sender != NULL, spec->priority >= 0,
                        spec->rate_per_second >= 0 };
    vc__audit_fields(fields, sizeof(fields), names, set, 7);
  }
  if ((rc = vc__event_append(db, ctx, cur->tenant_id, "channel.updated",
                             cur->id, payload)) < 0 ||
      (rc = vc__audit(db, ctx, cur->tenant_id, "channel.update", cur->id,
                      fields)) < 0 ||
      (rc = vc__db_commit(db)) < 0)
    goto fail;
  row->retired = cur;
  c->row = row;
  vc_ctx_wakeup(ctx);
  goto release;
fail:
  vc__db_rollback(db);
  row_free(row);
release:
  vc__db_release(db);
unlock:
  vc__keyring_unlock(&ctx->keys);
unlock_handle:
  pthread_mutex_unlock(&c->lock);
  vc__buf_wipe(&old_creds);
  vc_buf_dispose(&cblob);
  return rc;
}

static int set_enabled(vc_channel *c, int enabled)
{
  channel_row *cur, *row = NULL;
  char payload[256];
  int64_t now;
  vc__db *db;
  int changed, rc;

  VC_ASSERT_ARG(c);
  pthread_mutex_lock(&c->lock);
  cur = c->row;
  now = vc__now(c->ctx);
  if ((rc = vc__db_acquire(&db, c->ctx->store)) < 0)
    goto unlock;
  if ((rc = vc__db_begin(db)) < 0)
    goto release;
  if (enabled)
    rc = vc__db_run(db, SQL_SET_ENABLED, "ttini", cur->tenant_id, cur->id,
                    (int64_t)1, now);
  else
    rc = vc__db_run(db, SQL_SET_ENABLED, "ttiii", cur->tenant_id, cur->id,
                    (int64_t)0, now, now);
  changed = rc == 0 && vc__db_changes(db) > 0;
  if (rc < 0 || (rc = load_row(&row, db, cur->tenant_id, cur->id)) < 0)
    goto fail;
  /* Already in that state: nothing changed, nothing to record. */
  if (changed) {
    event_payload(payload, sizeof(payload), row);
    if ((rc = vc__event_append(db, c->ctx, cur->tenant_id,
                               enabled ? "channel.enabled"
                                       : "channel.disabled",
                               cur->id, payload)) < 0 ||
        (rc = vc__audit(db, c->ctx, cur->tenant_id,
                        enabled ? "channel.enable" : "channel.disable",
                        cur->id, NULL)) < 0)
      goto fail;
  }
  if ((rc = vc__db_commit(db)) < 0)
    goto fail;
  row->retired = cur;
  c->row = row;
  vc_ctx_wakeup(c->ctx);
  goto release;
fail:
  vc__db_rollback(db);
  row_free(row);
release:
  vc__db_release(db);
unlock:
  pthread_mutex_unlock(&c->lock);
  return rc;
}

int vc_channel_disable(vc_channel *c)
{
  return set_enabled(c, 0);
}

int vc_channel_enable(vc_channel *c)
{
  return set_enabled(c, 1);
}

void vc_channel_free(vc_channel *c)
{
  if (c == NULL)
    return;
  row_free(c->row);
  pthread_mutex_destroy(&c->lock);
  vc__free(c);
}

/* ---- getters --------------------------------------------------------- */

/* Getters read the current snapshot under the handle's lock. */
#define GETTER(type, name, expr, none) \
  VC__SNAPSHOT_GETTER(channel, type, name, expr, none)
GETTER(const char *, id, id, NULL)
GETTER(const char *, tenant_id, tenant_id, NULL)
GETTER(const char *, name, name, NULL)
GETTER(int, kind_of, kind, 0)
GETTER(const char *, provider, provider, NULL)
GETTER(const char *, sender, sender, NULL)
GETTER(int32_t, priority, priority, 0)
GETTER(double, rate_per_second, rate, 0.0)
GETTER(int, enabled, enabled, 0)
GETTER(const char *, config_json, config, NULL)
GETTER(int64_t, created_at, created_at, 0)
GETTER(int64_t, updated_at, updated_at, 0)
GETTER(int64_t, disabled_at, disabled_at, 0)
GETTER(const char *, webhook_path, path, NULL)
#undef GETTER

int vc_channel_webhook_url(vc_buf *out, const vc_channel *c)
{
  vc_buf url = VC_BUF_INIT;
  const char *base;
  size_t n;
  int rc;

  VC_ASSERT_ARG(out);
  VC_ASSERT_ARG(c);
  base = c->ctx->public_base_url;
  if (base == NULL)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ESTATE,
                         "the context has no public_base_url");
  /* "https://host/" and "https://host" give the same URL. */
  n = strlen(base);
  while (n > 0 && base[n - 1] == '/')
    n--;
  if ((rc = vc__buf_put(&url, base, n)) < 0 ||
      (rc = vc__buf_puts(&url, vc_channel_webhook_path(c))) < 0) {
    vc_buf_dispose(&url);
    return rc;
  }
  vc_buf_dispose(out);
  *out = url;
  return 0;
}

/* ---- internal lookups ------------------------------------------------ */

static int with_db(vc__db **db, int *owned, vc_ctx *ctx)
{
  *owned = *db == NULL;
  return *owned ? vc__db_acquire(db, ctx->store) : 0;
}

int vc__channel_find(vc__channel_info *out, vc_ctx *ctx, vc__db *db,
                     const char *tenant_id, const char *key)
{
  vc__stmt *s;
  int owned, rc;

  if ((rc = check_key(key)) < 0 || (rc = with_db(&db, &owned, ctx)) < 0)
    return rc;
  if ((rc = query_one(&s, db, SQL_BY_KEY, "tt", tenant_id, key)) == 0) {
    info_from_stmt(out, s);
    vc__stmt_done(s);
  }
  if (owned)
    vc__db_release(db);
  return rc;
}

int vc__channel_find_by_id(vc__channel_info *out, vc_ctx *ctx, vc__db *db,
                           const char *channel_id)
{
  vc__stmt *s;
  int owned, rc;

  if (!vc__ulid_valid(channel_id))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                         "no channel '%.64s'", channel_id ? channel_id : "");
  if ((rc = with_db(&db, &owned, ctx)) < 0)
    return rc;
  if ((rc = query_one(&s, db, SQL_BY_ID_ANY, "t", channel_id, NULL)) == 0) {
    info_from_stmt(out, s);
    vc__stmt_done(s);
  }
  if (owned)
    vc__db_release(db);
  return rc;
}

int vc__channel_candidates(vc__channel_info *out, size_t max, size_t *n,
                           vc_ctx *ctx, vc__db *db, const char *tenant_id,
                           int kind)
{
  vc__stmt *s;
  int owned, rc;

  *n = 0;
  if (max > VC__CHANNEL_CANDIDATES_MAX)
    max = VC__CHANNEL_CANDIDATES_MAX;
  if (!kind_valid(kind))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "unknown channel kind %d", kind);
  if ((rc = with_db(&db, &owned, ctx)) < 0)
    return rc;
  if ((rc = vc__db_query(&s, db, SQL_CANDIDATES, "tii", tenant_id,
                         (int64_t)kind, (int64_t)max)) == 0) {
    while ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW && *n < max)
      info_from_stmt(&out[(*n)++], s);
    vc__stmt_done(s);
  }
  if (owned)
    vc__db_release(db);
  return rc < 0 ? rc : 0;
}

/* ---- vc_channel_list -------------------------------------------------- */

typedef struct channel_iter {
  vc__page_iter page;
  vc_ctx *ctx;
  char tenant_id[VC_ID_SIZE];
  int kind, include_disabled;
} channel_iter;

static int page_query(vc__stmt **out, vc__db *db, const vc__page_iter *p)
{
  const channel_iter *it = (const channel_iter *)p;

  return vc__db_query(out, db, SQL_PAGE, "ttii", it->tenant_id,
                      p->base.cursor, (int64_t)it->kind,
                      (int64_t)it->include_disabled);
}

static int page_row(void **out, vc__stmt *s)
{
  return row_from_stmt((channel_row **)out, s);
}

static void page_row_free(void *row)
{
  row_free(row);
}

static const char *page_row_key(const void *row)
{
  return ((const channel_row *)row)->id;
}

static const vc__page_ops CHANNEL_PAGES = {
  { "channel", vc__page_iter_free }, page_query, page_row, page_row_free,
  page_row_key
};

int vc_channel_list(vc_iter **out, vc_tenant *t, const vc_channel_filter *f)
{
  channel_iter *it;

  VC_ASSERT_ARG(out);
  *out = NULL;
  VC_ASSERT_ARG(t);
  VC_CHECK_VERSION(f, VC_CHANNEL_FILTER_VERSION, "vc_channel_filter");
  if (f != NULL && f->after != NULL && f->after[0] != '\0' &&
      !vc__ulid_valid(f->after))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "cursor is not a channel list cursor");
  if (f != NULL && f->kind != 0 && !kind_valid(f->kind))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "unknown channel kind %d", f->kind);
  if ((it = vc__calloc(1, sizeof(*it))) == NULL)
    return vc_error_set_oom();
  it->ctx = vc__tenant_ctx(t);
  vc__page_iter_init(&it->page, &CHANNEL_PAGES, it->ctx->store,
                     f != NULL ? f->after : NULL);
  snprintf(it->tenant_id, sizeof(it->tenant_id), "%s", vc_tenant_id(t));
  it->kind = f != NULL ? f->kind : 0;
  it->include_disabled = f != NULL && f->include_disabled;
  *out = &it->page.base;
  return 0;
}

int vc_channel_next(vc_channel **out, vc_iter *base)
{
  void *row;
  int rc;

  VC_ASSERT_ARG(out);
  *out = NULL;
  if ((rc = vc__page_iter_next(&row, base, &CHANNEL_PAGES)) < 0)
    return rc;
  return handle_new(out, ((channel_iter *)base)->ctx, row);
}

int vc_channel_spec_init(vc_channel_spec *s, unsigned int version)
{
  VC_INIT_STRUCT(s, version, VC_CHANNEL_SPEC_VERSION, vc_channel_spec,
                 VC_CHANNEL_SPEC_INIT);
}

int vc_channel_filter_init(vc_channel_filter *f, unsigned int version)
{
  VC_INIT_STRUCT(f, version, VC_CHANNEL_FILTER_VERSION, vc_channel_filter,
                 VC_CHANNEL_FILTER_INIT);
}
