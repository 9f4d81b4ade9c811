/*
 * IVR menus: the stored menus of a tenant (vyomcomm/ivr.h), the steps a
 * call takes through one (hooks.h: vc__ivr_resolve, vc__ivr_step), and a
 * caller's path read back from the call's timeline.
 */
#include "core/common.h"
#include "core/audit.h"
#include "core/buf.h"
#include "core/ctx.h"
#include "core/event.h"
#include "core/iter.h"
#include "core/json.h"
#include "core/tenant.h"
#include "core/text.h"
#include "core/ulid.h"
#include "msg/message.h"
#include "hooks.h"
#include "ivr_def.h"
#include "queue.h"

#include <stdio.h>

/* ---- the handle ------------------------------------------------------- */

struct vc_ivr_menu {
  vc_ctx *ctx;
  char tenant_id[VC_ID_SIZE];
  char id[VC_ID_SIZE];
  char *name, *definition;
  int revision;
  int64_t created_at, updated_at;
};

#define COLUMNS "tenant_id, id, name, definition, revision, created_at," \
                " updated_at"

static const char SQL_INSERT[] =
  "INSERT INTO vc_ivr_menu (tenant_id, id, name, definition, revision,"
  " created_at, updated_at) VALUES (?1, ?2, ?3, ?4, 1, ?5, ?5)";
/* An id match wins over a name match. */
static const char SQL_BY_KEY[] =
  "SELECT " COLUMNS " FROM vc_ivr_menu WHERE tenant_id = ?1"
  " AND (id = ?2 OR name = ?2) AND deleted_at IS NULL"
  " ORDER BY CASE WHEN id = ?2 THEN 0 ELSE 1 END LIMIT 1";
static const char SQL_BY_ID[] =
  "SELECT " COLUMNS " FROM vc_ivr_menu WHERE tenant_id = ?1 AND id = ?2"
  " AND deleted_at IS NULL";
/* Steps read deleted menus too: a call already in one finishes it. */
static const char SQL_DEFINITION[] =
  "SELECT definition FROM vc_ivr_menu WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_UPDATE[] =
  "UPDATE vc_ivr_menu SET name = ?3, definition = ?4,"
  " revision = revision + 1, updated_at = ?5"
  " WHERE tenant_id = ?1 AND id = ?2 AND deleted_at IS NULL";
static const char SQL_DELETE[] =
  "UPDATE vc_ivr_menu SET deleted_at = ?3, updated_at = ?3"
  " WHERE tenant_id = ?1 AND id = ?2 AND deleted_at IS NULL";
static const char SQL_PAGE[] =
  "SELECT " COLUMNS " FROM vc_ivr_menu WHERE tenant_id = ?1"
  " AND id > ?2 AND deleted_at IS NULL ORDER BY id LIMIT 50";
static const char SQL_TEMPLATE[] =
  "SELECT 1 FROM vc_template WHERE tenant_id = ?1 AND (id = ?2 OR name = ?2)";
static const char SQL_CHANNEL[] =
  "SELECT kind FROM vc_channel WHERE tenant_id = ?1"
  " AND (id = ?2 OR name = ?2) AND enabled = 1";
static const char SQL_CALL[] =
  "SELECT customer_number FROM vc_call WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_DTMF[] =
  "SELECT seq, detail, occurred_at FROM vc_call_event WHERE tenant_id = ?1"
  " AND call_id = ?2 AND type = 'dtmf' ORDER BY seq";

void vc_ivr_menu_free(vc_ivr_menu *m)
{
  if (m == NULL)
    return;
  vc__free(m->name);
  vc__free(m->definition);
  vc__free(m);
}

static int menu_from_stmt(vc_ivr_menu **out, vc_ctx *ctx, vc__stmt *s)
{
  vc_ivr_menu *m = vc__calloc(1, sizeof(*m));

  if (m == NULL)
    return vc_error_set_oom();
  m->ctx = ctx;
  snprintf(m->tenant_id, sizeof(m->tenant_id), "%s", vc__stmt_text(s, 0));
  snprintf(m->id, sizeof(m->id), "%s", vc__stmt_text(s, 1));
  m->name = vc__strdup(vc__stmt_text(s, 2));
  m->definition = vc__strdup(vc__stmt_text(s, 3));
  m->revision = (int)vc__stmt_int64(s, 4);
  m->created_at = vc__stmt_int64(s, 5);
  m->updated_at = vc__stmt_int64(s, 6);
  if (m->name == NULL || m->definition == NULL) {
    vc_ivr_menu_free(m);
    return vc_error_set_oom();
  }
  *out = m;
  return 0;
}

