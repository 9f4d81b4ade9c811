/*
 * Adapter registry: a small array of vtable copies, looked up by name.
 */
#include "core/common.h"
#include "core/ctx.h"
#include "core/text.h"
#include "adapter.h"
#include "vyomcomm/sys/transport.h"
#include "adapters/builtin.h"

#define MAX_ADAPTERS 64

typedef struct vc__adapter_registry {
  vc_adapter items[MAX_ADAPTERS];
  size_t n;
} vc__adapter_registry;

/* The adapters compiled into the library (adapters/), declared in
 * adapters/builtin.h. */
static const vc_adapter *const BUILTINS[] = {
  /* one line per adapter, e.g. &vc__adapter_twilio_sms, */
  &vc__adapter_sendgrid,
  &vc__adapter_mailgun,
  &vc__adapter_twilio_sms,
  &vc__adapter_aws_sns,
  &vc__adapter_vonage_sms,
  &vc__adapter_telegram,
  &vc__adapter_whatsapp,
  &vc__adapter_sandbox_email,
  &vc__adapter_sandbox_sms,
  &vc__adapter_sandbox_chat,
  &vc__adapter_sandbox_voice,
  &vc__adapter_exotel, &vc__adapter_mcube, &vc__adapter_twilio_voice,
  &vc__adapter_sip,
  &vc__adapter_asterisk_ari,
  NULL
};

static const vc_adapter *const *builtins(size_t *n)
{
  *n = VC_ARRAY_SIZE(BUILTINS) - 1;
  return BUILTINS;
}

/* The bytes of a vtable of `version`: a version-1 adapter ends before
 * the voice methods, and reading past its end would read foreign
 * memory. */
static size_t vtable_size(unsigned int version)
{
  return version < 2 ? offsetof(vc_adapter, build_call) : sizeof(vc_adapter);
}

static int validate(const vc_adapter *a)
{
  VC_CHECK_VERSION(a, VC_ADAPTER_VERSION, "vc_adapter");
  if (vc__check_token("adapter name", a->name, 64, "a-z0-9",
                      "a-z0-9_.-") < 0)
    return VC_EINVALID;
  if (a->kind < VC_CHANNEL_EMAIL || a->kind > VC_CHANNEL_VOICE)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "adapter '%s' has an unknown kind %d", a->name,
                         a->kind);
  if (a->init == NULL || a->fini == NULL)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "adapter '%s' lacks a required method", a->name);
  if (a->kind == VC_CHANNEL_VOICE) {
    /* Voice methods exist from version 2 on: a version-1 vtable has
     * none to read. */
    if (a->version >= 2 && a->session != NULL) {
      /* A session adapter (sys/transport.h) places calls itself. */
      VC_CHECK_VERSION(a->session, VC_SESSION_OPS_VERSION,
                       "vc_session_ops");
      if (a->session->open == NULL || a->session->close == NULL ||
          a->session->place_call == NULL)
        return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                             "session adapter '%s' needs open, close and "
                             "place_call", a->name);
      if (a->build_call != NULL || a->parse_call != NULL ||
          a->build_control != NULL || a->parse_control != NULL ||
          (a->capabilities & VC_CAP_LOCAL))
        return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                             "session adapter '%s' places calls through "
                             "its session only: no build_call, "
                             "parse_call, build_control, parse_control "
                             "or VC_CAP_LOCAL", a->name);
    } else if (a->version < 2 || a->parse_call == NULL ||
               (a->build_call == NULL && !(a->capabilities & VC_CAP_LOCAL)))
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "voice adapter '%s' needs build_call and "
                           "parse_call, or session (vc_adapter version "
                           "2)", a->name);
    if (a->build_control != NULL && a->parse_control == NULL)
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "adapter '%s' has build_control without "
                           "parse_control", a->name);
  } else if (a->version >= 2 && a->session != NULL) {
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "adapter '%s': only a voice adapter has a session",
                         a->name);
  } else if (a->build_send == NULL || a->parse_send == NULL) {
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "adapter '%s' lacks a required method", a->name);
  }
  if ((a->verify_webhook == NULL) != (a->parse_webhook == NULL))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "adapter '%s' must have both verify_webhook and "
                         "parse_webhook, or neither", a->name);
  return 0;
}

static int add(vc__adapter_registry *r, const vc_adapter *a)
{
  vc_adapter copy;

  memset(&copy, 0, sizeof(copy));
  memcpy(&copy, a, vtable_size(a->version));
  for (size_t i = 0; i < r->n; i++)
    if (strcmp(r->items[i].name, a->name) == 0) {
      r->items[i] = copy;
      return 0;
    }
  if (r->n == MAX_ADAPTERS)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                         "more than %d adapters", MAX_ADAPTERS);
  r->items[r->n++] = copy;
  return 0;
}

int vc__adapters_init(vc_ctx *ctx)
{
  size_t n;
  const vc_adapter *const *list = builtins(&n);
  int rc;

  if ((ctx->adapters = vc__calloc(1, sizeof(*ctx->adapters))) == NULL)
    return vc_error_set_oom();
  for (size_t i = 0; i < n; i++)
    if ((rc = validate(list[i])) < 0 ||
        (rc = add(ctx->adapters, list[i])) < 0)
      return rc;
  return 0;
}

void vc__adapters_fini(vc_ctx *ctx)
{
  vc__free(ctx->adapters);
  ctx->adapters = NULL;
}

int vc_adapter_register(vc_ctx *ctx, const vc_adapter *adapter)
{
  int rc;

  VC_ASSERT_ARG(ctx);
  VC_ASSERT_ARG(adapter);
  if ((rc = validate(adapter)) < 0)
    return rc;
  pthread_mutex_lock(&ctx->lock);
  rc = add(ctx->adapters, adapter);
  pthread_mutex_unlock(&ctx->lock);
  return rc;
}

int vc__adapter_find(vc_adapter *out, vc_ctx *ctx, const char *name)
{
  int rc = VC_ENOTFOUND;

  pthread_mutex_lock(&ctx->lock);
  for (size_t i = 0; i < ctx->adapters->n; i++)
    if (strcmp(ctx->adapters->items[i].name, name) == 0) {
      *out = ctx->adapters->items[i];
      rc = 0;
      break;
    }
  pthread_mutex_unlock(&ctx->lock);
  if (rc < 0)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                         "no adapter named '%.64s'", name);
  return 0;
}
