/*
 * Message costs in the ledger. A message is estimated when it is queued
 * (the rate card of its channel, by destination prefix, per SMS
 * segment), the estimate is reversed when the message never went out,
 * and a provider's price replaces the estimate as a correction: the
 * estimate is reversed and the price posted, never rewritten.
 *
 * The estimate runs for every message a campaign queues, so a tenant
 * without message prices must cost nothing: whether a tenant prices
 * messages (and whether it has any message cost booked) is cached per
 * context for CACHE_TTL_MS, forgotten at once when a rate card changes
 * on this context. Another context on the same store sees a change
 * within that time.
 *
 * So is, for a priced tenant, what an estimate needs besides the
 * destination (a memo per tenant, kind and pinned channel): the channel
 * an unrouted message would take first, and the message-priced entries
 * of the cards in effect, when they are few; the longest prefix is then
 * matched in memory. A memo ends with the TTL, at the next card's
 * effective time, and when a card changes on this context.
 */
#include "core/common.h"
#include "core/ctx.h"
#include "call/ledger.h"
#include "call/ratecard.h"
#include "msg_hooks.h"
#include "msg_ledger.h"
#include "route.h"
#include "vyomcomm/message.h"

#include <pthread.h>
#include <stdio.h>
#include <time.h>

#define CACHE_SLOTS 64
#define CACHE_TTL_MS 5000
/* A whole-message price reverses every part price in force: at most
 * this many (an SMS has at most 255 parts). */
#define PARTS_MAX 256
/* Memos of the estimate's lookups, and the entries one may hold: a card
 * with more message prices is asked per message. */
#define MEMO_SLOTS 8
#define MEMO_RATES 32

enum { PRICED = 1, BOOKED = 2 };

/* ---- which tenants price messages --------------------------------------- */

typedef struct cache_slot {
  char tenant_id[VC_ID_SIZE];
  int flags;
  int64_t expires;            /* monotonic ms */
} cache_slot;

/* The entries of the cards in effect that price messages, in the order
 * a match prefers them: the channel's card first, longer prefixes
 * first. */
typedef struct memo_rate {
  char prefix[VC_RATECARD_PREFIX_MAX + 1];
  int64_t micros;
  char currency[4];
  char card_id[VC_ID_SIZE];
  char provider[VC__PROVIDER_MAX + 1];
} memo_rate;

typedef struct memo {
  /* the key */
  char tenant_id[VC_ID_SIZE];
  int kind;
  char pinned[VC_ID_SIZE];    /* the message's channel, "" unrouted */
  /* the channel the estimate prices ("" when no channel would take it)
   * and its entries; complete = 0 when they did not fit */
  char channel_id[VC_ID_SIZE];
  char provider[VC__PROVIDER_MAX + 1];
  memo_rate rate[MEMO_RATES];
  size_t nrates;
  int complete;
  int64_t expires;            /* monotonic ms */
  int64_t valid_from, valid_to; /* business time, Unix ms */
} memo;

struct vc__price_cache {
  pthread_mutex_t lock;
  uint64_t generation;        /* bumped by every forget */
  unsigned int next;          /* the slot replaced next */
  cache_slot slot[CACHE_SLOTS];
  unsigned int memo_next;
  memo memo[MEMO_SLOTS];
};

int vc__price_cache_new(struct vc__price_cache **out)
{
  struct vc__price_cache *c = vc__calloc(1, sizeof(*c));

  if (c == NULL)
    return vc_error_set_oom();
  pthread_mutex_init(&c->lock, NULL);
  *out = c;
  return 0;
}

void vc__price_cache_free(struct vc__price_cache *c)
{
  if (c == NULL)
    return;
  pthread_mutex_destroy(&c->lock);
  vc__free(c);
}

/* The TTL is not business time: the monotonic clock, never the
 * context's (which tests may stop). */
