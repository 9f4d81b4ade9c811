/*
 * The dispatcher. One batch of claimed message.send jobs goes through
 * four steps:
 *
 *   1. plan (reads only): load the messages (one SELECT per 64 of a
 *      tenant, load_chunk), pick each one's channel (priority order,
 *      skipping channels failed over from, open breakers and empty rate
 *      buckets) and let the channel's adapter build the request;
 *   2. mark the messages `sending`, in one transaction (one UPDATE per 64
 *      of a tenant and channel, mark_group);
 *   3. run the requests on the engine's transport;
 *   4. record each outcome in one transaction: `sent`, a retry with
 *      backoff, a failover to the next channel, or `failed`.
 *
 * A condition every message must still meet when it goes out belongs in
 * the per-64 statements of step 1 (or step 2's UPDATE, which decides what
 * is sent). An engine thread runs step 1 and 2 of its next batch while
 * this one's requests run (engine.c); the transport sends nothing of it
 * before this batch's step 4 committed.
 *
 * A crash between 3 and 4 leaves the jobs leased; when the lease expires
 * they run again, and a provider may see a message twice: delivery is at
 * least once. A message already past `sending` is never sent again.
 */
#include "core/common.h"
#include "core/buf.h"
#include "core/ctx.h"
#include "core/event.h"
#include "dispatch.h"
#include "limits.h"
#include "message.h"
#include "msg_ledger.h"
#include "net/transport.h"
#include "route.h"
#include "unsubscribe.h"

#include <stdio.h>

/* Up to VC__DB_IDS messages of one tenant. Column 16: the contact (or
 * the contact it was merged into) opted out of the message's kind
 * and category (one-time passwords: transactional) since it was queued;
 * two primary-key lookups per message, in the same statement, and none
 * for a message to an address no contact held (no consent row can match
 * a NULL contact: the guard only spares the lookups). */
static const char SQL_LOAD[] =
  "SELECT id, kind, COALESCE(channel_id, ''), pinned, to_addr, from_addr,"
  " subject, text_body, html_body, metadata, status, attempts,"
  " channel_attempts, tried_channels, parts_done, attachments,"
  " CASE WHEN consent_exempt = 0 AND contact_id IS NOT NULL"
  "  AND EXISTS (SELECT 1 FROM vc_consent c"
  "  WHERE c.tenant_id = ?65 AND c.contact_id IN (vc_message.contact_id,"
  "  (SELECT k.merged_into FROM vc_contact k WHERE k.tenant_id = ?65"
  "  AND k.id = vc_message.contact_id))"
  "  AND c.channel_kind = vc_message.kind AND c.state = 2"
  "  AND c.category = CASE WHEN vc_message.category = 3 THEN 1"
  "  ELSE vc_message.category END) THEN 1 ELSE 0 END,"
  " category, COALESCE(contact_id, '')"
  " FROM vc_message"
  " WHERE tenant_id = ?65 AND id IN (" VC__DB_IDS_SQL ")";
static const char SQL_ATTACHMENTS[] =
  "SELECT filename, content_type, data, url FROM vc_message_attachment"
  " WHERE tenant_id = ?1 AND message_id = ?2 ORDER BY seq";
/* Step 2 for up to VC__DB_IDS messages of one tenant going out on one
 * channel: the attempt of each still in the status step 1 read (?68),
 * then the events of those it moved from queued, from the ids it
 * returned (no second read of the rows). Status 1 is queued and 2
 * sending (pinned values of vc_msg_status). */
static const char SQL_ATTEMPT[] =
  "UPDATE vc_message SET status = 2, attempts = attempts + 1,"
  " channel_attempts = channel_attempts + 1, channel_id = ?67,"
  " updated_at = ?66"
  " WHERE tenant_id = ?65 AND id IN (" VC__DB_IDS_SQL ")"
  " AND status = ?68 RETURNING id";
static const char SQL_SENDING_EVENTS[] =
  "INSERT INTO vc_event (tenant_id, type, subject_id, payload, created_at)"
  " SELECT ?65, 'message.sending', column1,"
  " '{\"status\":\"sending\",\"previous\":\"queued\",\"error\":0}', ?66"
  " FROM (VALUES " VC__MSG_IDS_ROWS ") WHERE column1 IS NOT NULL";
/* One part of a split message accepted: the next one goes on the same
 * channel, which keeps the first part's provider id. */
static const char SQL_PART_DONE[] =
  "UPDATE vc_message SET parts_done = ?3, channel_attempts = 0,"
  " provider_id = COALESCE(provider_id, ?4), updated_at = ?5"
  " WHERE tenant_id = ?1 AND id = ?2";
/* A chat recipient is stored without the '+' of its number (the
 * WhatsApp form, msg/address.h), while adapters report senders in E.164
 * with it: either form is the same person. */
static const char SQL_LAST_INBOUND[] =
  "SELECT MAX(received_at) FROM vc_inbound_message"
  " WHERE tenant_id = ?1 AND channel_id = ?2"
  " AND from_addr IN (?3, '+' || ?3)";
static const char SQL_FAILOVER[] =
  "UPDATE vc_message SET tried_channels = tried_channels || ?3 || ' ',"
  " channel_attempts = 0 WHERE tenant_id = ?1 AND id = ?2";

