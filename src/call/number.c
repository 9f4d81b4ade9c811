/*
 * Inbound numbers (vyomcomm/number.h): normalization, the stored
 * numbers of a tenant, and the routing the arrival path asks for
 * (number.h).
 */
#include "core/common.h"
#include "core/audit.h"
#include "core/ctx.h"
#include "core/event.h"
#include "core/iter.h"
#include "core/snapshot.h"
#include "core/tenant.h"
#include "core/text.h"
#include "core/ulid.h"
#include "msg/address.h"
#include "call/hooks.h"
#include "call/number.h"
#include "call/queue.h"
#include "call/session.h"

#include <pthread.h>
#include <stdio.h>

const char *vc_number_entry_name(int kind)
{
  switch (kind) {
  case VC_NUMBER_ENTRY_IVR: return "ivr";
  case VC_NUMBER_ENTRY_QUEUE: return "queue";
  case VC_NUMBER_ENTRY_AGENT: return "agent";
  default: return "unknown";
  }
}

/* ---- normalization ------------------------------------------------------ */

int vc__number_cc_len(const char *d)
{
  /* The two-digit codes; 1 and 7 are one digit, all others three. */
  static const char *const two[] = {
    "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41",
    "43", "44", "45", "46", "47", "48", "49", "51", "52", "53", "54",
    "55", "56", "57", "58", "60", "61", "62", "63", "64", "65", "66",
    "81", "82", "84", "86", "90", "91", "92", "93", "94", "95", "98"
  };

  if (d[0] == '1' || d[0] == '7')
    return 1;
  for (size_t i = 0; i < sizeof(two) / sizeof(two[0]); i++)
    if (d[0] == two[i][0] && d[1] == two[i][1])
      return 2;
  return 3;
}

/* A normalized number: E.164 with its national significant number, or
 * a SIP URI with, when its user part is a phone number, that number. */
typedef struct norm {
  char number[VC_NUMBER_MAX + 1];
  char national[VC__ADDR_PHONE_MAX];   /* E.164 only */
  char user_phone[VC__ADDR_PHONE_MAX]; /* SIP: "+digits" user, or "" */
  int sip;
} norm;

static int lower(int c)
{
  return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static void set_national(norm *n)
{
  const char *d = n->number + 1;

  snprintf(n->national, sizeof(n->national), "%s", d + vc__number_cc_len(d));
}

/* sip:user@host[:port], from a sip:/sips: URI: params and headers cut,
 * host lowercased, the scheme's default port dropped. */
static int norm_sip(norm *n, const char *in)
{
  static const char extra[] = "-_.!~*'()%&=+$,;?/:@[]";
  int secure = lower(in[3]) == 's';
  const char *p = in + (secure ? 5 : 4), *at = NULL, *end;
  char host[VC_NUMBER_MAX + 1];
  size_t hl = 0, ul;

  for (const char *q = p; *q != '\0'; q++) {
    if (!vc__is_alnum((unsigned char)*q) && strchr(extra, *q) == NULL)
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "number: a SIP URI may not contain byte 0x%02x",
                           (unsigned char)*q);
    if (*q == '@') {
      if (at != NULL)
        return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                             "number: a SIP URI has one '@' at most");
      at = q;
    }
  }
  if (at == NULL || at == p)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "number: not a SIP URI (sip:user@host)");
  ul = (size_t)(at - p);
  end = at + 1 + strcspn(at + 1, ";?");
  for (const char *q = at + 1; q < end; q++)
    host[hl++] = (char)lower((unsigned char)*q);
  host[hl] = '\0';
  if (hl == 0 || !(vc__is_alnum((unsigned char)host[0]) || host[0] == '['))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "number: a SIP URI needs a host");
  {
    const char *port = strrchr(host, ':');
    const char *dflt = secure ? ":5061" : ":5060";

    if (port != NULL && strchr(port, ']') == NULL && strcmp(port, dflt) == 0)
      host[port - host] = '\0';
  }
  snprintf(n->number, sizeof(n->number), "%s:%.*s@%s",
           secure ? "sips" : "sip", (int)ul, p, host);
  n->sip = 1;
  /* A trunk's URI carries the dialled number as its user. */
  {
    char user[VC__ADDR_INPUT_MAX + 1];

    if (ul < sizeof(user) && (p[0] == '+' || vc__is_digit(p[0]))) {
      memcpy(user, p, ul);
      user[ul] = '\0';
      if (user[0] != '+' && ul + 1 < sizeof(user)) {
        memmove(user + 1, user, ul + 1);
        user[0] = '+';
      }
      if (vc__addr_phone(n->user_phone, user, 0) < 0)
        n->user_phone[0] = '\0';
    }
  }
  return 0;
}

