"""A page's Markdown in another language, from its Sphinx catalog: what the Korean page's download button gives.

Sphinx translates a page after parsing it (paragraphs, headings, list items, table cells, admonition titles and
display formulas are its messages) and writes HTML; the page's own download button still gives the English source
(``_sources/<page>.ipynb``). This module cuts the Markdown the way MyST parses it (its markdown-it parser, with the
book's extensions), looks each message up the way Sphinx does (the text with line breaks as spaces) and writes the
translation into the source lines in its place: list markers, indentation, table pipes, fences and code stay.
Display formulas follow :mod:`.display_math` (only ``\\text{}`` words change). A message without a translation
stays English, as on the page.
"""

import re
from functools import cache

from .display_math import translation_problem

EXTENSIONS = {"dollarmath", "amsmath", "colon_fence", "deflist"}
# Directives whose body is Markdown (translated inside) and whose argument is a title (translated too).
PROSE_DIRECTIVES = {"admonition", "note", "warning", "tip", "important", "hint", "caution", "attention", "danger",
                    "error", "seealso", "topic", "sidebar", "dropdown", "epigraph"}
TITLED_DIRECTIVES = {"admonition", "topic", "sidebar", "dropdown"}
MATH_DIRECTIVES = {"math"}
_OPTION = re.compile(r"^\s*:[\w-]+:")


@cache
def _parser():
    from markdown_it.renderer import RendererHTML
    from myst_parser.config.main import MdParserConfig
    from myst_parser.parsers.mdit import create_md_parser

    return create_md_parser(MdParserConfig(enable_extensions=EXTENSIONS), RendererHTML)


def message_of(text):
    """The catalog's msgid of a block of text (Sphinx: the node's source with line breaks as spaces)."""
    return text.replace("\n", " ").strip()


def units(text):
    """The messages of Markdown ``text`` in order, as ``(kind, msgid)``: kind is "text" or "math"."""
    found = []
    _walk(text, lambda kind, msgid: found.append((kind, msgid)) or None)
    return found


def translate_markdown(text, lookup):
    """``text`` with every message that ``lookup(msgid)`` translates (it returns None for "keep the English")."""
    return _walk(text, lookup)


def _walk(text, lookup):
    lines = text.splitlines(keepends=True)
    edits = {}  # first line -> (end line, replacement text)
    same_line = {}  # line -> [(english, translation)] for one-line messages (headings, table cells, items)
    tokens = _parser().parse(text)
    for token in tokens:
        if token.map is None:
            continue
        start, end = token.map
        if token.type == "inline":
            if not message_of(token.content):
                continue  # an empty table cell
            translation = lookup("text", message_of(token.content))
            if translation:
                if end - start <= 1:
                    same_line.setdefault(start, []).append((token.content.strip(), translation))
                else:
                    edits[start] = (end, _replace_paragraph(lines[start:end], token.content, translation))
        elif token.type in ("math_block", "amsmath"):
            translation = _math(lookup, token.content)
            if translation:
                region = "".join(lines[start:end])
                edits[start] = (end, region.replace(token.content, translation, 1))
        elif token.type in ("fence", "colon_fence") and token.info.startswith("{"):
            replacement = _directive(lines[start:end], token, lookup)
            if replacement is not None:
                edits[start] = (end, replacement)
    for line, pairs in same_line.items():
        if line in edits:
            continue
        edits[line] = (line + 1, _replace_in_line(lines[line], pairs))
    out, index = [], 0
    for start in sorted(edits):
        end, replacement = edits[start]
        if start < index:
            continue  # inside an edited block
        out += lines[index:start]
        out.append(replacement)
        index = end
    out += lines[index:]
    return "".join(out)


def _math(lookup, english):
    translation = lookup("math", english)
    if translation and translation != english and translation_problem(english, translation) is None:
        return translation
    return None


