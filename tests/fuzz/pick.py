#!/usr/bin/env python3
"""Pick the few campaign inputs that add most to a committed corpus.

  tests/fuzz/pick.py [-n 10] [--max-size 2048] CONTROL

CONTROL is the control file of a libFuzzer merge of a campaign's corpus
into a fresh copy of the committed one:

  cp -r tests/fuzz/corpus/<target> fresh
  <target>_fuzzer -merge=1 -merge_control_file=CONTROL fresh \
    build-fuzz/campaign/<target>/corpus

libFuzzer runs the copy's files first, then the others from the smallest
up, and lists for each the code edges (COV) and coverage features (FT)
no file before it reached. This prints, as "edges features size path"
lines, the campaign inputs that reached the most new edges, then
features (the smaller first on a tie), at most N and none larger than
--max-size bytes (docs/fuzzing.md).
"""

import argparse
import os
import sys


def main():
  ap = argparse.ArgumentParser()
  ap.add_argument("-n", type=int, default=10)
  ap.add_argument("--max-size", type=int, default=2048)
  ap.add_argument("control")
  args = ap.parse_args()

  with open(args.control) as f:
    lines = f.read().split("\n")
  nfiles, ncommitted = int(lines[0]), int(lines[1])
  files = lines[2:2 + nfiles]
  new = {}
  for line in lines[2 + nfiles:]:
    parts = line.split()
    if len(parts) < 2 or parts[0] not in ("FT", "COV"):
      continue
    i = int(parts[1])
    if i >= ncommitted:
      new.setdefault(i, {"FT": 0, "COV": 0})[parts[0]] = len(parts) - 2
  picks = []
  for i, n in new.items():
    size = os.path.getsize(files[i])
    if (n["COV"] or n["FT"]) and size <= args.max_size:
      picks.append((n["COV"], n["FT"], size, files[i]))
  picks.sort(key=lambda p: (-p[0], -p[1], p[2]))
  for edges, features, size, path in picks[:args.n]:
    print(edges, features, size, path)
  return 0


if __name__ == "__main__":
  sys.exit(main())
