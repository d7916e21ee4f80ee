"""Hypothesis strategies for what a hostile kernel can send and what a hostile student can hand in.

Records (what a kernel sends the grading parent): arbitrary JSON, values that look like the probe's
wire format but lie about dtype, shape, length or encoding, duplicate labels, deep nesting, huge
claimed shapes, and honest records with one field broken. Notebooks (what a student hands in): cells
drawn from the attack classes of the threat model (output floods, display updates, comm and unknown
messages, file writes and special files across the kernel's filesystem view, forks, sockets, signals,
shared memory, large valid and invalid records, HTML and JavaScript), each on a non-answer, so an
honest score of the attacker is known: 0. The grading tests (``tests/test_autograder_records.py``,
``tests/test_autograder_hostile.py``) check the invariants; ``make fuzz`` runs them long.
"""

import base64
import json

import numpy as np
from hypothesis import strategies as st

from checks import probe

# -- records ---------------------------------------------------------------------------------------------
KINDS = ("ndarray", "tensor", "scalar", "tuple", "dict", "torch_dtype", "opaque", "pickle", "generator", "var", "")
DTYPES = sorted(probe.NUMERIC_DTYPES) + ["object", "U8", "V16", "float128", "", "int64 ", ">f8"]

# numbers JSON can carry, edges included (json.dumps writes NaN and Infinity; json.loads reads them)
numbers = st.one_of(st.integers(min_value=-(2**70), max_value=2**70), st.floats(allow_nan=True, allow_infinity=True),
                    st.sampled_from([0, 1, -1, 2**31, 2**63, 2**64, -(2**63), 10**30]))
texts = st.text(max_size=40) | st.sampled_from(["", "\x00", "\ud7ff", "é" * 5, "$", "result", "step 0"])
json_scalars = st.none() | st.booleans() | numbers | texts


def json_values(max_leaves=30):
    """Any JSON value."""
    return st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=6)
                        | st.dictionaries(texts, inner, max_size=5), max_leaves=max_leaves)


shapes = st.one_of(
    st.lists(st.integers(min_value=0, max_value=6), max_size=4),  # small, honest-looking
    st.lists(st.integers(min_value=-3, max_value=2**62), min_size=1, max_size=40),  # huge, negative, too many dims
    st.lists(numbers | texts | st.booleans() | st.none(), max_size=5),  # not ints
    json_scalars,  # not a list
)


@st.composite
def arrays(draw):
    """An array value: honest, or lying about its dtype, shape, length or encoding."""
    dtype = draw(st.sampled_from(DTYPES))
    shape = draw(shapes)
    kind = draw(st.sampled_from(["ndarray", "tensor", "scalar"]))
    if draw(st.booleans()) and dtype in probe.NUMERIC_DTYPES and isinstance(shape, list) and all(
            type(n) is int and 0 <= n <= 6 for n in shape):
        raw = np.random.default_rng(draw(st.integers(0, 2**32 - 1))).integers(0, 255, size=int(np.prod(shape)) *
                                                                               np.dtype(dtype).itemsize, dtype=np.uint8)
        data = base64.b64encode(raw.tobytes()).decode()
        data = draw(st.sampled_from([data, data[:-4], data + "AAAA", data.replace("A", "*"), data + "\n"]))
    else:
        data = draw(st.one_of(st.text(alphabet="ABCDEFGHabcdef0123456789+/=", max_size=40), json_scalars))
    value = {"$": kind, "dtype": dtype, "shape": shape, "data": data}
    if kind == "tensor":
        value["torch_dtype"] = draw(st.sampled_from(["float64", "bfloat16", "", "float64" * 10]) | json_values(4))
        value["requires_grad"] = draw(st.booleans() | json_scalars)
    return value


