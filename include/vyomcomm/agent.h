/**
 * @file vyomcomm/agent.h
 * @brief Agents: the people who place click-to-calls, with a state that
 *        calls and the API move, an activity log and per-agent figures.
 *
 * An agent belongs to a tenant and has a number (E.164 or a sip: URI)
 * the library rings first when the agent places a call. An agent holds
 * at most one live call: vc_call_start() for an agent who has one fails
 * with VC_EBUSY.
 *
 * States and who moves them:
 *
 * | from \ to (API)   | offline | available | break (reason) |
 * |-------------------|---------|-----------|----------------|
 * | offline           | -       | yes       | yes            |
 * | available         | yes     | -         | yes            |
 * | ringing, on_call  | ESTATE  | ESTATE    | ESTATE         |
 * | wrap_up           | yes     | yes       | yes            |
 * | break             | yes     | yes       | yes (new reason) |
 *
 * `ringing`, `on_call` and `wrap_up` are set by calls only: the agent's
 * leg ringing makes the agent `ringing`; the agent answering, the
 * customer ringing or the bridge make it `on_call`; the end of a call
 * the agent answered starts `wrap_up`, which becomes `available` by
 * itself after the agent's wrap-up seconds (by the context's clock, and
 * across restarts); the end of a call the agent never answered puts the
 * agent back in the state it had before the call. An agent may place a
 * call from any state but a call's own; placing one during wrap-up ends
 * the wrap-up.
 *
 * Every change appends an `agent.state` event and an entry to the
 * agent's activity log (vc_agent_activity()).
 *
 * Thread safety: every function may be called from any thread; a
 * vc_agent handle may be shared between threads (updates are serialised
 * on the handle). vc_agent_free() must be the last call on a handle.
 *
 * @defgroup vc_agent Agents
 * @{
 */
#ifndef VYOMCOMM_AGENT_H
#define VYOMCOMM_AGENT_H

#include "common.h"
#include "types.h"
#include "iter.h"

VC_BEGIN_DECL

/** An agent handle: a snapshot of the stored agent. */
typedef struct vc_agent vc_agent;

/** Agent states. Values are pinned. */
typedef enum vc_agent_state {
  VC_AGENT_OFFLINE = 1,
  VC_AGENT_AVAILABLE = 2,
  VC_AGENT_RINGING = 3,      /**< the agent's phone rings for a call */
  VC_AGENT_ON_CALL = 4,
  VC_AGENT_WRAP_UP = 5,      /**< after a call, for wrap_up_s seconds */
  VC_AGENT_BREAK = 6         /**< away, with a reason */
} vc_agent_state;

/** A static name for a state ("offline", "available", ..., "break"), or
 *  "unknown". @since 0.2 */
VC_EXTERN(const char *) vc_agent_state_name(int state);

/** What moved an agent. Values are pinned. */
typedef enum vc_agent_cause {
  VC_AGENT_CAUSE_API = 1,     /**< vc_agent_new() or vc_agent_set_state() */
  VC_AGENT_CAUSE_CALL = 2,    /**< a call's state changed */
  VC_AGENT_CAUSE_WRAP_UP = 3  /**< the wrap-up time of a call ran out */
} vc_agent_cause;

/** A static name for a cause ("api", "call", "wrap_up"). @since 0.2 */
VC_EXTERN(const char *) vc_agent_cause_name(int cause);

/** Limits. */
#define VC_AGENT_NAME_MAX 64
#define VC_AGENT_DISPLAY_NAME_MAX 256
#define VC_AGENT_REASON_MAX 256
#define VC_AGENT_METADATA_MAX 8192
#define VC_AGENT_WRAP_UP_MAX 3600    /**< seconds */
#define VC_AGENT_WRAP_UP_DEFAULT 30  /**< seconds */

/**
 * An agent's settings. For vc_agent_new(), NULL strings and a negative
 * wrap_up_s take the defaults; for vc_agent_update(), they keep the
 * current value. Strings are copied.
 */
