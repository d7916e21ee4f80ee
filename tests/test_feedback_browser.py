"""Feedback pages in Chromium at a phone's width: a long verdict (a diagnosis line, expected/got arrays)
wraps inside its box instead of running off the page."""

import shutil

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


@pytest.mark.parametrize("width", [390, 1046])
def test_long_verdicts_wrap_at_any_width(tmp_path, width):
    html = feedback.render(nbformat.from_dict(_notebook()), "01-normalization", {"test_standardize": (0.0, 3.0)},
                           3.0, "ok", "")
    page_path = tmp_path / "feedback.html"
    page_path.write_text(html, encoding="utf-8")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": 844})
            page.goto(page_path.as_uri())
            cut = page.evaluate("""() => [...document.querySelectorAll('div.output_area pre')]
                .filter(pre => pre.textContent.includes('Diagnosis'))
                .map(pre => pre.scrollWidth - pre.clientWidth)""")
            assert cut, "the verdict is not on the page"
            assert max(cut) <= 1, f"the verdict runs {max(cut)} px past its box at {width} px"
            assert page.evaluate("document.documentElement.scrollWidth") <= width + 1
        finally:
            browser.close()
