#!/usr/bin/env python3
"""The documentation check on small headers (tests/docs/fixtures/).

good.h, with every kind of declaration documented in every accepted way
(own comment, /**< after, a run of members or macros under one comment,
an @name group of getters, a comment before conditional #defines), must
pass. Each bad_*.h lacks exactly one piece of documentation; its first
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
  print("%d failed" % failed)
  return 1 if failed else 0


if __name__ == "__main__":
  sys.exit(main())
