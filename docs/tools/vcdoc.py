"""Read the declarations of the public headers and the comments that
document them.

Shared by the documentation check (tests/docs/check_docs.py) and the
reference generator (docs/tools/gen_reference.py), so that what the check
calls documented is exactly what the reference shows. Python 3 standard
library only. The rules are described in docs/reference-rules.md.

A header is read as a stream of comments, preprocessor lines, blank lines
and code statements; this is not a C parser, only enough of one for the
declarations the public headers are made of:

  VC_EXTERN(type) vc_name(params);          function
  typedef struct vc_x { members } vc_x;     struct with members
  typedef enum vc_x { enumerators } vc_x;   enum with enumerators
  typedef struct vc_x vc_x;                 opaque handle
  typedef ret VC_CALLBACK(vc_cb)(params);   callback type (or (*vc_cb))
  #define VC_NAME ...                       macro

Anything else at file scope is reported as not understood, so that a new
kind of declaration cannot slip past the check unseen.
"""

import re

__all__ = ["Decl", "Doc", "parse_header", "parse_doc"]


class Doc:
  """A documentation comment: its text without the comment markers."""

  def __init__(self, text, line, group=False):
    self.text = text
    self.line = line
    self.group = group

  def __repr__(self):
    return "Doc(%d, %r)" % (self.line, self.text[:40])


class Decl:
  """One declaration of a header."""

  def __init__(self, kind, name, path, line):
    self.kind = kind        # function, struct, enum, opaque, callback,
                            # macro, member, enumerator
    self.name = name
    self.path = path
    self.line = line
    self.end_line = line
    self.code = ""          # the declaration, comments removed
    self.doc = None         # its own Doc (before it, or /**< after it)
    self.group = None       # the @name group Doc that covers it
    self.run_doc = None     # for a macro: the Doc of the run it is in
    self.members = []       # struct members or enumerators
    self.parent = None
    self.params = ""        # functions and callbacks: the parameter list
    self.getter = False     # a function of one const pointer parameter
    self.alts = []          # a macro's other definitions (#if branches)

  @property
  def documented(self):
    if self.doc is not None or self.run_doc is not None:
      return True
    return self.group is not None and self.getter

  def docs(self):
    """The Docs that apply, most general first."""
    out = []
    if self.group is not None:
      out.append(self.group)
    if self.run_doc is not None and self.run_doc is not self.doc:
      out.append(self.run_doc)
    if self.doc is not None:
      out.append(self.doc)
    return out

  def __repr__(self):
    return "Decl(%s %s %s:%d)" % (self.kind, self.name, self.path, self.line)


def _clean_comment(body):
  """The text of a comment body (between the markers), without the
  leading '*' of continuation lines and the common indentation."""
  lines = body.split("\n")
  out = []
  for i, ln in enumerate(lines):
    if i > 0:
      ln = re.sub(r"^\s*\*(?!/)", "", ln)
    out.append(ln.rstrip())
  # Drop the common indentation of the lines after the first.
  rest = [ln for ln in out[1:] if ln.strip()]
  ind = min((len(ln) - len(ln.lstrip()) for ln in rest), default=0)
  out = [out[0].strip()] + [ln[ind:] for ln in out[1:]]
  while out and not out[0].strip():
    out.pop(0)
  while out and not out[-1].strip():
    out.pop()
  return "\n".join(out)


def _lex(src):
  """Yield (kind, text, line, end_line) with kind one of: doc, post,
  comment, pp, blank, code, and code text pieces in order."""
  i = 0
  n = len(src)
  line = 1
  at_line_start = True    # only whitespace so far on this line
  line_has_content = False
  while i < n:
    c = src[i]
    if c == "\n":
      if not line_has_content:
        yield ("blank", "", line, line)
      line += 1
      i += 1
      at_line_start = True
      line_has_content = False
      continue
    if c in " \t\r\f\v":
      i += 1
      continue
    if src.startswith("/*", i):
      j = src.find("*/", i + 2)
      if j < 0:
        raise ValueError("line %d: unterminated comment" % line)
      body = src[i + 2:j]
      start = line
      line += body.count("\n")
      if body.startswith("*<"):
        yield ("post", _clean_comment(body[2:]), start, line)
      elif body.startswith("*") and not body.startswith("**") and body != "*":
        yield ("doc", _clean_comment(body[1:]), start, line)
      else:
        yield ("comment", body, start, line)
      i = j + 2
      line_has_content = True
      at_line_start = False
      continue
    if src.startswith("//", i):
      j = src.find("\n", i)
      j = n if j < 0 else j
      yield ("comment", src[i + 2:j], line, line)
      i = j
      line_has_content = True
      continue
    if c == "#" and at_line_start:
      # A preprocessor line with its continuations; comments inside it
      # are taken out (a /**< */ one documents the macro).
      start = line
      text = []
      posts = []
      while i < n and src[i] != "\n":
        if src.startswith("\\\n", i):
          text.append(" ")
          i += 2
          line += 1
          continue
        if src.startswith("/*", i):
          j = src.find("*/", i + 2)
          if j < 0:
            raise ValueError("line %d: unterminated comment" % line)
          body = src[i + 2:j]
          if body.startswith("*<"):
            posts.append(_clean_comment(body[2:]))
          line += body.count("\n")
          text.append(" ")
          i = j + 2
          continue
        if src.startswith("//", i):
          while i < n and src[i] != "\n":
            i += 1
          break
        text.append(src[i])
        i += 1
      yield ("pp", ("".join(text), posts), start, line)
      line_has_content = True
      at_line_start = False
      continue
    # Code: up to the next comment, newline or preprocessor line.
    j = i
    while j < n and src[j] != "\n" and not src.startswith("/*", j) \
        and not src.startswith("//", j):
      j += 1
    yield ("code", src[i:j], line, line)
    i = j
    line_has_content = True
    at_line_start = False


