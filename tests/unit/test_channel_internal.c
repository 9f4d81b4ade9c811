/*
 * Channel internals for the dispatcher and the webhook router
 * (src/msg/channel.h): routing candidates in priority order, lookups by
 * id alone, decrypted credentials and webhook secrets, and adapters bound
 * to a channel's stored settings.
 */
#include "core/common.h"
#include "core/ctx.h"
#include "msg/channel.h"
#include "store/db.h"
#include "harness.h"

#define TOKEN "{\"token\":\"tok-123\"}"

static char seen_config[256], seen_creds[256];
static int live_states;

static int t_init(void **state, const char *config, const char *creds)
{
  snprintf(seen_config, sizeof(seen_config), "%s", config);
  snprintf(seen_creds, sizeof(seen_creds), "%s", creds);
  live_states++;
  *state = &live_states;
  return 0;
}

static void t_fini(void *state)
{
  (void)state;
  live_states--;
}

static int t_build(void *state, const vc_outbound *msg, vc_http_out *req)
{
  (void)state; (void)msg; (void)req;
  return 0;
}

static int t_parse(void *state, const vc_outbound *msg,
                   const vc_http_response *res, vc_send_result *out)
{
  (void)state; (void)msg; (void)res; (void)out;
  return 0;
}

static uint8_t key[32];

static vc_ctx *open_ctx(int with_key)
{
  vc_store *store = NULL;
  vc_ctx *ctx = NULL;
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;
  vc_master_key mk = VC_MASTER_KEY_INIT;
  vc_adapter a;

  for (int i = 0; i < 32; i++)
    key[i] = (uint8_t)(i * 3 + 1);
  mk.key = key;
  mk.key_len = 32;
  CHECK_OK(vc_store_open_sqlite(&store, ":memory:", NULL));
  o.store = store;
  o.master_key = with_key ? &mk : NULL;
  CHECK_OK(vc_ctx_new(&ctx, &o));
  memset(&a, 0, sizeof(a));
  a.version = VC_ADAPTER_VERSION;
  a.init = t_init;
  a.fini = t_fini;
  a.build_send = t_build;
  a.parse_send = t_parse;
  a.name = "fake-sms";
  a.kind = VC_CHANNEL_SMS;
  CHECK_OK(vc_adapter_register(ctx, &a));
  a.name = "fake-email";
  a.kind = VC_CHANNEL_EMAIL;
  CHECK_OK(vc_adapter_register(ctx, &a));
  return ctx;
}

static vc_tenant *new_tenant(vc_ctx *ctx, const char *slug)
{
  vc_tenant_spec s = VC_TENANT_SPEC_INIT;
  vc_tenant *t = NULL;

  s.slug = slug;
  CHECK_OK(vc_tenant_new(&t, ctx, &s));
  return t;
}

static vc_channel *add(vc_tenant *t, const char *name, const char *provider,
                       int priority, const char *creds)
{
  vc_channel_spec s = VC_CHANNEL_SPEC_INIT;
  vc_channel *c = NULL;

  s.name = name;
  s.provider = provider;
  s.priority = priority;
  s.credentials_json = creds;
  s.config_json = "{\"region\":\"in\"}";
  s.sender = "+15550001";
  s.rate_per_second = 2.5;
  CHECK_OK(vc_channel_new(&c, t, &s));
  return c;
}

