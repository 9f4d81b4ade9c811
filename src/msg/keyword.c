/*
 * Inbound keywords: a tenant's own per locale (vc_keyword_set) on top of
 * the built-in English ones, and what an inbound SMS or chat message
 * that is one does (keyword.h).
 */
#include "core/common.h"
#include "core/audit.h"
#include "core/ctx.h"
#include "core/tenant.h"
#include "core/text.h"
#include "vyomcomm/consent.h"
#include "vyomcomm/contact.h"
#include "address.h"
#include "consent.h"
#include "contact.h"
#include "keyword.h"
#include "message.h"

#include <stdio.h>

#define LOCALE_MAX 35
#define CHAIN_MAX 5

static const char SQL_MATCH[] =
  "SELECT locale, action, reply FROM vc_keyword"
  " WHERE tenant_id = ?1 AND keyword = ?2 LIMIT 200";
static const char SQL_EXISTS[] =
  "SELECT 1 FROM vc_keyword WHERE tenant_id = ?1 AND keyword = ?2"
  " AND locale = ?3";
static const char SQL_COUNT[] =
  "SELECT COUNT(*) FROM vc_keyword WHERE tenant_id = ?1";
static const char SQL_SET[] =
  "INSERT INTO vc_keyword (tenant_id, keyword, locale, action, reply,"
  " updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
  " ON CONFLICT (tenant_id, keyword, locale) DO UPDATE"
  " SET action = excluded.action, reply = excluded.reply,"
  " updated_at = excluded.updated_at";
static const char SQL_REMOVE[] =
  "DELETE FROM vc_keyword WHERE tenant_id = ?1 AND keyword = ?2"
  " AND locale = ?3";

/* ---- the built-in keywords ------------------------------------------- */

typedef struct builtin {
  const char *keyword;         /* case-folded */
  int action;
} builtin;

static const builtin BUILTIN[] = {
  { "stop", VC_KEYWORD_OPT_OUT }, { "stopall", VC_KEYWORD_OPT_OUT },
  { "unsubscribe", VC_KEYWORD_OPT_OUT }, { "cancel", VC_KEYWORD_OPT_OUT },
  { "end", VC_KEYWORD_OPT_OUT }, { "quit", VC_KEYWORD_OPT_OUT },
  { "start", VC_KEYWORD_OPT_IN }, { "unstop", VC_KEYWORD_OPT_IN },
  { "help", VC_KEYWORD_HELP },
};

static const char *default_reply(int action)
{
  switch (action) {
  case VC_KEYWORD_OPT_OUT:
    return "You are unsubscribed and will get no more messages from us. "
           "Reply START to subscribe again.";
  case VC_KEYWORD_OPT_IN:
    return "You are subscribed again. Reply STOP to unsubscribe, HELP for "
           "help.";
  default:
    return "Reply STOP to unsubscribe, START to subscribe again.";
  }
}

/* The built-in action of a folded keyword, or 0. */
static int builtin_action(const char *kw)
{
  for (size_t i = 0; i < VC_ARRAY_SIZE(BUILTIN); i++)
    if (strcmp(kw, BUILTIN[i].keyword) == 0)
      return BUILTIN[i].action;
  return 0;
}

/* ---- text -------------------------------------------------------------- */

static int is_space(char c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' ||
         c == '\f';
}

/* `in` trimmed of ASCII white space with ASCII letters in lower case,
 * into out[VC_KEYWORD_MAX + 1]; 0 when empty or too long to be one. */
static size_t fold(char *out, const char *in)
{
  const char *end;
  size_t n;

  while (*in != '\0' && is_space(*in))
    in++;
  end = in + strlen(in);
  while (end > in && is_space(end[-1]))
    end--;
  n = (size_t)(end - in);
  if (n == 0 || n > VC_KEYWORD_MAX)
    return 0;
  for (size_t i = 0; i < n; i++)
    out[i] = in[i] >= 'A' && in[i] <= 'Z' ? (char)(in[i] + 32) : in[i];
  out[n] = '\0';
  return n;
}

