#!/usr/bin/env bash
# The ABI gate (docs/ABI.md).
#
#   tests/abi/check.sh [BUILD_DIR]            compare with the baseline
#   tests/abi/check.sh --update [BUILD_DIR]   rewrite the baseline
#
# BUILD_DIR (default: build) holds a meson build with debug info (the
# default buildtype, debugoptimized, has it). The baseline is two files
# named after the SONAME, committed in tests/abi/:
#
#   <soname>.abi        abidw's view of the exported functions and the
#                       public types they reach (normalized by abi.py)
#   <soname>.constants  the value of every VC_* enumerator and integer
#                       macro in the public headers
#
# Checks, one "ok"/"not ok" line each:
#   1. abidiff finds no removed function or variable and no changed type
#      (additions pass; members appended at the end of a versioned struct
#      pass),
#   2. versioned structs changed only by appending members,
#   3. pinned constants kept their values (struct versions may only grow),
#   4. every commit that changed a baseline file also changed docs/ABI.md,
#      and so does the working tree when a baseline file has uncommitted
#      changes.
# Exit status 0 when all pass.
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
update=0
build=
for arg in "$@"; do
  case $arg in
    --update) update=1 ;;
    -h|--help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) echo "check.sh: unknown option $arg" >&2; exit 2 ;;
    *) build=$arg ;;
  esac
