/*
 * vc_webhook_handle: route a provider's webhook to its channel, verify
 * it, and apply what it says once, in one transaction.
 */
#include "core/common.h"
#include "core/buf.h"
#include "core/codec.h"
#include "core/crypto.h"
#include "core/ctx.h"
#include "core/event.h"
#include "core/text.h"
#include "msg/keyword.h"
#include "msg/message.h"
#include "msg/msg_hooks.h"
#include "msg/msg_ledger.h"
#include "msg/route.h"
#include "msg/unsubscribe.h"
#include "call/script.h"
#include "fetch.h"
#include "listen.h"
#include "sink.h"
#include "webhook.h"

#include <cJSON.h>
#include <stdio.h>
#include <strings.h>

#define DEDUPE_KEEP_MS (72LL * 3600 * 1000)
#define MAX_HEADERS 100
#define TARGET_MAX 2048

static const char SQL_CHANNEL[] =
  "SELECT tenant_id, id, provider, COALESCE(sender, ''), rate_per_second,"
  " updated_at FROM vc_channel WHERE id = ?1";
static const char SQL_SEEN[] =
  "INSERT INTO vc_webhook_seen (tenant_id, key, created_at)"
  " VALUES (?1, ?2, ?3) ON CONFLICT (tenant_id, key) DO NOTHING";
static const char SQL_PURGE[] =
  "DELETE FROM vc_webhook_seen WHERE rowid IN (SELECT rowid"
  " FROM vc_webhook_seen WHERE created_at < ?1 LIMIT 100)";
static const char SQL_BY_PROVIDER_ID[] =
  "SELECT id FROM vc_message WHERE tenant_id = ?1 AND channel_id = ?2"
  " AND provider_id = ?3";
static const char SQL_INBOUND[] =
  "INSERT INTO vc_inbound_message (tenant_id, id, channel_id, provider_id,"
  " from_addr, to_addr, text_body, media, received_at)"
  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
  " ON CONFLICT DO NOTHING";

/* What the sink callbacks need. */
typedef struct apply_ctx {
  vc_ctx *ctx;
  vc__db *db;
  const char *tenant_id;
  const char *channel_id;
  int kind;                   /* the channel's vc_channel_kind */
  const char *provider;       /* its adapter's name */
  int64_t now;
  size_t applied, duplicates, unmatched;
  vc__call_webhook call;      /* the call the URL names, if any */
} apply_ctx;

/* 1 the first time `key` is seen for the tenant, 0 for a repeat. */
static int seen_first(vc__db *db, const char *tenant_id, const char *key,
                      int64_t now)
{
  int rc = vc__db_run(db, SQL_SEEN, "tti", tenant_id, key, now);

  if (rc < 0)
    return rc;
  return vc__db_changes(db) > 0;
}

static int first_time(apply_ctx *a, const char *key)
{
  return seen_first(a->db, a->tenant_id, key, a->now);
}

static void hash_key(char out[72], const char *prefix, const char *parts[],
                     size_t n)
{
  uint8_t digest[32];
  vc_buf b = VC_BUF_INIT;

  for (size_t i = 0; i < n; i++) {
    vc__buf_puts(&b, parts[i] ? parts[i] : "-");
    vc__buf_put(&b, "", 1);
  }
  if (b.ptr != NULL &&
      vc__digest(digest, VC__MD_SHA256, b.ptr, b.size) == 0) {
    snprintf(out, 72, "%s", prefix);
    vc__hex_encode(out + strlen(prefix), digest, 24);
  } else {
    snprintf(out, 72, "%s-unhashable", prefix);
  }
  vc_buf_dispose(&b);
}