@st.composite
def wire_values(draw, depth=0):
    """A value in (or near) the probe's wire format, nested."""
    choices = [json_scalars, arrays(), st.builds(lambda k, v: {"$": k, "name": v, "type": v, "seed": v},
                                                 st.sampled_from(KINDS), json_values(4))]
    if depth < 4:
        inner = wire_values(depth=depth + 1)
        choices += [st.lists(inner, max_size=4),
                    st.builds(lambda items: {"$": "tuple", "items": items}, st.lists(inner, max_size=4) | json_scalars),
                    st.builds(lambda pairs: {"$": "dict", "items": pairs},
                              st.lists(st.lists(inner, min_size=0, max_size=3), max_size=4) | json_scalars)]
    return draw(st.one_of(*choices))


@st.composite
def records(draw):
    """One case's list of records: labelled values and exceptions, duplicates and missing labels included."""
    out = []
    for _ in range(draw(st.integers(0, 4))):
        label = draw(st.sampled_from(["result", "out", "x", "step 0"]) | json_scalars)
        if draw(st.booleans()):
            out.append({"label": label, "value": draw(wire_values())})
        else:
            out.append({"label": label, "raised": draw(st.lists(texts, max_size=3) | json_scalars),
                        "message": draw(texts | json_values(4))})
    return draw(st.sampled_from([out, out + out[:1]])) if out else out


def cases():
    """A test's cases as a kernel might send them."""
    return st.lists(records(), max_size=4) | json_values(8)


@st.composite
def record_texts(draw, grade_id, honest=None):
    """The texts a kernel sent during one test cell: honest (``honest``: the honest payload's cases) with
    one part broken, or any JSON, or not JSON at all."""
    choice = draw(st.integers(0, 4))
    if choice == 0:
        return [draw(st.text(max_size=200))]  # not JSON
    if choice == 1:
        return [json.dumps(draw(json_values()))]
    if choice == 2 and honest is not None:
        broken = json.loads(json.dumps(honest))
        if broken and broken[0]:
            broken[0][0]["value"] = draw(wire_values())
        return [json.dumps({"test": grade_id, "cases": broken})]
    texts_ = [json.dumps({"test": draw(st.sampled_from([grade_id, "other"]) | json_scalars), "cases": draw(cases())})]
    return draw(st.sampled_from([texts_, texts_ * 2, []]))


# -- hostile cells (code a student can hand in) -----------------------------------------------------------
SKIP = ("/proc", "/sys")


def fs_writer(marker):
    """Try to leave a file, a FIFO, a symlink and a folder in every folder of the kernel's filesystem view."""
    return f'''
import os
_written = []
for _top, _dirs, _files in os.walk("/"):
    _dirs[:] = [d for d in _dirs if os.path.join(_top, d) not in {SKIP!r}]
    for _kind in ("file", "fifo", "symlink", "dir"):
        _target = os.path.join(_top, "{marker}-" + _kind)
        try:
            if _kind == "file":
                with open(_target, "w") as _fh:
                    _fh.write("left for the next student")
            elif _kind == "fifo":
                os.mkfifo(_target)
            elif _kind == "symlink":
                os.symlink("/etc/passwd", _target)
            else:
                os.mkdir(_target)
            _written.append(_top)
        except OSError:
            pass
print("writable:", sorted(set(_written)))
'''


def fs_reader(marker):
    """List every path of the kernel's filesystem view that an earlier kernel may have left."""
    return f'''
import os
_found = []
for _top, _dirs, _files in os.walk("/"):
    _dirs[:] = [d for d in _dirs if os.path.join(_top, d) not in {SKIP!r}]
    _found += [os.path.join(_top, n) for n in _dirs + _files if "{marker}" in n]
print("found:", _found)
'''


def job_folder_attack(files=3, mb=250):
    """Replace the job folder's log with a FIFO (a worker opening it would block) and a symlink to a host
    file, fill the folder with large files, then go on."""
    return f'''
import os, ipykernel
_folder = os.path.dirname(ipykernel.get_connection_file())
_log = os.path.join(_folder, "kernel.log")
for _name in ("kernel.log", "kernel.json"):
    try:
        os.replace(os.path.join(_folder, _name), os.path.join(_folder, _name + ".old"))
    except OSError as err:
        print("replace", _name, type(err).__name__)
try:
    os.mkfifo(_log)
    os.symlink("/etc/shadow", os.path.join(_folder, "kernel.json"))
except OSError as err:
    print("special files:", type(err).__name__)
_stored = 0
for _i in range({files}):
    try:
        with open(os.path.join(_folder, f"fill{{_i}}"), "wb") as _fh:
            for _ in range({mb}):
                _fh.write(b"x" * 2**20)
                _stored += 2**20
    except OSError as err:
        print("fill:", type(err).__name__)
print("stored MB:", _stored // 2**20)
'''


