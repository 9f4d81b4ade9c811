/*
 * `vyomcomm serve`: messaging endpoints under /api/v1/communication:
 * channels, messages, bulk sends, templates, the message list, provider
 * webhooks and statistics.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/base64.h>

#include "channel_json.h"
#include "serve.h"

/* ---- channels -------------------------------------------------------- */

static cJSON *channel_json(vc_channel *ch)
{
  static const channel_json_style SRV_STYLE = {
    srv_add_str, srv_add_time, srv_add_json, "config_json", 1
  };

  return channel_json_new(ch, &SRV_STYLE);
}

JSON_NEXT_FN(channel_json_next, vc_channel, vc_channel_next,
             channel_json, vc_channel_free)

int srv_channel_create(srv_req *req, srv_res *res, int kind)
{
  vc_channel_spec spec = VC_CHANNEL_SPEC_INIT;
  char *config = NULL, *creds = NULL;
  int64_t priority = -1;
  vc_channel *ch;
  int rc;

  if ((rc = srv_need_body(req)) < 0 ||
      (rc = srv_str(req, "name", 1, &spec.name)) < 0 ||
      (rc = srv_str(req, "provider", 1, &spec.provider)) < 0 ||
      (rc = srv_str(req, "sender", 0, &spec.sender)) < 0 ||
      (rc = srv_int(req, "priority", 0, &priority)) < 0 ||
      (rc = srv_num(req, "rate_per_second", 0, &spec.rate_per_second)) < 0 ||
      (rc = srv_enum(req, "kind", 0, SRV_KINDS, 1, &spec.kind)) < 0)
    return rc;
  if (priority < -1 || priority > 1000000)
    return srv_fail(req, VC_EINVALID, "field 'priority' is out of range");
  spec.priority = (int32_t)priority;
  if (kind != 0) {
    if (spec.kind != 0 && spec.kind != kind)
      return srv_fail(req, VC_EINVALID, "field 'kind' must be '%s' here",
                      vc_channel_kind_name(kind));
    spec.kind = kind;
  }
  if ((rc = srv_obj_text(req, "config_json", &config)) < 0 ||
      (rc = srv_obj_text(req, "credentials_json", &creds)) < 0)
    goto done;
  spec.config_json = config;
  spec.credentials_json = creds;
  if ((rc = vc_channel_new(&ch, req->tenant, &spec)) == 0) {
    srv_answer(res, 201, channel_json(ch));
    vc_channel_free(ch);
  }
done:
  cJSON_free(config);
  if (creds != NULL) {
    memset(creds, 0, strlen(creds));
    cJSON_free(creds);
  }
  return rc;
}

int srv_channel_list(srv_req *req, srv_res *res, int kind)
{
  vc_channel_filter f = VC_CHANNEL_FILTER_INIT;
  vc_iter *it;
  size_t limit;
  int rc;

  if ((rc = srv_page_args(req, &limit, &f.after)) < 0)
    return rc;
  f.kind = kind;
  if (kind == 0 && (rc = srv_query_enum(req, "kind", SRV_KINDS, &f.kind)) < 0)
    return rc;
  if ((rc = vc_channel_list(&it, req->tenant, &f)) < 0)
    return rc;
  return srv_page(res, it, limit, channel_json_next);
}

static int post_channel(srv_req *req, srv_res *res)
{
  return srv_channel_create(req, res, 0);
}

static int get_channels(srv_req *req, srv_res *res)
{
  return srv_channel_list(req, res, 0);
}

/* ---- messages ---------------------------------------------------------- */

static cJSON *message_json(vc_message *m)
{
  cJSON *o = cJSON_CreateObject();
  int err = vc_message_error(m);

  cJSON_AddStringToObject(o, "id", vc_message_id(m));
  cJSON_AddStringToObject(o, "status",
                          vc_message_status_name(vc_message_status(m)));
  cJSON_AddStringToObject(o, "kind",
                          vc_channel_kind_name(vc_message_kind(m)));
  srv_add_str(o, "channel_id", vc_message_channel_id(m));
  srv_add_str(o, "to", vc_message_to(m));
  srv_add_str(o, "provider_id", vc_message_provider_id(m));
  if (err != 0)
    cJSON_AddNumberToObject(o, "error", err);
  else
    cJSON_AddNullToObject(o, "error");
  srv_add_str(o, "provider_code", vc_message_provider_code(m));
  srv_add_str(o, "error_message", vc_message_error_message(m));
  cJSON_AddNumberToObject(o, "segments", vc_message_segments(m));
  cJSON_AddNumberToObject(o, "attempts", vc_message_attempts(m));
  srv_add_str(o, "category", vc_category_name(vc_message_category(m)));
  srv_add_str(o, "contact_id", vc_message_contact_id(m));
  srv_add_time(o, "created_at", vc_message_created_at(m));
  srv_add_time(o, "updated_at", vc_message_updated_at(m));
  return o;
}

