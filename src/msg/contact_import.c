/*
 * Contacts from CSV: rows are read through the caller's callback (csv.h),
 * checked as they come, and stored in batches of one transaction each.
 * Nothing is held but one batch, so memory does not grow with the input;
 * no store connection is held while the callbacks run (rows refused by
 * the store are told to on_error after their batch commits, in line
 * order with the malformed ones).
 */
#include "core/common.h"
#include "core/audit.h"
#include "core/csv.h"
#include "core/ctx.h"
#include "core/json.h"
#include "core/tenant.h"
#include "core/text.h"
#include "contact.h"
#include "template.h"

#include <stdio.h>

/* A batch ends at this many rows or this many bytes of cells. */
#define BATCH_ROWS 500
#define BATCH_BYTES (1024 * 1024)

enum column {
  COL_EXTRA, COL_NAME, COL_PHONE, COL_EMAIL, COL_TELEGRAM, COL_WHATSAPP,
  COL_TIMEZONE, COL_LOCALE, COL_TAGS
};

static const char *const COLUMN_NAMES[] = {
  NULL, "name", "phone", "email", "telegram", "whatsapp", "timezone",
  "locale", "tags"
};

typedef struct import_row {
  uint64_t line;
  int err;                  /* why the row was refused, or 0 */
  char message[256];
  vc__contact_input in;
  char *cells;              /* name, timezone and tags, NUL-separated */
  char *extra;              /* the other columns as a JSON object */
  size_t bytes;
} import_row;

typedef struct importer {
  vc_ctx *ctx;
  const char *tenant_id;
  const vc_contact_import_spec *spec;
  vc__contact_row_fn row_fn;
  void *arg;
  vc__csv *csv;
  size_t ncols;
  int col[VC_CONTACT_IMPORT_COLUMNS_MAX];
  char *col_name[VC_CONTACT_IMPORT_COLUMNS_MAX];
  import_row *rows;         /* BATCH_ROWS */
  char *scratch;            /* a row's worth of bytes */
  size_t n, bytes;
  vc_contact_import_result res;
  int committed;            /* batches committed */
} importer;

static int ascii_ieq(const char *a, const char *b)
{
  for (; *a != '\0' && *b != '\0'; a++, b++) {
    char x = *a >= 'A' && *a <= 'Z' ? (char)(*a + 32) : *a;
    char y = *b >= 'A' && *b <= 'Z' ? (char)(*b + 32) : *b;
    if (x != y)
      return 0;
  }
  return *a == *b;
}

static int is_blank(char c) { return c == ' ' || c == '\t'; }

/* A cell without surrounding blanks, copied into `buf`. */
static const char *trimmed(char *buf, const char *s)
{
  size_t len = strlen(s);

  while (len > 0 && is_blank(*s)) {
    s++;
    len--;
  }
  while (len > 0 && is_blank(s[len - 1]))
    len--;
  memcpy(buf, s, len);
  buf[len] = '\0';
  return buf;
}

/* ---- the header ------------------------------------------------------- */

static int header(importer *im)
{
  char *buf = im->scratch;
  const char *msg;
  int rc, address = 0;

  rc = vc__csv_next(im->csv);
  if (rc < 0)
    return rc;
  if (rc == VC__CSV_END)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "the CSV has no header row");
  if (rc == VC__CSV_BAD) {
    int code = vc__csv_bad(im->csv, &msg);
    return vc__error_set(VC_ERRCLASS_INVALID, code, "CSV header: %s", msg);
  }
  im->ncols = vc__csv_nfields(im->csv);
  for (size_t i = 0; i < im->ncols; i++) {
    const char *name = trimmed(buf, vc__csv_field(im->csv, i, NULL));
    int col = COL_EXTRA;
    for (int k = COL_NAME; k <= COL_TAGS; k++)
      if (ascii_ieq(name, COLUMN_NAMES[k]))
        col = k;
    if (name[0] == '\0')
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "CSV header: column %zu has no name", i + 1);
    if (strlen(name) > VC_CONTACT_FIELD_NAME_MAX)
      return vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                           "CSV header: column %zu's name is longer than %d "
                           "bytes", i + 1, VC_CONTACT_FIELD_NAME_MAX);
    for (const char *p = name; *p != '\0'; p++)
      if ((unsigned char)*p < 0x20 || *p == 0x7f)
        return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                             "CSV header: column %zu's name has a control "
                             "character", i + 1);
    for (size_t j = 0; j < i; j++)
      if (col != COL_EXTRA ? im->col[j] == col
                           : (im->col[j] == COL_EXTRA &&
                              strcmp(im->col_name[j], name) == 0))
        return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                             "CSV header: columns %zu and %zu have the "
                             "same name", j + 1, i + 1);
    im->col[i] = col;
    address |= col >= COL_PHONE && col <= COL_WHATSAPP;
    if ((im->col_name[i] = vc__strdup(name)) == NULL)
      return vc_error_set_oom();
  }
  if (!address)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "CSV header: no phone, email, telegram or whatsapp "
                         "column");
  return 0;
}

