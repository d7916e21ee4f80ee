"""The hostile, broken and messy class of the autograder tests, built on the tiny course.

``build(root, ctx)`` writes every submission and returns {student_id: Expect}; the tests grade the
folder once and check each row. The tiny assignment has 3 points (``min_max_scale``, two test
cells). Every attack starts from a non-answer (the release stub or a function returning zeros),
whose honest score is 0: no attack may earn more. ``ctx`` carries what the attacks aim at: a TCP
listener on 127.0.0.1 and a unix socket in a host folder (both the test's own), a marker for
leftover files, the host paths of the reference, the source notebooks and another student's notebook.
"""

import copy
import unicodedata
from dataclasses import dataclass

import nbformat

from tests.autograder_fixtures import tiny

FULL, ZERO = 3.0, 0.0
STUB = "def min_max_scale(X, feature_range=(0.0, 1.0)):\n    # YOUR CODE HERE\n    raise NotImplementedError()"
ZEROS = "def min_max_scale(X, feature_range=(0.0, 1.0)):\n    return np.zeros_like(np.asarray(X, dtype=float))"


@dataclass
class Expect:
    status: str
    score: float | None = None  # None: not checked
    detail: str = ""  # regex the CSV detail must match
    attack: bool = False  # an attack: the score must be 0 and the kernel's output must show it got nothing
    review: str = ""  # regex the review column must match


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


def _solution_to_grade(nb):
    """The answer cell's metadata turned into a grade cell (the issue's IndexError case)."""
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade_id") == "min_max_scale":
            meta.update({"grade": True, "points": 5, "solution": False})


def _strip_metadata(nb):
    for cell in nb.cells:
        cell.metadata.pop("nbgrader", None)


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


# a correct answer that warns, logs and draws a progress bar on stderr at every call (in the test cells too)
WARNS = '''import logging
import sys
import warnings

logging.basicConfig(level=logging.INFO)


def min_max_scale(X, feature_range=(0.0, 1.0)):
    X = np.asarray(X, dtype=float)
    warnings.warn("a harmless warning", RuntimeWarning, stacklevel=1)
    warnings.warn(f"another one for shape {X.shape}", UserWarning, stacklevel=1)
    logging.getLogger("student").info("scaling %s", X.shape)
    for i in range(3):
        print(f"\\rprogress {i + 1}/3", end="", file=sys.stderr, flush=True)
    mn, rng = X.min(axis=0), X.max(axis=0) - X.min(axis=0)
    with np.errstate(all="warn"):
        scaled = np.where(rng == 0, 0.0, (X - mn) / np.where(rng == 0, 0.0, rng))
    low, high = feature_range
    return low + scaled * (high - low)'''


def fresh_notebook(*sources):
    """A new notebook with only the given code cells (Colab, VS Code, a copy-paste)."""
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])


MALFORMED_MESSAGES = '''
kernel = get_ipython().kernel
parent = kernel.get_parent()
big = "x" * (5 * 2**20)
contents = [None, [], "text", {{"data": None}}, {{"data": {{"text/plain": big}}}},
            {{"data": {{"text/plain": ["a"]}}, "metadata": []}}, {{"name": "stdout", "text": None}},
            {{"name": "nope", "text": "x"}}, {{"ename": None, "evalue": [], "traceback": "x"}},
            {{"data": {{"text/plain": "y"}}, "transient": {{"display_id": ["x"]}}}}, {{"wait": "yes"}},
            {{"comm_id": "c", "target_name": "jupyter.widget", "data": {{"state": {{}}}}}},
            {{"data": {{"application/vnd.course-autograder.records+json": "[]"}}, "metadata": {{}}}},
            {{"name": "stderr", "text": big}}, {{"execution_state": ["busy"]}},
            {{"execution_count": "1", "data": {{}}}}]
import json
sent = 0
for msg_type in ("stream", "display_data", "update_display_data", "execute_result", "error", "clear_output",
                 "comm_open", "comm_msg", "comm_close", "status", "autograder_bogus"):
    for content in contents:  # packed here: the session would refuse content that is not a dict
        kernel.session.send(kernel.iopub_socket, msg_type, json.dumps(content).encode(), parent=parent)
        sent += 1
kernel.session.send(kernel.iopub_socket, "stream", {{"name": "stdout", "text": "two types"}}, parent=parent,
                    header=dict(kernel.session.msg_header("display_data")))
kernel.iopub_socket.send_multipart([b"not", b"a", b"message"])
print("sent", sent)'''

