"""Feedback pages cannot run student code in a browser: a hostile corpus opened in Chromium.

Every payload of :data:`tests.autograder_fixtures.hostile.HTML_PAYLOADS` (script elements, event handlers,
``javascript:`` links, frames, objects, mutation-XSS, styles and images that call out, meta refresh, base
and form targets) is put in every place a feedback page shows student content: Markdown, raw HTML cells,
cell tags, text/html, text/markdown, SVG and JavaScript outputs, execute results, streams and errors.
Each page is rendered by the grader's own :func:`autograder.grading.feedback.render` and opened from
``file://`` as an instructor would: no student script may run (the title stays, ``document.title`` never
becomes PWNED, no console message, no request but the page's own MathJax files), and math and the figure
still render.
"""

import base64
import io
import shutil
from pathlib import Path

import pytest

from autograder.grading import feedback
from tests.autograder_fixtures import hostile, tiny

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic", "--allow-file-access-from-files"]
SCORES = {"test_min_max_scale_tiny": (0.0, 2.0), "test_min_max_scale_tiny_range": (0.0, 1.0)}


def _png():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(2, 1.5))
    ax.plot([0, 1], [1, 0])
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode()


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    root = tmp_path_factory.mktemp("feedback")
    feedback.install_mathjax(root)
    png = _png()
    corpora = {"all": hostile.HTML_PAYLOADS, **{f"p{i:02d}": (p,) for i, p in enumerate(hostile.HTML_PAYLOADS)}}
    paths = {}
    for name, payloads in corpora.items():
        nb = hostile.hostile_feedback_notebook(payloads, png)
        page = feedback.render(nb, tiny.ASSIGNMENT, SCORES, 3.0, "ok", "detail " + " ".join(payloads))
        path = root / name / tiny.ASSIGNMENT / f"{tiny.ASSIGNMENT}.html"
        path.parent.mkdir(parents=True)
        path.write_text(page, encoding="utf-8")
        paths[name] = path
    return paths


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


def _visit(browser, path):
    context = browser.new_context()
    page = context.new_page()
    events = {"console": [], "requests": [], "errors": []}
    page.on("console", lambda m: events["console"].append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: events["errors"].append(str(e)))
    page.on("request", lambda r: events["requests"].append(r.url))
    page.goto(path.as_uri(), wait_until="load")
    page.wait_for_function("document.querySelectorAll('mjx-container').length >= 2", timeout=30_000)
    for link in page.query_selector_all("a"):  # a student link must not run anything when followed
        href = link.get_attribute("href") or ""
        if href.startswith("javascript"):
            link.click()
    page.wait_for_timeout(300)
    state = page.evaluate("""() => ({title: document.title,
        math: document.querySelectorAll('mjx-container').length,
        figures: [...document.images].filter(i => i.src.startsWith('data:image/png') && i.naturalWidth > 0).length,
        frames: document.querySelectorAll('iframe, object, embed, form, base, meta[http-equiv=refresh]').length})""")
    context.close()
    return state, events


@pytest.mark.parametrize("name", ["all"] + [f"p{i:02d}" for i in range(len(hostile.HTML_PAYLOADS))])
def test_no_student_script_runs_and_math_and_figures_render(pages, browser, name):
    state, events = _visit(browser, pages[name])
    assert state["title"] == tiny.ASSIGNMENT, state
    assert hostile.PWNED not in " ".join(events["console"] + events["errors"]), events
    assert not [m for m in events["console"] if "Content Security Policy" not in m], events["console"]
    allowed = Path(pages[name]).parents[2] / feedback.MATHJAX_FOLDER
    others = [u for u in events["requests"] if not (u.startswith("file://") and allowed.as_uri() in u)
              and u != pages[name].as_uri() and not u.startswith("data:")]
    assert others == [], others
    assert state["math"] >= 2, "math must still render (MathJax under the page's policy)"
    assert state["figures"] >= 1, "the figure must still render"
    assert state["frames"] == 0, state


def test_the_page_declares_its_policy_first(pages):
    text = pages["all"].read_text(encoding="utf-8")
    head = text[: text.index("</head>")]
    assert head.index('http-equiv="Content-Security-Policy"') < head.index("<script")
    policy = feedback.content_security_policy()
    assert "default-src 'none'" in policy and "connect-src 'none'" in policy and "'unsafe-inline'" not in \
        policy.split("script-src")[1].split(";")[0]
    assert hostile.PWNED not in text.replace(f"&quot;{hostile.PWNED}", "").replace(f"'{hostile.PWNED}", "") \
        or "<script>document.title" not in text
