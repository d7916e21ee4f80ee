"""Honest work in any shape gets its marks; one wrong function loses exactly its points; attacks on every
kind of exercise earn nothing.

Real chapters: 01-normalization (functions), 05-dropout (random functions taking a generator,
``nn.Module`` classes, Monte Carlo dropout of a model) and 07-early-stopping (``EarlyStopping``).
Each messy shape (cells deleted, merged, split, reordered, retyped from Markdown, scratch cells,
Colab / VS Code / JupyterLab metadata, a fresh notebook with only the functions, nbformat 4.0-4.4)
is built twice: with the reference answers (full marks) and with one catalogued mistake (exactly
that answer's test points lost). All are graded in one batch by the command line, with
pristine notebooks for comparison; the attacks ride in the same batch.
"""

import copy
import json
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from autograder.authoring import demo
from autograder.course.config import course_config, release_version
from autograder.course.sources import reference_answers, with_answers
from checks import mistakes as catalogue
from coursebook import paths
from solutions.chapters import chapter as declared
from tests.autograder_fixtures import cli

pytestmark = [pytest.mark.root, pytest.mark.bwrap, pytest.mark.slow]

CHAPTERS = {"01-normalization": "normalize_rows", "05-dropout": "Dropout"}  # chapter -> the answer made wrong


def _meta(cell):
    return cell.metadata.get("nbgrader", {})


def _strip(nb):
    for cell in nb.cells:
        cell.metadata.pop("nbgrader", None)
    return nb


def deleted_tests(nb):
    tests = [c for c in nb.cells if _meta(c).get("grade")]
    nb.cells = [c for c in nb.cells if c is not tests[0] and c is not tests[-1]]
    return nb


def metadata_lost(nb):
    return _strip(nb)


def colab(nb):
    _strip(nb)
    nb.metadata = {"colab": {"provenance": [], "name": "exercise.ipynb"}, "kernelspec": {"name": "python3",
                   "display_name": "Python 3"}, "accelerator": "GPU", "language_info": {"name": "python"}}
    for i, cell in enumerate(nb.cells):
        cell.metadata = {"id": f"colab{i:04d}", "colab": {"base_uri": "https://localhost/"}}
        if cell.cell_type == "code":
            cell.execution_count = i
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="ran in Colab\n")]
    return nb


def vscode(nb):
    nb.metadata["vscode"] = {"interpreter": {"hash": "0" * 64}}
    nb.metadata["language_info"] = {"name": "python", "version": "3.11.7"}
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.metadata["vscode"] = {"languageId": "python"}
            cell.execution_count = 1
    return nb


def jupyterlab(nb):
    for cell in nb.cells:
        cell.metadata["jupyter"] = {"source_hidden": False, "outputs_hidden": True}
        cell.metadata["collapsed"] = False
        cell.metadata["tags"] = ["student-edited"]
    return nb


def fresh_functions(nb):
    answers = [c.source for c in nb.cells if _meta(c).get("solution")]
    return new_notebook(cells=[new_markdown_cell("my answers")] + [new_code_cell(a) for a in answers])


def merged(nb):
    answers = [c for c in nb.cells if _meta(c).get("solution")]
    answers[0].source = "\n\n".join(c.source for c in answers)
    nb.cells = [c for c in nb.cells if c not in answers[1:]]
    return nb


def split(nb):
    cells = []
    for cell in nb.cells:
        if _meta(cell).get("solution"):
            cells.append(new_code_cell("import math  # my own imports first"))
        cells.append(cell)
    nb.cells = cells
    return nb


def reordered(nb):
    answers = [c for c in nb.cells if _meta(c).get("solution")]
    nb.cells = [c for c in nb.cells if c not in answers] + answers
    return nb


def retyped(nb):
    cells = []
    for cell in nb.cells:
        if _meta(cell).get("solution"):
            cells.append(new_markdown_cell(cell.source))  # turned into Markdown by mistake...
            cells.append(new_code_cell(cell.source))  # ... and typed again below, without metadata
        else:
            cells.append(cell)
    nb.cells = cells
    return nb


def scratch(nb):
    cells = []
    for cell in nb.cells:
        cells.append(cell)
        if _meta(cell).get("solution"):
            cells.append(new_code_cell("print('trying things out')\nimport matplotlib.pyplot as plt\n"
                                       "plt.plot([1, 2, 3])\nplt.close()\nscratch_value = 42"))
    return nb


SHAPES = {f.__name__: f for f in (deleted_tests, metadata_lost, colab, vscode, jupyterlab, fresh_functions,
                                   merged, split, reordered, retyped, scratch)}


