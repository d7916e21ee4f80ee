"""Translations: the gettext catalogs of the translated editions and their exercise releases.

One English source, catalogs in ``locales/<lang>/LC_MESSAGES/`` for each translated edition
(:mod:`coursebook.editions`):

- ``book/<page>.po``: the book's pages, extracted by Sphinx's gettext builder (one catalog per page);
  Sphinx applies them when it builds with ``-D language=<lang>``.
- ``sphinx.po``: interface strings the themes and myst-nb leave in English, written by hand.
- ``exercises/<chapter>.po``: the exercise notebooks, extracted here (:mod:`coursebook.messages`):
  Markdown blocks and the paragraphs of answer-cell docstrings.
- ``exercise-code/<chapter>.po``: the prose inside the exercise's code cells as students receive them
  (:mod:`coursebook.code_messages`): visible-test messages, printed labels, helper docstrings and
  comments. A domain of its own, so that the Markdown catalogs are edited without conflicts.
  ``autograder release`` applies both to write ``exercises/release-<lang>/``, and the grader applies the
  second to the test cells it restores in a submission of that edition. The code itself, the hidden
  tests and the metadata are never translated.

``make translations`` runs ``python -m coursebook update``; ``python -m coursebook stats`` prints
translated / fuzzy / untranslated per catalog. A message that is untranslated or fuzzy falls back to
English, as gettext does.
"""

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import polib

from coursebook import code_messages
from coursebook.book import write_sphinx_conf
from coursebook.editions import editions, translated
from coursebook.messages import (
    docstring_literals,
    docstring_parts,
    is_translatable,
    markdown_parts,
    split_trailing_newline,
)
from coursebook.paths import REPO, chapter_ids, source_notebook

LOCALES = REPO / "locales"
BOOK_DOMAIN = "book"
EXERCISE_DOMAIN = "exercises"
CODE_DOMAIN = "exercise-code"
# What the grader says to a student (feedback and status pages, verdicts, status details) and the catalogue of
# mistakes' explanations (one catalog per chapter): translated when a page for a student is rendered
GRADER_DOMAIN = "grader"
MISTAKES_DOMAIN = "mistakes"
HINTS_DOMAIN = "hints"  # the hints of a chapter's declared cases (N_(...) in solutions/chapters), one catalog each
GRADER_SOURCES = ("autograder", "checks")  # packages whose N_(...) messages the grader's catalog holds
# Interface strings (theme, myst-nb prompts, the book's own): Sphinx's "sphinx" catalog, kept by hand
UI_DOMAIN = "sphinx"


def languages():
    """The codes of the translated editions."""
    return tuple(e.code for e in translated())


def catalog_dir(language):
    return LOCALES / language / "LC_MESSAGES"


# --- Exercise catalogs --------------------------------------------------------------------------

def _nbgrader(cell):
    return cell.metadata.get("nbgrader", {})


def is_answer_cell(cell):
    return cell.cell_type == "code" and _nbgrader(cell).get("solution")


def is_formula_with_words(kind, message):
    """A ``$$`` block whose ``\\text{}`` groups hold words: its words are translated, its TeX kept (checked by
    :func:`formula_problem`)."""
    words = re.search(r"\\text\{[^}]*[^\W\d_]{2,}", message)
    return kind == "fixed" and message.lstrip().startswith("$$") and bool(words)


def formula_problem(english, translated):
    """What a translated ``$$`` block changes besides the words of its ``\\text{}`` groups, or None (the book's
    rule, ``_ext/editions/display_math.py``)."""
    if str(REPO / "_ext") not in sys.path:
        sys.path.insert(0, str(REPO / "_ext"))
    from editions.display_math import translation_problem

    def inner(block):
        return block.strip().removeprefix("$$").removesuffix("$$")
    if not (translated.strip().startswith("$$") and translated.strip().endswith("$$")):
        return "the translation is not a $$ block"
    return translation_problem(inner(english), inner(translated))


