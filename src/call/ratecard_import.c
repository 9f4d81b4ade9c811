/*
 * Rate card entries from outside: the caller's structs, CSV and JSON
 * text. Everything is checked before anything is stored, and a bad card
 * is refused whole with the line or entry named. Messages never quote
 * the input (only values already checked to be digits).
 */
#include "core/common.h"
#include "core/json.h"
#include "core/text.h"
#include "ratecard.h"

#include <stdio.h>
#include <stdlib.h>

#define FIELD_MAX 64
#define JSON_DEPTH 4

static const char *const CSV_HEADER[] = {
  "prefix", "rate_per_min", "initial_s", "subsequent_s", "connection_fee",
  "currency", "message_price"
};
/* The seventh column (message_price) is optional. */
#define NFIELDS 7
#define NFIELDS_V1 6

void vc__rc_rows_free(vc__rc_rows *r)
{
  vc__free(r->row);
  r->row = NULL;
  r->n = r->cap = 0;
}

void vc__rc_rows_fix(vc__rc_rows *r)
{
  for (size_t i = 0; i < r->n; i++) {
    r->row[i].pub.prefix = r->row[i].prefix;
    r->row[i].pub.currency = r->row[i].currency;
  }
}

int vc__currency_valid(const char *s)
{
  return s != NULL && strlen(s) == 3 && s[0] >= 'A' && s[0] <= 'Z' &&
         s[1] >= 'A' && s[1] <= 'Z' && s[2] >= 'A' && s[2] <= 'Z';
}

static int bad(const vc__rc_rows *r, size_t number, const char *what)
{
  return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                       "rate card %s %zu: %s", r->unit, number, what);
}

/* A new row at the end; VC_ETOOBIG past the bound. */
static int add_row(vc__rc_row **out, vc__rc_rows *r, size_t number)
{
  if (r->n >= VC_RATECARD_MAX_ENTRIES)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                         "rate card %s %zu: more than %d entries", r->unit,
                         number, VC_RATECARD_MAX_ENTRIES);
  if (r->n == r->cap) {
    size_t cap = r->cap ? r->cap * 2 : 16;
    vc__rc_row *p;
    if (cap > VC_RATECARD_MAX_ENTRIES)
      cap = VC_RATECARD_MAX_ENTRIES;
    if ((p = vc__realloc(r->row, cap * sizeof(*p))) == NULL)
      return vc_error_set_oom();
    r->row = p;
    r->cap = cap;
  }
  *out = &r->row[r->n++];
  memset(*out, 0, sizeof(**out));
  (*out)->pub.version = VC_RATECARD_ENTRY_VERSION;
  (*out)->number = number;
  return 0;
}

/* Check a row's values (strings already copied into it). */
static int check_row(const vc__rc_rows *r, const vc__rc_row *row)
{
  const vc_ratecard_entry *e = &row->pub;

  for (const char *p = row->prefix; *p; p++)
    if (!vc__is_digit((unsigned char)*p))
      return bad(r, row->number, "prefix must be digits (E.164 without "
                 "'+'), or empty for the default");
  if (e->rate_per_min_micros < 0 || e->connection_fee_micros < 0 ||
      e->message_micros < 0)
    return bad(r, row->number, "amounts must not be negative");
  if (e->rate_per_min_micros > VC_RATECARD_AMOUNT_MAX ||
      e->connection_fee_micros > VC_RATECARD_AMOUNT_MAX ||
      e->message_micros > VC_RATECARD_AMOUNT_MAX)
    return bad(r, row->number, "amount is larger than 10^15 micro-units");
  if (e->initial_s < 1 || e->subsequent_s < 1)
    return bad(r, row->number, "billing pulses must be at least 1 second");
  if (e->initial_s > VC_RATECARD_PULSE_MAX ||
      e->subsequent_s > VC_RATECARD_PULSE_MAX)
    return bad(r, row->number, "billing pulse is longer than 3600 s");
  if (!vc__currency_valid(row->currency))
    return bad(r, row->number,
               "currency must be an ISO 4217 code (three capitals)");
  return 0;
}

static int by_prefix(const void *a, const void *b)
{
  const vc__rc_row *x = *(const vc__rc_row *const *)a;
  const vc__rc_row *y = *(const vc__rc_row *const *)b;
  int c = strcmp(x->prefix, y->prefix);

  if (c != 0)
    return c;
  return x->number < y->number ? -1 : x->number > y->number;
}