/* ---- rows ------------------------------------------------------------- */

static void row_dispose(import_row *r)
{
  vc__contact_input_dispose(&r->in);
  vc__free(r->cells);
  cJSON_free(r->extra);
  memset(r, 0, sizeof(*r));
}

static void row_refuse(import_row *r, int code)
{
  r->err = code;
  snprintf(r->message, sizeof(r->message), "%s", vc_error_last()->message);
}

/* Check a record and make it a row; a refusal is kept in the row. */
static int row_parse(importer *im, import_row *r)
{
  static const int kind_of[] = { 0, 0, VC_ADDRESS_PHONE, VC_ADDRESS_EMAIL,
                                 VC_ADDRESS_TELEGRAM, VC_ADDRESS_WHATSAPP };
  size_t nf = vc__csv_nfields(im->csv), size = vc__csv_size(im->csv);
  const char *keep[3] = { NULL, NULL, NULL }; /* name, timezone, tags */
  cJSON *extra = NULL, *fields = NULL;
  char *buf = NULL;
  int rc = 0, nfields = 0;

  vc__contact_input_init(&r->in);
  r->line = vc__csv_line(im->csv);
  r->bytes = size;
  if (nf > im->ncols) {
    rc = vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                       "the row has %zu columns, the header %zu", nf,
                       im->ncols);
    goto refuse;
  }
  if ((buf = vc__malloc(size + nf + 1)) == NULL ||
      (im->row_fn != NULL && (extra = cJSON_CreateObject()) == NULL))
    goto oom;
  for (size_t i = 0; i < nf; i++) {
    const char *raw = vc__csv_field(im->csv, i, NULL);
    int col = im->col[i];
    const char *v;

    if (col == COL_EXTRA) {
      cJSON *s;
      if (extra != NULL && !cJSON_AddStringToObject(extra, im->col_name[i],
                                                    raw))
        goto oom;
      if (raw[0] == '\0')
        continue;
      if (fields == NULL && (fields = cJSON_CreateObject()) == NULL)
        goto oom;
      if ((s = cJSON_CreateString(raw)) == NULL)
        goto oom;
      cJSON_AddItemToObject(fields, im->col_name[i], s);
      if (++nfields > VC_CONTACT_FIELDS_MAX) {
        rc = vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                           "more than %d custom fields",
                           VC_CONTACT_FIELDS_MAX);
        goto refuse;
      }
      continue;
    }
    v = trimmed(buf, raw);
    if (v[0] == '\0')
      continue;
    switch (col) {
    case COL_NAME:
      if ((rc = vc__contact_check_name(v)) < 0)
        goto refuse;
      keep[0] = raw;
      break;
    case COL_TIMEZONE:
      if ((rc = vc__contact_check_timezone(v)) < 0)
        goto refuse;
      keep[1] = raw;
      break;
    case COL_LOCALE:
      if ((rc = vc__locale_check(r->in.locale_buf, v,
                                 "contact locale")) < 0)
        goto refuse;
      r->in.locale = r->in.locale_buf;
      break;
    case COL_TAGS:
      if ((rc = vc__contact_check_tags(v, "contact tags")) < 0)
        goto refuse;
      keep[2] = raw;
      break;
    default:
      if ((rc = vc__contact_normalize(r->in.addr[kind_of[col]],
                                      kind_of[col], v)) < 0)
        goto refuse;
      r->in.addr_state[kind_of[col]] = 1;
      break;
    }
  }
  /* Keep the cells the input points at, trimmed, one after another. */
  {
    char *p = buf;
    const char **dst[3] = { &r->in.name, &r->in.timezone, &r->in.tags };
    for (int k = 0; k < 3; k++) {
      if (keep[k] == NULL)
        continue;
      *dst[k] = trimmed(p, keep[k]);
      p += strlen(p) + 1;
    }
  }
  r->cells = buf;
  buf = NULL;
  if (fields != NULL) {
    char *text = cJSON_PrintUnformatted(fields);
    size_t len = text ? strlen(text) : 0;
    cJSON_free(text);
    if (text == NULL)
      goto oom;
    if (len > VC_CONTACT_FIELDS_BYTES) {
      rc = vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                         "the custom fields are longer than %d bytes",
                         VC_CONTACT_FIELDS_BYTES);
      goto refuse;
    }
    r->in.fields = fields;
    fields = NULL;
  }
  if (extra != NULL && (r->extra = cJSON_PrintUnformatted(extra)) == NULL)
    goto oom;
  cJSON_Delete(extra);
  return 0;
