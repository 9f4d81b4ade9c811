/*
 * `vyomcomm serve`: the REST server. The HTTP layer (serve_http.c)
 * routes, authenticates, bounds and parses requests and writes JSON
 * answers; the handlers (serve_calls.c, serve_msg.c, serve_engage.c)
 * turn a request into library calls. Everything runs on the server's
 * one libre thread, one request at a time; the engine sends on its own
 * threads.
 */
#ifndef VYOMCOMM_SERVE_H
#define VYOMCOMM_SERVE_H

#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#include "vyomcomm.h"

#include "json_list.h"

/* The largest request body, bounded before the body is read. */
#define SRV_MAX_BODY (256 * 1024)
/* Page sizes of ?limit=. */
#define SRV_PAGE_DEFAULT 50
#define SRV_PAGE_MAX 200
#define SRV_MAX_PARAMS 4
#define SRV_MAX_QUERY 32

typedef struct srv_req {
  vc_ctx *ctx;
  vc_tenant *tenant;              /* the API key's; NULL on open routes */
  const vc_http_request *http;    /* as received (webhooks take it all) */
  const char *method;
  const char *params[SRV_MAX_PARAMS];  /* {id} path segments, decoded */
  size_t nparams;
  const char *qkeys[SRV_MAX_QUERY], *qvals[SRV_MAX_QUERY];
  size_t nquery;
  cJSON *body;                    /* the parsed JSON body, or NULL */
  char message[512];              /* an error's message, when set here */
} srv_req;

/* What a handler answers: an HTTP status and a JSON document (owned), or
 * raw bytes of a content type (webhooks, the OpenAPI document, CSV). */
typedef struct srv_res {
  int status;
  cJSON *json;
  vc_http_response raw;           /* used when raw.status != 0 */
} srv_res;

/*
 * A handler returns 0 after filling `res`, or a negative VC_E* code: the
 * HTTP layer answers with a JSON error whose message is req->message
 * when set, else the library's last error.
 */
typedef int (*srv_handler)(srv_req *req, srv_res *res);

typedef struct srv_route {
  const char *method;
  const char *path;       /* under /api/v1; "{name}" matches a segment */
  srv_handler run;
  int open;               /* 1: no API key (the provider signs it) */
} srv_route;

/* ---- the server without its sockets (serve_http.c) ------------------- */

/* The server's state: its context and the rate limit's counters. */
typedef struct srv srv;

/* A server answering requests on `ctx` (borrowed, not started here) with
 * at most `rate` requests a second per tenant (0: any), without
 * listening: cmd_serve() keeps its own; tests and the fuzz target
 * (tests/fuzz/rest_api_fuzzer.c) make one here. 0 or VC_ENOMEM. */
int srv_new(srv **out, vc_ctx *ctx, unsigned rate);
void srv_free(srv *s);

/* One answer as the server writes it: status, Content-Type, body and the
 * Allow header of a 405 ("" when none). */
typedef struct srv_reply {
  int status;
  const char *content_type;
  const char *body;
  size_t len;
  char allow[128];
  srv_res res;            /* what the handler answered */
  char *text;             /* the printed JSON, owned */
} srv_reply;

/* Route, authenticate and answer one parsed request into *out (the body
 * and headers are read, not kept); srv_reply_dispose() frees it. */
void srv_reply_to(srv_reply *out, srv *s, const vc_http_request *http);
void srv_reply_dispose(srv_reply *r);

/* The route tables of each area, ended by a { NULL } entry. */
extern const srv_route SRV_CALL_ROUTES[];
extern const srv_route SRV_MSG_ROUTES[];
extern const srv_route SRV_ENGAGE_ROUTES[];

/* The embedded docs/openapi.json. */
extern const char SRV_OPENAPI_JSON[];
extern const size_t SRV_OPENAPI_JSON_LEN;

/* ---- helpers for handlers (serve_http.c) ---------------------------- */

/* "VC_ENOTFOUND" for VC_ENOTFOUND, ... */
const char *srv_code_name(int code);

/* Set req->message and return `code`. */
int srv_fail(srv_req *req, int code, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));

/* A query parameter, or NULL. */
const char *srv_query(const srv_req *req, const char *key);

/* The body must be a JSON object: VC_EINVALID otherwise. */
int srv_need_body(srv_req *req);

/*
 * Body fields. `required` 1 makes a missing (or null) field VC_EINVALID;
 * a field of the wrong type is VC_EINVALID naming it. A missing optional
 * field leaves *out as it was.
 */
int srv_str(srv_req *req, const char *name, int required, const char **out);
int srv_int(srv_req *req, const char *name, int required, int64_t *out);
int srv_num(srv_req *req, const char *name, int required, double *out);
int srv_bool(srv_req *req, const char *name, int *out);
/* A JSON object field, printed compactly into *out (free with
 * cJSON_free); a missing one leaves *out NULL. */
int srv_obj_text(srv_req *req, const char *name, char **out);
/* A string naming one of `names` (a NULL-ended list whose index + base
 * is the value) into *out. */
int srv_enum(srv_req *req, const char *name, int required,
             const char *const *names, int base, int *out);
/* A query parameter as an integer in [min, max]; absent leaves *out. */
int srv_query_int(srv_req *req, const char *key, int64_t min, int64_t max,
                  int64_t *out);

