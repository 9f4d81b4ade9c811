/* TEMPORARY stand-ins for other modules; removed when branches merge. */
/*
 * vc__call_entry_add and vc__call_control_enqueue (the call core) and
 * vc__agent_resolve (agents) as the IVR and recording branch needs them
 * before those branches exist: they remember what they were asked in
 * memory, for the unit tests (which read it through weak references and
 * fall back to the store once the real functions are there).
 */
#include "core/common.h"
#include "call/hooks.h"

#include <pthread.h>
#include <stdio.h>

#define STUB_MAX 256

typedef struct stub_entry {
  char call_id[VC_ID_SIZE];
  char type[32];
  char detail[2048];
  int leg;
  int64_t at;
} stub_entry;

typedef struct stub_control {
  char call_id[VC_ID_SIZE];
  int op;
  char arg[256];
} stub_control;

typedef struct stub_agent {
  char tenant_id[VC_ID_SIZE], id[VC_ID_SIZE], name[65];
  char number[VC_CALL_ADDRESS_MAX + 1];
} stub_agent;

static pthread_mutex_t stub_lock = PTHREAD_MUTEX_INITIALIZER;
static stub_entry entries[STUB_MAX];
static size_t nentries;
static stub_control controls[STUB_MAX];
static size_t ncontrols;
static stub_agent agents[16];
static size_t nagents;

int vc__call_entry_add(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                       const char *call_id, const char *type, int leg,
                       const char *detail_json, int64_t at)
{
  VC_UNUSED(db);
  VC_UNUSED(ctx);
  VC_UNUSED(tenant_id);
  pthread_mutex_lock(&stub_lock);
  if (nentries < STUB_MAX) {
    stub_entry *e = &entries[nentries++];
    snprintf(e->call_id, sizeof(e->call_id), "%s", call_id);
    snprintf(e->type, sizeof(e->type), "%s", type);
    snprintf(e->detail, sizeof(e->detail), "%s",
             detail_json ? detail_json : "{}");
    e->leg = leg;
    e->at = at;
  }
  pthread_mutex_unlock(&stub_lock);
  return 0;
}

int vc__call_control_enqueue(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                             const char *call_id, int op, const char *arg)
{
  VC_UNUSED(db);
  VC_UNUSED(ctx);
  VC_UNUSED(tenant_id);
  pthread_mutex_lock(&stub_lock);
  if (ncontrols < STUB_MAX) {
    stub_control *c = &controls[ncontrols++];
    snprintf(c->call_id, sizeof(c->call_id), "%s", call_id);
    c->op = op;
    snprintf(c->arg, sizeof(c->arg), "%s", arg ? arg : "");
  }
  pthread_mutex_unlock(&stub_lock);
  return 0;
}

int vc__agent_resolve(vc__db *db, const char *tenant_id,
                      const char *id_or_name, char agent_id[VC_ID_SIZE],
                      char *number)
{
  int rc = VC_ENOTFOUND;

  VC_UNUSED(db);
  pthread_mutex_lock(&stub_lock);
  for (size_t i = 0; i < nagents; i++)
    if (strcmp(agents[i].tenant_id, tenant_id) == 0 &&
        (strcmp(agents[i].id, id_or_name) == 0 ||
         strcmp(agents[i].name, id_or_name) == 0)) {
      snprintf(agent_id, VC_ID_SIZE, "%s", agents[i].id);
      snprintf(number, VC_CALL_ADDRESS_MAX + 1, "%s", agents[i].number);
      rc = 0;
      break;
    }
  pthread_mutex_unlock(&stub_lock);
  if (rc < 0)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                         "no agent '%.64s'", id_or_name);
  return 0;
}

/* ---- for the unit tests --------------------------------------------- */

void vc__stub_ivr_reset(void);
int vc__stub_ivr_entry(size_t i, const char **call_id, const char **type,
                       const char **detail);
int vc__stub_ivr_control(size_t i, const char **call_id, int *op,
                         const char **arg);
void vc__stub_ivr_agent_add(const char *tenant_id, const char *id,
                            const char *name, const char *number);

void vc__stub_ivr_reset(void)
{
  pthread_mutex_lock(&stub_lock);
  nentries = ncontrols = nagents = 0;
  pthread_mutex_unlock(&stub_lock);
}

int vc__stub_ivr_entry(size_t i, const char **call_id, const char **type,
                       const char **detail)
{
  if (i >= nentries)
    return -1;
  *call_id = entries[i].call_id;
  *type = entries[i].type;
  *detail = entries[i].detail;
  return 0;
}

int vc__stub_ivr_control(size_t i, const char **call_id, int *op,
                         const char **arg)
{
  if (i >= ncontrols)
    return -1;
  *call_id = controls[i].call_id;
  *op = controls[i].op;
  *arg = controls[i].arg;
  return 0;
}

void vc__stub_ivr_agent_add(const char *tenant_id, const char *id,
                            const char *name, const char *number)
{
  pthread_mutex_lock(&stub_lock);
  if (nagents < VC_ARRAY_SIZE(agents)) {
    stub_agent *a = &agents[nagents++];
    snprintf(a->tenant_id, sizeof(a->tenant_id), "%s", tenant_id);
    snprintf(a->id, sizeof(a->id), "%s", id);
    snprintf(a->name, sizeof(a->name), "%s", name);
    snprintf(a->number, sizeof(a->number), "%s", number);
  }
  pthread_mutex_unlock(&stub_lock);
}
