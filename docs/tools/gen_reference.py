#!/usr/bin/env python3
"""Generate the API reference (docs/reference/) from the public headers.

  python3 docs/tools/gen_reference.py            rewrite docs/reference/
  python3 docs/tools/gen_reference.py --out DIR  write it into DIR
  python3 docs/tools/gen_reference.py --check    compare with docs/reference/

One Markdown page per public header (every function with its signature,
description, parameters, return values and the release it appeared in;
every struct with its fields; enums with their values; macros) and an
index, docs/reference/README.md. The pages are made only from the header
comments, read as docs/reference-rules.md says, so the reference is as
complete as tests/docs/check_docs.py makes the headers. --check exits 1
when the committed reference differs from what the headers give (the
meson test 'docs-reference'). Python 3 standard library only.
"""

import argparse
import difflib
import glob
import os
import re
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.dont_write_bytecode = True     # no __pycache__ in the source tree
sys.path.insert(0, HERE)

import vcdoc  # noqa: E402

REGEN = "python3 docs/tools/gen_reference.py"
KIND_TITLE = {"function": "function", "struct": "struct", "enum": "enum",
              "opaque": "handle", "callback": "callback", "macro": "macro"}


def headers(inc):
  out = [os.path.join(inc, "vyomcomm.h")]
  out += sorted(glob.glob(os.path.join(inc, "vyomcomm", "*.h")))
  out += sorted(glob.glob(os.path.join(inc, "vyomcomm", "sys", "*.h")))
  return [p for p in out if os.path.exists(p)]


def page_name(rel):
  """include-relative header path -> page file name."""
  if rel == "vyomcomm.h":
    return "vyomcomm.md"
  return rel[len("vyomcomm/"):-2].replace("/", "-") + ".md"


def file_doc(src):
  m = re.search(r"/\*\*(.*?)\*/", src, re.S)
  if not m or "@file" not in m.group(1):
    return "", ""
  text = vcdoc._clean_comment(m.group(1))
  brief, body = [], []
  cur = None
  for ln in text.split("\n"):
    t = ln.strip()
    if t.startswith("@file") or t.startswith("@{") or t.startswith("@}"):
      cur = None
      continue
    if t.startswith("@defgroup"):
      cur = None
      continue
    if t.startswith("@brief"):
      cur = brief
      brief.append(t[len("@brief"):].strip())
      continue
    if cur is brief and t:
      brief.append(t)
      continue
    cur = None
    body.append(ln)
  return " ".join(brief).strip(), "\n".join(body).strip()


def md_escape_cell(s):
  return s.replace("|", "\\|").replace("\n", " ")


def one_line(text):
  return re.sub(r"\s+", " ", text).strip()


def signature(d):
  """A readable C declaration, without the export macro."""
  if d.kind == "function":
    m = re.match(r"VC_EXTERN\(([^()]*)\)\s*(.*)$", d.code)
    ret = m.group(1).strip()
    rest = m.group(2).strip()
    head = ret + ("" if ret.endswith("*") else " ")
    name_end = rest.index("(")
    pre = rest[:name_end]
    params = vcdoc._split_params(d.params)
    one = "%s%s(%s);" % (head, pre, ", ".join(params))
    if len(one) <= 78 or len(params) <= 1:
      return one
    ind = " " * len(head + pre + "(")
    return "%s%s(%s);" % (head, pre, (",\n" + ind).join(params))
  return d.code


def struct_code(d):
  lines = [d.code[:-1].strip() + " {"]
  for m in d.members:
    if d.kind == "struct":
      lines.append("  %s;" % m.code)
    else:
      lines.append("  %s," % m.code)
  if d.kind == "enum" and len(lines) > 1:
    lines[-1] = lines[-1][:-1]
  lines.append("} %s;" % d.name)
  return "\n".join(lines)


def since_of(d):
  s = ""
  for x in d.docs():
    s = vcdoc.parse_doc(x.text)["since"] or s
  return s


