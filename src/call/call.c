/*
 * Calls: validation and the durable start, lookup, list, getters and the
 * timeline. Placing is placing.c, the state machine machine.c, control
 * operations control.c.
 */
#include "core/common.h"
#include "core/audit.h"
#include "core/buf.h"
#include "core/codec.h"
#include "core/crypto.h"
#include "core/ctx.h"
#include "core/event.h"
#include "core/iter.h"
#include "core/job.h"
#include "core/json.h"
#include "core/tenant.h"
#include "core/text.h"
#include "msg/address.h"
#include "msg/consent.h"
#include "msg/contact.h"
#include "msg/quiet.h"
#include "msg/route.h"
#include "call_internal.h"
#include "hooks.h"
#include "machine.h"

#include <cJSON.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#define METADATA_MAX 8192
#define METADATA_DEPTH 16
#define IDEMPOTENCY_MAX 255
#define DEFAULT_RING_TIMEOUT_S 30

/* ---- names -------------------------------------------------------------- */

const char *vc_call_state_name(int state)
{
  static const char *const names[] = {
    "unknown", "initiated", "agent_ringing", "agent_answered",
    "customer_ringing", "bridged", "completed", "failed", "busy",
    "no_answer", "canceled"
  };

  return state >= VC_CALL_INITIATED && state <= VC_CALL_CANCELED
           ? names[state] : names[0];
}

int vc_call_state_final(int state)
{
  return state >= VC_CALL_COMPLETED && state <= VC_CALL_CANCELED;
}

const char *vc_call_cause_name(int cause)
{
  static const char *const names[] = {
    "none", "normal", "busy", "no_answer", "rejected", "unreachable",
    "canceled", "api_hangup", "time_limit", "provider_error", "ivr",
    "abandoned", "queue_timeout", "voicemail", "callback", "unknown_number"
  };

  return cause >= VC_CAUSE_NONE && cause <= VC_CAUSE_UNKNOWN_NUMBER
         ? names[cause] : "unknown";
}

/* ---- the handle ----------------------------------------------------------- */

#define COLUMNS \
  "id, state, COALESCE(agent_id, ''), agent_number, customer_number," \
  " COALESCE(caller_id, ''), COALESCE(channel_id, '')," \
  " COALESCE(provider_call_id, ''), COALESCE(metadata, ''), record_mode," \
  " on_hold, cause, failed_leg, error_code, COALESCE(provider_code, '')," \
  " COALESCE(error_message, ''), attempts, talk_s, cost_micros," \
  " COALESCE(currency, ''), cost_reported, agent_ringing_at," \
  " agent_answered_at, customer_ringing_at, bridged_at, ended_at," \
  " created_at, updated_at, tenant_id, category, COALESCE(contact_id, '')," \
  " direction"

static const char SQL_BY_ID[] =
  "SELECT " COLUMNS " FROM vc_call WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_PAGE[] =
  "SELECT " COLUMNS " FROM vc_call WHERE tenant_id = ?1"
  " AND (?2 = '' OR id < ?2) AND (?3 = 0 OR state = ?3)"
  " AND (?4 = '' OR agent_id = ?4) AND (?5 = '' OR channel_id = ?5)"
  " AND (?6 = '' OR customer_number = ?6)"
  " AND (?7 = 0 OR created_at >= ?7) AND (?8 = 0 OR created_at < ?8)"
  " AND (?9 = 0 OR direction = ?9)"
  " ORDER BY id DESC LIMIT 50";

struct vc_call {
  vc_ctx *ctx;
  char tenant_id[VC_ID_SIZE];
  char id[VC_ID_SIZE];
  char agent_id[VC_ID_SIZE];
  char channel_id[VC_ID_SIZE];
  char contact_id[VC_ID_SIZE];
  int category, direction;
  int state, record_mode, on_hold, cause, failed_leg, error, attempts;
  int talk_s, cost_reported;
  char *agent_number, *customer_number, *caller_id, *provider_id;
  char *metadata, *provider_code, *error_message;
  char currency[4];
  int64_t cost_micros;
  int64_t at[VC_CALL_BRIDGED + 1]; /* at[0]: ended */
  int64_t created_at, updated_at;
};

static void call_fields_free(vc_call *c)
{
  vc__free(c->agent_number);
  vc__free(c->customer_number);
  vc__free(c->caller_id);
  vc__free(c->provider_id);
  vc__free(c->metadata);
  vc__free(c->provider_code);
  vc__free(c->error_message);
}

void vc_call_free(vc_call *c)
{
  if (c == NULL)
    return;
  call_fields_free(c);
  vc__free(c);
}

static void copy(char *dst, size_t size, const char *src)
{
  snprintf(dst, size, "%s", src ? src : "");
}