static int on_status(void *payload, const vc_status_update *u)
{
  apply_ctx *a = payload;
  char key[72], id[VC_ID_SIZE] = "", code[16];
  vc__msg_status_change c;
  int rc, changed;

  snprintf(code, sizeof(code), "%d", u->status);
  if (u->event_id != NULL) {
    const char *parts[] = { a->channel_id, u->event_id };
    hash_key(key, "e:", parts, 2);
  } else {
    const char *parts[] = { a->channel_id, u->message_id, u->provider_id,
                            code, u->provider_code };
    hash_key(key, "h:", parts, 5);
  }
  if ((rc = first_time(a, key)) <= 0) {
    if (rc == 0)
      a->duplicates++;
    return rc;
  }
  /* Our own id when the provider echoed it, else the provider's id. */
  if (u->message_id != NULL && vc__ulid_valid(u->message_id)) {
    snprintf(id, sizeof(id), "%s", u->message_id);
  } else if (u->provider_id != NULL) {
    vc__stmt *s;
    if ((rc = vc__db_query(&s, a->db, SQL_BY_PROVIDER_ID, "ttt",
                           a->tenant_id, a->channel_id,
                           u->provider_id)) < 0)
      return rc;
    if (vc__stmt_step(s) == VC_STORAGE_ROW)
      snprintf(id, sizeof(id), "%s", vc__stmt_text(s, 0));
    vc__stmt_done(s);
  }
  memset(&c, 0, sizeof(c));
  c.status = u->status;
  c.provider_id = u->provider_id;
  c.provider_code = u->provider_code;
  c.error_message = u->error_message;
  if (u->status == VC_MSG_UNDELIVERED || u->status == VC_MSG_BOUNCED)
    c.error = VC_EPROVIDER;
  if (id[0] == '\0' ||
      (rc = vc__msg_set_status(a->db, a->ctx, a->tenant_id, id, &c,
                               &changed)) == VC_ENOTFOUND) {
    /* Not ours (or another tenant's id): recorded as seen, ignored. */
    a->unmatched++;
    vc_error_clear();
    return 0;
  }
  if (rc == 0)
    a->applied++;
  if (rc == 0 && u->price_micros > 0) {
    /* The provider's price of the message or of this part of it
     * (msg/msg_ledger.c): the same price again changes nothing. */
    vc__msg_price pr = { a->tenant_id, id, u->provider_id, u->price_micros,
                         u->currency,
                         u->occurred_at ? u->occurred_at : a->now };
    rc = vc__msg_ledger_price(a->db, a->ctx, &pr);
  }
  return rc;
}

static int on_inbound(void *payload, const vc_inbound *m)
{
  apply_ctx *a = payload;
  char id[VC_ID_SIZE], event[96];
  cJSON *media = cJSON_CreateArray();
  char *media_text = NULL;
  int rc;

  if (media == NULL)
    return vc_error_set_oom();
  for (size_t i = 0; i < m->nmedia; i++)
    cJSON_AddItemToArray(media, cJSON_CreateString(m->media_urls[i]));
  media_text = cJSON_PrintUnformatted(media);
  cJSON_Delete(media);
  if (media_text == NULL)
    return vc_error_set_oom();
  if ((rc = vc__new_id(a->ctx, id)) == 0)
    rc = vc__db_run(a->db, SQL_INBOUND, "tttttttti", a->tenant_id, id,
                    a->channel_id,
                    m->provider_id, m->from, m->to, m->text, media_text,
                    m->occurred_at ? m->occurred_at : a->now);
  cJSON_free(media_text);
  if (rc < 0)
    return rc;
  if (vc__db_changes(a->db) == 0) {
    a->duplicates++;
    return 0;
  }
  snprintf(event, sizeof(event), "{\"channel_id\":\"%s\"}", a->channel_id);
  a->applied++;
  if ((rc = vc__event_append(a->db, a->ctx, a->tenant_id,
                             "inbound.received", id, event)) < 0)
    return rc;
  {
    vc__msg_inbound in = { a->tenant_id, id, a->channel_id, a->kind,
                           m->from ? m->from : "", m->text ? m->text : "",
                           m->occurred_at ? m->occurred_at : a->now };
    if ((rc = vc__msg_on_inbound(a->db, a->ctx, &in)) < 0)
      return rc;
  }
  /* STOP, START, HELP: in this transaction, so that the consent change
   * and its reply are kept only with the message. */
  rc = vc__keyword_inbound(a->db, a->ctx, a->tenant_id, a->channel_id,
                           a->kind, a->provider, id, m->from, m->text);
  return rc < 0 ? rc : 0;
}

