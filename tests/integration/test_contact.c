/*
 * Contacts through the public API: deduplication on normalized
 * addresses, conflicts, updates, tags, lists with filters and cursors,
 * merge, the contact a message is stored with and the locale its
 * template is rendered in, CSV import (quoting,
 * malformed rows, custom fields, tags, 100,000 rows in flat memory, a
 * failing read callback), bounds, and tenant isolation.
 */
#define _GNU_SOURCE
#include "vyomcomm.h"
#include "harness.h"
#include "tenant_env.h"

#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/wait.h>

static const uint8_t KEY[32] = { 9, 9, 9 };

static void env_open(env *e)
{
  tenant_env_open(e, "c.db", KEY, 7, NULL);
}

static void env_close(env *e)
{
  tenant_env_close(e);
}

static vc_tenant *other_tenant(env *e, const char *slug)
{
  vc_tenant_spec ts = VC_TENANT_SPEC_INIT;
  vc_tenant *t;

  ts.slug = slug;
  CHECK_OK(vc_tenant_new(&t, e->ctx, &ts));
  return t;
}

static void upsert_phone(vc_tenant *t, const char *phone, const char *name,
                         char id[VC_ID_SIZE])
{
  vc_contact_spec s = VC_CONTACT_SPEC_INIT;

  s.phone = phone;
  s.name = name;
  CHECK_OK(vc_contact_upsert(id, t, &s));
}

static int has_tag(const vc_contact *c, const char *tag)
{
  for (size_t i = 0; i < vc_contact_tag_count(c); i++)
    if (strcmp(vc_contact_tag_at(c, i), tag) == 0)
      return 1;
  return 0;
}

static void test_contact__upsert_dedupe(void)
{
  vc_contact_spec s = VC_CONTACT_SPEC_INIT;
  char id[VC_ID_SIZE], id2[VC_ID_SIZE];
  vc_contact *c;
  const char *addr;
  int kind = 0;
  env e;

  env_open(&e);
  s.phone = "+1 (415) 555-0123";
  s.name = "Asha Rao";
  CHECK_OK(vc_contact_upsert(id, e.t, &s));
  CHECK(strlen(id) == 26);
  /* The same number in E.164, with an email: the same contact. */
  vc_contact_spec_init(&s, VC_CONTACT_SPEC_VERSION);
  s.phone = "+14155550123";
  s.email = "Asha.Rao@Example.COM";
  g_now += 1000;
  CHECK_OK(vc_contact_upsert(id2, e.t, &s));
  CHECK_STR(id2, id);
  /* The email's domain compares without case, its local part as is. */
  CHECK_OK(vc_contact_find_by_address(&c, e.t, VC_ADDRESS_EMAIL,
                                      "Asha.Rao@EXAMPLE.com"));
  CHECK_STR(vc_contact_id(c), id);
  CHECK_STR(vc_contact_name(c), "Asha Rao");   /* NULL kept the name */
  CHECK_STR(vc_contact_address(c, VC_ADDRESS_PHONE), "+14155550123");
  CHECK_STR(vc_contact_address(c, VC_ADDRESS_EMAIL), "Asha.Rao@example.com");
  CHECK_STR(vc_contact_address(c, VC_ADDRESS_TELEGRAM), "");
  CHECK(vc_contact_address_count(c) == 2);
  addr = vc_contact_address_at(c, 0, &kind);
  CHECK(kind == VC_ADDRESS_PHONE && strcmp(addr, "+14155550123") == 0);
  CHECK(vc_contact_address_at(c, 2, NULL) == NULL);
  CHECK(vc_contact_created_at(c) == 1700000000000LL);
  CHECK(vc_contact_updated_at(c) == 1700000001000LL);
  vc_contact_free(c);
  CHECK_RC(vc_contact_find_by_address(&c, e.t, VC_ADDRESS_EMAIL,
                                      "asha.rao@example.com"), VC_ENOTFOUND);
  CHECK(c == NULL);
  /* A WhatsApp number in any phone spelling; dedupe by it too. */
  vc_contact_spec_init(&s, VC_CONTACT_SPEC_VERSION);
  s.whatsapp = "+91 98765 43210";
  s.tags = "vip; gold";
  CHECK_OK(vc_contact_upsert(id2, e.t, &s));
  CHECK(strcmp(id2, id) != 0);
  CHECK_OK(vc_contact_find_by_address(&c, e.t, VC_ADDRESS_WHATSAPP,
                                      "919876543210"));
  CHECK_STR(vc_contact_id(c), id2);
  CHECK(vc_contact_tag_count(c) == 2 && has_tag(c, "vip") &&
        has_tag(c, "gold"));
  vc_contact_free(c);
  /* Upsert needs an address; a bad one is refused. */
  vc_contact_spec_init(&s, VC_CONTACT_SPEC_VERSION);
  s.name = "Nobody";
  CHECK_RC(vc_contact_upsert(id2, e.t, &s), VC_EINVALID);
  s.phone = "4155550123"; /* no country code */
  CHECK_RC(vc_contact_upsert(id2, e.t, &s), VC_EINVALID);
  CHECK(id2[0] == '\0');
  s.phone = NULL;
  s.telegram = "@ab"; /* too short */
  CHECK_RC(vc_contact_upsert(id2, e.t, &s), VC_EINVALID);
  s.version = 9;
  CHECK_RC(vc_contact_upsert(id2, e.t, &s), VC_EVERSION);
  env_close(&e);
}

static void test_contact__conflict(void)
{
  vc_contact_spec s = VC_CONTACT_SPEC_INIT;
  char a[VC_ID_SIZE], b[VC_ID_SIZE], id[VC_ID_SIZE];
  vc_contact *c;
  env e;

  env_open(&e);
  upsert_phone(e.t, "+14155550001", "A", a);
  s.email = "b@example.com";
  CHECK_OK(vc_contact_upsert(b, e.t, &s));
  s.phone = "+14155550001";
  s.name = "Both";
  CHECK_RC(vc_contact_upsert(id, e.t, &s), VC_ECONFLICT);
  CHECK(strstr(vc_error_last()->message, "merge") != NULL);
  CHECK(strstr(vc_error_last()->message, a) != NULL);
  /* Nothing changed. */
  CHECK_OK(vc_contact_lookup(&c, e.t, a));
  CHECK_STR(vc_contact_name(c), "A");
  CHECK(vc_contact_address_count(c) == 1);
  vc_contact_free(c);
  /* Giving A the address B holds is a conflict too. */
  CHECK_RC(vc_contact_address_add(e.t, a, VC_ADDRESS_EMAIL,
                                  "b@EXAMPLE.com"), VC_ECONFLICT);
  env_close(&e);
}

