"""The built Korean edition against the English one: formulas, figures, alt texts, the page download, search, and
the English words a Korean reader still sees.

Reads `_build/html/{en,ko}/` (`make book`; `make test` builds it before these tests) and, for the output
catalogs, the executed pages in the jupyter-cache. Chromium through Playwright as in tests/test_browser.py.

The Latin-word report (in pytest's warnings summary) counts, per Korean page, the English words a reader sees
outside code, math, citations, the glosses in parentheses that the style guide asks for and the allow-list.
Interface strings and figure labels allow none. For prose, `KO_LATIN_PROSE_BUDGET` (environment) is the most a
page may show: unset, prose is reported only, while the chapter catalogs are being revised; the goal is a
handful (`KO_LATIN_PROSE_BUDGET=5`), to be set in the Makefile when the chapters have landed.
"""

import html
import json
import os
import re
import subprocess
import sys
import warnings
from collections import Counter
from pathlib import Path

import nbformat
import polib
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coursebook import book
from coursebook import translation as i18n
from coursebook.paths import REPO
from tests.test_browser import CHAPTERS, HTML, PAGES, browser, server  # noqa: F401  (fixtures)

sys.path.insert(0, str(REPO / "_ext"))
from editions import display_math, markdown_i18n, outputs, search_ko  # noqa: E402

LANGUAGE = "ko"
HANGUL = re.compile(r"[\uac00-\ud7a3]")
CATALOG_DIR = i18n.catalog_dir(LANGUAGE)
# what a Korean page may show in Latin letters besides code and math: names of people, libraries, datasets and
# functions the prose and figures refer to as such, units, and the Keras word the glossary keeps (patience)
ALLOWED = set("""
adam adamw sgd xavier he glorot kaiming lecun polyak nesterov keras pytorch torch tensorflow numpy scipy sklearn
scikit-learn pandas jupyter jupyterlab colab python matplotlib nbgrader huber lasso ridge elasticnet iris wine
digits diabetes fashion-mnist mnist cifar imagenet virginica setosa versicolor mcnemar monte carlo bayesian
sigmoid tanh relu softmax lr eps alpha beta gamma lambda eta mu sigma kappa rho inf exp log sqrt cm mm kb mb gb
patience vs et al
""".split())
PROSE_BUDGET = int(os.environ["KO_LATIN_PROSE_BUDGET"]) if os.environ.get("KO_LATIN_PROSE_BUDGET") else None


class LatinWordsReport(UserWarning):
    """Shown in pytest's warnings summary: the English words left on each Korean page."""


def read(edition, page):
    return (HTML / edition / f"{page}.html").read_text(encoding="utf-8")


def without_calls(text):
    """``text`` without calls (``name(...)``, nested parentheses included): code in a label or printed line."""
    out, index = [], 0
    for match in re.finditer(r"[A-Za-z_][\w.]*\(", text):
        if match.start() < index:
            continue
        depth, end = 0, match.end() - 1
        while end < len(text):
            depth += {"(": 1, ")": -1}.get(text[end], 0)
            end += 1
            if depth == 0:
                break
        out.append(text[index:match.start()] + " ")
        index = end
    return "".join(out) + text[index:]


def latin_words(text):
    """Words a Korean reader sees as English: not code-like (digits, _, calls, CamelCase, acronyms), not math,
    not on the allow-list."""
    text = without_calls(re.sub(r"\$[^$]*\$", " ", text))
    words = []
    for token in re.findall(r"[A-Za-z][A-Za-z0-9_'.-]*(?:\([^()]*\))?", text):
        token = token.rstrip(".'-")
        if len(token) < 2 or re.search(r"[\d_(=]|\.\w", token) or re.search(r"[A-Z]", token[1:]):
            continue
        if token.lower() in ALLOWED:
            continue
        words.append(token)
    return words


# --- formulas -----------------------------------------------------------------------------------------------

