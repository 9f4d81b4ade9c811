/*
 * Internals of the Twilio Messaging adapter (twilio.c) that tests reach.
 * The signature check is shared with Twilio Voice: adapters/twilio_common.h.
 */
#ifndef VC_ADAPTERS_SMS_TWILIO_H
#define VC_ADAPTERS_SMS_TWILIO_H

#include "adapters/twilio_common.h"

#endif
