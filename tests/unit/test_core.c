/*
 * Unit tests of the core: error codes and the thread-local detail,
 * version macros, versioned option structs, counted global
 * initialisation and the allocator hook, ULIDs, UTF-8 and token checks,
 * vc_buf, and the crypto primitives (AES-256-GCM sealing, PBKDF2,
 * constant-time comparison).
 */
#include "core/common.h"
#include "core/ulid.h"
#include "core/text.h"
#include "core/crypto.h"
#include "core/buf.h"
#include "core/random.h"

#include "vyomcomm/sys/storage.h"

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/types.h>
#include <sys/wait.h>

/* The harness keeps counters across its setjmp; gcc -O2 warns (a false
 * positive). */
#include "harness.h"

/* ------------------------------------------------------------------ */
/* Helpers                                                             */

/*
 * Run `fn` in a child process, for cases that change process-global
 * state (vc_global_init, the allocator). A CHECK failing in the child
 * ends the child with status 1. Returns the child's exit status.
 */
static int run_in_child(void (*fn)(void))
{
  int status = 0;
  pid_t pid;

  fflush(stdout);
  fflush(stderr);
  pid = fork();
  if (pid < 0)
    return -1;
  if (pid == 0) {
    vc_test_failed_ = 0;
    if (setjmp(vc_test_jmp_) == 0)
      fn();
    /* exit(), not _exit(): LeakSanitizer checks the child too. */
    exit(vc_test_failed_ ? 1 : 0);
  }
  if (waitpid(pid, &status, 0) != pid)
    return -1;
  if (WIFEXITED(status))
    return WEXITSTATUS(status);
  return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

static int has_newline(const char *s)
{
  return strchr(s, '\n') != NULL || strchr(s, '\r') != NULL;
}

/* ------------------------------------------------------------------ */
/* Errors                                                              */

static const int ALL_CODES[] = {
  VC_OK, VC_ERROR, VC_ENOMEM, VC_ENOTFOUND, VC_EEXISTS, VC_EINVALID,
  VC_EBUSY, VC_ETIMEOUT, VC_EAUTH, VC_ENOTSUPPORTED, VC_ECANCELED,
  VC_ERATELIMIT, VC_EPROVIDER, VC_ESTORAGE, VC_EVERSION, VC_ECRYPTO,
  VC_EKEY, VC_ECONFLICT, VC_ETOOBIG, VC_EENCODING, VC_ECORRUPT, VC_ESTATE,
  VC_ENET, VC_ECONSENT, VC_ELOOP, VC_EUSER, VC_PASSTHROUGH, VC_ITEROVER,
};

static void test_core__error_codes_pinned(void)
{
  /* The values are ABI: they must never change. */
  CHECK(VC_OK == 0 && VC_ERROR == -1 && VC_ENOMEM == -2);
  CHECK(VC_ENOTFOUND == -3 && VC_EEXISTS == -4 && VC_EINVALID == -5);
  CHECK(VC_EBUSY == -6 && VC_ETIMEOUT == -7 && VC_EAUTH == -8);
  CHECK(VC_ENOTSUPPORTED == -9 && VC_ECANCELED == -10);
  CHECK(VC_ERATELIMIT == -11 && VC_EPROVIDER == -12);
  CHECK(VC_ESTORAGE == -13 && VC_EVERSION == -14 && VC_ECRYPTO == -15);
  CHECK(VC_EKEY == -16 && VC_ECONFLICT == -17 && VC_ETOOBIG == -18);
  CHECK(VC_EENCODING == -19 && VC_ECORRUPT == -20 && VC_ESTATE == -21);
  CHECK(VC_ENET == -22 && VC_ECONSENT == -23 &&
        VC_ELOOP == -24);
  CHECK(VC_EUSER == -30 && VC_PASSTHROUGH == -31 && VC_ITEROVER == -32);
  CHECK(VC_ERRCLASS_NONE == 0 && VC_ERRCLASS_INTERNAL == 12);
}

static void test_core__strerror(void)
{
  size_t n = VC_ARRAY_SIZE(ALL_CODES);

  for (size_t i = 0; i < n; i++) {
    const char *s = vc_strerror(ALL_CODES[i]);
    CHECK(s != NULL);
    CHECK(s[0] != '\0');
    CHECK(strcmp(s, "unknown error") != 0);
    CHECK(!has_newline(s));
    /* Every code has its own text. */
    for (size_t j = 0; j < i; j++)
      CHECK(strcmp(s, vc_strerror(ALL_CODES[j])) != 0);
  }
  CHECK_STR(vc_strerror(VC_OK), "success");
  CHECK_STR(vc_strerror(VC_ENOTFOUND), "not found");
  /* Unknown codes, including the gaps in the numbering. */
  CHECK_STR(vc_strerror(1), "unknown error");
  CHECK_STR(vc_strerror(-25), "unknown error");
  CHECK_STR(vc_strerror(-29), "unknown error");
  CHECK_STR(vc_strerror(-33), "unknown error");
  CHECK_STR(vc_strerror(INT_MIN), "unknown error");
  CHECK_STR(vc_strerror(INT_MAX), "unknown error");
}

static void test_core__error_last_and_clear(void)
{
  const vc_error *e;

  vc_error_clear();
  e = vc_error_last();
  CHECK(e != NULL);
  CHECK(e->message != NULL);
  CHECK(e->klass == VC_ERRCLASS_NONE);
  CHECK(e->code == VC_OK);
  CHECK(e->provider_status == 0);
  CHECK_STR(e->message, "no error");

  CHECK_RC(vc_error_set_str(VC_ERRCLASS_STORAGE, VC_ESTORAGE, "disk gone"),
           VC_ESTORAGE);
  vc_error_set_provider_status(503);
  e = vc_error_last();
  CHECK(e->klass == VC_ERRCLASS_STORAGE);
  CHECK(e->code == VC_ESTORAGE);
  CHECK(e->provider_status == 503);
  CHECK_STR(e->message, "disk gone");

  /* A NULL message falls back to the code's name. */
  CHECK_RC(vc_error_set_str(VC_ERRCLASS_NET, VC_ENET, NULL), VC_ENET);
  CHECK_STR(vc_error_last()->message, vc_strerror(VC_ENET));
  CHECK(vc_error_last()->provider_status == 0);

  CHECK_RC(vc_error_set_oom(), VC_ENOMEM);
  CHECK(vc_error_last()->klass == VC_ERRCLASS_NOMEMORY);
  CHECK(vc_error_last()->code == VC_ENOMEM);

  /* Formatted messages and the "what: " prefix of vc__error_wrap. */
  CHECK_RC(vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID, "bad %s %d",
                         "thing", 42), VC_EINVALID);
  CHECK_STR(vc_error_last()->message, "bad thing 42");
  CHECK(vc__error_code() == VC_EINVALID);
  CHECK_RC(vc__error_wrap("context"), VC_EINVALID);
  CHECK_STR(vc_error_last()->message, "context: bad thing 42");
  CHECK(vc_error_last()->klass == VC_ERRCLASS_INVALID);

  vc_error_clear();
  e = vc_error_last();
  CHECK(e->code == VC_OK && e->klass == VC_ERRCLASS_NONE);
  CHECK(e->provider_status == 0);
  CHECK_STR(e->message, "no error");
}

