/**
 * @file vyomcomm/log.h
 * @brief Log levels and the log callback.
 *
 * The library never passes a secret (credential, key, passphrase) to the
 * log callback or into an error message.
 *
 * @defgroup vc_log Logging
 * @{
 */
#ifndef VYOMCOMM_LOG_H
#define VYOMCOMM_LOG_H

#include "common.h"

VC_BEGIN_DECL

/** Log levels, most severe first. Values are pinned. */
typedef enum vc_log_level {
  VC_LOG_ERROR = 1,
  VC_LOG_WARN = 2,
  VC_LOG_INFO = 3,
  VC_LOG_DEBUG = 4,
  VC_LOG_TRACE = 5
} vc_log_level;

/**
 * Receives one log line (no trailing newline). Runs on whichever thread
 * logged, with no library lock held; it may call the library but must not
 * free the context.
 */
typedef void VC_CALLBACK(vc_log_cb)(int level, const char *message,
                                     void *payload);

/** A static name for a level ("error", "warn", ...). @since 0.1 */
VC_EXTERN(const char *) vc_log_level_name(int level);

VC_END_DECL

/** @} */
#endif /* VYOMCOMM_LOG_H */