/*
 * Normalize a number to store (`lookup` 0: E.164 or SIP only) or to look
 * up (`lookup` 1: also digits without '+' and national numbers, which
 * leave n->number "" and n->national the candidate NSN; n->user_phone
 * then holds the digits read as E.164, when they can be).
 */
static int normalize(norm *n, const char *in, int lookup)
{
  size_t len;
  int rc;

  memset(n, 0, sizeof(*n));
  while (in != NULL && (*in == ' ' || *in == '\t'))
    in++;
  if (in == NULL || in[0] == '\0')
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "number is required");
  len = strnlen(in, VC_NUMBER_MAX + 1);
  if (len > VC_NUMBER_MAX)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                         "number is longer than %d bytes", VC_NUMBER_MAX);
  if (len > 4 && lower(in[0]) == 's' && lower(in[1]) == 'i' &&
      lower(in[2]) == 'p' &&
      (in[3] == ':' || (lower(in[3]) == 's' && in[4] == ':')))
    return norm_sip(n, in);
  if (in[0] == '+' || (in[0] == '0' && in[1] == '0')) {
    if ((rc = vc__addr_phone(n->number, in, 1)) < 0)
      return vc__error_wrap("number (E.164 or sip: URI)");
    set_national(n);
    return 0;
  }
  if (!lookup)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "number: give an E.164 number (+ and the country "
                         "code) or a sip: URI, not a national number");
  {
    char digits[VC__ADDR_INPUT_MAX + 2];
    size_t nd = 1;
    const char *d;

    digits[0] = '+';
    for (const char *p = in; *p != '\0'; p++) {
      if (vc__is_digit((unsigned char)*p)) {
        if (nd + 1 >= sizeof(digits))
          return vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                               "number has too many digits");
        digits[nd++] = *p;
      } else if (strchr(" -.()", *p) == NULL) {
        return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                             "number: not a phone number or sip: URI");
      }
    }
    digits[nd] = '\0';
    if (nd < 3 || nd > 17)
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "number: not a phone number (%zu digits)",
                           nd - 1);
    if (vc__addr_phone(n->user_phone, digits, 0) < 0)
      n->user_phone[0] = '\0';
    /* One trunk prefix: 0 in most of the world. */
    d = digits + 1;
    if (d[0] == '0')
      d++;
    snprintf(n->national, sizeof(n->national), "%s", d);
  }
  return 0;
}

/* The last four characters, which is all a log line may show. */
static const char *tail4(const char *s)
{
  size_t n = strlen(s);

  return n > 4 ? s + n - 4 : s;
}

/* ---- reading the store ---------------------------------------------------- */

typedef struct number_row {
  char tenant_id[VC_ID_SIZE];
  char id[VC_ID_SIZE];
  char number[VC_NUMBER_MAX + 1];
  char channel_id[VC_ID_SIZE];
  char entry_id[VC_ID_SIZE];
  char label[VC_NUMBER_LABEL_MAX + 1];
  int entry_kind;
  int64_t created_at, updated_at;
  struct number_row *retired;  /* older snapshots of the same handle */
} number_row;

struct vc_number {
  vc_ctx *ctx;
  pthread_mutex_t lock;
  number_row *row;
};

#define COLUMNS "n.tenant_id, n.id, n.number, n.channel_id, n.entry_kind," \
                " n.entry_id, n.label, n.created_at, n.updated_at"
#define LIVE " JOIN vc_tenant t ON t.id = n.tenant_id AND t.deleted_at IS NULL"

