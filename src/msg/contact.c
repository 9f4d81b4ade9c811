/*
 * Contacts: validation, the upsert that deduplicates on normalized
 * addresses, updates, tags, merge, lookup and list, and what the rest of
 * the library asks of contacts (contact.h). The CSV import is in
 * contact_import.c.
 *
 * A merged contact stays as a tombstone whose merged_into names the
 * survivor; a merge re-points older tombstones, so one step resolves any
 * id (the loop below allows a few, defensively).
 */
#include "core/common.h"
#include "core/ctx.h"
#include "core/audit.h"
#include "core/event.h"
#include "core/iter.h"
#include "core/json.h"
#include "core/tenant.h"
#include "core/text.h"
#include "core/ulid.h"
#include "address.h"
#include "contact.h"
#include "template.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#define ZONEINFO "/usr/share/zoneinfo/"
#define FIELDS_DEPTH 8
#define TAGS_TEXT_MAX (VC_CONTACT_TAGS_MAX * (VC_CONTACT_TAG_MAX + 1))
#define RESOLVE_STEPS 8

static const char *const KIND_NAMES[] = { "", "phone", "email", "telegram",
                                          "whatsapp" };

/* ---- checks ----------------------------------------------------------- */

static int has_control(const char *s)
{
  for (; *s != '\0'; s++)
    if ((unsigned char)*s < 0x20 || *s == 0x7f)
      return 1;
  return 0;
}

int vc__contact_check_name(const char *name)
{
  int rc;

  if ((rc = vc__check_text("contact name", name, VC_CONTACT_NAME_MAX, 0)) <
      0)
    return rc;
  if (name != NULL && has_control(name))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "contact name contains a control character");
  return 0;
}

/* An IANA name of the shape tzdata uses, naming a TZif file of the
 * system's zoneinfo (the quiet-hours code reads the rules). */
int vc__contact_check_timezone(const char *tz)
{
  char path[sizeof(ZONEINFO) + VC_CONTACT_TIMEZONE_MAX];
  char magic[4];
  struct stat st;
  int rc, fd;

  if ((rc = vc__check_token("contact timezone", tz, VC_CONTACT_TIMEZONE_MAX,
                            "A-Za-z", "A-Za-z0-9_+/-")) < 0)
    return rc;
  if (strstr(tz, "//") != NULL || tz[strlen(tz) - 1] == '/')
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "contact timezone '%s' is not a zone name", tz);
  snprintf(path, sizeof(path), ZONEINFO "%s", tz);
  if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "contact timezone '%s' is not a known zone", tz);
  if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "contact timezone '%s' cannot be read", tz);
  rc = read(fd, magic, sizeof(magic)) == 4 && memcmp(magic, "TZif", 4) == 0;
  close(fd);
  if (!rc)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "contact timezone '%s' is not a zone file", tz);
  return 0;
}

/* One tag of `len` bytes at `s` (already trimmed). */
static int check_tag(const char *s, size_t len, const char *field)
{
  if (len == 0)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "%s: a tag is empty", field);
  if (len > VC_CONTACT_TAG_MAX)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                         "%s: a tag is longer than %d bytes", field,
                         VC_CONTACT_TAG_MAX);
  if (!vc__utf8_valid(s, len))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EENCODING,
                         "%s: a tag is not UTF-8", field);
  for (size_t i = 0; i < len; i++)
    if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f || s[i] == ',' ||
        s[i] == ';')
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "%s: a tag contains a control character, a "
                           "comma or a semicolon", field);
  return 0;
}

static int is_space(char c) { return c == ' ' || c == '\t'; }

/* The next tag of a `;` list: its start and length (trimmed), or 0 at
 * the end. Empty pieces are skipped. */
static int next_tag(const char **pos, const char **tag, size_t *len)
{
  const char *p = *pos;

  while (*p != '\0') {
    const char *end = strchr(p, ';'), *a = p, *b;
    if (end == NULL)
      end = p + strlen(p);
    b = end;
    while (a < b && is_space(*a))
      a++;
    while (b > a && is_space(b[-1]))
      b--;
    p = *end == ';' ? end + 1 : end;
    if (b > a) {
      *pos = p;
      *tag = a;
      *len = (size_t)(b - a);
      return 1;
    }
  }
  *pos = p;
  return 0;
}

int vc__contact_check_tags(const char *tags, const char *field)
{
  const char *pos = tags, *tag;
  size_t len, n = 0;
  int rc;

  if (tags == NULL)
    return 0;
  if ((rc = vc__check_text(field, tags, TAGS_TEXT_MAX, 0)) < 0)
    return rc;
  while (next_tag(&pos, &tag, &len)) {
    if ((rc = check_tag(tag, len, field)) < 0)
      return rc;
    if (++n > VC_CONTACT_TAGS_MAX)
      return vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                           "%s: more than %d tags", field,
                           VC_CONTACT_TAGS_MAX);
  }
  return 0;
}

int vc__contact_normalize(char out[VC__CONTACT_ADDR_MAX], int kind,
                          const char *in)
{
  char field[32];
  int rc;

  if (kind < VC_ADDRESS_PHONE || kind > VC_ADDRESS_WHATSAPP)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "unknown address kind %d", kind);
  snprintf(field, sizeof(field), "contact %s", KIND_NAMES[kind]);
  if ((rc = vc__check_text(field, in, 320, 1)) < 0)
    return rc;
  switch (kind) {
  case VC_ADDRESS_PHONE:
    rc = vc__addr_phone(out, in, 1);
    break;
  case VC_ADDRESS_EMAIL: {
    vc_buf b = VC_BUF_INIT;
    if ((rc = vc__addr_email(&b, in)) == 0)
      snprintf(out, VC__CONTACT_ADDR_MAX, "%s", b.ptr);
    vc_buf_dispose(&b);
    break;
  }
  case VC_ADDRESS_TELEGRAM:
    rc = vc__addr_telegram(out, in);
    break;
  default: {
    /* A WhatsApp id is the number: take it in any phone spelling. */
    char phone[VC__ADDR_PHONE_MAX];
    if ((rc = vc__addr_whatsapp(out, in)) < 0 &&
        vc__addr_phone(phone, in, 1) == 0)
      rc = vc__addr_whatsapp(out, phone);
    break;
  }
  }
  return rc < 0 ? vc__error_wrap(field) : 0;
}

/* The custom fields a caller gives: an object within the bounds, member
 * names UTF-8 without controls. */
static int check_fields(cJSON **out, const char *json)
{
  const cJSON *m;
  int n = 0, rc;

  *out = NULL;
  if ((rc = vc__json_parse(out, "contact fields_json", json,
                           VC_CONTACT_FIELDS_BYTES, FIELDS_DEPTH, 1)) < 0)
    return rc;
  cJSON_ArrayForEach(m, *out) {
    size_t len = strlen(m->string);
    if (len == 0 || len > VC_CONTACT_FIELD_NAME_MAX ||
        !vc__utf8_valid(m->string, len) || has_control(m->string))
      rc = vc__error_set(VC_ERRCLASS_INVALID,
                         len > VC_CONTACT_FIELD_NAME_MAX ? VC_ETOOBIG
                                                         : VC_EINVALID,
                         "contact fields_json: a field name is empty, "
                         "longer than %d bytes or not clean UTF-8",
                         VC_CONTACT_FIELD_NAME_MAX);
    else if (++n > VC_CONTACT_FIELDS_MAX)
      rc = vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                         "contact fields_json: more than %d fields",
                         VC_CONTACT_FIELDS_MAX);
    if (rc < 0) {
      cJSON_Delete(*out);
      *out = NULL;
      return rc;
    }
  }
  return 0;
}

