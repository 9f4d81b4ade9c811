/*
 * vyomcomm call: start a click-to-call, list, show with its timeline,
 * hang up.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_util.h"

static const char USAGE[] =
  "usage: vyomcomm call start --customer E164 (--agent NAME|ID |\n"
  "                           --agent-number E164|SIP-URI)\n"
  "                           [--channel NAME|ID] [--caller-id E164]\n"
  "                           [--record off|always|on-demand] [--ivr MENU]\n"
  "                           [--category transactional|marketing|otp]\n"
  "                           [--ring-timeout S] [--idempotency-key K]\n"
  "                           [--wait [--timeout SECONDS] [--listen ADDR]]\n"
  "       vyomcomm call list [--state STATE] [--limit N]\n"
  "       vyomcomm call show ID\n"
  "       vyomcomm call hangup ID [--wait [--timeout SECONDS]]\n"
  "\n"
  "start stores the call as initiated and prints it; --wait runs the\n"
  "engine (and with --listen receives the provider's webhooks) until the\n"
  "call ends: exit 0 when it completed, 1 when it failed, was busy, not\n"
  "answered or canceled, 7 when --timeout (default 120 s) passed first.\n"
  "show prints the call with its timeline.\n";

static cJSON *call_json(const vc_call *c)
{
  cJSON *o = cJSON_CreateObject();

  cJSON_AddStringToObject(o, "id", vc_call_id(c));
  cJSON_AddStringToObject(o, "state", vc_call_state_name(vc_call_state_of(c)));
  cJSON_AddStringToObject(o, "customer", vc_call_customer_number(c));
  cJSON_AddStringToObject(o, "agent_id", vc_call_agent_id(c));
  cJSON_AddStringToObject(o, "agent_number", vc_call_agent_number(c));
  cJSON_AddStringToObject(o, "caller_id", vc_call_caller_id(c));
  cJSON_AddStringToObject(o, "channel_id", vc_call_channel_id(c));
  cJSON_AddStringToObject(o, "provider_id", vc_call_provider_id(c));
  cJSON_AddStringToObject(o, "cause", vc_call_cause_name(vc_call_cause_of(c)));
  cJSON_AddNumberToObject(o, "talk_seconds", vc_call_talk_seconds(c));
  cJSON_AddNumberToObject(o, "cost_micros", (double)vc_call_cost_micros(c));
  cJSON_AddStringToObject(o, "currency", vc_call_currency(c));
  if (vc_call_error(c)) {
    cJSON_AddStringToObject(o, "error", vc_strerror(vc_call_error(c)));
    cJSON_AddStringToObject(o, "error_message", vc_call_error_message(c));
  }
  cli_add_time(o, "created_at", vc_call_created_at(c));
  cli_add_time(o, "updated_at", vc_call_updated_at(c));
  return o;
}

JSON_NEXT_FN(call_json_next, vc_call, vc_call_next, call_json, vc_call_free)

static int add_timeline(cJSON *o, vc_tenant *t, const char *id)
{
  static const char *const LEGS[] = { "", "agent", "customer" };
  cJSON *arr = cJSON_AddArrayToObject(o, "timeline");
  vc_call_entry *e;
  vc_iter *it;
  int rc;

  if ((rc = vc_call_timeline(&it, t, id)) < 0)
    return rc;
  while ((rc = vc_call_entry_next(&e, it)) == 0) {
    cJSON *x = cJSON_CreateObject();
    int leg = vc_call_entry_leg(e);

    cJSON_AddNumberToObject(x, "seq", (double)vc_call_entry_seq(e));
    cli_add_time(x, "at", vc_call_entry_at(e));
    cJSON_AddStringToObject(x, "type", vc_call_entry_type(e));
    cJSON_AddStringToObject(x, "leg", leg >= 0 && leg <= 2 ? LEGS[leg] : "");
    cJSON_AddStringToObject(x, "state",
                            vc_call_state_name(vc_call_entry_state(e)));
    cli_add_json(x, "detail", vc_call_entry_detail_json(e));
    cJSON_AddItemToArray(arr, x);
    vc_call_entry_free(e);
  }
  vc_iter_free(it);
  return rc == VC_ITEROVER ? 0 : rc;
}

static int show(const cli_config *cfg, vc_tenant *t, vc_call *c)
{
  cJSON *o = call_json(c);
  int rc;

  if ((rc = add_timeline(o, t, vc_call_id(c))) < 0) {
    cJSON_Delete(o);
    return cli_fail(cfg, "read the timeline", rc);
  }
  cli_emit(cfg, o, NULL);
  return 0;
}

/* Run the engine until the call ends; 0, VC_ETIMEOUT or an error. */
static int wait_call(vc_ctx *ctx, vc_call *c, int64_t timeout_ms)
{
  int64_t deadline = cli_wall_ms() + timeout_ms;
  int rc;

  cli_signals_catch();
  while (!vc_call_state_final(vc_call_state_of(c))) {
    if (cli_wall_ms() >= deadline || cli_interrupted)
      return VC_ETIMEOUT;
    if ((rc = vc_ctx_run(ctx, 100)) < 0 || (rc = vc_call_refresh(c)) < 0)
      return rc;
  }
  return 0;
}

