/**
 * @file vyomcomm/call.h
 * @brief Click-to-call: the library rings the agent, then the customer,
 *        bridges them, and records every step of the call.
 *
 * A call is stored as `initiated` before anything is dialled; the engine
 * (vc_ctx_run or vc_ctx_start) places it through a voice channel, and
 * the provider's webhooks move it through its states. Every transition
 * keeps its time, and every event (ringing, answered, hold, transfer,
 * DTMF, recording, hangup) is appended to the call's timeline.
 *
 * Thread safety: every function may be called from any thread; a vc_call
 * handle is a snapshot and may be shared between threads.
 *
 * @defgroup vc_call Calls
 * @{
 */
#ifndef VYOMCOMM_CALL_H
#define VYOMCOMM_CALL_H

#include "common.h"
#include "types.h"
#include "iter.h"
#include "category.h"

VC_BEGIN_DECL

/** A call handle: a snapshot of the stored call. */
typedef struct vc_call vc_call;

/**
 * Call states (DESIGN 4). Values are pinned. The live states are ranked
 * by value and only move forward; the terminal ones never change.
 */
typedef enum vc_call_state {
  VC_CALL_INITIATED = 1,        /**< stored; not yet placed */
  VC_CALL_AGENT_RINGING = 2,
  VC_CALL_AGENT_ANSWERED = 3,
  VC_CALL_CUSTOMER_RINGING = 4,
  VC_CALL_BRIDGED = 5,          /**< agent and customer are talking */
  VC_CALL_COMPLETED = 6,        /**< ended after it was bridged */
  VC_CALL_FAILED = 7,           /**< could not be placed, or a leg failed */
  VC_CALL_BUSY = 8,             /**< a leg was busy */
  VC_CALL_NO_ANSWER = 9,        /**< a leg did not answer */
  VC_CALL_CANCELED = 10         /**< hung up before it was bridged */
} vc_call_state;

/** A static name for a state ("initiated", "agent_ringing", ...). */
VC_EXTERN(const char *) vc_call_state_name(int state);

/** 1 when `state` is terminal (completed, failed, busy, ...). */
VC_EXTERN(int) vc_call_state_final(int state);

/** The two legs of a click-to-call. Values are pinned. */
typedef enum vc_call_leg {
  VC_LEG_NONE = 0,              /**< the call as a whole */
  VC_LEG_AGENT = 1,
  VC_LEG_CUSTOMER = 2
} vc_call_leg;

/** Which way a call goes. Values are pinned. @since 0.3 */
typedef enum vc_call_direction {
  VC_CALL_OUTBOUND = 1,         /**< a click-to-call (vc_call_start()) */
  VC_CALL_INBOUND = 2           /**< a customer called one of the
                                     tenant's numbers (vyomcomm/number.h) */
} vc_call_direction;

/** Why a call ended, normalized over providers. Values are pinned. */
typedef enum vc_call_cause {
  VC_CAUSE_NONE = 0,            /**< not ended */
  VC_CAUSE_NORMAL = 1,          /**< a party hung up after talking */
  VC_CAUSE_BUSY = 2,
  VC_CAUSE_NO_ANSWER = 3,
  VC_CAUSE_REJECTED = 4,        /**< declined, or refused by the network */
  VC_CAUSE_UNREACHABLE = 5,     /**< invalid or unreachable number */
  VC_CAUSE_CANCELED = 6,        /**< hung up before the other answered */
  VC_CAUSE_API_HANGUP = 7,      /**< vc_call_hangup() */
  VC_CAUSE_TIME_LIMIT = 8,      /**< the call's time limit ran out */
  VC_CAUSE_PROVIDER_ERROR = 9,  /**< no provider could place it */
  VC_CAUSE_IVR = 10,            /**< an IVR option hung up */
  /* Inbound calls (@since 0.3). */
  /** The caller hung up before an agent answered (in the IVR, waiting
   *  in a queue, or while an agent's phone rang). */
  VC_CAUSE_ABANDONED = 11,
  /** The caller waited the queue's maximum and the queue hangs up. */
  VC_CAUSE_QUEUE_TIMEOUT = 12,
  /** The call ended after the caller left a voicemail. */
  VC_CAUSE_VOICEMAIL = 13,
  /** The call ended with a callback request (the queue's overflow). */
  VC_CAUSE_CALLBACK = 14,
  /** The number called leads nowhere: no live number of the tenant. */
  VC_CAUSE_UNKNOWN_NUMBER = 15
} vc_call_cause;

