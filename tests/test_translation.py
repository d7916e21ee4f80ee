"""The Korean edition: catalogs complete and current, translations faithful, one term per concept.

Catalogs: locales/ko/LC_MESSAGES/{book,exercises}/*.po (coursebook/translation.py, README "Translating").
A catalog listed in locales/ko/pending.txt is waiting for its translator: its completeness test is
an expected failure that reports the count; every other check applies to it already.
No book build needed: the up-to-date test extracts the English messages again (sphinx-build -b
gettext without executing notebooks, a few seconds).
"""

import ast
import difflib
import json
import os
import re
import subprocess
import sys
from collections import Counter

import nbformat
import polib
import pytest
import yaml

from autograder.authoring.leaks import find_leaks
from coursebook import messages
from coursebook import translation as i18n
from coursebook.paths import COURSE_ROOT, REPO, chapter_ids, source_notebook

LANGUAGE = "ko"
CATALOGS = i18n.catalogs(LANGUAGE)
TERMS = yaml.safe_load((i18n.LOCALES / LANGUAGE / "terms.yml").read_text(encoding="utf-8"))["terms"]
PENDING_FILE = i18n.pending_path(LANGUAGE)
PENDING = i18n.pending(LANGUAGE)
HANGUL = re.compile(r"[\uac00-\ud7a3]")


def entries(domain):
    return [e for e in polib.pofile(str(CATALOGS[domain])) if e.msgid and not e.obsolete]


def translated(domain):
    return [e for e in entries(domain) if e.translated()]


def short(text, width=90):
    text = " ".join(text.split())
    return text if len(text) <= width else text[:width - 3] + "..."


def changed_part(old, new, context=30):
    """Where ``new`` departs from ``old``: '...before[old -> new]after...'."""
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    _, a_start, a_end, b_start, b_end = next(op for op in matcher.get_opcodes() if op[0] != "equal")
    before = new[max(0, b_start - context):b_start]
    return (f"...{before}[{short(old[a_start:a_end], 40)!r} -> {short(new[b_start:b_end], 40)!r}]"
            f"{new[b_end:b_end + context]}...")


def where(domain):
    return f"locales/{LANGUAGE}/LC_MESSAGES/{domain}.po"


# --- complete and current ----------------------------------------------------------------------

class Templates(dict):
    def __repr__(self):  # pytest prints fixtures in tracebacks; hundreds of messages would drown the error
        return f"<{len(self)} templates extracted from the English sources>"


@pytest.fixture(scope="session")
def fresh_templates(tmp_path_factory):
    """The English messages extracted now from the sources: domain -> set of msgids."""
    pot_dir = i18n.extract(tmp_path_factory.mktemp("gettext") / "pot")
    return Templates({domain: {e.msgid for e in polib.pofile(str(path)) if e.msgid}
                      for domain, path in i18n.templates(pot_dir).items()})


def test_every_page_and_exercise_has_a_catalog(fresh_templates):
    missing = sorted(set(fresh_templates) - set(CATALOGS))
    extra = sorted(set(CATALOGS) - set(fresh_templates) - {i18n.UI_DOMAIN})
    assert not missing, f"no catalog for {missing}: run `make translations`"
    assert not extra, f"catalogs of pages or chapters that are gone: {extra}; run `make translations`"


@pytest.mark.parametrize("domain", sorted(set(CATALOGS) - {i18n.UI_DOMAIN}))
def test_catalog_is_up_to_date_with_the_english_source(fresh_templates, domain):
    current = fresh_templates.get(domain)
    assert current is not None, f"{where(domain)}: its source is gone; run `make translations`"
    in_catalog = {e.msgid for e in entries(domain)}
    new = sorted(current - in_catalog)
    gone = sorted(in_catalog - current)
    problems = []
    for message in new:
        old = difflib.get_close_matches(message, gone, n=1, cutoff=0.6)
        if old:
            gone.remove(old[0])
            problems.append(f"  changed English: {changed_part(old[0], message)}")
        else:
            problems.append(f"  new English: {short(message)!r}")
    problems += [f"  no longer in the source: {short(m)!r}" for m in gone]
    assert not problems, (f"{where(domain)} is stale ({len(new)} new or changed, {len(gone)} removed); "
                          f"run `make translations` and translate:\n" + "\n".join(problems))


def test_interface_catalog_covers_the_book_templates(fresh_templates):
    """sphinx.po is kept by hand (theme strings); it must at least hold the strings of _ext's templates."""
    missing = sorted(fresh_templates.get(i18n.UI_DOMAIN, set()) - {e.msgid for e in entries(i18n.UI_DOMAIN)})
    assert not missing, f"{where(i18n.UI_DOMAIN)} lacks the template strings {missing}"


def _count(domain):
    items = entries(domain)
    fuzzy = [e for e in items if e.fuzzy]
    missing = [e for e in items if not e.msgstr and not e.fuzzy]
    return items, fuzzy, missing


