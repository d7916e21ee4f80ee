"""A new language needs one declaration and its catalogs, nothing else: proved on a throwaway third edition.

In a copy of the repository, a French edition is declared in ``locales/editions.toml`` and given one
translated message of chapter 1's exercise (``locales/fr/LC_MESSAGES/exercises/01-normalization.po``);
then the release writes and leak-checks ``exercises/release-fr/``, the book build runs Sphinx for it,
the front page and the language switch's extension offer it, and the translation tools count its
catalog. Nothing else is edited: no list of languages anywhere.
"""

import subprocess
import sys

import nbformat
import polib
import pytest

from coursebook.paths import source_notebook
from coursebook.translation import exercise_messages
from tests.test_new_chapter import _copy_repository

pytestmark = [pytest.mark.slow]

FRENCH = '''
[[edition]]
code = "fr"
name = "Français"
link = "Édition française"
title = "Normalisation et régularisation pour l'apprentissage profond"
'''


def test_a_throwaway_third_edition_is_one_declaration_and_its_catalogs(tmp_path):
    repo = tmp_path / "repo"
    _copy_repository(repo)
    with open(repo / "locales" / "editions.toml", "a", encoding="utf-8") as fh:
        fh.write(FRENCH)
    message = exercise_messages(nbformat.read(source_notebook("01-normalization"), as_version=4))[0]
    catalog = polib.POFile()
    catalog.metadata = {"Content-Type": "text/plain; charset=UTF-8"}
    catalog.append(polib.POEntry(msgid=message, msgstr="# Exercice : la normalisation"))
    (repo / "locales" / "fr" / "LC_MESSAGES" / "exercises").mkdir(parents=True)
    catalog.save(str(repo / "locales" / "fr" / "LC_MESSAGES" / "exercises" / "01-normalization.po"))

    def run(*args):
        done = subprocess.run([sys.executable, *args], cwd=repo, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(repo),
                                                                       "HOME": str(tmp_path)},
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    assert run("-m", "coursebook", "editions").split() == ["en", "ko", "fr"]
    released = run("-m", "autograder", "release", "01-normalization")
    assert "released 01-normalization (en, ko, fr): clean" in released
    french = nbformat.read(repo / "exercises" / "release-fr" / "01-normalization" / "01-normalization.ipynb",
                           as_version=4)
    assert any(cell.source.startswith("# Exercice : la normalisation") for cell in french.cells)
    assert "-D language=fr -d _build/doctrees/fr . _build/html/fr" in run(
        "-m", "coursebook", "build", "--conf", "_build/conf", "--dry-run")
    front = run("-c", "from coursebook.book import front_page; print(front_page())")
    assert 'data-edition="fr">Édition française</a>' in front and '"en", "ko", "fr"' in front
    extension = run("-c", "import sys; sys.path.insert(0, '_ext'); import editions; "
                          "print(editions.EDITIONS['fr'], editions.RELEASE_BY_EDITION['fr'])")
    assert extension.split() == ["Français", "exercises/release-fr/"]
    assert "fr/exercises/01-normalization: 1 translated, 0 fuzzy" in run("-m", "coursebook", "stats")
