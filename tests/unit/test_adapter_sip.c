/*
 * Unit tests of the SIP adapter's parts that need no SIP peer
 * (adapters/voip/sip.c, sip_text.c): config and credential checks, URI
 * templates, the cause of every final status class, the SDP restated
 * on our dialogs (origin, direction) and the inactive answer the agent
 * gets, dtmf-relay and sipfrag bodies, and their bounds. The expected
 * SDP texts were written by hand from RFC 4566's grammar and RFC 3264's
 * answer rules (same media, a subset of the formats, port 0 kept).
 */
#include "core/common.h"
#include "core/buf.h"
#include "adapters/builtin.h"
#include "adapters/voip/sip_text.h"
#include "vyomcomm/sys/transport.h"

#include "harness.h"

#define SIP (&vc__adapter_sip)
#define CFG_MIN "{\"from\": \"sip:vyom@127.0.0.1\", " \
  "\"customer_uri\": \"sip:{number}@127.0.0.1:5072\"}"

static int init_rc(const char *cfg, const char *cred)
{
  void *st = NULL;
  int rc = SIP->init(&st, cfg, cred);

  CHECK((rc == 0) == (st != NULL));
  SIP->fini(st);
  return rc;
}

static void test_sip__vtable(void)
{
  CHECK_STR(SIP->name, "sip");
  CHECK(SIP->kind == VC_CHANNEL_VOICE);
  CHECK(SIP->session != NULL && SIP->session->version ==
        VC_SESSION_OPS_VERSION);
  CHECK(SIP->session->open && SIP->session->close &&
        SIP->session->place_call && SIP->session->operation);
  CHECK(SIP->session->run_script != NULL); /* takes calls (sip_in.c) */
  CHECK(SIP->build_call == NULL && SIP->parse_call == NULL);
  CHECK(SIP->capabilities & VC_CAP_CALL_HOLD);
  CHECK(SIP->capabilities & VC_CAP_CALL_TRANSFER);
  CHECK(SIP->capabilities & VC_CAP_CALL_HANGUP);
  CHECK(!(SIP->capabilities & VC_CAP_CALL_RECORD));
  CHECK(!(SIP->capabilities & VC_CAP_CALL_SCRIPT));
}

static void test_sip__config_ok(void)
{
  CHECK_OK(init_rc(CFG_MIN, "{}"));
  CHECK_OK(init_rc(CFG_MIN, NULL));
  CHECK_OK(init_rc(
    "{\"proxy\": \"sip:trunk.example.net:5060\", \"transport\": \"tcp\", "
    "\"local_address\": \"::1\", \"local_port\": 5090, "
    "\"from\": \"sip:{number}@trunk.example.net\", "
    "\"aor\": \"sip:1001@trunk.example.net\", \"register\": true, "
    "\"agent_uri\": \"sip:{number}@pbx.example.net\", "
    "\"customer_uri\": \"sip:{number}@trunk.example.net;user=phone\"}",
    "{\"username\": \"1001\", \"password\": \"s3cret:pw\"}"));
  /* The caller-id pool every voice channel takes. */
  CHECK_OK(init_rc("{\"from\": \"sip:a@h\", \"customer_uri\": "
                   "\"sip:{number}@h\", "
                   "\"caller_ids\": [\"+14155550100\", \"+914066000000\"]}",
                   "{}"));
  /* Calls taken: from the listed peers, any, or the proxy's address. */
  CHECK_OK(init_rc("{\"from\": \"sip:a@h\", \"customer_uri\": "
                   "\"sip:{number}@h\", \"inbound\": true, "
                   "\"inbound_peers\": [\"10.0.0.5\", \"2001:db8::1\"]}",
                   "{}"));
  CHECK_OK(init_rc("{\"from\": \"sip:a@h\", \"customer_uri\": "
                   "\"sip:{number}@h\", \"inbound\": true, "
                   "\"inbound_peers\": [\"*\"]}", "{}"));
  CHECK_OK(init_rc("{\"from\": \"sip:a@h\", \"customer_uri\": "
                   "\"sip:{number}@h\", \"inbound\": true, "
                   "\"proxy\": \"sip:192.0.2.7:5060;transport=udp\"}", "{}"));
  CHECK_OK(init_rc("{\"from\": \"sip:a@h\", \"customer_uri\": "
                   "\"sip:{number}@h\", \"inbound\": true, "
                   "\"proxy\": \"sip:trunk@[2001:db8::7]:5060\"}", "{}"));
  CHECK_OK(init_rc("{\"from\": \"sip:a@h\", \"customer_uri\": "
                   "\"sip:{number}@h\", \"inbound\": false}", "{}"));
}

