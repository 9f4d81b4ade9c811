/*
 * Generator of tests/resources/schema_v1.db, the storage-format fixture
 * that tests/integration/test_migrate.c opens with the current library.
 *
 * It was run ONCE, with the library at schema version 1 (vyomcomm 0.1.0,
 * schema/sqlite/001_foundation.sql), and its output is committed. Do not
 * regenerate it with a newer library: the point of the fixture is that a
 * store written by schema version 1 keeps opening, migrating and
 * decrypting with every later library. (If it must ever be rebuilt,
 * check out a commit whose vc_storage_schema_version() is 1.)
 *
 *   cc -std=c11 -Iinclude tests/resources/gen_schema_v1.c \
 *      -Lbuild/src -lvyomcomm -Wl,-rpath,$PWD/build/src -o /tmp/gen_v1
 *   rm -f /tmp/schema_v1.db && /tmp/gen_v1 /tmp/schema_v1.db
 *   sqlite3 /tmp/schema_v1.db \
 *     'PRAGMA journal_mode=DELETE; PRAGMA page_size=1024; VACUUM;'
 *   cp /tmp/schema_v1.db tests/resources/schema_v1.db
 *
 * The ids are reproducible (random_seed 1, clock fixed at
 * 1700000000000 ms); nonces and the key check are not. The program
 * prints the ids that test_migrate.c expects.
 *
 * Contents:
 *   - master key: 32 raw bytes 0x00, 0x01, ..., 0x1f (key version 1)
 *   - tenant "fixture-tenant": name "Fixture Tenant Ltd", timezone
 *     "Asia/Kolkata", locale "en-IN", currency "INR", quiet hours
 *     1320..480, created at 1700000000000
 *   - its secret "smtp.password" = "s3cret-v1"
 *   - tenant "gone", soft-deleted
 */
#include <stdio.h>
#include <string.h>

#include "vyomcomm.h"
#include "vyomcomm/sys/storage.h"

static int64_t fixed_clock(void *payload)
{
  (void)payload;
  return 1700000000000;
}

#define TRY(call)                                                        \
  do {                                                                   \
    int rc_ = (call);                                                    \
    if (rc_ < 0) {                                                       \
      fprintf(stderr, "%s: %s\n", #call, vc_error_last()->message);      \
      return 1;                                                          \
    }                                                                    \
  } while (0)

int main(int argc, char **argv)
{
  uint8_t key[32];
  vc_master_key mk = VC_MASTER_KEY_INIT;
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;
  vc_tenant_spec spec = VC_TENANT_SPEC_INIT;
  vc_store *store;
  vc_ctx *ctx;
  vc_tenant *t, *gone;

  if (argc != 2) {
    fprintf(stderr, "usage: %s OUT.db\n", argv[0]);
    return 2;
  }
  if (vc_storage_schema_version() != 1) {
    fprintf(stderr, "this library is at schema version %d, not 1\n",
            vc_storage_schema_version());
    return 1;
  }
  for (int i = 0; i < 32; i++)
    key[i] = (uint8_t)i;
  mk.key = key;
  mk.key_len = sizeof(key);
  TRY(vc_store_open_sqlite(&store, argv[1], NULL));
  o.store = store;
  o.master_key = &mk;
  o.clock_cb = fixed_clock;
  o.random_seed = 1;
  TRY(vc_ctx_new(&ctx, &o));

  spec.slug = "fixture-tenant";
  spec.name = "Fixture Tenant Ltd";
  spec.timezone = "Asia/Kolkata";
  spec.locale = "en-IN";
  spec.currency = "INR";
  spec.quiet_start_min = 1320;
  spec.quiet_end_min = 480;
  TRY(vc_tenant_new(&t, ctx, &spec));
  TRY(vc_secret_set(t, "smtp.password", "s3cret-v1", 9));

  spec = (vc_tenant_spec)VC_TENANT_SPEC_INIT;
  spec.slug = "gone";
  TRY(vc_tenant_new(&gone, ctx, &spec));
  TRY(vc_tenant_delete(gone));

  printf("fixture-tenant id %s\ngone id %s\n", vc_tenant_id(t),
         vc_tenant_id(gone));
  vc_tenant_free(t);
  vc_tenant_free(gone);
  vc_ctx_free(ctx);
  return 0;
}
