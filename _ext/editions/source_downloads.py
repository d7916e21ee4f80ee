"""The page's own download button gives the page in the edition's language, and saves it from ``file://`` too.

The theme's button links ``_sources/<page>.ipynb`` (or ``.md``), which Sphinx copies from the English source. In a
translated edition that copy is replaced, once the pages are written, by the source with its Markdown translated
from the page's catalog (:mod:`.markdown_i18n`), its stored printed outputs translated from the page's printed
catalog (:mod:`.outputs`) and, for a notebook, ``metadata.language`` set to the edition's language (as in the
translated exercise release). Code cells are unchanged.

In both editions the button then carries the file itself, a ``data:`` URL with the file name in ``download``, as
the exercise links do: a browser shows a local file's JSON instead of saving it (the button opened a new tab with
the notebook's JSON over ``file://`` and http alike).
"""

import base64
import html
import re
from pathlib import Path

from sphinx.util.i18n import docname_to_domain

from . import display_math, markdown_i18n, outputs
from .util import catalog_messages, is_translated_edition


def remember_source(app, pagename, templatename, context, doctree):
    if app.builder.format == "html" and context.get("sourcename"):
        if not hasattr(app.builder, "course_sources"):
            app.builder.course_sources = {}
        app.builder.course_sources[pagename] = context["sourcename"]


def translated_source(app, docname):
    """The text of ``docname``'s source with its prose translated (None: a page of another kind)."""
    import nbformat

    source = Path(app.env.doc2path(docname))
    domain = docname_to_domain(docname, app.config.gettext_compact)
    page = catalog_messages(app, domain)
    printed = catalog_messages(app, f"{outputs.PRINTED}/{domain}")

    def lookup(kind, msgid):
        return page.get(msgid)

    if source.suffix == ".md":
        return markdown_i18n.translate_markdown(source.read_text(encoding="utf-8"), lookup)
    if source.suffix == ".ipynb":
        nb = nbformat.read(source, as_version=4)
        translated = markdown_i18n.translate_notebook(
            nb, lookup, translate_output=lambda text: outputs.translate_printed(text, printed.get))
        translated.metadata["language"] = app.config.language
        return nbformat.writes(translated)
    return None


def _catalog_bytes(app, domain):
    return b"".join(Path(app.srcdir, d, app.config.language, "LC_MESSAGES", f"{domain}.po").read_bytes()
                    for d in app.config.locale_dirs
                    if Path(app.srcdir, d, app.config.language, "LC_MESSAGES", f"{domain}.po").is_file())


MEDIA_TYPES = {".ipynb": "application/x-ipynb+json", ".md": "text/markdown;charset=utf-8"}
_SOURCE_BUTTON = re.compile(r'<a href="(?P<href>[^"]*_sources/(?P<source>[^"]+))" target="_blank"'
                            r'(?P<rest>\s+class="btn btn-sm btn-download-source-button)')


def write_translated_sources(app, exception):
    """The page sources of a translated edition, translated; in every edition, the download buttons carry them."""
    if exception is not None or app.builder.format != "html":
        return
    import sys

    from .util import cached_text, code_digest

    code = code_digest(sys.modules[__name__], markdown_i18n, display_math, outputs)
    for pagename, sourcename in getattr(app.builder, "course_sources", {}).items():
        source = Path(app.env.doc2path(pagename))
        if source.suffix not in MEDIA_TYPES:
            continue
        target = Path(app.outdir, "_sources", sourcename)
        if is_translated_edition(app.config):
            domain = docname_to_domain(pagename, app.config.gettext_compact)
            text = cached_text(app, "source", code, source.read_bytes(), _catalog_bytes(app, domain),
                               _catalog_bytes(app, f"{outputs.PRINTED}/{domain}"),
                               compute=lambda pagename=pagename: translated_source(app, pagename))
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        if target.is_file():
            _embed_in_button(Path(app.outdir, f"{pagename}{app.builder.out_suffix}"), target, source.suffix)


def _embed_in_button(page, source, suffix):
    if not page.is_file():
        return
    data = base64.b64encode(source.read_bytes()).decode("ascii")

    def embed(match):
        return (f'<a href="data:{MEDIA_TYPES[suffix]};base64,{data}" download="{html.escape(source.name, quote=True)}"'
                f"{match.group('rest')}")

    text = page.read_text(encoding="utf-8")
    page.write_text(_SOURCE_BUTTON.sub(embed, text, count=1), encoding="utf-8")