static void test_channel_internal__candidates(void)
{
  vc_ctx *ctx = open_ctx(1);
  vc_tenant *t = new_tenant(ctx, "a"), *u = new_tenant(ctx, "b");
  vc_channel *c50 = add(t, "p50", "fake-sms", 50, NULL);
  vc_channel *c10a = add(t, "p10a", "fake-sms", 10, NULL);
  vc_channel *c10b = add(t, "p10b", "fake-sms", 10, NULL);
  vc_channel *off = add(t, "off", "fake-sms", 1, NULL);
  vc_channel *mail = add(t, "mail", "fake-email", 1, NULL);
  vc_channel *theirs = add(u, "theirs", "fake-sms", 1, NULL);
  vc__channel_info out[VC__CHANNEL_CANDIDATES_MAX];
  vc__db *db = NULL;
  size_t n = 99;

  CHECK_OK(vc_channel_disable(off));
  CHECK_OK(vc__channel_candidates(out, VC__CHANNEL_CANDIDATES_MAX, &n, ctx,
                                  NULL, vc_tenant_id(t), VC_CHANNEL_SMS));
  CHECK(n == 3);
  /* Priority, then id (creation order). */
  CHECK_STR(out[0].id, vc_channel_id(c10a));
  CHECK_STR(out[1].id, vc_channel_id(c10b));
  CHECK_STR(out[2].id, vc_channel_id(c50));
  CHECK_STR(out[0].tenant_id, vc_tenant_id(t));
  CHECK_STR(out[0].name, "p10a");
  CHECK_STR(out[0].provider, "fake-sms");
  CHECK_STR(out[0].sender, "+15550001");
  CHECK(out[0].kind == VC_CHANNEL_SMS && out[0].priority == 10);
  CHECK(out[0].rate_per_second == 2.5 && out[0].enabled == 1);
  CHECK(out[0].updated_at == vc_channel_updated_at(c10a));
  /* Bounded, and on the caller's connection (an in-memory store has
   * only one: a second acquire would wait for ever). */
  CHECK_OK(vc__db_acquire(&db, ctx->store));
  CHECK_OK(vc__channel_candidates(out, 2, &n, ctx, db, vc_tenant_id(t),
                                  VC_CHANNEL_SMS));
  CHECK(n == 2);
  CHECK_OK(vc__channel_candidates(out, 100, &n, ctx, db, vc_tenant_id(t),
                                  VC_CHANNEL_EMAIL));
  CHECK(n == 1);
  CHECK_STR(out[0].id, vc_channel_id(mail));
  CHECK_OK(vc__channel_candidates(out, 100, &n, ctx, db, vc_tenant_id(t),
                                  VC_CHANNEL_CHAT));
  CHECK(n == 0);
  CHECK_RC(vc__channel_candidates(out, 100, &n, ctx, db, vc_tenant_id(t),
                                  0), VC_EINVALID);
  vc__db_release(db);
  /* The other tenant sees only its own. */
  CHECK_OK(vc__channel_candidates(out, 100, &n, ctx, NULL, vc_tenant_id(u),
                                  VC_CHANNEL_SMS));
  CHECK(n == 1);
  CHECK_STR(out[0].id, vc_channel_id(theirs));
  /* Enabled again, it leads. */
  CHECK_OK(vc_channel_enable(off));
  CHECK_OK(vc__channel_candidates(out, 100, &n, ctx, NULL, vc_tenant_id(t),
                                  VC_CHANNEL_SMS));
  CHECK(n == 4);
  CHECK_STR(out[0].id, vc_channel_id(off));

  vc_channel_free(c50);
  vc_channel_free(c10a);
  vc_channel_free(c10b);
  vc_channel_free(off);
  vc_channel_free(mail);
  vc_channel_free(theirs);
  vc_tenant_free(t);
  vc_tenant_free(u);
  vc_ctx_free(ctx);
}

static void test_channel_internal__find(void)
{
  vc_ctx *ctx = open_ctx(1);
  vc_tenant *t = new_tenant(ctx, "a"), *u = new_tenant(ctx, "b");
  vc_channel *c = add(t, "main", "fake-sms", 7, NULL);
  vc__channel_info info;

  CHECK_OK(vc__channel_find(&info, ctx, NULL, vc_tenant_id(t), "main"));
  CHECK_STR(info.id, vc_channel_id(c));
  CHECK_OK(vc__channel_find(&info, ctx, NULL, vc_tenant_id(t),
                            vc_channel_id(c)));
  CHECK(info.priority == 7);
  CHECK_RC(vc__channel_find(&info, ctx, NULL, vc_tenant_id(u), "main"),
           VC_ENOTFOUND);
  CHECK_RC(vc__channel_find(&info, ctx, NULL, vc_tenant_id(u),
                            vc_channel_id(c)), VC_ENOTFOUND);
  /* By id alone: the tenant comes from the row; disabled ones too. */
  CHECK_OK(vc_channel_disable(c));
  CHECK_OK(vc__channel_find_by_id(&info, ctx, NULL, vc_channel_id(c)));
  CHECK_STR(info.tenant_id, vc_tenant_id(t));
  CHECK(info.enabled == 0);
  CHECK_RC(vc__channel_find_by_id(&info, ctx, NULL,
                                  "01ARZ3NDEKTSV4RRFFQ69G5FAV"),
           VC_ENOTFOUND);
  CHECK_RC(vc__channel_find_by_id(&info, ctx, NULL, "../../etc"),
           VC_ENOTFOUND);
  CHECK_RC(vc__channel_find_by_id(&info, ctx, NULL, NULL), VC_ENOTFOUND);
  /* A deleted tenant's channels are gone for the router too. */
  CHECK_OK(vc_tenant_delete(t));
  CHECK_RC(vc__channel_find_by_id(&info, ctx, NULL, vc_channel_id(c)),
           VC_ENOTFOUND);
  vc_channel_free(c);
  vc_tenant_free(t);
  vc_tenant_free(u);
  vc_ctx_free(ctx);
}

