"""A new chapter needs one declaration and its own files, nothing else: proved on a throwaway chapter 8.

In a copy of the repository, the files of ``tests/chapter_template/`` go where a real chapter's go
(declaration, reference, catalogue, answers, oracle tests, exercise and book notebooks); then
``python -m autograder toc`` and ``release`` pick it up, and the generic tests run on it (checks and
catalogue, notebook conventions, released stubs, release leaks, oracle tests, nbval on both
notebooks). Nothing else is edited: no list of chapters anywhere.
"""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from coursebook.paths import REPO
from tests.autograder_fixtures import cli

pytestmark = [pytest.mark.slow]

TEMPLATE = Path(__file__).with_name("chapter_template")
PLACES = {
    "chapter.py": "solutions/chapters/ch08_template.py",
    "reference.py": "solutions/clipping.py",
    "mistakes.py": "solutions/mistakes/ch08_template.py",
    "answers.py": "tests/answers/ch08_template.py",
    "oracle_tests.py": "tests/test_solutions_clipping.py",
    "exercise.ipynb": "exercises/source/08-template/08-template.ipynb",
    "book.ipynb": "book/08-template.ipynb",
}


def _copy_repository(dest):
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO, capture_output=True,
                           text=True, check=True).stdout.splitlines()
    for name in files:
        source = REPO / name
        if source.is_file() and not name.startswith(("tests/chapter_template/", "_build/")):
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    (dest / ".venv").symlink_to(REPO / ".venv")


def test_a_throwaway_chapter_8_passes_the_generic_tests(tmp_path):
    repo = tmp_path / "repo"
    _copy_repository(repo)
    for name, place in PLACES.items():
        (repo / place).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(TEMPLATE / name, repo / place)
    env = dict(cli.env(), PYTHONPATH=str(repo))
    env.pop("COURSE_EXTRA_CHAPTERS", None)

    def run(*args):
        return subprocess.run([sys.executable, *args], cwd=repo, env=env, capture_output=True, text=True,
                              timeout=900)

    toc = run("-m", "autograder", "toc")
    assert toc.returncode == 0, toc.stderr
    assert "book/08-template" in (repo / "_toc.yml").read_text()
    release = run("-m", "autograder", "release", "08-template")  # with the release's leak check
    assert release.returncode == 0 and re.search(r"released 08-template\b.*: clean", release.stdout), (
        release.stdout + release.stderr)
    generic = run("-m", "pytest", "-q", "-p", "no:cacheprovider",
                  "tests/test_checks.py", "tests/test_exercises.py", "tests/test_solutions_clipping.py",
                  "-k", "08-template or clipping or declared_once")
    assert generic.returncode == 0, generic.stdout[-4000:]
    assert " passed" in generic.stdout and "08-template" not in generic.stdout.split("passed")[-1]
    notebooks = run("-m", "pytest", "-q", "-p", "no:cacheprovider",
                    "--nbval-lax", "--nbval-current-env", "book/08-template.ipynb", "exercises/source/08-template")
    assert notebooks.returncode == 0, notebooks.stdout[-4000:]
