"""The Korean edition: catalogs complete and current, translations faithful, one term per concept.

Catalogs: locales/ko/LC_MESSAGES/{book,exercises}/*.po (coursebook/translation.py, README "Translating").
A catalog listed in locales/ko/pending.txt is waiting for its translator: its completeness test is
an expected failure that reports the count; every other check applies to it already.
No book build needed: the up-to-date test extracts the English messages again (sphinx-build -b
gettext without executing notebooks, a few seconds).
"""

import ast
import difflib
import io
import json
import os
import re
import subprocess
import sys
import tokenize
from collections import Counter
from pathlib import Path

import nbformat
import polib
import pytest
import yaml
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from autograder.authoring.leaks import find_leaks
from coursebook import code_messages, messages
from coursebook import translation as i18n
from coursebook.paths import COURSE_ROOT, REPO, chapter_ids, source_notebook

sys.path.insert(0, str(REPO / "_ext"))
from editions import display_math, markdown_i18n, outputs  # noqa: E402  (the book's extension)

LANGUAGE = "ko"
CATALOGS = i18n.catalogs(LANGUAGE)
TERMS_FILE = yaml.safe_load((i18n.LOCALES / LANGUAGE / "terms.yml").read_text(encoding="utf-8"))
TERMS = TERMS_FILE["terms"]
STYLE = TERMS_FILE.get("style", [])
# catalog -> the rules (a term's `ko`, a style rule's `name`) it still breaks, waiting for its translator
TERMS_PENDING = TERMS_FILE.get("pending") or {}
PENDING_FILE = i18n.pending_path(LANGUAGE)
PENDING = i18n.pending(LANGUAGE)
HANGUL = re.compile(r"[\uac00-\ud7a3]")
# Catalogs of code cell outputs (figure labels, printed lines): extracted from the executed pages, so their
# up-to-date check runs on the built book (tests/test_korean_edition.py), not here.
OUTPUT_DOMAINS = {d for d in CATALOGS if d.split("/", 1)[0] in outputs.DOMAINS}
# Catalogs of messages written by code, with code names, calls and {placeholders} in them: the exercises' code
# cells, the grader's words and the catalogue of mistakes' explanations
CODE_DOMAINS = {d for d in CATALOGS if d.split("/", 1)[0] in (i18n.CODE_DOMAIN, i18n.MISTAKES_DOMAIN,
                                                               i18n.HINTS_DOMAIN) or d == i18n.GRADER_DOMAIN}


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
    extra = sorted(set(CATALOGS) - set(fresh_templates) - {i18n.UI_DOMAIN} - OUTPUT_DOMAINS)
    assert not missing, f"no catalog for {missing}: run `make translations`"
    assert not extra, f"catalogs of pages or chapters that are gone: {extra}; run `make translations`"


@pytest.mark.parametrize("domain", sorted(set(CATALOGS) - {i18n.UI_DOMAIN} - OUTPUT_DOMAINS))
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
        if domain.startswith(i18n.EXERCISE_DOMAIN + "/") and i18n.is_formula_with_words("fixed", entry.msgid):
            problem = i18n.formula_problem(entry.msgid, entry.msgstr)  # a $$ block: only its \text{} words change
            if problem:
                problems.append(f"  {short(entry.msgid)!r}\n    the formula changes: {problem}")
            continue
        english, korean = messages.placeables(entry.msgid), messages.placeables(entry.msgstr)
        if english != korean:
            lost, added = english - korean, korean - english
            problems.append(f"  {short(entry.msgid)!r}\n    lost: {sorted(lost.elements())}"
                            f"\n    added: {sorted(added.elements())}")
    assert not problems, (f"{where(domain)}: translations must keep inline math, roles (their targets), "
                          f"links and code spans of the English:\n" + "\n".join(problems))


# code spans (not the backticks of a role) and math: the style rules read the rest of a translation
_STYLE_SKIP = re.compile(r"\$\$.+?\$\$|(?<!\\)\$(?:\\.|[^$\\])+?\$|(?<![}`])(`+)(?!\{).+?\1", re.S)


