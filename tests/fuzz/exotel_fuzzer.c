/*
 * Fuzz target for the Exotel voice adapter (adapters/voip/exotel.c):
 * the callback token, parse_webhook (JSON, form and multipart bodies),
 * parse_call and parse_control (a call's price) on the same bytes.
 * Input format and invariants: voice_callback_fuzz.h.
 *
 * libFuzzer build (scratch directory, clang): as in mustache_fuzzer.c,
 * with tests/fuzz/exotel_fuzzer.c and -o exotel_fuzzer, then
 * ./exotel_fuzzer tests/fuzz/corpus/exotel
 */
#define FZ_ADAPTER (&vc__adapter_exotel)
#define FZ_KEY "fuzzkey0123"
#define FZ_CONFIG "{\"account_sid\": \"fuzz\"}"
#define FZ_CREDS "{\"api_key\": \"" FZ_KEY "\", \"api_token\": " \
  "\"fuzztoken0123\", \"webhook_secret\": \"" FUZZ_SECRET "\"}"
/* hex HMAC-SHA256(FUZZ_SECRET, FUZZ_CALL_ID), computed with Python */
#define FUZZ_TOKEN \
  "77d50d21f8056d964bd8f2dbb63834484338b1aaddd25c64f27a09a8663d46e0"
#define FUZZ_KEY FZ_KEY
#define FZ_PRICE_SID "80bfbec2d78bbbf10fb851f4fa165211"

#include "voice_callback_fuzz.h"
