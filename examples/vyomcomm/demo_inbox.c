/*
 * vyomcomm demo, the unified inbox and the figures: the conversations
 * the chat customers' messages opened, one conversation's timeline, a
 * reply on the channel the customer wrote on, and the tenant's message
 * figures from vc_stats_query.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cJSON.h>

#include "vyomcomm.h"
#include "cli.h"
#include "demo_net.h"

#define HOUR_MS 3600000LL

static const char *kind_name(int kind)
{
  switch (kind) {
  case VC_CHANNEL_SMS: return "sms";
  case VC_CHANNEL_EMAIL: return "email";
  case VC_CHANNEL_CHAT: return "chat";
  case VC_CHANNEL_VOICE: return "voice";
  default: return "-";
  }
}

static const char *item_type(int type)
{
  switch (type) {
  case VC_CONVERSATION_ITEM_INBOUND: return "in";
  case VC_CONVERSATION_ITEM_OUTBOUND: return "out";
  case VC_CONVERSATION_ITEM_CALL: return "call";
  default: return "?";
  }
}

/* The conversations, newest first; the id of the first one with unread
 * messages on WhatsApp (the chat channel that takes replies) in `pick`. */
static int list_conversations(vc_tenant *t, const char *whatsapp_id,
                              char pick[VC_ID_SIZE])
{
  vc_conversation_filter f = VC_CONVERSATION_FILTER_INIT;
  vc_conversation *cv;
  vc_iter *it;
  int n = 0;

  pick[0] = '\0';
  if (vc_conversation_list(&it, t, &f) != 0)
    return -1;
  printf("\n  %-26s %-6s %-8s %6s\n", "conversation", "via", "status",
         "unread");
  while (vc_conversation_next(&cv, it) == 0) {
    printf("  %-26s %-6s %-8s %6lld\n", vc_conversation_id(cv),
           kind_name(vc_conversation_last_channel_kind(cv)),
           vc_conversation_status_name(vc_conversation_status_of(cv)),
           (long long)vc_conversation_unread(cv));
    if (pick[0] == '\0' && vc_conversation_unread(cv) > 0 &&
        strcmp(vc_conversation_last_channel_id(cv), whatsapp_id) == 0)
      snprintf(pick, VC_ID_SIZE, "%s", vc_conversation_id(cv));
    vc_conversation_free(cv);
    n++;
  }
  vc_iter_free(it);
  printf("\n");
  return n;
}

/* Print a conversation's timeline; counts its inbound and outbound
 * items. */
static int timeline(vc_tenant *t, const char *id, int *in, int *out)
{
  vc_conversation_item_filter f = VC_CONVERSATION_ITEM_FILTER_INIT;
  vc_conversation_item *item;
  vc_iter *it;

  *in = *out = 0;
  f.conversation_id = id;
  if (vc_conversation_items(&it, t, &f) != 0)
    return -1;
  while (vc_conversation_item_next(&item, it) == 0) {
    int type = vc_conversation_item_type_of(item);
    printf("    %-4s %-5s %s\n", item_type(type),
           kind_name(vc_conversation_item_channel_kind(item)),
           vc_conversation_item_text(item));
    *in += type == VC_CONVERSATION_ITEM_INBOUND;
    *out += type == VC_CONVERSATION_ITEM_OUTBOUND;
    vc_conversation_item_free(item);
  }
  vc_iter_free(it);
  return 0;
}

static int message_status(vc_tenant *t, const char *id)
{
  vc_message *m;
  int st = 0;

  if (vc_message_lookup(&m, t, id) == 0) {
    st = vc_message_status(m);
    vc_message_free(m);
  }
  return st;
}

void demo_inbox(demo_checks *c, vc_tenant *t, const char *whatsapp_id,
                int wait_ms)
{
  vc_message_spec s = VC_MESSAGE_SPEC_INIT;
  vc_conversation *cv = NULL;
  char pick[VC_ID_SIZE], reply[VC_ID_SIZE];
  int n, in = 0, out = 0, st = 0;
  int64_t deadline;

  printf("unified inbox\n");
  n = list_conversations(t, whatsapp_id, pick);
  if (!demo_check(c, n >= 4 && pick[0] != '\0',
                  "every chat customer who wrote has a conversation, "
                  "unread"))
    return;
  printf("  timeline of %s:\n", pick);
  demo_check(c, timeline(t, pick, &in, &out) == 0 && in >= 1 && out >= 1,
             "the timeline threads what they wrote and what we sent");
  s.text = "Your order ships today.";
  if (!demo_check(c, vc_conversation_reply(reply, t, pick, &s) == 0,
                  "reply on the channel the customer wrote on"))
    return;
  deadline = demo_wall_ms() + wait_ms;
  while ((st = message_status(t, reply)) < VC_MSG_SENT &&
         demo_wall_ms() < deadline)
    usleep(20000);
  demo_check(c, st >= VC_MSG_SENT && st <= VC_MSG_READ,
             "the reply went out through WhatsApp");
  demo_check(c, vc_conversation_lookup(&cv, t, pick) == 0 &&
                  vc_conversation_unread(cv) == 0 &&
                  vc_conversation_status_of(cv) ==
                    VC_CONVERSATION_PENDING,
             "the conversation is read and pending the customer");
  vc_conversation_free(cv);
}