# a call in a printed line or figure label (`Lasso(alpha=1)`, `Dropout(0.2)`) is code, not prose; so is a name with
# an underscore or a dot in a message of the exercises' code (`dropout_forward`, `torch.nn.BatchNorm1d`)
CALL = re.compile(r"\b[A-Za-z_][\w.]*\([^()]*\)")
CODE_NAME = re.compile(r"\b\w*_\w*\b|\b\w+(?:\.\w+)+\b", re.ASCII)


def term_problems(msgid, msgstr, output=False):
    """``(rule, problem)`` pairs: what a translation does wrong with the terms and style of terms.yml.

    The rule is a term's ``ko`` or a style rule's ``name`` (what ``pending`` in terms.yml lists). ``output``: the
    message is a printed line or figure label, whose calls are code.
    """
    prose = messages.strip_placeables(CODE_NAME.sub(" ", CALL.sub(" ", msgid)) if output else msgid)
    problems = []
    if msgid.lstrip().startswith("\\"):  # a display formula: nothing in it to translate
        return problems
    for term in TERMS:
        rule = term["ko"]
        korean = msgstr
        for word in term.get("allowed", []):
            korean = korean.replace(word, " ")
        if re.search(term["en"], prose, re.I) and term["ko"] not in msgstr:
            problems.append((rule, f"English {term['en']!r} must be rendered {term['ko']!r}"))
        for wrong in term.get("wrong", []):
            # where the English itself names the other word (the glossary's table of other books' words)
            if wrong in korean and wrong not in msgid:
                problems.append((rule, f"{wrong!r} is not the course's term (use {term['ko']!r})"))
        if term.get("only_where") and term["ko"] in msgstr and not re.search(term["only_where"], msgid, re.I):
            problems.append((rule, f"{term['ko']!r} appears, but the English has no {term['only_where']!r}"))
    text = _STYLE_SKIP.sub(" ", msgstr)
    for style in STYLE:
        match = re.search(style["wrong"], text)
        if match:
            problems.append((style["name"], f"{match.group(0)!r}: write {style['use']}"))
    return problems


@pytest.mark.parametrize("domain", sorted(CATALOGS))
def test_translations_use_the_course_terms(domain):
    """Every rule of terms.yml holds; a catalog listed in its ``pending`` may still break the rules listed there
    (an expected failure that reports how often), and must leave the list once it follows them."""
    found = [(rule, f"  {short(e.msgid)!r}: {p}") for e in translated(domain)
             for rule, p in term_problems(e.msgid, e.msgstr, output=domain in OUTPUT_DOMAINS or domain in CODE_DOMAINS)]
    waiting = set(TERMS_PENDING.get(domain, []))
    unlisted = [text for rule, text in found if rule not in waiting]
    assert not unlisted, f"{where(domain)}:\n" + "\n".join(unlisted)
    counts = Counter(rule for rule, _ in found)
    stale = sorted(waiting - set(counts))
    assert not stale, f"{where(domain)} follows {stale} now: remove them from `pending` in terms.yml"
    if counts:
        pytest.xfail(f"{where(domain)} (pending in terms.yml): " +
                     ", ".join(f"{rule} x{count}" for rule, count in sorted(counts.items())))


def test_terms_pending_names_existing_catalogs_and_rules():
    rules = {t["ko"] for t in TERMS} | {s["name"] for s in STYLE}
    for domain, listed in TERMS_PENDING.items():
        assert domain in CATALOGS, f"terms.yml pending: no catalog {domain}"
        assert set(listed) <= rules, f"terms.yml pending: {domain} lists unknown rules {set(listed) - rules}"