def render_doc(out, d, show_group):
  own = vcdoc.parse_doc(d.doc.text) if d.doc is not None else None
  run = vcdoc.parse_doc(d.run_doc.text) \
      if d.run_doc is not None and d.run_doc is not d.doc else None
  grp = vcdoc.parse_doc(d.group.text) if d.group is not None else None
  parts = []
  if run is not None and run["body"]:
    parts.append(run["body"])
  if own is not None and own["body"]:
    parts.append(own["body"])
  if grp is not None and show_group and grp["body"] and d.kind == "function":
    title = grp["name"] or "Group"
    parts.append("*%s:* %s" % (title, grp["body"]))
  for p in parts:
    out.append(p)
    out.append("")
  docs = [x for x in (grp, run, own) if x is not None]
  params = []
  for x in docs:
    params += x["params"]
  if params:
    out.append("**Parameters**")
    out.append("")
    for name, text in params:
      out.append("- `%s`: %s" % (name, one_line(text)))
    out.append("")
  returns = " ".join(x["returns"] for x in docs if x["returns"])
  if returns:
    out.append("**Returns** " + one_line(returns))
    out.append("")
  for x in docs:
    for n in x["notes"]:
      out.append("**Note** " + one_line(n))
      out.append("")
    for s in x["see"]:
      out.append("**See** " + one_line(s))
      out.append("")
    if x["deprecated"]:
      out.append("**Deprecated** " + one_line(x["deprecated"]))
      out.append("")
  since = since_of(d)
  if since:
    out.append("*Since %s.*" % since)
    out.append("")


def member_doc(m):
  if m.doc is not None:
    return one_line(vcdoc.parse_doc(m.doc.text)["body"])
  if m.run_doc is not None:
    head = [x.name for x in m.parent.members if x.doc is m.run_doc]
    return "See `%s`." % head[0] if head else ""
  return ""


def render_page(rel, src, decls):
  brief, body = file_doc(src)
  out = ["# %s" % rel, ""]
  out.append("[API reference](README.md) · generated from "
             "`include/%s` by `docs/tools/gen_reference.py`; do not edit."
             % rel)
  out.append("")
  if brief:
    out.append(brief)
    out.append("")
  if body:
    out.append(body)
    out.append("")
  if rel == "vyomcomm.h":
    out.append("Includes:")
    out.append("")
    for inc in re.findall(r'#include "([^"]+)"', src):
      out.append("- [%s](%s)" % (inc, page_name(inc)))
    out.append("")
  if not decls:
    return "\n".join(out).rstrip() + "\n"
  out.append("## Contents")
  out.append("")
  for kind, title in (("function", "Functions"),
                      ("struct", "Structs"), ("enum", "Enums"),
                      ("opaque", "Handles"), ("callback", "Callbacks"),
                      ("macro", "Macros")):
    names = [d.name for d in decls if d.kind == kind]
    if names:
      out.append("- %s: %s" % (title, ", ".join(
          "[%s](#%s)" % (n, n.lower()) for n in names)))
  out.append("")
  out.append("## Declarations")
  out.append("")
  seen_groups = set()
  for d in decls:
    out.append("### %s" % d.name)
    out.append("")
    if d.group is not None and d.kind == "function" \
        and id(d.group) not in seen_groups:
      seen_groups.add(id(d.group))
      show_group = True
    else:
      show_group = d.group is not None and d.kind == "function" \
          and d.doc is None
    out.append("*%s*" % KIND_TITLE[d.kind])
    out.append("")
    out.append("```c")
    if d.kind in ("struct", "enum"):
      out.append(struct_code(d))
    elif d.kind == "macro":
      # Every definition, when the headers define it per platform.
      shown = []
      for code in [d.code] + d.alts:
        code = re.sub(r"^#\s*define\s+", "#define ", code)
        if code not in shown:
          shown.append(code)
      out.extend(shown)
    else:
      out.append(signature(d))
    out.append("```")
    out.append("")
    render_doc(out, d, show_group)
    if d.kind == "struct" and d.members:
      out.append("| Field | Type | Description |")
      out.append("|---|---|---|")
      for m in d.members:
        typ = m.code
        typ = re.sub(r"\b%s\b" % re.escape(m.name), "", typ, count=1)
        typ = typ.replace("VC_CALLBACK()", "(*)").replace("( *)", "(*)")
        typ = one_line(typ)
        out.append("| `%s` | `%s` | %s |" % (m.name, md_escape_cell(typ),
                                          md_escape_cell(member_doc(m))))
      out.append("")
    if d.kind == "enum" and d.members:
      out.append("| Value | Description |")
      out.append("|---|---|")
      for m in d.members:
        out.append("| `%s` | %s |" % (md_escape_cell(m.code),
                                      md_escape_cell(member_doc(m))))
      out.append("")
  return "\n".join(out).rstrip() + "\n"


