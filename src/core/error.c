/*
 * Thread-local error detail (vc_error_last) and the static code names.
 */
#include "common.h"
#include "text.h"

#include <stdarg.h>
#include <stdio.h>

#define MESSAGE_MAX 512

typedef struct error_state {
  vc_error err;
  char message[MESSAGE_MAX];
} error_state;

static _Thread_local error_state t_error = {
  { VC_ERRCLASS_NONE, VC_OK, 0, "no error" }, "no error"
};

/* The message as one line of UTF-8, whatever it quotes: a control
 * character becomes a space (a newline would split a log record), a byte
 * outside UTF-8 a '?', and a cut never falls inside a character. */
static void set_message(const char *msg)
{
  size_t n = strlen(msg), i = 0, j = 0, len;
  uint32_t cp;

  while (i < n) {
    unsigned char c = (unsigned char)msg[i];

    if ((len = vc__utf8_decode(msg + i, n - i, &cp)) == 0)
      len = 1, c = '?';
    else if (len == 1 && (c < 0x20 || c == 0x7f))
      c = ' ';
    if (j + len >= MESSAGE_MAX)
      break;
    if (len == 1)
      t_error.message[j] = (char)c;
    else
      memcpy(t_error.message + j, msg + i, len);
    i += len;
    j += len;
  }
  t_error.message[j] = '\0';
  t_error.err.message = t_error.message;
}

int vc__error_set(int klass, int code, const char *fmt, ...)
{
  char tmp[MESSAGE_MAX];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(tmp, sizeof(tmp), fmt, ap);
  va_end(ap);
  t_error.err.klass = klass;
  t_error.err.code = code;
  t_error.err.provider_status = 0;
  set_message(tmp);
  return code;
}

int vc__error_wrap(const char *what)
{
  char tmp[MESSAGE_MAX];

  snprintf(tmp, sizeof(tmp), "%s: %s", what, t_error.message);
  set_message(tmp);
  return t_error.err.code;
}

int vc__error_code(void)
{
  return t_error.err.code;
}

int vc_error_set_str(int klass, int code, const char *message)
{
  t_error.err.klass = klass;
  t_error.err.code = code;
  t_error.err.provider_status = 0;
  set_message(message != NULL ? message : vc_strerror(code));
  return code;
}

int vc_error_set_oom(void)
{
  return vc_error_set_str(VC_ERRCLASS_NOMEMORY, VC_ENOMEM, "out of memory");
}

void vc_error_set_provider_status(int status)
{
  t_error.err.provider_status = status;
}

const vc_error *vc_error_last(void)
{
  if (t_error.err.message == NULL)
    t_error.err.message = t_error.message;
  return &t_error.err;
}

void vc_error_clear(void)
{
  t_error.err.klass = VC_ERRCLASS_NONE;
  t_error.err.code = VC_OK;
  t_error.err.provider_status = 0;
  set_message("no error");
}

const char *vc_strerror(int code)
{
  switch (code) {
  case VC_OK: return "success";
  case VC_ERROR: return "generic error";
  case VC_ENOMEM: return "out of memory";
  case VC_ENOTFOUND: return "not found";
  case VC_EEXISTS: return "already exists";
  case VC_EINVALID: return "invalid argument";
  case VC_EBUSY: return "resource busy";
  case VC_ETIMEOUT: return "timed out";
  case VC_EAUTH: return "authentication failed";
  case VC_ENOTSUPPORTED: return "not supported";
  case VC_ECANCELED: return "canceled";
  case VC_ERATELIMIT: return "rate limited";
  case VC_EPROVIDER: return "provider error";
  case VC_ESTORAGE: return "storage error";
  case VC_EVERSION: return "version mismatch";
  case VC_ECRYPTO: return "decryption failed";
  case VC_EKEY: return "master key missing or wrong";
  case VC_ECONFLICT: return "conflicting request";
  case VC_ETOOBIG: return "input too large";
  case VC_EENCODING: return "invalid UTF-8";
  case VC_ECORRUPT: return "store is not a database or is damaged";
  case VC_ESTATE: return "not allowed in the current state";
  case VC_ENET: return "network error";
  case VC_ECONSENT: return "no consent to contact the recipient";
  case VC_ELOOP: return "rules would loop";
  case VC_EUSER: return "aborted by callback";
  case VC_PASSTHROUGH: return "passthrough";
  case VC_ITEROVER: return "no more items";
  default: return "unknown error";
  }
}
