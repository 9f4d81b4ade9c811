/*
 * Mustache templates over JSON data (no lambdas): compile once, render
 * many times. Pure C, no I/O.
 *
 * A compiled template is immutable: one may be rendered from any number
 * of threads at once. Rendering keeps all its state on the caller's
 * stack and in the output buffer; partials are fetched through a
 * callback and compiled for the duration of one render.
 *
 * Semantics follow the Mustache spec (interpolation, sections, inverted
 * sections, comments, set delimiters, partials with standalone
 * indentation). Where the spec is silent:
 *  - falsy: missing, null, false, an empty list, an empty string;
 *    numbers (0 too) and objects (even empty) are truthy;
 *  - true/false interpolate as "true"/"false", null as "", numbers as
 *    integers when integral (|n| < 1e15), else the shortest %g form
 *    that reads back exactly; a list or object interpolates as "" (an
 *    error in strict mode);
 *  - a tag name is one or more non-empty segments separated by '.', or
 *    '.' alone, and holds no whitespace;
 *  - an indented standalone partial indents each non-empty line.
 *
 * Limits: template source VC__MUSTACHE_MAX_SOURCE bytes of UTF-8 with no
 * NUL byte; section nesting VC__MUSTACHE_MAX_NESTING; partial depth
 * VC__MUSTACHE_MAX_PARTIAL_DEPTH; output `max_output`; and a work budget
 * proportional to max_output, so that nested loops over large lists
 * that print little cannot spin for ever. Errors carry class
 * VC_ERRCLASS_TEMPLATE and a one-line message with the line number.
 */
#ifndef VC_MSG_MUSTACHE_H
#define VC_MSG_MUSTACHE_H

#include <stddef.h>

#include <cJSON.h>

#include "vyomcomm/buffer.h"

#define VC__MUSTACHE_MAX_SOURCE (64 * 1024)
#define VC__MUSTACHE_MAX_NESTING 32
#define VC__MUSTACHE_MAX_PARTIAL_DEPTH 16
#define VC__MUSTACHE_DEFAULT_MAX_OUTPUT (1024 * 1024)

/* A compiled template: immutable, shareable across threads. */
typedef struct vc__mustache vc__mustache;

/*
 * Compile `len` bytes of `src` (need not be NUL-terminated; copied).
 * Returns 0, VC_ETOOBIG (source or nesting over its limit),
 * VC_EENCODING (not UTF-8, or a NUL byte), VC_EINVALID (syntax: unclosed
 * tag or section, mismatched close, bad delimiters, bad name) or
 * VC_ENOMEM. `*out` is set only on success; free with
 * vc__mustache_free().
 */
int vc__mustache_compile(vc__mustache **out, const char *src, size_t len);

void vc__mustache_free(vc__mustache *t);

/*
 * Look up a partial by name. Set `*src` and `*len` to its source and
 * return 0, or return VC_ENOTFOUND. Any other negative code aborts the
 * render with that code. The source must stay valid until the callback
 * is called again or the render returns; the engine compiles it (with
 * the standalone tag's indentation) and caches it for that render only.
 */
typedef int (*vc__mustache_partial_fn)(const char **src, size_t *len,
                                       const char *name, void *payload);

typedef struct vc__mustache_opts {
  /* 1: {{x}} escapes & < > " ' for HTML; 0: no escaping (text, SMS).
   * {{{x}}} and {{& x}} never escape. */
  int escape_html;
  /* 1: an interpolated name that resolves to nothing (or to a list or
   * object) is an error VC_EINVALID naming it, unless the name is listed
   * in `optional` (exact match of the name as written, e.g.
   * "customer.title"); a partial that is not found is VC_ENOTFOUND.
   * Sections are conditional and never fail. 0: both render as "". */
  int strict;
  const char *const *optional;
  size_t noptional;
  vc__mustache_partial_fn partial;  /* NULL: no partials */
  void *partial_payload;
  size_t max_output;     /* bytes appended at most; 0 = 1 MiB */
} vc__mustache_opts;

/* The spec's defaults: HTML escaping on, not strict, no partials. */
#define VC__MUSTACHE_OPTS_INIT { 1, 0, NULL, 0, NULL, NULL, 0 }

/*
 * Render `t` against `data` (any JSON value; NULL is an empty context),
 * appending to `out` (which is a NUL-terminated string on success, even
 * when nothing was appended). `o` NULL means VC__MUSTACHE_OPTS_INIT. On
 * error `out` is left as it was before the call. Returns 0, VC_EINVALID
 * (strict mode miss; a bad partial), VC_ENOTFOUND (strict mode: a
 * missing partial), VC_ETOOBIG (output, work or partial depth over its
 * limit), VC_ENOMEM, or a code returned by the partial callback.
 */
int vc__mustache_render(vc_buf *out, const vc__mustache *t,
                        const cJSON *data, const vc__mustache_opts *o);

/* What a name is used for, as passed to the vc__mustache_names callback. */
enum {
  VC__MUSTACHE_NAME_VAR = 0,      /* {{x}}, {{{x}}}, {{& x}} */
  VC__MUSTACHE_NAME_SECTION = 1,  /* {{#x}} */
  VC__MUSTACHE_NAME_INVERTED = 2, /* {{^x}} */
  VC__MUSTACHE_NAME_PARTIAL = 3   /* {{> x}} (a partial, not data) */
};

/*
 * Call `cb` for every name the template references, in template order,
 * once per occurrence (the implicit iterator "." is skipped). `kind` is
 * a VC__MUSTACHE_NAME_* value. Names inside a section may resolve
 * against the section's value rather than the root. A non-zero return
 * from `cb` stops the walk and is returned.
 */
int vc__mustache_names(const vc__mustache *t,
                       int (*cb)(const char *name, int kind, void *p),
                       void *p);

/*
 * Like vc__mustache_names(), for the names that are looked up in the
 * root context only: those outside the body of every {{#section}} (whose
 * names may resolve against the section's value). A section's own name,
 * and names inside inverted sections, which push no context, count.
 * Partials are not reported.
 */
int vc__mustache_root_names(const vc__mustache *t,
                            int (*cb)(const char *name, int kind, void *p),
                            void *p);

#endif /* VC_MSG_MUSTACHE_H */