static void test_core__error_message_truncated_one_line(void)
{
  char big[2000];
  const vc_error *e;

  memset(big, 'x', sizeof(big) - 1);
  big[sizeof(big) - 1] = '\0';
  vc_error_set_str(VC_ERRCLASS_INTERNAL, VC_ERROR, big);
  e = vc_error_last();
  CHECK(strlen(e->message) == 511);
  CHECK(strspn(e->message, "x") == 511);

  vc__error_set(VC_ERRCLASS_INTERNAL, VC_ERROR, "%s", big);
  CHECK(strlen(vc_error_last()->message) == 511);

  /* Wrapping a full message stays bounded too. */
  vc__error_wrap("prefix");
  CHECK(strlen(vc_error_last()->message) <= 511);
  CHECK(strncmp(vc_error_last()->message, "prefix: ", 8) == 0);

  /* One line: CR and LF become spaces. */
  vc_error_set_str(VC_ERRCLASS_INTERNAL, VC_ERROR, "line one\nline two\r\n");
  CHECK_STR(vc_error_last()->message, "line one line two  ");
  vc__error_set(VC_ERRCLASS_INTERNAL, VC_ERROR, "a\n%s", "b\rc");
  CHECK_STR(vc_error_last()->message, "a b c");
  vc__error_wrap("x\ny");
  CHECK(!has_newline(vc_error_last()->message));

  /* UTF-8, whatever the message quotes: other control characters become
   * spaces, bytes outside UTF-8 '?', characters are kept whole. */
  vc_error_set_str(VC_ERRCLASS_INTERNAL, VC_ERROR,
                   "tab\there \x01\x7f caf\xc3\xa9 \xff\xc3( \xed\xa0\x80");
  CHECK_STR(vc_error_last()->message, "tab here    caf\xc3\xa9 ?\?( ???");
  /* A cut at the bound drops a character that does not fit whole. */
  memset(big, 'x', sizeof(big));
  memcpy(big + 509, "\xe2\x82\xac", 4);   /* the euro sign, then NUL */
  vc_error_set_str(VC_ERRCLASS_INTERNAL, VC_ERROR, big);
  CHECK(strlen(vc_error_last()->message) == 509);
  memcpy(big + 508, "\xe2\x82\xac", 4);
  vc_error_set_str(VC_ERRCLASS_INTERNAL, VC_ERROR, big);
  CHECK(strlen(vc_error_last()->message) == 511);
  CHECK(vc__utf8_valid(vc_error_last()->message, 511));
  vc_error_clear();
}

typedef struct thread_probe {
  int code_at_start;
  const char *msg_at_start;
  char msg_at_start_copy[64];
  int code_after_set;
  const vc_error *ptr;
} thread_probe;

static void *error_thread(void *arg)
{
  thread_probe *p = arg;
  const vc_error *e = vc_error_last();

  p->code_at_start = e->code;
  p->msg_at_start = e->message;
  snprintf(p->msg_at_start_copy, sizeof(p->msg_at_start_copy), "%s",
           e->message ? e->message : "(null)");
  vc_error_set_str(VC_ERRCLASS_NET, VC_ETIMEOUT, "set in the thread");
  p->code_after_set = vc_error_last()->code;
  p->ptr = vc_error_last();
  return NULL;
}

static void test_core__error_thread_local(void)
{
  thread_probe p;
  pthread_t th;

  memset(&p, 0, sizeof(p));
  vc_error_set_str(VC_ERRCLASS_STORAGE, VC_EBUSY, "set in main");
  CHECK(pthread_create(&th, NULL, error_thread, &p) == 0);
  CHECK(pthread_join(th, NULL) == 0);
  /* The new thread started clean and never saw main's error. */
  CHECK(p.code_at_start == VC_OK);
  CHECK(p.msg_at_start != NULL);
  CHECK_STR(p.msg_at_start_copy, "no error");
  CHECK(p.code_after_set == VC_ETIMEOUT);
  CHECK(p.ptr != vc_error_last());
  /* And main still has its own. */
  CHECK(vc_error_last()->code == VC_EBUSY);
  CHECK(vc_error_last()->klass == VC_ERRCLASS_STORAGE);
  CHECK_STR(vc_error_last()->message, "set in main");
  vc_error_clear();
}

/* ------------------------------------------------------------------ */
/* Versions and versioned structs                                      */

static void test_core__version(void)
{
  int major = -1, minor = -1, patch = -1;
  char want[32];

  CHECK(VC_VERSION_NUMBER == vc_version_number());
  CHECK(vc_abi_version() == VC_ABI_VERSION);
  CHECK_STR(vc_version_string(), VC_VERSION_STRING);
  CHECK_OK(vc_version(&major, &minor, &patch));
  CHECK(major == VC_VERSION_MAJOR);
  CHECK(minor == VC_VERSION_MINOR);
  CHECK(patch == VC_VERSION_PATCH);
  CHECK_OK(vc_version(NULL, NULL, NULL));
  snprintf(want, sizeof(want), "%d.%d.%d", major, minor, patch);
  CHECK_STR(vc_version_string(), want);
  CHECK(vc_version_number() ==
        (uint32_t)((major << 16) | (minor << 8) | patch));

  CHECK(VC_VERSION_CHECK(0, 0, 0));
  CHECK(VC_VERSION_CHECK(VC_VERSION_MAJOR, VC_VERSION_MINOR,
                         VC_VERSION_PATCH));
  CHECK(!VC_VERSION_CHECK(VC_VERSION_MAJOR, VC_VERSION_MINOR,
                          VC_VERSION_PATCH + 1));
  CHECK(!VC_VERSION_CHECK(VC_VERSION_MAJOR, VC_VERSION_MINOR + 1, 0));
  CHECK(!VC_VERSION_CHECK(VC_VERSION_MAJOR + 1, 0, 0));
  if (VC_VERSION_MINOR > 0)
    CHECK(VC_VERSION_CHECK(VC_VERSION_MAJOR, VC_VERSION_MINOR - 1, 99));
}

/*
 * Every vc_x_init(ptr, version): version 0, latest+1 and UINT_MAX give
 * VC_EVERSION and leave the struct untouched; NULL gives VC_EINVALID; the
 * latest version sets the INIT value.
 */
#define CHECK_INIT_REJECTS(type, fn, latest)                            \
  do {                                                                  \
    type v_;                                                            \
    unsigned char junk_[sizeof(type)];                                  \
    memset(&v_, 0xA5, sizeof(v_));                                      \
    memset(junk_, 0xA5, sizeof(junk_));                                 \
    CHECK_RC(fn(&v_, 0), VC_EVERSION);                                  \
    CHECK(vc_error_last()->code == VC_EVERSION);                        \
    CHECK(strstr(vc_error_last()->message, "version") != NULL);         \
    CHECK_RC(fn(&v_, (latest) + 1), VC_EVERSION);                       \
    CHECK_RC(fn(&v_, UINT_MAX), VC_EVERSION);                           \
    CHECK(memcmp(&v_, junk_, sizeof(v_)) == 0);                         \
    CHECK_RC(fn(NULL, (latest)), VC_EINVALID);                          \
  } while (0)

static void check_allocator_init(const vc_allocator *a)
{
  CHECK(a->version == VC_ALLOCATOR_VERSION);
  CHECK(a->malloc == NULL && a->realloc == NULL && a->free == NULL);
  CHECK(a->opaque == NULL);
}

static void check_global_options_init(const vc_global_options *o)
{
  CHECK(o->version == VC_GLOBAL_OPTIONS_VERSION);
  CHECK(o->allocator == NULL);
}

static void check_ctx_options_init(const vc_ctx_options *o)
{
  CHECK(o->version == VC_CTX_OPTIONS_VERSION);
  CHECK(o->store == NULL && o->master_key == NULL);
  CHECK(o->log_cb == NULL && o->log_payload == NULL && o->log_level == 0);
  CHECK(o->clock_cb == NULL && o->clock_payload == NULL);
  CHECK(o->random_seed == 0 && o->public_base_url == NULL);
  CHECK(o->lease_ms == 0 && o->claim_batch == 0);
}

static void check_master_key_init(const vc_master_key *k)
{
  CHECK(k->version == VC_MASTER_KEY_VERSION);
  CHECK(k->key == NULL && k->key_len == 0 && k->passphrase == NULL);
  CHECK(k->kdf_iterations == 0);
}

static void check_sqlite_options_init(const vc_sqlite_options *o)
{
  CHECK(o->version == VC_SQLITE_OPTIONS_VERSION);
  CHECK(o->synchronous == 0 && o->busy_timeout_ms == 0);
  CHECK(o->statement_cache == 0);
}