static void test_channel_internal__secrets_and_adapter(void)
{
  vc_ctx *ctx = open_ctx(1);
  vc_tenant *t = new_tenant(ctx, "a");
  vc_channel *c = add(t, "main", "fake-sms", 1, TOKEN);
  vc_channel *d = add(t, "other", "fake-sms", 1, NULL);
  vc_buf b = VC_BUF_INIT, h1 = VC_BUF_INIT, h2 = VC_BUF_INIT;
  vc_adapter a;
  void *state = NULL;
  int64_t updated = 0;

  CHECK_OK(vc__channel_load_secret(&b, ctx, vc_tenant_id(t),
                                   vc_channel_id(c)));
  CHECK_STR(b.ptr, TOKEN);
  /* Replaced, not appended. */
  CHECK_OK(vc__channel_load_secret(&b, ctx, vc_tenant_id(t),
                                   vc_channel_id(d)));
  CHECK_STR(b.ptr, "{}");
  vc_buf_dispose(&b);
  CHECK_RC(vc__channel_load_secret(&b, ctx, vc_tenant_id(t),
                                   "01ARZ3NDEKTSV4RRFFQ69G5FAV"),
           VC_ENOTFOUND);
  CHECK_RC(vc__channel_load_secret(&b, ctx, "bad", vc_channel_id(c)),
           VC_EINVALID);
  CHECK(b.ptr == NULL);

  CHECK_OK(vc__channel_webhook_secret(&h1, ctx, vc_tenant_id(t),
                                      vc_channel_id(c)));
  CHECK_OK(vc__channel_webhook_secret(&h2, ctx, vc_tenant_id(t),
                                      vc_channel_id(d)));
  CHECK(h1.size == VC__CHANNEL_WEBHOOK_SECRET_SIZE);
  CHECK(h2.size == VC__CHANNEL_WEBHOOK_SECRET_SIZE);
  CHECK(memcmp(h1.ptr, h2.ptr, h1.size) != 0);
  vc_buf_dispose(&h1);
  vc_buf_dispose(&h2);

  /* An adapter bound to the stored settings. */
  CHECK_OK(vc__channel_open_adapter(&a, &state, &updated, ctx,
                                    vc_tenant_id(t), vc_channel_id(c)));
  CHECK(state == &live_states && live_states == 1);
  CHECK_STR(a.name, "fake-sms");
  CHECK_STR(seen_config, "{\"region\":\"in\"}");
  CHECK_STR(seen_creds, TOKEN);
  CHECK(updated == vc_channel_updated_at(c));
  a.fini(state);
  CHECK(live_states == 0);
  CHECK_RC(vc__channel_open_adapter(&a, &state, NULL, ctx, vc_tenant_id(t),
                                    "01ARZ3NDEKTSV4RRFFQ69G5FAV"),
           VC_ENOTFOUND);
  CHECK(state == NULL);
  vc_channel_free(c);
  vc_channel_free(d);
  vc_tenant_free(t);
  vc_ctx_free(ctx);

  /* Without a master key: no webhook secret, empty credentials. */
  ctx = open_ctx(0);
  t = new_tenant(ctx, "a");
  c = add(t, "main", "fake-sms", 1, NULL);
  CHECK_RC(vc__channel_webhook_secret(&h1, ctx, vc_tenant_id(t),
                                      vc_channel_id(c)), VC_ENOTFOUND);
  CHECK_OK(vc__channel_load_secret(&b, ctx, vc_tenant_id(t),
                                   vc_channel_id(c)));
  CHECK_STR(b.ptr, "{}");
  vc_buf_dispose(&b);
  vc_channel_free(c);
  vc_tenant_free(t);
  vc_ctx_free(ctx);
}

VC_TESTS(
  VC_TEST(test_channel_internal__candidates),
  VC_TEST(test_channel_internal__find),
  VC_TEST(test_channel_internal__secrets_and_adapter),
)
