/*
 * `vyomcomm serve`: click-to-call endpoints under /api/v1: calls and
 * their timelines, call control, voice providers (voice channels),
 * agents, IVR menus, queues, inbound numbers and call statistics.
 */
#include <stdio.h>
#include <string.h>

#include "serve.h"

/* ---- calls ------------------------------------------------------------- */

static const char *const RECORD_MODES[] = { "default", "off", "always",
                                            "on_demand", NULL };

static cJSON *call_json(vc_call *c)
{
  cJSON *o = cJSON_CreateObject();

  cJSON_AddStringToObject(o, "id", vc_call_id(c));
  cJSON_AddStringToObject(o, "state", vc_call_state_name(vc_call_state_of(c)));
  srv_add_str(o, "agent_id", vc_call_agent_id(c));
  srv_add_str(o, "agent_number", vc_call_agent_number(c));
  srv_add_str(o, "customer_number", vc_call_customer_number(c));
  srv_add_str(o, "caller_id", vc_call_caller_id(c));
  srv_add_str(o, "channel_id", vc_call_channel_id(c));
  srv_add_str(o, "provider_id", vc_call_provider_id(c));
  srv_add_json(o, "metadata_json", vc_call_metadata_json(c));
  cJSON_AddStringToObject(o, "record", RECORD_MODES[vc_call_record_mode(c) &
                                                    3]);
  cJSON_AddBoolToObject(o, "on_hold", vc_call_on_hold(c));
  cJSON_AddStringToObject(o, "cause", vc_call_cause_name(vc_call_cause_of(c)));
  if (vc_call_error(c) != 0)
    cJSON_AddNumberToObject(o, "error", vc_call_error(c));
  else
    cJSON_AddNullToObject(o, "error");
  srv_add_str(o, "provider_code", vc_call_provider_code(c));
  srv_add_str(o, "error_message", vc_call_error_message(c));
  cJSON_AddNumberToObject(o, "attempts", vc_call_attempts(c));
  cJSON_AddNumberToObject(o, "talk_seconds", vc_call_talk_seconds(c));
  cJSON_AddNumberToObject(o, "cost_micros", (double)vc_call_cost_micros(c));
  srv_add_str(o, "currency", vc_call_currency(c));
  srv_add_str(o, "category", vc_category_name(vc_call_category(c)));
  srv_add_str(o, "contact_id", vc_call_contact_id(c));
  srv_add_time(o, "created_at", vc_call_created_at(c));
  srv_add_time(o, "updated_at", vc_call_updated_at(c));
  return o;
}

JSON_NEXT_FN(call_json_next, vc_call, vc_call_next, call_json, vc_call_free)

static int post_initiate(srv_req *req, srv_res *res)
{
  vc_call_spec spec = VC_CALL_SPEC_INIT;
  int64_t ring = 0, limit = 0;
  char *meta = NULL;
  vc_call *c;
  int rc;

  if ((rc = srv_need_body(req)) < 0 ||
      (rc = srv_str(req, "agent", 0, &spec.agent)) < 0 ||
      (rc = srv_str(req, "agent_number", 0, &spec.agent_number)) < 0 ||
      (rc = srv_str(req, "customer_number", 1, &spec.customer_number)) < 0 ||
      (rc = srv_str(req, "caller_id", 0, &spec.caller_id)) < 0 ||
      (rc = srv_str(req, "channel", 0, &spec.channel)) < 0 ||
      (rc = srv_enum(req, "record", 0, RECORD_MODES, 0, &spec.record)) < 0 ||
      (rc = srv_str(req, "ivr_menu", 0, &spec.ivr_menu)) < 0 ||
      (rc = srv_str(req, "idempotency_key", 0, &spec.idempotency_key)) < 0 ||
      (rc = srv_int(req, "ring_timeout_s", 0, &ring)) < 0 ||
      (rc = srv_int(req, "time_limit_s", 0, &limit)) < 0 ||
      (rc = srv_enum(req, "category", 0, SRV_CATEGORIES, 1,
                     &spec.category)) < 0 ||
      (rc = srv_str(req, "contact_id", 0, &spec.contact_id)) < 0)
    return rc;
  if (ring < 0 || ring > VC_CALL_RING_TIMEOUT_MAX || limit < 0 ||
      limit > VC_CALL_TIME_LIMIT_MAX)
    return srv_fail(req, VC_EINVALID, "ring_timeout_s is 0..%d and "
                    "time_limit_s 0..%d", VC_CALL_RING_TIMEOUT_MAX,
                    VC_CALL_TIME_LIMIT_MAX);
  spec.ring_timeout_s = (int)ring;
  spec.time_limit_s = (int)limit;
  if ((rc = srv_obj_text(req, "metadata_json", &meta)) < 0)
    return rc;
  spec.metadata_json = meta;
  rc = vc_call_start(&c, req->tenant, &spec);
  cJSON_free(meta);
  if (rc < 0)
    return rc;
  srv_answer(res, 202, call_json(c));
  vc_call_free(c);
  return 0;
}