/* A call update: deduplicated like status updates (the provider's
 * event id, else a hash of the update and of the URL's call, step, node
 * and try), then applied to the call. A SCRIPT is an instruction fetch
 * that always gets its answer, so it is never deduplicated; nor is an
 * arrival, whose repeat finds its call by the provider's id and gets the
 * same answer (call/inbound.c). */
int vc__webhook_call_update(vc__call_webhook *w, const vc_call_update *u)
{
  char key[72], num[7][24];
  int rc;

  if (u->type != VC_UPDATE_SCRIPT && u->type != VC_UPDATE_INCOMING) {
    if (u->event_id != NULL) {
      const char *parts[] = { w->channel_id, u->event_id };
      hash_key(key, "c:", parts, 2);
    } else {
      const char *parts[] = {
        w->channel_id, w->call_id, u->call_id, u->provider_call_id,
        w->step, w->node, num[0], num[1], num[2], num[3], num[4],
        num[5], num[6], u->leg_provider_id, u->provider_code, u->digits,
        u->recording_id
      };
      snprintf(num[0], sizeof(num[0]), "%d", w->attempt);
      snprintf(num[1], sizeof(num[1]), "%d", u->type);
      snprintf(num[2], sizeof(num[2]), "%d", u->leg);
      snprintf(num[3], sizeof(num[3]), "%d", u->cause);
      snprintf(num[4], sizeof(num[4]), "%d", u->recording_status);
      snprintf(num[5], sizeof(num[5]), "%lld", (long long)u->occurred_at);
      snprintf(num[6], sizeof(num[6]), "%d", u->duration_s);
      hash_key(key, "ch:", parts, VC_ARRAY_SIZE(parts));
    }
    if ((rc = seen_first(w->db, w->tenant_id, key, w->now)) <= 0)
      return rc < 0 ? rc : VC__CALL_UPDATE_DUPLICATE;
  }
  rc = vc__call_webhook_update(w, u);
  if (rc == VC_ENOTFOUND)
    return VC__CALL_UPDATE_UNMATCHED; /* recorded as seen, ignored */
  return rc < 0 ? rc : VC__CALL_UPDATE_APPLIED;
}

int vc__webhook_seen_purge(vc__db *db, int64_t now)
{
  return vc__db_run(db, SQL_PURGE, "i", now - DEDUPE_KEEP_MS);
}

static int on_call(void *payload, const vc_call_update *u)
{
  apply_ctx *a = payload;
  int rc = vc__webhook_call_update(&a->call, u);

  if (rc == VC__CALL_UPDATE_DUPLICATE)
    a->duplicates++;
  else if (rc == VC__CALL_UPDATE_UNMATCHED)
    a->unmatched++;
  else if (rc == VC__CALL_UPDATE_APPLIED)
    a->applied++;
  return rc < 0 ? rc : 0;
}

/* The channel id in a webhook's target, "" when there is none. */
static void channel_from_target(char out[VC_ID_SIZE], const char *target)
{
  static const char direct[] = "/webhooks/";
  static const char api[] = "/api/v1/communication/webhooks/";
  const char *p = NULL;

  out[0] = '\0';
  if (strncmp(target, direct, sizeof(direct) - 1) == 0) {
    p = target + sizeof(direct) - 1;
  } else if (strncmp(target, api, sizeof(api) - 1) == 0) {
    const char *q = strchr(target, '?');
    while (q != NULL) {
      q++;
      if (strncmp(q, "channel=", 8) == 0) {
        p = q + 8;
        break;
      }
      q = strchr(q, '&');
    }
  }
  if (p != NULL && strlen(p) >= 26 && (p[26] == '\0' || p[26] == '?' ||
                                       p[26] == '&' || p[26] == '/')) {
    memcpy(out, p, 26);
    out[26] = '\0';
    if (!vc__ulid_valid(out))
      out[0] = '\0';
  }
}

static int reply(vc_http_response *out, int status, int rc)
{
  out->status = status;
  return rc;
}