static int64_t mono_ms(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static cache_slot *find_slot(struct vc__price_cache *c, const char *tenant_id)
{
  for (unsigned int i = 0; i < CACHE_SLOTS; i++)
    if (strcmp(c->slot[i].tenant_id, tenant_id) == 0)
      return &c->slot[i];
  return NULL;
}

void vc__msg_ledger_forget(vc_ctx *ctx, const char *tenant_id)
{
  struct vc__price_cache *c = ctx->prices;
  cache_slot *s;

  pthread_mutex_lock(&c->lock);
  c->generation++;
  if ((s = find_slot(c, tenant_id)) != NULL)
    memset(s, 0, sizeof(*s));
  for (unsigned int i = 0; i < MEMO_SLOTS; i++)
    if (strcmp(c->memo[i].tenant_id, tenant_id) == 0)
      memset(&c->memo[i], 0, sizeof(c->memo[i]));
  pthread_mutex_unlock(&c->lock);
}

static void cache_or(vc_ctx *ctx, const char *tenant_id, int flags)
{
  struct vc__price_cache *c = ctx->prices;
  cache_slot *s;

  pthread_mutex_lock(&c->lock);
  if ((s = find_slot(c, tenant_id)) != NULL)
    s->flags |= flags;
  pthread_mutex_unlock(&c->lock);
}

static const char SQL_PRICED[] =
  "SELECT 1 FROM vc_ratecard_entry WHERE tenant_id = ?1"
  " AND message_micros > 0 LIMIT 1";
static const char SQL_BOOKED[] =
  "SELECT 1 FROM vc_ledger WHERE tenant_id = ?1 AND source = 'message'"
  " LIMIT 1";

static int exists(vc__db *db, const char *sql, const char *tenant_id)
{
  vc__stmt *s;
  int rc;

  if ((rc = vc__db_query(&s, db, sql, "t", tenant_id)) < 0)
    return rc;
  rc = vc__stmt_step(s);
  vc__stmt_done(s);
  return rc < 0 ? rc : rc == VC_STORAGE_ROW;
}

/* PRICED and BOOKED of a tenant, from the cache or two indexed probes. */
static int tenant_flags(int *flags, vc__db *db, vc_ctx *ctx,
                        const char *tenant_id)
{
  struct vc__price_cache *c = ctx->prices;
  int64_t now = mono_ms();
  uint64_t generation;
  cache_slot *s;
  int priced, booked;

  pthread_mutex_lock(&c->lock);
  s = find_slot(c, tenant_id);
  if (s != NULL && s->expires > now) {
    *flags = s->flags;
    pthread_mutex_unlock(&c->lock);
    return 0;
  }
  generation = c->generation;
  pthread_mutex_unlock(&c->lock);
  if ((priced = exists(db, SQL_PRICED, tenant_id)) < 0)
    return priced;
  if ((booked = exists(db, SQL_BOOKED, tenant_id)) < 0)
    return booked;
  *flags = (priced ? PRICED : 0) | (booked ? BOOKED : 0);
  pthread_mutex_lock(&c->lock);
  /* A card changed while the store was asked: the answer may be stale,
   * so it is used once and not kept. */
  if (c->generation == generation) {
    if ((s = find_slot(c, tenant_id)) == NULL) {
      s = &c->slot[c->next];
      c->next = (c->next + 1) % CACHE_SLOTS;
    }
    snprintf(s->tenant_id, sizeof(s->tenant_id), "%s", tenant_id);
    s->flags = *flags;
    s->expires = now + CACHE_TTL_MS;
  }
  pthread_mutex_unlock(&c->lock);
  return 0;
}

/* ---- entries in force ------------------------------------------------------ */

/* The latest entry of a message of `kind` not reversed, whose price_ref
 * is ?4 (mode 0), or is not '' (mode 1: a part's price). */
static const char SQL_IN_FORCE[] =
  "SELECT e.id, e.amount_micros, e.currency, e.provider, e.channel_id,"
  " COALESCE(e.campaign_id, '') FROM vc_ledger e"
  " WHERE e.tenant_id = ?1 AND e.source = 'message' AND e.source_id = ?2"
  " AND e.kind = ?3"
  " AND (CASE WHEN ?5 = 1 THEN COALESCE(e.price_ref, '') <> ''"
  "  ELSE COALESCE(e.price_ref, '') = ?4 END)"
  " AND NOT EXISTS (SELECT 1 FROM vc_ledger r WHERE r.tenant_id = ?1"
  "  AND r.reverses = e.id)"
  " ORDER BY e.id DESC LIMIT 1";

typedef struct in_force {
  char id[VC_ID_SIZE];
  int64_t amount;
  char currency[4];
  char provider[65];
  char channel_id[VC_ID_SIZE];
  char campaign_id[VC_ID_SIZE];
} in_force;

static int find_in_force(in_force *out, vc__db *db, const char *tenant_id,
                         const char *message_id, int kind, const char *ref,
                         int parts)
{
  vc__stmt *s;
  int rc;

  memset(out, 0, sizeof(*out));
  if ((rc = vc__db_query(&s, db, SQL_IN_FORCE, "ttiti", tenant_id,
                         message_id, (int64_t)kind, ref ? ref : "",
                         (int64_t)parts)) < 0)
    return rc;
  rc = vc__stmt_step(s);
  if (rc == VC_STORAGE_ROW) {
    snprintf(out->id, sizeof(out->id), "%s", vc__stmt_text(s, 0));
    out->amount = vc__stmt_int64(s, 1);
    snprintf(out->currency, sizeof(out->currency), "%s",
             vc__stmt_text(s, 2));
    snprintf(out->provider, sizeof(out->provider), "%s",
             vc__stmt_text(s, 3));
    snprintf(out->channel_id, sizeof(out->channel_id), "%s",
             vc__stmt_text(s, 4));
    snprintf(out->campaign_id, sizeof(out->campaign_id), "%s",
             vc__stmt_text(s, 5));
    rc = 1;
  } else if (rc == VC_STORAGE_DONE) {
    rc = 0;
  }
  vc__stmt_done(s);
  return rc;
}

static int reverse(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                   const char *message_id, const in_force *e, int64_t at)
{
  vc__ledger_post p;

  memset(&p, 0, sizeof(p));
  p.source = "message";
  p.source_id = message_id;
  p.kind = VC_LEDGER_REVERSAL;
  p.amount_micros = e->amount;
  p.currency = e->currency;
  p.occurred_at = at;
  p.reverses = e->id;
  p.provider = e->provider;
  p.channel_id = e->channel_id;
  p.campaign_id = e->campaign_id;
  return vc__ledger_post_entry(db, ctx, tenant_id, &p, NULL);
}

/* Reverse the estimate in force, if any. */
static int reverse_estimate(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                            const char *message_id, int64_t at)
{
  in_force e;
  int rc;

  if ((rc = find_in_force(&e, db, tenant_id, message_id, VC_LEDGER_ESTIMATE,
                          "", 0)) <= 0)
    return rc;
  return reverse(db, ctx, tenant_id, message_id, &e, at);
}

/* ---- the estimate ----------------------------------------------------------- */

/* ---- the memo of an estimate's lookups ------------------------------------- */

/* Every message-priced entry of the cards in effect at ?4 of channel ?3
 * (then of its provider ?2, NULL: the channel's), in match order; one
 * more than a memo holds, to know whether they fit. */
static const char SQL_RATES[] =
  "SELECT c.id, e.prefix, e.message_micros, e.currency, c.provider"
  " FROM vc_ratecard c CROSS JOIN vc_ratecard_entry e"
  " WHERE e.tenant_id = c.tenant_id AND e.card_id = c.id"
  " AND c.tenant_id = ?1"
  " AND c.provider = COALESCE(?2, (SELECT provider FROM vc_channel"
  "  WHERE tenant_id = ?1 AND id = ?3))"
  " AND c.channel_id IN (?3, '')"
  " AND c.effective_from = (SELECT MAX(effective_from) FROM vc_ratecard x"
  "  WHERE x.tenant_id = ?1 AND x.provider = c.provider"
  "  AND x.channel_id = c.channel_id AND x.effective_from <= ?4)"
  " AND e.message_micros > 0"
  " ORDER BY c.channel_id = '', length(e.prefix) DESC, e.prefix LIMIT 33";
/* When the next card of the tenant takes effect after ?2: the memo ends
 * there. */
static const char SQL_NEXT_CARD[] =
  "SELECT MIN(effective_from) FROM vc_ratecard"
  " WHERE tenant_id = ?1 AND effective_from > ?2";

static int memo_rates(memo *m, vc__db *db, int64_t at)
{
  vc__stmt *s;
  int rc;

  if ((rc = vc__db_query(&s, db, SQL_RATES, "ttti", m->tenant_id,
                         m->provider[0] ? m->provider : NULL, m->channel_id,
                         at)) < 0)
    return rc;
  m->nrates = 0;
  m->complete = 1;
  while ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW) {
    memo_rate *r;
    if (m->nrates == MEMO_RATES) {
      m->complete = 0;
      break;
    }
    r = &m->rate[m->nrates++];
    snprintf(r->card_id, sizeof(r->card_id), "%s", vc__stmt_text(s, 0));
    snprintf(r->prefix, sizeof(r->prefix), "%s", vc__stmt_text(s, 1));
    r->micros = vc__stmt_int64(s, 2);
    snprintf(r->currency, sizeof(r->currency), "%s", vc__stmt_text(s, 3));
    snprintf(r->provider, sizeof(r->provider), "%s", vc__stmt_text(s, 4));
  }
  vc__stmt_done(s);
  if (rc < 0)
    return rc;
  if ((rc = vc__db_query(&s, db, SQL_NEXT_CARD, "ti", m->tenant_id, at)) < 0)
    return rc;
  m->valid_from = at;
  m->valid_to = INT64_MAX;
  if ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW && !vc__stmt_is_null(s, 0))
    m->valid_to = vc__stmt_int64(s, 0);
  vc__stmt_done(s);
  return rc < 0 ? rc : 0;
}