static void test_contact__update(void)
{
  vc_contact_spec s = VC_CONTACT_SPEC_INIT;
  char id[VC_ID_SIZE], other[VC_ID_SIZE];
  int qs, qe;
  vc_contact *c;
  env e;

  env_open(&e);
  s.phone = "+14155550123";
  s.email = "old@example.com";
  s.name = "Ravi";
  s.fields_json = "{\"plan\":\"basic\",\"score\":3}";
  s.tags = "a;b";
  CHECK_OK(vc_contact_upsert(id, e.t, &s));
  upsert_phone(e.t, "+14155559999", "Other", other);
  CHECK_OK(vc_contact_lookup(&c, e.t, id));
  vc_contact_quiet_hours(c, &qs, &qe);
  CHECK(qs == VC_TENANT_KEEP && qe == VC_TENANT_KEEP);
  CHECK_STR(vc_contact_timezone(c), "");
  CHECK_STR(vc_contact_locale(c), "");
  vc_contact_free(c);

  vc_contact_spec_init(&s, VC_CONTACT_SPEC_VERSION);
  s.timezone = "Asia/Kolkata";
  s.locale = "hi-in";
  s.quiet_start_min = 22 * 60;
  s.quiet_end_min = 7 * 60;
  s.email = "";                        /* remove the email */
  s.phone = "+44 20 7946 0958";        /* replace the phone */
  s.tags = "c";                        /* replace the tags */
  s.fields_json = "{\"plan\":\"gold\",\"score\":null,\"city\":\"Pune\"}";
  g_now += 5000;
  CHECK_OK(vc_contact_update(e.t, id, &s));
  CHECK_OK(vc_contact_lookup(&c, e.t, id));
  CHECK_STR(vc_contact_name(c), "Ravi");
  CHECK_STR(vc_contact_timezone(c), "Asia/Kolkata");
  CHECK_STR(vc_contact_locale(c), "hi-IN");
  vc_contact_quiet_hours(c, &qs, &qe);
  CHECK(qs == 1320 && qe == 420);
  CHECK(vc_contact_address_count(c) == 1);
  CHECK_STR(vc_contact_address(c, VC_ADDRESS_PHONE), "+442079460958");
  CHECK(vc_contact_tag_count(c) == 1 && has_tag(c, "c"));
  CHECK_STR(vc_contact_fields_json(c), "{\"plan\":\"gold\",\"city\":\"Pune\"}");
  CHECK(vc_contact_updated_at(c) == 1700000005000LL);
  vc_contact_free(c);
  /* The old phone is free again; the new one found. */
  CHECK_RC(vc_contact_find_by_address(&c, e.t, VC_ADDRESS_PHONE,
                                      "+14155550123"), VC_ENOTFOUND);

  /* Back to the tenant's settings. */
  vc_contact_spec_init(&s, VC_CONTACT_SPEC_VERSION);
  s.timezone = "";
  s.locale = "";
  s.name = "";
  s.quiet_start_min = s.quiet_end_min = VC_QUIET_NONE;
  CHECK_OK(vc_contact_update(e.t, id, &s));
  CHECK_OK(vc_contact_lookup(&c, e.t, id));
  CHECK_STR(vc_contact_name(c), "");
  CHECK_STR(vc_contact_timezone(c), "");
  vc_contact_quiet_hours(c, &qs, &qe);
  CHECK(qs == VC_QUIET_NONE && qe == VC_QUIET_NONE);
  vc_contact_free(c);
  s.quiet_start_min = s.quiet_end_min = VC_TENANT_KEEP;
  CHECK_OK(vc_contact_update(e.t, id, &s));
  CHECK_OK(vc_contact_lookup(&c, e.t, id));
  vc_contact_quiet_hours(c, &qs, &qe);
  CHECK(qs == VC_TENANT_KEEP && qe == VC_TENANT_KEEP);
  vc_contact_free(c);

  /* Refusals change nothing. */
  vc_contact_spec_init(&s, VC_CONTACT_SPEC_VERSION);
  s.phone = "+14155559999";            /* the other contact's */
  s.name = "Changed";
  CHECK_RC(vc_contact_update(e.t, id, &s), VC_ECONFLICT);
  CHECK_OK(vc_contact_lookup(&c, e.t, id));
  CHECK_STR(vc_contact_name(c), "");
  CHECK_STR(vc_contact_address(c, VC_ADDRESS_PHONE), "+442079460958");
  vc_contact_free(c);
  vc_contact_spec_init(&s, VC_CONTACT_SPEC_VERSION);
  s.quiet_start_min = 10;
  s.quiet_end_min = 10;
  CHECK_RC(vc_contact_update(e.t, id, &s), VC_EINVALID);
  s.quiet_start_min = 1440;
  s.quiet_end_min = 10;
  CHECK_RC(vc_contact_update(e.t, id, &s), VC_EINVALID);
  vc_contact_spec_init(&s, VC_CONTACT_SPEC_VERSION);
  s.name = "X";
  CHECK_RC(vc_contact_update(e.t, "01ARZ3NDEKTSV4RRFFQ69G5FAV", &s),
           VC_ENOTFOUND);
  CHECK_RC(vc_contact_update(e.t, "not-an-id", &s), VC_EINVALID);
  env_close(&e);
}

static void test_contact__tags(void)
{
  char id[VC_ID_SIZE], tag[16];
  vc_contact *c;
  env e;

  env_open(&e);
  upsert_phone(e.t, "+14155550123", "T", id);
  CHECK_OK(vc_contact_tag_add(e.t, id, "vip"));
  CHECK_OK(vc_contact_tag_add(e.t, id, " vip "));   /* trimmed: the same */
  CHECK_OK(vc_contact_tag_add(e.t, id, "newsletter"));
  CHECK_OK(vc_contact_lookup(&c, e.t, id));
  CHECK(vc_contact_tag_count(c) == 2);
  CHECK_STR(vc_contact_tag_at(c, 0), "newsletter");  /* byte order */
  CHECK_STR(vc_contact_tag_at(c, 1), "vip");
  CHECK(vc_contact_tag_at(c, 2) == NULL);
  vc_contact_free(c);
  CHECK_OK(vc_contact_tag_remove(e.t, id, "vip"));
  CHECK_OK(vc_contact_tag_remove(e.t, id, "absent"));
  CHECK_OK(vc_contact_lookup(&c, e.t, id));
  CHECK(vc_contact_tag_count(c) == 1 && has_tag(c, "newsletter"));
  vc_contact_free(c);
  CHECK_RC(vc_contact_tag_add(e.t, id, "a;b"), VC_EINVALID);
  CHECK_RC(vc_contact_tag_add(e.t, id, "a,b"), VC_EINVALID);
  CHECK_RC(vc_contact_tag_add(e.t, id, "bad\ttab"), VC_EINVALID);
  CHECK_RC(vc_contact_tag_add(e.t, id, ""), VC_EINVALID);
  CHECK_RC(vc_contact_tag_add(e.t, "01ARZ3NDEKTSV4RRFFQ69G5FAV", "x"),
           VC_ENOTFOUND);
  /* VC_CONTACT_TAGS_MAX: the 65th is refused. */
  for (int i = 1; i < VC_CONTACT_TAGS_MAX; i++) {
    snprintf(tag, sizeof(tag), "t%02d", i);
    CHECK_OK(vc_contact_tag_add(e.t, id, tag));
  }
  CHECK_RC(vc_contact_tag_add(e.t, id, "one-too-many"), VC_ETOOBIG);
  CHECK_OK(vc_contact_lookup(&c, e.t, id));
  CHECK(vc_contact_tag_count(c) == VC_CONTACT_TAGS_MAX);
  vc_contact_free(c);
  env_close(&e);
}

