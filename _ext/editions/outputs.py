"""Code cell outputs in the reader's language, from one execution: figure labels and printed text.

The notebooks run once (``execute_notebooks: cache``) and both editions show the same outputs. Their figures are
SVG with the text kept as text (``book/matplotlibrc``, ``book/course_figures.py``), so a translated edition can
swap each label for its translation at build time; printed outputs are text already. The unit of translation is
a *line with its numbers taken out*: ``"running mean, momentum 0.1"`` is the message
``"running mean, momentum {0}"``, translated once as ``"이동 평균, 모멘텀 {0}"`` and filled with the numbers of the
output, so that a number never goes through a translator and a new run with other numbers needs no new
translation. A message keeps its placeholders (the catalog test checks it).

Catalogs: ``locales/<lang>/LC_MESSAGES/figures/<page>.po`` (figure labels) and ``printed/<page>.po`` (printed
lines), one each per page with such outputs, extracted by the gettext builder from the executed pages
(``make translations`` reads them from the jupyter-cache) and updated like the page catalogs. An untranslated
label or line stays English, as gettext does.

Figures: each ``<text>`` element of matplotlib's SVG is one line of one label (title, axis label, tick label,
legend entry, annotation). The translation goes in its place, with the Korean fonts of the book's CSS before the
generic family (the SVG is an image: the page's CSS does not reach it), and a smaller font size when it is
clearly wider than the English text it replaces (a legend box is sized for the English). A label that matplotlib
lays out glyph by glyph (math text, ``$...$``) is a message when it has words outside the math, and is laid out
again when translated (:mod:`.math_labels`).
"""

import hashlib
import html
import re
from pathlib import Path

from docutils import nodes
from sphinx.transforms import SphinxTransform
from sphinx.util import logging

logger = logging.getLogger(__name__)

# catalog folders: figures/<page>.po (labels of the page's figures), printed/<page>.po (its printed lines)
FIGURES, PRINTED = "figures", "printed"
DOMAINS = (FIGURES, PRINTED)
# A number as printed: sign only at the start of a token, thousands separators, decimals, exponent, percent sign
# kept outside. Not inside identifiers (L1, x_20, e3, float32).
NUMBER = re.compile(r"(?<![\w.])(?:[-+−](?=\d))?(?:\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?"
                    r"(?![\w.]*[A-Za-z_])|"
                    r"(?<![\w.])(?:[-+−](?=\.\d))?\.\d+(?![\w]*[A-Za-z_])")
PLACEHOLDER = re.compile(r"\{(\d+)\}")
# a word of prose: lower-case letters, not part of an identifier, call or keyword argument
PROSE_WORD = re.compile(r"(?<![\w.(=\[\]'\"/\\$_-])[a-z][a-z'-]*[a-z](?![\w(=\[]|\.\w)")
# a capitalized word on its own (not a call, keyword or identifier), e.g. a method's name in a table row
NAME_WORD = re.compile(r"(?<![\w.=\[\]'\"/\\$_-])[A-Z][a-z]{2,}(?![\w(=\[]|\.\w)")
HANGUL = re.compile(r"[\uac00-\ud7a3]")
KOREAN_FONTS = ["Apple SD Gothic Neo", "Malgun Gothic", "NanumGothic", "Nanum Gothic", "Noto Sans KR",
                "Noto Sans CJK KR"]


# math text of a figure label ($...$): neither numbers nor braces are touched inside it
MATH = re.compile(r"(\$[^$]+\$)")


def template(line):
    """``(message, numbers)``: the line with each number outside math replaced by ``{0}``, ``{1}``, ... (and its
    other braces doubled, as in Python's str.format)."""
    numbers = []

    def take(match):
        numbers.append(match.group(0))
        return "\0" + str(len(numbers) - 1) + "\1"

    parts = MATH.split(line)
    for index in range(0, len(parts), 2):  # the even parts are outside math
        marked = NUMBER.sub(take, parts[index])
        parts[index] = marked.replace("{", "{{").replace("}", "}}").replace("\0", "{").replace("\1", "}")
    return "".join(parts), numbers


def fill(message, numbers):
    """The inverse of :func:`template` for a translated ``message``."""
    def put(match):
        if match.group(0) in ("{{", "}}"):
            return match.group(0)[0]
        index = int(match.group(1))
        return numbers[index] if index < len(numbers) else match.group(0)

    parts = MATH.split(message)
    for index in range(0, len(parts), 2):
        parts[index] = re.sub(r"\{\{|\}\}|\{(\d+)\}", put, parts[index])
    return "".join(parts)


def placeholders(message):
    """The placeholders of a message outside math, sorted (a translation must keep them all)."""
    outside = "".join(MATH.split(message)[0::2])
    return sorted(PLACEHOLDER.findall(outside.replace("{{", "").replace("}}", "")))


def is_prose(message):
    """A line worth a translation: it has a word of prose outside numbers, identifiers and math (a capitalized
    word counts: the name of a method the Korean edition writes in Hangul, "Ridge", "(Adam 0.001)")."""
    text = re.sub(r"\$[^$]*\$", " ", PLACEHOLDER.sub(" ", message))
    return bool(PROSE_WORD.search(text) or NAME_WORD.search(text) or HANGUL.search(text))


