/*
 * vyomcomm agent: add, list, show, update, set the state of and delete
 * the agents that take click-to-calls, queue calls and conversations.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_util.h"

static const char USAGE[] =
  "usage: vyomcomm agent add NAME --number E164|SIP-URI\n"
  "                          [--display-name S] [--wrap-up SECONDS]\n"
  "       vyomcomm agent list [--state offline|available|break|...]\n"
  "       vyomcomm agent show NAME|ID\n"
  "       vyomcomm agent update NAME|ID [--name NEW] [--number ...]\n"
  "                          [--display-name S] [--wrap-up SECONDS]\n"
  "       vyomcomm agent state NAME|ID offline|available|break\n"
  "                          [--reason TEXT]\n"
  "       vyomcomm agent delete NAME|ID\n"
  "\n"
  "An agent is added offline; a break needs --reason. Only an offline\n"
  "agent can be deleted: it leaves its queues, and its conversations\n"
  "become unassigned.\n";

static cJSON *agent_json(const vc_agent *a)
{
  cJSON *o = cJSON_CreateObject();

  cJSON_AddStringToObject(o, "id", vc_agent_id(a));
  cJSON_AddStringToObject(o, "name", vc_agent_name(a));
  cJSON_AddStringToObject(o, "display_name", vc_agent_display_name(a));
  cJSON_AddStringToObject(o, "number", vc_agent_number(a));
  cJSON_AddStringToObject(o, "state",
                          vc_agent_state_name(vc_agent_state_of(a)));
  cJSON_AddStringToObject(o, "reason", vc_agent_reason(a));
  cJSON_AddNumberToObject(o, "wrap_up_s", vc_agent_wrap_up_seconds(a));
  cli_add_time(o, "state_since", vc_agent_state_since(a));
  cli_add_time(o, "created_at", vc_agent_created_at(a));
  return o;
}

JSON_NEXT_FN(agent_json_next, vc_agent, vc_agent_next, agent_json,
             vc_agent_free)

/* A state by name ("offline", ...), 0 when unknown. */
static int state_of(const char *name)
{
  for (int s = VC_AGENT_OFFLINE; s <= VC_AGENT_BREAK; s++)
    if (strcmp(name, vc_agent_state_name(s)) == 0)
      return s;
  return 0;
}

/* The spec's fields from the options; EXIT_USAGE on a bad value. */
static int fill_spec(vc_agent_spec *s, cli_opt *opts)
{
  const char *v = cli_optv(opts, "--wrap-up");
  long long wrap;

  s->name = cli_optv(opts, "--name");
  s->number = cli_optv(opts, "--number");
  s->display_name = cli_optv(opts, "--display-name");
  if (v && cli_parse_int(&wrap, v, 0, VC_AGENT_WRAP_UP_MAX) < 0)
    return cli_usage_error(USAGE, "--wrap-up needs seconds (0..3600)", v);
  if (v)
    s->wrap_up_s = (int)wrap;
  return 0;
}

static void emit_deleted(const cli_config *cfg, const vc_agent *a)
{
  cJSON *o = cJSON_CreateObject();

  cJSON_AddStringToObject(o, "id", vc_agent_id(a));
  cJSON_AddBoolToObject(o, "deleted", 1);
  cli_emit(cfg, o, NULL);
}

static int list(const cli_config *cfg, vc_tenant *t, cli_opt *opts)
{
  static const char *const COLS[] = { "id", "name", "number", "state",
                                      "state_since", NULL };
  vc_agent_filter f = VC_AGENT_FILTER_INIT;
  const char *v = cli_optv(opts, "--state");
  vc_iter *it;
  int rc;

  if (v && !(f.state = state_of(v)))
    return cli_usage_error(USAGE, "unknown agent state", v);
  if ((rc = vc_agent_list(&it, t, &f)) < 0)
    return cli_fail(cfg, "list agents", rc);
  return cli_list(cfg, it, SIZE_MAX, agent_json_next, "list agents", COLS);
}

