"""The built book in a real browser, both editions: math typeset by the bundled MathJax, figures shown,
Hangul in a Korean font, the language switch, the phone-width menu, no JavaScript error, no network.

Uses Debian's chromium (installed by `make system-deps`) through Playwright; never
`playwright install`. Screenshots land in _build/screenshots/ for a human look.
"""

import functools
import http.server
import re
import shutil
import threading
from pathlib import Path

import pytest
import yaml
from playwright.sync_api import sync_playwright

from coursebook.editions import codes
from coursebook.paths import REPO, chapter_ids

pytestmark = [pytest.mark.browser, pytest.mark.slow]

HTML = REPO / "_build" / "html"
SHOTS = REPO / "_build" / "screenshots"
# Navigations wait for the page's load event: a chapter page (MathJax, figures) on a loaded 2-core machine took
# more than 10 s (stop 29's fresh clone, load average 7); a wrong or missing navigation still fails, only later.
NAVIGATION_MS = 60_000
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]
EDITIONS = list(codes())
OTHER = {e: next(o for o in EDITIONS if o != e) for e in EDITIONS}  # where the language switch goes
# every page of the table of contents; the narrative notebooks among them are the chapters
TOC = yaml.safe_load((REPO / "_toc.yml").read_text())
PAGES = [TOC["root"]] + [c["file"] for c in TOC.get("chapters", [])]  # "book/intro", ...
CHAPTERS = [page for page in PAGES if (REPO / f"{page}.ipynb").is_file()]
EXERCISES = [page for page in CHAPTERS if Path(page).name in chapter_ids()]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
KOREAN_FONT = re.compile(r"nanum|noto sans (cjk )?kr|malgun|apple sd gothic", re.I)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    assert HTML.is_dir(), "_build/html is missing: run `make book` (make test does)"
    handler = functools.partial(QuietHandler, directory=str(HTML))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


class Visit:
    """A page with everything it did wrong recorded: JS errors, console errors, network requests."""

    def __init__(self, browser, url, viewport=DESKTOP, locale="en-US"):
        self.context = browser.new_context(viewport=viewport, locale=locale)
        self.context.set_default_timeout(NAVIGATION_MS)
        self.page = self.context.new_page()
        self.errors, self.external = [], []
        self.page.on("pageerror", lambda error: self.errors.append(f"pageerror: {error}"))
        self.page.on("console", lambda m: self.errors.append(f"console.{m.type}: {m.text}")
                     if m.type == "error" else None)
        self.page.on("request", lambda r: self.external.append(r.url)
                     if not r.url.startswith(("http://127.0.0.1", "data:")) else None)
        self.page.goto(url, wait_until="load")

    def check_clean(self, what):
        assert self.errors == [], f"{what}: JavaScript errors {self.errors}"
        assert self.external == [], f"{what}: the page requested the network: {self.external}"

    def close(self):
        self.context.close()


def hangul_fonts(page):
    """Fonts Chromium really used for the first visible Hangul text of the page (CSS.getPlatformFontsForNode)."""
    count = page.evaluate("""() => {
        const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            const el = node.parentElement;
            if (/[\\uac00-\\ud7a3]/.test(node.textContent) && el.offsetParent !== null && el.getClientRects().length) {
                el.setAttribute("data-hangul-probe", "1");
                return (el.textContent.match(/[\\uac00-\\ud7a3]/g) || []).length;
            }
        }
        return 0; }""")
    assert count, "no visible Hangul on a Korean page"
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": "[data-hangul-probe]"})["nodeId"]
    fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    cdp.detach()
    return count, fonts