static void check_tenant_spec_init(const vc_tenant_spec *s)
{
  CHECK(s->version == VC_TENANT_SPEC_VERSION);
  CHECK(s->slug == NULL && s->name == NULL && s->timezone == NULL);
  CHECK(s->locale == NULL && s->currency == NULL);
  CHECK(s->quiet_start_min == VC_QUIET_NONE);
  CHECK(s->quiet_end_min == VC_QUIET_NONE);
}

static void check_tenant_filter_init(const vc_tenant_filter *f)
{
  CHECK(f->version == VC_TENANT_FILTER_VERSION);
  CHECK(f->after == NULL && f->include_deleted == 0);
}

static void test_core__struct_init(void)
{
  {
    vc_allocator m = VC_ALLOCATOR_INIT, f;
    check_allocator_init(&m);
    memset(&f, 0xA5, sizeof(f));
    CHECK_OK(vc_allocator_init(&f, VC_ALLOCATOR_VERSION));
    check_allocator_init(&f);
    CHECK_INIT_REJECTS(vc_allocator, vc_allocator_init,
                       VC_ALLOCATOR_VERSION);
  }
  {
    vc_global_options m = VC_GLOBAL_OPTIONS_INIT, f;
    check_global_options_init(&m);
    memset(&f, 0xA5, sizeof(f));
    CHECK_OK(vc_global_options_init(&f, VC_GLOBAL_OPTIONS_VERSION));
    check_global_options_init(&f);
    CHECK_INIT_REJECTS(vc_global_options, vc_global_options_init,
                       VC_GLOBAL_OPTIONS_VERSION);
  }
  {
    vc_ctx_options m = VC_CTX_OPTIONS_INIT, f;
    check_ctx_options_init(&m);
    memset(&f, 0xA5, sizeof(f));
    CHECK_OK(vc_ctx_options_init(&f, VC_CTX_OPTIONS_VERSION));
    check_ctx_options_init(&f);
    CHECK_INIT_REJECTS(vc_ctx_options, vc_ctx_options_init,
                       VC_CTX_OPTIONS_VERSION);
  }
  {
    vc_master_key m = VC_MASTER_KEY_INIT, f;
    check_master_key_init(&m);
    memset(&f, 0xA5, sizeof(f));
    CHECK_OK(vc_master_key_init(&f, VC_MASTER_KEY_VERSION));
    check_master_key_init(&f);
    CHECK_INIT_REJECTS(vc_master_key, vc_master_key_init,
                       VC_MASTER_KEY_VERSION);
  }
  {
    vc_sqlite_options m = VC_SQLITE_OPTIONS_INIT, f;
    check_sqlite_options_init(&m);
    memset(&f, 0xA5, sizeof(f));
    CHECK_OK(vc_sqlite_options_init(&f, VC_SQLITE_OPTIONS_VERSION));
    check_sqlite_options_init(&f);
    CHECK_INIT_REJECTS(vc_sqlite_options, vc_sqlite_options_init,
                       VC_SQLITE_OPTIONS_VERSION);
  }
  {
    vc_tenant_spec m = VC_TENANT_SPEC_INIT, f;
    check_tenant_spec_init(&m);
    memset(&f, 0xA5, sizeof(f));
    CHECK_OK(vc_tenant_spec_init(&f, VC_TENANT_SPEC_VERSION));
    check_tenant_spec_init(&f);
    CHECK_INIT_REJECTS(vc_tenant_spec, vc_tenant_spec_init,
                       VC_TENANT_SPEC_VERSION);
  }
  {
    vc_tenant_filter m = VC_TENANT_FILTER_INIT, f;
    check_tenant_filter_init(&m);
    memset(&f, 0xA5, sizeof(f));
    CHECK_OK(vc_tenant_filter_init(&f, VC_TENANT_FILTER_VERSION));
    check_tenant_filter_init(&f);
    CHECK_INIT_REJECTS(vc_tenant_filter, vc_tenant_filter_init,
                       VC_TENANT_FILTER_VERSION);
  }
  {
    /* The storage vtable: every method NULL, only the version set. */
    vc_storage_ops f, zero;
    memset(&f, 0xA5, sizeof(f));
    memset(&zero, 0, sizeof(zero));
    zero.version = VC_STORAGE_OPS_VERSION;
    CHECK_OK(vc_storage_ops_init(&f, VC_STORAGE_OPS_VERSION));
    CHECK(memcmp(&f, &zero, sizeof(f)) == 0);
    CHECK(f.connect == NULL && f.errmsg == NULL && f.free == NULL);
    CHECK_INIT_REJECTS(vc_storage_ops, vc_storage_ops_init,
                       VC_STORAGE_OPS_VERSION);
  }
  vc_error_clear();
}

/* ------------------------------------------------------------------ */
/* Global initialisation and the allocator                             */

static void global_counting_child(void)
{
  vc_global_options opts = VC_GLOBAL_OPTIONS_INIT;
  vc_allocator a = VC_ALLOCATOR_INIT;

  CHECK(vc_features() & VC_FEATURE_SQLITE);
  CHECK(vc_features() & VC_FEATURE_THREADS);

  /* Nothing to shut down yet. */
  CHECK_RC(vc_global_shutdown(), VC_ESTATE);
  CHECK(vc_error_last()->code == VC_ESTATE);

  /* Bad options are refused before anything is initialised. */
  opts.version = 0;
  CHECK_RC(vc_global_init(&opts), VC_EVERSION);
  opts.version = VC_GLOBAL_OPTIONS_VERSION + 1;
  CHECK_RC(vc_global_init(&opts), VC_EVERSION);
  opts.version = VC_GLOBAL_OPTIONS_VERSION;
  opts.allocator = &a;
  a.version = 0;
  CHECK_RC(vc_global_init(&opts), VC_EVERSION);
  a.version = VC_ALLOCATOR_VERSION; /* no functions */
  CHECK_RC(vc_global_init(&opts), VC_EINVALID);
  CHECK(strstr(vc_error_last()->message, "allocator") != NULL);
  CHECK_RC(vc_global_shutdown(), VC_ESTATE);

  /* Counting. */
  CHECK_RC(vc_global_init(NULL), 1);
  CHECK_RC(vc_global_init(NULL), 2);
  opts.allocator = NULL;
  CHECK_RC(vc_global_init(&opts), VC_EBUSY);
  CHECK(strstr(vc_error_last()->message, "first") != NULL);
  CHECK_RC(vc_global_init(NULL), 3);
  CHECK_RC(vc_global_shutdown(), 2);
  CHECK_RC(vc_global_shutdown(), 1);
  CHECK_RC(vc_global_shutdown(), 0);
  CHECK_RC(vc_global_shutdown(), VC_ESTATE);

  /* After a full shutdown, options are accepted again. */
  CHECK_RC(vc_global_init(&opts), 1);
  CHECK_RC(vc_global_shutdown(), 0);
}

static void test_core__global_init_counting(void)
{
  CHECK(run_in_child(global_counting_child) == 0);
}

static atomic_long g_mallocs, g_reallocs, g_frees, g_live;
static int g_opaque_token;

static void *count_malloc(size_t n, void *opaque)
{
  if (opaque != &g_opaque_token)
    abort();
  atomic_fetch_add(&g_mallocs, 1);
  atomic_fetch_add(&g_live, 1);
  return malloc(n);
}

static void *count_realloc(void *p, size_t n, void *opaque)
{
  if (opaque != &g_opaque_token)
    abort();
  atomic_fetch_add(&g_reallocs, 1);
  if (p == NULL)
    atomic_fetch_add(&g_live, 1);
  return realloc(p, n);
}

static void count_free(void *p, void *opaque)
{
  if (opaque != &g_opaque_token)
    abort();
  if (p != NULL) {
    atomic_fetch_add(&g_frees, 1);
    atomic_fetch_sub(&g_live, 1);
  }
  free(p);
}

