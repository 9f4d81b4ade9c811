/*
 * Rate cards and quotes through the public API only, on a store on disk:
 * create, replace, lookup, list, delete; CSV and JSON import; every kind
 * of malformed card refused whole with the line or entry named and
 * nothing stored; longest-prefix matching with the default entry; the
 * pulse schemes, connection fee and zero-talk calls with figures worked
 * by hand; channel cards before provider cards; cards taking over at
 * their effective_from; tenant isolation; GL account and export options
 * refused when bad. (Ledger entries come from the call core's hooks: the
 * export of real entries is tested in tests/unit/test_billing.c.)
 */
#define _GNU_SOURCE
#include "vyomcomm.h"
#include "vyomcomm/sys/adapter.h"
#include "vyomcomm/sys/errors.h"
#include "harness.h"

#include <sqlite3.h>

#define DB_NAME "billing.db"
/* 2026-03-01T00:00:00Z (python3: datetime(2026,3,1,tzinfo=timezone.utc)
 * .timestamp() * 1000). */
#define T0 1772323200000LL

static int64_t now_ms = T0;

static int64_t test_clock(void *payload)
{
  (void)payload;
  return now_ms;
}

static int t_init(void **state, const char *config, const char *creds)
{
  (void)config; (void)creds;
  *state = NULL;
  return 0;
}
static void t_fini(void *state) { (void)state; }
static int t_build(void *state, const vc_call_outbound *call,
                   vc_http_out *req)
{
  (void)state; (void)call; (void)req;
  return 0;
}
static int t_parse(void *state, const vc_call_outbound *call,
                   const vc_http_response *res, vc_send_result *out)
{
  (void)state; (void)call; (void)res; (void)out;
  return 0;
}

typedef struct fixture {
  vc_ctx *ctx;
  vc_tenant *a, *b;
  char main_id[VC_ID_SIZE];
} fixture;

static void setup(fixture *f)
{
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;
  vc_tenant_spec ts = VC_TENANT_SPEC_INIT;
  vc_channel_spec cs = VC_CHANNEL_SPEC_INIT;
  vc_store *store = NULL;
  vc_channel *c = NULL;
  vc_adapter ad;

  memset(f, 0, sizeof(*f));
  now_ms = T0;
  CHECK_OK(vc_store_open_sqlite(&store, vc_test_path(DB_NAME), NULL));
  o.store = store;
  o.clock_cb = test_clock;
  CHECK_OK(vc_ctx_new(&f->ctx, &o));
  memset(&ad, 0, sizeof(ad));
  ad.version = VC_ADAPTER_VERSION;
  ad.kind = VC_CHANNEL_VOICE;
  ad.init = t_init;
  ad.fini = t_fini;
  ad.build_call = t_build;
  ad.parse_call = t_parse;
  ad.name = "twilio-voice";
  CHECK_OK(vc_adapter_register(f->ctx, &ad));
  ad.name = "exotel";
  CHECK_OK(vc_adapter_register(f->ctx, &ad));
  ts.slug = "acme";
  CHECK_OK(vc_tenant_new(&f->a, f->ctx, &ts));
  ts.slug = "other";
  CHECK_OK(vc_tenant_new(&f->b, f->ctx, &ts));
  cs.name = "tw-main";
  cs.provider = "twilio-voice";
  CHECK_OK(vc_channel_new(&c, f->a, &cs));
  snprintf(f->main_id, sizeof(f->main_id), "%s", vc_channel_id(c));
  vc_channel_free(c);
  cs.name = "tw-main";
  CHECK_OK(vc_channel_new(&c, f->b, &cs));
  vc_channel_free(c);
  cs.name = "exo";
  cs.provider = "exotel";
  CHECK_OK(vc_channel_new(&c, f->a, &cs));
  vc_channel_free(c);
}

static void teardown(fixture *f)
{
  vc_tenant_free(f->a);
  vc_tenant_free(f->b);
  vc_ctx_free(f->ctx);
}

static int64_t raw_count(const char *sql)
{
  sqlite3 *db;
  sqlite3_stmt *s;
  int64_t n = -1;

  CHECK(sqlite3_open(vc_test_path(DB_NAME), &db) == SQLITE_OK);
  CHECK(sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK);
  if (sqlite3_step(s) == SQLITE_ROW)
    n = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  sqlite3_close(db);
  return n;
}

static int import(char id[VC_ID_SIZE], vc_tenant *t, const char *provider,
                  const char *channel, int64_t from, int format,
                  const char *text)
{
  vc_ratecard_spec s = VC_RATECARD_SPEC_INIT;

  s.provider = provider;
  s.channel = channel;
  s.effective_from = from;
  return vc_ratecard_import(id, t, &s, format, text, strlen(text));
}

