/*
 * API keys through the public API: the secret is shown once and works,
 * only its salted hash is stored, wrong and malformed secrets fail
 * alike, revocation and expiry, listing, and tenant isolation.
 */
#define _GNU_SOURCE
#include "vyomcomm.h"
#include "harness.h"
#include "tenant_env.h"

#include <sqlite3.h>

static const uint8_t KEY[32] = { 9, 9, 9 };

static void env_open(env *e)
{
  tenant_env_open(e, "k.db", KEY, 7, NULL);
}

static vc_tenant *second_tenant(env *e)
{
  vc_tenant_spec ts = VC_TENANT_SPEC_INIT;
  vc_tenant *b;

  ts.slug = "globex";
  CHECK_OK(vc_tenant_new(&b, e->ctx, &ts));
  return b;
}

/* Whether the store holds `needle` anywhere in vc_apikey. */
static int stored_anywhere(const char *needle)
{
  sqlite3 *db;
  sqlite3_stmt *st;
  int found = 0;

  CHECK(sqlite3_open(vc_test_path("k.db"), &db) == SQLITE_OK);
  CHECK(sqlite3_prepare_v2(db, "SELECT tenant_id || id || label || salt ||"
                           " hash FROM vc_apikey", -1, &st,
                           NULL) == SQLITE_OK);
  while (sqlite3_step(st) == SQLITE_ROW)
    if (strstr((const char *)sqlite3_column_text(st, 0), needle) != NULL)
      found = 1;
  sqlite3_finalize(st);
  sqlite3_close(db);
  return found;
}

static void test_apikey__new_and_verify(void)
{
  vc_apikey_spec s = VC_APIKEY_SPEC_INIT;
  char secret[VC_APIKEY_SECRET_SIZE];
  vc_apikey *k;
  vc_tenant *who;
  env e;

  env_open(&e);
  s.label = "erp-prod";
  CHECK_OK(vc_apikey_new(&k, secret, e.t, &s));
  CHECK(strncmp(secret, "vck_", 4) == 0);
  CHECK(strlen(secret) == 95);
  CHECK(strstr(secret, vc_apikey_id(k)) == secret + 4);
  CHECK_STR(vc_apikey_label(k), "erp-prod");
  CHECK_STR(vc_apikey_tenant_id(k), vc_tenant_id(e.t));
  CHECK(vc_apikey_created_at(k) == VC_TEST_T0);
  CHECK(vc_apikey_revoked_at(k) == 0);
  CHECK(vc_apikey_expires_at(k) == 0);

  CHECK_OK(vc_apikey_verify(&who, e.ctx, secret));
  CHECK_STR(vc_tenant_id(who), vc_tenant_id(e.t));
  vc_tenant_free(who);

  /* Neither the secret nor its random part is stored. */
  CHECK(!stored_anywhere(secret));
  CHECK(!stored_anywhere(secret + 4 + 27));

  /* A second key makes another secret; NULL handle is fine. */
  {
    char other[VC_APIKEY_SECRET_SIZE];

    CHECK_OK(vc_apikey_new(NULL, other, e.t, NULL));
    CHECK(strcmp(other, secret) != 0);
    CHECK_OK(vc_apikey_verify(&who, e.ctx, other));
    vc_tenant_free(who);
  }
  vc_apikey_free(k);
  tenant_env_close(&e);
}

static void test_apikey__wrong_secrets(void)
{
  char secret[VC_APIKEY_SECRET_SIZE], bad[VC_APIKEY_SECRET_SIZE];
  vc_tenant *who = (vc_tenant *)1;
  env e;

  env_open(&e);
  CHECK_OK(vc_apikey_new(NULL, secret, e.t, NULL));
  /* The last digit changed. */
  snprintf(bad, sizeof(bad), "%s", secret);
  bad[94] = bad[94] == '0' ? '1' : '0';
  CHECK_RC(vc_apikey_verify(&who, e.ctx, bad), VC_EAUTH);
  CHECK(who == NULL);
  /* Another id, same random part. */
  snprintf(bad, sizeof(bad), "%s", secret);
  bad[10] = bad[10] == 'A' ? 'B' : 'A';
  CHECK_RC(vc_apikey_verify(&who, e.ctx, bad), VC_EAUTH);
  /* Malformed: empty, short, long, wrong prefix, no separator. */
  CHECK_RC(vc_apikey_verify(&who, e.ctx, ""), VC_EAUTH);
  CHECK_RC(vc_apikey_verify(&who, e.ctx, "vck_"), VC_EAUTH);
  snprintf(bad, sizeof(bad), "%sx", secret);
  CHECK_RC(vc_apikey_verify(&who, e.ctx, bad), VC_EAUTH);
  snprintf(bad, sizeof(bad), "%s", secret);
  bad[0] = 'x';
  CHECK_RC(vc_apikey_verify(&who, e.ctx, bad), VC_EAUTH);
  snprintf(bad, sizeof(bad), "%s", secret);
  bad[30] = '-';
  CHECK_RC(vc_apikey_verify(&who, e.ctx, bad), VC_EAUTH);
  CHECK_RC(vc_apikey_verify(&who, e.ctx, NULL), VC_EINVALID);
  CHECK_RC(vc_apikey_verify(NULL, e.ctx, secret), VC_EINVALID);
  tenant_env_close(&e);
}

