"""Small helpers shared by the extension's modules: which edition, a page's catalog, an image's file."""

from pathlib import Path

from babel.messages.pofile import read_po

_CATALOGS = {}  # path -> (mtime, messages)


def is_translated_edition(config):
    return (config.language or "en").split("_")[0] != "en"


def catalog_messages(app, domain):
    """msgid -> msgstr of the translated, not fuzzy entries of ``<locale_dir>/<lang>/LC_MESSAGES/<domain>.po``."""
    messages = {}
    for locale_dir in app.config.locale_dirs:
        po = Path(app.srcdir, locale_dir, app.config.language, "LC_MESSAGES", f"{domain}.po")
        if not po.is_file():
            continue
        mtime = po.stat().st_mtime_ns
        cached = _CATALOGS.get(po)
        if cached is None or cached[0] != mtime:
            with po.open("rb") as handle:
                found = {m.id: m.string for m in read_po(handle)
                         if m.id and isinstance(m.id, str) and m.string and not m.fuzzy}
            cached = _CATALOGS[po] = (mtime, found)
        for msgid, msgstr in cached[1].items():
            messages.setdefault(msgid, msgstr)
    return messages


def catalog_lookup(app, domain):
    """A function msgid -> translation or None, or None when the catalog is missing or empty."""
    messages = catalog_messages(app, domain)
    return messages.get if messages else None


def image_path(env, node, docname=None):
    """The file of an image node: Sphinx URIs starting with / are relative to the source folder, others to the
    page's folder (``docname``, by default the page being read)."""
    uri = node.get("uri", "")
    if "://" in uri or uri.startswith("data:"):
        return None
    collected = (node.get("candidates") or {}).get("*")
    if collected:  # after reading, Sphinx's image collector gives the path relative to the source folder
        return Path(env.srcdir, collected)
    if uri.startswith("/"):
        return Path(env.srcdir, uri[1:])
    return Path(env.doc2path(docname or env.docname)).parent / uri


def cached_text(app, *key_parts, compute):
    """``compute()``, kept in the build's doctree folder under a digest of ``key_parts`` (strings or bytes): work
    that depends only on its inputs (a re-laid-out label, a translated page source) is done once per change."""
    import hashlib

    digest = hashlib.sha256()
    for part in key_parts:
        digest.update(part if isinstance(part, bytes) else str(part).encode("utf-8"))
        digest.update(b"\0")
    path = Path(app.doctreedir, "editions-cache", f"{digest.hexdigest()}.txt")
    if path.is_file():
        return path.read_text(encoding="utf-8")
    text = compute()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return text


def code_digest(*modules):
    """A digest of the source files of ``modules``: part of a cache key, so that a change of the code that
    computed a cached result computes it again."""
    import hashlib

    digest = hashlib.sha256()
    for module in modules:
        digest.update(Path(module.__file__).read_bytes())
    return digest.hexdigest()
