/*
 * The adapters compiled into the library. Each adapters/<kind>/<name>.c
 * defines one vc_adapter and declares it here; src/msg/adapter.c lists
 * them in BUILTINS.
 */
#ifndef VC_ADAPTERS_BUILTIN_H
#define VC_ADAPTERS_BUILTIN_H

#include "vyomcomm/sys/adapter.h"

/* one line per adapter, e.g.
 * extern const vc_adapter vc__adapter_twilio_sms; */

extern const vc_adapter vc__adapter_sendgrid;
extern const vc_adapter vc__adapter_mailgun;
extern const vc_adapter vc__adapter_twilio_sms;
extern const vc_adapter vc__adapter_twilio_voice;
extern const vc_adapter vc__adapter_aws_sns;
extern const vc_adapter vc__adapter_vonage_sms;
extern const vc_adapter vc__adapter_telegram;
extern const vc_adapter vc__adapter_whatsapp;
extern const vc_adapter vc__adapter_sandbox_email;
extern const vc_adapter vc__adapter_sandbox_sms;
extern const vc_adapter vc__adapter_sandbox_chat;
extern const vc_adapter vc__adapter_sandbox_voice;
extern const vc_adapter vc__adapter_exotel;
extern const vc_adapter vc__adapter_mcube;
extern const vc_adapter vc__adapter_sip;
extern const vc_adapter vc__adapter_asterisk_ari;

#endif
