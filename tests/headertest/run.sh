#!/usr/bin/env bash
# Public-header hygiene (CONVENTIONS A.9, H.49).
#
#   tests/headertest/run.sh [--include DIR] [--lib LIBRARY]
#
# - every public header (vyomcomm.h, vyomcomm/*.h, vyomcomm/sys/*.h)
#   compiles on its own, included twice, as C99 and as C++11, with
#   -Wall -Wextra -pedantic -Werror (one check per header);
# - every VC_X_INIT macro (except VC_BUF_INIT: vc_buf is not versioned)
#   starts with VC_X_VERSION and has a vc_x_init() function declared;
# - the tables in docs/error-handling.md match errors.h;
# - with --lib: every symbol the library exports is declared in a public
#   header, and every function a public header declares is exported.
#
# Prints "ok - ..." / "not ok - ..." per check and "N passed, N failed"
# last; exits 1 when a check failed. Uses $CC / $CXX (default cc / c++).
# Registered as the meson test 'headertest' (tests/headertest/meson.build).
set -u

here=$(cd "$(dirname "$0")" && pwd)
inc=$(cd "$here/../../include" && pwd)
lib=
while [ $# -gt 0 ]; do
  case $1 in
    --include) inc=$2; shift 2 ;;
    --lib) lib=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
case $lib in ''|/*) ;; *) lib=$PWD/$lib ;; esac
CC=${CC:-cc}
CXX=${CXX:-c++}

npass=0 nfail=0
ok() { echo "ok - $1"; npass=$((npass + 1)); }
notok() { echo "not ok - $1"; nfail=$((nfail + 1)); }
indent() { sed 's/^/    /'; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cd "$inc" || exit 2
mapfile -t headers < <(ls vyomcomm.h vyomcomm/*.h vyomcomm/sys/*.h | LC_ALL=C sort)

# 1. Each header alone, as C99 and as C++11.
for h in "${headers[@]}"; do
  printf '#include <%s>\n#include <%s>\nint vc_headertest_dummy;\n' "$h" "$h" \
    > "$tmp/t.c"
  cp "$tmp/t.c" "$tmp/t.cpp"
  errs=
  if ! $CC -std=c99 -Wall -Wextra -pedantic -Werror -I"$inc" \
       -c "$tmp/t.c" -o "$tmp/t.o" > "$tmp/err" 2>&1; then
    errs="C99: $(cat "$tmp/err")"
  fi
  if ! $CXX -std=c++11 -Wall -Wextra -pedantic -Werror -I"$inc" \
       -c "$tmp/t.cpp" -o "$tmp/t.o" > "$tmp/err" 2>&1; then
    errs="$errs
C++11: $(cat "$tmp/err")"
  fi
  if [ -z "$errs" ]; then
    ok "header $h compiles alone as C99 and C++11"
  else
    notok "header $h compiles alone as C99 and C++11"
    printf '%s\n' "$errs" | indent
  fi
done

# Declarations, with comments removed and each declaration on one line.
cat "${headers[@]}" \
  | perl -0777 -pe 's{/\*.*?\*/}{ }gs; s{//[^\n]*}{}g; s{\s+}{ }g' \
  > "$tmp/all"

grep -oE 'VC_EXTERN\([^)]*\)[[:space:]]*\**[[:space:]]*vc_[A-Za-z0-9_]+' "$tmp/all" \
  | sed -E 's/.*[^A-Za-z0-9_](vc_[A-Za-z0-9_]+)$/\1/' | LC_ALL=C sort -u \
  > "$tmp/declared"

# 2. VC_X_INIT <-> VC_X_VERSION and vc_x_init().
bad=
for m in $(grep -ohE '#[[:space:]]*define[[:space:]]+VC_[A-Z0-9_]+_INIT\b' "${headers[@]}" \
           | awk '{print $NF}' | LC_ALL=C sort -u); do
  [ "$m" = VC_BUF_INIT ] && continue
  base=${m%_INIT}
  fn=$(echo "${base}_init" | tr 'A-Z' 'a-z')
  if ! grep -qx "$fn" "$tmp/declared"; then
    bad="$bad
$m has no $fn() declared"
  fi
  if ! grep -qE "define ${m}[[:space:]\\]*\{[[:space:]]*${base}_VERSION\b" "$tmp/all"; then
    bad="$bad
$m does not start with ${base}_VERSION"
  fi
done
if [ -z "$bad" ]; then
  ok "every VC_X_INIT has VC_X_VERSION first and a vc_x_init() twin"
else
  notok "every VC_X_INIT has VC_X_VERSION first and a vc_x_init() twin"
  printf '%s\n' "${bad#?}" | indent
fi

# 3. The tables in docs/error-handling.md match the pinned codes and
#    classes of vyomcomm/errors.h.
doc=$here/../../docs/error-handling.md
perl -0777 -ne 'while (/typedef enum vc_error_(?:code|class) \{(.*?)\}/gs) {
    my $b = $1; $b =~ s{/\*.*?\*/}{}gs;
    print "$1 $2\n" while $b =~ /\b(VC_[A-Z0-9_]+)\s*=\s*(-?\d+)/g }' \
  vyomcomm/errors.h | LC_ALL=C sort > "$tmp/codes.h"
if [ -f "$doc" ]; then
  perl -ne 'print "$1 $2\n" if /^\|\s*`(VC_[A-Z0-9_]+)`\s*\|\s*(-?\d+)\s*\|/' "$doc" \
    | LC_ALL=C sort > "$tmp/codes.doc"
else
  : > "$tmp/codes.doc"
fi
if [ -s "$tmp/codes.h" ] && diff -u "$tmp/codes.h" "$tmp/codes.doc" > "$tmp/codes.diff"; then
  ok "docs/error-handling.md lists every error code and class with its value"
else
  notok "docs/error-handling.md lists every error code and class with its value"
  indent < "$tmp/codes.diff"
fi

# 4. Exported symbols <-> declarations.
if [ -n "$lib" ]; then
  if ! nm -D --defined-only "$lib" > "$tmp/nm" 2>"$tmp/err"; then
    notok "nm -D $lib"
    indent < "$tmp/err"
  else
    # Skip the version-node symbol (type A, e.g. VYOMCOMM_1.0).
    awk '$2 != "A" {print $3}' "$tmp/nm" | sed 's/@.*//' | LC_ALL=C sort -u \
      > "$tmp/exported"
    missing=$(LC_ALL=C comm -23 "$tmp/exported" "$tmp/declared")
    if [ -z "$missing" ]; then
      ok "every exported symbol is declared in include/"
    else
      notok "every exported symbol is declared in include/"
      echo "$missing" | indent
    fi
    missing=$(LC_ALL=C comm -13 "$tmp/exported" "$tmp/declared")
    if [ -z "$missing" ]; then
      ok "every function declared in include/ is exported"
    else
      notok "every function declared in include/ is exported"
      echo "$missing" | indent
    fi
  fi
else
  echo "# no --lib given: symbol checks skipped"
fi

echo "$npass passed, $nfail failed"
[ "$nfail" -eq 0 ]