JSON_NEXT_FN(message_json_next, vc_message, vc_message_next,
             message_json, vc_message_free)

void srv_message_owned_free(srv_message_owned *own)
{
  cJSON_free(own->vars);
  cJSON_free(own->meta);
  for (size_t i = 0; i < VC_MESSAGE_MAX_ATTACHMENTS; i++)
    free(own->data[i]);
  memset(own, 0, sizeof(*own));
}

/* One attachment object: "filename", "content_type" and either
 * "data_base64" (decoded into own->data[i]) or "url". */
static int read_attachment(srv_req *req, size_t i, srv_message_owned *own)
{
  vc_attachment *a = &own->attachments[i];
  const char *b64 = NULL;
  size_t len, cap;
  int rc;

  if ((rc = srv_str(req, "filename", 1, &a->filename)) < 0 ||
      (rc = srv_str(req, "content_type", 1, &a->content_type)) < 0 ||
      (rc = srv_str(req, "url", 0, &a->url)) < 0 ||
      (rc = srv_str(req, "data_base64", 0, &b64)) < 0)
    return rc;
  if ((b64 == NULL) == (a->url == NULL))
    return srv_fail(req, VC_EINVALID, "give one of 'data_base64' and 'url'");
  if (b64 == NULL)
    return 0;
  len = strlen(b64);
  cap = len / 4 * 3 + 3;
  if ((own->data[i] = malloc(cap)) == NULL)
    return VC_ENOMEM;
  if (mbedtls_base64_decode(own->data[i], cap, &a->len,
                            (const unsigned char *)b64, len) != 0)
    return srv_fail(req, VC_EINVALID, "field 'data_base64' is not base64");
  a->data = own->data[i];
  return 0;
}

/* "attachments": an array of up to VC_MESSAGE_MAX_ATTACHMENTS objects.
 * The body is at most SRV_MAX_BODY bytes, which bounds the decoded ones. */
static int read_attachments(srv_req *req, cJSON *o, vc_message_spec *spec,
                            srv_message_owned *own)
{
  cJSON *list = cJSON_GetObjectItemCaseSensitive(o, "attachments"), *item;
  size_t n = 0;
  int rc = 0;

  if (list == NULL)
    return 0;
  if (!cJSON_IsArray(list) ||
      cJSON_GetArraySize(list) > VC_MESSAGE_MAX_ATTACHMENTS)
    return srv_fail(req, VC_EINVALID, "field 'attachments' must be an array "
                    "of at most %d objects", VC_MESSAGE_MAX_ATTACHMENTS);
  cJSON_ArrayForEach(item, list) {
    if (!cJSON_IsObject(item))
      return srv_fail(req, VC_EINVALID, "attachments[%zu] is not an object",
                      n);
    req->body = item;
    rc = read_attachment(req, n, own);
    req->body = o;
    if (rc < 0) {
      char inner[sizeof(req->message)];

      snprintf(inner, sizeof(inner), "%s", req->message);
      return srv_fail(req, rc, "attachments[%zu]: %s", n, inner);
    }
    n++;
  }
  spec->attachments = own->attachments;
  spec->nattachments = n;
  return 0;
}

