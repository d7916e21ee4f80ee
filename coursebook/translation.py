"""Translations: the gettext catalogs of the Korean edition and the Korean exercise release.

One English source, catalogs in ``locales/<lang>/LC_MESSAGES/``:

- ``book/<page>.po``: the book's pages, extracted by Sphinx's gettext builder (one catalog per page);
  Sphinx applies them when it builds with ``-D language=ko``.
- ``sphinx.po``: interface strings the themes and myst-nb leave in English, written by hand.
- ``exercises/<chapter>.po``: the exercise notebooks, extracted here: every Markdown cell cut into
  blocks (paragraphs, lists, tables, headings; code fences and ``$$`` math stay as they are) and the
  docstrings of the answer cells cut into paragraphs. ``python -m autograder release`` applies them
  to write ``exercises/release-ko/``. Code, tests and metadata are never translated.

Commands (``make translations`` runs the first two)::

    python -m coursebook.translation conf DIR            # DIR/conf.py from _config.yml, for sphinx-build
    python -m coursebook.translation update --pot-dir D  # exercise templates into D, then update locales/
    python -m coursebook.translation stats               # translated / fuzzy / untranslated per catalog

A message that is untranslated or fuzzy falls back to English, as gettext does.
"""

import argparse
import ast
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import nbformat
import polib

from coursebook.paths import REPO, chapter_ids, source_notebook

LOCALES = REPO / "locales"
LANGUAGES = ("ko",)
BOOK_DOMAIN = "book"
EXERCISE_DOMAIN = "exercises"
# Interface strings (theme, myst-nb prompts, the book's own): Sphinx's "sphinx" catalog, kept by hand
UI_DOMAIN = "sphinx"


def catalog_dir(language):
    return LOCALES / language / "LC_MESSAGES"


# --- Markdown blocks and docstring paragraphs -------------------------------------------------

FENCE = re.compile(r"^\s*(```|~~~)")
MATH_FENCE = re.compile(r"^\s*\$\$")


def markdown_parts(text):
    """Cut Markdown into ``(kind, text)`` parts whose texts join back to ``text`` exactly.

    kind is ``"block"`` (translatable: a paragraph, list, table or heading, ending before a blank
    line), ``"fixed"`` (a code fence or ``$$`` math block, kept as is) or ``"gap"`` (blank lines).
    """
    parts, lines, i = [], text.splitlines(keepends=True), 0
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            j = i
            while j < len(lines) and not lines[j].strip():
                j += 1
            parts.append(("gap", "".join(lines[i:j])))
            i = j
        elif FENCE.match(line) or MATH_FENCE.match(line):
            fence = FENCE.match(line)
            closing = (re.compile(r"^\s*" + re.escape(fence.group(1))) if fence else MATH_FENCE)
            j = i + 1
            if not (MATH_FENCE.match(line) and line.strip().endswith("$$") and len(line.strip()) > 2):
                # A $$ block may close on its own line or at the end of its last formula line.
                while j < len(lines) and not (closing.match(lines[j])
                                              or (not fence and lines[j].rstrip().endswith("$$"))):
                    j += 1
                j = min(j + 1, len(lines))
            parts.append(("fixed", "".join(lines[i:j])))
            i = j
        else:
            j = i
            while (j < len(lines) and lines[j].strip() and not (j > i and (FENCE.match(lines[j])
                                                                            or MATH_FENCE.match(lines[j])))):
                j += 1
            parts.append(("block", "".join(lines[i:j])))
            i = j
    return parts


def split_trailing_newline(block):
    """A block's message is its text without the final newline (kept outside the translation)."""
    return (block[:-1], "\n") if block.endswith("\n") else (block, "")


