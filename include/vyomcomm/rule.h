/**
 * @file vyomcomm/rule.h
 * @brief Automation rules: when something happens (a trigger), and the
 *        conditions hold, do something (up to VC_RULE_ACTIONS_MAX
 *        actions).
 *
 * Triggers: an inbound message whose whole text is a keyword or that
 * matches a pattern, a message reaching a status, a call ending with a
 * cause, a campaign completing or being canceled, a contact opting out.
 * Conditions: the channel (kind or id), a tag of the contact, a time
 * window in the tenant's timezone. Actions: send a template, tag the
 * contact, assign its conversation, set its consent, notify the host
 * (a `rule.notify` event).
 *
 * Rules run in the transaction that appends the triggering event, so a
 * rule's work commits with the change that caused it, or not at all. The
 * tenant's enabled rules are tried in (position, id) order. The events a
 * rule's actions append are offered to the rules again, to a depth of
 * VC_RULE_DEPTH_MAX rules in a chain: beyond it nothing fires and one
 * `rule.loop_stopped` event is appended. A rule that could trigger
 * itself, or close a cycle with the tenant's other enabled rules, is
 * refused with VC_ELOOP when created, updated or enabled.
 *
 * Each run appends a `rule.ran` event (subject: the rule id) whose
 * payload names the trigger, its subject and each action's outcome.
 *
 * Thread safety: every function may be called from any thread; a
 * vc_rule handle is a snapshot and may be shared between threads. A
 * handle is valid while its tenant handle is.
 *
 * @defgroup vc_rule Automation rules
 * @{
 */
#ifndef VYOMCOMM_RULE_H
#define VYOMCOMM_RULE_H

#include "common.h"
#include "types.h"

VC_BEGIN_DECL

/** A rule handle: a snapshot of the stored rule. */
typedef struct vc_rule vc_rule;

/** What a rule waits for. Values are pinned. */
typedef enum vc_rule_trigger {
  /** An inbound message (`inbound.received`) whose text is the keyword
   *  or matches the pattern. */
  VC_RULE_ON_INBOUND = 1,
  /** A message reaching one of `states` (`message.<status>`). */
  VC_RULE_ON_MESSAGE = 2,
  /** A call ending (`call.<final state>`) with one of `causes`. */
  VC_RULE_ON_CALL = 3,
  /** A campaign completed or canceled (`states`: VC_CAMPAIGN_COMPLETED,
   *  VC_CAMPAIGN_CANCELED bits; 0 = both). */
  VC_RULE_ON_CAMPAIGN = 4,
  /** A contact opted out (`contact.opted_out`), on any channel kind or
   *  the `channel_kind` condition's. */
  VC_RULE_ON_OPT_OUT = 5
} vc_rule_trigger;

/** What a rule does. Values are pinned. */
typedef enum vc_rule_action_kind {
  /** Queue a template to the contact (or sender) on the action's channel,
   *  else on the triggering channel; consent and quiet hours apply. */
  VC_RULE_SEND_TEMPLATE = 1,
  VC_RULE_TAG_CONTACT = 2,      /**< add `tag` to the contact */
  VC_RULE_ASSIGN = 3,           /**< assign the conversation to `agent` */
  VC_RULE_SET_CONSENT = 4,      /**< record `consent` (source "rule") */
  /** Append a `rule.notify` event, which reaches the host's event
   *  callback: subject the trigger's subject, payload the rule id and
   *  name, the trigger's event type and subject. */
  VC_RULE_NOTIFY = 5,
  /** Call the caller back: a click-to-call (vc_call_start()) from
   *  `agent` to the call's customer number, shown the number the
   *  customer called, placed the rule's `callback_delay_s` seconds after
   *  the call ended (or later: the customer's quiet hours). Only for a
   *  VC_RULE_ON_CALL rule with `direction` VC_CALL_INBOUND (a callback
   *  is outbound: it never feeds the rule again). One per call and
   *  action. @since 0.3 */
  VC_RULE_CALLBACK = 6
} vc_rule_action_kind;

/** Limits. */
#define VC_RULE_NAME_MAX 100       /**< bytes of a name */
#define VC_RULE_PATTERN_MAX 256    /**< bytes of a pattern */
#define VC_RULE_ACTIONS_MAX 8      /**< actions per rule */
#define VC_RULE_VARS_MAX 1024      /**< bytes of an action's vars_json */
#define VC_RULE_AGENT_MAX 64       /**< bytes of an agent id or name */
#define VC_RULE_TENANT_MAX 200     /**< rules per tenant */
#define VC_RULE_DEPTH_MAX 3        /**< rules in one chain */