_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"


def _norm(s):
  s = re.sub(r"\s+", " ", s).strip()
  s = re.sub(r"\(\s+", "(", s)
  s = re.sub(r"\s+\)", ")", s)
  s = re.sub(r"\s+,", ",", s)
  s = re.sub(r"\s+;", ";", s)
  return s


def _split_params(params):
  """Split a parameter list at its top-level commas."""
  out, depth, cur = [], 0, []
  for ch in params:
    if ch in "([":
      depth += 1
    elif ch in ")]":
      depth -= 1
    if ch == "," and depth == 0:
      out.append("".join(cur).strip())
      cur = []
    else:
      cur.append(ch)
  if "".join(cur).strip():
    out.append("".join(cur).strip())
  return out


def _param_name(p):
  """The name a parameter declares ("" when it has none)."""
  m = re.search(r"\(\s*\*\s*(" + _IDENT + r")\s*\)", p)
  if m:
    return m.group(1)
  m = re.search(r"VC_CALLBACK\((" + _IDENT + r")\)", p)
  if m:
    return m.group(1)
  p = re.sub(r"\[[^\]]*\]\s*$", "", p).strip()
  m = re.search(r"(" + _IDENT + r")$", p)
  if not m or m.group(1) in ("void", "int", "char", "const"):
    return ""
  return m.group(1)


def param_names(params):
  return [_param_name(p) for p in _split_params(params)]


class ParseError(Exception):
  pass


