"""The page's own download button in a translated edition gives the translated page.

The theme's button links ``_sources/<page>.ipynb`` (or ``.md``), which Sphinx copies from the English source. In a
translated edition that copy is replaced, once the pages are written, by the source with its Markdown translated
from the page's catalog (:mod:`.markdown_i18n`), its stored printed outputs translated from the page's outputs
catalog (:mod:`.outputs`) and, for a notebook, ``metadata.language`` set to the edition's language (as in the
translated exercise release). Code cells are unchanged.
"""

from pathlib import Path

from sphinx.util.i18n import docname_to_domain

from . import display_math, markdown_i18n, outputs
from .util import catalog_messages, is_translated_edition


def remember_source(app, pagename, templatename, context, doctree):
    if app.builder.format == "html" and is_translated_edition(app.config) and context.get("sourcename"):
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


def write_translated_sources(app, exception):
    if exception is not None or app.builder.format != "html" or not is_translated_edition(app.config):
        return
    import sys

    from .util import cached_text, code_digest

    code = code_digest(sys.modules[__name__], markdown_i18n, display_math, outputs)

    for pagename, sourcename in getattr(app.builder, "course_sources", {}).items():
        source = Path(app.env.doc2path(pagename))
        if source.suffix not in (".md", ".ipynb"):
            continue
        domain = docname_to_domain(pagename, app.config.gettext_compact)
        text = cached_text(app, "source", code, source.read_bytes(), _catalog_bytes(app, domain),
                           _catalog_bytes(app, f"{outputs.PRINTED}/{domain}"),
                           compute=lambda pagename=pagename: translated_source(app, pagename))
        if text is not None:
            target = Path(app.outdir, "_sources", sourcename)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
