"""Display formulas in a translated edition: the English TeX, with only the words of ``\\text{...}`` translated.

Why a formula vanished: Sphinx's i18n transform parses every translated message again with the page's parser, and
for a literal-type node (``math_block`` among them) it wraps the translation in reStructuredText's literal-block
syntax, ``"::\\n\\n   <translation>"``. A Markdown page is parsed by MyST, for which that is a paragraph "::"
followed by text; the paragraph's text replaces the formula's, and MathJax shows ``\\[::\\]``. Every display
formula whose Korean entry differs from the English one was lost that way.

So display formulas never go through that path: :class:`DisplayMathTranslation` runs just before Sphinx's
``Locale`` transform, takes the formula's entry from the page catalog itself, and puts the translation into the
node as TeX (no parsing), but only when :func:`translation_problem` finds that it changes nothing but the words
of ``\\text{}`` groups; otherwise the English formula stays and the build warns. Either way the node is marked
translated, so ``Locale`` leaves it alone. The catalog test and the built-page test use the same rule.
"""

import re
from collections import Counter
from os import path

from docutils import nodes
from sphinx.locale import init as init_locale
from sphinx.transforms import SphinxTransform
from sphinx.util import logging
from sphinx.util.i18n import docname_to_domain

logger = logging.getLogger(__name__)

# groups whose argument is prose: their words may be translated
TEXT_COMMANDS = ("\\text", "\\textrm", "\\textit", "\\textbf", "\\textsf", "\\mbox")
_TOKEN = re.compile(r"\\[A-Za-z]+|\\.|\S", re.S)


def _group_end(tex, start):
    """Index after the balanced ``{...}`` group that opens at ``tex[start]`` (end of text if unbalanced)."""
    depth, i = 0, start
    while i < len(tex):
        char = tex[i]
        if char == "\\":
            i += 2
            continue
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return len(tex)


def parse(tex):
    """The formula as items: ``("text", words)`` for a text group, ``("tex", token)`` for everything else."""
    items, i = [], 0
    while i < len(tex):
        match = _TOKEN.match(tex, i)
        if match is None:  # whitespace
            i += 1
            continue
        token = match.group(0)
        if token in TEXT_COMMANDS:
            brace = match.end()
            while brace < len(tex) and tex[brace].isspace():
                brace += 1
            if brace < len(tex) and tex[brace] == "{":
                end = _group_end(tex, brace)
                items.append(("text", tex[brace + 1:end - 1]))
                i = end
                continue
        items.append(("tex", token))
        i = match.end()
    return items


def cells(tex):
    """The formula cut at ``\\\\`` (rows) and ``&`` (columns): a list of rows, each a list of cells of items."""
    rows, row, cell = [], [], []
    for kind, value in parse(tex):
        if kind == "tex" and value == "\\\\":
            rows.append([*row, cell])
            row, cell = [], []
        elif kind == "tex" and value == "&":
            row.append(cell)
            cell = []
        else:
            cell.append((kind, value))
    rows.append([*row, cell])
    return rows


def without_text(tex):
    """The TeX tokens outside text groups, in order (what must survive a translation)."""
    return [value for kind, value in parse(tex) if kind == "tex"]


def text_words(tex):
    """The contents of the text groups, in order."""
    return [value for kind, value in parse(tex) if kind == "text"]


def translation_problem(english, translated):
    """What a translated display formula changes besides the words of its ``\\text{}`` groups, or None.

    Rows and columns stay; a cell without text keeps its TeX exactly; a cell with text keeps the same TeX tokens,
    which may move around its words (Korean puts "$t$ steps of size $\\eta$" as "크기 $\\eta$인 스텝 $t$번").
    """
    english_rows, translated_rows = cells(english), cells(translated)
    if [len(row) for row in english_rows] != [len(row) for row in translated_rows]:
        return (f"rows and columns differ: {[len(r) for r in english_rows]} cells per row in the English, "
                f"{[len(r) for r in translated_rows]} in the translation")
    for number, (english_row, translated_row) in enumerate(zip(english_rows, translated_rows, strict=True), 1):
        for column, (english_cell, translated_cell) in enumerate(zip(english_row, translated_row, strict=True), 1):
            english_tex = [value for kind, value in english_cell if kind == "tex"]
            translated_tex = [value for kind, value in translated_cell if kind == "tex"]
            has_text = any(kind == "text" for kind, _ in english_cell)
            same = Counter(english_tex) == Counter(translated_tex) if has_text else english_tex == translated_tex
            if not same:
                return (f"row {number}, column {column}: the TeX outside \\text{{}} changed from "
                        f"{''.join(english_tex)!r} to {''.join(translated_tex)!r}")
    return None


class DisplayMathTranslation(SphinxTransform):
    """Translate display formulas as TeX, before Sphinx's ``Locale`` transform (priority 20) mangles them."""

    default_priority = 19

    def apply(self, **kwargs):
        from sphinx.builders.gettext import MessageCatalogBuilder

        if isinstance(self.app.builder, MessageCatalogBuilder) or not self.config.language \
                or self.config.language == "en":
            return
        domain = docname_to_domain(self.env.docname, self.config.gettext_compact)
        dirs = [path.join(self.env.srcdir, directory) for directory in self.config.locale_dirs]
        catalog, has_catalog = init_locale(dirs, self.config.language, domain)
        if not has_catalog:
            return
        for node in list(self.document.findall(nodes.math_block)):
            english = node.rawsource or node.astext()
            translated = catalog.gettext(english)
            node["translated"] = True  # Locale must never re-parse a formula
            if not translated or translated == english:
                continue
            problem = translation_problem(english, translated)
            if problem:
                logger.warning("display formula kept in English: its translation changes the math (%s)", problem,
                               location=node)
                continue
            node.rawsource = translated
            node.children = []
            node += nodes.Text(translated)