def check_phone_layout(visit, what):
    """At 390 px: nothing wider than the screen, code wraps, display math scrolls, the menu opens."""
    page = visit.page
    page.set_viewport_size(PHONE)
    page.wait_for_timeout(300)
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"{what}: the page is wider than a phone ({width[0]} > {width[1]} px)"
    cut = page.evaluate("""() => [...document.querySelectorAll('article pre')]
        .filter(p => p.offsetParent !== null && p.scrollWidth > p.clientWidth + 1).length""")
    assert cut == 0, f"{what}: {cut} code block(s) wider than their box (cut off at the right)"
    overflowing = page.evaluate("""() => [...document.querySelectorAll('mjx-container[display="true"]')]
        .filter(m => m.scrollWidth > m.clientWidth + 1 && !['auto', 'scroll'].includes(getComputedStyle(m).overflowX))
        .length""")
    assert overflowing == 0, f"{what}: {overflowing} display formula(s) overflow instead of scrolling"
    # the back-to-top button (shown after scrolling down) is a small icon in the bottom-right corner
    page.mouse.wheel(0, 3000)
    page.wait_for_timeout(400)
    page.mouse.wheel(0, -200)  # the theme shows it when the reader scrolls back up
    page.wait_for_timeout(400)
    box = page.evaluate("""() => { const b = document.getElementById('pst-back-to-top');
        if (!b || getComputedStyle(b).display === 'none') return null;
        const r = b.getBoundingClientRect(); return [r.width, r.height, r.right, window.innerWidth]; }""")
    if box is not None:
        assert box[0] <= 48 and box[1] <= 48 and box[3] - box[2] <= 16, f"{what}: back-to-top button {box}"
    # a formula or table that scrolls shows a shadow where it continues
    cues = page.evaluate("""() => [...document.querySelectorAll(
            'mjx-container[display="true"], div.pst-scrollable-table-container')]
        .filter(m => m.offsetParent !== null && m.scrollWidth > m.clientWidth + 1)
        .map(m => getComputedStyle(m).backgroundImage.includes('radial-gradient'))""")
    assert all(cues), f"{what}: {cues.count(False)} scrolling formula(s) or table(s) without a scroll shadow"
    page.evaluate("window.scrollTo(0, 0)")
    # the menu: the visible button opens the chapter list
    toggle = page.locator(".primary-toggle:visible").first
    toggle.click()
    dialog = page.locator("#pst-primary-sidebar-modal")
    dialog.wait_for(state="visible", timeout=5_000)
    links = dialog.locator("nav a.reference.internal")
    assert links.count() >= len(PAGES) and links.last.is_visible(), f"{what}: the phone menu shows no chapter links"
    page.keyboard.press("Escape")
    page.set_viewport_size(DESKTOP)


@pytest.mark.parametrize("page_name", PAGES, ids=lambda p: Path(p).name)
@pytest.mark.parametrize("edition", EDITIONS)
def test_page_renders_in_both_editions(server, browser, edition, page_name):
    what = f"{edition}/{page_name}"
    visit = Visit(browser, f"{server}/{what}.html")
    page = visit.page
    try:
        assert page.evaluate("document.documentElement.lang") == edition
        if page_name in CHAPTERS:
            # "attached", not "visible": the first formula may sit in a heading copied into a hidden sidebar
            page.wait_for_selector("mjx-container", state="attached", timeout=30_000)
            assert page.locator("mjx-container").count() >= 3, f"{what}: MathJax typeset too few formulas"
            assert page.locator(".MathJax merror, mjx-merror").count() == 0, f"{what}: MathJax reports a TeX error"
            assert page.locator("img[src*='_images'], .cell_output img").count() >= 2, f"{what}: figures missing"
            widths = page.eval_on_selector_all(".cell_output img",
                                               "imgs => imgs.map(i => i.complete ? i.naturalWidth : 0)")
            assert widths and min(widths) > 100, f"{what}: a figure failed to load: widths {widths}"
            if page_name in EXERCISES:  # a chapter with an exercise links its notebook
                name = Path(page_name).name
                assert page.locator(f"a.download[download='{name}.ipynb'][href^='data:']").count() >= 1
        if page_name.endswith("bibliography"):
            assert page.locator(".citation, dl.citation, div.citation").count() >= 5
        if edition == "ko":
            count, fonts = hangul_fonts(page)
            korean = sum(f["glyphCount"] for f in fonts if KOREAN_FONT.search(f["familyName"]))
            assert korean >= count, f"{what}: Hangul not drawn in a Korean font (tofu?): {fonts}"
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{edition}-{Path(page_name).name}.png"), full_page=False)
        check_phone_layout(visit, what)
        # the language switch lands on the same page in the other edition
        page.locator("a.edition-switch").first.dispatch_event("click")  # where the reader is: no scrolling
        page.wait_for_url(re.compile(rf"^{re.escape(server)}/{OTHER[edition]}/{re.escape(page_name)}\.html(#[\w-]+)?$"),
                          timeout=NAVIGATION_MS)
        assert page.evaluate("document.documentElement.lang") == OTHER[edition]
        page.wait_for_load_state("load")
        visit.check_clean(what)
    finally:
        visit.close()