@pytest.mark.parametrize(("msgid", "msgstr", "expected"), [
    ("L2 regularization shrinks weights.", "L2 정규화는 가중치를 줄입니다.", "'정규화' appears"),
    ("L2 regularization shrinks weights.", "L2 정칙화는 가중치를 줄입니다.", None),
    ("Weight decay", "가중치 감소", "is not the course's term"),
    ("Use {term}`Dropout`.", "{term}`드롭아웃 <Dropout>`을 씁니다.", None),
    ("Batch normalization and overfitting", "배치 정규화와 과대적합", "'과대적합' is not"),
    # the glossary's table quotes the words of other books: there they are right
    ("| {term}`Overfitting` | 과적합 | 과대적합 | Hands-On ML |",
     "| {term}`과적합 <Overfitting>` | 과적합 | 과대적합 | 핸즈온 |", None),
    ("Adam keeps the second moment.", "Adam은 2차 모먼트를 유지합니다.", "'모먼트' is not"),
    ("Adam keeps the second moment.", "Adam은 2차 모멘트를 유지합니다.", None),
    ("The model has 3 parameters.", "모델의 파라미터는 3개입니다.", "'파라미터' is not"),
    ("Choose the hyperparameters.", "하이퍼파라미터를 고르세요.", None),
    ("Compare with a central difference.", "중심 차분과 비교합니다.", "'중심 차분' is not"),
    ("The helpers check shapes.", "도우미 함수가 모양을 확인합니다.", "'도우미 함수' is not"),
    ("Source note 001 trains longer.", "학습 노트 001은 더 오래 훈련합니다.", "'학습 노트' is not"),
    ("Run the cell.", "셀을 실행하십시오.", "-세요"),
    ("Run the cell.", "셀을 실행하세요.", None),
    ("The difference is 1 %.", "차이는 1 %입니다.", "'1 %'"),
    ("The difference is {glue:text}`d:.1f` %.", "차이는 {glue:text}`d:.1f` %입니다.", "'` %'"),
    ("The difference is 1 %.", "차이는 1%입니다.", None),
    ("Keras stops after `patience` epochs.", "Keras는 `patience` 에폭 뒤에 멈춥니다.", None),
    ("With patience 5 it stops.", "인내 5로 멈춥니다.", "must be rendered 'patience'"),
    ("With patience 5 it stops.", "patience(인내) 5로 멈춥니다.", None),
    # figure labels and printed lines: a call is code, its words are not the course's terms
    ("Lasso(alpha={0}): slope {1}", "Lasso(alpha={0}): 기울기 {1}", None),
    ("Lasso path on wine", "와인의 Lasso 경로", "must be rendered '라쏘'"),
])
def test_term_check_catches_the_classic_mistakes(msgid, msgstr, expected):
    problems = [problem for _, problem in term_problems(msgid, msgstr, output="{" in msgid)]
    if expected is None:
        assert problems == []
    else:
        assert any(expected in p for p in problems), problems


def _english_sources():
    """Every English source text a reader or student sees: book pages (Markdown cells) and exercise notebooks."""
    for path in sorted((REPO / "book").glob("*.md")):
        yield path, path.read_text(encoding="utf-8")
    for path in [*sorted((REPO / "book").glob("*.ipynb")), *(source_notebook(c) for c in chapter_ids())]:
        nb = nbformat.read(path, as_version=4)
        yield path, "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


def test_other_books_words_appear_only_in_the_glossary():
    """The words other Korean texts use (terms.yml ``wrong``) may appear in the glossary's table only: the
    English sources name them nowhere else, so no other page's translation may use them (see term_problems)."""
    wrong = {w for term in TERMS for w in term.get("wrong", []) if HANGUL.search(w)}
    places = {str(path.relative_to(REPO)): sorted(w for w in wrong if w in text) for path, text in _english_sources()}
    places = {path: words for path, words in places.items() if words}
    assert set(places) <= {"book/glossary.md"}, f"other books' words outside the glossary: {places}"
    glossary = places.get("book/glossary.md", [])
    for word in ("규제", "과대적합", "오버피팅", "가중치 감소", "조기종료"):
        assert word in glossary, f"the glossary's table lacks {word!r}"


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


# --- display formulas, the Korean page source, output catalogs ---------------------------------------------

BOOK_PAGES = sorted(d.split("/", 1)[1] for d in CATALOGS if d.startswith("book/"))