def docstring_literals(source):
    """``(start, end, indent)`` of every docstring: character offsets of its contents (inside the quotes)
    in ``source`` and the indentation of the line it starts on.

    Module, class, function and method docstrings; None when ``source`` is not valid Python.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    offsets = _line_offsets(source)
    spans = []
    for node in ast.walk(tree):
        if not isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        body = node.body
        if not (body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)):
            continue
        literal = body[0].value
        start = offsets[literal.lineno - 1] + _char_col(source, offsets, literal.lineno, literal.col_offset)
        end = offsets[literal.end_lineno - 1] + _char_col(source, offsets, literal.end_lineno,
                                                           literal.end_col_offset)
        text = source[start:end]
        prefix = re.match(r"[rRuUbBfF]*", text).end()
        quote = '"""' if text[prefix:].startswith('"""') else "'''" if text[prefix:].startswith("'''") else \
            text[prefix]
        line = source[offsets[literal.lineno - 1]:]
        spans.append((start + prefix + len(quote), end - len(quote), re.match(r"[ \t]*", line).group(0)))
    return sorted(spans)


def _line_offsets(source):
    offsets, total = [], 0
    for line in source.splitlines(keepends=True):
        offsets.append(total)
        total += len(line)
    offsets.append(total)
    return offsets


def _char_col(source, offsets, lineno, byte_col):
    # ast columns count UTF-8 bytes; the source is a str
    line = source[offsets[lineno - 1]:offsets[lineno] if lineno < len(offsets) else None]
    return len(line.encode("utf-8")[:byte_col].decode("utf-8", errors="ignore"))


def docstring_parts(contents, indent=""):
    """Cut a docstring's contents into parts joining back to ``contents``.

    ``("para", message, indent)`` is one paragraph: its first line as written (its indentation is in
    the part before), its later lines without their common indentation (``indent`` for a one-line
    paragraph), which :func:`_reindent` gives back to a translation. ``("gap", text)`` is the
    whitespace in between.
    """
    parts = []
    for index, piece in enumerate(re.split(r"(\n[ \t]*\n)", contents)):
        if index % 2:
            parts.append(("gap", piece))
            continue
        body = piece.strip()
        if not body:
            parts.append(("gap", piece))
            continue
        lead, trail = piece[:piece.index(body)], piece[piece.index(body) + len(body):]
        first, _, rest = body.partition("\n")
        common = _common_indent(rest) if rest else indent
        lines = [line[len(common):] if line.startswith(common) else line for line in rest.split("\n")] if rest else []
        parts += [("gap", lead), ("para", "\n".join([first] + lines), common), ("gap", trail)]
    return [part for part in parts if part[0] == "para" or part[1]]


def _common_indent(text):
    indents = [re.match(r"[ \t]*", line).group(0) for line in text.split("\n") if line.strip()]
    if not indents:
        return ""
    common = indents[0]
    for indent in indents[1:]:
        while not indent.startswith(common):
            common = common[:-1]
    return common


def _reindent(message, indent):
    first, _, rest = message.partition("\n")
    if not rest:
        return first
    return first + "\n" + "\n".join(indent + line if line.strip() else line for line in rest.split("\n"))


# --- Placeables: what a translation must keep --------------------------------------------------

ROLE = re.compile(r"\{([\w:.-]+)\}(`+)(.+?)\2", re.S)
CODE = re.compile(r"(`+)(.+?)\1", re.S)
DISPLAY_MATH = re.compile(r"\$\$(.+?)\$\$", re.S)
# MyST's dollarmath (digits and spaces allowed): any unescaped $...$ pair, even next to Hangul
INLINE_MATH = re.compile(r"(?<!\\)\$((?:\\.|[^$\\])+?)\$", re.S)
LINK = re.compile(r"\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
AUTOLINK = re.compile(r"<((?:https?|mailto|ftp):[^>\s]+)>")
TARGET = re.compile(r"^\(([^)\s]+)\)=\s*$", re.M)
EXPLICIT_TARGET = re.compile(r"^(.*?)\s*<([^<>]+)>\s*$", re.S)


def placeables(text):
    """The things a translation must keep identical, as a Counter of ``(kind, value)``.

    Roles count by name and target (``{term}`정규화 <Normalization>``` keeps the target of
    ``{term}`Normalization```: the shown text may be translated), code spans, inline and display
    math, link targets, autolinks and MyST targets ``(label)=``.
    """
    found = Counter()

    def take(pattern, kind, value_of):
        nonlocal text

        def record(match):
            found[(kind, value_of(match))] += 1
            return " "
        text = pattern.sub(record, text)

    take(ROLE, "role", lambda m: f"{{{m.group(1)}}}{_role_target(m.group(3))}")
    take(CODE, "code", lambda m: m.group(2).strip())
    take(DISPLAY_MATH, "math", lambda m: m.group(1).strip())
    take(INLINE_MATH, "math", lambda m: m.group(1).strip())
    take(TARGET, "target", lambda m: m.group(1))
    take(LINK, "link", lambda m: m.group(1))
    take(AUTOLINK, "link", lambda m: m.group(1))
    return found


def _role_target(content):
    match = EXPLICIT_TARGET.match(content)
    return (match.group(2) if match else content).strip()


def _role_shown(match):
    """The text a reader sees for a role: its explicit title, a term as written, else nothing."""
    name, content = match.group(1), match.group(3)
    explicit = EXPLICIT_TARGET.match(content)
    if explicit and name != "cite":
        return f" {explicit.group(1)} "
    return f" {content} " if name == "term" else " "


def strip_placeables(text):
    """``text`` without code, math, links and role targets: the prose that the term checks read."""
    text = ROLE.sub(_role_shown, text)
    for pattern in (CODE, DISPLAY_MATH, INLINE_MATH, LINK, AUTOLINK):
        text = pattern.sub(" ", text)
    return text


def is_translatable(message):
    """A message with letters left once code, math and links are taken out."""
    return bool(re.search(r"[^\W\d_]", strip_placeables(message)))


# --- Exercise catalogs --------------------------------------------------------------------------

def _nbgrader(cell):
    return cell.metadata.get("nbgrader", {})


def is_answer_cell(cell):
    return cell.cell_type == "code" and _nbgrader(cell).get("solution")


def exercise_messages(nb):
    """The translatable messages of an exercise notebook, in order, without repeats."""
    messages = []
    for cell in nb.cells:
        if cell.cell_type == "markdown" and not _nbgrader(cell).get("solution"):
            for kind, text in markdown_parts(cell.source):
                message = split_trailing_newline(text)[0]
                if kind == "block" and is_translatable(message):
                    messages.append(message)
        elif is_answer_cell(cell):
            for start, end, indent in docstring_literals(cell.source) or []:
                messages += [part[1] for part in docstring_parts(cell.source[start:end], indent)
                             if part[0] == "para" and is_translatable(part[1])]
    return list(dict.fromkeys(messages))


def exercise_template(chapter):
    """A polib POT of one chapter's exercise notebook (the English source notebook)."""
    nb = nbformat.read(source_notebook(chapter), as_version=4)
    pot = polib.POFile(wrapwidth=76)
    pot.metadata = {"Project-Id-Version": f"exercises {chapter}", "MIME-Version": "1.0",
                    "Content-Type": "text/plain; charset=UTF-8", "Content-Transfer-Encoding": "8bit"}
    for message in exercise_messages(nb):
        pot.append(polib.POEntry(msgid=message, msgstr=""))
    return pot