static int64_t quote(vc_tenant *t, const char *via, const char *to,
                     int talk, const char *want_currency)
{
  int64_t cost = -1;
  char cur[4] = "?";

  CHECK_OK(vc_ratecard_quote(&cost, cur, t, via, to, talk));
  CHECK_STR(cur, want_currency);
  return cost;
}

/* Twilio-voice, provider-wide, in micro-units:
 *   91      India      1.20/min 60/60, fee 0.05
 *   9198    Mumbai     0.30/min 1/1
 *   1       NANP       1.00/min 1/1
 *   1212    New York   0.90/min 30/6
 *   ""      default    2.00/min 60/60 */
static const char CARD_CSV[] =
  "\xef\xbb\xbfprefix,rate_per_min,initial_s,subsequent_s,connection_fee,"
  "currency\r\n"
  "91,1200000,60,60,50000,USD\r\n"
  "\"9198\",300000,1,1,0,USD\r\n"
  "\r\n"
  "1, 1000000 ,1,1,0,USD\r\n"
  "1212,900000,30,6,0,USD\r\n"
  ",2000000,60,60,0,USD";

static void test_billing__quote_prefixes_and_pulses(void)
{
  fixture f;
  char id[VC_ID_SIZE];

  setup(&f);
  CHECK_OK(import(id, f.a, "twilio-voice", NULL, 0, VC_RATECARD_CSV,
                  CARD_CSV));
  /* Longest prefix wins: +9198... is Mumbai, 61 s at 1/1 and 0.30/min =
   * 61 * 300,000 / 60 = 305,000. */
  CHECK(quote(f.a, "twilio-voice", "+919812345678", 61, "USD") == 305000);
  /* Other Indian numbers: 91, 61 s -> 120 s at 1.20 = 2,400,000 + the
   * 50,000 fee = 2,450,000; 1 s -> one minute + fee = 1,250,000. */
  CHECK(quote(f.a, "twilio-voice", "+919712345678", 61, "USD") == 2450000);
  CHECK(quote(f.a, "twilio-voice", "919712345678", 1, "USD") == 1250000);
  /* NANP 1/1 at 1.00: 61 s = 1,016,666.67 -> 1,016,667 (half up). */
  CHECK(quote(f.a, "twilio-voice", "+14155550100", 61, "USD") == 1016667);
  /* New York 30/6 at 0.90: 10 s -> 30 s = 450,000; 31 s -> 36 s =
   * 540,000; 45 s -> 30 + ceil(15/6)*6 = 48 s = 720,000. */
  CHECK(quote(f.a, "twilio-voice", "+12125550100", 10, "USD") == 450000);
  CHECK(quote(f.a, "twilio-voice", "+12125550100", 31, "USD") == 540000);
  CHECK(quote(f.a, "twilio-voice", "+12125550100", 45, "USD") == 720000);
  /* Anything else: the default, 60/60 at 2.00: 121 s -> 180 s =
   * 6,000,000. */
  CHECK(quote(f.a, "twilio-voice", "+442071234567", 121, "USD") ==
        6000000);
  /* No conversation: 0, and no connection fee. */
  CHECK(quote(f.a, "twilio-voice", "+919712345678", 0, "USD") == 0);
  /* By channel name or id: its provider's card. */
  CHECK(quote(f.a, "tw-main", "+14155550100", 60, "USD") == 1000000);
  CHECK(quote(f.a, f.main_id, "+14155550100", 60, "USD") == 1000000);
  /* No card for exotel; bad input. */
  {
    int64_t cost = 5;
    char cur[4] = "X";
    CHECK_RC(vc_ratecard_quote(&cost, cur, f.a, "exotel", "+14155550100",
                               60), VC_ENOTFOUND);
    CHECK(cost == 0 && cur[0] == '\0');
    CHECK_RC(vc_ratecard_quote(&cost, cur, f.a, "twilio-voice", "+1-415",
                               60), VC_EINVALID);
    CHECK_RC(vc_ratecard_quote(&cost, cur, f.a, "twilio-voice", "+0123",
                               60), VC_EINVALID);
    CHECK_RC(vc_ratecard_quote(&cost, cur, f.a, "twilio-voice",
                               "+1234567890123456", 60), VC_EINVALID);
    CHECK_RC(vc_ratecard_quote(&cost, cur, f.a, "twilio-voice",
                               "+14155550100", -1), VC_EINVALID);
    CHECK_RC(vc_ratecard_quote(&cost, cur, f.a, NULL, "+14155550100", 1),
             VC_EINVALID);
  }
  teardown(&f);
}