def parse_header(path, src, display=None):
  """Return (decls, problems) for one header. decls are the top-level
  declarations in order (members hang off their struct or enum);
  problems are (line, message) for code that is not understood."""
  display = display or path
  decls = []
  problems = []
  macros = {}

  single = None       # a Doc waiting for the next declaration
  group = None        # an @name Doc covering getters up to a blank line
  run = None          # the Doc of a run of #defines
  last = None         # the declaration that ended last (for /**<)
  scope = None        # the struct or enum whose body we are in
  closing = None      # the struct or enum whose closing name we expect
  buf = []            # code pieces of the statement in progress
  buf_line = None
  buf_post = None     # a /**< comment seen inside the statement
  pp_depth = 0

  def new(kind, name, line, end_line, code):
    d = Decl(kind, name, display, line)
    d.end_line = end_line
    d.code = code
    return d

  def attach(d):
    """Attach the waiting documentation to a new declaration."""
    nonlocal single, run
    if d.kind in ("member", "enumerator"):
      # Each member has its own comment: a comment before one member
      # does not cover the next (it could not say which it describes).
      if single is not None:
        d.doc = single
        single = None
      return
    if single is not None:
      d.doc = single
      single = None
    if group is not None:
      d.group = group

  def statement(text, line, end_line, terminator):
    """One statement, ended by ';', '{', '}' or ','."""
    nonlocal scope, closing, last, run, buf_post
    code = _norm(text)
    post = buf_post
    buf_post = None
    if scope is None:
      run = None
    if scope is not None:
      # Inside a struct or enum body.
      if not code:
        if post is not None and last is not None:
          last.doc = last.doc or post
        return
      if scope.kind == "enum":
        m = re.match(r"(" + _IDENT + r")\s*(=\s*(.*))?$", code)
        if not m:
          problems.append((line, "enumerator not understood: %s" % code))
          return
        d = new("enumerator", m.group(1), line, end_line, code)
      else:
        # "int64_t a, b;" declares two members of one type.
        parts = _split_params(code.rstrip(";"))
        name = _param_name(parts[0])
        if not name or any(not re.fullmatch(r"\**\s*" + _IDENT, x)
                           for x in parts[1:]):
          problems.append((line, "member not understood: %s" % code))
          return
        base = parts[0][:parts[0].rindex(name)].rstrip(" *")
        group = [new("member", name, line, end_line, parts[0])]
        for x in parts[1:]:
          group.append(new("member", x.lstrip("* "), line, end_line,
                           "%s %s" % (base, x)))
        for d in group:
          attach(d)
          if post is not None:
            # Its own comment after it: not part of the run above.
            d.doc = d.doc or post
            if d.run_doc is not None:
              d.run_doc = None
              run = None
          d.parent = scope
          scope.members.append(d)
          last = d
        if len(group) > 1 and d.doc is None and d.run_doc is None:
          # A comment before the line covers every name on it.
          for x in group[1:]:
            x.run_doc = group[0].doc or group[0].run_doc
        return
      attach(d)
      if post is not None:
        d.doc = d.doc or post
      d.parent = scope
      scope.members.append(d)
      last = d
      return
    if closing is not None:
      # The name after the closing brace of a typedef'd struct or enum.
      m = re.match(r"(" + _IDENT + r")\s*;$", code)
      if not m:
        problems.append((line, "expected the typedef name after '}': %s"
                         % code))
      elif m.group(1) != closing.name:
        problems.append((line, "typedef name %s differs from its tag %s"
                         % (m.group(1), closing.name)))
      closing.end_line = end_line
      last = closing
      closing = None
      return
    if not code:
      return
    m = re.match(r"typedef (struct|enum) (" + _IDENT + r") ?\{$", code)
    if m and terminator == "{":
      d = new(m.group(1), m.group(2), line, end_line, code)
      attach(d)
      if post is not None:
        d.doc = d.doc or post
      decls.append(d)
      scope = d
      last = None
      return
    m = re.match(r"typedef struct (" + _IDENT + r") (" + _IDENT + r");$",
                 code)
    if m:
      d = new("opaque", m.group(2), line, end_line, code)
      attach(d)
      if post is not None:
        d.doc = d.doc or post
      decls.append(d)
      last = d
      return
    m = re.match(r"typedef (.+?)(?:VC_CALLBACK\((" + _IDENT + r")\)|"
                 r"\( ?\* ?(" + _IDENT + r")\))\s*\((.*)\);$", code)
    if m:
      d = new("callback", m.group(2) or m.group(3), line, end_line, code)
      d.params = m.group(4)
      attach(d)
      if post is not None:
        d.doc = d.doc or post
      decls.append(d)
      last = d
      return
    m = re.match(r"VC_EXTERN\(([^()]*)\)\s*(.*?)\b(" + _IDENT
                 + r")\s*\((.*)\)\s*(VC_DEPRECATED\(.*\))?\s*;$", code)
    if m:
      d = new("function", m.group(3), line, end_line, code)
      d.params = m.group(4)
      ps = _split_params(d.params)
      d.getter = (len(ps) == 1 and ps[0].startswith("const ")
                  and "*" in ps[0] and "(" not in ps[0])
      attach(d)
      if post is not None:
        d.doc = d.doc or post
      decls.append(d)
      last = d
      return
    m = re.match(r"struct (" + _IDENT + r");$", code)
    if m:
      return      # a forward declaration
    problems.append((line, "declaration not understood: %s" % code))

  def flush(terminator, line):
    nonlocal buf, buf_line
    text = "".join(buf)
    if terminator in ";{":
      text += terminator
    start = buf_line if buf_line is not None else line
    buf = []
    buf_line = None
    statement(text, start, line, terminator)

  for kind, text, line, end_line in _lex(src):
    if kind == "blank":
      if not buf:
        single = None
        group = None
        run = None
      continue
    if kind == "doc":
      t = text.strip()
      if "@file" in t or re.fullmatch(r"(@[{}]\s*)+", t) \
          or re.fullmatch(r"@defgroup.*", t, re.S):
        single = None
        continue
      d = Doc(text, line)
      if re.match(r"@name\b", t):
        d.group = True
        group = d
        single = None
      else:
        single = d
      continue
    if kind == "post":
      d = Doc(text, line)
      if buf and "".join(buf).strip():
        buf_post = d
      elif last is not None and last.end_line == line:
        targets = [last]
        if last.kind == "member":
          targets = [x for x in last.parent.members
                     if x.end_line == line and x.line == last.line]
        for t in targets:
          t.doc = t.doc or d
          if t.kind in ("member", "enumerator") and t.run_doc is not None:
            # Its own comment after it: not part of the run above.
            t.run_doc = None
            run = None
        if last.kind == "macro":
          macros[last.name] = last
      else:
        problems.append((line, "/**< comment after no declaration"))
      continue
    if kind == "comment":
      if not buf:
        single = None
        run = None
      continue
    if kind == "pp":
      body, posts = text
      m = re.match(r"#\s*(\w+)\s*(.*)$", body.strip())
      directive = m.group(1) if m else ""
      rest = m.group(2) if m else ""
      if directive in ("if", "ifdef", "ifndef", "elif", "else", "endif"):
        continue    # conditionals keep the waiting documentation
      if directive == "define":
        mm = re.match(r"(" + _IDENT + r")(\()?\s*(.*)$", rest)
        name = mm.group(1)
        if not name.startswith("VC_"):
          single = None
          run = None
          continue
        d = new("macro", name, line, end_line, _norm(body.strip()))
        d.params = "(" + rest[len(name) + 1:rest.index(")")] + ")" \
            if mm.group(2) else ""
        if single is not None:
          d.doc = single
          single = None
          run = d.doc
        elif run is not None:
          d.run_doc = run
        if posts:
          d.doc = d.doc or Doc(posts[0], line)
        if group is not None:
          d.group = group
        prev = macros.get(name)
        if prev is not None:
          prev.alts.append(d.code)
          # Another definition of the same macro (a conditional branch):
          # documented when any definition is.
          if prev.doc is None and prev.run_doc is None:
            prev.doc = d.doc
            prev.run_doc = d.run_doc
        else:
          macros[name] = d
          decls.append(d)
        last = d
        continue
      single = None
      run = None
      continue
    # code
    if not buf:
      stripped = text.strip()
      if stripped in ("VC_BEGIN_DECL", "VC_END_DECL"):
        single = None
        continue
    i = 0
    while i < len(text):
      ch = text[i]
      if ch in ";{}" or (ch == "," and scope is not None
                         and scope.kind == "enum"):
        if buf_line is None:
          buf_line = line
        buf.append(text[:i])
        text = text[i + 1:]
        i = 0
        if ch == "}":
          if "".join(buf).strip():
            flush(",", line)
          else:
            buf = []
            buf_line = None
          if scope is None:
            problems.append((line, "'}' outside a struct or enum"))
          else:
            closing = scope
            scope = None
            single = None
        else:
          flush(ch, line)
        continue
      i += 1
    if text.strip():
      if buf_line is None:
        buf_line = line
      buf.append(text + " ")
  if buf and "".join(buf).strip():
    problems.append((buf_line, "unterminated declaration: %s"
                     % _norm("".join(buf))))
  return decls, problems


