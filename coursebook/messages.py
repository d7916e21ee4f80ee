"""How text becomes translatable messages, and what a translation must keep.

Markdown is cut into blocks (paragraphs, lists, tables, headings; code fences and ``$$`` math stay as
they are), docstrings into paragraphs, and every message's placeables (math, code, roles, links,
targets) are what a translation must keep identical (``tests/test_translation.py`` checks them).
"""

import ast
import re
from collections import Counter

# --- Markdown blocks and docstring paragraphs -------------------------------------------------

FENCE = re.compile(r"^\s*(```|~~~)")
MATH_FENCE = re.compile(r"^\s*\$\$")


def markdown_parts(text):
    """Cut Markdown into ``(kind, text)`` parts whose texts join back to ``text`` exactly.

    kind is ``"block"`` (translatable: a paragraph, list, table or heading, ending before a blank
    line), ``"fixed"`` (a code fence or ``$$`` math block, kept as is) or ``"gap"`` (blank lines).
    """
    parts, lines, i = [], text.splitlines(keepends=True), 0
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            j = i
            while j < len(lines) and not lines[j].strip():
                j += 1
            parts.append(("gap", "".join(lines[i:j])))
            i = j
        elif FENCE.match(line) or MATH_FENCE.match(line):
            fence = FENCE.match(line)
            closing = (re.compile(r"^\s*" + re.escape(fence.group(1))) if fence else MATH_FENCE)
            j = i + 1
            if not (MATH_FENCE.match(line) and line.strip().endswith("$$") and len(line.strip()) > 2):
                # A $$ block may close on its own line or at the end of its last formula line.
                while j < len(lines) and not (closing.match(lines[j])
                                              or (not fence and lines[j].rstrip().endswith("$$"))):
                    j += 1
                j = min(j + 1, len(lines))
            parts.append(("fixed", "".join(lines[i:j])))
            i = j
        else:
            j = i
            while (j < len(lines) and lines[j].strip() and not (j > i and (FENCE.match(lines[j])
                                                                            or MATH_FENCE.match(lines[j])))):
                j += 1
            parts.append(("block", "".join(lines[i:j])))
            i = j
    return parts


def split_trailing_newline(block):
    """A block's message is its text without the final newline (kept outside the translation)."""
    return (block[:-1], "\n") if block.endswith("\n") else (block, "")