def page_source(page):
    """The Markdown texts of ``book/<page>`` (its cells for a notebook) and the alt texts of its cells."""
    path = REPO / "book" / f"{page}.ipynb"
    if not path.is_file():
        return [(REPO / "book" / f"{page}.md").read_text(encoding="utf-8")], set()
    nb = nbformat.read(path, as_version=4)
    alts = {text for cell in nb.cells for text in
            (((cell.metadata.get("mystnb") or {}).get("image") or {}).get("alt"),
             ((cell.metadata.get("mystnb") or {}).get("figure") or {}).get("caption")) if text}
    return [c.source for c in nb.cells if c.cell_type == "markdown"], alts


def page_units(page):
    texts, _ = page_source(page)
    return [unit for text in texts for unit in markdown_i18n.units(text) if unit[1]]


@pytest.mark.parametrize("page", BOOK_PAGES)
def test_display_formula_translations_change_only_their_text_words(page):
    """A display formula's entry may translate the words of its \\text{} groups, nothing else (the build keeps
    the English formula otherwise, _ext/editions/display_math.py)."""
    formulas = {msgid for kind, msgid in page_units(page) if kind == "math"}
    problems = [f"  {short(e.msgid)!r}: {display_math.translation_problem(e.msgid, e.msgstr)}"
                for e in translated(f"book/{page}") if e.msgid in formulas and e.msgstr != e.msgid
                and display_math.translation_problem(e.msgid, e.msgstr)]
    assert not problems, f"{where('book/' + page)}: translated formulas change the math:\n" + "\n".join(problems)


@pytest.mark.parametrize(("english", "translated", "problem"), [
    (r"\text{Lasso:}&\quad \alpha\lVert w\rVert_1", r"\text{라쏘:}&\quad \alpha\lVert w\rVert_1", None),
    (r"\text{gradient descent, } t \text{ steps of size } \eta:&\quad 1",
     r"\text{경사 하강법, 크기 } \eta \text{인 스텝 } t \text{번}:&\quad 1", None),
    (r"a &= b - c \\ d &= e", r"a &= c - b \\ d &= e", "row 1, column 2"),
    (r"a &= b \\ d &= e", r"a &= b", "rows and columns differ"),
    (r"w \leftarrow w \qquad \text{then}", r"w \leftarrow w \qquad \text{그다음}", None),
    (r"w \leftarrow w", "::", "changed"),
])
def test_display_formula_rule(english, translated, problem):
    found = display_math.translation_problem(english, translated)
    assert (found is None) if problem is None else (problem in (found or "")), found


@pytest.mark.parametrize("page", BOOK_PAGES)
def test_markdown_cutting_finds_the_messages_sphinx_extracts(fresh_templates, page):
    """The Korean page source (the download button) replaces each message Sphinx extracts from the page: the
    cutting of _ext/editions/markdown_i18n.py finds exactly those (alt texts of the cells' metadata aside)."""
    _, alts = page_source(page)
    ours = {msgid for _, msgid in page_units(page)}
    sphinx = fresh_templates[f"book/{page}"] - alts
    assert not sphinx - ours, f"book/{page}: messages the Korean source would keep in English: " \
        f"{[short(m) for m in sorted(sphinx - ours)][:8]}"
    assert not ours - sphinx, f"book/{page}: cut messages Sphinx does not extract: " \
        f"{[short(m) for m in sorted(ours - sphinx)][:8]}"


@pytest.mark.parametrize("fence", ["```", "````", ":::"])
@pytest.mark.parametrize("closed", [True, False])
def test_markdown_cutting_reads_a_directive_to_its_end(fence, closed):
    """A fenced admonition's last line is body when the fence is left open (MyST runs it to the end of the cell)
    and closing only when it closes the fence: the last list item keeps its continuation line either way."""
    text = (f"{fence}{{admonition}} Title\n:class: warning\n\nIntro.\n\n- **First.** One line.\n"
            f"- **Last.** A claim\n  continued on a second line.\n" + (f"{fence}\n" if closed else ""))
    expected = [("text", "Title"), ("text", "Intro."), ("text", "**First.** One line."),
                ("text", "**Last.** A claim continued on a second line.")]
    assert [u for u in markdown_i18n.units(text) if u[1]] == expected
    fake = markdown_i18n.translate_markdown(text, lambda kind, m: "번역: " + m)
    assert [u for u in markdown_i18n.units(fake) if u[1]] == [(kind, "번역: " + m) for kind, m in expected]
    assert fake.endswith(f"\n{fence}\n" if closed else "continued on a second line.\n")


