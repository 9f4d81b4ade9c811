/*
 * Channels: a tenant's provider instances.
 */
#include "core/common.h"

int vc_channel_spec_init(vc_channel_spec *s, unsigned int version)
{
  VC_INIT_STRUCT(s, version, VC_CHANNEL_SPEC_VERSION, vc_channel_spec,
                 VC_CHANNEL_SPEC_INIT);
}