static void test_sip__config_bad(void)
{
  static const struct { const char *cfg, *cred, *msg; } bad[] = {
    { "{\"customer_uri\": \"sip:{number}@h\"}", "{}", "config.from" },
    { "{\"from\": \"sip:a@h\"}", "{}", "config.customer_uri" },
    { "{\"from\": \"sip:a@h\", \"customer_uri\": \"sip:a@h\"}", "{}",
      "{number}" },
    { "{\"from\": \"sip:a@h\", \"customer_uri\": \"sip:{number}@h{x}\"}",
      "{}", "brace" },
    { "{\"from\": \"sip:a@h\", \"customer_uri\": \"sips:{number}@h\"}",
      "{}", "customer_uri" },
    { "{\"from\": \"sip:a@h\", \"customer_uri\": \"sip:h@{number}\"}",
      "{}", "before '@'" },
    { "{\"from\": \"sip:a@h\", \"customer_uri\": "
      "\"sip:{number}{number}@h\"}", "{}", "exactly once" },
    { "{\"from\": \"sip:a b@h\", \"customer_uri\": \"sip:{number}@h\"}",
      "{}", "config.from" },
    { "{\"from\": \"sip:<a>@h\", \"customer_uri\": \"sip:{number}@h\"}",
      "{}", "config.from" },
    { "{\"from\": \"sip:a@h\", \"customer_uri\": \"sip:{number}@h\", "
      "\"transport\": \"tls\"}", "{}", "config.transport" },
    { "{\"from\": \"sip:a@h\", \"customer_uri\": \"sip:{number}@h\", "
      "\"local_port\": 70000}", "{}", "config.local_port" },
    { "{\"from\": \"sip:a@h\", \"customer_uri\": \"sip:{number}@h\", "
      "\"local_port\": \"5060\"}", "{}", "config.local_port" },
    { "{\"from\": \"sip:a@h\", \"customer_uri\": \"sip:{number}@h\", "
      "\"local_address\": \"localhost\"}", "{}", "config.local_address" },
    { "{\"from\": \"sip:a@h\", \"customer_uri\": \"sip:{number}@h\", "
      "\"register\": \"yes\"}", "{}", "config.register" },
    { "{\"from\": \"sip:a@h\", \"customer_uri\": \"sip:{number}@h\", "
      "\"register\": true}", "{}", "config.proxy" },
    { "{\"from\": \"sip:a@h\", \"customer_uri\": \"sip:{number}@h\", "
      "\"register\": true, \"proxy\": \"sip:h\"}", "{}", "credentials" },
    { "{\"from\": \"sip:{number}@h\", \"customer_uri\": \"sip:{number}@h\","
      " \"register\": true, \"proxy\": \"sip:h\"}",
      "{\"username\": \"u\", \"password\": \"p\"}", "config.aor" },
    { "{\"from\": \"sip:a@h\", \"customer_uri\": \"sip:{number}@h\", "
      "\"proxy\": \"http://h\"}", "{}", "config.proxy" },
    { "{\"from\": \"sip:a@h\", \"customer_uri\": \"sip:{number}@h\", "
      "\"colour\": 1}", "{}", "unknown key" },
    { CFG_MIN, "{\"username\": \"u\"}", "go together" },
    { CFG_MIN, "{\"username\": \"u\", \"password\": \"p\", \"x\": 1}",
      "unknown key" },
    { CFG_MIN, "{\"username\": \"u\", \"password\": 5}", "password" },
    { "{\"from\": \"sip:a@h\", \"customer_uri\": \"sip:{number}@h\", "
      "\"keepalive_s\": -1}", "{}", "config.keepalive_s" },
    { "{\"from\": \"sip:a@h\", \"customer_uri\": \"sip:{number}@h\", "
      "\"keepalive_s\": 1e30}", "{}", "config.keepalive_s" },
    { "[1]", "{}", "config" },
    { "{\"from\": \"sip:a@h\", \"customer_uri\": \"sip:{number}@h\", "
      "\"inbound\": 1}", "{}", "config.inbound must" },
    { "{\"from\": \"sip:a@h\", \"customer_uri\": \"sip:{number}@h\", "
      "\"inbound\": true}", "{}", "config.inbound_peers" },
    { "{\"from\": \"sip:a@h\", \"customer_uri\": \"sip:{number}@h\", "
      "\"inbound\": true, \"proxy\": \"sip:trunk.example.net\"}", "{}",
      "config.inbound_peers" },
    { "{\"from\": \"sip:a@h\", \"customer_uri\": \"sip:{number}@h\", "
      "\"inbound\": true, \"inbound_peers\": []}", "{}",
      "config.inbound_peers" },
    { "{\"from\": \"sip:a@h\", \"customer_uri\": \"sip:{number}@h\", "
      "\"inbound\": true, \"inbound_peers\": [\"pbx.example.net\"]}", "{}",
      "config.inbound_peers[0]" },
    { "{\"from\": \"sip:a@h\", \"customer_uri\": \"sip:{number}@h\", "
      "\"inbound\": true, \"inbound_peers\": [\"*\", \"10.0.0.1\"]}",
      "{}", "stands alone" },
    { "{\"from\": \"sip:a@h\", \"customer_uri\": \"sip:{number}@h\", "
      "\"inbound_peers\": \"10.0.0.1\"}", "{}", "config.inbound_peers" },
    { "{\"from\": \"sip:a@h\", \"customer_uri\": \"sip:{number}@h\", "
      "\"inbound_peers\": [\"1.1.1.1\", \"1.1.1.2\", \"1.1.1.3\", "
      "\"1.1.1.4\", \"1.1.1.5\", \"1.1.1.6\", \"1.1.1.7\", \"1.1.1.8\", "
      "\"1.1.1.9\", \"1.1.1.10\", \"1.1.1.11\", \"1.1.1.12\", "
      "\"1.1.1.13\", \"1.1.1.14\", \"1.1.1.15\", \"1.1.1.16\", "
      "\"1.1.1.17\"]}", "{}", "1 to 16" },
  };

  for (size_t i = 0; i < VC_ARRAY_SIZE(bad); i++) {
    int rc = init_rc(bad[i].cfg, bad[i].cred);
    if (rc != VC_EINVALID || strstr(vc_error_last()->message,
                                    bad[i].msg) == NULL)
      fprintf(stderr, "  case %zu: %d %s\n", i, rc,
              vc_error_last()->message);
    CHECK(rc == VC_EINVALID);
    CHECK(strstr(vc_error_last()->message, bad[i].msg) != NULL);
  }
  /* A password never appears in a message. */
  CHECK(init_rc(CFG_MIN, "{\"username\": \"u\", \"password\": "
                "\"hunter2 x\"}") == VC_EINVALID);
  CHECK(strstr(vc_error_last()->message, "hunter2") == NULL);
}