/* The cost booked for `provider`, as "0.0158 USD" (the first currency
 * with an amount: a provider's price in another currency nets its
 * estimate to 0), or "-". */
static void cost_of(char *out, size_t size, const cJSON *costs,
                    const char *provider)
{
  const cJSON *row;

  snprintf(out, size, "-");
  cJSON_ArrayForEach(row, cJSON_GetObjectItemCaseSensitive(costs, "rows")) {
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(row, "provider");
    const cJSON *cur = cJSON_GetObjectItemCaseSensitive(row, "currency");
    const cJSON *amount = cJSON_GetObjectItemCaseSensitive(row,
                                                           "amount_micros");
    if (cJSON_IsString(p) && strcmp(p->valuestring, provider) == 0 &&
        cJSON_IsString(cur) && cJSON_IsNumber(amount) &&
        amount->valuedouble != 0) {  /* not a reversed estimate's */
      snprintf(out, size, "%.4f %s", amount->valuedouble / 1e6,
               cur->valuestring);
      return;
    }
  }
}

/* One number of the answer, 0 when absent. */
static double number_at(const cJSON *obj, const char *name)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
  return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

void demo_stats(demo_checks *c, vc_tenant *t, int64_t now_ms)
{
  vc_stats_spec q = VC_STATS_SPEC_INIT;
  vc_buf json = VC_BUF_INIT;
  const cJSON *msgs, *row;
  cJSON *doc = NULL;
  double queued = 0;
  int priced = 0;

  printf("figures (vc_stats_query, from the rollups)\n");
  q.from = now_ms / HOUR_MS * HOUR_MS - HOUR_MS;
  q.to = q.from + 3 * HOUR_MS;
  q.what = VC_STATS_MESSAGES | VC_STATS_INBOUND | VC_STATS_LATENCY |
           VC_STATS_COSTS;
  if (!demo_check(c, vc_stats_query(&json, t, &q) == 0 &&
                       (doc = cJSON_Parse(json.ptr)) != NULL,
                  "query the last hours' figures")) {
    vc_buf_dispose(&json);
    return;
  }
  msgs = cJSON_GetObjectItemCaseSensitive(doc, "messages");
  printf("\n  %-14s %6s %5s %9s %5s %6s  %s\n", "provider", "queued",
         "sent", "delivered", "read", "failed", "cost");
  cJSON_ArrayForEach(row, cJSON_GetObjectItemCaseSensitive(msgs,
                                                           "by_provider")) {
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(row, "provider");
    const char *name = cJSON_IsString(p) ? p->valuestring : "-";
    char cost[48];
    cost_of(cost, sizeof(cost), cJSON_GetObjectItemCaseSensitive(doc, "costs"),
            name);
    printf("  %-14s %6.0f %5.0f %9.0f %5.0f %6.0f  %s\n", name,
           number_at(row, "queued"), number_at(row, "sent"),
           number_at(row, "delivered"), number_at(row, "read"),
           number_at(row, "failed"), cost);
    priced += strcmp(cost, "-") != 0;
  }
  queued = number_at(cJSON_GetObjectItemCaseSensitive(msgs, "by_status"),
                     "queued");
  printf("\n  inbound %.0f, delivery rate %.2f, queued to delivered p50 "
         "%.0f ms\n\n",
         number_at(cJSON_GetObjectItemCaseSensitive(doc, "inbound"),
                   "total"),
         number_at(doc, "delivery_rate"),
         number_at(cJSON_GetObjectItemCaseSensitive(doc, "latency_ms"),
                   "p50"));
  demo_check(c, queued >= 17, "every message sent counts in the figures");
  demo_check(c, priced >= 8, "every provider's messages have a cost in "
                             "the ledger");
  cJSON_Delete(doc);
  vc_buf_dispose(&json);
}
