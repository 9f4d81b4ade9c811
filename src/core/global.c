/*
 * Counted process-wide initialisation. The only process-global state of a
 * dependency the library touches is curl_global_init(), which libcurl
 * documents as safe to call repeatedly; SQLite, mbedTLS and cJSON hooks
 * stay the host's.
 */
#include "common.h"
#include "global.h"

#include <pthread.h>
#include <curl/curl.h>

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static int g_count;     /* explicit initialisations */
static int g_implicit;  /* 1 once vc_ctx_new() initialised implicitly */
static int g_curl;      /* 1 while we hold a curl_global_init() */

static int first_init(const vc_global_options *opts)
{
  if (opts != NULL && opts->allocator != NULL)
    vc__alloc_set(opts->allocator);
  if (!g_curl) {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
      vc__alloc_set(NULL);
      return vc__error_set(VC_ERRCLASS_NET, VC_ERROR,
                           "curl_global_init failed");
    }
    g_curl = 1;
  }
  return 0;
}

int vc_global_init(const vc_global_options *opts)
{
  int rc;

  VC_CHECK_VERSION(opts, VC_GLOBAL_OPTIONS_VERSION, "vc_global_options");
  if (opts != NULL && opts->allocator != NULL) {
    const vc_allocator *a = opts->allocator;
    VC_CHECK_VERSION(a, VC_ALLOCATOR_VERSION, "vc_allocator");
    if (a->malloc == NULL || a->realloc == NULL || a->free == NULL)
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "allocator needs malloc, realloc and free");
  }
  pthread_mutex_lock(&g_lock);
  if (g_count > 0 || g_implicit) {
    if (opts != NULL) {
      pthread_mutex_unlock(&g_lock);
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EBUSY,
                           "options may only be passed to the first "
                           "vc_global_init");
    }
    rc = ++g_count;
  } else if ((rc = first_init(opts)) == 0) {
    rc = ++g_count;
  }
  pthread_mutex_unlock(&g_lock);
  return rc;
}

int vc_global_shutdown(void)
{
  int rc;

  pthread_mutex_lock(&g_lock);
  if (g_count == 0) {
    pthread_mutex_unlock(&g_lock);
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ESTATE,
                         "vc_global_shutdown without vc_global_init");
  }
  rc = --g_count;
  if (rc == 0 && !g_implicit) {
    curl_global_cleanup();
    g_curl = 0;
    vc__alloc_set(NULL);
  }
  pthread_mutex_unlock(&g_lock);
  return rc;
}

int vc__global_ensure(void)
{
  int rc = 0;

  pthread_mutex_lock(&g_lock);
  if (g_count == 0 && !g_implicit && (rc = first_init(NULL)) == 0)
    g_implicit = 1;
  pthread_mutex_unlock(&g_lock);
  return rc;
}

uint32_t vc_features(void)
{
  return VC_FEATURE_THREADS | VC_FEATURE_SQLITE;
}

int vc_allocator_init(vc_allocator *a, unsigned int version)
{
  VC_INIT_STRUCT(a, version, VC_ALLOCATOR_VERSION, vc_allocator,
                 VC_ALLOCATOR_INIT);
}

int vc_global_options_init(vc_global_options *o, unsigned int version)
{
  VC_INIT_STRUCT(o, version, VC_GLOBAL_OPTIONS_VERSION, vc_global_options,
                 VC_GLOBAL_OPTIONS_INIT);
}
