/*
 * Internal logging to the host's log callback. Never pass a secret here.
 */
#ifndef VC_CORE_LOG_H
#define VC_CORE_LOG_H

#include "vyomcomm/log.h"

typedef struct vc__logger {
  vc_log_cb cb;
  void *payload;
  int level;
} vc__logger;

void vc__log(const vc__logger *lg, int level, const char *fmt, ...)
  VC_FORMAT_PRINTF(3, 4);

#endif
