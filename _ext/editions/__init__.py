"""Sphinx extension for the course book: two editions from one source, and theme fixes.

- Language switch: every page gets a link (article header) to the same page in the other edition,
  ``_build/html/<lang>/<page>.html``; ``language`` (``-D language=ko``) says which edition is built.
- The Korean edition links the Korean exercise release (``exercises/release-ko/``) wherever the English
  source links ``exercises/release/``, so translated messages keep the English link target.
- Translated configuration strings (book title, search box, code cell prompts) from the catalogs.
- Theme fixes: the phone-width menu button and the doubled ``const THEBE_JS_URL`` script (static JS and a
  de-duplication of page scripts); long code lines wrap and display math scrolls instead of being cut
  off, with a shadow where a formula or table continues; the back-to-top button stays small in a corner at
  phone width; Hangul gets a Korean font (CSS). The language switch keeps the reader's section.
- Exercise downloads work from ``file://`` too: a browser ignores the ``download`` attribute of a link
  to another local file and shows the notebook's JSON, so each ``.ipynb`` download link carries the file
  itself (a ``data:`` URL with the file name in ``download``), which every browser saves.
- Search excerpts without fetching pages: Sphinx's search fetches each result page to show an excerpt,
  which fails over ``file://`` (no excerpts, console errors) and picks up interface text (the language
  switch, "Contents") and raw math source. ``search-texts.js`` holds each page's text, sections by id,
  math as its TeX without delimiters, and answers those requests on the search page.

A translated edition (modules of this package):

- ``display_math``: display formulas are translated as TeX, only the words of their ``\\text{}`` groups (Sphinx's
  own i18n turned each translated formula into ``\\[::\\]``);
- ``outputs`` (with ``math_labels``): figure labels and printed lines of the code cells in the edition's language,
  from the catalogs ``figures/<page>.po`` and ``printed/<page>.po``, without running a notebook again; output
  figures without an alt text get their labels as one;
- ``source_downloads`` (with ``markdown_i18n``): the page's download button gives the translated page;
- ``search_ko``: a Korean search language that finds a word with its particles, and the course's term from the
  words other books use;
- ``interface``: the theme's and its scripts' English strings, from the interface catalog ``sphinx.po``.

Loaded through ``sphinx: local_extensions`` in ``_config.yml``.
"""

import base64
import html
import json
import re
import tomllib
from pathlib import Path

from babel.messages.pofile import read_po
from sphinx import addnodes
from sphinx.transforms import SphinxTransform

from . import interface, outputs, source_downloads
from .display_math import DisplayMathTranslation
from .search_ko import SearchKorean

HERE = Path(__file__).resolve().parent
# The editions' one declaration (locales/editions.toml, the source edition first).
with open(HERE.parents[1] / "locales" / "editions.toml", "rb") as _declaration:
    _DECLARED = tomllib.load(_declaration)["edition"]
# Edition code -> label shown in its own language (the switch names the target edition).
EDITIONS = {edition["code"]: edition["name"] for edition in _DECLARED}
SOURCE_EDITION = _DECLARED[0]["code"]
RELEASE = "exercises/release/"
RELEASE_BY_EDITION = {code: RELEASE if code == SOURCE_EDITION else f"exercises/release-{code}/" for code in EDITIONS}


def edition_of(config):
    return (config.language or SOURCE_EDITION).split("_")[0]


def register_paths(app, config):
    # Absolute paths: the build's conf.py lives in _build/conf/, away from this folder and the book.
    # first: the themes put their component folders on templates_path too, and author.html overrides one
    config.templates_path.insert(0, str(HERE / "templates"))
    config.html_static_path.append(str(HERE / "static"))
    # _config.yml's paths are relative to the book root (the JB CLI's confdir); sphinxcontrib-bibtex
    # resolves them against the confdir.
    if getattr(config, "bibtex_bibfiles", None):
        config.bibtex_bibfiles = [str(Path(app.srcdir, bib)) for bib in config.bibtex_bibfiles]


def catalog_string(app, config, msgid, domains):
    """The translation of ``msgid`` in the first of the catalogs ``domains`` (globs) that has it."""
    for locale_dir in config.locale_dirs:
        folder = Path(app.srcdir, locale_dir, config.language, "LC_MESSAGES")
        for domain in domains:
            for po in sorted(folder.glob(f"{domain}.po")):
                with po.open("rb") as handle:
                    message = read_po(handle).get(msgid)
                if message and message.string and not message.fuzzy:
                    return message.string
    return None