static int load(vc_ivr_menu **out, vc_ctx *ctx, vc__db *db, const char *sql,
                const char *tenant_id, const char *key)
{
  vc__stmt *s;
  int rc;

  if ((rc = vc__db_query(&s, db, sql, "tt", tenant_id, key)) < 0)
    return rc;
  rc = vc__stmt_step(s);
  if (rc == VC_STORAGE_ROW)
    rc = menu_from_stmt(out, ctx, s);
  else if (rc == VC_STORAGE_DONE)
    rc = vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                       "no IVR menu '%.64s'", key);
  vc__stmt_done(s);
  return rc;
}

const char *vc_ivr_menu_id(const vc_ivr_menu *m) { return m ? m->id : NULL; }
const char *vc_ivr_menu_name(const vc_ivr_menu *m)
{
  return m ? m->name : NULL;
}
const char *vc_ivr_menu_definition_json(const vc_ivr_menu *m)
{
  return m ? m->definition : NULL;
}
int vc_ivr_menu_revision(const vc_ivr_menu *m) { return m ? m->revision : 0; }
int64_t vc_ivr_menu_created_at(const vc_ivr_menu *m)
{
  return m ? m->created_at : 0;
}
int64_t vc_ivr_menu_updated_at(const vc_ivr_menu *m)
{
  return m ? m->updated_at : 0;
}

/* ---- validation against the store ------------------------------------ */

static int check_name(const char *name)
{
  return vc__check_token("menu name", name, VC_IVR_NAME_MAX, "a-z0-9",
                         "a-z0-9_.-");
}

/* Where an action is, for messages. */
static void action_place(char *buf, size_t size, const vc__ivr_def *def,
                         const vc__ivr_act *a)
{
  snprintf(buf, size, "fallback");
  for (size_t i = 0; i < def->nnodes; i++)
    for (int k = 0; k < VC__IVR_NKEYS; k++)
      for (const vc__ivr_act *o = def->nodes[i].options[k]; o != NULL;
           o = o->then)
        if (o == a) {
          snprintf(buf, size, "node '%s' key '%c'", def->nodes[i].name,
                   VC__IVR_KEYS[k]);
          return;
        }
}

/* An agent, channel or template an action names exists. */
static int check_refs_of(vc__db *db, const char *tenant_id,
                         const vc__ivr_def *def, const vc__ivr_act *a)
{
  char place[96], agent_id[VC_ID_SIZE], number[VC_CALL_ADDRESS_MAX + 1];
  vc__stmt *s;
  int rc;

  action_place(place, sizeof(place), def, a);
  if (a->kind == VC__IVR_DO_TRANSFER && a->agent != NULL &&
      vc__agent_resolve(db, tenant_id, a->agent, agent_id, number) < 0)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                         "%s: no agent '%.64s'", place, a->agent);
  if (a->kind == VC__IVR_DO_QUEUE &&
      vc__queue_resolve(db, tenant_id, a->queue, agent_id) < 0)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                         "%s: no queue '%.64s'", place, a->queue);
  if (a->kind != VC__IVR_DO_MESSAGE)
    return 0;
  if ((rc = vc__db_query(&s, db, SQL_TEMPLATE, "tt", tenant_id,
                         a->template_name)) < 0)
    return rc;
  rc = vc__stmt_step(s);
  vc__stmt_done(s);
  if (rc == VC_STORAGE_DONE)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                         "%s: no template '%.128s'", place,
                         a->template_name);
  if (rc < 0)
    return rc;
  if (a->channel == NULL)
    return 0;
  if ((rc = vc__db_query(&s, db, SQL_CHANNEL, "tt", tenant_id,
                         a->channel)) < 0)
    return rc;
  rc = vc__stmt_step(s);
  if (rc == VC_STORAGE_ROW)
    rc = (int)vc__stmt_int64(s, 0) == a->channel_kind
           ? 0
           : vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "%s: channel '%.64s' is not of kind %s", place,
                           a->channel, vc_channel_kind_name(a->channel_kind));
  else if (rc == VC_STORAGE_DONE)
    rc = vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                       "%s: no enabled channel '%.64s'", place, a->channel);
  vc__stmt_done(s);
  return rc;
}

static int check_refs(vc__db *db, const char *tenant_id,
                      const vc__ivr_def *def)
{
  int rc;

  for (size_t i = 0; i < def->nnodes; i++)
    for (int k = 0; k < VC__IVR_NKEYS; k++)
      for (const vc__ivr_act *a = def->nodes[i].options[k]; a != NULL;
           a = a->then)
        if ((rc = check_refs_of(db, tenant_id, def, a)) < 0)
          return rc;
  for (const vc__ivr_act *a = &def->fallback; a != NULL; a = a->then)
    if ((rc = check_refs_of(db, tenant_id, def, a)) < 0)
      return rc;
  return 0;
}

/* Parse, check references on `db` and normalize a definition. */
static int prepare_definition(char **out, vc__db *db, const char *tenant_id,
                              const char *json)
{
  vc__ivr_def *def;
  int rc;

  *out = NULL;
  if ((rc = vc__ivr_def_parse(&def, json)) < 0)
    return rc;
  if ((rc = check_refs(db, tenant_id, def)) == 0)
    rc = vc__ivr_def_print(out, def);
  vc__ivr_def_free(def);
  return rc;
}

