"""The prose inside exercise code cells: test messages, helper docstrings and comments.

A code cell's prose is found with :mod:`tokenize` and :mod:`ast`, never with a pattern over the code:

- *literals*: a string literal, or a run of implicitly concatenated ones, whose text is prose (a word
  and a space once its ``{placeholders}`` are taken out) and which the code does not use as a key
  (dict keys, subscripts, comparisons): ``err_msg=`` texts, ``AssertionError`` texts, messages
  passed to the helpers, printed labels. Its message is the literal's source text between the
  quotes, escapes and f-string placeholders as written (a translation keeps both).
- *comments*: a run of whole-line comments at one column is one message (its lines joined with
  newlines), a comment after code another; nbgrader's markers and pragmas are never messages.
- *docstrings* of the helpers (not of answer cells, which the Markdown catalogs translate):
  paragraphs, as :mod:`coursebook.messages` cuts them.

:func:`translate_code` writes the translations back in place; the tokens of the code stay the same
(``tests/test_translation.py`` proves it token by token).
"""

import ast
import io
import re
import tokenize
from dataclasses import dataclass

from coursebook.messages import _char_col, _line_offsets, _reindent, docstring_literals, docstring_parts

# nbgrader's markers and the code stub stay as they are (nbgrader and the grader look for them)
MARKER = re.compile(r"YOUR CODE HERE|YOUR ANSWER HERE|\b(BEGIN|END) (SOLUTION|HIDDEN TESTS)\b")
PRAGMA = re.compile(r"^\s*(noqa|type:|pragma|pylint|fmt:)")
FIELD = re.compile(r"\{[^{}]*\}")
PROSE = re.compile(r"[^\W\d_]{2,}")


@dataclass(frozen=True)
class Unit:
    """One message of a code cell: ``kind`` is "literal", "comment" or "docstring", ``start``/``end``
    character offsets of what a translation replaces, ``message`` the English text."""

    kind: str
    start: int
    end: int
    message: str
    layout: tuple = ()  # literal: (prefix, quote, pieces, continuation column); comment: (hashes, column)


def is_prose(text):
    """Words and a space once placeholders are out: what a reader reads, not a key or a format."""
    words = FIELD.sub(" ", text)
    return bool(PROSE.search(words)) and " " in words.strip()


def _code_literal_starts(tree, source, offsets):
    """(line, column) of string literals the code uses as data: dict keys, subscripts, comparisons, defaults."""
    keys = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            keys += [k for k in node.keys if k is not None]
        elif isinstance(node, ast.Subscript):
            keys.append(node.slice)
        elif isinstance(node, ast.Compare):
            keys += [node.left, *node.comparators]
    return {(k.lineno, _char_col(source, offsets, k.lineno, k.col_offset)) for k in keys
            if isinstance(k, (ast.Constant, ast.JoinedStr))}


def _pieces(tokens):
    """Runs of STRING tokens that Python concatenates (separated by line breaks inside brackets only)."""
    run = []
    for tok in tokens:
        if tok.type == tokenize.STRING:
            run.append(tok)
        elif tok.type == tokenize.NL and run:
            continue
        else:
            if run:
                yield run
            run = []
    if run:
        yield run


def _split_literal(text):
    prefix = re.match(r"[rRuUbBfF]*", text).group(0)
    rest = text[len(prefix):]
    quote = rest[:3] if rest[:3] in ('"""', "'''") else rest[0]
    return prefix, quote, rest[len(quote):-len(quote)]


def literal_message(literals):
    """``(message, prefix, quote)`` of a run of concatenated string literals (their source texts), or None for
    bytes, triple-quoted or mixed raw and plain literals. An f-string run's message keeps its placeholders; a
    plain piece's braces are doubled in it, as they would be written in an f-string."""
    parts = [_split_literal(text) for text in literals]
    prefixes = {p.lower().replace("f", "") for p, _, _ in parts}
    if any("b" in p for p in prefixes) or len(prefixes) > 1 or any(len(q) == 3 for _, q, _ in parts):
        return None
    fstring = any("f" in p.lower() for p, _, _ in parts)
    message = "".join(body if (not fstring or "f" in p.lower()) else body.replace("{", "{{").replace("}", "}}")
                      for p, _, body in parts)
    return message, prefixes.pop() + ("f" if fstring else ""), parts[0][1]