static int finish(const cli_config *cfg, vc_ctx *ctx, vc_tenant *t,
                  vc_call *c, cli_opt *opts, long long timeout_s)
{
  int rc;

  if (!cli_opt_get(opts, "--wait")->set)
    return show(cfg, t, c);
  rc = wait_call(ctx, c, timeout_s * 1000);
  show(cfg, t, c);
  if (rc == VC_ETIMEOUT) {
    fprintf(stderr, "vyomcomm: the call %s has not ended after %llds\n",
            vc_call_id(c), timeout_s);
    return EXIT_TIMEOUT;
  }
  if (rc < 0)
    return cli_fail(cfg, "wait for the call", rc);
  return vc_call_state_of(c) == VC_CALL_COMPLETED ? EXIT_OK : EXIT_FAILED;
}

static int list(const cli_config *cfg, vc_tenant *t, cli_opt *opts)
{
  static const char *const COLS[] = { "id", "state", "customer",
                                      "agent_number", "cause",
                                      "talk_seconds", "created_at", NULL };
  vc_call_filter f = VC_CALL_FILTER_INIT;
  const char *v;
  long long limit = 100;
  vc_iter *it;
  int rc;

  if ((v = cli_optv(opts, "--limit")) &&
      cli_parse_int(&limit, v, 1, 1000000) < 0)
    return cli_usage_error(USAGE, "--limit needs a positive number", v);
  if ((v = cli_optv(opts, "--state"))) {
    for (int s = VC_CALL_INITIATED; s <= VC_CALL_CANCELED; s++)
      if (strcmp(v, vc_call_state_name(s)) == 0)
        f.state = s;
    if (!f.state)
      return cli_usage_error(USAGE, "unknown call state", v);
  }
  if ((rc = vc_call_list(&it, t, &f)) < 0)
    return cli_fail(cfg, "list calls", rc);
  return cli_list(cfg, it, (size_t)limit, call_json_next, "list calls", COLS);
}

static int start(const cli_config *cfg, vc_ctx *ctx, vc_tenant *t,
                 cli_opt *opts, long long timeout_s)
{
  vc_call_spec s = VC_CALL_SPEC_INIT;
  const char *v;
  long long n;
  vc_call *c;
  int rc;

  if (!(s.customer_number = cli_optv(opts, "--customer")))
    return cli_usage_error(USAGE, "call start needs --customer", NULL);
  s.agent = cli_optv(opts, "--agent");
  s.agent_number = cli_optv(opts, "--agent-number");
  if (!s.agent && !s.agent_number)
    return cli_usage_error(USAGE, "call start needs --agent or "
                           "--agent-number", NULL);
  s.channel = cli_optv(opts, "--channel");
  s.caller_id = cli_optv(opts, "--caller-id");
  s.ivr_menu = cli_optv(opts, "--ivr");
  s.idempotency_key = cli_optv(opts, "--idempotency-key");
  if ((v = cli_optv(opts, "--record")) &&
      !(s.record = strcmp(v, "off") == 0         ? VC_RECORD_OFF
                   : strcmp(v, "always") == 0    ? VC_RECORD_ALWAYS
                   : strcmp(v, "on-demand") == 0 ? VC_RECORD_ON_DEMAND
                                                 : 0))
    return cli_usage_error(USAGE, "--record needs off, always or on-demand",
                           v);
  if ((v = cli_optv(opts, "--category")) &&
      (s.category = vc_category_from_name(v)) < 0)
    return cli_usage_error(USAGE, "--category needs transactional, "
                           "marketing or otp", v);
  if ((v = cli_optv(opts, "--ring-timeout"))) {
    if (cli_parse_int(&n, v, 1, VC_CALL_RING_TIMEOUT_MAX) < 0)
      return cli_usage_error(USAGE, "--ring-timeout needs seconds", v);
    s.ring_timeout_s = (int)n;
  }
  if ((rc = vc_call_start(&c, t, &s)) < 0)
    return cli_fail(cfg, "start the call", rc);
  rc = finish(cfg, ctx, t, c, opts, timeout_s);
  vc_call_free(c);
  return rc;
}