static int get_calls(srv_req *req, srv_res *res)
{
  vc_call_filter f = VC_CALL_FILTER_INIT;
  const char *state = srv_query(req, "state");
  vc_iter *it;
  size_t limit;
  int rc;

  if ((rc = srv_page_args(req, &limit, &f.after)) < 0 ||
      (rc = srv_query_int(req, "since", 0, INT64_MAX, &f.since)) < 0 ||
      (rc = srv_query_int(req, "until", 0, INT64_MAX, &f.until)) < 0)
    return rc;
  f.agent = srv_query(req, "agent");
  f.channel = srv_query(req, "channel");
  f.customer_number = srv_query(req, "customer_number");
  if (state != NULL) {
    for (int s = 1; s <= VC_CALL_CANCELED; s++)
      if (strcmp(vc_call_state_name(s), state) == 0)
        f.state = s;
    if (f.state == 0)
      return srv_fail(req, VC_EINVALID, "unknown state '%.32s'", state);
  }
  if ((rc = vc_call_list(&it, req->tenant, &f)) < 0)
    return rc;
  return srv_page(res, it, limit, call_json_next);
}

static const char *leg_name(int leg)
{
  return leg == VC_LEG_AGENT ? "agent" : leg == VC_LEG_CUSTOMER ? "customer"
                                                                : NULL;
}

/* The call and its whole timeline (bounded by what one call records). */
static int call_with_timeline(srv_req *req, srv_res *res, vc_call *c)
{
  cJSON *o = call_json(c), *tl = cJSON_AddArrayToObject(o, "timeline");
  vc_call_entry *e;
  vc_iter *it;
  int rc;

  if ((rc = vc_call_timeline(&it, req->tenant, vc_call_id(c))) < 0) {
    cJSON_Delete(o);
    return rc;
  }
  while ((rc = vc_call_entry_next(&e, it)) == 0) {
    cJSON *x = cJSON_CreateObject();
    int st = vc_call_entry_state(e);

    cJSON_AddNumberToObject(x, "seq", (double)vc_call_entry_seq(e));
    cJSON_AddStringToObject(x, "type", vc_call_entry_type(e));
    srv_add_str(x, "leg", leg_name(vc_call_entry_leg(e)));
    srv_add_str(x, "state", st ? vc_call_state_name(st) : NULL);
    srv_add_json(x, "detail_json", vc_call_entry_detail_json(e));
    srv_add_time(x, "at", vc_call_entry_at(e));
    cJSON_AddItemToArray(tl, x);
    vc_call_entry_free(e);
  }
  vc_iter_free(it);
  if (rc != VC_ITEROVER) {
    cJSON_Delete(o);
    return rc;
  }
  srv_answer(res, 200, o);
  return 0;
}