static void event_payload(char *buf, size_t size, const char *name)
{
  snprintf(buf, size, "{\"name\":\"%s\"}", name);
}

/* ---- create, update, delete, lookup, list ---------------------------- */

int vc_ivr_menu_new(vc_ivr_menu **out, vc_tenant *t,
                    const vc_ivr_menu_spec *spec)
{
  char id[VC_ID_SIZE], payload[128];
  char *definition = NULL;
  const char *tenant_id;
  vc_ctx *ctx;
  vc__db *db;
  int rc;

  if (out != NULL)
    *out = NULL;
  VC_ASSERT_ARG(t);
  VC_ASSERT_ARG(spec);
  VC_CHECK_VERSION(spec, VC_IVR_MENU_SPEC_VERSION, "vc_ivr_menu_spec");
  if ((rc = check_name(spec->name)) < 0)
    return rc;
  ctx = vc__tenant_ctx(t);
  tenant_id = vc_tenant_id(t);
  if ((rc = vc__new_id(ctx, id)) < 0 ||
      (rc = vc__db_acquire(&db, ctx->store)) < 0)
    return rc;
  if ((rc = vc__db_begin(db)) < 0)
    goto release;
  event_payload(payload, sizeof(payload), spec->name);
  if ((rc = prepare_definition(&definition, db, tenant_id,
                               spec->definition_json)) < 0 ||
      (rc = vc__db_run(db, SQL_INSERT, "tttti", tenant_id, id, spec->name,
                       definition, vc__now(ctx))) < 0 ||
      (rc = vc__event_append(db, ctx, tenant_id, "ivr_menu.created", id,
                             payload)) < 0 ||
      (rc = vc__audit(db, ctx, tenant_id, "ivr_menu.create", id,
                      payload)) < 0) {
    if (rc == VC_EEXISTS)
      rc = vc__error_set(VC_ERRCLASS_INVALID, VC_EEXISTS,
                         "an IVR menu named '%s' exists", spec->name);
    goto fail;
  }
  if (out != NULL && (rc = load(out, ctx, db, SQL_BY_ID, tenant_id, id)) < 0)
    goto fail;
  if ((rc = vc__db_commit(db)) < 0) {
    if (out != NULL) {
      vc_ivr_menu_free(*out);
      *out = NULL;
    }
    goto fail;
  }
  goto release;
fail:
  vc__db_rollback(db);
release:
  vc__free(definition);
  vc__db_release(db);
  return rc;
}

int vc_ivr_menu_update(vc_ivr_menu *m, const vc_ivr_menu_spec *spec)
{
  vc_ivr_menu *fresh = NULL, *cur = NULL;
  char *definition = NULL, payload[128], fields[64];
  vc__db *db;
  int rc;

  VC_ASSERT_ARG(m);
  VC_ASSERT_ARG(spec);
  VC_CHECK_VERSION(spec, VC_IVR_MENU_SPEC_VERSION, "vc_ivr_menu_spec");
  if (spec->name != NULL && (rc = check_name(spec->name)) < 0)
    return rc;
  if ((rc = vc__db_acquire(&db, m->ctx->store)) < 0)
    return rc;
  if ((rc = vc__db_begin(db)) < 0)
    goto release;
  if ((rc = load(&cur, m->ctx, db, SQL_BY_ID, m->tenant_id, m->id)) < 0 ||
      (spec->definition_json != NULL &&
       (rc = prepare_definition(&definition, db, m->tenant_id,
                                spec->definition_json)) < 0))
    goto fail;
  event_payload(payload, sizeof(payload),
                spec->name ? spec->name : cur->name);
  {
    static const char *const names[] = { "name", "definition" };
    const int set[] = { spec->name != NULL, spec->definition_json != NULL };
    vc__audit_fields(fields, sizeof(fields), names, set, 2);
  }
  if ((rc = vc__db_run(db, SQL_UPDATE, "tttti", m->tenant_id, m->id,
                       spec->name ? spec->name : cur->name,
                       definition ? definition : cur->definition,
                       vc__now(m->ctx))) < 0 ||
      (rc = vc__event_append(db, m->ctx, m->tenant_id, "ivr_menu.updated",
                             m->id, payload)) < 0 ||
      (rc = vc__audit(db, m->ctx, m->tenant_id, "ivr_menu.update", m->id,
                      fields)) < 0 ||
      (rc = load(&fresh, m->ctx, db, SQL_BY_ID, m->tenant_id, m->id)) < 0 ||
      (rc = vc__db_commit(db)) < 0) {
    if (rc == VC_EEXISTS)
      rc = vc__error_set(VC_ERRCLASS_INVALID, VC_EEXISTS,
                         "an IVR menu named '%s' exists", spec->name);
    goto fail;
  }
  /* Take the fresh snapshot's strings. */
  vc__free(m->name);
  vc__free(m->definition);
  m->name = fresh->name;
  m->definition = fresh->definition;
  m->revision = fresh->revision;
  m->updated_at = fresh->updated_at;
  fresh->name = fresh->definition = NULL;
  goto release;
fail:
  vc__db_rollback(db);
release:
  vc_ivr_menu_free(fresh);
  vc_ivr_menu_free(cur);
  vc__free(definition);
  vc__db_release(db);
  return rc;
}