@pytest.mark.parametrize("page", BOOK_PAGES)
def test_markdown_translation_replaces_each_message_and_keeps_the_structure(page):
    """With every message translated, the Korean Markdown parses into the same messages, each translated, in the
    same order (list markers, tables, fences, formulas and indentation kept)."""
    texts, _ = page_source(page)
    for text in texts:
        units = [u for u in markdown_i18n.units(text) if u[1]]
        fake = markdown_i18n.translate_markdown(text, lambda kind, m: None if kind == "math" else "번역: " + m)
        again = [u for u in markdown_i18n.units(fake) if u[1]]
        expected = [(kind, m if kind == "math" else "번역: " + m) for kind, m in units]
        assert again == expected, f"book/{page}: {short(text, 60)!r}"
        blank = re.compile(r"\n[ \t]*\n")
        assert len(blank.findall(fake)) == len(blank.findall(text)), f"book/{page}: blank lines lost or added"


@pytest.mark.parametrize("domain", sorted(OUTPUT_DOMAINS))
def test_output_translations_keep_their_numbers(domain):
    """A printed line or figure label keeps its numbers as placeholders {0}, {1}, ... (the build fills them)."""
    problems = [f"  {short(e.msgid)!r}: placeholders {outputs.placeholders(e.msgid)} -> "
                f"{outputs.placeholders(e.msgstr)}" for e in translated(domain)
                if outputs.placeholders(e.msgid) != outputs.placeholders(e.msgstr)]
    assert not problems, f"{where(domain)}:\n" + "\n".join(problems)


# --- exercises: the Korean release --------------------------------------------------------------

def without_docstrings(source):
    """``source`` with the contents of every docstring emptied (code compared, prose not)."""
    spans = messages.docstring_literals(source)
    assert spans is not None, "not valid Python"
    for start, end, _ in reversed(spans):
        source = source[:start] + source[end:]
    return source


def code_tokens(source):
    """The tokens of ``source`` without comments and line breaks inside brackets, each run of concatenated
    string literals one ``("STRING", (texts...))`` item: the code, prose literals as units."""
    items = []
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type in (tokenize.COMMENT, tokenize.NL):
            continue
        if tok.type == tokenize.STRING:
            if items and items[-1][0] == "STRING":
                items[-1] = ("STRING", items[-1][1] + (tok.string,))
            else:
                items.append(("STRING", (tok.string,)))
        else:
            items.append((tokenize.tok_name[tok.type], tok.string))
    return items


def literal_message(texts):
    """The message of a run of string literals, as :mod:`coursebook.code_messages` reads it."""
    found = code_messages.literal_message(texts)
    return found and found[0]


def code_differences(english, korean, catalog):
    """Where the Korean cell's code departs from the English one other than by a catalog's translation of a
    string literal (docstrings are compared by without_docstrings)."""
    en, ko = code_tokens(english), code_tokens(korean)
    if len(en) != len(ko):
        return [f"{len(en)} tokens in English, {len(ko)} in Korean"]
    problems = []
    for a, b in zip(en, ko, strict=True):
        if a == b:
            continue
        if a[0] == b[0] == "STRING":
            if a[1][0].lstrip("rRuUbBfF").startswith(('"""', "'''")):
                continue  # a docstring
            message = literal_message(a[1])
            if message is not None and catalog.get(message) == literal_message(b[1]):
                continue
        problems.append(f"{a!r} became {b!r}")
    return problems


