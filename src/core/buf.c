/*
 * vc_buf: growable NUL-terminated buffers handed to the caller.
 */
#include "common.h"
#include "buf.h"

#include <stdarg.h>
#include <stdio.h>

int vc__buf_grow(vc_buf *b, size_t extra)
{
  size_t need, cap;
  char *p;

  if (extra > SIZE_MAX - b->size - 1)
    return vc_error_set_oom();
  need = b->size + extra + 1;
  if (need <= b->reserved)
    return 0;
  cap = b->reserved ? b->reserved : 64;
  while (cap < need)
    cap = cap > SIZE_MAX / 2 ? need : cap * 2;
  p = vc__realloc(b->reserved ? b->ptr : NULL, cap);
  if (p == NULL)
    return vc_error_set_oom();
  if (b->reserved == 0) {
    /* ptr may have pointed at borrowed memory: copy it in. */
    if (b->ptr != NULL && b->size > 0)
      memcpy(p, b->ptr, b->size);
  }
  b->ptr = p;
  b->reserved = cap;
  b->ptr[b->size] = '\0';
  return 0;
}

int vc__buf_put(vc_buf *b, const void *data, size_t len)
{
  int rc = vc__buf_grow(b, len);

  if (rc < 0)
    return rc;
  if (len > 0)
    memcpy(b->ptr + b->size, data, len);
  b->size += len;
  b->ptr[b->size] = '\0';
  return 0;
}

int vc__buf_puts(vc_buf *b, const char *s)
{
  return vc__buf_put(b, s, strlen(s));
}

int vc__buf_printf(vc_buf *b, const char *fmt, ...)
{
  va_list ap;
  int n, rc;

  va_start(ap, fmt);
  n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0)
    return vc__error_set(VC_ERRCLASS_INTERNAL, VC_ERROR, "format failed");
  if ((rc = vc__buf_grow(b, (size_t)n)) < 0)
    return rc;
  va_start(ap, fmt);
  vsnprintf(b->ptr + b->size, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->size += (size_t)n;
  return 0;
}

void vc__buf_wipe(vc_buf *b)
{
  if (b == NULL)
    return;
  if (b->reserved)
    vc__wipe(b->ptr, b->reserved);
  vc_buf_dispose(b);
}

void vc_buf_dispose(vc_buf *b)
{
  if (b == NULL)
    return;
  if (b->reserved) {
    /* Buffers carry decrypted credentials too: leave no copy behind. */
    vc__wipe(b->ptr, b->size);
    vc__free(b->ptr);
  }
  b->ptr = NULL;
  b->reserved = 0;
  b->size = 0;
}