static const char SQL_INSERT[] =
  "INSERT INTO vc_number (tenant_id, id, number, national, channel_id,"
  " entry_kind, entry_id, label, created_at, updated_at)"
  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)";
static const char SQL_UPDATE[] =
  "UPDATE vc_number SET number = ?3, national = ?4, channel_id = ?5,"
  " entry_kind = ?6, entry_id = ?7, label = ?8, updated_at = ?9"
  " WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_DELETE[] =
  "DELETE FROM vc_number WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_BY_ID[] =
  "SELECT " COLUMNS " FROM vc_number n" LIVE
  " WHERE n.tenant_id = ?1 AND n.id = ?2";
/* By number or national number; ?1 NULL: every live tenant (routing). */
static const char SQL_BY_NUMBER[] =
  "SELECT " COLUMNS " FROM vc_number n" LIVE
  " WHERE n.number = ?2 AND (?1 IS NULL OR n.tenant_id = ?1)";
static const char SQL_BY_NATIONAL[] =
  "SELECT " COLUMNS " FROM vc_number n" LIVE
  " WHERE n.national = ?2 AND (?1 IS NULL OR n.tenant_id = ?1)"
  " ORDER BY n.number LIMIT 2";
static const char SQL_PAGE[] =
  "SELECT " COLUMNS " FROM vc_number n" LIVE
  " WHERE n.tenant_id = ?1 AND n.id > ?2"
  " AND (?3 = 0 OR n.entry_kind = ?3) AND (?4 = '' OR n.entry_id = ?4)"
  " AND (?5 = '' OR n.channel_id = ?5) ORDER BY n.id LIMIT 50";
static const char SQL_CHANNEL[] =
  "SELECT id, kind FROM vc_channel WHERE tenant_id = ?1"
  " AND (id = ?2 OR name = ?2) AND enabled = 1"
  " ORDER BY CASE WHEN id = ?2 THEN 0 ELSE 1 END LIMIT 1";
static const char SQL_OWNER[] =
  "SELECT tenant_id FROM vc_number WHERE number = ?1";

static void row_free(number_row *r)
{
  while (r != NULL) {
    number_row *next = r->retired;
    vc__free(r);
    r = next;
  }
}

static int row_from_stmt(number_row **out, vc__stmt *s)
{
  number_row *r = vc__calloc(1, sizeof(*r));

  if (r == NULL)
    return vc_error_set_oom();
  snprintf(r->tenant_id, sizeof(r->tenant_id), "%s", vc__stmt_text(s, 0));
  snprintf(r->id, sizeof(r->id), "%s", vc__stmt_text(s, 1));
  snprintf(r->number, sizeof(r->number), "%s", vc__stmt_text(s, 2));
  snprintf(r->channel_id, sizeof(r->channel_id), "%s", vc__stmt_text(s, 3));
  r->entry_kind = (int)vc__stmt_int64(s, 4);
  snprintf(r->entry_id, sizeof(r->entry_id), "%s", vc__stmt_text(s, 5));
  snprintf(r->label, sizeof(r->label), "%s", vc__stmt_text(s, 6));
  r->created_at = vc__stmt_int64(s, 7);
  r->updated_at = vc__stmt_int64(s, 8);
  *out = r;
  return 0;
}

static int not_found(const char *what)
{
  return vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND, "no number %s",
                       what);
}

/* One row of `sql` bound (tenant_id, key); VC_ENOTFOUND when none. With
 * `two` set, a second row is VC_EINVALID (an ambiguous national
 * number). */
static int load(number_row **out, vc__db *db, const char *sql,
                const char *tenant_id, const char *key, int two)
{
  vc__stmt *s;
  int rc;

  *out = NULL;
  if ((rc = vc__db_query(&s, db, sql, "tt", tenant_id, key)) < 0)
    return rc;
  if ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW &&
      (rc = row_from_stmt(out, s)) == 0 && two) {
    if ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW)
      rc = vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "the national number ending %s is a number of "
                         "two countries: give it in E.164", tail4(key));
    else if (rc == VC_STORAGE_DONE)
      rc = 0;
  } else if (rc == VC_STORAGE_DONE) {
    rc = VC_ENOTFOUND;
  }
  vc__stmt_done(s);
  if (rc < 0) {
    row_free(*out);
    *out = NULL;
  }
  return rc;
}