static void test_apikey__revoke_and_expiry(void)
{
  vc_apikey_spec s = VC_APIKEY_SPEC_INIT;
  char secret[VC_APIKEY_SECRET_SIZE], timed[VC_APIKEY_SECRET_SIZE];
  vc_apikey *k, *got;
  vc_tenant *who;
  env e;

  env_open(&e);
  CHECK_OK(vc_apikey_new(&k, secret, e.t, NULL));
  g_now += 1000;
  CHECK_OK(vc_apikey_revoke(e.t, vc_apikey_id(k)));
  CHECK_RC(vc_apikey_verify(&who, e.ctx, secret), VC_EAUTH);
  /* A second revoke changes nothing. */
  g_now += 1000;
  CHECK_OK(vc_apikey_revoke(e.t, vc_apikey_id(k)));
  CHECK_OK(vc_apikey_lookup(&got, e.t, vc_apikey_id(k)));
  CHECK(vc_apikey_revoked_at(got) == VC_TEST_T0 + 1000);
  vc_apikey_free(got);

  s.expires_at = g_now + 60000;
  CHECK_OK(vc_apikey_new(NULL, timed, e.t, &s));
  CHECK_OK(vc_apikey_verify(&who, e.ctx, timed));
  vc_tenant_free(who);
  g_now += 60000;
  CHECK_RC(vc_apikey_verify(&who, e.ctx, timed), VC_EAUTH);

  /* Bad input changes nothing. */
  s.expires_at = g_now - 1;
  CHECK_RC(vc_apikey_new(NULL, timed, e.t, &s), VC_EINVALID);
  CHECK(timed[0] == '\0');
  s.expires_at = 0;
  s.label = "line\nbreak";
  CHECK_RC(vc_apikey_new(NULL, timed, e.t, &s), VC_EINVALID);
  s.version = 99;
  CHECK_RC(vc_apikey_new(NULL, timed, e.t, &s), VC_EVERSION);
  CHECK_RC(vc_apikey_revoke(e.t, "nope"), VC_EINVALID);
  CHECK_RC(vc_apikey_revoke(e.t, "01HZZZZZZZZZZZZZZZZZZZZZZZ"),
           VC_ENOTFOUND);
  {
    vc_iter *it;
    vc_apikey_filter f = VC_APIKEY_FILTER_INIT;
    int n = 0;

    f.include_revoked = 1;
    CHECK_OK(vc_apikey_list(&it, e.t, &f));
    while (vc_apikey_next(&got, it) == 0) {
      n++;
      vc_apikey_free(got);
    }
    vc_iter_free(it);
    CHECK(n == 2);
    CHECK_OK(vc_apikey_list(&it, e.t, NULL));
    n = 0;
    while (vc_apikey_next(&got, it) == 0) {
      n++;
      vc_apikey_free(got);
    }
    vc_iter_free(it);
    CHECK(n == 1);   /* the expired one; the revoked one is hidden */
  }
  vc_apikey_free(k);
  tenant_env_close(&e);
}

static void test_apikey__isolation(void)
{
  char a_secret[VC_APIKEY_SECRET_SIZE], b_secret[VC_APIKEY_SECRET_SIZE];
  vc_apikey *ka, *got;
  vc_tenant *b, *who;
  vc_iter *it;
  env e;

  env_open(&e);
  b = second_tenant(&e);
  CHECK_OK(vc_apikey_new(&ka, a_secret, e.t, NULL));
  CHECK_OK(vc_apikey_new(NULL, b_secret, b, NULL));

  /* Each secret gives its own tenant. */
  CHECK_OK(vc_apikey_verify(&who, e.ctx, b_secret));
  CHECK_STR(vc_tenant_id(who), vc_tenant_id(b));
  vc_tenant_free(who);

  /* B can neither see nor revoke A's key. */
  CHECK_RC(vc_apikey_lookup(&got, b, vc_apikey_id(ka)), VC_ENOTFOUND);
  CHECK_RC(vc_apikey_revoke(b, vc_apikey_id(ka)), VC_ENOTFOUND);
  CHECK_OK(vc_apikey_list(&it, b, NULL));
  CHECK_OK(vc_apikey_next(&got, it));
  CHECK_STR(vc_apikey_tenant_id(got), vc_tenant_id(b));
  vc_apikey_free(got);
  CHECK_RC(vc_apikey_next(&got, it), VC_ITEROVER);
  vc_iter_free(it);
  CHECK_OK(vc_apikey_verify(&who, e.ctx, a_secret));
  CHECK_STR(vc_tenant_id(who), vc_tenant_id(e.t));
  vc_tenant_free(who);

  /* A deleted tenant's keys stop working. */
  CHECK_OK(vc_tenant_delete(b));
  CHECK_RC(vc_apikey_verify(&who, e.ctx, b_secret), VC_EAUTH);
  CHECK_RC(vc_apikey_new(NULL, b_secret, b, NULL), VC_ENOTFOUND);
  vc_tenant_free(b);
  vc_apikey_free(ka);
  tenant_env_close(&e);
}

VC_TESTS(
  VC_TEST(test_apikey__new_and_verify),
  VC_TEST(test_apikey__wrong_secrets),
  VC_TEST(test_apikey__revoke_and_expiry),
  VC_TEST(test_apikey__isolation),
)
