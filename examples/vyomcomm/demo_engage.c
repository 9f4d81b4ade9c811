/*
 * vyomcomm demo, engagement: contacts with consent, a small marketing
 * campaign over the sandbox SMS channel with its progress, a send refused
 * for want of consent, and the audit trail those calls wrote.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "vyomcomm.h"
#include "cli.h"

/* The campaign's audience: who opted in, who opted out, who never said. */
typedef struct person {
  const char *name;
  const char *phone;
  int consent;          /* a vc_consent */
} person;

static const person PEOPLE[] = {
  { "Asha", "+919810000001", VC_CONSENT_OPTED_IN },
  { "Bela", "+919810000002", VC_CONSENT_OPTED_IN },
  { "Chen", "+14155550103", VC_CONSENT_OPTED_IN },
  { "Dev", "+919810000004", VC_CONSENT_OPTED_OUT },
  { "Eve", "+14155550105", VC_CONSENT_UNKNOWN },
};
#define NPEOPLE (sizeof(PEOPLE) / sizeof(PEOPLE[0]))
#define NOPTED_IN 3

static int add_people(demo_checks *c, vc_tenant *t)
{
  vc_contact_spec s = VC_CONTACT_SPEC_INIT;
  vc_consent_spec cs = VC_CONSENT_SPEC_INIT;
  char id[VC_ID_SIZE];
  int ok = 1;

  for (size_t i = 0; i < NPEOPLE; i++) {
    s.name = PEOPLE[i].name;
    s.phone = PEOPLE[i].phone;
    s.tags = "festival";
    ok &= vc_contact_upsert(id, t, &s) == 0;
    if (ok && PEOPLE[i].consent != VC_CONSENT_UNKNOWN) {
      cs.contact_id = id;
      cs.kind = VC_CHANNEL_SMS;
      cs.category = VC_CATEGORY_MARKETING;
      cs.state = PEOPLE[i].consent;
      cs.source = "web-form";
      ok &= vc_consent_set(t, &cs) == 0;
    }
  }
  return demo_check(c, ok, "add 5 tagged contacts: 3 opted in to marketing "
                           "SMS, 1 opted out, 1 never asked");
}

static int setup(demo_checks *c, vc_tenant *t)
{
  vc_channel_spec cs = VC_CHANNEL_SPEC_INIT;
  vc_template_spec ts = VC_TEMPLATE_SPEC_INIT;
  vc_template *tpl = NULL;
  vc_channel *ch = NULL;
  int ok;

  cs.name = "sms";
  cs.provider = "sandbox-sms";
  cs.sender = "+15550001111";
  ts.name = "festival-offer";
  ts.kind = VC_CHANNEL_SMS;
  ts.text_body = "{{shop}}: 20% off this weekend. Reply STOP to opt out.";
  ts.variables_json = "[\"shop\"]";
  ts.category = VC_CATEGORY_MARKETING;
  ok = demo_check(c, vc_channel_new(&ch, t, &cs) == 0,
                  "add a sandbox SMS channel") &&
       demo_check(c, vc_template_new(&tpl, t, &ts) == 0,
                  "add a marketing template");
  vc_channel_free(ch);
  vc_template_free(tpl);
  return ok && add_people(c, t);
}

static void progress(const vc_campaign_counters *k)
{
  printf("  progress: %llu of %zu reached, %llu sent, %llu failed, %llu "
         "skipped for consent, %llu open\n",
         (unsigned long long)k->total, NPEOPLE,
         (unsigned long long)k->sent, (unsigned long long)k->failed,
         (unsigned long long)k->skipped_consent,
         (unsigned long long)k->open);
}

