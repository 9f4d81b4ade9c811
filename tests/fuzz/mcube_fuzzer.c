/*
 * Fuzz target for the experimental mCube voice adapter
 * (adapters/voip/mcube.c): the callback token, parse_webhook (JSON and
 * form bodies) and parse_call on the same bytes. Input format and
 * invariants: voice_callback_fuzz.h; mCube posts one callback, so leg
 * events always come with the end.
 *
 * libFuzzer build (scratch directory, clang): as in mustache_fuzzer.c,
 * with tests/fuzz/mcube_fuzzer.c and -o mcube_fuzzer, then
 * ./mcube_fuzzer tests/fuzz/corpus/mcube
 */
#define FZ_ADAPTER (&vc__adapter_mcube)
#define FZ_ONE_CALLBACK 1
#define FZ_KEY "fuzzkey0123"
#define FZ_CONFIG "{\"api\": \"classic\"}"
#define FZ_CREDS "{\"api_key\": \"" FZ_KEY "\", \"webhook_secret\": \"" \
  FUZZ_SECRET "\"}"
/* hex HMAC-SHA256(FUZZ_SECRET, FUZZ_CALL_ID), computed with Python */
#define FUZZ_TOKEN \
  "77d50d21f8056d964bd8f2dbb63834484338b1aaddd25c64f27a09a8663d46e0"
#define FUZZ_KEY FZ_KEY

#include "voice_callback_fuzz.h"