@pytest.mark.parametrize("chapter", chapter_ids())
def test_korean_release_differs_from_the_english_only_in_prose(chapter):
    """Markdown, answer-cell docstrings, and in every code cell the prose string literals and comments: token for
    token, the Korean release's code is the English one, each changed literal the catalog's translation."""
    english_path = i18n.release_path(COURSE_ROOT, chapter)
    korean_path = i18n.release_path(COURSE_ROOT, chapter, LANGUAGE)
    assert korean_path.is_file(), f"{korean_path} is missing: run `python -m autograder release` (make book does)"
    english, korean = (nbformat.read(p, as_version=4) for p in (english_path, korean_path))
    assert len(english.cells) == len(korean.cells)
    assert korean.metadata.get("language") == LANGUAGE
    catalog = i18n.code_catalog(chapter, LANGUAGE)
    for index, (en, ko) in enumerate(zip(english.cells, korean.cells, strict=True)):
        assert (en.cell_type, en.metadata) == (ko.cell_type, ko.metadata), f"cell {index}: type or metadata differ"
        if en.cell_type != "code":
            continue
        problems = code_differences(en.source, ko.source, catalog)
        assert not problems, f"cell {index}: the code differs: {problems[:5]}"
        if i18n.is_answer_cell(en):
            assert ast.dump(ast.parse(without_docstrings(en.source))) == \
                ast.dump(ast.parse(without_docstrings(ko.source))), f"cell {index}: answer cell differs"
    assert find_leaks(nbformat.read(source_notebook(chapter), as_version=4), korean) == []


@pytest.mark.parametrize("chapter", chapter_ids())
def test_code_translation_replaces_each_message_and_keeps_the_code(chapter):
    """With every message of the code cells translated (placeholders kept), each cell still parses, its
    tokens are the English ones but for the translated literals, and the messages found in it again are the
    translations, in the same order: comments, literals cut over several lines and docstrings included."""
    nb = i18n.student_version(nbformat.read(source_notebook(chapter), as_version=4))
    fake = {m: "번역 " + m for m, _ in i18n.code_messages_of(nb)}
    assert fake, f"{chapter}: no prose found in the code cells"
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        answer = i18n.is_answer_cell(cell)
        korean = code_messages.translate_code(cell.source, fake, docstrings=not answer)
        ast.parse(korean)
        assert code_differences(cell.source, korean, fake) == [], f"cell {index}"
        before = [u.message for u in code_messages.code_units(cell.source, docstrings=not answer)]
        after = [u.message for u in code_messages.code_units(korean, docstrings=not answer)]
        assert after == [fake[m] for m in before], f"cell {index}: {[m for m in after if m not in fake.values()][:3]}"


@pytest.mark.parametrize(("source", "messages"), [
    ('assert x, "x must be positive"', ["x must be positive"]),
    ('f(err_msg=f"expected {a:.3f}, got {b!r}: "\n          "the usual mistake")  # why it fails',
     ["expected {a:.3f}, got {b!r}: the usual mistake", "why it fails"]),
    ('d = {"the key": "a value here"}\nif mode == "not prose here": pass', ["a value here"]),
    ('x = "fan_in"\ny = "l2"\n# YOUR CODE HERE\nraise NotImplementedError()', []),
    ('# two lines\n# of one comment\nx = 1\n### BEGIN HIDDEN TESTS', ["two lines\nof one comment"]),
    ('f(f"{what}: " "{literal braces}" " and more")', ["{what}: {{literal braces}} and more"]),
])
def test_code_units_find_prose_not_code(source, messages):
    assert [u.message for u in code_messages.code_units(source)] == messages


# what a translated message of the code keeps: placeholders, escapes, calls, names with _ or ., operators, |x|
# (a one-letter capital "call" is math: P(no draw ...), S(z, t); an English plural "check(s)" and "e.g.", "i.e."
# are prose)
CODE_WORD = re.compile(r"\{[^{}]*\}|\\.|(?![A-Z]\()(?![A-Za-z]+\(s\))[A-Za-z_][\w.]*\([^()]*\)|\b\w+_\w*\b"
                       r"|\b(?!e\.g\b|i\.e\b)[A-Za-z]\w*\.\w+\b"
                       r"|\*\*|[<>=!]=|\|[^|\s]+\|", re.ASCII)  # ASCII: a particle does not glue to a name