def exercise_messages(nb):
    """The translatable messages of an exercise notebook, in order, without repeats."""
    messages = []
    for cell in nb.cells:
        if cell.cell_type == "markdown" and not _nbgrader(cell).get("solution"):
            for kind, text in markdown_parts(cell.source):
                message = split_trailing_newline(text)[0]
                if (kind == "block" and is_translatable(message)) or is_formula_with_words(kind, message):
                    messages.append(message)
        elif is_answer_cell(cell):
            for start, end, indent in docstring_literals(cell.source) or []:
                messages += [part[1] for part in docstring_parts(cell.source[start:end], indent)
                             if part[0] == "para" and is_translatable(part[1])]
    return list(dict.fromkeys(messages))


def exercise_template(chapter):
    """A polib POT of one chapter's exercise notebook (the English source notebook)."""
    nb = nbformat.read(source_notebook(chapter), as_version=4)
    pot = _template(f"exercises {chapter}")
    for message in exercise_messages(nb):
        pot.append(polib.POEntry(msgid=message, msgstr=""))
    return pot


def student_version(nb):
    """``nb`` as nbgrader releases it (solutions replaced by the stub, hidden tests removed): the code
    students receive, whose prose the ``exercise-code`` catalogs hold (never a hidden test's)."""
    from nbgrader.preprocessors import ClearHiddenTests, ClearSolutions

    nb = nbformat.from_dict(nb)
    nb, _ = ClearSolutions().preprocess(nb, {})
    nb, _ = ClearHiddenTests().preprocess(nb, {})
    return nb


CODE_KINDS = {"literal": "a message in the code (keep {placeholders}, \\escapes and code words as written)",
              "comment": "a code comment", "docstring": "a helper's docstring paragraph"}


def code_messages_of(nb):
    """``(message, kind)`` of the prose in the code cells of ``nb`` (a student version), in order, without
    repeats; answer-cell docstrings are left to the Markdown catalog."""
    found = {}
    for cell in nb.cells:
        if cell.cell_type == "code":
            for unit in code_messages.code_units(cell.source, docstrings=not is_answer_cell(cell)):
                found.setdefault(unit.message, unit.kind)
    return list(found.items())


def _template(project):
    pot = polib.POFile(wrapwidth=76)
    pot.metadata = {"Project-Id-Version": project, "MIME-Version": "1.0",
                    "Content-Type": "text/plain; charset=UTF-8", "Content-Transfer-Encoding": "8bit"}
    return pot


def code_template(chapter):
    """A polib POT of the prose in one chapter's code cells (the English source's student version)."""
    pot = _template(f"exercise code {chapter}")
    nb = student_version(nbformat.read(source_notebook(chapter), as_version=4))
    for message, kind in code_messages_of(nb):
        pot.append(polib.POEntry(msgid=message, msgstr="", comment=CODE_KINDS[kind]))
    return pot


def write_exercise_templates(pot_dir, chapters=None):
    for domain, template in ((EXERCISE_DOMAIN, exercise_template), (CODE_DOMAIN, code_template),
                             (MISTAKES_DOMAIN, mistakes_template), (HINTS_DOMAIN, hints_template)):
        out = Path(pot_dir) / domain
        out.mkdir(parents=True, exist_ok=True)
        for chapter in chapters or chapter_ids():
            template(chapter).save(str(out / f"{chapter}.pot"))
    grader_template().save(str(Path(pot_dir) / f"{GRADER_DOMAIN}.pot"))


# --- The grader's catalogs ----------------------------------------------------------------------

def _fstring_template(node, source):
    """The text an f-string (or string) literal prints, its replacement fields written as in the code
    (``{limits.cell_timeout:g}``) and its literal braces doubled: the grader's template of a message."""
    if isinstance(node, ast.Constant):
        return node.value.replace("{", "{{").replace("}", "}}")
    out = []
    for part in node.values:
        if isinstance(part, ast.Constant):
            out.append(part.value.replace("{", "{{").replace("}", "}}"))
            continue
        field = ast.get_source_segment(source, part.value)
        if part.conversion != -1:
            field += "!" + chr(part.conversion)
        if part.format_spec is not None:
            field += ":" + "".join(v.value for v in part.format_spec.values if isinstance(v, ast.Constant))
        out.append("{" + field + "}")
    return "".join(out)