static void run_campaign(demo_checks *c, vc_ctx *ctx, vc_tenant *t)
{
  static const char *const chain[] = { "sms" };
  vc_campaign_spec s = VC_CAMPAIGN_SPEC_INIT;
  vc_campaign_counters k = VC_CAMPAIGN_COUNTERS_INIT;
  vc_campaign *camp = NULL;
  uint64_t shown = UINT64_MAX;
  int turns = 0;

  s.name = "festival";
  s.template_name = "festival-offer";
  s.chain = chain;
  s.nchain = 1;
  s.audience = VC_AUDIENCE_TAG;
  s.tag = "festival";
  s.vars_json = "{\"shop\":\"Acme Sweets\"}";
  s.rate = 4;               /* messages per second, spaced by due time */
  if (!demo_check(c, vc_campaign_new(&camp, t, &s) == 0 &&
                     vc_campaign_start(camp) == 0,
                  "create and start a campaign for the tag"))
    goto out;
  do {
    if (vc_ctx_run(ctx, 250) < 0 || vc_campaign_counters_get(&k, camp) < 0)
      break;
    if (k.sent + k.skipped_consent + k.total != shown) {
      shown = k.sent + k.skipped_consent + k.total;
      progress(&k);
    }
  } while (k.state != VC_CAMPAIGN_COMPLETED && ++turns < 80);
  demo_check(c, k.state == VC_CAMPAIGN_COMPLETED, "the campaign completed");
  demo_check(c, k.sent == NOPTED_IN && k.skipped_consent == 2 &&
                k.open == 0,
             "the 3 who opted in got one message each; the opted-out and "
             "the never-asked were skipped");
out:
  vc_campaign_free(camp);
}

static void refused_send(demo_checks *c, vc_tenant *t)
{
  vc_message_spec s = VC_MESSAGE_SPEC_INIT;
  char id[VC_ID_SIZE];

  s.kind = VC_CHANNEL_SMS;
  s.to = "+919810000004";  /* Dev, opted out */
  s.template_name = "festival-offer";
  s.vars_json = "{\"shop\":\"Acme Sweets\"}";
  demo_check(c, vc_message_send(id, t, &s) == VC_ECONSENT,
             "a marketing send to the opted-out contact is refused "
             "(VC_ECONSENT) and nothing is stored");
  vc_error_clear();
}

static void audit_trail(demo_checks *c, vc_tenant *t)
{
  vc_iter *it = NULL;
  vc_audit_entry *e;
  int n = 0, campaign_start = 0;

  if (vc_audit_list(&it, t, NULL) == 0) {
    while (vc_audit_next(&e, it) == 0) {
      n++;
      campaign_start += strcmp(vc_audit_entry_action(e),
                               "campaign.start") == 0;
      vc_audit_entry_free(e);
    }
  }
  vc_iter_free(it);
  printf("  the audit trail holds %d rows\n", n);
  demo_check(c, n > 0 && campaign_start == 1,
             "every change above is in the audit trail, the campaign "
             "start once");
}

void demo_engage(demo_checks *c, const char *dir)
{
  static const uint8_t key[32] = { 0x45, 0x6e, 0x67 };
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;
  vc_master_key mk = VC_MASTER_KEY_INIT;
  vc_tenant_spec ts = VC_TENANT_SPEC_INIT;
  vc_store *store = NULL;
  vc_tenant *t = NULL;
  vc_ctx *ctx = NULL;
  char path[600];

  printf("\nengagement (contacts, consent, a campaign, the audit trail)\n");
  snprintf(path, sizeof(path), "%s/engage.db", dir);
  mk.key = key;
  mk.key_len = sizeof(key);
  o.master_key = &mk;
  if (!demo_check(c, vc_store_open_sqlite(&store, path, NULL) == 0 &&
                     (o.store = store, vc_ctx_new(&ctx, &o) == 0),
                  "open a store for engagement")) {
    vc_store_free(store);
    return;
  }
  vc_audit_actor_set("demo");
  ts.slug = "shop";
  ts.timezone = "Asia/Kolkata";
  if (demo_check(c, vc_tenant_new(&t, ctx, &ts) == 0,
                 "create a tenant in Asia/Kolkata") &&
      setup(c, t)) {
    run_campaign(c, ctx, t);
    refused_send(c, t);
    audit_trail(c, t);
  }
  vc_audit_actor_set(NULL);
  vc_tenant_free(t);
  vc_ctx_free(ctx);
}
