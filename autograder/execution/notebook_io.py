"""Read a submitted notebook whatever state it is in, or say precisely why it cannot be graded.

Accepted: nbformat 3 (converted) and 4.0-4.5 (upgraded to 4.5, cell ids added); UTF-8 with or
without BOM, UTF-16 with BOM, and, as a last resort, Latin-1 (noted in the detail). Rejected with
:class:`InvalidNotebook`: empty file, not JSON, nbformat other than 3 or 4, schema errors that
cannot be repaired, no cells, files over :data:`MAX_BYTES`.
"""

import codecs
import json

import nbformat
from nbformat.corpus.words import generate_corpus_id

MAX_BYTES = 100 * 2**20  # notebooks with many embedded images stay well below this


class InvalidNotebook(Exception):
    """The file is not a gradable notebook; the message is the CSV ``detail``."""


def decode(raw):
    """Text of ``raw`` and a note when it was not UTF-8."""
    for bom, codec in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                       (codecs.BOM_UTF16_BE, "utf-16")):
        if raw.startswith(bom):
            return raw.decode(codec), (None if codec == "utf-8-sig" else "file was UTF-16, read as such")
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError as err:
        return raw.decode("latin-1"), f"file is not UTF-8 (byte {err.start}), read as Latin-1"


def parse(raw):
    """A version 4.5 ``NotebookNode`` from the bytes of a file, and notes about repairs."""
    if len(raw) > MAX_BYTES:
        raise InvalidNotebook(f"notebook is larger than {MAX_BYTES >> 20} MB")
    if not raw.strip():
        raise InvalidNotebook("empty file")
    text, note = decode(raw)
    notes = [note] if note else []
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise InvalidNotebook(f"not JSON: {err.msg} (line {err.lineno}, column {err.colno})") from None
    except RecursionError:
        raise InvalidNotebook("not JSON: nested too deeply") from None
    if not isinstance(data, dict) or "nbformat" not in data:
        raise InvalidNotebook("not a notebook: no 'nbformat' field")
    version = data.get("nbformat")
    if version not in (3, 4):
        raise InvalidNotebook(f"unsupported nbformat {version!r} (3 or 4 expected)")
    try:
        nb = nbformat.reads(text, as_version=4)
    except Exception as err:  # noqa: BLE001 - nbformat raises many types for broken files
        raise InvalidNotebook(f"not a valid notebook: {_first_line(err)}") from None
    if version == 3:
        notes.append("nbformat 3 notebook converted to 4")
    if not isinstance(nb.get("cells"), list) or not nb.cells:
        raise InvalidNotebook("notebook has no cells")
    seen = set()
    for cell in nb.cells:
        if not isinstance(cell, dict) or "cell_type" not in cell:
            raise InvalidNotebook("not a valid notebook: a cell without cell_type")
        if not isinstance(cell.get("id"), str) or cell["id"] in seen:  # nbformat < 4.5, or copies
            cell["id"] = generate_corpus_id()
        seen.add(cell["id"])
    nb.nbformat_minor = max(int(nb.get("nbformat_minor", 0) or 0), 5)
    try:
        nbformat.validate(nb)
    except Exception as err:  # noqa: BLE001 - jsonschema and nbformat errors
        raise InvalidNotebook(f"not a valid notebook: {_first_line(err)}") from None
    return nb, notes


def _first_line(err):
    text = str(err).strip().splitlines()
    return (text[0] if text else type(err).__name__)[:200]