/* A verb on one agent (show, update, state, delete). */
static int on_agent(const cli_config *cfg, vc_tenant *t, const char *verb,
                    cli_args *a, cli_opt *opts)
{
  vc_agent_spec spec = VC_AGENT_SPEC_INIT;
  vc_agent *ag;
  int rc, st = 0;

  if (strcmp(verb, "update") == 0 && (rc = fill_spec(&spec, opts)))
    return rc;
  if (strcmp(verb, "state") == 0 && !(st = state_of(a->pos[2])))
    return cli_usage_error(USAGE, "unknown agent state", a->pos[2]);
  if ((rc = vc_agent_lookup(&ag, t, a->pos[1])) < 0)
    return cli_fail(cfg, "find the agent",
                    rc == VC_EINVALID ? VC_ENOTFOUND : rc);
  if (strcmp(verb, "update") == 0)
    rc = vc_agent_update(ag, &spec);
  else if (strcmp(verb, "state") == 0)
    rc = vc_agent_set_state(ag, st, cli_optv(opts, "--reason"));
  else if (strcmp(verb, "delete") == 0)
    rc = vc_agent_delete(ag);
  if (rc < 0)
    rc = cli_fail(cfg, strcmp(verb, "delete") == 0 ? "delete the agent"
                       : strcmp(verb, "state") == 0 ? "set the agent's state"
                                                    : "update the agent",
                  rc);
  else if (strcmp(verb, "delete") == 0)
    emit_deleted(cfg, ag);
  else
    cli_emit(cfg, agent_json(ag), NULL);
  vc_agent_free(ag);
  return rc;
}

int cmd_agent(int argc, char **argv)
{
  cli_opt opts[] = {
    CLI_OPT("--number", CLI_VALUE), CLI_OPT("--display-name", CLI_VALUE),
    CLI_OPT("--wrap-up", CLI_VALUE), CLI_OPT("--name", CLI_VALUE),
    CLI_OPT("--state", CLI_VALUE), CLI_OPT("--reason", CLI_VALUE),
    CLI_OPT_END
  };
  vc_tenant *t = NULL;
  vc_ctx *ctx = NULL;
  cli_config cfg;
  cli_args a;
  const char *verb;
  int rc, want;

  if ((rc = cli_config_load(&cfg, &argc, argv)) ||
      (rc = cli_parse(&a, opts, argc, argv, 1, USAGE)))
    return rc == CLI_HELP ? EXIT_OK : rc;
  if (a.npos < 1)
    return cli_usage_error(USAGE, "agent needs a verb", NULL);
  verb = a.pos[0];
  want = strcmp(verb, "list") == 0     ? 1
         : strcmp(verb, "add") == 0    ? 2
         : strcmp(verb, "show") == 0   ? 2
         : strcmp(verb, "update") == 0 ? 2
         : strcmp(verb, "delete") == 0 ? 2
         : strcmp(verb, "state") == 0  ? 3
                                       : 0;
  if (!want)
    return cli_usage_error(USAGE, "unknown agent verb", verb);
  if (a.npos != want)
    return cli_usage_error(USAGE, "wrong number of arguments", verb);
  if (strcmp(verb, "add") == 0 && !cli_optv(opts, "--number"))
    return cli_usage_error(USAGE, "agent add needs --number", NULL);
  if ((rc = cli_open(&ctx, &t, &cfg)))
    return rc;
  if (want == 1) {
    rc = list(&cfg, t, opts);
  } else if (strcmp(verb, "add") == 0) {
    vc_agent_spec spec = VC_AGENT_SPEC_INIT;
    vc_agent *ag;

    if ((rc = fill_spec(&spec, opts)) == 0) {
      spec.name = a.pos[1];
      if ((rc = vc_agent_new(&ag, t, &spec)) < 0) {
        rc = cli_fail(&cfg, "add the agent", rc);
      } else {
        cli_emit(&cfg, agent_json(ag), NULL);
        vc_agent_free(ag);
      }
    }
  } else {
    rc = on_agent(&cfg, t, verb, &a, opts);
  }
  cli_close(ctx, t);
  return rc < 0 ? EXIT_FAILED : rc;
}