/* The channel kinds by name: "email", "sms", "chat", "voice". */
extern const char *const SRV_KINDS[];
/* Message categories by name, vc_category order. */
extern const char *const SRV_CATEGORIES[];

/* res = status + a new object; returns the object to fill. */
cJSON *srv_object(srv_res *res, int status);
/* Add a string that may be NULL (as null). */
void srv_add_str(cJSON *o, const char *name, const char *v);
/* Add a time in Unix ms, 0 as null. */
void srv_add_time(cJSON *o, const char *name, int64_t ms);
/* Add JSON text (an object the library wrote) parsed, or null. */
void srv_add_json(cJSON *o, const char *name, const char *text);

/* The page size of ?limit= (SRV_PAGE_DEFAULT when absent) and ?after=.
 * VC_EINVALID for a bad limit. */
int srv_page_args(srv_req *req, size_t *limit, const char **after);

/* Answer a page of a list: "items" gets up to `limit` items of `it`
 * (taken by `next`), "next" the cursor after the last one when more
 * follow, else null. Frees `it`. */
int srv_page(srv_res *res, vc_iter *it, size_t limit, json_next_fn next);

/*
 * Define the handler `name` of a list filtered by nothing but the page:
 * a `ftype` filter from FINIT, its iterator from LIST, items by NEXTJSON
 * (a json_next_fn).
 */
#define SRV_LIST_HANDLER(name, ftype, FINIT, LIST, NEXTJSON)             \
  static int name(srv_req *req, srv_res *res)                            \
  {                                                                      \
    ftype f = FINIT;                                                     \
    vc_iter *it;                                                         \
    size_t limit;                                                        \
    int rc;                                                              \
                                                                         \
    if ((rc = srv_page_args(req, &limit, &f.after)) < 0 ||               \
        (rc = LIST(&it, req->tenant, &f)) < 0)                           \
      return rc;                                                         \
    return srv_page(res, it, limit, NEXTJSON);                           \
  }

/*
 * Define the handler `name` answering the `type` of id {id}: LOOKUP into
 * a handle, 404 when there is none, TOJSON, FREE.
 */
#define SRV_GET_HANDLER(name, type, LOOKUP, TOJSON, FREE)                \
  static int name(srv_req *req, srv_res *res)                            \
  {                                                                      \
    type *h;                                                             \
    int rc;                                                              \
                                                                         \
    if ((rc = LOOKUP(&h, req->tenant, req->params[0])) < 0)              \
      return srv_not_found(rc);                                          \
    srv_answer(res, 200, TOJSON(h));                                     \
    FREE(h);                                                             \
    return 0;                                                            \
  }

/*
 * Define the handler `name` deleting the `type` of id {id}: LOOKUP into a
 * handle (404 when there is none), DELETE, then answer 200 with
 * {"id": ID(handle), "deleted": true}; a refusal (VC_ESTATE: 409) is the
 * error answer.
 */
#define SRV_DELETE_HANDLER(name, type, LOOKUP, DELETE, ID, FREE)        \
  static int name(srv_req *req, srv_res *res)                            \
  {                                                                      \
    type *h;                                                             \
    int rc;                                                              \
                                                                         \
    if ((rc = LOOKUP(&h, req->tenant, req->params[0])) < 0)              \
      return srv_not_found(rc);                                          \
    if ((rc = DELETE(h)) == 0)                                           \
      srv_deleted(res, ID(h));                                           \
    FREE(h);                                                             \
    return rc;                                                           \
  }

/* Answer `status` with the object `json` (owned); returns 0. */
int srv_answer(srv_res *res, int status, cJSON *json);

/* Answer 200 {"id": id, "deleted": true}; returns 0. */
int srv_deleted(srv_res *res, const char *id);

/* An id the library refuses as malformed is simply not there. */
int srv_not_found(int rc);

/* A query parameter naming one of `names` (NULL-ended; index + 1 is the
 * value) into *out; absent leaves *out. VC_EINVALID "unknown KEY '...'"
 * otherwise. */
int srv_query_enum(srv_req *req, const char *key, const char *const *names,
                   int *out);

/* Channels of one kind (0: any) for /communication/channels and
 * /voip-providers (serve_msg.c). */
int srv_channel_create(srv_req *req, srv_res *res, int kind);
int srv_channel_list(srv_req *req, srv_res *res, int kind);
/* A stats window from the body (POST) or the query (GET), rounded out to
 * whole hours; the last 24 hours when absent. */
int srv_stats(srv_req *req, srv_res *res, unsigned what, int from_body);
/* What srv_message_spec() allocates for a spec: the variables' and the
 * metadata's JSON text and the attachments' decoded bytes. Zeroed is
 * empty; srv_message_owned_free() frees it. */
typedef struct srv_message_owned {
  char *vars, *meta;
  vc_attachment attachments[VC_MESSAGE_MAX_ATTACHMENTS];
  uint8_t *data[VC_MESSAGE_MAX_ATTACHMENTS];
} srv_message_owned;

/* A message spec from the JSON object `o` (strings borrowed from it, the
 * rest held by `own`, which the caller zeroes and frees); `to` required
 * when need_to. */
int srv_message_spec(srv_req *req, cJSON *o, int need_to,
                     vc_message_spec *spec, srv_message_owned *own);
void srv_message_owned_free(srv_message_owned *own);
/* 1 when `id` looks like a library id (26 characters of Crockford
 * base32); the {id} of a route that is not one is a 404. */
int srv_id_ok(const char *id);


#endif