def _older(nb, minor):
    data = json.loads(nbformat.writes(nb))
    data["nbformat_minor"] = minor
    for cell in data["cells"]:
        cell.pop("id", None)
    return json.dumps(data)


# -- attacks on the richer kinds of exercise (each on the release stubs: the honest score is 0) --------
ATTACKS = {
    "05-dropout": {
        "torch_function_subclass": '''
class Always(torch.Tensor):
    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        if func in (torch.isclose, torch.allclose, torch.equal, torch.testing.assert_close):
            return True
        return super().__torch_function__(func, types, args, kwargs or {})

def dropout_forward(x, p, training=True, generator=None):
    z = torch.zeros_like(x).as_subclass(Always)
    return z, z''',
        "helpers_made_no_ops": '''
def check_close(*args, **kwargs):
    return None

def rel_error(*args, **kwargs):
    return 0.0

def dropout_forward(x, p, training=True, generator=None):
    return torch.zeros_like(x), torch.zeros_like(x)''',
        "global_rng_tampering": '''
import torch
_orig_rand = torch.rand
torch.rand = lambda *a, **k: torch.zeros(*(a or k.get("size")), dtype=k.get("dtype"))  # "every unit kept"
torch.manual_seed = lambda seed: None

class Dropout(torch.nn.Module):
    def __init__(self, p=0.5):
        super().__init__()
    def forward(self, x):
        return x''',
    },
    "07-early-stopping": {
        "stop_flag_object": '''
class Truthy:
    def __bool__(self):
        return True
    def __eq__(self, other):
        return True

class EarlyStopping:
    def __init__(self, patience=5, min_delta=0.0, mode="min", restore_best_weights=True):
        self.best, self.best_epoch, self.wait = Truthy(), Truthy(), Truthy()
    def step(self, value, model=None):
        return Truthy()
    def restore(self, model):
        return None''',
        "patched_torch_equal": '''
torch.equal = lambda *a, **k: True
torch.testing.assert_close = lambda *a, **k: None

class EarlyStopping:
    def __init__(self, patience=5, min_delta=0.0, mode="min", restore_best_weights=True):
        self.best, self.best_epoch, self.wait = 0.0, 0, 0
    def step(self, value, model=None):
        return False
    def restore(self, model):
        return None''',
    },
}


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    work = tmp_path_factory.mktemp("messy")
    root = work / "class"
    expected = {}  # student -> (chapter, points expected)
    for chapter_id, wrong_answer in CHAPTERS.items():
        chapter = declared(chapter_id)
        source = paths.source_notebook(chapter_id)
        release = release_version(source, course_config(paths.SOURCE))
        correct = reference_answers(source)
        mistake = next(m for m in catalogue.catalogue(chapter) if m.target == wrong_answer)
        wrong = {**correct, wrong_answer: catalogue.source_of(chapter, mistake, correct)}
        points = {t.grade_id: next(c.metadata.nbgrader["points"] for c in release.cells
                                   if _meta(c).get("grade_id") == t.grade_id) for t in chapter.tests}
        full = sum(points.values())
        lost = sum(points[t.grade_id] for t in chapter.tests if t.answer == wrong_answer)
        honest = with_answers(release, correct)
        one_wrong = with_answers(release, wrong)
        for variant, nb, score in (("honest", honest, full), ("wrong", one_wrong, full - lost)):
            demo.write_submission(root, f"{variant} pristine", chapter_id, nb=copy.deepcopy(nb))
            expected[f"{variant} pristine", chapter_id] = score
            for name, shape in SHAPES.items():
                demo.write_submission(root, f"{variant} {name}", chapter_id, nb=shape(copy.deepcopy(nb)))
                expected[f"{variant} {name}", chapter_id] = score
            for minor in (0, 4):
                folder = demo.write_submission(root, f"{variant} nbformat4.{minor}", chapter_id)
                (folder / f"{chapter_id}.ipynb").write_text(_older(nb, minor), encoding="utf-8")
                expected[f"{variant} nbformat4.{minor}", chapter_id] = score
    for chapter_id, attacks in ATTACKS.items():
        source = paths.source_notebook(chapter_id)
        release = release_version(source, course_config(paths.SOURCE))
        first = next(c.metadata.nbgrader["grade_id"] for c in release.cells if _meta(c).get("solution"))
        for name, code in attacks.items():
            target = first if chapter_id != "05-dropout" or "Dropout(" not in code else "Dropout"
            demo.write_submission(root, f"attack {name}", chapter_id,
                                  nb=with_answers(release, {target: code}))
            expected[f"attack {name}", chapter_id] = 0
    out = work / "out"
    proc = cli.run("grade", root, "--out", out, "--workers", 2, timeout=1200)
    return {"proc": proc, "out": out, "class": root, "expected": expected}