def marked_messages(path):
    """``(template, line)`` of every ``N_(...)`` message of a Python file, found with :mod:`ast`."""
    source = Path(path).read_text(encoding="utf-8")
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "N_" and node.args:
            literal = node.args[0]
            if isinstance(literal, ast.JoinedStr) or (isinstance(literal, ast.Constant)
                                                      and isinstance(literal.value, str)):
                # the grader translates a text line by line: a message of several lines is one entry per line
                # that has words (a line that is only a value, e.g. ``{hint}``, is translated as that value)
                found += [(line, node.lineno) for line in _fstring_template(literal, source).split("\n")
                          if _has_words(line)]
    return sorted(found, key=lambda item: item[1])


def _has_words(template):
    """Whether ``template`` says something besides its {placeholders}."""
    return re.search(r"[^\W\d_]", re.sub(r"\{[^{}]*\}", "", template.replace("{{", "").replace("}}", ""))) is not None


def template_messages(path):
    """``(message, line)`` of the ``{% trans %}`` blocks of a Jinja2 template (Jinja's own Babel extractor)."""
    from jinja2.ext import babel_extract

    with open(path, "rb") as fh:
        return [(message, line) for line, _, message, _ in babel_extract(fh, ("gettext", "_"), [], {})
                if isinstance(message, str)]


def _marked_template(project, paths):
    pot = _template(project)
    seen = {}
    for path in paths:
        found = marked_messages(path) if path.suffix == ".py" else template_messages(path)
        for message, line in found:
            where = (path.relative_to(REPO).as_posix(), str(line))
            if message in seen:
                seen[message].occurrences.append(where)
                continue
            entry = polib.POEntry(msgid=message, msgstr="", occurrences=[where],
                                  comment="keep each {placeholder} as written: the grader fills it with the "
                                          "English text's value" if "{" in message else "")
            seen[message] = entry
            pot.append(entry)
    return pot


def declaration_path(chapter):
    """The file of ``chapter``'s declaration (``solutions/chapters/chNN_<name>.py``)."""
    import importlib
    import pkgutil

    import solutions.chapters as package

    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        if getattr(getattr(module, "CHAPTER", None), "id", None) == chapter:
            return Path(module.__file__)
    raise KeyError(f"no declaration of chapter {chapter!r} in solutions/chapters")


def hints_template(chapter):
    """A polib POT of the hints of ``chapter``'s declared cases (``N_(...)`` in its declaration)."""
    return _marked_template(f"hints {chapter}", [declaration_path(chapter)])


def grader_template():
    """A polib POT of the grader's words: ``N_(...)`` messages of the grader and the checks, and the
    ``{% trans %}`` blocks of the grader's page templates."""
    return _marked_template("grader", [path for package in GRADER_SOURCES for pattern in ("*.py", "*.j2")
                                       for path in sorted((REPO / package).rglob(pattern))])


def mistakes_template(chapter):
    """A polib POT of one chapter's catalogue of mistakes: each explanation and the book section it names."""
    import importlib

    from solutions.chapters import chapter as declared

    module = importlib.import_module(declared(chapter).mistakes)
    pot = _template(f"mistakes {chapter}")
    seen = set()
    for mistake in module.MISTAKES:
        for message, comment in ((mistake.explanation, f"the explanation of the mistake {mistake.id}"),
                                 (mistake.section[0], "a section title of the chapter (as the book translates it)")):
            if message not in seen:
                seen.add(message)
                pot.append(polib.POEntry(msgid=message, msgstr="", comment=comment))
    return pot


def grader_messages(language, chapter=None):
    """``(literal, templates)``: the grader's translations in ``language`` as ``(English, translation)`` pairs;
    ``templates`` hold {placeholders}, ``literal`` messages are whole texts (mistakes, page words). ``chapter``: the
    catalogue of that chapter's mistakes only (else every chapter's)."""
    literal, templates = [], []
    for domain, path in catalogs(language).items():
        part, _, of = domain.partition("/")
        if domain == GRADER_DOMAIN or (part == HINTS_DOMAIN and chapter in (None, of)):
            for msgid, msgstr in load_catalog(path).items():
                if re.search(r"\{[^{}]*\}", msgid.replace("{{", "").replace("}}", "")):
                    templates.append((msgid, msgstr))
                else:
                    literal.append((msgid.replace("{{", "{").replace("}}", "}"),
                                    msgstr.replace("{{", "{").replace("}}", "}")))
        elif domain.startswith(MISTAKES_DOMAIN + "/") and chapter in (None, domain.split("/", 1)[1]):
            literal += load_catalog(path).items()
    return tuple(literal), tuple(templates)