static void allocator_child(void)
{
  vc_allocator a = VC_ALLOCATOR_INIT;
  vc_global_options opts = VC_GLOBAL_OPTIONS_INIT;
  vc_buf b = VC_BUF_INIT;
  vc_store *store = NULL;
  vc_ctx *ctx = NULL;
  vc_ctx_options co = VC_CTX_OPTIONS_INIT;
  vc_tenant_spec spec = VC_TENANT_SPEC_INIT;
  vc_tenant *t = NULL;
  void *p;
  long before;

  a.malloc = count_malloc;
  a.realloc = count_realloc;
  a.free = count_free;
  a.opaque = &g_opaque_token;
  opts.allocator = &a;
  CHECK_RC(vc_global_init(&opts), 1);
  /* The allocator was copied: changing ours must not matter. */
  a.malloc = NULL;

  p = vc_alloc(100);
  CHECK(p != NULL);
  CHECK(atomic_load(&g_mallocs) == 1);
  vc_free(p);
  CHECK(atomic_load(&g_frees) == 1);
  vc_free(NULL); /* not passed to the host's free */
  CHECK(atomic_load(&g_frees) == 1);

  CHECK_OK(vc__buf_printf(&b, "%0*d", 1000, 7));
  CHECK(b.size == 1000);
  CHECK(atomic_load(&g_reallocs) >= 1);
  vc_buf_dispose(&b);
  CHECK(atomic_load(&g_live) == 0);

  /* A whole context goes through the allocator, and gives it all back. */
  before = atomic_load(&g_mallocs) + atomic_load(&g_reallocs);
  CHECK_OK(vc_store_open_sqlite(&store, ":memory:", NULL));
  co.store = store;
  CHECK_OK(vc_ctx_new(&ctx, &co));
  spec.slug = "acme";
  CHECK_OK(vc_tenant_new(&t, ctx, &spec));
  CHECK_STR(vc_tenant_slug(t), "acme");
  vc_tenant_free(t);
  vc_ctx_free(ctx);
  CHECK(atomic_load(&g_mallocs) + atomic_load(&g_reallocs) > before + 5);
  CHECK(atomic_load(&g_live) == 0);

  CHECK_RC(vc_global_shutdown(), 0);
  /* Back to the C library's allocator. */
  before = atomic_load(&g_mallocs);
  p = vc_alloc(10);
  CHECK(p != NULL);
  vc_free(p);
  CHECK(atomic_load(&g_mallocs) == before);
}

static void test_core__custom_allocator(void)
{
  CHECK(run_in_child(allocator_child) == 0);
}

/* ------------------------------------------------------------------ */
/* ULIDs                                                               */

static const char CROCKFORD[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

static void check_ulid_shape(const char *id)
{
  CHECK(strlen(id) == 26);
  CHECK(strspn(id, CROCKFORD) == 26);
  CHECK(id[0] >= '0' && id[0] <= '7');
  CHECK(vc__ulid_valid(id));
}

static void test_core__ulid_shape(void)
{
  vc__rng rng;
  vc__ulid_gen g;
  char id[27];

  vc__rng_init(&rng, 0); /* the OS's randomness */
  vc__ulid_gen_init(&g, &rng);
  for (int i = 0; i < 1000; i++) {
    CHECK_OK(vc__ulid_next(&g, 1700000000000 + i / 10, id));
    check_ulid_shape(id);
  }
  vc__ulid_gen_fini(&g);
  vc__rng_fini(&rng);

  CHECK(vc__ulid_valid("01ARZ3NDEKTSV4RRFFQ69G5FAV"));
  CHECK(vc__ulid_valid("7ZZZZZZZZZZZZZZZZZZZZZZZZZ"));
  CHECK(vc__ulid_valid("00000000000000000000000000"));
  CHECK(!vc__ulid_valid(NULL));
  CHECK(!vc__ulid_valid(""));
  CHECK(!vc__ulid_valid("01ARZ3NDEKTSV4RRFFQ69G5FA"));   /* 25 */
  CHECK(!vc__ulid_valid("01ARZ3NDEKTSV4RRFFQ69G5FAVX")); /* 27 */
  CHECK(!vc__ulid_valid("8ZZZZZZZZZZZZZZZZZZZZZZZZZ")); /* > 128 bits */
  CHECK(!vc__ulid_valid("01arz3ndektsv4rrffq69g5fav")); /* lower case */
  CHECK(!vc__ulid_valid("01ARZ3NDEKTSV4RRFFQ69G5FAI")); /* I */
  CHECK(!vc__ulid_valid("01ARZ3NDEKTSV4RRFFQ69G5FAL")); /* L */
  CHECK(!vc__ulid_valid("01ARZ3NDEKTSV4RRFFQ69G5FAO")); /* O */
  CHECK(!vc__ulid_valid("01ARZ3NDEKTSV4RRFFQ69G5FAU")); /* U */
  CHECK(!vc__ulid_valid("01ARZ3NDEKTSV4RRFFQ69G5FA-"));
  CHECK(!vc__ulid_valid("01ARZ3NDEKTSV4RRFFQ69G5F V"));
  {
    char with_nul[27];
    memcpy(with_nul, "01ARZ3NDEKTSV4RRFFQ69G5FAV", 27);
    with_nul[5] = '\0';
    CHECK(!vc__ulid_valid(with_nul));
  }
  CHECK(vc__ulid_time("not an id") == -1);
}

#define N_IDS 100000

/* Ids from one generator increase strictly under a given clock. */
static void check_monotonic(uint64_t seed, int64_t (*clock_at)(int i))
{
  vc__rng rng;
  vc__ulid_gen g;
  char prev[27], id[27];
  int64_t max_ms = -1;

  vc__rng_init(&rng, seed);
  vc__ulid_gen_init(&g, &rng);
  prev[0] = '\0';
  for (int i = 0; i < N_IDS; i++) {
    int64_t now = clock_at(i);
    if (now > max_ms)
      max_ms = now;
    CHECK_OK(vc__ulid_next(&g, now, id));
    if (i % 997 == 0)
      check_ulid_shape(id);
    CHECK(strcmp(id, prev) > 0);
    /* The encoded time never goes back, and is never ahead of the
     * latest clock reading. */
    CHECK(vc__ulid_time(id) >= vc__ulid_time(prev[0] ? prev : id));
    CHECK(vc__ulid_time(id) <= max_ms);
    memcpy(prev, id, sizeof(id));
  }
  vc__ulid_gen_fini(&g);
  vc__rng_fini(&rng);
}

static int64_t clock_still(int i)
{
  (void)i;
  return 1700000000000;
}

static int64_t clock_backwards(int i)
{
  return 1700000000000 - i;
}

static int64_t clock_jumpy(int i)
{
  /* Forward, then back by 5 s every 1000 ids, then forward again. */
  return 1700000000000 + (i % 1000) - (i % 3000 >= 2000 ? 5000 : 0);
}

static int64_t clock_ticking(int i)
{
  return 1700000000000 + i / 7;
}

static void test_core__ulid_monotonic(void)
{
  check_monotonic(1, clock_still);
  check_monotonic(0, clock_still); /* OS randomness */
  check_monotonic(2, clock_backwards);
  check_monotonic(3, clock_jumpy);
  check_monotonic(4, clock_ticking);

  /* A clock that stands still keeps the time it had. */
  {
    vc__rng rng;
    vc__ulid_gen g;
    char id[27];
    vc__rng_init(&rng, 9);
    vc__ulid_gen_init(&g, &rng);
    CHECK_OK(vc__ulid_next(&g, 5000, id));
    CHECK(vc__ulid_time(id) == 5000);
    CHECK_OK(vc__ulid_next(&g, 4000, id));
    CHECK(vc__ulid_time(id) == 5000);
    CHECK_OK(vc__ulid_next(&g, 6000, id));
    CHECK(vc__ulid_time(id) == 6000);
    /* A negative time is clamped to 0 but stays monotonic. */
    CHECK_OK(vc__ulid_next(&g, -1, id));
    CHECK(vc__ulid_time(id) == 6000);
    vc__ulid_gen_fini(&g);
    vc__rng_fini(&rng);
  }
}

static int cmp_id(const void *a, const void *b)
{
  return strcmp((const char *)a, (const char *)b);
}

/* The OS bytes an unseeded generator reads ahead are not given out
 * twice: not after a fork either, where parent and child would
 * otherwise make the same ids in the same millisecond. */
static void test_core__rng_pool_not_shared_across_fork(void)
{
  vc__rng rng;
  uint8_t a[16], b[16], in_child[16];
  int fds[2], status;
  pid_t pid;

  vc__rng_init(&rng, 0);
  CHECK_OK(vc__rng_bytes(&rng, a, sizeof(a)));
  CHECK_OK(vc__rng_bytes(&rng, b, sizeof(b)));
  CHECK(memcmp(a, b, sizeof(a)) != 0);
  CHECK(pipe(fds) == 0);
  pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) {
    uint8_t c[16];
    ssize_t n = -1;
    close(fds[0]);
    if (vc__rng_bytes(&rng, c, sizeof(c)) == 0)
      n = write(fds[1], c, sizeof(c));
    _exit(n == (ssize_t)sizeof(c) ? 0 : 1);
  }
  close(fds[1]);
  CHECK(read(fds[0], in_child, sizeof(in_child)) ==
        (ssize_t)sizeof(in_child));
  close(fds[0]);
  CHECK(waitpid(pid, &status, 0) == pid);
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  /* The parent's next bytes are not the child's. */
  CHECK_OK(vc__rng_bytes(&rng, a, sizeof(a)));
  CHECK(memcmp(a, in_child, sizeof(a)) != 0);
  CHECK(memcmp(b, in_child, sizeof(b)) != 0);
  vc__rng_fini(&rng);
}