static int fill_from_stmt(vc_call *c, vc__stmt *s)
{
  copy(c->id, sizeof(c->id), vc__stmt_text(s, 0));
  c->state = (int)vc__stmt_int64(s, 1);
  copy(c->agent_id, sizeof(c->agent_id), vc__stmt_text(s, 2));
  c->agent_number = vc__strdup(vc__stmt_text(s, 3));
  c->customer_number = vc__strdup(vc__stmt_text(s, 4));
  c->caller_id = vc__strdup(vc__stmt_text(s, 5));
  copy(c->channel_id, sizeof(c->channel_id), vc__stmt_text(s, 6));
  c->provider_id = vc__strdup(vc__stmt_text(s, 7));
  c->metadata = vc__strdup(vc__stmt_text(s, 8));
  c->record_mode = (int)vc__stmt_int64(s, 9);
  c->on_hold = (int)vc__stmt_int64(s, 10);
  c->cause = (int)vc__stmt_int64(s, 11);
  c->failed_leg = (int)vc__stmt_int64(s, 12);
  c->error = (int)vc__stmt_int64(s, 13);
  c->provider_code = vc__strdup(vc__stmt_text(s, 14));
  c->error_message = vc__strdup(vc__stmt_text(s, 15));
  c->attempts = (int)vc__stmt_int64(s, 16);
  c->talk_s = (int)vc__stmt_int64(s, 17);
  c->cost_micros = vc__stmt_int64(s, 18);
  copy(c->currency, sizeof(c->currency), vc__stmt_text(s, 19));
  c->cost_reported = (int)vc__stmt_int64(s, 20);
  for (int i = 0; i < 4; i++)
    c->at[VC_CALL_AGENT_RINGING + i] = vc__stmt_int64(s, 21 + i);
  c->at[0] = vc__stmt_int64(s, 25);
  c->created_at = vc__stmt_int64(s, 26);
  c->updated_at = vc__stmt_int64(s, 27);
  c->at[VC_CALL_INITIATED] = c->created_at;
  copy(c->tenant_id, sizeof(c->tenant_id), vc__stmt_text(s, 28));
  c->category = (int)vc__stmt_int64(s, 29);
  copy(c->contact_id, sizeof(c->contact_id), vc__stmt_text(s, 30));
  c->direction = (int)vc__stmt_int64(s, 31);
  if (!c->agent_number || !c->customer_number || !c->caller_id ||
      !c->provider_id || !c->metadata || !c->provider_code ||
      !c->error_message)
    return vc_error_set_oom();
  return 0;
}

static int call_from_stmt(vc_call **out, vc__stmt *s)
{
  vc_call *c = vc__calloc(1, sizeof(*c));
  int rc;

  if (c == NULL)
    return vc_error_set_oom();
  if ((rc = fill_from_stmt(c, s)) < 0) {
    vc_call_free(c);
    return rc;
  }
  *out = c;
  return 0;
}

static int load(vc_call **out, vc__db *db, vc_ctx *ctx,
                const char *tenant_id, const char *id)
{
  vc__stmt *s;
  int rc;

  if ((rc = vc__db_query(&s, db, SQL_BY_ID, "tt", tenant_id, id)) < 0)
    return rc;
  rc = vc__stmt_step(s);
  if (rc == VC_STORAGE_ROW) {
    if ((rc = call_from_stmt(out, s)) == 0)
      (*out)->ctx = ctx;
  } else if (rc == VC_STORAGE_DONE) {
    rc = vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                       "no call '%.32s'", id);
  }
  vc__stmt_done(s);
  return rc;
}

int vc__call_load(vc_call **out, vc_ctx *ctx, const char *tenant_id,
                  const char *id)
{
  vc__db *db;
  int rc;

  *out = NULL;
  if ((rc = vc__db_acquire(&db, ctx->store)) < 0)
    return rc;
  rc = load(out, db, ctx, tenant_id, id);
  vc__db_release(db);
  return rc;
}

vc_ctx *vc__call_ctx(const vc_call *c) { return c->ctx; }
const char *vc__call_tenant_id(const vc_call *c) { return c->tenant_id; }

int vc_call_lookup(vc_call **out, vc_tenant *t, const char *id)
{
  VC_ASSERT_ARG(out);
  *out = NULL;
  VC_ASSERT_ARG(t);
  if (!vc__ulid_valid(id))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "call id is not a valid id");
  return vc__call_load(out, vc__tenant_ctx(t), vc_tenant_id(t), id);
}

int vc_call_refresh(vc_call *c)
{
  vc_call *fresh;
  int rc;

  VC_ASSERT_ARG(c);
  if ((rc = vc__call_load(&fresh, c->ctx, c->tenant_id, c->id)) < 0)
    return rc;
  call_fields_free(c);
  *c = *fresh;
  vc__free(fresh);
  return 0;
}

#define STR_GETTER(name, field) \
  const char *vc_call_##name(const vc_call *c) { return c ? c->field : NULL; }