def load_catalog(path):
    """msgid -> msgstr of the translated, non-fuzzy entries of a .po file (empty when missing)."""
    if not Path(path).is_file():
        return {}
    return {e.msgid: e.msgstr for e in polib.pofile(str(path)) if e.translated() and not e.obsolete}


def translate_markdown(text, catalog):
    out = []
    for kind, part in markdown_parts(text):
        message, newline = split_trailing_newline(part)
        if kind == "block":
            part = catalog.get(message, message) + newline
        elif is_formula_with_words(kind, message) and message in catalog \
                and formula_problem(message, catalog[message]) is None:
            part = catalog[message] + newline
        out.append(part)
    return "".join(out)


def translate_notebook(nb, catalog, language, code_catalog=None):
    """A copy of ``nb`` with Markdown cells and answer-cell docstrings translated by ``catalog``, and the
    prose of its code cells by ``code_catalog``; the edition's language in the notebook's metadata."""
    nb = nbformat.from_dict(nb)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = translate_markdown(cell.source, catalog)
        elif is_answer_cell(cell):
            cell.source = code_messages.translate_code(code_messages.translate_docstrings(cell.source, catalog),
                                                       code_catalog or {}, docstrings=False)
        elif cell.cell_type == "code":
            cell.source = code_messages.translate_code(cell.source, code_catalog or {})
    nb.metadata["language"] = language
    return nb


def translated_release(nb, chapter, language):
    """The edition ``language`` of the English release ``nb`` of ``chapter``, from its two catalogs."""
    catalog = load_catalog(catalog_dir(language) / EXERCISE_DOMAIN / f"{chapter}.po")
    return translate_notebook(nb, catalog, language, code_catalog(chapter, language))


def code_catalog(chapter, language):
    """msgid -> msgstr of the ``exercise-code`` catalog of ``chapter`` in ``language`` (empty when missing)."""
    return load_catalog(catalog_dir(language) / CODE_DOMAIN / f"{chapter}.po")


def translate_locked_cells(nb, chapter, language):
    """A copy of ``nb`` (the grader's version of the source) whose code cells other than the answers speak
    ``language``: the test and setup cells the grader restores in a submission of that edition equal the
    edition's release (the probe call and everything but the prose unchanged)."""
    nb = nbformat.from_dict(nb)
    catalog = code_catalog(chapter, language)
    for cell in nb.cells:
        if cell.cell_type == "code" and not is_answer_cell(cell):
            cell.source = code_messages.translate_code(cell.source, catalog)
    nb.metadata["language"] = language
    return nb


def release_path(course_root, chapter, language=None):
    """The released notebook of ``chapter`` in the edition ``language`` (the source edition by default)."""
    edition = next((e for e in editions() if e.code == language), editions()[0])
    return edition.release(Path(course_root)) / chapter / f"{chapter}.ipynb"


def write_translated_release(chapter, course_root, language):
    """Write ``<course_root>/release-<language>/<chapter>/`` from the English release and the catalog.

    Other files of the release folder (data) are copied unchanged.
    """
    english = release_path(course_root, chapter).parent
    target = release_path(course_root, chapter, language).parent
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(english, target)
    nb = nbformat.read(release_path(course_root, chapter), as_version=4)
    nbformat.write(translated_release(nb, chapter, language), release_path(course_root, chapter, language))
    return release_path(course_root, chapter, language)


# --- Book extraction, catalog update, statistics -----------------------------------------------

