/*
 * The sandbox adapters: one per channel kind, needing no credentials and
 * sending nothing. A message "sent" through a sandbox channel is accepted
 * at once (provider id "sandbox-<message id>"); what it would have sent
 * stays in the message's stored row. So the library works out of the box
 * and a host can exercise its integration without a provider account.
 *
 * Config (optional): {"outcome": "accepted" | "retry" | "rejected" |
 * "failover"} makes every send end that way, for testing a host's
 * handling of failures.
 */
#include "core/common.h"
#include "core/json.h"
#include "adapters/builtin.h"
#include "adapters/common.h"

#include <cJSON.h>
#include <stdio.h>

typedef struct sandbox {
  int outcome;
} sandbox;

static int sb_init(void **state, const char *config_json,
                   const char *credentials_json)
{
  sandbox *sb;
  cJSON *cfg = NULL, *o;
  int outcome = VC_SEND_ACCEPTED;

  VC_UNUSED(credentials_json);
  if (config_json != NULL && config_json[0] != '\0') {
    int rc = vc__adapter_parse_config(&cfg, config_json, "sandbox config");

    if (rc < 0)
      return rc;
    o = cJSON_GetObjectItemCaseSensitive(cfg, "outcome");
    if (o != NULL) {
      const char *v = cJSON_IsString(o) ? o->valuestring : "";
      outcome = strcmp(v, "accepted") == 0 ? VC_SEND_ACCEPTED
                : strcmp(v, "retry") == 0 ? VC_SEND_RETRY
                : strcmp(v, "rejected") == 0 ? VC_SEND_REJECTED
                : strcmp(v, "failover") == 0 ? VC_SEND_FAILOVER : 0;
    }
    cJSON_Delete(cfg);
    if (outcome == 0)
      return vc__error_set(VC_ERRCLASS_ADAPTER, VC_EINVALID,
                           "sandbox config: outcome must be accepted, "
                           "retry, rejected or failover");
  }
  if ((sb = vc__calloc(1, sizeof(*sb))) == NULL)
    return vc_error_set_oom();
  sb->outcome = outcome;
  *state = sb;
  return 0;
}

static void sb_fini(void *state)
{
  vc__free(state);
}

static int sb_build(void *state, const vc_outbound *msg, vc_http_out *req)
{
  /* Never called: the adapter is VC_CAP_LOCAL. */
  VC_UNUSED(state);
  VC_UNUSED(msg);
  VC_UNUSED(req);
  return vc__error_set(VC_ERRCLASS_ADAPTER, VC_ENOTSUPPORTED,
                       "the sandbox sends nothing");
}

static int sb_parse(void *state, const vc_outbound *msg,
                    const vc_http_response *res, vc_send_result *out)
{
  const sandbox *sb = state;

  VC_UNUSED(res);
  out->outcome = sb->outcome;
  if (sb->outcome == VC_SEND_ACCEPTED) {
    snprintf(out->provider_id, sizeof(out->provider_id), "sandbox-%s",
             msg->message_id);
  } else {
    out->error = VC_EPROVIDER;
    snprintf(out->error_message, sizeof(out->error_message),
             "sandbox configured to answer this way");
  }
  return 0;
}

#define SANDBOX(var, name_, kind_)                                  \
  const vc_adapter var = {                                          \
    VC_ADAPTER_VERSION, name_, kind_, VC_CAP_LOCAL,                 \
    sb_init, sb_fini, sb_build, sb_parse, NULL, NULL                \
  };

SANDBOX(vc__adapter_sandbox_email, "sandbox-email", VC_CHANNEL_EMAIL)
SANDBOX(vc__adapter_sandbox_sms, "sandbox-sms", VC_CHANNEL_SMS)
SANDBOX(vc__adapter_sandbox_chat, "sandbox-chat", VC_CHANNEL_CHAT)
