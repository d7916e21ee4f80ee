"""A translated math-text label of a matplotlib SVG, laid out again at build time.

matplotlib writes a label with ``$...$`` glyph by glyph (``<!-- source -->`` then a ``<g>`` of ``<tspan>``s at
computed positions), so its words cannot be swapped in place like a plain ``<text>``. A translation keeps the
math of the English (the catalog test checks it) and may move it ("singular value of $W$" -> "$W$의 특잇값"):
each math part is set again by matplotlib's own math-text parser, each text part is a ``<tspan>`` in the book's
fonts, measured with matplotlib's font metrics, and the new label is centred where the English one was (axis
labels and titles are centred; a left-aligned label moves by half the difference of widths). matplotlib is
imported only when a page has such a label.
"""

import html
import math
import re
from collections import Counter

from .outputs import KOREAN_FONTS, MATH

MATH_GROUP = re.compile(r"<!-- (?P<source>.*?) -->(?P<space>\s*)<g (?P<attrs>[^>]*)>"
                        r"(?P<body>\s*<text>\s*<tspan.*?)</g>", re.S)
TRANSLATE = re.compile(r"translate\(([-\d.e]+) ([-\d.e]+)\)(?: rotate\(([-\d.e]+)\))?")
TEXT_FAMILY = ["DejaVu Sans", "NanumGothic"]


def _source(comment):
    return html.unescape(comment).replace("- -", "--").strip()


def _parse(math, size):
    from matplotlib.font_manager import FontProperties
    from matplotlib.mathtext import MathTextParser

    return MathTextParser("path").parse(math, 72, FontProperties(size=size))


def _text_width(text, size):
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextToPath

    width, _, _ = TextToPath().get_text_width_height_descent(text, FontProperties(family=TEXT_FAMILY, size=size),
                                                             ismath=False)
    return width


def _glyph_tspans(parsed, dx, dy):
    """The tspans and rects of a parsed math part, moved by (dx, dy), as the SVG backend writes them."""
    from matplotlib import font_manager as fm

    parts = []
    for font, fontsize, ccode, _index, x, y in parsed.glyphs:
        entry = fm.ttfFontProperty(font)
        style = [f"font-style: {entry.style}"] if entry.style != "normal" else []
        style += [f"font-weight: {entry.weight}"] if entry.weight != 400 else []
        style += [f"font-size: {fontsize:g}px", f"font-family: '{entry.name}'"]
        char = "\xa0" if ccode == 32 else chr(ccode)
        parts.append(f'<tspan x="{x + dx:.6g}" y="{-y + dy:.6g}" style="{"; ".join(style)}">'
                     f"{html.escape(char, quote=False)}</tspan>")
    rects = [f'<rect x="{x + dx:.6g}" y="{-y - 1 + dy:.6g}" width="{w:.6g}" height="{h:.6g}"/>'
             for x, y, w, h in parsed.rects]
    return parts, rects


def relayout(group, translated):
    """The SVG of ``group`` (a match of :data:`MATH_GROUP`) showing ``translated`` instead of its source."""
    source = _source(group.group("source"))
    sizes = [float(s) for s in re.findall(r"font-size: ([\d.]+)px", group.group("body"))]
    size = max(sizes) if sizes else 10.0
    english = _parse(source, size)
    # math-text glyph positions are relative to the baseline (up to rounding): the English label's most common
    # glyph height at its base size is where the words sit
    heights = re.findall(rf'y="([-\d.e]+)" style="[^"]*font-size: {size:g}px', group.group("body"))
    baseline = float(Counter(heights).most_common(1)[0][0]) if heights else 0.0
    tspans, rects, x = [], [], 0.0
    families = ", ".join(f"'{name}'" for name in ["DejaVu Sans", *KOREAN_FONTS]) + ", sans-serif"
    for index, part in enumerate(MATH.split(translated)):
        if not part:
            continue
        if index % 2:  # math
            parsed = _parse(part, size)
            glyphs, boxes = _glyph_tspans(parsed, x, 0.0)
            tspans += glyphs
            rects += boxes
            x += parsed.width
        else:
            tspans.append(f'<tspan x="{x:.6g}" y="{baseline:.6g}" style="font-size: {size:g}px; '
                          f'font-family: {families}">{html.escape(part, quote=False)}</tspan>')
            x += _text_width(part, size)
    attrs = group.group("attrs")
    position = TRANSLATE.search(attrs)
    if position:
        left, bottom, angle = float(position.group(1)), float(position.group(2)), float(position.group(3) or 0)
        shift = (english.width - x) / 2  # along the text's direction, which SVG's rotate(angle) turns
        moved = f"translate({left + shift * math.cos(math.radians(angle)):.6g} " \
            f"{bottom + shift * math.sin(math.radians(angle)):.6g})" + \
            (f" rotate({angle:g})" if position.group(3) else "")
        attrs = attrs[:position.start()] + moved + attrs[position.end():]
    return (f"<!-- {html.escape(translated, quote=False).replace('--', '- -')} -->{group.group('space')}"
            f"<g {attrs}><text>{''.join(tspans)}</text>{''.join(rects)}</g>")