INLINE = re.compile(r'<span class="math notranslate nohighlight">\\\((.*?)\\\)</span>', re.S)
DISPLAY = re.compile(r'<div class="math notranslate nohighlight">\s*\\\[(.*?)\\\]\s*</div>', re.S)


def formulas(edition, page):
    text = read(edition, page)

    def tex(source):  # TeX does not care about line breaks and runs of spaces
        return " ".join(html.unescape(source).split())

    return [tex(m) for m in INLINE.findall(text)], [tex(m) for m in DISPLAY.findall(text)]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: Path(p).name)
def test_every_korean_formula_equals_the_english_one(page):
    """The TeX of every formula of the Korean page (what MathJax renders) is the English page's: inline formulas
    the same ones (a translation may reorder them in a sentence), display formulas the same in order, differing at
    most in the words of their \\text{} groups (the rule of _ext/editions/display_math.py)."""
    english_inline, english_display = formulas("en", page)
    korean_inline, korean_display = formulas(LANGUAGE, page)
    lost, added = Counter(english_inline) - Counter(korean_inline), Counter(korean_inline) - Counter(english_inline)
    assert not lost and not added, f"{page}: inline formulas lost {sorted(lost)[:5]}, added {sorted(added)[:5]}"
    assert len(korean_display) == len(english_display), \
        f"{page}: {len(korean_display)} display formulas in Korean, {len(english_display)} in English"
    for english, korean in zip(english_display, korean_display, strict=True):
        if english != korean:
            problem = display_math.translation_problem(english, korean)
            assert problem is None, f"{page}: {korean[:80]!r} is not {english[:80]!r}: {problem}"


def test_formula_comparison_catches_a_lost_formula():
    """What issue 21 found: a translated display formula rendered as \\[::\\]."""
    assert display_math.translation_problem(r"\text{Lasso:}&\quad \alpha\lVert w\rVert_1", "::") is not None


@pytest.mark.parametrize("page", [p for p in CHAPTERS], ids=lambda p: Path(p).name)
def test_korean_formulas_render_with_their_korean_words(server, browser, page):  # noqa: F811
    """MathJax typesets every Korean formula (as many as in English, no error), and the Korean words of
    translated \\text{} groups are in the rendered formulas."""
    counts = {}
    for edition in ("en", LANGUAGE):
        context = browser.new_context()
        try:
            tab = context.new_page()
            tab.goto(f"{server}/{edition}/{page}.html", wait_until="load")
            tab.wait_for_selector("mjx-container", state="attached", timeout=30_000)
            tab.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=30_000)
            tab.evaluate("() => MathJax.startup.promise")
            counts[edition] = tab.locator("mjx-container").count()
            if edition == LANGUAGE:
                assert tab.locator("mjx-merror, .MathJax merror").count() == 0, f"{page}: a TeX error in Korean"
                rendered = " ".join(tab.locator("mjx-container").all_text_contents())
        finally:
            context.close()
    assert counts["en"] == counts[LANGUAGE], f"{page}: {counts}"
    words = {word for tex in formulas(LANGUAGE, page)[1] for text in display_math.text_words(tex)
             for word in re.findall(r"[\uac00-\ud7a3]+", text)}
    missing = sorted(word for word in words if word not in rendered)
    assert not missing, f"{page}: Korean words of formulas not rendered: {missing}"


# --- figures and their alt texts --------------------------------------------------------------------------

IMG = re.compile(r"<img\b[^>]*>")


def images(edition, page):
    """(src, alt) of every image of a built page."""
    found = []
    for tag in IMG.findall(read(edition, page)):
        src = re.search(r'src="([^"]*)"', tag)
        alt = re.search(r'alt="([^"]*)"', tag)
        found.append((html.unescape(src.group(1)) if src else "", html.unescape(alt.group(1)) if alt else None))
    return found


def metadata_alt_texts(page):
    path = REPO / f"{page}.ipynb"
    if not path.is_file():
        return []
    nb = nbformat.read(path, as_version=4)
    return [((cell.metadata.get("mystnb") or {}).get("image") or {}).get("alt", "") for cell in nb.cells
            if ((cell.metadata.get("mystnb") or {}).get("image") or {}).get("alt")]