static void test_core__ulid_unique_two_generators(void)
{
  enum { N = 50000 };
  char (*ids)[27] = calloc(2 * N, 27);
  vc__rng r1, r2;
  vc__ulid_gen g1, g2;

  CHECK(ids != NULL);
  vc__rng_init(&r1, 11);
  vc__rng_init(&r2, 12);
  vc__ulid_gen_init(&g1, &r1);
  vc__ulid_gen_init(&g2, &r2);
  /* Two "hosts" minting ids in the very same milliseconds. */
  for (int i = 0; i < N; i++) {
    int64_t now = 1700000000000 + i / 100;
    if (vc__ulid_next(&g1, now, ids[2 * i]) != 0 ||
        vc__ulid_next(&g2, now, ids[2 * i + 1]) != 0) {
      free(ids);
      CHECK(0);
    }
  }
  vc__ulid_gen_fini(&g1);
  vc__ulid_gen_fini(&g2);
  vc__rng_fini(&r1);
  vc__rng_fini(&r2);
  qsort(ids, 2 * N, 27, cmp_id);
  for (int i = 1; i < 2 * N; i++) {
    if (strcmp(ids[i - 1], ids[i]) == 0) {
      fprintf(stderr, "  duplicate id %s\n", ids[i]);
      free(ids);
      CHECK(0);
    }
  }
  free(ids);
}

static void test_core__ulid_time_roundtrip(void)
{
  static const int64_t times[] = {
    0, 1, 31, 32, 1000, 1469918176385, 1700000000000, 4102444800000,
    ((int64_t)1 << 47), ((int64_t)1 << 48) - 1,
  };
  vc__rng rng;
  vc__ulid_gen g;
  char id[27];

  vc__rng_init(&rng, 77);
  for (size_t i = 0; i < VC_ARRAY_SIZE(times); i++) {
    vc__ulid_gen_init(&g, &rng); /* a fresh generator: no carry-over */
    CHECK_OK(vc__ulid_next(&g, times[i], id));
    check_ulid_shape(id);
    CHECK(vc__ulid_time(id) == times[i]);
    vc__ulid_gen_fini(&g);
  }
  vc__rng_fini(&rng);

  /* The reference implementation's example: ulid(1469918176385) is
   * 01ARYZ6S41TSV4RRFFQ69G5FAV. */
  CHECK(vc__ulid_time("01ARYZ6S41TSV4RRFFQ69G5FAV") == 1469918176385);
  CHECK(vc__ulid_time("01ARZ3NDEKTSV4RRFFQ69G5FAV") == 1469922850259);
  CHECK(vc__ulid_time("00000000000000000000000000") == 0);
  CHECK(vc__ulid_time("7ZZZZZZZZZZZZZZZZZZZZZZZZZ") ==
        ((int64_t)1 << 48) - 1);
  /* Time-major: a later millisecond sorts after any earlier id. */
  {
    char a[27], b[27];
    vc__rng_init(&rng, 5);
    vc__ulid_gen_init(&g, &rng);
    CHECK_OK(vc__ulid_next(&g, 1000, a));
    vc__ulid_gen_fini(&g);
    vc__ulid_gen_init(&g, &rng);
    CHECK_OK(vc__ulid_next(&g, 1001, b));
    vc__ulid_gen_fini(&g);
    vc__rng_fini(&rng);
    CHECK(strcmp(a, b) < 0);
    CHECK(memcmp(a, b, 10) < 0);
  }
}

static void gen_ids(uint64_t seed, char out[][27], int n)
{
  vc__rng rng;
  vc__ulid_gen g;

  vc__rng_init(&rng, seed);
  vc__ulid_gen_init(&g, &rng);
  for (int i = 0; i < n; i++)
    vc__ulid_next(&g, 1700000000000 + i / 3, out[i]);
  vc__ulid_gen_fini(&g);
  vc__rng_fini(&rng);
}

static void test_core__ulid_seeded_reproducible(void)
{
  char a[64][27], b[64][27], c[64][27];
  int same = 0;

  gen_ids(42, a, 64);
  gen_ids(42, b, 64);
  gen_ids(43, c, 64);
  for (int i = 0; i < 64; i++) {
    CHECK_STR(a[i], b[i]);
    same += strcmp(a[i], c[i]) == 0;
  }
  CHECK(same == 0);

  /* The seeded generator itself: same seed, same bytes. */
  {
    vc__rng r1, r2;
    uint8_t x[100], y[100];
    vc__rng_init(&r1, 1234);
    vc__rng_init(&r2, 1234);
    CHECK_OK(vc__rng_bytes(&r1, x, sizeof(x)));
    CHECK_OK(vc__rng_bytes(&r2, y, sizeof(y)));
    CHECK(memcmp(x, y, sizeof(x)) == 0);
    for (int i = 0; i < 1000; i++)
      CHECK(vc__rng_below(&r1, 7) < 7);
    vc__rng_fini(&r1);
    vc__rng_fini(&r2);
  }
}

/* ------------------------------------------------------------------ */
/* UTF-8 and token checks                                              */

#define V(lit) vc__utf8_valid((lit), sizeof(lit) - 1)

