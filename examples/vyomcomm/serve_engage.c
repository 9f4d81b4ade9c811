/*
 * `vyomcomm serve`: engagement endpoints under /api/v1: contacts and
 * consent, campaigns and their progress, the inbox, GDPR export and
 * erasure, and the general-ledger export.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve.h"

/* ---- contacts ---------------------------------------------------------- */

static const char *const ADDRESS_KINDS[] = { "phone", "email", "telegram",
                                             "whatsapp", NULL };

static cJSON *contact_json(vc_contact *c)
{
  cJSON *o = cJSON_CreateObject(), *addrs, *tags;
  int qs = 0, qe = 0;

  cJSON_AddStringToObject(o, "id", vc_contact_id(c));
  srv_add_str(o, "name", vc_contact_name(c));
  addrs = cJSON_AddArrayToObject(o, "addresses");
  for (size_t i = 0; i < vc_contact_address_count(c); i++) {
    cJSON *a = cJSON_CreateObject();
    int kind = 0;
    const char *v = vc_contact_address_at(c, i, &kind);

    cJSON_AddStringToObject(a, "kind", kind >= 1 && kind <= 4
                            ? ADDRESS_KINDS[kind - 1] : "unknown");
    cJSON_AddStringToObject(a, "address", v ? v : "");
    cJSON_AddItemToArray(addrs, a);
  }
  tags = cJSON_AddArrayToObject(o, "tags");
  for (size_t i = 0; i < vc_contact_tag_count(c); i++)
    cJSON_AddItemToArray(tags, cJSON_CreateString(vc_contact_tag_at(c, i)));
  srv_add_str(o, "timezone", vc_contact_timezone(c));
  srv_add_str(o, "locale", vc_contact_locale(c));
  if (vc_contact_quiet_hours(c, &qs, &qe) == 0 && qs >= 0) {
    cJSON_AddNumberToObject(o, "quiet_start_min", qs);
    cJSON_AddNumberToObject(o, "quiet_end_min", qe);
  }
  srv_add_json(o, "fields_json", vc_contact_fields_json(c));
  srv_add_time(o, "created_at", vc_contact_created_at(c));
  srv_add_time(o, "updated_at", vc_contact_updated_at(c));
  return o;
}

JSON_NEXT_FN(contact_json_next, vc_contact, vc_contact_next,
             contact_json, vc_contact_free)

static int contact_answer(srv_req *req, srv_res *res, const char *id,
                          int status)
{
  vc_contact *c;
  int rc;

  if ((rc = vc_contact_lookup(&c, req->tenant, id)) < 0)
    return srv_not_found(rc);
  srv_answer(res, status, contact_json(c));
  vc_contact_free(c);
  return 0;
}

static int post_contact(srv_req *req, srv_res *res)
{
  vc_contact_spec spec = VC_CONTACT_SPEC_INIT;
  char id[VC_ID_SIZE], *fields = NULL;
  int64_t qs = VC_QUIET_NONE, qe = VC_QUIET_NONE;
  int rc;

  if ((rc = srv_need_body(req)) < 0 ||
      (rc = srv_str(req, "name", 0, &spec.name)) < 0 ||
      (rc = srv_str(req, "phone", 0, &spec.phone)) < 0 ||
      (rc = srv_str(req, "email", 0, &spec.email)) < 0 ||
      (rc = srv_str(req, "telegram", 0, &spec.telegram)) < 0 ||
      (rc = srv_str(req, "whatsapp", 0, &spec.whatsapp)) < 0 ||
      (rc = srv_str(req, "timezone", 0, &spec.timezone)) < 0 ||
      (rc = srv_str(req, "locale", 0, &spec.locale)) < 0 ||
      (rc = srv_int(req, "quiet_start_min", 0, &qs)) < 0 ||
      (rc = srv_int(req, "quiet_end_min", 0, &qe)) < 0 ||
      (rc = srv_str(req, "tags", 0, &spec.tags)) < 0)
    return rc;
  if (qs < VC_QUIET_NONE || qs > 1439 || qe < VC_QUIET_NONE || qe > 1439)
    return srv_fail(req, VC_EINVALID, "quiet hours are minutes 0..1439");
  if (qs != VC_QUIET_NONE || qe != VC_QUIET_NONE) {
    spec.quiet_start_min = (int)qs;
    spec.quiet_end_min = (int)qe;
  }
  if ((rc = srv_obj_text(req, "fields_json", &fields)) < 0)
    return rc;
  spec.fields_json = fields;
  rc = vc_contact_upsert(id, req->tenant, &spec);
  cJSON_free(fields);
  if (rc < 0)
    return rc;
  return contact_answer(req, res, id, 200);
}

