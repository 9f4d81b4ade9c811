#!/bin/sh
# Runs the Go binding's tests against the library of a build tree; meson
# registers it as the test 'go' (suite 'bindings') with the environment
# set (bindings/go/meson.build). Exit 77 tells meson the test skipped.
#
# VC_GO              the go program ("" when meson found none)
# VC_GO_SANITIZE     the build's b_sanitize
# VC_GO_RACE         1 to add -race (the default: on, off under sanitizers)
# VC_GO_TEST_FLAGS   extra flags for go test (e.g. "-run Campaign -v")
set -u

if [ -z "${VC_GO:-}" ] || [ ! -x "$VC_GO" ]; then
  echo "SKIP: no go program (Debian: apt-get install golang-go)"
  exit 77
fi

race="${VC_GO_RACE:-1}"
extra=""
case "${VC_GO_SANITIZE:-none}" in
  none|"") ;;
  *thread*)
    # go -race brings its own ThreadSanitizer runtime, which cannot share
    # a process with the one the library was built with.
    echo "SKIP: the Go tests do not run against a ThreadSanitizer build"
    exit 77 ;;
  *address*)
    # go -asan links and instruments with AddressSanitizer as the library
    # was; -race cannot go with it.
    race=0
    extra="-asan"
    export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0}" ;;
  *)
    race=0 ;;
esac
[ "$race" = 1 ] && extra="$extra -race"

mkdir -p "$GOCACHE" "$GOPATH"
echo "$("$VC_GO" version); go test -count=1 $extra ${VC_GO_TEST_FLAGS:-}"
# shellcheck disable=SC2086
exec "$VC_GO" test -count=1 $extra ${VC_GO_TEST_FLAGS:-} .