static int quiet_valid(int s, int e)
{
  if (s == e && (s == VC_CONTACT_KEEP || s == VC_TENANT_KEEP ||
                 s == VC_QUIET_NONE))
    return 1;
  return s >= 0 && s < 1440 && e >= 0 && e < 1440 && s != e;
}

void vc__contact_input_init(vc__contact_input *in)
{
  memset(in, 0, sizeof(*in));
  in->quiet_start = in->quiet_end = VC_CONTACT_KEEP;
}

void vc__contact_input_dispose(vc__contact_input *in)
{
  cJSON_Delete(in->fields);
  in->fields = NULL;
}

int vc__contact_input_from_spec(vc__contact_input *in,
                                const vc_contact_spec *s)
{
  const char *addr[5] = { NULL, s->phone, s->email, s->telegram,
                          s->whatsapp };
  int rc;

  vc__contact_input_init(in);
  if ((rc = vc__contact_check_name(s->name)) < 0)
    return rc;
  in->name = s->name;
  if (s->timezone != NULL && s->timezone[0] != '\0' &&
      (rc = vc__contact_check_timezone(s->timezone)) < 0)
    return rc;
  in->timezone = s->timezone;
  if (s->locale != NULL) {
    if (s->locale[0] != '\0' &&
        (rc = vc__locale_check(in->locale_buf, s->locale,
                               "contact locale")) < 0)
      return rc;
    in->locale = in->locale_buf;
  }
  if (!quiet_valid(s->quiet_start_min, s->quiet_end_min))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "contact quiet hours must be two different "
                         "minutes 0..1439, or VC_QUIET_NONE, "
                         "VC_TENANT_KEEP or VC_CONTACT_KEEP in both");
  in->quiet_start = s->quiet_start_min;
  in->quiet_end = s->quiet_end_min;
  for (int k = VC_ADDRESS_PHONE; k <= VC_ADDRESS_WHATSAPP; k++) {
    if (addr[k] == NULL)
      continue;
    if (addr[k][0] == '\0') {
      in->addr_state[k] = 2;
      continue;
    }
    if ((rc = vc__contact_normalize(in->addr[k], k, addr[k])) < 0)
      return rc;
    in->addr_state[k] = 1;
  }
  if ((rc = vc__contact_check_tags(s->tags, "contact tags")) < 0)
    return rc;
  in->tags = s->tags;
  if (s->fields_json != NULL &&
      (rc = check_fields(&in->fields, s->fields_json)) < 0)
    return rc;
  return 0;
}

/* ---- the stored row --------------------------------------------------- */

/* What a write needs of a contact row. */
typedef struct contact_raw {
  char id[VC_ID_SIZE];
  char name[VC_CONTACT_NAME_MAX + 1];
  char timezone[VC_CONTACT_TIMEZONE_MAX + 1];
  char locale[VC_CONTACT_LOCALE_MAX + 1];
  int has_name, has_timezone, has_locale;
  int quiet_start, quiet_end;  /* VC_TENANT_KEEP when NULL */
  char *fields;                /* owned */
} contact_raw;

static const char SQL_TENANT_LIVE[] =
  "SELECT 1 FROM vc_tenant WHERE id = ?1 AND deleted_at IS NULL";
static const char SQL_RESOLVE[] =
  "SELECT COALESCE(merged_into, ''), erased_at FROM vc_contact"
  " WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_RAW[] =
  "SELECT name, timezone, locale, quiet_start_min, quiet_end_min, fields"
  " FROM vc_contact WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_INSERT[] =
  "INSERT INTO vc_contact (tenant_id, id, name, timezone, locale,"
  " quiet_start_min, quiet_end_min, fields, created_at, updated_at)"
  " VALUES (?1, ?2, ?3, ?4, ?5, CASE WHEN ?6 = -2 THEN NULL ELSE ?6 END,"
  " CASE WHEN ?7 = -2 THEN NULL ELSE ?7 END, ?8, ?9, ?9)";
static const char SQL_UPDATE[] =
  "UPDATE vc_contact SET name = ?3, timezone = ?4, locale = ?5,"
  " quiet_start_min = CASE WHEN ?6 = -2 THEN NULL ELSE ?6 END,"
  " quiet_end_min = CASE WHEN ?7 = -2 THEN NULL ELSE ?7 END,"
  " fields = ?8, updated_at = ?9 WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_HOLDER[] =
  "SELECT contact_id FROM vc_contact_address"
  " WHERE tenant_id = ?1 AND addr_kind = ?2 AND address = ?3";
static const char SQL_ADDR_ADD[] =
  "INSERT INTO vc_contact_address (tenant_id, addr_kind, address,"
  " contact_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5)";
static const char SQL_ADDR_DEL[] =
  "DELETE FROM vc_contact_address WHERE tenant_id = ?1 AND contact_id = ?2"
  " AND addr_kind = ?3 AND address = ?4";
static const char SQL_ADDR_DEL_KIND[] =
  "DELETE FROM vc_contact_address WHERE tenant_id = ?1 AND contact_id = ?2"
  " AND addr_kind = ?3 AND address <> ?4";
static const char SQL_ADDR_COUNT[] =
  "SELECT COUNT(*) FROM vc_contact_address"
  " WHERE tenant_id = ?1 AND contact_id = ?2";
static const char SQL_TAG_ADD[] =
  "INSERT INTO vc_contact_tag (tenant_id, tag, contact_id)"
  " VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING";
static const char SQL_TAG_DEL[] =
  "DELETE FROM vc_contact_tag WHERE tenant_id = ?1 AND contact_id = ?2"
  " AND tag = ?3";
static const char SQL_TAG_DEL_ALL[] =
  "DELETE FROM vc_contact_tag WHERE tenant_id = ?1 AND contact_id = ?2";
static const char SQL_TAG_COUNT[] =
  "SELECT COUNT(*) FROM vc_contact_tag WHERE tenant_id = ?1"
  " AND contact_id = ?2";

int vc__contact_tenant_live(vc__db *db, const char *tenant_id)
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

static int not_found(const char *id)
{
  return vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                       "no contact '%.32s'", id);
}

/* The live contact an id names, following merges. */
static int resolve(char out[VC_ID_SIZE], vc__db *db, const char *tenant_id,
                   const char *id)
{
  char cur[VC_ID_SIZE];

  if (!vc__ulid_valid(id))
    return not_found(id != NULL ? id : "");
  snprintf(cur, sizeof(cur), "%s", id);
  for (int step = 0; step < RESOLVE_STEPS; step++) {
    vc__stmt *s;
    int rc, erased;
    if ((rc = vc__db_query(&s, db, SQL_RESOLVE, "tt", tenant_id, cur)) < 0)
      return rc;
    if ((rc = vc__stmt_step(s)) != VC_STORAGE_ROW) {
      vc__stmt_done(s);
      return rc < 0 ? rc : not_found(id);
    }
    erased = !vc__stmt_is_null(s, 1);
    if (erased || vc__stmt_text(s, 0)[0] == '\0') {
      vc__stmt_done(s);
      if (erased)
        return not_found(id);
      memcpy(out, cur, VC_ID_SIZE);
      return 0;
    }
    snprintf(cur, sizeof(cur), "%s", vc__stmt_text(s, 0));
    vc__stmt_done(s);
  }
  return vc__error_set(VC_ERRCLASS_INTERNAL, VC_ECORRUPT,
                       "contact '%.32s' is merged in a loop", id);
}

static void raw_dispose(contact_raw *r)
{
  vc__free(r->fields);
  r->fields = NULL;
}