static int get_contacts(srv_req *req, srv_res *res)
{
  vc_contact_filter f = VC_CONTACT_FILTER_INIT;
  vc_iter *it;
  size_t limit;
  int rc;

  if ((rc = srv_page_args(req, &limit, &f.after)) < 0)
    return rc;
  f.tag = srv_query(req, "tag");
  f.name_prefix = srv_query(req, "name_prefix");
  if ((rc = vc_contact_list(&it, req->tenant, &f)) < 0)
    return rc;
  return srv_page(res, it, limit, contact_json_next);
}

static int get_contact(srv_req *req, srv_res *res)
{
  return contact_answer(req, res, req->params[0], 200);
}

/* ---- consent ------------------------------------------------------------- */

static const char *const CONSENTS[] = { "unknown", "opted_in", "opted_out",
                                        NULL };

static int consent_answer(srv_req *req, srv_res *res, int kind,
                          int category)
{
  vc_consent_info info = VC_CONSENT_INFO_INIT;
  cJSON *o;
  int rc;

  if ((rc = vc_consent_get(&info, req->tenant, req->params[0], kind,
                           category)) < 0)
    return srv_not_found(rc);
  o = srv_object(res, 200);
  cJSON_AddStringToObject(o, "contact_id", req->params[0]);
  cJSON_AddStringToObject(o, "kind", vc_channel_kind_name(kind));
  srv_add_str(o, "category", vc_category_name(category));
  cJSON_AddStringToObject(o, "state", CONSENTS[info.state % 3]);
  srv_add_time(o, "changed_at", info.changed_at);
  srv_add_str(o, "source", info.source);
  cJSON_AddBoolToObject(o, "requires_opt_in", info.requires_opt_in);
  cJSON_AddBoolToObject(o, "allowed", info.allowed);
  return 0;
}

static int post_consent(srv_req *req, srv_res *res)
{
  vc_consent_spec spec = VC_CONSENT_SPEC_INIT;
  int rc;

  spec.contact_id = req->params[0];
  if (!srv_id_ok(req->params[0]))
    return srv_fail(req, VC_ENOTFOUND, "no contact %.40s", req->params[0]);
  if ((rc = srv_need_body(req)) < 0 ||
      (rc = srv_enum(req, "kind", 1, SRV_KINDS, 1, &spec.kind)) < 0 ||
      (rc = srv_enum(req, "category", 0, SRV_CATEGORIES, 1,
                     &spec.category)) < 0 ||
      (rc = srv_enum(req, "state", 1, CONSENTS, 0, &spec.state)) < 0 ||
      (rc = srv_str(req, "source", 0, &spec.source)) < 0 ||
      (rc = srv_str(req, "proof", 0, &spec.proof)) < 0)
    return rc;
  if ((rc = vc_consent_set(req->tenant, &spec)) < 0)
    return rc;
  return consent_answer(req, res, spec.kind, spec.category
                        ? spec.category : VC_CATEGORY_MARKETING);
}

