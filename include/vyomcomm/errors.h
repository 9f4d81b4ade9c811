/**
 * @file vyomcomm/errors.h
 * @brief Pinned error codes, error classes and the thread-local error detail.
 *
 * Every function that can fail returns an `int`: `VC_OK` (0) or one of the
 * negative codes below. The values are pinned: they never change and are
 * never reused. `vc_error_last()` gives a one-line message and a class for
 * the most recent failure on the calling thread.
 *
 * @defgroup vc_errors Errors
 * @{
 */
#ifndef VYOMCOMM_ERRORS_H
#define VYOMCOMM_ERRORS_H

#include "common.h"

VC_BEGIN_DECL

/** Return codes. Values are pinned; new codes are only ever appended. */
typedef enum vc_error_code {
  VC_OK = 0,           /**< success */
  VC_ERROR = -1,       /**< generic failure; see vc_error_last() */
  VC_ENOMEM = -2,      /**< out of memory */
  VC_ENOTFOUND = -3,   /**< the requested object does not exist */
  VC_EEXISTS = -4,     /**< an object with that unique key exists */
  VC_EINVALID = -5,    /**< an argument or input is invalid */
  VC_EBUSY = -6,       /**< the resource is busy or locked; try again */
  VC_ETIMEOUT = -7,    /**< an operation timed out */
  VC_EAUTH = -8,       /**< authentication or signature check failed */
  VC_ENOTSUPPORTED = -9, /**< not supported by this build or backend */
  VC_ECANCELED = -10,  /**< the operation was canceled */
  VC_ERATELIMIT = -11, /**< a rate limit was hit */
  VC_EPROVIDER = -12,  /**< the provider rejected the request */
  VC_ESTORAGE = -13,   /**< the storage backend failed */
  VC_EVERSION = -14,   /**< version mismatch (store newer, struct version) */
  VC_ECRYPTO = -15,    /**< a ciphertext failed to decrypt or verify */
  VC_EKEY = -16,       /**< master key missing or not the store's key */
  VC_ECONFLICT = -17,  /**< same key, different content (idempotency) */
  VC_ETOOBIG = -18,    /**< an input exceeds its size limit */
  VC_EENCODING = -19,  /**< a string is not valid UTF-8 */
  VC_ECORRUPT = -20,   /**< the store is not a database or is damaged */
  VC_ESTATE = -21,     /**< not allowed in the object's current state */
  VC_ENET = -22,       /**< a network or transport failure */
  VC_ECONSENT = -23,   /**< the recipient opted out, is on the do-not-call
                            list, or has not opted in where that is needed */
  VC_ELOOP = -24,      /**< automation rules that would trigger themselves */

  /* Control codes: never an error of the library itself. */
  VC_EUSER = -30,       /**< returned by a host callback to abort */
  VC_PASSTHROUGH = -31, /**< a plugin declines; the library falls back */
  VC_ITEROVER = -32     /**< an iteration has no more items */
} vc_error_code;

/** Where an error came from. Values are pinned. */
typedef enum vc_error_class {
  VC_ERRCLASS_NONE = 0,
  VC_ERRCLASS_NOMEMORY = 1,
  VC_ERRCLASS_OS = 2,
  VC_ERRCLASS_INVALID = 3,
  VC_ERRCLASS_STORAGE = 4,
  VC_ERRCLASS_CRYPTO = 5,
  VC_ERRCLASS_ADAPTER = 6,
  VC_ERRCLASS_NET = 7,
  VC_ERRCLASS_TLS = 8,
  VC_ERRCLASS_SIP = 9,
  VC_ERRCLASS_TEMPLATE = 10,
  VC_ERRCLASS_CALLBACK = 11,
  VC_ERRCLASS_INTERNAL = 12
} vc_error_class;

/** Detail of the last failure on this thread. */
typedef struct vc_error {
  int klass;            /**< a vc_error_class */
  int code;             /**< a vc_error_code */
  int provider_status;  /**< HTTP status or SIP code when relevant, else 0 */
  const char *message;  /**< one line of UTF-8, never NULL */
} vc_error;

/**
 * A static, human-readable name for an error code.
 *
 * @param code a vc_error_code
 * @return a static string; "unknown error" for an unknown code
 * @note Thread-safe. @since 0.1
 */
VC_EXTERN(const char *) vc_strerror(int code);

/**
 * The detail of the last failure of a library call on the calling thread.
 *
 * @return never NULL; after a success that cleared it, class
 *   VC_ERRCLASS_NONE, code VC_OK and message "no error". The pointer is
 *   valid until the next library call on this thread.
 * @note Thread-local: read it on the thread that made the failing call.
 * @since 0.1
 */
VC_EXTERN(const vc_error *) vc_error_last(void);

/** Reset the calling thread's error detail. @since 0.1 */
VC_EXTERN(void) vc_error_clear(void);

VC_END_DECL

/** @} */
#endif /* VYOMCOMM_ERRORS_H */