@pytest.mark.parametrize("edition", ["en", LANGUAGE])
@pytest.mark.parametrize("page", PAGES, ids=lambda p: Path(p).name)
def test_every_image_has_an_alt_text_that_describes_it(edition, page):
    """No alt text is empty or a file path (the HTML writer's default); in Korean, an alt text the page catalog
    translates is the translation, and a figure's own labels (the default) are in Korean."""
    catalog = {}
    po = CATALOG_DIR / "book" / f"{Path(page).name}.po"
    if po.is_file():
        catalog = {e.msgid: e.msgstr for e in polib.pofile(str(po)) if e.translated()}
    english_alts = set(metadata_alt_texts(page))
    for src, alt in images(edition, page):
        assert alt and alt.strip(), f"{edition}/{page}: {src} has no alt text"
        assert not re.search(r"(^|/)[\w.-]+\.(svg|png|jpe?g|gif)$", alt) and "_images/" not in alt, \
            f"{edition}/{page}: the alt text of {src} is a file path: {alt!r}"
        if edition != LANGUAGE:
            continue
        if alt in english_alts:  # the cell's own alt text, English until the page catalog translates it
            assert alt not in catalog, f"{page}: alt text left in English although translated: {alt[:60]!r}"
        elif src.endswith(".svg"):  # translated, or the figure's labels after "그림:"
            assert HANGUL.search(alt), f"{page}: the alt text of {src} is not Korean: {alt[:80]!r}"


def korean_figures(page):
    """(file, svg) of every SVG figure of the Korean page."""
    base = HTML / LANGUAGE / Path(page).parent
    return [((base / src).resolve(), (base / src).read_text(encoding="utf-8"))
            for src, _ in images(LANGUAGE, page) if src.endswith(".svg")]


@pytest.mark.parametrize("page", CHAPTERS, ids=lambda p: Path(p).name)
def test_no_korean_figure_shows_an_english_label(page):
    """Every label of every figure (titles, axes, legends, annotations) is Korean, numbers, code or a name."""
    figures = korean_figures(page)
    assert figures, f"{page}: no SVG figure (is the jupyter-cache from before book/matplotlibrc's SVG figures?)"
    english = {}
    for path, svg in figures:
        words = [w for label in outputs.figure_labels(svg) for w in latin_words(label)]
        if words:
            english[path.name] = words
    assert not english, f"{page}: English figure labels: {english}"