# -- attacks on the verdict (each on a non-answer) ----------------------------------------------------
ATTACKS = {
    # the list
    "shell_class_patch": ZEROS + '''
src = """
from IPython.core.interactiveshell import InteractiveShell
_orig = InteractiveShell.run_cell
def run_cell(self, raw_cell, *args, **kwargs):
    if "check(" in raw_cell or "assert_allclose" in raw_cell:
        raw_cell = "pass"
    return _orig(self, raw_cell, *args, **kwargs)
InteractiveShell.run_cell = run_cell
"""
exec(compile(src, "helpers.py", "exec"))''',
    "np_testing_format": ZEROS + '''
t = np.testing
t.assert_allclose = "".format''',
    "shadow_numpy_at_runtime": ZEROS + '''
import os, sys
open("numpy.py", "w").write("raise SystemExit('shadowed')\\n")
sys.path.insert(0, os.getcwd())''',
    "print_history": STUB,  # plus a last cell printing the kernel's history (edit below)
    "read_reference_subprocess": STUB + '''
import subprocess, sys
for p in {ctx.reference_dirs!r}:
    print(subprocess.run(["cat", p + "/normalization.py"], capture_output=True, text=True).stdout[:2000])
print(subprocess.run([sys.executable, "-c", "import solutions; print(solutions.__file__)"],
                     capture_output=True, text=True).stderr[-300:])''',
    "import_reference_compiled": '''
exec(compile("from solutions.normalization import min_max_scale", "not_a_cell.py", "exec"))''',
    "read_source_notebook": STUB + '''
for p in {ctx.private_files!r}:
    try:
        print(open(p).read()[:3000])
    except OSError as err:
        print("denied", type(err).__name__)''',
    "dev_shm_gigabyte": ZEROS + '''
try:
    with open("/dev/shm/{ctx.marker}-shm", "wb") as fh:
        for _ in range(1024):
            fh.write(b"x" * 2**20)
except OSError as err:
    print("stopped:", err)''',
    "leftover_files": ZEROS + '''
import os
for folder in ("/tmp", "/var/tmp", "/dev/shm", os.path.expanduser("~")):
    try:
        open(os.path.join(folder, "{ctx.marker}-file"), "w").write("left behind")
    except OSError as err:
        print(folder, err)''',
    # network: the test's own listeners on loopback and in a host folder
    "tcp_loopback": ZEROS + '''
import socket
try:
    socket.create_connection(("127.0.0.1", {ctx.tcp_port}), timeout=3).sendall(b"reached")
    print("CONNECTED")
except OSError as err:
    print("network:", err)''',
    "unix_socket_host": ZEROS + '''
import socket
s = socket.socket(socket.AF_UNIX)
try:
    s.connect({ctx.unix_socket!r})
    s.sendall(b"reached")
    print("CONNECTED")
except OSError as err:
    print("unix:", err)''',
    # our own: hooks, transformers, introspection, subclasses, shadowing, handlers, forged records
    "input_transformer": ZEROS + '''
get_ipython().input_transformers_post.append(lambda lines: [l for l in lines if "check(" not in l])''',
    "ast_transformer": ZEROS + '''
import ast
class Drop(ast.NodeTransformer):
    def visit_Expr(self, node):
        return None
get_ipython().ast_transformers.append(Drop())''',
    "post_run_hook_forges_records": ZEROS + '''
import json
from IPython.display import display
def forge(*args):
    cases = [[{{"label": "result", "value": 0.5}}] * 1] * 2
    display({{"application/vnd.course-autograder.records+json": json.dumps({{"test": "test_min_max_scale_tiny",
                                                                               "cases": cases}})}}, raw=True)
get_ipython().events.register("post_run_cell", forge)''',
    "replace_probe_check": ZEROS + '''
import json
from IPython.display import display
def fake_check(test_id):
    display({{"application/vnd.course-autograder.records+json": json.dumps({{"test": test_id, "cases": []}})}},
            raw=True)
__autograder__.check = fake_check''',
    "replace_probe_encode": ZEROS + '''
__autograder__.encode = lambda value, depth=0: {{"$": "ndarray", "dtype": "float64", "shape": [0], "data": ""}}''',
    "gc_and_modules_search": STUB + '''
import gc, sys
found = [m for m in sys.modules if "solution" in m or "chapter" in m]
plans = [o for o in gc.get_objects() if isinstance(o, dict) and "test_min_max_scale_tiny" in o]
print("modules", found, "plan dicts", len(plans))
def min_max_scale(X, feature_range=(0.0, 1.0)):
    return np.zeros_like(np.asarray(X, dtype=float))''',
    "caller_frame_inspection": '''
import sys
def min_max_scale(X, feature_range=(0.0, 1.0)):
    frame = sys._getframe(1)
    while frame is not None:
        for value in frame.f_locals.values():
            if isinstance(value, np.ndarray) and value.shape == np.shape(X) and value is not X:
                return value  # hoping for an expected value on the stack
        frame = frame.f_back
    return np.zeros_like(np.asarray(X, dtype=float))''',
    "ndarray_subclass_lies": '''
class Liar(np.ndarray):
    def __eq__(self, other):
        return np.ones(np.shape(self), dtype=bool)
    def __array_ufunc__(self, *args, **kwargs):
        return np.zeros(np.shape(self), dtype=bool)
    def tobytes(self, *args, **kwargs):
        return b"\\x00" * self.nbytes
def min_max_scale(X, feature_range=(0.0, 1.0)):
    return np.zeros(np.shape(X)).view(Liar)''',
    "eq_always_true": '''
class Anything:
    def __eq__(self, other):
        return True
    __hash__ = object.__hash__
def min_max_scale(X, feature_range=(0.0, 1.0)):
    return Anything()''',
    "shadow_module_in_sys_modules": ZEROS + '''
import sys, types
fake = types.ModuleType("numpy.testing")
fake.assert_allclose = lambda *a, **k: None
sys.modules["numpy.testing"] = fake
np.testing = fake''',
    "custom_exception_handler": ZEROS + '''
def _quiet(shell, etype, evalue, tb, tb_offset=None):
    return None
get_ipython().set_custom_exc((Exception,), _quiet)''',
    "trace_function": ZEROS + '''
import sys
def tracer(frame, event, arg):
    if event == "return" and frame.f_code.co_name == "min_max_scale":
        return None
    return tracer
sys.settrace(tracer)''',
    "background_thread_records": ZEROS + '''
import json, threading, time
from IPython.display import display
def spam():
    for _ in range(200):
        display({{"application/vnd.course-autograder.records+json": json.dumps({{"test": "test_min_max_scale_tiny",
                                                                                   "cases": []}})}}, raw=True)
        time.sleep(0.05)
threading.Thread(target=spam, daemon=True).start()''',
    # one filter for every IOPub message type: malformed and oversized content of each, sent on the kernel's
    # own session (a frame that is not a message too), then a display updated with 40 MB
    "malformed_messages": ZEROS + MALFORMED_MESSAGES,
    "display_update_flood": ZEROS + '''
handle = display("start", display_id=True)
for _ in range(40):
    handle.update({{"text/plain": "u" * 2**20}}, raw=True)''',
    "huge_output_record": '''
def min_max_scale(X, feature_range=(0.0, 1.0)):
    return np.zeros((12000, 12000))''',
    "kill_everything": ZEROS + '''
import os, signal
try:
    os.kill(-1, signal.SIGKILL)
except OSError as err:
    print(err)''',
    "proc_snooping": ZEROS + '''
import os
print("processes visible:", sorted(int(p) for p in os.listdir("/proc") if p.isdigit()))
print("root:", sorted(os.listdir("/")))
status = open("/proc/self/status").read()
print("caps:", [line.split()[1] for line in status.splitlines() if line.startswith(("CapEff", "CapPrm", "CapBnd"))])
print("no_new_privs:", [line.split()[1] for line in status.splitlines() if line.startswith("NoNewPrivs")])
for flags in (0x10000000, 0x20000):  # a user namespace, a mount namespace
    try:
        import ctypes
        print("unshare", hex(flags), ctypes.CDLL(None, use_errno=True).unshare(flags), ctypes.get_errno())
    except Exception as err:
        print("unshare", err)''',
    "fake_grade_metadata": STUB,  # plus a fake grade cell worth 100 points (edit below)
    "delete_tests_and_metadata": ZEROS,  # plus no metadata at all (edit below)
    "skip_and_edit_tests": STUB,  # plus edited, skip-tagged test cells (edit below)
}