/* No prefix twice: the later one is named. */
static int check_unique(const vc__rc_rows *r)
{
  const vc__rc_row **sorted;
  const vc__rc_row *dup = NULL, *first = NULL;

  if (r->n < 2)
    return 0;
  if ((sorted = vc__calloc(r->n, sizeof(*sorted))) == NULL)
    return vc_error_set_oom();
  for (size_t i = 0; i < r->n; i++)
    sorted[i] = &r->row[i];
  qsort(sorted, r->n, sizeof(*sorted), by_prefix);
  for (size_t i = 1; i < r->n; i++)
    if (strcmp(sorted[i - 1]->prefix, sorted[i]->prefix) == 0 &&
        (dup == NULL || sorted[i]->number < dup->number)) {
      dup = sorted[i];
      first = sorted[i - 1];
    }
  vc__free(sorted);
  if (dup == NULL)
    return 0;
  return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                       "rate card %s %zu: prefix '%s' is already at %s %zu",
                       r->unit, dup->number, dup->prefix, r->unit,
                       first->number);
}

static int finish(vc__rc_rows *out, int rc)
{
  if (rc == 0)
    rc = check_unique(out);
  if (rc < 0)
    vc__rc_rows_free(out);
  else
    vc__rc_rows_fix(out);
  return rc;
}

/* A caller's entry in the latest layout: members its version does not
 * have are zero. */
size_t vc__ratecard_entry_size(unsigned int version)
{
  return version >= 2 ? sizeof(vc_ratecard_entry)
                      : offsetof(vc_ratecard_entry, message_micros);
}

int vc__ratecard_check(vc__rc_rows *out, const vc_ratecard_entry *entries,
                       size_t n)
{
  size_t stride = 0;
  int rc = 0;

  memset(out, 0, sizeof(*out));
  out->unit = "entry";
  if (n > VC_RATECARD_MAX_ENTRIES)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                         "a rate card has at most %d entries",
                         VC_RATECARD_MAX_ENTRIES);
  if (n > 0 && entries == NULL)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "nentries is set but entries is NULL");
  /* An array of a caller built against an older header has elements
   * of that version's size: the first element's version gives it, and
   * every element must have that version. */
  if (n > 0 && entries[0].version > 0 &&
      entries[0].version <= VC_RATECARD_ENTRY_VERSION)
    stride = vc__ratecard_entry_size(entries[0].version);
  for (size_t i = 0; rc == 0 && i < n; i++) {
    vc_ratecard_entry latest;
    const vc_ratecard_entry *ent = &latest;
    vc__rc_row *row;
    const vc_ratecard_entry *in = stride == 0 ? entries :
      (const vc_ratecard_entry *)((const char *)entries + i * stride);
    if (in->version == 0 || in->version > VC_RATECARD_ENTRY_VERSION) {
      rc = vc__error_set(VC_ERRCLASS_INVALID, VC_EVERSION,
                         "invalid version %u on vc_ratecard_entry %zu",
                         in->version, i + 1);
      break;
    }
    if (in->version != entries[0].version) {
      rc = vc__error_set(VC_ERRCLASS_INVALID, VC_EVERSION,
                         "vc_ratecard_entry %zu has version %u, not %u",
                         i + 1, in->version, entries[0].version);
      break;
    }
    memset(&latest, 0, sizeof(latest));
    memcpy(&latest, in, stride);
    if ((rc = add_row(&row, out, i + 1)) < 0)
      break;
    if (ent->prefix == NULL ||
        strnlen(ent->prefix, VC_RATECARD_PREFIX_MAX + 1) >
          VC_RATECARD_PREFIX_MAX) {
      rc = bad(out, i + 1, ent->prefix == NULL ? "prefix is NULL (use \"\""
               " for the default)" : "prefix is longer than 15 digits");
      break;
    }
    snprintf(row->prefix, sizeof(row->prefix), "%s", ent->prefix);
    if (ent->currency != NULL && strnlen(ent->currency, 4) == 3)
      memcpy(row->currency, ent->currency, 4);
    row->pub.rate_per_min_micros = ent->rate_per_min_micros;
    row->pub.initial_s = ent->initial_s;
    row->pub.subsequent_s = ent->subsequent_s;
    row->pub.connection_fee_micros = ent->connection_fee_micros;
    row->pub.message_micros = ent->message_micros;
    rc = check_row(out, row);
  }
  return finish(out, rc);
}

/* ---- CSV ------------------------------------------------------------ */

/* A non-negative decimal integer of at most 18 digits (so it fits before
 * the range check); -1 when empty or not digits, -2 when negative, -3
 * when too long. */
static int64_t parse_int(const char *s)
{
  int64_t v = 0;
  size_t n = 0;

  if (*s == '-')
    return -2;
  if (*s == '\0')
    return -1;
  for (; *s; s++, n++) {
    if (!vc__is_digit((unsigned char)*s))
      return -1;
    if (n >= 18)
      return -3;
    v = v * 10 + (*s - '0');
  }
  return v;
}

