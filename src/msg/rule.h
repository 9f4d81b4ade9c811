/*
 * Automation rules inside the library: a rule's definition as the
 * evaluator uses it, the per-context cache of each tenant's enabled
 * rules, and the evaluation (rule_eval.c) that vc__rules_on_event
 * (core/event.h) runs for every event appended.
 */
#ifndef VC_MSG_RULE_H
#define VC_MSG_RULE_H

#include <regex.h>

#include "vyomcomm/consent.h"
#include "vyomcomm/contact.h"
#include "vyomcomm/rule.h"
#include "vyomcomm/template.h"
#include "store/db.h"

typedef struct vc__rule_action {
  int kind;                                    /* a vc_rule_action_kind */
  char template_name[VC_TEMPLATE_NAME_MAX + 1];
  char channel_id[VC_ID_SIZE];                 /* "" = the trigger's */
  char locale[36];
  char vars[VC_RULE_VARS_MAX + 1];             /* "" = none */
  int category;
  char tag[VC_CONTACT_TAG_MAX + 1];
  char agent[VC_RULE_AGENT_MAX + 1];
  int consent;
  int channel_kind;
} vc__rule_action;

typedef struct vc__rule {
  char id[VC_ID_SIZE];
  char name[VC_RULE_NAME_MAX + 1];
  int position, enabled, trigger;
  char keyword[VC_KEYWORD_MAX + 1];            /* folded; "" = pattern */
  char pattern[VC_RULE_PATTERN_MAX + 1];
  regex_t re;
  int has_re;
  uint32_t states, causes;
  int channel_kind;                            /* conditions */
  char channel_id[VC_ID_SIZE];
  char tag[VC_CONTACT_TAG_MAX + 1];
  uint32_t days;
  int window_start, window_end;
  vc__rule_action actions[VC_RULE_ACTIONS_MAX];
  size_t nactions;
  int direction;                               /* a call's, 0 = both */
  int callback_delay_s;
} vc__rule;

/* Free what a rule holds (its compiled pattern). */
void vc__rule_dispose(vc__rule *r);

/* A tenant's enabled rules in evaluation order, shared and immutable. */
typedef struct vc__rule_set {
  int refs;                  /* under the cache's lock */
  uint32_t triggers;         /* (1u << trigger) of the rules held */
  size_t n;
  vc__rule rules[];
} vc__rule_set;

struct vc__rule_cache;
int vc__rule_cache_new(struct vc__rule_cache **out);
void vc__rule_cache_free(struct vc__rule_cache *c);

/* The tenant's rule set, from the cache or read on `db` (inside the
 * caller's transaction): *out NULL when the tenant has no enabled rule.
 * Release a set with vc__rule_set_release(). */
int vc__rule_set_get(vc__rule_set **out, vc__db *db, vc_ctx *ctx,
                     const char *tenant_id);
void vc__rule_set_release(vc_ctx *ctx, vc__rule_set *set);

/* Whether an inbound text matches a rule's keyword or pattern. */
int vc__rule_text_matches(const vc__rule *r, const char *text);

/* Whether rule `a`'s actions can append an event that triggers `b`
 * (their conditions allowing): the edge of the loop check. */
int vc__rule_feeds(const vc__rule *a, const vc__rule *b);

#endif /* VC_MSG_RULE_H */