def generate(inc):
  """Return {file name: text} for the whole reference."""
  pages = {}
  index_rows = []
  functions = []
  totals = {}
  for path in headers(inc):
    rel = os.path.relpath(path, inc).replace(os.sep, "/")
    with open(path, encoding="utf-8") as f:
      src = f.read()
    decls, _ = vcdoc.parse_header(path, src, rel)
    name = page_name(rel)
    pages[name] = render_page(rel, src, decls)
    brief, _ = file_doc(src)
    nfun = sum(1 for d in decls if d.kind == "function")
    index_rows.append((rel, name, brief, nfun))
    for d in decls:
      totals[d.kind] = totals.get(d.kind, 0) + 1
      if d.kind == "function":
        first = ""
        for x in (d.doc, d.run_doc):
          if x is not None:
            first = vcdoc.parse_doc(x.text)["body"]
            break
        first = one_line(first)
        m = re.match(r"(.+?\.)(\s|$)", first)
        if m:
          first = m.group(1)
        functions.append((d.name, name, since_of(d), first))
  out = ["# API reference", ""]
  out.append("Generated from the public headers by "
             "`docs/tools/gen_reference.py`; do not edit by hand. After "
             "changing a header, run `%s` and commit the result: the meson "
             "test `docs-reference` fails while the reference is out of "
             "date, and `docs` fails while a declaration is undocumented "
             "([rules](../reference-rules.md))." % REGEN)
  out.append("")
  out.append("%d functions, %d structs, %d enums, %d handles, "
             "%d callbacks, %d macros."
             % (totals.get("function", 0), totals.get("struct", 0),
                totals.get("enum", 0), totals.get("opaque", 0),
                totals.get("callback", 0), totals.get("macro", 0)))
  out.append("")
  out.append("## Headers")
  out.append("")
  out.append("| Header | Functions | |")
  out.append("|---|---|---|")
  for rel, name, brief, nfun in index_rows:
    out.append("| [%s](%s) | %d | %s |" % (rel, name, nfun,
                                          md_escape_cell(one_line(brief))))
  out.append("")
  out.append("The headers under `vyomcomm/sys/` are for implementers "
             "(storage backends, adapters, transports); see "
             "[api-stability.md](../api-stability.md).")
  out.append("")
  out.append("## Functions")
  out.append("")
  out.append("| Function | Since | |")
  out.append("|---|---|---|")
  for fname, page, since, first in sorted(functions):
    out.append("| [%s](%s#%s) | %s | %s |" % (fname, page, fname.lower(),
                                             since,
                                             md_escape_cell(first)))
  pages["README.md"] = "\n".join(out).rstrip() + "\n"
  return pages


def write(pages, outdir):
  os.makedirs(outdir, exist_ok=True)
  for old in glob.glob(os.path.join(outdir, "*.md")):
    if os.path.basename(old) not in pages:
      os.remove(old)
  for name, text in sorted(pages.items()):
    with open(os.path.join(outdir, name), "w", encoding="utf-8") as f:
      f.write(text)


def check(pages, refdir):
  """Compare with the committed reference; print what differs."""
  bad = 0
  have = set(os.path.basename(p)
             for p in glob.glob(os.path.join(refdir, "*.md")))
  with tempfile.TemporaryDirectory() as tmp:
    write(pages, tmp)
    for name in sorted(set(pages) | have):
      new = os.path.join(tmp, name)
      old = os.path.join(refdir, name)
      if not os.path.exists(old):
        print("docs/reference/%s: missing" % name)
        bad += 1
        continue
      if not os.path.exists(new):
        print("docs/reference/%s: no longer generated (a header was "
              "removed?)" % name)
        bad += 1
        continue
      with open(old, encoding="utf-8") as f:
        a = f.read().splitlines()
      with open(new, encoding="utf-8") as f:
        b = f.read().splitlines()
      if a != b:
        bad += 1
        print("docs/reference/%s: out of date" % name)
        diff = list(difflib.unified_diff(a, b, "committed", "headers",
                                         lineterm="", n=1))
        for ln in diff[:40]:
          print("    " + ln)
        if len(diff) > 40:
          print("    ... (%d more lines)" % (len(diff) - 40))
  if bad:
    print("gen_reference: %d pages differ from the headers; regenerate "
          "with: %s" % (bad, REGEN))
    return 1
  print("gen_reference: docs/reference matches the headers (%d pages)"
        % len(pages))
  return 0


def main():
  ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  ap.add_argument("--include", default=os.path.join(ROOT, "include"))
  ap.add_argument("--out", default=os.path.join(ROOT, "docs", "reference"))
  ap.add_argument("--check", action="store_true",
                  help="compare with --out instead of writing it")
  args = ap.parse_args()
  pages = generate(args.include)
  if args.check:
    return check(pages, args.out)
  write(pages, args.out)
  print("gen_reference: wrote %d pages to %s"
        % (len(pages), os.path.relpath(args.out)))
  return 0


if __name__ == "__main__":
  sys.exit(main())
