/**
 * @file vyomcomm/queue.h
 * @brief Call queues: where inbound calls wait for an agent, with the
 *        strategy that picks the agent, a maximum wait and what happens
 *        after it (overflow), position announcements and music on hold.
 *
 * A queue has members: agents of the tenant, each with optional skill
 * tags *for this queue* (a membership's tags: one agent may handle
 * billing in one queue and only sales in another, and the agent
 * itself needs no change). A call may require tags; only members
 * having all of them are offered it.
 *
 * Only an agent that is `available` (a finished wrap-up counts as
 * available from its end on; one still running does not; offline,
 * break, ringing and on-call agents never) and holds no call is
 * picked, and the pick claims the agent in the store in the same
 * transaction, so one agent never gets two calls at once, whatever the
 * number of threads or processes on the store. Calls reach queues
 * through inbound numbers (vyomcomm/number.h); how an arriving call is
 * placed in a queue is described in docs/calls.md.
 *
 * Creating, updating and deleting a queue and changing its members
 * append `queue.*` events and audit entries.
 *
 * Thread safety: every function may be called from any thread; a
 * vc_queue handle may be shared between threads (updates are serialised
 * on the handle). vc_queue_free() is the last call on a handle.
 *
 * @defgroup vc_queue Call queues
 * @{
 */
#ifndef VYOMCOMM_QUEUE_H
#define VYOMCOMM_QUEUE_H

#include "common.h"
#include "types.h"
#include "iter.h"

VC_BEGIN_DECL

/** A queue handle: a snapshot of the stored queue. */
typedef struct vc_queue vc_queue;

/** How a queue picks the agent for a call. Values are pinned. */
typedef enum vc_queue_strategy {
  /** The available member who has been available longest. */
  VC_QUEUE_LONGEST_IDLE = 1,
  /** The next available member after the one picked last, in the
   *  order members were added, wrapping around. */
  VC_QUEUE_ROUND_ROBIN = 2,
  /** Ring every available member; the first to answer takes the call. */
  VC_QUEUE_RING_ALL = 3,
  /** Members having every tag the call requires, longest idle first. */
  VC_QUEUE_BY_SKILL = 4
} vc_queue_strategy;

/** A static name ("longest_idle", "round_robin", "ring_all",
 *  "by_skill"), or "unknown". @since 0.3 */
VC_EXTERN(const char *) vc_queue_strategy_name(int strategy);

/** What happens to a call still waiting at the maximum wait. Values are
 *  pinned. */
typedef enum vc_queue_overflow {
  /** The call ends, with the queue's timeout as its reason. */
  VC_QUEUE_OVERFLOW_HANGUP = 1,
  /** The call moves to another queue (target: its id or name). */
  VC_QUEUE_OVERFLOW_QUEUE = 2,
  /** The caller leaves a voicemail (target: the agent, by id or name,
   *  whose mailbox it lands in; "" for the queue's). */
  VC_QUEUE_OVERFLOW_VOICEMAIL = 3,
  /** A callback request is recorded and the call ends (target: the
   *  agent, by id or name, assigned the callback; "" for the queue's
   *  members). */
  VC_QUEUE_OVERFLOW_CALLBACK = 4
} vc_queue_overflow;

/** A static name ("hangup", "queue", "voicemail", "callback"), or
 *  "unknown". @since 0.3 */
VC_EXTERN(const char *) vc_queue_overflow_name(int kind);

/** Limits. */
#define VC_QUEUE_NAME_MAX 64
#define VC_QUEUE_URL_MAX 2048
#define VC_QUEUE_MAX_WAIT_MAX 86400      /**< seconds */
#define VC_QUEUE_MAX_WAIT_DEFAULT 300    /**< seconds */
#define VC_QUEUE_MEMBERS_MAX 500         /**< members per queue */
#define VC_QUEUE_SKILLS_MAX 16           /**< tags per membership */
#define VC_QUEUE_SKILL_MAX 32            /**< bytes per tag */

/**
 * A queue's settings. For vc_queue_new(), NULL, 0 and -1 take the
 * defaults; for vc_queue_update(), they keep the current value.
 * Strings are copied.
 */