static int check_keyword(char out[VC_KEYWORD_MAX + 1], const char *kw)
{
  int rc;

  if ((rc = vc__check_text("keyword", kw, VC_KEYWORD_MAX, 1)) < 0)
    return rc;
  for (const char *p = kw; *p != '\0'; p++)
    if ((unsigned char)*p < 0x20 || *p == 0x7f)
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "keyword has a control character");
  if (is_space(kw[0]) || is_space(kw[strlen(kw) - 1]))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "keyword has leading or trailing space");
  fold(out, kw);
  return 0;
}

/* A BCP 47 tag in lower case into out; NULL is "" (any locale). */
static int check_locale(char out[LOCALE_MAX + 1], const char *in)
{
  int rc;

  out[0] = '\0';
  if (in == NULL)
    return 0;
  if ((rc = vc__check_token("keyword locale", in, LOCALE_MAX, "a-zA-Z",
                            "a-zA-Z0-9-")) < 0)
    return rc;
  for (size_t i = 0; in[i] != '\0'; i++)
    out[i] = in[i] >= 'A' && in[i] <= 'Z' ? (char)(in[i] + 32) : in[i];
  out[strlen(in)] = '\0';
  return 0;
}

/* ---- the API -------------------------------------------------------------- */

/* Set or remove a keyword in one audited transaction. */
static int change(vc_tenant *t, const char *locale, const char *keyword,
                  int action, const char *reply, int remove)
{
  char kw[VC_KEYWORD_MAX + 1], loc[LOCALE_MAX + 1], audit[160];
  const char *tenant_id;
  vc_ctx *ctx;
  vc__db *db;
  vc__stmt *s;
  int rc;

  VC_ASSERT_ARG(t);
  if ((rc = check_locale(loc, locale)) < 0 ||
      (rc = check_keyword(kw, keyword)) < 0)
    return rc;
  if (!remove) {
    if (action < VC_KEYWORD_OPT_OUT || action > VC_KEYWORD_HELP)
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "unknown keyword action %d", action);
    if (builtin_action(kw) == VC_KEYWORD_OPT_OUT &&
        action != VC_KEYWORD_OPT_OUT)
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "a built-in opt-out keyword stays an opt-out");
    if ((rc = vc__check_text("keyword reply", reply, VC_KEYWORD_REPLY_MAX,
                             0)) < 0)
      return rc;
    if (reply != NULL && reply[0] == '\0')
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "keyword reply is empty (NULL: the built-in "
                           "reply)");
  }
  ctx = vc__tenant_ctx(t);
  tenant_id = vc_tenant_id(t);
  /* A keyword is free text: the audit row names the action and locale
   * (a token) only. */
  snprintf(audit, sizeof(audit), "{\"action\":%d,\"locale\":\"%s\"}",
           remove ? 0 : action, loc);
  if ((rc = vc__db_acquire(&db, ctx->store)) < 0)
    return rc;
  if ((rc = vc__db_begin(db)) < 0)
    goto release;
  if (remove) {
    if ((rc = vc__db_run(db, SQL_REMOVE, "ttt", tenant_id, kw, loc)) == 0 &&
        vc__db_changes(db) == 0)
      rc = vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                         "the tenant has no such keyword for that locale");
  } else if ((rc = vc__db_query(&s, db, SQL_EXISTS, "ttt", tenant_id, kw,
                                loc)) == 0) {
    int64_t n = 0;
    int exists = (rc = vc__stmt_step(s)) == VC_STORAGE_ROW;
    vc__stmt_done(s);
    if (rc >= 0 && !exists &&
        (rc = vc__db_query(&s, db, SQL_COUNT, "t", tenant_id)) == 0) {
      if ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW)
        n = vc__stmt_int64(s, 0);
      vc__stmt_done(s);
    }
    if (rc >= 0 && n >= VC_KEYWORD_TENANT_MAX)
      rc = vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                         "the tenant has %d keywords already",
                         VC_KEYWORD_TENANT_MAX);
    if (rc >= 0)
      rc = vc__db_run(db, SQL_SET, "tttiti", tenant_id, kw, loc,
                      (int64_t)action, reply, vc__now(ctx));
  }
  if (rc < 0 ||
      (rc = vc__audit(db, ctx, tenant_id,
                      remove ? "keyword.remove" : "keyword.set", NULL,
                      audit)) < 0 ||
      (rc = vc__db_commit(db)) < 0)
    vc__db_rollback(db);
