/*
 * vyomcomm demo: exercises the library end to end on a fresh SQLite store
 * and checks every result. Exits 1 if any check fails.
 *
 *   vyomcomm demo [--dir DIR] [--keep]
 *
 * Without --dir it works in a new directory under $TMPDIR (or /tmp) and
 * removes it afterwards unless --keep is given.
 */
#define _GNU_SOURCE
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vyomcomm.h"
#include "cli.h"

typedef struct demo {
  char dir[512];
  char db_path[600];
  demo_checks c;
  int events;           /* delivered to the event callback */
  uint8_t key[VC_MASTER_KEY_SIZE];
  uint8_t new_key[VC_MASTER_KEY_SIZE];
} demo;

int demo_check(demo_checks *c, int ok, const char *what)
{
  c->checks++;
  if (!ok)
    c->failures++;
  printf("  [%s] %s\n", ok ? " ok " : "FAIL", what);
  if (!ok && vc_error_last()->code != VC_OK)
    printf("         %s: %s\n", vc_strerror(vc_error_last()->code),
           vc_error_last()->message);
  return ok;
}

static int check(demo *d, int ok, const char *what)
{
  return demo_check(&d->c, ok, what);
}

static int on_event(const vc_event *ev, void *payload)
{
  demo *d = payload;

  d->events++;
  printf("  event %llu: %s %s\n", (unsigned long long)ev->seq, ev->type,
         ev->payload_json);
  return 0;
}

static void on_log(int level, const char *message, void *payload)
{
  (void)payload;
  if (level <= VC_LOG_WARN)
    fprintf(stderr, "  log %s: %s\n", vc_log_level_name(level), message);
}

static int fill_random(uint8_t *buf, size_t len)
{
  FILE *f = fopen("/dev/urandom", "rb");
  size_t n = f ? fread(buf, 1, len, f) : 0;

  if (f)
    fclose(f);
  return n == len ? 0 : -1;
}

/* Open a context over the demo's database with `key`. */
static int open_ctx(vc_ctx **ctx, demo *d, const uint8_t *key)
{
  vc_ctx_options opts = VC_CTX_OPTIONS_INIT;
  vc_master_key mk = VC_MASTER_KEY_INIT;
  vc_store *store;
  int rc;

  if ((rc = vc_store_open_sqlite(&store, d->db_path, NULL)) < 0)
    return rc;
  mk.key = key;
  mk.key_len = VC_MASTER_KEY_SIZE;
  opts.store = store;
  opts.master_key = &mk;
  opts.log_cb = on_log;
  if ((rc = vc_ctx_new(ctx, &opts)) < 0)
    vc_store_free(store); /* on failure the caller keeps the store */
  return rc;
}

static const char CREDENTIAL_NAME[] = "twilio.auth_token";
static const char CREDENTIAL[] = "demo-auth-token-6f1c2d9e0b7a4c58";

static void step_tenant(demo *d, vc_ctx *ctx)
{
  vc_tenant_spec spec = VC_TENANT_SPEC_INIT;
  vc_tenant *t = NULL, *found = NULL;
  int qs = 0, qe = 0;

  printf("tenant\n");
  spec.slug = "acme";
  spec.name = "Acme Distributors";
  spec.timezone = "Asia/Kolkata";
  spec.locale = "hi-IN";
  spec.currency = "INR";
  spec.quiet_start_min = 21 * 60;
  spec.quiet_end_min = 9 * 60;
  if (!check(d, vc_tenant_new(&t, ctx, &spec) == 0, "create tenant 'acme'"))
    return;
  check(d, vc_tenant_new(NULL, ctx, &spec) == VC_EEXISTS,
        "a second tenant with the same slug is refused (VC_EEXISTS)");
  if (check(d, vc_tenant_lookup(&found, ctx, "acme") == 0,
            "look the tenant up by slug")) {
    vc_tenant_quiet_hours(found, &qs, &qe);
    check(d, strcmp(vc_tenant_id(found), vc_tenant_id(t)) == 0 &&
             strcmp(vc_tenant_name(found), "Acme Distributors") == 0 &&
             strcmp(vc_tenant_timezone(found), "Asia/Kolkata") == 0 &&
             strcmp(vc_tenant_locale(found), "hi-IN") == 0 &&
             strcmp(vc_tenant_currency(found), "INR") == 0 &&
             qs == 21 * 60 && qe == 9 * 60,
          "stored settings read back unchanged");
  }
  vc_tenant_free(found);
  vc_tenant_free(t);
}

