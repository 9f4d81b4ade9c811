#!/bin/sh
# A libFuzzer campaign over the fuzz targets (docs/fuzzing.md).
#
#   tests/fuzz/campaign.sh [-t seconds] [target...]
#
# Run from the source root. Builds the library with clang, ASan and UBSan
# into build-fuzz/ (the link line of mustache_fuzzer.c), then fuzzes each
# target in turn, niced, on a copy of its corpus under
# build-fuzz/campaign/<target>/ with the dictionaries of tests/fuzz/dict
# and the target's own string literals. The committed corpora are never
# written. Crashes, leaks, timeouts and out-of-memory inputs land in
# build-fuzz/campaign/<target>/artifacts/; a summary line per target in
# build-fuzz/campaign/campaign.log.
set -eu

secs=90
if [ "${1:-}" = "-t" ]; then
  secs=$2
  shift 2
fi
all="mustache segments address sendgrid_webhook twilio_webhook
  vonage_webhook mailgun_webhook sns_webhook telegram_webhook
  whatsapp_webhook sandbox_voice_webhook exotel mcube twilio_voice
  ratecard ivr_menu sip_body ari_event tzif contact_csv channel_config
  rest_api"
targets=${*:-$all}
root=$(pwd)
out=$root/build-fuzz
camp=$out/campaign

# The parser sources whose literals seed each target's dictionary, and
# the generic dictionaries that fit its input.
sources() {
  case $1 in
    mustache) echo src/msg/mustache.c ;;
    segments) echo src/msg/segments.c ;;
    address) echo src/msg/address.c ;;
    sendgrid_webhook) echo adapters/email/sendgrid.c ;;
    twilio_webhook) echo adapters/sms/twilio.c adapters/twilio_common.c ;;
    vonage_webhook) echo adapters/sms/vonage.c ;;
    mailgun_webhook) echo adapters/email/mailgun.c ;;
    sns_webhook) echo adapters/sms/sns.c ;;
    telegram_webhook) echo adapters/chat/telegram.c ;;
    whatsapp_webhook) echo adapters/chat/whatsapp.c ;;
    sandbox_voice_webhook) echo adapters/sandbox/voice.c ;;
    exotel) echo adapters/voip/exotel.c adapters/voip/callback.c ;;
    mcube) echo adapters/voip/mcube.c adapters/voip/callback.c ;;
    twilio_voice) echo adapters/voip/twilio_voice.c \
                    adapters/twilio_common.c ;;
    ratecard) echo src/call/ratecard_import.c ;;
    ivr_menu) echo src/call/ivr_def.c ;;
    sip_body) echo adapters/voip/sip_text.c ;;
    ari_event) echo adapters/voip/ari_proto.c ;;
    tzif) echo src/core/tz.c ;;
    contact_csv) echo src/core/csv.c ;;
    channel_config) echo adapters/common.c adapters/email/sendgrid.c \
                      adapters/email/mailgun.c adapters/sms/twilio.c \
                      adapters/voip/twilio_voice.c adapters/sms/sns.c \
                      adapters/sms/vonage.c adapters/chat/telegram.c \
                      adapters/chat/whatsapp.c adapters/sandbox/sandbox.c \
                      adapters/sandbox/voice.c adapters/voip/exotel.c \
                      adapters/voip/mcube.c adapters/voip/sip.c \
                      adapters/voip/ari_proto.c ;;
    rest_api) echo examples/vyomcomm/serve_http.c \
                examples/vyomcomm/serve_calls.c \
                examples/vyomcomm/serve_msg.c \
                examples/vyomcomm/serve_engage.c ;;
  esac
}
dicts() {
  case $1 in
    mustache|sendgrid_webhook|sns_webhook|telegram_webhook| \
    whatsapp_webhook|sandbox_voice_webhook|ratecard|ivr_menu| \
    ari_event|channel_config) echo json ;;
    twilio_webhook|twilio_voice) echo form ;;
    vonage_webhook|mailgun_webhook|exotel|mcube) echo json form ;;
    sip_body) echo sip ;;
    rest_api) echo json rest ;;
  esac
}
# What a target links beside the library: rest_api is `vyomcomm serve`'s
# request handling, built from the server's sources (and the OpenAPI
# document the build embeds) as examples/vyomcomm/meson.build lists them.
links() {
  case $1 in
    rest_api)
      echo -Iexamples/vyomcomm $(pkg-config --cflags libre) \
        -DHAVE_INTTYPES_H -DHAVE_STDBOOL_H \
        examples/vyomcomm/serve_http.c examples/vyomcomm/serve_calls.c \
        examples/vyomcomm/serve_msg.c examples/vyomcomm/serve_engage.c \
        examples/vyomcomm/channel_json.c examples/vyomcomm/cli_config.c \
        examples/vyomcomm/cli_util.c \
        "$out/examples/vyomcomm/serve_openapi.c" ;;
  esac
}

if [ ! -f "$out/build.ninja" ]; then
  CC=clang meson setup "$out" -Db_sanitize=address,undefined \
    -Dc_args=-fsanitize=fuzzer-no-link -Db_lundef=false
fi
ninja -C "$out" src/libvyomcomm_objects.a
case " $targets " in
  *" rest_api "*) ninja -C "$out" examples/vyomcomm/serve_openapi.c ;;
esac
mkdir -p "$out/bin" "$camp"

# Recoverable UBSan reports stop the run like a crash.
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export UBSAN_OPTIONS

for t in $targets; do
  bin=$out/bin/${t}_fuzzer
  clang -fsanitize=fuzzer,address,undefined -I. -Isrc -Iinclude \
    -I/usr/include/cjson -DVC_BUILDING_LIBRARY \
    "tests/fuzz/${t}_fuzzer.c" $(links "$t") \
    "$out/src/libvyomcomm_objects.a" \
    -lcjson -lsqlite3 -lcurl -lre -lmbedtls -lmbedx509 -lmbedcrypto \
    -lpthread -lm -o "$bin"
  d=$camp/$t
  mkdir -p "$d/corpus" "$d/artifacts"
  cp "tests/fuzz/corpus/$t/"* "$d/corpus/"
  : > "$d/$t.dict"
  for g in $(dicts "$t"); do
    grep -v '^#' "tests/fuzz/dict/$g.dict" >> "$d/$t.dict"
  done
  for s in $(sources "$t"); do
    grep -o '"[A-Za-z0-9_.:/+ -]\{2,24\}"' "$s" | sort -u >> "$d/$t.dict" \
      || true
  done
  echo "$(date -u +%T) start $t ${secs}s" >> "$camp/campaign.log"
  rc=0
  (cd "$d" && nice -n 19 "$bin" -jobs=1 -max_total_time="$secs" \
     -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
     -artifact_prefix="$d/artifacts/" \
     -dict="$d/$t.dict" "$d/corpus" > "$d/driver.log" 2>&1) || rc=$?
  execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' \
            "$d/fuzz-0.log" | tail -1 | sed 's/.*: //')
  echo "$(date -u +%T) end $t rc=$rc execs=${execs:-?}" \
    "artifacts: $(ls "$d/artifacts" | tr '\n' ' ')" >> "$camp/campaign.log"
done