def _replace_in_line(line, pairs):
    """Replace each English text by its translation, left to right (table cells, headings, one-line items)."""
    out, cursor = [], 0
    for english, translation in pairs:
        position = line.find(english, cursor)
        if position < 0:
            continue
        out.append(line[cursor:position] + translation)
        cursor = position + len(english)
    out.append(line[cursor:])
    return "".join(out)


def _replace_paragraph(lines, content, translation):
    """A multi-line paragraph (or list item) becomes the translation, keeping the first line's marker."""
    first = content.strip().split("\n", 1)[0].strip()
    position = lines[0].find(first)
    prefix = lines[0][:position] if position >= 0 else re.match(r"[ \t>]*", lines[0]).group(0)
    continuation = re.match(r"[ \t>]*", lines[1]).group(0) if len(lines) > 1 else " " * len(prefix)
    ending = "\n" if lines[-1].endswith("\n") else ""
    return prefix + translation.replace("\n", "\n" + continuation) + ending


def _directive(lines, token, lookup):
    """A fenced directive: its title (admonitions) and its Markdown or math body, translated; None: unchanged."""
    match = re.match(r"\{([\w:-]+)\}\s*(.*)", token.info)
    if not match:
        return None
    name, argument = match.group(1).split(":")[-1], match.group(2).strip()
    if name not in PROSE_DIRECTIVES | MATH_DIRECTIVES | {"glossary"}:
        return None
    # A fence left open runs to the end of the cell (MyST parses it so): its last line is then body, not closing.
    closed = len(lines) > 1 and _closes(lines[-1], token.markup)
    opening, body_lines, closing = lines[0], lines[1:-1] if closed else lines[1:], lines[-1:] if closed else []
    indent = re.match(r"[ \t]*", opening).group(0)
    if name in TITLED_DIRECTIVES and argument:
        title = lookup("text", message_of(argument))
        if title:
            opening = opening.replace(argument, title, 1)
    options = 0
    while options < len(body_lines) and _OPTION.match(body_lines[options]):
        options += 1
    body = "".join(line[len(indent):] if line.startswith(indent) else line for line in body_lines[options:])
    if name in MATH_DIRECTIVES:
        english = body.strip("\n")
        formula = _math(lookup, english)
        translated = body.replace(english, formula, 1) if formula else body
    elif name == "glossary":
        translated = _glossary(body, lookup)
    else:
        translated = _walk(body, lookup)
    reindented = "".join(indent + line if line.strip() else line
                         for line in translated.splitlines(keepends=True))
    return opening + "".join(body_lines[:options]) + reindented + "".join(closing)


def _closes(line, markup):
    """Whether ``line`` closes a fence opened with ``markup`` (the same character, at least as many, nothing else)."""
    return re.fullmatch(re.escape(markup[0]) + f"{{{len(markup)},}}", line.strip()) is not None


def _glossary(body, lookup):
    """A glossary: terms at the margin (one message each), definitions indented below them (Markdown)."""
    out, block = [], []

    def flush():
        if block and not any(line.strip() for line in block):  # blank lines between entries
            out.extend(block)
            block.clear()
        if block:
            indent = min(len(line) - len(line.lstrip()) for line in block if line.strip())
            text = "".join(line[indent:] if line.strip() else line for line in block)
            out.extend(" " * indent + line if line.strip() else line
                       for line in _walk(text, lookup).splitlines(keepends=True))
            block.clear()

    for line in body.splitlines(keepends=True):
        if line.strip() and not line[0].isspace():
            flush()
            term = lookup("text", line.strip())
            out.append(line.replace(line.strip(), term, 1) if term else line)
        else:
            block.append(line)
    flush()
    return "".join(out)


def translate_notebook(nb, lookup, translate_output=None):
    """A copy of notebook ``nb`` (nbformat) with its Markdown cells translated; code unchanged.

    ``translate_output(text)`` (optional) translates the text of stored stream outputs.
    """
    import copy

    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = translate_markdown(cell.source, lookup)
        elif cell.cell_type == "code" and translate_output is not None:
            for output in cell.get("outputs", []):
                if output.get("output_type") == "stream":
                    output["text"] = translate_output(output["text"])
    return nb