/* Fill `m` (its key set) from the store. */
static int memo_load(memo *m, vc__db *db, int64_t at)
{
  vc__route_target targets[VC__ROUTE_MAX_CANDIDATES];
  size_t n;
  int rc;

  m->channel_id[0] = m->provider[0] = '\0';
  m->nrates = 0;
  m->complete = 1;
  if (m->pinned[0] != '\0') {
    snprintf(m->channel_id, sizeof(m->channel_id), "%s", m->pinned);
  } else {
    /* Unrouted: the channel the dispatcher would try first. */
    if ((rc = vc__route_candidates(targets, &n, db, m->tenant_id, m->kind,
                                   NULL)) < 0)
      return rc;
    if (n == 0) {
      m->valid_from = at;
      m->valid_to = INT64_MAX;
      return 0;
    }
    snprintf(m->channel_id, sizeof(m->channel_id), "%s", targets[0].id);
    snprintf(m->provider, sizeof(m->provider), "%s", targets[0].provider);
  }
  return memo_rates(m, db, at);
}

/* The memo of `c`'s tenant, kind and channel, copied to `out`: from the
 * cache, or loaded and kept. */
static int memo_get(memo *out, vc__db *db, vc_ctx *ctx,
                    const vc__msg_change *c)
{
  struct vc__price_cache *cache = ctx->prices;
  int64_t now = mono_ms();
  uint64_t generation;
  int rc;

  pthread_mutex_lock(&cache->lock);
  for (unsigned int i = 0; i < MEMO_SLOTS; i++) {
    const memo *m = &cache->memo[i];
    if (m->expires > now && m->kind == c->kind &&
        c->at >= m->valid_from && c->at < m->valid_to &&
        strcmp(m->tenant_id, c->tenant_id) == 0 &&
        strcmp(m->pinned, c->channel_id) == 0) {
      *out = *m;
      pthread_mutex_unlock(&cache->lock);
      return 0;
    }
  }
  generation = cache->generation;
  pthread_mutex_unlock(&cache->lock);
  memset(out, 0, sizeof(*out));
  snprintf(out->tenant_id, sizeof(out->tenant_id), "%s", c->tenant_id);
  snprintf(out->pinned, sizeof(out->pinned), "%s", c->channel_id);
  out->kind = c->kind;
  if ((rc = memo_load(out, db, c->at)) < 0)
    return rc;
  out->expires = now + CACHE_TTL_MS;
  pthread_mutex_lock(&cache->lock);
  if (cache->generation == generation) {  /* else: used once, not kept */
    cache->memo[cache->memo_next] = *out;
    cache->memo_next = (cache->memo_next + 1) % MEMO_SLOTS;
  }
  pthread_mutex_unlock(&cache->lock);
  return 0;
}