static int get_call(srv_req *req, srv_res *res)
{
  vc_call *c;
  int rc;

  if ((rc = vc_call_lookup(&c, req->tenant, req->params[0])) < 0)
    return srv_not_found(rc);
  rc = call_with_timeline(req, res, c);
  vc_call_free(c);
  return rc;
}

static int patch_call_status(srv_req *req, srv_res *res)
{
  static const char *const ACTIONS[] = { "hold", "unhold", "hangup",
                                         "record", "stop_recording",
                                         "transfer", NULL };
  const char *to = NULL;
  int action = -1, rc;
  vc_call *c;

  if ((rc = srv_need_body(req)) < 0 ||
      (rc = srv_enum(req, "status", 1, ACTIONS, 0, &action)) < 0 ||
      (rc = srv_str(req, "to", action == 5, &to)) < 0)
    return rc;
  if ((rc = vc_call_lookup(&c, req->tenant, req->params[0])) < 0)
    return srv_not_found(rc);
  switch (action) {
  case 0: rc = vc_call_hold(c, 1); break;
  case 1: rc = vc_call_hold(c, 0); break;
  case 2: rc = vc_call_hangup(c); break;
  case 3: rc = vc_call_record(c, 1); break;
  case 4: rc = vc_call_record(c, 0); break;
  default: rc = vc_call_transfer(c, to); break;
  }
  if (rc == 0 && (rc = vc_call_refresh(c)) == 0)
    rc = call_with_timeline(req, res, c);
  vc_call_free(c);
  if (rc == 0)
    res->status = 202;
  return rc;
}

/* ---- voice providers --------------------------------------------------- */

static int post_voip(srv_req *req, srv_res *res)
{
  return srv_channel_create(req, res, VC_CHANNEL_VOICE);
}

static int get_voip(srv_req *req, srv_res *res)
{
  return srv_channel_list(req, res, VC_CHANNEL_VOICE);
}

static int post_call_stats(srv_req *req, srv_res *res)
{
  return srv_stats(req, res, VC_STATS_CALLS | VC_STATS_COSTS, 1);
}

/* ---- agents -------------------------------------------------------------- */

static const char *const AGENT_STATES[] = { "offline", "available",
                                            "ringing", "on_call", "wrap_up",
                                            "break", NULL };

static cJSON *agent_json(vc_agent *a)
{
  cJSON *o = cJSON_CreateObject();

  cJSON_AddStringToObject(o, "id", vc_agent_id(a));
  cJSON_AddStringToObject(o, "name", vc_agent_name(a));
  srv_add_str(o, "display_name", vc_agent_display_name(a));
  srv_add_str(o, "number", vc_agent_number(a));
  cJSON_AddNumberToObject(o, "wrap_up_s", vc_agent_wrap_up_seconds(a));
  srv_add_json(o, "metadata_json", vc_agent_metadata_json(a));
  cJSON_AddStringToObject(o, "state", vc_agent_state_name(vc_agent_state_of(a)));
  srv_add_str(o, "reason", vc_agent_reason(a));
  srv_add_str(o, "call_id", vc_agent_call_id(a));
  srv_add_time(o, "state_since", vc_agent_state_since(a));
  srv_add_time(o, "created_at", vc_agent_created_at(a));
  srv_add_time(o, "updated_at", vc_agent_updated_at(a));
  return o;
}

JSON_NEXT_FN(agent_json_next, vc_agent, vc_agent_next,
             agent_json, vc_agent_free)

/* An agent's settings from the body; `name` required when creating.
 * *meta (the metadata's JSON text) is the caller's to free. */
static int agent_spec_read(srv_req *req, int creating, vc_agent_spec *spec,
                           char **meta)
{
  int64_t wrap = -1;
  int rc;

  *meta = NULL;
  if ((rc = srv_need_body(req)) < 0 ||
      (rc = srv_str(req, "name", creating, &spec->name)) < 0 ||
      (rc = srv_str(req, "display_name", 0, &spec->display_name)) < 0 ||
      (rc = srv_str(req, "number", 0, &spec->number)) < 0 ||
      (rc = srv_int(req, "wrap_up_s", 0, &wrap)) < 0)
    return rc;
  if (wrap < -1 || wrap > 86400)
    return srv_fail(req, VC_EINVALID, "wrap_up_s is 0..86400");
  spec->wrap_up_s = (int)wrap;
  if ((rc = srv_obj_text(req, "metadata_json", meta)) < 0)
    return rc;
  spec->metadata_json = *meta;
  return 0;
}

