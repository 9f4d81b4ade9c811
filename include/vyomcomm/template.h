/**
 * @file vyomcomm/template.h
 * @brief Message templates: Mustache bodies per channel kind and locale,
 *        in immutable versions, rendered with the tenant's data.
 *
 * A template has a name unique within its tenant and one or more
 * variants, each for one channel kind and one locale (BCP 47), with a
 * subject (email), a text body and an HTML body (email). Every change
 * adds a version: version N of a template is its state after its N-th
 * change, and never changes afterwards, so a message that records the
 * version it used can always be rendered again the same way.
 *
 * Variables: a variant may declare the variables its bodies use, as a
 * JSON array of names, e.g. ["name", "order.id", "coupon?"]; a name
 * ending in "?" is optional. When variables are declared, a body that
 * uses a name outside every section whose first segment is not declared
 * is rejected (names inside {{#section}} may be fields of the section's
 * value and are not checked). When none are declared (NULL), any name is
 * allowed. Rendering is strict either way: an interpolated name with no
 * value is VC_EINVALID naming it, unless it is optional or lies under an
 * optional name ("coupon?" covers "coupon.code").
 *
 * Escaping: {{x}} escapes HTML in HTML bodies only; subjects and text
 * bodies (SMS, chat) are never escaped; {{{x}}} and {{& x}} never are.
 * Partials ({{> footer}}) name other templates of the same tenant, whose
 * same part is used, for the same kind and locale rules, at their latest
 * version.
 *
 * Thread safety: every function may be called from any thread; a
 * vc_template handle may be shared between threads, and many threads may
 * render at once (compiled templates are cached per context).
 * vc_template_free() must be the last call on a handle.
 *
 * @defgroup vc_template Templates
 * @{
 */
#ifndef VYOMCOMM_TEMPLATE_H
#define VYOMCOMM_TEMPLATE_H

#include "common.h"
#include "types.h"
#include "buffer.h"
#include "channel.h"
#include "category.h"

VC_BEGIN_DECL

/** A template handle. */
typedef struct vc_template vc_template;

/** Limits. */
#define VC_TEMPLATE_NAME_MAX 64
#define VC_TEMPLATE_SUBJECT_MAX 2048        /**< subject source, bytes */
#define VC_TEMPLATE_BODY_MAX (64 * 1024)    /**< body source, bytes */
#define VC_TEMPLATE_VARIABLES_MAX 256       /**< declared names */
#define VC_TEMPLATE_VARIANTS_MAX 64         /**< kind+locale pairs */
#define VC_TEMPLATE_VARS_JSON_MAX (256 * 1024) /**< render variables */
#define VC_TEMPLATE_VARS_DEPTH 32           /**< their JSON nesting */
#define VC_TEMPLATE_OUTPUT_MAX (1024 * 1024) /**< a rendered body */
#define VC_TEMPLATE_SUBJECT_OUTPUT_MAX 4096 /**< a rendered subject */

/**
 * One variant of a template, for vc_template_new() and
 * vc_template_add_variant().
 */
typedef struct vc_template_spec {
  unsigned int version;      /**< VC_TEMPLATE_SPEC_VERSION */
  /** [a-z0-9][a-z0-9_.-]{0,63}, unique per tenant; required by
   *  vc_template_new(); NULL or the template's own name for
   *  vc_template_add_variant(). */
  const char *name;
  int kind;                  /**< a vc_channel_kind; required */
  /** BCP 47 ("hi-IN", "en"); NULL = the tenant's locale. Stored in
   *  canonical case ("pt-BR", "zh-Hant-TW"). */
  const char *locale;
  /** Email only: the subject, a template of one line. */
  const char *subject;
  /** The text body; required except for email with an HTML body. */
  const char *text_body;
  /** Email only: the HTML body. */
  const char *html_body;
  /** Declared variables, a JSON array of names ("x?" = optional), or
   *  NULL for none declared. See the top of this header. */
  const char *variables_json;

  /* Added in version 2 (vyomcomm 0.3). */
  /** The template's vc_category: set by vc_template_new() (0 =
   *  transactional); for vc_template_add_variant(), 0 keeps it and any
   *  other value changes it for later sends. */
  int category;
} vc_template_spec;

/** The current version of vc_template_spec, and an initializer with every
 *  member at its default (vc_template_spec_init() for other languages). */
#define VC_TEMPLATE_SPEC_VERSION 2
#define VC_TEMPLATE_SPEC_INIT \
  { VC_TEMPLATE_SPEC_VERSION, NULL, 0, NULL, NULL, NULL, NULL, NULL, 0 }

/** Initialise a vc_template_spec for `version`. @since 0.1 */
VC_EXTERN(int) vc_template_spec_init(vc_template_spec *s,
                                     unsigned int version);

/** The part of a variant to render. Values are pinned. */
typedef enum vc_template_part {
  VC_TEMPLATE_PART_TEXT = 1,
  VC_TEMPLATE_PART_HTML = 2,
  VC_TEMPLATE_PART_SUBJECT = 3
} vc_template_part;

/** What vc_template_render() renders. */
typedef struct vc_template_render_spec {
  unsigned int version;      /**< VC_TEMPLATE_RENDER_SPEC_VERSION */
  /** A vc_channel_kind; 0 = the kind of the template's first version. */
  int kind;
  /** Wanted locale; NULL = the tenant's. Falls back from "hi-IN" to
   *  "hi", then to the tenant's locale and its language. */
  const char *locale;
  /** The variables, a JSON object, or NULL for none. */
  const char *vars_json;
  /** A vc_template_part; 0 = the text body, or the HTML body when the
   *  variant has no text body. */
  int part;
  /** The template version to render; 0 = the latest in the store. */
  int template_version;
} vc_template_render_spec;