/* The memo's match for `digits` (NULL: the default entry only), as the
 * store would answer it. 1 found, 0 none. */
static int memo_match(vc__msg_rate *out, const memo *m, const char *digits)
{
  for (size_t i = 0; i < m->nrates; i++) {
    const memo_rate *r = &m->rate[i];
    size_t len = strlen(r->prefix);
    if (len == 0 ||
        (digits != NULL && strncmp(digits, r->prefix, len) == 0)) {
      memset(out, 0, sizeof(*out));
      memcpy(out->card_id, r->card_id, sizeof(out->card_id));
      memcpy(out->provider, r->provider, sizeof(out->provider));
      memcpy(out->prefix, r->prefix, sizeof(out->prefix));
      out->micros = r->micros;
      memcpy(out->currency, r->currency, sizeof(out->currency));
      return 1;
    }
  }
  return 0;
}

static int estimate(vc__db *db, vc_ctx *ctx, const vc__msg_change *c)
{
  char digits[VC_RATECARD_PREFIX_MAX + 1];
  int number = c->kind == VC_CHANNEL_SMS || c->kind == VC_CHANNEL_VOICE;
  vc__ledger_post p;
  vc__msg_rate r;
  memo m;
  int rc;

  if ((rc = memo_get(&m, db, ctx, c)) < 0)
    return rc;
  if (m.channel_id[0] == '\0')
    return 0;
  if (number && vc__e164_digits(digits, c->to_addr) < 0)
    number = 0;
  if (m.complete)
    rc = memo_match(&r, &m, number ? digits : NULL);
  else
    rc = vc__ratecard_match_message(&r, db, c->tenant_id,
                                    m.provider[0] ? m.provider : NULL,
                                    m.channel_id, number ? digits : NULL,
                                    c->at);
  if (rc <= 0)
    return rc;
  memset(&p, 0, sizeof(p));
  p.source = "message";
  p.source_id = c->message_id;
  p.kind = VC_LEDGER_ESTIMATE;
  /* At most 255 segments of at most 10^15: no overflow. */
  p.amount_micros = r.micros * (c->kind == VC_CHANNEL_SMS && c->segments > 1
                                  ? c->segments : 1);
  p.currency = r.currency;
  p.occurred_at = c->at;
  p.provider = r.provider;
  p.channel_id = m.channel_id;
  p.ratecard_id = r.card_id;
  p.prefix = r.prefix;
  p.campaign_id = c->campaign_id;
  if ((rc = vc__ledger_post_entry(db, ctx, c->tenant_id, &p, NULL)) < 0)
    return rc;
  cache_or(ctx, c->tenant_id, BOOKED);
  return 0;
}

