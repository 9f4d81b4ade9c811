#!/usr/bin/env python3
"""Helpers of tests/abi/check.sh (see there). Subcommands:

  normalize RAW OUT     make abidw output stable and public-only:
                        library types defined outside include/vyomcomm/
                        (the layouts behind opaque handles) become
                        declaration-only, types no exported function or
                        variable reaches are dropped, source locations and
                        build paths are removed
  suppressions ABI OUT  write an abidiff suppression file that accepts
                        members appended at the end of versioned structs
                        (first member `version`)
  struct-guard OLD NEW  check that every versioned struct of OLD is a
                        prefix of the one in NEW (libabigail 2.2's
                        suppression above also hides reordered members)
  summary REPORT        read an abidiff report: exit 1 when it shows
                        removed or changed functions or variables
  constants-src OUT HEADER...   write a C program that prints the value
                        of every enumerator and integer macro named VC_*
  constants-compare OLD NEW     check pinned values (see below)
"""
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

PUBLIC_DIR = "include/vyomcomm/"
LOC_ATTRS = ("filepath", "line", "column")


# ---------------------------------------------------------------- normalize

def _refs(elem):
    """Every type id an element's subtree refers to."""
    out = set()
    for e in elem.iter():
        for k, v in e.attrib.items():
            if k != "id" and k != "elf-symbol-id" and k.endswith("id"):
                out.add(v)
    return out


def normalize(raw, out):
    tree = ET.parse(raw)
    corpus = tree.getroot()
    instrs = [e for e in corpus if e.tag == "abi-instr"]

    # 1. The library's own types defined outside the public headers are
    #    opaque to callers: keep only a declaration.
    for instr in instrs:
        for e in instr:
            if e.tag != "class-decl" or e.get("is-declaration-only") == "yes":
                continue
            name = e.get("name", "")
            path = e.get("filepath", "")
            if name.startswith("vc_") and PUBLIC_DIR not in path:
                for child in list(e):
                    e.remove(child)
                for k in ("size-in-bits", "alignment-in-bits"):
                    e.attrib.pop(k, None)
                e.set("is-declaration-only", "yes")

    # 2. Keep what exported functions and variables reach.
    by_id = {}
    for instr in instrs:
        for e in instr:
            for sub in e.iter():
                if "id" in sub.attrib:
                    by_id.setdefault(sub.get("id"), []).append(e)
    #    Declarations without a symbol are the library's internal calls.
    for instr in instrs:
        for e in list(instr):
            if e.tag in ("function-decl", "var-decl") and \
               "elf-symbol-id" not in e.attrib:
                instr.remove(e)
    todo, seen = [], set()
    for instr in instrs:
        for e in instr:
            if e.tag in ("function-decl", "var-decl"):
                todo.extend(_refs(e))
    while todo:
        i = todo.pop()
        if i in seen:
            continue
        seen.add(i)
        for e in by_id.get(i, ()):
            todo.extend(_refs(e) - seen)
    for instr in instrs:
        for e in list(instr):
            if e.tag in ("function-decl", "var-decl"):
                continue
            ids = {s.get("id") for s in e.iter() if "id" in s.attrib}
            if not ids & seen:
                instr.remove(e)
        if len(instr) == 0:
            corpus.remove(instr)

    # 3. No source locations or build-directory paths.
    for e in corpus.iter():
        for k in LOC_ATTRS:
            e.attrib.pop(k, None)
        if e.tag == "abi-instr" and "path" in e.attrib:
            e.set("path", re.sub(r"^(\.\./)+", "", e.get("path")))
        e.attrib.pop("comp-dir-path", None)

    ET.indent(tree, space="  ")
    tree.write(out, encoding="unicode", xml_declaration=False)
    with open(out, "a") as f:
        f.write("\n")


# ----------------------------------------------------------- versioned structs

def _type_names(root):
    """type-id -> name for named base types and typedefs. abidw's hash
    type-ids are not stable for these: `unsigned int` and `unsigned long
    int` share a hash, and which one gets the collision suffix depends on
    the order abidw meets them in, which any new source file can change."""
    names = {}
    for tag in ("type-decl", "typedef-decl"):
        for e in root.iter(tag):
            if e.get("id") and e.get("name"):
                names[e.get("id")] = tag + ":" + e.get("name")
    return names


def _versioned_structs(path):
    """name -> (size, [(member, offset, type), ...]) for structs whose
    first member is `version`; a member's type is its name for base types
    and typedefs (see _type_names), else its type-id."""
    out = {}
    root = ET.parse(path).getroot()
    names = _type_names(root)
    for e in root.iter("class-decl"):
        if e.get("is-declaration-only") == "yes":
            continue
        members = []
        for dm in e.findall("data-member"):
            v = dm.find("var-decl")
            if v is None:
                continue
            tid = v.get("type-id")
            members.append((v.get("name"), dm.get("layout-offset-in-bits"),
                            names.get(tid, tid)))
        if members and members[0][0] == "version" and members[0][1] == "0":
            out[e.get("name")] = (int(e.get("size-in-bits", "0")), members)
    return out


