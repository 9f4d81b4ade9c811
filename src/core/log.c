/*
 * Logging. See log.h.
 */
#include "common.h"
#include "log.h"

#include <stdarg.h>
#include <stdio.h>

void vc__log(const vc__logger *lg, int level, const char *fmt, ...)
{
  char line[1024];
  va_list ap;

  if (lg == NULL || lg->cb == NULL || level > lg->level)
    return;
  va_start(ap, fmt);
  vsnprintf(line, sizeof(line), fmt, ap);
  va_end(ap);
  lg->cb(level, line, lg->payload);
}

const char *vc_log_level_name(int level)
{
  switch (level) {
  case VC_LOG_ERROR: return "error";
  case VC_LOG_WARN: return "warn";
  case VC_LOG_INFO: return "info";
  case VC_LOG_DEBUG: return "debug";
  case VC_LOG_TRACE: return "trace";
  default: return "unknown";
  }
}