@pytest.mark.parametrize("page", CHAPTERS[:1] + CHAPTERS[-1:], ids=lambda p: Path(p).name)
def test_hangul_in_a_figure_renders_in_a_korean_font(server, browser, page):  # noqa: F811
    """Chromium draws the Hangul of a translated figure with a Korean font (no empty boxes)."""
    path = next(path for path, svg in korean_figures(page) if HANGUL.search(svg))
    context = browser.new_context()
    try:
        tab = context.new_page()
        tab.goto(f"{server}/{path.relative_to(HTML).as_posix()}", wait_until="load")
        count = tab.evaluate("""() => {
            const text = [...document.querySelectorAll('text, tspan')].find(t => /[\\uac00-\\ud7a3]/.test(t.textContent)
                && !t.querySelector('tspan'));
            text.setAttribute('data-hangul-probe', '1');
            return (text.textContent.match(/[\\uac00-\\ud7a3]/g) || []).length; }""")
        cdp = context.new_cdp_session(tab)
        cdp.send("DOM.enable")
        cdp.send("CSS.enable")
        root = cdp.send("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
        node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": "[data-hangul-probe]"})["nodeId"]
        fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    finally:
        context.close()
    korean = sum(f["glyphCount"] for f in fonts if re.search(r"nanum|noto sans (cjk )?kr|malgun|apple sd gothic",
                                                            f["familyName"], re.I))
    assert korean >= count, f"{path.name}: Hangul not drawn in a Korean font: {fonts}"


# --- output catalogs: current with the executed pages ----------------------------------------------------

@pytest.fixture(scope="module")
def output_templates(tmp_path_factory):
    """The figure and printed-output messages of the executed pages, extracted as `make translations` does."""
    out = tmp_path_factory.mktemp("gettext")
    conf = out / "conf"
    book.write_sphinx_conf(conf)
    done = subprocess.run([str(Path(sys.executable).with_name("sphinx-build")), "-c", str(conf), "-b", "gettext",
                           "-D", "nb_execution_mode=cache", "-q", "-d", str(out / "doctrees"), str(REPO),
                           str(out / "pot")], capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0, done.stderr[-2000:]
    return {domain: {e.msgid for e in polib.pofile(str(path)) if e.msgid}
            for domain, path in i18n.templates(out / "pot").items()}


def test_executed_pages_give_the_same_page_catalogs_as_the_sources(output_templates, tmp_path):
    """`make translations` reads the executed pages; the catalog tests extract without executing: both must give
    the same page messages (alt texts come from the cells' metadata; a figure's default alt text, made of its
    labels, is no message)."""
    offline = {domain: {e.msgid for e in polib.pofile(str(path)) if e.msgid}
               for domain, path in i18n.templates(i18n.extract(tmp_path / "pot")).items()}
    for domain, messages in offline.items():
        if domain.startswith("book/"):
            executed = output_templates[domain]
            assert executed == messages, f"{domain}: only when executed {sorted(executed - messages)[:3]}, " \
                f"only from the sources {sorted(messages - executed)[:3]}"


@pytest.mark.parametrize("kind", outputs.DOMAINS)
def test_output_catalogs_are_up_to_date_with_the_executed_pages(output_templates, kind):
    catalogs = {d: p for d, p in i18n.catalogs(LANGUAGE).items() if d.startswith(f"{kind}/")}
    current = {d: m for d, m in output_templates.items() if d.startswith(f"{kind}/")}
    assert current, f"no {kind} messages extracted from the executed pages"
    assert set(catalogs) == set(current), f"{kind}: catalogs {sorted(catalogs)}, pages with outputs {sorted(current)}"
    stale = {}
    for domain, path in catalogs.items():
        known = {e.msgid for e in polib.pofile(str(path)) if e.msgid and not e.obsolete}
        if known != current[domain]:
            stale[domain] = (sorted(current[domain] - known)[:3], sorted(known - current[domain])[:3])
    assert not stale, f"run `make translations`: new and gone messages per catalog: {stale}"


@pytest.mark.parametrize("page", CHAPTERS, ids=lambda p: Path(p).name)
def test_printed_outputs_show_their_translations(page):
    """Every printed line the catalog translates is shown translated, with the numbers of this run."""
    po = CATALOG_DIR / outputs.PRINTED / f"{page}.po"
    catalog = {e.msgid: e.msgstr for e in polib.pofile(str(po)) if e.translated()} if po.is_file() else {}
    # tags out first, entities second: a printed `<` (`loss < 0.1`) must not read as the start of a tag
    text = lambda block: html.unescape(re.sub(r"<[^>]+>", "", block))  # noqa: E731
    english = [text(b) for b in re.findall(r'<div class="output stream highlight-myst-ansi notranslate">'
                                           r'<div class="highlight"><pre><span></span>(.*?)</pre>',
                                           read("en", page), re.S)]
    korean = "\n".join(text(b) for b in re.findall(r"<pre><span></span>(.*?)</pre>", read(LANGUAGE, page), re.S))
    shown = 0
    for block in english:
        for line in block.splitlines():
            message, numbers = outputs.template(line.rstrip())
            if message in catalog:
                expected = outputs.fill(catalog[message], numbers)
                assert expected in korean, f"{page}: {expected!r} is not on the page"
                shown += 1
    if catalog:
        assert shown, f"{page}: a translated printed catalog, but no translated line found on the page"


# --- the page download ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("page", CHAPTERS, ids=lambda p: Path(p).name)
def test_the_download_button_of_a_korean_page_gives_the_korean_notebook(page):
    """The page's download button carries `_sources/<page>.ipynb` of the Korean edition: the same code, the
    Markdown from the page catalog."""
    import base64

    text = read(LANGUAGE, page)
    link = re.search(r'href="data:application/x-ipynb\+json;base64,([^"]+)" download="([^"]+)"\s+'
                     r'class="btn btn-sm btn-download-source-button', text)
    assert link, f"{page}: no download button carrying the page's notebook"
    assert link.group(2) == f"{Path(page).name}.ipynb"
    carried = base64.b64decode(link.group(1))
    assert carried == (HTML / LANGUAGE / "_sources" / f"{page}.ipynb").read_bytes()
    korean = nbformat.reads(carried.decode("utf-8"), as_version=4)
    nbformat.validate(korean)
    english = nbformat.read(REPO / f"{page}.ipynb", as_version=4)
    assert korean.metadata.get("language") == LANGUAGE
    catalog = {e.msgid: e.msgstr for e in polib.pofile(str(CATALOG_DIR / "book" / f"{Path(page).name}.po"))
               if e.translated()}
    for en, ko in zip(english.cells, korean.cells, strict=True):
        assert en.cell_type == ko.cell_type
        if en.cell_type == "code":
            assert en.source == ko.source, f"{page}: a code cell changed"
            continue
        expected = [(kind, catalog.get(msgid, msgid) if kind == "text" else ko_msgid)
                    for (kind, msgid), (_, ko_msgid) in zip(markdown_i18n.units(en.source),
                                                            markdown_i18n.units(ko.source), strict=True)]
        assert markdown_i18n.units(ko.source) == expected, f"{page}: {en.source[:60]!r}"
    assert HANGUL.search(korean.cells[0].source), f"{page}: the notebook's title is not Korean"


@pytest.mark.parametrize("edition", ["en", LANGUAGE])
def test_the_page_download_button_saves_the_page_from_a_local_file(browser, edition):  # noqa: F811
    """Opened as a file (the README's `_build/html/index.html`), the button saves the edition's notebook instead
    of showing its JSON."""
    page = CHAPTERS[-1]
    context = browser.new_context(accept_downloads=True)
    try:
        tab = context.new_page()
        tab.goto((HTML / edition / f"{page}.html").as_uri())
        tab.locator(".dropdown-download-buttons button").first.click()
        with tab.expect_download(timeout=10_000) as download:
            tab.locator("a.btn-download-source-button").first.click()
        saved = Path(download.value.path()).read_bytes()
        assert download.value.suggested_filename == f"{Path(page).name}.ipynb"
        assert saved == (HTML / edition / "_sources" / f"{page}.ipynb").read_bytes()
        title = nbformat.reads(saved.decode("utf-8"), as_version=4).cells[0].source
        assert bool(HANGUL.search(title)) == (edition == LANGUAGE), f"{edition}: {title[:40]!r}"
    finally:
        context.close()


# --- search -------------------------------------------------------------------------------------------------

PARTICLES = ["", "은", "는", "이", "가", "을", "를", "의", "에", "에서", "에서는", "으로", "로", "와", "과", "도", "만",
             "이다", "입니다", "하는", "된"]


def glossary_terms():
    """The Korean terms of the glossary: each entry's rendering ("Korean: ...") and the terms of terms.yml."""
    glossary = (REPO / "book" / "glossary.md").read_text(encoding="utf-8")
    terms = set()
    for rendering in re.findall(r"Korean: ([^.(;]*)", " ".join(glossary.split())):
        rendering = rendering.strip().rstrip(",")
        if HANGUL.search(rendering):
            terms.add(rendering)
    import yaml

    terms |= {t["ko"] for t in yaml.safe_load((i18n.LOCALES / LANGUAGE / "terms.yml").read_text())["terms"]
              if HANGUL.search(t["ko"])}
    return sorted(terms)


@pytest.fixture(scope="module")
def search_page(server, browser):  # noqa: F811
    context = browser.new_context()
    tab = context.new_page()
    tab.goto(f"{server}/{LANGUAGE}/search.html", wait_until="load")
    tab.wait_for_function("() => typeof Search !== 'undefined' && Search.hasIndex()", timeout=30_000)
    yield tab
    context.close()


def search(tab, queries):
    """docnames found for each query by Sphinx's own search functions (the search page's code)."""
    return tab.evaluate("""(queries) => queries.map((q) => {
        const [query, terms, excluded, highlight, objects] = Search._parseQuery(q);
        return Search._performSearch(query, terms, excluded, highlight, objects).map((r) => r[0]); })""", queries)


def page_texts():
    """page name -> the page's text as the search index reads it (search-texts.js, written by the build)."""
    script = (HTML / LANGUAGE / "_static" / "search-texts.js").read_text(encoding="utf-8")
    texts = json.loads(script[script.index("=") + 1:].strip().rstrip(";"))
    return {name.removesuffix(".html"): re.sub(r"<[^>]+>", " ", html.unescape(text)) for name, text in texts.items()}


def test_search_finds_every_glossary_term_with_any_particle_on_every_page_that_has_it(search_page):
    """Recall of the Korean search on the course's own terms: for each term and particle, the query finds every
    page whose text has the term as a word of its own: bare, with a particle, or made a verb with 하다, 되다 or
    시키다 (all its words, for a term of several words). A longer noun that merely starts with the term is another
    word: 통계량 (a statistic) is not 통계 (statistics), and the search rightly keeps them apart."""
    texts = page_texts()
    particle = "|".join(sorted((re.escape(p) for p in PARTICLES if p), key=len, reverse=True))
    verb = "(?:하|한|할|함|해|했|합|되|된|될|됨|돼|됐|됩|시키|시킨|시켜|시킵)[\uac00-\ud7a3]*"
    queries, expected = [], []
    for term in glossary_terms():
        words = term.split()
        pages = {name for name, text in texts.items()
                 if all(re.search(rf"(?<![\uac00-\ud7a3]){re.escape(w)}(?:(?:{particle})?(?![\uac00-\ud7a3])|{verb})",
                                  text) for w in words)}
        if not pages:
            continue
        for particle in PARTICLES:
            queries.append(term + particle)
            expected.append(pages)
    found = search(search_page, queries)
    misses = [(q, sorted(pages - set(got))) for q, pages, got in zip(queries, expected, found, strict=True)
              if pages - set(got)]
    total = sum(len(p) for p in expected)
    missed = sum(len(m[1]) for m in misses)
    report = f"Korean search recall on {len(queries)} queries (glossary terms x {len(PARTICLES)} particles): " \
        f"{total - missed} of {total} pages found"
    warnings.warn(LatinWordsReport(report), stacklevel=1)
    assert not misses, f"{missed} of {total} expected pages not found, e.g. {misses[:8]}"


@pytest.mark.parametrize(("query", "page"), [("규제", "book/02-norms-lasso-ridge"), ("규제를", "book/glossary"),
                                             ("과대적합", "book/05-dropout"), ("오버피팅은", "book/glossary"),
                                             ("조기종료", "book/07-early-stopping"), ("정칙화는", "book/intro")])
def test_search_leads_other_books_words_to_the_course_terms(search_page, query, page):
    assert page in search(search_page, [query])[0], f"{query!r} does not find {page}"


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from("정칙화과적합결가중치들은는이을를에서으로와도만하된다") , min_size=1,
                        max_size=8), min_size=1, max_size=20))