/* Parse field `name` (a CSV amount or pulse) into *v. */
static int csv_number(const vc__rc_rows *r, size_t line, const char *name,
                      const char *field, int64_t max, int64_t *v)
{
  char msg[96];
  int64_t x = parse_int(field);

  if (x == -1)
    snprintf(msg, sizeof(msg), "%s must be a whole number", name);
  else if (x == -2)
    snprintf(msg, sizeof(msg), "%s must not be negative", name);
  else if (x == -3 || x > max)
    snprintf(msg, sizeof(msg), "%s is larger than %lld", name,
             (long long)max);
  else {
    *v = x;
    return 0;
  }
  return bad(r, line, msg);
}

typedef struct csv_reader {
  const char *p, *end;
  size_t line;                /* the line the reader is on, from 1 */
} csv_reader;

static int is_blank(char c) { return c == ' ' || c == '\t'; }

/*
 * Read one record into fields[] (each NUL-terminated, trimmed of blanks
 * when unquoted). *nf receives the field count, 0 for an empty line.
 * Returns 0, or 1 at the end of the text, or an error.
 */
static int csv_record(csv_reader *c, const vc__rc_rows *r,
                      char fields[NFIELDS + 1][FIELD_MAX + 1], size_t *nf)
{
  size_t start = c->line;

  *nf = 0;
  if (c->p >= c->end)
    return 1;
  if (*c->p == '\n' || (*c->p == '\r' && c->p + 1 < c->end &&
                        c->p[1] == '\n')) {
    c->p += *c->p == '\r' ? 2 : 1;
    c->line++;
    return 0;
  }
  for (;;) {
    char *f;
    size_t len = 0;

    if (*nf > NFIELDS)
      return bad(r, start, "more than 7 fields");
    f = fields[(*nf)++];
    while (c->p < c->end && is_blank(*c->p))
      c->p++;
    if (c->p < c->end && *c->p == '"') {
      c->p++;
      for (;;) {
        if (c->p >= c->end)
          return bad(r, start, "a quoted field is not closed");
        if (*c->p == '"') {
          if (c->p + 1 < c->end && c->p[1] == '"')
            c->p++;
          else
            break;
        }
        if (*c->p == '\n')
          c->line++;
        if (len >= FIELD_MAX)
          return bad(r, start, "a field is longer than 64 bytes");
        f[len++] = *c->p++;
      }
      c->p++; /* the closing quote */
      while (c->p < c->end && is_blank(*c->p))
        c->p++;
      if (c->p < c->end && *c->p != ',' && *c->p != '\n' && *c->p != '\r')
        return bad(r, start, "text after a closing quote");
    } else {
      while (c->p < c->end && *c->p != ',' && *c->p != '\n' &&
             !(*c->p == '\r' && c->p + 1 < c->end && c->p[1] == '\n')) {
        if (*c->p == '"')
          return bad(r, start, "a quote inside an unquoted field");
        if (len >= FIELD_MAX)
          return bad(r, start, "a field is longer than 64 bytes");
        f[len++] = *c->p++;
      }
      while (len > 0 && is_blank(f[len - 1]))
        len--;
    }
    f[len] = '\0';
    if (c->p >= c->end)
      return 0;
    if (*c->p == ',') {
      c->p++;
      continue;
    }
    if (*c->p == '\r') {
      if (c->p + 1 >= c->end || c->p[1] != '\n')
        return bad(r, start, "a carriage return without a line feed");
      c->p++;
    }
    c->p++; /* '\n' */
    c->line++;
    return 0;
  }
}

static int ascii_ieq(const char *a, const char *b)
{
  for (; *a && *b; a++, b++) {
    char x = *a >= 'A' && *a <= 'Z' ? (char)(*a + 32) : *a;
    if (x != *b)
      return 0;
  }
  return *a == *b;
}

