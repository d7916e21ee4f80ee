"""Fast checks of the autograder's pieces (no kernel): discovery, notebook reading, integrity scan,
feedback without hidden tests."""

import codecs
import os
import unicodedata
import zipfile

import nbformat
import pytest

from autograder import feedback, gradebook, integrity, notebook_io, paths, submissions
from tests import notebooks
from tests.autograder_fixtures import tiny

# -- submissions ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["../x", "/etc/passwd", "a/../../x", "C:/x", "C:\\x", "\\\\server\\x", "a\x00b"])
def test_unsafe_zip_members_are_refused(name):
    with pytest.raises(submissions.UsageError):
        submissions.check_zip_member(name)


@pytest.mark.parametrize("name", ["ann/99-tiny/99-tiny.ipynb", "Zoë Å/99-tiny/x..y.ipynb", "a/./b"])
def test_safe_zip_members_pass(name):
    assert submissions.check_zip_member(name)


def test_zip_bomb_is_refused_before_extraction(tmp_path, monkeypatch):
    archive = tmp_path / "big.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("ann/99-tiny/99-tiny.ipynb", "0" * 5000)
    monkeypatch.setattr(submissions, "MAX_ZIP_MEMBER", 1000)
    with pytest.raises(submissions.UsageError, match="larger than"):
        submissions.extract_zip(archive, tmp_path / "x")
    assert not (tmp_path / "x").exists()


def test_latest_timestamp_wins_across_layouts_and_unicode_forms(tmp_path):
    nb = tiny.student_notebook()
    tiny.write(tmp_path, "ann", notebook=nb, timestamp="2026-01-01 10:00:00 UTC")
    tiny.write(tmp_path, "ann", notebook=nb, folder=f"ann+{tiny.ASSIGNMENT}+2026-01-03 10:00:00.000000 UTC+abc123")
    tiny.write(tmp_path, "ann", notebook=nb, folder=f"ann+{tiny.ASSIGNMENT}+2026-01-02 10:00:00.000000 UTC")
    tiny.write(tmp_path, unicodedata.normalize("NFD", "Zoë"), notebook=nb, timestamp="2026-01-05 10:00:00 UTC")
    tiny.write(tmp_path, "Zoë", notebook=nb, timestamp="2026-01-04 10:00:00 UTC")
    found = {s.student_id: s for s in submissions.discover(tmp_path, [tiny.ASSIGNMENT])}
    assert sorted(found) == ["Zoë", "ann"]
    assert found["ann"].folder.name.endswith("+abc123")
    assert "submitted 3 times" in found["ann"].notes[0]
    assert str(found["Zoë"].timestamp) == "2026-01-05 10:00:00"


def test_renamed_notebook_prefers_the_one_with_the_assignment_cells(tmp_path):
    folder = tiny.write(tmp_path, "ann", notebook=tiny.student_notebook(), name="99-tiny (2).ipynb")
    nbformat.write(nbformat.v4.new_notebook(), str(folder / "scratch.ipynb"))
    os.utime(folder / "scratch.ipynb", (2e9, 2e9))  # newer, but without the assignment's cells
    path, note = submissions.find_notebook(folder, tiny.ASSIGNMENT, ["test_min_max_scale"])
    assert path.name == "99-tiny (2).ipynb" and "1 other notebook" in note


def test_hidden_and_wrapper_folders(tmp_path):
    tiny.write(tmp_path / "export" / "submitted", "ann", notebook=tiny.student_notebook())
    (tmp_path / "export" / "submitted" / ".ipynb_checkpoints").mkdir()
    (tmp_path / "export" / "submitted" / "__MACOSX").mkdir()
    found = submissions.discover(tmp_path / "export", [tiny.ASSIGNMENT])
    assert [s.student_id for s in found] == ["ann"]


# -- notebook reading ------------------------------------------------------------------------


def _nb_bytes(encoding="utf-8"):
    return nbformat.writes(tiny.student_notebook(tiny.CORRECT + "\n# naïve café")).encode(encoding)


@pytest.mark.parametrize("raw, note", [
    (_nb_bytes(), None),
    (codecs.BOM_UTF8 + _nb_bytes(), None),
    (codecs.BOM_UTF16_LE + _nb_bytes("utf-16-le"), "UTF-16"),
    (_nb_bytes("latin-1"), "not UTF-8"),
])
def test_encodings(raw, note):
    nb, notes = notebook_io.parse(raw)
    assert "naïve café" in nb.cells[2].source
    assert (note is None and notes == []) or any(note in n for n in notes)