_TAG = re.compile(r"^\s*@(param|return|returns|retval|since|note|see|brief|"
                  r"name|deprecated|warning)\b\s*(.*)$")


def parse_doc(text):
  """Split a doc comment into its description and its tags.

  Returns a dict: brief (first sentence), body (the description, in
  paragraphs), params [(name, text)], returns, since, notes [text],
  see [text], deprecated, name (an @name group's title). Inline @since
  (e.g. "... @since 0.1") counts too."""
  out = {"body": "", "params": [], "returns": "", "since": "",
         "notes": [], "see": [], "deprecated": "", "name": ""}
  # Tags may also appear inline after a sentence: split them onto lines.
  text = re.sub(r"(?<=\S)\s+@(since|return|returns|note|param)\b",
                r"\n@\1", text)
  cur = None      # (tag, [lines])
  body = []
  tags = []
  for ln in text.split("\n"):
    m = _TAG.match(ln)
    if m and m.group(1) in ("name", "brief"):
      # One line only: what follows is the description.
      tags.append([m.group(1), [m.group(2)]])
      cur = None
    elif m:
      cur = [m.group(1), [m.group(2)]]
      tags.append(cur)
    elif cur is not None and ln.strip():
      cur[1].append(ln.strip())
    elif cur is not None and not ln.strip():
      cur = None
      body.append("")
    else:
      body.append(ln)
  for tag, lines in tags:
    val = " ".join(x for x in lines if x).strip()
    if tag == "param":
      m = re.match(r"(?:\[[a-z,]+\]\s*)?(" + _IDENT + r")\s*(.*)$", val,
                   re.S)
      if m:
        out["params"].append((m.group(1), m.group(2).strip()))
    elif tag in ("return", "returns", "retval"):
      out["returns"] = (out["returns"] + " " + val).strip()
    elif tag == "since":
      m = re.match(r"([0-9][0-9.]*)\.?\s*(.*)$", val)
      out["since"] = m.group(1).rstrip(".") if m else val
      if m and m.group(2):
        body.append(m.group(2))
    elif tag == "note" or tag == "warning":
      out["notes"].append(val)
    elif tag == "see":
      out["see"].append(val)
    elif tag == "brief":
      body.insert(0, val)
    elif tag == "deprecated":
      out["deprecated"] = val
    elif tag == "name":
      out["name"] = val
  out["body"] = "\n".join(body).strip()
  return out