typedef struct vc_agent_spec {
  unsigned int version;       /**< VC_AGENT_SPEC_VERSION */
  /** Unique per tenant: [a-z0-9][a-z0-9_.-]{0,63}. Required. */
  const char *name;
  /** Shown to people; "" = none. At most 256 bytes of UTF-8. */
  const char *display_name;
  /** The phone to ring: E.164 ("+14155550100") or a sip: URI
   *  ("sip:alice@example.com"), at most 256 bytes. Required. */
  const char *number;
  /** Seconds of wrap-up after a call the agent answered, 0..3600;
   *  0 = none (back to available at once); default 30. */
  int wrap_up_s;
  /** A JSON object kept with the agent, at most 8 KiB; NULL = none. */
  const char *metadata_json;
} vc_agent_spec;

/** The current version of vc_agent_spec, and an initializer with every
 *  member at its default (vc_agent_spec_init() for other languages). */
#define VC_AGENT_SPEC_VERSION 1
#define VC_AGENT_SPEC_INIT { VC_AGENT_SPEC_VERSION, NULL, NULL, NULL, -1, NULL }

/** Initialise a vc_agent_spec for `version`. @since 0.2 */
VC_EXTERN(int) vc_agent_spec_init(vc_agent_spec *s, unsigned int version);

/**
 * Create an agent, `offline`. Appends `agent.created` and `agent.state`
 * events and the first activity entry.
 *
 * @param out receives the handle (may be NULL if not wanted)
 * @return 0; VC_EINVALID (bad name, number, wrap-up or metadata),
 *   VC_EEXISTS (name taken), VC_ENOTFOUND (the tenant was deleted)
 * @since 0.2
 */
VC_EXTERN(int) vc_agent_new(vc_agent **out, vc_tenant *tenant,
                            const vc_agent_spec *spec);

/**
 * Load an agent of the tenant by id or by name; an id match wins.
 * @return 0, VC_ENOTFOUND, VC_EINVALID
 * @since 0.2
 */
VC_EXTERN(int) vc_agent_lookup(vc_agent **out, vc_tenant *tenant,
                               const char *id_or_name);

/**
 * Change an agent's settings (not its state). The handle shows the new
 * values afterwards; strings borrowed from it before stay valid until
 * vc_agent_free(). Appends `agent.updated`.
 * @return 0, VC_EINVALID, VC_EEXISTS (name taken), VC_ENOTFOUND (gone)
 * @since 0.2
 */
VC_EXTERN(int) vc_agent_update(vc_agent *agent, const vc_agent_spec *spec);

/**
 * Move an agent to `state`: VC_AGENT_OFFLINE, VC_AGENT_AVAILABLE or
 * VC_AGENT_BREAK (see the table above). `reason` is required for a
 * break and optional otherwise (kept in the activity log); at most
 * VC_AGENT_REASON_MAX bytes of UTF-8. Moving to the state the agent is
 * in with the same reason changes nothing and returns 0. The handle is
 * refreshed.
 *
 * @return 0; VC_EINVALID (a state only calls set, a break without a
 *   reason), VC_ESTATE (the agent has a live call)
 * @since 0.2
 */
VC_EXTERN(int) vc_agent_set_state(vc_agent *agent, int state,
                                  const char *reason);

/** Reload a handle from the store. @return 0, VC_ENOTFOUND. @since 0.2 */
VC_EXTERN(int) vc_agent_refresh(vc_agent *agent);

/**
 * Delete an agent who is offline (move it there with vc_agent_set_state()
 * first; an agent with a live call cannot be). In one transaction: the
 * agent is taken out of every queue (a `queue.member_removed` event
 * each), conversations assigned to it become unassigned, and its
 * activity log and per-agent call records are deleted. Calls it took
 * keep its id, and analytics keep its figures. Appends `agent.deleted`.
 * The handle's getters keep returning the last snapshot until
 * vc_agent_free(); everything else on it fails with VC_ENOTFOUND.
 *
 * @return 0; VC_ESTATE (not offline), VC_ENOTFOUND (already deleted)
 * @since 0.3
 */
VC_EXTERN(int) vc_agent_delete(vc_agent *agent);

/** What vc_agent_list() returns, in id (creation) order. */
typedef struct vc_agent_filter {
  unsigned int version;   /**< VC_AGENT_FILTER_VERSION */
  const char *after;      /**< a vc_iter_cursor() value, or NULL */
  int state;              /**< a vc_agent_state, or 0 for any */
} vc_agent_filter;