/* A channel by id alone, with its tenant. */
static int find_channel(vc_ctx *ctx, const char *id, char tenant[VC_ID_SIZE],
                        vc__route_target *t)
{
  vc__db *db;
  vc__stmt *s;
  int rc;

  if ((rc = vc__db_acquire(&db, ctx->store)) < 0)
    return rc;
  if ((rc = vc__db_query(&s, db, SQL_CHANNEL, "t", id)) == 0) {
    rc = vc__stmt_step(s);
    if (rc == VC_STORAGE_ROW) {
      snprintf(tenant, VC_ID_SIZE, "%s", vc__stmt_text(s, 0));
      snprintf(t->id, sizeof(t->id), "%s", vc__stmt_text(s, 1));
      snprintf(t->provider, sizeof(t->provider), "%s", vc__stmt_text(s, 2));
      snprintf(t->sender, sizeof(t->sender), "%s", vc__stmt_text(s, 3));
      t->rate_per_second = vc__stmt_double(s, 4);
      t->updated_at = vc__stmt_int64(s, 5);
      rc = 0;
    } else if (rc == VC_STORAGE_DONE) {
      rc = vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                         "no channel %s", id);
    }
    vc__stmt_done(s);
  }
  vc__db_release(db);
  return rc;
}

/* A single-use value (a signature nonce) of this channel. */
static int on_once(void *payload, const char *value)
{
  apply_ctx *a = payload;
  const char *parts[] = { a->channel_id, value };
  char key[72];
  int rc;

  hash_key(key, "n:", parts, 2);
  if ((rc = first_time(a, key)) < 0)
    return rc;
  if (rc == 0) {
    a->duplicates++;
    return vc__error_set(VC_ERRCLASS_ADAPTER, VC_EEXISTS,
                         "webhook nonce already used");
  }
  return 0;
}

static int apply(vc_ctx *ctx, vc__route_instance *inst,
                 const vc_http_request *req, const char *tenant_id,
                 vc_event_sink *sink, apply_ctx *a)
{
  int rc;

  memset(a, 0, sizeof(*a));
  a->ctx = ctx;
  a->tenant_id = tenant_id;
  a->channel_id = inst->channel_id;
  a->kind = inst->adapter.kind;
  a->provider = inst->adapter.name;
  a->now = vc__now(ctx);
  if ((rc = vc__db_acquire(&a->db, ctx->store)) < 0)
    return rc;
  if ((rc = vc__db_begin(a->db)) == 0) {
    vc__sink_init(sink, on_status, on_inbound, a);
    vc__sink_set_once(sink, on_once);
    vc__sink_set_call(sink, on_call);
    vc__call_webhook_init(&a->call, req->target);
    a->call.ctx = ctx;
    a->call.db = a->db;
    a->call.tenant_id = tenant_id;
    a->call.channel_id = inst->channel_id;
    a->call.adapter = &inst->adapter;
    a->call.state = inst->state;
    a->call.sink = sink;
    a->call.now = a->now;
    rc = inst->adapter.parse_webhook(inst->state, req, sink);
    if (rc == 0)
      rc = vc__webhook_seen_purge(a->db, a->now);
    if (rc == 0)
      rc = vc__db_commit(a->db);
    if (rc < 0)
      vc__db_rollback(a->db);
  }
  vc__db_release(a->db);
  return rc;
}