static void test_billing__channel_card_and_effective_from(void)
{
  fixture f;
  char id1[VC_ID_SIZE], id2[VC_ID_SIZE], id3[VC_ID_SIZE], id4[VC_ID_SIZE];
  vc_ratecard *card = NULL;
  const vc_ratecard_entry *e;

  setup(&f);
  CHECK_OK(import(id1, f.a, "twilio-voice", NULL, 0, VC_RATECARD_CSV,
                  CARD_CSV));
  /* tw-main's own card: India 1/1 at 0.60, no default. */
  CHECK_OK(import(id2, f.a, NULL, "tw-main", 0, VC_RATECARD_JSON,
                  "{\"entries\":[{\"prefix\":\"91\",\"rate_per_min\":600000,"
                  "\"initial_s\":1,\"subsequent_s\":1,\"currency\":\"USD\"}"
                  "]}"));
  /* 60 s at 0.60 = 600,000, from the channel's card ... */
  CHECK(quote(f.a, "tw-main", "+919712345678", 60, "USD") == 600000);
  /* ... but the provider's card for the provider, and for what the
   * channel's card lacks. */
  CHECK(quote(f.a, "twilio-voice", "+919712345678", 60, "USD") == 1250000);
  CHECK(quote(f.a, "tw-main", "+14155550100", 60, "USD") == 1000000);
  /* A channel's card must match the provider named. */
  CHECK_RC(import(id3, f.a, "exotel", "tw-main", 0, VC_RATECARD_JSON, "[]"),
           VC_EINVALID);
  CHECK_RC(import(id3, f.a, NULL, "no-such", 0, VC_RATECARD_JSON, "[]"),
           VC_ENOTFOUND);

  /* A new provider card from T0 + 1 h (bare-array JSON): not yet. */
  CHECK_OK(import(id3, f.a, "twilio-voice", NULL, T0 + 3600000,
                  VC_RATECARD_JSON,
                  "[{\"prefix\":\"\",\"rate_per_min\":60,\"initial_s\":1,"
                  "\"subsequent_s\":1,\"connection_fee\":7,"
                  "\"currency\":\"EUR\"}]"));
  CHECK(strcmp(id3, id1) != 0);
  CHECK(quote(f.a, "twilio-voice", "+14155550100", 60, "USD") == 1000000);
  /* From then on it is the card: 60 s at 60 micro/min + 7 = 67. */
  now_ms = T0 + 3600000;
  CHECK(quote(f.a, "twilio-voice", "+14155550100", 60, "EUR") == 67);
  CHECK(quote(f.a, "tw-main", "+919712345678", 60, "USD") == 600000);

  /* Replacing the card with the same key keeps its id. */
  {
    vc_ratecard_spec s = VC_RATECARD_SPEC_INIT;
    vc_ratecard_entry en = VC_RATECARD_ENTRY_INIT;
    en.prefix = "";
    en.rate_per_min_micros = 120;
    en.currency = "EUR";
    s.provider = "twilio-voice";
    s.effective_from = T0 + 3600000;
    s.entries = &en;
    s.nentries = 1;
    CHECK_OK(vc_ratecard_set(id4, f.a, &s));
    CHECK_STR(id4, id3);
    /* 60/60 by default: 1 s bills a minute at 120 = 120. */
    CHECK(quote(f.a, "twilio-voice", "+14155550100", 1, "EUR") == 120);
  }
  CHECK_OK(vc_ratecard_lookup(&card, f.a, id4));
  CHECK_STR(vc_ratecard_provider(card), "twilio-voice");
  CHECK_STR(vc_ratecard_channel_id(card), "");
  CHECK(vc_ratecard_effective_from(card) == T0 + 3600000);
  CHECK(vc_ratecard_entry_count(card) == 1);
  CHECK(vc_ratecard_updated_at(card) == T0 + 3600000);
  CHECK(vc_ratecard_created_at(card) == T0);
  vc_ratecard_free(card);

  /* The entries come back as given, in order. */
  CHECK_OK(vc_ratecard_lookup(&card, f.a, id1));
  CHECK(vc_ratecard_entry_count(card) == 5);
  e = vc_ratecard_entry_at(card, 1);
  CHECK_STR(e->prefix, "9198");
  CHECK(e->rate_per_min_micros == 300000 && e->initial_s == 1 &&
        e->subsequent_s == 1 && e->connection_fee_micros == 0);
  CHECK_STR(e->currency, "USD");
  e = vc_ratecard_entry_at(card, 0);
  CHECK(e->connection_fee_micros == 50000 && e->initial_s == 60);
  CHECK_STR(vc_ratecard_entry_at(card, 4)->prefix, "");
  CHECK(vc_ratecard_entry_at(card, 5) == NULL);
  vc_ratecard_free(card);
  card = NULL;

  /* Delete the newer card: the old one is back in effect. */
  CHECK_OK(vc_ratecard_delete(f.a, id3));
  CHECK_RC(vc_ratecard_delete(f.a, id3), VC_ENOTFOUND);
  CHECK_RC(vc_ratecard_lookup(&card, f.a, id3), VC_ENOTFOUND);
  CHECK(quote(f.a, "twilio-voice", "+14155550100", 60, "USD") == 1000000);
  CHECK(raw_count("SELECT COUNT(*) FROM vc_ratecard_entry") == 6);
  teardown(&f);
}