#define INT_GETTER(type, name, field) \
  type vc_call_##name(const vc_call *c) { return c ? c->field : 0; }

STR_GETTER(id, id)
INT_GETTER(int, state_of, state)
STR_GETTER(agent_id, agent_id)
STR_GETTER(agent_number, agent_number)
STR_GETTER(customer_number, customer_number)
STR_GETTER(caller_id, caller_id)
STR_GETTER(channel_id, channel_id)
STR_GETTER(provider_id, provider_id)
STR_GETTER(metadata_json, metadata)
INT_GETTER(int, record_mode, record_mode)
INT_GETTER(int, on_hold, on_hold)
INT_GETTER(int, cause_of, cause)
INT_GETTER(int, failed_leg, failed_leg)
INT_GETTER(int, error, error)
STR_GETTER(provider_code, provider_code)
STR_GETTER(error_message, error_message)
INT_GETTER(int, attempts, attempts)
INT_GETTER(int, talk_seconds, talk_s)
INT_GETTER(int64_t, cost_micros, cost_micros)
STR_GETTER(currency, currency)
INT_GETTER(int, cost_reported, cost_reported)
INT_GETTER(int64_t, created_at, created_at)
INT_GETTER(int64_t, updated_at, updated_at)
INT_GETTER(int, category, category)
STR_GETTER(contact_id, contact_id)

int vc_call_direction_of(const vc_call *call)
{
  return call != NULL && call->direction == VC_CALL_INBOUND
         ? VC_CALL_INBOUND : VC_CALL_OUTBOUND;
}

int64_t vc_call_state_at(const vc_call *c, int state)
{
  if (c == NULL)
    return 0;
  if (state >= VC_CALL_INITIATED && state <= VC_CALL_BRIDGED)
    return c->at[state];
  if (vc_call_state_final(state))
    return c->state == state ? c->at[0] : 0;
  return 0;
}

/* ---- validation ------------------------------------------------------------ */

/* A number (E.164) or a sip:/sips: URI, into out. */
static int check_address(char out[VC_CALL_ADDRESS_MAX + 1], const char *field,
                         const char *in, int sip_ok)
{
  char e164[VC__ADDR_PHONE_MAX];
  int rc;

  if ((rc = vc__check_text(field, in, VC_CALL_ADDRESS_MAX, 1)) < 0)
    return rc;
  if (sip_ok && (strncmp(in, "sip:", 4) == 0 ||
                 strncmp(in, "sips:", 5) == 0)) {
    const char *p = in + (in[3] == ':' ? 4 : 5);
    if (*p == '\0')
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "%s is an empty SIP URI", field);
    for (; *p != '\0'; p++)
      if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f ||
          strchr("\"<>\\`{}|^", *p) != NULL)
        return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                             "%s is not a valid SIP URI", field);
    snprintf(out, VC_CALL_ADDRESS_MAX + 1, "%s", in);
    return 0;
  }
  if (vc__addr_phone(e164, in, 0) < 0)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "%s is not an E.164 number%s", field,
                         sip_ok ? " or a sip: URI" : "");
  snprintf(out, VC_CALL_ADDRESS_MAX + 1, "%s", e164);
  return 0;
}

int vc__call_check_address(char out[VC_CALL_ADDRESS_MAX + 1],
                           const char *field, const char *in, int sip_ok)
{
  return check_address(out, field, in, sip_ok);
}

static void hash_str(vc_buf *b, const char *s)
{
  if (s == NULL)
    vc__buf_puts(b, "-");
  else
    vc__buf_printf(b, "%zu:%s", strlen(s), s);
}

/* What the caller asked, for idempotency. */
static int content_hash(char out[65], const vc_call_spec *s)
{
  uint8_t digest[32];
  vc_buf b = VC_BUF_INIT;
  int rc;

  vc__buf_printf(&b, "call1|%d|%d|%d|", s->record, s->ring_timeout_s,
                 s->time_limit_s);
  /* Only when set, so that earlier keys keep their hash. */
  if (s->category != 0 || s->contact_id != NULL) {
    vc__buf_printf(&b, "c%d|", s->category);
    hash_str(&b, s->contact_id);
  }
  hash_str(&b, s->agent);
  hash_str(&b, s->agent_number);
  hash_str(&b, s->customer_number);
  hash_str(&b, s->caller_id);
  hash_str(&b, s->channel);
  hash_str(&b, s->ivr_menu);
  hash_str(&b, s->metadata_json);
  if (b.ptr == NULL)
    return vc_error_set_oom();
  rc = vc__digest(digest, VC__MD_SHA256, b.ptr, b.size);
  vc_buf_dispose(&b);
  if (rc == 0)
    vc__hex_encode(out, digest, sizeof(digest));
  return rc;
}

