"""The hostile and broken class of the autograder tests, built on the tiny course.

``build(root)`` writes every submission and returns {student_id: expectation}; the tests grade
the folder once and check each row against its expectation.
"""

import copy
import unicodedata
from dataclasses import dataclass

import nbformat

from autograder.paths import REPO
from tests.autograder_fixtures import tiny

FULL, ZERO = 3.0, 0.0


@dataclass
class Expect:
    status: str
    score: float | None = None  # None: not checked
    detail: str = ""  # regex the CSV detail must match
    flagged: bool = False


def _drop_cell(grade_id):
    def edit(nb):
        nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") != grade_id]
    return edit


def _duplicate_cell(grade_id):
    def edit(nb):
        index = next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
        duplicate = copy.deepcopy(nb.cells[index])
        duplicate["id"] = "duplicate-of-test"
        nb.cells.insert(index, duplicate)
    return edit


def _edit_tests(nb):
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade"):
            cell.source = "pass  # tests removed by the student"


def _tag_skip(nb):
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade"):
            cell.metadata["tags"] = ["skip-execution", "raises-exception"]


def _fake_grade_cell(nb):
    nb.cells.append(nbformat.v4.new_code_cell("print('bonus')", metadata={"nbgrader": {
        "grade": True, "grade_id": "bonus_points", "locked": False, "points": 100, "schema_version": 3,
        "solution": False, "task": False}}))


def _v3_text():
    v4 = tiny.student_notebook()
    cells = [nbformat.v3.new_code_cell(input=c.source, metadata=dict(c.metadata)) if c.cell_type == "code"
             else nbformat.v3.new_text_cell("markdown", source=c.source, metadata=dict(c.metadata))
             for c in v4.cells]
    v3 = nbformat.v3.new_notebook(worksheets=[nbformat.v3.new_worksheet(cells=cells)])
    v3.metadata.kernelspec = tiny.KERNELSPEC
    return nbformat.writes(v3, version=3)


def _v4_minor(minor):
    data = tiny.as_json(tiny.student_notebook())
    data["nbformat_minor"] = minor
    if minor < 5:
        for cell in data["cells"]:
            cell.pop("id", None)
    return data


FORK_BOMB = tiny.CORRECT + '''
import os, time
children = 0
try:
    while True:
        if os.fork() == 0:
            time.sleep(600)
            os._exit(0)
        children += 1
except OSError:
    print("fork refused after", children)'''
EQ_TRUE = '''class Anything:
    def __eq__(self, other):
        return True
    __hash__ = object.__hash__

def min_max_scale(X, feature_range=(0.0, 1.0)):
    return Anything()'''
SWALLOW = tiny.CORRECT.replace("axis=0", "axis=1, keepdims=True") + '''
def _quiet(shell, etype, evalue, tb, tb_offset=None):
    return None
get_ipython().set_custom_exc((Exception,), _quiet)'''
PATCH_ASSERT = tiny.WRONG + '''
np.testing.assert_allclose = lambda *args, **kwargs: None'''
SNEAKY_IMPORT = '''_ref = __import__("sol" + "utions.normalization", fromlist=["x"])
min_max_scale = _ref.min_max_scale'''
OPEN_REFERENCE = tiny.CORRECT + '''
import sys as _sys, os as _os
for _p in _sys.path:
    _f = _os.path.join(_p, "sol" + "utions", "normalization.py")
    if _os.path.exists(_f):
        _leak = open(_f).read()'''
PROBE = tiny.CORRECT + f'''
REPO = {str(REPO)!r}
import os, socket, sys
print("uid", os.getuid(), "cwd", os.getcwd())
print("env", sorted(os.environ))
print("pythonpath", os.environ.get("PYTHONPATH"))
try:
    socket.create_connection(("1.1.1.1", 53), timeout=3)
    print("network: reachable")
except OSError as err:
    print("network:", err)
for path in (REPO + "/sol" + "utions", REPO + "/exercises", REPO + "/tests"):
    try:
        print("listing", path, os.listdir(path))
    except OSError as err:
        print("listing", path, err)
print("files here", sorted(os.listdir(".")))
import resource
print("limits", [resource.getrlimit(getattr(resource, "RLIMIT_" + n))[0] for n in ("AS", "CPU", "NPROC", "FSIZE")])'''