/** A static name for a cause ("normal", "busy", ...). */
VC_EXTERN(const char *) vc_call_cause_name(int cause);

/** Recording of a call. Values are pinned. */
typedef enum vc_record_mode {
  VC_RECORD_DEFAULT = 0,        /**< the tenant's recording policy */
  VC_RECORD_OFF = 1,
  VC_RECORD_ALWAYS = 2,         /**< from the moment the call is bridged */
  VC_RECORD_ON_DEMAND = 3       /**< when vc_call_record() asks */
} vc_record_mode;

/** Limits. */
#define VC_CALL_ADDRESS_MAX 256      /**< a number or SIP URI, bytes */
#define VC_CALL_RING_TIMEOUT_MAX 600 /**< seconds */
#define VC_CALL_TIME_LIMIT_MAX 14400 /**< seconds (4 hours) */

/** The call to place. Strings are copied before vc_call_start() returns. */
typedef struct vc_call_spec {
  unsigned int version;        /**< VC_CALL_SPEC_VERSION */
  /** An agent of the tenant (id or name, vyomcomm/agent.h); or NULL when
   *  `agent_number` alone says whom to ring first. */
  const char *agent;
  /** E.164 number or sip: URI of the agent; NULL = the agent's own. */
  const char *agent_number;
  const char *customer_number; /**< E.164; required */
  /** Shown to the customer; NULL = one from the channel's caller-id
   *  pool, else the channel's sender. */
  const char *caller_id;
  /** A voice channel (id or name) to use only; NULL = the tenant's voice
   *  channels by priority, failing over between them. */
  const char *channel;
  int record;                  /**< a vc_record_mode */
  /** An IVR menu (id or name, vyomcomm/ivr.h) the customer hears when
   *  answering, before being bridged; NULL = none. */
  const char *ivr_menu;
  const char *metadata_json;   /**< a JSON object kept with the call */
  /** A caller's retry with the same key returns the first call without
   *  placing another; the same key with another call is VC_ECONFLICT.
   *  At most 255 bytes. */
  const char *idempotency_key;
  int ring_timeout_s;          /**< per leg; 0 = 30 */
  int time_limit_s;            /**< of the conversation; 0 = 14400 */

  /* Added in version 2 (vyomcomm 0.3). */
  /** A vc_category; 0 = transactional. Consent and the do-not-call list
   *  are checked for it (vyomcomm/consent.h). */
  int category;
  /** The contact called, or NULL to find the contact that holds
   *  `customer_number` (vyomcomm/contact.h). */
  const char *contact_id;
} vc_call_spec;

#define VC_CALL_SPEC_VERSION 2
#define VC_CALL_SPEC_INIT \
  { VC_CALL_SPEC_VERSION, NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL, \
    NULL, 0, 0, 0, NULL }

/** Initialise a vc_call_spec for `version`. @since 0.2 */
VC_EXTERN(int) vc_call_spec_init(vc_call_spec *s, unsigned int version);

/**
 * Validate and store a call as `initiated`, in one transaction, and
 * return it. Nothing is dialled before this returns.
 *
 * A call to a number on the tenant's do-not-call list (unless its
 * category is VC_CATEGORY_OTP), or to a contact who opted out of voice
 * for its category, or who has not opted in where the tenant's policy
 * needs it (marketing, by default), is refused with VC_ECONSENT and
 * nothing is stored.
 *
 * @return 0; VC_EINVALID (bad number, bad spec), VC_ENOTFOUND (unknown
 *   agent, channel, IVR menu or contact; no voice channel), VC_EBUSY
 *   (the agent is on another call), VC_ECONFLICT (idempotency key
 *   reused), VC_ECONSENT
 * @since 0.2
 */
VC_EXTERN(int) vc_call_start(vc_call **out, vc_tenant *tenant,
                             const vc_call_spec *spec);

/** Load a call by id. @return 0, VC_ENOTFOUND. @since 0.2 */
VC_EXTERN(int) vc_call_lookup(vc_call **out, vc_tenant *tenant,
                              const char *id);