/* What one job needs through the four steps. */
typedef struct plan {
  const vc__job *job;
  vc__job_outcome *out;
  int loaded;                 /* the message was read */
  int routed;                 /* a channel was chosen */
  int send;                   /* 1 when a request goes out */
  int local;                  /* adapter sends nothing (sandbox) */
  int kind, pinned, status, attempts, channel_attempts;
  int parts_done;             /* parts of a split message accepted */
  int opted_out;              /* its contact withdrew consent since */
  int nparts;                 /* requests this message takes */
  char *to, *from, *subject, *text, *html, *metadata, *tried;
  char pinned_id[VC_ID_SIZE];
  int category;
  char contact_id[VC_ID_SIZE];
  char *unsubscribe;          /* List-Unsubscribe (marketing email) */
  vc_attachment *att;
  size_t natt;
  vc_buf att_data;            /* the attachments' bytes and strings */
  vc__route_target target;
  vc__route_instance *inst;
  char callback_url[1024];
  vc_outbound ob;
  vc__transfer xfer;
  vc_send_result result;
} plan;

static void plan_free(vc_ctx *ctx, plan *p)
{
  vc__free(p->to);
  vc__free(p->from);
  vc__free(p->subject);
  vc__free(p->text);
  vc__free(p->html);
  vc__free(p->metadata);
  vc__free(p->tried);
  vc__free(p->unsubscribe);
  vc__free(p->att);
  vc_buf_dispose(&p->att_data);
  if (p->inst != NULL)
    vc__route_instance_put(ctx, p->inst);
  vc__transfer_reset(&p->xfer);
}

static char *dup_col(vc__stmt *s, int col)
{
  const char *t = vc__stmt_text(s, col);

  return t ? vc__strdup(t) : NULL;
}

static int load_attachments(plan *p, vc__db *db)
{
  vc__stmt *s;
  size_t cap = 0;
  int rc;

  if ((rc = vc__db_query(&s, db, SQL_ATTACHMENTS, "tt", p->job->tenant_id,
                         p->job->subject_id)) < 0)
    return rc;
  while ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW) {
    vc_attachment *a;
    size_t len = 0;
    const void *data = vc__stmt_blob(s, 2, &len);
    if (p->natt == cap) {
      size_t ncap = cap ? cap * 2 : 4;
      vc_attachment *np = vc__realloc(p->att, ncap * sizeof(*np));
      if (np == NULL) {
        rc = vc_error_set_oom();
        break;
      }
      p->att = np;
      cap = ncap;
    }
    a = &p->att[p->natt++];
    memset(a, 0, sizeof(*a));
    /* Strings are kept as offsets until the buffer stops moving. */
    a->filename = (const char *)(uintptr_t)p->att_data.size;
    vc__buf_put(&p->att_data, vc__stmt_text(s, 0),
                strlen(vc__stmt_text(s, 0)) + 1);
    a->content_type = (const char *)(uintptr_t)p->att_data.size;
    vc__buf_put(&p->att_data, vc__stmt_text(s, 1),
                strlen(vc__stmt_text(s, 1)) + 1);
    if (vc__stmt_is_null(s, 3)) {
      a->data = (const uint8_t *)(uintptr_t)p->att_data.size;
      a->len = len;
      vc__buf_put(&p->att_data, data, len);
    } else {
      a->url = (const char *)(uintptr_t)p->att_data.size;
      vc__buf_put(&p->att_data, vc__stmt_text(s, 3),
                  strlen(vc__stmt_text(s, 3)) + 1);
    }
  }
  vc__stmt_done(s);
  if (rc < 0)
    return rc;
  for (size_t i = 0; i < p->natt; i++) {
    vc_attachment *a = &p->att[i];
    a->filename = p->att_data.ptr + (uintptr_t)a->filename;
    a->content_type = p->att_data.ptr + (uintptr_t)a->content_type;
    if (a->url != NULL)
      a->url = p->att_data.ptr + (uintptr_t)a->url;
    else
      a->data = (const uint8_t *)p->att_data.ptr + (uintptr_t)a->data;
  }
  return 0;
}

/* A plan's message from a row of SQL_LOAD. */
static int take_row(plan *p, vc__stmt *s)
{
  p->loaded = 1;
  p->kind = (int)vc__stmt_int64(s, 1);
  snprintf(p->pinned_id, sizeof(p->pinned_id), "%s", vc__stmt_text(s, 2));
  p->pinned = (int)vc__stmt_int64(s, 3);
  p->to = dup_col(s, 4);
  p->from = dup_col(s, 5);
  p->subject = dup_col(s, 6);
  p->text = dup_col(s, 7);
  p->html = dup_col(s, 8);
  p->metadata = dup_col(s, 9);
  p->status = (int)vc__stmt_int64(s, 10);
  p->attempts = (int)vc__stmt_int64(s, 11);
  p->channel_attempts = (int)vc__stmt_int64(s, 12);
  p->tried = dup_col(s, 13);
  p->parts_done = (int)vc__stmt_int64(s, 14);
  p->natt = (size_t)vc__stmt_int64(s, 15); /* how many to load */
  p->opted_out = vc__stmt_int64(s, 16) != 0;
  p->category = (int)vc__stmt_int64(s, 17);
  snprintf(p->contact_id, sizeof(p->contact_id), "%s",
           vc__stmt_text(s, 18));
  /* Once a part went out, the rest follow on the same channel. */
  if (p->parts_done > 0 && p->pinned_id[0] != '\0')
    p->pinned = 1;
  return p->to && p->tried ? 0 : vc_error_set_oom();
}