static void step_secret(demo *d, vc_ctx *ctx)
{
  vc_buf value = VC_BUF_INIT;
  vc_tenant *t = NULL;

  printf("encrypted credential\n");
  if (!check(d, vc_tenant_lookup(&t, ctx, "acme") == 0, "load tenant"))
    return;
  check(d, vc_secret_set(t, CREDENTIAL_NAME, CREDENTIAL,
                         sizeof(CREDENTIAL) - 1) == 0,
        "store a credential (AES-256-GCM under the master key)");
  if (check(d, vc_secret_get(&value, t, CREDENTIAL_NAME) == 0,
            "read the credential back"))
    check(d, value.size == sizeof(CREDENTIAL) - 1 &&
             memcmp(value.ptr, CREDENTIAL, value.size) == 0,
          "decrypted value matches");
  vc_buf_dispose(&value);
  vc_tenant_free(t);
}

/* The plaintext must not be in the database file. */
static void step_at_rest(demo *d)
{
  FILE *f = fopen(d->db_path, "rb");
  char *data = NULL;
  long size = 0;
  int found = 0;

  printf("at rest\n");
  if (f != NULL && fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) > 0 &&
      fseek(f, 0, SEEK_SET) == 0 && (data = malloc((size_t)size)) != NULL &&
      fread(data, 1, (size_t)size, f) == (size_t)size)
    found = memmem(data, (size_t)size, CREDENTIAL,
                   sizeof(CREDENTIAL) - 1) != NULL;
  else
    size = -1;
  if (f)
    fclose(f);
  free(data);
  check(d, size > 0 && !found,
        "the credential's plaintext is not in the database file");
}

static void step_reopen(demo *d)
{
  vc_buf value = VC_BUF_INIT;
  vc_tenant *t = NULL;
  vc_ctx *ctx = NULL;
  uint8_t wrong[VC_MASTER_KEY_SIZE];

  printf("reopen\n");
  memcpy(wrong, d->key, sizeof(wrong));
  wrong[0] ^= 0x01;
  check(d, open_ctx(&ctx, d, wrong) == VC_EKEY,
        "a wrong master key is refused (VC_EKEY)");
  vc_ctx_free(ctx);
  ctx = NULL;
  if (!check(d, open_ctx(&ctx, d, d->key) == 0,
             "reopen the store with the right key"))
    return;
  if (check(d, vc_tenant_lookup(&t, ctx, "acme") == 0,
            "the tenant survived the restart") &&
      check(d, vc_secret_get(&value, t, CREDENTIAL_NAME) == 0,
            "the credential survived the restart"))
    check(d, value.size == sizeof(CREDENTIAL) - 1 &&
             memcmp(value.ptr, CREDENTIAL, value.size) == 0,
          "and still decrypts to the same value");
  vc_buf_dispose(&value);

  printf("key rotation\n");
  if (fill_random(d->new_key, sizeof(d->new_key)) == 0) {
    vc_master_key mk = VC_MASTER_KEY_INIT;
    mk.key = d->new_key;
    mk.key_len = sizeof(d->new_key);
    check(d, vc_secret_rotate_key(ctx, &mk) == 0,
          "rotate the master key (re-encrypts in one transaction)");
    if (t != NULL && check(d, vc_secret_get(&value, t, CREDENTIAL_NAME) == 0,
                           "read the credential under the new key"))
      check(d, value.size == sizeof(CREDENTIAL) - 1 &&
               memcmp(value.ptr, CREDENTIAL, value.size) == 0,
            "value unchanged by rotation");
  }
  vc_buf_dispose(&value);
  vc_tenant_free(t);
  vc_ctx_free(ctx);
  ctx = NULL;
  check(d, open_ctx(&ctx, d, d->key) == VC_EKEY,
        "the old key no longer opens the store");
  vc_ctx_free(ctx);
}