static int raw_load(contact_raw *r, vc__db *db, const char *tenant_id,
                    const char *id)
{
  vc__stmt *s;
  int rc;

  memset(r, 0, sizeof(*r));
  snprintf(r->id, sizeof(r->id), "%s", id);
  if ((rc = vc__db_query(&s, db, SQL_RAW, "tt", tenant_id, id)) < 0)
    return rc;
  if ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW) {
    r->has_name = !vc__stmt_is_null(s, 0);
    r->has_timezone = !vc__stmt_is_null(s, 1);
    r->has_locale = !vc__stmt_is_null(s, 2);
    snprintf(r->name, sizeof(r->name), "%s",
             r->has_name ? vc__stmt_text(s, 0) : "");
    snprintf(r->timezone, sizeof(r->timezone), "%s",
             r->has_timezone ? vc__stmt_text(s, 1) : "");
    snprintf(r->locale, sizeof(r->locale), "%s",
             r->has_locale ? vc__stmt_text(s, 2) : "");
    r->quiet_start = vc__stmt_is_null(s, 3) ? VC_TENANT_KEEP
                                            : (int)vc__stmt_int64(s, 3);
    r->quiet_end = vc__stmt_is_null(s, 4) ? VC_TENANT_KEEP
                                          : (int)vc__stmt_int64(s, 4);
    r->fields = vc__strdup(vc__stmt_text(s, 5) ? vc__stmt_text(s, 5)
                                               : "{}");
    rc = r->fields != NULL ? 0 : vc_error_set_oom();
  } else if (rc == VC_STORAGE_DONE) {
    rc = not_found(id);
  }
  vc__stmt_done(s);
  return rc;
}

/* Merge `patch` into the JSON object `*fields` (a member whose value is
 * null removes the field; `only_missing` keeps fields already set),
 * within the bounds. */
static int fields_merge(char **fields, const cJSON *patch, int only_missing)
{
  cJSON *cur = vc__cjson_parse(*fields, strlen(*fields), NULL, 0);
  const cJSON *m;
  char *text = NULL;
  int rc = 0;

  if (cur == NULL || !cJSON_IsObject(cur)) {
    cJSON_Delete(cur);
    if ((cur = cJSON_CreateObject()) == NULL)
      return vc_error_set_oom();
  }
  cJSON_ArrayForEach(m, patch) {
    int has = cJSON_GetObjectItemCaseSensitive(cur, m->string) != NULL;
    cJSON *copy;
    if (cJSON_IsNull(m)) {
      if (!only_missing)
        cJSON_DeleteItemFromObjectCaseSensitive(cur, m->string);
      continue;
    }
    if (has && only_missing)
      continue;
    if ((copy = cJSON_Duplicate(m, 1)) == NULL) {
      rc = vc_error_set_oom();
      break;
    }
    if (has)
      cJSON_ReplaceItemInObjectCaseSensitive(cur, m->string, copy);
    else
      cJSON_AddItemToObject(cur, m->string, copy);
  }
  if (rc == 0 && cJSON_GetArraySize(cur) > VC_CONTACT_FIELDS_MAX)
    rc = vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                       "the contact would have more than %d custom fields",
                       VC_CONTACT_FIELDS_MAX);
  if (rc == 0 && (text = cJSON_PrintUnformatted(cur)) == NULL)
    rc = vc_error_set_oom();
  if (rc == 0 && strlen(text) > VC_CONTACT_FIELDS_BYTES)
    rc = vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                       "the contact's custom fields would be longer than "
                       "%d bytes", VC_CONTACT_FIELDS_BYTES);
  if (rc == 0) {
    char *copy = vc__strdup(text);
    if (copy == NULL) {
      rc = vc_error_set_oom();
    } else {
      vc__free(*fields);
      *fields = copy;
    }
  }
  cJSON_free(text);
  cJSON_Delete(cur);
  return rc;
}

/* Apply an input's settings to a row. */
static int raw_apply(contact_raw *r, const vc__contact_input *in)
{
  if (in->name != NULL) {
    r->has_name = in->name[0] != '\0';
    snprintf(r->name, sizeof(r->name), "%s", in->name);
  }
  if (in->timezone != NULL) {
    r->has_timezone = in->timezone[0] != '\0';
    snprintf(r->timezone, sizeof(r->timezone), "%s", in->timezone);
  }
  if (in->locale != NULL) {
    r->has_locale = in->locale[0] != '\0';
    snprintf(r->locale, sizeof(r->locale), "%s", in->locale);
  }
  if (in->quiet_start != VC_CONTACT_KEEP) {
    r->quiet_start = in->quiet_start;
    r->quiet_end = in->quiet_end;
  }
  return in->fields != NULL ? fields_merge(&r->fields, in->fields, 0) : 0;
}

static int raw_write(vc__db *db, const char *tenant_id, const contact_raw *r,
                     int64_t now, int insert)
{
  return vc__db_run(db, insert ? SQL_INSERT : SQL_UPDATE, "ttttt" "iiti",
                    tenant_id, r->id, r->has_name ? r->name : NULL,
                    r->has_timezone ? r->timezone : NULL,
                    r->has_locale ? r->locale : NULL,
                    (int64_t)r->quiet_start, (int64_t)r->quiet_end,
                    r->fields ? r->fields : "{}", now);
}

/* The contact holding an address: 1 and its id, or 0. */
static int holder(char out[VC_ID_SIZE], vc__db *db, const char *tenant_id,
                  int kind, const char *address)
{
  vc__stmt *s;
  int rc;

  if ((rc = vc__db_query(&s, db, SQL_HOLDER, "tit", tenant_id,
                         (int64_t)kind, address)) < 0)
    return rc;
  if ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW) {
    snprintf(out, VC_ID_SIZE, "%s", vc__stmt_text(s, 0));
    rc = 1;
  } else if (rc == VC_STORAGE_DONE) {
    rc = 0;
  }
  vc__stmt_done(s);
  return rc;
}

static int count_of(vc__db *db, const char *sql, const char *tenant_id,
                    const char *id, int64_t *n)
{
  vc__stmt *s;
  int rc;

  if ((rc = vc__db_query(&s, db, sql, "tt", tenant_id, id)) < 0)
    return rc;
  if ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW) {
    *n = vc__stmt_int64(s, 0);
    rc = 0;
  }
  vc__stmt_done(s);
  return rc < 0 ? rc : 0;
}

static int check_counts(vc__db *db, const char *tenant_id, const char *id)
{
  int64_t n = 0;
  int rc;

  if ((rc = count_of(db, SQL_ADDR_COUNT, tenant_id, id, &n)) < 0)
    return rc;
  if (n > VC_CONTACT_ADDRESSES_MAX)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                         "contact %s would have more than %d addresses", id,
                         VC_CONTACT_ADDRESSES_MAX);
  if ((rc = count_of(db, SQL_TAG_COUNT, tenant_id, id, &n)) < 0)
    return rc;
  if (n > VC_CONTACT_TAGS_MAX)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                         "contact %s would have more than %d tags", id,
                         VC_CONTACT_TAGS_MAX);
  return 0;
}

/* Add an address to a contact; VC_ECONFLICT when another holds it. */
static int address_add(vc__db *db, const char *tenant_id, const char *id,
                       int kind, const char *address, int64_t now)
{
  char other[VC_ID_SIZE];
  int rc;

  if ((rc = holder(other, db, tenant_id, kind, address)) < 0)
    return rc;
  if (rc == 1)
    return strcmp(other, id) == 0
             ? 0
             : vc__error_set(VC_ERRCLASS_INVALID, VC_ECONFLICT,
                             "the %s address belongs to contact %s",
                             KIND_NAMES[kind], other);
  return vc__db_run(db, SQL_ADDR_ADD, "titti", tenant_id, (int64_t)kind,
                    address, id, now);
}