static int get_consent(srv_req *req, srv_res *res)
{
  const char *k = srv_query(req, "kind"), *c = srv_query(req, "category");
  int kind = 0, category = VC_CATEGORY_MARKETING;

  for (int i = 0; k != NULL && SRV_KINDS[i]; i++)
    if (strcmp(SRV_KINDS[i], k) == 0)
      kind = i + 1;
  if (kind == 0)
    return srv_fail(req, VC_EINVALID, "query parameter 'kind' is one of "
                    "email, sms, chat, voice");
  if (c != NULL && (category = vc_category_from_name(c)) < 0)
    return srv_fail(req, VC_EINVALID, "unknown category '%.32s'", c);
  return consent_answer(req, res, kind, category);
}

/* ---- GDPR ------------------------------------------------------------------ */

static int get_export(srv_req *req, srv_res *res)
{
  vc_buf out = VC_BUF_INIT;
  int rc;

  if ((rc = vc_contact_export(&out, req->tenant, req->params[0])) < 0)
    return srv_not_found(rc);
  srv_answer(res, 200, cJSON_Parse(out.ptr ? out.ptr : "{}"));
  vc_buf_dispose(&out);
  return res->json ? 0 : VC_ENOMEM;
}

static int post_erase(srv_req *req, srv_res *res)
{
  const char *why = NULL;
  char id[VC_ID_SIZE];
  cJSON *o;
  int rc;

  if (!srv_id_ok(req->params[0]))
    return srv_fail(req, VC_ENOTFOUND, "no contact %.40s", req->params[0]);
  if ((rc = srv_str(req, "reason", 0, &why)) < 0)
    return rc;
  if ((rc = vc_contact_erase(id, req->tenant, req->params[0], why)) < 0)
    return rc;
  o = srv_object(res, 200);
  cJSON_AddStringToObject(o, "erasure_id", id);
  cJSON_AddStringToObject(o, "contact_id", req->params[0]);
  return 0;
}

/* ---- campaigns ---------------------------------------------------------------- */

static const char *const AUDIENCES[] = { "list", "tag", NULL };

static cJSON *campaign_json(vc_campaign *c)
{
  static const char *const AUD[] = { "", "list", "tag", "csv" };
  cJSON *o = cJSON_CreateObject();
  int aud = vc_campaign_audience_kind(c);

  cJSON_AddStringToObject(o, "id", vc_campaign_id(c));
  cJSON_AddStringToObject(o, "name", vc_campaign_name(c));
  cJSON_AddStringToObject(o, "state",
                          vc_campaign_state_name(vc_campaign_state(c)));
  cJSON_AddStringToObject(o, "audience", aud >= 1 && aud <= 3 ? AUD[aud]
                                                              : "unknown");
  srv_add_str(o, "category", vc_category_name(vc_campaign_category(c)));
  srv_add_str(o, "template_id", vc_campaign_template_id(c));
  cJSON_AddNumberToObject(o, "rate", vc_campaign_rate(c));
  srv_add_time(o, "start_at", vc_campaign_start_at(c));
  srv_add_time(o, "end_at", vc_campaign_end_at(c));
  srv_add_time(o, "created_at", vc_campaign_created_at(c));
  return o;
}

JSON_NEXT_FN(campaign_json_next, vc_campaign, vc_campaign_next,
             campaign_json, vc_campaign_free)

/* A bounded array of strings from the body. */
static int str_array(srv_req *req, const char *name, size_t max,
                     const char ***out, size_t *n)
{
  cJSON *a = cJSON_GetObjectItemCaseSensitive(req->body, name), *x;
  size_t i = 0;

  *out = NULL;
  *n = 0;
  if (a == NULL || cJSON_IsNull(a))
    return 0;
  if (!cJSON_IsArray(a) || (size_t)cJSON_GetArraySize(a) > max)
    return srv_fail(req, VC_EINVALID, "field '%s' must be an array of at "
                    "most %zu strings", name, max);
  *out = calloc((size_t)cJSON_GetArraySize(a) + 1, sizeof(**out));
  if (*out == NULL)
    return VC_ENOMEM;
  cJSON_ArrayForEach(x, a) {
    if (!cJSON_IsString(x)) {
      free(*out);
      *out = NULL;
      return srv_fail(req, VC_EINVALID, "field '%s' must hold strings",
                      name);
    }
    (*out)[i++] = x->valuestring;
  }
  *n = i;
  return 0;
}

