/**
 * @file vyomcomm.h
 * @brief The umbrella header of libvyomcomm: includes every public header.
 *        Implementer headers (vyomcomm/sys/) are included separately.
 */
#ifndef VYOMCOMM_H
#define VYOMCOMM_H

#include "vyomcomm/common.h"
#include "vyomcomm/version.h"
#include "vyomcomm/errors.h"
#include "vyomcomm/types.h"
#include "vyomcomm/buffer.h"
#include "vyomcomm/global.h"
#include "vyomcomm/log.h"
#include "vyomcomm/event.h"
#include "vyomcomm/iter.h"
#include "vyomcomm/ctx.h"
#include "vyomcomm/loop.h"
#include "vyomcomm/store.h"
#include "vyomcomm/tenant.h"
#include "vyomcomm/secret.h"
#include "vyomcomm/http.h"
#include "vyomcomm/channel.h"
#include "vyomcomm/template.h"
#include "vyomcomm/category.h"
#include "vyomcomm/audit.h"
#include "vyomcomm/unsubscribe.h"
#include "vyomcomm/message.h"
#include "vyomcomm/contact.h"
#include "vyomcomm/campaign.h"
#include "vyomcomm/consent.h"
#include "vyomcomm/inbox.h"
#include "vyomcomm/privacy.h"
#include "vyomcomm/rule.h"
#include "vyomcomm/call.h"
#include "vyomcomm/agent.h"
#include "vyomcomm/quality.h"
#include "vyomcomm/ratecard.h"
#include "vyomcomm/ledger.h"
#include "vyomcomm/billing.h"
#include "vyomcomm/ivr.h"
#include "vyomcomm/number.h"
#include "vyomcomm/queue.h"
#include "vyomcomm/recording.h"
#include "vyomcomm/webhook.h"
#include "vyomcomm/apikey.h"
#include "vyomcomm/stats.h"

#endif /* VYOMCOMM_H */