# -- HTML and JavaScript a student can put in a notebook (its Markdown, outputs, raw cells, tags) --------------
PWNED = "PWNED"
HTML_PAYLOADS = (
    f'<script>document.title="{PWNED}"; console.log("{PWNED}")</script>',
    f'<img src=x onerror="document.title=\'{PWNED}\'">',
    f'<svg onload="document.title=\'{PWNED}\'"></svg>',
    f'<iframe src="javascript:parent.document.title=\'{PWNED}\'"></iframe>',
    f'<a href="javascript:document.title=\'{PWNED}\'" id="clickme">click</a>',
    f'<body onload="document.title=\'{PWNED}\'">',
    '<style>@import url(http://127.0.0.1:9/x.css); body {background: url(http://127.0.0.1:9/bg.png)}</style>',
    '<img src="http://127.0.0.1:9/beacon.png">',
    f'<object data="data:text/html,<script>parent.document.title=\'{PWNED}\'</script>"></object>',
    f'<math><mtext><table><mglyph><style><img src=x onerror="document.title=\'{PWNED}\'">',
    f'<details open ontoggle="document.title=\'{PWNED}\'"><summary>x</summary></details>',
    '<div style="background:url(http://127.0.0.1:9/style.png)">styled</div>',
    f'<meta http-equiv="refresh" content="0;url=javascript:document.title=\'{PWNED}\'">',
    '<base href="http://127.0.0.1:9/">',
    '<form action="http://127.0.0.1:9/"><input type="submit"></form>',
    f'"><script>document.title="{PWNED}"</script>',
    f'</textarea></pre></code><script>document.title="{PWNED}"</script>',
)


def hostile_feedback_notebook(payloads, png_base64):
    """A graded notebook whose student parts carry ``payloads`` everywhere a feedback page shows them, plus
    math and a figure that must still render."""
    from nbformat.v4 import new_markdown_cell, new_output, new_raw_cell

    from tests.autograder_fixtures import tiny

    nb = tiny.student_notebook()
    joined = " ".join(payloads)
    nb.cells.insert(1, new_markdown_cell(f"Math stays: $x^2 + \\sqrt{{y}}$ and $$\\sum_i w_i$$. {joined}"))
    raw = new_raw_cell(joined)
    raw.metadata["raw_mimetype"] = "text/html"
    raw.metadata["format"] = "text/html"
    nb.cells.insert(2, raw)
    answer = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "min_max_scale")
    answer.metadata["tags"] = [f'x" onmouseover="document.title=\'{PWNED}\'', "<script>"]
    answer.outputs = [
        new_output("display_data", data={"text/html": joined, "text/plain": "html"}),
        new_output("display_data", data={"application/javascript": f"document.title='{PWNED}'",
                                         "text/plain": "js"}),
        new_output("display_data", data={"image/svg+xml": f"<svg onload=\"document.title='{PWNED}'\"/>",
                                         "text/markdown": joined}),
        new_output("execute_result", data={"text/html": joined, "text/latex": "$a < b$"}, execution_count=1),
        new_output("stream", name="stdout", text=joined),
        new_output("error", ename="<script>E</script>", evalue=joined, traceback=[joined]),
        new_output("display_data", data={"image/png": png_base64, "text/plain": "figure"}),
    ]
    return nb


# -- hostile notebooks: cells drawn from every attack class -------------------------------------------------------
RECORDS_MIME = probe.MIME


def _guarded(code):
    """``code`` in a try block, so that the cells after it run (an attack that raises still ran)."""
    body = "\n".join("    " + line for line in code.strip("\n").splitlines())
    return f"try:\n{body}\nexcept BaseException as _err:  # noqa\n    print('attack stopped:', type(_err).__name__)\n"


