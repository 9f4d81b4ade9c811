/*
 * Internal error setting: thread-local detail read by vc_error_last().
 */
#ifndef VC_CORE_ERROR_H
#define VC_CORE_ERROR_H

#include "vyomcomm/common.h"

/* Set class, code and a formatted one-line message; returns `code`. */
int vc__error_set(int klass, int code, const char *fmt, ...)
  VC_FORMAT_PRINTF(3, 4);

/* Prefix the current message with "what: ", keeping class and code;
 * returns the current code. */
int vc__error_wrap(const char *what);

/* The code of the calling thread's current detail. */
int vc__error_code(void);

#endif