typedef struct vc_queue_spec {
  unsigned int version;     /**< VC_QUEUE_SPEC_VERSION */
  /** Unique per tenant: [a-z0-9][a-z0-9_.-]{0,63}. Required. */
  const char *name;
  /** A vc_queue_strategy; 0 = longest idle. */
  int strategy;
  /** Seconds a call may wait, 0..86400; 0 = no limit; -1 = default
   *  (300). */
  int max_wait_s;
  /** 1: tell callers their position where the provider can; 0: don't;
   *  -1 = default (0). */
  int announce_position;
  /** A vc_queue_overflow; 0 = hang up. */
  int overflow_kind;
  /** The overflow's target, as its kind says; "" = none. A queue
   *  target must be another queue of the tenant, and overflowing must
   *  not lead back to this queue. */
  const char *overflow_target;
  /** Music on hold: an http(s) URL the provider fetches, "" = the
   *  provider's default. At most VC_QUEUE_URL_MAX bytes. */
  const char *moh_url;
} vc_queue_spec;

/** The current version of vc_queue_spec, and an initializer with every
 *  member at its default (vc_queue_spec_init() for other languages). */
#define VC_QUEUE_SPEC_VERSION 1
#define VC_QUEUE_SPEC_INIT \
  { VC_QUEUE_SPEC_VERSION, NULL, 0, -1, -1, 0, NULL, NULL }

/** Initialise a vc_queue_spec for `version`. @since 0.3 */
VC_EXTERN(int) vc_queue_spec_init(vc_queue_spec *s, unsigned int version);

/**
 * Create a queue, without members.
 * @param out receives the handle (may be NULL if not wanted)
 * @return 0; VC_EINVALID (bad name, strategy, wait, URL, overflow),
 *   VC_ENOTFOUND (no such overflow queue or agent), VC_EEXISTS (name
 *   taken)
 * @since 0.3
 */
VC_EXTERN(int) vc_queue_new(vc_queue **out, vc_tenant *tenant,
                            const vc_queue_spec *spec);

/**
 * Load a queue by id or by name (an id match wins).
 * @return 0, VC_ENOTFOUND, VC_EINVALID
 * @since 0.3
 */
VC_EXTERN(int) vc_queue_lookup(vc_queue **out, vc_tenant *tenant,
                               const char *id_or_name);

/**
 * Change a queue's settings; the handle shows the new values (strings
 * borrowed before stay valid until vc_queue_free()). Calls already
 * waiting keep the maximum wait they started with.
 * @return 0; as vc_queue_new(), VC_ENOTFOUND (deleted)
 * @since 0.3
 */
VC_EXTERN(int) vc_queue_update(vc_queue *queue, const vc_queue_spec *spec);

/**
 * Delete a queue and its memberships.
 * @return 0; VC_ENOTFOUND (already deleted), VC_ESTATE (a number routes
 *   to it, another queue overflows to it, or calls wait in it)
 * @since 0.3
 */
VC_EXTERN(int) vc_queue_delete(vc_queue *queue);

/** What vc_queue_list() returns, in id (creation) order. */
typedef struct vc_queue_filter {
  unsigned int version;   /**< VC_QUEUE_FILTER_VERSION */
  const char *after;      /**< a vc_iter_cursor() value, or NULL */
} vc_queue_filter;

/** The current version of vc_queue_filter, and an initializer with every
 *  member at its default (vc_queue_filter_init() for other languages). */
#define VC_QUEUE_FILTER_VERSION 1
#define VC_QUEUE_FILTER_INIT { VC_QUEUE_FILTER_VERSION, NULL }

/** Initialise a vc_queue_filter for `version`. @since 0.3 */
VC_EXTERN(int) vc_queue_filter_init(vc_queue_filter *f,
                                    unsigned int version);

/** List the tenant's queues by id. @param filter NULL for all.
 *  @return 0, VC_EINVALID (bad cursor). @since 0.3 */
VC_EXTERN(int) vc_queue_list(vc_iter **out, vc_tenant *tenant,
                             const vc_queue_filter *filter);
/** The next queue of a list. @return 0, VC_ITEROVER. @since 0.3 */
VC_EXTERN(int) vc_queue_next(vc_queue **out, vc_iter *it);

/** Free a queue handle; NULL is accepted. @since 0.3 */
VC_EXTERN(void) vc_queue_free(vc_queue *queue);

/** @name Getters
 *  Strings are borrowed from the handle. @since 0.3 */