/* Read a whole list; ids in `ids` (up to cap), returns the count. */
static int list_all(vc_tenant *t, const vc_contact_filter *f,
                    char (*ids)[VC_ID_SIZE], int cap)
{
  vc_iter *it;
  vc_contact *c;
  int n = 0, rc;

  CHECK_OK(vc_contact_list(&it, t, f));
  while ((rc = vc_contact_next(&c, it)) == 0) {
    if (ids != NULL && n < cap)
      snprintf(ids[n], VC_ID_SIZE, "%s", vc_contact_id(c));
    n++;
    vc_contact_free(c);
  }
  CHECK(rc == VC_ITEROVER);
  vc_iter_free(it);
  return n;
}

static void test_contact__list(void)
{
  static char ids[130][VC_ID_SIZE], got[130][VC_ID_SIZE];
  vc_contact_filter f = VC_CONTACT_FILTER_INIT;
  char cursor[64];
  vc_iter *it;
  vc_contact *c;
  int n;
  env e;

  env_open(&e);
  for (int i = 0; i < 120; i++) {
    vc_contact_spec s = VC_CONTACT_SPEC_INIT;
    char phone[20], email[40], name[20];
    snprintf(phone, sizeof(phone), "+1415555%04d", i);
    snprintf(email, sizeof(email), "p%d@example.com", i);
    snprintf(name, sizeof(name), i % 3 == 0 ? "Anita %d" : "Bala %d", i);
    s.phone = phone;
    s.email = i % 2 == 0 ? email : NULL;
    s.name = name;
    s.tags = i % 4 == 0 ? "even4" : "other";
    g_now += 10;
    CHECK_OK(vc_contact_upsert(ids[i], e.t, &s));
  }
  /* All, across three pages, in creation order. */
  CHECK(list_all(e.t, NULL, got, 130) == 120);
  for (int i = 0; i < 120; i++)
    CHECK_STR(got[i], ids[i]);
  /* Each filter. */
  f.tag = "even4";
  CHECK(list_all(e.t, &f, got, 130) == 30);
  CHECK_STR(got[1], ids[4]);
  vc_contact_filter_init(&f, VC_CONTACT_FILTER_VERSION);
  f.address_kind = VC_ADDRESS_EMAIL;
  CHECK(list_all(e.t, &f, NULL, 0) == 60);
  f.address_kind = VC_ADDRESS_TELEGRAM;
  CHECK(list_all(e.t, &f, NULL, 0) == 0);
  vc_contact_filter_init(&f, VC_CONTACT_FILTER_VERSION);
  f.name_prefix = "anITA";
  CHECK(list_all(e.t, &f, NULL, 0) == 40);
  vc_contact_filter_init(&f, VC_CONTACT_FILTER_VERSION);
  f.updated_since = 1700000000000LL + 10 * 100;  /* the 100th on */
  CHECK(list_all(e.t, &f, got, 130) == 21);
  CHECK_STR(got[0], ids[99]);
  /* Combined: tag and email and name. */
  vc_contact_filter_init(&f, VC_CONTACT_FILTER_VERSION);
  f.tag = "even4";
  f.address_kind = VC_ADDRESS_EMAIL;
  f.name_prefix = "Anita";
  CHECK(list_all(e.t, &f, NULL, 0) == 10);  /* i % 12 == 0 */
  /* A cursor resumes a list after the 70th contact, in a new iterator. */
  CHECK_OK(vc_contact_list(&it, e.t, NULL));
  CHECK_STR(vc_iter_cursor(it), "");
  for (int i = 0; i < 70; i++) {
    CHECK_OK(vc_contact_next(&c, it));
    vc_contact_free(c);
  }
  snprintf(cursor, sizeof(cursor), "%s", vc_iter_cursor(it));
  CHECK_STR(cursor, ids[69]);
  vc_iter_free(it);
  vc_contact_filter_init(&f, VC_CONTACT_FILTER_VERSION);
  f.after = cursor;
  n = list_all(e.t, &f, got, 130);
  CHECK(n == 50);
  CHECK_STR(got[0], ids[70]);
  CHECK_STR(got[49], ids[119]);
  /* Bad filters. */
  f.after = "nope";
  CHECK_RC(vc_contact_list(&it, e.t, &f), VC_EINVALID);
  vc_contact_filter_init(&f, VC_CONTACT_FILTER_VERSION);
  f.address_kind = 9;
  CHECK_RC(vc_contact_list(&it, e.t, &f), VC_EINVALID);
  f.address_kind = 0;
  f.tag = "a;b";
  CHECK_RC(vc_contact_list(&it, e.t, &f), VC_EINVALID);
  env_close(&e);
}

static void sandbox_channel(vc_tenant *t, const char *name,
                            const char *provider)
{
  vc_channel_spec s = VC_CHANNEL_SPEC_INIT;
  vc_channel *ch;

  s.name = name;
  s.provider = provider;
  s.config_json = "{\"outcome\":\"accepted\"}";
  s.sender = strcmp(provider, "sandbox-email") == 0 ? "noreply@acme.test"
                                                    : "+15550001111";
  CHECK_OK(vc_channel_new(&ch, t, &s));
  vc_channel_free(ch);
}

static const char *message_contact(env *e, int kind, const char *to,
                                   const char *contact_id)
{
  static char out[VC_ID_SIZE];
  vc_message_spec m;
  vc_message *msg;
  char id[VC_ID_SIZE];

  vc_message_spec_init(&m, VC_MESSAGE_SPEC_VERSION);
  m.kind = kind;
  m.to = to;
  m.text = "hello";
  if (kind == VC_CHANNEL_EMAIL)
    m.subject = "hi";
  m.contact_id = contact_id;
  CHECK_OK(vc_message_send(id, e->t, &m));
  CHECK_OK(vc_message_lookup(&msg, e->t, id));
  snprintf(out, sizeof(out), "%s", vc_message_contact_id(msg));
  vc_message_free(msg);
  return out;
}