def cell_kinds(ctx):
    """Strategies of hostile cell code, one per attack class; ``ctx`` has ``marker``, ``tcp_port``, ``unix_socket``."""
    sizes = strongest_first(40, st.integers(min_value=1, max_value=40))
    return {
        "print_flood": sizes.map(lambda mb: f"for _ in range({mb}):\n    print('x' * 2**20, flush=True)"),
        "display_updates": sizes.map(lambda n: f"_h = display('start', display_id=True)\nfor _ in range({n}):\n"
                                                f"    _h.update({{'text/plain': 'u' * 2**20}}, raw=True)"),
        "malformed_messages": st.just(MALFORMED.strip()),
        "fs_writer": st.just(fs_writer(ctx.marker)),
        "job_folder": strongest_first((3, 250), st.tuples(st.integers(1, 3), st.integers(1, 300))).map(
            lambda a: job_folder_attack(*a)),
        "special_files": st.just(f'''
import os, socket
for _folder in ("/tmp", "/dev/shm", os.path.expanduser("~"), "/"):
    for _make in (lambda p: os.mkfifo(p), lambda p: os.symlink(p, p), lambda p: socket.socket(socket.AF_UNIX).bind(p)):
        try:
            _make(os.path.join(_folder, "{ctx.marker}-special"))
        except OSError:
            pass'''),
        "fork_bomb": strongest_first(400, st.integers(10, 400)).map(lambda n: f'''
import os, time
_n = 0
try:
    while _n < {n}:
        if os.fork() == 0:
            time.sleep(600)
            os._exit(0)
        _n += 1
except OSError:
    print("fork refused after", _n)'''),
        "network": st.just(f'''
import socket
for _target in (("127.0.0.1", {ctx.tcp_port}), {ctx.unix_socket!r}):
    try:
        _s = socket.socket(socket.AF_UNIX if isinstance(_target, str) else socket.AF_INET)
        _s.settimeout(2)
        _s.connect(_target)
        _s.sendall(b"reached")
        print("CONNECTED")
    except OSError as err:
        print("network:", type(err).__name__)'''),
        "signals": st.sampled_from(["import os, signal\nos.kill(1, signal.SIGKILL)",
                                    "import os, signal\nos.kill(-1, signal.SIGTERM)",
                                    "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)",
                                    "import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)",
                                    "import os\nos._exit(7)"]),
        "shared_memory": strongest_first(24, st.integers(1, 40)).map(lambda n: f'''
import mmap
_m = mmap.mmap(-1, {n} * 64 * 2**20, flags=mmap.MAP_SHARED | mmap.MAP_ANONYMOUS)
for _o in range(0, len(_m), 4096):
    _m[_o] = 1
with open("/dev/shm/{ctx.marker}-shm", "wb") as _fh:
    for _ in range({n} * 8):
        _fh.write(b"x" * 2**20)'''),
        # touched page by page: a bytearray of zeros might never be charged
        "memory_bomb": strongest_first(3, st.integers(1, 64)).map(
            lambda gb: f"_hog = bytearray({gb} * 2**30)\nfor _o in range(0, len(_hog), 4096):\n    _hog[_o] = 1"),
        "forged_records": json_values(20).map(lambda v: f'''
import json
from IPython.display import display
for _test in ("test_min_max_scale_tiny", "test_min_max_scale_tiny_range"):
    display({{{RECORDS_MIME!r}: json.dumps({{"test": _test, "cases": {json.dumps(v)!r}}})}}, raw=True)
display({{{RECORDS_MIME!r}: "x" * (8 * 2**20)}}, raw=True)'''),
        "background_thread": st.just(f'''
import json, threading, time
from IPython.display import clear_output, display
def _spam():
    for _ in range(400):
        display({{{RECORDS_MIME!r}: json.dumps({{"test": "test_min_max_scale_tiny", "cases": [[]]}})}}, raw=True)
        clear_output(wait=True)
        print("noise")
        time.sleep(0.01)
threading.Thread(target=_spam, daemon=True).start()'''),
        "html": st.lists(st.sampled_from(HTML_PAYLOADS), min_size=1, max_size=4).map(lambda ps: f'''
from IPython.display import HTML, Javascript, Markdown, display
display(HTML({" ".join(ps)!r}))
display(Markdown({" ".join(ps)!r}))
display(Javascript("document.title = 'PWNED'"))'''),
        "loop": st.just("while True:\n    pass"),
    }