static int csv_row(vc__rc_rows *out, size_t line,
                   char fields[NFIELDS + 1][FIELD_MAX + 1], size_t nf)
{
  vc__rc_row *row;
  int64_t rate, initial, subsequent, fee, message = 0;
  int rc;

  if ((rc = add_row(&row, out, line)) < 0)
    return rc;
  if (strlen(fields[0]) > VC_RATECARD_PREFIX_MAX)
    return bad(out, line, "prefix is longer than 15 digits");
  if (strlen(fields[5]) > 3)
    return bad(out, line,
               "currency must be an ISO 4217 code (three capitals)");
  if ((rc = csv_number(out, line, "rate_per_min", fields[1],
                       VC_RATECARD_AMOUNT_MAX, &rate)) < 0 ||
      (rc = csv_number(out, line, "initial_s", fields[2],
                       VC_RATECARD_PULSE_MAX, &initial)) < 0 ||
      (rc = csv_number(out, line, "subsequent_s", fields[3],
                       VC_RATECARD_PULSE_MAX, &subsequent)) < 0 ||
      (rc = csv_number(out, line, "connection_fee", fields[4],
                       VC_RATECARD_AMOUNT_MAX, &fee)) < 0 ||
      (nf > NFIELDS_V1 && fields[6][0] != '\0' &&
       (rc = csv_number(out, line, "message_price", fields[6],
                        VC_RATECARD_AMOUNT_MAX, &message)) < 0))
    return rc;
  memcpy(row->prefix, fields[0], strlen(fields[0]) + 1);
  memcpy(row->currency, fields[5], strlen(fields[5]) + 1);
  row->pub.rate_per_min_micros = rate;
  row->pub.initial_s = (int)initial;
  row->pub.subsequent_s = (int)subsequent;
  row->pub.connection_fee_micros = fee;
  row->pub.message_micros = message;
  return check_row(out, row);
}

static int parse_csv(vc__rc_rows *out, const char *text, size_t len)
{
  char fields[NFIELDS + 1][FIELD_MAX + 1];
  csv_reader c = { text, text + len, 1 };
  int rc;
  size_t nf, line, header = 0; /* the header's field count */

  /* A byte-order mark, as spreadsheets write it. */
  if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
    c.p += 3;
  for (;;) {
    line = c.line;
    if ((rc = csv_record(&c, out, fields, &nf)) < 0)
      return rc;
    if (rc == 1)
      break;
    if (nf == 0)
      continue;
    if (header == 0) {
      if (nf != NFIELDS && nf != NFIELDS_V1) {
        char msg[64];
        snprintf(msg, sizeof(msg), "expected 6 or 7 fields, found %zu", nf);
        return bad(out, line, msg);
      }
      for (size_t i = 0; i < nf; i++)
        if (!ascii_ieq(fields[i], CSV_HEADER[i]))
          return bad(out, line, "the header must be prefix,rate_per_min,"
                     "initial_s,subsequent_s,connection_fee,currency"
                     "[,message_price]");
      header = nf;
      continue;
    }
    if (nf != header) {
      char msg[64];
      snprintf(msg, sizeof(msg), "expected %zu fields, found %zu", header,
               nf);
      return bad(out, line, msg);
    }
    if ((rc = csv_row(out, line, fields, nf)) < 0)
      return rc;
  }
  if (!header)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "rate card CSV has no header line");
  return 0;
}

/* ---- JSON ----------------------------------------------------------- */

static int json_number(const vc__rc_rows *r, size_t n, const cJSON *item,
                       const char *name, int64_t max, int64_t *v)
{
  char msg[96];
  double d;

  if (!cJSON_IsNumber(item)) {
    snprintf(msg, sizeof(msg), "%s must be a whole number", name);
    return bad(r, n, msg);
  }
  d = item->valuedouble;
  if (d < 0) {
    snprintf(msg, sizeof(msg), "%s must not be negative", name);
    return bad(r, n, msg);
  }
  if (!(d <= (double)max)) {
    snprintf(msg, sizeof(msg), "%s is larger than %lld", name,
             (long long)max);
    return bad(r, n, msg);
  }
  *v = (int64_t)d;
  if ((double)*v != d) {
    snprintf(msg, sizeof(msg), "%s must be a whole number", name);
    return bad(r, n, msg);
  }
  return 0;
}

static int json_string(const vc__rc_rows *r, size_t n, const cJSON *item,
                       const char *name, char *dst, size_t cap)
{
  char msg[96];

  if (!cJSON_IsString(item) || item->valuestring == NULL) {
    snprintf(msg, sizeof(msg), "%s must be a string", name);
    return bad(r, n, msg);
  }
  if (strlen(item->valuestring) >= cap) {
    snprintf(msg, sizeof(msg), "%s is too long", name);
    return bad(r, n, msg);
  }
  memcpy(dst, item->valuestring, strlen(item->valuestring) + 1);
  return 0;
}