@pytest.mark.parametrize("domain", sorted(CODE_DOMAINS))
def test_code_translations_keep_placeholders_escapes_and_code(domain):
    """A translated message of the code keeps its {placeholders}, its escapes and the code it names (calls,
    names with _ or ., powers and comparisons): the Korean release runs the same code and names the same
    things; and its literal still parses once written back."""
    problems = []
    for entry in translated(domain):
        english, korean = Counter(CODE_WORD.findall(entry.msgid)), Counter(CODE_WORD.findall(entry.msgstr))
        if english - korean:
            problems.append(f"  {short(entry.msgid)!r}: lost {sorted((english - korean).elements())}")
    assert not problems, f"{where(domain)}:\n" + "\n".join(problems)


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


# --- the pipeline on a page of its own: alt text, figure labels, printed lines, formulas ------------------------

PIPELINE_CONF = '''
import sys
sys.path.insert(0, {ext!r})
project = "pipeline"
extensions = ["myst_nb", "editions"]
myst_enable_extensions = ["dollarmath", "amsmath"]
nb_execution_mode = "force"
nb_mime_priority_overrides = [["gettext", "image/svg+xml", 10], ["gettext", "text/plain", 30]]
locale_dirs = ["locales/"]
gettext_compact = False
gettext_location = False
exclude_patterns = ["_build", "locales"]
'''


def _pipeline_build(root, builder, language, out):
    done = subprocess.run([str(Path(sys.executable).with_name("sphinx-build")), "-b", builder, "-D",
                           f"language={language}", "-q", "-E", str(root), str(root / "_build" / out)],
                          capture_output=True, text=True, cwd=root)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return root / "_build" / out


def test_a_page_with_a_figure_is_translated_end_to_end(tmp_path):
    """A notebook with a figure whose cell gives an alt text (``mystnb.image.alt``), a printed line and a display
    formula with words: the gettext build extracts the alt text into the page's catalog and the label and line into
    figures/ and printed/; the Korean build shows all of them translated, numbers kept, formula intact."""
    for name in ("matplotlibrc", "course_figures.py"):  # the book's figure setup, as the kernels of book/ see it
        (tmp_path / name).write_text((REPO / "book" / name).read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "conf.py").write_text(PIPELINE_CONF.format(ext=str(REPO / "_ext")), encoding="utf-8")
    figure = nbformat.v4.new_code_cell("import matplotlib.pyplot as plt\nfig, ax = plt.subplots(figsize=(3, 2))\n"
                                       "ax.plot([0, 1], [0, 0.5])\nax.set_title('training loss after 20 epochs')\n"
                                       "print('final loss 0.25 after 20 epochs')\nplt.show()")
    figure.metadata["mystnb"] = {"image": {"alt": "A line that rises to 0.5."}}
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# Losses\n\n$$\n\\text{loss:}\\quad L(w)\n$$"), figure],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    nbformat.write(nb, tmp_path / "page.ipynb")
    (tmp_path / "index.md").write_text("# Index\n\n```{toctree}\npage\n```\n", encoding="utf-8")

    pot = _pipeline_build(tmp_path, "gettext", "en", "gettext")
    page = {e.msgid for e in polib.pofile(str(pot / "page.pot"))}
    assert "A line that rises to 0.5." in page and "Losses" in page
    assert {e.msgid for e in polib.pofile(str(pot / "figures" / "page.pot"))} == {"training loss after {0} epochs"}
    assert {e.msgid for e in polib.pofile(str(pot / "printed" / "page.pot"))} == {"final loss {0} after {1} epochs"}

    def catalog(domain, entries):
        path = tmp_path / "locales" / "ko" / "LC_MESSAGES" / f"{domain}.po"
        path.parent.mkdir(parents=True, exist_ok=True)
        po = polib.POFile()
        po.metadata = {"Content-Type": "text/plain; charset=UTF-8"}
        for msgid, msgstr in entries.items():
            po.append(polib.POEntry(msgid=msgid, msgstr=msgstr))
        po.save(str(path))

    catalog("page", {"Losses": "손실", "A line that rises to 0.5.": "0.5까지 오르는 직선.",
                     "\n\\text{loss:}\\quad L(w)\n": "\n\\text{손실:}\\quad L(w)\n"})
    catalog("figures/page", {"training loss after {0} epochs": "{0}에폭 뒤의 훈련 손실"})
    catalog("printed/page", {"final loss {0} after {1} epochs": "{1}에폭 뒤 최종 손실 {0}"})
    html = (_pipeline_build(tmp_path, "html", "ko", "ko") / "page.html").read_text(encoding="utf-8")
    assert 'alt="0.5까지 오르는 직선."' in html
    assert "20에폭 뒤 최종 손실 0.25" in html
    assert "\\text{손실:}\\quad L(w)" in html and "::" not in html.split("\\text{손실:}")[0][-20:]
    svg = re.search(r'src="(_images/[^"]+\.svg)"', html)
    assert svg, "the figure is not an SVG"
    labels = (tmp_path / "_build" / "ko" / svg.group(1)).read_text(encoding="utf-8")
    assert "20에폭 뒤의 훈련 손실" in labels and "NanumGothic" in labels

    # without executing, the alt text still reaches the page's catalog (from the cell's metadata)
    (tmp_path / "conf.py").write_text(PIPELINE_CONF.format(ext=str(REPO / "_ext")).replace('"force"', '"off"'),
                                      encoding="utf-8")
    pot = _pipeline_build(tmp_path, "gettext", "en", "gettext-off")
    assert "A line that rises to 0.5." in {e.msgid for e in polib.pofile(str(pot / "page.pot"))}
    assert not (pot / "figures").exists()


