#!/usr/bin/env python3
"""The documentation check on small headers (tests/docs/fixtures/).

good.h, with every kind of declaration documented in every accepted way
(own comment, /**< after, a run of members or macros under one comment,
an @name group of getters, a comment before conditional #defines), must
pass, and its reference page must show each of them. Each bad_*.h lacks exactly one piece of documentation; its first
line says "expect: LINE: TEXT", and the check must exit 1 and print
"bad_x.h:LINE: TEXT..." and nothing else.

Prints "ok - ..." / "not ok - ..." per fixture; exits 1 on a failure.
Registered as the meson test 'docs-checker' (suite docs).
"""

import glob
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CHECK = os.path.join(HERE, "check_docs.py")
FIX = os.path.join(HERE, "fixtures")


def run(name):
  p = subprocess.run([sys.executable, CHECK, name], cwd=FIX,
                     capture_output=True, text=True)
  lines = [ln for ln in p.stdout.splitlines()
           if not ln.startswith("check_docs:")]
  return p.returncode, lines, p.stdout + p.stderr


def check_reference_page():
  """The reference page of good.h shows what the rules promise."""
  sys.dont_write_bytecode = True
  sys.path.insert(0, os.path.join(HERE, "..", "..", "docs", "tools"))
  import gen_reference
  import vcdoc
  path = os.path.join(FIX, "good.h")
  with open(path, encoding="utf-8") as f:
    src = f.read()
  decls, _ = vcdoc.parse_header(path, src, "good.h")
  page = gen_reference.render_page("vyomcomm/good.h", src, decls)
  want = [
    "# vyomcomm/good.h",
    "### vc_thing_new",
    "int vc_thing_new(vc_thing **out, const vc_thing_spec *spec);",
    "- `out`: receives the thing",
    "**Returns** 0, VC_EINVALID",
    "*Since 0.1.*",
    "| `start_min` | `int` | The window, minutes after midnight; both or "
    "neither. |",
    "| `made` | `int64_t` | counts, both |",
    "| `VC_THING_LARGE = 2` | the last one may have one |",
    "#define VC_THING_SPEC_INIT { VC_THING_SPEC_VERSION, 0, 0, NULL }",
    "vc_thing_spec's version and initializer.",
    "#define VC_THING_DECL(x) x",
    "*Getters:* Strings are borrowed from the handle.",
    "The size in bytes, 0 when unknown.",
  ]
  missing = [w for w in want if w not in page]
  if missing:
    print("not ok - the reference page of good.h; missing:")
    for w in missing:
      print("    " + w)
    print(page)
    return 1
  print("ok - the reference page of good.h has signatures, parameters, "
        "returns, since, fields, values, macros and groups")
  return 0


def main():
  failed = 0
  rc, lines, out = run("good.h")
  if rc == 0 and not lines:
    print("ok - good.h passes")
  else:
    failed += 1
    print("not ok - good.h passes (exit %d)\n%s" % (rc, out))
  bad = sorted(glob.glob(os.path.join(FIX, "bad_*.h")))
  if len(bad) < 10:
    failed += 1
    print("not ok - fixtures found (%d bad_*.h)" % len(bad))
  for path in bad:
    name = os.path.basename(path)
    with open(path, encoding="utf-8") as f:
      m = re.match(r"/\* expect: (\d+): (.*?) \*/", f.readline())
    if not m:
      failed += 1
      print("not ok - %s: no expect line" % name)
      continue
    want = "%s:%s: %s" % (name, m.group(1), m.group(2))
    rc, lines, out = run(name)
    if rc == 1 and len(lines) == 1 and lines[0].startswith(want):
      print("ok - %s fails: %s" % (name, lines[0]))
    else:
      failed += 1
      print("not ok - %s fails with '%s' (exit %d)\n%s"
            % (name, want, rc, out))
  failed += check_reference_page()
  print("%d failed" % failed)
  return 1 if failed else 0


if __name__ == "__main__":
  sys.exit(main())