/** The current version of vc_template_render_spec, and an initializer with
 *  every member at its default (vc_template_render_spec_init() for other
 *  languages). */
#define VC_TEMPLATE_RENDER_SPEC_VERSION 1
#define VC_TEMPLATE_RENDER_SPEC_INIT \
  { VC_TEMPLATE_RENDER_SPEC_VERSION, 0, NULL, NULL, 0, 0 }

/** Initialise a vc_template_render_spec for `version`. @since 0.1 */
VC_EXTERN(int) vc_template_render_spec_init(vc_template_render_spec *s,
                                            unsigned int version);

/** What vc_template_list() returns. */
typedef struct vc_template_filter {
  unsigned int version;   /**< VC_TEMPLATE_FILTER_VERSION */
  const char *after;      /**< a vc_iter_cursor() value, or NULL */
  int kind;               /**< only templates with a variant of this
                               vc_channel_kind; 0 for any */
} vc_template_filter;

/** The current version of vc_template_filter, and an initializer with every
 *  member at its default (vc_template_filter_init() for other languages). */
#define VC_TEMPLATE_FILTER_VERSION 1
#define VC_TEMPLATE_FILTER_INIT { VC_TEMPLATE_FILTER_VERSION, NULL, 0 }

/** Initialise a vc_template_filter for `version`. @since 0.1 */
VC_EXTERN(int) vc_template_filter_init(vc_template_filter *f,
                                       unsigned int version);

/**
 * Create a template with its first variant, as version 1. Every body is
 * compiled first, so a template that is stored always renders. Appends a
 * template.created event.
 *
 * @param out receives the handle (may be NULL if not wanted)
 * @return 0; VC_EINVALID (syntax, an undeclared variable, a part the
 *   kind does not have, an unknown category); VC_ETOOBIG; VC_EENCODING (not UTF-8);
 *   VC_EEXISTS (name taken)
 * @since 0.1
 */
VC_EXTERN(int) vc_template_new(vc_template **out, vc_tenant *tenant,
                               const vc_template_spec *spec);

/**
 * Add a variant for another kind or locale, or replace the variant of the
 * same kind and locale: either way the template gets a new version
 * (vc_template_version() + 1), and earlier versions stay as they were.
 * Appends a template.version_added event.
 *
 * @return 0, the codes of vc_template_new(), VC_ENOTFOUND (tenant
 *   deleted), VC_ETOOBIG (more than VC_TEMPLATE_VARIANTS_MAX variants)
 * @since 0.1
 */
VC_EXTERN(int) vc_template_add_variant(vc_template *tpl,
                                       const vc_template_spec *spec);

/**
 * Load a template of the tenant by id or by name (an id match wins).
 * @return 0, VC_ENOTFOUND, VC_EINVALID
 * @since 0.1
 */
VC_EXTERN(int) vc_template_lookup(vc_template **out, vc_tenant *tenant,
                                  const char *id_or_name);

/**
 * List a tenant's templates in id (creation) order.
 * @param out receives the iterator; read it with vc_template_next()
 * @param filter NULL for all
 * @since 0.1
 */
VC_EXTERN(int) vc_template_list(vc_iter **out, vc_tenant *tenant,
                                const vc_template_filter *filter);

/**
 * The next template of a vc_template_list() iterator.
 * @param out receives a new handle, freed with vc_template_free()
 * @return 0, VC_ITEROVER, or a negative code
 * @since 0.1
 */
VC_EXTERN(int) vc_template_next(vc_template **out, vc_iter *it);

/**
 * Render one part of a template into `out`, replacing its contents (on
 * failure `out` is unchanged). A preview: nothing is stored.
 *
 * @param spec NULL renders the default part of the first kind, in the
 *   tenant's locale, at the latest version, with no variables
 * @return 0; VC_EINVALID (a required variable is missing, bad variables
 *   JSON, a line break in a rendered subject); VC_ENOTFOUND (no variant
 *   for the kind and locale, no such version or part, a missing
 *   partial); VC_ETOOBIG (output or variables over their limit);
 *   VC_EENCODING
 * @since 0.1
 */
VC_EXTERN(int) vc_template_render(vc_buf *out, vc_template *tpl,
                                  const vc_template_render_spec *spec);

/** Free a template handle; NULL is accepted. @since 0.1 */
VC_EXTERN(void) vc_template_free(vc_template *tpl);

/**
 * The latest version the handle knows of: as loaded, or as added through
 * it. @since 0.1
 */
VC_EXTERN(int) vc_template_version(const vc_template *tpl);

/** @name Getters
 *  Strings are borrowed from the handle. @since 0.1 */
/** The template's id. */
VC_EXTERN(const char *) vc_template_id(const vc_template *tpl);
/** The id of the template's tenant. */
VC_EXTERN(const char *) vc_template_tenant_id(const vc_template *tpl);
/** The template's name. */
VC_EXTERN(const char *) vc_template_name(const vc_template *tpl);
/** The kind of the template's first version. @since 0.1 */
VC_EXTERN(int) vc_template_kind(const vc_template *tpl);
/** Unix milliseconds. @since 0.1 */
VC_EXTERN(int64_t) vc_template_created_at(const vc_template *tpl);
/** The template's vc_category. @since 0.3 */
VC_EXTERN(int) vc_template_category(const vc_template *tpl);

VC_END_DECL

/** @} */
#endif /* VYOMCOMM_TEMPLATE_H */