def write_exercise_templates(pot_dir, chapters=None):
    out = Path(pot_dir) / EXERCISE_DOMAIN
    out.mkdir(parents=True, exist_ok=True)
    for chapter in chapters or chapter_ids():
        exercise_template(chapter).save(str(out / f"{chapter}.pot"))


def load_catalog(path):
    """msgid -> msgstr of the translated, non-fuzzy entries of a .po file (empty when missing)."""
    if not Path(path).is_file():
        return {}
    return {e.msgid: e.msgstr for e in polib.pofile(str(path)) if e.translated() and not e.obsolete}


def translate_markdown(text, catalog):
    out = []
    for kind, part in markdown_parts(text):
        if kind == "block":
            message, newline = split_trailing_newline(part)
            part = catalog.get(message, message) + newline
        out.append(part)
    return "".join(out)


def translate_docstrings(source, catalog):
    """``source`` with every docstring paragraph replaced by its translation; code unchanged."""
    spans = docstring_literals(source)
    if not spans:
        return source
    pieces, last = [], 0
    for start, end, indent in spans:
        pieces.append(source[last:start])
        for part in docstring_parts(source[start:end], indent):
            if part[0] == "para":
                pieces.append(_reindent(catalog.get(part[1], part[1]), part[2]))
            else:
                pieces.append(part[1])
        last = end
    pieces.append(source[last:])
    return "".join(pieces)