/* The row just written (its tenant may have been deleted meanwhile). */
static int load_written(number_row **out, vc__db *db, const char *tenant_id,
                        const char *id)
{
  int rc = load(out, db, SQL_BY_ID, tenant_id, id, 0);

  return rc == VC_ENOTFOUND
           ? vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                           "tenant %s was deleted", tenant_id)
           : rc;
}

/* The number `n` denotes, of the tenant (NULL: of any tenant): the exact
 * number; for a SIP URI whose user is a phone number, that number; for
 * digits, the national number, then the digits read as E.164. */
static int find(number_row **out, vc__db *db, const char *tenant_id,
                const norm *n)
{
  int rc = VC_ENOTFOUND;

  if (n->number[0] != '\0')
    rc = load(out, db, SQL_BY_NUMBER, tenant_id, n->number, 0);
  if (rc == VC_ENOTFOUND && n->number[0] == '\0' && n->national[0] != '\0')
    rc = load(out, db, SQL_BY_NATIONAL, tenant_id, n->national, 1);
  if (rc == VC_ENOTFOUND && n->user_phone[0] != '\0')
    rc = load(out, db, SQL_BY_NUMBER, tenant_id, n->user_phone, 0);
  return rc;
}

int vc__number_route(vc__db *db, vc_ctx *ctx, const char *number,
                     vc__number_routing *out)
{
  number_row *r = NULL;
  norm n;
  int rc;

  memset(out, 0, sizeof(*out));
  if ((rc = normalize(&n, number, 1)) < 0)
    return rc;
  if ((rc = find(&r, db, NULL, &n)) == VC_ENOTFOUND) {
    const char *shown = n.number[0] ? n.number : n.national;

    VC_LOG(ctx, VC_LOG_INFO, "inbound call to an unknown number ending %s",
           tail4(shown));
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                         "no tenant has the number ending %s",
                         tail4(shown));
  }
  if (rc < 0)
    return rc;
  snprintf(out->tenant_id, sizeof(out->tenant_id), "%s", r->tenant_id);
  snprintf(out->number_id, sizeof(out->number_id), "%s", r->id);
  snprintf(out->channel_id, sizeof(out->channel_id), "%s", r->channel_id);
  out->entry_kind = r->entry_kind;
  snprintf(out->entry_id, sizeof(out->entry_id), "%s", r->entry_id);
  row_free(r);
  return 0;
}

/* ---- validation against the store ----------------------------------------- */

/* The stored form of a spec, over the current row for an update. */
typedef struct resolved {
  norm n;
  char channel_id[VC_ID_SIZE];
  char entry_id[VC_ID_SIZE];
  int entry_kind;
  const char *label;
} resolved;

static int check_label(const char *label)
{
  int rc = vc__check_text("number label", label, VC_NUMBER_LABEL_MAX, 0);

  for (const char *p = label; rc == 0 && p != NULL && *p != '\0'; p++)
    if ((unsigned char)*p < 0x20 || *p == 0x7f)
      rc = vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "number label contains a control character");
  return rc;
}

static int resolve_entry(vc__db *db, const char *tenant_id, int kind,
                         const char *key, char id[VC_ID_SIZE])
{
  char agent_number[VC_CALL_ADDRESS_MAX + 1];
  int rc;

  if (key == NULL || key[0] == '\0')
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "number entry is required (an id or name)");
  if (strlen(key) > 64)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "number entry must be an id or a name");
  switch (kind) {
  case VC_NUMBER_ENTRY_IVR:
    rc = vc__ivr_resolve(db, tenant_id, key, id);
    break;
  case VC_NUMBER_ENTRY_QUEUE:
    rc = vc__queue_resolve(db, tenant_id, key, id);
    break;
  case VC_NUMBER_ENTRY_AGENT:
    rc = vc__agent_resolve(db, tenant_id, key, id, agent_number);
    break;
  default:
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "unknown number entry kind %d", kind);
  }
  if (rc == VC_ENOTFOUND)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                         "number entry: no %s '%.64s'",
                         kind == VC_NUMBER_ENTRY_IVR ? "IVR menu"
                                                     : vc_number_entry_name(kind),
                         key);
  return rc;
}