static void test_core__utf8(void)
{
  /* Valid. */
  CHECK(vc__utf8_valid("", 0));
  CHECK(vc__utf8_valid(NULL, 0));
  CHECK(V("plain ascii ~\x7f"));
  CHECK(V("caf\xc3\xa9"));                     /* é U+00E9 */
  CHECK(V("\xc2\x80"));                        /* U+0080, smallest 2-byte */
  CHECK(V("\xdf\xbf"));                        /* U+07FF */
  CHECK(V("\xe0\xa0\x80"));                    /* U+0800, smallest 3-byte */
  CHECK(V("\xe2\x82\xac"));                    /* € */
  CHECK(V("\xe0\xa4\xb5\xe0\xa5\x8d\xe0\xa4\xaf\xe0\xa5\x8b\xe0\xa4\xae"));
  CHECK(V("\xed\x9f\xbf"));                    /* U+D7FF, below surrogates */
  CHECK(V("\xee\x80\x80"));                    /* U+E000, above them */
  CHECK(V("\xef\xbf\xbf"));                    /* U+FFFF */
  CHECK(V("\xf0\x90\x80\x80"));                /* U+10000 */
  CHECK(V("\xf0\x9d\x84\x9e"));                /* 𝄞 */
  CHECK(V("\xf0\x9f\x98\x80"));                /* 😀 */
  CHECK(V("\xf4\x8f\xbf\xbf"));                /* U+10FFFF */
  CHECK(V("a\0b"));                            /* NUL is a code point */

  /* Overlong encodings. */
  CHECK(!V("\xc0\x80"));
  CHECK(!V("\xc0\xaf"));
  CHECK(!V("\xc1\xbf"));
  CHECK(!V("\xe0\x80\x80"));
  CHECK(!V("\xe0\x9f\xbf"));
  CHECK(!V("\xf0\x80\x80\x80"));
  CHECK(!V("\xf0\x8f\xbf\xbf"));
  /* Surrogates. */
  CHECK(!V("\xed\xa0\x80"));                   /* U+D800 */
  CHECK(!V("\xed\xaf\xbf"));
  CHECK(!V("\xed\xb0\x80"));
  CHECK(!V("\xed\xbf\xbf"));                   /* U+DFFF */
  CHECK(!V("\xed\xa0\xbd\xed\xb8\x80"));       /* CESU-8 pair */
  /* Beyond U+10FFFF, and bytes that never appear. */
  CHECK(!V("\xf4\x90\x80\x80"));               /* U+110000 */
  CHECK(!V("\xf7\xbf\xbf\xbf"));
  CHECK(!V("\xf5\x80\x80\x80"));
  CHECK(!V("\xf8\x88\x80\x80\x80"));
  CHECK(!V("\xfc\x84\x80\x80\x80\x80"));
  CHECK(!V("\xfe"));
  CHECK(!V("\xff"));
  /* Truncated sequences and stray continuation bytes. */
  CHECK(!V("\xc3"));
  CHECK(!V("\xe2\x82"));
  CHECK(!V("\xf0\x9d\x84"));
  CHECK(!V("abc\xe2\x82"));
  CHECK(!V("a\xc3" "b"));
  CHECK(!V("\xe2\x82" "a"));
  CHECK(!V("\x80"));
  CHECK(!V("\xbf"));
  CHECK(!V("a\x80" "b"));
  CHECK(!V("\xc3\xa9\xa9"));
  /* The length is honoured: a sequence cut by `n` is invalid. */
  CHECK(!vc__utf8_valid("\xc3\xa9", 1));
  CHECK(vc__utf8_valid("\xc3\xa9", 2));
  CHECK(!vc__utf8_valid("\xf0\x9f\x98\x80", 3));
}

static void test_core__check_text(void)
{
  const vc_error *e;

  CHECK_RC(vc__check_text("name", NULL, 10, 1), VC_EINVALID);
  e = vc_error_last();
  CHECK(e->klass == VC_ERRCLASS_INVALID);
  CHECK_STR(e->message, "name is required");
  CHECK_RC(vc__check_text("name", "", 10, 1), VC_EINVALID);
  CHECK_STR(vc_error_last()->message, "name is required");
  CHECK_OK(vc__check_text("name", NULL, 10, 0));
  CHECK_OK(vc__check_text("name", "", 10, 0));
  CHECK_OK(vc__check_text("name", "12345", 5, 1));
  CHECK_RC(vc__check_text("name", "123456", 5, 1), VC_ETOOBIG);
  CHECK_STR(vc_error_last()->message, "name is longer than 5 bytes");
  CHECK(vc_error_last()->klass == VC_ERRCLASS_INVALID);
  /* Bytes, not characters: "é" is two. */
  CHECK_OK(vc__check_text("name", "\xc3\xa9", 2, 1));
  CHECK_RC(vc__check_text("name", "a\xc3\xa9", 2, 1), VC_ETOOBIG);
  CHECK_RC(vc__check_text("display name", "ab\xff", 10, 0), VC_EENCODING);
  CHECK_STR(vc_error_last()->message, "display name is not valid UTF-8");
  CHECK_RC(vc__check_text("n", "\xed\xa0\x80", 10, 1), VC_EENCODING);
  CHECK_RC(vc__check_text("n", "\xc0\x80", 10, 1), VC_EENCODING);
  CHECK(!has_newline(vc_error_last()->message));
  /* A long string is not scanned past max + 1 bytes. */
  {
    char big[5000];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    CHECK_RC(vc__check_text("body", big, 4096, 1), VC_ETOOBIG);
    CHECK_OK(vc__check_text("body", big, 4999, 1));
  }
  vc_error_clear();
}

static void test_core__check_token(void)
{
  const char *first = "a-z0-9", *allowed = "a-z0-9_-";

  CHECK_OK(vc__check_token("slug", "acme", 63, first, allowed));
  CHECK_OK(vc__check_token("slug", "a-b_c-9", 63, first, allowed));
  CHECK_OK(vc__check_token("slug", "9", 63, first, allowed));
  CHECK_RC(vc__check_token("slug", NULL, 63, first, allowed), VC_EINVALID);
  CHECK_STR(vc_error_last()->message, "slug is required");
  CHECK_RC(vc__check_token("slug", "", 63, first, allowed), VC_EINVALID);
  CHECK_STR(vc_error_last()->message, "slug is required");
  CHECK_RC(vc__check_token("slug", "abcdef", 5, first, allowed),
           VC_ETOOBIG);
  CHECK_STR(vc_error_last()->message, "slug is longer than 5 bytes");
  CHECK_OK(vc__check_token("slug", "abcde", 5, first, allowed));
  CHECK_RC(vc__check_token("slug", "-abc", 63, first, allowed),
           VC_EINVALID);
  CHECK_STR(vc_error_last()->message, "slug has an invalid first character");
  CHECK_RC(vc__check_token("slug", "_abc", 63, first, allowed),
           VC_EINVALID);
  CHECK_RC(vc__check_token("slug", "abC", 63, first, allowed), VC_EINVALID);
  CHECK_STR(vc_error_last()->message,
            "slug has an invalid character at byte 2");
  CHECK_RC(vc__check_token("slug", "ab c", 63, first, allowed),
           VC_EINVALID);
  CHECK_STR(vc_error_last()->message,
            "slug has an invalid character at byte 2");
  CHECK_RC(vc__check_token("slug", "ab\xc3\xa9", 63, first, allowed),
           VC_EINVALID);
  CHECK_STR(vc_error_last()->message,
            "slug has an invalid character at byte 2");
  CHECK(vc_error_last()->klass == VC_ERRCLASS_INVALID);
  /* No first-character set: any allowed byte may lead. */
  CHECK_OK(vc__check_token("name", "_x", 10, NULL, "a-z_"));
  /* Ranges at the edges of the set and literal dashes. */
  CHECK_OK(vc__check_token("tz", "America/New_York", 64, "A-Za-z",
                           "A-Za-z0-9_/+-"));
  CHECK_OK(vc__check_token("tz", "Etc/GMT+5", 64, "A-Za-z",
                           "A-Za-z0-9_/+-"));
  CHECK_OK(vc__check_token("t", "a-", 10, NULL, "a-"));
  CHECK_RC(vc__check_token("t", "b", 10, NULL, "a-"), VC_EINVALID);
  CHECK_OK(vc__check_token("t", "z", 10, NULL, "x-z"));
  CHECK_RC(vc__check_token("t", "w", 10, NULL, "x-z"), VC_EINVALID);
  vc_error_clear();
}

/* ------------------------------------------------------------------ */
/* vc_buf                                                              */