int cmd_call(int argc, char **argv)
{
  cli_opt opts[] = {
    CLI_OPT("--customer", CLI_VALUE), CLI_OPT("--agent", CLI_VALUE),
    CLI_OPT("--agent-number", CLI_VALUE), CLI_OPT("--channel", CLI_VALUE),
    CLI_OPT("--caller-id", CLI_VALUE), CLI_OPT("--record", CLI_VALUE),
    CLI_OPT("--ivr", CLI_VALUE), CLI_OPT("--category", CLI_VALUE),
    CLI_OPT("--ring-timeout", CLI_VALUE),
    CLI_OPT("--idempotency-key", CLI_VALUE),
    CLI_OPT("--wait", CLI_FLAG), CLI_OPT("--timeout", CLI_VALUE),
    CLI_OPT("--listen", CLI_VALUE), CLI_OPT("--state", CLI_VALUE),
    CLI_OPT("--limit", CLI_VALUE), CLI_OPT_END
  };
  vc_tenant *t = NULL;
  vc_ctx *ctx = NULL;
  vc_call *c = NULL;
  long long timeout_s = 120;
  cli_config cfg;
  cli_args a;
  const char *verb, *v;
  int rc;

  if ((rc = cli_config_load(&cfg, &argc, argv)) ||
      (rc = cli_parse(&a, opts, argc, argv, 1, USAGE)))
    return rc == CLI_HELP ? EXIT_OK : rc;
  if (a.npos < 1)
    return cli_usage_error(USAGE, "call needs a verb", NULL);
  verb = a.pos[0];
  if (strcmp(verb, "start") && strcmp(verb, "list") && strcmp(verb, "show") &&
      strcmp(verb, "hangup"))
    return cli_usage_error(USAGE, "unknown call verb", verb);
  if (a.npos != (strcmp(verb, "start") && strcmp(verb, "list") ? 2 : 1))
    return cli_usage_error(USAGE, "wrong number of arguments", verb);
  if ((v = cli_optv(opts, "--timeout")) &&
      cli_parse_int(&timeout_s, v, 0, 86400) < 0)
    return cli_usage_error(USAGE, "--timeout needs seconds (0..86400)", v);
  if (cli_optv(opts, "--listen") && !cli_opt_get(opts, "--wait")->set)
    return cli_usage_error(USAGE, "--listen goes with --wait", NULL);
  if ((rc = cli_open(&ctx, &t, &cfg)))
    return rc;
  if ((v = cli_optv(opts, "--listen")) &&
      (rc = vc_webhook_listen(ctx, v)) < 0) {
    rc = cli_fail(&cfg, "listen for webhooks", rc);
  } else if (strcmp(verb, "start") == 0) {
    rc = start(&cfg, ctx, t, opts, timeout_s);
  } else if (strcmp(verb, "list") == 0) {
    rc = list(&cfg, t, opts);
  } else if ((rc = vc_call_lookup(&c, t, a.pos[1])) < 0) {
    rc = cli_fail(&cfg, "find the call",
                  rc == VC_EINVALID ? VC_ENOTFOUND : rc);
  } else if (strcmp(verb, "show") == 0) {
    rc = show(&cfg, t, c);
  } else if ((rc = vc_call_hangup(c)) < 0) {
    rc = cli_fail(&cfg, "hang up", rc);
  } else if ((rc = vc_call_refresh(c)) < 0) {
    rc = cli_fail(&cfg, "read the call", rc);
  } else {
    rc = finish(&cfg, ctx, t, c, opts, timeout_s);
  }
  vc_call_free(c);
  cli_close(ctx, t);
  return rc < 0 ? EXIT_FAILED : rc;
}