def test_the_batch_completes(batch):
    assert batch["proc"].returncode == 0, batch["proc"].stderr[-3000:]


def _rows(batch):
    return {(r["student_id"], r["assignment"]): r for r in cli.read_csv(batch["out"] / "grades.csv")}


def test_honest_work_in_any_shape_gets_full_marks_and_one_wrong_function_loses_exactly_its_points(batch):
    rows = _rows(batch)
    wrong_scores = []
    for key, score in batch["expected"].items():
        row = rows[key]
        assert (row["status"], float(row["score"])) == ("ok", float(score)), (key, row)
        if key[0].startswith("wrong"):
            wrong_scores.append(row["mistakes"])
    assert all(wrong_scores), "the one wrong function is diagnosed in every shape"


def test_a_repaired_shape_says_so_in_one_line(batch):
    rows = _rows(batch)
    for (student, chapter), row in rows.items():
        repaired = [part for part in row["detail"].split("; ") if part.startswith("repaired:")]
        # shapes in which every test cell is still there, after its answer, run as they are
        if student.endswith(("pristine", "vscode", "jupyterlab", "scratch", "split", "merged", "retyped",
                             "nbformat4.0", "nbformat4.4")):
            assert not repaired, (student, chapter, row["detail"])
        elif not student.startswith("attack"):
            assert len(repaired) in (1, 2), (student, chapter, row["detail"])
    page = (batch["out"] / "feedback" / "honest fresh_functions" / "01-normalization" / "01-normalization.html")
    assert "repaired:" in page.read_text(encoding="utf-8")
    report = (batch["out"] / "report.html").read_text(encoding="utf-8")
    assert "Repaired notebooks" in report and "honest fresh_functions" in report


def test_attacks_on_every_kind_of_exercise_earn_nothing(batch):
    rows = _rows(batch)
    for (student, chapter), row in rows.items():
        if student.startswith("attack"):
            assert float(row["score"] or 0) == 0.0, (student, chapter, row)


def test_grades_equal_plain_nbgrader_for_pristine_modules_and_random_functions(batch):
    """The pristine honest and wrong notebooks of chapter 5 (random functions, modules) are graded by plain
    nbgrader too (checks in-process); chapter 1's functions: tests/test_autograder_nbgrader.py."""
    import os
    import subprocess
    import sys

    from tests.notebooks import copy_course

    course = copy_course(batch["out"].parent / "course")
    env = dict(cli.env(), PATH=f"{os.path.dirname(sys.executable)}{os.pathsep}{os.environ['PATH']}")
    submitted = course / "submitted"
    equal = ["05-dropout"]
    for variant in ("honest pristine", "wrong pristine"):
        for chapter_id in equal:
            target = submitted / variant / chapter_id
            target.mkdir(parents=True)
            src = batch["class"] / variant / chapter_id / f"{chapter_id}.ipynb"
            (target / f"{chapter_id}.ipynb").write_bytes(src.read_bytes())
    nbgrader = [sys.executable, "-m", "nbgrader"]
    for chapter_id in equal:
        for args in (["generate_assignment", chapter_id, "--force"], ["autograde", chapter_id]):
            done = subprocess.run(nbgrader + args, cwd=course, env=env, capture_output=True, text=True, timeout=900)
            assert done.returncode == 0, done.stderr[-3000:]
    export = course / "grades.csv"
    subprocess.run(nbgrader + ["export", f"--to={export}"], cwd=course, env=env, check=True, capture_output=True)
    theirs = {(r["student_id"], r["assignment"]): float(r["score"]) for r in cli.read_csv(export)}
    ours = _rows(batch)
    for key, score in theirs.items():
        assert float(ours[key]["score"]) == score, (key, score, ours[key])
    assert len(theirs) == 2 * len(equal)


def test_students_can_hand_in_from_colab(batch):
    """The release needs nothing of nbgrader's extensions: its visible tests run in a plain kernel."""
    from tests.notebooks import errors_by_grade_id, execute

    release = release_version(paths.source_notebook("01-normalization"),
                                        course_config(paths.SOURCE))
    answers = reference_answers(paths.source_notebook("01-normalization"))
    nb = colab(with_answers(release, answers))
    for cell in nb.cells:
        cell.outputs = [] if cell.cell_type == "code" else cell.get("outputs", [])
    ran = execute(nb, Path(batch["out"]), with_repo=False)
    assert errors_by_grade_id(ran) == {}