static void test_billing__list_and_isolation(void)
{
  fixture f;
  char id1[VC_ID_SIZE], id2[VC_ID_SIZE], idb[VC_ID_SIZE];
  vc_ratecard_filter flt = VC_RATECARD_FILTER_INIT;
  vc_ratecard *card = NULL;
  vc_iter *it;
  int64_t cost;
  char cur[4];

  setup(&f);
  CHECK_OK(import(id1, f.a, "twilio-voice", NULL, 0, VC_RATECARD_CSV,
                  CARD_CSV));
  CHECK_OK(import(id2, f.a, "exotel", NULL, 0, VC_RATECARD_CSV,
                  "prefix,rate_per_min,initial_s,subsequent_s,"
                  "connection_fee,currency\n91,100,1,1,0,INR\n"));
  CHECK_OK(import(idb, f.b, "twilio-voice", NULL, 0, VC_RATECARD_CSV,
                  "prefix,rate_per_min,initial_s,subsequent_s,"
                  "connection_fee,currency\n,9990000,1,1,0,EUR\n"));
  /* All of acme's, in creation order, none of the other's. */
  CHECK_OK(vc_ratecard_list(&it, f.a, NULL));
  CHECK_OK(vc_ratecard_next(&card, it));
  CHECK_STR(vc_ratecard_id(card), id1);
  CHECK(vc_ratecard_entry_count(card) == 5);
  vc_ratecard_free(card);
  CHECK_STR(vc_iter_cursor(it), id1);
  CHECK_OK(vc_ratecard_next(&card, it));
  CHECK_STR(vc_ratecard_id(card), id2);
  vc_ratecard_free(card);
  CHECK_RC(vc_ratecard_next(&card, it), VC_ITEROVER);
  CHECK_RC(vc_ratecard_next(&card, it), VC_ITEROVER);
  vc_iter_free(it);
  /* Resume after a cursor; filter by provider. */
  flt.after = id1;
  CHECK_OK(vc_ratecard_list(&it, f.a, &flt));
  CHECK_OK(vc_ratecard_next(&card, it));
  CHECK_STR(vc_ratecard_id(card), id2);
  vc_ratecard_free(card);
  vc_iter_free(it);
  flt.after = NULL;
  flt.provider = "exotel";
  CHECK_OK(vc_ratecard_list(&it, f.a, &flt));
  CHECK_OK(vc_ratecard_next(&card, it));
  CHECK_STR(vc_ratecard_provider(card), "exotel");
  vc_ratecard_free(card);
  CHECK_RC(vc_ratecard_next(&card, it), VC_ITEROVER);
  vc_iter_free(it);
  flt.provider = "Bad Name";
  CHECK_RC(vc_ratecard_list(&it, f.a, &flt), VC_EINVALID);
  flt.provider = NULL;
  flt.after = "not-a-cursor";
  CHECK_RC(vc_ratecard_list(&it, f.a, &flt), VC_EINVALID);

  /* The other tenant: cannot see, use or delete acme's cards. */
  CHECK_RC(vc_ratecard_lookup(&card, f.b, id1), VC_ENOTFOUND);
  CHECK_RC(vc_ratecard_delete(f.b, id1), VC_ENOTFOUND);
  CHECK_OK(vc_ratecard_list(&it, f.b, NULL));
  CHECK_OK(vc_ratecard_next(&card, it));
  CHECK_STR(vc_ratecard_id(card), idb);
  vc_ratecard_free(card);
  CHECK_RC(vc_ratecard_next(&card, it), VC_ITEROVER);
  vc_iter_free(it);
  /* Its own card prices its quotes; acme's exotel card is not its. */
  CHECK_OK(vc_ratecard_quote(&cost, cur, f.b, "twilio-voice",
                             "+919712345678", 60));
  CHECK(cost == 9990000);
  CHECK_STR(cur, "EUR");
  CHECK_RC(vc_ratecard_quote(&cost, cur, f.b, "exotel", "+919712345678",
                             60), VC_ENOTFOUND);
  /* acme's channel name means nothing to the other tenant: "exo" is
   * then a provider name without a card. */
  CHECK_RC(vc_ratecard_quote(&cost, cur, f.b, "exo", "+919712345678", 60),
           VC_ENOTFOUND);
  /* A tenant cannot narrow a card to another tenant's channel. */
  CHECK_RC(import(idb, f.b, NULL, f.main_id, 0, VC_RATECARD_JSON, "[]"),
           VC_ENOTFOUND);
  CHECK(raw_count("SELECT COUNT(*) FROM vc_ratecard") == 3);
  teardown(&f);
}

