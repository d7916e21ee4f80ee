"""Tracebacks a student can read: the visible tests' errors without library internals or the grader's paths.

A failing visible assert prints IPython's traceback: the test cell's frame, then frames inside numpy's
testing module or torch, with absolute paths of the machine that graded it (its Python environment).
The student needs the first and the last: which line of the test failed, and the message. Frames of
files outside the notebook are dropped (one line says how many), and any path left in the text is
cut to the file's name, so no feedback page shows where the grader keeps its environment.
"""

import re

from nbformat import NotebookNode

ANSI = re.compile(r"\x1b\[[0-9;]*m")
PATH = re.compile(r"(?<![\w.])(?:/[\w.@+~-]+)+/([\w.@+-]+\.py)\b")


def _plain(text):
    return ANSI.sub("", text)


def _library_frame(entry):
    """An entry of IPython's traceback list for a frame of a file (not a notebook cell): ``File <path>:<line>``."""
    return _plain(entry).lstrip().startswith("File ") or "skipping hidden" in _plain(entry)


def cleaned(output):
    """``output`` with its traceback cut to the notebook's frames and paths shortened (other outputs as given)."""
    if output.get("output_type") != "error":
        return output
    entries = [str(t) for t in output.get("traceback", [])]
    kept, dropped = [], 0
    for i, entry in enumerate(entries):
        if 0 < i < len(entries) - 1 and _library_frame(entry):
            dropped += 1
            continue
        kept.append(PATH.sub(r"\1", entry))
    if dropped:
        kept.insert(len(kept) - 1 if len(kept) > 1 else len(kept),
                    f"    ({dropped} frame(s) inside libraries not shown)")
    out = NotebookNode(dict(output))
    out["traceback"] = kept
    out["evalue"] = PATH.sub(r"\1", str(output.get("evalue", "")))
    return out