def printed_messages(text):
    """The messages of a printed output (stream or text result), in order."""
    found = []
    for line in text.splitlines():
        message, _ = template(line.rstrip())
        if message.strip() and is_prose(message):
            found.append(message)
    return found


def translate_printed(text, lookup):
    """``text`` with each line that ``lookup(message)`` translates; numbers and the rest unchanged."""
    out = []
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\n")
        stripped = body.rstrip()
        message, numbers = template(stripped)
        translation = lookup(message) if message.strip() and is_prose(message) else None
        out.append((fill(translation, numbers) + body[len(stripped):] if translation else body)
                   + line[len(body):])
    return "".join(out)


# --- figures ---------------------------------------------------------------------------------------------

SVG_TEXT = re.compile(r"(<text\b[^>]*>)([^<]*)(</text>)")
# matplotlib writes a math-text label as a comment with the source, then one element per glyph
SVG_MATH_LABEL = re.compile(r"<!-- (.*?) -->\n\s*<g\b[^>]*>\s*<text>\s*<tspan", re.S)


def figure_messages(svg):
    """The messages of a matplotlib SVG: one per line of text, and math-text labels that hold words."""
    found = []
    for match in SVG_TEXT.finditer(svg):
        message, _ = template(html.unescape(match.group(2)).strip())
        if message and is_prose(message):
            found.append(message)
    for match in SVG_MATH_LABEL.finditer(svg):
        message, _ = template(_comment_text(match.group(1)))
        if is_prose(message):
            found.append(message)
    return found


def _comment_text(comment):
    return html.unescape(comment).replace("- -", "--").strip()


def _width(text):
    """A rough width in em: Hangul and other wide characters 1, Latin capitals 0.7, the rest 0.55."""
    return sum(1.0 if ord(char) > 0x2e80 else 0.7 if char.isupper() else 0.3 if char in " .,:;|!il'" else 0.55
               for char in text)


def _with_korean_fonts(opening, scale):
    def family(match):
        families = [name.strip() for name in match.group(1).split(",")]
        korean = [f"'{name}'" for name in KOREAN_FONTS if f"'{name}'" not in families]
        at = families.index("sans-serif") if "sans-serif" in families else len(families)
        return "font-family: " + ", ".join(families[:at] + korean + families[at:])

    opening = re.sub(r"font-family: ([^;\"]*)", family, opening, count=1)
    if scale < 1:
        opening = re.sub(r"font-size: ([\d.]+)px",
                         lambda m: f"font-size: {float(m.group(1)) * scale:.2f}px", opening, count=1)
    return opening


def translate_svg(svg, lookup, relayout=None):
    """The SVG with every translated label in place (numbers kept); unchanged labels keep their bytes.

    ``relayout(group, translation)`` lays out a translated math-text label (default: :func:`.math_labels.relayout`;
    the build passes a cached one).
    """
    def replace(match):
        english = html.unescape(match.group(2))
        message, numbers = template(english.strip())
        translation = lookup(message) if message and is_prose(message) else None
        if not translation:
            return match.group(0)
        text = fill(translation, numbers)
        scale = min(1.0, max(0.7, _width(english.strip()) / max(_width(text), 0.1) * 1.1))
        return _with_korean_fonts(match.group(1), scale) + html.escape(text, quote=False) + match.group(3)

    def replace_math(group):
        message, numbers = template(_comment_text(group.group("source")))
        translation = lookup(message) if is_prose(message) else None
        if not translation:
            return group.group(0)
        if relayout is None:
            from .math_labels import relayout as lay_out
            return lay_out(group, fill(translation, numbers))
        return relayout(group, fill(translation, numbers))

    from .math_labels import MATH_GROUP

    return MATH_GROUP.sub(replace_math, SVG_TEXT.sub(replace, svg))


# --- the build -------------------------------------------------------------------------------------------

def is_output_literal(node):
    if not isinstance(node, nodes.literal_block):
        return False
    classes = node.get("classes", [])
    return "output" in classes and ("stream" in classes or "text_plain" in classes)


def is_output_svg(node):
    """An SVG that myst-nb wrote from a cell's output (into its ``jupyter_execute`` folder)."""
    return isinstance(node, nodes.image) and node.get("uri", "").endswith(".svg") and \
        "jupyter_execute/" in node.get("uri", "")


def node_messages(env, doctree, docname):
    """``{FIGURES: [...], PRINTED: [...]}``: the output messages of a resolved page (what the gettext builder
    adds to ``figures/<page>`` and ``printed/<page>``)."""
    from .util import image_path

    found = {FIGURES: [], PRINTED: []}
    for node in doctree.findall(lambda n: is_output_literal(n) or is_output_svg(n)):
        if isinstance(node, nodes.image):
            path = image_path(env, node, docname)
            if path is not None and path.is_file():
                found[FIGURES] += figure_messages(path.read_text(encoding="utf-8"))
        else:
            found[PRINTED] += printed_messages(node.astext())
    return {domain: list(dict.fromkeys(messages)) for domain, messages in found.items()}


