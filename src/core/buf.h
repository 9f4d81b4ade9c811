/*
 * Internal operations on vc_buf (the public type for caller memory).
 */
#ifndef VC_CORE_BUF_H
#define VC_CORE_BUF_H

#include "vyomcomm/buffer.h"

/* Make room for `extra` more bytes plus the NUL. 0 or VC_ENOMEM. */
int vc__buf_grow(vc_buf *b, size_t extra);
int vc__buf_put(vc_buf *b, const void *data, size_t len);
int vc__buf_puts(vc_buf *b, const char *s);
int vc__buf_printf(vc_buf *b, const char *fmt, ...) VC_FORMAT_PRINTF(2, 3);
/* Wipe the contents, then dispose (for buffers that held secrets). */
void vc__buf_wipe(vc_buf *b);

#endif