release:
  vc__db_release(db);
  return rc;
}

int vc_keyword_set(vc_tenant *t, const char *locale, const char *keyword,
                   int action, const char *reply)
{
  return change(t, locale, keyword, action, reply, 0);
}

int vc_keyword_remove(vc_tenant *t, const char *locale, const char *keyword)
{
  return change(t, locale, keyword, 0, NULL, 1);
}

/* ---- matching an inbound message --------------------------------------- */

/* Locales to try, best first: each tag, then its language alone. */
typedef struct chain {
  char loc[CHAIN_MAX][LOCALE_MAX + 1];
  int n;
} chain;

static void chain_add(chain *c, const char *tag)
{
  char low[LOCALE_MAX + 1];
  size_t n = 0;

  if (tag == NULL || check_locale(low, tag) < 0) {
    vc_error_clear();
    return;
  }
  for (int pass = 0; pass < 2 && low[0] != '\0'; pass++) {
    int seen = 0;
    for (int i = 0; i < c->n; i++)
      seen |= strcmp(c->loc[i], low) == 0;
    if (!seen && c->n < CHAIN_MAX)
      snprintf(c->loc[c->n++], LOCALE_MAX + 1, "%s", low);
    n = strcspn(low, "-");
    if (low[n] == '\0')
      break;
    low[n] = '\0';
  }
}

/* What a keyword does for this sender. */
typedef struct match {
  int action;
  char reply[VC_KEYWORD_REPLY_MAX + 1];
} match;

/* The tenant's keyword best matching the chain (then "" = any locale),
 * else the built-in one: 1 and *m, or 0. */
static int find(match *m, vc__db *db, const char *tenant_id, const char *kw,
                const chain *c)
{
  int best = CHAIN_MAX + 1, rc;
  vc__stmt *s;

  if ((rc = vc__db_query(&s, db, SQL_MATCH, "tt", tenant_id, kw)) < 0)
    return rc;
  while ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW) {
    const char *loc = vc__stmt_text(s, 0), *reply = vc__stmt_text(s, 2);
    int rank = loc[0] == '\0' ? CHAIN_MAX : -1;
    for (int i = 0; i < c->n && rank < 0; i++)
      if (strcmp(c->loc[i], loc) == 0)
        rank = i;
    if (rank < 0 || rank >= best)
      continue;
    best = rank;
    m->action = (int)vc__stmt_int64(s, 1);
    snprintf(m->reply, sizeof(m->reply), "%s",
             reply ? reply : default_reply(m->action));
  }
  vc__stmt_done(s);
  if (rc < 0)
    return rc;
  if (best <= CHAIN_MAX)
    return 1;
  if ((m->action = builtin_action(kw)) == 0)
    return 0;
  snprintf(m->reply, sizeof(m->reply), "%s", default_reply(m->action));
  return 1;
}

int vc__sender_of(vc__sender *out, int kind, const char *provider,
                  const char *from)
{
  char buf[VC__ADDR_INPUT_MAX + 2];

  memset(out, 0, sizeof(*out));
  if (from == NULL || strlen(from) > VC__ADDR_INPUT_MAX)
    return -1;
  if (kind == VC_CHANNEL_SMS) {
    /* Some providers drop the '+'. */
    snprintf(buf, sizeof(buf), "%s%s", from[0] == '+' ? "" : "+", from);
    if (vc__addr_phone(out->to, buf, 1) < 0)
      return -1;
    out->addr_kind = VC_ADDRESS_PHONE;
    snprintf(out->address, sizeof(out->address), "%s", out->to);
    return 0;
  }
  if (strstr(provider, "telegram") != NULL) {
    if (vc__addr_telegram(out->to, from) < 0)
      return -1;
    out->addr_kind = VC_ADDRESS_TELEGRAM;
    snprintf(out->address, sizeof(out->address), "%s", out->to);
    return 0;
  }
  /* WhatsApp, and chat providers that speak in numbers. */
  if (vc__addr_whatsapp(out->to, from) < 0)
    return -1;
  out->addr_kind = VC_ADDRESS_WHATSAPP;
  snprintf(out->address, sizeof(out->address), "+%s", out->to);
  return 0;
}

/* A failure of the store (or of memory) must undo the webhook; anything
 * else about a reply is the reply's problem. */