static int post_campaign(srv_req *req, srv_res *res)
{
  vc_campaign_spec spec = VC_CAMPAIGN_SPEC_INIT;
  const char **chain = NULL, **ids = NULL;
  int64_t ws = 0, we = 0;
  char *vars = NULL;
  vc_campaign *c;
  int rc;

  if ((rc = srv_need_body(req)) < 0 ||
      (rc = srv_str(req, "name", 1, &spec.name)) < 0 ||
      (rc = srv_str(req, "template_name", 1, &spec.template_name)) < 0 ||
      (rc = srv_str(req, "locale", 0, &spec.locale)) < 0 ||
      (rc = srv_enum(req, "audience", 1, AUDIENCES, 1, &spec.audience)) < 0
      || (rc = srv_str(req, "tag", 0, &spec.tag)) < 0 ||
      (rc = srv_int(req, "start_at", 0, &spec.start_at)) < 0 ||
      (rc = srv_int(req, "end_at", 0, &spec.end_at)) < 0 ||
      (rc = srv_int(req, "window_start_min", 0, &ws)) < 0 ||
      (rc = srv_int(req, "window_end_min", 0, &we)) < 0 ||
      (rc = srv_num(req, "rate", 0, &spec.rate)) < 0 ||
      (rc = srv_enum(req, "category", 0, SRV_CATEGORIES, 1,
                     &spec.category)) < 0)
    return rc;
  if (ws < 0 || ws > 1439 || we < 0 || we > 1439)
    return srv_fail(req, VC_EINVALID, "the window is minutes 0..1439");
  spec.window_start_min = (int)ws;
  spec.window_end_min = (int)we;
  if ((rc = str_array(req, "chain", VC_CAMPAIGN_CHAIN_MAX, &chain,
                      &spec.nchain)) < 0 ||
      (rc = str_array(req, "contact_ids", VC_CAMPAIGN_LIST_MAX, &ids,
                      &spec.ncontacts)) < 0 ||
      (rc = srv_obj_text(req, "vars_json", &vars)) < 0)
    goto done;
  spec.chain = chain;
  spec.contact_ids = ids;
  spec.vars_json = vars;
  if ((rc = vc_campaign_new(&c, req->tenant, &spec)) == 0) {
    srv_answer(res, 201, campaign_json(c));
    vc_campaign_free(c);
  }
done:
  free(chain);
  free(ids);
  cJSON_free(vars);
  return rc;
}

SRV_LIST_HANDLER(get_campaigns, vc_campaign_filter, VC_CAMPAIGN_FILTER_INIT,
                 vc_campaign_list, campaign_json_next)

static void add_u64(cJSON *o, const char *name, uint64_t v)
{
  cJSON_AddNumberToObject(o, name, (double)v);
}

/* The campaign with its progress counters. */
static int campaign_answer(srv_req *req, srv_res *res, vc_campaign *c)
{
  vc_campaign_counters k = VC_CAMPAIGN_COUNTERS_INIT;
  cJSON *o, *p;
  int rc;

  if ((rc = vc_campaign_counters_get(&k, c)) < 0)
    return rc;
  o = campaign_json(c);
  cJSON_ReplaceItemInObject(o, "state", cJSON_CreateString(
                              vc_campaign_state_name(k.state)));
  p = cJSON_AddObjectToObject(o, "progress");
  add_u64(p, "total", k.total);
  add_u64(p, "queued", k.queued);
  add_u64(p, "sent", k.sent);
  add_u64(p, "delivered", k.delivered);
  add_u64(p, "failed", k.failed);
  add_u64(p, "canceled", k.canceled);
  add_u64(p, "skipped_consent", k.skipped_consent);
  add_u64(p, "skipped_address", k.skipped_address);
  add_u64(p, "deferred_quiet", k.deferred_quiet);
  add_u64(p, "expired", k.expired);
  add_u64(p, "open", k.open);
  (void)req;
  srv_answer(res, 200, o);
  return 0;
}