/* Read the messages of plans[0..n) (n <= VC__DB_IDS, one tenant) in one
 * statement. A plan left unloaded has no message any more. */
static int load_chunk(plan *plans, size_t n, vc__db *db)
{
  const char *ids[VC__DB_IDS];
  size_t hint = 0;
  vc__stmt *s;
  int rc;

  for (size_t i = 0; i < n; i++)
    ids[i] = plans[i].job->subject_id;
  if ((rc = vc__db_prepare(&s, db, SQL_LOAD)) < 0)
    return rc;
  if ((rc = vc__stmt_bind_ids(s, ids, n)) == 0 &&
      (rc = vc__stmt_bind_text(s, VC__DB_IDS + 1,
                               plans[0].job->tenant_id)) == 0) {
    while ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW) {
      const char *id = vc__stmt_text(s, 0);
      /* Rows come in about the jobs' order: look from the last match. */
      for (size_t k = 0; k < n; k++) {
        plan *p = &plans[(hint + k) % n];
        if (!p->loaded && strcmp(p->job->subject_id, id) == 0) {
          hint = (hint + k + 1) % n;
          if ((rc = take_row(p, s)) < 0)
            goto out;
          break;
        }
      }
    }
  }
out:
  vc__stmt_done(s);
  for (size_t i = 0; i < n && rc >= 0; i++)
    if (plans[i].loaded && plans[i].natt > 0) {
      plans[i].natt = 0;
      rc = load_attachments(&plans[i], db);
    }
  return rc < 0 ? rc : 0;
}

static int64_t backoff(vc_ctx *ctx, int attempts, int64_t now,
                       const vc_send_result *r)
{
  int64_t cap = VC__RETRY_BASE_MS, at;

  for (int i = 0; i < attempts && cap < VC__RETRY_CAP_MS; i++)
    cap *= 2;
  if (cap > VC__RETRY_CAP_MS)
    cap = VC__RETRY_CAP_MS;
  at = now + (int64_t)vc__rng_below(&ctx->rng, (uint64_t)cap + 1);
  /* The provider's word wins when it asks for longer. */
  if (r != NULL && r->retry_after_ms > 0 && now + r->retry_after_ms > at)
    at = now + r->retry_after_ms;
  if (r != NULL && r->retry_at_ms > at)
    at = r->retry_at_ms;
  return at;
}

static void retry_at(plan *p, int64_t at, const char *why)
{
  p->out->result = VC__JOB_RETRY;
  p->out->retry_at = at;
  snprintf(p->out->error, sizeof(p->out->error), "%s", why);
}

/* 1 when the channel was failed over from for this message. */
static int tried(const plan *p, const char *id)
{
  const char *hit = strstr(p->tried, id);

  return hit != NULL && (hit == p->tried || hit[-1] == ' ');
}

/* Step 1 for one job, with the batch's connection: load the message and
 * choose its channel (p->routed), or decide its outcome now. */
/* A tenant's channels of one kind, read once per batch. */
typedef struct candidates {
  char tenant_id[VC_ID_SIZE];
  int kind;                  /* 0: nothing cached */
  vc__route_target list[VC__ROUTE_MAX_CANDIDATES];
  size_t n;
} candidates;

static int load_candidates(candidates *c, vc__db *db, const plan *p)
{
  int rc;

  if (p->pinned) {
    c->kind = 0; /* a pinned channel is not the tenant's list */
    return vc__route_candidates(c->list, &c->n, db, p->job->tenant_id,
                                p->kind, p->pinned_id);
  }
  if (c->kind == p->kind && strcmp(c->tenant_id, p->job->tenant_id) == 0)
    return 0;
  c->kind = 0;
  if ((rc = vc__route_candidates(c->list, &c->n, db, p->job->tenant_id,
                                 p->kind, NULL)) < 0)
    return rc;
  snprintf(c->tenant_id, sizeof(c->tenant_id), "%s", p->job->tenant_id);
  c->kind = p->kind;
  return 0;
}

static int plan_one(vc_ctx *ctx, plan *p, vc__db *db, candidates *cache,
                    int64_t now)
{
  const vc__route_target *cands = cache->list;
  int64_t ready = INT64_MAX;
  size_t n;
  int rc, chosen = -1, untried = 0;

  if (!p->loaded) {
    p->out->result = VC__JOB_DONE; /* deleted with its tenant */
    return 0;
  }
  if (p->status != VC_MSG_QUEUED && p->status != VC_MSG_SENDING) {
    p->out->result = VC__JOB_DONE; /* canceled, or already sent */
    return 0;
  }
  if (p->opted_out) {
    p->result.outcome = VC_SEND_REJECTED;
    p->result.error = VC_ECONSENT;
    snprintf(p->result.error_message, sizeof(p->result.error_message),
             "no consent: the contact opted out after it was queued");
    return 0; /* a result without a request */
  }
  if ((rc = load_candidates(cache, db, p)) < 0)
    return rc;
  n = cache->n;
  for (size_t i = 0; i < n && chosen < 0; i++) {
    int64_t at;
    if (tried(p, cands[i].id))
      continue;
    untried++;
    if (vc__limits_acquire(ctx->limits, cands[i].id,
                           cands[i].rate_per_second, now, &at))
      chosen = (int)i;
    else if (at < ready)
      ready = at;
  }
  if (chosen < 0) {
    if (untried == 0) {
      p->result.outcome = VC_SEND_REJECTED;
      p->result.error = VC_ENOTFOUND;
      snprintf(p->result.error_message, sizeof(p->result.error_message),
               n == 0 ? "no enabled channel of this kind"
                      : "every channel of this kind failed");
      p->send = 0;
      return 0; /* a result without a request */
    }
    retry_at(p, ready, "rate limited or circuit open");
    return 0;
  }
  p->target = cands[chosen];
  p->routed = 1;
  return 0;
}