@pytest.mark.parametrize("domain", sorted(CATALOGS))
def test_catalog_is_translated_and_not_fuzzy(domain, request):
    items, fuzzy, missing = _count(domain)
    done = len(items) - len(fuzzy) - len(missing)
    summary = (f"{where(domain)}: {done} of {len(items)} translated, {len(fuzzy)} fuzzy, "
               f"{len(missing)} untranslated")
    if domain in PENDING:
        request.applymarker(pytest.mark.xfail(reason=f"pending translation ({PENDING_FILE.name}): {summary}",
                                              strict=True))
    details = [f"  fuzzy (English changed, check the translation): {short(e.msgid)!r}" for e in fuzzy]
    details += [f"  untranslated: {short(e.msgid)!r}" for e in missing]
    assert not details, summary + "\n" + "\n".join(details[:40])


def test_pending_list_names_existing_catalogs():
    unknown = sorted(set(PENDING) - set(CATALOGS))
    assert not unknown, f"{PENDING_FILE.name} names catalogs that do not exist: {unknown}"


# --- faithful: placeables and terms ------------------------------------------------------------

# A translation that Markdown parses as a list, heading or quote instead of a paragraph is dropped by
# Sphinx without a warning ("1. 정규화" in a table cell): escape the marker ("1\\. 정규화"). An exercise
# catalog's message is a whole Markdown block: there a heading or list stays one where the English is one.
BLOCK_START = re.compile(r"^\s*(\d+[.)]\s|[-*+]\s|#{1,6}\s|>)")


@pytest.mark.parametrize("domain", sorted(CATALOGS))
def test_translations_keep_math_roles_links_and_code(domain):
    problems = []
    for entry in translated(domain):
        if BLOCK_START.match(entry.msgstr) and not BLOCK_START.match(entry.msgid):
            problems.append(f"  {short(entry.msgid)!r}\n    the translation starts like a list or heading: "
                            f"{short(entry.msgstr, 30)!r}; escape it (1\\. ...)")
        english, korean = messages.placeables(entry.msgid), messages.placeables(entry.msgstr)
        if english != korean:
            lost, added = english - korean, korean - english
            problems.append(f"  {short(entry.msgid)!r}\n    lost: {sorted(lost.elements())}"
                            f"\n    added: {sorted(added.elements())}")
    assert not problems, (f"{where(domain)}: translations must keep inline math, roles (their targets), "
                          f"links and code spans of the English:\n" + "\n".join(problems))


def term_problems(msgid, msgstr):
    """What a translation does wrong with the terms of locales/ko/terms.yml."""
    prose = messages.strip_placeables(msgid)
    problems = []
    if msgid.lstrip().startswith("\\"):  # a display formula: nothing in it to translate
        return problems
    for term in TERMS:
        if re.search(term["en"], prose, re.I) and term["ko"] not in msgstr:
            problems.append(f"English {term['en']!r} must be rendered {term['ko']!r}")
        for wrong in term.get("wrong", []):
            if wrong in msgstr:
                problems.append(f"{wrong!r} is not the course's term (use {term['ko']!r})")
        if term.get("only_where") and term["ko"] in msgstr and not re.search(term["only_where"], msgid, re.I):
            problems.append(f"{term['ko']!r} appears, but the English has no {term['only_where']!r}")
    return problems


@pytest.mark.parametrize("domain", sorted(CATALOGS))
def test_translations_use_the_course_terms(domain):
    problems = [f"  {short(e.msgid)!r}: {p}" for e in translated(domain) for p in term_problems(e.msgid, e.msgstr)]
    assert not problems, f"{where(domain)}:\n" + "\n".join(problems)


@pytest.mark.parametrize(("msgid", "msgstr", "expected"), [
    ("L2 regularization shrinks weights.", "L2 정규화는 가중치를 줄입니다.", "'정규화' appears"),
    ("L2 regularization shrinks weights.", "L2 정칙화는 가중치를 줄입니다.", None),
    ("Weight decay", "가중치 감소", "is not the course's term"),
    ("Use {term}`Dropout`.", "{term}`드롭아웃 <Dropout>`을 씁니다.", None),
    ("Batch normalization and overfitting", "배치 정규화와 과대적합", "'과대적합' is not"),
])
def test_term_check_catches_the_classic_mistakes(msgid, msgstr, expected):
    problems = term_problems(msgid, msgstr)
    if expected is None:
        assert problems == []
    else:
        assert any(expected in p for p in problems), problems


def test_placeables_count_role_targets_math_and_code():
    english = "Scale with {term}`Normalization`, see {cite}`ioffe2015batch`, $x_i$ and `np.std`: [doc](https://a.b)."
    korean = "{term}`정규화 <Normalization>`로 스케일을 맞춥니다({cite}`ioffe2015batch`, $x_i$, `np.std`, [문서](https://a.b))."
    assert messages.placeables(english) == messages.placeables(korean)
    assert messages.placeables(korean.replace("$x_i$", "$x_j$")) != messages.placeables(english)
    assert messages.placeables("$a$이고 `b`에") == Counter({("math", "a"): 1, ("code", "b"): 1})