@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=80))
def test_output_templates_give_back_the_line(line):
    """A printed line or label is its message filled with its numbers, whatever it holds (braces, $, signs)."""
    message, numbers = outputs.template(line)
    assert outputs.fill(message, numbers) == line
    assert outputs.placeholders(message) == sorted(str(i) for i in range(len(numbers)))


PARTICLES = ["", "은", "는", "이", "가", "을", "를", "의", "에", "에서", "에서는", "으로", "로", "와", "과", "도", "만",
             "이다", "입니다", "하는", "된", "들을", "으로는", "이며", "적인"]


# words made of syllables that are particles themselves too (이, 가, 는, 들, 로, 하, ...), where stripping errs
@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet="정칙화과적합결가중치노름배드롭아웃L2이가는들로적인된하에서", min_size=1, max_size=6),
       st.sampled_from(PARTICLES), st.sampled_from(PARTICLES))
def test_a_word_with_one_particle_is_found_with_another(word, asked, written):
    """The Korean search (search_ko): what a query with one particle searches for is stored for the same word
    written with any other (and without one), whatever the word."""
    from editions import search_ko

    assume(not search_ko._strippable(word))  # a word, not a word with a particle already
    assert search_ko.query_form(word + asked) in search_ko.stored_forms(word + written)


@pytest.mark.parametrize(("line", "prose"), [
    ("Ridge  n c / (n v + {0})        = {1}", True),  # a method's name, written in Hangul in Korean
    ("L2 (Adam {0})              | {1} ({2}-{3})", True),
    ("running mean, momentum {0}", True),
    ("Lasso(alpha={0}): {1}", False),  # a call is code
    ("SGD {0} | AdamW {1}", False),  # acronyms and identifiers are names, not prose
    ("x_train.shape = ({0}, {1})", False),
])
def test_printed_lines_with_prose_or_a_name_are_messages(line, prose):
    assert outputs.is_prose(line) is prose


@pytest.mark.parametrize("chapter", chapter_ids())
def test_every_catalogued_mistake_has_a_korean_explanation(chapter):
    """A Korean student's diagnosis is Korean: every explanation of the chapter's catalogue of mistakes (and the book
    section it names) is translated, whatever pending.txt says."""
    from importlib import import_module

    from solutions.chapters import chapter as declared

    catalog = i18n.load_catalog(i18n.catalog_dir(LANGUAGE) / i18n.MISTAKES_DOMAIN / f"{chapter}.po")
    mistakes = import_module(declared(chapter).mistakes).MISTAKES
    missing = [f"  {m.id}: {short(text)!r}" for m in mistakes for text in (m.explanation, m.section[0])
               if not catalog.get(text) or not HANGUL.search(catalog[text])]
    assert not missing, f"{where(i18n.MISTAKES_DOMAIN + '/' + chapter)}: untranslated:\n" + "\n".join(missing)