/* An enabled voice channel of the tenant by id or name. */
static int resolve_channel(vc__db *db, const char *tenant_id,
                           const char *key, char id[VC_ID_SIZE])
{
  vc__stmt *s;
  int rc;

  if (key == NULL || key[0] == '\0' || strlen(key) > 64)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "number channel must be an id or a name");
  if ((rc = vc__db_query(&s, db, SQL_CHANNEL, "tt", tenant_id, key)) < 0)
    return rc;
  if ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW) {
    snprintf(id, VC_ID_SIZE, "%s", vc__stmt_text(s, 0));
    rc = vc__stmt_int64(s, 1) == VC_CHANNEL_VOICE
           ? 0
           : vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "channel '%.64s' is not a voice channel", key);
  } else if (rc == VC_STORAGE_DONE) {
    rc = vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                       "no enabled channel '%.64s'", key);
  }
  vc__stmt_done(s);
  return rc;
}

/* Check `spec` (over `cur` for an update: NULL fields keep it) and
 * resolve its channel and entry on `db`. */
static int resolve_spec(resolved *r, vc__db *db, const char *tenant_id,
                        const vc_number_spec *spec, const number_row *cur)
{
  int rc;

  memset(r, 0, sizeof(*r));
  if (spec->number != NULL || cur == NULL) {
    if ((rc = normalize(&r->n, spec->number, 0)) < 0)
      return rc;
  } else if ((rc = normalize(&r->n, cur->number, 0)) < 0) {
    return rc;
  }
  if ((rc = check_label(spec->label)) < 0)
    return rc;
  r->label = spec->label ? spec->label : cur ? cur->label : "";
  if (spec->channel != NULL || cur == NULL) {
    if ((rc = resolve_channel(db, tenant_id, spec->channel,
                              r->channel_id)) < 0)
      return rc;
  } else {
    snprintf(r->channel_id, sizeof(r->channel_id), "%s", cur->channel_id);
  }
  if (spec->entry_kind != 0 || spec->entry != NULL || cur == NULL) {
    r->entry_kind = spec->entry_kind != 0 ? spec->entry_kind
                    : cur != NULL ? cur->entry_kind : 0;
    if ((rc = resolve_entry(db, tenant_id, r->entry_kind, spec->entry,
                            r->entry_id)) < 0)
      return rc;
  } else {
    r->entry_kind = cur->entry_kind;
    snprintf(r->entry_id, sizeof(r->entry_id), "%s", cur->entry_id);
  }
  return 0;
}

/* A taken number: by whom, without naming another tenant. */
static int taken(vc__db *db, const char *tenant_id, const char *number)
{
  vc__stmt *s;
  int rc, mine = 0;

  if ((rc = vc__db_query(&s, db, SQL_OWNER, "t", number)) < 0)
    return rc;
  if (vc__stmt_step(s) == VC_STORAGE_ROW)
    mine = strcmp(vc__stmt_text(s, 0), tenant_id) == 0;
  vc__stmt_done(s);
  return vc__error_set(VC_ERRCLASS_INVALID, VC_EEXISTS,
                       mine ? "the number ending %s is already one of "
                              "this tenant's"
                            : "the number ending %s belongs to another "
                              "tenant",
                       tail4(number));
}

/* {"number_ending":"1234","entry":"queue","entry_id":"..."}: no whole
 * number in events or the audit trail (personal data). */
static void summary(char *buf, size_t size, const resolved *r)
{
  snprintf(buf, size,
           "{\"number_ending\":\"%s\",\"entry\":\"%s\",\"entry_id\":\"%s\"}",
           tail4(r->n.number), vc_number_entry_name(r->entry_kind),
           r->entry_id);
}

/* ---- the handle ------------------------------------------------------------ */