/** The current version of vc_agent_filter, and an initializer with every
 *  member at its default (vc_agent_filter_init() for other languages). */
#define VC_AGENT_FILTER_VERSION 1
#define VC_AGENT_FILTER_INIT { VC_AGENT_FILTER_VERSION, NULL, 0 }

/** Initialise a vc_agent_filter for `version`. @since 0.2 */
VC_EXTERN(int) vc_agent_filter_init(vc_agent_filter *f,
                                    unsigned int version);

/**
 * List a tenant's agents in id order. A finished wrap-up reads as
 * `available` (also for the state filter).
 * @param filter NULL for all
 * @return 0, VC_EINVALID (bad cursor or state)
 * @since 0.2
 */
VC_EXTERN(int) vc_agent_list(vc_iter **out, vc_tenant *tenant,
                             const vc_agent_filter *filter);
/** The next agent of a list. @return 0, VC_ITEROVER. @since 0.2 */
VC_EXTERN(int) vc_agent_next(vc_agent **out, vc_iter *it);

/** Free an agent handle; NULL is accepted. @since 0.2 */
VC_EXTERN(void) vc_agent_free(vc_agent *agent);

/** @name Getters
 *  Strings are borrowed from the handle (see vc_agent_update),
 *  "" when unset. A handle is a snapshot: vc_agent_refresh() reloads.
 *  @since 0.2 */
/** The agent's id. */
VC_EXTERN(const char *) vc_agent_id(const vc_agent *agent);
/** The id of the agent's tenant. */
VC_EXTERN(const char *) vc_agent_tenant_id(const vc_agent *agent);
/** The agent's unique name within the tenant. */
VC_EXTERN(const char *) vc_agent_name(const vc_agent *agent);
/** The name shown to people, "" when none. */
VC_EXTERN(const char *) vc_agent_display_name(const vc_agent *agent);
/** The E.164 number or sip: URI. @since 0.2 */
VC_EXTERN(const char *) vc_agent_number(const vc_agent *agent);
/** Seconds of wrap-up after an answered call (0 = none). */
VC_EXTERN(int) vc_agent_wrap_up_seconds(const vc_agent *agent);
/** The JSON object kept with the agent, "" when none. */
VC_EXTERN(const char *) vc_agent_metadata_json(const vc_agent *agent);
/** The agent's vc_agent_state (named _of: the type has the plain name).
 *  A wrap-up whose time ran out reads as available. @since 0.2 */
VC_EXTERN(int) vc_agent_state_of(const vc_agent *agent);
/** The reason given with the current state (a break's), "" when none.
 *  @since 0.2 */
VC_EXTERN(const char *) vc_agent_reason(const vc_agent *agent);
/** When the agent entered its current state (Unix ms). @since 0.2 */
VC_EXTERN(int64_t) vc_agent_state_since(const vc_agent *agent);
/** The live call the agent holds, "" when none. @since 0.2 */
VC_EXTERN(const char *) vc_agent_call_id(const vc_agent *agent);
/** During wrap-up: when it ends (Unix ms); else 0. @since 0.2 */
VC_EXTERN(int64_t) vc_agent_wrap_up_until(const vc_agent *agent);
/** When the agent was created (Unix ms). */
VC_EXTERN(int64_t) vc_agent_created_at(const vc_agent *agent);
/** When the agent's settings last changed (Unix ms). */
VC_EXTERN(int64_t) vc_agent_updated_at(const vc_agent *agent);

/* --- the activity log --------------------------------------------------- */

/** One state change of an agent. */
typedef struct vc_agent_change vc_agent_change;

/** Which changes vc_agent_activity() returns, oldest first. */
typedef struct vc_agent_activity_filter {
  unsigned int version;   /**< VC_AGENT_ACTIVITY_FILTER_VERSION */
  const char *after;      /**< a vc_iter_cursor() value, or NULL */
  int64_t since;          /**< at or after (Unix ms), or 0 */
  int64_t until;          /**< before (Unix ms), or 0 */
} vc_agent_activity_filter;