static int tags_add(vc__db *db, const char *tenant_id, const char *id,
                    const char *tags)
{
  const char *pos = tags, *tag;
  size_t len;
  int rc = 0;

  while (tags != NULL && rc == 0 && next_tag(&pos, &tag, &len)) {
    char buf[VC_CONTACT_TAG_MAX + 1];
    snprintf(buf, sizeof(buf), "%.*s", (int)len, tag);
    rc = vc__db_run(db, SQL_TAG_ADD, "ttt", tenant_id, buf, id);
  }
  return rc;
}

static int event(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                 const char *type, const char *id)
{
  return vc__event_append(db, ctx, tenant_id, type, id, NULL);
}

int vc__contact_upsert_on(char id_out[VC_ID_SIZE], vc__db *db, vc_ctx *ctx,
                          const char *tenant_id,
                          const vc__contact_input *in,
                          const char *more_tags)
{
  char found[VC_ID_SIZE] = "", other[VC_ID_SIZE];
  int64_t now = vc__now(ctx);
  contact_raw r;
  int rc, created, naddr = 0;

  id_out[0] = '\0';
  for (int k = VC_ADDRESS_PHONE; k <= VC_ADDRESS_WHATSAPP; k++) {
    if (in->addr_state[k] != 1)
      continue;
    naddr++;
    if ((rc = holder(other, db, tenant_id, k, in->addr[k])) < 0)
      return rc;
    if (rc == 0)
      continue;
    if (found[0] != '\0' && strcmp(found, other) != 0)
      return vc__error_set(VC_ERRCLASS_INVALID, VC_ECONFLICT,
                           "the addresses belong to two contacts, %s and "
                           "%s: merge them (vc_contact_merge) first",
                           found, other);
    memcpy(found, other, VC_ID_SIZE);
  }
  if (naddr == 0)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "a contact needs at least one address");
  created = found[0] == '\0';
  if (created) {
    memset(&r, 0, sizeof(r));
    r.quiet_start = r.quiet_end = VC_TENANT_KEEP;
    if ((rc = vc__new_id(ctx, r.id)) < 0)
      return rc;
    if ((r.fields = vc__strdup("{}")) == NULL)
      return vc_error_set_oom();
  } else if ((rc = raw_load(&r, db, tenant_id, found)) < 0) {
    return rc;
  }
  if ((rc = raw_apply(&r, in)) < 0 ||
      (rc = raw_write(db, tenant_id, &r, now, created)) < 0)
    goto out;
  for (int k = VC_ADDRESS_PHONE; rc == 0 && k <= VC_ADDRESS_WHATSAPP; k++)
    if (in->addr_state[k] == 1)
      rc = address_add(db, tenant_id, r.id, k, in->addr[k], now);
  if (rc < 0 || (rc = tags_add(db, tenant_id, r.id, in->tags)) < 0 ||
      (rc = tags_add(db, tenant_id, r.id, more_tags)) < 0 ||
      (rc = check_counts(db, tenant_id, r.id)) < 0 ||
      (rc = event(db, ctx, tenant_id,
                  created ? "contact.created" : "contact.updated", r.id)) < 0)
    goto out;
  memcpy(id_out, r.id, VC_ID_SIZE);
  rc = created;
out:
  raw_dispose(&r);
  return rc;
}

/* ---- public writes ---------------------------------------------------- */

typedef int (*write_fn)(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                        void *arg);

/* Run `fn` in a transaction of its own on a live tenant. */
static int write_tx(vc_tenant *t, write_fn fn, void *arg)
{
  vc_ctx *ctx = vc__tenant_ctx(t);
  const char *tenant_id = vc_tenant_id(t);
  vc__db *db;
  int rc;

  if ((rc = vc__db_acquire(&db, ctx->store)) < 0)
    return rc;
  if ((rc = vc__db_begin(db)) < 0)
    goto release;
  if ((rc = vc__contact_tenant_live(db, tenant_id)) < 0 ||
      (rc = fn(db, ctx, tenant_id, arg)) < 0 ||
      (rc = vc__db_commit(db)) < 0) {
    vc__db_rollback(db);
    goto release;
  }
  vc_ctx_wakeup(ctx);
release:
  vc__db_release(db);
  return rc;
}

typedef struct upsert_arg {
  const vc__contact_input *in;
  char id[VC_ID_SIZE];
} upsert_arg;

static int upsert_write(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                        void *arg)
{
  upsert_arg *a = arg;
  int rc, created;

  if ((created = vc__contact_upsert_on(a->id, db, ctx, tenant_id, a->in,
                                       NULL)) < 0)
    return created;
  rc = vc__audit(db, ctx, tenant_id, "contact.upsert", a->id,
                 created ? "{\"created\":true}" : "{\"created\":false}");
  return rc < 0 ? rc : 0;
}

int vc_contact_upsert(char id_out[VC_ID_SIZE], vc_tenant *t,
                      const vc_contact_spec *spec)
{
  vc__contact_input in;
  upsert_arg a;
  int rc;

  VC_ASSERT_ARG(id_out);
  id_out[0] = '\0';
  VC_ASSERT_ARG(t);
  VC_ASSERT_ARG(spec);
  VC_CHECK_VERSION(spec, VC_CONTACT_SPEC_VERSION, "vc_contact_spec");
  if ((rc = vc__contact_input_from_spec(&in, spec)) == 0) {
    a.in = &in;
    if ((rc = write_tx(t, upsert_write, &a)) == 0)
      memcpy(id_out, a.id, VC_ID_SIZE);
  }
  vc__contact_input_dispose(&in);
  return rc;
}

typedef struct update_arg {
  const char *id;
  const vc__contact_input *in;
} update_arg;

static int update_write(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                        void *arg)
{
  const update_arg *a = arg;
  const vc__contact_input *in = a->in;
  int64_t now = vc__now(ctx);
  char id[VC_ID_SIZE];
  contact_raw r;
  int rc;

  if ((rc = resolve(id, db, tenant_id, a->id)) < 0 ||
      (rc = raw_load(&r, db, tenant_id, id)) < 0)
    return rc;
  if ((rc = raw_apply(&r, in)) < 0 ||
      (rc = raw_write(db, tenant_id, &r, now, 0)) < 0)
    goto out;
  for (int k = VC_ADDRESS_PHONE; rc == 0 && k <= VC_ADDRESS_WHATSAPP; k++) {
    if (in->addr_state[k] == 0)
      continue;
    /* The given address becomes the only one of its kind. */
    if ((rc = vc__db_run(db, SQL_ADDR_DEL_KIND, "tti" "t", tenant_id, id,
                         (int64_t)k,
                         in->addr_state[k] == 1 ? in->addr[k] : "")) == 0 &&
        in->addr_state[k] == 1)
      rc = address_add(db, tenant_id, id, k, in->addr[k], now);
  }
  if (rc == 0 && in->tags != NULL &&
      (rc = vc__db_run(db, SQL_TAG_DEL_ALL, "tt", tenant_id, id)) == 0)
    rc = tags_add(db, tenant_id, id, in->tags);
  if (rc < 0 || (rc = check_counts(db, tenant_id, id)) < 0 ||
      (rc = event(db, ctx, tenant_id, "contact.updated", id)) < 0)
    goto out;
  rc = vc__audit(db, ctx, tenant_id, "contact.update", id, NULL);
out:
  raw_dispose(&r);
  return rc;
}

static int check_id(const char *id, const char *what)
{
  if (!vc__ulid_valid(id))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "%s is not a valid id", what);
  return 0;
}

int vc_contact_update(vc_tenant *t, const char *id,
                      const vc_contact_spec *spec)
{
  vc__contact_input in;
  update_arg a;
  int rc;

  VC_ASSERT_ARG(t);
  VC_ASSERT_ARG(spec);
  VC_CHECK_VERSION(spec, VC_CONTACT_SPEC_VERSION, "vc_contact_spec");
  if ((rc = check_id(id, "contact id")) < 0)
    return rc;
  if ((rc = vc__contact_input_from_spec(&in, spec)) == 0) {
    a.id = id;
    a.in = &in;
    rc = write_tx(t, update_write, &a);
  }
  vc__contact_input_dispose(&in);
  return rc;
}