def suppressions(abi, out):
    names = sorted(_versioned_structs(abi))
    with open(out, "w") as f:
        if names:
            f.write("[suppress_type]\n"
                    "  label = versioned structs only grow at the end\n"
                    "  type_kind = struct\n"
                    "  name_regexp = ^(%s)$\n"
                    "  has_data_member_inserted_at = end\n"
                    "  has_size_change = yes\n" % "|".join(names))


def struct_guard(old, new):
    a, b = _versioned_structs(old), _versioned_structs(new)
    bad = 0
    for name, (size, members) in sorted(a.items()):
        if name not in b:
            continue  # no longer reachable: abidiff reports the functions
        nsize, nmembers = b[name]
        if nsize < size or nmembers[:len(members)] != members:
            print("versioned struct %s changed other than by appending "
                  "members:\n  old: %s\n  new: %s" % (name, members, nmembers))
            bad = 1
    return bad


# ------------------------------------------------------------------ summary

def summary(report):
    text = open(report).read()
    bad = 0
    for line in text.splitlines():
        if "changes summary" not in line:
            continue
        for what in ("Removed", "Changed"):
            m = re.search(r"(\d+) %s" % what, line)
            if m and int(m.group(1)) > 0:
                bad = 1
    return bad


# ---------------------------------------------------------------- constants

ENUM_RE = re.compile(r"\benum\b[^{;]*\{([^}]*)\}", re.S)
ENUMERATOR_RE = re.compile(r"\b(VC_[A-Z0-9_]+)\s*=")
MACRO_RE = re.compile(r"^#define (VC_[A-Z0-9_]+) (.+)$")
# After removing VC_* names: digits, hex, integer suffixes and operators.
INT_EXPR_RE = re.compile(r"^[\s()0-9a-fA-FxXuUlL<>|&+\-~*/]*$")


def _strip_comments(s):
    s = re.sub(r"/\*.*?\*/", " ", s, flags=re.S)
    return re.sub(r"//[^\n]*", " ", s)


def constants_src(out, headers):
    names = []
    for h in headers:
        text = _strip_comments(open(h).read())
        for body in ENUM_RE.findall(text):
            names += ENUMERATOR_RE.findall(body)
    include = "".join('#include "%s"\n' % h for h in headers)
    cc = os.environ.get("CC", "cc").split()
    macros = subprocess.run(cc + ["-E", "-dM", "-x", "c", "-"],
                            input=include, text=True, capture_output=True,
                            check=True).stdout
    for line in macros.splitlines():
        m = MACRO_RE.match(line)
        if not m:
            continue  # function-like or not ours
        body = m.group(2).strip()
        # Integer constant expressions only (no strings, initialisers,
        # attributes).
        rest = re.sub(r"\bVC_[A-Z0-9_]+\b", "", body)
        if re.search(r"[0-9]|VC_", body) and INT_EXPR_RE.match(rest):
            names.append(m.group(1))
    names = sorted(set(names))
    with open(out, "w") as f:
        f.write(include)
        f.write("#include <stdio.h>\nint main(void)\n{\n")
        for n in names:
            f.write('  printf("%%s %%lld\\n", "%s", (long long)(%s));\n'
                    % (n, n))
        f.write("  return 0;\n}\n")


def _read_constants(path):
    out = {}
    for line in open(path):
        parts = line.split()
        if len(parts) == 2 and not parts[0].startswith("#"):
            out[parts[0]] = int(parts[1])
    return out


# The release version is not part of the ABI; struct version macros may
# only grow; everything else is pinned.
RELEASE = re.compile(r"^VC_VERSION_(MAJOR|MINOR|PATCH|NUMBER)$")


def constants_compare(old, new):
    a, b = _read_constants(old), _read_constants(new)
    bad = 0
    for name, value in sorted(a.items()):
        if RELEASE.match(name):
            continue
        if name not in b:
            print("constant %s (%d) was removed" % (name, value))
            bad = 1
        elif name.endswith("_VERSION") and name != "VC_ABI_VERSION":
            if b[name] < value:
                print("struct version %s went down: %d -> %d"
                      % (name, value, b[name]))
                bad = 1
        elif b[name] != value:
            print("pinned constant %s changed: %d -> %d"
                  % (name, value, b[name]))
            bad = 1
    added = sorted(set(b) - set(a))
    if added:
        print("constants added since the baseline: %s" % " ".join(added))
    return bad


def main(argv):
    if len(argv) < 2:
        print(__doc__)
        return 2
    cmd, args = argv[1], argv[2:]
    if cmd == "normalize":
        normalize(*args)
        return 0
    if cmd == "suppressions":
        suppressions(*args)
        return 0
    if cmd == "struct-guard":
        return struct_guard(*args)
    if cmd == "summary":
        return summary(*args)
    if cmd == "constants-src":
        constants_src(args[0], args[1:])
        return 0
    if cmd == "constants-compare":
        return constants_compare(*args)
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