static int post_agent(srv_req *req, srv_res *res)
{
  vc_agent_spec spec = VC_AGENT_SPEC_INIT;
  char *meta;
  vc_agent *a;
  int rc;

  if ((rc = agent_spec_read(req, 1, &spec, &meta)) == 0 &&
      (rc = vc_agent_new(&a, req->tenant, &spec)) == 0) {
    srv_answer(res, 201, agent_json(a));
    vc_agent_free(a);
  }
  cJSON_free(meta);
  return rc;
}

static int patch_agent(srv_req *req, srv_res *res)
{
  vc_agent_spec spec = VC_AGENT_SPEC_INIT;
  vc_agent *a;
  char *meta;
  int rc;

  if ((rc = agent_spec_read(req, 0, &spec, &meta)) < 0)
    return rc;
  if ((rc = vc_agent_lookup(&a, req->tenant, req->params[0])) < 0) {
    cJSON_free(meta);
    return srv_not_found(rc);
  }
  if ((rc = vc_agent_update(a, &spec)) == 0)
    srv_answer(res, 200, agent_json(a));
  vc_agent_free(a);
  cJSON_free(meta);
  return rc;
}

SRV_LIST_HANDLER(get_agents, vc_agent_filter, VC_AGENT_FILTER_INIT,
                 vc_agent_list, agent_json_next)

SRV_GET_HANDLER(get_agent, vc_agent, vc_agent_lookup,
                agent_json, vc_agent_free)
SRV_DELETE_HANDLER(delete_agent, vc_agent, vc_agent_lookup,
                   vc_agent_delete, vc_agent_id, vc_agent_free)

static int patch_agent_state(srv_req *req, srv_res *res)
{
  const char *why = NULL;
  int state = 0, rc;
  vc_agent *a;

  if ((rc = srv_need_body(req)) < 0 ||
      (rc = srv_enum(req, "state", 1, AGENT_STATES, 1, &state)) < 0 ||
      (rc = srv_str(req, "reason", 0, &why)) < 0)
    return rc;
  if ((rc = vc_agent_lookup(&a, req->tenant, req->params[0])) < 0)
    return srv_not_found(rc);
  if ((rc = vc_agent_set_state(a, state, why)) == 0) {
    srv_answer(res, 200, agent_json(a));
  }
  vc_agent_free(a);
  return rc;
}

/* ---- IVR menus ------------------------------------------------------------- */

static cJSON *ivr_json(vc_ivr_menu *m)
{
  cJSON *o = cJSON_CreateObject();

  cJSON_AddStringToObject(o, "id", vc_ivr_menu_id(m));
  cJSON_AddStringToObject(o, "name", vc_ivr_menu_name(m));
  srv_add_json(o, "definition_json", vc_ivr_menu_definition_json(m));
  cJSON_AddNumberToObject(o, "revision", vc_ivr_menu_revision(m));
  srv_add_time(o, "created_at", vc_ivr_menu_created_at(m));
  srv_add_time(o, "updated_at", vc_ivr_menu_updated_at(m));
  return o;
}

JSON_NEXT_FN(ivr_json_next, vc_ivr_menu, vc_ivr_menu_next,
             ivr_json, vc_ivr_menu_free)