static void test_core__buf(void)
{
  vc_buf b = VC_BUF_INIT;
  char expect[64];

  /* Disposing an empty buffer, twice, and NULL, is harmless. */
  vc_buf_dispose(&b);
  vc_buf_dispose(&b);
  vc_buf_dispose(NULL);
  vc__buf_wipe(NULL);
  CHECK(b.ptr == NULL && b.size == 0 && b.reserved == 0);

  CHECK_OK(vc__buf_grow(&b, 0));
  CHECK(b.ptr != NULL && b.reserved >= 1 && b.ptr[0] == '\0');
  CHECK_OK(vc__buf_puts(&b, "hello"));
  CHECK(b.size == 5);
  CHECK_STR(b.ptr, "hello");
  CHECK_OK(vc__buf_put(&b, ", ", 2));
  CHECK_OK(vc__buf_printf(&b, "%s %d/%u", "world", -3, 7u));
  CHECK_STR(b.ptr, "hello, world -3/7");
  CHECK(b.size == strlen("hello, world -3/7"));
  CHECK_OK(vc__buf_put(&b, NULL, 0));
  CHECK(b.size == strlen("hello, world -3/7"));

  /* Growth keeps every byte and the NUL. */
  for (int i = 0; i < 20000; i++) {
    snprintf(expect, sizeof(expect), "%05d;", i);
    CHECK_OK(vc__buf_puts(&b, expect));
  }
  CHECK(b.size == strlen("hello, world -3/7") + 20000 * 6);
  CHECK(b.reserved > b.size);
  CHECK(b.ptr[b.size] == '\0');
  CHECK(memcmp(b.ptr + b.size - 6, "19999;", 6) == 0);
  CHECK(memcmp(b.ptr + strlen("hello, world -3/7"), "00000;00001;", 12) ==
        0);

  /* A big formatted append. */
  {
    size_t before = b.size;
    CHECK_OK(vc__buf_printf(&b, "%*s|", 10000, "x"));
    CHECK(b.size == before + 10001);
    CHECK(b.ptr[b.size - 1] == '|' && b.ptr[b.size - 2] == 'x');
    CHECK(b.ptr[b.size] == '\0');
  }
  /* Binary data, including NULs. */
  {
    size_t before = b.size;
    CHECK_OK(vc__buf_put(&b, "\0\1\0", 3));
    CHECK(b.size == before + 3);
    CHECK(memcmp(b.ptr + before, "\0\1\0", 3) == 0);
  }
  vc_buf_dispose(&b);
  CHECK(b.ptr == NULL && b.size == 0 && b.reserved == 0);

  /* A buffer pointing at borrowed memory is copied in on growth. */
  {
    char borrowed[] = "borrowed";
    vc_buf c = { borrowed, 0, 8 };
    CHECK_OK(vc__buf_puts(&c, "+more"));
    CHECK(c.ptr != borrowed);
    CHECK_STR(c.ptr, "borrowed+more");
    CHECK_STR(borrowed, "borrowed");
    vc__buf_wipe(&c);
    CHECK(c.ptr == NULL && c.size == 0 && c.reserved == 0);
  }

  /* An impossible size fails cleanly with VC_ENOMEM. */
  {
    vc_buf d = VC_BUF_INIT;
    CHECK_OK(vc__buf_puts(&d, "abc"));
    CHECK_RC(vc__buf_grow(&d, SIZE_MAX - 2), VC_ENOMEM);
    CHECK(vc_error_last()->code == VC_ENOMEM);
    CHECK_STR(d.ptr, "abc");
    vc_buf_dispose(&d);
  }
  vc_error_clear();
}

/* ------------------------------------------------------------------ */
/* Crypto                                                              */

static void fill_key(uint8_t key[VC__KEY_SIZE], uint8_t start)
{
  for (int i = 0; i < VC__KEY_SIZE; i++)
    key[i] = (uint8_t)(start + i);
}

static void seal_roundtrip(size_t len)
{
  uint8_t key[VC__KEY_SIZE];
  uint8_t *pt = malloc(len ? len : 1);
  vc_buf blob = VC_BUF_INIT, blob2 = VC_BUF_INIT, out = VC_BUF_INIT;
  static const char aad[] = "tenant\0table\0column\0row";
  uint32_t kv = 0;

  CHECK(pt != NULL);
  fill_key(key, 1);
  for (size_t i = 0; i < len; i++)
    pt[i] = (uint8_t)(i * 31 + 7);
  CHECK_OK(vc__seal(&blob, key, 0xA1B2C3D4u, aad, sizeof(aad), pt, len));
  CHECK(blob.size == len + VC__SEAL_OVERHEAD);
  CHECK((uint8_t)blob.ptr[0] == 0x01);
  CHECK_OK(vc__sealed_key_version(&kv, blob.ptr, blob.size));
  CHECK(kv == 0xA1B2C3D4u);
  /* The ciphertext is not the plaintext. */
  if (len >= 16)
    CHECK(memcmp(blob.ptr + 17, pt, 16) != 0);

  CHECK_OK(vc__open(&out, key, aad, sizeof(aad), blob.ptr, blob.size));
  CHECK(out.size == len);
  CHECK(len == 0 || memcmp(out.ptr, pt, len) == 0);
  CHECK(out.ptr == NULL || out.ptr[out.size] == '\0');

  /* A fresh nonce each time: sealing twice gives different blobs. */
  CHECK_OK(vc__seal(&blob2, key, 0xA1B2C3D4u, aad, sizeof(aad), pt, len));
  CHECK(blob2.size == blob.size);
  CHECK(memcmp(blob.ptr + 5, blob2.ptr + 5, 12) != 0);

  vc_buf_dispose(&blob);
  vc_buf_dispose(&blob2);
  vc_buf_dispose(&out);
  free(pt);
}

static void test_core__seal_roundtrip(void)
{
  seal_roundtrip(0);
  seal_roundtrip(1);
  seal_roundtrip(16);
  seal_roundtrip(65536);

  /* vc__seal and vc__open append to what the buffer holds. */
  {
    uint8_t key[VC__KEY_SIZE];
    vc_buf blob = VC_BUF_INIT, out = VC_BUF_INIT;
    fill_key(key, 9);
    CHECK_OK(vc__buf_puts(&blob, "prefix"));
    CHECK_OK(vc__seal(&blob, key, 7, NULL, 0, "secret", 6));
    CHECK(blob.size == 6 + 6 + VC__SEAL_OVERHEAD);
    CHECK(memcmp(blob.ptr, "prefix", 6) == 0);
    CHECK_OK(vc__buf_puts(&out, "got:"));
    CHECK_OK(vc__open(&out, key, NULL, 0, blob.ptr + 6, blob.size - 6));
    CHECK_STR(out.ptr, "got:secret");
    vc_buf_dispose(&blob);
    vc_buf_dispose(&out);
  }
}

static void test_core__seal_wrong_key_or_aad(void)
{
  uint8_t key[VC__KEY_SIZE], other[VC__KEY_SIZE];
  vc_buf blob = VC_BUF_INIT, out = VC_BUF_INIT;
  static const char aad[] = "t1\0vc_secret\0value\0row1";
  static const char aad_other_row[] = "t1\0vc_secret\0value\0row2";
  static const char aad_other_tenant[] = "t2\0vc_secret\0value\0row1";

  fill_key(key, 1);
  memcpy(other, key, sizeof(other));
  other[31] ^= 0x01; /* one bit away */
  CHECK_OK(vc__seal(&blob, key, 1, aad, sizeof(aad), "credential", 10));

  CHECK_RC(vc__open(&out, other, aad, sizeof(aad), blob.ptr, blob.size),
           VC_ECRYPTO);
  CHECK(vc_error_last()->klass == VC_ERRCLASS_CRYPTO);
  CHECK(vc_error_last()->code == VC_ECRYPTO);
  CHECK(strstr(vc_error_last()->message, "does not authenticate") != NULL);
  /* No garbage is handed back. */
  CHECK(out.size == 0);
  CHECK(out.ptr == NULL || out.ptr[0] == '\0');

  CHECK_RC(vc__open(&out, key, aad_other_row, sizeof(aad_other_row),
                    blob.ptr, blob.size), VC_ECRYPTO);
  CHECK_RC(vc__open(&out, key, aad_other_tenant, sizeof(aad_other_tenant),
                    blob.ptr, blob.size), VC_ECRYPTO);
  CHECK_RC(vc__open(&out, key, aad, sizeof(aad) - 1, blob.ptr, blob.size),
           VC_ECRYPTO);
  CHECK_RC(vc__open(&out, key, NULL, 0, blob.ptr, blob.size), VC_ECRYPTO);
  CHECK(out.size == 0);

  CHECK_OK(vc__open(&out, key, aad, sizeof(aad), blob.ptr, blob.size));
  CHECK(out.size == 10 && memcmp(out.ptr, "credential", 10) == 0);
  vc_buf_dispose(&blob);
  vc_buf_dispose(&out);
  vc_error_clear();
}