/* When `to` last wrote to the channel, for an adapter that limits
 * free-form messages to a window after that. */
static int last_inbound(vc_ctx *ctx, plan *p, int64_t *out)
{
  vc__db *db;
  vc__stmt *s;
  int rc;

  *out = 0;
  if ((rc = vc__db_acquire(&db, ctx->store)) < 0)
    return rc;
  if ((rc = vc__db_query(&s, db, SQL_LAST_INBOUND, "ttt", p->job->tenant_id,
                         p->target.id, p->to)) == 0) {
    if ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW) {
      *out = vc__stmt_int64(s, 0);
      rc = 0;
    } else if (rc == VC_STORAGE_DONE) {
      rc = 0;
    }
    vc__stmt_done(s);
  }
  vc__db_release(db);
  return rc;
}

/* A message the adapter refuses: it will never go out on this channel. */
static void refuse(plan *p, int rc)
{
  p->result.outcome = VC_SEND_REJECTED;
  p->result.error = rc;
  snprintf(p->result.error_message, sizeof(p->result.error_message), "%s",
           vc_error_last()->message);
}

/* Which part to send, for an adapter that splits long messages. */
static int choose_part(plan *p)
{
  int n;

  p->nparts = 1;
  if (p->inst->adapter.count_parts == NULL)
    return 0;
  if ((n = p->inst->adapter.count_parts(p->inst->state, &p->ob)) < 0)
    return n;
  if (n == 0)
    return vc__error_set(VC_ERRCLASS_ADAPTER, VC_EINVALID,
                         "the adapter counted no part to send");
  p->nparts = n;
  /* A message cannot shrink after a part went out; clamp in case its
   * channel's settings changed meanwhile. */
  p->ob.part = (unsigned)(p->parts_done < n ? p->parts_done : n - 1);
  return 0;
}

/* Step 1, second half, with no connection held (binding an adapter
 * reads the store and takes the keyring lock itself): build the request
 * of a routed message. */
static void build_one(vc_ctx *ctx, plan *p)
{
  int rc;

  if ((rc = vc__route_instance_get(&p->inst, ctx, p->job->tenant_id,
                                   &p->target)) < 0) {
    /* The channel's settings no longer pass its adapter: move on. */
    p->result.outcome = VC_SEND_FAILOVER;
    p->result.error = rc;
    snprintf(p->result.error_message, sizeof(p->result.error_message),
             "channel unusable: %s", vc_error_last()->message);
    return;
  }
  if (ctx->public_base_url != NULL)
    snprintf(p->callback_url, sizeof(p->callback_url), "%s/webhooks/%s",
             ctx->public_base_url, p->target.id);
  p->ob.version = VC_OUTBOUND_VERSION;
  p->ob.kind = p->kind;
  p->ob.message_id = p->job->subject_id;
  p->ob.tenant_id = p->job->tenant_id;
  p->ob.to = p->to;
  p->ob.from = p->from && p->from[0] ? p->from : p->target.sender;
  p->ob.subject = p->subject;
  p->ob.text = p->text;
  p->ob.html = p->html;
  p->ob.attachments = p->att;
  p->ob.nattachments = p->natt;
  p->ob.metadata_json = p->metadata;
  p->ob.status_callback_url = p->callback_url[0] ? p->callback_url : NULL;
  p->ob.now_ms = vc__now(ctx);
  if (p->kind == VC_CHANNEL_EMAIL && p->unsubscribe == NULL) {
    char h[VC__UNSUBSCRIBE_HEADER_MAX];
    vc__unsubscribe_header(h, ctx, p->job->tenant_id, p->contact_id,
                           p->kind, p->category);
    if (h[0] != '\0')
      p->unsubscribe = vc__strdup(h); /* NULL: sent without, not lost */
  }
  p->ob.list_unsubscribe = p->unsubscribe;
  p->ob.list_unsubscribe_post = p->unsubscribe ? VC_UNSUBSCRIBE_ONE_CLICK
                                               : NULL;
  p->local = (p->inst->adapter.capabilities & VC_CAP_LOCAL) != 0;
  if ((p->inst->adapter.capabilities & VC_CAP_SESSION_WINDOW) &&
      (rc = last_inbound(ctx, p, &p->ob.last_inbound_ms)) < 0) {
    retry_at(p, backoff(ctx, p->attempts, p->ob.now_ms, NULL),
             vc_error_last()->message);
    return;
  }
  if ((rc = choose_part(p)) < 0) {
    refuse(p, rc);
    return;
  }
  if (!p->local &&
      (rc = p->inst->adapter.build_send(p->inst->state, &p->ob,
                                        &p->xfer.req)) < 0) {
    refuse(p, rc);
    return;
  }
  p->send = 1;
}