static int post_ivr(srv_req *req, srv_res *res)
{
  vc_ivr_menu_spec spec = VC_IVR_MENU_SPEC_INIT;
  char *def = NULL;
  vc_ivr_menu *m;
  int rc;

  if ((rc = srv_need_body(req)) < 0 ||
      (rc = srv_str(req, "name", 1, &spec.name)) < 0 ||
      (rc = srv_obj_text(req, "definition_json", &def)) < 0)
    return rc;
  if (def == NULL)
    return srv_fail(req, VC_EINVALID, "field 'definition_json' is "
                    "required");
  spec.definition_json = def;
  rc = vc_ivr_menu_new(&m, req->tenant, &spec);
  cJSON_free(def);
  if (rc < 0)
    return rc;
  srv_answer(res, 201, ivr_json(m));
  vc_ivr_menu_free(m);
  return 0;
}

SRV_LIST_HANDLER(get_ivrs, vc_ivr_menu_filter, VC_IVR_MENU_FILTER_INIT,
                 vc_ivr_menu_list, ivr_json_next)

/* ---- queues ------------------------------------------------------------------ */

static const char *const STRATEGIES[] = { "longest_idle", "round_robin",
                                          "ring_all", "by_skill", NULL };
static const char *const OVERFLOWS[] = { "hangup", "queue", "voicemail",
                                         "callback", NULL };

static cJSON *queue_json(vc_queue *q)
{
  cJSON *o = cJSON_CreateObject();

  cJSON_AddStringToObject(o, "id", vc_queue_id(q));
  cJSON_AddStringToObject(o, "name", vc_queue_name(q));
  cJSON_AddStringToObject(o, "strategy",
                          vc_queue_strategy_name(vc_queue_strategy_of(q)));
  cJSON_AddNumberToObject(o, "max_wait_s", vc_queue_max_wait_seconds(q));
  cJSON_AddBoolToObject(o, "announce_position", vc_queue_announce_position(q));
  cJSON_AddStringToObject(o, "overflow_kind",
                          vc_queue_overflow_name(vc_queue_overflow_kind(q)));
  srv_add_str(o, "overflow_target", vc_queue_overflow_target(q));
  srv_add_str(o, "moh_url", vc_queue_moh_url(q));
  srv_add_time(o, "created_at", vc_queue_created_at(q));
  srv_add_time(o, "updated_at", vc_queue_updated_at(q));
  return o;
}

JSON_NEXT_FN(queue_json_next, vc_queue, vc_queue_next,
             queue_json, vc_queue_free)

/* A queue's settings from the body; `name` required when creating. */
static int queue_spec_read(srv_req *req, int creating, vc_queue_spec *spec)
{
  int64_t wait = -1;
  int announce = -1;
  int rc;

  if ((rc = srv_need_body(req)) < 0 ||
      (rc = srv_str(req, "name", creating, &spec->name)) < 0 ||
      (rc = srv_enum(req, "strategy", 0, STRATEGIES, 1, &spec->strategy)) < 0
      || (rc = srv_int(req, "max_wait_s", 0, &wait)) < 0 ||
      (rc = srv_bool(req, "announce_position", &announce)) < 0 ||
      (rc = srv_enum(req, "overflow_kind", 0, OVERFLOWS, 1,
                     &spec->overflow_kind)) < 0 ||
      (rc = srv_str(req, "overflow_target", 0, &spec->overflow_target)) < 0 ||
      (rc = srv_str(req, "moh_url", 0, &spec->moh_url)) < 0)
    return rc;
  if (wait < -1 || wait > 86400)
    return srv_fail(req, VC_EINVALID, "max_wait_s is 0..86400");
  spec->max_wait_s = (int)wait;
  spec->announce_position = announce;
  return 0;
}

static int post_queue(srv_req *req, srv_res *res)
{
  vc_queue_spec spec = VC_QUEUE_SPEC_INIT;
  vc_queue *q;
  int rc;

  if ((rc = queue_spec_read(req, 1, &spec)) < 0 ||
      (rc = vc_queue_new(&q, req->tenant, &spec)) < 0)
    return rc;
  srv_answer(res, 201, queue_json(q));
  vc_queue_free(q);
  return 0;
}