class OutputTranslation(SphinxTransform):
    """In a translated edition, put the translated labels into output figures and printed text."""

    default_priority = 21  # after Locale: the page itself is translated by then

    def _cached_relayout(self, group, translated):
        """:func:`.math_labels.relayout`, once per label and matplotlib version (it imports matplotlib)."""
        import importlib.util
        from importlib.metadata import version

        from .util import cached_text

        def compute():
            from .math_labels import relayout
            return relayout(group, translated)

        code = Path(importlib.util.find_spec(f"{__package__}.math_labels").origin).read_bytes()
        return cached_text(self.app, "math-label", version("matplotlib"), code, group.group(0), translated,
                           compute=compute)

    def apply(self, **kwargs):
        from sphinx.builders.gettext import MessageCatalogBuilder

        from .util import catalog_lookup, image_path, is_translated_edition

        if isinstance(self.app.builder, MessageCatalogBuilder) or not is_translated_edition(self.config):
            return
        printed = catalog_lookup(self.app, f"{PRINTED}/{self.env.docname}")
        figures = catalog_lookup(self.app, f"{FIGURES}/{self.env.docname}")
        for node in list(self.document.findall(is_output_literal) if printed else []):
            english = node.astext()
            translated = translate_printed(english, printed)
            if translated != english:
                node.children = [nodes.Text(translated)]
                node.rawsource = translated
        for node in list(self.document.findall(is_output_svg) if figures else []):
            path = image_path(self.env, node)
            if path is None or not path.is_file():
                continue
            english = path.read_text(encoding="utf-8")
            translated = translate_svg(english, figures, relayout=self._cached_relayout)
            if translated == english:
                continue
            digest = hashlib.sha256(translated.encode("utf-8")).hexdigest()
            target = path.parent / self.config.language / f"{digest}.svg"
            if not target.is_file():
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(translated, encoding="utf-8")
            node["uri"] = "/" + Path(target).relative_to(Path(self.env.srcdir).resolve()).as_posix()


def cell_alt_texts(doctree):
    """Alt texts and figure captions that the cells' metadata give (``mystnb.image.alt``, ``mystnb.figure.caption``),
    with the cell's node: they are page messages whether or not the page was executed."""
    for cell in doctree.findall(lambda n: isinstance(n, nodes.container) and n.get("nb_element") == "cell_code"):
        settings = (cell.get("cell_metadata") or {}).get("mystnb") or {}
        for text in ((settings.get("image") or {}).get("alt"), (settings.get("figure") or {}).get("caption")):
            if isinstance(text, str) and text.strip():
                yield text, cell  # as the image node's alt attribute has it (Sphinx extracts that unchanged)


def add_catalog_messages(app, doctree, docname):
    """Gettext builder: output labels and lines into ``figures/<page>`` and ``printed/<page>``, the cells' alt
    texts into the page's own catalog.

    Sphinx extracts an alt text from an image node, which exists only when the page was executed
    (``make translations`` reads the executed pages from the jupyter-cache); the metadata give the same text
    without executing, so that both ways extract the same page catalog.
    """
    from sphinx.builders.gettext import MessageCatalogBuilder, MsgOrigin
    from sphinx.util.i18n import docname_to_domain

    if not isinstance(app.builder, MessageCatalogBuilder):
        return
    domain = docname_to_domain(docname, app.config.gettext_compact)
    source = app.env.doc2path(docname)
    for text, cell in cell_alt_texts(doctree):
        app.builder.catalogs[domain].add(text, MsgOrigin(source, cell.line or 0))
    for kind, messages in node_messages(app.env, doctree, docname).items():
        for message in messages:
            app.builder.catalogs[f"{kind}/{domain}"].add(message, MsgOrigin(source, 0))


def figure_labels(svg):
    """The prose labels of a figure as the reader sees them (titles, axis labels, legend entries), in order."""
    labels = [html.unescape(match.group(2)).strip() for match in SVG_TEXT.finditer(svg)]
    labels += [_comment_text(match.group(1)) for match in SVG_MATH_LABEL.finditer(svg)]
    return list(dict.fromkeys(label for label in labels if label and is_prose(template(label)[0])))


class DefaultAltText(SphinxTransform):
    """An output image without an alt text gets one: its labels ("Figure: title; x label; ..."), in the edition's
    language. Without it the HTML writer uses the file's path. The cell's ``mystnb.image.alt`` comes first."""

    default_priority = 22  # after the labels are translated

    def apply(self, **kwargs):
        from sphinx.builders.gettext import MessageCatalogBuilder
        from sphinx.locale import _

        from .util import image_path

        if isinstance(self.app.builder, MessageCatalogBuilder):
            return  # made of the figure's labels, which their own catalog translates: not a message
        for node in self.document.findall(nodes.image):
            if node.get("alt"):
                continue
            path = image_path(self.env, node) if is_output_svg(node) else None
            labels = figure_labels(path.read_text(encoding="utf-8")) if path is not None and path.is_file() else []
            node["alt"] = _("Figure: %s") % "; ".join(labels) if labels else _("Figure")