/* Whether a member of group[0..n) for message `id` is marked: a message
 * is marked once per batch, as by a single UPDATE, should two of its
 * jobs be in it. */
static int marked(plan **group, size_t n, const char *id)
{
  for (size_t i = 0; i < n; i++)
    if (group[i]->send && strcmp(group[i]->job->subject_id, id) == 0)
      return 1;
  return 0;
}

/* SQL_ATTEMPT for the members of group[0..n) not yet marked that step 1
 * read in status `from` (all of them not marked when from is sending: a
 * message queued then may have been marked since by an engine whose
 * lease on its job ran out). Those it moves get send = 1 and their ids
 * are added to moved[*nmoved]. */
static int attempt(vc__db *db, plan **group, size_t n, int from,
                   int64_t now, const char **moved, size_t *nmoved)
{
  const char *ids[VC__DB_IDS];
  size_t m = 0, hint = 0;
  vc__stmt *s;
  int rc;

  for (size_t i = 0; i < n; i++)
    if (!group[i]->send &&
        (from == VC_MSG_SENDING ? !marked(group, n, group[i]->job->subject_id)
                                : group[i]->status == from))
      ids[m++] = group[i]->job->subject_id;
  if (m == 0)
    return 0;
  if ((rc = vc__db_prepare(&s, db, SQL_ATTEMPT)) < 0)
    return rc;
  if ((rc = vc__stmt_bind_ids(s, ids, m)) == 0 &&
      (rc = vc__stmt_bind_text(s, VC__DB_IDS + 1,
                               group[0]->job->tenant_id)) == 0 &&
      (rc = vc__stmt_bind_int64(s, VC__DB_IDS + 2, now)) == 0 &&
      (rc = vc__stmt_bind_text(s, VC__DB_IDS + 3,
                               group[0]->target.id)) == 0 &&
      (rc = vc__stmt_bind_int64(s, VC__DB_IDS + 4, from)) == 0) {
    while ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW) {
      const char *id = vc__stmt_text(s, 0);
      /* Rows come in about the group's order: look from the last match. */
      for (size_t k = 0; k < n; k++) {
        plan *p = group[(hint + k) % n];
        if (!p->send && strcmp(p->job->subject_id, id) == 0) {
          p->send = 1;
          moved[(*nmoved)++] = p->job->subject_id;
          hint = (hint + k + 1) % n;
          break;
        }
      }
    }
  }
  vc__stmt_done(s);
  return rc < 0 ? rc : 0;
}

/* Step 2 for group[0..n): one tenant, one channel. The messages step 1
 * read as queued are moved from queued, with their events; the rest
 * (sending already: a batch repeated after a crash, or moved since) from
 * sending, without one. */
static int mark_group(vc__db *db, plan **group, size_t n, int64_t now)
{
  const char *fresh[VC__DB_IDS], *again[VC__DB_IDS];
  size_t nfresh = 0, nagain = 0;
  vc__stmt *s;
  int rc;

  /* Not sent unless an UPDATE returns it: canceled (or finished
   * elsewhere) since step 1. */
  for (size_t i = 0; i < n; i++)
    group[i]->send = 0;
  if ((rc = attempt(db, group, n, VC_MSG_QUEUED, now, fresh, &nfresh)) < 0)
    return rc;
  if (nfresh > 0) {
    if ((rc = vc__db_prepare(&s, db, SQL_SENDING_EVENTS)) < 0)
      return rc;
    if ((rc = vc__stmt_bind_ids(s, fresh, nfresh)) == 0 &&
        (rc = vc__stmt_bind_text(s, VC__DB_IDS + 1,
                                 group[0]->job->tenant_id)) == 0 &&
        (rc = vc__stmt_bind_int64(s, VC__DB_IDS + 2, now)) == 0)
      rc = vc__stmt_step(s);
    vc__stmt_done(s);
    if (rc < 0)
      return rc;
  }
  if ((rc = attempt(db, group, n, VC_MSG_SENDING, now, again, &nagain)) < 0)
    return rc;
  for (size_t i = 0; i < n; i++)
    if (!group[i]->send)
      group[i]->out->result = VC__JOB_DONE;
  return 0;
}

/* Step 2: the attempt is recorded before any byte leaves, one statement
 * per tenant and channel for up to VC__DB_IDS messages. A message
 * canceled since step 1 is not sent. */