static int patch_queue(srv_req *req, srv_res *res)
{
  vc_queue_spec spec = VC_QUEUE_SPEC_INIT;
  vc_queue *q;
  int rc;

  if ((rc = queue_spec_read(req, 0, &spec)) < 0)
    return rc;
  if ((rc = vc_queue_lookup(&q, req->tenant, req->params[0])) < 0)
    return srv_not_found(rc);
  if ((rc = vc_queue_update(q, &spec)) == 0)
    srv_answer(res, 200, queue_json(q));
  vc_queue_free(q);
  return rc;
}

SRV_LIST_HANDLER(get_queues, vc_queue_filter, VC_QUEUE_FILTER_INIT,
                 vc_queue_list, queue_json_next)
SRV_GET_HANDLER(get_queue, vc_queue, vc_queue_lookup,
                queue_json, vc_queue_free)
SRV_DELETE_HANDLER(delete_queue, vc_queue, vc_queue_lookup,
                   vc_queue_delete, vc_queue_id, vc_queue_free)

static int post_queue_member(srv_req *req, srv_res *res)
{
  const char *agent = NULL, *skills = NULL;
  vc_queue *q;
  cJSON *o;
  int rc;

  if ((rc = srv_need_body(req)) < 0 ||
      (rc = srv_str(req, "agent", 1, &agent)) < 0 ||
      (rc = srv_str(req, "skills", 0, &skills)) < 0)
    return rc;
  if ((rc = vc_queue_lookup(&q, req->tenant, req->params[0])) < 0)
    return srv_not_found(rc);
  rc = vc_queue_member_add(q, agent, skills);
  vc_queue_free(q);
  if (rc < 0)
    return rc;
  o = srv_object(res, 201);
  cJSON_AddStringToObject(o, "queue_id", req->params[0]);
  cJSON_AddStringToObject(o, "agent", agent);
  srv_add_str(o, "skills", skills);
  return 0;
}

static int delete_queue_member(srv_req *req, srv_res *res)
{
  vc_queue *q;
  cJSON *o;
  int rc;

  if ((rc = vc_queue_lookup(&q, req->tenant, req->params[0])) < 0)
    return srv_not_found(rc);
  rc = vc_queue_member_remove(q, req->params[1]);
  if (rc == 0) {
    o = srv_object(res, 200);
    cJSON_AddStringToObject(o, "queue_id", vc_queue_id(q));
    cJSON_AddStringToObject(o, "agent", req->params[1]);
    cJSON_AddBoolToObject(o, "deleted", 1);
  }
  vc_queue_free(q);
  return rc;
}

/* ---- inbound numbers ------------------------------------------------------------ */

static const char *const ENTRIES[] = { "ivr", "queue", "agent", NULL };

static cJSON *number_json(vc_number *n)
{
  cJSON *o = cJSON_CreateObject();

  cJSON_AddStringToObject(o, "id", vc_number_id(n));
  cJSON_AddStringToObject(o, "number", vc_number_number(n));
  cJSON_AddStringToObject(o, "channel_id", vc_number_channel_id(n));
  cJSON_AddStringToObject(o, "entry_kind",
                          vc_number_entry_name(vc_number_entry_kind(n)));
  cJSON_AddStringToObject(o, "entry_id", vc_number_entry_id(n));
  srv_add_str(o, "label", vc_number_label(n));
  srv_add_time(o, "created_at", vc_number_created_at(n));
  srv_add_time(o, "updated_at", vc_number_updated_at(n));
  return o;
}

JSON_NEXT_FN(number_json_next, vc_number, vc_number_next,
             number_json, vc_number_free)

/* A number's settings from the body; all but `label` required when
 * creating. */
static int number_spec_read(srv_req *req, int creating, vc_number_spec *spec)
{
  int rc;

  if ((rc = srv_need_body(req)) < 0 ||
      (rc = srv_str(req, "number", creating, &spec->number)) < 0 ||
      (rc = srv_str(req, "channel", creating, &spec->channel)) < 0 ||
      (rc = srv_enum(req, "entry_kind", creating, ENTRIES, 1,
                     &spec->entry_kind)) < 0 ||
      (rc = srv_str(req, "entry", creating, &spec->entry)) < 0 ||
      (rc = srv_str(req, "label", 0, &spec->label)) < 0)
    return rc;
  return 0;
}