typedef struct address_arg {
  const char *id;
  int kind, add;
  char address[VC__CONTACT_ADDR_MAX];
} address_arg;

static int address_write(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                         void *arg)
{
  const address_arg *a = arg;
  char id[VC_ID_SIZE], summary[48];
  int rc;

  if ((rc = resolve(id, db, tenant_id, a->id)) < 0)
    return rc;
  if (a->add) {
    if ((rc = address_add(db, tenant_id, id, a->kind, a->address,
                          vc__now(ctx))) < 0 ||
        (rc = check_counts(db, tenant_id, id)) < 0)
      return rc;
  } else {
    if ((rc = vc__db_run(db, SQL_ADDR_DEL, "ttit", tenant_id, id,
                         (int64_t)a->kind, a->address)) < 0)
      return rc;
    if (vc__db_changes(db) == 0)
      return vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                           "contact %s has no such %s address", id,
                           KIND_NAMES[a->kind]);
  }
  snprintf(summary, sizeof(summary), "{\"kind\":\"%s\"}",
           KIND_NAMES[a->kind]);
  if ((rc = event(db, ctx, tenant_id, "contact.updated", id)) < 0)
    return rc;
  return vc__audit(db, ctx, tenant_id,
                   a->add ? "contact.address_add" : "contact.address_remove",
                   id, summary);
}

static int address_change(vc_tenant *t, const char *id, int kind,
                          const char *address, int add)
{
  address_arg a;
  int rc;

  VC_ASSERT_ARG(t);
  if ((rc = check_id(id, "contact id")) < 0 ||
      (rc = vc__contact_normalize(a.address, kind, address)) < 0)
    return rc;
  a.id = id;
  a.kind = kind;
  a.add = add;
  return write_tx(t, address_write, &a);
}

int vc_contact_address_add(vc_tenant *t, const char *id, int kind,
                           const char *address)
{
  return address_change(t, id, kind, address, 1);
}

int vc_contact_address_remove(vc_tenant *t, const char *id, int kind,
                              const char *address)
{
  return address_change(t, id, kind, address, 0);
}

typedef struct tag_arg {
  const char *id;
  char tag[VC_CONTACT_TAG_MAX + 1];
  int add;
} tag_arg;

static int tag_write(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                     void *arg)
{
  const tag_arg *a = arg;
  char id[VC_ID_SIZE];
  int rc;

  if ((rc = resolve(id, db, tenant_id, a->id)) < 0)
    return rc;
  if (a->add) {
    if ((rc = vc__db_run(db, SQL_TAG_ADD, "ttt", tenant_id, a->tag, id)) <
          0 ||
        (rc = check_counts(db, tenant_id, id)) < 0)
      return rc;
  } else if ((rc = vc__db_run(db, SQL_TAG_DEL, "ttt", tenant_id, id,
                              a->tag)) < 0) {
    return rc;
  }
  if ((rc = event(db, ctx, tenant_id, "contact.updated", id)) < 0)
    return rc;
  return vc__audit(db, ctx, tenant_id,
                   a->add ? "contact.tag_add" : "contact.tag_remove", id,
                   NULL);
}

static int tag_change(vc_tenant *t, const char *id, const char *tag,
                      int add)
{
  const char *pos = tag, *start;
  tag_arg a;
  size_t len;
  int rc;

  VC_ASSERT_ARG(t);
  if ((rc = check_id(id, "contact id")) < 0 ||
      (rc = vc__check_text("contact tag", tag, VC_CONTACT_TAG_MAX, 1)) < 0)
    return rc;
  if (!next_tag(&pos, &start, &len) || *pos != '\0')
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "contact tag must be one tag");
  if ((rc = check_tag(start, len, "contact tag")) < 0)
    return rc;
  snprintf(a.tag, sizeof(a.tag), "%.*s", (int)len, start);
  a.id = id;
  a.add = add;
  return write_tx(t, tag_write, &a);
}

int vc_contact_tag_add(vc_tenant *t, const char *id, const char *tag)
{
  return tag_change(t, id, tag, 1);
}

int vc_contact_tag_remove(vc_tenant *t, const char *id, const char *tag)
{
  return tag_change(t, id, tag, 0);
}

/* ---- merge ------------------------------------------------------------ */

static const char SQL_MERGE_ADDR[] =
  "UPDATE vc_contact_address SET contact_id = ?2"
  " WHERE tenant_id = ?1 AND contact_id = ?3";
static const char SQL_MERGE_TAGS[] =
  "INSERT INTO vc_contact_tag (tenant_id, tag, contact_id)"
  " SELECT tenant_id, tag, ?2 FROM vc_contact_tag"
  " WHERE tenant_id = ?1 AND contact_id = ?3 ON CONFLICT DO NOTHING";
static const char SQL_TOMBSTONE[] =
  "UPDATE vc_contact SET merged_into = ?2, name = NULL, timezone = NULL,"
  " locale = NULL, quiet_start_min = NULL, quiet_end_min = NULL,"
  " fields = '{}', updated_at = ?4 WHERE tenant_id = ?1 AND id = ?3";
static const char SQL_REPOINT[] =
  "UPDATE vc_contact SET merged_into = ?2"
  " WHERE tenant_id = ?1 AND merged_into = ?3";

typedef struct merge_arg {
  const char *survivor, *merged;
} merge_arg;

static int merge_write(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                       void *arg)
{
  const merge_arg *a = arg;
  char s_id[VC_ID_SIZE], m_id[VC_ID_SIZE], payload[128];
  int64_t now = vc__now(ctx);
  contact_raw s, m;
  cJSON *mf = NULL;
  int rc;

  if ((rc = resolve(s_id, db, tenant_id, a->survivor)) < 0 ||
      (rc = resolve(m_id, db, tenant_id, a->merged)) < 0)
    return rc;
  if (strcmp(s_id, m_id) == 0)
    return 0; /* merged already */
  if ((rc = raw_load(&s, db, tenant_id, s_id)) < 0)
    return rc;
  if ((rc = raw_load(&m, db, tenant_id, m_id)) < 0) {
    raw_dispose(&s);
    return rc;
  }
  /* The survivor keeps its settings and takes the ones it lacks. */
  if (!s.has_name && m.has_name) {
    s.has_name = 1;
    memcpy(s.name, m.name, sizeof(s.name));
  }
  if (!s.has_timezone && m.has_timezone) {
    s.has_timezone = 1;
    memcpy(s.timezone, m.timezone, sizeof(s.timezone));
  }
  if (!s.has_locale && m.has_locale) {
    s.has_locale = 1;
    memcpy(s.locale, m.locale, sizeof(s.locale));
  }
  if (s.quiet_start == VC_TENANT_KEEP) {
    s.quiet_start = m.quiet_start;
    s.quiet_end = m.quiet_end;
  }
  mf = vc__cjson_parse(m.fields, strlen(m.fields), NULL, 0);
  if (mf != NULL && cJSON_IsObject(mf) &&
      (rc = fields_merge(&s.fields, mf, 1)) < 0)
    goto out;
  snprintf(payload, sizeof(payload),
           "{\"survivor_id\":\"%s\",\"merged_id\":\"%s\"}", s_id, m_id);
  if ((rc = raw_write(db, tenant_id, &s, now, 0)) < 0 ||
      (rc = vc__db_run(db, SQL_MERGE_ADDR, "ttt", tenant_id, s_id, m_id)) <
        0 ||
      (rc = vc__db_run(db, SQL_MERGE_TAGS, "ttt", tenant_id, s_id, m_id)) <
        0 ||
      (rc = vc__db_run(db, SQL_TAG_DEL_ALL, "tt", tenant_id, m_id)) < 0 ||
      (rc = check_counts(db, tenant_id, s_id)) < 0 ||
      (rc = vc__db_run(db, SQL_TOMBSTONE, "ttti", tenant_id, s_id, m_id,
                       now)) < 0 ||
      (rc = vc__db_run(db, SQL_REPOINT, "ttt", tenant_id, s_id, m_id)) < 0 ||
      (rc = vc__event_append(db, ctx, tenant_id, "contact.merged", s_id,
                             payload)) < 0)
    goto out;
  rc = vc__audit(db, ctx, tenant_id, "contact.merge", s_id, payload);
out:
  cJSON_Delete(mf);
  raw_dispose(&s);
  raw_dispose(&m);
  return rc;
}