static int mark_sending(vc_ctx *ctx, plan *plans, size_t n)
{
  int64_t now = vc__now(ctx);
  plan *group[VC__DB_IDS];
  uint8_t *grouped;
  vc__db *db;
  int rc;

  if ((grouped = vc__calloc(n ? n : 1, 1)) == NULL)
    return vc_error_set_oom();
  if ((rc = vc__engine_write_acquire(&db, ctx)) < 0)
    goto out;
  if ((rc = vc__db_begin(db)) < 0)
    goto release;
  for (size_t i = 0; i < n && rc == 0; i++) {
    size_t m = 0;
    if (!plans[i].send || grouped[i])
      continue;
    for (size_t j = i; j < n && m < VC__DB_IDS; j++) {
      plan *p = &plans[j];
      if (p->send && !grouped[j] &&
          strcmp(p->job->tenant_id, plans[i].job->tenant_id) == 0 &&
          strcmp(p->target.id, plans[i].target.id) == 0) {
        grouped[j] = 1;
        group[m++] = p;
      }
    }
    rc = mark_group(db, group, m, now);
  }
  if (rc == 0)
    rc = vc__db_commit(db);
  if (rc < 0)
    vc__db_rollback(db);
release:
  vc__engine_write_release(db, ctx);
out:
  vc__free(grouped);
  return rc;
}

/* Step 3's result for one plan, through the adapter. */
static void parse_result(plan *p)
{
  const vc_http_response *res = p->local ? NULL : &p->xfer.res;
  int rc;

  memset(&p->result, 0, sizeof(p->result));
  p->result.version = VC_SEND_RESULT_VERSION;
  if (!p->local && p->xfer.error != 0) {
    p->result.outcome = VC_SEND_RETRY;
    p->result.error = p->xfer.error;
    snprintf(p->result.error_message, sizeof(p->result.error_message),
             "%s", p->xfer.error_text);
    return;
  }
  rc = p->inst->adapter.parse_send(p->inst->state, &p->ob, res, &p->result);
  if (rc < 0 || p->result.outcome < VC_SEND_ACCEPTED ||
      p->result.outcome > VC_SEND_FAILOVER) {
    p->result.outcome = VC_SEND_RETRY;
    p->result.error = VC_EPROVIDER;
    snprintf(p->result.error_message, sizeof(p->result.error_message),
             "unreadable provider response (HTTP %d)", p->xfer.res.status);
  }
}

/* Step 4 for one plan, inside the batch's transaction. A plain `sent`
 * is left to apply_sent (*deferred = 1). */
static int apply_one(vc_ctx *ctx, vc__db *db, plan *p, int64_t now,
                     int *deferred)
{
  vc_send_result *r = &p->result;
  vc__msg_status_change c = { 0, p->target.id[0] ? p->target.id : NULL,
                              NULL, r->error, r->provider_code[0]
                              ? r->provider_code : NULL,
                              r->error_message[0] ? r->error_message : NULL };
  int changed, attempts = p->attempts + (p->send ? 1 : 0);

  switch (r->outcome) {
  case VC_SEND_ACCEPTED:
    if (r->cost_micros > 0) {
      /* The provider's price corrects the estimate (msg_ledger.c); a
       * message sent in parts is priced part by part. */
      vc__msg_price pr = { p->job->tenant_id, p->job->subject_id,
                           p->nparts > 1 ? r->provider_id : "",
                           r->cost_micros, r->currency, now };
      int rc = vc__msg_ledger_price(db, ctx, &pr);
      if (rc < 0)
        return rc;
    }
    if (p->ob.part + 1 < (unsigned)p->nparts) {
      /* More parts to go: the next one right away. */
      p->out->result = VC__JOB_RETRY;
      p->out->retry_at = now;
      snprintf(p->out->error, sizeof(p->out->error), "part %u of %d sent",
               p->ob.part + 1, p->nparts);
      return vc__db_run(db, SQL_PART_DONE, "ttiti", p->job->tenant_id,
                        p->job->subject_id, (int64_t)p->ob.part + 1,
                        r->provider_id[0] ? r->provider_id : NULL, now);
    }
    c.status = VC_MSG_SENT;
    /* The id given when the provider took it; later reports never
     * replace it. */
    c.provider_id = r->provider_id[0] ? r->provider_id : NULL;
    c.error = 0;
    p->out->result = VC__JOB_DONE;
    if (p->send && c.provider_code == NULL && c.error_message == NULL) {
      *deferred = 1;
      return 0;
    }
    break;
  case VC_SEND_FAILOVER:
    if (p->pinned) {
      c.status = VC_MSG_FAILED;
      p->out->result = VC__JOB_DONE;
      break;
    }
    p->out->result = VC__JOB_RETRY;
    p->out->retry_at = now;
    snprintf(p->out->error, sizeof(p->out->error), "failover: %s",
             r->error_message);
    return vc__db_run(db, SQL_FAILOVER, "ttt", p->job->tenant_id,
                      p->job->subject_id, p->target.id);
  case VC_SEND_RETRY:
    /* Accepted parts of a split message do not use up its retries. */
    if (attempts - p->parts_done >= VC__MAX_ATTEMPTS) {
      c.status = VC_MSG_FAILED;
      p->out->result = VC__JOB_DONE;
      break;
    }
    if (!p->pinned && p->channel_attempts + 1 >= VC__CHANNEL_ATTEMPTS) {
      /* A channel that keeps failing: try the next one now. */
      p->out->result = VC__JOB_RETRY;
      p->out->retry_at = now;
      snprintf(p->out->error, sizeof(p->out->error), "persistent: %s",
               r->error_message);
      return vc__db_run(db, SQL_FAILOVER, "ttt", p->job->tenant_id,
                        p->job->subject_id, p->target.id);
    }
    retry_at(p, backoff(ctx, attempts, now, r), r->error_message);
    return 0;
  default: /* VC_SEND_REJECTED */
    c.status = VC_MSG_FAILED;
    if (c.error == 0)
      c.error = VC_EPROVIDER;
    p->out->result = VC__JOB_DONE;
    break;
  }
  /* A message sent in this batch was marked sending (step 2); one
   * not sent is as step 1 read it. */
  return vc__msg_set_status_from(db, ctx, p->job->tenant_id,
                                 p->job->subject_id,
                                 p->send ? VC_MSG_SENDING : p->status, &c,
                                 &changed);
}

