#!/usr/bin/env python3
"""Every public declaration is documented (docs/reference-rules.md).

  tests/docs/check_docs.py [--include DIR] [HEADER...]

Reads the public headers (DIR/vyomcomm.h, DIR/vyomcomm/*.h,
DIR/vyomcomm/sys/*.h; DIR defaults to the repository's include/), or the
HEADERs given, and lists, one "file:line: kind name: problem" line each:

  - a vc_* function, typedef (struct, enum, opaque handle, callback) or
    VC_* macro without a doc comment;
  - a function whose documentation has no @since;
  - a struct member without a doc comment;
  - code the reader does not understand (a new kind of declaration must
    be taught to docs/tools/vcdoc.py rather than pass unseen).

Exits 1 when anything is listed, 0 otherwise; the last line counts the
declarations. Registered as the meson test 'docs' (suite docs).
"""

import argparse
import glob
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.dont_write_bytecode = True     # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(ROOT, "docs", "tools"))

import vcdoc  # noqa: E402


def public_headers(inc):
  found = []
  top = os.path.join(inc, "vyomcomm.h")
  if os.path.exists(top):
    found.append(top)
  found += sorted(glob.glob(os.path.join(inc, "vyomcomm", "*.h")))
  found += sorted(glob.glob(os.path.join(inc, "vyomcomm", "sys", "*.h")))
  return found


def has_since(d):
  return any(vcdoc.parse_doc(x.text)["since"] for x in d.docs())


def check(paths, base):
  """Return (problems, counts): problems as (path, line, text)."""
  problems = []
  counts = {"declarations": 0, "documented": 0, "members": 0,
            "members documented": 0}
  for path in paths:
    shown = os.path.relpath(path, base)
    with open(path, encoding="utf-8") as f:
      src = f.read()
    try:
      decls, errs = vcdoc.parse_header(path, src, shown)
    except ValueError as e:
      problems.append((shown, 0, "cannot read: %s" % e))
      continue
    for line, msg in errs:
      problems.append((shown, line, msg))
    for d in decls:
      counts["declarations"] += 1
      if not d.documented:
        problems.append((shown, d.line, "%s %s: no documentation"
                         % (d.kind, d.name)))
      elif d.kind == "function" and not has_since(d):
        problems.append((shown, d.line, "%s %s: no @since"
                         % (d.kind, d.name)))
      else:
        counts["documented"] += 1
      for m in d.members:
        if m.kind != "member":
          continue      # enumerators: the enum's comment covers them
        counts["members"] += 1
        if m.documented:
          counts["members documented"] += 1
        else:
          problems.append((shown, m.line, "member %s.%s: no documentation"
                           % (d.name, m.name)))
  return problems, counts


def main():
  ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  ap.add_argument("--include", default=os.path.join(ROOT, "include"),
                  help="the include directory (default: the repository's)")
  ap.add_argument("headers", nargs="*", help="check these headers only")
  args = ap.parse_args()
  paths = args.headers or public_headers(args.include)
  if not paths:
    print("check_docs: no headers found under %s" % args.include)
    return 2
  base = os.path.dirname(os.path.abspath(args.include)) \
      if not args.headers else os.getcwd()
  problems, counts = check(paths, base)
  for path, line, msg in problems:
    print("%s:%d: %s" % (path, line, msg))
  print("check_docs: %d headers, %d declarations (%d documented), "
        "%d struct members (%d documented); %d problems"
        % (len(paths), counts["declarations"], counts["documented"],
           counts["members"], counts["members documented"],
           len(problems)))
  if problems:
    print("check_docs: document each one as docs/reference-rules.md says")
  return 1 if problems else 0


if __name__ == "__main__":
  sys.exit(main())