static void test_sip__templates(void)
{
  char out[VC__SIP_URI_MAX + 1];

  CHECK_OK(vc__sip_expand(out, sizeof(out), "sip:{number}@10.0.0.1:5060",
                          "+14155550100"));
  CHECK_STR(out, "sip:+14155550100@10.0.0.1:5060");
  CHECK_OK(vc__sip_expand(out, sizeof(out),
                          "sip:{number}@trunk.example;user=phone", "1001"));
  CHECK_STR(out, "sip:1001@trunk.example;user=phone");
  CHECK_OK(vc__sip_expand(out, sizeof(out), "sip:9{number}@h", "*72#"));
  CHECK_STR(out, "sip:9*72%23@h");
  CHECK(vc__sip_expand(out, sizeof(out), "sip:{number}@h", "") ==
        VC_EINVALID);
  CHECK(vc__sip_expand(out, sizeof(out), "sip:{number}@h", "1@evil") ==
        VC_EINVALID);
  CHECK(vc__sip_expand(out, sizeof(out), "sip:{number}@h", "1;x=y") ==
        VC_EINVALID);
  CHECK(vc__sip_expand(out, sizeof(out), "sip:{number}@h",
                       "123456789012345678901234567890123") == VC_EINVALID);
  CHECK(vc__sip_expand(out, 12, "sip:{number}@host", "12345") ==
        VC_ETOOBIG);
  CHECK_OK(vc__sip_expand(out, 13, "sip:{number}@h", "123456"));
  CHECK_STR(out, "sip:123456@h");
  CHECK(vc__sip_expand(out, sizeof(out), "sip:x@h", "1") == VC_EINVALID);

  CHECK_OK(vc__sip_check_uri("sip:agent7@pbx.example:5070", "x"));
  CHECK_OK(vc__sip_check_uri("sip:pbx.example", "x"));
  CHECK(vc__sip_check_uri("sip:", "x") == VC_EINVALID);
  CHECK(vc__sip_check_uri("sip:@h", "x") == VC_EINVALID);
  CHECK(vc__sip_check_uri("sip:a@", "x") == VC_EINVALID);
  CHECK(vc__sip_check_uri("sip:a@b@c", "x") == VC_EINVALID);
  CHECK(vc__sip_check_uri("sip:a@h\r\nX: y", "x") == VC_EINVALID);
  CHECK(vc__sip_check_uri("tel:+1415", "x") == VC_EINVALID);
  CHECK(vc__sip_check_uri(NULL, "x") == VC_EINVALID);
}