/* The plain `sent` of the plans marked in `deferred`, one
 * vc__msg_set_status_many per tenant and channel for up to VC__DB_IDS
 * messages. */
static int apply_sent(vc_ctx *ctx, vc__db *db, plan *plans, size_t n,
                      uint8_t *deferred)
{
  vc__msg_status_item items[VC__DB_IDS];
  int rc = 0;

  for (size_t i = 0; i < n && rc == 0; i++) {
    vc__msg_status_change c = { VC_MSG_SENT, NULL, NULL, 0, NULL, NULL };
    size_t m = 0;
    if (!deferred[i])
      continue;
    c.channel_id = plans[i].target.id[0] ? plans[i].target.id : NULL;
    for (size_t j = i; j < n && m < VC__DB_IDS; j++) {
      plan *p = &plans[j];
      if (deferred[j] &&
          strcmp(p->job->tenant_id, plans[i].job->tenant_id) == 0 &&
          strcmp(p->target.id, plans[i].target.id) == 0) {
        deferred[j] = 0;
        items[m].message_id = p->job->subject_id;
        items[m].provider_id = p->result.provider_id[0]
                                 ? p->result.provider_id : NULL;
        m++;
      }
    }
    rc = vc__msg_set_status_many(db, ctx, plans[i].job->tenant_id,
                                 VC_MSG_SENDING, &c, items, m);
  }
  return rc;
}

/* Step 4 for the batch, with its jobs' outcomes in the same transaction
 * (one commit for both). */
static int apply_all(vc_ctx *ctx, vc__engine *engine, plan *plans, size_t n,
                     int64_t now)
{
  uint8_t *deferred;
  vc__db *db;
  int rc;

  if ((deferred = vc__calloc(n ? n : 1, 1)) == NULL)
    return vc_error_set_oom();
  if ((rc = vc__engine_write_acquire(&db, ctx)) < 0) {
    vc__free(deferred);
    return rc;
  }
  if ((rc = vc__db_begin(db)) < 0)
    goto out;
  for (size_t i = 0; i < n && rc == 0; i++) {
    int d = 0;
    if (plans[i].result.outcome != 0)
      rc = apply_one(ctx, db, &plans[i], now, &d);
    deferred[i] = (uint8_t)d;
  }
  if (rc == 0)
    rc = apply_sent(ctx, db, plans, n, deferred);
  /* plans[i].job is jobs[i] and plans[i].out out[i] (batch_prepare). */
  if (rc == 0 && n > 0)
    rc = vc__job_record_many(db, engine->owner, plans[0].job, plans[0].out,
                             n);
  if (rc == 0)
    rc = vc__db_commit(db);
  if (rc < 0) {
    vc__db_rollback(db);
    for (size_t i = 0; i < n; i++)
      plans[i].out->recorded = 0;
  }
out:
  vc__engine_write_release(db, ctx);
  vc__free(deferred);
  return rc;
}

static int ensure_transport(vc_ctx *ctx, vc__engine *engine)
{
  vc__transport_opts o;

  if (engine->transport != NULL)
    return 0;
  memset(&o, 0, sizeof(o));
  o.allow_private = ctx->allow_private_network;
  /* An engine thread prepares its next batch while one runs, but sends
   * nothing of it before the running one's outcomes are committed: a
   * crash repeats at most one claim's worth of requests per thread. */
  o.window = ctx->claim_batch;
  return vc__transport_new(&engine->transport, &o);
}

/* A batch between its store work and its outcomes. */
typedef struct batch {
  plan *plans;
  vc__transfer **xfers;
  candidates *cache;
  size_t n, nx;
  vc__transport_batch running;  /* xfers on the engine's transport */
} batch;

static void batch_free(vc_ctx *ctx, vc__engine *engine, batch *b)
{
  if (b == NULL)
    return;
  /* Its outcomes are recorded (or never will be): the transfers of the
   * thread's next batch may start. */
  if (engine->transport != NULL)
    vc__transport_release(engine->transport, &b->running);
  for (size_t i = 0; b->plans != NULL && i < b->n; i++) {
    if (engine->transport != NULL)
      vc__transport_recycle(engine->transport, &b->plans[i].xfer);
    plan_free(ctx, &b->plans[i]);
  }
  vc__free(b->plans);
  vc__free(b->xfers);
  vc__free(b->cache);
  vc__free(b);
}

/* Between chunks of step 1: the transfers of the batch running on this
 * engine move on meanwhile (read what answered, send the next). */
static void progress(vc_ctx *ctx, vc__engine *engine)
{
  if (vc__transport_progress(engine->transport) < 0) {
    VC_LOG(ctx, VC_LOG_ERROR, "engine: %s", vc_error_last()->message);
    vc_error_clear();
  }
}

