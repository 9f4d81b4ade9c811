/*
 * Encodings that webhooks and provider APIs use: base64, hex, percent
 * encoding, and application/x-www-form-urlencoded bodies.
 */
#ifndef VC_CORE_CODEC_H
#define VC_CORE_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "vyomcomm/buffer.h"

/* Append the standard base64 of data (with padding). */
int vc__base64_encode(vc_buf *out, const void *data, size_t len);
/* Append the bytes of standard base64 text. VC_EINVALID if malformed. */
int vc__base64_decode(vc_buf *out, const char *text, size_t len);
/* Write 2*len lowercase hex digits and a NUL into out. */
void vc__hex_encode(char *out, const void *data, size_t len);

/* Append s percent-encoded for a form field: unreserved characters
 * (A-Z a-z 0-9 - . _ ~) stay, space becomes '+', the rest %XX. */
int vc__form_encode(vc_buf *out, const char *s, size_t len);
/* Append s percent-decoded; '+' is a space when plus_is_space. */
int vc__percent_decode(vc_buf *out, const char *s, size_t len,
                       int plus_is_space);

/* A parsed application/x-www-form-urlencoded body, in received order. */
typedef struct vc__form_pair {
  char *name;
  char *value;
} vc__form_pair;

typedef struct vc__form {
  vc__form_pair *pairs;
  size_t n;
} vc__form;

/* Parse a body of at most max_pairs fields (VC_ETOOBIG past that). */
int vc__form_parse(vc__form *f, const char *body, size_t len,
                   size_t max_pairs);
/* The first value of `name`, or NULL. */
const char *vc__form_get(const vc__form *f, const char *name);
void vc__form_free(vc__form *f);

#endif