def test_the_query_stemmer_in_javascript_equals_the_python_one(search_page, words):
    """The browser strips a query word as the index build does (one rule set, two languages)."""
    got = search_page.evaluate("(words) => words.map((w) => KoreanSearch.queryForm(w))", words)
    assert got == [search_ko.query_form(w) for w in words]
    assert all(search_ko.query_form(w) in search_ko.stored_forms(w) for w in words)


# --- English words on Korean pages -----------------------------------------------------------------------

COLLECT = """() => {
  const skip = 'code, pre, kbd, samp, mjx-container, .math, script, style, svg, .citation, [lang]:not([lang="ko"])';
  const article = document.querySelector('article.bd-article');
  const visible = (el) => el.offsetParent !== null || getComputedStyle(el).position === 'fixed';
  const texts = {interface: [], prose: []};
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!el || el.closest(skip) || !visible(el) || !/[A-Za-z]/.test(node.textContent)) continue;
    if (el.closest('a[href*="bibliography"]')) continue;  // author-year citations
    // the page's and the book's titles in the sidebars and the footer are its text, not the interface's
    const content = (article && article.contains(el)) || el.closest('a.reference, .prev-next-title, .toc-entry');
    texts[content ? 'prose' : 'interface'].push(node.textContent);
  }
  for (const el of document.querySelectorAll('[title], [aria-label], [placeholder], [data-tooltip]')) {
    if (el.closest('[lang]:not([lang="ko"])') || el.closest('a[href*="bibliography"]')) continue;
    for (const name of ['title', 'aria-label', 'placeholder', 'data-tooltip']) {
      const value = el.getAttribute(name);
      if (value && /[A-Za-z]/.test(value)) texts.interface.push(value);
    }
  }
  return texts;
}"""