/* A spec once checked: what gets stored. */
typedef struct prepared {
  char agent_id[VC_ID_SIZE];
  char agent_number[VC_CALL_ADDRESS_MAX + 1];
  char customer[VC_CALL_ADDRESS_MAX + 1];
  char caller_id[VC_CALL_ADDRESS_MAX + 1];
  char menu_id[VC_ID_SIZE];
  vc__route_channel channel;
  int pinned, record_mode, ring_timeout_s, time_limit_s;
  int category;                /* a vc_category */
  char contact_id[VC_ID_SIZE]; /* "" when no contact holds the number */
  int64_t due;                 /* when to place it: now, or the end of
                                  the customer's quiet hours */
  const char *why;             /* NULL: quiet hours deferred it */
  char hash[65];
} prepared;

static const char SQL_VOICE_CHANNELS[] =
  "SELECT COUNT(*) FROM vc_channel WHERE tenant_id = ?1 AND kind = 4"
  " AND enabled = 1";

/* The checks that read the store (agent, IVR menu, recording policy,
 * channels, the contact's consent and the do-not-call list), on the
 * start's connection inside its transaction. */
static int prepare_store(prepared *p, vc__db *db, vc_tenant *t,
                         const vc_call_spec *s)
{
  char number[VC_CALL_ADDRESS_MAX + 1] = "", consent[1024];
  const char *tenant_id = vc_tenant_id(t);
  vc__stmt *st;
  int rc;

  if (s->contact_id != NULL)
    rc = vc__contact_resolve(p->contact_id, db, tenant_id, s->contact_id);
  else
    rc = vc__contact_for_recipient(p->contact_id, db, tenant_id,
                                   VC_CHANNEL_VOICE, p->customer);
  if (rc < 0 ||
      (rc = vc__consent_check(db, t, p->contact_id, VC_CHANNEL_VOICE,
                              p->category, p->customer)) < 0)
    return rc;

  if (s->agent != NULL) {
    if ((rc = vc__check_text("agent", s->agent, 255, 1)) < 0 ||
        (rc = vc__agent_resolve(db, tenant_id, s->agent, p->agent_id,
                                number)) < 0)
      return rc;
    if (s->agent_number == NULL &&
        (rc = check_address(p->agent_number, "the agent's number", number,
                            1)) < 0)
      return rc;
  }
  if (s->ivr_menu != NULL &&
      ((rc = vc__check_text("IVR menu", s->ivr_menu, 255, 1)) < 0 ||
       (rc = vc__ivr_resolve(db, tenant_id, s->ivr_menu, p->menu_id)) < 0))
    return rc;
  if ((rc = vc__recording_mode(db, tenant_id, s->record, &p->record_mode,
                               consent)) < 0)
    return rc;
  if (p->record_mode < VC_RECORD_OFF || p->record_mode > VC_RECORD_ON_DEMAND)
    p->record_mode = VC_RECORD_OFF;
  if (!p->pinned) {
    int64_t n = 0;
    if ((rc = vc__db_query(&st, db, SQL_VOICE_CHANNELS, "t",
                           tenant_id)) < 0)
      return rc;
    if (vc__stmt_step(st) == VC_STORAGE_ROW)
      n = vc__stmt_int64(st, 0);
    vc__stmt_done(st);
    if (n == 0)
      return vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                           "the tenant has no enabled voice channel");
  }
  return 0;
}

/* The checks that need nothing stored. */
static int prepare_spec(prepared *p, vc_tenant *t, const vc_call_spec *s)
{
  int rc;

  if (s->customer_number == NULL)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "customer_number is required");
  if (s->agent == NULL && s->agent_number == NULL)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "give an agent or an agent_number");
  if ((rc = check_address(p->customer, "customer_number",
                          s->customer_number, 0)) < 0 ||
      (s->agent_number != NULL &&
       (rc = check_address(p->agent_number, "agent_number",
                           s->agent_number, 1)) < 0) ||
      (s->caller_id != NULL &&
       (rc = check_address(p->caller_id, "caller_id", s->caller_id,
                           0)) < 0) ||
      (rc = vc__json_check_object("metadata", s->metadata_json,
                                  METADATA_MAX, METADATA_DEPTH)) < 0 ||
      (rc = vc__check_text("idempotency key", s->idempotency_key,
                           IDEMPOTENCY_MAX, 0)) < 0)
    return rc;
  if (s->idempotency_key != NULL && s->idempotency_key[0] == '\0')
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "idempotency key is empty");
  if (s->record < VC_RECORD_DEFAULT || s->record > VC_RECORD_ON_DEMAND)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "unknown record mode %d", s->record);
  if (s->ring_timeout_s < 0 || s->ring_timeout_s > VC_CALL_RING_TIMEOUT_MAX)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "ring_timeout_s must be 0..%d",
                         VC_CALL_RING_TIMEOUT_MAX);
  if (s->time_limit_s < 0 || s->time_limit_s > VC_CALL_TIME_LIMIT_MAX)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "time_limit_s must be 0..%d",
                         VC_CALL_TIME_LIMIT_MAX);
  if (s->category != 0 && vc_category_name(s->category) == NULL)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "unknown category %d", s->category);
  if (s->contact_id != NULL && !vc__ulid_valid(s->contact_id))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "contact_id is not a valid id");
  p->category = s->category ? s->category : VC_CATEGORY_TRANSACTIONAL;
  p->ring_timeout_s = s->ring_timeout_s ? s->ring_timeout_s
                                        : DEFAULT_RING_TIMEOUT_S;
  p->time_limit_s = s->time_limit_s ? s->time_limit_s
                                    : VC_CALL_TIME_LIMIT_MAX;
  if (s->channel != NULL) {
    if ((rc = vc__check_text("channel", s->channel, 255, 1)) < 0 ||
        (rc = vc__route_lookup(&p->channel, t, s->channel)) < 0)
      return rc;
    if (p->channel.kind != VC_CHANNEL_VOICE)
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "channel '%.64s' is not a voice channel",
                           s->channel);
    p->pinned = 1;
  }
  return content_hash(p->hash, s);
}