static void test_sip__causes(void)
{
  CHECK(vc__sip_cause(486) == VC_CAUSE_BUSY);
  CHECK(vc__sip_cause(600) == VC_CAUSE_BUSY);
  CHECK(vc__sip_cause(480) == VC_CAUSE_NO_ANSWER);
  CHECK(vc__sip_cause(408) == VC_CAUSE_NO_ANSWER);
  CHECK(vc__sip_cause(487) == VC_CAUSE_CANCELED);
  CHECK(vc__sip_cause(603) == VC_CAUSE_REJECTED);
  CHECK(vc__sip_cause(404) == VC_CAUSE_UNREACHABLE);
  CHECK(vc__sip_cause(484) == VC_CAUSE_UNREACHABLE);
  CHECK(vc__sip_cause(604) == VC_CAUSE_UNREACHABLE);
  CHECK(vc__sip_cause(503) == VC_CAUSE_PROVIDER_ERROR);
  CHECK(vc__sip_cause(500) == VC_CAUSE_PROVIDER_ERROR);
  CHECK(vc__sip_cause(407) == VC_CAUSE_PROVIDER_ERROR);
  CHECK(vc__sip_cause(488) == VC_CAUSE_REJECTED);
  CHECK(vc__sip_cause(606) == VC_CAUSE_REJECTED);
  CHECK(vc__sip_failover_worthy(503));
  CHECK(vc__sip_failover_worthy(500));
  CHECK(vc__sip_failover_worthy(401));
  CHECK(vc__sip_failover_worthy(408));
  CHECK(!vc__sip_failover_worthy(486));
  CHECK(!vc__sip_failover_worthy(404));
  CHECK(!vc__sip_failover_worthy(603));
}

/* A phone's offer (O1), with LF line ends as some phones write. */
#define OFFER \
  "v=0\n" \
  "o=agent 2890844526 2890844526 IN IP4 192.0.2.10\n" \
  "s=call\n" \
  "c=IN IP4 192.0.2.10\n" \
  "t=0 0\n" \
  "m=audio 49170 RTP/AVP 0 8 101\n" \
  "a=rtpmap:0 PCMU/8000\n" \
  "a=rtpmap:8 PCMA/8000\n" \
  "a=rtpmap:101 telephone-event/8000\n" \
  "a=fmtp:101 0-15\n" \
  "a=sendrecv\n" \
  "m=video 0 RTP/AVP 96\n" \
  "a=rtpmap:96 H264/90000\n"

#define OPUS \
  "v=0\r\no=a 1 1 IN IP6 ::1\r\ns=-\r\nc=IN IP6 ::1\r\nt=0 0\r\n" \
  "m=audio 4000 RTP/AVP 101 0\r\na=rtpmap:101 opus/48000/2\r\n" \
  "a=fmtp:101 useinbandfec=1\r\na=rtpmap:1010 x/1\r\n"