static const char SQL_PROVIDER_ID[] =
  "SELECT COALESCE(provider_id, '') FROM vc_message"
  " WHERE tenant_id = ?1 AND id = ?2";

/* 1 when a provider took (a part of) the message. */
static int taken(vc__db *db, const char *tenant_id, const char *message_id)
{
  vc__stmt *s;
  int rc;

  if ((rc = vc__db_query(&s, db, SQL_PROVIDER_ID, "tt", tenant_id,
                         message_id)) < 0)
    return rc;
  rc = vc__stmt_step(s);
  if (rc == VC_STORAGE_ROW)
    rc = vc__stmt_text(s, 0)[0] != '\0';
  else if (rc == VC_STORAGE_DONE)
    rc = 0;
  vc__stmt_done(s);
  return rc;
}

int vc__msg_ledger_on_message(vc__db *db, vc_ctx *ctx,
                              const vc__msg_change *c)
{
  int flags, rc;

  if (c->from == 0) {
    if ((rc = tenant_flags(&flags, db, ctx, c->tenant_id)) < 0)
      return rc;
    return flags & PRICED ? estimate(db, ctx, c) : 0;
  }
  /* Failed or canceled before any provider took it: it cost nothing. */
  if ((c->to != VC_MSG_FAILED && c->to != VC_MSG_CANCELED) ||
      (c->from != VC_MSG_QUEUED && c->from != VC_MSG_SENDING))
    return 0;
  if ((rc = tenant_flags(&flags, db, ctx, c->tenant_id)) < 0)
    return rc;
  if (!(flags & BOOKED))
    return 0;
  if ((rc = taken(db, c->tenant_id, c->message_id)) != 0)
    return rc < 0 ? rc : 0;
  return reverse_estimate(db, ctx, c->tenant_id, c->message_id, c->at);
}