static const char SQL_IDEM_GET[] =
  "SELECT id, content_hash FROM vc_call"
  " WHERE tenant_id = ?1 AND idempotency_key = ?2";
static const char SQL_INSERT[] =
  "INSERT INTO vc_call (tenant_id, id, state, agent_id, agent_number,"
  " customer_number, caller_id, caller_id_asked, channel_id, pinned,"
  " record_mode,"
  " ivr_menu_id, metadata, idempotency_key, content_hash, ring_timeout_s,"
  " time_limit_s, created_at, updated_at, category, contact_id)"
  " VALUES (?1, ?2, 1, ?3, ?4, ?5, ?6, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,"
  " ?14, ?15, ?16, ?16, ?17, ?18)";

/* An earlier call with the same key: 1 and its id, 0, or VC_ECONFLICT. */
static int find_idempotent(vc__db *db, const char *tenant_id,
                           const char *key, const char *hash,
                           char id_out[VC_ID_SIZE])
{
  vc__stmt *s;
  int rc;

  if ((rc = vc__db_query(&s, db, SQL_IDEM_GET, "tt", tenant_id, key)) < 0)
    return rc;
  rc = vc__stmt_step(s);
  if (rc == VC_STORAGE_ROW) {
    if (strcmp(vc__stmt_text(s, 1), hash) != 0) {
      rc = vc__error_set(VC_ERRCLASS_INVALID, VC_ECONFLICT,
                         "idempotency key reused with another call");
    } else {
      copy(id_out, VC_ID_SIZE, vc__stmt_text(s, 0));
      rc = 1;
    }
  } else if (rc == VC_STORAGE_DONE) {
    rc = 0;
  }
  vc__stmt_done(s);
  return rc;
}

int vc__call_quiet_open(int64_t *open_at, vc__db *db, vc_tenant *t,
                        const char *customer, int category, int64_t at)
{
  char contact[VC_ID_SIZE];
  int rc;

  if ((rc = vc__contact_for_recipient(contact, db, vc_tenant_id(t),
                                      VC_CHANNEL_VOICE, customer)) < 0)
    return rc;
  return vc__quiet_next_open(open_at, db, t, rc == 1 ? contact : "",
                             category, at);
}

/* A call inside the customer's quiet hours is stored now and placed at
 * the opening. Its agent is claimed only then (placing.c), so the agent
 * takes other calls meanwhile. */