static int post_number(srv_req *req, srv_res *res)
{
  vc_number_spec spec = VC_NUMBER_SPEC_INIT;
  vc_number *n;
  int rc;

  if ((rc = number_spec_read(req, 1, &spec)) < 0 ||
      (rc = vc_number_new(&n, req->tenant, &spec)) < 0)
    return rc;
  srv_answer(res, 201, number_json(n));
  vc_number_free(n);
  return 0;
}

static int patch_number(srv_req *req, srv_res *res)
{
  vc_number_spec spec = VC_NUMBER_SPEC_INIT;
  vc_number *n;
  int rc;

  if ((rc = number_spec_read(req, 0, &spec)) < 0)
    return rc;
  if ((rc = vc_number_lookup(&n, req->tenant, req->params[0])) < 0)
    return srv_not_found(rc);
  if ((rc = vc_number_update(n, &spec)) == 0)
    srv_answer(res, 200, number_json(n));
  vc_number_free(n);
  return rc;
}

SRV_LIST_HANDLER(get_numbers, vc_number_filter, VC_NUMBER_FILTER_INIT,
                 vc_number_list, number_json_next)
SRV_GET_HANDLER(get_number, vc_number, vc_number_lookup,
                number_json, vc_number_free)
SRV_DELETE_HANDLER(delete_number, vc_number, vc_number_lookup,
                   vc_number_delete, vc_number_id, vc_number_free)

const srv_route SRV_CALL_ROUTES[] = {
  { "POST", "/api/v1/click-to-call/initiate", post_initiate, 0 },
  { "GET", "/api/v1/click-to-call/sessions", get_calls, 0 },
  { "GET", "/api/v1/click-to-call/sessions/{id}", get_call, 0 },
  { "PATCH", "/api/v1/click-to-call/sessions/{id}/status", patch_call_status, 0 },
  { "POST", "/api/v1/click-to-call/stats", post_call_stats, 0 },
  { "POST", "/api/v1/voip-providers", post_voip, 0 },
  { "GET", "/api/v1/voip-providers", get_voip, 0 },
  { "POST", "/api/v1/agents", post_agent, 0 },
  { "GET", "/api/v1/agents", get_agents, 0 },
  { "GET", "/api/v1/agents/{id}", get_agent, 0 },
  { "PATCH", "/api/v1/agents/{id}", patch_agent, 0 },
  { "DELETE", "/api/v1/agents/{id}", delete_agent, 0 },
  { "PATCH", "/api/v1/agents/{id}/state", patch_agent_state, 0 },
  { "POST", "/api/v1/ivr-menus", post_ivr, 0 },
  { "GET", "/api/v1/ivr-menus", get_ivrs, 0 },
  { "POST", "/api/v1/queues", post_queue, 0 },
  { "GET", "/api/v1/queues", get_queues, 0 },
  { "GET", "/api/v1/queues/{id}", get_queue, 0 },
  { "PATCH", "/api/v1/queues/{id}", patch_queue, 0 },
  { "DELETE", "/api/v1/queues/{id}", delete_queue, 0 },
  { "POST", "/api/v1/queues/{id}/members", post_queue_member, 0 },
  { "DELETE", "/api/v1/queues/{id}/members/{agent}", delete_queue_member, 0 },
  { "POST", "/api/v1/numbers", post_number, 0 },
  { "GET", "/api/v1/numbers", get_numbers, 0 },
  { "GET", "/api/v1/numbers/{id}", get_number, 0 },
  { "PATCH", "/api/v1/numbers/{id}", patch_number, 0 },
  { "DELETE", "/api/v1/numbers/{id}", delete_number, 0 },
  { NULL, NULL, NULL, 0 }
};
