/*
 * vyomcomm contact: add, list, show, tag, consent, import.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_csv.h"
#include "cli_util.h"

static const char USAGE[] =
  "usage: vyomcomm contact add [--name N] [--phone E164] [--email A]\n"
  "                            [--telegram CHAT] [--whatsapp E164]\n"
  "                            [--timezone ZONE] [--locale TAG]\n"
  "                            [--tags a;b] [--field KEY=VALUE]...\n"
  "       vyomcomm contact list [--tag T] [--name-prefix P] [--limit N]\n"
  "       vyomcomm contact show ID|+E164|EMAIL\n"
  "       vyomcomm contact tag ID TAG [--remove]\n"
  "       vyomcomm contact consent ID [--kind K --state opted_in|opted_out|\n"
  "                            unknown [--category transactional|marketing]\n"
  "                            [--source S] [--proof TEXT]]\n"
  "       vyomcomm contact import FILE|- [--tags a;b]\n"
  "\n"
  "add creates a contact or updates the one holding one of the addresses.\n"
  "consent without --state shows the contact's consent per kind and\n"
  "category; with it, records a change (without --category: both).\n"
  "import reads CSV with a header row (name, phone, email, telegram,\n"
  "whatsapp, timezone, locale, tags; other columns are custom fields).\n";

static const int KINDS[] = { VC_CHANNEL_EMAIL, VC_CHANNEL_SMS,
                             VC_CHANNEL_CHAT, VC_CHANNEL_VOICE };

static cJSON *contact_json(const vc_contact *c)
{
  static const struct {
    int kind;
    const char *name;
  } ADDR[] = { { VC_ADDRESS_PHONE, "phone" }, { VC_ADDRESS_EMAIL, "email" },
               { VC_ADDRESS_TELEGRAM, "telegram" },
               { VC_ADDRESS_WHATSAPP, "whatsapp" } };
  cJSON *o = cJSON_CreateObject(), *tags = cJSON_CreateArray();

  cJSON_AddStringToObject(o, "id", vc_contact_id(c));
  cJSON_AddStringToObject(o, "name", vc_contact_name(c));
  for (size_t i = 0; i < sizeof(ADDR) / sizeof(ADDR[0]); i++)
    cJSON_AddStringToObject(o, ADDR[i].name,
                            vc_contact_address(c, ADDR[i].kind));
  for (size_t i = 0; i < vc_contact_tag_count(c); i++)
    cJSON_AddItemToArray(tags, cJSON_CreateString(vc_contact_tag_at(c, i)));
  cJSON_AddItemToObject(o, "tags", tags);
  cJSON_AddStringToObject(o, "timezone", vc_contact_timezone(c));
  cJSON_AddStringToObject(o, "locale", vc_contact_locale(c));
  cli_add_json(o, "fields", vc_contact_fields_json(c));
  cli_add_time(o, "created_at", vc_contact_created_at(c));
  return o;
}

JSON_NEXT_FN(contact_json_next, vc_contact, vc_contact_next,
             contact_json, vc_contact_free)

/* An id, or a phone number or email address the contact holds. */
static int find(vc_contact **out, vc_tenant *t, const char *key)
{
  if (key[0] == '+')
    return vc_contact_find_by_address(out, t, VC_ADDRESS_PHONE, key);
  if (strchr(key, '@'))
    return vc_contact_find_by_address(out, t, VC_ADDRESS_EMAIL, key);
  return vc_contact_lookup(out, t, key);
}

static int add(const cli_config *cfg, vc_tenant *t, cli_opt *opts)
{
  vc_contact_spec s = VC_CONTACT_SPEC_INIT;
  cli_opt *fields = cli_opt_get(opts, "--field");
  char id[VC_ID_SIZE], *fields_json = NULL;
  vc_contact *c;
  int rc;

  if ((rc = cli_json_object(&fields_json, NULL, fields->values,
                            fields->nvalues)))
    return rc;
  s.name = cli_optv(opts, "--name");
  s.phone = cli_optv(opts, "--phone");
  s.email = cli_optv(opts, "--email");
  s.telegram = cli_optv(opts, "--telegram");
  s.whatsapp = cli_optv(opts, "--whatsapp");
  s.timezone = cli_optv(opts, "--timezone");
  s.locale = cli_optv(opts, "--locale");
  s.tags = cli_optv(opts, "--tags");
  s.fields_json = fields_json;
  if (!s.phone && !s.email && !s.telegram && !s.whatsapp)
    rc = cli_usage_error(USAGE, "a contact needs an address (--phone, "
                         "--email, --telegram or --whatsapp)", NULL);
  else if ((rc = vc_contact_upsert(id, t, &s)) < 0)
    rc = cli_fail(cfg, "add the contact", rc);
  else if ((rc = vc_contact_lookup(&c, t, id)) < 0)
    rc = cli_fail(cfg, "read the contact", rc);
  else {
    cli_emit(cfg, contact_json(c), NULL);
    vc_contact_free(c);
  }
  cJSON_free(fields_json);
  return rc;
}