int srv_message_spec(srv_req *req, cJSON *o, int need_to,
                     vc_message_spec *spec, srv_message_owned *own)
{
  cJSON *saved = req->body;
  int rc;

  vc_message_spec_init(spec, VC_MESSAGE_SPEC_VERSION);
  /* The field helpers read req->body: point it at this object. */
  req->body = o;
  if ((rc = srv_enum(req, "kind", 0, SRV_KINDS, 1, &spec->kind)) < 0 ||
      (rc = srv_str(req, "channel", 0, &spec->channel)) < 0 ||
      (rc = srv_str(req, "to", need_to, &spec->to)) < 0 ||
      (rc = srv_str(req, "from", 0, &spec->from)) < 0 ||
      (rc = srv_str(req, "subject", 0, &spec->subject)) < 0 ||
      (rc = srv_str(req, "text", 0, &spec->text)) < 0 ||
      (rc = srv_str(req, "html", 0, &spec->html)) < 0 ||
      (rc = srv_str(req, "template_name", 0, &spec->template_name)) < 0 ||
      (rc = srv_str(req, "locale", 0, &spec->locale)) < 0 ||
      (rc = srv_str(req, "idempotency_key", 0,
                    &spec->idempotency_key)) < 0 ||
      (rc = srv_int(req, "send_at", 0, &spec->send_at)) < 0 ||
      (rc = srv_enum(req, "category", 0, SRV_CATEGORIES, 1,
                     &spec->category)) < 0 ||
      (rc = srv_str(req, "contact_id", 0, &spec->contact_id)) < 0 ||
      (rc = srv_obj_text(req, "vars_json", &own->vars)) < 0 ||
      (rc = srv_obj_text(req, "metadata_json", &own->meta)) < 0 ||
      (rc = read_attachments(req, o, spec, own)) < 0)
    goto done;
  spec->vars_json = own->vars;
  spec->metadata_json = own->meta;
done:
  req->body = saved;
  if (rc < 0)
    srv_message_owned_free(own);
  return rc;
}

static int post_message(srv_req *req, srv_res *res)
{
  srv_message_owned own = { 0 };
  vc_message_spec spec;
  char id[VC_ID_SIZE];
  cJSON *o;
  int rc;

  if ((rc = srv_need_body(req)) < 0 ||
      (rc = srv_message_spec(req, req->body, 1, &spec, &own)) < 0)
    return rc;
  rc = vc_message_send(id, req->tenant, &spec);
  srv_message_owned_free(&own);
  if (rc < 0)
    return rc;
  o = srv_object(res, 202);
  cJSON_AddStringToObject(o, "id", id);
  cJSON_AddStringToObject(o, "status", "queued");
  return 0;
}

SRV_GET_HANDLER(get_message, vc_message, vc_message_lookup,
                message_json, vc_message_free)

static int cancel_message(srv_req *req, srv_res *res)
{
  int rc;

  if ((rc = vc_message_cancel(req->tenant, req->params[0])) < 0)
    return srv_not_found(rc);
  return get_message(req, res);
}

static int post_bulk(srv_req *req, srv_res *res)
{
  cJSON *list, *item, *o, *results;
  vc_message_spec *specs = NULL;
  char (*ids)[VC_ID_SIZE] = NULL;
  srv_message_owned *owned = NULL;
  int *codes = NULL, rc, n, i, accepted = 0;

  if ((rc = srv_need_body(req)) < 0)
    return rc;
  list = cJSON_GetObjectItemCaseSensitive(req->body, "messages");
  if (!cJSON_IsArray(list))
    return srv_fail(req, VC_EINVALID, "field 'messages' must be an array "
                    "of message objects");
  n = cJSON_GetArraySize(list);
  if (n < 1 || n > VC_MESSAGE_SEND_MANY_MAX)
    return srv_fail(req, VC_EINVALID, "field 'messages' holds 1 to %d "
                    "messages", VC_MESSAGE_SEND_MANY_MAX);
  specs = calloc((size_t)n, sizeof(*specs));
  ids = calloc((size_t)n, sizeof(*ids));
  codes = calloc((size_t)n, sizeof(*codes));
  owned = calloc((size_t)n, sizeof(*owned));
  if (!specs || !ids || !codes || !owned) {
    rc = VC_ENOMEM;
    goto done;
  }
  i = 0;
  cJSON_ArrayForEach(item, list) {
    if (!cJSON_IsObject(item)) {
      rc = srv_fail(req, VC_EINVALID, "messages[%d] is not an object", i);
      goto done;
    }
    if ((rc = srv_message_spec(req, item, 1, &specs[i], &owned[i])) < 0) {
      char inner[sizeof(req->message)];

      snprintf(inner, sizeof(inner), "%s", req->message);
      rc = srv_fail(req, rc, "messages[%d]: %s", i, inner);
      goto done;
    }
    i++;
  }
  if ((rc = vc_message_send_many(req->tenant, specs, (size_t)n, ids,
                                 codes)) < 0)
    goto done;
  rc = 0;
  o = srv_object(res, 202);
  results = cJSON_AddArrayToObject(o, "results");
  for (i = 0; i < n; i++) {
    cJSON *r = cJSON_CreateObject();

    if (codes[i] == 0) {
      accepted++;
      cJSON_AddStringToObject(r, "id", ids[i]);
      cJSON_AddNullToObject(r, "error");
    } else {
      cJSON *e = cJSON_AddObjectToObject(r, "error");

      cJSON_AddNullToObject(r, "id");
      cJSON_AddNumberToObject(e, "code", codes[i]);
      cJSON_AddStringToObject(e, "name", srv_code_name(codes[i]));
      cJSON_AddStringToObject(e, "message", vc_strerror(codes[i]));
    }
    cJSON_AddItemToArray(results, r);
  }
  cJSON_AddNumberToObject(o, "accepted", accepted);
  cJSON_AddNumberToObject(o, "rejected", n - accepted);
done:
  for (i = 0; owned != NULL && i < n; i++)
    srv_message_owned_free(&owned[i]);
  free(owned);
  free(specs);
  free(ids);
  free(codes);
  return rc;
}