static void test_sip__sdp_inactive_answer(void)
{
  vc__sdp_origin o = { 42, 0, "127.0.0.1" };
  vc_buf b = VC_BUF_INIT;

  CHECK_OK(vc__sip_sdp_inactive_answer(&b, OFFER, strlen(OFFER), &o));
  CHECK_STR(b.ptr,
            "v=0\r\n"
            "o=vyomcomm 42 1 IN IP4 127.0.0.1\r\n"
            "s=-\r\n"
            "c=IN IP4 127.0.0.1\r\n"
            "t=0 0\r\n"
            "m=audio 9 RTP/AVP 0\r\n"
            "a=rtpmap:0 PCMU/8000\r\n"
            "a=inactive\r\n"
            "m=video 0 RTP/AVP 96\r\n");
  CHECK(o.version == 1);
  /* The dynamic format's fmtp follows it. */
  CHECK_OK(vc__sip_sdp_inactive_answer(&b, OPUS, strlen(OPUS), &o));
  CHECK(strstr(b.ptr, "o=vyomcomm 42 2 IN IP4") != NULL);
  CHECK(strstr(b.ptr, "m=audio 9 RTP/AVP 101\r\na=rtpmap:101 opus/48000/2"
                      "\r\na=fmtp:101 useinbandfec=1\r\na=inactive\r\n")
        != NULL);
  CHECK(strstr(b.ptr, "1010") == NULL);
  vc_buf_dispose(&b);
}

static void test_sip__sdp_restate(void)
{
  vc__sdp_origin o = { 7, 0, "::1" };
  vc_buf b = VC_BUF_INIT;

  CHECK_OK(vc__sip_sdp_restate(&b, OFFER, strlen(OFFER), VC__SDP_KEEP, &o));
  CHECK_STR(b.ptr,
            "v=0\r\n"
            "o=vyomcomm 7 1 IN IP6 ::1\r\n"
            "s=call\r\n"
            "c=IN IP4 192.0.2.10\r\n"
            "t=0 0\r\n"
            "m=audio 49170 RTP/AVP 0 8 101\r\n"
            "a=rtpmap:0 PCMU/8000\r\n"
            "a=rtpmap:8 PCMA/8000\r\n"
            "a=rtpmap:101 telephone-event/8000\r\n"
            "a=fmtp:101 0-15\r\n"
            "a=sendrecv\r\n"
            "m=video 0 RTP/AVP 96\r\n"
            "a=rtpmap:96 H264/90000\r\n");
  /* Hold: every media section ends a=sendonly, the old one is gone. */
  CHECK_OK(vc__sip_sdp_restate(&b, OFFER, strlen(OFFER), VC__SDP_SENDONLY,
                               &o));
  CHECK_STR(b.ptr,
            "v=0\r\n"
            "o=vyomcomm 7 2 IN IP6 ::1\r\n"
            "s=call\r\n"
            "c=IN IP4 192.0.2.10\r\n"
            "t=0 0\r\n"
            "m=audio 49170 RTP/AVP 0 8 101\r\n"
            "a=rtpmap:0 PCMU/8000\r\n"
            "a=rtpmap:8 PCMA/8000\r\n"
            "a=rtpmap:101 telephone-event/8000\r\n"
            "a=fmtp:101 0-15\r\n"
            "a=sendonly\r\n"
            "m=video 0 RTP/AVP 96\r\n"
            "a=rtpmap:96 H264/90000\r\n"
            "a=sendonly\r\n");
  CHECK_OK(vc__sip_sdp_restate(&b, OFFER, strlen(OFFER), VC__SDP_SENDRECV,
                               &o));
  CHECK(strstr(b.ptr, "o=vyomcomm 7 3 ") != NULL);
  CHECK(strstr(b.ptr, "sendonly") == NULL);
  vc_buf_dispose(&b);
}