/* A malformed card is refused with `code` and a message containing
 * `where`, and nothing is stored. */
static void refused(fixture *f, int format, const char *text, int code,
                    const char *where)
{
  char id[VC_ID_SIZE] = "x";

  CHECK_RC(import(id, f->a, "twilio-voice", NULL, 0, format, text), code);
  CHECK(id[0] == '\0');
  if (strstr(vc_error_last()->message, where) == NULL) {
    fprintf(stderr, "  message \"%s\" lacks \"%s\"\n",
            vc_error_last()->message, where);
    CHECK(0);
  }
  CHECK(raw_count("SELECT COUNT(*) FROM vc_ratecard") == 0);
  CHECK(raw_count("SELECT COUNT(*) FROM vc_ratecard_entry") == 0);
}

#define HDR "prefix,rate_per_min,initial_s,subsequent_s,connection_fee," \
            "currency\n"

static void test_billing__csv_errors(void)
{
  fixture f;

  setup(&f);
  refused(&f, VC_RATECARD_CSV, "", VC_EINVALID, "no header");
  refused(&f, VC_RATECARD_CSV, "prefix,rate,initial_s,subsequent_s,"
          "connection_fee,currency\n", VC_EINVALID, "line 1: the header");
  refused(&f, VC_RATECARD_CSV, HDR "91,100,60,60,0,USD\n9a,100,60,60,0,USD\n",
          VC_EINVALID, "line 3: prefix must be digits");
  refused(&f, VC_RATECARD_CSV, HDR "+91,100,60,60,0,USD\n", VC_EINVALID,
          "line 2: prefix");
  refused(&f, VC_RATECARD_CSV, HDR "1234567890123456,100,60,60,0,USD\n",
          VC_EINVALID, "line 2: prefix is longer");
  refused(&f, VC_RATECARD_CSV, HDR "91,-100,60,60,0,USD\n", VC_EINVALID,
          "line 2: rate_per_min must not be negative");
  refused(&f, VC_RATECARD_CSV, HDR "91,100,60,60,-1,USD\n", VC_EINVALID,
          "line 2: connection_fee must not be negative");
  refused(&f, VC_RATECARD_CSV, HDR "91,1.5,60,60,0,USD\n", VC_EINVALID,
          "line 2: rate_per_min must be a whole number");
  refused(&f, VC_RATECARD_CSV, HDR "91,1000000000000001,60,60,0,USD\n",
          VC_EINVALID, "line 2: rate_per_min is larger");
  refused(&f, VC_RATECARD_CSV,
          HDR "91,99999999999999999999999999,60,60,0,USD\n", VC_EINVALID,
          "line 2: rate_per_min is larger");
  refused(&f, VC_RATECARD_CSV, HDR "91,100,0,60,0,USD\n", VC_EINVALID,
          "line 2: billing pulses must be at least 1");
  refused(&f, VC_RATECARD_CSV, HDR "91,100,60,0,0,USD\n", VC_EINVALID,
          "line 2: billing pulses");
  refused(&f, VC_RATECARD_CSV, HDR "91,100,60,3601,0,USD\n", VC_EINVALID,
          "line 2: subsequent_s is larger than 3600");
  refused(&f, VC_RATECARD_CSV, HDR "91,100,60,60,0,usd\n", VC_EINVALID,
          "line 2: currency");
  refused(&f, VC_RATECARD_CSV, HDR "91,100,60,60,0,US\n", VC_EINVALID,
          "line 2: currency");
  refused(&f, VC_RATECARD_CSV, HDR "91,100,60,60,0,DOLLAR\n", VC_EINVALID,
          "line 2: currency");
  refused(&f, VC_RATECARD_CSV, HDR "91,100,60,60,0\n", VC_EINVALID,
          "line 2: expected 6 fields, found 5");
  refused(&f, VC_RATECARD_CSV, HDR "91,100,60,60,0,USD,x\n", VC_EINVALID,
          "line 2: expected 6 fields, found 7");
  refused(&f, VC_RATECARD_CSV, HDR "\"91,100,60,60,0,USD\n", VC_EINVALID,
          "line 2: a quoted field is not closed");
  refused(&f, VC_RATECARD_CSV, HDR "9\"1,100,60,60,0,USD\n", VC_EINVALID,
          "line 2: a quote inside");
  refused(&f, VC_RATECARD_CSV, HDR "\"91\"x,100,60,60,0,USD\n", VC_EINVALID,
          "line 2: text after a closing quote");
  /* Duplicates name the later line and the first (blank lines count). */
  refused(&f, VC_RATECARD_CSV,
          HDR "91,100,60,60,0,USD\n\n1,100,1,1,0,USD\n91,200,1,1,0,USD\n",
          VC_EINVALID, "line 5: prefix '91' is already at line 2");
  refused(&f, VC_RATECARD_CSV, HDR ",100,60,60,0,USD\n,200,1,1,0,USD\n",
          VC_EINVALID, "line 3: prefix '' is already at line 2");
  refused(&f, VC_RATECARD_CSV, HDR "91,100,60,60,0,US\xff\n", VC_EENCODING,
          "not valid UTF-8");
  {
    static const char nul[] = HDR "91,100,60,60,0,USD\0\n";
    char id[VC_ID_SIZE];
    vc_ratecard_spec s = VC_RATECARD_SPEC_INIT;
    s.provider = "twilio-voice";
    CHECK_RC(vc_ratecard_import(id, f.a, &s, VC_RATECARD_CSV, nul,
                                sizeof(nul) - 1), VC_EINVALID);
    CHECK_RC(vc_ratecard_import(id, f.a, &s, 9, "[]", 2), VC_EINVALID);
    CHECK_RC(vc_ratecard_import(id, f.a, &s, VC_RATECARD_CSV, HDR,
                                VC_RATECARD_MAX_TEXT + 1), VC_ETOOBIG);
  }
  {
    /* One entry over the bound. */
    size_t n = VC_RATECARD_MAX_ENTRIES + 1, len = 0;
    char *text = malloc(n * 32 + 128), id[VC_ID_SIZE];
    vc_ratecard_spec s = VC_RATECARD_SPEC_INIT;
    CHECK(text != NULL);
    len += (size_t)sprintf(text, "%s", HDR);
    for (size_t i = 0; i < n; i++)
      len += (size_t)sprintf(text + len, "%zu,1,1,1,0,USD\n", 10000 + i);
    s.provider = "twilio-voice";
    CHECK_RC(vc_ratecard_import(id, f.a, &s, VC_RATECARD_CSV, text, len),
             VC_ETOOBIG);
    CHECK(strstr(vc_error_last()->message, "line 10002") != NULL);
    /* ... and exactly at the bound it is fine. */
    len = 0;
    len += (size_t)sprintf(text, "%s", HDR);
    for (size_t i = 0; i + 1 < n; i++)
      len += (size_t)sprintf(text + len, "%zu,1,1,1,0,USD\n", 10000 + i);
    CHECK_OK(vc_ratecard_import(id, f.a, &s, VC_RATECARD_CSV, text, len));
    free(text);
    CHECK(raw_count("SELECT COUNT(*) FROM vc_ratecard_entry") ==
          VC_RATECARD_MAX_ENTRIES);
  }
  teardown(&f);
}