/* GET /communication/sessions: the messages, newest first. */
static int get_sessions(srv_req *req, srv_res *res)
{
  static const char *const STATUSES[] = {
    "queued", "sending", "sent", "delivered", "read", "failed",
    "undelivered", "bounced", "canceled", NULL
  };
  vc_message_filter f = VC_MESSAGE_FILTER_INIT;
  vc_iter *it;
  size_t limit;
  int rc;

  if ((rc = srv_page_args(req, &limit, &f.after)) < 0 ||
      (rc = srv_query_int(req, "since", 0, INT64_MAX, &f.since)) < 0 ||
      (rc = srv_query_int(req, "until", 0, INT64_MAX, &f.until)) < 0)
    return rc;
  f.channel = srv_query(req, "channel");
  if ((rc = srv_query_enum(req, "status", STATUSES, &f.status)) < 0)
    return rc;
  if ((rc = vc_message_list(&it, req->tenant, &f)) < 0)
    return rc;
  return srv_page(res, it, limit, message_json_next);
}

/* ---- templates ------------------------------------------------------------ */

static cJSON *template_json(vc_template *t)
{
  cJSON *o = cJSON_CreateObject();

  cJSON_AddStringToObject(o, "id", vc_template_id(t));
  cJSON_AddStringToObject(o, "name", vc_template_name(t));
  cJSON_AddStringToObject(o, "kind",
                          vc_channel_kind_name(vc_template_kind(t)));
  cJSON_AddNumberToObject(o, "version", vc_template_version(t));
  srv_add_str(o, "category", vc_category_name(vc_template_category(t)));
  srv_add_time(o, "created_at", vc_template_created_at(t));
  return o;
}

JSON_NEXT_FN(template_json_next, vc_template, vc_template_next,
             template_json, vc_template_free)

static int post_template(srv_req *req, srv_res *res)
{
  vc_template_spec spec = VC_TEMPLATE_SPEC_INIT;
  char *vars = NULL;
  vc_template *t;
  int rc;

  if ((rc = srv_need_body(req)) < 0 ||
      (rc = srv_str(req, "name", 1, &spec.name)) < 0 ||
      (rc = srv_enum(req, "kind", 1, SRV_KINDS, 1, &spec.kind)) < 0 ||
      (rc = srv_str(req, "locale", 0, &spec.locale)) < 0 ||
      (rc = srv_str(req, "subject", 0, &spec.subject)) < 0 ||
      (rc = srv_str(req, "text_body", 0, &spec.text_body)) < 0 ||
      (rc = srv_str(req, "html_body", 0, &spec.html_body)) < 0 ||
      (rc = srv_enum(req, "category", 0, SRV_CATEGORIES, 1,
                     &spec.category)) < 0 ||
      (rc = srv_obj_text(req, "variables_json", &vars)) < 0)
    return rc;
  spec.variables_json = vars;
  rc = vc_template_new(&t, req->tenant, &spec);
  cJSON_free(vars);
  if (rc < 0)
    return rc;
  srv_answer(res, 201, template_json(t));
  vc_template_free(t);
  return 0;
}