static int insert(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                  const char *id, const prepared *p, const vc_call_spec *s,
                  int64_t now)
{
  char payload[160];
  int deferred = p->due > now, rc;
  vc__call_row r;

  snprintf(payload, sizeof(payload),
           "{\"state\":\"initiated\",\"agent_id\":\"%s\"}", p->agent_id);
  if ((rc = vc__db_run(db, SQL_INSERT, "tttttttiit" "tttiii" "it", tenant_id,
                       id,
                       p->agent_id[0] ? p->agent_id : NULL,
                       p->agent_number, p->customer,
                       p->caller_id[0] ? p->caller_id : NULL,
                       p->pinned ? p->channel.id : NULL,
                       (int64_t)p->pinned, (int64_t)p->record_mode,
                       p->menu_id[0] ? p->menu_id : NULL, s->metadata_json,
                       s->idempotency_key, p->hash,
                       (int64_t)p->ring_timeout_s,
                       (int64_t)p->time_limit_s, now, (int64_t)p->category,
                       p->contact_id[0] ? p->contact_id : NULL)) < 0)
    return rc;
  if (p->agent_id[0] != '\0' && !deferred &&
      (rc = vc__agent_claim(db, ctx, tenant_id, p->agent_id, id, now)) < 0)
    return rc;
  /* The call's first entries: nothing to read for them. */
  memset(&r, 0, sizeof(r));
  snprintf(r.id, sizeof(r.id), "%s", id);
  r.state = VC_CALL_INITIATED;
  r.next_seq = 1;
  if ((rc = vc__call_row_entry(db, ctx, tenant_id, &r, "state", VC_LEG_NONE,
                               "{\"state\":\"initiated\"}", now)) < 0 ||
      (rc = vc__job_enqueue(db, ctx, tenant_id, VC__JOB_CALL_START, id,
                            p->due, NULL)) < 0 ||
      (rc = vc__event_append(db, ctx, tenant_id, "call.initiated", id,
                             payload)) < 0 || !deferred)
    return rc;
  snprintf(payload, sizeof(payload),
           "{\"reason\":\"%s\",\"due_at\":%lld}",
           p->why ? p->why : "quiet_hours", (long long)p->due);
  if ((rc = vc__call_row_entry(db, ctx, tenant_id, &r, "deferred",
                               VC_LEG_NONE, payload, now)) < 0)
    return rc;
  return vc__event_append(db, ctx, tenant_id, "call.deferred", id, payload);
}

/* A caller's spec in the latest layout: members its version does not
 * have are zero. */
static size_t spec_size(unsigned int version)
{
  return version >= 2 ? sizeof(vc_call_spec)
                      : offsetof(vc_call_spec, category);
}

int vc_call_start(vc_call **out, vc_tenant *t, const vc_call_spec *in)
{
  char id[VC_ID_SIZE], existing[VC_ID_SIZE];
  const vc_call_spec *spec;
  vc_call_spec latest;
  const char *tenant_id;
  prepared p;
  vc_ctx *ctx;
  vc__db *db;
  int64_t now;
  int rc;

  VC_ASSERT_ARG(out);
  *out = NULL;
  VC_ASSERT_ARG(t);
  VC_ASSERT_ARG(in);
  VC_CHECK_VERSION(in, VC_CALL_SPEC_VERSION, "vc_call_spec");
  memset(&latest, 0, sizeof(latest));
  memcpy(&latest, in, spec_size(in->version));
  spec = &latest;
  memset(&p, 0, sizeof(p));
  ctx = vc__tenant_ctx(t);
  tenant_id = vc_tenant_id(t);
  if ((rc = prepare_spec(&p, t, spec)) < 0 ||
      (rc = vc__new_id(ctx, id)) < 0)
    return rc;
  if ((rc = vc__db_acquire(&db, ctx->store)) < 0)
    return rc;
  if ((rc = vc__db_begin(db)) < 0)
    goto release;
  if (spec->idempotency_key != NULL &&
      (rc = find_idempotent(db, tenant_id, spec->idempotency_key, p.hash,
                            existing)) != 0) {
    vc__db_rollback(db);
    if (rc == 1)
      rc = load(out, db, ctx, tenant_id, existing);
    goto release;
  }
  now = vc__now(ctx);
  if ((rc = prepare_store(&p, db, t, spec)) < 0 ||
      (rc = vc__quiet_next_open(&p.due, db, t, p.contact_id, p.category,
                                now)) < 0 ||
      (rc = insert(db, ctx, tenant_id, id, &p, spec, now)) < 0 ||
      (rc = vc__audit(db, ctx, tenant_id, "call.start", id, NULL)) < 0 ||
      (rc = vc__db_commit(db)) < 0) {
    vc__db_rollback(db);
    goto release;
  }
  rc = load(out, db, ctx, tenant_id, id);
  vc_ctx_wakeup(ctx);
release:
  vc__db_release(db);
  return rc;
}

int vc__call_create(char id_out[VC_ID_SIZE], vc__db *db, vc_tenant *t,
                    const vc_call_spec *spec, int64_t not_before,
                    const char *why)
{
  vc_ctx *ctx = vc__tenant_ctx(t);
  const char *tenant_id = vc_tenant_id(t);
  prepared p;
  int64_t now = vc__now(ctx);
  int rc;

  id_out[0] = '\0';
  memset(&p, 0, sizeof(p));
  if ((rc = prepare_spec(&p, t, spec)) < 0)
    return rc;
  if (spec->idempotency_key != NULL &&
      (rc = find_idempotent(db, tenant_id, spec->idempotency_key, p.hash,
                            id_out)) != 0)
    return rc == 1 ? 0 : rc;
  if ((rc = vc__new_id(ctx, id_out)) < 0 ||
      (rc = prepare_store(&p, db, t, spec)) < 0 ||
      (rc = vc__quiet_next_open(&p.due, db, t, p.contact_id, p.category,
                                not_before > now ? not_before : now)) < 0)
    return rc;
  if (not_before > now && p.due == not_before)
    p.why = why;
  if ((rc = insert(db, ctx, tenant_id, id_out, &p, spec, now)) < 0 ||
      (rc = vc__audit(db, ctx, tenant_id, "call.start", id_out, NULL)) < 0)
    return rc;
  vc_ctx_wakeup(ctx);
  return 0;
}

