"""Feedback pages in Chromium at a phone's width: a long verdict (a diagnosis line, expected/got arrays)
wraps inside its box instead of running off the page."""

import shutil
from contextlib import contextmanager

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output
from playwright.sync_api import sync_playwright

from autograder.grading import feedback

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]
VERDICT = ("1 of 3 checks fail.\n[1] standardize(X of shape (4, 2)): 8 of 8 value(s) differ: expected "
           + ", ".join(f"{0.1 * i:.10f}" for i in range(40))
           + "\n    Diagnosis: your outputs equal z-scores computed in float32 (np.asarray(X, dtype=np.float32)); "
           "compute in float64, as the course and scikit-learn's StandardScaler do. See \"Standardization\" in "
           "the chapter." + "x" * 300)


def _notebook():
    test = new_code_cell("assert True", metadata={"nbgrader": {
        "grade": True, "grade_id": "test_standardize", "points": 3, "solution": False, "locked": True,
        "schema_version": 3}})
    test.outputs = [new_output("error", ename="AssertionError", evalue=VERDICT,
                               traceback=[f"AssertionError: {VERDICT}"])]
    return new_notebook(cells=[test])


@contextmanager
def _page(tmp_path, html, width, javascript=True):
    """``html`` as a file page in Chromium at ``width`` px (a phone's 390, a desktop's 1046)."""
    page_path = tmp_path / "feedback.html"
    page_path.write_text(html, encoding="utf-8")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_context(java_script_enabled=javascript,
                                       viewport={"width": width, "height": 844}).new_page()
            page.goto(page_path.as_uri())
            yield page
        finally:
            browser.close()


@pytest.mark.parametrize("width", [390, 1046])
def test_long_verdicts_wrap_at_any_width(tmp_path, width):
    html = feedback.render(nbformat.from_dict(_notebook()), "01-normalization", {"test_standardize": (0.0, 3.0)},
                           3.0, "ok", "")
    with _page(tmp_path, html, width) as page:
        cut = page.evaluate("""() => [...document.querySelectorAll('div.output_area pre')]
            .filter(pre => pre.textContent.includes('Diagnosis'))
            .map(pre => pre.scrollWidth - pre.clientWidth)""")
        assert cut, "the verdict is not on the page"
        assert max(cut) <= 1, f"the verdict runs {max(cut)} px past its box at {width} px"
        assert page.evaluate("document.documentElement.scrollWidth") <= width + 1


def test_the_visible_tests_traceback_is_folded_under_the_verdict(tmp_path):
    """The verdict is shown first and open; the kernel's traceback of the visible test is folded in a
    <details> (closed by default, opened with a click, no JavaScript: the page runs with it disabled)."""
    nb = _notebook()
    visible = new_output("error", ename="AssertionError", evalue="Not equal to tolerance rtol=1e-10", traceback=[
        "\x1b[0;31mAssertionError\x1b[0m  Traceback (most recent call last)",
        "Cell \x1b[0;32mIn[7], line 3\x1b[0m\n----> 3 np.testing.assert_allclose(standardize(X), want)",
        "    (2 frame(s) inside libraries not shown)",
        "\x1b[0;31mAssertionError\x1b[0m: \nNot equal to tolerance rtol=1e-10 VISIBLE_TRACEBACK_LINE"])
    nb.cells[0].outputs.append(visible)
    html = feedback.render(nbformat.from_dict(nb), "01-normalization", {"test_standardize": (0.0, 3.0)},
                           3.0, "ok", "")
    with _page(tmp_path, html, 390, javascript=False) as page:
        verdict = page.locator("div.output_area pre", has_text="Diagnosis")
        assert verdict.count() == 1 and verdict.is_visible()
        folded = page.locator("details.visible-traceback")
        assert folded.count() == 1 and folded.get_attribute("open") is None
        traceback_line = page.get_by_text("VISIBLE_TRACEBACK_LINE")
        assert not traceback_line.is_visible(), "the traceback must be folded by default"
        assert page.locator("details.visible-traceback summary").inner_text().startswith(
            "Traceback of the visible test")
        assert verdict.evaluate("(v, d) => !!(v.compareDocumentPosition(d) & Node.DOCUMENT_POSITION_FOLLOWING)",
                                folded.element_handle()), "the verdict comes first"
        page.locator("details.visible-traceback summary").click()
        assert traceback_line.is_visible(), "a click on the summary unfolds it"