int vc_ivr_menu_delete(vc_ivr_menu *m)
{
  char payload[128];
  vc__db *db;
  int rc;

  VC_ASSERT_ARG(m);
  if ((rc = vc__db_acquire(&db, m->ctx->store)) < 0)
    return rc;
  if ((rc = vc__db_begin(db)) < 0)
    goto release;
  event_payload(payload, sizeof(payload), m->name);
  if ((rc = vc__db_run(db, SQL_DELETE, "tti", m->tenant_id, m->id,
                       vc__now(m->ctx))) < 0)
    goto fail;
  if (vc__db_changes(db) == 0) {
    rc = vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                       "IVR menu '%s' was deleted", m->name);
    goto fail;
  }
  if ((rc = vc__event_append(db, m->ctx, m->tenant_id, "ivr_menu.deleted",
                             m->id, payload)) < 0 ||
      (rc = vc__audit(db, m->ctx, m->tenant_id, "ivr_menu.delete", m->id,
                      payload)) < 0 ||
      (rc = vc__db_commit(db)) < 0)
    goto fail;
  goto release;
fail:
  vc__db_rollback(db);
release:
  vc__db_release(db);
  return rc;
}

int vc_ivr_menu_lookup(vc_ivr_menu **out, vc_tenant *t, const char *key)
{
  vc_ctx *ctx;
  vc__db *db;
  int rc;

  VC_ASSERT_ARG(out);
  *out = NULL;
  VC_ASSERT_ARG(t);
  if ((rc = vc__check_text("menu id or name", key, VC_IVR_NAME_MAX, 1)) < 0)
    return rc;
  ctx = vc__tenant_ctx(t);
  if ((rc = vc__db_acquire(&db, ctx->store)) < 0)
    return rc;
  rc = load(out, ctx, db, SQL_BY_KEY, vc_tenant_id(t), key);
  vc__db_release(db);
  return rc;
}

typedef struct menu_iter {
  vc__page_iter page;
  vc_ctx *ctx;
  char tenant_id[VC_ID_SIZE];
} menu_iter;

static int page_query(vc__stmt **out, vc__db *db, const vc__page_iter *p)
{
  const menu_iter *it = (const menu_iter *)p;

  return vc__db_query(out, db, SQL_PAGE, "tt", it->tenant_id,
                      p->base.cursor);
}

/* Rows carry no context; vc_ivr_menu_next() gives them the list's. */
static int page_row(void **out, vc__stmt *s)
{
  return menu_from_stmt((vc_ivr_menu **)out, NULL, s);
}

static void page_row_free(void *row) { vc_ivr_menu_free(row); }

static const char *page_row_key(const void *row)
{
  return ((const vc_ivr_menu *)row)->id;
}

static const vc__page_ops MENU_PAGES = {
  { "ivr_menu", vc__page_iter_free }, page_query, page_row, page_row_free,
  page_row_key
};

int vc_ivr_menu_list(vc_iter **out, vc_tenant *t,
                     const vc_ivr_menu_filter *f)
{
  menu_iter *it;

  VC_ASSERT_ARG(out);
  *out = NULL;
  VC_ASSERT_ARG(t);
  VC_CHECK_VERSION(f, VC_IVR_MENU_FILTER_VERSION, "vc_ivr_menu_filter");
  if (f != NULL && f->after != NULL && f->after[0] != '\0' &&
      !vc__ulid_valid(f->after))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "cursor is not an IVR menu list cursor");
  if ((it = vc__calloc(1, sizeof(*it))) == NULL)
    return vc_error_set_oom();
  it->ctx = vc__tenant_ctx(t);
  vc__page_iter_init(&it->page, &MENU_PAGES, it->ctx->store,
                     f != NULL ? f->after : NULL);
  snprintf(it->tenant_id, sizeof(it->tenant_id), "%s", vc_tenant_id(t));
  *out = &it->page.base;
  return 0;
}

int vc_ivr_menu_next(vc_ivr_menu **out, vc_iter *base)
{
  void *row;
  int rc;

  VC_ASSERT_ARG(out);
  *out = NULL;
  if ((rc = vc__page_iter_next(&row, base, &MENU_PAGES)) < 0)
    return rc;
  *out = row;
  (*out)->ctx = ((menu_iter *)base)->ctx;
  return 0;
}