/**
 * Hold (`on` 1) or resume (`on` 0) the customer of a bridged call. The
 * request goes to the provider from the engine; the timeline records
 * `hold` or `unhold` once the provider took it.
 *
 * @return 0 (queued); VC_ESTATE (not bridged, already so),
 *   VC_ENOTSUPPORTED (the call's provider cannot)
 * @since 0.2
 */
VC_EXTERN(int) vc_call_hold(vc_call *call, int on);

/**
 * Blind transfer: the customer is connected to `to` (an E.164 number,
 * a sip: URI, or an agent's id or name) and the agent's leg ends.
 * @return 0 (queued); VC_EINVALID, VC_ESTATE, VC_ENOTSUPPORTED
 * @since 0.2
 */
VC_EXTERN(int) vc_call_transfer(vc_call *call, const char *to);

/**
 * End the call, or cancel it before it is placed. A call not yet placed
 * ends `canceled` at once; a live one when the provider confirms.
 * @return 0; VC_ESTATE (already ended), VC_ENOTSUPPORTED
 * @since 0.2
 */
VC_EXTERN(int) vc_call_hangup(vc_call *call);

/**
 * Start (`on` 1) or stop (`on` 0) recording a bridged call whose mode is
 * VC_RECORD_ON_DEMAND.
 * @return 0 (queued); VC_ESTATE, VC_ENOTSUPPORTED
 * @since 0.2
 */
VC_EXTERN(int) vc_call_record(vc_call *call, int on);

/** Reload a handle from the store. @return 0. @since 0.2 */
VC_EXTERN(int) vc_call_refresh(vc_call *call);

/** What vc_call_list() returns, newest first. */
typedef struct vc_call_filter {
  unsigned int version;   /**< VC_CALL_FILTER_VERSION */
  const char *after;      /**< a vc_iter_cursor() value, or NULL */
  int state;              /**< a vc_call_state, or 0 for any */
  const char *agent;      /**< an agent id, or NULL for any */
  const char *channel;    /**< a channel id, or NULL for any */
  const char *customer_number; /**< E.164, or NULL for any */
  int64_t since;          /**< created at or after (Unix ms), or 0 */
  int64_t until;          /**< created before (Unix ms), or 0 */
  /* Added in version 2 (vyomcomm 0.3). */
  /** A vc_call_direction, or 0 for both. @since 0.3 */
  int direction;
} vc_call_filter;

#define VC_CALL_FILTER_VERSION 2
#define VC_CALL_FILTER_INIT \
  { VC_CALL_FILTER_VERSION, NULL, 0, NULL, NULL, NULL, 0, 0, 0 }

/** Initialise a vc_call_filter for `version`. @since 0.2 */
VC_EXTERN(int) vc_call_filter_init(vc_call_filter *f, unsigned int version);

/** List calls, newest first.
 *  @return 0; VC_EINVALID (a malformed cursor, id or number, an unknown
 *    state or direction). @since 0.2 (direction @since 0.3) */
VC_EXTERN(int) vc_call_list(vc_iter **out, vc_tenant *tenant,
                            const vc_call_filter *filter);
/** The next call of a list. @return 0, VC_ITEROVER. @since 0.2 */
VC_EXTERN(int) vc_call_next(vc_call **out, vc_iter *it);

/** Free a call handle; NULL is accepted. @since 0.2 */
VC_EXTERN(void) vc_call_free(vc_call *call);