static void test_billing__json_errors(void)
{
  fixture f;

  setup(&f);
  refused(&f, VC_RATECARD_JSON, "{", VC_EINVALID, "not valid JSON");
  refused(&f, VC_RATECARD_JSON, "{\"entries\":{}}", VC_EINVALID,
          "must be an array");
  refused(&f, VC_RATECARD_JSON, "{\"entries\":[],\"x\":1}", VC_EINVALID,
          "unknown field 'x'");
  refused(&f, VC_RATECARD_JSON, "[1]", VC_EINVALID,
          "entry 1: an entry must be an object");
  refused(&f, VC_RATECARD_JSON,
          "[{\"prefix\":\"91\",\"rate_per_min\":1,\"initial_s\":1,"
          "\"subsequent_s\":1,\"currency\":\"USD\"},"
          "{\"prefix\":\"91\",\"rate_per_min\":1,\"initial_s\":1,"
          "\"subsequent_s\":1,\"currency\":\"USD\"}]",
          VC_EINVALID, "entry 2: prefix '91' is already at entry 1");
  refused(&f, VC_RATECARD_JSON,
          "[{\"prefix\":\"91\",\"rate_per_min\":1.5,\"initial_s\":1,"
          "\"subsequent_s\":1,\"currency\":\"USD\"}]",
          VC_EINVALID, "entry 1: rate_per_min must be a whole number");
  refused(&f, VC_RATECARD_JSON,
          "[{\"prefix\":\"91\",\"rate_per_min\":\"100\",\"initial_s\":1,"
          "\"subsequent_s\":1,\"currency\":\"USD\"}]",
          VC_EINVALID, "entry 1: rate_per_min must be a whole number");
  refused(&f, VC_RATECARD_JSON,
          "[{\"prefix\":\"91\",\"rate_per_min\":1e300,\"initial_s\":1,"
          "\"subsequent_s\":1,\"currency\":\"USD\"}]",
          VC_EINVALID, "entry 1: rate_per_min is larger");
  refused(&f, VC_RATECARD_JSON,
          "[{\"prefix\":\"91\",\"rate_per_min\":-1,\"initial_s\":1,"
          "\"subsequent_s\":1,\"currency\":\"USD\"}]",
          VC_EINVALID, "entry 1: rate_per_min must not be negative");
  refused(&f, VC_RATECARD_JSON,
          "[{\"prefix\":\"91\",\"rate_per_min\":1,\"initial_s\":0,"
          "\"subsequent_s\":1,\"currency\":\"USD\"}]",
          VC_EINVALID, "entry 1: billing pulses");
  refused(&f, VC_RATECARD_JSON,
          "[{\"prefix\":91,\"rate_per_min\":1,\"initial_s\":1,"
          "\"subsequent_s\":1,\"currency\":\"USD\"}]",
          VC_EINVALID, "entry 1: prefix must be a string");
  refused(&f, VC_RATECARD_JSON,
          "[{\"rate_per_min\":1,\"initial_s\":1,"
          "\"subsequent_s\":1,\"currency\":\"USD\"}]",
          VC_EINVALID, "entry 1: prefix, rate_per_min");
  refused(&f, VC_RATECARD_JSON,
          "[{\"prefix\":\"91\",\"rate_per_minute\":1,\"initial_s\":1,"
          "\"subsequent_s\":1,\"currency\":\"USD\"}]",
          VC_EINVALID, "entry 1: unknown field 'rate_per_minute'");
  refused(&f, VC_RATECARD_JSON,
          "[{\"prefix\":\"91\",\"rate_per_min\":1,\"initial_s\":1,"
          "\"subsequent_s\":1,\"currency\":\"EURO\"}]",
          VC_EINVALID, "entry 1: currency");
  refused(&f, VC_RATECARD_JSON, "[[[[[[1]]]]]]", VC_ETOOBIG, "nested");
  teardown(&f);
}