static int json_entry(vc__rc_rows *out, size_t n, const cJSON *o)
{
  int64_t rate = -1, initial = -1, subsequent = -1, fee = 0, message = -1;
  int have_prefix = 0, have_currency = 0, rc;
  const cJSON *item;
  vc__rc_row *row;

  if ((rc = add_row(&row, out, n)) < 0)
    return rc;
  if (!cJSON_IsObject(o))
    return bad(out, n, "an entry must be an object");
  cJSON_ArrayForEach(item, o) {
    const char *k = item->string ? item->string : "";
    if (strcmp(k, "prefix") == 0) {
      rc = json_string(out, n, item, "prefix", row->prefix,
                       sizeof(row->prefix));
      have_prefix = 1;
    } else if (strcmp(k, "currency") == 0) {
      rc = json_string(out, n, item, "currency", row->currency,
                       sizeof(row->currency));
      have_currency = 1;
    } else if (strcmp(k, "rate_per_min") == 0) {
      rc = json_number(out, n, item, k, VC_RATECARD_AMOUNT_MAX, &rate);
    } else if (strcmp(k, "initial_s") == 0) {
      rc = json_number(out, n, item, k, VC_RATECARD_PULSE_MAX, &initial);
    } else if (strcmp(k, "subsequent_s") == 0) {
      rc = json_number(out, n, item, k, VC_RATECARD_PULSE_MAX,
                       &subsequent);
    } else if (strcmp(k, "connection_fee") == 0) {
      rc = json_number(out, n, item, k, VC_RATECARD_AMOUNT_MAX, &fee);
    } else if (strcmp(k, "message_price") == 0) {
      rc = json_number(out, n, item, k, VC_RATECARD_AMOUNT_MAX, &message);
    } else {
      char name[68], msg[96];
      snprintf(msg, sizeof(msg), "unknown field '%s'",
               vc__json_key_name(name, item->string));
      return bad(out, n, msg);
    }
    if (rc < 0)
      return rc;
  }
  /* An entry that prices messages only needs no call rates. */
  if (message >= 0) {
    rate = rate < 0 ? 0 : rate;
    initial = initial < 0 ? 60 : initial;
    subsequent = subsequent < 0 ? 60 : subsequent;
  }
  if (!have_prefix || !have_currency || rate < 0 || initial < 0 ||
      subsequent < 0)
    return bad(out, n, "prefix, rate_per_min, initial_s, subsequent_s and "
               "currency are required (or message_price)");
  row->pub.message_micros = message < 0 ? 0 : message;
  row->pub.rate_per_min_micros = rate;
  row->pub.initial_s = (int)initial;
  row->pub.subsequent_s = (int)subsequent;
  row->pub.connection_fee_micros = fee;
  return check_row(out, row);
}

static int parse_json(vc__rc_rows *out, const char *text, size_t len)
{
  const cJSON *entries, *item;
  cJSON *root = NULL;
  char *copy;
  size_t n = 0;
  int rc;

  if ((copy = vc__strndup(text, len)) == NULL)
    return vc_error_set_oom();
  rc = vc__json_parse(&root, "rate card JSON", copy, VC_RATECARD_MAX_TEXT,
                      JSON_DEPTH, 0);
  vc__free(copy);
  if (rc < 0)
    return rc;
  entries = root;
  if (cJSON_IsObject(root)) {
    cJSON_ArrayForEach(item, root)
      if (item->string == NULL || strcmp(item->string, "entries") != 0) {
        char name[68];
        rc = vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "rate card JSON: unknown field '%s'",
                           vc__json_key_name(name, item->string));
        goto out;
      }
    entries = cJSON_GetObjectItemCaseSensitive(root, "entries");
  }
  if (!cJSON_IsArray(entries)) {
    rc = vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                       "rate card JSON must be an array of entries or "
                       "{\"entries\": [...]}");
    goto out;
  }
  cJSON_ArrayForEach(item, entries)
    if ((rc = json_entry(out, ++n, item)) < 0)
      goto out;
out:
  cJSON_Delete(root);
  return rc;
}

int vc__ratecard_parse(vc__rc_rows *out, int format, const char *text,
                       size_t len)
{
  int rc;

  memset(out, 0, sizeof(*out));
  out->unit = format == VC_RATECARD_CSV ? "line" : "entry";
  if (format != VC_RATECARD_CSV && format != VC_RATECARD_JSON)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "unknown rate card format %d", format);
  if (text == NULL)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "rate card text is NULL");
  if (len > VC_RATECARD_MAX_TEXT)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                         "rate card text is larger than %d bytes",
                         VC_RATECARD_MAX_TEXT);
  if (memchr(text, '\0', len) != NULL)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "rate card text has a NUL byte");
  if (!vc__utf8_valid(text, len))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EENCODING,
                         "rate card text is not valid UTF-8");
  rc = format == VC_RATECARD_CSV ? parse_csv(out, text, len)
                                 : parse_json(out, text, len);
  return finish(out, rc);
}