static int get_campaign(srv_req *req, srv_res *res)
{
  vc_campaign *c;
  int rc;

  if ((rc = vc_campaign_lookup(&c, req->tenant, req->params[0])) < 0)
    return srv_not_found(rc);
  rc = campaign_answer(req, res, c);
  vc_campaign_free(c);
  return rc;
}

static int campaign_action(srv_req *req, srv_res *res,
                           int (*act)(vc_campaign *))
{
  vc_campaign *c, *now;
  int rc;

  if ((rc = vc_campaign_lookup(&c, req->tenant, req->params[0])) < 0)
    return srv_not_found(rc);
  rc = act(c);
  vc_campaign_free(c);
  if (rc < 0)
    return rc;
  if ((rc = vc_campaign_lookup(&now, req->tenant, req->params[0])) < 0)
    return rc;
  rc = campaign_answer(req, res, now);
  vc_campaign_free(now);
  return rc;
}

static int post_campaign_start(srv_req *req, srv_res *res)
{
  return campaign_action(req, res, vc_campaign_start);
}

static int post_campaign_pause(srv_req *req, srv_res *res)
{
  return campaign_action(req, res, vc_campaign_pause);
}

static int post_campaign_resume(srv_req *req, srv_res *res)
{
  return campaign_action(req, res, vc_campaign_resume);
}

static int post_campaign_cancel(srv_req *req, srv_res *res)
{
  return campaign_action(req, res, vc_campaign_cancel);
}

/* ---- the inbox ------------------------------------------------------------------ */

static const char *const CONV_STATUSES[] = { "open", "pending", "resolved",
                                             "snoozed", NULL };

static cJSON *conversation_json(vc_conversation *c)
{
  cJSON *o = cJSON_CreateObject();
  int kind = vc_conversation_last_channel_kind(c);

  cJSON_AddStringToObject(o, "id", vc_conversation_id(c));
  cJSON_AddStringToObject(o, "contact_id", vc_conversation_contact_id(c));
  cJSON_AddStringToObject(o, "status", vc_conversation_status_name(
                            vc_conversation_status_of(c)));
  srv_add_time(o, "snoozed_until", vc_conversation_snoozed_until(c));
  srv_add_str(o, "assignee_id", vc_conversation_assignee_id(c));
  cJSON_AddNumberToObject(o, "unread", (double)vc_conversation_unread(c));
  srv_add_str(o, "last_channel_id", vc_conversation_last_channel_id(c));
  srv_add_str(o, "last_channel_kind", kind ? vc_channel_kind_name(kind)
                                           : NULL);
  srv_add_time(o, "last_activity_at", vc_conversation_last_activity_at(c));
  srv_add_time(o, "created_at", vc_conversation_created_at(c));
  srv_add_time(o, "updated_at", vc_conversation_updated_at(c));
  return o;
}

JSON_NEXT_FN(conversation_json_next, vc_conversation, vc_conversation_next,
             conversation_json, vc_conversation_free)

static int get_conversations(srv_req *req, srv_res *res)
{
  vc_conversation_filter f = VC_CONVERSATION_FILTER_INIT;
  vc_iter *it;
  size_t limit;
  int rc;

  if ((rc = srv_page_args(req, &limit, &f.after)) < 0)
    return rc;
  if ((rc = srv_query_enum(req, "status", CONV_STATUSES, &f.status)) < 0)
    return rc;
  f.assignee_id = srv_query(req, "assignee_id");
  f.text = srv_query(req, "text");
  if ((rc = vc_conversation_list(&it, req->tenant, &f)) < 0)
    return rc;
  return srv_page(res, it, limit, conversation_json_next);
}