/* Getters; strings are borrowed from the handle, "" when unset. */
VC_EXTERN(const char *) vc_call_id(const vc_call *call);
VC_EXTERN(int) vc_call_state_of(const vc_call *call);
VC_EXTERN(const char *) vc_call_agent_id(const vc_call *call);
VC_EXTERN(const char *) vc_call_agent_number(const vc_call *call);
VC_EXTERN(const char *) vc_call_customer_number(const vc_call *call);
VC_EXTERN(const char *) vc_call_caller_id(const vc_call *call);
/** The channel that placed it (or is pinned), "" before routing. */
VC_EXTERN(const char *) vc_call_channel_id(const vc_call *call);
/** The provider's id of the call, "" until placed. */
VC_EXTERN(const char *) vc_call_provider_id(const vc_call *call);
VC_EXTERN(const char *) vc_call_metadata_json(const vc_call *call);
/** The resolved vc_record_mode (never VC_RECORD_DEFAULT). */
VC_EXTERN(int) vc_call_record_mode(const vc_call *call);
/** 1 while the customer is on hold. */
VC_EXTERN(int) vc_call_on_hold(const vc_call *call);
/** A vc_call_cause, VC_CAUSE_NONE while live. */
VC_EXTERN(int) vc_call_cause_of(const vc_call *call);
/** The leg whose outcome ended the call before it was bridged. */
VC_EXTERN(int) vc_call_failed_leg(const vc_call *call);
/** The normalized error of a failure to place it, 0 otherwise. */
VC_EXTERN(int) vc_call_error(const vc_call *call);
VC_EXTERN(const char *) vc_call_provider_code(const vc_call *call);
VC_EXTERN(const char *) vc_call_error_message(const vc_call *call);
/** Attempts to place it, over all channels. */
VC_EXTERN(int) vc_call_attempts(const vc_call *call);
/** Seconds the agent and customer talked (0 until it ends). */
VC_EXTERN(int) vc_call_talk_seconds(const vc_call *call);
/** Its cost in micro-units of vc_call_currency(), once known, else 0. */
VC_EXTERN(int64_t) vc_call_cost_micros(const vc_call *call);
VC_EXTERN(const char *) vc_call_currency(const vc_call *call);
/** 1 when the cost is the provider's own price, 0 for an estimate. */
VC_EXTERN(int) vc_call_cost_reported(const vc_call *call);
/** When the call entered `state` (Unix ms), 0 when it never did. For a
 *  terminal state: when it ended. */
VC_EXTERN(int64_t) vc_call_state_at(const vc_call *call, int state);
VC_EXTERN(int64_t) vc_call_created_at(const vc_call *call);
VC_EXTERN(int64_t) vc_call_updated_at(const vc_call *call);
/** The vc_category the call was placed under. @since 0.3 */
VC_EXTERN(int) vc_call_category(const vc_call *call);
/** The contact called, "" when no contact holds the number. @since 0.3 */
VC_EXTERN(const char *) vc_call_contact_id(const vc_call *call);
/**
 * Which way the call goes: a vc_call_direction. An inbound call's
 * customer number is the caller's, its caller id the number called, and
 * its agent the one who took it (none until an agent rings).
 * @since 0.3
 */
VC_EXTERN(int) vc_call_direction_of(const vc_call *call);

/* --- the timeline ------------------------------------------------------ */

/** One entry of a call's timeline. */
typedef struct vc_call_entry vc_call_entry;

/**
 * A call's timeline, oldest first: `ringing`, `answered`, `bridged`,
 * `hold`, `unhold`, `transfer`, `dtmf`, `recording.started`,
 * `recording.stopped`, `recording.available`, `quality`, `hangup`, and
 * `state` for every state change.
 * @since 0.2
 */
VC_EXTERN(int) vc_call_timeline(vc_iter **out, vc_tenant *tenant,
                                const char *call_id);
/** The next entry. @return 0, VC_ITEROVER. @since 0.2 */
VC_EXTERN(int) vc_call_entry_next(vc_call_entry **out, vc_iter *it);
VC_EXTERN(void) vc_call_entry_free(vc_call_entry *e);
/** 1, 2, ... within the call. */
VC_EXTERN(int64_t) vc_call_entry_seq(const vc_call_entry *e);
VC_EXTERN(const char *) vc_call_entry_type(const vc_call_entry *e);
/** A vc_call_leg. */
VC_EXTERN(int) vc_call_entry_leg(const vc_call_entry *e);
/** The call's state after this entry. */
VC_EXTERN(int) vc_call_entry_state(const vc_call_entry *e);
/** The entry's details, a JSON object ({"digits": "1", "menu": ...}). */
VC_EXTERN(const char *) vc_call_entry_detail_json(const vc_call_entry *e);
/** When it happened (the provider's time when it said), Unix ms. */
VC_EXTERN(int64_t) vc_call_entry_at(const vc_call_entry *e);

VC_END_DECL

/** @} */
#endif /* VYOMCOMM_CALL_H */