/** The queue's id. */
VC_EXTERN(const char *) vc_queue_id(const vc_queue *queue);
/** Its tenant's id. */
VC_EXTERN(const char *) vc_queue_tenant_id(const vc_queue *queue);
/** Its name, unique in the tenant. */
VC_EXTERN(const char *) vc_queue_name(const vc_queue *queue);
/** A vc_queue_strategy. @since 0.3 */
VC_EXTERN(int) vc_queue_strategy_of(const vc_queue *queue);
/** Seconds a call may wait; 0 = no limit. */
VC_EXTERN(int) vc_queue_max_wait_seconds(const vc_queue *queue);
/** 1 when callers are told their position. */
VC_EXTERN(int) vc_queue_announce_position(const vc_queue *queue);
/** A vc_queue_overflow. @since 0.3 */
VC_EXTERN(int) vc_queue_overflow_kind(const vc_queue *queue);
/** The overflow queue's or agent's id, "" when none. @since 0.3 */
VC_EXTERN(const char *) vc_queue_overflow_target(const vc_queue *queue);
/** The music-on-hold URL, "" for the provider's default. */
VC_EXTERN(const char *) vc_queue_moh_url(const vc_queue *queue);
/** When it was stored, Unix ms. */
VC_EXTERN(int64_t) vc_queue_created_at(const vc_queue *queue);
/** When it last changed, Unix ms. */
VC_EXTERN(int64_t) vc_queue_updated_at(const vc_queue *queue);

/* --- members ------------------------------------------------------------ */

/**
 * Add an agent (by id or name) to a queue with its skill tags there:
 * "billing,hindi" (comma-separated, each [a-z0-9][a-z0-9_-]{0,31}, at
 * most VC_QUEUE_SKILLS_MAX), or NULL/"" for none. Adding a member again
 * replaces its tags and keeps its place in the round-robin order.
 * @return 0; VC_EINVALID (bad tags), VC_ENOTFOUND (no such agent, or the
 *   queue was deleted), VC_ETOOBIG (VC_QUEUE_MEMBERS_MAX reached)
 * @since 0.3
 */
VC_EXTERN(int) vc_queue_member_add(vc_queue *queue, const char *agent,
                                   const char *skills);

/**
 * Remove an agent (by id or name) from a queue. A call the agent
 * already has is not affected.
 * @return 0, VC_ENOTFOUND (not a member)
 * @since 0.3
 */
VC_EXTERN(int) vc_queue_member_remove(vc_queue *queue, const char *agent);

/** One member of a queue. */
typedef struct vc_queue_member vc_queue_member;

/** What vc_queue_members() returns, in the order members were added. */
typedef struct vc_queue_member_filter {
  unsigned int version;   /**< VC_QUEUE_MEMBER_FILTER_VERSION */
  const char *after;      /**< a vc_iter_cursor() value, or NULL */
} vc_queue_member_filter;

/** The current version of vc_queue_member_filter, and an initializer with every
 *  member at its default (vc_queue_member_filter_init() for other languages). */
#define VC_QUEUE_MEMBER_FILTER_VERSION 1
#define VC_QUEUE_MEMBER_FILTER_INIT { VC_QUEUE_MEMBER_FILTER_VERSION, NULL }

/** Initialise a vc_queue_member_filter for `version`. @since 0.3 */
VC_EXTERN(int) vc_queue_member_filter_init(vc_queue_member_filter *f,
                                           unsigned int version);

/** List a queue's members. @param filter NULL for all.
 *  @return 0, VC_EINVALID (bad cursor). @since 0.3 */
VC_EXTERN(int) vc_queue_members(vc_iter **out, const vc_queue *queue,
                                const vc_queue_member_filter *filter);
/** The next member. @return 0, VC_ITEROVER. @since 0.3 */
VC_EXTERN(int) vc_queue_member_next(vc_queue_member **out, vc_iter *it);
/** Free a member; NULL is accepted. @since 0.3 */
VC_EXTERN(void) vc_queue_member_free(vc_queue_member *m);
/** The member's agent id. @since 0.3 */
VC_EXTERN(const char *) vc_queue_member_agent_id(const vc_queue_member *m);
/** Its tags in this queue, sorted, comma-separated; "" when none.
 *  @since 0.3 */
VC_EXTERN(const char *) vc_queue_member_skills(const vc_queue_member *m);
/** 1, 2, ...: the round-robin order. @since 0.3 */
VC_EXTERN(int) vc_queue_member_position(const vc_queue_member *m);
/** When the agent joined the queue, Unix ms. @since 0.3 */
VC_EXTERN(int64_t) vc_queue_member_added_at(const vc_queue_member *m);

VC_END_DECL

/** @} */
#endif /* VYOMCOMM_QUEUE_H */