def without_glosses(text):
    """Prose without the English in parentheses right after a Korean word (정칙화(regularization)): the style
    guide's glosses."""
    return re.sub(r"(?<=[\uac00-\ud7a3*`])\s?\([^()]*\)", " ", text)


def test_english_words_on_korean_pages(server, browser):  # noqa: F811
    """Walks every Korean page: English words in the interface (outside the page's text and titles, and in
    tooltips and labels) fail the test; English words of prose (the page and its titles in the sidebars) are
    reported per page and fail above KO_LATIN_PROSE_BUDGET."""
    report, interface_failures, prose_failures = [], {}, {}
    for page in PAGES:
        context = browser.new_context()
        try:
            tab = context.new_page()
            tab.goto(f"{server}/{LANGUAGE}/{page}.html", wait_until="load")
            tab.wait_for_timeout(300)  # scripts add their buttons and tooltips
            texts = tab.evaluate(COLLECT)
        finally:
            context.close()
        interface = [w for text in texts["interface"] for w in latin_words(without_glosses(text))]
        prose = [w for text in texts["prose"] for w in latin_words(without_glosses(text))]
        common = ", ".join(f"{w} x{n}" if n > 1 else w for w, n in Counter(prose).most_common(6))
        report.append(f"{page}: interface {len(interface)}, prose {len(prose)}" + (f" ({common})" if prose else ""))
        if interface:
            interface_failures[page] = sorted(set(interface))
        if PROSE_BUDGET is not None and len(prose) > PROSE_BUDGET:
            prose_failures[page] = len(prose)
    budget = f"budget {PROSE_BUDGET} per page" if PROSE_BUDGET is not None else "no budget: KO_LATIN_PROSE_BUDGET unset"
    warnings.warn(LatinWordsReport(f"English words on Korean pages (outside code, math, citations, glosses; prose "
                                   f"{budget}):\n  " + "\n  ".join(report)), stacklevel=1)
    assert not interface_failures, f"English interface strings on Korean pages: {interface_failures}"
    assert not prose_failures, f"pages over the prose budget of {PROSE_BUDGET} English words: {prose_failures}"


@pytest.mark.parametrize(("text", "english"), [
    ("정칙화(regularization)는 과적합을 줄입니다.", []),
    ("Adam과 SGD, `torch.std`, Dropout(0.5), running_var, $x_i$", []),
    ("배치 i 뒤에 step(epoch + (i + 1) / n_batches)", []),
    ("the training loss falls", ["the", "training", "loss", "falls"]),
    ("Link to this heading", ["Link", "to", "this", "heading"]),
])
def test_latin_word_detection(text, english):
    assert latin_words(without_glosses(text)) == english
