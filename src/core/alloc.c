/*
 * Library allocations go through the allocator the host installed with
 * vc_global_init(), or the C library's.
 */
#include "common.h"

#include <stdlib.h>

static vc_allocator g_alloc; /* zeroed: the C library's functions */

void vc__alloc_set(const vc_allocator *a)
{
  if (a == NULL)
    memset(&g_alloc, 0, sizeof(g_alloc));
  else
    g_alloc = *a;
}

void *vc__malloc(size_t size)
{
  if (size == 0)
    size = 1;
  if (g_alloc.malloc != NULL)
    return g_alloc.malloc(size, g_alloc.opaque);
  return malloc(size);
}

void *vc__realloc(void *ptr, size_t size)
{
  if (size == 0)
    size = 1;
  if (g_alloc.realloc != NULL)
    return g_alloc.realloc(ptr, size, g_alloc.opaque);
  return realloc(ptr, size);
}

void vc__free(void *ptr)
{
  if (ptr == NULL)
    return;
  if (g_alloc.free != NULL)
    g_alloc.free(ptr, g_alloc.opaque);
  else
    free(ptr);
}

void *vc__calloc(size_t n, size_t size)
{
  void *p;

  if (size != 0 && n > SIZE_MAX / size)
    return NULL;
  p = vc__malloc(n * size);
  if (p != NULL)
    memset(p, 0, n * size);
  return p;
}

char *vc__strndup(const char *s, size_t n)
{
  char *p = vc__malloc(n + 1);

  if (p == NULL)
    return NULL;
  memcpy(p, s, n);
  p[n] = '\0';
  return p;
}

char *vc__strdup(const char *s)
{
  return s == NULL ? NULL : vc__strndup(s, strlen(s));
}

void vc__wipe(void *ptr, size_t len)
{
  /* A volatile function pointer keeps the compiler from eliding it. */
  static void *(*const volatile do_memset)(void *, int, size_t) = memset;

  if (ptr != NULL && len > 0)
    do_memset(ptr, 0, len);
}

void *vc_alloc(size_t size)
{
  return vc__malloc(size);
}

void vc_free(void *ptr)
{
  vc__free(ptr);
}