static void test_sip__sdp_bad(void)
{
  static const char *const bad[] = {
    "",
    "v=1\r\no=a 1 1 IN IP4 h\r\nm=audio 1 RTP/AVP 0\r\n",
    "o=a 1 1 IN IP4 h\r\nv=0\r\nm=audio 1 RTP/AVP 0\r\n",
    "v=0\r\no=a 1 1 IN IP4 h\r\n",                        /* no m= */
    "v=0\r\nm=audio 1 RTP/AVP 0\r\n",                     /* no o= */
    "v=0\r\no=a\r\no=b\r\nm=audio 1 RTP/AVP 0\r\n",       /* two o= */
    "v=0\r\no=a 1 1 IN IP4 h\r\nX=1\r\nm=audio 1 RTP/AVP 0\r\n",
    "v=0\r\no=a 1 1 IN IP4 h\r\nm=audio 1 RTP/AVP 0\r\na=x\x01y\r\n",
    "v=0\r\no=a 1 1 IN IP4 h\r\nm=audio 1 RTP/AVP\r\n",   /* no format */
    "v=0\r\no=a 1 1 IN IP4 h\r\nm=audio\r\n",
    "v=0\r\no=a 1 1 IN IP4 h\r\nhello\r\nm=audio 1 RTP/AVP 0\r\n",
  };
  vc__sdp_origin o = { 1, 5, "127.0.0.1" };
  vc_buf b = VC_BUF_INIT, big = VC_BUF_INIT;

  for (size_t i = 0; i < VC_ARRAY_SIZE(bad); i++) {
    /* The restate needs no format; the answer does. */
    if (i != 8 && i != 9)
      CHECK(vc__sip_sdp_restate(&b, bad[i], strlen(bad[i]), VC__SDP_KEEP,
                                &o) == VC_EINVALID);
    CHECK(vc__sip_sdp_inactive_answer(&b, bad[i], strlen(bad[i]), &o) ==
          VC_EINVALID);
    CHECK(o.version == 5);      /* a failure uses no version */
    CHECK(b.ptr == NULL);
  }
  /* An embedded NUL, and bodies past the bounds. */
  CHECK(vc__sip_sdp_restate(&b, "v=0\r\no=a\0\r\nm=a 1 b 0\r\n", 22,
                            VC__SDP_KEEP, &o) == VC_EINVALID);
  CHECK_OK(vc__buf_puts(&big, "v=0\r\no=a 1 1 IN IP4 h\r\nm=audio 1 R 0\r\n"));
  while (big.size <= VC__SIP_SDP_MAX)
    CHECK_OK(vc__buf_puts(&big, "a=x\r\n"));
  CHECK(vc__sip_sdp_restate(&b, big.ptr, big.size, VC__SDP_KEEP, &o) ==
        VC_EINVALID);
  big.size = 0;
  CHECK_OK(vc__buf_puts(&big, "v=0\r\no=a 1 1 IN IP4 h\r\nm=audio 1 R 0\r\na="));
  for (int i = 0; i < VC__SIP_SDP_LINE_MAX; i++)
    CHECK_OK(vc__buf_puts(&big, "x"));
  CHECK(vc__sip_sdp_restate(&b, big.ptr, big.size, VC__SDP_KEEP, &o) ==
        VC_EINVALID);
  vc_buf_dispose(&big);
}

static void test_sip__dtmf_relay(void)
{
  char d = 0;

  CHECK_OK(vc__sip_dtmf_relay(&d, "Signal=5\r\nDuration=160\r\n", 24));
  CHECK(d == '5');
  CHECK_OK(vc__sip_dtmf_relay(&d, "Duration=100\nsignal = #\n", 24));
  CHECK(d == '#');
  CHECK_OK(vc__sip_dtmf_relay(&d, "Signal=*", 8));
  CHECK(d == '*');
  CHECK_OK(vc__sip_dtmf_relay(&d, "Signal=10", 9));
  CHECK(d == '*');
  CHECK_OK(vc__sip_dtmf_relay(&d, "Signal=11", 9));
  CHECK(d == '#');
  CHECK_OK(vc__sip_dtmf_relay(&d, "Signal=b", 8));
  CHECK(d == 'B');
  CHECK(vc__sip_dtmf_relay(&d, "Signal=12", 9) == VC_EINVALID);
  CHECK(vc__sip_dtmf_relay(&d, "Signal=E", 8) == VC_EINVALID);
  CHECK(vc__sip_dtmf_relay(&d, "Signal=", 7) == VC_EINVALID);
  CHECK(vc__sip_dtmf_relay(&d, "Duration=160", 12) == VC_EINVALID);
  CHECK(vc__sip_dtmf_relay(&d, "", 0) == VC_EINVALID);
  CHECK(vc__sip_dtmf_relay(&d, NULL, 0) == VC_EINVALID);
}

static void test_sip__dtmf_plain(void)
{
  char d = 0;

  CHECK_OK(vc__sip_dtmf_plain(&d, "5", 1));
  CHECK(d == '5');
  CHECK_OK(vc__sip_dtmf_plain(&d, " #\r\n", 4));
  CHECK(d == '#');
  CHECK_OK(vc__sip_dtmf_plain(&d, "c\n", 2));
  CHECK(d == 'C');
  CHECK(vc__sip_dtmf_plain(&d, "55", 2) == VC_EINVALID);
  CHECK(vc__sip_dtmf_plain(&d, "Signal=5", 8) == VC_EINVALID);
  CHECK(vc__sip_dtmf_plain(&d, "\r\n", 2) == VC_EINVALID);
  CHECK(vc__sip_dtmf_plain(&d, "", 0) == VC_EINVALID);
  CHECK(vc__sip_dtmf_plain(&d, NULL, 0) == VC_EINVALID);
}

