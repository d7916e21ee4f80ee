"""Interface strings of a translated edition that the themes and their scripts leave in English.

All translations live in the interface catalog ``locales/<lang>/LC_MESSAGES/sphinx.po`` (kept by hand); this module
puts them where Sphinx's own template translation does not reach:

- configuration strings shown by the theme (the author line);
- sphinx-book-theme's ``booktheme`` catalog (tooltips of its header buttons): entries of ``sphinx.po`` come first,
  the theme's own catalog is the fallback (its Korean has "전체 화면으로보기");
- attributes the theme templates hard-code in English (``title="Toggle primary sidebar"``, ``aria-label="Main"``):
  replaced in the written pages;
- strings inside third-party scripts (sphinx-copybutton's tooltips, sphinx-togglebutton's ``aria-label``): the
  edition's copies of those scripts get the translation; a script that no longer contains the expected text fails
  the build (warnings are errors), so an upgrade cannot bring the English back silently.
"""

import gettext
import html
import json
from pathlib import Path

from babel.messages.pofile import read_po
from sphinx import locale
from sphinx.util import logging

logger = logging.getLogger(__name__)

UI_DOMAIN = "sphinx"
# Attributes that the theme templates write in English, without gettext.
HARDCODED_ATTRIBUTES = [
    ("title", "Toggle primary sidebar"),
    ("title", "Toggle secondary sidebar"),
    ("aria-label", "Main"),
    ("aria-label", "Page"),
    ("aria-label", "Toggle hidden content"),  # myst-nb's hidden-cell toggles (the script's are patched below)
]
# sphinx-copybutton's messages, by its own keys
COPYBUTTON_MESSAGES = {"copy": "Copy", "copy_to_clipboard": "Copy to clipboard", "copy_success": "Copied!",
                       "copy_failure": "Failed to copy"}
TOGGLEBUTTON_LABEL = "Toggle hidden content"


def is_translated_edition(config):
    return (config.language or "en").split("_")[0] != "en"


def interface_messages(app):
    """msgid -> msgstr of the edition's interface catalog (translated, not fuzzy entries)."""
    messages = {}
    for locale_dir in app.config.locale_dirs:
        po = Path(app.srcdir, locale_dir, app.config.language, "LC_MESSAGES", f"{UI_DOMAIN}.po")
        if po.is_file():
            with po.open("rb") as handle:
                for message in read_po(handle):
                    if message.id and message.string and not message.fuzzy and isinstance(message.id, str):
                        messages.setdefault(message.id, message.string)
    return messages


class _CatalogFirst(gettext.NullTranslations):
    """Our interface catalog first, then the catalog it stands in front of."""

    def __init__(self, messages, fallback):
        super().__init__()
        self._messages = messages
        if fallback is not None:
            self.add_fallback(fallback)

    def gettext(self, message):
        return self._messages.get(message) or super().gettext(message)


def translate_interface_config(app, config):
    """The author line ("The course team" -> the catalog's translation)."""
    if not is_translated_edition(config):
        return
    messages = interface_messages(app)
    if config.author and config.author in messages:
        config.author = messages[config.author]


def prefer_course_catalog_for_theme(app):
    """sphinx-book-theme looks its strings up in ``booktheme``: put the course's interface catalog in front."""
    if not is_translated_edition(app.config):
        return
    key = ("general", "booktheme")
    locale.translators[key] = _CatalogFirst(interface_messages(app), locale.translators.get(key))


def translate_hardcoded_attributes(app, exception):
    """Replace the theme's hard-coded English attributes in every written page."""
    if exception is not None or app.builder.format != "html" or not is_translated_edition(app.config):
        return
    messages = interface_messages(app)
    replacements = {}
    for attribute, english in HARDCODED_ATTRIBUTES:
        if english in messages:
            replacements[f'{attribute}="{english}"'] = f'{attribute}="{html.escape(messages[english], quote=True)}"'
    for page in Path(app.outdir).rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        changed = text
        for old, new in replacements.items():
            changed = changed.replace(old, new)
        if changed != text:
            page.write_text(changed, encoding="utf-8")


def _patch_script(app, name, old, new):
    script = Path(app.outdir, "_static", name)
    if not script.is_file():
        return
    text = script.read_text(encoding="utf-8")
    if new.split("\n")[-1] in text:  # patched already (Sphinx keeps an unchanged static file)
        return
    if old not in text:
        logger.warning("%s: expected text %r not found; its interface strings stay untranslated", name, old)
        return
    script.write_text(text.replace(old, new, 1), encoding="utf-8")


def translate_scripts(app, exception):
    """The edition's copies of sphinx-copybutton and sphinx-togglebutton, with translated strings."""
    if exception is not None or app.builder.format != "html" or not is_translated_edition(app.config):
        return
    messages = interface_messages(app)
    language = app.config.language
    copy = {key: messages[english] for key, english in COPYBUTTON_MESSAGES.items() if english in messages}
    if len(copy) == len(COPYBUTTON_MESSAGES):
        # copybutton.js picks messages[<html lang>] when it exists
        _patch_script(app, "copybutton.js", "const messages = {",
                      f"const messages = {{\n  {json.dumps(language)}: {json.dumps(copy, ensure_ascii=False)},")
    if TOGGLEBUTTON_LABEL in messages:
        _patch_script(app, "togglebutton.js", f'aria-label="{TOGGLEBUTTON_LABEL}"',
                      f'aria-label="{html.escape(messages[TOGGLEBUTTON_LABEL], quote=True)}"')