oom:
  rc = vc_error_set_oom();
  cJSON_Delete(extra);
  cJSON_Delete(fields);
  vc__free(buf);
  return rc;
refuse:
  row_refuse(r, rc);
  cJSON_Delete(extra);
  cJSON_Delete(fields);
  vc__free(buf);
  return 0;
}

/* Codes that refuse one row; anything else stops the import. */
static int row_level(int rc)
{
  return rc == VC_EINVALID || rc == VC_ETOOBIG || rc == VC_EENCODING ||
         rc == VC_ECONFLICT || rc == VC_EEXISTS || rc == VC_ENOTFOUND;
}

static int audit(vc__db *db, importer *im, const vc_contact_import_result *r,
                 int aborted)
{
  char summary[192];

  snprintf(summary, sizeof(summary),
           "{\"rows\":%llu,\"created\":%llu,\"updated\":%llu,"
           "\"rejected\":%llu%s}",
           (unsigned long long)r->rows, (unsigned long long)r->created,
           (unsigned long long)r->updated, (unsigned long long)r->rejected,
           aborted ? ",\"aborted\":true" : "");
  return vc__audit(db, im->ctx, im->tenant_id, "contact.import", NULL,
                   summary);
}

/* One row in its own savepoint: 0 stored, 1 refused, < 0 fatal. */
static int row_store(importer *im, vc__db *db, import_row *r, int *created)
{
  char id[VC_ID_SIZE];
  int rc;

  if ((rc = vc__db_begin(db)) < 0)
    return rc;
  rc = vc__contact_upsert_on(id, db, im->ctx, im->tenant_id, &r->in,
                             im->spec->tags);
  if (rc >= 0) {
    *created = rc;
    if (im->row_fn != NULL &&
        (rc = im->row_fn(im->arg, db, id, r->extra ? r->extra : "{}",
                         r->line)) < 0) {
      if (vc__error_code() != rc)
        vc__error_set(VC_ERRCLASS_CALLBACK, rc, "the row was refused (%d)",
                      rc);
      vc__db_rollback(db);
      row_refuse(r, rc);
      return 1;
    }
    if ((rc = vc__db_commit(db)) < 0) {
      vc__db_rollback(db);
      return rc;
    }
    return 0;
  }
  vc__db_rollback(db);
  if (!row_level(rc))
    return rc;
  row_refuse(r, rc);
  return 1;
}

/* Store the batch in one transaction, then tell the refusals. `last`:
 * the import's audit row goes with it. */
static int flush(importer *im, int last)
{
  vc_contact_import_result add = VC_CONTACT_IMPORT_RESULT_INIT, total;
  vc__db *db;
  int rc;

  if (im->n == 0 && !last)
    return 0;
  if ((rc = vc__db_acquire(&db, im->ctx->store)) < 0)
    return rc;
  if ((rc = vc__db_begin(db)) < 0)
    goto release;
  if ((rc = vc__contact_tenant_live(db, im->tenant_id)) < 0)
    goto fail;
  for (size_t i = 0; i < im->n; i++) {
    import_row *r = &im->rows[i];
    int created = 0;
    if (r->err != 0) {
      add.rejected++;
      continue;
    }
    if ((rc = row_store(im, db, r, &created)) < 0)
      goto fail;
    if (rc == 1)
      add.rejected++;
    else if (created)
      add.created++;
    else
      add.updated++;
  }
  total = im->res;
  total.created += add.created;
  total.updated += add.updated;
  total.rejected += add.rejected;
  if ((last && (rc = audit(db, im, &total, 0)) < 0) ||
      (rc = vc__db_commit(db)) < 0)
    goto fail;
  vc__db_release(db);
  vc_ctx_wakeup(im->ctx);
  im->res = total;
  im->committed++;
  for (size_t i = 0; i < im->n; i++) {
    import_row *r = &im->rows[i];
    if (r->err != 0 && im->spec->on_error != NULL)
      im->spec->on_error(im->spec->error_payload, r->line, r->err,
                         r->message);
    row_dispose(r);
  }
  im->n = im->bytes = 0;
  return 0;
fail:
  vc__db_rollback(db);
release:
  vc__db_release(db);
  return rc;
}