static void step_events(demo *d, vc_ctx *ctx)
{
  vc_tenant *t = NULL;
  vc_iter *it = NULL;
  const vc_event *ev;
  int n = 0;

  printf("events\n");
  vc_ctx_set_event_cb(ctx, on_event, d);
  check(d, vc_ctx_run(ctx, 0) >= 2 && d->events >= 2,
        "the event callback received tenant.created and secret.set");
  if (vc_tenant_lookup(&t, ctx, "acme") == 0 &&
      vc_events_since(&it, t, 0) == 0) {
    while (vc_event_next(&ev, it) == 0)
      n++;
  }
  check(d, n == d->events, "vc_events_since lists the same events");
  vc_iter_free(it);
  vc_tenant_free(t);
}

static int remove_entry(const char *path, const struct stat *st, int flag,
                        struct FTW *ftw)
{
  (void)st;
  (void)flag;
  (void)ftw;
  return remove(path);
}

int cmd_demo(int argc, char **argv)
{
  demo d;
  vc_ctx *ctx = NULL;
  const char *dir = NULL;
  int keep = 0;

  memset(&d, 0, sizeof(d));
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc) {
      dir = argv[++i];
    } else if (strcmp(argv[i], "--keep") == 0) {
      keep = 1;
    } else {
      fprintf(stderr, "usage: vyomcomm demo [--dir DIR] [--keep]\n");
      return EXIT_USAGE;
    }
  }
  if (dir != NULL) {
    snprintf(d.dir, sizeof(d.dir), "%s", dir);
    keep = 1;
    if (mkdir(d.dir, 0700) != 0 && access(d.dir, W_OK) != 0) {
      perror(d.dir);
      return EXIT_FAILED;
    }
  } else {
    const char *tmp = getenv("TMPDIR");
    snprintf(d.dir, sizeof(d.dir), "%s/vyomcomm-demo.XXXXXX",
             tmp ? tmp : "/tmp");
    if (mkdtemp(d.dir) == NULL) {
      perror("mkdtemp");
      return EXIT_FAILED;
    }
  }
  snprintf(d.db_path, sizeof(d.db_path), "%s/vyomcomm.db", d.dir);
  printf("vyomcomm %s demo: store %s\n", vc_version_string(), d.db_path);

  printf("store\n");
  if (check(&d, fill_random(d.key, sizeof(d.key)) == 0,
            "generate a random 32-byte master key") &&
      check(&d, open_ctx(&ctx, &d, d.key) == 0,
            "open the SQLite store (WAL) and migrate its schema")) {
    step_tenant(&d, ctx);
    step_secret(&d, ctx);
    step_events(&d, ctx);
    vc_ctx_free(ctx);
    step_at_rest(&d);
    step_reopen(&d);
  }
  demo_messaging(&d.c, d.dir);
  demo_calls(&d.c, d.dir);
  demo_inbound(&d.c, d.dir);
  demo_sip(&d.c, d.dir);
  demo_engage(&d.c, d.dir);

  printf("\n%d checks, %d failed: %s\n", d.c.checks, d.c.failures,
         d.c.failures ? "FAILED" : "all passed");
  if (!keep)
    nftw(d.dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
  else
    printf("kept %s\n", d.dir);
  return d.c.failures ? EXIT_FAILED : EXIT_OK;
}
