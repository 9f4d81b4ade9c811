/*
 * vyomcomm stats: a tenant's figures over a window (vc_stats_query), as
 * tables, or the query's JSON document with --json.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_util.h"

static const char USAGE[] =
  "usage: vyomcomm stats [--from TIME] [--to TIME] [--hours N | --days N]\n"
  "                      [--by-day] [--channel ID] [--campaign ID]\n"
  "                      [--what SECTION,...] (messages, latency,\n"
  "                      campaigns, calls, costs, inbound)\n"
  "\n"
  "The window is whole UTC hours, --from included, --to excluded; by\n"
  "default the last 24 hours up to the end of the current hour (--hours N\n"
  "or --days N for longer). TIME is Unix ms or YYYY-MM-DDTHH:MM[:SS]Z,\n"
  "rounded down to the hour. --json prints the document docs/analytics.md\n"
  "describes.\n";

#define HOUR_MS 3600000LL

static const struct {
  const char *name;
  unsigned int bit;
} SECTIONS[] = {
  { "messages", VC_STATS_MESSAGES }, { "latency", VC_STATS_LATENCY },
  { "campaigns", VC_STATS_CAMPAIGNS }, { "calls", VC_STATS_CALLS },
  { "costs", VC_STATS_COSTS }, { "inbound", VC_STATS_INBOUND },
};

static int parse_what(unsigned int *out, const char *list)
{
  char buf[256], *save = NULL;

  snprintf(buf, sizeof(buf), "%s", list);
  *out = 0;
  for (char *p = strtok_r(buf, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
    size_t i;

    for (i = 0; i < sizeof(SECTIONS) / sizeof(SECTIONS[0]); i++)
      if (strcmp(p, SECTIONS[i].name) == 0)
        break;
    if (i == sizeof(SECTIONS) / sizeof(SECTIONS[0]))
      return -1;
    *out |= SECTIONS[i].bit;
  }
  return *out ? 0 : -1;
}

static void section(const char *title, const cJSON *arr,
                    const char *const *cols)
{
  if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) == 0)
    return;
  printf("\n%s\n", title);
  cli_table(arr, cols);
}

/* The document as tables. */
static void print_tables(const cJSON *doc)
{
  static const char *const BY_KIND[] = { "kind", "queued", "sent",
                                         "delivered", "read", "failed",
                                         "undelivered", "bounced",
                                         "canceled", NULL };
  static const char *const BY_CHANNEL[] = { "name", "provider", "queued",
                                            "sent", "delivered", "failed",
                                            NULL };
  static const char *const CAMPAIGNS[] = { "name", "state", "total", "sent",
                                           "delivered", "failed",
                                           "skipped_consent", "open", NULL };
  static const char *const CURRENCY[] = { "currency", "amount_micros", NULL };
  static const char *const INBOUND[] = { "name", "provider", "n", NULL };
  const cJSON *m = cJSON_GetObjectItemCaseSensitive(doc, "messages");
  const cJSON *calls = cJSON_GetObjectItemCaseSensitive(doc, "calls");
  const cJSON *camps = cJSON_GetObjectItemCaseSensitive(doc, "campaigns");
  const cJSON *costs = cJSON_GetObjectItemCaseSensitive(doc, "costs");
  const cJSON *inbound = cJSON_GetObjectItemCaseSensitive(doc, "inbound");
  const cJSON *v, *c;
  char from[32], to[32];

  printf("window %s to %s (%s)\n",
         cli_time(from, (int64_t)cJSON_GetNumberValue(
                          cJSON_GetObjectItemCaseSensitive(doc, "from"))),
         cli_time(to, (int64_t)cJSON_GetNumberValue(
                        cJSON_GetObjectItemCaseSensitive(doc, "to"))),
         cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
           doc, "granularity")));
  if (m) {
    cJSON *row = cJSON_CreateArray(), *all;

    /* the totals as the first row of the by-kind table */
    all = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(m, "by_status"),
                          1);
    if (all) {
      cJSON_AddStringToObject(all, "kind", "all");
      cJSON_AddItemToArray(row, all);
    }
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(m, "by_kind"))
      cJSON_AddItemToArray(row, cJSON_Duplicate(c, 1));
    section("messages", row, BY_KIND);
    cJSON_Delete(row);
    /* messages sent by kind are not routed until they go out */
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(m, "by_channel")) {
      const char *id = cJSON_GetStringValue(
        cJSON_GetObjectItemCaseSensitive(c, "channel_id"));

      if (id && !id[0])
        cJSON_ReplaceItemInObjectCaseSensitive(
          (cJSON *)c, "name", cJSON_CreateString("(not routed)"));
    }
    section("messages by channel",
            cJSON_GetObjectItemCaseSensitive(m, "by_channel"), BY_CHANNEL);
  }
  if ((v = cJSON_GetObjectItemCaseSensitive(doc, "delivery_rate")) &&
      cJSON_IsNumber(v))
    printf("\ndelivery rate %.1f%%\n", v->valuedouble * 100);
  if (inbound)
    printf("\ninbound messages %d\n",
           (int)cJSON_GetNumberValue(
             cJSON_GetObjectItemCaseSensitive(inbound, "total")));
  if (inbound)
    section("inbound by channel",
            cJSON_GetObjectItemCaseSensitive(inbound, "by_channel"), INBOUND);
  if (camps) {
    cJSON *rows = cJSON_CreateArray();

    cJSON_ArrayForEach(c, camps) {
      cJSON *r = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(c, "funnel"),
                                 1);

      if (!r)
        continue;
      cJSON_AddItemToObject(r, "name", cJSON_Duplicate(
        cJSON_GetObjectItemCaseSensitive(c, "name"), 1));
      cJSON_AddItemToObject(r, "state", cJSON_Duplicate(
        cJSON_GetObjectItemCaseSensitive(c, "state"), 1));
      cJSON_AddItemToArray(rows, r);
    }
    section("campaigns", rows, CAMPAIGNS);
    cJSON_Delete(rows);
  }
  if (calls) {
    const cJSON *rate = cJSON_GetObjectItemCaseSensitive(calls,
                                                         "answer_rate");

    printf("\ncalls: %d attempts, %d answered", (int)cJSON_GetNumberValue(
             cJSON_GetObjectItemCaseSensitive(calls, "attempts")),
           (int)cJSON_GetNumberValue(
             cJSON_GetObjectItemCaseSensitive(calls, "answered")));
    if (cJSON_IsNumber(rate))
      printf(" (%.1f%%)", rate->valuedouble * 100);
    printf(", %d s talk\n", (int)cJSON_GetNumberValue(
             cJSON_GetObjectItemCaseSensitive(calls, "talk_s")));
  }
  if (costs)
    section("costs", cJSON_GetObjectItemCaseSensitive(costs, "by_currency"),
            CURRENCY);
}

