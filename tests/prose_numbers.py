"""Numbers typed into a page's prose that its own code cells print: each must be glued instead.

A Markdown cell that states a measured number by hand drifts from the output it describes as soon as the
experiment changes or runs on another CPU. This module finds such numbers in one executed notebook:

- *prose numbers*: numbers of two or more significant digits in Markdown text, outside math, code spans,
  roles (``{glue:text}`...```, ``{cite}`...```), link targets and HTML tags;
- *printed numbers*: every number in the text outputs of the code cells (streams, ``text/plain``,
  ``text/markdown``, ``text/html``), glued values excepted (they are what the prose should use);
- a prose number is *typed* when a printed number rounds to it at the prose number's precision (also as a
  percentage: ``94.8 %`` for a printed ``0.948``), unless the code states it as a literal (an input such as
  a batch size or a learning rate, not a measurement) or the notebook lists it in its metadata
  ``course.cited_numbers`` (a number from a paper or a source note that a cell happens to print as well).

``python -m tests.prose_numbers book/NN-name.ipynb [EXECUTED.ipynb]`` lists the typed numbers of a page
(from the book's jupyter-cache, or from an executed copy given as the second argument).
"""

import re
import sys
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

NUMBER = re.compile(r"(?<![\w.^_])[-−]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?(?![\w])")
# what a reader does not read as a stated measurement: math, code, roles and their targets, links, HTML
_HIDDEN = [
    re.compile(r"\$\$.*?\$\$", re.S),  # display math
    re.compile(r"(?<!\\)\$[^$\n]+?(?<!\\)\$"),  # inline math
    re.compile(r"```.*?```", re.S),  # fenced blocks (admonition headers keep their text below)
    re.compile(r"\{[\w:-]+\}`[^`]*`"),  # roles: {glue:text}`key:.3f`, {cite}`key`, {term}`...`
    re.compile(r"`[^`\n]*`"),  # code spans
    re.compile(r"\]\([^)]*\)"),  # link targets
    re.compile(r"<[^>\n]+>"),  # HTML tags
    re.compile(r"^\s*:[\w-]+:.*$", re.M),  # directive options (:class: dropdown)
]


@dataclass(frozen=True)
class Typed:
    """A number typed in prose that a code cell prints."""

    cell: int
    text: str  # as written in the prose
    printed: str  # the printed number it equals
    context: str  # the words around it

    def __str__(self):
        return f"cell {self.cell}: {self.text!r} (printed {self.printed}) in: ...{self.context}..."


def _value(token):
    try:
        return Decimal(token.replace(",", "").replace("−", "-"))
    except InvalidOperation:
        return None


def significant_digits(token):
    """Significant digits of a number as written: ``0.05`` has 1, ``540`` 2, ``1797`` 4, ``30`` 1."""
    mantissa = re.split(r"[eE]", token.replace(",", "").lstrip("-−"))[0]
    if "." in mantissa:
        digits = mantissa.replace(".", "").lstrip("0")
        return len(digits)
    return len(mantissa.strip("0")) if mantissa.strip("0") else 0


def _decimals(token):
    mantissa = re.split(r"[eE]", token)[0]
    return len(mantissa.split(".")[1]) if "." in mantissa else 0


def visible_prose(markdown):
    """The Markdown text a reader reads as sentences: math, code, roles, links and tags blanked out."""
    for pattern in _HIDDEN:
        markdown = pattern.sub(lambda m: " " * len(m.group(0)), markdown)
    return markdown


def _output_texts(cell):
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            yield str(output.get("text", ""))
        elif output.get("output_type") in ("execute_result", "display_data"):
            if "scrapbook" in output.get("metadata", {}):
                continue  # a glued value: the prose is meant to use it through the role
            data = output.get("data", {})
            for mime in ("text/plain", "text/markdown", "text/html"):
                if mime in data:
                    yield str(data[mime])
                    break


def printed_numbers(nb):
    """{Decimal value: token} of every number the code cells print (as printed, most precise kept)."""
    found = {}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for text in _output_texts(cell):
            for match in NUMBER.finditer(text):
                value = _value(match.group(0))
                if value is not None:
                    found.setdefault(value, match.group(0))
    return found


def code_literals(nb):
    """Values the code states as literals (inputs: sizes, rates, seeds, thresholds)."""
    values = set()
    for cell in nb.cells:
        if cell.cell_type == "code":
            for match in NUMBER.finditer(cell.source):
                value = _value(match.group(0))
                if value is not None:
                    values.add(value)
    return values


def _rounds_to(printed, value, decimals):
    """True when a printed number, rounded to ``decimals`` places, reads as ``value``."""
    quantum = Decimal(1).scaleb(-decimals)
    try:
        return abs(printed.quantize(quantum) - value) == 0 or abs(printed - value) < quantum / 2
    except InvalidOperation:
        return False


def typed_numbers(nb):
    """Every :class:`Typed` number of an executed notebook (see the module docstring)."""
    printed = printed_numbers(nb)
    inputs = code_literals(nb)
    cited = {_value(str(x)) for x in nb.metadata.get("course", {}).get("cited_numbers", [])}
    found = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        prose = visible_prose(cell.source)
        for match in NUMBER.finditer(prose):
            token = match.group(0)
            value = _value(token)
            if value is None or significant_digits(token) < 2 or value in inputs or value in cited:
                continue
            decimals = _decimals(token)
            after = prose[match.end():match.end() + 9].lstrip()
            candidates = [(value, decimals)]
            if after.startswith(("%", "percent", "points")):
                candidates.append((value / 100, decimals + 2))  # 94.8 % stated for a printed 0.948
            hit = next((token_printed for p, token_printed in printed.items()
                        for v, d in candidates if _decimals(token_printed) >= d and _rounds_to(p, v, d)), None)
            if hit is not None:
                start, end = max(0, match.start() - 50), min(len(cell.source), match.end() + 30)
                context = " ".join(cell.source[start:end].split())
                found.append(Typed(index, token, hit, context))
    return found


def main(argv):
    import nbformat

    from tests.notebooks import executed_page

    page = argv[0]
    nb = nbformat.read(argv[1], as_version=4) if len(argv) > 1 else executed_page(page)
    typed = typed_numbers(nb)
    for entry in typed:
        print(entry)
    print(f"{len(typed)} typed number(s) in {page}")
    return 1 if typed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