int vc_call_spec_init(vc_call_spec *s, unsigned int version)
{
  VC_INIT_STRUCT_SIZED(s, version, VC_CALL_SPEC_VERSION, vc_call_spec,
                       spec_size(version), VC_CALL_SPEC_INIT);
}

/* A caller's filter of `version`: members it does not have are zero. */
static size_t filter_size(unsigned int version)
{
  return version >= 2 ? sizeof(vc_call_filter)
                      : offsetof(vc_call_filter, direction);
}

int vc_call_filter_init(vc_call_filter *f, unsigned int version)
{
  VC_INIT_STRUCT_SIZED(f, version, VC_CALL_FILTER_VERSION, vc_call_filter,
                       filter_size(version), VC_CALL_FILTER_INIT);
}

/* ---- list ------------------------------------------------------------------ */

typedef struct call_iter {
  vc__page_iter page;
  vc_ctx *ctx;
  char tenant_id[VC_ID_SIZE];
  char agent[VC_ID_SIZE];
  char channel[VC_ID_SIZE];
  char customer[VC_CALL_ADDRESS_MAX + 1];
  int state, direction;
  int64_t since, until;
} call_iter;

static int page_query(vc__stmt **out, vc__db *db, const vc__page_iter *p)
{
  const call_iter *it = (const call_iter *)p;

  return vc__db_query(out, db, SQL_PAGE, "ttitttiii", it->tenant_id,
                      p->base.cursor, (int64_t)it->state, it->agent,
                      it->channel, it->customer, it->since, it->until,
                      (int64_t)it->direction);
}

static int page_row(void **out, vc__stmt *s)
{
  return call_from_stmt((vc_call **)out, s);
}

static void page_row_free(void *row)
{
  vc_call_free(row);
}

static const char *page_row_key(const void *row)
{
  return ((const vc_call *)row)->id;
}

static const vc__page_ops CALL_PAGES = {
  { "call", vc__page_iter_free }, page_query, page_row, page_row_free,
  page_row_key
};

int vc_call_list(vc_iter **out, vc_tenant *t, const vc_call_filter *f)
{
  call_iter *it;
  char customer[VC_CALL_ADDRESS_MAX + 1] = "";

  VC_ASSERT_ARG(out);
  *out = NULL;
  VC_ASSERT_ARG(t);
  VC_CHECK_VERSION(f, VC_CALL_FILTER_VERSION, "vc_call_filter");
  if (f != NULL) {
    if (f->after != NULL && f->after[0] != '\0' && !vc__ulid_valid(f->after))
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "cursor is not a call list cursor");
    if (f->agent != NULL && !vc__ulid_valid(f->agent))
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "agent filter is not an agent id");
    if (f->channel != NULL && !vc__ulid_valid(f->channel))
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "channel filter is not a channel id");
    if (f->state < 0 || f->state > VC_CALL_CANCELED)
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "unknown call state %d", f->state);
    if (f->version >= 2 && (f->direction < 0 ||
                            f->direction > VC_CALL_INBOUND))
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "unknown call direction %d", f->direction);
    if (f->customer_number != NULL &&
        check_address(customer, "customer_number filter",
                      f->customer_number, 0) < 0)
      return VC_EINVALID;
  }
  if ((it = vc__calloc(1, sizeof(*it))) == NULL)
    return vc_error_set_oom();
  it->ctx = vc__tenant_ctx(t);
  vc__page_iter_init(&it->page, &CALL_PAGES, it->ctx->store,
                     f != NULL ? f->after : NULL);
  copy(it->tenant_id, sizeof(it->tenant_id), vc_tenant_id(t));
  if (f != NULL) {
    copy(it->agent, sizeof(it->agent), f->agent);
    copy(it->channel, sizeof(it->channel), f->channel);
    copy(it->customer, sizeof(it->customer), customer);
    it->state = f->state;
    it->direction = f->version >= 2 ? f->direction : 0;
    it->since = f->since;
    it->until = f->until;
  }
  *out = &it->page.base;
  return 0;
}

int vc_call_next(vc_call **out, vc_iter *base)
{
  void *row;
  int rc;

  VC_ASSERT_ARG(out);
  *out = NULL;
  VC_ASSERT_ARG(base);
  if ((rc = vc__page_iter_next(&row, base, &CALL_PAGES)) < 0)
    return rc;
  ((vc_call *)row)->ctx = ((call_iter *)base)->ctx;
  *out = row;
  return 0;
}

/* ---- the timeline ------------------------------------------------------------ */