/** The current version of vc_agent_activity_filter, and an initializer with
 *  every member at its default (vc_agent_activity_filter_init() for other
 *  languages). */
#define VC_AGENT_ACTIVITY_FILTER_VERSION 1
#define VC_AGENT_ACTIVITY_FILTER_INIT \
  { VC_AGENT_ACTIVITY_FILTER_VERSION, NULL, 0, 0 }

/** Initialise a vc_agent_activity_filter for `version`. @since 0.2 */
VC_EXTERN(int) vc_agent_activity_filter_init(vc_agent_activity_filter *f,
                                             unsigned int version);

/**
 * An agent's state changes, oldest first: every move with its time, its
 * cause and the call that caused it.
 * @param filter NULL for all
 * @return 0, VC_EINVALID
 * @since 0.2
 */
VC_EXTERN(int) vc_agent_activity(vc_iter **out, const vc_agent *agent,
                                 const vc_agent_activity_filter *filter);
/** The next change. @return 0, VC_ITEROVER. @since 0.2 */
VC_EXTERN(int) vc_agent_change_next(vc_agent_change **out, vc_iter *it);
/** Free a change; NULL is accepted. @since 0.2 */
VC_EXTERN(void) vc_agent_change_free(vc_agent_change *c);
/** 1, 2, ... per agent. @since 0.2 */
VC_EXTERN(int64_t) vc_agent_change_seq(const vc_agent_change *c);
/** The state before (0 for the agent's first entry). @since 0.2 */
VC_EXTERN(int) vc_agent_change_from(const vc_agent_change *c);
/** The state after: a vc_agent_state. @since 0.2 */
VC_EXTERN(int) vc_agent_change_to(const vc_agent_change *c);
/** The reason given, "" when none. @since 0.2 */
VC_EXTERN(const char *) vc_agent_change_reason(const vc_agent_change *c);
/** A vc_agent_cause. @since 0.2 */
VC_EXTERN(int) vc_agent_change_cause(const vc_agent_change *c);
/** The call that caused it, "" for the API. @since 0.2 */
VC_EXTERN(const char *) vc_agent_change_call_id(const vc_agent_change *c);
/** When it happened (Unix ms). @since 0.2 */
VC_EXTERN(int64_t) vc_agent_change_at(const vc_agent_change *c);

/* --- figures ------------------------------------------------------------ */

/**
 * An agent's figures over a period, filled by vc_agent_stats(). The
 * caller sets `version`; the library fills the fields that version has.
 * Times are milliseconds within the period.
 */
typedef struct vc_agent_totals {
  unsigned int version;    /**< VC_AGENT_TOTALS_VERSION */
  int64_t calls;           /**< calls placed in the period */
  int64_t answered_calls;  /**< of those, answered by the agent */
  int64_t talk_ms;         /**< bridged time, of any call */
  int64_t wrap_up_ms;      /**< time in wrap_up */
  int64_t idle_ms;         /**< time available */
  int64_t break_ms;        /**< time on break */
  int64_t on_call_ms;      /**< time ringing or on a call */
  int64_t offline_ms;      /**< time offline (after the agent existed) */
} vc_agent_totals;

/** The current version of vc_agent_totals, and an initializer with every
 *  member at its default (vc_agent_totals_init() for other languages). */
#define VC_AGENT_TOTALS_VERSION 1
#define VC_AGENT_TOTALS_INIT { VC_AGENT_TOTALS_VERSION, 0, 0, 0, 0, 0, 0, 0, 0 }

/** Initialise a vc_agent_totals for `version`. @since 0.2 */
VC_EXTERN(int) vc_agent_totals_init(vc_agent_totals *t,
                                    unsigned int version);

/**
 * An agent's figures for [since, until): calls placed in it, answered
 * calls, and the time spent talking, in wrap-up, available, on break,
 * on calls and offline within it. `until` 0 = now; a period reaching
 * past now counts up to now.
 *
 * @return 0; VC_EINVALID (since >= until, negative times)
 * @since 0.2
 */
VC_EXTERN(int) vc_agent_stats(vc_agent_totals *out, vc_agent *agent,
                              int64_t since, int64_t until);

VC_END_DECL

/** @} */
#endif /* VYOMCOMM_AGENT_H */