static int handle_new(vc_number **out, vc_ctx *ctx, number_row *row)
{
  vc_number *n = vc__calloc(1, sizeof(*n));

  if (n == NULL) {
    row_free(row);
    return vc_error_set_oom();
  }
  n->ctx = ctx;
  n->row = row;
  pthread_mutex_init(&n->lock, NULL);
  *out = n;
  return 0;
}

void vc_number_free(vc_number *n)
{
  if (n == NULL)
    return;
  row_free(n->row);
  pthread_mutex_destroy(&n->lock);
  vc__free(n);
}

int vc_number_spec_init(vc_number_spec *s, unsigned int version)
{
  VC_INIT_STRUCT(s, version, VC_NUMBER_SPEC_VERSION, vc_number_spec,
                 VC_NUMBER_SPEC_INIT);
}

int vc_number_filter_init(vc_number_filter *f, unsigned int version)
{
  VC_INIT_STRUCT(f, version, VC_NUMBER_FILTER_VERSION, vc_number_filter,
                 VC_NUMBER_FILTER_INIT);
}

#define GETTER(type, name, expr, none) \
  VC__SNAPSHOT_GETTER(number, type, name, expr, none)
GETTER(const char *, id, id, NULL)
GETTER(const char *, tenant_id, tenant_id, NULL)
GETTER(const char *, number, number, NULL)
GETTER(const char *, channel_id, channel_id, NULL)
GETTER(int, entry_kind, entry_kind, 0)
GETTER(const char *, entry_id, entry_id, NULL)
GETTER(const char *, label, label, NULL)
GETTER(int64_t, created_at, created_at, 0)
GETTER(int64_t, updated_at, updated_at, 0)
#undef GETTER

/* ---- create, look up, update, delete ---------------------------------------- */

int vc_number_new(vc_number **out, vc_tenant *t, const vc_number_spec *spec)
{
  char id[VC_ID_SIZE], payload[192];
  number_row *row = NULL;
  const char *tenant_id;
  resolved r;
  vc__db *db;
  vc_ctx *ctx;
  int rc;

  if (out != NULL)
    *out = NULL;
  VC_ASSERT_ARG(t);
  VC_ASSERT_ARG(spec);
  VC_CHECK_VERSION(spec, VC_NUMBER_SPEC_VERSION, "vc_number_spec");
  ctx = vc__tenant_ctx(t);
  tenant_id = vc_tenant_id(t);
  if ((rc = vc__new_id(ctx, id)) < 0 ||
      (rc = vc__db_acquire(&db, ctx->store)) < 0)
    return rc;
  if ((rc = vc__db_begin(db)) < 0)
    goto release;
  if ((rc = resolve_spec(&r, db, tenant_id, spec, NULL)) < 0)
    goto fail;
  rc = vc__db_run(db, SQL_INSERT, "ttttt" "itti", tenant_id, id,
                  r.n.number, r.n.sip ? NULL : r.n.national, r.channel_id,
                  (int64_t)r.entry_kind, r.entry_id, r.label, vc__now(ctx));
  if (rc == VC_EEXISTS)
    rc = taken(db, tenant_id, r.n.number);
  summary(payload, sizeof(payload), &r);
  if (rc < 0 ||
      (rc = vc__event_append(db, ctx, tenant_id, "number.created", id,
                             payload)) < 0 ||
      (rc = vc__audit(db, ctx, tenant_id, "number.create", id,
                      payload)) < 0 ||
      (rc = load_written(&row, db, tenant_id, id)) < 0 ||
      (rc = vc__db_commit(db)) < 0)
    goto fail;
  goto release;
fail:
  vc__db_rollback(db);
  row_free(row);
  row = NULL;
release:
  vc__db_release(db);
  /* A session channel listens for calls to its numbers from now on. */
  if (rc == 0 && vc__sessions_open_inbound(ctx) < 0)
    vc_error_clear();
  if (rc == 0 && out != NULL)
    return handle_new(out, ctx, row);
  row_free(row);
  return rc;
}