def extract(pot_dir, conf_dir=None):
    """All templates into ``pot_dir``: the book's (sphinx-build -b gettext) and the exercises'."""
    pot_dir = Path(pot_dir)
    if conf_dir is None:
        conf_dir = pot_dir.parent / f"{pot_dir.name}-conf"
        write_sphinx_conf(conf_dir)
    sphinx = Path(sys.executable).with_name("sphinx-build")
    done = subprocess.run([str(sphinx), "-c", str(conf_dir), "-b", "gettext", "-D", "nb_execution_mode=off",
                           "-q", "-d", str(pot_dir.parent / f"{pot_dir.name}-doctrees"), str(REPO), str(pot_dir)],
                          capture_output=True, text=True, cwd=REPO)
    if done.returncode != 0:
        raise RuntimeError(f"sphinx-build -b gettext failed:\n{done.stdout}{done.stderr}")
    write_exercise_templates(pot_dir)
    return pot_dir


def templates(pot_dir):
    """domain ('book/intro', 'exercises/01-normalization', ...) -> path of its .pot."""
    pot_dir = Path(pot_dir)
    return {p.relative_to(pot_dir).with_suffix("").as_posix(): p for p in sorted(pot_dir.rglob("*.pot"))}


def catalogs(language):
    """domain -> path of its .po in ``locales/<language>/LC_MESSAGES``."""
    root = catalog_dir(language)
    return {p.relative_to(root).with_suffix("").as_posix(): p for p in sorted(root.rglob("*.po"))}


def update(pot_dir, languages=None):
    """Bring ``locales/`` in line with the templates in ``pot_dir`` (already holding the book's).

    New messages come in untranslated, changed ones fuzzy (with the old translation to start from),
    removed ones and catalogs of removed pages are deleted. A new catalog is added to
    ``pending.txt`` (waiting for its translator), a deleted one leaves it.
    """
    languages = languages or globals()["languages"]()
    write_exercise_templates(pot_dir)
    # sphinx.pot holds the strings of the book's own templates only; sphinx.po also translates the
    # theme's, by hand: keep sphinx-intl away from it (tests check it covers the templates' strings)
    Path(pot_dir, f"{UI_DOMAIN}.pot").unlink(missing_ok=True)
    intl = Path(sys.executable).with_name("sphinx-intl")
    for language in languages:
        before = set(catalogs(language))
        subprocess.run([str(intl), "update", "-p", str(pot_dir), "-d", str(LOCALES), "-l", language,
                        "--no-obsolete"], check=True, cwd=REPO, stdout=subprocess.DEVNULL)
        current = templates(pot_dir)
        gone = set()
        for domain, po in catalogs(language).items():
            if domain not in current and domain != UI_DOMAIN:
                po.unlink()
                po.with_suffix(".mo").unlink(missing_ok=True)
                gone.add(domain)
                print(f"removed {po.relative_to(REPO)}: its page or chapter is gone")
        for po in catalogs(language).values():
            _drop_obsolete_and_empty(po)
        _update_pending(language, added=set(catalogs(language)) - before, removed=gone)


def pending_path(language):
    return LOCALES / language / "pending.txt"


def pending(language):
    """Catalogs waiting for their translator (``locales/<language>/pending.txt``)."""
    path = pending_path(language)
    if not path.is_file():
        return []
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")]


def _update_pending(language, added, removed):
    path = pending_path(language)
    lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
    lines = [line for line in lines if line.strip() not in removed]
    listed = {line.strip() for line in lines}
    lines += sorted(domain for domain in added if domain not in listed)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _drop_obsolete_and_empty(path):
    po = polib.pofile(str(path), wrapwidth=76)
    stale = [e for e in po if e.obsolete or not e.msgid]
    for entry in stale:
        po.remove(entry)
    if stale:
        po.save()


def stats(language):
    """domain -> (translated, fuzzy, untranslated) of the non-empty messages."""
    result = {}
    for domain, path in catalogs(language).items():
        entries = [e for e in polib.pofile(str(path)) if e.msgid and not e.obsolete]
        fuzzy = sum(1 for e in entries if e.fuzzy)
        translated = sum(1 for e in entries if e.translated() and not e.fuzzy)
        result[domain] = (translated, fuzzy, len(entries) - translated - fuzzy)
    return result