int vc_ivr_menu_spec_init(vc_ivr_menu_spec *s, unsigned int version)
{
  VC_INIT_STRUCT(s, version, VC_IVR_MENU_SPEC_VERSION, vc_ivr_menu_spec,
                 VC_IVR_MENU_SPEC_INIT);
}

int vc_ivr_menu_filter_init(vc_ivr_menu_filter *f, unsigned int version)
{
  VC_INIT_STRUCT(f, version, VC_IVR_MENU_FILTER_VERSION, vc_ivr_menu_filter,
                 VC_IVR_MENU_FILTER_INIT);
}

/* ---- hooks: resolve and step ------------------------------------------ */

int vc__ivr_resolve(vc__db *db, const char *tenant_id,
                    const char *id_or_name, char menu_id[VC_ID_SIZE])
{
  vc_ivr_menu *m = NULL;
  int rc;

  menu_id[0] = '\0';
  if ((rc = vc__check_text("IVR menu", id_or_name, VC_IVR_NAME_MAX, 1)) < 0)
    return rc;
  if ((rc = load(&m, NULL, db, SQL_BY_KEY, tenant_id, id_or_name)) < 0)
    return rc;
  memcpy(menu_id, m->id, VC_ID_SIZE);
  vc_ivr_menu_free(m);
  return 0;
}

/* Builds the result's steps, with their strings in out->strings. */
typedef struct builder {
  vc__ivr_result *out;
  size_t used;
} builder;

static const char *keep(builder *b, const char *s)
{
  size_t n;
  char *p;

  if (s == NULL)
    return NULL;
  n = strlen(s) + 1;
  if (b->used + n > sizeof(b->out->strings))
    return NULL;
  p = b->out->strings + b->used;
  memcpy(p, s, n);
  b->used += n;
  return p;
}

static vc_call_step *add_step(builder *b, int kind)
{
  vc_call_step *st;

  if (b->out->nsteps >= VC__IVR_MAX_STEPS)
    return NULL;
  st = &b->out->steps[b->out->nsteps++];
  memset(st, 0, sizeof(*st));
  st->kind = kind;
  return st;
}

static int too_long(void)
{
  return vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                       "the IVR script does not fit (webhook URL too long?)");
}

/* A SAY step of `text` (nothing when NULL). */
static int say(builder *b, const char *text, const char *language)
{
  vc_call_step *st;

  if (text == NULL)
    return 0;
  if ((st = add_step(b, VC_STEP_SAY)) == NULL ||
      (st->text = keep(b, text)) == NULL ||
      (language != NULL && (st->language = keep(b, language)) == NULL))
    return too_long();
  return 0;
}

static int ivr_url(builder *b, const char **out, const char *webhook_url,
                   const char *node, int attempt)
{
  char *url;
  int n;

  *out = NULL;
  if (webhook_url == NULL)
    return 0;
  url = vc__malloc(strlen(webhook_url) + VC_IVR_NODE_NAME_MAX + 64);
  if (url == NULL)
    return vc_error_set_oom();
  n = sprintf(url, "%s&vc_step=ivr&vc_node=%s&vc_try=%d", webhook_url, node,
              attempt);
  *out = n > 0 ? keep(b, url) : NULL;
  vc__free(url);
  return *out != NULL ? 0 : too_long();
}

/* The script of a node: its prompt in a one-key GATHER, then (no key) a
 * REDIRECT that reports the timeout as the next attempt. */
static int node_script(builder *b, const vc__ivr_def *def, int node,
                       int attempt, const char *webhook_url)
{
  const vc__ivr_node *n = &def->nodes[node];
  vc_call_step *st;
  const char *action, *timeout;
  int rc;

  if ((rc = ivr_url(b, &action, webhook_url, n->name, attempt)) < 0 ||
      (rc = ivr_url(b, &timeout, webhook_url, n->name, attempt + 1)) < 0)
    return rc;
  if ((st = add_step(b, VC_STEP_GATHER)) == NULL)
    return too_long();
  st->num_digits = 1;
  st->timeout_s = n->timeout_s;
  st->action_url = action;
  if ((n->prompt.say != NULL && (st->text = keep(b, n->prompt.say)) == NULL) ||
      (n->prompt.language != NULL &&
       (st->language = keep(b, n->prompt.language)) == NULL) ||
      (n->prompt.play != NULL && (st->url = keep(b, n->prompt.play)) == NULL))
    return too_long();
  if (timeout != NULL) {
    if ((st = add_step(b, VC_STEP_REDIRECT)) == NULL)
      return too_long();
    st->url = timeout;
  }
  b->out->action = VC__IVR_SCRIPT;
  snprintf(b->out->node, sizeof(b->out->node), "%s", n->name);
  return 0;
}