static cJSON *item_json(vc_conversation_item *x)
{
  cJSON *o = cJSON_CreateObject();
  int type = vc_conversation_item_type_of(x);
  int kind = vc_conversation_item_channel_kind(x);

  cJSON_AddStringToObject(o, "type", vc_conversation_item_type_name(type));
  cJSON_AddStringToObject(o, "id", vc_conversation_item_id(x));
  srv_add_time(o, "at", vc_conversation_item_at(x));
  srv_add_str(o, "channel_kind", kind ? vc_channel_kind_name(kind) : NULL);
  srv_add_str(o, "channel_id", vc_conversation_item_channel_id(x));
  srv_add_str(o, "text", vc_conversation_item_text(x));
  cJSON_AddNumberToObject(o, "status", vc_conversation_item_status(x));
  if (type == VC_CONVERSATION_ITEM_VOICEMAIL) {
    srv_add_str(o, "recording_url", vc_conversation_item_recording_url(x));
    cJSON_AddNumberToObject(o, "duration_s", vc_conversation_item_duration(x));
  }
  return o;
}

JSON_NEXT_FN(item_json_next, vc_conversation_item, vc_conversation_item_next,
             item_json, vc_conversation_item_free)

/* GET /inbox/conversations/{id}/timeline: the items, a page at a time. */
static int get_timeline(srv_req *req, srv_res *res)
{
  vc_conversation_item_filter f = VC_CONVERSATION_ITEM_FILTER_INIT;
  vc_iter *it;
  size_t limit;
  int rc;

  if ((rc = srv_page_args(req, &limit, &f.after)) < 0)
    return rc;
  f.conversation_id = req->params[0];
  if ((rc = vc_conversation_items(&it, req->tenant, &f)) < 0)
    return srv_not_found(rc);
  return srv_page(res, it, limit, item_json_next);
}

SRV_GET_HANDLER(get_conversation, vc_conversation,
                vc_conversation_lookup, conversation_json,
                vc_conversation_free)

static int post_reply(srv_req *req, srv_res *res)
{
  srv_message_owned own = { 0 };
  vc_message_spec spec;
  char id[VC_ID_SIZE];
  cJSON *o;
  int rc;

  if (!srv_id_ok(req->params[0]))
    return srv_fail(req, VC_ENOTFOUND, "no conversation %.40s",
                    req->params[0]);
  /* The conversation decides kind, channel and recipient. */
  if ((rc = srv_need_body(req)) < 0 ||
      (rc = srv_message_spec(req, req->body, 0, &spec, &own)) < 0)
    return rc;
  rc = vc_conversation_reply(id, req->tenant, req->params[0], &spec);
  srv_message_owned_free(&own);
  if (rc < 0)
    return rc;
  o = srv_object(res, 202);
  cJSON_AddStringToObject(o, "id", id);
  cJSON_AddStringToObject(o, "status", "queued");
  return 0;
}

static int patch_conversation_status(srv_req *req, srv_res *res)
{
  int64_t until = 0;
  int status = 0, rc;

  if (!srv_id_ok(req->params[0]))
    return srv_fail(req, VC_ENOTFOUND, "no conversation %.40s",
                    req->params[0]);
  if ((rc = srv_need_body(req)) < 0 ||
      (rc = srv_enum(req, "status", 1, CONV_STATUSES, 1, &status)) < 0 ||
      (rc = srv_int(req, "snoozed_until", status == VC_CONVERSATION_SNOOZED,
                    &until)) < 0)
    return rc;
  if ((rc = vc_conversation_set_status(req->tenant, req->params[0], status,
                                       until)) < 0)
    return rc;
  return get_conversation(req, res);
}

/* PUT .../assignee {"agent": id or name}; DELETE .../assignee. */
static int put_conversation_assignee(srv_req *req, srv_res *res)
{
  const char *agent = NULL;
  int rc;

  if (!srv_id_ok(req->params[0]))
    return srv_fail(req, VC_ENOTFOUND, "no conversation %.40s",
                    req->params[0]);
  if ((rc = srv_need_body(req)) < 0 ||
      (rc = srv_str(req, "agent", 1, &agent)) < 0 ||
      (rc = vc_conversation_assign(req->tenant, req->params[0], agent)) < 0)
    return rc;
  return get_conversation(req, res);
}