@pytest.mark.parametrize(("locale", "edition"), [("ko-KR", "ko"), ("en-US", "en"), ("fr-FR", "en")])
def test_front_page_sends_the_reader_to_their_language(server, browser, locale, edition):
    visit = Visit(browser, f"{server}/index.html", locale=locale)
    try:
        visit.page.wait_for_url(re.compile(rf"/{edition}/{TOC['root']}\.html$"), timeout=NAVIGATION_MS)
        visit.check_clean(f"index.html in {locale}")
    finally:
        visit.close()


def test_front_page_shows_both_editions_and_remembers_the_choice(server, browser):
    visit = Visit(browser, f"{server}/index.html?choose", locale="en-US")
    page = visit.page
    try:
        for label in ("English edition", "한국어판"):
            assert page.get_by_role("link", name=label).is_visible()
        page.get_by_role("link", name="한국어판").click()
        page.wait_for_url(re.compile(rf"/ko/{TOC['root']}\.html$"), timeout=NAVIGATION_MS)
        page.goto(f"{server}/index.html")  # an English browser, but the reader chose Korean
        page.wait_for_url(re.compile(rf"/ko/{TOC['root']}\.html$"), timeout=NAVIGATION_MS)
        visit.check_clean("index.html")
    finally:
        visit.close()


def _file_visit(browser, path, **kwargs):
    return Visit(browser, (HTML / path).as_uri(), **kwargs)


@pytest.mark.parametrize("chapter", EXERCISES, ids=lambda p: Path(p).name)
@pytest.mark.parametrize("edition", EDITIONS)
def test_exercise_download_saves_the_notebook_from_a_local_file(browser, edition, chapter):
    """Opened as a file (the README's `_build/html/index.html`), the link saves the edition's release."""
    from coursebook.paths import COURSE_ROOT
    from coursebook.translation import release_path

    name = Path(chapter).name
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    try:
        page.goto((HTML / edition / f"{chapter}.html").as_uri())
        with page.expect_download(timeout=NAVIGATION_MS) as download:
            page.locator(f"a.reference.download[download='{name}.ipynb']").first.click()
        saved = Path(download.value.path()).read_bytes()
        assert download.value.suggested_filename == f"{name}.ipynb"
        assert saved == release_path(COURSE_ROOT, name, edition).read_bytes(), f"{edition}/{name}: another notebook"
        assert page.url.endswith(f"{chapter}.html"), f"{edition}/{name}: the link opened {page.url}"
    finally:
        context.close()


@pytest.mark.parametrize("over", ["file", "http"])
@pytest.mark.parametrize(("edition", "query"), [("en", "dropout"), ("ko", "드롭아웃"), ("en", "regularization")])
def test_search_lists_pages_with_clean_excerpts(server, browser, over, edition, query):
    url = f"{server}/{edition}/search.html?q={query}" if over == "http" else \
        (HTML / edition / "search.html").as_uri() + f"?q={query}"
    visit = Visit(browser, url)
    page = visit.page
    try:
        page.wait_for_selector("#search-results li p.context", timeout=20_000)
        page.wait_for_timeout(500)
        results = page.locator("#search-results li").count()
        excerpts = page.locator("#search-results li p.context").all_inner_texts()
        assert results >= 3 and len(excerpts) == results, f"{over}: {results} results, {len(excerpts)} excerpts"
        for text in excerpts:
            assert "\\(" not in text and "\\[" not in text, f"raw math in an excerpt: {text[:120]}"
            assert not text.lstrip(".").lstrip().startswith(("한국어", "English", "Contents", "목차")), \
                f"interface text in an excerpt: {text[:120]}"
        if over == "http":
            visit.check_clean(f"search {query}")
        else:
            assert visit.errors == [], f"search over file://: {visit.errors}"
    finally:
        visit.close()


@pytest.mark.parametrize("edition", EDITIONS)
def test_language_switch_keeps_the_readers_section(browser, edition):
    chapter = CHAPTERS[1]
    visit = _file_visit(browser, f"{edition}/{chapter}.html")
    page = visit.page
    try:
        page.wait_for_timeout(1500)  # MathJax and figures settle the layout
        target = page.evaluate("() => document.querySelectorAll('article section[id]')[3].id")
        page.evaluate(f"document.getElementById('{target}').scrollIntoView()")
        page.wait_for_timeout(300)
        page.locator("a.edition-switch").first.dispatch_event("click")
        page.wait_for_url(re.compile(rf"/{OTHER[edition]}/{re.escape(chapter)}\.html#{re.escape(target)}$"),
                          timeout=NAVIGATION_MS)
        assert page.locator(f"[id='{target}']").count() == 1, f"no section {target} in the other edition"
    finally:
        visit.close()