static void test_billing__spec_errors(void)
{
  fixture f;
  vc_ratecard_spec s = VC_RATECARD_SPEC_INIT;
  vc_ratecard_entry e[2] = { VC_RATECARD_ENTRY_INIT,
                             VC_RATECARD_ENTRY_INIT };
  char id[VC_ID_SIZE];

  setup(&f);
  e[0].prefix = "44";
  e[0].rate_per_min_micros = 100;
  e[0].currency = "GBP";
  e[1] = e[0];
  e[1].prefix = "4420";
  s.provider = "twilio-voice";
  s.entries = e;
  s.nentries = 2;
  e[1].initial_s = 0;
  CHECK_RC(vc_ratecard_set(id, f.a, &s), VC_EINVALID);
  CHECK(strstr(vc_error_last()->message, "entry 2: billing pulses") != NULL);
  e[1].initial_s = 60;
  e[1].connection_fee_micros = VC_RATECARD_AMOUNT_MAX + 1;
  CHECK_RC(vc_ratecard_set(id, f.a, &s), VC_EINVALID);
  CHECK(strstr(vc_error_last()->message, "entry 2: amount is larger") !=
        NULL);
  e[1].connection_fee_micros = 0;
  e[1].prefix = NULL;
  CHECK_RC(vc_ratecard_set(id, f.a, &s), VC_EINVALID);
  e[1].prefix = "44";
  CHECK_RC(vc_ratecard_set(id, f.a, &s), VC_EINVALID);
  CHECK(strstr(vc_error_last()->message, "already at entry 1") != NULL);
  e[1].prefix = "4420";
  e[1].version = 99;
  CHECK_RC(vc_ratecard_set(id, f.a, &s), VC_EVERSION);
  e[1].version = VC_RATECARD_ENTRY_VERSION;
  s.provider = NULL;
  CHECK_RC(vc_ratecard_set(id, f.a, &s), VC_EINVALID);
  s.provider = "Twilio Voice";
  CHECK_RC(vc_ratecard_set(id, f.a, &s), VC_EINVALID);
  s.provider = "twilio-voice";
  s.effective_from = -1;
  CHECK_RC(vc_ratecard_set(id, f.a, &s), VC_EINVALID);
  s.effective_from = 0;
  s.entries = NULL;
  CHECK_RC(vc_ratecard_set(id, f.a, &s), VC_EINVALID);
  s.entries = e;
  CHECK_RC(vc_ratecard_import(id, f.a, &s, VC_RATECARD_JSON, "[]", 2),
           VC_EINVALID);
  CHECK(raw_count("SELECT COUNT(*) FROM vc_ratecard") == 0);
  /* An empty card is a card (it prices nothing). */
  s.nentries = 0;
  s.entries = NULL;
  CHECK_OK(vc_ratecard_set(id, f.a, &s));
  s.entries = e;
  s.nentries = 2;
  CHECK_OK(vc_ratecard_set(id, f.a, &s));
  CHECK(raw_count("SELECT COUNT(*) FROM vc_ratecard") == 1);
  CHECK(raw_count("SELECT COUNT(*) FROM vc_ratecard_entry") == 2);
  /* A bad replacement leaves the stored card whole. */
  e[1].currency = "gbp";
  CHECK_RC(vc_ratecard_set(id, f.a, &s), VC_EINVALID);
  CHECK(raw_count("SELECT COUNT(*) FROM vc_ratecard_entry") == 2);
  teardown(&f);
}