/* ---- the provider's price --------------------------------------------------- */

static const char SQL_MESSAGE[] =
  "SELECT COALESCE(m.channel_id, ''), COALESCE(m.campaign_id, ''),"
  " COALESCE(c.provider, '') FROM vc_message m LEFT JOIN vc_channel c"
  " ON c.tenant_id = m.tenant_id AND c.id = m.channel_id"
  " WHERE m.tenant_id = ?1 AND m.id = ?2";

static int message_of(in_force *out, vc__db *db, const char *tenant_id,
                      const char *message_id)
{
  vc__stmt *s;
  int rc;

  memset(out, 0, sizeof(*out));
  if ((rc = vc__db_query(&s, db, SQL_MESSAGE, "tt", tenant_id,
                         message_id)) < 0)
    return rc;
  rc = vc__stmt_step(s);
  if (rc == VC_STORAGE_ROW) {
    snprintf(out->channel_id, sizeof(out->channel_id), "%s",
             vc__stmt_text(s, 0));
    snprintf(out->campaign_id, sizeof(out->campaign_id), "%s",
             vc__stmt_text(s, 1));
    snprintf(out->provider, sizeof(out->provider), "%s",
             vc__stmt_text(s, 2));
    rc = 0;
  } else if (rc == VC_STORAGE_DONE) {
    rc = vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                       "no message '%.32s'", message_id);
  }
  vc__stmt_done(s);
  return rc;
}

int vc__msg_ledger_price(vc__db *db, vc_ctx *ctx, const vc__msg_price *pr)
{
  const char *ref = pr->ref ? pr->ref : "";
  in_force msg, cur;
  vc__ledger_post p;
  int rc;

  if (pr->micros <= 0 || !vc__currency_valid(pr->currency))
    return 0; /* not a price */
  if ((rc = message_of(&msg, db, pr->tenant_id, pr->message_id)) < 0)
    return rc;
  if (ref[0] != '\0') {
    /* The whole message is priced (by the send response): a part's
     * price says it again part by part. */
    if ((rc = find_in_force(&cur, db, pr->tenant_id, pr->message_id,
                            VC_LEDGER_PROVIDER_PRICE, "", 0)) != 0)
      return rc < 0 ? rc : 0;
  }
  if ((rc = find_in_force(&cur, db, pr->tenant_id, pr->message_id,
                          VC_LEDGER_PROVIDER_PRICE, ref, 0)) < 0)
    return rc;
  if (rc == 1) {
    if (cur.amount == pr->micros && strcmp(cur.currency, pr->currency) == 0)
      return 0; /* said before */
    if ((rc = reverse(db, ctx, pr->tenant_id, pr->message_id, &cur,
                      pr->at)) < 0)
      return rc;
  }
  if ((rc = reverse_estimate(db, ctx, pr->tenant_id, pr->message_id,
                             pr->at)) < 0)
    return rc;
  /* A whole price replaces the parts' prices in force. */
  for (int i = 0; ref[0] == '\0' && i < PARTS_MAX; i++) {
    if ((rc = find_in_force(&cur, db, pr->tenant_id, pr->message_id,
                            VC_LEDGER_PROVIDER_PRICE, "", 1)) < 0)
      return rc;
    if (rc == 0)
      break;
    if ((rc = reverse(db, ctx, pr->tenant_id, pr->message_id, &cur,
                      pr->at)) < 0)
      return rc;
  }
  memset(&p, 0, sizeof(p));
  p.source = "message";
  p.source_id = pr->message_id;
  p.kind = VC_LEDGER_PROVIDER_PRICE;
  p.amount_micros = pr->micros;
  p.currency = pr->currency;
  p.occurred_at = pr->at;
  p.provider = msg.provider;
  p.channel_id = msg.channel_id;
  p.campaign_id = msg.campaign_id;
  p.price_ref = ref;
  if ((rc = vc__ledger_post_entry(db, ctx, pr->tenant_id, &p, NULL)) < 0)
    return rc;
  cache_or(ctx, pr->tenant_id, BOOKED);
  return 0;
}