def docstring_literals(source):
    """``(start, end, indent)`` of every docstring: character offsets of its contents (inside the quotes)
    in ``source`` and the indentation of the line it starts on.

    Module, class, function and method docstrings; None when ``source`` is not valid Python.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    offsets = _line_offsets(source)
    spans = []
    for node in ast.walk(tree):
        if not isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        body = node.body
        if not (body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)):
            continue
        literal = body[0].value
        start = offsets[literal.lineno - 1] + _char_col(source, offsets, literal.lineno, literal.col_offset)
        end = offsets[literal.end_lineno - 1] + _char_col(source, offsets, literal.end_lineno,
                                                           literal.end_col_offset)
        text = source[start:end]
        prefix = re.match(r"[rRuUbBfF]*", text).end()
        quote = '"""' if text[prefix:].startswith('"""') else "'''" if text[prefix:].startswith("'''") else \
            text[prefix]
        line = source[offsets[literal.lineno - 1]:]
        spans.append((start + prefix + len(quote), end - len(quote), re.match(r"[ \t]*", line).group(0)))
    return sorted(spans)


def _line_offsets(source):
    offsets, total = [], 0
    for line in source.splitlines(keepends=True):
        offsets.append(total)
        total += len(line)
    offsets.append(total)
    return offsets


def _char_col(source, offsets, lineno, byte_col):
    # ast columns count UTF-8 bytes; the source is a str
    line = source[offsets[lineno - 1]:offsets[lineno] if lineno < len(offsets) else None]
    return len(line.encode("utf-8")[:byte_col].decode("utf-8", errors="ignore"))


def docstring_parts(contents, indent=""):
    """Cut a docstring's contents into parts joining back to ``contents``.

    ``("para", message, indent)`` is one paragraph: its first line as written (its indentation is in
    the part before), its later lines without their common indentation (``indent`` for a one-line
    paragraph), which :func:`_reindent` gives back to a translation. ``("gap", text)`` is the
    whitespace in between.
    """
    parts = []
    for index, piece in enumerate(re.split(r"(\n[ \t]*\n)", contents)):
        if index % 2:
            parts.append(("gap", piece))
            continue
        body = piece.strip()
        if not body:
            parts.append(("gap", piece))
            continue
        lead, trail = piece[:piece.index(body)], piece[piece.index(body) + len(body):]
        first, _, rest = body.partition("\n")
        common = _common_indent(rest) if rest else indent
        lines = [line[len(common):] if line.startswith(common) else line for line in rest.split("\n")] if rest else []
        parts += [("gap", lead), ("para", "\n".join([first] + lines), common), ("gap", trail)]
    return [part for part in parts if part[0] == "para" or part[1]]


def _common_indent(text):
    indents = [re.match(r"[ \t]*", line).group(0) for line in text.split("\n") if line.strip()]
    if not indents:
        return ""
    common = indents[0]
    for indent in indents[1:]:
        while not indent.startswith(common):
            common = common[:-1]
    return common


def _reindent(message, indent):
    first, _, rest = message.partition("\n")
    if not rest:
        return first
    return first + "\n" + "\n".join(indent + line if line.strip() else line for line in rest.split("\n"))


# --- Placeables: what a translation must keep --------------------------------------------------

ROLE = re.compile(r"\{([\w:.-]+)\}(`+)(.+?)\2", re.S)
CODE = re.compile(r"(`+)(.+?)\1", re.S)
DISPLAY_MATH = re.compile(r"\$\$(.+?)\$\$", re.S)
# MyST's dollarmath (digits and spaces allowed): any unescaped $...$ pair, even next to Hangul
INLINE_MATH = re.compile(r"(?<!\\)\$((?:\\.|[^$\\])+?)\$", re.S)
LINK = re.compile(r"\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
AUTOLINK = re.compile(r"<((?:https?|mailto|ftp):[^>\s]+)>")
TARGET = re.compile(r"^\(([^)\s]+)\)=\s*$", re.M)
EXPLICIT_TARGET = re.compile(r"^(.*?)\s*<([^<>]+)>\s*$", re.S)


def placeables(text):
    """The things a translation must keep identical, as a Counter of ``(kind, value)``.

    Roles count by name and target (``{term}`정규화 <Normalization>``` keeps the target of
    ``{term}`Normalization```: the shown text may be translated), code spans, inline and display
    math, link targets, autolinks and MyST targets ``(label)=``.
    """
    found = Counter()

    def take(pattern, kind, value_of):
        nonlocal text

        def record(match):
            found[(kind, value_of(match))] += 1
            return " "
        text = pattern.sub(record, text)

    take(ROLE, "role", lambda m: f"{{{m.group(1)}}}{_role_target(m.group(3))}")
    take(CODE, "code", lambda m: m.group(2).strip())
    take(DISPLAY_MATH, "math", lambda m: m.group(1).strip())
    take(INLINE_MATH, "math", lambda m: m.group(1).strip())
    take(TARGET, "target", lambda m: m.group(1))
    take(LINK, "link", lambda m: m.group(1))
    take(AUTOLINK, "link", lambda m: m.group(1))
    return found


def _role_target(content):
    match = EXPLICIT_TARGET.match(content)
    return (match.group(2) if match else content).strip()


def _role_shown(match):
    """The text a reader sees for a role: its explicit title, a term as written, else nothing."""
    name, content = match.group(1), match.group(3)
    explicit = EXPLICIT_TARGET.match(content)
    if explicit and name != "cite":
        return f" {explicit.group(1)} "
    return f" {content} " if name == "term" else " "


def strip_placeables(text):
    """``text`` without code, math, links and role targets: the prose that the term checks read."""
    text = ROLE.sub(_role_shown, text)
    for pattern in (CODE, DISPLAY_MATH, INLINE_MATH, LINK, AUTOLINK):
        text = pattern.sub(" ", text)
    return text


def is_translatable(message):
    """A message with letters left once code, math and links are taken out."""
    return bool(re.search(r"[^\W\d_]", strip_placeables(message)))