/**
 * One action. Strings are copied. Only the members of its kind are read.
 */
typedef struct vc_rule_action {
  unsigned int version;       /**< VC_RULE_ACTION_VERSION */
  int kind;                   /**< a vc_rule_action_kind */
  /** VC_RULE_SEND_TEMPLATE: a template id or name (it must exist when
   *  the rule is stored; one removed later fails that action's run). */
  const char *template_name;
  /** VC_RULE_SEND_TEMPLATE: a channel id or name, or NULL for the
   *  channel of the trigger (an inbound message's or message's channel;
   *  a call, campaign or opt-out has none to answer on). */
  const char *channel;
  const char *locale;         /**< template locale; NULL = the tenant's */
  /** VC_RULE_SEND_TEMPLATE: template variables, a JSON object of at most
   *  VC_RULE_VARS_MAX bytes, or NULL. */
  const char *vars_json;
  /** VC_RULE_SEND_TEMPLATE: a vc_category, 0 = the template's.
   *  VC_RULE_SET_CONSENT: the category, 0 = both. */
  int category;
  const char *tag;            /**< VC_RULE_TAG_CONTACT: the tag */
  /** VC_RULE_ASSIGN: an agent id or name, 1..VC_RULE_AGENT_MAX bytes;
   *  VC_RULE_CALLBACK: the agent who calls back (it must exist). */
  const char *agent;
  /** VC_RULE_SET_CONSENT: VC_CONSENT_OPTED_IN or VC_CONSENT_OPTED_OUT. */
  int consent;
  /** VC_RULE_SET_CONSENT: a vc_channel_kind, 0 = the trigger's. */
  int channel_kind;
} vc_rule_action;

#define VC_RULE_ACTION_VERSION 1
#define VC_RULE_ACTION_INIT \
  { VC_RULE_ACTION_VERSION, 0, NULL, NULL, NULL, NULL, 0, NULL, NULL, 0, 0 }

/** Initialise a vc_rule_action for `version`. @since 0.3 */
VC_EXTERN(int) vc_rule_action_init(vc_rule_action *a, unsigned int version);

/**
 * A rule. Strings are copied.
 */
typedef struct vc_rule_spec {
  unsigned int version;       /**< VC_RULE_SPEC_VERSION */
  /** 1..VC_RULE_NAME_MAX bytes, unique in the tenant. */
  const char *name;
  /** Evaluation order: lower first; equal positions by id (creation). */
  int position;
  int disabled;               /**< 1: stored but never fires */
  int trigger;                /**< a vc_rule_trigger; required */
  /** VC_RULE_ON_INBOUND: the whole text, after trimming white space and
   *  ignoring ASCII case (as STOP is matched), 1..VC_KEYWORD_MAX bytes;
   *  or NULL and a pattern. */
  const char *keyword;
  /** VC_RULE_ON_INBOUND: a POSIX extended regular expression searched in
   *  the text, case-insensitive, 1..VC_RULE_PATTERN_MAX bytes. */
  const char *pattern;
  /** VC_RULE_ON_MESSAGE: statuses, (1u << vc_msg_status) each; required.
   *  VC_RULE_ON_CAMPAIGN: (1u << vc_campaign_lifecycle), 0 = both. */
  uint32_t states;
  /** VC_RULE_ON_CALL: causes, (1u << vc_call_cause) each; 0 = any. */
  uint32_t causes;
  /* Conditions: each one set must hold. */
  int channel_kind;           /**< a vc_channel_kind, 0 = any */
  const char *channel;        /**< a channel id or name, NULL = any */
  const char *tag;            /**< the contact has this tag, NULL = any */
  /** Days of the week in the tenant's timezone, (1u << n) with 0 =
   *  Sunday; 0 = every day. */
  uint32_t days;
  /** Minutes after local midnight, 0..1439: the rule fires from start
   *  (included) to end (excluded); start > end spans midnight; both 0 =
   *  all day. */
  int window_start_min;
  int window_end_min;
  const vc_rule_action *actions;  /**< 1..VC_RULE_ACTIONS_MAX */
  size_t nactions;

  /* Added in version 2 (vyomcomm 0.3). */
  /** VC_RULE_ON_CALL condition: a vc_call_direction, 0 = both (an
   *  inbound missed call: VC_CALL_INBOUND with causes such as
   *  VC_CAUSE_ABANDONED, VC_CAUSE_QUEUE_TIMEOUT, VC_CAUSE_CALLBACK).
   *  @since 0.3 */
  int direction;
  /** VC_RULE_CALLBACK actions: seconds after the call's end, 0..
   *  VC_RULE_CALLBACK_DELAY_MAX. @since 0.3 */
  int callback_delay_s;
} vc_rule_spec;