static void test_billing__gl_options(void)
{
  fixture f;
  vc_gl_accounts a = VC_GL_ACCOUNTS_INIT;
  vc_gl_export_options o = VC_GL_EXPORT_OPTIONS_INIT;
  vc_buf out = VC_BUF_INIT;

  setup(&f);
  a.expense_account = "=HYPERLINK(1)";
  CHECK_RC(vc_gl_accounts_set(f.a, &a), VC_EINVALID);
  a.expense_account = "6100\"";
  CHECK_RC(vc_gl_accounts_set(f.a, &a), VC_EINVALID);
  a.expense_account = "6100";
  a.provider = "twilio-voice";
  a.channel = "tw-main";
  CHECK_RC(vc_gl_accounts_set(f.a, &a), VC_EINVALID);
  a.provider = NULL;
  a.channel = "nope";
  CHECK_RC(vc_gl_accounts_set(f.a, &a), VC_ENOTFOUND);
  a.channel = "tw-main";
  CHECK_OK(vc_gl_accounts_set(f.a, &a));
  CHECK(raw_count("SELECT COUNT(*) FROM vc_gl_account") == 1);
  /* All codes NULL clears the scope. */
  a.expense_account = NULL;
  CHECK_OK(vc_gl_accounts_set(f.a, &a));
  CHECK(raw_count("SELECT COUNT(*) FROM vc_gl_account") == 0);

  o.from = T0;
  o.to = T0;
  CHECK_RC(vc_gl_export(&out, f.a, &o), VC_EINVALID);
  o.to = T0 + 1;
  o.format = 3;
  CHECK_RC(vc_gl_export(&out, f.a, &o), VC_EINVALID);
  o.format = VC_GL_CSV;
  o.version = 2;
  CHECK_RC(vc_gl_export(&out, f.a, &o), VC_EVERSION);
  o.version = VC_GL_EXPORT_OPTIONS_VERSION;
  CHECK_OK(vc_gl_export(&out, f.a, &o));
  CHECK_STR(out.ptr, "type,date,account,debit,credit,cost_center,currency,"
            "reference,description,entry,debit_micros,credit_micros\r\n");
  vc_buf_dispose(&out);
  teardown(&f);
}

VC_TESTS(
  VC_TEST(test_billing__quote_prefixes_and_pulses),
  VC_TEST(test_billing__channel_card_and_effective_from),
  VC_TEST(test_billing__list_and_isolation),
  VC_TEST(test_billing__csv_errors),
  VC_TEST(test_billing__json_errors),
  VC_TEST(test_billing__spec_errors),
  VC_TEST(test_billing__gl_options),
)