/* The step being run, and what it logs. */
typedef struct step {
  vc__db *db;
  vc_ctx *ctx;
  const char *tenant_id, *call_id, *menu_id, *webhook_url;
  const vc__ivr_def *def;
  int node, attempt;
  char key;
  int in_fallback;
  cJSON *detail;          /* the dtmf entry, or NULL (no key) */
  builder b;
} step;

static void note(step *st, const char *name, const char *value)
{
  if (st->detail != NULL && value != NULL)
    cJSON_AddStringToObject(st->detail, name, value);
}

static void note_int(step *st, const char *name, int value)
{
  if (st->detail != NULL)
    cJSON_AddNumberToObject(st->detail, name, value);
}

/* Queue the message template to the call's customer, in the call's
 * transaction. A refusal (no variant, a missing variable) is noted and
 * the call goes on: the caller is on the line. */
static int send_message(step *st, const vc__ivr_act *a)
{
  char msg_id[VC_ID_SIZE], key[160];
  vc_message_spec spec = VC_MESSAGE_SPEC_INIT;
  vc_tenant *t = NULL;
  vc__stmt *s;
  char *to = NULL;
  int rc;

  note(st, "template", a->template_name);
  note(st, "kind", vc_channel_kind_name(a->channel_kind));
  if ((rc = vc__db_query(&s, st->db, SQL_CALL, "tt", st->tenant_id,
                         st->call_id)) < 0)
    return rc;
  if ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW)
    to = vc__strdup(vc__stmt_text(s, 0));
  vc__stmt_done(s);
  if (rc == VC_STORAGE_DONE)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                         "no call '%.32s'", st->call_id);
  if (rc < 0 || to == NULL)
    return rc < 0 ? rc : vc_error_set_oom();
  /* One message per call, node and key: a provider's retry of the same
   * webhook, or the caller coming back to the key, sends it once. */
  snprintf(key, sizeof(key), "ivr:%s:%s:%c", st->call_id,
           st->def->nodes[st->node].name, st->key);
  spec.kind = a->channel_kind;
  spec.channel = a->channel;
  spec.to = to;
  spec.template_name = a->template_name;
  spec.vars_json = a->vars_json;
  spec.idempotency_key = key;
  if ((rc = vc__tenant_load(&t, st->ctx, st->db, st->tenant_id)) == 0)
    rc = vc__message_queue(msg_id, st->db, t, &spec);
  vc_tenant_free(t);
  vc__free(to);
  if (rc == 0) {
    note(st, "message_id", msg_id);
    vc_ctx_wakeup(st->ctx);
    return 0;
  }
  if (rc == VC_ENOMEM || rc == VC_ESTORAGE)
    return rc;
  note(st, "error", vc_error_last()->message);
  VC_LOG(st->ctx, VC_LOG_WARN, "call %s: IVR message not sent: %s",
         st->call_id, vc_error_last()->message);
  return 0;
}

static int fallback(step *st);

/* Run an action chosen by a key (or the fallback). */
static int run_action(step *st, const vc__ivr_act *a)
{
  char agent_id[VC_ID_SIZE];
  vc__ivr_result *out = st->b.out;
  int rc;

  switch (a->kind) {
  case VC__IVR_DO_MENU:
    note(st, "to", a->node);
    return node_script(&st->b, st->def, a->node_index, 0, st->webhook_url);
  case VC__IVR_DO_REPEAT:
    return node_script(&st->b, st->def, st->node, 0, st->webhook_url);
  case VC__IVR_DO_HANGUP:
    if ((rc = say(&st->b, a->say, st->def->language)) < 0)
      return rc;
    if (add_step(&st->b, VC_STEP_HANGUP) == NULL)
      return too_long();
    out->action = VC__IVR_HANGUP;
    return 0;
  case VC__IVR_DO_CONNECT:
    out->action = VC__IVR_CONNECT;
    return say(&st->b, a->say, st->def->language);
  case VC__IVR_DO_TRANSFER:
    if (a->agent != NULL) {
      if (vc__agent_resolve(st->db, st->tenant_id, a->agent, agent_id,
                            out->target) < 0) {
        note(st, "agent", a->agent);
        note(st, "error", vc_error_last()->message);
        if (!st->in_fallback)
          return fallback(st);
        /* No fallback of the fallback: hang up. */
        if (add_step(&st->b, VC_STEP_HANGUP) == NULL)
          return too_long();
        out->action = VC__IVR_HANGUP;
        return 0;
      }
      note(st, "agent", agent_id);
    } else {
      snprintf(out->target, sizeof(out->target), "%s", a->to);
    }
    note(st, "target", out->target);
    out->action = VC__IVR_TRANSFER;
    return say(&st->b, a->say, st->def->language);
  case VC__IVR_DO_QUEUE:
    if (vc__queue_resolve(st->db, st->tenant_id, a->queue, agent_id) < 0) {
      /* Deleted since the menu was stored: as a transfer to no one. */
      note(st, "queue", a->queue);
      note(st, "error", vc_error_last()->message);
      if (!st->in_fallback)
        return fallback(st);
      if (add_step(&st->b, VC_STEP_HANGUP) == NULL)
        return too_long();
      out->action = VC__IVR_HANGUP;
      return 0;
    }
    note(st, "queue", agent_id);
    snprintf(out->target, sizeof(out->target), "%s", agent_id);
    snprintf(out->skills, sizeof(out->skills), "%s",
             a->skills ? a->skills : "");
    out->action = VC__IVR_QUEUE;
    return say(&st->b, a->say, st->def->language);
  case VC__IVR_DO_VOICEMAIL:
    out->action = VC__IVR_VOICEMAIL;
    return say(&st->b, a->say, st->def->language);
  case VC__IVR_DO_MESSAGE:
    if ((rc = send_message(st, a)) < 0 ||
        (rc = say(&st->b, a->say, st->def->language)) < 0)
      return rc;
    note(st, "then", vc__ivr_kind_name(a->then->kind));
    return run_action(st, a->then);
  default:
    return vc__error_set(VC_ERRCLASS_INTERNAL, VC_ERROR,
                         "unknown IVR action %d", a->kind);
  }
}

