/*
 * vyomcomm inbox: list conversations, show a timeline, reply, set the
 * status, assign.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_util.h"

static const char USAGE[] =
  "usage: vyomcomm inbox list [--status open|pending|resolved|snoozed]\n"
  "                           [--unread] [--search TEXT] [--limit N]\n"
  "       vyomcomm inbox show ID\n"
  "       vyomcomm inbox reply ID (--text BODY | --template NAME\n"
  "                           [--var KEY=VALUE]...) [--subject S]\n"
  "       vyomcomm inbox status ID open|pending|resolved|snoozed\n"
  "                           [--until TIME]\n"
  "       vyomcomm inbox assign ID AGENT|--none\n"
  "\n"
  "One conversation per contact, opened by their first inbound message.\n"
  "show prints the conversation and its timeline (inbound and outbound\n"
  "messages and calls, oldest first); reply answers on the channel the\n"
  "customer last wrote on; assign gives it to an agent (name or id), or\n"
  "with --none to nobody. TIME is Unix ms or YYYY-MM-DDTHH:MM[:SS]Z.\n";

static int status_of(const char *name)
{
  for (int s = VC_CONVERSATION_OPEN; s <= VC_CONVERSATION_SNOOZED; s++)
    if (strcmp(name, vc_conversation_status_name(s)) == 0)
      return s;
  return 0;
}

static cJSON *conversation_json(const vc_conversation *c)
{
  cJSON *o = cJSON_CreateObject();

  cJSON_AddStringToObject(o, "id", vc_conversation_id(c));
  cJSON_AddStringToObject(o, "contact_id", vc_conversation_contact_id(c));
  cJSON_AddStringToObject(o, "status", vc_conversation_status_name(
                                         vc_conversation_status_of(c)));
  cJSON_AddNumberToObject(o, "unread", (double)vc_conversation_unread(c));
  cJSON_AddStringToObject(o, "channel_kind", vc_channel_kind_name(
                            vc_conversation_last_channel_kind(c)));
  cJSON_AddStringToObject(o, "assignee_id", vc_conversation_assignee_id(c));
  cli_add_time(o, "snoozed_until", vc_conversation_snoozed_until(c));
  cli_add_time(o, "last_activity_at", vc_conversation_last_activity_at(c));
  return o;
}

JSON_NEXT_FN(conversation_json_next, vc_conversation, vc_conversation_next,
             conversation_json, vc_conversation_free)

static int add_timeline(cJSON *o, vc_tenant *t, const char *id)
{
  vc_conversation_item_filter f = VC_CONVERSATION_ITEM_FILTER_INIT;
  cJSON *arr = cJSON_AddArrayToObject(o, "timeline");
  vc_conversation_item *i;
  vc_iter *it;
  int rc;

  f.conversation_id = id;
  if ((rc = vc_conversation_items(&it, t, &f)) < 0)
    return rc;
  while ((rc = vc_conversation_item_next(&i, it)) == 0) {
    cJSON *x = cJSON_CreateObject();
    int type = vc_conversation_item_type_of(i),
        st = vc_conversation_item_status(i);

    cli_add_time(x, "at", vc_conversation_item_at(i));
    cJSON_AddStringToObject(x, "type", vc_conversation_item_type_name(type));
    cJSON_AddStringToObject(x, "kind", vc_channel_kind_name(
                                         vc_conversation_item_channel_kind(i)));
    cJSON_AddStringToObject(x, "status",
                            type == VC_CONVERSATION_ITEM_CALL ||
                            type == VC_CONVERSATION_ITEM_VOICEMAIL
                              ? vc_call_state_name(st)
                            : type == VC_CONVERSATION_ITEM_OUTBOUND
                              ? vc_message_status_name(st)
                              : "");
    cJSON_AddStringToObject(x, "text", vc_conversation_item_text(i));
    cJSON_AddStringToObject(x, "id", vc_conversation_item_id(i));
    cJSON_AddItemToArray(arr, x);
    vc_conversation_item_free(i);
  }
  vc_iter_free(it);
  return rc == VC_ITEROVER ? 0 : rc;
}

static int list(const cli_config *cfg, vc_tenant *t, cli_opt *opts)
{
  static const char *const COLS[] = { "id", "contact_id", "status",
                                      "unread", "channel_kind",
                                      "last_activity_at", NULL };
  vc_conversation_filter f = VC_CONVERSATION_FILTER_INIT;
  const char *v;
  long long limit = 100;
  vc_iter *it;
  int rc;

  if ((v = cli_optv(opts, "--status")) && !(f.status = status_of(v)))
    return cli_usage_error(USAGE, "unknown conversation status", v);
  if ((v = cli_optv(opts, "--limit")) &&
      cli_parse_int(&limit, v, 1, 1000000) < 0)
    return cli_usage_error(USAGE, "--limit needs a positive number", v);
  f.unread = cli_opt_get(opts, "--unread")->set > 0;
  f.text = cli_optv(opts, "--search");
  if ((rc = vc_conversation_list(&it, t, &f)) < 0)
    return cli_fail(cfg, "list conversations", rc);
  return cli_list(cfg, it, (size_t)limit, conversation_json_next,
                  "list conversations", COLS);
}

static int show(const cli_config *cfg, vc_tenant *t, const char *id)
{
  vc_conversation *c;
  cJSON *o;
  int rc;

  if ((rc = vc_conversation_lookup(&c, t, id)) < 0)
    return cli_fail(cfg, "find the conversation",
                    rc == VC_EINVALID ? VC_ENOTFOUND : rc);
  o = conversation_json(c);
  vc_conversation_free(c);
  if ((rc = add_timeline(o, t, id)) < 0) {
    cJSON_Delete(o);
    return cli_fail(cfg, "read the timeline", rc);
  }
  cli_emit(cfg, o, NULL);
  return 0;
}

static int reply(const cli_config *cfg, vc_tenant *t, const char *id,
                 cli_opt *opts)
{
  vc_message_spec s = VC_MESSAGE_SPEC_INIT;
  cli_opt *vars = cli_opt_get(opts, "--var");
  char mid[VC_ID_SIZE], *vars_json = NULL;
  cJSON *o;
  int rc;

  s.text = cli_optv(opts, "--text");
  s.template_name = cli_optv(opts, "--template");
  s.subject = cli_optv(opts, "--subject");
  if (!s.text && !s.template_name)
    return cli_usage_error(USAGE, "reply needs --text or --template", NULL);
  if ((rc = cli_json_object(&vars_json, NULL, vars->values, vars->nvalues)))
    return rc;
  s.vars_json = vars_json;
  rc = vc_conversation_reply(mid, t, id, &s);
  cJSON_free(vars_json);
  if (rc < 0)
    return cli_fail(cfg, "reply", rc == VC_EINVALID && strlen(id) != 26
                                    ? VC_ENOTFOUND : rc);
  o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "conversation_id", id);
  cJSON_AddStringToObject(o, "message_id", mid);
  cli_emit(cfg, o, NULL);
  return 0;
}

static int set_status(const cli_config *cfg, vc_tenant *t, const char *id,
                      const char *name, cli_opt *opts)
{
  const char *v = cli_optv(opts, "--until");
  int64_t until = 0;
  int st = status_of(name), rc;

  if (!st)
    return cli_usage_error(USAGE, "unknown conversation status", name);
  if (v && cli_parse_time(&until, v) < 0)
    return cli_usage_error(USAGE, "--until needs a time", v);
  if (st == VC_CONVERSATION_SNOOZED && !v)
    return cli_usage_error(USAGE, "snoozed needs --until", NULL);
  if ((rc = vc_conversation_set_status(t, id, st, until)) < 0)
    return cli_fail(cfg, "set the status",
                    rc == VC_EINVALID && strlen(id) != 26 ? VC_ENOTFOUND
                                                          : rc);
  return show(cfg, t, id);
}

static int assign(const cli_config *cfg, vc_tenant *t, const char *id,
                  const char *agent)
{
  int rc = agent ? vc_conversation_assign(t, id, agent)
                 : vc_conversation_unassign(t, id);

  if (rc < 0)
    return cli_fail(cfg, agent ? "assign the conversation"
                               : "unassign the conversation",
                    rc == VC_EINVALID && strlen(id) != 26 ? VC_ENOTFOUND
                                                          : rc);
  return show(cfg, t, id);
}

int cmd_inbox(int argc, char **argv)
{
  cli_opt opts[] = {
    CLI_OPT("--status", CLI_VALUE), CLI_OPT("--unread", CLI_FLAG),
    CLI_OPT("--search", CLI_VALUE), CLI_OPT("--limit", CLI_VALUE),
    CLI_OPT("--text", CLI_VALUE), CLI_OPT("--template", CLI_VALUE),
    CLI_OPT("--var", CLI_MULTI), CLI_OPT("--subject", CLI_VALUE),
    CLI_OPT("--until", CLI_VALUE), CLI_OPT("--none", CLI_FLAG),
    CLI_OPT_END
  };
  vc_tenant *t = NULL;
  vc_ctx *ctx = NULL;
  cli_config cfg;
  cli_args a;
  const char *verb;
  int rc, want, none;

  if ((rc = cli_config_load(&cfg, &argc, argv)) ||
      (rc = cli_parse(&a, opts, argc, argv, 1, USAGE)))
    return rc == CLI_HELP ? EXIT_OK : rc;
  if (a.npos < 1)
    return cli_usage_error(USAGE, "inbox needs a verb", NULL);
  verb = a.pos[0];
  none = cli_opt_get(opts, "--none")->set;
  want = strcmp(verb, "list") == 0     ? 1
         : strcmp(verb, "show") == 0   ? 2
         : strcmp(verb, "reply") == 0  ? 2
         : strcmp(verb, "status") == 0 ? 3
         : strcmp(verb, "assign") == 0 ? (none ? 2 : 3)
                                       : 0;
  if (!want)
    return cli_usage_error(USAGE, "unknown inbox verb", verb);
  if (a.npos != want)
    return cli_usage_error(USAGE, "wrong number of arguments", verb);
  if ((rc = cli_open(&ctx, &t, &cfg)))
    return rc;
  if (want == 1)
    rc = list(&cfg, t, opts);
  else if (strcmp(verb, "show") == 0)
    rc = show(&cfg, t, a.pos[1]);
  else if (strcmp(verb, "reply") == 0)
    rc = reply(&cfg, t, a.pos[1], opts);
  else if (strcmp(verb, "assign") == 0)
    rc = assign(&cfg, t, a.pos[1], none ? NULL : a.pos[2]);
  else
    rc = set_status(&cfg, t, a.pos[1], a.pos[2], opts);
  cli_close(ctx, t);
  return rc < 0 ? EXIT_FAILED : rc;
}