int vc_webhook_handle(vc_http_response *out, vc_ctx *ctx,
                      const vc_http_request *req)
{
  char channel_id[VC_ID_SIZE], tenant_id[VC_ID_SIZE];
  vc__route_target target;
  vc__route_instance *inst = NULL;
  vc_event_sink sink;
  vc_webhook_env env;
  vc_buf url = VC_BUF_INIT;
  apply_ctx a;
  int rc;

  VC_ASSERT_ARG(out);
  vc_http_response_init(out, VC_HTTP_RESPONSE_VERSION);
  out->status = 400;
  VC_ASSERT_ARG(ctx);
  VC_ASSERT_ARG(req);
  VC_CHECK_VERSION(req, VC_HTTP_REQUEST_VERSION, "vc_http_request");
  vc__sink_init(&sink, NULL, NULL, NULL);
  if (req->target == NULL || req->method == NULL ||
      (req->body == NULL && req->body_len > 0) ||
      (req->headers == NULL && req->nheaders > 0))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "webhook request lacks a method or target");
  if (req->body_len > VC_WEBHOOK_MAX_BODY)
    return reply(out, 413, vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                                         "webhook body over %d bytes",
                                         VC_WEBHOOK_MAX_BODY));
  if (req->nheaders > MAX_HEADERS ||
      vc__check_text("webhook target", req->target, TARGET_MAX, 1) < 0)
    return reply(out, 400, vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                                         "webhook request out of bounds"));
  if ((rc = vc__unsubscribe_route(out, ctx, req)) != VC__NOT_UNSUBSCRIBE)
    return rc;
  channel_from_target(channel_id, req->target);
  if (channel_id[0] == '\0')
    return reply(out, 404, vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                                         "no channel id in the path"));
  if (ctx->public_base_url == NULL)
    return reply(out, 500, vc__error_set(VC_ERRCLASS_INVALID, VC_ESTATE,
                                         "public_base_url is not set: "
                                         "signatures cannot be checked"));
  if ((rc = find_channel(ctx, channel_id, tenant_id, &target)) < 0)
    return reply(out, rc == VC_ENOTFOUND ? 404 : 500, rc);
  if ((rc = vc__route_instance_get(&inst, ctx, tenant_id, &target)) < 0)
    return reply(out, 500, rc);
  if (inst->adapter.verify_webhook == NULL) {
    rc = reply(out, 404, vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                                       "channel %s takes no webhooks",
                                       channel_id));
    goto out;
  }
  /* The URL the provider signed: where it posted, as the host sees it
   * from outside. */
  if ((rc = vc__buf_printf(&url, "%s%s", ctx->public_base_url,
                           req->target)) < 0)
    goto out;
  env.ctx = ctx;
  env.url = url.ptr;
  env.now_ms = vc__now(ctx);
  if ((rc = inst->adapter.verify_webhook(inst->state, req, &env)) < 0) {
    VC_LOG(ctx, VC_LOG_WARN, "webhook for channel %s refused: %s",
           channel_id, vc_error_last()->message);
    rc = reply(out, rc == VC_ETOOBIG ? 413 : 401,
               rc == VC_ETOOBIG ? rc : VC_EAUTH);
    goto out;
  }
  rc = apply(ctx, inst, req, tenant_id, &sink, &a);
  if (rc < 0) {
    out->status = rc == VC_EINVALID || rc == VC_EENCODING ? 400
                  : rc == VC_ETOOBIG ? 413 : 500;
    goto out;
  }
  out->status = sink.reply_status ? sink.reply_status : 200;
  out->content_type = sink.reply_content_type;
  out->body = sink.reply_body;
  memset(&sink.reply_body, 0, sizeof(sink.reply_body));
  if (a.applied > 0)
    vc_ctx_wakeup(ctx);
  VC_LOG(ctx, VC_LOG_DEBUG, "webhook for channel %s: %zu applied, %zu "
         "duplicate, %zu not matched", channel_id, a.applied, a.duplicates,
         a.unmatched);
out:
  vc__sink_fini(&sink);
  vc_buf_dispose(&url);
  if (inst != NULL)
    vc__route_instance_put(ctx, inst);
  return rc;
}

int vc_webhook_listen(vc_ctx *ctx, const char *addr)
{
  vc__listener *l = NULL;
  int rc;

  VC_ASSERT_ARG(ctx);
  VC_ASSERT_ARG(addr);
  if ((rc = vc__check_text("listen address", addr, 120, 1)) < 0)
    return rc;
  pthread_mutex_lock(&ctx->listen_lock);
  if (ctx->listener != NULL) {
    pthread_mutex_unlock(&ctx->listen_lock);
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ESTATE,
                         "the context already listens");
  }
  rc = vc__listener_start(&l, ctx, addr);
  if (rc == 0) {
    ctx->listener = l;
    rc = vc__listener_port(l);
  }
  pthread_mutex_unlock(&ctx->listen_lock);
  return rc;
}
