"""pytest plugin: what nbval executes of the book's pages also feeds the book's jupyter-cache.

``make test`` runs every notebook once: nbval executes (and checks) the pages, this plugin stores
each page with the outputs nbval received in ``_build/.jupyter_cache`` (the cache ``_config.yml``
names), and the book build that follows finds every page there (matched by the hash of its code)
instead of executing it again. A page nbval did not run through, or whose code changed since, is
simply executed by the book build as before.
"""

import copy
import time
from pathlib import Path

CACHE = Path(__file__).resolve().parents[1] / "_build" / ".jupyter_cache"


def _store(notebook_file):
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    nb = copy.deepcopy(notebook_file.nb)
    for count, cell in enumerate((c for c in nb.cells if c.cell_type == "code"), start=1):
        cell.execution_count = count
    for attempt in range(20):  # two xdist workers may write at the same moment: SQLite says "locked"
        try:
            get_cache(str(CACHE)).cache_notebook_bundle(
                CacheBundleIn(nb, uri=str(notebook_file.fspath), data={"execution_seconds": 0}),
                check_validity=False, overwrite=True)
            return
        except Exception:  # noqa: BLE001 - the book build executes the page itself then
            time.sleep(0.2 * (attempt + 1))


def _is_page_cell(item):
    return hasattr(item, "test_outputs") and str(item.fspath).startswith(str(CACHE.parents[1] / "book"))


def pytest_runtest_makereport(item, call):
    if call.when == "call" and call.excinfo is not None and _is_page_cell(item):
        item.parent.page_failed = True  # a failing page is not cached: the book build runs it and says why


def pytest_runtest_teardown(item, nextitem):
    if not _is_page_cell(item):
        return
    if item.test_outputs is not None:
        item.cell.outputs = list(item.test_outputs)
    page = item.parent
    if (nextitem is None or nextitem.parent is not page) and not getattr(page, "page_failed", False):
        _store(page)  # the page's last cell