struct vc_call_entry {
  int64_t seq, at;
  int leg, state;
  char key[24];
  char *type, *detail;
};

static const char SQL_ENTRIES[] =
  "SELECT seq, type, leg, state, detail, occurred_at FROM vc_call_event"
  " WHERE tenant_id = ?1 AND call_id = ?2 AND seq > ?3"
  " ORDER BY seq LIMIT 50";
static const char SQL_EXISTS[] =
  "SELECT 1 FROM vc_call WHERE tenant_id = ?1 AND id = ?2";

typedef struct entry_iter {
  vc__page_iter page;
  char tenant_id[VC_ID_SIZE];
  char call_id[VC_ID_SIZE];
} entry_iter;

void vc_call_entry_free(vc_call_entry *e)
{
  if (e == NULL)
    return;
  vc__free(e->type);
  vc__free(e->detail);
  vc__free(e);
}

static int entry_query(vc__stmt **out, vc__db *db, const vc__page_iter *p)
{
  const entry_iter *it = (const entry_iter *)p;

  return vc__db_query(out, db, SQL_ENTRIES, "tti", it->tenant_id,
                      it->call_id, (int64_t)strtoll(p->base.cursor, NULL,
                                                    10));
}

static int entry_row(void **out, vc__stmt *s)
{
  vc_call_entry *e = vc__calloc(1, sizeof(*e));

  if (e == NULL)
    return vc_error_set_oom();
  e->seq = vc__stmt_int64(s, 0);
  e->type = vc__strdup(vc__stmt_text(s, 1));
  e->leg = (int)vc__stmt_int64(s, 2);
  e->state = (int)vc__stmt_int64(s, 3);
  e->detail = vc__strdup(vc__stmt_text(s, 4));
  e->at = vc__stmt_int64(s, 5);
  snprintf(e->key, sizeof(e->key), "%lld", (long long)e->seq);
  if (e->type == NULL || e->detail == NULL) {
    vc_call_entry_free(e);
    return vc_error_set_oom();
  }
  *out = e;
  return 0;
}

static void entry_row_free(void *row)
{
  vc_call_entry_free(row);
}

static const char *entry_row_key(const void *row)
{
  return ((const vc_call_entry *)row)->key;
}

static const vc__page_ops ENTRY_PAGES = {
  { "call_entry", vc__page_iter_free }, entry_query, entry_row,
  entry_row_free, entry_row_key
};

int vc_call_timeline(vc_iter **out, vc_tenant *t, const char *call_id)
{
  entry_iter *it;
  vc_ctx *ctx;
  vc__db *db;
  vc__stmt *s;
  int rc;

  VC_ASSERT_ARG(out);
  *out = NULL;
  VC_ASSERT_ARG(t);
  if (!vc__ulid_valid(call_id))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "call id is not a valid id");
  ctx = vc__tenant_ctx(t);
  if ((rc = vc__db_acquire(&db, ctx->store)) < 0)
    return rc;
  if ((rc = vc__db_query(&s, db, SQL_EXISTS, "tt", vc_tenant_id(t),
                         call_id)) == 0) {
    rc = vc__stmt_step(s);
    rc = rc == VC_STORAGE_ROW ? 0
         : rc == VC_STORAGE_DONE
           ? vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                           "no call '%.32s'", call_id)
           : rc;
    vc__stmt_done(s);
  }
  vc__db_release(db);
  if (rc < 0)
    return rc;
  if ((it = vc__calloc(1, sizeof(*it))) == NULL)
    return vc_error_set_oom();
  vc__page_iter_init(&it->page, &ENTRY_PAGES, ctx->store, NULL);
  copy(it->tenant_id, sizeof(it->tenant_id), vc_tenant_id(t));
  copy(it->call_id, sizeof(it->call_id), call_id);
  *out = &it->page.base;
  return 0;
}

int vc_call_entry_next(vc_call_entry **out, vc_iter *base)
{
  void *row;
  int rc;

  VC_ASSERT_ARG(out);
  *out = NULL;
  VC_ASSERT_ARG(base);
  if ((rc = vc__page_iter_next(&row, base, &ENTRY_PAGES)) < 0)
    return rc;
  *out = row;
  return 0;
}

int64_t vc_call_entry_seq(const vc_call_entry *e) { return e ? e->seq : 0; }
const char *vc_call_entry_type(const vc_call_entry *e)
{
  return e ? e->type : NULL;
}
int vc_call_entry_leg(const vc_call_entry *e) { return e ? e->leg : 0; }
int vc_call_entry_state(const vc_call_entry *e) { return e ? e->state : 0; }
const char *vc_call_entry_detail_json(const vc_call_entry *e)
{
  return e ? e->detail : NULL;
}
int64_t vc_call_entry_at(const vc_call_entry *e) { return e ? e->at : 0; }