static int list(const cli_config *cfg, vc_tenant *t, cli_opt *opts)
{
  static const char *const COLS[] = { "id", "name", "phone", "email",
                                      "tags", NULL };
  vc_contact_filter f = VC_CONTACT_FILTER_INIT;
  const char *v = cli_optv(opts, "--limit");
  long long limit = 1000;
  vc_iter *it;
  int rc;

  if (v && cli_parse_int(&limit, v, 1, 1000000) < 0)
    return cli_usage_error(USAGE, "--limit needs a positive number", v);
  f.tag = cli_optv(opts, "--tag");
  f.name_prefix = cli_optv(opts, "--name-prefix");
  if ((rc = vc_contact_list(&it, t, &f)) < 0)
    return cli_fail(cfg, "list contacts", rc);
  return cli_list(cfg, it, (size_t)limit, contact_json_next, "list contacts",
                  COLS);
}

static int consent_show(const cli_config *cfg, vc_tenant *t, const char *id)
{
  static const char *const COLS[] = { "kind", "category", "state",
                                      "requires_opt_in", "allowed",
                                      "source", "changed_at", NULL };
  static const int CATS[] = { VC_CATEGORY_TRANSACTIONAL,
                              VC_CATEGORY_MARKETING };
  cJSON *arr = cJSON_CreateArray();
  int rc;

  for (size_t k = 0; k < sizeof(KINDS) / sizeof(KINDS[0]); k++)
    for (size_t c = 0; c < 2; c++) {
      vc_consent_info info = VC_CONSENT_INFO_INIT;
      cJSON *o;

      if ((rc = vc_consent_get(&info, t, id, KINDS[k], CATS[c])) < 0) {
        cJSON_Delete(arr);
        return cli_fail(cfg, "read the consent", rc);
      }
      o = cJSON_CreateObject();
      cJSON_AddStringToObject(o, "kind", vc_channel_kind_name(KINDS[k]));
      cJSON_AddStringToObject(o, "category", vc_category_name(CATS[c]));
      cJSON_AddStringToObject(o, "state", vc_consent_name(info.state));
      cJSON_AddBoolToObject(o, "requires_opt_in", info.requires_opt_in);
      cJSON_AddBoolToObject(o, "allowed", info.allowed);
      cJSON_AddStringToObject(o, "source", info.source);
      cli_add_time(o, "changed_at", info.changed_at);
      cJSON_AddItemToArray(arr, o);
    }
  cli_emit(cfg, arr, COLS);
  return 0;
}

static int consent(const cli_config *cfg, vc_tenant *t, const char *id,
                   cli_opt *opts)
{
  vc_consent_spec s = VC_CONSENT_SPEC_INIT;
  const char *state = cli_optv(opts, "--state"), *v;

  if (!state)
    return consent_show(cfg, t, id);
  if (!(s.kind = cli_kind(cli_optv(opts, "--kind"))))
    return cli_usage_error(USAGE, "consent needs --kind email, sms, chat "
                           "or voice", NULL);
  s.state = strcmp(state, "opted_in") == 0    ? VC_CONSENT_OPTED_IN
            : strcmp(state, "opted_out") == 0 ? VC_CONSENT_OPTED_OUT
            : strcmp(state, "unknown") == 0  ? VC_CONSENT_UNKNOWN
                                              : -1;
  if (s.state < 0)
    return cli_usage_error(USAGE, "--state needs opted_in, opted_out or "
                           "unknown", state);
  if ((v = cli_optv(opts, "--category")) &&
      (s.category = vc_category_from_name(v)) < 0)
    return cli_usage_error(USAGE, "--category needs transactional or "
                           "marketing", v);
  s.contact_id = id;
  s.source = cli_optv(opts, "--source") ? cli_optv(opts, "--source")
                                        : "cli";
  s.proof = cli_optv(opts, "--proof");
  if ((s.state = vc_consent_set(t, &s)) < 0)
    return cli_fail(cfg, "set the consent", s.state);
  return consent_show(cfg, t, id);
}

