/*
 * vyomcomm init: a new store and a random master key file (mode 0600).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "cli_util.h"

static const char USAGE[] =
  "usage: vyomcomm init [--force] [--store PATH] [--key-file PATH]\n"
  "\n"
  "Create the store (SQLite) and a random 32-byte master key in the key\n"
  "file (64 hex digits, mode 0600). Refuses when either exists; --force\n"
  "removes both first (the old store's data is lost).\n";

static int random_bytes(uint8_t *buf, size_t len)
{
  FILE *f = fopen("/dev/urandom", "rb");
  size_t n = f ? fread(buf, 1, len, f) : 0;

  if (f)
    fclose(f);
  return n == len ? 0 : -1;
}

static int exists(const char *path)
{
  struct stat st;

  return stat(path, &st) == 0;
}

/* The store and its WAL companions. */
static int remove_store(const char *store)
{
  static const char *const SUFFIX[] = { "", "-wal", "-shm", "-journal" };
  char path[CLI_PATH_MAX + 16];

  for (size_t i = 0; i < sizeof(SUFFIX) / sizeof(SUFFIX[0]); i++) {
    snprintf(path, sizeof(path), "%s%s", store, SUFFIX[i]);
    if (unlink(path) < 0 && errno != ENOENT) {
      fprintf(stderr, "vyomcomm: cannot remove %s: %s\n", path,
              strerror(errno));
      return -1;
    }
  }
  return 0;
}

static int write_key(const char *path)
{
  uint8_t key[VC_MASTER_KEY_SIZE];
  char hex[2 * VC_MASTER_KEY_SIZE + 2];
  int fd, ok;

  if (random_bytes(key, sizeof(key)) < 0) {
    fprintf(stderr, "vyomcomm: cannot read /dev/urandom\n");
    return -1;
  }
  for (size_t i = 0; i < sizeof(key); i++)
    snprintf(hex + 2 * i, 3, "%02x", key[i]);
  hex[2 * VC_MASTER_KEY_SIZE] = '\n';
  memset(key, 0, sizeof(key));
  /* O_EXCL: --force removed an old one; two inits racing do not share */
  fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    fprintf(stderr, "vyomcomm: cannot create %s: %s\n", path,
            strerror(errno));
    return -1;
  }
  ok = write(fd, hex, 2 * VC_MASTER_KEY_SIZE + 1) ==
         2 * VC_MASTER_KEY_SIZE + 1 &&
       fchmod(fd, 0600) == 0 && fsync(fd) == 0;
  memset(hex, 0, sizeof(hex));
  if (close(fd) < 0 || !ok) {
    fprintf(stderr, "vyomcomm: cannot write %s\n", path);
    unlink(path);
    return -1;
  }
  return 0;
}

int cmd_init(int argc, char **argv)
{
  cli_opt opts[] = { CLI_OPT("--force", CLI_FLAG), CLI_OPT_END };
  cli_config cfg;
  cli_args args;
  vc_ctx *ctx;
  cJSON *o;
  int rc;

  if ((rc = cli_config_load(&cfg, &argc, argv)) ||
      (rc = cli_parse(&args, opts, argc, argv, 1, USAGE)))
    return rc == CLI_HELP ? EXIT_OK : rc;
  if (args.npos)
    return cli_usage_error(USAGE, "unexpected argument", args.pos[0]);
  if (!cli_opt_get(opts, "--force")->set) {
    if (exists(cfg.store) || exists(cfg.key_file)) {
      fprintf(stderr, "vyomcomm: %s already exists (--force replaces the "
              "store and the key, losing the data)\n",
              exists(cfg.store) ? cfg.store : cfg.key_file);
      return EXIT_CONFLICT;
    }
  } else if (remove_store(cfg.store) < 0 ||
             (unlink(cfg.key_file) < 0 && errno != ENOENT)) {
    return EXIT_FAILED;
  }
  if (write_key(cfg.key_file) < 0)
    return EXIT_FAILED;
  /* Opening the context creates and migrates the store, and ties it to
   * the key. */
  if ((rc = cli_ctx_open(&ctx, &cfg)) < 0) {
    unlink(cfg.key_file);
    return cli_exit_code(rc);
  }
  vc_ctx_free(ctx);
  o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "store", cfg.store);
  cJSON_AddStringToObject(o, "key_file", cfg.key_file);
  if (cfg.json) {
    cli_emit(&cfg, o, NULL);
  } else {
    cJSON_Delete(o);
    printf("created the store %s and the key file %s (keep it secret: "
           "the channels' credentials cannot be read without it)\n",
           cfg.store, cfg.key_file);
  }
  return EXIT_OK;
}
