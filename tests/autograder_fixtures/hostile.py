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
