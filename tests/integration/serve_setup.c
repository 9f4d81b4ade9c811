/*
 * Setup for test_serve.py, until `vyomcomm init` and `vyomcomm tenant`
 * exist: opens (creating) the store with the key in KEY_FILE and makes
 * the tenants named.
 *
 *   serve_setup STORE KEY_FILE SLUG...
 */
#include "vyomcomm.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;
  vc_master_key mk = VC_MASTER_KEY_INIT;
  uint8_t key[32];
  char hex[80] = "";
  vc_store *store;
  vc_ctx *ctx;
  FILE *f;
  int rc;

  if (argc < 3 || (f = fopen(argv[2], "r")) == NULL) {
    fprintf(stderr, "usage: serve_setup STORE KEY_FILE SLUG...\n");
    return 2;
  }
  if (fgets(hex, sizeof(hex), f) == NULL)
    hex[0] = '\0';
  fclose(f);
  for (size_t i = 0; i < 32; i++) {
    unsigned int b;

    if (sscanf(hex + 2 * i, "%2x", &b) != 1) {
      fprintf(stderr, "serve_setup: bad key file\n");
      return 1;
    }
    key[i] = (uint8_t)b;
  }
  if ((rc = vc_store_open_sqlite(&store, argv[1], NULL)) < 0)
    goto fail;
  mk.key = key;
  mk.key_len = sizeof(key);
  o.store = store;
  o.master_key = &mk;
  if ((rc = vc_ctx_new(&ctx, &o)) < 0)
    goto fail;
  for (int i = 3; i < argc; i++) {
    vc_tenant_spec ts = VC_TENANT_SPEC_INIT;
    vc_tenant *t;

    ts.slug = argv[i];
    if ((rc = vc_tenant_new(&t, ctx, &ts)) < 0) {
      vc_ctx_free(ctx);
      goto fail;
    }
    vc_tenant_free(t);
  }
  vc_ctx_free(ctx);
  return 0;
fail:
  fprintf(stderr, "serve_setup: %s\n", vc_error_last()->message);
  return 1;
}
