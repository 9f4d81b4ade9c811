/*
 * Internal allocation through the host's allocator (vc_global_init).
 */
#ifndef VC_CORE_ALLOC_H
#define VC_CORE_ALLOC_H

#include <stddef.h>

#include "vyomcomm/global.h"

void *vc__malloc(size_t size);
void *vc__calloc(size_t n, size_t size);
void *vc__realloc(void *ptr, size_t size);
void vc__free(void *ptr);
char *vc__strdup(const char *s);
char *vc__strndup(const char *s, size_t n);

/* Zero memory in a way the compiler may not elide (for key material). */
void vc__wipe(void *ptr, size_t len);

/* Install the allocator (called by vc_global_init only). */
void vc__alloc_set(const vc_allocator *a);

#endif