done
build=${build:-$root/build}
case $build in /*) ;; *) build=$PWD/$build ;; esac

npass=0 nfail=0
ok() { echo "ok - abi: $1"; npass=$((npass + 1)); }
notok() { echo "not ok - abi: $1"; nfail=$((nfail + 1)); }
finish() {
  echo "abi check: $npass passed, $nfail failed"
  [ "$nfail" -eq 0 ]
  exit
}
indent() { sed 's/^/    /'; }

for tool in abidw abidiff python3 readelf "${CC:-cc}"; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    notok "tool '$tool' not found (Debian: abigail-tools, python3, binutils, gcc)"
    finish
  fi
done

# The shared library and its SONAME.
lib=
for f in "$build"/src/libvyomcomm.so.*; do
  [ -f "$f" ] && [ ! -L "$f" ] && lib=$f
done
if [ -z "$lib" ]; then
  notok "no shared library in $build/src (build first)"
  finish
fi
soname=$(readelf -d "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
if [ -z "$soname" ]; then
  notok "$lib has no SONAME"
  finish
fi
if ! readelf -S "$lib" | grep -q '\.debug_info'; then
  notok "$lib has no debug info (configure with buildtype debug or debugoptimized)"
  finish
fi
base_abi=$here/$soname.abi
base_const=$here/$soname.constants

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The current ABI.
if ! abidw --exported-interfaces-only \
      --headers-dir "$root/include/vyomcomm" --drop-private-types \
      --no-corpus-path --no-comp-dir-path --no-elf-needed \
      --type-id-style hash --out-file "$tmp/raw.abi" "$lib" 2>"$tmp/abidw.err" \
   || ! python3 "$here/abi.py" normalize "$tmp/raw.abi" "$tmp/current.abi"; then
  notok "abidw failed on $lib"
  indent < "$tmp/abidw.err"
  finish
fi
mapfile -t headers < <(ls "$root"/include/vyomcomm/*.h "$root"/include/vyomcomm/sys/*.h | LC_ALL=C sort)
if ! python3 "$here/abi.py" constants-src "$tmp/constants.c" "${headers[@]}" \
   || ! ${CC:-cc} -std=c99 -w -o "$tmp/constants" "$tmp/constants.c" 2>"$tmp/cc.err" \
   || ! "$tmp/constants" > "$tmp/current.constants"; then
  notok "cannot evaluate the constants of the public headers"
  indent < "$tmp/cc.err"
  finish
fi

if [ "$update" -eq 1 ]; then
  had=0
  [ -f "$base_abi" ] && had=1
  if [ "$had" -eq 1 ]; then
    echo "ABI changes against the old baseline:"
    abidiff "$base_abi" "$tmp/current.abi" | indent
    python3 "$here/abi.py" constants-compare "$base_const" "$tmp/current.constants" | indent
  fi
  cp "$tmp/current.abi" "$base_abi"
  cp "$tmp/current.constants" "$base_const"
  echo "wrote ${base_abi#"$root"/} and ${base_const#"$root"/}"
  echo "now add a dated entry with the reason under 'Baseline changes' in"
  echo "docs/ABI.md, and commit it together with the baseline."
  exit 0
fi

if [ ! -f "$base_abi" ] || [ ! -f "$base_const" ]; then
  notok "no baseline for $soname in tests/abi (a new SONAME needs 'check.sh --update' and a docs/ABI.md entry)"
  finish
fi

# 1. abidiff. Exit status bits: 1 error, 2 usage, 4 ABI change, 8
#    incompatible change (removed symbols, SONAME change).
python3 "$here/abi.py" suppressions "$base_abi" "$tmp/versioned.suppr"
abidiff --suppressions "$tmp/versioned.suppr" "$base_abi" "$tmp/current.abi" \
  > "$tmp/report" 2>&1
rc=$?
if [ $((rc & 3)) -ne 0 ]; then
  notok "abidiff failed (exit $rc)"
  indent < "$tmp/report"
elif [ $((rc & 8)) -ne 0 ]; then
  notok "incompatible change against the baseline (removed symbols or SONAME)"
  indent < "$tmp/report"
elif [ $((rc & 4)) -ne 0 ] && ! python3 "$here/abi.py" summary "$tmp/report"; then
  notok "changed functions, variables or types against the baseline"
  indent < "$tmp/report"
else
  if [ $((rc & 4)) -ne 0 ]; then
    echo "additions since the baseline (compatible):"
    indent < "$tmp/report"
  fi
  ok "no removed symbol and no incompatible type change"
fi

# 2. Versioned structs: appended members only.
if python3 "$here/abi.py" struct-guard "$base_abi" "$tmp/current.abi" > "$tmp/guard"; then
  ok "versioned structs changed only by appending members"
else
  notok "a versioned struct changed other than by appending members"
  indent < "$tmp/guard"
fi

# 3. Pinned constants.
if python3 "$here/abi.py" constants-compare "$base_const" "$tmp/current.constants" > "$tmp/const"; then
  ok "pinned constants unchanged"
  [ -s "$tmp/const" ] && indent < "$tmp/const"
else
  notok "pinned constants changed"
  indent < "$tmp/const"
fi

if cmp -s "$base_abi" "$tmp/current.abi" && cmp -s "$base_const" "$tmp/current.constants"; then
  echo "the library matches the baseline exactly"
else
  echo "the library differs from the baseline; when the changes above are"
  echo "compatible additions, refresh it at release time with"
  echo "tests/abi/check.sh --update (and a docs/ABI.md entry)"
fi

# 4. Every change of a baseline file comes with docs/ABI.md.
git=(git -C "$root" -c safe.directory="$root")
if ! "${git[@]}" rev-parse --git-dir >/dev/null 2>&1; then
  ok "baseline commit rule (not a git checkout: not checked)"
  finish
fi
if [ "$("${git[@]}" rev-parse --is-shallow-repository 2>/dev/null)" = true ]; then
  echo "note: shallow clone: only the commits present are checked"
fi
bad=
n=0
specs=('tests/abi/*.abi' 'tests/abi/*.constants')
for c in $("${git[@]}" log --format=%H -- "${specs[@]}" 2>/dev/null); do
  n=$((n + 1))
  if "${git[@]}" rev-parse -q --verify "$c^1" >/dev/null 2>&1; then
    files=$("${git[@]}" diff --name-only "$c^1" "$c")
  else
    files=$("${git[@]}" diff-tree --root --no-commit-id --name-only -r "$c")
  fi
  if ! grep -qx 'docs/ABI.md' <<<"$files"; then
    bad="$bad $("${git[@]}" log -1 --format='%h (%s)' "$c")"
  fi
done
pending=$("${git[@]}" status --porcelain -- "${specs[@]}" 2>/dev/null)
pending_doc=$("${git[@]}" status --porcelain -- docs/ABI.md 2>/dev/null)
if [ -n "$bad" ]; then
  notok "commits changed the ABI baseline without docs/ABI.md:$bad"
elif [ -n "$pending" ] && [ -z "$pending_doc" ]; then
  notok "the baseline has uncommitted changes but docs/ABI.md has none (add a 'Baseline changes' entry)"
elif [ "$n" -eq 0 ]; then
  ok "baseline commit rule (the baseline is not committed yet)"
else
  ok "each of the $n commits that changed the baseline also changed docs/ABI.md"
fi
finish
