"""The book: every chapter listed and executed, no reference code, offline HTML with exercise links.

The HTML checks read `_build/html/{en,ko}/` and the front page `_build/html/index.html`, which `make test`
builds first (`make book`).
"""

import re

import nbformat
import pytest
import yaml

from coursebook.editions import codes
from coursebook.paths import COURSE_ROOT, REPO, chapter_ids, source_notebook
from coursebook.translation import release_path
from tests.notebooks import answer_cells, executed_page, read
from tests.prose_numbers import typed_numbers

BOOK = REPO / "book"
HTML = REPO / "_build" / "html"
EDITIONS = list(codes())
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


@pytest.mark.parametrize("nb_path", NARRATIVES, ids=lambda p: p.stem)
def test_prose_numbers_are_glued_from_the_outputs(nb_path):
    """No number typed in prose that a code cell of the page prints (tests/prose_numbers.py): glue it."""
    typed = typed_numbers(executed_page(nb_path))
    assert not typed, f"{nb_path.name}: {len(typed)} number(s) typed where an output exists, glue them:\n" + \
        "\n".join(map(str, typed))


def built_pages(edition=None):
    assert HTML.is_dir(), "_build/html is missing: run `make book` (make test does)"
    return sorted((HTML / edition if edition else HTML).rglob("*.html"))


def test_html_loads_nothing_from_the_network():
    offenders = []
    for page in built_pages():
        text = page.read_text(encoding="utf-8")
        offenders += [f"{page.relative_to(HTML)}: {m}"
                      for m in re.findall(r"<(?:script|link|img)[^>]+(?:src|href)=\"https?://[^\"]+", text)]
    assert offenders == []


def test_no_page_shows_a_traceback_and_no_report_is_published():
    for page in built_pages():
        text = page.read_text(encoding="utf-8")
        assert "Traceback (most recent call last)" not in text and 'class="output traceback' not in text, \
            f"{page.relative_to(HTML)} shows a traceback"
    published = [p.relative_to(HTML) for p in HTML.rglob("*") if "reports" in p.relative_to(HTML).parts]
    assert published == [], f"execution reports inside the site: {published[:5]}"


def test_front_page_offers_both_editions():
    text = (HTML / "index.html").read_text(encoding="utf-8")
    for edition in EDITIONS:
        assert f'href="{edition}/index.html"' in text, f"index.html does not link the {edition} edition"
        assert (HTML / edition / "index.html").is_file()
        assert (HTML / edition / f"{toc_files()[0]}.html").is_file()


@pytest.mark.parametrize("edition", EDITIONS)
def test_every_page_links_the_same_page_in_the_other_edition(edition):
    other = next(e for e in EDITIONS if e != edition)
    pages = [p for p in built_pages(edition) if "<html" in p.read_text(encoding="utf-8")[:500]]
    assert len(pages) >= len(toc_files())
    for page in pages:
        text = page.read_text(encoding="utf-8")
        if 'http-equiv="Refresh"' in text:
            continue  # the edition's index.html: a redirect to the first page
        assert f'<html lang="{edition}"' in text, f"{page.relative_to(HTML)}: not marked lang={edition}"
        links = re.findall(r'<a class="btn btn-sm edition-switch" href="([^"]+)"', text)
        assert len(links) == 1, f"{page.relative_to(HTML)}: expected one language switch, found {len(links)}"
        target = (page.parent / links[0]).resolve()
        expected = (HTML / other / page.relative_to(HTML / edition)).resolve()
        assert target == expected, f"{page.relative_to(HTML)}: switch goes to {target}, not {expected}"
        assert target.is_file(), f"{page.relative_to(HTML)}: switch target {target} does not exist"
        assert len(re.findall(r"const THEBE_JS_URL", text)) <= 1, f"{page.relative_to(HTML)}: duplicate script"


def test_korean_edition_is_translated_where_the_catalogs_are():
    intro = (HTML / "ko" / "book" / "intro.html").read_text(encoding="utf-8")
    assert "딥러닝을 위한 정규화와 정칙화" in intro, "the Korean intro is not translated"
    assert "<title>" in intro and "정칙화" in intro.split("<title>")[1].split("</title>")[0]
    glossary = (HTML / "ko" / "book" / "glossary.html").read_text(encoding="utf-8")
    assert "정칙화 (Regularization)" in glossary
    english = (HTML / "en" / "book" / "intro.html").read_text(encoding="utf-8")
    assert "정칙화 =" not in english and "Normalization and Regularization for Deep Learning" in english


@pytest.mark.parametrize("edition", EDITIONS)
@pytest.mark.parametrize("chapter", chapter_ids())
def test_chapter_page_links_its_exercise_download(edition, chapter):
    """The link carries the edition's release itself (a data: URL, so that it saves from file:// too)."""
    import base64

    page = HTML / edition / "book" / f"{chapter}.html"
    built_pages()
    text = page.read_text(encoding="utf-8")
    links = re.findall(rf'download="{re.escape(chapter)}\.ipynb" href="data:application/x-ipynb\+json;base64,([^"]+)"',
                       text)
    assert links, f"{edition}/{page.name}: no download link carrying {chapter}.ipynb"
    data = base64.b64decode(links[0])
    released = nbformat.reads(data.decode("utf-8"), as_version=4)
    assert set(answer_cells(released)) == set(answer_cells(read(source_notebook(chapter))))
    assert b"### BEGIN SOLUTION" not in data
    # each edition links its own release: exercises/release/ (English), exercises/release-ko/ (Korean)
    expected = release_path(COURSE_ROOT, chapter, edition)
    assert data == expected.read_bytes(), f"{edition}/{page.name} links a notebook other than {expected}"