def translate_config(app, config):
    """Configuration strings that a translated edition shows, translated from the catalogs.

    Sphinx translates page text and template strings, not configuration: the book title (the root
    page's heading, so its translation is in the page catalogs), the search box text and myst-nb's
    code cell prompts (in the interface catalog ``sphinx.po``).
    """
    if edition_of(config) == SOURCE_EDITION:
        return
    if config.html_title:
        config.html_title = catalog_string(app, config, config.html_title, ["book/*"]) or config.html_title
    options = config.html_theme_options
    if options.get("search_bar_text"):
        options["search_bar_text"] = catalog_string(app, config, options["search_bar_text"], ["sphinx"]) \
            or options["search_bar_text"]
    for name in ("nb_code_prompt_show", "nb_code_prompt_hide"):
        english = getattr(config, name, None)
        if english:
            setattr(config, name, catalog_string(app, config, english, ["sphinx"]) or english)


def register_korean_search(app, config):
    """The Korean search language, with the variants of the course's terms from ``locales/ko/terms.yml``."""
    for locale_dir in config.locale_dirs:
        terms = Path(app.srcdir, locale_dir, SearchKorean.lang, "terms.yml")
        if terms.is_file():
            app.add_search_language(SearchKorean.configured(terms))
            return
    app.add_search_language(SearchKorean.configured(None))


def other_edition(edition):
    return next(code for code in EDITIONS if code != edition)


def add_language_switch(app, pagename, templatename, context, doctree):
    """Put the switch template into the article header and give it the other edition's URL."""
    if app.builder.format != "html":
        return
    edition = edition_of(app.config)
    other = other_edition(edition)
    # Pages live in _build/html/<edition>/<pagename>.html: up to _build/html/, then down into the other.
    up = "../" * (pagename.count("/") + 1)
    context["edition"] = edition
    context["edition_other"] = other
    context["edition_other_label"] = EDITIONS[other]
    context["edition_other_url"] = f"{up}{other}/{pagename}.html"
    items = context.get("theme_article_header_end") or []
    if isinstance(items, str):  # theme.conf gives a comma-separated string until pydata converts it
        items = [item.strip() for item in items.split(",") if item.strip()]
    if "edition-switch.html" not in items:
        context["theme_article_header_end"] = [*items, "edition-switch.html"]
    context["metatags"] = context.get("metatags", "") + (
        f'\n<link rel="alternate" hreflang="{other}" href="{up}{other}/{pagename}.html" />'
        # an empty icon: without one the browser requests /favicon.ico and logs a 404
        '\n<link rel="icon" href="data:," />')


def drop_duplicate_scripts(app, pagename, templatename, context, doctree):
    """Keep the first of identical scripts.

    sphinx-thebe's inline ``const THEBE_JS_URL = ...`` reaches every page twice (registered once with
    the file name None and once with "", which Sphinx takes for two scripts), and the second
    declaration throws "Identifier 'THEBE_JS_URL' has already been declared".
    """
    seen, kept = set(), []
    for script in context.get("script_files", []):
        key = (script.filename or "", tuple(sorted(script.attributes.items())))
        if key not in seen:
            seen.add(key)
            kept.append(script)
    if "script_files" in context:
        context["script_files"] = kept


_DOWNLOAD_LINK = re.compile(
    r'(<a class="reference download[^"]*" download="")( href=")([^"]*_downloads/([^"/]+)/([^"/]+\.ipynb))"')


def embed_notebook_downloads(app, pagename, templatename, context, doctree):
    """Each ``.ipynb`` download link carries its file as a ``data:`` URL (see the module docstring)."""
    body = context.get("body")
    if app.builder.format != "html" or not body or "_downloads/" not in body:
        return
    sources = {dest: source for source, (_docs, dest) in app.env.dlfiles.items()}

    def embed(match):
        source = sources.get(f"{match.group(4)}/{match.group(5)}")
        if source is None:
            return match.group(0)
        data = base64.b64encode(Path(app.srcdir, source).read_bytes()).decode("ascii")
        name = html.escape(match.group(5), quote=True)
        opening = match.group(1).replace(' download=""', f' download="{name}"')
        return f'{opening}{match.group(2)}data:application/x-ipynb+json;base64,{data}"'

    context["body"] = _DOWNLOAD_LINK.sub(embed, body)