int vc_contact_merge(vc_tenant *t, const char *survivor_id,
                     const char *merged_id)
{
  merge_arg a;
  int rc;

  VC_ASSERT_ARG(t);
  if ((rc = check_id(survivor_id, "survivor id")) < 0 ||
      (rc = check_id(merged_id, "merged id")) < 0)
    return rc;
  if (strcmp(survivor_id, merged_id) == 0)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "a contact cannot be merged into itself");
  a.survivor = survivor_id;
  a.merged = merged_id;
  return write_tx(t, merge_write, &a);
}

/* ---- handles ---------------------------------------------------------- */

struct vc_contact {
  char id[VC_ID_SIZE];
  char *name, *timezone, *locale, *fields;
  int quiet_start, quiet_end;
  int64_t created_at, updated_at;
  size_t naddr, ntags;
  int addr_kind[VC_CONTACT_ADDRESSES_MAX];
  char *addr[VC_CONTACT_ADDRESSES_MAX];
  char *tags[VC_CONTACT_TAGS_MAX];
};

static const char SQL_HANDLE[] =
  "SELECT id, COALESCE(name, ''), COALESCE(timezone, ''),"
  " COALESCE(locale, ''), quiet_start_min, quiet_end_min, fields,"
  " created_at, updated_at FROM vc_contact"
  " WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_HANDLE_ADDR[] =
  "SELECT addr_kind, address FROM vc_contact_address"
  " WHERE tenant_id = ?1 AND contact_id = ?2"
  " ORDER BY addr_kind, created_at, address LIMIT 16";
static const char SQL_HANDLE_TAGS[] =
  "SELECT tag FROM vc_contact_tag WHERE tenant_id = ?1 AND contact_id = ?2"
  " ORDER BY tag LIMIT 64";

void vc_contact_free(vc_contact *c)
{
  if (c == NULL)
    return;
  vc__free(c->name);
  vc__free(c->timezone);
  vc__free(c->locale);
  vc__free(c->fields);
  for (size_t i = 0; i < c->naddr; i++)
    vc__free(c->addr[i]);
  for (size_t i = 0; i < c->ntags; i++)
    vc__free(c->tags[i]);
  vc__free(c);
}

/* Load a live contact's handle by its (resolved) id. */
static int handle_load(vc_contact **out, vc__db *db, const char *tenant_id,
                       const char *id)
{
  vc_contact *c = vc__calloc(1, sizeof(*c));
  vc__stmt *s;
  int rc;

  *out = NULL;
  if (c == NULL)
    return vc_error_set_oom();
  if ((rc = vc__db_query(&s, db, SQL_HANDLE, "tt", tenant_id, id)) < 0)
    goto fail;
  if ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW) {
    snprintf(c->id, sizeof(c->id), "%s", vc__stmt_text(s, 0));
    c->name = vc__strdup(vc__stmt_text(s, 1));
    c->timezone = vc__strdup(vc__stmt_text(s, 2));
    c->locale = vc__strdup(vc__stmt_text(s, 3));
    c->quiet_start = vc__stmt_is_null(s, 4) ? VC_TENANT_KEEP
                                            : (int)vc__stmt_int64(s, 4);
    c->quiet_end = vc__stmt_is_null(s, 5) ? VC_TENANT_KEEP
                                          : (int)vc__stmt_int64(s, 5);
    c->fields = vc__strdup(vc__stmt_text(s, 6) ? vc__stmt_text(s, 6) : "{}");
    c->created_at = vc__stmt_int64(s, 7);
    c->updated_at = vc__stmt_int64(s, 8);
    rc = (c->name && c->timezone && c->locale && c->fields)
           ? 0 : vc_error_set_oom();
  } else if (rc == VC_STORAGE_DONE) {
    rc = not_found(id);
  }
  vc__stmt_done(s);
  if (rc < 0 ||
      (rc = vc__db_query(&s, db, SQL_HANDLE_ADDR, "tt", tenant_id, id)) < 0)
    goto fail;
  while ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW &&
         c->naddr < VC_CONTACT_ADDRESSES_MAX) {
    if ((c->addr[c->naddr] = vc__strdup(vc__stmt_text(s, 1))) == NULL) {
      rc = vc_error_set_oom();
      break;
    }
    c->addr_kind[c->naddr++] = (int)vc__stmt_int64(s, 0);
  }
  vc__stmt_done(s);
  if (rc < 0 ||
      (rc = vc__db_query(&s, db, SQL_HANDLE_TAGS, "tt", tenant_id, id)) < 0)
    goto fail;
  while ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW &&
         c->ntags < VC_CONTACT_TAGS_MAX) {
    if ((c->tags[c->ntags] = vc__strdup(vc__stmt_text(s, 0))) == NULL) {
      rc = vc_error_set_oom();
      break;
    }
    c->ntags++;
  }
  vc__stmt_done(s);
  if (rc < 0)
    goto fail;
  *out = c;
  return 0;
fail:
  vc_contact_free(c);
  return rc;
}

int vc_contact_lookup(vc_contact **out, vc_tenant *t, const char *id)
{
  char live[VC_ID_SIZE];
  vc__db *db;
  int rc;

  VC_ASSERT_ARG(out);
  *out = NULL;
  VC_ASSERT_ARG(t);
  if ((rc = check_id(id, "contact id")) < 0)
    return rc;
  if ((rc = vc__db_acquire(&db, vc__tenant_ctx(t)->store)) < 0)
    return rc;
  if ((rc = resolve(live, db, vc_tenant_id(t), id)) == 0)
    rc = handle_load(out, db, vc_tenant_id(t), live);
  vc__db_release(db);
  return rc;
}

int vc_contact_find_by_address(vc_contact **out, vc_tenant *t, int kind,
                               const char *address)
{
  char norm[VC__CONTACT_ADDR_MAX], id[VC_ID_SIZE], live[VC_ID_SIZE];
  vc__db *db;
  int rc;

  VC_ASSERT_ARG(out);
  *out = NULL;
  VC_ASSERT_ARG(t);
  if ((rc = vc__contact_normalize(norm, kind, address)) < 0)
    return rc;
  if ((rc = vc__db_acquire(&db, vc__tenant_ctx(t)->store)) < 0)
    return rc;
  if ((rc = holder(id, db, vc_tenant_id(t), kind, norm)) == 0)
    rc = vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                       "no contact has that %s address", KIND_NAMES[kind]);
  if (rc == 1 && (rc = resolve(live, db, vc_tenant_id(t), id)) == 0)
    rc = handle_load(out, db, vc_tenant_id(t), live);
  vc__db_release(db);
  return rc;
}