#define VC_RULE_SPEC_VERSION 2
#define VC_RULE_SPEC_INIT                                               \
  { VC_RULE_SPEC_VERSION, NULL, 0, 0, 0, NULL, NULL, 0, 0, 0, NULL,    \
    NULL, 0, 0, 0, NULL, 0, 0, 0 }

/** The longest delay of a callback, in seconds (a week). @since 0.3 */
#define VC_RULE_CALLBACK_DELAY_MAX (7 * 86400)

/** Initialise a vc_rule_spec for `version`. @since 0.3 */
VC_EXTERN(int) vc_rule_spec_init(vc_rule_spec *s, unsigned int version);

/**
 * Create a rule, in one audited transaction (`rule.create`).
 * @return 0; VC_EINVALID (a missing or malformed field: name, trigger,
 *   keyword and pattern both or neither, a pattern that does not
 *   compile, states, causes, window, days, an action's kind or fields,
 *   vars JSON), VC_ETOOBIG (name, pattern, vars over their limit, more
 *   than VC_RULE_ACTIONS_MAX actions, the tenant has VC_RULE_TENANT_MAX
 *   rules), VC_EEXISTS (the name is taken), VC_ENOTFOUND (a template or
 *   channel named), VC_ELOOP (the rule could trigger itself or close a
 *   cycle of rules), VC_EVERSION, VC_ESTORAGE.
 * @since 0.3
 */
VC_EXTERN(int) vc_rule_new(vc_rule **out, vc_tenant *tenant,
                           const vc_rule_spec *spec);

/**
 * Replace a rule's definition with `spec` (all of it), in one audited
 * transaction (`rule.update`); the handle's snapshot follows.
 * @return the codes of vc_rule_new(); VC_ENOTFOUND when the rule is gone.
 * @since 0.3
 */
VC_EXTERN(int) vc_rule_update(vc_rule *rule, const vc_rule_spec *spec);

/**
 * Delete a rule, in one audited transaction (`rule.delete`). The handle
 * stays readable.
 * @return 0, VC_ENOTFOUND. @since 0.3
 */
VC_EXTERN(int) vc_rule_delete(vc_rule *rule);

/** Load a rule by id or name. @return 0, VC_EINVALID, VC_ENOTFOUND.
 *  @since 0.3 */
VC_EXTERN(int) vc_rule_lookup(vc_rule **out, vc_tenant *tenant,
                              const char *id_or_name);

/** Which rules to list. */
typedef struct vc_rule_filter {
  unsigned int version;   /**< VC_RULE_FILTER_VERSION */
  const char *after;      /**< a vc_iter_cursor() value, or NULL */
} vc_rule_filter;

#define VC_RULE_FILTER_VERSION 1
#define VC_RULE_FILTER_INIT { VC_RULE_FILTER_VERSION, NULL }

/** Initialise a vc_rule_filter for `version`. @since 0.3 */
VC_EXTERN(int) vc_rule_filter_init(vc_rule_filter *f, unsigned int version);

/** List the tenant's rules in id (creation) order.
 *  @return 0, VC_EINVALID, VC_EVERSION. @since 0.3 */
VC_EXTERN(int) vc_rule_list(vc_iter **out, vc_tenant *tenant,
                            const vc_rule_filter *filter);
/** The next rule of a list. @return 0, VC_ITEROVER. @since 0.3 */
VC_EXTERN(int) vc_rule_next(vc_rule **out, vc_iter *it);

/** Free a rule handle; NULL is accepted. @since 0.3 */
VC_EXTERN(void) vc_rule_free(vc_rule *rule);

/* Getters; strings are borrowed from the handle. @since 0.3 */
VC_EXTERN(const char *) vc_rule_id(const vc_rule *rule);
VC_EXTERN(const char *) vc_rule_name(const vc_rule *rule);
VC_EXTERN(int) vc_rule_position(const vc_rule *rule);
VC_EXTERN(int) vc_rule_enabled(const vc_rule *rule);
VC_EXTERN(int) vc_rule_trigger_of(const vc_rule *rule);
VC_EXTERN(size_t) vc_rule_action_count(const vc_rule *rule);
/** The stored definition, a JSON object (channels and templates as
 *  given, resolved to ids where named). @since 0.3 */
VC_EXTERN(const char *) vc_rule_definition_json(const vc_rule *rule);
VC_EXTERN(int64_t) vc_rule_created_at(const vc_rule *rule);
VC_EXTERN(int64_t) vc_rule_updated_at(const vc_rule *rule);

VC_END_DECL

/** @} */
#endif /* VYOMCOMM_RULE_H */