def code_units(source, docstrings=True):
    """The messages of one code cell, in order (empty when it is not valid Python)."""
    try:
        tree = ast.parse(source)
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (SyntaxError, tokenize.TokenError, IndentationError, ValueError):
        return []
    offsets = _line_offsets(source)

    def at(pos):
        return offsets[pos[0] - 1] + pos[1]

    doc_spans = docstring_literals(source) or []
    in_docstring = [(s, e) for s, e, _ in doc_spans]
    data = _code_literal_starts(tree, source, offsets)
    units = []
    for run in _pieces(tokens):
        start, end = at(run[0].start), at(run[-1].end)
        if run[0].start in data or any(s <= start and end <= e + 3 for s, e in in_docstring):
            continue
        literal = literal_message([t.string for t in run])
        if literal is None:
            continue
        message, prefix, quote = literal
        if not is_prose(message if "f" in prefix else message.replace("{", " ")):
            continue
        continuation = None
        if len(run) > 1 and run[1].start[0] > run[0].start[0]:
            continuation = run[1].start[1]
        units.append(Unit("literal", start, end, message, (prefix, quote, len(run), continuation)))
    units += _comment_units(tokens, at)
    if docstrings:
        units += [Unit("docstring", s, e, part[1]) for s, e, indent in doc_spans
                  for part in docstring_parts(source[s:e], indent) if part[0] == "para" and is_prose(part[1])]
    return sorted(units, key=lambda u: u.start)


def _comment_units(tokens, at):
    units, block = [], []
    code_lines = {t.start[0] for t in tokens if t.type not in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE,
                                                                 tokenize.INDENT, tokenize.DEDENT,
                                                                 tokenize.ENDMARKER)}

    def close():
        if block:
            hashes = re.match(r"#+\s?", block[0].string).group(0)
            text = "\n".join(t.string[len(re.match(r"#+\s?", t.string).group(0)):].rstrip() for t in block)
            if is_prose(text):
                units.append(Unit("comment", at(block[0].start), at(block[-1].end), text,
                                  (hashes, block[0].start[1])))
        block.clear()

    for tok in tokens:
        if tok.type != tokenize.COMMENT:
            continue
        body = tok.string.lstrip("#")
        if MARKER.search(tok.string) or PRAGMA.match(body) or tok.string.startswith("#!"):
            close()
            continue
        whole_line = tok.start[0] not in code_lines
        if block and whole_line and tok.start[0] == block[-1].start[0] + 1 and tok.start[1] == block[-1].start[1] \
                and re.match(r"#+\s?", tok.string).group(0) == re.match(r"#+\s?", block[0].string).group(0):
            block.append(tok)
            continue
        close()
        if whole_line:
            block.append(tok)
        else:
            block.append(tok)
            close()
    close()
    return units


def _chunks(text, count):
    """``text`` cut at spaces outside placeholders into at most ``count`` pieces of similar length."""
    if count <= 1:
        return [text]
    cuts, depth = [], 0
    for index, char in enumerate(text):
        depth += char == "{"
        depth -= char == "}"
        if char == " " and depth == 0 and 0 < index < len(text) - 1:
            cuts.append(index + 1)
    pieces, last = [], 0
    for k in range(1, count):
        target = len(text) * k / count
        best = min((c for c in cuts if c > last), key=lambda c: abs(c - target), default=None)
        if best is None:
            break
        pieces.append(text[last:best])
        last = best
    pieces.append(text[last:])
    return [p for p in pieces if p]


def _literal(unit, translation):
    prefix, quote, count, continuation = unit.layout
    base = prefix.replace("f", "")
    pieces = []
    for chunk in _chunks(translation, count):
        braces = "{" in chunk or "}" in chunk
        pieces.append(f"{base}{'f' if 'f' in prefix and braces else ''}{quote}{chunk}{quote}")
    joiner = "\n" + " " * continuation if continuation is not None else " "
    return joiner.join(pieces)


def _comment(unit, translation):
    hashes, column = unit.layout
    return ("\n" + " " * column).join(hashes + line if line else hashes.rstrip() for line in translation.split("\n"))


def translate_code(source, catalog, docstrings=True):
    """``source`` with each message of :func:`code_units` that ``catalog`` translates replaced in place."""
    out = source
    for unit in sorted(code_units(source, docstrings=False), key=lambda u: u.start, reverse=True):
        translation = catalog.get(unit.message)
        if translation and translation != unit.message:
            text = _literal(unit, translation) if unit.kind == "literal" else _comment(unit, translation)
            out = out[:unit.start] + text + out[unit.end:]
    return translate_docstrings(out, catalog) if docstrings else out


def translate_docstrings(source, catalog):
    """``source`` with every docstring paragraph replaced by its translation; code unchanged."""
    spans = docstring_literals(source)
    if not spans:
        return source
    pieces, last = [], 0
    for start, end, indent in spans:
        pieces.append(source[last:start])
        for part in docstring_parts(source[start:end], indent):
            pieces.append(_reindent(catalog.get(part[1], part[1]), part[2]) if part[0] == "para" else part[1])
        last = end
    pieces.append(source[last:])
    return "".join(pieces)