int vc_number_lookup(vc_number **out, vc_tenant *t, const char *id)
{
  number_row *row = NULL;
  vc_ctx *ctx;
  vc__db *db;
  int rc;

  VC_ASSERT_ARG(out);
  *out = NULL;
  VC_ASSERT_ARG(t);
  if (id == NULL || !vc__ulid_valid(id))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "number id is not an id");
  ctx = vc__tenant_ctx(t);
  if ((rc = vc__db_acquire(&db, ctx->store)) < 0)
    return rc;
  rc = load(&row, db, SQL_BY_ID, vc_tenant_id(t), id, 0);
  vc__db_release(db);
  if (rc == VC_ENOTFOUND)
    return not_found(id);
  return rc < 0 ? rc : handle_new(out, ctx, row);
}

int vc_number_find(vc_number **out, vc_tenant *t, const char *number)
{
  number_row *row = NULL;
  vc_ctx *ctx;
  vc__db *db;
  norm n;
  int rc;

  VC_ASSERT_ARG(out);
  *out = NULL;
  VC_ASSERT_ARG(t);
  if ((rc = normalize(&n, number, 1)) < 0)
    return rc;
  ctx = vc__tenant_ctx(t);
  if ((rc = vc__db_acquire(&db, ctx->store)) < 0)
    return rc;
  rc = find(&row, db, vc_tenant_id(t), &n);
  vc__db_release(db);
  if (rc == VC_ENOTFOUND)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                         "the tenant has no number ending %s",
                         tail4(n.number[0] ? n.number : n.national));
  return rc < 0 ? rc : handle_new(out, ctx, row);
}

int vc_number_update(vc_number *h, const vc_number_spec *spec)
{
  char payload[192], fields[96];
  number_row *cur, *row = NULL;
  resolved r;
  vc__db *db = NULL;
  int rc;

  VC_ASSERT_ARG(h);
  VC_ASSERT_ARG(spec);
  VC_CHECK_VERSION(spec, VC_NUMBER_SPEC_VERSION, "vc_number_spec");
  pthread_mutex_lock(&h->lock);
  cur = h->row;
  if ((rc = vc__db_acquire(&db, h->ctx->store)) < 0)
    goto unlock;
  if ((rc = vc__db_begin(db)) < 0)
    goto release;
  if ((rc = resolve_spec(&r, db, cur->tenant_id, spec, cur)) < 0)
    goto fail;
  rc = vc__db_run(db, SQL_UPDATE, "ttttt" "itti", cur->tenant_id, cur->id,
                  r.n.number, r.n.sip ? NULL : r.n.national, r.channel_id,
                  (int64_t)r.entry_kind, r.entry_id, r.label,
                  vc__now(h->ctx));
  if (rc == VC_EEXISTS)
    rc = taken(db, cur->tenant_id, r.n.number);
  if (rc == 0 && vc__db_changes(db) == 0)
    rc = not_found(cur->id);
  if (rc < 0)
    goto fail;
  summary(payload, sizeof(payload), &r);
  {
    static const char *const names[] = { "number", "channel", "entry",
                                         "label" };
    const int set[] = { spec->number != NULL, spec->channel != NULL,
                        spec->entry_kind != 0 || spec->entry != NULL,
                        spec->label != NULL };
    vc__audit_fields(fields, sizeof(fields), names, set, 4);
  }
  if ((rc = vc__event_append(db, h->ctx, cur->tenant_id, "number.updated",
                             cur->id, payload)) < 0 ||
      (rc = vc__audit(db, h->ctx, cur->tenant_id, "number.update", cur->id,
                      fields)) < 0 ||
      (rc = load_written(&row, db, cur->tenant_id, cur->id)) < 0 ||
      (rc = vc__db_commit(db)) < 0)
    goto fail;
  row->retired = h->row;
  h->row = row;
  goto release;
fail:
  vc__db_rollback(db);
  row_free(row);
release:
  vc__db_release(db);
unlock:
  pthread_mutex_unlock(&h->lock);
  return rc;
}

