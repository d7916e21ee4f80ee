"""The book: every chapter listed and executed, no reference code, offline HTML with exercise links.

The HTML checks read `_build/html`, which `make test` builds first (`make book`).
"""

import re

import pytest
import yaml

from autograder.paths import REPO, chapter_ids, source_notebook
from tests.notebooks import answer_cells, read

BOOK = REPO / "book"
HTML = REPO / "_build" / "html"
NARRATIVES = sorted(BOOK.glob("*.ipynb"))
GRADED_NAMES = sorted({name for ch in chapter_ids() for name in answer_cells(read(source_notebook(ch)))})


def toc_files():
    toc = yaml.safe_load((REPO / "_toc.yml").read_text())
    return [toc["root"]] + [entry["file"] for entry in toc.get("chapters", [])]


def test_every_chapter_has_a_narrative_in_the_toc():
    listed = toc_files()
    for chapter in chapter_ids():
        assert f"book/{chapter}" in listed, f"_toc.yml does not list book/{chapter}"
    for nb in NARRATIVES:
        assert f"book/{nb.stem}" in listed, f"{nb.name} is not in _toc.yml"


@pytest.mark.parametrize("path", sorted(BOOK.rglob("*.*")), ids=lambda p: p.name)
def test_book_never_imports_the_reference_package(path):
    if path.suffix not in {".ipynb", ".md", ".py"}:
        return
    text = path.read_text(encoding="utf-8")
    assert not re.search(r"(^|[^\w.])(from|import)\s+solutions\b", text), f"{path.name} imports solutions"


@pytest.mark.parametrize("nb_path", NARRATIVES, ids=lambda p: p.stem)
def test_narrative_conventions(nb_path):
    nb = read(nb_path)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    for name in GRADED_NAMES:
        assert not re.search(rf"^\s*(def|class)\s+{name}\b", code, re.M), f"{nb_path.name} shows reference {name}"
    assert nb.metadata.get("course", {}).get("budget_seconds"), f"{nb_path.name}: no budget in metadata"
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "{cite}" in markdown, f"{nb_path.name} cites no paper"
    chapter = nb_path.stem
    if chapter in chapter_ids():
        assert f"../exercises/release/{chapter}/{chapter}.ipynb" in markdown, f"{chapter}: no exercise link"
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and cell.get("outputs"):
            assert "nbval-check-output" in cell.metadata.get("tags", []), f"{chapter}: cell {index} stores outputs"
        # nbval markers are cell tags, never comments a reader would see on the page
        assert "NBVAL_" not in cell.source, f"{chapter}: cell {index} shows an nbval marker; use a cell tag"


def built_pages():
    assert HTML.is_dir(), "_build/html is missing: run `make book` (make test does)"
    return sorted(HTML.rglob("*.html"))


def test_html_loads_nothing_from_the_network():
    offenders = []
    for page in built_pages():
        text = page.read_text(encoding="utf-8")
        offenders += [f"{page.name}: {m}" for m in re.findall(r"<(?:script|link|img)[^>]+(?:src|href)=\"https?://[^\"]+",
                                                              text)]
    assert offenders == []


@pytest.mark.parametrize("chapter", chapter_ids())
def test_chapter_page_links_its_exercise_download(chapter):
    page = HTML / "book" / f"{chapter}.html"
    built_pages()
    text = page.read_text(encoding="utf-8")
    links = re.findall(rf'href="([^"]*_downloads/[^"]*/{chapter}\.ipynb)"', text)
    assert links, f"{page.name}: no download link to {chapter}.ipynb"
    target = (page.parent / links[0]).resolve()
    released = read(target)
    assert set(answer_cells(released)) == set(answer_cells(read(source_notebook(chapter))))
    assert "### BEGIN SOLUTION" not in target.read_text(encoding="utf-8")