static void test_contact__merge(void)
{
  vc_contact_spec s = VC_CONTACT_SPEC_INIT;
  char a[VC_ID_SIZE], b[VC_ID_SIZE], d[VC_ID_SIZE], x[VC_ID_SIZE];
  vc_iter *it;
  const vc_event *ev;
  vc_contact *c;
  int merged_events = 0;
  env e;

  env_open(&e);
  sandbox_channel(e.t, "sms", "sandbox-sms");
  sandbox_channel(e.t, "mail", "sandbox-email");
  s.phone = "+14155550123";
  s.name = "Survivor";
  s.tags = "x";
  s.fields_json = "{\"f1\":1,\"both\":\"mine\"}";
  CHECK_OK(vc_contact_upsert(a, e.t, &s));
  vc_contact_spec_init(&s, VC_CONTACT_SPEC_VERSION);
  s.email = "m@example.com";
  s.name = "Merged";
  s.timezone = "Europe/Berlin";
  s.tags = "y;x";
  s.fields_json = "{\"f2\":2,\"both\":\"theirs\"}";
  CHECK_OK(vc_contact_upsert(b, e.t, &s));
  /* A message to b before the merge keeps b's id. */
  CHECK_STR(message_contact(&e, VC_CHANNEL_EMAIL, "m@example.com", NULL), b);

  CHECK_OK(vc_contact_merge(e.t, a, b));
  CHECK_OK(vc_contact_lookup(&c, e.t, a));
  CHECK_STR(vc_contact_name(c), "Survivor");
  CHECK_STR(vc_contact_timezone(c), "Europe/Berlin");  /* it had none */
  CHECK(vc_contact_address_count(c) == 2);
  CHECK_STR(vc_contact_address(c, VC_ADDRESS_EMAIL), "m@example.com");
  CHECK(vc_contact_tag_count(c) == 2 && has_tag(c, "x") && has_tag(c, "y"));
  CHECK_STR(vc_contact_fields_json(c),
            "{\"f1\":1,\"both\":\"mine\",\"f2\":2}");
  vc_contact_free(c);
  /* The merged id resolves to the survivor, and is listed no more. */
  CHECK_OK(vc_contact_lookup(&c, e.t, b));
  CHECK_STR(vc_contact_id(c), a);
  vc_contact_free(c);
  CHECK(list_all(e.t, NULL, NULL, 0) == 1);
  /* Messages to the merged contact's address, or naming its id, are
   * stored with the survivor. */
  CHECK_STR(message_contact(&e, VC_CHANNEL_EMAIL, "m@example.com", NULL), a);
  CHECK_STR(message_contact(&e, VC_CHANNEL_SMS, "+14155550123", b), a);
  /* Again: nothing to do. Into itself: refused. */
  CHECK_OK(vc_contact_merge(e.t, a, b));
  CHECK_RC(vc_contact_merge(e.t, a, a), VC_EINVALID);
  CHECK_RC(vc_contact_merge(e.t, a, "01ARZ3NDEKTSV4RRFFQ69G5FAV"),
           VC_ENOTFOUND);
  /* A into D: b's tombstone now points at D. */
  upsert_phone(e.t, "+14155550999", "D", d);
  CHECK_OK(vc_contact_merge(e.t, d, a));
  CHECK_OK(vc_contact_lookup(&c, e.t, b));
  CHECK_STR(vc_contact_id(c), d);
  CHECK(vc_contact_address_count(c) == 3);
  CHECK_STR(vc_contact_name(c), "D");
  vc_contact_free(c);
  /* Updates and tags through a merged id reach the survivor. */
  CHECK_OK(vc_contact_tag_add(e.t, b, "via-merged"));
  CHECK_OK(vc_contact_lookup(&c, e.t, d));
  CHECK(has_tag(c, "via-merged"));
  vc_contact_free(c);
  CHECK_OK(vc_events_since(&it, e.t, 0));
  while (vc_event_next(&ev, it) == 0)
    merged_events += strcmp(ev->type, "contact.merged") == 0;
  vc_iter_free(it);
  CHECK(merged_events == 2);
  /* A merge past a limit is refused whole. */
  for (int i = 3; i < VC_CONTACT_ADDRESSES_MAX; i++) {
    char phone[20];
    snprintf(phone, sizeof(phone), "+1415666%04d", i);
    CHECK_OK(vc_contact_address_add(e.t, d, VC_ADDRESS_PHONE, phone));
  }
  upsert_phone(e.t, "+14155557777", "X", x);
  CHECK_RC(vc_contact_address_add(e.t, d, VC_ADDRESS_PHONE, "+14155558888"),
           VC_ETOOBIG);
  CHECK_RC(vc_contact_merge(e.t, d, x), VC_ETOOBIG);
  CHECK_OK(vc_contact_lookup(&c, e.t, x));
  CHECK_STR(vc_contact_id(c), x);
  vc_contact_free(c);
  env_close(&e);
}

static void test_contact__message_contact(void)
{
  vc_contact_spec s = VC_CONTACT_SPEC_INIT;
  char a[VC_ID_SIZE], w[VC_ID_SIZE], id[VC_ID_SIZE];
  vc_message_spec m;
  env e;

  env_open(&e);
  sandbox_channel(e.t, "sms", "sandbox-sms");
  upsert_phone(e.t, "+1 415 555 0123", "A", a);
  s.whatsapp = "919876543210";
  CHECK_OK(vc_contact_upsert(w, e.t, &s));
  CHECK_STR(message_contact(&e, VC_CHANNEL_SMS, "+14155550123", NULL), a);
  CHECK_STR(message_contact(&e, VC_CHANNEL_SMS, "+14155550124", NULL), "");
  /* An explicit contact wins over the address's. */
  CHECK_STR(message_contact(&e, VC_CHANNEL_SMS, "+14155550123", w), w);
  /* An unknown contact id is refused, and nothing is stored. */
  vc_message_spec_init(&m, VC_MESSAGE_SPEC_VERSION);
  m.kind = VC_CHANNEL_SMS;
  m.to = "+14155550123";
  m.text = "hello";
  m.contact_id = "01ARZ3NDEKTSV4RRFFQ69G5FAV";
  CHECK_RC(vc_message_send(id, e.t, &m), VC_ENOTFOUND);
  CHECK(id[0] == '\0');
  env_close(&e);
}