int vc_number_delete(vc_number *h)
{
  char payload[64];
  const number_row *cur;
  vc__db *db;
  int rc;

  VC_ASSERT_ARG(h);
  pthread_mutex_lock(&h->lock);
  cur = h->row;
  snprintf(payload, sizeof(payload), "{\"number_ending\":\"%s\"}",
           tail4(cur->number));
  if ((rc = vc__db_acquire(&db, h->ctx->store)) < 0)
    goto unlock;
  if ((rc = vc__db_begin(db)) < 0)
    goto release;
  if ((rc = vc__db_run(db, SQL_DELETE, "tt", cur->tenant_id, cur->id)) < 0)
    goto fail;
  if (vc__db_changes(db) == 0) {
    rc = not_found(cur->id);
    goto fail;
  }
  if ((rc = vc__event_append(db, h->ctx, cur->tenant_id, "number.deleted",
                             cur->id, payload)) < 0 ||
      (rc = vc__audit(db, h->ctx, cur->tenant_id, "number.delete", cur->id,
                      payload)) < 0 ||
      (rc = vc__db_commit(db)) < 0)
    goto fail;
  goto release;
fail:
  vc__db_rollback(db);
release:
  vc__db_release(db);
unlock:
  pthread_mutex_unlock(&h->lock);
  return rc;
}

/* ---- vc_number_list ------------------------------------------------------- */

typedef struct number_iter {
  vc__page_iter page;
  vc_ctx *ctx;
  char tenant_id[VC_ID_SIZE];
  char entry_id[VC_ID_SIZE];
  char channel_id[VC_ID_SIZE];
  int entry_kind;
} number_iter;

static int page_query(vc__stmt **out, vc__db *db, const vc__page_iter *p)
{
  const number_iter *it = (const number_iter *)p;

  return vc__db_query(out, db, SQL_PAGE, "ttitt", it->tenant_id,
                      p->base.cursor, (int64_t)it->entry_kind, it->entry_id,
                      it->channel_id);
}

static int page_row(void **out, vc__stmt *s)
{
  return row_from_stmt((number_row **)out, s);
}

static void page_row_free(void *row)
{
  row_free(row);
}

static const char *page_row_key(const void *row)
{
  return ((const number_row *)row)->id;
}

static const vc__page_ops NUMBER_PAGES = {
  { "number", vc__page_iter_free }, page_query, page_row, page_row_free,
  page_row_key
};

static int check_id_field(const char *what, const char *v)
{
  if (v != NULL && v[0] != '\0' && !vc__ulid_valid(v))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "%s is not an id", what);
  return 0;
}

int vc_number_list(vc_iter **out, vc_tenant *t, const vc_number_filter *f)
{
  number_iter *it;
  int rc;

  VC_ASSERT_ARG(out);
  *out = NULL;
  VC_ASSERT_ARG(t);
  VC_CHECK_VERSION(f, VC_NUMBER_FILTER_VERSION, "vc_number_filter");
  if (f != NULL &&
      ((rc = check_id_field("cursor", f->after)) < 0 ||
       (rc = check_id_field("entry_id filter", f->entry_id)) < 0 ||
       (rc = check_id_field("channel_id filter", f->channel_id)) < 0))
    return rc;
  if (f != NULL && (f->entry_kind < 0 ||
                    f->entry_kind > VC_NUMBER_ENTRY_AGENT))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "unknown number entry kind %d", f->entry_kind);
  if ((it = vc__calloc(1, sizeof(*it))) == NULL)
    return vc_error_set_oom();
  it->ctx = vc__tenant_ctx(t);
  vc__page_iter_init(&it->page, &NUMBER_PAGES, it->ctx->store,
                     f != NULL ? f->after : NULL);
  snprintf(it->tenant_id, sizeof(it->tenant_id), "%s", vc_tenant_id(t));
  if (f != NULL) {
    it->entry_kind = f->entry_kind;
    snprintf(it->entry_id, sizeof(it->entry_id), "%s",
             f->entry_id ? f->entry_id : "");
    snprintf(it->channel_id, sizeof(it->channel_id), "%s",
             f->channel_id ? f->channel_id : "");
  }
  *out = &it->page.base;
  return 0;
}

int vc_number_next(vc_number **out, vc_iter *base)
{
  void *row;
  int rc;

  VC_ASSERT_ARG(out);
  *out = NULL;
  if ((rc = vc__page_iter_next(&row, base, &NUMBER_PAGES)) < 0)
    return rc;
  return handle_new(out, ((number_iter *)base)->ctx, row);
}