const char *vc_contact_id(const vc_contact *c) { return c ? c->id : NULL; }
const char *vc_contact_name(const vc_contact *c)
{
  return c ? c->name : NULL;
}
const char *vc_contact_timezone(const vc_contact *c)
{
  return c ? c->timezone : NULL;
}
const char *vc_contact_locale(const vc_contact *c)
{
  return c ? c->locale : NULL;
}
const char *vc_contact_fields_json(const vc_contact *c)
{
  return c ? c->fields : NULL;
}
int64_t vc_contact_created_at(const vc_contact *c)
{
  return c ? c->created_at : 0;
}
int64_t vc_contact_updated_at(const vc_contact *c)
{
  return c ? c->updated_at : 0;
}

int vc_contact_quiet_hours(const vc_contact *c, int *start_min, int *end_min)
{
  VC_ASSERT_ARG(c);
  if (start_min != NULL)
    *start_min = c->quiet_start;
  if (end_min != NULL)
    *end_min = c->quiet_end;
  return 0;
}

const char *vc_contact_address(const vc_contact *c, int kind)
{
  if (c == NULL)
    return NULL;
  for (size_t i = 0; i < c->naddr; i++)
    if (c->addr_kind[i] == kind)
      return c->addr[i];
  return "";
}

size_t vc_contact_address_count(const vc_contact *c)
{
  return c ? c->naddr : 0;
}

const char *vc_contact_address_at(const vc_contact *c, size_t i, int *kind)
{
  if (c == NULL || i >= c->naddr)
    return NULL;
  if (kind != NULL)
    *kind = c->addr_kind[i];
  return c->addr[i];
}

size_t vc_contact_tag_count(const vc_contact *c) { return c ? c->ntags : 0; }

const char *vc_contact_tag_at(const vc_contact *c, size_t i)
{
  return c != NULL && i < c->ntags ? c->tags[i] : NULL;
}

/* ---- list ------------------------------------------------------------- */

/* Live contacts after the cursor, every set condition holding; the tag
 * form walks the tag's keys in contact id order. */
#define LIST_WHERE \
  " c.tenant_id = ?1 AND c.id > ?2 AND c.merged_into IS NULL" \
  " AND c.erased_at IS NULL" \
  " AND (?4 = 0 OR EXISTS (SELECT 1 FROM vc_contact_address a" \
  "   WHERE a.tenant_id = ?1 AND a.contact_id = c.id" \
  "   AND a.addr_kind = ?4))" \
  " AND (?5 = '' OR lower(substr(COALESCE(c.name, ''), 1, length(?5)))" \
  "   = lower(?5))" \
  " AND (?6 = 0 OR c.updated_at >= ?6)"
static const char SQL_LIST[] =
  "SELECT c.id FROM vc_contact c WHERE" LIST_WHERE
  " AND ?3 = '' ORDER BY c.id LIMIT 50";
static const char SQL_LIST_TAG[] =
  "SELECT c.id FROM vc_contact_tag g JOIN vc_contact c"
  " ON c.tenant_id = g.tenant_id AND c.id = g.contact_id"
  " WHERE g.tenant_id = ?1 AND g.tag = ?3 AND g.contact_id > ?2 AND"
  LIST_WHERE " ORDER BY g.contact_id LIMIT 50";

typedef struct contact_iter {
  vc_iter base;
  vc_store *store;
  char tenant_id[VC_ID_SIZE];
  char tag[VC_CONTACT_TAG_MAX + 1];
  char name_prefix[VC_CONTACT_NAME_MAX + 1];
  int kind, exhausted;
  int64_t updated_since;
  vc_contact *rows[VC__PAGE];
  size_t n, next;
} contact_iter;

static void iter_clear(contact_iter *it)
{
  for (size_t i = it->next; i < it->n; i++)
    vc_contact_free(it->rows[i]);
  it->n = it->next = 0;
}

static void iter_free(vc_iter *base)
{
  iter_clear((contact_iter *)base);
}

static const vc__iter_ops CONTACT_ITER = { "contact", iter_free };

static int iter_fetch(contact_iter *it)
{
  char ids[VC__PAGE][VC_ID_SIZE];
  size_t nids = 0;
  vc__db *db;
  vc__stmt *s;
  int rc;

  iter_clear(it);
  if ((rc = vc__db_acquire(&db, it->store)) < 0)
    return rc;
  rc = vc__db_query(&s, db, it->tag[0] ? SQL_LIST_TAG : SQL_LIST, "ttti" "ti",
                    it->tenant_id, it->base.cursor, it->tag,
                    (int64_t)it->kind, it->name_prefix, it->updated_since);
  if (rc == 0) {
    while ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW && nids < VC__PAGE)
      snprintf(ids[nids++], VC_ID_SIZE, "%s", vc__stmt_text(s, 0));
    vc__stmt_done(s);
  }
  for (size_t i = 0; rc >= 0 && i < nids; i++) {
    if ((rc = handle_load(&it->rows[it->n], db, it->tenant_id, ids[i])) < 0)
      break;
    it->n++;
  }
  vc__db_release(db);
  if (rc >= 0 && nids < VC__PAGE)
    it->exhausted = 1;
  return rc < 0 ? rc : 0;
}

int vc_contact_list(vc_iter **out, vc_tenant *t, const vc_contact_filter *f)
{
  contact_iter *it;
  int rc;

  VC_ASSERT_ARG(out);
  *out = NULL;
  VC_ASSERT_ARG(t);
  VC_CHECK_VERSION(f, VC_CONTACT_FILTER_VERSION, "vc_contact_filter");
  if (f != NULL) {
    if (f->after != NULL && f->after[0] != '\0' && !vc__ulid_valid(f->after))
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "cursor is not a contact list cursor");
    if (f->tag != NULL &&
        ((rc = vc__check_text("tag filter", f->tag, VC_CONTACT_TAG_MAX,
                              1)) < 0 ||
         (rc = check_tag(f->tag, strlen(f->tag), "tag filter")) < 0))
      return rc;
    if (f->address_kind < 0 || f->address_kind > VC_ADDRESS_WHATSAPP)
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "unknown address kind %d", f->address_kind);
    if ((rc = vc__check_text("name prefix", f->name_prefix,
                             VC_CONTACT_NAME_MAX, 0)) < 0)
      return rc;
    if (f->updated_since < 0)
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "updated_since is negative");
  }
  if ((it = vc__calloc(1, sizeof(*it))) == NULL)
    return vc_error_set_oom();
  it->base.ops = &CONTACT_ITER;
  it->store = vc__tenant_ctx(t)->store;
  snprintf(it->tenant_id, sizeof(it->tenant_id), "%s", vc_tenant_id(t));
  if (f != NULL) {
    snprintf(it->base.cursor, sizeof(it->base.cursor), "%s",
             f->after ? f->after : "");
    snprintf(it->tag, sizeof(it->tag), "%s", f->tag ? f->tag : "");
    snprintf(it->name_prefix, sizeof(it->name_prefix), "%s",
             f->name_prefix ? f->name_prefix : "");
    it->kind = f->address_kind;
    it->updated_since = f->updated_since;
  }
  *out = &it->base;
  return 0;
}

int vc_contact_next(vc_contact **out, vc_iter *base)
{
  contact_iter *it = (contact_iter *)base;
  int rc;

  VC_ASSERT_ARG(out);
  *out = NULL;
  if ((rc = vc__iter_check(base, &CONTACT_ITER)) < 0)
    return rc;
  if (it->next >= it->n) {
    if (it->exhausted)
      return VC_ITEROVER;
    if ((rc = iter_fetch(it)) < 0)
      return rc;
    if (it->n == 0)
      return VC_ITEROVER;
  }
  *out = it->rows[it->next++];
  snprintf(base->cursor, sizeof(base->cursor), "%s", (*out)->id);
  return 0;
}

/* ---- what the library asks of contacts (contact.h) -------------------- */