/* The text a message was stored with. */
static const char *stored_text(const char *id)
{
  static char out[128];
  sqlite3 *db;
  sqlite3_stmt *st;

  out[0] = '\0';
  CHECK(sqlite3_open(vc_test_path("c.db"), &db) == SQLITE_OK);
  CHECK(sqlite3_prepare_v2(db, "SELECT text_body FROM vc_message WHERE"
                           " id = ?1", -1, &st, NULL) == SQLITE_OK);
  sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
  if (sqlite3_step(st) == SQLITE_ROW)
    snprintf(out, sizeof(out), "%s", sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

/* A templated send without a locale renders in the recipient contact's
 * locale (with the usual fallback), else the tenant's; a locale given
 * wins. */
static void test_contact__template_in_contact_locale(void)
{
  static const struct {
    const char *to, *contact, *locale, *want;
  } cases[] = {
    { "+14155550101", NULL, NULL, "Namaste Ravi" },   /* hi-IN -> hi */
    { "+14155550102", NULL, NULL, "Hello Ravi" },     /* no locale */
    { "+14155550103", NULL, NULL, "Hello Ravi" },     /* fr: none */
    { "+14155550104", NULL, NULL, "Hello Ravi" },     /* no contact */
    { "+14155550101", NULL, "en", "Hello Ravi" },     /* given wins */
    { "+14155550104", "a", NULL, "Namaste Ravi" },    /* by contact */
  };
  vc_template_spec ts = VC_TEMPLATE_SPEC_INIT;
  vc_contact_spec cs = VC_CONTACT_SPEC_INIT;
  char a[VC_ID_SIZE], other[VC_ID_SIZE], id[VC_ID_SIZE];
  vc_template *tpl;
  env e;

  env_open(&e);
  sandbox_channel(e.t, "sms", "sandbox-sms");
  ts.name = "hello";
  ts.kind = VC_CHANNEL_SMS;
  ts.text_body = "Hello {{name}}";
  CHECK_OK(vc_template_new(&tpl, e.t, &ts));
  ts.name = NULL;
  ts.locale = "hi";
  ts.text_body = "Namaste {{name}}";
  CHECK_OK(vc_template_add_variant(tpl, &ts));
  vc_template_free(tpl);
  cs.phone = "+14155550101";
  cs.locale = "hi-IN";
  CHECK_OK(vc_contact_upsert(a, e.t, &cs));
  cs.phone = "+14155550102";
  cs.locale = NULL;
  CHECK_OK(vc_contact_upsert(other, e.t, &cs));
  cs.phone = "+14155550103";
  cs.locale = "fr";
  CHECK_OK(vc_contact_upsert(other, e.t, &cs));
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    vc_message_spec m;
    vc_message_spec_init(&m, VC_MESSAGE_SPEC_VERSION);
    m.kind = VC_CHANNEL_SMS;
    m.to = cases[i].to;
    m.template_name = "hello";
    m.vars_json = "{\"name\":\"Ravi\"}";
    m.locale = cases[i].locale;
    m.contact_id = cases[i].contact ? a : NULL;
    CHECK_OK(vc_message_send(id, e.t, &m));
    CHECK_STR(stored_text(id), cases[i].want);
  }
  env_close(&e);
}

/* ---- CSV ---------------------------------------------------------------- */

/* A read callback over a string, `step` bytes at a time. */
typedef struct text_reader {
  const char *text;
  size_t len, pos, step;
} text_reader;

static int read_text(void *payload, char *buf, size_t cap, size_t *got)
{
  text_reader *r = payload;
  size_t n = r->len - r->pos;

  if (n > cap)
    n = cap;
  if (n > r->step)
    n = r->step;
  memcpy(buf, r->text + r->pos, n);
  r->pos += n;
  *got = n;
  return 0;
}

#define MAX_ERRORS 32
typedef struct errors {
  int n;
  uint64_t line[MAX_ERRORS];
  int code[MAX_ERRORS];
} errors;

static void on_error(void *payload, uint64_t line, int error,
                     const char *message)
{
  errors *e = payload;

  CHECK(message != NULL && message[0] != '\0');
  if (e->n < MAX_ERRORS) {
    e->line[e->n] = line;
    e->code[e->n] = error;
  }
  e->n++;
}

static int import_text(vc_contact_import_result *res, vc_tenant *t,
                       const char *text, size_t step, errors *errs,
                       const char *tags)
{
  vc_contact_import_spec spec = VC_CONTACT_IMPORT_SPEC_INIT;
  text_reader r = { text, strlen(text), 0, step };

  vc_contact_import_result_init(res, VC_CONTACT_IMPORT_RESULT_VERSION);
  spec.read = read_text;
  spec.read_payload = &r;
  spec.on_error = on_error;
  spec.error_payload = errs;
  spec.tags = tags;
  return vc_contact_import_csv(res, t, &spec);
}

static void test_contact__csv_quoting(void)
{
  static const char csv[] =
    "\xEF\xBB\xBF" "Name,Phone,email,tags,note,Empty\r\n"
    "\"Rao, Asha\",+1 (415) 555-0123,asha@Example.com,vip; gold,"
    "\"said \"\"hi\"\"\nand left\",\r\n"
    "Plain,+14155550124,,,plain note,x\n"
    "\n"
    "\"Ünïcødé\",\"+14155550125\",,\"a;b\",\"\",\n"
    "Last,+14155550126,,,\"no newline at the end\",";
  vc_contact_import_result res;
  errors errs = { 0 };
  vc_contact *c;
  env e;

  env_open(&e);
  /* Chunks of 1, 7 and all bytes give the same import. */
  for (int i = 0; i < 3; i++) {
    static const size_t steps[] = { 1, 7, 4096 };
    CHECK_OK(import_text(&res, e.t, csv, steps[i], &errs, "imported"));
    CHECK(res.rows == 4 && res.rejected == 0 && errs.n == 0);
    CHECK(i == 0 ? res.created == 4 && res.updated == 0
                 : res.created == 0 && res.updated == 4);
  }
  CHECK_OK(vc_contact_find_by_address(&c, e.t, VC_ADDRESS_PHONE,
                                      "+14155550123"));
  CHECK_STR(vc_contact_name(c), "Rao, Asha");
  CHECK_STR(vc_contact_address(c, VC_ADDRESS_EMAIL), "asha@example.com");
  CHECK(has_tag(c, "vip") && has_tag(c, "gold") && has_tag(c, "imported"));
  CHECK_STR(vc_contact_fields_json(c),
            "{\"note\":\"said \\\"hi\\\"\\nand left\"}");
  vc_contact_free(c);
  CHECK_OK(vc_contact_find_by_address(&c, e.t, VC_ADDRESS_PHONE,
                                      "+14155550124"));
  CHECK_STR(vc_contact_fields_json(c),
            "{\"note\":\"plain note\",\"Empty\":\"x\"}");
  vc_contact_free(c);
  CHECK_OK(vc_contact_find_by_address(&c, e.t, VC_ADDRESS_PHONE,
                                      "+14155550125"));
  CHECK_STR(vc_contact_name(c), "Ünïcødé");
  CHECK(has_tag(c, "a") && has_tag(c, "b"));
  CHECK_STR(vc_contact_fields_json(c), "{}");
  vc_contact_free(c);
  CHECK_OK(vc_contact_find_by_address(&c, e.t, VC_ADDRESS_PHONE,
                                      "+14155550126"));
  CHECK_STR(vc_contact_fields_json(c),
            "{\"note\":\"no newline at the end\"}");
  vc_contact_free(c);
  env_close(&e);
}

static void test_contact__csv_malformed(void)
{
  static const char csv[] =
    "name,phone,timezone,locale,note\n" /* line 1 */
    "Good1,+14155550001,,\n"             /* 2 */
    "Bad\"quote,+14155550002,,\n"        /* 3: a quote in a field */
    "\"Closed\"x,+14155550003,,\n"       /* 4: text after a quote */
    "NoAddress,,,\n"                     /* 5: no address */
    "BadPhone,12345,,\n"                 /* 6: not E.164 */
    "TooMany,+14155550007,,,,extra\n"    /* 7: more columns */
    "BadZone,+14155550008,Mars/Olympus,\n" /* 8 */
    "BadLocale,+14155550009,,en_US\n"    /* 9 */
    "Multi,+14155550010,,,\"two\nlines\"\n" /* 10-11: good */
    "Bin\xff,+14155550012,,\n"           /* 12: not UTF-8 */
    "Good2,+14155550013,Asia/Kolkata,ta-in\n" /* 13 */
    "Bare\rCR,+14155550014,,\n"          /* 14: a bare CR */
    "\"Unterminated,+14155550015,,\n";   /* 15: to the end */
  static const uint64_t lines[] = { 3, 4, 5, 6, 7, 8, 9, 12, 14, 15 };
  vc_contact_import_result res;
  errors errs = { 0 };
  vc_contact *c;
  env e;

  env_open(&e);
  CHECK_OK(import_text(&res, e.t, csv, 5, &errs, NULL));
  CHECK(res.rows == 13);
  CHECK(res.created == 3 && res.updated == 0);
  CHECK(res.rejected == 10);
  CHECK(errs.n == 10);
  for (int i = 0; i < 10; i++)
    CHECK(errs.line[i] == lines[i]);
  CHECK(errs.code[7] == VC_EENCODING);
  CHECK(errs.code[0] == VC_EINVALID);
  CHECK_OK(vc_contact_find_by_address(&c, e.t, VC_ADDRESS_PHONE,
                                      "+14155550010"));
  CHECK_STR(vc_contact_fields_json(c), "{\"note\":\"two\\nlines\"}");
  vc_contact_free(c);
  CHECK_OK(vc_contact_find_by_address(&c, e.t, VC_ADDRESS_PHONE,
                                      "+14155550013"));
  CHECK_STR(vc_contact_timezone(c), "Asia/Kolkata");
  CHECK_STR(vc_contact_locale(c), "ta-IN");
  vc_contact_free(c);
  CHECK_RC(vc_contact_find_by_address(&c, e.t, VC_ADDRESS_PHONE,
                                      "+14155550002"), VC_ENOTFOUND);
  /* A row whose addresses belong to two contacts is refused alone. */
  memset(&errs, 0, sizeof(errs));
  CHECK_OK(import_text(&res, e.t,
                       "phone,whatsapp,email\n"
                       "+14155550001,,g1@example.com\n"
                       "+14155550013,,g1@example.com\n"
                       ",+14155550099,\n", 4096, &errs, NULL));
  CHECK(res.rows == 3 && res.updated == 1 && res.created == 1 &&
        res.rejected == 1);
  CHECK(errs.n == 1 && errs.line[0] == 3 && errs.code[0] == VC_ECONFLICT);
  env_close(&e);
}

static void test_contact__csv_header(void)
{
  vc_contact_import_result res;
  vc_contact_import_spec spec = VC_CONTACT_IMPORT_SPEC_INIT;
  errors errs = { 0 };
  env e;

  env_open(&e);
  CHECK_RC(import_text(&res, e.t, "", 10, &errs, NULL), VC_EINVALID);
  CHECK_RC(import_text(&res, e.t, "name,note\nA,b\n", 10, &errs, NULL),
           VC_EINVALID);
  CHECK(strstr(vc_error_last()->message, "no phone") != NULL);
  CHECK_RC(import_text(&res, e.t, "phone,PHONE\n", 10, &errs, NULL),
           VC_EINVALID);
  CHECK_RC(import_text(&res, e.t, "phone,x,x\n", 10, &errs, NULL),
           VC_EINVALID);
  CHECK_RC(import_text(&res, e.t, "phone,,x\n", 10, &errs, NULL),
           VC_EINVALID);
  CHECK_RC(import_text(&res, e.t, "ph\"one\n", 10, &errs, NULL),
           VC_EINVALID);
  CHECK_RC(import_text(&res, e.t, "phone\n+14155550001\n", 10, &errs,
                       "bad;tag,comma"), VC_EINVALID);
  CHECK(errs.n == 0);
  spec.read = NULL;
  vc_contact_import_result_init(&res, VC_CONTACT_IMPORT_RESULT_VERSION);
  CHECK_RC(vc_contact_import_csv(&res, e.t, &spec), VC_EINVALID);
  CHECK(list_all(e.t, NULL, NULL, 0) == 0);
  /* A header row and nothing else imports nothing, successfully. */
  CHECK_OK(import_text(&res, e.t, "phone,name\r\n", 10, &errs, NULL));
  CHECK(res.rows == 0);
  env_close(&e);
}

/* Generated rows: "name,phone,note" with a ~100 byte note. */
typedef struct gen_reader {
  int rows, next, fail_at;   /* fail_at: row before which to fail, or -1 */
  char pending[256];
  size_t plen, ppos;
} gen_reader;

static int read_gen(void *payload, char *buf, size_t cap, size_t *got)
{
  gen_reader *g = payload;
  size_t n = 0;

  while (n < cap) {
    if (g->ppos == g->plen) {
      if (g->next == g->fail_at)
        return -1234;
      if (g->next > g->rows)
        break;
      if (g->next == 0)
        g->plen = (size_t)snprintf(g->pending, sizeof(g->pending),
                                   "name,phone,note\n");
      else
        g->plen = (size_t)snprintf(
          g->pending, sizeof(g->pending),
          "Person %d,+1%010d,\"note %d: lorem ipsum dolor sit amet, "
          "consectetur adipiscing elit, sed do eiusmod tempor\"\r\n",
          g->next, 2000000000 + g->next, g->next);
      g->ppos = 0;
      g->next++;
    }
    while (n < cap && g->ppos < g->plen)
      buf[n++] = g->pending[g->ppos++];
  }
  *got = n;
  return 0;
}

static long peak_rss_kib(void)
{
  struct rusage ru;

  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

/* The 100,000-row import in a child process, so that the peak RSS it
 * measures is its own and not that of the cases before it. Exit status 0
 * when every check held. */
static int import_100k_child(void)
{
  vc_contact_import_spec spec = VC_CONTACT_IMPORT_SPEC_INIT;
  vc_contact_import_result res = VC_CONTACT_IMPORT_RESULT_INIT;
  gen_reader w = { 600, 0, -1, "", 0, 0 };
  gen_reader g = { 100000, 0, -1, "", 0, 0 };
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;
  vc_master_key mk = VC_MASTER_KEY_INIT;
  vc_tenant_spec ts = VC_TENANT_SPEC_INIT;
  vc_store *store;
  vc_ctx *ctx;
  vc_tenant *t;
  vc_contact *c;
  long before, after;

  if (vc_store_open_sqlite(&store, vc_test_path("k.db"), NULL) != 0)
    return 2;
  mk.key = KEY;
  mk.key_len = 32;
  o.store = store;
  o.master_key = &mk;
  o.clock_cb = test_clock;
  ts.slug = "bulk";
  if (vc_ctx_new(&ctx, &o) != 0 || vc_tenant_new(&t, ctx, &ts) != 0)
    return 3;
  /* Warm up: the connection, its caches and a first batch. */
  spec.read = read_gen;
  spec.read_payload = &w;
  if (vc_contact_import_csv(&res, t, &spec) != 0 || res.created != 600)
    return 4;
  before = peak_rss_kib();
  spec.read_payload = &g;
  if (vc_contact_import_csv(&res, t, &spec) != 0)
    return 5;
  after = peak_rss_kib();
  printf("  100,000 rows (12 MB of CSV): peak RSS %ld KiB -> %ld KiB\n",
         before, after);
  if (res.rows != 100000 || res.created != 99400 || res.updated != 600 ||
      res.rejected != 0)
    return 6;
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
  /* The input is 12 MB; the importer holds one batch. (Sanitizers keep
   * freed memory or shadow it, so only a plain build measures.) */
  if (after - before >= 8 * 1024)
    return 7;
#endif
  if (vc_contact_find_by_address(&c, t, VC_ADDRESS_PHONE,
                                 "+12000100000") != 0 ||
      strcmp(vc_contact_name(c), "Person 100000") != 0)
    return 8;
  vc_contact_free(c);
  vc_tenant_free(t);
  vc_ctx_free(ctx);
  return 0;
}

static void test_contact__csv_100k_flat_memory(void)
{
  int status = -1;
  pid_t pid;

  fflush(stdout);
  pid = fork();
  CHECK(pid >= 0);
  if (pid == 0)
    _exit(import_100k_child());
  CHECK(waitpid(pid, &status, 0) == pid);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    fprintf(stderr, "  the import child ended with status %d\n", status);
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void test_contact__csv_read_error(void)
{
  vc_contact_import_spec spec = VC_CONTACT_IMPORT_SPEC_INIT;
  vc_contact_import_result res = VC_CONTACT_IMPORT_RESULT_INIT;
  gen_reader g = { 2000, 0, 1200, "", 0, 0 };
  vc_contact *c;
  env e;

  env_open(&e);
  spec.read = read_gen;
  spec.read_payload = &g;
  /* Not a library code: VC_EUSER. The first two batches stay. */
  CHECK_RC(vc_contact_import_csv(&res, e.t, &spec), VC_EUSER);
  CHECK(res.created == 1000);
  CHECK(list_all(e.t, NULL, NULL, 0) == 1000);
  CHECK_OK(vc_contact_find_by_address(&c, e.t, VC_ADDRESS_PHONE,
                                      "+12000001000"));
  vc_contact_free(c);
  CHECK_RC(vc_contact_find_by_address(&c, e.t, VC_ADDRESS_PHONE,
                                      "+12000001001"), VC_ENOTFOUND);
  env_close(&e);
}

static void test_contact__csv_bounds(void)
{
  vc_contact_import_result res;
  errors errs = { 0 };
  char *big, *p;
  size_t cap = 200 * 1024;
  env e;

  env_open(&e);
  CHECK((big = malloc(cap)) != NULL);
  /* A row over VC_CONTACT_IMPORT_ROW_MAX, one with too many columns, and
   * one with more than VC_CONTACT_FIELDS_MAX custom fields. */
  p = big;
  p += sprintf(p, "phone,note");
  for (int i = 0; i < 70; i++)
    p += sprintf(p, ",f%d", i);
  p += sprintf(p, "\n+14155550001,\"");
  memset(p, 'x', VC_CONTACT_IMPORT_ROW_MAX);
  p += VC_CONTACT_IMPORT_ROW_MAX;
  p += sprintf(p, "\"\n+14155550002");
  for (int i = 0; i < VC_CONTACT_IMPORT_COLUMNS_MAX + 1; i++)
    p += sprintf(p, ",");
  p += sprintf(p, "\n+14155550003,n");
  for (int i = 0; i < 70; i++)
    p += sprintf(p, ",v");
  p += sprintf(p, "\n+14155550004,fine\n");
  CHECK((size_t)(p - big) < cap);
  CHECK_OK(import_text(&res, e.t, big, 65536, &errs, NULL));
  CHECK(res.rows == 4 && res.created == 1 && res.rejected == 3);
  CHECK(errs.n == 3);
  CHECK(errs.line[0] == 2 && errs.code[0] == VC_ETOOBIG);
  CHECK(errs.line[1] == 3 && errs.code[1] == VC_ETOOBIG);
  CHECK(errs.line[2] == 4 && errs.code[2] == VC_ETOOBIG);
  free(big);
  env_close(&e);
}

/* ---- bounds, timezones, locales --------------------------------------- */

static void test_contact__bounds(void)
{
  vc_contact_spec s = VC_CONTACT_SPEC_INIT;
  char id[VC_ID_SIZE], none[VC_ID_SIZE], big[20000], phone[20];
  vc_contact *c;
  env e;

  env_open(&e);
  upsert_phone(e.t, "+14155550001", "B", id);
  s.phone = "+14155550001";
  /* Name. */
  memset(big, 'n', VC_CONTACT_NAME_MAX + 1);
  big[VC_CONTACT_NAME_MAX + 1] = '\0';
  s.name = big;
  CHECK_RC(vc_contact_upsert(none, e.t, &s), VC_ETOOBIG);
  big[VC_CONTACT_NAME_MAX] = '\0';
  CHECK_OK(vc_contact_upsert(id, e.t, &s));
  s.name = "bad\x01name";
  CHECK_RC(vc_contact_upsert(none, e.t, &s), VC_EINVALID);
  s.name = "bad\xc3";
  CHECK_RC(vc_contact_upsert(none, e.t, &s), VC_EENCODING);
  s.name = NULL;
  /* Tags: length and count. */
  memset(big, 't', VC_CONTACT_TAG_MAX + 1);
  big[VC_CONTACT_TAG_MAX + 1] = '\0';
  s.tags = big;
  CHECK_RC(vc_contact_upsert(none, e.t, &s), VC_ETOOBIG);
  big[0] = '\0';
  for (int i = 0; i <= VC_CONTACT_TAGS_MAX; i++)
    sprintf(big + strlen(big), "t%d;", i);
  CHECK_RC(vc_contact_upsert(none, e.t, &s), VC_ETOOBIG);
  s.tags = NULL;
  /* Custom fields: members, bytes, names, not an object. */
  strcpy(big, "{");
  for (int i = 0; i <= VC_CONTACT_FIELDS_MAX; i++)
    sprintf(big + strlen(big), "%s\"k%d\":1", i ? "," : "", i);
  strcat(big, "}");
  s.fields_json = big;
  CHECK_RC(vc_contact_upsert(none, e.t, &s), VC_ETOOBIG);
  strcpy(big, "{\"k\":\"");
  memset(big + 6, 'v', VC_CONTACT_FIELDS_BYTES);
  strcpy(big + 6 + VC_CONTACT_FIELDS_BYTES, "\"}");
  CHECK_RC(vc_contact_upsert(none, e.t, &s), VC_ETOOBIG);
  s.fields_json = "[1,2]";
  CHECK_RC(vc_contact_upsert(none, e.t, &s), VC_EINVALID);
  s.fields_json = "{\"\":1}";
  CHECK_RC(vc_contact_upsert(none, e.t, &s), VC_EINVALID);
  strcpy(big, "{\"");
  memset(big + 2, 'k', VC_CONTACT_FIELD_NAME_MAX + 1);
  strcpy(big + 3 + VC_CONTACT_FIELD_NAME_MAX, "\":1}");
  s.fields_json = big;
  CHECK_RC(vc_contact_upsert(none, e.t, &s), VC_ETOOBIG);
  /* Locale: VC_CONTACT_LOCALE_MAX bytes. */
  s.fields_json = NULL;
  s.locale = "en-aaaaaaaa-bbbbbbbb-cccccccc-dddddd"; /* 36 bytes */
  CHECK_RC(vc_contact_upsert(none, e.t, &s), VC_ETOOBIG);
  s.locale = NULL;
  /* The fields bound also holds once merged with the current ones. */
  strcpy(big, "{");
  for (int i = 0; i < VC_CONTACT_FIELDS_MAX; i++)
    sprintf(big + strlen(big), "%s\"a%d\":1", i ? "," : "", i);
  strcat(big, "}");
  s.fields_json = big;
  CHECK_OK(vc_contact_upsert(id, e.t, &s));
  s.fields_json = "{\"one_more\":1}";
  CHECK_RC(vc_contact_upsert(none, e.t, &s), VC_ETOOBIG);
  s.fields_json = "{\"one_more\":1,\"a0\":null}";  /* replaces one */
  CHECK_OK(vc_contact_upsert(id, e.t, &s));
  s.fields_json = NULL;
  /* Addresses: VC_CONTACT_ADDRESSES_MAX. */
  for (int i = 2; i <= VC_CONTACT_ADDRESSES_MAX; i++) {
    snprintf(phone, sizeof(phone), "+1415555%04d", 100 + i);
    CHECK_OK(vc_contact_address_add(e.t, id, VC_ADDRESS_PHONE, phone));
  }
  CHECK_OK(vc_contact_address_add(e.t, id, VC_ADDRESS_PHONE,
                                  "+14155550102")); /* has it: no-op */
  s.email = "seventeen@example.com";
  CHECK_RC(vc_contact_upsert(none, e.t, &s), VC_ETOOBIG);
  CHECK_RC(vc_contact_address_add(e.t, id, VC_ADDRESS_EMAIL,
                                  "seventeen@example.com"), VC_ETOOBIG);
  CHECK_OK(vc_contact_address_remove(e.t, id, VC_ADDRESS_PHONE,
                                     "+1 415 555 0102"));
  CHECK_RC(vc_contact_address_remove(e.t, id, VC_ADDRESS_PHONE,
                                     "+14155550102"), VC_ENOTFOUND);
  CHECK_OK(vc_contact_address_add(e.t, id, VC_ADDRESS_EMAIL,
                                  "seventeen@example.com"));
  CHECK_RC(vc_contact_address_add(e.t, id, 7, "x"), VC_EINVALID);
  CHECK_OK(vc_contact_lookup(&c, e.t, id));
  CHECK(vc_contact_address_count(c) == VC_CONTACT_ADDRESSES_MAX);
  CHECK(strlen(vc_contact_name(c)) == VC_CONTACT_NAME_MAX);
  vc_contact_free(c);
  env_close(&e);
}

static void test_contact__timezone_locale(void)
{
  static const char *const bad_zones[] = {
    "Mars/Olympus", "../../etc/passwd", "/etc/passwd", "Asia//Kolkata",
    "Asia/", "zone.tab", "Asia/Kolkata ", "Etc", "asia/kolkata",
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
  };
  static const char *const bad_locales[] = { "x", "en_US", "toolongtag",
                                             "en--US", "-en", "1en" };
  vc_contact_spec s = VC_CONTACT_SPEC_INIT;
  char id[VC_ID_SIZE];
  vc_contact *c;
  env e;

  env_open(&e);
  s.phone = "+14155550001";
  for (size_t i = 0; i < sizeof(bad_zones) / sizeof(bad_zones[0]); i++) {
    s.timezone = bad_zones[i];
    int rc = vc_contact_upsert(id, e.t, &s);
    CHECK(rc == VC_EINVALID || rc == VC_ETOOBIG);
  }
  s.timezone = "America/Argentina/Buenos_Aires";
  s.locale = "zh-hant-tw";
  CHECK_OK(vc_contact_upsert(id, e.t, &s));
  CHECK_OK(vc_contact_lookup(&c, e.t, id));
  CHECK_STR(vc_contact_timezone(c), "America/Argentina/Buenos_Aires");
  CHECK_STR(vc_contact_locale(c), "zh-Hant-TW");
  vc_contact_free(c);
  s.timezone = "UTC";
  for (size_t i = 0; i < sizeof(bad_locales) / sizeof(bad_locales[0]);
       i++) {
    char none[VC_ID_SIZE];
    s.locale = bad_locales[i];
    CHECK_RC(vc_contact_upsert(none, e.t, &s), VC_EINVALID);
  }
  CHECK_OK(vc_contact_lookup(&c, e.t, id));
  CHECK_STR(vc_contact_timezone(c), "America/Argentina/Buenos_Aires");
  vc_contact_free(c);
  env_close(&e);
}

/* ---- isolation ---------------------------------------------------------- */

static void test_contact__tenant_isolation(void)
{
  vc_contact_spec s = VC_CONTACT_SPEC_INIT;
  char a[VC_ID_SIZE], a2[VC_ID_SIZE], b[VC_ID_SIZE];
  vc_contact_import_result res;
  errors errs = { 0 };
  vc_tenant *t2;
  vc_contact *c;
  env e;

  env_open(&e);
  t2 = other_tenant(&e, "globex");
  upsert_phone(e.t, "+14155550001", "Mine", a);
  upsert_phone(e.t, "+14155550002", "Mine too", a2);
  /* The other tenant sees nothing of it. */
  CHECK_RC(vc_contact_lookup(&c, t2, a), VC_ENOTFOUND);
  CHECK_RC(vc_contact_find_by_address(&c, t2, VC_ADDRESS_PHONE,
                                      "+14155550001"), VC_ENOTFOUND);
  CHECK(list_all(t2, NULL, NULL, 0) == 0);
  /* ... cannot change or merge it ... */
  s.name = "Stolen";
  CHECK_RC(vc_contact_update(t2, a, &s), VC_ENOTFOUND);
  CHECK_RC(vc_contact_tag_add(t2, a, "x"), VC_ENOTFOUND);
  CHECK_RC(vc_contact_address_add(t2, a, VC_ADDRESS_EMAIL, "x@example.com"),
           VC_ENOTFOUND);
  CHECK_RC(vc_contact_address_remove(t2, a, VC_ADDRESS_PHONE,
                                     "+14155550001"), VC_ENOTFOUND);
  CHECK_RC(vc_contact_merge(t2, a, a2), VC_ENOTFOUND);
  /* ... and its own contact with the same number is its own. */
  s.phone = "+14155550001";
  s.name = "Theirs";
  CHECK_OK(vc_contact_upsert(b, t2, &s));
  CHECK(strcmp(a, b) != 0);
  CHECK_RC(vc_contact_merge(t2, b, a), VC_ENOTFOUND);
  CHECK_OK(import_text(&res, t2, "phone,name\n+14155550002,Imported\n", 64,
                       &errs, NULL));
  CHECK(res.created == 1 && res.updated == 0);
  CHECK_OK(vc_contact_lookup(&c, e.t, a));
  CHECK_STR(vc_contact_name(c), "Mine");
  CHECK(vc_contact_address_count(c) == 1 && vc_contact_tag_count(c) == 0);
  vc_contact_free(c);
  CHECK_OK(vc_contact_lookup(&c, e.t, a2));
  CHECK_STR(vc_contact_name(c), "Mine too");
  vc_contact_free(c);
  CHECK(list_all(e.t, NULL, NULL, 0) == 2);
  CHECK(list_all(t2, NULL, NULL, 0) == 2);
  /* A deleted tenant's handle writes nothing. */
  CHECK_OK(vc_tenant_delete(t2));
  CHECK_RC(vc_contact_upsert(b, t2, &s), VC_ENOTFOUND);
  vc_tenant_free(t2);
  env_close(&e);
}

VC_TESTS(
  VC_TEST(test_contact__upsert_dedupe),
  VC_TEST(test_contact__conflict),
  VC_TEST(test_contact__update),
  VC_TEST(test_contact__tags),
  VC_TEST(test_contact__list),
  VC_TEST(test_contact__merge),
  VC_TEST(test_contact__message_contact),
  VC_TEST(test_contact__template_in_contact_locale),
  VC_TEST(test_contact__csv_quoting),
  VC_TEST(test_contact__csv_malformed),
  VC_TEST(test_contact__csv_header),
  VC_TEST(test_contact__csv_100k_flat_memory),
  VC_TEST(test_contact__csv_read_error),
  VC_TEST(test_contact__csv_bounds),
  VC_TEST(test_contact__bounds),
  VC_TEST(test_contact__timezone_locale),
  VC_TEST(test_contact__tenant_isolation),
)
