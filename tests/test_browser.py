"""The built book renders in a real browser: math typeset by the bundled MathJax, figures shown.

Uses Debian's chromium (installed by `make system-deps`) through Playwright; never
`playwright install`. Screenshots land in _build/screenshots/ for a human look.
"""

import functools
import http.server
import shutil
import threading

import pytest
from playwright.sync_api import sync_playwright

from autograder.paths import REPO, chapter_ids

HTML = REPO / "_build" / "html"
SHOTS = REPO / "_build" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]


@pytest.fixture(scope="module")
def server():
    assert HTML.is_dir(), "_build/html is missing: run `make book` (make test does)"
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(HTML))
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


def load(browser, url):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    external = []
    page.on("request", lambda r: external.append(r.url) if not r.url.startswith(("http://127.0.0.1", "data:"))
            else None)
    page.goto(url, wait_until="load")
    return page, external


@pytest.mark.parametrize("chapter", chapter_ids())
def test_chapter_renders_math_and_figures(server, browser, chapter):
    page, external = load(browser, f"{server}/book/{chapter}.html")
    # "attached", not "visible": the first formula may sit in a heading copied into a hidden sidebar
    page.wait_for_selector("mjx-container", state="attached", timeout=30_000)
    assert page.locator("mjx-container").count() >= 3, "MathJax typeset too few formulas"
    assert page.locator(".MathJax merror, mjx-merror").count() == 0, "MathJax reports a TeX error"
    figures = page.locator("img[src*='_images'], .cell_output img")
    assert figures.count() >= 2, "expected the chapter's figures"
    widths = page.eval_on_selector_all(".cell_output img", "imgs => imgs.map(i => i.complete ? i.naturalWidth : 0)")
    assert widths and min(widths) > 100, f"a figure failed to load: widths {widths}"
    assert page.locator("a.download[href$='.ipynb'], a[href*='_downloads'][href$='.ipynb']").count() >= 1
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{chapter}.png"), full_page=False)
    assert external == [], f"the page requested the network: {external}"
    page.close()


def test_intro_and_bibliography_render(server, browser):
    page, external = load(browser, f"{server}/book/intro.html")
    assert "Normalization and Regularization" in page.title()
    page.close()
    page, _ = load(browser, f"{server}/book/bibliography.html")
    assert page.locator(".citation, dl.citation, div.citation").count() >= 5
    page.close()
    assert external == []