SRV_LIST_HANDLER(get_templates, vc_template_filter, VC_TEMPLATE_FILTER_INIT,
                 vc_template_list, template_json_next)

/* ---- webhooks ---------------------------------------------------------------- */

/* The provider's own answer goes back as vc_webhook_handle() wrote it. */
static int post_webhook(srv_req *req, srv_res *res)
{
  (void)vc_webhook_handle(&res->raw, req->ctx, req->http);
  if (res->raw.status == 0)
    res->raw.status = 500;
  return 0;
}

/* ---- statistics --------------------------------------------------------------- */

#define HOUR_MS 3600000LL

int srv_stats(srv_req *req, srv_res *res, unsigned what, int from_body)
{
  static const char *const GRAN[] = { "hour", "day", NULL };
  vc_stats_spec q = VC_STATS_SPEC_INIT;
  int64_t now = vc_ctx_now(req->ctx), from = 0, to = 0;
  const char *g = NULL;
  vc_buf out = VC_BUF_INIT;
  cJSON *doc;
  int rc;

  if (from_body) {
    if ((rc = srv_need_body(req)) < 0 ||
        (rc = srv_int(req, "from", 0, &from)) < 0 ||
        (rc = srv_int(req, "to", 0, &to)) < 0 ||
        (rc = srv_enum(req, "granularity", 0, GRAN, 1, &q.granularity)) < 0
        || (rc = srv_str(req, "channel_id", 0, &q.channel_id)) < 0)
      return rc;
  } else {
    if ((rc = srv_query_int(req, "from", 0, INT64_MAX / 2, &from)) < 0 ||
        (rc = srv_query_int(req, "to", 0, INT64_MAX / 2, &to)) < 0)
      return rc;
    q.channel_id = srv_query(req, "channel_id");
    q.campaign_id = srv_query(req, "campaign_id");
    if ((g = srv_query(req, "granularity")) != NULL) {
      if (strcmp(g, "hour") == 0)
        q.granularity = VC_STATS_HOUR;
      else if (strcmp(g, "day") == 0)
        q.granularity = VC_STATS_DAY;
      else
        return srv_fail(req, VC_EINVALID, "granularity is 'hour' or 'day'");
    }
  }
  if (to == 0)
    to = now;
  if (from == 0)
    from = to - 24 * HOUR_MS;
  if (from < 0 || to > INT64_MAX / 2)
    return srv_fail(req, VC_EINVALID, "the window is out of range");
  /* Whole hours, rounded outwards. */
  q.from = from - from % HOUR_MS;
  q.to = to % HOUR_MS ? to - to % HOUR_MS + HOUR_MS : to;
  q.what = what;
  if ((rc = vc_stats_query(&out, req->tenant, &q)) < 0)
    return rc;
  doc = cJSON_Parse(out.ptr ? out.ptr : "{}");
  vc_buf_dispose(&out);
  if (doc == NULL)
    return VC_ENOMEM;
  srv_answer(res, 200, doc);
  return 0;
}

static int get_stats(srv_req *req, srv_res *res)
{
  return srv_stats(req, res, VC_STATS_MESSAGES | VC_STATS_LATENCY |
                   VC_STATS_CAMPAIGNS | VC_STATS_INBOUND | VC_STATS_COSTS, 0);
}

const srv_route SRV_MSG_ROUTES[] = {
  { "POST", "/api/v1/communication/channels", post_channel, 0 },
  { "GET", "/api/v1/communication/channels", get_channels, 0 },
  { "POST", "/api/v1/communication/messages", post_message, 0 },
  { "GET", "/api/v1/communication/messages/{id}", get_message, 0 },
  { "POST", "/api/v1/communication/messages/{id}/cancel", cancel_message, 0 },
  { "POST", "/api/v1/communication/bulk-send", post_bulk, 0 },
  { "POST", "/api/v1/communication/templates", post_template, 0 },
  { "GET", "/api/v1/communication/templates", get_templates, 0 },
  { "GET", "/api/v1/communication/sessions", get_sessions, 0 },
  { "POST", "/api/v1/communication/webhooks/{type}", post_webhook, 1 },
  { "GET", "/api/v1/communication/stats", get_stats, 0 },
  { NULL, NULL, NULL, 0 }
};