@pytest.mark.parametrize("raw, message", [
    (b"", "empty file"), (b"   \n", "empty file"), (b"{", "not JSON"), (b"[1, 2]", "no 'nbformat'"),
    (b'{"nbformat": 2, "cells": []}', "unsupported nbformat 2"),
    (b'{"nbformat": 4, "nbformat_minor": 4, "metadata": {}, "cells": []}', "no cells"),
    (b'{"nbformat": 4, "nbformat_minor": 4, "metadata": {}, "cells": [{"cell_type": "code"}]}', "not a valid"),
    (b"[" * 100000 + b"]" * 100000, "not JSON"),
])
def test_invalid_notebooks(raw, message):
    with pytest.raises(notebook_io.InvalidNotebook, match=message):
        notebook_io.parse(raw)


# -- integrity --------------------------------------------------------------------------------


@pytest.mark.parametrize("code, flag", [
    ("from solutions.normalization import min_max_scale", "imports solutions.normalization"),
    ("import solutions", "imports solutions"),
    ("m = __import__('solutions.normalization')", "loads solutions through __import__"),
    ("import importlib\nm = importlib.import_module('solutions')", "loads solutions through import_module"),
    ("text = open('/course/exercises/source/01/01.ipynb').read()", "mentions the source notebooks"),
    ("db = 'sqlite:///grading/gradebook.db'", "mentions the gradebook"),
    ("np.testing.assert_allclose = lambda *a, **k: None", "patches np.testing.assert_allclose"),
    ("import builtins\nbuiltins.AssertionError = Exception", "patches builtins.AssertionError"),
    ("setattr(np.testing, 'assert_allclose', print)", "patches np.testing with setattr()"),
    ("get_ipython().set_custom_exc((Exception,), f)", "the shell's exception handler"),
    ("get_ipython().events.register('post_run_cell', f)", "the shell's event hooks"),
    ("import sys\nref = sys.modules['solutions.normalization']", "sys.modules"),
    ("import sys\nsys.settrace(f)", "a trace function"),
    ("def f():\n    return ref_min_max_scale(1)", "hidden tests' name ref_min_max_scale"),
    ("import inspect\ndef f():\n    return inspect.stack()[1].frame.f_locals", "frame introspection"),
    ("%time x = __import__('solutions')", "loads solutions through __import__"),
])
def test_scan_flags(code, flag):
    flags = integrity.scan([("answer", code)], ["ref_min_max_scale"])
    assert any(flag in f for f in flags), flags


def test_scan_does_not_flag_the_reference_answers_of_any_chapter():
    """No false positive on honest code: every chapter's own solution cells scan clean."""
    for chapter in paths.chapter_ids():
        nb = notebooks.read(paths.source_notebook(chapter))
        cells = [(g, c.source) for g, c in notebooks.answer_cells(nb).items()]
        hidden = set()
        for cell in notebooks.test_cells(nb).values():
            hidden |= gradebook._names_bound_by_imports(gradebook.hidden_region(cell.source))
        assert integrity.scan(cells, sorted(hidden - {"np", "numpy", "torch", "math"})) == [], chapter


def test_hidden_names_are_read_from_the_hidden_regions():
    lines = gradebook.hidden_region(tiny.TEST_MAIN)
    assert gradebook._names_bound_by_imports(lines) == {"ref_min_max_scale"}


# -- feedback ---------------------------------------------------------------------------------


def test_feedback_strips_hidden_regions_and_their_tracebacks():
    nb = tiny.source_notebook()
    test = nb.cells[3]
    test.outputs = [nbformat.v4.new_output("error", ename="AssertionError", evalue="hidden check failed: 1 != 2",
                                           traceback=["  File cell, line 9", "    ref_min_max_scale(X)  # leaked"])]
    clean = feedback.without_hidden_tests(nb)
    text = nbformat.writes(clean)
    for marker in tiny.HIDDEN_MARKERS:
        assert marker not in text
    assert clean.cells[3].outputs[0]["traceback"] == ["AssertionError: hidden check failed: 1 != 2"]
    assert "each column (axis=0)" in clean.cells[3].source  # visible part kept
    assert "ref_min_max_scale" in nb.cells[3].source  # the input is not modified


def test_alembic_head_shortcut_equals_nbgrader():
    from nbgrader.api import get_alembic_version

    original = getattr(get_alembic_version, "__wrapped__", None) or get_alembic_version
    assert gradebook.alembic_head() == original()