/* These run on the caller's connection (vc_message_send holds one while
 * it checks the recipient). */
static int need_db(const vc__db *db)
{
  return db != NULL ? 0
                    : vc__error_set(VC_ERRCLASS_INTERNAL, VC_EINVALID,
                                    "a contact lookup needs a connection");
}

int vc__contact_resolve(char id_out[VC_ID_SIZE], vc__db *db,
                        const char *tenant_id, const char *contact_id)
{
  int rc;

  id_out[0] = '\0';
  if ((rc = need_db(db)) < 0 ||
      (rc = resolve(id_out, db, tenant_id, contact_id)) < 0)
    id_out[0] = '\0';
  return rc;
}

/* One primary-key lookup per candidate kind, best kind first. (A single
 * statement over the candidate pairs needs IN lists, which SQLite builds
 * as temporary tables on every run: most of a send's cost.) */
static const char SQL_FOR_RECIPIENT[] =
  "SELECT a.contact_id FROM vc_contact_address a JOIN vc_contact c"
  " ON c.tenant_id = a.tenant_id AND c.id = a.contact_id"
  " WHERE a.tenant_id = ?1 AND a.addr_kind = ?2 AND a.address = ?3"
  " AND c.erased_at IS NULL";

int vc__contact_for_recipient(char id_out[VC_ID_SIZE], vc__db *db,
                              const char *tenant_id, int channel_kind,
                              const char *to)
{
  /* The address kinds a recipient of the channel kind may be, best
   * first; 0 = unused. */
  int kind[3] = { 0, 0, 0 };
  const char *addr[3] = { "", "", "" };
  char phone[VC__ADDR_PHONE_MAX + 1];
  char found[VC_ID_SIZE];
  vc__stmt *s;
  int rc;

  id_out[0] = '\0';
  if ((rc = need_db(db)) < 0)
    return rc;
  if (to == NULL || to[0] == '\0')
    return 0;
  switch (channel_kind) {
  case VC_CHANNEL_EMAIL:
    kind[0] = VC_ADDRESS_EMAIL;
    addr[0] = to;
    break;
  case VC_CHANNEL_SMS:
  case VC_CHANNEL_VOICE:
    kind[0] = VC_ADDRESS_PHONE;
    addr[0] = to;
    break;
  case VC_CHANNEL_CHAT:
    /* A chat recipient is a WhatsApp number or a Telegram chat id; a
     * WhatsApp number is also the contact's phone. */
    kind[0] = VC_ADDRESS_WHATSAPP;
    addr[0] = to;
    kind[1] = VC_ADDRESS_TELEGRAM;
    addr[1] = to;
    if (to[0] >= '1' && to[0] <= '9' && strlen(to) < sizeof(phone) - 1 &&
        vc__all_of(to, strlen(to), vc__is_digit)) {
      snprintf(phone, sizeof(phone), "+%s", to);
      kind[2] = VC_ADDRESS_PHONE;
      addr[2] = phone;
    }
    break;
  default:
    return 0;
  }
  rc = 0;
  for (int i = 0; i < 3 && kind[i] != 0 && rc == 0; i++) {
    if ((rc = vc__db_query(&s, db, SQL_FOR_RECIPIENT, "tit", tenant_id,
                           (int64_t)kind[i], addr[i])) < 0)
      return rc;
    if ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW) {
      snprintf(found, sizeof(found), "%s", vc__stmt_text(s, 0));
      rc = 1;
    } else if (rc == VC_STORAGE_DONE) {
      rc = 0;
    }
    vc__stmt_done(s);
  }
  /* Addresses move to the survivor on a merge; resolve all the same. */
  if (rc == 1 && (rc = resolve(id_out, db, tenant_id, found)) == 0)
    rc = 1;
  if (rc == VC_ENOTFOUND)
    rc = 0;
  return rc;
}

int vc__contact_ensure(char id_out[VC_ID_SIZE], vc__db *db, vc_ctx *ctx,
                       const char *tenant_id, int addr_kind,
                       const char *address)
{
  vc__contact_input in;
  char norm[VC__CONTACT_ADDR_MAX];
  int rc;

  id_out[0] = '\0';
  if ((rc = need_db(db)) < 0 ||
      (rc = vc__contact_normalize(norm, addr_kind, address)) < 0)
    return rc;
  vc__contact_input_init(&in);
  in.addr_state[addr_kind] = 1;
  memcpy(in.addr[addr_kind], norm, sizeof(norm));
  /* A savepoint: a failure leaves the caller's transaction as it was. */
  if ((rc = vc__db_begin(db)) < 0)
    return rc;
  if ((rc = vc__contact_upsert_on(id_out, db, ctx, tenant_id, &in,
                                  NULL)) < 0) {
    vc__db_rollback(db);
    return rc;
  }
  {
    int crc = vc__db_commit(db);
    if (crc < 0) {
      vc__db_rollback(db);
      id_out[0] = '\0';
      return crc;
    }
  }
  return rc;
}

int vc__contact_prefs_get(vc__contact_prefs *out, vc__db *db,
                          const char *tenant_id, const char *contact_id)
{
  char id[VC_ID_SIZE];
  contact_raw r;
  int rc;

  out->timezone[0] = out->locale[0] = '\0';
  out->quiet_start_min = out->quiet_end_min = VC_TENANT_KEEP;
  if (contact_id == NULL || contact_id[0] == '\0')
    return 0;
  if ((rc = need_db(db)) < 0 ||
      (rc = resolve(id, db, tenant_id, contact_id)) < 0 ||
      (rc = raw_load(&r, db, tenant_id, id)) < 0)
    return rc;
  snprintf(out->timezone, sizeof(out->timezone), "%s", r.timezone);
  snprintf(out->locale, sizeof(out->locale), "%s", r.locale);
  out->quiet_start_min = r.quiet_start;
  out->quiet_end_min = r.quiet_end;
  raw_dispose(&r);
  return 0;
}

static const char SQL_ADDRESS_OF[] =
  "SELECT address FROM vc_contact_address WHERE tenant_id = ?1"
  " AND contact_id = ?2 AND addr_kind = ?3 ORDER BY created_at, address"
  " LIMIT 1";

int vc__contact_address(char *out, size_t size, vc__db *db,
                        const char *tenant_id, const char *contact_id,
                        int addr_kind)
{
  char id[VC_ID_SIZE];
  vc__stmt *s;
  int rc;

  if (size > 0)
    out[0] = '\0';
  if ((rc = need_db(db)) < 0 ||
      (rc = resolve(id, db, tenant_id, contact_id)) < 0)
    return rc;
  if ((rc = vc__db_query(&s, db, SQL_ADDRESS_OF, "tti", tenant_id, id,
                         (int64_t)addr_kind)) < 0)
    return rc;
  if ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW) {
    const char *a = vc__stmt_text(s, 0);
    if (strlen(a) >= size)
      rc = vc__error_set(VC_ERRCLASS_INTERNAL, VC_ETOOBIG,
                         "address buffer too small");
    else {
      memcpy(out, a, strlen(a) + 1);
      rc = 1;
    }
  } else if (rc == VC_STORAGE_DONE) {
    rc = 0;
  }
  vc__stmt_done(s);
  return rc;
}

/* ---- struct initialisers --------------------------------------------- */

int vc_contact_spec_init(vc_contact_spec *s, unsigned int version)
{
  VC_INIT_STRUCT(s, version, VC_CONTACT_SPEC_VERSION, vc_contact_spec,
                 VC_CONTACT_SPEC_INIT);
}

int vc_contact_filter_init(vc_contact_filter *f, unsigned int version)
{
  VC_INIT_STRUCT(f, version, VC_CONTACT_FILTER_VERSION, vc_contact_filter,
                 VC_CONTACT_FILTER_INIT);
}
