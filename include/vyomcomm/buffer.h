/**
 * @file vyomcomm/buffer.h
 * @brief Memory the library hands to the caller.
 *
 * Strings and blobs the library generates come back in a `vc_buf`, freed
 * with vc_buf_dispose(). Raw allocations are released with vc_free(), never
 * with free(): the host may have installed its own allocator.
 *
 * @defgroup vc_buffer Buffers
 * @{
 */
#ifndef VYOMCOMM_BUFFER_H
#define VYOMCOMM_BUFFER_H

#include "common.h"

VC_BEGIN_DECL

/** A library-owned, NUL-terminated byte buffer. */
typedef struct vc_buf {
  char *ptr;       /**< the bytes, NUL-terminated; NULL when empty */
  size_t reserved; /**< allocated size; 0 when ptr is not owned */
  size_t size;     /**< bytes used, not counting the terminating NUL */
} vc_buf;

/** Static initialiser for a `vc_buf`. */
#define VC_BUF_INIT { NULL, 0, 0 }

/**
 * Release the memory of a buffer and reset it to VC_BUF_INIT. The bytes
 * are zeroed first, so a buffer that held a secret leaves no copy behind.
 *
 * @param buf the buffer; NULL is accepted
 * @note Thread-safe for distinct buffers. @since 0.1
 */
VC_EXTERN(void) vc_buf_dispose(vc_buf *buf);

/**
 * Release memory allocated by the library for the caller.
 *
 * @param ptr the memory; NULL is accepted
 * @since 0.1
 */
VC_EXTERN(void) vc_free(void *ptr);

VC_END_DECL

/** @} */
#endif /* VYOMCOMM_BUFFER_H */