/* After a failure: record what the committed batches did. */
static void audit_aborted(importer *im)
{
  vc__db *db;
  int rc;

  if (im->committed == 0 || vc__db_acquire(&db, im->ctx->store) < 0)
    return;
  if (vc__db_begin(db) == 0) {
    if ((rc = audit(db, im, &im->res, 1)) < 0 ||
        (rc = vc__db_commit(db)) < 0)
      vc__db_rollback(db);
  }
  vc__db_release(db);
}

static int import_all(importer *im)
{
  int rc;

  if ((rc = header(im)) < 0)
    return rc;
  for (;;) {
    import_row *r;
    if ((rc = vc__csv_next(im->csv)) < 0)
      return rc;
    if (rc == VC__CSV_END)
      break;
    im->res.rows++;
    r = &im->rows[im->n++];
    if (rc == VC__CSV_BAD) {
      const char *msg;
      vc__contact_input_init(&r->in);
      r->line = vc__csv_line(im->csv);
      r->err = vc__csv_bad(im->csv, &msg);
      snprintf(r->message, sizeof(r->message), "%s", msg);
    } else if ((rc = row_parse(im, r)) < 0) {
      return rc;
    }
    im->bytes += r->bytes;
    if ((im->n == BATCH_ROWS || im->bytes >= BATCH_BYTES) &&
        (rc = flush(im, 0)) < 0)
      return rc;
  }
  return flush(im, 1);
}

int vc__contact_import_csv(vc_contact_import_result *out, vc_tenant *t,
                           const vc_contact_import_spec *spec,
                           vc__contact_row_fn row_fn, void *arg)
{
  importer *im;
  int rc, err_code;
  char err_msg[256];

  VC_ASSERT_ARG(out);
  VC_CHECK_VERSION(out, VC_CONTACT_IMPORT_RESULT_VERSION,
                   "vc_contact_import_result");
  out->rows = out->created = out->updated = out->rejected = 0;
  VC_ASSERT_ARG(t);
  VC_ASSERT_ARG(spec);
  VC_CHECK_VERSION(spec, VC_CONTACT_IMPORT_SPEC_VERSION,
                   "vc_contact_import_spec");
  if (spec->read == NULL)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "an import needs a read callback");
  if ((rc = vc__contact_check_tags(spec->tags, "import tags")) < 0)
    return rc;
  if ((im = vc__calloc(1, sizeof(*im))) == NULL ||
      (im->rows = vc__calloc(BATCH_ROWS, sizeof(*im->rows))) == NULL ||
      (im->scratch = vc__malloc(VC_CONTACT_IMPORT_ROW_MAX + 1)) == NULL) {
    if (im != NULL)
      vc__free(im->rows);
    vc__free(im);
    return vc_error_set_oom();
  }
  im->ctx = vc__tenant_ctx(t);
  im->tenant_id = vc_tenant_id(t);
  im->spec = spec;
  im->row_fn = row_fn;
  im->arg = arg;
  if ((rc = vc__csv_open(&im->csv, spec->read, spec->read_payload,
                         VC_CONTACT_IMPORT_ROW_MAX,
                         VC_CONTACT_IMPORT_COLUMNS_MAX)) == 0)
    rc = import_all(im);
  if (rc < 0) {
    /* Keep the failure's detail across the audit row's write. */
    err_code = vc__error_code();
    snprintf(err_msg, sizeof(err_msg), "%s", vc_error_last()->message);
    audit_aborted(im);
    vc__error_set(vc_error_last()->klass, err_code ? err_code : rc, "%s",
                  err_msg);
  }
  out->rows = im->res.rows;
  out->created = im->res.created;
  out->updated = im->res.updated;
  out->rejected = im->res.rejected;
  for (size_t i = 0; i < BATCH_ROWS; i++)
    row_dispose(&im->rows[i]);
  for (size_t i = 0; i < im->ncols; i++)
    vc__free(im->col_name[i]);
  vc__csv_close(im->csv);
  vc__free(im->rows);
  vc__free(im->scratch);
  vc__free(im);
  return rc;
}

int vc_contact_import_csv(vc_contact_import_result *out, vc_tenant *t,
                          const vc_contact_import_spec *spec)
{
  return vc__contact_import_csv(out, t, spec, NULL, NULL);
}

int vc_contact_import_spec_init(vc_contact_import_spec *s,
                                unsigned int version)
{
  VC_INIT_STRUCT(s, version, VC_CONTACT_IMPORT_SPEC_VERSION,
                 vc_contact_import_spec, VC_CONTACT_IMPORT_SPEC_INIT);
}

int vc_contact_import_result_init(vc_contact_import_result *r,
                                  unsigned int version)
{
  VC_INIT_STRUCT(r, version, VC_CONTACT_IMPORT_RESULT_VERSION,
                 vc_contact_import_result, VC_CONTACT_IMPORT_RESULT_INIT);
}