def attack_code(name, ctx):
    return ATTACKS[name].format(ctx=ctx) if "{ctx" in ATTACKS[name] else ATTACKS[name].replace("{{", "{").replace(
        "}}", "}")


def build(root, ctx):
    """Write the class into ``root``; returns {student_id: Expect}."""
    expect = {}

    def add(student, expectation, **kwargs):
        tiny.write(root, student, **kwargs)
        expect[student] = expectation

    nb = tiny.student_notebook
    # honest baselines
    add("correct", Expect("ok", FULL), notebook=nb())
    add("wrong", Expect("ok", ZERO), notebook=nb(tiny.WRONG))
    add("stub", Expect("ok", ZERO, r""), notebook=nb(STUB))
    add("zeros", Expect("ok", ZERO), notebook=nb(ZEROS))
    # attacks on the verdict
    edits = {"fake_grade_metadata": _fake_grade_cell, "delete_tests_and_metadata": _strip_metadata,
             "skip_and_edit_tests": lambda n: (_edit_tests(n), _tag_skip(n)),
             "print_history": lambda n: n.cells.append(nbformat.v4.new_code_cell(
                 "for c in In:\n    print(c)\nimport linecache\nprint(list(linecache.cache))"))}
    for name in ATTACKS:
        code = attack_code(name, ctx)
        status = "ok"
        detail = ""
        if name == "huge_output_record":
            status = None
        add(f"attack {name}", Expect(status, ZERO, detail, attack=True), notebook=nb(code, edit=edits.get(name)))
    # files next to the notebook that would shadow modules
    add("attack numpy_py_file", Expect("ok", ZERO, attack=True), notebook=nb(ZEROS))
    (root / "attack numpy_py_file" / tiny.ASSIGNMENT / "numpy.py").write_text("raise SystemExit('shadowed')\n")
    add("attack launcher_py_file", Expect("ok", ZERO, attack=True), notebook=nb(ZEROS))
    launcher = root / "attack launcher_py_file" / tiny.ASSIGNMENT / "ipykernel_launcher.py"
    launcher.write_text("import os\nos._exit(0)\n")
    # symbolic links: the source notebook, another student's notebook, a linked folder
    folder = tiny.write(root, "attack symlink_source")
    (folder / f"{tiny.ASSIGNMENT}.ipynb").symlink_to(ctx.source_notebook)
    expect["attack symlink_source"] = Expect("invalid_notebook", ZERO, r"symbolic link", attack=True)
    folder = tiny.write(root, "attack symlink_classmate")
    (folder / f"{tiny.ASSIGNMENT}.ipynb").symlink_to(root / "correct" / tiny.ASSIGNMENT / f"{tiny.ASSIGNMENT}.ipynb")
    expect["attack symlink_classmate"] = Expect("invalid_notebook", ZERO, r"symbolic link", attack=True)
    (root / "attack symlink_folder").mkdir()
    (root / "attack symlink_folder" / tiny.ASSIGNMENT).symlink_to(root / "correct" / tiny.ASSIGNMENT)
    expect["attack symlink_folder"] = Expect("invalid_notebook", ZERO, r"symbolic link", attack=True)
    # an exchange folder with a future timestamp replacing a classmate's work: graded (the latest wins) but listed
    tiny.write(root, "victim", notebook=nb(), timestamp="2026-01-02 10:00:00 UTC")
    tiny.write(root, "victim", notebook=nb(STUB), folder=f"victim+{tiny.ASSIGNMENT}+2099-01-01 00:00:00.000000 UTC")
    expect["victim"] = Expect("ok", ZERO, r"submitted 2 times", review=r"future.*replaced|replaced.*future")
    # limits
    add("loop_in_function", Expect("cell_timeout", ZERO, r"exceeded --cell-timeout"),
        # only the first call loops: one cell times out, well inside --notebook-timeout on a busy machine
        notebook=nb("calls = []\n\n\ndef min_max_scale(X, feature_range=(0.0, 1.0)):\n    calls.append(1)\n"
                    "    while len(calls) == 1:\n        pass\n    return np.zeros_like(np.asarray(X, dtype=float))"))
    add("loop_ignores_interrupt", Expect("cell_timeout", ZERO, r"ignored the interrupt"), notebook=nb(
        tiny.CORRECT + "\nimport time\nwhile True:\n    try:\n        time.sleep(0.05)\n"
        "    except KeyboardInterrupt:\n        pass"))
    many_sleeps = nb(tiny.CORRECT, extra_cells=["import time\ntime.sleep(2.7)"] * 40)
    add("many_slow_cells", Expect("cell_timeout", None, r"--notebook-timeout"), notebook=many_sleeps)
    add("memory_bomb", Expect("memory_limit", ZERO, r"MemoryError|memory"), notebook=nb(
        "def min_max_scale(X, feature_range=(0.0, 1.0)):\n    return bytearray(64 * 2**30)"))
    add("memory_creep", Expect("memory_limit", None, r"memory"), notebook=nb(
        tiny.CORRECT + "\nhog = []\nwhile True:\n    hog.append(bytearray(50 * 2**20))\n    hog[-1][::4096] = b'x' * "
        "len(hog[-1][::4096])"))
    add("os_exit", Expect("kernel_died", ZERO, r"exited with status 3"),
        notebook=nb(tiny.CORRECT + "\nimport os\nos._exit(3)"))
    add("segfault", Expect("kernel_died", ZERO, r"SIGSEGV"),
        notebook=nb(tiny.CORRECT + "\nimport ctypes\nctypes.string_at(0)"))
    add("ipython_exit", Expect("ok", FULL), notebook=nb(tiny.CORRECT + "\nexit()"))
    add("sys_exit", Expect("ok", ZERO), notebook=nb("import sys\nsys.exit(0)\n" + tiny.CORRECT))
    add("fork_bomb", Expect("ok", FULL, r"process limit"), notebook=nb(tiny.CORRECT + '''
import os, time
children = 0
try:
    while True:
        if os.fork() == 0:
            time.sleep(600)
            os._exit(0)
        children += 1
except OSError:
    print("fork refused after", children)'''))
    add("output_flood", Expect("ok", FULL, r"output truncated"), notebook=nb(
        tiny.CORRECT + "\nfor _ in range(300):\n    print('x' * 100_000, flush=True)"))
    add("twenty_thousand_cells", Expect("invalid_notebook", ZERO, r"20\d\d\d cells"),
        notebook=nb(tiny.CORRECT, extra_cells=["x = 1"] * 20_000))
    # messy honest notebooks: full marks
    add("deleted_test", Expect("ok", FULL, r"repaired: test cells test_min_max_scale_tiny_range were missing"),
        notebook=nb(edit=_drop_cell("test_min_max_scale_tiny_range")))
    add("duplicated_test", Expect("ok", FULL, r"duplicated"),
        notebook=nb(edit=_duplicate_cell("test_min_max_scale_tiny")))
    add("edited_tests", Expect("ok", ZERO), notebook=nb(tiny.WRONG, edit=_edit_tests))
    add("skip_tags", Expect("ok", ZERO), notebook=nb(tiny.WRONG, edit=_tag_skip))
    add("solution_cell_made_grade", Expect("ok", FULL), notebook=nb(edit=_solution_to_grade))
    add("no_metadata", Expect("ok", FULL, r"repaired"), notebook=nb(edit=_strip_metadata))
    add("fresh_functions_only", Expect("ok", FULL, r"repaired: .*setup"), notebook=fresh_notebook(tiny.CORRECT))
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
    long_id = "x" * 140
    add(long_id, Expect("invalid_notebook", None, r"140 characters"), notebook=nb())
    tiny.write(root, "twice", notebook=nb(tiny.WRONG), folder=f"twice+{tiny.ASSIGNMENT}+2026-01-01 10:00:00.000000 UTC")
    tiny.write(root, "twice", notebook=nb(), folder=f"twice+{tiny.ASSIGNMENT}+2026-01-02 10:00:00.000000 UTC")
    expect["twice"] = Expect("ok", FULL, r"submitted 2 times", review=r"replaced")
    tiny.write(root, unicodedata.normalize("NFD", "Renée"), notebook=nb(), timestamp="2026-01-03 08:00:00 UTC")
    tiny.write(root, "Renée", notebook=nb(tiny.WRONG), timestamp="2026-01-02 08:00:00 UTC")
    expect["Renée"] = Expect("ok", FULL, r"submitted 2 times")
    # warnings, progress bars and log lines on stderr in test cells never cost marks (nbgrader scores them 0)
    add("warnings_in_tests", Expect("ok", FULL), notebook=nb(WARNS))
    # an honest student who plots: a fresh kernel must not rebuild (and log) matplotlib's font cache
    add("plots", Expect("ok", FULL), notebook=nb(
        "import matplotlib.pyplot as plt\n" + tiny.CORRECT + "\nplt.plot([0, 1], [1, 0])\nplt.close()"))
    return expect