static int fatal(int rc)
{
  const vc_error *e = vc_error_last();

  return rc == VC_ENOMEM || rc == VC_ESTORAGE || rc == VC_EBUSY ||
         e->klass == VC_ERRCLASS_STORAGE;
}

static int send_reply(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                      const char *channel_id, const char *contact_id,
                      const vc__sender *who, const match *m,
                      const char *inbound_id)
{
  char id[VC_ID_SIZE], key[64];
  vc_message_spec spec = VC_MESSAGE_SPEC_INIT;
  vc_tenant *t = NULL;
  int rc;

  if ((rc = vc__tenant_load(&t, ctx, db, tenant_id)) < 0)
    return rc;
  snprintf(key, sizeof(key), "keyword-reply:%s", inbound_id);
  spec.channel = channel_id;
  spec.to = who->to;
  spec.text = m->reply;
  spec.category = VC_CATEGORY_TRANSACTIONAL;
  spec.contact_id = contact_id[0] ? contact_id : NULL;
  spec.idempotency_key = key;
  /* An opt-out's confirmation and a HELP answer are owed whatever the
   * sender's consent (carrier rules); an opt-in's confirmation follows
   * the consent just given, like any message. */
  rc = m->action == VC_KEYWORD_OPT_IN
         ? vc__message_queue(id, db, t, &spec)
         : vc__message_queue_required(id, db, t, &spec);
  vc_tenant_free(t);
  if (rc < 0 && !fatal(rc)) {
    VC_LOG(ctx, VC_LOG_WARN, "keyword reply on channel %s not queued: %s",
           channel_id, vc_error_last()->message);
    vc_error_clear();
    rc = 0;
  }
  return rc;
}

int vc__keyword_inbound(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                        const char *channel_id, int kind,
                        const char *provider, const char *inbound_id,
                        const char *from, const char *text)
{
  char kw[VC_KEYWORD_MAX + 1], contact[VC_ID_SIZE] = "";
  vc_tenant *t = NULL;
  vc__contact_prefs prefs;
  vc__sender who;
  chain c;
  match m;
  int rc;

  if ((kind != VC_CHANNEL_SMS && kind != VC_CHANNEL_CHAT) || text == NULL ||
      fold(kw, text) == 0)
    return 0;
  if (vc__sender_of(&who, kind, provider ? provider : "", from) < 0) {
    vc_error_clear();
    return 0;  /* no address to act on or answer */
  }
  if ((rc = vc__contact_for_recipient(contact, db, tenant_id, kind,
                                      who.to)) < 0)
    return rc;
  memset(&c, 0, sizeof(c));
  if (contact[0] != '\0') {
    if ((rc = vc__contact_prefs_get(&prefs, db, tenant_id, contact)) < 0)
      return rc;
    chain_add(&c, prefs.locale);
  }
  if ((rc = vc__tenant_load(&t, ctx, db, tenant_id)) < 0)
    return rc;
  chain_add(&c, vc_tenant_locale(t));
  vc_tenant_free(t);
  memset(&m, 0, sizeof(m));
  if ((rc = find(&m, db, tenant_id, kw, &c)) <= 0)
    return rc;
  if (m.action != VC_KEYWORD_HELP) {
    /* Consent needs a contact: an unknown sender becomes one. */
    if (contact[0] == '\0' &&
        (rc = vc__contact_ensure(contact, db, ctx, tenant_id, who.addr_kind,
                                 who.address)) < 0)
      return rc;
    if ((rc = vc__consent_record(db, ctx, tenant_id, contact, kind, 0,
                                 m.action == VC_KEYWORD_OPT_OUT
                                   ? VC_CONSENT_OPTED_OUT
                                   : VC_CONSENT_OPTED_IN,
                                 "keyword", inbound_id)) < 0)
      return rc;
  }
  VC_LOG(ctx, VC_LOG_INFO, "keyword on channel %s: %s", channel_id,
         m.action == VC_KEYWORD_OPT_OUT ? "opt-out"
         : m.action == VC_KEYWORD_OPT_IN ? "opt-in" : "help");
  if ((rc = send_reply(db, ctx, tenant_id, channel_id, contact, &who, &m,
                       inbound_id)) < 0)
    return rc;
  return 1;
}