static int import(const cli_config *cfg, vc_tenant *t, const char *path,
                  cli_opt *opts)
{
  vc_contact_import_spec s = VC_CONTACT_IMPORT_SPEC_INIT;
  vc_contact_import_result r = VC_CONTACT_IMPORT_RESULT_INIT;
  FILE *f;
  cJSON *o;
  int rc;

  if ((rc = cli_csv_open(&f, &s, path)))
    return rc;
  s.tags = cli_optv(opts, "--tags");
  rc = vc_contact_import_csv(&r, t, &s);
  cli_csv_close(f);
  if (rc < 0)
    return cli_fail(cfg, "import the contacts", rc);
  o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "rows", (double)r.rows);
  cJSON_AddNumberToObject(o, "created", (double)r.created);
  cJSON_AddNumberToObject(o, "updated", (double)r.updated);
  cJSON_AddNumberToObject(o, "rejected", (double)r.rejected);
  cli_emit(cfg, o, NULL);
  /* some rows were refused: told above, and the exit says so */
  return r.rejected ? EXIT_FAILED : 0;
}

int cmd_contact(int argc, char **argv)
{
  cli_opt opts[] = {
    CLI_OPT("--name", CLI_VALUE), CLI_OPT("--phone", CLI_VALUE),
    CLI_OPT("--email", CLI_VALUE), CLI_OPT("--telegram", CLI_VALUE),
    CLI_OPT("--whatsapp", CLI_VALUE), CLI_OPT("--timezone", CLI_VALUE),
    CLI_OPT("--locale", CLI_VALUE), CLI_OPT("--tags", CLI_VALUE),
    CLI_OPT("--field", CLI_MULTI), CLI_OPT("--tag", CLI_VALUE),
    CLI_OPT("--name-prefix", CLI_VALUE), CLI_OPT("--limit", CLI_VALUE),
    CLI_OPT("--remove", CLI_FLAG), CLI_OPT("--kind", CLI_VALUE),
    CLI_OPT("--state", CLI_VALUE), CLI_OPT("--category", CLI_VALUE),
    CLI_OPT("--source", CLI_VALUE), CLI_OPT("--proof", CLI_VALUE), CLI_OPT_END
  };
  static const struct {
    const char *verb;
    int npos;
  } VERBS[] = { { "add", 1 }, { "list", 1 }, { "show", 2 }, { "tag", 3 },
                { "consent", 2 }, { "import", 2 } };
  vc_contact *c = NULL;
  vc_tenant *t = NULL;
  vc_ctx *ctx = NULL;
  cli_config cfg;
  cli_args a;
  const char *verb;
  size_t v;
  int rc;

  if ((rc = cli_config_load(&cfg, &argc, argv)) ||
      (rc = cli_parse(&a, opts, argc, argv, 1, USAGE)))
    return rc == CLI_HELP ? EXIT_OK : rc;
  if (a.npos < 1)
    return cli_usage_error(USAGE, "contact needs a verb", NULL);
  verb = a.pos[0];
  for (v = 0; v < sizeof(VERBS) / sizeof(VERBS[0]); v++)
    if (strcmp(verb, VERBS[v].verb) == 0)
      break;
  if (v == sizeof(VERBS) / sizeof(VERBS[0]))
    return cli_usage_error(USAGE, "unknown contact verb", verb);
  if (a.npos != VERBS[v].npos)
    return cli_usage_error(USAGE, "wrong number of arguments", verb);
  if ((rc = cli_open(&ctx, &t, &cfg)))
    return rc;

  if (strcmp(verb, "add") == 0) {
    rc = add(&cfg, t, opts);
  } else if (strcmp(verb, "list") == 0) {
    rc = list(&cfg, t, opts);
  } else if (strcmp(verb, "import") == 0) {
    rc = import(&cfg, t, a.pos[1], opts);
  } else if ((rc = find(&c, t, a.pos[1])) < 0) {
    rc = cli_fail(&cfg, "find the contact",
                  rc == VC_EINVALID ? VC_ENOTFOUND : rc);
  } else if (strcmp(verb, "show") == 0) {
    cli_emit(&cfg, contact_json(c), NULL);
  } else if (strcmp(verb, "tag") == 0) {
    char id[VC_ID_SIZE];

    snprintf(id, sizeof(id), "%s", vc_contact_id(c));
    vc_contact_free(c);
    c = NULL;
    rc = cli_opt_get(opts, "--remove")->set
           ? vc_contact_tag_remove(t, id, a.pos[2])
           : vc_contact_tag_add(t, id, a.pos[2]);
    if (rc < 0 || (rc = vc_contact_lookup(&c, t, id)) < 0)
      rc = cli_fail(&cfg, "tag the contact", rc);
    else
      cli_emit(&cfg, contact_json(c), NULL);
  } else {
    rc = consent(&cfg, t, vc_contact_id(c), opts);
  }
  vc_contact_free(c);
  cli_close(ctx, t);
  return rc < 0 ? EXIT_FAILED : rc;
}