/* Steps 1 and 2: plan every job, build the requests, mark the messages
 * sending. The transfers to run are b->xfers[0..nx). */
static int batch_prepare(vc_ctx *ctx, vc__engine *engine, const vc__job *jobs,
                         size_t n, vc__job_outcome *out, batch **bp)
{
  batch *b = vc__calloc(1, sizeof(*b));
  int64_t now = vc__now(ctx);
  vc__db *db = NULL;
  int rc;

  *bp = b;
  if (b == NULL)
    return vc_error_set_oom();
  b->n = n;
  b->plans = vc__calloc(n, sizeof(*b->plans));
  b->xfers = vc__calloc(n, sizeof(*b->xfers));
  b->cache = vc__calloc(1, sizeof(*b->cache));
  if (b->plans == NULL || b->xfers == NULL || b->cache == NULL)
    return vc_error_set_oom();
  for (size_t i = 0; i < n; i++) {
    b->plans[i].job = &jobs[i];
    b->plans[i].out = &out[i];
    vc__transfer_init(&b->plans[i].xfer);
  }
  if ((rc = ensure_transport(ctx, engine)) < 0 ||
      (rc = vc__db_acquire(&db, ctx->store)) < 0)
    return rc;
  for (size_t i = 0, k; i < n; i = k) {
    /* The next run of jobs of one tenant, at most VC__DB_IDS. */
    for (k = i + 1; k < n && k - i < VC__DB_IDS &&
                    strcmp(jobs[k].tenant_id, jobs[i].tenant_id) == 0;
         k++)
      ;
    if ((rc = load_chunk(&b->plans[i], k - i, db)) < 0) {
      vc__db_release(db);
      return rc;
    }
    progress(ctx, engine);
  }
  for (size_t i = 0; i < n; i++) {
    plan *p = &b->plans[i];
    if ((rc = plan_one(ctx, p, db, b->cache, now)) < 0) {
      /* This message only: retry it later. */
      retry_at(p, backoff(ctx, p->attempts, now, NULL),
               vc_error_last()->message);
      p->send = 0;
    }
  }
  vc__db_release(db);
  for (size_t i = 0; i < n; i++) {
    if (b->plans[i].routed)
      build_one(ctx, &b->plans[i]);
    if (i % VC__DB_IDS == VC__DB_IDS - 1)
      progress(ctx, engine);
  }
  progress(ctx, engine);
  if ((rc = mark_sending(ctx, b->plans, n)) < 0)
    return rc;
  for (size_t i = 0; i < n; i++)
    if (b->plans[i].send && !b->plans[i].local)
      b->xfers[b->nx++] = &b->plans[i].xfer;
  return 0;
}

/* Steps 3's results and 4, once every transfer ended. */
static int batch_complete(vc_ctx *ctx, vc__engine *engine, batch *b)
{
  int64_t now = vc__now(ctx);

  for (size_t i = 0; i < b->n; i++) {
    plan *p = &b->plans[i];
    if (!p->send)
      continue;
    parse_result(p);
    vc__limits_report(ctx->limits, p->target.id,
                      p->result.outcome == VC_SEND_ACCEPTED ||
                      p->result.outcome == VC_SEND_REJECTED, now);
  }
  return apply_all(ctx, engine, b->plans, b->n, now);
}

static int dispatch(vc_ctx *ctx, vc__engine *engine, const vc__job *jobs,
                    size_t n, vc__job_outcome *out)
{
  batch *b;
  int rc;

  if ((rc = batch_prepare(ctx, engine, jobs, n, out, &b)) == 0 &&
      (rc = vc__transport_run(engine->transport, b->xfers, b->nx)) == 0)
    rc = batch_complete(ctx, engine, b);
  batch_free(ctx, engine, b);
  return rc;
}

/* In the host's loop or an engine thread's pipeline: start the batch
 * and return; dispatch_end runs once its transfers all ended. */
static int dispatch_start(vc_ctx *ctx, vc__engine *engine,
                          const vc__job *jobs, size_t n,
                          vc__job_outcome *out, void **state)
{
  batch *b;
  int rc;

  *state = NULL;
  if ((rc = batch_prepare(ctx, engine, jobs, n, out, &b)) < 0) {
    batch_free(ctx, engine, b);
    return rc;
  }
  *state = b;
  vc__transport_submit(engine->transport, &b->running, b->xfers, b->nx);
  return !vc__transport_batch_done(&b->running);
}

static int dispatch_ready(void *state)
{
  return vc__transport_batch_done(&((batch *)state)->running);
}

static int dispatch_end(vc_ctx *ctx, vc__engine *engine, void *state)
{
  batch *b = state;
  int rc = batch_complete(ctx, engine, b);

  batch_free(ctx, engine, b);
  return rc;
}

int vc__dispatch_register(vc_ctx *ctx)
{
  static const vc__job_async async = { dispatch_start, dispatch_ready,
                                        dispatch_end };
  int rc = vc__job_register_batch(ctx, VC__JOB_MESSAGE_SEND, dispatch);

  return rc < 0 ? rc : vc__job_register_async(ctx, VC__JOB_MESSAGE_SEND,
                                              &async);
}