static void test_core__seal_tamper(void)
{
  uint8_t key[VC__KEY_SIZE];
  vc_buf blob = VC_BUF_INIT, out = VC_BUF_INIT;
  static const char aad[] = "site";
  const char pt[] = "0123456789abcdef0123456789abcdef"; /* 32 bytes */
  uint8_t *copy;
  uint32_t kv;

  fill_key(key, 3);
  CHECK_OK(vc__seal(&blob, key, 5, aad, sizeof(aad), pt, 32));
  CHECK(blob.size == 32 + VC__SEAL_OVERHEAD);
  copy = malloc(blob.size);
  CHECK(copy != NULL);

  /* Every single-bit flip anywhere (format byte, key version, nonce,
   * ciphertext, tag) is detected. */
  for (size_t i = 0; i < blob.size; i++) {
    for (int bit = 0; bit < 8; bit++) {
      int rc;
      memcpy(copy, blob.ptr, blob.size);
      copy[i] ^= (uint8_t)(1u << bit);
      rc = vc__open(&out, key, aad, sizeof(aad), copy, blob.size);
      if (rc != VC_ECRYPTO || out.size != 0) {
        fprintf(stderr, "  flip of byte %zu bit %d: rc %d\n", i, bit, rc);
        free(copy);
        CHECK(0);
      }
    }
  }

  /* Truncated blobs, down to nothing. */
  for (size_t n = 0; n < blob.size; n++) {
    if (vc__open(&out, key, aad, sizeof(aad), blob.ptr, n) != VC_ECRYPTO) {
      fprintf(stderr, "  truncation to %zu bytes accepted\n", n);
      free(copy);
      CHECK(0);
    }
  }
  CHECK_RC(vc__open(&out, key, aad, sizeof(aad), NULL, 0), VC_ECRYPTO);
  /* An extra byte at the end. */
  {
    uint8_t *longer = malloc(blob.size + 1);
    CHECK(longer != NULL);
    memcpy(longer, blob.ptr, blob.size);
    longer[blob.size] = 0;
    CHECK(vc__open(&out, key, aad, sizeof(aad), longer, blob.size + 1) ==
          VC_ECRYPTO);
    free(longer);
  }
  /* The key version is read from the header and is bound to it. */
  CHECK_OK(vc__sealed_key_version(&kv, blob.ptr, blob.size));
  CHECK(kv == 5);
  CHECK_RC(vc__sealed_key_version(&kv, blob.ptr, VC__SEAL_OVERHEAD - 1),
           VC_ECRYPTO);
  CHECK_RC(vc__sealed_key_version(&kv, NULL, 0), VC_ECRYPTO);
  memcpy(copy, blob.ptr, blob.size);
  copy[0] = 0x02; /* unknown format */
  CHECK_RC(vc__sealed_key_version(&kv, copy, blob.size), VC_ECRYPTO);
  CHECK(strstr(vc_error_last()->message, "malformed") != NULL);

  CHECK(out.size == 0);
  CHECK_OK(vc__open(&out, key, aad, sizeof(aad), blob.ptr, blob.size));
  CHECK(out.size == 32 && memcmp(out.ptr, pt, 32) == 0);
  free(copy);
  vc_buf_dispose(&blob);
  vc_buf_dispose(&out);
  vc_error_clear();
}

static void check_hex(const uint8_t *got, const char *hex)
{
  char buf[2 * VC__KEY_SIZE + 1];

  for (int i = 0; i < VC__KEY_SIZE; i++)
    snprintf(buf + 2 * i, 3, "%02x", got[i]);
  CHECK_STR(buf, hex);
}

static void test_core__pbkdf2_rfc7914(void)
{
  uint8_t out[VC__KEY_SIZE];

  /* RFC 7914 section 11: PBKDF2-HMAC-SHA256 test vectors (dkLen 64;
   * the first 32 bytes are the first block, whatever dkLen is). */
  CHECK_OK(vc__pbkdf2_sha256(out, "passwd", 6, (const uint8_t *)"salt", 4,
                             1));
  check_hex(out, "55ac046e56e3089fec1691c22544b605"
                 "f94185216dde0465e68b9d57c20dacbc");
  CHECK_OK(vc__pbkdf2_sha256(out, "Password", 8, (const uint8_t *)"NaCl", 4,
                             80000));
  check_hex(out, "4ddcd8f60b98be21830cee5ef22701f9"
                 "641a4418d04c0414aeff08876b34ab56");
  /* Different salt or password, different key. */
  {
    uint8_t other[VC__KEY_SIZE];
    CHECK_OK(vc__pbkdf2_sha256(other, "Password", 8,
                               (const uint8_t *)"NaCL", 4, 1));
    CHECK(memcmp(other, out, sizeof(out)) != 0);
  }
}

static void test_core__ct_equal(void)
{
  uint8_t a[64], b[64];

  for (int i = 0; i < 64; i++)
    a[i] = b[i] = (uint8_t)(i * 7);
  CHECK(vc__ct_equal(a, b, 64) == 1);
  CHECK(vc__ct_equal(a, b, 0) == 1);
  CHECK(vc__ct_equal("x", "y", 0) == 1);
  b[0] ^= 0x80;
  CHECK(vc__ct_equal(a, b, 64) == 0);
  CHECK(vc__ct_equal(a + 1, b + 1, 63) == 1);
  b[0] = a[0];
  b[63] ^= 0x01;
  CHECK(vc__ct_equal(a, b, 64) == 0);
  CHECK(vc__ct_equal(a, b, 63) == 1);
  for (int i = 0; i < 64; i++) {
    memcpy(b, a, sizeof(b));
    b[i] ^= 0x10;
    CHECK(vc__ct_equal(a, b, 64) == 0);
  }
}

VC_TESTS(
  VC_TEST(test_core__error_codes_pinned),
  VC_TEST(test_core__strerror),
  VC_TEST(test_core__error_last_and_clear),
  VC_TEST(test_core__error_message_truncated_one_line),
  VC_TEST(test_core__error_thread_local),
  VC_TEST(test_core__version),
  VC_TEST(test_core__struct_init),
  VC_TEST(test_core__global_init_counting),
  VC_TEST(test_core__custom_allocator),
  VC_TEST(test_core__ulid_shape),
  VC_TEST(test_core__ulid_monotonic),
  VC_TEST(test_core__rng_pool_not_shared_across_fork),
  VC_TEST(test_core__ulid_unique_two_generators),
  VC_TEST(test_core__ulid_time_roundtrip),
  VC_TEST(test_core__ulid_seeded_reproducible),
  VC_TEST(test_core__utf8),
  VC_TEST(test_core__check_text),
  VC_TEST(test_core__check_token),
  VC_TEST(test_core__buf),
  VC_TEST(test_core__seal_roundtrip),
  VC_TEST(test_core__seal_wrong_key_or_aad),
  VC_TEST(test_core__seal_tamper),
  VC_TEST(test_core__pbkdf2_rfc7914),
  VC_TEST(test_core__ct_equal),
)
