/*
 * multipart/form-data bodies received from outside (RFC 7578 over
 * RFC 2046): what a provider posts when a form carries files.
 */
#ifndef VC_CORE_MULTIPART_H
#define VC_CORE_MULTIPART_H

#include <stddef.h>
#include <stdint.h>

#include "codec.h"

/* The boundary parameter of a multipart/form-data Content-Type, into
 * out (at most 70 characters, RFC 2046). VC_EINVALID when the type is
 * not multipart/form-data or has no valid boundary. */
int vc__multipart_boundary(char out[71], const char *content_type);

/*
 * Parse a multipart/form-data body sent with `content_type`. Every part
 * without a filename becomes a pair of `f` (received order; the value is
 * the part's bytes, which must hold no NUL); parts with a filename are
 * files, counted in *nfiles and otherwise skipped. At most `max_parts`
 * parts (VC_ETOOBIG). VC_EINVALID when malformed: no boundary, a part
 * without a form-data Content-Disposition and name, headers over 8 KB,
 * or no closing delimiter. Free `f` with vc__form_free().
 */
int vc__multipart_parse(vc__form *f, size_t *nfiles,
                        const char *content_type, const uint8_t *body,
                        size_t len, size_t max_parts);

#endif
