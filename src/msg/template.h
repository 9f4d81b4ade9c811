/*
 * Template internals for messages: render every part of a template's
 * variant for one message, and learn the version that was used.
 */
#ifndef VC_MSG_TEMPLATE_H
#define VC_MSG_TEMPLATE_H

#include "vyomcomm/template.h"
#include "store/db.h"

#define VC__LOCALE_MAX 35

/* Check a BCP 47 tag (`field` names it in messages) and write it in
 * canonical case ("zh-hant-tw" -> "zh-Hant-TW"). VC_EINVALID,
 * VC_ETOOBIG. */
int vc__locale_check(char out[VC__LOCALE_MAX + 1], const char *in,
                     const char *field);

typedef struct vc__template_request {
  const char *template_name; /* a template id or name */
  int kind;                  /* a vc_channel_kind; required */
  const char *locale;        /* NULL = the tenant's */
  int version;               /* 0 = the latest */
  const char *vars_json;     /* a JSON object, or NULL for none */
} vc__template_request;

typedef struct vc__template_output {
  char template_id[VC_ID_SIZE];
  int version;               /* the template version rendered: record it */
  int category;              /* the template's vc_category, as it is now */
  char locale[VC__LOCALE_MAX + 1];  /* the variant's locale */
  /* The rendered parts; ptr is NULL when the variant has no such part
   * (a subject or HTML body outside email). */
  vc_buf subject, text, html;
} vc__template_output;

/*
 * Render all parts of the variant of `req` (kind, locale fallback,
 * version) with its variables, strictly (see vyomcomm/template.h). `db`
 * is a connection the caller holds (not inside a transaction that must
 * not see reads, it only reads), or NULL to use one of the store's; no
 * connection is used while rendering. `out` starts zeroed; on failure it
 * holds nothing. Dispose of it with vc__template_output_dispose().
 *
 * Returns 0, VC_ENOTFOUND (template, variant, version, partial),
 * VC_EINVALID (a missing variable, bad variables JSON), VC_ETOOBIG,
 * VC_EENCODING.
 */
int vc__template_render_message(vc__template_output *out, vc_tenant *t,
                                vc__db *db,
                                const vc__template_request *req);

void vc__template_output_dispose(vc__template_output *out);

#endif