/* The retries are used up: the menu's fallback. */
static int fallback(step *st)
{
  note_int(st, "fallback", 1);
  st->in_fallback = 1;
  return run_action(st, &st->def->fallback);
}

/* A node again after a timeout or a wrong key, or the fallback. */
static int retry(step *st, int next_attempt, int wrong_key)
{
  const vc__ivr_prompt *inv = &st->def->invalid;
  int rc;

  if (next_attempt > st->def->nodes[st->node].retries)
    return fallback(st);
  if (wrong_key && inv->say != NULL &&
      (rc = say(&st->b, inv->say, inv->language)) < 0)
    return rc;
  if (wrong_key && inv->play != NULL) {
    vc_call_step *p = add_step(&st->b, VC_STEP_PLAY);
    if (p == NULL || (p->url = keep(&st->b, inv->play)) == NULL)
      return too_long();
  }
  return node_script(&st->b, st->def, st->node, next_attempt,
                     st->webhook_url);
}

/* Load and parse the menu a call is in. */
static int load_def(vc__ivr_def **out, vc__db *db, const char *tenant_id,
                    const char *menu_id)
{
  vc__stmt *s;
  int rc;

  *out = NULL;
  if ((rc = vc__db_query(&s, db, SQL_DEFINITION, "tt", tenant_id,
                         menu_id)) < 0)
    return rc;
  rc = vc__stmt_step(s);
  if (rc == VC_STORAGE_ROW)
    rc = vc__ivr_def_parse(out, vc__stmt_text(s, 0));
  else if (rc == VC_STORAGE_DONE)
    rc = vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                       "no IVR menu '%.32s'", menu_id);
  vc__stmt_done(s);
  return rc;
}

/* Keys as a provider reported them: at most 32, of 0-9 * #. */
static int digits_ok(const char *d)
{
  size_t n = strlen(d);

  if (n == 0 || n > 32)
    return 0;
  for (size_t i = 0; i < n; i++)
    if (vc__ivr_key_index(d[i]) < 0)
      return 0;
  return 1;
}

int vc__ivr_step(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                 const char *call_id, const char *menu_id, const char *node,
                 const char *digits, int attempt, const char *webhook_url,
                 vc__ivr_result *out)
{
  vc__ivr_def *def = NULL;
  const vc__ivr_act *a;
  char *detail = NULL;
  step st;
  int rc, k;

  memset(out, 0, sizeof(*out));
  memset(&st, 0, sizeof(st));
  if ((rc = load_def(&def, db, tenant_id, menu_id)) < 0)
    return rc;
  st.db = db;
  st.ctx = ctx;
  st.tenant_id = tenant_id;
  st.call_id = call_id;
  st.menu_id = menu_id;
  st.webhook_url = webhook_url;
  st.def = def;
  st.b.out = out;
  st.attempt = attempt < 0 ? 0 : attempt;
  st.node = node != NULL && node[0] != '\0' ? vc__ivr_def_node(def, node)
                                            : def->entry;
  if (st.node < 0) {
    /* The node went away with an update: start over at the entry. */
    st.node = def->entry;
    st.attempt = 0;
    digits = NULL;
  }
  snprintf(out->node, sizeof(out->node), "%s", def->nodes[st.node].name);
  if (digits == NULL || digits[0] == '\0') {
    rc = st.attempt == 0
           ? node_script(&st.b, def, st.node, 0, webhook_url)
           : retry(&st, st.attempt, 0);  /* no key at attempt - 1 */
    goto out;
  }
  if ((st.detail = cJSON_CreateObject()) == NULL) {
    rc = vc_error_set_oom();
    goto out;
  }
  {
    char shown_digits[33];
    size_t n = strnlen(digits, 32);
    for (size_t i = 0; i < n; i++)
      shown_digits[i] = vc__ivr_key_index(digits[i]) >= 0 ? digits[i] : '?';
    shown_digits[n] = '\0';
    note(&st, "digits", shown_digits);
  }
  note(&st, "menu", menu_id);
  note(&st, "node", def->nodes[st.node].name);
  note_int(&st, "attempt", st.attempt);
  /* One key per gather: the first counts. */
  k = digits_ok(digits) ? vc__ivr_key_index(digits[0]) : -1;
  st.key = digits[0];
  a = k >= 0 ? def->nodes[st.node].options[k] : NULL;
  if (a == NULL) {
    note(&st, "action", "invalid");
    rc = retry(&st, st.attempt + 1, 1);
  } else {
    note(&st, "action", vc__ivr_kind_name(a->kind));
    rc = run_action(&st, a);
  }
  if (rc < 0)
    goto out;
  if ((detail = cJSON_PrintUnformatted(st.detail)) == NULL) {
    rc = vc_error_set_oom();
    goto out;
  }
  rc = vc__call_entry_add(db, ctx, tenant_id, call_id, "dtmf",
                          VC_LEG_CUSTOMER, detail, vc__now(ctx));
out:
  if (rc < 0)
    memset(out, 0, sizeof(*out));
  cJSON_free(detail);
  cJSON_Delete(st.detail);
  vc__ivr_def_free(def);
  return rc;
}

