/*
 * vc__audit_rows: a group commit's audit rows written by eight a
 * statement and the rest one by one, each with its own tenant, actor,
 * entity and summary, ids increasing in the order given; nothing kept
 * when the transaction they share rolls back.
 */
#include "core/common.h"
#include "core/audit.h"
#include "core/ctx.h"
#include "store/db.h"
#include "harness.h"

#include <stdio.h>

#define NROWS 19 /* two statements of eight, then three alone */

static vc_ctx *open_ctx(vc_tenant **t1, vc_tenant **t2)
{
  vc_store *store = NULL;
  vc_ctx *ctx = NULL;
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;
  vc_tenant_spec s = VC_TENANT_SPEC_INIT;

  CHECK_OK(vc_store_open_sqlite(&store, vc_test_path("audit.db"), NULL));
  o.store = store;
  CHECK_OK(vc_ctx_new(&ctx, &o));
  s.slug = "one";
  CHECK_OK(vc_tenant_new(t1, ctx, &s));
  s.slug = "two";
  CHECK_OK(vc_tenant_new(t2, ctx, &s));
  return ctx;
}

/* The tenant's message.test rows, oldest first, into entity[] and
 * actor[]; their number. */
static int rows_of(vc_tenant *t, char entity[][16], char actor[][16])
{
  vc_audit_filter f = VC_AUDIT_FILTER_INIT;
  vc_audit_entry *en;
  vc_iter *it;
  char prev_id[VC_ID_SIZE] = "";
  int n = 0;

  f.action_prefix = "message.test";
  CHECK_OK(vc_audit_list(&it, t, &f));
  while (vc_audit_next(&en, it) == 0) {
    /* Newest first: each id below the one before. */
    if (prev_id[0] != '\0')
      CHECK(strcmp(vc_audit_entry_id(en), prev_id) < 0);
    snprintf(prev_id, sizeof(prev_id), "%s", vc_audit_entry_id(en));
    if (n < NROWS) {
      snprintf(entity[n], 16, "%s", vc_audit_entry_entity_id(en));
      snprintf(actor[n], 16, "%s", vc_audit_entry_actor(en));
      CHECK(strcmp(vc_audit_entry_summary_json(en), "{\"i\":1}") == 0 ||
            strcmp(vc_audit_entry_summary_json(en), "{}") == 0);
    }
    n++;
    vc_audit_entry_free(en);
  }
  vc_iter_free(it);
  return n;
}

static void test_audit_rows__by_eight_and_alone(void)
{
  vc_tenant *t1, *t2;
  vc_ctx *ctx = open_ctx(&t1, &t2);
  vc__audit_row rows[NROWS];
  char ent[NROWS][16], act[NROWS][16], got_e[NROWS][16], got_a[NROWS][16];
  int n1 = 0;
  vc__db *db;

  for (int i = 0; i < NROWS; i++) {
    snprintf(ent[i], sizeof(ent[i]), "entity-%02d", i);
    snprintf(act[i], sizeof(act[i]), "actor-%02d", i);
    /* Every third row is the other tenant's. */
    rows[i].tenant_id = vc_tenant_id(i % 3 == 2 ? t2 : t1);
    rows[i].actor = act[i];
    rows[i].action = "message.test";
    rows[i].entity_id = ent[i];
    rows[i].summary_json = i % 2 ? "{\"i\":1}" : NULL;
  }
  /* Rolled back: nothing stays. */
  CHECK_OK(vc__db_acquire(&db, ctx->store));
  CHECK_OK(vc__db_begin(db));
  CHECK_OK(vc__audit_rows(db, ctx, rows, NROWS));
  vc__db_rollback(db);
  CHECK(rows_of(t1, got_e, got_a) == 0);
  /* Committed: every row, in its tenant, in the order given. */
  CHECK_OK(vc__db_begin(db));
  CHECK_OK(vc__audit_rows(db, ctx, rows, NROWS));
  CHECK_OK(vc__db_commit(db));
  vc__db_release(db);
  for (int i = 0; i < NROWS; i++)
    n1 += i % 3 != 2;
  CHECK(rows_of(t1, got_e, got_a) == n1);
  for (int i = NROWS - 1, k = 0; i >= 0; i--) {
    if (i % 3 == 2)
      continue;
    CHECK(strcmp(got_e[k], ent[i]) == 0);
    CHECK(strcmp(got_a[k], act[i]) == 0);
    k++;
  }
  CHECK(rows_of(t2, got_e, got_a) == NROWS - n1);
  for (int i = NROWS - 1, k = 0; i >= 0; i--) {
    if (i % 3 != 2)
      continue;
    CHECK(strcmp(got_e[k], ent[i]) == 0);
    CHECK(strcmp(got_a[k], act[i]) == 0);
    k++;
  }
  vc_tenant_free(t1);
  vc_tenant_free(t2);
  vc_ctx_free(ctx);
}

VC_TESTS(
  VC_TEST(test_audit_rows__by_eight_and_alone),
)