def _section_html(node):
    """A page's text as HTML blocks that keep their ids (sections, glossary terms, targets): what the search
    cuts its excerpts from. Code cell outputs are left out; math is its TeX source without delimiters."""
    from docutils import nodes

    parts = []
    for child in node.children:
        if not isinstance(child, nodes.Element) or isinstance(child, (nodes.comment, nodes.system_message,
                                                                       nodes.raw, nodes.substitution_definition)):
            continue
        if "cell_output" in child.get("classes", []):
            continue
        ids = child.get("ids") or []
        anchor = f' id="{html.escape(ids[0], quote=True)}"' if ids else ""
        if isinstance(child, nodes.section):
            parts.append(f"<section{anchor}>{_section_html(child)}</section>")
        elif ids or isinstance(child, nodes.TextElement):
            parts.append(f"<div{anchor}>{html.escape(_plain_text(child))}</div>")
        else:
            parts.append(_section_html(child))
    return "\n".join(parts)


def _plain_text(node):
    """The text of a node, math as its TeX source without delimiters."""
    from docutils import nodes

    if isinstance(node, (nodes.math, nodes.math_block)):
        return " ".join(node.astext().split())
    node = node.deepcopy()
    for math in list(node.findall(lambda n: isinstance(n, (nodes.math, nodes.math_block)))):
        if math.parent is not None:
            math.replace_self(nodes.Text(math.astext()))
    return " ".join(node.astext().split())


def collect_search_text(app, doctree, docname):
    """Keep each page's text (after glue and references are resolved) for ``search-texts.js``."""
    if app.builder.format == "html":
        app.builder.course_search_texts = getattr(app.builder, "course_search_texts", {})
        app.builder.course_search_texts[docname] = f'<div role="main">{_section_html(doctree)}</div>'


def write_search_texts(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    texts = getattr(app.builder, "course_search_texts", {})
    pages = {f"{name}{app.builder.out_suffix}": text for name, text in sorted(texts.items())}
    Path(app.outdir, "_static", "search-texts.js").write_text(
        "window.COURSE_SEARCH_TEXTS = " + json.dumps(pages, ensure_ascii=False) + ";\n", encoding="utf-8")


def write_edition_index(app, exception):
    """``<edition>/index.html``: a redirect to the first page (sphinx-external-toc writes none when
    one exists), with an empty icon so that the browser does not ask for /favicon.ico (a 404)."""
    if exception is not None or app.builder.format != "html":
        return
    first, title = f"{app.config.root_doc}.html", html.escape(app.config.html_title)
    Path(app.outdir, "index.html").write_text(
        f'<!DOCTYPE html>\n<html lang="{edition_of(app.config)}">\n<head>\n<meta charset="utf-8" />\n'
        f'<meta http-equiv="Refresh" content="0; url={first}" />\n<link rel="icon" href="data:," />\n'
        f'<title>{title}</title>\n</head>\n<body><a href="{first}">{title}</a>'
        f"</body>\n</html>\n", encoding="utf-8")


class EditionExerciseDownloads(SphinxTransform):
    """In the Korean edition, ``{download}`` links to the English release point to the Korean one.

    Runs after the i18n transform (priority 20), so translated messages keep the English target (the
    catalog tests require identical links) and still link the Korean notebook.
    """

    default_priority = 25

    def apply(self, **kwargs):
        release = RELEASE_BY_EDITION.get(edition_of(self.config), RELEASE)
        if release == RELEASE:
            return
        for node in self.document.findall(addnodes.download_reference):
            target = node.get("reftarget", "")
            if RELEASE in target:
                node["reftarget"] = target.replace(RELEASE, release)


def setup(app):
    app.connect("config-inited", register_paths)
    app.connect("config-inited", translate_config)
    app.connect("config-inited", interface.translate_interface_config)
    app.connect("config-inited", register_korean_search)
    app.connect("builder-inited", interface.prefer_course_catalog_for_theme)
    app.connect("build-finished", interface.translate_hardcoded_attributes)
    app.connect("build-finished", interface.translate_scripts)
    app.connect("html-page-context", add_language_switch)
    app.connect("html-page-context", drop_duplicate_scripts, priority=900)
    app.connect("html-page-context", embed_notebook_downloads)
    app.connect("doctree-resolved", collect_search_text)
    app.connect("build-finished", write_search_texts)
    app.add_transform(EditionExerciseDownloads)
    app.add_transform(DisplayMathTranslation)
    app.add_transform(outputs.OutputTranslation)
    app.add_transform(outputs.DefaultAltText)
    app.connect("doctree-resolved", outputs.add_catalog_messages)
    app.connect("html-page-context", source_downloads.remember_source)
    app.connect("build-finished", source_downloads.write_translated_sources)
    app.connect("build-finished", write_edition_index, priority=400)  # before sphinx-external-toc's
    app.add_css_file("editions.css")
    app.add_js_file("editions.js", defer="defer")
    app.add_js_file("search-excerpts.js")
    # the page texts for the search are collected while pages are written: one writing process
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": False}