MALFORMED = '''
import json
_kernel = get_ipython().kernel
_parent = _kernel.get_parent()
for _type in ("stream", "display_data", "update_display_data", "execute_result", "error", "clear_output",
              "comm_open", "comm_msg", "status", "unknown_type"):
    for _content in (None, [], "text", {"data": None}, {"data": {"text/plain": ["a"]}, "metadata": []},
                     {"name": "nope", "text": 1}, {"ename": None, "traceback": "x"}, {"execution_state": ["x"]}):
        _kernel.session.send(_kernel.iopub_socket, _type, json.dumps(_content).encode(), parent=_parent)
_kernel.iopub_socket.send_multipart([b"not", b"a", b"message"])
'''


# The order of the simplest class: cells that end a kernel (a signal, a memory bomb, shared memory, a fork bomb)
# or a cell (an endless loop) come last of their three, so that the others run first.
KIND_ORDER = ("fs_writer", "special_files", "signals",
              "print_flood", "display_updates", "loop",
              "forged_records", "background_thread", "memory_bomb",
              "html", "malformed_messages", "shared_memory",
              "network", "job_folder", "fork_bomb")


def strongest_first(strongest, strategy):
    """``strategy``, whose simplest example (the one Hypothesis tries first, and the only one of the bounded run
    in ``make test``) is ``strongest``."""
    return st.just(strongest) | strategy


# metadata.language of a hostile notebook (ABSENT: no key): an edition, the source language, junk of every JSON type;
# the simplest class gives its notebooks these in turn
ABSENT = "<absent>"
LANGUAGES = ("ko", "xx", ABSENT, 42, "en", None, ["ko"], {"ko": "ko"}, "ko" * 5000, "\u0000ko", True)


@st.composite
def hostile_notebook(draw, ctx, kinds, index=0):
    """One hostile submission with the cells of ``kinds``: on a non-answer (scores 0 honestly) or a correct answer
    (at most full marks); its Markdown carries HTML payloads; its ``metadata.language`` is one of LANGUAGES."""
    strategies = cell_kinds(ctx)
    cells = [_guarded(draw(strategies[name])) for name in kinds]
    base = ("zeros", "correct")[(index + draw(st.integers(0, 1))) % 2]  # the simplest class alternates
    markdown = " ".join(draw(st.lists(st.sampled_from(HTML_PAYLOADS), max_size=2))) \
        or " ".join(HTML_PAYLOADS[:3])
    language = LANGUAGES[(index + draw(st.integers(0, len(LANGUAGES) - 1))) % len(LANGUAGES)]
    return {"kinds": list(kinds), "base": base, "cells": cells, "markdown": markdown, "language": language}


@st.composite
def hostile_class(draw, ctx, per_notebook=3):
    """The hostile part of one class: every attack class once, in a drawn order, cut into notebooks of 1 to
    ``per_notebook`` cells (the simplest example: the kinds in order, ``per_notebook`` to a notebook), then up to
    two notebooks of kinds drawn again (repeats and other combinations)."""
    names = list(KIND_ORDER)
    assert sorted(names) == sorted(cell_kinds(ctx)), "every attack class has its place in KIND_ORDER"
    order = draw(st.permutations(names))
    groups = []
    while order:
        size = draw(st.sampled_from(list(range(per_notebook, 0, -1))))
        groups.append(order[:size])
        order = order[size:]
    groups += draw(st.lists(st.lists(st.sampled_from(names), min_size=1, max_size=per_notebook), max_size=2))
    return [draw(hostile_notebook(ctx, kinds, i)) for i, kinds in enumerate(groups)]