/* The number called and the caller of a call taken. */
static void test_sip__parties(void)
{
  char out[VC__SIP_URI_MAX + 1];
  char big[VC__SIP_USER_MAX + 2];

  CHECK_OK(vc__sip_called(out, sizeof(out), "+914412345678", 13,
                          "10.0.0.5", 8, 5070));
  CHECK_STR(out, "sip:+914412345678@10.0.0.5:5070");
  CHECK_OK(vc__sip_called(out, sizeof(out), "support", 7, "pbx.example", 11,
                          0));
  CHECK_STR(out, "sip:support@pbx.example");
  CHECK(vc__sip_called(out, sizeof(out), "", 0, "h", 1, 0) == VC_EINVALID);
  CHECK(vc__sip_called(out, sizeof(out), "a b", 3, "h", 1, 0) ==
        VC_EINVALID);
  CHECK(vc__sip_called(out, sizeof(out), "a<b", 3, "h", 1, 0) ==
        VC_EINVALID);
  CHECK(vc__sip_called(out, sizeof(out), "a", 1, "h/x", 3, 0) ==
        VC_EINVALID);
  CHECK(vc__sip_called(out, sizeof(out), "a", 1, "", 0, 0) == VC_EINVALID);
  memset(big, '1', sizeof(big));
  CHECK(vc__sip_called(out, sizeof(out), big, sizeof(big), "h", 1, 0) ==
        VC_EINVALID);
  CHECK(vc__sip_called(out, 10, "12345", 5, "host", 4, 0) == VC_ETOOBIG);

  CHECK_OK(vc__sip_caller(out, sizeof(out), "+15550000001", 12, "h", 1));
  CHECK_STR(out, "+15550000001");
  CHECK_OK(vc__sip_caller(out, sizeof(out), "15550000001", 11, "h", 1));
  CHECK_STR(out, "15550000001");
  CHECK_OK(vc__sip_caller(out, sizeof(out), "alice", 5, "example.com", 11));
  CHECK_STR(out, "sip:alice@example.com");
  CHECK_OK(vc__sip_caller(out, sizeof(out), "Anonymous", 9, "h", 1));
  CHECK_STR(out, "");
  CHECK_OK(vc__sip_caller(out, sizeof(out), "x", 1, "anonymous.invalid",
                          17));
  CHECK_STR(out, "");
  CHECK_OK(vc__sip_caller(out, sizeof(out), "", 0, "h", 1));
  CHECK_STR(out, "");
  CHECK(vc__sip_caller(out, sizeof(out), "a\"b", 3, "h", 1) == VC_EINVALID);
}

static void test_sip__sipfrag(void)
{
  CHECK(vc__sip_sipfrag("SIP/2.0 100 Trying\r\n", 20) == 100);
  CHECK(vc__sip_sipfrag("SIP/2.0 200 OK", 14) == 200);
  CHECK(vc__sip_sipfrag("SIP/2.0 486", 11) == 486);
  CHECK(vc__sip_sipfrag("SIP/2.0 099 x", 13) == VC_EINVALID);
  CHECK(vc__sip_sipfrag("SIP/2.0 700 x", 13) == VC_EINVALID);
  CHECK(vc__sip_sipfrag("SIP/2.0 2000 x", 14) == VC_EINVALID);
  CHECK(vc__sip_sipfrag("SIP/2.0 2a0 x", 13) == VC_EINVALID);
  CHECK(vc__sip_sipfrag("SIP/1.0 200 OK", 14) == VC_EINVALID);
  CHECK(vc__sip_sipfrag("SIP/2.0 20", 10) == VC_EINVALID);
}

VC_TESTS(
  VC_TEST(test_sip__vtable),
  VC_TEST(test_sip__config_ok),
  VC_TEST(test_sip__config_bad),
  VC_TEST(test_sip__templates),
  VC_TEST(test_sip__causes),
  VC_TEST(test_sip__sdp_inactive_answer),
  VC_TEST(test_sip__sdp_restate),
  VC_TEST(test_sip__sdp_bad),
  VC_TEST(test_sip__dtmf_relay),
  VC_TEST(test_sip__sipfrag),
  VC_TEST(test_sip__dtmf_plain),
  VC_TEST(test_sip__parties),
)