/* ---- a caller's path ------------------------------------------------- */

static const char *const PATH_FIELDS[] = {
  "menu", "node", "digits", "action", "to", "target", "agent", "template",
  "message_id", "then", "error", NULL
};

int vc_ivr_path(vc_buf *out, vc_tenant *t, const char *call_id)
{
  cJSON *doc = NULL, *steps;
  const char *tenant_id;
  char *text = NULL;
  vc_ctx *ctx;
  vc__stmt *s = NULL;
  vc__db *db;
  int rc;

  VC_ASSERT_ARG(out);
  VC_ASSERT_ARG(t);
  if (!vc__ulid_valid(call_id))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "call id is not a valid id");
  ctx = vc__tenant_ctx(t);
  tenant_id = vc_tenant_id(t);
  if ((rc = vc__db_acquire(&db, ctx->store)) < 0)
    return rc;
  if ((rc = vc__db_query(&s, db, SQL_CALL, "tt", tenant_id, call_id)) < 0)
    goto out;
  rc = vc__stmt_step(s);
  vc__stmt_done(s);
  if (rc == VC_STORAGE_DONE) {
    rc = vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                       "no call '%s'", call_id);
    goto out;
  }
  if (rc < 0)
    goto out;
  if ((doc = cJSON_CreateObject()) == NULL ||
      cJSON_AddStringToObject(doc, "call_id", call_id) == NULL ||
      (steps = cJSON_AddArrayToObject(doc, "steps")) == NULL) {
    rc = vc_error_set_oom();
    goto out;
  }
  if ((rc = vc__db_query(&s, db, SQL_DTMF, "tt", tenant_id, call_id)) < 0)
    goto out;
  while ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW) {
    const char *d = vc__stmt_text(s, 1);
    cJSON *entry = vc__cjson_parse(d, strlen(d) + 1, NULL, 1), *item;
    cJSON *v;
    if ((item = cJSON_CreateObject()) == NULL) {
      cJSON_Delete(entry);
      rc = vc_error_set_oom();
      break;
    }
    cJSON_AddItemToArray(steps, item);
    cJSON_AddNumberToObject(item, "seq", (double)vc__stmt_int64(s, 0));
    cJSON_AddNumberToObject(item, "at", (double)vc__stmt_int64(s, 2));
    for (size_t i = 0; PATH_FIELDS[i] != NULL; i++)
      if ((v = cJSON_GetObjectItemCaseSensitive(entry, PATH_FIELDS[i])) !=
            NULL && cJSON_IsString(v))
        cJSON_AddStringToObject(item, PATH_FIELDS[i], v->valuestring);
    if ((v = cJSON_GetObjectItemCaseSensitive(entry, "attempt")) != NULL &&
        cJSON_IsNumber(v))
      cJSON_AddNumberToObject(item, "attempt", v->valuedouble);
    if ((v = cJSON_GetObjectItemCaseSensitive(entry, "fallback")) != NULL &&
        cJSON_IsNumber(v))
      cJSON_AddNumberToObject(item, "fallback", v->valuedouble);
    cJSON_Delete(entry);
  }
  vc__stmt_done(s);
  if (rc < 0)
    goto out;
  if ((text = cJSON_PrintUnformatted(doc)) == NULL) {
    rc = vc_error_set_oom();
    goto out;
  }
  rc = vc__buf_puts(out, text);
out:
  cJSON_free(text);
  cJSON_Delete(doc);
  vc__db_release(db);
  return rc < 0 ? rc : 0;
}