def test_terms_are_the_glossary_renderings():
    glossary = (REPO / "book" / "glossary.md").read_text(encoding="utf-8")
    for term in TERMS:
        if "glossary" not in term:
            continue
        match = re.search(rf"^{re.escape(term['glossary'])}\n((?:  .*\n)+)", glossary, re.M)
        assert match, f"glossary.md has no entry {term['glossary']!r} (terms.yml)"
        korean = re.search(r"Korean: (.*)", " ".join(match.group(1).split()))
        assert korean and term["ko"] in korean.group(1), \
            f"glossary.md gives {term['glossary']!r} as {korean and korean.group(1)!r}, terms.yml as {term['ko']!r}"


# --- exercises: the Korean release --------------------------------------------------------------

def without_docstrings(source):
    """``source`` with the contents of every docstring emptied (code compared, prose not)."""
    spans = messages.docstring_literals(source)
    assert spans is not None, "not valid Python"
    for start, end, _ in reversed(spans):
        source = source[:start] + source[end:]
    return source


@pytest.mark.parametrize("chapter", chapter_ids())
def test_korean_release_differs_from_the_english_only_in_prose(chapter):
    english_path = i18n.release_path(COURSE_ROOT, chapter)
    korean_path = i18n.release_path(COURSE_ROOT, chapter, LANGUAGE)
    assert korean_path.is_file(), f"{korean_path} is missing: run `python -m autograder release` (make book does)"
    english, korean = (nbformat.read(p, as_version=4) for p in (english_path, korean_path))
    assert len(english.cells) == len(korean.cells)
    for index, (en, ko) in enumerate(zip(english.cells, korean.cells, strict=True)):
        assert (en.cell_type, en.metadata) == (ko.cell_type, ko.metadata), f"cell {index}: type or metadata differ"
        if en.cell_type != "code":
            continue
        if i18n.is_answer_cell(en):
            assert without_docstrings(en.source) == without_docstrings(ko.source), \
                f"cell {index}: answer cell differs outside its docstrings"
        else:
            assert en.source == ko.source, f"cell {index}: code differs"
    assert find_leaks(nbformat.read(source_notebook(chapter), as_version=4), korean) == []


@pytest.mark.parametrize("chapter", chapter_ids())
def test_exercise_translation_replaces_prose_and_keeps_code(chapter):
    """With every message translated, each Markdown block and docstring changes and no code does."""
    nb = nbformat.read(source_notebook(chapter), as_version=4)
    fake = {m: "번역: " + m for m in i18n.exercise_messages(nb)}
    translated_nb = i18n.translate_notebook(nb, fake, LANGUAGE)
    for en, ko in zip(nb.cells, translated_nb.cells, strict=True):
        if en.cell_type == "markdown":
            assert en.source == "" or ko.source != en.source
        elif i18n.is_answer_cell(en):
            assert ast.dump(ast.parse(without_docstrings(en.source))) == \
                ast.dump(ast.parse(without_docstrings(ko.source)))
            docstrings = [ko.source[s:e] for s, e, _ in messages.docstring_literals(ko.source)]
            assert all(d.startswith("번역: ") for d in docstrings if d.strip())
        else:
            assert en.source == ko.source


# --- figures: Hangul in matplotlib --------------------------------------------------------------

PLOT_HANGUL = """
import json, warnings
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.font_manager import FontProperties, fontManager
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    fig, ax = plt.subplots()
    ax.set_title("정규화와 정칙화 (normalization)")
    ax.set_xlabel("에폭")
    fig.canvas.draw()
fonts = fontManager._find_fonts_by_props(FontProperties(family=matplotlib.rcParams["font.family"]))
print(json.dumps({"missing": [str(w.message) for w in caught if "missing from font" in str(w.message)],
                  "fonts": [str(f) for f in fonts]}))
"""


def plot_hangul(cwd):
    env = {key: value for key, value in os.environ.items() if key != "MATPLOTLIBRC"}
    done = subprocess.run([sys.executable, "-c", PLOT_HANGUL], cwd=cwd, capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_book_figures_render_hangul_with_a_korean_font(tmp_path):
    result = plot_hangul(REPO / "book")  # where the book's kernels run, with book/matplotlibrc
    assert result["missing"] == [], f"Hangul glyphs missing in figures: {result['missing'][:3]}"
    assert any("Nanum" in font for font in result["fonts"]), \
        f"no Korean font in matplotlib's fallback list: {result['fonts']} (is fonts-nanum installed?)"
    # and the setting is what makes the difference: elsewhere the default font lacks Hangul
    assert plot_hangul(tmp_path)["missing"], "expected missing glyphs without book/matplotlibrc"