def translate_notebook(nb, catalog, language):
    """A copy of ``nb`` with Markdown cells and answer-cell docstrings translated."""
    nb = nbformat.from_dict(nb)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = translate_markdown(cell.source, catalog)
        elif is_answer_cell(cell):
            cell.source = translate_docstrings(cell.source, catalog)
    nb.metadata["language"] = language
    return nb


def release_path(course_root, chapter, language=None):
    folder = "release" if language in (None, "en") else f"release-{language}"
    return Path(course_root) / folder / chapter / f"{chapter}.ipynb"


def write_translated_release(chapter, course_root, language):
    """Write ``<course_root>/release-<language>/<chapter>/`` from the English release and the catalog.

    Other files of the release folder (data) are copied unchanged.
    """
    english = release_path(course_root, chapter).parent
    target = release_path(course_root, chapter, language).parent
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(english, target)
    catalog = load_catalog(catalog_dir(language) / EXERCISE_DOMAIN / f"{chapter}.po")
    nb = nbformat.read(release_path(course_root, chapter), as_version=4)
    nbformat.write(translate_notebook(nb, catalog, language), release_path(course_root, chapter, language))
    return release_path(course_root, chapter, language)


# --- Book extraction, catalog update, statistics -----------------------------------------------

def write_sphinx_conf(conf_dir):
    """``conf_dir/conf.py`` for sphinx-build, generated by ``jupyter-book config sphinx`` from _config.yml.

    ``_ext`` (``local_extensions`` in _config.yml) goes on sys.path, which the generated file lacks.
    """
    conf_dir = Path(conf_dir)
    conf_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "_config.yml", conf_dir / "_config.yml")
    jb = Path(sys.executable).with_name("jupyter-book")
    subprocess.run([str(jb), "config", "sphinx", "--config", str(conf_dir / "_config.yml"),
                    "--toc", str(REPO / "_toc.yml"), str(REPO)], check=True, capture_output=True, cwd=REPO)
    conf = conf_dir / "conf.py"
    conf.write_text(conf.read_text(encoding="utf-8")
                    + f"import sys; sys.path.insert(0, {str(REPO / '_ext')!r})  # local_extensions\n",
                    encoding="utf-8")
    return conf


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


def update(pot_dir, languages=LANGUAGES):
    """Bring ``locales/`` in line with the templates in ``pot_dir`` (already holding the book's).

    New messages come in untranslated, changed ones fuzzy (with the old translation to start from),
    removed ones and catalogs of removed pages are deleted. A new catalog is added to
    ``pending.txt`` (waiting for its translator), a deleted one leaves it.
    """
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


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m autograder.i18n", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    conf = sub.add_parser("conf", help="write DIR/conf.py for sphinx-build from _config.yml")
    conf.add_argument("dir", type=Path)
    upd = sub.add_parser("update", help="exercise templates + sphinx-intl update of locales/")
    upd.add_argument("--pot-dir", type=Path, required=True, help="sphinx-build -b gettext output")
    sub.add_parser("stats", help="translated / fuzzy / untranslated messages per catalog")
    args = parser.parse_args(argv)
    if args.command == "conf":
        print(write_sphinx_conf(args.dir))
        return 0
    if args.command == "update":
        update(args.pot_dir)
    for language in LANGUAGES:
        for domain, (done, fuzzy, todo) in stats(language).items():
            print(f"{language}/{domain}: {done} translated, {fuzzy} fuzzy, {todo} untranslated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