int cmd_stats(int argc, char **argv)
{
  cli_opt opts[] = {
    CLI_OPT("--from", CLI_VALUE), CLI_OPT("--to", CLI_VALUE),
    CLI_OPT("--hours", CLI_VALUE), CLI_OPT("--days", CLI_VALUE),
    CLI_OPT("--by-day", CLI_FLAG), CLI_OPT("--channel", CLI_VALUE),
    CLI_OPT("--campaign", CLI_VALUE), CLI_OPT("--what", CLI_VALUE), CLI_OPT_END
  };
  vc_stats_spec q = VC_STATS_SPEC_INIT;
  vc_buf out = VC_BUF_INIT;
  vc_tenant *t = NULL;
  vc_ctx *ctx = NULL;
  long long hours = 24, n;
  cli_config cfg;
  cli_args a;
  const char *v;
  int rc;

  if ((rc = cli_config_load(&cfg, &argc, argv)) ||
      (rc = cli_parse(&a, opts, argc, argv, 1, USAGE)))
    return rc == CLI_HELP ? EXIT_OK : rc;
  if (a.npos)
    return cli_usage_error(USAGE, "unexpected argument", a.pos[0]);
  if ((v = cli_optv(opts, "--hours"))) {
    if (cli_parse_int(&hours, v, 1, VC_STATS_MAX_DAYS * 24) < 0)
      return cli_usage_error(USAGE, "--hours needs a positive number", v);
  }
  if ((v = cli_optv(opts, "--days"))) {
    if (cli_parse_int(&n, v, 1, VC_STATS_MAX_DAYS) < 0)
      return cli_usage_error(USAGE, "--days needs a positive number", v);
    hours = n * 24;
  }
  q.to = (cli_wall_ms() / HOUR_MS + 1) * HOUR_MS;
  if ((v = cli_optv(opts, "--to"))) {
    if (cli_parse_time(&q.to, v) < 0)
      return cli_usage_error(USAGE, "--to needs a time", v);
    q.to = q.to / HOUR_MS * HOUR_MS;
  }
  q.from = q.to - hours * HOUR_MS;
  if ((v = cli_optv(opts, "--from"))) {
    if (cli_parse_time(&q.from, v) < 0)
      return cli_usage_error(USAGE, "--from needs a time", v);
    q.from = q.from / HOUR_MS * HOUR_MS;
  }
  if (q.from < 0)
    q.from = 0;
  q.granularity = cli_opt_get(opts, "--by-day")->set ||
                      q.to - q.from > (int64_t)VC_STATS_MAX_HOURS * HOUR_MS
                    ? VC_STATS_DAY : VC_STATS_HOUR;
  if (q.granularity == VC_STATS_DAY) {
    /* whole days: the library counts a day from 00:00 UTC */
    q.from = q.from / (24 * HOUR_MS) * (24 * HOUR_MS);
    q.to = (q.to + 24 * HOUR_MS - 1) / (24 * HOUR_MS) * (24 * HOUR_MS);
  }
  if ((v = cli_optv(opts, "--what")) && parse_what(&q.what, v) < 0)
    return cli_usage_error(USAGE, "--what needs sections from messages, "
                           "latency, campaigns, calls, costs, inbound", v);
  q.channel_id = cli_optv(opts, "--channel");
  q.campaign_id = cli_optv(opts, "--campaign");
  if ((rc = cli_open(&ctx, &t, &cfg)))
    return rc;
  if ((rc = vc_stats_query(&out, t, &q)) < 0) {
    rc = cli_fail(&cfg, "query the figures", rc);
  } else if (cfg.json) {
    printf("%s\n", out.ptr);
  } else {
    cJSON *doc = cJSON_Parse(out.ptr);

    if (doc)
      print_tables(doc);
    else
      printf("%s\n", out.ptr);
    cJSON_Delete(doc);
  }
  vc_buf_dispose(&out);
  cli_close(ctx, t);
  return rc < 0 ? EXIT_FAILED : rc;
}
