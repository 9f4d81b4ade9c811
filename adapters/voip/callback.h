/*
 * What the voice adapters of providers that sign nothing (Exotel, mCube)
 * share: the per-call token in the callback URL, the query parameters
 * of a webhook, callback bodies read as flat fields, local times and
 * Retry-After. Internal: nothing here is exported.
 */
#ifndef VC_ADAPTERS_VOIP_CALLBACK_H
#define VC_ADAPTERS_VOIP_CALLBACK_H

#include "vyomcomm/sys/adapter.h"
#include "core/codec.h"

#include <cJSON.h>

/* A webhook secret: at least this many bytes (16 bytes of entropy in
 * hex), at most the other. */
#define VC__VOIP_SECRET_MIN 32
#define VC__VOIP_SECRET_MAX 256
/* A call id in vc_call: the library's ids are 26 characters. */
#define VC__VOIP_CALL_ID_MAX 64
/* A provider's call id: what the adapters accept and report. */
#define VC__VOIP_PROVIDER_ID_MAX 127
/* The largest callback body read, and the most fields in it. */
#define VC__VOIP_BODY_MAX (64 * 1024)
#define VC__VOIP_FIELDS_MAX 200

/*
 * The token of a call's callback URL: hex HMAC-SHA256 under the
 * channel's webhook secret of the call id, 64 characters and a NUL.
 */
int vc__voip_token(char out[65], const char *secret, const char *call_id);

/*
 * `webhook_url` (which already has a query: ?vc_call=...) followed by
 * "&vc_step=<step>&vc_token=<token>", into `out` (appended).
 * VC_EINVALID when there is no webhook URL (the context has no
 * public_base_url: nobody could tell the library how the call went).
 */
int vc__voip_callback_url(vc_buf *out, const char *webhook_url,
                          const char *step, const char *secret,
                          const char *call_id);

/*
 * The value of query parameter `name` of a request target,
 * percent-decoded into `out` (replaced; "" when empty). *count says how
 * many times the name appears (its first value is returned).
 */
int vc__voip_query(vc_buf *out, int *count, const char *target,
                   const char *name);

/*
 * verify_webhook of a tokened callback: the target has exactly one
 * vc_call (a call id) and one vc_token, equal in constant time to the
 * call's token. VC_EAUTH (after vc__error_set) when not.
 */
int vc__voip_verify(const char *secret, const vc_http_request *req);

/*
 * A callback body as flat name/value pairs (received order): a JSON
 * object (numbers written as integers or decimals, true/false, null
 * left out, arrays and objects flattened as Legs[0][Status]), an
 * application/x-www-form-urlencoded body, or multipart/form-data (file
 * parts are refused). A name given twice is refused. VC_EINVALID when
 * malformed or another type; VC_ETOOBIG past the bounds above. Free `f`
 * with vc__form_free().
 */
int vc__voip_fields(vc__form *f, const vc_http_request *req);

/* The value of `name`, or NULL. */
const char *vc__voip_field(const vc__form *f, const char *name);

/*
 * A zone as config gives it: "+05:30", "-03:00", "UTC" (or "Z",
 * "+00:00"), or "Asia/Kolkata" (no daylight saving: +05:30). The
 * offset from UTC in minutes. VC_EINVALID naming `what` otherwise.
 */
int vc__voip_zone(int *minutes, const char *zone, const char *what);

/*
 * "YYYY-MM-DD HH:MM:SS", a local time at `offset_min` from UTC, as Unix
 * ms. -1 when it is not such a time (a valid date, years 2000-2199).
 */
int vc__voip_local_time(int64_t *ms, const char *s, int offset_min);

/*
 * A time field of a callback into *out: absent or empty is 0, anything
 * else must be a local time (VC_EINVALID naming the field otherwise).
 */
int vc__voip_read_time(int64_t *out, const vc__form *f, const char *name,
                       int zone_min);

/*
 * The webhook's query has exactly one vc_step, "status" (else
 * VC_EINVALID: "an <provider> callback URL has vc_step=status"); then
 * its body's fields into `f` as vc__voip_fields() reads them.
 */
int vc__voip_status_fields(vc__form *f, const vc_http_request *req,
                           const char *provider);

/* A call's answer body when it is a JSON object, else NULL. */
cJSON *vc__voip_answer(const vc_http_response *res);

/*
 * config.caller_ids, the pool the core picks caller ids from: absent,
 * or an array of at most `max` strings that `is_number` accepts.
 * VC_EINVALID: "config.caller_ids must be an array of <array_of>",
 * "config.caller_ids[i] must be <each>", or too many.
 */
int vc__voip_caller_ids(const cJSON *cfg, int max,
                        int (*is_number)(const char *s),
                        const char *array_of, const char *each);

/*
 * Report one update of provider call `id` to the sink; its event id is
 * "<id>:<what>", so that a provider's retries of a callback dedupe.
 * `id` is at most VC__VOIP_PROVIDER_ID_MAX bytes.
 */
int vc__voip_report(vc_event_sink *sink, const char *id, vc_call_update *u,
                    const char *what);

/* A leg's VC_UPDATE_RINGING or VC_UPDATE_ANSWERED at `at`, reported as
 * "<id>:agent:ringing" (or customer, answered). */
int vc__voip_leg_event(vc_event_sink *sink, const char *id, int type,
                       int leg, int64_t at);

/*
 * The call's end at `at` (with the failing leg, the cause, the talk
 * time and the provider's word), then, when there is a recording URL,
 * the recording (as long as the talk).
 */
int vc__voip_report_end(vc_event_sink *sink, const char *id, int leg,
                        int64_t at, int cause, long talk_s,
                        const char *provider_code, const char *rec_url);

/* A count of seconds ("42", at most 9 digits); -1 when not one. */
long vc__voip_seconds(const char *s);

/* Retry-After as delay-seconds (capped at a day) into
 * out->retry_after_ms; anything else is ignored. */
void vc__voip_retry_after(vc_send_result *out, const vc_http_response *res);

/* 1 when `s` contains `needle`, ASCII case ignored. */
int vc__voip_contains(const char *s, const char *needle);

/* 1..max bytes of [A-Za-z0-9_-]: ids we echo or store. */
int vc__voip_is_id(const char *s, size_t max);

/* An absolute http(s) URL on one line without spaces, at most `max`. */
int vc__voip_is_url(const char *s, size_t max);

/* vc__voip_is_url() with the scheme in lowercase, as the event sink takes
 * a call update's recording URL. */
int vc__voip_is_recording_url(const char *s, size_t max);

#endif
