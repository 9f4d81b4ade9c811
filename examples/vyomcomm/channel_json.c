/*
 * The vyomcomm program: a channel as JSON. See channel_json.h.
 */
#include "channel_json.h"

cJSON *channel_json_new(const vc_channel *ch, const channel_json_style *st)
{
  cJSON *o = cJSON_CreateObject();

  cJSON_AddStringToObject(o, "id", vc_channel_id(ch));
  cJSON_AddStringToObject(o, "name", vc_channel_name(ch));
  cJSON_AddStringToObject(o, "kind",
                          vc_channel_kind_name(vc_channel_kind_of(ch)));
  cJSON_AddStringToObject(o, "provider", vc_channel_provider(ch));
  st->add_str(o, "sender", vc_channel_sender(ch));
  cJSON_AddNumberToObject(o, "priority", vc_channel_priority(ch));
  cJSON_AddNumberToObject(o, "rate_per_second",
                          vc_channel_rate_per_second(ch));
  cJSON_AddBoolToObject(o, "enabled", vc_channel_enabled(ch));
  st->add_json(o, st->settings_name, vc_channel_config_json(ch));
  cJSON_AddStringToObject(o, "webhook_path", vc_channel_webhook_path(ch));
  st->add_time(o, "created_at", vc_channel_created_at(ch));
  if (st->updated_at)
    st->add_time(o, "updated_at", vc_channel_updated_at(ch));
  return o;
}