static int delete_conversation_assignee(srv_req *req, srv_res *res)
{
  int rc;

  if (!srv_id_ok(req->params[0]))
    return srv_fail(req, VC_ENOTFOUND, "no conversation %.40s",
                    req->params[0]);
  if ((rc = vc_conversation_unassign(req->tenant, req->params[0])) < 0)
    return rc;
  return get_conversation(req, res);
}

/* ---- the general-ledger export ------------------------------------------------- */

static int get_gl_export(srv_req *req, srv_res *res)
{
  vc_gl_export_options o = VC_GL_EXPORT_OPTIONS_INIT;
  const char *format = srv_query(req, "format");
  vc_buf out = VC_BUF_INIT;
  int rc;

  if ((rc = srv_query_int(req, "from", 0, INT64_MAX / 2, &o.from)) < 0 ||
      (rc = srv_query_int(req, "to", 1, INT64_MAX / 2, &o.to)) < 0)
    return rc;
  if (srv_query(req, "from") == NULL || srv_query(req, "to") == NULL)
    return srv_fail(req, VC_EINVALID, "query parameters 'from' and 'to' "
                    "are required");
  if (format == NULL || strcmp(format, "json") == 0)
    o.format = VC_GL_JSON;
  else if (strcmp(format, "csv") == 0)
    o.format = VC_GL_CSV;
  else
    return srv_fail(req, VC_EINVALID, "format is 'json' or 'csv'");
  if ((rc = vc_gl_export(&out, req->tenant, &o)) < 0)
    return rc;
  res->raw.status = 200;
  res->raw.content_type = o.format == VC_GL_CSV ? "text/csv"
                                                 : "application/json";
  res->raw.body = out;
  if (res->raw.body.ptr == NULL) {
    res->raw.body.ptr = (char *)"";
    res->raw.body.reserved = 0;
  }
  return 0;
}

const srv_route SRV_ENGAGE_ROUTES[] = {
  { "POST", "/api/v1/contacts", post_contact, 0 },
  { "GET", "/api/v1/contacts", get_contacts, 0 },
  { "GET", "/api/v1/contacts/{id}", get_contact, 0 },
  { "POST", "/api/v1/contacts/{id}/consent", post_consent, 0 },
  { "GET", "/api/v1/contacts/{id}/consent", get_consent, 0 },
  { "GET", "/api/v1/contacts/{id}/export", get_export, 0 },
  { "POST", "/api/v1/contacts/{id}/erase", post_erase, 0 },
  { "POST", "/api/v1/campaigns", post_campaign, 0 },
  { "GET", "/api/v1/campaigns", get_campaigns, 0 },
  { "GET", "/api/v1/campaigns/{id}", get_campaign, 0 },
  { "GET", "/api/v1/campaigns/{id}/progress", get_campaign, 0 },
  { "POST", "/api/v1/campaigns/{id}/start", post_campaign_start, 0 },
  { "POST", "/api/v1/campaigns/{id}/pause", post_campaign_pause, 0 },
  { "POST", "/api/v1/campaigns/{id}/resume", post_campaign_resume, 0 },
  { "POST", "/api/v1/campaigns/{id}/cancel", post_campaign_cancel, 0 },
  { "GET", "/api/v1/inbox/conversations", get_conversations, 0 },
  { "GET", "/api/v1/inbox/conversations/{id}", get_conversation, 0 },
  { "GET", "/api/v1/inbox/conversations/{id}/timeline", get_timeline, 0 },
  { "POST", "/api/v1/inbox/conversations/{id}/reply", post_reply, 0 },
  { "PATCH", "/api/v1/inbox/conversations/{id}/status", patch_conversation_status,
    0 },
  { "PUT", "/api/v1/inbox/conversations/{id}/assignee",
    put_conversation_assignee, 0 },
  { "DELETE", "/api/v1/inbox/conversations/{id}/assignee",
    delete_conversation_assignee, 0 },
  { "GET", "/api/v1/gl-export", get_gl_export, 0 },
  { NULL, NULL, NULL, 0 }
};
