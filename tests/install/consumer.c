/* <DESC>
 * A program built only from the installed headers and
 * `pkg-config --cflags --libs vyomcomm`, run against the installed shared
 * library by .ci/run: checks the version, then creates an SQLite store, a
 * context with a master key, a tenant and a credential, and reads them
 * back. Usage: consumer <directory for the database>
 * </DESC>
 */
#include <vyomcomm.h>

#include <stdio.h>
#include <string.h>

static int failures;

#define CHECK(cond)                                                       \
  do {                                                                    \
    if (!(cond)) {                                                        \
      fprintf(stderr, "consumer: check failed at line %d: %s (%s)\n",     \
              __LINE__, #cond, vc_error_last()->message);                 \
      failures++;                                                         \
    }                                                                     \
  } while (0)

int main(int argc, char **argv)
{
  static const uint8_t key_bytes[VC_MASTER_KEY_SIZE] = { 1, 2, 3, 4, 5 };
  vc_master_key key = VC_MASTER_KEY_INIT;
  vc_ctx_options opts = VC_CTX_OPTIONS_INIT;
  vc_tenant_spec spec = VC_TENANT_SPEC_INIT;
  vc_store *store = NULL;
  vc_ctx *ctx = NULL;
  vc_tenant *tenant = NULL, *found = NULL;
  vc_buf secret = VC_BUF_INIT;
  char path[4096];
  int rc;

  if (argc != 2) {
    fprintf(stderr, "usage: consumer <directory>\n");
    return 2;
  }
  snprintf(path, sizeof(path), "%s/consumer.db", argv[1]);

  CHECK(vc_version_number() == VC_VERSION_NUMBER);
  CHECK(vc_abi_version() == VC_ABI_VERSION);
  CHECK(strcmp(vc_version_string(), VC_VERSION_STRING) == 0);

  rc = vc_store_open_sqlite(&store, path, NULL);
  CHECK(rc == VC_OK && store != NULL);
  key.key = key_bytes;
  key.key_len = sizeof(key_bytes);
  opts.store = store;
  opts.master_key = &key;
  rc = vc_ctx_new(&ctx, &opts);
  CHECK(rc == VC_OK && ctx != NULL);
  if (rc != VC_OK) {
    vc_store_free(store);
    return 1;
  }

  spec.slug = "acme";
  spec.name = "Acme Traders";
  rc = vc_tenant_new(&tenant, ctx, &spec);
  CHECK(rc == VC_OK && tenant != NULL);
  CHECK(vc_tenant_new(NULL, ctx, &spec) == VC_EEXISTS);

  rc = vc_tenant_lookup(&found, ctx, "acme");
  CHECK(rc == VC_OK && found != NULL);
  if (tenant != NULL && found != NULL) {
    CHECK(strcmp(vc_tenant_id(tenant), vc_tenant_id(found)) == 0);
    CHECK(strcmp(vc_tenant_name(found), "Acme Traders") == 0);
    CHECK(strlen(vc_tenant_id(found)) == VC_ID_SIZE - 1);
  }

  if (tenant != NULL) {
    CHECK(vc_secret_set(tenant, "sms.token", "s3cret", 6) == VC_OK);
    CHECK(vc_secret_get(&secret, tenant, "sms.token") == VC_OK);
    CHECK(secret.size == 6 && memcmp(secret.ptr, "s3cret", 6) == 0);
    vc_buf_dispose(&secret);
  }

  vc_tenant_free(found);
  vc_tenant_free(tenant);
  vc_ctx_free(ctx);

  if (failures == 0)
    printf("consumer: libvyomcomm %s (ABI %d): all checks passed\n",
           vc_version_string(), vc_abi_version());
  return failures == 0 ? 0 : 1;
}