def build(root):
    """Write the class into ``root``; returns {student_id: Expect}."""
    expect = {}

    def add(student, expectation, **kwargs):
        tiny.write(root, student, **kwargs)
        expect[student] = expectation

    nb = tiny.student_notebook
    add("correct", Expect("ok", FULL), notebook=nb())
    add("wrong", Expect("ok", ZERO), notebook=nb(tiny.WRONG))
    add("stub", Expect("ok", ZERO), notebook=nb("# YOUR CODE HERE\nraise NotImplementedError()"))
    # time
    add("loop_in_function", Expect("cell_timeout", ZERO, r"exceeded --cell-timeout"),
        notebook=nb("def min_max_scale(X, feature_range=(0.0, 1.0)):\n    while True:\n        pass"))
    add("loop_ignores_interrupt", Expect("cell_timeout", ZERO, r"ignored the interrupt"), notebook=nb(
        tiny.CORRECT + "\nimport time\nwhile True:\n    try:\n        time.sleep(0.05)\n"
        "    except KeyboardInterrupt:\n        pass"))
    # memory
    add("memory_bomb", Expect("memory_limit", ZERO, r"MemoryError"), notebook=nb(
        "def min_max_scale(X, feature_range=(0.0, 1.0)):\n    return bytearray(64 * 2**30)"))
    add("memory_creep", Expect("memory_limit", FULL, r"MemoryError"), notebook=nb(
        tiny.CORRECT + "\nhog = []\nwhile True:\n    hog.append(bytearray(50 * 2**20))"))
    # kernel deaths
    add("os_exit", Expect("kernel_died", ZERO, r"exited with status 3"),
        notebook=nb(tiny.CORRECT + "\nimport os\nos._exit(3)"))
    add("segfault", Expect("kernel_died", ZERO, r"SIGSEGV"),
        notebook=nb(tiny.CORRECT + "\nimport ctypes\nctypes.string_at(0)"))
    # IPython's exit() only asks the front end to close: the kernel keeps running
    add("ipython_exit", Expect("ok", FULL), notebook=nb(tiny.CORRECT + "\nexit()"))
    add("sys_exit", Expect("ok", ZERO), notebook=nb("import sys\nsys.exit(0)\n" + tiny.CORRECT))
    add("fork_bomb", Expect("ok", FULL), notebook=nb(FORK_BOMB))
    add("output_flood", Expect("ok", FULL, r"output truncated"), notebook=nb(
        tiny.CORRECT + "\nfor _ in range(1000):\n    print('x' * 100_000, flush=True)"))
    # test cells
    add("deleted_test", Expect("ok", 2.0, r"deleted.*test_min_max_scale_range"),
        notebook=nb(edit=_drop_cell("test_min_max_scale_range")))
    add("duplicated_test", Expect("ok", FULL, r"duplicated"), notebook=nb(edit=_duplicate_cell("test_min_max_scale")))
    add("edited_tests", Expect("ok", ZERO), notebook=nb(tiny.WRONG, edit=_edit_tests))
    add("skip_tags", Expect("ok", ZERO), notebook=nb(tiny.WRONG, edit=_tag_skip))
    add("fake_grade_cell", Expect("ok", FULL), notebook=nb(edit=_fake_grade_cell))
    add("eq_always_true", Expect("ok", ZERO), notebook=nb(EQ_TRUE))
    # files
    add("renamed", Expect("ok", FULL, r"named '99-tiny-Copy1.ipynb'"), notebook=nb(), name="99-tiny-Copy1.ipynb")
    add("nbformat3", Expect("ok", FULL, r"nbformat 3"), text=_v3_text())
    for minor in range(6):
        add(f"nbformat4.{minor}", Expect("ok", FULL), text=nbformat.writes(nbformat.from_dict(_v4_minor(minor))))
    add("invalid_json", Expect("invalid_notebook", ZERO, r"not JSON"), text='{"cells": [')
    add("empty_file", Expect("invalid_notebook", ZERO, r"empty file"), raw=b"")
    add("no_cells", Expect("invalid_notebook", ZERO, r"no cells"),
        text='{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": []}')
    add("nbformat_99", Expect("invalid_notebook", ZERO, r"unsupported nbformat"),
        text='{"nbformat": 99, "nbformat_minor": 0, "metadata": {}, "cells": []}')
    latin1 = nbformat.writes(nb(tiny.CORRECT + "\n# café au lait")).encode("latin-1")
    add("latin1", Expect("ok", FULL, r"not UTF-8"), raw=latin1)
    add("missing", Expect("missing_notebook", ZERO, r"no notebook"), text=None)
    add("Zoë Ångström", Expect("ok", FULL), notebook=nb())
    add("two words", Expect("ok", ZERO), notebook=nb(tiny.WRONG))
    # submitted twice: inbound folders (nbgrader exchange) and an NFD spelling of the same id
    tiny.write(root, "twice", notebook=nb(tiny.WRONG), folder=f"twice+{tiny.ASSIGNMENT}+2026-01-01 10:00:00.000000 UTC")
    tiny.write(root, "twice", notebook=nb(), folder=f"twice+{tiny.ASSIGNMENT}+2026-01-02 10:00:00.000000 UTC")
    expect["twice"] = Expect("ok", FULL, r"submitted 2 times")
    tiny.write(root, unicodedata.normalize("NFD", "Renée"), notebook=nb(), timestamp="2026-01-03 08:00:00 UTC")
    tiny.write(root, "Renée", notebook=nb(tiny.WRONG), timestamp="2026-01-02 08:00:00 UTC")
    expect["Renée"] = Expect("ok", FULL, r"submitted 2 times")
    # integrity
    add("imports_solutions", Expect("integrity_flag", FULL, r"imports solutions", flagged=True),
        notebook=nb("from solutions.normalization import min_max_scale"))
    add("sneaky_import", Expect("integrity_flag", FULL, r"student code imported solutions", flagged=True),
        notebook=nb(SNEAKY_IMPORT))
    add("opens_reference", Expect("integrity_flag", FULL, r"opened", flagged=True), notebook=nb(OPEN_REFERENCE))
    add("patches_assert", Expect("integrity_flag", None, r"patches np\.testing", flagged=True),
        notebook=nb(PATCH_ASSERT))
    add("swallows_errors", Expect("integrity_flag", ZERO, r"exception handler", flagged=True),
        notebook=nb(SWALLOW))
    add("fake_reference", Expect("ok", ZERO, r"'solutions' folder"), notebook=nb(tiny.WRONG))
    fake = root / "fake_reference" / tiny.ASSIGNMENT / "solutions"
    fake.mkdir()
    (fake / "__init__.py").write_text("")
    (fake / "normalization.py").write_text("def min_max_scale(X, feature_range=(0.0, 1.0)):\n"
                                           "    import numpy as np\n    X = np.array(X, dtype=float)\n"
                                           "    return " + "X.max(axis=1, keepdims=True) * 0 + 0.5\n")
    add("probe", Expect("ok", FULL), notebook=nb(PROBE))
    # an honest student who plots: a fresh kernel must not rebuild (and log) matplotlib's font cache
    add("plots", Expect("ok", FULL), notebook=nb(
        "import matplotlib.pyplot as plt\n" + tiny.CORRECT + "\nplt.plot([0, 1], [1, 0])\nplt.close()"))
    return expect
